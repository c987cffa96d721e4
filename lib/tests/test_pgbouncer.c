/* PgBouncer in transaction mode (fixture alch_pgb, tools/pgbouncer-fixture) in front of the
 * sandbox: 500 async requests through it.
 *
 * - statement_cache_size = 0: every request answers, no error.
 * - the cache on (the default): a request whose prepared statement vanished (the server
 *   connection changed between two transactions) fails with a sentence naming PgBouncer and
 *   the option; the engine turns its cache off at the first one, so the round of 500
 *   requests after it all answer. */
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

static char *db_url;  /* the test's database, direct */
static char *pgb_url; /* the same database through PgBouncer */
static char pgb_line[512]; /* the fixture's URL (its database "alch") */

static int setup(void **state)
{
    const char *file = getenv("ALCH_PGBOUNCER_URL_FILE");
    if (!file)
        return 0; /* tests skip */
    FILE *f = fopen(file, "r");
    char line[512] = "";
    if (!f)
        return 0; /* no PgBouncer (an external server): tests skip */
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    snprintf(pgb_line, sizeof pgb_line, "%s", line);
    db_url = alch_test_db_create("pgbouncer");
    char *db = alch_test_url_database(db_url);
    pgb_url = alch_test_url_with_database(line, db);
    free(db);
    return db_url && pgb_url ? 0 : -1;
}

static int teardown(void **state)
{
    free(pgb_url);
    if (db_url)
        alch_test_db_drop(db_url);
    return 0;
}

enum { REQUESTS = 500, HUNG_AFTER_MS = 60000 };

typedef struct load {
    uv_loop_t loop;
    alch_engine *engine;
    uv_timer_t watchdog;
    int started, ok, errors, wrong, pgbouncer_sentences;
    char first_error[512];
} load;

typedef struct request {
    load *ld;
    int n;
    alch_value param;
} request;

static void finish_request(request *r, int status, const alch_error *err)
{
    load *ld = r->ld;
    if (status == 0) {
        ld->ok++;
    } else {
        ld->errors++;
        const char *m = err && err->message ? err->message : "";
        const char *h = err && err->hint ? err->hint : "";
        if (strstr(m, "PgBouncer") && strstr(h, "statement_cache_size = 0"))
            ld->pgbouncer_sentences++;
        if (!ld->first_error[0])
            snprintf(ld->first_error, sizeof ld->first_error, "%s: %s | HINT: %s",
                     alch_strerror(status), m, h);
    }
    free(r);
    if (ld->ok + ld->errors == REQUESTS)
        uv_close((uv_handle_t *)&ld->watchdog, NULL);
}

static void on_result(alch_conn *c, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    request *r = data;
    if (status == 0) {
        int64_t v = -1;
        alch_result_get_int(res, 0, 0, &v, NULL);
        if (v != r->n + 1)
            r->ld->wrong++;
    }
    alch_result_free(res);
    alch_conn_close(c);
    finish_request(r, status, err);
}

static void on_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    request *r = data;
    if (status != 0) {
        finish_request(r, status, err);
        return;
    }
    r->param = alch_v(r->n);
    if (alch_conn_execute_text_async(c, "SELECT $1::int + 1", &r->param, 1, on_result, r) != 0) {
        finish_request(r, ALCH_EINTERNAL, alch_conn_start_error(c));
        alch_conn_close(c);
    }
}

static void on_watchdog(uv_timer_t *t)
{
    load *ld = t->data;
    uv_close((uv_handle_t *)t, NULL);
    alch_engine_dispose(ld->engine); /* whatever still waits is hung: end it */
}

/* Run REQUESTS checkouts + statements at once; returns how many never answered. */
static int run_load(load *ld)
{
    ld->ok = ld->errors = ld->wrong = ld->pgbouncer_sentences = 0;
    ld->first_error[0] = '\0';
    uv_timer_init(&ld->loop, &ld->watchdog);
    ld->watchdog.data = ld;
    uv_timer_start(&ld->watchdog, on_watchdog, HUNG_AFTER_MS, 0);
    for (int i = 0; i < REQUESTS; i++) {
        request *r = calloc(1, sizeof *r);
        *r = (request){ld, i, alch_v(0)};
        assert_int_equal(alch_engine_connect_async(ld->engine, on_conn, r), 0);
    }
    uint64_t t0 = uv_hrtime();
    uv_run(&ld->loop, UV_RUN_DEFAULT);
    int hung = REQUESTS - ld->ok - ld->errors;
    fprintf(stderr, "%d requests through PgBouncer in %.2f s: %d ok, %d error, %d hung%s%s\n",
            REQUESTS, (double)(uv_hrtime() - t0) / 1e9, ld->ok, ld->errors, hung,
            ld->first_error[0] ? "; first error: " : "", ld->first_error);
    return hung;
}

static load *new_load(int cache_size)
{
    load *ld = calloc(1, sizeof *ld);
    uv_loop_init(&ld->loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = 10;
    o.max_overflow = 10;
    o.statement_cache_size = cache_size;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create_on_loop(&ld->loop, pgb_url, &o, &ld->engine, &err), err);
    return ld;
}

static void free_load(load *ld)
{
    alch_engine_free(ld->engine);
    uv_run(&ld->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&ld->loop), 0);
    free(ld);
}

static void test_cache_off(void **state)
{
    if (!pgb_url)
        skip();
    load *ld = new_load(0);
    assert_int_equal(run_load(ld), 0);
    assert_int_equal(ld->ok, REQUESTS);
    assert_int_equal(ld->wrong, 0);
    free_load(ld);
}

static void test_cache_on_falls_back(void **state)
{
    if (!pgb_url)
        skip();
    load *ld = new_load(100);
    /* A server connection changes under a client connection between two transactions when
     * the client connection went idle: between rounds always (each round's connections go
     * idle at its end), within a round when one waits in the pool. A connection handed
     * straight to the next request keeps its server connection (the ROLLBACK at its close
     * and the next request's statements travel in one pipeline), so the failures may come
     * in the second round rather than the first. */
    int failed = -1;
    for (int round = 0; round < 3 && failed < 0; round++) {
        assert_int_equal(run_load(ld), 0);
        assert_int_equal(ld->wrong, 0);
        /* each failure says what happened and what to set */
        assert_int_equal(ld->pgbouncer_sentences, ld->errors);
        assert_true(ld->errors < REQUESTS / 10);
        if (ld->errors)
            failed = round;
    }
    assert_true(failed >= 0);
    /* the cache is off for this engine now: everything answers */
    assert_int_equal(run_load(ld), 0);
    assert_int_equal(ld->ok, REQUESTS);
    assert_int_equal(ld->wrong, 0);
    free_load(ld);
}

/* ---- one client's statement never runs for another ---------------------------------- */

/* Run sql (one text cell) on a fresh checkout of e; the cell goes to out ("" on failure). */
static int one_text(alch_engine *e, const char *sql, char *out, size_t size, alch_error *err)
{
    alch_conn *c = NULL;
    alch_result *r = NULL;
    const char *text = "";
    out[0] = '\0';
    int rc = alch_engine_connect(e, &c, err);
    if (rc == 0)
        rc = alch_conn_execute_text(c, sql, NULL, 0, &r, err);
    if (rc == 0)
        rc = alch_result_get_text(r, 0, 0, &text, err);
    snprintf(out, size, "%s", rc == 0 ? text : "");
    alch_result_free(r);
    alch_conn_close(c);
    return rc;
}

/* Two clients of one PgBouncer prepare a statement each. PgBouncer (LIFO) then runs the
 * second client's cached statement on the first client's server connection. With the same
 * statement name on both, the second client would get the first one's answer ("from X")
 * without any error; names unique to each client connection make it "does not exist", the
 * PgBouncer sentence, and the fallback: never another client's statement. */
static void test_never_another_clients_statement(void **state)
{
    if (!pgb_url)
        skip();
    char *direct = alch_test_db_create("pgb_names"); /* a pool of its own in PgBouncer */
    char *db = alch_test_url_database(direct);
    char *url = alch_test_url_with_database(pgb_line, db);
    free(db);
    FILE *echo = tmpfile();
    assert_non_null(echo);
    alch_engine_options o = alch_engine_options_default();
    o.echo = true;
    o.echo_file = echo;
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *x = NULL, *y = NULL;
    CHECK_OK(alch_engine_create(url, &o, &x, &err), err);
    CHECK_OK(alch_engine_create(url, &o, &y, &err), err);

    /* X prepares its statement on server connection S1 and keeps its transaction open */
    alch_conn *xc = NULL;
    alch_result *r = NULL;
    CHECK_OK(alch_engine_connect(x, &xc, &err), err);
    CHECK_OK(alch_conn_execute_text(xc, "SELECT 'from X'::text", NULL, 0, &r, &err), err);
    alch_result_free(r);
    /* Y prepares its own on S2 (S1 is busy), then hands it back */
    char got[64];
    CHECK_OK(one_text(y, "SELECT 'from Y'::text", got, sizeof got, &err), err);
    assert_string_equal(got, "from Y");
    /* X ends its transaction: S1 is the server connection released last, so PgBouncer
     * lends it to Y's next transaction, where Y's cache says its statement is prepared */
    alch_conn_close(xc);
    int rc = one_text(y, "SELECT 'from Y'::text", got, sizeof got, &err);
    fprintf(stderr, "Y's cached statement on X's server connection: %s%s%s\n",
            rc ? alch_strerror(rc) : got, rc ? ": " : "", rc ? err.message : "");
    assert_string_not_equal(got, "from X"); /* never another client's statement */
    if (rc) {
        assert_non_null(strstr(err.message, "PgBouncer"));
        assert_non_null(strstr(err.hint, "statement_cache_size = 0"));
        alch_error_clear(&err);
    }
    /* the cache is off now: Y's statement travels whole, wherever it runs */
    for (int i = 0; i < 3; i++) {
        CHECK_OK(one_text(y, "SELECT 'from Y'::text", got, sizeof got, &err), err);
        assert_string_equal(got, "from Y");
    }
    alch_engine_free(x);
    alch_engine_free(y);

    /* the echo said it once, in these words */
    rewind(echo);
    char line[512];
    int said = 0;
    while (fgets(line, sizeof line, echo))
        said += strcmp(line, "[alch] statement cache off for this engine: prepared statements "
                             "vanish behind a transaction-mode pooler such as PgBouncer (set "
                             "statement_cache_size = 0)\n") == 0;
    fclose(echo);
    assert_int_equal(said, rc ? 1 : 0);
    free(url);
    alch_test_db_drop(direct);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_off),
        cmocka_unit_test(test_cache_on_falls_back),
        cmocka_unit_test(test_never_another_clients_statement),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
