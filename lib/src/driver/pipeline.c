/* Pipeline mode: many statements in one round trip.
 *
 * Without a pipeline each statement waits for its answer before the next one leaves, so a
 * flush of 1,000 INSERTs costs 1,000 round trips. In pipeline mode (libpq 14+) the
 * statements go out back to back and the answers come back in the same order. A window
 * bounds how many are in flight, so memory stays small whatever the batch size; one Sync
 * ends the batch. When a statement fails, the server skips the rest up to the Sync
 * (PGRES_PIPELINE_ABORTED), and the batch reports which statement failed. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "driver/conn_internal.h"
#include "driver/error_internal.h"
#include "driver/result_internal.h"
#include "util/buf.h"

enum { WINDOW = 256 }; /* statements in flight */

typedef enum { PQ_BEGIN, PQ_DEALLOC, PQ_PREPARE, PQ_EXEC } pq_kind;

/* One answer the batch waits for, in the order the server will send them. */
typedef struct pending {
    pq_kind kind;
    size_t item;
    char name[ALCH__STMT_NAME_MAX]; /* PQ_PREPARE: the cache entry */
} pending;

typedef struct alch__batch alch__batch;

struct alch__batch {
    size_t count;          /* statements in the batch */
    size_t sent, answered; /* statements sent, statements whose answer was handled */
    size_t head, len;
    bool sync_sent, stopping;
    bool later;        /* the next item waits until everything sent is answered */
    bool head_skipped; /* the oldest query failed or was skipped */
    PGresult *last;    /* the current statement's rows */
    PGresult *error;   /* the first failure */
    size_t error_item; /* its statement, or SIZE_MAX for the BEGIN */
    int cb_status;     /* a failure of next() or on_result() */
    alch_error cb_err;
    alch__batch_next_fn next;
    alch__batch_result_fn on_result;
    void *ctx;
    uint64_t tick0; /* cache entries used at or after this tick belong to the batch */
    uint64_t started;
    /* last, and not zeroed (43 KB: zeroing it was most of a short batch's instructions):
     * push() writes an entry before anything reads it */
    pending ring[3 * WINDOW + 4];
};

void alch__batch_free(alch__batch *b)
{
    if (!b)
        return;
    PQclear(b->last);
    PQclear(b->error);
    alch_error_clear(&b->cb_err);
    free(b);
}

const PGresult *alch__batch_error(const alch__batch *b)
{
    return b ? b->error : NULL;
}

static void push(alch__batch *b, pq_kind kind, size_t item, const char *name)
{
    pending *p = &b->ring[(b->head + b->len++) % (sizeof b->ring / sizeof b->ring[0])];
    p->kind = kind;
    p->item = item;
    snprintf(p->name, sizeof p->name, "%s", name ? name : "");
}

static int cache_find(const alch_conn *c, const char *name)
{
    for (int i = 0; i < c->cache_len; i++)
        if (strcmp(c->cache[i].name, name) == 0)
            return i;
    return -1;
}

/* The prepared statement for this SQL: found in the cache (ready, or prepared earlier in
 * this batch), or a new entry whose PREPARE is queued now. NULL: send it unprepared (the
 * cache is off, or full of statements this batch still uses). */
static const char *prepared_name(alch_conn *c, alch__batch *b, const char *sql,
                                 const alch__params *p, bool *ok)
{
    *ok = true;
    if (!alch__cache_on(c))
        return NULL;
    alch__stmt *s = alch__cache_find(c, sql, p, true);
    if (s)
        return s->name;
    /* entries this batch uses stay: the batch may run them after this one is prepared */
    char dealloc[ALCH__DEALLOC_MAX];
    int rc;
    s = alch__cache_add(c, sql, p, b->tick0, dealloc, &rc);
    if (!s)
        return *ok = rc == 0, NULL;
    s->pending = true;
    bool sent = !dealloc[0] || PQsendQueryParams(c->pg, dealloc, 0, NULL, NULL, NULL, NULL, 0);
    if (sent && dealloc[0])
        push(b, PQ_DEALLOC, b->sent, NULL);
    if (!sent || !PQsendPrepare(c->pg, s->name, sql, p->n, p->types)) {
        alch__cache_remove(c, (int)(s - c->cache)); /* never prepared: do not keep it */
        return *ok = false, NULL;
    }
    push(b, PQ_PREPARE, b->sent, s->name);
    return s->name;
}

static void stop(alch__batch *b, int status, alch_error *err)
{
    b->stopping = true;
    if (status && !b->cb_status) {
        b->cb_status = status;
        alch_error_clear(&b->cb_err);
        b->cb_err = *err; /* the strings move over */
        *err = (alch_error)ALCH_ERROR_INIT;
    }
}

/* Send one statement of the batch. Returns false when libpq could not queue it. */
static bool send_item(alch_conn *c, alch__batch *b)
{
    alch__batch_item it = {0};
    alch_error err = ALCH_ERROR_INIT;
    alch__params p = {0};
    int rc = b->next(b->ctx, b->sent, &it, &err);
    if (rc == ALCH__BATCH_LATER && b->sent > b->answered) {
        b->later = true;
        return true;
    }
    if (rc == ALCH__BATCH_LATER)
        rc = alch__error_set(&err, ALCH_EINTERNAL,
                             "statement %zu of the batch waits for an answer that never comes",
                             b->sent + 1);
    if (rc == 0)
        rc = alch__params_encode(&p, it.vals, it.n, NULL, 0, &err);
    if (rc) {
        stop(b, rc, &err);
        alch__params_free(&p);
        return true;
    }
    bool ok;
    const char *name = prepared_name(c, b, it.sql, &p, &ok);
    if (ok && c->cfg.echo && c->cfg.echo->on) {
        char *params = alch__params_render(&p);
        alch__echo_line(c->cfg.echo, "%s", it.sql);
        alch__echo_line(c->cfg.echo, "[pipeline %zu/%zu] %s", b->sent + 1, b->count,
                        params ? params : "()");
        free(params);
    }
    if (ok)
        ok = name ? PQsendQueryPrepared(c->pg, name, p.n, p.values, p.lengths, p.formats, 0)
                  : PQsendQueryParams(c->pg, it.sql, p.n, p.types, p.values, p.lengths, p.formats,
                                      0);
    alch__params_free(&p);
    if (ok)
        push(b, PQ_EXEC, b->sent++, NULL);
    return ok;
}

/* Keep the window full; end the batch with a Sync once everything is sent (or it stops). */
static void pump(alch_conn *c)
{
    alch__batch *b = c->op->batch;
    while (!b->stopping && b->sent < b->count && b->sent - b->answered < WINDOW) {
        if (b->later && b->sent > b->answered)
            break; /* still waiting for answers */
        b->later = false;
        if (!send_item(c, b)) {
            alch__conn_fail(c, "could not queue a statement of the batch");
            return;
        }
    }
    if (!b->sync_sent && (b->stopping || b->sent == b->count)) {
        if (!PQpipelineSync(c->pg)) {
            alch__conn_fail(c, "could not end the batch");
            return;
        }
        b->sync_sent = true;
    } else if (!b->sync_sent && !PQsendFlushRequest(c->pg)) {
        alch__conn_fail(c, "could not send the batch");
        return;
    }
    if (alch__conn_flush_arm(c) != 0)
        alch__conn_fail(c, "could not send the batch");
}

/* All answers to the oldest pending query are in; `skipped`: it failed or was skipped. */
static void answered(alch_conn *c, alch__batch *b, bool skipped)
{
    pending p = b->ring[b->head];
    b->head = (b->head + 1) % (sizeof b->ring / sizeof b->ring[0]);
    b->len--;
    if (p.kind == PQ_PREPARE) {
        int i = cache_find(c, p.name);
        if (i >= 0 && skipped)
            alch__cache_remove(c, i); /* never prepared: do not pretend it was */
        else if (i >= 0)
            c->cache[i].ready = true, c->cache[i].pending = false;
        return;
    }
    if (p.kind != PQ_EXEC)
        return;
    b->answered++;
    if (!skipped && !b->error && !b->stopping && b->on_result) {
        alch_result *res = b->last ? alch__result_wrap(b->last) : NULL;
        alch_error err = ALCH_ERROR_INIT;
        int rc = b->last && !res ? alch__error_set(&err, ALCH_ENOMEM, "out of memory")
                                 : b->on_result(b->ctx, p.item, res, &err);
        b->last = NULL;
        if (rc)
            stop(b, rc, &err);
        alch_error_clear(&err);
    }
    PQclear(b->last);
    b->last = NULL;
}

/* The Sync came back: leave pipeline mode and report. */
static void finish(alch_conn *c, alch__batch *b)
{
    PQexitPipelineMode(c->pg);
    alch_error err = ALCH_ERROR_INIT;
    int status = 0;
    double ms = (double)(uv_hrtime() - b->started) / 1e6;
    if (b->error) {
        status = alch__error_from_result(&err, b->error);
        alch__buf msg = ALCH__BUF_INIT;
        if (b->error_item == SIZE_MAX)
            alch__buf_printf(&msg, "the BEGIN of the batch failed: %s", err.message);
        else
            alch__buf_printf(&msg, "statement %zu of %zu in the batch failed: %s",
                             b->error_item + 1, b->count, err.message);
        free(err.message);
        err.message = alch__buf_finish(&msg);
        alch__cache_vanished(c, &err);
        alch__batch_item it = {0};
        alch_error ignored = ALCH_ERROR_INIT;
        alch__params p = {0};
        if (b->error_item != SIZE_MAX && b->next(b->ctx, b->error_item, &it, &ignored) == 0 &&
            alch__params_encode(&p, it.vals, it.n, NULL, 0, &ignored) == 0) {
            char *params = alch__params_render(&p);
            alch__error_statement(&err, it.sql, params);
            free(params);
        }
        alch__params_free(&p);
        alch_error_clear(&ignored);
    } else if (b->cb_status) {
        status = b->cb_status;
        err = b->cb_err;
        b->cb_err = (alch_error)ALCH_ERROR_INIT;
    }
    if (status)
        alch__echo_line(c->cfg.echo, "[pipeline failed, %zu of %zu statements sent, %.3f ms]",
                        b->sent, b->count, ms);
    else
        alch__echo_line(c->cfg.echo, "[pipeline, %zu statement%s, %.3f ms]", b->sent,
                        b->sent == 1 ? "" : "s", ms);
    alch__op_finish(c, status, status ? &err : NULL);
    alch_error_clear(&err);
}

void alch__batch_io(alch_conn *c)
{
    alch__op *op = c->op;
    alch__batch *b = op->batch;
    bool moved = false;
    while (c->op == op && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) { /* the end of the oldest query's answers */
            if (b->len == 0)
                break; /* nothing more to read yet */
            answered(c, b, b->head_skipped);
            b->head_skipped = false;
            moved = true;
            continue;
        }
        switch (PQresultStatus(r)) {
        case PGRES_PIPELINE_SYNC:
            PQclear(r);
            finish(c, b);
            return;
        case PGRES_PIPELINE_ABORTED: /* skipped by the server after the failure */
            PQclear(r);
            b->head_skipped = true;
            continue;
        case PGRES_FATAL_ERROR:
            if (!b->error) {
                b->error = r;
                b->error_item =
                    b->ring[b->head].kind == PQ_BEGIN ? SIZE_MAX : b->ring[b->head].item;
            } else {
                PQclear(r);
            }
            b->head_skipped = true;
            b->stopping = true;
            continue;
        default:
            PQclear(b->last);
            b->last = r;
            continue;
        }
    }
    if (c->op == op && moved)
        pump(c); /* room in the window, or the Sync to send after a failure */
}

int alch__conn_batch(alch_conn *c, size_t count, alch__batch_next_fn next,
                     alch__batch_result_fn on_result, void *ctx, alch_exec_cb done, void *data,
                     alch_error *err)
{
    alch__op *op = alch__op_new(c);
    alch__batch *b = malloc(sizeof *b);
    if (b)
        memset(b, 0, offsetof(alch__batch, ring));
    if (!op || !b) {
        alch__op_free(c, op);
        free(b);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    op->batch = b;
    op->cache_slot = -1;
    op->cb = done;
    op->data = data;
    b->count = count;
    b->next = next;
    b->on_result = on_result;
    b->ctx = ctx;
    b->tick0 = c->cache_tick + 1;
    b->started = uv_hrtime();
    if (!PQenterPipelineMode(c->pg)) {
        alch__op_free(c, op);
        return alch__error_from_conn(err, ALCH_EOPERATIONAL, c->pg, "cannot start a pipeline");
    }
    c->op = op;
    if (alch__op_begin(c))
        alch__batch_start(c);
    return 0;
}

/* Send the BEGIN (when one is needed) and the first window. */
void alch__batch_start(alch_conn *c)
{
    alch__batch *b = c->op->batch;
    /* again: a parked ROLLBACK it waited for ended the pipeline it was begun in */
    if (!PQenterPipelineMode(c->pg)) {
        alch__conn_fail(c, "cannot start a pipeline");
        return;
    }
    bool autobegin = c->cfg.autobegin && alch__tx_status(c) == PQTRANS_IDLE;
    alch__reset_join(c); /* behind the hand-back's ROLLBACK, in its pipeline */
    if (autobegin) {
        const char *begin = c->cfg.begin_sql ? c->cfg.begin_sql : "BEGIN";
        alch__echo_line(c->cfg.echo, "BEGIN (implicit)");
        if (!PQsendQueryParams(c->pg, begin, 0, NULL, NULL, NULL, NULL, 0)) {
            alch__conn_fail(c, "could not send BEGIN");
            return;
        }
        push(b, PQ_BEGIN, 0, NULL);
    }
    pump(c);
}
