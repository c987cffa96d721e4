/* Exercise 04 (lesson 04): the base and create_all. */
#include "models.h"
#include "check.h"

int main(void)
{
    char *url = check_connects("ex04");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0, "db_open() succeeds",
          "read the error: a misspelled table in a foreign key, a model added twice?", &err);
    TODO_IF(engine == NULL || base == NULL || session_factory == NULL,
            "exercises 02-03: the engine, the base and the session factory in db_open()");
    TODO_IF(alch_base_count(base) == 0,
            "exercise 04: the models in the base and their tables, db_open() (database/models.c)");
    const char *tables[] = {"users", "categories", "items"};
    for (int i = 0; i < 3; i++) {
        char what[96];
        snprintf(what, sizeof what, "the base knows the table '%s'", tables[i]);
        check(alch_base_find(base, tables[i]) != NULL, what,
              "add every model: alch_base_add(base, &User_model, err), Category_model, "
              "Item_model",
              NULL);
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM information_schema.tables WHERE "
                 "table_name = '%s'",
                 tables[i]);
        snprintf(what, sizeof what, "create_all made the table '%s'", tables[i]);
        check(scalar(url, sql) == 1, what,
              "call alch_base_create_all(base, conn, err) and commit the connection", NULL);
    }
    db_close();
    /* create_all twice is fine */
    rc = db_open(url, &err);
    check(rc == 0, "db_open() runs again on existing tables (IF NOT EXISTS)", NULL, &err);
    db_close();
    alch_test_db_drop(url);
    return 0;
}
