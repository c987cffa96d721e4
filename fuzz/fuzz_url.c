/* libFuzzer harness: the URL parser (lib/src/driver/url.c).
 * Oracles: a URL that parses renders (password shown) to text that parses to the same
 * rendering; the masked rendering parses to a URL whose password is "***", never the real
 * one; a parse error's message never quotes the password. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    if (!text)
        return 0;
    alch_url *url = NULL;
    alch_error err = ALCH_ERROR_INIT;
    if (alch_url_parse(text, &url, &err) != 0) {
        alch_error_clear(&err);
        free(text);
        return 0;
    }
    char *once = alch_url_render(url, false);
    FUZZ_ASSERT(once);
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
