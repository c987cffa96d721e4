/**
 * @file result.h
 * @ingroup requests
 * @brief The rows a statement returned, read with typed getters.
 *
 * A result owns all its memory and is freed with one call, alch_result_free().
 * Strings returned by the getters point into the result and live as long as it.
 *
 * Getters check the column's SQL type: asking for an integer from a `text`
 * column is ::ALCH_ETYPE with a sentence naming the column and its type,
 * never a silent conversion. A SQL NULL is reported as ::ALCH_ETYPE too by the
 * non-NULL getters; test it first with alch_result_is_null().
 */
#ifndef ALCH_RESULT_H
#define ALCH_RESULT_H

#include "alch/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alch/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup requests
 * @{ */

/** @brief Rows and columns returned by one statement (opaque). */
typedef struct alch_result alch_result;

/**
 * @brief Free a result and everything its getters returned.
 *
 * A getter called on a freed result is a mistake that alch catches for the last 32 results
 * freed: it returns ::ALCH_EMISUSE, "this result was freed", and the result reads as empty (no
 * rows, no columns; a second free does nothing). Rows mapped into structs and text the
 * getters returned are freed at once: an AddressSanitizer build catches a use of those.
 *
 * @param res  The result; NULL is allowed.
 */
ALCH_API void alch_result_free(alch_result *res);

/** @brief Number of rows (0 for statements that return none, or for NULL). */
ALCH_API size_t alch_result_rows(const alch_result *res);

/** @brief Number of columns (0 for statements that return none, or for NULL). */
ALCH_API size_t alch_result_columns(const alch_result *res);

/**
 * @brief Rows touched by INSERT, UPDATE, DELETE, MERGE, MOVE, FETCH, COPY or SELECT.
 * @return The server's count, or 0 when the command reports none.
 */
ALCH_API uint64_t alch_result_affected(const alch_result *res);

/**
 * @brief The command tag the server sent, such as "INSERT 0 1" or "SELECT 3".
 * @return A string owned by the result, "" when none.
 */
ALCH_API const char *alch_result_command(const alch_result *res);

/**
 * @brief The name of column @p col.
 * @return A string owned by the result, or NULL when @p col is out of range.
 */
ALCH_API const char *alch_result_column_name(const alch_result *res, size_t col);

/**
 * @brief The index of the column named @p name.
 * @param res   The result.
 * @param name  Column name as the server reported it (case-sensitive).
 * @param col   Receives the index.
 * @return 0, or ::ALCH_EMISUSE when no column has that name.
 */
ALCH_API int alch_result_column_index(const alch_result *res, const char *name, size_t *col);

/**
 * @brief The SQL type of column @p col, by name ("int8", "text", "bool", ...).
 * @return A static string, "unknown" for types alch has no name for, NULL when out of range.
 */
ALCH_API const char *alch_result_column_type(const alch_result *res, size_t col);

/**
 * @brief Whether the value at (@p row, @p col) is SQL NULL.
 * @return true for NULL (and for out-of-range positions), false otherwise.
 */
ALCH_API bool alch_result_is_null(const alch_result *res, size_t row, size_t col);

/**
 * @brief Read an integer (`smallint`, `integer`, `bigint`, `oid`).
 * @param res  The result.
 * @param row  Row index.
 * @param col  Column index.
 * @param out  Receives the value.
 * @param err  Optional details on failure.
 * @return 0; ::ALCH_ETYPE for NULL or a non-integer column; ::ALCH_EMISUSE out of range.
 */
ALCH_API int alch_result_get_int(const alch_result *res, size_t row, size_t col, int64_t *out,
                                 alch_error *err);

/**
 * @brief Read a floating-point number (`real`, `double precision`, `numeric`, or an integer).
 * @param res  The result.
 * @param row  Row index.
 * @param col  Column index.
 * @param out  Receives the value.
 * @param err  Optional details on failure.
 * @return 0; ::ALCH_ETYPE for NULL or a non-numeric column; ::ALCH_EMISUSE out of range.
 */
ALCH_API int alch_result_get_double(const alch_result *res, size_t row, size_t col, double *out,
                                    alch_error *err);

/**
 * @brief Read a `boolean`.
 * @param res  The result.
 * @param row  Row index.
 * @param col  Column index.
 * @param out  Receives the value.
 * @param err  Optional details on failure.
 * @return 0; ::ALCH_ETYPE for NULL or a non-boolean column; ::ALCH_EMISUSE out of range.
 */
ALCH_API int alch_result_get_bool(const alch_result *res, size_t row, size_t col, bool *out,
                                  alch_error *err);

/**
 * @brief Read any value as text, in PostgreSQL's text form.
 *
 * Works for every type (a `bytea` comes back as `\x...` hex).
 *
 * @param res  The result.
 * @param row  Row index.
 * @param col  Column index.
 * @param out  Receives a NUL-terminated string owned by the result.
 * @param err  Optional details on failure.
 * @return 0; ::ALCH_ETYPE for NULL; ::ALCH_EMISUSE out of range.
 */
ALCH_API int alch_result_get_text(const alch_result *res, size_t row, size_t col, const char **out,
                                  alch_error *err);

/**
 * @brief Read a `bytea` as raw bytes.
 * @param res  The result.
 * @param row  Row index.
 * @param col  Column index.
 * @param out  Receives a pointer to the bytes, owned by the result.
 * @param len  Receives their length.
 * @param err  Optional details on failure.
 * @return 0; ::ALCH_ETYPE for NULL or a non-bytea column; ::ALCH_EMISUSE out of range.
 */
ALCH_API int alch_result_get_bytes(const alch_result *res, size_t row, size_t col, const void **out,
                                   size_t *len, alch_error *err);

/**
 * @brief Print the result as a small table, like psql does (for lessons and debugging).
 * @param res  The result.
 * @param out  Where to print, e.g. stdout.
 */
ALCH_API void alch_result_print(const alch_result *res, FILE *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
