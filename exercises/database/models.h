/* database/models.h: the seed's database/models.py, in C. The engine, the session factory,
 * the base and the shop's three models. Exercises 01-05 fill in models.c step by step;
 * exercise 09 gives items a quantity (here, in models.c and in migrations.c). */
#ifndef DATABASE_MODELS_H
#define DATABASE_MODELS_H

#include <alch/alch.h>

/* What an unfinished function returns: db_todo() prints "not done yet: ..." first. */
#define DB_TODO (-1000)
int db_todo(const char *what);

/* The seed's module-level objects, made by db_open(). */
extern alch_engine *engine;
extern alch_sessionmaker *session_factory;
extern alch_base *base;

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
    /* BEGIN exercise 09 */
    /* TODO 09: how many are in stock, an alch_opt_i32 (lesson 08) */
    /* END exercise 09 */
} Item;

extern const alch_model User_model, Category_model, Item_model;

/* 01: connect to the server at url, read its version (e.g. 150008), disconnect. */
int db_ping(const char *url, int *server_version, alch_error *err);

/* 02: make the engine; 03: the base (empty at first) and the session factory; 04: the three
 * models in the base, and their tables. Returns 0, or the error code of the call that failed. */
int db_open(const char *url, alch_error *err);

/* Free what db_open() made (NULL-safe). */
void db_close(void);

#endif
