/* database/requests.c: the seed's database/requests.py, in C. Exercise 06 writes the requests,
 * exercise 07 the shop that serves many users at once, each between its own BEGIN/END lines
 * (keep those lines: ./tutor hashes, resets and shows one exercise at a time). */
#include "requests.h"

#include <stdlib.h>

/* ---- 06: requests ------------------------------------------------------------------------ */
/* BEGIN exercise 06 */

int set_user(alch_session *s, int64_t tg_id, alch_error *err)
{
    /* TODO 06: INSERT the user unless a user with this tg_id exists (one statement), then
     * commit the session. */
    (void)s;
    (void)tg_id;
    (void)err;
    return db_todo("exercise 06: set_user() in database/requests.c");
}

int get_categories(alch_session *s, alch_list *out, alch_error *err)
{
    /* TODO 06: every category, in id order. */
    (void)s;
    (void)out;
    (void)err;
    return db_todo("exercise 06: get_categories() in database/requests.c");
}

int get_category_items(alch_session *s, int64_t category_id, alch_list *out, alch_error *err)
{
    /* TODO 06: the items whose category is category_id, in id order. */
    (void)s;
    (void)category_id;
    (void)out;
    (void)err;
    return db_todo("exercise 06: get_category_items() in database/requests.c");
}

int get_item(alch_session *s, int64_t item_id, Item **out, alch_error *err)
{
    /* TODO 06: the item with this id, or *out = NULL when there is none. */
    (void)s;
    (void)item_id;
    (void)out;
    (void)err;
    return db_todo("exercise 06: get_item() in database/requests.c");
}

/* END exercise 06 */

/* ---- 07: the shop on a loop -------------------------------------------------------------- */
/* BEGIN exercise 07 */

int db_serve(uv_loop_t *loop, const char *url, const int64_t *tg_ids, size_t n, int *registered,
             alch_error *err)
{
    /* TODO 07: an async engine on loop (pool of 5, AUTOCOMMIT) with a session factory for
     * `base`; for each tg_id, a session of its own running the set_user INSERT with
     * alch_session_execute_async() (its callback is an alch_session_result_cb: it frees the
     * result); run the loop; count the successes into *registered; free everything you made. */
    (void)loop;
    (void)url;
    (void)tg_ids;
    (void)n;
    (void)registered;
    (void)err;
    return db_todo("exercise 07: db_serve() in database/requests.c");
}
/* END exercise 07 */
