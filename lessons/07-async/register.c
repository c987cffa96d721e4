/* Lesson 07, program 4: writing without waiting, one answer or none, and an answer that
 * needs no database.
 *
 * The bot's /start registers a user: an INSERT whose only answer is "done". On an async
 * engine whose connections are in AUTOCOMMIT, each statement commits by itself, so the
 * callback has nothing left to commit. Then two questions with one answer or none, asked one
 * after the other from the callbacks. And a reply that needs no database still comes from
 * the loop: a uv_timer_t with timeout 0 calls back on the loop's next turn. */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "../06-requests/models.h"

static void print_error(const alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
}

/* What the callbacks share: the two questions, asked in turn. */
typedef struct chain {
    alch_sessionmaker *async_session;
    alch_stmt *find[2];
    int64_t wanted[2];
    int next;
} chain;

static void ask_next(chain *c);

//! [found]
static void on_found(alch_session *s, int status, void *obj, const alch_error *err, void *data)
{
    chain *c = data;
    int64_t tg_id = c->wanted[c->next - 1];
    if (status != 0)
        print_error(err);
    else if (obj == NULL) /* none: no error, just no object */
        printf("no user %lld\n", (long long)tg_id);
    else
        printf("found user %lld\n", (long long)((User *)obj)->tg_id);
    alch_session_close(s); /* the User struct dies here: read it before */
    ask_next(c);
}
//! [found]

static void ask_next(chain *c)
{
    if (c->next == 2)
        return;
    alch_session *s;
    alch_error err = ALCH_ERROR_INIT;
    alch_stmt *st = c->find[c->next++];
    if (alch_session_open(c->async_session, &s, &err) != 0) {
        print_error(&err);
        return;
    }
    if (alch_session_scalar_one_or_none_async(s, st, on_found, c) != 0) {
        print_error(alch_session_start_error(s)); /* it will not call back */
        alch_session_close(s);
    }
}

//! [registered]
static void on_registered(alch_session *s, int status, alch_result *res, const alch_error *err,
                          void *data)
{
    if (status != 0)
        print_error(err);
    else
        printf("registered (AUTOCOMMIT: committed already)\n");
    alch_result_free(res); /* execute hands its result to the callback */
    alch_session_close(s); /* nothing to commit: closing rolls nothing back */
    ask_next(data);        /* the user is there now: ask about it */
}
//! [registered]

//! [later]
static void on_later(uv_timer_t *t)
{
    printf("later: %s\n", (const char *)t->data);
    uv_close((uv_handle_t *)t, NULL); /* a handle is closed, on the loop, before it goes */
}
//! [later]

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    alch_error err = ALCH_ERROR_INIT;
    if (models_init(url, false, &err) != 0) {
        print_error(&err);
        return 1;
    }

    //! [engine]
    uv_loop_t *loop = uv_default_loop();
    alch_engine_options opts = alch_engine_options_default();
    opts.isolation_level = "AUTOCOMMIT"; /* each statement commits by itself */
    alch_engine *async_engine;
    alch_sessionmaker *async_session;
    if (alch_engine_create_on_loop(loop, url, &opts, &async_engine, &err) != 0 ||
        alch_sessionmaker_create(async_engine, base, NULL, &async_session, &err) != 0) {
        print_error(&err);
        return 1;
    }
    //! [engine]

    chain c = {.async_session = async_session, .wanted = {7001, 7002}};
    for (int i = 0; i < 2; i++) {
        c.find[i] = alch_select(&User_model);
        alch_where(c.find[i], alch_eq(ALCH_COL(User, tg_id), c.wanted[i]));
    }

    //! [write]
    alch_stmt *insert = alch_insert(&User_model);
    alch_set(insert, ALCH_COL(User, tg_id), 7001);
    alch_on_conflict_do_nothing(insert, ALCH_COL(User, tg_id));
    alch_session *s;
    if (alch_session_open(async_session, &s, &err) != 0) {
        print_error(&err);
        return 1;
    }
    if (alch_session_execute_async(s, insert, on_registered, &c) != 0) {
        print_error(alch_session_start_error(s));
        return 1;
    }
    //! [write]

    //! [timer]
    uv_timer_t later;
    uv_timer_init(loop, &later);
    later.data = "help: start TG_ID, categories, items ID, item ID";
    uv_timer_start(&later, on_later, 0, 0); /* 0 ms: on the loop's next turn */
    printf("asked; nothing has run yet\n");
    //! [timer]

    uv_run(loop, UV_RUN_DEFAULT);
    printf("the loop is done\n");

    alch_stmt_free(insert);
    alch_stmt_free(c.find[0]);
    alch_stmt_free(c.find[1]);
    alch_sessionmaker_free(async_session);
    alch_engine_free(async_engine);
    uv_run(loop, UV_RUN_DEFAULT); /* the engine closes its connections on the loop */

    //! [check]
    /* a session of the sync factory (another connection) sees the user: it was committed */
    alch_session *check = NULL;
    alch_result *res = NULL;
    int64_t n = -1;
    if (alch_session_open(session_factory, &check, &err) != 0 ||
        alch_session_execute_text(check, "SELECT count(*) FROM users WHERE tg_id = 7001", NULL, 0,
                                  &res, &err) != 0 ||
        alch_result_get_int(res, 0, 0, &n, &err) != 0)
        print_error(&err);
    printf("users with tg_id 7001: %lld\n", (long long)n);
    alch_result_free(res);
    alch_session_close(check);
    //! [check]
    models_close();
    return uv_loop_close(loop) == 0 ? 0 : 1;
}
