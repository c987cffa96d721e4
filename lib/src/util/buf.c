#include "util/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool buf_reserve(alch__buf *b, size_t extra)
{
    if (b->oom)
        return false;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void alch__buf_append(alch__buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void alch__buf_puts(alch__buf *b, const char *s)
{
    alch__buf_append(b, s, strlen(s));
}

void alch__buf_putc(alch__buf *b, char c)
{
    alch__buf_append(b, &c, 1);
}

void alch__buf_printf(alch__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        alch__buf_append(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *alch__buf_finish(alch__buf *b)
{
    if (b->oom) {
        alch__buf_free(b);
        return NULL;
    }
    if (!b->data)
        return alch__strdup("");
    char *s = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void alch__buf_free(alch__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

char *alch__strdup(const char *s)
{
    return s ? alch__strndup(s, strlen(s)) : NULL;
}

char *alch__strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* PostgreSQL's reserved keywords plus those that cannot name a column or type without
 * quotes (appendix "SQL Key Words": reserved, reserved (can be function or type), and
 * non-reserved (cannot be function or type)). Sorted for bsearch. */
static const char *const keywords[] = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
    "authorization", "between", "bigint", "binary", "bit", "boolean", "both", "case", "cast",
    "char", "character", "check", "coalesce", "collate", "collation", "column", "concurrently",
    "constraint", "create", "cross", "current_catalog", "current_date", "current_role",
    "current_schema", "current_time", "current_timestamp", "current_user", "dec", "decimal",
    "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists",
    "extract", "false", "fetch", "float", "for", "foreign", "freeze", "from", "full", "grant",
    "greatest", "group", "grouping", "having", "ilike", "in", "initially", "inner", "inout",
    "int", "integer", "intersect", "interval", "into", "is", "isnull", "join", "lateral",
    "leading", "least", "left", "like", "limit", "localtime", "localtimestamp", "national",
    "natural", "nchar", "none", "normalize", "not", "notnull", "null", "nullif", "numeric",
    "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay", "placing",
    "position", "precision", "primary", "real", "references", "returning", "right", "row",
    "select", "session_user", "setof", "similar", "smallint", "some", "substring", "symmetric",
    "table", "tablesample", "then", "time", "timestamp", "to", "trailing", "treat", "trim",
    "true", "union", "unique", "user", "using", "values", "varchar", "variadic", "verbose",
    "when", "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement",
    "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot",
    "xmlserialize", "xmltable",
};

static int cmp_keyword(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static bool needs_quotes(const char *name)
{
    if (!(*name >= 'a' && *name <= 'z') && *name != '_')
        return true;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return true;
    return bsearch(name, keywords, sizeof keywords / sizeof *keywords, sizeof *keywords,
                   cmp_keyword) != NULL;
}

void alch__buf_ident(alch__buf *b, const char *name)
{
    if (!needs_quotes(name)) {
        alch__buf_puts(b, name);
        return;
    }
    alch__buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            alch__buf_putc(b, '"');
        alch__buf_putc(b, *p);
    }
    alch__buf_putc(b, '"');
}

size_t alch__utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The columns a terminal gives code point @p u: 0 for combining marks and zero-width
 * characters, 2 for East Asian wide and fullwidth ones (CJK, Hangul, fullwidth forms, most
 * emoji), 1 otherwise. A compact table of the ranges Unicode's EastAsianWidth.txt marks W/F
 * and the general category Mn marks in the blocks text commonly uses. */
static int code_point_width(uint32_t u)
{
    static const uint32_t zero[][2] = {
        {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
        {0x064B, 0x065F}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E},
        {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x202A, 0x202E},
        {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
        {0xFEFF, 0xFEFF},
    };
    static const uint32_t wide[][2] = {
        {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2E80, 0x303E},   {0x3041, 0x33FF},
        {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xA960, 0xA97F},
        {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
        {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF},
        {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
    };
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (u >= zero[i][0] && u <= zero[i][1])
            return 0;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (u >= wide[i][0] && u <= wide[i][1])
            return 2;
    return 1;
}

size_t alch__utf8_width(const char *s)
{
    size_t width = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p >= 0xF0 ? 3 : *p >= 0xE0 ? 2 : *p >= 0xC0 ? 1 : 0;
        uint32_t u = extra ? *p & (0x3F >> extra) : *p;
        int k = 1;
        for (; k <= extra && (p[k] & 0xC0) == 0x80; k++)
            u = u << 6 | (p[k] & 0x3F);
        if (k <= extra || (*p & 0xC0) == 0x80) { /* not UTF-8: a byte is a column */
            width++;
            p++;
            continue;
        }
        width += (size_t)code_point_width(u);
        p += k;
    }
    return width;
}

bool alch__grow_parallel(void *arrays[], const size_t sizes[], size_t count, size_t *cap,
                         size_t n, size_t first)
{
    if (n < *cap)
        return true;
    size_t want = *cap ? 2 * *cap : first;
    for (size_t i = 0; i < count; i++) {
        void *grown = realloc(arrays[i], want * sizes[i]);
        if (!grown)
            return false; /* those grown already keep their spare room: harmless */
        arrays[i] = grown;
    }
    *cap = want;
    return true;
}

void *alch__grow(void *items, size_t *cap, size_t n, size_t size, size_t first)
{
    void *arrays[] = {items};
    return alch__grow_parallel(arrays, &size, 1, cap, n, first) ? arrays[0] : NULL;
}
