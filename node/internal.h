/* node/ internals shared by node.c (life cycle) and bus.c (the effect bus). */
#ifndef CD_NODE_INTERNAL_H
#define CD_NODE_INTERNAL_H

#include "node/node.h"

#define NODE__ADAPTERS_MAX 16
#define NODE__SIGNAL_LISTENERS 4

struct node__signal_listener
{
    node_signal_cb cb;
    void *data;
};

#define NODE__MOUNTS_MAX 32

/* A path prefix of the HTTP listener and the handler it leads to (node/http.c). */
struct node__mount
{
    char prefix[NODE_HTTP_PREFIX_MAX];
    http_handler_cb cb;
    void *data;
};

/* An adapter's place on the bus: it has acted on (or passed over) every effect up to and
 * including effect n of the entry at index. */
struct node__sub
{
    uint64_t index;
    uint32_t n;
    bool waiting; /* deliver() answered NODE_LATER for (wait_index, wait_n) */
    uint64_t wait_index;
    uint32_t wait_n;
    bool current; /* has been offered everything up to the bus's head */
};

struct node__adapter
{
    const struct node_adapter_ops *ops;
    void *self;
    bool started;
    struct node__sub sub;
};

struct node__bus
{
    uint64_t head;  /* the last entry handed to the bus (or applied at start) */
    uint64_t floor; /* what the outbox may drop below */
    uint64_t delivered, replayed;
    bool pumping; /* inside a delivery: node_ack() must wait for it to return */
    /* The entry being handed over, decoded once (bus.c). */
    struct engine_effect *fx;
    struct engine_history *hist;
    uint32_t n_fx, cap_fx;
};

struct node
{
    uv_loop_t *loop;
    struct config_node config;
    const char *boot_id;
    struct cluster_forward_ops forward;
    struct cluster *cluster;
    struct node__adapter adapters[NODE__ADAPTERS_MAX];
    unsigned n_adapters;
    unsigned closing; /* adapters still to close, counting down from the last started */
    bool started;
    bool stopping;
    void (*done)(void *data);
    void *done_data;
    struct node__bus bus;
    struct net_tls *tls[NODE_TLS_KINDS]; /* all NULL on an insecure node */
    struct node__signal_listener signal_listeners[NODE__SIGNAL_LISTENERS];
    unsigned n_signal_listeners;
    struct http_server *http; /* on api_listen, once something is mounted */
    bool http_listening;
    void (*http_close_cb)(void *data);
    struct node__mount mounts[NODE__MOUNTS_MAX];
    unsigned n_mounts;
    struct node__health *health; /* health.c; NULL once freed */
};

/* health.c: a member's health report (a signal for contact 0). */
void node__health_report(struct node *n, const void *body, size_t len);

/* signal.c: takes the signals other members send (once the cluster exists). */
void node__signal_start(struct node *n);

/* tls.c: the node's TLS contexts from the node file (none when it is insecure; an insecure
 * node logs a warning instead). Returns 0 or CD_EINVAL / CD_ENOMEM with a message naming
 * the file at fault. */
int node__tls_open(struct node *n, char *err, size_t errlen);
void node__tls_free(struct node *n);

/* http.c: listens on api_listen once every adapter has started (nothing when nothing is
 * mounted); returns 0 or CD_EINVAL / CD_EIO with a message. close: closes the listener and
 * every connection, then cb(n) (from inside when there is none). */
int node__http_listen(struct node *n, char *err, size_t errlen);
void node__http_close(struct node *n, void (*cb)(void *data));
/* adapters.c: the options of the HTTP listener (the API's body limits). */
void node__http_options(const struct node *n, struct http_server_options *out);

/* bus.c: positions every started subscriber and gives each what it has not acted on yet
 * (after the adapters started, before Raft starts). Returns 0 or an error with a message. */
int node__bus_start(struct node *n, char *err, size_t errlen);
/* For cluster_options.effects. */
void node__bus_committed(void *data, uint64_t index, const void *bytes, size_t len);
void node__bus_restored(void *data, uint64_t index);
void node__bus_free(struct node *n);

#endif
