/* The driver as the rooms above it see it (engine, session, base, migrate): connections,
 * operations, pipelined batches, echo. No libpq here: the connection's insides are in
 * conn_internal.h, for driver/ only. The driver never calls up: what it must tell its owner
 * (a connection handed back, an echo line) goes through the hooks and settings given here. */
#ifndef ALCH_DRIVER_DRIVER_H
#define ALCH_DRIVER_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "alch/conn.h"
#include "alch/url.h"
#include "alch/value.h"

/* The async calls' one rule (conn.h): each copies the SQL and the values it is given before
 * it returns. A copy lives in one block: the values, their names and bytes, then the SQL. */
typedef struct alch__inputs {
    char *sql;          /* the copy of the SQL text (NULL when none was given) */
    alch_value *params; /* the copies of the values, pointing into the same block */
    size_t n;
} alch__inputs;

/* Copy sql (may be NULL) and n values (each name, text and bytes with them) into *out.
 * Returns 0 or ALCH_ENOMEM with the sentence in err. Free with alch__inputs_free(). */
int alch__inputs_copy(alch__inputs *out, const char *sql, const alch_value *params, size_t n,
                      alch_error *err);
void alch__inputs_free(alch__inputs *in);

/* One element of a PostgreSQL array literal (`{"a","b\"c",NULL}`), appended to b: NULL
 * bare, every other value double-quoted with `"` and `\` escaped, so the server reads back
 * exactly the text a single parameter would carry: integers in decimal, a double in 17
 * digits (Infinity, -Infinity, NaN spelled out), bytes as bytea's \x hex, bool t/f. The caller
 * writes the braces and commas. Returns 0, or ALCH_EDATA for text with a NUL byte (the
 * sentence in err), or ALCH_ENOMEM. Bytes below 0x80 must mean ASCII in the connection's
 * encoding: see alch__conn_arrays_ok(). */
struct alch__buf;
int alch__array_put(struct alch__buf *b, const alch_value *v, alch_error *err);
/* Whether c's client encoding keeps every byte below 0x80 ASCII (UTF-8 and every encoding
 * a server may use; not SJIS, BIG5, GBK, UHC, GB18030, JOHAB), so array literals are safe. */
bool alch__conn_arrays_ok(const alch_conn *c);

/* Where echo goes; owned by the engine, shared by its connections. */
typedef struct alch__echo {
    bool on;
    FILE *file;
} alch__echo;

/* Settings a connection gets from its engine (standalone connections use the zero value). */
typedef struct alch__conn_config {
    const alch__echo *echo; /* NULL: no echo */
    int cache_size;         /* prepared statements kept; 0 disables the cache */
    bool *cache_off;        /* the engine's switch: set when prepared statements vanished
                               under us (a transaction-mode pooler); NULL for none */
    bool autobegin;         /* begin a transaction before the first statement */
    const char *begin_sql;  /* "BEGIN" or "BEGIN ISOLATION LEVEL ..." (static string) */
    int query_timeout_ms;   /* client-side limit per operation; 0: none */
    /* alch_conn_close() on a connection with a link owner hands it to release(owner, c)
     * instead of closing it (the pool takes it back); NULL: close for real */
    void (*release)(void *owner, alch_conn *c);
} alch__conn_config;

/* The owner's bookkeeping on a connection (the engine's pool): the driver keeps it and reads
 * only `owner`, to know whether alch_conn_close() hands the connection to cfg.release. */
typedef struct alch__conn_link {
    void *owner;         /* the pool that lent it out, or NULL */
    alch_conn *next;     /* link in the owner's idle stack */
    unsigned gen;        /* the pool generation it was opened in (see dispose) */
    uint64_t created_ms;
    uint64_t expires_ms; /* 0: never */
} alch__conn_link;

/* The bookkeeping slot of c (never NULL for a connection). */
alch__conn_link *alch__conn_link_of(alch_conn *c);

/* Where an async call that could not start leaves its sentence (the connection's; NULL for
 * a NULL connection). */
alch_error *alch__conn_start_err(alch_conn *c);

/* A pooled connection of a sync engine answers the sync calls only (and the reverse). */
void alch__conn_set_sync_face(alch_conn *c, bool on);

/* Who hears that the connection is up (or failed): set before alch__conn_start(). */
void alch__conn_on_connect(alch_conn *c, alch_connect_cb cb, void *data);

/* A notification (LISTEN/NOTIFY) arrived; channel is NULL when the connection was lost. */
typedef void (*alch__notify_fn)(alch_conn *c, const char *channel, const char *payload, int pid,
                                void *data);

/* Start connecting `c` (already zeroed with loop/cfg set). `url` is taken over. Calls
 * c->connect_cb on completion; on failure the connection is destroyed before the callback.
 * Returns 0 when started, or an error (c destroyed, callback not called). */
int alch__conn_start(alch_conn *c, alch_url *url, const char *const *extra_keys,
                     const char *const *extra_vals, int timeout_ms, alch_error *err);

alch_conn *alch__conn_new(uv_loop_t *loop, const alch__conn_config *cfg);

/* The URL's connect_timeout in milliseconds (0: none), as libpq reads it; `fallback_ms`
 * when the URL has none. */
int alch__url_timeout_ms(const alch_url *url, int fallback_ms);

/* Close for real (PQfinish, handles closed). Deferred while inside a callback. */
void alch__conn_destroy(alch_conn *c);

/* Whether the connection can be lent out: connected, not broken, and the socket shows no
 * sign that the server hung up (checked without blocking). */
bool alch__conn_alive(alch_conn *c);

/* Run an operation: exec with params, or a transaction-control statement. */
int alch__conn_exec(alch_conn *c, const char *sql, const alch_value *params, size_t n,
                    alch_exec_cb cb, void *data, alch_error *err);
/* Whether the rows of res can be read in binary by the owner that asked (the types of its
 * columns, not its format): asked once per cached statement and owner. */
typedef bool (*alch__rows_fn)(const alch_result *res, const void *owner);

/* How a caller that reads the rows itself, and never hands the result on (the session's
 * objects), takes them: in binary (libpq's resultFormat 1, one format for every column) once
 * binary_ok(res, owner) said yes for the cached statement; with try_first, from its first
 * answer on, until binary_ok says no. A binary answer that binary_ok refuses is the caller's
 * to run again (then in text: the statement remembers). */
typedef struct alch__rows {
    alch__rows_fn binary_ok;
    const void *owner;
    bool try_first;
} alch__rows;

/* alch__conn_exec for such a caller (rows NULL: text, as alch__conn_exec). Binary values do
 * not depend on DateStyle, extra_float_digits or TimeZone, and need no parsing. */
int alch__conn_exec_rows(alch_conn *c, const char *sql, const alch_value *params, size_t n,
                         const alch__rows *rows, alch_exec_cb cb, void *data, alch_error *err);
int alch__conn_simple(alch_conn *c, const char *sql, const char *echo, int savepoint_delta,
                      bool commit_on_failed, alch_exec_cb cb, void *data, alch_error *err);

/* The hand-back of a connection inside a transaction: the ROLLBACK is queued (echoed) and
 * leaves before alch_conn_close() returns, so the server releases the transaction's locks now,
 * and the connection may be lent again without waiting for its answer. A borrower served
 * inside the hand-back sends its statements in the same write (no Flush of its own for the
 * ROLLBACK: the server answers both at once); otherwise the pool parks it (alch__conn_park)
 * or the close sends it with a Flush. The next operation's statements join the ROLLBACK's
 * pipeline (one round trip for both); the driver reads the ROLLBACK's answer first. If it
 * failed, the server skips those statements and the operation fails with a sentence saying
 * so, and the connection is given up: nothing ever runs inside the old transaction.
 * Returns 0, or ALCH_EOPERATIONAL when it could not be sent (the connection is broken: close
 * it). */
int alch__conn_reset(alch_conn *c);

/* The connection goes idle in the pool: a ROLLBACK still open (alch__conn_reset) is ended
 * with a Sync, so the server reports the connection idle (PgBouncer may hand its server
 * connection to another client). The next operation then waits for the ROLLBACK's answer
 * before it is sent. Returns 0, or ALCH_EOPERATIONAL (broken: close it). */
int alch__conn_park(alch_conn *c);

/* Run the connection's loop until *done (sync face). */
void alch__conn_wait(uv_loop_t *loop, const bool *done);

/* Where c's echo goes (its engine's setting), or NULL: for alch__echo_line(). */
const alch__echo *alch__conn_echo(const alch_conn *c);

/* Write one echo line (no-op when echo is off). */
void alch__echo_line(const alch__echo *echo, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- pipeline.c: many statements in one round trip ------------------------------------ */

/* One statement of a batch; valid until the next call of the batch's next function. */
typedef struct alch__batch_item {
    const char *sql;
    const alch_value *vals;
    size_t n;
} alch__batch_item;

/* Produce item i. Called in order, and once more for an item that failed (to name it in
 * the error). Returns 0 or an error code (the batch stops), or ALCH__BATCH_LATER when
 * item i needs the answers of the items sent before it: it is asked for again once they
 * are all in. */
enum { ALCH__BATCH_LATER = 1 };
typedef int (*alch__batch_next_fn)(void *ctx, size_t i, alch__batch_item *out, alch_error *err);

/* Item i's result, in order; the result is handed over. Non-zero stops the batch. */
typedef int (*alch__batch_result_fn)(void *ctx, size_t i, alch_result *res, alch_error *err);

/* Send `count` statements in pipeline mode (libpq 14+): prepared through the connection's
 * statement cache, a window of them in flight, one Sync at the end. The first failure stops
 * the batch; the rest are skipped by the server; `done` gets an error that says which
 * statement failed. Autobegin applies as for a single statement. */
int alch__conn_batch(alch_conn *c, size_t count, alch__batch_next_fn next,
                     alch__batch_result_fn on_result, void *ctx, alch_exec_cb done, void *data,
                     alch_error *err);

/* Deliver notifications to fn from now on, watching the socket even while idle. */
void alch__conn_set_notify(alch_conn *c, alch__notify_fn fn, void *data);

/* "($1=42, $2='O''Brien')": the parameters as echo shows them, for alch_stmt_print. Returns
 * malloc'd text, or NULL (err set) when a value cannot be encoded or memory runs out. */
char *alch__params_echo(const alch_value *vals, size_t n, alch_error *err);

#endif
