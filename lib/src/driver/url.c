/* Database URLs: SQLAlchemy's `postgresql://user:password@host:port/dbname?key=value`,
 * parsed into the pieces libpq's PQconnectStartParams takes, and rendered back with the
 * password masked. Errors name the part that is wrong and never quote the password. */
#include "driver/url_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "driver/error_internal.h"
#include "util/buf.h"
#include "util/suggest.h"

typedef struct url_option {
    char *key;
    char *value;
    bool secret; /* libpq marks it as a password (dispchar "*"): masked like the password */
} url_option;

struct alch_url {
    char *drivername;
    char *username;
    char *password;
    char *host; /* libpq form: "h1,h2,::1" (no brackets), or NULL */
    char *port; /* "5432,,5434" (one entry per host) or "5432", or NULL */
    char *database;
    bool host_in_query; /* came from ?host=, so render puts it back there */
    bool port_in_query;
    url_option *options; /* every other query key, in order of first appearance */
    size_t noptions;
    size_t cap_options;
};

/* State of one alch_url_parse call. */
typedef struct parser {
    const char *text;
    alch_error *err;
    PQconninfoOption *keywords; /* libpq's keyword list, fetched on the first query key */
} parser;

static const char url_example[] = "postgresql://user:password@localhost:5432/dbname";

/* ---------------------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------------------- */

/* 1-based position of s in the URL text, as a learner counts characters. */
static size_t pos_of(const parser *p, const char *s)
{
    return (size_t)(s - p->text) + 1;
}

static int oom(alch_error *err)
{
    return alch__error_set(err, ALCH_ENOMEM, "out of memory while handling a database URL");
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* RFC 3986 "unreserved": the only characters that never need escaping. */
static bool is_unreserved(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    c = to_lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static bool equal_ci(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n && word[i]; i++)
        if (to_lower(s[i]) != word[i])
            return false;
    return i == n && word[i] == '\0';
}

static const char *find_last(const char *s, size_t n, char c)
{
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == c)
            return s + i - 1;
    return NULL;
}

static size_t count_fields(const char *list)
{
    size_t n = 1;
    for (const char *s = list ? list : ""; *s; s++)
        n += *s == ',';
    return n;
}

/* Replace *slot with value (taking ownership); an empty value becomes NULL, since libpq
 * ignores empty parameters anyway and accessors then say "absent" consistently. */
static void set_owned(char **slot, char *value)
{
    free(*slot);
    if (value && !*value) {
        free(value);
        value = NULL;
    }
    *slot = value;
}

/* ---------------------------------------------------------------------------------------
 * Percent-decoding
 * ------------------------------------------------------------------------------------- */

static bool is_secret_part(const char *what)
{
    return strstr(what, "password") != NULL;
}

static int bad_escape(parser *p, const char *s, size_t left, const char *what)
{
    if (is_secret_part(what)) { /* quoting the escape would show a piece of the password */
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "bad percent-escape at position %zu (in %s): '%%' must be followed "
                        "by two hex digits",
                        pos_of(p, s), what);
        alch__error_hint(p->err, "percent-encode the password: a literal '%%' is %%25, '/' is "
                                 "%%2F, '?' is %%3F, '@' is %%40");
        return ALCH_EARGUMENT;
    }
    int shown = left < 3 ? (int)left : 3;
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "bad percent-escape '%.*s' at position %zu (in %s): '%%' must be followed "
                    "by two hex digits",
                    shown, s, pos_of(p, s), what);
    alch__error_hint(p->err, "write a literal '%%' as %%25, e.g. 'p%%25ss' for 'p%%ss'");
    return ALCH_EARGUMENT;
}

/* Decode s[0..n) into a new string; `what` names the part for error messages. */
static int decode(parser *p, const char *s, size_t n, const char *what, char **out)
{
    alch__buf b = ALCH__BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            alch__buf_putc(&b, s[i]);
            continue;
        }
        int hi = i + 1 < n ? hex_value(s[i + 1]) : -1;
        int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            alch__buf_free(&b);
            return bad_escape(p, s + i, n - i, what);
        }
        if (hi == 0 && lo == 0) {
            alch__buf_free(&b);
            return alch__error_set(p->err, ALCH_EARGUMENT,
                                   "%%00 (a NUL byte) at position %zu (in %s) cannot be part "
                                   "of a connection parameter: remove it",
                                   pos_of(p, s + i), what);
        }
        alch__buf_putc(&b, (char)(hi * 16 + lo));
        i += 2;
    }
    *out = alch__buf_finish(&b);
    return *out ? 0 : oom(p->err);
}

/* ---------------------------------------------------------------------------------------
 * Whole-text checks and the scheme
 * ------------------------------------------------------------------------------------- */

static int check_characters(parser *p)
{
    for (const char *s = p->text; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ' ') {
            alch__error_set(p->err, ALCH_EARGUMENT,
                            "the URL contains a space at position %zu: a URL cannot contain "
                            "spaces",
                            pos_of(p, s));
            alch__error_hint(p->err, "write a space inside a name or value as %%20");
            return ALCH_EARGUMENT;
        }
        if (c < 0x20 || c == 0x7f) {
            alch__error_set(p->err, ALCH_EARGUMENT,
                            "the URL contains a control character (0x%02X) at position %zu: "
                            "remove it",
                            c, pos_of(p, s));
            if (c == '\n' || c == '\r')
                alch__error_hint(p->err, "strip the newline that came with the text "
                                         "(from fgets(), a file or an environment variable)");
            return ALCH_EARGUMENT;
        }
        if (c == '#') {
            alch__error_set(p->err, ALCH_EARGUMENT,
                            "the URL has a fragment ('#' at position %zu): a database URL "
                            "cannot have one",
                            pos_of(p, s));
            alch__error_hint(p->err, "write a '#' inside a password or name as %%23");
            return ALCH_EARGUMENT;
        }
    }
    return 0;
}

static int missing_scheme(parser *p)
{
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "%s: a URL must start with postgresql://, e.g. %s",
                    *p->text ? "the URL has no scheme" : "the URL is empty", url_example);
    return ALCH_EARGUMENT;
}

static bool is_postgres_name(const char *s, size_t n)
{
    return equal_ci(s, n, "postgresql") || equal_ci(s, n, "postgres");
}

static int unknown_database(parser *p, size_t scheme_len, size_t name_len)
{
    char name[65];
    size_t n = name_len < 64 ? name_len : 64;
    memcpy(name, p->text, n);
    name[n] = '\0';
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "'%.*s://' is not a PostgreSQL URL: alch speaks only to PostgreSQL, so a "
                    "URL must start with postgresql://",
                    (int)scheme_len, p->text);
    if (alch__edit_distance(name, "postgresql") <= 2 || alch__edit_distance(name, "postgres") <= 2)
        alch__error_hint(p->err, "did you mean 'postgresql://'?");
    else
        alch__error_hint(p->err, "use postgresql:// or postgresql+libpq://, e.g. %s",
                         url_example);
    return ALCH_EARGUMENT;
}

/* The Python drivers' names SQLAlchemy URLs carry: accepted as aliases, since a URL copied
 * from a Python project should work; alch speaks libpq whatever the URL says. */
static const char *const driver_aliases[] = {"asyncpg", "psycopg", "psycopg2"};

static const char *driver_alias(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof driver_aliases / sizeof *driver_aliases; i++)
        if (equal_ci(s, n, driver_aliases[i]))
            return driver_aliases[i];
    return NULL;
}

/* "postgresql", "postgresql+libpq", the "postgres" alias and the Python drivers' names;
 * anything else is explained. */
static int parse_scheme(parser *p, alch_url *url, const char **rest)
{
    const char *t = p->text;
    size_t n = 0;
    while (is_alpha(t[n]) || is_digit(t[n]) || t[n] == '+' || t[n] == '-' || t[n] == '.')
        n++;
    if (n == 0 || strncmp(t + n, "://", 3) != 0)
        return missing_scheme(p);
    const char *plus = memchr(t, '+', n);
    size_t name_len = plus ? (size_t)(plus - t) : n;
    if (!is_postgres_name(t, name_len))
        return unknown_database(p, n, name_len);
    const char *driver = plus ? plus + 1 : NULL;
    size_t driver_len = plus ? n - name_len - 1 : 0;
    const char *alias = driver ? driver_alias(driver, driver_len) : NULL;
    if (driver && !alias && !equal_ci(driver, driver_len, "libpq")) {
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "unknown driver '%.*s' in '%.*s://': alch speaks to PostgreSQL through "
                        "libpq",
                        (int)driver_len, driver, (int)n, t);
        alch__error_hint(p->err, "use postgresql:// or postgresql+libpq:// (+asyncpg, +psycopg "
                                 "and +psycopg2 are accepted too, and mean libpq)");
        return ALCH_EARGUMENT;
    }
    char name[32]; /* "postgresql", or "postgresql+" and the driver's name in lower case */
    snprintf(name, sizeof name, "postgresql%s%s", driver ? "+" : "",
             driver ? (alias ? alias : "libpq") : "");
    url->drivername = alch__strdup(name);
    if (!url->drivername)
        return oom(p->err);
    *rest = t + n + 3;
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Authority: userinfo and hosts
 * ------------------------------------------------------------------------------------- */

static int parse_userinfo(parser *p, alch_url *url, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    size_t user_len = colon ? (size_t)(colon - s) : n;
    char *user = NULL, *password = NULL;
    int rc = decode(p, s, user_len, "the user name", &user);
    if (rc == 0 && colon)
        rc = decode(p, colon + 1, n - user_len - 1, "the password", &password);
    set_owned(&url->username, user);
    set_owned(&url->password, password);
    return rc;
}

/* A raw '/', '?' or '#' in a password ends the authority early, so what looks like a port
 * may be a piece of the password: then the message must not quote it. */
static int port_in_password(parser *p, size_t pos)
{
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "the text after ':' at position %zu is not a port (a number from 1 to "
                    "65535)",
                    pos);
    alch__error_hint(p->err, "if the password contains '/', '?' or '@', percent-encode them "
                             "(%%2F, %%3F, %%40)");
    return ALCH_EARGUMENT;
}

/* One port: decimal 1..65535. `pos` is where it starts in the URL (1-based). `after` is the
 * text following the authority, used to spot a password that broke the authority apart. */
static int check_port(parser *p, const char *s, size_t n, size_t pos, const char *after)
{
    unsigned long value = 0;
    bool digits = n > 0;
    for (size_t i = 0; digits && i < n; i++) {
        digits = is_digit(s[i]);
        if (value <= 65535) /* stop growing once out of range: no overflow */
            value = value * 10 + (unsigned long)(s[i] - '0');
    }
    if (digits && value >= 1 && value <= 65535)
        return 0;
    if (after && strchr(after, '@') && !memchr(s, ':', n))
        return port_in_password(p, pos);
    if (digits)
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "port %.*s at position %zu is out of range: a port is a number from 1 "
                        "to 65535",
                        (int)n, s, pos);
    else
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "invalid port '%.*s' at position %zu: a port is a number from 1 to "
                        "65535",
                        (int)n, s, pos);
    if (memchr(s, ':', n))
        alch__error_hint(p->err, "write an IPv6 address in brackets, e.g. [::1]:5432");
    return ALCH_EARGUMENT;
}

/* A comma-separated list of ports, each empty (libpq's default) or valid. */
static int check_port_list(parser *p, const char *s, size_t pos)
{
    for (;;) {
        size_t n = strcspn(s, ",");
        if (n > 0 && check_port(p, s, n, pos, NULL) != 0)
            return ALCH_EARGUMENT;
        if (s[n] == '\0')
            return 0;
        s += n + 1;
        pos += n + 1;
    }
}

/* One host entry as found in the authority: its text and optional port. */
typedef struct host_entry {
    const char *host;
    size_t host_len;
    const char *port; /* NULL when there is no ':' */
    size_t port_len;
    const char *next; /* where the following entry starts, or the end */
} host_entry;

static int split_bracketed(parser *p, const char *s, const char *end, host_entry *e)
{
    const char *close = memchr(s, ']', (size_t)(end - s));
    if (!close) {
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "unclosed '[' at position %zu: an IPv6 address is written in brackets, "
                        "e.g. [::1]:5432",
                        pos_of(p, s));
        return ALCH_EARGUMENT;
    }
    e->host = s + 1;
    e->host_len = (size_t)(close - s - 1);
    if (e->host_len == 0)
        return alch__error_set(p->err, ALCH_EARGUMENT,
                               "empty brackets '[]' at position %zu: put an IPv6 address "
                               "inside, e.g. [::1]",
                               pos_of(p, s));
    e->next = close + 1;
    if (e->next < end && *e->next != ':' && *e->next != ',')
        return alch__error_set(p->err, ALCH_EARGUMENT,
                               "unexpected '%c' after ']' at position %zu: an IPv6 address in "
                               "brackets may be followed only by :port",
                               *e->next, pos_of(p, e->next));
    return 0;
}

static int split_entry(parser *p, const char *s, const char *end, host_entry *e)
{
    *e = (host_entry){0};
    if (s < end && *s == '[') {
        if (split_bracketed(p, s, end, e) != 0)
            return ALCH_EARGUMENT;
    } else {
        e->host = s;
        while (s < end && *s != ':' && *s != ',') {
            if (*s == '[' || *s == ']')
                return alch__error_set(p->err, ALCH_EARGUMENT,
                                       "unexpected '%c' at position %zu: brackets go around a "
                                       "whole IPv6 address, e.g. [::1]:5432",
                                       *s, pos_of(p, s));
            s++;
        }
        e->host_len = (size_t)(s - e->host);
        e->next = s;
    }
    if (e->next < end && *e->next == ':') {
        e->port = e->next + 1;
        e->port_len = 0;
        while (e->port + e->port_len < end && e->port[e->port_len] != ',')
            e->port_len++;
        e->next = e->port + e->port_len;
    }
    return 0;
}

/* Decode one host and append it, with its port, to the libpq-style lists. */
static int add_host(parser *p, const host_entry *e, size_t index, alch__buf *hosts,
                    alch__buf *ports, const char *after)
{
    if (e->port_len > 0 &&
        check_port(p, e->port, e->port_len, pos_of(p, e->port), after) != 0)
        return ALCH_EARGUMENT;
    char *host = NULL;
    int rc = decode(p, e->host, e->host_len, "the host", &host);
    if (rc != 0)
        return rc;
    if (strchr(host, ',')) {
        free(host);
        return alch__error_set(p->err, ALCH_EARGUMENT,
                               "the host at position %zu contains an encoded ',': separate "
                               "several hosts with a plain ','",
                               pos_of(p, e->host));
    }
    if (index > 0) {
        alch__buf_putc(hosts, ',');
        alch__buf_putc(ports, ',');
    }
    alch__buf_puts(hosts, host);
    alch__buf_append(ports, e->port ? e->port : "", e->port_len);
    free(host);
    return 0;
}

static int empty_host(parser *p, const char *where)
{
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "empty host in the host list at position %zu: write hosts as "
                    "h1:5432,h2:5433",
                    pos_of(p, where));
    alch__error_hint(p->err, "remove the extra ','");
    return ALCH_EARGUMENT;
}

/* Hosts in the authority become libpq's multi-host lists: "h1,h2" and "5432,5433"; a host
 * without a port keeps its place with an empty entry (libpq reads it as the default). */
static int parse_hosts(parser *p, alch_url *url, const char *s, const char *end)
{
    alch__buf hosts = ALCH__BUF_INIT, ports = ALCH__BUF_INIT;
    bool any_port = false;
    int rc = 0;
    for (size_t i = 0; rc == 0; i++) {
        host_entry e;
        rc = split_entry(p, s, end, &e);
        if (rc != 0)
            break;
        bool alone = i == 0 && e.next == end;
        if (e.host_len == 0 && !alone) {
            rc = empty_host(p, e.host);
            break;
        }
        rc = add_host(p, &e, i, &hosts, &ports, end);
        any_port = any_port || e.port_len > 0;
        if (rc != 0 || e.next == end)
            break;
        s = e.next + 1; /* skip the ',' */
        if (s == end)
            rc = empty_host(p, e.next);
    }
    if (rc == 0) {
        char *h = alch__buf_finish(&hosts);
        char *pt = any_port ? alch__buf_finish(&ports) : NULL;
        set_owned(&url->host, h);
        set_owned(&url->port, pt);
        if (!h || (any_port && !pt))
            rc = oom(p->err);
    }
    alch__buf_free(&hosts);
    alch__buf_free(&ports);
    return rc;
}

/* The user may write a raw '@' in the password: like SQLAlchemy, split at the last '@'. */
static int parse_authority(parser *p, alch_url *url, const char *s, size_t n)
{
    const char *end = s + n;
    const char *at = find_last(s, n, '@');
    if (at) {
        int rc = parse_userinfo(p, url, s, (size_t)(at - s));
        if (rc != 0)
            return rc;
        s = at + 1;
    }
    return s == end ? 0 : parse_hosts(p, url, s, end);
}

/* ---------------------------------------------------------------------------------------
 * Path and query
 * ------------------------------------------------------------------------------------- */

static int parse_path(parser *p, alch_url *url, const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n);
    if (slash) {
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "unexpected '/' at position %zu: the path of a URL is only the "
                        "database name",
                        pos_of(p, slash));
        alch__error_hint(p->err, "write a '/' inside a database name as %%2F");
        return ALCH_EARGUMENT;
    }
    char *db = NULL;
    int rc = decode(p, s, n, "the database name", &db);
    set_owned(&url->database, db);
    return rc;
}

static int unknown_option(parser *p, const char *key, const char *raw)
{
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "unknown connection option '%s' at position %zu: query keys must be libpq "
                    "connection keywords",
                    key, pos_of(p, raw));
    const char *best = NULL;
    size_t best_d = 3;
    for (const PQconninfoOption *o = p->keywords; o->keyword; o++) {
        size_t d = alch__edit_distance(key, o->keyword);
        if (d < best_d) {
            best_d = d;
            best = o->keyword;
        }
    }
    if (best)
        alch__error_hint(p->err, "did you mean '%s'?", best);
    else
        alch__error_hint(p->err, "the options are libpq's connection keywords, such as "
                                 "sslmode, connect_timeout, application_name and options");
    return ALCH_EARGUMENT;
}

static const PQconninfoOption *find_keyword(const PQconninfoOption *list, const char *key)
{
    for (const PQconninfoOption *o = list; o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return o;
    return NULL;
}

/* Store key=value (taking ownership of both); a repeated key keeps its place, last value wins. */
static int add_option(alch_url *url, char *key, char *value, bool secret)
{
    for (size_t i = 0; i < url->noptions; i++) {
        if (strcmp(url->options[i].key, key) == 0) {
            free(key);
            free(url->options[i].value);
            url->options[i].value = value;
            return 0;
        }
    }
    url_option *grown =
        alch__grow(url->options, &url->cap_options, url->noptions, sizeof *grown, 4);
    if (!grown) {
        free(key);
        free(value);
        return ALCH_ENOMEM;
    }
    url->options = grown;
    url->options[url->noptions++] = (url_option){key, value, secret};
    return 0;
}

/* host, port, user, password and dbname fill the URL's own parts; any other key must be a
 * libpq keyword. Takes ownership of key and value. */
static int set_option(parser *p, alch_url *url, char *key, char *value, const char *raw_key,
                      const char *raw_value)
{
    char **slot = NULL;
    if (strcmp(key, "host") == 0) {
        slot = &url->host;
        url->host_in_query = true;
    } else if (strcmp(key, "port") == 0) {
        if (check_port_list(p, value, pos_of(p, raw_value)) != 0) {
            free(key);
            free(value);
            return ALCH_EARGUMENT;
        }
        slot = &url->port;
        url->port_in_query = true;
    } else if (strcmp(key, "user") == 0) {
        slot = &url->username;
    } else if (strcmp(key, "password") == 0) {
        slot = &url->password;
    } else if (strcmp(key, "dbname") == 0) {
        slot = &url->database;
    }
    if (slot) {
        free(key);
        set_owned(slot, value);
        return 0;
    }
    if (!p->keywords && !(p->keywords = PQconndefaults())) {
        free(key);
        free(value);
        return oom(p->err);
    }
    const PQconninfoOption *kw = find_keyword(p->keywords, key);
    if (!kw) {
        int rc = unknown_option(p, key, raw_key);
        free(key);
        free(value);
        return rc;
    }
    bool secret = kw->dispchar && kw->dispchar[0] == '*';
    return add_option(url, key, value, secret) == 0 ? 0 : oom(p->err);
}

static int parse_option(parser *p, alch_url *url, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    if (!eq) {
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "query option '%.*s' at position %zu has no value: write it as "
                        "key=value, e.g. sslmode=disable",
                        (int)n, s, pos_of(p, s));
        return ALCH_EARGUMENT;
    }
    if (eq == s)
        return alch__error_set(p->err, ALCH_EARGUMENT,
                               "the query option at position %zu has no key before '=': write "
                               "it as key=value, e.g. sslmode=disable",
                               pos_of(p, s));
    char *key = NULL, *value = NULL;
    int rc = decode(p, s, (size_t)(eq - s), "a query key", &key);
    if (rc == 0)
        rc = decode(p, eq + 1, n - (size_t)(eq - s) - 1,
                    strstr(key, "password") ? "the value of a password option" : "a query value",
                    &value);
    if (rc != 0) {
        free(key);
        return rc;
    }
    return set_option(p, url, key, value, s, eq + 1);
}

/* Options are separated by '&'; empty ones ("a=1&&b=2", a trailing '&') are skipped. */
static int parse_query(parser *p, alch_url *url, const char *s)
{
    while (*s) {
        size_t n = strcspn(s, "&");
        if (n > 0) {
            int rc = parse_option(p, url, s, n);
            if (rc != 0)
                return rc;
        }
        s += n;
        if (*s == '&')
            s++;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Parse
 * ------------------------------------------------------------------------------------- */

/* "postgresql://app:8080/Secret@localhost": a raw '/' (or '?') in a password of digits
 * cuts the authority at "app:8080", which parses as a host and a port, and the rest of
 * the password ends up in the database name. An '@' after an authority that has none
 * gives it away; the message quotes nothing, since any piece may be the password. */
static int password_cut_short(parser *p, const char *authority, size_t n, const char *rest)
{
    if (memchr(authority, '@', n) || !memchr(authority, ':', n))
        return 0;
    size_t path = strcspn(rest, "?");
    const char *at = memchr(rest, '@', path);
    if (!at && rest[path] == '?') { /* no key of a query option contains an '@' */
        const char *key = rest + path + 1;
        at = memchr(key, '@', strcspn(key, "=&"));
    }
    if (!at)
        return 0;
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "unexpected '@' at position %zu, after the host: the password seems to "
                    "contain a raw '/' or '?', which ended the host part early",
                    pos_of(p, at));
    alch__error_hint(p->err, "percent-encode the password: '/' is %%2F, '?' is %%3F, '@' is "
                             "%%40 (an '@' in a database name is %%40 too)");
    return ALCH_EARGUMENT;
}

static int parse_all(parser *p, alch_url *url)
{
    const char *s = NULL;
    int rc = check_characters(p);
    if (rc == 0)
        rc = parse_scheme(p, url, &s);
    if (rc != 0)
        return rc;
    size_t n = strcspn(s, "/?");
    rc = password_cut_short(p, s, n, s + n);
    if (rc == 0)
        rc = parse_authority(p, url, s, n);
    s += n;
    if (rc == 0 && *s == '/') {
        n = strcspn(s + 1, "?");
        rc = parse_path(p, url, s + 1, n);
        s += n + 1;
    }
    if (rc == 0 && *s == '?')
        rc = parse_query(p, url, s + 1);
    return rc;
}

int alch_url_parse(const char *text, alch_url **out, alch_error *err)
{
    if (!text || !out)
        return alch__error_set(err, ALCH_EMISUSE,
                               "alch_url_parse() got a NULL %s: pass a URL string and the "
                               "address of an alch_url pointer",
                               text ? "out pointer" : "text");
    alch_url *url = calloc(1, sizeof *url);
    if (!url)
        return oom(err);
    parser p = {text, err, NULL};
    int rc = parse_all(&p, url);
    if (p.keywords)
        PQconninfoFree(p.keywords);
    if (rc != 0) {
        alch_url_free(url);
        return rc;
    }
    *out = url;
    return 0;
}

void alch_url_free(alch_url *url)
{
    if (!url)
        return;
    free(url->drivername);
    free(url->username);
    free(url->password);
    free(url->host);
    free(url->port);
    free(url->database);
    for (size_t i = 0; i < url->noptions; i++) {
        free(url->options[i].key);
        free(url->options[i].value);
    }
    free(url->options);
    free(url);
}

/* Copy a string that may be NULL; *ok turns false when a non-NULL one could not be copied. */
static char *copy_str(const char *s, bool *ok)
{
    char *c = alch__strdup(s);
    if (s && !c)
        *ok = false;
    return c;
}

alch_url *alch_url_copy(const alch_url *url)
{
    if (!url)
        return NULL;
    alch_url *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    bool ok = true;
    c->drivername = copy_str(url->drivername, &ok);
    c->username = copy_str(url->username, &ok);
    c->password = copy_str(url->password, &ok);
    c->host = copy_str(url->host, &ok);
    c->port = copy_str(url->port, &ok);
    c->database = copy_str(url->database, &ok);
    c->host_in_query = url->host_in_query;
    c->port_in_query = url->port_in_query;
    if (ok && url->noptions > 0) {
        /* zeroed, so a partial copy frees cleanly */
        c->options = calloc(url->noptions, sizeof *c->options);
        ok = c->options != NULL;
        if (ok)
            c->noptions = c->cap_options = url->noptions;
    }
    for (size_t i = 0; ok && i < url->noptions; i++) {
        c->options[i].key = copy_str(url->options[i].key, &ok);
        c->options[i].value = copy_str(url->options[i].value, &ok);
        c->options[i].secret = url->options[i].secret;
    }
    if (!ok) {
        alch_url_free(c);
        return NULL;
    }
    return c;
}

/* ---------------------------------------------------------------------------------------
 * Render
 * ------------------------------------------------------------------------------------- */

/* Percent-encode s[0..n) except unreserved characters and those in `keep`. */
static void put_encoded(alch__buf *b, const char *s, size_t n, const char *keep)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_unreserved(c) || (keep && strchr(keep, c)))
            alch__buf_putc(b, c);
        else
            alch__buf_printf(b, "%%%02X", (unsigned)(unsigned char)c);
    }
}

static void put_encoded_str(alch__buf *b, const char *s, const char *keep)
{
    put_encoded(b, s, strlen(s), keep);
}

/* One host of the list; an IPv6 address (it has ':') goes back into brackets. */
static void put_host(alch__buf *b, const char *h, size_t n)
{
    if (memchr(h, ':', n)) {
        alch__buf_putc(b, '[');
        put_encoded(b, h, n, ":");
        alch__buf_putc(b, ']');
    } else {
        put_encoded(b, h, n, NULL);
    }
}

/* "h1:5432,h2,[::1]:5434": hosts and ports taken pairwise from libpq's two lists. */
static void put_authority_hosts(alch__buf *b, const char *host, const char *port)
{
    const char *h = host ? host : "";
    const char *pt = port;
    for (;;) {
        size_t hn = strcspn(h, ",");
        put_host(b, h, hn);
        if (pt) {
            size_t pn = strcspn(pt, ",");
            if (pn > 0) {
                alch__buf_putc(b, ':');
                alch__buf_append(b, pt, pn);
            }
            pt += pn + (pt[pn] == ',');
        }
        h += hn;
        if (*h != ',')
            break;
        alch__buf_putc(b, ',');
        h++;
    }
}

static void put_query(alch__buf *b, char *sep, const char *key, const char *value, bool mask)
{
    alch__buf_putc(b, *sep);
    *sep = '&';
    put_encoded_str(b, key, NULL);
    alch__buf_putc(b, '=');
    if (mask)
        alch__buf_puts(b, "***");
    else
        put_encoded_str(b, value, "/:,"); /* legal in a query and easier to read unescaped */
}

char *alch_url_render(const alch_url *url, bool hide_password)
{
    if (!url)
        return NULL;
    alch__buf b = ALCH__BUF_INIT;
    alch__buf_puts(&b, url->drivername ? url->drivername : "postgresql");
    alch__buf_puts(&b, "://");
    if (url->username || url->password) {
        if (url->username)
            put_encoded_str(&b, url->username, NULL);
        if (url->password) {
            alch__buf_putc(&b, ':');
            if (hide_password)
                alch__buf_puts(&b, "***");
            else
                put_encoded_str(&b, url->password, NULL);
        }
        alch__buf_putc(&b, '@');
    }
    /* A socket directory reads better as ?host=/path than as %2Fpath; ports that cannot be
     * paired with the authority's hosts go to the query too. */
    bool host_q = url->host_in_query || (url->host && strchr(url->host, '/'));
    bool port_q = url->port && (host_q || url->port_in_query ||
                                count_fields(url->port) != count_fields(url->host));
    if (!host_q)
        put_authority_hosts(&b, url->host, port_q ? NULL : url->port);
    if (url->database) {
        alch__buf_putc(&b, '/');
        put_encoded_str(&b, url->database, NULL);
    }
    char sep = '?';
    if (host_q && url->host)
        put_query(&b, &sep, "host", url->host, false);
    if (port_q)
        put_query(&b, &sep, "port", url->port, false);
    for (size_t i = 0; i < url->noptions; i++)
        put_query(&b, &sep, url->options[i].key, url->options[i].value,
                  hide_password && url->options[i].secret);
    return alch__buf_finish(&b);
}

/* ---------------------------------------------------------------------------------------
 * Accessors
 * ------------------------------------------------------------------------------------- */

const char *alch_url_drivername(const alch_url *url)
{
    return url ? url->drivername : NULL;
}

const char *alch__url_driver_alias(const alch_url *url)
{
    const char *plus = url && url->drivername ? strchr(url->drivername, '+') : NULL;
    return plus ? driver_alias(plus + 1, strlen(plus + 1)) : NULL;
}

const char *alch_url_username(const alch_url *url)
{
    return url ? url->username : NULL;
}

const char *alch_url_password(const alch_url *url)
{
    return url ? url->password : NULL;
}

const char *alch_url_host(const alch_url *url)
{
    return url ? url->host : NULL;
}

const char *alch_url_port(const alch_url *url)
{
    return url ? url->port : NULL;
}

const char *alch_url_database(const alch_url *url)
{
    return url ? url->database : NULL;
}

const char *alch_url_query(const alch_url *url, const char *key)
{
    if (!url || !key)
        return NULL;
    for (size_t i = 0; i < url->noptions; i++)
        if (strcmp(url->options[i].key, key) == 0)
            return url->options[i].value;
    return NULL;
}

size_t alch_url_query_count(const alch_url *url)
{
    return url ? url->noptions : 0;
}

int alch_url_query_at(const alch_url *url, size_t i, const char **key, const char **value)
{
    if (!url || i >= url->noptions)
        return ALCH_EMISUSE;
    if (key)
        *key = url->options[i].key;
    if (value)
        *value = url->options[i].value;
    return 0;
}

int alch_url_set_database(alch_url *url, const char *database)
{
    if (!url)
        return ALCH_EMISUSE;
    char *copy = alch__strdup(database);
    if (database && !copy)
        return ALCH_ENOMEM;
    set_owned(&url->database, copy);
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * libpq parameters
 * ------------------------------------------------------------------------------------- */

static void push_param(const char **keys, const char **values, size_t *n, const char *key,
                       const char *value)
{
    if (!value)
        return;
    keys[*n] = key;
    values[*n] = value;
    (*n)++;
}

static bool has_key(const char *const *keys, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            return true;
    return false;
}

int alch__url_libpq_params(const alch_url *url, const char *const *extra_keys,
                           const char *const *extra_values, const char ***keywords,
                           const char ***values)
{
    if (!url || !keywords || !values)
        return ALCH_EMISUSE;
    size_t nextra = 0;
    while (extra_keys && extra_keys[nextra])
        nextra++;
    /* The settings the decoders read by, pinned at startup (no round trip), after the URL's
     * own (or the engine's) `options` so they win; conn.c checks they held (a pooler may
     * drop them). The merged text lives at the end of the values block. */
    static const char pin[] = "-c DateStyle=ISO,MDY -c IntervalStyle=postgres "
                              "-c extra_float_digits=3";
    const char *user_options = alch_url_query(url, "options"); /* or the engine's */
    for (size_t i = 0; !user_options && i < nextra; i++)
        if (strcmp(extra_keys[i], "options") == 0 && extra_values)
            user_options = extra_values[i];
    size_t olen = (user_options ? strlen(user_options) + 1 : 0) + sizeof pin;
    /* + 1 for options, + 2: room for the hostaddr and port that resolve.c may add */
    size_t cap = 5 + url->noptions + 1 + nextra + 1 + 2;
    const char **k = malloc(cap * sizeof *k);
    const char **v = malloc(cap * sizeof *v + olen);
    if (!k || !v) {
        free(k);
        free(v);
        return ALCH_ENOMEM;
    }
    char *options = (char *)(v + cap);
    snprintf(options, olen, "%s%s%s", user_options ? user_options : "", user_options ? " " : "",
             pin);
    size_t n = 0;
    push_param(k, v, &n, "user", url->username);
    push_param(k, v, &n, "password", url->password);
    push_param(k, v, &n, "host", url->host);
    push_param(k, v, &n, "port", url->port);
    push_param(k, v, &n, "dbname", url->database);
    for (size_t i = 0; i < url->noptions; i++)
        if (strcmp(url->options[i].key, "options") != 0)
            push_param(k, v, &n, url->options[i].key, url->options[i].value);
    push_param(k, v, &n, "options", options);
    size_t nurl = n;
    for (size_t i = 0; i < nextra; i++) {
        if (has_key(k, nurl, extra_keys[i]))
            continue;
        k[n] = extra_keys[i];
        v[n++] = extra_values ? extra_values[i] : NULL;
    }
    k[n] = NULL;
    v[n] = NULL;
    *keywords = k;
    *values = v;
    return 0;
}
