/* Exercise 03 (lesson 03): the session factory. */
#include "models.h"
#include "check.h"

int main(void)
{
    char *url = check_connects("ex03");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    NOT_DONE(rc);
    check(rc == 0 && engine, "db_open() still makes the engine (exercise 02)", NULL, &err);
    check(session_factory != NULL, "db_open() makes the session factory",
          "alch_sessionmaker_create(engine, base, NULL, &session_factory, err), after the base "
          "exists",
          &err);
    alch_session *s = NULL;
    rc = alch_session_open(session_factory, &s, &err);
    check(rc == 0, "a session opens from the factory", NULL, &err);
    User u = {.tg_id = 42};
    rc = alch_session_add(s, &User_model, &u, &err);
    if (rc == 0)
        rc = alch_session_commit(s, &err);
    check(rc == 0 && u.id > 0, "a user added and committed through a session gets its id",
          "the users table must exist: the base needs User_model, then create_all (exercise 04)",
          &err);
    alch_session_close(s);
    check(scalar(url, "SELECT count(*) FROM users WHERE tg_id = 42") == 1,
          "the user is in the database", "forgetting to commit loses the work", NULL);
    db_close();
    alch_test_db_drop(url);
    return 0;
}
