/* An arena: many small allocations freed in one call. Sessions keep the objects, strings
 * and snapshots they create here, so closing a session is one free, whatever it loaded. */
#ifndef ALCH_UTIL_ARENA_H
#define ALCH_UTIL_ARENA_H

#include <stddef.h>

#include "util/freelist.h"

typedef struct alch__arena_block alch__arena_block;

typedef struct alch__arena {
    alch__arena_block *head;
    alch__freelist *spare; /* where the small first block comes from and goes back to, or NULL */
} alch__arena;

/* The size of an arena's small first block, header included: the chunk size of a free list
 * given as `spare`. */
size_t alch__arena_first_size(void);

/* Zeroed memory aligned for any type, or NULL when out of memory. */
void *alch__arena_alloc(alch__arena *a, size_t size);
char *alch__arena_strndup(alch__arena *a, const char *s, size_t n);
void *alch__arena_memdup(alch__arena *a, const void *p, size_t n);
void alch__arena_free(alch__arena *a);

#endif
