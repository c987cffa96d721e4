/* The session: a unit of work with an identity map, on top of one pooled connection.
 *
 * Every operation is a small stage machine (connect → flush → query or end the
 * transaction → done) whose steps are the connection's async calls. The sync faces run
 * the same machine on the engine's private loop until it is done. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/base_internal.h"
#include "driver/error_internal.h"
#include "driver/result_internal.h"
#include "session/session_internal.h"
#include "statement/statement_internal.h"
#include "util/quarantine.h"

/* Chunks each free list of a factory keeps: enough for the sessions of 64 requests at once. */
enum { FREE_MAX = 64 };

static void finish(alch_session *s, int status, const alch_error *err);

/* ---- the factory --------------------------------------------------------------------- */

alch_sessionmaker_options alch_sessionmaker_options_default(void)
{
    return (alch_sessionmaker_options){
        .autoflush = true, .expire_on_commit = false, .autobegin = true};
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
                                   "model %s has %zu columns: a session tracks at most 64", m->name,
                                   m->ncolumns);
    }
    alch_sessionmaker *mk = calloc(1, sizeof *mk);
    if (!mk)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    *mk = (alch_sessionmaker){
        .engine = engine,
        .base = base,
        .opts = o,
        .sops = {.max = FREE_MAX, .size = sizeof(alch__sop)},
        .blocks = {.max = FREE_MAX, .size = alch__arena_first_size()},
        .tables = {.max = 2 * FREE_MAX, .size = ALCH__FIRST_BUCKETS * sizeof(alch__rec *)},
    };
    const char *check = getenv("ALCH_DEBUG_AUTOFLUSH");
    mk->check_autoflush = check && *check && strcmp(check, "0") != 0;
    *out = mk;
    return 0;
}

void alch_sessionmaker_free(alch_sessionmaker *maker)
{
    if (maker) {
        alch__sql_cache_free(maker);
        alch__keysrc_free(maker);
        alch__freelist_drain(&maker->sops);
        alch__freelist_drain(&maker->blocks);
        alch__freelist_drain(&maker->tables);
    }
    free(maker);
}

/* ---- open, close ---------------------------------------------------------------------- */

int alch_session_open(alch_sessionmaker *maker, alch_session **out, alch_error *err)
{
    if (!maker || !out)
        return alch__error_set(err, ALCH_EMISUSE,
                               "alch_session_open needs a factory and an "
                               "out pointer");
    alch_session *s = calloc(1, sizeof *s);
    if (!s)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    s->magic = SESSION_LIVE;
    s->maker = maker;
    s->engine = maker->engine;
    s->epoch = 1; /* records start at 0: in no set */
    s->arena.spare = &maker->blocks;
    *out = s;
    return 0;
}

static void release_session(void *p)
{
    alch_session *s = p;
    alch_error_clear(&s->start_err); /* a call made on it while it waited here */
    free(s);
}

/* Closed sessions wait here a while (util/quarantine.h): a call on one says so. */
static alch__quarantine closed_sessions = {.release = release_session};

__attribute__((destructor)) static void drain_closed_sessions(void)
{
    alch__quarantine_drain(&closed_sessions);
}

int alch__session_closed(const alch_session *s, alch_error *err)
{
    /* closing: closed inside one of its callbacks, its memory freed when that returns */
    if (s->magic == SESSION_LIVE && !s->closing)
        return 0;
    alch__error_set(err, ALCH_EMISUSE,
                    "this session was closed (alch_session_close): it cannot be used again");
    alch__error_hint(err, "open a new one with alch_session_open(), and keep each session "
                          "open until its last call");
    return ALCH_EMISUSE;
}

static void undefer(alch_session *s);

/* What the session loaded and tracks: freed at the close itself, even inside one of its
 * callbacks (whose header lives on until it returns), so an object read after the close is a
 * use-after-free AddressSanitizer reports, not stale data. */
static void drop_objects(alch_session *s)
{
    alch__tables_free(s, s->nbuckets, s->by_ptr, s->by_key);
    free(s->touched);
    alch__arena_free(&s->arena);
    s->by_ptr = s->by_key = NULL;
    s->touched = NULL;
    s->ntouched = s->captouched = 0;
    s->first = s->last = NULL;
    s->nbuckets = s->nrecs = s->unflushed = 0;
}

static void really_close(alch_session *s)
{
    undefer(s);
    drop_objects(s);
    alch_error_clear(&s->start_err);
    /* The header waits, closed and empty: a call on it is a MisuseError, not a crash. */
    *s = (alch_session){.magic = SESSION_CLOSED};
    alch__quarantine_put(&closed_sessions, s);
}

void alch_session_close(alch_session *s)
{
    if (!s || s->magic != SESSION_LIVE || s->closing) /* closed twice: the first close counts */
        return;
    s->closing = true;
    alch__streams_detach(s);
    s->refs++;
    if (s->conn) { /* an open transaction is rolled back by the pool */
        alch_conn *c = s->conn;
        s->conn = NULL;
        alch_conn_close(c); /* an operation in flight ends with ALCH_ECANCELED */
    }
    if (s->npipe || s->piping) { /* a pipeline never sent: its statements are told */
        alch__sop **q = s->pipe;
        size_t n = s->npipe;
        s->pipe = NULL;
        s->npipe = s->cappipe = 0;
        s->piping = false;
        alch__pipe_callbacks(s, q, n, NULL, ALCH_ECANCELED, NULL);
    }
    if (s->op) { /* waiting for a connection: it will be closed when it arrives */
        alch_error e = ALCH_ERROR_INIT;
        alch__error_set(&e, ALCH_ECANCELED, "the session was closed");
        finish(s, ALCH_ECANCELED, &e);
        alch_error_clear(&e);
    }
    drop_objects(s);
    if (--s->refs > 0) {
        s->close_pending = true;
        return;
    }
    really_close(s);
}

/* ---- add, delete, state --------------------------------------------------------------- */

/* Fills *map with the model's mapper. Every entry point that takes a model asks this once;
 * from there on the session reads the mapper, never a name. */
static int check_model(alch_session *s, const alch_model *m, const void *obj,
                       const alch__mapper **map, alch_error *err)
{
    *map = NULL; /* set on every path: -O3 cannot tell that an error code is never 0 */
    if (!s || !m || !obj)
        return alch__error_set(err, ALCH_EMISUSE, "a session, a model and an object are needed");
    if (alch__session_closed(s, err))
        return ALCH_EMISUSE;
    if (!(*map = alch__base_mapper(s->maker->base, m))) {
        alch__error_set(err, ALCH_EMISUSE, "model %s (table '%s') is not in this session's base",
                        m->name, m->table);
        alch__error_hint(err, "add it with alch_base_add() before creating the sessionmaker");
        return ALCH_EMISUSE;
    }
    return 0;
}

static int check_idle(alch_session *s, alch_error *err)
{
    if (alch__session_closed(s, err))
        return ALCH_EMISUSE;
    if (s->op) {
        alch__error_set(err, ALCH_EBUSY,
                        "this session is already running an operation: one session per task");
        alch__error_hint(err, "wait for its callback, or open another session for this task");
        return ALCH_EBUSY;
    }
    return 0;
}

/* add() and delete() change what the next flush sends: not while an operation runs. */
static int check_change(alch_session *s, const alch_model *m, const void *obj,
                        const alch__mapper **map, alch_error *err)
{
    int rc = check_model(s, m, obj, map, err);
    return rc ? rc : check_idle(s, err);
}

int alch_session_add(alch_session *s, const alch_model *m, void *obj, alch_error *err)
{
    const alch__mapper *map;
    int rc = check_change(s, m, obj, &map, err);
    if (rc)
        return rc;
    alch__rec *r = alch__rec_by_ptr(s, obj);
    if (r) {
        if (r->model != m)
            return alch__error_set(err, ALCH_EMISUSE,
                                   "this object is already in the session "
                                   "as a %s, not a %s",
                                   r->model->name, m->name);
        if (r->state == ALCH_DELETED && !r->deleted_in_tx)
            alch__rec_set(s, r, ALCH_PERSISTENT, false); /* add() undoes an unflushed delete() */
        alch__touch(s, r); /* handed back: the next autoflush looks at it */
        return 0;
    }
    if (!alch__track(s, map, obj, ALCH_PENDING))
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
    const alch__mapper *map;
    int rc = check_change(s, m, obj, &map, err);
    if (rc)
        return rc;
    alch__rec *r = alch__rec_by_ptr(s, obj);
    if (!r) {
        alch__error_set(err, ALCH_EMISUSE, "this %s is not in the session", m->name);
        alch__error_hint(err, "load it with alch_session_get() (or add it) before deleting it");
        return ALCH_EMISUSE;
    }
    if (r->state == ALCH_PENDING) {
        alch__untrack(s, r);
    } else {
        alch__rec_set(s, r, ALCH_DELETED, r->deleted_in_tx);
        alch__touch(s, r);
    }
    return 0;
}

const alch_error *alch_session_start_error(const alch_session *s)
{
    return s ? &s->start_err : NULL;
}

alch_object_state alch_session_state(const alch_session *s, const void *obj)
{
    const alch__rec *r =
        s && obj && !alch__session_closed(s, NULL) ? alch__rec_by_ptr(s, obj) : NULL;
    return r ? r->state : ALCH_TRANSIENT;
}

/* ---- the operation machinery --------------------------------------------------------- */

/* Continue on the next loop turn: an async call never completes before it returns (through
 * the engine's one queue of deferred steps). */
static void undefer(alch_session *s)
{
    alch__engine_undefer(s->engine, &s->defer);
}

static void on_deferred(alch__deferred *d)
{
    alch_session *s = (alch_session *)((char *)d - offsetof(alch_session, defer));
    if (s->op)
        alch__session_step(s);
}

static int defer(alch_session *s)
{
    s->defer.run = on_deferred;
    return alch__engine_defer(s->engine, &s->defer);
}

/* An operation's own copies; the op itself is freed by its caller. */
static void op_drop_inputs(alch__sop *op)
{
    alch__inputs_free(&op->in);
    free(op->eager_own);
}

/* An operation that never ran. */
static void drop_op(alch_session *s, alch__sop *op)
{
    op_drop_inputs(op);
    alch__freelist_put(&s->maker->sops, op);
}

/* The caller's callback, with the answer as its type says (obj is what finish() found). */
static void call_back(alch_session *s, const alch__sop_cb *cb, int status, void *obj,
                      const alch_error *err, void *data)
{
    switch (cb->kind) {
    case CB_DONE:
        cb->fn.done(s, status, err, data);
        return;
    case CB_OBJECT:
        cb->fn.object(s, status, obj, err, data);
        return;
    case CB_OBJECTS:
        cb->fn.objects(s, status, obj, err, data);
        return;
    case CB_RESULT:
        cb->fn.result(s, status, obj, err, data);
        return;
    }
}

static void finish(alch_session *s, int status, const alch_error *err)
{
    alch__sop *op = s->op;
    s->op = NULL;
    if (op->queued) { /* a pipeline's statements are called back first, in order */
        alch__sop **q = op->queued;
        op->queued = NULL;
        s->refs++; /* closed in one of them: freed at the end of this finish */
        alch__pipe_callbacks(s, q, op->nqueued, op, status, err);
        s->refs--;
    }
    alch_error_clear(&op->pipe_err);
    void *obj = NULL;
    if (status == 0 && (op->kind == OP_EXECUTE || op->kind == OP_STMT))
        obj = op->mode == Q_SCALARS ? (void *)op->list
              : op->exec_res        ? (void *)op->exec_res
                                    : op->obj;
    else if (status == 0 && op->kind == OP_GET)
        obj = op->obj;
    else
        alch_result_free(op->exec_res); /* a failure after the result came: nobody takes it */
    alch__sop_cb cb = op->cb;
    void *data = op->data;
    free(op->plan);
    free(op->links);
    free(op->revisit);
    alch__flush_ctx_free(op->flush);
    op_drop_inputs(op);
    alch__freelist_put(&s->maker->sops, op);
    s->refs++;
    call_back(s, &cb, status, obj, status ? err : NULL, data);
    if (--s->refs == 0 && s->close_pending)
        really_close(s);
}

void alch__session_fail(alch_session *s, int status, const alch_error *err)
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
        alch__session_fail(s, status, err);
    } else {
        s->conn = c;
        alch__session_step(s);
    }
    if (--s->refs == 0 && s->close_pending)
        really_close(s);
}

static int start_op(alch_session *s, alch__sop *op, alch_error *err)
{
    int rc = check_idle(s, err);
    if (rc == 0 && s->piping) {
        rc = alch__error_set(err, ALCH_EMISUSE,
                             "this session is filling a pipeline (alch_session_pipeline): only "
                             "alch_session_execute_text_async() joins it");
        alch__error_hint(err, "send it with alch_session_commit_async() (or drop it with "
                              "alch_session_rollback_async()), then make this call");
    }
    if (rc) {
        if (op->queued)
            alch__pipe_give_back(s, op);
        drop_op(s, op);
        return rc;
    }
    s->op = op;
    op->stage = ST_START;
    /* the first step runs on the next loop turn, so callbacks never run inside this call */
    rc = defer(s);
    if (rc) {
        s->op = NULL;
        if (op->queued)
            alch__pipe_give_back(s, op);
        drop_op(s, op);
        return alch__error_set(err, rc, "out of memory");
    }
    return 0;
}

/* ---- end of a transaction ------------------------------------------------------------ */

static void after_commit(alch_session *s)
{
    s->begun = false;
    alch__touched_clear(s); /* the commit's flush looked at every object */
    for (alch__rec *r = s->first; r; r = r->next) {
        if (r->state == ALCH_TRANSIENT)
            continue;
        if (r->state == ALCH_DELETED && r->deleted_in_tx) {
            alch__untrack(s, r);
            continue;
        }
        r->inserted_in_tx = false;
        r->committed = r->flushed;
    }
}

static void after_rollback(alch_session *s)
{
    s->begun = false;
    alch__touched_clear(s); /* every object is as the database has it */
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
            alch__untrack(s, r);
            continue;
        }
        if (r->committed) {
            alch__restore(s, r->model, r->obj, r->committed);
            r->flushed = r->committed;
        }
        alch__rec_set(s, r, ALCH_PERSISTENT, false);
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

void alch__session_tx_ended(alch_session *s, bool committed)
{
    if (s->closing)
        return;
    if (committed)
        after_commit(s);
    else
        after_rollback(s);
    release_conn(s);
}

static void on_tx_end(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
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
        alch__session_fail(s, status, err);
    else
        alch__session_step(s);
}

/* ---- reading rows into objects -------------------------------------------------------- */

static int load_fields(alch_session *s, const alch_model *m, void *obj, const alch_result *res,
                       size_t row, alch_error *err)
{
    return alch__fields_load(m, obj, res, row, &s->arena, err);
}

/* The object for a row: the one the identity map already has, or a new one. */
int alch__row_object(alch_session *s, const alch__mapper *map, const alch_result *res, size_t row,
                     void **out, alch_error *err)
{
    const alch_model *m = map->model;
    void *obj = alch__arena_alloc(&s->arena, m->size);
    if (!obj)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    int rc = load_fields(s, m, obj, res, row, err);
    if (rc)
        return rc;
    alch__key k;
    if (alch__key_of(map, obj, &k) != 0)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    alch__rec *known = alch__rec_by_key(s, k.hash, k.s);
    const char *key = known ? NULL : alch__key_keep(s, &k);
    alch__key_done(&k);
    if (!known && !key)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    if (known && s->op && s->op->kind == OP_STMT && s->op->writes) {
        /* an UPDATE (or INSERT) ... RETURNING: the row is what the database has now; the
         * autoflush before it sent any change the object had */
        rc = load_fields(s, m, known->obj, res, row, err);
        if (rc == 0 && !(known->flushed = alch__snapshot_loaded(s, m, known->obj)))
            rc = alch__error_set(err, ALCH_ENOMEM, "out of memory");
        *out = known->obj;
        alch__touch(s, known);
        return rc;
    }
    if (known) { /* one object per row: keep the one the program already holds */
        *out = known->obj;
        alch__touch(s, known); /* handed out again */
        return 0;
    }
    alch__rec *r = alch__track(s, map, obj, ALCH_PERSISTENT);
    if (!r)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    r->owned = true;
    r->key = key;
    r->keyhash = k.hash;
    alch__link_key(s, r);
    r->flushed = alch__snapshot_loaded(s, m, obj);
    r->committed = r->flushed; /* what a rollback restores */
    if (!r->flushed)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    *out = obj;
    return 0;
}

static void on_query(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data);

/* The model whose rows the session reads itself from op's answer, or NULL when the result
 * is handed to the caller (alch_session_execute, a statement's result or row). */
static const alch_model *rows_model(const alch__sop *op)
{
    switch (op->kind) {
    case OP_STMT:
        return op->mode == Q_RESULT || op->mode == Q_ONE_ROW ? NULL : op->map->model;
    case OP_LOAD:
        return op->relmap->target->model;
    case OP_REFRESH:
        return op->model;
    case OP_GET:
        return op->map->model;
    default:
        return NULL;
    }
}

/* Rows the session reads itself may come in binary (driver.h), from the first answer on
 * when the model's declared types say so and the statement writes nothing: a table that
 * differs from the model then sends an answer on_query cannot read, and it runs again. */
static const alch__rows *rows_of(const alch__sop *op, alch__rows *rows)
{
    const alch_model *m = rows_model(op);
    if (!m)
        return NULL;
    bool writes = op->kind == OP_STMT && op->writes;
    *rows = (alch__rows){alch__fields_binary, m,
                         !writes && !op->text_only && alch__fields_binary_likely(m)};
    return rows;
}

static void start_query(alch_session *s)
{
    alch__sop *op = s->op;
    alch_value val;
    char tmp[ALCH__FIELD_TMP];
    alch_error err = ALCH_ERROR_INIT;
    alch__rows rows;
    int rc = 0;
    if (op->kind == OP_EXECUTE || op->kind == OP_STMT) {
        rc = alch__conn_exec_rows(s->conn, op->exec_sql, op->exec_params, op->exec_n,
                                  rows_of(op, &rows), on_query, s, &err);
        goto sent;
    }
    const char *sql;
    if (op->kind == OP_LOAD) {
        const alch__rel_map *rm = op->relmap;
        if (rm->rel->many) { /* children whose fk = my primary key, in key order */
            rc = alch__field_value(op->model, op->map->pk, op->obj, &val, tmp, &err);
            sql = alch__session_sql(s, SQL_BY_COLUMN, rm->target, rm->fk, 0, 0, 1, &err);
        } else { /* the parent whose primary key = my fk */
            rc = alch__field_value(op->model, rm->fk, op->obj, &val, tmp, &err);
            sql = alch__session_sql(s, SQL_BY_COLUMN, rm->target, rm->target->pk, 0, 0, 1, &err);
        }
    } else { /* get, refresh: by primary key */
        const alch_column *pk = op->map->pk;
        sql = alch__session_sql(s, SQL_BY_COLUMN, op->map, pk, 0, 0, 1, &err);
        if (op->kind == OP_GET)
            val = op->pk;
        else
            rc = alch__field_value(op->model, pk, op->obj, &val, tmp, &err);
    }
    if (rc == 0 && !sql)
        rc = err.code ? err.code : ALCH_ENOMEM;
    if (rc == 0)
        rc = alch__conn_exec_rows(s->conn, sql, &val, 1, rows_of(op, &rows), on_query, s, &err);
sent:
    if (rc)
        alch__session_fail(s, rc, &err);
    alch_error_clear(&err);
}

/* A statement's rows as objects of its model, as op->mode asks. */
static int apply_rows(alch_session *s, alch__sop *op, alch_result *res, alch_error *err)
{
    size_t rows = alch_result_rows(res);
    const alch_model *m = op->map->model;
    if (op->mode == Q_SCALARS) {
        op->list = alch__arena_alloc(&s->arena, sizeof *op->list);
        void **items = alch__arena_alloc(&s->arena, (rows ? rows : 1) * sizeof *items);
        if (!op->list || !items || alch__identity_reserve(s, rows) != 0)
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        for (size_t i = 0; i < rows; i++) {
            int rc = alch__row_object(s, op->map, res, i, &items[i], err);
            if (rc)
                return rc;
        }
        *op->list = (alch_list){items, rows};
        return 0;
    }
    if (rows > 1 && op->mode != Q_FIRST) {
        alch__error_set(err, ALCH_EMULTIPLE, "expected at most one %s, the query returned %zu rows",
                        m->name, rows);
        alch__error_statement(err, op->exec_sql, NULL);
        return ALCH_EMULTIPLE;
    }
    if (rows == 0 && op->mode == Q_ONE) {
        alch__error_set(err, ALCH_ENORESULT, "expected one %s, the query returned no row", m->name);
        alch__error_statement(err, op->exec_sql, NULL);
        return ALCH_ENORESULT;
    }
    op->obj = NULL;
    return rows ? alch__row_object(s, op->map, res, 0, &op->obj, err) : 0;
}

static int apply_query(alch_session *s, alch__sop *op, alch_result *res, alch_error *err)
{
    size_t rows = alch_result_rows(res);
    if (op->kind == OP_GET) {
        op->obj = NULL;
        return rows ? alch__row_object(s, op->map, res, 0, &op->obj, err) : 0;
    }
    if (op->kind == OP_REFRESH) {
        if (rows == 0) {
            alch__error_set(err, ALCH_EDATABASE, "the %s row was deleted by someone else",
                            op->model->name);
            return ALCH_EDATABASE;
        }
        int rc = load_fields(s, op->model, op->obj, res, 0, err);
        alch__rec *r = alch__rec_by_ptr(s, op->obj);
        if (rc == 0 && r) {
            alch__touch(s, r);
            r->flushed = alch__snapshot_loaded(s, op->model, op->obj);
            if (!r->flushed)
                return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        }
        return rc;
    }
    /* OP_LOAD */
    const alch__mapper *target = op->relmap->target;
    char *field = (char *)op->obj + op->relmap->rel->offset;
    if (!op->relmap->rel->many) {
        alch_one *one = (alch_one *)field;
        one->obj = NULL;
        if (rows) {
            int rc = alch__row_object(s, target, res, 0, &one->obj, err);
            if (rc)
                return rc;
        }
        one->loaded = true;
        return 0;
    }
    alch_many *many = (alch_many *)field;
    void **items = alch__arena_alloc(&s->arena, (rows ? rows : 1) * sizeof *items);
    if (!items || alch__identity_reserve(s, rows) != 0)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    for (size_t i = 0; i < rows; i++) {
        int rc = alch__row_object(s, target, res, i, &items[i], err);
        if (rc)
            return rc;
    }
    *many = (alch_many){items, rows, true};
    return 0;
}

static bool eager_left(const alch__sop *op)
{
    return op->eager < op->neager;
}

static void on_query(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    alch_session *s = data;
    if (!s->op) {
        alch_result_free(res);
        return;
    }
    alch__sop *op = s->op;
    if (status) {
        alch__session_fail(s, status, err);
        return;
    }
    const alch_model *m = rows_model(op);
    if (m && alch__result_binary(res) && !alch__fields_binary_readable(res, m) && !op->text_only) {
        /* tried in binary, and the table's column types are not the model's: in text now (the
         * statement remembers; it wrote nothing) */
        alch_result_free(res);
        op->text_only = true;
        start_query(s);
        return;
    }
    alch_error local = ALCH_ERROR_INIT;
    int rc = 0;
    bool hand_over = op->kind == OP_EXECUTE ||
                     (op->kind == OP_STMT && (op->mode == Q_RESULT || op->mode == Q_ONE_ROW));
    if (hand_over && op->mode == Q_ONE_ROW && alch_result_rows(res) != 1) {
        size_t rows = alch_result_rows(res);
        rc = alch__error_set(&local, rows ? ALCH_EMULTIPLE : ALCH_ENORESULT,
                             "expected one row, the query returned %zu", rows);
        alch__error_statement(&local, op->exec_sql, NULL);
        hand_over = false;
    } else if (hand_over) {
        op->exec_res = res; /* handed to the caller */
    } else {
        rc = op->kind == OP_STMT ? apply_rows(s, op, res, &local) : apply_query(s, op, res, &local);
    }
    if (!hand_over)
        alch_result_free(res);
    if (rc)
        alch__session_fail(s, rc, &local);
    else if (op->kind == OP_STMT && !hand_over && eager_left(op))
        alch__eager_next(s); /* alch_selectin: the relationships, then the next step */
    else
        alch__session_step(s);
    alch_error_clear(&local);
}

/* ---- the stage machine ---------------------------------------------------------------- */

static void on_conn(alch_conn *c, int status, const alch_error *err, void *data);

static bool wants_flush(const alch_session *s, const alch__sop *op)
{
    if (op->kind == OP_FLUSH || op->kind == OP_COMMIT)
        return true;
    if (!s->maker->opts.autoflush)
        return false;
    /* before SQL of yours, everything (it may read any column); before get() and load(),
     * new and deleted objects, which is what can change their answer: counting them is
     * O(1), while finding changed fields needs a scan of every tracked object */
    return op->kind == OP_EXECUTE || op->kind == OP_STMT ||
           ((op->kind == OP_GET || op->kind == OP_LOAD) && s->unflushed);
}

/* A many-to-one load whose parent the session already holds needs no query. */
static bool load_known_parent(alch_session *s, alch__sop *op)
{
    const alch__rel_map *rm = op->relmap;
    alch_value val;
    char tmp[ALCH__FIELD_TMP];
    if (alch__field_value(op->model, rm->fk, op->obj, &val, tmp, NULL) != 0)
        return false;
    alch__key k;
    if (alch__key_make(rm->target->model, &val, &k) != 0)
        return false;
    alch__rec *r = alch__rec_by_key(s, k.hash, k.s);
    alch__key_done(&k);
    if (!r || r->state == ALCH_DELETED)
        return false;
    alch_one *one = (alch_one *)((char *)op->obj + rm->rel->offset);
    *one = (alch_one){r->obj, true};
    alch__touch(s, r); /* handed out through the relationship */
    return true;
}

static bool is_query(const alch__sop *op)
{
    return op->kind == OP_GET || op->kind == OP_REFRESH || op->kind == OP_LOAD ||
           op->kind == OP_EXECUTE || op->kind == OP_STMT;
}

/* The stage says what to do next; each async step calls alch__session_step() again when it is done.
 */
void alch__session_step(alch_session *s)
{
    alch__sop *op = s->op;
    alch_error err = ALCH_ERROR_INIT;
    int rc = 0;
    switch (op->stage) {
    case ST_START:
        op->stage = ST_FLUSH;
        if (op->kind == OP_GET) { /* the identity map first: no round trip for a known key */
            alch__key k;
            alch__rec *r = NULL;
            if (alch__key_make(op->model, &op->pk, &k) == 0) {
                r = alch__rec_by_key(s, k.hash, k.s);
                alch__key_done(&k);
            }
            if (r && r->state != ALCH_DELETED) {
                op->obj = r->obj;
                alch__touch(s, r); /* handed out again */
                op->stage = ST_DONE;
                alch__session_step(s);
                return;
            }
        }
        if (op->kind == OP_LOAD && !op->relmap->rel->many && load_known_parent(s, op)) {
            op->stage = ST_DONE;
            alch__session_step(s);
            return;
        }
        /* before asking whether there is anything to flush (the flush itself relates again,
         * collecting the children that wait for new parents) */
        if (!s->conn && !is_query(op) && wants_flush(s, op) && alch__relate(s, &err) != 0) {
            alch__session_fail(s, err.code, &err);
            alch_error_clear(&err);
            return;
        }
        /* a connection only when a round trip is needed: a commit of nothing sends nothing */
        if (!s->conn &&
            (is_query(op) || op->nqueued || (wants_flush(s, op) && alch__has_changes(s)))) {
            if (!s->maker->opts.autobegin && !s->begun) {
                alch__error_set(&err, ALCH_EMISUSE,
                                "autobegin is off for this session's factory, and no "
                                "transaction was begun");
                alch__error_hint(&err, "call alch_session_begin(s, &err) first; each commit "
                                       "or rollback ends the transaction");
                alch__session_fail(s, ALCH_EMISUSE, &err);
                alch_error_clear(&err);
                return;
            }
            if (alch__engine_freed(s->engine)) {
                alch__error_set(&err, ALCH_ECLOSED, "the session's engine was freed");
                alch__session_fail(s, ALCH_ECLOSED, &err);
                alch_error_clear(&err);
                return;
            }
            s->refs++; /* the pool holds this session until on_conn */
            rc = alch__engine_checkout(s->engine, on_conn, s);
            if (rc) {
                s->refs--;
                alch__error_set(&err, rc, "out of memory");
                alch__session_fail(s, rc, &err);
                alch_error_clear(&err);
            }
            return;
        }
        alch__session_step(s);
        return;
    case ST_FLUSH:
        op->stage = ST_QUERY;
        if (wants_flush(s, op) && s->conn) {
            if (alch__make_plan(s, op, &err) != 0) {
                alch__session_fail(s, err.code, &err);
                alch_error_clear(&err);
                return;
            }
            op->cur = 0;
            alch__flush_next(s); /* calls alch__session_step() when the plan is done */
            return;
        }
        alch__session_step(s);
        return;
    case ST_QUERY:
        if (is_query(op)) {
            op->stage = ST_DONE;
            start_query(s); /* on_query calls alch__session_step() */
            return;
        }
        op->stage = ST_END_TX;
        alch__session_step(s);
        return;
    case ST_END_TX:
        op->stage = ST_DONE;
        if (op->kind != OP_COMMIT && op->kind != OP_ROLLBACK) {
            alch__session_step(s);
            return;
        }
        if (!s->conn) { /* nothing was sent: only the bookkeeping */
            if (op->kind == OP_COMMIT)
                after_commit(s);
            else
                after_rollback(s);
            alch__session_step(s);
            return;
        }
        if (op->kind == OP_COMMIT && op->nqueued) { /* the pipeline: statements and COMMIT */
            rc = alch__pipe_send(s, &err);
            if (rc)
                alch__session_fail(s, rc, &err);
            alch_error_clear(&err);
            return;
        }
        const char *verb = op->kind == OP_COMMIT ? "COMMIT" : "ROLLBACK";
        rc = alch__conn_simple(s->conn, alch_conn_in_transaction(s->conn) ? verb : NULL, NULL, 0,
                               false, on_tx_end, s, &err);
        if (rc)
            alch__session_fail(s, rc, &err);
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

static alch__sop *new_op(alch_session *s, alch__opkind kind)
{
    alch__sop *op = alch__freelist_get(&s->maker->sops);
    if (op) {
        memset(op, 0, sizeof *op);
        op->kind = kind;
    }
    return op;
}

static int check_face(alch_session *s, bool async, alch_error *err)
{
    if (!s)
        return alch__error_set(err, ALCH_EMISUSE, "no session (NULL)");
    if (alch__session_closed(s, err))
        return ALCH_EMISUSE;
    bool sync_engine = alch__engine_is_sync(s->engine);
    if (async && sync_engine) {
        alch__error_set(err, ALCH_EMISUSE,
                        "this session's engine has a private loop: use the "
                        "sync calls (alch_session_commit, ...)");
        alch__error_hint(err, "for async sessions create the engine with "
                              "alch_engine_create_on_loop()");
        return ALCH_EMISUSE;
    }
    if (!async && !sync_engine) {
        alch__error_set(err, ALCH_EMISUSE,
                        "this session's engine runs on your libuv loop: use "
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

static void on_sync_done(alch_session *s, int status, void *obj, const alch_error *err, void *data)
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
    op->cb = (alch__sop_cb){CB_OBJECT, {.object = on_sync_done}};
    op->data = &w;
    int rc = start_op(s, op, err);
    if (rc)
        return rc;
    alch__conn_wait(alch__engine_loop(s->engine), &w.done);
    if (obj)
        *obj = w.obj;
    return w.status;
}

static alch__sop *make_op(alch_session *s, alch__opkind kind, const alch__mapper *map, void *obj,
                          alch_error *err)
{
    alch__sop *op = new_op(s, kind);
    if (!op) {
        alch__error_set(err, ALCH_ENOMEM, "out of memory");
        return NULL;
    }
    op->map = map;
    op->model = map ? map->model : NULL;
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

/* The key is copied: the async call outlives the caller's string. */
static int set_pk(alch__sop *op, alch_value pk, alch_error *err)
{
    if (pk.type == ALCH_V_NULL)
        return alch__error_set(err, ALCH_EMISUSE, "a primary key cannot be NULL");
    int rc = alch__inputs_copy(&op->in, NULL, &pk, 1, err);
    if (rc == 0)
        op->pk = op->in.params[0];
    return rc;
}

static alch__sop *get_op(alch_session *s, const alch_model *m, alch_value pk, alch_error *err)
{
    static const char present = 0; /* get has no object yet: only the model is checked */
    const alch__mapper *map;
    if (check_model(s, m, &present, &map, err) != 0)
        return NULL;
    alch__sop *op = make_op(s, OP_GET, map, NULL, err);
    if (op && set_pk(op, pk, err) != 0) {
        drop_op(s, op);
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

static alch__sop *obj_op(alch_session *s, alch__opkind kind, const alch_model *m, void *obj,
                         const char *rel, alch_error *err)
{
    const alch__mapper *map;
    if (check_model(s, m, obj, &map, err) != 0)
        return NULL;
    alch__rec *r = alch__rec_by_ptr(s, obj);
    if (!r || r->state != ALCH_PERSISTENT) {
        alch__error_set(err, ALCH_EMISUSE, "this %s is not persistent in the session", m->name);
        alch__error_hint(err, "flush or commit it first, or load it with alch_session_get()");
        return NULL;
    }
    const alch__rel_map *found = NULL;
    if (rel && !(found = alch__mapper_rel(map, rel, err)))
        return NULL;
    alch__sop *op = make_op(s, kind, map, obj, err);
    if (op)
        op->relmap = found;
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

int alch_session_execute_text(alch_session *s, const char *sql, const alch_value *params,
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

int alch_session_begin(alch_session *s, alch_error *err)
{
    if (!s)
        return alch__error_set(err, ALCH_EMISUSE, "alch_session_begin needs a session");
    int rc = check_idle(s, err);
    if (rc)
        return rc;
    if (s->begun || s->conn) {
        alch__error_set(err, ALCH_EMISUSE, "a transaction is already begun on this session");
        alch__error_hint(err, "commit or roll it back first");
        return ALCH_EMISUSE;
    }
    s->begun = true;
    return 0;
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
    rc = alch_session_begin(s, err);
    if (rc == 0)
        rc = work(s, data, err);
    if (rc == 0)
        rc = alch_session_commit(s, err);
    if (rc != 0)
        alch_session_rollback(s, NULL); /* keep the first error */
    alch_session_close(s);
    return rc;
}

/* ---- async faces ---------------------------------------------------------------------- */

static bool cb_given(const alch__sop_cb *cb)
{
    switch (cb->kind) {
    case CB_DONE:
        return cb->fn.done != NULL;
    case CB_OBJECT:
        return cb->fn.object != NULL;
    case CB_OBJECTS:
        return cb->fn.objects != NULL;
    case CB_RESULT:
        return cb->fn.result != NULL;
    }
    return false;
}

static int start_async(alch_session *s, alch__sop *op, alch__sop_cb cb, void *data)
{
    if (!op)
        return alch__error_set(&s->start_err, ALCH_ENOMEM, "out of memory");
    if (!cb_given(&cb)) {
        drop_op(s, op);
        return alch__error_set(&s->start_err, ALCH_EMISUSE, "an async call needs a callback");
    }
    op->cb = cb;
    op->data = data;
    return start_op(s, op, &s->start_err);
}

static alch__sop_cb done_cb(alch_session_done_cb fn)
{
    return (alch__sop_cb){CB_DONE, {.done = fn}};
}

static alch__sop_cb object_cb(alch_session_object_cb fn)
{
    return (alch__sop_cb){CB_OBJECT, {.object = fn}};
}

static alch__sop_cb objects_cb(alch_session_objects_cb fn)
{
    return (alch__sop_cb){CB_OBJECTS, {.objects = fn}};
}

static alch__sop_cb result_cb(alch_session_result_cb fn)
{
    return (alch__sop_cb){CB_RESULT, {.result = fn}};
}

int alch_session_flush_async(alch_session *s, alch_session_done_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    return rc ? rc : start_async(s, new_op(s, OP_FLUSH), done_cb(cb), data);
}

/* Commit or rollback: the end of a pipeline being filled, which the op takes along. */
static int end_tx_async(alch_session *s, alch__opkind kind, alch_session_done_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    if (rc)
        return rc;
    alch__sop *op = new_op(s, kind);
    if (op && cb && s->piping)
        alch__pipe_take(s, op);
    return start_async(s, op, done_cb(cb), data);
}

int alch_session_commit_async(alch_session *s, alch_session_done_cb cb, void *data)
{
    return end_tx_async(s, OP_COMMIT, cb, data);
}

int alch_session_rollback_async(alch_session *s, alch_session_done_cb cb, void *data)
{
    return end_tx_async(s, OP_ROLLBACK, cb, data);
}

int alch_session_get_async(alch_session *s, const alch_model *m, alch_value pk,
                           alch_session_object_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    if (rc)
        return rc;
    alch__sop *op = get_op(s, m, pk, &s->start_err);
    return op ? start_async(s, op, object_cb(cb), data) : ALCH_EMISUSE;
}

int alch_session_refresh_async(alch_session *s, const alch_model *m, void *obj,
                               alch_session_done_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    if (rc)
        return rc;
    alch__sop *op = obj_op(s, OP_REFRESH, m, obj, NULL, &s->start_err);
    return op ? start_async(s, op, done_cb(cb), data) : ALCH_EMISUSE;
}

int alch_session_load_async(alch_session *s, const alch_model *m, void *obj,
                            const char *relationship, alch_session_done_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    if (rc)
        return rc;
    if (!relationship)
        return alch__error_set(&s->start_err, ALCH_EMISUSE,
                               "alch_session_load_async needs a relationship name");
    alch__sop *op = obj_op(s, OP_LOAD, m, obj, relationship, &s->start_err);
    return op ? start_async(s, op, done_cb(cb), data) : ALCH_EMISUSE;
}

/* ---- statements ------------------------------------------------------------------------ */

/* An operation that runs a statement; the statement's own mistakes stop it before any I/O. */
static int stmt_op(alch_session *s, alch_stmt *st, alch__qmode mode, alch__sop **out,
                   alch_error *err)
{
    const alch_value *params;
    size_t n;
    int rc = alch__stmt_params(st, s->maker->base, &params, &n, err);
    if (rc)
        return rc;
    const alch__mapper *map = NULL;
    if (mode >= Q_SCALARS) {
        const alch_model *m = alch_stmt_model(st);
        if (!m) {
            alch__error_set(err, ALCH_EMISUSE,
                            "this statement returns columns, not objects of "
                            "a model");
            alch__error_hint(err, "run it with alch_session_execute() and read the result's "
                                  "columns, or select a model: alch_select(&Item_model)");
            return ALCH_EMISUSE;
        }
        if ((rc = check_model(s, m, m, &map, err)) != 0)
            return rc;
    }
    alch__sop *op = make_op(s, OP_STMT, map, NULL, err);
    if (!op)
        return ALCH_ENOMEM;
    op->writes = alch__stmt_writes(st);
    op->neager = alch__stmt_eager(st, &op->eager_names);
    op->mode = mode;
    alch_stmt_sql(st, &op->exec_sql, NULL);
    op->exec_params = params;
    op->exec_n = n;
    *out = op;
    return 0;
}

/* The eager names in one block: pointers, then the strings. */
static char **names_copy(const char *const *names, size_t n)
{
    size_t size = n * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        size += strlen(names[i]) + 1;
    char **out = malloc(size);
    if (!out)
        return NULL;
    char *p = (char *)(out + n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]) + 1;
        out[i] = memcpy(p, names[i], len);
        p += len;
    }
    return out;
}

/* The async face keeps nothing of the caller's: SQL, values and eager names are copied, so
 * the statement may be freed as soon as the call returns. */
static int own_inputs(alch__sop *op, alch_error *err)
{
    int rc = alch__inputs_copy(&op->in, op->exec_sql, op->exec_params, op->exec_n, err);
    if (rc == 0 && op->neager && !(op->eager_own = names_copy(op->eager_names, op->neager)))
        rc = alch__error_set(err, ALCH_ENOMEM, "out of memory");
    if (rc)
        return rc;
    op->exec_sql = op->in.sql;
    op->exec_params = op->in.params;
    if (op->eager_own)
        op->eager_names = (const char *const *)op->eager_own;
    return 0;
}

static int run_stmt(alch_session *s, alch_stmt *st, alch__qmode mode, void **obj, alch_error *err)
{
    alch__sop *op = NULL;
    int rc = check_face(s, false, err);
    if (rc == 0)
        rc = stmt_op(s, st, mode, &op, err);
    if (rc == 0)
        rc = run_sync(s, op, obj, err);
    return rc;
}

int alch_session_scalars(alch_session *s, alch_stmt *st, alch_list *out, alch_error *err)
{
    void *got = NULL;
    int rc = run_stmt(s, st, Q_SCALARS, &got, err);
    if (out)
        *out = rc == 0 && got ? *(alch_list *)got : (alch_list){NULL, 0};
    return rc;
}

int alch_session_scalar_one(alch_session *s, alch_stmt *st, void **out, alch_error *err)
{
    void *got = NULL;
    int rc = run_stmt(s, st, Q_ONE, &got, err);
    if (out)
        *out = got;
    return rc;
}

int alch_session_scalar_one_or_none(alch_session *s, alch_stmt *st, void **out, alch_error *err)
{
    void *got = NULL;
    int rc = run_stmt(s, st, Q_ONE_OR_NONE, &got, err);
    if (out)
        *out = got;
    return rc;
}

int alch_session_first(alch_session *s, alch_stmt *st, void **out, alch_error *err)
{
    void *got = NULL;
    int rc = run_stmt(s, st, Q_FIRST, &got, err);
    if (out)
        *out = got;
    return rc;
}

static int exec_result(alch_session *s, alch_stmt *st, alch__qmode mode, alch_result **res,
                       alch_error *err)
{
    void *got = NULL;
    int rc = run_stmt(s, st, mode, &got, err);
    if (res)
        *res = got;
    else
        alch_result_free(got);
    return rc;
}

int alch_session_execute(alch_session *s, alch_stmt *st, alch_result **res, alch_error *err)
{
    return exec_result(s, st, Q_RESULT, res, err);
}

int alch_session_one(alch_session *s, alch_stmt *st, alch_result **res, alch_error *err)
{
    return exec_result(s, st, Q_ONE_ROW, res, err);
}

static int stmt_async(alch_session *s, alch_stmt *st, alch__qmode mode, alch__sop_cb cb, void *data)
{
    alch__sop *op = NULL;
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    if (rc == 0)
        rc = stmt_op(s, st, mode, &op, &s->start_err);
    if (rc == 0 && (rc = own_inputs(op, &s->start_err)) != 0)
        drop_op(s, op);
    return rc ? rc : start_async(s, op, cb, data);
}

int alch_session_scalars_async(alch_session *s, alch_stmt *st, alch_session_objects_cb cb,
                               void *data)
{
    return stmt_async(s, st, Q_SCALARS, objects_cb(cb), data);
}

int alch_session_scalar_one_async(alch_session *s, alch_stmt *st, alch_session_object_cb cb,
                                  void *data)
{
    return stmt_async(s, st, Q_ONE, object_cb(cb), data);
}

int alch_session_scalar_one_or_none_async(alch_session *s, alch_stmt *st, alch_session_object_cb cb,
                                          void *data)
{
    return stmt_async(s, st, Q_ONE_OR_NONE, object_cb(cb), data);
}

int alch_session_first_async(alch_session *s, alch_stmt *st, alch_session_object_cb cb, void *data)
{
    return stmt_async(s, st, Q_FIRST, object_cb(cb), data);
}

int alch_session_one_async(alch_session *s, alch_stmt *st, alch_session_result_cb cb, void *data)
{
    return stmt_async(s, st, Q_ONE_ROW, result_cb(cb), data);
}

int alch_session_execute_async(alch_session *s, alch_stmt *st, alch_session_result_cb cb,
                               void *data)
{
    return stmt_async(s, st, Q_RESULT, result_cb(cb), data);
}

int alch_session_execute_text_async(alch_session *s, const char *sql, const alch_value *params,
                                    size_t nparams, alch_session_result_cb cb, void *data)
{
    int rc = check_face(s, true, s ? &s->start_err : NULL);
    if (rc)
        return rc;
    if (!sql || (nparams && !params))
        return alch__error_set(&s->start_err, ALCH_EMISUSE,
                               "alch_session_execute_text_async needs SQL text%s",
                               nparams ? " and the values" : "");
    alch__sop *op = new_op(s, OP_EXECUTE);
    if (op) {
        op->exec_sql = sql;
        op->exec_params = params;
        op->exec_n = nparams;
        if ((rc = own_inputs(op, &s->start_err)) != 0) {
            drop_op(s, op);
            return rc;
        }
    }
    if (op && cb && s->piping) { /* queued: sent with the commit */
        op->cb = result_cb(cb);
        op->data = data;
        if ((rc = alch__pipe_queue(s, op)) != 0)
            drop_op(s, op);
        return rc;
    }
    return start_async(s, op, result_cb(cb), data);
}
