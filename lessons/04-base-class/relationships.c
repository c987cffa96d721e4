/* Lesson 04, program 3: the AsyncAttrs idea. In the seed's async Python, reading
 * category.items when it was not loaded would need a hidden query, which async code cannot
 * do (MissingGreenlet). alch never loads anything by itself: an unloaded relationship says
 * so, and one call loads it, with the SQL it sends in plain sight. */
#include <stdio.h>
#include <stdlib.h>

#include "shop.h"

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *engine;
    alch_base *base;
    alch_conn *conn;
    alch_sessionmaker *factory;
    /* A fresh start (lesson 03): drop the tables, create them, add one category, two items. */
    if (alch_engine_create(getenv("ALCH_DATABASE_URL"), NULL, &engine, &err) != 0 ||
        alch_base_create(&base, &err) != 0 || alch_base_add(base, &Category_model, &err) != 0 ||
        alch_base_add(base, &Item_model, &err) != 0 ||
        alch_engine_connect(engine, &conn, &err) != 0 ||
        alch_base_drop_all(base, conn, &err) != 0 || alch_base_create_all(base, conn, &err) != 0 ||
        alch_conn_execute(conn, "INSERT INTO categories (name) VALUES ('Tea')", NULL, 0, NULL,
                          &err) != 0 ||
        alch_conn_execute(conn,
                          "INSERT INTO items (name, description, price, category) VALUES "
                          "('Green tea', 'Sencha', 450, 1), ('Oolong', 'Half-oxidised', 700, 1)",
                          NULL, 0, NULL, &err) != 0 ||
        alch_conn_commit(conn, &err) != 0 ||
        alch_sessionmaker_create(engine, base, NULL, &factory, &err) != 0) {
        char *text = alch_error_format(&err);
        printf("setting up failed: %s\n", text ? text : "out of memory");
        free(text);
        return 1;
    }
    alch_conn_close(conn);
    alch_engine_set_echo(engine, true);

    //! [unloaded]
    alch_session *s;
    alch_session_open(factory, &s, &err);
    Category *tea;
    alch_session_get(s, &Category_model, alch_v(1), (void **)&tea, &err);
    printf("%s: items loaded? %s (count %zu)\n", tea->name, tea->items.loaded ? "yes" : "no",
           tea->items.count);
    //! [unloaded]

    //! [load]
    alch_session_load(s, &Category_model, tea, "items", &err);
    printf("%s: items loaded? %s\n", tea->name, tea->items.loaded ? "yes" : "no");
    for (size_t i = 0; i < tea->items.count; i++) {
        Item *item = tea->items.items[i];
        printf("  %s, %d\n", item->name, item->price);
    }
    //! [load]

    //! [back]
    Item *oolong = tea->items.items[1];
    alch_session_load(s, &Item_model, oolong, "category_obj", &err); /* no SQL: known */
    printf("%s is in %s: the same object? %s\n", oolong->name,
           ((Category *)oolong->category_obj.obj)->name,
           oolong->category_obj.obj == tea ? "yes" : "no");
    //! [back]

    //! [typo]
    if (alch_session_load(s, &Category_model, tea, "itemz", &err) != 0) {
        char *text = alch_error_format(&err);
        printf("%s\n", text);
        free(text);
        alch_error_clear(&err);
    }
    //! [typo]

    alch_session_close(s);
    alch_sessionmaker_free(factory);
    alch_base_free(base);
    alch_engine_free(engine);
    return 0;
}
