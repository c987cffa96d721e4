/* Lesson 04, program 2: mistakes the base catches before any SQL is sent. */
#include <stdio.h>
#include <stdlib.h>

#include "shop.h"

static void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

//! [models]
/* A second model for the table "users". */
typedef struct Customer {
    int64_t id;
} Customer;
static const alch_column customer_columns[] = {
    ALCH_COLUMN(Customer, id, ALCH_BIGINT, .primary_key = true),
};
static const alch_model Customer_model = ALCH_MODEL(Customer, "users", customer_columns);

/* A model without a primary key. */
typedef struct Visit {
    int64_t tg_id;
} Visit;
static const alch_column visit_columns[] = {
    ALCH_COLUMN(Visit, tg_id, ALCH_BIGINT),
};
static const alch_model Visit_model = ALCH_MODEL(Visit, "visits", visit_columns);

/* A foreign key with a typo in the table's name. */
typedef struct Review {
    int64_t id;
    int64_t item;
} Review;
static const alch_column review_columns[] = {
    ALCH_COLUMN(Review, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Review, item, ALCH_BIGINT, .foreign_key = "itemz.id"),
};
static const alch_model Review_model = ALCH_MODEL(Review, "reviews", review_columns);
//! [models]

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_base *base;
    alch_base_create(&base, &err);
    alch_base_add(base, &User_model, &err);
    alch_base_add(base, &Category_model, &err);
    alch_base_add(base, &Item_model, &err);

    //! [add]
    if (alch_base_add(base, &Customer_model, &err) != 0)
        print_error(&err);
    if (alch_base_add(base, &Visit_model, &err) != 0)
        print_error(&err);
    //! [add]

    //! [check]
    alch_base_add(base, &Review_model, &err); /* fine so far: "itemz" may come later */
    if (alch_base_check(base, &err) != 0)     /* create_all checks too, before any SQL */
        print_error(&err);
    //! [check]

    alch_base_free(base);
    return 0;
}
