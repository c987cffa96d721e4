/* The statement builder against a real server: a table of cases, each built with the API,
 * checked against the exact SQL and parameters it renders, run on the sandbox, and checked
 * against the rows it returns. Then SQL injection payloads, quoted identifiers, mistakes
 * that must be caught before any SQL is sent, the result shapes (scalars, scalar_one, ...),
 * reuse of one statement with new values, and the async face. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alch/alch.h>
#include <uv.h>

#include "base/base_internal.h"
#include "shop.h"
#include "support.h"

/* A model with a unique column, for upserts. */
typedef struct Tag {
    int64_t id;
    char *label;
    int32_t hits;
} Tag;

static const alch_column tag_columns[] = {
    ALCH_COLUMN(Tag, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Tag, label, ALCH_VARCHAR, .length = 20, .unique = true),
    ALCH_COLUMN(Tag, hits, ALCH_INTEGER),
};
static const alch_model Tag_model = ALCH_MODEL(Tag, "tags", tag_columns);

/* Names that must be quoted: a keyword table, a keyword column, upper case, a space, a quote. */
typedef struct Odd {
    int64_t id;
    char *select;
    char *user_name;
    char *quoted;
} Odd;

static const alch_column odd_columns[] = {
    {.name = "id",
     .offset = offsetof(Odd, id),
     .ctype = ALCH_C_I64,
     .type = ALCH_BIGINT,
     .primary_key = true},
    {.name = "select", .offset = offsetof(Odd, select), .ctype = ALCH_C_STRING, .type = ALCH_TEXT},
    {.name = "User Name",
     .offset = offsetof(Odd, user_name),
     .ctype = ALCH_C_STRING,
     .type = ALCH_TEXT},
    {.name = "say \"hi\"",
     .offset = offsetof(Odd, quoted),
     .ctype = ALCH_C_STRING,
     .type = ALCH_TEXT},
};
static const alch_model Odd_model = ALCH_MODEL(Odd, "order", odd_columns);

/* Core tables (no struct): pgbench's four, with mtime as timestamptz, and a tree of nodes. */
static const alch_column branch_columns[] = {
    ALCH_TABLE_COLUMN("bid", ALCH_INTEGER, .primary_key = true),
    ALCH_TABLE_COLUMN("bbalance", ALCH_INTEGER),
};
static const alch_model branches = ALCH_TABLE("pgbench_branches", branch_columns);
static const alch_column teller_columns[] = {
    ALCH_TABLE_COLUMN("tid", ALCH_INTEGER, .primary_key = true),
    ALCH_TABLE_COLUMN("bid", ALCH_INTEGER, .foreign_key = "pgbench_branches.bid"),
    ALCH_TABLE_COLUMN("tbalance", ALCH_INTEGER),
};
static const alch_model tellers = ALCH_TABLE("pgbench_tellers", teller_columns);
static const alch_column account_columns[] = {
    ALCH_TABLE_COLUMN("aid", ALCH_INTEGER, .primary_key = true),
    ALCH_TABLE_COLUMN("bid", ALCH_INTEGER),
    ALCH_TABLE_COLUMN("abalance", ALCH_INTEGER),
};
static const alch_model accounts = ALCH_TABLE("pgbench_accounts", account_columns);
static const alch_column history_columns[] = {
    ALCH_TABLE_COLUMN("tid", ALCH_INTEGER),
    ALCH_TABLE_COLUMN("bid", ALCH_INTEGER),
    ALCH_TABLE_COLUMN("aid", ALCH_INTEGER),
    ALCH_TABLE_COLUMN("delta", ALCH_INTEGER),
    ALCH_TABLE_COLUMN("mtime", ALCH_TIMESTAMPTZ, .nullable = true),
};
static const alch_model history = ALCH_TABLE("pgbench_history", history_columns);
static const alch_column node_columns[] = {
    ALCH_TABLE_COLUMN("id", ALCH_INTEGER, .primary_key = true),
    ALCH_TABLE_COLUMN("parent", ALCH_INTEGER, .nullable = true),
    ALCH_TABLE_COLUMN("name", ALCH_TEXT),
};
static const alch_model nodes = ALCH_TABLE("nodes", node_columns);
/* Two foreign keys to the same table: a transfer goes from one account to another. */
static const alch_column transfer_columns[] = {
    ALCH_TABLE_COLUMN("id", ALCH_INTEGER, .primary_key = true),
    ALCH_TABLE_COLUMN("from_aid", ALCH_INTEGER, .foreign_key = "pgbench_accounts.aid"),
    ALCH_TABLE_COLUMN("to_aid", ALCH_INTEGER, .foreign_key = "pgbench_accounts.aid"),
};
static const alch_model transfers = ALCH_TABLE("transfers", transfer_columns);

static char *db_url;
static alch_base *base;
static alch_engine *engine;
static alch_sessionmaker *maker;

static const char *const seed_sql[] = {
    "INSERT INTO categories (id, name) VALUES (1, 'Tea'), (2, 'Coffee'), (3, 'Empty')",
    "INSERT INTO items (id, name, description, price, category) VALUES "
    "(1, 'Green tea', 'Sencha from Shizuoka', 450, 1), (2, 'Black tea', 'Assam, strong', 300, 1),"
    "(3, 'Oolong', 'Half-oxidised', 700, 1), (4, 'Espresso', 'Dark roast', 550, 2),"
    "(5, 'Filter', 'Light roast', 400, 2)",
    "INSERT INTO tags (id, label, hits) VALUES (1, 'green', 5)",
    "SELECT setval(pg_get_serial_sequence('items', 'id'), 100)",
    "SELECT setval(pg_get_serial_sequence('categories', 'id'), 100)",
    "SELECT setval(pg_get_serial_sequence('tags', 'id'), 100)",
    /* Core tables: created here, as pgbench -i creates its own */
    "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int NOT NULL, filler char(88))",
    "CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int NOT NULL REFERENCES "
    "pgbench_branches, tbalance int NOT NULL, filler char(84))",
    "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, "
    "filler char(84))",
    "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamptz, "
    "filler char(22))",
    "INSERT INTO pgbench_branches VALUES (1, 0), (2, 0)",
    "INSERT INTO pgbench_tellers VALUES (1, 1, 0), (2, 1, 0), (3, 2, 0)",
    "INSERT INTO pgbench_accounts SELECT a, 1 + (a > 2)::int, 0 FROM generate_series(1, 4) a",
    "INSERT INTO pgbench_history VALUES (1, 1, 1, 10, '2026-03-15 12:00+00'), "
    "(1, 1, 2, -5, '2026-03-20 12:00+00'), (2, 1, 3, 7, '2026-04-02 12:00+00')",
    "CREATE TABLE nodes (id int PRIMARY KEY, parent int REFERENCES nodes, name text NOT NULL)",
    "INSERT INTO nodes VALUES (1, NULL, 'Drinks'), (2, 1, 'Tea'), (3, 2, 'Green'), "
    "(4, 1, 'Coffee'), (5, NULL, 'Food')",
    "CREATE TABLE transfers (id int PRIMARY KEY, from_aid int NOT NULL REFERENCES "
    "pgbench_accounts, to_aid int NOT NULL REFERENCES pgbench_accounts)",
    "INSERT INTO transfers VALUES (1, 1, 3), (2, 4, 2)",
};

static int setup(void **state)
{
    (void)state;
    db_url = alch_test_db_create("stmt");
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_base_create(&base, &err), err);
    const alch_model *models[] = {&User_model, &Category_model, &Item_model, &Tag_model,
                                  &Odd_model};
    for (size_t i = 0; i < ALCH_COUNT(models); i++)
        CHECK_OK(alch_base_add(base, models[i], &err), err);
    CHECK_OK(alch_engine_create(db_url, NULL, &engine, &err), err);
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(engine, &c, &err), err);
    CHECK_OK(alch_base_create_all(base, c, &err), err);
    for (size_t i = 0; i < ALCH_COUNT(seed_sql); i++)
        CHECK_OK(alch_conn_execute_text(c, seed_sql[i], NULL, 0, NULL, &err), err);
    CHECK_OK(alch_conn_commit(c, &err), err);
    alch_conn_close(c);
    CHECK_OK(alch_sessionmaker_create(engine, base, NULL, &maker, &err), err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alch_sessionmaker_free(maker);
    alch_engine_free(engine);
    alch_base_free(base);
    alch_test_db_drop(db_url);
    return 0;
}

/* The rows as text: cells joined with '|', rows with ';'. */
static char *rows_text(const alch_result *res)
{
    static char out[4096];
    size_t len = 0;
    out[0] = '\0';
    for (size_t r = 0; r < alch_result_rows(res); r++)
        for (size_t c = 0; c < alch_result_columns(res); c++) {
            const char *v = "NULL";
            if (!alch_result_is_null(res, r, c))
                alch_result_get_text(res, r, c, &v, NULL);
            len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", c ? "|" : r ? ";" : "", v);
        }
    return out;
}

/* The parameters as echo shows them. */
static char *params_text(alch_stmt *st)
{
    static char out[1024];
    FILE *f = fmemopen(out, sizeof out, "w");
    alch_stmt_print(st, f);
    fclose(f);
    char *nl = strchr(out, '\n');
    return nl ? nl + 1 : out;
}

/* ---- the table ------------------------------------------------------------------------- */

typedef struct stmt_case {
    const char *name;
    alch_stmt *(*build)(void);
    const char *sql;
    const char *params; /* as echo prints them ("" when none) */
    const char *rows;
} stmt_case;

#define COLS_ITEM "items.id, items.name, items.description, items.price, items.category"

static alch_stmt *b_eq(void)
{
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, category), 2));
    return alch_order_by(st, ALCH_COL(Item, id));
}

static alch_stmt *b_ne_desc_limit(void)
{
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, name));
    alch_where(st, alch_ne(ALCH_COL(Item, name), "Oolong"));
    alch_order_by(st, alch_desc(ALCH_COL(Item, price)));
    alch_limit(st, 2);
    return alch_offset(st, 1);
}

static alch_stmt *b_or_and(void)
{
    alch_expr *price = ALCH_COL(Item, price); /* used twice */
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, id));
    alch_where(st,
               alch_or(alch_lt(price, 350), alch_and(alch_ge(price, 550), alch_le(price, 700))));
    alch_where(st, alch_gt(ALCH_COL(Item, id), 0));
    return alch_order_by(st, alch_nulls(alch_asc(ALCH_COL(Item, id)), ALCH_NULLS_LAST));
}

static alch_stmt *b_in(void)
{
    alch_value ids[] = {alch_v(1), alch_v(4), alch_v(99)};
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, name));
    alch_where(st, alch_in(ALCH_COL(Item, id), ids, 3));
    return alch_order_by(st, ALCH_COL(Item, id));
}

static alch_stmt *b_in_empty(void)
{
    alch_stmt *st = alch_select_columns(alch_count_all());
    alch_select_from(st, &Item_model);
    return alch_where(st, alch_in(ALCH_COL(Item, id), NULL, 0));
}

static alch_stmt *b_in_select(void)
{
    alch_stmt *sub = alch_select_columns(ALCH_COL(Category, id));
    alch_where(sub, alch_like(ALCH_COL(Category, name), "T%"));
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, name));
    alch_where(st, alch_in_select(ALCH_COL(Item, category), sub));
    return alch_order_by(st, ALCH_COL(Item, price));
}

static alch_stmt *b_ilike_not(void)
{
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, name));
    alch_where(st, alch_ilike(ALCH_COL(Item, description), "%ROAST%"));
    alch_where(st, alch_not(alch_eq(ALCH_COL(Item, name), "Filter")));
    return st;
}

static alch_stmt *b_null_between(void)
{
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, id));
    alch_where(st, alch_is_not_null(ALCH_COL(Item, description)));
    alch_where(st, alch_between(ALCH_COL(Item, price), 400, 550));
    return alch_order_by(st, ALCH_COL(Item, id));
}

static alch_stmt *b_is_null(void)
{
    alch_stmt *st = alch_select_columns(alch_count_all());
    alch_select_from(st, &Item_model);
    return alch_where(st, alch_is_null(ALCH_COL(Item, description)));
}

static alch_stmt *b_join(void)
{
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, name), ALCH_COL(Category, name));
    alch_join(st, &Category_model);
    alch_where(st, alch_eq(ALCH_COL(Category, name), "Coffee"));
    return alch_order_by(st, ALCH_COL(Item, name));
}

static alch_stmt *b_outerjoin_group(void)
{
    alch_expr *name = ALCH_COL(Category, name);
    alch_stmt *st = alch_select_columns(name, alch_label(alch_count(ALCH_COL(Item, id)), "n"));
    alch_outerjoin(st, &Item_model);
    alch_group_by(st, name);
    return alch_order_by(st, name);
}

static alch_stmt *b_having(void)
{
    alch_stmt *st = alch_select_columns(
        ALCH_COL(Item, category), alch_sum(ALCH_COL(Item, price)), alch_min(ALCH_COL(Item, price)),
        alch_max(ALCH_COL(Item, price)), alch_avg(ALCH_COL(Item, price)));
    alch_group_by(st, ALCH_COL(Item, category));
    return alch_having(st, alch_gt(alch_count_all(), 2));
}

static alch_stmt *b_exists(void)
{
    alch_stmt *sub = alch_select_columns(ALCH_COL(Item, id));
    alch_where(sub, alch_eq(ALCH_COL(Item, category), ALCH_COL(Category, id)));
    alch_stmt *st = alch_select(&Category_model);
    alch_where(st, alch_not(alch_exists(sub)));
    return st;
}

static alch_stmt *b_scalar_sub(void)
{
    alch_stmt *sub = alch_select_columns(alch_max(ALCH_COL(Item, price)));
    alch_where(sub, alch_eq(ALCH_COL(Item, category), ALCH_COL(Category, id)));
    alch_stmt *st =
        alch_select_columns(ALCH_COL(Category, name), alch_label(alch_scalar_subquery(sub), "top"));
    return alch_order_by(st, alch_nulls(alch_desc(ALCH_COL(Category, id)), ALCH_NULLS_FIRST));
}

static alch_stmt *b_distinct(void)
{
    alch_stmt *st = alch_distinct(alch_select_columns(ALCH_COL(Item, category)));
    return alch_order_by(st, ALCH_COL(Item, category));
}

static alch_stmt *b_insert(void)
{
    alch_stmt *st = alch_insert(&Category_model);
    alch_set(st, ALCH_COL(Category, name), "Cocoa");
    return alch_returning(st, ALCH_COL(Category, name));
}

static alch_stmt *b_insert_rows(void)
{
    alch_stmt *st = alch_insert(&Tag_model);
    alch_set(st, ALCH_COL(Tag, label), "black");
    alch_set(st, ALCH_COL(Tag, hits), 1);
    alch_insert_row(st);
    alch_set(st, ALCH_COL(Tag, hits), 2); /* another order: matched by column */
    alch_set(st, ALCH_COL(Tag, label), "white");
    return alch_returning(alch_returning(st, ALCH_COL(Tag, label)), ALCH_COL(Tag, hits));
}

static alch_stmt *b_do_nothing(void)
{
    alch_stmt *st = alch_insert(&Tag_model);
    alch_set(st, ALCH_COL(Tag, label), "green");
    alch_set(st, ALCH_COL(Tag, hits), 9);
    alch_on_conflict_do_nothing(st, ALCH_COL(Tag, label));
    return alch_returning(st, ALCH_COL(Tag, id));
}

static alch_stmt *b_do_update(void)
{
    alch_stmt *st = alch_insert(&Tag_model);
    alch_set(st, ALCH_COL(Tag, label), "green");
    alch_set(st, ALCH_COL(Tag, hits), 9);
    alch_expr *cols[] = {ALCH_COL(Tag, hits)};
    alch_on_conflict_do_update(st, ALCH_COL(Tag, label), cols, 1);
    return alch_returning(alch_returning(st, ALCH_COL(Tag, id)), ALCH_COL(Tag, hits));
}

static alch_stmt *b_update(void)
{
    alch_stmt *st = alch_update(&Item_model);
    alch_set(st, ALCH_COL(Item, price), 500);
    alch_where(st, alch_eq(ALCH_COL(Item, category), 2));
    return alch_returning(st, ALCH_COL(Item, id));
}

static alch_stmt *b_delete(void)
{
    alch_stmt *st = alch_delete(&Item_model);
    alch_where(st, alch_lt(ALCH_COL(Item, price), 400));
    return alch_returning(st, ALCH_COL(Item, name));
}

/* ---- more queries: expressions, functions, Core tables, set operations, CTEs, windows ---- */

static alch_cte *case_cte; /* a case's CTE, freed after its statement */

static alch_stmt *b_arith(void)
{
    alch_expr *price = ALCH_COL(Item, price);
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, name), alch_label(alch_mul(price, 2), "twice"));
    alch_where(st, alch_gt(alch_sub(price, 100), 400));
    return alch_order_by(st, alch_desc(alch_mod(price, 300)));
}

static alch_stmt *b_concat_neg_div(void)
{
    alch_expr *label = alch_concat(alch_concat(ALCH_COL(Item, name), " / "), ALCH_COL(Category, name));
    alch_stmt *st = alch_select_columns(alch_label(label, "label"),
                                        alch_label(alch_neg(ALCH_COL(Item, price)), "minus"),
                                        alch_label(alch_div(ALCH_COL(Item, price), 100), "hundreds"));
    alch_join(st, &Category_model);
    alch_where(st, alch_gt(alch_mul(ALCH_COL(Item, category), 3), ALCH_COL(Item, id)));
    return alch_order_by(st, ALCH_COL(Item, id));
}

static alch_stmt *b_func_lower(void)
{
    alch_expr *low = alch_func("lower", ALCH_TEXT, ALCH_COL(Item, name));
    alch_stmt *st = alch_select_columns(alch_label(low, "low"));
    alch_where(st, alch_like(alch_func("upper", ALCH_TEXT, ALCH_COL(Item, name)), "%TEA"));
    return alch_order_by(st, low);
}

static alch_stmt *b_count_distinct(void)
{
    return alch_select_columns(alch_label(alch_count_distinct(ALCH_COL(Item, category)), "kinds"),
                               alch_count(ALCH_COL(Item, id)));
}

static alch_stmt *b_case_cast(void)
{
    alch_expr *price = ALCH_COL(Item, price);
    alch_expr *band = alch_case(alch_lt(price, 450), "cheap", alch_lt(price, 600), "mid", "dear");
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, name), alch_label(band, "band"),
                                        alch_label(alch_concat(alch_cast(price, ALCH_TEXT), " RUB"),
                                                   "price_text"));
    alch_where(st, alch_eq(ALCH_COL(Item, category), 2));
    return alch_order_by(st, ALCH_COL(Item, id));
}

static alch_stmt *b_coalesce(void)
{
    alch_expr *name = ALCH_COL(Category, name);
    alch_expr *total = alch_func("coalesce", ALCH_BIGINT, alch_sum(ALCH_COL(Item, price)), 0);
    alch_stmt *st = alch_select_columns(name, alch_label(total, "total"));
    alch_outerjoin(st, &Item_model);
    alch_group_by(st, name);
    return alch_order_by(st, name);
}

static alch_stmt *b_extract_now(void)
{
    alch_expr *mtime = alch_col(&history, "mtime");
    alch_expr *month = alch_extract("month", mtime);
    alch_stmt *st = alch_select_columns(alch_label(month, "m"), alch_sum(alch_col(&history, "delta")));
    alch_where(st, alch_lt(mtime, alch_func("now", ALCH_TIMESTAMPTZ)));
    alch_group_by(st, month);
    return alch_order_by(st, month);
}

static alch_stmt *b_date_trunc(void)
{
    alch_expr *day = alch_cast(alch_val(alch_text("2026-03-28 12:00+00")), ALCH_TIMESTAMPTZ);
    alch_stmt *st = alch_select_columns(alch_count_all());
    alch_select_from(st, &history);
    return alch_where(st, alch_eq(alch_func("date_trunc", ALCH_TIMESTAMPTZ, "month",
                                            alch_col(&history, "mtime")),
                                  alch_func("date_trunc", ALCH_TIMESTAMPTZ, "month", day)));
}

static alch_stmt *b_core_insert(void)
{
    alch_stmt *st = alch_insert(&history);
    alch_set(st, alch_col(&history, "tid"), 3);
    alch_set(st, alch_col(&history, "bid"), 2);
    alch_set(st, alch_col(&history, "aid"), 4);
    alch_set(st, alch_col(&history, "delta"), 42);
    alch_set(st, alch_col(&history, "mtime"), alch_func("now", ALCH_TIMESTAMPTZ));
    return alch_returning(st, alch_col(&history, "delta"));
}

static alch_stmt *b_core_select(void)
{
    alch_stmt *st = alch_select(&nodes);
    alch_where(st, alch_is_null(alch_col(&nodes, "parent")));
    return alch_order_by(st, alch_col(&nodes, "id"));
}

static alch_stmt *b_core_join(void)
{
    alch_stmt *st = alch_select_columns(alch_col(&tellers, "tid"), alch_col(&branches, "bid"));
    alch_join(st, &branches);
    alch_where(st, alch_eq(alch_col(&branches, "bid"), 1));
    return alch_order_by(st, alch_col(&tellers, "tid"));
}

static alch_stmt *b_core_delete(void)
{
    alch_stmt *st = alch_delete(&history);
    alch_where(st, alch_lt(alch_col(&history, "delta"), 0));
    return alch_returning(st, alch_col(&history, "aid"));
}

static alch_stmt *b_tpcb_update(void)
{
    alch_expr *abalance = alch_col(&accounts, "abalance");
    alch_stmt *st = alch_update(&accounts);
    alch_set(st, abalance, alch_add(abalance, -7));
    alch_where(st, alch_eq(alch_col(&accounts, "aid"), 3));
    return alch_returning(st, abalance);
}

static alch_stmt *b_union(void)
{
    alch_stmt *a = alch_select_columns(ALCH_COL(Item, name));
    alch_where(a, alch_gt(ALCH_COL(Item, price), 500));
    alch_stmt *st = alch_union(a, alch_select_columns(ALCH_COL(Category, name)));
    return alch_order_by(st, ALCH_COL(Item, name));
}

static alch_stmt *b_union_all(void)
{
    alch_stmt *a = alch_select_columns(ALCH_COL(Item, category));
    alch_where(a, alch_lt(ALCH_COL(Item, price), 450));
    alch_stmt *st = alch_union_all(a, alch_select_columns(ALCH_COL(Category, id)));
    alch_order_by(st, ALCH_COL(Item, category));
    return alch_limit(st, 4);
}

static alch_stmt *b_intersect(void)
{
    alch_stmt *st = alch_intersect(alch_select_columns(ALCH_COL(Category, id)),
                                   alch_select_columns(ALCH_COL(Item, category)));
    return alch_order_by(st, ALCH_COL(Category, id));
}

static alch_stmt *b_except(void)
{
    return alch_except(alch_select_columns(ALCH_COL(Category, id)),
                       alch_select_columns(ALCH_COL(Item, category)));
}

static alch_stmt *b_window(void)
{
    alch_expr *price = ALCH_COL(Item, price);
    alch_stmt *st = alch_select_columns(
        ALCH_COL(Item, name), alch_label(alch_over(alch_rank(), NULL, alch_desc(price)), "r"),
        alch_label(alch_over(alch_sum(price), ALCH_COL(Item, category), NULL), "cat_total"));
    return alch_order_by(st, ALCH_COL(Item, id));
}

/* The cheapest items of each category: a window in a CTE, filtered outside. */
static alch_stmt *b_cte_top(void)
{
    alch_expr *rn = alch_over(alch_row_number(), ALCH_COL(Item, category), ALCH_COL(Item, price));
    alch_stmt *body = alch_select_columns(ALCH_COL(Item, name), ALCH_COL(Item, category),
                                          ALCH_COL(Item, price), alch_label(rn, "rn"));
    if (alch_cte_create("ranked", body, &case_cte, NULL) != 0)
        return NULL;
    const alch_model *ranked = alch_cte_table(case_cte);
    alch_stmt *st = alch_select_columns(alch_col(ranked, "category"), alch_col(ranked, "name"),
                                        alch_col(ranked, "price"));
    alch_where(st, alch_le(alch_col(ranked, "rn"), 2));
    alch_order_by(st, alch_col(ranked, "category"));
    return alch_order_by(st, alch_col(ranked, "rn"));
}

static alch_stmt *b_cte_join(void)
{
    alch_stmt *body = alch_select_columns(ALCH_COL(Item, category),
                                          alch_label(alch_sum(ALCH_COL(Item, price)), "total"));
    alch_group_by(body, ALCH_COL(Item, category));
    if (alch_cte_create("totals", body, &case_cte, NULL) != 0)
        return NULL;
    const alch_model *totals = alch_cte_table(case_cte);
    alch_stmt *st = alch_select_columns(ALCH_COL(Category, name), alch_col(totals, "total"));
    alch_join_on(st, totals, alch_eq(alch_col(totals, "category"), ALCH_COL(Category, id)));
    return alch_order_by(st, alch_desc(alch_col(totals, "total")));
}

/* A tree walked from its root: WITH RECURSIVE. */
static alch_stmt *b_cte_recursive(void)
{
    alch_stmt *start = alch_select_columns(alch_col(&nodes, "id"), alch_col(&nodes, "name"),
                                           alch_label(alch_val(alch_int(0)), "depth"));
    alch_where(start, alch_is_null(alch_col(&nodes, "parent")));
    alch_where(start, alch_eq(alch_col(&nodes, "name"), "Drinks"));
    if (alch_cte_create("tree", start, &case_cte, NULL) != 0)
        return NULL;
    const alch_model *tree = alch_cte_table(case_cte);
    alch_stmt *step = alch_select_columns(alch_col(&nodes, "id"), alch_col(&nodes, "name"),
                                          alch_add(alch_col(tree, "depth"), 1));
    alch_join_on(step, tree, alch_eq(alch_col(&nodes, "parent"), alch_col(tree, "id")));
    if (alch_cte_recursive(case_cte, step, true, NULL) != 0)
        return NULL;
    alch_stmt *st = alch_select_columns(alch_col(tree, "name"), alch_col(tree, "depth"));
    alch_order_by(st, alch_col(tree, "depth"));
    return alch_order_by(st, alch_col(tree, "name"));
}

static alch_stmt *b_skip_locked(void)
{
    alch_stmt *st = alch_select_columns(ALCH_COL(Item, id));
    alch_where(st, alch_eq(ALCH_COL(Item, category), 1));
    alch_order_by(st, ALCH_COL(Item, id));
    alch_limit(st, 1);
    return alch_with_for_update(st, ALCH_FOR_UPDATE, ALCH_SKIP_LOCKED);
}

static alch_stmt *b_share_nowait(void)
{
    alch_stmt *st = alch_select(&Category_model);
    alch_where(st, alch_eq(ALCH_COL(Category, id), 2));
    return alch_with_for_update(st, ALCH_FOR_SHARE, ALCH_NOWAIT);
}

static alch_stmt *b_update_pks(void)
{
    alch_value ids[] = {alch_v(1), alch_v(3), alch_v(99)};
    alch_stmt *st = alch_update(&Item_model);
    alch_set(st, ALCH_COL(Item, price), alch_mul(ALCH_COL(Item, price), 2));
    alch_where_pk_in(st, ids, 3);
    alch_returning(st, ALCH_COL(Item, id));
    return alch_returning(st, ALCH_COL(Item, price));
}

static alch_stmt *b_delete_pks(void)
{
    alch_value ids[] = {alch_v(2), alch_v(5)};
    alch_stmt *st = alch_delete(&Item_model);
    alch_where_pk_in(st, ids, 2);
    return alch_returning(st, ALCH_COL(Item, name));
}

static alch_stmt *b_insert_select(void)
{
    alch_stmt *sel = alch_select_columns(alch_func("lower", ALCH_TEXT, ALCH_COL(Category, name)),
                                         ALCH_COL(Category, id));
    alch_where(sel, alch_lt(ALCH_COL(Category, id), 3));
    alch_order_by(sel, ALCH_COL(Category, id));
    alch_stmt *st = alch_insert_select(alch_insert(&Tag_model), sel, ALCH_COL(Tag, label),
                                       ALCH_COL(Tag, hits));
    alch_returning(st, ALCH_COL(Tag, label));
    return alch_returning(st, ALCH_COL(Tag, hits));
}

static const stmt_case cases[] = {
    {"eq", b_eq, "SELECT " COLS_ITEM " FROM items WHERE items.category = $1 ORDER BY items.id",
     "($1=2)\n", "4|Espresso|Dark roast|550|2;5|Filter|Light roast|400|2"},
    {"ne, desc, limit, offset", b_ne_desc_limit,
     "SELECT items.name FROM items WHERE items.name <> $1 ORDER BY items.price DESC LIMIT $2 "
     "OFFSET $3",
     "($1='Oolong', $2=2, $3=1)\n", "Green tea;Filter"},
    {"or of and, two wheres, nulls last", b_or_and,
     "SELECT items.id FROM items WHERE (items.price < $1 OR (items.price >= $2 AND items.price "
     "<= $3)) AND items.id > $4 ORDER BY items.id ASC NULLS LAST",
     "($1=350, $2=550, $3=700, $4=0)\n", "2;3;4"},
    {"in list", b_in,
     "SELECT items.name FROM items WHERE items.id IN ($1, $2, $3) ORDER BY items.id",
     "($1=1, $2=4, $3=99)\n", "Green tea;Espresso"},
    {"empty in list", b_in_empty, "SELECT count(*) FROM items WHERE false", "", "0"},
    {"in subquery", b_in_select,
     "SELECT items.name FROM items WHERE items.category IN (SELECT categories.id FROM categories "
     "WHERE categories.name LIKE $1) ORDER BY items.price",
     "($1='T%')\n", "Black tea;Green tea;Oolong"},
    {"ilike, not", b_ilike_not,
     "SELECT items.name FROM items WHERE items.description ILIKE $1 AND NOT (items.name = $2)",
     "($1='%ROAST%', $2='Filter')\n", "Espresso"},
    {"is not null, between", b_null_between,
     "SELECT items.id FROM items WHERE items.description IS NOT NULL AND items.price BETWEEN $1 "
     "AND $2 ORDER BY items.id",
     "($1=400, $2=550)\n", "1;4;5"},
    {"is null", b_is_null, "SELECT count(*) FROM items WHERE items.description IS NULL", "", "0"},
    {"join along the foreign key", b_join,
     "SELECT items.name, categories.name FROM items JOIN categories ON items.category = "
     "categories.id WHERE categories.name = $1 ORDER BY items.name",
     "($1='Coffee')\n", "Espresso|Coffee;Filter|Coffee"},
    {"outer join, group by, label", b_outerjoin_group,
     "SELECT categories.name, count(items.id) AS n FROM categories LEFT OUTER JOIN items ON "
     "items.category = categories.id GROUP BY categories.name ORDER BY categories.name",
     "", "Coffee|2;Empty|0;Tea|3"},
    {"aggregates, having", b_having,
     "SELECT items.category, sum(items.price), min(items.price), max(items.price), "
     "avg(items.price) FROM items GROUP BY items.category HAVING count(*) > $1",
     "($1=2)\n", "1|1450|300|700|483.3333333333333333"},
    {"correlated not exists", b_exists,
     "SELECT categories.id, categories.name FROM categories WHERE NOT (EXISTS (SELECT items.id "
     "FROM items WHERE items.category = categories.id))",
     "", "3|Empty"},
    {"scalar subquery", b_scalar_sub,
     "SELECT categories.name, (SELECT max(items.price) FROM items WHERE items.category = "
     "categories.id) AS top FROM categories ORDER BY categories.id DESC NULLS FIRST",
     "", "Empty|NULL;Coffee|550;Tea|700"},
    {"distinct", b_distinct, "SELECT DISTINCT items.category FROM items ORDER BY items.category",
     "", "1;2"},
    {"insert returning", b_insert,
     "INSERT INTO categories (name) VALUES ($1) RETURNING categories.name", "($1='Cocoa')\n",
     "Cocoa"},
    {"multi-row insert", b_insert_rows,
     "INSERT INTO tags (label, hits) VALUES ($1, $2), ($3, $4) RETURNING tags.label, tags.hits",
     "($1='black', $2=1, $3='white', $4=2)\n", "black|1;white|2"},
    {"on conflict do nothing", b_do_nothing,
     "INSERT INTO tags (label, hits) VALUES ($1, $2) ON CONFLICT (label) DO NOTHING RETURNING "
     "tags.id",
     "($1='green', $2=9)\n", ""},
    {"on conflict do update", b_do_update,
     "INSERT INTO tags (label, hits) VALUES ($1, $2) ON CONFLICT (label) DO UPDATE SET hits = "
     "EXCLUDED.hits RETURNING tags.id, tags.hits",
     "($1='green', $2=9)\n", "1|9"},
    {"update returning", b_update,
     "UPDATE items SET price = $1 WHERE items.category = $2 RETURNING items.id", "($1=500, $2=2)\n",
     "4;5"},
    {"delete returning", b_delete, "DELETE FROM items WHERE items.price < $1 RETURNING items.name",
     "($1=400)\n", "Black tea"},
    {"arithmetic, order by an expression", b_arith,
     "SELECT items.name, items.price * $1 AS twice FROM items WHERE (items.price - $2) > $3 ORDER BY "
     "(items.price % $4) DESC",
     "($1=2, $2=100, $3=400, $4=300)\n", "Espresso|1100;Oolong|1400"},
    {"concatenation, unary minus, division, two columns compared", b_concat_neg_div,
     "SELECT (items.name || $1) || categories.name AS label, -items.price AS minus, items.price / $2 "
     "AS hundreds FROM items JOIN categories ON items.category = categories.id WHERE "
     "(items.category * $3) > items.id ORDER BY items.id",
     "($1=' / ', $2=100, $3=3)\n",
     "Green tea / Tea|-450|4;Black tea / Tea|-300|3;Espresso / Coffee|-550|5;Filter / Coffee|-400|4"},
    {"func: lower, upper", b_func_lower,
     "SELECT lower(items.name) AS low FROM items WHERE upper(items.name) LIKE $1 ORDER BY "
     "lower(items.name)",
     "($1='%TEA')\n", "black tea;green tea"},
    {"count distinct", b_count_distinct,
     "SELECT count(DISTINCT items.category) AS kinds, count(items.id) FROM items", "", "2|5"},
    {"case, cast", b_case_cast,
     "SELECT items.name, CASE WHEN items.price < $1 THEN $2 WHEN items.price < $3 THEN $4 ELSE $5 "
     "END AS band, CAST(items.price AS TEXT) || $6 AS price_text FROM items WHERE items.category = "
     "$7 ORDER BY items.id",
     "($1=450, $2='cheap', $3=600, $4='mid', $5='dear', $6=' RUB', $7=2)\n",
     "Espresso|mid|550 RUB;Filter|cheap|400 RUB"},
    {"func: coalesce of an aggregate", b_coalesce,
     "SELECT categories.name, coalesce(sum(items.price), $1) AS total FROM categories LEFT OUTER "
     "JOIN items ON items.category = categories.id GROUP BY categories.name ORDER BY "
     "categories.name",
     "($1=0)\n", "Coffee|950;Empty|0;Tea|1450"},
    {"extract, now(), group by an expression", b_extract_now,
     "SELECT EXTRACT(month FROM pgbench_history.mtime) AS m, sum(pgbench_history.delta) FROM "
     "pgbench_history WHERE pgbench_history.mtime < now() GROUP BY EXTRACT(month FROM "
     "pgbench_history.mtime) ORDER BY EXTRACT(month FROM pgbench_history.mtime)",
     "", "3|5;4|7"},
    {"func: date_trunc, cast of a value", b_date_trunc,
     "SELECT count(*) FROM pgbench_history WHERE date_trunc($1, pgbench_history.mtime) = "
     "date_trunc($2, CAST($3 AS TIMESTAMP WITH TIME ZONE))",
     "($1='month', $2='month', $3='2026-03-28 12:00+00')\n", "2"},
    {"core table: insert without a primary key", b_core_insert,
     "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, now()) "
     "RETURNING pgbench_history.delta",
     "($1=3, $2=2, $3=4, $4=42)\n", "42"},
    {"core table: select every column", b_core_select,
     "SELECT nodes.id, nodes.parent, nodes.name FROM nodes WHERE nodes.parent IS NULL ORDER BY "
     "nodes.id",
     "", "1|NULL|Drinks;5|NULL|Food"},
    {"core tables: join along a foreign key", b_core_join,
     "SELECT pgbench_tellers.tid, pgbench_branches.bid FROM pgbench_tellers JOIN pgbench_branches ON "
     "pgbench_tellers.bid = pgbench_branches.bid WHERE pgbench_branches.bid = $1 ORDER BY "
     "pgbench_tellers.tid",
     "($1=1)\n", "1|1;2|1"},
    {"core table: delete", b_core_delete,
     "DELETE FROM pgbench_history WHERE pgbench_history.delta < $1 RETURNING pgbench_history.aid",
     "($1=0)\n", "2"},
    {"update set col = col + value (TPC-B)", b_tpcb_update,
     "UPDATE pgbench_accounts SET abalance = pgbench_accounts.abalance + $1 WHERE "
     "pgbench_accounts.aid = $2 RETURNING pgbench_accounts.abalance",
     "($1=-7, $2=3)\n", "-7"},
    {"union, order by an output column", b_union,
     "SELECT items.name FROM items WHERE items.price > $1 UNION SELECT categories.name FROM "
     "categories ORDER BY name",
     "($1=500)\n", "Coffee;Empty;Espresso;Oolong;Tea"},
    {"union all, limit", b_union_all,
     "SELECT items.category FROM items WHERE items.price < $1 UNION ALL SELECT categories.id FROM "
     "categories ORDER BY category LIMIT $2",
     "($1=450, $2=4)\n", "1;1;2;2"},
    {"intersect", b_intersect,
     "SELECT categories.id FROM categories INTERSECT SELECT items.category FROM items ORDER BY id",
     "", "1;2"},
    {"except", b_except,
     "SELECT categories.id FROM categories EXCEPT SELECT items.category FROM items", "", "3"},
    {"window: rank, sum over a partition", b_window,
     "SELECT items.name, rank() OVER (ORDER BY items.price DESC) AS r, sum(items.price) OVER "
     "(PARTITION BY items.category) AS cat_total FROM items ORDER BY items.id",
     "", "Green tea|3|1450;Black tea|5|1450;Oolong|1|1450;Espresso|2|950;Filter|4|950"},
    {"with: the two cheapest per category (row_number in a CTE)", b_cte_top,
     "WITH ranked AS (SELECT items.name, items.category, items.price, row_number() OVER (PARTITION "
     "BY items.category ORDER BY items.price) AS rn FROM items) SELECT ranked.category, ranked.name, "
     "ranked.price FROM ranked WHERE ranked.rn <= $1 ORDER BY ranked.category, ranked.rn",
     "($1=2)\n", "1|Black tea|300;1|Green tea|450;2|Filter|400;2|Espresso|550"},
    {"with: a CTE joined to a model", b_cte_join,
     "WITH totals AS (SELECT items.category, sum(items.price) AS total FROM items GROUP BY "
     "items.category) SELECT categories.name, totals.total FROM categories JOIN totals ON "
     "totals.category = categories.id ORDER BY totals.total DESC",
     "", "Tea|1450;Coffee|950"},
    {"with recursive: a tree", b_cte_recursive,
     "WITH RECURSIVE tree AS (SELECT nodes.id, nodes.name, $1 AS depth FROM nodes WHERE "
     "nodes.parent IS NULL AND nodes.name = $2 UNION ALL SELECT nodes.id, nodes.name, tree.depth + "
     "$3 FROM nodes JOIN tree ON nodes.parent = tree.id) SELECT tree.name, tree.depth FROM tree "
     "ORDER BY tree.depth, tree.name",
     "($1=0, $2='Drinks', $3=1)\n", "Drinks|0;Coffee|1;Tea|1;Green|2"},
    {"for update skip locked", b_skip_locked,
     "SELECT items.id FROM items WHERE items.category = $1 ORDER BY items.id LIMIT $2 FOR UPDATE "
     "SKIP LOCKED",
     "($1=1, $2=1)\n", "1"},
    {"for share nowait", b_share_nowait,
     "SELECT categories.id, categories.name FROM categories WHERE categories.id = $1 FOR SHARE "
     "NOWAIT",
     "($1=2)\n", "2|Coffee"},
    {"bulk update by primary keys", b_update_pks,
     "UPDATE items SET price = items.price * $1 WHERE items.id IN ($2, $3, $4) RETURNING items.id, "
     "items.price",
     "($1=2, $2=1, $3=3, $4=99)\n", "1|900;3|1400"},
    {"bulk delete by primary keys", b_delete_pks,
     "DELETE FROM items WHERE items.id IN ($1, $2) RETURNING items.name", "($1=2, $2=5)\n",
     "Black tea;Filter"},
    {"insert ... select", b_insert_select,
     "INSERT INTO tags (label, hits) SELECT lower(categories.name), categories.id FROM categories "
     "WHERE categories.id < $1 ORDER BY categories.id RETURNING tags.label, tags.hits",
     "($1=3)\n", "tea|1;coffee|2"},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < ALCH_COUNT(cases); i++) {
        const stmt_case *c = &cases[i];
        alch_error err = ALCH_ERROR_INIT;
        alch_stmt *st = c->build();
        const char *sql = NULL;
        int rc = alch_stmt_sql(st, &sql, &err);
        if (rc)
            fail_msg("case '%s': %s", c->name, err.message);
        if (strcmp(sql, c->sql) != 0)
            fail_msg("case '%s':\n  expected SQL: %s\n  got SQL:      %s", c->name, c->sql, sql);
        const char *params = params_text(st);
        if (strcmp(params, c->params) != 0)
            fail_msg("case '%s':\n  expected params: %s  got params:      %s", c->name, c->params,
                     params);
        alch_session *s = NULL;
        CHECK_OK(alch_session_open(maker, &s, &err), err);
        alch_result *res = NULL;
        rc = alch_session_execute(s, st, &res, &err);
        if (rc)
            fail_msg("case '%s': %s", c->name, alch_error_format(&err));
        const char *rows = rows_text(res);
        if (strcmp(rows, c->rows) != 0)
            fail_msg("case '%s':\n  expected rows: %s\n  got rows:      %s", c->name, c->rows,
                     rows);
        alch_result_free(res);
        alch_session_close(s); /* rolls back: every case sees the same data */
        alch_stmt_free(st);
        alch_cte_free(case_cte);
        case_cte = NULL;
    }
}

/* ---- values are data, names are quoted ------------------------------------------------- */

static const char *const payloads[] = {
    "'; DROP TABLE items; --",
    "\" OR 1=1 --",
    "x' OR '1'='1",
    "$1",
    "Robert'); DELETE FROM categories;--",
    "100% _sure_", /* LIKE wildcards (a backslash would be LIKE's escape character) */
};

/* Each payload is stored by an INSERT, then found by =, LIKE and IN, verbatim. */
static void test_injection(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(maker, &s, &err), err);
    for (size_t i = 0; i < ALCH_COUNT(payloads); i++) {
        const char *p = payloads[i];
        alch_stmt *ins = alch_insert(&Odd_model);
        alch_set(ins, alch_col(&Odd_model, "select"), p);
        alch_set(ins, alch_col(&Odd_model, "User Name"), p);
        alch_set(ins, alch_col(&Odd_model, "say \"hi\""), p);
        alch_returning_model(ins);
        Odd *row = NULL;
        CHECK_OK(alch_session_scalar_one(s, ins, (void **)&row, &err), err);
        assert_string_equal(row->select, p);
        assert_string_equal(row->user_name, p);
        assert_string_equal(row->quoted, p);
        alch_stmt_free(ins);

        alch_value in[] = {alch_v("nothing"), alch_v(p)};
        alch_stmt *q = alch_select(&Odd_model);
        alch_where(q, alch_eq(alch_col(&Odd_model, "select"), p));
        alch_where(q, alch_like(alch_col(&Odd_model, "User Name"), p)); /* wildcards too */
        alch_where(q, alch_in(alch_col(&Odd_model, "say \"hi\""), in, 2));
        Odd *found = NULL;
        CHECK_OK(alch_session_scalar_one(s, q, (void **)&found, &err), err);
        assert_ptr_equal(found, row); /* the identity map gives back the same object */
        alch_stmt_free(q);
    }
    /* nothing was dropped or deleted, and the names were quoted */
    alch_stmt *count = alch_select_columns(alch_count_all());
    alch_select_from(count, &Category_model);
    alch_result *res = NULL;
    CHECK_OK(alch_session_one(s, count, &res, &err), err);
    assert_string_equal(rows_text(res), "3");
    alch_result_free(res);
    alch_stmt_free(count);
    alch_stmt *q = alch_select(&Odd_model);
    alch_where(q, alch_eq(alch_col(&Odd_model, "User Name"), "x"));
    const char *sql = NULL;
    CHECK_OK(alch_stmt_sql(q, &sql, &err), err);
    assert_string_equal(sql, "SELECT \"order\".id, \"order\".\"select\", \"order\".\"User Name\", "
                             "\"order\".\"say \"\"hi\"\"\" FROM \"order\" WHERE "
                             "\"order\".\"User Name\" = $1");
    alch_stmt_free(q);
    alch_session_close(s);
}

/* ---- mistakes are caught before any SQL is sent ------------------------------------------- */

static void expect_error(alch_stmt *st, int code, const char *text)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(maker, &s, &err), err);
    alch_result *res = NULL;
    int rc = alch_session_execute(s, st, &res, &err);
    if (rc != code || !err.message || !strstr(err.message, text))
        fail_msg("expected %s containing \"%s\", got %s: %s", alch_strerror(code), text,
                 alch_strerror(rc), err.message ? err.message : "(no message)");
    assert_null(res);
    assert_int_equal(alch_engine_pool_status(engine).checked_out, 0); /* nothing was sent */
    alch_session_close(s);
    alch_stmt_free(st);
    alch_error_clear(&err);
}

static void test_mistakes(void **state)
{
    (void)state;
    alch_stmt *st;
    /* the seed's copies pass callback.data.split('_')[1], a string, as an id */
    const char *callback_data = "item_5";
    st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), strchr(callback_data, '_') + 1));
    expect_error(st, ALCH_ETYPE, "items.id is BIGINT, but the value compared with it is a text");

    st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Category, name), "Tea"));
    expect_error(st, ALCH_EARGUMENT,
                 "categories.name belongs to table categories, which this statement neither "
                 "selects from nor joins");

    expect_error(alch_limit(alch_select(&Item_model), -1), ALCH_EARGUMENT,
                 "the count cannot be negative");
    expect_error(alch_where(alch_select(&Item_model), alch_gt(alch_col(&Item_model, "prise"), 1)),
                 ALCH_EARGUMENT, "has no column 'prise' (did you mean 'price'?)");
    expect_error(alch_where(alch_select(&Item_model), alch_eq(ALCH_COL(Item, name), alch_null())),
                 ALCH_EARGUMENT, "compared with NULL");
    expect_error(alch_set(alch_insert(&Item_model), ALCH_COL(Item, name), alch_null()),
                 ALCH_EINTEGRITY, "items.name is NOT NULL");
    expect_error(alch_set(alch_insert(&Item_model), ALCH_COL(Item, name),
                          "a name much longer than twenty-five characters"),
                 ALCH_EDATA, "is VARCHAR(25), but the text given for it is 46 characters long");
    expect_error(alch_set(alch_update(&Item_model), ALCH_COL(Item, price), 3000000000LL),
                 ALCH_EDATA, "items.price is INTEGER, which cannot hold 3000000000");
    expect_error(alch_where(alch_select(&Item_model), alch_like(ALCH_COL(Item, price), "4%")),
                 ALCH_ETYPE, "LIKE is used on items.price, which is INTEGER");
    expect_error(alch_select_columns(alch_sum(ALCH_COL(Item, name))), ALCH_ETYPE,
                 "sum() of items.name");
    expect_error(alch_join(alch_select(&Item_model), &User_model), ALCH_EARGUMENT,
                 "no foreign key links users");
    expect_error(alch_update(&Item_model), ALCH_EMISUSE, "needs at least one alch_set()");
    expect_error(alch_limit(alch_insert(&Item_model), 1), ALCH_EMISUSE,
                 "alch_limit does not apply to INSERT");
    st = alch_insert(&Tag_model);
    alch_set(st, ALCH_COL(Tag, label), "a");
    alch_insert_row(st);
    alch_set(st, ALCH_COL(Tag, hits), 1);
    expect_error(st, ALCH_EARGUMENT, "every row must set the same columns");
    st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), alch_param("id")));
    expect_error(st, ALCH_EARGUMENT, "the placeholder 'id' has no value");
    expect_error(alch_set(alch_update(&Item_model), ALCH_COL(Category, name), "x"), ALCH_EARGUMENT,
                 "categories.name is not a column of items");
    expect_error(alch_select_columns(alch_count_all()), ALCH_EMISUSE, "this SELECT names no table");
    expect_error(alch_where(alch_select(&Item_model), alch_gt(ALCH_COL(Item, id), 1ULL << 63)),
                 ALCH_EDATA, "larger than any SQL integer");

    /* the four the issue lists: a function's result against a column of another type, a
     * window in WHERE, FOR UPDATE with GROUP BY, a UNION of different column counts */
    st = alch_select(&Item_model);
    alch_where(st, alch_eq(alch_func("lower", ALCH_TEXT, ALCH_COL(Item, name)), ALCH_COL(Item, price)));
    expect_error(st, ALCH_ETYPE,
                 "lower() is TEXT, but it is compared with items.price, which is INTEGER");
    st = alch_select(&Item_model);
    alch_where(st, alch_le(alch_over(alch_row_number(), ALCH_COL(Item, category), NULL), 3));
    expect_error(st, ALCH_EMISUSE,
                 "a window function (... OVER) cannot be used in WHERE: windows are computed after "
                 "WHERE has filtered the rows");
    st = alch_select_columns(ALCH_COL(Item, category), alch_count_all());
    alch_group_by(st, ALCH_COL(Item, category));
    alch_with_for_update(st, ALCH_FOR_UPDATE, ALCH_LOCK_WAIT);
    expect_error(st, ALCH_EMISUSE, "FOR UPDATE cannot be used with GROUP BY");
    expect_error(alch_union(alch_select_columns(ALCH_COL(Item, id), ALCH_COL(Item, name)),
                            alch_select_columns(ALCH_COL(Category, name))),
                 ALCH_EARGUMENT, "UNION: the first side has 2 columns, the second 1");

    /* and their neighbours */
    expect_error(alch_select_columns(alch_add(ALCH_COL(Item, name), 1)), ALCH_ETYPE,
                 "+ needs numbers, but items.name is VARCHAR");
    expect_error(alch_select_columns(alch_concat(ALCH_COL(Item, id), ALCH_COL(Item, price))),
                 ALCH_ETYPE, "|| joins text, but neither side is text");
    expect_error(alch_select_columns(alch_div(ALCH_COL(Item, price), 0)), ALCH_EARGUMENT,
                 "a division by the value 0");
    expect_error(alch_select_columns(alch_add(ALCH_COL(Item, price), "5")), ALCH_ETYPE,
                 "items.price is INTEGER, but the value compared with it is a text");
    expect_error(alch_select_columns(alch_func("lower(x); DROP TABLE items; --", ALCH_TEXT,
                                               ALCH_COL(Item, name))),
                 ALCH_EARGUMENT, "is not a function name");
    expect_error(alch_select_columns(alch_extract("yaer", ALCH_COL(Item, price))), ALCH_EARGUMENT,
                 "EXTRACT has no field 'yaer' (did you mean 'year'?)");
    expect_error(alch_select_columns(alch_extract("year", ALCH_COL(Item, price))), ALCH_ETYPE,
                 "EXTRACT reads a date or a timestamp, but items.price is INTEGER");
    expect_error(alch_select_columns(
                     alch_case(alch_gt(ALCH_COL(Item, price), 500), "dear", ALCH_COL(Item, price))),
                 ALCH_ETYPE, "the results of a CASE must have one type, but a text is TEXT and items.price is INTEGER");
    expect_error(alch_select_columns(alch_case(ALCH_COL(Item, price), "x")), ALCH_ETYPE,
                 "WHEN needs a condition, but items.price is INTEGER");
    expect_error(alch_set(alch_update(&Item_model), ALCH_COL(Item, price),
                          alch_func("lower", ALCH_TEXT, ALCH_COL(Item, name))),
                 ALCH_ETYPE, "items.price is INTEGER, but the expression given for it is TEXT");
    st = alch_select_columns(ALCH_COL(Item, category), alch_sum(ALCH_COL(Item, price)));
    alch_group_by(st, ALCH_COL(Item, category));
    alch_having(st, alch_gt(alch_over(alch_rank(), NULL, ALCH_COL(Item, category)), 1));
    expect_error(st, ALCH_EMISUSE, "cannot be used in HAVING");
    expect_error(alch_with_for_update(alch_select_columns(alch_count_all(), ALCH_COL(Item, id)),
                                      ALCH_FOR_SHARE, ALCH_NOWAIT),
                 ALCH_EMISUSE, "FOR SHARE cannot be used with an aggregate");
    expect_error(alch_except(alch_select_columns(ALCH_COL(Item, id)),
                             alch_select_columns(ALCH_COL(Item, name))),
                 ALCH_ETYPE, "EXCEPT: column 1 is BIGINT on the first side, VARCHAR on the second");
    expect_error(alch_where_pk_in(alch_delete(&history), NULL, 0), ALCH_EARGUMENT,
                 "pgbench_history has no primary key to list");
    expect_error(alch_insert_select(alch_insert(&Tag_model), alch_select_columns(ALCH_COL(Item, id)),
                                    ALCH_COL(Tag, label), ALCH_COL(Tag, hits)),
                 ALCH_EARGUMENT, "INSERT ... SELECT: 2 target columns, but the SELECT gives 1");
    expect_error(alch_insert_select(alch_insert(&Tag_model), alch_select_columns(ALCH_COL(Item, id)),
                                    ALCH_COL(Tag, label)),
                 ALCH_ETYPE, "tags.label is VARCHAR, but the SELECT gives BIGINT for it");

    /* a CTE's columns are read by name: an unnamed one is refused when it is made */
    alch_error err = ALCH_ERROR_INIT;
    alch_cte *cte = NULL;
    assert_int_equal(alch_cte_create("t", alch_select_columns(alch_count_all(), ALCH_COL(Item, id)),
                                     &cte, &err),
                     ALCH_EARGUMENT);
    assert_null(cte);
    assert_string_equal(err.message, "column 1 of CTE 't' has no name: a CTE's columns are read "
                                     "by name");
    alch_error_clear(&err);
    CHECK_OK(alch_cte_create("t", alch_select_columns(ALCH_COL(Item, id)), &cte, &err), err);
    assert_int_equal(alch_cte_recursive(cte, alch_select_columns(ALCH_COL(Item, id),
                                                                 ALCH_COL(Item, name)),
                                        true, &err),
                     ALCH_EARGUMENT);
    assert_non_null(strstr(err.message, "selects 2 columns, its start 1"));
    alch_error_clear(&err);
    alch_cte_free(cte);

    /* alch_stmt_error() tells early; a mistake does not stop later calls from chaining */
    st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, price), (bool)true));
    alch_order_by(st, ALCH_COL(Item, id));
    assert_non_null(alch_stmt_error(st));
    assert_int_equal(alch_stmt_error(st)->code, ALCH_ETYPE);
    alch_stmt_free(st);

    /* an expression never given to a statement is freed with alch_expr_free() */
    alch_expr_free(alch_and(alch_eq(ALCH_COL(Item, id), 1), alch_eq(ALCH_COL(Item, id), 2)));
}

/* ---- locks: two sessions ------------------------------------------------------------------ */

/* The rows of a statement run in a session, as rows_text() writes them. */
static const char *run_text(alch_session *s, alch_stmt *st)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_result *res = NULL;
    CHECK_OK(alch_session_execute(s, st, &res, &err), err);
    const char *text = rows_text(res);
    alch_result_free(res);
    return text;
}

/* transfers has two foreign keys to pgbench_accounts: alch_join() cannot choose between them
 * from either side and names both (SQLAlchemy refuses too: "more than one foreign key");
 * alch_join_on() names one, and each reaches its own rows on the server. Accounts 1 and 2 are
 * in branch 1, accounts 3 and 4 in branch 2. */
static void test_two_foreign_keys(void **state)
{
    (void)state;
    alch_stmt *st = alch_select_columns(alch_col(&transfers, "id"), alch_col(&accounts, "bid"));
    expect_error(alch_join(st, &accounts), ALCH_EARGUMENT,
                 "more than one foreign key links pgbench_accounts to the statement's tables: "
                 "transfers.from_aid and transfers.to_aid");
    st = alch_select_columns(alch_col(&accounts, "aid"));
    expect_error(alch_join(st, &transfers), ALCH_EARGUMENT,
                 "more than one foreign key links transfers to the statement's tables: "
                 "transfers.from_aid and transfers.to_aid");
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(maker, &s, &err), err);
    static const char *const along[][2] = {{"from_aid", "1|1;2|2"}, {"to_aid", "1|2;2|1"}};
    for (size_t i = 0; i < ALCH_COUNT(along); i++) {
        st = alch_select_columns(alch_col(&transfers, "id"), alch_col(&accounts, "bid"));
        alch_join_on(st, &accounts,
                     alch_eq(alch_col(&transfers, along[i][0]), alch_col(&accounts, "aid")));
        alch_order_by(st, alch_col(&transfers, "id"));
        assert_string_equal(run_text(s, st), along[i][1]);
        alch_stmt_free(st);
    }
    alch_session_close(s);
}

/* A join along a foreign key asks the mapper when a session runs it: alch_base_check()
 * resolved items.category once (its target's mapper and column, by pointer). Rendered alone,
 * the same statement follows the model-level rule by name, and both give the same SQL; the
 * session's rows come from the server along the resolved key. */
static void test_join_via_mapper(void **state)
{
    (void)state;
    const alch__mapper *im = alch__base_mapper(base, &Item_model);
    const alch__mapper *cm = alch__base_mapper(base, &Category_model);
    assert_non_null(im);
    assert_non_null(cm);
    assert_int_equal(im->nfks, 1);
    assert_ptr_equal(im->fks[0].col, alch_model_column(&Item_model, "category"));
    assert_ptr_equal(im->fks[0].target, cm);
    assert_ptr_equal(im->fks[0].ref, alch_model_column(&Category_model, "id"));
    assert_int_equal(cm->nfks, 0);

    alch_stmt *alone = alch_select(&Category_model);
    alch_join(alone, &Item_model);
    const char *sql = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_stmt_sql(alone, &sql, &err), err);

    alch_session *s = NULL;
    CHECK_OK(alch_session_open(maker, &s, &err), err);
    /* categories with an item over 500: Oolong (700, Tea) and Espresso (550, Coffee) */
    alch_stmt *st = alch_select(&Category_model);
    alch_join(st, &Item_model);
    alch_where(st, alch_gt(ALCH_COL(Item, price), 500));
    alch_order_by(st, ALCH_COL(Category, id));
    alch_list got = {0};
    CHECK_OK(alch_session_scalars(s, st, &got, &err), err);
    assert_int_equal(got.count, 2);
    assert_string_equal(((Category *)got.items[0])->name, "Tea");
    assert_string_equal(((Category *)got.items[1])->name, "Coffee");
    const char *ran = NULL;
    CHECK_OK(alch_stmt_sql(st, &ran, &err), err);
    assert_string_equal(ran, "SELECT categories.id, categories.name FROM categories JOIN items ON "
                             "items.category = categories.id WHERE items.price > $1 ORDER BY "
                             "categories.id");
    assert_non_null(strstr(ran, sql + strlen("SELECT categories.id, categories.name ")));
    /* no foreign key between users and items, with the mappers too */
    alch_stmt *none = alch_select(&User_model);
    alch_join(none, &Item_model);
    assert_int_equal(alch_session_scalars(s, none, &got, &err), ALCH_EARGUMENT);
    assert_non_null(strstr(err.message, "no foreign key links items to the tables of this "
                                        "statement: give the condition with alch_join_on()"));
    alch_error_clear(&err);
    alch_session_close(s);
    alch_stmt_free(st);
    alch_stmt_free(none);
    alch_stmt_free(alone);
}

/* Two workers take jobs from one queue (the items of category 1): SKIP LOCKED gives each its
 * own row; NOWAIT fails at once on a row the other holds, and succeeds once it is released. */
static void test_locks(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    alch_session *a = NULL, *b = NULL;
    CHECK_OK(alch_session_open(maker, &a, &err), err);
    CHECK_OK(alch_session_open(maker, &b, &err), err);
    /* should a lock clause go missing, b fails after 5 s instead of waiting for ever (SET is
     * undone by b's rollback below) */
    CHECK_OK(alch_session_execute_text(b, "SET lock_timeout = '5s'", NULL, 0, NULL, &err), err);
    alch_stmt *take = alch_select_columns(ALCH_COL(Item, id));
    alch_where(take, alch_eq(ALCH_COL(Item, category), 1));
    alch_order_by(take, ALCH_COL(Item, id));
    alch_limit(take, 1);
    alch_with_for_update(take, ALCH_FOR_UPDATE, ALCH_SKIP_LOCKED);
    assert_string_equal(run_text(a, take), "1");
    assert_string_equal(run_text(b, take), "2"); /* row 1 is a's: b skips it */
    assert_string_equal(run_text(a, take), "1"); /* a's own lock does not stop a */

    alch_stmt *nowait = alch_select_columns(ALCH_COL(Item, name));
    alch_where(nowait, alch_eq(ALCH_COL(Item, id), 1));
    alch_with_for_update(nowait, ALCH_FOR_SHARE, ALCH_NOWAIT);
    alch_result *res = NULL;
    int rc = alch_session_execute(b, nowait, &res, &err);
    assert_true(rc < 0);
    assert_null(res);
    assert_string_equal(err.sqlstate, "55P03"); /* lock_not_available */
    alch_error_clear(&err);
    CHECK_OK(alch_session_rollback(b, &err), err);

    alch_session_close(a); /* rolls back: the lock goes */
    assert_string_equal(run_text(b, nowait), "Green tea");
    alch_session_close(b);
    alch_stmt_free(take);
    alch_stmt_free(nowait);
}

/* ---- pgbench's TPC-B transaction, with the builder alone ------------------------------------ */

typedef struct tpcb {
    alch_stmt *account, *balance, *teller, *branch, *history;
} tpcb;

/* UPDATE t SET col = col + :delta WHERE key = :key */
static alch_stmt *add_delta(const alch_model *t, const char *col, const char *key)
{
    alch_expr *c = alch_col(t, col);
    alch_stmt *st = alch_update(t);
    alch_set(st, c, alch_add(c, alch_param("delta")));
    return alch_where(st, alch_eq(alch_col(t, key), alch_param(key)));
}

static tpcb tpcb_build(void)
{
    tpcb t;
    t.account = add_delta(&accounts, "abalance", "aid");
    t.balance = alch_select_columns(alch_col(&accounts, "abalance"));
    alch_where(t.balance, alch_eq(alch_col(&accounts, "aid"), alch_param("aid")));
    t.teller = add_delta(&tellers, "tbalance", "tid");
    t.branch = add_delta(&branches, "bbalance", "bid");
    t.history = alch_insert(&history);
    const char *const cols[] = {"tid", "bid", "aid", "delta"};
    for (size_t i = 0; i < ALCH_COUNT(cols); i++)
        alch_set(t.history, alch_col(&history, cols[i]), alch_param(cols[i]));
    alch_set(t.history, alch_col(&history, "mtime"), alch_func("now", ALCH_TIMESTAMPTZ));
    return t;
}

/* One transaction: the account's new balance, read from its column by name. */
static int64_t tpcb_run(alch_session *s, tpcb *t, int aid, int tid, int bid, int delta)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_stmt *all[] = {t->account, t->balance, t->teller, t->branch, t->history};
    const char *const names[] = {"aid", "tid", "bid", "delta"};
    const int values[] = {aid, tid, bid, delta};
    for (size_t i = 0; i < ALCH_COUNT(all); i++)
        for (size_t j = 0; j < ALCH_COUNT(names); j++) {
            int rc = alch_stmt_bind(all[i], names[j], alch_int(values[j]), &err);
            assert_true(rc == 0 || rc == ALCH_EARGUMENT); /* not every statement has each */
            alch_error_clear(&err);
        }
    int64_t balance = 0;
    for (size_t i = 0; i < ALCH_COUNT(all); i++) {
        alch_result *res = NULL;
        CHECK_OK(alch_session_execute(s, all[i], &res, &err), err);
        size_t col;
        if (all[i] == t->balance) {
            assert_int_equal(alch_result_column_index(res, "abalance", &col), 0);
            CHECK_OK(alch_result_get_int(res, 0, col, &balance, &err), err);
        }
        alch_result_free(res);
    }
    CHECK_OK(alch_session_commit(s, &err), err);
    return balance;
}

static const char *sum_of(alch_session *s, const alch_model *t, const char *col)
{
    alch_stmt *st = alch_select_columns(alch_sum(alch_col(t, col)));
    const char *text = run_text(s, st);
    alch_stmt_free(st);
    return text;
}

static void test_tpcb(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(maker, &s, &err), err);
    tpcb t = tpcb_build();
    const char *sql = NULL;
    CHECK_OK(alch_stmt_sql(t.account, &sql, &err), err);
    assert_string_equal(sql, "UPDATE pgbench_accounts SET abalance = pgbench_accounts.abalance + $1 "
                             "WHERE pgbench_accounts.aid = $2");
    CHECK_OK(alch_stmt_sql(t.history, &sql, &err), err);
    assert_string_equal(sql, "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, "
                             "$2, $3, $4, now())");
    assert_int_equal(tpcb_run(s, &t, 1, 1, 1, 100), 100);
    assert_int_equal(tpcb_run(s, &t, 3, 3, 2, -30), -30);
    assert_int_equal(tpcb_run(s, &t, 1, 2, 1, 5), 105);
    /* a Core table has no struct: its rows are read as columns, and asking for objects says so */
    alch_list objs;
    assert_int_equal(alch_session_scalars(s, t.balance, &objs, &err), ALCH_EMISUSE);
    assert_non_null(strstr(err.message, "this statement returns columns, not objects of a model"));
    alch_error_clear(&err);
    alch_stmt *every = alch_select(&accounts);
    alch_result *res = NULL;
    CHECK_OK(alch_session_execute(s, every, &res, &err), err);
    assert_int_equal(alch_result_scalars(res, &accounts, &objs, &err), ALCH_EMISUSE);
    assert_string_equal(err.message, "pgbench_accounts is a Core table, with no struct to fill: "
                                     "read its rows by column");
    alch_error_clear(&err);
    alch_result_free(res);
    alch_stmt_free(every);
    /* pgbench's consistency check: every balance adds up to the deltas in the history */
    char sums[4][32];
    snprintf(sums[0], sizeof sums[0], "%s", sum_of(s, &accounts, "abalance"));
    snprintf(sums[1], sizeof sums[1], "%s", sum_of(s, &tellers, "tbalance"));
    snprintf(sums[2], sizeof sums[2], "%s", sum_of(s, &branches, "bbalance"));
    snprintf(sums[3], sizeof sums[3], "%s", sum_of(s, &history, "delta"));
    assert_string_equal(sums[0], "75");
    assert_string_equal(sums[1], "75");
    assert_string_equal(sums[2], "75");
    assert_string_equal(sums[3], "87"); /* 12 from the seed rows */
    alch_stmt *rows = alch_select_columns(alch_count_all());
    alch_select_from(rows, &history);
    assert_string_equal(run_text(s, rows), "6");
    alch_stmt_free(rows);
    alch_stmt *all[] = {t.account, t.balance, t.teller, t.branch, t.history};
    for (size_t i = 0; i < ALCH_COUNT(all); i++)
        alch_stmt_free(all[i]);
    alch_session_close(s);
}

/* ---- result shapes ------------------------------------------------------------------------ */

static void test_results(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(maker, &s, &err), err);

    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, category), 1));
    alch_order_by(st, alch_desc(ALCH_COL(Item, price)));
    alch_list items;
    CHECK_OK(alch_session_scalars(s, st, &items, &err), err);
    assert_int_equal(items.count, 3);
    Item *first = items.items[0];
    assert_string_equal(first->name, "Oolong");
    assert_int_equal(first->price, 700);
    assert_int_equal(alch_session_state(s, first), ALCH_PERSISTENT);
    Item *again = NULL;
    CHECK_OK(alch_session_get(s, &Item_model, alch_v(3), (void **)&again, &err), err);
    assert_ptr_equal(again, first); /* one object per row in a session */

    Item *one = NULL;
    assert_int_equal(alch_session_scalar_one(s, st, (void **)&one, &err), ALCH_EMULTIPLE);
    assert_non_null(strstr(err.message, "expected at most one Item, the query returned 3 rows"));
    assert_non_null(err.statement);
    alch_error_clear(&err);
    CHECK_OK(alch_session_first(s, st, (void **)&one, &err), err);
    assert_ptr_equal(one, first);
    alch_stmt_free(st);

    st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), 42));
    assert_int_equal(alch_session_scalar_one(s, st, (void **)&one, &err), ALCH_ENORESULT);
    assert_string_equal(alch_strerror(err.code), "NoResultFound");
    alch_error_clear(&err);
    one = (Item *)1;
    CHECK_OK(alch_session_scalar_one_or_none(s, st, (void **)&one, &err), err);
    assert_null(one);
    alch_stmt_free(st);

    /* without a session: structs owned by the result */
    alch_conn *conn = NULL;
    CHECK_OK(alch_engine_connect(engine, &conn, &err), err);
    alch_stmt *all = alch_order_by(alch_select(&Item_model), ALCH_COL(Item, id));
    alch_result *rows = NULL;
    CHECK_OK(alch_conn_execute(conn, all, &rows, &err), err);
    alch_list mapped;
    CHECK_OK(alch_result_scalars(rows, &Item_model, &mapped, &err), err);
    assert_int_equal(mapped.count, 5);
    assert_string_equal(((Item *)mapped.items[4])->name, "Filter");
    assert_int_equal(((Item *)mapped.items[4])->price, 400);
    assert_int_equal(alch_result_scalars(rows, &Category_model, &mapped, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
    alch_result_free(rows);
    alch_stmt_free(all);
    alch_conn_close(conn);

    /* columns are not objects */
    st = alch_select_columns(ALCH_COL(Item, name));
    assert_int_equal(alch_session_scalars(s, st, &items, &err), ALCH_EMISUSE);
    assert_non_null(strstr(err.message, "returns columns, not objects"));
    alch_error_clear(&err);
    alch_stmt_free(st);

    /* UPDATE ... RETURNING writes the new row into the object the session holds */
    st = alch_update(&Item_model);
    alch_set(st, ALCH_COL(Item, name), "Oolong No. 1");
    alch_where(st, alch_eq(ALCH_COL(Item, id), 3));
    alch_returning_model(st);
    Item *renamed = NULL;
    CHECK_OK(alch_session_scalar_one(s, st, (void **)&renamed, &err), err);
    assert_ptr_equal(renamed, first);
    assert_string_equal(first->name, "Oolong No. 1");
    alch_stmt_free(st);
    CHECK_OK(alch_session_flush(s, &err), err); /* nothing to send: the snapshot is current */

    /* an UPDATE's count, and RETURNING into structs */
    st = alch_update(&Item_model);
    alch_set(st, ALCH_COL(Item, price), 1);
    alch_where(st, alch_gt(ALCH_COL(Item, price), 500));
    alch_result *res = NULL;
    CHECK_OK(alch_session_execute(s, st, &res, &err), err);
    assert_int_equal(alch_result_affected(res), 2);
    alch_result_free(res);
    alch_stmt_free(st);
    st = alch_insert(&Category_model);
    alch_set(st, ALCH_COL(Category, name), "Cocoa");
    alch_returning_model(st);
    Category *cocoa = NULL;
    CHECK_OK(alch_session_scalar_one(s, st, (void **)&cocoa, &err), err);
    assert_true(cocoa->id > 100); /* from the sequence, which the cases before advanced */
    assert_string_equal(cocoa->name, "Cocoa");
    assert_false(cocoa->items.loaded);
    alch_stmt_free(st);
    CHECK_OK(alch_session_rollback(s, &err), err);
    alch_session_close(s);
}

/* ---- one statement, many runs ---------------------------------------------------------------- */

static void test_reuse(void **state)
{
    (void)state;
    FILE *log = tmpfile();
    alch_engine_options o = alch_engine_options_default();
    o.echo = true;
    o.echo_file = log;
    alch_engine *e = NULL;
    alch_sessionmaker *m = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(db_url, &o, &e, &err), err);
    CHECK_OK(alch_sessionmaker_create(e, base, NULL, &m, &err), err);
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(m, &s, &err), err);

    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), alch_param("id")));
    assert_int_equal(alch_stmt_bind(st, "id", alch_v("2"), &err), ALCH_ETYPE);
    alch_error_clear(&err);
    assert_int_equal(alch_stmt_bind(st, "nope", alch_v(2), &err), ALCH_EARGUMENT);
    alch_error_clear(&err);
    const char *names[] = {"Green tea", "Black tea", "Oolong"};
    for (int id = 1; id <= 3; id++) {
        CHECK_OK(alch_stmt_bind(st, "id", alch_v(id), &err), err);
        Item *it = NULL;
        CHECK_OK(alch_session_scalar_one(s, st, (void **)&it, &err), err);
        assert_string_equal(it->name, names[id - 1]);
    }
    alch_stmt_free(st);
    alch_session_close(s);

    char text[8192];
    rewind(log);
    size_t n = fread(text, 1, sizeof text - 1, log);
    text[n] = '\0';
    const char *p = text;
    int prepared = 0, cached = 0;
    while ((p = strstr(p, "[prepared")) != NULL)
        prepared++, p++;
    p = text;
    while ((p = strstr(p, "[cached")) != NULL)
        cached++, p++;
    assert_int_equal(prepared, 1);
    assert_int_equal(cached, 2);
    assert_non_null(strstr(text, "($1=3)"));
    fclose(log);
    alch_sessionmaker_free(m);
    alch_engine_free(e);
}

/* ---- streaming ------------------------------------------------------------------------------ */

static void test_stream_batches(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(maker, &s, &err), err);
    alch_stmt *st = alch_select(&Item_model);
    alch_order_by(st, ALCH_COL(Item, id));
    alch_stream *it = NULL;
    assert_int_equal(alch_session_stream(s, st, 0, &it, &err), ALCH_EARGUMENT);
    alch_error_clear(&err);
    CHECK_OK(alch_session_stream(s, st, 2, &it, &err), err);
    alch_stmt_free(st); /* the cursor has it now */
    alch_list batch;
    int64_t seen = 0;
    size_t batches = 0;
    int rc;
    while ((rc = alch_stream_next(it, &batch, &err)) == 1) {
        batches++;
        for (size_t i = 0; i < batch.count; i++) {
            Item *item = batch.items[i];
            assert_int_equal(item->id, ++seen);
            assert_int_equal(alch_session_state(s, item), ALCH_TRANSIENT); /* not tracked */
        }
    }
    CHECK_OK(rc, err);
    assert_int_equal(seen, 5);
    assert_int_equal(batches, 3); /* 2 + 2 + 1 */
    assert_int_equal(alch_stream_next(it, &batch, &err), 0);
    alch_stream_close(it);

    /* columns: read each batch through its result */
    st = alch_select_columns(ALCH_COL(Item, name));
    alch_where(st, alch_gt(ALCH_COL(Item, price), 400));
    alch_order_by(st, ALCH_COL(Item, name));
    CHECK_OK(alch_session_stream(s, st, 10, &it, &err), err);
    alch_stmt_free(st);
    assert_int_equal(alch_stream_next(it, NULL, &err), 1);
    assert_string_equal(rows_text(alch_stream_result(it)), "Espresso;Green tea;Oolong");
    assert_int_equal(alch_stream_next(it, NULL, &err), 0);

    /* a stream outliving its session reports it, and closing it is still safe */
    alch_stream *orphan = NULL;
    st = alch_select(&Item_model);
    CHECK_OK(alch_session_stream(s, st, 1, &orphan, &err), err);
    alch_stmt_free(st);
    alch_stream_close(it);
    alch_session_close(s);
    assert_int_equal(alch_stream_next(orphan, &batch, &err), ALCH_ECLOSED);
    alch_error_clear(&err);
    alch_stream_close(orphan);
}

/* ---- eager loading (alch_selectin) -------------------------------------------------------- */

static void test_selectin(void **state)
{
    (void)state;
    FILE *log = tmpfile();
    alch_engine_options o = alch_engine_options_default();
    o.echo = true;
    o.echo_file = log;
    alch_engine *e = NULL;
    alch_sessionmaker *m = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(db_url, &o, &e, &err), err);
    CHECK_OK(alch_sessionmaker_create(e, base, NULL, &m, &err), err);
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(m, &s, &err), err);

    /* one-to-many: every category's items, in one more query */
    alch_stmt *st = alch_order_by(alch_select(&Category_model), ALCH_COL(Category, id));
    alch_selectin(st, "items");
    alch_list cats;
    CHECK_OK(alch_session_scalars(s, st, &cats, &err), err);
    alch_stmt_free(st);
    assert_int_equal(cats.count, 3);
    Category *tea = cats.items[0], *coffee = cats.items[1], *empty = cats.items[2];
    assert_true(tea->items.loaded && coffee->items.loaded && empty->items.loaded);
    assert_int_equal(tea->items.count, 3);
    assert_int_equal(coffee->items.count, 2);
    assert_int_equal(empty->items.count, 0);
    assert_string_equal(((Item *)tea->items.items[2])->name, "Oolong");

    /* many-to-one: every item's category; the categories are the session's objects */
    st = alch_order_by(alch_select(&Item_model), ALCH_COL(Item, id));
    alch_selectin(st, "category_obj");
    alch_list items;
    CHECK_OK(alch_session_scalars(s, st, &items, &err), err);
    alch_stmt_free(st);
    for (size_t i = 0; i < items.count; i++) {
        Item *it = items.items[i];
        assert_true(it->category_obj.loaded);
        assert_ptr_equal(it->category_obj.obj, it->category == 1 ? (void *)tea : (void *)coffee);
    }

    /* scalar_one with selectin, and an unknown name */
    st = alch_where(alch_select(&Category_model), alch_eq(ALCH_COL(Category, id), 3));
    alch_selectin(st, "itemz");
    Category *c = NULL;
    assert_int_equal(alch_session_scalar_one(s, st, (void **)&c, &err), ALCH_EARGUMENT);
    assert_non_null(strstr(err.message, "has no relationship named 'itemz'"));
    alch_error_clear(&err);
    alch_stmt_free(st);
    alch_stmt *cols = alch_selectin(alch_select_columns(ALCH_COL(Item, id)), "x");
    assert_non_null(alch_stmt_error(cols)); /* columns have no relationships */
    alch_stmt_free(cols);
    alch_session_close(s);

    char text[16384];
    rewind(log);
    size_t n = fread(text, 1, sizeof text - 1, log);
    text[n] = '\0';
    assert_non_null(strstr(text, "WHERE items.category IN ($1, $2, $3) ORDER BY items.id"));
    assert_non_null(strstr(text, "WHERE categories.id IN ($1, $2, $3, $4, $5) ORDER BY"));
    fclose(log);
    alch_sessionmaker_free(m);
    alch_engine_free(e);
}

/* ---- the async face ------------------------------------------------------------------------- */

typedef struct async_run {
    alch_stmt *st;
    int status;
    size_t count;
    bool done;
} async_run;

static void on_scalars(alch_session *s, int status, const alch_list *objs, const alch_error *err,
                       void *data)
{
    (void)err;
    async_run *run = data;
    run->status = status;
    run->count = status == 0 ? objs->count : 0;
    run->done = true;
    alch_session_close(s); /* closing the session inside its own callback is allowed */
}

typedef struct async_shapes {
    int calls, results, nulls, noresult;
    char first_name[32];
} async_shapes;

static void on_shape_object(alch_session *s, int status, void *obj, const alch_error *err,
                            void *data)
{
    (void)err;
    async_shapes *sh = data;
    sh->calls++;
    if (status == ALCH_ENORESULT)
        sh->noresult++;
    else if (status == 0 && !obj)
        sh->nulls++;
    else if (status == 0 && alch_session_state(s, obj) == ALCH_PERSISTENT)
        snprintf(sh->first_name, sizeof sh->first_name, "%s", ((Item *)obj)->name);
    alch_session_close(s);
}

static void on_shape_result(alch_session *s, int status, alch_result *res, const alch_error *err,
                            void *data)
{
    (void)err;
    async_shapes *sh = data;
    sh->calls++;
    if (status == 0 && res)
        sh->results++;
    alch_result_free(res);
    alch_session_close(s);
}

/* The stream's async face: declare, then batch after batch from the callback itself. */
typedef struct async_stream {
    alch_session *s;
    int64_t last_id;
    size_t rows, batches, ends;
    int status;
    bool closed_early;
} async_stream;

static void on_batch(alch_stream *it, int status, const alch_list *batch, const alch_error *err,
                     void *data)
{
    (void)err;
    async_stream *as = data;
    if (status < 0 || status == 0) {
        as->status = status;
        as->ends++;
        alch_stream_close(it);
        alch_session_close(as->s);
        return;
    }
    as->batches++;
    for (size_t i = 0; i < batch->count; i++) {
        Item *item = batch->items[i];
        assert_true(item->id > as->last_id); /* in order, every row once */
        as->last_id = item->id;
        as->rows++;
    }
    assert_int_equal(alch_stream_next_async(it, on_batch, as), 0);
    assert_int_equal(alch_stream_next_async(it, on_batch, as), ALCH_EBUSY); /* one at a time */
}

static void on_declared_stream(alch_stream *it, int status, const alch_list *batch,
                               const alch_error *err, void *data)
{
    (void)batch;
    (void)err;
    async_stream *as = data;
    assert_int_equal(status, 0);
    assert_non_null(it);
    if (as->closed_early) { /* closing while a batch is on its way is allowed */
        assert_int_equal(alch_stream_next_async(it, on_batch, as), 0);
        alch_stream_close(it);
        return;
    }
    assert_int_equal(alch_stream_next_async(it, on_batch, as), 0);
}

static void test_async(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine *e = NULL;
    alch_sessionmaker *m = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, NULL, &e, &err), err);
    CHECK_OK(alch_sessionmaker_create(e, base, NULL, &m, &err), err);
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(m, &s, &err), err);
    async_run run = {.st = alch_select(&Item_model)};
    alch_where(run.st, alch_ge(ALCH_COL(Item, price), 450));
    assert_int_equal(alch_session_scalars(s, run.st, NULL, &err), ALCH_EMISUSE); /* wrong face */
    alch_error_clear(&err);
    CHECK_OK(alch_session_scalars_async(s, run.st, on_scalars, &run), err);
    /* one session per task */
    async_shapes refused = {0};
    assert_int_equal(alch_session_execute_async(s, run.st, on_shape_result, &refused), ALCH_EBUSY);
    assert_non_null(strstr(alch_session_start_error(s)->message, "one session per task"));
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(run.done);
    assert_int_equal(refused.calls, 0);
    assert_int_equal(run.status, 0);
    assert_int_equal(run.count, 3);

    /* the other shapes, each in a session of its own */
    async_shapes shapes = {0};
    alch_stmt *first = alch_order_by(alch_select(&Item_model), alch_desc(ALCH_COL(Item, price)));
    alch_stmt *one = alch_select_columns(alch_count_all());
    alch_select_from(one, &Item_model);
    alch_stmt *exec = alch_select_columns(ALCH_COL(Item, name));
    alch_stmt *none = alch_where(alch_select(&Item_model), alch_eq(ALCH_COL(Item, id), 777));
    alch_session *ss[5];
    for (int i = 0; i < 5; i++)
        CHECK_OK(alch_session_open(m, &ss[i], &err), err);
    CHECK_OK(alch_session_first_async(ss[0], first, on_shape_object, &shapes), err);
    CHECK_OK(alch_session_one_async(ss[1], one, on_shape_result, &shapes), err);
    CHECK_OK(alch_session_execute_async(ss[2], exec, on_shape_result, &shapes), err);
    CHECK_OK(alch_session_scalar_one_or_none_async(ss[3], none, on_shape_object, &shapes), err);
    CHECK_OK(alch_session_scalar_one_async(ss[4], none, on_shape_object, &shapes), err);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(shapes.calls, 5);
    assert_string_equal(shapes.first_name, "Oolong");
    assert_int_equal(shapes.results, 2);  /* one and exec handed over a result */
    assert_int_equal(shapes.nulls, 1);    /* one_or_none found nothing */
    assert_int_equal(shapes.noresult, 1); /* scalar_one found nothing: NoResultFound */
    /* a stream, async: two rows a batch */
    async_stream as = {0};
    alch_stmt *all = alch_order_by(alch_select(&Item_model), ALCH_COL(Item, id));
    CHECK_OK(alch_session_open(m, &as.s, &err), err);
    assert_int_equal(alch_session_stream_async(as.s, all, 0, on_declared_stream, &as),
                     ALCH_EARGUMENT);
    assert_non_null(strstr(alch_session_start_error(as.s)->message, "batch size"));
    CHECK_OK(alch_session_stream_async(as.s, all, 2, on_declared_stream, &as), err);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(as.status, 0);
    assert_int_equal(as.ends, 1);
    assert_int_equal(as.rows, 5);
    assert_int_equal(as.batches, 3); /* 2 + 2 + 1 */
    /* closed while its first batch is on its way: no callback, nothing leaks */
    async_stream early = {.closed_early = true};
    CHECK_OK(alch_session_open(m, &early.s, &err), err);
    CHECK_OK(alch_session_stream_async(early.s, all, 2, on_declared_stream, &early), err);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(early.batches + early.ends, 0);
    alch_session_close(early.s);
    uv_run(&loop, UV_RUN_DEFAULT);
    alch_stmt_free(all);

    alch_stmt_free(first);
    alch_stmt_free(one);
    alch_stmt_free(exec);
    alch_stmt_free(none);
    alch_stmt_free(run.st);
    alch_sessionmaker_free(m);
    alch_engine_free(e);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_injection),
        cmocka_unit_test(test_mistakes),
        cmocka_unit_test(test_results),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_async),
        cmocka_unit_test(test_stream_batches),
        cmocka_unit_test(test_selectin),
        cmocka_unit_test(test_locks),
        cmocka_unit_test(test_tpcb),
        cmocka_unit_test(test_two_foreign_keys),
        cmocka_unit_test(test_join_via_mapper),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
