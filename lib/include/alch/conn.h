/**
 * @file conn.h
 * @ingroup driver
 * @brief The driver layer: one connection to PostgreSQL, non-blocking underneath.
 *
 * This is the seed's first step, the driver. An ::alch_conn wraps one libpq
 * connection and drives it with libuv: every operation is a non-blocking state
 * machine (`PQconnectPoll`, `PQsendQueryParams`, `PQflush`, `PQconsumeInput`,
 * `PQgetResult`) woken by a `uv_poll_t` on the connection's socket.
 *
 * Each operation has two faces built on that one core:
 *
 * - the **async** face (`*_async`) starts the operation on a `uv_loop_t` and
 *   calls you back when it is done;
 * - the **sync** face runs the same operation to completion on a private loop
 *   and returns its result. Use it only on connections that come from
 *   alch_conn_open() or from a sync engine (alch_engine_create()).
 *
 * **Names.** alch_conn_execute_text() runs SQL text (SQLAlchemy's
 * `conn.execute(text("..."))`); alch_conn_execute() (statement.h) runs a built statement
 * (`conn.execute(select(...))`). `_async` always means: takes a callback, returns at once.
 *
 * **What an async call keeps.** Every `*_async` call copies what it is given (the SQL, the
 * values, a statement's SQL and values, the URL, a channel name) before it returns: you may
 * free or overwrite them at once. Only the handles (the loop, the connection, the engine) must
 * stay alive until the callback runs.
 *
 * An async call that cannot even start returns a negative code and never calls back;
 * alch_conn_start_error() then holds the whole sentence. alch_conn_open_async(), which has no
 * connection yet to keep it on, writes it into its `err` instead.
 *
 * A connection runs one operation at a time. Starting a second one while the
 * first is in flight fails with ::ALCH_EBUSY instead of corrupting the protocol.
 *
 * Connections come from two places: alch_conn_open() (a standalone connection,
 * autocommit: every statement commits on its own) or an engine's pool
 * (alch_engine_connect(): statements run inside a transaction that begins
 * implicitly, as in SQLAlchemy 2.0). alch_conn_close() closes the first kind and
 * hands the second back to its pool.
 */
#ifndef ALCH_CONN_H
#define ALCH_CONN_H

#include "alch/export.h"

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "alch/error.h"
#include "alch/result.h"
#include "alch/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup driver
 * @{ */

/** @brief One database connection (opaque). */
typedef struct alch_conn alch_conn;

/**
 * @brief Called when a connection attempt or a pool checkout finishes.
 *
 * @param conn    The connection on success (yours until alch_conn_close()), NULL on failure.
 * @param status  0 or a negative ::alch_status code.
 * @param err     Details on failure, valid only during the call; NULL on success.
 * @param data    The pointer given when the operation was started.
 */
typedef void (*alch_connect_cb)(alch_conn *conn, int status, const alch_error *err, void *data);

/**
 * @brief Called when a statement finishes.
 *
 * The callback may start the next operation on @p conn, or close it.
 *
 * @param conn    The connection the statement ran on.
 * @param status  0 or a negative ::alch_status code.
 * @param res     The result on success: it is yours, free it with alch_result_free().
 *                NULL on failure.
 * @param err     Details on failure, valid only during the call; NULL on success.
 * @param data    The pointer given when the statement was started.
 */
typedef void (*alch_exec_cb)(alch_conn *conn, int status, alch_result *res,
                             const alch_error *err, void *data);

/**
 * @brief How long a connection attempt may take when the URL has no `connect_timeout`
 *        (10 s): a server that accepts and never answers cannot hang a caller.
 *
 * The limit covers the whole attempt: the host name lookup, every host of a multi-host
 * URL, TLS and authentication. `connect_timeout=0` in the URL waits without limit, as in
 * libpq.
 */
#define ALCH_CONNECT_TIMEOUT_DEFAULT_MS 10000

/**
 * @brief Open a standalone connection and wait until it is ready (sync face).
 *
 * @param url   A database URL (see url.h); its `connect_timeout` key, in seconds,
 *              bounds the whole attempt (default ::ALCH_CONNECT_TIMEOUT_DEFAULT_MS).
 * @param out   Receives the connection; close it with alch_conn_close().
 * @param err   Optional details on failure.
 * @return 0; ::ALCH_EARGUMENT for a bad URL; ::ALCH_EOPERATIONAL when the server
 *         cannot be reached or refuses us; ::ALCH_ETIMEOUT; ::ALCH_ENOMEM.
 */
ALCH_API int alch_conn_open(const char *url, alch_conn **out, alch_error *err);

/**
 * @brief Start opening a standalone connection on @p loop (async face).
 *
 * @param loop  The caller's loop; it must outlive the connection.
 * @param url   A database URL; the attempt is bounded as for alch_conn_open().
 * @param cb    Called once with the connection or the error.
 * @param data  Passed to @p cb.
 * @param err   Optional: why the attempt could not start, when it could not.
 * @return 0 when the attempt started (then @p cb will be called, never before this
 *         function returns), or a negative code when it could not start (then @p cb is
 *         never called and @p err says why): ::ALCH_EMISUSE for a NULL loop, URL or callback;
 *         ::ALCH_EARGUMENT for a malformed URL (alch_url_parse()'s sentence); ::ALCH_ENOMEM.
 */
ALCH_API int alch_conn_open_async(uv_loop_t *loop, const char *url, alch_connect_cb cb, void *data,
                                  alch_error *err);

/**
 * @brief Close a connection, or hand it back to its engine's pool.
 *
 * A pooled connection with an open transaction is rolled back before the next
 * borrower gets it. A connection that is running an operation is closed at
 * once; that operation's callback is called with ::ALCH_ECANCELED. Calling this
 * from inside one of the connection's own callbacks is allowed.
 *
 * @param conn  The connection; NULL is allowed. Do not use it afterwards.
 */
ALCH_API void alch_conn_close(alch_conn *conn);

/**
 * @brief Run one SQL statement with bound parameters and wait for its result.
 *
 * Placeholders are positional (`$1`, `$2`, ...) or named (`:name`, with every
 * value wrapped in alch_named()); casts such as `x::int` are left alone. Values always
 * travel separately from the SQL text.
 *
 * @param conn     The connection.
 * @param sql      One SQL statement.
 * @param params   The values, or NULL when @p nparams is 0.
 * @param nparams  How many values.
 * @param res      Receives the result (free it with alch_result_free()); may be NULL
 *                 when you do not need it.
 * @param err      Optional details on failure.
 * @return 0 or a negative ::alch_status code; database errors are classified
 *         from their SQLSTATE (see alch_error_code_from_sqlstate()).
 */
ALCH_API int alch_conn_execute_text(alch_conn *conn, const char *sql, const alch_value *params,
                                    size_t nparams, alch_result **res, alch_error *err);

/**
 * @brief Start one SQL statement (async face of alch_conn_execute_text()).
 *
 * The SQL and the values are copied before this returns.
 *
 * @return 0 when started (then @p cb will be called), or a negative code
 *         (then @p cb is never called): ::ALCH_EBUSY when an operation is in flight.
 */
ALCH_API int alch_conn_execute_text_async(alch_conn *conn, const char *sql,
                                          const alch_value *params, size_t nparams, alch_exec_cb cb,
                                          void *data);

/**
 * @brief Run one statement for many rows of values, all in one round trip: the DB-API's
 *        `executemany()`, sent in libpq's pipeline mode.
 *
 * The statements go out back to back (a window of 256 in flight, so memory stays small
 * for any number of rows) and end with one sync point. When one fails, the server skips
 * the rest, and the error names it: "statement 37 of 1000 in the batch failed: ...",
 * with its SQL and values. On a pooled connection the batch runs inside the transaction
 * (which then needs a rollback); on a standalone connection a failure leaves nothing of
 * the batch behind, as the whole batch is one implicit transaction.
 *
 * @param conn     The connection.
 * @param sql      One SQL statement with `$1 .. $nparams` placeholders (not `:name`).
 * @param params   `nrows * nparams` values, row after row.
 * @param nparams  Values per row.
 * @param nrows    Rows (statements to run); 0 does nothing.
 * @param err      Optional details on failure.
 * @return 0, or the first failure's code.
 */
ALCH_API int alch_conn_execute_text_many(alch_conn *conn, const char *sql, const alch_value *params,
                                         size_t nparams, size_t nrows, alch_error *err);

/**
 * @brief Async face of alch_conn_execute_text_many(). The SQL and all the rows' values are
 * copied before this returns (one block, as big as the values' bytes).
 * @return 0 when started, or a negative code (see alch_conn_start_error()).
 */
ALCH_API int alch_conn_execute_text_many_async(alch_conn *conn, const char *sql,
                                               const alch_value *params, size_t nparams,
                                               size_t nrows, alch_exec_cb cb, void *data);

/**
 * @brief Begin a transaction explicitly (sync face).
 * @return 0, or ::ALCH_EMISUSE when a transaction is already open.
 */
ALCH_API int alch_conn_begin(alch_conn *conn, alch_error *err);

/**
 * @brief Commit the open transaction (sync face). Without one it does nothing.
 * @return 0 or a negative code; a failed COMMIT leaves the transaction rolled back.
 */
ALCH_API int alch_conn_commit(alch_conn *conn, alch_error *err);

/**
 * @brief Roll back the open transaction (sync face). Without one it does nothing.
 * @return 0 or a negative code.
 */
ALCH_API int alch_conn_rollback(alch_conn *conn, alch_error *err);

/** @brief Async face of alch_conn_begin(); @p cb receives no result (NULL). */
ALCH_API int alch_conn_begin_async(alch_conn *conn, alch_exec_cb cb, void *data);
/** @brief Async face of alch_conn_commit(); @p cb receives no result (NULL). */
ALCH_API int alch_conn_commit_async(alch_conn *conn, alch_exec_cb cb, void *data);
/** @brief Async face of alch_conn_rollback(); @p cb receives no result (NULL). */
ALCH_API int alch_conn_rollback_async(alch_conn *conn, alch_exec_cb cb, void *data);

/**
 * @brief Open a savepoint inside the current transaction (SQLAlchemy's `begin_nested()`).
 *
 * Savepoints nest; they are named `sa_savepoint_1`, `sa_savepoint_2`, ... by depth.
 * A transaction is begun first when none is open.
 *
 * @return 0 or a negative code.
 */
ALCH_API int alch_conn_savepoint(alch_conn *conn, alch_error *err);

/**
 * @brief Release (keep) the innermost savepoint's work.
 * @return 0, or ::ALCH_EMISUSE when no savepoint is open.
 */
ALCH_API int alch_conn_release_savepoint(alch_conn *conn, alch_error *err);

/**
 * @brief Undo everything since the innermost savepoint, and close it.
 * @return 0, or ::ALCH_EMISUSE when no savepoint is open.
 */
ALCH_API int alch_conn_rollback_savepoint(alch_conn *conn, alch_error *err);

/** @brief Whether a transaction is open on this connection. */
ALCH_API bool alch_conn_in_transaction(const alch_conn *conn);

/**
 * @brief Why the last `*_async` call on this connection could not start.
 *
 * When an async call returns a negative code (it never calls back then), this error holds
 * the sentence that explains it, e.g. "this connection is already running a query: one
 * connection per task". It stays until the next failed start or the connection closes.
 *
 * @return The error, owned by the connection; NULL for a NULL connection.
 */
ALCH_API const alch_error *alch_conn_start_error(const alch_conn *conn);

/**
 * @brief Ask the server to cancel the statement running on this connection, without
 *        blocking the loop.
 *
 * The request travels on a connection of its own, opened on libuv's thread pool. The
 * running call then fails with ::ALCH_ECANCELED (SQLSTATE 57014), unless it finished
 * first; either way the connection stays usable, and a statement started meanwhile waits
 * until the request has been delivered, so it cannot be cancelled by mistake.
 *
 * The server drops a cancel request that lands while nothing runs (before the statement has
 * reached it, or between the operation's BEGIN and its statement). So while the operation
 * goes on, the request is sent again every 100 ms (up to 20 times).
 *
 * @param conn  The connection.
 * @return 0 when the request is on its way (or already was); ::ALCH_EMISUSE when nothing
 *         runs; ::ALCH_ENOMEM. Like a call that cannot start, a refusal leaves its sentence in
 *         alch_conn_start_error() (a NULL @p conn has nowhere to leave one).
 */
ALCH_API int alch_conn_cancel(alch_conn *conn);

/** @brief Whether an operation is in flight (the connection is busy). */
ALCH_API bool alch_conn_busy(const alch_conn *conn);

/** @brief The server's version as an integer, e.g. 150018 for 15.18; 0 when not connected. */
ALCH_API int alch_conn_server_version(const alch_conn *conn);

/** @brief The process id of the server backend serving this connection; 0 when not connected. */
ALCH_API int alch_conn_backend_pid(const alch_conn *conn);

/** @brief The connection's user data pointer (yours to set, like libuv's `data`). */
ALCH_API void *alch_conn_get_data(const alch_conn *conn);

/** @brief Set the connection's user data pointer. */
ALCH_API void alch_conn_set_data(alch_conn *conn, void *data);

/**
 * @brief The version of the libpq that alch runs on, e.g. 150018.
 * @return `PQlibVersion()`.
 */
ALCH_API int alch_libpq_version(void);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
