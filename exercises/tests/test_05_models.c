/* Exercise 05 (lesson 05): the three models of the shop (the course's, in the seed's style). */
#include "models.h"
#include "check.h"

/* The hint is C code: the same in both languages. */
static void column(const char *url, const char *table, const char *col, const char *type,
                   const char *code)
{
    char sql[256], what[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM information_schema.columns WHERE table_name = '%s' AND "
             "column_name = '%s' AND data_type = '%s' AND is_nullable = 'NO'",
             table, col, type);
    check(scalar(url, sql) == 1,
          MSGF(what, "%s.%s is %s NOT NULL", "%s.%s имеет тип %s NOT NULL", table, col, type),
          MSG(code, code), NULL);
}

int main(void)
{
    char *url = check_connects("ex05");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0, MSG("db_open() succeeds", "db_open() выполняется успешно"),
          MSG("read the error: it names the column", "прочитайте ошибку: в ней назван столбец"),
          &err);
    TODO_IF(alch_base_count(base) == 0 || session_factory == NULL,
            MSG("exercises 02-04: db_open() in database/models.c, which exercise 05 needs",
                "упражнения 02-04: db_open() в database/models.c, он нужен упражнению 05"));
    check(alch_base_count(base) == 3,
          MSG("db_open() adds the three models (exercise 04)",
              "db_open() добавляет три модели (упражнение 04)"),
          NO_MSG, NULL);
    TODO_IF(scalar(url, "SELECT count(*) FROM information_schema.columns WHERE table_name IN "
                        "('users', 'categories', 'items')") == 3,
            MSG("exercise 05: the columns of the three models (database/models.c)",
                "упражнение 05: столбцы трёх моделей (database/models.c)"));
    column(url, "users", "tg_id", "bigint", "ALCH_COLUMN(User, tg_id, ALCH_BIGINT)");
    column(url, "categories", "name", "character varying",
           "ALCH_COLUMN(Category, name, ALCH_VARCHAR, .length = 25)");
    column(url, "items", "name", "character varying", "ALCH_VARCHAR, .length = 25");
    column(url, "items", "description", "character varying", "ALCH_VARCHAR, .length = 120");
    column(url, "items", "price", "integer", "ALCH_COLUMN(Item, price, ALCH_INTEGER)");
    column(url, "items", "category", "bigint", "ALCH_BIGINT, .foreign_key = \"categories.id\"");
    check(scalar(url, "SELECT character_maximum_length FROM information_schema.columns WHERE "
                      "table_name = 'items' AND column_name = 'description'") == 120,
          MSG("items.description holds 120 characters", "items.description вмещает 120 символов"),
          MSG(".length = 120", ".length = 120"), NULL);
    check(scalar(url, "SELECT count(*) FROM information_schema.table_constraints WHERE "
                      "table_name = 'items' AND constraint_type = 'FOREIGN KEY'") == 1,
          MSG("items.category references categories", "items.category ссылается на categories"),
          MSG(".foreign_key = \"categories.id\"", ".foreign_key = \"categories.id\""), NULL);
    check(scalar(url, "SELECT count(*) FROM information_schema.table_constraints WHERE "
                      "table_name = 'users' AND constraint_type = 'UNIQUE'") == 1,
          MSG("users.tg_id is unique (set_user relies on it)",
              "users.tg_id уникален (на это полагается set_user)"),
          MSG(".unique = true on tg_id", ".unique = true у tg_id"), NULL);

    alch_session *s = NULL;
    alch_session_open(session_factory, &s, &err);
    Category tea = {.name = "Tea"};
    alch_session_add(s, &Category_model, &tea, &err);
    rc = alch_session_flush(s, &err);
    Item item = {
        .name = "Oolong", .description = "Half-oxidised", .price = 700, .category = tea.id};
    if (rc == 0)
        rc = alch_session_add(s, &Item_model, &item, &err);
    if (rc == 0)
        rc = alch_session_commit(s, &err);
    check(rc == 0 && item.id > 0,
          MSG("an item of a category goes in", "товар категории записывается"), NO_MSG, &err);
    alch_session_close(s);
    alch_session_open(session_factory, &s, &err);
    Item *back = NULL;
    rc = alch_session_get(s, &Item_model, alch_v(item.id), (void **)&back, &err);
    check(rc == 0 && back && back->price == 700 && strcmp(back->name, "Oolong") == 0,
          MSG("and comes back the same", "и читается обратно таким же"), NO_MSG, &err);
    alch_session_close(s);
    db_close();
    check_done(url);
    return 0;
}
