/* Autoflush that does not grow with the session (session.h, "Autoflush"): before a query the
 * session sends the changes of new, deleted and handed-out objects (loaded or returned since the
 * last flush), and nothing else is looked at; commit and alch_session_flush() look at every
 * object; ALCH_DEBUG_AUTOFLUSH=1 compares the two and names an object the rule missed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alch/alch.h>

#include "session/session_internal.h"
#include "shop.h"
#include "support.h"

static char *db_url;
static alch_base *base;

static int setup(void **state)
{
    (void)state;
    db_url = alch_test_db_create("autoflush");
    base = alch_test_base(db_url, (const alch_model *[]){&User_model, &Category_model, &Item_model},
                          3);
    alch_error err = ALCH_ERROR_INIT;
    alch_conn *c = NULL;
    CHECK_OK(alch_conn_open(db_url, &c, &err), err);
    CHECK_OK(alch_conn_execute_text(
                 c, "INSERT INTO users (tg_id) SELECT g FROM generate_series(1, 3000) g", NULL, 0,
                 NULL, &err),
             err);
    alch_conn_close(c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    alch_base_free(base);
    alch_test_db_drop(db_url);
    return 0;
}

/* An engine that echoes into a file, and a factory made with ALCH_DEBUG_AUTOFLUSH as given
 * (NULL: unset), whatever the test preset's environment says. */
typedef struct env {
    alch_engine *engine;
    alch_sessionmaker *maker;
    alch_session *s;
    FILE *log;
} env;

static env open_env(const char *debug)
{
    env v = {0};
    v.log = tmpfile();
    alch_engine_options o = alch_engine_options_default();
    o.echo = true;
    o.echo_file = v.log;
    alch_error err = ALCH_ERROR_INIT;
    CHECK_OK(alch_engine_create(db_url, &o, &v.engine, &err), err);
    char *was = getenv("ALCH_DEBUG_AUTOFLUSH");
    was = was ? strdup(was) : NULL;
    if (debug)
        setenv("ALCH_DEBUG_AUTOFLUSH", debug, 1);
    else
        unsetenv("ALCH_DEBUG_AUTOFLUSH");
    CHECK_OK(alch_sessionmaker_create(v.engine, base, NULL, &v.maker, &err), err);
    if (was)
        setenv("ALCH_DEBUG_AUTOFLUSH", was, 1);
    else
        unsetenv("ALCH_DEBUG_AUTOFLUSH");
    free(was);
    CHECK_OK(alch_session_open(v.maker, &v.s, &err), err);
    return v;
}

static void close_env(env *v)
{
    alch_session_close(v->s);
    alch_sessionmaker_free(v->maker);
    alch_engine_free(v->engine);
    fclose(v->log);
}

/* What echo wrote since the last call (its last 8 KiB). */
static const char *echoed(env *v)
{
    static char text[8192];
    static long seen;
    static FILE *of;
    if (of != v->log)
        of = v->log, seen = 0;
    long end = ftell(v->log);
    if (end - seen > (long)sizeof text - 1)
        seen = end - (long)sizeof text + 1;
    fseek(v->log, seen, SEEK_SET);
    size_t n = fread(text, 1, (size_t)(end - seen), v->log);
    text[n] = '\0';
    seen = end;
    fseek(v->log, end, SEEK_SET);
    return text;
}

/* The user with this tg_id, through a query (autoflush runs first), or NULL. */
static User *by_tg_id(env *v, int64_t tg_id, int *rc, alch_error *err)
{
    alch_stmt *st = alch_select(&User_model);
    alch_where(st, alch_eq(ALCH_COL(User, tg_id), tg_id));
    void *got = NULL;
    *rc = alch_session_scalar_one_or_none(v->s, st, &got, err);
    alch_stmt_free(st);
    return got;
}

static User *get_user(env *v, int64_t id)
{
    alch_error err = ALCH_ERROR_INIT;
    void *got = NULL;
    CHECK_OK(alch_session_get(v->s, &User_model, alch_v(id), &got, &err), err);
    assert_non_null(got);
    return got;
}

/* A loaded object changed before a query that reads it: the query's WHERE sees the new value
 * (the server found the row by it), and the UPDATE went before the SELECT. */
static void test_changed_loaded_object_is_flushed(void **state)
{
    (void)state;
    env v = open_env(NULL);
    alch_error err = ALCH_ERROR_INIT;
    User *u = get_user(&v, 10);
    u->tg_id = 1000010;
    int rc;
    User *found = by_tg_id(&v, 1000010, &rc, &err);
    CHECK_OK(rc, err);
    assert_ptr_equal(found, u);
    const char *log = echoed(&v);
    const char *upd = strstr(log, "UPDATE users SET tg_id = $1 WHERE users.id = $2");
    assert_non_null(upd);
    assert_non_null(strstr(upd, "SELECT users.id, users.tg_id FROM users WHERE users.tg_id = $1"));

    /* an object a query returned counts the same way */
    found->tg_id = 2000010;
    assert_ptr_equal(by_tg_id(&v, 2000010, &rc, &err), u);
    CHECK_OK(rc, err);
    CHECK_OK(alch_session_rollback(v.s, &err), err);
    close_env(&v);
}

/* The rule's edge: loaded, flushed by a query, then changed without being handed out again.
 * The next query does not look at it (it is not in the set), so the server does not see the
 * change yet; alch_session_add() hands it back and the query after that does; commit sends
 * whatever is left in any case. */
static void test_changed_after_a_flush_needs_add(void **state)
{
    (void)state;
    env v = open_env(NULL);
    alch_error err = ALCH_ERROR_INIT;
    User *u = get_user(&v, 20);
    int rc;
    assert_null(by_tg_id(&v, -1, &rc, &err)); /* autoflush: nothing to send, the set empties */
    CHECK_OK(rc, err);
    echoed(&v);
    u->tg_id = 1000020;
    assert_null(by_tg_id(&v, 1000020, &rc, &err)); /* not sent: the server has 20 still */
    CHECK_OK(rc, err);
    assert_null(strstr(echoed(&v), "UPDATE"));
    assert_int_equal(u->tg_id, 1000020); /* the struct keeps your value */

    CHECK_OK(alch_session_add(v.s, &User_model, u, &err), err); /* handed back */
    assert_ptr_equal(by_tg_id(&v, 1000020, &rc, &err), u);
    CHECK_OK(rc, err);
    assert_non_null(strstr(echoed(&v), "UPDATE users SET tg_id = $1"));

    /* commit scans every object: a change made after the last flush is sent anyway */
    assert_null(by_tg_id(&v, -1, &rc, &err));
    u->tg_id = 3000020;
    CHECK_OK(alch_session_commit(v.s, &err), err);
    assert_non_null(strstr(echoed(&v), "UPDATE users SET tg_id = $1"));
    assert_ptr_equal(by_tg_id(&v, 3000020, &rc, &err), u);
    CHECK_OK(rc, err);
    u->tg_id = 20; /* put the row back for the other tests */
    CHECK_OK(alch_session_commit(v.s, &err), err);
    close_env(&v);
}

/* With ALCH_DEBUG_AUTOFLUSH=1 every autoflush also scans all objects, and a change the rule
 * would miss stops the query with a sentence naming the object and the column. */
static void test_debug_names_a_missed_change(void **state)
{
    (void)state;
    env v = open_env("1");
    alch_error err = ALCH_ERROR_INIT;
    User *u = get_user(&v, 30);
    int rc;
    assert_null(by_tg_id(&v, -1, &rc, &err));
    CHECK_OK(rc, err);
    u->tg_id = 1000030;
    assert_null(by_tg_id(&v, 1000030, &rc, &err));
    assert_int_equal(rc, ALCH_EMISUSE);
    assert_string_equal(err.message,
                        "autoflush missed a change: User id=30 was changed (column tg_id) after "
                        "the last flush and was not handed to the session again, so this query "
                        "would run without it");
    assert_non_null(strstr(err.hint, "alch_session_add()"));
    alch_error_clear(&err);
    CHECK_OK(alch_session_add(v.s, &User_model, u, &err), err);
    assert_ptr_equal(by_tg_id(&v, 1000030, &rc, &err), u);
    CHECK_OK(rc, err);
    CHECK_OK(alch_session_rollback(v.s, &err), err);
    close_env(&v);
}

/* A session holding 3,000 loaded objects: after one query's autoflush the set is empty, and
 * each lookup after that adds only what it hands out (the cost of an autoflush does not grow
 * with what the session holds). The debug check agrees with the set throughout. */
static void test_set_does_not_grow(void **state)
{
    (void)state;
    env v = open_env("1");
    alch_error err = ALCH_ERROR_INIT;
    alch_stmt *all = alch_select(&User_model);
    alch_list users;
    CHECK_OK(alch_session_scalars(v.s, all, &users, &err), err);
    alch_stmt_free(all);
    assert_true(users.count >= 3000);
    assert_true(v.s->ntouched >= 3000); /* handed out: the next autoflush looks at them */
    int rc;
    for (int64_t k = 1; k <= 50; k++) {
        User *u = by_tg_id(&v, k, &rc, &err);
        CHECK_OK(rc, err);
        assert_non_null(u);
        assert_int_equal(v.s->ntouched, 1); /* only the user this query returned */
    }
    /* a change to one handed out by the last query is still seen */
    User *last = by_tg_id(&v, 77, &rc, &err);
    CHECK_OK(rc, err);
    last->tg_id = 1000077;
    assert_ptr_equal(by_tg_id(&v, 1000077, &rc, &err), last);
    CHECK_OK(rc, err);
    CHECK_OK(alch_session_rollback(v.s, &err), err);
    assert_int_equal(v.s->ntouched, 0);
    close_env(&v);
}

/* New and deleted objects are always in the set; a relationship set on a loaded object that
 * was handed out reaches the database before a query too. */
static void test_new_deleted_and_related(void **state)
{
    (void)state;
    env v = open_env("1");
    alch_error err = ALCH_ERROR_INIT;
    User *gone = get_user(&v, 40);
    int rc;
    assert_null(by_tg_id(&v, -1, &rc, &err)); /* the set empties */
    CHECK_OK(rc, err);
    CHECK_OK(alch_session_delete(v.s, &User_model, gone, &err), err);
    User fresh = {.tg_id = 5000040};
    CHECK_OK(alch_session_add(v.s, &User_model, &fresh, &err), err);
    assert_null(by_tg_id(&v, 40, &rc, &err)); /* deleted before the query */
    CHECK_OK(rc, err);
    assert_ptr_equal(by_tg_id(&v, 5000040, &rc, &err), &fresh);
    CHECK_OK(rc, err);

    Category tea = {.name = "Tea"};
    Item cup = {.name = "Cup", .description = "", .price = 3, .category_obj = {&tea, false}};
    CHECK_OK(alch_session_add(v.s, &Item_model, &cup, &err), err);
    alch_stmt *st = alch_select(&Category_model);
    alch_where(st, alch_eq(ALCH_COL(Category, name), "Tea"));
    void *got = NULL;
    CHECK_OK(alch_session_scalar_one(v.s, st, &got, &err), err);
    alch_stmt_free(st);
    assert_ptr_equal(got, &tea); /* the related category went in with the item */
    assert_int_equal(cup.category, tea.id);
    CHECK_OK(alch_session_rollback(v.s, &err), err);
    close_env(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changed_loaded_object_is_flushed),
        cmocka_unit_test(test_changed_after_a_flush_needs_add),
        cmocka_unit_test(test_debug_names_a_missed_change),
        cmocka_unit_test(test_set_does_not_grow),
        cmocka_unit_test(test_new_deleted_and_related),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
