/* The flush: work out what changed, then send INSERT ... RETURNING, UPDATE of the changed
 * columns, and DELETE, one statement at a time, parents before children. */
#include <stdlib.h>

#include "base/base_internal.h"
#include "driver/error_internal.h"
#include "session/row.h"
#include "session/session_internal.h"
#include "driver/conn_internal.h"

/* Inserts and updates go parents first, deletes children first, each group in the order
 * the objects were added or loaded. */
static int cmp_plan(const void *a, const void *b)
{
    const alch__plan_item *x = a, *y = b;
    int dx = x->act == ACT_DELETE, dy = y->act == ACT_DELETE;
    if (dx != dy)
        return dx - dy;
    if (x->rank != y->rank)
        return dx ? y->rank - x->rank : x->rank - y->rank;
    return x->rec->seq < y->rec->seq ? -1 : x->rec->seq > y->rec->seq;
}

uint64_t alch__changed_columns(const alch__rec *r)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < r->model->ncolumns; i++)
        if (!alch__field_equal(&r->model->columns[i], r->obj, r->flushed))
            bits |= 1ULL << i;
    return bits;
}

int alch__make_plan(alch_session *s, alch__sop *op, alch_error *err)
{
    size_t n = 0;
    for (alch__rec *r = s->first; r; r = r->next)
        n += r->state != ALCH_TRANSIENT;
    op->plan = calloc(n ? n : 1, sizeof *op->plan);
    if (!op->plan)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    op->nplan = 0;
    for (alch__rec *r = s->first; r; r = r->next) {
        alch__plan_item it = {r, ACT_INSERT, 0, alch__base_rank(s->maker->base, r->model)};
        if (r->state == ALCH_PENDING) {
            it.act = ACT_INSERT;
        } else if (r->state == ALCH_DELETED && !r->deleted_in_tx) {
            it.act = ACT_DELETE;
        } else if (r->state == ALCH_PERSISTENT && r->flushed) {
            it.act = ACT_UPDATE;
            it.changed = alch__changed_columns(r);
            if (!it.changed)
                continue;
            const alch_column *pk = alch__model_pk(r->model);
            if (it.changed & (1ULL << (size_t)(pk - r->model->columns))) {
                alch__error_set(err, ALCH_EMISUSE,
                                "the primary key of a persistent %s was "
                                "changed: alch does not move rows to a new key",
                                r->model->name);
                alch__error_hint(err, "delete the object and add a new one instead");
                return ALCH_EMISUSE;
            }
        } else {
            continue;
        }
        op->plan[op->nplan++] = it;
    }
    qsort(op->plan, op->nplan, sizeof *op->plan, cmp_plan);
    return 0;
}

/* The values of one planned statement, and its SQL (built by the statement builder, once
 * per shape: see sql.c). An empty primary key or server-default column is left out of an
 * INSERT, so the server fills it and sends it back through RETURNING. */
typedef struct flush_ctx {
    alch_session *s;
    alch_value vals[65];
    char tmp[65][ALCH__FIELD_TMP];
} flush_ctx;

static int insert_item(flush_ctx *f, alch__rec *r, alch__batch_item *out, alch_error *err)
{
    const alch_model *m = r->model;
    uint64_t mask = 0, returning = 0;
    size_t n = 0;
    for (size_t i = 0; i < m->ncolumns; i++) {
        const alch_column *c = &m->columns[i];
        if (c->client_default.type != ALCH_V_NULL && alch__field_empty(c, r->obj))
            alch__field_set(c, r->obj, &c->client_default);
        if ((c->primary_key || c->server_default) && alch__field_empty(c, r->obj)) {
            returning |= 1ULL << i;
            continue;
        }
        int rc = alch__field_value(m, c, r->obj, &f->vals[n], f->tmp[n], err);
        if (rc)
            return rc;
        mask |= 1ULL << i;
        n++;
    }
    r->generated = returning;
    out->sql = alch__session_sql(f->s, SQL_INSERT, m, NULL, mask, returning, err);
    out->n = n;
    return out->sql ? 0 : ALCH_ENOMEM;
}

static int update_item(flush_ctx *f, alch__rec *r, uint64_t changed, alch__batch_item *out,
                       alch_error *err)
{
    const alch_model *m = r->model;
    size_t n = 0;
    for (size_t i = 0; i < m->ncolumns; i++) {
        if (!(changed & (1ULL << i)))
            continue;
        int rc = alch__field_value(m, &m->columns[i], r->obj, &f->vals[n], f->tmp[n], err);
        if (rc)
            return rc;
        n++;
    }
    const alch_column *pk = alch__model_pk(m);
    int rc = alch__field_value(m, pk, r->flushed, &f->vals[n], f->tmp[n], err);
    if (rc)
        return rc;
    out->sql = alch__session_sql(f->s, SQL_UPDATE, m, NULL, changed, 0, err);
    out->n = n + 1;
    return out->sql ? 0 : ALCH_ENOMEM;
}

static int delete_item(flush_ctx *f, alch__rec *r, alch__batch_item *out, alch_error *err)
{
    const alch_model *m = r->model;
    const alch_column *pk = alch__model_pk(m);
    int rc =
        alch__field_value(m, pk, r->flushed ? r->flushed : r->obj, &f->vals[0], f->tmp[0], err);
    if (rc)
        return rc;
    out->sql = alch__session_sql(f->s, SQL_DELETE, m, NULL, 0, 0, err);
    out->n = 1;
    return out->sql ? 0 : ALCH_ENOMEM;
}

/* The batch's next statement: plan item i. */
static int next_item(void *ctx, size_t i, alch__batch_item *out, alch_error *err)
{
    flush_ctx *f = ctx;
    alch__plan_item *it = &f->s->op->plan[i];
    out->vals = f->vals;
    return it->act == ACT_INSERT   ? insert_item(f, it->rec, out, err)
           : it->act == ACT_UPDATE ? update_item(f, it->rec, it->changed, out, err)
                                   : delete_item(f, it->rec, out, err);
}

static int item_done(void *ctx, size_t i, alch_result *res, alch_error *err);
static void on_flushed(alch_conn *c, int status, alch_result *res, const alch_error *err,
                       void *data);
static void on_single(alch_conn *c, int status, alch_result *res, const alch_error *err,
                      void *data);

/* Send the whole plan in one pipeline; alch__session_step() runs again when it is done. */
void alch__flush_next(alch_session *s)
{
    alch__sop *op = s->op;
    if (op->nplan == 0) {
        alch__session_step(s);
        return;
    }
    alch_error err = ALCH_ERROR_INIT;
    flush_ctx *f = calloc(1, sizeof *f);
    int rc = f ? 0 : alch__error_set(&err, ALCH_ENOMEM, "out of memory");
    if (f) {
        f->s = s;
        op->flush = f;
        if (op->nplan == 1) { /* one statement: no pipeline needed, the usual echo */
            alch__batch_item it = {0};
            rc = next_item(f, 0, &it, &err);
            if (rc == 0)
                rc = alch__conn_exec(s->conn, it.sql, it.vals, it.n, on_single, s, &err);
        } else {
            rc = alch__conn_batch(s->conn, op->nplan, next_item, item_done, f, on_flushed, s,
                                  &err);
        }
    }
    if (rc)
        alch__session_fail(s, rc, &err);
    alch_error_clear(&err);
}

static int after_insert(alch_session *s, alch__rec *r, alch_result *res, alch_error *err)
{
    const alch_model *m = r->model;
    size_t rcol = 0;
    for (size_t i = 0; i < m->ncolumns; i++) {
        if (!(r->generated & (1ULL << i)))
            continue;
        int rc = alch__field_load(m, &m->columns[i], r->obj, res, 0, rcol++, &s->arena, err);
        if (rc)
            return rc;
    }
    alch__rec_set(s, r, ALCH_PERSISTENT, false);
    r->inserted_in_tx = true;
    r->flushed = alch__snapshot(s, m, r->obj);
    if (!r->flushed || alch__set_key(s, r) != 0)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    return 0;
}

/* One statement of the plan came back: bring the object's state up to date. */
static int item_done(void *ctx, size_t i, alch_result *res, alch_error *err)
{
    flush_ctx *f = ctx;
    alch_session *s = f->s;
    alch__plan_item *it = &s->op->plan[i];
    int rc = 0;
    if (it->act == ACT_INSERT) {
        rc = after_insert(s, it->rec, res, err);
    } else if (it->act == ACT_UPDATE) {
        it->rec->flushed = alch__snapshot(s, it->rec->model, it->rec->obj);
        if (!it->rec->flushed)
            rc = alch__error_set(err, ALCH_ENOMEM, "out of memory");
    } else {
        alch__rec_set(s, it->rec, ALCH_DELETED, true);
    }
    s->op->cur = i + 1;
    alch_result_free(res);
    return rc;
}

/* The one statement of a one-item plan came back. */
static void on_single(alch_conn *c, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    alch_session *s = data;
    alch_error local = ALCH_ERROR_INIT;
    if (status == 0 && s->op) {
        status = item_done(s->op->flush, 0, res, &local); /* takes the result */
        res = NULL;
        err = &local;
    }
    on_flushed(c, status, res, err, data);
    alch_error_clear(&local);
}

static void on_flushed(alch_conn *c, int status, alch_result *res, const alch_error *err,
                       void *data)
{
    (void)c;
    alch_session *s = data;
    alch_result_free(res);
    if (!s->op)
        return;
    free(s->op->flush);
    s->op->flush = NULL;
    if (status)
        alch__session_fail(s, status, err);
    else
        alch__session_step(s);
}

/* Whether anything would be sent by a flush (so a commit with nothing to do needs no
 * connection at all). */
bool alch__has_changes(alch_session *s)
{
    for (alch__rec *r = s->first; r; r = r->next) {
        if (r->state == ALCH_PENDING || (r->state == ALCH_DELETED && !r->deleted_in_tx))
            return true;
        if (r->state == ALCH_PERSISTENT && r->flushed && alch__changed_columns(r))
            return true;
    }
    return false;
}
