/* The diff between a base's models and the live schema (Alembic's autogenerate).
 *
 * Four catalog queries read what the server has in the current schema: tables, columns,
 * primary/unique/foreign keys, and the indexes that back no constraint. Each model is then
 * compared with them, and every difference becomes one statement, in an order that runs:
 * per table (parents first) the constraints and indexes to drop, the columns to add, alter or
 * drop, then the constraints and indexes to add. Constraints are matched by the names
 * create_all gives them and by their definition as pg_get_constraintdef() prints it, which
 * alch writes the same way. A statement that would lose data is written as a comment unless
 * the caller asks for it: the output is for a person to read before it becomes a step. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "alch/migrate.h"
#include "base/base_internal.h"
#include "driver/error_internal.h"
#include "util/buf.h"

#define IN_SCHEMA                                                                                 \
    " JOIN pg_class c ON c.oid = x.rel JOIN pg_namespace n ON n.oid = c.relnamespace"            \
    " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"

static const char q_tables[] =
    "SELECT c.relname FROM (SELECT oid AS rel FROM pg_class) x" IN_SCHEMA " ORDER BY 1";

static const char q_columns[] =
    "SELECT c.relname, x.attname, format_type(x.atttypid, x.atttypmod), x.attnotnull,"
    " pg_get_expr(d.adbin, d.adrelid), x.attidentity <> ''"
    " FROM (SELECT attrelid AS rel, * FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped) x"
    " LEFT JOIN pg_attrdef d ON d.adrelid = x.attrelid AND d.adnum = x.attnum" IN_SCHEMA
    " ORDER BY c.relname, x.attnum";

static const char q_constraints[] =
    "SELECT c.relname, x.conname, x.contype::text, pg_get_constraintdef(x.oid)"
    " FROM (SELECT conrelid AS rel, * FROM pg_constraint WHERE contype IN ('p', 'u', 'f')) x"
    IN_SCHEMA " ORDER BY c.relname, x.conname";

static const char q_indexes[] =
    "SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid)"
    " FROM (SELECT indrelid AS rel, indexrelid FROM pg_index p WHERE NOT EXISTS"
    " (SELECT 1 FROM pg_constraint k WHERE k.conindid = p.indexrelid)) x"
    " JOIN pg_class i ON i.oid = x.indexrelid" IN_SCHEMA " ORDER BY c.relname, i.relname";

enum { COLS_TYPE = 2, COLS_NOTNULL, COLS_DEFAULT, COLS_IDENTITY };

typedef struct diff {
    alch__buf out;
    bool destructive;                   /* emit what loses data */
    bool model_tables;                  /* leave the tables of other programs alone */
    alch_result *tables, *cols, *cons, *idx;
} diff;

/* ---- reading the catalog results ------------------------------------------------------ */

static const char *cell(const alch_result *r, size_t row, size_t col)
{
    const char *s = NULL;
    if (alch_result_is_null(r, row, col) || alch_result_get_text(r, row, col, &s, NULL) != 0)
        return NULL;
    return s;
}

static bool flag(const alch_result *r, size_t row, size_t col)
{
    bool b = false;
    alch_result_get_bool(r, row, col, &b, NULL);
    return b;
}

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* The row of r whose first column is table and second is name (name NULL: any), or -1. */
static long find_row(const alch_result *r, const char *table, const char *name)
{
    for (size_t i = 0; i < alch_result_rows(r); i++)
        if (same(cell(r, i, 0), table) && (!name || same(cell(r, i, 1), name)))
            return (long)i;
    return -1;
}

/* ---- writing ------------------------------------------------------------------------- */

/* One statement and its newline; one that loses data is a comment unless asked for. */
static void emit(diff *d, bool loses_data, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void emit(diff *d, bool loses_data, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        d->out.oom = true; /* cannot happen with names of 63 bytes; refuse rather than cut */
        return;
    }
    if (loses_data && !d->destructive)
        alch__buf_puts(&d->out, "-- not emitted, it would lose data: ");
    alch__buf_printf(&d->out, "%s;\n", line);
}

/* An identifier as DDL writes it, in a small buffer of the caller's (names are <= 63 bytes,
 * at most 130 quoted). */
typedef struct ident {
    char s[160];
} ident;

static ident id_of(const char *name)
{
    ident r = {{0}};
    alch__buf b = ALCH__BUF_INIT;
    alch__buf_ident(&b, name);
    char *text = alch__buf_finish(&b);
    snprintf(r.s, sizeof r.s, "%s", text ? text : name);
    free(text);
    return r;
}

/* The column's type as DDL writes it ("VARCHAR(25)") and as format_type() prints it. */
static void type_names(const alch_column *c, char *ddl, char *catalog, size_t size)
{
    const char *name = alch__sql_type_name(c->type);
    if (c->type == ALCH_VARCHAR) {
        snprintf(ddl, size, "VARCHAR(%d)", c->length);
        snprintf(catalog, size, "character varying(%d)", c->length);
        return;
    }
    snprintf(ddl, size, "%s", name);
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++)
        catalog[i] = (char)tolower((unsigned char)name[i]);
    catalog[i] = '\0';
}

static int int_rank(const char *t)
{
    return same(t, "smallint") ? 1 : same(t, "integer") ? 2 : same(t, "bigint") ? 3 : 0;
}

/* Whether every value of type `from` (format_type's text) fits the column's type unchanged. */
static bool widens(const char *from, const alch_column *to, const char *to_catalog)
{
    if (int_rank(from) && int_rank(to_catalog))
        return int_rank(to_catalog) >= int_rank(from);
    if (same(from, "real"))
        return to->type == ALCH_DOUBLE;
    if (strncmp(from, "character varying", 17) == 0) {
        if (to->type == ALCH_TEXT)
            return true;
        int n = 0;
        return to->type == ALCH_VARCHAR && sscanf(from, "character varying(%d)", &n) == 1 &&
               to->length >= n;
    }
    if (strncmp(from, "numeric", 7) == 0)
        return to->type == ALCH_NUMERIC;
    return false;
}

/* A default as the server prints it, without the trailing cast it adds ('x'::text). */
static size_t default_len(const char *expr)
{
    const char *cast = strstr(expr, "::");
    for (const char *p = cast; p; p = strstr(p + 2, "::"))
        cast = p;
    if (!cast)
        return strlen(expr);
    for (const char *p = cast + 2; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(" _(),", *p))
            return strlen(expr);
    return (size_t)(cast - expr);
}

static bool same_default(const char *model, const char *db)
{
    if (!model || !db)
        return !model && !db;
    size_t a = default_len(model), b = default_len(db);
    return a == b && strncmp(model, db, a) == 0;
}

/* ---- one table -------------------------------------------------------------------------- */

/* What a model expects of one constraint: its name and pg_get_constraintdef()'s text. */
typedef struct want {
    char *name;
    char def[600];
    const alch_column *col;
} want;

static void want_free(want *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(w[i].name);
    free(w);
}

/* The unique and foreign keys (kind 'u' or 'f') and the indexes ('i') the model wants. */
static want *wants_of(const alch_model *m, char kind, size_t *n)
{
    want *w = calloc(m->ncolumns ? m->ncolumns : 1, sizeof *w);
    *n = 0;
    for (size_t i = 0; w && i < m->ncolumns; i++) {
        const alch_column *c = &m->columns[i];
        want *x = &w[*n];
        x->col = c;
        ident col = id_of(c->name);
        if (kind == 'u' && alch__ddl_wants_unique(c)) {
            x->name = alch__ddl_name("uq", m->table, c->name, NULL);
            snprintf(x->def, sizeof x->def, "UNIQUE (%s)", col.s);
        } else if (kind == 'i' && alch__ddl_wants_index(c)) {
            x->name = alch__ddl_name("ix", m->table, c->name, NULL);
            snprintf(x->def, sizeof x->def, " (%s)", col.s); /* the end of pg_get_indexdef */
        } else if (kind == 'f' && c->foreign_key) {
            const char *dot = strchr(c->foreign_key, '.');
            char ref[64];
            snprintf(ref, sizeof ref, "%.*s", (int)(dot - c->foreign_key), c->foreign_key);
            x->name = alch__ddl_name("fk", m->table, c->name, ref);
            snprintf(x->def, sizeof x->def, "FOREIGN KEY (%s) REFERENCES %s(%s)%s", col.s,
                     id_of(ref).s, id_of(dot + 1).s, alch__ddl_on_delete(c->on_delete));
        } else {
            continue;
        }
        if (!x->name) {
            want_free(w, *n);
            return NULL;
        }
        (*n)++;
    }
    return w;
}

static bool def_matches(char kind, const char *got, const char *def)
{
    if (!got)
        return false;
    if (kind != 'i')
        return strcmp(got, def) == 0;
    size_t a = strlen(got), b = strlen(def);
    return a >= b && strcmp(got + a - b, def) == 0;
}

/* Is the catalog's (name, def) one the model wants? */
static bool wanted(const want *w, size_t n, char kind, const char *name, const char *def)
{
    for (size_t i = 0; i < n; i++)
        if (same(w[i].name, name) && def_matches(kind, def, w[i].def))
            return true;
    return false;
}

typedef struct table_wants {
    want *uq, *fk, *ix;
    size_t nuq, nfk, nix;
    char *pk_name;
    char pk_def[200];
} table_wants;

static void table_wants_free(table_wants *t)
{
    want_free(t->uq, t->nuq);
    want_free(t->fk, t->nfk);
    want_free(t->ix, t->nix);
    free(t->pk_name);
}

static bool table_wants_of(const alch_model *m, table_wants *t)
{
    *t = (table_wants){0};
    t->uq = wants_of(m, 'u', &t->nuq);
    t->fk = wants_of(m, 'f', &t->nfk);
    t->ix = wants_of(m, 'i', &t->nix);
    t->pk_name = alch__ddl_name("pk", m->table, NULL, NULL);
    snprintf(t->pk_def, sizeof t->pk_def, "PRIMARY KEY (%s)", id_of(alch__model_pk(m)->name).s);
    return t->uq && t->fk && t->ix && t->pk_name;
}

/* Constraints and indexes the table has but the model does not want (or wants otherwise).
 * The primary key is renamed when only its name differs. Sets *add_pk when it must be added. */
static void drop_extras(diff *d, const alch_model *m, const table_wants *t, bool *add_pk)
{
    ident tab = id_of(m->table);
    *add_pk = true;
    for (size_t i = 0; i < alch_result_rows(d->cons); i++) {
        if (!same(cell(d->cons, i, 0), m->table))
            continue;
        const char *name = cell(d->cons, i, 1), *kind = cell(d->cons, i, 2);
        const char *def = cell(d->cons, i, 3);
        if (same(kind, "p") && same(def, t->pk_def)) {
            *add_pk = false;
            if (!same(name, t->pk_name))
                emit(d, false, "ALTER TABLE %s RENAME CONSTRAINT %s TO %s", tab.s, id_of(name).s,
                     id_of(t->pk_name).s);
            continue;
        }
        if ((same(kind, "u") && wanted(t->uq, t->nuq, 'u', name, def)) ||
            (same(kind, "f") && wanted(t->fk, t->nfk, 'f', name, def)))
            continue;
        emit(d, false, "ALTER TABLE %s DROP CONSTRAINT %s", tab.s, id_of(name).s);
    }
    for (size_t i = 0; i < alch_result_rows(d->idx); i++) {
        const char *name = cell(d->idx, i, 1);
        if (same(cell(d->idx, i, 0), m->table) && !wanted(t->ix, t->nix, 'i', name,
                                                           cell(d->idx, i, 2)))
            emit(d, false, "DROP INDEX %s", id_of(name).s);
    }
}

static void alter_column(diff *d, const alch_model *m, const alch_column *c, size_t row)
{
    ident tab = id_of(m->table), col = id_of(c->name);
    char ddl_type[64], catalog_type[64];
    type_names(c, ddl_type, catalog_type, sizeof ddl_type);
    const char *type = cell(d->cols, row, COLS_TYPE);
    if (!same(type, catalog_type)) {
        if (type && widens(type, c, catalog_type))
            emit(d, false, "ALTER TABLE %s ALTER COLUMN %s TYPE %s", tab.s, col.s, ddl_type);
        else
            emit(d, true, "ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::%s", tab.s, col.s,
                 ddl_type, col.s, ddl_type);
    }
    bool identity = flag(d->cols, row, COLS_IDENTITY);
    if (alch__ddl_is_identity(c) && !identity)
        emit(d, false, "ALTER TABLE %s ALTER COLUMN %s ADD GENERATED BY DEFAULT AS IDENTITY",
             tab.s, col.s);
    else if (!alch__ddl_is_identity(c) && identity)
        emit(d, false, "ALTER TABLE %s ALTER COLUMN %s DROP IDENTITY", tab.s, col.s);
    const char *def = cell(d->cols, row, COLS_DEFAULT);
    if (!same_default(c->server_default, def)) {
        if (c->server_default)
            emit(d, false, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", tab.s, col.s,
                 c->server_default);
        else
            emit(d, false, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", tab.s, col.s);
    }
    bool not_null = flag(d->cols, row, COLS_NOTNULL);
    if (not_null == c->nullable)
        emit(d, false, "ALTER TABLE %s ALTER COLUMN %s %s NOT NULL", tab.s, col.s,
             c->nullable ? "DROP" : "SET");
}

static void diff_columns(diff *d, const alch_model *m)
{
    ident tab = id_of(m->table);
    for (size_t i = 0; i < m->ncolumns; i++) {
        const alch_column *c = &m->columns[i];
        long row = find_row(d->cols, m->table, c->name);
        if (row >= 0) {
            alter_column(d, m, c, (size_t)row);
            continue;
        }
        alch__buf def = ALCH__BUF_INIT;
        alch__ddl_column(&def, c);
        char *text = alch__buf_finish(&def);
        if (text)
            emit(d, false, "ALTER TABLE %s ADD COLUMN %s", tab.s, text);
        else
            d->out.oom = true;
        free(text);
    }
    for (size_t i = 0; i < alch_result_rows(d->cols); i++) {
        const char *name = cell(d->cols, i, 1);
        if (same(cell(d->cols, i, 0), m->table) && !alch_model_column(m, name))
            emit(d, true, "ALTER TABLE %s DROP COLUMN %s", tab.s, id_of(name).s);
    }
}

/* The constraints and indexes the model wants that the table lacks (or had to drop). */
static void add_missing(diff *d, const alch_model *m, const table_wants *t, bool add_pk)
{
    ident tab = id_of(m->table);
    if (add_pk)
        emit(d, false, "ALTER TABLE %s ADD CONSTRAINT %s %s", tab.s, id_of(t->pk_name).s,
             t->pk_def);
    for (size_t i = 0; i < t->nuq; i++) {
        long row = find_row(d->cons, m->table, t->uq[i].name);
        if (row < 0 || !def_matches('u', cell(d->cons, (size_t)row, 3), t->uq[i].def))
            emit(d, false, "ALTER TABLE %s ADD CONSTRAINT %s %s", tab.s, id_of(t->uq[i].name).s,
                 t->uq[i].def);
    }
    for (size_t i = 0; i < t->nfk; i++) {
        long row = find_row(d->cons, m->table, t->fk[i].name);
        if (row >= 0 && def_matches('f', cell(d->cons, (size_t)row, 3), t->fk[i].def))
            continue;
        alch__buf b = ALCH__BUF_INIT;
        alch__ddl_foreign_key(&b, m, t->fk[i].col);
        char *text = alch__buf_finish(&b);
        if (text)
            emit(d, false, "ALTER TABLE %s ADD %s", tab.s, text);
        else
            d->out.oom = true;
        free(text);
    }
    for (size_t i = 0; i < t->nix; i++) {
        long row = find_row(d->idx, m->table, t->ix[i].name);
        if (row >= 0 && def_matches('i', cell(d->idx, (size_t)row, 2), t->ix[i].def))
            continue;
        alch__buf b = ALCH__BUF_INIT;
        alch__ddl_create_index(&b, m, t->ix[i].col, false);
        alch__buf_putc(&b, '\n');
        alch__buf_append(&d->out, b.data ? b.data : "", b.len);
        d->out.oom |= b.oom;
        alch__buf_free(&b);
    }
}

static void diff_table(diff *d, const alch_model *m)
{
    if (find_row(d->tables, m->table, NULL) < 0) {
        alch__ddl_create_table(&d->out, m, false);
        alch__buf_putc(&d->out, '\n');
        for (size_t i = 0; i < m->ncolumns; i++) {
            if (!alch__ddl_wants_index(&m->columns[i]))
                continue;
            alch__ddl_create_index(&d->out, m, &m->columns[i], false);
            alch__buf_putc(&d->out, '\n');
        }
        return;
    }
    table_wants t;
    bool add_pk;
    if (!table_wants_of(m, &t)) {
        d->out.oom = true;
    } else {
        drop_extras(d, m, &t, &add_pk);
        diff_columns(d, m);
        add_missing(d, m, &t, add_pk);
    }
    table_wants_free(&t);
}

/* ---- the whole schema ----------------------------------------------------------------- */

static int read_catalog(alch_conn *conn, diff *d, alch_error *err)
{
    int rc = alch_conn_execute_text(conn, q_tables, NULL, 0, &d->tables, err);
    if (rc == 0)
        rc = alch_conn_execute_text(conn, q_columns, NULL, 0, &d->cols, err);
    if (rc == 0)
        rc = alch_conn_execute_text(conn, q_constraints, NULL, 0, &d->cons, err);
    if (rc == 0)
        rc = alch_conn_execute_text(conn, q_indexes, NULL, 0, &d->idx, err);
    return rc;
}

static void compare(alch_base *base, diff *d)
{
    size_t count = alch_base_count(base);
    for (size_t i = 0; i < count; i++)
        diff_table(d, alch_base_model_at(base, i));
    for (size_t i = 0; !d->model_tables && i < alch_result_rows(d->tables); i++) {
        const char *name = cell(d->tables, i, 0);
        if (name && !alch_base_find(base, name) && strcmp(name, ALCH_VERSION_TABLE) != 0)
            emit(d, true, "DROP TABLE %s", id_of(name).s);
    }
}

int alch_base_diff(alch_base *base, alch_conn *conn, unsigned flags, char **ddl,
                   alch_error *err)
{
    if (!base || !conn || !ddl)
        return alch__error_set(err, ALCH_EMISUSE,
                               "alch_base_diff needs a base, a connection and somewhere to put "
                               "the DDL");
    *ddl = NULL;
    int rc = alch__base_checked(base) ? 0 : alch_base_check(base, err);
    if (rc)
        return rc;
    bool in_tx = alch_conn_in_transaction(conn);
    diff d = {ALCH__BUF_INIT, (flags & ALCH_DIFF_DESTRUCTIVE) != 0,
              (flags & ALCH_DIFF_MODEL_TABLES) != 0, NULL, NULL, NULL, NULL};
    rc = read_catalog(conn, &d, err);
    if (!in_tx) { /* read-only: end the transaction a pooled connection opened */
        alch_error scratch = ALCH_ERROR_INIT;
        alch_conn_rollback(conn, &scratch);
        alch_error_clear(&scratch);
    }
    if (rc == 0) {
        compare(base, &d);
        *ddl = alch__buf_finish(&d.out);
        if (!*ddl)
            rc = alch__error_set(err, ALCH_ENOMEM, "out of memory while writing the diff");
    }
    alch__buf_free(&d.out);
    alch_result_free(d.tables);
    alch_result_free(d.cols);
    alch_result_free(d.cons);
    alch_result_free(d.idx);
    return rc;
}
