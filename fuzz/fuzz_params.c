/* libFuzzer harness: the `:name` -> `$n` rewriter (alch__params_rewrite in
 * lib/src/driver/params.c). The input is the SQL; the values are named after the
 * placeholders a naive scan finds in it (a name inside a literal then makes the rewriter
 * refuse, which is fine). Oracles, when it succeeds: the order lists each value exactly
 * once (a permutation); and putting `:name` back for each `$n` gives the input, byte for
 * byte.
 *
 * The same input, cut at each '|', is also a list of values for the array-literal encoder
 * (alch__array_put, the session's bulk insert): text, with "NULL" meaning SQL NULL, and the
 * whole input once more as bytes. Oracle: reading the literal back by PostgreSQL's array_in
 * rules (a quoted element ends at an unescaped quote, a backslash takes the next byte, bare
 * NULL is NULL, elements are split at commas outside quotes) gives every value exactly. */
#include <ctype.h>
#include <stdbool.h>

#include <alch/alch.h>

#include "driver/driver.h"
#include "driver/params.h"
#include "fuzz.h"
#include "util/buf.h"

enum { MAX_NAMES = 16, MAX_NAME = 32 };

static bool ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Distinct ":name" spellings in the text (not "::cast"), at most MAX_NAMES. */
static size_t find_names(const char *s, char names[MAX_NAMES][MAX_NAME + 1])
{
    size_t n = 0;
    for (size_t i = 0; s[i] && n < MAX_NAMES; i++) {
        if (s[i] != ':' || (i > 0 && s[i - 1] == ':') || s[i + 1] == ':' || !ident_start(s[i + 1]))
            continue;
        size_t len = 0;
        while (ident_char(s[i + 1 + len]))
            len++;
        if (len > MAX_NAME)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strlen(names[k]) == len && memcmp(names[k], s + i + 1, len) == 0;
        if (!seen) {
            memcpy(names[n], s + i + 1, len);
            names[n++][len] = '\0';
        }
    }
    return n;
}

/* Walk the input and the output together: they agree except where `:name` became `$k`. */
static void check_inverse(const char *in, const char *out, char names[][MAX_NAME + 1],
                          const size_t *order, size_t norder)
{
    size_t i = 0, j = 0;
    while (in[i] || out[j]) {
        if (in[i] == out[j]) {
            i++;
            j++;
            continue;
        }
        if (in[i] != ':' || out[j] != '$')
            fuzz_fail("'%s' became '%s': they differ at %zu/%zu", in, out, i, j);
        size_t k = 0;
        for (j++; isdigit((unsigned char)out[j]); j++)
            k = k * 10 + (size_t)(out[j] - '0');
        if (k < 1 || k > norder)
            fuzz_fail("'%s' became '%s': $%zu is not a placeholder", in, out, k);
        const char *name = names[order[k - 1]];
        size_t len = strlen(name);
        if (strncmp(in + i + 1, name, len) != 0 || ident_char(in[i + 1 + len]))
            fuzz_fail("'%s' became '%s': $%zu is not :%s", in, out, k, name);
        i += 1 + len;
    }
}

/* One element of an array literal at *p, by array_in's rules: its bytes into out (*len), or
 * NULL for a bare NULL; *p moves past it and its comma. */
static const char *read_element(const char **p, char *out, size_t *len)
{
    const char *s = *p;
    *len = 0;
    if (strncmp(s, "NULL", 4) == 0 && (s[4] == ',' || s[4] == '}')) {
        *p = s + 4 + (s[4] == ',');
        return NULL;
    }
    if (*s != '"')
        fuzz_fail("element not quoted: %s", s);
    for (s++; *s != '"'; s++) {
        if (*s == '\\')
            s++;
        if (*s == '\0')
            fuzz_fail("unterminated element");
        out[(*len)++] = *s;
    }
    s++;
    if (*s != ',' && *s != '}')
        fuzz_fail("junk after an element: %s", s);
    *p = s + (*s == ',');
    return out;
}

static int hex(char c)
{
    return c >= 'a' ? c - 'a' + 10 : c - '0';
}

static void check_array(const char *in)
{
    alch__buf b = ALCH__BUF_INIT;
    size_t n = 0, len = strlen(in);
    alch__buf_putc(&b, '{');
    for (const char *at = in;; n++) {
        size_t k = strcspn(at, "|");
        alch_value v = k == 4 && strncmp(at, "NULL", 4) == 0
                           ? alch_null()
                           : (alch_value){ALCH_V_TEXT, NULL, k, {.s = at}};
        if (n)
            alch__buf_putc(&b, ',');
        FUZZ_ASSERT(alch__array_put(&b, &v, NULL) == 0);
        if (!at[k])
            break;
        at += k + 1;
    }
    alch_value bytes = alch_bytes(in, len);
    alch__buf_putc(&b, ',');
    FUZZ_ASSERT(alch__array_put(&b, &bytes, NULL) == 0);
    alch__buf_putc(&b, '}');
    char *lit = alch__buf_finish(&b);
    FUZZ_ASSERT(lit && lit[0] == '{');
    char *got = malloc(2 * len + 8);
    const char *p = lit + 1, *at = in;
    for (size_t i = 0; i <= n; i++) { /* each value, exactly */
        size_t k = strcspn(at, "|"), glen;
        const char *e = read_element(&p, got, &glen);
        bool null = k == 4 && strncmp(at, "NULL", 4) == 0;
        if (null ? e != NULL : !e || glen != k || memcmp(got, at, k) != 0)
            fuzz_fail("value %zu of '%s' came back wrong from %s", i, in, lit);
        at += k + 1;
    }
    size_t glen;
    const char *e = read_element(&p, got, &glen); /* the bytes: \x and two hex digits each */
    FUZZ_ASSERT(e && glen == 2 + 2 * len && got[0] == '\\' && got[1] == 'x');
    for (size_t i = 0; i < len; i++)
        FUZZ_ASSERT(hex(got[2 + 2 * i]) * 16 + hex(got[3 + 2 * i]) == (unsigned char)in[i]);
    FUZZ_ASSERT(strcmp(p, "}") == 0);
    free(got);
    free(lit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = fuzz_string(data, size);
    if (!sql)
        return 0;
    check_array(sql);
    char names[MAX_NAMES][MAX_NAME + 1];
    size_t n = find_names(sql, names);
    alch_value vals[MAX_NAMES];
    for (size_t k = 0; k < n; k++)
        vals[k] = alch_named(names[k], alch_int((int64_t)k));
    char *out = NULL;
    size_t *order = NULL, norder = 0;
    alch_error err = ALCH_ERROR_INIT;
    if (alch__params_rewrite(sql, vals, n, &out, &order, &norder, &err) == 0) {
        FUZZ_ASSERT(out);
        if (n > 0) {
            bool used[MAX_NAMES] = {false};
            FUZZ_ASSERT(norder == n);
            for (size_t p = 0; p < norder; p++) {
                FUZZ_ASSERT(order[p] < n && !used[order[p]]);
                used[order[p]] = true;
            }
            check_inverse(sql, out, names, order, norder);
        } else {
            FUZZ_ASSERT(strcmp(out, sql) == 0);
        }
    }
    alch_error_clear(&err);
    free(out);
    free(order);
    free(sql);
    return 0;
}
