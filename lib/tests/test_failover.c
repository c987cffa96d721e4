/* A primary and a streaming standby on 127.0.0.1 (fixture alch_standby,
 * tools/pgstandby-fixture, made with pg_basebackup -R).
 *
 * - Read replicas: an engine with target_session_attrs=prefer-standby reaches the standby;
 *   a write there is refused with a clear error; the writer engine reaches the primary.
 * - Failover: 500 tasks on a multi-host URL with target_session_attrs=read-write, one in
 *   five a statement of half a second; the primary is stopped and the standby promoted while
 *   they run. Every task gets a result or an OperationalError with a sentence (none hangs),
 *   statements cut while running say the server's reason (57P01), and every checkout after
 *   the promotion reaches the new primary (pg_is_in_recovery() is false, on the standby's
 *   port). */
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

static char url[512], standby_url[512], primary_url[512], dir[512];

static bool read_line(const char *name, char *out, size_t size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    bool ok = f && fgets(out, (int)size, f);
    if (f)
        fclose(f);
    out[strcspn(out, "\n")] = '\0';
    return ok;
}

static int setup(void **state)
{
    const char *d = getenv("ALCH_STANDBY_DIR");
    if (!d)
        return 0;
    snprintf(dir, sizeof dir, "%s", d);
    if (!read_line("url", url, sizeof url))
        url[0] = '\0'; /* no fixture (an external server): tests skip */
    read_line("standby_url", standby_url, sizeof standby_url);
    read_line("primary_url", primary_url, sizeof primary_url);
    return 0;
}

static int64_t port_of(const char *u)
{
    const char *p = strrchr(u, ':');
    return p ? atoll(p + 1) : -1;
}

/* one statement on a sync engine: in_recovery and port of the server reached */
static int probe(alch_engine *e, const char *sql, bool *in_recovery, int64_t *port, alch_error *err)
{
    alch_conn *c = NULL;
    int rc = alch_engine_connect(e, &c, err);
    if (rc)
        return rc;
    alch_result *r = NULL;
    rc = alch_conn_execute_text(c, sql, NULL, 0, &r, err);
    if (rc == 0 && in_recovery) {
        alch_result_get_bool(r, 0, 0, in_recovery, err);
        alch_result_get_int(r, 0, 1, port, err);
    }
    alch_result_free(r);
    alch_conn_close(c);
    return rc;
}

static void test_read_replica(void **state)
{
    if (!url[0])
        skip();
    char reader_url[600];
    snprintf(reader_url, sizeof reader_url, "%s", url);
    char *tsa = strstr(reader_url, "read-write");
    assert_non_null(tsa);
    snprintf(tsa, sizeof reader_url - (size_t)(tsa - reader_url), "prefer-standby");
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *writer = NULL, *reader = NULL;
    CHECK_OK(alch_engine_create(url, NULL, &writer, &err), err);
    CHECK_OK(alch_engine_create(reader_url, NULL, &reader, &err), err);
    bool rec = true;
    int64_t port = 0;
    const char *where = "SELECT pg_is_in_recovery(), inet_server_port()";
    CHECK_OK(probe(writer, where, &rec, &port, &err), err);
    assert_false(rec);
    assert_int_equal(port, port_of(primary_url));
    CHECK_OK(probe(reader, where, &rec, &port, &err), err);
    assert_true(rec); /* reads reach the standby */
    assert_int_equal(port, port_of(standby_url));
    assert_int_equal(probe(reader, "CREATE TABLE notes (t text)", NULL, NULL, &err),
                     ALCH_EINTERNAL);
    char *text = alch_error_format(&err);
    fprintf(stderr, "a write on the reader engine: %s\n", text);
    assert_non_null(strstr(text, "cannot execute CREATE TABLE in a read-only transaction (SQLSTATE "
                                 "25006)"));
    /* alch's hint says where writes go */
    assert_non_null(strstr(text, "HINT: this transaction is read-only: the server is a standby"));
    assert_non_null(strstr(text, "target_session_attrs=read-write"));
    free(text);
    alch_error_clear(&err);
    alch_engine_free(reader);
    alch_engine_free(writer);
}

enum { TASKS = 500, EVERY_MS = 4, FAILOVER_AT_MS = 300, LONG_EVERY = 5, AFTER_PROMOTION = 100,
       MAX_SENTENCES = 6 };

/* what happened to one kind of task: short statements, or pg_sleep(0.5) ones */
typedef struct tally {
    int ok, operational, other, cut; /* cut: the statement itself failed, once running */
} tally;

typedef struct run {
    uv_loop_t loop;
    alch_engine *engine;
    uv_timer_t tick, watchdog;
    uv_process_t proc;
    int launched, finished, wrong_after;
    tally kinds[2]; /* [0] short, [1] long */
    bool failing_over, promoted;
    uint64_t failover_at, promoted_at, last_cut_at;
    char sentences[MAX_SENTENCES][400]; /* the distinct error sentences (ports masked) */
    int nsentences;
} run;

typedef struct task {
    run *r;
    bool is_long, running;
    uint64_t started;
} task;

/* Keep each distinct sentence once: the first line of what a learner sees
 * (alch_error_format), with every run of 4 or more digits (a port, a pid) as '#'. */
static void keep_sentence(run *r, const alch_error *err)
{
    char *text = alch_error_format(err);
    assert_non_null(text);
    char s[400];
    size_t n = 0;
    for (const char *m = text; *m && *m != '\n' && n < sizeof s - 1;) {
        size_t digits = strspn(m, "0123456789");
        if (digits >= 4) {
            s[n++] = '#';
            m += digits;
        } else {
            s[n++] = *m++;
        }
    }
    s[n] = '\0';
    free(text);
    for (int i = 0; i < r->nsentences; i++)
        if (strcmp(r->sentences[i], s) == 0)
            return;
    if (r->nsentences < MAX_SENTENCES)
        snprintf(r->sentences[r->nsentences++], sizeof r->sentences[0], "%s", s);
}

static void task_done(task *t, int status, const alch_error *err)
{
    run *r = t->r;
    tally *k = &r->kinds[t->is_long];
    if (status == 0)
        k->ok++;
    else if (status == ALCH_EOPERATIONAL)
        k->operational++;
    else
        k->other++;
    if (status) {
        /* every failure says why, in a sentence */
        assert_non_null(err);
        assert_non_null(err->message);
        assert_true(strlen(err->message) > 20);
        keep_sentence(r, err);
        if (t->running) {
            k->cut++;
            r->last_cut_at = uv_now(&r->loop);
        }
    }
    free(t);
    if (++r->finished == TASKS)
        uv_close((uv_handle_t *)&r->watchdog, NULL);
}

static void on_result(alch_conn *c, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    task *t = data;
    if (status == 0) {
        bool rec = true;
        int64_t port = 0;
        alch_result_get_bool(res, 0, 0, &rec, NULL);
        alch_result_get_int(res, 0, 1, &port, NULL);
        if (rec || (t->r->promoted && t->started > t->r->promoted_at &&
                    port != port_of(standby_url)))
            t->r->wrong_after++;
    }
    alch_result_free(res);
    alch_conn_close(c);
    task_done(t, status, err);
}

static void on_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    task *t = data;
    if (status) {
        task_done(t, status, err);
        return;
    }
    const char *sql = t->is_long
                          ? "SELECT pg_is_in_recovery(), inet_server_port(), pg_sleep(0.5)"
                          : "SELECT pg_is_in_recovery(), inet_server_port()";
    t->running = true;
    if (alch_conn_execute_text_async(c, sql, NULL, 0, on_result, t) != 0) {
        t->running = false;
        task_done(t, ALCH_EINTERNAL, alch_conn_start_error(c));
        alch_conn_close(c);
    }
}

static void on_failed_over(uv_process_t *p, int64_t exit_status, int term_signal)
{
    run *r = p->data;
    assert_int_equal(exit_status, 0);
    r->promoted = true;
    r->promoted_at = uv_now(&r->loop);
    uv_close((uv_handle_t *)p, NULL);
}

static void failover(run *r)
{
    r->failing_over = true;
    r->failover_at = uv_now(&r->loop);
    char *args[] = {getenv("ALCH_PGSTANDBY"), "failover", dir, NULL};
    uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2},
                                     {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t po = {
        .file = args[0], .args = args, .exit_cb = on_failed_over, .stdio = stdio, .stdio_count = 3};
    r->proc.data = r;
    assert_int_equal(uv_spawn(&r->loop, &r->proc, &po), 0);
}

/* one task every EVERY_MS; the failover starts at FAILOVER_AT_MS; after the promotion the
 * rest start once it is done, so some tasks surely run on the new primary */
static void on_tick(uv_timer_t *tm)
{
    run *r = tm->data;
    if (r->launched * EVERY_MS == FAILOVER_AT_MS)
        failover(r);
    if (r->launched >= TASKS - AFTER_PROMOTION && !r->promoted)
        return; /* the last tasks wait for the promotion */
    task *t = calloc(1, sizeof *t);
    *t = (task){.r = r, .is_long = r->launched % LONG_EVERY == 0, .started = uv_now(&r->loop)};
    assert_int_equal(alch_engine_connect_async(r->engine, on_conn, t), 0);
    if (++r->launched == TASKS)
        uv_close((uv_handle_t *)tm, NULL);
}

static void on_watchdog(uv_timer_t *t)
{
    run *r = t->data;
    uv_close((uv_handle_t *)t, NULL);
    if (!uv_is_closing((uv_handle_t *)&r->tick))
        uv_close((uv_handle_t *)&r->tick, NULL);
    alch_engine_dispose(r->engine); /* whatever still waits is hung: end it */
}

/* 500 tasks, one in five a statement of half a second (pg_sleep(0.5)), so statements are
 * running when the primary stops: they end with the server's reason, at once. */
static void test_failover_under_load(void **state)
{
    if (!url[0] || !getenv("ALCH_PGSTANDBY"))
        skip();
    run *r = calloc(1, sizeof *r);
    uv_loop_init(&r->loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 10;
    o.max_overflow = 40;
    o.connect_timeout_ms = 5000;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create_on_loop(&r->loop, url, &o, &r->engine, &err), err);
    uv_timer_init(&r->loop, &r->tick);
    uv_timer_init(&r->loop, &r->watchdog);
    r->tick.data = r->watchdog.data = r;
    uv_timer_start(&r->tick, on_tick, 0, EVERY_MS);
    uv_timer_start(&r->watchdog, on_watchdog, 90000, 0);
    uint64_t t0 = uv_hrtime();
    uv_run(&r->loop, UV_RUN_DEFAULT);
    int hung = TASKS - r->finished;
    static const char *const names[] = {"short", "pg_sleep(0.5)"};
    fprintf(stderr, "failover under %d tasks in %.2f s (promoted %.2f s after the stop began):\n",
            TASKS, (double)(uv_hrtime() - t0) / 1e9,
            (double)(r->promoted_at - r->failover_at) / 1e3);
    for (int k = 0; k < 2; k++)
        fprintf(stderr,
                "  %-13s %3d ok, %3d OperationalError (%d of them cut while running), %d other\n",
                names[k], r->kinds[k].ok, r->kinds[k].operational, r->kinds[k].cut,
                r->kinds[k].other);
    fprintf(stderr, "  %d hung, %d on a wrong server; last running statement cut %.2f s after "
                    "the stop began; the sentences:\n",
            hung, r->wrong_after, (double)(r->last_cut_at - r->failover_at) / 1e3);
    for (int i = 0; i < r->nsentences; i++)
        fprintf(stderr, "    %s\n", r->sentences[i]);
    assert_true(r->promoted);
    assert_int_equal(hung, 0);
    assert_int_equal(r->kinds[0].other + r->kinds[1].other, 0);
    assert_int_equal(r->wrong_after, 0);
    assert_true(r->kinds[0].ok > 0 && r->kinds[1].ok > 0);
    assert_true(r->kinds[1].cut > 0); /* statements were running when the primary stopped */
    bool reason = false; /* and they were told why: the server's own sentence */
    for (int i = 0; i < r->nsentences; i++)
        reason = reason || strstr(r->sentences[i], "terminating connection due to "
                                                   "administrator command (SQLSTATE 57P01)");
    assert_true(reason);
    alch_engine_free(r->engine);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    free(r);

    /* a fresh engine after the promotion reaches the new primary */
    alch_engine *e = NULL;
    CHECK_OK(alch_engine_create(url, NULL, &e, &err), err);
    for (int i = 0; i < 5; i++) {
        bool rec = true;
        int64_t port = 0;
        CHECK_OK(probe(e, "SELECT pg_is_in_recovery(), inet_server_port()", &rec, &port, &err),
                 err);
        assert_false(rec);
        assert_int_equal(port, port_of(standby_url));
    }
    alch_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_replica),
        cmocka_unit_test(test_failover_under_load),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
