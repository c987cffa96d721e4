/* models.h: the seed's database/models.py in C: the engine, the session factory, the base,
 * and the shop's three models. Lesson 05 explains each line; here they are one module that
 * the requests (requests.c) and the programs of this lesson share. */
#ifndef SHOP_MODELS_H
#define SHOP_MODELS_H

#include <alch/alch.h>

//! [models]
typedef struct User {
    int64_t id;
    int64_t tg_id;
} User;

typedef struct Category {
    int64_t id;
    char *name;
    alch_many items;
} Category;

typedef struct Item {
    int64_t id;
    char *name;
    char *description;
    int32_t price;
    int64_t category;
    alch_one category_obj;
} Item;

extern const alch_model User_model, Category_model, Item_model;
//! [models]

/* The seed's module-level `engine`, `Base` and `async_session`. */
extern alch_engine *engine;
extern alch_base *base;
extern alch_sessionmaker *session_factory;

/* Create the engine, the base and the session factory, and the tables (create_all).
 * With fill: a few categories and items to query. */
int models_init(const char *url, bool fill, alch_error *err);
void models_close(void);

#endif
