/* The course's three models (columns only), declared the way lesson 05 explains; this lesson
 * is about the base they join. Their relationships come with lesson 05. */
#ifndef LESSON04_SHOP_H
#define LESSON04_SHOP_H

#include <alch/alch.h>

typedef struct User {
    int64_t id;
    int64_t tg_id;
} User;

static const alch_column user_columns[] = {
    ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(User, tg_id, ALCH_BIGINT),
};
static const alch_model User_model = ALCH_MODEL(User, "users", user_columns);

typedef struct Category {
    int64_t id;
    char *name;
} Category;

static const alch_column category_columns[] = {
    ALCH_COLUMN(Category, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Category, name, ALCH_VARCHAR, .length = 25),
};
static const alch_model Category_model = ALCH_MODEL(Category, "categories", category_columns);

//! [item]
typedef struct Item {
    int64_t id;
    char *name;
    char *description;
    int32_t price;
    int64_t category;
} Item;

static const alch_column item_columns[] = {
    ALCH_COLUMN(Item, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Item, name, ALCH_VARCHAR, .length = 25),
    ALCH_COLUMN(Item, description, ALCH_VARCHAR, .length = 120),
    ALCH_COLUMN(Item, price, ALCH_INTEGER),
    ALCH_COLUMN(Item, category, ALCH_BIGINT, .foreign_key = "categories.id"),
};
static const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns);
//! [item]

#endif
