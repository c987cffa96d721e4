/* Expressions: columns, values, conditions, aggregates. Each node counts its owners, so one
 * column may sit in a WHERE and an ORDER BY and is freed once, with its last owner. Mistakes
 * found while building (an unknown column, a text compared with a number) become X_ERROR
 * nodes; the statement that receives one reports it before any SQL is sent. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "driver/error_internal.h"
#include "statement/statement_internal.h"
#include "util/suggest.h"

static alch_expr *node(alch__xkind kind, size_t extra)
{
    alch_expr *e = calloc(1, sizeof *e + extra);
    if (e)
        e->kind = kind;
    return e;
}

void alch__expr_take(alch_expr *e)
{
    if (e)
        e->refs++;
}

static void expr_free(alch_expr *e)
{
    for (size_t i = 0; i < e->nkids; i++)
        alch__expr_drop(e->kids[i]);
    free(e->kids);
    if (e->sub) {
        e->sub->owned = false;
        alch_stmt_free(e->sub);
    }
    free(e->name);
    if (e->error) {
        alch_error_clear(e->error);
        free(e->error);
    }
    free(e);
}

void alch__expr_drop(alch_expr *e)
{
    if (e && --e->refs <= 0)
        expr_free(e);
}

/* Free a node nobody took (a constructor gives up on it). */
static void sink(alch_expr *e)
{
    if (e && e->refs <= 0)
        expr_free(e);
}

void alch_expr_free(alch_expr *e)
{
    sink(e);
}

alch_expr *alch__expr_same(alch_expr *e)
{
    return e;
}

static alch_expr *error_node(int code, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static alch_expr *error_node(int code, const char *hint, const char *fmt, ...)
{
    alch_expr *e = node(X_ERROR, 0);
    alch_error *err = calloc(1, sizeof *err);
    if (!e || !err) {
        free(e);
        free(err);
        return NULL;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    alch__error_set(err, code, "%s", msg);
    if (hint)
        alch__error_hint(err, "%s", hint);
    e->error = err;
    return e;
}

/* An error node made from a filled alch_error. */
static alch_expr *error_from(alch_error *src)
{
    alch_expr *e = node(X_ERROR, 0);
    alch_error *err = calloc(1, sizeof *err);
    if (!e || !err) {
        free(e);
        free(err);
        alch_error_clear(src);
        return NULL;
    }
    *err = *src; /* the strings move over */
    *src = (alch_error)ALCH_ERROR_INIT;
    e->error = err;
    return e;
}

/* A node over kids, which it takes. NULL kids (out of memory) give NULL, after freeing the
 * others nobody holds. */
static alch_expr *with_kids(alch__xkind kind, alch_expr *const *kids, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok = ok && kids[i];
    alch_expr *e = ok ? node(kind, 0) : NULL;
    alch_expr **v = e && n ? malloc(n * sizeof *v) : NULL;
    if (!e || (n && !v)) {
        free(e);
        for (size_t i = 0; i < n; i++)
            sink(kids[i]);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = kids[i];
        alch__expr_take(kids[i]);
    }
    e->kids = v;
    e->nkids = n;
    return e;
}

const alch_error *alch__expr_find_error(const alch_expr *e)
{
    if (!e)
        return NULL;
    if (e->kind == X_ERROR)
        return e->error;
    for (size_t i = 0; i < e->nkids; i++) {
        const alch_error *found = alch__expr_find_error(e->kids[i]);
        if (found)
            return found;
    }
    return e->sub && e->sub->error ? e->sub->error : NULL;
}

static bool has_error(alch_expr *const *kids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (alch__expr_find_error(kids[i]))
            return true;
    return false;
}

/* ---- columns and values ---------------------------------------------------------------- */

alch_expr *alch_col(const alch_model *model, const char *column)
{
    if (!model || !column)
        return error_node(ALCH_EMISUSE, NULL, "alch_col needs a model and a column name");
    const alch_column *col = alch_model_column(model, column);
    if (!col) {
        const char *names[64];
        size_t n = model->ncolumns < 64 ? model->ncolumns : 64;
        for (size_t i = 0; i < n; i++)
            names[i] = model->columns[i].name;
        const char *near = alch__suggest(column, names, n);
        if (near)
            return error_node(ALCH_EARGUMENT, NULL,
                              "model %s (table %s) has no column '%s' (did you mean '%s'?)",
                              model->name, model->table, column, near);
        return error_node(ALCH_EARGUMENT, NULL, "model %s (table %s) has no column '%s'",
                          model->name, model->table, column);
    }
    return alch__col_expr(model, col);
}

alch_expr *alch__col_expr(const alch_model *model, const alch_column *col)
{
    alch_expr *e = node(X_COLUMN, 0);
    if (e) {
        e->model = model;
        e->col = col;
        e->type = col->type;
    }
    return e;
}

/* The sentence for an unsigned number no SQL integer holds (alch_uint(), alch_v()). */
#define TOO_BIG_FMT                                                                                \
    "the number %llu is larger than any SQL integer (BIGINT ends at 9223372036854775807)"

alch_expr *alch_val(alch_value v)
{
    if (v.type == ALCH_V_TOO_BIG)
        return error_node(ALCH_EDATA, NULL, TOO_BIG_FMT, (unsigned long long)v.u.u);
    bool copy = v.type == ALCH_V_TEXT || v.type == ALCH_V_BYTES;
    alch_expr *e = node(X_VALUE, copy ? v.len + 1 : 0);
    if (!e)
        return NULL;
    e->val = v;
    e->val.name = NULL;
    if (copy) {
        char *dst = (char *)(e + 1);
        if (v.len)
            memcpy(dst, v.u.s, v.len);
        dst[v.len] = '\0';
        e->val.u.s = dst;
    }
    return e;
}

alch_expr *alch__val_bool(bool b)
{
    return alch_val(alch_bool(b));
}

alch_expr *alch__val_int(int64_t i)
{
    return alch_val(alch_int(i));
}

alch_expr *alch__val_uint(unsigned long long i)
{
    return alch_val(alch_uint(i));
}

alch_expr *alch__val_double(double d)
{
    return alch_val(alch_double(d));
}

alch_expr *alch__val_text(const char *s)
{
    return alch_val(alch_text(s));
}

alch_expr *alch_param(const char *name)
{
    if (!name || !*name)
        return error_node(ALCH_EMISUSE, NULL, "alch_param needs a name");
    alch_expr *e = node(X_PARAM, 0);
    if (e && !(e->name = strdup(name))) {
        free(e);
        return NULL;
    }
    return e;
}

/* ---- type checks ------------------------------------------------------------------------- */

static const char *value_kind(alch_type t)
{
    switch (t) {
    case ALCH_V_NULL:
        return "NULL";
    case ALCH_V_BOOL:
        return "a boolean";
    case ALCH_V_INT:
        return "an integer";
    case ALCH_V_DOUBLE:
        return "a floating-point number";
    case ALCH_V_TEXT:
        return "a text";
    case ALCH_V_BYTES:
        return "bytes";
    case ALCH_V_TOO_BIG:
        return "a number larger than any SQL integer";
    }
    return "a value";
}

static bool is_int(alch_sql_type t)
{
    return t == ALCH_SMALLINT || t == ALCH_INTEGER || t == ALCH_BIGINT;
}

static bool is_number(alch_sql_type t)
{
    return is_int(t) || t == ALCH_REAL || t == ALCH_DOUBLE || t == ALCH_NUMERIC;
}

static bool is_text(alch_sql_type t)
{
    return t == ALCH_TEXT || t == ALCH_VARCHAR;
}

/* Which value types a column of type t takes. Comparing is looser than storing: an INTEGER
 * column may be compared with 9.5, but 9.5 is not stored in it. */
static bool fits(alch_sql_type t, alch_type v, bool assign)
{
    switch (v) {
    case ALCH_V_INT:
        return is_number(t);
    case ALCH_V_DOUBLE:
        return t == ALCH_REAL || t == ALCH_DOUBLE || t == ALCH_NUMERIC || (!assign && is_int(t));
    case ALCH_V_BOOL:
        return t == ALCH_BOOLEAN;
    case ALCH_V_BYTES:
        return t == ALCH_BYTEA;
    case ALCH_V_TEXT: /* PostgreSQL reads these types from text */
        return is_text(t) || t == ALCH_NUMERIC || t == ALCH_TIMESTAMPTZ || t == ALCH_DATE ||
               t == ALCH_UUID || t == ALCH_JSONB;
    case ALCH_V_NULL:
        return true;
    case ALCH_V_TOO_BIG:
        return false;
    }
    return false;
}

static void type_text(const alch_column *col, alch_sql_type t, char *out, size_t size)
{
    if (col && col->type == ALCH_VARCHAR)
        snprintf(out, size, "VARCHAR(%d)", col->length);
    else
        snprintf(out, size, "%s", alch__sql_type_name(t));
}

int alch__value_fits(const alch_column *col, const char *table, const alch_value *v, bool assign,
                     alch_error *err)
{
    char type[48];
    type_text(col, col->type, type, sizeof type);
    if (v->type == ALCH_V_TOO_BIG)
        return alch__error_set(err, ALCH_EDATA, TOO_BIG_FMT, (unsigned long long)v->u.u);
    if (v->type == ALCH_V_NULL) {
        if (!assign) {
            alch__error_set(err, ALCH_EARGUMENT,
                            "%s.%s is compared with NULL, which is never true in SQL "
                            "(NULL = NULL is unknown)",
                            table, col->name);
            alch__error_hint(err, "use alch_is_null() or alch_is_not_null()");
            return ALCH_EARGUMENT;
        }
        if (!col->nullable) {
            alch__error_set(err, ALCH_EINTEGRITY, "%s.%s is NOT NULL, but the value given is NULL",
                            table, col->name);
            alch__error_hint(err, "give it a value, or declare the column .nullable = true");
            return ALCH_EINTEGRITY;
        }
        return 0;
    }
    if (!fits(col->type, v->type, assign)) {
        alch__error_set(err, ALCH_ETYPE, "%s.%s is %s, but the value %s is %s", table, col->name,
                        type, assign ? "given for it" : "compared with it", value_kind(v->type));
        if (v->type == ALCH_V_TEXT && is_number(col->type))
            alch__error_hint(err, "in C a string never silently becomes a number: convert it "
                                  "first (strtoll), and check that it was a number at all");
        else if (is_text(col->type))
            alch__error_hint(err, "pass a string (char *) for a text column");
        return ALCH_ETYPE;
    }
    if (!assign)
        return 0;
    if (v->type == ALCH_V_INT) {
        int64_t lo = col->type == ALCH_SMALLINT  ? INT16_MIN
                     : col->type == ALCH_INTEGER ? INT32_MIN
                                                 : INT64_MIN;
        int64_t hi = col->type == ALCH_SMALLINT  ? INT16_MAX
                     : col->type == ALCH_INTEGER ? INT32_MAX
                                                 : INT64_MAX;
        if (is_int(col->type) && (v->u.i < lo || v->u.i > hi)) {
            alch__error_set(err, ALCH_EDATA, "%s.%s is %s, which cannot hold %lld", table,
                            col->name, type, (long long)v->u.i);
            return ALCH_EDATA;
        }
    }
    if (v->type == ALCH_V_TEXT && col->type == ALCH_VARCHAR && col->length > 0 &&
        alch__utf8_chars(v->u.s) > (size_t)col->length) {
        alch__error_set(err, ALCH_EDATA,
                        "%s.%s is VARCHAR(%d), but the text given for it is %zu characters long",
                        table, col->name, col->length, alch__utf8_chars(v->u.s));
        alch__error_hint(err, "shorten the value, or declare a longer .length");
        return ALCH_EDATA;
    }
    return 0;
}

/* The column an expression stands for when it is a plain column (or a label of one). */
static const alch_expr *column_of(const alch_expr *e)
{
    while (e && e->kind == X_LABEL)
        e = e->kids[0];
    return e && e->kind == X_COLUMN ? e : NULL;
}

/* A column on one side and a value or placeholder on the other: check the value now, and
 * remember the column for alch_stmt_bind(). Returns an error node or NULL. */
static alch_expr *check_pair(alch_expr *a, alch_expr *b)
{
    const alch_expr *c = column_of(a);
    if (!c || !b || !c->col->type) /* a CTE's column of an unknown type: the server checks */
        return NULL;
    if (b->kind == X_PARAM) {
        b->about = c->col;
        b->model = c->model;
        return NULL;
    }
    if (b->kind != X_VALUE)
        return NULL;
    alch_error err = ALCH_ERROR_INIT;
    if (alch__value_fits(c->col, c->model->table, &b->val, false, &err) == 0)
        return NULL;
    return error_from(&err);
}

static alch_expr *check_types(const alch_expr *a, const alch_expr *b, const char *what);
static alch_sql_type type_of(const alch_expr *e);

/* A finished node, unless the check found a mistake: then the error replaces it. */
static alch_expr *checked(alch_expr *e, alch_expr *error)
{
    if (!error)
        return e;
    sink(e);
    return error;
}

/* ---- conditions ---------------------------------------------------------------------------- */

alch_expr *alch_compare(alch_expr *a, alch_cmp op, alch_expr *b)
{
    alch_expr *kids[2] = {a, b};
    alch_expr *e = with_kids(X_CMP, kids, 2);
    if (!e || has_error(kids, 2))
        return e;
    e->op = op;
    e->type = ALCH_BOOLEAN;
    alch_expr *bad = check_pair(a, b);
    bad = bad ? bad : check_pair(b, a);
    return checked(e, bad ? bad : check_types(a, b, "compared with"));
}

alch_expr *alch_like_expr(alch_expr *a, alch_expr *pattern, bool ignore_case)
{
    alch_expr *kids[2] = {a, pattern};
    alch_expr *e = with_kids(X_LIKE, kids, 2);
    if (!e || has_error(kids, 2))
        return e;
    e->op = ignore_case;
    e->type = ALCH_BOOLEAN;
    const alch_expr *c = column_of(a);
    if (c && !is_text(c->col->type)) {
        char type[48];
        type_text(c->col, c->col->type, type, sizeof type);
        return checked(e, error_node(ALCH_ETYPE, "LIKE matches text: use a text column",
                                     "%s is used on %s.%s, which is %s",
                                     ignore_case ? "ILIKE" : "LIKE", c->model->table, c->col->name,
                                     type));
    }
    if (pattern->kind == X_VALUE && pattern->val.type != ALCH_V_TEXT)
        return checked(e, error_node(ALCH_ETYPE, "pass the pattern as a string, e.g. \"%%tea%%\"",
                                     "a LIKE pattern must be text, not %s",
                                     value_kind(pattern->val.type)));
    return e;
}

static alch_expr *null_test(alch_expr *a, int negate)
{
    alch_expr *e = with_kids(X_NULLTEST, &a, 1);
    if (e) {
        e->op = negate;
        e->type = ALCH_BOOLEAN;
    }
    return e;
}

alch_expr *alch_is_null(alch_expr *a)
{
    return null_test(a, 0);
}

alch_expr *alch_is_not_null(alch_expr *a)
{
    return null_test(a, 1);
}

alch_expr *alch_between_expr(alch_expr *a, alch_expr *lo, alch_expr *hi)
{
    alch_expr *kids[3] = {a, lo, hi};
    alch_expr *e = with_kids(X_BETWEEN, kids, 3);
    if (!e || has_error(kids, 3))
        return e;
    e->type = ALCH_BOOLEAN;
    alch_expr *bad = check_pair(a, lo);
    return checked(e, bad ? bad : check_pair(a, hi));
}

alch_expr *alch_in(alch_expr *a, const alch_value *values, size_t n)
{
    if (n && !values) {
        sink(a);
        return error_node(ALCH_EMISUSE, NULL, "alch_in: %zu values announced, none given", n);
    }
    alch_expr **kids = malloc((n + 1) * sizeof *kids);
    if (!kids) {
        sink(a);
        return NULL;
    }
    kids[0] = a;
    for (size_t i = 0; i < n; i++)
        kids[i + 1] = alch_val(values[i]);
    alch_expr *e = with_kids(X_IN, kids, n + 1);
    free(kids);
    if (!e || alch__expr_find_error(a))
        return e;
    e->type = ALCH_BOOLEAN;
    /* A NULL in the list is legal SQL: `price IN (5, NULL)` matches 5 (and is unknown, not
     * false, for the other rows). Only a list of nothing but NULLs can never match. */
    size_t nulls = 0;
    for (size_t i = 1; i < e->nkids; i++) {
        if (e->kids[i]->kind == X_VALUE && e->kids[i]->val.type == ALCH_V_NULL) {
            nulls++;
            continue;
        }
        alch_expr *bad = check_pair(a, e->kids[i]);
        if (bad)
            return checked(e, bad);
    }
    if (n > 0 && nulls == n)
        return checked(e, error_node(ALCH_EARGUMENT, "use alch_is_null() to find NULLs",
                                     "alch_in: every value in the list is NULL, and "
                                     "x IN (NULL) is never true in SQL (NULL = NULL is unknown)"));
    return e;
}

/* Take a statement as a subquery: it must not already be one, and (when one_column) must
 * select one column. */
static alch_expr *with_sub(alch__xkind kind, alch_expr *a, alch_stmt *sub, bool one_column)
{
    if (!sub) {
        sink(a);
        return NULL;
    }
    const char *why = sub->owned              ? "this statement is already a subquery elsewhere"
                      : sub->kind != S_SELECT && sub->kind != S_COMPOUND
                          ? "a subquery must be a SELECT"
                      : one_column && alch__stmt_ncols(sub) != 1
                          ? "this subquery must select exactly one column (alch_select_columns)"
                          : NULL;
    if (why) {
        sink(a);
        if (!sub->owned)
            alch_stmt_free(sub);
        return error_node(ALCH_EMISUSE, NULL, "%s", why);
    }
    alch_expr *e = a ? with_kids(kind, &a, 1) : node(kind, 0);
    if (!e) {
        alch_stmt_free(sub);
        return NULL;
    }
    sub->owned = true;
    e->sub = sub;
    e->type = kind == X_SUBQUERY ? alch__stmt_col_type(sub, 0) : ALCH_BOOLEAN;
    return e;
}

alch_expr *alch_in_select(alch_expr *a, alch_stmt *sub)
{
    return a ? with_sub(X_IN_SELECT, a, sub, true) : (alch_stmt_free(sub), NULL);
}

alch_expr *alch_exists(alch_stmt *sub)
{
    return with_sub(X_EXISTS, NULL, sub, false);
}

alch_expr *alch_scalar_subquery(alch_stmt *sub)
{
    return with_sub(X_SUBQUERY, NULL, sub, true);
}

static alch_expr *bool_list(alch__xkind kind, alch_expr *const *conds, size_t n)
{
    if (n == 0)
        return error_node(ALCH_EMISUSE, NULL, "%s needs at least one condition",
                          kind == X_AND ? "alch_and" : "alch_or");
    if (!conds)
        return NULL;
    if (n == 1)
        return conds[0];
    alch_expr *e = with_kids(kind, conds, n);
    if (e)
        e->type = ALCH_BOOLEAN;
    return e;
}

alch_expr *alch_and_list(alch_expr *const *conds, size_t n)
{
    return bool_list(X_AND, conds, n);
}

alch_expr *alch_or_list(alch_expr *const *conds, size_t n)
{
    return bool_list(X_OR, conds, n);
}

alch_expr *alch_not(alch_expr *c)
{
    alch_expr *e = with_kids(X_NOT, &c, 1);
    if (e)
        e->type = ALCH_BOOLEAN;
    return e;
}

/* ---- aggregates, labels, ordering ------------------------------------------------------------ */

static const char *func_name(alch__func f)
{
    static const char *const names[] = {"count", "sum", "avg", "min", "max"};
    return names[f];
}

static alch_expr *func(alch__func f, alch_expr *a)
{
    alch_expr *e = a ? with_kids(X_FUNC, &a, 1) : node(X_FUNC, 0);
    if (!e || (a && alch__expr_find_error(a)))
        return e;
    e->op = f;
    alch_sql_type t = a ? a->type : 0;
    if ((f == F_SUM || f == F_AVG) && t && !is_number(t)) {
        const alch_expr *c = column_of(a);
        return checked(e, error_node(ALCH_ETYPE, "sum() and avg() add numbers",
                                     "%s() of %s%s%s, which is %s", func_name(f),
                                     c ? c->model->table : "an expression", c ? "." : "",
                                     c ? c->col->name : "", alch__sql_type_name(t)));
    }
    /* PostgreSQL: count is bigint; sum of integers and avg are numeric (sum of a smallint
     * or integer is a bigint, compared as a number all the same) */
    e->type = f == F_COUNT                              ? ALCH_BIGINT
              : f == F_AVG || (f == F_SUM && is_int(t)) ? ALCH_NUMERIC
                                                        : t;
    return e;
}

alch_expr *alch_count_all(void)
{
    return func(F_COUNT, NULL);
}

alch_expr *alch_count(alch_expr *a)
{
    return a ? func(F_COUNT, a) : NULL;
}

alch_expr *alch_sum(alch_expr *a)
{
    return a ? func(F_SUM, a) : NULL;
}

alch_expr *alch_avg(alch_expr *a)
{
    return a ? func(F_AVG, a) : NULL;
}

alch_expr *alch_min(alch_expr *a)
{
    return a ? func(F_MIN, a) : NULL;
}

alch_expr *alch_max(alch_expr *a)
{
    return a ? func(F_MAX, a) : NULL;
}

alch_expr *alch_label(alch_expr *a, const char *name)
{
    if (!name || !*name) {
        sink(a);
        return error_node(ALCH_EMISUSE, NULL, "alch_label needs a name");
    }
    alch_expr *e = with_kids(X_LABEL, &a, 1);
    if (e) {
        e->type = type_of(a);
        if (!(e->name = strdup(name))) {
            sink(e);
            return NULL;
        }
    }
    return e;
}

static alch_expr *order(alch_expr *a, int desc)
{
    alch_expr *e = with_kids(X_ORDER, &a, 1);
    if (e)
        e->op = desc;
    return e;
}

alch_expr *alch_asc(alch_expr *a)
{
    return order(a, 0);
}

alch_expr *alch_desc(alch_expr *a)
{
    return order(a, 1);
}

alch_expr *alch_nulls(alch_expr *e, alch_nulls_at where)
{
    if (e && e->kind != X_ORDER && e->kind != X_ERROR)
        e = order(e, 0);
    if (e && e->kind == X_ORDER)
        e->nulls = where;
    return e;
}

/* ---- types of expressions ------------------------------------------------------------------ */

bool alch__types_compatible(alch_sql_type a, alch_sql_type b)
{
    if (!a || !b || a == b)
        return true;
    if (is_number(a) && is_number(b))
        return true;
    if (is_text(a) && is_text(b))
        return true;
    return (a == ALCH_DATE || a == ALCH_TIMESTAMPTZ) && (b == ALCH_DATE || b == ALCH_TIMESTAMPTZ);
}

/* The SQL type of an expression; a C value's from its C type (an integer travels as BIGINT). */
static alch_sql_type type_of(const alch_expr *e)
{
    if (!e)
        return 0;
    if (e->kind != X_VALUE)
        return e->type;
    switch (e->val.type) {
    case ALCH_V_BOOL:
        return ALCH_BOOLEAN;
    case ALCH_V_INT:
        return ALCH_BIGINT;
    case ALCH_V_DOUBLE:
        return ALCH_DOUBLE;
    case ALCH_V_TEXT:
        return ALCH_TEXT;
    case ALCH_V_BYTES:
        return ALCH_BYTEA;
    case ALCH_V_NULL:
    case ALCH_V_TOO_BIG: /* never a value node: alch_val() made it an error */
        return 0;
    }
    return 0;
}

/* What an expression is, for a sentence: "items.price", "lower()", "an expression". */
static void describe(const alch_expr *e, char *out, size_t size)
{
    const alch_expr *c = column_of(e);
    if (c)
        snprintf(out, size, "%s.%s", c->model->table, c->col->name);
    else if (e->kind == X_CALL)
        snprintf(out, size, "%s()", e->name);
    else if (e->kind == X_FUNC)
        snprintf(out, size, "%s()", func_name((alch__func)e->op));
    else if (e->kind == X_VALUE)
        snprintf(out, size, "%s", value_kind(e->val.type));
    else
        snprintf(out, size, "an expression");
}

/* Two sides that cannot meet (a text function's result against an INTEGER column, ...):
 * an error node, or NULL. A column against a value is check_pair()'s. */
static alch_expr *check_types(const alch_expr *a, const alch_expr *b, const char *what)
{
    alch_sql_type ta = type_of(a), tb = type_of(b);
    if (alch__types_compatible(ta, tb) ||
        (column_of(a) && (b->kind == X_VALUE || b->kind == X_PARAM)) ||
        (column_of(b) && (a->kind == X_VALUE || a->kind == X_PARAM)))
        return NULL;
    if (b->kind == X_VALUE && fits(ta, b->val.type, false))
        return NULL;
    if (a->kind == X_VALUE && fits(tb, a->val.type, false))
        return NULL;
    char da[80], db[80];
    describe(a, da, sizeof da);
    describe(b, db, sizeof db);
    return error_node(ALCH_ETYPE, "compare like with like: convert one side with alch_cast()",
                      "%s is %s, but it is %s %s, which is %s", da, alch__sql_type_name(ta), what,
                      db, alch__sql_type_name(tb));
}

bool alch__expr_has_window(const alch_expr *e)
{
    if (!e)
        return false;
    if (e->kind == X_OVER)
        return true;
    for (size_t i = 0; i < e->nkids; i++)
        if (alch__expr_has_window(e->kids[i]))
            return true;
    return false;
}

bool alch__expr_has_aggregate(const alch_expr *e)
{
    if (!e || e->kind == X_OVER)
        return false; /* sum(x) OVER (...) is a window, not a grouping */
    if (e->kind == X_FUNC || (e->kind == X_CALL && e->op == 1))
        return true;
    for (size_t i = 0; i < e->nkids; i++)
        if (alch__expr_has_aggregate(e->kids[i]))
            return true;
    return false;
}

/* ---- arithmetic ------------------------------------------------------------------------------ */

static const char *const arith_ops[] = {"+", "-", "*", "/", "%", "||"};

/* The type of a op b for numbers, as PostgreSQL chooses it: the wider integer, or a
 * floating-point or exact decimal as soon as one side is. */
static alch_sql_type number_result(alch_sql_type a, alch_sql_type b)
{
    if (!a || !b)
        return a ? a : b;
    if (a == ALCH_DOUBLE || b == ALCH_DOUBLE || a == ALCH_REAL || b == ALCH_REAL)
        return ALCH_DOUBLE;
    if (a == ALCH_NUMERIC || b == ALCH_NUMERIC)
        return ALCH_NUMERIC;
    return a > b ? a : b; /* SMALLINT < INTEGER < BIGINT in the enum */
}

static alch_expr *arith_error(alch_expr *e, const alch_expr *side, alch_arith_op op)
{
    char d[80];
    describe(side, d, sizeof d);
    if (op == ALCH_CONCAT)
        return checked(e, error_node(ALCH_ETYPE, "cast one side to text with alch_cast(x, ALCH_TEXT)",
                                     "|| joins text, but neither side is text (%s is %s)", d,
                                     alch__sql_type_name(type_of(side))));
    return checked(e, error_node(ALCH_ETYPE,
                                 is_text(type_of(side)) ? "to join texts use alch_concat()" : NULL,
                                 "%s needs numbers, but %s is %s", arith_ops[op], d,
                                 alch__sql_type_name(type_of(side))));
}

alch_expr *alch_arith(alch_expr *a, alch_arith_op op, alch_expr *b)
{
    alch_expr *kids[2] = {a, b};
    alch_expr *e = with_kids(X_ARITH, kids, 2);
    if (!e || has_error(kids, 2))
        return e;
    if ((unsigned)op > ALCH_CONCAT)
        return checked(e, error_node(ALCH_EMISUSE, NULL, "alch_arith: unknown operator %d", op));
    e->op = op;
    alch_sql_type ta = type_of(a), tb = type_of(b);
    if (op == ALCH_CONCAT) {
        if (!is_text(ta) && !is_text(tb) && ta && tb)
            return arith_error(e, a, op);
        e->type = ALCH_TEXT;
        return e;
    }
    if (ta && !is_number(ta))
        return arith_error(e, a, op);
    alch_expr *bad = check_pair(a, b); /* a number column and a string: say so, with the hint */
    if (bad)
        return checked(e, bad);
    if (tb && !is_number(tb))
        return arith_error(e, b, op);
    if ((op == ALCH_DIV || op == ALCH_MOD) && b->kind == X_VALUE &&
        ((b->val.type == ALCH_V_INT && b->val.u.i == 0) ||
         (b->val.type == ALCH_V_DOUBLE && b->val.u.d == 0)))
        return checked(e, error_node(ALCH_EARGUMENT, NULL,
                                     "%s by the value 0: the server would fail with "
                                     "'division by zero'",
                                     op == ALCH_DIV ? "a division" : "a remainder (%)"));
    e->type = number_result(ta, tb);
    return checked(e, check_pair(b, a));
}

alch_expr *alch_neg(alch_expr *a)
{
    alch_expr *e = with_kids(X_NEG, &a, 1);
    if (!e || has_error(&a, 1))
        return e;
    if (type_of(a) && !is_number(type_of(a))) {
        char d[80];
        describe(a, d, sizeof d);
        return checked(e, error_node(ALCH_ETYPE, NULL, "unary minus needs a number, but %s is %s",
                                     d, alch__sql_type_name(type_of(a))));
    }
    e->type = type_of(a);
    return e;
}

/* ---- functions, CASE, CAST, EXTRACT ---------------------------------------------------------- */

/* A name that is safe as SQL text: letters, digits and '_', a '.' between parts. */
static bool plain_name(const char *s)
{
    if (!s || !*s || strlen(s) > 63)
        return false;
    bool start = true;
    for (; *s; s++) {
        bool letter = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_';
        bool digit = *s >= '0' && *s <= '9';
        if (*s == '.' && !start)
            start = true;
        else if (letter || (digit && !start))
            start = false;
        else
            return false;
    }
    return !start;
}

static alch_expr *call(const char *name, alch_sql_type result, alch_expr *const *args, size_t n,
                       bool distinct)
{
    if (!plain_name(name)) {
        for (size_t i = 0; args && i < n; i++)
            sink(args[i]);
        return error_node(ALCH_EARGUMENT, "a function name is SQL text, never a value",
                          "'%s' is not a function name: use letters, digits and '_'",
                          name ? name : "(NULL)");
    }
    if (n && !args)
        return error_node(ALCH_EMISUSE, NULL, "alch_func_list: %zu arguments announced, none given",
                          n);
    alch_expr *e = with_kids(X_CALL, args, n);
    if (!e)
        return NULL;
    e->type = result;
    e->op = distinct;
    if (!(e->name = strdup(name))) {
        sink(e);
        return NULL;
    }
    return e;
}

alch_expr *alch_func_list(const char *name, alch_sql_type result, alch_expr *const *args, size_t n)
{
    return call(name, result, args, n, false);
}

alch_expr *alch_count_distinct(alch_expr *a)
{
    return a ? call("count", ALCH_BIGINT, &a, 1, true) : NULL;
}

alch_expr *alch_row_number(void)
{
    return call("row_number", ALCH_BIGINT, NULL, 0, false);
}

alch_expr *alch_rank(void)
{
    return call("rank", ALCH_BIGINT, NULL, 0, false);
}

alch_expr *alch_case_list(alch_expr *const *parts, size_t n)
{
    if (n < 2 || !parts) {
        for (size_t i = 0; parts && i < n; i++)
            sink(parts[i]);
        return error_node(ALCH_EMISUSE, NULL,
                          "alch_case needs a condition and its result at least");
    }
    alch_expr *e = with_kids(X_CASE, parts, n);
    if (!e || has_error(parts, n))
        return e;
    e->op = n % 2; /* an odd count ends with the ELSE */
    const alch_expr *first = NULL;
    for (size_t i = 0; i < n; i++) {
        bool cond = i % 2 == 0 && i + 1 < n;
        const alch_expr *k = parts[i];
        if (cond && type_of(k) && type_of(k) != ALCH_BOOLEAN) {
            char d[80];
            describe(k, d, sizeof d);
            return checked(e, error_node(ALCH_ETYPE, "write a condition, e.g. alch_gt(col, 100)",
                                         "WHEN needs a condition, but %s is %s", d,
                                         alch__sql_type_name(type_of(k))));
        }
        if (cond || !type_of(k))
            continue;
        if (!first) {
            first = k;
            e->type = type_of(k);
            continue;
        }
        if (!alch__types_compatible(type_of(first), type_of(k))) {
            char d1[80], d2[80];
            describe(first, d1, sizeof d1);
            describe(k, d2, sizeof d2);
            return checked(e, error_node(ALCH_ETYPE, "convert one with alch_cast()",
                                         "the results of a CASE must have one type, but %s is "
                                         "%s and %s is %s",
                                         d1, alch__sql_type_name(type_of(first)), d2,
                                         alch__sql_type_name(type_of(k))));
        }
    }
    return e;
}

alch_expr *alch_cast(alch_expr *a, alch_sql_type type)
{
    alch_expr *e = with_kids(X_CAST, &a, 1);
    if (!e || has_error(&a, 1))
        return e;
    if (type < ALCH_SMALLINT || type > ALCH_JSONB)
        return checked(e, error_node(ALCH_EMISUSE, NULL, "alch_cast: unknown SQL type %d", type));
    e->type = type;
    return e;
}

alch_expr *alch_extract(const char *field, alch_expr *a)
{
    static const char *const fields[] = {"year",  "month",   "day",   "hour", "minute", "second",
                                         "dow",   "isodow",  "doy",   "week", "quarter", "epoch",
                                         "decade", "century", "milliseconds", "microseconds"};
    alch_expr *e = with_kids(X_EXTRACT, &a, 1);
    if (!e || has_error(&a, 1))
        return e;
    const char *known = NULL;
    for (size_t i = 0; field && i < sizeof fields / sizeof *fields && !known; i++)
        if (strcmp(field, fields[i]) == 0)
            known = fields[i];
    if (!known) {
        const char *near = field ? alch__suggest(field, fields, sizeof fields / sizeof *fields)
                                 : NULL;
        return checked(e, error_node(ALCH_EARGUMENT, NULL,
                                     "EXTRACT has no field '%s'%s%s%s", field ? field : "(NULL)",
                                     near ? " (did you mean '" : "", near ? near : "",
                                     near ? "'?)" : ""));
    }
    alch_sql_type t = type_of(a);
    if (t && t != ALCH_DATE && t != ALCH_TIMESTAMPTZ) {
        char d[80];
        describe(a, d, sizeof d);
        return checked(e, error_node(ALCH_ETYPE, NULL,
                                     "EXTRACT reads a date or a timestamp, but %s is %s", d,
                                     alch__sql_type_name(t)));
    }
    e->name = strdup(known);
    if (!e->name) {
        sink(e);
        return NULL;
    }
    e->type = ALCH_NUMERIC;
    return e;
}

/* ---- window functions ------------------------------------------------------------------------- */

alch_expr *alch_over(alch_expr *fn, alch_expr *partition, alch_expr *order)
{
    alch_expr *kids[3] = {fn, partition ? partition : order, order};
    size_t n = 1 + (partition != NULL) + (order != NULL);
    alch_expr *e = with_kids(X_OVER, kids, n);
    if (!e || has_error(kids, n))
        return e;
    e->op = partition != NULL; /* how many kids after fn are the partition */
    e->type = fn->type;
    if (fn->kind != X_CALL && fn->kind != X_FUNC)
        return checked(e, error_node(ALCH_EMISUSE, "use alch_row_number(), alch_rank(), an "
                                                   "aggregate or alch_func()",
                                     "OVER applies to a function"));
    return e;
}
