/* Exercise 06 (lesson 06): the requests module. */
#include "requests.h"
#include "check.h"

static void fill(const char *url)
{
    alch_conn *c = NULL;
    alch_conn_open(url, &c, NULL);
    alch_conn_execute_text(c, "INSERT INTO categories (name) VALUES ('Tea'), ('Coffee')", NULL, 0,
                           NULL, NULL);
    alch_conn_execute_text(c,
                           "INSERT INTO items (name, description, price, category) VALUES "
                           "('Green tea', 'Sencha', 450, 1), ('Espresso', 'Dark', 550, 2), "
                           "('Oolong', 'Half-oxidised', 700, 1)",
                           NULL, 0, NULL, NULL);
    alch_conn_close(c);
}

int main(void)
{
    char *url = check_connects("ex06");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0,
          MSG("db_open() works (exercises 02-05)", "db_open() работает (упражнения 02-05)"), NO_MSG,
          &err);
    TODO_IF(session_factory == NULL || alch_base_count(base) != 3,
            MSG("exercises 02-05: db_open() in database/models.c, which this exercise needs",
                "упражнения 02-05: db_open() в database/models.c, он нужен этому упражнению"));
    fill(url);
    alch_session *s = NULL;
    alch_session_open(session_factory, &s, &err);

    rc = set_user(s, 777, &err);
    NOT_DONE(rc);
    check(rc == 0, MSG("set_user() registers a user", "set_user() регистрирует пользователя"),
          NO_MSG, &err);
    rc = set_user(s, 777, &err);
    check(rc == 0,
          MSG("set_user() twice for the same user is fine",
              "set_user() дважды для одного пользователя — не ошибка"),
          MSG("use ON CONFLICT DO NOTHING (alch_on_conflict_do_nothing): a unique violation here "
              "means a plain INSERT",
              "используйте ON CONFLICT DO NOTHING (alch_on_conflict_do_nothing): нарушение "
              "уникальности здесь значит простой INSERT"),
          &err);
    check(scalar(url, "SELECT count(*) FROM users WHERE tg_id = 777") == 1,
          MSG("the user is in the database once", "пользователь в базе данных один раз"),
          MSG("forgetting to commit loses the user",
              "без фиксации транзакции (commit) пользователь теряется"),
          NULL);

    alch_list cats = {0};
    rc = get_categories(s, &cats, &err);
    NOT_DONE(rc);
    check(rc == 0 && cats.count == 2,
          MSG("get_categories() returns the two categories",
              "get_categories() возвращает две категории"),
          NO_MSG, &err);
    check(strcmp(((Category *)cats.items[0])->name, "Tea") == 0, MSG("in id order", "в порядке id"),
          MSG("alch_order_by(st, ALCH_COL(Category, id))",
              "alch_order_by(st, ALCH_COL(Category, id))"),
          NULL);

    alch_list items = {0};
    rc = get_category_items(s, 1, &items, &err);
    NOT_DONE(rc);
    check(rc == 0 && items.count == 2,
          MSG("get_category_items(1) returns Tea's two items",
              "get_category_items(1) возвращает два товара категории Tea"),
          MSG("compare Item.category with the id: alch_eq(ALCH_COL(Item, category), category_id)",
              "сравните Item.category с id: alch_eq(ALCH_COL(Item, category), category_id)"),
          &err);

    Item *item = NULL;
    rc = get_item(s, 3, &item, &err);
    NOT_DONE(rc);
    check(rc != ALCH_ETYPE,
          MSG("get_item() compares the id with a number", "get_item() сравнивает id с числом"),
          MSG("an id compared with a string: convert callback data with strtoll first",
              "id сравнивается со строкой: сначала преобразуйте данные колбэка через strtoll"),
          &err);
    check(rc == 0 && item && strcmp(item->name, "Oolong") == 0,
          MSG("get_item(3) is the Oolong", "get_item(3) — это Oolong"), NO_MSG, &err);
    item = (Item *)1;
    rc = get_item(s, 99, &item, &err);
    check(rc == 0 && item == NULL,
          MSG("get_item(99) finds nothing, without an error",
              "get_item(99) ничего не находит, и без ошибки"),
          MSG("use alch_session_scalar_one_or_none, not scalar_one",
              "используйте alch_session_scalar_one_or_none, а не scalar_one"),
          &err);
    alch_session_close(s);
    db_close();
    check_done(url);
    return 0;
}
