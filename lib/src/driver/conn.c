/* The non-blocking core: one libpq connection driven by one uv_poll_t.
 *
 * Everything here is a state machine woken by socket readiness. The sync faces at the
 * bottom run the very same machine on a private loop until it finishes. */
#include "driver/conn_internal.h"

#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/error_internal.h"
#include "driver/result_internal.h"
#include "driver/url_internal.h"
#include "util/buf.h"

static void on_io(uv_poll_t *handle, int status, int events);
static void deliver_notifies(alch_conn *c);
static void connect_done(alch_conn *c, int status, alch_error *err);
static void on_connect_timeout(uv_timer_t *t);
static void op_run_step(alch_conn *c);
static void op_send(alch_conn *c);
static bool reset_drain(alch_conn *c);

/* ---- lifetime ---------------------------------------------------------------------- */

alch_conn *alch__conn_new(uv_loop_t *loop, const alch__conn_config *cfg)
{
    alch_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    /* an operation per statement, one at a time: the last one's memory serves the next */
    c->ops = (alch__freelist){.max = 1, .size = sizeof(alch__op)};
    if (cfg)
        c->cfg = *cfg;
    c->state = CONN_CONNECTING;
    return c;
}

alch__conn_link *alch__conn_link_of(alch_conn *c)
{
    return &c->link;
}

alch_error *alch__conn_start_err(alch_conn *c)
{
    return c ? &c->start_err : NULL;
}

const alch__echo *alch__conn_echo(const alch_conn *c)
{
    return c ? c->cfg.echo : NULL;
}

void alch__conn_set_sync_face(alch_conn *c, bool on)
{
    c->sync_face = on;
}

void alch__conn_on_connect(alch_conn *c, alch_connect_cb cb, void *data)
{
    c->connect_cb = cb;
    c->connect_data = data;
}

/* PQcancel() opens a connection of its own and waits for the server: it blocks, so it runs
 * on libuv's thread pool. The request outlives the connection if need be. */
struct alch__cancel {
    uv_work_t work;
    PGcancel *cancel;
    alch_conn *conn; /* NULL once the connection is gone */
};

static void free_handle(uv_handle_t *h)
{
    free(h);
}

/* Handle memory is freed only in the close callback (libuv's rule); the connection
 * itself forgets the handle at once, so it can be freed before the loop runs again. */
static void close_poll(alch_conn *c)
{
    if (c->poll) {
        c->poll->data = NULL;
        uv_close((uv_handle_t *)c->poll, free_handle);
        c->poll = NULL;
        c->poll_events = 0;
    }
}

/* A timer of the connection's, made on first use; NULL when out of memory. */
static uv_timer_t *conn_timer(alch_conn *c, uv_timer_t **slot)
{
    if (!*slot) {
        *slot = malloc(sizeof **slot);
        if (*slot && uv_timer_init(c->loop, *slot) != 0) {
            free(*slot);
            *slot = NULL;
        }
    }
    if (*slot)
        (*slot)->data = c;
    return *slot;
}

static void drop_timer(uv_timer_t **slot)
{
    if (*slot) {
        (*slot)->data = NULL;
        uv_close((uv_handle_t *)*slot, free_handle);
        *slot = NULL;
    }
}

static void close_timer(alch_conn *c)
{
    drop_timer(&c->timer);
    drop_timer(&c->qtimer);
    drop_timer(&c->ctimer);
    if (c->cancel_req) { /* it finishes on the thread pool, then frees itself */
        c->cancel_req->conn = NULL;
        c->cancel_req = NULL;
    }
}

static void free_resolved(alch_conn *c)
{
    for (int i = 0; i < 3; i++) {
        free(c->resolved[i]);
        c->resolved[i] = NULL;
    }
}

alch__op *alch__op_new(alch_conn *c)
{
    alch__op *op = alch__freelist_get(&c->ops);
    if (op)
        memset(op, 0, sizeof *op);
    return op;
}

void alch__op_free(alch_conn *c, alch__op *op)
{
    if (!op)
        return;
    alch__params_free(&op->params);
    free(op->sql);
    PQclear(op->last);
    PQclear(op->error);
    alch__batch_free(op->batch);
    alch__freelist_put(&c->ops, op);
}

/* Everything but the struct itself: the handles are closed at once, so the loop (and a
 * sync engine's private loop) never outlives them, even when the free is deferred. */
static void release_resources(alch_conn *c)
{
    alch_error_clear(&c->start_err);
    alch_error_clear(&c->fatal);
    close_poll(c);
    close_timer(c);
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    PQclear(c->reset_error);
    c->reset_error = NULL;
    c->reset_due = c->reset_open = c->reset_sync = c->reset_unsent = false;
    alch__op_free(c, c->op);
    c->op = NULL;
    alch__freelist_drain(&c->ops);
    for (int i = 0; i < c->cache_len; i++)
        free(c->cache[i].sql);
    free(c->cache);
    c->cache = NULL;
    c->cache_len = 0;
    free(c->conn_keys);
    free(c->conn_vals);
    c->conn_keys = c->conn_vals = NULL;
    alch__resolve_detach(c);
    free_resolved(c);
    alch_url_free(c->url);
    c->url = NULL;
}

static void destroy_now(alch_conn *c)
{
    release_resources(c);
    if (c->own_loop) {
        uv_run(c->own_loop, UV_RUN_DEFAULT); /* lets the close callbacks free the handles */
        uv_loop_close(c->own_loop);
        free(c->own_loop);
    }
    free(c);
}

/* Mark for freeing when the last reference goes; resources go now (see release_resources). */
static void destroy_later(alch_conn *c)
{
    c->state = CONN_CLOSED;
    c->destroy_pending = true;
    if (!c->own_loop)
        release_resources(c);
    else if (c->poll && c->poll_events)
        uv_poll_stop(c->poll);
}

void alch__conn_destroy(alch_conn *c)
{
    if (!c)
        return;
    if (c->refs > 0) /* inside one of our callbacks: free the struct when it returns */
        destroy_later(c);
    else
        destroy_now(c);
}

static void conn_ref(alch_conn *c)
{
    c->refs++;
}

static void conn_unref(alch_conn *c)
{
    if (--c->refs == 0 && c->destroy_pending)
        destroy_now(c);
}

/* The connection's main timer (connect timeout, deferred completions), made on first use. */
static int ensure_timer(alch_conn *c)
{
    return conn_timer(c, &c->timer) ? 0 : ALCH_ENOMEM;
}

/* ---- the socket watcher ------------------------------------------------------------ */

/* Watch the socket for `events` (0 stops watching). A new handle is made when libpq
 * switched sockets; never two active handles on one socket. */
static int arm(alch_conn *c, int events, bool fresh)
{
    if (events == 0) {
        if (c->poll && c->poll_events)
            uv_poll_stop(c->poll);
        c->poll_events = 0;
        return 0;
    }
    int fd = PQsocket(c->pg);
    if (fd < 0)
        return UV_EBADF;
    if (fresh)
        close_poll(c);
    if (!c->poll) {
        c->poll = malloc(sizeof *c->poll);
        if (!c->poll)
            return UV_ENOMEM;
        int rc = uv_poll_init_socket(c->loop, c->poll, fd);
        if (rc) {
            free(c->poll);
            c->poll = NULL;
            return rc;
        }
        c->poll->data = c;
        c->poll_events = 0;
    }
    /* an idle connection stays watched (a hang-up or a notification is seen at once) but
     * does not keep the loop alive: uv_run() returns when no operation is left */
    if (c->state == CONN_CONNECTING || c->op || c->notify)
        uv_ref((uv_handle_t *)c->poll);
    else
        uv_unref((uv_handle_t *)c->poll);
    if (events == c->poll_events)
        return 0;
    c->poll_events = events;
    return uv_poll_start(c->poll, events, on_io);
}

/* libpq closed (or will close) the socket: forget the watcher at once, before another
 * connection can be given the same descriptor number. */
static void mark_broken(alch_conn *c)
{
    if (c->state != CONN_CLOSED)
        c->state = CONN_BROKEN;
    close_poll(c);
}

/* ---- connecting -------------------------------------------------------------------- */

static bool is_fatal(const PGresult *r);

/* Notices are echoed. A FATAL that arrives between two statements of a pipeline comes this
 * way too (libpq treats an error it did not wait for as a notice): it is kept, it says why
 * the server is about to hang up. */
static void on_notice(void *arg, const PGresult *res)
{
    alch_conn *c = arg;
    if (is_fatal(res) && !c->fatal.code)
        alch__error_from_result(&c->fatal, res);
    const char *message = PQresultErrorMessage(res);
    size_t n = strlen(message);
    while (n > 0 && message[n - 1] == '\n')
        n--;
    alch__echo_line(c->cfg.echo, "%.*s", (int)n, message);
}

static void connect_done(alch_conn *c, int status, alch_error *err)
{
    close_timer(c);
    free(c->conn_keys);
    free(c->conn_vals);
    c->conn_keys = c->conn_vals = NULL;
    free_resolved(c);
    alch_connect_cb cb = c->connect_cb;
    void *data = c->connect_data;
    c->connect_cb = NULL;
    if (status == 0) {
        c->state = CONN_READY;
        arm(c, UV_READABLE, false);
        cb(c, 0, NULL, data);
        return;
    }
    /* the callback never sees a failed connection: it is gone before the call */
    alch__conn_destroy(c);
    cb(NULL, status, err, data);
}

/* The decoders read ISO dates and exact floats, whatever the server's defaults, the role's
 * or the database's (ALTER ROLE ... SET DateStyle = 'SQL, DMY'). The startup options pin
 * them with no round trip (alch__url_libpq_params). A pooler that drops startup options
 * (PgBouncer's ignore_startup_parameters) leaves the server's own settings, which the
 * server reports at once (ParameterStatus): then one SET, before the connection is used. */
static const char pin_sql[] =
    "SET DateStyle = ISO, MDY; SET IntervalStyle = postgres; SET extra_float_digits = 3";

static bool settings_pinned(PGconn *pg)
{
    const char *ds = PQparameterStatus(pg, "DateStyle");
    const char *is = PQparameterStatus(pg, "IntervalStyle");
    return ds && strncmp(ds, "ISO,", 4) == 0 && (!is || strcmp(is, "postgres") == 0);
}

/* The SET's results: the connection is ready once they are all in. */
static void pin_step(alch_conn *c)
{
    alch_error err = ALCH_ERROR_INIT;
    if (!PQconsumeInput(c->pg) || alch__conn_flush_arm(c) != 0) {
        alch__error_from_conn(&err, ALCH_EOPERATIONAL, c->pg, "could not pin DateStyle");
        connect_done(c, ALCH_EOPERATIONAL, &err);
        alch_error_clear(&err);
        return;
    }
    while (!PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            c->pinning = false;
            if (err.code)
                connect_done(c, err.code, &err);
            else
                connect_done(c, 0, NULL);
            alch_error_clear(&err);
            return;
        }
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !err.code)
            alch__error_from_conn(&err, ALCH_EOPERATIONAL, c->pg, "could not pin DateStyle");
        PQclear(r);
    }
    alch_error_clear(&err);
}

static void connect_step(alch_conn *c)
{
    /* libpq may close the socket and open another inside PQconnectPoll (next host,
     * next address), possibly with the same number: stop watching first, always. */
    close_poll(c);
    PostgresPollingStatusType ps = PQconnectPoll(c->pg);
    alch_error err = ALCH_ERROR_INIT;
    int rc;
    switch (ps) {
    case PGRES_POLLING_OK:
        if (PQsetnonblocking(c->pg, 1) != 0) {
            alch__error_from_conn(&err, ALCH_EOPERATIONAL, c->pg, "could not go non-blocking");
            connect_done(c, ALCH_EOPERATIONAL, &err);
            break;
        }
        PQsetNoticeReceiver(c->pg, on_notice, c);
        if (settings_pinned(c->pg)) {
            connect_done(c, 0, NULL);
            break;
        }
        c->pinning = true;
        if (!PQsendQuery(c->pg, pin_sql) || arm(c, UV_READABLE, true) != 0 ||
            alch__conn_flush_arm(c) != 0) {
            alch__error_from_conn(&err, ALCH_EOPERATIONAL, c->pg, "could not pin DateStyle");
            connect_done(c, ALCH_EOPERATIONAL, &err);
        }
        break;
    case PGRES_POLLING_READING:
    case PGRES_POLLING_WRITING:
        rc = arm(c, ps == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE, true);
        if (rc) {
            alch__error_set(&err, ALCH_EOPERATIONAL, "cannot watch the socket: %s",
                            uv_strerror(rc));
            connect_done(c, ALCH_EOPERATIONAL, &err);
        }
        break;
    default:
        alch__error_from_conn(&err, ALCH_EOPERATIONAL, c->pg, NULL);
        connect_done(c, ALCH_EOPERATIONAL, &err);
        break;
    }
    alch_error_clear(&err);
}

static void on_connect_timeout(uv_timer_t *t)
{
    alch_conn *c = t->data;
    if (!c || c->state != CONN_CONNECTING)
        return;
    conn_ref(c);
    alch_error err = ALCH_ERROR_INIT;
    /* before libpq has the connection (a host name being looked up), the URL's names */
    const char *host = c->pg ? PQhost(c->pg) : alch__conn_param(c, "host");
    const char *port = c->pg ? PQport(c->pg) : alch__conn_param(c, "port");
    ConnStatusType st = c->pg ? PQstatus(c->pg) : CONNECTION_STARTED;
    /* past the TCP (or socket) connect, libpq waits for the server to speak */
    bool accepted = c->pg && st != CONNECTION_STARTED && st != CONNECTION_BAD;
    alch__error_set(&err, ALCH_ETIMEOUT, "could not connect to %s%s%s within %.1f s: %s",
                    host && *host ? host : "the server", port && *port ? " port " : "",
                    port && *port ? port : "", (double)uv_timer_get_repeat(t) / 1e3,
                    accepted ? "the server accepted the connection but never answered"
                    : c->pg  ? "no answer to the connection request"
                             : "the host name lookup did not finish");
    alch__error_hint(&err, "is the server up and reachable? The limit is connect_timeout "
                           "in the URL (seconds) or the engine's connect_timeout_ms");
    connect_done(c, ALCH_ETIMEOUT, &err);
    alch_error_clear(&err);
    conn_unref(c);
}

/* Hand the parameters to libpq and watch the socket. Returns 0 or an error (the caller
 * destroys the connection). */
static int start_libpq(alch_conn *c, alch_error *err)
{
    c->pg = PQconnectStartParams(c->conn_keys, c->conn_vals, 0);
    if (!c->pg)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory starting a connection");
    if (PQstatus(c->pg) == CONNECTION_BAD)
        return alch__error_from_conn(err, ALCH_EOPERATIONAL, c->pg, NULL);
    /* libpq wants us to wait for write-readiness before the first PQconnectPoll */
    int rc = arm(c, UV_WRITABLE, true);
    if (rc)
        return alch__error_set(err, ALCH_EOPERATIONAL, "cannot watch the socket: %s",
                               uv_strerror(rc));
    return 0;
}

static void on_resolved(alch_conn *c, int status, alch_error *err)
{
    conn_ref(c);
    if (status == 0)
        status = start_libpq(c, err);
    if (status)
        connect_done(c, status, err);
    conn_unref(c);
}

int alch__conn_start(alch_conn *c, alch_url *url, const char *const *extra_keys,
                     const char *const *extra_vals, int timeout_ms, alch_error *err)
{
    c->url = url;
    int rc = alch__url_libpq_params(url, extra_keys, extra_vals, &c->conn_keys, &c->conn_vals);
    if (rc) {
        destroy_now(c);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    if (timeout_ms > 0) { /* the timeout covers the name lookup too */
        if (ensure_timer(c) != 0) {
            destroy_now(c);
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        }
        uv_timer_start(c->timer, on_connect_timeout, (uint64_t)timeout_ms, 0);
        uv_timer_set_repeat(c->timer, (uint64_t)timeout_ms); /* remembered for the message */
    }
    rc = alch__resolve_start(c, on_resolved, err);
    if (rc == 0)
        rc = start_libpq(c, err);
    if (rc < 0) {
        destroy_now(c);
        return rc;
    }
    return 0; /* connecting (or looking names up first) */
}

/* connect_timeout in the URL is in seconds, as for libpq; we enforce it ourselves since
 * libpq only does so in its blocking connect. libpq treats 1 s as 2 s, and so do we. */
int alch__url_timeout_ms(const alch_url *url, int fallback_ms)
{
    const char *t = alch_url_query(url, "connect_timeout");
    if (!t)
        return fallback_ms > 0 ? fallback_ms : 0;
    int s = atoi(t);
    return s > 0 ? (s < 2 ? 2 : s) * 1000 : 0;
}

/* Why alch_conn_open_async() cannot start with what it was given, or 0. */
static int open_async_args(const uv_loop_t *loop, const char *url, alch_connect_cb cb,
                           alch_error *err)
{
    const char *missing = !loop ? "a loop" : !url ? "a URL" : !cb ? "a callback" : NULL;
    if (!missing)
        return 0;
    alch__error_set(err, ALCH_EMISUSE, "alch_conn_open_async needs %s", missing);
    alch__error_hint(err, "%s",
                     !loop  ? "pass the libuv loop the connection will run on, e.g. "
                              "uv_default_loop()"
                     : !url ? "e.g. postgresql://user@localhost/shop, or "
                              "getenv(\"ALCH_DATABASE_URL\")"
                            : "it is called once, with the connection or the error");
    return ALCH_EMISUSE;
}

int alch_conn_open_async(uv_loop_t *loop, const char *url_text, alch_connect_cb cb, void *data,
                         alch_error *err)
{
    int rc = open_async_args(loop, url_text, cb, err);
    if (rc)
        return rc;
    alch_url *url = NULL;
    if ((rc = alch_url_parse(url_text, &url, err)) != 0)
        return rc;
    alch_conn *c = alch__conn_new(loop, NULL);
    if (!c) {
        alch_url_free(url);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    c->connect_cb = cb;
    c->connect_data = data;
    return alch__conn_start(c, url, NULL, NULL,
                            alch__url_timeout_ms(url, ALCH_CONNECT_TIMEOUT_DEFAULT_MS), err);
}

typedef struct sync_wait {
    bool done;
    int status;
    alch_conn *conn;
    alch_result *res;
    alch_error *err;
} sync_wait;

void alch__conn_wait(uv_loop_t *loop, const bool *done)
{
    while (!*done)
        uv_run(loop, UV_RUN_ONCE);
}

static void sync_connected(alch_conn *conn, int status, const alch_error *err, void *data)
{
    sync_wait *w = data;
    w->done = true;
    w->status = status;
    w->conn = conn;
    if (status)
        alch__error_copy(w->err, err);
}

int alch_conn_open(const char *url_text, alch_conn **out, alch_error *err)
{
    if (!url_text || !out)
        return alch__error_set(err, ALCH_EMISUSE, "alch_conn_open needs a URL and an out pointer");
    alch_url *url = NULL;
    int rc = alch_url_parse(url_text, &url, err);
    if (rc)
        return rc;
    uv_loop_t *loop = malloc(sizeof *loop);
    if (!loop || uv_loop_init(loop) != 0) {
        free(loop);
        alch_url_free(url);
        return alch__error_set(err, ALCH_ENOMEM, "cannot create the private event loop");
    }
    alch_conn *c = alch__conn_new(loop, NULL);
    if (!c) {
        uv_loop_close(loop);
        free(loop);
        alch_url_free(url);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    sync_wait w = {.err = err};
    c->sync_face = true;
    c->connect_cb = sync_connected;
    c->connect_data = &w;
    rc = alch__conn_start(c, url, NULL, NULL,
                          alch__url_timeout_ms(url, ALCH_CONNECT_TIMEOUT_DEFAULT_MS), err);
    if (rc == 0) {
        alch__conn_wait(loop, &w.done);
        rc = w.status;
    }
    if (rc) {
        uv_run(loop, UV_RUN_DEFAULT);
        uv_loop_close(loop);
        free(loop);
        return rc;
    }
    w.conn->own_loop = loop;
    *out = w.conn;
    return 0;
}

/* ---- notifications (LISTEN/NOTIFY) ------------------------------------------------- */

/* Hand every notification libpq has read to the hook, then keep watching (or stop, for a
 * connection nobody listens on). */
static void deliver_notifies(alch_conn *c)
{
    if (!c->notify) {
        arm(c, UV_READABLE, false);
        return;
    }
    PGnotify *n;
    while (c->state == CONN_READY && !c->destroy_pending && c->notify &&
           (n = PQnotifies(c->pg)) != NULL) {
        c->notify(c, n->relname, n->extra, n->be_pid, c->notify_data);
        PQfreemem(n);
    }
    if (c->state == CONN_READY && !c->destroy_pending && !c->op)
        arm(c, UV_READABLE, false);
}

void alch__conn_set_notify(alch_conn *c, alch__notify_fn fn, void *data)
{
    c->notify = fn;
    c->notify_data = data;
    if (!c->op)
        deliver_notifies(c);
}

/* ---- liveness ---------------------------------------------------------------------- */

bool alch__conn_alive(alch_conn *c)
{
    if (c->state != CONN_READY || PQstatus(c->pg) != CONNECTION_OK)
        return false;
    /* An idle connection has nothing to read. If the socket is readable, the server has
     * spoken (a FATAL on shutdown) or hung up: read it now, without blocking. */
    for (int i = 0; i < 4; i++) {
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            return true;
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK)
            return false;
        if (c->reset_due || c->reset_sync) { /* the hand-back's ROLLBACK answering */
            reset_drain(c);
        } else {
            PGresult *r;
            while (!PQisBusy(c->pg) && (r = PQgetResult(c->pg)) != NULL)
                PQclear(r);
        }
        /* a FATAL with no statement running comes as a notice (on_notice keeps it): the
         * server is hanging up, even when the socket has not shown the end yet */
        if (c->state != CONN_READY || c->fatal.code)
            return false;
    }
    return c->state == CONN_READY && PQstatus(c->pg) == CONNECTION_OK;
}

/* ---- cancel and the client-side timeout --------------------------------------------- */

static void cancel_work(uv_work_t *w)
{
    alch__cancel *r = w->data;
    char errbuf[256];
    PQcancel(r->cancel, errbuf, sizeof errbuf); /* a failure shows as the query not ending */
}

static void start_waiting_op(alch_conn *c);
static int send_cancel(alch_conn *c);

/* The server cancels only a statement that is running when the request lands: one that
 * lands between two statements of the operation (its BEGIN, or before the statement is
 * read) is dropped. So while the operation goes on, ask again, a few times. */
enum { CANCEL_RETRY_MS = 100, CANCEL_TRIES = 20 };

static void on_cancel_retry(uv_timer_t *t)
{
    alch_conn *c = t->data;
    if (c && c->op && c->op->cancel && !c->cancel_req && c->op->cancel_tries < CANCEL_TRIES)
        send_cancel(c);
}

static void cancel_after(uv_work_t *w, int status)
{
    (void)status;
    alch__cancel *r = w->data;
    alch_conn *c = r->conn;
    PQfreeCancel(r->cancel);
    free(r);
    if (!c)
        return;
    c->cancel_req = NULL;
    if (c->op && c->op->cancel && !c->op->waiting && conn_timer(c, &c->ctimer))
        uv_timer_start(c->ctimer, on_cancel_retry, CANCEL_RETRY_MS, 0); /* still running */
    start_waiting_op(c);
}

/* Ask the server to cancel the running statement; `why` is how its failure is reported. */
static int request_cancel(alch_conn *c, int why)
{
    alch__op *op = c->op;
    if (op->cancel)
        return 0; /* already asked */
    int rc = send_cancel(c);
    if (rc == 0)
        op->cancel = why;
    return rc;
}

/* One cancel request, on the thread pool. */
static int send_cancel(alch_conn *c)
{
    alch__op *op = c->op;
    alch__cancel *r = calloc(1, sizeof *r);
    if (!r || !(r->cancel = PQgetCancel(c->pg))) {
        free(r);
        return ALCH_ENOMEM;
    }
    r->conn = c;
    r->work.data = r;
    if (uv_queue_work(c->loop, &r->work, cancel_work, cancel_after) != 0) {
        PQfreeCancel(r->cancel);
        free(r);
        return ALCH_ENOMEM;
    }
    op->cancel_tries++;
    c->cancel_req = r;
    return 0;
}

enum { CANCEL_GRACE_MS = 2000 };

static void on_query_timeout(uv_timer_t *t)
{
    alch_conn *c = t->data;
    if (!c || !c->op)
        return;
    conn_ref(c);
    if (!c->op->cancel) { /* first the polite way */
        if (request_cancel(c, ALCH_ETIMEOUT) == 0)
            uv_timer_start(c->qtimer, on_query_timeout, CANCEL_GRACE_MS, 0);
    } else { /* the server did not answer the cancel: give the connection up */
        alch_error err = ALCH_ERROR_INIT;
        alch__error_set(&err, ALCH_ETIMEOUT,
                        "the statement ran longer than %d ms "
                        "(query_timeout_ms) and the server did not answer the request to cancel "
                        "it: the connection was given up",
                        c->cfg.query_timeout_ms);
        mark_broken(c);
        alch__op_finish(c, ALCH_ETIMEOUT, &err);
        alch_error_clear(&err);
    }
    conn_unref(c);
}

/* Nothing must go before the operation's statements: no cancel request on its way (it could
 * hit them), no parked ROLLBACK still to answer (they must not run if it failed). */
static bool can_send(const alch_conn *c)
{
    return !c->cancel_req && !c->reset_sync;
}

/* An operation is about to send: start its timeout. Returns false when it must wait (see
 * can_send); start_waiting_op() sends it later. */
bool alch__op_begin(alch_conn *c)
{
    if (c->cfg.query_timeout_ms > 0 && conn_timer(c, &c->qtimer))
        uv_timer_start(c->qtimer, on_query_timeout, (uint64_t)c->cfg.query_timeout_ms, 0);
    if (!can_send(c)) {
        c->op->waiting = true;
        arm(c, UV_READABLE, false); /* the poll keeps the loop alive while it waits */
        return false;
    }
    return true;
}

static void start_waiting_op(alch_conn *c)
{
    if (!c->op || !c->op->waiting || !can_send(c))
        return;
    c->op->waiting = false;
    conn_ref(c);
    if (c->op->batch)
        alch__batch_start(c);
    else
        op_send(c);
    conn_unref(c);
}

int alch_conn_cancel(alch_conn *c)
{
    if (!c)
        return ALCH_EMISUSE; /* no connection: nowhere to leave a sentence */
    alch_error *err = &c->start_err;
    alch_error_clear(err);
    if (!c->op || !c->pg) {
        alch__error_set(err, ALCH_EMISUSE,
                        "alch_conn_cancel: nothing runs on this connection, so there is "
                        "nothing to cancel");
        alch__error_hint(err, "call it while an *_async call's statement runs, before its "
                              "callback (from a timer, for instance); for a time limit on "
                              "every statement, set query_timeout_ms in the engine's options");
        return ALCH_EMISUSE;
    }
    int rc = request_cancel(c, ALCH_ECANCELED);
    if (rc)
        alch__error_set(err, rc,
                        "alch_conn_cancel: out of memory while sending the cancel "
                        "request (the statement goes on)");
    return rc;
}

/* A statement we asked to cancel fails with SQLSTATE 57014: say why, in our words. */
static int cancel_status(alch_conn *c, const alch__op *op, int status, alch_error *err)
{
    if (!status || !op->cancel || strcmp(err->sqlstate, "57014") != 0)
        return status;
    if (op->cancel == ALCH_ETIMEOUT)
        alch__error_set(err, ALCH_ETIMEOUT,
                        "the statement ran longer than %d ms "
                        "(query_timeout_ms) and was cancelled",
                        c->cfg.query_timeout_ms);
    else
        alch__error_set(err, ALCH_ECANCELED, "the statement was cancelled (alch_conn_cancel)");
    memcpy(err->sqlstate, "57014", 6);
    return op->cancel;
}

/* ---- running statements ------------------------------------------------------------ */

void alch__cache_remove(alch_conn *c, int i)
{
    free(c->cache[i].sql);
    c->cache[i] = c->cache[--c->cache_len];
}

void alch__stmt_name(alch_conn *c, alch__stmt *s)
{
    while (c->stmt_tag == 0) {
        if (uv_random(NULL, NULL, &c->stmt_tag, sizeof c->stmt_tag, 0, NULL) != 0) {
            static unsigned counter; /* no random bytes: pid, time and a counter */
            c->stmt_tag = ((uint64_t)getpid() << 40) ^ uv_hrtime() ^ ++counter;
        }
    }
    snprintf(s->name, sizeof s->name, "alch_%016llx_%u", (unsigned long long)c->stmt_tag,
             ++c->next_stmt_id);
}

bool alch__cache_on(const alch_conn *c)
{
    return c->cfg.cache_size > 0 && !(c->cfg.cache_off && *c->cfg.cache_off);
}

/* err's message becomes before + the message + after. */
static void error_wrap(alch_error *err, const char *before, const char *after)
{
    alch__buf b = ALCH__BUF_INIT;
    alch__buf_printf(&b, "%s%s%s", before, err->message ? err->message : "no message", after);
    free(err->message);
    err->message = alch__buf_finish(&b);
}

void alch__cache_vanished(alch_conn *c, alch_error *err)
{
    bool ours = err->message && strstr(err->message, "prepared statement \"alch_");
    if (!ours || (strcmp(err->sqlstate, "42P05") != 0 && strcmp(err->sqlstate, "26000") != 0))
        return;
    while (c->cache_len) /* none of them can be trusted now */
        alch__cache_remove(c, c->cache_len - 1);
    error_wrap(err, "",
               ": the server connection changed between two statements, as it does "
               "behind PgBouncer in transaction mode, where prepared statements cannot "
               "be kept");
    alch__error_hint(err, "set statement_cache_size = 0 in the engine options when you "
                          "connect through PgBouncer (pool_mode = transaction); alch has turned "
                          "the cache off for this engine meanwhile");
    if (c->cfg.cache_off && !*c->cfg.cache_off) {
        *c->cfg.cache_off = true;
        alch__echo_line(c->cfg.echo, "statement cache off for this engine: prepared statements "
                                     "vanish behind a transaction-mode pooler such as PgBouncer "
                                     "(set statement_cache_size = 0)");
    }
}

alch__stmt *alch__cache_find(alch_conn *c, const char *sql, const alch__params *p,
                             bool pending_ok)
{
    uint64_t h = alch__hash_str(sql), th = alch__params_typehash(p);
    for (int i = 0; i < c->cache_len; i++) {
        alch__stmt *s = &c->cache[i];
        if (s->hash == h && s->typehash == th && (s->ready || (pending_ok && s->pending)) &&
            strcmp(s->sql, sql) == 0) {
            s->last_used = ++c->cache_tick;
            return s;
        }
    }
    return NULL;
}

alch__stmt *alch__cache_add(alch_conn *c, const char *sql, const alch__params *p,
                            uint64_t keep_tick, char dealloc[ALCH__DEALLOC_MAX], int *rc)
{
    *rc = ALCH_ENOMEM;
    dealloc[0] = '\0';
    if (!c->cache && !(c->cache = calloc((size_t)c->cfg.cache_size, sizeof *c->cache)))
        return NULL;
    if (c->cache_len == c->cfg.cache_size) { /* evict the least recently used */
        int lru = 0;
        for (int i = 1; i < c->cache_len; i++)
            if (c->cache[i].last_used < c->cache[lru].last_used)
                lru = i;
        if (c->cache[lru].last_used >= keep_tick || c->cache[lru].pending) {
            *rc = 0; /* every entry is still needed: run this one unprepared */
            return NULL;
        }
        snprintf(dealloc, ALCH__DEALLOC_MAX, "DEALLOCATE %s", c->cache[lru].name);
        alch__cache_remove(c, lru);
    }
    alch__stmt *s = &c->cache[c->cache_len];
    memset(s, 0, sizeof *s);
    if (!(s->sql = alch__strdup(sql)))
        return NULL;
    s->hash = alch__hash_str(sql);
    s->typehash = alch__params_typehash(p);
    s->last_used = ++c->cache_tick;
    alch__stmt_name(c, s);
    c->cache_len++;
    *rc = 0;
    return s;
}

static void plan_direct(alch__op *op)
{
    op->how = "direct";
    op->steps[op->nsteps++] = (alch__step){STEP_SQL, op->sql, NULL, op->sql, true};
}

/* Find or make the cache entry for this statement; plan the steps accordingly. */
static int plan_cached(alch_conn *c, alch__op *op)
{
    alch__stmt *s = alch__cache_find(c, op->sql, &op->params, false);
    if (s) {
        op->how = "cached";
        const alch__rows *rows = &op->rows;
        op->binary = rows->binary_ok && (s->binary_for == rows->owner ||
                                         (rows->try_first && s->text_for != rows->owner));
        if (rows->binary_ok && s->binary_for != rows->owner)
            op->learn_slot = (int)(s - c->cache);
        op->steps[op->nsteps++] = (alch__step){STEP_EXEC_PREPARED, NULL, s->name, op->sql, true};
        return 0;
    }
    int rc;
    s = alch__cache_add(c, op->sql, &op->params, UINT64_MAX, op->dealloc_sql, &rc);
    if (!s) {
        if (rc == 0) /* every entry is being prepared by a pipeline: not this time */
            plan_direct(op);
        return rc;
    }
    if (op->dealloc_sql[0])
        op->steps[op->nsteps++] = (alch__step){STEP_SQL, op->dealloc_sql, NULL, NULL, false};
    op->cache_slot = (int)(s - c->cache);
    if (op->rows.binary_ok) {
        op->learn_slot = op->cache_slot;
        op->binary = op->rows.try_first;
    }
    op->how = "prepared";
    op->steps[op->nsteps++] = (alch__step){STEP_PREPARE, op->sql, s->name, op->sql, false};
    op->steps[op->nsteps++] = (alch__step){STEP_EXEC_PREPARED, NULL, s->name, NULL, true};
    return 0;
}

static int check_usable(alch_conn *c, bool async, alch_error *err)
{
    if (!c)
        return alch__error_set(err, ALCH_EMISUSE, "no connection (NULL)");
    if (c->state == CONN_CLOSED || c->closing)
        return alch__error_set(err, ALCH_ECLOSED, "this connection is closed");
    if (c->state == CONN_BROKEN || !c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        alch__error_set(err, ALCH_EOPERATIONAL, "the connection to the server was lost");
        alch__error_hint(err, "close it with alch_conn_close() and check out a new one");
        return ALCH_EOPERATIONAL;
    }
    if (c->op) {
        alch__error_set(err, ALCH_EBUSY,
                        "this connection is already running a query: one connection per task");
        alch__error_hint(err, "wait for the callback of the running query, or check out "
                              "another connection from the engine");
        return ALCH_EBUSY;
    }
    if (async && c->sync_face) {
        alch__error_set(err, ALCH_EMISUSE,
                        "this connection runs on a private loop: use the sync calls");
        alch__error_hint(err,
                         "for async calls create the engine with "
                         "alch_engine_create_on_loop(loop, ...) or use alch_conn_open_async()");
        return ALCH_EMISUSE;
    }
    if (!async && !c->sync_face) {
        alch__error_set(err, ALCH_EMISUSE,
                        "this connection runs on your libuv loop: use the *_async calls");
        alch__error_hint(err, "for sync calls create the engine with alch_engine_create()");
        return ALCH_EMISUSE;
    }
    return 0;
}

static void add_autobegin(alch_conn *c, alch__op *op)
{
    if (c->cfg.autobegin && alch__tx_status(c) == PQTRANS_IDLE)
        op->steps[op->nsteps++] =
            (alch__step){STEP_SQL, c->cfg.begin_sql ? c->cfg.begin_sql : "BEGIN", NULL,
                         "BEGIN (implicit)", false};
}

static void op_start(alch_conn *c, alch__op *op)
{
    c->op = op;
    op->cur = 0;
    if (alch__op_begin(c))
        op_send(c);
}

static void on_deferred(uv_timer_t *t)
{
    alch_conn *c = t->data;
    if (!c || !c->op)
        return;
    conn_ref(c);
    alch__op_finish(c, 0, NULL);
    conn_unref(c);
}

int alch__conn_exec(alch_conn *c, const char *sql, const alch_value *params, size_t n,
                    alch_exec_cb cb, void *data, alch_error *err)
{
    return alch__conn_exec_rows(c, sql, params, n, NULL, cb, data, err);
}

int alch__conn_exec_rows(alch_conn *c, const char *sql, const alch_value *params, size_t n,
                         const alch__rows *rows, alch_exec_cb cb, void *data, alch_error *err)
{
    if (!sql || (n && !params))
        return alch__error_set(err, ALCH_EMISUSE, "alch_conn_execute_text needs SQL text%s",
                               n ? " and the parameter array" : "");
    alch__op *op = alch__op_new(c);
    if (!op)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    op->cache_slot = -1;
    op->learn_slot = -1;
    if (rows)
        op->rows = *rows;
    op->cb = cb;
    op->data = data;
    op->user_stmt = true;
    size_t *order = NULL, norder = 0;
    int rc = alch__params_rewrite(sql, params, n, &op->sql, &order, &norder, err);
    if (rc == 0)
        rc = alch__params_encode(&op->params, params, n, order, norder, err);
    free(order);
    if (rc) {
        alch__op_free(c, op);
        return rc;
    }
    add_autobegin(c, op);
    if (alch__cache_on(c)) {
        rc = plan_cached(c, op);
        if (rc) {
            alch__op_free(c, op);
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        }
    } else {
        plan_direct(op);
    }
    op_start(c, op);
    return 0;
}

int alch__conn_simple(alch_conn *c, const char *sql, const char *echo, int savepoint_delta,
                      bool commit_on_failed, alch_exec_cb cb, void *data, alch_error *err)
{
    alch__op *op = alch__op_new(c);
    if (!op)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    op->cache_slot = -1;
    op->cb = cb;
    op->data = data;
    op->savepoint_delta = savepoint_delta;
    op->commit_on_failed = commit_on_failed;
    if (sql) {
        snprintf(op->tx_sql, sizeof op->tx_sql, "%s", sql);
        op->steps[op->nsteps++] = (alch__step){STEP_SQL, op->tx_sql, NULL,
                                               echo     ? echo
                                               : sql[0] ? op->tx_sql
                                                        : NULL,
                                               false};
    }
    if (op->nsteps == 0) { /* nothing to send: complete on the next loop turn, not now */
        if (ensure_timer(c) != 0) {
            alch__op_free(c, op);
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        }
        c->op = op;
        uv_timer_start(c->timer, on_deferred, 0, 0);
        return 0;
    }
    op_start(c, op);
    return 0;
}

/* Flush what libpq buffered and watch the socket for what comes next. */
int alch__conn_flush_arm(alch_conn *c)
{
    int f = PQflush(c->pg);
    if (f < 0)
        return -1;
    return arm(c, f == 1 ? (UV_READABLE | UV_WRITABLE) : UV_READABLE, false) ? -1 : 0;
}

/* A FATAL (or PANIC) the server sent before hanging up: it carries the real reason. */
static bool is_fatal(const PGresult *r)
{
    const char *sev = r ? PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    return sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0);
}

/* The server's own reason for hanging up, when it gave one (57P01 "terminating connection
 * due to administrator command" on pg_terminate_backend or a fast shutdown): from a result
 * the operation already holds, or from what is left in the socket. */
static bool fatal_reason(alch_conn *c, alch_error *err)
{
    const PGresult *held = NULL;
    if (c->op)
        held = c->op->batch ? alch__batch_error(c->op->batch) : c->op->error;
    if (is_fatal(held)) {
        alch__error_from_result(err, held);
        return true;
    }
    if (c->fatal.code)
        return alch__error_copy(err, &c->fatal) == 0;
    bool found = false;
    /* the FATAL may sit behind many results still in the socket: read it all, bounded */
    for (int round = 0; c->pg && !found && round < 100000; round++) {
        int fd = PQsocket(c->pg);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        bool more = round == 0 || (fd >= 0 && poll(&p, 1, 0) > 0);
        if (!more || !PQconsumeInput(c->pg))
            more = false;
        int nulls = 0; /* in pipeline mode a NULL ends one query's results, two end them all */
        for (int i = 0; i < 1000000 && nulls < 2 && !PQisBusy(c->pg); i++) {
            PGresult *r = PQgetResult(c->pg);
            if (!r) {
                nulls++;
                continue;
            }
            nulls = 0;
            if (!found && is_fatal(r)) {
                alch__error_from_result(err, r);
                found = true;
            }
            PQclear(r);
        }
        if (!more)
            break;
    }
    return found;
}

/* The connection is lost: say why in the server's words, or libpq's, never the socket's. */
static void lost_reason(alch_conn *c, const char *what, alch_error *err)
{
    if (fatal_reason(c, err)) {
        err->code = ALCH_EOPERATIONAL; /* 57P01 maps there already; a PANIC may not */
        alch__error_hint(err, "the server ended this connection; close it and check out "
                              "another (the pool opens a new one)");
        return;
    }
    const char *msg = c->pg ? PQerrorMessage(c->pg) : NULL;
    if (msg && strstr(msg, "server closed the connection unexpectedly")) {
        alch__error_set(err, ALCH_EOPERATIONAL,
                        "the server closed the connection unexpectedly: its process ended "
                        "before or while running the request (killed, crashed, or the server "
                        "stopped without a word)");
        alch__error_hint(err, "the server log says why; close this connection and check out "
                              "another (the pool opens a new one)");
        return;
    }
    alch__error_from_conn(err, ALCH_EOPERATIONAL, c->pg, what);
}

void alch__conn_fail(alch_conn *c, const char *what)
{
    alch_error err = ALCH_ERROR_INIT;
    lost_reason(c, what, &err);
    mark_broken(c);
    alch__op_finish(c, ALCH_EOPERATIONAL, &err);
    alch_error_clear(&err);
}

/* Echo and send step i of the operation; false when libpq could not queue it. */
static bool send_step(alch_conn *c, int i)
{
    alch__op *op = c->op;
    const alch__step *s = &op->steps[i];
    const alch__params *p = &op->params;
    if (s->echo) {
        alch__echo_line(c->cfg.echo, "%s", s->echo);
        if (op->user_stmt)
            op->started = uv_hrtime();
    }
    int ok;
    switch (s->kind) {
    case STEP_PREPARE:
        ok = PQsendPrepare(c->pg, s->name, s->sql, p->n, p->types);
        break;
    case STEP_EXEC_PREPARED:
        ok = PQsendQueryPrepared(c->pg, s->name, p->n, p->values, p->lengths, p->formats,
                                 op->binary);
        break;
    default:
        ok = s->with_params ? PQsendQueryParams(c->pg, s->sql, p->n, p->types, p->values,
                                                p->lengths, p->formats, 0)
                            : PQsendQueryParams(c->pg, s->sql, 0, NULL, NULL, NULL, NULL, 0);
        break;
    }
    return ok;
}

static void op_run_step(alch_conn *c)
{
    if (!send_step(c, c->op->cur) || alch__conn_flush_arm(c) != 0)
        alch__conn_fail(c, "could not send the statement");
}

/* An operation of several steps (BEGIN (implicit), PREPARE, EXECUTE) sends them together in
 * one pipeline ended by one Sync: one round trip instead of one per step. The echo is the
 * same, line by line; a failed step makes the server skip the rest (piped_io). */
static void op_send(alch_conn *c)
{
    alch__op *op = c->op;
    if (op->nsteps < 2 && !c->reset_open) {
        op_run_step(c);
        return;
    }
    op->piped = true;
    op->failed_step = -1;
    bool ok = PQenterPipelineMode(c->pg);
    alch__reset_join(c); /* behind the hand-back's ROLLBACK, in its pipeline */
    for (int i = 0; ok && i < op->nsteps; i++)
        ok = send_step(c, i);
    if (!ok || !PQpipelineSync(c->pg) || alch__conn_flush_arm(c) != 0)
        alch__conn_fail(c, "could not send the statement");
}

/* op->error came back for step op->cur: finish the operation with it. */
static void step_failed(alch_conn *c)
{
    alch__op *op = c->op;
    alch_error err = ALCH_ERROR_INIT;
    int code = alch__error_from_result(&err, op->error);
    /* its PREPARE failed, or never ran (a BEGIN before it failed): not a statement we have */
    if (op->cache_slot >= 0 && !c->cache[op->cache_slot].ready) {
        alch__cache_remove(c, op->cache_slot);
        op->cache_slot = -1;
    }
    if (strcmp(err.sqlstate, "26000") == 0) /* our prepared statements vanished */
        while (c->cache_len)
            alch__cache_remove(c, c->cache_len - 1);
    alch__cache_vanished(c, &err);
    if (strcmp(err.sqlstate, "25P02") == 0)
        alch__error_hint(&err, "an earlier statement in this transaction failed: call "
                               "alch_conn_rollback() before running more statements");
    alch__op_finish(c, code, &err);
    alch_error_clear(&err);
}

/* One step's results are all in: move on, or finish the operation. */
static void step_done(alch_conn *c)
{
    alch__op *op = c->op;
    alch__step *s = &op->steps[op->cur];
    if (op->error) {
        step_failed(c);
        return;
    }
    if (s->kind == STEP_PREPARE && op->cache_slot >= 0)
        c->cache[op->cache_slot].ready = true;
    if (++op->cur < op->nsteps) {
        PQclear(op->last);
        op->last = NULL;
        op_run_step(c);
        return;
    }
    alch__op_finish(c, 0, NULL);
}

static void absorb(alch_conn *c, PGresult *r)
{
    alch__op *op = c->op;
    switch (PQresultStatus(r)) {
    case PGRES_FATAL_ERROR:
        if (!op->error)
            op->error = r;
        else
            PQclear(r);
        return;
    case PGRES_COPY_IN:
        /* COPY needs its own API; end it so the protocol stays in step */
        PQputCopyEnd(c->pg, "COPY is not supported through alch_conn_execute_text");
        PQclear(r);
        return;
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
        PQclear(r);
        mark_broken(c);
        return;
    default:
        PQclear(op->last);
        op->last = r;
        return;
    }
}

/* A piped operation's answers: each step's results end with a NULL, skipped steps come as
 * PGRES_PIPELINE_ABORTED, and the Sync's result ends the operation. */
static void piped_io(alch_conn *c)
{
    alch__op *op = c->op;
    while (c->op == op && !c->destroy_pending && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) { /* the end of one step's answers */
            if (op->cur >= op->nsteps)
                break;
            const alch__step *s = &op->steps[op->cur];
            if (s->kind == STEP_PREPARE && op->cache_slot >= 0 && op->failed_step != op->cur)
                c->cache[op->cache_slot].ready = true;
            op->cur++;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            PQexitPipelineMode(c->pg);
            if (!op->error) {
                alch__op_finish(c, 0, NULL);
                return;
            }
            op->cur = op->failed_step;
            step_failed(c);
            return;
        }
        if (st == PGRES_PIPELINE_ABORTED) {
            PQclear(r);
            continue;
        }
        if (st == PGRES_FATAL_ERROR && !op->error)
            op->failed_step = op->cur;
        absorb(c, r);
        if (c->state == CONN_BROKEN) {
            alch__conn_fail(c, "unsupported COPY");
            return;
        }
    }
}

static void on_io(uv_poll_t *handle, int status, int events)
{
    alch_conn *c = handle->data;
    if (!c)
        return;
    conn_ref(c);
    if (c->state == CONN_CONNECTING) {
        if (c->pinning)
            pin_step(c);
        else
            connect_step(c);
        goto out;
    }
    if (!c->op) { /* idle: a notification, or the server spoke on its own (shutdown, hang-up) */
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK) {
            mark_broken(c);
            if (c->notify)
                c->notify(c, NULL, NULL, 0, c->notify_data);
        } else {
            if (c->reset_due || c->reset_sync)
                reset_drain(c);
            if (c->state == CONN_READY)
                deliver_notifies(c);
        }
        goto out;
    }
    if (status < 0) { /* libuv reports POLLERR (a hang-up) as UV_EBADF: ask libpq why */
        alch__conn_fail(c, "the connection to the server was lost");
        goto out;
    }
    if ((events & UV_READABLE) && !PQconsumeInput(c->pg)) {
        alch__conn_fail(c, NULL);
        goto out;
    }
    if (alch__conn_flush_arm(c) != 0) {
        alch__conn_fail(c, "could not send the statement");
        goto out;
    }
    /* the hand-back's ROLLBACK answers first; a waiting operation may start (or fail) here */
    if ((c->reset_due || c->reset_sync) && !reset_drain(c))
        goto out;
    if (!c->op || c->op->waiting || c->destroy_pending)
        goto out;
    if (c->op->batch) {
        alch__batch_io(c);
        goto out;
    }
    if (c->op->piped) {
        piped_io(c);
        goto out;
    }
    /* Bytes already read by libpq will not wake the poll again: drain all results now. */
    while (c->op && !c->destroy_pending && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) { /* this step is complete; the next one (if any) was just sent */
            step_done(c);
            break;
        }
        absorb(c, r);
        if (c->state == CONN_BROKEN) {
            alch__conn_fail(c, "unsupported COPY");
            break;
        }
    }
out:
    conn_unref(c);
}

/* A cached statement's answer to an owner of alch__conn_exec_rows whose verdict it has not
 * kept: may its next answers to that owner come in binary? */
static void learn_binary(alch_conn *c, const alch__op *op, const alch_result *res)
{
    const alch__step *last = &op->steps[op->nsteps - 1];
    alch__stmt *s = op->learn_slot < c->cache_len ? &c->cache[op->learn_slot] : NULL;
    if (!s || last->kind != STEP_EXEC_PREPARED || strcmp(s->name, last->name) != 0 ||
        alch_result_columns(res) == 0)
        return;
    if (op->rows.binary_ok(res, op->rows.owner))
        s->binary_for = op->rows.owner;
    else
        s->text_for = op->rows.owner;
}

static int reset_failure(alch_conn *c, alch_error *err);

void alch__op_finish(alch_conn *c, int status, const alch_error *err)
{
    alch__op *op = c->op;
    c->op = NULL;
    if (c->qtimer)
        uv_timer_stop(c->qtimer);
    if (c->ctimer)
        uv_timer_stop(c->ctimer);
    alch_error reset_err = ALCH_ERROR_INIT;
    if (c->reset_error) { /* the server skipped this operation: say why, give the connection up */
        status = reset_failure(c, &reset_err);
        err = &reset_err;
    }
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK)
        mark_broken(c);
    else if (c->state == CONN_READY)
        arm(c, UV_READABLE, false);
    char *params = NULL;
    if (op->user_stmt && (status != 0 || (c->cfg.echo && c->cfg.echo->on)))
        params = alch__params_render(&op->params);
    if (op->user_stmt) {
        double ms = (double)(uv_hrtime() - op->started) / 1e6;
        alch__echo_line(c->cfg.echo, "[%s, %.3f ms] %s", status ? "failed" : op->how, ms,
                        params ? params : "()");
    }
    if (c->pg && alch__tx_status(c) == PQTRANS_IDLE)
        c->savepoints = 0;
    else if (status == 0)
        c->savepoints += op->savepoint_delta;

    alch_error local = ALCH_ERROR_INIT;
    if (status == 0 && op->commit_on_failed) {
        status = alch__error_set(&local, ALCH_EINTERNAL,
                                 "cannot commit: an earlier statement in this transaction "
                                 "failed, so the transaction was rolled back");
        alch__error_hint(&local, "check the error of the statement that failed first");
        err = &local;
    } else if (status != 0) {
        alch__error_copy(&local, err);
        status = cancel_status(c, op, status, &local);
        if (op->user_stmt)
            alch__error_statement(&local, op->sql, params);
        err = &local;
    }
    alch_result *res = NULL;
    if (status == 0 && op->last && op->user_stmt) { /* BEGIN/COMMIT/... bring no result */
        res = alch__result_wrap(op->last);
        op->last = NULL;
        if (!res) {
            status = alch__error_set(&local, ALCH_ENOMEM, "out of memory");
            err = &local;
        }
    }
    if (res && op->rows.binary_ok && op->learn_slot >= 0)
        learn_binary(c, op, res);
    alch_exec_cb cb = op->cb;
    void *data = op->data;
    alch__op_free(c, op);
    free(params);
    conn_ref(c);
    if (cb)
        cb(c, status, res, status ? err : NULL, data);
    else
        alch_result_free(res);
    alch_error_clear(&local);
    alch_error_clear(&reset_err);
    if (c->notify && !c->op) /* notifications may have come with the results */
        deliver_notifies(c);
    conn_unref(c);
}

/* ---- the ROLLBACK of a hand-back (driver.h: alch__conn_reset) ------------------------ */

PGTransactionStatusType alch__tx_status(const alch_conn *c)
{
    if (!c || !c->pg)
        return PQTRANS_UNKNOWN;
    if (c->reset_open || c->reset_sync || (c->reset_due && !c->op))
        return PQTRANS_IDLE; /* what the next statement meets once the ROLLBACK has run */
    return PQtransactionStatus(c->pg);
}

int alch__conn_reset(alch_conn *c)
{
    alch__echo_line(c->cfg.echo, "ROLLBACK");
    /* no Sync: the server runs a ROLLBACK as soon as it reads it (a transaction-control
     * statement ends its own transaction command). Not sent yet either: a borrower waiting
     * for this connection gets it inside the hand-back, and its statements leave with the
     * ROLLBACK in one write (the server flushes one answer); otherwise the pool parks it
     * (a Sync) or alch_conn_close() sends it on its way out (reset_send) */
    /* a cancel request still on its way could hit the ROLLBACK: give the connection up */
    if (c->op || c->state != CONN_READY || c->reset_due || c->reset_sync || c->cancel_req ||
        !PQenterPipelineMode(c->pg) ||
        !PQsendQueryParams(c->pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0)) {
        mark_broken(c);
        return ALCH_EOPERATIONAL;
    }
    c->reset_due = c->reset_open = c->reset_unsent = true;
    c->savepoints = 0;
    return 0;
}

void alch__reset_join(alch_conn *c)
{
    c->reset_open = false; /* the joining operation's Sync ends the pipeline */
    c->reset_unsent = false; /* and its flush sends both */
}

/* The hand-back is over and nobody sent the ROLLBACK with statements of their own (the
 * borrower keeps the connection without a statement yet): it leaves now, so the server
 * releases the transaction's locks, with a Flush for its answer. */
static void reset_send(alch_conn *c)
{
    if (!c->reset_unsent || c->destroy_pending || c->state != CONN_READY)
        return;
    c->reset_unsent = false;
    if (!PQsendFlushRequest(c->pg) || alch__conn_flush_arm(c) != 0)
        mark_broken(c);
}

int alch__conn_park(alch_conn *c)
{
    if (!c->reset_open)
        return 0;
    c->reset_open = c->reset_unsent = false;
    if (c->state != CONN_READY || !PQpipelineSync(c->pg) || alch__conn_flush_arm(c) != 0) {
        mark_broken(c);
        return ALCH_EOPERATIONAL;
    }
    c->reset_sync = true;
    return 0;
}

/* Read what has come of the hand-back's ROLLBACK: its result, then (parked) its Sync, after
 * which an operation waiting for it is sent, or fails when the ROLLBACK failed. Returns true
 * when nothing of it is due any more: what follows belongs to the operation that joined it. */
static bool reset_drain(alch_conn *c)
{
    while (c->reset_due && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            c->reset_due = false;
            break;
        }
        if (PQresultStatus(r) == PGRES_FATAL_ERROR && !c->reset_error)
            c->reset_error = r;
        else
            PQclear(r);
    }
    while (!c->reset_due && c->reset_sync && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r)
            break; /* its Sync has not come yet */
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            c->reset_sync = false;
            PQexitPipelineMode(c->pg);
        }
        PQclear(r);
    }
    if (c->reset_due || c->reset_sync)
        return false;
    if (c->reset_error && !c->reset_open && c->op && c->op->waiting)
        alch__op_finish(c, ALCH_EOPERATIONAL, NULL); /* parked and failed: the sentence */
    else if (c->reset_error && !c->reset_open && !c->op)
        mark_broken(c); /* parked and failed: the pool gives the connection up */
    else
        start_waiting_op(c);
    return true;
}

/* The ROLLBACK of the hand-back failed: the server skipped what followed it (or it never
 * left). The sentence for the operation; the connection is given up. */
static int reset_failure(alch_conn *c, alch_error *err)
{
    alch__error_from_result(err, c->reset_error);
    PQclear(c->reset_error);
    c->reset_error = NULL;
    error_wrap(err,
               "the ROLLBACK that ended the previous borrower's transaction on this "
               "connection failed (",
               "): none of this operation's statements ran, and the connection was given up");
    alch__error_hint(err, "run it again on another connection: the pool opens a new one");
    err->code = ALCH_EOPERATIONAL;
    mark_broken(c);
    return ALCH_EOPERATIONAL;
}

/* ---- public: execute --------------------------------------------------------------- */

int alch_conn_execute_text_async(alch_conn *c, const char *sql, const alch_value *params,
                                 size_t nparams, alch_exec_cb cb, void *data)
{
    alch_error *err = c ? &c->start_err : NULL;
    int rc = check_usable(c, true, err);
    if (rc)
        return rc;
    if (!cb)
        return alch__error_set(err, ALCH_EMISUSE, "an async call needs a callback");
    return alch__conn_exec(c, sql, params, nparams, cb, data, err);
}

static void sync_done(alch_conn *conn, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    sync_wait *w = data;
    w->done = true;
    w->status = status;
    w->res = res;
    if (status)
        alch__error_copy(w->err, err);
}

int alch_conn_execute_text(alch_conn *c, const char *sql, const alch_value *params, size_t nparams,
                           alch_result **res, alch_error *err)
{
    int rc = check_usable(c, false, err);
    if (rc)
        return rc;
    sync_wait w = {.err = err};
    rc = alch__conn_exec(c, sql, params, nparams, sync_done, &w, err);
    if (rc)
        return rc;
    alch__conn_wait(c->loop, &w.done);
    if (res)
        *res = w.res;
    else
        alch_result_free(w.res);
    return w.status;
}

/* ---- public: execute many (a pipelined batch) ------------------------------------------ */

typedef struct many_ctx {
    const char *sql;
    const alch_value *params;
    size_t nparams;
    alch_exec_cb cb; /* the async caller's */
    void *data;
    alch__inputs in; /* the async face's copies of sql and params */
} many_ctx;

static int many_next(void *ctx, size_t i, alch__batch_item *out, alch_error *err)
{
    (void)err;
    many_ctx *m = ctx;
    *out = (alch__batch_item){m->sql, m->params + i * m->nparams, m->nparams};
    return 0;
}

static int check_many(const char *sql, const alch_value *params, size_t nparams, size_t nrows,
                      alch_error *err)
{
    if (!sql || (nparams && nrows && !params))
        return alch__error_set(err, ALCH_EMISUSE, "alch_conn_execute_text_many needs SQL text%s",
                               nparams ? " and the values" : "");
    for (size_t i = 0; i < nparams * nrows; i++)
        if (params[i].name)
            return alch__error_set(err, ALCH_EARGUMENT,
                                   "alch_conn_execute_text_many takes $n "
                                   "placeholders, not named values");
    return 0;
}

int alch_conn_execute_text_many(alch_conn *c, const char *sql, const alch_value *params,
                                size_t nparams, size_t nrows, alch_error *err)
{
    int rc = check_usable(c, false, err);
    if (rc == 0)
        rc = check_many(sql, params, nparams, nrows, err);
    if (rc)
        return rc;
    if (nrows == 0)
        return 0;
    many_ctx m = {sql, params, nparams, NULL, NULL, {NULL, NULL, 0}};
    sync_wait w = {.err = err};
    rc = alch__conn_batch(c, nrows, many_next, NULL, &m, sync_done, &w, err);
    if (rc)
        return rc;
    alch__conn_wait(c->loop, &w.done);
    alch_result_free(w.res);
    return w.status;
}

static void many_done(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    many_ctx *m = data;
    alch_exec_cb cb = m->cb;
    void *user = m->data;
    alch__inputs_free(&m->in);
    free(m);
    cb(c, status, res, err, user);
}

int alch_conn_execute_text_many_async(alch_conn *c, const char *sql, const alch_value *params,
                                      size_t nparams, size_t nrows, alch_exec_cb cb, void *data)
{
    alch_error *err = c ? &c->start_err : NULL;
    int rc = check_usable(c, true, err);
    if (rc == 0)
        rc = check_many(sql, params, nparams, nrows, err);
    if (rc == 0 && !cb)
        rc = alch__error_set(err, ALCH_EMISUSE, "an async call needs a callback");
    if (rc)
        return rc;
    alch__inputs in;
    if ((rc = alch__inputs_copy(&in, sql, params, nparams * nrows, err)) != 0)
        return rc;
    many_ctx *m = malloc(sizeof *m);
    if (!m) {
        alch__inputs_free(&in);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    *m = (many_ctx){in.sql, in.params, nparams, cb, data, in};
    if (nrows == 0) /* nothing to send: an empty pipeline still answers on the loop */
        rc = alch__conn_simple(c, NULL, NULL, 0, false, many_done, m, err);
    else
        rc = alch__conn_batch(c, nrows, many_next, NULL, m, many_done, m, err);
    if (rc) {
        alch__inputs_free(&m->in);
        free(m);
    }
    return rc;
}

/* Helpers for tx.c: run a transaction-control statement through either face. */
int alch__conn_simple_sync(alch_conn *c, const char *sql, const char *echo, int sp_delta,
                           bool commit_on_failed, alch_error *err);
int alch__conn_simple_sync(alch_conn *c, const char *sql, const char *echo, int sp_delta,
                           bool commit_on_failed, alch_error *err)
{
    int rc = check_usable(c, false, err);
    if (rc)
        return rc;
    sync_wait w = {.err = err};
    rc = alch__conn_simple(c, sql, echo, sp_delta, commit_on_failed, sync_done, &w, err);
    if (rc)
        return rc;
    alch__conn_wait(c->loop, &w.done);
    alch_result_free(w.res);
    return w.status;
}

int alch__conn_simple_async(alch_conn *c, const char *sql, const char *echo, int sp_delta,
                            bool commit_on_failed, alch_exec_cb cb, void *data);
int alch__conn_simple_async(alch_conn *c, const char *sql, const char *echo, int sp_delta,
                            bool commit_on_failed, alch_exec_cb cb, void *data)
{
    alch_error *err = c ? &c->start_err : NULL;
    int rc = check_usable(c, true, err);
    if (rc)
        return rc;
    if (!cb)
        return alch__error_set(err, ALCH_EMISUSE, "an async call needs a callback");
    return alch__conn_simple(c, sql, echo, sp_delta, commit_on_failed, cb, data, err);
}

/* ---- public: close and accessors --------------------------------------------------- */

void alch_conn_close(alch_conn *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    conn_ref(c);
    if (c->op) {
        /* the server is still working on it: this connection cannot be reused */
        alch_error err = ALCH_ERROR_INIT;
        alch__error_set(&err, ALCH_ECANCELED, "the connection was closed while a query ran");
        mark_broken(c);
        alch__op_finish(c, ALCH_ECANCELED, &err);
        alch_error_clear(&err);
    }
    if (c->link.owner && c->cfg.release) {
        c->closing = false;
        c->cfg.release(c->link.owner, c); /* the pool takes it back */
        reset_send(c);
    } else {
        destroy_later(c); /* we hold a reference: freed by the unref below */
    }
    conn_unref(c);
}

bool alch_conn_in_transaction(const alch_conn *c)
{
    if (!c || !c->pg)
        return false;
    PGTransactionStatusType t = alch__tx_status(c);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

const alch_error *alch_conn_start_error(const alch_conn *c)
{
    return c ? &c->start_err : NULL;
}

bool alch_conn_busy(const alch_conn *c)
{
    return c && c->op != NULL;
}

int alch_conn_server_version(const alch_conn *c)
{
    return c && c->pg && c->state == CONN_READY ? PQserverVersion(c->pg) : 0;
}

int alch_conn_backend_pid(const alch_conn *c)
{
    return c && c->pg && c->state == CONN_READY ? PQbackendPID(c->pg) : 0;
}

bool alch__conn_arrays_ok(const alch_conn *c)
{
    if (!c || !c->pg)
        return false;
    /* the client-only encodings, whose second bytes may look like a quote or a backslash */
    static const char *const unsafe[] = {"SJIS", "SHIFT_JIS_2004", "BIG5", "GBK",
                                         "UHC",  "GB18030",        "JOHAB"};
    const char *enc = pg_encoding_to_char(PQclientEncoding(c->pg));
    for (size_t i = 0; i < sizeof unsafe / sizeof *unsafe; i++)
        if (strcmp(enc, unsafe[i]) == 0)
            return false;
    return true;
}

void *alch_conn_get_data(const alch_conn *c)
{
    return c ? c->data : NULL;
}

void alch_conn_set_data(alch_conn *c, void *data)
{
    if (c)
        c->data = data;
}

int alch_libpq_version(void)
{
    return PQlibVersion();
}
