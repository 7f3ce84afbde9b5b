/* node/http.c: the node's HTTP listener on the node file's api_listen, shared by adapters
 * that mount handlers on path prefixes from their start() (the JSON API, the web pages,
 * WebSockets).
 *
 * The server exists once something is mounted, and listens only once every adapter has
 * started, so that no request finds a path whose handler is not there yet. It closes
 * first when the node stops, before any adapter: no handler is entered once adapters
 * start closing. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "node/internal.h"

/* The mount whose prefix matches path longest; NULL when none does. */
static const struct node__mount *find_mount(const struct node *n, const char *path)
{
    const struct node__mount *best = NULL;
    size_t best_len = 0;

    for (unsigned i = 0; i < n->n_mounts; i++) {
        const struct node__mount *m = &n->mounts[i];
        size_t len = strlen(m->prefix);
        bool under = m->prefix[len - 1] == '/';
        bool match = under ? strncmp(path, m->prefix, len) == 0 : strcmp(path, m->prefix) == 0;
        if (match && len > best_len) {
            best = m;
            best_len = len;
        }
    }
    return best;
}

static void dispatch(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct node *n = data;
    const struct node__mount *m = find_mount(n, req->path);

    if (m == NULL) {
        http_reply_error(x, 404, "NOTFOUND", "no such endpoint: %s", req->path);
        return;
    }
    m->cb(m->data, x, req);
}

static bool prefix_valid(const char *prefix)
{
    size_t len = strlen(prefix);
    if (prefix[0] != '/' || len >= NODE_HTTP_PREFIX_MAX) {
        return false;
    }
    for (const char *c = prefix; *c != '\0'; c++) {
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '?' || *c == '#') {
            return false;
        }
    }
    return true;
}

int node_http_mount(struct node *n, const char *prefix, http_handler_cb cb, void *data)
{
    struct http_server_options opt;

    if (!n->started || n->stopping || n->http_listening) {
        return CD_ESTATE;
    }
    if (cb == NULL || !prefix_valid(prefix)) {
        return CD_EINVAL;
    }
    for (unsigned i = 0; i < n->n_mounts; i++) {
        if (strcmp(n->mounts[i].prefix, prefix) == 0) {
            return CD_EINVAL;
        }
    }
    if (n->n_mounts == NODE__MOUNTS_MAX) {
        return CD_ENOMEM;
    }
    if (n->http == NULL) {
        node__http_options(n, &opt);
        opt.tls = n->tls[NODE_TLS_API];
        if (http_server_new(n->loop, &opt, dispatch, n, &n->http) != 0) {
            return CD_ENOMEM;
        }
    }
    struct node__mount *m = &n->mounts[n->n_mounts++];
    snprintf(m->prefix, sizeof(m->prefix), "%s", prefix);
    m->cb = cb;
    m->data = data;
    return 0;
}

struct http_server *node_http_server(const struct node *n)
{
    return n->http;
}

int node__http_listen(struct node *n, char *err, size_t errlen)
{
    const struct config_node *cfg = &n->config;

    if (n->http == NULL) {
        return 0;
    }
    n->http_listening = true;
    return http_server_listen(n->http, cfg->api_listen.host, cfg->api_listen.port, err, errlen);
}

static void http_closed(void *data)
{
    struct node *n = data;
    void (*cb)(void *) = n->http_close_cb;

    n->http_close_cb = NULL;
    cb(n);
}

void node__http_close(struct node *n, void (*cb)(void *data))
{
    struct http_server *s = n->http;

    if (s == NULL) {
        cb(n);
        return;
    }
    n->http = NULL;
    n->http_close_cb = cb;
    http_server_close(s, http_closed, n);
}
