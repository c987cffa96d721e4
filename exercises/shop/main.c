/* shop: the capstone as a program. `shop PORT` serves the shop on 127.0.0.1:PORT with your
 * database package; try it with `nc 127.0.0.1 PORT` and type `categories`, `items 1`,
 * `item 2`, `start 42`, `quit`. The database is ALCH_DATABASE_URL (./tutor db url). */
#include <stdio.h>
#include <stdlib.h>

#include "server.h"

int main(int argc, char **argv)
{
    const char *url = getenv("ALCH_DATABASE_URL");
    int port = argc > 1 ? atoi(argv[1]) : 8025;
    alch_error err = ALCH_ERROR_INIT;
    if (!url || db_open(url, &err) != 0) {
        fprintf(stderr, "shop: %s\n", url ? err.message : "set ALCH_DATABASE_URL (./tutor db url)");
        return 1;
    }
    uv_loop_t *loop = uv_default_loop();
    alch_engine_options opts = alch_engine_options_default();
    opts.isolation_level = "AUTOCOMMIT"; /* each command commits by itself */
    alch_engine *async_engine;
    alch_sessionmaker *async_session;
    if (alch_engine_create_on_loop(loop, url, &opts, &async_engine, &err) != 0 ||
        alch_sessionmaker_create(async_engine, base, NULL, &async_session, &err) != 0) {
        fprintf(stderr, "shop: %s\n", err.message);
        return 1;
    }
    shop_server *srv;
    int bound;
    if (shop_server_start(loop, async_session, port, &bound, &srv) != 0) {
        fprintf(stderr, "shop: cannot listen on port %d\n", port);
        return 1;
    }
    printf("the shop is open on 127.0.0.1:%d (Ctrl-C closes it)\n", bound);
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
