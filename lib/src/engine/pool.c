/* The pool: lazy growth to pool_size + max_overflow, a FIFO of waiters with their own
 * deadline, hand-off of a returned connection straight to the first waiter, rollback of
 * a connection returned mid-transaction, and eviction of dead or expired connections.
 *
 * The rollback does not hold the hand-off up: its ROLLBACK leaves before alch_conn_close()
 * returns (the server releases the transaction's locks as soon as it reads it) and the
 * connection goes to the next borrower without waiting for the answer, whose first statements
 * follow the ROLLBACK in the same pipeline, and in the same write when they are sent inside
 * the hand-off: one round trip for both (driver.h, alch__conn_reset). A connection
 * that goes idle instead ends that pipeline (alch__conn_park), so none sits in the pool inside
 * a transaction, nor holds a PgBouncer server connection. */
#include <stddef.h>
#include <stdlib.h>

#include "driver/error_internal.h"
#include "engine/pool.h"

struct alch__waiter {
    alch__waiter *next;
    alch__pool *pool;
    alch_connect_cb cb;
    void *data;
    uint64_t deadline; /* uv_now() in ms */
    uint64_t seq;      /* its checkout's number: tried by a kick once seq <= pool->tried_seq */
    bool queued;
};

/* A connection being opened: freeing the engine abandons it rather than wait for it. */
struct alch__attempt {
    alch__attempt *next;
    alch__pool *pool;
    alch_conn *conn;
};

static void dispatch(alch__pool *pool);

void alch__pool_init(alch__pool *pool, alch_engine *engine)
{
    *pool = (alch__pool){.engine = engine};
}

bool alch__pool_empty(const alch__pool *pool)
{
    return pool->n_idle + pool->n_out + pool->n_opening + pool->n_waiting + pool->holds == 0;
}

static int max_size(const alch__pool *pool)
{
    const alch_engine_options *o = &pool->engine->opts;
    return o->pool_size + (o->max_overflow > 0 ? o->max_overflow : 0);
}

static void maybe_release_engine(alch__pool *pool)
{
    if (pool->engine->freeing && alch__pool_empty(pool))
        alch__engine_release_memory(pool->engine);
}

/* ---- waiters ------------------------------------------------------------------------ */

/* Waiters queue in checkout order, and a checkout's deadline is its time plus the one
 * pool_timeout_ms: the queue is in deadline order too (a waiter put back at the front after a
 * failed ping was the front one). So one timer, armed for the front waiter's deadline, serves
 * them all; it is not moved when the front waiter is served (it fires early, once, and is
 * armed again), and while nobody waits it does not keep the loop alive. */

static void free_timer(uv_handle_t *h)
{
    free(h);
}

static void on_pool_timer(uv_timer_t *t);

/* Fire the pool's timer in `ms` (restart: it may be armed for later). */
static void timer_in(alch__pool *pool, uint64_t ms)
{
    if (pool->timer)
        uv_timer_start(pool->timer, on_pool_timer, ms, 0);
}

/* The front waiter's deadline is watched (the timer armed, for it or earlier). */
static void watch_front(alch__pool *pool)
{
    if (pool->timer && pool->head && !uv_is_active((uv_handle_t *)pool->timer)) {
        uint64_t now = uv_now(pool->engine->loop);
        timer_in(pool, pool->head->deadline > now ? pool->head->deadline - now : 0);
    }
}

static void unlink_waiter(alch__pool *pool, alch__waiter *w)
{
    alch__waiter **p = &pool->head;
    while (*p && *p != w)
        p = &(*p)->next;
    if (!*p)
        return;
    *p = w->next;
    if (pool->tail == w) {
        pool->tail = NULL;
        for (alch__waiter *x = pool->head; x; x = x->next)
            pool->tail = x;
    }
    w->next = NULL;
    w->queued = false;
    if (--pool->n_waiting == 0 && pool->timer)
        uv_unref((uv_handle_t *)pool->timer); /* armed or not, nobody waits on it */
}

static void push_front(alch__pool *pool, alch__waiter *w)
{
    w->next = pool->head;
    pool->head = w;
    if (!pool->tail)
        pool->tail = w;
    w->queued = true;
    if (pool->n_waiting++ == 0 && pool->timer)
        uv_ref((uv_handle_t *)pool->timer);
}

enum { MAX_SPARE = 64 };

/* Give the waiter its answer and let it go: kept as a spare for the next checkout, or freed.
 * The callback may check out again at once. */
static void finish_waiter(alch__waiter *w, alch_conn *conn, int status, const alch_error *err)
{
    alch__pool *pool = w->pool;
    alch_connect_cb cb = w->cb;
    void *data = w->data;
    if (pool->n_spare < MAX_SPARE && !pool->engine->freeing) {
        w->next = pool->spare;
        pool->spare = w;
        pool->n_spare++;
    } else {
        free(w);
    }
    cb(conn, status, err, data);
}

void alch__pool_close_spares(alch__pool *pool)
{
    while (pool->spare) {
        alch__waiter *w = pool->spare;
        pool->spare = w->next;
        free(w);
    }
    pool->n_spare = 0;
    if (pool->timer) {
        uv_close((uv_handle_t *)pool->timer, free_timer);
        pool->timer = NULL;
    }
    alch__engine_undefer(pool->engine, &pool->kick);
    alch__engine_close_defer(pool->engine);
}

/* The sentence of a checkout that ran out of time, with what the pool was doing. */
static void timeout_error(const alch__pool *pool, alch_error *err)
{
    const alch_engine_options *o = &pool->engine->opts;
    double s = (double)(o->pool_timeout_ms > 0 ? o->pool_timeout_ms : 0) / 1000.0;
    if (pool->n_opening > 0 && pool->n_out == 0) { /* the server is slow to accept us */
        alch__error_set(err, ALCH_ETIMEOUT,
                        "no connection within %.1f s (pool_timeout_ms): %d connection%s still "
                        "opening, the server has not finished accepting %s",
                        s, pool->n_opening, pool->n_opening == 1 ? "" : "s",
                        pool->n_opening == 1 ? "it" : "them");
        alch__error_hint(err, "is the server up and answering? Each attempt is bounded by "
                              "connect_timeout_ms (or connect_timeout in the URL)");
        return;
    }
    alch__error_set(err, ALCH_ETIMEOUT,
                    "pool of %d (+%d overflow) exhausted: no connection came free within "
                    "%.1f s (%d checked out, %d opening, %d waiting)",
                    o->pool_size, o->max_overflow, s, pool->n_out, pool->n_opening,
                    pool->n_waiting);
    alch__error_hint(err, "hand connections back sooner with alch_conn_close(), or raise "
                          "pool_size / max_overflow / pool_timeout_ms");
}

/* The first waiter whose deadline the timer must end now: tried by a kick, its deadline
 * passed, and not covered by a connection being opened for it (with pool_timeout <= 0, a
 * connection being opened is still awaited, bounded by the connect timeout: on_connected()
 * looks at the deadlines again). NULL when none; *next_ms is then when to look again (0: no
 * need, a kick or a connection will). */
static alch__waiter *expired_waiter(alch__pool *pool, uint64_t now, uint64_t *next_ms)
{
    bool never_wait = pool->engine->opts.pool_timeout_ms <= 0;
    int pos = 0;
    *next_ms = 0;
    for (alch__waiter *w = pool->head; w; w = w->next, pos++) {
        if (w->deadline > now) {
            *next_ms = w->deadline - now;
            return NULL;
        }
        if (w->seq > pool->tried_seq) /* not tried yet: its kick comes first */
            return NULL;
        if (!(never_wait && pos < pool->n_opening))
            return w;
    }
    return NULL;
}

/* A callback may free the engine (alch_engine_free): the pool holds it until it is done. */
static void unhold(alch__pool *pool)
{
    pool->holds--;
    maybe_release_engine(pool); /* closes the timer */
}

static void on_pool_timer(uv_timer_t *t)
{
    alch__pool *pool = t->data;
    uint64_t next_ms;
    alch__waiter *w;
    pool->holds++;
    while ((w = expired_waiter(pool, uv_now(t->loop), &next_ms)) != NULL) {
        unlink_waiter(pool, w);
        alch_error err = ALCH_ERROR_INIT;
        timeout_error(pool, &err);
        finish_waiter(w, NULL, ALCH_ETIMEOUT, &err);
        alch_error_clear(&err);
    }
    if (next_ms)
        timer_in(pool, next_ms);
    unhold(pool);
}

/* The waiters checked out before this loop turn are served now, if anything is free. */
static void on_kick(alch__deferred *d)
{
    alch__pool *pool = (alch__pool *)((char *)d - offsetof(alch__pool, kick));
    pool->holds++;
    pool->tried_seq = pool->seq;
    dispatch(pool);
    uint64_t next_ms;
    if (expired_waiter(pool, uv_now(pool->engine->loop), &next_ms)) /* pool_timeout <= 0 */
        timer_in(pool, 0);
    unhold(pool);
}

int alch__pool_checkout(alch__pool *pool, alch_connect_cb cb, void *data)
{
    if (!pool->timer) {
        pool->timer = malloc(sizeof *pool->timer);
        if (!pool->timer || uv_timer_init(pool->engine->loop, pool->timer) != 0) {
            free(pool->timer);
            pool->timer = NULL;
            return ALCH_ENOMEM;
        }
        pool->timer->data = pool;
        uv_unref((uv_handle_t *)pool->timer);
    }
    alch__waiter *w = pool->spare;
    if (w) { /* a finished waiter */
        pool->spare = w->next;
        pool->n_spare--;
    } else if (!(w = malloc(sizeof *w))) {
        return ALCH_ENOMEM;
    }
    *w = (alch__waiter){.pool = pool, .cb = cb, .data = data, .seq = ++pool->seq};
    /* served on the next loop turn, never inside this call */
    pool->kick.run = on_kick;
    if (alch__engine_defer(pool->engine, &pool->kick) != 0) {
        free(w);
        return ALCH_ENOMEM;
    }
    int timeout = pool->engine->opts.pool_timeout_ms;
    uv_update_time(pool->engine->loop); /* a sync engine's loop may have slept a long time */
    w->deadline = uv_now(pool->engine->loop) + (uint64_t)(timeout > 0 ? timeout : 0);
    /* join the back of the queue */
    if (pool->tail)
        pool->tail->next = w;
    else
        pool->head = w;
    pool->tail = w;
    w->queued = true;
    if (pool->n_waiting++ == 0)
        uv_ref((uv_handle_t *)pool->timer);
    watch_front(pool);
    return 0;
}

/* ---- connections -------------------------------------------------------------------- */

static bool expired(const alch__pool *pool, alch_conn *c)
{
    uint64_t at = alch__conn_link_of(c)->expires_ms;
    return at && uv_now(pool->engine->loop) >= at;
}

/* Close a connection the pool owns and forget it. */
static void discard(alch__pool *pool, alch_conn *c)
{
    alch__conn_link_of(c)->owner = NULL;
    alch__conn_destroy(c);
}

static alch_conn *take_idle(alch__pool *pool)
{
    while (pool->idle) {
        alch_conn *c = pool->idle;
        alch__conn_link *link = alch__conn_link_of(c);
        pool->idle = link->next;
        link->next = NULL;
        pool->n_idle--;
        if (alch__conn_alive(c) && !expired(pool, c))
            return c;
        discard(pool, c);
    }
    return NULL;
}

static void set_expiry(alch__pool *pool, alch_conn *c)
{
    const alch_engine_options *o = &pool->engine->opts;
    uint64_t now = uv_now(pool->engine->loop);
    alch__conn_link *link = alch__conn_link_of(c);
    link->created_ms = now;
    link->expires_ms = 0;
    if (o->max_lifetime_ms > 0) {
        /* up to 10% jitter, so connections opened together do not all expire together */
        uint64_t jitter = (uint64_t)((double)o->max_lifetime_ms * 0.1 * rand() / RAND_MAX);
        link->expires_ms = now + (uint64_t)o->max_lifetime_ms - jitter;
    }
    if (o->pool_recycle_ms > 0) {
        uint64_t r = now + (uint64_t)o->pool_recycle_ms;
        if (!link->expires_ms || r < link->expires_ms)
            link->expires_ms = r;
    }
}

static void return_idle(alch__pool *pool, alch_conn *c);

/* A new connection is up (or failed): it goes to whoever waits longest, not to the waiter
 * that caused it to be opened, which may have been served by a returned one meanwhile.
 * That keeps the queue first come, first served. A failure is reported to the first waiter,
 * one failure per connection attempt. */
static void forget_attempt(alch__attempt *a)
{
    alch__pool *pool = a->pool;
    alch__attempt **p = &pool->opening;
    while (*p && *p != a)
        p = &(*p)->next;
    if (*p)
        *p = a->next;
    pool->n_opening--;
    free(a);
}

static void on_connected(alch_conn *c, int status, const alch_error *err, void *data)
{
    alch__attempt *a = data;
    alch__pool *pool = a->pool;
    forget_attempt(a);
    if (status == 0) {
        alch__conn_link_of(c)->owner = pool;
        alch__conn_link_of(c)->gen = pool->generation;
        alch__conn_set_sync_face(c, pool->engine->own_loop != NULL);
        set_expiry(pool, c);
        pool->n_out++;
        if (pool->engine->freeing) {
            pool->n_out--;
            discard(pool, c);
        } else if (pool->head) {
            alch__waiter *w = pool->head;
            unlink_waiter(pool, w);
            finish_waiter(w, c, 0, NULL);
        } else {
            return_idle(pool, c); /* its waiter gave up meanwhile */
        }
    } else if (pool->head) {
        alch__waiter *w = pool->head;
        unlink_waiter(pool, w);
        finish_waiter(w, NULL, status, err);
    }
    dispatch(pool);
    /* waiters whose deadline passed while an opening connection covered them */
    uint64_t next_ms;
    if (expired_waiter(pool, uv_now(pool->engine->loop), &next_ms))
        timer_in(pool, 0);
    maybe_release_engine(pool);
}

static void open_new(alch__pool *pool)
{
    alch_engine *e = pool->engine;
    alch_conn *c = alch__conn_new(e->loop, &e->cfg);
    alch_url *url = alch_url_copy(e->url);
    alch__attempt *a = malloc(sizeof *a);
    alch_error err = ALCH_ERROR_INIT;
    int rc;
    if (!c || !url || !a) {
        free(c);
        free(a);
        alch_url_free(url);
        rc = alch__error_set(&err, ALCH_ENOMEM, "out of memory opening a connection");
    } else {
        *a = (alch__attempt){pool->opening, pool, c};
        pool->opening = a;
        pool->n_opening++;
        alch__conn_on_connect(c, on_connected, a);
        int timeout_ms = alch__url_timeout_ms(url, e->opts.connect_timeout_ms);
        rc = alch__conn_start(c, url, e->extra_keys, e->extra_vals, timeout_ms, &err);
        if (rc)
            forget_attempt(a); /* the connection is gone already */
    }
    if (rc && pool->head) { /* could not even start: the first waiter hears it now */
        alch__waiter *w = pool->head;
        unlink_waiter(pool, w);
        finish_waiter(w, NULL, rc, &err);
    }
    alch_error_clear(&err);
}

static void on_pinged(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    alch__waiter *w = data;
    alch__pool *pool = w->pool;
    alch_result_free(res);
    if (status == 0) {
        finish_waiter(w, c, 0, NULL);
        return;
    }
    /* the connection was dead: drop it, and put the waiter back at the front */
    pool->n_out--;
    discard(pool, c);
    push_front(pool, w);
    dispatch(pool);
    if (w->queued) { /* still waiting: its deadline stands, the earliest of all */
        uint64_t now = uv_now(pool->engine->loop);
        timer_in(pool, w->deadline > now ? w->deadline - now : 0);
    }
}

/* Serve waiters from the front while there is something to give them, and open new
 * connections (up to the limit) for the waiters that no opening one will serve. */
static void dispatch(alch__pool *pool)
{
    while (pool->head) {
        alch__waiter *w = pool->head;
        alch_conn *c = take_idle(pool);
        if (c) {
            unlink_waiter(pool, w);
            pool->n_out++;
            if (pool->engine->opts.pool_pre_ping &&
                alch__conn_simple(c, "", NULL, 0, false, on_pinged, w, NULL) == 0)
                continue;
            finish_waiter(w, c, 0, NULL);
            continue;
        }
        if (pool->n_opening < pool->n_waiting &&
            pool->n_idle + pool->n_out + pool->n_opening < max_size(pool)) {
            int before = pool->n_waiting;
            open_new(pool);
            if (pool->n_waiting == before && pool->n_opening == 0)
                return; /* nothing moved: do not spin */
            continue;
        }
        return;
    }
}

static void return_idle(alch__pool *pool, alch_conn *c)
{
    pool->n_out--;
    if (pool->head) { /* hand it straight to the first waiter */
        alch__waiter *w = pool->head;
        unlink_waiter(pool, w);
        pool->n_out++;
        finish_waiter(w, c, 0, NULL);
        return;
    }
    if (pool->n_idle >= pool->engine->opts.pool_size || pool->engine->freeing ||
        alch__conn_park(c) != 0) {
        discard(pool, c); /* an overflow connection: not kept when idle (or a broken one) */
        maybe_release_engine(pool);
        return;
    }
    alch__conn_link_of(c)->next = pool->idle;
    pool->idle = c;
    pool->n_idle++;
}

void alch__pool_release(void *owner, alch_conn *c)
{
    alch__pool *pool = owner;
    uv_update_time(pool->engine->loop);
    bool keep = !pool->engine->freeing && alch__conn_link_of(c)->gen == pool->generation &&
                alch__conn_alive(c) && !expired(pool, c);
    /* the next borrower must not inherit half-done work: ROLLBACK, sent now, answered later */
    if (!keep || (alch_conn_in_transaction(c) && alch__conn_reset(c) != 0)) {
        pool->n_out--;
        discard(pool, c);
        dispatch(pool); /* a slot came free: a waiter may open a new connection */
        maybe_release_engine(pool);
        return;
    }
    return_idle(pool, c);
}

void alch__pool_dispose(alch__pool *pool)
{
    pool->generation++;
    while (pool->engine->freeing && pool->opening) { /* nobody will use them: stop now */
        alch__attempt *a = pool->opening;
        alch__conn_destroy(a->conn); /* its connect callback is never called */
        forget_attempt(a);
    }
    while (pool->idle) {
        alch_conn *c = pool->idle;
        pool->idle = alch__conn_link_of(c)->next;
        pool->n_idle--;
        discard(pool, c);
    }
    alch_error err = ALCH_ERROR_INIT;
    alch__error_set(&err, ALCH_ECANCELED, "the engine was disposed while this checkout waited");
    while (pool->head) {
        alch__waiter *w = pool->head;
        unlink_waiter(pool, w);
        finish_waiter(w, NULL, ALCH_ECANCELED, &err);
    }
    alch_error_clear(&err);
    alch__pool_close_spares(pool); /* a disposed pool keeps no open handles */
}
