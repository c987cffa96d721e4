/**
 * @file outcheck.c
 * @brief Run a lesson program and check its output against an expected file.
 *
 *     outcheck [--url-file F] [--db NAME] [--env NAME=FILE]... [--update] EXPECTED -- PROGRAM ARGS...
 *
 * The program runs with stdout and stderr merged (so the echoed SQL and the results appear in
 * the order a reader sees them) and its output must match EXPECTED line by line. In EXPECTED,
 * `{*}` matches any run of characters within one line: timings, pids, versions, socket paths.
 *
 * The database URL is `ALCH_DATABASE_URL` when set, else the content of the --url-file. With
 * --db NAME the program gets a fresh database of its own (NAME plus outcheck's pid, so two
 * build trees sharing one server do not collide): created before the run, passed to the
 * program as `ALCH_DATABASE_URL`, and dropped afterwards, whatever happened.
 *
 * --env NAME=FILE sets the program's environment variable NAME to the first line of FILE,
 * after ALCH_DATABASE_URL (so it may replace it): for a URL that a test fixture writes when it
 * starts, such as PgBouncer's or a standby's. A missing or empty FILE is an error.
 *
 * --update writes the program's output to EXPECTED instead of comparing (for maintainers), but
 * only when the program succeeded: a crash is never recorded as the expected output.
 *
 * Exit status: 0 when the output matches, 1 otherwise, 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

enum { TIMEOUT_SECONDS = 60, MAX_IDENT = 63 };

static const char WILDCARD[] = "{*}";

/* --- small helpers -------------------------------------------------------------------------- */

/** A growable byte buffer; `data` is always NUL-terminated once anything was appended. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} buffer;

static bool buffer_append(buffer *b, const char *bytes, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data)
            return false;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static const char *buffer_text(const buffer *b)
{
    return b->data ? b->data : "";
}

/** Read a whole file into @p out; false (with errno set) when it cannot be read. */
static bool read_file(const char *path, buffer *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char chunk[8192];
    size_t n;
    bool ok = true;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (!buffer_append(out, chunk, n)) {
            ok = false;
            break;
        }
    }
    if (ferror(f))
        ok = false;
    fclose(f);
    if (ok && !out->data)
        ok = buffer_append(out, "", 0);
    return ok;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* --- URLs ----------------------------------------------------------------------------------- */

/**
 * Return a malloc'd copy of @p url (scheme://authority/path?query) whose path names database
 * @p db (which must need no quoting or percent-encoding); a `dbname=` query parameter, which
 * would win over the path, is dropped. A key=value connection string gets ` dbname=DB`
 * appended (the last keyword wins). NULL when memory runs out.
 */
static char *url_with_database(const char *url, const char *db)
{
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end) {
        buffer kv = {0};
        if (!buffer_append(&kv, url, strlen(url)) || !buffer_append(&kv, " dbname=", 8) ||
            !buffer_append(&kv, db, strlen(db))) {
            free(kv.data);
            return NULL;
        }
        return kv.data;
    }
    const char *authority = scheme_end + 3;
    const char *authority_end = authority + strcspn(authority, "/?#");
    const char *query = strchr(authority_end, '?');

    buffer out = {0};
    bool ok = buffer_append(&out, url, (size_t)(authority_end - url)) &&
              buffer_append(&out, "/", 1) && buffer_append(&out, db, strlen(db));
    if (ok && query) {
        /* Keep every parameter but dbname. */
        const char *p = query + 1;
        bool first = true;
        while (ok && *p && *p != '#') {
            size_t n = strcspn(p, "&#");
            if (!(n >= 7 && strncmp(p, "dbname=", 7) == 0)) {
                ok = buffer_append(&out, first ? "?" : "&", 1) && buffer_append(&out, p, n);
                first = false;
            }
            p += n;
            if (*p == '&')
                p++;
        }
    }
    if (!ok) {
        free(out.data);
        return NULL;
    }
    return out.data;
}

/** The URL to use: ALCH_DATABASE_URL, else the trimmed content of @p url_file; malloc'd. */
static char *resolve_url(const char *url_file)
{
    const char *env = getenv("ALCH_DATABASE_URL");
    if (env && *env)
        return strdup(env);
    if (!url_file) {
        fprintf(stderr, "outcheck: no database: set ALCH_DATABASE_URL or pass --url-file\n");
        return NULL;
    }
    buffer content = {0};
    if (!read_file(url_file, &content)) {
        fprintf(stderr,
                "outcheck: cannot read the URL file %s: %s\n"
                "  (the PostgreSQL sandbox writes it: is the test fixture pgsandbox.start run?)\n",
                url_file, strerror(errno));
        free(content.data);
        return NULL;
    }
    char *url = strdup(trim(content.data));
    free(content.data);
    if (url && !*url) {
        fprintf(stderr, "outcheck: the URL file %s is empty\n", url_file);
        free(url);
        return NULL;
    }
    return url;
}

/* --- the per-run database ------------------------------------------------------------------- */

/** Run one command on @p admin; print the error and return false when it fails. */
static bool exec_ok(PGconn *admin, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = PQexecParams(admin, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "outcheck: %s\n  failed: %s", sql, PQerrorMessage(admin));
    PQclear(res);
    return ok;
}

/** DROP DATABASE IF EXISTS @p db, first ending any session still connected to it. */
/* Run "<verb><database name>": a name cannot be a bound parameter, so it is quoted with
 * PQescapeIdentifier instead. */
static bool exec_on_database(PGconn *admin, const char *verb, const char *db)
{
    char *ident = PQescapeIdentifier(admin, db, strlen(db));
    if (!ident) {
        fprintf(stderr, "outcheck: %s", PQerrorMessage(admin));
        return false;
    }
    char *sql = malloc(strlen(verb) + strlen(ident) + 1);
    bool ok = false;
    if (sql) {
        strcpy(sql, verb);
        strcat(sql, ident);
        ok = exec_ok(admin, sql, 0, NULL);
    }
    free(sql);
    PQfreemem(ident);
    return ok;
}

static bool drop_database(PGconn *admin, const char *db)
{
    const char *params[] = {db};
    if (!exec_ok(admin,
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                 " WHERE datname = $1 AND pid <> pg_backend_pid()",
                 1, params))
        return false;
    return exec_on_database(admin, "DROP DATABASE IF EXISTS ", db);
}

static bool create_database(PGconn *admin, const char *db)
{
    return exec_on_database(admin, "CREATE DATABASE ", db);
}

static void ignore_notice(void *arg, const char *message)
{
}

/**
 * Connect to @p url for creating or dropping a database; NULL (and a message) on failure. A
 * fresh connection each time: one held across the run would die with a server restart.
 */
static PGconn *admin_connect(const char *url, const char *why, const char *db)
{
    PGconn *admin = PQconnectdb(url);
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "outcheck: cannot connect to %s the database %s: %s", why, db,
                PQerrorMessage(admin));
        PQfinish(admin);
        return NULL;
    }
    PQsetNoticeProcessor(admin, ignore_notice, NULL); /* "does not exist, skipping" */
    return admin;
}

/** NAME lower-cased, anything but [a-z0-9_] made '_', plus "_<pid>", within 63 bytes. */
static char *database_name(const char *name)
{
    char suffix[32];
    int slen = snprintf(suffix, sizeof suffix, "_%ld", (long)getpid());
    size_t keep = strlen(name);
    if (keep > (size_t)(MAX_IDENT - slen))
        keep = (size_t)(MAX_IDENT - slen);
    char *db = malloc(keep + (size_t)slen + 1);
    if (!db)
        return NULL;
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)tolower((unsigned char)name[i]);
        db[i] = (isalnum(c) && c < 128) || c == '_' ? (char)c : '_';
    }
    memcpy(db + keep, suffix, (size_t)slen + 1);
    return db;
}

/* --- running the program -------------------------------------------------------------------- */

typedef struct {
    buffer output;
    int status; /**< as from waitpid */
    bool timed_out;
} run_result;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child: its own process group, stdout and stderr into the pipe, stdin from /dev/null,
 * the environment set, then the program. */
static _Noreturn void exec_child(const int fds[2], char *const argv[], const char *url,
                                 char *const env[])
{
    setpgid(0, 0);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    if (url)
        setenv("ALCH_DATABASE_URL", url, 1);
    for (int i = 0; env[i]; i++)
        putenv(env[i]);
    execvp(argv[0], argv);
    fprintf(stderr, "outcheck: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Read the pipe until every writer is gone or TIMEOUT_SECONDS pass (r->timed_out); false when
 * out of memory (then r->timed_out too, so the child is stopped the same way). */
static bool collect_output(int fd, run_result *r)
{
    double deadline = now_seconds() + TIMEOUT_SECONDS;
    char chunk[8192];
    for (;;) {
        double left = deadline - now_seconds();
        if (left <= 0) {
            r->timed_out = true;
            return true;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            continue; /* deadline check at the loop's top */
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return true; /* EOF: every writer is gone */
        if (!buffer_append(&r->output, chunk, (size_t)got)) {
            fprintf(stderr, "outcheck: out of memory\n");
            r->timed_out = true;
            return false;
        }
    }
}

/**
 * Run @p argv with stdout+stderr into one pipe and ALCH_DATABASE_URL set to @p url (when not
 * NULL) and then each NAME=VALUE of @p env (NULL-terminated); collect everything it prints. The child gets its own process group so a timeout kills
 * whatever it started too. Returns false when the program could not be started at all.
 */
static bool run_program(char *const argv[], const char *url, char *const env[], run_result *r)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("outcheck: pipe");
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("outcheck: fork");
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0)
        exec_child(fds, argv, url, env);
    close(fds[1]);
    bool ok = collect_output(fds[0], r);
    close(fds[0]);
    if (r->timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
    while (waitpid(pid, &r->status, 0) < 0) {
        if (errno != EINTR) {
            perror("outcheck: waitpid");
            return false;
        }
    }
    if (!r->output.data)
        buffer_append(&r->output, "", 0);
    return ok;
}

/* --- comparing ------------------------------------------------------------------------------ */

/** Does @p text (length @p tlen) match @p pat (length @p plen), where `{*}` is a wildcard? */
static bool line_matches(const char *pat, size_t plen, const char *text, size_t tlen)
{
    const size_t wlen = sizeof WILDCARD - 1;
    size_t p = 0, t = 0;
    size_t star_p = (size_t)-1, star_t = 0; /* where the last wildcard was, for backtracking */
    while (t < tlen) {
        if (p + wlen <= plen && memcmp(pat + p, WILDCARD, wlen) == 0) {
            p += wlen;
            star_p = p;
            star_t = t;
        } else if (p < plen && pat[p] == text[t]) {
            p++;
            t++;
        } else if (star_p != (size_t)-1) {
            p = star_p;
            t = ++star_t;
        } else {
            return false;
        }
    }
    while (p + wlen <= plen && memcmp(pat + p, WILDCARD, wlen) == 0)
        p += wlen;
    return p == plen;
}

/** Line @p index (0-based) of @p text: its start and length; false past the last line. */
static bool nth_line(const char *text, size_t len, size_t index, const char **start, size_t *n)
{
    const char *p = text, *end = text + len;
    for (size_t i = 0; i < index; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return false;
        p = nl + 1;
    }
    if (p == end)
        return false; /* a final newline does not start another line */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *start = p;
    *n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    return true;
}

static void print_output(const char *what, const buffer *out)
{
    fprintf(stderr, "--- %s ---\n%s", what, buffer_text(out));
    if (out->len > 0 && out->data[out->len - 1] != '\n')
        fputs("\n(no newline at the end)\n", stderr);
    fputs("--- end ---\n", stderr);
}

/** Compare line by line; on the first difference, say where and show everything. */
static bool compare(const char *expected_path, const buffer *expected, const buffer *actual)
{
    for (size_t i = 0;; i++) {
        const char *e, *a;
        size_t elen, alen;
        bool has_e = nth_line(expected->data, expected->len, i, &e, &elen);
        bool has_a = nth_line(actual->data, actual->len, i, &a, &alen);
        if (!has_e && !has_a)
            return true;
        if (has_e && has_a && line_matches(e, elen, a, alen))
            continue;
        fprintf(stderr, "outcheck: the output differs from %s at line %zu\n", expected_path, i + 1);
        if (has_e)
            fprintf(stderr, "  expected (line %zu): %.*s\n", i + 1, (int)elen, e);
        else
            fprintf(stderr, "  expected (line %zu): <end of output>\n", i + 1);
        if (has_a)
            fprintf(stderr, "  got      (line %zu): %.*s\n", i + 1, (int)alen, a);
        else
            fprintf(stderr, "  got      (line %zu): <end of output>\n", i + 1);
        print_output("whole output", actual);
        return false;
    }
}

static bool write_expected(const char *path, const buffer *actual)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "outcheck: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = fwrite(buffer_text(actual), 1, actual->len, f) == actual->len;
    ok = (fclose(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, "outcheck: writing %s failed\n", path);
    return ok;
}

/** --env NAME=FILE: "NAME=<the first line of FILE>", malloc'd; NULL (said why) on failure. */
static char *env_from_file(const char *spec)
{
    const char *eq = strchr(spec, '=');
    buffer content = {0};
    if (!read_file(eq + 1, &content)) {
        fprintf(stderr,
                "outcheck: cannot read %s for %.*s: %s\n"
                "  (a test fixture writes it when it starts: is the fixture's start test run?)\n",
                eq + 1, (int)(eq - spec), spec, strerror(errno));
        free(content.data);
        return NULL;
    }
    const char *value = trim(content.data);
    size_t n = strcspn(value, "\n");
    buffer out = {0};
    bool ok = n > 0 && buffer_append(&out, spec, (size_t)(eq - spec) + 1) &&
              buffer_append(&out, value, n);
    if (!ok) {
        fprintf(stderr, "outcheck: %s is empty (for %.*s)\n", eq + 1, (int)(eq - spec), spec);
        free(out.data);
        out.data = NULL;
    }
    free(content.data);
    return out.data;
}

/* --- main ----------------------------------------------------------------------------------- */

static int usage(void)
{
    fputs("usage: outcheck [--url-file FILE] [--db NAME] [--env NAME=FILE]... [--update] "
          "EXPECTED -- PROGRAM [ARGS...]\n",
          stderr);
    return 2;
}

enum { MAX_ENV = 4 };

typedef struct {
    const char *url_file;
    const char *db;
    bool update;
    const char *expected;
    char **argv; /**< the program and its arguments, NULL-terminated */
    const char *env[MAX_ENV]; /**< --env NAME=FILE, as given */
    int nenv;
} options;

static bool parse_args(int argc, char **argv, options *o)
{
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--url-file") == 0 && i + 1 < argc)
            o->url_file = argv[++i];
        else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            o->db = argv[++i];
        else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc && o->nenv < MAX_ENV &&
                 strchr(argv[i + 1], '=') && argv[i + 1][0] != '=')
            o->env[o->nenv++] = argv[++i];
        else if (strcmp(argv[i], "--update") == 0)
            o->update = true;
        else if (argv[i][0] == '-' || o->expected)
            return false;
        else
            o->expected = argv[i];
    }
    if (i >= argc - 1 || !o->expected)
        return false;
    if (o->db && !*o->db)
        return false;
    o->argv = argv + i + 1;
    return true;
}

/* The program's database: with --db a fresh one of its own, made from the URL file's (the admin
 * URL is kept to drop it afterwards); without, the URL file's URL as it is when the environment
 * gives none. False (said on stderr) when it cannot be had. */
static bool prepare_database(const options *o, char **admin_url, char **db, char **child_url,
                             bool *db_created)
{
    if (!o->db) {
        if (getenv("ALCH_DATABASE_URL") != NULL || !o->url_file)
            return true;
        *child_url = resolve_url(o->url_file);
        return *child_url != NULL;
    }
    *admin_url = resolve_url(o->url_file);
    if (!*admin_url)
        return false;
    *db = database_name(o->db);
    *child_url = *db ? url_with_database(*admin_url, *db) : NULL;
    if (!*child_url) {
        fprintf(stderr, "outcheck: out of memory\n");
        return false;
    }
    PGconn *admin = admin_connect(*admin_url, "create", *db);
    if (!admin)
        return false;
    *db_created = drop_database(admin, *db) && create_database(admin, *db);
    PQfinish(admin);
    return *db_created;
}

/* How the run ended, said in one line: 0 when its output matches (or was written with
 * --update), 1 otherwise. */
static int verdict(const options *o, const run_result *run, const buffer *expected)
{
    if (run->timed_out) {
        print_output("output so far", &run->output);
        fprintf(stderr, "outcheck: %s did not finish within %d s: killed\n", o->argv[0],
                TIMEOUT_SECONDS);
    } else if (WIFSIGNALED(run->status)) {
        print_output("output", &run->output);
        fprintf(stderr, "outcheck: %s was killed by signal %d (%s)\n", o->argv[0],
                WTERMSIG(run->status), strsignal(WTERMSIG(run->status)));
    } else if (WEXITSTATUS(run->status) != 0) {
        print_output("output", &run->output);
        fprintf(stderr, "outcheck: %s exited with status %d\n", o->argv[0],
                WEXITSTATUS(run->status));
    } else if (o->update) {
        if (!write_expected(o->expected, &run->output))
            return 1;
        printf("outcheck: wrote %zu bytes to %s\n", run->output.len, o->expected);
        return 0;
    } else if (compare(o->expected, expected, &run->output)) {
        fputs(buffer_text(&run->output), stdout);
        printf("outcheck: the output matches %s\n", o->expected);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    options o = {0};
    if (!parse_args(argc, argv, &o))
        return usage();

    buffer expected = {0};
    if (!o.update && !read_file(o.expected, &expected)) {
        fprintf(stderr, "outcheck: cannot read %s: %s\n", o.expected, strerror(errno));
        free(expected.data);
        return 1;
    }

    int rc = 1;
    char *admin_url = NULL, *db = NULL, *child_url = NULL;
    bool db_created = false;
    run_result run = {0};
    char *env[MAX_ENV + 1] = {0};

    if (!prepare_database(&o, &admin_url, &db, &child_url, &db_created))
        goto done;

    for (int i = 0; i < o.nenv; i++) {
        env[i] = env_from_file(o.env[i]);
        if (!env[i])
            goto done;
    }
    if (!run_program(o.argv, child_url, env, &run))
        goto done;

    rc = verdict(&o, &run, &expected);

done:
    if (db_created) {
        PGconn *admin = admin_connect(admin_url, "drop", db);
        if (!admin || !drop_database(admin, db))
            rc = 1;
        PQfinish(admin);
    }
    free(run.output.data);
    free(expected.data);
    free(child_url);
    free(db);
    free(admin_url);
    for (int i = 0; i < o.nenv; i++)
        free(env[i]);
    return rc;
}
