/* Struct fields ↔ database values. One switch per direction over the C types of model.h. */
#include "session/row.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/error_internal.h"
#include "driver/result_internal.h"
#include "session/datetime.h"

#define FIELD(obj, col, type) ((type *)((char *)(obj) + (col)->offset))
#define CFIELD(obj, col, type) ((const type *)((const char *)(obj) + (col)->offset))

int alch__field_value(const alch_model *m, const alch_column *col, const void *obj, alch_value *out,
                      char tmp[ALCH__FIELD_TMP], alch_error *err)
{
    switch (col->ctype) {
    case ALCH_C_I16:
        *out = alch_int(*CFIELD(obj, col, int16_t));
        break;
    case ALCH_C_I32:
        *out = alch_int(*CFIELD(obj, col, int32_t));
        break;
    case ALCH_C_I64:
        *out = alch_int(*CFIELD(obj, col, int64_t));
        break;
    case ALCH_C_BOOL:
        *out = alch_bool(*CFIELD(obj, col, bool));
        break;
    case ALCH_C_FLOAT:
        *out = alch_double(*CFIELD(obj, col, float));
        break;
    case ALCH_C_DOUBLE:
        *out = alch_double(*CFIELD(obj, col, double));
        break;
    case ALCH_C_STRING: {
        const char *s = *CFIELD(obj, col, char *const);
        if (s && col->type == ALCH_VARCHAR && col->length > 0 &&
            alch__utf8_chars(s) > (size_t)col->length) {
            alch__error_set(err, ALCH_EDATA,
                            "%s.%s is %zu characters long, but VARCHAR(%d) holds at most %d",
                            m->table, col->name, alch__utf8_chars(s), col->length, col->length);
            alch__error_hint(err, "shorten the value, or declare a longer .length");
            return ALCH_EDATA;
        }
        *out = alch_text(s);
        break;
    }
    case ALCH_C_BLOB: {
        const alch_blob *b = CFIELD(obj, col, alch_blob);
        *out = alch_bytes(b->data, b->len);
        break;
    }
    case ALCH_C_TIMESTAMP: {
        const alch_timestamp *t = CFIELD(obj, col, alch_timestamp);
        if (t->is_null) {
            *out = alch_null();
            break;
        }
        alch__ts_render(t->usec, tmp);
        *out = alch_text(tmp);
        break;
    }
    case ALCH_C_DATE: {
        const alch_date *d = CFIELD(obj, col, alch_date);
        if (d->is_null) {
            *out = alch_null();
            break;
        }
        alch__date_render(d->days, tmp);
        *out = alch_text(tmp);
        break;
    }
#define OPT(ctype, T, make)                                                                        \
    case ctype: {                                                                                  \
        const T *o = CFIELD(obj, col, T);                                                          \
        *out = o->is_null ? alch_null() : make(o->value);                                          \
        break;                                                                                     \
    }
        OPT(ALCH_C_OPT_I16, alch_opt_i16, alch_int)
        OPT(ALCH_C_OPT_I32, alch_opt_i32, alch_int)
        OPT(ALCH_C_OPT_I64, alch_opt_i64, alch_int)
        OPT(ALCH_C_OPT_BOOL, alch_opt_bool, alch_bool)
        OPT(ALCH_C_OPT_DOUBLE, alch_opt_double, alch_double)
#undef OPT
    default:
        return alch__error_set(err, ALCH_EMISUSE, "%s.%s has a C type alch cannot map", m->table,
                               col->name);
    }
    return 0;
}

/* "Unset" is the C analog of an attribute never assigned, and only a type that can say so
 * has it: a NULL pointer, or `is_null = true`. A plain number or bool always holds a value
 * the program set, 0 and false included; the one exception is an integer primary key of 0,
 * "not numbered yet" (the server's identity numbers start at 1). */
bool alch__field_empty(const alch_column *col, const void *obj)
{
    switch (col->ctype) {
    case ALCH_C_STRING:
        return *CFIELD(obj, col, char *const) == NULL;
    case ALCH_C_BLOB:
        return CFIELD(obj, col, alch_blob)->data == NULL;
    case ALCH_C_TIMESTAMP:
        return CFIELD(obj, col, alch_timestamp)->is_null;
    case ALCH_C_DATE:
        return CFIELD(obj, col, alch_date)->is_null;
    case ALCH_C_OPT_I16:
        return CFIELD(obj, col, alch_opt_i16)->is_null;
    case ALCH_C_OPT_I32:
        return CFIELD(obj, col, alch_opt_i32)->is_null;
    case ALCH_C_OPT_I64:
        return CFIELD(obj, col, alch_opt_i64)->is_null;
    case ALCH_C_OPT_BOOL:
        return CFIELD(obj, col, alch_opt_bool)->is_null;
    case ALCH_C_OPT_DOUBLE:
        return CFIELD(obj, col, alch_opt_double)->is_null;
    case ALCH_C_I16:
        return col->primary_key && *CFIELD(obj, col, int16_t) == 0;
    case ALCH_C_I32:
        return col->primary_key && *CFIELD(obj, col, int32_t) == 0;
    case ALCH_C_I64:
        return col->primary_key && *CFIELD(obj, col, int64_t) == 0;
    default:
        return false;
    }
}

static size_t ctype_size(alch_ctype t)
{
    switch (t) {
    case ALCH_C_I16:
        return sizeof(int16_t);
    case ALCH_C_I32:
        return sizeof(int32_t);
    case ALCH_C_I64:
        return sizeof(int64_t);
    case ALCH_C_BOOL:
        return sizeof(bool);
    case ALCH_C_FLOAT:
        return sizeof(float);
    case ALCH_C_DOUBLE:
        return sizeof(double);
    case ALCH_C_STRING:
        return sizeof(char *);
    case ALCH_C_BLOB:
        return sizeof(alch_blob);
    case ALCH_C_TIMESTAMP:
        return sizeof(alch_timestamp);
    case ALCH_C_DATE:
        return sizeof(alch_date);
    case ALCH_C_OPT_I16:
        return sizeof(alch_opt_i16);
    case ALCH_C_OPT_I32:
        return sizeof(alch_opt_i32);
    case ALCH_C_OPT_I64:
        return sizeof(alch_opt_i64);
    case ALCH_C_OPT_BOOL:
        return sizeof(alch_opt_bool);
    case ALCH_C_OPT_DOUBLE:
        return sizeof(alch_opt_double);
    default:
        return 0;
    }
}

void alch__field_clear(const alch_column *col, void *obj)
{
    memset((char *)obj + col->offset, 0, ctype_size(col->ctype));
    switch (col->ctype) { /* the types whose "empty" is a flag, not zero */
    case ALCH_C_TIMESTAMP:
        FIELD(obj, col, alch_timestamp)->is_null = true;
        break;
    case ALCH_C_DATE:
        FIELD(obj, col, alch_date)->is_null = true;
        break;
    case ALCH_C_OPT_I16:
        FIELD(obj, col, alch_opt_i16)->is_null = true;
        break;
    case ALCH_C_OPT_I32:
        FIELD(obj, col, alch_opt_i32)->is_null = true;
        break;
    case ALCH_C_OPT_I64:
        FIELD(obj, col, alch_opt_i64)->is_null = true;
        break;
    case ALCH_C_OPT_BOOL:
        FIELD(obj, col, alch_opt_bool)->is_null = true;
        break;
    case ALCH_C_OPT_DOUBLE:
        FIELD(obj, col, alch_opt_double)->is_null = true;
        break;
    default:
        break;
    }
}

void alch__field_set(const alch_column *col, void *obj, const alch_value *v)
{
    int64_t i = v->u.i;
    double d = v->type == ALCH_V_DOUBLE ? v->u.d : 0;
    switch (col->ctype) {
    case ALCH_C_I16:
        *FIELD(obj, col, int16_t) = (int16_t)i;
        break;
    case ALCH_C_I32:
        *FIELD(obj, col, int32_t) = (int32_t)i;
        break;
    case ALCH_C_I64:
        *FIELD(obj, col, int64_t) = i;
        break;
    case ALCH_C_OPT_I16:
        *FIELD(obj, col, alch_opt_i16) = (alch_opt_i16){(int16_t)i, false};
        break;
    case ALCH_C_OPT_I32:
        *FIELD(obj, col, alch_opt_i32) = (alch_opt_i32){(int32_t)i, false};
        break;
    case ALCH_C_OPT_I64:
        *FIELD(obj, col, alch_opt_i64) = (alch_opt_i64){i, false};
        break;
    case ALCH_C_BOOL:
        *FIELD(obj, col, bool) = v->u.b;
        break;
    case ALCH_C_OPT_BOOL:
        *FIELD(obj, col, alch_opt_bool) = (alch_opt_bool){v->u.b, false};
        break;
    case ALCH_C_FLOAT:
        *FIELD(obj, col, float) = (float)d;
        break;
    case ALCH_C_DOUBLE:
        *FIELD(obj, col, double) = d;
        break;
    case ALCH_C_OPT_DOUBLE:
        *FIELD(obj, col, alch_opt_double) = (alch_opt_double){d, false};
        break;
    case ALCH_C_STRING:
        *FIELD(obj, col, const char *) = v->u.s;
        break;
    default:
        break;
    }
}

static int bad_value(const alch_model *m, const alch_column *col, const char *text, alch_error *err)
{
    alch__error_set(err, ALCH_ETYPE,
                    "%s.%s: the database sent '%s', which does not fit the "
                    "field's C type",
                    m->table, col->name, text);
    alch__error_hint(err, "check that the column's SQL type in the model matches the table");
    return ALCH_ETYPE;
}

/* A value the field's C type cannot hold: never truncated, wrapped or rounded to infinity. */
static int out_of_range(const alch_model *m, const alch_column *col, const char *text,
                        const char *ctype, const char *range, alch_error *err)
{
    alch__error_set(err, ALCH_ETYPE,
                    "%s.%s: the database sent '%s', which is out of range for the field %s.%s "
                    "(%s: %s)",
                    m->table, col->name, text, m->name, col->name, ctype, range);
    alch__error_hint(err, "the table's column holds more than the model says: widen the field "
                          "and its declared SQL type, or fix the table");
    return ALCH_ETYPE;
}

/* An integer in the server's text form ("-42"), every character checked; false when it is
 * not one or does not fit in 64 bits. strtoll() does the same work for any base, locale
 * and leading space, and was the largest single cost of loading rows. */
static bool parse_int(const char *s, size_t len, int64_t *out)
{
    bool neg = len > 0 && s[0] == '-';
    size_t i = neg;
    if (i == len || len - i > 19)
        return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    if (v > (uint64_t)INT64_MAX + neg) /* 19 digits can pass 2^63: check the range */
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static int load_int(const alch_model *m, const alch_column *col, void *obj, const char *text,
                    size_t len, alch_error *err)
{
    int64_t v;
    if (!parse_int(text, len, &v)) {
        size_t sign = len > 0 && text[0] == '-';
        bool number = len > sign && strspn(text + sign, "0123456789") == len - sign;
        return number ? out_of_range(m, col, text, "int64_t",
                                     "-9223372036854775808 to 9223372036854775807", err)
                      : bad_value(m, col, text, err);
    }
    switch (col->ctype) {
    case ALCH_C_I16:
    case ALCH_C_OPT_I16:
        if (v < INT16_MIN || v > INT16_MAX)
            return out_of_range(m, col, text, "int16_t", "-32768 to 32767", err);
        if (col->ctype == ALCH_C_I16)
            *FIELD(obj, col, int16_t) = (int16_t)v;
        else
            *FIELD(obj, col, alch_opt_i16) = (alch_opt_i16){(int16_t)v, false};
        return 0;
    case ALCH_C_I32:
    case ALCH_C_OPT_I32:
        if (v < INT32_MIN || v > INT32_MAX)
            return out_of_range(m, col, text, "int32_t", "-2147483648 to 2147483647", err);
        if (col->ctype == ALCH_C_I32)
            *FIELD(obj, col, int32_t) = (int32_t)v;
        else
            *FIELD(obj, col, alch_opt_i32) = (alch_opt_i32){(int32_t)v, false};
        return 0;
    case ALCH_C_I64:
        *FIELD(obj, col, int64_t) = v;
        return 0;
    default:
        *FIELD(obj, col, alch_opt_i64) = (alch_opt_i64){v, false};
        return 0;
    }
}

/* A floating-point number: "NaN", "Infinity" and "-Infinity" are real values of a float
 * column; a finite number (a NUMERIC) beyond the C type's range is refused, not turned into
 * an infinity or a zero. */
static int load_double(const alch_model *m, const alch_column *col, void *obj, const char *text,
                       alch_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end)
        return bad_value(m, col, text, err);
    if (errno == ERANGE && (isinf(v) || v == 0))
        return out_of_range(m, col, text, col->ctype == ALCH_C_FLOAT ? "float" : "double",
                            "a double ends near 1.8e308 and its smallest step is 4.9e-324",
                            err);
    if (col->ctype == ALCH_C_FLOAT) {
        float f = (float)v;
        if ((isinf(f) && !isinf(v)) || (f == 0 && v != 0))
            return out_of_range(m, col, text, "float", "about 1.2e-38 to 3.4e38", err);
        *FIELD(obj, col, float) = f;
    } else if (col->ctype == ALCH_C_DOUBLE) {
        *FIELD(obj, col, double) = v;
    } else {
        *FIELD(obj, col, alch_opt_double) = (alch_opt_double){v, false};
    }
    return 0;
}

static int load_bool(const alch_model *m, const alch_column *col, void *obj, const char *text,
                     size_t len, alch_error *err)
{
    if (len != 1 || (text[0] != 't' && text[0] != 'f'))
        return bad_value(m, col, text, err);
    if (col->ctype == ALCH_C_BOOL)
        *FIELD(obj, col, bool) = text[0] == 't';
    else
        *FIELD(obj, col, alch_opt_bool) = (alch_opt_bool){text[0] == 't', false};
    return 0;
}

static int load_time(const alch_model *m, const alch_column *col, void *obj, const char *text,
                     size_t len, alch_error *err)
{
    int rc;
    if (col->ctype == ALCH_C_TIMESTAMP) {
        int64_t usec;
        rc = alch__ts_parse(text, len, &usec);
        if (rc == 0)
            *FIELD(obj, col, alch_timestamp) = (alch_timestamp){usec, false};
    } else {
        int32_t days;
        rc = alch__date_parse(text, len, &days);
        if (rc == 0)
            *FIELD(obj, col, alch_date) = (alch_date){days, false};
    }
    if (rc == ALCH__DT_RANGE)
        return col->ctype == ALCH_C_TIMESTAMP
                   ? out_of_range(m, col, text, "alch_timestamp",
                                  "int64_t microseconds since 1970: about 290308 BC to 294246 AD",
                                  err)
                   : out_of_range(m, col, text, "alch_date", "int32_t days since 1970", err);
    return rc ? bad_value(m, col, text, err) : 0;
}

int alch__field_load(const alch_model *m, const alch_column *col, void *obj, const alch_result *res,
                     size_t row, size_t rcol, alch__arena *arena, alch_error *err)
{
    size_t len = 0;
    const char *text = alch__result_cell(res, row, rcol, &len);
    if (!text) {
        alch__field_clear(col, obj);
        return 0;
    }
    switch (col->ctype) {
    case ALCH_C_I16:
    case ALCH_C_I32:
    case ALCH_C_I64:
    case ALCH_C_OPT_I16:
    case ALCH_C_OPT_I32:
    case ALCH_C_OPT_I64:
        return load_int(m, col, obj, text, len, err);
    case ALCH_C_BOOL:
    case ALCH_C_OPT_BOOL:
        return load_bool(m, col, obj, text, len, err);
    case ALCH_C_FLOAT:
    case ALCH_C_DOUBLE:
    case ALCH_C_OPT_DOUBLE:
        return load_double(m, col, obj, text, err);
    case ALCH_C_STRING: { /* no arena: point into the result, which outlives the struct */
        char *s = arena ? alch__arena_strndup(arena, text, len) : (char *)text;
        if (!s)
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        *FIELD(obj, col, char *) = s;
        return 0;
    }
    case ALCH_C_BLOB: {
        const void *bytes;
        size_t size;
        int rc = alch_result_get_bytes(res, row, rcol, &bytes, &size, err);
        if (rc)
            return rc;
        void *copy = arena ? alch__arena_memdup(arena, bytes, size) : (void *)bytes;
        if (!copy)
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        *FIELD(obj, col, alch_blob) = (alch_blob){copy, size};
        return 0;
    }
    case ALCH_C_TIMESTAMP:
    case ALCH_C_DATE:
        return load_time(m, col, obj, text, len, err);
    default:
        return bad_value(m, col, text, err);
    }
}

bool alch__field_equal(const alch_column *col, const void *a, const void *b)
{
    if (col->ctype == ALCH_C_STRING) {
        const char *x = *CFIELD(a, col, char *const), *y = *CFIELD(b, col, char *const);
        return x == y || (x && y && strcmp(x, y) == 0);
    }
    if (col->ctype == ALCH_C_BLOB) {
        const alch_blob *x = CFIELD(a, col, alch_blob), *y = CFIELD(b, col, alch_blob);
        if (!x->data || !y->data)
            return x->data == y->data;
        return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
    }
    /* compare the value member only: struct padding is not ours to compare */
    switch (col->ctype) {
    case ALCH_C_I16:
        return *CFIELD(a, col, int16_t) == *CFIELD(b, col, int16_t);
    case ALCH_C_I32:
        return *CFIELD(a, col, int32_t) == *CFIELD(b, col, int32_t);
    case ALCH_C_I64:
        return *CFIELD(a, col, int64_t) == *CFIELD(b, col, int64_t);
    case ALCH_C_BOOL:
        return *CFIELD(a, col, bool) == *CFIELD(b, col, bool);
    case ALCH_C_FLOAT:
        return *CFIELD(a, col, float) == *CFIELD(b, col, float);
    case ALCH_C_DOUBLE:
        return *CFIELD(a, col, double) == *CFIELD(b, col, double);
#define OPT_EQ(ctype, T)                                                                           \
    case ctype:                                                                                    \
        return CFIELD(a, col, T)->is_null == CFIELD(b, col, T)->is_null &&                         \
               (CFIELD(a, col, T)->is_null ||                                                      \
                CFIELD(a, col, T)->value == CFIELD(b, col, T)->value);
        OPT_EQ(ALCH_C_OPT_I16, alch_opt_i16)
        OPT_EQ(ALCH_C_OPT_I32, alch_opt_i32)
        OPT_EQ(ALCH_C_OPT_I64, alch_opt_i64)
        OPT_EQ(ALCH_C_OPT_BOOL, alch_opt_bool)
        OPT_EQ(ALCH_C_OPT_DOUBLE, alch_opt_double)
#undef OPT_EQ
    case ALCH_C_TIMESTAMP:
        return CFIELD(a, col, alch_timestamp)->is_null == CFIELD(b, col, alch_timestamp)->is_null &&
               (CFIELD(a, col, alch_timestamp)->is_null ||
                CFIELD(a, col, alch_timestamp)->usec == CFIELD(b, col, alch_timestamp)->usec);
    case ALCH_C_DATE:
        return CFIELD(a, col, alch_date)->is_null == CFIELD(b, col, alch_date)->is_null &&
               (CFIELD(a, col, alch_date)->is_null ||
                CFIELD(a, col, alch_date)->days == CFIELD(b, col, alch_date)->days);
    default:
        return false;
    }
}

int alch__field_copy(const alch_column *col, void *dst, const void *src, alch__arena *arena)
{
    memcpy((char *)dst + col->offset, (const char *)src + col->offset, ctype_size(col->ctype));
    if (col->ctype == ALCH_C_STRING) {
        const char *s = *CFIELD(src, col, char *const);
        char *copy = s ? alch__arena_strndup(arena, s, strlen(s)) : NULL;
        if (s && !copy)
            return ALCH_ENOMEM;
        *FIELD(dst, col, char *) = copy;
    } else if (col->ctype == ALCH_C_BLOB) {
        const alch_blob *b = CFIELD(src, col, alch_blob);
        if (b->data) {
            void *copy = alch__arena_memdup(arena, b->data, b->len);
            if (!copy)
                return ALCH_ENOMEM;
            FIELD(dst, col, alch_blob)->data = copy;
        }
    }
    return 0;
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
