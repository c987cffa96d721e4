/* Async for real, against a real server: cancel and the client-side timeout without
 * blocking the loop; a thousand tasks sharing a pool of five, served first come first
 * served, never more connections than the pool allows; an engine freed from inside a
 * callback while tasks wait. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alch/alch.h>
#include <libpq-fe.h>
#include <uv.h>

#include "support.h"

static char *db_url;

static int setup(void **state)
{
    (void)state;
    db_url = alch_test_db_create("async");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alch_test_db_drop(db_url);
    return 0;
}

/* The latest a cancel or a timeout may end a statement that would sleep 10 s, for a test to
 * pass: what it shows is that the statement did not run its 10 s, not how quick the machine
 * is. A cancel request is a new connection to the server (a process forked for it), so on a
 * loaded machine (CI runs tests side by side) or under Valgrind it can take seconds; the
 * times actually taken are printed. */
static double bound_ms(double idle_ms)
{
    double ms = idle_ms * (getenv("ALCH_UNDER_VALGRIND") ? 30.0 : 10.0);
    return ms < 8000.0 ? ms : 8000.0;
}

static double now_ms(uv_loop_t *loop)
{
    uv_update_time(loop);
    return (double)uv_hrtime() / 1e6;
}

/* ---- cancel ----------------------------------------------------------------------------- */

typedef struct cancel_run {
    uv_loop_t *loop;
    alch_engine *engine;
    alch_conn *conn;
    uv_timer_t timer;
    double asked_at, failed_at;
    int sleep_status, after_status;
    char message[256];
    int64_t after;
    bool at_once; /* cancel right after sending: the request may land before the statement */
} cancel_run;

static void after_cancel(alch_conn *c, int status, alch_result *res, const alch_error *err,
                         void *data)
{
    (void)err;
    cancel_run *r = data;
    r->after_status = status;
    if (status == 0)
        alch_result_get_int(res, 0, 0, &r->after, NULL);
    alch_result_free(res);
    alch_conn_close(c);
}

static void after_rollback(alch_conn *c, int status, alch_result *res, const alch_error *err,
                           void *data)
{
    (void)err;
    assert_int_equal(status, 0);
    alch_result_free(res);
    assert_int_equal(alch_conn_execute_text_async(c, "SELECT 42", NULL, 0, after_cancel, data), 0);
}

static void on_sleep_done(alch_conn *c, int status, alch_result *res, const alch_error *err,
                          void *data)
{
    cancel_run *r = data;
    r->failed_at = now_ms(r->loop);
    r->sleep_status = status;
    snprintf(r->message, sizeof r->message, "%s", err && err->message ? err->message : "");
    alch_result_free(res);
    /* the cancel failed the transaction: roll it back, then the same connection goes on */
    assert_int_equal(alch_conn_rollback_async(c, after_rollback, r), 0);
}

static void on_timer(uv_timer_t *t)
{
    cancel_run *r = t->data;
    r->asked_at = now_ms(r->loop);
    assert_int_equal(alch_conn_cancel(r->conn), 0);
    assert_int_equal(alch_conn_cancel(r->conn), 0); /* asking twice is harmless */
    uv_close((uv_handle_t *)t, NULL);
}

static void on_conn_for_cancel(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    cancel_run *r = data;
    assert_int_equal(status, 0);
    r->conn = c;
    assert_int_equal(alch_conn_cancel(c), ALCH_EMISUSE); /* nothing runs yet */
    assert_int_equal(
        alch_conn_execute_text_async(c, "SELECT pg_sleep(10)", NULL, 0, on_sleep_done, r), 0);
    if (r->at_once) {
        r->asked_at = now_ms(r->loop);
        assert_int_equal(alch_conn_cancel(c), 0);
        return;
    }
    uv_timer_init(r->loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_timer, 50, 0);
}

static void cancel_case(bool at_once)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    cancel_run r = {.loop = &loop, .at_once = at_once};
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, NULL, &r.engine, &err), err);
    assert_int_equal(alch_engine_connect_async(r.engine, on_conn_for_cancel, &r), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.sleep_status, ALCH_ECANCELED);
    assert_string_equal(r.message, "the statement was cancelled (alch_conn_cancel)");
    printf("cancelled %.1f ms after asking%s\n", r.failed_at - r.asked_at,
           at_once ? " (asked at once)" : "");
    /* at once, the first request may land before the statement runs and be dropped by the
     * server; the next one, 100 ms later, gets it */
    assert_true(r.failed_at - r.asked_at < bound_ms(at_once ? 600.0 : 200.0));
    assert_int_equal(r.after_status, 0);
    assert_int_equal(r.after, 42);
    alch_engine_free(r.engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_cancel(void **state)
{
    (void)state;
    cancel_case(false);
    for (int i = 0; i < 5; i++)
        cancel_case(true);
}

/* ---- the client-side timeout (sync face) ----------------------------------------------- */

static void test_timeout(void **state)
{
    (void)state;
    alch_engine_options o = alch_engine_options_default();
    o.query_timeout_ms = 100;
    alch_engine *e = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(db_url, &o, &e, &err), err);
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(e, &c, &err), err);
    uint64_t t0 = uv_hrtime();
    int rc = alch_conn_execute_text(c, "SELECT pg_sleep(10)", NULL, 0, NULL, &err);
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    assert_int_equal(rc, ALCH_ETIMEOUT);
    assert_non_null(strstr(err.message, "ran longer than 100 ms (query_timeout_ms)"));
    assert_string_equal(err.sqlstate, "57014");
    alch_error_clear(&err);
    printf("timed out after %.1f ms\n", ms);
    assert_true(ms >= 100.0 && ms < bound_ms(400.0));
    CHECK_OK(alch_conn_rollback(c, &err), err); /* the transaction failed with it */
    alch_result *res = NULL;
    CHECK_OK(alch_conn_execute_text(c, "SELECT 1", NULL, 0, &res, &err), err);
    alch_result_free(res);
    /* the timer is armed again for the next statement (it sleeps 3 s, far past the 100 ms,
     * so a cancel that takes long to reach the server under Valgrind still lands first),
     * and a quick statement after it is not affected by the timer of the one before */
    CHECK_OK(alch_conn_execute_text(c, "SELECT pg_sleep(3)", NULL, 0, NULL, &err) ==
                     ALCH_ETIMEOUT
                 ? 0
                 : -1,
             err);
    alch_error_clear(&err);
    CHECK_OK(alch_conn_rollback(c, &err), err);
    CHECK_OK(alch_conn_execute_text(c, "SELECT pg_sleep(0.01)", NULL, 0, NULL, &err), err);
    alch_conn_close(c);
    alch_engine_free(e);
}

/* ---- a thousand tasks, a pool of five ---------------------------------------------------- */

enum { TASKS = 1000, POOL = 5, OVERFLOW = 2 };

typedef struct crowd {
    uv_loop_t *loop;
    alch_engine *engine;
    int next_expected; /* FIFO: task i gets a connection before task i + 1 */
    int order_errors;
    int done, failed;
    int max_seen; /* most server connections seen at once */
    PGconn *watch;
    uv_timer_t sampler;
    int ids[TASKS];
} crowd;

static void on_task_done(alch_conn *c, int status, alch_result *res, const alch_error *err,
                         void *data)
{
    (void)err;
    int *id = data;
    crowd *cr = (crowd *)((char *)(id - *id) - offsetof(crowd, ids));
    alch_result_free(res);
    alch_conn_close(c);
    if (status)
        cr->failed++;
    if (++cr->done == TASKS)
        uv_close((uv_handle_t *)&cr->sampler, NULL);
}

static void on_task_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    int *id = data;
    crowd *cr = (crowd *)((char *)(id - *id) - offsetof(crowd, ids));
    if (status) {
        cr->failed++;
        cr->done++;
        return;
    }
    if (*id != cr->next_expected)
        cr->order_errors++;
    cr->next_expected = *id + 1;
    assert_int_equal(
        alch_conn_execute_text_async(c, "SELECT pg_sleep(0.001)", NULL, 0, on_task_done, id), 0);
}

static void sample(uv_timer_t *t)
{
    crowd *cr = t->data;
    PGresult *r = PQexec(cr->watch, "SELECT count(*) FROM pg_stat_activity "
                                    "WHERE application_name = 'alch_crowd'");
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (n > cr->max_seen)
        cr->max_seen = n;
}

static void test_crowd(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    crowd *cr = calloc(1, sizeof *cr);
    cr->loop = &loop;
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = POOL;
    o.max_overflow = OVERFLOW;
    alch_error err = ALCH_ERROR_INIT;
    char url[1024];
    snprintf(url, sizeof url, "%s%sapplication_name=alch_crowd", db_url,
             strchr(db_url, '?') ? "&" : "?");
    CHECK_OK(alch_engine_create_on_loop(&loop, url, &o, &cr->engine, &err), err);
    cr->watch = alch_test_pq(db_url);
    uv_timer_init(&loop, &cr->sampler);
    cr->sampler.data = cr;
    uv_timer_start(&cr->sampler, sample, 1, 5);
    for (int i = 0; i < TASKS; i++) {
        cr->ids[i] = i;
        assert_int_equal(alch_engine_connect_async(cr->engine, on_task_conn, &cr->ids[i]), 0);
    }
    alch_pool_status ps = alch_engine_pool_status(cr->engine);
    assert_int_equal(ps.waiting, TASKS); /* nothing runs before the loop does */
    uv_run(&loop, UV_RUN_DEFAULT);
    printf("%d tasks, %d failed, at most %d server connections seen\n", cr->done, cr->failed,
           cr->max_seen);
    assert_int_equal(cr->done, TASKS);
    assert_int_equal(cr->failed, 0);
    assert_int_equal(cr->order_errors, 0);
    assert_true(cr->max_seen >= 1 && cr->max_seen <= POOL + OVERFLOW);
    ps = alch_engine_pool_status(cr->engine);
    assert_true(ps.size <= POOL);
    assert_int_equal(ps.checked_out, 0);
    PQfinish(cr->watch);
    alch_engine_free(cr->engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(cr);
}

/* ---- freeing the engine from inside a callback ------------------------------------------- */

typedef struct freeing {
    alch_engine *engine;
    int ok, refused;
} freeing;

static void on_exec_then_free(alch_conn *c, int status, alch_result *res, const alch_error *err,
                              void *data)
{
    (void)err;
    freeing *f = data;
    assert_int_equal(status, 0);
    alch_result_free(res);
    /* others are still waiting for a connection: this one is not back yet (once back, it
     * would go straight to the next of them, its ROLLBACK on its way) */
    alch_engine_free(f->engine);
    f->engine = NULL;
    alch_conn_close(c);
}

static void on_conn_then_free(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    freeing *f = data;
    if (status) {
        f->refused++;
        return;
    }
    if (f->ok++ == 0)
        assert_int_equal(alch_conn_execute_text_async(c, "SELECT 1", NULL, 0, on_exec_then_free, f),
                         0);
    else
        alch_conn_close(c);
}

static void test_free_in_callback(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 1;
    o.max_overflow = 0;
    freeing f = {0};
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, &o, &f.engine, &err), err);
    for (int i = 0; i < 10; i++)
        assert_int_equal(alch_engine_connect_async(f.engine, on_conn_then_free, &f), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_null(f.engine);
    assert_int_equal(f.ok, 1);
    assert_int_equal(f.refused, 9); /* the waiters were told, not forgotten */
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- LISTEN / NOTIFY ------------------------------------------------------------------------ */

typedef struct listen_run {
    alch_engine *engine;
    alch_listener *listener;
    bool listening;
    int got;
    int sender_pid;
    char payloads[2][128];
    int pids[2];
    char channel[64];
    int failed;
} listen_run;

static void on_notified(alch_conn *c, int status, alch_result *res, const alch_error *err,
                        void *data)
{
    (void)err;
    listen_run *r = data;
    assert_int_equal(status, 0);
    alch_result_free(res);
    r->sender_pid = alch_conn_backend_pid(c);
    alch_conn_close(c);
}

static void send_notifications(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    assert_int_equal(status, 0);
    /* values, not SQL: a quote in the payload is just a character */
    alch_value v[] = {alch_text("shop events"), alch_text("item 5 'sold' (x2)")};
    assert_int_equal(
        alch_conn_execute_text_async(c, "SELECT pg_notify($1, $2), pg_notify($1, 'second')", v, 2,
                                     on_notified, data),
        0);
}

static void on_event(alch_listener *l, int status, const alch_notification *n,
                     const alch_error *err, void *data)
{
    (void)err;
    listen_run *r = data;
    if (status) {
        r->failed++;
        alch_listener_close(l);
        return;
    }
    if (!n) { /* LISTEN is in place: now send */
        r->listening = true;
        assert_int_equal(alch_engine_connect_async(r->engine, send_notifications, r), 0);
        return;
    }
    snprintf(r->channel, sizeof r->channel, "%s", n->channel);
    snprintf(r->payloads[r->got], sizeof r->payloads[0], "%s", n->payload);
    r->pids[r->got] = n->pid;
    if (++r->got == 2) {
        alch_listener_close(l); /* closing inside its own callback */
        r->listener = NULL;
    }
}

static void test_listen(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    listen_run r = {0};
    alch_engine_options o = alch_engine_options_default();
    o.isolation_level = "AUTOCOMMIT"; /* the NOTIFY is delivered when its statement commits */
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, &o, &r.engine, &err), err);
    CHECK_OK(alch_engine_listen_async(r.engine, "shop events", on_event, &r, &r.listener, &err),
             err);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(r.listening);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.got, 2);
    assert_string_equal(r.channel, "shop events");
    assert_string_equal(r.payloads[0], "item 5 'sold' (x2)");
    assert_string_equal(r.payloads[1], "second");
    assert_int_equal(r.pids[0], r.sender_pid);

    /* a listener closed before it even connected, and one on a sync engine */
    alch_listener *early = NULL;
    CHECK_OK(alch_engine_listen_async(r.engine, "x", on_event, &r, &early, &err), err);
    alch_listener_close(early);
    alch_engine_free(r.engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    alch_engine *sync = NULL;
    CHECK_OK(alch_engine_create(db_url, NULL, &sync, &err), err);
    assert_int_equal(alch_engine_listen_async(sync, "x", on_event, &r, &early, &err), ALCH_EMISUSE);
    assert_non_null(strstr(err.message, "needs an async engine"));
    alch_error_clear(&err);
    alch_engine_free(sync);
}

static void on_resolve_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    *(int *)data = status;
    if (c)
        alch_conn_close(c);
}

/* ---- host names are looked up off the loop ------------------------------------------------ */

static void test_resolve(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    /* the lookup fails: our sentence, not a frozen loop inside libpq */
    assert_int_equal(alch_conn_open("postgresql://alch@no-such-host.invalid/db", &c, &err),
                     ALCH_EOPERATIONAL);
    assert_non_null(strstr(err.message, "could not translate host name \"no-such-host.invalid\""));
    alch_error_clear(&err);
    /* a name that resolves reaches libpq as an address; nothing listens on port 1 */
    assert_int_equal(alch_conn_open("postgresql://alch@localhost:1/db", &c, &err),
                     ALCH_EOPERATIONAL);
    assert_non_null(strstr(err.message, "port 1 failed"));
    alch_error_clear(&err);
    /* a host that does not resolve is skipped, the next one is tried */
    assert_int_equal(
        alch_conn_open("postgresql://alch@no-such-host.invalid:1,localhost:2/db", &c, &err),
        ALCH_EOPERATIONAL);
    assert_non_null(strstr(err.message, "port 2 failed"));
    alch_error_clear(&err);
    /* and the same through an async engine's pool */
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine *e = NULL;
    CHECK_OK(alch_engine_create_on_loop(&loop, "postgresql://alch@no-such-host.invalid/db", NULL,
                                        &e, &err),
             err);
    int status = 0;
    assert_int_equal(alch_engine_connect_async(e, on_resolve_conn, &status), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(status, ALCH_EOPERATIONAL);
    alch_engine_free(e);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel), cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_crowd),  cmocka_unit_test(test_free_in_callback),
        cmocka_unit_test(test_listen), cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
