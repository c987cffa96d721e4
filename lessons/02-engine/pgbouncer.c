/* Lesson 02, program 5: an engine behind PgBouncer in transaction mode.
 *
 * ALCH_PGBOUNCER_URL leads to your database through PgBouncer (pool_mode = transaction):
 * each transaction of a client may run on another server connection. Two engines share it:
 * `bot`, with the defaults (its statement cache on), and `other`, set up as it should be
 * behind PgBouncer (statement_cache_size = 0). While `other` holds a server connection, the
 * bot's next transaction runs on another one, where its prepared statement does not exist.
 */
#include <stdio.h>
#include <stdlib.h>

#include <alch/alch.h>

static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

//! [pid]
/* Check a connection out of engine, ask the server for its process id, hand it back
 * (which ends the transaction, so PgBouncer takes the server connection back too).
 * Returns the pid, or 0 when the statement failed. */
static int server_pid(alch_engine *engine)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *conn = NULL;
    alch_result *res = NULL;
    int64_t pid = 0;
    if (alch_engine_connect(engine, &conn, &err) == 0 &&
        alch_conn_execute_text(conn, "SELECT pg_backend_pid()", NULL, 0, &res, &err) == 0)
        alch_result_get_int(res, 0, 0, &pid, &err);
    if (err.code != 0)
        print_error(&err);
    alch_result_free(res);
    alch_conn_close(conn);
    return (int)pid;
}
//! [pid]

int main(void)
{
    const char *url = getenv("ALCH_PGBOUNCER_URL");
    if (!url) {
        fprintf(stderr, "ALCH_PGBOUNCER_URL is not set: run this lesson with `./tutor run 2`, "
                        "which starts PgBouncer for it.\n");
        return 1;
    }
    alch_error err = ALCH_ERROR_INIT;

    //! [engines]
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true;
    alch_engine *bot = NULL; /* the defaults: statement_cache_size = 100 */
    if (alch_engine_create(url, &opts, &bot, &err) != 0) {
        print_error(&err);
        return 1;
    }
    opts.echo = false;
    opts.statement_cache_size = 0; /* what to set behind PgBouncer */
    alch_engine *other = NULL;
    if (alch_engine_create(url, &opts, &other, &err) != 0) {
        print_error(&err);
        return 1;
    }
    //! [engines]

    //! [first]
    int first = server_pid(bot); /* prepared on the server connection PgBouncer lent */
    //! [first]

    //! [hold]
    alch_conn *held = NULL;
    if (alch_engine_connect(other, &held, &err) != 0 ||
        alch_conn_execute_text(held, "SELECT 1", NULL, 0, NULL, &err) != 0) {
        print_error(&err);
        return 1;
    }
    printf("the other engine holds a server connection in an open transaction\n");
    //! [hold]

    //! [again]
    int failed = server_pid(bot); /* cached: alch sends only the name of the statement */
    int second = server_pid(bot); /* the cache is off now: the SQL travels again */
    printf("the bot's two answers came from two server processes: %s\n",
           failed == 0 && first != 0 && second != 0 && first != second ? "yes" : "no");
    //! [again]

    alch_conn_close(held);
    alch_engine_free(other);
    alch_engine_free(bot);
    return 0;
}
