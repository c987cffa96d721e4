/**
 * @file watch.c
 * @brief Wait until the learner saves a file, or presses a key: the tutor's watch mode.
 *
 *     alch-watch DIR
 *
 * Watches DIR and the keyboard at once. Exit status: 0 when a file changed or `r` (or Enter)
 * was pressed: check again; 3 for `h`: show the next hint; 2 for `q` or end of input: quit.
 * Where file events do not work (some network and container file systems), `r` is the manual
 * re-run.
 *
 * An editor writes a file in several steps (truncate, write, close; or a temporary file
 * renamed over it), and the check must read the whole file. On Linux, inotify says when a
 * C file or header was closed after writing, or renamed into place: that is a finished save,
 * and 20 ms later (another file of the same save may follow) the check starts. Any other
 * change (a file created, deleted, changed without a close yet) waits 150 ms for the events
 * to stop, as libuv's file-system events do elsewhere.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "msg.h" /* the learner's language: MSG(en, ru), check_ru() */

#ifdef __linux__
#include <sys/inotify.h>
#include <unistd.h>
#endif

/* Milliseconds from the last file event to the check: a finished save, or anything else. */
enum { SETTLE_SAVED_MS = 20, SETTLE_OTHER_MS = 150 };

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

/* Editor swap and backup files (.models.c.swp, models.c~) are not the learner's code. */
static bool is_editor_file(const char *name)
{
    return !name || name[0] == '.' || strchr(name, '~');
}

static void on_change(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)h;
    (void)events;
    if (status < 0 || is_editor_file(name))
        return;
    uv_timer_start(&settle, on_settled, SETTLE_OTHER_MS, 0);
}

#ifdef __linux__
static int inotify_fd = -1;
static uv_poll_t inotify_poll;

/* models.c, requests.h: the package's sources (not vim's test file 4913, not a temporary
 * file such as models.c.Ab12Cd that is renamed over models.c). */
static bool is_source(const char *name)
{
    size_t n = strlen(name);
    return !is_editor_file(name) && n > 2 && name[n - 2] == '.' &&
           (name[n - 1] == 'c' || name[n - 1] == 'h');
}

static void on_inotify(uv_poll_t *h, int status, int events)
{
    (void)h;
    (void)events;
    if (status < 0)
        return;
    /* aligned as struct inotify_event needs */
    static char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(inotify_fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                uv_timer_start(&settle, on_settled, SETTLE_OTHER_MS, 0);
                continue;
            }
            if (ev->len == 0 || !is_source(ev->name))
                continue;
            bool saved = ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO);
            uv_timer_start(&settle, on_settled, saved ? SETTLE_SAVED_MS : SETTLE_OTHER_MS, 0);
        }
    }
}

/* 0 when inotify watches DIR; otherwise the caller falls back to libuv's events. */
static int watch_inotify(uv_loop_t *loop, const char *dir)
{
    inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd < 0)
        return -1;
    uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY | IN_CREATE | IN_DELETE |
                    IN_MOVED_FROM | IN_ATTRIB;
    if (inotify_add_watch(inotify_fd, dir, mask) < 0 ||
        uv_poll_init(loop, &inotify_poll, inotify_fd) != 0) {
        close(inotify_fd);
        inotify_fd = -1;
        return -1;
    }
    uv_poll_start(&inotify_poll, UV_READABLE, on_inotify);
    return 0;
}
#else
static int watch_inotify(uv_loop_t *loop, const char *dir)
{
    (void)loop;
    (void)dir;
    return -1;
}
#endif

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
    if (watch_inotify(loop, argv[1]) != 0) {
        uv_fs_event_init(loop, &watcher);
        if (uv_fs_event_start(&watcher, on_change, argv[1], 0) != 0) {
            check_msg m =
                MSG("(file watching is not available here: press r to check again)\n",
                    "(слежение за файлами здесь недоступно: нажмите r, чтобы проверить снова)\n");
            fputs(check_ru() ? m.ru : m.en, stderr);
        }
    }
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
