/* The seed's three models, in two versions: the shop as it was first released (OldItem, no
 * quantity) and the shop after its next change (Item, with a quantity). Both map the table
 * "items": that is the point of this lesson. */
#ifndef LESSON08_SHOP_H
#define LESSON08_SHOP_H

#include <alch/alch.h>

typedef struct User {
    int64_t id;
    int64_t tg_id;
} User;

typedef struct Category {
    int64_t id;
    char *name;
} Category;

/* items, as the first release declared it */
typedef struct OldItem {
    int64_t id;
    char *name;
    char *description;
    int32_t price;
    int64_t category;
} OldItem;

/* items, now: how many are in stock */
typedef struct Item {
    int64_t id;
    char *name;
    char *description;
    int32_t price;
    int64_t category;
    alch_opt_i32 quantity; /* {.is_null = true}: the server's default */
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
static const alch_model Category_model = ALCH_MODEL(Category, "categories", category_columns);

static const alch_column old_item_columns[] = {
    ALCH_COLUMN(OldItem, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(OldItem, name, ALCH_VARCHAR, .length = 25),
    ALCH_COLUMN(OldItem, description, ALCH_VARCHAR, .length = 120),
    ALCH_COLUMN(OldItem, price, ALCH_INTEGER),
    ALCH_COLUMN(OldItem, category, ALCH_BIGINT, .foreign_key = "categories.id"),
};
static const alch_model OldItem_model = ALCH_MODEL(OldItem, "items", old_item_columns);

//! [item]
static const alch_column item_columns[] = {
    ALCH_COLUMN(Item, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Item, name, ALCH_VARCHAR, .length = 25),
    ALCH_COLUMN(Item, description, ALCH_VARCHAR, .length = 120),
    ALCH_COLUMN(Item, price, ALCH_INTEGER),
    ALCH_COLUMN(Item, category, ALCH_BIGINT, .foreign_key = "categories.id"),
    ALCH_COLUMN(Item, quantity, ALCH_INTEGER, .server_default = "0"), /* new */
};
//! [item]
static const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns);

/* The shop's migrations (migrations.c). */
extern const alch_migrations shop_migrations;

/* Print an error the way the lessons do, and clear it. */
void print_error(alch_error *err);

/* A fresh start, as in every program of the course (lesson 03): drop the shop's tables, the
 * version table and lesson 05's orders (the diff reports every table the models lack),
 * quietly, so the program finds the database where its story begins. */
int fresh_start(const char *url, alch_error *err);

/* A base of users, categories and items (the new Item, or OldItem when `old`). Inline: the
 * models above are static, one copy per program file, and a session checks it was given the
 * very model its base holds. */
static inline alch_base *shop_base(bool old)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_base *base = NULL;
    if (alch_base_create(&base, &err) == 0 && alch_base_add(base, &User_model, &err) == 0 &&
        alch_base_add(base, &Category_model, &err) == 0 &&
        alch_base_add(base, old ? &OldItem_model : &Item_model, &err) == 0)
        return base;
    print_error(&err);
    alch_base_free(base);
    return NULL;
}

#endif
