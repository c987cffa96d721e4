/* FNV-1a, the one hash of the library: statement cache keys (SQL text, parameter types),
 * identity keys and object pointers in the session's tables. Short keys, no adversary: a
 * simple byte-at-a-time hash is fast enough and spreads well. */
#ifndef ALCH_UTIL_HASH_H
#define ALCH_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ALCH__FNV_OFFSET 1469598103934665603ULL /* the 64-bit offset basis */

/* Continue hash h over n bytes at p (start with ALCH__FNV_OFFSET). */
static inline uint64_t alch__fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL; /* the 64-bit FNV prime */
    }
    return h;
}

static inline uint64_t alch__hash_str(const char *s)
{
    return alch__fnv1a(ALCH__FNV_OFFSET, s, strlen(s));
}

#endif
