/* The flush: work out what changed, then send INSERT ... RETURNING, UPDATE of the changed
 * columns, and DELETE, one statement at a time, parents before children. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/error_internal.h"
#include "session/session_internal.h"
#include "util/buf.h"
#include "driver/driver.h"

/* Inserts and updates go parents first, deletes children first, each group in the order
 * the objects were added or loaded. */
static int cmp_plan(const void *a, const void *b)
{
    const alch__plan_item *x = a, *y = b;
    int dx = x->act == ACT_DELETE, dy = y->act == ACT_DELETE;
    if (dx != dy)
        return dx - dy;
    if (x->rank != y->rank)
        return dx ? y->rank - x->rank : x->rank - y->rank;
    return x->rec->seq < y->rec->seq ? -1 : x->rec->seq > y->rec->seq;
}

uint64_t alch__changed_columns(const alch__rec *r)
{
    if (alch__rec_untouched(r))
        return 0;
    uint64_t bits = 0;
    for (size_t i = 0; i < r->model->ncolumns; i++)
        if (!alch__field_equal(&r->model->columns[i], r->obj, r->flushed))
            bits |= 1ULL << i;
    return bits;
}

static int cmp_link(const void *a, const void *b)
{
    const alch__link *x = a, *y = b;
    return x->child->pos < y->child->pos ? -1 : x->child->pos > y->child->pos;
}

/* Children waiting for new parents: the links sorted by the child's place in the plan, and
 * each plan item told where its own are. */
static void place_links(alch__sop *op)
{
    for (size_t i = 0; i < op->nplan; i++)
        op->plan[i].rec->pos = i;
    if (op->nlinks)
        qsort(op->links, op->nlinks, sizeof *op->links, cmp_link);
    size_t j = 0;
    for (size_t i = 0; i < op->nplan; i++) {
        op->plan[i].link0 = j;
        while (j < op->nlinks && op->links[j].child->pos == i)
            j++;
        op->plan[i].nlinks = j - op->plan[i].link0;
    }
}

static int plan_add(alch__sop *op, size_t *cap, alch__plan_item it, alch_error *err)
{
    alch__plan_item *plan = alch__grow(op->plan, cap, op->nplan, sizeof *plan, 16);
    if (!plan)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    op->plan = plan;
    it.rec->planned = op->gen;
    it.rec->pos = op->nplan;
    op->plan[op->nplan++] = it;
    return 0;
}

/* Whether r goes in the plan, and as what. */
static int plan_rec(alch_session *s, alch__sop *op, alch__rec *r, size_t *cap, alch_error *err)
{
    if (r->planned == op->gen) { /* looked at again: its foreign key may have changed */
        alch__plan_item *it = &op->plan[r->pos];
        if (it->act == ACT_UPDATE)
            it->changed = alch__changed_columns(r);
        return 0;
    }
    alch__plan_item it = {.rec = r};
    if (r->state == ALCH_PENDING) {
        it.act = ACT_INSERT;
    } else if (r->state == ALCH_DELETED && !r->deleted_in_tx) {
        it.act = ACT_DELETE;
    } else if (r->state == ALCH_PERSISTENT && r->flushed) {
        it.act = ACT_UPDATE;
        it.changed = alch__changed_columns(r);
        if (!it.changed && r->waits != op->gen)
            return 0;
        if (it.changed & r->map->pk_bit) {
            alch__error_set(err, ALCH_EMISUSE,
                            "the primary key of a persistent %s was "
                            "changed: alch does not move rows to a new key",
                            r->model->name);
            alch__error_hint(err, "delete the object and add a new one instead");
            return ALCH_EMISUSE;
        }
    } else {
        return 0;
    }
    it.rank = r->map->rank;
    return plan_add(op, cap, it, err);
}

/* One object's part of the plan: its relationship fields first (they may set this object's
 * foreign key, or another's), then whether it changed. */
static int plan_visit(alch_session *s, alch__sop *op, alch__rec *r, size_t *cap, alch_error *err)
{
    r->seen = op->gen;
    int rc = alch__rec_relates(r) ? alch__relate_rec(s, op, r, err) : 0;
    if (rc)
        return rc;
    /* the common case first, without a call: a loaded object nobody touched */
    if (r->state == ALCH_PERSISTENT && r->waits != op->gen && alch__rec_untouched(r))
        return 0;
    return plan_rec(s, op, r, cap, err);
}

/* The primary key of a persistent object, as text, from its identity key. */
static const char *key_text(const alch__rec *r)
{
    const char *sep = r->key ? strchr(r->key, '\x1f') : NULL;
    return sep ? sep + 1 : "?";
}

/* Whether a relationship field of r holds an object the database does not have yet (the
 * full scan would add or insert it). */
static bool relates_unsent(const alch_session *s, const alch__rec *r)
{
    for (size_t k = 0; k < r->model->nrelationships; k++) {
        const alch_relationship *rel = &r->model->relationships[k];
        const char *field = (const char *)r->obj + rel->offset;
        const alch_many *many = (const alch_many *)field;
        const alch_one *one = (const alch_one *)field;
        size_t n = rel->many ? many->count : 1;
        for (size_t i = 0; i < n; i++) {
            const void *obj = rel->many ? many->items[i] : one->obj;
            const alch__rec *c = obj ? alch__rec_by_ptr(s, obj) : NULL;
            if (obj && (!c || c->state == ALCH_PENDING))
                return true;
        }
    }
    return false;
}

/* ALCH_DEBUG_AUTOFLUSH=1: the full scan autoflush skips. An object outside the set with a
 * change means a query is about to run without it: say which, and how to hand it back. */
static int check_missed(alch_session *s, alch_error *err)
{
    for (alch__rec *r = s->first; r; r = r->next) {
        if (r->touched == s->epoch || r->state != ALCH_PERSISTENT || !r->flushed)
            continue;
        uint64_t changed = alch__changed_columns(r);
        if (!changed && !relates_unsent(s, r))
            continue;
        const char *what = "has a relationship to an object not flushed yet";
        char buf[160];
        if (changed) {
            int col = __builtin_ctzll(changed);
            snprintf(buf, sizeof buf, "was changed (column %s)", r->model->columns[col].name);
            what = buf;
        }
        alch__error_set(err, ALCH_EMISUSE,
                        "autoflush missed a change: %s %s=%s %s after the last flush and was "
                        "not handed to the session again, so this query would run without it",
                        r->model->name, r->map->pk->name, key_text(r), what);
        alch__error_hint(err, "after changing an object you got before the last query, hand it "
                              "back with alch_session_add() (or call alch_session_flush()): the "
                              "next query sends it first");
        return ALCH_EMISUSE;
    }
    return 0;
}

/* What the flush sends. An explicit flush or a commit looks at every object the session
 * holds; autoflush, which runs before every query, looks only at s->touched (new, deleted
 * and handed-out objects since the last flush), so its cost does not grow with the session.
 * The common case (nothing changed) allocates nothing. */
int alch__make_plan(alch_session *s, alch__sop *op, alch_error *err)
{
    op->gen = ++s->flushes;
    op->nlinks = op->nrevisit = op->nplan = 0;
    size_t cap = 0;
    bool all = op->kind == OP_FLUSH || op->kind == OP_COMMIT || s->touch_lost;
    /* records the relationships add land at the end of the list (and of s->touched), and
     * are visited in turn */
    for (alch__rec *r = s->first; all && r; r = r->next) {
        int rc = plan_visit(s, op, r, &cap, err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; !all && i < s->ntouched; i++) {
        int rc = plan_visit(s, op, s->touched[i], &cap, err);
        if (rc)
            return rc;
    }
    if (!all && s->maker->check_autoflush) {
        int rc = check_missed(s, err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < op->nrevisit; i++) {
        int rc = plan_rec(s, op, op->revisit[i], &cap, err);
        if (rc)
            return rc;
    }
    if (op->nplan == 0)
        return 0;
    /* objects added in order (add_all) are usually planned in order: sort only when not
     * (qsort cost about 340 instructions per object of W3's 10,000 even so) */
    size_t i = 1;
    while (i < op->nplan && cmp_plan(&op->plan[i - 1], &op->plan[i]) <= 0)
        i++;
    if (i < op->nplan)
        qsort(op->plan, op->nplan, sizeof *op->plan, cmp_plan);
    place_links(op);
    return 0;
}

/* The plan's statements: one per planned object, except that new objects of one model with
 * the same columns to send go together, as one multi-row INSERT (up to MAX_ROWS rows). */
typedef struct group {
    size_t first, count; /* plan items */
    uint64_t mask, ret;  /* a multi-row INSERT's columns sent and columns returned */
    bool arrays;         /* sent as one array per column (SQL_INSERT_ARRAYS or _KEYED) */
    signed char keysrc;  /* ret is the key alone: may its keys be taken first (keysrc_of) */
    bool keys_stmt;      /* not an INSERT: the statement that takes the keys of the next ones */
    size_t keys;         /* a keyed INSERT: its keys statement (a group) */
    size_t key_off;      /* ... and its first row's place among that statement's keys */
    /* a keys statement's answer: the first key of a run, or one key per row */
    bool got;
    int64_t base;
    int64_t *list;
} group;

/* A multi-row INSERT of fewer than ARRAY_MIN rows goes as VALUES (...), (...) (what the
 * lessons show); from ARRAY_MIN rows on, as INSERT ... SELECT ... FROM unnest($1::T[], ...)
 * in pieces of up to ARRAY_ROWS rows: one statement shape for any count, one parameter per
 * column, and the server parses neither a long VALUES list nor thousands of parameters.
 * (100,000 rows, backend CPU per row: VALUES in pieces of 512 7.2 us, arrays of 4096 rows
 * 6.3 us, COPY 5.5 us; arrays of 100,000 rows 8.8 us: the server's tuplestore spills.) */
enum { MAX_ROWS = 1024, MAX_PARAMS = 30000, ARRAY_MIN = 16, ARRAY_ROWS = 4096 };

/* make_groups: a model's key source must be asked about first (alch__flush_next) */
enum { NEED_KEYSRC = 1 };

typedef struct flush_ctx {
    alch_session *s;
    group *groups;
    size_t ngroups;
    bool arrays_ok;          /* the connection's encoding allows array literals */
    const alch__mapper *ask; /* NEED_KEYSRC: the model whose key column to ask about */
    alch_value *vals;        /* room for the largest statement's values */
    char (*tmp)[ALCH__FIELD_TMP];
    alch__buf arr[66];    /* an INSERT of arrays: one literal per column sent, and the keys */
    char keys_table[300]; /* the table's name, quoted, for keysrc_sql and keys_sql */
} flush_ctx;

/* ---- keys taken first ------------------------------------------------------------------
 *
 * PostgreSQL does not promise that INSERT ... SELECT ... RETURNING lists its rows in the
 * SELECT's order, nor that the key column's default numbers them in that order (SQLAlchemy
 * 2.0's "insertmanyvalues" sends a sentinel counter with ORDER BY for that reason, and sorts
 * what comes back). A bulk insert (ARRAY_MIN rows or more) whose only server-filled column
 * is a key drawn from the column's own sequence (an identity column BY DEFAULT, or a serial)
 * therefore takes its keys first, in one statement, and sends each row with its key: nothing
 * comes back to be matched, whatever order the server works in. The sequence advances as the
 * INSERT's own default would have made it advance. A table whose key is GENERATED ALWAYS or
 * comes from anything else, or that has triggers or rules (which might change or redirect
 * the row), gets one INSERT ... RETURNING per row, in the same pipeline. */
typedef struct alch__keysrc {
    const alch_model *model;
    bool sequence; /* the key column's default is its own sequence, and nothing else runs */
    struct alch__keysrc *next;
} alch__keysrc;

/* Asked once per factory and model: may the key column's sequence be drawn from first? */
static const char keysrc_sql[] =
    "SELECT (a.attidentity = 'd' OR (a.attidentity = '' AND pg_get_expr(d.adbin, d.adrelid) = "
    "format('nextval(%L::regclass)', pg_get_serial_sequence($1, $2)::regclass))) "
    "AND NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = a.attrelid AND NOT "
    "t.tgisinternal) AND NOT EXISTS (SELECT FROM pg_rewrite w WHERE w.ev_class = a.attrelid "
    "AND w.ev_type = '3') FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid "
    "AND d.adnum = a.attnum WHERE a.attrelid = CAST($1 AS regclass) AND a.attname = $2";

/* The keys of $3 rows: the first and the last, and all of them only when they are not one
 * run of consecutive numbers (another session drew from the sequence meanwhile, or it
 * counts by more than 1). The sequence is looked up once, not per row. */
static const char keys_sql[] =
    "SELECT min(v), max(v), count(*), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL ELSE "
    "array_agg(v) END FROM (SELECT nextval((SELECT CAST(pg_get_serial_sequence($1, $2) AS "
    "regclass))) AS v FROM generate_series(1, CAST($3 AS bigint))) AS k";

/* 1: keys may be taken first; 0: not; -1: not asked yet. */
static int keysrc_of(const alch_sessionmaker *maker, const alch_model *m)
{
    for (const alch__keysrc *k = maker->keysrcs; k; k = k->next)
        if (k->model == m)
            return k->sequence;
    return -1;
}

void alch__keysrc_free(alch_sessionmaker *maker)
{
    for (alch__keysrc *k = maker->keysrcs, *next; k; k = next) {
        next = k->next;
        free(k);
    }
    maker->keysrcs = NULL;
}

/* The table's name as pg_get_serial_sequence() and regclass read it (quoted as needed). */
static void table_text(flush_ctx *f, const alch_model *m)
{
    alch__buf b = {0};
    alch__buf_ident(&b, m->table);
    snprintf(f->keys_table, sizeof f->keys_table, "%s", b.data && !b.oom ? b.data : m->table);
    alch__buf_free(&b);
}

/* Which columns an INSERT of r sends (mask) and which come back (ret): an unset primary key
 * or server-default column is left to the server. Client defaults are filled in here, into
 * unset fields only (a NULL pointer or `is_null = true`; the base refused a default on a
 * field that cannot be unset), so a value the program set is always the value stored. */
static void insert_shape(alch__rec *r, uint64_t *mask, uint64_t *ret)
{
    const alch_model *m = r->model;
    *mask = *ret = 0;
    for (size_t i = 0; i < m->ncolumns; i++) {
        const alch_column *c = &m->columns[i];
        if (c->client_default.type != ALCH_V_NULL && alch__field_empty(c, r->obj))
            alch__field_set(c, r->obj, &c->client_default);
        if ((c->primary_key || c->server_default) && alch__field_empty(c, r->obj))
            *ret |= 1ULL << i;
        else
            *mask |= 1ULL << i;
    }
}

/* The values of r's INSERT, appended at vals[*n]. */
static int insert_values(flush_ctx *f, alch__rec *r, uint64_t mask, size_t *n, alch_error *err)
{
    const alch_model *m = r->model;
    for (size_t i = 0; i < m->ncolumns; i++) {
        if (!(mask & (1ULL << i)))
            continue;
        int rc = alch__field_value(m, &m->columns[i], r->obj, &f->vals[*n], f->tmp[*n], err);
        if (rc)
            return rc;
        (*n)++;
    }
    return 0;
}

/* Several rows in one INSERT: only when each sends a value (a row that sends none is an
 * INSERT ... DEFAULT VALUES, one row per statement), and what comes back is nothing, or the
 * identity key alone. Fewer than ARRAY_MIN rows go as VALUES (...), (...) RETURNING: the
 * server numbers the rows of VALUES in their order, so the keys, sorted (falling when the
 * sequence counts down), belong to the objects in order. More go with their keys taken first
 * (keysrc_sql), or one row per INSERT. */
static bool multi_row_ok(const alch__rec *r, uint64_t ret)
{
    const alch_column *pk = r->map->pk;
    uint64_t pk_bit = r->map->pk_bit;
    /* an identity column: numbered in order (a server_default might not be) */
    bool identity =
        (pk->type == ALCH_SMALLINT || pk->type == ALCH_INTEGER || pk->type == ALCH_BIGINT) &&
        !pk->server_default;
    return ret == 0 || (ret == pk_bit && identity);
}

/* Whether a plan item's new parents all come before position `first` (so it may go in a
 * statement that starts there). */
static bool parents_before(const alch__sop *op, const alch__plan_item *it, size_t first)
{
    for (size_t k = it->link0; k < it->link0 + it->nlinks; k++)
        if (op->links[k].parent->pos >= first)
            return false;
    return true;
}

/* Whether group g goes as VALUES (...), (...) however many rows it has. */
static bool values_only(const flush_ctx *f, const group *g)
{
    return !f->arrays_ok || g->keysrc == 0;
}

/* Whether group g goes as arrays: a group formed with arrays allowed has at most ARRAY_ROWS
 * rows. */
static bool as_arrays(const flush_ctx *f, const group *g)
{
    return !values_only(f, g) && g->mask && g->count >= ARRAY_MIN;
}

/* A multi-row INSERT goes as pieces of 2^k rows (600 = 512 + 64 + 16 + 8), so a model has
 * a handful of INSERT shapes, each built, cached and prepared once, whatever the counts; a
 * group of arrays stays whole (one shape for any count). */
static void split_groups(flush_ctx *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->ngroups; i++)
        n += as_arrays(f, &f->groups[i]) ? 1 : (size_t)__builtin_popcountll(f->groups[i].count);
    /* at most one group per plan item, the size groups was allocated with: fill from the end */
    size_t out = n;
    for (size_t i = f->ngroups; i-- > 0;) {
        group g = f->groups[i];
        if (as_arrays(f, &g)) {
            g.arrays = true;
            f->groups[--out] = g;
            continue;
        }
        size_t end = g.first + g.count;
        for (size_t bit = 1; bit <= g.count; bit <<= 1) {
            if (!(g.count & bit))
                continue;
            end -= bit; /* small pieces last */
            f->groups[--out] = (group){
                .first = end, .count = bit, .mask = g.mask, .ret = g.ret, .keysrc = g.keysrc};
        }
    }
    f->ngroups = n;
}

/* Whether the plan item may join group g (the last one formed). */
static bool joins(const flush_ctx *f, const alch__sop *op, const group *g,
                  const alch__plan_item *it, uint64_t mask, uint64_t ret)
{
    const alch__plan_item *prev = &op->plan[g->first];
    size_t cols = (size_t)__builtin_popcountll(mask);
    return it->act == ACT_INSERT && prev->act == ACT_INSERT && prev->rec->model == it->rec->model &&
           g->mask == mask && mask && g->ret == ret && multi_row_ok(it->rec, ret) &&
           !(ret && g->keysrc == 0) && g->count < (values_only(f, g) ? MAX_ROWS : ARRAY_ROWS) &&
           parents_before(op, it, g->first) &&
           (!values_only(f, g) || (g->count + 1) * cols <= MAX_PARAMS);
}

/* Before each run of keyed INSERTs (arrays whose key comes from the sequence) of one model,
 * the statement that takes their keys. */
static int add_keys_stmts(flush_ctx *f)
{
    size_t runs = 0;
    for (size_t i = 0; i < f->ngroups; i++) {
        const group *g = &f->groups[i];
        bool keyed = g->arrays && g->ret;
        runs += keyed &&
                (i == 0 || !(g[-1].arrays && g[-1].ret) ||
                 f->s->op->plan[g[-1].first].rec->model != f->s->op->plan[g->first].rec->model);
    }
    if (runs == 0)
        return 0;
    group *out = calloc(f->ngroups + runs, sizeof *out);
    if (!out)
        return ALCH_ENOMEM;
    size_t n = 0, run = 0;
    for (size_t i = 0; i < f->ngroups; i++) {
        group g = f->groups[i];
        if (g.arrays && g.ret) {
            if (!(n && out[n - 1].arrays && out[n - 1].ret &&
                  out[run].first + out[run].count == g.first &&
                  f->s->op->plan[out[run].first].rec->model ==
                      f->s->op->plan[g.first].rec->model)) {
                run = n++;
                out[run] = (group){.first = g.first, .keys_stmt = true, .mask = g.mask};
            }
            g.keys = run;
            g.key_off = out[run].count;
            out[run].count += g.count;
        }
        out[n++] = g;
    }
    free(f->groups);
    f->groups = out;
    f->ngroups = n;
    return 0;
}

static int make_groups(flush_ctx *f, alch__sop *op)
{
    f->groups = calloc(op->nplan ? op->nplan : 1, sizeof *f->groups);
    if (!f->groups)
        return ALCH_ENOMEM;
    f->arrays_ok = alch__conn_arrays_ok(f->s->conn);
    for (size_t i = 0; i < op->nplan; i++) {
        alch__plan_item *it = &op->plan[i];
        uint64_t mask = 0, ret = 0;
        if (it->act == ACT_INSERT)
            insert_shape(it->rec, &mask, &ret);
        group *g = f->ngroups ? &f->groups[f->ngroups - 1] : NULL;
        if (g && joins(f, op, g, it, mask, ret)) {
            g->count++;
            /* the first time a model's new rows would go as arrays with the server's keys */
            if (g->count == ARRAY_MIN && g->keysrc < 0 && f->arrays_ok) {
                f->ask = it->rec->map;
                return NEED_KEYSRC;
            }
            continue;
        }
        bool server_key = it->act == ACT_INSERT && ret && ret == it->rec->map->pk_bit;
        signed char keysrc = (signed char)(server_key ? keysrc_of(f->s->maker, it->rec->model) : 2);
        f->groups[f->ngroups++] =
            (group){.first = i, .count = 1, .mask = mask, .ret = ret, .keysrc = keysrc};
    }
    split_groups(f);
    if (add_keys_stmts(f))
        return ALCH_ENOMEM;
    size_t most = 65; /* values of the largest statement */
    for (size_t i = 0; i < f->ngroups; i++) {
        size_t cols = (size_t)__builtin_popcountll(f->groups[i].mask);
        size_t vals = f->groups[i].arrays ? cols + 2 : f->groups[i].count * cols;
        most = vals > most ? vals : most;
    }
    f->vals = calloc(most, sizeof *f->vals);
    f->tmp = calloc(most, sizeof *f->tmp);
    return f->vals && f->tmp ? 0 : ALCH_ENOMEM;
}

void alch__flush_ctx_free(void *ctx)
{
    flush_ctx *f = ctx;
    if (!f)
        return;
    for (size_t i = 0; i < f->ngroups; i++)
        free(f->groups[i].list);
    free(f->groups);
    free(f->vals);
    free(f->tmp);
    for (size_t i = 0; i < sizeof f->arr / sizeof *f->arr; i++)
        alch__buf_free(&f->arr[i]);
    free(f);
}

/* A group of arrays: for each column sent, `{"v1","v2",NULL,...}` of its rows in plan order
 * (the order the server numbers them in). */
static int array_values(flush_ctx *f, const group *g, size_t n, alch_error *err)
{
    alch__plan_item *plan = f->s->op->plan;
    const alch_model *m = plan[g->first].rec->model;
    for (size_t i = 0; i < m->ncolumns; i++) {
        if (!(g->mask & (1ULL << i)))
            continue;
        alch__buf *b = &f->arr[n];
        b->len = 0;
        alch__buf_putc(b, '{');
        for (size_t k = 0; k < g->count; k++) {
            alch__rec *r = plan[g->first + k].rec;
            alch_value v;
            if (k)
                alch__buf_putc(b, ',');
            int rc = alch__field_value(m, &m->columns[i], r->obj, &v, f->tmp[0], err);
            if (rc == 0)
                rc = alch__array_put(b, &v, err);
            if (rc)
                return rc;
        }
        alch__buf_putc(b, '}');
        if (b->oom)
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        f->vals[n++] = (alch_value){ALCH_V_TEXT, NULL, b->len, {.s = b->data}};
    }
    return 0;
}

/* The keys statement of a run of keyed INSERTs. */
static int keys_item(flush_ctx *f, const group *g, alch__batch_item *out)
{
    const alch__rec *r = f->s->op->plan[g->first].rec;
    table_text(f, r->model);
    f->vals[0] = alch_text(f->keys_table);
    f->vals[1] = alch_text(r->map->pk->name);
    f->vals[2] = alch_int((int64_t)g->count);
    out->sql = keys_sql;
    out->n = 3;
    return 0;
}

/* A keyed INSERT: the first key ($1), one array per column, and the keys when they are not
 * consecutive. Waits for its keys statement's answer. */
static int keyed_item(flush_ctx *f, const group *g, alch__batch_item *out, alch_error *err)
{
    const group *k = &f->groups[g->keys];
    if (!k->got)
        return ALCH__BATCH_LATER;
    const alch__mapper *map = f->s->op->plan[g->first].rec->map;
    size_t cols = (size_t)__builtin_popcountll(g->mask);
    int rc = array_values(f, g, 1, err);
    if (rc)
        return rc;
    alch__buf *b = &f->arr[cols + 1];
    b->len = 0;
    alch__buf_putc(b, '{');
    for (size_t i = 0; k->list && i < g->count; i++)
        alch__buf_printf(b, i ? ",%" PRId64 : "%" PRId64, k->list[g->key_off + i]);
    alch__buf_putc(b, '}');
    if (b->oom)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    f->vals[0] = alch_int(k->list ? 0 : k->base + (int64_t)g->key_off);
    f->vals[cols + 1] = (alch_value){ALCH_V_TEXT, NULL, b->len, {.s = b->data}};
    out->sql = alch__session_sql(f->s, SQL_INSERT_KEYED, map, NULL, g->mask, 0, 1, err);
    out->n = cols + 2;
    return out->sql ? 0 : ALCH_ENOMEM;
}

static int insert_item(flush_ctx *f, const group *g, alch__batch_item *out, alch_error *err)
{
    alch__plan_item *plan = f->s->op->plan;
    const alch__mapper *map = plan[g->first].rec->map;
    if (g->keys_stmt)
        return keys_item(f, g, out);
    if (g->arrays && g->ret)
        return keyed_item(f, g, out, err);
    if (g->arrays) {
        for (size_t k = 0; k < g->count; k++)
            plan[g->first + k].rec->generated = g->ret;
        int rc = array_values(f, g, 0, err);
        if (rc)
            return rc;
        out->sql = alch__session_sql(f->s, SQL_INSERT_ARRAYS, map, NULL, g->mask, g->ret, 1, err);
        out->n = (size_t)__builtin_popcountll(g->mask);
        return out->sql ? 0 : ALCH_ENOMEM;
    }
    size_t n = 0;
    for (size_t k = 0; k < g->count; k++) {
        alch__rec *r = plan[g->first + k].rec;
        r->generated = g->ret;
        int rc = insert_values(f, r, g->mask, &n, err);
        if (rc)
            return rc;
    }
    out->sql = alch__session_sql(f->s, SQL_INSERT, map, NULL, g->mask, g->ret, g->count, err);
    out->n = n;
    return out->sql ? 0 : ALCH_ENOMEM;
}

static int update_item(flush_ctx *f, alch__rec *r, uint64_t changed, alch__batch_item *out,
                       alch_error *err)
{
    const alch_model *m = r->model;
    size_t n = 0;
    for (size_t i = 0; i < m->ncolumns; i++) {
        if (!(changed & (1ULL << i)))
            continue;
        int rc = alch__field_value(m, &m->columns[i], r->obj, &f->vals[n], f->tmp[n], err);
        if (rc)
            return rc;
        n++;
    }
    int rc = alch__field_value(m, r->map->pk, r->flushed, &f->vals[n], f->tmp[n], err);
    if (rc)
        return rc;
    out->sql = alch__session_sql(f->s, SQL_UPDATE, r->map, NULL, changed, 0, 1, err);
    out->n = n + 1;
    return out->sql ? 0 : ALCH_ENOMEM;
}

static int delete_item(flush_ctx *f, alch__rec *r, alch__batch_item *out, alch_error *err)
{
    const alch_model *m = r->model;
    int rc = alch__field_value(m, r->map->pk, r->flushed ? r->flushed : r->obj, &f->vals[0],
                               f->tmp[0], err);
    if (rc)
        return rc;
    out->sql = alch__session_sql(f->s, SQL_DELETE, r->map, NULL, 0, 0, 1, err);
    out->n = 1;
    return out->sql ? 0 : ALCH_ENOMEM;
}

/* The keys of new parents into the foreign keys of group g's objects. ALCH__BATCH_LATER
 * when a parent's INSERT has not answered yet: the batch waits for it. */
static int apply_links(flush_ctx *f, const group *g, alch_error *err)
{
    alch__sop *op = f->s->op;
    for (size_t i = g->first; i < g->first + g->count; i++) {
        alch__plan_item *it = &op->plan[i];
        for (size_t k = it->link0; k < it->link0 + it->nlinks; k++) {
            const alch__link *l = &op->links[k];
            if (alch__link_ready(l)) {
                int rc = alch__link_apply(l, err);
                if (rc)
                    return rc;
                continue;
            }
            if (l->parent->pos < g->first)
                return ALCH__BATCH_LATER;
            alch__error_set(err, ALCH_EMISUSE,
                            "a new %s refers to a new %s that is inserted after it, so its "
                            "key is not known in time",
                            l->child->model->name, l->parent->model->name);
            alch__error_hint(err, "add the parent to the session before the child, or flush "
                                  "after adding the parent");
            return ALCH_EMISUSE;
        }
        if (it->nlinks && it->act == ACT_UPDATE)
            it->changed = alch__changed_columns(it->rec);
    }
    return 0;
}

/* The batch's next statement: group i. */
static int next_item(void *ctx, size_t i, alch__batch_item *out, alch_error *err)
{
    flush_ctx *f = ctx;
    const group *g = &f->groups[i];
    alch__plan_item *it = &f->s->op->plan[g->first];
    int rc = g->keys_stmt ? 0 : apply_links(f, g, err);
    if (rc)
        return rc;
    out->vals = f->vals;
    return it->act == ACT_INSERT   ? insert_item(f, g, out, err)
           : it->act == ACT_UPDATE ? update_item(f, it->rec, it->changed, out, err)
                                   : delete_item(f, it->rec, out, err);
}

static int item_done(void *ctx, size_t i, alch_result *res, alch_error *err);
static void on_flushed(alch_conn *c, int status, alch_result *res, const alch_error *err,
                       void *data);
static void on_single(alch_conn *c, int status, alch_result *res, const alch_error *err,
                      void *data);

/* The answer about f->ask's key column: kept by the factory, then the flush starts over. */
static void on_keysrc(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    (void)c;
    alch_session *s = data;
    if (!s->op) {
        alch_result_free(res);
        return;
    }
    flush_ctx *f = s->op->flush;
    bool seq = false;
    if (status == 0 && alch_result_rows(res) == 1 && !alch_result_is_null(res, 0, 0))
        status = alch_result_get_bool(res, 0, 0, &seq, NULL);
    alch_result_free(res);
    alch__keysrc *k = status == 0 ? malloc(sizeof *k) : NULL;
    if (k) {
        *k = (alch__keysrc){f->ask->model, seq, s->maker->keysrcs};
        s->maker->keysrcs = k;
    }
    alch__flush_ctx_free(f);
    s->op->flush = NULL;
    if (status || !k) {
        alch_error local = ALCH_ERROR_INIT;
        if (!status)
            alch__error_set(&local, ALCH_ENOMEM, "out of memory");
        alch__session_fail(s, status ? status : ALCH_ENOMEM, status ? err : &local);
        alch_error_clear(&local);
        return;
    }
    alch__flush_next(s);
}

/* Ask whether f->ask's new rows may take their keys first (keysrc_sql). */
static void ask_keysrc(alch_session *s, flush_ctx *f)
{
    alch_error err = ALCH_ERROR_INIT;
    table_text(f, f->ask->model);
    alch_value vals[2] = {alch_text(f->keys_table), alch_text(f->ask->pk->name)};
    int rc = alch__conn_exec(s->conn, keysrc_sql, vals, 2, on_keysrc, s, &err);
    if (rc)
        alch__session_fail(s, rc, &err);
    alch_error_clear(&err);
}

/* Send the whole plan in one pipeline; alch__session_step() runs again when it is done. */
void alch__flush_next(alch_session *s)
{
    alch__sop *op = s->op;
    if (op->nplan == 0) {
        alch__touched_clear(s);
        alch__session_step(s);
        return;
    }
    alch_error err = ALCH_ERROR_INIT;
    flush_ctx *f = calloc(1, sizeof *f);
    int rc = f ? 0 : alch__error_set(&err, ALCH_ENOMEM, "out of memory");
    if (f) {
        f->s = s;
        op->flush = f;
        rc = make_groups(f, op);
        if (rc == NEED_KEYSRC) {
            ask_keysrc(s, f);
            return;
        }
        rc = rc ? alch__error_set(&err, ALCH_ENOMEM, "out of memory") : 0;
    }
    if (rc == 0) {
        if (f->ngroups == 1) { /* one statement: no pipeline needed, the usual echo */
            alch__batch_item it = {0};
            rc = next_item(f, 0, &it, &err); /* never LATER: nothing comes before it */
            if (rc == 0)
                rc = alch__conn_exec(s->conn, it.sql, it.vals, it.n, on_single, s, &err);
        } else {
            rc =
                alch__conn_batch(s->conn, f->ngroups, next_item, item_done, f, on_flushed, s, &err);
        }
    }
    if (rc)
        alch__session_fail(s, rc, &err);
    alch_error_clear(&err);
}

/* An INSERTed object: what RETURNING brought (row `row` of res, unless res is NULL), then
 * its place in the identity map. */
static int after_insert(alch_session *s, alch__rec *r, alch_result *res, size_t row,
                        alch_error *err)
{
    const alch_model *m = r->model;
    size_t rcol = 0;
    for (size_t i = 0; res && i < m->ncolumns; i++) {
        if (!(r->generated & (1ULL << i)))
            continue;
        int rc = alch__field_load(m, &m->columns[i], r->obj, res, row, rcol++, &s->arena, err);
        if (rc)
            return rc;
    }
    alch__rec_set(s, r, ALCH_PERSISTENT, false);
    r->inserted_in_tx = true;
    r->flushed = alch__snapshot(s, m, r->obj);
    if (!r->flushed || alch__set_key(s, r) != 0)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* A multi-row INSERT came back: the sorted keys go to the objects in order. */
static int after_multi_insert(alch_session *s, const group *g, alch_result *res, alch_error *err)
{
    alch__plan_item *plan = s->op->plan;
    if (g->ret && alch_result_rows(res) != g->count)
        return alch__error_set(err, ALCH_EINTERNAL, "an INSERT of %zu rows returned %zu keys",
                               g->count, alch_result_rows(res));
    int64_t *keys = g->ret ? malloc(g->count * sizeof *keys) : NULL;
    if (g->ret && !keys)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    for (size_t k = 0; g->ret && k < g->count; k++) {
        int rc = alch_result_get_int(res, k, 0, &keys[k], err);
        if (rc) {
            free(keys);
            return rc;
        }
    }
    /* VALUES are numbered in their order; a sequence that counts down gives falling keys */
    bool down = keys && keys[0] > keys[g->count - 1];
    if (keys)
        qsort(keys, g->count, sizeof *keys, cmp_key);
    for (size_t k = 1; keys && k < g->count; k++)
        if (keys[k] == keys[k - 1]) {
            int64_t twice = keys[k];
            free(keys);
            return alch__error_set(err, ALCH_EINTERNAL,
                                   "an INSERT of %zu rows returned the key %" PRId64 " twice",
                                   g->count, twice);
        }
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < g->count; k++) {
        alch__rec *r = plan[g->first + k].rec;
        if (keys) {
            alch_value v = alch_int(keys[down ? g->count - 1 - k : k]);
            alch__field_set(r->map->pk, r->obj, &v);
        }
        rc = after_insert(s, r, NULL, 0, err);
    }
    free(keys);
    return rc;
}

/* A keys statement came back: min, max, count, and every key when they are not min..max.
 * Each key is one the sequence gave this session, so any order of them is right. */
static int keys_done(group *g, const alch_result *res, alch_error *err)
{
    int64_t lo = 0, hi = 0, n = 0;
    int rc = alch_result_rows(res) == 1 && !alch_result_is_null(res, 0, 0) ? 0 : ALCH_EINTERNAL;
    if (rc == 0)
        rc = alch_result_get_int(res, 0, 0, &lo, err) || alch_result_get_int(res, 0, 1, &hi, err) ||
             alch_result_get_int(res, 0, 2, &n, err);
    if (rc || n != (int64_t)g->count)
        return alch__error_set(err, ALCH_EINTERNAL,
                               "the key column's sequence gave %" PRId64 " keys for %zu new rows",
                               n, g->count);
    g->base = lo;
    if (!alch_result_is_null(res, 0, 3)) {
        const char *p = NULL;
        alch_result_get_text(res, 0, 3, &p, err);
        g->list = malloc(g->count * sizeof *g->list);
        if (!g->list)
            return alch__error_set(err, ALCH_ENOMEM, "out of memory");
        for (size_t k = 0; k < g->count; k++) { /* {1,3,5}: integers, no quotes, no NULLs */
            char *end;
            g->list[k] = strtoll(p + 1, &end, 10);
            if (end == p + 1 || (*end != ',' && *end != '}'))
                return alch__error_set(err, ALCH_EINTERNAL, "unreadable keys: %.40s", p);
            p = end;
        }
    } else if (hi - lo + 1 != n) {
        return alch__error_set(err, ALCH_EINTERNAL,
                               "keys %" PRId64 "..%" PRId64 " are not %" PRId64 " keys", lo, hi, n);
    }
    g->got = true;
    return 0;
}

/* A keyed INSERT came back: each object gets the key its row was sent with. */
static int keyed_done(flush_ctx *f, const group *g, alch_error *err)
{
    alch_session *s = f->s;
    const group *k = &f->groups[g->keys];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < g->count; i++) {
        alch__rec *r = s->op->plan[g->first + i].rec;
        size_t at = g->key_off + i;
        alch_value v = alch_int(k->list ? k->list[at] : k->base + (int64_t)at);
        alch__field_set(r->map->pk, r->obj, &v);
        rc = after_insert(s, r, NULL, 0, err);
    }
    return rc;
}

/* One statement of the plan came back: bring the objects' state up to date. */
static int item_done(void *ctx, size_t i, alch_result *res, alch_error *err)
{
    flush_ctx *f = ctx;
    alch_session *s = f->s;
    const group *g = &f->groups[i];
    alch__plan_item *it = &s->op->plan[g->first];
    int rc = 0;
    if (g->keys_stmt) {
        rc = keys_done(&f->groups[i], res, err);
        alch_result_free(res);
        return rc;
    }
    if (g->arrays && g->ret) {
        rc = keyed_done(f, g, err);
    } else if (it->act == ACT_INSERT && g->count > 1) {
        rc = after_multi_insert(s, g, res, err);
    } else if (it->act == ACT_INSERT) {
        rc = after_insert(s, it->rec, res, 0, err);
    } else if (it->act == ACT_UPDATE) {
        it->rec->flushed = alch__snapshot(s, it->rec->model, it->rec->obj);
        if (!it->rec->flushed)
            rc = alch__error_set(err, ALCH_ENOMEM, "out of memory");
    } else {
        alch__rec_set(s, it->rec, ALCH_DELETED, true);
    }
    s->op->cur = g->first + g->count;
    alch_result_free(res);
    return rc;
}

/* The one statement of a one-item plan came back. */
static void on_single(alch_conn *c, int status, alch_result *res, const alch_error *err, void *data)
{
    alch_session *s = data;
    alch_error local = ALCH_ERROR_INIT;
    if (status == 0 && s->op) {
        status = item_done(s->op->flush, 0, res, &local); /* takes the result */
        res = NULL;
        err = &local;
    }
    on_flushed(c, status, res, err, data);
    alch_error_clear(&local);
}

static void on_flushed(alch_conn *c, int status, alch_result *res, const alch_error *err,
                       void *data)
{
    (void)c;
    alch_session *s = data;
    alch_result_free(res);
    if (!s->op)
        return;
    alch__flush_ctx_free(s->op->flush);
    s->op->flush = NULL;
    if (status) {
        alch__session_fail(s, status, err);
        return;
    }
    alch__touched_clear(s); /* every change the plan saw is in the database now */
    alch__session_step(s);
}

/* Whether anything would be sent by a flush (so a commit with nothing to do needs no
 * connection at all). */
bool alch__has_changes(alch_session *s)
{
    for (alch__rec *r = s->first; r; r = r->next) {
        if (r->state == ALCH_PENDING || (r->state == ALCH_DELETED && !r->deleted_in_tx))
            return true;
        if (r->state == ALCH_PERSISTENT && r->flushed && alch__changed_columns(r))
            return true;
    }
    return false;
}
