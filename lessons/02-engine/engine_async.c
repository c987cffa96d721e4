/* Lesson 02, program 3: the async engine, the seed's create_async_engine().
 *
 * Five tasks share one engine on one libuv loop. Each checks a connection out of the
 * pool, runs one statement and hands the connection back, all without blocking: while
 * one task waits for the server, the loop serves the others. */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include <alch/alch.h>

#define TASKS 5

//! [task]
/* What one task knows: its number, and the answer once it has it. */
typedef struct task {
    int number;
    int status;     /* 0 when the answer arrived, else an alch error code */
    int64_t answer; /* number * 10, computed by the server */
} task;
//! [task]

//! [on_result]
/* The statement is done: keep the answer, then hand the connection back to the pool. */
static void on_result(alch_conn *conn, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    task *t = data;
    printf("a task got its answer\n"); /* which task varies from run to run */
    t->status = status;
    if (status == 0) {
        alch_error get_err = ALCH_ERROR_INIT;
        t->status = alch_result_get_int(res, 0, 0, &t->answer, &get_err);
        alch_error_clear(&get_err);
        alch_result_free(res);
    }
    alch_conn_close(conn); /* back to the pool; its open transaction is rolled back */
}
//! [on_result]

//! [on_conn]
/* A connection is ours: start the statement with the task's own number. */
static void on_conn(alch_conn *conn, int status, const alch_error *err, void *data)
{
    task *t = data;
    if (status != 0) {
        t->status = status;
        return;
    }
    alch_value params[] = {alch_v(t->number)};
    t->status = alch_conn_execute_text_async(conn, "SELECT $1::int * 10", params, 1, on_result, t);
    if (t->status != 0)
        alch_conn_close(conn); /* it did not start: on_result will not be called */
}
//! [on_conn]

int main(void)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    if (!url || !*url) {
        fprintf(stderr, "ALCH_DATABASE_URL is not set: run this lesson with `./tutor run 2`.\n");
        return 1;
    }

    //! [create]
    uv_loop_t *loop = uv_default_loop();
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *engine = NULL;
    if (alch_engine_create_on_loop(loop, url, NULL, &engine, &err) != 0) {
        char *text = alch_error_format(&err);
        printf("%s\n", text ? text : "out of memory");
        free(text);
        alch_error_clear(&err);
        return 1;
    }
    //! [create]

    //! [start]
    task tasks[TASKS];
    for (int i = 0; i < TASKS; i++) {
        tasks[i] = (task){.number = i + 1, .status = ALCH_ECANCELED}; /* until it is done */
        int rc = alch_engine_connect_async(engine, on_conn, &tasks[i]);
        if (rc != 0)
            tasks[i].status = rc; /* not queued: on_conn will not be called */
    }
    alch_pool_status s = alch_engine_pool_status(engine);
    printf("%d tasks started: %d open, %d waiting for a connection\n", TASKS, s.size, s.waiting);
    //! [start]

    //! [run]
    uv_run(loop, UV_RUN_DEFAULT); /* returns when every task is done */
    s = alch_engine_pool_status(engine);
    printf("all done: %d open, %d idle\n", s.size, s.idle);
    //! [run]

    //! [report]
    /* The tasks finished in whatever order the server answered; print them in order. */
    for (int i = 0; i < TASKS; i++) {
        if (tasks[i].status == 0)
            printf("task %d: %d * 10 = %lld\n", tasks[i].number, tasks[i].number,
                   (long long)tasks[i].answer);
        else
            printf("task %d failed: %s\n", tasks[i].number, alch_strerror(tasks[i].status));
    }
    //! [report]

    //! [free]
    alch_engine_free(engine);
    uv_run(loop, UV_RUN_DEFAULT); /* let libuv finish closing the connections' handles */
    uv_loop_close(loop);
    //! [free]
    return 0;
}
