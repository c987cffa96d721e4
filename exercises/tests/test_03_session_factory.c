/* Exercise 03 (lesson 03): the session factory, and the base it needs (empty for now). */
#include "models.h"
#include "check.h"

int main(void)
{
    char *url = check_connects("ex03");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0, MSG("db_open() succeeds", "db_open() выполняется успешно"),
          MSG("read the error: it names the call that failed",
              "прочитайте ошибку: в ней назван вызов, который не удался"),
          &err);
    TODO_IF(engine == NULL, MSG("exercise 02: the engine in db_open(), which exercise 03 needs",
                                "упражнение 02: движок в db_open(), он нужен упражнению 03"));
    TODO_IF(base == NULL && session_factory == NULL,
            MSG("exercise 03: the base and the session factory in db_open() (database/models.c)",
                "упражнение 03: базовый класс и фабрика сессий в db_open() (database/models.c)"));
    check(base != NULL, MSG("db_open() makes the base", "db_open() создаёт базовый класс"),
          MSG("alch_base_create(&base, err), before the factory",
              "alch_base_create(&base, err), до фабрики"),
          NULL);
    check(session_factory != NULL,
          MSG("db_open() makes the session factory", "db_open() создаёт фабрику сессий"),
          MSG("alch_sessionmaker_create(engine, base, NULL, &session_factory, err), after the base",
              "alch_sessionmaker_create(engine, base, NULL, &session_factory, err), после "
              "базового класса"),
          NULL);
    alch_session *s = NULL;
    rc = alch_session_open(session_factory, &s, &err);
    check(rc == 0, MSG("a session opens from the factory", "сессия открывается из фабрики"), NO_MSG,
          &err);
    /* SQL text through the session: no model needed yet (exercises 04 and 05 make them) */
    rc = alch_session_execute_text(s, "CREATE TABLE visits (n integer)", NULL, 0, NULL, &err);
    if (rc == 0)
        rc = alch_session_execute_text(s, "INSERT INTO visits VALUES (1)", NULL, 0, NULL, &err);
    if (rc == 0)
        rc = alch_session_commit(s, &err);
    check(rc == 0,
          MSG("the session runs SQL and commits on the engine's connection",
              "сессия выполняет SQL и фиксирует транзакцию на соединении движка"),
          NO_MSG, &err);
    alch_session_close(s);
    check(scalar(url, "SELECT count(*) FROM visits") == 1,
          MSG("the work is in the database", "работа сохранена в базе данных"),
          MSG("the factory is made for the engine of exercise 02, not another one?",
              "фабрика создана для движка из упражнения 02, а не для другого?"),
          NULL);
    db_close();
    check_done(url);
    return 0;
}
