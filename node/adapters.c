/* The built-in adapters and their registration. Adding a channel is one more ops table here
 * and one line in node__add_builtin(); the adapter itself knows nothing of node/.
 *
 * The peer channel (node/peer.c) comes first: members forward to each other over it.
 *
 * The HTTP API (adapters/api, adapters/http): the JSON API, /metrics and the event feed,
 * mounted on the node's HTTP listener (node/http.c).
 *
 * Web chat (adapters/chat, node/chat.c): the customers' WebSockets on the same listener.
 *
 * The pages (node/web.c, adapters/web) beside them on the same listener: mounted last, so
 * that a page directory named like a path another adapter serves fails the start. */
#include <stdio.h>
#include <stdlib.h>

#include "adapters/api/api.h"
#include "adapters/http/http.h"
#include "common/error.h"
#include "node/node.h"

struct api_adapter
{
    struct api *api;
    void (*done)(void *arg);
    void *arg;
};

/* What the API serves on the node's HTTP listener. */
static const char *const API_MOUNTS[] = {"/v1/", "/healthz", "/readyz", "/metrics"};

void node__http_options(const struct node *n, struct http_server_options *out)
{
    (void)n;
    api_http_options(out);
}

static int api_publish(void *data, uint64_t contact, const char *json, size_t len)
{
    return node_signal_publish(data, contact, json, len);
}

static void api_on_signal(void *data, uint64_t contact, const char *json, size_t len)
{
    api_signal(data, contact, json, len);
}

static size_t api_local_health(void *data, struct api_signal *out, size_t max)
{
    struct node_signal s[8];
    size_t n = node_health_local(data, s, max < 8 ? max : 8);
    for (size_t i = 0; i < n; i++) {
        out[i] = (struct api_signal){s[i].name, s[i].state, s[i].value, s[i].since};
    }
    return n;
}

static int api_start(void *self, struct node *n, char *err, size_t errlen)
{
    struct api_adapter *a = self;
    const struct config_node *cfg = node_config(n);
    api_set_cluster(a->api, node_cluster(n));
    api_set_origins(a->api, cfg);
    for (size_t i = 0; i < sizeof(API_MOUNTS) / sizeof(API_MOUNTS[0]); i++) {
        int rv = node_http_mount(n, API_MOUNTS[i], api_handle, a->api);
        if (rv != 0) {
            snprintf(err, errlen, "cannot mount '%s': %s", API_MOUNTS[i], cd_strerror(rv));
            return rv;
        }
    }
    api_set_server(a->api, node_http_server(n));
    api_set_signals(a->api, api_publish, n);
    api_set_local_health(a->api, api_local_health, n);
    int signals = node_signal_listen(n, api_on_signal, a->api);
    if (signals != 0) {
        snprintf(err, errlen, "cannot take signals: %s", cd_strerror(signals));
        return signals;
    }
    int rv = api_set_data_dir(a->api, cfg->data_dir);
    if (rv != 0) {
        snprintf(err, errlen, "data_dir '%s' is too long", cfg->data_dir);
    }
    return rv;
}

/* The event feed: every effect, and after a restart the latest kept ones again, so that a
 * client that follows the feed across the restart misses nothing and sees nothing twice. */
static const struct node_subscription API_FEED = {.kinds = 0, .backlog = 4096};

static int api_deliver(void *self, const struct node_delivery *d)
{
    struct api_adapter *a = self;
    api_events_effect(a->api, d->index, d->n, d->fx);
    return 0;
}

static void api_restored(void *self, uint64_t index)
{
    struct api_adapter *a = self;
    api_events_restored(a->api, index);
}

static void api_closed(void *data)
{
    struct api_adapter *a = data;
    a->done(a->arg);
}

/* The node has closed the HTTP listener already; a model install whose document is still
 * being read proposes to the cluster once it is read: the adapter is closed only once the
 * API has nothing left in flight. */
static void api_close_adapter(void *self, void (*done)(void *arg), void *arg)
{
    struct api_adapter *a = self;
    a->done = done;
    a->arg = arg;
    api_close(a->api, api_closed, a);
}

/* After the cluster: its forwarded requests still waiting were failed by cluster_close(). */
static void api_free_adapter(void *self)
{
    struct api_adapter *a = self;
    api_free(a->api);
    free(a);
}

static const struct node_adapter_ops API_OPS = {
    .name = "api",
    .start = api_start,
    .subscription = &API_FEED,
    .deliver = api_deliver,
    .restored = api_restored,
    .close = api_close_adapter,
    .free = api_free_adapter,
};

/* The API's webhooks, as an adapter of their own: woken by every committed effect (the
 * deliverer reads what it owes from the outbox itself, from each subscription's replicated
 * cursor), and holding the outbox back to the lowest such cursor. */
struct webhooks_adapter
{
    struct api_adapter *api;
};

static const struct node_subscription WEBHOOKS_WAKE = {.kinds = 0};

static int webhooks_start(void *self, struct node *n, char *err, size_t errlen)
{
    (void)self;
    (void)n;
    (void)err;
    (void)errlen;
    return 0;
}

static int webhooks_deliver(void *self, const struct node_delivery *d)
{
    struct webhooks_adapter *w = self;
    (void)d;
    api_webhooks_effect(w->api->api);
    return 0;
}

static uint64_t webhooks_holds(void *self)
{
    struct webhooks_adapter *w = self;
    return api_webhooks_holds(w->api->api);
}

static void webhooks_close(void *self, void (*done)(void *arg), void *arg)
{
    struct webhooks_adapter *w = self;
    api_webhooks_stop(w->api->api);
    done(arg);
}

static void webhooks_free(void *self)
{
    free(self);
}

static const struct node_adapter_ops WEBHOOKS_OPS = {
    .name = "webhooks",
    .start = webhooks_start,
    .subscription = &WEBHOOKS_WAKE,
    .deliver = webhooks_deliver,
    .holds = webhooks_holds,
    .close = webhooks_close,
    .free = webhooks_free,
};

static int add_webhooks(struct node *n, struct api_adapter *api, char *err, size_t errlen)
{
    struct webhooks_adapter *w = calloc(1, sizeof(*w));
    int rv = w == NULL ? CD_ENOMEM : node_add(n, &WEBHOOKS_OPS, w);
    if (rv != 0) {
        free(w);
        snprintf(err, errlen, "cannot register the webhooks: %s", cd_strerror(rv));
        return rv;
    }
    w->api = api;
    return 0;
}

static int add_api(struct node *n, char *err, size_t errlen)
{
    struct api_adapter *a = calloc(1, sizeof(*a));
    if (a == NULL || api_new(node_loop(n), &a->api) != 0) {
        free(a);
        snprintf(err, errlen, "out of memory");
        return CD_ENOMEM;
    }
    int rv = node_add(n, &API_OPS, a);
    if (rv != 0) {
        api_free_adapter(a);
        snprintf(err, errlen, "cannot register the API: %s", cd_strerror(rv));
        return rv;
    }
    return add_webhooks(n, a, err, errlen);
}

int node__add_builtin(struct node *n, char *err, size_t errlen)
{
    int rv = node__add_peer(n, err, errlen);
    rv = rv != 0 ? rv : node__add_health(n, err, errlen);
    rv = rv != 0 ? rv : add_api(n, err, errlen);
    rv = rv != 0 ? rv : node__add_chat(n, err, errlen);
    return rv != 0 ? rv : node__add_web(n, err, errlen);
}
