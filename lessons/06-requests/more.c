/* Lesson 06, program 5: more queries. Arithmetic, SQL functions, CASE and CAST, a window
 * in a CTE, UNION, a Core table (no struct, no primary key) filled by INSERT ... SELECT,
 * a locking SELECT, an UPDATE by a list of keys, and a mistake the builder refuses.
 *
 * Everything runs in one transaction that is rolled back at the end: the shop is the same
 * after every run. */
#include <stdio.h>
#include <stdlib.h>

#include "requests.h"

/* Run a statement, print its rows (or how many rows it changed), free it. */
static void show(alch_session *s, alch_stmt *st)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_result *res;
    if (alch_session_execute(s, st, &res, &err) != 0) {
        char *text = alch_error_format(&err);
        printf("%s\n", text ? text : "out of memory");
        free(text);
    } else {
        if (alch_result_columns(res) > 0)
            alch_result_print(res, stdout);
        else
            printf("%llu rows\n", (unsigned long long)alch_result_affected(res));
        alch_result_free(res);
    }
    alch_error_clear(&err);
    alch_stmt_free(st);
}

//! [core_table]
static const alch_column price_log_columns[] = {
    ALCH_TABLE_COLUMN("item", ALCH_TEXT),
    ALCH_TABLE_COLUMN("price", ALCH_INTEGER),
};
static const alch_model price_log = ALCH_TABLE("price_log", price_log_columns);
//! [core_table]

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    if (models_init(getenv("ALCH_DATABASE_URL"), true, &err) != 0)
        return 1;
    alch_engine_set_echo(engine, true);
    alch_session *s;
    alch_session_open(session_factory, &s, &err);

    //! [arith]
    alch_expr *price = ALCH_COL(Item, price);
    alch_stmt *raise = alch_update(&Item_model);
    alch_set(raise, price, alch_add(price, 50)); /* SET price = items.price + $1 */
    alch_where(raise, alch_lt(price, 350));
    alch_returning(raise, ALCH_COL(Item, name));
    alch_returning(raise, price);
    show(s, raise);
    //! [arith]

    //! [func]
    alch_expr *cost = ALCH_COL(Item, price);
    alch_expr *band = alch_case(alch_lt(cost, 450), "cheap", alch_lt(cost, 600), "fair", "dear");
    alch_stmt *bands = alch_select_columns(
        alch_label(alch_func("upper", ALCH_TEXT, ALCH_COL(Item, name)), "name"),
        alch_label(band, "band"));
    alch_order_by(bands, cost);
    show(s, bands);
    show(s, alch_select_columns(
                alch_label(alch_count_distinct(ALCH_COL(Item, category)), "categories"),
                alch_label(alch_cast(alch_avg(ALCH_COL(Item, price)), ALCH_INTEGER), "average")));
    //! [func]

    //! [window]
    alch_expr *rank = alch_over(alch_row_number(), ALCH_COL(Item, category), ALCH_COL(Item, price));
    alch_stmt *ranked = alch_select_columns(ALCH_COL(Item, name), ALCH_COL(Item, price),
                                            alch_label(rank, "place"));
    alch_cte *cte;
    if (alch_cte_create("ranked", ranked, &cte, &err) == 0) {
        const alch_model *r = alch_cte_table(cte);
        alch_stmt *cheapest = alch_select_columns(alch_col(r, "name"), alch_col(r, "price"));
        alch_where(cheapest, alch_eq(alch_col(r, "place"), 1));
        alch_order_by(cheapest, alch_col(r, "price"));
        show(s, cheapest);
        alch_cte_free(cte);
    }
    //! [window]

    //! [union]
    alch_stmt *dear = alch_select_columns(ALCH_COL(Item, name));
    alch_where(dear, alch_gt(ALCH_COL(Item, price), 500));
    alch_stmt *names = alch_union(alch_select_columns(ALCH_COL(Category, name)), dear);
    alch_order_by(names, ALCH_COL(Category, name));
    show(s, names);
    //! [union]

    //! [insert_select]
    alch_session_execute_text(
        s, "CREATE TEMP TABLE price_log (item text NOT NULL, price int NOT NULL)", NULL, 0, NULL,
        &err);
    alch_stmt *all = alch_select_columns(ALCH_COL(Item, name), ALCH_COL(Item, price));
    show(s, alch_insert_select(alch_insert(&price_log), all, alch_col(&price_log, "item"),
                               alch_col(&price_log, "price")));
    alch_stmt *logged = alch_select_columns(alch_col(&price_log, "item"));
    alch_where(logged, alch_ge(alch_col(&price_log, "price"), 550));
    alch_order_by(logged, alch_col(&price_log, "item"));
    show(s, logged);
    //! [insert_select]

    //! [lock]
    alch_stmt *job = alch_select(&Item_model);
    alch_order_by(job, ALCH_COL(Item, price));
    alch_limit(job, 1);
    alch_with_for_update(job, ALCH_FOR_UPDATE, ALCH_SKIP_LOCKED);
    Item *next;
    if (alch_session_scalar_one(s, job, (void **)&next, &err) == 0)
        printf("locked until the transaction ends: %s\n", next->name);
    alch_stmt_free(job);
    //! [lock]

    //! [pk_in]
    alch_value ids[] = {alch_v(1), alch_v(4)};
    alch_stmt *sold_out = alch_update(&Item_model);
    alch_set(sold_out, ALCH_COL(Item, description), "sold out");
    alch_where_pk_in(sold_out, ids, 2);
    show(s, sold_out);
    //! [pk_in]

    //! [mistake]
    alch_expr *place = alch_over(alch_row_number(), ALCH_COL(Item, category), ALCH_COL(Item, price));
    alch_stmt *wrong = alch_select(&Item_model);
    alch_where(wrong, alch_eq(place, 1));
    show(s, wrong);
    //! [mistake]

    alch_error_clear(&err);
    alch_session_close(s);
    models_close();
    return 0;
}
