/* Common table expressions. A CTE is a named SELECT that other statements read as a table, so
 * it carries a model whose columns are the SELECT's output names: alch_col(), the joins and the
 * scope checks then work on it unchanged. The renderer writes `WITH name AS (...)` in front of
 * a statement that reads it; the tag in model.name is how it tells a CTE from a table. */
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "driver/error_internal.h"
#include "statement/statement_internal.h"

const char alch__cte_tag[] = "CTE";

/* A statement that may become a CTE's body or step: a SELECT or a set operation, owned by
 * nobody, built without a mistake. Takes it (frees it on failure). */
static int take_query(alch_stmt *st, const char *what, alch_error *err)
{
    int rc = 0;
    if (!st)
        rc = alch__error_set(err, ALCH_EMISUSE, "%s: no statement (NULL)", what);
    else if (st->owned)
        return alch__error_set(err, ALCH_EMISUSE, "%s: the statement is already part of another",
                               what);
    else if (st->kind != S_SELECT && st->kind != S_COMPOUND)
        rc = alch__error_set(err, ALCH_EMISUSE, "%s: a CTE is made of a SELECT", what);
    else if (st->error)
        rc = alch__error_copy(err, st->error) ? ALCH_ENOMEM : st->error->code;
    if (rc)
        alch_stmt_free(st);
    else
        st->owned = true;
    return rc;
}

static void give_back(alch_stmt *st)
{
    if (st) {
        st->owned = false;
        alch_stmt_free(st);
    }
}

void alch_cte_free(alch_cte *cte)
{
    if (!cte)
        return;
    give_back(cte->body);
    give_back(cte->step);
    for (size_t i = 0; cte->columns && i < cte->model.ncolumns; i++)
        free((char *)cte->columns[i].name);
    free(cte->columns);
    free(cte->name);
    free(cte);
}

int alch_cte_create(const char *name, alch_stmt *body, alch_cte **out, alch_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !name || !*name) {
        if (body && !body->owned)
            alch_stmt_free(body);
        return alch__error_set(err, ALCH_EMISUSE, "alch_cte_create needs a name, a body and out");
    }
    int rc = take_query(body, "alch_cte_create", err);
    if (rc)
        return rc;
    size_t n = alch__stmt_ncols(body);
    alch_cte *cte = calloc(1, sizeof *cte);
    if (!cte || !(cte->name = strdup(name)) || !(cte->columns = calloc(n, sizeof *cte->columns))) {
        if (cte)
            cte->body = body;
        alch_cte_free(cte);
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    }
    cte->body = body;
    cte->model = (alch_model){alch__cte_tag, cte->name, 0, cte->columns, 0, NULL, 0};
    for (size_t i = 0; i < n; i++) {
        const char *col = alch__stmt_col_name(body, i);
        if (!col) {
            alch_cte_free(cte);
            alch__error_set(err, ALCH_EARGUMENT,
                            "column %zu of CTE '%s' has no name: a CTE's columns are read by "
                            "name",
                            i + 1, name);
            alch__error_hint(err, "name it with alch_label(expr, \"name\")");
            return ALCH_EARGUMENT;
        }
        cte->columns[i] = (alch_column){.name = strdup(col),
                                        .type = alch__stmt_col_type(body, i),
                                        .nullable = true};
        cte->model.ncolumns = i + 1; /* what alch_cte_free() frees */
        if (!cte->columns[i].name) {
            alch_cte_free(cte);
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        }
    }
    *out = cte;
    return 0;
}

int alch_cte_recursive(alch_cte *cte, alch_stmt *step, bool all, alch_error *err)
{
    if (!cte || cte->step) {
        if (step && !step->owned)
            alch_stmt_free(step);
        return alch__error_set(err, ALCH_EMISUSE,
                               cte ? "CTE '%s' already has its recursive step"
                                   : "alch_cte_recursive needs a CTE%s",
                               cte ? cte->name : "");
    }
    int rc = take_query(step, "alch_cte_recursive", err);
    if (rc)
        return rc;
    size_t n = alch__stmt_ncols(step);
    if (n != cte->model.ncolumns) {
        give_back(step);
        return alch__error_set(err, ALCH_EARGUMENT,
                               "the recursive step of CTE '%s' selects %zu columns, its start %zu: "
                               "UNION needs as many on both sides",
                               cte->name, n, cte->model.ncolumns);
    }
    for (size_t i = 0; i < n; i++) {
        alch_sql_type t = alch__stmt_col_type(step, i);
        if (!alch__types_compatible(cte->columns[i].type, t)) {
            give_back(step);
            return alch__error_set(err, ALCH_ETYPE,
                                   "column %s of CTE '%s' is %s, but its recursive step gives %s",
                                   cte->columns[i].name, cte->name,
                                   alch__sql_type_name(cte->columns[i].type),
                                   alch__sql_type_name(t));
        }
    }
    cte->step = step;
    cte->union_all = all;
    return 0;
}

const alch_model *alch_cte_table(const alch_cte *cte)
{
    return cte ? &cte->model : NULL;
}
