/* Exercise 01 (lesson 01): connect with the driver and read the server's version. */
#include "models.h"
#include "check.h"

int main(void)
{
    char *url = check_connects("ex01");
    alch_error err = ALCH_ERROR_INIT;
    int version = 0;
    int rc = db_ping(url, &version, &err);
    NOT_DONE(rc);
    check(rc == 0, MSG("db_ping() connects", "db_ping() подключается"),
          MSG("the URL is passed on as given? alch_conn_open(url, ...)",
              "URL передан как есть? alch_conn_open(url, ...)"),
          &err);
    check(version >= 90000,
          MSG("db_ping() reads the server version (e.g. 150008)",
              "db_ping() читает версию сервера (например, 150008)"),
          MSG("set *server_version from alch_conn_server_version(conn) before closing",
              "задайте *server_version из alch_conn_server_version(conn) до закрытия"),
          NULL);
    SAY("server version %d\n", "версия сервера %d\n", version);
    check_done(url);
    return 0;
}
