/* The seed's three models, declared the way lesson 05 explains; this lesson is about the
 * base they join. */
#ifndef LESSON04_SHOP_H
#define LESSON04_SHOP_H

#include <alch/alch.h>

typedef struct User {
    int64_t id;
    int64_t tg_id;
} User;

typedef struct Category {
    int64_t id;
    char *name;
    alch_many items; /* loaded only on request */
} Category;

typedef struct Item {
    int64_t id;
    char *name;
    char *description;
    int32_t price;
    int64_t category;
    alch_one category_obj; /* loaded only on request */
} Item;

static const alch_column user_columns[] = {
    ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(User, tg_id, ALCH_BIGINT),
};
static const alch_model User_model = ALCH_MODEL(User, "users", user_columns);

static const alch_column category_columns[] = {
    ALCH_COLUMN(Category, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Category, name, ALCH_VARCHAR, .length = 25),
};
static const alch_relationship category_rels[] = {
    ALCH_ONE_TO_MANY(Category, items, "items", "category"),
};
static const alch_model Category_model =
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
static const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns, item_rels);

#endif
