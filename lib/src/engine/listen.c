/* Listeners: a connection of their own that sends LISTEN and then hands every notification
 * to the caller's callback, on the engine's loop. The connection keeps its socket watched
 * while idle (driver/conn.c), so a NOTIFY wakes the loop like any other event. */
#include <stdlib.h>
#include <string.h>

#include "driver/error_internal.h"
#include "engine/pool.h"
#include "util/buf.h"

struct alch_listener {
    alch_conn *conn; /* NULL until connected */
    char *channel;
    alch_notify_cb cb;
    void *data;
    alch__echo echo; /* a copy: the listener may outlive its engine */
    bool connecting;
    bool closed; /* closed while connecting: freed when the connect ends */
};

static void listener_free(alch_listener *l)
{
    free(l->channel);
    free(l);
}

static void fail(alch_listener *l, int status, const alch_error *err)
{
    l->cb(l, status, NULL, err, l->data);
}

static void on_notify(alch_conn *c, const char *channel, const char *payload, int pid, void *data)
{
    (void)c;
    alch_listener *l = data;
    if (!channel) {
        alch_error err = ALCH_ERROR_INIT;
        alch__error_set(&err, ALCH_EOPERATIONAL, "the listening connection was lost");
        alch__error_hint(&err,
                         "close this listener and start a new one with alch_engine_listen_async()");
        fail(l, ALCH_EOPERATIONAL, &err);
        alch_error_clear(&err);
        return;
    }
    alch_notification n = {channel, payload ? payload : "", pid};
    l->cb(l, 0, &n, NULL, l->data);
}

static void on_listening(alch_conn *c, int status, alch_result *res, const alch_error *err,
                         void *data)
{
    alch_listener *l = data;
    alch_result_free(res);
    if (status) {
        fail(l, status, err);
        return;
    }
    alch__conn_set_notify(c, on_notify, l);
    l->cb(l, 0, NULL, NULL, l->data);
}

static void on_connected(alch_conn *c, int status, const alch_error *err, void *data)
{
    alch_listener *l = data;
    l->connecting = false;
    if (l->closed) {
        if (c)
            alch_conn_close(c);
        listener_free(l);
        return;
    }
    if (status) {
        fail(l, status, err);
        return;
    }
    l->conn = c;
    alch__buf sql = ALCH__BUF_INIT;
    alch__buf_puts(&sql, "LISTEN ");
    alch__buf_ident(&sql, l->channel);
    alch_error e = ALCH_ERROR_INIT;
    int rc = sql.oom ? alch__error_set(&e, ALCH_ENOMEM, "out of memory")
                     : alch__conn_exec(c, sql.data, NULL, 0, on_listening, l, &e);
    alch__buf_free(&sql);
    if (rc)
        fail(l, rc, &e);
    alch_error_clear(&e);
}

int alch_engine_listen_async(alch_engine *engine, const char *channel, alch_notify_cb cb,
                             void *data, alch_listener **out, alch_error *err)
{
    if (!engine || !channel || !*channel || !cb || !out)
        return alch__error_set(
            err, ALCH_EMISUSE,
            "alch_engine_listen_async needs an engine, a channel, a callback and out");
    if (engine->own_loop) {
        alch__error_set(err, ALCH_EMISUSE,
                        "a listener needs an async engine: notifications "
                        "arrive as callbacks on your loop");
        alch__error_hint(err, "create the engine with alch_engine_create_on_loop()");
        return ALCH_EMISUSE;
    }
    if (engine->freeing)
        return alch__error_set(err, ALCH_ECLOSED, "the engine was freed");
    alch_listener *l = calloc(1, sizeof *l);
    alch_url *url = alch_url_copy(engine->url);
    if (!l || !url || !(l->channel = alch__strdup(channel))) {
        free(l);
        alch_url_free(url);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    l->cb = cb;
    l->data = data;
    l->echo = engine->echo;
    alch__conn_config cfg = engine->cfg;
    cfg.echo = &l->echo;
    cfg.autobegin = false; /* LISTEN takes effect at once, outside any transaction */
    cfg.query_timeout_ms = 0;
    alch_conn *c = alch__conn_new(engine->loop, &cfg);
    if (!c) {
        alch_url_free(url);
        listener_free(l);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    alch__conn_on_connect(c, on_connected, l);
    int timeout_ms = alch__url_timeout_ms(url, engine->opts.connect_timeout_ms);
    l->connecting = true;
    int rc = alch__conn_start(c, url, engine->extra_keys, engine->extra_vals, timeout_ms, err);
    if (rc) {
        listener_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void alch_listener_close(alch_listener *l)
{
    if (!l)
        return;
    if (l->connecting) { /* the connect callback frees it */
        l->closed = true;
        return;
    }
    if (l->conn) {
        alch__conn_set_notify(l->conn, NULL, NULL);
        alch_conn_close(l->conn);
    }
    listener_free(l);
}
