/* Lesson 08, program 2: upgrade under echo, then current, history, a second run that changes
 * nothing, the diff (empty), and a downgrade.
 *
 * The database starts as the first release left it: step 0001 applied, an apple sold. */
#include <stdio.h>
#include <stdlib.h>

#include "shop.h"

static int first_release(alch_conn *quiet, alch_error *err)
{
    int rc = alch_migrate_upgrade(quiet, &shop_migrations, "0001_shop", NULL, err);
    alch_value apple[] = {alch_v("Apple"), alch_v("red and round"), alch_v(3)};
    if (rc == 0)
        rc = alch_conn_execute_text(quiet, "INSERT INTO categories (name) VALUES ('Fruit')", NULL,
                                    0, NULL, err);
    if (rc == 0)
        rc = alch_conn_execute_text(quiet,
                                    "INSERT INTO items (name, description, price, category)"
                                    " VALUES ($1, $2, $3, 1)",
                                    apple, 3, NULL, err);
    return rc;
}

static void show_items(alch_conn *quiet)
{
    alch_result *res;
    alch_error err = ALCH_ERROR_INIT;
    if (alch_conn_execute_text(quiet, "SELECT name, price, quantity FROM items", NULL, 0, &res,
                               &err) == 0)
        alch_result_print(res, stdout);
    else
        print_error(&err);
    alch_result_free(res);
}

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *quiet; /* a standalone connection without echo, for the setting */
    if (fresh_start(url, &err) != 0 || alch_conn_open(url, &quiet, &err) != 0 ||
        first_release(quiet, &err) != 0) {
        print_error(&err);
        return 1;
    }
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true;
    alch_engine *engine;
    alch_engine_create(url, &opts, &engine, &err);

    //! [upgrade]
    alch_conn *conn;
    alch_engine_connect(engine, &conn, &err);
    size_t applied = 0;
    if (alch_migrate_upgrade(conn, &shop_migrations, NULL, &applied, &err) != 0)
        print_error(&err);
    printf("applied %zu step(s)\n", applied);
    //! [upgrade]

    //! [again]
    alch_migrate_upgrade(conn, &shop_migrations, NULL, &applied, &err);
    printf("applied %zu step(s)\n", applied);
    alch_conn_close(conn);
    //! [again]

    //! [history]
    const char *at;
    alch_migrate_current(quiet, &shop_migrations, &at, &err);
    printf("current: %s\n", at ? at : "(none)");
    alch_migrate_history(quiet, &shop_migrations, stdout, &err);
    //! [history]

    show_items(quiet);

    //! [diff]
    alch_base *base = shop_base(false);
    char *ddl;
    alch_base_diff(base, quiet, 0, &ddl, &err);
    printf("diff: \"%s\"\n", ddl); /* "": the database matches the models */
    free(ddl);
    //! [diff]

    //! [downgrade]
    size_t undone = 0;
    if (alch_migrate_downgrade(quiet, &shop_migrations, "0001_shop", &undone, &err) != 0)
        print_error(&err);
    alch_migrate_current(quiet, &shop_migrations, &at, &err);
    printf("undid %zu step(s), current: %s\n", undone, at);
    //! [downgrade]

    alch_base_free(base);
    alch_conn_close(quiet);
    alch_engine_free(engine);
    return 0;
}
