/* Lesson 02, program 1: an engine, and everything it does for you.
 *
 * The seed creates its engine with one line: engine = create_async_engine(url=...).
 * This program creates the sync twin, alch_engine_create(), so that each step can be
 * read from top to bottom. echo is on: every line starting with "[alch] " is the SQL the
 * engine sends, printed by the engine itself. */
#include <stdio.h>
#include <stdlib.h>

#include <alch/alch.h>

//! [sql]
/* The SQL this program runs more than once. Values are never part of the text: $1 marks
 * where the value goes, and the value travels beside the statement. */
static const char INSERT_USER[] = "INSERT INTO users (tg_id) VALUES ($1)";
static const char SELECT_USERS[] = "SELECT id, tg_id FROM users ORDER BY id";
//! [sql]

/* Print an error as alch formats it, then empty the error object for the next call. */
static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

static void print_pool(const char *when, const alch_engine *engine)
{
    alch_pool_status s = alch_engine_pool_status(engine);
    printf("pool %s: %d open, %d idle, %d checked out\n", when, s.size, s.idle, s.checked_out);
}

//! [print_users]
/* Print every user, reading each value with a typed getter. */
static void print_users(alch_conn *conn)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_result *res = NULL;
    if (alch_conn_execute_text(conn, SELECT_USERS, NULL, 0, &res, &err) == 0) {
        for (size_t row = 0; row < alch_result_rows(res); row++) {
            int64_t id = 0, tg_id = 0;
            if (alch_result_get_int(res, row, 0, &id, &err) == 0 &&
                alch_result_get_int(res, row, 1, &tg_id, &err) == 0)
                printf("user %lld has tg_id %lld\n", (long long)id, (long long)tg_id);
        }
        alch_result_free(res);
    }
    if (err.code != 0)
        print_error(&err);
}
//! [print_users]

//! [work]
/* The work of one transaction, for alch_engine_begin(): return 0 to commit it, or an
 * error code to roll it back. */
typedef struct new_users {
    const alch_value *tg_ids;
    size_t count;
} new_users;

static int add_users(alch_conn *conn, void *data, alch_error *err)
{
    const new_users *users = data;
    for (size_t i = 0; i < users->count; i++) {
        alch_value params[] = {users->tg_ids[i]};
        int rc = alch_conn_execute_text(conn, INSERT_USER, params, 1, NULL, err);
        if (rc != 0)
            return rc; /* alch_engine_begin() rolls back */
    }
    return 0; /* alch_engine_begin() commits */
}
//! [work]

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    if (!url || !*url) {
        fprintf(stderr, "ALCH_DATABASE_URL is not set: run this lesson with `./tutor run 2`.\n");
        return 1;
    }
    alch_error err = ALCH_ERROR_INIT;

    //! [create]
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true; /* print the SQL, like create_async_engine(url, echo=True) */

    alch_engine *engine = NULL;
    if (alch_engine_create(url, &opts, &engine, &err) != 0) {
        print_error(&err);
        return 1;
    }
    print_pool("after create", engine);
    //! [create]

    //! [checkout]
    alch_conn *conn = NULL;
    if (alch_engine_connect(engine, &conn, &err) != 0) {
        print_error(&err);
        alch_engine_free(engine);
        return 1;
    }
    print_pool("after checkout", engine);
    //! [checkout]

    //! [create_table]
    /* TEMP: the table goes away with its connection, so the program can run again. */
    const char *create = "CREATE TEMP TABLE users (id serial PRIMARY KEY, tg_id bigint NOT NULL)";
    if (alch_conn_execute_text(conn, create, NULL, 0, NULL, &err) != 0)
        print_error(&err);
    //! [create_table]

    //! [insert_positional]
    alch_value first[] = {alch_v(123456789)};
    if (alch_conn_execute_text(conn, INSERT_USER, first, 1, NULL, &err) != 0)
        print_error(&err);
    //! [insert_positional]

    //! [insert_named]
    alch_value second[] = {alch_named("tg_id", alch_v(987654321))};
    alch_result *res = NULL;
    const char *insert_named = "INSERT INTO users (tg_id) VALUES (:tg_id) RETURNING id";
    if (alch_conn_execute_text(conn, insert_named, second, 1, &res, &err) == 0) {
        int64_t id = 0;
        if (alch_result_get_int(res, 0, 0, &id, &err) == 0)
            printf("the new user got id %lld\n", (long long)id);
        alch_result_free(res);
    }
    if (err.code != 0)
        print_error(&err);
    //! [insert_named]

    //! [select]
    print_users(conn);
    //! [select]

    //! [commit]
    if (alch_conn_commit(conn, &err) != 0)
        print_error(&err);
    //! [commit]

    //! [integrity]
    alch_value nobody[] = {alch_null()}; /* tg_id is NOT NULL: the server refuses this */
    if (alch_conn_execute_text(conn, INSERT_USER, nobody, 1, NULL, &err) != 0) {
        print_error(&err);
        alch_conn_rollback(conn, &err); /* the failed transaction must be ended */
    }
    //! [integrity]

    //! [savepoint]
    alch_value kept[] = {alch_v(555)};
    alch_value undone[] = {alch_v(666)};
    if (alch_conn_execute_text(conn, INSERT_USER, kept, 1, NULL, &err) != 0 ||
        alch_conn_savepoint(conn, &err) != 0 ||
        alch_conn_execute_text(conn, INSERT_USER, undone, 1, NULL, &err) != 0 ||
        alch_conn_rollback_savepoint(conn, &err) != 0 || /* undoes 666 only */
        alch_conn_commit(conn, &err) != 0) {             /* keeps 555 */
        print_error(&err);
        alch_conn_rollback(conn, &err);
    }
    //! [savepoint]

    //! [cache]
    /* The same SQL text twice: prepared the first time, then run from the cache. */
    for (int i = 0; i < 2; i++) {
        if (alch_conn_execute_text(conn, "SELECT count(*) FROM users", NULL, 0, &res, &err) == 0) {
            int64_t count = 0;
            if (alch_result_get_int(res, 0, 0, &count, &err) == 0)
                printf("%lld users\n", (long long)count);
            alch_result_free(res);
        }
        if (err.code != 0)
            print_error(&err);
    }
    //! [cache]

    //! [checkin]
    alch_conn_close(conn); /* back to the pool: the open transaction is rolled back */
    print_pool("after close", engine);
    //! [checkin]

    //! [begin]
    alch_value good_ids[] = {alch_v(111), alch_v(222)};
    new_users good = {good_ids, 2};
    if (alch_engine_begin(engine, add_users, &good, &err) == 0)
        printf("added 2 users in one transaction\n");
    else
        print_error(&err);

    alch_value bad_ids[] = {alch_v(333), alch_null()};
    new_users bad = {bad_ids, 2};
    if (alch_engine_begin(engine, add_users, &bad, &err) != 0) {
        printf("the transaction failed, so it was rolled back:\n");
        print_error(&err);
    }
    //! [begin]

    //! [final]
    if (alch_engine_connect(engine, &conn, &err) == 0) {
        print_users(conn);
        alch_conn_close(conn);
    } else {
        print_error(&err);
    }
    print_pool("at the end", engine);
    //! [final]

    //! [free]
    alch_engine_free(engine); /* closes the pool's connections and frees the engine */
    //! [free]
    return 0;
}
