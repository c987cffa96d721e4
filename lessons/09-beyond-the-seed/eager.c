/* Lesson 09, program 2: eager loading. Every category with its items, in two queries
 * however many categories there are (SQLAlchemy's selectinload). The program changes
 * nothing in the shop. */
#include <stdio.h>

#include "shop.h"

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s;
    if (!shop_open(&s))
        return 1;

    //! [selectin]
    /* select(Category).options(selectinload(Category.items)).order_by(Category.id) */
    alch_stmt *st = alch_selectin(alch_select(&Category_model), "items");
    alch_order_by(st, ALCH_COL(Category, id));
    alch_list categories;
    if (alch_session_scalars(s, st, &categories, &err) != 0)
        print_error(&err);
    alch_stmt_free(st);
    //! [selectin]

    //! [print]
    for (size_t i = 0; i < categories.count; i++) {
        Category *c = categories.items[i];
        printf("%s (items loaded? %s):", c->name, c->items.loaded ? "yes" : "no");
        for (size_t j = 0; j < c->items.count; j++)
            printf(" %s", ((Item *)c->items.items[j])->name);
        printf("\n");
    }
    //! [print]

    shop_close(s);
    return 0;
}
