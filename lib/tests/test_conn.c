/* The driver layer against a real server: connecting, bound parameters, results,
 * errors, transactions, the statement cache, and the async face. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <alch/alch.h>

#include "support.h"

static char *db_url; /* this test's own database */

static int setup(void **state)
{
    db_url = alch_test_db_create("conn");
    return db_url ? 0 : -1;
}

static int teardown(void **state)
{
    alch_test_db_drop(db_url);
    return 0;
}


static alch_conn *open_conn(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    CHECK_OK(alch_conn_open(db_url, &c, &err), err);
    return c;
}

static void exec_ok(alch_conn *c, const char *sql)
{
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_conn_execute_text(c, sql, NULL, 0, NULL, &err), err);
}

/* Replace the database part of a URL that ends with "/db?query" or "/db". */
static char *url_with_db(const char *url, const char *db)
{
    const char *scheme_end = strstr(url, "://");
    const char *slash = strchr(scheme_end + 3, '/');
    const char *query = strchr(scheme_end + 3, '?');
    size_t head = slash ? (size_t)(slash - url) : query ? (size_t)(query - url) : strlen(url);
    char *out = malloc(strlen(url) + strlen(db) + 2);
    sprintf(out, "%.*s/%s%s", (int)head, url, db, query ? query : "");
    return out;
}

/* ---- connecting ---------------------------------------------------------------------- */

static void test_connect_ok(void **state)
{
    alch_conn *c = open_conn();
    assert_true(alch_conn_server_version(c) >= 100000);
    assert_true(alch_conn_backend_pid(c) > 0);
    assert_false(alch_conn_in_transaction(c));
    assert_true(alch_libpq_version() >= 140000);
    alch_conn_close(c);
}

static void test_connect_wrong_database(void **state)
{
    char *url = url_with_db(db_url, "no_such_database_here");
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    assert_int_equal(alch_conn_open(url, &c, &err), ALCH_EOPERATIONAL);
    assert_null(c);
    assert_non_null(strstr(err.message, "does not exist"));
    alch_error_clear(&err);
    free(url);
}

static void test_connect_wrong_password(void **state)
{
    if (!alch_test_is_sandbox())
        skip(); /* needs the sandbox's password-protected role */
    const char *url = alch_test_url();
    const char *rest = strstr(url, "://") + 3;
    rest = strchr(rest, '@') + 1;
    char bad[512];
    snprintf(bad, sizeof bad, "postgresql://alch_pw:wrong-password@%s", rest);
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    assert_int_equal(alch_conn_open(bad, &c, &err), ALCH_EOPERATIONAL);
    assert_non_null(strstr(err.message, "password authentication failed"));
    assert_null(strstr(err.message, "wrong-password")); /* never echo the password */
    alch_error_clear(&err);

    snprintf(bad, sizeof bad, "postgresql://alch_pw:alch-secret@%s", rest);
    assert_int_equal(alch_conn_open(bad, &c, &err), 0);
    alch_conn_close(c);
}

static void test_connect_unreachable_socket(void **state)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    int rc = alch_conn_open("postgresql://alch@/db?host=/nonexistent-alch-dir", &c, &err);
    assert_int_equal(rc, ALCH_EOPERATIONAL);
    assert_non_null(strstr(err.message, "/nonexistent-alch-dir"));
    alch_error_clear(&err);
}

static void test_connect_bad_url(void **state)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    assert_int_equal(alch_conn_open("postgresql://alch@host:99999/db", &c, &err),
                     ALCH_EARGUMENT);
    assert_non_null(strstr(err.message, "99999"));
    alch_error_clear(&err);
    assert_int_equal(alch_conn_open(NULL, &c, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
}

/* A server that accepts TCP connections but never says a word: only our timer ends the wait. */
static void test_connect_timeout(void **state)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    assert_int_equal(listen(fd, 4), 0);
    char url[128];
    snprintf(url, sizeof url, "postgresql://alch@127.0.0.1:%d/db?connect_timeout=2",
             ntohs(addr.sin_port));
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    uint64_t t0 = uv_hrtime();
    assert_int_equal(alch_conn_open(url, &c, &err), ALCH_ETIMEOUT);
    double s = (double)(uv_hrtime() - t0) / 1e9;
    assert_true(s >= 1.9 && s < 5.0);
    assert_non_null(strstr(err.message, "within 2.0 s"));
    alch_error_clear(&err);
    close(fd);
}

/* ---- parameters and results --------------------------------------------------------- */

static void test_params_round_trip(void **state)
{
    alch_conn *c = open_conn();
    exec_ok(c, "CREATE TABLE vals (id int primary key, t text, b bytea, i bigint, d float8, "
               "f boolean)");
    const char *texts[] = {
        "plain",
        "O'Brien",
        "back\\slash and \\x00 text",
        "'; DROP TABLE vals; --",
        "Robert'); DROP TABLE vals;--",
        "$1 :name ::text ? %s %d",
        "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80",
        "",
    };
    unsigned char bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)i;
    alch_error err = ALCH_ERROR_INIT;
    for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
        alch_value p[] = {alch_v((int)k), alch_v(texts[k]), alch_bytes(bytes, 256 - k),
                          alch_int(INT64_MIN + (int64_t)k), alch_double(-1.5e300 / (double)(k + 1)),
                          alch_bool(k % 2)};
        CHECK_OK(alch_conn_execute_text(c, "INSERT INTO vals VALUES ($1, $2, $3, $4, $5, $6)", p, 6,
                                        NULL, &err),
                 err);
    }
    alch_value nulls[] = {alch_v(100), alch_null(), alch_bytes(NULL, 0), alch_text(NULL),
                          alch_null(), alch_null()};
    /* a NULL text pointer is SQL NULL, not a crash */
    alch_value n4[] = {nulls[0], nulls[1], nulls[2], alch_null(), nulls[4], nulls[5]};
    CHECK_OK(alch_conn_execute_text(c, "INSERT INTO vals VALUES ($1, $2, $3, $4, $5, $6)", n4, 6,
                                    NULL, &err),
             err);

    alch_result *r = NULL;
    CHECK_OK(alch_conn_execute_text(c, "SELECT id, t, b, i, d, f FROM vals ORDER BY id", NULL, 0,
                                    &r, &err),
             err);
    size_t n = sizeof texts / sizeof *texts;
    assert_int_equal(alch_result_rows(r), n + 1);
    for (size_t k = 0; k < n; k++) {
        const char *t;
        const void *b;
        size_t blen;
        int64_t i;
        double d;
        bool f;
        CHECK_OK(alch_result_get_text(r, k, 1, &t, &err), err);
        assert_string_equal(t, texts[k]);
        CHECK_OK(alch_result_get_bytes(r, k, 2, &b, &blen, &err), err);
        assert_int_equal(blen, 256 - k);
        assert_memory_equal(b, bytes, blen);
        CHECK_OK(alch_result_get_int(r, k, 3, &i, &err), err);
        assert_true(i == INT64_MIN + (int64_t)k);
        CHECK_OK(alch_result_get_double(r, k, 4, &d, &err), err);
        assert_true(d == -1.5e300 / (double)(k + 1));
        CHECK_OK(alch_result_get_bool(r, k, 5, &f, &err), err);
        assert_int_equal(f, k % 2);
    }
    for (size_t col = 1; col < 6; col++)
        assert_true(alch_result_is_null(r, n, col));
    alch_result_free(r);

    /* the table survived every payload */
    CHECK_OK(alch_conn_execute_text(c, "SELECT count(*) FROM vals", NULL, 0, &r, &err), err);
    int64_t count = 0;
    CHECK_OK(alch_result_get_int(r, 0, 0, &count, &err), err);
    assert_int_equal(count, n + 1);
    alch_result_free(r);

    /* a payload is matched verbatim in WHERE, as data */
    alch_value w[] = {alch_v("'; DROP TABLE vals; --")};
    CHECK_OK(alch_conn_execute_text(c, "SELECT id FROM vals WHERE t = $1", w, 1, &r, &err), err);
    assert_int_equal(alch_result_rows(r), 1);
    alch_result_free(r);

    /* text may not hold a NUL byte: a clear error before anything is sent */
    alch_value nul = alch_text("abc");
    nul.len = 4; /* includes the terminator */
    assert_int_equal(alch_conn_execute_text(c, "SELECT $1::text", &nul, 1, NULL, &err), ALCH_EDATA);
    assert_non_null(strstr(err.message, "NUL"));
    alch_error_clear(&err);
    alch_conn_close(c);
}

static void test_named_params(void **state)
{
    alch_conn *c = open_conn();
    alch_error err = ALCH_ERROR_INIT;
    alch_result *r = NULL;
    alch_value p[] = {alch_named("a", alch_v(20)), alch_named("b", alch_v(22))};
    CHECK_OK(alch_conn_execute_text(c,
                                    "SELECT :a + :b AS sum, :a::text || ':b' AS lit, "
                                    "/* :b */ $$ :a $$ AS dollar -- :a",
                                    p, 2, &r, &err),
             err);
    int64_t sum;
    const char *lit, *dollar;
    CHECK_OK(alch_result_get_int(r, 0, 0, &sum, &err), err);
    CHECK_OK(alch_result_get_text(r, 0, 1, &lit, &err), err);
    CHECK_OK(alch_result_get_text(r, 0, 2, &dollar, &err), err);
    assert_int_equal(sum, 42);
    assert_string_equal(lit, "20:b");
    assert_string_equal(dollar, " :a ");
    alch_result_free(r);

    alch_value missing[] = {alch_named("a", alch_v(1))};
    assert_int_equal(alch_conn_execute_text(c, "SELECT :a, :zz", missing, 1, NULL, &err),
                     ALCH_EMISUSE);
    assert_non_null(strstr(err.message, ":zz"));
    alch_error_clear(&err);

    alch_value unused[] = {alch_named("a", alch_v(1)), alch_named("extra", alch_v(2))};
    assert_int_equal(alch_conn_execute_text(c, "SELECT :a", unused, 2, NULL, &err), ALCH_EMISUSE);
    assert_non_null(strstr(err.message, "extra"));
    alch_error_clear(&err);

    alch_value mixed[] = {alch_named("a", alch_v(1)), alch_v(2)};
    assert_int_equal(alch_conn_execute_text(c, "SELECT :a, $2", mixed, 2, NULL, &err),
                     ALCH_EMISUSE);
    alch_error_clear(&err);
    alch_conn_close(c);
}

static void test_result_getters(void **state)
{
    alch_conn *c = open_conn();
    alch_error err = ALCH_ERROR_INIT;
    alch_result *r = NULL;
    CHECK_OK(
        alch_conn_execute_text(c,
                               "SELECT 'seven'::varchar AS name, NULL::int AS nothing, 7::int2 "
                               "AS small, 2.5::numeric AS num",
                               NULL, 0, &r, &err),
        err);
    assert_int_equal(alch_result_columns(r), 4);
    assert_string_equal(alch_result_column_name(r, 0), "name");
    assert_string_equal(alch_result_column_type(r, 0), "varchar");
    size_t col = 99;
    assert_int_equal(alch_result_column_index(r, "num", &col), 0);
    assert_int_equal(col, 3);
    assert_int_equal(alch_result_column_index(r, "nope", &col), ALCH_EMISUSE);

    int64_t i = 0;
    assert_int_equal(alch_result_get_int(r, 0, 0, &i, &err), ALCH_ETYPE);
    assert_non_null(strstr(err.message, "'name'"));
    assert_non_null(strstr(err.message, "varchar"));
    alch_error_clear(&err);
    assert_int_equal(alch_result_get_int(r, 0, 1, &i, &err), ALCH_ETYPE);
    assert_non_null(strstr(err.message, "NULL"));
    alch_error_clear(&err);
    assert_int_equal(alch_result_get_int(r, 1, 2, &i, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
    assert_int_equal(alch_result_get_int(r, 0, 9, &i, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
    CHECK_OK(alch_result_get_int(r, 0, 2, &i, &err), err);
    assert_int_equal(i, 7);
    double d = 0;
    CHECK_OK(alch_result_get_double(r, 0, 3, &d, &err), err);
    assert_true(d == 2.5);
    assert_string_equal(alch_result_command(r), "SELECT 1");
    alch_result_free(r);
    alch_conn_close(c);
}

/* alch_result_print() pads by what a terminal shows, not by bytes: "Чай" is 3 columns (6
 * bytes), a CJK character 2, a combining accent 0; psql lays the table out the same way. */
static void test_result_print_width(void **state)
{
    (void)state;
    alch_conn *c = open_conn();
    alch_error err = ALCH_ERROR_INIT;
    alch_result *r = NULL;
    CHECK_OK(alch_conn_execute_text(c,
                                    "SELECT * FROM (VALUES ('Чай', 1), ('Кофе', 22), ('tea', 333), "
                                    "('茶', 4), ('cafe\u0301', 5)) AS v(\"название\", n)",
                                    NULL, 0, &r, &err),
             err);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    alch_result_print(r, out);
    fclose(out);
    assert_string_equal(text, " название | n\n"
                              "----------+-----\n"
                              " Чай      | 1\n"
                              " Кофе     | 22\n"
                              " tea      | 333\n"
                              " 茶       | 4\n"
                              " cafe\u0301     | 5\n"
                              "(5 rows)\n");
    free(text);
    alch_result_free(r);
    alch_conn_close(c);
}

/* ---- errors --------------------------------------------------------------------------- */

static void test_error_classes(void **state)
{
    alch_conn *c = open_conn();
    exec_ok(c, "CREATE TABLE users (id int primary key, tg_id bigint not null)");
    alch_error err = ALCH_ERROR_INIT;
    alch_value p[] = {alch_v(1), alch_v(555)};
    CHECK_OK(alch_conn_execute_text(c, "INSERT INTO users VALUES ($1, $2)", p, 2, NULL, &err), err);
    assert_int_equal(
        alch_conn_execute_text(c, "INSERT INTO users VALUES ($1, $2)", p, 2, NULL, &err),
        ALCH_EINTEGRITY);
    assert_string_equal(err.sqlstate, "23505");
    assert_string_equal(err.constraint, "users_pkey");
    assert_non_null(strstr(err.detail, "(id)=(1)"));
    assert_string_equal(err.statement, "INSERT INTO users VALUES ($1, $2)");
    assert_string_equal(err.params, "($1=1, $2=555)");
    char *text = alch_error_format(&err);
    assert_non_null(strstr(text, "IntegrityError: duplicate key"));
    assert_non_null(strstr(text, "[SQL: INSERT INTO users VALUES ($1, $2)]"));
    free(text);

    /* your own functions fill errors the same way; what the error held is freed first */
    assert_int_equal(alch_error_set(&err, ALCH_ENORESULT, "no user with tg_id %d", 42),
                     ALCH_ENORESULT);
    alch_error_hint(&err, "register the user with %s first", "add_user()");
    assert_int_equal(err.code, ALCH_ENORESULT);
    assert_null(err.constraint);
    assert_null(err.statement);
    text = alch_error_format(&err);
    assert_string_equal(text, "NoResultFound: no user with tg_id 42\n"
                              "HINT: register the user with add_user() first");
    free(text);
    assert_int_equal(alch_error_set(NULL, ALCH_EMISUSE, "ignored"), ALCH_EMISUSE);
    alch_error_hint(NULL, "ignored");
    alch_error_clear(&err);

    alch_value nul[] = {alch_v(2), alch_null()};
    assert_int_equal(
        alch_conn_execute_text(c, "INSERT INTO users VALUES ($1, $2)", nul, 2, NULL, &err),
        ALCH_EINTEGRITY);
    assert_string_equal(err.sqlstate, "23502");
    alch_error_clear(&err);

    assert_int_equal(alch_conn_execute_text(c, "SELEC 1", NULL, 0, NULL, &err), ALCH_EPROGRAMMING);
    assert_string_equal(err.sqlstate, "42601");
    alch_error_clear(&err);

    alch_value big[] = {alch_v(3), alch_v("not a number")};
    assert_int_equal(
        alch_conn_execute_text(c, "INSERT INTO users VALUES ($1, $2)", big, 2, NULL, &err),
        ALCH_EDATA);
    alch_error_clear(&err);

    /* comparing a bigint column with text the server cannot read as a number */
    alch_value s[] = {alch_v("12_abc")};
    assert_int_equal(
        alch_conn_execute_text(c, "SELECT * FROM users WHERE tg_id = $1", s, 1, NULL, &err),
        ALCH_EDATA);
    alch_error_clear(&err);

    assert_int_equal(alch_error_code_from_sqlstate("57P01"), ALCH_EOPERATIONAL);
    assert_int_equal(alch_error_code_from_sqlstate("0A000"), ALCH_ENOTSUPPORTED);
    assert_int_equal(alch_error_code_from_sqlstate(NULL), ALCH_EDATABASE);
    assert_string_equal(alch_strerror(ALCH_ETIMEOUT), "TimeoutError");
    alch_conn_close(c);
}

/* ---- transactions --------------------------------------------------------------------- */

static int64_t count_rows(alch_conn *c, const char *table_sql)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_result *r = NULL;
    CHECK_OK(alch_conn_execute_text(c, table_sql, NULL, 0, &r, &err), err);
    int64_t n = -1;
    CHECK_OK(alch_result_get_int(r, 0, 0, &n, &err), err);
    alch_result_free(r);
    return n;
}

static void test_transactions(void **state)
{
    alch_conn *c = open_conn();
    alch_conn *other = open_conn();
    exec_ok(c, "CREATE TABLE t (v int)");
    alch_error err = ALCH_ERROR_INIT;

    CHECK_OK(alch_conn_begin(c, &err), err);
    assert_true(alch_conn_in_transaction(c));
    assert_int_equal(alch_conn_begin(c, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
    exec_ok(c, "INSERT INTO t VALUES (1)");
    assert_int_equal(count_rows(other, "SELECT count(*) FROM t"), 0); /* not committed yet */
    CHECK_OK(alch_conn_commit(c, &err), err);
    assert_false(alch_conn_in_transaction(c));
    assert_int_equal(count_rows(other, "SELECT count(*) FROM t"), 1);

    CHECK_OK(alch_conn_begin(c, &err), err);
    exec_ok(c, "INSERT INTO t VALUES (2)");
    CHECK_OK(alch_conn_rollback(c, &err), err);
    assert_int_equal(count_rows(other, "SELECT count(*) FROM t"), 1);

    /* savepoints: keep the outer work, undo the inner */
    CHECK_OK(alch_conn_begin(c, &err), err);
    exec_ok(c, "INSERT INTO t VALUES (3)");
    CHECK_OK(alch_conn_savepoint(c, &err), err);
    exec_ok(c, "INSERT INTO t VALUES (4)");
    CHECK_OK(alch_conn_rollback_savepoint(c, &err), err);
    CHECK_OK(alch_conn_savepoint(c, &err), err);
    exec_ok(c, "INSERT INTO t VALUES (5)");
    CHECK_OK(alch_conn_release_savepoint(c, &err), err);
    assert_int_equal(alch_conn_release_savepoint(c, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
    CHECK_OK(alch_conn_commit(c, &err), err);
    assert_int_equal(count_rows(other, "SELECT sum(v)::int FROM t"), 1 + 3 + 5);

    /* a failed statement poisons the transaction: commit says so and rolls back */
    CHECK_OK(alch_conn_begin(c, &err), err);
    exec_ok(c, "INSERT INTO t VALUES (100)");
    assert_int_equal(alch_conn_execute_text(c, "SELECT 1/0", NULL, 0, NULL, &err), ALCH_EDATA);
    alch_error_clear(&err);
    assert_int_equal(alch_conn_execute_text(c, "SELECT 1", NULL, 0, NULL, &err), ALCH_EINTERNAL);
    assert_non_null(strstr(err.hint, "alch_conn_rollback"));
    alch_error_clear(&err);
    assert_int_equal(alch_conn_commit(c, &err), ALCH_EINTERNAL);
    assert_non_null(strstr(err.message, "rolled back"));
    alch_error_clear(&err);
    assert_false(alch_conn_in_transaction(c));
    assert_int_equal(count_rows(other, "SELECT sum(v)::int FROM t"), 9);

    /* commit and rollback without a transaction do nothing */
    CHECK_OK(alch_conn_commit(c, &err), err);
    CHECK_OK(alch_conn_rollback(c, &err), err);
    alch_conn_close(other);
    alch_conn_close(c);
}

/* ---- the async face -------------------------------------------------------------------- */

typedef struct async_state {
    int step;
    int64_t answer;
    int status;
    int busy_rc;
    int sync_rc;
    bool closed_in_callback;
} async_state;

static void on_answer(alch_conn *c, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    async_state *s = data;
    s->status = status;
    if (status == 0)
        alch_result_get_int(res, 0, 0, &s->answer, NULL);
    alch_result_free(res);
    s->step = 2;
    alch_conn_close(c); /* closing from inside its own callback is allowed */
    s->closed_in_callback = true;
}

static void on_open(alch_conn *c, int status, const alch_error *err, void *data)
{
    async_state *s = data;
    assert_int_equal(status, 0);
    s->step = 1;
    alch_value p[] = {alch_v(6), alch_v(7)};
    assert_int_equal(alch_conn_execute_text_async(c, "SELECT $1 * $2", p, 2, on_answer, s), 0);
    /* one operation at a time */
    s->busy_rc = alch_conn_execute_text_async(c, "SELECT 1", NULL, 0, on_answer, s);
    assert_non_null(strstr(alch_conn_start_error(c)->message, "one connection per task"));
    alch_error e = ALCH_ERROR_INIT;
    s->sync_rc = alch_conn_execute_text(c, "SELECT 1", NULL, 0, NULL, &e);
    alch_error_clear(&e);
}

static void test_async_open_execute(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    async_state s = {0};
    assert_int_equal(alch_conn_open_async(&loop, db_url, on_open, &s, NULL), 0);
    assert_int_equal(s.step, 0); /* nothing happens before the loop runs */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(s.step, 2);
    assert_int_equal(s.status, 0);
    assert_int_equal(s.answer, 42);
    assert_int_equal(s.busy_rc, ALCH_EBUSY);
    assert_int_equal(s.sync_rc, ALCH_EBUSY);
    assert_true(s.closed_in_callback);
    assert_int_equal(uv_loop_close(&loop), 0); /* every handle was closed */
}

static void on_never(alch_conn *c, int status, alch_result *res, const alch_error *err,
                     void *data)
{
    int *got = data;
    *got = status;
    alch_result_free(res);
}

static void on_open_then_close(alch_conn *c, int status, const alch_error *err, void *data)
{
    int *got = data;
    assert_int_equal(status, 0);
    assert_int_equal(alch_conn_execute_text_async(c, "SELECT pg_sleep(5)", NULL, 0, on_never, got),
                     0);
    alch_conn_close(c); /* while the query runs */
}

static void test_async_close_in_flight(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    int got = 1;
    uint64_t t0 = uv_hrtime();
    assert_int_equal(alch_conn_open_async(&loop, db_url, on_open_then_close, &got, NULL), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(got, ALCH_ECANCELED);
    assert_true((uv_hrtime() - t0) / 1000000 < 4000); /* did not wait for pg_sleep */
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void on_open_failed(alch_conn *c, int status, const alch_error *err, void *data)
{
    int *got = data;
    assert_null(c);
    assert_non_null(err);
    assert_non_null(err->message);
    *got = status;
}

static void test_async_open_failure(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char *url = url_with_db(db_url, "no_such_database_here");
    int got = 0;
    assert_int_equal(alch_conn_open_async(&loop, url, on_open_failed, &got, NULL), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(got, ALCH_EOPERATIONAL);
    assert_int_equal(alch_conn_open_async(&loop, "mysql://x@y/z", on_open_failed, &got, NULL),
                     ALCH_EARGUMENT);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_ok),
        cmocka_unit_test(test_connect_wrong_database),
        cmocka_unit_test(test_connect_wrong_password),
        cmocka_unit_test(test_connect_unreachable_socket),
        cmocka_unit_test(test_connect_bad_url),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_params_round_trip),
        cmocka_unit_test(test_named_params),
        cmocka_unit_test(test_result_getters),
        cmocka_unit_test(test_result_print_width),
        cmocka_unit_test(test_error_classes),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_async_open_execute),
        cmocka_unit_test(test_async_close_in_flight),
        cmocka_unit_test(test_async_open_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
