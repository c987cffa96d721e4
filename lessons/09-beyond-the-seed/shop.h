/* shop.h: what the programs of lesson 09 share: lesson 06's models and two helpers. */
#ifndef LESSON09_SHOP_H
#define LESSON09_SHOP_H

#include "../06-requests/models.h"

/* Print the error's whole text (lesson 01) and clear it. */
void print_error(alch_error *err);

/* The shop on ALCH_DATABASE_URL, filled quietly, then echo on, and a session open in *s.
 * Returns false (the error printed) when it cannot. */
bool shop_open(alch_session **s);

/* Roll back what the program did, close the session and the models. */
void shop_close(alch_session *s);

#endif
