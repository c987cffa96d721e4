/* libFuzzer harness: the URL parser (lib/src/driver/url.c), which reads URLs with libpq's
 * PQconninfoParse and adds SQLAlchemy's layer on top. Oracles:
 * - a URL that parses renders (password shown) to text that parses to the same rendering;
 * - the masked rendering parses to a URL whose password is "***", never the real one;
 * - no silent disagreement with libpq: when alch accepts a URL, libpq's own parser
 *   (PQconninfoParse, with the scheme written as libpq spells it) accepts it too and reads the
 *   same user, password, hosts, ports, database and options, and so does it for alch's
 *   rendering; when alch refuses a URL libpq accepts, the sentence is one of the stricter
 *   checks url.h lists; alch never refuses a URL without pointing at the mistake. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include <alch/alch.h>

#include "fuzz.h"

static void check_masked(const alch_url *url, const char *password)
{
    char *masked = alch_url_render(url, true);
    FUZZ_ASSERT(masked);
    alch_url *back = NULL;
    FUZZ_ASSERT(alch_url_parse(masked, &back, NULL) == 0);
    const char *shown = alch_url_password(back);
    FUZZ_ASSERT(!password || (shown && strcmp(shown, "***") == 0));
    alch_url_free(back);
    free(masked);
}

/* The text libpq reads for a URL alch reads: the same after "://", scheme "postgresql"; NULL
 * when the text has no "://". */
static char *as_libpq_spells_it(const char *text)
{
    const char *rest = strstr(text, "://");
    if (!rest)
        return NULL;
    size_t n = strlen(rest) + sizeof "postgresql";
    char *uri = malloc(n);
    FUZZ_ASSERT(uri);
    snprintf(uri, n, "postgresql%s", rest);
    return uri;
}

static PQconninfoOption *libpq_parse(const char *text)
{
    char *uri = as_libpq_spells_it(text);
    PQconninfoOption *opts = uri ? PQconninfoParse(uri, NULL) : NULL;
    free(uri);
    return opts;
}

static const char *ours(const alch_url *url, const char *keyword)
{
    const char *v = strcmp(keyword, "user") == 0       ? alch_url_username(url)
                    : strcmp(keyword, "password") == 0 ? alch_url_password(url)
                    : strcmp(keyword, "host") == 0     ? alch_url_host(url)
                    : strcmp(keyword, "port") == 0     ? alch_url_port(url)
                    : strcmp(keyword, "dbname") == 0   ? alch_url_database(url)
                                                       : alch_url_query(url, keyword);
    return v && *v ? v : NULL;
}

/* A port list of empty entries ("," for "h1,h2") means the default ports, as no port does:
 * alch says NULL. */
static const char *libpq_value(const PQconninfoOption *o)
{
    if (!o->val || !*o->val)
        return NULL;
    if (strcmp(o->keyword, "port") == 0 && o->val[strspn(o->val, ",")] == '\0')
        return NULL;
    return o->val;
}

/* alch read `text` as `url`: libpq must read it the same way. */
static void check_libpq_agrees(const char *text, const alch_url *url)
{
    PQconninfoOption *opts = libpq_parse(text);
    if (!opts)
        fuzz_fail("alch accepts '%s', libpq's PQconninfoParse refuses it", text);
    for (const PQconninfoOption *o = opts; o->keyword; o++) {
        const char *theirs = libpq_value(o), *mine = ours(url, o->keyword);
        if ((theirs == NULL) != (mine == NULL) || (mine && strcmp(theirs, mine) != 0))
            fuzz_fail("'%s': libpq reads %s as '%s', alch as '%s'", text, o->keyword,
                      theirs ? theirs : "(none)", mine ? mine : "(none)");
    }
    PQconninfoFree(opts);
}

/* alch refused `text`: fine where libpq refuses it too or the scheme is not libpq's; where
 * libpq accepts it, only for one of the stricter checks url.h lists. */
static void check_refusal(const char *text, const alch_error *err)
{
    FUZZ_ASSERT(err->message);
    if (strstr(err->message, "cannot say where"))
        fuzz_fail("'%s': refused without pointing at the mistake", text);
    PQconninfoOption *opts = libpq_parse(text);
    if (!opts)
        return;
    PQconninfoFree(opts);
    static const char *const stricter[] = {
        "scheme", "not a PostgreSQL URL", "unknown driver", /* the scheme is alch's to read */
        "space", "control character", "fragment",           /* refused characters */
        "port",                                             /* ports checked when parsing */
        "empty host", "encoded ','", "second '@'", "unexpected '@'", "unexpected '/'",
    };
    for (size_t i = 0; i < sizeof stricter / sizeof *stricter; i++)
        if (strstr(err->message, stricter[i]))
            return;
    fuzz_fail("'%s': libpq accepts it, alch refuses it with a sentence url.h does not list: %s",
              text, err->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    if (!text)
        return 0;
    alch_url *url = NULL;
    alch_error err = ALCH_ERROR_INIT;
    if (alch_url_parse(text, &url, &err) != 0) {
        check_refusal(text, &err);
        alch_error_clear(&err);
        free(text);
        return 0;
    }
    check_libpq_agrees(text, url);
    char *once = alch_url_render(url, false);
    FUZZ_ASSERT(once);
    check_libpq_agrees(once, url);
    alch_url *again = NULL;
    if (alch_url_parse(once, &again, &err) != 0)
        fuzz_fail("'%s' rendered as '%s', which does not parse: %s", text, once, err.message);
    char *twice = alch_url_render(again, false);
    if (strcmp(once, twice) != 0)
        fuzz_fail("'%s' rendered as '%s', then as '%s'", text, once, twice);
    const char *password = alch_url_password(url);
    check_masked(url, password && *password ? password : NULL);
    free(twice);
    alch_url_free(again);
    free(once);
    alch_url_free(url);
    free(text);
    return 0;
}
