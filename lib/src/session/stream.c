/* Streaming a large result through a server-side cursor: DECLARE once, FETCH a batch at a time,
 * map each batch into an arena that is emptied before the next one (its strings point into the
 * batch's result, freed at the same time). Memory is bounded by one batch. Built on
 * alch_session_execute_text(), so autoflush, echo and errors behave as everywhere.
 */
#include <stdio.h>
#include <stdlib.h>

#include "driver/error_internal.h"
#include "session/session_internal.h"
#include "statement/statement_internal.h"

struct alch_stream {
    alch_session *s;         /* NULL once the session closed */
    const alch_model *model; /* NULL: a column statement, read through the result */
    char name[32];           /* the cursor's name */
    char fetch[80];          /* "FETCH FORWARD n FROM name" */
    char *declare;           /* "DECLARE name ... FOR <statement>", until it is sent */
    size_t batch;
    bool done;
    bool busy;               /* an async DECLARE or FETCH is on its way */
    bool close_pending;      /* closed meanwhile: freed when it comes back */
    alch_stream_cb cb;       /* the async face's callback and its data */
    void *cb_data;
    alch_result *res;  /* the current batch */
    alch__arena arena; /* the current batch's objects */
    alch_stream *next; /* the session's list */
};

void alch__streams_detach(alch_session *s)
{
    for (alch_stream *it = s->streams; it; it = it->next)
        it->s = NULL;
    s->streams = NULL;
}

/* A stream for st, with its DECLARE text, not yet sent. */
static int stream_new(alch_session *s, alch_stmt *st, size_t batch, const alch_value **params,
                      size_t *n, alch_stream **out, alch_error *err)
{
    *out = NULL;
    if (batch == 0)
        return alch__error_set(err, ALCH_EARGUMENT, "a stream needs a batch size of at least 1");
    int rc = alch__stmt_params(st, s->maker->base, params, n, err);
    if (rc)
        return rc;
    alch_stream *it = calloc(1, sizeof *it);
    alch__buf sql = ALCH__BUF_INIT;
    if (it) {
        it->s = s;
        it->model = alch_stmt_model(st);
        it->batch = batch;
        snprintf(it->name, sizeof it->name, "alch_cursor_%u", ++s->ncursors);
        snprintf(it->fetch, sizeof it->fetch, "FETCH FORWARD %zu FROM %s", batch, it->name);
        alch__buf_printf(&sql, "DECLARE %s NO SCROLL CURSOR FOR %s", it->name, st->sql);
        it->declare = alch__buf_finish(&sql);
    }
    if (!it || !it->declare) {
        free(it);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    *out = it;
    return 0;
}

static void stream_free(alch_stream *it);

static void stream_link(alch_stream *it)
{
    free(it->declare);
    it->declare = NULL;
    it->next = it->s->streams;
    it->s->streams = it;
}

int alch_session_stream(alch_session *s, alch_stmt *st, size_t batch, alch_stream **out,
                        alch_error *err)
{
    if (!s || !out)
        return alch__error_set(err, ALCH_EMISUSE, "alch_session_stream needs a session and out");
    *out = NULL;
    if (alch__session_closed(s, err))
        return ALCH_EMISUSE;
    const alch_value *params;
    size_t n;
    alch_stream *it;
    int rc = stream_new(s, st, batch, &params, &n, &it, err);
    if (rc == 0)
        rc = alch_session_execute_text(s, it->declare, params, n, NULL, err);
    if (rc) {
        stream_free(it);
        return rc;
    }
    stream_link(it);
    *out = it;
    return 0;
}

/* The async DECLARE came back: the caller gets its stream (not yours to close before this:
 * you do not have it yet), or NULL and the error. */
static void on_declared(alch_session *s, int status, alch_result *res, const alch_error *err,
                        void *data)
{
    (void)s;
    alch_stream *it = data;
    alch_result_free(res);
    it->busy = false;
    if (status) {
        alch_stream_cb cb = it->cb;
        void *cb_data = it->cb_data;
        stream_free(it);
        cb(NULL, status, NULL, err, cb_data);
        return;
    }
    stream_link(it);
    it->cb(it, 0, NULL, NULL, it->cb_data);
}

int alch_session_stream_async(alch_session *s, alch_stmt *st, size_t batch, alch_stream_cb cb,
                              void *data)
{
    if (!s)
        return ALCH_EMISUSE;
    alch_error_clear(&s->start_err);
    if (alch__session_closed(s, &s->start_err))
        return ALCH_EMISUSE;
    if (!cb)
        return alch__error_set(&s->start_err, ALCH_EMISUSE,
                               "alch_session_stream_async needs a callback");
    const alch_value *params;
    size_t n;
    alch_stream *it;
    int rc = stream_new(s, st, batch, &params, &n, &it, &s->start_err);
    if (rc)
        return rc;
    it->cb = cb;
    it->cb_data = data;
    it->busy = true;
    rc = alch_session_execute_text_async(s, it->declare, params, n, on_declared, it);
    if (rc)
        stream_free(it);
    return rc;
}

/* The arena keeps its blocks for the next batch: mapped pages, not fresh ones (a first touch
 * of a page is a fault); stream_free frees them. */
static void drop_batch(alch_stream *it)
{
    alch_result_free(it->res);
    it->res = NULL;
    alch__arena_reset(&it->arena);
}

/* The batch just fetched (it->res) as objects of the stream's model. */
static int map_batch(alch_stream *it, alch_list *batch, alch_error *err)
{
    int rc;
    size_t rows = alch_result_rows(it->res);
    it->done = rows < it->batch;
    if (rows == 0)
        return 0;
    if (!it->model || !batch)
        return 1;
    void **items = alch__arena_alloc(&it->arena, rows * sizeof *items);
    if (!items)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    for (size_t r = 0; r < rows; r++) {
        items[r] = alch__arena_alloc(&it->arena, it->model->size);
        if (!items[r])
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        /* no arena: strings and bytes point into the batch's result, freed with the objects */
        rc = alch__fields_load(it->model, items[r], it->res, r, NULL, err);
        if (rc)
            return rc;
    }
    *batch = (alch_list){items, rows};
    return 1;
}

int alch_stream_next(alch_stream *it, alch_list *batch, alch_error *err)
{
    if (batch)
        *batch = (alch_list){NULL, 0};
    if (!it)
        return alch__error_set(err, ALCH_EMISUSE, "no stream (NULL)");
    if (it->busy)
        return alch__error_set(err, ALCH_EBUSY, "this stream is already fetching a batch");
    drop_batch(it);
    if (it->done)
        return 0;
    if (!it->s)
        return alch__error_set(err, ALCH_ECLOSED, "the stream's session was closed");
    int rc = alch_session_execute_text(it->s, it->fetch, NULL, 0, &it->res, err);
    return rc ? rc : map_batch(it, batch, err);
}

static void on_fetched(alch_session *s, int status, alch_result *res, const alch_error *err,
                       void *data)
{
    (void)s;
    alch_stream *it = data;
    it->busy = false;
    if (it->close_pending) { /* closed while this batch was on its way: nobody waits for it */
        alch_result_free(res);
        stream_free(it);
        return;
    }
    alch_list batch = {NULL, 0};
    alch_error local = ALCH_ERROR_INIT;
    int rc = status;
    if (status == 0) {
        it->res = res;
        rc = map_batch(it, &batch, &local);
        if (rc < 0)
            err = &local;
    }
    it->cb(it, rc, &batch, rc < 0 ? err : NULL, it->cb_data);
    alch_error_clear(&local);
}

int alch_stream_next_async(alch_stream *it, alch_stream_cb cb, void *data)
{
    if (!it)
        return ALCH_EMISUSE; /* no stream: nowhere to leave a sentence */
    if (!it->s)
        return ALCH_ECLOSED; /* its session is closed: the same, see alch_stream_next_async() */
    alch_error *err = &it->s->start_err;
    alch_error_clear(err);
    if (!cb)
        return alch__error_set(err, ALCH_EMISUSE, "alch_stream_next_async needs a callback");
    if (it->busy) {
        alch__error_set(err, ALCH_EBUSY, "this stream is already fetching a batch");
        alch__error_hint(err, "one fetch at a time: call alch_stream_next_async() again from "
                              "the callback");
        return ALCH_EBUSY;
    }
    drop_batch(it);
    it->cb = cb;
    it->cb_data = data;
    int rc = alch_session_execute_text_async(it->s, it->fetch, NULL, 0, on_fetched, it);
    it->busy = rc == 0;
    return rc;
}

const alch_result *alch_stream_result(const alch_stream *it)
{
    return it ? it->res : NULL;
}

/* Free a stream, taking it off its session's list when it is on it. NULL is allowed. */
static void stream_free(alch_stream *it)
{
    if (!it)
        return;
    drop_batch(it);
    alch__arena_free(&it->arena);
    alch_session *s = it->s;
    if (s)
        for (alch_stream **p = &s->streams; *p; p = &(*p)->next)
            if (*p == it) {
                *p = it->next;
                break;
            }
    free(it->declare);
    free(it);
}

void alch_stream_close(alch_stream *it)
{
    if (!it)
        return;
    if (it->busy) { /* a batch is on its way: freed when it comes back */
        it->close_pending = true;
        return;
    }
    alch_session *s = it->s;
    /* a cursor read to the end stays open until the transaction ends; a sync session closes
     * it now (an async one leaves it to COMMIT or ROLLBACK: a CLOSE on its way would make
     * the session busy behind your back) */
    if (s && !alch__engine_is_sync(s->engine))
        s = NULL;
    if (s && s->conn && alch_conn_in_transaction(s->conn) && !s->op) {
        char sql[64];
        snprintf(sql, sizeof sql, "CLOSE %s", it->name);
        alch_session_execute_text(s, sql, NULL, 0, NULL, NULL);
    }
    stream_free(it);
}
