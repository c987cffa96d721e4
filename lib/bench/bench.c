/* alch-bench: alch against raw libpq, in one run, on the same server.
 *
 *     alch-bench [--quick] [--runs N] [--only Wn] [URL]
 *
 * The shop schema (10 categories, 100,000 items with 60-character descriptions) is made in
 * a database of its own. Each workload runs the library and a raw-libpq baseline written
 * the fastest sensible way, N times each (median reported), and checks what was read.
 *
 *   W1  sequential point select: 20,000 items by primary key into a struct, one connection
 *   W2  concurrent point select: 50,000, 32 tasks on one libuv loop, a pool of 8
 *   W3  bulk insert: 100,000 new items in one transaction
 *   W4  fetch all: 100,000 items into structs
 *   W5  streaming: 1,000,000 rows, peak memory
 *
 * --quick uses a tenth of the sizes (CTest runs it to keep the benchmark working: it
 * checks correctness, not speed). Exit status: 0, or 1 when something read was wrong. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <alch/alch.h>
#include <libpq-fe.h>
#include <uv.h>

/* ---- the shop --------------------------------------------------------------------------- */

typedef struct Item {
    int64_t id;
    char *name;
    char *description;
    int32_t price;
    int64_t category;
} Item;

static const alch_column item_columns[] = {
    ALCH_COLUMN(Item, id, ALCH_BIGINT, .primary_key = true),
    ALCH_COLUMN(Item, name, ALCH_VARCHAR, .length = 25),
    ALCH_COLUMN(Item, description, ALCH_VARCHAR, .length = 120),
    ALCH_COLUMN(Item, price, ALCH_INTEGER),
    ALCH_COLUMN(Item, category, ALCH_BIGINT),
};
static const alch_model Item_model = ALCH_MODEL(Item, "items", item_columns);

typedef struct sizes {
    int w1, w2, w3, w4, w5;
} sizes;

static const char *url;
static alch_base *base;
static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "alch-bench: wrong result: " __VA_ARGS__);                             \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* libpq's own parameters for the URL (which may say postgresql+libpq://, unknown to libpq). */
static const char *pq_keys[32], *pq_vals[32];

static void pq_params(const alch_url *u)
{
    int n = 0;
    const char *k, *v;
#define PUT(key, val)                                                                              \
    do {                                                                                           \
        if ((val) && n < 30) {                                                                     \
            pq_keys[n] = (key);                                                                    \
            pq_vals[n++] = (val);                                                                  \
        }                                                                                          \
    } while (0)
    PUT("host", alch_url_host(u));
    PUT("port", alch_url_port(u));
    PUT("user", alch_url_username(u));
    PUT("password", alch_url_password(u));
    PUT("dbname", alch_url_database(u));
    for (size_t i = 0; alch_url_query_at(u, i, &k, &v) == 0; i++)
        PUT(k, v);
#undef PUT
    pq_keys[n] = pq_vals[n] = NULL;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs such as "table does not exist, skipping" */
}

static PGconn *raw_connect(void)
{
    PGconn *c = PQconnectdbParams(pq_keys, pq_vals, 0);
    PQsetNoticeProcessor(c, quiet, NULL);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "alch-bench: cannot connect: %s", PQerrorMessage(c));
        exit(2);
    }
    return c;
}

static void raw_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "alch-bench: %s: %s", sql, PQerrorMessage(c));
        exit(2);
    }
    PQclear(r);
}

/* The expected price of item i (the data is deterministic). */
static int32_t price_of(int64_t id)
{
    return (int32_t)(id * 7 % 1000);
}

static void make_shop(int items)
{
    PGconn *c = raw_connect();
    raw_exec(c, "DROP TABLE IF EXISTS items, big, categories");
    raw_exec(c, "CREATE TABLE categories (id bigint PRIMARY KEY, name varchar(25) NOT NULL)");
    raw_exec(c, "INSERT INTO categories SELECT g, 'category ' || g FROM generate_series(1, 10) g");
    raw_exec(c, "CREATE TABLE items (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                "name varchar(25) NOT NULL, description varchar(120) NOT NULL, "
                "price integer NOT NULL, category bigint NOT NULL REFERENCES categories)");
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO items (id, name, description, price, category) "
             "SELECT g, 'item ' || g, rpad('the description of item ' || g, 60, '.'), "
             "g * 7 %% 1000, g %% 10 + 1 FROM generate_series(1, %d) g",
             items);
    raw_exec(c, sql);
    raw_exec(c, "SELECT setval(pg_get_serial_sequence('items', 'id'), 10000000)");
    raw_exec(c, "VACUUM ANALYZE items");
    PQfinish(c);
}

/* ---- results ------------------------------------------------------------------------------ */

typedef struct row {
    const char *workload, *what, *baseline;
    double alch_ops, raw_ops;
} row;

static row rows[16];
static int nrows;
static const char *only; /* --only W2: run that workload alone (for profiling) */

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *workload, const char *what, const char *baseline, double alch_ops,
                   double raw_ops)
{
    rows[nrows++] = (row){workload, what, baseline, alch_ops, raw_ops};
    printf("workload=%s what=\"%s\" baseline=\"%s\" alch_ops=%.0f raw_ops=%.0f ratio=%.2f\n",
           workload, what, baseline, alch_ops, raw_ops, alch_ops / raw_ops);
    fflush(stdout);
}

/* ---- W1: sequential point select ------------------------------------------------------------ */

/* Raw: a prepared SELECT, PQexecPrepared, the row parsed into a struct. */
static double w1_raw(int n, int items)
{
    PGconn *c = raw_connect();
    PGresult *p = PQprepare(c, "get",
                            "SELECT id, name, description, price, category FROM items "
                            "WHERE id = $1",
                            1, NULL);
    PQclear(p);
    double t0 = now_s();
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        char key[24];
        snprintf(key, sizeof key, "%d", i % items + 1);
        const char *vals[1] = {key};
        PGresult *r = PQexecPrepared(c, "get", 1, vals, NULL, NULL, 0);
        Item it;
        it.id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        it.name = strdup(PQgetvalue(r, 0, 1));
        it.description = strdup(PQgetvalue(r, 0, 2));
        it.price = (int32_t)strtol(PQgetvalue(r, 0, 3), NULL, 10);
        it.category = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
        sum += it.price;
        free(it.name);
        free(it.description);
        PQclear(r);
    }
    double dt = now_s() - t0;
    int64_t want = 0;
    for (int i = 0; i < n; i++)
        want += price_of(i % items + 1);
    CHECK(sum == want, "W1 raw: price sum %" PRId64 ", expected %" PRId64, sum, want);
    PQfinish(c);
    return n / dt;
}

/* alch: session get (identity map first, then one SELECT), or a statement built once with a
 * placeholder and run with new values. The session is renewed every 1,000 rows, as a
 * program would, so the identity map does not grow without end. */
static double w1_alch(int n, int items, bool use_stmt)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e;
    alch_sessionmaker *m;
    alch_engine_create(url, NULL, &e, &err);
    alch_sessionmaker_create(e, base, NULL, &m, &err);
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), alch_param("id")));
    double t0 = now_s();
    int64_t sum = 0;
    alch_session *s = NULL;
    for (int i = 0; i < n; i++) {
        if (i % 1000 == 0) {
            alch_session_close(s);
            alch_session_open(m, &s, &err);
        }
        Item *it = NULL;
        int rc;
        if (use_stmt) {
            alch_stmt_bind(st, "id", alch_v(i % items + 1), &err);
            rc = alch_session_scalar_one(s, st, (void **)&it, &err);
        } else {
            rc = alch_session_get(s, &Item_model, alch_v(i % items + 1), (void **)&it, &err);
        }
        if (rc == 0 && it)
            sum += it->price;
    }
    alch_session_close(s);
    double dt = now_s() - t0;
    int64_t want = 0;
    for (int i = 0; i < n; i++)
        want += price_of(i % items + 1);
    CHECK(sum == want, "W1 alch: price sum %" PRId64 ", expected %" PRId64 " (%s)", sum, want,
          err.message ? err.message : "");
    alch_error_clear(&err);
    alch_stmt_free(st);
    alch_sessionmaker_free(m);
    alch_engine_free(e);
    return n / dt;
}

/* ---- W2: concurrent point select ------------------------------------------------------------ */

enum { TASKS = 32, POOL = 8 };

typedef struct w2 {
    int total, started, done, items;
    int64_t sum;
    alch_sessionmaker *maker;
} w2;

static void w2_next(w2 *w);

static void w2_got(alch_session *s, int status, void *obj, const alch_error *err, void *data)
{
    (void)err;
    w2 *w = data;
    if (status == 0 && obj)
        w->sum += ((Item *)obj)->price;
    alch_session_close(s);
    w->done++;
    w2_next(w);
}

/* One task: a session per request, as a bot does for each user. */
static void w2_next(w2 *w)
{
    if (w->started == w->total)
        return;
    int id = w->started++ % w->items + 1;
    alch_session *s;
    alch_session_open(w->maker, &s, NULL);
    alch_session_get_async(s, &Item_model, alch_v(id), w2_got, w);
}

static double w2_alch(int n, int items)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = POOL;
    o.max_overflow = 0;
    o.isolation_level = "AUTOCOMMIT"; /* reads only: no BEGIN/ROLLBACK around each one */
    alch_engine *e;
    alch_error err = ALCH_ERROR_INIT;
    alch_engine_create_async(&loop, url, &o, &e, &err);
    w2 w = {.total = n, .items = items};
    alch_sessionmaker_create(e, base, NULL, &w.maker, &err);
    double t0 = now_s();
    for (int i = 0; i < TASKS; i++)
        w2_next(&w);
    uv_run(&loop, UV_RUN_DEFAULT);
    double dt = now_s() - t0;
    int64_t want = 0;
    for (int i = 0; i < n; i++)
        want += price_of(i % items + 1);
    CHECK(w.done == n && w.sum == want, "W2 alch: %d done, sum %" PRId64, w.done, w.sum);
    alch_sessionmaker_free(w.maker);
    alch_engine_free(e);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return n / dt;
}

/* alch without sessions: check a connection out, run a statement built once (a placeholder
 * bound per request), map the row with alch_result_scalars(), hand the connection back. */
typedef struct w2c {
    int total, requested, started, done, items;
    int64_t sum;
    alch_engine *engine;
    alch_stmt *st; /* shared: bound and sent within one callback, so never in two states */
} w2c;

static void w2c_next(w2c *w);

static void w2c_got(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    (void)err;
    w2c *w = data;
    alch_list got;
    if (status == 0 && alch_result_scalars(res, &Item_model, &got, NULL) == 0 && got.count)
        w->sum += ((Item *)got.items[0])->price;
    alch_result_free(res);
    alch_conn_close(c);
    w->done++;
    w2c_next(w);
}

static void w2c_conn(alch_conn *c, int status, const alch_error *err, void *data)
{
    (void)err;
    w2c *w = data;
    if (status != 0)
        return;
    alch_stmt_bind(w->st, "id", alch_v(w->started++ % w->items + 1), NULL);
    alch_conn_execute_stmt_async(c, w->st, w2c_got, w); /* values copied when sent */
}

static void w2c_next(w2c *w)
{
    if (w->requested < w->total) {
        w->requested++;
        alch_engine_connect_async(w->engine, w2c_conn, w);
    }
}

static double w2_core(int n, int items)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = POOL;
    o.max_overflow = 0;
    o.isolation_level = "AUTOCOMMIT";
    alch_error err = ALCH_ERROR_INIT;
    w2c w = {.total = n, .items = items};
    alch_engine_create_async(&loop, url, &o, &w.engine, &err);
    w.st = alch_select(&Item_model);
    alch_where(w.st, alch_eq(ALCH_COL(Item, id), alch_param("id")));
    double t0 = now_s();
    for (int i = 0; i < TASKS; i++)
        w2c_next(&w);
    uv_run(&loop, UV_RUN_DEFAULT);
    double dt = now_s() - t0;
    int64_t want = 0;
    for (int i = 0; i < n; i++)
        want += price_of(i % items + 1);
    CHECK(w.done == n && w.sum == want, "W2 core: %d done, sum %" PRId64, w.done, w.sum);
    alch_stmt_free(w.st);
    alch_engine_free(w.engine);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return n / dt;
}

/* Raw: POOL non-blocking connections on the loop, one query in flight on each. */
typedef struct rawc {
    PGconn *pg;
    uv_poll_t poll;
    struct raww *w;
} rawc;

typedef struct raww {
    rawc conns[POOL];
    int total, started, done, items;
    int64_t sum;
} raww;

static void raw_send(rawc *c)
{
    raww *w = c->w;
    if (w->started == w->total) {
        uv_poll_stop(&c->poll);
        return;
    }
    char key[24];
    snprintf(key, sizeof key, "%d", w->started++ % w->items + 1);
    const char *vals[1] = {key};
    PQsendQueryPrepared(c->pg, "get", 1, vals, NULL, NULL, 0);
    PQflush(c->pg);
}

static void raw_io(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    rawc *c = p->data;
    PQconsumeInput(c->pg);
    while (!PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            c->w->done++;
            raw_send(c);
            return;
        }
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            c->w->sum += strtol(PQgetvalue(r, 0, 3), NULL, 10);
        PQclear(r);
    }
}

static double w2_raw(int n, int items)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    raww w = {.total = n, .items = items};
    for (int i = 0; i < POOL; i++) {
        rawc *c = &w.conns[i];
        c->w = &w;
        c->pg = raw_connect();
        PQclear(PQprepare(c->pg, "get",
                          "SELECT id, name, description, price, category FROM items "
                          "WHERE id = $1",
                          1, NULL));
        PQsetnonblocking(c->pg, 1);
        uv_poll_init(&loop, &c->poll, PQsocket(c->pg));
        c->poll.data = c;
    }
    double t0 = now_s();
    for (int i = 0; i < POOL; i++) {
        uv_poll_start(&w.conns[i].poll, UV_READABLE, raw_io);
        raw_send(&w.conns[i]);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    double dt = now_s() - t0;
    int64_t want = 0;
    for (int i = 0; i < n; i++)
        want += price_of(i % items + 1);
    CHECK(w.done == n && w.sum == want, "W2 raw: %d done, sum %" PRId64, w.done, w.sum);
    for (int i = 0; i < POOL; i++) {
        uv_close((uv_handle_t *)&w.conns[i].poll, NULL);
        PQfinish(w.conns[i].pg);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return n / dt;
}

/* For reference: one connection, every SELECT in one pipeline. */
static double w2_raw_pipeline(int n, int items)
{
    PGconn *c = raw_connect();
    PQclear(PQprepare(c, "get",
                      "SELECT id, name, description, price, category FROM items "
                      "WHERE id = $1",
                      1, NULL));
    double t0 = now_s();
    PQenterPipelineMode(c);
    int64_t sum = 0;
    int sent = 0, got = 0;
    while (got < n) {
        while (sent < n && sent - got < 1000) {
            char key[24];
            snprintf(key, sizeof key, "%d", sent++ % items + 1);
            const char *vals[1] = {key};
            PQsendQueryPrepared(c, "get", 1, vals, NULL, NULL, 0);
        }
        PQpipelineSync(c);
        for (;;) { /* read up to the sync */
            PGresult *r = PQgetResult(c);
            if (!r)
                continue;
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                break;
            }
            if (st == PGRES_TUPLES_OK) {
                sum += strtol(PQgetvalue(r, 0, 3), NULL, 10);
                got++;
            }
            PQclear(r);
        }
    }
    PQexitPipelineMode(c);
    double dt = now_s() - t0;
    int64_t want = 0;
    for (int i = 0; i < n; i++)
        want += price_of(i % items + 1);
    CHECK(sum == want, "W2 raw pipeline: sum %" PRId64, sum);
    PQfinish(c);
    return n / dt;
}

/* ---- W3: bulk insert ----------------------------------------------------------------------- */

static char descriptions[64];

static double w3_alch(int n)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e;
    alch_sessionmaker *m;
    alch_engine_create(url, NULL, &e, &err);
    alch_sessionmaker_create(e, base, NULL, &m, &err);
    Item *items = calloc((size_t)n, sizeof *items);
    for (int i = 0; i < n; i++)
        items[i] = (Item){.name = "new item",
                          .description = descriptions,
                          .price = i % 1000,
                          .category = i % 10 + 1};
    double t0 = now_s();
    alch_session *s;
    alch_session_open(m, &s, &err);
    alch_session_add_all(s, &Item_model, items, (size_t)n, &err);
    int rc = alch_session_commit(s, &err);
    double dt = now_s() - t0;
    CHECK(rc == 0 && items[n - 1].id > items[0].id, "W3 alch: commit %d (%s)", rc,
          err.message ? err.message : "");
    alch_session_close(s);
    alch_error_clear(&err);
    free(items);
    alch_sessionmaker_free(m);
    alch_engine_free(e);
    return n / dt;
}

static double w3_raw_pipeline(int n)
{
    PGconn *c = raw_connect();
    PQclear(PQprepare(c, "ins",
                      "INSERT INTO items (name, description, price, category) "
                      "VALUES ($1, $2, $3, $4)",
                      4, NULL));
    double t0 = now_s();
    raw_exec(c, "BEGIN");
    PQenterPipelineMode(c);
    int sent = 0, got = 0;
    while (got < n) {
        while (sent < n && sent - got < 1000) {
            char price[16], cat[16];
            snprintf(price, sizeof price, "%d", sent % 1000);
            snprintf(cat, sizeof cat, "%d", sent % 10 + 1);
            const char *vals[4] = {"new item", descriptions, price, cat};
            PQsendQueryPrepared(c, "ins", 4, vals, NULL, NULL, 0);
            sent++;
        }
        PQpipelineSync(c);
        for (;;) {
            PGresult *r = PQgetResult(c);
            if (!r)
                continue;
            ExecStatusType st = PQresultStatus(r);
            PQclear(r);
            if (st == PGRES_PIPELINE_SYNC)
                break;
            if (st == PGRES_COMMAND_OK)
                got++;
            else if (st == PGRES_FATAL_ERROR)
                got = n; /* counted below as wrong */
        }
    }
    PQexitPipelineMode(c);
    raw_exec(c, "COMMIT");
    double dt = now_s() - t0;
    PQfinish(c);
    return n / dt;
}

static double w3_raw_copy(int n)
{
    PGconn *c = raw_connect();
    double t0 = now_s();
    raw_exec(c, "BEGIN");
    PGresult *r = PQexec(c, "COPY items (name, description, price, category) FROM STDIN");
    PQclear(r);
    char line[256];
    for (int i = 0; i < n; i++) {
        int len = snprintf(line, sizeof line, "new item\t%s\t%d\t%d\n", descriptions, i % 1000,
                           i % 10 + 1);
        PQputCopyData(c, line, len);
    }
    PQputCopyEnd(c, NULL);
    r = PQgetResult(c);
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "W3 COPY: %s", PQerrorMessage(c));
    PQclear(r);
    raw_exec(c, "COMMIT");
    double dt = now_s() - t0;
    PQfinish(c);
    return n / dt;
}

static void w3_cleanup(void)
{
    PGconn *c = raw_connect();
    raw_exec(c, "DELETE FROM items WHERE name = 'new item'");
    PQfinish(c);
}

/* ---- W4: fetch all ------------------------------------------------------------------------- */

static double w4_alch(int items)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e;
    alch_sessionmaker *m;
    alch_engine_create(url, NULL, &e, &err);
    alch_sessionmaker_create(e, base, NULL, &m, &err);
    alch_stmt *st = alch_select(&Item_model);
    double t0 = now_s();
    alch_session *s;
    alch_session_open(m, &s, &err);
    alch_list all;
    int rc = alch_session_scalars(s, st, &all, &err);
    int64_t sum = 0;
    for (size_t i = 0; rc == 0 && i < all.count; i++)
        sum += ((Item *)all.items[i])->price;
    alch_session_close(s);
    double dt = now_s() - t0;
    int64_t want = 0;
    for (int i = 1; i <= items; i++)
        want += price_of(i);
    CHECK(rc == 0 && all.count == (size_t)items && sum == want, "W4 alch: %zu rows", all.count);
    alch_stmt_free(st);
    alch_error_clear(&err);
    alch_sessionmaker_free(m);
    alch_engine_free(e);
    return items / dt;
}

/* alch without a session: the statement on a pooled connection, the rows mapped by
 * alch_result_scalars() into structs the result owns. */
static double w4_result(int items)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e;
    alch_engine_create(url, NULL, &e, &err);
    alch_stmt *st = alch_select(&Item_model);
    double t0 = now_s();
    alch_conn *c;
    alch_engine_connect(e, &c, &err);
    alch_result *res = NULL;
    alch_list all = {0};
    int rc = alch_conn_execute_stmt(c, st, &res, &err);
    if (rc == 0)
        rc = alch_result_scalars(res, &Item_model, &all, &err);
    int64_t sum = 0;
    for (size_t i = 0; rc == 0 && i < all.count; i++)
        sum += ((Item *)all.items[i])->price;
    alch_result_free(res);
    alch_conn_close(c);
    double dt = now_s() - t0;
    int64_t want = 0;
    for (int i = 1; i <= items; i++)
        want += price_of(i);
    CHECK(rc == 0 && all.count == (size_t)items && sum == want, "W4 result: %zu rows", all.count);
    alch_stmt_free(st);
    alch_error_clear(&err);
    alch_engine_free(e);
    return items / dt;
}

/* Raw: one PQexec, each row parsed into a struct whose strings point into the PGresult. */
static double w4_raw(int items)
{
    PGconn *c = raw_connect();
    double t0 = now_s();
    PGresult *r = PQexec(c, "SELECT id, name, description, price, category FROM items");
    int n = PQntuples(r);
    Item *all = malloc((size_t)n * sizeof *all);
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        all[i].id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        all[i].name = PQgetvalue(r, i, 1);
        all[i].description = PQgetvalue(r, i, 2);
        all[i].price = (int32_t)strtol(PQgetvalue(r, i, 3), NULL, 10);
        all[i].category = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        sum += all[i].price;
    }
    PQclear(r);
    free(all);
    double dt = now_s() - t0;
    int64_t want = 0;
    for (int i = 1; i <= items; i++)
        want += price_of(i);
    CHECK(n == items && sum == want, "W4 raw: %d rows", n);
    PQfinish(c);
    return items / dt;
}

/* ---- W5: streaming, in a child process so its peak memory is its own ---------------------- */

static void w5(int rows_n)
{
    PGconn *c = raw_connect();
    raw_exec(c, "DROP TABLE IF EXISTS big");
    raw_exec(c, "CREATE TABLE big (LIKE items INCLUDING ALL)");
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO big SELECT g, 'item ' || g, rpad('row ' || g, 60, '.'), g %% 1000, 1 "
             "FROM generate_series(1, %d) g",
             rows_n);
    raw_exec(c, sql);
    PQfinish(c);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        static const alch_model Big_model = ALCH_MODEL(Item, "big", item_columns);
        alch_base *b;
        alch_engine *e;
        alch_sessionmaker *m;
        alch_session *s;
        alch_stream *it;
        alch_list batch;
        alch_error err = ALCH_ERROR_INIT;
        alch_base_create(&b, &err);
        alch_base_add(b, &Big_model, &err);
        alch_engine_create(url, NULL, &e, &err);
        alch_sessionmaker_create(e, b, NULL, &m, &err);
        alch_session_open(m, &s, &err);
        alch_stmt *st = alch_select(&Big_model);
        double t0 = now_s();
        int64_t seen = 0;
        if (alch_session_stream(s, st, 1000, &it, &err) == 0) {
            while (alch_stream_next(it, &batch, &err) == 1)
                seen += (int64_t)batch.count;
            alch_stream_close(it);
        }
        double dt = now_s() - t0;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("workload=W5 what=\"stream %d rows, batches of 1000\" rows=%" PRId64
               " alch_ops=%.0f peak_rss_mib=%.1f\n",
               rows_n, seen, (double)seen / dt, (double)ru.ru_maxrss / 1024.0);
        fflush(stdout);
#if defined(__SANITIZE_ADDRESS__)
        bool small = true; /* ASan's quarantine keeps freed memory: the peak means nothing */
#else
        bool small = ru.ru_maxrss < 50 * 1024;
#endif
        _exit(seen == rows_n && small ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "W5: rows missing or over 50 MiB");
}

/* ---- main --------------------------------------------------------------------------------------
 */

typedef double (*bench_fn)(int n, int items);

static double w1_get(int n, int items)
{
    return w1_alch(n, items, false);
}

static double w1_stmt(int n, int items)
{
    return w1_alch(n, items, true);
}

static double w3_alch_n(int n, int items)
{
    (void)items;
    double r = w3_alch(n);
    w3_cleanup();
    return r;
}

static double w3_pipe_n(int n, int items)
{
    (void)items;
    double r = w3_raw_pipeline(n);
    w3_cleanup();
    return r;
}

static double w3_copy_n(int n, int items)
{
    (void)items;
    double r = w3_raw_copy(n);
    w3_cleanup();
    return r;
}

static double w4_alch_n(int n, int items)
{
    (void)n;
    return w4_alch(items);
}

static double w4_result_n(int n, int items)
{
    (void)n;
    return w4_result(items);
}

static double w4_raw_n(int n, int items)
{
    (void)n;
    return w4_raw(items);
}

/* Alternate the two sides run by run, so drift in the machine's load hits both. */
static void pair(const char *workload, const char *what, const char *baseline, bench_fn a,
                 bench_fn r, int n, int items, int runs)
{
    double av[9], rv[9];
    if (only && strcmp(only, workload) != 0)
        return;
    for (int i = 0; i < runs; i++) {
        av[i] = a(n, items);
        rv[i] = r(n, items);
    }
    report(workload, what, baseline, median(av, runs), median(rv, runs));
}

int main(int argc, char **argv)
{
    bool quick = false;
    int runs = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else
            url = argv[i];
    }
    if (!url)
        url = getenv("ALCH_DATABASE_URL");
    if (!url) {
        fprintf(stderr, "usage: alch-bench [--quick] [--runs N] URL (or set ALCH_DATABASE_URL)\n");
        return 2;
    }
    if (runs < 1 || runs > 9)
        runs = quick ? 1 : 3;
    if (quick && runs == 3)
        runs = 1;
    sizes z = quick ? (sizes){2000, 5000, 10000, 10000, 100000}
                    : (sizes){20000, 50000, 100000, 100000, 1000000};
    memset(descriptions, 'x', 60);
    alch_error err = ALCH_ERROR_INIT;
    /* a database of its own, so the benchmark never touches your tables */
    alch_url *u;
    if (alch_url_parse(url, &u, &err) != 0) {
        fprintf(stderr, "alch-bench: %s\n", err.message);
        return 2;
    }
    pq_params(u);
    PGconn *admin = raw_connect();
    PQclear(PQexec(admin, "DROP DATABASE IF EXISTS alch_bench"));
    raw_exec(admin, "CREATE DATABASE alch_bench");
    alch_url_set_database(u, "alch_bench");
    char *bench_url = alch_url_render(u, false);
    url = bench_url;
    pq_params(u);
    alch_base_create(&base, &err);
    alch_base_add(base, &Item_model, &err);
    printf("alch-bench: %s sizes, median of %d run%s, alch %s, libpq %d\n",
           quick ? "quick" : "full", runs, runs == 1 ? "" : "s", ALCH_VERSION_STRING,
           PQlibVersion());
    make_shop(z.w4);
    /* first: a forked child's peak RSS counts the pages it shares with its parent, so W5
     * runs while the parent is still small (after W1-W4 its heap would be counted too) */
    if (!only || strcmp(only, "W5") == 0)
        w5(z.w5);

    pair("W1", "point select by key, session get", "PQexecPrepared", w1_get, w1_raw, z.w1, z.w4,
         runs);
    pair("W1", "point select by key, statement", "PQexecPrepared", w1_stmt, w1_raw, z.w1, z.w4,
         runs);
    pair("W2", "point select, 32 tasks, pool of 8", "8 raw connections on libuv", w2_alch, w2_raw,
         z.w2, z.w4, runs);
    pair("W2", "same, statement, no session", "8 raw connections on libuv", w2_core, w2_raw, z.w2,
         z.w4, runs);
    pair("W2", "point select, 32 tasks, pool of 8", "raw pipeline, 1 connection", w2_alch,
         w2_raw_pipeline, z.w2, z.w4, runs);
    pair("W3", "bulk insert, add_all + commit", "pipelined INSERTs", w3_alch_n, w3_pipe_n, z.w3,
         z.w4, runs);
    pair("W3", "bulk insert, add_all + commit", "COPY FROM STDIN", w3_alch_n, w3_copy_n, z.w3, z.w4,
         runs);
    pair("W4", "fetch all, session scalars (tracked)", "PQexec + parse", w4_alch_n, w4_raw_n, z.w4,
         z.w4, runs);
    pair("W4", "fetch all, result scalars", "PQexec + parse", w4_result_n, w4_raw_n, z.w4, z.w4,
         runs);

    printf("\n%-4s %-36s %-28s %12s %12s %6s\n", "", "alch", "raw libpq baseline", "alch ops/s",
           "raw ops/s", "ratio");
    for (int i = 0; i < nrows; i++)
        printf("%-4s %-36s %-28s %12.0f %12.0f %6.2f\n", rows[i].workload, rows[i].what,
               rows[i].baseline, rows[i].alch_ops, rows[i].raw_ops,
               rows[i].alch_ops / rows[i].raw_ops);
    alch_base_free(base);
    PQclear(PQexec(admin, "DROP DATABASE IF EXISTS alch_bench"));
    PQfinish(admin);
    free(bench_url);
    alch_url_free(u);
    if (failures)
        fprintf(stderr, "alch-bench: %d wrong result(s)\n", failures);
    return failures ? 1 : 0;
}
