/* Exercise 02 (lesson 02): the engine. */
#include "models.h"
#include "check.h"

int main(void)
{
    char *url = check_connects("ex02");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0, MSG("db_open() succeeds", "db_open() выполняется успешно"),
          MSG("the URL is passed on as given? read the error",
              "URL передан как есть? прочитайте ошибку"),
          &err);
    TODO_IF(engine == NULL, MSG("exercise 02: the engine in db_open() (database/models.c)",
                                "упражнение 02: движок в db_open() (database/models.c)"));
    alch_conn *c = NULL;
    rc = alch_engine_connect(engine, &c, &err);
    check(rc == 0, MSG("the engine lends a connection", "движок выдаёт соединение"),
          MSG("is it a sync engine (alch_engine_create)?",
              "это синхронный движок (alch_engine_create)?"),
          &err);
    alch_result *r = NULL;
    rc = alch_conn_execute_text(c, "SELECT 1 + 1", NULL, 0, &r, &err);
    check(rc == 0, MSG("the connection runs SQL", "соединение выполняет SQL"), NO_MSG, &err);
    alch_result_free(r);
    alch_conn_close(c);
    db_close();
    check_done(url);
    return 0;
}
