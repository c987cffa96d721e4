/* A free list: chunks of one size kept for reuse instead of going back to malloc. A
 * request path that allocates and frees the same few structs (a session's operation, its
 * first arena block, its identity map's first tables) then costs a pointer swap, where
 * glibc's per-thread cache (7 chunks per size) is soon empty with 32 requests in flight.
 *
 * Bounded (`max` chunks; past that a chunk is freed for real), single-threaded (a list
 * belongs to one session factory, used on its loop). A chunk on the list is poisoned for
 * AddressSanitizer and marked no-access for Valgrind, so a use of memory after its owner
 * let go is still reported while it waits here. */
#ifndef ALCH_UTIL_FREELIST_H
#define ALCH_UTIL_FREELIST_H

#include <stddef.h>

typedef struct alch__freelist {
    void *head;  /* the chunks kept, linked through their first word */
    size_t n;    /* how many */
    size_t max;  /* at most */
    size_t size; /* each chunk's size (at least a pointer's) */
} alch__freelist;

/* A chunk of fl->size bytes, not zeroed: a kept one, or a new one from malloc (NULL when out
 * of memory). */
void *alch__freelist_get(alch__freelist *fl);
/* p (a chunk of fl->size bytes, or NULL) is kept for the next get, or freed when the list is
 * full. */
void alch__freelist_put(alch__freelist *fl, void *p);
/* Free every chunk kept. */
void alch__freelist_drain(alch__freelist *fl);

#endif
