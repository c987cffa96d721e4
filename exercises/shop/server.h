/* The shop's TCP server: every client's lines go to shop_handle(), every answer back to the
 * client followed by a line with one dot, all on one libuv loop. A client sends a command
 * and waits for its dot before the next one. `quit` closes the connection.
 * Given, not an exercise: exercise 08 is shop_handle(). */
#ifndef SHOP_SERVER_H
#define SHOP_SERVER_H

#include <uv.h>

#include "shop.h"

typedef struct shop_server shop_server;

/* Listen on 127.0.0.1:port (0: any free port, then *bound_port says which). */
int shop_server_start(uv_loop_t *loop, alch_sessionmaker *async_session, int port, int *bound_port,
                      shop_server **out);

/* Stop listening and close every client; the loop then finishes. */
void shop_server_stop(shop_server *srv);

#endif
