/* Models: looking up a model's columns. The descriptors themselves are plain data built by
 * the macros of alch/model.h; the base (src/base) checks them when a model joins it. */
#include <string.h>

#include "alch/model.h"
#include "base/base_internal.h"

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
