/* Lesson 08, program 3: a step that fails is rolled back, and the error names it.
 *
 * A third step adds `stock INTEGER NOT NULL` to items, which already has a row: the server
 * cannot fill the new column, so the step fails, and the database stays at step 0002. */
#include <stdio.h>
#include <stdlib.h>

#include "shop.h"

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *quiet;
    if (fresh_start(url, &err) != 0 || alch_conn_open(url, &quiet, &err) != 0 ||
        alch_migrate_upgrade(quiet, &shop_migrations, NULL, NULL, &err) != 0 ||
        alch_conn_execute_text(quiet, "INSERT INTO categories (name) VALUES ('Fruit');", NULL, 0,
                               NULL, &err) != 0 ||
        alch_conn_execute_text(quiet,
                               "INSERT INTO items (name, description, price, category)"
                               " VALUES ('Apple', 'red', 3, 1)",
                               NULL, 0, NULL, &err) != 0) {
        print_error(&err);
        return 1;
    }
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true;
    alch_engine *engine;
    alch_engine_create(url, &opts, &engine, &err);

    //! [bad]
    alch_migration steps[3] = {shop_migrations.steps[0], shop_migrations.steps[1]};
    steps[2] = (alch_migration){.id = "0003_stock",
                                .description = "items get a stock count",
                                .upgrade = "ALTER TABLE items ADD COLUMN stock INTEGER NOT NULL"};
    alch_migrations with_stock = {steps, 3};

    alch_conn *conn;
    alch_engine_connect(engine, &conn, &err);
    if (alch_migrate_upgrade(conn, &with_stock, NULL, NULL, &err) != 0)
        print_error(&err);
    alch_conn_close(conn);
    //! [bad]

    //! [after]
    const char *at;
    alch_migrate_current(quiet, &with_stock, &at, &err);
    printf("current: %s\n", at);
    //! [after]

    //! [fixed]
    steps[2].upgrade = "ALTER TABLE items ADD COLUMN stock INTEGER DEFAULT 0 NOT NULL";
    size_t applied = 0;
    if (alch_migrate_upgrade(quiet, &with_stock, NULL, &applied, &err) != 0)
        print_error(&err);
    alch_migrate_current(quiet, &with_stock, &at, &err);
    printf("applied %zu step(s), current: %s\n", applied, at);
    //! [fixed]

    alch_conn_close(quiet);
    alch_engine_free(engine);
    return 0;
}
