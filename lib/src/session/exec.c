/* Running a statement on a connection, printing it the way echo does, and mapping a
 * result's rows into structs: the glue between the statement builder, the driver and the
 * row loader, one floor above both (in the session's room). */
#include <stdlib.h>

#include "alch/session.h"
#include "driver/driver.h"
#include "driver/error_internal.h"
#include "driver/result_internal.h"
#include "model/model_internal.h"
#include "statement/statement_internal.h"

int alch_conn_execute(alch_conn *conn, alch_stmt *st, alch_result **res, alch_error *err)
{
    const alch_value *params;
    size_t n;
    int rc = alch_stmt_params(st, &params, &n, err);
    return rc ? rc : alch_conn_execute_text(conn, st->sql, params, n, res, err);
}

int alch_conn_execute_async(alch_conn *conn, alch_stmt *st, alch_exec_cb cb, void *data)
{
    const alch_value *params;
    size_t n;
    int rc = alch_stmt_params(st, &params, &n, alch__conn_start_err(conn));
    return rc ? rc : alch_conn_execute_text_async(conn, st->sql, params, n, cb, data);
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
    if (n) {
        char *text = alch__params_echo(params, n, &err);
        if (text || err.code == 0) /* a value that cannot be encoded prints nothing */
            fprintf(out, "%s\n", text ? text : "(out of memory)");
        free(text);
    }
    alch_error_clear(&err);
}

int alch_result_scalars(alch_result *res, const alch_model *model, alch_list *out, alch_error *err)
{
    if (out)
        *out = (alch_list){NULL, 0};
    if (!res || !model || !out)
        return alch__error_set(err, ALCH_EMISUSE,
                               "alch_result_scalars needs a result, a model "
                               "and out");
    if (model->size == 0)
        return alch__error_set(err, ALCH_EMISUSE,
                               "%s is a Core table, with no struct to fill: read its rows by "
                               "column",
                               model->table);
    size_t rows = alch_result_rows(res), cols = alch_result_columns(res);
    if (rows && cols != model->ncolumns)
        return alch__error_set(err, ALCH_EMISUSE,
                               "the result has %zu columns, model %s has %zu: "
                               "select the model (alch_select) to read its structs",
                               cols, model->name, model->ncolumns);
    /* one block for the pointers and one for the structs, both freed with the result */
    void **items = alch__result_alloc(res, rows * sizeof *items);
    char *objs = alch__result_alloc(res, rows * model->size);
    if (!items || !objs)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    for (size_t r = 0; r < rows; r++) {
        items[r] = objs + r * model->size;
        int rc = alch__fields_load(model, items[r], res, r, NULL, err);
        if (rc)
            return rc;
    }
    *out = (alch_list){items, rows};
    return 0;
}
