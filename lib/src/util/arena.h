/* An arena: many small allocations freed in one call. Sessions keep the objects, strings
 * and snapshots they create here, so closing a session is one free, whatever it loaded.
 *
 * Blocks grow with the arena: a small first one (most sessions load a few rows), then 32 KiB,
 * then, once an arena holds 1 MiB, blocks of 2 MiB aligned on 2 MiB and offered to the kernel
 * for transparent huge pages (madvise MADV_HUGEPAGE, where it exists): a first touch of a
 * 4 KiB page is a page fault, and on the development VM one costs about 20 us, about as much
 * as reading a row (lib/bench/README.md, "W4 and W5: page faults"). */
#ifndef ALCH_UTIL_ARENA_H
#define ALCH_UTIL_ARENA_H

#include <stddef.h>

#include "util/freelist.h"

typedef struct alch__arena_block alch__arena_block;

typedef struct alch__arena {
    alch__arena_block *head;
    alch__arena_block *kept; /* blocks emptied by alch__arena_reset, used again first */
    size_t held;             /* bytes in blocks, kept ones included */
    alch__freelist *spare; /* where the small first block comes from and goes back to, or NULL */
} alch__arena;

/* The size of an arena's small first block, header included: the chunk size of a free list
 * given as `spare`. */
size_t alch__arena_first_size(void);

/* Zeroed memory aligned for any type, or NULL when out of memory. */
void *alch__arena_alloc(alch__arena *a, size_t size);
/* The same, not zeroed: for memory the caller writes whole at once (a copy). */
void *alch__arena_alloc_raw(alch__arena *a, size_t size);
char *alch__arena_strndup(alch__arena *a, const char *s, size_t n);
void *alch__arena_memdup(alch__arena *a, const void *p, size_t n);
/* Empty the arena but keep its blocks for what comes next (a stream's next batch): their
 * pages are already mapped. Blocks made for one large allocation are freed. */
void alch__arena_reset(alch__arena *a);
void alch__arena_free(alch__arena *a);

/* Zeroed memory for one large allocation (2 MiB and more pays), in whole 2 MiB pages on a
 * 2 MiB boundary offered for transparent huge pages: mapped directly, given back by
 * alch__huge_free with the same size. NULL when out of memory. */
void *alch__huge_alloc(size_t size);
void alch__huge_free(void *p, size_t size);
enum { ALCH__HUGE_PAGE = 2 * 1024 * 1024 };

#endif
