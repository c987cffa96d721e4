/* Lesson 05: a model that must not compile. CTest compiles this file and checks that the
 * compiler refuses it with alch's sentence (test lesson.05.wrong_type). */
#include <alch/alch.h>

//! [wrong]
typedef struct Item {
    int64_t id;
    char *price; /* a string, for an INTEGER column */
} Item;

static const alch_column item_columns[] = {
    ALCH_COLUMN(Item, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Item, price, ALCH_INTEGER),
};
//! [wrong]

const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns);
