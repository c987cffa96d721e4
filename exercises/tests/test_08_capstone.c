/* Exercise 08, the capstone: the shop server with your database package. Five clients talk
 * to it at the same time over TCP, on one libuv loop, as a shop bot's users would (the
 * course's continuation: the seed has no bot). */
#include "check.h"
#include "server.h"

enum { CLIENTS = 5 };

/* each client's conversation; the first command is "start <100 + client number>" */
static const char *const script[] = {"start",    "categories", "items 1", "item 3",
                                     "item abc", "item 99",    "quit"};
static const char *const expected = "welcome\n.\n"
                                    "1 Tea\n2 Coffee\n.\n"
                                    "1 Green tea 450\n3 Oolong 700\n.\n"
                                    "3 Oolong: Half-oxidised, 700\n.\n"
                                    "error: unknown command or bad id\n.\n"
                                    "no such item\n.\n";

typedef struct peer {
    uv_tcp_t tcp;
    uv_connect_t connect;
    int id, step;
    char got[2048];
    size_t len, seen;
    bool closed;
} peer;

static shop_server *server;
static int open_peers;

static void on_sent(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

static void send_next(peer *p)
{
    static char line[64];
    if (p->step == 0)
        snprintf(line, sizeof line, "%s %d", script[0], 100 + p->id);
    else
        snprintf(line, sizeof line, "%s", script[p->step]);
    strcat(line, "\n");
    char *copy = strdup(line);
    uv_buf_t buf = uv_buf_init(copy, (unsigned)strlen(copy));
    uv_write_t *w = malloc(sizeof *w);
    w->data = copy;
    uv_write(w, (uv_stream_t *)&p->tcp, &buf, 1, on_sent);
    p->step++;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = suggested;
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
    if (--open_peers == 0)
        shop_server_stop(server);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    peer *p = s->data;
    if (n > 0 && p->len + (size_t)n < sizeof p->got) {
        memcpy(p->got + p->len, buf->base, (size_t)n);
        p->len += (size_t)n;
        p->got[p->len] = '\0';
    }
    free(buf->base);
    if (n < 0) { /* the server closed the connection after quit */
        p->closed = true;
        uv_close((uv_handle_t *)&p->tcp, on_closed);
        return;
    }
    /* one answer ends with a line holding one dot: then the next command */
    char *end = strstr(p->got + p->seen, ".\n");
    while (end && (end == p->got || end[-1] == '\n')) {
        p->seen = (size_t)(end - p->got) + 2;
        send_next(p);
        end = strstr(p->got + p->seen, ".\n");
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    peer *p = req->data;
    check(status == 0, MSG("a client connects to the shop", "клиент подключается к магазину"),
          NO_MSG, NULL);
    uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
    send_next(p);
}

/* Where the answer that starts at p ends: its "." line, or NULL when there is none. */
static const char *answer_end(const char *p)
{
    for (const char *q = p; (q = strstr(q, ".\n")) != NULL; q++)
        if (q == p || q[-1] == '\n')
            return q;
    return NULL;
}

/* One answer on one line, as a C string: "1 Tea\n2 Coffee\n". */
static void show(const char *label, const char *s, size_t n)
{
    printf("  %s \"", label);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            printf("\\n");
        else
            putchar(s[i]);
    }
    printf("\"\n");
}

/* The first command whose answer is not the expected one, with both answers. */
static void show_difference(int client, const char *got)
{
    const char *e = expected, *g = got;
    for (size_t step = 0; step + 1 < sizeof script / sizeof *script; step++) {
        const char *e_end = answer_end(e), *g_end = answer_end(g);
        size_t en = (size_t)(e_end - e), gn = g_end ? (size_t)(g_end - g) : strlen(g);
        if (!g_end || en != gn || memcmp(e, g, en) != 0) {
            if (step == 0)
                SAY("  after \"start %d\":\n", "  после \"start %d\":\n", 100 + client);
            else
                SAY("  after \"%s\":\n", "  после \"%s\":\n", script[step]);
            show(check_text(MSG("expected:", "ожидалось:")), e, en);
            show(check_text(MSG("got:     ", "получено: ")), g, gn);
            if (!g_end)
                printf("%s\n", check_text(MSG("  (no answer ended with its \".\" line: reply() "
                                              "was not called once)",
                                              "  (ни один ответ не закончился строкой \".\": "
                                              "reply() не был вызван ни разу)")));
            return;
        }
        e = e_end + 2;
        g = g_end + 2;
    }
}

static void fill(const char *url)
{
    alch_conn *c = NULL;
    alch_conn_open(url, &c, NULL);
    alch_conn_execute_text(c, "INSERT INTO categories (name) VALUES ('Tea'), ('Coffee')", NULL, 0,
                           NULL, NULL);
    alch_conn_execute_text(c,
                           "INSERT INTO items (name, description, price, category) VALUES "
                           "('Green tea', 'Sencha', 450, 1), ('Espresso', 'Dark', 550, 2), "
                           "('Oolong', 'Half-oxidised', 700, 1)",
                           NULL, 0, NULL, NULL);
    alch_conn_close(c);
}

int main(void)
{
    char *url = check_connects("ex08");
    alch_error err = ALCH_ERROR_INIT;
    check(db_open(url, &err) == 0,
          MSG("db_open() works (exercises 02-05)", "db_open() работает (упражнения 02-05)"), NO_MSG,
          &err);
    TODO_IF(session_factory == NULL || alch_base_count(base) != 3,
            MSG("exercises 02-05: db_open() in database/models.c, which the capstone needs",
                "упражнения 02-05: db_open() в database/models.c, он нужен итоговому проекту"));
    fill(url);
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options opts = alch_engine_options_default();
    opts.isolation_level = "AUTOCOMMIT";
    alch_engine *async_engine;
    alch_sessionmaker *async_session;
    check(alch_engine_create_on_loop(&loop, url, &opts, &async_engine, &err) == 0 &&
              alch_sessionmaker_create(async_engine, base, NULL, &async_session, &err) == 0,
          MSG("an async engine and session factory", "асинхронный движок и фабрика сессий"), NO_MSG,
          &err);
    int port = 0;
    check(shop_server_start(&loop, async_session, 0, &port, &server) == 0,
          MSG("the shop listens", "магазин принимает подключения"), NO_MSG, NULL);
    peer peers[CLIENTS] = {0};
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    for (int i = 0; i < CLIENTS; i++) {
        peers[i].id = i;
        uv_tcp_init(&loop, &peers[i].tcp);
        peers[i].tcp.data = &peers[i];
        peers[i].connect.data = &peers[i];
        uv_tcp_connect(&peers[i].connect, &peers[i].tcp, (const struct sockaddr *)&addr,
                       on_connected);
        open_peers++;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < CLIENTS; i++) {
        if (strstr(peers[i].got, "not done yet") || strncmp(peers[i].got, "error: not", 10) == 0)
            NOT_DONE(DB_TODO);
        char what[96];
        if (strcmp(peers[i].got, expected) != 0)
            show_difference(i, peers[i].got);
        check(strcmp(peers[i].got, expected) == 0,
              MSGF(what, "client %d gets every answer, in order",
                   "клиент %d получает все ответы, по порядку", i + 1),
              MSG("an id that is not a number must give \"error: ...\", never a query",
                  "id, который не число, должен давать \"error: ...\", и никогда не запрос"),
              NULL);
    }
    check(scalar(url, "SELECT count(*) FROM users WHERE tg_id BETWEEN 100 AND 104") == CLIENTS,
          MSG("every client's user is registered", "пользователь каждого клиента зарегистрирован"),
          MSG("AUTOCOMMIT: each command commits by itself",
              "AUTOCOMMIT: каждая команда фиксируется сама"),
          NULL);
    alch_sessionmaker_free(async_session);
    alch_engine_free(async_engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    check(uv_loop_close(&loop) == 0,
          MSG("nothing is left running on the loop", "в цикле событий ничего не осталось работать"),
          NO_MSG, NULL);
    db_close();
    check_done(url);
    return 0;
}
