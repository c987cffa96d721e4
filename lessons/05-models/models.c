/* Lesson 05, program 1: the shop's three models (this course's continuation of the seed's
 * User), declared in C, created, filled and read.
 *
 * A model is a plain C struct (the data) plus a table of column descriptors (how each field
 * maps to a column). ALCH_MODEL() ties them to a table name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alch/alch.h>

//! [user]
typedef struct User {
    int64_t id;    /* id: Mapped[int] = mapped_column(primary_key=True) */
    int64_t tg_id; /* tg_id = mapped_column(BigInteger) */
} User;

static const alch_column user_columns[] = {
    ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(User, tg_id, ALCH_BIGINT),
};
static const alch_model User_model = ALCH_MODEL(User, "users", user_columns);
//! [user]

//! [category]
typedef struct Category {
    int64_t id;
    char *name;      /* name: Mapped[str] = mapped_column(String(25)) */
    alch_many items; /* the items of this category, loaded on request */
} Category;

static const alch_column category_columns[] = {
    ALCH_COLUMN(Category, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Category, name, ALCH_VARCHAR, .length = 25),
};
static const alch_relationship category_rels[] = {
    ALCH_ONE_TO_MANY(Category, items, "items", "category"),
};
static const alch_model Category_model =
    ALCH_MODEL(Category, "categories", category_columns, category_rels);
//! [category]

//! [item]
typedef struct Item {
    int64_t id;
    char *name;            /* String(25) */
    char *description;     /* String(120) */
    int32_t price;         /* price: Mapped[int] */
    int64_t category;      /* mapped_column(ForeignKey('categories.id')) */
    alch_one category_obj; /* the category itself, loaded on request */
} Item;

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
//! [item]

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
    alch_base *base;
    alch_conn *conn;
    alch_sessionmaker *factory;
    if (alch_engine_create(getenv("ALCH_DATABASE_URL"), NULL, &engine, &err) != 0) {
        print_error(&err);
        return 1;
    }

    //! [create]
    alch_base_create(&base, &err);
    alch_base_add(base, &User_model, &err);
    alch_base_add(base, &Category_model, &err);
    alch_base_add(base, &Item_model, &err);
    alch_engine_connect(engine, &conn, &err);
    if (alch_base_drop_all(base, conn, &err) != 0 || alch_conn_commit(conn, &err) != 0)
        print_error(&err);              /* a fresh start (lesson 03), before echo is on */
    alch_engine_set_echo(engine, true); /* from here on, show the SQL */
    if (alch_base_create_all(base, conn, &err) != 0)
        print_error(&err);
    alch_conn_commit(conn, &err);
    alch_conn_close(conn);
    //! [create]

    //! [insert]
    alch_sessionmaker_create(engine, base, NULL, &factory, &err);
    alch_session *s;
    alch_session_open(factory, &s, &err);
    Category tea = {.name = "Tea"};
    alch_session_add(s, &Category_model, &tea, &err);
    alch_session_flush(s, &err); /* tea.id comes back */
    Item items[] = {
        {.name = "Green tea", .description = "Sencha", .price = 450, .category = tea.id},
        {.name = "Oolong", .description = "Half-oxidised", .price = 700, .category = tea.id},
    };
    alch_session_add_all(s, &Item_model, items, 2, &err);
    alch_session_commit(s, &err);
    alch_session_close(s);
    //! [insert]

    //! [read]
    alch_session_open(factory, &s, &err);
    Item *item;
    alch_session_get(s, &Item_model, alch_v(items[1].id), (void **)&item, &err);
    printf("item %lld: %s, %d, category %lld\n", (long long)item->id, item->name, item->price,
           (long long)item->category);
    Item too_long = {.name = "A name much longer than 25 characters",
                     .description = "",
                     .price = 1,
                     .category = tea.id};
    alch_session_add(s, &Item_model, &too_long, &err);
    if (alch_session_flush(s, &err) != 0) /* refused before any SQL is sent */
        print_error(&err);
    alch_session_close(s);
    //! [read]

    //! [relate]
    alch_session_open(factory, &s, &err);
    Category coffee = {.name = "Coffee"};
    Item espresso = {.name = "Espresso",
                     .description = "Short",
                     .price = 250,
                     .category_obj = {.obj = &coffee}}; /* no id yet: the object itself */
    alch_session_add(s, &Item_model, &espresso, &err);  /* coffee comes along */
    alch_session_commit(s, &err);
    printf("%s: category %lld (%s)\n", espresso.name, (long long)espresso.category, coffee.name);
    alch_session_close(s);
    //! [relate]

    //! [unloaded]
    alch_session_open(factory, &s, &err);
    Category *category;
    alch_session_get(s, &Category_model, alch_v(tea.id), (void **)&category, &err);
    printf("%s: items loaded? %s (count %zu)\n", category->name,
           category->items.loaded ? "yes" : "no", category->items.count);
    //! [unloaded]

    //! [load]
    alch_session_load(s, &Category_model, category, "items", &err);
    printf("%s: items loaded? %s\n", category->name, category->items.loaded ? "yes" : "no");
    for (size_t i = 0; i < category->items.count; i++) {
        Item *each = category->items.items[i];
        printf("  %s, %d\n", each->name, each->price);
    }
    //! [load]

    //! [back]
    Item *oolong = category->items.items[1];
    alch_session_load(s, &Item_model, oolong, "category_obj", &err); /* no SQL: known */
    printf("%s is in %s: the same object? %s\n", oolong->name,
           ((Category *)oolong->category_obj.obj)->name,
           oolong->category_obj.obj == category ? "yes" : "no");
    //! [back]

    //! [typo]
    if (alch_session_load(s, &Category_model, category, "itemz", &err) != 0)
        print_error(&err);
    alch_session_close(s);
    //! [typo]

    //! [chars]
    /* VARCHAR(25) counts characters, not bytes: in UTF-8 a Cyrillic letter takes 2 bytes */
    Category teas[] = {{.name = "Чай"},
                       {.name = "Чай зелёный, Китай, 100 г"},
                       {.name = "Чай зелёный, Китай, 1000 г"}};
    alch_session_open(factory, &s, &err);
    for (size_t i = 0; i < 3; i++) {
        printf("'%s': %zu bytes\n", teas[i].name, strlen(teas[i].name));
        alch_session_add(s, &Category_model, &teas[i], &err);
        if (alch_session_flush(s, &err) != 0)
            print_error(&err);
    }
    alch_session_close(s); /* nothing committed: ROLLBACK */
    //! [chars]

    alch_sessionmaker_free(factory);
    alch_base_free(base);
    alch_engine_free(engine);
    return 0;
}
