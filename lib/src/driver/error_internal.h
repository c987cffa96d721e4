/* Filling an alch_error from inside the library (every room; no libpq here: the driver's
 * libpq-facing helpers are in driver/pq.h). */
#ifndef ALCH_DRIVER_ERROR_INTERNAL_H
#define ALCH_DRIVER_ERROR_INTERNAL_H

#include "alch/error.h"

/* Replace err's contents with code + a formatted message. Returns code, so callers can
 * write `return alch__error_set(err, ALCH_EMISUSE, "...")`. err may be NULL. The library
 * uses the public functions (error.h) under these names. */
#define alch__error_set alch_error_set

/* Set the hint of an error already set (replaces any previous hint). */
#define alch__error_hint alch_error_hint

/* Attach the failing statement and its echoed parameters (copies both; either may be NULL). */
void alch__error_statement(alch_error *err, const char *sql, const char *params);

/* Deep copy src into dst (dst is cleared first). Returns 0 or ALCH_ENOMEM. */
int alch__error_copy(alch_error *dst, const alch_error *src);

#endif
