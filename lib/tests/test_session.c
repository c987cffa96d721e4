/* The session against a real server, with the seed's shop models: the unit of work
 * (INSERT ... RETURNING, UPDATE of changed columns only, DELETE), the identity map,
 * rollback, bad input, explicit relationship loading, the async face and busy sessions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alch/alch.h>

#include "shop.h"
#include "support.h"

/* ---- the seed's models (shop.h), plus one with defaults -------------------------------- */

typedef struct Order {
    int64_t id;
    alch_timestamp created;
    alch_opt_i32 quantity;
    char *note;
    alch_opt_i32 priority;
} Order;

static const alch_column order_columns[] = {
    ALCH_COLUMN(Order, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Order, created, ALCH_TIMESTAMPTZ, .server_default = "now()"),
    ALCH_COLUMN(Order, quantity, ALCH_INTEGER, .nullable = true, .server_default = "1"),
    ALCH_COLUMN(Order, note, ALCH_TEXT, .nullable = true),
    ALCH_COLUMN(Order, priority, ALCH_INTEGER, .client_default = ALCH_DEFAULT_INT(3)),
};
static const alch_model Order_model = ALCH_MODEL(Order, "orders", order_columns);

/* A model of a key alone (a table of tickets, say): a new row of it sends no value. */
typedef struct Mark {
    int64_t id;
} Mark;

static const alch_column mark_columns[] = {
    ALCH_COLUMN(Mark, id, ALCH_BIGINT, .primary_key = true),
};
static const alch_model Mark_model = ALCH_MODEL(Mark, "marks", mark_columns);

/* ---- fixture ---------------------------------------------------------------------------- */

static char *db_url;
static alch_base *base;


static int setup(void **state)
{
    db_url = alch_test_db_create("session");
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_base_create(&base, &err), err);
    CHECK_OK(alch_base_add(base, &User_model, &err), err);
    CHECK_OK(alch_base_add(base, &Category_model, &err), err);
    CHECK_OK(alch_base_add(base, &Item_model, &err), err);
    CHECK_OK(alch_base_add(base, &Order_model, &err), err);
    CHECK_OK(alch_base_add(base, &Mark_model, &err), err);
    alch_engine *e = NULL;
    CHECK_OK(alch_engine_create(db_url, NULL, &e, &err), err);
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(e, &c, &err), err);
    CHECK_OK(alch_base_create_all(base, c, &err), err);
    CHECK_OK(alch_conn_commit(c, &err), err);
    alch_conn_close(c);
    alch_engine_free(e);
    return 0;
}

static int teardown(void **state)
{
    alch_base_free(base);
    alch_test_db_drop(db_url);
    return 0;
}

/* One engine + factory per test; echo goes to a file the test can read. */
typedef struct env {
    alch_engine *engine;
    alch_sessionmaker *maker;
    FILE *log;
    long seen; /* how much of the log echoed() has returned */
} env;

static env open_env(void)
{
    env v = {0};
    v.log = tmpfile();
    alch_engine_options o = alch_engine_options_default();
    o.echo = true;
    o.echo_file = v.log;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(db_url, &o, &v.engine, &err), err);
    CHECK_OK(alch_sessionmaker_create(v.engine, base, NULL, &v.maker, &err), err);
    return v;
}

static void close_env(env *v)
{
    alch_sessionmaker_free(v->maker);
    alch_engine_free(v->engine);
    fclose(v->log);
}

/* What echo wrote since the last call (its first 16 KiB). */
static char *echoed(env *v)
{
    static char text[16384];
    long end = ftell(v->log);
    fseek(v->log, v->seen, SEEK_SET);
    size_t want = (size_t)(end - v->seen);
    if (want > sizeof text - 1) /* a long log: its beginning */
        want = sizeof text - 1;
    size_t n = fread(text, 1, want, v->log);
    text[n] = '\0';
    v->seen = end;
    fseek(v->log, end, SEEK_SET);
    return text;
}

static alch_session *open_session(env *v)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(v->maker, &s, &err), err);
    return s;
}

static int64_t count(env *v, const char *sql)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(v->engine, &c, &err), err);
    alch_result *r = NULL;
    CHECK_OK(alch_conn_execute_text(c, sql, NULL, 0, &r, &err), err);
    int64_t n = -1;
    CHECK_OK(alch_result_get_int(r, 0, 0, &n, &err), err);
    alch_result_free(r);
    alch_conn_close(c);
    return n;
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_add_commit_get(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;
    User u = {.tg_id = 1001};
    CHECK_OK(alch_session_add(s, &User_model, &u, &err), err);
    assert_int_equal(alch_session_state(s, &u), ALCH_PENDING);
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_true(u.id > 0); /* the generated key came back through RETURNING */
    assert_int_equal(alch_session_state(s, &u), ALCH_PERSISTENT);
    const char *log = echoed(&v);
    assert_non_null(strstr(log, "BEGIN (implicit)"));
    assert_non_null(strstr(log, "INSERT INTO users (tg_id) VALUES ($1) RETURNING users.id"));
    assert_non_null(strstr(log, "COMMIT"));

    /* the identity map: the same key gives the same object, without a query */
    void *got = NULL;
    CHECK_OK(alch_session_get(s, &User_model, alch_v(u.id), &got, &err), err);
    assert_ptr_equal(got, &u);
    assert_null(strstr(echoed(&v), "SELECT"));
    alch_session_close(s);

    /* a new session loads it with one SELECT, into an object it owns */
    s = open_session(&v);
    CHECK_OK(alch_session_get(s, &User_model, alch_v(u.id), &got, &err), err);
    assert_non_null(got);
    assert_int_equal(((User *)got)->tg_id, 1001);
    assert_non_null(strstr(echoed(&v), "SELECT users.id, users.tg_id FROM users WHERE users.id = $1"));
    void *again = NULL;
    CHECK_OK(alch_session_get(s, &User_model, alch_v(u.id), &again, &err), err);
    assert_ptr_equal(again, got);
    CHECK_OK(alch_session_get(s, &User_model, alch_v(-5), &again, &err), err);
    assert_null(again); /* no such row: not an error */

    /* autoflush: a get() first sends what was added, so the query sees it */
    User later = {.tg_id = 1002};
    CHECK_OK(alch_session_add(s, &User_model, &later, &err), err);
    CHECK_OK(alch_session_get(s, &User_model, alch_v(-6), &again, &err), err);
    assert_true(later.id > 0);
    assert_int_equal(alch_session_state(s, &later), ALCH_PERSISTENT);
    alch_session_close(s);
    close_env(&v);
}

static void test_update_changed_columns_only(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;
    Category cat = {.name = "Fruit"};
    Item item = {.name = "Apple", .description = "Green and sour", .price = 10};
    CHECK_OK(alch_session_add(s, &Category_model, &cat, &err), err);
    CHECK_OK(alch_session_flush(s, &err), err); /* the category's id is needed first */
    item.category = cat.id;
    CHECK_OK(alch_session_add(s, &Item_model, &item, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    echoed(&v);

    item.price = 12;
    CHECK_OK(alch_session_commit(s, &err), err);
    const char *log = echoed(&v);
    assert_non_null(strstr(log, "UPDATE items SET price = $1 WHERE items.id = $2"));
    assert_null(strstr(log, "description ="));

    CHECK_OK(alch_session_commit(s, &err), err); /* nothing changed: nothing sent */
    assert_null(strstr(echoed(&v), "UPDATE"));
    alch_session_close(s);

    s = open_session(&v);
    void *got = NULL;
    CHECK_OK(alch_session_get(s, &Item_model, alch_v(item.id), &got, &err), err);
    assert_int_equal(((Item *)got)->price, 12);
    assert_string_equal(((Item *)got)->description, "Green and sour");
    alch_session_close(s);
    close_env(&v);
}

static void test_delete(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;
    User u = {.tg_id = 2002};
    CHECK_OK(alch_session_add(s, &User_model, &u, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    CHECK_OK(alch_session_delete(s, &User_model, &u, &err), err);
    assert_int_equal(alch_session_state(s, &u), ALCH_DELETED);
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_non_null(strstr(echoed(&v), "DELETE FROM users WHERE users.id = $1"));
    assert_int_equal(alch_session_state(s, &u), ALCH_TRANSIENT);
    assert_int_equal(count(&v, "SELECT count(*) FROM users WHERE tg_id = 2002"), 0);

    User stranger = {.tg_id = 3};
    assert_int_equal(alch_session_delete(s, &User_model, &stranger, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
    alch_session_close(s);
    close_env(&v);
}

static void test_rollback_restores(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;
    Category kept = {.name = "Kept"};
    CHECK_OK(alch_session_add(s, &Category_model, &kept, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);

    Category fresh = {.name = "Fresh"};
    CHECK_OK(alch_session_add(s, &Category_model, &fresh, &err), err);
    kept.name = "Renamed";
    CHECK_OK(alch_session_flush(s, &err), err);
    assert_true(fresh.id > 0);
    CHECK_OK(alch_session_rollback(s, &err), err);
    assert_int_equal(fresh.id, 0); /* the generated key is cleared */
    assert_int_equal(alch_session_state(s, &fresh), ALCH_TRANSIENT);
    assert_string_equal(kept.name, "Kept"); /* the committed value is back */
    assert_int_equal(alch_session_state(s, &kept), ALCH_PERSISTENT);
    assert_int_equal(count(&v, "SELECT count(*) FROM categories WHERE name = 'Fresh'"), 0);
    assert_int_equal(count(&v, "SELECT count(*) FROM categories WHERE name = 'Renamed'"), 0);

    /* the session is usable afterwards, and the object can be added again */
    CHECK_OK(alch_session_add(s, &Category_model, &fresh, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_true(fresh.id > 0);
    alch_session_close(s);
    close_env(&v);
}

static void test_server_defaults(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;
    /* created, quantity and priority unset: the server and the client default fill them */
    Order o = {.created = {.is_null = true},
               .quantity = {.is_null = true},
               .note = "first",
               .priority = {.is_null = true}};
    Order p = {.created = {.is_null = true}, .quantity = {5, false}, .priority = {.is_null = true}};
    CHECK_OK(alch_session_add(s, &Order_model, &o, &err), err);
    CHECK_OK(alch_session_add(s, &Order_model, &p, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_non_null(strstr(echoed(&v), "RETURNING orders.id, orders.created, orders.quantity"));
    assert_false(o.created.is_null);
    assert_true(o.created.usec > 1700000000LL * 1000000); /* after 2023 */
    assert_false(o.quantity.is_null);
    assert_int_equal(o.quantity.value, 1);
    assert_int_equal(p.quantity.value, 5);
    assert_int_equal(o.priority.value, 3); /* the client-side default, written into the struct */
    assert_int_equal(count(&v, "SELECT count(*) FROM orders WHERE priority = 3"), 2);

    /* a NULL written on purpose stays NULL */
    p.note = NULL;
    p.quantity.is_null = true;
    CHECK_OK(alch_session_commit(s, &err), err);
    alch_session_close(s);
    s = open_session(&v);
    void *got = NULL;
    CHECK_OK(alch_session_get(s, &Order_model, alch_v(p.id), &got, &err), err);
    assert_true(((Order *)got)->quantity.is_null);
    assert_null(((Order *)got)->note);
    assert_int_equal(((Order *)got)->created.usec, p.created.usec); /* timestamps round-trip */
    alch_session_close(s);
    close_env(&v);
}

/* Several new rows that send no value at all: each is a row of its own (an INSERT of
 * DEFAULT VALUES makes one row, so they cannot share one statement; they did, and the flush
 * failed: "alch_insert_row: the current row has no values yet"). */
static void test_rows_of_defaults_only(void **state)
{
    (void)state;
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;
    Mark m[3] = {{0}};
    for (size_t i = 0; i < 3; i++)
        CHECK_OK(alch_session_add(s, &Mark_model, &m[i], &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_int_equal(count(&v, "SELECT count(*) FROM marks"), 3);
    assert_true(m[0].id > 0 && m[1].id > 0 && m[2].id > 0);
    assert_true(m[0].id != m[1].id && m[1].id != m[2].id && m[0].id != m[2].id);
    alch_session_close(s);
    close_env(&v);
}

static void test_bad_input(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;

    /* too long for VARCHAR(25): refused before any SQL is sent */
    Category longname = {.name = "A name far too long for twenty-five"};
    CHECK_OK(alch_session_add(s, &Category_model, &longname, &err), err);
    echoed(&v);
    assert_int_equal(alch_session_commit(s, &err), ALCH_EDATA);
    assert_non_null(strstr(err.message, "VARCHAR(25)"));
    assert_null(strstr(echoed(&v), "INSERT"));
    alch_error_clear(&err);
    CHECK_OK(alch_session_rollback(s, &err), err);
    assert_int_equal(alch_session_state(s, &longname), ALCH_TRANSIENT);

    /* NULL into NOT NULL */
    Category unnamed = {.name = NULL};
    CHECK_OK(alch_session_add(s, &Category_model, &unnamed, &err), err);
    assert_int_equal(alch_session_commit(s, &err), ALCH_EINTEGRITY);
    assert_string_equal(err.sqlstate, "23502");
    alch_error_clear(&err);
    CHECK_OK(alch_session_rollback(s, &err), err);

    /* a foreign key to nothing */
    Item orphan = {.name = "Orphan", .description = "no category", .price = 1, .category = 999999};
    CHECK_OK(alch_session_add(s, &Item_model, &orphan, &err), err);
    assert_int_equal(alch_session_commit(s, &err), ALCH_EINTEGRITY);
    assert_string_equal(err.sqlstate, "23503");
    assert_non_null(err.constraint);
    assert_non_null(strstr(err.constraint, "category"));
    alch_error_clear(&err);
    CHECK_OK(alch_session_rollback(s, &err), err);
    assert_int_equal(orphan.id, 0);

    /* a unique violation: two users given the same primary key */
    User a = {.id = 777001, .tg_id = 777}, b = {.id = 777001, .tg_id = 777};
    CHECK_OK(alch_session_add(s, &User_model, &a, &err), err);
    CHECK_OK(alch_session_add(s, &User_model, &b, &err), err);
    assert_int_equal(alch_session_commit(s, &err), ALCH_EINTEGRITY);
    assert_string_equal(err.sqlstate, "23505");
    assert_string_equal(err.constraint, "pk_users");
    alch_error_clear(&err);
    CHECK_OK(alch_session_rollback(s, &err), err);
    assert_int_equal(a.id, 777001); /* a key you set is yours: only generated keys are cleared */
    assert_int_equal(count(&v, "SELECT count(*) FROM users WHERE tg_id = 777"), 0);

    /* still usable: nothing half-written remains, and good work goes through */
    User c = {.tg_id = 778};
    CHECK_OK(alch_session_add(s, &User_model, &c, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_int_equal(count(&v, "SELECT count(*) FROM users WHERE tg_id = 778"), 1);

    /* misuse */
    static const alch_column stray_columns[] = {
        ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
    };
    static const alch_model Stray_model = ALCH_MODEL(User, "strays", stray_columns);
    User d = {0};
    assert_int_equal(alch_session_add(s, &Stray_model, &d, &err), ALCH_EMISUSE);
    assert_non_null(strstr(err.message, "not in this session's base"));
    alch_error_clear(&err);
    alch_sessionmaker_options o = alch_sessionmaker_options_default();
    o.expire_on_commit = true;
    alch_sessionmaker *bad = NULL;
    assert_int_equal(alch_sessionmaker_create(v.engine, base, &o, &bad, &err), ALCH_EARGUMENT);
    assert_non_null(strstr(err.message, "expire_on_commit"));
    alch_error_clear(&err);
    alch_session_close(s);
    close_env(&v);
}

/* autobegin off: every transaction is explicit; without one, nothing reaches the server. */
static int scoped_add(alch_session *s, void *data, alch_error *err)
{
    return alch_session_add(s, &User_model, data, err);
}

static void test_autobegin_off(void **state)
{
    env v = open_env();
    alch_error err = ALCH_ERROR_INIT;
    alch_sessionmaker_options o = alch_sessionmaker_options_default();
    assert_true(o.autobegin); /* the default, as in SQLAlchemy */
    o.autobegin = false;
    alch_sessionmaker *strict = NULL;
    CHECK_OK(alch_sessionmaker_create(v.engine, base, &o, &strict, &err), err);
    alch_session *s = NULL;
    CHECK_OK(alch_session_open(strict, &s, &err), err);
    User u = {.tg_id = 777001};
    CHECK_OK(alch_session_add(s, &User_model, &u, &err), err);
    echoed(&v);
    assert_int_equal(alch_session_commit(s, &err), ALCH_EMISUSE);
    assert_non_null(strstr(err.message, "autobegin is off"));
    assert_non_null(strstr(err.hint, "alch_session_begin"));
    alch_error_clear(&err);
    assert_string_equal(echoed(&v), ""); /* nothing was sent */
    assert_int_equal(alch_session_state(s, &u), ALCH_PENDING);

    CHECK_OK(alch_session_begin(s, &err), err);
    assert_int_equal(alch_session_begin(s, &err), ALCH_EMISUSE);
    assert_non_null(strstr(err.message, "already begun"));
    alch_error_clear(&err);
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_true(u.id > 0);
    /* the commit ended it: the next statement needs a new begin */
    void *got = NULL;
    assert_int_equal(alch_session_get(s, &User_model, alch_v(u.id + 1000), &got, &err),
                     ALCH_EMISUSE);
    alch_error_clear(&err);
    CHECK_OK(alch_session_rollback(s, &err), err); /* nothing to end: allowed */
    CHECK_OK(alch_session_begin(s, &err), err);
    CHECK_OK(alch_session_get(s, &User_model, alch_v(u.id + 1000), &got, &err), err);
    assert_null(got);
    alch_session_close(s);

    /* the scope begins by itself */
    User w = {.tg_id = 777002};
    CHECK_OK(alch_session_scope(strict, scoped_add, &w, &err), err);
    assert_int_equal(count(&v, "SELECT count(*) FROM users WHERE tg_id IN (777001, 777002)"), 2);

    /* autobegin on: begin is allowed before the first statement, refused after it */
    s = open_session(&v);
    CHECK_OK(alch_session_begin(s, &err), err);
    CHECK_OK(alch_session_get(s, &User_model, alch_v(u.id), &got, &err), err);
    assert_int_equal(alch_session_begin(s, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
    alch_session_close(s);
    alch_sessionmaker_free(strict);
    close_env(&v);
}

static void test_relationships_load_explicitly(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;
    Category cat = {.name = "Drinks"};
    CHECK_OK(alch_session_add(s, &Category_model, &cat, &err), err);
    CHECK_OK(alch_session_flush(s, &err), err);
    Item items[3] = {
        {.name = "Tea", .description = "Black", .price = 3, .category = cat.id},
        {.name = "Coffee", .description = "Strong", .price = 4, .category = cat.id},
        {.name = "Water", .description = "Still", .price = 1, .category = cat.id},
    };
    CHECK_OK(alch_session_add_all(s, &Item_model, items, 3, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    alch_session_close(s);

    s = open_session(&v);
    void *got = NULL;
    CHECK_OK(alch_session_get(s, &Category_model, alch_v(cat.id), &got, &err), err);
    Category *c = got;
    assert_false(c->items.loaded); /* nothing loads by itself */
    assert_null(c->items.items);
    CHECK_OK(alch_session_load(s, &Category_model, c, "items", &err), err);
    assert_true(c->items.loaded);
    assert_int_equal(c->items.count, 3);
    Item *first = c->items.items[0];
    assert_string_equal(first->name, "Tea");
    /* many-to-one, back: the same category object, from the identity map */
    CHECK_OK(alch_session_load(s, &Item_model, first, "category_obj", &err), err);
    assert_true(first->category_obj.loaded);
    assert_ptr_equal(first->category_obj.obj, c);

    assert_int_equal(alch_session_load(s, &Category_model, c, "itemz", &err), ALCH_EARGUMENT);
    assert_non_null(strstr(err.message, "itemz"));
    alch_error_clear(&err);
    alch_session_close(s);
    close_env(&v);
}

/* Relationship fields decide foreign keys at flush: a new item pointing at a new category
 * gets the category's generated key, a category's items get it too, and a related object
 * not in the session is added (the save-update cascade). */
static void test_relationships_set_foreign_keys(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;

    /* many-to-one: only the items are added; the new category goes first, by cascade */
    Category fruit = {.name = "Fruit"};
    Item apples[3] = {
        {.name = "Apple", .description = "Red", .price = 2, .category_obj = {.obj = &fruit}},
        {.name = "Pear", .description = "Green", .price = 3, .category_obj = {.obj = &fruit}},
        {.name = "Plum", .description = "Blue", .price = 4, .category_obj = {.obj = &fruit}},
    };
    CHECK_OK(alch_session_add_all(s, &Item_model, apples, 3, &err), err);
    assert_int_equal(alch_session_state(s, &fruit), ALCH_TRANSIENT); /* added at flush */
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_int_equal(alch_session_state(s, &fruit), ALCH_PERSISTENT);
    assert_true(fruit.id > 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(apples[i].category, fruit.id);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM items WHERE category = %lld",
             (long long)fruit.id);
    assert_int_equal(count(&v, sql), 3);

    /* one-to-many: the category's items get its key; 600 of them go as one INSERT of arrays
     * that waits for the category's INSERT inside one pipeline */
    enum { N = 600 };
    Category veg = {.name = "Vegetables"};
    Item *rows = calloc(N, sizeof *rows);
    void **ptrs = calloc(N, sizeof *ptrs);
    assert_non_null(rows);
    assert_non_null(ptrs);
    for (int i = 0; i < N; i++) {
        rows[i] = (Item){.name = "Carrot", .description = "Orange", .price = i};
        ptrs[i] = &rows[i];
    }
    veg.items = (alch_many){ptrs, N, true};
    Category nuts = {.name = "Nuts"};
    Item walnut = {.name = "Walnut", .description = "Hard", .price = 9,
                   .category_obj = {.obj = &nuts}};
    CHECK_OK(alch_session_add(s, &Category_model, &veg, &err), err);
    CHECK_OK(alch_session_add(s, &Item_model, &walnut, &err), err);
    echoed(&v);
    CHECK_OK(alch_session_commit(s, &err), err);
    char *log = echoed(&v);
    /* one INSERT of both categories, the items' keys, then the 601 items as one array per
     * column, each row with its key */
    assert_non_null(strstr(log, "[pipeline 1/3]"));
    assert_non_null(strstr(log, "INSERT INTO items (id, name, description, price, category) "
                                "SELECT coalesce(u.k, CAST($1 AS BIGINT) + u.ord - 1), u.c1, "
                                "u.c2, u.c3, u.c4 FROM unnest(CAST($2 AS VARCHAR[]), CAST($3 AS "
                                "VARCHAR[]), CAST($4 AS INTEGER[]), CAST($5 AS BIGINT[]), CAST($6 "
                                "AS BIGINT[])) WITH ORDINALITY AS u(c1, c2, c3, c4, k, ord)\n"));
    assert_true(veg.id > 0 && nuts.id > 0 && veg.id != nuts.id);
    for (int i = 0; i < N; i++)
        assert_int_equal(rows[i].category, veg.id);
    assert_int_equal(walnut.category, nuts.id);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM items WHERE category = %lld",
             (long long)veg.id);
    assert_int_equal(count(&v, sql), N);

    /* a persistent item moved to a persistent category: UPDATE of that column only */
    apples[0].category_obj.obj = &veg;
    echoed(&v);
    CHECK_OK(alch_session_commit(s, &err), err);
    log = echoed(&v);
    assert_non_null(strstr(log, "UPDATE items SET category = $1 WHERE items.id = $2"));
    assert_int_equal(apples[0].category, veg.id);

    /* ... and to a new category: INSERT, then the UPDATE that waits for its key */
    Category herbs = {.name = "Herbs"};
    apples[1].category_obj.obj = &herbs;
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_true(herbs.id > 0);
    assert_int_equal(apples[1].category, herbs.id);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM items WHERE id = %lld AND category = %lld",
             (long long)apples[1].id, (long long)herbs.id);
    assert_int_equal(count(&v, sql), 1);

    /* persistent items listed in a new category's items: the session met them before the
     * category, and they still wait for its key (UPDATE after its INSERT) */
    Category spices = {.name = "Spices"};
    void *moved[2] = {&apples[0], &apples[1]};
    apples[0].category_obj.obj = apples[1].category_obj.obj = NULL;
    spices.items = (alch_many){moved, 2, true};
    CHECK_OK(alch_session_add(s, &Category_model, &spices, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_true(spices.id > 0);
    assert_int_equal(apples[0].category, spices.id);
    assert_int_equal(apples[1].category, spices.id);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM items WHERE category = %lld",
             (long long)spices.id);
    assert_int_equal(count(&v, sql), 2);
    spices.items = (alch_many){0};

    /* a relationship field that points at the wrong model: a sentence, nothing sent */
    User stranger = {.tg_id = 1};
    CHECK_OK(alch_session_add(s, &User_model, &stranger, &err), err);
    apples[2].category_obj.obj = &stranger;
    assert_int_equal(alch_session_commit(s, &err), ALCH_EMISUSE);
    assert_non_null(strstr(err.message, "Item.category_obj points to a User, not a Category"));
    alch_error_clear(&err);
    apples[2].category_obj.obj = &fruit;
    CHECK_OK(alch_session_commit(s, &err), err); /* still usable */
    assert_true(stranger.id > 0);

    alch_session_close(s);
    free(rows);
    free(ptrs);
    close_env(&v);
}

/* Integers come back exactly at both ends of BIGINT; text that is not an integer, or does
 * not fit in 64 bits, is a TypeError naming the column, not a wrong number. */
static void test_integer_edges(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;
    User big = {.tg_id = INT64_MAX}, small = {.tg_id = INT64_MIN};
    CHECK_OK(alch_session_add(s, &User_model, &big, &err), err);
    CHECK_OK(alch_session_add(s, &User_model, &small, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    alch_session_close(s);
    s = open_session(&v);
    void *got = NULL;
    CHECK_OK(alch_session_get(s, &User_model, alch_v(big.id), &got, &err), err);
    assert_true(((User *)got)->tg_id == INT64_MAX);
    CHECK_OK(alch_session_get(s, &User_model, alch_v(small.id), &got, &err), err);
    assert_true(((User *)got)->tg_id == INT64_MIN);
    alch_session_close(s);

    static const struct {
        const char *sql, *sent;
    } bad[] = {
        {"SELECT 1::bigint AS id, '12x' AS tg_id", "'12x'"},
        {"SELECT 1::bigint AS id, '9223372036854775808' AS tg_id", "'9223372036854775808'"},
        {"SELECT 1::bigint AS id, '-9223372036854775809' AS tg_id", "'-9223372036854775809'"},
        {"SELECT 1::bigint AS id, '' AS tg_id", "''"},
        {"SELECT 1::bigint AS id, '-' AS tg_id", "'-'"},
    };
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(v.engine, &c, &err), err);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        alch_result *r = NULL;
        alch_list list = {0};
        CHECK_OK(alch_conn_execute_text(c, bad[i].sql, NULL, 0, &r, &err), err);
        assert_int_equal(alch_result_scalars(r, &User_model, &list, &err), ALCH_ETYPE);
        assert_non_null(strstr(err.message, "users.tg_id: the database sent"));
        assert_non_null(strstr(err.message, bad[i].sent));
        alch_error_clear(&err);
        alch_result_free(r);
    }
    alch_conn_close(c);
    close_env(&v);
}

static void test_refresh(void **state)
{
    env v = open_env();
    alch_session *s = open_session(&v);
    alch_error err = ALCH_ERROR_INIT;
    Category cat = {.name = "Before"};
    CHECK_OK(alch_session_add(s, &Category_model, &cat, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    /* someone else renames it */
    alch_value p[] = {alch_v("After"), alch_v(cat.id)};
    alch_conn *c = NULL;
    CHECK_OK(alch_engine_connect(v.engine, &c, &err), err);
    CHECK_OK(alch_conn_execute_text(c, "UPDATE categories SET name = $1 WHERE id = $2", p, 2, NULL,
                                    &err),
             err);
    CHECK_OK(alch_conn_commit(c, &err), err);
    alch_conn_close(c);
    echoed(&v); /* the other connection's UPDATE went to the same log */
    assert_string_equal(cat.name, "Before"); /* nothing reloads by itself */
    CHECK_OK(alch_session_refresh(s, &Category_model, &cat, &err), err);
    assert_string_equal(cat.name, "After");
    CHECK_OK(alch_session_commit(s, &err), err);
    assert_null(strstr(echoed(&v), "UPDATE")); /* a refreshed value is not a change */

    Category stranger = {.name = "x"};
    assert_int_equal(alch_session_refresh(s, &Category_model, &stranger, &err), ALCH_EMISUSE);
    alch_error_clear(&err);
    alch_session_close(s);
    close_env(&v);
}

static int scope_work(alch_session *s, void *data, alch_error *err)
{
    User *u = data;
    int rc = alch_session_add(s, &User_model, u, err);
    if (rc == 0 && u->tg_id < 0)
        rc = ALCH_EDATA; /* the work decides to fail: everything is rolled back */
    return rc;
}

static void test_scope_and_execute(void **state)
{
    env v = open_env();
    alch_error err = ALCH_ERROR_INIT;
    User good = {.tg_id = 4004}, bad = {.tg_id = -1};
    CHECK_OK(alch_session_scope(v.maker, scope_work, &good, &err), err);
    assert_true(good.id > 0);
    assert_int_equal(alch_session_scope(v.maker, scope_work, &bad, &err), ALCH_EDATA);
    alch_error_clear(&err);
    assert_int_equal(count(&v, "SELECT count(*) FROM users WHERE tg_id IN (4004, -1)"), 1);

    alch_session *s = open_session(&v);
    alch_result *r = NULL;
    alch_value p[] = {alch_v(4004)};
    CHECK_OK(alch_session_execute_text(s, "SELECT id FROM users WHERE tg_id = $1", p, 1, &r, &err),
             err);
    int64_t id = 0;
    CHECK_OK(alch_result_get_int(r, 0, 0, &id, &err), err);
    assert_int_equal(id, good.id);
    alch_result_free(r);
    alch_session_close(s);
    close_env(&v);
}

/* ---- the async face ------------------------------------------------------------------ */

typedef struct async_run {
    alch_engine *engine;
    alch_sessionmaker *maker;
    alch_session *s;
    User user;
    int busy_rc;
    int64_t got_tg;
    int steps;
} async_run;

static void on_got(alch_session *s, int status, void *obj, const alch_error *err, void *data)
{
    async_run *a = data;
    assert_int_equal(status, 0);
    assert_non_null(obj);
    a->got_tg = ((User *)obj)->tg_id;
    a->steps++;
    alch_session_close(s); /* closing a session from its own callback is allowed */
}

static void on_committed(alch_session *s, int status, const alch_error *err, void *data)
{
    async_run *a = data;
    assert_int_equal(status, 0);
    a->steps++;
    /* a fresh session, so the get really goes to the database */
    alch_session *s2 = NULL;
    assert_int_equal(alch_session_open(a->maker, &s2, NULL), 0);
    assert_int_equal(alch_session_get_async(s2, &User_model, alch_v(a->user.id), on_got, a), 0);
    alch_session_close(s);
}

/* For the calls that must not start. */
static void on_listed(alch_session *s, int status, const alch_list *objs, const alch_error *err,
                      void *data)
{
    (void)s, (void)status, (void)objs, (void)err, (void)data;
    fail_msg("a call that could not start called back");
}

static void test_async_session(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    async_run a = {.user = {.tg_id = 5005}};
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create_on_loop(&loop, db_url, NULL, &a.engine, &err), err);
    CHECK_OK(alch_sessionmaker_create(a.engine, base, NULL, &a.maker, &err), err);
    CHECK_OK(alch_session_open(a.maker, &a.s, &err), err);
    CHECK_OK(alch_session_add(a.s, &User_model, &a.user, &err), err);
    assert_int_equal(alch_session_commit_async(a.s, on_committed, &a), 0);
    /* one session per task: a second operation while the first runs is refused */
    assert_int_equal(alch_session_flush_async(a.s, on_committed, &a), ALCH_EBUSY);
    assert_non_null(strstr(alch_session_start_error(a.s)->message, "one session per task"));
    assert_int_equal(alch_session_commit(a.s, &err), ALCH_EMISUSE); /* wrong face */
    alch_error_clear(&err);
    assert_int_equal(a.steps, 0); /* nothing completes inside the call */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(a.steps, 2);
    assert_int_equal(a.got_tg, 5005);
    alch_sessionmaker_free(a.maker);
    alch_engine_free(a.engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- use after close ------------------------------------------------------------------ */

/* A closed session or a freed result used again: a MisuseError that says so, not a crash
 * (and, under AddressSanitizer, not a heap-use-after-free). */
static void expect_misuse(int rc, alch_error *err, const char *sentence)
{
    assert_int_equal(rc, ALCH_EMISUSE);
    char *text = alch_error_format(err);
    if (!text || !strstr(text, sentence))
        fail_msg("expected \"%s\" in: %s", sentence, text ? text : "(nothing)");
    assert_non_null(strstr(text, "MisuseError: "));
    free(text);
    alch_error_clear(err);
}

static void test_use_after_close(void **state)
{
    env v = open_env();
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s = open_session(&v);
    User u = {.tg_id = 6006};
    CHECK_OK(alch_session_add(s, &User_model, &u, &err), err);
    CHECK_OK(alch_session_commit(s, &err), err);
    alch_result *r = NULL;
    CHECK_OK(alch_session_execute_text(s, "SELECT 42 AS answer", NULL, 0, &r, &err), err);
    alch_session_close(s);

    const char *closed = "this session was closed";
    void *found = NULL;
    expect_misuse(alch_session_get(s, &User_model, alch_v(u.id), &found, &err), &err, closed);
    assert_null(found);
    User w = {.tg_id = 6007};
    expect_misuse(alch_session_add(s, &User_model, &w, &err), &err, closed);
    expect_misuse(alch_session_commit(s, &err), &err, closed);
    expect_misuse(alch_session_begin(s, &err), &err, closed);
    alch_stmt *st = alch_select(&User_model);
    alch_list users = {0};
    expect_misuse(alch_session_scalars(s, st, &users, &err), &err, closed);
    assert_int_equal(users.count, 0);
    alch_stream *stream = NULL;
    expect_misuse(alch_session_stream(s, st, 10, &stream, &err), &err, closed);
    assert_null(stream);
    alch_stmt_free(st);
    assert_int_equal(alch_session_state(s, &u), ALCH_TRANSIENT);
    alch_session_close(s); /* twice: nothing happens */

    /* the result outlives its session; freed, it is empty and says why */
    int64_t answer = 0;
    CHECK_OK(alch_result_get_int(r, 0, 0, &answer, &err), err);
    assert_int_equal(answer, 42);
    alch_result_free(r);
    expect_misuse(alch_result_get_int(r, 0, 0, &answer, &err), &err, "this result was freed");
    const char *text = NULL;
    expect_misuse(alch_result_get_text(r, 0, 0, &text, &err), &err, "this result was freed");
    assert_null(text);
    assert_int_equal(alch_result_rows(r), 0);
    assert_int_equal(alch_result_columns(r), 0);
    size_t col = 9;
    assert_int_equal(alch_result_column_index(r, "answer", &col), ALCH_EMISUSE);
    alch_result_free(r); /* twice: nothing happens */
    close_env(&v);
}

/* An engine on @p loop, its sessionmaker and one open session (the use-after-close tests). */
static void open_async_session(uv_loop_t *loop, alch_engine **engine, alch_sessionmaker **maker,
                               alch_session **s)
{
    alch_error err = ALCH_ERROR_INIT;
    uv_loop_init(loop);
    CHECK_OK(alch_engine_create_on_loop(loop, db_url, NULL, engine, &err), err);
    CHECK_OK(alch_sessionmaker_create(*engine, base, NULL, maker, &err), err);
    CHECK_OK(alch_session_open(*maker, s, &err), err);
}

static void test_use_after_close_async(void **state)
{
    uv_loop_t loop;
    alch_engine *engine = NULL;
    alch_sessionmaker *maker = NULL;
    alch_session *s = NULL;
    open_async_session(&loop, &engine, &maker, &s);
    alch_session_close(s);
    assert_int_equal(alch_session_commit_async(s, on_committed, NULL), ALCH_EMISUSE);
    assert_non_null(strstr(alch_session_start_error(s)->message, "this session was closed"));
    alch_stmt *st = alch_select(&User_model);
    assert_int_equal(alch_session_scalars_async(s, st, on_listed, NULL), ALCH_EMISUSE);
    alch_stmt_free(st);
    alch_sessionmaker_free(maker);
    alch_engine_free(engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Closed inside its own callback, then used again in the same callback: the session's header
 * lives until the callback returns, so only the close itself can tell. What the session
 * loaded is freed at the close, so AddressSanitizer sees an object read after it. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define FREED(p) __asan_address_is_poisoned(p)
#else
#define FREED(p) true /* only AddressSanitizer can tell */
#endif

typedef struct closed_in_cb {
    User user;
    alch_sessionmaker *maker;
    alch_stmt *query;
    int calls;
} closed_in_cb;

static void on_loaded_then_closed(alch_session *s, int status, const alch_list *users,
                                  const alch_error *err, void *data)
{
    closed_in_cb *c = data;
    assert_int_equal(status, 0);
    c->calls++;
    assert_int_equal(users->count, 1);
    User *loaded = users->items[0];
    assert_ptr_not_equal(loaded, &c->user);
    assert_int_equal(loaded->tg_id, 6008);
    assert_int_equal(alch_session_state(s, loaded), ALCH_PERSISTENT);
    alch_session_close(s);

    assert_true(FREED(loaded));
    assert_true(FREED(users));
    const char *closed = "this session was closed";
    alch_error e = ALCH_ERROR_INIT;
    assert_int_equal(alch_session_state(s, &c->user), ALCH_TRANSIENT);
    User w = {.tg_id = 6009};
    expect_misuse(alch_session_add(s, &User_model, &w, &e), &e, closed);
    expect_misuse(alch_session_commit(s, &e), &e, closed);
    assert_int_equal(alch_session_commit_async(s, on_committed, NULL), ALCH_EMISUSE);
    assert_non_null(strstr(alch_session_start_error(s)->message, closed));
    alch_stmt *st = alch_select(&User_model);
    assert_int_equal(alch_session_scalars_async(s, st, on_listed, NULL), ALCH_EMISUSE);
    assert_non_null(strstr(alch_session_start_error(s)->message, closed));
    assert_int_equal(alch_session_stream_async(s, st, 10, NULL, NULL), ALCH_EMISUSE);
    assert_non_null(strstr(alch_session_start_error(s)->message, closed));
    alch_stmt_free(st);
    alch_session_close(s); /* twice in the callback: nothing happens */
}

static void on_added(alch_session *s, int status, const alch_error *err, void *data)
{
    assert_int_equal(status, 0);
    closed_in_cb *c = data;
    alch_session_close(s);
    /* a fresh session: the user is loaded into its memory, not found in this one's map */
    alch_session *s2 = NULL;
    assert_int_equal(alch_session_open(c->maker, &s2, NULL), 0);
    c->query = alch_select(&User_model);
    alch_where(c->query, alch_eq(alch_col(&User_model, "tg_id"), alch_v(6008)));
    assert_int_equal(alch_session_scalars_async(s2, c->query, on_loaded_then_closed, c), 0);
}

static void test_use_after_close_in_callback(void **state)
{
    uv_loop_t loop;
    alch_engine *engine = NULL;
    alch_sessionmaker *maker = NULL;
    alch_session *s = NULL;
    open_async_session(&loop, &engine, &maker, &s);
    alch_error err = ALCH_ERROR_INIT;
    closed_in_cb c = {.user = {.tg_id = 6008}, .maker = maker};
    CHECK_OK(alch_session_add(s, &User_model, &c.user, &err), err);
    assert_int_equal(alch_session_commit_async(s, on_added, &c), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(c.calls, 1);
    alch_stmt_free(c.query);
    alch_sessionmaker_free(maker);
    alch_engine_free(engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_commit_get),
        cmocka_unit_test(test_update_changed_columns_only),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_rollback_restores),
        cmocka_unit_test(test_server_defaults),
        cmocka_unit_test(test_rows_of_defaults_only),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_autobegin_off),
        cmocka_unit_test(test_relationships_load_explicitly),
        cmocka_unit_test(test_relationships_set_foreign_keys),
        cmocka_unit_test(test_integer_edges),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_scope_and_execute),
        cmocka_unit_test(test_async_session),
        cmocka_unit_test(test_use_after_close),
        cmocka_unit_test(test_use_after_close_async),
        cmocka_unit_test(test_use_after_close_in_callback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
