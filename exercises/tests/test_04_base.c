/* Exercise 04 (lesson 04): the base and create_all. */
#include "models.h"
#include "check.h"

int main(void)
{
    char *url = check_connects("ex04");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0, MSG("db_open() succeeds", "db_open() выполняется успешно"),
          MSG("read the error: a misspelled table in a foreign key, a model added twice?",
              "прочитайте ошибку: опечатка в таблице внешнего ключа, модель добавлена дважды?"),
          &err);
    TODO_IF(engine == NULL || base == NULL || session_factory == NULL,
            MSG("exercises 02-03: the engine, the base and the session factory in db_open()",
                "упражнения 02-03: движок, базовый класс и фабрика сессий в db_open()"));
    TODO_IF(alch_base_count(base) == 0,
            MSG("exercise 04: the models in the base and their tables, db_open() "
                "(database/models.c)",
                "упражнение 04: модели в базовом классе и их таблицы, db_open() "
                "(database/models.c)"));
    const char *tables[] = {"users", "categories", "items"};
    for (int i = 0; i < 3; i++) {
        char what[128];
        check(alch_base_find(base, tables[i]) != NULL,
              MSGF(what, "the base knows the table '%s'", "базовый класс знает таблицу '%s'",
                   tables[i]),
              MSG("add every model: alch_base_add(base, &User_model, err), Category_model, "
                  "Item_model",
                  "добавьте каждую модель: alch_base_add(base, &User_model, err), "
                  "Category_model, Item_model"),
              NULL);
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM information_schema.tables WHERE "
                 "table_name = '%s'",
                 tables[i]);
        check(scalar(url, sql) == 1,
              MSGF(what, "create_all made the table '%s'", "create_all создал таблицу '%s'",
                   tables[i]),
              MSG("call alch_base_create_all(base, conn, err) and commit the connection",
                  "вызовите alch_base_create_all(base, conn, err) и зафиксируйте транзакцию "
                  "соединения"),
              NULL);
    }
    db_close();
    /* create_all twice is fine */
    rc = db_open(url, &err);
    check(rc == 0,
          MSG("db_open() runs again on existing tables (IF NOT EXISTS)",
              "db_open() снова работает на существующих таблицах (IF NOT EXISTS)"),
          NO_MSG, &err);
    db_close();
    check_done(url);
    return 0;
}
