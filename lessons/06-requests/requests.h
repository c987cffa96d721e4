/* requests.h: the seed's database/requests.py in C: one function per question the shop asks
 * the database. Each borrows a session from its caller: the objects it returns belong to
 * that session and live until the caller closes it. */
#ifndef SHOP_REQUESTS_H
#define SHOP_REQUESTS_H

#include "models.h"

int set_user(alch_session *s, int64_t tg_id, alch_error *err);
int get_categories(alch_session *s, alch_list *out, alch_error *err);
int get_category_items(alch_session *s, int64_t category_id, alch_list *out, alch_error *err);
int get_item(alch_session *s, int64_t item_id, Item **out, alch_error *err);

int get_items_by_price(alch_session *s, int32_t min, int32_t max, alch_list *out, alch_error *err);
int count_items_per_category(alch_session *s, alch_result **out, alch_error *err);
int rename_category(alch_session *s, int64_t category_id, const char *name, Category **out,
                    alch_error *err);
int delete_item(alch_session *s, int64_t item_id, alch_error *err);

#endif
