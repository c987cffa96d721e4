/* The exercises' check chain: compiles and links (CTest builds the test), connects (the
 * database answers), behaves (each step of the exercise). A check that fails says what is
 * wrong and the mistake that usually causes it; the ones after it are skipped. */
#ifndef EXERCISE_CHECK_H
#define EXERCISE_CHECK_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <alch/alch.h>

#include "msg.h"
#include "support.h"

/* The step's function returned DB_TODO: its db_todo() said what is missing. */
#define NOT_DONE(rc)                                                                               \
    do {                                                                                           \
        if ((rc) == DB_TODO) {                                                                     \
            printf("FAIL: %s\n",                                                                   \
                   check_text(MSG("this exercise is not done yet (see the TODO above)",            \
                                  "упражнение ещё не сделано (см. TODO выше)")));                  \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Part of the exercise is still as the starter left it (db_open() has no TODO return: each
 * check looks for what its exercise makes). `what` is a MSG() pair. */
#define TODO_IF(cond, what)                                                                        \
    do {                                                                                           \
        if (cond) {                                                                                \
            SAY("not done yet: %s\n", "ещё не сделано: %s\n", check_text(what));                   \
            NOT_DONE(DB_TODO);                                                                     \
        }                                                                                          \
    } while (0)

/* A crash is a failed check too, with the mistake that usually causes it. Only
 * async-signal-safe calls here: write() and _exit(); the status stays 128 + signal. The
 * language was read before main() (check_install). */
static const check_msg crash_segv = MSG_PAIR("FAIL: the program crashed (SIGSEGV: a bad pointer)\n",
                                             "FAIL: программа упала (SIGSEGV: плохой указатель)\n");
static const check_msg crash_abrt =
    MSG_PAIR("FAIL: the program crashed (SIGABRT: often a double free)\n",
             "FAIL: программа упала (SIGABRT: часто двойное освобождение, double free)\n");
static const check_msg crash_likely = MSG_PAIR(
    "  likely: a session, a result or an object used after it was freed: objects a session "
    "loaded die with alch_session_close(), rows with alch_result_free(); or a pointer from "
    "a call that failed (check its return code first)\n",
    "  вероятно: сессия, результат или объект использованы после освобождения: объекты, "
    "загруженные сессией, умирают с alch_session_close(), строки — с alch_result_free(); "
    "или указатель от вызова, который не удался (сначала проверьте его код возврата)\n");

static void check_write(const char *s)
{
    if (write(STDOUT_FILENO, s, strlen(s)) < 0)
        return;
}

static void check_crashed(int sig)
{
    bool ru = check_lang == 1;
    const check_msg *what = sig == SIGABRT ? &crash_abrt : &crash_segv;
    check_write(ru ? what->ru : what->en);
    check_write(ru ? crash_likely.ru : crash_likely.en);
    _exit(128 + sig);
}

/* Under AddressSanitizer (the tutor builds the checks with it): the sanitizer's report names
 * the bad access and its place; this adds the check chain's verdict and the usual mistake. */
#if defined(__SANITIZE_ADDRESS__)
#define CHECK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHECK_ASAN 1
#endif
#endif
#ifdef CHECK_ASAN
void __asan_on_error(void);
void __asan_on_error(void)
{
    static const check_msg what = MSG_PAIR(
        "FAIL: the program used memory it no longer owns (AddressSanitizer stopped it)\n"
        "  likely: a session, a result or an object used after it was freed: objects a session "
        "loaded die with alch_session_close(), rows with alch_result_free(), a struct of yours "
        "with free(); read what you need first (the line of your code is named below)\n",
        "FAIL: программа обратилась к памяти, которая ей больше не принадлежит "
        "(её остановил AddressSanitizer)\n"
        "  вероятно: сессия, результат или объект использованы после освобождения: объекты, "
        "загруженные сессией, умирают с alch_session_close(), строки — с alch_result_free(), "
        "ваша структура — с free(); сначала прочитайте то, что нужно (строка вашего кода "
        "названа ниже)\n");
    check_write(check_lang == 1 ? what.ru : what.en);
}
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0:allow_user_segv_handler=1";
}
#endif

/* Lines go out as they are printed, so what passed before a crash is still shown. */
__attribute__((constructor)) static void check_install(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_ru(); /* the crash handlers only read it */
    signal(SIGSEGV, check_crashed);
    signal(SIGBUS, check_crashed);
    signal(SIGABRT, check_crashed);
}

/* One check: print ok, or what went wrong, why it usually does, and the error; then stop.
 * `what` and `likely` are MSG() pairs (`likely` may be NO_MSG). The error's own text is the
 * library's, in English. */
static inline void check(bool ok, check_msg what, check_msg likely, const alch_error *err)
{
    if (ok) {
        printf("ok: %s\n", check_text(what));
        return;
    }
    printf("FAIL: %s\n", check_text(what));
    if (likely.en)
        SAY("  likely: %s\n", "  вероятно: %s\n", check_text(likely));
    if (err && err->code) {
        char *text = alch_error_format(err);
        SAY("  error: %s\n", "  ошибка: %s\n", text ? text : "");
        free(text);
    }
    exit(1);
}

/* The check's database. Under CTest each run makes a fresh one (alch_test_db_create()) and
 * drops it at the end. The tutor checks again after every save, and making and dropping a
 * database cost the server more CPU than all the rest of a check (about 0.5 s of 0.8 s for
 * exercise 06): with ALCH_CHECK_KEEP_DB=1, which the tutor sets, a check keeps one database
 * per exercise between runs, alch_check_<name>, and empties it first (every schema in it
 * dropped, public made again), so a run starts from the same empty database. A session-level
 * advisory lock, held until the check exits, keeps two checks from sharing it (watch mode and
 * a `./tutor check` beside it): the one that finds it taken makes a fresh database instead. */
/* The connection scalar() asks on, opened by its first question and closed by check_done():
 * one server process for all of a check's questions (exercise 05 asks eleven). */
static alch_conn *check_scalar_conn;

static PGconn *check_kept_conn; /* holds the lock until the process ends */
static char *check_kept_url;

static inline void check_forget_kept(void)
{
    PQfinish(check_kept_conn);
    free(check_kept_url);
    check_kept_conn = NULL;
    check_kept_url = NULL;
}

static inline char *check_kept_database(const char *name)
{
    const char *keep = getenv("ALCH_CHECK_KEEP_DB");
    if (!keep || strcmp(keep, "1") != 0)
        return NULL;
    char db[64];
    snprintf(db, sizeof db, "alch_check_%s", name);
    check_kept_url = alch_test_url_with_database(alch_test_url(), db);
    if (!check_kept_url)
        return NULL;
    check_kept_conn = PQconnectdb(check_kept_url);
    if (PQstatus(check_kept_conn) != CONNECTION_OK) { /* the first run: make it */
        PQfinish(check_kept_conn);
        PGconn *admin = PQconnectdb(alch_test_url());
        char *ident =
            PQstatus(admin) == CONNECTION_OK ? PQescapeIdentifier(admin, db, strlen(db)) : NULL;
        char sql[128];
        if (ident) {
            snprintf(sql, sizeof sql, "CREATE DATABASE %s", ident);
            PQclear(PQexec(admin, sql)); /* made by a check beside this one: the same */
            PQfreemem(ident);
        }
        PQfinish(admin);
        check_kept_conn = PQconnectdb(check_kept_url);
    }
    PGresult *r = PQexec(check_kept_conn, "SELECT pg_try_advisory_lock(4242424242)");
    bool mine = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (mine) {
        r = PQexec(check_kept_conn,
                   "SET client_min_messages = warning; " /* no "drop cascades to" notes */
                   "DO $$ DECLARE s name; BEGIN "
                   "FOR s IN SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                   "AND nspname <> 'information_schema' LOOP "
                   "EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; "
                   "CREATE SCHEMA public; END $$");
        mine = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    if (!mine) {
        check_forget_kept();
        return NULL;
    }
    return strdup(check_kept_url);
}

/* "connects": a database of the test's own, or a clear stop. */
static inline char *check_connects(const char *name)
{
    char *url = check_kept_database(name);
    if (!url)
        url = alch_test_db_create(name);
    alch_conn *c = NULL;
    alch_error err = ALCH_ERROR_INIT;
    int rc = url ? alch_conn_open(url, &c, &err) : ALCH_EOPERATIONAL;
    check(rc == 0, MSG("the database answers", "база данных отвечает"),
          MSG("the sandbox is not running: `./tutor db start` (or check ALCH_DATABASE_URL)",
              "песочница не запущена: `./tutor db start` (или проверьте ALCH_DATABASE_URL)"),
          &err);
    alch_conn_close(c);
    return url;
}

/* The check's end: its database dropped, or, kept for the next run, left as it is. */
static inline void check_done(char *url)
{
    alch_conn_close(check_scalar_conn);
    check_scalar_conn = NULL;
    if (url && check_kept_url && strcmp(url, check_kept_url) == 0) {
        free(url);
        check_forget_kept();
        return;
    }
    alch_test_db_drop(url);
}

/* One number from SQL of the check's own (not the learner's code), each its own transaction. */
static inline long long scalar(const char *url, const char *sql)
{
    alch_result *r = NULL;
    long long n = -1;
    int64_t v;
    if (!check_scalar_conn && alch_conn_open(url, &check_scalar_conn, NULL) != 0) {
        alch_conn_close(check_scalar_conn);
        check_scalar_conn = NULL;
        return n;
    }
    if (alch_conn_execute_text(check_scalar_conn, sql, NULL, 0, &r, NULL) == 0 &&
        alch_result_get_int(r, 0, 0, &v, NULL) == 0)
        n = v;
    alch_result_free(r);
    return n;
}

#endif
