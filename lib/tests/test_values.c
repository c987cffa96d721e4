/* Values that never lie: what is stored is what was set, what is loaded is what the server
 * holds, and anything a C type cannot hold is refused with a sentence (issue 14). Each test
 * talks to the real server; the expected values are computed by PostgreSQL itself. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <alch/alch.h>

#include "support.h"

static char *db_url;

static int setup(void **state)
{
    (void)state;
    db_url = alch_test_db_create("values");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alch_test_db_drop(db_url);
    return 0;
}

/* ---- helpers: libpq straight, so alch cannot hide its own mistakes -------------------- */

static PGconn *pq_open(void)
{
    PGconn *pq = PQconnectdb(db_url);
    if (PQstatus(pq) != CONNECTION_OK)
        fail_msg("cannot connect: %s", PQerrorMessage(pq));
    return pq;
}

static void pq_exec(PGconn *pq, const char *sql)
{
    PGresult *r = PQexec(pq, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pq));
    PQclear(r);
}

/* The first cell of a query as text ("NULL" for NULL), in a static buffer. */
static const char *pq_text(PGconn *pq, const char *sql)
{
    static char out[256];
    PGresult *r = PQexec(pq, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(pq));
    snprintf(out, sizeof out, "%s", PQgetisnull(r, 0, 0) ? "NULL" : PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

typedef struct env {
    alch_engine *engine;
    alch_base *base;
    alch_sessionmaker *maker;
} env;

/* An engine on url (echo into echo_file when it is not NULL), a base of one model. */
static env open_env_echo(const char *url, const alch_model *model, FILE *echo_file)
{
    env v = {0};
    alch_error err = ALCH_ERROR_INIT;
    alch_engine_options o = alch_engine_options_default();
    o.echo = echo_file != NULL;
    o.echo_file = echo_file;
    CHECK_OK(alch_engine_create(url, &o, &v.engine, &err), err);
    CHECK_OK(alch_base_create(&v.base, &err), err);
    CHECK_OK(alch_base_add(v.base, model, &err), err);
    CHECK_OK(alch_sessionmaker_create(v.engine, v.base, NULL, &v.maker, &err), err);
    return v;
}

static env open_env(const char *url, const alch_model *model)
{
    return open_env_echo(url, model, NULL);
}

static void close_env(env *v)
{
    alch_sessionmaker_free(v->maker);
    alch_base_free(v->base);
    alch_engine_free(v->engine);
}

static void create_all(env *v)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(v->engine, &c, &err), err);
    CHECK_OK(alch_base_create_all(v->base, c, &err), err);
    CHECK_OK(alch_conn_commit(c, &err), err);
    alch_conn_close(c);
}

/* Load row `id` of the model; returns the status and leaves the sentence in err. */
static int load(env *v, const alch_model *m, int64_t id, void **out, alch_session **s,
                alch_error *err)
{
    alch_error e = ALCH_ERROR_INIT;
    CHECK_OK(alch_session_open(v->maker, s, &e), e);
    return alch_session_get(*s, m, alch_v(id), out, err);
}

static void store(env *v, const alch_model *m, void *obj)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(v->maker, &s, &err), err);
    CHECK_OK(alch_session_add(s, m, obj, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    alch_session_close(s);
}

/* ---- 1. defaults: every C type x {none, client, server} x {zero, non-zero, unset} --------- */

/* The types that can be left unset (NULL pointer, is_null), each with no default, a client
 * default where one fits, and a server default. */
typedef struct Dflt {
    int64_t id;
    alch_opt_i16 i16_none, i16_client, i16_server;
    alch_opt_i32 i32_none, i32_client, i32_server;
    alch_opt_i64 i64_none, i64_client, i64_server;
    alch_opt_bool b_none, b_client, b_server;
    alch_opt_double d_none, d_client, d_server;
    char *s_none, *s_client, *s_server;
    alch_blob y_none, y_server;
    alch_timestamp t_none, t_server;
    alch_date day_none, day_server;
    /* the plain types: no default can apply, so only "none" */
    int16_t p16;
    int32_t p32;
    int64_t p64;
    bool pb;
    float pf;
    double pd;
} Dflt;

#define NONE(f, t) ALCH_COLUMN(Dflt, f, t, .nullable = true)
static const alch_column dflt_columns[] = {
    ALCH_COLUMN(Dflt, id, ALCH_BIGINT, .primary_key = true),
    NONE(i16_none, ALCH_SMALLINT),
    ALCH_COLUMN(Dflt, i16_client, ALCH_SMALLINT, .client_default = ALCH_DEFAULT_INT(7)),
    ALCH_COLUMN(Dflt, i16_server, ALCH_SMALLINT, .server_default = "7"),
    NONE(i32_none, ALCH_INTEGER),
    ALCH_COLUMN(Dflt, i32_client, ALCH_INTEGER, .client_default = ALCH_DEFAULT_INT(7)),
    ALCH_COLUMN(Dflt, i32_server, ALCH_INTEGER, .server_default = "7"),
    NONE(i64_none, ALCH_BIGINT),
    ALCH_COLUMN(Dflt, i64_client, ALCH_BIGINT, .client_default = ALCH_DEFAULT_INT(7)),
    ALCH_COLUMN(Dflt, i64_server, ALCH_BIGINT, .server_default = "7"),
    NONE(b_none, ALCH_BOOLEAN),
    ALCH_COLUMN(Dflt, b_client, ALCH_BOOLEAN, .client_default = ALCH_DEFAULT_BOOL(true)),
    ALCH_COLUMN(Dflt, b_server, ALCH_BOOLEAN, .server_default = "true"),
    NONE(d_none, ALCH_DOUBLE),
    ALCH_COLUMN(Dflt, d_client, ALCH_DOUBLE, .client_default = ALCH_DEFAULT_DOUBLE(7.5)),
    ALCH_COLUMN(Dflt, d_server, ALCH_DOUBLE, .server_default = "7.5"),
    NONE(s_none, ALCH_TEXT),
    ALCH_COLUMN(Dflt, s_client, ALCH_TEXT, .client_default = ALCH_DEFAULT_TEXT("dflt")),
    ALCH_COLUMN(Dflt, s_server, ALCH_TEXT, .server_default = "'dflt'"),
    NONE(y_none, ALCH_BYTEA),
    ALCH_COLUMN(Dflt, y_server, ALCH_BYTEA, .server_default = "'\\x07'::bytea"),
    NONE(t_none, ALCH_TIMESTAMPTZ),
    ALCH_COLUMN(Dflt, t_server, ALCH_TIMESTAMPTZ, .server_default = "'2001-02-03 04:05:06+00'"),
    NONE(day_none, ALCH_DATE),
    ALCH_COLUMN(Dflt, day_server, ALCH_DATE, .server_default = "'2001-02-03'"),
    ALCH_COLUMN(Dflt, p16, ALCH_SMALLINT),
    ALCH_COLUMN(Dflt, p32, ALCH_INTEGER),
    ALCH_COLUMN(Dflt, p64, ALCH_BIGINT),
    ALCH_COLUMN(Dflt, pb, ALCH_BOOLEAN),
    ALCH_COLUMN(Dflt, pf, ALCH_REAL),
    ALCH_COLUMN(Dflt, pd, ALCH_DOUBLE),
};
static const alch_model Dflt_model = ALCH_MODEL(Dflt, "dflt", dflt_columns);

/* Every column of the row, as PostgreSQL prints it, separated by '|'. */
static const char *row_text(PGconn *pq, int64_t id)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT concat_ws('|', coalesce(i16_none::text, 'NULL'), i16_client, i16_server, "
             "coalesce(i32_none::text, 'NULL'), i32_client, i32_server, "
             "coalesce(i64_none::text, 'NULL'), i64_client, i64_server, "
             "coalesce(b_none::text, 'NULL'), b_client, b_server, "
             "coalesce(d_none::text, 'NULL'), d_client, d_server, "
             "coalesce(s_none, 'NULL'), s_client, s_server, "
             "coalesce(y_none::text, 'NULL'), y_server, "
             "coalesce(t_none AT TIME ZONE 'UTC', NULL)::text, t_server AT TIME ZONE 'UTC', "
             "coalesce(day_none::text, 'NULL'), day_server, p16, p32, p64, pb, pf, pd) "
             "FROM dflt WHERE id = %lld",
             (long long)id);
    return pq_text(pq, sql);
}

static void test_defaults_matrix(void **state)
{
    (void)state;
    env v = open_env(db_url, &Dflt_model);
    create_all(&v);
    PGconn *pq = pq_open();

    /* zero values, set on purpose: all stored as they are, defaults or not */
    Dflt zero = {.t_none = {0, false}, .t_server = {0, false}, .day_none = {0, false},
                 .day_server = {0, false}, .s_none = "", .s_client = "", .s_server = "",
                 .y_none = {"", 0}, .y_server = {"", 0}};
    store(&v, &Dflt_model, &zero);
    char sql[64];
    snprintf(sql, sizeof sql, "%lld", (long long)zero.id);
    assert_string_equal(row_text(pq, zero.id),
                        "0|0|0|0|0|0|0|0|0|false|f|f|0|0|0||||\\x|\\x|"
                        "1970-01-01 00:00:00|1970-01-01 00:00:00|1970-01-01|1970-01-01|"
                        "0|0|0|f|0|0");

    /* non-zero values: stored as they are */
    Dflt set = {.i16_none = {-2, false}, .i16_client = {-2, false}, .i16_server = {-2, false},
                .i32_none = {-3, false}, .i32_client = {-3, false}, .i32_server = {-3, false},
                .i64_none = {-4, false}, .i64_client = {-4, false}, .i64_server = {-4, false},
                .b_none = {false, false}, .b_client = {false, false}, .b_server = {false, false},
                .d_none = {0.25, false}, .d_client = {0.25, false}, .d_server = {0.25, false},
                .s_none = "x", .s_client = "x", .s_server = "x",
                .y_none = {"\x02", 1}, .y_server = {"\x02", 1},
                .t_none = {86400000000, false}, .t_server = {86400000000, false},
                .day_none = {1, false}, .day_server = {1, false},
                .p16 = 5, .p32 = 6, .p64 = 8, .pb = true, .pf = 0.5f, .pd = 1.5};
    store(&v, &Dflt_model, &set);
    assert_string_equal(row_text(pq, set.id),
                        "-2|-2|-2|-3|-3|-3|-4|-4|-4|false|f|f|0.25|0.25|0.25|x|x|x|"
                        "\\x02|\\x02|1970-01-02 00:00:00|1970-01-02 00:00:00|1970-01-02|"
                        "1970-01-02|5|6|8|t|0.5|1.5");

    /* unset (NULL pointer, is_null): no default gives NULL, a default gives the default,
     * and the struct gets the value that was stored */
    Dflt unset = {.i16_none = {.is_null = true}, .i16_client = {.is_null = true},
                  .i16_server = {.is_null = true}, .i32_none = {.is_null = true},
                  .i32_client = {.is_null = true}, .i32_server = {.is_null = true},
                  .i64_none = {.is_null = true}, .i64_client = {.is_null = true},
                  .i64_server = {.is_null = true}, .b_none = {.is_null = true},
                  .b_client = {.is_null = true}, .b_server = {.is_null = true},
                  .d_none = {.is_null = true}, .d_client = {.is_null = true},
                  .d_server = {.is_null = true}, .t_none = {.is_null = true},
                  .t_server = {.is_null = true}, .day_none = {.is_null = true},
                  .day_server = {.is_null = true}};
    store(&v, &Dflt_model, &unset);
    assert_string_equal(row_text(pq, unset.id),
                        "NULL|7|7|NULL|7|7|NULL|7|7|NULL|t|t|NULL|7.5|7.5|NULL|dflt|dflt|"
                        "NULL|\\x07|2001-02-03 04:05:06|NULL|2001-02-03|0|0|0|f|0|0");
    assert_int_equal(unset.i16_client.value, 7);
    assert_int_equal(unset.i32_server.value, 7);
    assert_true(unset.b_server.value && !unset.b_server.is_null);
    assert_int_equal(unset.y_server.len, 1);
    assert_int_equal(unset.t_server.usec, 981173106000000LL);
    assert_int_equal(unset.day_server.days, 11356);
    PQfinish(pq);
    close_env(&v);
}

/* A default on a field that cannot be unset is refused when the model joins a base. */
typedef struct Plain {
    int64_t id;
    int32_t qty;
    bool on;
} Plain;

static void test_defaults_refused_on_plain_types(void **state)
{
    (void)state;
    const alch_column client[] = {
        ALCH_COLUMN(Plain, id, ALCH_BIGINT, .primary_key = true),
        ALCH_COLUMN(Plain, qty, ALCH_INTEGER, .client_default = ALCH_DEFAULT_INT(1)),
        ALCH_COLUMN(Plain, on, ALCH_BOOLEAN),
    };
    const alch_column server[] = {
        ALCH_COLUMN(Plain, id, ALCH_BIGINT, .primary_key = true),
        ALCH_COLUMN(Plain, qty, ALCH_INTEGER),
        ALCH_COLUMN(Plain, on, ALCH_BOOLEAN, .server_default = "true"),
    };
    const alch_model with_client = ALCH_MODEL(Plain, "plain", client);
    const alch_model with_server = ALCH_MODEL(Plain, "plain", server);
    alch_base *base = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_base_create(&base, &err), err);
    assert_int_equal(alch_base_add(base, &with_client, &err), ALCH_EARGUMENT);
    assert_string_equal(err.message,
                        "column plain.qty has a .client_default, but its field Plain.qty "
                        "(int32_t) cannot be left unset: 0 and false are values you set, so the "
                        "default could never apply. Declare the field alch_opt_i32 and leave it "
                        "{.is_null = true} to get the default, or drop the default and set the "
                        "field yourself");
    alch_error_clear(&err);
    assert_int_equal(alch_base_add(base, &with_server, &err), ALCH_EARGUMENT);
    assert_non_null(strstr(err.message, "column plain.on has a .server_default, but its field "
                                        "Plain.on (bool) cannot be left unset"));
    assert_non_null(strstr(err.message, "Declare the field alch_opt_bool"));
    alch_error_clear(&err);
    alch_base_free(base);
}

/* ---- 2-4. timestamps and dates: limits, BC, infinity ------------------------------------ */

typedef struct When {
    int64_t id;
    alch_timestamp ts;
    alch_date day;
} When;

static const alch_column when_columns[] = {
    ALCH_COLUMN(When, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(When, ts, ALCH_TIMESTAMPTZ, .nullable = true),
    ALCH_COLUMN(When, day, ALCH_DATE, .nullable = true),
};
static const alch_model When_model = ALCH_MODEL(When, "whens", when_columns);

/* Literal timestamps PostgreSQL accepts, and alch_timestamp holds, that once went wrong. */
static const char *const moments[] = {
    "2024-05-06 07:08:09.123456+02:30",
    "1969-12-31 23:59:59.999999+00",
    "0001-01-01 00:00:00+00",
    "0001-12-31 23:59:59.5+00 BC",    /* 1 BC: the year before 1 AD */
    "0044-03-15 12:00:00+00 BC",      /* the Ides of March */
    "4713-11-24 00:00:00+00 BC",      /* PostgreSQL's first day */
    "10000-01-01 00:00:00+00",        /* five year digits */
    "294246-12-31 23:59:59.999999+00", /* near the end of int64 microseconds since 1970 */
    "infinity",
    "-infinity",
};

static void test_timestamps_round_trip(void **state)
{
    (void)state;
    env v = open_env(db_url, &When_model);
    create_all(&v);
    PGconn *pq = pq_open();
    for (size_t i = 0; i < sizeof moments / sizeof *moments; i++) {
        char sql[512];
        const char *m = moments[i];
        bool inf = strstr(m, "infinity") != NULL;
        snprintf(sql, sizeof sql,
                 "INSERT INTO whens VALUES (%zu, '%s', '%s'::timestamptz::date)", 100 + i, m,
                 m);
        pq_exec(pq, "SET TimeZone = 'UTC'");
        pq_exec(pq, sql);
        When *got = NULL;
        alch_session *s = NULL;
        alch_error err = ALCH_ERROR_INIT;
        CHECK_OK(load(&v, &When_model, (int64_t)(100 + i), (void **)&got, &s, &err), err);
        /* what PostgreSQL says the value is */
        if (inf) {
            bool pos = m[0] == 'i';
            assert_true(got->ts.usec == (pos ? ALCH_TIMESTAMP_INFINITY : ALCH_TIMESTAMP_NEG_INFINITY));
            assert_true(got->day.days == (pos ? ALCH_DATE_INFINITY : ALCH_DATE_NEG_INFINITY));
        } else {
            snprintf(sql, sizeof sql,
                     "SELECT (extract(epoch FROM '%s'::timestamptz) * 1000000)::bigint", m);
            char want[64];
            snprintf(want, sizeof want, "%lld", (long long)got->ts.usec);
            assert_string_equal(want, pq_text(pq, sql));
            snprintf(sql, sizeof sql,
                     "SELECT '%s'::timestamptz::date - '1970-01-01'::date", m);
            snprintf(want, sizeof want, "%d", (int)got->day.days);
            assert_string_equal(want, pq_text(pq, sql));
        }
        /* and back: alch stores the very same value */
        When copy = {.id = (int64_t)(200 + i), .ts = got->ts, .day = got->day};
        alch_session_close(s);
        store(&v, &When_model, &copy);
        snprintf(sql, sizeof sql,
                 "SELECT a.ts = b.ts AND a.day = b.day FROM whens a, whens b "
                 "WHERE a.id = %zu AND b.id = %zu",
                 100 + i, 200 + i);
        if (strcmp(pq_text(pq, sql), "t") != 0)
            fail_msg("%s did not round-trip", m);
    }
    PQfinish(pq);
    close_env(&v);
}

static void test_timestamp_beyond_int64(void **state)
{
    (void)state;
    env v = open_env(db_url, &When_model);
    create_all(&v);
    PGconn *pq = pq_open();
    /* the largest timestamptz PostgreSQL accepts */
    pq_exec(pq, "INSERT INTO whens VALUES (1, '294276-12-31 23:59:59+00', NULL)");
    When *got = NULL;
    alch_session *s = NULL;
    alch_error err = ALCH_ERROR_INIT;
    assert_int_equal(load(&v, &When_model, 1, (void **)&got, &s, &err), ALCH_ETYPE);
    assert_non_null(strstr(err.message, "whens.ts: the database sent '294276-12-31 23:59:59+00'"));
    assert_non_null(strstr(err.message, "out of range for the field When.ts (alch_timestamp: "));
    alch_error_clear(&err);
    alch_session_close(s);
    PQfinish(pq);
    close_env(&v);
}

/* ---- 5. integers (and NUMERIC) wider than the field ------------------------------------- */

typedef struct Drift {
    int64_t id;
    int16_t small;
    int32_t mid;
    alch_opt_i32 opt;
    double num;
} Drift;

static const alch_column drift_columns[] = {
    ALCH_COLUMN(Drift, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Drift, small, ALCH_SMALLINT),
    ALCH_COLUMN(Drift, mid, ALCH_INTEGER),
    ALCH_COLUMN(Drift, opt, ALCH_INTEGER, .nullable = true),
    ALCH_COLUMN(Drift, num, ALCH_DOUBLE),
};
static const alch_model Drift_model = ALCH_MODEL(Drift, "drift", drift_columns);

static void expect_drift(env *v, int64_t id, const char *part1, const char *part2)
{
    Drift *got = NULL;
    alch_session *s = NULL;
    alch_error err = ALCH_ERROR_INIT;
    assert_int_equal(load(v, &Drift_model, id, (void **)&got, &s, &err), ALCH_ETYPE);
    if (!strstr(err.message, part1) || !strstr(err.message, part2))
        fail_msg("row %lld: '%s' lacks '%s' or '%s'", (long long)id, err.message, part1, part2);
    alch_error_clear(&err);
    alch_session_close(s);
}

static void test_integers_wider_than_the_field(void **state)
{
    (void)state;
    PGconn *pq = pq_open();
    /* a hand-written table, wider than the model says */
    pq_exec(pq, "CREATE TABLE drift (id bigint PRIMARY KEY, small integer, mid bigint, "
                "opt bigint, num numeric)");
    pq_exec(pq, "INSERT INTO drift VALUES (1, 32767, 2147483647, -2147483648, 1.5), "
                "(2, 100000, 1, 1, 1), (3, 1, 5000000000, 1, 1), (4, 1, 1, -2147483649, 1), "
                "(5, 1, 1, 1, 1e400), (6, 1, 1, 1, -1e400), (7, 1, 1, 1, 1e-400), "
                "(8, -32769, 1, 1, 1)");
    env v = open_env(db_url, &Drift_model);
    Drift *got = NULL;
    alch_session *s = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(load(&v, &Drift_model, 1, (void **)&got, &s, &err), err);
    assert_int_equal(got->small, 32767);
    assert_int_equal(got->mid, 2147483647);
    assert_int_equal(got->opt.value, -2147483648LL);
    assert_true(got->num == 1.5);
    alch_session_close(s);
    expect_drift(&v, 2, "drift.small: the database sent '100000'",
                 "out of range for the field Drift.small (int16_t: -32768 to 32767)");
    expect_drift(&v, 3, "drift.mid: the database sent '5000000000'",
                 "the field Drift.mid (int32_t: -2147483648 to 2147483647)");
    expect_drift(&v, 4, "drift.opt: the database sent '-2147483649'", "Drift.opt (int32_t");
    expect_drift(&v, 5, "drift.num: the database sent '1", "Drift.num (double");
    expect_drift(&v, 6, "drift.num: the database sent '-1", "Drift.num (double");
    expect_drift(&v, 7, "drift.num: the database sent '0.0", "Drift.num (double");
    expect_drift(&v, 8, "the database sent '-32769'", "int16_t");

    /* the result getter refuses too */
    alch_conn *c = NULL;
    alch_result *res = NULL;
    CHECK_OK(alch_engine_connect(v.engine, &c, &err), err);
    CHECK_OK(alch_conn_execute_text(c, "SELECT num FROM drift WHERE id = 5", NULL, 0, &res, &err),
             err);
    double d = 0;
    assert_int_equal(alch_result_get_double(res, 0, 0, &d, &err), ALCH_EDATA);
    assert_non_null(strstr(err.message, "is out of range for a double"));
    alch_error_clear(&err);
    alch_result_free(res);
    alch_conn_close(c);
    close_env(&v);
    PQfinish(pq);
}

/* ---- 6. unsigned values above INT64_MAX -------------------------------------------------- */

static void test_unsigned_above_int64_max(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    CHECK_OK(alch_conn_open(db_url, &c, &err), err);
    alch_result *res = NULL;
    alch_value big[] = {alch_v(UINT64_MAX)};
    assert_int_equal(alch_conn_execute_text(c, "SELECT $1::text", big, 1, &res, &err), ALCH_EDATA);
    assert_string_equal(err.message, "parameter $1: the number 18446744073709551615 is larger "
                                     "than any SQL integer (BIGINT ends at 9223372036854775807)");
    assert_null(res);
    alch_error_clear(&err);
    alch_value edge[] = {alch_v(9223372036854775808ULL)};
    assert_int_equal(alch_conn_execute_text(c, "SELECT $1::text", edge, 1, &res, &err), ALCH_EDATA);
    assert_non_null(strstr(err.message, "9223372036854775808 is larger than any SQL integer"));
    alch_error_clear(&err);

    /* the largest that fits is an ordinary integer */
    alch_value max[] = {alch_v((uint64_t)INT64_MAX), alch_v((unsigned long)7)};
    CHECK_OK(alch_conn_execute_text(c, "SELECT $1::text || '/' || $2::text", max, 2, &res, &err),
             err);
    const char *text = NULL;
    CHECK_OK(alch_result_get_text(res, 0, 0, &text, &err), err);
    assert_string_equal(text, "9223372036854775807/7");
    alch_result_free(res);

    /* in the statement builder, through alch_val(), the same sentence */
    alch_expr *e = alch_val(alch_v(UINT64_MAX));
    alch_stmt *st = alch_select_list((alch_expr *[]){e}, 1);
    assert_int_equal(alch_conn_execute(c, st, &res, &err), ALCH_EDATA);
    assert_non_null(strstr(err.message, "18446744073709551615 is larger than any SQL integer"));
    alch_error_clear(&err);
    alch_stmt_free(st);
    alch_conn_close(c);
}

/* ---- 8. IN with a NULL in the list ----------------------------------------------------------- */

typedef struct Priced {
    int64_t id;
    alch_opt_i32 price;
} Priced;

static const alch_column priced_columns[] = {
    ALCH_COLUMN(Priced, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Priced, price, ALCH_INTEGER, .nullable = true),
};
static const alch_model Priced_model = ALCH_MODEL(Priced, "priced", priced_columns);

static void test_in_with_null(void **state)
{
    (void)state;
    env v = open_env(db_url, &Priced_model);
    create_all(&v);
    Priced a = {.price = {5, false}}, b = {.price = {6, false}}, n = {.price = {.is_null = true}};
    store(&v, &Priced_model, &a);
    store(&v, &Priced_model, &b);
    store(&v, &Priced_model, &n);
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(v.maker, &s, &err), err);
    alch_value list[] = {alch_v(5), alch_null()};
    alch_stmt *st = alch_select(&Priced_model);
    alch_where(st, alch_in(alch_col(&Priced_model, "price"), list, 2));
    alch_list rows = {0};
    CHECK_OK(alch_session_scalars(s, st, &rows, &err), err);
    assert_int_equal(rows.count, 1); /* 5 matches; NULL IN (5, NULL) is unknown, not true */
    assert_int_equal(((Priced *)rows.items[0])->price.value, 5);
    alch_stmt_free(st);

    /* only NULLs: never true, said as such */
    alch_value nulls[] = {alch_null(), alch_null()};
    st = alch_select(&Priced_model);
    alch_where(st, alch_in(alch_col(&Priced_model, "price"), nulls, 2));
    assert_int_equal(alch_session_scalars(s, st, &rows, &err), ALCH_EARGUMENT);
    assert_non_null(strstr(err.message, "every value in the list is NULL"));
    alch_error_clear(&err);
    alch_stmt_free(st);
    alch_session_close(s);
    close_env(&v);
}

/* ---- 7. the server's settings do not change what loads ----------------------------------- */

typedef struct Reading {
    int64_t id;
    alch_timestamp at;
    alch_date day;
    double x;
} Reading;

static const alch_column reading_columns[] = {
    ALCH_COLUMN(Reading, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Reading, at, ALCH_TIMESTAMPTZ),
    ALCH_COLUMN(Reading, day, ALCH_DATE),
    ALCH_COLUMN(Reading, x, ALCH_DOUBLE),
};
static const alch_model Reading_model = ALCH_MODEL(Reading, "readings", reading_columns);

/* url with its user replaced by `role`. */
static char *url_as(const char *url, const char *role)
{
    const char *at = strchr(url, '@'), *scheme = strstr(url, "://");
    assert_non_null(at);
    assert_non_null(scheme);
    size_t n = strlen(url) + strlen(role) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(scheme + 3 - url), url, role, at);
    return out;
}

/* The test's database through the PgBouncer fixture (which drops startup options), or NULL
 * when there is none (an external server). */
static char *pgbouncer_url(void)
{
    const char *file = getenv("ALCH_PGBOUNCER_URL_FILE");
    FILE *f = file ? fopen(file, "r") : NULL;
    char line[512] = "";
    if (!f)
        return NULL;
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    char *db = alch_test_url_database(db_url);
    char *url = *line ? alch_test_url_with_database(line, db) : NULL;
    free(db);
    return url;
}

/* Load both rows of readings through `url` and check them against the server's values. */
static void check_readings(PGconn *pq, const char *url)
{
    char sql[128];
    env v = open_env(url, &Reading_model);
    Reading *got = NULL;
    alch_session *s = NULL;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(load(&v, &Reading_model, 1, (void **)&got, &s, &err), err);
    assert_int_equal(got->at.usec, 1714979289123456LL);
    assert_int_equal(got->day.days, 19849);
    assert_true(got->x == 0.1);
    alch_session_close(s);
    CHECK_OK(load(&v, &Reading_model, 2, (void **)&got, &s, &err), err);
    snprintf(sql, sizeof sql, "%lld %d", (long long)got->at.usec, (int)got->day.days);
    assert_string_equal(pq_text(pq, "SELECT (extract(epoch FROM at) * 1000000)::bigint::text "
                                    "|| ' ' || (day - '1970-01-01'::date) FROM readings "
                                    "WHERE id = 2"),
                        sql);
    assert_true(got->x == 1.0000000000000002);
    alch_session_close(s);
    close_env(&v);
}

static void test_server_settings_do_not_matter(void **state)
{
    (void)state;
    if (!alch_test_is_sandbox())
        skip(); /* creates a role */
    char role[32], sql[512];
    snprintf(role, sizeof role, "alch_ds_%d", (int)getpid());
    PGconn *pq = pq_open();
    snprintf(sql, sizeof sql, "DROP ROLE IF EXISTS %s", role);
    pq_exec(pq, sql);
    snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN", role);
    pq_exec(pq, sql);
    snprintf(sql, sizeof sql,
             "ALTER ROLE %s SET DateStyle = 'SQL, DMY'; ALTER ROLE %s SET IntervalStyle = "
             "'sql_standard'; ALTER ROLE %s SET extra_float_digits = -3",
             role, role, role);
    pq_exec(pq, sql);
    pq_exec(pq, "CREATE TABLE readings (id bigint PRIMARY KEY, at timestamptz NOT NULL, "
                "day date NOT NULL, x double precision NOT NULL)");
    pq_exec(pq, "INSERT INTO readings VALUES (1, '2024-05-06 07:08:09.123456+00', "
                "'2024-05-06', 0.1), (2, '0044-03-15 12:00:00+00 BC', '0044-03-15 BC', "
                "1.0000000000000002)");
    snprintf(sql, sizeof sql, "GRANT ALL ON readings TO %s", role);
    pq_exec(pq, sql);

    char *url = url_as(db_url, role);
    /* what the role's own sessions see: not ISO, and floats cut to 12 digits */
    PGconn *as_role = PQconnectdb(url);
    assert_int_equal(PQstatus(as_role), CONNECTION_OK);
    assert_string_equal(PQparameterStatus(as_role, "DateStyle"), "SQL, DMY");
    assert_string_equal(pq_text(as_role, "SELECT x FROM readings WHERE id = 2"), "1");
    PQfinish(as_role);
    check_readings(pq, url); /* pinned by the startup options */
    free(url);

    /* through PgBouncer, which drops the startup options (and knows only its own users):
     * the database's DateStyle is SQL, DMY, pinned by one SET at connect, which PgBouncer
     * keeps for the client from one server connection to the next */
    char *pgb = pgbouncer_url();
    if (pgb) {
        char *db = alch_test_url_database(db_url);
        snprintf(sql, sizeof sql, "ALTER DATABASE %s SET DateStyle = 'SQL, DMY'", db);
        pq_exec(pq, sql);
        free(db);
        check_readings(pq, pgb);
        free(pgb);
    }

    snprintf(sql, sizeof sql, "DROP OWNED BY %s; DROP ROLE %s", role, role);
    pq_exec(pq, sql);
    PQfinish(pq);
}


/* ---- 8. a bulk insert stores what one row at a time stores --------------------------------- */

/* Every C type a model maps, nullable where the type can say NULL. */
typedef struct Every {
    int64_t id;
    int32_t seq;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    int64_t small64; /* SMALLINT in an int64_t */
    bool b;
    float f;
    double real_d; /* REAL in a double */
    double d;
    char *t, *vc, *num, *uid, *js;
    alch_timestamp ts;
    alch_date day;
    alch_blob blob;
    alch_opt_i16 o16;
    alch_opt_i32 o32;
    alch_opt_i64 o64;
    alch_opt_bool ob;
    alch_opt_double od;
} Every;

static const alch_column every_columns[] = {
    ALCH_COLUMN(Every, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Every, seq, ALCH_INTEGER),
    ALCH_COLUMN(Every, i16, ALCH_SMALLINT),
    ALCH_COLUMN(Every, i32, ALCH_INTEGER),
    ALCH_COLUMN(Every, i64, ALCH_BIGINT),
    ALCH_COLUMN(Every, small64, ALCH_SMALLINT),
    ALCH_COLUMN(Every, b, ALCH_BOOLEAN),
    ALCH_COLUMN(Every, f, ALCH_REAL),
    ALCH_COLUMN(Every, real_d, ALCH_REAL),
    ALCH_COLUMN(Every, d, ALCH_DOUBLE),
    ALCH_COLUMN(Every, t, ALCH_TEXT, .nullable = true),
    ALCH_COLUMN(Every, vc, ALCH_VARCHAR, .length = 12, .nullable = true),
    ALCH_COLUMN(Every, num, ALCH_NUMERIC, .nullable = true),
    ALCH_COLUMN(Every, uid, ALCH_UUID, .nullable = true),
    ALCH_COLUMN(Every, js, ALCH_JSONB, .nullable = true),
    ALCH_COLUMN(Every, ts, ALCH_TIMESTAMPTZ, .nullable = true),
    ALCH_COLUMN(Every, day, ALCH_DATE, .nullable = true),
    ALCH_COLUMN(Every, blob, ALCH_BYTEA, .nullable = true),
    ALCH_COLUMN(Every, o16, ALCH_SMALLINT, .nullable = true),
    ALCH_COLUMN(Every, o32, ALCH_INTEGER, .nullable = true),
    ALCH_COLUMN(Every, o64, ALCH_BIGINT, .nullable = true),
    ALCH_COLUMN(Every, ob, ALCH_BOOLEAN, .nullable = true),
    ALCH_COLUMN(Every, od, ALCH_DOUBLE, .nullable = true),
};
static const alch_model Every_model = ALCH_MODEL(Every, "every", every_columns);

/* Text an array literal must carry through untouched. */
static const char *const tricky[] = {
    "", " ", "plain", "NULL", "null", "O'Brien", "say \"hi\"", "back\\slash", "\\\"",
    "a,b", "{braces}", "}{", "(parens)", "tab\there", "new\nline", "  padded  ", "Чай",
    "日本語", "emoji 🙂", "\\x41", "\"", "\\", "{\"a\":1}", "ends with \\",
};
enum { NTRICKY = sizeof tricky / sizeof *tricky, BULK = 2 * NTRICKY };

static const unsigned char bytes[] = {0, 1, '"', '\\', ',', '{', '}', 0x7f, 0x80, 0xff};

static Every every_row(int i)
{
    static const double doubles[] = {0.1, -0.0, 1e308, 5e-324, 1.0000000000000002, -2.5};
    static const char *const nums[] = {"12.50", "-0.000001", "123456789012345678901234567890.5",
                                       "NaN", "0"};
    static const char *const uuids[] = {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                                        "00000000-0000-0000-0000-000000000000"};
    static const char *const jsons[] = {"{\"k\": \"v,\\\"}\"}", "[1, 2.5, null]", "\"Чай\""};
    static const int64_t stamps[] = {1714979289123456LL, -62135596800000000LL - 1,
                                      ALCH_TIMESTAMP_INFINITY, ALCH_TIMESTAMP_NEG_INFINITY, 0};
    static const int32_t days[] = {19849, -719528, ALCH_DATE_INFINITY, ALCH_DATE_NEG_INFINITY};
    bool null = i % 5 == 4; /* every fifth row: NULL wherever a type can say so */
    Every e = {
        .seq = i,
        .i16 = (int16_t)(i % 2 ? INT16_MIN : INT16_MAX),
        .i32 = i % 2 ? INT32_MIN : INT32_MAX - i,
        .i64 = i % 2 ? INT64_MIN : INT64_MAX - i,
        .small64 = -i,
        .b = i % 2,
        .f = i % 3 ? 0.1f * (float)i : 3.4e38f,
        .real_d = 0.1 * i,
        .d = doubles[i % 6],
        .t = null ? NULL : (char *)tricky[i % NTRICKY],
        .vc = null ? NULL : (char *)(i % 2 ? "Чай, \"}\\" : "{NULL}"),
        .num = null ? NULL : (char *)nums[i % 5],
        .uid = null ? NULL : (char *)uuids[i % 2],
        .js = null ? NULL : (char *)jsons[i % 3],
        .ts = {stamps[i % 5], null},
        .day = {days[i % 4], null},
        .blob = {null ? NULL : bytes, (size_t)(i % (int)sizeof bytes)},
        .o16 = {(int16_t)-i, null},
        .o32 = {i * 1000, null},
        .o64 = {(int64_t)i << 40, null},
        .ob = {i % 3 == 0, null},
        .od = {i % 7 == 1 ? INFINITY : i % 7 == 2 ? -INFINITY : i % 7 == 3 ? NAN : i * 0.3,
               null},
    };
    return e;
}

static void test_bulk_insert_exact(void **state)
{
    (void)state;
    FILE *log = tmpfile();
    env v = open_env_echo(db_url, &Every_model, log);
    alch_error err = ALCH_ERROR_INIT;
    create_all(&v);

    /* the same rows twice: one INSERT per row (seq 0..BULK-1), then in one add_all
     * (seq BULK..2*BULK-1), which goes as one INSERT of arrays with the keys taken first */
    Every one[BULK], bulk[BULK];
    for (int i = 0; i < BULK; i++) {
        one[i] = every_row(i);
        store(&v, &Every_model, &one[i]);
        bulk[i] = every_row(i);
        bulk[i].seq = BULK + i;
    }
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(v.maker, &s, &err), err);
    CHECK_OK(alch_session_add_all(s, &Every_model, bulk, BULK, &err), err);
    long at = ftell(log);
    CHECK_OK(alch_session_commit(s, &err), err);
    for (int i = 1; i < BULK; i++) /* the keys came back, in order */
        assert_true(bulk[i].id == bulk[i - 1].id + 1);
    alch_session_close(s);
    char sent[4096] = "";
    fseek(log, at, SEEK_SET);
    assert_true(fread(sent, 1, sizeof sent - 1, log) > 0);
    /* the keys were taken from the sequence first, and each row sent with its own */
    assert_non_null(strstr(sent, "SELECT min(v), max(v), count(*), "));
    assert_non_null(strstr(sent, " SELECT coalesce(u.k, CAST($1 AS BIGINT) + u.ord - 1), u.c1, "
                                 "u.c2, "));
    assert_non_null(strstr(sent, " FROM unnest(CAST($2 AS INTEGER[]), CAST($3 AS SMALLINT[]), "));
    assert_non_null(strstr(sent, "CAST($8 AS DOUBLE PRECISION[]), CAST($9 AS DOUBLE PRECISION[]), "
                                 "CAST($10 AS DOUBLE PRECISION[]), CAST($11 AS TEXT[]), CAST($12 "
                                 "AS VARCHAR[]), CAST($13 AS NUMERIC[]), CAST($14 AS UUID[]), "
                                 "CAST($15 AS JSONB[]), CAST($16 AS TIMESTAMP WITH TIME ZONE[]), "
                                 "CAST($17 AS DATE[]), CAST($18 AS BYTEA[]), "));
    assert_null(strstr(sent, "RETURNING"));

    /* the server compares every column of each pair as text (-0 and 0, NaN, infinities
     * and the bytes included): no pair differs */
    PGconn *pq = pq_open();
    pq_exec(pq, "SET extra_float_digits = 3");
    char sql[1024] = "SELECT count(*) FROM every a JOIN every b ON b.seq = a.seq + ";
    snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "%d WHERE false", BULK);
    for (size_t i = 2; i < sizeof every_columns / sizeof *every_columns; i++)
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql),
                 " OR a.%s::text IS DISTINCT FROM b.%s::text", every_columns[i].name,
                 every_columns[i].name);
    assert_string_equal(pq_text(pq, sql), "0");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM every WHERE seq >= %d", BULK);
    assert_string_equal(pq_text(pq, sql), "48");
    /* and the text is the C text, byte for byte, NULLs where NULL was set */
    for (int i = 0; i < BULK; i++) {
        snprintf(sql, sizeof sql, "SELECT t FROM every WHERE seq = %d", BULK + i);
        assert_string_equal(pq_text(pq, sql), i % 5 == 4 ? "NULL" : tricky[i % NTRICKY]);
    }
    assert_string_equal(pq_text(pq, "SELECT count(*) FROM every WHERE blob IS NULL"), "18");
    PQfinish(pq);

    /* a value the column cannot hold, in the middle of a bulk insert: the sentence names it */
    CHECK_OK(alch_session_open(v.maker, &s, &err), err);
    for (int i = 0; i < BULK; i++)
        bulk[i] = every_row(i);
    bulk[30].vc = "thirteen char";
    CHECK_OK(alch_session_add_all(s, &Every_model, bulk, BULK, &err), err);
    assert_int_equal(alch_session_commit(s, &err), ALCH_EDATA);
    assert_non_null(strstr(err.message, "every.vc is 13 characters long, but VARCHAR(12) holds"));
    alch_error_clear(&err);
    alch_session_close(s);
    close_env(&v);
    fclose(log);
}

/* ---- 8b. each new object gets the key of its own row ------------------------------------
 *
 * PostgreSQL does not promise that INSERT ... RETURNING lists rows in any order, nor that a
 * sequence numbers them in the order they were sent. Whatever the table's sequence does
 * (counting down, counting by 2, made by SERIAL or GENERATED ALWAYS), each object's key after
 * the commit is the key of the row that holds its own values: read back by its unique tag. */

typedef struct Tagged {
    int64_t id;
    char *tag;
} Tagged;

static const alch_column tagged_columns[] = {
    ALCH_COLUMN(Tagged, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Tagged, tag, ALCH_TEXT),
};
static const alch_model Tagged_model = ALCH_MODEL(Tagged, "tagged", tagged_columns);

enum { TAGGED = 5000 };

/* Insert n objects (at most TAGGED) into a table made by `ddl`, then compare each object's
 * key with the key of the row that holds its tag. Returns how many hold another row's key. */
static int misplaced_keys(const char *ddl, int n, FILE *log)
{
    PGconn *pq = pq_open();
    pq_exec(pq, "SET client_min_messages = warning");
    pq_exec(pq, "DROP TABLE IF EXISTS tagged");
    pq_exec(pq, ddl);
    env v = open_env_echo(db_url, &Tagged_model, log);
    alch_error err = ALCH_ERROR_INIT;
    Tagged *t = calloc(TAGGED, sizeof *t);
    char(*tags)[16] = calloc(TAGGED, sizeof *tags);
    for (int i = 0; i < TAGGED; i++) {
        snprintf(tags[i], sizeof tags[i], "row %d", i);
        t[i].tag = tags[i];
    }
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(v.maker, &s, &err), err);
    CHECK_OK(alch_session_add_all(s, &Tagged_model, t, (size_t)n, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    alch_session_close(s);
    PGresult *r = PQexec(pq, "SELECT substr(tag, 5)::int, id FROM tagged");
    assert_int_equal(PQntuples(r), n);
    int wrong = 0;
    for (int k = 0; k < PQntuples(r); k++) {
        int i = atoi(PQgetvalue(r, k, 0));
        wrong += t[i].id != strtoll(PQgetvalue(r, k, 1), NULL, 10);
    }
    PQclear(r);
    PQfinish(pq);
    free(t);
    free(tags);
    close_env(&v);
    return wrong;
}

static void test_bulk_keys_to_their_rows(void **state)
{
    (void)state;
    FILE *log = tmpfile();
    assert_int_equal(misplaced_keys("CREATE TABLE tagged (id bigint GENERATED BY DEFAULT AS "
                                    "IDENTITY PRIMARY KEY, tag text UNIQUE)",
                                    TAGGED, log),
                     0);
    assert_int_equal(misplaced_keys("CREATE TABLE tagged (id bigint GENERATED BY DEFAULT AS "
                                    "IDENTITY (START WITH -1 INCREMENT BY -1) PRIMARY KEY, "
                                    "tag text UNIQUE)",
                                    TAGGED, log),
                     0);
    assert_int_equal(misplaced_keys("CREATE TABLE tagged (id bigserial PRIMARY KEY, tag text "
                                    "UNIQUE); ALTER SEQUENCE tagged_id_seq INCREMENT BY 2",
                                    TAGGED, log),
                     0);
    assert_int_equal(misplaced_keys("CREATE TABLE tagged (id bigint GENERATED ALWAYS AS "
                                    "IDENTITY (START WITH -1 INCREMENT BY -1) PRIMARY KEY, "
                                    "tag text UNIQUE)",
                                    TAGGED, log),
                     0);
    /* fewer than 16 rows go as VALUES (...), (...) RETURNING id (what the lessons show) */
    assert_int_equal(misplaced_keys("CREATE TABLE tagged (id bigint GENERATED ALWAYS AS "
                                    "IDENTITY (START WITH -1 INCREMENT BY -1) PRIMARY KEY, "
                                    "tag text UNIQUE)",
                                    10, log),
                     0);
    fclose(log);
}

/* ---- 9. binary rows read as the text rows are ------------------------------------------
 *
 * The session's own queries (objects it reads itself) ask for binary rows once a cached
 * statement's first, text answer showed every column's type has a binary decoder. The same
 * rows are read three ways: text through alch_result_scalars() (the truth), the session's
 * first query (text, on the connection that prepared it), and its second, in binary, with
 * DateStyle, extra_float_digits and TimeZone set so that text would fail or round. */

typedef struct Wire {
    int64_t id;
    int16_t i2;
    int32_t i4;
    int64_t i8;
    alch_opt_i32 oi4;
    bool b;
    alch_opt_bool ob;
    double f8;
    alch_opt_double of8;
    float f4;
    char *t;
    char *u;
    alch_blob y;
    alch_timestamp ts;
    alch_date d;
} Wire;

static const alch_column wire_columns[] = {
    ALCH_COLUMN(Wire, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Wire, i2, ALCH_SMALLINT),
    ALCH_COLUMN(Wire, i4, ALCH_INTEGER),
    ALCH_COLUMN(Wire, i8, ALCH_BIGINT),
    ALCH_COLUMN(Wire, oi4, ALCH_INTEGER, .nullable = true),
    ALCH_COLUMN(Wire, b, ALCH_BOOLEAN),
    ALCH_COLUMN(Wire, ob, ALCH_BOOLEAN, .nullable = true),
    ALCH_COLUMN(Wire, f8, ALCH_DOUBLE),
    ALCH_COLUMN(Wire, of8, ALCH_DOUBLE, .nullable = true),
    ALCH_COLUMN(Wire, f4, ALCH_REAL),
    ALCH_COLUMN(Wire, t, ALCH_TEXT, .nullable = true),
    ALCH_COLUMN(Wire, u, ALCH_UUID, .nullable = true),
    ALCH_COLUMN(Wire, y, ALCH_BYTEA, .nullable = true),
    ALCH_COLUMN(Wire, ts, ALCH_TIMESTAMPTZ, .nullable = true),
    ALCH_COLUMN(Wire, d, ALCH_DATE, .nullable = true),
};
static const alch_model Wire_model = ALCH_MODEL(Wire, "wire", wire_columns);

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; /* -0.0 is not 0.0 */
}

static bool same_text(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void expect_same_wire(const Wire *a, const Wire *b)
{
    assert_true(a->id == b->id);
    assert_true(a->i2 == b->i2 && a->i4 == b->i4 && a->i8 == b->i8);
    assert_true(a->oi4.is_null == b->oi4.is_null && a->oi4.value == b->oi4.value);
    assert_true(a->b == b->b && a->ob.is_null == b->ob.is_null && a->ob.value == b->ob.value);
    if (!same_double(a->f8, b->f8) || a->of8.is_null != b->of8.is_null ||
        !same_double(a->of8.value, b->of8.value) || memcmp(&a->f4, &b->f4, sizeof a->f4) != 0)
        fail_msg("row %lld: floats differ: %.17g %.17g %.9g / %.17g %.17g %.9g", (long long)a->id,
                 a->f8, a->of8.value, (double)a->f4, b->f8, b->of8.value, (double)b->f4);
    if (!same_text(a->t, b->t) || !same_text(a->u, b->u))
        fail_msg("row %lld: text differs: '%s' '%s' / '%s' '%s'", (long long)a->id,
                 a->t ? a->t : "NULL", a->u ? a->u : "NULL", b->t ? b->t : "NULL",
                 b->u ? b->u : "NULL");
    assert_true((a->y.data == NULL) == (b->y.data == NULL) && a->y.len == b->y.len);
    assert_true(a->y.len == 0 || memcmp(a->y.data, b->y.data, a->y.len) == 0);
    assert_true(a->ts.is_null == b->ts.is_null && a->ts.usec == b->ts.usec);
    assert_true(a->d.is_null == b->d.is_null && a->d.days == b->d.days);
}

static void expect_same_lists(const alch_list *want, const alch_list *got)
{
    assert_int_equal(want->count, got->count);
    for (size_t i = 0; i < got->count; i++) {
        const Wire *g = got->items[i], *w = NULL;
        for (size_t j = 0; j < want->count && !w; j++)
            if (((const Wire *)want->items[j])->id == g->id)
                w = want->items[j];
        assert_non_null(w);
        expect_same_wire(w, g);
    }
}

/* The session's rows of st after the settings statement `sets` ("" for none). */
static int session_rows(env *v, alch_stmt *st, const char *sets, alch_session **s, alch_list *out,
                        alch_error *err)
{
    CHECK_OK(alch_session_open(v->maker, s, err), *err);
    if (sets[0])
        CHECK_OK(alch_session_execute_text(*s, sets, NULL, 0, NULL, err), *err);
    return alch_session_scalars(*s, st, out, err);
}

static void test_binary_rows_as_text_rows(void **state)
{
    (void)state;
    PGconn *pq = pq_open();
    pq_exec(pq, "CREATE TABLE wire (id bigint PRIMARY KEY, i2 smallint NOT NULL, i4 integer "
                "NOT NULL, i8 bigint NOT NULL, oi4 integer, b boolean NOT NULL, ob boolean, f8 "
                "float8 NOT NULL, of8 float8, f4 float8 NOT NULL, t text, u uuid, y bytea, "
                "ts timestamptz, d date)");
    pq_exec(pq, "INSERT INTO wire VALUES "
                "(1, -32768, -2147483648, -9223372036854775808, NULL, false, NULL, "
                "-1.7976931348623157e308, NULL, -3.4e38, '', '00000000-0000-0000-0000-"
                "000000000000', '\\x', '-infinity', '-infinity'), "
                "(2, 32767, 2147483647, 9223372036854775807, 2147483647, true, true, "
                "1.7976931348623157e308, 'NaN', 3.4e38, 'ünïcødé ✓', 'ffffffff-ffff-ffff-ffff-"
                "ffffffffffff', '\\x00ff10', 'infinity', 'infinity'), "
                "(3, 0, 0, 0, 0, true, false, 0.1::float8 + 0.2::float8, '-Infinity', 0.1, "
                "'a''b', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00', "
                "'4713-01-01 00:00:00+00 BC', '4713-01-01 BC'), "
                "(4, -1, -1, -1, -7, false, true, '-0', 5e-324, 1e-30, 'x', NULL, NULL, "
                "'2024-05-06 07:08:09.123456+02:30', '5874897-12-31'), "
                "(5, 1, 1, 1, NULL, false, NULL, 2.2250738585072014e-308, NULL, 1, NULL, NULL, "
                "NULL, '1969-12-31 23:59:59.999999+00', '1970-01-01'), "
                "(6, 2, 2, 2, 2, true, true, 1, 1, 2, 't', NULL, NULL, NULL, NULL)");
    env v = open_env(db_url, &Wire_model);
    alch_stmt *st = alch_select(&Wire_model);
    alch_error err = ALCH_ERROR_INIT;

    /* the truth: text, through a result (never binary: the result is the caller's) */
    alch_conn *c = NULL;
    alch_result *res = NULL;
    alch_list want = {0}, first = {0}, second = {0};
    CHECK_OK(alch_engine_connect(v.engine, &c, &err), err);
    CHECK_OK(alch_conn_execute(c, st, &res, &err), err);
    CHECK_OK(alch_result_scalars(res, &Wire_model, &want, &err), err);
    alch_conn_close(c); /* back to the pool, statement cache and all */
    assert_int_equal(want.count, 6);

    /* the session's first answer is text (another time zone: the same moments) */
    alch_session *s1 = NULL, *s2 = NULL;
    CHECK_OK(session_rows(&v, st, "SET LOCAL TimeZone = 'America/St_Johns'", &s1, &first, &err),
             err);
    expect_same_lists(&want, &first);
    alch_session_close(s1);

    /* its second comes in binary: in text, DateStyle SQL would fail the timestamps and
     * extra_float_digits = -3 would round the floats */
    CHECK_OK(session_rows(&v, st,
                          "SELECT set_config('DateStyle', 'SQL, DMY', true), "
                          "set_config('extra_float_digits', '-3', true), "
                          "set_config('TimeZone', 'Asia/Kathmandu', true)",
                          &s2, &second, &err),
             err);
    expect_same_lists(&want, &second);
    alch_session_close(s2);
    alch_result_free(res);
    alch_stmt_free(st);
    close_env(&v);
    PQfinish(pq);
}

/* An integer too wide for its field is refused in binary with the text path's sentence. */
static void test_binary_refuses_as_text_does(void **state)
{
    (void)state;
    PGconn *pq = pq_open();
    pq_exec(pq, "CREATE TABLE narrow (id bigint PRIMARY KEY, small integer NOT NULL, "
                "mid bigint NOT NULL, opt bigint, num float8 NOT NULL)");
    pq_exec(pq, "INSERT INTO narrow VALUES (1, 5, 5, 5, 1)");
    static const alch_model Narrow_model = ALCH_MODEL(Drift, "narrow", drift_columns);
    env v = open_env(db_url, &Narrow_model);
    alch_stmt *st = alch_select(&Narrow_model);
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    alch_list rows = {0};
    CHECK_OK(session_rows(&v, st, "", &s, &rows, &err), err); /* the types read in binary */
    alch_session_close(s);
    pq_exec(pq, "INSERT INTO narrow VALUES (2, 100000, 5000000000, -2147483649, 1)");

    /* the text path's sentence, through a result */
    alch_conn *c = NULL;
    alch_result *res = NULL;
    CHECK_OK(alch_engine_connect(v.engine, &c, &err), err);
    CHECK_OK(alch_conn_execute(c, st, &res, &err), err);
    assert_int_equal(alch_result_scalars(res, &Narrow_model, &rows, &err), ALCH_ETYPE);
    char *text_says = strdup(err.message);
    alch_error_clear(&err);
    alch_result_free(res);
    alch_conn_close(c);

    /* binary, DateStyle and all: the same code and sentence */
    assert_int_equal(session_rows(&v, st, "SET LOCAL DateStyle = 'German'", &s, &rows, &err),
                     ALCH_ETYPE);
    assert_string_equal(err.message, text_says);
    assert_non_null(strstr(text_says, "narrow.small: the database sent '100000', which is out of "
                                      "range for the field Drift.small (int16_t: -32768 to "
                                      "32767)"));
    free(text_says);
    alch_error_clear(&err);
    alch_session_close(s);
    alch_stmt_free(st);
    close_env(&v);
    PQfinish(pq);
}

/* A model whose declared types all read in binary asks for binary from its first query; a
 * table that differs (a real where the model says double) answers in types it cannot read,
 * and the query runs again in text: the values are the text path's (0.1, not the float4
 * 0.100000001490116). */
typedef struct Unlike {
    int64_t id;
    double x;
} Unlike;

static const alch_column unlike_columns[] = {
    ALCH_COLUMN(Unlike, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Unlike, x, ALCH_DOUBLE),
};
static const alch_model Unlike_model = ALCH_MODEL(Unlike, "unlike", unlike_columns);

static void test_binary_table_unlike_model(void **state)
{
    (void)state;
    PGconn *pq = pq_open();
    pq_exec(pq, "CREATE TABLE unlike (id bigint PRIMARY KEY, x real NOT NULL)");
    pq_exec(pq, "INSERT INTO unlike VALUES (1, 0.1), (2, 3.4e38)");
    env v = open_env(db_url, &Unlike_model);
    alch_stmt *st = alch_select(&Unlike_model);
    alch_error err = ALCH_ERROR_INIT;
    for (int round = 0; round < 2; round++) { /* the second: the statement remembers */
        alch_session *s = NULL;
        alch_list rows = {0};
        CHECK_OK(session_rows(&v, st, "", &s, &rows, &err), err);
        assert_int_equal(rows.count, 2);
        for (size_t i = 0; i < rows.count; i++) {
            const Unlike *u = rows.items[i];
            assert_true(u->x == (u->id == 1 ? 0.1 : 3.4e38));
        }
        alch_session_close(s);
    }
    alch_stmt_free(st);
    close_env(&v);
    PQfinish(pq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_matrix),
        cmocka_unit_test(test_defaults_refused_on_plain_types),
        cmocka_unit_test(test_timestamps_round_trip),
        cmocka_unit_test(test_timestamp_beyond_int64),
        cmocka_unit_test(test_integers_wider_than_the_field),
        cmocka_unit_test(test_unsigned_above_int64_max),
        cmocka_unit_test(test_in_with_null),
        cmocka_unit_test(test_server_settings_do_not_matter),
        cmocka_unit_test(test_bulk_insert_exact),
        cmocka_unit_test(test_bulk_keys_to_their_rows),
        cmocka_unit_test(test_binary_rows_as_text_rows),
        cmocka_unit_test(test_binary_refuses_as_text_does),
        cmocka_unit_test(test_binary_table_unlike_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
