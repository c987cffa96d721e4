/* Exercise 06 (lesson 06): the requests module. */
#include "requests.h"
#include "check.h"

static void fill(const char *url)
{
    alch_conn *c = NULL;
    alch_conn_open(url, &c, NULL);
    alch_conn_execute(c, "INSERT INTO categories (name) VALUES ('Tea'), ('Coffee')", NULL, 0, NULL,
                      NULL);
    alch_conn_execute(c,
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
    check(rc == 0, "db_open() works (exercises 02-05)", NULL, &err);
    TODO_IF(session_factory == NULL || alch_base_count(base) != 3,
            "exercises 02-05: db_open() in database/models.c, which this exercise needs");
    fill(url);
    alch_session *s = NULL;
    alch_session_open(session_factory, &s, &err);

    rc = set_user(s, 777, &err);
    NOT_DONE(rc);
    check(rc == 0, "set_user() registers a user", NULL, &err);
    rc = set_user(s, 777, &err);
    check(rc == 0, "set_user() twice for the same user is fine",
          "use ON CONFLICT DO NOTHING (alch_on_conflict_do_nothing): a unique violation here "
          "means a plain INSERT",
          &err);
    check(scalar(url, "SELECT count(*) FROM users WHERE tg_id = 777") == 1,
          "the user is in the database once", "forgetting to commit loses the user", NULL);

    alch_list cats = {0};
    rc = get_categories(s, &cats, &err);
    NOT_DONE(rc);
    check(rc == 0 && cats.count == 2, "get_categories() returns the two categories", NULL, &err);
    check(strcmp(((Category *)cats.items[0])->name, "Tea") == 0, "in id order",
          "alch_order_by(st, ALCH_COL(Category, id))", NULL);

    alch_list items = {0};
    rc = get_category_items(s, 1, &items, &err);
    NOT_DONE(rc);
    check(rc == 0 && items.count == 2, "get_category_items(1) returns Tea's two items",
          "compare Item.category with the id: alch_eq(ALCH_COL(Item, category), category_id)",
          &err);

    Item *item = NULL;
    rc = get_item(s, 3, &item, &err);
    NOT_DONE(rc);
    check(rc != ALCH_ETYPE, "get_item() compares the id with a number",
          "an id compared with a string: convert callback data with strtoll first", &err);
    check(rc == 0 && item && strcmp(item->name, "Oolong") == 0, "get_item(3) is the Oolong", NULL,
          &err);
    item = (Item *)1;
    rc = get_item(s, 99, &item, &err);
    check(rc == 0 && item == NULL, "get_item(99) finds nothing, without an error",
          "use alch_session_scalar_one_or_none, not scalar_one", &err);
    alch_session_close(s);
    db_close();
    alch_test_db_drop(url);
    return 0;
}
