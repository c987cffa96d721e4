/**
 * @file support.h
 * @brief Helpers for alch's cmocka tests that talk to a real PostgreSQL.
 *
 * Where the server is comes from the environment CTest gives a test added with
 * `alch_add_test(... DB)` (see cmake/AlchTesting.cmake):
 *
 * | variable            | meaning                                                        |
 * |---------------------|----------------------------------------------------------------|
 * | `ALCH_DATABASE_URL` | an external server's admin URL; when set, it wins              |
 * | `ALCH_URL_FILE`     | the file where tools/pgsandbox wrote the sandbox's URL          |
 * | `ALCH_SANDBOX_DIR`  | the sandbox's state directory (for restart/stop/start)          |
 * | `ALCH_PGSANDBOX`    | the path of tools/pgsandbox                                     |
 *
 * Each test creates its own database (alch_test_db_create()), so tests run in parallel, and
 * drops it at the end (alch_test_db_drop()).
 *
 * These helpers use libpq directly and parse URLs by hand: they never rely on alch itself, so
 * a bug in alch cannot hide behind the test harness. Failures end the running test through
 * cmocka (`fail_msg`), so include this header after <cmocka.h>'s prerequisites or on its own.
 */
#ifndef ALCH_TEST_SUPPORT_H
#define ALCH_TEST_SUPPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include <alch/base.h>
#include <alch/error.h>

/**
 * @brief Fail the test with the whole error text (alch_error_format()) when @p rc is not 0.
 * @param rc   An alch call's status.
 * @param err  The ::alch_error that call filled.
 */
#define CHECK_OK(rc, err)                                                                          \
    do {                                                                                           \
        int rc_ = (rc);                                                                            \
        if (rc_ != 0) {                                                                            \
            char *text_ = alch_error_format(&(err));                                               \
            fail_msg("%s:%d: %s", __FILE__, __LINE__, text_);                                      \
        }                                                                                          \
    } while (0)

/**
 * @brief The admin URL of the test server.
 *
 * `ALCH_DATABASE_URL` when set, else the trimmed content of the file named by `ALCH_URL_FILE`.
 * Fails the test with a message saying what to set when neither is there.
 *
 * @return A string owned by the support library, valid until the process exits.
 */
const char *alch_test_url(void);

/**
 * @brief Create a fresh database for one test and return its URL.
 *
 * The database is `alch_t_<name>_<pid>` (@p name lower-cased, anything but `[a-z0-9_]` made
 * `_`, the whole within PostgreSQL's 63 bytes); one left over from an earlier run with the same
 * pid is dropped first. Fails the test when the server cannot be reached.
 *
 * @param name  A short name for the test, e.g. "pool".
 * @return The admin URL with the database replaced; malloc'd, release it with
 *         alch_test_db_drop().
 */
char *alch_test_db_create(const char *name);

/**
 * @brief Drop a database made by alch_test_db_create() and free its URL.
 *
 * Sessions still connected to it (a leaked connection, a pool not yet closed) are terminated
 * first, so the drop cannot fail because of them. Tolerates NULL.
 *
 * @param url  The URL alch_test_db_create() returned; freed here.
 */
void alch_test_db_drop(char *url);

/**
 * @brief Is the server the private sandbox (rather than `ALCH_DATABASE_URL`)?
 *
 * Tests that restart the server or log in as the `alch_pw` role (password `alch-secret`) need
 * the sandbox: they call `skip()` when this returns false.
 *
 * @return true when `ALCH_DATABASE_URL` is not set (or empty).
 */
bool alch_test_is_sandbox(void);

/**
 * @brief Run `$ALCH_PGSANDBOX <cmd> $ALCH_SANDBOX_DIR`, e.g. "restart", "stop", "start".
 *
 * Fails the test when the two variables are not set.
 *
 * @param cmd  The pgsandbox command.
 * @return Its exit status (0 on success), 128+N when killed by signal N, -1 when it could not
 *         be run.
 */
int alch_test_sandbox(const char *cmd);

/**
 * @brief A raw libpq connection for checks behind alch's back.
 *
 * For example counting the sessions in `pg_stat_activity`. Fails the test when the connection
 * cannot be made.
 *
 * @param url  The URL to connect to (alch_test_url() or one from alch_test_db_create()).
 * @return An open connection; close it with PQfinish().
 */
PGconn *alch_test_pq(const char *url);

/**
 * @brief Return a copy of @p url that names database @p db.
 *
 * For `scheme://authority/path?query` URLs the path is replaced and a `dbname=` query
 * parameter dropped; a key=value connection string gets ` dbname=DB` appended. @p db must
 * need no quoting (letters, digits, underscores).
 *
 * @return malloc'd; NULL when memory runs out.
 */
char *alch_test_url_with_database(const char *url, const char *db);

/**
 * @brief The database named by @p url (its path, or its `dbname=` parameter/keyword).
 *
 * @return malloc'd; NULL when the URL names none or memory runs out.
 */
char *alch_test_url_database(const char *url);

/**
 * @brief A base with @p models whose tables are created in the database at @p url.
 *
 * For example `alch_test_base(url, (const alch_model *[]){&User_model, &Item_model}, 2)`.
 * Fails the test on any error.
 *
 * @param url     The database (one from alch_test_db_create()).
 * @param models  The models, parents before children; the test's own (shop.h's models are
 *                `static`: each test file has its own).
 * @param n       How many.
 * @return The base; free it with alch_base_free().
 */
alch_base *alch_test_base(const char *url, const alch_model *const *models, size_t n);

#endif
