/* Lesson 09, program 5: testing your own database code, against the real server. The tests
 * get a database of their own, made at the start and dropped at the end (for code that
 * commits, such as set_user); a test of code that does not commit runs in a transaction that
 * is rolled back at its end, so the next test finds the data as it was. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../06-requests/requests.h"
#include "shop.h"

static int failures;

//! [expect]
/* One check, printed as a TAP line ("ok 1 - ..."), the format test runners read. */
static void expect(bool ok, const char *what)
{
    static int n;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n, what);
    failures += !ok;
}
//! [expect]

/* The SQL that makes or drops the test database, and the database's URL: the name of the
 * URL's database with "_test" added. CREATE DATABASE takes no parameters, so the name goes
 * into the SQL text: it is checked to be a plain identifier first. */
static char *test_database_sql(const char *url, const char *verb, const char *after,
                               char **test_url, alch_error *err)
{
    alch_url *u = NULL;
    char name[64] = "", *sql = NULL;
    if (alch_url_parse(url, &u, err) != 0)
        return NULL;
    const char *db = alch_url_database(u);
    bool plain = db && strlen(db) <= sizeof name - 6;
    for (const char *p = db; plain && *p; p++)
        plain = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_';
    if (!plain) {
        alch_error_set(err, ALCH_EARGUMENT,
                       "the tests make a database named after the URL's, which must be "
                       "lowercase letters, digits and '_'");
    } else {
        snprintf(name, sizeof name, "%s_test", db);
        size_t n = strlen(verb) + strlen(name) + strlen(after) + 3;
        sql = malloc(n);
        if (sql)
            snprintf(sql, n, "%s %s%s", verb, name, after);
        if (test_url && alch_url_set_database(u, name) == 0)
            *test_url = alch_url_render(u, false);
    }
    alch_url_free(u);
    return sql;
}

/* Run one statement on a connection of its own to the server's database at url. */
static int admin_execute(const char *url, const char *sql, alch_error *err)
{
    alch_conn *admin = NULL; /* alch_conn_open(): autocommit, as CREATE DATABASE needs */
    int rc = sql ? alch_conn_open(url, &admin, err) : ALCH_EARGUMENT;
    if (rc == 0)
        rc = alch_conn_execute_text(admin, sql, NULL, 0, NULL, err);
    alch_conn_close(admin);
    return rc;
}

//! [fixture]
/* Setup: a database of the tests' own on the same server (dropped first if a crashed run
 * left it), with the shop's tables and rows. Returns its URL, or NULL. */
static char *test_database_create(const char *url, alch_error *err)
{
    char *test_url = NULL;
    char *drop = test_database_sql(url, "DROP DATABASE IF EXISTS", " WITH (FORCE)", NULL, err);
    char *create = test_database_sql(url, "CREATE DATABASE", "", &test_url, err);
    int rc = admin_execute(url, drop, err);
    if (rc == 0)
        rc = admin_execute(url, create, err);
    if (rc == 0)
        rc = models_init(test_url, true, err); /* lesson 06: create_all and a few rows */
    free(drop);
    free(create);
    if (rc != 0) {
        free(test_url);
        return NULL;
    }
    return test_url;
}

/* Teardown: close what models_init() opened, then drop the database. */
static int test_database_drop(const char *url, alch_error *err)
{
    models_close();
    char *drop = test_database_sql(url, "DROP DATABASE", " WITH (FORCE)", NULL, err);
    int rc = admin_execute(url, drop, err);
    free(drop);
    return rc;
}
//! [fixture]

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    alch_error err = ALCH_ERROR_INIT;
    char *test_url = test_database_create(url, &err);
    if (!test_url) {
        print_error(&err);
        return 1;
    }
    printf("setup: a database of the tests' own, with the shop in it\n");

    //! [commits]
    /* set_user() commits: what it does stays in the test database until it is dropped */
    alch_session *s;
    alch_session_open(session_factory, &s, &err);
    int rc = set_user(s, 42, &err);
    if (rc == 0)
        rc = set_user(s, 42, &err); /* the same user again must change nothing */
    alch_stmt *st = alch_select(&User_model);
    alch_where(st, alch_eq(ALCH_COL(User, tg_id), 42));
    alch_list users = {0};
    if (rc == 0)
        rc = alch_session_scalars(s, st, &users, &err);
    alch_stmt_free(st);
    expect(rc == 0 && users.count == 1, "set_user(42) twice registers one user");
    alch_session_close(s);
    //! [commits]

    //! [rollback]
    /* rename_category() does not commit: the test's transaction is rolled back at its end */
    alch_session_open(session_factory, &s, &err);
    Category *renamed = NULL;
    rc = rename_category(s, 1, "Herbal", &renamed, &err);
    expect(rc == 0 && strcmp(renamed->name, "Herbal") == 0,
           "rename_category(1, \"Herbal\") returns the renamed category");
    alch_session_rollback(s, &err);
    alch_session_close(s);

    alch_session_open(session_factory, &s, &err);
    alch_list categories = {0};
    rc = get_categories(s, &categories, &err);
    expect(rc == 0 && categories.count == 2 &&
               strcmp(((Category *)categories.items[0])->name, "Tea") == 0,
           "after its rollback, the next test finds category 1 as it was");
    //! [rollback]

    Item *missing = NULL;
    rc = get_item(s, 999, &missing, &err);
    expect(rc == 0 && missing == NULL, "get_item(999) finds nothing, and that is not an error");
    alch_session_close(s);

    if (err.code)
        print_error(&err);
    //! [teardown]
    if (test_database_drop(url, &err) != 0)
        print_error(&err);
    else
        printf("teardown: the test database is dropped\n");
    //! [teardown]
    free(test_url);
    printf("%d test(s) failed\n", failures);
    return failures ? 1 : 0;
}
