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
    check(rc == 0, "db_ping() connects", "the URL is passed on as given? alch_conn_open(url, ...)",
          &err);
    check(version >= 90000, "db_ping() reads the server version (e.g. 150008)",
          "set *server_version from alch_conn_server_version(conn) before closing", NULL);
    printf("server version %d\n", version);
    alch_test_db_drop(url);
    return 0;
}
