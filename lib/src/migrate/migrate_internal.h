/* What the migrations need inside their room. */
#ifndef ALCH_MIGRATE_INTERNAL_H
#define ALCH_MIGRATE_INTERNAL_H

#include <stddef.h>

/* Split SQL text into its statements at the semicolons that end them: not those inside
 * '...', "...", $tag$...$tag$, -- comments or block comments. Each statement is trimmed of
 * surrounding blanks and of its ';'; a piece with nothing but blanks and comments is dropped.
 * *out receives a malloc'd array of malloc'd strings (free with alch__split_free()).
 * Returns 0, or -1 when out of memory (nothing to free then). */
int alch__split_sql(const char *sql, char ***out, size_t *n);
void alch__split_free(char **stmts, size_t n);

#endif
