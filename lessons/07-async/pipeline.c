/* Lesson 07, program 6: a transaction in one round trip.
 *
 * Three users arrive at once. Their INSERTs need none of each other's answers, so the
 * session can send them together, with BEGIN and COMMIT, and wait once: a pipeline. Then
 * the same with a statement that fails, to see what happens to the ones after it. */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "../06-requests/models.h"

static void print_error(const alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
}

//! [answered]
static void on_inserted(alch_session *s, int status, alch_result *res, const alch_error *err,
                        void *data)
{
    (void)s;
    int *n = data;
    ++*n;
    if (status != 0) {
        printf("statement %d: ", *n);
        print_error(err);
    } else {
        printf("statement %d: done\n", *n);
    }
    alch_result_free(res);
}

static void on_committed(alch_session *s, int status, const alch_error *err, void *data)
{
    (void)data;
    if (status != 0)
        print_error(err);
    else
        printf("committed\n");
    alch_session_close(s);
}
//! [answered]

/* Queue one INSERT per tg_id in a pipeline, then the commit that sends them all. */
static int register_all(alch_sessionmaker *async_session, const char *sql, const int64_t *tg_ids,
                        int n, int *answered)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_session *s;
    if (alch_session_open(async_session, &s, &err) != 0) {
        print_error(&err);
        return -1;
    }
    //! [pipeline]
    if (alch_session_pipeline(s, &err) != 0) { /* the next statements queue */
        print_error(&err);
        alch_session_close(s);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        alch_value tg_id = alch_v(tg_ids[i]); /* copied: it may go now */
        if (alch_session_execute_text_async(s, sql, &tg_id, 1, on_inserted, answered) != 0) {
            print_error(alch_session_start_error(s));
            alch_session_close(s); /* drops the pipeline unsent */
            return -1;
        }
    }
    alch_session_commit_async(s, on_committed, NULL); /* sends all, with BEGIN and COMMIT */
    printf("queued %d statements and the commit\n", n);
    //! [pipeline]
    return 0;
}

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    alch_error err = ALCH_ERROR_INIT;
    if (models_init(url, false, &err) != 0) {
        print_error(&err);
        return 1;
    }
    uv_loop_t *loop = uv_default_loop();
    alch_engine_options opts = alch_engine_options_default(); /* transactional, as usual */
    opts.echo = true;
    alch_engine *async_engine;
    alch_sessionmaker *async_session;
    if (alch_engine_create_on_loop(loop, url, &opts, &async_engine, &err) != 0 ||
        alch_sessionmaker_create(async_engine, base, NULL, &async_session, &err) != 0) {
        print_error(&err);
        return 1;
    }

    //! [first]
    const int64_t arrivals[] = {7101, 7102, 7103};
    int answered = 0;
    register_all(async_session,
                 "INSERT INTO users (tg_id) VALUES ($1) ON CONFLICT (tg_id) DO NOTHING",
                 arrivals, 3, &answered);
    uv_run(loop, UV_RUN_DEFAULT);
    //! [first]

    //! [failing]
    const int64_t again[] = {7104, 7101, 7105}; /* 7101 is there already */
    answered = 0;
    register_all(async_session, "INSERT INTO users (tg_id) VALUES ($1)", again, 3, &answered);
    uv_run(loop, UV_RUN_DEFAULT);
    //! [failing]

    alch_session *s;
    alch_result *res;
    if (alch_session_open(session_factory, &s, &err) != 0 ||
        alch_session_execute_text(s, "SELECT count(*) FROM users WHERE tg_id BETWEEN 7101 AND 7105",
                                  NULL, 0, &res, &err) != 0) {
        print_error(&err);
        return 1;
    }
    int64_t count = 0;
    alch_result_get_int(res, 0, 0, &count, &err);
    printf("users with tg_id 7101..7105: %lld\n", (long long)count);
    alch_result_free(res);
    alch_session_close(s);

    alch_sessionmaker_free(async_session);
    alch_engine_free(async_engine);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    models_close();
    return 0;
}
