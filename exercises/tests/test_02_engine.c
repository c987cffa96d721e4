/* Exercise 02 (lesson 02): the engine. */
#include "models.h"
#include "check.h"

int main(void)
{
    char *url = check_connects("ex02");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0, "db_open() succeeds", "the URL is passed on as given? read the error", &err);
    TODO_IF(engine == NULL, "exercise 02: the engine in db_open() (database/models.c)");
    alch_conn *c = NULL;
    rc = alch_engine_connect(engine, &c, &err);
    check(rc == 0, "the engine lends a connection", "is it a sync engine (alch_engine_create)?",
          &err);
    alch_result *r = NULL;
    rc = alch_conn_execute(c, "SELECT 1 + 1", NULL, 0, &r, &err);
    check(rc == 0, "the connection runs SQL", NULL, &err);
    alch_result_free(r);
    alch_conn_close(c);
    db_close();
    alch_test_db_drop(url);
    return 0;
}
