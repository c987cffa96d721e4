/* alch-bench: alch against raw libpq, in one run, on the same server.
 *
 *     alch-bench [--quick] [--runs N] [--only Wn] [--json FILE] [--svg FILE] [URL]
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
 *   W6  pgbench's TPC-B-like transaction: 8,000 of them, 8 sessions on a pool of 8
 *
 * Beside each throughput it reports the client's CPU µs per operation, and the server's when
 * it runs on this machine (/proc: its processes' CPU time, 10 ms ticks); --json FILE and
 * --svg FILE write the table and a chart of the ratios.
 *
 * --quick uses a tenth of the sizes (CTest runs it to keep the benchmark working: it
 * checks correctness, not speed). Exit status: 0, or 1 when something read was wrong. */
#include <dirent.h>
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
    int w1, w2, w3, w4, w5, w6;
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

/* This process's CPU time (user + system), in seconds: the client's own cost, apart from
 * the server's (which runs in other processes). */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* A measured stretch: wall time for throughput, CPU time for the client's cost. */
typedef struct stopwatch {
    double wall, cpu;
} stopwatch;

static stopwatch last; /* the last stretch measured, read by pair() */

static stopwatch sw_start(void)
{
    return (stopwatch){now_s(), cpu_s()};
}

/* Ends a stretch: returns its wall seconds and keeps both figures in `last`. */
static double sw_stop(stopwatch t0)
{
    last = (stopwatch){now_s() - t0.wall, cpu_s() - t0.cpu};
    return last.wall;
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
    double alch_ops, raw_ops;       /* medians, operations per second */
    double alch_cpu_us, raw_cpu_us; /* medians, client CPU µs per operation */
    double alch_srv_us, raw_srv_us; /* medians, server CPU µs per operation, or -1 */
} row;

/* The server's postmaster (found by find_postmaster), or -1. */
static long postmaster_pid = -1;

/* The fields of /proc/PID/stat after the command name (which may hold spaces): from the
 * state on, "S 123 ..."; NULL when the process is gone or /proc does not show it. */
static const char *proc_stat(long pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p + 2 : NULL;
}

/* The process's parent, or -1. */
static long proc_parent(long pid)
{
    char buf[512];
    const char *p = proc_stat(pid, buf, sizeof buf);
    long ppid;
    return p && sscanf(p, "%*c %ld", &ppid) == 1 ? ppid : -1;
}

/* utime + stime, with cutime + cstime when `children` (the ones that ended), in clock ticks;
 * -1 when unknown. */
static double proc_ticks(long pid, bool children)
{
    char buf[1024];
    const char *p = proc_stat(pid, buf, sizeof buf);
    unsigned long long v[15] = {0}; /* fields 3-17: state ... cstime */
    if (!p || sscanf(p, "%*c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
                        "%llu %llu",
                     &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
                     &v[11], &v[12], &v[13], &v[14]) != 14)
        return -1;
    return (double)(v[11] + v[12] + (children ? v[13] + v[14] : 0)); /* utime stime [c...] */
}

/* The server's CPU time so far, in µs, when it runs on this machine: its postmaster's own,
 * its children's that ended (cutime, cstime: the backends of closed connections) and the
 * live children's. -1 when /proc does not show it (a server elsewhere). Clock ticks of 10 ms:
 * read it over runs of a second or more. */
static double server_cpu_us(void)
{
    if (postmaster_pid <= 0)
        return -1;
    double t = proc_ticks(postmaster_pid, true);
    if (t < 0)
        return -1;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        long pid = strtol(e->d_name, NULL, 10);
        if (pid <= 0 || proc_parent(pid) != postmaster_pid)
            continue;
        double c = proc_ticks(pid, false);
        if (c > 0)
            t += c;
    }
    if (d)
        closedir(d);
    return t * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/* The postmaster is the parent of our own backend. */
static void find_postmaster(PGconn *c)
{
    postmaster_pid = proc_parent(PQbackendPID(c));
}

static row rows[24];
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

static void report(row r)
{
    if (nrows < (int)(sizeof rows / sizeof rows[0]))
        rows[nrows++] = r;
    printf("workload=%s what=\"%s\" baseline=\"%s\" alch_ops=%.0f raw_ops=%.0f ratio=%.2f "
           "alch_cpu_us=%.2f raw_cpu_us=%.2f",
           r.workload, r.what, r.baseline, r.alch_ops, r.raw_ops, r.alch_ops / r.raw_ops,
           r.alch_cpu_us, r.raw_cpu_us);
    if (r.alch_srv_us >= 0 && r.raw_srv_us >= 0)
        printf(" alch_server_us=%.2f raw_server_us=%.2f", r.alch_srv_us, r.raw_srv_us);
    printf("\n");
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
    stopwatch t0 = sw_start();
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
    double dt = sw_stop(t0);
    int64_t want = 0;
    for (int i = 0; i < n; i++)
        want += price_of(i % items + 1);
    CHECK(sum == want, "W1 raw: price sum %" PRId64 ", expected %" PRId64, sum, want);
    PQfinish(c);
    return n / dt;
}

/* alch: session get (identity map first, then one SELECT), or a statement built once with a
 * placeholder and run with new values. With @p renew 1,000 the session is renewed every
 * 1,000 rows, as a request handler would; with 0 one session holds every object loaded
 * (up to 20,000), which is what autoflush has to look at before each statement. */
static double w1_alch(int n, int items, bool use_stmt, int renew)
{
    alch_error err = ALCH_ERROR_INIT;
    alch_engine *e;
    alch_sessionmaker *m;
    alch_engine_create(url, NULL, &e, &err);
    alch_sessionmaker_create(e, base, NULL, &m, &err);
    alch_stmt *st = alch_select(&Item_model);
    alch_where(st, alch_eq(ALCH_COL(Item, id), alch_param("id")));
    stopwatch t0 = sw_start();
    int64_t sum = 0;
    alch_session *s = NULL;
    for (int i = 0; i < n; i++) {
        if (renew ? i % renew == 0 : i == 0) {
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
    double dt = sw_stop(t0);
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

/* @p autocommit: reads only, no BEGIN/ROLLBACK around each one; otherwise the default
 * transactional engine: BEGIN (implicit), the SELECT, ROLLBACK when the session closes. */
static double w2_alch(int n, int items, bool autocommit)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = POOL;
    o.max_overflow = 0;
    if (autocommit)
        o.isolation_level = "AUTOCOMMIT";
    alch_engine *e;
    alch_error err = ALCH_ERROR_INIT;
    alch_engine_create_on_loop(&loop, url, &o, &e, &err);
    w2 w = {.total = n, .items = items};
    alch_sessionmaker_create(e, base, NULL, &w.maker, &err);
    stopwatch t0 = sw_start();
    for (int i = 0; i < TASKS; i++)
        w2_next(&w);
    uv_run(&loop, UV_RUN_DEFAULT);
    double dt = sw_stop(t0);
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
    alch_conn_execute_async(c, w->st, w2c_got, w); /* values copied when sent */
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
    alch_engine_create_on_loop(&loop, url, &o, &w.engine, &err);
    w.st = alch_select(&Item_model);
    alch_where(w.st, alch_eq(ALCH_COL(Item, id), alch_param("id")));
    stopwatch t0 = sw_start();
    for (int i = 0; i < TASKS; i++)
        w2c_next(&w);
    uv_run(&loop, UV_RUN_DEFAULT);
    double dt = sw_stop(t0);
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
    stopwatch t0 = sw_start();
    for (int i = 0; i < POOL; i++) {
        uv_poll_start(&w.conns[i].poll, UV_READABLE, raw_io);
        raw_send(&w.conns[i]);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    double dt = sw_stop(t0);
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
    stopwatch t0 = sw_start();
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
    double dt = sw_stop(t0);
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
    stopwatch t0 = sw_start();
    alch_session *s;
    alch_session_open(m, &s, &err);
    alch_session_add_all(s, &Item_model, items, (size_t)n, &err);
    int rc = alch_session_commit(s, &err);
    double dt = sw_stop(t0);
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
    stopwatch t0 = sw_start();
    raw_exec(c, "BEGIN");
    PQenterPipelineMode(c);
    int sent = 0, got = 0, syncs = 0, synced = 0;
    while (synced < syncs || sent < n) {
        /* send the next batch before reading the last one: the server never waits for us */
        if (sent < n) {
            for (int k = 0; sent < n && k < 1000; k++, sent++) {
                char price[16], cat[16];
                snprintf(price, sizeof price, "%d", sent % 1000);
                snprintf(cat, sizeof cat, "%d", sent % 10 + 1);
                const char *vals[4] = {"new item", descriptions, price, cat};
                PQsendQueryPrepared(c, "ins", 4, vals, NULL, NULL, 0);
            }
            PQpipelineSync(c);
            syncs++;
            if (syncs == 1)
                continue;
        }
        for (;;) { /* one batch's results, up to its sync */
            PGresult *r = PQgetResult(c);
            if (!r)
                continue;
            ExecStatusType st = PQresultStatus(r);
            PQclear(r);
            if (st == PGRES_PIPELINE_SYNC) {
                synced++;
                break;
            }
            if (st == PGRES_COMMAND_OK)
                got++;
        }
    }
    CHECK(got == n, "W3 raw pipeline: %d of %d rows inserted", got, n);
    PQexitPipelineMode(c);
    raw_exec(c, "COMMIT");
    double dt = sw_stop(t0);
    PQfinish(c);
    return n / dt;
}

static double w3_raw_copy(int n)
{
    PGconn *c = raw_connect();
    stopwatch t0 = sw_start();
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
    double dt = sw_stop(t0);
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
    stopwatch t0 = sw_start();
    alch_session *s;
    alch_session_open(m, &s, &err);
    alch_list all;
    int rc = alch_session_scalars(s, st, &all, &err);
    int64_t sum = 0;
    for (size_t i = 0; rc == 0 && i < all.count; i++)
        sum += ((Item *)all.items[i])->price;
    alch_session_close(s);
    double dt = sw_stop(t0);
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
    stopwatch t0 = sw_start();
    alch_conn *c;
    alch_engine_connect(e, &c, &err);
    alch_result *res = NULL;
    alch_list all = {0};
    int rc = alch_conn_execute(c, st, &res, &err);
    if (rc == 0)
        rc = alch_result_scalars(res, &Item_model, &all, &err);
    int64_t sum = 0;
    for (size_t i = 0; rc == 0 && i < all.count; i++)
        sum += ((Item *)all.items[i])->price;
    alch_result_free(res);
    alch_conn_close(c);
    double dt = sw_stop(t0);
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
    stopwatch t0 = sw_start();
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
    double dt = sw_stop(t0);
    int64_t want = 0;
    for (int i = 1; i <= items; i++)
        want += price_of(i);
    CHECK(n == items && sum == want, "W4 raw: %d rows", n);
    PQfinish(c);
    return items / dt;
}

/* ---- W6: pgbench's TPC-B-like transaction ---------------------------------------------------
 *
 * The five statements of pgbench's built-in "tpcb-like" script in BEGIN ... END, over tables
 * made as `pgbench -i` makes them (scale 1: one branch, 10 tellers, the accounts). Every
 * transaction's account, teller and delta come from its number, so alch and the baselines do
 * the same work; the check is that the branch's balance moved by the sum of the deltas. */

static const char *const w6_sql[] = {
    "BEGIN",
    "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
    "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
    "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2",
    "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2",
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) "
    "VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
    "END",
};
enum { W6_STEPS = 7 };

/* Which of a transaction's values (aid, tid, bid, delta) each statement binds, in order. */
static const int w6_binds[W6_STEPS][4] = {{0}, {3, 0}, {0}, {3, 1}, {3, 2}, {1, 2, 0, 3}, {0}};
static const int w6_nbinds[W6_STEPS] = {0, 2, 1, 2, 2, 4, 0};

typedef struct w6_args {
    int aid, tid, bid, delta;
} w6_args;

static w6_args w6_of(int tx, int accounts)
{
    uint32_t h = (uint32_t)tx * 2654435761u; /* Knuth's multiplicative hash */
    return (w6_args){(int)(h % (uint32_t)accounts) + 1, (int)((h >> 8) % 10) + 1, 1,
                     (int)((h >> 4) % 10001) - 5000};
}

static int w6_accounts;

static void w6_make(int accounts)
{
    PGconn *c = raw_connect();
    raw_exec(c, "DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_history, "
                "pgbench_tellers");
    raw_exec(c, "CREATE TABLE pgbench_branches (bid int NOT NULL PRIMARY KEY, bbalance int, "
                "filler char(88))");
    raw_exec(c, "CREATE TABLE pgbench_tellers (tid int NOT NULL PRIMARY KEY, bid int, "
                "tbalance int, filler char(84))");
    raw_exec(c, "CREATE TABLE pgbench_accounts (aid int NOT NULL PRIMARY KEY, bid int, "
                "abalance int, filler char(84))");
    raw_exec(c, "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, "
                "mtime timestamp, filler char(22))");
    raw_exec(c, "INSERT INTO pgbench_branches VALUES (1, 0, NULL)");
    raw_exec(c, "INSERT INTO pgbench_tellers SELECT g, 1, 0, NULL FROM generate_series(1, 10) g");
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT INTO pgbench_accounts SELECT g, 1, 0, '' FROM generate_series(1, %d) g",
             accounts);
    raw_exec(c, sql);
    raw_exec(c, "VACUUM ANALYZE pgbench_accounts, pgbench_branches, pgbench_tellers");
    PQfinish(c);
    w6_accounts = accounts;
}

/* The branch's balance: every transaction adds its delta to it. */
static int64_t w6_balance(void)
{
    PGconn *c = raw_connect();
    PGresult *r = PQexec(c, "SELECT bbalance FROM pgbench_branches WHERE bid = 1");
    int64_t b = PQresultStatus(r) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    PQfinish(c);
    return b;
}

static int64_t w6_deltas(int n)
{
    int64_t sum = 0;
    for (int t = 0; t < n; t++)
        sum += w6_of(t, w6_accounts).delta;
    return sum;
}

/* Raw: as `pgbench -M prepared -c 8` does it: 8 connections, each statement prepared and
 * sent when the previous one has answered; here on one libuv loop. */
typedef struct w6c {
    PGconn *pg;
    uv_poll_t poll;
    struct w6r *w;
    int step, tx;
    char v[4][16];
} w6c;

typedef struct w6r {
    w6c conns[POOL];
    int total, started, done, errors;
    bool pipelined; /* the whole transaction in one pipeline, one Sync */
} w6r;

static void w6p_send(w6c *c);
static void w6p_io(w6c *c);

static void w6r_send(w6c *c)
{
    if (c->w->pipelined) {
        w6p_send(c);
        return;
    }
    if (c->step == 0) {
        if (c->w->started == c->w->total) {
            uv_poll_stop(&c->poll);
            return;
        }
        c->tx = c->w->started++;
    }
    w6_args a = w6_of(c->tx, w6_accounts);
    int field[4] = {a.aid, a.tid, a.bid, a.delta};
    const char *vals[4];
    for (int k = 0; k < w6_nbinds[c->step]; k++) {
        snprintf(c->v[k], sizeof c->v[k], "%d", field[w6_binds[c->step][k]]);
        vals[k] = c->v[k];
    }
    char name[8];
    snprintf(name, sizeof name, "s%d", c->step);
    PQsendQueryPrepared(c->pg, name, w6_nbinds[c->step], vals, NULL, NULL, 0);
    PQflush(c->pg);
}

static void w6r_io(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    w6c *c = p->data;
    PQconsumeInput(c->pg);
    if (c->w->pipelined) {
        w6p_io(c);
        return;
    }
    while (!PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) { /* this statement is done: the next one, or the next transaction */
            if (++c->step == W6_STEPS) {
                c->step = 0;
                c->w->done++;
            }
            w6r_send(c);
            return;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            c->w->errors++;
        PQclear(r);
    }
}

/* Raw, pipelined: as alch's pipeline does it, each transaction's seven prepared statements
 * (BEGIN ... END) sent together with one Sync, the next transaction once its Sync is back. */
static void w6p_send(w6c *c)
{
    if (c->w->started == c->w->total) {
        uv_poll_stop(&c->poll);
        return;
    }
    c->tx = c->w->started++;
    c->step = 0;
    w6_args a = w6_of(c->tx, w6_accounts);
    int field[4] = {a.aid, a.tid, a.bid, a.delta};
    char v[W6_STEPS][4][16];
    for (int s = 0; s < W6_STEPS; s++) {
        const char *vals[4];
        for (int k = 0; k < w6_nbinds[s]; k++) {
            snprintf(v[s][k], sizeof v[s][k], "%d", field[w6_binds[s][k]]);
            vals[k] = v[s][k];
        }
        char name[8];
        snprintf(name, sizeof name, "s%d", s);
        PQsendQueryPrepared(c->pg, name, w6_nbinds[s], vals, NULL, NULL, 0);
    }
    PQpipelineSync(c->pg);
    PQflush(c->pg);
}

static void w6p_io(w6c *c)
{
    while (!PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) { /* the end of one statement's results */
            if (c->step == W6_STEPS)
                return; /* the Sync has not come yet */
            c->step++;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC) {
            c->w->done++;
            w6p_send(c);
            return;
        }
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            c->w->errors++;
    }
}

static double w6_raw_run(int n, bool pipelined)
{
    int64_t before = w6_balance();
    uv_loop_t loop;
    uv_loop_init(&loop);
    w6r w = {.total = n, .pipelined = pipelined};
    for (int i = 0; i < POOL; i++) {
        w6c *c = &w.conns[i];
        c->w = &w;
        c->pg = raw_connect();
        for (int k = 0; k < W6_STEPS; k++) {
            char name[8];
            snprintf(name, sizeof name, "s%d", k);
            PQclear(PQprepare(c->pg, name, w6_sql[k], 0, NULL));
        }
        PQsetnonblocking(c->pg, 1);
        if (pipelined)
            PQenterPipelineMode(c->pg);
        uv_poll_init(&loop, &c->poll, PQsocket(c->pg));
        c->poll.data = c;
    }
    stopwatch t0 = sw_start();
    for (int i = 0; i < POOL; i++) {
        uv_poll_start(&w.conns[i].poll, UV_READABLE, w6r_io);
        w6r_send(&w.conns[i]);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    double dt = sw_stop(t0);
    for (int i = 0; i < POOL; i++) {
        uv_close((uv_handle_t *)&w.conns[i].poll, NULL);
        PQfinish(w.conns[i].pg);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    int64_t moved = w6_balance() - before;
    CHECK(w.done == n && w.errors == 0 && moved == w6_deltas(n),
          "W6 raw%s: %d done, %d errors, balance moved %" PRId64, pipelined ? " pipeline" : "",
          w.done, w.errors, moved);
    return n / dt;
}

static double w6_raw(int n, int items)
{
    (void)items;
    return w6_raw_run(n, false);
}

static double w6_raw_pipeline(int n, int items)
{
    (void)items;
    return w6_raw_run(n, true);
}

/* alch: 8 tasks on a pool of 8, the default transactional engine, a session per
 * transaction: the statements with bound parameters queued in the session's pipeline
 * (alch_session_pipeline), sent with BEGIN (implicit) and COMMIT in one round trip. */
typedef struct w6t {
    struct w6a *w;
    alch_session *s;
    int tx;
} w6t;

typedef struct w6a {
    w6t tasks[POOL];
    alch_sessionmaker *maker;
    int total, started, done, errors;
} w6a;

static void w6a_next(w6t *t);

static void w6a_step(alch_session *s, int status, alch_result *res, const alch_error *err,
                     void *data)
{
    (void)s;
    (void)err;
    w6t *t = data;
    if (status != 0)
        t->w->errors++;
    alch_result_free(res);
}

static void w6a_committed(alch_session *s, int status, const alch_error *err, void *data)
{
    (void)err;
    w6t *t = data;
    if (status != 0)
        t->w->errors++;
    alch_session_close(s);
    t->s = NULL;
    t->w->done++;
    w6a_next(t);
}

static void w6a_next(w6t *t)
{
    w6a *w = t->w;
    if (w->started == w->total)
        return;
    t->tx = w->started++;
    alch_session_open(w->maker, &t->s, NULL);
    alch_session_pipeline(t->s, NULL);
    w6_args a = w6_of(t->tx, w6_accounts);
    int field[4] = {a.aid, a.tid, a.bid, a.delta};
    for (int step = 1; step < W6_STEPS - 1; step++) { /* BEGIN and END are the session's */
        alch_value p[4];
        for (int k = 0; k < w6_nbinds[step]; k++)
            p[k] = alch_v(field[w6_binds[step][k]]);
        alch_session_execute_text_async(t->s, w6_sql[step], p, (size_t)w6_nbinds[step], w6a_step,
                                        t);
    }
    alch_session_commit_async(t->s, w6a_committed, t);
}

static double w6_alch(int n, int items)
{
    (void)items;
    int64_t before = w6_balance();
    uv_loop_t loop;
    uv_loop_init(&loop);
    alch_engine_options o = alch_engine_options_default();
    o.pool_size = POOL;
    o.max_overflow = 0;
    alch_engine *e;
    alch_error err = ALCH_ERROR_INIT;
    alch_engine_create_on_loop(&loop, url, &o, &e, &err);
    w6a w = {.total = n};
    alch_sessionmaker_create(e, base, NULL, &w.maker, &err);
    stopwatch t0 = sw_start();
    for (int i = 0; i < POOL; i++) {
        w.tasks[i].w = &w;
        w6a_next(&w.tasks[i]);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    double dt = sw_stop(t0);
    alch_sessionmaker_free(w.maker);
    alch_engine_free(e);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    alch_error_clear(&err);
    int64_t moved = w6_balance() - before;
    CHECK(w.done == n && w.errors == 0 && moved == w6_deltas(n),
          "W6 alch: %d done, %d errors, balance moved %" PRId64, w.done, w.errors, moved);
    return n / dt;
}

/* pgbench itself (when installed): the same script, 8 clients, 2 threads, as a process of its
 * own; its CPU time is read from the children's usage. */
static double w6_pgbench(int n, int items)
{
    (void)items;
    char cmd[1024];
    int len = snprintf(cmd, sizeof cmd, "pgbench -n -M prepared -c %d -j 2 -t %d '", POOL,
                       n / POOL);
    for (int i = 0; pq_keys[i] && len < (int)sizeof cmd - 64; i++) {
        if (strchr(pq_vals[i], '\'') || strchr(pq_vals[i], '\\') || strchr(pq_vals[i], ' '))
            return 0; /* a value this simple quoting cannot carry: skip */
        len += snprintf(cmd + len, sizeof cmd - (size_t)len, "%s=%s ", pq_keys[i], pq_vals[i]);
    }
    snprintf(cmd + len, sizeof cmd - (size_t)len, "' 2>&1");
    struct rusage before, after;
    getrusage(RUSAGE_CHILDREN, &before);
    FILE *f = popen(cmd, "r");
    double tps = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "tps = ", 6) == 0 && tps == 0)
            tps = strtod(line + 6, NULL);
    int status = f ? pclose(f) : -1;
    getrusage(RUSAGE_CHILDREN, &after);
    CHECK(status == 0 && tps > 0, "W6 pgbench: exit status %d, no tps line", status);
    double cpu = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
                 (double)(after.ru_utime.tv_usec - before.ru_utime.tv_usec) / 1e6 +
                 (double)(after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
                 (double)(after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e6;
    if (tps <= 0)
        return 1;
    last = (stopwatch){(double)(n / POOL * POOL) / tps, cpu};
    return tps;
}

static double w5_figures[2]; /* rows per second, peak RSS in MiB (0 when W5 did not run) */

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
    int fds[2];
    if (pipe(fds) != 0) {
        perror("alch-bench: pipe");
        exit(2);
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
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
        stopwatch t0 = sw_start();
        int64_t seen = 0;
        if (alch_session_stream(s, st, 1000, &it, &err) == 0) {
            while (alch_stream_next(it, &batch, &err) == 1)
                seen += (int64_t)batch.count;
            alch_stream_close(it);
        }
        double dt = sw_stop(t0);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("workload=W5 what=\"stream %d rows, batches of 1000\" rows=%" PRId64
               " alch_ops=%.0f peak_rss_mib=%.1f\n",
               rows_n, seen, (double)seen / dt, (double)ru.ru_maxrss / 1024.0);
        fflush(stdout);
        double figures[2] = {(double)seen / dt, (double)ru.ru_maxrss / 1024.0};
        if (write(fds[1], figures, sizeof figures) != (ssize_t)sizeof figures)
            _exit(1);
#if defined(__SANITIZE_ADDRESS__)
        bool small = true; /* ASan's quarantine keeps freed memory: the peak means nothing */
#else
        bool small = ru.ru_maxrss < 50 * 1024;
#endif
        _exit(seen == rows_n && small ? 0 : 1);
    }
    close(fds[1]);
    if (read(fds[0], w5_figures, sizeof w5_figures) != (ssize_t)sizeof w5_figures)
        w5_figures[0] = w5_figures[1] = 0;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "W5: rows missing or over 50 MiB");
}

/* ---- reports: JSON and an SVG chart of the ratios ----------------------------------------- */

/* Writes @p text as a JSON string body or an XML text (both escape the same few bytes here:
 * the workload names are ASCII without control characters). */
static void put_escaped(FILE *f, const char *text, bool xml)
{
    for (const char *p = text; *p; p++) {
        if (xml && *p == '&')
            fputs("&amp;", f);
        else if (xml && *p == '<')
            fputs("&lt;", f);
        else if (!xml && (*p == '"' || *p == '\\'))
            fprintf(f, "\\%c", *p);
        else
            fputc(*p, f);
    }
}

static int write_json(const char *path, bool quick, int runs)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\n  \"alch\": \"%s\", \"libpq\": %d, \"sizes\": \"%s\", \"runs\": %d,\n",
            ALCH_VERSION_STRING, PQlibVersion(), quick ? "quick" : "full", runs);
    fprintf(f, "  \"w5\": {\"rows_per_s\": %.0f, \"peak_rss_mib\": %.1f},\n  \"rows\": [\n",
            w5_figures[0], w5_figures[1]);
    for (int i = 0; i < nrows; i++) {
        const row *r = &rows[i];
        fputs("    {\"workload\": \"", f);
        put_escaped(f, r->workload, false);
        fputs("\", \"what\": \"", f);
        put_escaped(f, r->what, false);
        fputs("\", \"baseline\": \"", f);
        put_escaped(f, r->baseline, false);
        fprintf(f,
                "\", \"alch_ops\": %.0f, \"raw_ops\": %.0f, \"ratio\": %.3f, "
                "\"alch_cpu_us\": %.2f, \"raw_cpu_us\": %.2f}%s\n",
                r->alch_ops, r->raw_ops, r->alch_ops / r->raw_ops, r->alch_cpu_us, r->raw_cpu_us,
                i + 1 < nrows ? "," : "");
    }
    fputs("  ]\n}\n", f);
    return fclose(f);
}

/* One horizontal bar per row: the ratio alch / baseline, with the 1.0 line drawn. */
static int write_svg(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    double top = 2.0;
    for (int i = 0; i < nrows; i++)
        while (rows[i].alch_ops / rows[i].raw_ops > top && top < 64)
            top += 0.5;
    const int label_w = 430, bar_w = 420, row_h = 26, head = 34;
    int width = label_w + bar_w + 60, height = head + nrows * row_h + 30;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">alch / raw libpq "
            "(throughput ratio, same run; higher is better)</text>\n",
            width, height, width, height);
    int one = label_w + (int)(1.0 / top * bar_w); /* drawn first: labels stay readable */
    fprintf(f,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#c0392b\" "
            "stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n"
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#c0392b\">1.0 = raw "
            "libpq</text>\n",
            one, head, one, head + nrows * row_h, one, head + nrows * row_h + 18);
    for (int i = 0; i < nrows; i++) {
        const row *r = &rows[i];
        double ratio = r->alch_ops / r->raw_ops;
        int y = head + i * row_h;
        int w = (int)(ratio / top * bar_w);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", label_w - 8, y + 17);
        put_escaped(f, r->workload, true);
        fputs(" ", f);
        put_escaped(f, r->what, true);
        fputs(" / ", f);
        put_escaped(f, r->baseline, true);
        fprintf(f,
                "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n"
                "<text x=\"%d\" y=\"%d\">%.2f</text>\n",
                label_w, y + 4, w, row_h - 8, ratio >= 1.0 ? "#3a7d44" : "#4a6fa5",
                label_w + w + 4, y + 17, ratio);
    }
    fputs("</svg>\n", f);
    return fclose(f);
}

/* ---- main --------------------------------------------------------------------------------------
 */

typedef double (*bench_fn)(int n, int items);

static double w1_get(int n, int items)
{
    return w1_alch(n, items, false, 1000);
}

static double w1_stmt(int n, int items)
{
    return w1_alch(n, items, true, 1000);
}

static double w1_get_one(int n, int items)
{
    return w1_alch(n, items, false, 0);
}

static double w1_stmt_one(int n, int items)
{
    return w1_alch(n, items, true, 0);
}

static double w2_auto(int n, int items)
{
    return w2_alch(n, items, true);
}

static double w2_tx(int n, int items)
{
    return w2_alch(n, items, false);
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
    double av[9], rv[9], ac[9], rc[9], as[9], rs[9];
    if (only && strcmp(only, workload) != 0)
        return;
    for (int i = 0; i < runs; i++) {
        double s0 = server_cpu_us();
        av[i] = a(n, items);
        ac[i] = last.cpu * 1e6 / (av[i] * last.wall); /* CPU seconds / operations done */
        double aops = av[i] * last.wall, s1 = server_cpu_us();
        rv[i] = r(n, items);
        rc[i] = last.cpu * 1e6 / (rv[i] * last.wall);
        double s2 = server_cpu_us();
        /* server CPU / operations (the run's setup included, as for the client's) */
        as[i] = s0 < 0 || s1 < 0 ? -1 : (s1 - s0) / aops;
        rs[i] = s1 < 0 || s2 < 0 ? -1 : (s2 - s1) / (rv[i] * last.wall);
    }
    report((row){workload, what, baseline, median(av, runs), median(rv, runs), median(ac, runs),
                 median(rc, runs), median(as, runs), median(rs, runs)});
}

int main(int argc, char **argv)
{
    bool quick = false;
    int runs = 3;
    const char *json_path = NULL, *svg_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
            json_path = argv[++i];
        else if (strcmp(argv[i], "--svg") == 0 && i + 1 < argc)
            svg_path = argv[++i];
        else
            url = argv[i];
    }
    if (!url)
        url = getenv("ALCH_DATABASE_URL");
    if (!url) {
        fprintf(stderr, "usage: alch-bench [--quick] [--runs N] [--only Wn] [--json FILE] [--svg FILE] URL\n"
                        "       (or set ALCH_DATABASE_URL)\n");
        return 2;
    }
    if (runs < 1 || runs > 9)
        runs = quick ? 1 : 3;
    if (quick && runs == 3)
        runs = 1;
    sizes z = quick ? (sizes){2000, 5000, 10000, 10000, 100000, 800}
                    : (sizes){20000, 50000, 100000, 100000, 1000000, 8000};
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
    find_postmaster(admin);
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

    pair("W1", "session get, a session per 1,000", "PQexecPrepared", w1_get, w1_raw, z.w1, z.w4,
         runs);
    pair("W1", "session get, one session", "PQexecPrepared", w1_get_one, w1_raw, z.w1, z.w4, runs);
    pair("W1", "statement, a session per 1,000", "PQexecPrepared", w1_stmt, w1_raw, z.w1, z.w4,
         runs);
    pair("W1", "statement, one session", "PQexecPrepared", w1_stmt_one, w1_raw, z.w1, z.w4, runs);
    pair("W2", "32 tasks, pool of 8, AUTOCOMMIT", "8 raw connections on libuv", w2_auto, w2_raw,
         z.w2, z.w4, runs);
    pair("W2", "32 tasks, pool of 8, transactional", "8 raw connections on libuv", w2_tx, w2_raw,
         z.w2, z.w4, runs);
    pair("W2", "statement, no session, AUTOCOMMIT", "8 raw connections on libuv", w2_core, w2_raw,
         z.w2, z.w4, runs);
    pair("W2", "32 tasks, pool of 8, AUTOCOMMIT", "raw pipeline, 1 connection", w2_auto,
         w2_raw_pipeline, z.w2, z.w4, runs);
    pair("W3", "bulk insert, add_all + commit", "pipelined INSERTs", w3_alch_n, w3_pipe_n, z.w3,
         z.w4, runs);
    pair("W3", "bulk insert, add_all + commit", "COPY FROM STDIN", w3_alch_n, w3_copy_n, z.w3, z.w4,
         runs);
    pair("W4", "fetch all, session scalars (tracked)", "PQexec + parse", w4_alch_n, w4_raw_n, z.w4,
         z.w4, runs);
    pair("W4", "fetch all, result scalars", "PQexec + parse", w4_result_n, w4_raw_n, z.w4, z.w4,
         runs);
    if (!only || strcmp(only, "W6") == 0) {
        w6_make(z.w4);
        pair("W6", "TPC-B-like, 8 sessions, pool of 8", "8 raw connections on libuv", w6_alch,
             w6_raw, z.w6, z.w4, runs);
        if (system("command -v pgbench >/dev/null 2>&1") == 0)
            pair("W6", "TPC-B-like, 8 sessions, pool of 8", "pgbench -M prepared -c 8", w6_alch,
                 w6_pgbench, z.w6, z.w4, runs);
        pair("W6", "TPC-B-like, 8 sessions, pool of 8", "raw pipeline, 8 connections", w6_alch,
             w6_raw_pipeline, z.w6, z.w4, runs);
    }

    printf("\n%-4s %-36s %-28s %11s %11s %6s %9s %9s\n", "", "alch", "raw libpq baseline",
           "alch ops/s", "raw ops/s", "ratio", "alch µs", "raw µs");
    for (int i = 0; i < nrows; i++)
        printf("%-4s %-36s %-28s %11.0f %11.0f %6.2f %9.2f %9.2f\n", rows[i].workload,
               rows[i].what, rows[i].baseline, rows[i].alch_ops, rows[i].raw_ops,
               rows[i].alch_ops / rows[i].raw_ops, rows[i].alch_cpu_us, rows[i].raw_cpu_us);
    printf("(µs: the client's CPU time per operation, user + system; the server's is apart)\n");
    if (w5_figures[0] > 0)
        printf("W5   stream, batches of 1,000: %.0f rows/s, peak RSS %.1f MiB\n", w5_figures[0],
               w5_figures[1]);
    if (json_path && write_json(json_path, quick, runs) != 0)
        fprintf(stderr, "alch-bench: cannot write %s\n", json_path);
    if (svg_path && write_svg(svg_path) != 0)
        fprintf(stderr, "alch-bench: cannot write %s\n", svg_path);
    alch_base_free(base);
    PQclear(PQexec(admin, "DROP DATABASE IF EXISTS alch_bench"));
    PQfinish(admin);
    free(bench_url);
    alch_url_free(u);
    if (failures)
        fprintf(stderr, "alch-bench: %d wrong result(s)\n", failures);
    return failures ? 1 : 0;
}
