/* "Did you mean ...?": the closest name to a misspelled one, for hints in error messages
 * (an unknown URL option, a foreign key naming an undeclared table or column). */
#ifndef ALCH_UTIL_SUGGEST_H
#define ALCH_UTIL_SUGGEST_H

#include <stddef.h>

/* Case-insensitive Levenshtein distance between a and b (ASCII letters folded; other bytes
 * compared as they are). Words longer than 64 bytes give up: (size_t)-1. */
size_t alch__edit_distance(const char *a, const char *b);

/* The candidate closest to word, or NULL when none is close enough to be a plausible typo.
 * "Close enough" grows with the word: 1 edit up to 3 characters, 2 up to 6, then 3 (so
 * "categories" finds "category"). A candidate that differs only in case is always close.
 * Ties go to the earlier candidate; NULL candidates are skipped. Returns a pointer into
 * candidates (nothing is allocated). */
const char *alch__suggest(const char *word, const char *const *candidates, size_t n);

#endif
