/* Moving values between a model's struct fields and the database: bound parameters out,
 * result text in, snapshots for change tracking, identity keys. */
#ifndef ALCH_SESSION_ROW_H
#define ALCH_SESSION_ROW_H

#include "alch/model.h"
#include "alch/result.h"
#include "alch/value.h"
#include "util/arena.h"
#include "util/buf.h"

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
/* Write a value into the field (a client default; the base checked that it fits). */
void alch__field_set(const alch_column *col, void *obj, const alch_value *v);

/* Read result cell (row, rcol) into the field; strings and bytes are copied into arena, or
 * (arena NULL) point into the result itself. */
int alch__field_load(const alch_model *m, const alch_column *col, void *obj,
                     const alch_result *res, size_t row, size_t rcol, alch__arena *arena,
                     alch_error *err);

bool alch__field_equal(const alch_column *col, const void *a, const void *b);
/* Whether field ca of a and field cb of b hold the same value (a foreign key and the key it
 * references, of possibly different C types). */
bool alch__field_equal_cols(const alch_column *ca, const void *a, const alch_column *cb,
                            const void *b);
/* Copy the field from src to dst, duplicating strings and bytes into arena. */
int alch__field_copy(const alch_column *col, void *dst, const void *src, alch__arena *arena);


#endif
