/* Running a statement on a connection, and printing it the way echo does. */
#include <stdlib.h>

#include "driver/conn_internal.h"
#include "driver/error_internal.h"
#include "driver/params.h"
#include "statement/statement_internal.h"

int alch_conn_execute_stmt(alch_conn *conn, alch_stmt *st, alch_result **res, alch_error *err)
{
    const alch_value *params;
    size_t n;
    int rc = alch_stmt_params(st, &params, &n, err);
    return rc ? rc : alch_conn_execute(conn, st->sql, params, n, res, err);
}

int alch_conn_execute_stmt_async(alch_conn *conn, alch_stmt *st, alch_exec_cb cb, void *data)
{
    const alch_value *params;
    size_t n;
    int rc = alch_stmt_params(st, &params, &n, conn ? &conn->start_err : NULL);
    return rc ? rc : alch_conn_execute_async(conn, st->sql, params, n, cb, data);
}

void alch_stmt_print(alch_stmt *st, FILE *out)
{
    alch_error err = ALCH_ERROR_INIT;
    const alch_value *params;
    size_t n;
    if (alch_stmt_params(st, &params, &n, &err) != 0) {
        fprintf(out, "%s: %s\n", alch_strerror(err.code), err.message ? err.message : "");
        alch_error_clear(&err);
        return;
    }
    fprintf(out, "%s\n", st->sql);
    alch__params p = {0};
    if (n && alch__params_encode(&p, params, n, NULL, 0, &err) == 0) {
        char *text = alch__params_render(&p);
        fprintf(out, "%s\n", text ? text : "(out of memory)");
        free(text);
    }
    alch__params_free(&p);
    alch_error_clear(&err);
}
