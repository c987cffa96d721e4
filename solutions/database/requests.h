/* database/requests.h: the seed's database/requests.py, in C. Each request borrows a session
 * from its caller: the objects it returns belong to that session. Exercise 06 writes the sync
 * requests, exercise 07 the async shop. */
#ifndef DATABASE_REQUESTS_H
#define DATABASE_REQUESTS_H

#include <uv.h>

#include "models.h"

/* 06: register a Telegram user once (one statement, no race), and commit. */
int set_user(alch_session *s, int64_t tg_id, alch_error *err);
/* 06: every category, by id. */
int get_categories(alch_session *s, alch_list *out, alch_error *err);
/* 06: the items of one category, by id. */
int get_category_items(alch_session *s, int64_t category_id, alch_list *out, alch_error *err);
/* 06: one item, or *out = NULL when there is none. */
int get_item(alch_session *s, int64_t item_id, Item **out, alch_error *err);

/* 07: the shop on a loop: register n users at once, each in a session of its own, on an
 * async engine (pool of 5) for url and loop. Runs the loop until all are done and sets
 * *registered to how many succeeded. */
int db_serve(uv_loop_t *loop, const char *url, const int64_t *tg_ids, size_t n, int *registered,
             alch_error *err);

#endif
