/* database/requests.c: the seed's database/requests.py, in C. Exercise 06 writes the requests,
 * exercise 07 the shop that serves many users at once, each between its own BEGIN/END lines
 * (keep those lines: ./tutor hashes, resets and shows one exercise at a time). */
#include "requests.h"

#include <stdlib.h>

/* ---- 06: requests ------------------------------------------------------------------------ */
/* BEGIN exercise 06 */

int set_user(alch_session *s, int64_t tg_id, alch_error *err)
{
    alch_stmt *st = alch_insert(&User_model);
    alch_set(st, ALCH_COL(User, tg_id), tg_id);
    alch_on_conflict_do_nothing(st, ALCH_COL(User, tg_id));
    int rc = alch_session_execute(s, st, NULL, err);
    alch_stmt_free(st);
    return rc ? rc : alch_session_commit(s, err);
}

int get_categories(alch_session *s, alch_list *out, alch_error *err)
{
    alch_stmt *st = alch_order_by(alch_select(&Category_model), ALCH_COL(Category, id));
    int rc = alch_session_scalars(s, st, out, err);
    alch_stmt_free(st);
    return rc;
}

int get_category_items(alch_session *s, int64_t category_id, alch_list *out, alch_error *err)
{
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, category), category_id));
    alch_order_by(st, ALCH_COL(Item, id));
    int rc = alch_session_scalars(s, st, out, err);
    alch_stmt_free(st);
    return rc;
}

int get_item(alch_session *s, int64_t item_id, Item **out, alch_error *err)
{
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), item_id));
    int rc = alch_session_scalar_one_or_none(s, st, (void **)out, err);
    alch_stmt_free(st);
    return rc;
}

/* END exercise 06 */

/* ---- 07: the shop on a loop -------------------------------------------------------------- */
/* BEGIN exercise 07 */

typedef struct serve {
    alch_stmt **stmts; /* one per user, freed after the loop (each call copies its statement) */
    int registered;
} serve;

static void on_registered(alch_session *s, int status, alch_result *res, const alch_error *err,
                          void *data)
{
    (void)err;
    serve *sv = data;
    if (status == 0)
        sv->registered++;
    alch_result_free(res); /* execute hands its result to the callback */
    alch_session_close(s); /* the engine's pool is autocommit here: nothing to commit */
}

int db_serve(uv_loop_t *loop, const char *url, const int64_t *tg_ids, size_t n, int *registered,
             alch_error *err)
{
    alch_engine_options opts = alch_engine_options_default();
    opts.pool_size = 5;
    opts.isolation_level = "AUTOCOMMIT"; /* each INSERT commits by itself */
    alch_engine *async_engine;
    alch_sessionmaker *async_session;
    int rc = alch_engine_create_on_loop(loop, url, &opts, &async_engine, err);
    if (rc)
        return rc;
    rc = alch_sessionmaker_create(async_engine, base, NULL, &async_session, err);
    serve sv = {calloc(n ? n : 1, sizeof(alch_stmt *)), 0};
    for (size_t i = 0; rc == 0 && i < n; i++) {
        alch_stmt *st = alch_insert(&User_model);
        alch_set(st, ALCH_COL(User, tg_id), tg_ids[i]);
        alch_on_conflict_do_nothing(st, ALCH_COL(User, tg_id));
        sv.stmts[i] = st;
        alch_session *s;
        rc = alch_session_open(async_session, &s, err);
        if (rc == 0 && alch_session_execute_async(s, st, on_registered, &sv) != 0)
            alch_session_close(s);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < n; i++)
        alch_stmt_free(sv.stmts[i]);
    free(sv.stmts);
    *registered = sv.registered;
    alch_sessionmaker_free(async_session);
    alch_engine_free(async_engine);
    uv_run(loop, UV_RUN_DEFAULT);
    return rc;
}
/* END exercise 07 */
