/* An arena: many small allocations freed in one call. Sessions keep the objects, strings
 * and snapshots they create here, so closing a session is one free, whatever it loaded. */
#ifndef ALCH_UTIL_ARENA_H
#define ALCH_UTIL_ARENA_H

#include <stddef.h>

typedef struct alch__arena_block alch__arena_block;

typedef struct alch__arena {
    alch__arena_block *head;
} alch__arena;

/* Zeroed memory aligned for any type, or NULL when out of memory. */
void *alch__arena_alloc(alch__arena *a, size_t size);
char *alch__arena_strndup(alch__arena *a, const char *s, size_t n);
void *alch__arena_memdup(alch__arena *a, const void *p, size_t n);
void alch__arena_free(alch__arena *a);

#endif
