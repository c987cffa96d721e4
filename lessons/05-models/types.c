/* Lesson 05, program 2: the other column types, NULL, and defaults. */
#include <stdio.h>
#include <stdlib.h>

#include <alch/alch.h>

//! [order]
typedef struct Order {
    int64_t id;
    alch_timestamp created; /* TIMESTAMPTZ: microseconds since 1970 UTC */
    char *code;             /* UUID, as text */
    alch_opt_i32 quantity;  /* INTEGER with a client-side default: it can be left unset */
    alch_opt_bool paid;     /* BOOLEAN with a server-side default: it can be left unset */
    char *total;            /* NUMERIC, as text: "12.50" stays exact */
    double weight;          /* DOUBLE PRECISION */
    char *note;             /* TEXT that may be NULL: a NULL pointer */
    alch_opt_i32 discount;  /* INTEGER that may be NULL */
    alch_date ship_date;    /* DATE that may be NULL */
    alch_blob receipt;      /* BYTEA that may be NULL */
    char *meta;             /* JSONB, as text */
} Order;

static const alch_column order_columns[] = {
    ALCH_COLUMN(Order, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Order, created, ALCH_TIMESTAMPTZ, .server_default = "now()"),
    ALCH_COLUMN(Order, code, ALCH_UUID, .server_default = "gen_random_uuid()", .unique = true),
    ALCH_COLUMN(Order, quantity, ALCH_INTEGER, .client_default = ALCH_DEFAULT_INT(1)),
    ALCH_COLUMN(Order, paid, ALCH_BOOLEAN, .server_default = "false"),
    ALCH_COLUMN(Order, total, ALCH_NUMERIC),
    ALCH_COLUMN(Order, weight, ALCH_DOUBLE, .index = true),
    ALCH_COLUMN(Order, note, ALCH_TEXT, .nullable = true),
    ALCH_COLUMN(Order, discount, ALCH_INTEGER, .nullable = true),
    ALCH_COLUMN(Order, ship_date, ALCH_DATE, .nullable = true),
    ALCH_COLUMN(Order, receipt, ALCH_BYTEA, .nullable = true),
    ALCH_COLUMN(Order, meta, ALCH_JSONB, .nullable = true),
};
static const alch_model Order_model = ALCH_MODEL(Order, "orders", order_columns);
//! [order]

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *engine;
    alch_base *base;
    alch_conn *conn;
    alch_sessionmaker *factory;
    alch_engine_create(getenv("ALCH_DATABASE_URL"), NULL, &engine, &err);
    alch_base_create(&base, &err);
    alch_base_add(base, &Order_model, &err);

    //! [ddl]
    char *ddl = alch_base_ddl(base, &err); /* the DDL create_all will send, without sending it */
    printf("%s", ddl);
    free(ddl);
    //! [ddl]

    /* a fresh start (lesson 03): the table is dropped, then created */
    if (alch_engine_connect(engine, &conn, &err) != 0 ||
        alch_base_drop_all(base, conn, &err) != 0 || alch_base_create_all(base, conn, &err) != 0 ||
        alch_conn_commit(conn, &err) != 0 ||
        alch_sessionmaker_create(engine, base, NULL, &factory, &err) != 0) {
        printf("setting up failed: %s\n", err.message);
        return 1;
    }
    alch_conn_close(conn);
    alch_engine_set_echo(engine, true);

    //! [insert]
    alch_session *s;
    alch_session_open(factory, &s, &err);
    Order o = {.created = {.is_null = true}, /* unset: the defaults apply */
               .quantity = {.is_null = true},
               .paid = {.is_null = true},
               .total = "12.50",
               .weight = 0.75,
               .discount = {.is_null = true},
               .ship_date = {.is_null = true},
               .meta = "{\"gift\": true}"};
    alch_session_add(s, &Order_model, &o, &err);
    if (alch_session_commit(s, &err) != 0)
        printf("%s\n", err.message);
    printf("id %lld, quantity %d (client default), paid %s (server default)\n", (long long)o.id,
           o.quantity.value, o.paid.value ? "true" : "false");
    printf("created %s, code %s\n", !o.created.is_null ? "set by the server" : "missing",
           o.code ? "set by the server" : "missing");
    printf("note %s, discount %s, ship_date %s, receipt %s\n", o.note ? o.note : "NULL",
           o.discount.is_null ? "NULL" : "set", o.ship_date.is_null ? "NULL" : "set",
           o.receipt.data ? "set" : "NULL");
    alch_session_close(s);
    //! [insert]

    //! [zero]
    alch_session_open(factory, &s, &err);
    Order z = {.created = {.is_null = true},
               .quantity = {0, false}, /* set: 0 is a value like any other */
               .paid = {false, false}, /* set: false too */
               .total = "0.00",
               .discount = {.is_null = true},
               .ship_date = {.is_null = true}};
    alch_session_add(s, &Order_model, &z, &err);
    if (alch_session_commit(s, &err) != 0)
        printf("%s\n", err.message);
    printf("quantity %d, paid %s: what the program set\n", z.quantity.value,
           z.paid.value ? "true" : "false");
    alch_session_close(s);
    //! [zero]

    alch_sessionmaker_free(factory);
    alch_base_free(base);
    alch_engine_free(engine);
    return 0;
}
