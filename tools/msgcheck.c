/* msgcheck: every message the learner reads exists in English and in Russian.
 *
 *   msgcheck --tsv tools/messages.tsv --tutor tutor --manifest exercises/manifest.txt
 *            --c exercises/tests/check.h exercises/tests/test_01_driver.c ...
 *
 * - tools/messages.tsv (the tutor's table): three cells a row (key, English, Russian), no empty
 *   cell, no key twice, the same printf placeholders in both languages in the same order;
 * - tutor: every key it names (`say KEY`, `t KEY`) is a row of the table, every row is named;
 * - the manifest: each "NN hint: " line is followed by its "NN hint.ru: ", neither empty, and
 *   both name the same C calls (a word followed by '(');
 * - C sources: each MSG(en, ru), MSG_PAIR(en, ru), SAY(en, ru, ...), SAY_TO(stream, en, ru, ...)
 *   and MSGF(buf, en, ru, ...)
 *   has two string literals with the same placeholders (or the same expression twice: code,
 *   the same in both languages), none empty.
 *
 * Prints one line per fault and "ok: ..." with the counts; exits 1 on any fault. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int faults;

static void fault(const char *file, int line, const char *what, const char *detail)
{
    printf("FAIL: %s:%d: %s%s%s\n", file, line, what, detail ? ": " : "", detail ? detail : "");
    faults++;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fault(path, 0, "cannot read the file", NULL);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* The printf conversions of fmt, one letter each after its flags and width ("%-16s" -> "s";
 * "%%" is no conversion), written to out as "-16s|3d|". */
static void placeholders(const char *fmt, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        const char *start = p + 1;
        p = start + strspn(start, "-+ #0123456789.*lhzjt");
        if (!*p)
            break;
        int len = (int)(p - start) + 1;
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%.*s|", len, start);
    }
}

static void same_placeholders(const char *file, int line, const char *en, const char *ru)
{
    char a[256], b[256];
    placeholders(en, a, sizeof a);
    placeholders(ru, b, sizeof b);
    if (strcmp(a, b) != 0) {
        char detail[600];
        snprintf(detail, sizeof detail, "English has '%s', Russian '%s'", a, b);
        fault(file, line, "the two languages have different placeholders", detail);
    }
}

/* ---- the tutor's table ------------------------------------------------------------------- */
typedef struct row {
    char *key;
    bool used;
} row;
static row rows[1024];
static size_t nrows;

static void check_tsv(const char *path)
{
    char *text = slurp(path);
    if (!text)
        return;
    int line = 0;
    for (char *p = text, *next; *p; p = next) {
        line++;
        char *nl = strchr(p, '\n');
        next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        if (*p == '#' || *p == '\0')
            continue;
        char *cell[4] = {p, NULL, NULL, NULL};
        int cells = 1;
        for (char *q = p; *q && cells < 4; q++)
            if (*q == '\t') {
                *q = '\0';
                cell[cells++] = q + 1;
            }
        if (cells != 3) {
            fault(path, line, "a row has three cells: key, English, Russian", cell[0]);
            continue;
        }
        for (int i = 0; i < 3; i++)
            if (!*cell[i])
                fault(path, line, "an empty cell", cell[0]);
        for (size_t i = 0; i < nrows; i++)
            if (strcmp(rows[i].key, cell[0]) == 0)
                fault(path, line, "a key twice", cell[0]);
        same_placeholders(path, line, cell[1], cell[2]);
        if (nrows < sizeof rows / sizeof *rows)
            rows[nrows++] = (row){strdup(cell[0]), false};
    }
    free(text);
}

/* A sentence the tutor would print without the table: die/warn/step/note/info "Some words",
 * or a printf format holding a word of four letters (formats like '%s%s\n' are fine). */
static bool sentence_outside(const char *p)
{
    static const char *const printers[] = {"die \"", "warn \"", "step \"", "note \"", "info \""};
    for (size_t i = 0; i < sizeof printers / sizeof *printers; i++) {
        size_t n = strlen(printers[i]);
        if (strncmp(p, printers[i], n) == 0)
            return isalpha((unsigned char)p[n]);
    }
    if (strncmp(p, "printf '", 8) != 0 || strncmp(p + 8, "tutor: no message", 17) == 0)
        return false;
    int letters = 0;
    for (const char *q = p + 8; *q && *q != '\'' && *q != '\n'; q++) {
        if (strncmp(q, "tutor: ", 7) == 0) /* the program's name before its sentence */
            q += 6;
        letters = isalpha((unsigned char)*q) && q[-1] != '%' && q[-1] != '\\' ? letters + 1 : 0;
        if (letters == 4)
            return true;
    }
    return false;
}

/* Keys the tutor names: the word after "say " or "t " (at a word start, "$(t " included). */
static void check_tutor(const char *path)
{
    char *text = slurp(path);
    if (!text)
        return;
    int line = 1, named = 0;
    for (char *p = text; *p; p++) {
        if (*p == '\n') {
            line++;
            continue;
        }
        bool word_start = p == text || !(isalnum((unsigned char)p[-1]) || strchr("_-.$", p[-1]));
        if (word_start && sentence_outside(p))
            fault(path, line, "a sentence outside the table (say KEY, or \"$(t KEY ...)\")", NULL);
        size_t skip = strncmp(p, "say ", 4) == 0 ? 4 : strncmp(p, "t ", 2) == 0 ? 2 : 0;
        if (!skip || !word_start)
            continue;
        char *k = p + skip;
        if (*k == '"') /* t "selftest.$STAGE": a key completed at run time */
            k++;
        size_t n = strspn(k, "abcdefghijklmnopqrstuvwxyz_.0123456789");
        if (n == 0 || !memchr(k, '.', n))
            continue;
        bool prefix = k[n] == '$', found = false;
        for (size_t i = 0; i < nrows; i++)
            if (prefix ? strncmp(rows[i].key, k, n) == 0
                       : strlen(rows[i].key) == n && strncmp(rows[i].key, k, n) == 0) {
                rows[i].used = found = true;
                named++;
            }
        if (!found) {
            char key[128];
            snprintf(key, sizeof key, "%.*s", (int)n, k);
            fault(path, line, "the tutor names a message the table lacks", key);
        }
    }
    for (size_t i = 0; i < nrows; i++)
        if (!rows[i].used)
            fault(path, 0, "a message of the table the tutor never prints", rows[i].key);
    printf("ok: %d message keys named in %s\n", named, path);
    free(text);
}

/* ---- the manifest's hints -------------------------------------------------------------------- */
static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The C calls a hint names, "alch_base_add|db_open|", sorted out of order: the same set in both. */
static void calls(const char *s, char *out, size_t size)
{
    char names[64][64];
    int count = 0;
    for (const char *p = s; *p && count < 64; p++) {
        if (!(isalpha((unsigned char)*p) || *p == '_') ||
            (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_')))
            continue;
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
        if (p[n] == '(' && n < 64) {
            bool seen = false;
            for (int i = 0; i < count; i++)
                seen |= strlen(names[i]) == n && strncmp(names[i], p, n) == 0;
            if (!seen)
                snprintf(names[count++], 64, "%.*s", (int)n, p);
        }
        p += n - 1;
    }
    qsort(names, (size_t)count, sizeof names[0], by_name);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < count; i++)
        used += (size_t)snprintf(out + used, used < size ? size - used : 0, "%s|", names[i]);
}

static void check_manifest(const char *path)
{
    char *text = slurp(path);
    if (!text)
        return;
    int line = 0, hints = 0;
    char prev[4096] = "", prev_nn[3] = "";
    bool want_ru = false;
    for (char *p = text, *next; *p; p = next) {
        line++;
        char *nl = strchr(p, '\n');
        next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        bool hint = isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
                    strncmp(p + 2, " hint: ", 7) == 0;
        bool ru = isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
                  strncmp(p + 2, " hint.ru: ", 10) == 0;
        if (want_ru && !(ru && strncmp(p, prev_nn, 2) == 0))
            fault(path, line, "a hint without its Russian line after it (NN hint.ru: ...)", prev);
        if (ru && !want_ru)
            fault(path, line, "a Russian hint with no English hint just before it", p);
        if (ru && want_ru) {
            char a[1024], b[1024];
            if (!p[12])
                fault(path, line, "an empty Russian hint", NULL);
            calls(prev + 9, a, sizeof a);
            calls(p + 12, b, sizeof b);
            if (strcmp(a, b) != 0) {
                char detail[2100];
                snprintf(detail, sizeof detail, "English names '%s', Russian '%s'", a, b);
                fault(path, line, "the hint's two languages name different calls", detail);
            }
            hints++;
        }
        want_ru = hint;
        if (hint) {
            if (!p[9])
                fault(path, line, "an empty hint", NULL);
            snprintf(prev, sizeof prev, "%s", p);
            memcpy(prev_nn, p, 2);
        }
    }
    if (want_ru)
        fault(path, line, "the last hint has no Russian line after it", prev);
    printf("ok: %d hints in both languages in %s\n", hints, path);
    free(text);
}

/* ---- C sources ------------------------------------------------------------------------------ */
/* One argument from p: string literals (concatenated into lit) or any other expression (kept
 * whole in expr); returns where it ends (at ',' or ')' of depth 0), NULL on a parse fault. */
static const char *argument(const char *p, char *lit, size_t litsize, bool *is_lit, char *expr,
                            size_t exprsize)
{
    size_t nl = 0, ne = 0;
    int depth = 0;
    *is_lit = true;
    bool any = false;
    lit[0] = expr[0] = '\0';
    for (; *p; p++) {
        if (depth == 0 && (*p == ',' || *p == ')'))
            break;
        if (*p == '"') {
            any = true;
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (nl + 1 < litsize)
                    lit[nl++] = *p;
                if (ne + 1 < exprsize)
                    expr[ne++] = *p;
            }
            if (!*p)
                return NULL;
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        if (!isspace((unsigned char)*p)) {
            *is_lit = false;
            any = true;
            if (ne + 1 < exprsize)
                expr[ne++] = *p;
        }
    }
    lit[nl] = expr[ne] = '\0';
    return any && *p ? p : NULL;
}

static void check_c(const char *path)
{
    char *text = slurp(path);
    if (!text)
        return;
    static const struct {
        const char *name;
        int skip; /* arguments before the English one */
    } forms[] = {{"MSG(", 0}, {"MSG_PAIR(", 0}, {"SAY(", 0}, {"MSGF(", 1}, {"SAY_TO(", 1}};
    int line = 1, pairs = 0;
    bool directive = false;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            line++;
            directive = directive && p > text && p[-1] == '\\';
            continue;
        }
        if (*p == '#' && (p == text || p[-1] == '\n'))
            directive = true;             /* the macros' own definitions */
        if (p[0] == '/' && p[1] == '*') { /* a comment: skipped, its lines counted */
            for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
                line += *p == '\n';
            if (!*p)
                break;
            p++;
            continue;
        }
        if (p[0] == '/' && p[1] == '/') {
            while (p[1] && p[1] != '\n')
                p++;
            continue;
        }
        /* a literal outside the forms: skipped whole */
        if (*p == '"') {
            for (p++; *p && *p != '"' && *p != '\n'; p++)
                if (*p == '\\' && p[1])
                    p++;
            continue;
        }
        if (directive || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_')))
            continue;
        for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
            size_t n = strlen(forms[f].name);
            if (strncmp(p, forms[f].name, n) != 0)
                continue;
            const char *q = p + n;
            char en[2048], ru[2048], en_expr[2048], ru_expr[2048], skip[2048], skip_expr[2048];
            bool en_lit, ru_lit, skip_lit;
            for (int i = 0; q && i < forms[f].skip; i++) {
                q = argument(q, skip, sizeof skip, &skip_lit, skip_expr, sizeof skip_expr);
                q = q && *q == ',' ? q + 1 : NULL;
            }
            q = q ? argument(q, en, sizeof en, &en_lit, en_expr, sizeof en_expr) : NULL;
            q = q && *q == ',' ? argument(q + 1, ru, sizeof ru, &ru_lit, ru_expr, sizeof ru_expr)
                               : NULL;
            if (!q) {
                fault(path, line, forms[f].name, "not two arguments (English, Russian)");
            } else if (en_lit != ru_lit || (!en_lit && strcmp(en_expr, ru_expr) != 0)) {
                fault(path, line, forms[f].name,
                      "two string literals, or the same expression twice (code)");
            } else if (en_lit && (!*en || !*ru)) {
                fault(path, line, forms[f].name, "an empty message");
            } else {
                if (en_lit)
                    same_placeholders(path, line, en, ru);
                pairs++;
            }
            break;
        }
    }
    printf("ok: %d message pairs in %s\n", pairs, path);
    free(text);
}

int main(int argc, char **argv)
{
    const char *mode = NULL;
    const char *tutor = NULL;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            mode = argv[i];
        } else if (!mode) {
            fprintf(stderr,
                    "usage: msgcheck --tsv FILE --tutor FILE --manifest FILE --c FILE...\n");
            return 2;
        } else if (strcmp(mode, "--tsv") == 0) {
            check_tsv(argv[i]);
        } else if (strcmp(mode, "--tutor") == 0) {
            tutor = argv[i];
        } else if (strcmp(mode, "--manifest") == 0) {
            check_manifest(argv[i]);
        } else if (strcmp(mode, "--c") == 0) {
            check_c(argv[i]);
        }
    }
    if (tutor)
        check_tutor(tutor); /* after the table, whatever the order of the arguments */
    if (faults) {
        printf("%d fault(s): every message needs both languages (see the lines above)\n", faults);
        return 1;
    }
    printf("ok: every message is in English and in Russian\n");
    for (size_t i = 0; i < nrows; i++)
        free(rows[i].key);
    return 0;
}
