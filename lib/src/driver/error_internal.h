/* Filling an alch_error from inside the library. */
#ifndef ALCH_DRIVER_ERROR_INTERNAL_H
#define ALCH_DRIVER_ERROR_INTERNAL_H

#include <libpq-fe.h>

#include "alch/error.h"

/* Replace err's contents with code + a formatted message. Returns code, so callers can
 * write `return alch__error_set(err, ALCH_EMISUSE, "...")`. err may be NULL. The library
 * uses the public functions (error.h) under these names. */
#define alch__error_set alch_error_set

/* Set the hint of an error already set (replaces any previous hint). */
#define alch__error_hint alch_error_hint

/* Fill err from a failed PGresult (SQLSTATE, message, detail, hint, constraint).
 * Returns the code mapped from the SQLSTATE. */
int alch__error_from_result(alch_error *err, const PGresult *res);

/* Fill err from a connection-level failure (PQerrorMessage), as ALCH_EOPERATIONAL
 * unless code says otherwise. prefix (may be NULL) is put before libpq's text. */
int alch__error_from_conn(alch_error *err, int code, PGconn *pg, const char *prefix);

/* Attach the failing statement and its echoed parameters (copies both; either may be NULL). */
void alch__error_statement(alch_error *err, const char *sql, const char *params);

/* Deep copy src into dst (dst is cleared first). Returns 0 or ALCH_ENOMEM. */
int alch__error_copy(alch_error *dst, const alch_error *src);

#endif
