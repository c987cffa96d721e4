/**
 * @file value.h
 * @ingroup driver
 * @brief Typed C values that travel to the server as bound parameters.
 *
 * A value is never pasted into SQL text: it is sent beside the statement, so a
 * quote or ``'; DROP TABLE`` inside it is just data. Build values with the
 * constructors below, or let alch_v() pick the constructor from the C type:
 *
 * @code
 * alch_value params[] = { alch_v(42), alch_v("O'Brien"), alch_null() };
 * @endcode
 *
 * For named placeholders (`:name` in the SQL text), wrap each value with
 * alch_named(): ``alch_named("name", alch_v("O'Brien"))``.
 *
 * A value does not own what it points to: text and bytes must stay valid until
 * the call that takes them returns (the async calls copy what they need).
 */
#ifndef ALCH_VALUE_H
#define ALCH_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup driver
 * @{ */

/** @brief The C type a value holds. */
typedef enum alch_type {
    ALCH_V_NULL = 0, /**< SQL NULL; the server infers its type from the statement. */
    ALCH_V_BOOL,     /**< `bool` as SQL `boolean`. */
    ALCH_V_INT,      /**< `int64_t` as SQL `bigint` (fits `integer`/`smallint` columns). */
    ALCH_V_DOUBLE,   /**< `double` as SQL `double precision`. */
    ALCH_V_TEXT,     /**< UTF-8 text; the server infers the type (text, varchar, date, ...). */
    ALCH_V_BYTES,    /**< Raw bytes as SQL `bytea`; may hold any byte, NUL included. */
    ALCH_V_TOO_BIG,  /**< An unsigned number above `INT64_MAX` (kept in `u.u`), which no SQL
                          integer holds: made by alch_uint(), refused when the statement
                          runs (or is built), never sent. */
} alch_type;

/** @brief One parameter value (a small tagged union, passed by value). */
typedef struct alch_value {
    alch_type type;   /**< Which member of the union is set. */
    const char *name; /**< The placeholder name for `:name` SQL, or NULL for `$n`. */
    size_t len;       /**< Length in bytes for ::ALCH_V_TEXT and ::ALCH_V_BYTES. */
    union {
        bool b;         /**< ::ALCH_V_BOOL */
        int64_t i;      /**< ::ALCH_V_INT */
        uint64_t u;     /**< ::ALCH_V_TOO_BIG: the number that did not fit */
        double d;       /**< ::ALCH_V_DOUBLE */
        const char *s;  /**< ::ALCH_V_TEXT and ::ALCH_V_BYTES (not NUL-terminated for bytes) */
    } u;              /**< The value itself. */
} alch_value;

/** @brief SQL NULL. */
static inline alch_value alch_null(void)
{
    alch_value v = {ALCH_V_NULL, NULL, 0, {.i = 0}};
    return v;
}

/** @brief A boolean value. */
static inline alch_value alch_bool(bool b)
{
    alch_value v = {ALCH_V_BOOL, NULL, 0, {.b = b}};
    return v;
}

/** @brief An integer value (any C integer type fits in `int64_t`). */
static inline alch_value alch_int(int64_t i)
{
    alch_value v = {ALCH_V_INT, NULL, 0, {.i = i}};
    return v;
}

/**
 * @brief An unsigned integer value. Up to `INT64_MAX` it is an ordinary integer; above, it
 *        is kept as ::ALCH_V_TOO_BIG, which the statement refuses with a sentence when it
 *        runs (a sticky error, like the statement builder's), instead of wrapping to a
 *        negative number.
 */
static inline alch_value alch_uint(uint64_t u)
{
    alch_value v = {ALCH_V_INT, NULL, 0, {.u = u}};
    if (u > (uint64_t)INT64_MAX)
        v.type = ALCH_V_TOO_BIG;
    return v;
}

/** @brief A floating-point value. */
static inline alch_value alch_double(double d)
{
    alch_value v = {ALCH_V_DOUBLE, NULL, 0, {.d = d}};
    return v;
}

/**
 * @brief A NUL-terminated UTF-8 string; NULL gives SQL NULL.
 * @param s  The text; it is not copied, keep it alive until the call returns.
 */
static inline alch_value alch_text(const char *s)
{
    alch_value v = {s ? ALCH_V_TEXT : ALCH_V_NULL, NULL, 0, {.s = s}};
    size_t n = 0;
    if (s)
        while (s[n])
            n++;
    v.len = n;
    return v;
}

/**
 * @brief Raw bytes sent as `bytea`; NULL gives SQL NULL.
 * @param p    The bytes; not copied.
 * @param len  How many bytes.
 */
static inline alch_value alch_bytes(const void *p, size_t len)
{
    alch_value v = {p ? ALCH_V_BYTES : ALCH_V_NULL, NULL, len, {.s = (const char *)p}};
    return v;
}

/**
 * @brief Give a value a name, for SQL written with `:name` placeholders.
 * @param name  The placeholder name without the colon; not copied.
 * @param v     The value.
 */
static inline alch_value alch_named(const char *name, alch_value v)
{
    v.name = name;
    return v;
}

/**
 * @brief Build an ::alch_value from any C scalar or string, choosing the type from
 *        the C type at compile time (C11 `_Generic`).
 *
 * `alch_v(42)` is an integer, `alch_v(2.5)` a double, `alch_v(true)` a boolean and
 * `alch_v("text")` text. An unsigned `long` or `long long` goes through alch_uint(), so
 * `alch_v(UINT64_MAX)` is refused when the statement runs, never stored as -1. Any other
 * type is a compile-time error.
 */
#define alch_v(x)                                                                                  \
    _Generic((x),                                                                                  \
        bool: alch_bool,                                                                           \
        char: alch_int,                                                                            \
        signed char: alch_int,                                                                     \
        unsigned char: alch_int,                                                                   \
        short: alch_int,                                                                           \
        unsigned short: alch_int,                                                                  \
        int: alch_int,                                                                             \
        unsigned int: alch_int,                                                                    \
        long: alch_int,                                                                            \
        unsigned long: alch_uint,                                                                  \
        long long: alch_int,                                                                       \
        unsigned long long: alch_uint,                                                             \
        float: alch_double,                                                                        \
        double: alch_double,                                                                       \
        char *: alch_text,                                                                         \
        const char *: alch_text)(x)

/** @} */

#ifdef __cplusplus
}
#endif

#endif
