/* Lesson 09, program 3: SELECT ... FOR UPDATE. Two sessions want to change the same item;
 * the first locks its row, the second is told at once (NOWAIT) instead of waiting.
 * The program ends with rollbacks, so the shop is unchanged for the next run. */
#include <stdio.h>

#include "shop.h"

/* select(Item).where(Item.name == name).with_for_update(nowait=...) */
static alch_stmt *item_for_update(const char *name, alch_lock_wait wait)
{
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, name), name));
    return alch_with_for_update(st, ALCH_FOR_UPDATE, wait);
}

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_session *first, *second;
    if (!shop_open(&first))
        return 1;
    alch_session_open(session_factory, &second, &err);

    //! [lock]
    /* the first session locks the row until its transaction ends */
    alch_stmt *st = item_for_update("Oolong", ALCH_LOCK_WAIT);
    Item *oolong;
    if (alch_session_scalar_one(first, st, (void **)&oolong, &err) != 0)
        print_error(&err);
    alch_stmt_free(st);
    //! [lock]

    //! [nowait]
    /* the second session asks for the same row, and does not wait for it */
    st = item_for_update("Oolong", ALCH_NOWAIT);
    Item *again;
    if (alch_session_scalar_one(second, st, (void **)&again, &err) != 0)
        print_error(&err);
    alch_stmt_free(st);
    alch_session_rollback(second, &err);
    //! [nowait]

    //! [change]
    /* the first session changes the row it holds; the lock ends with its transaction */
    oolong->price += 50;
    if (alch_session_flush(first, &err) != 0)
        print_error(&err);
    printf("Oolong now costs %d\n", oolong->price);
    //! [change]

    alch_session_close(second);
    shop_close(first); /* the rollback ends the lock */
    return 0;
}
