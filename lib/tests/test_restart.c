/* A server restart with a query in flight: the query fails with an operational error,
 * the pool throws the dead connections away, the next checkout works, nothing leaks.
 * It restarts the shared sandbox, so CTest runs it alone (RUN_SERIAL). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include <alch/alch.h>

#include "support.h"

static char *db_url;

static int setup(void **state)
{
    db_url = alch_test_db_create("restart");
    return db_url ? 0 : -1;
}

static int teardown(void **state)
{
    alch_test_db_drop(db_url);
    return 0;
}

typedef struct restart_state {
    alch_engine *engine;
    uv_loop_t *loop;
    int query_status;
    int restart_exit;
    int after_status;
    int64_t after_value;
    uv_process_t proc;
    uv_timer_t timer;
} restart_state;

static void on_after_result(alch_conn *c, int status, alch_result *res, const alch_error *err,
                            void *data)
{
    restart_state *rs = data;
    rs->after_status = status;
    if (status == 0)
        alch_result_get_int(res, 0, 0, &rs->after_value, NULL);
    alch_result_free(res);
    alch_conn_close(c);
}

static void on_after_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    restart_state *rs = data;
    rs->after_status = status;
    if (status == 0)
        alch_conn_execute_text_async(c, "SELECT 99", NULL, 0, on_after_result, rs);
}

static void on_restarted(uv_process_t *p, int64_t exit_status, int term_signal)
{
    restart_state *rs = p->data;
    rs->restart_exit = (int)exit_status;
    uv_close((uv_handle_t *)p, NULL);
    /* the next checkout must work: dead idle connections are thrown away */
    assert_int_equal(alch_engine_connect_async(rs->engine, on_after_conn, rs), 0);
}

static void on_slow_result(alch_conn *c, int status, alch_result *res, const alch_error *err,
                           void *data)
{
    restart_state *rs = data;
    rs->query_status = status;
    alch_result_free(res);
    alch_conn_close(c);
}

static void on_restart_timer(uv_timer_t *t)
{
    restart_state *rs = t->data;
    uv_close((uv_handle_t *)t, NULL);
    char *args[] = {(char *)getenv("ALCH_PGSANDBOX"), "restart", (char *)getenv("ALCH_SANDBOX_DIR"),
                    NULL};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t po = {
        .file = args[0], .args = args, .exit_cb = on_restarted, .stdio = stdio, .stdio_count = 3};
    rs->proc.data = rs;
    assert_int_equal(uv_spawn(rs->loop, &rs->proc, &po), 0);
}

static void on_slow_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    restart_state *rs = data;
    assert_int_equal(status, 0);
    assert_int_equal(
        alch_conn_execute_text_async(c, "SELECT pg_sleep(30)", NULL, 0, on_slow_result, rs), 0);
    uv_timer_start(&rs->timer, on_restart_timer, 100, 0);
}

static void on_idle_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    assert_int_equal(status, 0);
    alch_conn_close(c); /* leaves one idle connection in the pool */
}

static void test_server_restart(void **state)
{
    if (!alch_test_is_sandbox() || !getenv("ALCH_PGSANDBOX"))
        skip(); /* never restart a server we do not own */
    uv_loop_t loop;
    uv_loop_init(&loop);
    restart_state rs = {.loop = &loop, .query_status = 1, .after_status = 1};
    assert_int_equal(alch_engine_create_on_loop(&loop, db_url, NULL, &rs.engine, NULL), 0);
    uv_timer_init(&loop, &rs.timer);
    rs.timer.data = &rs;
    assert_int_equal(alch_engine_connect_async(rs.engine, on_idle_conn, &rs), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(alch_engine_connect_async(rs.engine, on_slow_conn, &rs), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(rs.restart_exit, 0);
    assert_int_equal(rs.query_status, ALCH_EOPERATIONAL); /* the in-flight query failed */
    assert_int_equal(rs.after_status, 0);                 /* the pool recovered */
    assert_int_equal(rs.after_value, 99);
    alch_engine_free(rs.engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- a hundred tasks in flight ----------------------------------------------------------- */

/* A hundred tasks start at once; each finished task starts another until the restart has cut
 * one off (so a restart slow to begin on a loaded machine still meets tasks in flight), at
 * most MAX_TASKS in all. */
enum { TASKS = 100, MAX_TASKS = 5000 };

typedef struct crowd {
    restart_state rs;
    alch_sessionmaker *maker;
    alch_base *base;
    int started, done, ok, operational, other;
    bool restarted;
} crowd;

static void on_task(alch_session *s, int status, alch_result *res, const alch_error *err,
                    void *data);

static void start_task(crowd *cr)
{
    alch_session *s = NULL;
    assert_int_equal(alch_session_open(cr->maker, &s, NULL), 0);
    assert_int_equal(
        alch_session_execute_text_async(s, "SELECT pg_sleep(0.05)", NULL, 0, on_task, cr), 0);
    cr->started++;
}

static void on_task(alch_session *s, int status, alch_result *res, const alch_error *err,
                    void *data)
{
    crowd *cr = data;
    if (status == 0) {
        cr->ok++;
        alch_result_free(res);
    } else if (status == ALCH_EOPERATIONAL) {
        cr->operational++;
    } else {
        cr->other++;
        fprintf(stderr, "unexpected: %s: %s\n", alch_strerror(status),
                err && err->message ? err->message : "");
    }
    cr->done++;
    alch_session_close(s);
    if (!cr->operational && !cr->restarted && cr->started < MAX_TASKS)
        start_task(cr);
}

static void on_crowd_restarted(uv_process_t *p, int64_t exit_status, int term_signal)
{
    crowd *cr = p->data;
    cr->rs.restart_exit = (int)exit_status;
    cr->restarted = true;
    uv_close((uv_handle_t *)p, NULL);
}

static void on_crowd_timer(uv_timer_t *t)
{
    crowd *cr = t->data;
    uv_close((uv_handle_t *)t, NULL);
    char *args[] = {(char *)getenv("ALCH_PGSANDBOX"), "restart", (char *)getenv("ALCH_SANDBOX_DIR"),
                    NULL};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t po = {.file = args[0],
                               .args = args,
                               .exit_cb = on_crowd_restarted,
                               .stdio = stdio,
                               .stdio_count = 3};
    cr->rs.proc.data = cr;
    assert_int_equal(uv_spawn(cr->rs.loop, &cr->rs.proc, &po), 0);
}

static void test_restart_with_tasks(void **state)
{
    if (!alch_test_is_sandbox() || !getenv("ALCH_PGSANDBOX"))
        skip();
    uv_loop_t loop;
    uv_loop_init(&loop);
    crowd *cr = calloc(1, sizeof *cr);
    cr->rs.loop = &loop;
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 10;
    o.max_overflow = 0;
    o.pool_timeout_ms = 60000;
    assert_int_equal(alch_engine_create_on_loop(&loop, db_url, &o, &cr->rs.engine, NULL), 0);
    assert_int_equal(alch_base_create(&cr->base, NULL), 0);
    assert_int_equal(alch_sessionmaker_create(cr->rs.engine, cr->base, NULL, &cr->maker, NULL), 0);
    for (int i = 0; i < TASKS; i++)
        start_task(cr);
    uv_timer_init(&loop, &cr->rs.timer);
    cr->rs.timer.data = cr;
    uv_timer_start(&cr->rs.timer, on_crowd_timer, 120, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    fprintf(stderr, "%d tasks: %d answered, %d operational errors, %d other\n", cr->done, cr->ok,
            cr->operational, cr->other);
    assert_true(cr->restarted);
    assert_int_equal(cr->rs.restart_exit, 0);
    assert_int_equal(cr->done, cr->started); /* every task heard back */
    assert_int_equal(cr->other, 0);
    assert_true(cr->ok > 0);          /* some ran before the restart */
    assert_true(cr->operational > 0); /* some were cut off by it */

    /* the pool recovered: a new task runs */
    cr->done = cr->ok = cr->started = 0;
    alch_session *s = NULL;
    assert_int_equal(alch_session_open(cr->maker, &s, NULL), 0);
    assert_int_equal(alch_session_execute_text_async(s, "SELECT 1", NULL, 0, on_task, cr), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(cr->ok, 1);
    alch_sessionmaker_free(cr->maker);
    alch_base_free(cr->base);
    alch_engine_free(cr->rs.engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(cr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_restart),
        cmocka_unit_test(test_restart_with_tasks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
