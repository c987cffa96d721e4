/* Parameters in libpq's form, copied so that an async call owns them, plus the named
 * placeholder (`:name` → `$n`) rewrite and the text echo shows for them. */
#ifndef ALCH_DRIVER_PARAMS_H
#define ALCH_DRIVER_PARAMS_H

#include <stdint.h>

#include <libpq-fe.h>

#include "alch/error.h"
#include "alch/value.h"

typedef struct alch__params {
    int n;
    Oid *types;
    const char **values;
    int *lengths;
    int *formats;
    char *storage;       /* one block: binary encodings and text copies */
    char **names;        /* the placeholder names when the SQL used :name, else NULL */
    const alch_value *src; /* the caller's values; valid only until the call returns */
} alch__params;

/* Rewrite `:name` placeholders to `$n` when the values are named. *out_sql receives a malloc'd
 * SQL (a copy when nothing changes); *order receives, for each $n, the index of the value it
 * takes (malloc'd, *norder entries), or NULL when values are positional.
 * Errors teach: a :name without a value, a named value the SQL does not use, mixing styles. */
int alch__params_rewrite(const char *sql, const alch_value *vals, size_t n, char **out_sql,
                         size_t **order, size_t *norder, alch_error *err);

/* Encode values (in `order`, when given) into libpq arrays owned by p. */
int alch__params_encode(alch__params *p, const alch_value *vals, size_t n, const size_t *order,
                        size_t norder, alch_error *err);

void alch__params_free(alch__params *p);

/* "($1=42, $2='O''Brien', $3=NULL)" (or "(:id=42)" for named): the text echo prints.
 * Long values are shortened. Returns malloc'd text or NULL on out of memory. */
char *alch__params_render(const alch__params *p);

/* A hash of the parameter types: a statement prepared for bigint must not receive text. */
uint64_t alch__params_typehash(const alch__params *p);

#endif
