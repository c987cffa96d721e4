/* Lesson 02, program 2: the pool, explained by running it.
 *
 * A small pool makes every rule visible: pool_size = 2 connections are kept, one more
 * (max_overflow = 1) may be opened under load, and a checkout waits at most
 * pool_timeout_ms = 300 for a connection to come free. */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include <alch/alch.h>

static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

static void print_pool(const char *when, const alch_engine *engine)
{
    alch_pool_status s = alch_engine_pool_status(engine);
    printf("%-22s %d open, %d idle, %d checked out\n", when, s.size, s.idle, s.checked_out);
}

//! [checkout]
/* Check a connection out of the pool and show the pool's counters. NULL on failure. */
static alch_conn *checkout(alch_engine *engine, const char *name)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *conn = NULL;
    if (alch_engine_connect(engine, &conn, &err) != 0) {
        printf("checkout %s failed:\n", name);
        print_error(&err);
        return NULL;
    }
    char label[32];
    snprintf(label, sizeof label, "checked out %s:", name);
    print_pool(label, engine);
    return conn;
}
//! [checkout]

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    if (!url || !*url) {
        fprintf(stderr, "ALCH_DATABASE_URL is not set: run this lesson with `./tutor run 2`.\n");
        return 1;
    }
    alch_error err = ALCH_ERROR_INIT;

    //! [options]
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true;
    opts.pool_size = 2;         /* connections kept open while idle */
    opts.max_overflow = 1;      /* one more under load, closed when it is not needed */
    opts.pool_timeout_ms = 300; /* how long a checkout waits for a free connection */

    alch_engine *engine = NULL;
    if (alch_engine_create(url, &opts, &engine, &err) != 0) {
        print_error(&err);
        return 1;
    }
    print_pool("nothing opened yet:", engine);
    //! [options]

    //! [three]
    alch_conn *a = checkout(engine, "a");
    alch_conn *b = checkout(engine, "b");
    alch_conn *c = checkout(engine, "c");
    if (!a || !b || !c)
        return 1;
    /* Each connection is a separate server process, with its own process id. */
    int pid_a = alch_conn_backend_pid(a);
    int pid_b = alch_conn_backend_pid(b);
    int pid_c = alch_conn_backend_pid(c);
    printf("three different server processes: %s\n",
           pid_a != pid_b && pid_b != pid_c && pid_a != pid_c ? "yes" : "no");
    //! [three]

    //! [exhausted]
    uint64_t start = uv_hrtime(); /* nanoseconds */
    alch_conn *d = checkout(engine, "d");
    double waited = (double)(uv_hrtime() - start) / 1e9;
    printf("it waited about 0.3 s: %s\n", waited >= 0.29 && waited < 2.0 ? "yes" : "no");
    //! [exhausted]

    //! [reuse]
    alch_conn_close(b); /* b goes back to the pool, idle */
    print_pool("handed b back:", engine);
    d = checkout(engine, "d");
    if (!d)
        return 1;
    printf("d is b's connection again: %s\n", alch_conn_backend_pid(d) == pid_b ? "yes" : "no");
    //! [reuse]

    //! [rollback]
    /* A TEMP table lives as long as its connection: d's, which the pool keeps open. */
    if (alch_conn_execute_text(d, "CREATE TEMP TABLE notes (body text)", NULL, 0, NULL,
                               &err) != 0 ||
        alch_conn_commit(d, &err) != 0)
        print_error(&err);
    alch_value note[] = {alch_v("never committed")};
    if (alch_conn_execute_text(d, "INSERT INTO notes (body) VALUES ($1)", note, 1, NULL, &err) != 0)
        print_error(&err);
    alch_conn_close(d); /* its transaction is still open: the pool rolls it back */

    d = checkout(engine, "d");
    if (!d)
        return 1;
    alch_result *res = NULL;
    if (alch_conn_execute_text(d, "SELECT count(*) FROM notes", NULL, 0, &res, &err) == 0) {
        int64_t count = -1;
        if (alch_result_get_int(res, 0, 0, &count, &err) == 0)
            printf("notes in the table: %lld\n", (long long)count);
        alch_result_free(res);
    }
    if (err.code != 0)
        print_error(&err);
    if (alch_conn_commit(d, &err) != 0) /* end this transaction before handing d back */
        print_error(&err);
    //! [rollback]
    /* A TEMP table lives as long as its connection: d's, which the pool keeps open. */

    //! [return_all]
    alch_conn_close(a);
    alch_conn_close(c);
    alch_conn_close(d); /* 2 are idle already: this one is closed, not kept */
    print_pool("all handed back:", engine);
    //! [return_all]

    //! [dispose]
    alch_engine_dispose(engine); /* close the idle connections; the engine stays usable */
    print_pool("after dispose:", engine);
    alch_engine_free(engine);
    //! [dispose]
    return 0;
}
