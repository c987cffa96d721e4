/* The connection's insides, for the driver's own files (conn.c, pipeline.c, tx.c, resolve.c).
 * The rooms above use driver/driver.h, which has no libpq. */
#ifndef ALCH_DRIVER_CONN_INTERNAL_H
#define ALCH_DRIVER_CONN_INTERNAL_H

#include <stdint.h>

#include "driver/driver.h"
#include "driver/params.h"
#include "driver/pq.h"
#include "util/freelist.h"
#include "util/hash.h"

/* Prepared statement names: "alch_<16 hex digits>_<n>", NUL included. */
enum { ALCH__STMT_NAME_MAX = 40 };
enum { ALCH__DEALLOC_MAX = ALCH__STMT_NAME_MAX + 16 }; /* "DEALLOCATE <name>" */

typedef enum { STEP_SQL, STEP_PREPARE, STEP_EXEC_PREPARED } alch__step_kind;

typedef struct alch__step {
    alch__step_kind kind;
    const char *sql;       /* STEP_SQL, STEP_PREPARE */
    const char *name;      /* STEP_PREPARE, STEP_EXEC_PREPARED */
    const char *echo;      /* text echoed when the step is sent, or NULL */
    bool with_params;      /* send the op's parameters with this step */
} alch__step;

/* One operation = a few steps run in order, each one round trip; the result of the last
 * step is the operation's result. */
typedef struct alch__op {
    alch__step steps[4];
    int nsteps;
    int cur;
    char *sql;              /* the statement as sent (after :name rewriting), owned */
    alch__params params;
    char dealloc_sql[ALCH__DEALLOC_MAX];
    char tx_sql[64];        /* SAVEPOINT / BEGIN text for transaction ops */
    int cache_slot;         /* entry being prepared, or -1 */
    const char *how;        /* "prepared", "cached" or "direct", for echo */
    bool user_stmt;         /* echo a parameter/timing line when done */
    bool commit_on_failed;  /* a COMMIT turned into ROLLBACK: report it as an error */
    int savepoint_delta;    /* +1 SAVEPOINT, -1 RELEASE/ROLLBACK TO */
    uint64_t started;       /* uv_hrtime() when the user statement was sent */
    PGresult *last;
    PGresult *error;
    alch_exec_cb cb;
    void *data;
    struct alch__batch *batch; /* a pipelined batch (pipeline.c) instead of steps */
    int cancel;             /* 0, or why a cancel was asked: ALCH_ECANCELED / ALCH_ETIMEOUT */
    bool waiting;           /* not sent yet: a cancel request is still on its way */
    int cancel_tries;       /* cancel requests sent for it (one may land between statements) */
    bool piped;             /* its steps went together in one pipeline (conn.c op_send) */
    int failed_step;        /* piped: the step whose answer was the first error, or -1 */
    alch__rows rows;        /* alch__conn_exec_rows: may its rows come in binary? */
    int learn_slot; /* the cache entry without rows.binary_ok's verdict for the owner, or -1 */
    bool binary;    /* its STEP_EXEC_PREPARED asks for the rows in binary */
} alch__op;

typedef struct alch__stmt {
    uint64_t hash;
    uint64_t typehash;
    char *sql;
    char name[ALCH__STMT_NAME_MAX]; /* alch__stmt_name() */
    uint64_t last_used;
    bool ready;
    bool pending;           /* its PREPARE is queued in a pipeline, not yet answered */
    const void *binary_for; /* alch__conn_exec_rows: the owner whose rows come in binary, */
    const void *text_for;   /* and the one whose rows do not */
} alch__stmt;

typedef enum { CONN_CONNECTING, CONN_READY, CONN_BROKEN, CONN_CLOSED } alch__conn_state;

struct alch_conn {
    PGconn *pg;
    uv_loop_t *loop;
    uv_loop_t *own_loop;    /* standalone sync connection: the private loop it owns */
    bool sync_face;         /* runs on a private loop: sync calls only */
    uv_poll_t *poll;        /* heap-allocated, freed in its close callback */
    int poll_events;
    uv_timer_t *timer;      /* connect timeout and deferred completions */
    alch__conn_state state;
    bool pinning;           /* connected, the SET of the settings alch reads by is on its way */
    void *data;
    alch__conn_config cfg;

    alch__op *op;           /* the operation in flight, or NULL */
    alch__freelist ops;     /* the last operation's memory, for the next (alch__op_new) */
    alch__stmt *cache;
    int cache_len;
    uint64_t cache_tick;
    uint64_t stmt_tag;      /* random, in this connection's statement names; 0: not drawn */
    unsigned next_stmt_id;
    int savepoints;

    /* The ROLLBACK sent when the connection was handed back mid-transaction (alch__conn_reset):
     * its answer is read by the driver, never waited for by the hand-off. */
    bool reset_due;        /* its answer (result and end) has not been read yet */
    bool reset_open;       /* its pipeline has no Sync yet: the next operation joins it */
    bool reset_sync;       /* parked: its Sync was sent and has not come back yet */
    bool reset_unsent;     /* still in libpq's buffer: a borrower joins it, or the close sends it */
    PGresult *reset_error; /* it failed: the connection is given up, the borrower is told */

    alch_error start_err;   /* why the last async call could not start */
    alch_error fatal;       /* a FATAL the server sent as it hung up (came as a notice) */
    uv_timer_t *qtimer;     /* the client-side query timeout (heap, freed on close) */
    uv_timer_t *ctimer;     /* asks again when a cancel landed before the statement ran */
    struct alch__cancel *cancel_req; /* a cancel request on the thread pool, or NULL */
    alch__notify_fn notify; /* LISTEN: called for each notification; the socket stays watched */
    void *notify_data;
    int refs;               /* > 0 while inside one of our callbacks */
    bool destroy_pending;
    bool closing;           /* alch_conn_close() is running */

    alch_connect_cb connect_cb;
    void *connect_data;
    const char **conn_keys; /* kept until connected: PQconnectStartParams copies them, */
    const char **conn_vals; /* but the URL copy they point into is ours to free */
    alch_url *url;
    struct alch__resolve *resolver; /* host names being looked up (resolve.c), or NULL */
    char *resolved[3];      /* host, hostaddr and port lists after the lookup */

    alch__conn_link link;   /* the owner's (the pool's) bookkeeping; see driver.h */
};

/* The transaction status the next statement will meet: PQtransactionStatus(), except that a
 * ROLLBACK sent at the hand-back whose answer has not come yet counts as done (idle). */
PGTransactionStatusType alch__tx_status(const alch_conn *c);

/* A ROLLBACK of the hand-back may be open: the next pipeline joins it (pipeline.c). */
void alch__reset_join(alch_conn *c);

/* Shared by conn.c and pipeline.c. */
void alch__op_finish(alch_conn *c, int status, const alch_error *err);
/* A zeroed operation of c's: the memory of its last one (one operation at a time), or new.
 * NULL when out of memory. */
alch__op *alch__op_new(alch_conn *c);
/* Free what op holds; its memory is kept by c for the next (NULL is ignored). */
void alch__op_free(alch_conn *c, alch__op *op);
int alch__conn_flush_arm(alch_conn *c);
void alch__conn_fail(alch_conn *c, const char *what);
void alch__cache_remove(alch_conn *c, int i);
/* The one prepared-statement cache, for single statements (conn.c) and pipelines
 * (pipeline.c). alch__cache_find: the entry for sql with these parameter types that is
 * prepared (or, with pending_ok, being prepared in the current pipeline), its use counted;
 * NULL when there is none. */
alch__stmt *alch__cache_find(alch_conn *c, const char *sql, const alch__params *p,
                             bool pending_ok);
/* A new entry for sql, named and counted as used now; the caller prepares it. A full cache
 * drops its least recently used entry, whose DEALLOCATE is written to dealloc ("" when
 * nothing was dropped), unless that entry was used at or after keep_tick or is still being
 * prepared: then NULL with *rc = 0, and the statement runs unprepared. NULL with
 * *rc = ALCH_ENOMEM when out of memory. */
alch__stmt *alch__cache_add(alch_conn *c, const char *sql, const alch__params *p,
                            uint64_t keep_tick, char dealloc[ALCH__DEALLOC_MAX], int *rc);
/* Whether statements go through the cache (cache_size > 0 and not switched off). */
bool alch__cache_on(const alch_conn *c);

/* Name the new cache entry s of c: "alch_<tag>_<n>", the tag drawn at random once per
 * connection. Behind a transaction-mode pooler, server connections are shared by clients:
 * a name no other client uses means a cached statement run on a foreign server connection
 * fails as "does not exist", never runs another client's statement of the same name. */
void alch__stmt_name(alch_conn *c, alch__stmt *s);
/* An error about one of our prepared statements (42P05 "already exists", 26000 "does not
 * exist"): the server connection changed under us (PgBouncer in transaction mode). Says so
 * in the error, and switches the cache off for the engine, with an echo line, once. */
void alch__cache_vanished(alch_conn *c, alch_error *err);

/* An operation is about to send: starts its timeout; false when it must wait for a cancel
 * request still on its way (then alch__batch_start() or the next step runs later). */
typedef struct alch__cancel alch__cancel;
bool alch__op_begin(alch_conn *c);

/* ---- resolve.c: host names looked up off the loop ------------------------------------ */

typedef struct alch__resolve alch__resolve;

/* The value of a libpq connection parameter of c ("host", "port", ...), or NULL. */
const char *alch__conn_param(const alch_conn *c, const char *key);
typedef void (*alch__resolve_cb)(alch_conn *c, int status, alch_error *err);

/* Look up the host names among c's libpq parameters on the thread pool, then rewrite them
 * (host, hostaddr, port) and call cb. Returns 1 when lookups were started, 0 when there is
 * nothing to look up (Unix sockets, numeric addresses, hostaddr given), or an error. */
int alch__resolve_start(alch_conn *c, alch__resolve_cb cb, alch_error *err);
/* The connection goes away: the lookups finish on their own and report to nobody. */
void alch__resolve_detach(alch_conn *c);

/* ---- pipeline.c: many statements in one round trip ------------------------------------ */

void alch__batch_io(alch_conn *c);
void alch__batch_start(alch_conn *c);
void alch__batch_free(struct alch__batch *b);
/* The first failure the batch received, or NULL. */
const PGresult *alch__batch_error(const struct alch__batch *b);

#endif
