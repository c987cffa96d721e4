#include "util/suggest.h"

#include <string.h>

static char fold(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

size_t alch__edit_distance(const char *a, const char *b)
{
    enum { MAX = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAX || lb > MAX)
        return (size_t)-1;
    /* one row of the classic table, updated in place: row[j] = distance(a[0..i), b[0..j)) */
    size_t row[MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* How many edits still read as a typo of a word this long rather than another word. */
static size_t max_edits(size_t len)
{
    size_t limit = (len + 2) / 3;
    if (limit < 1)
        return 1;
    return limit > 3 ? 3 : limit;
}

const char *alch__suggest(const char *word, const char *const *candidates, size_t n)
{
    if (!word || !candidates)
        return NULL;
    const char *best = NULL;
    size_t best_d = max_edits(strlen(word)) + 1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i])
            continue;
        size_t d = alch__edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}
