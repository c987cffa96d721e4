/* Lesson 02, program 4: nothing waits forever.
 *
 * A silent server: a libuv TCP listener on 127.0.0.1, at a port the kernel picks, that
 * accepts every connection and never says a word. Checkouts against it end by themselves,
 * within pool_timeout_ms or within connect_timeout_ms. Then a real statement on your
 * database, SELECT pg_sleep(5), ends within query_timeout_ms. */
#include <stdbool.h>
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

/* How long something took, as a figure that reads the same on every run: `about` seconds
 * (the figure the options promise), and whether the measured time was close to it. */
static void print_took(uint64_t start, double about)
{
    double took = (double)(uv_hrtime() - start) / 1e9;
    printf("it took about %.1f s: %s\n", about,
           took >= about * 0.9 && took < about + 1.5 ? "yes" : "no");
}

//! [server]
enum { MAX_CLIENTS = 8 };
static uv_tcp_t clients[MAX_CLIENTS];
static int nclients;

/* Someone connected: accept, then never read or write a byte. */
static void on_client(uv_stream_t *server, int status)
{
    if (status != 0 || nclients == MAX_CLIENTS)
        return;
    uv_tcp_t *client = &clients[nclients++];
    uv_tcp_init(server->loop, client);
    uv_accept(server, (uv_stream_t *)client);
}

/* Listen on 127.0.0.1 at a free port; write a URL that points at it into url. */
static int silent_server(uv_loop_t *loop, uv_tcp_t *server, char *url, size_t size)
{
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr); /* port 0: the kernel picks a free one */
    uv_tcp_init(loop, server);
    int rc = uv_tcp_bind(server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)server, 16, on_client);
    int len = sizeof addr;
    if (rc == 0)
        rc = uv_tcp_getsockname(server, (struct sockaddr *)&addr, &len);
    snprintf(url, size, "postgresql://app@127.0.0.1:%d/shop", ntohs(addr.sin_port));
    return rc;
}
//! [server]

//! [checkout]
/* Check a connection out of a new engine for url, on the loop that also runs the silent
 * server; print how the checkout ended. */
static void on_checkout(alch_conn *conn, int status, const alch_error *err, void *data)
{
    *(bool *)data = true; /* done */
    if (status == 0) {
        printf("connected (the server answered after all)\n");
        alch_conn_close(conn);
        return;
    }
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
}

static void checkout(uv_loop_t *loop, const char *url, const alch_engine_options *opts,
                     double about)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *engine = NULL;
    if (alch_engine_create_on_loop(loop, url, opts, &engine, &err) != 0) {
        print_error(&err);
        return;
    }
    bool done = false;
    uint64_t start = uv_hrtime(); /* nanoseconds */
    alch_engine_connect_async(engine, on_checkout, &done);
    while (!done)
        uv_run(loop, UV_RUN_ONCE); /* one turn of the loop at a time, until the checkout ends */
    print_took(start, about);
    alch_engine_free(engine); /* an attempt still under way is abandoned */
}
//! [checkout]

static void close_handle(uv_handle_t *handle, void *arg)
{
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* SELECT pg_sleep(5) on the real database, with query_timeout_ms = 300. */
static int slow_statement(const char *url)
{
    alch_error err = ALCH_ERROR_INIT;
    //! [query]
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true;
    opts.query_timeout_ms = 300; /* no statement may take longer, seen from here */
    alch_engine *engine = NULL;
    alch_conn *conn = NULL;
    if (alch_engine_create(url, &opts, &engine, &err) != 0 ||
        alch_engine_connect(engine, &conn, &err) != 0) {
        print_error(&err);
        alch_engine_free(engine);
        return 1;
    }
    uint64_t start = uv_hrtime();
    if (alch_conn_execute_text(conn, "SELECT pg_sleep(5)", NULL, 0, NULL, &err) != 0)
        print_error(&err);
    print_took(start, 0.3);
    //! [query]
    //! [after]
    alch_conn_rollback(conn, &err); /* the cancelled statement broke the transaction */
    alch_result *res = NULL;
    if (alch_conn_execute_text(conn, "SELECT 1", NULL, 0, &res, &err) == 0)
        printf("the same connection works again: %zu row\n", alch_result_rows(res));
    else
        print_error(&err);
    alch_result_free(res);
    alch_conn_close(conn);
    alch_engine_free(engine);
    //! [after]
    return 0;
}

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    if (!url) {
        fprintf(stderr, "ALCH_DATABASE_URL is not set: run this lesson with `./tutor run 2`.\n");
        return 1;
    }

    //! [listen]
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    char silent_url[64];
    if (silent_server(loop, &server, silent_url, sizeof silent_url) != 0) {
        printf("cannot listen on 127.0.0.1\n");
        return 1;
    }
    //! [listen]

    //! [pool_timeout]
    alch_engine_options opts = alch_engine_options_default();
    opts.pool_timeout_ms = 500; /* the whole checkout; connect_timeout_ms stays at 10 s */
    checkout(loop, silent_url, &opts, 0.5);
    //! [pool_timeout]

    //! [connect_timeout]
    opts = alch_engine_options_default();
    opts.connect_timeout_ms = 300; /* one connection attempt */
    checkout(loop, silent_url, &opts, 0.3);
    //! [connect_timeout]

    printf("the silent server accepted %d connections\n", nclients);
    uv_walk(loop, close_handle, NULL); /* close the server and its clients */
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);

    return slow_statement(url);
}
