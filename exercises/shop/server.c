/* The shop's TCP server (see server.h). A client is freed only when its socket is closed and
 * no answer for it is still on its way. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

typedef struct client {
    uv_tcp_t tcp;
    struct shop_server *srv;
    char line[512];
    size_t len;
    int pending; /* answers on their way */
    bool closed;
    struct client *next;
} client;

struct shop_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    alch_sessionmaker *async_session;
    client *clients;
};

typedef struct write_req {
    uv_write_t req;
    char *text;
} write_req;

static void free_client(uv_handle_t *h)
{
    client *c = h->data;
    if (c->pending == 0)
        free(c);
    else
        c->closed = true; /* the last answer frees it */
}

static void close_client(client *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    for (client **p = &c->srv->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    uv_close((uv_handle_t *)&c->tcp, free_client);
}

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    write_req *w = (write_req *)req;
    free(w->text);
    free(w);
}

static void on_reply(const char *reply, void *data)
{
    client *c = data;
    c->pending--;
    if (c->closed) {
        if (c->pending == 0)
            free(c);
        return;
    }
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    /* every answer ends with a line holding one dot, so a client knows it is complete */
    write_req *w = malloc(sizeof *w);
    size_t n = strlen(reply);
    w->text = malloc(n + 3);
    memcpy(w->text, reply, n);
    memcpy(w->text + n, ".\n", 3);
    uv_buf_t buf = uv_buf_init(w->text, (unsigned)strlen(w->text));
    uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    client *c = stream->data;
    for (ssize_t i = 0; i < n; i++) {
        char ch = buf->base[i];
        if (ch != '\n' && c->len < sizeof c->line - 1) {
            c->line[c->len++] = ch;
            continue;
        }
        if (ch != '\n')
            continue; /* an over-long line is cut */
        c->line[c->len] = '\0';
        if (c->len && c->line[c->len - 1] == '\r')
            c->line[c->len - 1] = '\0';
        c->len = 0;
        if (strcmp(c->line, "quit") == 0) {
            close_client(c);
            break;
        }
        c->pending++;
        shop_handle(c->srv->loop, c->srv->async_session, c->line, on_reply, c);
    }
    free(buf->base);
    if (n < 0)
        close_client(c);
}

static void on_connection(uv_stream_t *listener, int status)
{
    shop_server *srv = listener->data;
    if (status < 0)
        return;
    client *c = calloc(1, sizeof *c);
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, free_client);
        return;
    }
    c->next = srv->clients;
    srv->clients = c;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int shop_server_start(uv_loop_t *loop, alch_sessionmaker *async_session, int port, int *bound_port,
                      shop_server **out)
{
    shop_server *srv = calloc(1, sizeof *srv);
    srv->loop = loop;
    srv->async_session = async_session;
    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    int rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, 64, on_connection);
    if (rc) {
        uv_close((uv_handle_t *)&srv->listener, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        free(srv);
        return rc;
    }
    struct sockaddr_storage name;
    int len = sizeof name;
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&name, &len);
    *bound_port = ntohs(((struct sockaddr_in *)&name)->sin_port);
    *out = srv;
    return 0;
}

static void free_server(uv_handle_t *h)
{
    free(h->data);
}

void shop_server_stop(shop_server *srv)
{
    while (srv->clients)
        close_client(srv->clients);
    uv_close((uv_handle_t *)&srv->listener, free_server);
}
