/* Pipeline mode against a real server: alch_conn_execute_text_many() sends a batch in one round
 * trip; a failing statement is named, and stops the rest; the session's flush pipelines
 * its INSERTs, UPDATEs and DELETEs; a tiny statement cache does not break a batch. */
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

#include "shop.h"
#include "support.h"

enum { ROWS = 1000 };

static char *db_url;
static alch_base *base;

static int setup(void **state)
{
    (void)state;
    db_url = alch_test_db_create("pipeline");
    base = alch_test_base(db_url, (const alch_model *[]){&User_model, &Category_model, &Item_model},
                          3);
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    CHECK_OK(alch_conn_open(db_url, &c, &err), err);
    CHECK_OK(alch_conn_execute_text(c, "CREATE TABLE marks (n int PRIMARY KEY, note text)", NULL, 0,
                                    NULL, &err),
             err);
    alch_conn_close(c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alch_base_free(base);
    alch_test_db_drop(db_url);
    return 0;
}

/* Everything the echo log holds (the caller frees it). */
static char *slurp(FILE *f)
{
    long end = ftell(f);
    char *text = malloc((size_t)end + 1);
    rewind(f);
    size_t n = fread(text, 1, (size_t)end, f);
    text[n] = '\0';
    return text;
}

static int64_t scalar(alch_conn *c, const char *sql)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_result *r = NULL;
    CHECK_OK(alch_conn_execute_text(c, sql, NULL, 0, &r, &err), err);
    int64_t n = -1;
    CHECK_OK(alch_result_get_int(r, 0, 0, &n, &err), err);
    alch_result_free(r);
    return n;
}

/* ROWS rows (n, note) with n = base + i; row `dup` (1-based) repeats n of row 1 when > 0. */
static alch_value *rows(int base_n, int dup)
{
    alch_value *v = calloc(2 * ROWS, sizeof *v);
    for (int i = 0; i < ROWS; i++) {
        v[2 * i] = alch_v(base_n + (i + 1 == dup ? 0 : i));
        v[2 * i + 1] = alch_v("x'); DROP TABLE marks; --");
    }
    return v;
}

static void test_execute_many(void **state)
{
    (void)state;
    FILE *log = tmpfile();
    alch_engine_options o = alch_engine_options_default();
    o.echo = true;
    o.echo_file = log;
    alch_engine *e = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(db_url, &o, &e, &err), err);
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(e, &c, &err), err);

    alch_value *v = rows(1, 0);
    CHECK_OK(alch_conn_execute_text_many(c, "INSERT INTO marks (n, note) VALUES ($1, $2)", v, 2,
                                         ROWS, &err),
             err);
    free(v);
    assert_int_equal(scalar(c, "SELECT count(*) FROM marks"), ROWS);
    assert_int_equal(scalar(c, "SELECT count(*) FROM marks WHERE note LIKE 'x''); DROP%'"), ROWS);
    CHECK_OK(alch_conn_commit(c, &err), err);

    /* statement 500 repeats a key: it is named, the rest is skipped, the batch rolls back */
    v = rows(5001, 500);
    int rc = alch_conn_execute_text_many(c, "INSERT INTO marks (n, note) VALUES ($1, $2)", v, 2,
                                         ROWS, &err);
    free(v);
    assert_int_equal(rc, ALCH_EINTEGRITY);
    assert_non_null(
        strstr(err.message, "statement 500 of 1000 in the batch failed: duplicate key"));
    assert_string_equal(err.constraint, "marks_pkey");
    assert_string_equal(err.statement, "INSERT INTO marks (n, note) VALUES ($1, $2)");
    assert_non_null(strstr(err.params, "$1=5001"));
    alch_error_clear(&err);
    CHECK_OK(alch_conn_rollback(c, &err), err);
    assert_int_equal(scalar(c, "SELECT count(*) FROM marks"), ROWS); /* nothing of the batch */
    /* the connection and its statement cache still work */
    alch_value again[] = {alch_v(9999), alch_v("after")};
    CHECK_OK(alch_conn_execute_text_many(c, "INSERT INTO marks (n, note) VALUES ($1, $2)", again, 2,
                                         1, &err),
             err);
    assert_int_equal(scalar(c, "SELECT count(*) FROM marks WHERE n = 9999"), 1);
    CHECK_OK(alch_conn_rollback(c, &err), err);
    alch_conn_close(c);
    alch_engine_free(e);

    char *text = slurp(log);
    assert_non_null(strstr(text, "[pipeline 1/1000] ($1=1, $2='x''); DROP TABLE marks; --')"));
    assert_non_null(strstr(text, "[pipeline, 1000 statements, "));
    assert_non_null(strstr(text, "of 1000 statements sent, "));
    free(text);
    fclose(log);

    /* a standalone connection: the batch is one implicit transaction */
    CHECK_OK(alch_conn_open(db_url, &c, &err), err);
    v = rows(7001, 1000);
    assert_int_equal(alch_conn_execute_text_many(c, "INSERT INTO marks (n, note) VALUES ($1, $2)",
                                                 v, 2, ROWS, &err),
                     ALCH_EINTEGRITY);
    free(v);
    alch_error_clear(&err);
    assert_int_equal(scalar(c, "SELECT count(*) FROM marks WHERE n > 7000"), 0);
    alch_value named[] = {alch_named("n", alch_v(1))};
    assert_int_equal(alch_conn_execute_text_many(c, "SELECT :n", named, 1, 1, &err),
                     ALCH_EARGUMENT);
    alch_error_clear(&err);
    alch_conn_close(c);
}

/* ---- the session's flush -------------------------------------------------------------- */

static void flush_with_cache(int cache_size)
{
    FILE *log = tmpfile();
    alch_engine_options o = alch_engine_options_default();
    o.echo = true;
    o.echo_file = log;
    o.statement_cache_size = cache_size;
    alch_engine *e = NULL;
    alch_sessionmaker *m = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(db_url, &o, &e, &err), err);
    CHECK_OK(alch_sessionmaker_create(e, base, NULL, &m, &err), err);
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(m, &s, &err), err);

    Category cat = {.name = "Bulk"};
    CHECK_OK(alch_session_add(s, &Category_model, &cat, &err), err);
    CHECK_OK(alch_session_flush(s, &err), err);
    Item *items = calloc(ROWS, sizeof *items);
    User *users = calloc(ROWS, sizeof *users);
    for (int i = 0; i < ROWS; i++) {
        items[i] = (Item){.name = "thing", .description = "d", .price = i, .category = cat.id};
        users[i] = (User){.tg_id = 100000 + i};
    }
    /* two models in one flush: with a cache of one statement, the batch must not evict
     * the statement it is still using */
    CHECK_OK(alch_session_add_all(s, &Item_model, items, ROWS, &err), err);
    CHECK_OK(alch_session_add_all(s, &User_model, users, ROWS, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    for (int i = 1; i < ROWS; i++) { /* keys came back in order, into each struct */
        assert_true(items[i].id == items[i - 1].id + 1);
        assert_int_equal(alch_session_state(s, &items[i]), ALCH_PERSISTENT);
    }

    /* updates and deletes are pipelined too */
    for (int i = 0; i < ROWS; i++)
        items[i].price += 1;
    for (int i = 0; i < ROWS / 2; i++)
        CHECK_OK(alch_session_delete(s, &User_model, &users[i], &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);

    /* a failure in the middle of a flush names the statement; rollback restores */
    items[10].price = 0;
    items[700].category = 424242; /* no such category */
    assert_int_equal(alch_session_flush(s, &err), ALCH_EINTEGRITY);
    assert_non_null(strstr(err.message, "statement 2 of 2 in the batch failed"));
    assert_string_equal(err.constraint, "fk_items_category_categories");
    alch_error_clear(&err);
    CHECK_OK(alch_session_rollback(s, &err), err);
    assert_int_equal(items[10].price, 11);
    assert_int_equal(items[700].category, cat.id);
    alch_session_close(s);

    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(e, &c, &err), err);
    assert_int_equal(scalar(c, "SELECT count(*) FROM items WHERE name = 'thing'"), ROWS);
    assert_int_equal(scalar(c, "SELECT sum(price) FROM items WHERE name = 'thing'"),
                     (int64_t)ROWS * (ROWS + 1) / 2);
    assert_int_equal(scalar(c, "SELECT count(*) FROM users WHERE tg_id >= 100000"), ROWS / 2);
    CHECK_OK(alch_conn_execute_text(c, "DELETE FROM items", NULL, 0, NULL, &err), err);
    CHECK_OK(alch_conn_execute_text(c, "DELETE FROM users", NULL, 0, NULL, &err), err);
    CHECK_OK(alch_conn_commit(c, &err), err);
    alch_conn_close(c);
    free(items);
    free(users);
    alch_sessionmaker_free(m);
    alch_engine_free(e);

    char *text = slurp(log);
    /* 1000 items and 1000 users: their keys taken from each table's sequence, then one
     * INSERT of arrays each (one array per column, one shape for any count), in one pipeline */
    assert_non_null(strstr(text, "[pipeline, 4 statements, "));
    assert_non_null(strstr(text, "[pipeline, 1500 statements, ")); /* 1000 updates, 500 deletes */
    assert_non_null(strstr(text, "INSERT INTO items (id, name, description, price, category) "
                                 "SELECT coalesce(u.k, CAST($1 AS BIGINT) + u.ord - 1), u.c1, "
                                 "u.c2, u.c3, u.c4 FROM unnest(CAST($2 AS VARCHAR[]), CAST($3 AS "
                                 "VARCHAR[]), CAST($4 AS INTEGER[]), CAST($5 AS BIGINT[]), "
                                 "CAST($6 AS BIGINT[])) WITH ORDINALITY AS u(c1, c2, c3, c4, k, "
                                 "ord)\n"));
    assert_null(strstr(text, "$7"));
    free(text);
    fclose(log);
}

static void test_flush(void **state)
{
    (void)state;
    flush_with_cache(100);
    flush_with_cache(1);
    flush_with_cache(0);
}

/* ---- async --------------------------------------------------------------------------- */

typedef struct run {
    int status;
    bool done;
} run;

static void on_done(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    (void)err;
    run *r = data;
    r->status = status;
    r->done = true;
    alch_result_free(res);
    alch_conn_close(c); /* closing from inside the callback is allowed */
}

static void on_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    run *r = data;
    assert_int_equal(status, 0);
    static alch_value v[2 * 3];
    for (int i = 0; i < 3; i++) {
        v[2 * i] = alch_int(20000 + i);
        v[2 * i + 1] = alch_text("async");
    }
    assert_int_equal(alch_conn_execute_text_many_async(
                         c, "INSERT INTO marks (n, note) VALUES ($1, $2)", v, 2, 3, on_done, r),
                     0);
    assert_int_equal(alch_conn_execute_text_many_async(c, "SELECT 1", NULL, 0, 1, on_done, r),
                     ALCH_EBUSY);
}

static void test_async(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    run r = {0};
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_conn_open_async(&loop, db_url, on_conn, &r, &err), err);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(r.done);
    assert_int_equal(r.status, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    alch_conn *c = NULL;
    CHECK_OK(alch_conn_open(db_url, &c, &err), err);
    assert_int_equal(scalar(c, "SELECT count(*) FROM marks WHERE note = 'async'"), 3);
    alch_conn_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_execute_many),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_async),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
