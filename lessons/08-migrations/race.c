/* Lesson 08, program 4: two programs migrating at once.
 *
 * Two copies of a bot start together after a deploy, and both run the migrations. fork()
 * makes the second copy here; each opens its own connection and upgrades. The advisory lock
 * lets one through; the other waits, then finds every step recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shop.h"

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    alch_error start_err = ALCH_ERROR_INIT;
    if (fresh_start(url, &start_err) != 0) {
        print_error(&start_err);
        return 1;
    }
    fflush(stdout);
    //! [race]
    pid_t other = fork(); /* from here on, two programs */
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *conn;
    size_t applied = 0;
    int rc = alch_conn_open(url, &conn, &err);
    if (rc == 0)
        rc = alch_migrate_upgrade(conn, &shop_migrations, NULL, &applied, &err);
    if (rc != 0)
        print_error(&err);
    alch_conn_close(conn);
    if (other == 0)
        _exit(rc == 0 ? (int)applied : 100); /* the second program reports and ends */
    //! [race]

    //! [count]
    int status = 0;
    waitpid(other, &status, 0);
    int theirs = WIFEXITED(status) ? WEXITSTATUS(status) : 100;
    printf("both programs succeeded: %s\n", rc == 0 && theirs < 100 ? "yes" : "no");
    printf("steps applied, both programs together: %zu of %zu\n", applied + (size_t)theirs,
           shop_migrations.count);
    //! [count]
    return rc == 0 ? 0 : 1;
}
