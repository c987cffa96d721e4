/**
 * @file watch.c
 * @brief Wait until the learner saves a file, or presses a key: the tutor's watch mode.
 *
 *     alch-watch DIR
 *
 * Watches DIR with libuv's file-system events and the keyboard at once. Exit status: 0 when
 * a file changed or `r` (or Enter) was pressed: check again; 3 for `h`: show the next hint;
 * 2 for `q` or end of input: quit. Where file events do not work (some network and container
 * file systems), `r` is the manual re-run.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

static int result = 2;
static uv_fs_event_t watcher;
static uv_tty_t tty;
static uv_timer_t settle;
static bool have_tty;

static void stop(int code)
{
    result = code;
    uv_stop(uv_default_loop());
}

/* Editors write a file in several steps: wait until the events stop for a moment. */
static void on_settled(uv_timer_t *t)
{
    (void)t;
    stop(0);
}

static void on_change(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)h;
    (void)events;
    if (status < 0 || !name || name[0] == '.' || strchr(name, '~'))
        return; /* editor swap and backup files */
    uv_timer_start(&settle, on_settled, 150, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char mem[64];
    *buf = uv_buf_init(mem, sizeof mem);
}

static void on_key(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)s;
    if (n < 0) {
        stop(2);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        char c = buf->base[i];
        if (c == 'q' || c == 3 /* Ctrl-C in raw mode */ || c == 4 /* Ctrl-D */)
            stop(2);
        else if (c == 'h')
            stop(3);
        else if (c == 'r' || c == '\n' || c == '\r')
            stop(0);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: alch-watch DIR\n");
        return 2;
    }
    uv_loop_t *loop = uv_default_loop();
    uv_timer_init(loop, &settle);
    uv_fs_event_init(loop, &watcher);
    if (uv_fs_event_start(&watcher, on_change, argv[1], 0) != 0)
        fprintf(stderr, "(file watching is not available here: press r to check again)\n");
    if (uv_guess_handle(0) == UV_TTY && uv_tty_init(loop, &tty, 0, 1) == 0) {
        have_tty = true;
        uv_tty_set_mode(&tty, UV_TTY_MODE_RAW);
        uv_read_start((uv_stream_t *)&tty, on_alloc, on_key);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    if (have_tty) {
        uv_tty_set_mode(&tty, UV_TTY_MODE_NORMAL);
        uv_tty_reset_mode();
    }
    return result;
}
