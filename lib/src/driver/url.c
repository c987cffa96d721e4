/* Database URLs: SQLAlchemy's `postgresql+driver://user:password@host:port/dbname?key=value`.
 *
 * libpq owns the grammar: PQconninfoParse reads the URL (user information, host list, IPv6,
 * percent-decoding, its keywords and their aliases) and every value alch keeps is libpq's
 * reading. alch adds SQLAlchemy's layer on top: the scheme with its `+driver` part, errors
 * that point at the position of the bad part (libpq's own messages quote the whole URL, the
 * password with it, so they are never shown), a few stricter checks that url.h lists, and
 * the rendering with the password masked. To say *where* a URL is wrong, a walk cuts the
 * text into the pieces libpq cuts it into (the same rules, in the same order); it reads no
 * value itself. fuzz/fuzz_url.c checks that alch and libpq agree on every URL both accept. */
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
    const char *text; /* as written: positions count in it */
    const char *rest; /* what follows "scheme://" */
    alch_error *err;
    alch_url *url;
    PQconninfoOption *parsed;   /* libpq's reading of the whole URL, or NULL when it refused */
    PQconninfoOption *keywords; /* every libpq keyword, fetched for a "did you mean" */
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

/* libpq's value for a keyword in an option array, or NULL. */
static const PQconninfoOption *find_keyword(const PQconninfoOption *list, const char *key)
{
    for (const PQconninfoOption *o = list; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return o;
    return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Percent-escapes: libpq decodes every part, and refuses a bad escape or %00
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

/* The escapes of s[0..n), the part `what` names. */
static int check_escapes(parser *p, const char *s, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%')
            continue;
        int hi = i + 1 < n ? hex_value(s[i + 1]) : -1;
        int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            return bad_escape(p, s + i, n - i, what);
        if (hi == 0 && lo == 0)
            return alch__error_set(p->err, ALCH_EARGUMENT,
                                   "%%00 (a NUL byte) at position %zu (in %s) cannot be part "
                                   "of a connection parameter: remove it",
                                   pos_of(p, s + i), what);
        i += 2;
    }
    return 0;
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
 * The walk: libpq's pieces, in libpq's order, each checked where alch can say more
 * ------------------------------------------------------------------------------------- */

/* The user information runs to the first '@' met before any '/' (a raw '?' or '#' does not
 * end it); the user name ends at its first ':'. Sets *hosts to where the host list starts. */
static int walk_userinfo(parser *p, const char **hosts)
{
    const char *s = p->rest;
    size_t n = strcspn(s, "@/");
    *hosts = s;
    if (s[n] != '@')
        return 0;
    *hosts = s + n + 1;
    size_t user = strcspn(s, ":@");
    int rc = check_escapes(p, s, user, "the user name");
    if (rc == 0 && user < n)
        rc = check_escapes(p, s + user + 1, n - user - 1, "the password");
    return rc;
}

/* A raw '/' in a password ends the user information before its '@', so what looks like a
 * port may be a piece of the password: then the message must not quote it. */
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

/* One port: decimal 1..65535 (libpq takes any text and fails when connecting). `pos` is
 * where it starts (1-based); `after` is the text that follows, where an '@' shows that a
 * password broke the user information apart. */
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

/* A comma-separated list of ports (?port=), each empty (libpq's default) or valid. */
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

/* One entry of the host list, as libpq cuts it. */
typedef struct host_entry {
    const char *host;
    size_t host_len;
    const char *port; /* NULL when there is no ':' */
    size_t port_len;
    const char *next; /* what ends the entry: ',', '/', '?' or the end */
} host_entry;

/* "[v6]" (libpq looks for the ']' as far as it takes), or a name up to ':', '/', '?' or ',';
 * then ":port" up to '/', '?' or ','. */
static int split_entry(parser *p, const char *s, host_entry *e)
{
    *e = (host_entry){.host = s};
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return alch__error_set(p->err, ALCH_EARGUMENT,
                                   "unclosed '[' at position %zu: an IPv6 address is written in "
                                   "brackets, e.g. [::1]:5432",
                                   pos_of(p, s));
        if (close == s + 1)
            return alch__error_set(p->err, ALCH_EARGUMENT,
                                   "empty brackets '[]' at position %zu: put an IPv6 address "
                                   "inside, e.g. [::1]",
                                   pos_of(p, s));
        e->host = s + 1;
        e->host_len = (size_t)(close - s - 1);
        s = close + 1;
        if (*s && !strchr(":/?,", *s))
            return alch__error_set(p->err, ALCH_EARGUMENT,
                                   "unexpected '%c' after ']' at position %zu: an IPv6 address "
                                   "in brackets may be followed only by :port",
                                   *s, pos_of(p, s));
    } else {
        e->host_len = strcspn(s, ":/?,");
        s += e->host_len;
    }
    if (*s == ':') {
        e->port = s + 1;
        e->port_len = strcspn(e->port, "/?,");
        s = e->port + e->port_len;
    }
    e->next = s;
    return 0;
}

static bool has_encoded_comma(const char *s, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == '%' && s[i + 1] == '2' && to_lower(s[i + 2]) == 'c')
            return true;
    return false;
}

/* The stricter checks url.h lists: no empty entry in a list, no '@' (libpq ends the user
 * information at the first '@', so the rest of a password would be taken for the host), no
 * encoded ',' nor one in brackets (libpq would read two hosts), a port from 1 to 65535. */
static int check_entry(parser *p, const host_entry *e, bool alone)
{
    const char *at = memchr(e->host, '@', e->host_len);
    if (e->host_len == 0 && !alone) {
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "empty host in the host list at position %zu: write hosts as "
                        "h1:5432,h2:5433",
                        pos_of(p, e->host));
        alch__error_hint(p->err, "remove the extra ','");
        return ALCH_EARGUMENT;
    }
    int rc = check_escapes(p, e->host, e->host_len, "the host");
    if (rc == 0 && at) {
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "a second '@' at position %zu: the user name and password end at the "
                        "first '@', so the rest would be taken for the host",
                        pos_of(p, at));
        alch__error_hint(p->err, "percent-encode an '@' inside the password as %%40");
        return ALCH_EARGUMENT;
    }
    if (rc == 0 && (has_encoded_comma(e->host, e->host_len) || memchr(e->host, ',', e->host_len)))
        return alch__error_set(p->err, ALCH_EARGUMENT,
                               "the host at position %zu contains an encoded ',' or one inside "
                               "brackets: separate several hosts with a plain ','",
                               pos_of(p, e->host));
    if (rc == 0 && e->port_len > 0)
        rc = check_port(p, e->port, e->port_len, pos_of(p, e->port), e->next);
    return rc;
}

/* Entries separated by ','; *end receives what ended the list ('/', '?' or the end). */
static int walk_hosts(parser *p, const char *s, const char **end)
{
    for (size_t i = 0;; i++) {
        host_entry e;
        int rc = split_entry(p, s, &e);
        if (rc == 0)
            rc = check_entry(p, &e, i == 0 && *e.next != ',');
        if (rc != 0)
            return rc;
        if (*e.next != ',') {
            *end = e.next;
            return 0;
        }
        s = e.next + 1;
    }
}

/* "postgresql://app:8080/Secret@localhost": a raw '/' in a password of digits ends the user
 * information before its '@', so "app:8080" reads as a host and a port and the rest of the
 * password as the database name. An '@' after a host list with a ':' and no user gives it
 * away; the message quotes nothing, since any piece may be the password. */
static int password_cut_short(parser *p, const char *hosts, const char *end)
{
    if (hosts != p->rest || !memchr(hosts, ':', (size_t)(end - hosts)))
        return 0;
    size_t path = strcspn(end, "?");
    const char *at = memchr(end, '@', path);
    if (!at && end[path] == '?') { /* no key of a query option contains an '@' */
        const char *key = end + path + 1;
        at = memchr(key, '@', strcspn(key, "=&"));
    }
    if (!at)
        return 0;
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "unexpected '@' at position %zu, after the host: the password seems to "
                    "contain a raw '/', which ended the host part early",
                    pos_of(p, at));
    alch__error_hint(p->err, "percent-encode the password: '/' is %%2F, '?' is %%3F, '@' is "
                             "%%40 (an '@' in a database name is %%40 too)");
    return ALCH_EARGUMENT;
}

/* The database name runs to the '?'; libpq would keep a raw '/' in it, alch refuses it. */
static int walk_path(parser *p, const char *s, size_t n)
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
    return check_escapes(p, s, n, "the database name");
}

/* A query key libpq does not know (as written, escapes and all): the closest keyword as a
 * hint. */
static int unknown_option(parser *p, const char *key, size_t n)
{
    if (!p->keywords && !(p->keywords = PQconninfoParse("", NULL)))
        return oom(p->err);
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "unknown connection option '%.*s' at position %zu: query keys must be "
                    "libpq connection keywords",
                    (int)n, key, pos_of(p, key));
    char word[65]; /* alch__edit_distance gives up past 64 bytes anyway */
    snprintf(word, sizeof word, "%.*s", (int)n, key);
    const char *best = NULL;
    size_t best_d = 3;
    for (const PQconninfoOption *o = p->keywords; o->keyword; o++) {
        size_t d = alch__edit_distance(word, o->keyword);
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

/* Store key=value (copies); a repeated key keeps its place, last value wins. */
static int add_option(alch_url *url, const char *key, const char *value, bool secret)
{
    char *v = alch__strdup(value);
    if (!v)
        return ALCH_ENOMEM;
    for (size_t i = 0; i < url->noptions; i++) {
        if (strcmp(url->options[i].key, key) == 0) {
            free(url->options[i].value);
            url->options[i].value = v;
            return 0;
        }
    }
    char *k = alch__strdup(key);
    url_option *grown =
        alch__grow(url->options, &url->cap_options, url->noptions, sizeof *grown, 4);
    if (!k || !grown) {
        free(k);
        free(v);
        return ALCH_ENOMEM;
    }
    url->options = grown;
    url->options[url->noptions++] = (url_option){k, v, secret};
    return 0;
}

/* libpq's keyword for one query option read alone (its aliases applied: ssl=true is
 * sslmode=require), checked; the URL's own parts (host, port, user, password, dbname) are
 * noted, any other key joins the options in order with libpq's final value. */
static int take_option(parser *p, const char *s, size_t n, const char *value)
{
    char *text = malloc(n + 17); /* no host, so an '@' in the option is not a user's end */
    if (!text)
        return oom(p->err);
    snprintf(text, n + 17, "postgresql:///?%.*s", (int)n, s);
    char *msg = NULL;
    PQconninfoOption *alone = PQconninfoParse(text, &msg);
    free(text);
    int rc = alone ? 0 : msg ? unknown_option(p, s, (size_t)(value - 1 - s)) : oom(p->err);
    PQfreemem(msg);
    const PQconninfoOption *o = alone;
    while (o && o->keyword && !o->val)
        o++;
    const char *kw = o && o->keyword ? o->keyword : "";
    if (rc == 0 && strcmp(kw, "port") == 0)
        rc = check_port_list(p, o->val, pos_of(p, value));
    p->url->host_in_query |= strcmp(kw, "host") == 0;
    p->url->port_in_query |= strcmp(kw, "port") == 0;
    static const char *const parts[] = {"host", "port", "user", "password", "dbname"};
    bool part = false;
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        part = part || strcmp(kw, parts[i]) == 0;
    const PQconninfoOption *final = find_keyword(p->parsed, kw);
    if (rc == 0 && !part && final && final->val &&
        add_option(p->url, kw, final->val, final->dispchar && *final->dispchar == '*') != 0)
        rc = oom(p->err);
    PQconninfoFree(alone);
    return rc;
}

/* key=value: libpq wants exactly one '=' and a key. */
static int walk_option(parser *p, const char *s, size_t n)
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
    size_t key_len = (size_t)(eq - s), value_len = n - key_len - 1;
    const char *eq2 = memchr(eq + 1, '=', value_len);
    if (eq2) {
        alch__error_set(p->err, ALCH_EARGUMENT,
                        "a second '=' at position %zu in a query option: an option is one "
                        "key=value",
                        pos_of(p, eq2));
        alch__error_hint(p->err, "write an '=' inside a value as %%3D");
        return ALCH_EARGUMENT;
    }
    int rc = check_escapes(p, s, key_len, "a query key");
    bool secret = false; /* sslpassword, password: the value is a secret */
    for (size_t i = 0; !secret && i + 8 <= key_len; i++)
        secret = strncmp(s + i, "password", 8) == 0;
    if (rc == 0)
        rc = check_escapes(p, eq + 1, value_len,
                           secret ? "the value of a password option" : "a query value");
    return rc == 0 ? take_option(p, s, n, eq + 1) : rc;
}

/* Options are separated by '&'; libpq refuses an empty one ("a=1&&b=2") but a trailing '&'
 * ends the list. */
static int walk_query(parser *p, const char *s)
{
    while (*s) {
        size_t n = strcspn(s, "&");
        if (n == 0) {
            alch__error_set(p->err, ALCH_EARGUMENT,
                            "empty query option at position %zu: options are key=value pairs "
                            "separated by one '&'",
                            pos_of(p, s));
            alch__error_hint(p->err, "remove the extra '&'");
            return ALCH_EARGUMENT;
        }
        int rc = walk_option(p, s, n);
        if (rc != 0)
            return rc;
        s += n + (s[n] == '&');
    }
    return 0;
}

static int walk(parser *p)
{
    const char *hosts = NULL, *end = NULL;
    int rc = walk_userinfo(p, &hosts);
    if (rc == 0)
        rc = walk_hosts(p, hosts, &end);
    if (rc == 0)
        rc = password_cut_short(p, hosts, end);
    if (rc == 0 && *end == '/') {
        size_t n = strcspn(end + 1, "?");
        rc = walk_path(p, end + 1, n);
        end += n + 1;
    }
    if (rc == 0 && *end == '?')
        rc = walk_query(p, end + 1);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * Parse
 * ------------------------------------------------------------------------------------- */

/* libpq's reading of the URL with the scheme it knows; a refusal leaves p->parsed NULL for
 * the walk to explain (libpq's message quotes the password, so it is dropped). */
static int libpq_parse(parser *p)
{
    size_t n = strlen(p->rest) + sizeof "postgresql://";
    char *uri = malloc(n);
    if (!uri)
        return oom(p->err);
    snprintf(uri, n, "postgresql://%s", p->rest);
    char *msg = NULL;
    p->parsed = PQconninfoParse(uri, &msg);
    free(uri);
    bool out_of_memory = !p->parsed && !msg;
    PQfreemem(msg);
    return out_of_memory ? oom(p->err) : 0;
}

/* The walk found nothing wrong but libpq refused: a gap in alch's explanations. The fuzzer
 * fails on this sentence. */
static int unexplained(parser *p)
{
    alch__error_set(p->err, ALCH_EARGUMENT,
                    "libpq's URL parser refused this URL and alch cannot say where: compare it "
                    "with %s",
                    url_example);
    alch__error_hint(p->err, "please report it: alch should point at the mistake");
    return ALCH_EARGUMENT;
}

/* user, password, host, port and dbname: libpq's final values (the query's win). A port list
 * of empty entries (libpq's "," for "h1,h2") means the default ports, as no port does. */
static int take_parts(parser *p)
{
    alch_url *u = p->url;
    static const char *const keys[] = {"user", "password", "host", "port", "dbname"};
    char **slots[] = {&u->username, &u->password, &u->host, &u->port, &u->database};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const PQconninfoOption *o = find_keyword(p->parsed, keys[i]);
        const char *val = o ? o->val : NULL;
        if (val && slots[i] == &u->port && val[strspn(val, ",")] == '\0')
            val = NULL;
        char *v = alch__strdup(val);
        if (val && !v)
            return oom(p->err);
        set_owned(slots[i], v);
    }
    return 0;
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
    parser p = {text, NULL, err, url, NULL, NULL};
    int rc = check_characters(&p);
    if (rc == 0)
        rc = parse_scheme(&p, url, &p.rest);
    if (rc == 0)
        rc = libpq_parse(&p);
    if (rc == 0)
        rc = walk(&p);
    if (rc == 0)
        rc = p.parsed ? take_parts(&p) : unexplained(&p);
    PQconninfoFree(p.parsed);
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
