/* Web chat (adapters/chat) as one of the node's adapters: it mounts the chat's WebSocket
 * and configuration on the node's HTTP listener, takes the effects addressed to this node
 * and the signals from every member, and publishes the page's signals. */
#include <stdio.h>
#include <stdlib.h>

#include "adapters/chat/chat.h"
#include "common/error.h"
#include "node/node.h"

struct chat_adapter
{
    struct node *node;
    struct chat *chat; /* from start() on */
    void (*done)(void *arg);
    void *arg;
};

static void serve_ws(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct chat_adapter *a = data;
    chat_serve_ws(a->chat, x, req);
}

static void serve_config(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct chat_adapter *a = data;
    chat_serve_config(a->chat, x, req);
}

static void on_signal(void *data, uint64_t contact, const char *json, size_t len)
{
    struct chat_adapter *a = data;
    if (a->chat != NULL) {
        chat_signal(a->chat, contact, json, len);
    }
}

static int publish(void *data, uint64_t contact, const char *json, size_t len)
{
    return node_signal_publish(data, contact, json, len);
}

static int chat_start(void *self, struct node *n, char *err, size_t errlen)
{
    struct chat_adapter *a = self;
    const struct config_node *cfg = node_config(n);
    int rv = node_http_mount(n, "/chat/ws", serve_ws, a);
    rv = rv != 0 ? rv : node_http_mount(n, "/chat/config", serve_config, a);
    rv = rv != 0 ? rv : node_signal_listen(n, on_signal, a);
    if (rv != 0) {
        snprintf(err, errlen, "cannot mount the chat: %s", cd_strerror(rv));
        return rv;
    }
    struct chat_options opt = {
        .loop = node_loop(n),
        .cluster = node_cluster(n),
        .member = cfg->id,
        .tls = cfg->has_tls,
        .publish = publish,
        .publish_data = n,
    };
    char urls[CONFIG_PUBLIC_URLS_MAX][CONFIG_HOST_MAX + 24];
    const char *list[CONFIG_PUBLIC_URLS_MAX];
    for (uint32_t i = 0; i < cfg->n_public_urls && i < CONFIG_PUBLIC_URLS_MAX; i++) {
        config_origin_text(&cfg->public_urls[i], urls[i], sizeof(urls[i]));
        list[i] = urls[i];
    }
    opt.n_public_urls = cfg->n_public_urls;
    struct ws_limits lim = chat_limits();
    lim.max_per_address = cfg->chat_max_per_address ? cfg->chat_max_per_address : WS_NO_LIMIT;
    opt.ws = &lim;
    opt.public_urls = list;
    a->node = n;
    if (chat_new(&opt, &a->chat) != 0) {
        snprintf(err, errlen, "out of memory");
        return CD_ENOMEM;
    }
    return 0;
}

/* The effects of the chats this node holds: their contacts' home is here (SESSION_MOVED:
 * or was). */
static const struct node_subscription CHAT_EFFECTS = {.kinds = 0, .home_only = true};

static int chat_deliver(void *self, const struct node_delivery *d)
{
    struct chat_adapter *a = self;
    chat_effect(a->chat, d->fx);
    return 0;
}

static void chat_closed(void *data)
{
    struct chat_adapter *a = data;
    a->done(a->arg);
}

static void chat_close_adapter(void *self, void (*done)(void *arg), void *arg)
{
    struct chat_adapter *a = self;
    a->done = done;
    a->arg = arg;
    chat_close(a->chat, chat_closed, a);
}

static void chat_free_adapter(void *self)
{
    struct chat_adapter *a = self;
    chat_free(a->chat);
    free(a);
}

static const struct node_adapter_ops CHAT_OPS = {
    .name = "chat",
    .start = chat_start,
    .subscription = &CHAT_EFFECTS,
    .deliver = chat_deliver,
    .close = chat_close_adapter,
    .free = chat_free_adapter,
};

int node__add_chat(struct node *n, char *err, size_t errlen)
{
    struct chat_adapter *a = calloc(1, sizeof(*a));
    int rv = a == NULL ? CD_ENOMEM : node_add(n, &CHAT_OPS, a);
    if (rv != 0) {
        free(a);
        snprintf(err, errlen, "cannot register the chat: %s", cd_strerror(rv));
    }
    return rv;
}
