/* A growable byte buffer for building strings (SQL text, echo lines, messages).
 * Out of memory is sticky: once an append fails, buf.oom stays set and the text is
 * incomplete, so callers check once at the end instead of after every append. */
#ifndef ALCH_UTIL_BUF_H
#define ALCH_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct alch__buf {
    char *data; /* NUL-terminated when len > 0 or after alch__buf_finish */
    size_t len;
    size_t cap;
    bool oom;
} alch__buf;

#define ALCH__BUF_INIT {NULL, 0, 0, false}

void alch__buf_append(alch__buf *b, const char *s, size_t n);
void alch__buf_puts(alch__buf *b, const char *s);
void alch__buf_putc(alch__buf *b, char c);
void alch__buf_printf(alch__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the text over: returns a malloc'd string ("" when empty) or NULL on out of memory. */
char *alch__buf_finish(alch__buf *b);
void alch__buf_free(alch__buf *b);

/* Append a SQL identifier, quoted when it needs to be: `users` stays users, but `order`
 * (a keyword), `Users` (upper case) and `my table` become "order", "Users", "my table",
 * embedded quotes doubled. The SQL stays readable and every name stays safe. */
void alch__buf_ident(alch__buf *b, const char *name);

/* Characters (not bytes) in a UTF-8 string: what VARCHAR(n) counts. */
size_t alch__utf8_chars(const char *s);
/* Columns a terminal shows for a UTF-8 string (a wide character 2, a combining mark 0); a
 * byte that is not UTF-8 counts as one column. */
size_t alch__utf8_width(const char *s);

/* Make room for one more element in a growable array (items, with *cap slots, n used):
 * doubles the capacity (from `first`) when it is full. Returns the array, moved or not, or
 * NULL when out of memory (the old array is then still valid and unchanged):
 *   T *p = alch__grow(a->items, &a->cap, a->n, sizeof *p, 16); if (!p) ...; a->items = p; */
void *alch__grow(void *items, size_t *cap, size_t n, size_t size, size_t first);

/* The same for parallel arrays that share one capacity (arrays[i] holds elements of
 * sizes[i] bytes): when full, each is grown to the doubled capacity in turn, and *cap moves
 * only when all were. Every arrays[i] is valid afterwards, moved or not, so the caller
 * stores them all back before it looks at the result:
 *   void *a[] = {s->keys, s->values}; static const size_t sz[] = {sizeof *s->keys, ...};
 *   bool ok = alch__grow_parallel(a, sz, 2, &s->cap, s->n, 8);
 *   s->keys = a[0]; s->values = a[1]; if (!ok) ...
 * Returns false when out of memory (the arrays then keep their old capacity, some larger). */
bool alch__grow_parallel(void *arrays[], const size_t sizes[], size_t count, size_t *cap,
                         size_t n, size_t first);

/* strdup that tolerates NULL (returns NULL) */
char *alch__strdup(const char *s);
char *alch__strndup(const char *s, size_t n);

#endif
