/* Lesson 04, program 1: the base, and the DDL create_all sends.
 *
 * The seed: class Base(AsyncAttrs, DeclarativeBase): pass, then every model inherits from
 * Base, and Base.metadata.create_all makes the tables. In C the base is an object the
 * models are added to. */
#include <stdio.h>
#include <stdlib.h>

#include "shop.h"

static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *engine;
    if (alch_engine_create(getenv("ALCH_DATABASE_URL"), NULL, &engine, &err) != 0) {
        print_error(&err);
        return 1;
    }

    //! [base]
    alch_base *base;
    alch_base_create(&base, &err);
    /* in any order: create_all sorts them by their foreign keys */
    alch_base_add(base, &Item_model, &err);
    alch_base_add(base, &User_model, &err);
    alch_base_add(base, &Category_model, &err);
    //! [base]

    /* A fresh start, before echo is on: drop the tables an earlier run or lesson left. */
    alch_conn *conn;
    if (alch_engine_connect(engine, &conn, &err) != 0 ||
        alch_base_drop_all(base, conn, &err) != 0 || alch_conn_commit(conn, &err) != 0) {
        print_error(&err);
        return 1;
    }
    alch_engine_set_echo(engine, true);

    //! [create_all]
    if (alch_base_create_all(base, conn, &err) != 0)
        print_error(&err);
    alch_conn_commit(conn, &err);
    //! [create_all]

    //! [again]
    if (alch_base_create_all(base, conn, &err) == 0) /* IF NOT EXISTS: nothing changes */
        printf("create_all again: fine\n");
    alch_conn_rollback(conn, &err);
    //! [again]

    //! [drop_all]
    if (alch_base_drop_all(base, conn, &err) != 0)
        print_error(&err);
    alch_conn_commit(conn, &err);
    //! [drop_all]

    alch_conn_close(conn);
    alch_base_free(base);
    alch_engine_free(engine);
    return 0;
}
