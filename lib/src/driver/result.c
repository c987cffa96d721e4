/* Results: a PGresult behind typed getters that check the column's SQL type. */
#include "driver/result_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver/error_internal.h"
#include "driver/pq.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/quarantine.h"

/* Memory handed out by getters that must convert (bytea), freed with the result. */
typedef struct chunk {
    struct chunk *next;
    unsigned char *mem;
    size_t huge; /* alch__result_alloc: the size of an alch__huge_alloc, or 0 (calloc) */
} chunk;

/* First in the struct: freeing a block overwrites its first bytes, so even a header that
 * left the quarantine most likely reads as not live. */
enum { RESULT_LIVE = 0x52534c54u /* "RSLT" */, RESULT_FREED = 0x0deadfee };

struct alch_result {
    unsigned magic;
    PGresult *pg;
    chunk *chunks;
    chunk *owned; /* memory of ours (alch__result_alloc) */
    unsigned *types; /* the columns' type OIDs, read once (alch__result_type), or NULL */
    bool binary;     /* its cells came in binary (one format for all: libpq's resultFormat) */
};

/* Type OIDs from pg_type.h. */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_CHAR = 18,
    OID_NAME = 19,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_UNKNOWN = 705,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_DATE = 1082,
    OID_TIME = 1083,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_INTERVAL = 1186,
    OID_NUMERIC = 1700,
    OID_UUID = 2950,
    OID_JSONB = 3802,
};

alch_result *alch__result_wrap(PGresult *pg)
{
    alch_result *res = calloc(1, sizeof *res);
    if (!res) {
        PQclear(pg);
        return NULL;
    }
    res->magic = RESULT_LIVE;
    res->pg = pg;
    res->binary = PQnfields(pg) > 0 && PQfformat(pg, 0) == 1;
    return res;
}

static void release_result(void *p)
{
    free(p);
}

/* Freed results wait here a while (util/quarantine.h): a getter called on one says so. */
static alch__quarantine freed_results = {.release = release_result};

__attribute__((destructor)) static void drain_freed_results(void)
{
    alch__quarantine_drain(&freed_results);
}

static bool is_freed(const alch_result *res)
{
    return res->magic != RESULT_LIVE;
}

/* Large pieces (a result's structs for 100,000 rows are 4.8 MB) in huge pages: on the
 * development VM a first touch of each 4 KiB page costs about 20 us (lib/bench/README.md). */
void *alch__result_alloc(alch_result *res, size_t size)
{
    chunk *c = malloc(sizeof *c);
    bool huge = size >= ALCH__HUGE_PAGE;
    void *mem = !c ? NULL : huge ? alch__huge_alloc(size) : calloc(1, size ? size : 1);
    if (!mem) {
        free(c);
        return NULL;
    }
    c->huge = huge ? size : 0;
    c->mem = mem;
    c->next = res->owned;
    res->owned = c;
    return mem;
}

void alch_result_free(alch_result *res)
{
    if (!res || is_freed(res)) /* freed twice: the first free counts */
        return;
    for (chunk *c = res->chunks, *next; c; c = next) {
        next = c->next;
        PQfreemem(c->mem);
        free(c);
    }
    for (chunk *c = res->owned, *next; c; c = next) {
        next = c->next;
        if (c->huge)
            alch__huge_free(c->mem, c->huge);
        else
            free(c->mem);
        free(c);
    }
    PQclear(res->pg);
    free(res->types);
    *res = (alch_result){.magic = RESULT_FREED}; /* no rows, no columns, and is_freed() */
    alch__quarantine_put(&freed_results, res);
}

size_t alch_result_rows(const alch_result *res)
{
    return res ? (size_t)PQntuples(res->pg) : 0;
}

size_t alch_result_columns(const alch_result *res)
{
    return res ? (size_t)PQnfields(res->pg) : 0;
}

uint64_t alch_result_affected(const alch_result *res)
{
    const char *n = res ? PQcmdTuples(res->pg) : "";
    return *n ? strtoull(n, NULL, 10) : 0;
}

const char *alch_result_command(const alch_result *res)
{
    const char *s = res ? PQcmdStatus(res->pg) : NULL;
    return s ? s : "";
}

const char *alch_result_column_name(const alch_result *res, size_t col)
{
    if (!res || col >= alch_result_columns(res))
        return NULL;
    return PQfname(res->pg, (int)col);
}

int alch_result_column_index(const alch_result *res, const char *name, size_t *col)
{
    if (!res || !name || !col || is_freed(res))
        return ALCH_EMISUSE;
    for (size_t i = 0; i < alch_result_columns(res); i++) {
        if (strcmp(PQfname(res->pg, (int)i), name) == 0) {
            *col = i;
            return 0;
        }
    }
    return ALCH_EMISUSE;
}

static const char *type_name(Oid oid)
{
    switch (oid) {
    case OID_BOOL:
        return "bool";
    case OID_BYTEA:
        return "bytea";
    case OID_CHAR:
        return "char";
    case OID_NAME:
        return "name";
    case OID_INT8:
        return "int8";
    case OID_INT2:
        return "int2";
    case OID_INT4:
        return "int4";
    case OID_TEXT:
        return "text";
    case OID_OID:
        return "oid";
    case OID_JSON:
        return "json";
    case OID_FLOAT4:
        return "float4";
    case OID_FLOAT8:
        return "float8";
    case OID_UNKNOWN:
        return "unknown";
    case OID_BPCHAR:
        return "bpchar";
    case OID_VARCHAR:
        return "varchar";
    case OID_DATE:
        return "date";
    case OID_TIME:
        return "time";
    case OID_TIMESTAMP:
        return "timestamp";
    case OID_TIMESTAMPTZ:
        return "timestamptz";
    case OID_INTERVAL:
        return "interval";
    case OID_NUMERIC:
        return "numeric";
    case OID_UUID:
        return "uuid";
    case OID_JSONB:
        return "jsonb";
    default:
        return "unknown";
    }
}

const char *alch_result_column_type(const alch_result *res, size_t col)
{
    if (!res || col >= alch_result_columns(res))
        return NULL;
    return type_name(PQftype(res->pg, (int)col));
}

bool alch_result_is_null(const alch_result *res, size_t row, size_t col)
{
    if (!res || row >= alch_result_rows(res) || col >= alch_result_columns(res))
        return true;
    return PQgetisnull(res->pg, (int)row, (int)col);
}

static int freed(alch_error *err)
{
    alch__error_set(err, ALCH_EMISUSE,
                    "this result was freed (alch_result_free): its rows are gone");
    alch__error_hint(err, "read what you need before alch_result_free(), or copy it");
    return ALCH_EMISUSE;
}

/* Common checks of every getter: position in range, value not NULL. */
static int locate(const alch_result *res, size_t row, size_t col, const char *what, alch_error *err)
{
    if (!res)
        return alch__error_set(err, ALCH_EMISUSE, "no result (NULL)");
    if (is_freed(res))
        return freed(err);
    if (col >= alch_result_columns(res))
        return alch__error_set(err, ALCH_EMISUSE,
                               "column %zu is out of range: the result has %zu column(s)", col,
                               alch_result_columns(res));
    if (row >= alch_result_rows(res))
        return alch__error_set(err, ALCH_EMISUSE,
                               "row %zu is out of range: the result has %zu row(s)", row,
                               alch_result_rows(res));
    if (PQgetisnull(res->pg, (int)row, (int)col)) {
        alch__error_set(err, ALCH_ETYPE, "column '%s' is NULL in row %zu, not %s",
                        PQfname(res->pg, (int)col), row, what);
        alch__error_hint(err, "check alch_result_is_null() first");
        return ALCH_ETYPE;
    }
    return 0;
}

static int wrong_type(const alch_result *res, size_t col, const char *what, alch_error *err)
{
    Oid oid = PQftype(res->pg, (int)col);
    alch__error_set(err, ALCH_ETYPE, "column '%s' has SQL type %s, not %s",
                    PQfname(res->pg, (int)col), type_name(oid), what);
    alch__error_hint(err, "read it with alch_result_get_text(), or cast it in SQL (::%s)",
                     strcmp(what, "an integer") == 0  ? "bigint"
                     : strcmp(what, "a number") == 0  ? "float8"
                     : strcmp(what, "a boolean") == 0 ? "boolean"
                                                      : "bytea");
    return ALCH_ETYPE;
}

int alch_result_get_int(const alch_result *res, size_t row, size_t col, int64_t *out,
                        alch_error *err)
{
    int rc = locate(res, row, col, "an integer", err);
    if (rc)
        return rc;
    Oid oid = PQftype(res->pg, (int)col);
    if (oid != OID_INT2 && oid != OID_INT4 && oid != OID_INT8 && oid != OID_OID)
        return wrong_type(res, col, "an integer", err);
    errno = 0;
    char *end;
    long long v = strtoll(PQgetvalue(res->pg, (int)row, (int)col), &end, 10);
    if (errno || *end)
        return alch__error_set(err, ALCH_EDATA, "column '%s': '%s' is not a 64-bit integer",
                               PQfname(res->pg, (int)col), PQgetvalue(res->pg, (int)row, (int)col));
    if (out)
        *out = (int64_t)v;
    return 0;
}

int alch_result_get_double(const alch_result *res, size_t row, size_t col, double *out,
                           alch_error *err)
{
    int rc = locate(res, row, col, "a number", err);
    if (rc)
        return rc;
    Oid oid = PQftype(res->pg, (int)col);
    if (oid != OID_FLOAT4 && oid != OID_FLOAT8 && oid != OID_NUMERIC && oid != OID_INT2 &&
        oid != OID_INT4 && oid != OID_INT8)
        return wrong_type(res, col, "a number", err);
    const char *s = PQgetvalue(res->pg, (int)row, (int)col);
    /* strtod reads "NaN", "Infinity" and "-Infinity" as PostgreSQL prints them */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end)
        return alch__error_set(err, ALCH_EDATA, "column '%s': '%s' is not a number",
                               PQfname(res->pg, (int)col), s);
    if (errno == ERANGE && (isinf(v) || v == 0)) /* a NUMERIC no double holds */
        return alch__error_set(err, ALCH_EDATA,
                               "column '%s': %s is out of range for a double (which ends near "
                               "1.8e308 and steps by 4.9e-324): read it with "
                               "alch_result_get_text()",
                               PQfname(res->pg, (int)col), s);
    if (out)
        *out = v;
    return 0;
}

int alch_result_get_bool(const alch_result *res, size_t row, size_t col, bool *out, alch_error *err)
{
    int rc = locate(res, row, col, "a boolean", err);
    if (rc)
        return rc;
    if (PQftype(res->pg, (int)col) != OID_BOOL)
        return wrong_type(res, col, "a boolean", err);
    if (out)
        *out = PQgetvalue(res->pg, (int)row, (int)col)[0] == 't';
    return 0;
}

const char *alch__result_value(const alch_result *res, size_t row, size_t col)
{
    const char *v = PQgetvalue(res->pg, (int)row, (int)col);
    if (!v[0] && PQgetisnull(res->pg, (int)row, (int)col)) /* NULL reads as "" */
        return NULL;
    return v;
}

size_t alch__result_length(const alch_result *res, size_t row, size_t col)
{
    return (size_t)PQgetlength(res->pg, (int)row, (int)col);
}

const char *alch__result_bytes(const alch_result *res, size_t row, size_t col, size_t *len)
{
    int n = PQgetlength(res->pg, (int)row, (int)col);
    if (n == 0 && PQgetisnull(res->pg, (int)row, (int)col))
        return NULL;
    *len = (size_t)n;
    return PQgetvalue(res->pg, (int)row, (int)col);
}

bool alch__result_binary(const alch_result *res)
{
    return res->binary;
}

unsigned alch__result_type(const alch_result *res, size_t col)
{
    if (!res->types) { /* the result is logically const: the copy is its private cache */
        size_t n = (size_t)PQnfields(res->pg);
        unsigned *types = malloc((n ? n : 1) * sizeof *types);
        if (!types)
            return PQftype(res->pg, (int)col);
        for (size_t i = 0; i < n; i++)
            types[i] = PQftype(res->pg, (int)i);
        ((alch_result *)res)->types = types;
    }
    return res->types[col];
}

int alch_result_get_text(const alch_result *res, size_t row, size_t col, const char **out,
                         alch_error *err)
{
    int rc = locate(res, row, col, "text", err);
    if (rc)
        return rc;
    if (out)
        *out = PQgetvalue(res->pg, (int)row, (int)col);
    return 0;
}

int alch_result_get_bytes(const alch_result *res, size_t row, size_t col, const void **out,
                          size_t *len, alch_error *err)
{
    int rc = locate(res, row, col, "bytes", err);
    if (rc)
        return rc;
    if (PQftype(res->pg, (int)col) != OID_BYTEA)
        return wrong_type(res, col, "bytes", err);
    chunk *c = malloc(sizeof *c);
    size_t n = 0;
    unsigned char *mem =
        c ? PQunescapeBytea((const unsigned char *)PQgetvalue(res->pg, (int)row, (int)col), &n)
          : NULL;
    if (!mem) {
        free(c);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory decoding a bytea");
    }
    /* the result is logically const to the caller; the chunk list is its private arena */
    alch_result *owner = (alch_result *)res;
    c->mem = mem;
    c->next = owner->chunks;
    owner->chunks = c;
    if (out)
        *out = mem;
    if (len)
        *len = n;
    return 0;
}

/* psql's layout, padded to what a terminal shows (UTF-8 display width, not bytes); the last
 * column is not padded, so lines carry no trailing blanks. */
static void print_cell(FILE *out, size_t c, size_t cols, size_t width, const char *text)
{
    fprintf(out, "%s %s", c ? " |" : "", text);
    for (size_t w = alch__utf8_width(text); c + 1 < cols && w < width; w++)
        fputc(' ', out);
}

void alch_result_print(const alch_result *res, FILE *out)
{
    if (!res || !out)
        return;
    if (is_freed(res)) {
        fputs("(this result was freed)\n", out);
        return;
    }
    size_t rows = alch_result_rows(res), cols = alch_result_columns(res);
    if (cols == 0) {
        fprintf(out, "%s\n", alch_result_command(res));
        return;
    }
    size_t *w = calloc(cols, sizeof *w);
    if (!w)
        return;
    for (size_t c = 0; c < cols; c++) {
        w[c] = alch__utf8_width(PQfname(res->pg, (int)c));
        for (size_t r = 0; r < rows; r++) {
            size_t n = alch__utf8_width(PQgetvalue(res->pg, (int)r, (int)c));
            if (n > w[c])
                w[c] = n;
        }
    }
    for (size_t c = 0; c < cols; c++)
        print_cell(out, c, cols, w[c], PQfname(res->pg, (int)c));
    fputc('\n', out);
    for (size_t c = 0; c < cols; c++) {
        fputs(c ? "-+-" : "-", out);
        for (size_t i = 0; i < w[c]; i++)
            fputc('-', out);
    }
    fputs("-\n", out);
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++)
            print_cell(out, c, cols, w[c],
                       PQgetisnull(res->pg, (int)r, (int)c) ? ""
                                                            : PQgetvalue(res->pg, (int)r, (int)c));
        fputc('\n', out);
    }
    free(w);
    fprintf(out, "(%zu row%s)\n", rows, rows == 1 ? "" : "s");
}
