/* The engine: a parsed URL, options, echo, and the pool, with an async and a sync face. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver/error_internal.h"
#include "driver/url_internal.h"
#include "engine/pool.h"

alch_engine_options alch_engine_options_default(void)
{
    return (alch_engine_options){
        .echo = false,
        .echo_file = NULL,
        .pool_size = 5,
        .max_overflow = 10,
        .pool_timeout_ms = 30000,
        .connect_timeout_ms = ALCH_CONNECT_TIMEOUT_DEFAULT_MS,
        .pool_recycle_ms = -1,
        .pool_pre_ping = false,
        .max_lifetime_ms = -1,
        .isolation_level = NULL,
        .statement_timeout_ms = 0,
        .statement_cache_size = 100,
    };
}

static const char *const isolation_levels[] = {"READ COMMITTED", "REPEATABLE READ",
                                               "SERIALIZABLE", "READ UNCOMMITTED", "AUTOCOMMIT"};

static int check_options(alch_engine *e, alch_error *err)
{
    alch_engine_options *o = &e->opts;
    if (o->pool_size < 1)
        return alch__error_set(err, ALCH_EARGUMENT, "pool_size is %d: it must be at least 1",
                               o->pool_size);
    if (o->max_overflow < 0)
        o->max_overflow = 0;
    if (o->statement_cache_size < 0)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "statement_cache_size is %d: use 0 to disable the cache",
                               o->statement_cache_size);
    e->cfg.autobegin = true;
    e->cfg.begin_sql = "BEGIN";
    if (o->isolation_level) {
        size_t i = 0, n = sizeof isolation_levels / sizeof *isolation_levels;
        while (i < n && strcasecmp(o->isolation_level, isolation_levels[i]) != 0)
            i++;
        if (i == n) {
            alch__error_set(err, ALCH_EARGUMENT, "unknown isolation_level '%s'",
                            o->isolation_level);
            alch__error_hint(err, "use READ COMMITTED, REPEATABLE READ, SERIALIZABLE or "
                                  "AUTOCOMMIT");
            return ALCH_EARGUMENT;
        }
        if (strcmp(isolation_levels[i], "AUTOCOMMIT") == 0) {
            e->cfg.autobegin = false;
        } else {
            snprintf(e->begin_sql, sizeof e->begin_sql, "BEGIN ISOLATION LEVEL %s",
                     isolation_levels[i]);
            e->cfg.begin_sql = e->begin_sql;
        }
    }
    o->isolation_level = NULL; /* the caller's string is not kept */
    return 0;
}

/* Per-connection settings travel in the startup packet: no extra round trip. */
static int startup_options(alch_engine *e, alch_error *err)
{
    int n = 0;
    e->extra_keys[n] = "fallback_application_name";
    e->extra_vals[n++] = "alch";
    if (e->opts.statement_timeout_ms > 0) {
        if (alch_url_query(e->url, "options")) {
            alch__error_set(err, ALCH_EARGUMENT,
                            "statement_timeout_ms cannot be combined with an 'options' key in "
                            "the URL");
            alch__error_hint(err, "add -c statement_timeout=%d to the URL's options instead",
                             e->opts.statement_timeout_ms);
            return ALCH_EARGUMENT;
        }
        snprintf(e->options_kv, sizeof e->options_kv, "-c statement_timeout=%d",
                 e->opts.statement_timeout_ms);
        e->extra_keys[n] = "options";
        e->extra_vals[n++] = e->options_kv;
    }
    e->extra_keys[n] = NULL;
    e->extra_vals[n] = NULL;
    return 0;
}

static int engine_create(uv_loop_t *loop, uv_loop_t *own_loop, const char *url,
                         const alch_engine_options *opts, alch_engine **out, alch_error *err)
{
    if (!url || !out)
        return alch__error_set(err, ALCH_EMISUSE, "creating an engine needs a URL and an out "
                                                  "pointer");
    alch_engine *e = calloc(1, sizeof *e);
    if (!e)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    e->loop = loop;
    e->own_loop = own_loop;
    e->opts = opts ? *opts : alch_engine_options_default();
    int rc = alch_url_parse(url, &e->url, err);
    if (rc == 0)
        rc = check_options(e, err);
    if (rc == 0)
        rc = startup_options(e, err);
    if (rc == 0) {
        e->url_shown = alch_url_render(e->url, true);
        if (!e->url_shown)
            rc = alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    if (rc) {
        alch_url_free(e->url);
        free(e);
        return rc;
    }
    e->echo.on = e->opts.echo;
    e->echo.file = e->opts.echo_file;
    e->cfg.echo = &e->echo;
    e->cfg.cache_size = e->opts.statement_cache_size;
    e->cfg.cache_off = &e->cache_off;
    e->cfg.release = alch__pool_release;
    e->cfg.query_timeout_ms = e->opts.query_timeout_ms > 0 ? e->opts.query_timeout_ms : 0;
    alch__pool_init(&e->pool, e);
    if (alch__url_driver_alias(e->url))
        alch__echo_line(&e->echo, "%s:// is read as postgresql://: alch speaks libpq whatever "
                                  "driver the URL names",
                        alch_url_drivername(e->url));
    *out = e;
    return 0;
}

int alch_engine_create_on_loop(uv_loop_t *loop, const char *url, const alch_engine_options *opts,
                               alch_engine **out, alch_error *err)
{
    if (!loop)
        return alch__error_set(err, ALCH_EMISUSE, "alch_engine_create_on_loop needs your loop");
    return engine_create(loop, NULL, url, opts, out, err);
}

int alch_engine_create(const char *url, const alch_engine_options *opts, alch_engine **out,
                       alch_error *err)
{
    uv_loop_t *loop = malloc(sizeof *loop);
    if (!loop || uv_loop_init(loop) != 0) {
        free(loop);
        return alch__error_set(err, ALCH_ENOMEM, "cannot create the private event loop");
    }
    int rc = engine_create(loop, loop, url, opts, out, err);
    if (rc) {
        uv_loop_close(loop);
        free(loop);
    }
    return rc;
}

/* The checks every async call on an engine makes, each failure with its sentence. */
static int check_async(alch_engine *e, const char *fn, bool has_cb)
{
    if (!e)
        return ALCH_EMISUSE; /* no engine: nowhere to leave a sentence */
    alch_error_clear(&e->start_err);
    if (!has_cb)
        return alch__error_set(&e->start_err, ALCH_EMISUSE, "%s needs a callback", fn);
    if (e->freeing) {
        alch__error_set(&e->start_err, ALCH_ECLOSED, "%s: this engine is being freed", fn);
        alch__error_hint(&e->start_err, "start nothing new after alch_engine_free()");
        return ALCH_ECLOSED;
    }
    if (e->own_loop) {
        alch__error_set(&e->start_err, ALCH_EMISUSE,
                        "%s: this engine has a private loop: use the sync calls", fn);
        alch__error_hint(&e->start_err, "for async calls create the engine with "
                                        "alch_engine_create_on_loop()");
        return ALCH_EMISUSE;
    }
    return 0;
}

int alch_engine_connect_async(alch_engine *e, alch_connect_cb cb, void *data)
{
    int rc = check_async(e, "alch_engine_connect_async", cb != NULL);
    if (rc == 0 && (rc = alch__pool_checkout(&e->pool, cb, data)) != 0)
        alch__error_set(&e->start_err, rc, "out of memory");
    return rc;
}

const alch_error *alch_engine_start_error(const alch_engine *engine)
{
    return engine ? &engine->start_err : NULL;
}

typedef struct checkout_wait {
    bool done;
    int status;
    alch_conn *conn;
    alch_error *err;
} checkout_wait;

static void on_checkout(alch_conn *conn, int status, const alch_error *err, void *data)
{
    checkout_wait *w = data;
    w->done = true;
    w->status = status;
    w->conn = conn;
    if (status)
        alch__error_copy(w->err, err);
}

int alch_engine_connect(alch_engine *e, alch_conn **out, alch_error *err)
{
    if (!e || !out)
        return alch__error_set(err, ALCH_EMISUSE, "alch_engine_connect needs an engine and an "
                                                  "out pointer");
    if (!e->own_loop) {
        alch__error_set(err, ALCH_EMISUSE, "this engine runs on your libuv loop: use "
                                           "alch_engine_connect_async()");
        alch__error_hint(err, "for sync calls create the engine with alch_engine_create()");
        return ALCH_EMISUSE;
    }
    if (e->freeing)
        return alch__error_set(err, ALCH_ECLOSED, "this engine was freed");
    checkout_wait w = {.err = err};
    int rc = alch__pool_checkout(&e->pool, on_checkout, &w);
    if (rc)
        return alch__error_set(err, rc, "out of memory");
    alch__conn_wait(e->loop, &w.done);
    if (w.status == 0)
        *out = w.conn;
    return w.status;
}

int alch_engine_begin(alch_engine *e, alch_work_fn work, void *data, alch_error *err)
{
    if (!work)
        return alch__error_set(err, ALCH_EMISUSE, "alch_engine_begin needs a work function");
    alch_conn *conn = NULL;
    int rc = alch_engine_connect(e, &conn, err);
    if (rc)
        return rc;
    rc = alch_conn_begin(conn, err);
    if (rc == 0) {
        rc = work(conn, data, err);
        if (rc == 0)
            rc = alch_conn_commit(conn, err);
        else
            alch_conn_rollback(conn, NULL); /* keep the work's error, not the rollback's */
    }
    alch_conn_close(conn);
    return rc;
}

/* ---- begin once, async: checkout → BEGIN → work → COMMIT or ROLLBACK → release ---- */

struct alch_tx {
    alch_async_work_fn work;
    alch_tx_done_cb done;
    void *data;
    alch_conn *conn;
    int status;
    alch_error err;
};

static void tx_finish(alch_tx *tx)
{
    if (tx->conn)
        alch_conn_close(tx->conn);
    tx->done(tx->status, tx->status ? &tx->err : NULL, tx->data);
    alch_error_clear(&tx->err);
    free(tx);
}

static void tx_on_end(alch_conn *c, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    alch_tx *tx = data;
    alch_result_free(res);
    if (tx->status == 0 && status != 0) { /* the COMMIT itself failed */
        tx->status = status;
        alch__error_copy(&tx->err, err);
    }
    tx_finish(tx);
}

void alch_tx_done(alch_tx *tx, int status, const alch_error *err)
{
    if (!tx)
        return;
    tx->status = status;
    if (status != 0 && err)
        alch__error_copy(&tx->err, err);
    else if (status != 0)
        alch__error_set(&tx->err, status, "the transaction's work failed: %s",
                        alch_strerror(status));
    int rc = status == 0 ? alch_conn_commit_async(tx->conn, tx_on_end, tx)
                         : alch_conn_rollback_async(tx->conn, tx_on_end, tx);
    if (rc != 0) {
        if (tx->status == 0) {
            tx->status = rc;
            alch__error_set(&tx->err, rc, "could not end the transaction: %s",
                            alch_strerror(rc));
        }
        tx_finish(tx);
    }
}

static void tx_on_begin(alch_conn *c, int status, alch_result *res, const alch_error *err,
                        void *data)
{
    alch_tx *tx = data;
    alch_result_free(res);
    if (status != 0) {
        tx->status = status;
        alch__error_copy(&tx->err, err);
        tx_finish(tx);
        return;
    }
    tx->work(tx, c, tx->data);
}

static void tx_on_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    alch_tx *tx = data;
    tx->conn = c;
    if (status == 0)
        status = alch_conn_begin_async(c, tx_on_begin, tx);
    if (status != 0) {
        tx->status = status;
        if (err)
            alch__error_copy(&tx->err, err);
        else
            alch__error_set(&tx->err, status, "could not begin: %s", alch_strerror(status));
        tx_finish(tx);
    }
}

int alch_engine_begin_async(alch_engine *e, alch_async_work_fn work, alch_tx_done_cb done,
                            void *data)
{
    int rc = check_async(e, "alch_engine_begin_async", work && done);
    if (rc)
        return rc;
    alch_tx *tx = calloc(1, sizeof *tx);
    if (!tx)
        return alch__error_set(&e->start_err, ALCH_ENOMEM, "out of memory");
    *tx = (alch_tx){.work = work, .done = done, .data = data};
    rc = alch_engine_connect_async(e, tx_on_conn, tx);
    if (rc)
        free(tx);
    return rc;
}

void alch_engine_dispose(alch_engine *e)
{
    if (e)
        alch__pool_dispose(&e->pool);
}

static void free_timer(uv_handle_t *h)
{
    free(h);
}

/* ---- for the rooms above: checkout, the loop, the deferred steps ----------------------- */

int alch__engine_checkout(alch_engine *e, alch_connect_cb cb, void *data)
{
    return e->freeing ? ALCH_ECLOSED : alch__pool_checkout(&e->pool, cb, data);
}

bool alch__engine_freed(const alch_engine *e)
{
    return e->freeing;
}

uv_loop_t *alch__engine_loop(const alch_engine *e)
{
    return e->loop;
}

bool alch__engine_is_sync(const alch_engine *e)
{
    return e->own_loop != NULL;
}

void alch__engine_undefer(alch_engine *e, alch__deferred *d)
{
    if (!d->queued)
        return;
    if (d->prev)
        d->prev->next = d->next;
    else
        e->defer_head = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        e->defer_tail = d->prev;
    d->prev = d->next = NULL;
    d->queued = false;
}

static void on_deferred(uv_timer_t *t)
{
    alch_engine *e = t->data;
    /* the steps queued now; one deferred again meanwhile waits for the next turn */
    size_t n = 0;
    for (alch__deferred *d = e->defer_head; d; d = d->next)
        n++;
    while (n-- > 0 && e->defer_head) {
        alch__deferred *d = e->defer_head;
        alch__engine_undefer(e, d); /* a step may close any owner: each is off before it runs */
        d->run(d);
    }
    if (e->defer_head)
        uv_timer_start(t, on_deferred, 0, 0);
}

int alch__engine_defer(alch_engine *e, alch__deferred *d)
{
    if (!e->defer_timer) {
        e->defer_timer = malloc(sizeof *e->defer_timer);
        if (!e->defer_timer || uv_timer_init(e->loop, e->defer_timer) != 0) {
            free(e->defer_timer);
            e->defer_timer = NULL;
            return ALCH_ENOMEM;
        }
        e->defer_timer->data = e;
    }
    if (!d->queued) {
        d->queued = true;
        d->prev = e->defer_tail;
        d->next = NULL;
        if (e->defer_tail)
            e->defer_tail->next = d;
        else
            e->defer_head = d;
        e->defer_tail = d;
    }
    if (!uv_is_active((uv_handle_t *)e->defer_timer) &&
        uv_timer_start(e->defer_timer, on_deferred, 0, 0) != 0) {
        alch__engine_undefer(e, d);
        return ALCH_ENOMEM;
    }
    return 0;
}

void alch__engine_close_defer(alch_engine *e)
{
    if (e->defer_timer && !e->defer_head) {
        uv_close((uv_handle_t *)e->defer_timer, free_timer);
        e->defer_timer = NULL;
    }
}

void alch__engine_release_memory(alch_engine *e)
{
    alch__pool_close_spares(&e->pool);
    if (e->defer_timer)
        uv_close((uv_handle_t *)e->defer_timer, free_timer);
    uv_loop_t *own = e->own_loop;
    alch_url_free(e->url);
    free(e->url_shown);
    alch_error_clear(&e->start_err);
    free(e);
    if (own) {
        uv_run(own, UV_RUN_DEFAULT); /* the close callbacks free the handles */
        uv_loop_close(own);
        free(own);
    }
}

void alch_engine_free(alch_engine *e)
{
    if (!e || e->freeing)
        return;
    e->freeing = true;
    alch__pool_dispose(&e->pool);
    if (alch__pool_empty(&e->pool))
        alch__engine_release_memory(e);
}

alch_pool_status alch_engine_pool_status(const alch_engine *e)
{
    alch_pool_status s = {0, 0, 0, 0};
    if (!e)
        return s;
    s.idle = e->pool.n_idle;
    s.checked_out = e->pool.n_out;
    s.waiting = e->pool.n_waiting;
    s.size = e->pool.n_idle + e->pool.n_out + e->pool.n_opening;
    return s;
}

const char *alch_engine_url(const alch_engine *e)
{
    return e ? e->url_shown : NULL;
}

void alch_engine_set_echo(alch_engine *engine, bool on)
{
    if (engine)
        engine->echo.on = on;
}
