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

/* Client messages of one kind in a trace ("Flush", "Sync", ...). */
static int sent_messages(FILE *trace, const char *kind)
{
    char line[1024];
    int n = 0;
    size_t len = strlen(kind);
    rewind(trace);
    while (fgets(line, sizeof line, trace)) {
        const char *m = line[0] == 'F' && line[1] == '\t' ? strchr(line + 2, '\t') : NULL;
        if (m && strncmp(m + 1, kind, len) == 0 && (m[1 + len] == '\t' || m[1 + len] == '\n'))
            n++;
    }
    return n;
}

enum { REQUESTS = 4 };

typedef struct per_request {
    int done, sum;
    int status[REQUESTS];
} per_request;

static void on_answer(alch_session *s, int status, alch_result *obj, const alch_error *err,
                      void *data)
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
    /* a ROLLBACK handed to a waiting request leaves in one write with its statements, with no
     * Flush of its own (before: one per hand-off, the server answering the ROLLBACK alone) */
    int flushes = sent_messages(trace, "Flush");
    fprintf(stderr, "Flush messages: %d, Sync messages: %d\n", flushes,
            sent_messages(trace, "Sync"));
    assert_int_equal(flushes, 0);
    assert_int_equal(sent_messages(trace, "Sync"), REQUESTS + 2);
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

/* A table of one row (1, 10) on a connection of the test's own. */
static PGconn *one_row_table(const char *table)
{
    PGconn *pq = PQconnectdb(db_url);
    char sql[160];
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (id int PRIMARY KEY, v int); INSERT INTO %s VALUES (1, 10)", table,
             table);
    PQclear(PQexec(pq, sql));
    return pq;
}

/* The row can be locked at once (within lock_timeout) and still holds its old value 10: the
 * update of the session that closed was rolled back. */
static void assert_row_free(PGconn *pq, const char *table)
{
    char sql[128];
    PQclear(PQexec(pq, "SET lock_timeout = '10s'"));
    snprintf(sql, sizeof sql, "SELECT v FROM %s WHERE id = 1 FOR UPDATE", table);
    PGresult *r = PQexec(pq, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "10");
    PQclear(r);
}

/* A session that updated a row and closed without commit holds no lock once it is closed:
 * its ROLLBACK left at the close, with no loop turn after it, and its connection sits in the
 * pool idle, not idle in a transaction. */
static void test_closed_session_holds_no_lock(void **state)
{
    (void)state;
    PGconn *pq = one_row_table("locked");
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
    assert_row_free(pq, "locked");
    /* and the pooled backend is idle, not idle in transaction */
    assert_true(backend_reaches(pq, pid, "idle"));
    PQfinish(pq);
    on_loop_close(&t);
}

/* A request that closes its session (no commit) hands the connection to a checkout waiting
 * for it, which holds it without running anything yet: the ROLLBACK still leaves at the close,
 * so the row it updated is not locked while the new borrower keeps the connection. */
typedef struct hand_off {
    int status;
    uv_loop_t *loop;
    alch_engine *e;
    got_conn next; /* the checkout that waits for the session's connection */
} hand_off;

static void on_update_then_hand_off(alch_session *s, int status, alch_result *obj,
                                    const alch_error *err, void *data)
{
    (void)err;
    hand_off *h = data;
    h->status = status;
    alch_result_free(obj);
    assert_int_equal(alch_engine_connect_async(h->e, on_got_conn, &h->next), 0); /* queued */
    alch_session_close(s); /* no commit: ROLLBACK, and the waiter gets the connection now */
    assert_true(h->next.done);
}

static void test_hand_off_to_idle_borrower_sends_rollback(void **state)
{
    (void)state;
    PGconn *pq = one_row_table("handed");
    on_loop t;
    on_loop_open(&t, 1);
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(t.maker, &s, &err), err);
    hand_off h = {.loop = &t.loop, .e = t.e};
    alch_value one = alch_v(1);
    assert_int_equal(alch_session_execute_text_async(s, "UPDATE handed SET v = 20 WHERE id = $1",
                                                     &one, 1, on_update_then_hand_off, &h),
                     0);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_int_equal(h.status, 0);
    assert_int_equal(h.next.status, 0);
    alch_conn *c = h.next.c; /* held, nothing sent on it */
    assert_false(alch_conn_in_transaction(c));

    /* the row is free at once, with its old value: the ROLLBACK reached the server */
    assert_row_free(pq, "handed");
    PQfinish(pq);
    /* and the borrower's first statement reads the ROLLBACK's answer first, then its own */
    assert_int_equal(run_on(&t.loop, c, "SELECT 1"), 0);
    alch_conn_close(c);
    on_loop_close(&t);
}

/* ---- a session's pipeline: statements and their commit in one round trip --------------- */

enum { MAXCALLS = 8 };

typedef struct piped {
    int order[MAXCALLS], status[MAXCALLS], n;
    int64_t value[MAXCALLS];
    char message[MAXCALLS][256];
    int tags[MAXCALLS];
} piped;

typedef struct piped_call {
    piped *p;
    int tag;
} piped_call;

static void on_piped(alch_session *s, int status, alch_result *obj, const alch_error *err,
                     void *data)
{
    (void)s;
    piped_call *call = data;
    piped *p = call->p;
    int i = p->n++;
    p->order[i] = call->tag;
    p->status[i] = status;
    p->value[i] = -1;
    if (status == 0 && obj && alch_result_rows(obj) == 1)
        alch_result_get_int(obj, 0, 0, &p->value[i], NULL);
    alch_result_free(obj); /* a statement's result; NULL for the commit */
    snprintf(p->message[i], sizeof p->message[i], "%s", err && err->message ? err->message : "");
}

/* The commit's (or rollback's) callback: the status only. */
static void on_piped_end(alch_session *s, int status, const alch_error *err, void *data)
{
    on_piped(s, status, NULL, err, data);
}

static void make_accounts(void)
{
    PGconn *pq = PQconnectdb(db_url);
    PGresult *r = PQexec(pq, "SET client_min_messages = warning; DROP TABLE IF EXISTS acct, hist; "
                             "CREATE TABLE acct (id int PRIMARY KEY, bal int); "
                             "CREATE TABLE hist (id int, delta int); "
                             "INSERT INTO acct SELECT g, 100 FROM generate_series(1, 3) g");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(pq);
}

static int64_t balance(int id)
{
    PGconn *pq = PQconnectdb(db_url);
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT bal FROM acct WHERE id = %d", id);
    PGresult *r = PQexec(pq, sql);
    int64_t v = PQresultStatus(r) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    PQfinish(pq);
    return v;
}

/* Fresh accounts, an engine with a pool of one, and a session filling a pipeline. */
static alch_session *piping_session(on_loop *t)
{
    make_accounts();
    on_loop_open(t, 1);
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(t->maker, &s, &err), err);
    CHECK_OK(alch_session_pipeline(s, &err), err);
    return s;
}

/* Queue statement `tag` of a pipeline. */
static void queue(alch_session *s, piped_call *call, const char *sql, alch_value *v, size_t n)
{
    assert_int_equal(alch_session_execute_text_async(s, sql, v, n, on_piped, call), 0);
}

/* TPC-B's shape: statements that need none of each other's answers, then the commit: one
 * round trip for BEGIN (implicit), the statements (each prepared on first use) and COMMIT;
 * the callbacks in order, the commit's last. */
static void test_pipeline_one_round_trip(void **state)
{
    (void)state;
    on_loop t;
    alch_session *s = piping_session(&t);
    alch_conn *c = check_out(&t.loop, t.e);
    FILE *trace = tmpfile();
    PQtrace(c->pg, trace);
    PQsetTraceFlags(c->pg, PQTRACE_SUPPRESS_TIMESTAMPS);
    alch_conn_close(c);
    piped p = {0};
    piped_call calls[5];
    for (int i = 0; i < 5; i++)
        calls[i] = (piped_call){&p, i};
    alch_value upd[2] = {alch_v(7), alch_v(2)}, id[1] = {alch_v(2)},
               ins[2] = {alch_v(2), alch_v(7)};
    queue(s, &calls[0], "UPDATE acct SET bal = bal + $1 WHERE id = $2", upd, 2);
    queue(s, &calls[1], "SELECT bal FROM acct WHERE id = $1", id, 1);
    queue(s, &calls[2], "INSERT INTO hist VALUES ($1, $2)", ins, 2);
    queue(s, &calls[3], "UPDATE acct SET bal = bal - $1 WHERE id = $2", upd, 2);
    upd[0] = alch_v(1000); /* copied by the call before: the queued statement keeps 7 */
    assert_int_equal(alch_session_commit_async(s, on_piped_end, &calls[4]), 0);
    assert_int_equal(p.n, 0); /* nothing runs inside the calls */
    uv_run(&t.loop, UV_RUN_DEFAULT);

    assert_int_equal(p.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(p.order[i], i);
        assert_int_equal(p.status[i], 0);
    }
    assert_int_equal(p.value[1], 107); /* the SELECT saw the UPDATE before it */
    assert_int_equal(balance(2), 100); /* +7 -7, committed */
    alch_session_close(s);

    c = check_out(&t.loop, t.e);
    assert_int_equal(run_on(&t.loop, c, "SELECT count(*) FROM hist"), 0);
    PQuntrace(c->pg);
    alch_conn_close(c);
    fflush(trace);
    int rt = round_trips(trace);
    fprintf(stderr,
            "a pipeline of 4 statements and COMMIT: %d round trips (a SELECT after it "
            "included)\n",
            rt);
    assert_int_equal(rt, 2);
    fclose(trace);
    on_loop_close(&t);
}

/* A statement that fails: the server skips the rest; each callback says what became of its
 * statement, the commit's says nothing was committed. */
static void test_pipeline_failure_aborts_the_rest(void **state)
{
    (void)state;
    on_loop t;
    alch_session *s = piping_session(&t);
    piped p = {0};
    piped_call calls[4] = {{&p, 0}, {&p, 1}, {&p, 2}, {&p, 3}};
    alch_value one = alch_v(1);
    queue(s, &calls[0], "UPDATE acct SET bal = bal + 5 WHERE id = $1", &one, 1);
    queue(s, &calls[1], "INSERT INTO acct VALUES ($1, 0)", &one, 1); /* duplicate key */
    queue(s, &calls[2], "SELECT bal FROM acct WHERE id = $1", &one, 1);
    assert_int_equal(alch_session_commit_async(s, on_piped_end, &calls[3]), 0);
    uv_run(&t.loop, UV_RUN_DEFAULT);

    assert_int_equal(p.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(p.order[i], i);
    assert_int_equal(p.status[0], 0);
    assert_int_equal(p.status[1], ALCH_EINTEGRITY);
    assert_non_null(strstr(p.message[1], "duplicate key value violates unique constraint"));
    assert_int_equal(p.status[2], ALCH_ECANCELED);
    assert_string_equal(p.message[2], "not run: statement 2 of this pipeline failed before it");
    assert_int_equal(p.status[3], ALCH_EINTEGRITY);
    assert_non_null(strstr(p.message[3], "nothing was committed: statement 2 of the pipeline's 3 "
                                         "failed, and the transaction was rolled back"));
    assert_int_equal(balance(1), 100); /* the UPDATE before it was rolled back */

    /* the session goes on: a new transaction on the connection the pool rolled back */
    alch_value id = alch_v(1);
    p.n = 0;
    assert_int_equal(alch_session_execute_text_async(s, "SELECT bal FROM acct WHERE id = $1", &id,
                                                     1, on_piped, &calls[0]),
                     0);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_int_equal(p.status[0], 0);
    assert_int_equal(p.value[0], 100);
    alch_session_close(s);
    on_loop_close(&t);
}

/* While a pipeline fills, only statements join it; a rollback or a close drops it, and its
 * statements are told. */
static void test_pipeline_rules(void **state)
{
    (void)state;
    on_loop t;
    alch_session *s = piping_session(&t);
    alch_error err = ALCH_ERROR_INIT;
    assert_int_equal(alch_session_pipeline(s, &err), ALCH_EBUSY);
    assert_non_null(strstr(err.message, "already filling a pipeline"));
    alch_error_clear(&err);
    piped p = {0};
    piped_call calls[3] = {{&p, 0}, {&p, 1}, {&p, 2}};
    alch_value named = alch_named("id", alch_v(1));
    assert_int_equal(
        alch_session_execute_text_async(s, "SELECT :id", &named, 1, on_piped, &calls[0]),
        ALCH_EARGUMENT);
    assert_non_null(strstr(alch_session_start_error(s)->message, "$n placeholders"));
    assert_int_equal(alch_session_flush_async(s, on_piped_end, &calls[0]), ALCH_EMISUSE);
    assert_string_equal(alch_session_start_error(s)->message,
                        "this session is filling a pipeline (alch_session_pipeline): only "
                        "alch_session_execute_text_async() joins it");
    queue(s, &calls[0], "SELECT 1", NULL, 0);
    assert_int_equal(alch_session_rollback_async(s, on_piped_end, &calls[1]), 0);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.order[0], 0);
    assert_int_equal(p.status[0], ALCH_ECANCELED);
    assert_string_equal(p.message[0], "not run: the pipeline was rolled back before it was sent");
    assert_int_equal(p.status[1], 0);

    p.n = 0;
    CHECK_OK(alch_session_pipeline(s, &err), err);
    queue(s, &calls[2], "SELECT 1", NULL, 0);
    alch_session_close(s); /* told at once: the session is gone */
    assert_int_equal(p.n, 1);
    assert_int_equal(p.status[0], ALCH_ECANCELED);
    assert_string_equal(p.message[0],
                        "not run: the pipeline was not sent (the session was closed)");
    uv_run(&t.loop, UV_RUN_DEFAULT);
    on_loop_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_statement_is_one_round_trip),
        cmocka_unit_test(test_session_per_request_round_trips),
        cmocka_unit_test(test_closed_session_holds_no_lock),
        cmocka_unit_test(test_hand_off_to_idle_borrower_sends_rollback),
        cmocka_unit_test(test_pipeline_one_round_trip),
        cmocka_unit_test(test_pipeline_failure_aborts_the_rest),
        cmocka_unit_test(test_pipeline_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
