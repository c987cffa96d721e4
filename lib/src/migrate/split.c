/* Splitting a migration step's SQL into statements. The extended protocol that alch speaks
 * (one statement per round trip, with echo) takes one statement at a time, and a step is
 * naturally written as a script; the scanner knows just enough of PostgreSQL's lexer to find
 * the semicolons that end statements. */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/migrate_internal.h"
#include "util/buf.h"

/* The length of a dollar-quote tag starting at p ("$$" or "$tag$"), or 0 when p starts none. */
static size_t dollar_tag(const char *p)
{
    size_t n = 1;
    while (isalnum((unsigned char)p[n]) || p[n] == '_')
        n++;
    if (p[n] != '$' || isdigit((unsigned char)p[1])) /* $1 is a parameter, not a tag */
        return 0;
    return n + 1;
}

/* Where the quoted part or comment starting at p ends (just after it); p itself when p starts
 * none. Unterminated ones run to the end of the text: the server will say what is wrong. */
static const char *skip_quoted(const char *p)
{
    if (p[0] == '-' && p[1] == '-')
        return p + strcspn(p, "\n");
    if (p[0] == '/' && p[1] == '*') {
        const char *end = strstr(p + 2, "*/");
        return end ? end + 2 : p + strlen(p);
    }
    if (p[0] == '\'' || p[0] == '"') {
        const char *q = p + 1;
        while (*q && !(*q == p[0] && q[1] != p[0]))
            q += *q == p[0] ? 2 : 1; /* a doubled quote stays inside */
        return *q ? q + 1 : q;
    }
    size_t tag = p[0] == '$' ? dollar_tag(p) : 0;
    if (tag) {
        const char *q = p + tag;
        while (*q && strncmp(q, p, tag) != 0)
            q++;
        return *q ? q + tag : q;
    }
    return p;
}

static bool is_comment(const char *p)
{
    return (p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*');
}

/* Trim [start, end) and add it to the list when it holds code. */
static int take(const char *start, const char *end, bool code, char ***out, size_t *n,
                size_t *cap)
{
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    if (!code)
        return 0;
    char **grown = alch__grow(*out, cap, *n, sizeof **out, 8);
    if (!grown)
        return -1;
    *out = grown;
    char *s = alch__strndup(start, (size_t)(end - start));
    if (!s)
        return -1;
    (*out)[(*n)++] = s;
    return 0;
}

int alch__split_sql(const char *sql, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    const char *start = sql;
    bool code = false; /* the current piece has something besides blanks and comments */
    for (const char *p = sql; *p;) {
        const char *after = skip_quoted(p);
        if (after != p) {
            code |= !is_comment(p);
            p = after;
        } else if (*p == ';') {
            if (take(start, p, code, out, n, &cap) != 0)
                goto oom;
            start = ++p;
            code = false;
        } else {
            code |= !isspace((unsigned char)*p);
            p++;
        }
    }
    if (take(start, start + strlen(start), code, out, n, &cap) == 0)
        return 0;
oom:
    alch__split_free(*out, *n);
    *out = NULL;
    *n = 0;
    return -1;
}

void alch__split_free(char **stmts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(stmts[i]);
    free(stmts);
}
