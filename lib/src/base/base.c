/* The declarative base: the registry of models (the seed's `Base.metadata`).
 *
 * alch_base_add() checks each model on its own, so a mistake is reported where it is made;
 * alch_base_check() checks the models against each other (foreign keys, relationships,
 * cycles) and computes the dependency order that create_all, drop_all and the session's
 * flush follow. The DDL itself is built in ddl.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base_internal.h"
#include "driver/error_internal.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/suggest.h"

/* PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1) and silently cuts the rest. */
enum { MAX_NAME = 63, MAX_VARCHAR = 10485760 };

struct alch_base {
    const alch_model **models; /* referenced, in the order they were added */
    const char **tables;       /* models[i]->table, for "did you mean" hints */
    size_t *order;             /* indices into models, parents first; valid when checked */
    size_t count;
    size_t cap;
    bool checked;
    struct mapping *mapping; /* the last check's mappers; NULL before the first check */
};

/* The mappers of one check (one per model, in added order) and a table from model pointer to
 * mapper. An add after a check makes them stale, but they are kept until the base is freed:
 * sessions may hold pointers into them. */
struct mapping {
    alch__mapper *maps;
    size_t count;
    const alch__mapper **slots; /* open addressing, nslots a power of two, NULL: empty */
    size_t nslots;
    struct mapping *older;
};

int alch_base_create(alch_base **out, alch_error *err)
{
    if (!out)
        return alch__error_set(err, ALCH_EMISUSE, "alch_base_create needs an out pointer");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory while creating a base");
    return 0;
}

void alch_base_free(alch_base *base)
{
    if (!base)
        return;
    for (struct mapping *mp = base->mapping, *older; mp; mp = older) {
        older = mp->older;
        alch__mappers_release(mp->maps, mp->count);
        free(mp->maps);
        free(mp->slots);
        free(mp);
    }
    free(base->models);
    free(base->tables);
    free(base->order);
    free(base);
}

/* ---------------------------------------------------------------------------------------
 * Names of SQL types, for messages (the C types' are the field codec's: model/field.c)
 * ------------------------------------------------------------------------------------- */

static const char *const sql_names[] = {
    [ALCH_SMALLINT] = "SMALLINT", [ALCH_INTEGER] = "INTEGER",
    [ALCH_BIGINT] = "BIGINT",     [ALCH_BOOLEAN] = "BOOLEAN",
    [ALCH_REAL] = "REAL",         [ALCH_DOUBLE] = "DOUBLE",
    [ALCH_NUMERIC] = "NUMERIC",   [ALCH_TEXT] = "TEXT",
    [ALCH_VARCHAR] = "VARCHAR",   [ALCH_TIMESTAMPTZ] = "TIMESTAMPTZ",
    [ALCH_DATE] = "DATE",         [ALCH_UUID] = "UUID",
    [ALCH_BYTEA] = "BYTEA",       [ALCH_JSONB] = "JSONB",
};

static bool valid_sql_type(alch_sql_type t)
{
    return t >= ALCH_SMALLINT && t <= ALCH_JSONB;
}

/* "int32_t, int64_t, alch_opt_i32 or alch_opt_i64": the C types that can hold SQL type t. */
static void put_fitting_ctypes(alch__buf *b, alch_sql_type t)
{
    const char *fit[32];
    size_t n = 0;
    for (int c = ALCH_C_I16; alch__ctype_name(c); c++)
        if (ALCH__FITS(c, t))
            fit[n++] = alch__ctype_name(c);
    for (size_t i = 0; i < n; i++)
        alch__buf_printf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", fit[i]);
}

static int oom(alch_error *err)
{
    return alch__error_set(err, ALCH_ENOMEM, "out of memory while checking the models");
}

/* ---------------------------------------------------------------------------------------
 * Checking one model (alch_base_add)
 * ------------------------------------------------------------------------------------- */

static int check_header(const alch_base *base, const alch_model *m, alch_error *err)
{
    if (!m->name || !*m->name)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "a model has no struct name (table %s): build models with "
                               "ALCH_MODEL(Struct, \"table\", columns)",
                               m->table ? m->table : "not set either");
    if (!m->table || !*m->table)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "model %s has no table name: give it one, e.g. ALCH_MODEL(%s, "
                               "\"users\", columns)",
                               m->name, m->name);
    if (strlen(m->table) > MAX_NAME)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "the table name of model %s is %zu bytes long: PostgreSQL keeps "
                               "only 63, so choose a shorter name",
                               m->name, strlen(m->table));
    if (!m->columns || m->ncolumns == 0)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "model %s (table %s) has no columns: give ALCH_MODEL an array "
                               "of ALCH_COLUMN(...) descriptors",
                               m->name, m->table);
    if (m->nrelationships > 0 && !m->relationships)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "model %s says it has %zu relationships but its relationship "
                               "array is NULL: build it with ALCH_MODEL(Struct, \"table\", "
                               "columns, relationships)",
                               m->name, m->nrelationships);
    for (size_t i = 0; i < base->count; i++) {
        const alch_model *other = base->models[i];
        if (other == m)
            return alch__error_set(err, ALCH_EARGUMENT,
                                   "model %s is already in this base: add each model once",
                                   m->name);
        if (strcmp(other->table, m->table) == 0) {
            alch__error_set(err, ALCH_EARGUMENT, "table '%s' is declared twice: by %s and by %s",
                            m->table, other->name, m->name);
            alch__error_hint(err, "give each model its own table name");
            return ALCH_EARGUMENT;
        }
    }
    return 0;
}

static int check_ctype(const alch_model *m, const alch_column *c, alch_error *err)
{
    bool known = alch__ctype_name(c->ctype) != NULL;
    if (known && ALCH__FITS(c->ctype, c->type))
        return 0;
    alch__buf fits = ALCH__BUF_INIT;
    put_fitting_ctypes(&fits, c->type);
    if (fits.oom) {
        alch__buf_free(&fits);
        return oom(err);
    }
    if (known)
        alch__error_set(err, ALCH_EARGUMENT,
                        "field %s.%s (%s) cannot hold a %s column: make the field %s", m->name,
                        c->name, alch__ctype_name(c->ctype), sql_names[c->type], fits.data);
    else
        alch__error_set(err, ALCH_EARGUMENT,
                        "field %s.%s has a C type alch cannot map: a %s column needs a field "
                        "of type %s",
                        m->name, c->name, sql_names[c->type], fits.data);
    alch__error_hint(err, "declare columns with ALCH_COLUMN(), which checks the field's type "
                          "at compile time");
    alch__buf_free(&fits);
    return ALCH_EARGUMENT;
}

static int check_length(const alch_model *m, const alch_column *c, alch_error *err)
{
    if (c->type == ALCH_VARCHAR && c->length <= 0)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s is VARCHAR without a length: VARCHAR needs "
                               ".length, e.g. the seed's String(25) is .length = 25",
                               m->table, c->name);
    if (c->type == ALCH_VARCHAR && c->length > MAX_VARCHAR)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s is VARCHAR(%d), longer than PostgreSQL allows "
                               "(%d): use ALCH_TEXT for text of any length",
                               m->table, c->name, c->length, MAX_VARCHAR);
    if (c->type != ALCH_VARCHAR && c->length != 0)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s is %s but has .length = %d: .length applies only "
                               "to ALCH_VARCHAR, so remove it or make the column ALCH_VARCHAR",
                               m->table, c->name, sql_names[c->type], c->length);
    return 0;
}

static int check_null(const alch_model *m, const alch_column *c, alch_error *err)
{
    if (c->nullable && c->primary_key)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s is the primary key, which can never be NULL: "
                               "remove .nullable",
                               m->table, c->name);
    const char *fix = alch__ctype_nullable(c->ctype);
    if (c->nullable && fix)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s is .nullable = true, but its field %s.%s (%s) "
                               "cannot hold NULL: use %s for the field, or drop .nullable",
                               m->table, c->name, m->name, c->name, alch__ctype_name(c->ctype), fix);
    if (c->client_default.type != ALCH_V_NULL &&
        c->client_default.type != alch__ctype_default_type(c->ctype))
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s: its .client_default does not fit the field's C "
                               "type (%s)",
                               m->table, c->name, alch__ctype_name(c->ctype));
    if (c->client_default.type != ALCH_V_NULL && c->server_default)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s has both .client_default and .server_default: "
                               "keep one",
                               m->table, c->name);
    if (c->server_default && !*c->server_default)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s has an empty .server_default: give an SQL "
                               "expression such as \"now()\" or \"0\", or leave it out",
                               m->table, c->name);
    /* a default fills an unset field, and a plain number or bool has no unset state: with a
     * default, `= {0}` could not store 0 (or false), which is a value like any other */
    bool has_default = c->client_default.type != ALCH_V_NULL || c->server_default;
    if (has_default && fix && !c->primary_key)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s has a %s, but its field %s.%s (%s) cannot be left "
                               "unset: 0 and false are values you set, so the default could "
                               "never apply. Declare the field %s and leave it "
                               "{.is_null = true} to get the default, or drop the default and "
                               "set the field yourself",
                               m->table, c->name,
                               c->server_default ? ".server_default" : ".client_default",
                               m->name, c->name, alch__ctype_name(c->ctype), fix);
    return 0;
}

/* "table.column": one dot, both parts non-empty and short enough to be PostgreSQL names. */
static bool fk_well_formed(const char *fk)
{
    const char *dot = strchr(fk, '.');
    if (!dot || strchr(dot + 1, '.'))
        return false;
    size_t t = (size_t)(dot - fk), c = strlen(dot + 1);
    return t > 0 && c > 0 && t <= MAX_NAME && c <= MAX_NAME;
}

static int check_fk_shape(const alch_model *m, const alch_column *c, alch_error *err)
{
    if (c->on_delete < ALCH_NO_ACTION || c->on_delete > ALCH_RESTRICT)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s has .on_delete = %d: use ALCH_NO_ACTION, "
                               "ALCH_CASCADE, ALCH_SET_NULL or ALCH_RESTRICT",
                               m->table, c->name, (int)c->on_delete);
    if (!c->foreign_key) {
        if (c->on_delete == ALCH_NO_ACTION)
            return 0;
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s has .on_delete but no .foreign_key: ON DELETE "
                               "belongs to a foreign key, so add .foreign_key = \"table.column\"",
                               m->table, c->name);
    }
    if (!fk_well_formed(c->foreign_key)) {
        alch__error_set(err, ALCH_EARGUMENT,
                        "column %s.%s has .foreign_key = \"%s\": write it as \"table.column\", "
                        "e.g. \"categories.id\"",
                        m->table, c->name, c->foreign_key);
        if (*c->foreign_key && !strchr(c->foreign_key, '.'))
            alch__error_hint(err, "did you mean \"%s.id\"?", c->foreign_key);
        return ALCH_EARGUMENT;
    }
    if (c->on_delete == ALCH_SET_NULL && !c->nullable) {
        alch__error_set(err, ALCH_EARGUMENT,
                        "column %s.%s has ON DELETE SET NULL but is NOT NULL: make it "
                        ".nullable = true, or choose ALCH_CASCADE or ALCH_RESTRICT",
                        m->table, c->name);
        if (alch__ctype_nullable(c->ctype))
            alch__error_hint(err,
                             "a nullable column needs a field that can hold NULL: make "
                             "%s.%s an %s",
                             m->name, c->name, alch__ctype_nullable(c->ctype));
        return ALCH_EARGUMENT;
    }
    return 0;
}

static int check_column(const alch_model *m, size_t i, alch_error *err)
{
    const alch_column *c = &m->columns[i];
    if (!c->name || !*c->name)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %zu of model %s has no name: build columns with "
                               "ALCH_COLUMN(Struct, field, type, ...)",
                               i + 1, m->name);
    if (strlen(c->name) > MAX_NAME)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "the name of column %s.%s is %zu bytes long: PostgreSQL keeps "
                               "only 63, so choose a shorter name",
                               m->table, c->name, strlen(c->name));
    for (size_t j = 0; j < i; j++)
        if (strcmp(m->columns[j].name, c->name) == 0)
            return alch__error_set(err, ALCH_EARGUMENT,
                                   "table %s has two columns named '%s': give each column its "
                                   "own name",
                                   m->table, c->name);
    if (!valid_sql_type(c->type))
        return alch__error_set(err, ALCH_EARGUMENT,
                               "column %s.%s has no valid SQL type (%d): use one of "
                               "alch_sql_type, e.g. ALCH_COLUMN(%s, %s, ALCH_BIGINT)",
                               m->table, c->name, (int)c->type, m->name, c->name);
    int rc = check_ctype(m, c, err);
    if (rc == 0)
        rc = check_length(m, c, err);
    if (rc == 0)
        rc = check_null(m, c, err);
    if (rc == 0)
        rc = check_fk_shape(m, c, err);
    return rc;
}

static int check_primary_key(const alch_model *m, alch_error *err)
{
    size_t npk = 0;
    const alch_column *first = NULL, *second = NULL;
    for (size_t i = 0; i < m->ncolumns; i++) {
        if (!m->columns[i].primary_key)
            continue;
        npk++;
        if (!first)
            first = &m->columns[i];
        else if (!second)
            second = &m->columns[i];
    }
    if (npk == 0)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "model %s (table %s) has no primary key: mark one column "
                               ".primary_key = true, e.g. ALCH_COLUMN(%s, id, ALCH_BIGINT, "
                               ".primary_key = true)",
                               m->name, m->table, m->name);
    if (npk > 1) {
        alch__error_set(err, ALCH_EARGUMENT,
                        "model %s (table %s) has %zu primary-key columns (%s, %s%s): alch "
                        "supports exactly one, so keep one and make the others .unique = true",
                        m->name, m->table, npk, first->name, second->name, npk > 2 ? ", ..." : "");
        alch__error_hint(err, "a composite primary key is not supported; a surrogate id plus "
                              "a unique column does the same job");
        return ALCH_EARGUMENT;
    }
    return 0;
}

static int check_relationships(const alch_model *m, alch_error *err)
{
    for (size_t i = 0; i < m->nrelationships; i++) {
        const alch_relationship *r = &m->relationships[i];
        const char *missing = !r->name || !*r->name       ? "name"
                              : !r->target || !*r->target ? "target table"
                              : !r->via || !*r->via       ? "via column"
                                                          : NULL;
        if (!missing)
            continue;
        alch__error_set(err, ALCH_EARGUMENT,
                        "relationship %zu of model %s (%s) has no %s: build it with "
                        "ALCH_ONE_TO_MANY(Struct, field, \"target table\", \"fk column\") or "
                        "ALCH_MANY_TO_ONE(...)",
                        i + 1, m->name, r->name && *r->name ? r->name : "unnamed", missing);
        alch__error_hint(err, "the seed's Category.items is ALCH_ONE_TO_MANY(Category, items, "
                              "\"items\", \"category\")");
        return ALCH_EARGUMENT;
    }
    return 0;
}

static int check_model(const alch_base *base, const alch_model *m, alch_error *err)
{
    int rc = check_header(base, m, err);
    for (size_t i = 0; rc == 0 && i < m->ncolumns; i++)
        rc = check_column(m, i, err);
    if (rc == 0)
        rc = check_primary_key(m, err);
    if (rc == 0)
        rc = check_relationships(m, err);
    return rc;
}

static bool grow(alch_base *base)
{
    void *arrays[] = {base->models, base->tables, base->order};
    const size_t sizes[] = {sizeof *base->models, sizeof *base->tables, sizeof *base->order};
    bool ok = alch__grow_parallel(arrays, sizes, 3, &base->cap, base->count, 8);
    base->models = arrays[0];
    base->tables = arrays[1];
    base->order = arrays[2];
    return ok;
}

int alch_base_add(alch_base *base, const alch_model *model, alch_error *err)
{
    if (!base || !model)
        return alch__error_set(err, ALCH_EMISUSE, "alch_base_add needs a base and a model");
    int rc = check_model(base, model, err);
    if (rc)
        return rc;
    if (!grow(base))
        return alch__error_set(err, ALCH_ENOMEM, "out of memory while adding model %s",
                               model->name);
    base->models[base->count] = model;
    base->tables[base->count] = model->table;
    base->count++;
    base->checked = false; /* the new model may break the order, or fix a reference */
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Lookups
 * ------------------------------------------------------------------------------------- */

size_t alch_base_count(const alch_base *base)
{
    return base ? base->count : 0;
}

static size_t index_of_table(const alch_base *base, const char *table, size_t len)
{
    for (size_t i = 0; i < base->count; i++)
        if (strncmp(base->tables[i], table, len) == 0 && base->tables[i][len] == '\0')
            return i;
    return (size_t)-1;
}

const alch_model *alch_base_find(const alch_base *base, const char *table)
{
    if (!base || !table)
        return NULL;
    size_t i = index_of_table(base, table, strlen(table));
    return i == (size_t)-1 ? NULL : base->models[i];
}

const alch_model *alch_base_model_at(const alch_base *base, size_t i)
{
    if (!base || !base->checked || i >= base->count)
        return NULL;
    return base->models[base->order[i]];
}

bool alch__base_checked(const alch_base *base)
{
    return base && base->checked;
}

static size_t slot_of(const struct mapping *mp, const alch_model *model)
{
    uintptr_t v = (uintptr_t)model;
    return (size_t)alch__fnv1a(ALCH__FNV_OFFSET, &v, sizeof v) & (mp->nslots - 1);
}

const alch__mapper *alch__base_mapper(const alch_base *base, const alch_model *model)
{
    if (!base || !base->checked || !model)
        return NULL;
    const struct mapping *mp = base->mapping;
    for (size_t i = slot_of(mp, model);; i = (i + 1) & (mp->nslots - 1))
        if (!mp->slots[i] || mp->slots[i]->model == model)
            return mp->slots[i];
}

/* ---------------------------------------------------------------------------------------
 * Checking the models against each other (alch_base_check)
 * ------------------------------------------------------------------------------------- */

/* A foreign key "table.column" split into its two names (checked well formed on add). */
typedef struct fk_ref {
    char table[MAX_NAME + 1];
    char column[MAX_NAME + 1];
} fk_ref;

static fk_ref parse_fk(const char *fk)
{
    fk_ref r;
    const char *dot = strchr(fk, '.');
    size_t n = (size_t)(dot - fk);
    memcpy(r.table, fk, n);
    r.table[n] = '\0';
    strcpy(r.column, dot + 1);
    return r;
}

/* Hint "did you mean 'x'?" for a name that is not among a model's columns. */
static int hint_column(const alch_model *m, const char *name, alch_error *err)
{
    const char **names = malloc(m->ncolumns * sizeof *names);
    if (!names)
        return oom(err);
    for (size_t i = 0; i < m->ncolumns; i++)
        names[i] = m->columns[i].name;
    const char *best = alch__suggest(name, names, m->ncolumns);
    free(names);
    if (best)
        alch__error_hint(err, "did you mean '%s'?", best);
    else
        alch__error_hint(err, "see the column array of model %s for the names it has", m->name);
    return ALCH_EARGUMENT;
}

static int hint_table(const alch_base *base, const char *name, alch_error *err)
{
    const char *best = alch__suggest(name, base->tables, base->count);
    if (best)
        alch__error_hint(err, "did you mean '%s'?", best);
    else
        alch__error_hint(err,
                         "declare a model with table '%s' and add it with "
                         "alch_base_add(), or fix the name",
                         name);
    return ALCH_EARGUMENT;
}

/* PostgreSQL compares integer types with each other, and text with varchar. */
static int type_family(alch_sql_type t)
{
    switch (t) {
    case ALCH_SMALLINT:
    case ALCH_INTEGER:
    case ALCH_BIGINT:
        return ALCH_BIGINT;
    case ALCH_TEXT:
    case ALCH_VARCHAR:
        return ALCH_TEXT;
    case ALCH_REAL:
    case ALCH_DOUBLE:
        return ALCH_DOUBLE;
    default:
        return (int)t;
    }
}

static int check_fk_target(const alch_base *base, const alch_model *m, const alch_column *c,
                           alch_error *err)
{
    fk_ref ref = parse_fk(c->foreign_key);
    const alch_model *target = alch_base_find(base, ref.table);
    if (!target) {
        alch__error_set(err, ALCH_EARGUMENT,
                        "table '%s' referenced by %s.%s is not declared in this Base", ref.table,
                        m->table, c->name);
        return hint_table(base, ref.table, err);
    }
    const alch_column *to = alch_model_column(target, ref.column);
    if (!to) {
        alch__error_set(err, ALCH_EARGUMENT,
                        "column '%s' referenced by %s.%s is not a column of table %s", ref.column,
                        m->table, c->name, target->table);
        return hint_column(target, ref.column, err);
    }
    if (!to->primary_key && !to->unique)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "%s.%s references %s.%s, which is neither the primary key nor "
                               "unique: reference %s.%s, or mark %s.%s .unique = true",
                               m->table, c->name, target->table, to->name, target->table,
                               alch__model_pk(target)->name, target->table, to->name);
    if (type_family(c->type) != type_family(to->type))
        return alch__error_set(err, ALCH_EARGUMENT,
                               "%s.%s is %s but references %s.%s, which is %s: a foreign key "
                               "must have the type of the column it references",
                               m->table, c->name, sql_names[c->type], target->table, to->name,
                               sql_names[to->type]);
    return 0;
}

/* The column of `owner` a relationship goes through must reference `other`'s primary key:
 * that is what alch_session_load() joins on. */
static int check_rel_via(const alch_model *m, const alch_relationship *r, const alch_model *owner,
                         const alch_model *other, alch_error *err)
{
    const alch_column *via = alch_model_column(owner, r->via);
    if (!via) {
        alch__error_set(err, ALCH_EARGUMENT,
                        "relationship %s.%s goes through column '%s', which is not a column of "
                        "%s (%s)",
                        m->name, r->name, r->via, owner->table,
                        r->many ? "for one-to-many, via is the foreign key in the target table"
                                : "for many-to-one, via is the foreign key in this model");
        return hint_column(owner, r->via, err);
    }
    fk_ref ref = via->foreign_key ? parse_fk(via->foreign_key) : (fk_ref){"", ""};
    if (strcmp(ref.table, other->table) != 0) {
        alch__error_set(err, ALCH_EARGUMENT,
                        "relationship %s.%s goes through %s.%s, which is not a foreign key to "
                        "%s: via must name the column of %s that references %s",
                        m->name, r->name, owner->table, via->name, other->table, owner->table,
                        other->table);
        for (size_t i = 0; i < owner->ncolumns; i++) {
            const alch_column *c = &owner->columns[i];
            if (c->foreign_key && strcmp(parse_fk(c->foreign_key).table, other->table) == 0) {
                alch__error_hint(err, "did you mean '%s'?", c->name);
                break;
            }
        }
        return ALCH_EARGUMENT;
    }
    const alch_column *pk = alch__model_pk(other);
    if (strcmp(ref.column, pk->name) != 0)
        return alch__error_set(err, ALCH_EARGUMENT,
                               "relationship %s.%s goes through %s.%s, which references %s.%s: "
                               "relationships load by primary key, so reference %s.%s",
                               m->name, r->name, owner->table, via->name, other->table, ref.column,
                               other->table, pk->name);
    return 0;
}

static int check_relationship(const alch_base *base, const alch_model *m,
                              const alch_relationship *r, alch_error *err)
{
    const alch_model *target = alch_base_find(base, r->target);
    if (!target) {
        alch__error_set(err, ALCH_EARGUMENT,
                        "table '%s' named by relationship %s.%s is not declared in this Base",
                        r->target, m->name, r->name);
        return hint_table(base, r->target, err);
    }
    return r->many ? check_rel_via(m, r, target, m, err) : check_rel_via(m, r, m, target, err);
}

/* Foreign keys first, everywhere: a relationship's check relies on its via column's foreign
 * key being valid already. */
static int check_references(const alch_base *base, alch_error *err)
{
    for (size_t i = 0; i < base->count; i++) {
        const alch_model *m = base->models[i];
        for (size_t j = 0; j < m->ncolumns; j++) {
            const alch_column *c = &m->columns[j];
            int rc = c->foreign_key ? check_fk_target(base, m, c, err) : 0;
            if (rc)
                return rc;
        }
    }
    for (size_t i = 0; i < base->count; i++) {
        const alch_model *m = base->models[i];
        for (size_t j = 0; j < m->nrelationships; j++) {
            int rc = check_relationship(base, m, &m->relationships[j], err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* The first model that models[i] references and that is not placed yet (its own table does
 * not count: a self-reference needs no order), or (size_t)-1. */
static size_t unplaced_parent(const alch_base *base, size_t i, const bool *placed)
{
    const alch_model *m = base->models[i];
    for (size_t j = 0; j < m->ncolumns; j++) {
        const char *fk = m->columns[j].foreign_key;
        if (!fk)
            continue;
        size_t p = index_of_table(base, fk, (size_t)(strchr(fk, '.') - fk));
        if (p != i && !placed[p])
            return p;
    }
    return (size_t)-1;
}

/* Every model left unplaced has an unplaced parent, so walking parents from any of them must
 * come back to a model already seen: that loop is the cycle to report. */
static int cycle_error(const alch_base *base, const bool *placed, alch_error *err)
{
    size_t *seen_at = malloc(base->count * sizeof *seen_at);
    size_t *path = malloc((base->count + 1) * sizeof *path);
    if (!seen_at || !path) {
        free(seen_at);
        free(path);
        return oom(err);
    }
    for (size_t i = 0; i < base->count; i++)
        seen_at[i] = (size_t)-1;
    size_t cur = 0, len = 0;
    while (placed[cur])
        cur++;
    while (seen_at[cur] == (size_t)-1) {
        seen_at[cur] = len;
        path[len++] = cur;
        cur = unplaced_parent(base, cur, placed);
    }
    alch__buf b = ALCH__BUF_INIT;
    for (size_t k = seen_at[cur]; k < len; k++)
        alch__buf_printf(&b, "%s \xe2\x86\x92 ", base->tables[path[k]]);
    alch__buf_puts(&b, base->tables[cur]);
    free(seen_at);
    free(path);
    if (b.oom) {
        alch__buf_free(&b);
        return oom(err);
    }
    alch__error_set(err, ALCH_EARGUMENT,
                    "the foreign keys form a cycle %s: alch creates every referenced table "
                    "before the tables that reference it, and a cycle has no first table",
                    b.data);
    alch__error_hint(err, "remove one foreign key of the cycle (a table referencing itself, "
                          "such as categories.parent -> categories.id, is fine)");
    alch__buf_free(&b);
    return ALCH_EARGUMENT;
}

/* Parents first. Each step takes the earliest-added model whose parents are all placed, so
 * models that do not depend on each other keep the order they were added in. */
static int sort_models(alch_base *base, alch_error *err)
{
    bool *placed = calloc(base->count ? base->count : 1, sizeof *placed);
    if (!placed)
        return oom(err);
    for (size_t k = 0; k < base->count; k++) {
        size_t i = 0;
        while (i < base->count && (placed[i] || unplaced_parent(base, i, placed) != (size_t)-1))
            i++;
        if (i == base->count) {
            int rc = cycle_error(base, placed, err);
            free(placed);
            return rc;
        }
        placed[i] = true;
        base->order[k] = i;
    }
    free(placed);
    return 0;
}

/* The mappers of the models as they are now, with their rank from the order just sorted;
 * the previous ones, if any, stay allocated (see struct mapping). */
static int map_models(alch_base *base, alch_error *err)
{
    struct mapping *mp = calloc(1, sizeof *mp);
    size_t nslots = 8;
    while (nslots < 2 * base->count)
        nslots *= 2;
    if (mp) {
        mp->maps = calloc(base->count ? base->count : 1, sizeof *mp->maps);
        mp->slots = calloc(nslots, sizeof *mp->slots);
    }
    if (!mp || !mp->maps || !mp->slots) {
        if (mp) {
            free(mp->maps);
            free(mp->slots);
        }
        free(mp);
        return oom(err);
    }
    mp->count = base->count;
    mp->nslots = nslots;
    for (size_t k = 0; k < base->count; k++)
        mp->maps[base->order[k]] = (alch__mapper){.model = base->models[base->order[k]],
                                                  .rank = (int)k};
    int rc = alch__mappers_resolve(mp->maps, mp->count, err);
    if (rc) {
        free(mp->maps);
        free(mp->slots);
        free(mp);
        return rc;
    }
    for (size_t i = 0; i < mp->count; i++) {
        size_t j = slot_of(mp, mp->maps[i].model);
        while (mp->slots[j])
            j = (j + 1) & (nslots - 1);
        mp->slots[j] = &mp->maps[i];
    }
    mp->older = base->mapping;
    base->mapping = mp;
    return 0;
}

int alch_base_check(alch_base *base, alch_error *err)
{
    if (!base)
        return alch__error_set(err, ALCH_EMISUSE, "alch_base_check needs a base (got NULL)");
    if (base->checked)
        return 0;
    int rc = check_references(base, err);
    if (rc == 0)
        rc = sort_models(base, err);
    if (rc == 0)
        rc = map_models(base, err);
    base->checked = rc == 0;
    return rc;
}
