/* Lesson 07, program 1: the seed's `await`, written as callbacks on a libuv loop.
 *
 * models_init() (lesson 06's module) creates the shop with its sync engine. This program
 * then makes the async twin: an engine on its own libuv loop, with a session factory for
 * the same Base, and asks for the items of category 1 without waiting for the answer. */
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

//! [callback]
/* Runs on the loop when the answer is there: the second half of an `await`. */
static void on_items(alch_session *s, int status, const alch_list *items, const alch_error *err,
                     void *data)
{
    alch_stmt *st = data;
    if (status != 0) {
        print_error(err);
    } else {
        printf("callback: %zu items\n", items->count);
        for (size_t i = 0; i < items->count; i++)
            printf("  %s\n", ((Item *)items->items[i])->name);
    }
    alch_stmt_free(st);
    alch_session_close(s); /* allowed inside the session's own callback */
}
//! [callback]

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    if (models_init(getenv("ALCH_DATABASE_URL"), true, &err) != 0) {
        print_error(&err);
        return 1;
    }

    //! [engine]
    uv_loop_t *loop = uv_default_loop();
    alch_engine_options opts = alch_engine_options_default();
    opts.echo = true;
    alch_engine *async_engine;
    alch_sessionmaker *async_session;
    alch_engine_create_on_loop(loop, getenv("ALCH_DATABASE_URL"), &opts, &async_engine, &err);
    alch_sessionmaker_create(async_engine, base, NULL, &async_session, &err);
    //! [engine]

    //! [start]
    alch_session *s;
    alch_session_open(async_session, &s, &err);
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, category), 1));
    alch_order_by(st, ALCH_COL(Item, id));
    if (alch_session_scalars_async(s, st, on_items, st) != 0)
        print_error(alch_session_start_error(s));
    printf("asked; the answer is not here yet\n");
    //! [start]

    //! [rules]
    /* one session per task: this session is busy until on_items runs */
    if (alch_session_scalars_async(s, st, on_items, st) != 0)
        print_error(alch_session_start_error(s));
    /* a blocking call would stop the loop and every other task with it: refused */
    alch_list items;
    if (alch_session_scalars(s, st, &items, &err) != 0) {
        print_error(&err);
        alch_error_clear(&err);
    }
    //! [rules]

    //! [run]
    uv_run(loop, UV_RUN_DEFAULT); /* returns when nothing is left to do */
    printf("the loop is done\n");
    //! [run]

    alch_sessionmaker_free(async_session);
    alch_engine_free(async_engine);
    uv_run(loop, UV_RUN_DEFAULT);
    models_close();
    return 0;
}
