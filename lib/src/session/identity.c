/* The session's bookkeeping: which objects it tracks (by pointer), the identity map (by
 * table + primary key), and snapshots of column values for change tracking and rollback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/session_internal.h"
#include "util/buf.h"
#include "util/hash.h"

static size_t ptr_slot(const alch_session *s, const void *obj)
{
    uintptr_t v = (uintptr_t)obj;
    return (size_t)(alch__fnv1a(ALCH__FNV_OFFSET, &v, sizeof v) & (s->nbuckets - 1));
}

alch__rec *alch__rec_by_ptr(const alch_session *s, const void *obj)
{
    if (!s->nbuckets)
        return NULL;
    for (alch__rec *r = s->by_ptr[ptr_slot(s, obj)]; r; r = r->next_ptr)
        if (r->obj == obj)
            return r;
    return NULL;
}

alch__rec *alch__rec_by_key(const alch_session *s, uint64_t h, const char *key)
{
    if (!s->nbuckets)
        return NULL;
    for (alch__rec *r = s->by_key[h & (s->nbuckets - 1)]; r; r = r->next_key)
        if (r->key && r->keyhash == h && strcmp(r->key, key) == 0)
            return r;
    return NULL;
}

void alch__link_key(alch_session *s, alch__rec *r)
{
    size_t i = r->keyhash & (s->nbuckets - 1);
    r->next_key = s->by_key[i];
    s->by_key[i] = r;
}

static void unlink_key(alch_session *s, alch__rec *r)
{
    if (!r->key)
        return;
    alch__rec **p = &s->by_key[r->keyhash & (s->nbuckets - 1)];
    while (*p && *p != r)
        p = &(*p)->next_key;
    if (*p)
        *p = r->next_key;
    r->key = NULL;
}

/* A table of n buckets, zeroed; the first size from the factory's free list. */
static alch__rec **table_new(alch_session *s, size_t n)
{
    if (n != ALCH__FIRST_BUCKETS)
        return calloc(n, sizeof(alch__rec *));
    alch__rec **t = alch__freelist_get(&s->maker->tables);
    if (t)
        memset(t, 0, n * sizeof *t);
    return t;
}

void alch__tables_free(alch_session *s, size_t n, alch__rec **by_ptr, alch__rec **by_key)
{
    if (n == ALCH__FIRST_BUCKETS) {
        alch__freelist_put(&s->maker->tables, by_ptr);
        alch__freelist_put(&s->maker->tables, by_key);
    } else {
        free(by_ptr);
        free(by_key);
    }
}

/* Tables of n buckets (a power of two) with every record linked in again. */
static int resize(alch_session *s, size_t n)
{
    alch__rec **ptrs = table_new(s, n), **keys = table_new(s, n);
    if (!ptrs || !keys) {
        alch__tables_free(s, n, ptrs, keys);
        return ALCH_ENOMEM;
    }
    alch__tables_free(s, s->nbuckets, s->by_ptr, s->by_key);
    s->by_ptr = ptrs;
    s->by_key = keys;
    s->nbuckets = n;
    for (alch__rec *r = s->first; r; r = r->next) {
        if (r->state == ALCH_TRANSIENT)
            continue;
        size_t i = ptr_slot(s, r->obj);
        r->next_ptr = s->by_ptr[i];
        s->by_ptr[i] = r;
        if (r->key)
            alch__link_key(s, r);
    }
    return 0;
}

int alch__identity_reserve(alch_session *s, size_t more)
{
    size_t n = s->nbuckets ? s->nbuckets : ALCH__FIRST_BUCKETS;
    while (n < s->nrecs + more)
        n *= 2;
    return n == s->nbuckets ? 0 : resize(s, n);
}

/* The identity key: the table, a separator, and the primary key as text, built on the stack
 * (it is looked up far more often than kept) and copied to the arena only when a record
 * keeps it. */
static size_t put_int(char *out, int64_t v)
{
    char digits[24];
    size_t n = 0, len = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = digits[--n];
    return len;
}

int alch__key_make(const alch_model *m, const alch_value *v, alch__key *k)
{
    size_t tl = strlen(m->table);
    size_t vlen = v->type == ALCH_V_TEXT || v->type == ALCH_V_BYTES ? v->len : 32;
    char *out = k->text;
    k->heap = NULL;
    if (tl + 1 + vlen + 1 > sizeof k->text) {
        out = k->heap = malloc(tl + 1 + vlen + 1);
        if (!out)
            return ALCH_ENOMEM;
    }
    memcpy(out, m->table, tl);
    size_t len = tl;
    out[len++] = '\x1f';
    switch (v->type) {
    case ALCH_V_INT:
        len += put_int(out + len, v->u.i);
        break;
    case ALCH_V_TEXT:
    case ALCH_V_BYTES:
        memcpy(out + len, v->u.s, v->len);
        len += v->len;
        break;
    case ALCH_V_BOOL:
        out[len++] = v->u.b ? 't' : 'f';
        break;
    case ALCH_V_DOUBLE:
        len += (size_t)snprintf(out + len, 32, "%.17g", v->u.d);
        break;
    default:
        memcpy(out + len, "\x01null", 5);
        len += 5;
        break;
    }
    out[len] = '\0';
    k->s = out;
    k->len = len;
    k->hash = alch__fnv1a(ALCH__FNV_OFFSET, out, len);
    return 0;
}

int alch__key_of(const alch__mapper *map, const void *obj, alch__key *k)
{
    alch_value v;
    char tmp[ALCH__FIELD_TMP];
    if (alch__field_value(map->model, map->pk, obj, &v, tmp, NULL) != 0)
        v = alch_null();
    return alch__key_make(map->model, &v, k);
}

void alch__key_done(alch__key *k)
{
    free(k->heap);
    k->heap = NULL;
}

const char *alch__key_keep(alch_session *s, const alch__key *k)
{
    return alch__arena_strndup(&s->arena, k->s, k->len);
}

static bool unflushed(const alch__rec *r)
{
    return r->state == ALCH_PENDING || (r->state == ALCH_DELETED && !r->deleted_in_tx);
}

void alch__rec_set(alch_session *s, alch__rec *r, alch_object_state st, bool deleted_in_tx)
{
    s->unflushed -= unflushed(r);
    r->state = st;
    r->deleted_in_tx = deleted_in_tx;
    s->unflushed += unflushed(r);
}

/* Start tracking an object; it goes to the end of the add order. */
alch__rec *alch__track(alch_session *s, const alch__mapper *map, void *obj, alch_object_state st)
{
    if (s->nrecs + 1 > s->nbuckets && alch__identity_reserve(s, 1) != 0)
        return NULL;
    alch__rec *r = alch__arena_alloc(&s->arena, sizeof *r);
    if (!r)
        return NULL;
    r->model = map->model;
    r->map = map;
    r->obj = obj;
    r->state = st;
    s->unflushed += unflushed(r);
    r->seq = ++s->seq;
    size_t i = ptr_slot(s, obj);
    r->next_ptr = s->by_ptr[i];
    s->by_ptr[i] = r;
    alch__touch(s, r); /* new, or loaded and about to be handed out */
    if (s->last)
        s->last->next = r;
    else
        s->first = r;
    s->last = r;
    s->nrecs++;
    return r;
}

void alch__touch(alch_session *s, alch__rec *r)
{
    if (r->touched == s->epoch)
        return;
    alch__rec **set = alch__grow(s->touched, &s->captouched, s->ntouched, sizeof *set, 64);
    if (!set) {
        s->touch_lost = true;
        return;
    }
    s->touched = set;
    r->touched = s->epoch;
    s->touched[s->ntouched++] = r;
}

void alch__touched_clear(alch_session *s)
{
    s->ntouched = 0;
    s->epoch++;
    s->touch_lost = false;
}

/* Stop tracking: the object becomes transient. Its record stays in the list, inert. */
void alch__untrack(alch_session *s, alch__rec *r)
{
    alch__rec **p = &s->by_ptr[ptr_slot(s, r->obj)];
    while (*p && *p != r)
        p = &(*p)->next_ptr;
    if (*p)
        *p = r->next_ptr;
    unlink_key(s, r);
    alch__rec_set(s, r, ALCH_TRANSIENT, false);
    s->nrecs--;
}

int alch__set_key(alch_session *s, alch__rec *r)
{
    alch__key k;
    if (alch__key_of(r->map, r->obj, &k) != 0)
        return ALCH_ENOMEM;
    const char *key = alch__key_keep(s, &k);
    alch__key_done(&k);
    if (!key)
        return ALCH_ENOMEM;
    unlink_key(s, r);
    r->key = key;
    r->keyhash = k.hash;
    alch__link_key(s, r);
    return 0;
}

/* A copy of the column values (strings duplicated) in the session's arena. */
void *alch__snapshot(alch_session *s, const alch_model *m, const void *obj)
{
    void *copy = alch__arena_alloc(&s->arena, m->size);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < m->ncolumns; i++)
        if (alch__field_copy(&m->columns[i], copy, obj, &s->arena) != 0)
            return NULL;
    return copy;
}

void *alch__snapshot_loaded(alch_session *s, const alch_model *m, const void *obj)
{
    return alch__arena_memdup(&s->arena, obj, m->size);
}

void alch__restore(alch_session *s, const alch_model *m, void *obj, const void *snap)
{
    for (size_t i = 0; i < m->ncolumns; i++)
        alch__field_copy(&m->columns[i], obj, snap, &s->arena);
}
