/* Bound parameters: the only way a value reaches the server. */
#include "driver/params.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "driver/error_internal.h"
#include "util/buf.h"
#include "util/hash.h"

/* Type OIDs from pg_type.h (stable across PostgreSQL versions). */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_FLOAT8 = 701 };

static bool is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Skip a quoted or commented region starting at s[i]; returns the index after it, or i
 * when s[i] does not start one. Placeholders inside strings and comments are not
 * placeholders: `':x'` is text. */
static size_t skip_literal(const char *s, size_t i)
{
    char c = s[i];
    if (c == '\'' || c == '"') {
        size_t j = i + 1;
        while (s[j]) {
            if (s[j] == c) {
                if (s[j + 1] == c) { /* doubled quote inside the literal */
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j++;
        }
        return j;
    }
    if (c == '-' && s[i + 1] == '-') {
        size_t j = i;
        while (s[j] && s[j] != '\n')
            j++;
        return j;
    }
    if (c == '/' && s[i + 1] == '*') {
        const char *end = strstr(s + i + 2, "*/");
        return end ? (size_t)(end - s) + 2 : strlen(s);
    }
    if (c == '$' && (s[i + 1] == '$' || is_ident_start(s[i + 1]))) {
        /* dollar quoting: $tag$ ... $tag$ (but $1 is a placeholder, handled by the caller) */
        size_t j = i + 1;
        while (is_ident_char(s[j]) && s[j] != '$')
            j++;
        if (s[j] != '$')
            return i;
        size_t taglen = j - i + 1;
        const char *p = s + j + 1;
        while ((p = strchr(p, '$')) != NULL) {
            if (strncmp(p, s + i, taglen) == 0)
                return (size_t)(p - s) + taglen;
            p++;
        }
        return strlen(s);
    }
    return i;
}

static bool has_dollar_placeholder(const char *sql)
{
    for (size_t i = 0; sql[i];) {
        size_t j = skip_literal(sql, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (sql[i] == '$' && isdigit((unsigned char)sql[i + 1]))
            return true;
        i++;
    }
    return false;
}

int alch__params_rewrite(const char *sql, const alch_value *vals, size_t n, char **out_sql,
                         size_t **order, size_t *norder, alch_error *err)
{
    *out_sql = NULL;
    *order = NULL;
    *norder = 0;
    size_t named = 0;
    for (size_t k = 0; k < n; k++)
        named += vals[k].name != NULL;
    if (named == 0) {
        *out_sql = alch__strdup(sql);
        return *out_sql ? 0 : alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    if (named != n)
        return alch__error_set(err, ALCH_EMISUSE,
                               "some values are named and some are not: name all of them "
                               "with alch_named() for :name placeholders, or none for $1, $2");
    if (has_dollar_placeholder(sql))
        return alch__error_set(err, ALCH_EMISUSE,
                               "the SQL uses $n placeholders but the values are named: "
                               "write :name placeholders, or pass the values without alch_named()");

    alch__buf b = ALCH__BUF_INIT;
    size_t *ord = calloc(n ? n : 1, sizeof *ord);
    bool *used = calloc(n ? n : 1, sizeof *used);
    size_t nord = 0;
    int rc = 0;
    if (!ord || !used) {
        rc = alch__error_set(err, ALCH_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; sql[i];) {
        size_t j = skip_literal(sql, i);
        if (j != i) {
            alch__buf_append(&b, sql + i, j - i);
            i = j;
            continue;
        }
        if (sql[i] == ':' && sql[i + 1] == ':') { /* a ::type cast, not a placeholder */
            alch__buf_puts(&b, "::");
            i += 2;
            continue;
        }
        if (sql[i] == ':' && is_ident_start(sql[i + 1])) {
            size_t start = i + 1, end = start;
            while (is_ident_char(sql[end]))
                end++;
            size_t k = 0;
            while (k < n && !(strlen(vals[k].name) == end - start &&
                              memcmp(vals[k].name, sql + start, end - start) == 0))
                k++;
            if (k == n) {
                rc = alch__error_set(
                    err, ALCH_EMISUSE, "the SQL uses :%.*s but no value is named '%.*s'",
                    (int)(end - start), sql + start, (int)(end - start), sql + start);
                alch__error_hint(err, "pass alch_named(\"%.*s\", alch_v(...)) with the values",
                                 (int)(end - start), sql + start);
                goto done;
            }
            /* the same name used twice binds the same $n */
            size_t pos = 0;
            while (pos < nord && ord[pos] != k)
                pos++;
            if (pos == nord)
                ord[nord++] = k;
            used[k] = true;
            alch__buf_printf(&b, "$%zu", pos + 1);
            i = end;
            continue;
        }
        alch__buf_putc(&b, sql[i]);
        i++;
    }
    for (size_t k = 0; k < n; k++) {
        if (!used[k]) {
            rc = alch__error_set(err, ALCH_EMISUSE,
                                 "a value is named '%s' but the SQL has no :%s placeholder",
                                 vals[k].name, vals[k].name);
            goto done;
        }
    }
    *out_sql = alch__buf_finish(&b);
    if (!*out_sql) {
        rc = alch__error_set(err, ALCH_ENOMEM, "out of memory");
        goto done;
    }
    *order = ord;
    *norder = nord;
    ord = NULL;
done:
    alch__buf_free(&b);
    free(ord);
    free(used);
    return rc;
}

static void put_be64(char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | (unsigned char)p[i];
    return v;
}

/* Fixed-width values go in binary: no formatting on our side, no parsing on the server's. */
static size_t encoded_size(const alch_value *v)
{
    switch (v->type) {
    case ALCH_V_INT:
    case ALCH_V_DOUBLE:
        return 8;
    case ALCH_V_BOOL:
        return 1;
    case ALCH_V_TEXT:
        return v->len + 1;
    case ALCH_V_BYTES:
        return v->len;
    default:
        return 0;
    }
}

int alch__params_encode(alch__params *p, const alch_value *vals, size_t n, const size_t *order,
                        size_t norder, alch_error *err)
{
    memset(p, 0, sizeof *p);
    size_t count = order ? norder : n;
    if (count > 65535)
        return alch__error_set(err, ALCH_EMISUSE,
                               "%zu parameters: PostgreSQL takes at most 65535 in one statement",
                               count);
    p->n = (int)count;
    p->src = vals;
    if (count == 0)
        return 0;
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        const alch_value *v = &vals[order ? order[i] : i];
        if (v->type == ALCH_V_TEXT && memchr(v->u.s, '\0', v->len))
            return alch__error_set(err, ALCH_EDATA,
                                   "parameter $%zu: text cannot contain a NUL byte "
                                   "(use alch_bytes() for binary data)",
                                   i + 1);
        if (v->type == ALCH_V_TOO_BIG)
            return alch__error_set(err, ALCH_EDATA,
                                   "parameter $%zu: the number %llu is larger than any SQL "
                                   "integer (BIGINT ends at 9223372036854775807)",
                                   i + 1, (unsigned long long)v->u.u);
        if (v->type > ALCH_V_TOO_BIG)
            return alch__error_set(err, ALCH_EMISUSE, "parameter $%zu has an unknown type %d",
                                   i + 1, (int)v->type);
        total += encoded_size(v);
    }
    /* one block: the value pointers, the types, the lengths, the formats, then the bytes */
    size_t head = count * (sizeof *p->values + sizeof *p->types + 2 * sizeof(int));
    char *block = malloc(head + (total ? total : 1));
    if (block) {
        memset(block, 0, head);
        p->values = (const char **)(void *)block;
        p->types = (Oid *)(void *)(block + count * sizeof *p->values);
        p->lengths = (int *)(void *)((char *)p->types + count * sizeof *p->types);
        p->formats = p->lengths + count;
        p->storage = (char *)(p->formats + count);
    }
    if (order) {
        p->names = calloc(count, sizeof *p->names);
        if (p->names)
            for (size_t i = 0; i < count; i++)
                p->names[i] = (char *)vals[order[i]].name; /* not owned; see render */
    }
    if (!p->types || !p->values || !p->lengths || !p->formats || !p->storage ||
        (order && !p->names)) {
        alch__params_free(p);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    char *at = p->storage;
    for (size_t i = 0; i < count; i++) {
        const alch_value *v = &vals[order ? order[i] : i];
        switch (v->type) {
        case ALCH_V_NULL:
        case ALCH_V_TOO_BIG: /* refused above */
            break;
        case ALCH_V_BOOL:
            p->types[i] = OID_BOOL;
            *at = v->u.b ? 1 : 0;
            p->lengths[i] = 1;
            p->formats[i] = 1;
            break;
        case ALCH_V_INT:
            p->types[i] = OID_INT8;
            put_be64(at, (uint64_t)v->u.i);
            p->lengths[i] = 8;
            p->formats[i] = 1;
            break;
        case ALCH_V_DOUBLE: {
            uint64_t bits;
            memcpy(&bits, &v->u.d, 8);
            p->types[i] = OID_FLOAT8;
            put_be64(at, bits);
            p->lengths[i] = 8;
            p->formats[i] = 1;
            break;
        }
        case ALCH_V_TEXT: /* type 0: the server infers it (text, varchar, date, numeric...) */
            memcpy(at, v->u.s, v->len);
            at[v->len] = '\0';
            p->lengths[i] = (int)v->len;
            break;
        case ALCH_V_BYTES:
            p->types[i] = OID_BYTEA;
            if (v->len)
                memcpy(at, v->u.s, v->len);
            p->lengths[i] = (int)v->len;
            p->formats[i] = 1;
            break;
        }
        if (v->type != ALCH_V_NULL)
            p->values[i] = at;
        at += encoded_size(v);
    }
    /* names point at the caller's strings: copy them, the async call outlives the caller's */
    if (p->names) {
        for (size_t i = 0; i < count; i++) {
            p->names[i] = alch__strdup(p->names[i]);
            if (!p->names[i]) {
                alch__params_free(p);
                return alch__error_set(err, ALCH_ENOMEM, "out of memory");
            }
        }
    }
    p->src = NULL;
    return 0;
}

void alch__params_free(alch__params *p)
{
    if (!p)
        return;
    if (p->names)
        for (int i = 0; i < p->n; i++)
            free(p->names[i]);
    free(p->names);
    free((void *)p->values); /* the block with the types, lengths, formats and bytes */
    memset(p, 0, sizeof *p);
}

static void render_text(alch__buf *b, const char *s, size_t len)
{
    enum { MAX_SHOWN = 60 };
    size_t shown = len > MAX_SHOWN ? MAX_SHOWN : len;
    alch__buf_putc(b, '\'');
    for (size_t i = 0; i < shown; i++) {
        if (s[i] == '\'')
            alch__buf_putc(b, '\'');
        alch__buf_putc(b, s[i]);
    }
    alch__buf_putc(b, '\'');
    if (shown < len)
        alch__buf_printf(b, "... (%zu characters)", len);
}

char *alch__params_render(const alch__params *p)
{
    alch__buf b = ALCH__BUF_INIT;
    alch__buf_putc(&b, '(');
    for (int i = 0; i < p->n; i++) {
        if (i)
            alch__buf_puts(&b, ", ");
        if (p->names)
            alch__buf_printf(&b, ":%s=", p->names[i]);
        else
            alch__buf_printf(&b, "$%d=", i + 1);
        const char *v = p->values[i];
        if (!v) {
            alch__buf_puts(&b, "NULL");
            continue;
        }
        switch (p->types[i]) {
        case OID_BOOL:
            alch__buf_puts(&b, *v ? "true" : "false");
            break;
        case OID_INT8:
            alch__buf_printf(&b, "%lld", (long long)(int64_t)get_be64(v));
            break;
        case OID_FLOAT8: {
            uint64_t bits = get_be64(v);
            double d;
            memcpy(&d, &bits, 8);
            alch__buf_printf(&b, "%.17g", d);
            break;
        }
        case OID_BYTEA:
            alch__buf_printf(&b, "<%d bytes>", p->lengths[i]);
            break;
        default:
            render_text(&b, v, (size_t)p->lengths[i]);
            break;
        }
    }
    alch__buf_putc(&b, ')');
    return alch__buf_finish(&b);
}

uint64_t alch__params_typehash(const alch__params *p)
{
    return alch__fnv1a(ALCH__FNV_OFFSET, p->types, (size_t)p->n * sizeof *p->types);
}

char *alch__params_echo(const alch_value *vals, size_t n, alch_error *err)
{
    alch__params p = {0};
    char *text = NULL;
    if (alch__params_encode(&p, vals, n, NULL, 0, err) == 0)
        text = alch__params_render(&p);
    alch__params_free(&p);
    return text;
}

/* ---- copies for the async calls ----------------------------------------------------------- */

static size_t value_bytes(const alch_value *v)
{
    size_t n = v->name ? strlen(v->name) + 1 : 0;
    if ((v->type == ALCH_V_TEXT || v->type == ALCH_V_BYTES) && v->u.s)
        n += v->len + 1;
    return n;
}

int alch__inputs_copy(alch__inputs *out, const char *sql, const alch_value *params, size_t n,
                      alch_error *err)
{
    *out = (alch__inputs){NULL, NULL, 0};
    size_t size = n * sizeof *params + (sql ? strlen(sql) + 1 : 0);
    for (size_t i = 0; i < n; i++)
        size += value_bytes(&params[i]);
    if (size == 0)
        return 0;
    alch_value *vals = malloc(size); /* the values first: the block is aligned for them */
    if (!vals)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    char *p = (char *)(vals + n);
    for (size_t i = 0; i < n; i++) {
        vals[i] = params[i];
        if (params[i].name) {
            size_t len = strlen(params[i].name) + 1;
            vals[i].name = memcpy(p, params[i].name, len);
            p += len;
        }
        if ((params[i].type == ALCH_V_TEXT || params[i].type == ALCH_V_BYTES) && params[i].u.s) {
            vals[i].u.s = memcpy(p, params[i].u.s, params[i].len);
            p[params[i].len] = '\0';
            p += params[i].len + 1;
        }
    }
    if (sql)
        out->sql = memcpy(p, sql, strlen(sql) + 1);
    out->params = n ? vals : NULL; /* with no value, the block starts with the SQL */
    out->n = n;
    return 0;
}

void alch__inputs_free(alch__inputs *in)
{
    free(in->params ? (void *)in->params : (void *)in->sql);
    *in = (alch__inputs){NULL, NULL, 0};
}

/* ---- array literals (the session's bulk insert) --------------------------------------------- */

/* `"text"` with `"` and `\` escaped; memchr finds them (most text has neither). */
static void put_quoted(alch__buf *b, const char *s, size_t len)
{
    alch__buf_putc(b, '"');
    size_t from = 0, look = 0;
    for (;;) {
        const char *q = memchr(s + look, '"', len - look);
        const char *bs = memchr(s + look, '\\', len - look);
        const char *at = !q ? bs : !bs ? q : q < bs ? q : bs;
        if (!at)
            break;
        alch__buf_append(b, s + from, (size_t)(at - s) - from);
        alch__buf_putc(b, '\\');
        from = (size_t)(at - s); /* the character itself goes with the next piece */
        look = from + 1;
    }
    alch__buf_append(b, s + from, len - from);
    alch__buf_putc(b, '"');
}

/* `"-123"`: an integer in decimal, without printf. */
static void put_int(alch__buf *b, int64_t i)
{
    char out[24];
    size_t at = sizeof out;
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    out[--at] = '"';
    do {
        out[--at] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        out[--at] = '-';
    out[--at] = '"';
    alch__buf_append(b, out + at, sizeof out - at);
}

int alch__array_put(alch__buf *b, const alch_value *v, alch_error *err)
{
    char num[32];
    switch (v->type) {
    case ALCH_V_NULL:
        alch__buf_puts(b, "NULL");
        break;
    case ALCH_V_BOOL:
        alch__buf_puts(b, v->u.b ? "\"t\"" : "\"f\"");
        break;
    case ALCH_V_INT:
        put_int(b, v->u.i);
        break;
    case ALCH_V_DOUBLE:
        if (isnan(v->u.d))
            alch__buf_puts(b, "\"NaN\"");
        else if (isinf(v->u.d))
            alch__buf_puts(b, v->u.d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        else
            alch__buf_printf(b, "\"%.17g\"", v->u.d);
        break;
    case ALCH_V_TEXT:
        if (memchr(v->u.s, '\0', v->len))
            return alch__error_set(err, ALCH_EDATA,
                                   "text cannot contain a NUL byte (use alch_bytes() for binary "
                                   "data)");
        put_quoted(b, v->u.s, v->len);
        break;
    case ALCH_V_BYTES: /* "\\x0aff": the backslash of bytea's hex form, escaped */
        alch__buf_puts(b, "\"\\\\x");
        for (size_t i = 0; i < v->len; i++) {
            snprintf(num, sizeof num, "%02x", (unsigned char)v->u.s[i]);
            alch__buf_append(b, num, 2);
        }
        alch__buf_putc(b, '"');
        break;
    case ALCH_V_TOO_BIG:
    default:
        return alch__error_set(err, ALCH_EDATA,
                               "the number %llu is larger than any SQL integer (BIGINT ends at "
                               "9223372036854775807)",
                               (unsigned long long)v->u.u);
    }
    return b->oom ? alch__error_set(err, ALCH_ENOMEM, "out of memory") : 0;
}
