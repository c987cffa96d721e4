/* Rendering a statement to SQL text with `$n` placeholders, and the values that go with them.
 * This is the one place SQL text is put together from a statement: identifiers go through
 * alch__buf_ident (quoted when needed), values only ever become `$n`. */
#include <stdlib.h>
#include <string.h>

#include "base/base_internal.h"
#include "driver/error_internal.h"
#include "statement/statement_internal.h"

/* The tables a part of a statement may name: its FROM and joins, then the enclosing
 * statement's (a correlated subquery may use those). */
typedef struct scope {
    const alch_model *m[16];
    size_t n;
    const struct scope *outer;
} scope;

typedef struct rctx {
    alch_stmt *top; /* owns the parameters and placeholders */
    const alch_base *base; /* the running session's, for the joins' mappers; or NULL */
    alch__buf sql;
    alch_error *err;
    int rc;
    bool bare;                /* columns by name alone: a set operation's ORDER BY */
    const alch_cte *ctes[16]; /* the CTEs declared by an enclosing WITH */
    size_t nctes;
} rctx;

static void render_query(rctx *r, alch_stmt *st, const scope *outer);

static void fail(rctx *r, int code, const char *what)
{
    if (r->rc == 0)
        r->rc = alch__error_set(r->err, code, "%s", what);
}

const alch_model *alch__stmt_from(const alch_stmt *st)
{
    if (st->from)
        return st->from;
    if (st->model)
        return st->model;
    for (size_t i = 0; i < st->cols.n; i++) {
        const alch_expr *e = st->cols.v[i];
        while (e && e->kind != X_COLUMN && e->nkids > 0)
            e = e->kids[0]; /* count(items.id) AS n: the column inside */
        if (e && e->kind == X_COLUMN)
            return e->model;
    }
    return NULL;
}

static bool in_scope(const scope *sc, const alch_model *m)
{
    for (; sc; sc = sc->outer)
        for (size_t i = 0; i < sc->n; i++)
            if (sc->m[i] == m)
                return true;
    return false;
}

static void scope_add(scope *sc, const alch_model *m)
{
    if (sc->n < sizeof sc->m / sizeof sc->m[0])
        sc->m[sc->n++] = m;
}

/* ---- parameters -------------------------------------------------------------------------- */

static void add_param(rctx *r, const alch_value *v, int bind)
{
    alch_stmt *st = r->top;
    void *arrays[] = {st->params, st->param_bind};
    const size_t sizes[] = {sizeof *st->params, sizeof *st->param_bind};
    bool ok = alch__grow_parallel(arrays, sizes, 2, &st->capparams, st->nparams, 8);
    st->params = arrays[0];
    st->param_bind = arrays[1];
    if (!ok) {
        fail(r, ALCH_ENOMEM, "out of memory");
        return;
    }
    st->params[st->nparams] = v ? *v : alch_null();
    st->param_bind[st->nparams] = bind;
    st->nparams++;
    alch__buf_printf(&r->sql, "$%zu", st->nparams);
}

/* The placeholder's slot among the statement's binds, made on first sight. */
static int bind_slot(rctx *r, const alch_expr *e)
{
    alch_stmt *st = r->top;
    for (size_t i = 0; i < st->nbinds; i++)
        if (strcmp(st->binds[i].name, e->name) == 0) {
            if (e->about && !st->binds[i].about) {
                st->binds[i].about = e->about;
                st->binds[i].model = e->model;
                st->binds[i].assign = e->op == 1;
            }
            return (int)i;
        }
    alch__bind *v = alch__grow(st->binds, &st->capbinds, st->nbinds, sizeof *v, 4);
    if (!v)
        return -1;
    st->binds = v;
    char *name = strdup(e->name);
    if (!name)
        return -1;
    st->binds[st->nbinds] =
        (alch__bind){name, e->about, e->model, e->op == 1, alch_null(), NULL, false};
    return (int)st->nbinds++;
}

/* ---- expressions -------------------------------------------------------------------------- */

static void render_expr(rctx *r, const scope *sc, const alch_expr *e, bool nested);

static void render_column(rctx *r, const scope *sc, const alch_expr *e)
{
    if (r->bare) { /* ORDER BY of a UNION names the output columns */
        alch__buf_ident(&r->sql, e->col->name);
        return;
    }
    if (!in_scope(sc, e->model) && r->rc == 0) {
        r->rc = alch__error_set(r->err, ALCH_EARGUMENT,
                                "%s.%s belongs to table %s, which this statement neither selects "
                                "from nor joins",
                                e->model->table, e->col->name, e->model->table);
        alch__error_hint(r->err, "add alch_join(st, &%s_model), or alch_select_from()",
                         e->model->name);
    }
    alch__buf_ident(&r->sql, e->model->table);
    alch__buf_putc(&r->sql, '.');
    alch__buf_ident(&r->sql, e->col->name);
}

static void render_kids(rctx *r, const scope *sc, const alch_expr *e, size_t from, const char *sep,
                        bool nested)
{
    for (size_t i = from; i < e->nkids; i++) {
        if (i > from)
            alch__buf_puts(&r->sql, sep);
        render_expr(r, sc, e->kids[i], nested);
    }
}

static void render_sub(rctx *r, const scope *sc, alch_stmt *sub)
{
    alch__buf_putc(&r->sql, '(');
    render_query(r, sub, sc);
    alch__buf_putc(&r->sql, ')');
}

/* A comparison, LIKE, IS NULL, BETWEEN or IN: its operands are always nested. */
static void render_predicate(rctx *r, const scope *sc, const alch_expr *e)
{
    static const char *const cmp[] = {" = ", " <> ", " < ", " <= ", " > ", " >= "};
    switch (e->kind) {
    case X_CMP:
        render_expr(r, sc, e->kids[0], true);
        alch__buf_puts(&r->sql, cmp[e->op]);
        render_expr(r, sc, e->kids[1], true);
        return;
    case X_LIKE:
        render_expr(r, sc, e->kids[0], true);
        alch__buf_puts(&r->sql, e->op ? " ILIKE " : " LIKE ");
        render_expr(r, sc, e->kids[1], true);
        return;
    case X_NULLTEST:
        render_expr(r, sc, e->kids[0], true);
        alch__buf_puts(&r->sql, e->op ? " IS NOT NULL" : " IS NULL");
        return;
    case X_BETWEEN:
        render_expr(r, sc, e->kids[0], true);
        alch__buf_puts(&r->sql, " BETWEEN ");
        render_expr(r, sc, e->kids[1], true);
        alch__buf_puts(&r->sql, " AND ");
        render_expr(r, sc, e->kids[2], true);
        return;
    case X_IN:
        if (e->nkids == 1) { /* IN () is not SQL; an empty list matches nothing */
            alch__buf_puts(&r->sql, "false");
            return;
        }
        render_expr(r, sc, e->kids[0], true);
        alch__buf_puts(&r->sql, " IN (");
        render_kids(r, sc, e, 1, ", ", true);
        alch__buf_putc(&r->sql, ')');
        return;
    case X_IN_SELECT:
        render_expr(r, sc, e->kids[0], true);
        alch__buf_puts(&r->sql, " IN ");
        render_sub(r, sc, e->sub);
        return;
    default: /* render_expr() sends only the kinds above */
        return;
    }
}

/* An aggregate, a call, CASE, CAST, EXTRACT or a window: a name and its parentheses. */
static void render_function(rctx *r, const scope *sc, const alch_expr *e)
{
    static const char *const funcs[] = {"count", "sum", "avg", "min", "max"};
    switch (e->kind) {
    case X_FUNC:
        alch__buf_puts(&r->sql, funcs[e->op]);
        alch__buf_putc(&r->sql, '(');
        if (e->nkids)
            render_expr(r, sc, e->kids[0], false);
        else
            alch__buf_putc(&r->sql, '*');
        alch__buf_putc(&r->sql, ')');
        return;
    case X_CALL:
        alch__buf_puts(&r->sql, e->name);
        alch__buf_puts(&r->sql, e->op ? "(DISTINCT " : "(");
        render_kids(r, sc, e, 0, ", ", false);
        alch__buf_putc(&r->sql, ')');
        return;
    case X_CASE:
        alch__buf_puts(&r->sql, "CASE");
        for (size_t i = 0; i + 1 < e->nkids; i += 2) {
            alch__buf_puts(&r->sql, " WHEN ");
            render_expr(r, sc, e->kids[i], false);
            alch__buf_puts(&r->sql, " THEN ");
            render_expr(r, sc, e->kids[i + 1], false);
        }
        if (e->op) {
            alch__buf_puts(&r->sql, " ELSE ");
            render_expr(r, sc, e->kids[e->nkids - 1], false);
        }
        alch__buf_puts(&r->sql, " END");
        return;
    case X_CAST:
        alch__buf_puts(&r->sql, "CAST(");
        render_expr(r, sc, e->kids[0], false);
        alch__buf_printf(&r->sql, " AS %s)", alch__sql_type_name(e->type));
        return;
    case X_EXTRACT:
        alch__buf_printf(&r->sql, "EXTRACT(%s FROM ", e->name);
        render_expr(r, sc, e->kids[0], false);
        alch__buf_putc(&r->sql, ')');
        return;
    case X_OVER:
        render_expr(r, sc, e->kids[0], false);
        alch__buf_puts(&r->sql, " OVER (");
        if (e->op) {
            alch__buf_puts(&r->sql, "PARTITION BY ");
            render_expr(r, sc, e->kids[1], false);
        }
        if (e->nkids > 1 + (size_t)e->op) {
            alch__buf_puts(&r->sql, e->op ? " ORDER BY " : "ORDER BY ");
            render_expr(r, sc, e->kids[e->nkids - 1], false);
        }
        alch__buf_putc(&r->sql, ')');
        return;
    default: /* render_expr() sends only the kinds above */
        return;
    }
}

static void render_expr(rctx *r, const scope *sc, const alch_expr *e, bool nested)
{
    static const char *const ariths[] = {" + ", " - ", " * ", " / ", " % ", " || "};
    switch (e->kind) {
    case X_CMP:
    case X_LIKE:
    case X_NULLTEST:
    case X_BETWEEN:
    case X_IN:
    case X_IN_SELECT:
        render_predicate(r, sc, e);
        return;
    case X_FUNC:
    case X_CALL:
    case X_CASE:
    case X_CAST:
    case X_EXTRACT:
    case X_OVER:
        render_function(r, sc, e);
        return;
    case X_COLUMN:
        render_column(r, sc, e);
        return;
    case X_VALUE:
        add_param(r, &e->val, -1);
        return;
    case X_PARAM: {
        int slot = bind_slot(r, e);
        if (slot < 0)
            fail(r, ALCH_ENOMEM, "out of memory");
        add_param(r, NULL, slot);
        return;
    }
    case X_AND:
    case X_OR:
        if (nested)
            alch__buf_putc(&r->sql, '(');
        render_kids(r, sc, e, 0, e->kind == X_AND ? " AND " : " OR ", true);
        if (nested)
            alch__buf_putc(&r->sql, ')');
        return;
    case X_NOT:
        alch__buf_puts(&r->sql, "NOT (");
        render_expr(r, sc, e->kids[0], false);
        alch__buf_putc(&r->sql, ')');
        return;
    case X_EXISTS:
        alch__buf_puts(&r->sql, "EXISTS ");
        render_sub(r, sc, e->sub);
        return;
    case X_SUBQUERY:
        render_sub(r, sc, e->sub);
        return;
    case X_LABEL:
        alch__buf_ident(&r->sql, e->name);
        return; /* a reference to the output name */
    case X_ORDER:
        render_expr(r, sc, e->kids[0], true);
        alch__buf_puts(&r->sql, e->op ? " DESC" : " ASC");
        if (e->nulls)
            alch__buf_puts(&r->sql, e->nulls == ALCH_NULLS_FIRST ? " NULLS FIRST" : " NULLS LAST");
        return;
    case X_ARITH:
        if (nested)
            alch__buf_putc(&r->sql, '(');
        render_kids(r, sc, e, 0, ariths[e->op], true);
        if (nested)
            alch__buf_putc(&r->sql, ')');
        return;
    case X_NEG: /* (-x) when nested: "- -x" must never become the comment "--x" */
        alch__buf_puts(&r->sql, nested ? "(-" : "-");
        render_expr(r, sc, e->kids[0], true);
        if (nested)
            alch__buf_putc(&r->sql, ')');
        return;
    case X_ERROR:
        if (r->rc == 0)
            r->rc = alch__error_copy(r->err, e->error) ? ALCH_ENOMEM : e->error->code;
        return;
    }
}

/* A comma-separated list; `conds` joins with AND instead (several alch_where() calls). */
static void render_list(rctx *r, const scope *sc, const char *head, const alch__xlist *l,
                        bool conds)
{
    if (l->n == 0)
        return;
    alch__buf_puts(&r->sql, head);
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            alch__buf_puts(&r->sql, conds ? " AND " : ", ");
        render_expr(r, sc, l->v[i], conds && l->n > 1);
    }
}

static void render_model_columns(rctx *r, const alch_model *m)
{
    for (size_t i = 0; i < m->ncolumns; i++) {
        if (i)
            alch__buf_puts(&r->sql, ", ");
        alch__buf_ident(&r->sql, m->table);
        alch__buf_putc(&r->sql, '.');
        alch__buf_ident(&r->sql, m->columns[i].name);
    }
}

/* ---- statements ---------------------------------------------------------------------------- */

/* ---- WITH: the CTEs a SELECT reads, declared in front of it -----------------------------------
 */

static bool declared(const rctx *r, const alch_cte *cte)
{
    for (size_t i = 0; i < r->nctes; i++)
        if (r->ctes[i] == cte)
            return true;
    return false;
}

/* The CTEs a SELECT reads (FROM and joins) that no enclosing WITH declared yet. */
static size_t ctes_needed(const rctx *r, const alch_stmt *st, const alch_cte **out, size_t max)
{
    size_t n = 0;
    if (st->kind != S_SELECT)
        return 0;
    const alch_model *from = alch__stmt_from(st);
    for (size_t i = 0; i <= st->njoins && n < max; i++) {
        const alch_model *m = i == 0 ? from : st->joins[i - 1].model;
        if (!m || !ALCH__IS_CTE(m) || declared(r, (const alch_cte *)m))
            continue;
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup = dup || out[j] == (const alch_cte *)m;
        if (!dup)
            out[n++] = (const alch_cte *)m;
    }
    return n;
}

static void render_with(rctx *r, const alch_stmt *st)
{
    const alch_cte *need[8];
    size_t n = ctes_needed(r, st, need, 8);
    if (n == 0)
        return;
    bool recursive = false;
    for (size_t i = 0; i < n; i++)
        recursive = recursive || need[i]->step;
    alch__buf_puts(&r->sql, recursive ? "WITH RECURSIVE " : "WITH ");
    for (size_t i = 0; i < n; i++) {
        const alch_cte *cte = need[i];
        if (r->nctes == sizeof r->ctes / sizeof r->ctes[0]) {
            fail(r, ALCH_EARGUMENT, "more than 16 CTEs in one statement");
            return;
        }
        r->ctes[r->nctes++] = cte; /* declared before its body: a recursive step reads it */
        if (i)
            alch__buf_puts(&r->sql, ", ");
        alch__buf_ident(&r->sql, cte->name);
        alch__buf_puts(&r->sql, " AS (");
        render_query(r, cte->body, NULL);
        if (cte->step) {
            alch__buf_puts(&r->sql, cte->union_all ? " UNION ALL " : " UNION ");
            render_query(r, cte->step, NULL);
        }
        alch__buf_puts(&r->sql, ")");
    }
    alch__buf_putc(&r->sql, ' ');
}

/* Row locks apply to rows of tables: a group, a distinct row or an aggregate is none. */
static void render_lock(rctx *r, const alch_stmt *st)
{
    static const char *const modes[] = {"", " FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE",
                                        " FOR KEY SHARE"};
    static const char *const waits[] = {"", " NOWAIT", " SKIP LOCKED"};
    if (!st->lock)
        return;
    bool aggregate = false;
    for (size_t i = 0; i < st->cols.n; i++)
        aggregate = aggregate || alch__expr_has_aggregate(st->cols.v[i]);
    const char *with = st->group.n    ? "GROUP BY"
                       : st->having.n ? "HAVING"
                       : st->distinct ? "DISTINCT"
                       : aggregate    ? "an aggregate (count, sum, ...)"
                                      : NULL;
    if (with && r->rc == 0) {
        r->rc = alch__error_set(r->err, ALCH_EMISUSE,
                                "%s cannot be used with %s: the rows it returns are not rows of "
                                "a table, so there is nothing to lock",
                                modes[st->lock] + 1, with);
        alch__error_hint(r->err, "lock the rows in a subquery (alch_in_select) and group outside "
                                 "it, or drop alch_with_for_update()");
    }
    alch__buf_puts(&r->sql, modes[st->lock]);
    alch__buf_puts(&r->sql, waits[st->lock_wait]);
}

static void render_limit(rctx *r, const alch_stmt *st)
{
    if (st->limit.type != ALCH_V_NULL) {
        alch__buf_puts(&r->sql, " LIMIT ");
        add_param(r, &st->limit, -1);
    }
    if (st->offset.type != ALCH_V_NULL) {
        alch__buf_puts(&r->sql, " OFFSET ");
        add_param(r, &st->offset, -1);
    }
}

/* One side of a set operation: in parentheses when it has its own ORDER BY, LIMIT, lock or
 * WITH, or is a set operation itself (INTERSECT binds tighter than UNION). */
static void render_part(rctx *r, alch_stmt *part, const scope *outer)
{
    const alch_cte *need[1];
    bool paren = part->kind == S_COMPOUND || part->order.n || part->lock ||
                 part->limit.type != ALCH_V_NULL || part->offset.type != ALCH_V_NULL ||
                 ctes_needed(r, part, need, 1);
    if (paren)
        alch__buf_putc(&r->sql, '(');
    render_query(r, part, outer);
    if (paren)
        alch__buf_putc(&r->sql, ')');
}

static void render_compound(rctx *r, alch_stmt *st, const scope *outer)
{
    static const char *const ops[] = {" UNION ",         " UNION ALL ", " INTERSECT ",
                                      " INTERSECT ALL ", " EXCEPT ",    " EXCEPT ALL "};
    render_part(r, st->left, outer);
    alch__buf_puts(&r->sql, ops[st->setop]);
    render_part(r, st->right, outer);
    r->bare = true;
    render_list(r, outer, " ORDER BY ", &st->order, false);
    r->bare = false;
    render_limit(r, st);
}

/* One foreign key found between two models: `col` of `owner` references `ref` of `other`. */
typedef struct fk_link {
    const alch_model *owner, *other;
    const alch_column *col, *ref;
} fk_link;

/* The foreign keys between `target` and `m`, both ways: counts them into *found and keeps the
 * first two in links[0..2) (one for the condition, both for the sentence when it is two). */
static void fk_between(const rctx *r, const alch_model *m, const alch_model *target,
                       fk_link links[2], size_t *found)
{
    const alch_model *pairs[2][2] = {{target, m}, {m, target}};
    for (size_t p = 0; p < (m == target ? 1u : 2u); p++) {
        const alch_model *owner = pairs[p][0], *other = pairs[p][1];
        const alch_column *cols[2], *refs[2];
        size_t k = alch__fks_to(owner, alch__base_mapper(r->base, owner), other,
                                alch__base_mapper(r->base, other), cols, refs, 2);
        for (size_t i = 0; i < k && *found + i < 2; i++)
            links[*found + i] = (fk_link){owner, other, cols[i], refs[i]};
        *found += k;
    }
}

/* alch_join(st, model): `model.fk = other.pk` along the one foreign key between the model and
 * a table the statement had when it was joined (its FROM then, the joins before it). Found at
 * the first rendering and kept; with two or more, the sentence names two of them. */
static void join_condition(rctx *r, alch_stmt *st, size_t j)
{
    alch__join *jn = &st->joins[j];
    size_t found = 0;
    fk_link l[2];
    if (jn->from)
        fk_between(r, jn->from, jn->model, l, &found);
    for (size_t i = 0; i < j; i++)
        fk_between(r, st->joins[i].model, jn->model, l, &found);
    if (found == 1) {
        jn->on = alch_compare(alch__col_expr(l[0].owner, l[0].col), ALCH_EQ,
                              alch__col_expr(l[0].other, l[0].ref));
        if (jn->on)
            alch__expr_take(jn->on);
        else
            fail(r, ALCH_ENOMEM, "out of memory");
    } else if (r->rc == 0 && found == 0) {
        r->rc = alch__error_set(r->err, ALCH_EARGUMENT,
                                "no foreign key links %s to the tables of this statement: give "
                                "the condition with alch_join_on()",
                                jn->model->table);
    } else if (r->rc == 0) {
        r->rc = alch__error_set(r->err, ALCH_EARGUMENT,
                                "more than one foreign key links %s to the statement's tables: "
                                "%s.%s and %s.%s%s; say which with alch_join_on()",
                                jn->model->table, l[0].owner->table, l[0].col->name,
                                l[1].owner->table, l[1].col->name, found > 2 ? " (and more)" : "");
    }
}

static void render_select(rctx *r, alch_stmt *st, const scope *outer)
{
    const alch_model *from = alch__stmt_from(st);
    if (!from) {
        fail(r, ALCH_EMISUSE,
             "this SELECT names no table: select a column, or use "
             "alch_select_from()");
        return;
    }
    size_t nctes = r->nctes; /* the CTEs this SELECT declares are seen inside it only */
    render_with(r, st);
    scope sc = {.outer = outer};
    scope_add(&sc, from);
    for (size_t i = 0; i < st->njoins; i++)
        scope_add(&sc, st->joins[i].model);

    alch__buf_puts(&r->sql, st->distinct ? "SELECT DISTINCT " : "SELECT ");
    if (st->cols.n == 0)
        render_model_columns(r, st->model);
    for (size_t i = 0; i < st->cols.n; i++) {
        const alch_expr *c = st->cols.v[i];
        if (i)
            alch__buf_puts(&r->sql, ", ");
        render_expr(r, &sc, c->kind == X_LABEL ? c->kids[0] : c, false);
        if (c->kind == X_LABEL) {
            alch__buf_puts(&r->sql, " AS ");
            alch__buf_ident(&r->sql, c->name);
        }
    }
    alch__buf_puts(&r->sql, " FROM ");
    alch__buf_ident(&r->sql, from->table);
    for (size_t i = 0; i < st->njoins; i++) {
        alch__buf_puts(&r->sql, st->joins[i].outer ? " LEFT OUTER JOIN " : " JOIN ");
        alch__buf_ident(&r->sql, st->joins[i].model->table);
        alch__buf_puts(&r->sql, " ON ");
        if (!st->joins[i].on)
            join_condition(r, st, i);
        if (st->joins[i].on)
            render_expr(r, &sc, st->joins[i].on, false);
    }
    render_list(r, &sc, " WHERE ", &st->where, true);
    render_list(r, &sc, " GROUP BY ", &st->group, false);
    render_list(r, &sc, " HAVING ", &st->having, true);
    render_list(r, &sc, " ORDER BY ", &st->order, false);
    render_limit(r, st);
    render_lock(r, st);
    r->nctes = nctes;
}

static void render_query(rctx *r, alch_stmt *st, const scope *outer)
{
    if (st->kind == S_COMPOUND)
        render_compound(r, st, outer);
    else
        render_select(r, st, outer);
}

/* One placeholder of an INSERT of arrays, cast to its column's array type (or, array
 * false, to the column's type). */
static void render_array_cast(rctx *r, alch_stmt *st, const scope *sc, size_t j, bool array)
{
    const alch_column *c = st->set_cols.v[j]->col;
    alch__buf_puts(&r->sql, "CAST(");
    render_expr(r, sc, st->set_vals.v[j], false);
    alch__buf_puts(&r->sql, " AS ");
    alch__buf_puts(&r->sql, alch__sql_type_name(c->type == ALCH_REAL ? ALCH_DOUBLE : c->type));
    alch__buf_puts(&r->sql, array ? "[])" : ")");
}

/* alch__insert_arrays: the first row's values, each an array of its column's type;
 * alch__insert_arrays_keyed: the first column is the key (statement_internal.h). */
static void render_arrays(rctx *r, alch_stmt *st, const scope *sc, size_t len)
{
    if (st->set_cols.n != len || (st->arrays_keyed && len < 2)) {
        fail(r, ALCH_EMISUSE, "an INSERT of arrays has one row of placeholders, not several");
        return;
    }
    if (!st->arrays_keyed) {
        alch__buf_puts(&r->sql, ") SELECT * FROM unnest(");
        for (size_t j = 0; j < len; j++) {
            alch__buf_puts(&r->sql, j ? ", " : "");
            render_array_cast(r, st, sc, j, true);
        }
        alch__buf_putc(&r->sql, ')');
        return;
    }
    alch__buf_puts(&r->sql, ") SELECT coalesce(u.k, ");
    render_array_cast(r, st, sc, 0, false);
    alch__buf_puts(&r->sql, " + u.ord - 1)");
    for (size_t j = 1; j < len; j++)
        alch__buf_printf(&r->sql, ", u.c%zu", j);
    alch__buf_puts(&r->sql, " FROM unnest(");
    for (size_t j = 1; j < len; j++) {
        render_array_cast(r, st, sc, j, true);
        alch__buf_puts(&r->sql, ", ");
    }
    render_array_cast(r, st, sc, 0, true);
    alch__buf_puts(&r->sql, ") WITH ORDINALITY AS u(");
    for (size_t j = 1; j < len; j++)
        alch__buf_printf(&r->sql, "c%zu, ", j);
    alch__buf_puts(&r->sql, "k, ord)");
}

static void render_insert(rctx *r, alch_stmt *st, const scope *sc)
{
    alch__buf_puts(&r->sql, "INSERT INTO ");
    alch__buf_ident(&r->sql, st->model->table);
    size_t n = st->set_cols.n;
    if (st->source) {
        alch__buf_puts(&r->sql, " (");
        for (size_t j = 0; j < n; j++) {
            if (j)
                alch__buf_puts(&r->sql, ", ");
            alch__buf_ident(&r->sql, st->set_cols.v[j]->col->name);
        }
        alch__buf_puts(&r->sql, ") ");
        render_query(r, st->source, NULL);
        return;
    }
    if (n == 0) {
        alch__buf_puts(&r->sql, " DEFAULT VALUES");
        return;
    }
    size_t len = st->row_len ? st->row_len : n;
    if (n % len != 0 || !alch__row_matches(st, st->row_start)) {
        fail(r, ALCH_EARGUMENT,
             "the last row of the INSERT sets other columns than row 1: "
             "every row must set the same columns");
        return;
    }
    alch__buf_puts(&r->sql, " (");
    for (size_t j = 0; j < len; j++) {
        if (j)
            alch__buf_puts(&r->sql, ", ");
        alch__buf_ident(&r->sql, st->set_cols.v[j]->col->name);
    }
    if (st->arrays)
        render_arrays(r, st, sc, len);
    else
        alch__buf_puts(&r->sql, ") VALUES ");
    for (size_t row = 0; !st->arrays && row < n; row += len) {
        alch__buf_puts(&r->sql, row ? ", (" : "(");
        for (size_t j = 0; j < len; j++) { /* in the first row's column order */
            size_t k = row;
            while (st->set_cols.v[k]->col != st->set_cols.v[j]->col)
                k++;
            if (j)
                alch__buf_puts(&r->sql, ", ");
            render_expr(r, sc, st->set_vals.v[k], false);
        }
        alch__buf_putc(&r->sql, ')');
    }
    if (st->conflict == C_NONE)
        return;
    alch__buf_puts(&r->sql, " ON CONFLICT");
    if (st->conflict_target) {
        alch__buf_puts(&r->sql, " (");
        alch__buf_ident(&r->sql, st->conflict_target->col->name);
        alch__buf_putc(&r->sql, ')');
    }
    if (st->conflict == C_NOTHING) {
        alch__buf_puts(&r->sql, " DO NOTHING");
        return;
    }
    alch__buf_puts(&r->sql, " DO UPDATE SET ");
    for (size_t i = 0; i < st->conflict_cols.n; i++) {
        const char *name = st->conflict_cols.v[i]->col->name;
        if (i)
            alch__buf_puts(&r->sql, ", ");
        alch__buf_ident(&r->sql, name);
        alch__buf_puts(&r->sql, " = EXCLUDED.");
        alch__buf_ident(&r->sql, name);
    }
}

static void render_update(rctx *r, alch_stmt *st, const scope *sc)
{
    if (st->set_cols.n == 0) {
        fail(r, ALCH_EMISUSE, "an UPDATE needs at least one alch_set()");
        return;
    }
    alch__buf_puts(&r->sql, "UPDATE ");
    alch__buf_ident(&r->sql, st->model->table);
    alch__buf_puts(&r->sql, " SET ");
    for (size_t i = 0; i < st->set_cols.n; i++) {
        if (i)
            alch__buf_puts(&r->sql, ", ");
        alch__buf_ident(&r->sql, st->set_cols.v[i]->col->name);
        alch__buf_puts(&r->sql, " = ");
        render_expr(r, sc, st->set_vals.v[i], false);
    }
}

static void render_dml(rctx *r, alch_stmt *st)
{
    scope sc = {.outer = NULL};
    scope_add(&sc, st->model);
    if (st->kind == S_INSERT)
        render_insert(r, st, &sc);
    else if (st->kind == S_UPDATE)
        render_update(r, st, &sc);
    else {
        alch__buf_puts(&r->sql, "DELETE FROM ");
        alch__buf_ident(&r->sql, st->model->table);
    }
    if (st->kind != S_INSERT)
        render_list(r, &sc, " WHERE ", &st->where, true);
    if (st->returning_model || st->returning.n) {
        alch__buf_puts(&r->sql, " RETURNING ");
        if (st->returning_model)
            render_model_columns(r, st->model);
        for (size_t i = 0; i < st->returning.n; i++) {
            if (i || st->returning_model)
                alch__buf_puts(&r->sql, ", ");
            render_expr(r, &sc, st->returning.v[i], false);
        }
    }
}

int alch__stmt_render(alch_stmt *st, const alch_base *base, alch_error *err)
{
    if (!st)
        return alch__error_set(err, ALCH_EMISUSE,
                               "no statement (NULL): did building it run out "
                               "of memory?");
    if (st->error)
        return alch__error_copy(err, st->error) ? ALCH_ENOMEM : st->error->code;
    if (!st->dirty)
        return 0;
    rctx r = {.top = st, .base = base, .sql = ALCH__BUF_INIT, .err = err};
    st->nparams = 0;
    if (st->kind == S_SELECT || st->kind == S_COMPOUND)
        render_query(&r, st, NULL);
    else
        render_dml(&r, st);
    if (r.rc == 0 && r.sql.oom)
        r.rc = alch__error_set(err, ALCH_ENOMEM, "out of memory");
    if (r.rc) {
        alch__buf_free(&r.sql);
        return r.rc;
    }
    free(st->sql);
    st->sql = alch__buf_finish(&r.sql);
    if (!st->sql)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    st->dirty = false;
    return 0;
}

int alch_stmt_sql(alch_stmt *st, const char **out, alch_error *err)
{
    int rc = alch__stmt_render(st, NULL, err);
    if (out)
        *out = rc == 0 ? st->sql : NULL;
    return rc;
}

int alch_stmt_params(alch_stmt *st, const alch_value **values, size_t *n, alch_error *err)
{
    return alch__stmt_params(st, NULL, values, n, err);
}

int alch__stmt_params(alch_stmt *st, const alch_base *base, const alch_value **values, size_t *n,
                      alch_error *err)
{
    int rc = alch__stmt_render(st, base, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < st->nparams; i++) {
        int b = st->param_bind[i];
        if (b < 0)
            continue;
        if (!st->binds[b].set) {
            alch__error_set(err, ALCH_EARGUMENT, "the placeholder '%s' has no value",
                            st->binds[b].name);
            alch__error_hint(err, "give it one with alch_stmt_bind(st, \"%s\", value)",
                             st->binds[b].name);
            return ALCH_EARGUMENT;
        }
        st->params[i] = st->binds[b].v;
    }
    if (values)
        *values = st->params;
    if (n)
        *n = st->nparams;
    return 0;
}
