/* database/models.c: your models module. Exercises 01-05 fill it in, one TODO at a time;
 * `./tutor` checks it every time you save. */
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

/* ---- 05: the models ------------------------------------------------------------------- */
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

static const alch_column item_columns[] = {
    ALCH_COLUMN(Item, id, ALCH_BIGINT, .primary_key = true),
};
const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns);

/* ---- 01: the driver ------------------------------------------------------------------- */

int db_ping(const char *url, int *server_version, alch_error *err)
{
    /* TODO 01: open a connection to url, set *server_version to the server's version,
     * close the connection, and return 0 (or the error code of the call that failed). */
    (void)url;
    (void)server_version;
    (void)err;
    return db_todo("exercise 01: db_ping() in database/models.c");
}

/* ---- 02-04: engine, session factory, base --------------------------------------------- */

int db_open(const char *url, alch_error *err)
{
    /* TODO 02: create the engine (a sync one) for url, into the global `engine`. */
    /* TODO 04: create the base, add the three models, create their tables, commit. */
    /* TODO 03: create the session factory, into the global `session_factory`. */
    (void)url;
    (void)err;
    return db_todo("exercise 02: db_open() in database/models.c");
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
