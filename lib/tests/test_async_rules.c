/* The two rules every *_async call keeps (lib/README.md, "The async calls"):
 *
 * 1. It copies what it is given: the caller may free or overwrite its SQL, its values and its
 *    statement as soon as the call returns. Each test below spoils its inputs right after the
 *    call (overwritten, then freed): a call that kept a pointer answers wrong, and under
 *    AddressSanitizer stops at the read.
 * 2. A call that cannot start returns a negative code, never calls back, and leaves its
 *    sentence (alch_conn_start_error(), alch_session_start_error()). */
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

static char *db_url;
static alch_base *base;

static int setup(void **state)
{
    (void)state;
    db_url = alch_test_db_create("async_rules");
    base = alch_test_base(db_url, (const alch_model *[]){&Category_model, &Item_model}, 2);
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    CHECK_OK(alch_conn_open(db_url, &c, &err), err);
    CHECK_OK(alch_conn_execute_text(c, "INSERT INTO categories (name) VALUES ('Tea'), ('Coffee')",
                                    NULL, 0, NULL, &err),
             err);
    CHECK_OK(alch_conn_execute_text(c,
                                    "INSERT INTO items (name, description, price, category) "
                                    "VALUES ('Sencha', 'green', 450, 1), ('Oolong', 'dark', 700, 1)",
                                    NULL, 0, NULL, &err),
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

/* ---- inputs a test can spoil ----------------------------------------------------------- */

static char *heap_text(const char *s)
{
    char *p = strdup(s);
    assert_non_null(p);
    return p;
}

/* Overwrite a string the call was given, then free it. */
static void spoil_text(char *p)
{
    memset(p, 'x', strlen(p));
    free(p);
}

/* Values on the heap, each text value's bytes on the heap too. */
static alch_value *heap_values(const char *const *texts, size_t n)
{
    alch_value *v = calloc(n, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = alch_v((const char *)heap_text(texts[i]));
    return v;
}

static void spoil_values(alch_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        spoil_text((char *)v[i].u.s);
        v[i] = alch_v(-1);
    }
    free(v);
}

/* A statement: the categories named @p name, with their items when @p eager. */
static alch_stmt *category_named(const char *name, bool eager)
{
    char *copy = heap_text(name);
    alch_stmt *st = alch_select(&Category_model);
    alch_where(st, alch_eq(ALCH_COL(Category, name), (const char *)copy));
    spoil_text(copy); /* the builder copies its values: not part of the rule, but assumed */
    return eager ? alch_selectin(st, "items") : st;
}

/* ---- an engine on a loop, a session ---------------------------------------------------- */

typedef struct world {
    uv_loop_t loop;
    alch_engine *engine;
    alch_sessionmaker *maker;
    alch_session *s;
    int calls;
} world;

static void world_open(world *w)
{
    alch_error err = ALCH_ERROR_INIT;
    memset(w, 0, sizeof *w);
    uv_loop_init(&w->loop);
    CHECK_OK(alch_engine_create_on_loop(&w->loop, db_url, NULL, &w->engine, &err), err);
    CHECK_OK(alch_sessionmaker_create(w->engine, base, NULL, &w->maker, &err), err);
    CHECK_OK(alch_session_open(w->maker, &w->s, &err), err);
}

static void world_close(world *w)
{
    alch_session_close(w->s);
    alch_sessionmaker_free(w->maker);
    alch_engine_free(w->engine);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
}

static void check_status(int status, const alch_error *err)
{
    if (status)
        fail_msg("status %d: %s", status, err ? err->message : "(no error)");
}

/* ---- rule 1: the inputs are copied ----------------------------------------------------- */

/* One row whose column "name" is 'Tea'; the result is freed. */
static void assert_tea_row(alch_result *res)
{
    assert_int_equal(alch_result_rows(res), 1);
    const char *name = NULL;
    size_t col = 0;
    assert_int_equal(alch_result_column_index(res, "name", &col), 0);
    assert_int_equal(alch_result_get_text(res, 0, col, &name, NULL), 0);
    assert_string_equal(name, "Tea");
    alch_result_free(res);
}

static void on_tea_row(alch_session *s, int status, alch_result *res, const alch_error *err,
                       void *data)
{
    world *w = data;
    (void)s;
    check_status(status, err);
    assert_tea_row(res);
    w->calls++;
}

static void test_session_text_copied(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    char *sql = heap_text("SELECT name FROM categories WHERE name = $1");
    const char *tea[] = {"Tea"};
    alch_value *params = heap_values(tea, 1);
    assert_int_equal(alch_session_execute_text_async(w.s, sql, params, 1, on_tea_row, &w), 0);
    spoil_text(sql);
    spoil_values(params, 1);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    assert_int_equal(w.calls, 1);
    world_close(&w);
}

static void on_tea_object(alch_session *s, int status, void *obj, const alch_error *err,
                          void *data)
{
    (void)s;
    world *w = data;
    check_status(status, err);
    Category *c = obj;
    assert_non_null(c);
    assert_string_equal(c->name, "Tea");
    w->calls++;
}

static void on_tea_list_plain(alch_session *s, int status, const alch_list *objs,
                              const alch_error *err, void *data)
{
    check_status(status, err);
    assert_int_equal(objs->count, 1);
    on_tea_object(s, status, objs->items[0], err, data);
}

static void on_tea_list(alch_session *s, int status, const alch_list *objs, const alch_error *err,
                        void *data)
{
    on_tea_list_plain(s, status, objs, err, data);
    Category *c = objs->items[0];
    assert_int_equal(c->items.count, 2); /* alch_selectin(..., "items") ran after the rows */
}

/* The six statement calls of the session, each with the callback type it takes. */
typedef enum { SCALARS, SCALAR_ONE, SCALAR_ONE_OR_NONE, FIRST, ONE, EXECUTE } stmt_call;

static int start_stmt_call(stmt_call call, alch_session *s, alch_stmt *st, world *w)
{
    switch (call) {
    case SCALARS:
        return alch_session_scalars_async(s, st, on_tea_list, w);
    case SCALAR_ONE:
        return alch_session_scalar_one_async(s, st, on_tea_object, w);
    case SCALAR_ONE_OR_NONE:
        return alch_session_scalar_one_or_none_async(s, st, on_tea_object, w);
    case FIRST:
        return alch_session_first_async(s, st, on_tea_object, w);
    case ONE:
        return alch_session_one_async(s, st, on_tea_row, w);
    case EXECUTE:
        return alch_session_execute_async(s, st, on_tea_row, w);
    }
    return ALCH_EARGUMENT;
}

/* Run @p call on a statement freed as soon as the call returns. */
static void stmt_freed_after_call(stmt_call call)
{
    world w;
    world_open(&w);
    alch_stmt *st = category_named("Tea", call == SCALARS);
    assert_int_equal(start_stmt_call(call, w.s, st, &w), 0);
    alch_stmt_free(st);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    assert_int_equal(w.calls, 1);
    world_close(&w);
}

static void test_session_statement_copied(void **state)
{
    (void)state;
    for (stmt_call call = SCALARS; call <= EXECUTE; call++)
        stmt_freed_after_call(call);
}

/* A write statement freed after the call: the session still knows it wrote (the objects it
 * holds are refreshed from RETURNING) without reading the statement again. */
static void test_session_write_statement_copied(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    char *renamed = heap_text("Tea");
    alch_stmt *st = alch_update(&Category_model);
    alch_set(st, ALCH_COL(Category, name), (const char *)renamed);
    alch_where(st, alch_eq(ALCH_COL(Category, name), "Tea"));
    alch_returning_model(st);
    assert_int_equal(alch_session_scalars_async(w.s, st, on_tea_list_plain, &w), 0);
    alch_stmt_free(st);
    spoil_text(renamed);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    assert_int_equal(w.calls, 1);
    world_close(&w);
}

typedef struct streamed {
    world *w;
    size_t rows;
    bool done;
} streamed;

static void on_batch(alch_stream *it, int status, const alch_list *batch, const alch_error *err,
                     void *data);

static void on_stream(alch_stream *it, int status, const alch_list *batch, const alch_error *err,
                      void *data)
{
    (void)batch;
    check_status(status, err);
    assert_int_equal(alch_stream_next_async(it, on_batch, data), 0);
}

static void on_batch(alch_stream *it, int status, const alch_list *batch, const alch_error *err,
                     void *data)
{
    streamed *sd = data;
    check_status(status < 0 ? status : 0, err);
    if (status == 1) {
        Category *c = batch->items[0];
        assert_string_equal(c->name, "Tea");
        sd->rows += batch->count;
        assert_int_equal(alch_stream_next_async(it, on_batch, data), 0);
        return;
    }
    sd->done = true;
    alch_stream_close(it);
    sd->w->calls++;
}

static void test_stream_statement_copied(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    streamed sd = {.w = &w};
    alch_stmt *st = category_named("Tea", false);
    assert_int_equal(alch_session_stream_async(w.s, st, 10, on_stream, &sd), 0);
    alch_stmt_free(st);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    assert_true(sd.done);
    assert_int_equal(sd.rows, 1);
    world_close(&w);
}

/* ---- the connection's calls ------------------------------------------------------------- */

typedef struct on_conn {
    uv_loop_t loop;
    alch_conn *conn;
    int calls;
} on_conn;

static void on_many(alch_conn *c, int status, alch_result *res, const alch_error *err,
                    void *data)
{
    on_conn *oc = data;
    check_status(status, err);
    alch_result_free(res);
    oc->calls++;
    alch_conn_close(c);
}

static void on_tea_conn_row(alch_conn *c, int status, alch_result *res, const alch_error *err,
                            void *data)
{
    on_conn *oc = data;
    check_status(status, err);
    assert_tea_row(res);
    oc->calls++;
    /* then many rows in one pipeline, from inputs spoiled at once */
    char *sql = heap_text("INSERT INTO categories (name) VALUES ($1)");
    const char *names[] = {"many-1", "many-2", "many-3"};
    alch_value *params = heap_values(names, 3);
    assert_int_equal(alch_conn_execute_text_many_async(c, sql, params, 1, 3, on_many, oc), 0);
    spoil_text(sql);
    spoil_values(params, 3);
}

static void on_opened(alch_conn *c, int status, const alch_error *err, void *data)
{
    on_conn *oc = data;
    check_status(status, err);
    oc->conn = c;
    alch_stmt *st = category_named("Tea", false);
    assert_int_equal(alch_conn_execute_async(c, st, on_tea_conn_row, oc), 0);
    alch_stmt_free(st);
}

static void test_conn_inputs_copied(void **state)
{
    (void)state;
    on_conn oc = {0};
    uv_loop_init(&oc.loop);
    char *url = heap_text(db_url);
    assert_int_equal(alch_conn_open_async(&oc.loop, url, on_opened, &oc, NULL), 0);
    spoil_text(url);
    uv_run(&oc.loop, UV_RUN_DEFAULT);
    assert_int_equal(oc.calls, 2);
    assert_int_equal(uv_loop_close(&oc.loop), 0);
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    alch_result *res = NULL;
    int64_t n = 0;
    CHECK_OK(alch_conn_open(db_url, &c, &err), err);
    CHECK_OK(alch_conn_execute_text(c, "SELECT count(*) FROM categories WHERE name LIKE 'many-%'",
                                    NULL, 0, &res, &err),
             err);
    assert_int_equal(alch_result_get_int(res, 0, 0, &n, NULL), 0);
    assert_int_equal(n, 3);
    alch_result_free(res);
    CHECK_OK(alch_conn_execute_text(c, "DELETE FROM categories WHERE name LIKE 'many-%'", NULL, 0,
                                    NULL, &err),
             err);
    alch_conn_close(c);
}

/* ---- rule 2: a call that cannot start leaves its sentence ------------------------------ */

static void never_called(alch_session *s, int status, const alch_error *err, void *data)
{
    (void)s, (void)status, (void)err, (void)data;
    fail_msg("an async call that could not start called back");
}

static void never_listed(alch_session *s, int status, const alch_list *objs, const alch_error *err,
                         void *data)
{
    (void)objs;
    never_called(s, status, err, data);
}

static void never_connected(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)c, (void)status, (void)err, (void)data;
    fail_msg("an async call that could not start called back");
}

static void never_worked(alch_tx *tx, alch_conn *c, void *data)
{
    (void)c, (void)tx, (void)data;
    fail_msg("an async call that could not start ran its work");
}

static void never_done(int status, const alch_error *err, void *data)
{
    (void)status, (void)err, (void)data;
    fail_msg("an async call that could not start called back");
}

static void test_session_misuse_sentences(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    assert_int_equal(alch_session_commit_async(w.s, NULL, NULL), ALCH_EMISUSE);
    assert_string_equal(alch_session_start_error(w.s)->message, "an async call needs a callback");
    alch_stmt *st = category_named("Tea", false);
    assert_int_equal(alch_session_scalars_async(w.s, st, NULL, NULL), ALCH_EMISUSE);
    assert_string_equal(alch_session_start_error(w.s)->message, "an async call needs a callback");
    Category c = {0};
    assert_int_equal(alch_session_load_async(w.s, &Category_model, &c, NULL, never_called, NULL),
                     ALCH_EMISUSE);
    assert_string_equal(alch_session_start_error(w.s)->message,
                        "alch_session_load_async needs a relationship name");
    alch_session_close(w.s);
    assert_int_equal(alch_session_scalars_async(w.s, st, never_listed, NULL), ALCH_EMISUSE);
    assert_non_null(strstr(alch_session_start_error(w.s)->message, "this session was closed"));
    alch_stmt_free(st);
    w.s = NULL;
    world_close(&w);
}

static void test_engine_misuse_sentences(void **state)
{
    (void)state;
    world w;
    world_open(&w);
    assert_int_equal(alch_engine_connect_async(w.engine, NULL, NULL), ALCH_EMISUSE);
    assert_string_equal(alch_engine_start_error(w.engine)->message,
                        "alch_engine_connect_async needs a callback");
    assert_int_equal(alch_engine_begin_async(w.engine, never_worked, NULL, NULL), ALCH_EMISUSE);
    assert_string_equal(alch_engine_start_error(w.engine)->message,
                        "alch_engine_begin_async needs a callback");
    assert_null(alch_engine_start_error(NULL));
    world_close(&w);

    alch_error err = ALCH_ERROR_INIT;
    alch_engine *sync = NULL;
    CHECK_OK(alch_engine_create(db_url, NULL, &sync, &err), err);
    assert_int_equal(alch_engine_connect_async(sync, never_connected, NULL), ALCH_EMISUSE);
    assert_string_equal(alch_engine_start_error(sync)->message,
                        "alch_engine_connect_async: this engine has a private loop: use the sync "
                        "calls");
    assert_int_equal(alch_engine_begin_async(sync, never_worked, never_done, NULL), ALCH_EMISUSE);
    assert_string_equal(alch_engine_start_error(sync)->message,
                        "alch_engine_begin_async: this engine has a private loop: use the sync "
                        "calls");
    /* freed while a connection is still out: the engine waits for it, and starts nothing */
    alch_conn *held = NULL;
    CHECK_OK(alch_engine_connect(sync, &held, &err), err);
    alch_engine_free(sync);
    assert_int_equal(alch_engine_connect_async(sync, never_connected, NULL), ALCH_ECLOSED);
    assert_string_equal(alch_engine_start_error(sync)->message,
                        "alch_engine_connect_async: this engine is being freed");
    alch_conn_close(held);
}

static void after_begin(alch_conn *c, int status, alch_result *res, const alch_error *err,
                        void *data)
{
    on_conn *oc = data;
    check_status(status, err);
    alch_result_free(res);
    assert_int_equal(alch_conn_begin_async(c, after_begin, oc), ALCH_EMISUSE);
    assert_string_equal(alch_conn_start_error(c)->message,
                        "a transaction is already open on this connection");
    oc->calls++;
    alch_conn_close(c);
}

static void on_opened_for_begin(alch_conn *c, int status, const alch_error *err, void *data)
{
    check_status(status, err);
    assert_int_equal(alch_conn_begin_async(c, after_begin, data), 0);
}

static void test_conn_misuse_sentences(void **state)
{
    (void)state;
    on_conn oc = {0};
    uv_loop_init(&oc.loop);
    assert_int_equal(alch_conn_open_async(&oc.loop, db_url, on_opened_for_begin, &oc, NULL), 0);
    uv_run(&oc.loop, UV_RUN_DEFAULT);
    assert_int_equal(oc.calls, 1);
    assert_int_equal(uv_loop_close(&oc.loop), 0);
}

/* alch_conn_cancel() with nothing running: a code, and its sentence where every call on a
 * connection that cannot start leaves one; a cancel that is sent clears it. */
static void cancel_done(alch_conn *c, int status, alch_result *res, const alch_error *err,
                        void *data)
{
    on_conn *oc = data;
    assert_int_equal(status, ALCH_ECANCELED);
    assert_non_null(strstr(err->message, "cancelled (alch_conn_cancel)"));
    alch_result_free(res);
    oc->calls++;
    alch_conn_close(c);
}

static void on_opened_for_cancel(alch_conn *c, int status, const alch_error *err, void *data)
{
    check_status(status, err);
    assert_int_equal(alch_conn_cancel(c), ALCH_EMISUSE);
    const alch_error *why = alch_conn_start_error(c);
    assert_int_equal(why->code, ALCH_EMISUSE);
    assert_string_equal(why->message,
                        "alch_conn_cancel: nothing runs on this connection, so there is nothing "
                        "to cancel");
    assert_string_equal(why->hint,
                        "call it while an *_async call's statement runs, before its callback "
                        "(from a timer, for instance); for a time limit on every statement, "
                        "set query_timeout_ms in the engine's options");
    assert_int_equal(
        alch_conn_execute_text_async(c, "SELECT pg_sleep(10)", NULL, 0, cancel_done, data), 0);
    assert_int_equal(alch_conn_cancel(c), 0);
    assert_int_equal(alch_conn_start_error(c)->code, 0);
    assert_null(alch_conn_start_error(c)->message);
}

static void test_conn_cancel_sentence(void **state)
{
    (void)state;
    on_conn oc = {0};
    uv_loop_init(&oc.loop);
    assert_int_equal(alch_conn_cancel(NULL), ALCH_EMISUSE); /* no connection: no sentence */
    assert_int_equal(alch_conn_open_async(&oc.loop, db_url, on_opened_for_cancel, &oc, NULL), 0);
    uv_run(&oc.loop, UV_RUN_DEFAULT);
    assert_int_equal(oc.calls, 1);
    assert_int_equal(uv_loop_close(&oc.loop), 0);
}

/* alch_conn_open_async() has no connection yet to keep its sentence: it fills its err. */
static void expect_open_refused(uv_loop_t *loop, const char *url, alch_connect_cb cb, int code,
                                const char *message, const char *hint)
{
    alch_error err = ALCH_ERROR_INIT;
    assert_int_equal(alch_conn_open_async(loop, url, cb, NULL, &err), code);
    assert_int_equal(err.code, code);
    assert_string_equal(err.message, message);
    if (hint)
        assert_string_equal(err.hint, hint);
    alch_error_clear(&err);
    assert_int_equal(alch_conn_open_async(loop, url, cb, NULL, NULL), code); /* err is optional */
}

static void test_conn_open_misuse_sentences(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    expect_open_refused(NULL, db_url, never_connected, ALCH_EMISUSE,
                        "alch_conn_open_async needs a loop",
                        "pass the libuv loop the connection will run on, e.g. uv_default_loop()");
    expect_open_refused(&loop, NULL, never_connected, ALCH_EMISUSE,
                        "alch_conn_open_async needs a URL",
                        "e.g. postgresql://user@localhost/shop, or getenv(\"ALCH_DATABASE_URL\")");
    expect_open_refused(&loop, db_url, NULL, ALCH_EMISUSE, "alch_conn_open_async needs a callback",
                        "it is called once, with the connection or the error");
    /* a URL the parser refuses: its own sentence, word for word */
    const char *bad = "mysql://x@y/z";
    alch_error parsed = ALCH_ERROR_INIT;
    alch_url *url = NULL;
    assert_int_equal(alch_url_parse(bad, &url, &parsed), ALCH_EARGUMENT);
    assert_non_null(parsed.message);
    expect_open_refused(&loop, bad, never_connected, ALCH_EARGUMENT, parsed.message, parsed.hint);
    alch_error_clear(&parsed);
    uv_run(&loop, UV_RUN_DEFAULT); /* nothing was started: nothing to run, no callback */
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_text_copied),
        cmocka_unit_test(test_session_statement_copied),
        cmocka_unit_test(test_session_write_statement_copied),
        cmocka_unit_test(test_stream_statement_copied),
        cmocka_unit_test(test_conn_inputs_copied),
        cmocka_unit_test(test_session_misuse_sentences),
        cmocka_unit_test(test_engine_misuse_sentences),
        cmocka_unit_test(test_conn_misuse_sentences),
        cmocka_unit_test(test_conn_open_misuse_sentences),
        cmocka_unit_test(test_conn_cancel_sentence),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
