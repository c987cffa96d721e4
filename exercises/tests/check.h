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

#include "support.h"

/* The step's function returned DB_TODO: its db_todo() said what is missing. */
#define NOT_DONE(rc)                                                                               \
    do {                                                                                           \
        if ((rc) == DB_TODO) {                                                                     \
            printf("FAIL: this exercise is not done yet (see the TODO above)\n");                  \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Part of the exercise is still as the starter left it (db_open() has no TODO return: each
 * check looks for what its exercise makes). */
#define TODO_IF(cond, what)                                                                        \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("not done yet: %s\n", what);                                                    \
            NOT_DONE(DB_TODO);                                                                     \
        }                                                                                          \
    } while (0)

/* A crash is a failed check too, with the mistake that usually causes it. Only
 * async-signal-safe calls here: write() and _exit(); the status stays 128 + signal. */
static void check_crashed(int sig)
{
    static const char segv[] = "FAIL: the program crashed (SIGSEGV: a bad pointer)\n";
    static const char abrt[] = "FAIL: the program crashed (SIGABRT: often a double free)\n";
    static const char likely[] =
        "  likely: a session, a result or an object used after it was freed: objects a session "
        "loaded die with alch_session_close(), rows with alch_result_free(); or a pointer from "
        "a call that failed (check its return code first)\n";
    const char *what = sig == SIGABRT ? abrt : segv;
    size_t n = sig == SIGABRT ? sizeof abrt - 1 : sizeof segv - 1;
    if (write(STDOUT_FILENO, what, n) < 0 || write(STDOUT_FILENO, likely, sizeof likely - 1) < 0)
        _exit(128 + sig);
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
    static const char what[] =
        "FAIL: the program used memory it no longer owns (AddressSanitizer stopped it)\n"
        "  likely: a session, a result or an object used after it was freed: objects a session "
        "loaded die with alch_session_close(), rows with alch_result_free(), a struct of yours "
        "with free(); read what you need first (the line of your code is named below)\n";
    if (write(STDOUT_FILENO, what, sizeof what - 1) < 0)
        return;
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
    signal(SIGSEGV, check_crashed);
    signal(SIGBUS, check_crashed);
    signal(SIGABRT, check_crashed);
}

/* One check: print ok, or what went wrong, why it usually does, and the error; then stop. */
static inline void check(bool ok, const char *what, const char *likely, const alch_error *err)
{
    if (ok) {
        printf("ok: %s\n", what);
        return;
    }
    printf("FAIL: %s\n", what);
    if (likely)
        printf("  likely: %s\n", likely);
    if (err && err->code) {
        char *text = alch_error_format(err);
        printf("  error: %s\n", text ? text : "");
        free(text);
    }
    exit(1);
}

/* "connects": a database of the test's own, or a clear stop. */
static inline char *check_connects(const char *name)
{
    char *url = alch_test_db_create(name);
    alch_conn *c = NULL;
    alch_error err = ALCH_ERROR_INIT;
    int rc = url ? alch_conn_open(url, &c, &err) : ALCH_EOPERATIONAL;
    check(rc == 0, "the database answers",
          "the sandbox is not running: `./tutor db start` (or check ALCH_DATABASE_URL)", &err);
    alch_conn_close(c);
    return url;
}

/* One number from SQL of the check's own (not the learner's code). */
static inline long long scalar(const char *url, const char *sql)
{
    alch_conn *c = NULL;
    alch_result *r = NULL;
    long long n = -1;
    int64_t v;
    if (alch_conn_open(url, &c, NULL) == 0 && alch_conn_execute(c, sql, NULL, 0, &r, NULL) == 0 &&
        alch_result_get_int(r, 0, 0, &v, NULL) == 0)
        n = v;
    alch_result_free(r);
    alch_conn_close(c);
    return n;
}

#endif
