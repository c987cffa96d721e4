/* The engine as the rooms above it see it (the session): checkout, its loop, and one queue
 * of steps deferred to the next loop turn. The engine's insides (the struct and its pool)
 * are in engine/pool.h, for engine/ only: no session state lives in the engine. */
#ifndef ALCH_ENGINE_INTERNAL_H
#define ALCH_ENGINE_INTERNAL_H

#include <stdbool.h>

#include "alch/engine.h"
#include "driver/driver.h"

/* Check a connection out of the engine's pool, on either face (the sync face waits with
 * alch__conn_wait). ALCH_ECLOSED after alch_engine_free(), ALCH_ENOMEM, or 0. */
int alch__engine_checkout(alch_engine *e, alch_connect_cb cb, void *data);

/* Whether alch_engine_free() was called (the engine goes when its last connection does). */
bool alch__engine_freed(const alch_engine *e);

/* The loop the engine runs on (its private one for a sync engine). */
uv_loop_t *alch__engine_loop(const alch_engine *e);

/* Whether this is a sync engine (alch_engine_create: a private loop, blocking calls). */
bool alch__engine_is_sync(const alch_engine *e);

/* A step that runs on the next loop turn, so that an async call never completes before it
 * returns. The engine keeps one queue and one timer for all of them (a timer per request
 * would be made and closed every time); the owner embeds the node (a session does) and is
 * called through run. A node queued again while the queue runs waits for the next turn. */
typedef struct alch__deferred {
    void (*run)(struct alch__deferred *d);
    struct alch__deferred *prev, *next;
    bool queued;
} alch__deferred;

/* Queue d (a no-op when it is queued already). 0 or ALCH_ENOMEM. */
int alch__engine_defer(alch_engine *e, alch__deferred *d);

/* Take d off the queue (a no-op when it is not queued): before its owner goes away. */
void alch__engine_undefer(alch_engine *e, alch__deferred *d);

#endif
