/* The driver's libpq-facing helpers. libpq is the driver's business alone: this header, and
 * conn_internal.h and params.h which include it, are for driver/ (and the tests and fuzz
 * harnesses that poke at it); the rooms above compile without libpq's include directory. */
#ifndef ALCH_DRIVER_PQ_H
#define ALCH_DRIVER_PQ_H

#include <libpq-fe.h>

#include "alch/error.h"
#include "alch/result.h"

/* Fill err from a failed PGresult (SQLSTATE, message, detail, hint, constraint).
 * Returns the code mapped from the SQLSTATE. */
int alch__error_from_result(alch_error *err, const PGresult *res);

/* Fill err from a connection-level failure (PQerrorMessage), as ALCH_EOPERATIONAL
 * unless code says otherwise. prefix (may be NULL) is put before libpq's text. */
int alch__error_from_conn(alch_error *err, int code, PGconn *pg, const char *prefix);

/* Take ownership of a PGresult. Returns NULL (and clears pg) when out of memory. */
alch_result *alch__result_wrap(PGresult *pg);

#endif
