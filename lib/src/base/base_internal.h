/* What the session layer needs from the base. */
#ifndef ALCH_BASE_INTERNAL_H
#define ALCH_BASE_INTERNAL_H

#include "alch/base.h"

/* Whether alch_base_check() has succeeded since the last alch_base_add(). */
bool alch__base_checked(const alch_base *base);

/* The model's position in foreign-key dependency order (parents first), or -1 when the
 * model is not in this base or the base is not checked. */
int alch__base_rank(const alch_base *base, const alch_model *model);

/* The primary-key column of a model (alch supports one-column primary keys), or NULL. */
const alch_column *alch__model_pk(const alch_model *model);

/* The SQL name of a type, as DDL writes it ("BIGINT", "VARCHAR" without its length). */
const char *alch__sql_type_name(alch_sql_type t);

#endif
