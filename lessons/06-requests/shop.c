/* Lesson 06, program 2: the requests module at work, on a small shop.
 *
 * models_init() creates the tables and a few rows quietly; then echo is turned on, so every
 * request below prints the SQL it sends. */
#include <stdio.h>
#include <stdlib.h>

#include "requests.h"

static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

/* A request failed: say why, clean up, and end the program with status 1. */
static int stop(alch_session *s, alch_error *err)
{
    if (err->code)
        print_error(err);
    alch_session_close(s);
    models_close();
    return 1;
}

static void print_items(const char *title, alch_list items)
{
    printf("%s:\n", title);
    for (size_t i = 0; i < items.count; i++) {
        Item *item = items.items[i];
        printf("  %lld. %s, %d (%s)\n", (long long)item->id, item->name, item->price,
               item->description);
    }
}

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    if (models_init(getenv("ALCH_DATABASE_URL"), true, &err) != 0) {
        print_error(&err);
        return 1;
    }
    alch_engine_set_echo(engine, true);
    alch_session *s;
    if (alch_session_open(session_factory, &s, &err) != 0)
        return stop(NULL, &err);

    //! [set_user]
    if (set_user(s, 123456789, &err) != 0 ||
        set_user(s, 123456789, &err) != 0) /* the same user writes again: nothing happens */
        return stop(s, &err);
    //! [set_user]

    //! [categories]
    alch_list categories;
    if (get_categories(s, &categories, &err) != 0)
        return stop(s, &err);
    for (size_t i = 0; i < categories.count; i++) {
        Category *c = categories.items[i];
        printf("category %lld: %s\n", (long long)c->id, c->name);
    }
    //! [categories]

    //! [items]
    alch_list items;
    if (categories.count == 0) {
        printf("no categories: models_init(url, true, ...) adds two\n");
        return stop(s, &err);
    }
    Category *tea = categories.items[0];
    if (get_category_items(s, tea->id, &items, &err) == 0)
        print_items("items in Tea", items);
    //! [items]

    //! [item]
    Item *item;
    for (int64_t id = 3; id <= 99; id += 96) {
        if (get_item(s, id, &item, &err) != 0)
            print_error(&err);
        else if (item)
            printf("item %lld is %s\n", (long long)id, item->name);
        else
            printf("no item has id %lld\n", (long long)id);
    }
    //! [item]

    //! [more]
    if (get_items_by_price(s, 400, 550, &items, &err) == 0)
        print_items("from 400 to 550", items);
    alch_result *counts;
    if (count_items_per_category(s, &counts, &err) == 0) {
        alch_result_print(counts, stdout);
        alch_result_free(counts);
    }
    Category *renamed;
    if (rename_category(s, tea->id, "Teas", &renamed, &err) == 0)
        printf("renamed: %s (the same object as before: %s)\n", renamed->name,
               renamed == tea ? "yes" : "no");
    if (rename_category(s, 42, "Nothing", &renamed, &err) != 0)
        print_error(&err);
    //! [more]

    alch_session_rollback(s, &err);
    alch_session_close(s);
    models_close();
    return 0;
}
