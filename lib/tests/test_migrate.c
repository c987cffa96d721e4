/* Migrations and the schema diff against a real server: the diff of a hand-made schema with
 * the exact DDL, applied through a step and diffed again (empty); create_all's schema diffs
 * empty for every type and option; upgrade, current, history and a second run that changes
 * nothing; a failing step rolled back with the step named; the downgrade round trip; two
 * processes upgrading at once, each step applied once; mistakes in the list; the SQL
 * splitter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <alch/alch.h>

#include "migrate/migrate_internal.h"
#include "support.h"

static char *db_url; /* this test's own database, made afresh for each test */

static int setup(void **state)
{
    (void)state;
    db_url = alch_test_db_create("migrate");
    return db_url ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    alch_test_db_drop(db_url);
    db_url = NULL;
    return 0;
}

#define ASSERT_HAS(s, part)                                                                        \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        if (!s_ || !strstr(s_, (part)))                                                            \
            fail_msg("%s:%d: expected \"%s\" in \"%s\"", __FILE__, __LINE__, (part),               \
                     s_ ? s_ : "(null)");                                                          \
    } while (0)

static alch_conn *open_conn(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *conn = NULL;
    CHECK_OK(alch_conn_open(db_url, &conn, &err), err);
    return conn;
}

/* Run SQL behind alch's back (libpq), failing the test on error. */
static void raw(const char *sql)
{
    PGconn *pg = alch_test_pq(db_url);
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    PQclear(r);
    PQfinish(pg);
}

/* The first cell of a query, as text ("" for NULL); malloc'd. */
static char *raw_value(const char *sql)
{
    PGconn *pg = alch_test_pq(db_url);
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    char *v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(pg);
    return v;
}

static void assert_value(const char *sql, const char *want)
{
    char *got = raw_value(sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s: expected \"%s\", got \"%s\"", sql, want, got);
    free(got);
}

/* ---- the models of the diff ----------------------------------------------------------- */

typedef struct Category {
    int64_t id;
    char *name;
} Category;

static const alch_column category_columns[] = {
    ALCH_COLUMN(Category, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Category, name, ALCH_VARCHAR, .length = 25, .unique = true),
};
static const alch_model Category_model = ALCH_MODEL(Category, "categories", category_columns);

typedef struct Item {
    int64_t id;
    char *name;
    char *description;
    int32_t price;
    alch_opt_i32 quantity;
    int64_t category;
    char *sku;
    alch_timestamp created;
    char *code;
} Item;

static const alch_column item_columns[] = {
    ALCH_COLUMN(Item, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Item, name, ALCH_VARCHAR, .length = 40, .index = true),
    ALCH_COLUMN(Item, description, ALCH_TEXT, .nullable = true),
    ALCH_COLUMN(Item, price, ALCH_INTEGER),
    ALCH_COLUMN(Item, quantity, ALCH_INTEGER, .server_default = "0"),
    ALCH_COLUMN(Item, category, ALCH_BIGINT, .foreign_key = "categories.id",
                .on_delete = ALCH_CASCADE),
    ALCH_COLUMN(Item, sku, ALCH_TEXT, .nullable = true, .unique = true),
    ALCH_COLUMN(Item, created, ALCH_TIMESTAMPTZ, .server_default = "now()"),
    ALCH_COLUMN(Item, code, ALCH_VARCHAR, .length = 10),
};
static const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns);

typedef struct Review {
    int64_t id;
    int64_t item;
    int16_t stars;
    char *text;
} Review;

static const alch_column review_columns[] = {
    ALCH_COLUMN(Review, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Review, item, ALCH_BIGINT, .foreign_key = "items.id"),
    ALCH_COLUMN(Review, stars, ALCH_SMALLINT, .index = true),
    ALCH_COLUMN(Review, text, ALCH_TEXT, .server_default = "'none'"),
};
static const alch_model Review_model = ALCH_MODEL(Review, "reviews", review_columns);

/* Every SQL type and option, as in test_base. */
typedef struct Sample {
    int16_t id;
    int32_t i;
    alch_opt_bool b;
    float r;
    double d;
    char *n;
    char *t;
    alch_date day;
    char *u;
    alch_blob bytes;
    char *doc;
    alch_opt_i64 review;
    char *status;
} Sample;

static const alch_column sample_columns[] = {
    ALCH_COLUMN(Sample, id, ALCH_SMALLINT, .primary_key = true),
    ALCH_COLUMN(Sample, i, ALCH_INTEGER, .unique = true, .index = true),
    ALCH_COLUMN(Sample, b, ALCH_BOOLEAN, .server_default = "false"),
    ALCH_COLUMN(Sample, r, ALCH_REAL),
    ALCH_COLUMN(Sample, d, ALCH_DOUBLE),
    ALCH_COLUMN(Sample, n, ALCH_NUMERIC, .nullable = true),
    ALCH_COLUMN(Sample, t, ALCH_TEXT, .index = true),
    ALCH_COLUMN(Sample, day, ALCH_DATE, .nullable = true),
    ALCH_COLUMN(Sample, u, ALCH_UUID, .nullable = true),
    ALCH_COLUMN(Sample, bytes, ALCH_BYTEA, .nullable = true),
    ALCH_COLUMN(Sample, doc, ALCH_JSONB, .server_default = "'{}'::jsonb"),
    ALCH_COLUMN(Sample, review, ALCH_BIGINT, .nullable = true, .foreign_key = "reviews.id",
                .on_delete = ALCH_SET_NULL),
    ALCH_COLUMN(Sample, status, ALCH_VARCHAR, .length = 20, .server_default = "'new'"),
};
static const alch_model Sample_model = ALCH_MODEL(Sample, "samples", sample_columns);

static alch_base *shop_base(bool with_samples)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_base *base = NULL;
    CHECK_OK(alch_base_create(&base, &err), err);
    CHECK_OK(alch_base_add(base, &Review_model, &err), err);
    CHECK_OK(alch_base_add(base, &Item_model, &err), err);
    CHECK_OK(alch_base_add(base, &Category_model, &err), err);
    if (with_samples)
        CHECK_OK(alch_base_add(base, &Sample_model, &err), err);
    return base;
}

static char *diff_of(alch_base *base, alch_conn *conn, unsigned flags)
{
    alch_error err = ALCH_ERROR_INIT;
    char *ddl = NULL;
    CHECK_OK(alch_base_diff(base, conn, flags, &ddl, &err), err);
    assert_false(alch_conn_in_transaction(conn));
    return ddl;
}

/* ---- the diff ------------------------------------------------------------------------ */

/* The database as an older program left it, one difference of each kind from the models. */
static const char old_schema[] =
    "CREATE TABLE categories (id BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL,"
    " name VARCHAR(25) NOT NULL, CONSTRAINT pk_categories PRIMARY KEY (id));"
    "CREATE TABLE items (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " name VARCHAR(25) NOT NULL, description TEXT NOT NULL, price SMALLINT NOT NULL,"
    " category BIGINT NOT NULL CONSTRAINT fk_items_category_categories"
    " REFERENCES categories (id),"
    " created TIMESTAMP WITH TIME ZONE NOT NULL, code VARCHAR(20) NOT NULL, weight INTEGER);"
    "CREATE INDEX items_price_idx ON items (price);"
    "CREATE TABLE legacy (id INTEGER);"
    "INSERT INTO categories (name) VALUES ('Fruit');"
    "INSERT INTO items (name, description, price, category, created, code, weight)"
    " VALUES ('Apple', 'red', 3, 1, now(), 'A1', 100);";

static const char expected_diff[] =
    "ALTER TABLE categories ADD CONSTRAINT uq_categories_name UNIQUE (name);\n"
    "ALTER TABLE items DROP CONSTRAINT fk_items_category_categories;\n"
    "ALTER TABLE items RENAME CONSTRAINT items_pkey TO pk_items;\n"
    "DROP INDEX items_price_idx;\n"
    "ALTER TABLE items ALTER COLUMN name TYPE VARCHAR(40);\n"
    "ALTER TABLE items ALTER COLUMN description DROP NOT NULL;\n"
    "ALTER TABLE items ALTER COLUMN price TYPE INTEGER;\n"
    "ALTER TABLE items ADD COLUMN quantity INTEGER DEFAULT 0 NOT NULL;\n"
    "ALTER TABLE items ADD COLUMN sku TEXT;\n"
    "ALTER TABLE items ALTER COLUMN created SET DEFAULT now();\n"
    "-- not emitted, it would lose data: ALTER TABLE items ALTER COLUMN code TYPE VARCHAR(10) "
    "USING code::VARCHAR(10);\n"
    "-- not emitted, it would lose data: ALTER TABLE items DROP COLUMN weight;\n"
    "ALTER TABLE items ADD CONSTRAINT uq_items_sku UNIQUE (sku);\n"
    "ALTER TABLE items ADD CONSTRAINT fk_items_category_categories FOREIGN KEY (category) "
    "REFERENCES categories (id) ON DELETE CASCADE;\n"
    "CREATE INDEX ix_items_name ON items (name);\n"
    "CREATE TABLE reviews (\n"
    "    id BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL,\n"
    "    item BIGINT NOT NULL,\n"
    "    stars SMALLINT NOT NULL,\n"
    "    text TEXT DEFAULT 'none' NOT NULL,\n"
    "    CONSTRAINT pk_reviews PRIMARY KEY (id),\n"
    "    CONSTRAINT fk_reviews_item_items FOREIGN KEY (item) REFERENCES items (id)\n"
    ");\n"
    "CREATE INDEX ix_reviews_stars ON reviews (stars);\n"
    "-- not emitted, it would lose data: DROP TABLE legacy;\n";

static void test_diff_each_kind(void **state)
{
    (void)state;
    raw(old_schema);
    alch_base *base = shop_base(false);
    alch_conn *conn = open_conn();

    char *ddl = diff_of(base, conn, 0);
    assert_string_equal(ddl, expected_diff);
    free(ddl);

    /* with the flag, the same statements with the destructive ones emitted */
    ddl = diff_of(base, conn, ALCH_DIFF_DESTRUCTIVE);
    assert_null(strstr(ddl, "-- not emitted"));
    ASSERT_HAS(ddl, "\nALTER TABLE items ALTER COLUMN code TYPE VARCHAR(10) USING "
                    "code::VARCHAR(10);\nALTER TABLE items DROP COLUMN weight;\n");
    ASSERT_HAS(ddl, ");\nCREATE INDEX ix_reviews_stars ON reviews (stars);\nDROP TABLE legacy;\n");

    /* tables of other programs left alone */
    char *mine = diff_of(base, conn, ALCH_DIFF_DESTRUCTIVE | ALCH_DIFF_MODEL_TABLES);
    assert_null(strstr(mine, "legacy"));
    assert_int_equal(strlen(mine) + strlen("DROP TABLE legacy;\n"), strlen(ddl));
    free(mine);

    /* applied as a migration step, the diff is empty and the row kept its data */
    alch_migration steps[] = {{.id = "0002_models", .description = "the diff", .upgrade = ddl}};
    alch_migrations list = ALCH_MIGRATIONS(steps);
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_migrate_upgrade(conn, &list, NULL, NULL, &err), err);
    free(ddl);
    ddl = diff_of(base, conn, ALCH_DIFF_DESTRUCTIVE);
    assert_string_equal(ddl, "");
    free(ddl);
    assert_value("SELECT format('%s %s %s %s', name, price, quantity, code) FROM items",
                 "Apple 3 0 A1");

    alch_conn_close(conn);
    alch_base_free(base);
}

/* What create_all makes is what the diff expects: every type, option and constraint. */
static void test_diff_after_create_all(void **state)
{
    (void)state;
    alch_base *base = shop_base(true);
    alch_conn *conn = open_conn();
    alch_error err = ALCH_ERROR_INIT;
    char *ddl = diff_of(base, conn, 0);
    ASSERT_HAS(ddl, "CREATE TABLE samples (\n");
    free(ddl);
    CHECK_OK(alch_base_create_all(base, conn, &err), err);
    ddl = diff_of(base, conn, ALCH_DIFF_DESTRUCTIVE);
    assert_string_equal(ddl, "");
    free(ddl);

    /* a default changed by hand, and an index dropped, show up; the version table does not */
    raw("ALTER TABLE samples ALTER COLUMN status SET DEFAULT 'old'; DROP INDEX ix_samples_t;"
        "CREATE TABLE alch_version (id TEXT)");
    ddl = diff_of(base, conn, 0);
    assert_string_equal(ddl, "ALTER TABLE samples ALTER COLUMN status SET DEFAULT 'new';\n"
                             "CREATE INDEX ix_samples_t ON samples (t);\n");
    free(ddl);
    alch_conn_close(conn);
    alch_base_free(base);
}

static void test_diff_mistakes(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    char *ddl = (char *)"untouched";
    assert_int_equal(alch_base_diff(NULL, NULL, 0, &ddl, &err), ALCH_EMISUSE);
    ASSERT_HAS(err.message, "alch_base_diff needs a base");
    alch_error_clear(&err);
}

/* ---- upgrade, current, history ------------------------------------------------------- */

static int fill_fruit(alch_conn *conn, void *data, alch_error *err)
{
    const char *const *names = data;
    for (; *names; names++) {
        alch_value v = alch_text(*names);
        int rc =
            alch_conn_execute_text(conn, "INSERT INTO fruit (name) VALUES ($1)", &v, 1, NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int empty_fruit(alch_conn *conn, void *data, alch_error *err)
{
    (void)data;
    return alch_conn_execute_text(conn, "DELETE FROM fruit", NULL, 0, NULL, err);
}

static const char *const fruit_names[] = {"apple", "pear", NULL};

static const alch_migration fruit_steps[] = {
    {.id = "0001_fruit",
     .description = "a table of fruit",
     .upgrade = "CREATE TABLE fruit (id SERIAL PRIMARY KEY, name TEXT NOT NULL);\n"
                "-- a comment; with a semicolon\n"
                "COMMENT ON TABLE fruit IS 'what; we sell'",
     .downgrade = "DROP TABLE fruit"},
    {.id = "0002_fill",
     .description = "two fruit, from C",
     .upgrade_fn = fill_fruit,
     .downgrade_fn = empty_fruit,
     .data = (void *)fruit_names},
    {.id = "0003_color",
     .description = "fruit have a color",
     .upgrade = "ALTER TABLE fruit ADD COLUMN color TEXT DEFAULT 'green' NOT NULL;",
     .downgrade = "ALTER TABLE fruit DROP COLUMN color;"},
};
static const alch_migrations fruit = ALCH_MIGRATIONS(fruit_steps);

static char *history_of(alch_conn *conn, const alch_migrations *m)
{
    alch_error err = ALCH_ERROR_INIT;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    CHECK_OK(alch_migrate_history(conn, m, f, &err), err);
    fclose(f);
    return text;
}

static const char *current_of(alch_conn *conn, const alch_migrations *m)
{
    alch_error err = ALCH_ERROR_INIT;
    const char *id = "unset";
    CHECK_OK(alch_migrate_current(conn, m, &id, &err), err);
    assert_false(alch_conn_in_transaction(conn));
    return id;
}

static void test_upgrade(void **state)
{
    (void)state;
    alch_conn *conn = open_conn();
    alch_error err = ALCH_ERROR_INIT;
    assert_null(current_of(conn, &fruit)); /* no version table yet: nothing applied */
    char *h = history_of(conn, &fruit);
    assert_string_equal(h, "[ ] 0001_fruit  a table of fruit\n"
                           "[ ] 0002_fill   two fruit, from C\n"
                           "[ ] 0003_color  fruit have a color\n");
    free(h);

    size_t applied = 99;
    CHECK_OK(alch_migrate_upgrade(conn, &fruit, "0002_fill", &applied, &err), err);
    assert_int_equal(applied, 2);
    assert_string_equal(current_of(conn, &fruit), "0002_fill");
    h = history_of(conn, &fruit);
    assert_string_equal(h, "[x] 0001_fruit  a table of fruit\n"
                           "[x] 0002_fill   two fruit, from C\n"
                           "[ ] 0003_color  fruit have a color\n");
    free(h);
    assert_value("SELECT obj_description('fruit'::regclass)", "what; we sell");

    CHECK_OK(alch_migrate_upgrade(conn, &fruit, NULL, &applied, &err), err);
    assert_int_equal(applied, 1);
    assert_string_equal(current_of(conn, &fruit), "0003_color");

    /* a second run changes nothing */
    CHECK_OK(alch_migrate_upgrade(conn, &fruit, NULL, &applied, &err), err);
    assert_int_equal(applied, 0);
    assert_value("SELECT string_agg(name || ':' || color, ',' ORDER BY id) FROM fruit",
                 "apple:green,pear:green");
    assert_value("SELECT string_agg(id || '=' || description, ',' ORDER BY id) FROM alch_version",
                 "0001_fruit=a table of fruit,0002_fill=two fruit, from C,"
                 "0003_color=fruit have a color");
    assert_value("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                 " WHERE l.locktype = 'advisory' AND d.datname = current_database()", "0");

    /* an unknown target is refused before anything is sent, with the closest id */
    assert_int_equal(alch_migrate_upgrade(conn, &fruit, "0003_colour", NULL, &err),
                     ALCH_EARGUMENT);
    assert_string_equal(err.message, "no migration step has the id '0003_colour'");
    assert_string_equal(err.hint, "did you mean '0003_color'?");

    /* a database migrated by a newer program: its step is not in this list */
    alch_migrations older = {fruit_steps, 2};
    assert_int_equal(alch_migrate_upgrade(conn, &older, NULL, NULL, &err), ALCH_EARGUMENT);
    assert_string_equal(err.message, "the database records migration step '0003_color', which "
                                     "this program's list does not have");
    assert_int_equal(alch_migrate_current(conn, &older, &(const char *){NULL}, &err),
                     ALCH_EARGUMENT);
    alch_error_clear(&err);
    alch_conn_close(conn);
}

/* ---- a failing step ------------------------------------------------------------------- */

static const alch_migration failing_steps[] = {
    {.id = "0001_ok", .description = "a table", .upgrade = "CREATE TABLE kept (id INTEGER)"},
    {.id = "0002_bad",
     .description = "half a step",
     .upgrade = "CREATE TABLE half (id INTEGER); INSERT INTO kept VALUES (1);"
                " INSERT INTO nowhere VALUES (1)"},
    {.id = "0003_never", .description = "after the bad one", .upgrade = "CREATE TABLE never (id INTEGER)"},
};

static void test_failing_step(void **state)
{
    (void)state;
    alch_conn *conn = open_conn();
    alch_error err = ALCH_ERROR_INIT;
    alch_migrations list = ALCH_MIGRATIONS(failing_steps);
    size_t applied = 99;
    assert_int_equal(alch_migrate_upgrade(conn, &list, NULL, &applied, &err), ALCH_EPROGRAMMING);
    assert_int_equal(applied, 1);
    assert_string_equal(err.message,
                        "migration step '0002_bad' (half a step) failed to apply and was rolled "
                        "back; the database stays at 0001_ok: relation \"nowhere\" does not exist");
    assert_string_equal(err.sqlstate, "42P01");
    assert_string_equal(err.statement, "INSERT INTO nowhere VALUES (1)");
    assert_string_equal(err.hint, "fix the step and run again: the steps before it are kept");
    assert_false(alch_conn_in_transaction(conn));
    assert_string_equal(current_of(conn, &list), "0001_ok");
    assert_value("SELECT format('%s %s %s', to_regclass('half') IS NULL,"
                 " to_regclass('never') IS NULL, (SELECT count(*) FROM kept))",
                 "t t 0");
    assert_value("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                 " WHERE l.locktype = 'advisory' AND d.datname = current_database()", "0");

    /* fixed, the run goes on from where it stopped */
    alch_migration fixed[3];
    memcpy(fixed, failing_steps, sizeof fixed);
    fixed[1].upgrade = "CREATE TABLE half (id INTEGER)";
    list.steps = fixed;
    CHECK_OK(alch_migrate_upgrade(conn, &list, NULL, &applied, &err), err);
    assert_int_equal(applied, 2);
    assert_string_equal(current_of(conn, &list), "0003_never");
    alch_error_clear(&err);
    alch_conn_close(conn);
}

/* ---- downgrade ------------------------------------------------------------------------ */

static void test_downgrade_round_trip(void **state)
{
    (void)state;
    alch_conn *conn = open_conn();
    alch_error err = ALCH_ERROR_INIT;
    size_t n = 0;
    CHECK_OK(alch_migrate_upgrade(conn, &fruit, NULL, &n, &err), err);
    assert_int_equal(n, 3);

    CHECK_OK(alch_migrate_downgrade(conn, &fruit, "0001_fruit", &n, &err), err);
    assert_int_equal(n, 2);
    assert_string_equal(current_of(conn, &fruit), "0001_fruit");
    assert_value("SELECT format('%s %s', count(*), (SELECT count(*) FROM information_schema.columns"
                 " WHERE table_name = 'fruit' AND column_name = 'color')) FROM fruit",
                 "0 0");

    CHECK_OK(alch_migrate_downgrade(conn, &fruit, NULL, &n, &err), err);
    assert_int_equal(n, 1);
    assert_null(current_of(conn, &fruit));
    assert_value("SELECT to_regclass('fruit') IS NULL", "t");

    CHECK_OK(alch_migrate_downgrade(conn, &fruit, NULL, &n, &err), err); /* nothing left */
    assert_int_equal(n, 0);
    CHECK_OK(alch_migrate_upgrade(conn, &fruit, NULL, &n, &err), err);
    assert_int_equal(n, 3);
    assert_value("SELECT string_agg(name || ':' || color, ',' ORDER BY id) FROM fruit",
                 "apple:green,pear:green");

    /* a step without a downgrade stops the whole downgrade before anything is undone */
    alch_migration one_way[3];
    memcpy(one_way, fruit_steps, sizeof one_way);
    one_way[1].downgrade_fn = NULL;
    alch_migrations list = ALCH_MIGRATIONS(one_way);
    assert_int_equal(alch_migrate_downgrade(conn, &list, NULL, &n, &err), ALCH_EARGUMENT);
    assert_int_equal(n, 0);
    assert_string_equal(err.message, "migration step '0002_fill' has no downgrade, so the "
                                     "database cannot go back past it; nothing was undone");
    assert_string_equal(current_of(conn, &fruit), "0003_color");
    alch_error_clear(&err);
    alch_conn_close(conn);
}

/* ---- two processes at once ------------------------------------------------------------ */

static const alch_migration race_steps[] = {
    {.id = "0001_race", .description = "a table", .upgrade = "CREATE TABLE race (n INTEGER);"
                                                             " SELECT pg_sleep(0.3)"},
    {.id = "0002_two", .description = "a row", .upgrade = "INSERT INTO race VALUES (2)"},
    {.id = "0003_three", .description = "a row", .upgrade = "INSERT INTO race VALUES (3)"},
};

/* A child: wait for the start signal, upgrade, exit with the number of steps it applied (or
 * 100 + the error's code). */
static void racer(int start)
{
    char go;
    if (read(start, &go, 1) != 1)
        _exit(120);
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *conn = NULL;
    if (alch_conn_open(db_url, &conn, &err) != 0)
        _exit(121);
    alch_migrations list = ALCH_MIGRATIONS(race_steps);
    size_t applied = 0;
    int rc = alch_migrate_upgrade(conn, &list, NULL, &applied, &err);
    if (rc) {
        char *text = alch_error_format(&err);
        fprintf(stderr, "racer %d: %s\n", (int)getpid(), text);
        free(text);
    }
    alch_conn_close(conn);
    alch_error_clear(&err);
    _exit(rc ? 100 - rc : (int)applied);
}

static void test_two_processes(void **state)
{
    (void)state;
    int start[2];
    assert_int_equal(pipe(start), 0);
    fflush(NULL);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            close(start[1]);
            racer(start[0]);
        }
    }
    close(start[0]);
    assert_int_equal(write(start[1], "gg", 2), 2); /* both go at once */
    close(start[1]);
    int total = 0;
    for (int i = 0; i < 2; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        int code = WEXITSTATUS(status);
        if (code > 3)
            fail_msg("racer %d failed with exit code %d", i, code);
        total += code;
    }
    assert_int_equal(total, 3); /* each step applied once, by one of the two */
    assert_value("SELECT string_agg(n::text, ',' ORDER BY n) FROM race", "2,3");
    assert_value("SELECT count(*) FROM alch_version", "3");
}

/* ---- mistakes ------------------------------------------------------------------------- */

static void test_list_mistakes(void **state)
{
    (void)state;
    alch_conn *conn = open_conn();
    alch_error err = ALCH_ERROR_INIT;
    alch_migration twice[] = {{.id = "0001_a", .upgrade = "SELECT 1"},
                              {.id = "0001_a", .upgrade = "SELECT 2"}};
    alch_migrations list = ALCH_MIGRATIONS(twice);
    assert_int_equal(alch_migrate_upgrade(conn, &list, NULL, NULL, &err), ALCH_EARGUMENT);
    assert_string_equal(err.message, "migration id '0001_a' is used by steps 1 and 2: each step "
                                     "needs an id of its own");
    twice[1].id = "0002_b";
    twice[1].upgrade_fn = fill_fruit;
    assert_int_equal(alch_migrate_upgrade(conn, &list, NULL, NULL, &err), ALCH_EARGUMENT);
    assert_string_equal(err.message, "migration step '0002_b' needs exactly one of .upgrade (SQL) "
                                     "and .upgrade_fn (C)");
    twice[1].upgrade_fn = NULL;
    twice[0].id = NULL;
    assert_int_equal(alch_migrate_upgrade(conn, &list, NULL, NULL, &err), ALCH_EARGUMENT);
    assert_string_equal(err.message, "migration step 1 has no id");
    twice[0].id = "0001_a";

    CHECK_OK(alch_conn_begin(conn, &err), err);
    assert_int_equal(alch_migrate_upgrade(conn, &list, NULL, NULL, &err), ALCH_EMISUSE);
    assert_string_equal(err.message, "alch_migrate_upgrade: a transaction is open on this "
                                     "connection");
    CHECK_OK(alch_conn_rollback(conn, &err), err);
    assert_value("SELECT to_regclass('alch_version') IS NULL", "t"); /* nothing was sent */

    /* a step inserted before applied ones */
    CHECK_OK(alch_migrate_upgrade(conn, &list, NULL, NULL, &err), err);
    alch_migration inserted[] = {twice[0], {.id = "0001_z", .upgrade = "SELECT 3"}, twice[1]};
    alch_migrations list2 = ALCH_MIGRATIONS(inserted);
    assert_int_equal(alch_migrate_upgrade(conn, &list2, NULL, NULL, &err), ALCH_EARGUMENT);
    assert_string_equal(err.message, "migration step '0001_z' is not applied, but the later "
                                     "step '0002_b' is");
    assert_int_equal(alch_migrate_upgrade(NULL, &list, NULL, NULL, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
    alch_conn_close(conn);
}

/* ---- the splitter ------------------------------------------------------------------------ */

static void test_split(void **state)
{
    (void)state;
    char **s;
    size_t n;
    assert_int_equal(alch__split_sql("SELECT 'a;b'; SELECT \"x;\"\"y\" ;\n"
                                     "-- only a comment; here\n"
                                     ";  CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; "
                                     "$body$ LANGUAGE sql; /* c; */ SELECT $1 ; ",
                                     &s, &n),
                     0);
    assert_int_equal(n, 4);
    assert_string_equal(s[0], "SELECT 'a;b'");
    assert_string_equal(s[1], "SELECT \"x;\"\"y\"");
    assert_string_equal(s[2], "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ "
                              "LANGUAGE sql");
    assert_string_equal(s[3], "/* c; */ SELECT $1");
    alch__split_free(s, n);
    assert_int_equal(alch__split_sql("  ; -- nothing\n", &s, &n), 0);
    assert_int_equal(n, 0);
    alch__split_free(s, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_diff_mistakes),
        cmocka_unit_test_setup_teardown(test_diff_each_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_after_create_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downgrade_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_mistakes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
