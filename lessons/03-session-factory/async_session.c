/* Lesson 03, program 3: the seed's async_sessionmaker, on a libuv loop.
 *
 * Sessions of an async engine have the same calls with `_async` and a callback. Lesson 07
 * is about running many of them at once; here, one session does two steps in order. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <alch/alch.h>
#include <uv.h>

typedef struct User {
    int64_t id;
    int64_t tg_id;
} User;

static const alch_column user_columns[] = {
    ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(User, tg_id, ALCH_BIGINT),
};
static const alch_model User_model = ALCH_MODEL(User, "users", user_columns);

static User user = {.tg_id = 42};

//! [callbacks]
static void on_found(alch_session *s, int status, void *obj, const alch_error *err, void *data)
{
    (void)err;
    (void)data;
    User *u = obj;
    if (status == 0)
        printf("found: tg_id %lld, the same struct: %s\n", (long long)u->tg_id,
               u == &user ? "yes" : "no");
    alch_session_close(s);
}

static void on_committed(alch_session *s, int status, const alch_error *err, void *data)
{
    (void)data;
    if (status != 0) {
        printf("commit failed: %s\n", err->message);
        alch_session_close(s);
        return;
    }
    printf("committed: id %lld\n", (long long)user.id);
    alch_session_get_async(s, &User_model, alch_v(user.id), on_found, NULL); /* next step */
}
//! [callbacks]

static alch_engine *engine;
static alch_base *base;
static alch_sessionmaker *async_session;

//! [open]
/* The tables are there: one session, one task. */
static void on_tables(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    (void)err;
    (void)data;
    alch_result_free(res);
    alch_conn_close(c);
    if (status != 0)
        return;
    alch_engine_set_echo(engine, true); /* from here on, show the SQL */
    alch_session *s;
    alch_session_open(async_session, &s, NULL);
    alch_session_add(s, &User_model, &user, NULL);
    alch_session_commit_async(s, on_committed, NULL); /* returns at once */
}
//! [open]

/* Setting up, step by step: any step that fails says why and stops the chain. */
static bool setup_ok(alch_conn *c, int status, const alch_error *err)
{
    if (status == 0)
        return true;
    printf("setting up failed: %s\n", err && err->message ? err->message : "unknown error");
    alch_conn_close(c);
    return false;
}

static void on_created(alch_conn *c, int status, alch_result *res, const alch_error *err,
                       void *data)
{
    alch_result_free(res);
    if (setup_ok(c, status, err))
        alch_conn_commit_async(c, on_tables, data);
}

/* A fresh start (see the lesson): the table is dropped, then created. */
static void on_dropped(alch_conn *c, int status, alch_result *res, const alch_error *err,
                       void *data)
{
    alch_result_free(res);
    if (setup_ok(c, status, err))
        alch_base_create_all_async(base, c, on_created, data);
}

static void on_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    if (status != 0)
        printf("cannot connect: %s\n", err && err->message ? err->message : "unknown error");
    else
        alch_base_drop_all_async(base, c, on_dropped, data);
}

int main(void)
{
    uv_loop_t *loop = uv_default_loop();
    alch_error err = ALCH_ERROR_INIT;
    //! [factory]
    alch_engine_create_on_loop(loop, getenv("ALCH_DATABASE_URL"), NULL, &engine, &err);
    alch_base_create(&base, &err);
    alch_base_add(base, &User_model, &err);
    alch_sessionmaker_create(engine, base, NULL, &async_session, &err);
    //! [factory]
    alch_engine_connect_async(engine, on_conn, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    alch_sessionmaker_free(async_session);
    alch_base_free(base);
    alch_engine_free(engine);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
