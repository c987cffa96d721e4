/* requests.c: the shop's queries, built as statements: no SQL strings, every value bound. */
#include "requests.h"

//! [set_user]
/* Register a user once. One statement, so two messages from the same new user arriving at
 * the same moment cannot both insert: the unique constraint on tg_id decides. */
int set_user(alch_session *s, int64_t tg_id, alch_error *err)
{
    alch_stmt *st = alch_insert(&User_model);
    alch_set(st, ALCH_COL(User, tg_id), tg_id);
    alch_on_conflict_do_nothing(st, ALCH_COL(User, tg_id));
    int rc = alch_session_execute(s, st, NULL, err);
    alch_stmt_free(st);
    return rc ? rc : alch_session_commit(s, err);
}
//! [set_user]

//! [get_categories]
int get_categories(alch_session *s, alch_list *out, alch_error *err)
{
    alch_stmt *st = alch_select(&Category_model);
    alch_order_by(st, ALCH_COL(Category, id));
    int rc = alch_session_scalars(s, st, out, err);
    alch_stmt_free(st);
    return rc;
}
//! [get_categories]

//! [get_category_items]
int get_category_items(alch_session *s, int64_t category_id, alch_list *out, alch_error *err)
{
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, category), category_id));
    alch_order_by(st, ALCH_COL(Item, id));
    int rc = alch_session_scalars(s, st, out, err);
    alch_stmt_free(st);
    return rc;
}
//! [get_category_items]

//! [get_item]
int get_item(alch_session *s, int64_t item_id, Item **out, alch_error *err)
{
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), item_id));
    int rc = alch_session_scalar_one_or_none(s, st, (void **)out, err);
    alch_stmt_free(st);
    return rc;
}
//! [get_item]

//! [get_items_by_price]
int get_items_by_price(alch_session *s, int32_t min, int32_t max, alch_list *out, alch_error *err)
{
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_between(ALCH_COL(Item, price), min, max));
    alch_order_by(st, ALCH_COL(Item, price));
    int rc = alch_session_scalars(s, st, out, err);
    alch_stmt_free(st);
    return rc;
}
//! [get_items_by_price]

//! [count_items_per_category]
int count_items_per_category(alch_session *s, alch_result **out, alch_error *err)
{
    alch_expr *name = ALCH_COL(Category, name); /* used three times: freed with the last */
    alch_stmt *st = alch_select_columns(name, alch_label(alch_count(ALCH_COL(Item, id)), "items"));
    alch_outerjoin(st, &Item_model); /* along items.category -> categories.id */
    alch_group_by(st, name);
    alch_order_by(st, name);
    int rc = alch_session_execute(s, st, out, err);
    alch_stmt_free(st);
    return rc;
}
//! [count_items_per_category]

//! [rename_category]
/* UPDATE ... RETURNING the whole row: the renamed category comes back as an object, and a
 * wrong id is an ALCH_ENORESULT that says so. */
int rename_category(alch_session *s, int64_t category_id, const char *name, Category **out,
                    alch_error *err)
{
    alch_stmt *st = alch_update(&Category_model);
    alch_set(st, ALCH_COL(Category, name), name);
    alch_where(st, alch_eq(ALCH_COL(Category, id), category_id));
    alch_returning_model(st);
    int rc = alch_session_scalar_one(s, st, (void **)out, err);
    alch_stmt_free(st);
    return rc;
}
//! [rename_category]

int delete_item(alch_session *s, int64_t item_id, alch_error *err)
{
    alch_stmt *st = alch_delete(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), item_id));
    int rc = alch_session_execute(s, st, NULL, err);
    alch_stmt_free(st);
    return rc;
}
