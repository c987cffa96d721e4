/* Round trips, read from libpq's own protocol trace (PQtrace): a statement's steps (BEGIN
 * (implicit), PREPARE, EXECUTE) leave the client together, before the server's first answer,
 * so a statement in a new transaction costs one round trip, not three; and the ROLLBACK of a
 * session closed without commit travels with the next borrower's first statement. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <alch/alch.h>

#include "driver/conn_internal.h"
#include "support.h"

static char *db_url;

static int setup(void **state)
{
    (void)state;
    db_url = alch_test_db_create("roundtrips");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alch_test_db_drop(db_url);
    return 0;
}

/* How many client messages (F lines) the trace shows after the server's first message (its
 * first B line). */
static int sent_after_first_answer(FILE *trace, int *sent_before)
{
    char line[1024];
    int after = 0;
    bool answered = false;
    *sent_before = 0;
    rewind(trace);
    while (fgets(line, sizeof line, trace)) {
        if (line[0] == 'B' && line[1] == '\t')
            answered = true;
        if (line[0] == 'F' && line[1] == '\t')
            answered ? after++ : (*sent_before)++;
    }
    return after;
}

static void test_first_statement_is_one_round_trip(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e = NULL;
    CHECK_OK(alch_engine_create(db_url, NULL, &e, &err), err); /* transactional, autobegin */
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(e, &c, &err), err);
    FILE *trace = tmpfile();
    PQtrace(c->pg, trace);
    PQsetTraceFlags(c->pg, PQTRACE_SUPPRESS_TIMESTAMPS);
    alch_value v = alch_v(41);
    alch_result *res = NULL;
    CHECK_OK(alch_conn_execute_text(c, "SELECT $1::int + 1", &v, 1, &res, &err), err);
    PQuntrace(c->pg);
    int64_t got = 0;
    CHECK_OK(alch_result_get_int(res, 0, 0, &got, &err), err);
    assert_int_equal(got, 42);
    assert_true(alch_conn_in_transaction(c)); /* the BEGIN ran, in front of the statement */
    alch_result_free(res);
    fflush(trace);
    int before;
    int after = sent_after_first_answer(trace, &before);
    /* BEGIN (Parse, Bind, Describe, Execute), PREPARE (Parse), EXECUTE (Bind, Describe,
     * Execute), Sync: all out before the server answers anything */
    assert_true(before >= 8);
    assert_int_equal(after, 0);
    fclose(trace);
    alch_conn_close(c);
    alch_engine_free(e);
}

/* ---- async helpers: a connection of an engine on a loop, and one statement on it ---- */

typedef struct got_conn {
    alch_conn *c;
    int status;
    bool done;
} got_conn;

static void on_got_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    got_conn *g = data;
    g->c = c;
    g->status = status;
    g->done = true;
}

static alch_conn *check_out(uv_loop_t *loop, alch_engine *e)
{
    got_conn g = {0};
    assert_int_equal(alch_engine_connect_async(e, on_got_conn, &g), 0);
    while (!g.done)
        uv_run(loop, UV_RUN_ONCE);
    assert_int_equal(g.status, 0);
    return g.c;
}

static void on_ran(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    (void)c;
    (void)err;
    got_conn *g = data;
    g->status = status;
    g->done = true;
    alch_result_free(res);
}

static int run_on(uv_loop_t *loop, alch_conn *c, const char *sql)
{
    got_conn g = {0};
    assert_int_equal(alch_conn_execute_text_async(c, sql, NULL, 0, on_ran, &g), 0);
    while (!g.done)
        uv_run(loop, UV_RUN_ONCE);
    return g.status;
}

/* An async engine (transactional, pool_size connections) and a sessionmaker on a loop. */
typedef struct on_loop {
    uv_loop_t loop;
    alch_engine *e;
    alch_base *base;
    alch_sessionmaker *maker;
} on_loop;

static void on_loop_open(on_loop *t, int pool_size)
{
    uv_loop_init(&t->loop);
    alch_error err = ALCH_ERROR_INIT;
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = pool_size;
    o.max_overflow = 0;
    CHECK_OK(alch_engine_create_on_loop(&t->loop, db_url, &o, &t->e, &err), err);
    CHECK_OK(alch_base_create(&t->base, &err), err);
    CHECK_OK(alch_sessionmaker_create(t->e, t->base, NULL, &t->maker, &err), err);
}

/* The pool's connection is idle and out of any transaction; then everything goes. */
static void on_loop_close(on_loop *t)
{
    alch_conn *c = check_out(&t->loop, t->e);
    assert_false(alch_conn_in_transaction(c));
    assert_int_equal(run_on(&t->loop, c, "SELECT 1"), 0);
    alch_conn_close(c);
    alch_sessionmaker_free(t->maker);
    alch_base_free(t->base);
    alch_engine_free(t->e);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&t->loop), 0);
}

/* Round trips in a trace: runs of client messages, each ended by the server's answer. */
static int round_trips(FILE *trace)
{
    char line[1024];
    int runs = 0;
    bool sending = false;
    rewind(trace);
    while (fgets(line, sizeof line, trace)) {
        if (line[0] == 'F' && line[1] == '\t' && !sending) {
            runs++;
            sending = true;
        } else if (line[0] == 'B' && line[1] == '\t') {
            sending = false;
        }
    }
    return runs;
}

enum { REQUESTS = 4 };

typedef struct per_request {
    int done, sum;
    int status[REQUESTS];
} per_request;

static void on_answer(alch_session *s, int status, void *obj, const alch_error *err, void *data)
{
    per_request *p = data;
    int64_t v = 0;
    if (status == 0 && alch_result_get_int(obj, 0, 0, &v, NULL) == 0)
        p->sum += (int)v;
    else
        fprintf(stderr, "request failed: %s\n", err && err->message ? err->message : "?");
    p->status[p->done++] = status;
    alch_result_free(obj);
    alch_session_close(s); /* no commit: the ROLLBACK goes out now, its answer comes later */
}

/* A session per request on the default transactional engine, four requests queued on a pool
 * of one: each request is one round trip. The ROLLBACK of the session that closes leaves at
 * once, and the next borrower's BEGIN (implicit) and statement follow it in the same
 * pipeline, before its answer. Before, each close cost a round trip of its own (8 for 4). */
static void test_session_per_request_round_trips(void **state)
{
    (void)state;
    on_loop t;
    on_loop_open(&t, 1);
    alch_error err = ALCH_ERROR_INIT;

    /* open the pool's one connection first, and trace it */
    alch_conn *c = check_out(&t.loop, t.e);
    FILE *trace = tmpfile();
    PQtrace(c->pg, trace);
    PQsetTraceFlags(c->pg, PQTRACE_SUPPRESS_TIMESTAMPS);
    alch_conn_close(c); /* no transaction: straight back to the pool */

    per_request p = {0};
    alch_value v[REQUESTS];
    for (int i = 0; i < REQUESTS; i++) {
        alch_session *s = NULL;
        CHECK_OK(alch_session_open(t.maker, &s, &err), err);
        v[i] = alch_v(i + 1);
        assert_int_equal(
            alch_session_execute_text_async(s, "SELECT $1::int", &v[i], 1, on_answer, &p), 0);
    }
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_int_equal(p.done, REQUESTS);
    for (int i = 0; i < REQUESTS; i++)
        assert_int_equal(p.status[i], 0);
    assert_int_equal(p.sum, 1 + 2 + 3 + 4);

    /* the last ROLLBACK was sent, its answer due: a SELECT 1 waits for it */
    c = check_out(&t.loop, t.e);
    assert_false(alch_conn_in_transaction(c));
    assert_int_equal(run_on(&t.loop, c, "SELECT 1"), 0);
    PQuntrace(c->pg);
    alch_conn_close(c);
    fflush(trace);
    int rt = round_trips(trace);
    fprintf(stderr,
            "%d requests, a session each: %d round trips (the last ROLLBACK's and a "
            "SELECT 1 included)\n",
            REQUESTS, rt);
    /* one per request, then the last ROLLBACK (ended by a Sync as the connection went idle),
     * then the SELECT 1, which runs once the ROLLBACK has answered */
    assert_int_equal(rt, REQUESTS + 2);
    fclose(trace);
    on_loop_close(&t);
}

/* The state of a backend in pg_stat_activity, waited for (bounded) until it is `want`. */
static bool backend_reaches(PGconn *admin, int pid, const char *want)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT state FROM pg_stat_activity WHERE pid = %d", pid);
    for (int i = 0; i < 500; i++) { /* 5 s at most */
        PGresult *r = PQexec(admin, sql);
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                  strcmp(PQgetvalue(r, 0, 0), want) == 0;
        PQclear(r);
        if (ok)
            return true;
        usleep(10000);
    }
    return false;
}

/* A session that updated a row and closed without commit holds no lock once it is closed:
 * its ROLLBACK left at the close, with no loop turn after it, and its connection sits in the
 * pool idle, not idle in a transaction. */
static void test_closed_session_holds_no_lock(void **state)
{
    (void)state;
    PGconn *pq = PQconnectdb(db_url);
    PQclear(PQexec(pq, "CREATE TABLE locked (id int PRIMARY KEY, "
                       "v int); INSERT INTO locked VALUES (1, 10)"));
    on_loop t;
    on_loop_open(&t, 5);
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(t.maker, &s, &err), err);
    per_request p = {0};
    alch_value one = alch_v(1);
    assert_int_equal(alch_session_execute_text_async(
                         s, "UPDATE locked SET v = 20 WHERE id = $1 RETURNING pg_backend_pid()",
                         &one, 1, on_answer, &p),
                     0);
    uv_run(&t.loop, UV_RUN_DEFAULT); /* on_answer closes the session; the loop stops there */
    assert_int_equal(p.status[0], 0);
    int pid = p.sum;
    assert_true(pid > 0);

    /* another connection locks the row at once, and reads the old value */
    PGresult *r = PQexec(pq, "SET lock_timeout = '10s'");
    PQclear(r);
    r = PQexec(pq, "SELECT v FROM locked WHERE id = 1 FOR UPDATE");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "10");
    PQclear(r);
    /* and the pooled backend is idle, not idle in transaction */
    assert_true(backend_reaches(pq, pid, "idle"));
    PQfinish(pq);
    on_loop_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_statement_is_one_round_trip),
        cmocka_unit_test(test_session_per_request_round_trips),
        cmocka_unit_test(test_closed_session_holds_no_lock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
