/* Exercise 07 (lesson 07): the shop on a loop, many users at once. */
#include "requests.h"
#include "check.h"

enum { USERS = 100 };

int main(void)
{
    char *url = check_connects("ex07");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0,
          MSG("db_open() works (exercises 02-05)", "db_open() работает (упражнения 02-05)"), NO_MSG,
          &err);
    TODO_IF(session_factory == NULL || alch_base_count(base) != 3,
            MSG("exercises 02-05: db_open() in database/models.c, which this exercise needs",
                "упражнения 02-05: db_open() в database/models.c, он нужен этому упражнению"));
    int64_t ids[USERS];
    for (int i = 0; i < USERS; i++)
        ids[i] = 5000 + i % 90; /* ten of them write twice */
    uv_loop_t loop;
    uv_loop_init(&loop);
    int registered = -1;
    uint64_t t0 = uv_hrtime();
    rc = db_serve(&loop, url, ids, USERS, &registered, &err);
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    NOT_DONE(rc);
    check(rc == 0, MSG("db_serve() runs", "db_serve() работает"), NO_MSG, &err);
    check(registered == USERS, MSG("every request is answered", "на каждый запрос есть ответ"),
          MSG("close each session in its callback, and count only the successful ones",
              "закрывайте каждую сессию в её колбэке и считайте только успешные"),
          NULL);
    check(scalar(url, "SELECT count(*) FROM users WHERE tg_id >= 5000") == 90,
          MSG("90 distinct users are registered once each",
              "90 разных пользователей зарегистрированы по одному разу"),
          MSG("AUTOCOMMIT, or commit each session: without it the INSERTs are rolled back at close",
              "AUTOCOMMIT или фиксация каждой сессии: без неё INSERT откатываются при закрытии"),
          NULL);
    check(
        uv_loop_alive(&loop) == 0 && uv_loop_close(&loop) == 0,
        MSG("the loop is left with nothing running", "в цикле событий ничего не осталось работать"),
        MSG("free the engine and run the loop once more",
            "освободите движок и запустите цикл событий ещё раз"),
        NULL);
    SAY("%d requests in %.0f ms\n", "%d запросов за %.0f мс\n", USERS, ms);
    db_close();
    check_done(url);
    return 0;
}
