/* The engine and its pool against a real server: options, echo, implicit transactions,
 * exhaustion, FIFO hand-off, rollback on return, eviction of dead connections, dispose,
 * and freeing from inside callbacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alch/alch.h>

#include "support.h"

static char *db_url;

static int setup(void **state)
{
    db_url = alch_test_db_create("engine");
    return db_url ? 0 : -1;
}

static int teardown(void **state)
{
    alch_test_db_drop(db_url);
    return 0;
}


static alch_engine *sync_engine(alch_engine_options *o)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e = NULL;
    CHECK_OK(alch_engine_create(db_url, o, &e, &err), err);
    return e;
}

static alch_conn *checkout(alch_engine *e)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(e, &c, &err), err);
    return c;
}

static int64_t scalar(alch_conn *c, const char *sql)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_result *r = NULL;
    CHECK_OK(alch_conn_execute_text(c, sql, NULL, 0, &r, &err), err);
    int64_t v = -1;
    CHECK_OK(alch_result_get_int(r, 0, 0, &v, &err), err);
    alch_result_free(r);
    return v;
}

static void exec_ok(alch_conn *c, const char *sql)
{
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_conn_execute_text(c, sql, NULL, 0, NULL, &err), err);
}

/* ---- options -------------------------------------------------------------------------- */

static void test_options_validated(void **state)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e = NULL;
    alch_engine_options o = alch_engine_options_default();
    assert_int_equal(o.pool_size, 5);
    assert_int_equal(o.max_overflow, 10);
    assert_int_equal(o.pool_timeout_ms, 30000);
    o.pool_size = 0;
    assert_int_equal(alch_engine_create(db_url, &o, &e, &err), ALCH_EARGUMENT);
    assert_non_null(strstr(err.message, "pool_size"));
    alch_error_clear(&err);
    o = alch_engine_options_default();
    o.isolation_level = "SERIALISABLE";
    assert_int_equal(alch_engine_create(db_url, &o, &e, &err), ALCH_EARGUMENT);
    assert_non_null(strstr(err.hint, "SERIALIZABLE"));
    alch_error_clear(&err);
    assert_int_equal(alch_engine_create("postgresql+pg8000://u@h/db", NULL, &e, &err),
                     ALCH_EARGUMENT);
    alch_error_clear(&err);
    assert_null(e);
}

static void test_isolation_and_autocommit(void **state)
{
    alch_engine_options o = alch_engine_options_default();
    o.isolation_level = "serializable";
    alch_engine *e = sync_engine(&o);
    alch_conn *c = checkout(e);
    alch_error err = ALCH_ERROR_INIT;
    alch_result *r = NULL;
    CHECK_OK(alch_conn_execute_text(c, "SHOW transaction_isolation", NULL, 0, &r, &err), err);
    const char *level;
    CHECK_OK(alch_result_get_text(r, 0, 0, &level, &err), err);
    assert_string_equal(level, "serializable");
    alch_result_free(r);
    assert_true(alch_conn_in_transaction(c)); /* BEGIN (implicit) */
    alch_conn_close(c);
    alch_engine_free(e);

    o.isolation_level = "AUTOCOMMIT";
    e = sync_engine(&o);
    c = checkout(e);
    assert_int_equal(scalar(c, "SELECT 1"), 1);
    assert_false(alch_conn_in_transaction(c));
    alch_conn_close(c);
    alch_engine_free(e);
}

static void test_statement_timeout(void **state)
{
    alch_engine_options o = alch_engine_options_default();
    o.statement_timeout_ms = 100;
    alch_engine *e = sync_engine(&o);
    alch_conn *c = checkout(e);
    alch_error err = ALCH_ERROR_INIT;
    assert_int_equal(alch_conn_execute_text(c, "SELECT pg_sleep(2)", NULL, 0, NULL, &err),
                     ALCH_EOPERATIONAL);
    assert_string_equal(err.sqlstate, "57014");
    alch_error_clear(&err);
    alch_conn_close(c);
    alch_engine_free(e);
}

/* ---- echo ----------------------------------------------------------------------------- */

/* A sync engine on url that echoes to log. */
static alch_engine *echo_engine(const char *url, FILE *log)
{
    alch_engine_options o = alch_engine_options_default();
    o.echo = true;
    o.echo_file = log;
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e = NULL;
    CHECK_OK(alch_engine_create(url, &o, &e, &err), err);
    return e;
}

/* What an echo log received (at most size - 1 bytes); closes it. */
static void read_log(FILE *log, char *text, size_t size)
{
    rewind(log);
    size_t n = fread(text, 1, size - 1, log);
    text[n] = '\0';
    fclose(log);
}

static void test_echo(void **state)
{
    FILE *log = tmpfile();
    /* a password in the URL must never reach the log (trust auth ignores it) */
    const char *at = strchr(strstr(db_url, "://") + 3, '@');
    char url[512];
    snprintf(url, sizeof url, "postgresql://alch:s3cret-pw%s", at);
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e = echo_engine(url, log);
    assert_null(strstr(alch_engine_url(e), "s3cret"));
    assert_non_null(strstr(alch_engine_url(e), "***"));
    alch_conn *c = checkout(e);
    alch_value p[] = {alch_named("x", alch_v(41)), alch_named("name", alch_v("it's"))};
    for (int i = 0; i < 2; i++)
        CHECK_OK(alch_conn_execute_text(c, "SELECT :x + 1, :name", p, 2, NULL, &err), err);
    CHECK_OK(alch_conn_commit(c, &err), err);
    alch_conn_close(c);
    alch_engine_free(e);

    char text[4096];
    read_log(log, text, sizeof text);
    const char *expected[] = {
        "[alch] BEGIN (implicit)\n",
        "[alch] SELECT $1 + 1, $2\n",
        "[alch] [prepared, ",
        " ms] (:x=41, :name='it''s')\n",
        "[alch] SELECT $1 + 1, $2\n",
        "[alch] [cached, ",
        "[alch] COMMIT\n",
    };
    const char *at_text = text;
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
        const char *hit = strstr(at_text, expected[i]);
        if (!hit)
            fail_msg("echo is missing '%s' (in order) in:\n%s", expected[i], text);
        at_text = hit + strlen(expected[i]);
    }
    assert_null(strstr(text, "s3cret"));
}

/* The seed's URL, postgresql+asyncpg://, works as it is: one echo line says alch reads it as
 * postgresql:// (libpq), and the engine connects. */
static void test_asyncpg_url(void **state)
{
    (void)state;
    FILE *log = tmpfile();
    char url[512];
    snprintf(url, sizeof url, "postgresql+asyncpg%s", strstr(db_url, "://"));
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e = echo_engine(url, log);
    alch_conn *c = checkout(e);
    alch_result *res = NULL;
    CHECK_OK(alch_conn_execute_text(c, "SELECT 1", NULL, 0, &res, &err), err);
    alch_result_free(res);
    alch_conn_close(c);
    alch_engine_free(e);

    char text[4096];
    read_log(log, text, sizeof text);
    static const char line[] = "[alch] postgresql+asyncpg:// is read as postgresql://: alch "
                               "speaks libpq whatever driver the URL names\n";
    const char *hit = strstr(text, line);
    if (!hit || strstr(hit + 1, line))
        fail_msg("expected the line '%s' once in:\n%s", line, text);
}

/* ---- the pool, sync face --------------------------------------------------------------- */

static void test_implicit_transaction_rolled_back_on_return(void **state)
{
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 1;
    o.max_overflow = 0;
    alch_engine *e = sync_engine(&o);
    alch_conn *c = checkout(e);
    exec_ok(c, "CREATE TABLE IF NOT EXISTS r (v int)");
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_conn_commit(c, &err), err);
    exec_ok(c, "INSERT INTO r VALUES (1)");
    assert_true(alch_conn_in_transaction(c));
    int pid = alch_conn_backend_pid(c);
    alch_conn_close(c); /* not committed: rolled back before anyone else gets it */

    c = checkout(e);
    assert_int_equal(alch_conn_backend_pid(c), pid); /* the same connection, reused */
    assert_false(alch_conn_in_transaction(c));
    assert_int_equal(scalar(c, "SELECT count(*) FROM r"), 0);
    alch_pool_status s = alch_engine_pool_status(e);
    assert_int_equal(s.size, 1);
    assert_int_equal(s.checked_out, 1);
    alch_conn_close(c);
    s = alch_engine_pool_status(e);
    assert_int_equal(s.idle, 1);
    assert_int_equal(s.checked_out, 0);
    alch_engine_free(e);
}

typedef struct work_data {
    int64_t value;
    bool fail;
} work_data;

static int insert_work(alch_conn *c, void *data, alch_error *err)
{
    work_data *w = data;
    alch_value p[] = {alch_v(w->value)};
    int rc = alch_conn_execute_text(c, "INSERT INTO b VALUES ($1)", p, 1, NULL, err);
    if (rc == 0 && w->fail)
        rc = ALCH_EDATA;
    return rc;
}

static void test_engine_begin(void **state)
{
    alch_engine *e = sync_engine(NULL);
    alch_conn *c = checkout(e);
    exec_ok(c, "CREATE TABLE IF NOT EXISTS b (v int)");
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_conn_commit(c, &err), err);
    alch_conn_close(c);

    work_data ok = {7, false}, bad = {8, true};
    CHECK_OK(alch_engine_begin(e, insert_work, &ok, &err), err);
    assert_int_equal(alch_engine_begin(e, insert_work, &bad, &err), ALCH_EDATA);
    alch_error_clear(&err);
    c = checkout(e);
    assert_int_equal(scalar(c, "SELECT coalesce(sum(v), 0)::int FROM b"), 7);
    alch_conn_close(c);
    alch_engine_free(e);
}

/* A checkout whose connection is still opening when a short pool_timeout_ms runs out (the
 * server forks a process per connection: on a loaded machine that took more than 0.2 s) is
 * asked again: the connection, once open, waits in the pool for it. */
static alch_conn *checkout_opening(alch_engine *e)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    int rc = ALCH_ETIMEOUT;
    for (int i = 0; i < 50 && (rc = alch_engine_connect(e, &c, &err)) == ALCH_ETIMEOUT &&
                    strstr(err.message, "still opening");
         i++)
        alch_error_clear(&err);
    CHECK_OK(rc, err);
    return c;
}

static void test_pool_exhausted(void **state)
{
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 1;
    o.max_overflow = 1;
    o.pool_timeout_ms = 200;
    alch_engine *e = sync_engine(&o);
    alch_conn *a = checkout_opening(e);
    alch_conn *b = checkout_opening(e);
    assert_int_not_equal(alch_conn_backend_pid(a), alch_conn_backend_pid(b));
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    uint64_t t0 = uv_hrtime();
    assert_int_equal(alch_engine_connect(e, &c, &err), ALCH_ETIMEOUT);
    uint64_t ms = (uv_hrtime() - t0) / 1000000;
    /* it waited for the timeout, and then gave up: the upper bound only says it did not
     * wait for ever (on a loaded machine a 0.2 s timer can fire seconds late) */
    assert_true(ms >= 190 && ms < 10000);
    assert_non_null(strstr(err.message, "pool of 1 (+1 overflow) exhausted"));
    assert_non_null(strstr(err.message, "0.2 s"));
    assert_non_null(err.hint);
    alch_error_clear(&err);
    alch_conn_close(b); /* kept: the pool holds up to pool_size idle connections */
    alch_pool_status s = alch_engine_pool_status(e);
    assert_int_equal(s.size, 2);
    assert_int_equal(s.idle, 1);
    alch_conn_close(a); /* the idle slots are full: this one is closed (overflow shrinks) */
    s = alch_engine_pool_status(e);
    assert_int_equal(s.size, 1);
    assert_int_equal(s.idle, 1);
    alch_engine_free(e);
}

/* pool_timeout 0: take a free connection if there is one, never wait for one */
static void test_pool_timeout_zero(void **state)
{
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 1;
    o.max_overflow = 0;
    o.pool_timeout_ms = 0;
    alch_engine *e = sync_engine(&o);
    alch_conn *a = checkout(e);
    alch_conn_close(a);
    uv_sleep(20); /* the loop's clock is stale now: the deadline must not be */
    a = checkout(e);
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *b = NULL;
    assert_int_equal(alch_engine_connect(e, &b, &err), ALCH_ETIMEOUT);
    alch_error_clear(&err);
    alch_conn_close(a);
    alch_engine_free(e);
}

static int terminate_backend(int pid)
{
    PGconn *admin = alch_test_pq(alch_test_url());
    char text[16];
    snprintf(text, sizeof text, "%d", pid);
    const char *values[] = {text};
    /* With a timeout, the server answers only once the backend has exited (PostgreSQL 14+):
     * its socket is closed by then, however loaded the machine is. */
    PGresult *r = PQexecParams(admin, "SELECT pg_terminate_backend($1::int, 10000)", 1, NULL,
                               values, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    PQfinish(admin);
    return ok;
}

/* A backend killed while its connection sat idle in the pool is noticed at checkout. */
static void test_dead_idle_connection_replaced(void **state)
{
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 1;
    alch_engine *e = sync_engine(&o);
    alch_conn *c = checkout(e);
    int pid = alch_conn_backend_pid(c);
    alch_conn_close(c);
    assert_true(terminate_backend(pid));
    c = checkout(e);
    assert_int_not_equal(alch_conn_backend_pid(c), pid);
    assert_int_equal(scalar(c, "SELECT 5"), 5);
    alch_conn_close(c);

    /* pre_ping finds the same with an empty query */
    o.pool_pre_ping = true;
    alch_engine *e2 = sync_engine(&o);
    c = checkout(e2);
    assert_int_equal(scalar(c, "SELECT 6"), 6);
    alch_conn_close(c);
    alch_engine_free(e2);
    alch_engine_free(e);
}

static void test_recycle(void **state)
{
    alch_engine_options o = alch_engine_options_default();
    o.pool_recycle_ms = 50;
    alch_engine *e = sync_engine(&o);
    alch_conn *c = checkout(e);
    int pid = alch_conn_backend_pid(c);
    alch_conn_close(c);
    c = checkout(e);
    assert_int_equal(alch_conn_backend_pid(c), pid); /* young: reused */
    alch_conn_close(c);
    uv_sleep(120);
    c = checkout(e);
    assert_int_not_equal(alch_conn_backend_pid(c), pid); /* too old: replaced */
    alch_conn_close(c);
    alch_engine_free(e);
}

static void test_statement_cache_lru(void **state)
{
    alch_engine_options o = alch_engine_options_default();
    o.statement_cache_size = 2;
    o.isolation_level = "AUTOCOMMIT";
    alch_engine *e = sync_engine(&o);
    alch_conn *c = checkout(e);
    const char *sqls[] = {"SELECT 1 + $1", "SELECT 2 + $1", "SELECT 3 + $1"};
    alch_error err = ALCH_ERROR_INIT;
    for (int round = 0; round < 4; round++) {
        for (int k = 0; k < 3; k++) {
            alch_value p[] = {alch_v(10 * round)};
            alch_result *r = NULL;
            CHECK_OK(alch_conn_execute_text(c, sqls[k], p, 1, &r, &err), err);
            int64_t v;
            CHECK_OK(alch_result_get_int(r, 0, 0, &v, &err), err);
            assert_int_equal(v, k + 1 + 10 * round);
            alch_result_free(r);
        }
    }
    /* never more prepared statements on the server than the cache holds */
    assert_true(scalar(c, "SELECT count(*) FROM pg_prepared_statements") <= 2);
    alch_conn_close(c);
    alch_engine_free(e);

    o.statement_cache_size = 0; /* PgBouncer transaction mode: nothing prepared */
    e = sync_engine(&o);
    c = checkout(e);
    assert_int_equal(scalar(c, "SELECT count(*) FROM pg_prepared_statements"), 0);
    alch_conn_close(c);
    alch_engine_free(e);
}

/* ---- the pool, async face -------------------------------------------------------------- */

typedef struct fifo_state {
    alch_engine *engine;
    uv_loop_t *loop;
    int order[8];
    int served;
    alch_conn *holder;
    uv_timer_t release_timer;
    int max_seen;
    int canceled;
} fifo_state;

typedef struct task {
    fifo_state *fs;
    int id;
} task;

static void on_task_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    task *t = data;
    assert_int_equal(status, 0);
    t->fs->order[t->fs->served++] = t->id;
    alch_conn_close(c); /* hands it straight to the next waiter */
}

static void on_release(uv_timer_t *timer)
{
    fifo_state *fs = timer->data;
    alch_conn_close(fs->holder);
    uv_close((uv_handle_t *)timer, NULL);
}

static void on_holder(alch_conn *c, int status, const alch_error *err, void *data)
{
    fifo_state *fs = data;
    assert_int_equal(status, 0);
    fs->holder = c;
    uv_timer_start(&fs->release_timer, on_release, 50, 0);
}

static void test_waiters_served_fifo(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 1;
    o.max_overflow = 0;
    alch_error err = ALCH_ERROR_INIT;
    fifo_state fs = {.loop = &loop};
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, &o, &fs.engine, &err), err);
    uv_timer_init(&loop, &fs.release_timer);
    fs.release_timer.data = &fs;
    assert_int_equal(alch_engine_connect_async(fs.engine, on_holder, &fs), 0);
    task tasks[5];
    for (int i = 0; i < 5; i++) {
        tasks[i] = (task){&fs, i + 1};
        assert_int_equal(alch_engine_connect_async(fs.engine, on_task_conn, &tasks[i]), 0);
    }
    assert_int_equal(alch_engine_pool_status(fs.engine).waiting, 6);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(fs.served, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(fs.order[i], i + 1);
    alch_pool_status s = alch_engine_pool_status(fs.engine);
    assert_int_equal(s.size, 1);
    assert_int_equal(s.waiting, 0);
    alch_engine_free(fs.engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Checkouts that wait share the pool's one timer (their deadlines come in checkout order):
 * queuing 50 of them starts no timer each (it did: 50 libuv timers started and stopped). */
static void count_active(uv_handle_t *h, void *arg)
{
    if (uv_is_active(h))
        ++*(int *)arg;
}

static int active_handles(uv_loop_t *loop)
{
    int n = 0;
    uv_walk(loop, count_active, &n);
    return n;
}

static void on_conn_close(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    if (status == 0)
        ++*(int *)data;
    alch_conn_close(c);
}

static void test_waiters_share_one_timer(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 1;
    o.max_overflow = 0;
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e = NULL;
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, &o, &e, &err), err);
    int before = active_handles(&loop), served = 0;
    for (int i = 0; i < 50; i++)
        assert_int_equal(alch_engine_connect_async(e, on_conn_close, &served), 0);
    int added = active_handles(&loop) - before;
    fprintf(stderr, "50 checkouts waiting: %d more active handles\n", added);
    assert_true(added <= 2); /* the pool's timer and the engine's one for deferred steps */
    uv_run(&loop, UV_RUN_DEFAULT); /* served one after another on the pool's one connection */
    assert_int_equal(served, 50);
    assert_int_equal(alch_engine_pool_status(e).waiting, 0);
    alch_engine_free(e);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Many tasks, a small pool: all complete, the pool never grows past size + overflow. */
typedef struct load_state {
    alch_engine *engine;
    int done;
    int failed;
    int max_size;
} load_state;

static void on_load_result(alch_conn *c, int status, alch_result *res, const alch_error *err,
                           void *data)
{
    load_state *ls = alch_conn_get_data(c);
    if (status == 0 && alch_result_rows(res) == 1)
        ls->done++;
    else
        ls->failed++;
    alch_result_free(res);
    alch_pool_status s = alch_engine_pool_status(ls->engine);
    if (s.size > ls->max_size)
        ls->max_size = s.size;
    alch_conn_close(c);
}

static void on_load_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    load_state *ls = data;
    if (status != 0) {
        ls->failed++;
        return;
    }
    alch_conn_set_data(c, ls);
    alch_value p[] = {alch_v(ls->done)};
    if (alch_conn_execute_text_async(c, "SELECT $1::int, pg_sleep(0.001)", p, 1, on_load_result,
                                     NULL) != 0)
        ls->failed++;
}

static void test_many_tasks_small_pool(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 3;
    o.max_overflow = 2;
    alch_error err = ALCH_ERROR_INIT;
    load_state ls = {0};
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, &o, &ls.engine, &err), err);
    for (int i = 0; i < 200; i++)
        assert_int_equal(alch_engine_connect_async(ls.engine, on_load_conn, &ls), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(ls.done, 200);
    assert_int_equal(ls.failed, 0);
    assert_true(ls.max_size <= 5);
    assert_true(alch_engine_pool_status(ls.engine).idle <= 3);
    alch_engine_free(ls.engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void on_canceled(alch_conn *c, int status, const alch_error *err, void *data)
{
    fifo_state *fs = data;
    assert_null(c);
    assert_int_equal(status, ALCH_ECANCELED);
    fs->canceled++;
}

static void on_holder_dispose(alch_conn *c, int status, const alch_error *err, void *data)
{
    fifo_state *fs = data;
    assert_int_equal(status, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(alch_engine_connect_async(fs->engine, on_canceled, fs), 0);
    fs->holder = c;
    uv_timer_start(&fs->release_timer, on_release, 30, 0);
    alch_engine_dispose(fs->engine); /* the three waiters fail; the holder keeps its conn */
}

static void test_dispose_with_waiters(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 1;
    o.max_overflow = 0;
    alch_error err = ALCH_ERROR_INIT;
    fifo_state fs = {.loop = &loop};
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, &o, &fs.engine, &err), err);
    uv_timer_init(&loop, &fs.release_timer);
    fs.release_timer.data = &fs;
    assert_int_equal(alch_engine_connect_async(fs.engine, on_holder_dispose, &fs), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(fs.canceled, 3);
    /* the holder's connection was closed when handed back, not kept */
    alch_pool_status s = alch_engine_pool_status(fs.engine);
    assert_int_equal(s.size, 0);
    alch_engine_free(fs.engine);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Freeing the engine from inside a callback, with a connection still out. */
static void on_free_result(alch_conn *c, int status, alch_result *res, const alch_error *err,
                           void *data)
{
    alch_engine **e = data;
    alch_result_free(res);
    alch_engine_free(*e); /* the connection is still checked out... */
    *e = NULL;
    alch_conn_close(c); /* ...and the engine goes with it */
}

static void on_free_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    assert_int_equal(status, 0);
    assert_int_equal(alch_conn_execute_text_async(c, "SELECT 1", NULL, 0, on_free_result, data), 0);
}

static void test_free_engine_in_callback(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e = NULL;
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, NULL, &e, &err), err);
    assert_int_equal(alch_engine_connect_async(e, on_free_conn, &e), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_null(e);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- begin once, async ------------------------------------------------------------------ */

typedef struct atx {
    int64_t value;
    bool fail;
    int status;
    int calls;
} atx;

static void on_atx_insert(alch_conn *c, int status, alch_result *res, const alch_error *err,
                          void *data)
{
    alch_tx *tx = alch_conn_get_data(c);
    atx *a = data;
    alch_result_free(res);
    if (status == 0 && a->fail) {
        alch_error mine = ALCH_ERROR_INIT;
        mine.code = ALCH_EDATA;
        mine.message = "the work decided to fail";
        alch_tx_done(tx, ALCH_EDATA, &mine);
        return;
    }
    alch_tx_done(tx, status, err);
}

static void atx_work(alch_tx *tx, alch_conn *c, void *data)
{
    atx *a = data;
    alch_conn_set_data(c, tx);
    alch_value p[] = {alch_v(a->value)};
    assert_int_equal(
        alch_conn_execute_text_async(c, "INSERT INTO ab VALUES ($1)", p, 1, on_atx_insert, a), 0);
}

static void atx_done(int status, const alch_error *err, void *data)
{
    atx *a = data;
    a->status = status;
    a->calls++;
    if (status)
        assert_string_equal(err->message, "the work decided to fail");
}

static void test_engine_begin_async(void **state)
{
    alch_engine *se = sync_engine(NULL);
    alch_conn *c = checkout(se);
    exec_ok(c, "CREATE TABLE IF NOT EXISTS ab (v int)");
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_conn_commit(c, &err), err);
    alch_conn_close(c);

    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine *e = NULL;
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, NULL, &e, &err), err);
    atx good = {5, false, 1, 0}, bad = {6, true, 0, 0};
    assert_int_equal(alch_engine_begin_async(e, atx_work, atx_done, &good), 0);
    assert_int_equal(alch_engine_begin_async(e, atx_work, atx_done, &bad), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(good.calls, 1);
    assert_int_equal(good.status, 0);
    assert_int_equal(bad.calls, 1);
    assert_int_equal(bad.status, ALCH_EDATA);
    alch_engine_free(e);
    uv_run(&loop, UV_RUN_DEFAULT); /* closing handles finishes on the loop, as in libuv */
    assert_int_equal(uv_loop_close(&loop), 0);

    c = checkout(se);
    assert_int_equal(scalar(c, "SELECT coalesce(sum(v), 0)::int FROM ab"), 5);
    alch_conn_close(c);
    alch_engine_free(se);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_validated),
        cmocka_unit_test(test_isolation_and_autocommit),
        cmocka_unit_test(test_statement_timeout),
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_asyncpg_url),
        cmocka_unit_test(test_implicit_transaction_rolled_back_on_return),
        cmocka_unit_test(test_engine_begin),
        cmocka_unit_test(test_engine_begin_async),
        cmocka_unit_test(test_pool_exhausted),
        cmocka_unit_test(test_pool_timeout_zero),
        cmocka_unit_test(test_dead_idle_connection_replaced),
        cmocka_unit_test(test_recycle),
        cmocka_unit_test(test_statement_cache_lru),
        cmocka_unit_test(test_waiters_served_fifo),
        cmocka_unit_test(test_waiters_share_one_timer),
        cmocka_unit_test(test_many_tasks_small_pool),
        cmocka_unit_test(test_dispose_with_waiters),
        cmocka_unit_test(test_free_engine_in_callback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
