/* The statement builder's insides: expression trees, statements, and rendering to SQL. */
#ifndef ALCH_STATEMENT_INTERNAL_H
#define ALCH_STATEMENT_INTERNAL_H

#include "alch/base.h"
#include "alch/statement.h"
#include "util/buf.h"

typedef enum {
    X_COLUMN,    /* model.col */
    X_VALUE,     /* a bound value */
    X_PARAM,     /* a named placeholder, bound later */
    X_CMP,       /* kids[0] op kids[1] */
    X_LIKE,      /* kids[0] LIKE kids[1]; op = 1 for ILIKE */
    X_NULLTEST,  /* kids[0] IS NULL; op = 1 for IS NOT NULL */
    X_BETWEEN,   /* kids[0] BETWEEN kids[1] AND kids[2] */
    X_IN,        /* kids[0] IN (kids[1..]) */
    X_IN_SELECT, /* kids[0] IN (sub) */
    X_AND,
    X_OR,
    X_NOT,
    X_EXISTS,   /* EXISTS (sub) */
    X_SUBQUERY, /* (sub) */
    X_FUNC,     /* op names the aggregate; kids[0] its argument, none for count(*) */
    X_LABEL,    /* kids[0] AS name */
    X_ORDER,    /* kids[0] ASC/DESC; op = 1 for DESC */
    X_ARITH,    /* kids[0] op kids[1]; op is an alch_arith */
    X_NEG,      /* -kids[0] */
    X_CALL,     /* name(kids...); op = 1 for name(DISTINCT kids[0]) */
    X_CASE,     /* CASE WHEN kids[0] THEN kids[1] ... [ELSE kids[n-1]] END; op = 1 with ELSE */
    X_CAST,     /* CAST(kids[0] AS type) */
    X_EXTRACT,  /* EXTRACT(name FROM kids[0]) */
    X_OVER,     /* kids[0] OVER (PARTITION BY kids[1..op] ORDER BY the rest) */
    X_ERROR,    /* a mistake found while building, reported by the statement */
} alch__xkind;

typedef enum { F_COUNT, F_SUM, F_AVG, F_MIN, F_MAX } alch__func;

struct alch_expr {
    alch__xkind kind;
    int refs;                /* owners; 0 while nobody holds it yet */
    const alch_model *model; /* X_COLUMN */
    const alch_column *col;  /* X_COLUMN */
    alch_value val;          /* X_VALUE: text and bytes point into this node's own copy */
    char *name;              /* X_PARAM, X_LABEL */
    int op;                  /* see alch__xkind; X_PARAM: 1 when it is a value to store */
    alch_nulls_at nulls;     /* X_ORDER */
    alch_expr **kids;
    size_t nkids;
    alch_stmt *sub;           /* X_IN_SELECT, X_EXISTS, X_SUBQUERY */
    alch_sql_type type;       /* the SQL type when known, 0 when not */
    const alch_column *about; /* the column a value or placeholder is compared with */
    alch_error *error;        /* X_ERROR */
};

typedef struct alch__xlist {
    alch_expr **v;
    size_t n, cap;
} alch__xlist;

typedef struct alch__join {
    const alch_model *model;
    alch_expr *on; /* NULL until rendered for alch_join()/alch_outerjoin(): along a foreign key */
    bool outer;
    const alch_model *from; /* alch_join(): the statement's FROM when it was called */
} alch__join;

/* A named placeholder's value, set by alch_stmt_bind(). */
typedef struct alch__bind {
    char *name;
    const alch_column *about; /* for the type check */
    const alch_model *model;
    bool assign; /* a value to store (alch_set), not to compare */
    alch_value v;
    char *copy; /* the bound text or bytes */
    bool set;
} alch__bind;

typedef enum { S_SELECT, S_INSERT, S_UPDATE, S_DELETE, S_COMPOUND } alch__skind;

/* A common table expression: a statement with a name, seen by the builder as a table (its
 * model), so alch_col(), alch_select_from() and the joins take it like any other. */
struct alch_cte {
    alch_model model;     /* first: a CTE's model is the CTE */
    alch_column *columns; /* named after the body's select list */
    char *name;
    alch_stmt *body;      /* the anchor, for a recursive CTE */
    alch_stmt *step;      /* the recursive part, or NULL */
    bool union_all;       /* anchor UNION ALL step */
};

/* The tag in a CTE's model.name: how the renderer knows a CTE from a table. */
extern const char alch__cte_tag[];
#define ALCH__IS_CTE(m) ((m)->name == alch__cte_tag)
typedef enum { C_NONE, C_NOTHING, C_UPDATE } alch__conflict;

struct alch_stmt {
    alch__skind kind;
    const alch_model *model; /* alch_select(model), or the INSERT/UPDATE/DELETE target */
    const alch_model *from;  /* alch_select_from() */
    alch__xlist cols;        /* the SELECT list; empty: every column of model */
    alch__join *joins;
    size_t njoins, capjoins;
    alch__xlist where, order, group, having, returning;
    bool distinct;
    bool returning_model;
    bool owned;                     /* a subquery: freed by the expression that wraps it */
    alch_value limit, offset;       /* ALCH_V_NULL: none */
    alch__xlist set_cols, set_vals; /* INSERT rows one after another; UPDATE's SET */
    size_t row_start;               /* where the INSERT's current row starts in set_cols */
    size_t row_len;                 /* columns per row, once a second row started (0 before) */
    alch__conflict conflict;
    alch_expr *conflict_target;
    alch__xlist conflict_cols;
    alch_error *error; /* the first mistake found while building */
    char *eager[8];    /* relationships to load for the results (alch_selectin) */
    size_t neager;
    alch__bind *binds;
    size_t nbinds, capbinds;
    alch_stmt *left, *right; /* S_COMPOUND: left setop right */
    int setop;               /* an alch_setop */
    alch_stmt *source;       /* INSERT ... SELECT: the SELECT (set_cols name the columns) */
    bool arrays;             /* INSERT ... SELECT * FROM unnest($1::T[], ...): alch__insert_arrays */
    bool arrays_keyed;       /* ... and the first column is the key, numbered by the client */
    alch_lock_mode lock;     /* FOR UPDATE / SHARE ... */
    alch_lock_wait lock_wait;
    /* the rendering, redone when the statement changes (not when a value is bound) */
    bool dirty;
    char *sql;
    alch_value *params; /* in $n order; placeholders filled from binds on each run */
    int *param_bind;    /* for each $n: the bind it takes, or -1 */
    size_t nparams, capparams;
};

/* expr.c */
/* alch_col() for a column the caller already holds (a mapper's): no lookup by name. */
alch_expr *alch__col_expr(const alch_model *model, const alch_column *col);
void alch__expr_take(alch_expr *e);
void alch__expr_drop(alch_expr *e);
/* Whether e holds a window function (X_OVER), subqueries left out. */
bool alch__expr_has_window(const alch_expr *e);
/* Whether e holds an aggregate (count, sum, ...), subqueries left out. */
bool alch__expr_has_aggregate(const alch_expr *e);
/* Whether values of SQL types a and b can be compared (0 = unknown is always fine). */
bool alch__types_compatible(alch_sql_type a, alch_sql_type b);
/* The first X_ERROR in e (subqueries included), or NULL. */
const alch_error *alch__expr_find_error(const alch_expr *e);
/* Whether a value of type v may be compared with (assign = false) or stored in (assign =
 * true) a column of SQL type t. Fills err with the sentence when not. */
int alch__value_fits(const alch_column *col, const char *table, const alch_value *v, bool assign,
                     alch_error *err);

/* stmt.c */
void alch__stmt_fail(alch_stmt *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether the INSERT row starting at `start` sets the same columns as the first row. */
bool alch__row_matches(const alch_stmt *st, size_t start);

/* How many columns a SELECT (or a set operation of SELECTs) returns. */
size_t alch__stmt_ncols(const alch_stmt *st);
/* The type of the i-th selected column, 0 when not known. */
alch_sql_type alch__stmt_col_type(const alch_stmt *st, size_t i);
/* The output name of the i-th selected column (a label or a column's name), or NULL. */
const char *alch__stmt_col_name(const alch_stmt *st, size_t i);

/* Whether the statement changes rows (INSERT, UPDATE, DELETE). */
bool alch__stmt_writes(const alch_stmt *st);

/* The relationships alch_selectin() asked for. */
size_t alch__stmt_eager(const alch_stmt *st, const char *const **names);

/* One row of alch_set() placeholders becomes one array per column:
 * `INSERT INTO t (a, b) SELECT * FROM unnest(CAST($1 AS T[]), CAST($2 AS U[]))`, so any
 * number of rows travels as one statement of one shape (the session's bulk insert). T is the
 * column's SQL type without its length (the INSERT checks the length), DOUBLE PRECISION for a
 * REAL column (its C value is a double, cast by the INSERT as a single value would be). */
alch_stmt *alch__insert_arrays(alch_stmt *st);
/* The same with the key column first (its one placeholder) and the keys chosen by the
 * caller, either a first key numbered on in the rows' order, or one key per row:
 * `INSERT INTO t (id, a, b) SELECT coalesce(u.k, CAST($1 AS T) + u.ord - 1), u.c1, u.c2 FROM
 * unnest(CAST($2 AS A[]), CAST($3 AS B[]), CAST($4 AS T[])) WITH ORDINALITY AS u(c1, c2, k,
 * ord)`: $1 the first key, $4 the keys (an empty array when they follow $1). Each row's key
 * is fixed before the server sees it, so no RETURNING has to be matched to the rows. */
alch_stmt *alch__insert_arrays_keyed(alch_stmt *st);

/* render.c: fills st->sql, st->params (placeholders from binds). Returns 0 or the error.
 * base: the base of the session that runs the statement, or NULL; a join along a foreign key
 * asks its models' mappers when they are in it, and the model-level rule otherwise (the same
 * answer: see alch__fks_to()). */
int alch__stmt_render(alch_stmt *st, const alch_base *base, alch_error *err);
/* alch_stmt_params(), rendered for a session of this base (NULL: none). */
int alch__stmt_params(alch_stmt *st, const alch_base *base, const alch_value **values, size_t *n,
                      alch_error *err);
/* The model of the statement's FROM (explicit, select(model), or the first column's). */
const alch_model *alch__stmt_from(const alch_stmt *st);

#endif
