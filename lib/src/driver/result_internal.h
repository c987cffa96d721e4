/* A result's cells for the rooms above the driver (no libpq here: alch__result_wrap, which
 * takes a PGresult, is in driver/pq.h). */
#ifndef ALCH_DRIVER_RESULT_INTERNAL_H
#define ALCH_DRIVER_RESULT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "alch/result.h"

/* One cell's text (NULL for SQL NULL), NUL-terminated, and its length in bytes, without the
 * public getters' checks: for loops of the library's own that stay within rows x columns.
 * The length is a call of its own: most cells (numbers) are read without it. */
const char *alch__result_value(const alch_result *res, size_t row, size_t col);
size_t alch__result_length(const alch_result *res, size_t row, size_t col);
/* One cell's bytes (NULL for SQL NULL) and their length: for binary cells, whose first byte
 * may be 0 (alch__result_value() then asks libpq whether the cell is NULL). */
const char *alch__result_bytes(const alch_result *res, size_t row, size_t col, size_t *len);
/* Whether the cells came in binary (alch__conn_exec_rows): then every column is binary. */
bool alch__result_binary(const alch_result *res);
/* The type OID of a column (pg_type.h: 23 for int4, ...). */
unsigned alch__result_type(const alch_result *res, size_t col);

/* Zeroed memory freed with the result (for structs mapped from its rows). */
void *alch__result_alloc(alch_result *res, size_t size);

#endif
