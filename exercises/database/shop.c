/* database/shop.c: the capstone. The shop's server (exercises/shop/server.c) hands you each
 * line a client sends; answer it with your package, asynchronously, so that one loop serves
 * every client at once. Exercise 08 is everything between the BEGIN/END lines. */
#include "shop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* BEGIN exercise 08 */
void shop_handle(uv_loop_t *loop, alch_sessionmaker *async_session, const char *line,
                 shop_reply_fn reply, void *data)
{
    /* TODO 08: parse the line (start TG_ID, categories, items ID, item ID; check that each id
     * is a number: strtoll), build the statement, open a session from async_session and run
     * it with the *_async call that fits, each with the callback type it takes (session.h:
     * alch_session_execute_async an alch_session_result_cb, alch_session_scalars_async an
     * alch_session_objects_cb, alch_session_scalar_one_or_none_async an
     * alch_session_object_cb); in the callback, format the answer as shop.h says, call
     * reply(answer, data), free the statement and close the session. A line you cannot
     * answer gets "error: ...\n", also from the loop (a uv_timer_t with timeout 0 will do). */
    (void)loop;
    (void)async_session;
    (void)line;
    db_todo("exercise 08: shop_handle() in database/shop.c");
    reply("error: not done yet\n", data);
}
/* END exercise 08 */
