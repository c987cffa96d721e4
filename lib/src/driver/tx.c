/* Transactions: BEGIN / COMMIT / ROLLBACK and savepoints, on top of the one core.
 * The server's own transaction status (PQtransactionStatus) is the truth we read;
 * we only count savepoints, which libpq does not track. */
#include <stdio.h>

#include "driver/conn_internal.h"
#include "driver/error_internal.h"

int alch__conn_simple_sync(alch_conn *c, const char *sql, const char *echo, int sp_delta,
                           bool commit_on_failed, alch_error *err);
int alch__conn_simple_async(alch_conn *c, const char *sql, const char *echo, int sp_delta,
                            bool commit_on_failed, alch_exec_cb cb, void *data);

static PGTransactionStatusType tx_status(const alch_conn *c)
{
    return c ? alch__tx_status(c) : PQTRANS_UNKNOWN;
}

static const char *begin_sql(const alch_conn *c)
{
    return c->cfg.begin_sql ? c->cfg.begin_sql : "BEGIN";
}

/* A BEGIN inside a transaction: the mistake and the fix. */
static int already_open(alch_error *err)
{
    alch__error_set(err, ALCH_EMISUSE, "a transaction is already open on this connection");
    alch__error_hint(err, "commit or roll it back first, or use alch_conn_savepoint() "
                          "for a nested transaction");
    return ALCH_EMISUSE;
}

int alch_conn_begin(alch_conn *c, alch_error *err)
{
    if (c && tx_status(c) != PQTRANS_IDLE && tx_status(c) != PQTRANS_UNKNOWN)
        return already_open(err);
    return alch__conn_simple_sync(c, c ? begin_sql(c) : NULL, "BEGIN", 0, false, err);
}

int alch_conn_begin_async(alch_conn *c, alch_exec_cb cb, void *data)
{
    if (c && tx_status(c) != PQTRANS_IDLE && tx_status(c) != PQTRANS_UNKNOWN)
        return already_open(alch__conn_start_err(c));
    return alch__conn_simple_async(c, c ? begin_sql(c) : NULL, "BEGIN", 0, false, cb, data);
}

/* COMMIT of a failed transaction is a ROLLBACK on the server; we say so instead of
 * pretending it committed. Without a transaction there is nothing to send. */
static const char *commit_sql(const alch_conn *c, bool *failed)
{
    PGTransactionStatusType t = tx_status(c);
    *failed = t == PQTRANS_INERROR;
    if (t == PQTRANS_IDLE)
        return NULL;
    return *failed ? "ROLLBACK" : "COMMIT";
}

int alch_conn_commit(alch_conn *c, alch_error *err)
{
    bool failed = false;
    const char *sql = c ? commit_sql(c, &failed) : NULL;
    if (c && !sql && tx_status(c) == PQTRANS_IDLE && !c->op)
        return 0;
    return alch__conn_simple_sync(c, sql, NULL, 0, failed, err);
}

int alch_conn_commit_async(alch_conn *c, alch_exec_cb cb, void *data)
{
    bool failed = false;
    const char *sql = c ? commit_sql(c, &failed) : NULL;
    return alch__conn_simple_async(c, sql, NULL, 0, failed, cb, data);
}

int alch_conn_rollback(alch_conn *c, alch_error *err)
{
    if (c && tx_status(c) == PQTRANS_IDLE && !c->op)
        return 0;
    return alch__conn_simple_sync(c, "ROLLBACK", NULL, 0, false, err);
}

int alch_conn_rollback_async(alch_conn *c, alch_exec_cb cb, void *data)
{
    const char *sql = c && tx_status(c) == PQTRANS_IDLE ? NULL : "ROLLBACK";
    return alch__conn_simple_async(c, sql, NULL, 0, false, cb, data);
}

int alch_conn_savepoint(alch_conn *c, alch_error *err)
{
    if (c && tx_status(c) == PQTRANS_IDLE) {
        int rc = alch__conn_simple_sync(c, begin_sql(c), "BEGIN", 0, false, err);
        if (rc)
            return rc;
    }
    char sql[48];
    snprintf(sql, sizeof sql, "SAVEPOINT sa_savepoint_%d", c ? c->savepoints + 1 : 0);
    return alch__conn_simple_sync(c, sql, NULL, +1, false, err);
}

static int savepoint_end(alch_conn *c, const char *verb, alch_error *err)
{
    if (c && c->savepoints == 0) {
        alch__error_set(err, ALCH_EMISUSE, "no savepoint is open on this connection");
        alch__error_hint(err, "open one with alch_conn_savepoint() first");
        return ALCH_EMISUSE;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "%s sa_savepoint_%d", verb, c ? c->savepoints : 0);
    return alch__conn_simple_sync(c, sql, NULL, -1, false, err);
}

int alch_conn_release_savepoint(alch_conn *c, alch_error *err)
{
    return savepoint_end(c, "RELEASE SAVEPOINT", err);
}

int alch_conn_rollback_savepoint(alch_conn *c, alch_error *err)
{
    /* ROLLBACK TO keeps the savepoint open; RELEASE closes it, as begin_nested() does */
    if (c && c->savepoints > 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT sa_savepoint_%d", c->savepoints);
        int rc = alch__conn_simple_sync(c, sql, NULL, 0, false, err);
        if (rc)
            return rc;
    }
    return savepoint_end(c, "RELEASE SAVEPOINT", err);
}
