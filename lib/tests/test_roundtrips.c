/* Round trips, read from libpq's own protocol trace (PQtrace): a statement's steps (BEGIN
 * (implicit), PREPARE, EXECUTE) leave the client together, before the server's first answer,
 * so a statement in a new transaction costs one round trip, not three. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_statement_is_one_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
