/**
 * @file support.c
 * @brief Helpers for alch's database tests: where the server is, one database per test.
 *
 * Deliberately independent of alch: libpq and hand-written URL handling only.
 */
#define _POSIX_C_SOURCE 200809L

#include "support.h"

#include <alch/alch.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_IDENT = 63, BUSY_RETRIES = 40 };

/* SQLSTATE 55006 object_in_use: "database is being accessed by other users". */
static const char SQLSTATE_OBJECT_IN_USE[] = "55006";

static char *admin_url_cache;

static void free_admin_url(void)
{
    free(admin_url_cache);
    admin_url_cache = NULL;
}

/** Read a whole (small) file, trimmed of surrounding white space; NULL on error. */
static char *read_trimmed(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 256, len = 0;
    char *text = malloc(cap);
    int c;
    while (text && (c = fgetc(f)) != EOF) {
        if (len + 1 >= cap) {
            char *bigger = realloc(text, cap * 2);
            if (!bigger) {
                free(text);
                text = NULL;
                break;
            }
            text = bigger;
            cap *= 2;
        }
        text[len++] = (char)c;
    }
    fclose(f);
    if (!text)
        return NULL;
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    text[len] = '\0';
    size_t start = 0;
    while (isspace((unsigned char)text[start]))
        start++;
    memmove(text, text + start, len - start + 1);
    return text;
}

const char *alch_test_url(void)
{
    const char *env = getenv("ALCH_DATABASE_URL");
    if (env && *env)
        return env;
    if (admin_url_cache)
        return admin_url_cache;
    const char *file = getenv("ALCH_URL_FILE");
    if (!file || !*file)
        fail_msg("%s", "no test database: set ALCH_DATABASE_URL, or run the test through ctest, "
                       "which starts the sandbox (fixture alch_pg) and sets ALCH_URL_FILE");
    errno = 0;
    admin_url_cache = read_trimmed(file);
    if (!admin_url_cache || !*admin_url_cache) {
        free_admin_url();
        fail_msg("cannot read the sandbox URL from ALCH_URL_FILE=%s (%s): is the sandbox "
                 "started (ctest runs pgsandbox.start first; by hand: tools/pgsandbox start DIR)?",
                 file, errno ? strerror(errno) : "empty file");
    }
    atexit(free_admin_url);
    return admin_url_cache;
}

/* --- URLs ----------------------------------------------------------------------------------- */

/** Append @p n bytes of @p s to the malloc'd @p *out (length @p *len); false when out of memory. */
static bool append(char **out, size_t *len, const char *s, size_t n)
{
    char *bigger = realloc(*out, *len + n + 1);
    if (!bigger)
        return false;
    memcpy(bigger + *len, s, n);
    *len += n;
    bigger[*len] = '\0';
    *out = bigger;
    return true;
}

char *alch_test_url_with_database(const char *url, const char *db)
{
    char *out = NULL;
    size_t len = 0;
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end) { /* key=value connection string: the last dbname wins */
        if (append(&out, &len, url, strlen(url)) && append(&out, &len, " dbname=", 8) &&
            append(&out, &len, db, strlen(db)))
            return out;
        free(out);
        return NULL;
    }
    const char *authority = scheme_end + 3;
    const char *authority_end = authority + strcspn(authority, "/?#");
    const char *query = strchr(authority_end, '?');
    bool ok = append(&out, &len, url, (size_t)(authority_end - url)) &&
              append(&out, &len, "/", 1) && append(&out, &len, db, strlen(db));
    if (ok && query) {
        const char *p = query + 1;
        bool first = true;
        while (ok && *p && *p != '#') {
            size_t n = strcspn(p, "&#");
            if (!(n >= 7 && strncmp(p, "dbname=", 7) == 0)) {
                ok = append(&out, &len, first ? "?" : "&", 1) && append(&out, &len, p, n);
                first = false;
            }
            p += n;
            if (*p == '&')
                p++;
        }
    }
    if (!ok) {
        free(out);
        return NULL;
    }
    return out;
}

char *alch_test_url_database(const char *url)
{
    /* libpq's own parser: the same reading of the URL the server connection will get. */
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    if (!opts)
        return NULL;
    char *db = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "dbname") == 0 && o->val && *o->val)
            db = strdup(o->val);
    }
    PQconninfoFree(opts);
    return db;
}

/* --- databases ------------------------------------------------------------------------------ */

static void ignore_notice(void *arg, const char *message)
{
}

PGconn *alch_test_pq(const char *url)
{
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        char message[1024];
        snprintf(message, sizeof message, "%s", PQerrorMessage(conn));
        PQfinish(conn);
        fail_msg("cannot connect to the test server: %s", message);
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    return conn;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/**
 * Run "<verb> <quoted db>" on @p admin, retrying a little while the database (or template1)
 * is still in use by sessions on their way out. Writes the error into @p err on failure.
 */
static bool exec_on_database(PGconn *admin, const char *verb, const char *db, char *err,
                             size_t errlen)
{
    char *ident = PQescapeIdentifier(admin, db, strlen(db));
    if (!ident) {
        snprintf(err, errlen, "%s", PQerrorMessage(admin));
        return false;
    }
    size_t n = strlen(verb) + strlen(ident) + 2;
    char *sql = malloc(n);
    if (!sql) {
        PQfreemem(ident);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    snprintf(sql, n, "%s %s", verb, ident);
    PQfreemem(ident);

    bool ok = false;
    for (int attempt = 0; attempt < BUSY_RETRIES; attempt++) {
        PGresult *res = PQexec(admin, sql);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        bool busy = !ok && state && strcmp(state, SQLSTATE_OBJECT_IN_USE) == 0;
        if (!ok)
            snprintf(err, errlen, "%s: %s", sql, PQerrorMessage(admin));
        PQclear(res);
        if (ok || !busy)
            break;
        sleep_ms(250);
    }
    free(sql);
    return ok;
}

/** End every other session connected to @p db (a bound parameter, never pasted). */
static void terminate_sessions(PGconn *admin, const char *db)
{
    const char *params[] = {db};
    PGresult *res = PQexecParams(admin,
                                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                 " WHERE datname = $1 AND pid <> pg_backend_pid()",
                                 1, NULL, params, NULL, NULL, 0);
    PQclear(res);
}

/** `alch_t_<name>_<pid>`, sanitized, at most 63 bytes; malloc'd. */
static char *test_database_name(const char *name)
{
    char suffix[32];
    int slen = snprintf(suffix, sizeof suffix, "_%ld", (long)getpid());
    const char prefix[] = "alch_t_";
    size_t plen = sizeof prefix - 1;
    size_t keep = strlen(name);
    if (keep > MAX_IDENT - plen - (size_t)slen)
        keep = MAX_IDENT - plen - (size_t)slen;
    char *db = malloc(plen + keep + (size_t)slen + 1);
    if (!db)
        return NULL;
    memcpy(db, prefix, plen);
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)name[i];
        c = (unsigned char)tolower(c);
        db[plen + i] = (c < 128 && (isalnum(c) || c == '_')) ? (char)c : '_';
    }
    memcpy(db + plen + keep, suffix, (size_t)slen + 1);
    return db;
}

char *alch_test_db_create(const char *name)
{
    const char *admin_url = alch_test_url();
    char *db = test_database_name(name ? name : "test");
    char *url = db ? alch_test_url_with_database(admin_url, db) : NULL;
    if (!url) {
        free(db);
        fail_msg("%s", "alch_test_db_create: out of memory");
    }
    PGconn *admin = alch_test_pq(admin_url);
    char err[1024] = "";
    terminate_sessions(admin, db);
    bool ok = exec_on_database(admin, "DROP DATABASE IF EXISTS", db, err, sizeof err) &&
              exec_on_database(admin, "CREATE DATABASE", db, err, sizeof err);
    PQfinish(admin);
    free(db);
    if (!ok) {
        free(url);
        fail_msg("cannot create the test database: %s", err);
    }
    return url;
}

void alch_test_db_drop(char *url)
{
    if (!url)
        return;
    char *db = alch_test_url_database(url);
    free(url);
    if (!db)
        fail_msg("%s", "alch_test_db_drop: the URL names no database");
    PGconn *admin = alch_test_pq(alch_test_url());
    char err[1024] = "";
    terminate_sessions(admin, db);
    bool ok = exec_on_database(admin, "DROP DATABASE IF EXISTS", db, err, sizeof err);
    PQfinish(admin);
    free(db);
    if (!ok)
        fail_msg("cannot drop the test database: %s", err);
}

/* --- the sandbox ---------------------------------------------------------------------------- */

bool alch_test_is_sandbox(void)
{
    const char *env = getenv("ALCH_DATABASE_URL");
    return !env || !*env;
}

int alch_test_sandbox(const char *cmd)
{
    const char *tool = getenv("ALCH_PGSANDBOX");
    const char *dir = getenv("ALCH_SANDBOX_DIR");
    if (!tool || !*tool || !dir || !*dir)
        fail_msg("alch_test_sandbox(\"%s\"): ALCH_PGSANDBOX and ALCH_SANDBOX_DIR are not set "
                 "(run through ctest: the test needs the DB option of alch_add_test)",
                 cmd);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *const argv[] = {(char *)tool, (char *)cmd, (char *)dir, NULL};
        execv(tool, argv);
        fprintf(stderr, "cannot run %s: %s\n", tool, strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

alch_base *alch_test_base(const char *url, const alch_model *const *models, size_t n)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_base *base = NULL;
    CHECK_OK(alch_base_create(&base, &err), err);
    for (size_t i = 0; i < n; i++)
        CHECK_OK(alch_base_add(base, models[i], &err), err);
    alch_conn *c = NULL;
    CHECK_OK(alch_conn_open(url, &c, &err), err);
    CHECK_OK(alch_base_create_all(base, c, &err), err);
    alch_conn_close(c);
    return base;
}
