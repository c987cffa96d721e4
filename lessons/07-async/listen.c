/* Lesson 07, program 3: reacting to the database. A listener hears every NOTIFY on a channel
 * as a callback on the loop; a bot can tell a shop owner about a new order this way,
 * without asking the database again and again. */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include <alch/alch.h>

static alch_engine *engine;

/* The sender's answer and the notification travel on two connections, so either may come
 * first: print when both are in, for the same output every run. */
static bool sent;
static char heard[128];

static void report(void)
{
    if (sent && heard[0])
        printf("sent, and heard: %s\n", heard);
}

static void on_sent(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    (void)err;
    (void)data;
    sent = status == 0;
    alch_result_free(res);
    alch_conn_close(c);
    report();
}

//! [notify]
/* Somewhere else in the shop, an order is placed. pg_notify() takes the channel and the
 * payload as values, so they are bound like any other. */
static void send_order(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    (void)data;
    alch_value order[] = {alch_v("orders"), alch_v("order 17: 2 x Oolong")};
    if (status == 0) /* the values are copied before the call returns */
        alch_conn_execute_text_async(c, "SELECT pg_notify($1, $2)", order, 2, on_sent, NULL);
}
//! [notify]

//! [listen]
static void on_event(alch_listener *l, int status, const alch_notification *n,
                     const alch_error *err, void *data)
{
    (void)data;
    if (status != 0) {
        printf("the listener failed: %s\n", err->message);
        alch_listener_close(l);
    } else if (!n) { /* LISTEN is in place: now an order may come */
        printf("listening on 'orders'\n");
        alch_engine_connect_async(engine, send_order, NULL);
    } else {
        snprintf(heard, sizeof heard, "'%s' on channel '%s'", n->payload, n->channel);
        alch_listener_close(l); /* one is enough for this program */
        report();
    }
}
//! [listen]

int main(void)
{
    uv_loop_t *loop = uv_default_loop();
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true;
    opts.isolation_level = "AUTOCOMMIT"; /* a NOTIFY is delivered when it commits */
    alch_error err = ALCH_ERROR_INIT;
    if (alch_engine_create_on_loop(loop, getenv("ALCH_DATABASE_URL"), &opts, &engine, &err) != 0)
        return 1;
    //! [start]
    alch_listener *listener;
    alch_engine_listen_async(engine, "orders", on_event, NULL, &listener, &err);
    uv_run(loop, UV_RUN_DEFAULT);
    //! [start]
    alch_engine_free(engine);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
