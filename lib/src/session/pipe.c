/* A session's pipeline (alch_session_pipeline): statements queued with their commit, sent
 * together in one round trip, called back in order.
 *
 * The queue lives on the session until the commit (or rollback) takes it; the commit sends
 * BEGIN (implicit), the statements and COMMIT as one driver batch (pipeline.c), which reads
 * the answers in order. The callbacks fire once the batch is over, from the commit's finish
 * (alch__pipe_callbacks), never from inside the driver's reading: a callback may close the
 * session. */
#include <stdlib.h>

#include "driver/error_internal.h"
#include "session/session_internal.h"
#include "util/buf.h"
#include "util/freelist.h"

int alch_session_pipeline(alch_session *s, alch_error *err)
{
    if (!s)
        return alch__error_set(err, ALCH_EMISUSE, "no session (NULL)");
    if (alch__session_closed(s, err))
        return ALCH_EMISUSE;
    if (alch__engine_is_sync(s->engine)) {
        alch__error_set(err, ALCH_EMISUSE,
                        "a pipeline needs an async session: its statements call back later");
        alch__error_hint(err, "create the engine with alch_engine_create_on_loop()");
        return ALCH_EMISUSE;
    }
    if (s->op || s->piping) {
        alch__error_set(err, ALCH_EBUSY, "this session is %s: a pipeline starts on an idle session",
                        s->piping ? "already filling a pipeline" : "running an operation");
        alch__error_hint(err, "end the pipeline with alch_session_commit_async() first, or wait "
                              "for the running operation's callback");
        return ALCH_EBUSY;
    }
    s->piping = true;
    return 0;
}

int alch__pipe_queue(alch_session *s, alch__sop *op)
{
    /* the queued ops are alch_session_execute_text_async()'s: their callbacks are CB_RESULT */
    for (size_t i = 0; i < op->exec_n; i++)
        if (op->exec_params[i].name)
            return alch__error_set(&s->start_err, ALCH_EARGUMENT,
                                   "a pipeline's statements take $n placeholders, not named "
                                   "values (:%s)",
                                   op->exec_params[i].name);
    alch__sop **q = alch__grow(s->pipe, &s->cappipe, s->npipe, sizeof *q, 8);
    if (!q)
        return alch__error_set(&s->start_err, ALCH_ENOMEM, "out of memory");
    s->pipe = q;
    s->pipe[s->npipe++] = op;
    return 0;
}

void alch__pipe_take(alch_session *s, alch__sop *op)
{
    op->queued = s->pipe;
    op->nqueued = s->npipe;
    s->pipe = NULL;
    s->npipe = s->cappipe = 0;
    s->piping = false;
}

void alch__pipe_give_back(alch_session *s, alch__sop *op)
{
    s->pipe = op->queued;
    s->npipe = s->cappipe = op->nqueued;
    s->piping = true;
    op->queued = NULL;
    op->nqueued = 0;
}

/* ---- sending ------------------------------------------------------------------------- */

static int pipe_next(void *ctx, size_t i, alch__batch_item *out, alch_error *err)
{
    (void)err;
    alch__sop *op = ((alch_session *)ctx)->op;
    if (i < op->nqueued) {
        const alch__sop *q = op->queued[i];
        *out = (alch__batch_item){q->exec_sql, q->exec_params, q->exec_n};
    } else {
        *out = (alch__batch_item){"COMMIT", NULL, 0};
    }
    return 0;
}

/* Each statement's result is kept for its callback; the COMMIT's is nothing. */
static int pipe_result(void *ctx, size_t i, alch_result *res, alch_error *err)
{
    (void)err;
    alch__sop *op = ((alch_session *)ctx)->op;
    if (i < op->nqueued) {
        op->queued[i]->exec_res = res;
        op->answered = i + 1;
    } else {
        alch_result_free(res);
    }
    return 0;
}

static void on_pipe_done(alch_conn *c, int status, alch_result *res, const alch_error *err,
                         void *data)
{
    (void)c;
    alch_session *s = data;
    alch_result_free(res);
    alch__sop *op = s->op;
    if (!op)
        return;
    if (status == 0) {
        alch__session_tx_ended(s, true);
        op->stage = ST_DONE;
        alch__session_step(s);
        return;
    }
    /* a statement (or the COMMIT) failed, or the connection did: the server skipped the
     * rest, and the transaction is rolled back as the connection goes back to the pool */
    op->pipe_status = status;
    alch__error_copy(&op->pipe_err, err);
    alch__session_tx_ended(s, false);
    alch_error e = ALCH_ERROR_INIT;
    if (op->answered < op->nqueued) {
        alch__error_set(&e, status,
                        "nothing was committed: statement %zu of the pipeline's %zu failed, and "
                        "the transaction was rolled back (%s)",
                        op->answered + 1, op->nqueued, err && err->message ? err->message : "");
        if (err)
            memcpy(e.sqlstate, err->sqlstate, sizeof e.sqlstate);
        alch__error_hint(&e, "its own callback has the statement and its error; the "
                             "statements after it did not run");
    } else {
        alch__error_copy(&e, err);
    }
    alch__session_fail(s, status, &e);
    alch_error_clear(&e);
}

int alch__pipe_send(alch_session *s, alch_error *err)
{
    alch__sop *op = s->op;
    return alch__conn_batch(s->conn, op->nqueued + 1, pipe_next, pipe_result, s, on_pipe_done, s,
                            err);
}

/* ---- calling back ------------------------------------------------------------------- */

void alch__pipe_callbacks(alch_session *s, alch__sop **q, size_t n, const alch__sop *end,
                          int status, const alch_error *err)
{
    alch_error why = ALCH_ERROR_INIT;
    size_t answered = end ? end->answered : 0;
    for (size_t i = 0; i < n; i++) {
        alch__sop *x = q[i];
        if (i < answered) {
            x->cb.fn.result(s, 0, x->exec_res, NULL, x->data); /* the callback owns the result */
        } else if (end && end->pipe_status && i == answered) {
            x->cb.fn.result(s, end->pipe_status, NULL, &end->pipe_err, x->data);
        } else {
            if (!why.message) {
                if (end && end->pipe_status)
                    alch__error_set(&why, ALCH_ECANCELED,
                                    "not run: statement %zu of this pipeline failed before it",
                                    answered + 1);
                else if (end && end->kind == OP_ROLLBACK && status == 0)
                    alch__error_set(&why, ALCH_ECANCELED,
                                    "not run: the pipeline was rolled back before it was sent");
                else
                    alch__error_set(&why, ALCH_ECANCELED, "not run: the pipeline was not sent (%s)",
                                    err && err->message ? err->message : "the session was closed");
            }
            x->cb.fn.result(s, ALCH_ECANCELED, NULL, &why, x->data);
        }
        alch__inputs_free(&x->in);
        alch__freelist_put(&s->maker->sops, x);
    }
    free(q);
    alch_error_clear(&why);
}
