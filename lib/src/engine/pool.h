/* The engine's insides, shared by engine.c (the public faces), pool.c (the mechanics) and
 * listen.c: for engine/ only. The rooms above use engine/engine_internal.h. */
#ifndef ALCH_ENGINE_POOL_H
#define ALCH_ENGINE_POOL_H

#include "engine/engine_internal.h"

typedef struct alch__waiter alch__waiter;
typedef struct alch__attempt alch__attempt;

typedef struct alch__pool {
    alch_engine *engine;
    alch_conn *idle;        /* stack of idle connections (most recently used on top) */
    int n_idle;
    int n_out;              /* lent out, or being reset/pinged on their way */
    int n_opening;          /* connect attempts in flight */
    alch__attempt *opening; /* those attempts, so that freeing the engine can abandon them */
    alch__waiter *head;     /* FIFO of checkouts waiting for a connection */
    alch__waiter *tail;
    int n_waiting;
    unsigned generation;    /* bumped by dispose: older connections close when returned */
    alch__waiter *spare;    /* finished waiters kept for the next checkouts */
    int n_spare;
    /* One timer for every waiter's deadline (they come in deadline order), armed while some
     * wait: a checkout costs no timer of its own. The kick serves new waiters on the next loop
     * turn, through the engine's deferred steps. */
    uv_timer_t *timer;      /* made on first use, freed in its close callback */
    alch__deferred kick;
    uint64_t seq;           /* checkouts so far: each waiter's number */
    uint64_t tried_seq;     /* waiters up to this number have been tried by a kick */
    int holds;              /* > 0 while the pool's own callbacks run: the engine stays */
} alch__pool;

struct alch_engine {
    uv_loop_t *loop;
    uv_loop_t *own_loop;    /* sync engine: the private loop */
    alch_url *url;
    char *url_shown;        /* rendered with the password masked */
    alch_engine_options opts;
    alch__echo echo;
    alch__conn_config cfg;
    char begin_sql[64];
    char options_kv[64];    /* "-c statement_timeout=..." for libpq's options keyword */
    const char *extra_keys[4];
    const char *extra_vals[4];
    alch__pool pool;
    bool cache_off;         /* prepared statements vanished (PgBouncer): cache switched off */
    bool freeing;           /* alch_engine_free() called; freed when the last connection goes */
    alch_error start_err;   /* why the last async call on the engine could not start */
    /* steps deferred to the next loop turn (alch__engine_defer): one timer for all */
    uv_timer_t *defer_timer;
    alch__deferred *defer_head, *defer_tail;
};

void alch__pool_init(alch__pool *pool, alch_engine *engine);
int alch__pool_checkout(alch__pool *pool, alch_connect_cb cb, void *data);
void alch__pool_dispose(alch__pool *pool);
/* Whether nothing is left that needs the engine (no connection, no waiter). */
bool alch__pool_empty(const alch__pool *pool);
/* Close the engine's timer of deferred steps when none is queued (made again on the next). */
void alch__engine_close_defer(alch_engine *engine);
/* Called by the pool when the engine may be freed now (freeing set and pool empty). */
void alch__engine_release_memory(alch_engine *engine);
/* Free the spare waiters, close the pool's timer (freed by its close callback) and take its
 * kick off the engine's queue: a pool left this way holds no handle. */
void alch__pool_close_spares(alch__pool *pool);
/* The connections' release hook (alch__conn_config.release): alch_conn_close() on a pooled
 * connection hands it back here; owner is the pool. */
void alch__pool_release(void *owner, alch_conn *c);

#endif
