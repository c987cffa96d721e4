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

/* "connects": a database of the test's own, or a clear stop. */
static inline char *check_connects(const char *name)
{
    char *url = alch_test_db_create(name);
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

/* One number from SQL of the check's own (not the learner's code). */
static inline long long scalar(const char *url, const char *sql)
{
    alch_conn *c = NULL;
    alch_result *r = NULL;
    long long n = -1;
    int64_t v;
    if (alch_conn_open(url, &c, NULL) == 0 &&
        alch_conn_execute_text(c, sql, NULL, 0, &r, NULL) == 0 &&
        alch_result_get_int(r, 0, 0, &v, NULL) == 0)
        n = v;
    alch_result_free(r);
    alch_conn_close(c);
    return n;
}

#endif
