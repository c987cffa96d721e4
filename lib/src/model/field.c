/* The field codec: a model's struct field <-> a bound parameter (alch_value) <-> a result
 * cell, driven by one table row per C type of model.h.
 *
 * Every field type keeps its value at the start of the field: a plain `int32_t`, or the
 * `.value` / `.usec` / `.days` of a wrapper whose `is_null` flag lies further on. So a row
 * says where the flag is (or that there is none) and how big the value is, and a handful of
 * functions per kind of value (integer, bool, float, double, text, bytes, timestamp, date)
 * do the rest. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver/error_internal.h"
#include "driver/result_internal.h"
#include "model/datetime.h"
#include "model/model_internal.h"
#include "util/buf.h"

_Static_assert((int)ALCH__FIELD_TMP >= (int)ALCH__DT_TMP, "room for a rendered timestamp or date");

/* Where a result cell is going, for the decoders and their error sentences. */
typedef struct cell {
    const alch_model *m;
    const alch_column *col;
    const struct ctype_row *t;
    const alch_result *res;
    size_t row, rcol;
    alch__arena *arena; /* NULL: strings and bytes point into the result */
    bool binary;        /* the result came in binary (alch__conn_exec_rows) */
    const char *text;   /* NUL-terminated, as libpq keeps every cell */
    size_t len;         /* CELL_LEN_UNKNOWN until a decoder asks (cell_len) */
} cell;

enum { CELL_LEN_UNKNOWN = -1 };
enum { SHOWN_MAX = 80 }; /* a refused binary cell's value as text, for the sentence */

/* The cell's length, asked of libpq only by the decoders that need it: an integer or a bool
 * reads up to the NUL, and most cells are numbers. */
static size_t cell_len(cell *c)
{
    if (c->len == (size_t)CELL_LEN_UNKNOWN)
        c->len = alch__result_length(c->res, c->row, c->rcol);
    return c->len;
}

/* When a field counts as unset (see alch__field_empty). */
typedef enum { UNSET_NEVER, UNSET_FLAG, UNSET_NULL_POINTER, UNSET_ZERO_KEY } unset_rule;

typedef struct ctype_row {
    const char *name;           /* as the program declares it, for messages */
    size_t size;                /* sizeof the field */
    size_t vsize;               /* sizeof the value at its start */
    int null_flag;              /* offset of its is_null flag, or -1 */
    unset_rule unset;
    const char *nullable;       /* the wrapper that can hold NULL, for a type that cannot */
    alch_type default_of; /* the .client_default type it takes (ALCH_V_NULL: none) */
    const char *range_type;     /* the C type named when a value is out of its range */
    void (*encode)(const void *value, size_t vsize, alch_value *out, char *tmp);
    int (*decode)(cell *c, void *value, alch_error *err);
    void (*set)(void *value, size_t vsize, const alch_value *v); /* NULL: nothing to set */
    bool (*equal)(const void *a, const void *b, size_t vsize);
    int (*own)(void *value, alch__arena *arena); /* copy what it points to; NULL: nothing */
} ctype_row;

/* ---- integers, whatever their width --------------------------------------------------- */

static int64_t get_int(const void *p, size_t vsize)
{
    return vsize == 2 ? *(const int16_t *)p : vsize == 4 ? *(const int32_t *)p : *(const int64_t *)p;
}

static void put_int(void *p, size_t vsize, int64_t v)
{
    if (vsize == 2)
        *(int16_t *)p = (int16_t)v;
    else if (vsize == 4)
        *(int32_t *)p = (int32_t)v;
    else
        *(int64_t *)p = v;
}

static void enc_int(const void *p, size_t vsize, alch_value *out, char *tmp)
{
    (void)tmp;
    *out = alch_int(get_int(p, vsize));
}

static void set_int(void *p, size_t vsize, const alch_value *v)
{
    put_int(p, vsize, v->u.i);
}

static bool eq_bytes(const void *a, const void *b, size_t vsize)
{
    return memcmp(a, b, vsize) == 0;
}

static int bad_value(const cell *c, alch_error *err)
{
    alch__error_set(err, ALCH_ETYPE,
                    "%s.%s: the database sent '%s', which does not fit the "
                    "field's C type",
                    c->m->table, c->col->name, c->text);
    alch__error_hint(err, "check that the column's SQL type in the model matches the table");
    return ALCH_ETYPE;
}

/* A value the field's C type cannot hold: never truncated, wrapped or rounded to infinity. */
static int out_of_range(const cell *c, const char *ctype, const char *range, alch_error *err)
{
    alch__error_set(err, ALCH_ETYPE,
                    "%s.%s: the database sent '%s', which is out of range for the field %s.%s "
                    "(%s: %s)",
                    c->m->table, c->col->name, c->text, c->m->name, c->col->name, ctype, range);
    alch__error_hint(err, "the table's column holds more than the model says: widen the field "
                          "and its declared SQL type, or fix the table");
    return ALCH_ETYPE;
}

/* An integer in the server's text form ("-42"), every character checked up to the NUL;
 * false when it is not one or does not fit in 64 bits. strtoll() does the same work for any
 * base, locale and leading space, and was the largest single cost of loading rows. */
static bool parse_int(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    s += neg;
    uint64_t v = 0;
    size_t n = 0;
    for (unsigned d; (d = (unsigned)(s[n] - '0')) <= 9; n++)
        v = v * 10 + d; /* may wrap past 19 digits, which are refused below */
    if (s[n] || n == 0 || n > 19 || v > (uint64_t)INT64_MAX + neg) /* 19 digits can pass 2^63 */
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Why c's text is not an integer of its field: out of range, or not a number at all. Out of
 * line, so the common path saves no registers for it. */
__attribute__((noinline, cold)) static int int_refused(cell *c, bool parsed, alch_error *err)
{
    static const char *const ranges[] = {[2] = "-32768 to 32767",
                                         [4] = "-2147483648 to 2147483647"};
    if (parsed)
        return out_of_range(c, c->t->range_type, ranges[c->t->vsize], err);
    size_t len = cell_len(c), sign = c->text[0] == '-';
    bool number = len > sign && strspn(c->text + sign, "0123456789") == len - sign;
    return number ? out_of_range(c, "int64_t", "-9223372036854775808 to 9223372036854775807", err)
                  : bad_value(c, err);
}

static int dec_int(cell *c, void *p, alch_error *err)
{
    int64_t v;
    if (!parse_int(c->text, &v))
        return int_refused(c, false, err);
    size_t vsize = c->t->vsize;
    if (vsize < 8) { /* narrower than int64_t: is it in range? */
        int64_t max = vsize == 2 ? INT16_MAX : INT32_MAX;
        if (v < -max - 1 || v > max)
            return int_refused(c, true, err);
    }
    put_int(p, vsize, v);
    return 0;
}

/* ---- bool ----------------------------------------------------------------------------- */

static void enc_bool(const void *p, size_t vsize, alch_value *out, char *tmp)
{
    (void)vsize, (void)tmp;
    *out = alch_bool(*(const bool *)p);
}

static void set_bool(void *p, size_t vsize, const alch_value *v)
{
    (void)vsize;
    *(bool *)p = v->u.b;
}

static int dec_bool(cell *c, void *p, alch_error *err)
{
    if ((c->text[0] != 't' && c->text[0] != 'f') || c->text[1])
        return bad_value(c, err);
    *(bool *)p = c->text[0] == 't';
    return 0;
}

/* ---- floating point ------------------------------------------------------------------- */

static void enc_float(const void *p, size_t vsize, alch_value *out, char *tmp)
{
    (void)vsize, (void)tmp;
    *out = alch_double(*(const float *)p);
}

static void enc_double(const void *p, size_t vsize, alch_value *out, char *tmp)
{
    (void)vsize, (void)tmp;
    *out = alch_double(*(const double *)p);
}

static void set_float(void *p, size_t vsize, const alch_value *v)
{
    (void)vsize;
    *(float *)p = (float)(v->type == ALCH_V_DOUBLE ? v->u.d : 0);
}

static void set_double(void *p, size_t vsize, const alch_value *v)
{
    (void)vsize;
    *(double *)p = v->type == ALCH_V_DOUBLE ? v->u.d : 0;
}

static bool eq_float(const void *a, const void *b, size_t vsize)
{
    (void)vsize;
    return *(const float *)a == *(const float *)b;
}

static bool eq_double(const void *a, const void *b, size_t vsize)
{
    (void)vsize;
    return *(const double *)a == *(const double *)b;
}

/* A floating-point number: "NaN", "Infinity" and "-Infinity" are real values of a float
 * column; a finite number (a NUMERIC) beyond the C type's range is refused, not turned into
 * an infinity or a zero. */
static int parse_double(cell *c, double *v, alch_error *err)
{
    char *end;
    errno = 0;
    *v = strtod(c->text, &end);
    if (end == c->text || *end)
        return bad_value(c, err);
    if (errno == ERANGE && (isinf(*v) || *v == 0))
        return out_of_range(c, c->t->range_type,
                            "a double ends near 1.8e308 and its smallest step is 4.9e-324", err);
    return 0;
}

static int dec_double(cell *c, void *p, alch_error *err)
{
    return parse_double(c, p, err);
}

static int dec_float(cell *c, void *p, alch_error *err)
{
    double v;
    int rc = parse_double(c, &v, err);
    if (rc)
        return rc;
    float f = (float)v;
    if ((isinf(f) && !isinf(v)) || (f == 0 && v != 0))
        return out_of_range(c, "float", "about 1.2e-38 to 3.4e38", err);
    *(float *)p = f;
    return 0;
}

/* ---- text and bytes ------------------------------------------------------------------- */

static void enc_string(const void *p, size_t vsize, alch_value *out, char *tmp)
{
    (void)vsize, (void)tmp;
    *out = alch_text(*(const char *const *)p);
}

static void set_string(void *p, size_t vsize, const alch_value *v)
{
    (void)vsize;
    *(const char **)p = v->u.s;
}

static bool eq_string(const void *a, const void *b, size_t vsize)
{
    (void)vsize;
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    return x == y || (x && y && strcmp(x, y) == 0);
}

static int dec_string(cell *c, void *p, alch_error *err)
{
    /* no arena: point into the result, which outlives the struct */
    char *s = c->arena ? alch__arena_strndup(c->arena, c->text, cell_len(c)) : (char *)c->text;
    if (!s)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    *(char **)p = s;
    return 0;
}

static int own_string(void *p, alch__arena *arena)
{
    const char *s = *(char **)p;
    char *copy = s ? alch__arena_strndup(arena, s, strlen(s)) : NULL;
    *(char **)p = copy;
    return s && !copy ? ALCH_ENOMEM : 0;
}

static void enc_blob(const void *p, size_t vsize, alch_value *out, char *tmp)
{
    (void)vsize, (void)tmp;
    const alch_blob *b = p;
    *out = alch_bytes(b->data, b->len);
}

static bool eq_blob(const void *a, const void *b, size_t vsize)
{
    (void)vsize;
    const alch_blob *x = a, *y = b;
    if (!x->data || !y->data)
        return x->data == y->data;
    return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
}

static int dec_blob(cell *c, void *p, alch_error *err)
{
    const void *bytes;
    size_t size;
    int rc = alch_result_get_bytes(c->res, c->row, c->rcol, &bytes, &size, err);
    if (rc)
        return rc;
    void *copy = c->arena ? alch__arena_memdup(c->arena, bytes, size) : (void *)bytes;
    if (!copy)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    *(alch_blob *)p = (alch_blob){copy, size};
    return 0;
}

static int own_blob(void *p, alch__arena *arena)
{
    alch_blob *b = p;
    if (!b->data)
        return 0;
    void *copy = alch__arena_memdup(arena, b->data, b->len);
    b->data = copy;
    return copy ? 0 : ALCH_ENOMEM;
}

/* ---- timestamps and dates (datetime.c does the calendar) ------------------------------- */

static void enc_ts(const void *p, size_t vsize, alch_value *out, char *tmp)
{
    (void)vsize;
    alch__ts_render(*(const int64_t *)p, tmp);
    *out = alch_text(tmp);
}

static void enc_date(const void *p, size_t vsize, alch_value *out, char *tmp)
{
    (void)vsize;
    alch__date_render(*(const int32_t *)p, tmp);
    *out = alch_text(tmp);
}

static int time_result(cell *c, int rc, const char *range, alch_error *err)
{
    if (rc == ALCH__DT_RANGE)
        return out_of_range(c, c->t->range_type, range, err);
    return rc ? bad_value(c, err) : 0;
}

static int dec_ts(cell *c, void *p, alch_error *err)
{
    return time_result(c, alch__ts_parse(c->text, cell_len(c), p),
                       "int64_t microseconds since 1970: about 290308 BC to 294246 AD", err);
}

static int dec_date(cell *c, void *p, alch_error *err)
{
    return time_result(c, alch__date_parse(c->text, cell_len(c), p), "int32_t days since 1970", err);
}

/* ---- binary cells (alch__conn_exec_rows): the pairs whose value is the text path's ----------
 *
 * A binary cell is read only for a (C type, column type) pair listed in native(): there the
 * value is exactly the one the text form gives (a float8's shortest text parses back to the
 * same double; a timestamptz is microseconds since 2000-01-01 UTC whatever the TimeZone).
 * Other pairs (a real read into a double, a timestamp without time zone, numeric...) keep
 * the whole statement in text (alch__fields_binary). Type OIDs from pg_type.h. */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_NAME = 19,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_FLOAT8 = 701,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_DATE = 1082,
    OID_TIMESTAMPTZ = 1184,
    OID_UUID = 2950,
};
enum { PG_EPOCH_DAYS = 10957 }; /* 1970-01-01 to 2000-01-01, PostgreSQL's binary epoch */
#define PG_EPOCH_USEC (PG_EPOCH_DAYS * INT64_C(86400000000))

static bool native(alch_ctype ctype, unsigned oid)
{
    switch (ctype) {
    case ALCH_C_I16:
    case ALCH_C_I32:
    case ALCH_C_I64:
    case ALCH_C_OPT_I16:
    case ALCH_C_OPT_I32:
    case ALCH_C_OPT_I64:
        return oid == OID_INT2 || oid == OID_INT4 || oid == OID_INT8;
    case ALCH_C_BOOL:
    case ALCH_C_OPT_BOOL:
        return oid == OID_BOOL;
    case ALCH_C_FLOAT:
    case ALCH_C_DOUBLE:
    case ALCH_C_OPT_DOUBLE:
        return oid == OID_FLOAT8;
    case ALCH_C_STRING:
        return oid == OID_TEXT || oid == OID_VARCHAR || oid == OID_BPCHAR || oid == OID_NAME ||
               oid == OID_UUID;
    case ALCH_C_BLOB:
        return oid == OID_BYTEA;
    case ALCH_C_TIMESTAMP:
        return oid == OID_TIMESTAMPTZ;
    case ALCH_C_DATE:
        return oid == OID_DATE;
    default:
        return false;
    }
}

/* A column whose text form costs parsing that its binary form does not: floats (strtod),
 * timestamps and dates (the calendar), bytea (hex). Integers, booleans and text cost about
 * the same both ways, and libpq stores binary cells aligned: rows of only those stay text
 * (callgrind, 10,000 rows of a timestamptz, a date and a float8: 4,199 instructions per row
 * in text, 2,549 in binary; W4's integers and strings: 2,916 in text, 3,034 in binary). */
static bool costly_text(unsigned oid)
{
    return oid == OID_FLOAT8 || oid == OID_TIMESTAMPTZ || oid == OID_DATE || oid == OID_BYTEA;
}

/* Whether every column of res is one the model's field reads in binary; *pays: and one at
 * least costs parsing in text. */
static bool readable(const alch_result *res, const alch_model *m, bool *pays)
{
    if (alch_result_columns(res) != m->ncolumns)
        return false;
    *pays = false;
    for (size_t i = 0; i < m->ncolumns; i++) {
        unsigned oid = alch__result_type(res, i);
        if (!native(m->columns[i].ctype, oid))
            return false;
        *pays |= costly_text(oid);
    }
    return true;
}

bool alch__fields_binary(const alch_result *res, const void *model)
{
    bool pays;
    return readable(res, model, &pays) && pays;
}

bool alch__fields_binary_readable(const alch_result *res, const alch_model *m)
{
    bool pays;
    return readable(res, m, &pays);
}

/* The type OID a column of this SQL type has when the table is as the model declares it. */
static unsigned declared_oid(alch_sql_type t)
{
    switch (t) {
    case ALCH_SMALLINT:
        return OID_INT2;
    case ALCH_INTEGER:
        return OID_INT4;
    case ALCH_BIGINT:
        return OID_INT8;
    case ALCH_BOOLEAN:
        return OID_BOOL;
    case ALCH_DOUBLE:
        return OID_FLOAT8;
    case ALCH_TEXT:
        return OID_TEXT;
    case ALCH_VARCHAR:
        return OID_VARCHAR;
    case ALCH_UUID:
        return OID_UUID;
    case ALCH_BYTEA:
        return OID_BYTEA;
    case ALCH_TIMESTAMPTZ:
        return OID_TIMESTAMPTZ;
    case ALCH_DATE:
        return OID_DATE;
    default:
        return 0; /* real, numeric, jsonb: read as text */
    }
}

bool alch__fields_binary_likely(const alch_model *m)
{
    bool pays = false;
    for (size_t i = 0; i < m->ncolumns; i++) {
        unsigned oid = declared_oid(m->columns[i].type);
        if (!native(m->columns[i].ctype, oid))
            return false;
        pays |= costly_text(oid);
    }
    return pays;
}

/* A big-endian integer of n bytes (2, 4 or 8), sign-extended. */
static int64_t be_int(const char *b, size_t n)
{
    if (n == 2) {
        uint16_t v;
        memcpy(&v, b, sizeof v);
        return (int16_t)__builtin_bswap16(v);
    }
    if (n == 4) {
        uint32_t v;
        memcpy(&v, b, sizeof v);
        return (int32_t)__builtin_bswap32(v);
    }
    uint64_t v;
    memcpy(&v, b, sizeof v);
    return (int64_t)__builtin_bswap64(v);
}

/* The cell is not the size its type has: never guess (a server bug or a mislabeled cell). */
__attribute__((noinline, cold)) static int bad_binary(cell *c, const char *type, alch_error *err)
{
    char shown[SHOWN_MAX];
    snprintf(shown, sizeof shown, "(%zu bytes of binary %s)", cell_len(c), type);
    c->text = shown;
    return bad_value(c, err);
}

static int bin_int(cell *c, void *p, alch_error *err)
{
    size_t n = c->len; /* int2, int4 or int8 (alch__fields_binary checked the type) */
    if (n != 2 && n != 4 && n != 8)
        return bad_binary(c, "integer", err);
    int64_t v = be_int(c->text, n);
    size_t vsize = c->t->vsize;
    if (vsize < n && (v < -(INT64_C(1) << (8 * vsize - 1)) || v >= INT64_C(1) << (8 * vsize - 1))) {
        char shown[SHOWN_MAX];
        snprintf(shown, sizeof shown, "%lld", (long long)v);
        c->text = shown;
        return int_refused(c, true, err);
    }
    put_int(p, vsize, v);
    return 0;
}

static int bin_bool(cell *c, void *p, alch_error *err)
{
    if (cell_len(c) != 1)
        return bad_binary(c, "bool", err);
    *(bool *)p = c->text[0] != 0;
    return 0;
}

static int bin_double(cell *c, void *p, alch_error *err)
{
    if (cell_len(c) != 8)
        return bad_binary(c, "float8", err);
    uint64_t bits = (uint64_t)be_int(c->text, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    if (c->t->vsize == sizeof(double)) {
        *(double *)p = v;
        return 0;
    }
    float f = (float)v;
    if ((isinf(f) && !isinf(v)) || (f == 0 && v != 0)) {
        char shown[SHOWN_MAX];
        snprintf(shown, sizeof shown, "%.17g", v);
        c->text = shown;
        return out_of_range(c, "float", "about 1.2e-38 to 3.4e38", err);
    }
    *(float *)p = f;
    return 0;
}

/* Memory for a value made from a binary cell: the arena, or (none) the result's own. */
static void *bin_alloc(cell *c, size_t n)
{
    return c->arena ? alch__arena_alloc(c->arena, n) : alch__result_alloc((alch_result *)c->res, n);
}

static int bin_string(cell *c, void *p, alch_error *err)
{
    if (alch__result_type(c->res, c->rcol) != OID_UUID)
        return dec_string(c, p, err); /* text-like: the same bytes as the text form */
    if (cell_len(c) != 16)
        return bad_binary(c, "uuid", err);
    char *s = bin_alloc(c, 37);
    if (!s)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    static const char hex[] = "0123456789abcdef"; /* uuid_out: lowercase, 8-4-4-4-12 */
    const unsigned char *b = (const unsigned char *)c->text;
    char *o = s;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
    *(char **)p = s;
    return 0;
}

static int bin_blob(cell *c, void *p, alch_error *err)
{
    size_t n = cell_len(c); /* bytea in binary: the bytes themselves */
    void *copy = c->arena ? alch__arena_memdup(c->arena, c->text, n) : (void *)c->text;
    if (!copy)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    *(alch_blob *)p = (alch_blob){copy, n};
    return 0;
}

static int bin_ts(cell *c, void *p, alch_error *err)
{
    if (cell_len(c) != 8)
        return bad_binary(c, "timestamptz", err);
    int64_t v = be_int(c->text, 8), usec;   /* since 2000, UTC */
    if (v == INT64_MAX || v == INT64_MIN) { /* PostgreSQL's infinity and -infinity */
        *(int64_t *)p = v == INT64_MAX ? ALCH_TIMESTAMP_INFINITY : ALCH_TIMESTAMP_NEG_INFINITY;
        return 0;
    }
    if (__builtin_add_overflow(v, PG_EPOCH_USEC, &usec) || usec == ALCH_TIMESTAMP_INFINITY ||
        usec == ALCH_TIMESTAMP_NEG_INFINITY) {
        char shown[ALCH__DT_TMP];
        alch__ts_render_utc(v, PG_EPOCH_DAYS, shown); /* the text path's '...+00' */
        c->text = shown;
        return out_of_range(c, c->t->range_type,
                            "int64_t microseconds since 1970: about 290308 BC to 294246 AD", err);
    }
    *(int64_t *)p = usec;
    return 0;
}

static int bin_date(cell *c, void *p, alch_error *err)
{
    if (cell_len(c) != 4)
        return bad_binary(c, "date", err);
    int64_t v = be_int(c->text, 4); /* days since 2000-01-01 */
    int32_t days;
    if (v == INT32_MAX || v == INT32_MIN)
        days = v == INT32_MAX ? ALCH_DATE_INFINITY : ALCH_DATE_NEG_INFINITY;
    else if (v + PG_EPOCH_DAYS >= ALCH_DATE_INFINITY) { /* as the text path refuses it */
        char shown[SHOWN_MAX];
        snprintf(shown, sizeof shown, "%lld days after 2000-01-01", (long long)v);
        c->text = shown;
        return out_of_range(c, c->t->range_type, "int32_t days since 1970", err);
    } else
        days = (int32_t)(v + PG_EPOCH_DAYS);
    *(int32_t *)p = days;
    return 0;
}

/* The binary decoder of a C type (native() said the column's type is one it reads). */
static int decode_binary(cell *c, void *p, alch_error *err)
{
    switch (c->col->ctype) {
    case ALCH_C_BOOL:
    case ALCH_C_OPT_BOOL:
        return bin_bool(c, p, err);
    case ALCH_C_FLOAT:
    case ALCH_C_DOUBLE:
    case ALCH_C_OPT_DOUBLE:
        return bin_double(c, p, err);
    case ALCH_C_STRING:
        return bin_string(c, p, err);
    case ALCH_C_BLOB:
        return bin_blob(c, p, err);
    case ALCH_C_TIMESTAMP:
        return bin_ts(c, p, err);
    case ALCH_C_DATE:
        return bin_date(c, p, err);
    default:
        return bin_int(c, p, err);
    }
}

/* ---- the table ------------------------------------------------------------------------ */

#define PLAIN(T) sizeof(T), sizeof(T), -1
#define WRAPPED(W, member) sizeof(W), sizeof(((W *)0)->member), (int)offsetof(W, is_null), UNSET_FLAG
#define INT_OPS enc_int, dec_int, set_int, eq_bytes, NULL

static const ctype_row ctypes[] = {
    [ALCH_C_I16] = {"int16_t", PLAIN(int16_t), UNSET_ZERO_KEY, "alch_opt_i16", ALCH_V_INT,
                    "int16_t", INT_OPS},
    [ALCH_C_I32] = {"int32_t", PLAIN(int32_t), UNSET_ZERO_KEY, "alch_opt_i32", ALCH_V_INT,
                    "int32_t", INT_OPS},
    [ALCH_C_I64] = {"int64_t", PLAIN(int64_t), UNSET_ZERO_KEY, "alch_opt_i64", ALCH_V_INT,
                    "int64_t", INT_OPS},
    [ALCH_C_BOOL] = {"bool", PLAIN(bool), UNSET_NEVER, "alch_opt_bool", ALCH_V_BOOL, "bool",
                     enc_bool, dec_bool, set_bool, eq_bytes, NULL},
    [ALCH_C_FLOAT] = {"float", PLAIN(float), UNSET_NEVER, "alch_opt_double", ALCH_V_DOUBLE,
                      "float", enc_float, dec_float, set_float, eq_float, NULL},
    [ALCH_C_DOUBLE] = {"double", PLAIN(double), UNSET_NEVER, "alch_opt_double", ALCH_V_DOUBLE,
                       "double", enc_double, dec_double, set_double, eq_double, NULL},
    [ALCH_C_STRING] = {"char *", PLAIN(char *), UNSET_NULL_POINTER, NULL, ALCH_V_TEXT, "char *",
                       enc_string, dec_string, set_string, eq_string, own_string},
    [ALCH_C_BLOB] = {"alch_blob", PLAIN(alch_blob), UNSET_NULL_POINTER, NULL, ALCH_V_NULL,
                     "alch_blob", enc_blob, dec_blob, NULL, eq_blob, own_blob},
    [ALCH_C_TIMESTAMP] = {"alch_timestamp", WRAPPED(alch_timestamp, usec), NULL, ALCH_V_NULL,
                          "alch_timestamp", enc_ts, dec_ts, NULL, eq_bytes, NULL},
    [ALCH_C_DATE] = {"alch_date", WRAPPED(alch_date, days), NULL, ALCH_V_NULL, "alch_date",
                     enc_date, dec_date, NULL, eq_bytes, NULL},
    [ALCH_C_OPT_I16] = {"alch_opt_i16", WRAPPED(alch_opt_i16, value), NULL, ALCH_V_INT,
                        "int16_t", INT_OPS},
    [ALCH_C_OPT_I32] = {"alch_opt_i32", WRAPPED(alch_opt_i32, value), NULL, ALCH_V_INT,
                        "int32_t", INT_OPS},
    [ALCH_C_OPT_I64] = {"alch_opt_i64", WRAPPED(alch_opt_i64, value), NULL, ALCH_V_INT,
                        "int64_t", INT_OPS},
    [ALCH_C_OPT_BOOL] = {"alch_opt_bool", WRAPPED(alch_opt_bool, value), NULL, ALCH_V_BOOL,
                         "bool", enc_bool, dec_bool, set_bool, eq_bytes, NULL},
    [ALCH_C_OPT_DOUBLE] = {"alch_opt_double", WRAPPED(alch_opt_double, value), NULL,
                           ALCH_V_DOUBLE, "double", enc_double, dec_double, set_double,
                           eq_double, NULL},
};
enum { NCTYPES = sizeof ctypes / sizeof *ctypes };

/* The row of a C type, or NULL for ALCH_C_UNSUPPORTED and values outside the enum. */
static const ctype_row *row_of(alch_ctype c)
{
    return c > ALCH_C_UNSUPPORTED && (int)c < NCTYPES ? &ctypes[c] : NULL;
}

const char *alch__ctype_name(alch_ctype c)
{
    const ctype_row *t = row_of(c);
    return t ? t->name : NULL;
}

const char *alch__ctype_nullable(alch_ctype c)
{
    const ctype_row *t = row_of(c);
    return t ? t->nullable : NULL;
}

alch_type alch__ctype_default_type(alch_ctype c)
{
    const ctype_row *t = row_of(c);
    return t ? t->default_of : ALCH_V_NULL;
}

/* ---- the field functions -------------------------------------------------------------- */

static void *field_of(void *obj, const alch_column *col)
{
    return (char *)obj + col->offset;
}

static const void *cfield_of(const void *obj, const alch_column *col)
{
    return (const char *)obj + col->offset;
}

static bool *flag_of(void *field, const ctype_row *t)
{
    return (bool *)((char *)field + t->null_flag);
}

static bool flag_null(const void *field, const ctype_row *t)
{
    return t->null_flag >= 0 && *(const bool *)((const char *)field + t->null_flag);
}

int alch__field_value(const alch_model *m, const alch_column *col, const void *obj,
                      alch_value *out, char tmp[ALCH__FIELD_TMP], alch_error *err)
{
    const ctype_row *t = row_of(col->ctype);
    if (!t)
        return alch__error_set(err, ALCH_EMISUSE, "%s.%s has a C type alch cannot map", m->table,
                               col->name);
    const void *f = cfield_of(obj, col);
    if (flag_null(f, t)) {
        *out = alch_null();
        return 0;
    }
    t->encode(f, t->vsize, out, tmp);
    /* characters are at most bytes: only a text longer in bytes than the limit is counted */
    if (col->ctype == ALCH_C_STRING && out->type == ALCH_V_TEXT && col->type == ALCH_VARCHAR &&
        col->length > 0 && out->len > (size_t)col->length &&
        alch__utf8_chars(out->u.s) > (size_t)col->length) {
        alch__error_set(err, ALCH_EDATA,
                        "%s.%s is %zu characters long, but VARCHAR(%d) holds at most %d",
                        m->table, col->name, alch__utf8_chars(out->u.s), col->length,
                        col->length);
        alch__error_hint(err, "shorten the value, or declare a longer .length");
        return ALCH_EDATA;
    }
    return 0;
}

/* "Unset" is the C analog of an attribute never assigned, and only a type that can say so
 * has it: a NULL pointer, or `is_null = true`. A plain number or bool always holds a value
 * the program set, 0 and false included; the one exception is an integer primary key of 0,
 * "not numbered yet" (the server's identity numbers start at 1). */
bool alch__field_empty(const alch_column *col, const void *obj)
{
    const ctype_row *t = row_of(col->ctype);
    const void *f = cfield_of(obj, col);
    switch (t ? t->unset : UNSET_NEVER) {
    case UNSET_FLAG:
        return flag_null(f, t);
    case UNSET_NULL_POINTER: /* a char * or an alch_blob's .data, first in the field */
        return *(const void *const *)f == NULL;
    case UNSET_ZERO_KEY:
        return col->primary_key && get_int(f, t->vsize) == 0;
    case UNSET_NEVER:
        break;
    }
    return false;
}

void alch__field_clear(const alch_column *col, void *obj)
{
    const ctype_row *t = row_of(col->ctype);
    if (!t)
        return;
    void *f = field_of(obj, col);
    memset(f, 0, t->size);
    if (t->null_flag >= 0) /* the types whose "empty" is a flag, not zero */
        *flag_of(f, t) = true;
}

void alch__field_set(const alch_column *col, void *obj, const alch_value *v)
{
    const ctype_row *t = row_of(col->ctype);
    if (!t || !t->set)
        return;
    void *f = field_of(obj, col);
    t->set(f, t->vsize, v);
    if (t->null_flag >= 0)
        *flag_of(f, t) = false;
}

/* A binary result whose columns this model does not read in binary: the driver asks for
 * binary only after alch__fields_binary() said yes for the same model, so this is a bug. */
__attribute__((noinline, cold)) static int binary_unread(const cell *c, alch_error *err)
{
    return alch__error_set(err, ALCH_EINTERNAL,
                           "%s: the rows came in binary, and a column's type is one alch reads "
                           "only as text",
                           c->m->table);
}

/* c->col's field of obj from c's cell (c->row, c->rcol); binary is c->binary, a constant
 * for the compiler in each of alch__fields_load's two loops. */
__attribute__((always_inline)) static inline int load_cell(cell *c, void *obj, bool binary,
                                                           alch_error *err)
{
    c->t = row_of(c->col->ctype);
    c->len = (size_t)CELL_LEN_UNKNOWN;
    c->text = binary ? alch__result_bytes(c->res, c->row, c->rcol, &c->len)
                     : alch__result_value(c->res, c->row, c->rcol);
    if (!c->text) {
        alch__field_clear(c->col, obj);
        return 0;
    }
    if (!c->t)
        return bad_value(c, err);
    void *f = field_of(obj, c->col);
    int rc = binary ? decode_binary(c, f, err) : c->t->decode(c, f, err);
    if (rc == 0 && c->t->null_flag >= 0)
        *flag_of(f, c->t) = false;
    return rc;
}

int alch__field_load(const alch_model *m, const alch_column *col, void *obj,
                     const alch_result *res, size_t row, size_t rcol, alch__arena *arena,
                     alch_error *err)
{
    cell c = {.m = m, .col = col, .res = res, .row = row, .rcol = rcol, .arena = arena};
    c.binary = alch__result_binary(res);
    if (c.binary && !native(col->ctype, alch__result_type(res, rcol)))
        return binary_unread(&c, err);
    return load_cell(&c, obj, c.binary, err);
}

int alch__fields_load(const alch_model *m, void *obj, const alch_result *res, size_t row,
                      alch__arena *arena, alch_error *err)
{
    cell c = {.m = m, .res = res, .row = row, .arena = arena};
    c.binary = alch__result_binary(res);
    if (c.binary && row == 0 && !alch__fields_binary_readable(res, m)) /* once per result */
        return binary_unread(&c, err);
    for (size_t i = 0; i < m->ncolumns; i++) {
        c.col = &m->columns[i];
        c.rcol = i;
        int rc = c.binary ? load_cell(&c, obj, true, err) : load_cell(&c, obj, false, err);
        if (rc)
            return rc;
    }
    return 0;
}

bool alch__field_equal(const alch_column *col, const void *a, const void *b)
{
    const ctype_row *t = row_of(col->ctype);
    if (!t)
        return false;
    const void *x = cfield_of(a, col), *y = cfield_of(b, col);
    /* compare the value and the flag only: struct padding is not ours to compare */
    if (flag_null(x, t) || flag_null(y, t))
        return flag_null(x, t) == flag_null(y, t);
    return t->equal(x, y, t->vsize);
}

int alch__field_copy(const alch_column *col, void *dst, const void *src, alch__arena *arena)
{
    const ctype_row *t = row_of(col->ctype);
    if (!t)
        return 0;
    void *f = field_of(dst, col);
    memcpy(f, cfield_of(src, col), t->size);
    return t->own ? t->own(f, arena) : 0;
}

bool alch__field_equal_cols(const alch_column *ca, const void *a, const alch_column *cb,
                            const void *b)
{
    alch_value x, y;
    char tx[ALCH__FIELD_TMP], ty[ALCH__FIELD_TMP];
    alch_model none = {0};
    none.table = "";
    if (alch__field_value(&none, ca, a, &x, tx, NULL) != 0 ||
        alch__field_value(&none, cb, b, &y, ty, NULL) != 0 || x.type != y.type)
        return false;
    switch (x.type) {
    case ALCH_V_INT:
        return x.u.i == y.u.i;
    case ALCH_V_BOOL:
        return x.u.b == y.u.b;
    case ALCH_V_DOUBLE:
        return x.u.d == y.u.d;
    case ALCH_V_TEXT:
    case ALCH_V_BYTES:
        return x.len == y.len && memcmp(x.u.s, y.u.s, x.len) == 0;
    default:
        return false; /* NULL matches nothing, as in SQL */
    }
}
