#include "util/arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum {
    FIRST_BLOCK = 2 * 1024,
    BLOCK_SIZE = 32 * 1024,
    HUGE_BLOCK = ALCH__HUGE_PAGE, /* one huge page on x86-64 (and the usual aarch64) */
    HUGE_AFTER = 1024 * 1024,     /* an arena this full gets huge blocks */
};

struct alch__arena_block {
    alch__arena_block *next;
    size_t used;
    size_t cap;
    bool alone;  /* made for one allocation larger than a block's quarter */
    bool mapped; /* a huge block (alch__huge_alloc) */
    alignas(max_align_t) unsigned char mem[];
};

static size_t round_up(size_t n)
{
    size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

void *alch__huge_alloc(size_t size)
{
#ifdef MADV_HUGEPAGE
    size_t n = (size + HUGE_BLOCK - 1) / HUGE_BLOCK * HUGE_BLOCK, span = n + HUGE_BLOCK;
    unsigned char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    size_t head = (HUGE_BLOCK - (uintptr_t)m % HUGE_BLOCK) % HUGE_BLOCK;
    if (head)
        munmap(m, head);
    munmap(m + head + n, span - head - n);
    (void)madvise(m + head, n, MADV_HUGEPAGE); /* advice: refused is fine */
    return m + head;
#else
    return calloc(1, size);
#endif
}

void alch__huge_free(void *p, size_t size)
{
    if (!p)
        return;
#ifdef MADV_HUGEPAGE
    munmap(p, (size + HUGE_BLOCK - 1) / HUGE_BLOCK * HUGE_BLOCK);
#else
    (void)size;
    free(p);
#endif
}

/* A 2 MiB block on a 2 MiB boundary, so the kernel can back it with one huge page: one
 * fault instead of 512. Mapped directly, not from malloc: freeing a mapped malloc chunk of
 * 4 MiB would raise glibc's mmap threshold for the whole process (heap blocks up to 4 MiB,
 * zeroed by hand by calloc). */
static alch__arena_block *huge_block(void)
{
    alch__arena_block *b = alch__huge_alloc(HUGE_BLOCK);
    if (!b)
        return NULL;
    b->mapped = true;
    b->cap = HUGE_BLOCK - sizeof *b;
    return b;
}

/* A block with room for size bytes: a kept one, or a new one of the size the arena has
 * grown to. */
static alch__arena_block *block_new(alch__arena *a, size_t size, bool *alone)
{
    for (alch__arena_block **k = &a->kept; *k; k = &(*k)->next)
        if ((*k)->cap >= size) { /* the first kept block it fits in */
            alch__arena_block *b = *k;
            *k = b->next;
            *alone = false;
            return b;
        }
    alch__arena_block *b;
    size_t cap = !a->head && !a->held ? FIRST_BLOCK
                 : a->held >= HUGE_AFTER ? HUGE_BLOCK - sizeof *b
                                         : BLOCK_SIZE;
    *alone = size > cap / 4;
    if (*alone)
        cap = size;
    if (cap == HUGE_BLOCK - sizeof *b) {
        b = huge_block();
    } else {
        b = a->spare && cap == FIRST_BLOCK ? alch__freelist_get(a->spare)
                                           : malloc(sizeof *b + cap);
        if (b)
            b->mapped = false;
    }
    if (!b)
        return NULL;
    b->cap = cap;
    a->held += cap;
    return b;
}

void *alch__arena_alloc_raw(alch__arena *a, size_t size)
{
    size = round_up(size ? size : 1);
    alch__arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        bool alone;
        b = block_new(a, size, &alone);
        if (!b)
            return NULL;
        b->used = 0;
        b->alone = alone;
        if (alone && a->head) { /* keep filling the current block */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->mem + b->used;
    b->used += size;
    return p;
}

void *alch__arena_alloc(alch__arena *a, size_t size)
{
    size = round_up(size ? size : 1);
    void *p = alch__arena_alloc_raw(a, size);
    if (p)
        memset(p, 0, size);
    return p;
}

char *alch__arena_strndup(alch__arena *a, const char *s, size_t n)
{
    char *p = alch__arena_alloc_raw(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void *alch__arena_memdup(alch__arena *a, const void *src, size_t n)
{
    void *p = n ? alch__arena_alloc_raw(a, n) : alch__arena_alloc(a, n);
    if (p && n)
        memcpy(p, src, n);
    return p;
}

size_t alch__arena_first_size(void)
{
    return sizeof(alch__arena_block) + FIRST_BLOCK;
}

static void block_free(alch__arena *a, alch__arena_block *b)
{
    a->held -= b->cap;
    if (b->mapped)
        alch__huge_free(b, HUGE_BLOCK);
    else if (a->spare && b->cap == FIRST_BLOCK && !b->alone)
        alch__freelist_put(a->spare, b);
    else
        free(b);
}

void alch__arena_reset(alch__arena *a)
{
    for (alch__arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        if (b->alone) {
            block_free(a, b);
        } else {
            b->next = a->kept;
            a->kept = b;
        }
    }
    a->head = NULL;
}

void alch__arena_free(alch__arena *a)
{
    alch__arena_reset(a);
    for (alch__arena_block *b = a->kept, *next; b; b = next) {
        next = b->next;
        block_free(a, b);
    }
    a->kept = NULL;
}
