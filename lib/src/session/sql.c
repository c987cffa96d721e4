/* The SQL the session sends for you (get, refresh, load, and the flush's INSERT, UPDATE and
 * DELETE), built by the statement builder once per shape and kept by the session factory:
 * the builder is the one place SQL text is made, and a shape seen before costs a lookup. */
#include <stdlib.h>

#include "driver/error_internal.h"
#include "session/session_internal.h"
#include "statement/statement_internal.h"

struct alch__sqlshape {
    alch__sqlkind kind;
    const alch_model *model;
    const alch_column *col; /* SQL_BY_COLUMN: the column the WHERE compares */
    uint64_t mask, ret;
    size_t rows; /* SQL_INSERT: rows in its VALUES */
    char *sql;
    struct alch__sqlshape *next;
};

void alch__sql_cache_free(alch_sessionmaker *maker)
{
    for (alch__sqlshape *p = maker->shapes, *next; p; p = next) {
        next = p->next;
        free(p->sql);
        free(p);
    }
    maker->shapes = NULL;
}

static alch_expr *param(const alch_column *c)
{
    return alch_param(c->name);
}

/* A column of m as an expression (the mapper's pointers: nothing is looked up by name). */
static alch_expr *col_of(const alch_model *m, size_t i)
{
    return alch__col_expr(m, &m->columns[i]);
}

static alch_stmt *build(alch__sqlkind kind, const alch__mapper *map, const alch_column *col,
                        uint64_t mask, uint64_t ret, size_t rows)
{
    const alch_model *m = map->model;
    const alch_column *pk = map->pk;
    alch_stmt *st = NULL;
    switch (kind) {
    case SQL_BY_COLUMN: /* get, refresh, and relationship loads */
        st = alch_select(m);
        alch_where(st, alch_eq(alch__col_expr(m, col), param(col)));
        if (col != pk) /* a one-to-many load: in key order */
            alch_order_by(st, alch__col_expr(m, pk));
        return st;
    case SQL_INSERT_KEYED: /* the key first, then the columns of mask (session_internal.h) */
        st = alch_insert(m);
        alch_set_expr(st, alch__col_expr(m, pk), alch_param(" key"));
        for (size_t i = 0; i < m->ncolumns; i++)
            if (mask & (1ULL << i))
                alch_set_expr(st, col_of(m, i), param(&m->columns[i]));
        return alch__insert_arrays_keyed(st);
    case SQL_INSERT: /* rows > 1: VALUES (...), (...), ... */
    case SQL_INSERT_ARRAYS:
        st = alch_insert(m);
        for (size_t r = 0; r < rows; r++) {
            if (r)
                alch_insert_row(st);
            for (size_t i = 0; i < m->ncolumns; i++)
                if (mask & (1ULL << i))
                    alch_set_expr(st, col_of(m, i), param(&m->columns[i]));
        }
        if (kind == SQL_INSERT_ARRAYS)
            alch__insert_arrays(st);
        for (size_t i = 0; i < m->ncolumns; i++)
            if (ret & (1ULL << i))
                alch_returning(st, col_of(m, i));
        return st;
    case SQL_UPDATE:
        st = alch_update(m);
        for (size_t i = 0; i < m->ncolumns; i++)
            if (mask & (1ULL << i))
                alch_set_expr(st, col_of(m, i), param(&m->columns[i]));
        /* the key's placeholder gets a name no column can clash with in the SET */
        alch_where(st, alch_eq(alch__col_expr(m, pk), alch_param(" key")));
        return st;
    case SQL_DELETE:
        st = alch_delete(m);
        alch_where(st, alch_eq(alch__col_expr(m, pk), param(pk)));
        return st;
    }
    return NULL;
}

const char *alch__session_sql(alch_session *s, alch__sqlkind kind, const alch__mapper *map,
                              const alch_column *col, uint64_t mask, uint64_t ret, size_t rows,
                              alch_error *err)
{
    alch_sessionmaker *maker = s->maker;
    for (alch__sqlshape *p = maker->shapes; p; p = p->next)
        if (p->kind == kind && p->model == map->model && p->col == col && p->mask == mask &&
            p->ret == ret && p->rows == rows)
            return p->sql;
    alch_stmt *st = build(kind, map, col, mask, ret, rows);
    const char *text = NULL;
    int rc = alch_stmt_sql(st, &text, err);
    alch__sqlshape *p = rc == 0 ? calloc(1, sizeof *p) : NULL;
    char *copy = p ? alch__strdup(text) : NULL;
    alch_stmt_free(st);
    if (rc)
        return NULL;
    if (!copy) {
        free(p);
        alch__error_set(err, ALCH_ENOMEM, "out of memory");
        return NULL;
    }
    *p = (alch__sqlshape){kind, map->model, col, mask, ret, rows, copy, maker->shapes};
    maker->shapes = p;
    return copy;
}
