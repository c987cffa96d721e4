/* The flush: work out what changed, then send INSERT ... RETURNING, UPDATE of the changed
 * columns, and DELETE, one statement at a time, parents before children. */
#include <stdlib.h>

#include "base/base_internal.h"
#include "driver/error_internal.h"
#include "session/row.h"
#include "session/session_internal.h"

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
                alch__error_set(err, ALCH_EMISUSE, "the primary key of a persistent %s was "
                                "changed: alch does not move rows to a new key", r->model->name);
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

/* INSERT INTO t (c...) VALUES ($1...) RETURNING pk, server defaults. An empty primary key
 * or server-default column is left out, so the server fills it and sends it back. */
static int build_insert(alch__rec *r, alch__buf *sql, alch_value *vals, size_t *nvals,
                        char (*tmp)[ALCH__FIELD_TMP], uint64_t *returning, alch_error *err)
{
    const alch_model *m = r->model;
    alch__buf_puts(sql, "INSERT INTO ");
    alch__buf_ident(sql, m->table);
    alch__buf_puts(sql, " (");
    size_t n = 0;
    *returning = 0;
    for (size_t i = 0; i < m->ncolumns; i++) {
        const alch_column *c = &m->columns[i];
        if (c->client_default.type != ALCH_V_NULL && alch__field_empty(c, r->obj))
            alch__field_set(c, r->obj, &c->client_default);
        if ((c->primary_key || c->server_default) && alch__field_empty(c, r->obj)) {
            *returning |= 1ULL << i;
            continue;
        }
        int rc = alch__field_value(m, c, r->obj, &vals[n], tmp[n], err);
        if (rc)
            return rc;
        if (n)
            alch__buf_puts(sql, ", ");
        alch__buf_ident(sql, c->name);
        n++;
    }
    if (n == 0) {
        alch__buf_free(sql);
        alch__buf_puts(sql, "INSERT INTO ");
        alch__buf_ident(sql, m->table);
        alch__buf_puts(sql, " DEFAULT VALUES");
    } else {
        alch__buf_puts(sql, ") VALUES (");
        for (size_t i = 0; i < n; i++)
            alch__buf_printf(sql, "%s$%zu", i ? ", " : "", i + 1);
        alch__buf_putc(sql, ')');
    }
    if (*returning) {
        alch__buf_puts(sql, " RETURNING ");
        bool first = true;
        for (size_t i = 0; i < m->ncolumns; i++) {
            if (!(*returning & (1ULL << i)))
                continue;
            if (!first)
                alch__buf_puts(sql, ", ");
            alch__buf_ident(sql, m->columns[i].name);
            first = false;
        }
    }
    *nvals = n;
    return 0;
}

void alch__where_pk(alch__buf *sql, const alch_column *pk, size_t param)
{
    alch__buf_puts(sql, " WHERE ");
    alch__buf_ident(sql, pk->name);
    alch__buf_printf(sql, " = $%zu", param);
}

static int build_update(alch__rec *r, uint64_t changed, alch__buf *sql, alch_value *vals,
                        size_t *nvals, char (*tmp)[ALCH__FIELD_TMP], alch_error *err)
{
    const alch_model *m = r->model;
    alch__buf_puts(sql, "UPDATE ");
    alch__buf_ident(sql, m->table);
    alch__buf_puts(sql, " SET ");
    size_t n = 0;
    for (size_t i = 0; i < m->ncolumns; i++) {
        if (!(changed & (1ULL << i)))
            continue;
        int rc = alch__field_value(m, &m->columns[i], r->obj, &vals[n], tmp[n], err);
        if (rc)
            return rc;
        if (n)
            alch__buf_puts(sql, ", ");
        alch__buf_ident(sql, m->columns[i].name);
        alch__buf_printf(sql, " = $%zu", n + 1);
        n++;
    }
    const alch_column *pk = alch__model_pk(m);
    int rc = alch__field_value(m, pk, r->flushed, &vals[n], tmp[n], err);
    if (rc)
        return rc;
    alch__where_pk(sql, pk, ++n);
    *nvals = n;
    return 0;
}

static int build_delete(alch__rec *r, alch__buf *sql, alch_value *vals, size_t *nvals,
                        char (*tmp)[ALCH__FIELD_TMP], alch_error *err)
{
    const alch_model *m = r->model;
    alch__buf_puts(sql, "DELETE FROM ");
    alch__buf_ident(sql, m->table);
    const alch_column *pk = alch__model_pk(m);
    int rc = alch__field_value(m, pk, r->flushed ? r->flushed : r->obj, &vals[0], tmp[0], err);
    if (rc)
        return rc;
    alch__where_pk(sql, pk, 1);
    *nvals = 1;
    return 0;
}

static void on_flushed_item(alch_conn *c, int status, alch_result *res, const alch_error *err,
                            void *data);

/* Send the next planned statement, or move on when the plan is done. */
void alch__flush_next(alch_session *s)
{
    alch__sop *op = s->op;
    if (op->cur == op->nplan) {
        alch__session_step(s);
        return;
    }
    alch__plan_item *it = &op->plan[op->cur];
    alch_value vals[65];
    char tmp[65][ALCH__FIELD_TMP];
    size_t n = 0;
    uint64_t returning = 0;
    alch__buf sql = ALCH__BUF_INIT;
    alch_error err = ALCH_ERROR_INIT;
    int rc = it->act == ACT_INSERT   ? build_insert(it->rec, &sql, vals, &n, tmp, &returning, &err)
             : it->act == ACT_UPDATE ? build_update(it->rec, it->changed, &sql, vals, &n, tmp, &err)
                                     : build_delete(it->rec, &sql, vals, &n, tmp, &err);
    if (rc == 0 && sql.oom)
        rc = alch__error_set(&err, ALCH_ENOMEM, "out of memory");
    if (rc == 0) {
        it->rec->generated = returning;
        rc = alch__conn_exec(s->conn, sql.data, vals, n, on_flushed_item, s, &err);
    }
    alch__buf_free(&sql);
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

static void on_flushed_item(alch_conn *c, int status, alch_result *res, const alch_error *err,
                            void *data)
{
    alch_session *s = data;
    if (!s->op) {
        alch_result_free(res);
        return;
    }
    alch__plan_item *it = &s->op->plan[s->op->cur];
    alch_error local = ALCH_ERROR_INIT;
    int rc = status;
    if (rc == 0 && it->act == ACT_INSERT) {
        rc = after_insert(s, it->rec, res, &local);
        err = &local;
    } else if (rc == 0 && it->act == ACT_UPDATE) {
        it->rec->flushed = alch__snapshot(s, it->rec->model, it->rec->obj);
        if (!it->rec->flushed)
            rc = alch__error_set(&local, ALCH_ENOMEM, "out of memory");
        err = &local;
    } else if (rc == 0 && it->act == ACT_DELETE) {
        alch__rec_set(s, it->rec, ALCH_DELETED, true);
    }
    alch_result_free(res);
    if (rc) {
        alch__session_fail(s, rc, err);
    } else {
        s->op->cur++;
        alch__flush_next(s);
    }
    alch_error_clear(&local);
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
