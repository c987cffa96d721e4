/* What the connection layer and the engine need from a parsed URL (no libpq here). */
#ifndef ALCH_DRIVER_URL_INTERNAL_H
#define ALCH_DRIVER_URL_INTERNAL_H

#include "alch/url.h"

/* Build the NULL-terminated keyword/value arrays for PQconnectStartParams (with
 * expand_dbname = 0): user, password, host, port, dbname and every query key, in that
 * order, skipping parts the URL does not have. `extra_keys`/`extra_values` (may be NULL,
 * NULL-terminated) are appended after the URL's own keys, except that a key the URL already
 * has is not repeated. The two arrays are malloc'd (free both with free()); the strings point
 * into the URL or into the extra arrays, so both must outlive the arrays.
 * Returns 0, ALCH_ENOMEM, or ALCH_EMISUSE when url, keywords or values is NULL. */
int alch__url_libpq_params(const alch_url *url, const char *const *extra_keys,
                           const char *const *extra_values, const char ***keywords,
                           const char ***values);

/* The Python driver the URL names ("asyncpg" for postgresql+asyncpg://, "psycopg",
 * "psycopg2"), accepted as an alias of libpq, or NULL (postgresql://, postgresql+libpq://). */
const char *alch__url_driver_alias(const alch_url *url);

#endif
