/**
 * @file statement.h
 * @ingroup requests
 * @brief Statements built from models, not from SQL strings (the seed's `select(...)`).
 *
 * The seed names a `requests` module; its queries (this course's continuation) use
 * SQLAlchemy's expression language:
 *
 *     await session.scalars(select(Item).where(Item.category == category_id))
 *
 * In C the same query is a statement object:
 *
 * @code
 * alch_stmt *st = alch_select(&Item_model);
 * alch_where(st, alch_eq(ALCH_COL(Item, category), category_id));
 * alch_list items;
 * alch_session_scalars(session, st, &items, &err);   // SELECT ... WHERE items.category = $1
 * alch_stmt_free(st);
 * @endcode
 *
 * **Values are always bound parameters.** Every value in a statement travels as `$n`,
 * never pasted into the text; identifiers are quoted where they need it. alch_stmt_sql()
 * shows the SQL and alch_stmt_print() the SQL with its values.
 *
 * **Types are checked while you build.** Comparing a BIGINT column with a string, a LIKE on
 * a number, a NULL in a NOT NULL column, a text longer than its VARCHAR: the statement
 * records a clear error and the call that runs it returns that error, before any SQL is
 * sent. alch_stmt_error() tells it early.
 *
 * **Who owns what.** An expression (::alch_expr) belongs to whatever you give it to: a
 * statement, or a bigger expression. The same expression may be given to several places
 * (a column in a WHERE and an ORDER BY); it is freed when the last one is freed. A
 * statement owns its expressions and copies of the values; free it with alch_stmt_free().
 * A statement used as a subquery belongs to the expression that wraps it.
 *
 * **Reuse.** Build a statement once with alch_param() placeholders, then run it many times
 * with alch_stmt_bind(): the SQL text is rendered once and the connection's prepared
 * statement is reused (echo shows `cached`).
 *
 * Statements run through a session (alch_session_scalars(), alch_session_execute(), ...) or
 * on a connection (alch_conn_execute()).
 */
#ifndef ALCH_STATEMENT_H
#define ALCH_STATEMENT_H

#include "alch/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alch/error.h"
#include "alch/model.h"
#include "alch/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup requests
 * @{ */

/** @brief A SELECT, INSERT, UPDATE or DELETE statement (opaque). */
typedef struct alch_stmt alch_stmt;

/** @brief A piece of a statement: a column, a value, a condition, an aggregate (opaque). */
typedef struct alch_expr alch_expr;

/* ---- columns and values ----------------------------------------------------------- */

/**
 * @brief A column of a model, by name: `alch_col(&Item_model, "price")` is `items.price`.
 *
 * A name the model does not have gives an expression that carries the error ("model Item
 * has no column 'prise' (did you mean 'price'?)"); the statement reports it.
 *
 * @return A new expression, or NULL when out of memory.
 */
ALCH_API alch_expr *alch_col(const alch_model *model, const char *column);

/**
 * @brief A column checked by the compiler: `ALCH_COL(Item, price)` is `items.price`.
 *
 * Needs the model variable to be named `<Struct>_model` (as in `Item_model`). A field the
 * struct does not have does not compile.
 */
#define ALCH_COL(Struct, field)                                                                    \
    ((void)sizeof(((Struct *)0)->field), alch_col(&Struct##_model, #field))

/**
 * @brief A value as an expression (copied: the text or bytes may be freed afterwards).
 * @return A new expression, or NULL when out of memory.
 */
ALCH_API alch_expr *alch_val(alch_value v);

/**
 * @brief A named placeholder whose value is given later with alch_stmt_bind().
 *
 * `alch_eq(ALCH_COL(Item, id), alch_param("id"))`: build once, bind and run many times.
 * The value bound is checked against the column it is compared with.
 *
 * @param name  The placeholder's name (copied).
 * @return A new expression, or NULL when out of memory.
 */
ALCH_API alch_expr *alch_param(const char *name);

/**
 * @brief Free an expression you built but did not give to a statement or an expression.
 * @param e  The expression; NULL is allowed.
 */
ALCH_API void alch_expr_free(alch_expr *e);

/** @cond INTERNAL */
ALCH_API alch_expr *alch__expr_same(alch_expr *e);
ALCH_API alch_expr *alch__val_bool(bool b);
ALCH_API alch_expr *alch__val_int(int64_t i);
ALCH_API alch_expr *alch__val_uint(unsigned long long i);
ALCH_API alch_expr *alch__val_double(double d);
ALCH_API alch_expr *alch__val_text(const char *s);
/* Anything that can stand on the right of a comparison: an expression, an alch_value, or a
 * C number, boolean or string, whose SQL type is chosen from its C type. */
#define ALCH__X(x)                                                                                 \
    _Generic((x),                                                                                  \
        alch_expr *: alch__expr_same,                                                              \
        alch_value: alch_val,                                                                      \
        bool: alch__val_bool,                                                                      \
        char: alch__val_int,                                                                       \
        signed char: alch__val_int,                                                                \
        unsigned char: alch__val_int,                                                              \
        short: alch__val_int,                                                                      \
        unsigned short: alch__val_int,                                                             \
        int: alch__val_int,                                                                        \
        unsigned int: alch__val_int,                                                               \
        long: alch__val_int,                                                                       \
        unsigned long: alch__val_uint,                                                             \
        long long: alch__val_int,                                                              \
        unsigned long long: alch__val_uint,                                                        \
        float: alch__val_double,                                                                   \
        double: alch__val_double,                                                                  \
        char *: alch__val_text,                                                                    \
        const char *: alch__val_text)(x)
#define ALCH__XS(...)                                                                              \
    ((alch_expr *[]){__VA_ARGS__}), (sizeof((alch_expr *[]){__VA_ARGS__}) / sizeof(alch_expr *))
/* ALCH__XMAP(a, b, ...) is ALCH__X(a), ALCH__X(b), ...: up to 9 arguments. */
#define ALCH__NARG(...) ALCH__NARG_(__VA_ARGS__, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define ALCH__NARG_(a1, a2, a3, a4, a5, a6, a7, a8, a9, n, ...) n
#define ALCH__CAT(a, b) ALCH__CAT_(a, b)
#define ALCH__CAT_(a, b) a##b
#define ALCH__XMAP(...) ALCH__CAT(ALCH__XMAP, ALCH__NARG(__VA_ARGS__))(__VA_ARGS__)
#define ALCH__XMAP1(a) ALCH__X(a)
#define ALCH__XMAP2(a, ...) ALCH__X(a), ALCH__XMAP1(__VA_ARGS__)
#define ALCH__XMAP3(a, ...) ALCH__X(a), ALCH__XMAP2(__VA_ARGS__)
#define ALCH__XMAP4(a, ...) ALCH__X(a), ALCH__XMAP3(__VA_ARGS__)
#define ALCH__XMAP5(a, ...) ALCH__X(a), ALCH__XMAP4(__VA_ARGS__)
#define ALCH__XMAP6(a, ...) ALCH__X(a), ALCH__XMAP5(__VA_ARGS__)
#define ALCH__XMAP7(a, ...) ALCH__X(a), ALCH__XMAP6(__VA_ARGS__)
#define ALCH__XMAP8(a, ...) ALCH__X(a), ALCH__XMAP7(__VA_ARGS__)
#define ALCH__XMAP9(a, ...) ALCH__X(a), ALCH__XMAP8(__VA_ARGS__)
/** @endcond */

/* ---- Core tables ---------------------------------------------------------------------- */

/**
 * @brief One column of a Core table (a table with no struct): `ALCH_TABLE_COLUMN("delta",
 *        ALCH_INTEGER)`, options as in ALCH_COLUMN(): `.nullable = true`, `.length = 22`.
 */
#define ALCH_TABLE_COLUMN(column_name, ...) {.name = (column_name), .type = __VA_ARGS__}

/**
 * @brief A Core table: a table described by its columns only, with no struct and no primary
 *        key required (pgbench's `history`, a log table): SQLAlchemy's `Table(...)`.
 *
 * @code
 * static const alch_column history_columns[] = {
 *     ALCH_TABLE_COLUMN("tid", ALCH_INTEGER), ALCH_TABLE_COLUMN("delta", ALCH_INTEGER),
 *     ALCH_TABLE_COLUMN("mtime", ALCH_TIMESTAMPTZ, .nullable = true),
 * };
 * static const alch_model history = ALCH_TABLE("pgbench_history", history_columns);
 * @endcode
 *
 * alch_col(), alch_select(), alch_insert(), alch_update(), alch_delete() and the joins take
 * it like a model; its rows come back as an ::alch_result (alch_session_execute()), read by
 * index or by name (alch_result_column_index()). The table must exist (pgbench creates its
 * own); alch_base_add() is for models, which have a struct and a primary key.
 */
#define ALCH_TABLE(table_name, cols) {(table_name), (table_name), 0, (cols), ALCH_COUNT(cols), NULL, 0}

/* ---- conditions ------------------------------------------------------------------- */

/** @brief The comparison operators of alch_compare(). */
typedef enum alch_cmp {
    ALCH_EQ, /**< `=` */
    ALCH_NE, /**< `<>` */
    ALCH_LT, /**< `<` */
    ALCH_LE, /**< `<=` */
    ALCH_GT, /**< `>` */
    ALCH_GE, /**< `>=` */
} alch_cmp;

/**
 * @brief `a op b`. Usually written with alch_eq(), alch_lt(), ...
 *
 * When one side is a column and the other a value, the value must fit the column's type:
 * a text compared with a BIGINT column is an ::ALCH_ETYPE error that says so (in C a
 * string never silently becomes a number). A NULL value is refused too: `x = NULL` is
 * never true in SQL; use alch_is_null().
 *
 * @param a   Left side (owned by the result).
 * @param op  The operator.
 * @param b   Right side (owned by the result).
 * @return A new expression, or NULL when out of memory.
 */
ALCH_API alch_expr *alch_compare(alch_expr *a, alch_cmp op, alch_expr *b);

/** @brief `a = b`; @p b may be an expression, an ::alch_value, a C number, bool or string. */
#define alch_eq(a, b) alch_compare((a), ALCH_EQ, ALCH__X(b))
/** @brief `a <> b`; @p b as in alch_eq(). */
#define alch_ne(a, b) alch_compare((a), ALCH_NE, ALCH__X(b))
/** @brief `a < b`; @p b as in alch_eq(). */
#define alch_lt(a, b) alch_compare((a), ALCH_LT, ALCH__X(b))
/** @brief `a <= b`; @p b as in alch_eq(). */
#define alch_le(a, b) alch_compare((a), ALCH_LE, ALCH__X(b))
/** @brief `a > b`; @p b as in alch_eq(). */
#define alch_gt(a, b) alch_compare((a), ALCH_GT, ALCH__X(b))
/** @brief `a >= b`; @p b as in alch_eq(). */
#define alch_ge(a, b) alch_compare((a), ALCH_GE, ALCH__X(b))

/**
 * @brief `a LIKE pattern` (or `ILIKE`, case-insensitive, when @p ignore_case).
 *
 * The pattern is a bound value like any other: `%` and `_` are wildcards, and a quote in
 * it is just a character. @p a must be a text column or expression.
 */
ALCH_API alch_expr *alch_like_expr(alch_expr *a, alch_expr *pattern, bool ignore_case);
/** @brief `a LIKE pattern`; @p pattern as the right side of alch_eq(). */
#define alch_like(a, pattern) alch_like_expr((a), ALCH__X(pattern), false)
/** @brief `a ILIKE pattern` (case-insensitive); @p pattern as in alch_like(). */
#define alch_ilike(a, pattern) alch_like_expr((a), ALCH__X(pattern), true)

/** @brief `a IS NULL`. */
ALCH_API alch_expr *alch_is_null(alch_expr *a);
/** @brief `a IS NOT NULL`. */
ALCH_API alch_expr *alch_is_not_null(alch_expr *a);

/** @brief `a BETWEEN lo AND hi` (both ends included). */
ALCH_API alch_expr *alch_between_expr(alch_expr *a, alch_expr *lo, alch_expr *hi);
/** @brief `a BETWEEN lo AND hi`; @p lo and @p hi as the right side of alch_eq(). */
#define alch_between(a, lo, hi) alch_between_expr((a), ALCH__X(lo), ALCH__X(hi))

/**
 * @brief `a IN ($1, $2, ...)`, each value bound and checked against @p a's type.
 *
 * An empty list is allowed and is never true (SQL has no empty `IN ()`, so it renders as
 * `false`, as SQLAlchemy does).
 *
 * @param a       The column or expression.
 * @param values  The values (copied); may be NULL when @p n is 0.
 * @param n       How many.
 */
ALCH_API alch_expr *alch_in(alch_expr *a, const alch_value *values, size_t n);

/** @brief `a IN (SELECT ...)`: @p sub must select exactly one column; it belongs to the result. */
ALCH_API alch_expr *alch_in_select(alch_expr *a, alch_stmt *sub);

/** @brief All conditions must hold: `(c1 AND c2 AND ...)`. */
ALCH_API alch_expr *alch_and_list(alch_expr *const *conds, size_t n);
/** @brief Any condition may hold: `(c1 OR c2 OR ...)`. */
ALCH_API alch_expr *alch_or_list(alch_expr *const *conds, size_t n);
/** @brief `alch_and(c1, c2, ...)`: all must hold. */
#define alch_and(...) alch_and_list(ALCH__XS(__VA_ARGS__))
/** @brief `alch_or(c1, c2, ...)`: any may hold. */
#define alch_or(...) alch_or_list(ALCH__XS(__VA_ARGS__))
/** @brief `NOT c`. */
ALCH_API alch_expr *alch_not(alch_expr *c);

/** @brief `EXISTS (SELECT ...)`: @p sub belongs to the result. Columns of the outer
 *         statement may appear in its WHERE (a correlated subquery). */
ALCH_API alch_expr *alch_exists(alch_stmt *sub);

/** @brief `(SELECT ...)` as a value: @p sub must select one column (and should return at most
 *         one row); it belongs to the result. */
ALCH_API alch_expr *alch_scalar_subquery(alch_stmt *sub);

/* ---- aggregates and labels ---------------------------------------------------------- */

/** @brief `count(*)`. */
ALCH_API alch_expr *alch_count_all(void);
/** @brief `count(a)`: rows where @p a is not NULL. */
ALCH_API alch_expr *alch_count(alch_expr *a);
/** @brief `sum(a)` of a number column. */
ALCH_API alch_expr *alch_sum(alch_expr *a);
/** @brief `avg(a)` of a number column (a `numeric`: read it with alch_result_get_double()). */
ALCH_API alch_expr *alch_avg(alch_expr *a);
/** @brief `min(a)`. */
ALCH_API alch_expr *alch_min(alch_expr *a);
/** @brief `max(a)`. */
ALCH_API alch_expr *alch_max(alch_expr *a);

/** @brief `a AS name`: names a selected column in the result. */
ALCH_API alch_expr *alch_label(alch_expr *a, const char *name);

/** @brief Where NULLs go in an ordering. */
typedef enum alch_nulls_at {
    ALCH_NULLS_DEFAULT = 0, /**< The server's default (last for ASC, first for DESC). */
    ALCH_NULLS_FIRST,       /**< `NULLS FIRST` */
    ALCH_NULLS_LAST,        /**< `NULLS LAST` */
} alch_nulls_at;

/** @brief `a ASC`, for alch_order_by(). */
ALCH_API alch_expr *alch_asc(alch_expr *a);
/** @brief `a DESC`, for alch_order_by(). */
ALCH_API alch_expr *alch_desc(alch_expr *a);
/** @brief Put NULLs first or last in an ordering made by alch_asc() or alch_desc() (or a
 *         plain column, which is ascending). Returns @p order. */
ALCH_API alch_expr *alch_nulls(alch_expr *order, alch_nulls_at where);

/* ---- arithmetic --------------------------------------------------------------------------- */

/** @brief The operators of alch_arith(). */
typedef enum alch_arith_op {
    ALCH_ADD,    /**< `+` */
    ALCH_SUB,    /**< `-` */
    ALCH_MUL,    /**< `*` */
    ALCH_DIV,    /**< `/` (integer division between integers, as in C) */
    ALCH_MOD,    /**< `%` */
    ALCH_CONCAT, /**< `||`: text concatenation */
} alch_arith_op;

/**
 * @brief `a op b`: arithmetic on numbers, or `||` on text. Usually written with alch_add(),
 *        alch_sub(), alch_mul(), alch_div(), alch_mod(), alch_concat().
 *
 * Checked while you build: `+` on a text column, `||` between two numbers, or a division by
 * a literal 0 is an error with a sentence. The result's type follows PostgreSQL's (an
 * INTEGER times a C integer, sent as BIGINT, is a BIGINT), so it can be compared, summed
 * and stored: `alch_set(st, col, alch_add(col, delta))` is `SET col = col + $1`.
 *
 * @return A new expression (owning @p a and @p b), or NULL when out of memory.
 */
ALCH_API alch_expr *alch_arith(alch_expr *a, alch_arith_op op, alch_expr *b);
/** @brief `a + b`; @p b may be an expression, an ::alch_value, a C number (as in alch_eq()). */
#define alch_add(a, b) alch_arith((a), ALCH_ADD, ALCH__X(b))
/** @brief `a - b`; @p b as in alch_add(). */
#define alch_sub(a, b) alch_arith((a), ALCH_SUB, ALCH__X(b))
/** @brief `a * b`; @p b as in alch_add(). */
#define alch_mul(a, b) alch_arith((a), ALCH_MUL, ALCH__X(b))
/** @brief `a / b`; @p b as in alch_add(). */
#define alch_div(a, b) alch_arith((a), ALCH_DIV, ALCH__X(b))
/** @brief `a % b`; @p b as in alch_add(). */
#define alch_mod(a, b) alch_arith((a), ALCH_MOD, ALCH__X(b))
/** @brief `a || b`: text joined; @p b may be a C string. */
#define alch_concat(a, b) alch_arith((a), ALCH_CONCAT, ALCH__X(b))
/** @brief `-a`, of a number. */
ALCH_API alch_expr *alch_neg(alch_expr *a);

/* ---- functions, CASE, CAST, EXTRACT ---------------------------------------------------------- */

/**
 * @brief `name(arg, ...)`: any SQL function, with the type of what it returns (SQLAlchemy's
 *        `func.name(...)`).
 *
 * The declared type is what the builder checks the call against: `lower(name)` declared
 * ::ALCH_TEXT and compared with an INTEGER column is an error before any SQL is sent. The
 * arguments are checked by the server. The name must be a plain SQL name (letters, digits,
 * `_`, and a `.` for a schema): it is SQL text, never a value.
 *
 * @param name    The function, e.g. "lower", "coalesce", "date_trunc", "now" (copied).
 * @param result  The SQL type it returns.
 * @param args    The arguments (each belongs to the result); may be NULL when @p n is 0.
 * @param n       How many.
 * @return A new expression, or NULL when out of memory.
 */
ALCH_API alch_expr *alch_func_list(const char *name, alch_sql_type result, alch_expr *const *args,
                                   size_t n);
/**
 * @brief `alch_func("lower", ALCH_TEXT, ALCH_COL(Item, name))`: alch_func_list() with up to 7
 *        arguments, each an expression or a C value (as the right side of alch_eq()).
 *        `alch_func("now", ALCH_TIMESTAMPTZ)` takes none.
 */
#define alch_func(...) ALCH__CAT(ALCH__FUNC, ALCH__NARG(__VA_ARGS__))(__VA_ARGS__)
/** @cond INTERNAL */
#define ALCH__FUNC2(name, type) alch_func_list((name), (type), NULL, 0)
#define ALCH__FUNCN(name, type, ...) alch_func_list((name), (type), ALCH__XS(ALCH__XMAP(__VA_ARGS__)))
#define ALCH__FUNC3 ALCH__FUNCN
#define ALCH__FUNC4 ALCH__FUNCN
#define ALCH__FUNC5 ALCH__FUNCN
#define ALCH__FUNC6 ALCH__FUNCN
#define ALCH__FUNC7 ALCH__FUNCN
#define ALCH__FUNC8 ALCH__FUNCN
#define ALCH__FUNC9 ALCH__FUNCN
/** @endcond */

/** @brief `count(DISTINCT a)`: how many different non-NULL values. */
ALCH_API alch_expr *alch_count_distinct(alch_expr *a);

/**
 * @brief `CASE WHEN c1 THEN r1 WHEN c2 THEN r2 ... ELSE e END`.
 *
 * @param parts  The conditions and results in turn, then the ELSE result when @p n is odd
 *               (without one, rows that match no condition give NULL). Each belongs to the
 *               result.
 * @param n      How many (at least 2). The results must have compatible types (a text
 *               and a number are refused).
 * @return A new expression, or NULL when out of memory.
 */
ALCH_API alch_expr *alch_case_list(alch_expr *const *parts, size_t n);
/** @brief `alch_case(cond1, result1, cond2, result2, ..., else_result)`: alch_case_list()
 *         with up to 9 parts; results may be C values. */
#define alch_case(...) alch_case_list(ALCH__XS(ALCH__XMAP(__VA_ARGS__)))

/** @brief `CAST(a AS type)`: the result has @p type (a text to a number, a number to text). */
ALCH_API alch_expr *alch_cast(alch_expr *a, alch_sql_type type);

/**
 * @brief `EXTRACT(field FROM a)` of a date or timestamp: "year", "month", "day", "hour",
 *        "minute", "second", "dow", "doy", "week", "quarter", "epoch" (a NUMERIC).
 */
ALCH_API alch_expr *alch_extract(const char *field, alch_expr *a);

/* ---- window functions -------------------------------------------------------------------------- */

/**
 * @brief `fn OVER (PARTITION BY partition ORDER BY order)`: a window function, computed for
 *        each row over the rows of its partition (SQLAlchemy's `func.x().over(...)`).
 *
 * @p fn is alch_row_number(), alch_rank(), an aggregate (alch_sum(), alch_count(), ...) or
 * any alch_func(). A window is computed after WHERE has filtered the rows, so it cannot be
 * used in WHERE, GROUP BY or HAVING (an error says so): select it in a CTE (alch_cte_create())
 * and filter the CTE's column.
 *
 * @param fn         The function (belongs to the result).
 * @param partition  The partition key, or NULL for one partition of every row.
 * @param order      The order inside each partition (a column, alch_asc(), alch_desc()), or
 *                   NULL.
 * @return A new expression, or NULL when out of memory.
 */
ALCH_API alch_expr *alch_over(alch_expr *fn, alch_expr *partition, alch_expr *order);
/** @brief `row_number()`: 1, 2, 3, ... in the window's order; for alch_over(). */
ALCH_API alch_expr *alch_row_number(void);
/** @brief `rank()`: like row_number(), with ties given the same rank; for alch_over(). */
ALCH_API alch_expr *alch_rank(void);

/* ---- SELECT ----------------------------------------------------------------------------- */

/**
 * @brief \~english `SELECT <every column of model> FROM <its table>` (SQLAlchemy's `select(Item)`).
 *        \~russian `SELECT <все столбцы модели> FROM <её таблица>`
 *        (`select(Item)` в SQLAlchemy). \~
 *
 * Run it with alch_session_scalars() and friends to get the model's structs.
 *
 * @return A new statement (free it with alch_stmt_free()), or NULL when out of memory.
 */
ALCH_API alch_stmt *alch_select(const alch_model *model);

/**
 * @brief `SELECT <columns>`: chosen columns, aggregates or labels. The FROM is the model of
 *        the first column, unless alch_select_from() says otherwise.
 *
 * @param cols  The expressions (each belongs to the statement).
 * @param n     How many (at least one).
 * @return A new statement, or NULL when out of memory.
 */
ALCH_API alch_stmt *alch_select_list(alch_expr *const *cols, size_t n);
/** @brief `alch_select_columns(c1, c2, ...)`: alch_select_list() with the count filled in. */
#define alch_select_columns(...) alch_select_list(ALCH__XS(__VA_ARGS__))

/** @brief Select from this model's table (when the columns alone do not say). Returns @p st. */
ALCH_API alch_stmt *alch_select_from(alch_stmt *st, const alch_model *model);

/**
 * @brief \~english Add a WHERE condition; several calls are joined with AND (as in SQLAlchemy).
 *        \~russian Добавить условие WHERE; условия нескольких вызовов соединяются через AND
 *        (как в SQLAlchemy). \~
 * @param st    The statement (SELECT, UPDATE or DELETE).
 * @param cond  The condition (belongs to the statement).
 * @return @p st, so calls can be chained.
 */
ALCH_API alch_stmt *alch_where(alch_stmt *st, alch_expr *cond);

/**
 * @brief `JOIN model ON ...` along the foreign key between @p model and a table already in
 *        the statement; an error when there is none, or more than one.
 *
 * "Already in the statement" means its FROM and the joins before this one, as they are when
 * alch_join() is called. The condition is found when the statement is first rendered, and
 * kept: run by a session, from the mappers of its base (each `.foreign_key` was resolved to
 * its table's model and column once, by alch_base_check()); rendered alone (alch_stmt_sql(),
 * alch_conn_execute()) or over a Core table (ALCH_TABLE(), in no base), by the model-level
 * rule: a column whose `.foreign_key` is "table.column" with @p model's table name, or the
 * other way round. Both give the same condition. A mistake (no foreign key, or two: say which
 * with alch_join_on()) is reported then, by whatever runs the statement.
 *
 * @return @p st.
 */
ALCH_API alch_stmt *alch_join(alch_stmt *st, const alch_model *model);
/** @brief `JOIN model ON cond`, with an explicit condition. @return @p st. */
ALCH_API alch_stmt *alch_join_on(alch_stmt *st, const alch_model *model, alch_expr *cond);
/** @brief `LEFT OUTER JOIN` along a foreign key, found as alch_join() finds it: rows of the
 *         left side are kept even with no match. @return @p st. */
ALCH_API alch_stmt *alch_outerjoin(alch_stmt *st, const alch_model *model);
/** @brief `LEFT OUTER JOIN model ON cond`. @return @p st. */
ALCH_API alch_stmt *alch_outerjoin_on(alch_stmt *st, const alch_model *model, alch_expr *cond);

/** @brief Add an `ORDER BY` term (a column, alch_asc(), alch_desc()). @return @p st. */
ALCH_API alch_stmt *alch_order_by(alch_stmt *st, alch_expr *order);
/** @brief Add a `GROUP BY` term. @return @p st. */
ALCH_API alch_stmt *alch_group_by(alch_stmt *st, alch_expr *e);
/** @brief Add a `HAVING` condition (joined with AND). @return @p st. */
ALCH_API alch_stmt *alch_having(alch_stmt *st, alch_expr *cond);
/** @brief `LIMIT n` (a bound value); a negative @p n is an error. @return @p st. */
ALCH_API alch_stmt *alch_limit(alch_stmt *st, int64_t n);
/** @brief `OFFSET n` (a bound value); a negative @p n is an error. @return @p st. */
ALCH_API alch_stmt *alch_offset(alch_stmt *st, int64_t n);
/** @brief `SELECT DISTINCT`. @return @p st. */
ALCH_API alch_stmt *alch_distinct(alch_stmt *st);

/** @brief How rows are locked by alch_with_for_update(). */
typedef enum alch_lock_mode {
    ALCH_LOCK_NONE = 0,     /**< No lock (the default). */
    ALCH_FOR_UPDATE,        /**< `FOR UPDATE`: to change or delete the rows. */
    ALCH_FOR_NO_KEY_UPDATE, /**< `FOR NO KEY UPDATE`: to change them, keys left alone. */
    ALCH_FOR_SHARE,         /**< `FOR SHARE`: nobody changes them until the transaction ends. */
    ALCH_FOR_KEY_SHARE,     /**< `FOR KEY SHARE`: nobody deletes them or changes their keys. */
} alch_lock_mode;

/** @brief What a locking SELECT does with a row another transaction has locked. */
typedef enum alch_lock_wait {
    ALCH_LOCK_WAIT = 0, /**< Wait for it (the default). */
    ALCH_NOWAIT,        /**< `NOWAIT`: fail at once (SQLSTATE 55P03, lock_not_available). */
    ALCH_SKIP_LOCKED,   /**< `SKIP LOCKED`: leave it out (the job-queue pattern). */
} alch_lock_wait;

/**
 * @brief `SELECT ... FOR UPDATE [NOWAIT | SKIP LOCKED]` (SQLAlchemy's `with_for_update()`):
 *        lock the rows read until the transaction ends.
 *
 * Only rows of tables can be locked: with GROUP BY, HAVING, DISTINCT, an aggregate or a set
 * operation the statement is refused with a sentence.
 *
 * @return @p st.
 */
ALCH_API alch_stmt *alch_with_for_update(alch_stmt *st, alch_lock_mode mode, alch_lock_wait wait);

/** @brief The set operations of alch_set_operation(). */
typedef enum alch_setop {
    ALCH_UNION,         /**< `UNION`: rows of both, duplicates removed. */
    ALCH_UNION_ALL,     /**< `UNION ALL`: rows of both, all kept. */
    ALCH_INTERSECT,     /**< `INTERSECT`: rows in both. */
    ALCH_INTERSECT_ALL, /**< `INTERSECT ALL` */
    ALCH_EXCEPT,        /**< `EXCEPT`: rows of the first not in the second. */
    ALCH_EXCEPT_ALL,    /**< `EXCEPT ALL` */
} alch_setop;

/**
 * @brief `a UNION b` (or another ::alch_setop): a new statement that owns @p a and @p b.
 *
 * Both must select the same number of columns, of compatible types, or the statement
 * records an error that says which. alch_order_by() (by a column or label of the first
 * SELECT), alch_limit() and alch_offset() apply to the whole; it may be an operand again,
 * a subquery, or a CTE's body.
 *
 * @return A new statement, or NULL when out of memory.
 */
ALCH_API alch_stmt *alch_set_operation(alch_stmt *a, alch_setop op, alch_stmt *b);
/** @brief `a UNION b`. */
#define alch_union(a, b) alch_set_operation((a), ALCH_UNION, (b))
/** @brief `a UNION ALL b`. */
#define alch_union_all(a, b) alch_set_operation((a), ALCH_UNION_ALL, (b))
/** @brief `a INTERSECT b`. */
#define alch_intersect(a, b) alch_set_operation((a), ALCH_INTERSECT, (b))
/** @brief `a EXCEPT b`. */
#define alch_except(a, b) alch_set_operation((a), ALCH_EXCEPT, (b))

/**
 * @brief A common table expression: `WITH name AS (SELECT ...)` (opaque). Its table
 *        (alch_cte_table()) is used like a model's.
 */
typedef struct alch_cte alch_cte;

/**
 * @brief Name a SELECT so other statements can read it like a table (SQLAlchemy's
 *        `select(...).cte("name")`).
 *
 * The CTE's columns are the SELECT's: a label (alch_label()) or a column's own name; an
 * unnamed expression is refused. A statement that selects from or joins the CTE's table
 * gets `WITH name AS (...)` in front of it, by itself.
 *
 * @param name  The CTE's name (copied; quoted when it needs to be).
 * @param body  A SELECT or a set operation (belongs to the CTE).
 * @param out   Receives the CTE; free it with alch_cte_free() after the statements that use it.
 * @param err   Optional details on failure.
 * @return 0; ::ALCH_EARGUMENT for a body with an unnamed column; ::ALCH_ENOMEM.
 */
ALCH_API int alch_cte_create(const char *name, alch_stmt *body, alch_cte **out, alch_error *err);

/**
 * @brief Make a CTE recursive: `WITH RECURSIVE name AS (body UNION [ALL] step)`, where
 *        @p step reads the CTE's own table (a category tree, a chain of parents).
 * @param cte   The CTE; its body is the non-recursive start.
 * @param step  The SELECT that joins alch_cte_table(cte) (belongs to the CTE); it must select
 *              as many columns as the body.
 * @param all   `UNION ALL` (true) or `UNION`.
 * @param err   Optional details on failure.
 * @return 0, ::ALCH_EARGUMENT (a column count that differs), ::ALCH_EMISUSE.
 */
ALCH_API int alch_cte_recursive(alch_cte *cte, alch_stmt *step, bool all, alch_error *err);

/** @brief The table of a CTE, for alch_col(), alch_select(), alch_select_from(),
 *         alch_join_on(); valid until alch_cte_free(). */
ALCH_API const alch_model *alch_cte_table(const alch_cte *cte);

/** @brief Free a CTE and its statements; NULL is allowed. */
ALCH_API void alch_cte_free(alch_cte *cte);

/**
 * @brief Load a relationship of every object the query returns, in one more query
 *        (SQLAlchemy's `selectinload`): `alch_selectin(alch_select(&Category_model), "items")`.
 *
 * After the rows come back, the session sends one `SELECT ... WHERE <key> IN (...)` for all
 * of them and fills each object's ::alch_many or ::alch_one field, `loaded` included.
 * Nothing is loaded lazily later: this is the explicit, eager alternative to calling
 * alch_session_load() per object. Up to 8 relationships per statement.
 *
 * @param st            A SELECT of a model (run with alch_session_scalars() and friends).
 * @param relationship  The relationship's name (copied); an unknown one is reported, with
 *                      the model's relationships, when the statement runs.
 * @return @p st.
 */
ALCH_API alch_stmt *alch_selectin(alch_stmt *st, const char *relationship);

/* ---- INSERT, UPDATE, DELETE ------------------------------------------------------------- */

/** @brief `INSERT INTO <table>`; give it values with alch_set(). @return A new statement. */
ALCH_API alch_stmt *alch_insert(const alch_model *model);
/** @brief `UPDATE <table> SET ...`; give it values with alch_set(), rows with alch_where(). */
ALCH_API alch_stmt *alch_update(const alch_model *model);
/** @brief `DELETE FROM <table>`; choose rows with alch_where() (none: every row). */
ALCH_API alch_stmt *alch_delete(const alch_model *model);

/**
 * @brief Set a column's value: a VALUES entry of an INSERT, or `col = value` of an UPDATE.
 *
 * The value is checked now: its type against the column's, NULL against NOT NULL, a text
 * against the VARCHAR length. Usually written with alch_set().
 *
 * @param st     An INSERT or UPDATE.
 * @param column A column of the statement's model (belongs to the statement).
 * @param value  The new value (belongs to the statement).
 * @return @p st.
 */
ALCH_API alch_stmt *alch_set_expr(alch_stmt *st, alch_expr *column, alch_expr *value);
/** @brief `alch_set(st, ALCH_COL(User, tg_id), tg_id)`; the value as the right side of alch_eq().
 */
#define alch_set(st, column, value) alch_set_expr((st), (column), ALCH__X(value))

/**
 * @brief Start the next row of a multi-row INSERT: `VALUES (...), (...)`. Every row must
 *        set the same columns. @return @p st.
 */
ALCH_API alch_stmt *alch_insert_row(alch_stmt *st);

/** @brief `ON CONFLICT (target) DO NOTHING`; @p target may be NULL (any conflict).
 *         @return @p st. */
ALCH_API alch_stmt *alch_on_conflict_do_nothing(alch_stmt *st, alch_expr *target);

/**
 * @brief `ON CONFLICT (target) DO UPDATE SET c = EXCLUDED.c, ...`: an upsert that writes
 *        the listed columns of the proposed row over the existing one.
 * @param st      An INSERT.
 * @param target  The unique column the conflict is on.
 * @param cols    The columns to overwrite.
 * @param n       How many (at least one).
 * @return @p st.
 */
ALCH_API alch_stmt *alch_on_conflict_do_update(alch_stmt *st, alch_expr *target,
                                               alch_expr *const *cols, size_t n);

/** @brief Add a `RETURNING` expression to an INSERT, UPDATE or DELETE. @return @p st. */
ALCH_API alch_stmt *alch_returning(alch_stmt *st, alch_expr *e);
/** @brief `RETURNING <every column>`, so alch_session_scalars() maps the rows to structs.
 *         @return @p st. */
ALCH_API alch_stmt *alch_returning_model(alch_stmt *st);

/**
 * @brief `WHERE <primary key> IN ($1, $2, ...)`: a bulk UPDATE, DELETE or SELECT of the rows
 *        whose keys are listed (each value bound and checked against the key's type).
 *
 * A Core table (ALCH_TABLE()) with no primary key is refused with a sentence.
 *
 * @param st   The statement.
 * @param ids  The keys (copied); may be NULL when @p n is 0 (no row).
 * @param n    How many.
 * @return @p st.
 */
ALCH_API alch_stmt *alch_where_pk_in(alch_stmt *st, const alch_value *ids, size_t n);

/**
 * @brief `INSERT INTO table (c1, c2, ...) SELECT ...`: the rows come from a query.
 * @param st      An INSERT with no alch_set().
 * @param select  The SELECT (belongs to @p st); it must select one column per target column,
 *                of compatible types.
 * @param cols    The target columns, of @p st's table (each belongs to @p st).
 * @param n       How many.
 * @return @p st.
 */
ALCH_API alch_stmt *alch_insert_from_select(alch_stmt *st, alch_stmt *select,
                                            alch_expr *const *cols, size_t n);
/** @brief `alch_insert_select(st, select, col1, col2, ...)`: alch_insert_from_select(). */
#define alch_insert_select(st, select, ...) alch_insert_from_select((st), (select), ALCH__XS(__VA_ARGS__))

/* ---- using a statement ------------------------------------------------------------------ */

/**
 * @brief Give a value to an alch_param() placeholder, for the next run.
 *
 * The SQL text does not change, so a connection that has run the statement before reuses
 * its prepared plan.
 *
 * @param st    The statement.
 * @param name  The placeholder's name.
 * @param v     The value (copied).
 * @param err   Optional details on failure.
 * @return 0; ::ALCH_EARGUMENT for an unknown name; ::ALCH_ETYPE when the value does not fit
 *         the column the placeholder is compared with.
 */
ALCH_API int alch_stmt_bind(alch_stmt *st, const char *name, alch_value v, alch_error *err);

/**
 * @brief The first error recorded while building the statement, or NULL.
 *
 * Running a statement with an error returns that error without sending anything.
 */
ALCH_API const alch_error *alch_stmt_error(const alch_stmt *st);

/**
 * @brief The SQL text of the statement, with `$n` placeholders.
 * @param st   The statement.
 * @param out  Receives the text, owned by the statement (valid until it changes or is freed).
 * @param err  Optional details on failure (a build error, a column of a table the
 *             statement neither selects from nor joins, ...).
 * @return 0 or the error.
 */
ALCH_API int alch_stmt_sql(alch_stmt *st, const char **out, alch_error *err);

/**
 * @brief The values that go with alch_stmt_sql()'s placeholders, in `$n` order.
 * @param st      The statement (rendered by alch_stmt_sql() first).
 * @param values  Receives the array, owned by the statement.
 * @param n       Receives how many.
 * @param err     Optional details on failure (a build error; a placeholder with no value).
 * @return 0, or the statement's error.
 */
ALCH_API int alch_stmt_params(alch_stmt *st, const alch_value **values, size_t *n, alch_error *err);

/**
 * @brief Print the SQL and then its values, as echo does: for lessons and debugging.
 * @param st   The statement.
 * @param out  Where to print, e.g. stdout.
 */
ALCH_API void alch_stmt_print(alch_stmt *st, FILE *out);

/**
 * @brief The model whose structs the rows become: the model of alch_select(), or of an
 *        INSERT/UPDATE/DELETE with alch_returning_model(); NULL for other statements.
 */
ALCH_API const alch_model *alch_stmt_model(const alch_stmt *st);

/**
 * @brief Free a statement and every expression and value it owns.
 * @param st  The statement; NULL is allowed.
 */
ALCH_API void alch_stmt_free(alch_stmt *st);

/**
 * @brief Objects a result holds: `items[0] .. items[count - 1]`, each a struct of a model.
 *
 * Who owns them depends on where they come from: alch_session_scalars() (the session) or
 * alch_result_scalars() (the result).
 */
typedef struct alch_list {
    void **items; /**< The objects, in the order the rows came. */
    size_t count; /**< How many. */
} alch_list;

/** @} */

#ifdef __cplusplus
}
#endif

#endif
