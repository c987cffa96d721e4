/* libFuzzer harness: every decoder reachable from a result cell, with no server. The first
 * byte picks a field (one per C type of model.h) and the SQL type the cell claims; the rest
 * is the cell's text, put in a PGresult made by PQmakeEmptyPGresult() + PQsetvalue(). The
 * cell is loaded into the field (alch__field_load), read through the public getters and
 * printed with alch_result_print() (which measures the text's display width).
 * Oracle, when the load succeeds: the encoder's form of the field (what a flush sends), as
 * the server would print it back, loads to an equal field.
 * With bit 0x40 of the first byte the cell is binary instead (as alch__conn_exec_rows gets
 * them), of the column's own type, and is loaded into an arena: any bytes, any length, must
 * load or be refused with a sentence, never read past the cell. */
#include <math.h>
#include <stdbool.h>

#include <alch/alch.h>

#include "driver/pq.h"
#include "driver/result_internal.h"
#include "fuzz.h"
#include "model/model_internal.h"
#include "util/arena.h"

typedef struct All {
    int16_t i16;
    int32_t i32;
    int64_t i64;
    bool b;
    float f;
    double d;
    char *s;
    alch_blob y;
    alch_timestamp ts;
    alch_date day;
    alch_opt_i16 o16;
    alch_opt_i32 o32;
    alch_opt_i64 o64;
    alch_opt_bool ob;
    alch_opt_double od;
} All;

static const alch_column cols[] = {
    ALCH_COLUMN(All, i16, ALCH_SMALLINT),    ALCH_COLUMN(All, i32, ALCH_INTEGER),
    ALCH_COLUMN(All, i64, ALCH_BIGINT),      ALCH_COLUMN(All, b, ALCH_BOOLEAN),
    ALCH_COLUMN(All, f, ALCH_REAL),          ALCH_COLUMN(All, d, ALCH_DOUBLE),
    ALCH_COLUMN(All, s, ALCH_TEXT),          ALCH_COLUMN(All, y, ALCH_BYTEA),
    ALCH_COLUMN(All, ts, ALCH_TIMESTAMPTZ),  ALCH_COLUMN(All, day, ALCH_DATE),
    ALCH_COLUMN(All, o16, ALCH_SMALLINT),    ALCH_COLUMN(All, o32, ALCH_INTEGER),
    ALCH_COLUMN(All, o64, ALCH_BIGINT),      ALCH_COLUMN(All, ob, ALCH_BOOLEAN),
    ALCH_COLUMN(All, od, ALCH_DOUBLE),
};
static const alch_model All_model = ALCH_MODEL(All, "alls", cols);
enum { NCOLS = sizeof cols / sizeof *cols };

/* The type OID the cell claims, per SQL type (pg_type.h). */
static Oid oid_of(alch_sql_type t)
{
    switch (t) {
    case ALCH_SMALLINT: return 21;
    case ALCH_INTEGER: return 23;
    case ALCH_BIGINT: return 20;
    case ALCH_BOOLEAN: return 16;
    case ALCH_REAL: return 700;
    case ALCH_DOUBLE: return 701;
    case ALCH_BYTEA: return 17;
    case ALCH_TIMESTAMPTZ: return 1184;
    case ALCH_DATE: return 1082;
    case ALCH_NUMERIC: return 1700;
    default: return 25;
    }
}

static alch_result *cell_of(Oid oid, int format, const char *text, int len)
{
    PGresult *pg = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc attr = {
        .name = "v", .typid = oid, .typlen = -1, .atttypmod = -1, .format = format};
    if (!pg || !PQsetResultAttrs(pg, 1, &attr) || !PQsetvalue(pg, 0, 0, (char *)text, len)) {
        PQclear(pg);
        return NULL;
    }
    return alch__result_wrap(pg);
}

static alch_result *one_cell(Oid oid, const char *text, int len)
{
    return cell_of(oid, 0, text, len);
}

/* A binary cell of the column's own type (uuid for a string column): loads or is refused. */
static void binary_cell(const alch_column *col, const uint8_t *data, size_t size)
{
    Oid oid = col->type == ALCH_TEXT && data[0] & 0x20 ? 2950 : oid_of(col->type);
    if (col->type == ALCH_DOUBLE || col->type == ALCH_REAL)
        oid = 701; /* float8: the only float type read in binary */
    alch_result *res = cell_of(oid, 1, (const char *)data + 1, (int)(size - 1));
    if (!res)
        return;
    All a = {0};
    alch__arena arena = {0};
    alch_error err = ALCH_ERROR_INIT;
    if (alch__field_load(&All_model, col, &a, res, 0, 0, &arena, &err) != 0)
        FUZZ_ASSERT(err.message && err.message[0]);
    alch_error_clear(&err);
    alch__arena_free(&arena);
    alch_result_free(res);
}

/* The public getters must refuse or answer, never crash. */
static void getters(const alch_result *res)
{
    int64_t i;
    double d;
    bool b;
    const char *s;
    const void *p;
    size_t n;
    alch_error err = ALCH_ERROR_INIT;
    (void)alch_result_get_int(res, 0, 0, &i, &err);
    (void)alch_result_get_double(res, 0, 0, &d, &err);
    (void)alch_result_get_bool(res, 0, 0, &b, &err);
    (void)alch_result_get_text(res, 0, 0, &s, &err);
    (void)alch_result_get_bytes(res, 0, 0, &p, &n, &err);
    alch_error_clear(&err);
    static FILE *sink; /* the table printer pads by display width: any bytes, any lengths */
    if (!sink)
        sink = fopen("/dev/null", "w");
    if (sink)
        alch_result_print(res, sink);
}

/* NaN is a value a float column holds; == says it differs from itself. */
static bool same(const alch_column *col, const All *a, const All *b)
{
    if (col->ctype == ALCH_C_DOUBLE && isnan(a->d))
        return isnan(b->d);
    if (col->ctype == ALCH_C_FLOAT && isnan(a->f))
        return isnan(b->f);
    if (col->ctype == ALCH_C_OPT_DOUBLE && isnan(a->od.value))
        return isnan(b->od.value) && !b->od.is_null;
    return alch__field_equal(col, a, b);
}

/* The encoder's value as the text the server would send back for it. */
static void as_text(const alch_value *v, char *buf, size_t size, const char **text, int *len)
{
    switch (v->type) {
    case ALCH_V_INT:
        *len = snprintf(buf, size, "%lld", (long long)v->u.i);
        *text = buf;
        break;
    case ALCH_V_BOOL:
        *len = snprintf(buf, size, "%s", v->u.b ? "t" : "f");
        *text = buf;
        break;
    case ALCH_V_DOUBLE: /* as PostgreSQL prints a float8 with extra_float_digits = 3 */
        *len = isnan(v->u.d)   ? snprintf(buf, size, "NaN")
               : isinf(v->u.d) ? snprintf(buf, size, "%sInfinity", v->u.d < 0 ? "-" : "")
                               : snprintf(buf, size, "%.17g", v->u.d);
        *text = buf;
        break;
    case ALCH_V_BYTES: { /* bytea in its hex text form, as the server prints it */
        static char hex[2 + 2 * 4096 + 1];
        static const char digits[] = "0123456789abcdef";
        size_t n = v->len < 4096 ? v->len : 4096;
        hex[0] = '\\';
        hex[1] = 'x';
        for (size_t i = 0; i < n; i++) {
            hex[2 + 2 * i] = digits[(unsigned char)v->u.s[i] >> 4];
            hex[3 + 2 * i] = digits[(unsigned char)v->u.s[i] & 15];
        }
        hex[2 + 2 * n] = '\0';
        *text = hex;
        *len = (int)(2 + 2 * n);
        break;
    }
    default:
        *text = v->u.s;
        *len = (int)v->len;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    const alch_column *col = &cols[data[0] % NCOLS];
    if (data[0] & 0x40) {
        binary_cell(col, data, size);
        return 0;
    }
    /* the high bit: the cell claims the column's own type, or (schema drift) numeric */
    Oid oid = data[0] & 0x80 ? oid_of(ALCH_NUMERIC) : oid_of(col->type);
    char *text = fuzz_string(data + 1, size - 1);
    alch_result *res = text ? one_cell(oid, text, (int)strlen(text)) : NULL;
    if (!res) {
        free(text);
        return 0;
    }
    getters(res);
    All a = {0};
    alch_error err = ALCH_ERROR_INIT;
    if (alch__field_load(&All_model, col, &a, res, 0, 0, NULL, &err) == 0) {
        alch_value v;
        char tmp[ALCH__FIELD_TMP], buf[64];
        FUZZ_ASSERT(alch__field_value(&All_model, col, &a, &v, tmp, &err) == 0);
        const char *back;
        int len;
        as_text(&v, buf, sizeof buf, &back, &len);
        alch_result *res2 = one_cell(oid_of(col->type), back, len);
        FUZZ_ASSERT(res2);
        All b = {0};
        if (alch__field_load(&All_model, col, &b, res2, 0, 0, NULL, &err) != 0)
            fuzz_fail("'%s' loaded, was sent as '%.*s', which does not load: %s", text, len,
                      back, err.message);
        if (!same(col, &a, &b))
            fuzz_fail("'%s' loaded, was sent as '%.*s', which loads differently", text, len, back);
        alch_result_free(res2);
    }
    alch_error_clear(&err);
    alch_result_free(res);
    free(text);
    return 0;
}
