/* database/shop.h: the seed's bot as a text protocol, one command per line, answered
 * asynchronously so that one loop serves every client at once. Exercise 08, the capstone. */
#ifndef DATABASE_SHOP_H
#define DATABASE_SHOP_H

#include <uv.h>

#include "models.h"

/* The answer to one command: text ending in a newline, valid during the call. */
typedef void (*shop_reply_fn)(const char *reply, void *data);

/* Answer one line of the protocol, with the async session factory's engine. The check
 * (tests/test_08_capstone.c) compares these texts exactly:
 *   start TG_ID    register the user (set_user)      -> "welcome\n"
 *   categories     every category, by id             -> "ID NAME\n" per category
 *   items ID       the items of one category, by id  -> "ID NAME PRICE\n" per item
 *                  (a category with no items         -> "none\n")
 *   item ID        one item                          -> "ID NAME: DESCRIPTION, PRICE\n",
 *                                                       or "no such item\n"
 * anything else, or an id that is not a number      -> "error: unknown command or bad id\n"
 * e.g. "items 1" -> "1 Green tea 450\n3 Oolong 700\n",
 *      "item 3"  -> "3 Oolong: Half-oxidised, 700\n".
 * reply is called exactly once, on the loop, never inside this call. */
void shop_handle(uv_loop_t *loop, alch_sessionmaker *async_session, const char *line,
                 shop_reply_fn reply, void *data);

#endif
