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
#include "alch/result.h"
#include "alch/value.h"
#include "util/arena.h"

/* The first primary-key column (alch supports one-column primary keys), or NULL. For a
 * model of a checked base, ask its mapper instead (map->pk): this one scans the columns. */
const alch_column *alch__model_pk(const alch_model *model);

/* The SQL name of a type, as DDL writes it ("BIGINT", "VARCHAR" without its length). */
const char *alch__sql_type_name(alch_sql_type t);

/* ---- field.c: the field codec (struct field <-> alch_value <-> result cell) ------------ */

/* The C type's name as a program declares it ("int32_t", "alch_opt_i64"), or NULL for a
 * value that is not one of model.h's types. */
const char *alch__ctype_name(alch_ctype c);
/* The wrapper that can hold NULL for a C type that cannot ("alch_opt_i32" for int32_t), or
 * NULL when the type can (char *, alch_blob, the wrappers themselves). */
const char *alch__ctype_nullable(alch_ctype c);
/* The kind of .client_default a field of this type takes (ALCH_V_NULL: none). */
alch_type alch__ctype_default_type(alch_ctype c);

enum { ALCH__FIELD_TMP = 48 }; /* room for a timestamp or date rendered as text */

/* The field as a bound parameter. Timestamps and dates are rendered into tmp (which must
 * live as long as the value). A VARCHAR longer than its length is ALCH_EDATA, before any
 * SQL is sent. */
int alch__field_value(const alch_model *m, const alch_column *col, const void *obj,
                      alch_value *out, char tmp[ALCH__FIELD_TMP], alch_error *err);

/* Unset: a NULL pointer or `is_null = true`, or an integer primary key of 0. A plain number
 * or bool is never unset. A primary key or server-default column left unset is filled by
 * the server; a client-default column left unset gets its default. */
bool alch__field_empty(const alch_column *col, const void *obj);
void alch__field_clear(const alch_column *col, void *obj);
/* Write a value into the field (a client default, a key; the base checked that it fits). */
void alch__field_set(const alch_column *col, void *obj, const alch_value *v);

/* Read result cell (row, rcol) into the field; strings and bytes are copied into arena, or
 * (arena NULL) point into the result itself. */
int alch__field_load(const alch_model *m, const alch_column *col, void *obj,
                     const alch_result *res, size_t row, size_t rcol, alch__arena *arena,
                     alch_error *err);
/* An alch__rows_fn (driver.h) for a result whose columns are model's in order: whether the
 * rows are worth reading in binary: each column's type one whose binary value the field reads
 * exactly as it reads its text, and one at least whose text costs parsing (a float8, a
 * timestamptz, a date, a bytea). */
bool alch__fields_binary(const alch_result *res, const void *model);
/* Whether a binary res can be read into the model's fields at all (each column's type is one
 * the field reads in binary); when not, the query runs again in text. */
bool alch__fields_binary_readable(const alch_result *res, const alch_model *m);
/* Whether alch__fields_binary() would accept the model's declared SQL types: then its rows
 * are asked in binary from the first query on (a table that differs says no then). */
bool alch__fields_binary_likely(const alch_model *m);
/* Read row `row` of res, whose columns are the model's in order, into obj: every field, as
 * alch__field_load does, with one call per row instead of one per cell. */
int alch__fields_load(const alch_model *m, void *obj, const alch_result *res, size_t row,
                      alch__arena *arena, alch_error *err);

bool alch__field_equal(const alch_column *col, const void *a, const void *b);
/* Whether field ca of a and field cb of b hold the same value (a foreign key and the key it
 * references, of possibly different C types). */
bool alch__field_equal_cols(const alch_column *ca, const void *a, const alch_column *cb,
                            const void *b);
/* Copy the field from src to dst, duplicating strings and bytes into arena. */
int alch__field_copy(const alch_column *col, void *dst, const void *src, alch__arena *arena);

/* ---- mapper.c: names resolved once ---------------------------------------------------- */

typedef struct alch__mapper alch__mapper;

/* The model-level rule: the column of model `to` that column c references, or NULL. c's
 * .foreign_key "table.column" names `to` by its table name. This is the one place a foreign
 * key is read by name: alch_base_check() resolves each mapper's foreign keys with it once, and
 * alch__fks_to() uses it directly for models without a mapper (Core tables, a statement
 * rendered without a session). */
const alch_column *alch__fk_ref(const alch_column *c, const alch_model *to);

/* One foreign key, resolved: `col` of this model references `ref` of `target`'s model. */
typedef struct alch__fk_map {
    const alch_column *col;
    const alch__mapper *target;
    const alch_column *ref;
} alch__fk_map;

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
    alch__fk_map *fks;     /* one per foreign-key column, in column order */
    size_t nfks;
};

/* The foreign keys of `owner` that reference `other`: how many there are, the first `max` of
 * them in cols[] (owner's column) and refs[] (the column of other it references). With both
 * mappers (one checked base: a statement a session runs), read from owner's mapper by
 * pointer; with either NULL, by alch__fk_ref(). Both give the same answer: the mapper was
 * resolved by alch__fk_ref() against the base's models, whose table names are unique. */
size_t alch__fks_to(const alch_model *owner, const alch__mapper *om, const alch_model *other,
                    const alch__mapper *tm, const alch_column **cols, const alch_column **refs,
                    size_t max);

/* A model's relationship by the name the program gave (alch_session_load, alch_selectin),
 * or NULL with a sentence in err listing the names it has. */
const alch__rel_map *alch__mapper_rel(const alch__mapper *map, const char *name, alch_error *err);

/* Resolve maps[0..n): each maps[i].model and .rank are set by the caller (the base, which
 * has checked every name already); fills the rest. Returns 0 or ALCH_ENOMEM. */
int alch__mappers_resolve(alch__mapper *maps, size_t n, alch_error *err);

/* Free what alch__mappers_resolve allocated (not maps itself). */
void alch__mappers_release(alch__mapper *maps, size_t n);

#endif
