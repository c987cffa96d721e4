/**
 * @file session.h
 * @ingroup session
 * @brief The session factory and the session: a unit of work with an identity map.
 *
 * The seed writes `async_session = async_sessionmaker(engine)` once, then opens a session
 * per task: `async with async_session() as session: ...`. In C:
 *
 * @code
 * alch_sessionmaker *maker;
 * alch_sessionmaker_create(engine, base, NULL, &maker, &err);   // once
 *
 * alch_session *s;
 * alch_session_open(maker, &s, &err);                           // per task
 * User u = {.tg_id = 42};
 * alch_session_add(s, &User_model, &u, &err);
 * alch_session_commit(s, &err);     // INSERT ... RETURNING id, then COMMIT: u.id is set
 * alch_session_close(s);            // frees everything the session loaded
 * @endcode
 *
 * **What a session owns.** One pooled connection (checked out at its first round trip,
 * handed back at commit, rollback or close), the identity map (one object per primary
 * key), the objects it loaded, and the strings it wrote into structs. Closing it frees
 * all of that at once. Objects you added stay yours.
 *
 * **Changing a loaded object.** Assign its fields: `item->price = 500;`, and for text a new
 * pointer: `item->name = "Matcha";`. The strings the session wrote are its own and exactly
 * as long as their text: do not write into them in place (the session would not see the
 * change, and a longer text would overrun them).
 *
 * **Autoflush.** C cannot see a write to a struct, so before a query (autoflush) the
 * session looks only at the objects that may have changed since the last flush: new ones,
 * deleted ones, and the ones it handed out (alch_session_get(), a query's objects,
 * alch_session_load(), alch_session_refresh()) or was handed back (alch_session_add() of an
 * object it already holds). A flush empties that set, so its cost does not grow with what
 * the session holds. An object you got before the last query and change afterwards is not
 * in it: call alch_session_add() with it again (or alch_session_flush()) when the next query
 * must see the change. alch_session_flush() and alch_session_commit() look at every object,
 * so nothing is ever lost, only sent later. With the environment variable
 * `ALCH_DEBUG_AUTOFLUSH=1` (read when the factory is created) every autoflush also looks at
 * every object, and a change the rule would miss fails the query with ::ALCH_EMISUSE and a
 * sentence naming the object and the column.
 *
 * **Lifetime rule.** open → work → commit or rollback → close. One session per task: a
 * second operation on a session that is still busy fails with ::ALCH_EBUSY.
 *
 * **Pipelines: statements that do not wait on each other's answers.** Each async call runs
 * alone, one round trip at least. A transaction whose statements need none of each other's
 * answers (pgbench's TPC-B: three UPDATEs, a SELECT, an INSERT) can go out whole in one round
 * trip: call alch_session_pipeline(), then alch_session_execute_text_async() once per
 * statement (each queues and returns at once; no other call may join), then
 * alch_session_commit_async(), which sends `BEGIN (implicit)`, the statements and `COMMIT`
 * together. The callbacks fire in order, once the answers are in: each statement's with its
 * result, then the commit's. When a statement fails, the server skips the rest: that
 * statement's callback gets its error, the ones after it ::ALCH_ECANCELED ("not run:
 * statement N of this pipeline failed before it"), the commit's the error with "nothing was
 * committed", and the transaction is rolled back. alch_session_rollback_async() drops a
 * pipeline unsent (its statements get ::ALCH_ECANCELED), and so does alch_session_close().
 *
 * **No implicit I/O.** Nothing is loaded behind your back: relationships load with
 * alch_session_load(), and objects are not "expired" after commit (SQLAlchemy's
 * `expire_on_commit` stays false): what the flush sent and what RETURNING brought back
 * is what the struct holds.
 *
 * Sessions of a sync engine use the sync calls; sessions of an async engine use the
 * `*_async` calls, each with a callback.
 *
 * **Names.** As in SQLAlchemy, where `session.execute(select(...))` runs a statement and
 * `session.execute(text("..."))` runs SQL text: alch_session_execute() runs a statement
 * built with alch_select(), alch_insert() and the rest; alch_session_execute_text() runs SQL
 * text with bound parameters. The suffix `_async` means one thing everywhere in alch: the
 * call takes a callback and returns at once.
 *
 * **One callback type per kind of answer.** Each `*_async` call takes the callback type that
 * matches what it gives back, so the compiler flags a callback written for another kind of
 * answer ("incompatible pointer type": a warning in GCC 12, an error with `-Werror` and from
 * GCC 14 on) instead of a wrong cast at run time. Every callback gets the session (you may close it
 * inside the callback), the status (0 or a negative ::alch_status code), the error (valid only
 * during the call; NULL on success) and the `data` pointer given when the call was started; all but
 * the first also get the answer (NULL on failure):
 *
 * - ::alch_session_done_cb: the status only (flush, commit, rollback, refresh, load);
 * - ::alch_session_object_cb: one object or NULL, owned by the session (get, first,
 *   scalar_one, scalar_one_or_none);
 * - ::alch_session_objects_cb: an ::alch_list of objects, owned by the session (scalars);
 * - ::alch_session_result_cb: an ::alch_result that the callback owns and frees (execute,
 *   execute_text, one).
 *
 * **What an async call keeps.** Nothing of yours but the handles: every `*_async` call
 * copies the SQL, the values, the key, the relationship name and what a statement holds
 * before it returns, so you may free or reuse them at once (`alch_stmt_free(st)` right after
 * alch_session_scalars_async() is fine). The session, its engine and the objects you pass
 * (refresh, load) must stay alive until the callback runs. The same rule holds for the
 * connection's calls (conn.h) and alch_base_create_all_async().
 */
#ifndef ALCH_SESSION_H
#define ALCH_SESSION_H

#include "alch/export.h"

#include <stdbool.h>
#include <stddef.h>

#include "alch/base.h"
#include "alch/conn.h"
#include "alch/engine.h"
#include "alch/error.h"
#include "alch/model.h"
#include "alch/statement.h"
#include "alch/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup session
 * @{ */

/** @brief A session factory bound to an engine and a base (opaque). */
typedef struct alch_sessionmaker alch_sessionmaker;

/** @brief A session (opaque). */
typedef struct alch_session alch_session;

/** @brief Session factory options. Start from alch_sessionmaker_options_default(). */
typedef struct alch_sessionmaker_options {
    bool autoflush;        /**< Flush before querying, so queries see your changes
                                (default true): before every statement; before
                                alch_session_get() and alch_session_load() when new or
                                deleted objects are waiting. Which changed objects it sees:
                                "Autoflush" above (those handed out since the last flush). */
    bool expire_on_commit; /**< Must stay false: alch never reloads objects implicitly.
                                Setting it is an ::ALCH_EARGUMENT that explains why. */
    bool autobegin;        /**< Begin a transaction by itself at the first statement
                                (default true). When false, a session that needs the
                                database before alch_session_begin() fails with
                                ::ALCH_EMISUSE instead: every transaction is explicit. */
} alch_sessionmaker_options;

/** @brief The default session factory options. */
ALCH_API alch_sessionmaker_options alch_sessionmaker_options_default(void);

/**
 * @brief \~english Create a session factory (the seed's `async_sessionmaker(engine)`).
 *        \~russian Создать фабрику сессий (`async_sessionmaker(engine)` из исходной статьи). \~
 *
 * @param engine  The engine sessions take their connections from; it must outlive the factory.
 * @param base    The base whose models the sessions handle; checked now (alch_base_check()).
 * @param opts    Options, or NULL for the defaults.
 * @param out     Receives the factory; free it with alch_sessionmaker_free().
 * @param err     Optional details on failure.
 * @return 0, ::ALCH_EARGUMENT, ::ALCH_ENOMEM or ::ALCH_EMISUSE.
 */
ALCH_API int alch_sessionmaker_create(alch_engine *engine, alch_base *base,
                                      const alch_sessionmaker_options *opts,
                                      alch_sessionmaker **out, alch_error *err);

/**
 * @brief Free a session factory. Close its sessions first.
 * @param maker  The factory; NULL is allowed.
 */
ALCH_API void alch_sessionmaker_free(alch_sessionmaker *maker);

/**
 * @brief \~english Open a session. No I/O happens until the first operation that needs the
 *        database.
 *        \~russian Открыть сессию. Обращения к серверу не будет до первой операции, которой
 *        нужна база данных. \~
 * @param maker  The factory.
 * @param out    Receives the session; close it with alch_session_close().
 * @param err    Optional details on failure.
 * @return 0, ::ALCH_ENOMEM or ::ALCH_EMISUSE.
 */
ALCH_API int alch_session_open(alch_sessionmaker *maker, alch_session **out, alch_error *err);

/**
 * @brief \~english Close a session: roll back what was not committed, hand the connection
 *        back, and free every object, string and array the session loaded.
 *        \~russian Закрыть сессию: откатить незафиксированное, вернуть соединение и
 *        освободить все объекты, строки и массивы, которые сессия загрузила. \~
 *
 * Objects you added are not freed, but strings the session wrote into them (values that
 * came back through RETURNING) are: do not use those fields afterwards. Allowed inside
 * the session's own callbacks.
 *
 * A call on a closed session is a mistake that alch catches for the last 32 sessions closed:
 * it returns ::ALCH_EMISUSE, "this session was closed", instead of reading freed memory (a
 * second close does nothing). Older ones are freed for real, and the objects the session
 * loaded are freed at once: an AddressSanitizer build (preset `asan`) catches a use of those.
 *
 * @param s  The session; NULL is allowed. Do not use it afterwards.
 */
ALCH_API void alch_session_close(alch_session *s);

/** @brief Where an object stands in a session. */
typedef enum alch_object_state {
    ALCH_TRANSIENT = 0, /**< Not in this session. */
    ALCH_PENDING,       /**< Added; INSERTed at the next flush. */
    ALCH_PERSISTENT,    /**< Has a row in the database (loaded or flushed). */
    ALCH_DELETED,       /**< Marked for DELETE at the next flush, or deleted by a flush. */
} alch_object_state;

/**
 * @brief \~english Add a new object: it is INSERTed at the next flush (SQLAlchemy's
 *        `session.add(obj)`).
 *        \~russian Добавить новый объект: он будет вставлен (INSERT) при следующем сбросе
 *        (`session.add(obj)` в SQLAlchemy). \~
 *
 * Adding an object the session already holds hands it back: the next autoflush looks at it
 * (do this after changing an object you got before the last query; "Autoflush" above).
 *
 * @param s      The session.
 * @param model  The object's model; it must belong to the factory's base.
 * @param obj    The struct; yours, and it must stay valid while the session tracks it.
 * @param err    Optional details on failure.
 * @return 0 (also when it was already added); ::ALCH_EMISUSE for a model outside the base
 *         or an object already persistent in another role; ::ALCH_ENOMEM.
 */
ALCH_API int alch_session_add(alch_session *s, const alch_model *model, void *obj, alch_error *err);

/**
 * @brief Add @p count structs laid out in an array (`add_all`).
 * @param s      The session.
 * @param model  Their model.
 * @param array  The first struct; the others follow at model->size strides.
 * @param count  How many.
 * @param err    Optional details on failure.
 * @return 0 or the first error of alch_session_add().
 */
ALCH_API int alch_session_add_all(alch_session *s, const alch_model *model, void *array,
                                  size_t count, alch_error *err);

/**
 * @brief Mark a persistent object for DELETE at the next flush. A pending object is simply
 *        forgotten.
 * @return 0, or ::ALCH_EMISUSE when the object is not in this session.
 */
ALCH_API int alch_session_delete(alch_session *s, const alch_model *model, void *obj,
                                 alch_error *err);

/** @brief Where @p obj stands in this session. */
ALCH_API alch_object_state alch_session_state(const alch_session *s, const void *obj);

/**
 * @brief \~english Find an object by primary key: the identity map first, then one SELECT.
 *        \~russian Найти объект по первичному ключу: сначала в карте идентичности, затем
 *        одним SELECT. \~
 *
 * @param s      The session.
 * @param model  The model.
 * @param pk     The primary key value, e.g. alch_v(5).
 * @param out    Receives the object (owned by the session), or NULL when no row has that key.
 * @param err    Optional details on failure.
 * @return 0 (also when not found: check *out), or an error.
 */
ALCH_API int alch_session_get(alch_session *s, const alch_model *model, alch_value pk, void **out,
                              alch_error *err);

/**
 * @brief Re-read an object's row into it, dropping unflushed changes.
 * @return 0; ::ALCH_EMISUSE when the object is not persistent; a database error.
 */
ALCH_API int alch_session_refresh(alch_session *s, const alch_model *model, void *obj,
                                  alch_error *err);

/**
 * @brief Load a relationship explicitly (the AsyncAttrs idea: `await obj.awaitable_attrs.items`).
 *
 * Fills the ::alch_many or ::alch_one field named @p relationship with objects owned by
 * the session and sets its `loaded` flag.
 *
 * @return 0; ::ALCH_EARGUMENT when the model has no such relationship ("did you mean ...?").
 */
ALCH_API int alch_session_load(alch_session *s, const alch_model *model, void *obj,
                               const char *relationship, alch_error *err);

/**
 * @brief Send pending changes: INSERT ... RETURNING for new objects (filling generated keys
 *        and server defaults into your structs), UPDATE of changed columns only, DELETE.
 *        Parents are inserted before children, children deleted before parents.
 *
 * Relationship fields decide foreign keys first: an ::alch_one pointing at a parent, or a
 * parent's ::alch_many listing children, writes the parent's key into the child's
 * foreign-key column, and related objects not in the session are added. Everything goes
 * in one pipeline; a child that needs a new parent's generated key waits for it there.
 * New objects of one model that send the same columns go together:
 * - fewer than 16: `INSERT ... VALUES (...), (...) RETURNING id` (pieces of 2^k rows);
 * - 16 or more, when the only column the server fills is a key drawn from the column's own
 *   sequence (an identity column `BY DEFAULT`, or a serial; the table has no trigger and no
 *   INSERT rule): the keys are taken first, in one statement (`SELECT min(v), max(v), ...
 *   FROM (SELECT nextval(...) ... FROM generate_series(1, n))`), then the rows go as
 *   `INSERT ... SELECT coalesce(u.k, $1 + u.ord - 1), u.c1, ... FROM unnest($2::T[], ...)
 *   WITH ORDINALITY AS u(...)` in pieces of up to 4,096, each row with its key, without
 *   RETURNING: every object gets the key its own row was sent with, whatever order the
 *   server works in (PostgreSQL does not promise an order for RETURNING). The sequence
 *   advances as n INSERTs would have advanced it. The factory asks the catalog once per
 *   model whether this holds (a SELECT you see in the echo);
 * - 16 or more whose key is GENERATED ALWAYS or comes from elsewhere (a trigger, another
 *   default): one `INSERT ... RETURNING` per row, in the same pipeline;
 * - rows that send every column (you set the key): arrays of 4,096 rows, no RETURNING.
 *
 * @return 0 or the first failing statement's error (the transaction then needs a rollback);
 *         ::ALCH_EMISUSE when a relationship field points at an object of another model.
 */
ALCH_API int alch_session_flush(alch_session *s, alch_error *err);

/**
 * @brief \~english Flush, then COMMIT, and hand the connection back to the pool.
 *        \~russian Сброс (flush), затем COMMIT (фиксация транзакции); соединение
 *        возвращается в пул. \~
 * @return 0, or an error; after an error call alch_session_rollback().
 */
ALCH_API int alch_session_commit(alch_session *s, alch_error *err);

/**
 * @brief \~english ROLLBACK, and put every object back as it was at the last commit: objects added
 *        since are forgotten (transient) with their generated keys cleared, loaded objects
 *        get their committed values back. Nothing half-written remains.
 *        \~russian ROLLBACK (откат транзакции), и каждый объект возвращается к состоянию
 *        последней фиксации: добавленные после неё забыты (transient), их выданные ключи
 *        стёрты, загруженные объекты получают обратно зафиксированные значения. Ничего
 *        записанного наполовину не остаётся. \~
 * @return 0 or an error.
 */
ALCH_API int alch_session_rollback(alch_session *s, alch_error *err);

/**
 * @brief Run SQL text inside the session's transaction (SQLAlchemy's
 *        `session.execute(text("..."))`), with bound parameters as alch_conn_execute_text().
 *
 * For a statement built with alch_select(), alch_insert() and the rest, use
 * alch_session_execute().
 *
 * @return As alch_conn_execute_text().
 */
ALCH_API int alch_session_execute_text(alch_session *s, const char *sql, const alch_value *params,
                                       size_t nparams, alch_result **res, alch_error *err);

/**
 * @brief Run a statement and turn every row into an object of its model (SQLAlchemy's
 *        `await session.scalars(select(Item).where(...))`).
 *
 * The statement must select a model (alch_select()) or return one
 * (alch_returning_model()). Rows go through the identity map: a row whose object the
 * session already holds gives that same object. After a SELECT the object is left as it
 * is (your unflushed changes stay); after an INSERT or UPDATE ... RETURNING it receives
 * the row as the database now has it. An UPDATE without RETURNING does not touch loaded
 * objects: alch_session_refresh() them. Pending changes are flushed first (autoflush).
 *
 * @param s    The session.
 * @param st   The statement; it stays yours.
 * @param out  Receives the objects (owned by the session).
 * @param err  Optional details on failure.
 * @return 0; the statement's build error (nothing is sent); a database error;
 *         ::ALCH_EMISUSE for a statement that selects columns rather than a model.
 */
ALCH_API int alch_session_scalars(alch_session *s, alch_stmt *st, alch_list *out, alch_error *err);

/**
 * @brief Run a statement that must return exactly one object (`scalar_one()`).
 * @param s    The session.
 * @param st   The statement (a model's, as for alch_session_scalars()).
 * @param out  Receives the object, owned by the session.
 * @param err  Optional details on failure.
 * @return 0; ::ALCH_ENORESULT when no row came back; ::ALCH_EMULTIPLE when more than one
 *         did; or an error as alch_session_scalars().
 */
ALCH_API int alch_session_scalar_one(alch_session *s, alch_stmt *st, void **out, alch_error *err);

/**
 * @brief Run a statement that returns one object or none (`scalar_one_or_none()`, SQLAlchemy's
 *        `session.scalar(...)`).
 * @param s    The session.
 * @param st   The statement (a model's, as for alch_session_scalars()).
 * @param out  Receives the object, or NULL when no row came back.
 * @param err  Optional details on failure.
 * @return 0; ::ALCH_EMULTIPLE when more than one row came back; or an error as
 *         alch_session_scalars().
 */
ALCH_API int alch_session_scalar_one_or_none(alch_session *s, alch_stmt *st, void **out,
                                             alch_error *err);

/**
 * @brief Run a statement and keep its first object, if any (`first()`). Add alch_limit(st, 1)
 *        so the server does not send rows you drop.
 * @param s    The session.
 * @param st   The statement (a model's, as for alch_session_scalars()).
 * @param out  Receives the first object, or NULL when there was none.
 * @param err  Optional details on failure.
 * @return 0, or an error as alch_session_scalars().
 */
ALCH_API int alch_session_first(alch_session *s, alch_stmt *st, void **out, alch_error *err);

/**
 * @brief \~english Run any statement in the session's transaction and get its rows as an
 *        ::alch_result: chosen columns, aggregates, or an UPDATE's affected count
 *        (`session.execute(stmt)`).
 *        \~russian Выполнить любой оператор в транзакции сессии и получить его строки как
 *        ::alch_result: выбранные столбцы, агрегаты или число строк, задетых UPDATE
 *        (`session.execute(stmt)`). \~
 * @param s    The session.
 * @param st   The statement.
 * @param res  Receives the result (free it with alch_result_free()); may be NULL.
 * @param err  Optional details on failure.
 * @return 0, the statement's build error, or a database error.
 */
ALCH_API int alch_session_execute(alch_session *s, alch_stmt *st, alch_result **res,
                                  alch_error *err);

/**
 * @brief As alch_session_execute(), for a query that must return exactly one row (`one()`).
 * @return 0; ::ALCH_ENORESULT or ::ALCH_EMULTIPLE otherwise (no result is handed over).
 */
ALCH_API int alch_session_one(alch_session *s, alch_stmt *st, alch_result **res, alch_error *err);

/** @brief Rows of a statement read batch by batch through a server-side cursor (opaque). */
typedef struct alch_stream alch_stream;

/**
 * @brief Read a large result in batches, without holding it all in memory (the idea of
 *        SQLAlchemy's `yield_per` / `session.stream_scalars()`).
 *
 * Declares a server-side cursor for the statement in the session's transaction (`DECLARE
 * ... NO SCROLL CURSOR FOR ...`); each alch_stream_next() fetches the next @p batch rows.
 * Memory stays bounded by one batch, whatever the number of rows.
 *
 * Objects in a batch are **not** tracked by the session (no identity map, no change
 * tracking): they are read-only snapshots that live until the next alch_stream_next() or
 * alch_stream_close(). The cursor ends with the transaction: read it to the end before
 * committing or rolling back.
 *
 * @param s      The session (of a sync engine; alch_session_stream_async() for an async one).
 * @param st     The statement; it may be freed once this returns.
 * @param batch  Rows per batch (e.g. 1000); 0 is an ::ALCH_EARGUMENT.
 * @param out    Receives the stream; close it with alch_stream_close(), before the session.
 * @param err    Optional details on failure.
 * @return 0, the statement's build error, or a database error.
 */
ALCH_API int alch_session_stream(alch_session *s, alch_stmt *st, size_t batch, alch_stream **out,
                                 alch_error *err);

/**
 * @brief Fetch the next batch.
 * @param it     The stream.
 * @param batch  Receives the batch's objects when the statement selects a model (else an
 *               empty list: read alch_stream_result()); may be NULL.
 * @param err    Optional details on failure.
 * @return 1 when a batch (of at least one row) was fetched, 0 when the rows are exhausted,
 *         or a negative code (::ALCH_ECLOSED when the session was closed).
 */
ALCH_API int alch_stream_next(alch_stream *it, alch_list *batch, alch_error *err);

/**
 * @brief What the async stream calls report.
 * @param it      The stream (NULL when alch_session_stream_async() failed).
 * @param status  alch_session_stream_async(): 0 when the cursor is declared.
 *                alch_stream_next_async(): 1 with a batch, 0 when the rows are exhausted.
 *                A negative code on failure.
 * @param batch   alch_stream_next_async() with status 1: the batch's objects (as
 *                alch_stream_next() gives them); otherwise NULL or empty.
 * @param err     Details on failure, valid only during the call.
 * @param data    The pointer given when the call was started.
 */
typedef void (*alch_stream_cb)(alch_stream *it, int status, const alch_list *batch,
                               const alch_error *err, void *data);

/**
 * @brief Async face of alch_session_stream(), for a session of an async engine: @p cb gets
 *        the stream once its cursor is declared. The statement is copied before this
 *        returns.
 * @return 0 when started, or a negative code (see alch_session_start_error()).
 */
ALCH_API int alch_session_stream_async(alch_session *s, alch_stmt *st, size_t batch,
                                       alch_stream_cb cb, void *data);

/**
 * @brief Async face of alch_stream_next(): fetch the next batch; @p cb gets it. One fetch at a
 *        time per stream (::ALCH_EBUSY otherwise); closing the stream meanwhile is allowed
 *        (then @p cb is not called). The session is busy until @p cb runs.
 * @return 0 when started, or a negative code (::ALCH_ECLOSED when the session was closed).
 */
ALCH_API int alch_stream_next_async(alch_stream *it, alch_stream_cb cb, void *data);

/**
 * @brief The current batch as a result, for statements that select columns.
 * @return The result, owned by the stream (valid until the next batch); NULL before the
 *         first batch.
 */
ALCH_API const alch_result *alch_stream_result(const alch_stream *it);

/**
 * @brief Close the cursor (when its transaction is still open) and free the stream. On an
 *        async engine's session the cursor is left to the end of the transaction (a `CLOSE`
 *        sent now would make the session busy behind your back).
 * @param it  The stream; NULL is allowed.
 */
ALCH_API void alch_stream_close(alch_stream *it);

/**
 * @brief Begin a transaction explicitly (SQLAlchemy's `session.begin()`), for factories
 *        with `autobegin` off; allowed with autobegin on too.
 *
 * No I/O: the `BEGIN` goes out with the session's first statement, as always. The
 * transaction ends with alch_session_commit() or alch_session_rollback(); then the next one
 * needs another alch_session_begin() when autobegin is off.
 *
 * @return 0; ::ALCH_EMISUSE when a transaction is already begun; ::ALCH_EBUSY while an
 *         operation runs.
 */
ALCH_API int alch_session_begin(alch_session *s, alch_error *err);

/**
 * @brief Work done inside alch_session_scope(): return 0 to commit, non-zero to roll back.
 * @param s     The session.
 * @param data  The pointer given to alch_session_scope().
 * @param err   Fill it (or pass it on) to explain a failure.
 */
typedef int (*alch_session_work_fn)(alch_session *s, void *data, alch_error *err);

/**
 * @brief Open a session, begin, run @p work, commit on success or roll back on error,
 *        close (SQLAlchemy's `async with async_session() as session, session.begin():`).
 * @return 0, or the work's (or the commit's) error after the rollback.
 */
ALCH_API int alch_session_scope(alch_sessionmaker *maker, alch_session_work_fn work, void *data,
                                alch_error *err);

/**
 * @brief Start a pipeline on an async session: the next alch_session_execute_text_async()
 *        calls queue, and alch_session_commit_async() sends them with `BEGIN (implicit)` and
 *        `COMMIT` in one round trip ("Pipelines" above).
 *
 * Between this call and the commit only alch_session_execute_text_async() may be called on
 * the session (other operations fail with ::ALCH_EMISUSE; alch_session_add() is fine, and
 * what it adds is flushed before the first statement). The statements take `$n`
 * placeholders, not named values, and none may need another's answer: all of them leave
 * before the first answer comes.
 *
 * @param s    An idle session of an async engine.
 * @param err  Filled on failure.
 * @return 0; ::ALCH_EMISUSE for a sync engine's session; ::ALCH_EBUSY while an operation runs
 *         or a pipeline is already being filled.
 */
ALCH_API int alch_session_pipeline(alch_session *s, alch_error *err);

/**
 * @brief Called when an async call that gives back nothing but its status finishes:
 *        alch_session_flush_async(), alch_session_commit_async(),
 *        alch_session_rollback_async(), alch_session_refresh_async(),
 *        alch_session_load_async().
 * @param s       The session (you may close it here).
 * @param status  0 or a negative ::alch_status code.
 * @param err     Details on failure, valid only during the call; NULL on success.
 * @param data    The pointer given when the call was started.
 */
typedef void (*alch_session_done_cb)(alch_session *s, int status, const alch_error *err,
                                     void *data);

/**
 * @brief Called when an async call that gives back one object finishes:
 *        alch_session_get_async(), alch_session_scalar_one_async(),
 *        alch_session_scalar_one_or_none_async(), alch_session_first_async().
 * @param s       The session (you may close it here).
 * @param status  0 or a negative ::alch_status code.
 * @param obj     The object, a struct of the call's model, **owned by the session** (valid
 *                until it is closed); NULL when no row came back, and on failure.
 * @param err     Details on failure, valid only during the call; NULL on success.
 * @param data    The pointer given when the call was started.
 */
typedef void (*alch_session_object_cb)(alch_session *s, int status, void *obj,
                                       const alch_error *err, void *data);

/**
 * @brief Called when alch_session_scalars_async() finishes.
 * @param s       The session (you may close it here).
 * @param status  0 or a negative ::alch_status code.
 * @param objs    The objects, in the order the rows came. The list and its objects are
 *                **owned by the session** (valid until it is closed): do not free them.
 *                NULL on failure.
 * @param err     Details on failure, valid only during the call; NULL on success.
 * @param data    The pointer given when the call was started.
 */
typedef void (*alch_session_objects_cb)(alch_session *s, int status, const alch_list *objs,
                                        const alch_error *err, void *data);

/**
 * @brief Called when an async call that gives back rows as a result finishes:
 *        alch_session_execute_async(), alch_session_execute_text_async(),
 *        alch_session_one_async().
 * @param s       The session (you may close it here).
 * @param status  0 or a negative ::alch_status code.
 * @param res     The result, **owned by the callback**: free it with alch_result_free()
 *                (here or later; it does not depend on the session). NULL on failure.
 * @param err     Details on failure, valid only during the call; NULL on success.
 * @param data    The pointer given when the call was started.
 */
typedef void (*alch_session_result_cb)(alch_session *s, int status, alch_result *res,
                                       const alch_error *err, void *data);

/**
 * @brief Why the last `*_async` call on this session could not start (it returned a
 *        negative code and will not call back), e.g. the one-session-per-task rule.
 * @return The error, owned by the session; NULL for a NULL session.
 */
ALCH_API const alch_error *alch_session_start_error(const alch_session *s);

/** @brief Async face of alch_session_flush(). @return 0 when started, or a negative code. */
ALCH_API int alch_session_flush_async(alch_session *s, alch_session_done_cb cb, void *data);
/** @brief Async face of alch_session_commit(). @return 0 when started, or a negative code. */
ALCH_API int alch_session_commit_async(alch_session *s, alch_session_done_cb cb, void *data);
/** @brief Async face of alch_session_rollback(). @return 0 when started, or a negative code. */
ALCH_API int alch_session_rollback_async(alch_session *s, alch_session_done_cb cb, void *data);
/** @brief Async face of alch_session_get(): @p cb receives the object, or NULL when no row
 *         has that key. @return 0 when started, or a negative code. */
ALCH_API int alch_session_get_async(alch_session *s, const alch_model *model, alch_value pk,
                                    alch_session_object_cb cb, void *data);
/** @brief Async face of alch_session_refresh(). @return 0 when started, or a negative code. */
ALCH_API int alch_session_refresh_async(alch_session *s, const alch_model *model, void *obj,
                                        alch_session_done_cb cb, void *data);
/** @brief Async face of alch_session_load(). @return 0 when started, or a negative code. */
ALCH_API int alch_session_load_async(alch_session *s, const alch_model *model, void *obj,
                                     const char *relationship, alch_session_done_cb cb, void *data);

/**
 * @brief Async face of alch_session_execute_text(): @p cb receives the ::alch_result and frees
 *        it with alch_result_free(). The SQL and the values are copied before this returns.
 * @return 0 when started, or a negative code (see alch_session_start_error()).
 */
ALCH_API int alch_session_execute_text_async(alch_session *s, const char *sql,
                                             const alch_value *params, size_t nparams,
                                             alch_session_result_cb cb, void *data);

/**
 * @brief Async face of alch_session_scalars(): @p cb receives the objects (the list is owned
 *        by the session). What the statement holds is copied before this returns: you may
 *        free it at once.
 * @return 0 when started, or a negative code (see alch_session_start_error()).
 */
ALCH_API int alch_session_scalars_async(alch_session *s, alch_stmt *st, alch_session_objects_cb cb,
                                        void *data);

/** @brief Async face of alch_session_scalar_one(): @p cb receives the object.
 *  @return 0 when started, or a negative code. */
ALCH_API int alch_session_scalar_one_async(alch_session *s, alch_stmt *st,
                                           alch_session_object_cb cb, void *data);

/** @brief Async face of alch_session_scalar_one_or_none(): @p cb receives the object or NULL.
 *  @return 0 when started, or a negative code. */
ALCH_API int alch_session_scalar_one_or_none_async(alch_session *s, alch_stmt *st,
                                                   alch_session_object_cb cb, void *data);

/** @brief Async face of alch_session_first(): @p cb receives the object or NULL.
 *  @return 0 when started, or a negative code. */
ALCH_API int alch_session_first_async(alch_session *s, alch_stmt *st, alch_session_object_cb cb,
                                      void *data);

/** @brief Async face of alch_session_one(): @p cb receives the ::alch_result and frees it.
 *  @return 0 when started, or a negative code. */
ALCH_API int alch_session_one_async(alch_session *s, alch_stmt *st, alch_session_result_cb cb,
                                    void *data);

/**
 * @brief Async face of alch_session_execute(): @p cb receives the ::alch_result and frees it
 *        with alch_result_free().
 * @return 0 when started, or a negative code.
 */
ALCH_API int alch_session_execute_async(alch_session *s, alch_stmt *st, alch_session_result_cb cb,
                                        void *data);

/** @} */

/* ---- statements without a session (session/exec.c): the builder meets the driver here, so
 *      statement.h needs neither conn.h nor result.h ------------------------------------ */

/** @addtogroup requests
 * @{ */

/**
 * @brief Run a statement on a connection (no session, no identity map): the rows come back
 *        as an ::alch_result.
 * @param conn  A connection of a sync engine (or one from alch_conn_open()).
 * @param st    The statement.
 * @param res   Receives the result (free it with alch_result_free()); may be NULL.
 * @param err   Optional details on failure.
 * @return 0, the statement's build error, or what alch_conn_execute_text() returns.
 */
ALCH_API int alch_conn_execute(alch_conn *conn, alch_stmt *st, alch_result **res, alch_error *err);

/**
 * @brief Async face of alch_conn_execute(): @p cb receives the result.
 * @return 0 when started; a negative code (the statement's error, or as
 *         alch_conn_execute_text_async()) when it could not start.
 */
ALCH_API int alch_conn_execute_async(alch_conn *conn, alch_stmt *st, alch_exec_cb cb, void *data);

/**
 * @brief Map every row of a result to a struct of @p model, without a session: no identity
 *        map, no change tracking, nothing copied that need not be.
 *
 * The fast way to read many rows you will not change (a report, an export): the structs
 * live in one block owned by the result, and their strings point into the result itself,
 * so everything is freed by alch_result_free(), and nothing may be modified or kept after
 * it. The result must come from a statement that selects the model (alch_select()), run
 * with alch_conn_execute() or alch_session_execute().
 *
 * @param res    The result.
 * @param model  The model whose columns the result holds, in order.
 * @param out    Receives the structs (owned by the result).
 * @param err    Optional details on failure.
 * @return 0; ::ALCH_EMISUSE when the result's columns are not the model's, or @p model is a
 *         Core table (ALCH_TABLE(), no struct); ::ALCH_ETYPE or
 *         ::ALCH_EDATA for a value that does not fit its field; ::ALCH_ENOMEM.
 */
ALCH_API int alch_result_scalars(alch_result *res, const alch_model *model, alch_list *out,
                                 alch_error *err);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
