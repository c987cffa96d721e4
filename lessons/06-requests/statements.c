/* Lesson 06, program 1: a statement is an object you build, look at, and run later.
 *
 * Nothing here talks to the database: each statement is printed the way echo would show it,
 * the SQL first, then the values that travel beside it. */
#include <stdio.h>

#include "models.h"

int main(void)
{
    //! [select]
    alch_stmt *st = alch_select(&Item_model); /* SQLAlchemy's select(Item) */
    alch_stmt_print(st, stdout);
    //! [select]

    //! [where]
    alch_where(st, alch_eq(ALCH_COL(Item, category), 2));
    alch_where(st, alch_lt(ALCH_COL(Item, price), 500));
    alch_order_by(st, alch_desc(ALCH_COL(Item, price)));
    alch_limit(st, 3);
    alch_stmt_print(st, stdout);
    alch_stmt_free(st);
    //! [where]

    //! [or]
    st = alch_select_columns(ALCH_COL(Item, name), ALCH_COL(Item, price));
    alch_where(st, alch_or(alch_ilike(ALCH_COL(Item, name), "%tea%"),
                           alch_ge(ALCH_COL(Item, price), 600)));
    alch_stmt_print(st, stdout);
    alch_stmt_free(st);
    //! [or]

    //! [injection]
    const char *name = "Tea'; DROP TABLE items; --";
    st = alch_select(&Category_model);
    alch_where(st, alch_eq(ALCH_COL(Category, name), name));
    alch_stmt_print(st, stdout);
    alch_stmt_free(st);
    //! [injection]
    return 0;
}
