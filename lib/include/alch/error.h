/**
 * @file error.h
 * @ingroup driver
 * @brief Status codes and the error object every alch call can fill.
 *
 * Every function that can fail returns an `int`: `0` on success or a negative
 * `ALCH_E*` code. When the caller passes an ::alch_error, it receives the details:
 * a sentence for humans, and for server errors the SQLSTATE, detail, hint,
 * constraint and the statement that failed (passwords never appear).
 *
 * The database error classes follow SQLAlchemy's (which follow Python's DB-API):
 * the SQLSTATE class decides the code, see alch_error_code_from_sqlstate().
 */
#ifndef ALCH_ERROR_H
#define ALCH_ERROR_H

#include "alch/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup driver
 * @{ */

/** @brief Status codes. `0` is success; every error is negative. */
enum alch_status {
    ALCH_OK = 0,             /**< Success. */
    ALCH_EMISUSE = -1,       /**< The API was used wrongly (NULL argument, wrong state). */
    ALCH_ENOMEM = -2,        /**< Out of memory. */
    ALCH_EARGUMENT = -3,     /**< A malformed argument: a bad URL, an unknown option. */
    ALCH_EOPERATIONAL = -4,  /**< Connection trouble, server shut down, too many clients
                                  (SQLSTATE classes 08, 53, 57, 58, 40). */
    ALCH_EINTEGRITY = -5,    /**< A constraint was violated (class 23). */
    ALCH_EPROGRAMMING = -6,  /**< Bad SQL: syntax, unknown table or column (class 42, ...). */
    ALCH_EDATA = -7,         /**< Bad data: value out of range, invalid text (class 22). */
    ALCH_EINTERNAL = -8,     /**< The server's internal error (class XX, 25, 2D). */
    ALCH_ENOTSUPPORTED = -9, /**< The feature is not supported (class 0A). */
    ALCH_EDATABASE = -10,    /**< Any other error the server reported. */
    ALCH_ETIMEOUT = -11,     /**< A wait ran out: connect timeout, pool timeout. */
    ALCH_ECANCELED = -12,    /**< The operation was cancelled (engine disposed). */
    ALCH_EBUSY = -13,        /**< The connection is already running an operation. */
    ALCH_ETYPE = -14,        /**< A value does not have the type asked for. */
    ALCH_ECLOSED = -15,      /**< The connection or engine is closed. */
    ALCH_ENORESULT = -16,    /**< A query that must return a row returned none
                                  (SQLAlchemy's NoResultFound). */
    ALCH_EMULTIPLE = -17,    /**< A query that must return at most one row returned more
                                  (SQLAlchemy's MultipleResultsFound). */
};

/** @brief Longest SQLSTATE (five characters) plus the terminating NUL. */
#define ALCH_SQLSTATE_LEN 6

/**
 * @brief What went wrong, in detail.
 *
 * Declare one with ::ALCH_ERROR_INIT, pass its address to calls that may fail, and
 * release its strings with alch_error_clear(). A call that fails replaces what the
 * object held; a call that succeeds leaves it untouched. All strings are owned by
 * the error object and are NULL when the information is not available.
 */
typedef struct alch_error {
    int code;                             /**< The ::alch_status code, 0 if none. */
    char sqlstate[ALCH_SQLSTATE_LEN];     /**< Server SQLSTATE ("23505") or "". */
    char *message;                        /**< One sentence saying what went wrong. */
    char *detail;                         /**< Server DETAIL line, if any. */
    char *hint;                           /**< How to fix it (server HINT or ours). */
    char *constraint;                     /**< Violated constraint name, if any. */
    char *statement;                      /**< The SQL that failed, if any. */
    char *params;                         /**< Its parameters as echoed, if any. */
} alch_error;

/** @brief Initializer for an empty ::alch_error. */
#define ALCH_ERROR_INIT {0, {0}, NULL, NULL, NULL, NULL, NULL, NULL}

/**
 * @brief Free the strings an error holds and reset it to ::ALCH_ERROR_INIT.
 * @param err  The error; NULL is allowed and ignored.
 */
ALCH_API void alch_error_clear(alch_error *err);

/**
 * @brief Fill an error yourself, for your own functions that report the alch way.
 *
 * The `requests` functions a learner writes return alch's codes; when the mistake is theirs
 * to name ("no user with tg_id 42"), this writes the sentence:
 * `return alch_error_set(err, ALCH_ENORESULT, "no user with tg_id %lld", id);`
 * Whatever the error held before is freed first.
 *
 * @param err   The error; NULL is allowed (only the code is returned).
 * @param code  A negative ::alch_status value.
 * @param fmt   printf-style format of the message.
 * @return @p code, so that `return alch_error_set(...)` reads as one step.
 */
ALCH_API int alch_error_set(alch_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * @brief Add a "how to fix it" line to an error (shown as `HINT:` by alch_error_format()).
 * @param err  The error; NULL is allowed and ignored.
 * @param fmt  printf-style format of the hint.
 */
ALCH_API void alch_error_hint(alch_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * @brief The short English name of a status code.
 * @param code  An ::alch_status value.
 * @return A static string such as "IntegrityError"; never NULL.
 */
ALCH_API const char *alch_strerror(int code);

/**
 * @brief Map a SQLSTATE to the error class SQLAlchemy would raise.
 * @param sqlstate  Five characters such as "23505"; NULL or "" gives ::ALCH_EDATABASE.
 * @return The negative ::alch_status code.
 */
ALCH_API int alch_error_code_from_sqlstate(const char *sqlstate);

/**
 * @brief Format an error as one or more human-readable lines.
 *
 * The text reads like a traceback's last lines:
 * `IntegrityError: duplicate key value violates unique constraint "users_pkey"`,
 * followed by `DETAIL:`, `HINT:` and `[SQL: ...]` lines when present.
 *
 * @param err  The error; NULL or an empty error gives "no error".
 * @return A string the caller frees with free(), or NULL when out of memory.
 */
ALCH_API char *alch_error_format(const alch_error *err);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
