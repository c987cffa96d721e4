/* Faults: nothing waits forever, and errors keep their reason.
 *
 * - A server that accepts TCP and never speaks: the checkout ends within pool_timeout, or
 *   within the connect timeout, with a sentence saying the server never answered.
 * - A backend terminated (pg_terminate_backend), killed (SIGKILL) or restarted (pg_ctl
 *   restart -m fast) during a large pipelined flush: the caller gets an OperationalError
 *   whose sentence names the real cause (with its SQLSTATE when the server sent one), no
 *   row is committed, and the next checkout works.
 * - A backend stopped with SIGSTOP: query_timeout_ms ends the wait.
 * - A connection closed inside a transaction goes to the next borrower with its ROLLBACK on
 *   the way; its backend terminated before the close, or after the hand-off: the borrower
 *   gets another connection, or an OperationalError that says why, never the old transaction.
 *
 * It kills backends (a SIGKILL makes the server restart every session) and restarts the
 * sandbox, so CTest runs it alone (RUN_SERIAL). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <alch/alch.h>

#include "support.h"

static char *db_url;

static int setup(void **state)
{
    db_url = alch_test_db_create("faults");
    return db_url ? 0 : -1;
}

static int teardown(void **state)
{
    alch_test_db_drop(db_url);
    return 0;
}

static double slow_factor(void)
{
    return getenv("ALCH_UNDER_VALGRIND") ? 10.0 : 1.0;
}

/* ---- a server that accepts and never speaks ------------------------------------------- */

/* A listener on 127.0.0.1, port chosen by the kernel; nobody ever accept()s: the kernel
 * completes the handshake and the client waits for a greeting that never comes. */
static int silent_listener(char *url, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    assert_int_equal(listen(fd, 16), 0);
    snprintf(url, size, "postgresql://alch@127.0.0.1:%d/db", ntohs(addr.sin_port));
    return fd;
}

static double seconds_since(uint64_t t0)
{
    return (double)(uv_hrtime() - t0) / 1e9;
}

static void test_default_connect_timeout(void **state)
{
    alch_engine_options o = alch_engine_options_default();
    assert_int_equal(o.connect_timeout_ms, ALCH_CONNECT_TIMEOUT_DEFAULT_MS);
    assert_int_equal(ALCH_CONNECT_TIMEOUT_DEFAULT_MS, 10000);
    assert_int_equal(o.pool_timeout_ms, 30000);
}

/* pool_timeout covers the whole checkout, connecting included */
static void test_silent_server_pool_timeout(void **state)
{
    char url[128];
    int fd = silent_listener(url, sizeof url);
    alch_engine_options o = alch_engine_options_default();
    o.pool_timeout_ms = 500; /* connect_timeout_ms stays at its 10 s default */
    alch_engine *e = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(url, &o, &e, &err), err);
    alch_conn *c = NULL;
    uint64_t t0 = uv_hrtime();
    assert_int_equal(alch_engine_connect(e, &c, &err), ALCH_ETIMEOUT);
    double s = seconds_since(t0);
    fprintf(stderr, "silent server, pool_timeout_ms 500: %.3f s: %s\n", s, err.message);
    assert_true(s >= 0.45 && s < 0.5 + 2.0 * slow_factor());
    assert_non_null(strstr(err.message, "no connection within 0.5 s (pool_timeout_ms): "
                                        "1 connection still opening"));
    assert_non_null(err.hint);
    alch_error_clear(&err);
    alch_pool_status ps = alch_engine_pool_status(e);
    assert_int_equal(ps.size, 1); /* the attempt goes on, counted */
    assert_int_equal(ps.checked_out, 0);
    t0 = uv_hrtime();
    alch_engine_free(e); /* abandons the attempt: does not wait for the connect timeout */
    assert_true(seconds_since(t0) < 1.0 * slow_factor());
    close(fd);
}

/* the connect timeout bounds one attempt, with a sentence that says what happened */
static void test_silent_server_connect_timeout(void **state)
{
    char url[128];
    int fd = silent_listener(url, sizeof url);
    alch_engine_options o = alch_engine_options_default();
    o.connect_timeout_ms = 300;
    alch_engine *e = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(url, &o, &e, &err), err);
    alch_conn *c = NULL;
    uint64_t t0 = uv_hrtime();
    assert_int_equal(alch_engine_connect(e, &c, &err), ALCH_ETIMEOUT);
    double s = seconds_since(t0);
    fprintf(stderr, "silent server, connect_timeout_ms 300: %.3f s: %s\n", s, err.message);
    assert_true(s >= 0.28 && s < 0.3 + 2.0 * slow_factor());
    assert_non_null(strstr(err.message, "could not connect to 127.0.0.1 port "));
    assert_non_null(
        strstr(err.message, "within 0.3 s: the server accepted the connection but never answered"));
    alch_error_clear(&err);
    alch_engine_free(e);

    /* a standalone connection: connect_timeout in the URL */
    char with_timeout[160];
    snprintf(with_timeout, sizeof with_timeout, "%s?connect_timeout=2", url);
    t0 = uv_hrtime();
    assert_int_equal(alch_conn_open(with_timeout, &c, &err), ALCH_ETIMEOUT);
    s = seconds_since(t0);
    assert_true(s >= 1.9 && s < 2.0 + 2.0 * slow_factor());
    assert_non_null(strstr(err.message, "within 2.0 s"));
    alch_error_clear(&err);
    close(fd);
}

/* ---- host names ----------------------------------------------------------------------- */

/* A name that cannot exist: a label longer than DNS's 63 bytes, under .invalid (RFC 2606).
 * The resolver refuses it without asking any server, so the test needs no network. */
static void test_unresolvable_host(void **state)
{
    char url[200];
    snprintf(url, sizeof url, "postgresql://alch@%s.invalid:5432/db",
             "no-such-host-no-such-host-no-such-host-no-such-host-no-such-host-x");
    alch_engine *e = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(url, NULL, &e, &err), err);
    alch_conn *c = NULL;
    uint64_t t0 = uv_hrtime();
    assert_int_equal(alch_engine_connect(e, &c, &err), ALCH_EOPERATIONAL);
    double s = seconds_since(t0);
    char *text = alch_error_format(&err);
    fprintf(stderr, "a host name that does not resolve: %.3f s:\n%s\n", s, text);
    assert_true(s < 1.0 * slow_factor()); /* at once, not after connect_timeout_ms */
    assert_non_null(strstr(text, "OperationalError: could not translate host name "
                                 "\"no-such-host-"));
    assert_non_null(strstr(text, ".invalid\" to address: "));
    assert_non_null(strstr(text, "HINT: check the host name in the URL"));
    free(text);
    alch_error_clear(&err);
    alch_engine_free(e);
}

/* Work that holds a thread of libuv's pool until released. */
typedef struct blocker {
    uv_work_t work;
    uv_sem_t *started, *release;
} blocker;

static void block_thread(uv_work_t *w)
{
    blocker *b = w->data;
    uv_sem_post(b->started);
    uv_sem_wait(b->release);
}

static void blocked_done(uv_work_t *w, int status)
{
}

/* A lookup that does not finish: every thread of libuv's pool (where uv_getaddrinfo runs)
 * is busy, so the lookup of "localhost" waits in the queue. connect_timeout_ms covers the
 * lookup too, and the sentence names the host and says what did not finish. */
static void test_lookup_timeout(void **state)
{
    const char *size = getenv("UV_THREADPOOL_SIZE");
    int threads = size && atoi(size) > 0 ? atoi(size) : 4;
    if (threads > 128)
        threads = 128; /* libuv's own maximum: 1024; far more than any test sets */
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_sem_t started, release;
    uv_sem_init(&started, 0);
    uv_sem_init(&release, 0);
    blocker *b = calloc((size_t)threads, sizeof *b);
    for (int i = 0; i < threads; i++) {
        b[i] = (blocker){.started = &started, .release = &release};
        b[i].work.data = &b[i];
        assert_int_equal(uv_queue_work(&loop, &b[i].work, block_thread, blocked_done), 0);
    }
    for (int i = 0; i < threads; i++)
        uv_sem_wait(&started); /* every thread is held */

    alch_engine_options o = alch_engine_options_default();
    o.connect_timeout_ms = 300;
    alch_engine *e = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create("postgresql://alch@localhost:5432/db", &o, &e, &err), err);
    alch_conn *c = NULL;
    uint64_t t0 = uv_hrtime();
    int rc = alch_engine_connect(e, &c, &err);
    double s = seconds_since(t0);
    for (int i = 0; i < threads; i++)
        uv_sem_post(&release);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(b);
    uv_sem_destroy(&started);
    uv_sem_destroy(&release);

    fprintf(stderr, "a lookup that does not finish, connect_timeout_ms 300: %.3f s: %s\n", s,
            err.message);
    assert_int_equal(rc, ALCH_ETIMEOUT);
    assert_true(s >= 0.28 && s < 0.3 + 2.0 * slow_factor());
    assert_string_equal(err.message,
                        "could not connect to localhost port 5432 within 0.3 s: the host name "
                        "lookup did not finish");
    alch_error_clear(&err);
    alch_engine_free(e);
}

/* ---- a fault during a large pipelined flush ------------------------------------------- */

enum { ROWS = 60000 };

typedef struct fault_run fault_run;
struct fault_run {
    uv_loop_t loop;
    alch_engine *engine;
    alch_value *params;
    void (*inject)(fault_run *f);
    uv_timer_t timer;
    PGconn *locker; /* holds the flush's last key until the flush ends: it cannot end first */
    int pid;
    bool done;
    int status;
    alch_error err;
    uint64_t t_fault, t_done;
    int64_t after;
    int after_status;
    int retries;
};

static void on_after(alch_conn *c, int status, alch_result *res, const alch_error *err,
                     void *data)
{
    fault_run *f = data;
    f->after_status = status;
    if (status == 0)
        alch_result_get_int(res, 0, 0, &f->after, NULL);
    alch_result_free(res);
    alch_conn_close(c);
}

static void on_after_conn(alch_conn *c, int status, const alch_error *err, void *data);

static void on_retry_timer(uv_timer_t *t)
{
    fault_run *f = t->data;
    assert_int_equal(alch_engine_connect_async(f->engine, on_after_conn, f), 0);
}

static void on_after_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    fault_run *f = data;
    f->after_status = status;
    if (status == 0) {
        uv_close((uv_handle_t *)&f->timer, NULL);
        assert_int_equal(
            alch_conn_execute_text_async(c, "SELECT count(*) FROM flushed", NULL, 0, on_after, f),
            0);
    } else if (++f->retries < 100) { /* after a crash the server recovers for a moment */
        uv_timer_start(&f->timer, on_retry_timer, 100, 0);
    } else {
        uv_close((uv_handle_t *)&f->timer, NULL);
    }
}

static void on_flushed(alch_conn *c, int status, alch_result *res, const alch_error *err,
                       void *data)
{
    fault_run *f = data;
    f->done = true;
    f->status = status;
    f->t_done = uv_hrtime();
    if (err) {
        f->err.code = err->code;
        memcpy(f->err.sqlstate, err->sqlstate, sizeof f->err.sqlstate);
        f->err.message = strdup(err->message ? err->message : "");
        f->err.hint = err->hint ? strdup(err->hint) : NULL;
    }
    alch_result_free(res);
    alch_conn_close(c);
    PQfinish(f->locker); /* its transaction goes (if the fault has not ended it already) */
    f->locker = NULL;
    /* the pool recovers: the next checkout opens a fresh connection and works */
    assert_int_equal(alch_engine_connect_async(f->engine, on_after_conn, f), 0);
}

static void on_fault_timer(uv_timer_t *t)
{
    fault_run *f = t->data;
    assert_false(f->done); /* the flush is still going on */
    f->t_fault = uv_hrtime();
    f->inject(f);
}

static void on_flush_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    fault_run *f = data;
    assert_int_equal(status, 0);
    f->pid = alch_conn_backend_pid(c);
    assert_int_equal(alch_conn_execute_text_many_async(c, "INSERT INTO flushed (v) VALUES ($1)",
                                                       f->params, 1, ROWS, on_flushed, f),
                     0);
    uv_timer_start(&f->timer, on_fault_timer, 40, 0);
}

static void create_table(void)
{
    PGconn *pq = alch_test_pq(db_url);
    PGresult *r = PQexec(pq, "DROP TABLE IF EXISTS flushed; CREATE TABLE flushed (v int PRIMARY KEY)");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(pq);
}

/* Run the flush with a fault, check the outcome; returns the formatted error (free it). */
static char *flush_with_fault(void (*inject)(fault_run *f))
{
    create_table();
    fault_run *f = calloc(1, sizeof *f);
    f->inject = inject;
    f->after = -1;
    f->after_status = 1;
    f->params = calloc(ROWS, sizeof *f->params);
    for (int i = 0; i < ROWS; i++)
        f->params[i] = alch_v(i);
    uv_loop_init(&f->loop);
    uv_timer_init(&f->loop, &f->timer);
    f->timer.data = f;
    alch_error err = ALCH_ERROR_INIT;
    alch_engine_options o = alch_engine_options_default();
    CHECK_OK(alch_engine_create_on_loop(&f->loop, db_url, &o, &f->engine, &err), err);
    /* Another transaction inserts the flush's last key first and stays open: the flush
     * inserts every other row, then waits for it. However slowly the fault comes (pg_ctl
     * restart, on a loaded machine, takes a while), it meets the flush still running, with
     * 59,999 rows inserted and not committed. */
    f->locker = alch_test_pq(db_url);
    char sql[96];
    snprintf(sql, sizeof sql, "BEGIN; INSERT INTO flushed (v) VALUES (%d)", ROWS - 1);
    PGresult *locked = PQexec(f->locker, sql);
    assert_int_equal(PQresultStatus(locked), PGRES_COMMAND_OK);
    PQclear(locked);
    assert_int_equal(alch_engine_connect_async(f->engine, on_flush_conn, f), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);

    assert_true(f->done);
    assert_int_equal(f->status, ALCH_EOPERATIONAL);
    assert_non_null(f->err.message);
    assert_null(strstr(f->err.message, "bad file descriptor"));
    assert_null(strstr(f->err.message, "socket error"));
    fprintf(stderr, "fault 40 ms into the flush, error %.3f s later: %s%s%s%s\n",
            (double)(f->t_done - f->t_fault) / 1e9, f->err.message,
            f->err.sqlstate[0] ? " (SQLSTATE " : "", f->err.sqlstate,
            f->err.sqlstate[0] ? ")" : "");
    assert_int_equal(f->after_status, 0); /* the pool recovered */
    assert_int_equal(f->after, 0);        /* and no row of the flush was committed */
    char *text = alch_error_format(&f->err);
    alch_error_clear(&f->err);
    alch_engine_free(f->engine);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f->params);
    free(f);
    return text;
}

static void terminate(fault_run *f)
{
    PGconn *admin = alch_test_pq(alch_test_url());
    char text[16];
    snprintf(text, sizeof text, "%d", f->pid);
    const char *values[] = {text};
    PGresult *r =
        PQexecParams(admin, "SELECT pg_terminate_backend($1::int)", 1, NULL, values, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    PQfinish(admin);
}

static void test_terminate_during_flush(void **state)
{
    char *text = flush_with_fault(terminate);
    assert_non_null(strstr(text, "OperationalError: terminating connection due to administrator "
                                 "command (SQLSTATE 57P01)"));
    free(text);
}

static void sigkill(fault_run *f)
{
    assert_int_equal(kill(f->pid, SIGKILL), 0);
}

static void test_sigkill_during_flush(void **state)
{
    if (!alch_test_is_sandbox())
        skip(); /* never kill a backend of a server we do not own */
    char *text = flush_with_fault(sigkill);
    assert_non_null(strstr(text, "OperationalError: the server closed the connection"));
    free(text);
}

static void on_restarted(uv_process_t *p, int64_t exit_status, int term_signal)
{
    assert_int_equal(exit_status, 0);
    uv_close((uv_handle_t *)p, (uv_close_cb)free);
}

/* pg_ctl restart -m fast, run beside the loop (the client keeps reading meanwhile) */
static void restart(fault_run *f)
{
    char *args[] = {getenv("ALCH_PGSANDBOX"), "restart", getenv("ALCH_SANDBOX_DIR"), NULL};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t po = {
        .file = args[0], .args = args, .exit_cb = on_restarted, .stdio = stdio, .stdio_count = 3};
    uv_process_t *p = calloc(1, sizeof *p);
    assert_int_equal(uv_spawn(&f->loop, p, &po), 0);
}

static void test_restart_during_flush(void **state)
{
    if (!alch_test_is_sandbox() || !getenv("ALCH_PGSANDBOX"))
        skip(); /* never restart a server we do not own */
    char *text = flush_with_fault(restart);
    assert_non_null(strstr(text, "OperationalError: terminating connection due to administrator "
                                 "command (SQLSTATE 57P01)"));
    free(text);
}

/* A backend stopped with SIGSTOP answers nothing, not even a cancel: query_timeout_ms ends
 * the wait (the statement is cancelled first, then the connection is given up). */
static void test_stopped_backend(void **state)
{
    if (!alch_test_is_sandbox())
        skip(); /* never stop a backend of a server we do not own */
    alch_engine_options o = alch_engine_options_default();
    o.query_timeout_ms = 300;
    alch_engine *e = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(db_url, &o, &e, &err), err);
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(e, &c, &err), err);
    int pid = alch_conn_backend_pid(c);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    uint64_t t0 = uv_hrtime();
    int rc = alch_conn_execute_text(c, "SELECT 1", NULL, 0, NULL, &err);
    double s = seconds_since(t0);
    kill(pid, SIGCONT);
    fprintf(stderr, "stopped backend, query_timeout_ms 300: %.3f s: %s\n", s, err.message);
    assert_int_equal(rc, ALCH_ETIMEOUT);
    assert_non_null(strstr(err.message, "ran longer than 300 ms (query_timeout_ms) and the server "
                                        "did not answer the request to cancel it"));
    assert_true(s >= 2.2 && s < 2.3 + 3.0 * slow_factor());
    alch_error_clear(&err);
    alch_conn_close(c);
    /* the pool replaces the connection it gave up */
    CHECK_OK(alch_engine_connect(e, &c, &err), err);
    assert_int_not_equal(alch_conn_backend_pid(c), pid);
    alch_conn_close(c);
    alch_engine_free(e);
}

/* ---- a hand-off behind the ROLLBACK of a closed transaction, the backend gone ------------ */

/* pg_terminate_backend(pid), then wait (bounded) until the backend has left. */
static void terminate_and_wait(int pid)
{
    PGconn *admin = alch_test_pq(alch_test_url());
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
    PQclear(PQexec(admin, sql));
    snprintf(sql, sizeof sql, "SELECT 1 FROM pg_stat_activity WHERE pid = %d", pid);
    bool gone = false;
    for (int i = 0; i < 1000 && !gone; i++) { /* 10 s at most */
        PGresult *r = PQexec(admin, sql);
        gone = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 0;
        PQclear(r);
        if (!gone)
            usleep(10000);
    }
    PQfinish(admin);
    assert_true(gone);
}

typedef struct handoff {
    alch_engine *engine;
    bool kill_before_close; /* else: after the hand-off, before the borrower's statement */
    int pid, b_pid, b_status, c_status;
    int64_t b_value, c_value;
    char b_message[512];
} handoff;

/* Start a statement of the hand-off's. */
static void run_async(alch_conn *c, const char *sql, alch_exec_cb cb, void *data)
{
    assert_int_equal(alch_conn_execute_text_async(c, sql, NULL, 0, cb, data), 0);
}

static int64_t first_int(int status, alch_result *res)
{
    int64_t v = -1;
    if (status == 0)
        alch_result_get_int(res, 0, 0, &v, NULL);
    alch_result_free(res);
    return v;
}

static void on_c_done(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    (void)err;
    handoff *h = data;
    h->c_status = status;
    h->c_value = first_int(status, res);
    alch_conn_close(c);
}

static void on_c_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    assert_int_equal(status, 0);
    run_async(c, "UPDATE handoff SET v = v + 1 WHERE id = 1 RETURNING v", on_c_done, data);
}

static void on_b_read(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    handoff *h = data;
    h->b_status = status;
    h->b_value = first_int(status, res);
    if (err)
        snprintf(h->b_message, sizeof h->b_message, "%s", err->message ? err->message : "");
    alch_conn_close(c);
    assert_int_equal(alch_engine_connect_async(h->engine, on_c_conn, h), 0);
}

static void on_b_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    handoff *h = data;
    assert_int_equal(status, 0);
    h->b_pid = alch_conn_backend_pid(c);
    if (!h->kill_before_close && h->b_pid == h->pid)
        terminate_and_wait(h->pid); /* its ROLLBACK sent, its answer maybe not read yet */
    run_async(c, "SELECT v FROM handoff WHERE id = 1", on_b_read, h);
}

static void on_a_updated(alch_conn *c, int status, alch_result *res, const alch_error *err,
                         void *data)
{
    (void)err;
    handoff *h = data;
    h->pid = (int)first_int(status, res);
    assert_true(h->pid > 0);
    /* the next borrower waits: the pool has one connection */
    assert_int_equal(alch_engine_connect_async(h->engine, on_b_conn, h), 0);
    if (h->kill_before_close)
        terminate_and_wait(h->pid);
    alch_conn_close(c); /* in a transaction: ROLLBACK, and the connection goes on (or not) */
}

static void on_a_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    assert_int_equal(status, 0);
    run_async(c, "UPDATE handoff SET v = 20 WHERE id = 1 RETURNING pg_backend_pid()", on_a_updated,
              data);
}

static void run_handoff(handoff *h)
{
    PGconn *pq = alch_test_pq(db_url);
    PQclear(PQexec(pq, "DROP TABLE IF EXISTS handoff"));
    PGresult *r = PQexec(pq, "CREATE TABLE handoff (id int PRIMARY KEY, v int); "
                             "INSERT INTO handoff VALUES (1, 10)");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(pq);
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default(); /* transactional */
    o.pool_size = 1;
    o.max_overflow = 0;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, &o, &h->engine, &err), err);
    assert_int_equal(alch_engine_connect_async(h->engine, on_a_conn, h), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* whatever happened to the borrower, the next one works, and the update is undone */
    assert_int_equal(h->c_status, 0);
    assert_int_equal(h->c_value, 11);
    alch_engine_free(h->engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* The backend of a connection closed inside a transaction is gone before the close: the
 * pool sees it and the waiting borrower gets another connection. */
static void test_handoff_backend_gone_before_close(void **state)
{
    handoff h = {.kill_before_close = true, .c_value = -1};
    run_handoff(&h);
    assert_int_not_equal(h.b_pid, h.pid);
    assert_int_equal(h.b_status, 0);
    assert_int_equal(h.b_value, 10); /* never inside the old transaction */
}

/* The connection went to the next borrower at once, its ROLLBACK on the way; the backend
 * goes before the borrower's statement: the borrower gets an OperationalError that says why,
 * never a statement run inside the old transaction, and the pool replaces the connection. */
static void test_handoff_backend_gone_after(void **state)
{
    handoff h = {.kill_before_close = false, .c_value = -1};
    run_handoff(&h);
    assert_int_equal(h.b_pid, h.pid); /* handed on without waiting for the ROLLBACK */
    fprintf(stderr, "borrower behind the ROLLBACK, backend gone: %s\n", h.b_message);
    assert_int_equal(h.b_status, ALCH_EOPERATIONAL);
    assert_non_null(strstr(h.b_message, "terminating connection due to administrator command"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_connect_timeout),
        cmocka_unit_test(test_silent_server_pool_timeout),
        cmocka_unit_test(test_silent_server_connect_timeout),
        cmocka_unit_test(test_unresolvable_host),
        cmocka_unit_test(test_lookup_timeout),
        cmocka_unit_test(test_stopped_backend),
        cmocka_unit_test(test_terminate_during_flush),
        cmocka_unit_test(test_sigkill_during_flush),
        cmocka_unit_test(test_restart_during_flush),
        cmocka_unit_test(test_handoff_backend_gone_before_close),
        cmocka_unit_test(test_handoff_backend_gone_after),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
