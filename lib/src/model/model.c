/* Models: looking up a model's columns. The descriptors themselves are plain data built by
 * the macros of alch/model.h; the base (src/base) checks them when a model joins it. */
#include <string.h>

#include "alch/model.h"
#include "model/model_internal.h"

const alch_column *alch_model_column(const alch_model *model, const char *name)
{
    if (!model || !model->columns || !name)
        return NULL;
    for (size_t i = 0; i < model->ncolumns; i++)
        if (model->columns[i].name && strcmp(model->columns[i].name, name) == 0)
            return &model->columns[i];
    return NULL;
}

/* The first primary-key column. alch_base_add() refuses a model with none or several, so for
 * a model in a base this is the one. */
const alch_column *alch__model_pk(const alch_model *model)
{
    if (!model || !model->columns)
        return NULL;
    for (size_t i = 0; i < model->ncolumns; i++)
        if (model->columns[i].primary_key)
            return &model->columns[i];
    return NULL;
}

const char *alch__sql_type_name(alch_sql_type t)
{
    switch (t) {
    case ALCH_SMALLINT: return "SMALLINT";
    case ALCH_INTEGER: return "INTEGER";
    case ALCH_BIGINT: return "BIGINT";
    case ALCH_BOOLEAN: return "BOOLEAN";
    case ALCH_REAL: return "REAL";
    case ALCH_DOUBLE: return "DOUBLE PRECISION";
    case ALCH_NUMERIC: return "NUMERIC";
    case ALCH_TEXT: return "TEXT";
    case ALCH_VARCHAR: return "VARCHAR"; /* the length follows */
    case ALCH_TIMESTAMPTZ: return "TIMESTAMP WITH TIME ZONE";
    case ALCH_DATE: return "DATE";
    case ALCH_UUID: return "UUID";
    case ALCH_BYTEA: return "BYTEA";
    case ALCH_JSONB: return "JSONB";
    }
    return "?"; /* unreachable for a model in a base: alch_base_add() refused other values */
}
