/* Streaming a large result through a server-side cursor: DECLARE once, FETCH a batch at a time,
 * map each batch into an arena that is emptied before the next one. Memory is bounded by one
 * batch. Built on alch_session_execute(), so autoflush, echo and errors behave as everywhere. */
#include <stdio.h>
#include <stdlib.h>

#include "driver/error_internal.h"
#include "session/row.h"
#include "session/session_internal.h"
#include "statement/statement_internal.h"

struct alch_stream {
    alch_session *s;         /* NULL once the session closed */
    const alch_model *model; /* NULL: a column statement, read through the result */
    char name[32];           /* the cursor's name */
    char fetch[80];          /* "FETCH FORWARD n FROM name" */
    size_t batch;
    bool done;
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

int alch_session_stream(alch_session *s, alch_stmt *st, size_t batch, alch_stream **out,
                        alch_error *err)
{
    if (!s || !out)
        return alch__error_set(err, ALCH_EMISUSE, "alch_session_stream needs a session and out");
    *out = NULL;
    if (batch == 0)
        return alch__error_set(err, ALCH_EARGUMENT, "a stream needs a batch size of at least 1");
    const alch_value *params;
    size_t n;
    int rc = alch_stmt_params(st, &params, &n, err);
    if (rc)
        return rc;
    alch_stream *it = calloc(1, sizeof *it);
    alch__buf sql = ALCH__BUF_INIT;
    if (!it)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    it->s = s;
    it->model = alch_stmt_model(st);
    it->batch = batch;
    snprintf(it->name, sizeof it->name, "alch_cursor_%u", ++s->ncursors);
    snprintf(it->fetch, sizeof it->fetch, "FETCH FORWARD %zu FROM %s", batch, it->name);
    alch__buf_printf(&sql, "DECLARE %s NO SCROLL CURSOR FOR %s", it->name, st->sql);
    rc = sql.oom ? alch__error_set(err, ALCH_ENOMEM, "out of memory")
                 : alch_session_execute(s, sql.data, params, n, NULL, err);
    alch__buf_free(&sql);
    if (rc) {
        free(it);
        return rc;
    }
    it->next = s->streams;
    s->streams = it;
    *out = it;
    return 0;
}

static void drop_batch(alch_stream *it)
{
    alch_result_free(it->res);
    it->res = NULL;
    alch__arena_free(&it->arena);
}

int alch_stream_next(alch_stream *it, alch_list *batch, alch_error *err)
{
    if (batch)
        *batch = (alch_list){NULL, 0};
    if (!it)
        return alch__error_set(err, ALCH_EMISUSE, "no stream (NULL)");
    drop_batch(it);
    if (it->done)
        return 0;
    if (!it->s)
        return alch__error_set(err, ALCH_ECLOSED, "the stream's session was closed");
    int rc = alch_session_execute(it->s, it->fetch, NULL, 0, &it->res, err);
    if (rc)
        return rc;
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
        for (size_t c = 0; c < it->model->ncolumns; c++) {
            rc = alch__field_load(it->model, &it->model->columns[c], items[r], it->res, r, c,
                                  &it->arena, err);
            if (rc)
                return rc;
        }
    }
    *batch = (alch_list){items, rows};
    return 1;
}

const alch_result *alch_stream_result(const alch_stream *it)
{
    return it ? it->res : NULL;
}

void alch_stream_close(alch_stream *it)
{
    if (!it)
        return;
    drop_batch(it);
    alch_session *s = it->s;
    if (s) {
        for (alch_stream **p = &s->streams; *p; p = &(*p)->next)
            if (*p == it) {
                *p = it->next;
                break;
            }
        /* a cursor read to the end stays open until the transaction ends; close it now */
        if (s->conn && alch_conn_in_transaction(s->conn)) {
            char sql[64];
            snprintf(sql, sizeof sql, "CLOSE %s", it->name);
            alch_session_execute(s, sql, NULL, 0, NULL, NULL);
        }
    }
    free(it);
}
