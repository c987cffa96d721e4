/* database/models.c: the seed's database/models.py, in C. Exercises 01-05 and 09 write it, each
 * between its own BEGIN/END lines (./tutor hashes, resets and shows one exercise at a time:
 * keep those lines); `./tutor` checks the current exercise every time you save. */
#include "models.h"

#include <stdio.h>

int db_todo(const char *what)
{
    printf("not done yet: %s\n", what);
    return DB_TODO;
}

alch_engine *engine;
alch_sessionmaker *session_factory;
alch_base *base;

/* ---- 05: the models (09: items get a quantity) ---------------------------------------- */
/* BEGIN exercise 05 */
static const alch_column user_columns[] = {
    ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(User, tg_id, ALCH_BIGINT, .unique = true),
};
const alch_model User_model = ALCH_MODEL(User, "users", user_columns);

static const alch_column category_columns[] = {
    ALCH_COLUMN(Category, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Category, name, ALCH_VARCHAR, .length = 25),
};
static const alch_relationship category_rels[] = {
    ALCH_ONE_TO_MANY(Category, items, "items", "category"),
};
const alch_model Category_model =
    ALCH_MODEL(Category, "categories", category_columns, category_rels);
/* END exercise 05 */

static const alch_column item_columns[] = {
    /* BEGIN exercise 05 */
    ALCH_COLUMN(Item, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Item, name, ALCH_VARCHAR, .length = 25),
    ALCH_COLUMN(Item, description, ALCH_VARCHAR, .length = 120),
    ALCH_COLUMN(Item, price, ALCH_INTEGER),
    ALCH_COLUMN(Item, category, ALCH_BIGINT, .foreign_key = "categories.id"),
    /* END exercise 05 */
    /* BEGIN exercise 09 */
    ALCH_COLUMN(Item, quantity, ALCH_INTEGER, .server_default = "0"),
    /* END exercise 09 */
};
/* BEGIN exercise 05 */
static const alch_relationship item_rels[] = {
    ALCH_MANY_TO_ONE(Item, category_obj, "categories", "category"),
};
const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns, item_rels);
/* END exercise 05 */

/* ---- 01: the driver ------------------------------------------------------------------- */

int db_ping(const char *url, int *server_version, alch_error *err)
{
    /* BEGIN exercise 01 */
    alch_conn *conn;
    int rc = alch_conn_open(url, &conn, err);
    if (rc)
        return rc;
    *server_version = alch_conn_server_version(conn);
    alch_conn_close(conn);
    return 0;
    /* END exercise 01 */
}

/* ---- 02-04: engine, session factory, base --------------------------------------------- */

/* Each step fills rc; the first one that fails ends db_open() with its code. */
int db_open(const char *url, alch_error *err)
{
    int rc = 0;
    /* BEGIN exercise 02 */
    rc = alch_engine_create(url, NULL, &engine, err);
    if (rc)
        return rc;
    /* END exercise 02 */
    /* BEGIN exercise 03 */
    rc = alch_base_create(&base, err);
    if (rc)
        return rc;
    /* END exercise 03 */
    /* BEGIN exercise 04 */
    rc = alch_base_add(base, &User_model, err);
    if (rc == 0)
        rc = alch_base_add(base, &Category_model, err);
    if (rc == 0)
        rc = alch_base_add(base, &Item_model, err);
    alch_conn *conn = NULL;
    if (rc == 0)
        rc = alch_engine_connect(engine, &conn, err);
    if (rc == 0)
        rc = alch_base_create_all(base, conn, err);
    if (rc == 0)
        rc = alch_conn_commit(conn, err);
    alch_conn_close(conn);
    if (rc)
        return rc;
    /* END exercise 04 */
    /* BEGIN exercise 03 */
    rc = alch_sessionmaker_create(engine, base, NULL, &session_factory, err);
    /* END exercise 03 */
    return rc;
}

void db_close(void)
{
    alch_sessionmaker_free(session_factory);
    alch_base_free(base);
    alch_engine_free(engine);
    session_factory = NULL;
    base = NULL;
    engine = NULL;
}
