/* database/shop.c: the capstone. The shop's server (exercises/shop/server.c) hands you each
 * line a client sends; answer it with your package, asynchronously, so that one loop serves
 * every client at once. Exercise 08 is everything between the BEGIN/END lines. */
#include "shop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* BEGIN exercise 08 */
/* One command in flight: its statement lives until the answer is there. */
typedef struct request {
    alch_stmt *st;
    shop_reply_fn reply;
    void *data;
    enum { START, CATEGORIES, ITEMS, ITEM } kind;
} request;

static void finish(request *r, alch_session *s, const char *text)
{
    r->reply(text, r->data);
    alch_stmt_free(r->st);
    free(r);
    if (s)
        alch_session_close(s);
}

/* A command that failed is answered with the error's sentence. */
static bool failed(request *r, alch_session *s, int status, const alch_error *err)
{
    if (status == 0)
        return false;
    char out[4096];
    snprintf(out, sizeof out, "error: %s\n", err && err->message ? err->message : "failed");
    finish(r, s, out);
    return true;
}

/* start: alch_session_execute_async() hands its result to the callback. */
static void on_started(alch_session *s, int status, alch_result *res, const alch_error *err,
                       void *data)
{
    alch_result_free(res);
    if (!failed(data, s, status, err))
        finish(data, s, "welcome\n");
}

/* item: one object or none, owned by the session (read it before closing the session). */
static void on_item(alch_session *s, int status, void *obj, const alch_error *err, void *data)
{
    if (failed(data, s, status, err))
        return;
    char out[4096];
    Item *it = obj;
    if (it)
        snprintf(out, sizeof out, "%lld %s: %s, %d\n", (long long)it->id, it->name, it->description,
                 it->price);
    else
        snprintf(out, sizeof out, "no such item\n");
    finish(data, s, out);
}

/* categories, items: a list of objects, owned by the session. */
static void on_list(alch_session *s, int status, const alch_list *list, const alch_error *err,
                    void *data)
{
    request *r = data;
    if (failed(r, s, status, err))
        return;
    char out[4096];
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < list->count && len < sizeof out - 64; i++) {
        if (r->kind == CATEGORIES) {
            Category *c = list->items[i];
            len += (size_t)snprintf(out + len, sizeof out - len, "%lld %s\n", (long long)c->id,
                                    c->name);
        } else {
            Item *it = list->items[i];
            len += (size_t)snprintf(out + len, sizeof out - len, "%lld %s %d\n", (long long)it->id,
                                    it->name, it->price);
        }
    }
    if (list->count == 0)
        snprintf(out, sizeof out, "none\n");
    finish(r, s, out);
}

/* The number after the command, or false: "item 5x" and "item abc" are not ids. */
static bool parse_id(const char *text, int64_t *id)
{
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (end == text || errno || (*end && *end != '\n' && *end != '\r') || n <= 0)
        return false;
    *id = n;
    return true;
}

/* A reply that needs no database, still given on the loop as promised: a tiny timer. */
typedef struct later {
    uv_timer_t timer;
    char text[128];
    shop_reply_fn reply;
    void *data;
} later;

static void free_later(uv_handle_t *h)
{
    free(h->data);
}

static void on_later(uv_timer_t *t)
{
    later *l = t->data;
    l->reply(l->text, l->data);
    uv_close((uv_handle_t *)t, free_later);
}

static void reply_later(uv_loop_t *loop, const char *text, shop_reply_fn reply, void *data)
{
    later *l = calloc(1, sizeof *l);
    snprintf(l->text, sizeof l->text, "%s", text);
    l->reply = reply;
    l->data = data;
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, on_later, 0, 0);
}

void shop_handle(uv_loop_t *loop, alch_sessionmaker *async_session, const char *line,
                 shop_reply_fn reply, void *data)
{
    request *r = calloc(1, sizeof *r);
    r->reply = reply;
    r->data = data;
    int64_t id = 0;
    const char *arg = strchr(line, ' ');
    if (strncmp(line, "start ", 6) == 0 && parse_id(arg + 1, &id)) {
        r->kind = START;
        r->st = alch_insert(&User_model);
        alch_set(r->st, ALCH_COL(User, tg_id), id);
        alch_on_conflict_do_nothing(r->st, ALCH_COL(User, tg_id));
    } else if (strncmp(line, "categories", 10) == 0) {
        r->kind = CATEGORIES;
        r->st = alch_order_by(alch_select(&Category_model), ALCH_COL(Category, id));
    } else if (strncmp(line, "items ", 6) == 0 && parse_id(arg + 1, &id)) {
        r->kind = ITEMS;
        r->st = alch_select(&Item_model);
        alch_where(r->st, alch_eq(ALCH_COL(Item, category), id));
        alch_order_by(r->st, ALCH_COL(Item, id));
    } else if (strncmp(line, "item ", 5) == 0 && parse_id(arg + 1, &id)) {
        r->kind = ITEM;
        r->st = alch_select(&Item_model);
        alch_where(r->st, alch_eq(ALCH_COL(Item, id), id));
    } else {
        free(r);
        reply_later(loop, "error: unknown command or bad id\n", reply, data);
        return;
    }
    alch_session *s = NULL;
    int rc = alch_session_open(async_session, &s, NULL);
    if (rc == 0) {
        if (r->kind == START)
            rc = alch_session_execute_async(s, r->st, on_started, r);
        else if (r->kind == ITEM)
            rc = alch_session_scalar_one_or_none_async(s, r->st, on_item, r);
        else
            rc = alch_session_scalars_async(s, r->st, on_list, r);
    }
    if (rc != 0) {
        reply_later(loop, "error: the shop is closed\n", reply, data);
        alch_stmt_free(r->st);
        free(r);
        alch_session_close(s);
    }
}
/* END exercise 08 */
