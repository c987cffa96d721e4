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
/* TODO 05: give each model all its columns, as the seed does (lesson 05):
 *   users:      tg_id BIGINT, unique (set_user in exercise 06 relies on it)
 *   categories: name VARCHAR(25)
 *   items:      name VARCHAR(25), description VARCHAR(120), price INTEGER,
 *               category BIGINT, a foreign key to categories.id
 * (Optional: the Category <-> Item relationships, as in lesson 05.) */

static const alch_column user_columns[] = {
    ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
};
const alch_model User_model = ALCH_MODEL(User, "users", user_columns);

static const alch_column category_columns[] = {
    ALCH_COLUMN(Category, id, ALCH_BIGINT, .primary_key = true),
};
const alch_model Category_model = ALCH_MODEL(Category, "categories", category_columns);
/* END exercise 05 */

static const alch_column item_columns[] = {
    /* BEGIN exercise 05 */
    ALCH_COLUMN(Item, id, ALCH_BIGINT, .primary_key = true),
    /* END exercise 05 */
    /* BEGIN exercise 09 */
    /* TODO 09: the quantity, INTEGER with the server default 0 (lesson 08) */
    /* END exercise 09 */
};
/* BEGIN exercise 05 */
const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns);
/* END exercise 05 */

/* ---- 01: the driver ------------------------------------------------------------------- */

int db_ping(const char *url, int *server_version, alch_error *err)
{
    /* BEGIN exercise 01 */
    /* TODO 01: open a connection to url, set *server_version to the server's version,
     * close the connection, and return 0 (or the error code of the call that failed). */
    (void)url;
    (void)server_version;
    (void)err;
    return db_todo("exercise 01: db_ping() in database/models.c");
    /* END exercise 01 */
}

/* ---- 02-04: engine, session factory, base --------------------------------------------- */

/* Each step fills rc; the first one that fails ends db_open() with its code. */
int db_open(const char *url, alch_error *err)
{
    int rc = 0;
    /* BEGIN exercise 02 */
    /* TODO 02: create the engine (a sync one) for url, into the global `engine`; return the
     * error code when it fails. */
    (void)url;
    (void)err;
    /* END exercise 02 */
    /* BEGIN exercise 03 */
    /* TODO 03 (1 of 2): create the base, into the global `base`. It stays empty until
     * exercise 04: the session factory needs one, even an empty one. */
    /* END exercise 03 */
    /* BEGIN exercise 04 */
    /* TODO 04: add the three models to the base, create their tables on a connection from
     * the engine, commit, close the connection. */
    /* END exercise 04 */
    /* BEGIN exercise 03 */
    /* TODO 03 (2 of 2): create the session factory for the engine and the base, into the
     * global `session_factory`. */
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
