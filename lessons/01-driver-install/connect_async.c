/* Lesson 01, program 3: the same connection, the async way.
 *
 * In the seed, `await` marks the places where a Python coroutine waits for the database
 * while the program does other work. In C with libuv, we start an operation, hand it a
 * callback, and return; the event loop calls the callback when the answer is there.
 * The callback is the code that comes after the seed's `await`. */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include <alch/alch.h>

/* Print an error as alch formats it. The error belongs to alch: do not clear it. */
static void print_error(const alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
}

//! [on_answer]
/* Step 3: the statement is done. This is the last callback, so it closes the connection. */
static void on_answer(alch_conn *conn, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    if (status == 0) {
        int64_t answer = 0;
        alch_error get_err = ALCH_ERROR_INIT;
        if (alch_result_get_int(res, 0, 0, &answer, &get_err) == 0)
            printf("3. the answer arrived: %lld\n", (long long)answer);
        alch_error_clear(&get_err);
        alch_result_free(res); /* the result is ours: free it */
    } else {
        print_error(err);
    }
    alch_conn_close(conn);
    printf("4. connection closed: nothing is left for the loop to wait for\n");
}
//! [on_answer]

//! [on_open]
/* Step 2: the connection is ready (or failed). Start a statement and return at once. */
static void on_open(alch_conn *conn, int status, const alch_error *err, void *data)
{
    if (status != 0) {
        print_error(err);
        return;
    }
    printf("2. connected; sending a statement\n");
    alch_value params[] = {alch_v(7)}; /* the value travels apart from the SQL text */
    int rc = alch_conn_execute_text_async(conn, "SELECT $1::int * 6", params, 1, on_answer, NULL);
    if (rc != 0) { /* it did not start, so on_answer will not be called */
        print_error(alch_conn_start_error(conn));
        alch_conn_close(conn);
    }
}
//! [on_open]

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    if (!url || !*url) {
        fprintf(stderr, "ALCH_DATABASE_URL is not set: run this lesson with `./tutor run 1`.\n");
        return 1;
    }

    //! [main]
    uv_loop_t loop;
    uv_loop_init(&loop);

    /* Step 1: start connecting. The call returns before the connection is made. */
    alch_error err = ALCH_ERROR_INIT;
    if (alch_conn_open_async(&loop, url, on_open, NULL, &err) != 0) {
        print_error(&err); /* it did not start, so on_open will not be called: err says why */
        alch_error_clear(&err);
        uv_loop_close(&loop);
        return 1;
    }
    printf("1. connecting has started; now the loop runs\n");

    uv_run(&loop, UV_RUN_DEFAULT); /* returns when no callback is left to wait for */
    printf("5. uv_run returned\n");
    uv_loop_close(&loop);
    //! [main]
    return 0;
}
