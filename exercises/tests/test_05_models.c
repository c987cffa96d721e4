/* Exercise 05 (lesson 05): the seed's three models. */
#include "models.h"
#include "check.h"

static void column(const char *url, const char *table, const char *col, const char *type,
                   const char *likely)
{
    char sql[256], what[128];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM information_schema.columns WHERE table_name = '%s' AND "
             "column_name = '%s' AND data_type = '%s' AND is_nullable = 'NO'",
             table, col, type);
    snprintf(what, sizeof what, "%s.%s is %s NOT NULL", table, col, type);
    check(scalar(url, sql) == 1, what, likely, NULL);
}

int main(void)
{
    char *url = check_connects("ex05");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0, "db_open() succeeds", "read the error: it names the column", &err);
    TODO_IF(alch_base_count(base) == 0 || session_factory == NULL,
            "exercises 02-04: db_open() in database/models.c, which exercise 05 needs");
    check(alch_base_count(base) == 3, "db_open() adds the three models (exercise 04)", NULL, NULL);
    TODO_IF(scalar(url, "SELECT count(*) FROM information_schema.columns WHERE table_name IN "
                        "('users', 'categories', 'items')") == 3,
            "exercise 05: the columns of the three models (database/models.c)");
    column(url, "users", "tg_id", "bigint", "ALCH_COLUMN(User, tg_id, ALCH_BIGINT)");
    column(url, "categories", "name", "character varying",
           "ALCH_COLUMN(Category, name, ALCH_VARCHAR, .length = 25)");
    column(url, "items", "name", "character varying", "ALCH_VARCHAR, .length = 25");
    column(url, "items", "description", "character varying", "ALCH_VARCHAR, .length = 120");
    column(url, "items", "price", "integer", "ALCH_COLUMN(Item, price, ALCH_INTEGER)");
    column(url, "items", "category", "bigint", "ALCH_BIGINT, .foreign_key = \"categories.id\"");
    check(scalar(url, "SELECT character_maximum_length FROM information_schema.columns WHERE "
                      "table_name = 'items' AND column_name = 'description'") == 120,
          "items.description holds 120 characters", ".length = 120", NULL);
    check(scalar(url, "SELECT count(*) FROM information_schema.table_constraints WHERE "
                      "table_name = 'items' AND constraint_type = 'FOREIGN KEY'") == 1,
          "items.category references categories", ".foreign_key = \"categories.id\"", NULL);
    check(scalar(url, "SELECT count(*) FROM information_schema.table_constraints WHERE "
                      "table_name = 'users' AND constraint_type = 'UNIQUE'") == 1,
          "users.tg_id is unique (set_user relies on it)", ".unique = true on tg_id", NULL);

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
    check(rc == 0 && item.id > 0, "an item of a category goes in", NULL, &err);
    alch_session_close(s);
    alch_session_open(session_factory, &s, &err);
    Item *back = NULL;
    rc = alch_session_get(s, &Item_model, alch_v(item.id), (void **)&back, &err);
    check(rc == 0 && back && back->price == 700 && strcmp(back->name, "Oolong") == 0,
          "and comes back the same", NULL, &err);
    alch_session_close(s);
    db_close();
    alch_test_db_drop(url);
    return 0;
}
