/**
 * @file engine.h
 * @ingroup engine
 * @brief The engine: a URL, options and a pool of connections (the seed's `create_async_engine`).
 *
 * Creating an engine does no I/O. Connections are opened lazily when first
 * checked out, kept in a pool, and reused:
 *
 *     checkout ──► idle connection? ──yes──► hand it out
 *                        │ no
 *                        ▼
 *         fewer than pool_size + max_overflow open? ──yes──► open a new one
 *                        │ no
 *                        ▼
 *         wait in a FIFO queue (at most pool_timeout), first come first served
 *
 * A connection handed back with an open transaction is rolled back; one that
 * died (server restart, network) is thrown away and replaced on demand.
 *
 * What waits how long, by default:
 *
 * | wait                                   | default  | option (or URL key)                   |
 * |----------------------------------------|----------|---------------------------------------|
 * | a whole checkout (queue + connecting)  | 30 s     | `pool_timeout_ms`                     |
 * | one connection attempt                 | 10 s     | `connect_timeout_ms` (`connect_timeout`) |
 * | a statement, on the server             | no limit | `statement_timeout_ms`                |
 * | a statement, seen from the client      | no limit | `query_timeout_ms`                    |
 *
 * The attempt's limit covers the host name lookup too (done off the loop, on libuv's thread
 * pool); a name that does not resolve fails at once with ::ALCH_EOPERATIONAL ("could not
 * translate host name ... to address").
 *
 * A server that accepts and never answers therefore ends a checkout with ::ALCH_ETIMEOUT.
 * A backend that stops answering in the middle of a statement (stopped, or a network that
 * drops packets without a reset) is waited for until `query_timeout_ms` is set: then alch
 * asks the server to cancel and, when that is not answered within 2 s either, gives the
 * connection up. A connection the server closes (terminate, restart, crash, failover)
 * fails its statement at once with ::ALCH_EOPERATIONAL and the server's own reason, e.g.
 * `terminating connection due to administrator command` (SQLSTATE 57P01).
 *
 * There are two kinds of engine, as in SQLAlchemy:
 * - alch_engine_create_on_loop() runs on **your** libuv loop; use the `*_async` calls.
 * - alch_engine_create() owns a private loop; use the sync calls, which run that
 *   loop until the operation is done.
 */
#ifndef ALCH_ENGINE_H
#define ALCH_ENGINE_H

#include "alch/export.h"

#include <stdbool.h>
#include <stdio.h>

#include <uv.h>

#include "alch/conn.h"
#include "alch/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup engine
 * @{ */

/** @brief An engine (opaque). */
typedef struct alch_engine alch_engine;

/**
 * @brief Engine options. Start from alch_engine_options_default() and change what you need.
 *
 * Durations are in milliseconds; 0 or a negative value disables the feature where noted.
 */
typedef struct alch_engine_options {
    bool echo;               /**< Log every statement, its parameters and timing (default false). */
    FILE *echo_file;         /**< Where echo writes (default NULL = stdout, as SQLAlchemy
                                  does, so the SQL and your own output stay in order). */
    int pool_size;           /**< Connections kept open when idle (default 5). */
    int max_overflow;        /**< Extra connections allowed under load, closed when returned
                                  (default 10). */
    int pool_timeout_ms;     /**< How long a whole checkout may take: waiting for a free
                                  connection *and* opening a new one (default 30000). 0 or
                                  less: never wait for a connection to come free (one being
                                  opened is still awaited, bounded by connect_timeout_ms). */
    int connect_timeout_ms;  /**< How long opening one connection may take, lookup, TLS and
                                  authentication included (default 10000, see
                                  ::ALCH_CONNECT_TIMEOUT_DEFAULT_MS); `connect_timeout` in
                                  the URL, in seconds, wins when present. 0 or less: no
                                  limit. */
    int pool_recycle_ms;     /**< Replace a connection older than this at checkout
                                  (default -1: never). */
    bool pool_pre_ping;      /**< Check each connection with an empty query at checkout
                                  (default false). */
    int max_lifetime_ms;     /**< Like pool_recycle, with up to 10% random jitter so that
                                  connections do not all expire at once (default -1: never). */
    const char *isolation_level; /**< "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE",
                                      "AUTOCOMMIT", or NULL for the server default. */
    int statement_timeout_ms; /**< Server-side limit per statement (default 0: none). */
    int statement_cache_size; /**< Prepared statements kept per connection, least recently
                                   used evicted (default 100; 0 disables, for PgBouncer). */
    int query_timeout_ms;     /**< Client-side limit per statement (default 0: none): when
                                   it runs out, alch asks the server to cancel the statement
                                   (without blocking the loop) and the call fails with
                                   ::ALCH_ETIMEOUT; the connection stays usable. If the
                                   server does not answer within 2 more seconds, the
                                   connection is given up as broken. */
} alch_engine_options;

/**
 * @brief The default options (SQLAlchemy's defaults where it has them).
 * @return An options struct by value.
 */
ALCH_API alch_engine_options alch_engine_options_default(void);

/**
 * @brief \~english Create an engine on the caller's loop (SQLAlchemy's `create_async_engine`).
 *        \~russian Создать движок на цикле вызывающего (`create_async_engine` в SQLAlchemy). \~
 *
 * It returns when the engine is made (no connection is opened yet), so it has no `_async`
 * suffix: in alch `_async` means "takes a callback". Its sessions and connections use the
 * `*_async` calls.
 *
 * @param loop  The loop every operation of this engine runs on.
 * @param url   A database URL (see url.h). It is parsed now; no connection is made.
 * @param opts  Options, or NULL for alch_engine_options_default().
 * @param out   Receives the engine; free it with alch_engine_free().
 * @param err   Optional details on failure.
 * @return 0, ::ALCH_EARGUMENT (bad URL or option), ::ALCH_ENOMEM or ::ALCH_EMISUSE.
 */
ALCH_API int alch_engine_create_on_loop(uv_loop_t *loop, const char *url,
                                        const alch_engine_options *opts, alch_engine **out,
                                        alch_error *err);

/**
 * @brief \~english Create an engine with its own private loop, for the sync calls
 *        (`create_engine`).
 *        \~russian Создать движок с собственным закрытым циклом, для синхронных вызовов
 *        (`create_engine`). \~
 * @return As alch_engine_create_on_loop().
 */
ALCH_API int alch_engine_create(const char *url, const alch_engine_options *opts, alch_engine **out,
                                alch_error *err);

/**
 * @brief Check a connection out of the pool, waiting for one when needed (sync engine).
 *
 * @param engine  A sync engine.
 * @param out     Receives the connection; hand it back with alch_conn_close().
 * @param err     Optional details on failure.
 * @return 0; ::ALCH_ETIMEOUT when the pool stayed exhausted for pool_timeout;
 *         ::ALCH_EOPERATIONAL when a new connection could not be opened;
 *         ::ALCH_EMISUSE on an async engine.
 */
ALCH_API int alch_engine_connect(alch_engine *engine, alch_conn **out, alch_error *err);

/**
 * @brief Check a connection out of the pool (async engine).
 *
 * Waiters are served first come, first served. @p cb runs on the engine's loop,
 * never before this function returns.
 *
 * @return 0 when the request is queued (then @p cb will be called), or a negative
 *         code (then it is not): ::ALCH_ECLOSED after alch_engine_free(); the sentence is
 *         in alch_engine_start_error().
 */
ALCH_API int alch_engine_connect_async(alch_engine *engine, alch_connect_cb cb, void *data);

/**
 * @brief Work done inside alch_engine_begin(): return 0 to commit, non-zero to roll back.
 *
 * @param conn  The connection, inside an open transaction.
 * @param data  The pointer given to alch_engine_begin().
 * @param err   Fill it (or pass it to alch calls) to explain a failure.
 */
typedef int (*alch_work_fn)(alch_conn *conn, void *data, alch_error *err);

/**
 * @brief Run @p work in a transaction: commit on success, roll back on error
 *        (SQLAlchemy's `with engine.begin() as conn:`).
 *
 * @return 0 when @p work returned 0 and the commit succeeded; otherwise @p work's
 *         status (or the checkout/commit error), after a rollback.
 */
ALCH_API int alch_engine_begin(alch_engine *engine, alch_work_fn work, void *data, alch_error *err);

/** @brief A transaction in progress inside alch_engine_begin_async() (opaque). */
typedef struct alch_tx alch_tx;

/**
 * @brief Async work inside alch_engine_begin_async(). Start your statements on @p conn
 *        and call alch_tx_done() once, when they are finished.
 *
 * @param tx    The transaction; pass it to alch_tx_done().
 * @param conn  The connection, inside an open transaction. Do not close it.
 * @param data  The pointer given to alch_engine_begin_async().
 */
typedef void (*alch_async_work_fn)(alch_tx *tx, alch_conn *conn, void *data);

/**
 * @brief Called when alch_engine_begin_async() is over: committed, or rolled back.
 *
 * @param status  0 when committed; otherwise the work's status or the failing step's.
 * @param err     Details on failure, valid only during the call; NULL on success.
 * @param data    The pointer given to alch_engine_begin_async().
 */
typedef void (*alch_tx_done_cb)(int status, const alch_error *err, void *data);

/**
 * @brief Async face of alch_engine_begin(): check out, BEGIN, run @p work, then COMMIT
 *        when it reports success or ROLLBACK when it reports an error, and hand the
 *        connection back (SQLAlchemy's `async with engine.begin() as conn:`).
 *
 * @param engine  An async engine.
 * @param work    Starts the work; it calls alch_tx_done() when finished.
 * @param done    Called once at the end.
 * @param data    Passed to @p work and @p done.
 * @return 0 when started (then @p done will be called), or a negative code (never a
 *         callback then; the sentence is in alch_engine_start_error()).
 */
ALCH_API int alch_engine_begin_async(alch_engine *engine, alch_async_work_fn work,
                                     alch_tx_done_cb done, void *data);

/**
 * @brief Report the end of the work of an alch_engine_begin_async() transaction.
 *
 * @param tx      The transaction given to the work function.
 * @param status  0 to commit; any negative code to roll back.
 * @param err     Optional details of a failure, passed on to the done callback.
 */
ALCH_API void alch_tx_done(alch_tx *tx, int status, const alch_error *err);

/**
 * @brief \~english Close every idle connection and fail every waiter with ::ALCH_ECANCELED.
 *        \~russian Закрыть все свободные соединения пула; каждый ждущий получает
 *        ::ALCH_ECANCELED (`engine.dispose()`). \~
 *
 * Checked-out connections are closed when they are handed back. The engine stays
 * usable: the next checkout opens a fresh connection.
 *
 * @param engine  The engine; NULL is allowed.
 */
ALCH_API void alch_engine_dispose(alch_engine *engine);

/**
 * @brief \~english Dispose the engine and free it.
 *        \~russian Сделать dispose и освободить движок. \~
 *
 * Connections still checked out keep what they need alive until they are closed.
 * Calling this from inside a callback of one of the engine's connections is allowed.
 *
 * On an async engine, closing libuv handles finishes on the loop (libuv's rule): run
 * `uv_run(loop, UV_RUN_DEFAULT)` once more before `uv_loop_close(loop)`.
 *
 * @param engine  The engine; NULL is allowed. Do not use it afterwards.
 */
ALCH_API void alch_engine_free(alch_engine *engine);

/**
 * @brief Turn echo on or off while the program runs (SQLAlchemy's `engine.echo = True`).
 *
 * Affects every connection of the engine from its next statement on; output goes where
 * the `echo_file` option said (stdout by default).
 *
 * @param engine  The engine; NULL is ignored.
 * @param on      Whether to print each statement.
 */
ALCH_API void alch_engine_set_echo(alch_engine *engine, bool on);

/** @brief A connection that listens for notifications (`LISTEN`/`NOTIFY`) (opaque). */
typedef struct alch_listener alch_listener;

/** @brief One notification: what ``NOTIFY channel, 'payload'`` (or `pg_notify()`) sent. */
typedef struct alch_notification {
    const char *channel; /**< The channel it was sent on. */
    const char *payload; /**< The payload text ("" when none). */
    int pid;             /**< The server process of the sending session. */
} alch_notification;

/**
 * @brief Called on the engine's loop for a listener's events.
 *
 * - `status == 0`, @p n == NULL: the `LISTEN` is in place; notifications sent from now on
 *   will arrive.
 * - `status == 0`, @p n set: a notification; @p n and its strings live during the call.
 * - `status < 0`: the listener failed (could not connect, `LISTEN` refused, connection
 *   lost); @p err says why. Nothing more comes: close the listener.
 *
 * The listener may be closed inside the callback.
 */
typedef void (*alch_notify_cb)(alch_listener *l, int status, const alch_notification *n,
                               const alch_error *err, void *data);

/**
 * @brief Listen for notifications on @p channel (what a bot uses to react to database
 *        events: a new order, a price change).
 *
 * Opens a connection of its own (not from the pool: it stays open as long as it listens)
 * and sends `LISTEN channel`. Notifications arrive as callbacks on the engine's loop,
 * between your other work; nothing is polled.
 *
 * @param engine   An async engine (alch_engine_create_on_loop()).
 * @param channel  The channel name (quoted as an identifier when it needs to be).
 * @param cb       Called for each event, see ::alch_notify_cb.
 * @param data     Passed to @p cb.
 * @param out      Receives the listener; close it with alch_listener_close().
 * @param err      Optional details on failure.
 * @return 0 when started; ::ALCH_EMISUSE for a sync engine or a missing argument;
 *         ::ALCH_ENOMEM.
 */
ALCH_API int alch_engine_listen_async(alch_engine *engine, const char *channel, alch_notify_cb cb,
                                      void *data, alch_listener **out, alch_error *err);

/**
 * @brief Stop listening and close the listener's connection. Allowed inside its callback.
 * @param l  The listener; NULL is allowed.
 */
ALCH_API void alch_listener_close(alch_listener *l);

/**
 * @brief Why the last `*_async` call on this engine could not start
 *        (alch_engine_connect_async(), alch_engine_begin_async()).
 *
 * Such a call returns a negative code and never calls back; this error holds the sentence,
 * e.g. "alch_engine_connect_async needs a callback". It stays until the next async call on
 * the engine.
 *
 * @param engine  The engine.
 * @return The error, owned by the engine; NULL for a NULL engine.
 */
ALCH_API const alch_error *alch_engine_start_error(const alch_engine *engine);

/** @brief Pool counters, for monitoring and tests. */
typedef struct alch_pool_status {
    int size;        /**< Connections open now (idle + checked out + opening). */
    int idle;        /**< Idle connections waiting in the pool. */
    int checked_out; /**< Connections lent out. */
    int waiting;     /**< Checkouts waiting for a connection. */
} alch_pool_status;

/**
 * @brief Read the pool counters.
 * @return The counters; all zero for NULL.
 */
ALCH_API alch_pool_status alch_engine_pool_status(const alch_engine *engine);

/**
 * @brief The engine's URL rendered with the password masked, e.g. for a log line.
 * @return A string owned by the engine.
 */
ALCH_API const char *alch_engine_url(const alch_engine *engine);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
