/* The library's hash functions, all here. FNV-1a, the hash of short keys: parameter types,
 * identity keys and object pointers in the session's tables (no adversary: a byte-at-a-time
 * hash is fast enough and spreads well). SQL text, hashed once per statement run by the
 * statement cache and 100-300 bytes long, is read eight bytes at a time (alch__hash_str). */
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

/* 32-bit FNV-1a of a string: the fingerprint that ends a generated constraint name cut to
 * fit 63 bytes (base/ddl.c). It is part of names stored in databases: it must never change. */
static inline uint32_t alch__fnv1a32(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* A string's hash, eight bytes per step (FNV-1a over a word, then a shift to carry the high
 * bits down), the last 0-7 bytes by FNV-1a: about a sixth of the byte-at-a-time loop's
 * instructions on a 150-byte SELECT. Equal strings hash equal; the cache compares the text
 * too. */
static inline uint64_t alch__hash_str(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = ALCH__FNV_OFFSET ^ n;
    for (; n >= 8; n -= 8, s += 8) {
        uint64_t w;
        memcpy(&w, s, sizeof w);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL; /* 2^64 / the golden ratio, odd */
        h ^= h >> 29;
    }
    return alch__fnv1a(h, s, n);
}

#endif
