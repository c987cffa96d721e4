/* Exercise 03 (lesson 03): the session factory, and the base it needs (empty for now). */
#include "models.h"
#include "check.h"

int main(void)
{
    char *url = check_connects("ex03");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0, "db_open() succeeds", "read the error: it names the call that failed", &err);
    TODO_IF(engine == NULL, "exercise 02: the engine in db_open(), which exercise 03 needs");
    TODO_IF(base == NULL && session_factory == NULL,
            "exercise 03: the base and the session factory in db_open() (database/models.c)");
    check(base != NULL, "db_open() makes the base",
          "alch_base_create(&base, err), before the factory", NULL);
    check(session_factory != NULL, "db_open() makes the session factory",
          "alch_sessionmaker_create(engine, base, NULL, &session_factory, err), after the base",
          NULL);
    alch_session *s = NULL;
    rc = alch_session_open(session_factory, &s, &err);
    check(rc == 0, "a session opens from the factory", NULL, &err);
    /* SQL text through the session: no model needed yet (exercises 04 and 05 make them) */
    rc = alch_session_execute(s, "CREATE TABLE visits (n integer)", NULL, 0, NULL, &err);
    if (rc == 0)
        rc = alch_session_execute(s, "INSERT INTO visits VALUES (1)", NULL, 0, NULL, &err);
    if (rc == 0)
        rc = alch_session_commit(s, &err);
    check(rc == 0, "the session runs SQL and commits on the engine's connection", NULL, &err);
    alch_session_close(s);
    check(scalar(url, "SELECT count(*) FROM visits") == 1, "the work is in the database",
          "the factory is made for the engine of exercise 02, not another one?", NULL);
    db_close();
    alch_test_db_drop(url);
    return 0;
}
