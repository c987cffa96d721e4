/* libFuzzer harness: the `:name` -> `$n` rewriter (alch__params_rewrite in
 * lib/src/driver/params.c). The input is the SQL; the values are named after the
 * placeholders a naive scan finds in it (a name inside a literal then makes the rewriter
 * refuse, which is fine). Oracles, when it succeeds: the order lists each value exactly
 * once (a permutation); and putting `:name` back for each `$n` gives the input, byte for
 * byte. */
#include <ctype.h>
#include <stdbool.h>

#include <alch/alch.h>

#include "driver/params.h"
#include "fuzz.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = fuzz_string(data, size);
    if (!sql)
        return 0;
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
