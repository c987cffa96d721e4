/* Eager loading (alch_selectin): after a statement's objects came back, one more query per
 * relationship loads it for all of them, SELECT ... WHERE <key> IN (...), and the rows are
 * shared out: children to their parent's alch_many, parents to each child's alch_one. */
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "driver/error_internal.h"
#include "session/session_internal.h"
#include "statement/statement_internal.h"

/* The objects the statement returned (none, one, or a list). */
static void **objects(alch__sop *op, size_t *n)
{
    if (op->mode == Q_SCALARS) {
        *n = op->list ? op->list->count : 0;
        return op->list ? op->list->items : NULL;
    }
    *n = op->obj ? 1 : 0;
    return op->obj ? &op->obj : NULL;
}

typedef struct eager_query {
    alch_session *s;
    const alch__mapper *map;  /* the statement's model */
    const alch__rel_map *rm;  /* the relationship loaded: its target, its foreign key */
    alch_stmt *st;
} eager_query;

static void on_eager(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data);

static void fail(alch_session *s, eager_query *q, int rc, const alch_error *err)
{
    if (q) {
        alch_stmt_free(q->st);
        free(q);
    }
    alch__session_fail(s, rc, err);
}

void alch__eager_next(alch_session *s)
{
    alch__sop *op = s->op;
    const char *const *names = op->eager_names;
    size_t nnames = op->neager;
    size_t n;
    void **objs = objects(op, &n);
    if (op->eager >= nnames || n == 0) {
        op->eager = nnames;
        alch__session_step(s);
        return;
    }
    alch_error err = ALCH_ERROR_INIT;
    eager_query *q = calloc(1, sizeof *q);
    if (!q) {
        alch__error_set(&err, ALCH_ENOMEM, "out of memory");
        fail(s, NULL, ALCH_ENOMEM, &err);
        alch_error_clear(&err);
        return;
    }
    q->s = s;
    q->map = op->map;
    q->rm = alch__mapper_rel(q->map, names[op->eager], &err);
    if (!q->rm) {
        fail(s, q, err.code, &err);
        alch_error_clear(&err);
        return;
    }
    const alch__rel_map *rm = q->rm;
    const alch_model *target = rm->target->model;
    /* one-to-many: children whose fk is one of our keys; many-to-one: parents whose key is
     * one of our fks */
    const alch_column *ours = rm->rel->many ? q->map->pk : rm->fk;
    const alch_column *theirs = rm->rel->many ? rm->fk : rm->target->pk;
    if (n > 30000) { /* PostgreSQL takes at most 65,535 parameters in one statement */
        alch__error_set(&err, ALCH_EARGUMENT,
                        "alch_selectin: %zu objects are too many for one "
                        "IN list (30,000 at most)",
                        n);
        alch__error_hint(&err, "read them in pages (alch_limit, alch_offset)");
        fail(s, q, ALCH_EARGUMENT, &err);
        alch_error_clear(&err);
        return;
    }
    alch_value *vals = calloc(n, sizeof *vals);
    char(*tmp)[ALCH__FIELD_TMP] = calloc(n, sizeof *tmp);
    int rc = vals && tmp ? 0 : alch__error_set(&err, ALCH_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = alch__field_value(q->map->model, ours, objs[i], &vals[i], tmp[i], &err);
    if (rc == 0) {
        q->st = alch_select(target);
        alch_where(q->st, alch_in(alch__col_expr(target, theirs), vals, n)); /* copies */
        alch_order_by(q->st, alch__col_expr(target, rm->target->pk));
    }
    free(vals);
    free(tmp);
    const alch_value *params;
    size_t np;
    if (rc == 0)
        rc = alch_stmt_params(q->st, &params, &np, &err);
    if (rc == 0)
        rc = alch__conn_exec(s->conn, q->st->sql, params, np, on_eager, q, &err);
    if (rc)
        fail(s, q, rc, &err);
    alch_error_clear(&err);
}

/* Share the rows out. Children are counted per parent first, so each parent gets one array. */
static int distribute(eager_query *q, alch_result *res, alch_error *err)
{
    alch_session *s = q->s;
    size_t n, rows = alch_result_rows(res);
    void **objs = objects(s->op, &n);
    void **got = alch__arena_alloc(&s->arena, (rows ? rows : 1) * sizeof *got);
    if (!got)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    for (size_t r = 0; r < rows; r++) {
        int rc = alch__row_object(s, q->rm->target, res, r, &got[r], err);
        if (rc)
            return rc;
    }
    const alch__rel_map *rm = q->rm;
    for (size_t i = 0; i < n; i++) {
        char *field = (char *)objs[i] + rm->rel->offset;
        if (!rm->rel->many) { /* the parent whose key is this object's fk */
            alch_one *one = (alch_one *)field;
            *one = (alch_one){NULL, true};
            for (size_t r = 0; r < rows && !one->obj; r++)
                if (alch__field_equal_cols(rm->fk, objs[i], rm->target->pk, got[r]))
                    one->obj = got[r];
            continue;
        }
        size_t count = 0; /* children whose fk is this object's key */
        const alch_column *pk = q->map->pk;
        for (size_t r = 0; r < rows; r++)
            count += alch__field_equal_cols(pk, objs[i], rm->fk, got[r]);
        void **items = alch__arena_alloc(&s->arena, (count ? count : 1) * sizeof *items);
        if (!items)
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        size_t k = 0;
        for (size_t r = 0; r < rows; r++)
            if (alch__field_equal_cols(pk, objs[i], rm->fk, got[r]))
                items[k++] = got[r];
        *(alch_many *)field = (alch_many){items, count, true};
    }
    return 0;
}

static void on_eager(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    (void)c;
    eager_query *q = data;
    alch_session *s = q->s;
    if (!s->op) {
        alch_result_free(res);
        alch_stmt_free(q->st);
        free(q);
        return;
    }
    alch_error local = ALCH_ERROR_INIT;
    int rc = status ? status : distribute(q, res, &local);
    alch_result_free(res);
    if (rc) {
        fail(s, q, rc, status ? err : &local);
    } else {
        alch_stmt_free(q->st);
        free(q);
        s->op->eager++;
        alch__eager_next(s);
    }
    alch_error_clear(&local);
}
