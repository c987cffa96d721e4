#include "util/arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

enum { FIRST_BLOCK = 2 * 1024, BLOCK_SIZE = 32 * 1024 };

struct alch__arena_block {
    alch__arena_block *next;
    size_t used;
    size_t cap;
    alignas(max_align_t) unsigned char mem[];
};

static size_t round_up(size_t n)
{
    size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

void *alch__arena_alloc(alch__arena *a, size_t size)
{
    size = round_up(size ? size : 1);
    alch__arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        /* small first (most sessions load a few rows), then full blocks */
        size_t block = a->head ? BLOCK_SIZE : FIRST_BLOCK;
        size_t cap = size > block / 4 ? size : block;
        b = a->spare && cap == FIRST_BLOCK ? alch__freelist_get(a->spare) : malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        if (cap == size && a->head) { /* a big one: keep filling the current block */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->mem + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *alch__arena_strndup(alch__arena *a, const char *s, size_t n)
{
    char *p = alch__arena_alloc(a, n + 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

void *alch__arena_memdup(alch__arena *a, const void *src, size_t n)
{
    void *p = alch__arena_alloc(a, n);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

size_t alch__arena_first_size(void)
{
    return sizeof(alch__arena_block) + FIRST_BLOCK;
}

void alch__arena_free(alch__arena *a)
{
    for (alch__arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        if (a->spare && b->cap == FIRST_BLOCK)
            alch__freelist_put(a->spare, b);
        else
            free(b);
    }
    a->head = NULL;
}
