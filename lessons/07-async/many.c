/* Lesson 07, program 2: 200 requests, one after another, then all at once on one loop.
 *
 * Each request is what a bot does for one user: open a session, ask one question, close the
 * session. The question is slow on purpose: pg_sleep(0.02) stands for 20 ms of database
 * work. The program prints both wall times and draws timeline.svg: which request ran on
 * which pooled connection, and when. */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "../06-requests/models.h"

enum { REQUESTS = 200, POOL = 10 };

//! [query]
/* The slow question, and two answers for the timeline: which server process (so which
 * pooled connection) ran it, and how long it ran there. */
static const char SLOW_QUERY[] =
    "SELECT pg_backend_pid(), "
    "extract(epoch FROM clock_timestamp() - statement_timestamp())::float8 * 1000 "
    "FROM pg_sleep(0.02)";
//! [query]

typedef struct request {
    double started, finished; /* ms since the first request was asked */
    int lane;                 /* the pooled connection that ran it */
    int status;
} request;

static request requests[REQUESTS];
static int pids[POOL * 2], npids;
static uint64_t t0;

static double since_t0(void)
{
    return (double)(uv_hrtime() - t0) / 1e6;
}

/* The request's connection, from its server process id (first seen, first lane). */
static int lane_of(int pid)
{
    for (int i = 0; i < npids; i++)
        if (pids[i] == pid)
            return i;
    pids[npids] = pid;
    return npids++;
}

static void record(request *r, const alch_result *res)
{
    int64_t pid = 0;
    double ran_ms = 0;
    alch_result_get_int(res, 0, 0, &pid, NULL);
    alch_result_get_double(res, 0, 1, &ran_ms, NULL);
    r->finished = since_t0();
    r->started = r->finished - ran_ms;
    r->lane = lane_of((int)pid);
}

//! [sync]
static double run_sync(alch_sessionmaker *factory)
{
    t0 = uv_hrtime();
    for (int i = 0; i < REQUESTS; i++) {
        alch_session *s;
        alch_result *res;
        alch_session_open(factory, &s, NULL);
        requests[i].status = alch_session_execute_text(s, SLOW_QUERY, NULL, 0, &res, NULL);
        if (requests[i].status == 0)
            alch_result_free(res);
        alch_session_close(s);
    }
    return since_t0();
}
//! [sync]

//! [async]
static void on_answer(alch_session *s, int status, alch_result *res, const alch_error *err,
                      void *data)
{
    (void)err;
    request *r = data;
    r->status = status;
    if (status == 0) {
        record(r, res);
        alch_result_free(res);
    }
    alch_session_close(s); /* its connection goes straight to the next waiting request */
}

static double run_async(uv_loop_t *loop, alch_sessionmaker *factory)
{
    t0 = uv_hrtime();
    for (int i = 0; i < REQUESTS; i++) { /* start every request: none waits for another */
        alch_session *s;
        alch_session_open(factory, &s, NULL);
        alch_session_execute_text_async(s, SLOW_QUERY, NULL, 0, on_answer, &requests[i]);
    }
    uv_run(loop, UV_RUN_DEFAULT); /* the loop serves them all, 10 at a time */
    return since_t0();
}
//! [async]

/* timeline.svg: one lane per pooled connection, one bar per request (its 20 ms of work),
 * and above the lanes, how many requests were still waiting for a connection. */
static void draw(const char *path, double wall_ms)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    const double left = 110, width = 760, lane_h = 22, top = 150;
    const double scale = width / wall_ms;
    int h = (int)(top + npids * lane_h + 40);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n",
            h);
    fprintf(f, "<rect width=\"900\" height=\"%d\" fill=\"white\"/>\n", h);
    fprintf(f,
            "<text x=\"10\" y=\"20\" font-size=\"14\">%d requests on one libuv loop, a pool "
            "of %d connections: %.0f ms</text>\n",
            REQUESTS, npids, wall_ms);
    /* waiting requests over time */
    fprintf(f, "<text x=\"10\" y=\"80\">requests</text><text x=\"10\" y=\"95\">waiting for "
               "a connection</text>\n<polyline fill=\"none\" "
               "stroke=\"#c0392b\" stroke-width=\"1.5\" points=\"");
    for (int px = 0; px <= (int)width; px += 4) {
        double t = px / scale;
        int waiting = 0;
        for (int i = 0; i < REQUESTS; i++)
            waiting += requests[i].started > t;
        fprintf(f, "%.1f,%.1f ", left + px, 130 - 100.0 * waiting / REQUESTS);
    }
    fprintf(f, "\"/>\n<text x=\"%.0f\" y=\"35\" fill=\"#c0392b\">%d</text>\n", left - 30, REQUESTS);
    fprintf(f, "<text x=\"%.0f\" y=\"134\" fill=\"#c0392b\">0</text>\n", left - 15);
    /* one lane per connection */
    for (int l = 0; l < npids; l++) {
        double y = top + l * lane_h;
        fprintf(f, "<text x=\"10\" y=\"%.0f\">connection %d</text>\n", y + 15, l + 1);
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#ddd\"/>\n",
                left, left + width, y + lane_h, y + lane_h);
    }
    for (int i = 0; i < REQUESTS; i++) {
        const request *r = &requests[i];
        /* early requests light, late ones dark: first come, first served shows */
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
                "fill=\"hsl(205,70%%,%d%%)\" stroke=\"white\">"
                "<title>request %d: %.1f-%.1f ms</title></rect>\n",
                left + r->started * scale, top + r->lane * lane_h + 3,
                (r->finished - r->started) * scale, lane_h - 6, 85 - 50 * i / REQUESTS, i + 1,
                r->started, r->finished);
    }
    fprintf(f,
            "<text x=\"%.0f\" y=\"%d\">0 ms</text><text x=\"%.0f\" y=\"%d\" "
            "text-anchor=\"end\">%.0f ms</text>\n</svg>\n",
            left, h - 10, left + width, h - 10, wall_ms);
    fclose(f);
}

int main(void)
{
    alch_error err = ALCH_ERROR_INIT;
    const char *url = getenv("ALCH_DATABASE_URL");
    if (models_init(url, false, &err) != 0)
        return 1;

    double sync_ms = run_sync(session_factory);
    printf("sync:  %d requests, one after another: %.2f s\n", REQUESTS, sync_ms / 1000);

    //! [pool]
    uv_loop_t *loop = uv_default_loop();
    alch_engine_options opts = alch_engine_options_default();
    opts.pool_size = POOL;
    opts.max_overflow = 0;
    alch_engine *async_engine;
    alch_sessionmaker *async_factory;
    alch_engine_create_on_loop(loop, url, &opts, &async_engine, &err);
    alch_sessionmaker_create(async_engine, base, NULL, &async_factory, &err);
    //! [pool]
    npids = 0;
    double async_ms = run_async(loop, async_factory);
    int failed = 0;
    for (int i = 0; i < REQUESTS; i++)
        failed += requests[i].status != 0;
    printf("async: %d requests on one loop, a pool of %d: %.2f s\n", REQUESTS, POOL,
           async_ms / 1000);
    printf("async is %.1f times faster\n", sync_ms / async_ms);
    printf("at least 4 times faster: %s\n", sync_ms / async_ms >= 4 ? "yes" : "no");
    printf("failed requests: %d; connections used: %d\n", failed, npids);
    draw("timeline.svg", async_ms);
    printf("timeline: timeline.svg\n");

    alch_sessionmaker_free(async_factory);
    alch_engine_free(async_engine);
    uv_run(loop, UV_RUN_DEFAULT);
    models_close();
    return 0;
}
