/* Lesson 08, program 1: why create_all is not enough.
 *
 * The first release of the shop created its tables with create_all and sold an apple. The
 * next release adds Item.quantity. create_all skips the table that exists, and the first
 * INSERT of the new program fails. The diff says what the database lacks. */
#include <stdio.h>
#include <stdlib.h>

#include "shop.h"

/* The first release: its tables, a category and an item (no echo: this is the past). */
static int first_release(const char *url, alch_error *err)
{
    alch_conn *conn;
    int rc = alch_conn_open(url, &conn, err);
    alch_base *old = shop_base(true);
    if (rc == 0)
        rc = alch_base_create_all(old, conn, err);
    alch_value apple[] = {alch_v("Apple"), alch_v("red and round"), alch_v(3)};
    if (rc == 0)
        rc = alch_conn_execute_text(conn, "INSERT INTO categories (name) VALUES ('Fruit')", NULL, 0,
                                    NULL, err);
    if (rc == 0)
        rc = alch_conn_execute_text(conn,
                                    "INSERT INTO items (name, description, price, category)"
                                    " VALUES ($1, $2, $3, 1)",
                                    apple, 3, NULL, err);
    alch_base_free(old);
    alch_conn_close(conn);
    return rc;
}

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    alch_error err = ALCH_ERROR_INIT;
    if (fresh_start(url, &err) != 0 || first_release(url, &err) != 0) {
        print_error(&err);
        return 1;
    }
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true;
    alch_engine *engine;
    if (alch_engine_create(url, &opts, &engine, &err) != 0) {
        print_error(&err);
        return 1;
    }

    //! [stale]
    alch_base *base = shop_base(false); /* Item has a quantity now */
    alch_conn *conn;
    alch_engine_connect(engine, &conn, &err);
    if (alch_base_create_all(base, conn, &err) != 0) /* IF NOT EXISTS: items is skipped */
        print_error(&err);
    alch_conn_commit(conn, &err);
    alch_conn_close(conn);
    //! [stale]

    //! [insert]
    alch_sessionmaker *maker;
    alch_sessionmaker_create(engine, base, NULL, &maker, &err);
    alch_session *session;
    alch_session_open(maker, &session, &err);
    Item pear = {.name = "Pear", .description = "green", .price = 4, .category = 1,
                 .quantity = {12}};
    alch_session_add(session, &Item_model, &pear, &err);
    if (alch_session_commit(session, &err) != 0)
        print_error(&err);
    alch_session_close(session);
    //! [insert]

    //! [diff]
    alch_conn *quiet;
    alch_conn_open(url, &quiet, &err); /* no echo: the catalog queries are long */
    char *ddl;
    if (alch_base_diff(base, quiet, 0, &ddl, &err) == 0)
        printf("what the database lacks:\n%s", ddl);
    else
        print_error(&err);
    free(ddl);
    alch_conn_close(quiet);
    //! [diff]

    alch_sessionmaker_free(maker);
    alch_base_free(base);
    alch_engine_free(engine);
    return 0;
}
