/* URL parsing, rendering and the libpq parameter arrays: table-driven, no database needed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "alch/url.h"
#include "driver/url_internal.h"

/* cmocka's assert_string_equal does not accept NULL; most URL parts may be absent. */
static void check_str(const char *expected, const char *actual, const char *what,
                      const char *url)
{
    if (!expected) {
        if (actual)
            fail_msg("%s of '%s': expected NULL, got '%s'", what, url, actual);
        return;
    }
    if (!actual || strcmp(expected, actual) != 0)
        fail_msg("%s of '%s': expected '%s', got '%s'", what, url, expected,
                 actual ? actual : "(null)");
}

/* Fail with a message built from err, clearing err first: a failing test stays leak-free. */
static void fail_with_error(alch_error *err, const char *what, const char *url)
{
    char text[512];
    snprintf(text, sizeof text, "'%s': %s: [%d] %s (hint: %s)", url, what, err->code,
             err->message ? err->message : "(no message)", err->hint ? err->hint : "(none)");
    alch_error_clear(err);
    fail_msg("%s", text);
}

/* ---------------------------------------------------------------------------------------
 * Valid URLs
 * ------------------------------------------------------------------------------------- */

typedef struct valid_case {
    const char *text;
    const char *drivername;
    const char *user;
    const char *password;
    const char *host;
    const char *port;
    const char *database;
    size_t query_count;
    const char *q1_key, *q1_value; /* a query key to look up, or NULL */
    const char *q2_key, *q2_value;
    const char *rendered;        /* alch_url_render(url, false) */
    const char *rendered_masked; /* alch_url_render(url, true) */
} valid_case;

static const valid_case valid_cases[] = {
    {"postgresql://scott:tiger@localhost:5432/test", "postgresql", "scott", "tiger", "localhost",
     "5432", "test", 0, NULL, NULL, NULL, NULL, "postgresql://scott:tiger@localhost:5432/test",
     "postgresql://scott:***@localhost:5432/test"},
    /* postgres:// is libpq's alias; ?host= names a Unix socket directory */
    {"postgres://alch@/shop?host=/tmp/alch-x1", "postgresql", "alch", NULL, "/tmp/alch-x1", NULL,
     "shop", 0, NULL, NULL, NULL, NULL, "postgresql://alch@/shop?host=/tmp/alch-x1",
     "postgresql://alch@/shop?host=/tmp/alch-x1"},
    {"postgresql+libpq://user@[::1]:5433/db", "postgresql+libpq", "user", NULL, "::1", "5433",
     "db", 0, NULL, NULL, NULL, NULL, "postgresql+libpq://user@[::1]:5433/db",
     "postgresql+libpq://user@[::1]:5433/db"},
    {"postgresql://u:p%40ss@h1:5432,h2:5433,[::1]:5434/db?sslmode=disable&connect_timeout=10",
     "postgresql", "u", "p@ss", "h1,h2,::1", "5432,5433,5434", "db", 2, "sslmode", "disable",
     "connect_timeout", "10",
     "postgresql://u:p%40ss@h1:5432,h2:5433,[::1]:5434/db?sslmode=disable&connect_timeout=10",
     "postgresql://u:***@h1:5432,h2:5433,[::1]:5434/db?sslmode=disable&connect_timeout=10"},
    /* libpq's user information runs to the first '@' before any '/': a raw '?' stays in it */
    {"postgresql://app:8080?s3cret@localhost/db", "postgresql", "app", "8080?s3cret", "localhost",
     NULL, "db", 0, NULL, NULL, NULL, NULL, "postgresql://app:8080%3Fs3cret@localhost/db",
     "postgresql://app:***@localhost/db"},
    /* libpq's own aliases of a key: ssl=true (JDBC's) and requiressl=1 are sslmode=require */
    {"postgresql://h/db?ssl=true&application_name=a", "postgresql", NULL, NULL, "h", NULL, "db", 2,
     "sslmode", "require", "ssl", NULL, "postgresql://h/db?sslmode=require&application_name=a",
     "postgresql://h/db?sslmode=require&application_name=a"},
    {"postgresql://h/db?requiressl=1", "postgresql", NULL, NULL, "h", NULL, "db", 1, "sslmode",
     "require", NULL, NULL, "postgresql://h/db?sslmode=require",
     "postgresql://h/db?sslmode=require"},
    /* only some hosts have a port: the list keeps the positions */
    {"postgresql://h1,h2:5433/db", "postgresql", NULL, NULL, "h1,h2", ",5433", "db", 0, NULL, NULL,
     NULL, NULL, "postgresql://h1,h2:5433/db", "postgresql://h1,h2:5433/db"},
    {"postgresql://", "postgresql", NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL,
     "postgresql://", "postgresql://"},
    /* '+' stays a '+'; %20 and %3D decode in the path and in query values */
    {"postgresql:///my%20db?application_name=my+app&options=-c%20search_path%3Dshop",
     "postgresql", NULL, NULL, NULL, NULL, "my db", 2, "application_name", "my+app", "options",
     "-c search_path=shop",
     "postgresql:///my%20db?application_name=my%2Bapp&options=-c%20search_path%3Dshop",
     "postgresql:///my%20db?application_name=my%2Bapp&options=-c%20search_path%3Dshop"},
    /* an encoded socket path in the authority comes back as ?host= */
    {"postgresql+libpq://%2Fvar%2Frun%2Fpostgresql/db", "postgresql+libpq", NULL, NULL,
     "/var/run/postgresql", NULL, "db", 0, NULL, NULL, NULL, NULL,
     "postgresql+libpq:///db?host=/var/run/postgresql",
     "postgresql+libpq:///db?host=/var/run/postgresql"},
    /* query host/port override the authority; a repeated key: the last value wins */
    {"postgresql://u@localhost:5432/db?host=/tmp&port=5433&sslmode=require&sslmode=disable",
     "postgresql", "u", NULL, "/tmp", "5433", "db", 1, "sslmode", "disable", "host", NULL,
     "postgresql://u@/db?host=/tmp&port=5433&sslmode=disable",
     "postgresql://u@/db?host=/tmp&port=5433&sslmode=disable"},
    /* user, password and dbname in the query replace the URL's own parts */
    {"postgresql://h/db?user=bob&password=s%26cret&dbname=other", "postgresql", "bob", "s&cret",
     "h", NULL, "other", 0, "password", NULL, NULL, NULL, "postgresql://bob:s%26cret@h/other",
     "postgresql://bob:***@h/other"},
    {"postgresql://:5433/db", "postgresql", NULL, NULL, NULL, "5433", "db", 0, NULL, NULL, NULL,
     NULL, "postgresql://:5433/db", "postgresql://:5433/db"},
    /* libpq's other secret keyword is masked like the password */
    {"postgresql://h/db?sslpassword=k3y", "postgresql", NULL, NULL, "h", NULL, "db", 1,
     "sslpassword", "k3y", NULL, NULL, "postgresql://h/db?sslpassword=k3y",
     "postgresql://h/db?sslpassword=***"},
    /* an empty password is no password (libpq ignores empty values) */
    {"postgresql://u:@h", "postgresql", "u", NULL, "h", NULL, NULL, 0, NULL, NULL, NULL, NULL,
     "postgresql://u@h", "postgresql://u@h"},
    /* the scheme is case-insensitive; UTF-8 names are percent-encoded on the way out */
    {"POSTGRESQL+LibPQ://h/caf\xc3\xa9", "postgresql+libpq", NULL, NULL, "h", NULL,
     "caf\xc3\xa9", 0, NULL, NULL, NULL, NULL, "postgresql+libpq://h/caf%C3%A9",
     "postgresql+libpq://h/caf%C3%A9"},
    /* escapes of either case; ':' and '/' in a password are encoded on the way out */
    {"postgresql://us%65r:a%3ab%2Fc@h:1/d?options=%2d%2D", "postgresql", "user", "a:b/c", "h",
     "1", "d", 1, "options", "--", NULL, NULL, "postgresql://user:a%3Ab%2Fc@h:1/d?options=--",
     "postgresql://user:***@h:1/d?options=--"},
};

static void check_parts(const valid_case *c, const alch_url *url)
{
    check_str(c->drivername, alch_url_drivername(url), "drivername", c->text);
    check_str(c->user, alch_url_username(url), "username", c->text);
    check_str(c->password, alch_url_password(url), "password", c->text);
    check_str(c->host, alch_url_host(url), "host", c->text);
    check_str(c->port, alch_url_port(url), "port", c->text);
    check_str(c->database, alch_url_database(url), "database", c->text);
    assert_int_equal(alch_url_query_count(url), c->query_count);
    if (c->q1_key)
        check_str(c->q1_value, alch_url_query(url, c->q1_key), c->q1_key, c->text);
    if (c->q2_key)
        check_str(c->q2_value, alch_url_query(url, c->q2_key), c->q2_key, c->text);
}

/* Two URLs are equal when every accessor and every query pair (in order) agree. */
static void assert_urls_equal(const alch_url *a, const alch_url *b, const char *text)
{
    check_str(alch_url_drivername(a), alch_url_drivername(b), "drivername", text);
    check_str(alch_url_username(a), alch_url_username(b), "username", text);
    check_str(alch_url_password(a), alch_url_password(b), "password", text);
    check_str(alch_url_host(a), alch_url_host(b), "host", text);
    check_str(alch_url_port(a), alch_url_port(b), "port", text);
    check_str(alch_url_database(a), alch_url_database(b), "database", text);
    assert_int_equal(alch_url_query_count(a), alch_url_query_count(b));
    for (size_t i = 0; i < alch_url_query_count(a); i++) {
        const char *ka, *va, *kb, *vb;
        assert_int_equal(alch_url_query_at(a, i, &ka, &va), 0);
        assert_int_equal(alch_url_query_at(b, i, &kb, &vb), 0);
        check_str(ka, kb, "query key", text);
        check_str(va, vb, "query value", text);
    }
}

static void assert_rendering(const alch_url *url, bool hide, const char *expected,
                             const char *text)
{
    char *r = alch_url_render(url, hide);
    assert_non_null(r);
    check_str(expected, r, hide ? "masked rendering" : "rendering", text);
    free(r);
}

static void test_valid_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        const valid_case *c = &valid_cases[i];
        alch_url *url = NULL;
        alch_error err = ALCH_ERROR_INIT;
        int rc = alch_url_parse(c->text, &url, &err);
        if (rc != 0)
            fail_with_error(&err, "should parse", c->text);
        assert_null(err.message); /* success leaves the error untouched */
        check_parts(c, url);
        assert_rendering(url, false, c->rendered, c->text);
        assert_rendering(url, true, c->rendered_masked, c->text);
        alch_url_free(url);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        const char *text = valid_cases[i].text;
        alch_url *url = NULL, *again = NULL;
        assert_int_equal(alch_url_parse(text, &url, NULL), 0);
        char *rendered = alch_url_render(url, false);
        assert_non_null(rendered);
        alch_error err = ALCH_ERROR_INIT;
        int rc = alch_url_parse(rendered, &again, &err);
        if (rc != 0)
            fail_with_error(&err, "its rendering does not parse", text);
        assert_urls_equal(url, again, text);
        /* rendering is stable: render(parse(render(x))) == render(x) */
        char *twice = alch_url_render(again, false);
        check_str(rendered, twice, "second rendering", text);
        free(twice);
        free(rendered);
        alch_url_free(again);
        alch_url_free(url);
    }
}

static void test_query_order(void **state)
{
    (void)state;
    alch_url *url = NULL;
    const char *text =
        "postgresql://h/db?application_name=a&host=/tmp&sslmode=disable&port=5&"
        "application_name=b&connect_timeout=3&";
    assert_int_equal(alch_url_parse(text, &url, NULL), 0);
    static const char *const keys[] = {"application_name", "sslmode", "connect_timeout"};
    static const char *const values[] = {"b", "disable", "3"};
    assert_int_equal(alch_url_query_count(url), 3);
    for (size_t i = 0; i < 3; i++) {
        const char *k = NULL, *v = NULL;
        assert_int_equal(alch_url_query_at(url, i, &k, &v), 0);
        assert_string_equal(k, keys[i]);
        assert_string_equal(v, values[i]);
    }
    assert_int_equal(alch_url_query_at(url, 0, NULL, NULL), 0);
    assert_int_equal(alch_url_query_at(url, 3, NULL, NULL), ALCH_EMISUSE);
    assert_null(alch_url_query(url, "host")); /* host and port are not query keys */
    assert_null(alch_url_query(url, "port"));
    assert_null(alch_url_query(url, "options"));
    alch_url_free(url);
}

/* ---------------------------------------------------------------------------------------
 * Malformed URLs: the code, and the text a learner reads
 * ------------------------------------------------------------------------------------- */

typedef struct bad_case {
    const char *text;
    int code;
    const char *message; /* a substring of err.message */
    const char *hint;    /* a substring of err.hint, or NULL when not checked */
} bad_case;

static const bad_case bad_cases[] = {
    {"", ALCH_EARGUMENT, "must start with postgresql://", NULL},
    {NULL, ALCH_EMISUSE, "NULL", NULL},
    {"localhost/db", ALCH_EARGUMENT, "must start with postgresql://", NULL},
    {"postgresql:/localhost/db", ALCH_EARGUMENT, "must start with postgresql://", NULL},
    {"postgresql+pg8000://u@h/db", ALCH_EARGUMENT,
     "unknown driver 'pg8000' in 'postgresql+pg8000://'", "+asyncpg, +psycopg and +psycopg2"},
    {"mysql://u@h/db", ALCH_EARGUMENT, "'mysql://' is not a PostgreSQL URL", "postgresql://"},
    {"postgresq://h/db", ALCH_EARGUMENT, "not a PostgreSQL URL", "did you mean 'postgresql://'?"},
    {"postgresql://h:abc/db", ALCH_EARGUMENT, "invalid port 'abc'", NULL},
    {"postgresql://h:0/db", ALCH_EARGUMENT, "port 0 at position 16 is out of range", NULL},
    {"postgresql://h:70000/db", ALCH_EARGUMENT, "port 70000", NULL},
    {"postgresql://h:123456789012345678901234567890/db", ALCH_EARGUMENT, "out of range", NULL},
    {"postgresql://h1:5432,h2:x/db", ALCH_EARGUMENT, "invalid port 'x'", NULL},
    {"postgresql://h/db?port=5432,99999", ALCH_EARGUMENT, "port 99999", NULL},
    {"postgresql://::1/db", ALCH_EARGUMENT, "invalid port", "in brackets"},
    {"postgresql://h/db%zz", ALCH_EARGUMENT, "'%zz' at position 18 (in the database name)",
     "%25"},
    {"postgresql://h/db%4", ALCH_EARGUMENT, "'%4' at position 18", NULL},
    /* the escape shown stops where the part ends */
    {"postgresql://h/db%4?sslmode=disable", ALCH_EARGUMENT, "'%4' at position 18", NULL},
    {"postgresql://u:p%00@h/db", ALCH_EARGUMENT, "%00 (a NUL byte) at position 17 (in the "
                                                 "password)", NULL},
    {"postgresql://[::1/db", ALCH_EARGUMENT, "unclosed '['", NULL},
    {"postgresql://[]/db", ALCH_EARGUMENT, "empty brackets", NULL},
    {"postgresql://[::1]x/db", ALCH_EARGUMENT, "unexpected 'x' after ']'", NULL},
    {"postgresql://h1,,h2/db", ALCH_EARGUMENT, "empty host", "extra ','"},
    {"postgresql://h1,/db", ALCH_EARGUMENT, "empty host", NULL},
    {"postgresql://h/db?sslmod=disable", ALCH_EARGUMENT, "unknown connection option 'sslmod'",
     "did you mean 'sslmode'?"},
    {"postgresql://h/db?SSLMODE=disable", ALCH_EARGUMENT, "unknown connection option 'SSLMODE'",
     "did you mean 'sslmode'?"},
    {"postgresql://h/db?frobnicate=1", ALCH_EARGUMENT, "unknown connection option 'frobnicate'",
     "libpq's connection keywords"},
    {"postgresql://h/db?sslmode", ALCH_EARGUMENT, "'sslmode' at position 19 has no value", NULL},
    {"postgresql://h/db?=disable", ALCH_EARGUMENT, "no key", NULL},
    {"postgresql://h/db?x%zz=1", ALCH_EARGUMENT, "'%zz' at position 20 (in a query key)", NULL},
    {"postgresql://h/db#top", ALCH_EARGUMENT, "fragment", "%23"},
    {"postgresql://h/my db", ALCH_EARGUMENT, "space at position 18", "%20"},
    {"postgresql://h/db\n", ALCH_EARGUMENT, "control character (0x0A)", "newline"},
    {"postgresql://h/db/extra", ALCH_EARGUMENT, "unexpected '/' at position 18", "%2F"},
    {"postgresql://h%2C2/db", ALCH_EARGUMENT, "encoded ','", NULL},
    {"postgresql://[::1,]/db", ALCH_EARGUMENT, "inside brackets", NULL},
    /* libpq ends the user information at the first '@': the rest of the password is no host */
    {"postgresql://u:p@ss@host/db", ALCH_EARGUMENT, "a second '@' at position 20", "%40"},
    /* libpq wants one key=value between two '&' (a trailing '&' is allowed) */
    {"postgresql://h/db?sslmode=disable&&connect_timeout=3", ALCH_EARGUMENT,
     "empty query option at position 35", "extra '&'"},
    {"postgresql://h/db?&sslmode=disable", ALCH_EARGUMENT, "empty query option at position 19",
     NULL},
    {"postgresql://h/db?options=a=b", ALCH_EARGUMENT, "a second '=' at position 28", "%3D"},
    /* ssl=true is libpq's alias of sslmode=require; any other value of ssl is no keyword */
    {"postgresql://h/db?ssl=false", ALCH_EARGUMENT, "unknown connection option 'ssl'", NULL},
};

static void test_malformed_urls(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        const char *name = c->text ? c->text : "(NULL)";
        alch_url *sentinel = (alch_url *)&sentinel, *url = sentinel;
        alch_error err = ALCH_ERROR_INIT;
        int rc = alch_url_parse(c->text, &url, &err);
        if (rc != c->code || err.code != c->code)
            fail_with_error(&err, "unexpected status code", name);
        if (!err.message || !strstr(err.message, c->message))
            fail_with_error(&err, "message lacks the expected text", name);
        if (c->hint && (!err.hint || !strstr(err.hint, c->hint)))
            fail_with_error(&err, "hint lacks the expected text", name);
        alch_error_clear(&err);
        assert_ptr_equal(url, sentinel); /* untouched on failure */
        /* without an error object the code is the same */
        assert_int_equal(alch_url_parse(c->text, &url, NULL), c->code);
    }
}

/* Errors name the part that is wrong but never show the password. */
static void test_errors_hide_password(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "postgresql://u:s3cretpw/x@h/db", /* a raw '/' cuts the password: "port" s3cretpw */
        "postgresql://u:s3cretpw@h:abc/db",
        "postgresql://u:s3cretpw@h/db?sslmod=x",
        /* a password that is all digits before its raw '/': "app:8080" looks like host:port */
        "postgresql://app:8080/s3cretpw@localhost",
        "postgresql://app:8080/s3cretpw@localhost/db",
        /* a bad percent-escape inside the password: the message must not quote it */
        "postgresql://u:s3cretpw%zz@h/db",
        "postgresql://u:%s3cretpw@h/db",
        "postgresql://h/db?password=s3cretpw%g",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        alch_url *url = NULL;
        alch_error err = ALCH_ERROR_INIT;
        assert_int_equal(alch_url_parse(texts[i], &url, &err), ALCH_EARGUMENT);
        assert_non_null(err.message);
        for (size_t k = 0; k + 3 <= strlen("s3cretpw"); k++) { /* no piece of it either */
            char piece[4] = {0};
            memcpy(piece, "s3cretpw" + k, 3);
            if (strstr(err.message, piece) || (err.hint && strstr(err.hint, piece)))
                fail_msg("'%s' shows a piece of the password: %s / %s", texts[i], err.message,
                         err.hint ? err.hint : "");
        }
        if (i >= 3 && i <= 4 && !strstr(err.hint ? err.hint : "", "%2F"))
            fail_msg("'%s': the hint should say how to encode the password: %s", texts[i],
                     err.hint ? err.hint : "(none)");
        alch_error_clear(&err);
    }
    alch_url *url = NULL;
    alch_error err = ALCH_ERROR_INIT;
    assert_int_equal(alch_url_parse("postgresql://u:s3cretpw/x@h/db", &url, &err),
                     ALCH_EARGUMENT);
    assert_non_null(strstr(err.hint, "%2F"));
    alch_error_clear(&err);
}

static void test_null_arguments(void **state)
{
    (void)state;
    alch_error err = ALCH_ERROR_INIT;
    assert_int_equal(alch_url_parse("postgresql://", NULL, &err), ALCH_EMISUSE);
    assert_non_null(strstr(err.message, "NULL"));
    alch_error_clear(&err);
    alch_url_free(NULL);
    assert_null(alch_url_copy(NULL));
    assert_null(alch_url_render(NULL, true));
    assert_null(alch_url_drivername(NULL));
    assert_null(alch_url_username(NULL));
    assert_null(alch_url_password(NULL));
    assert_null(alch_url_host(NULL));
    assert_null(alch_url_port(NULL));
    assert_null(alch_url_database(NULL));
    assert_null(alch_url_query(NULL, "sslmode"));
    assert_int_equal(alch_url_query_count(NULL), 0);
    assert_int_equal(alch_url_query_at(NULL, 0, NULL, NULL), ALCH_EMISUSE);
    assert_int_equal(alch_url_set_database(NULL, "x"), ALCH_EMISUSE);
    const char **k = NULL, **v = NULL;
    assert_int_equal(alch__url_libpq_params(NULL, NULL, NULL, &k, &v), ALCH_EMISUSE);
}

/* ---------------------------------------------------------------------------------------
 * Copy, set_database, libpq parameters
 * ------------------------------------------------------------------------------------- */

static void test_copy_and_set_database(void **state)
{
    (void)state;
    alch_url *url = NULL;
    const char *text = "postgresql+libpq://u:pw@h1,h2:5433/shop?sslmode=disable&sslpassword=k";
    assert_int_equal(alch_url_parse(text, &url, NULL), 0);
    alch_url *copy = alch_url_copy(url);
    assert_non_null(copy);
    assert_urls_equal(url, copy, text);

    /* the copy is independent: changing it leaves the original alone */
    assert_int_equal(alch_url_set_database(copy, "test_shop"), 0);
    assert_string_equal(alch_url_database(copy), "test_shop");
    assert_string_equal(alch_url_database(url), "shop");
    char *r = alch_url_render(copy, true);
    assert_string_equal(
        r, "postgresql+libpq://u:***@h1,h2:5433/test_shop?sslmode=disable&sslpassword=***");
    free(r);
    alch_url_free(url);

    assert_int_equal(alch_url_set_database(copy, "my db/1"), 0);
    r = alch_url_render(copy, false);
    assert_string_equal(
        r, "postgresql+libpq://u:pw@h1,h2:5433/my%20db%2F1?sslmode=disable&sslpassword=k");
    free(r);
    assert_int_equal(alch_url_set_database(copy, NULL), 0);
    assert_null(alch_url_database(copy));
    assert_int_equal(alch_url_set_database(copy, ""), 0);
    assert_null(alch_url_database(copy));
    r = alch_url_render(copy, true);
    assert_string_equal(r, "postgresql+libpq://u:***@h1,h2:5433?sslmode=disable&sslpassword=***");
    free(r);
    alch_url_free(copy);
}

static void assert_params(const char **keys, const char **values, const char *const *want_keys,
                          const char *const *want_values)
{
    size_t i = 0;
    for (; want_keys[i]; i++) {
        assert_non_null(keys[i]);
        assert_string_equal(keys[i], want_keys[i]);
        assert_string_equal(values[i], want_values[i]);
    }
    assert_null(keys[i]);
    assert_null(values[i]);
}

/* The settings every connection pins at startup (url.c). */
#define PIN "-c DateStyle=ISO,MDY -c IntervalStyle=postgres -c extra_float_digits=3"

/* A URL copied from a Python project names its driver: +asyncpg, +psycopg and +psycopg2 are
 * aliases (alch speaks libpq whatever the URL says), so they give libpq exactly what the plain
 * URL gives; the name is kept for the rendering. */
static void test_python_driver_aliases(void **state)
{
    (void)state;
    static const char *const spellings[][2] = {
        {"postgresql+asyncpg://u:pw@h:5433/db?sslmode=disable", "postgresql+asyncpg"},
        {"postgresql+psycopg://u:pw@h:5433/db?sslmode=disable", "postgresql+psycopg"},
        {"postgres+psycopg2://u:pw@h:5433/db?sslmode=disable", "postgresql+psycopg2"},
        {"PostgreSQL+AsyncPG://u:pw@h:5433/db?sslmode=disable", "postgresql+asyncpg"},
    };
    alch_url *plain = NULL;
    assert_int_equal(alch_url_parse("postgresql://u:pw@h:5433/db?sslmode=disable", &plain, NULL), 0);
    assert_null(alch__url_driver_alias(plain));
    const char **pk = NULL, **pv = NULL;
    assert_int_equal(alch__url_libpq_params(plain, NULL, NULL, &pk, &pv), 0);
    for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++) {
        alch_url *url = NULL;
        alch_error err = ALCH_ERROR_INIT;
        if (alch_url_parse(spellings[i][0], &url, &err) != 0)
            fail_with_error(&err, "should parse", spellings[i][0]);
        check_str(spellings[i][1], alch_url_drivername(url), "drivername", spellings[i][0]);
        check_str(spellings[i][1] + strlen("postgresql+"), alch__url_driver_alias(url), "alias",
                  spellings[i][0]);
        const char **k = NULL, **v = NULL;
        assert_int_equal(alch__url_libpq_params(url, NULL, NULL, &k, &v), 0);
        assert_params(k, v, pk, pv);
        free(k);
        free(v);
        char *text = alch_url_render(url, true);
        char want[128];
        snprintf(want, sizeof want, "%s://u:***@h:5433/db?sslmode=disable", spellings[i][1]);
        check_str(want, text, "rendering", spellings[i][0]);
        free(text);
        alch_url_free(url);
    }
    free(pk);
    free(pv);
    alch_url_free(plain);
}

/* alch reads URLs with libpq's parser and adds its layer on top: every valid URL of this file,
 * given to libpq's own PQconninfoParse (with the +driver part dropped), must name the same
 * user, password, host(s), port(s), database and options as alch's parse. */
static void test_libpq_agrees(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        const char *text = valid_cases[i].text;
        const char *rest = strstr(text, "://");
        char uri[1024];
        snprintf(uri, sizeof uri, "postgresql%s", rest);
        char *msg = NULL;
        PQconninfoOption *opts = PQconninfoParse(uri, &msg);
        if (!opts) {
            char why[512];
            snprintf(why, sizeof why, "%s", msg ? msg : "out of memory");
            PQfreemem(msg);
            fail_msg("libpq refuses '%s', which alch accepts: %s", text, why);
        }
        alch_url *url = NULL;
        assert_int_equal(alch_url_parse(text, &url, NULL), 0);
        for (PQconninfoOption *o = opts; o->keyword; o++) {
            const char *ours = strcmp(o->keyword, "user") == 0       ? alch_url_username(url)
                               : strcmp(o->keyword, "password") == 0 ? alch_url_password(url)
                               : strcmp(o->keyword, "host") == 0     ? alch_url_host(url)
                               : strcmp(o->keyword, "port") == 0     ? alch_url_port(url)
                               : strcmp(o->keyword, "dbname") == 0   ? alch_url_database(url)
                                                                     : alch_url_query(url, o->keyword);
            const char *theirs = o->val && *o->val ? o->val : NULL;
            if (ours && !*ours)
                ours = NULL;
            char what[96];
            snprintf(what, sizeof what, "libpq's '%s' (PQconninfoParse)", o->keyword);
            check_str(theirs, ours, what, text);
        }
        alch_url_free(url);
        PQconninfoFree(opts);
    }
}

static void test_libpq_params(void **state)
{
    (void)state;
    alch_url *url = NULL;
    assert_int_equal(alch_url_parse("postgresql://u:pw@h1,h2:5433/db?sslmode=disable&"
                                    "application_name=mine",
                                    &url, NULL),
                     0);
    static const char *const extra_keys[] = {"application_name", "connect_timeout", NULL};
    static const char *const extra_values[] = {"alch", "10", NULL};
    const char **keys = NULL, **values = NULL;
    assert_int_equal(alch__url_libpq_params(url, extra_keys, extra_values, &keys, &values), 0);
    static const char *const want_keys[] = {"user",    "password",         "host",
                                            "port",    "dbname",           "sslmode",
                                            "application_name", "options", "connect_timeout",
                                            NULL};
    static const char *const want_values[] = {"u",       "pw",   "h1,h2", ",5433", "db",
                                              "disable", "mine", PIN,     "10",    NULL};
    assert_params(keys, values, want_keys, want_values);
    free(keys);
    free(values);

    /* no extras */
    assert_int_equal(alch__url_libpq_params(url, NULL, NULL, &keys, &values), 0);
    assert_string_equal(keys[6], "application_name");
    assert_string_equal(keys[7], "options");
    assert_null(keys[8]);
    free(keys);
    free(values);
    alch_url_free(url);

    /* a URL with nothing: only the extras, or nothing at all */
    assert_int_equal(alch_url_parse("postgres://", &url, NULL), 0);
    assert_int_equal(alch__url_libpq_params(url, NULL, NULL, &keys, &values), 0);
    assert_string_equal(keys[0], "options");
    assert_string_equal(values[0], PIN);
    assert_null(keys[1]);
    free(keys);
    free(values);
    assert_int_equal(alch__url_libpq_params(url, extra_keys, extra_values, &keys, &values), 0);
    static const char *const only_extra_keys[] = {"options", "application_name",
                                                  "connect_timeout", NULL};
    static const char *const only_extra_values[] = {PIN, "alch", "10", NULL};
    assert_params(keys, values, only_extra_keys, only_extra_values);
    free(keys);
    free(values);
    alch_url_free(url);

    /* the URL's own options (or the engine's) come first, so the pinned settings win */
    assert_int_equal(alch_url_parse("postgres://?options=-c%20DateStyle%3DGerman", &url, NULL),
                     0);
    assert_int_equal(alch__url_libpq_params(url, NULL, NULL, &keys, &values), 0);
    assert_string_equal(values[0], "-c DateStyle=German " PIN);
    free(keys);
    free(values);
    alch_url_free(url);
    assert_int_equal(alch_url_parse("postgres://", &url, NULL), 0);
    static const char *const engine_keys[] = {"options", NULL};
    static const char *const engine_values[] = {"-c statement_timeout=5", NULL};
    assert_int_equal(alch__url_libpq_params(url, engine_keys, engine_values, &keys, &values), 0);
    assert_string_equal(values[0], "-c statement_timeout=5 " PIN);
    assert_null(keys[1]);
    free(keys);
    free(values);
    alch_url_free(url);

    /* a Unix socket: host comes from the query, and the engine may add its own host */
    assert_int_equal(alch_url_parse("postgresql://alch@/shop?host=/tmp/s&port=5433", &url, NULL),
                     0);
    static const char *const host_extra[] = {"host", "fallback_application_name", NULL};
    static const char *const host_extra_values[] = {"ignored", "alch", NULL};
    assert_int_equal(alch__url_libpq_params(url, host_extra, host_extra_values, &keys, &values),
                     0);
    static const char *const sock_keys[] = {"user",    "host", "port", "dbname",
                                            "options", "fallback_application_name", NULL};
    static const char *const sock_values[] = {"alch", "/tmp/s", "5433", "shop",
                                              PIN,    "alch",   NULL};
    assert_params(keys, values, sock_keys, sock_values);
    free(keys);
    free(values);
    alch_url_free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_urls),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_query_order),
        cmocka_unit_test(test_malformed_urls),
        cmocka_unit_test(test_errors_hide_password),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_copy_and_set_database),
        cmocka_unit_test(test_libpq_params),
        cmocka_unit_test(test_python_driver_aliases),
        cmocka_unit_test(test_libpq_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
