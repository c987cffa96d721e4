/* shop.c: the helpers of shop.h. */
#include <stdio.h>
#include <stdlib.h>

#include "shop.h"

void print_error(alch_error *err)
{
    char *text = alch_error_format(err);
    printf("%s\n", text ? text : "out of memory");
    free(text);
    alch_error_clear(err);
}

bool shop_open(alch_session **s)
{
    alch_error err = ALCH_ERROR_INIT;
    if (models_init(getenv("ALCH_DATABASE_URL"), true, &err) != 0 ||
        alch_session_open(session_factory, s, &err) != 0) {
        print_error(&err);
        return false;
    }
    alch_engine_set_echo(engine, true);
    return true;
}

void shop_close(alch_session *s)
{
    alch_session_rollback(s, NULL);
    alch_session_close(s);
    models_close();
}
