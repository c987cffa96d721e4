/* Lesson 03, program 2: a session scope. The seed's
 *
 *     async with async_session() as session, session.begin():
 *
 * opens a session, commits when the block ends normally, and rolls back when it raises.
 * alch_session_scope() does the same around a function of yours. */
#include <stdio.h>
#include <stdlib.h>

#include <alch/alch.h>

typedef struct User {
    int64_t id;
    int64_t tg_id;
} User;

static const alch_column user_columns[] = {
    ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(User, tg_id, ALCH_BIGINT, .unique = true),
};
static const alch_model User_model = ALCH_MODEL(User, "users", user_columns);

static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

//! [work]
/* The body of the `async with` block: return 0 to commit, an error to roll back. */
static int register_users(alch_session *s, void *data, alch_error *err)
{
    User *users = data;
    int rc = alch_session_add_all(s, &User_model, users, 2, err);
    return rc ? rc : alch_session_flush(s, err);
}
//! [work]

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *engine;
    alch_base *base;
    alch_conn *conn;
    alch_sessionmaker *session_factory;
    if (alch_engine_create(getenv("ALCH_DATABASE_URL"), NULL, &engine, &err) != 0 ||
        alch_base_create(&base, &err) != 0 || alch_base_add(base, &User_model, &err) != 0 ||
        alch_engine_connect(engine, &conn, &err) != 0 ||
        alch_base_drop_all(base, conn, &err) != 0 || /* a fresh start: see the lesson */
        alch_base_create_all(base, conn, &err) != 0 || alch_conn_commit(conn, &err) != 0 ||
        alch_sessionmaker_create(engine, base, NULL, &session_factory, &err) != 0) {
        print_error(&err);
        return 1;
    }
    alch_conn_close(conn);
    alch_engine_set_echo(engine, true);

    //! [scope]
    User first[] = {{.tg_id = 1001}, {.tg_id = 1002}};
    if (alch_session_scope(session_factory, register_users, first, &err) == 0)
        printf("committed: ids %lld and %lld\n", (long long)first[0].id, (long long)first[1].id);

    User again[] = {{.tg_id = 1003}, {.tg_id = 1001}}; /* 1001 is taken: tg_id is unique */
    if (alch_session_scope(session_factory, register_users, again, &err) != 0)
        print_error(&err);
    //! [scope]

    alch_sessionmaker_free(session_factory);
    alch_base_free(base);
    alch_engine_free(engine);
    return 0;
}
