/* models.c: the shop's models and the objects every request needs. */
#include "models.h"

//! [columns]
static const alch_column user_columns[] = {
    ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(User, tg_id, ALCH_BIGINT, .unique = true), /* unique: see set_user() */
};
const alch_model User_model = ALCH_MODEL(User, "users", user_columns);
//! [columns]

static const alch_column category_columns[] = {
    ALCH_COLUMN(Category, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Category, name, ALCH_VARCHAR, .length = 25),
};
static const alch_relationship category_rels[] = {
    ALCH_ONE_TO_MANY(Category, items, "items", "category"),
};
const alch_model Category_model =
    ALCH_MODEL(Category, "categories", category_columns, category_rels);

static const alch_column item_columns[] = {
    ALCH_COLUMN(Item, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Item, name, ALCH_VARCHAR, .length = 25),
    ALCH_COLUMN(Item, description, ALCH_VARCHAR, .length = 120),
    ALCH_COLUMN(Item, price, ALCH_INTEGER),
    ALCH_COLUMN(Item, category, ALCH_BIGINT, .foreign_key = "categories.id"),
};
static const alch_relationship item_rels[] = {
    ALCH_MANY_TO_ONE(Item, category_obj, "categories", "category"),
};
const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns, item_rels);

alch_engine *engine;
alch_sessionmaker *session_factory;
alch_base *base;

/* Two categories with a few items each, added through a session (lesson 03). */
static int fill_shop(alch_error *err)
{
    Category cats[] = {{.name = "Tea"}, {.name = "Coffee"}};
    alch_session *s;
    int rc = alch_session_open(session_factory, &s, err);
    if (rc)
        return rc;
    rc = alch_session_add_all(s, &Category_model, cats, 2, err);
    if (rc == 0)
        rc = alch_session_flush(s, err); /* INSERT ... RETURNING: cats[i].id are set */
    Item items[] = {
        {.name = "Green tea",
         .description = "Sencha, grassy",
         .price = 450,
         .category = cats[0].id},
        {.name = "Black tea", .description = "Assam, strong", .price = 300, .category = cats[0].id},
        {.name = "Oolong", .description = "Half-oxidised", .price = 700, .category = cats[0].id},
        {.name = "Espresso", .description = "Dark roast", .price = 550, .category = cats[1].id},
        {.name = "Filter", .description = "Light roast", .price = 400, .category = cats[1].id},
    };
    if (rc == 0)
        rc = alch_session_add_all(s, &Item_model, items, 5, err);
    if (rc == 0)
        rc = alch_session_commit(s, err);
    alch_session_close(s);
    return rc;
}

int models_init(const char *url, bool fill, alch_error *err)
{
    int rc = alch_engine_create(url, NULL, &engine, err);
    if (rc == 0)
        rc = alch_base_create(&base, err);
    const alch_model *models[] = {&User_model, &Category_model, &Item_model};
    for (size_t i = 0; rc == 0 && i < 3; i++)
        rc = alch_base_add(base, models[i], err);
    if (rc == 0)
        rc = alch_sessionmaker_create(engine, base, NULL, &session_factory, err);
    alch_conn *conn = NULL;
    if (rc == 0)
        rc = alch_engine_connect(engine, &conn, err);
    if (rc == 0) /* a fresh start (lesson 03): what an earlier run left is dropped */
        rc = alch_base_drop_all(base, conn, err);
    if (rc == 0)
        rc = alch_base_create_all(base, conn, err);
    if (rc == 0)
        rc = alch_conn_commit(conn, err);
    alch_conn_close(conn);
    if (rc == 0 && fill)
        rc = fill_shop(err);
    return rc;
}

void models_close(void)
{
    alch_sessionmaker_free(session_factory);
    alch_base_free(base);
    alch_engine_free(engine);
}
