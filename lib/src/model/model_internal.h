/* The model's room: what the layers above (base, statement, session) need from it.
 *
 * A model is plain data (alch/model.h) that names things by string: a relationship names its
 * target table and foreign-key column. The mapper (SQLAlchemy's configure_mappers() step)
 * turns those names into pointers once, when the base is checked, so that loading and
 * flushing never look a name up again. */
#ifndef ALCH_MODEL_INTERNAL_H
#define ALCH_MODEL_INTERNAL_H

#include <stdint.h>

#include "alch/error.h"
#include "alch/model.h"

/* The first primary-key column (alch supports one-column primary keys), or NULL. For a
 * model of a checked base, ask its mapper instead (map->pk): this one scans the columns. */
const alch_column *alch__model_pk(const alch_model *model);

/* The SQL name of a type, as DDL writes it ("BIGINT", "VARCHAR" without its length). */
const char *alch__sql_type_name(alch_sql_type t);

/* ---- mapper.c: names resolved once ---------------------------------------------------- */

typedef struct alch__mapper alch__mapper;

/* One relationship, resolved. */
typedef struct alch__rel_map {
    const alch_relationship *rel;
    const alch__mapper *target;  /* the related model's mapper */
    const alch_column *fk;       /* the foreign-key column: in the target for one-to-many,
                                    in this model for many-to-one */
    size_t fk_index;             /* its index (change-tracking bit) in its model's columns */
} alch__rel_map;

struct alch__mapper {
    const alch_model *model;
    const alch_column *pk; /* the primary-key column */
    size_t pk_index;       /* its index in model->columns */
    uint64_t pk_bit;       /* 1 << pk_index: the session tracks columns as bits */
    int rank;              /* place in foreign-key order, parents first */
    alch__rel_map *rels;   /* one per model->relationships[i], same order */
};

/* A model's relationship by the name the program gave (alch_session_load, alch_selectin),
 * or NULL with a sentence in err listing the names it has. */
const alch__rel_map *alch__mapper_rel(const alch__mapper *map, const char *name, alch_error *err);

/* Resolve maps[0..n): each maps[i].model and .rank are set by the caller (the base, which
 * has checked every name already); fills the rest. Returns 0 or ALCH_ENOMEM. */
int alch__mappers_resolve(alch__mapper *maps, size_t n, alch_error *err);

/* Free what alch__mappers_resolve allocated (not maps itself). */
void alch__mappers_release(alch__mapper *maps, size_t n);

#endif
