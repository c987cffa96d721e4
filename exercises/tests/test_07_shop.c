/* Exercise 07 (lesson 07): the shop on a loop, many users at once. */
#include "requests.h"
#include "check.h"

enum { USERS = 100 };

int main(void)
{
    char *url = check_connects("ex07");
    alch_error err = ALCH_ERROR_INIT;
    int rc = db_open(url, &err);
    check(rc == 0, "db_open() works (exercises 02-05)", NULL, &err);
    TODO_IF(session_factory == NULL || alch_base_count(base) != 3,
            "exercises 02-05: db_open() in database/models.c, which this exercise needs");
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
    check(rc == 0, "db_serve() runs", NULL, &err);
    check(registered == USERS, "every request is answered",
          "close each session in its callback, and count only the successful ones", NULL);
    check(scalar(url, "SELECT count(*) FROM users WHERE tg_id >= 5000") == 90,
          "90 distinct users are registered once each",
          "AUTOCOMMIT, or commit each session: without it the INSERTs are rolled back at close",
          NULL);
    check(uv_loop_alive(&loop) == 0 && uv_loop_close(&loop) == 0,
          "the loop is left with nothing running", "free the engine and run the loop once more",
          NULL);
    printf("%d requests in %.0f ms\n", USERS, ms);
    db_close();
    alch_test_db_drop(url);
    return 0;
}
