/* Host names resolved off the loop. libpq looks host names up with a blocking getaddrinfo()
 * inside PQconnectPoll(), which would stop every other task on the loop while DNS answers.
 * So names are resolved first with uv_getaddrinfo() (on libuv's thread pool), and libpq gets
 * the addresses as `hostaddr`, next to the names in `host` (still used for TLS, Kerberos and
 * the password file). A name with several addresses becomes several hosts, tried in order,
 * as libpq would. Unix socket paths and numeric addresses need no lookup. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "driver/conn_internal.h"
#include "driver/error_internal.h"
#include "util/buf.h"

enum { MAX_HOSTS = 16, MAX_ADDRS = 4 };

typedef struct lookup {
    uv_getaddrinfo_t req;
    struct alch__resolve *r;
    char *name;
    char addrs[MAX_ADDRS][INET6_ADDRSTRLEN];
    int naddrs;
    int status;
    bool needed;
    bool done;
} lookup;

struct alch__resolve {
    alch_conn *conn; /* NULL once the connection is gone */
    alch__resolve_cb cb;
    lookup hosts[MAX_HOSTS];
    char *ports[MAX_HOSTS]; /* a port per host, or ports[0] for all (NULL: none given) */
    int nhosts, nports, pending;
};

static bool numeric(const char *h)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

static int find_key(const char *const *keys, const char *key)
{
    for (int i = 0; keys[i]; i++)
        if (strcmp(keys[i], key) == 0)
            return i;
    return -1;
}

/* Split "a,b,c" into malloc'd parts; returns how many, or -1. */
static int split(const char *list, char **out, int max)
{
    int n = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n == max || !(out[n] = alch__strndup(p, len)))
            return -1;
        n++;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

const char *alch__conn_param(const alch_conn *c, const char *key)
{
    int i = c->conn_keys ? find_key(c->conn_keys, key) : -1;
    return i >= 0 ? c->conn_vals[i] : NULL;
}

static void resolve_free(alch__resolve *r)
{
    for (int i = 0; i < r->nhosts; i++)
        free(r->hosts[i].name);
    for (int i = 0; i < r->nports; i++)
        free(r->ports[i]);
    free(r);
}

/* Rewrite host, hostaddr and port in the connection's libpq parameters. */
static int rewrite(alch__resolve *r, alch_conn *c, alch_error *err)
{
    alch__buf host = ALCH__BUF_INIT, addr = ALCH__BUF_INIT, port = ALCH__BUF_INIT;
    int n = 0;
    const char *failed = NULL;
    int failed_status = 0;
    for (int i = 0; i < r->nhosts; i++) {
        lookup *h = &r->hosts[i];
        const char *p = r->nports > 1 ? r->ports[i] : r->nports ? r->ports[0] : "";
        int count = h->needed ? h->naddrs : 1;
        if (h->needed && h->naddrs == 0) {
            failed = h->name;
            failed_status = h->status;
        }
        for (int a = 0; a < count; a++, n++) {
            const char *sep = n ? "," : "";
            alch__buf_printf(&host, "%s%s", sep, h->name);
            alch__buf_printf(&addr, "%s%s", sep, h->needed ? h->addrs[a] : "");
            alch__buf_printf(&port, "%s%s", sep, p);
        }
    }
    int rc = 0;
    if (n == 0) {
        rc = alch__error_set(err, ALCH_EOPERATIONAL,
                             "could not translate host name \"%s\" to "
                             "address: %s",
                             failed, uv_strerror(failed_status));
        alch__error_hint(err, "check the host name in the URL (and that DNS works here)");
    } else if (host.oom || addr.oom || port.oom) {
        rc = alch__error_set(err, ALCH_ENOMEM, "out of memory");
    } else {
        c->resolved[0] = alch__buf_finish(&host);
        c->resolved[1] = alch__buf_finish(&addr);
        c->resolved[2] = alch__buf_finish(&port);
        int ih = find_key(c->conn_keys, "host");
        int ip = find_key(c->conn_keys, "port");
        int end = 0;
        while (c->conn_keys[end])
            end++;
        c->conn_vals[ih] = c->resolved[0];
        /* alch__url_libpq_params left room for two more keys: hostaddr and port */
        c->conn_keys[end] = "hostaddr";
        c->conn_vals[end++] = c->resolved[1];
        if (r->nports > 1 || ip < 0) {
            if (ip >= 0)
                c->conn_vals[ip] = c->resolved[2];
            else if (r->nports) {
                c->conn_keys[end] = "port";
                c->conn_vals[end++] = c->resolved[2];
            }
        } else {
            c->conn_vals[ip] = c->resolved[2];
        }
        c->conn_keys[end] = NULL;
        c->conn_vals[end] = NULL;
    }
    alch__buf_free(&host);
    alch__buf_free(&addr);
    alch__buf_free(&port);
    return rc;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    lookup *h = req->data;
    alch__resolve *r = h->r;
    h->status = status;
    for (struct addrinfo *a = res; a && h->naddrs < MAX_ADDRS; a = a->ai_next) {
        const void *src = a->ai_family == AF_INET
                              ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                              : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
        char text[INET6_ADDRSTRLEN];
        if (!inet_ntop(a->ai_family, src, text, sizeof text))
            continue;
        bool seen = false;
        for (int i = 0; i < h->naddrs; i++)
            seen = seen || strcmp(h->addrs[i], text) == 0;
        if (!seen)
            memcpy(h->addrs[h->naddrs++], text, sizeof text);
    }
    uv_freeaddrinfo(res);
    h->done = true;
    if (--r->pending > 0)
        return;
    alch_conn *c = r->conn;
    if (c) {
        c->resolver = NULL;
        alch_error err = ALCH_ERROR_INIT;
        int rc = rewrite(r, c, &err);
        r->cb(c, rc, &err);
        alch_error_clear(&err);
    }
    resolve_free(r);
}

int alch__resolve_start(alch_conn *c, alch__resolve_cb cb, alch_error *err)
{
    const char *const *keys = c->conn_keys;
    int ih = find_key(keys, "host");
    if (ih < 0 || find_key(keys, "hostaddr") >= 0 || !c->conn_vals[ih])
        return 0; /* a Unix socket by default, or addresses given */
    alch__resolve *r = calloc(1, sizeof *r);
    if (!r)
        return alch__error_set(err, ALCH_ENOMEM, "out of memory");
    char *names[MAX_HOSTS];
    int n = split(c->conn_vals[ih], names, MAX_HOSTS);
    int ip = find_key(keys, "port");
    r->nports = ip >= 0 && c->conn_vals[ip] ? split(c->conn_vals[ip], r->ports, MAX_HOSTS) : 0;
    if (n < 0 || r->nports < 0) {
        for (int i = 0; i < (n > 0 ? n : 0); i++)
            free(names[i]);
        r->nports = r->nports < 0 ? 0 : r->nports;
        resolve_free(r);
        return alch__error_set(err, ALCH_EARGUMENT, "too many hosts or ports (at most %d)",
                               MAX_HOSTS);
    }
    r->nhosts = n;
    int needed = 0;
    for (int i = 0; i < n; i++) {
        r->hosts[i].name = names[i];
        r->hosts[i].r = r;
        r->hosts[i].needed =
            names[i][0] && names[i][0] != '/' && names[i][0] != '@' && !numeric(names[i]);
        needed += r->hosts[i].needed;
    }
    if (needed == 0) {
        resolve_free(r);
        return 0;
    }
    r->conn = c;
    r->cb = cb;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    for (int i = 0; i < n; i++) {
        lookup *h = &r->hosts[i];
        if (!h->needed)
            continue;
        h->req.data = h;
        r->pending++;
        int rc = uv_getaddrinfo(c->loop, &h->req, on_resolved, h->name, NULL, &hints);
        if (rc) {
            r->pending--;
            h->status = rc;
            h->done = true;
        }
    }
    if (r->pending == 0) { /* not one lookup could start */
        int rc = rewrite(r, c, err);
        resolve_free(r);
        return rc ? rc : 0;
    }
    c->resolver = r;
    return 1;
}

void alch__resolve_detach(alch_conn *c)
{
    if (!c->resolver)
        return;
    c->resolver->conn = NULL; /* the lookups finish on the thread pool and free it */
    for (int i = 0; i < c->resolver->nhosts; i++)
        if (c->resolver->hosts[i].needed && !c->resolver->hosts[i].done)
            uv_cancel((uv_req_t *)&c->resolver->hosts[i].req);
    c->resolver = NULL;
}
