/* A quarantine: the headers of the last few closed sessions (or freed results) stay allocated,
 * marked dead, before they are really freed. A call on a handle the program already closed
 * then reads defined memory and says "this session was closed" (a MisuseError) instead of
 * crashing or reading whatever the allocator put there. Only the small header waits here;
 * everything it owned (rows, strings, the PGresult) is freed at once, so a use of that memory
 * is still caught by AddressSanitizer or Valgrind.
 *
 * A handle older than the last ALCH__QUARANTINE_SIZE is freed for real: a call on it is
 * undefined again (likely caught anyway, as freeing overwrites the header's first word, its
 * magic). Thread-safe; what is left is freed when the program exits. */
#ifndef ALCH_UTIL_QUARANTINE_H
#define ALCH_UTIL_QUARANTINE_H

#include <stdatomic.h>
#include <stddef.h>

enum { ALCH__QUARANTINE_SIZE = 32 };

typedef struct alch__quarantine {
    _Atomic(void *) slot[ALCH__QUARANTINE_SIZE];
    atomic_size_t next;
    void (*release)(void *p); /* frees one header for real */
} alch__quarantine;

/* Keep @p p; the oldest header kept, when the quarantine is full, is released. */
void alch__quarantine_put(alch__quarantine *q, void *p);

/* Release every header kept (at exit). */
void alch__quarantine_drain(alch__quarantine *q);

#endif
