/* The session: a unit of work with an identity map, on top of one pooled connection.
 *
 * Every operation is a small stage machine (connect → flush → query or end the
 * transaction → done) whose steps are the connection's async calls. The sync faces run
 * the same machine on the engine's private loop until it is done. */
#include <stdlib.h>
#include <string.h>

#include "base/base_internal.h"
#include "driver/error_internal.h"
#include "session/row.h"
#include "session/session_internal.h"

static void step(alch_session *s);
static void finish(alch_session *s, int status, const alch_error *err);

/* ---- the factory --------------------------------------------------------------------- */

alch_sessionmaker_options alch_sessionmaker_options_default(void)
{
    return (alch_sessionmaker_options){.autoflush = true, .expire_on_commit = false};
}

int alch_sessionmaker_create(alch_engine *engine, alch_base *base,
                             const alch_sessionmaker_options *opts, alch_sessionmaker **out,
                             alch_error *err)
{
    if (!engine || !base || !out)
        return alch__error_set(err, ALCH_EMISUSE,
                               "alch_sessionmaker_create needs an engine, a base and an out "
                               "pointer");
    alch_sessionmaker_options o = opts ? *opts : alch_sessionmaker_options_default();
    if (o.expire_on_commit) {
        alch__error_set(err, ALCH_EARGUMENT,
                        "expire_on_commit cannot be turned on: alch never reloads objects "
                        "behind your back (that hidden I/O is what raises MissingGreenlet in "
                        "SQLAlchemy's async ORM)");
        alch__error_hint(err, "leave it false, and call alch_session_refresh() when you want "
                              "fresh values");
        return ALCH_EARGUMENT;
    }
    int rc = alch_base_check(base, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < alch_base_count(base); i++) {
        const alch_model *m = alch_base_model_at(base, i);
        if (m->ncolumns > 64)
            return alch__error_set(err, ALCH_EARGUMENT,
                                   "model %s has %zu columns: a session tracks at most 64",
                                   m->name, m->ncolumns);
    }
    alch_sessionmaker *mk = calloc(1, sizeof *mk);
    if (!mk)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    *mk = (alch_sessionmaker){engine, base, o};
    *out = mk;
    return 0;
}

void alch_sessionmaker_free(alch_sessionmaker *maker)
{
    free(maker);
}

/* ---- the identity map and the object table ------------------------------------------- */

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t ptr_slot(const alch_session *s, const void *obj)
{
    uintptr_t v = (uintptr_t)obj;
    return (size_t)(hash_bytes(&v, sizeof v, 1469598103934665603ULL) & (s->nbuckets - 1));
}

static alch__rec *find_by_ptr(const alch_session *s, const void *obj)
{
    if (!s->nbuckets)
        return NULL;
    for (alch__rec *r = s->by_ptr[ptr_slot(s, obj)]; r; r = r->next_ptr)
        if (r->obj == obj)
            return r;
    return NULL;
}

static alch__rec *find_by_key(const alch_session *s, uint64_t h, const char *key)
{
    if (!s->nbuckets)
        return NULL;
    for (alch__rec *r = s->by_key[h & (s->nbuckets - 1)]; r; r = r->next_key)
        if (r->key && r->keyhash == h && strcmp(r->key, key) == 0)
            return r;
    return NULL;
}

static void link_key(alch_session *s, alch__rec *r)
{
    size_t i = r->keyhash & (s->nbuckets - 1);
    r->next_key = s->by_key[i];
    s->by_key[i] = r;
}

static void unlink_key(alch_session *s, alch__rec *r)
{
    if (!r->key)
        return;
    alch__rec **p = &s->by_key[r->keyhash & (s->nbuckets - 1)];
    while (*p && *p != r)
        p = &(*p)->next_key;
    if (*p)
        *p = r->next_key;
    r->key = NULL;
}

static int grow(alch_session *s)
{
    size_t n = s->nbuckets ? s->nbuckets * 2 : 64;
    alch__rec **ptrs = calloc(n, sizeof *ptrs), **keys = calloc(n, sizeof *keys);
    if (!ptrs || !keys) {
        free(ptrs);
        free(keys);
        return ALCH_ENOMEM;
    }
    free(s->by_ptr);
    free(s->by_key);
    s->by_ptr = ptrs;
    s->by_key = keys;
    s->nbuckets = n;
    for (alch__rec *r = s->first; r; r = r->next) {
        if (r->state == ALCH_TRANSIENT)
            continue;
        size_t i = ptr_slot(s, r->obj);
        r->next_ptr = s->by_ptr[i];
        s->by_ptr[i] = r;
        if (r->key)
            link_key(s, r);
    }
    return 0;
}

/* The identity key: the table, a separator, and the primary key as text. It lives in the
 * arena, as long as the session. */
static const char *finish_key(alch_session *s, alch__buf *b, uint64_t *h)
{
    const char *key = b->oom ? NULL : alch__arena_strndup(&s->arena, b->data, b->len);
    *h = key ? hash_bytes(key, strlen(key), 1469598103934665603ULL) : 0;
    alch__buf_free(b);
    return key;
}

static void key_prefix(alch__buf *b, const alch_model *m)
{
    alch__buf_puts(b, m->table);
    alch__buf_putc(b, '\x1f');
}

/* The key of an object, from its primary key field. */
static const char *make_key(alch_session *s, const alch_model *m, const void *obj, uint64_t *h)
{
    alch__buf b = ALCH__BUF_INIT;
    key_prefix(&b, m);
    alch__field_key(alch__model_pk(m), obj, &b);
    return finish_key(s, &b, h);
}

/* The key a get() looks for, from the primary key value it was given. */
static const char *value_key(alch_session *s, const alch_model *m, const alch_value *pk,
                             uint64_t *h)
{
    alch__buf b = ALCH__BUF_INIT;
    key_prefix(&b, m);
    alch__value_key(pk, &b);
    return finish_key(s, &b, h);
}

/* Start tracking an object; it goes to the end of the add order. */
static alch__rec *track(alch_session *s, const alch_model *m, void *obj, alch_object_state st)
{
    if (s->nrecs + 1 > s->nbuckets && grow(s) != 0)
        return NULL;
    alch__rec *r = alch__arena_alloc(&s->arena, sizeof *r);
    if (!r)
        return NULL;
    r->model = m;
    r->obj = obj;
    r->state = st;
    r->seq = ++s->seq;
    size_t i = ptr_slot(s, obj);
    r->next_ptr = s->by_ptr[i];
    s->by_ptr[i] = r;
    if (s->last)
        s->last->next = r;
    else
        s->first = r;
    s->last = r;
    s->nrecs++;
    return r;
}

/* Stop tracking: the object becomes transient. Its record stays in the list, inert. */
static void untrack(alch_session *s, alch__rec *r)
{
    alch__rec **p = &s->by_ptr[ptr_slot(s, r->obj)];
    while (*p && *p != r)
        p = &(*p)->next_ptr;
    if (*p)
        *p = r->next_ptr;
    unlink_key(s, r);
    r->state = ALCH_TRANSIENT;
    s->nrecs--;
}

static int set_key(alch_session *s, alch__rec *r)
{
    uint64_t h;
    const char *key = make_key(s, r->model, r->obj, &h);
    if (!key)
        return ALCH_ENOMEM;
    unlink_key(s, r);
    r->key = key;
    r->keyhash = h;
    link_key(s, r);
    return 0;
}

/* A copy of the column values (strings duplicated) in the session's arena. */
static void *snapshot(alch_session *s, const alch_model *m, const void *obj)
{
    void *copy = alch__arena_alloc(&s->arena, m->size);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < m->ncolumns; i++)
        if (alch__field_copy(&m->columns[i], copy, obj, &s->arena) != 0)
            return NULL;
    return copy;
}

static void restore(alch_session *s, const alch_model *m, void *obj, const void *snap)
{
    for (size_t i = 0; i < m->ncolumns; i++)
        alch__field_copy(&m->columns[i], obj, snap, &s->arena);
}

/* ---- open, close ---------------------------------------------------------------------- */

int alch_session_open(alch_sessionmaker *maker, alch_session **out, alch_error *err)
{
    if (!maker || !out)
        return alch__error_set(err, ALCH_EMISUSE, "alch_session_open needs a factory and an "
                                                  "out pointer");
    alch_session *s = calloc(1, sizeof *s);
    if (!s)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    s->maker = maker;
    s->engine = maker->engine;
    *out = s;
    return 0;
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void really_close(alch_session *s)
{
    if (s->defer) {
        uv_close((uv_handle_t *)s->defer, free_handle);
        s->defer = NULL;
    }
    free(s->by_ptr);
    free(s->by_key);
    alch__arena_free(&s->arena);
    alch_error_clear(&s->start_err);
    free(s);
}

void alch_session_close(alch_session *s)
{
    if (!s || s->closing)
        return;
    s->closing = true;
    s->refs++;
    if (s->conn) { /* an open transaction is rolled back by the pool */
        alch_conn *c = s->conn;
        s->conn = NULL;
        alch_conn_close(c); /* an operation in flight ends with ALCH_ECANCELED */
    }
    if (s->op) { /* waiting for a connection: it will be closed when it arrives */
        alch_error e = ALCH_ERROR_INIT;
        alch__error_set(&e, ALCH_ECANCELED, "the session was closed");
        finish(s, ALCH_ECANCELED, &e);
        alch_error_clear(&e);
    }
    if (--s->refs > 0) {
        s->close_pending = true;
        return;
    }
    really_close(s);
}

/* ---- add, delete, state --------------------------------------------------------------- */

static int check_model(alch_session *s, const alch_model *m, const void *obj, alch_error *err)
{
    if (!s || !m || !obj)
        return alch__error_set(err, ALCH_EMISUSE, "a session, a model and an object are needed");
    if (alch__base_rank(s->maker->base, m) < 0) {
        alch__error_set(err, ALCH_EMISUSE, "model %s (table '%s') is not in this session's base",
                        m->name, m->table);
        alch__error_hint(err, "add it with alch_base_add() before creating the sessionmaker");
        return ALCH_EMISUSE;
    }
    return 0;
}

static int check_idle(alch_session *s, alch_error *err)
{
    if (s->op) {
        alch__error_set(err, ALCH_EBUSY,
                        "this session is already running an operation: one session per task");
        alch__error_hint(err, "wait for its callback, or open another session for this task");
        return ALCH_EBUSY;
    }
    if (s->closing)
        return alch__error_set(err, ALCH_ECLOSED, "this session is closed");
    return 0;
}

/* add() and delete() change what the next flush sends: not while an operation runs. */
static int check_change(alch_session *s, const alch_model *m, const void *obj, alch_error *err)
{
    int rc = check_model(s, m, obj, err);
    return rc ? rc : check_idle(s, err);
}

int alch_session_add(alch_session *s, const alch_model *m, void *obj, alch_error *err)
{
    int rc = check_change(s, m, obj, err);
    if (rc)
        return rc;
    alch__rec *r = find_by_ptr(s, obj);
    if (r) {
        if (r->model != m)
            return alch__error_set(err, ALCH_EMISUSE, "this object is already in the session "
                                   "as a %s, not a %s", r->model->name, m->name);
        if (r->state == ALCH_DELETED && !r->deleted_in_tx)
            r->state = ALCH_PERSISTENT; /* add() undoes a delete() not yet flushed */
        return 0;
    }
    if (!track(s, m, obj, ALCH_PENDING))
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    return 0;
}

int alch_session_add_all(alch_session *s, const alch_model *m, void *array, size_t count,
                         alch_error *err)
{
    for (size_t i = 0; i < count; i++) {
        int rc = alch_session_add(s, m, (char *)array + i * (m ? m->size : 0), err);
        if (rc)
            return rc;
    }
    return 0;
}

int alch_session_delete(alch_session *s, const alch_model *m, void *obj, alch_error *err)
{
    int rc = check_change(s, m, obj, err);
    if (rc)
        return rc;
    alch__rec *r = find_by_ptr(s, obj);
    if (!r) {
        alch__error_set(err, ALCH_EMISUSE, "this %s is not in the session", m->name);
        alch__error_hint(err, "load it with alch_session_get() (or add it) before deleting it");
        return ALCH_EMISUSE;
    }
    if (r->state == ALCH_PENDING)
        untrack(s, r);
    else
        r->state = ALCH_DELETED;
    return 0;
}

const alch_error *alch_session_start_error(const alch_session *s)
{
    return s ? &s->start_err : NULL;
}

alch_object_state alch_session_state(const alch_session *s, const void *obj)
{
    const alch__rec *r = s && obj ? find_by_ptr(s, obj) : NULL;
    return r ? r->state : ALCH_TRANSIENT;
}

/* ---- the operation machinery --------------------------------------------------------- */

static void on_deferred(uv_timer_t *t)
{
    alch_session *s = t->data;
    if (s && s->op)
        step(s);
}

/* Continue on the next loop turn: an async call never completes before it returns. */
static int defer(alch_session *s)
{
    if (!s->defer) {
        s->defer = malloc(sizeof *s->defer);
        if (!s->defer || uv_timer_init(s->engine->loop, s->defer) != 0) {
            free(s->defer);
            s->defer = NULL;
            return ALCH_ENOMEM;
        }
        s->defer->data = s;
    }
    return uv_timer_start(s->defer, on_deferred, 0, 0) ? ALCH_ENOMEM : 0;
}

static void finish(alch_session *s, int status, const alch_error *err)
{
    alch__sop *op = s->op;
    s->op = NULL;
    void *obj = status != 0 ? NULL : op->kind == OP_GET ? op->obj
                                   : op->kind == OP_EXECUTE ? (void *)op->exec_res : NULL;
    alch_session_cb cb = op->cb;
    void *data = op->data;
    free(op->plan);
    free(op->pk_text);
    free(op);
    s->refs++;
    if (cb)
        cb(s, status, obj, status ? err : NULL, data);
    if (--s->refs == 0 && s->close_pending)
        really_close(s);
}

static void fail(alch_session *s, int status, const alch_error *err)
{
    finish(s, status, err);
}

static void on_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    alch_session *s = data;
    if (!s->op || s->closing) { /* the session was closed while it waited */
        if (c)
            alch_conn_close(c);
    } else if (status) {
        fail(s, status, err);
    } else {
        s->conn = c;
        step(s);
    }
    if (--s->refs == 0 && s->close_pending)
        really_close(s);
}

static int start_op(alch_session *s, alch__sop *op, alch_error *err)
{
    int rc = check_idle(s, err);
    if (rc) {
        free(op->pk_text);
        free(op);
        return rc;
    }
    s->op = op;
    op->stage = ST_START;
    /* the first step runs on the next loop turn, so callbacks never run inside this call */
    rc = defer(s);
    if (rc) {
        s->op = NULL;
        free(op->pk_text);
        free(op);
        return alch__error_set(err, rc, "out of memory");
    }
    return 0;
}

/* ---- flush ------------------------------------------------------------------------------ */

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

static uint64_t changed_columns(const alch__rec *r)
{
    uint64_t bits = 0;
    for (size_t i = 0; i < r->model->ncolumns; i++)
        if (!alch__field_equal(&r->model->columns[i], r->obj, r->flushed))
            bits |= 1ULL << i;
    return bits;
}

static int make_plan(alch_session *s, alch__sop *op, alch_error *err)
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
            it.changed = changed_columns(r);
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

static void where_pk(alch__buf *sql, const alch_column *pk, size_t param)
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
    where_pk(sql, pk, ++n);
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
    where_pk(sql, pk, 1);
    *nvals = 1;
    return 0;
}

static void on_flushed_item(alch_conn *c, int status, alch_result *res, const alch_error *err,
                            void *data);

/* Send the next planned statement, or move on when the plan is done. */
static void flush_next(alch_session *s)
{
    alch__sop *op = s->op;
    if (op->cur == op->nplan) {
        step(s);
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
        fail(s, rc, &err);
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
    r->state = ALCH_PERSISTENT;
    r->inserted_in_tx = true;
    r->flushed = snapshot(s, m, r->obj);
    if (!r->flushed || set_key(s, r) != 0)
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
        it->rec->flushed = snapshot(s, it->rec->model, it->rec->obj);
        if (!it->rec->flushed)
            rc = alch__error_set(&local, ALCH_ENOMEM, "out of memory");
        err = &local;
    } else if (rc == 0 && it->act == ACT_DELETE) {
        it->rec->deleted_in_tx = true;
    }
    alch_result_free(res);
    if (rc) {
        fail(s, rc, err);
    } else {
        s->op->cur++;
        flush_next(s);
    }
    alch_error_clear(&local);
}

/* ---- end of a transaction ------------------------------------------------------------ */

static void after_commit(alch_session *s)
{
    for (alch__rec *r = s->first; r; r = r->next) {
        if (r->state == ALCH_TRANSIENT)
            continue;
        if (r->state == ALCH_DELETED && r->deleted_in_tx) {
            untrack(s, r);
            continue;
        }
        r->inserted_in_tx = false;
        r->committed = r->flushed;
    }
}

static void after_rollback(alch_session *s)
{
    for (alch__rec *r = s->first; r; r = r->next) {
        if (r->state == ALCH_TRANSIENT)
            continue;
        if (r->state == ALCH_PENDING || r->inserted_in_tx) {
            /* never committed: forget it, and clear what the server generated */
            for (size_t i = 0; i < r->model->ncolumns; i++)
                if (r->generated & (1ULL << i))
                    alch__field_clear(&r->model->columns[i], r->obj);
            r->generated = 0;
            r->inserted_in_tx = false;
            r->flushed = NULL;
            untrack(s, r);
            continue;
        }
        if (r->committed) {
            restore(s, r->model, r->obj, r->committed);
            r->flushed = r->committed;
        }
        r->deleted_in_tx = false;
        r->state = ALCH_PERSISTENT;
    }
}

static void release_conn(alch_session *s)
{
    if (s->conn) {
        alch_conn *c = s->conn;
        s->conn = NULL;
        alch_conn_close(c);
    }
}

static void on_tx_end(alch_conn *c, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    alch_session *s = data;
    alch_result_free(res);
    if (!s->op)
        return;
    if (s->op->kind == OP_COMMIT && status == 0)
        after_commit(s);
    else if (s->op->kind == OP_ROLLBACK)
        after_rollback(s);
    if (status == 0)
        release_conn(s);
    if (status)
        fail(s, status, err);
    else
        step(s);
}

/* ---- reading rows into objects -------------------------------------------------------- */

static void select_columns(alch__buf *sql, const alch_model *m)
{
    alch__buf_puts(sql, "SELECT ");
    for (size_t i = 0; i < m->ncolumns; i++) {
        if (i)
            alch__buf_puts(sql, ", ");
        alch__buf_ident(sql, m->table);
        alch__buf_putc(sql, '.');
        alch__buf_ident(sql, m->columns[i].name);
    }
    alch__buf_puts(sql, " FROM ");
    alch__buf_ident(sql, m->table);
}

static int load_fields(alch_session *s, const alch_model *m, void *obj, const alch_result *res,
                       size_t row, alch_error *err)
{
    for (size_t i = 0; i < m->ncolumns; i++) {
        int rc = alch__field_load(m, &m->columns[i], obj, res, row, i, &s->arena, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* The object for a row: the one the identity map already has, or a new one. */
static int row_object(alch_session *s, const alch_model *m, const alch_result *res, size_t row,
                      void **out, alch_error *err)
{
    void *obj = alch__arena_alloc(&s->arena, m->size);
    if (!obj)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    int rc = load_fields(s, m, obj, res, row, err);
    if (rc)
        return rc;
    uint64_t h;
    const char *key = make_key(s, m, obj, &h);
    if (!key)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    alch__rec *known = find_by_key(s, h, key);
    if (known) { /* one object per row: keep the one the program already holds */
        *out = known->obj;
        return 0;
    }
    alch__rec *r = track(s, m, obj, ALCH_PERSISTENT);
    if (!r)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    r->owned = true;
    r->key = key;
    r->keyhash = h;
    link_key(s, r);
    r->flushed = snapshot(s, m, obj);
    r->committed = r->flushed; /* what a rollback restores */
    if (!r->flushed)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    *out = obj;
    return 0;
}

static const alch_column *rel_fk_column(const alch_session *s, const alch_model *m,
                                        const alch_relationship *rel, const alch_model **owner)
{
    const alch_model *target = alch_base_find(s->maker->base, rel->target);
    *owner = rel->many ? target : m;
    return *owner ? alch_model_column(*owner, rel->via) : NULL;
}

static void on_query(alch_conn *c, int status, alch_result *res, const alch_error *err,
                     void *data);

static void start_query(alch_session *s)
{
    alch__sop *op = s->op;
    alch__buf sql = ALCH__BUF_INIT;
    alch_value val;
    char tmp[ALCH__FIELD_TMP];
    alch_error err = ALCH_ERROR_INIT;
    int rc = 0;
    if (op->kind == OP_EXECUTE) {
        rc = alch__conn_exec(s->conn, op->exec_sql, op->exec_params, op->exec_n, on_query, s,
                             &err);
        goto sent;
    }
    if (op->kind == OP_LOAD) {
        const alch_model *owner;
        const alch_column *fk = rel_fk_column(s, op->model, op->rel, &owner);
        const alch_model *target = alch_base_find(s->maker->base, op->rel->target);
        select_columns(&sql, target);
        if (op->rel->many) { /* children whose fk = my primary key */
            const alch_column *pk = alch__model_pk(op->model);
            rc = alch__field_value(op->model, pk, op->obj, &val, tmp, &err);
            where_pk(&sql, fk, 1);
            alch__buf_puts(&sql, " ORDER BY ");
            alch__buf_ident(&sql, target->table);
            alch__buf_putc(&sql, '.');
            alch__buf_ident(&sql, alch__model_pk(target)->name);
        } else { /* the parent whose primary key = my fk */
            rc = alch__field_value(op->model, fk, op->obj, &val, tmp, &err);
            where_pk(&sql, alch__model_pk(target), 1);
        }
    } else { /* get, refresh: by primary key */
        const alch_column *pk = alch__model_pk(op->model);
        select_columns(&sql, op->model);
        where_pk(&sql, pk, 1);
        if (op->kind == OP_GET)
            val = op->pk;
        else
            rc = alch__field_value(op->model, pk, op->obj, &val, tmp, &err);
    }
    if (rc == 0 && sql.oom)
        rc = alch__error_set(&err, ALCH_ENOMEM, "out of memory");
    if (rc == 0)
        rc = alch__conn_exec(s->conn, sql.data, &val, 1, on_query, s, &err);
sent:
    alch__buf_free(&sql);
    if (rc)
        fail(s, rc, &err);
    alch_error_clear(&err);
}

static int apply_query(alch_session *s, alch__sop *op, alch_result *res, alch_error *err)
{
    size_t rows = alch_result_rows(res);
    if (op->kind == OP_GET) {
        op->obj = NULL;
        return rows ? row_object(s, op->model, res, 0, &op->obj, err) : 0;
    }
    if (op->kind == OP_REFRESH) {
        if (rows == 0) {
            alch__error_set(err, ALCH_EDATABASE, "the %s row was deleted by someone else",
                            op->model->name);
            return ALCH_EDATABASE;
        }
        int rc = load_fields(s, op->model, op->obj, res, 0, err);
        alch__rec *r = find_by_ptr(s, op->obj);
        if (rc == 0 && r) {
            r->flushed = snapshot(s, op->model, op->obj);
            if (!r->flushed)
                return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        }
        return rc;
    }
    /* OP_LOAD */
    const alch_model *target = alch_base_find(s->maker->base, op->rel->target);
    char *field = (char *)op->obj + op->rel->offset;
    if (!op->rel->many) {
        alch_one *one = (alch_one *)field;
        one->obj = NULL;
        if (rows) {
            int rc = row_object(s, target, res, 0, &one->obj, err);
            if (rc)
                return rc;
        }
        one->loaded = true;
        return 0;
    }
    alch_many *many = (alch_many *)field;
    void **items = alch__arena_alloc(&s->arena, (rows ? rows : 1) * sizeof *items);
    if (!items)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    for (size_t i = 0; i < rows; i++) {
        int rc = row_object(s, target, res, i, &items[i], err);
        if (rc)
            return rc;
    }
    *many = (alch_many){items, rows, true};
    return 0;
}

static void on_query(alch_conn *c, int status, alch_result *res, const alch_error *err,
                     void *data)
{
    alch_session *s = data;
    if (!s->op) {
        alch_result_free(res);
        return;
    }
    alch__sop *op = s->op;
    if (status) {
        fail(s, status, err);
        return;
    }
    alch_error local = ALCH_ERROR_INIT;
    int rc = 0;
    if (op->kind == OP_EXECUTE)
        op->exec_res = res; /* handed to the caller */
    else
        rc = apply_query(s, op, res, &local);
    if (op->kind != OP_EXECUTE)
        alch_result_free(res);
    if (rc)
        fail(s, rc, &local);
    else
        step(s);
    alch_error_clear(&local);
}

/* ---- the stage machine ---------------------------------------------------------------- */

/* Whether anything would be sent by a flush (so a commit with nothing to do needs no
 * connection at all). */
static bool has_changes(alch_session *s)
{
    for (alch__rec *r = s->first; r; r = r->next) {
        if (r->state == ALCH_PENDING || (r->state == ALCH_DELETED && !r->deleted_in_tx))
            return true;
        if (r->state == ALCH_PERSISTENT && r->flushed && changed_columns(r))
            return true;
    }
    return false;
}

static void on_conn(alch_conn *c, int status, const alch_error *err, void *data);

static bool wants_flush(const alch_session *s, const alch__sop *op)
{
    return op->kind == OP_FLUSH || op->kind == OP_COMMIT ||
           (s->maker->opts.autoflush &&
            (op->kind == OP_GET || op->kind == OP_LOAD || op->kind == OP_EXECUTE));
}

static bool is_query(const alch__sop *op)
{
    return op->kind == OP_GET || op->kind == OP_REFRESH || op->kind == OP_LOAD ||
           op->kind == OP_EXECUTE;
}

/* The stage says what to do next; each async step calls step() again when it is done. */
static void step(alch_session *s)
{
    alch__sop *op = s->op;
    alch_error err = ALCH_ERROR_INIT;
    int rc = 0;
    switch (op->stage) {
    case ST_START:
        op->stage = ST_FLUSH;
        if (op->kind == OP_GET) { /* the identity map first: no round trip for a known key */
            uint64_t h;
            const char *key = value_key(s, op->model, &op->pk, &h);
            alch__rec *r = key ? find_by_key(s, h, key) : NULL;
            if (r && r->state != ALCH_DELETED) {
                op->obj = r->obj;
                op->stage = ST_DONE;
                step(s);
                return;
            }
        }
        /* a connection only when a round trip is needed: a commit of nothing sends nothing */
        if (!s->conn && (is_query(op) || (wants_flush(s, op) && has_changes(s)))) {
            if (s->engine->freeing) {
                alch__error_set(&err, ALCH_ECLOSED, "the session's engine was freed");
                fail(s, ALCH_ECLOSED, &err);
                alch_error_clear(&err);
                return;
            }
            s->refs++; /* the pool holds this session until on_conn */
            rc = alch__pool_checkout(&s->engine->pool, on_conn, s);
            if (rc) {
                s->refs--;
                alch__error_set(&err, rc, "out of memory");
                fail(s, rc, &err);
                alch_error_clear(&err);
            }
            return;
        }
        step(s);
        return;
    case ST_FLUSH:
        op->stage = ST_QUERY;
        if (wants_flush(s, op) && s->conn) {
            if (make_plan(s, op, &err) != 0) {
                fail(s, err.code, &err);
                alch_error_clear(&err);
                return;
            }
            op->cur = 0;
            flush_next(s); /* calls step() when the plan is done */
            return;
        }
        step(s);
        return;
    case ST_QUERY:
        if (is_query(op)) {
            op->stage = ST_DONE;
            start_query(s); /* on_query calls step() */
            return;
        }
        op->stage = ST_END_TX;
        step(s);
        return;
    case ST_END_TX:
        op->stage = ST_DONE;
        if (op->kind != OP_COMMIT && op->kind != OP_ROLLBACK) {
            step(s);
            return;
        }
        if (!s->conn) { /* nothing was sent: only the bookkeeping */
            if (op->kind == OP_COMMIT)
                after_commit(s);
            else
                after_rollback(s);
            step(s);
            return;
        }
        const char *verb = op->kind == OP_COMMIT ? "COMMIT" : "ROLLBACK";
        rc = alch__conn_simple(s->conn, alch_conn_in_transaction(s->conn) ? verb : NULL, NULL, 0,
                               false, on_tx_end, s, &err);
        if (rc)
            fail(s, rc, &err);
        alch_error_clear(&err);
        return;
    case ST_DONE:
        finish(s, 0, NULL);
        return;
    default:
        return;
    }
}

/* ---- public faces ---------------------------------------------------------------------- */

static alch__sop *new_op(alch__opkind kind, alch_session_cb cb, void *data)
{
    alch__sop *op = calloc(1, sizeof *op);
    if (op) {
        op->kind = kind;
        op->cb = cb;
        op->data = data;
    }
    return op;
}

static int check_face(alch_session *s, bool async, alch_error *err)
{
    if (!s)
        return alch__error_set(err, ALCH_EMISUSE, "no session (NULL)");
    bool sync_engine = s->engine->own_loop != NULL;
    if (async && sync_engine) {
        alch__error_set(err, ALCH_EMISUSE, "this session's engine has a private loop: use the "
                                           "sync calls (alch_session_commit, ...)");
        alch__error_hint(err, "for async sessions create the engine with "
                              "alch_engine_create_async()");
        return ALCH_EMISUSE;
    }
    if (!async && !sync_engine) {
        alch__error_set(err, ALCH_EMISUSE, "this session's engine runs on your libuv loop: use "
                                           "the *_async calls");
        alch__error_hint(err, "for sync sessions create the engine with alch_engine_create()");
        return ALCH_EMISUSE;
    }
    return 0;
}

typedef struct sync_wait {
    bool done;
    int status;
    void *obj;
    alch_error *err;
} sync_wait;

static void on_sync_done(alch_session *s, int status, void *obj, const alch_error *err,
                         void *data)
{
    sync_wait *w = data;
    w->done = true;
    w->status = status;
    w->obj = obj;
    if (status)
        alch__error_copy(w->err, err);
}

static int run_sync(alch_session *s, alch__sop *op, void **obj, alch_error *err)
{
    sync_wait w = {.err = err};
    op->cb = on_sync_done;
    op->data = &w;
    int rc = start_op(s, op, err);
    if (rc)
        return rc;
    alch__conn_wait(s->engine->loop, &w.done);
    if (obj)
        *obj = w.obj;
    return w.status;
}

static alch__sop *make_op(alch_session *s, alch__opkind kind, const alch_model *m, void *obj,
                          alch_error *err)
{
    alch__sop *op = new_op(kind, NULL, NULL);
    if (!op) {
        alch__error_set(err, ALCH_ENOMEM, "out of memory");
        return NULL;
    }
    op->model = m;
    op->obj = obj;
    return op;
}

int alch_session_flush(alch_session *s, alch_error *err)
{
    int rc = check_face(s, false, err);
    alch__sop *op = rc ? NULL : make_op(s, OP_FLUSH, NULL, NULL, err);
    return op ? run_sync(s, op, NULL, err) : rc ? rc : ALCH_ENOMEM;
}

int alch_session_commit(alch_session *s, alch_error *err)
{
    int rc = check_face(s, false, err);
    alch__sop *op = rc ? NULL : make_op(s, OP_COMMIT, NULL, NULL, err);
    return op ? run_sync(s, op, NULL, err) : rc ? rc : ALCH_ENOMEM;
}

int alch_session_rollback(alch_session *s, alch_error *err)
{
    int rc = check_face(s, false, err);
    alch__sop *op = rc ? NULL : make_op(s, OP_ROLLBACK, NULL, NULL, err);
    return op ? run_sync(s, op, NULL, err) : rc ? rc : ALCH_ENOMEM;
}

/* A text primary key is copied: the async call outlives the caller's string. */
static int set_pk(alch__sop *op, alch_value pk, alch_error *err)
{
    op->pk = pk;
    if (pk.type == ALCH_V_TEXT || pk.type == ALCH_V_BYTES) {
        op->pk_text = malloc(pk.len + 1);
        if (!op->pk_text)
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        memcpy(op->pk_text, pk.u.s, pk.len);
        op->pk_text[pk.len] = '\0';
        op->pk.u.s = op->pk_text;
    }
    if (pk.type == ALCH_V_NULL)
        return alch__error_set(err, ALCH_EMISUSE, "a primary key cannot be NULL");
    return 0;
}

static alch__sop *get_op(alch_session *s, const alch_model *m, alch_value pk, alch_error *err)
{
    static const char present = 0; /* get has no object yet: only the model is checked */
    if (check_model(s, m, &present, err) != 0)
        return NULL;
    alch__sop *op = make_op(s, OP_GET, m, NULL, err);
    if (op && set_pk(op, pk, err) != 0) {
        free(op->pk_text);
        free(op);
        return NULL;
    }
    return op;
}

int alch_session_get(alch_session *s, const alch_model *m, alch_value pk, void **out,
                     alch_error *err)
{
    int rc = check_face(s, false, err);
    if (rc)
        return rc;
    if (!out)
        return alch__error_set(err, ALCH_EMISUSE, "alch_session_get needs an out pointer");
    *out = NULL;
    alch__sop *op = get_op(s, m, pk, err);
    return op ? run_sync(s, op, out, err) : err ? err->code : ALCH_EMISUSE;
}

static const alch_relationship *find_rel(const alch_model *m, const char *name, alch_error *err)
{
    for (size_t i = 0; i < m->nrelationships; i++)
        if (strcmp(m->relationships[i].name, name) == 0)
            return &m->relationships[i];
    alch__error_set(err, ALCH_EARGUMENT, "model %s has no relationship named '%s'", m->name,
                    name);
    if (m->nrelationships)
        alch__error_hint(err, "its relationships: %s%s", m->relationships[0].name,
                         m->nrelationships > 1 ? ", ..." : "");
    return NULL;
}

static alch__sop *obj_op(alch_session *s, alch__opkind kind, const alch_model *m, void *obj,
                         const char *rel, alch_error *err)
{
    if (check_model(s, m, obj, err) != 0)
        return NULL;
    alch__rec *r = find_by_ptr(s, obj);
    if (!r || r->state != ALCH_PERSISTENT) {
        alch__error_set(err, ALCH_EMISUSE, "this %s is not persistent in the session",
                        m->name);
        alch__error_hint(err, "flush or commit it first, or load it with alch_session_get()");
        return NULL;
    }
    const alch_relationship *found = NULL;
    if (rel && !(found = find_rel(m, rel, err)))
        return NULL;
    alch__sop *op = make_op(s, kind, m, obj, err);
    if (op)
        op->rel = found;
    return op;
}

int alch_session_refresh(alch_session *s, const alch_model *m, void *obj, alch_error *err)
{
    int rc = check_face(s, false, err);
    if (rc)
        return rc;
    alch__sop *op = obj_op(s, OP_REFRESH, m, obj, NULL, err);
    return op ? run_sync(s, op, NULL, err) : err ? err->code : ALCH_EMISUSE;
}

int alch_session_load(alch_session *s, const alch_model *m, void *obj, const char *relationship,
                      alch_error *err)
{
    int rc = check_face(s, false, err);
    if (rc)
        return rc;
    if (!relationship)
        return alch__error_set(err, ALCH_EMISUSE, "alch_session_load needs a relationship name");
    alch__sop *op = obj_op(s, OP_LOAD, m, obj, relationship, err);
    return op ? run_sync(s, op, NULL, err) : err ? err->code : ALCH_EMISUSE;
}

int alch_session_execute(alch_session *s, const char *sql, const alch_value *params,
                         size_t nparams, alch_result **res, alch_error *err)
{
    int rc = check_face(s, false, err);
    if (rc)
        return rc;
    alch__sop *op = make_op(s, OP_EXECUTE, NULL, NULL, err);
    if (!op)
        return ALCH_ENOMEM;
    op->exec_sql = sql;
    op->exec_params = params;
    op->exec_n = nparams;
    void *got = NULL;
    rc = run_sync(s, op, &got, err);
    if (res)
        *res = got;
    else
        alch_result_free(got);
    return rc;
}

int alch_session_scope(alch_sessionmaker *maker, alch_session_work_fn work, void *data,
                       alch_error *err)
{
    if (!work)
        return alch__error_set(err, ALCH_EMISUSE, "alch_session_scope needs a work function");
    alch_session *s = NULL;
    int rc = alch_session_open(maker, &s, err);
    if (rc)
        return rc;
    rc = work(s, data, err);
    if (rc == 0)
        rc = alch_session_commit(s, err);
    if (rc != 0)
        alch_session_rollback(s, NULL); /* keep the first error */
    alch_session_close(s);
    return rc;
}

/* ---- async faces ---------------------------------------------------------------------- */

static int start_async(alch_session *s, alch__sop *op, alch_session_cb cb, void *data)
{
    if (!op)
        return ALCH_ENOMEM;
    if (!cb) {
        free(op->pk_text);
        free(op);
        return ALCH_EMISUSE;
    }
    op->cb = cb;
    op->data = data;
    return start_op(s, op, &s->start_err);
}

int alch_session_flush_async(alch_session *s, alch_session_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    return rc ? rc : start_async(s, new_op(OP_FLUSH, NULL, NULL), cb, data);
}

int alch_session_commit_async(alch_session *s, alch_session_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    return rc ? rc : start_async(s, new_op(OP_COMMIT, NULL, NULL), cb, data);
}

int alch_session_rollback_async(alch_session *s, alch_session_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    return rc ? rc : start_async(s, new_op(OP_ROLLBACK, NULL, NULL), cb, data);
}

int alch_session_get_async(alch_session *s, const alch_model *m, alch_value pk,
                           alch_session_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    if (rc)
        return rc;
    alch__sop *op = get_op(s, m, pk, &s->start_err);
    return op ? start_async(s, op, cb, data) : ALCH_EMISUSE;
}

int alch_session_refresh_async(alch_session *s, const alch_model *m, void *obj,
                               alch_session_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    if (rc)
        return rc;
    alch__sop *op = obj_op(s, OP_REFRESH, m, obj, NULL, &s->start_err);
    return op ? start_async(s, op, cb, data) : ALCH_EMISUSE;
}

int alch_session_load_async(alch_session *s, const alch_model *m, void *obj,
                            const char *relationship, alch_session_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    if (rc)
        return rc;
    if (!relationship)
        return ALCH_EMISUSE;
    alch__sop *op = obj_op(s, OP_LOAD, m, obj, relationship, &s->start_err);
    return op ? start_async(s, op, cb, data) : ALCH_EMISUSE;
}
