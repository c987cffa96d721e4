/* Lesson 09, program 1: deleting rows, one object at a time or many with one statement.
 *
 * The shop is filled quietly (lesson 06's models.c); echo shows the SQL each delete sends.
 * The program ends with a rollback, so the shop is unchanged for the next run. */
#include <stdio.h>
#include <string.h>

#include "shop.h"

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s;
    if (!shop_open(&s))
        return 1;

    //! [object]
    /* session.delete(item): the object is deleted at the next flush */
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, name), "Filter"));
    Item *filter;
    if (alch_session_scalar_one(s, st, (void **)&filter, &err) != 0 ||
        alch_session_delete(s, &Item_model, filter, &err) != 0 ||
        alch_session_flush(s, &err) != 0)
        print_error(&err);
    alch_stmt_free(st);
    //! [object]

    //! [statement]
    /* delete(Item).where(Item.price > 500): many rows, one statement, no objects loaded */
    st = alch_delete(&Item_model);
    alch_where(st, alch_gt(ALCH_COL(Item, price), 500));
    alch_result *res;
    if (alch_session_execute(s, st, &res, &err) == 0) {
        printf("deleted %llu items\n", (unsigned long long)alch_result_affected(res));
        alch_result_free(res);
    } else {
        print_error(&err);
    }
    alch_stmt_free(st);
    //! [statement]

    //! [restrict]
    /* a category that still has items cannot go: the foreign key says no */
    st = alch_delete(&Category_model);
    alch_where(st, alch_eq(ALCH_COL(Category, name), "Tea"));
    if (alch_session_execute(s, st, NULL, &err) != 0) {
        /* decide by the error class and the SQLSTATE: the message is in the server's language */
        if (err.code == ALCH_EINTEGRITY && strcmp(err.sqlstate, "23503") == 0)
            printf("category still referenced (SQLSTATE 23503): delete its items first\n");
        print_error(&err);
    }
    alch_stmt_free(st);
    //! [restrict]

    shop_close(s);
    return 0;
}
