/* Statements: what a SELECT, INSERT, UPDATE or DELETE is made of. Each builder call records
 * its part and marks the rendering stale; the first mistake is kept on the statement and
 * returned by whatever runs it (the calls chain, so checking each one would be a burden). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "driver/error_internal.h"
#include "statement/statement_internal.h"

void alch__stmt_fail(alch_stmt *st, int code, const char *fmt, ...)
{
    if (!st || st->error)
        return; /* the first mistake is the one to fix */
    alch_error *err = calloc(1, sizeof *err);
    if (!err)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    alch__error_set(err, code, "%s", msg);
    st->error = err;
}

static void keep_error(alch_stmt *st, const alch_error *src)
{
    if (!st->error && (st->error = calloc(1, sizeof *st->error)) != NULL)
        alch__error_copy(st->error, src);
}

static alch_stmt *new_stmt(alch__skind kind, const alch_model *model)
{
    alch_stmt *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->kind = kind;
    st->model = model;
    st->dirty = true;
    if (!model)
        alch__stmt_fail(st, ALCH_EMISUSE, "no model given (NULL)");
    return st;
}

/* Take an expression into a list, reporting a NULL (out of memory) or a mistake inside it. */
static void push(alch_stmt *st, alch__xlist *l, alch_expr *e)
{
    if (!st) {
        alch_expr_free(e);
        return;
    }
    st->dirty = true;
    if (!e) {
        alch__stmt_fail(st, ALCH_ENOMEM,
                        "out of memory while building the statement "
                        "(or a NULL expression was given)");
        return;
    }
    const alch_error *bad = alch__expr_find_error(e);
    if (bad)
        keep_error(st, bad);
    alch_expr **v = alch__grow(l->v, &l->cap, l->n, sizeof *v, 4);
    if (!v) {
        alch_expr_free(e);
        alch__stmt_fail(st, ALCH_ENOMEM, "out of memory");
        return;
    }
    l->v = v;
    alch__expr_take(e);
    l->v[l->n++] = e;
}

static void list_free(alch__xlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        alch__expr_drop(l->v[i]);
    free(l->v);
    *l = (alch__xlist){NULL, 0, 0};
}

alch_stmt *alch_select(const alch_model *model)
{
    return new_stmt(S_SELECT, model);
}

alch_stmt *alch_select_list(alch_expr *const *cols, size_t n)
{
    alch_stmt *st = calloc(1, sizeof *st);
    if (!st) {
        for (size_t i = 0; i < n && cols; i++)
            alch_expr_free(cols[i]);
        return NULL;
    }
    st->kind = S_SELECT;
    st->dirty = true;
    if (!cols || n == 0)
        alch__stmt_fail(st, ALCH_EMISUSE, "alch_select_list needs at least one column");
    for (size_t i = 0; cols && i < n; i++)
        push(st, &st->cols, cols[i]);
    return st;
}

static bool is_kind(alch_stmt *st, unsigned kinds, const char *call)
{
    if (!st)
        return false;
    if (kinds & (1u << st->kind))
        return true;
    static const char *const names[] = {"SELECT", "INSERT", "UPDATE", "DELETE",
                                        "a set operation (UNION, ...)"};
    alch__stmt_fail(st, ALCH_EMISUSE, "%s does not apply to %s", call, names[st->kind]);
    return false;
}

#define SEL (1u << S_SELECT)
#define INS (1u << S_INSERT)
#define UPD (1u << S_UPDATE)
#define DEL (1u << S_DELETE)
#define CMP (1u << S_COMPOUND)

alch_stmt *alch_select_from(alch_stmt *st, const alch_model *model)
{
    if (is_kind(st, SEL, "alch_select_from")) {
        st->from = model;
        st->dirty = true;
    }
    return st;
}

/* A window is computed after WHERE, GROUP BY and HAVING: it cannot be used in them. */
static void no_window(alch_stmt *st, const alch_expr *e, const char *clause)
{
    if (alch__expr_has_window(e))
        alch__stmt_fail(st, ALCH_EMISUSE,
                        "a window function (... OVER) cannot be used in %s: windows are computed "
                        "after %s; select it in a CTE (alch_cte_create) and filter the CTE's "
                        "column",
                        clause, strcmp(clause, "WHERE") == 0 ? "WHERE has filtered the rows"
                                                             : "the rows are grouped");
}

alch_stmt *alch_where(alch_stmt *st, alch_expr *cond)
{
    if (!is_kind(st, SEL | UPD | DEL, "alch_where")) {
        alch_expr_free(cond);
        return st;
    }
    no_window(st, cond, "WHERE");
    push(st, &st->where, cond);
    return st;
}

static alch_stmt *list_add(alch_stmt *st, unsigned kinds, alch__xlist *l, alch_expr *e,
                           const char *call)
{
    if (!is_kind(st, kinds, call)) {
        alch_expr_free(e);
        return st;
    }
    if (l != &st->order)
        no_window(st, e, l == &st->group ? "GROUP BY" : "HAVING");
    push(st, l, e);
    return st;
}

alch_stmt *alch_order_by(alch_stmt *st, alch_expr *order)
{
    return list_add(st, SEL | CMP, st ? &st->order : NULL, order, "alch_order_by");
}

alch_stmt *alch_group_by(alch_stmt *st, alch_expr *e)
{
    return list_add(st, SEL, st ? &st->group : NULL, e, "alch_group_by");
}

alch_stmt *alch_having(alch_stmt *st, alch_expr *cond)
{
    return list_add(st, SEL, st ? &st->having : NULL, cond, "alch_having");
}

static alch_stmt *limit(alch_stmt *st, alch_value *slot, int64_t n, const char *what)
{
    if (!is_kind(st, SEL | CMP, what))
        return st;
    if (n < 0)
        alch__stmt_fail(st, ALCH_EARGUMENT, "%s(%lld): the count cannot be negative", what,
                        (long long)n);
    *slot = alch_int(n);
    st->dirty = true;
    return st;
}

alch_stmt *alch_limit(alch_stmt *st, int64_t n)
{
    return limit(st, st ? &st->limit : NULL, n, "alch_limit");
}

alch_stmt *alch_offset(alch_stmt *st, int64_t n)
{
    return limit(st, st ? &st->offset : NULL, n, "alch_offset");
}

alch_stmt *alch_distinct(alch_stmt *st)
{
    if (is_kind(st, SEL, "alch_distinct")) {
        st->distinct = true;
        st->dirty = true;
    }
    return st;
}

/* ---- joins ---------------------------------------------------------------------------- */

static alch_stmt *join(alch_stmt *st, const alch_model *model, alch_expr *cond, bool outer,
                       bool by_fk)
{
    if (!is_kind(st, SEL, outer ? "alch_outerjoin" : "alch_join")) {
        alch_expr_free(cond);
        return st;
    }
    if (!model) {
        alch_expr_free(cond);
        alch__stmt_fail(st, ALCH_EMISUSE, "join: no model given (NULL)");
        return st;
    }
    alch__join *v = alch__grow(st->joins, &st->capjoins, st->njoins, sizeof *v, 2);
    if (!v) {
        alch_expr_free(cond);
        alch__stmt_fail(st, ALCH_ENOMEM, "out of memory");
        return st;
    }
    st->joins = v;
    if (by_fk) { /* its condition is found when the statement is rendered (render.c) */
        st->joins[st->njoins++] = (alch__join){model, NULL, outer, alch__stmt_from(st)};
        st->dirty = true;
        return st;
    }
    /* the condition lives in a one-element list, so push() checks it like any other */
    alch__xlist l = {NULL, 0, 0};
    push(st, &l, cond);
    if (l.n == 0)
        return st;
    st->joins[st->njoins++] = (alch__join){model, l.v[0], outer, NULL};
    free(l.v);
    return st;
}

alch_stmt *alch_join(alch_stmt *st, const alch_model *model)
{
    return join(st, model, NULL, false, true);
}

alch_stmt *alch_join_on(alch_stmt *st, const alch_model *model, alch_expr *cond)
{
    return join(st, model, cond, false, false);
}

alch_stmt *alch_outerjoin(alch_stmt *st, const alch_model *model)
{
    return join(st, model, NULL, true, true);
}

alch_stmt *alch_outerjoin_on(alch_stmt *st, const alch_model *model, alch_expr *cond)
{
    return join(st, model, cond, true, false);
}

alch_stmt *alch_selectin(alch_stmt *st, const char *relationship)
{
    if (!is_kind(st, SEL, "alch_selectin"))
        return st;
    if (!relationship || st->cols.n) {
        alch__stmt_fail(st, ALCH_EMISUSE,
                        "alch_selectin needs a SELECT of a model and a "
                        "relationship name");
        return st;
    }
    if (st->neager == sizeof st->eager / sizeof st->eager[0]) {
        alch__stmt_fail(st, ALCH_EARGUMENT, "alch_selectin: at most 8 relationships");
        return st;
    }
    if (!(st->eager[st->neager] = strdup(relationship)))
        alch__stmt_fail(st, ALCH_ENOMEM, "out of memory");
    else
        st->neager++;
    return st;
}

size_t alch__stmt_eager(const alch_stmt *st, const char *const **names)
{
    *names = (const char *const *)st->eager;
    return st->neager;
}

/* ---- INSERT, UPDATE, DELETE -------------------------------------------------------------- */

alch_stmt *alch_insert(const alch_model *model)
{
    return new_stmt(S_INSERT, model);
}

alch_stmt *alch_update(const alch_model *model)
{
    return new_stmt(S_UPDATE, model);
}

alch_stmt *alch_delete(const alch_model *model)
{
    return new_stmt(S_DELETE, model);
}

/* A column of the statement's own table, or NULL after recording why not. */
static const alch_expr *own_column(alch_stmt *st, const alch_expr *c, const char *call)
{
    if (!c || c->kind == X_ERROR)
        return NULL; /* push() reports it */
    if (c->kind != X_COLUMN) {
        alch__stmt_fail(st, ALCH_EMISUSE, "%s needs a column", call);
        return NULL;
    }
    if (c->model != st->model && st->model) {
        alch__stmt_fail(st, ALCH_EARGUMENT,
                        "%s: %s.%s is not a column of %s, the table this "
                        "statement writes",
                        call, c->model->table, c->col->name, st->model->table);
        return NULL;
    }
    return c;
}

alch_stmt *alch_set_expr(alch_stmt *st, alch_expr *column, alch_expr *value)
{
    if (st && st->source) {
        alch__stmt_fail(st, ALCH_EMISUSE,
                        "alch_set: this INSERT takes its rows from a SELECT "
                        "(alch_insert_from_select)");
        alch_expr_free(column);
        alch_expr_free(value);
        return st;
    }
    if (!is_kind(st, INS | UPD, "alch_set")) {
        alch_expr_free(column);
        alch_expr_free(value);
        return st;
    }
    const alch_expr *c = own_column(st, column, "alch_set");
    if (c && value && value->kind == X_VALUE) {
        alch_error err = ALCH_ERROR_INIT;
        if (alch__value_fits(c->col, c->model->table, &value->val, true, &err) != 0)
            keep_error(st, &err);
        alch_error_clear(&err);
    } else if (c && value && value->kind == X_PARAM) {
        value->about = c->col;
        value->model = c->model;
        value->op = 1; /* a value to store: NULL and length rules apply at bind */
    } else if (c && value && !alch__types_compatible(c->col->type, value->type)) {
        alch__stmt_fail(st, ALCH_ETYPE, "%s.%s is %s, but the expression given for it is %s",
                        c->model->table, c->col->name, alch__sql_type_name(c->col->type),
                        alch__sql_type_name(value->type));
    }
    for (size_t i = st->row_start; c && i < st->set_cols.n; i++)
        if (st->set_cols.v[i]->col == c->col)
            alch__stmt_fail(st, ALCH_EARGUMENT, "alch_set: %s.%s is set twice", c->model->table,
                            c->col->name);
    push(st, &st->set_cols, column);
    push(st, &st->set_vals, value);
    return st;
}

/* Whether the row starting at `start` sets the same columns as the first row. */
bool alch__row_matches(const alch_stmt *st, size_t start)
{
    if (st->set_cols.n - start < st->row_len)
        return false;
    for (size_t j = 0; j < st->row_len; j++) {
        bool found = false;
        for (size_t k = start; k < start + st->row_len && !found; k++)
            found = st->set_cols.v[k]->col == st->set_cols.v[j]->col;
        if (!found)
            return false;
    }
    return true;
}

alch_stmt *alch_insert_row(alch_stmt *st)
{
    if (!is_kind(st, INS, "alch_insert_row"))
        return st;
    size_t len = st->set_cols.n - st->row_start;
    if (len == 0)
        alch__stmt_fail(st, ALCH_EMISUSE,
                        "alch_insert_row: the current row has no values yet "
                        "(set some with alch_set() first)");
    else if (st->row_len == 0)
        st->row_len = len;
    else if (len != st->row_len || !alch__row_matches(st, st->row_start))
        alch__stmt_fail(st, ALCH_EARGUMENT,
                        "row %zu of the INSERT sets other columns than "
                        "row 1: every row must set the same columns",
                        st->row_start / st->row_len + 1);
    st->row_start = st->set_cols.n;
    return st;
}

alch_stmt *alch_on_conflict_do_nothing(alch_stmt *st, alch_expr *target)
{
    if (!is_kind(st, INS, "alch_on_conflict_do_nothing")) {
        alch_expr_free(target);
        return st;
    }
    st->conflict = C_NOTHING;
    if (target) {
        alch__xlist l = {NULL, 0, 0};
        push(st, &l, target);
        st->conflict_target = l.n ? l.v[0] : NULL;
        free(l.v);
        own_column(st, target, "alch_on_conflict_do_nothing");
    }
    return st;
}

alch_stmt *alch_on_conflict_do_update(alch_stmt *st, alch_expr *target, alch_expr *const *cols,
                                      size_t n)
{
    if (!is_kind(st, INS, "alch_on_conflict_do_update")) {
        alch_expr_free(target);
        for (size_t i = 0; cols && i < n; i++)
            alch_expr_free(cols[i]);
        return st;
    }
    alch_on_conflict_do_nothing(st, target);
    st->conflict = C_UPDATE;
    if (!target)
        alch__stmt_fail(st, ALCH_EMISUSE, "ON CONFLICT DO UPDATE needs the conflicting column");
    if (!cols || n == 0)
        alch__stmt_fail(st, ALCH_EMISUSE, "ON CONFLICT DO UPDATE needs columns to update");
    for (size_t i = 0; cols && i < n; i++) {
        own_column(st, cols[i], "alch_on_conflict_do_update");
        push(st, &st->conflict_cols, cols[i]);
    }
    return st;
}

alch_stmt *alch_returning(alch_stmt *st, alch_expr *e)
{
    if (!is_kind(st, INS | UPD | DEL, "alch_returning")) {
        alch_expr_free(e);
        return st;
    }
    push(st, &st->returning, e);
    return st;
}

alch_stmt *alch_returning_model(alch_stmt *st)
{
    if (is_kind(st, INS | UPD | DEL, "alch_returning_model")) {
        st->returning_model = true;
        st->dirty = true;
    }
    return st;
}

alch_stmt *alch_where_pk_in(alch_stmt *st, const alch_value *ids, size_t n)
{
    if (!is_kind(st, SEL | UPD | DEL, "alch_where_pk_in"))
        return st;
    const alch_model *m = st->model;
    const alch_column *pk = NULL;
    for (size_t i = 0; m && i < m->ncolumns && !pk; i++)
        if (m->columns[i].primary_key)
            pk = &m->columns[i];
    if (!pk) {
        alch__stmt_fail(st, ALCH_EARGUMENT,
                        "alch_where_pk_in: %s has no primary key to list; choose the rows with "
                        "alch_where(st, alch_in(column, values, n))",
                        m ? m->table : "this statement");
        return st;
    }
    return alch_where(st, alch_in(alch_col(m, pk->name), ids, n));
}

/* Adopt a statement as a part of another (a set operation's side, INSERT's source). */
static bool adopt(alch_stmt *st, alch_stmt *part, const char *call)
{
    const char *why = !part                                                ? "no statement (NULL)"
                      : part->owned                                        ? "the statement is already part of another"
                      : part->kind != S_SELECT && part->kind != S_COMPOUND ? "it must be a SELECT"
                                                                           : NULL;
    if (!why) {
        part->owned = true;
        if (part->error)
            keep_error(st, part->error);
        return true;
    }
    alch__stmt_fail(st, ALCH_EMISUSE, "%s: %s", call, why);
    if (part && !part->owned)
        alch_stmt_free(part);
    return false;
}

/* The two sides of a set operation, or an INSERT and its SELECT, line up column by column. */
static void check_columns(alch_stmt *st, const alch_stmt *a, const alch_stmt *b, const char *what)
{
    size_t na = alch__stmt_ncols(a), nb = alch__stmt_ncols(b);
    if (na != nb) {
        alch__stmt_fail(st, ALCH_EARGUMENT,
                        "%s: the first side has %zu column%s, the second %zu: both must have "
                        "as many",
                        what, na, na == 1 ? "" : "s", nb);
        return;
    }
    for (size_t i = 0; i < na; i++) {
        alch_sql_type ta = alch__stmt_col_type(a, i), tb = alch__stmt_col_type(b, i);
        if (!alch__types_compatible(ta, tb))
            alch__stmt_fail(st, ALCH_ETYPE, "%s: column %zu is %s on the first side, %s on the second",
                            what, i + 1, alch__sql_type_name(ta), alch__sql_type_name(tb));
    }
}

alch_stmt *alch_set_operation(alch_stmt *a, alch_setop op, alch_stmt *b)
{
    static const char *const names[] = {"UNION",         "UNION ALL", "INTERSECT",
                                        "INTERSECT ALL", "EXCEPT",    "EXCEPT ALL"};
    alch_stmt *st = calloc(1, sizeof *st);
    if (!st) {
        alch_stmt_free(a);
        alch_stmt_free(b);
        return NULL;
    }
    st->kind = S_COMPOUND;
    st->dirty = true;
    st->setop = op;
    if ((unsigned)op > ALCH_EXCEPT_ALL) {
        alch__stmt_fail(st, ALCH_EMISUSE, "alch_set_operation: unknown operation %d", op);
        op = ALCH_UNION;
    }
    if (adopt(st, a, names[op]))
        st->left = a;
    if (adopt(st, b, names[op]))
        st->right = b;
    if (st->left && st->right)
        check_columns(st, a, b, names[op]);
    return st;
}

alch_stmt *alch_with_for_update(alch_stmt *st, alch_lock_mode mode, alch_lock_wait wait)
{
    if (!is_kind(st, SEL, "alch_with_for_update"))
        return st;
    if ((unsigned)mode > ALCH_FOR_KEY_SHARE || (unsigned)wait > ALCH_SKIP_LOCKED)
        alch__stmt_fail(st, ALCH_EMISUSE, "alch_with_for_update: unknown mode or wait");
    st->lock = mode;
    st->lock_wait = wait;
    st->dirty = true;
    return st;
}

alch_stmt *alch__insert_arrays(alch_stmt *st)
{
    if (is_kind(st, INS, "alch__insert_arrays"))
        st->arrays = true;
    return st;
}

alch_stmt *alch__insert_arrays_keyed(alch_stmt *st)
{
    if (is_kind(st, INS, "alch__insert_arrays_keyed"))
        st->arrays = st->arrays_keyed = true;
    return st;
}

alch_stmt *alch_insert_from_select(alch_stmt *st, alch_stmt *select, alch_expr *const *cols,
                                   size_t n)
{
    if (!is_kind(st, INS, "alch_insert_from_select") || st->set_cols.n || st->source) {
        if (st && st->kind == S_INSERT)
            alch__stmt_fail(st, ALCH_EMISUSE,
                            "alch_insert_from_select: this INSERT already has its values");
        for (size_t i = 0; cols && i < n; i++)
            alch_expr_free(cols[i]);
        alch_stmt_free(select);
        return st;
    }
    if (!cols || n == 0)
        alch__stmt_fail(st, ALCH_EMISUSE, "alch_insert_from_select needs the target columns");
    for (size_t i = 0; cols && i < n; i++) {
        own_column(st, cols[i], "alch_insert_from_select");
        push(st, &st->set_cols, cols[i]);
    }
    if (!adopt(st, select, "alch_insert_from_select"))
        return st;
    st->source = select;
    size_t ns = alch__stmt_ncols(select);
    if (ns != st->set_cols.n) {
        alch__stmt_fail(st, ALCH_EARGUMENT,
                        "INSERT ... SELECT: %zu target column%s, but the SELECT gives %zu",
                        st->set_cols.n, st->set_cols.n == 1 ? "" : "s", ns);
        return st;
    }
    for (size_t i = 0; i < ns; i++) {
        const alch_expr *c = st->set_cols.v[i];
        alch_sql_type t = alch__stmt_col_type(select, i);
        if (c->kind == X_COLUMN && !alch__types_compatible(c->col->type, t))
            alch__stmt_fail(st, ALCH_ETYPE,
                            "INSERT ... SELECT: %s.%s is %s, but the SELECT gives %s for it",
                            c->model->table, c->col->name, alch__sql_type_name(c->col->type),
                            alch__sql_type_name(t));
    }
    return st;
}

/* ---- the shape of a SELECT --------------------------------------------------------------------- */

static const alch_stmt *first_select(const alch_stmt *st)
{
    while (st && st->kind == S_COMPOUND)
        st = st->left;
    return st;
}

size_t alch__stmt_ncols(const alch_stmt *st)
{
    st = first_select(st);
    if (!st)
        return 0;
    return st->cols.n ? st->cols.n : st->model ? st->model->ncolumns : 0;
}

alch_sql_type alch__stmt_col_type(const alch_stmt *st, size_t i)
{
    st = first_select(st);
    if (!st)
        return 0;
    if (st->cols.n)
        return i < st->cols.n ? st->cols.v[i]->type : 0;
    return st->model && i < st->model->ncolumns ? st->model->columns[i].type : 0;
}

const char *alch__stmt_col_name(const alch_stmt *st, size_t i)
{
    st = first_select(st);
    if (!st)
        return NULL;
    if (!st->cols.n)
        return st->model && i < st->model->ncolumns ? st->model->columns[i].name : NULL;
    const alch_expr *e = i < st->cols.n ? st->cols.v[i] : NULL;
    if (e && e->kind == X_LABEL)
        return e->name;
    return e && e->kind == X_COLUMN ? e->col->name : NULL;
}

/* ---- using a statement ------------------------------------------------------------------- */

const alch_model *alch_stmt_model(const alch_stmt *st)
{
    if (!st)
        return NULL;
    const alch_model *m = NULL;
    if (st->kind == S_SELECT)
        m = st->cols.n == 0 ? st->model : NULL;
    else if (st->kind != S_COMPOUND)
        m = st->returning_model ? st->model : NULL;
    return m && m->size ? m : NULL; /* a Core table or a CTE has no struct */
}

bool alch__stmt_writes(const alch_stmt *st)
{
    return st && st->kind != S_SELECT && st->kind != S_COMPOUND;
}

const alch_error *alch_stmt_error(const alch_stmt *st)
{
    return st ? st->error : NULL;
}

int alch_stmt_bind(alch_stmt *st, const char *name, alch_value v, alch_error *err)
{
    if (!st || !name)
        return alch__error_set(err, ALCH_EMISUSE, "alch_stmt_bind needs a statement and a name");
    if (st->dirty) {
        int rc = alch__stmt_render(st, NULL, err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < st->nbinds; i++) {
        alch__bind *b = &st->binds[i];
        if (strcmp(b->name, name) != 0)
            continue;
        if (b->about) { /* the same check the value would have had in the builder */
            int rc = alch__value_fits(b->about, b->model->table, &v, b->assign, err);
            if (rc)
                return rc;
        }
        char *copy = NULL;
        if (v.type == ALCH_V_TEXT || v.type == ALCH_V_BYTES) {
            copy = malloc(v.len + 1);
            if (!copy)
                return alch__error_set(err, ALCH_ENOMEM, "out of memory");
            if (v.len)
                memcpy(copy, v.u.s, v.len);
            copy[v.len] = '\0';
            v.u.s = copy;
        }
        free(b->copy);
        b->copy = copy;
        v.name = NULL;
        b->v = v;
        b->set = true;
        return 0;
    }
    return alch__error_set(err, ALCH_EARGUMENT, "the statement has no placeholder named '%s'",
                           name);
}

void alch_stmt_free(alch_stmt *st)
{
    if (!st || st->owned)
        return;
    list_free(&st->cols);
    for (size_t i = 0; i < st->njoins; i++)
        alch__expr_drop(st->joins[i].on);
    free(st->joins);
    list_free(&st->where);
    list_free(&st->order);
    list_free(&st->group);
    list_free(&st->having);
    list_free(&st->returning);
    list_free(&st->set_cols);
    list_free(&st->set_vals);
    alch__expr_drop(st->conflict_target);
    list_free(&st->conflict_cols);
    alch_stmt *subs[] = {st->left, st->right, st->source};
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (subs[i]) {
            subs[i]->owned = false;
            alch_stmt_free(subs[i]);
        }
    if (st->error) {
        alch_error_clear(st->error);
        free(st->error);
    }
    for (size_t i = 0; i < st->nbinds; i++) {
        free(st->binds[i].name);
        free(st->binds[i].copy);
    }
    free(st->binds);
    for (size_t i = 0; i < st->neager; i++)
        free(st->eager[i]);
    free(st->sql);
    free(st->params);
    free(st->param_bind);
    free(st);
}
