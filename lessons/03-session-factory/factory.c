/* Lesson 03, program 1: a session factory, and what one session does.
 *
 * The seed's step 3 is one line: async_session = async_sessionmaker(engine). This program
 * makes the sync twin, opens sessions from it, and shows the SQL each call sends. The User
 * model and its table come first, in a few lines that lessons 04 and 05 explain. */
#include <stdio.h>
#include <stdlib.h>

#include <alch/alch.h>

//! [model]
typedef struct User {
    int64_t id;
    int64_t tg_id;
} User;

static const alch_column user_columns[] = {
    ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(User, tg_id, ALCH_BIGINT),
};
static const alch_model User_model = ALCH_MODEL(User, "users", user_columns);
//! [model]

static const char *state_name(alch_object_state st)
{
    static const char *const names[] = {"transient", "pending", "persistent", "deleted"};
    return names[st];
}

static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *engine;
    alch_base *base;
    alch_conn *conn;
    if (alch_engine_create(getenv("ALCH_DATABASE_URL"), NULL, &engine, &err) != 0 ||
        alch_base_create(&base, &err) != 0 || alch_base_add(base, &User_model, &err) != 0 ||
        alch_engine_connect(engine, &conn, &err) != 0 ||
        alch_base_drop_all(base, conn, &err) != 0 || /* a fresh start: see the lesson */
        alch_base_create_all(base, conn, &err) != 0 || alch_conn_commit(conn, &err) != 0) {
        print_error(&err);
        return 1;
    }
    alch_conn_close(conn);
    alch_engine_set_echo(engine, true);

    //! [factory]
    alch_sessionmaker *session_factory;
    alch_sessionmaker_create(engine, base, NULL, &session_factory, &err);
    //! [factory]

    //! [add]
    alch_session *s;
    alch_session_open(session_factory, &s, &err); /* no SQL yet */
    User u = {.tg_id = 123456789};
    alch_session_add(s, &User_model, &u, &err);
    printf("after add: %s, id %lld\n", state_name(alch_session_state(s, &u)), (long long)u.id);
    alch_session_commit(s, &err);
    printf("after commit: %s, id %lld\n", state_name(alch_session_state(s, &u)), (long long)u.id);
    //! [add]

    //! [identity]
    User *found;
    alch_session_get(s, &User_model, alch_v(u.id), (void **)&found, &err);
    printf("get: the same struct? %s\n", found == &u ? "yes" : "no");
    alch_session_close(s);
    //! [identity]

    //! [get]
    alch_session_open(session_factory, &s, &err);
    alch_session_get(s, &User_model, alch_v(u.id), (void **)&found, &err);
    printf("a new session reads the row: tg_id %lld\n", (long long)found->tg_id);
    found->tg_id = 987654321;
    alch_session_commit(s, &err); /* only the changed column is sent */
    alch_session_close(s);
    //! [get]

    //! [rollback]
    alch_session_open(session_factory, &s, &err);
    User v = {.tg_id = 555};
    alch_session_add(s, &User_model, &v, &err);
    alch_session_flush(s, &err); /* INSERT now: v.id is set, inside the transaction */
    printf("flushed: id %lld\n", (long long)v.id);
    alch_session_rollback(s, &err);
    printf("after rollback: %s, id %lld\n", state_name(alch_session_state(s, &v)), (long long)v.id);
    alch_session_close(s);
    //! [rollback]

    alch_sessionmaker_free(session_factory);
    alch_base_free(base);
    alch_engine_free(engine);
    return 0;
}
