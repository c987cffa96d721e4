/**
 * @file model.h
 * @ingroup models
 * @brief Models: a plain C struct plus a table describing its columns (the seed's `Mapped[...]`).
 *
 * The seed declares a model as a Python class:
 *
 *     class User(Base):
 *         __tablename__ = 'users'
 *         id: Mapped[int] = mapped_column(primary_key=True)
 *         tg_id = mapped_column(BigInteger)
 *
 * In C a model is a struct you own, and a table of column descriptors built with
 * ALCH_COLUMN(). The C type of each field is read by the compiler (`_Generic`), the way
 * `Mapped[int]` gives SQLAlchemy the Python type, and a C type that cannot hold the
 * declared SQL type is a **compile-time error**:
 *
 * @code
 * typedef struct User {
 *     int64_t id;
 *     int64_t tg_id;
 * } User;
 *
 * static const alch_column user_columns[] = {
 *     ALCH_COLUMN(User, id, ALCH_BIGINT, .primary_key = true),
 *     ALCH_COLUMN(User, tg_id, ALCH_BIGINT),
 * };
 * const alch_model User_model = ALCH_MODEL(User, "users", user_columns);
 * @endcode
 *
 * Which C type fits which SQL type:
 *
 * | SQL type (alch_sql_type)        | C field type                                  |
 * |---------------------------------|-----------------------------------------------|
 * | ::ALCH_SMALLINT                 | `int16_t`, `int32_t`, `int64_t`               |
 * | ::ALCH_INTEGER                  | `int32_t`, `int64_t`                          |
 * | ::ALCH_BIGINT                   | `int64_t`                                     |
 * | ::ALCH_BOOLEAN                  | `bool`                                        |
 * | ::ALCH_REAL                     | `float`, `double`                             |
 * | ::ALCH_DOUBLE                   | `double`                                      |
 * | ::ALCH_TEXT, ::ALCH_VARCHAR     | `char *` (UTF-8; NULL is SQL NULL)            |
 * | ::ALCH_NUMERIC, ::ALCH_UUID, ::ALCH_JSONB | `char *` in PostgreSQL's text form  |
 * | ::ALCH_TIMESTAMPTZ              | ::alch_timestamp (microseconds since 1970 UTC)|
 * | ::ALCH_DATE                     | ::alch_date (days since 1970-01-01)           |
 * | ::ALCH_BYTEA                    | ::alch_blob                                   |
 *
 * **NULL.** A nullable column needs a C type that can say "NULL": `char *` (a NULL
 * pointer), ::alch_blob, ::alch_timestamp and ::alch_date (their `is_null` flag), or the
 * `alch_opt_*` wrappers for numbers and booleans (::alch_opt_i64 and friends). A nullable
 * column on a plain `int64_t` is refused when the model joins a base.
 *
 * **Unset fields and defaults.** A value the program set is the value stored, always,
 * `0` and `false` included. Only a field that can say "unset" is ever unset: a NULL
 * pointer (`char *`, ::alch_blob), or `is_null = true` (::alch_timestamp, ::alch_date, the
 * `alch_opt_*` wrappers); and an integer primary key of 0 ("not numbered yet"). An unset
 * primary key or `server_default` column is left out of the INSERT, so the server fills
 * it, and its value comes back into your struct through RETURNING; an unset
 * `client_default` column gets its default. A default on a plain number or `bool` field
 * is refused when the model joins a base (use the `alch_opt_*` type). A zero-initialized
 * ::alch_opt_i32 is the number 0, not NULL; set `is_null = true` for NULL (or the default).
 *
 * **Who owns strings.** Strings you put in a struct stay yours. Strings the library writes
 * into a struct (loaded rows, values returned by the server) belong to the session that
 * wrote them and are freed when it closes.
 */
#ifndef ALCH_MODEL_H
#define ALCH_MODEL_H

#include "alch/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alch/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup models
 * @{ */

/** @brief SQL column types. */
typedef enum alch_sql_type {
    ALCH_SMALLINT = 1, /**< 2-byte integer. */
    ALCH_INTEGER,      /**< 4-byte integer. */
    ALCH_BIGINT,       /**< 8-byte integer (SQLAlchemy's `BigInteger`, for Telegram ids). */
    ALCH_BOOLEAN,      /**< true / false. */
    ALCH_REAL,         /**< 4-byte float. */
    ALCH_DOUBLE,       /**< 8-byte float (`double precision`). */
    ALCH_NUMERIC,      /**< Exact decimal, carried as text ("12.50") so nothing is rounded. */
    ALCH_TEXT,         /**< Text of any length. */
    ALCH_VARCHAR,      /**< Text of at most `.length` characters (SQLAlchemy's `String(25)`). */
    ALCH_TIMESTAMPTZ,  /**< A moment in time. */
    ALCH_DATE,         /**< A calendar date. */
    ALCH_UUID,         /**< A UUID, as text. */
    ALCH_BYTEA,        /**< Bytes. */
    ALCH_JSONB,        /**< JSON, as text. */
} alch_sql_type;

/** @brief Bytes for a ::ALCH_BYTEA column. `data == NULL` is SQL NULL. */
typedef struct alch_blob {
    const void *data; /**< The bytes, or NULL for SQL NULL. */
    size_t len;       /**< How many. */
} alch_blob;

/** @brief A moment in time for ::ALCH_TIMESTAMPTZ: microseconds since 1970-01-01 00:00 UTC. */
typedef struct alch_timestamp {
    int64_t usec; /**< Microseconds since the Unix epoch, UTC. */
    bool is_null; /**< SQL NULL. */
} alch_timestamp;

/** @brief A calendar date for ::ALCH_DATE: days since 1970-01-01. */
typedef struct alch_date {
    int32_t days; /**< Days since 1970-01-01 (negative before). */
    bool is_null; /**< SQL NULL. */
} alch_date;

/**
 * @name Infinite timestamps and dates
 *
 * PostgreSQL's ``'infinity'`` and ``'-infinity'`` load as these values and these values are
 * stored as them, both ways exactly. Every other value is a real moment (day) on the
 * proleptic Gregorian calendar, BC included (`0044-03-15 BC` stays 44 BC, and 1 BC is
 * followed by 1 AD, with no year 0). A finite timestamp beyond what `int64_t`
 * microseconds since 1970 hold (after about the year 294246, PostgreSQL goes on to
 * 294276) does not load: it is an ::ALCH_ETYPE error naming the column.
 * @{
 */
#define ALCH_TIMESTAMP_INFINITY INT64_MAX     /**< A timestamptz ``'infinity'`` */
#define ALCH_TIMESTAMP_NEG_INFINITY INT64_MIN /**< A timestamptz ``'-infinity'`` */
#define ALCH_DATE_INFINITY INT32_MAX          /**< A date ``'infinity'`` */
#define ALCH_DATE_NEG_INFINITY INT32_MIN      /**< A date ``'-infinity'`` */
/** @} */

/** @brief A nullable `int16_t`. */
typedef struct alch_opt_i16 {
    int16_t value; /**< The value when not NULL. */
    bool is_null;  /**< SQL NULL. */
} alch_opt_i16;

/** @brief A nullable `int32_t`. */
typedef struct alch_opt_i32 {
    int32_t value; /**< The value when not NULL. */
    bool is_null;  /**< SQL NULL. */
} alch_opt_i32;

/** @brief A nullable `int64_t` (e.g. a foreign key that may be empty). */
typedef struct alch_opt_i64 {
    int64_t value; /**< The value when not NULL. */
    bool is_null;  /**< SQL NULL. */
} alch_opt_i64;

/** @brief A nullable `bool`. */
typedef struct alch_opt_bool {
    bool value;   /**< The value when not NULL. */
    bool is_null; /**< SQL NULL. */
} alch_opt_bool;

/** @brief A nullable `double`. */
typedef struct alch_opt_double {
    double value; /**< The value when not NULL. */
    bool is_null; /**< SQL NULL. */
} alch_opt_double;

/** @brief The C type of a model field, as the compiler saw it (see ALCH_COLUMN()). */
typedef enum alch_ctype {
    ALCH_C_UNSUPPORTED = 0, /**< Not a type alch can map. */
    ALCH_C_I16,             /**< `int16_t` */
    ALCH_C_I32,             /**< `int32_t` */
    ALCH_C_I64,             /**< `int64_t` */
    ALCH_C_BOOL,            /**< `bool` */
    ALCH_C_FLOAT,           /**< `float` */
    ALCH_C_DOUBLE,          /**< `double` */
    ALCH_C_STRING,          /**< `char *` */
    ALCH_C_BLOB,            /**< ::alch_blob */
    ALCH_C_TIMESTAMP,       /**< ::alch_timestamp */
    ALCH_C_DATE,            /**< ::alch_date */
    ALCH_C_OPT_I16,         /**< ::alch_opt_i16 */
    ALCH_C_OPT_I32,         /**< ::alch_opt_i32 */
    ALCH_C_OPT_I64,         /**< ::alch_opt_i64 */
    ALCH_C_OPT_BOOL,        /**< ::alch_opt_bool */
    ALCH_C_OPT_DOUBLE,      /**< ::alch_opt_double */
} alch_ctype;

/** @brief What happens to rows that reference a deleted row (`ON DELETE`). */
typedef enum alch_fk_action {
    ALCH_NO_ACTION = 0, /**< The default: the DELETE fails while references exist. */
    ALCH_CASCADE,       /**< Delete the referencing rows too. */
    ALCH_SET_NULL,      /**< Set the reference to NULL (the column must be nullable). */
    ALCH_RESTRICT,      /**< Like NO ACTION, checked at once. */
} alch_fk_action;

/**
 * @brief One column of a model. Build it with ALCH_COLUMN(), which fills `name`,
 *        `offset`, `ctype` and `type`; set the options as designated initializers.
 */
typedef struct alch_column {
    const char *name;           /**< Column name (the field's name). */
    size_t offset;              /**< offsetof(struct, field). */
    alch_ctype ctype;           /**< The field's C type. */
    alch_sql_type type;         /**< The SQL type. */
    int length;                 /**< For ::ALCH_VARCHAR: the maximum length in characters. */
    bool primary_key;           /**< Part of the primary key. An integer key is generated by
                                     the server (an identity column) unless set. */
    bool nullable;              /**< May hold NULL (default false: `NOT NULL`). */
    bool unique;                /**< A unique constraint on this column. */
    bool index;                 /**< An index on this column. */
    const char *server_default; /**< SQL expression the server fills in when the field is
                                     left empty, e.g. "now()" or "0"; it comes back to your
                                     struct through RETURNING at flush. Schema text, not data. */
    alch_value client_default;  /**< A value the flush uses when the field is unset, also
                                     written into your struct (SQLAlchemy's `default=`). Build
                                     it with ALCH_DEFAULT_INT(), ALCH_DEFAULT_DOUBLE(),
                                     ALCH_DEFAULT_BOOL() or ALCH_DEFAULT_TEXT(). */
    const char *foreign_key;    /**< "table.column" this column references, or NULL. */
    alch_fk_action on_delete;   /**< `ON DELETE` action of the foreign key. */
    int compile_check;          /**< Set by ALCH_COLUMN(): the C/SQL type check ran. */
} alch_column;

/** @brief One relationship of a model (SQLAlchemy's `relationship()`), loaded only on request. */
typedef struct alch_relationship {
    const char *name;        /**< Attribute name, e.g. "items". */
    size_t offset;           /**< offsetof(struct, field) of an ::alch_many or ::alch_one. */
    const char *target;      /**< The related model's table, e.g. "items". */
    const char *via;         /**< The foreign-key column: in the target for one-to-many
                                  ("category"), in this model for many-to-one. */
    bool many;               /**< true: one-to-many (::alch_many); false: many-to-one (::alch_one). */
} alch_relationship;

/**
 * @brief A one-to-many relationship field (a category's items).
 *
 * Nothing loads it implicitly. Until alch_session_load() fills it, `loaded` is false and
 * `items` is NULL: reading it is a detectable state, never garbage.
 *
 * You may also fill it yourself (an array of pointers to children): at flush, every child
 * listed gets this object's key in its foreign-key column, and a child the session does
 * not track yet is added (SQLAlchemy's save-update cascade). The array stays yours.
 */
typedef struct alch_many {
    void **items;  /**< The related objects (owned by the session that loaded them). */
    size_t count;  /**< How many. */
    bool loaded;   /**< Whether it was loaded. */
} alch_many;

/**
 * @brief A many-to-one relationship field (an item's category), loaded on request.
 *
 * Setting `obj` to a parent object is how you say "this item is in that category": at
 * flush the parent's key is written into the foreign-key column (the relationship wins
 * over a number written there by hand). A new parent is inserted first, and added to the
 * session if it was not in it; the child's statement waits for its generated key. Leave
 * the field zeroed (`= {0}`) when you set the foreign key yourself.
 */
typedef struct alch_one {
    void *obj;     /**< The related object, or NULL (when not loaded, or no row). */
    bool loaded;   /**< Whether it was loaded. */
} alch_one;

/** @brief A model: a table name, the struct's size, its columns and relationships. */
typedef struct alch_model {
    const char *name;                        /**< The struct's name, e.g. "User". */
    const char *table;                       /**< The table, e.g. "users". */
    size_t size;                             /**< sizeof the struct. */
    const alch_column *columns;              /**< The columns. */
    size_t ncolumns;                         /**< How many columns. */
    const alch_relationship *relationships;  /**< The relationships, or NULL. */
    size_t nrelationships;                   /**< How many relationships. */
} alch_model;

/** @cond INTERNAL */
#define ALCH__CTYPE(x)                                                                             \
    _Generic((x),                                                                                  \
        int16_t: ALCH_C_I16,                                                                       \
        int32_t: ALCH_C_I32,                                                                       \
        int64_t: ALCH_C_I64,                                                                       \
        bool: ALCH_C_BOOL,                                                                         \
        float: ALCH_C_FLOAT,                                                                       \
        double: ALCH_C_DOUBLE,                                                                     \
        char *: ALCH_C_STRING,                                                                     \
        const char *: ALCH_C_STRING,                                                               \
        alch_blob: ALCH_C_BLOB,                                                                    \
        alch_timestamp: ALCH_C_TIMESTAMP,                                                          \
        alch_date: ALCH_C_DATE,                                                                    \
        alch_opt_i16: ALCH_C_OPT_I16,                                                              \
        alch_opt_i32: ALCH_C_OPT_I32,                                                              \
        alch_opt_i64: ALCH_C_OPT_I64,                                                              \
        alch_opt_bool: ALCH_C_OPT_BOOL,                                                            \
        alch_opt_double: ALCH_C_OPT_DOUBLE,                                                        \
        default: ALCH_C_UNSUPPORTED)

/* Bit i set: the C type fits SQL type i. A constant expression, for _Static_assert. */
#define ALCH__B(t) (1u << (t))
#define ALCH__INTS16 (ALCH__B(ALCH_SMALLINT))
#define ALCH__INTS32 (ALCH__INTS16 | ALCH__B(ALCH_INTEGER))
#define ALCH__INTS64 (ALCH__INTS32 | ALCH__B(ALCH_BIGINT))
#define ALCH__TEXTS                                                                                \
    (ALCH__B(ALCH_TEXT) | ALCH__B(ALCH_VARCHAR) | ALCH__B(ALCH_NUMERIC) | ALCH__B(ALCH_UUID) |     \
     ALCH__B(ALCH_JSONB))
#define ALCH__FITS_MASK(c)                                                                         \
    ((c) == ALCH_C_I16 || (c) == ALCH_C_OPT_I16     ? ALCH__INTS16                                 \
     : (c) == ALCH_C_I32 || (c) == ALCH_C_OPT_I32   ? ALCH__INTS32                                 \
     : (c) == ALCH_C_I64 || (c) == ALCH_C_OPT_I64   ? ALCH__INTS64                                 \
     : (c) == ALCH_C_BOOL || (c) == ALCH_C_OPT_BOOL ? ALCH__B(ALCH_BOOLEAN)                        \
     : (c) == ALCH_C_FLOAT                          ? ALCH__B(ALCH_REAL)                           \
     : (c) == ALCH_C_DOUBLE || (c) == ALCH_C_OPT_DOUBLE                                            \
         ? (ALCH__B(ALCH_REAL) | ALCH__B(ALCH_DOUBLE))                                             \
     : (c) == ALCH_C_STRING    ? ALCH__TEXTS                                                       \
     : (c) == ALCH_C_BLOB      ? ALCH__B(ALCH_BYTEA)                                               \
     : (c) == ALCH_C_TIMESTAMP ? ALCH__B(ALCH_TIMESTAMPTZ)                                         \
     : (c) == ALCH_C_DATE      ? ALCH__B(ALCH_DATE)                                                \
                               : 0u)
#define ALCH__FITS(c, t) ((ALCH__FITS_MASK(c) & ALCH__B(t)) != 0)
/** @endcond */

/**
 * @brief \~english Describe one column of a model:
 *        `ALCH_COLUMN(Struct, field, sqltype, options...)`.
 *        \~russian Описать один столбец модели: `ALCH_COLUMN(Struct, field, sqltype, options...)`
 *        (`mapped_column()` в SQLAlchemy). \~
 *
 * `ALCH_COLUMN(Item, price, ALCH_INTEGER, .nullable = true)` reads the type of
 * `Item.price` at compile time and refuses to compile when it cannot hold an INTEGER
 * (the table in model.h lists what fits). Options after the SQL type are designated
 * initializers of ::alch_column: `.primary_key`, `.nullable`, `.unique`, `.index`,
 * `.length`, `.server_default`, `.foreign_key`, `.on_delete`.
 */
#define ALCH_COLUMN(Struct, field, ...)                                                             \
    {                                                                                              \
        .name = #field, .offset = offsetof(Struct, field),                                         \
        .ctype = ALCH__CTYPE(((Struct *)0)->field),                                                \
        .compile_check = (int)sizeof(struct {                                                      \
            int ok;                                                                                \
            _Static_assert(ALCH__FITS(ALCH__CTYPE(((Struct *)0)->field),                           \
                                      ALCH__FIRST(__VA_ARGS__, 0)),                                \
                           "alch: the C type of " #Struct "." #field                               \
                           " cannot hold the SQL type declared for it (see alch/model.h)");        \
        }),                                                                                        \
        .type = __VA_ARGS__                                                                        \
    }
/** @cond INTERNAL */
#define ALCH__FIRST(a, ...) a
/** @endcond */

/**
 * @brief Describe a one-to-many relationship: `ALCH_ONE_TO_MANY(Category, items, "items",
 *        "category")` — the field `Category.items` (an ::alch_many) holds the rows of table
 *        `items` whose column `category` references this category.
 */
#define ALCH_ONE_TO_MANY(Struct, field, target_table, fk_column)                                   \
    {                                                                                              \
        .name = #field, .offset = offsetof(Struct, field), .target = (target_table),               \
        .via = (fk_column), .many = true                                                           \
    }

/**
 * @brief Describe a many-to-one relationship: `ALCH_MANY_TO_ONE(Item, category_obj,
 *        "categories", "category")` — the field `Item.category_obj` (an ::alch_one) holds
 *        the row of `categories` that this item's column `category` references.
 */
#define ALCH_MANY_TO_ONE(Struct, field, target_table, fk_column)                                   \
    {                                                                                              \
        .name = #field, .offset = offsetof(Struct, field), .target = (target_table),               \
        .via = (fk_column), .many = false                                                          \
    }

/** @brief A client-side default integer: `.client_default = ALCH_DEFAULT_INT(1)`. */
#define ALCH_DEFAULT_INT(n) {.type = ALCH_V_INT, .u = {.i = (n)}}
/** @brief A client-side default floating-point number. */
#define ALCH_DEFAULT_DOUBLE(x) {.type = ALCH_V_DOUBLE, .u = {.d = (x)}}
/** @brief A client-side default boolean. */
#define ALCH_DEFAULT_BOOL(value) {.type = ALCH_V_BOOL, .u = {.b = (value)}}
/** @brief A client-side default text: a string literal, which the struct then points to. */
#define ALCH_DEFAULT_TEXT(literal) {.type = ALCH_V_TEXT, .len = sizeof(literal) - 1, .u = {.s = (literal)}}

/** @brief Number of elements of an array (for column and relationship tables). */
#define ALCH_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/**
 * @brief \~english Describe a model: `ALCH_MODEL(User, "users", user_columns)`, optionally
 *        followed by a relationship array:
 *        `ALCH_MODEL(Category, "categories", cols, category_rels)`.
 *        \~russian Описать модель: `ALCH_MODEL(User, "users", user_columns)`, при желании с
 *        массивом связей: `ALCH_MODEL(Category, "categories", cols, category_rels)`. \~
 */
#define ALCH_MODEL(Struct, table_name, ...)                                                        \
    ALCH__MODEL_PICK(__VA_ARGS__, ALCH__MODEL_R, ALCH__MODEL_C, 0)(Struct, table_name, __VA_ARGS__)
/** @cond INTERNAL */
#define ALCH__MODEL_PICK(a, b, name, ...) name
#define ALCH__MODEL_C(Struct, table_name, cols)                                                    \
    {#Struct, (table_name), sizeof(Struct), (cols), ALCH_COUNT(cols), NULL, 0}
#define ALCH__MODEL_R(Struct, table_name, cols, rels)                                              \
    {#Struct, (table_name), sizeof(Struct), (cols), ALCH_COUNT(cols), (rels), ALCH_COUNT(rels)}
/** @endcond */

/**
 * @brief Find a column of a model by name.
 * @return The column, or NULL when the model has none of that name.
 */
ALCH_API const alch_column *alch_model_column(const alch_model *model, const char *name);

/** @} */

#ifdef __cplusplus
}
#endif

#endif
