/* node: the composition root. One node of a cluster: the cluster (storage and Raft) and
 * the adapters around it, started and stopped in one order, in one place.
 *
 *   node_new()       loads nothing: takes a node file already read (config_node_load)
 *   node_add()       registers an adapter (its ops table); node_new() registers the built-in
 *                    ones (node/adapters.c), tests may add their own
 *   node_start()     creates the cluster, starts every adapter in registration order, then
 *                    starts Raft; an adapter that fails to start stops the start: the ones
 *                    started before it are closed again, in reverse order
 *   node_stop()      a leader hands leadership over first; then every adapter is closed, in
 *                    reverse order, then the cluster, then every adapter is freed; done fires
 *                    once all of that has happened
 *
 * The effect bus (node/bus.c) gives each adapter that subscribes the effects it asked for,
 * once each and only after they are durable here, in order, with a cursor that survives a
 * restart (node/README.md). Adapters never see each other; they reach the cluster through
 * node_cluster() and cluster.h. */
#ifndef CD_NODE_H
#define CD_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "adapters/http/http.h"
#include "cluster/cluster.h"
#include "config/config.h"

struct node;

/* What an adapter takes from the effect bus. */
struct node_subscription
{
    uint32_t kinds; /* bit (1u << kind) per enum engine_effect_kind; 0 = every kind */
    /* Only effects addressed to this node: the contact's home (or, for SESSION_MOVED,
     * _ENDED and _LOST, its old home) is this node's id. */
    bool home_only;
    /* Keep a cursor in storage under the adapter's name: after a restart the adapter is
     * given what follows the last effect it acted on, nothing before and nothing skipped. A
     * new durable subscriber starts after what is applied when it first starts. */
    bool durable;
    /* Not durable: the latest entries kept (at most this many) are given again at start,
     * after restored() says where they begin; 0 starts after what is applied. */
    uint32_t backlog;
};

/* One effect handed to a subscriber: effect n (from 0) of the entry at index. */
struct node_delivery
{
    uint64_t index;
    uint32_t n;
    const struct engine_effect *fx; /* borrowed during the call (engine.h) */
    bool leader;                    /* this node leads now (leader-only work) */
};

/* deliver()'s answer: it will act later and say so with node_ack(). */
#define NODE_LATER 1

/* An adapter's seam. Every function but start and close may be NULL. */
struct node_adapter_ops
{
    const char *name; /* in logs: "api", "chat", ... */
    /* After the cluster is created and before Raft starts (node_cluster() is valid; nothing
     * has been applied yet). Returns 0, or a CD_E* code with a message in err. */
    int (*start)(void *self, struct node *n, char *err, size_t errlen);
    /* What it takes from the effect bus; NULL takes nothing. */
    const struct node_subscription *subscription;
    /* An effect it subscribed to, after its entry committed here, in order, each once.
     * Returns 0 once it has acted on it, or NODE_LATER: it acts later and calls node_ack(),
     * and nothing more is delivered to it until then. */
    int (*deliver)(void *self, const struct node_delivery *d);
    /* The effects of the entries up to index will not be delivered: this node caught up by
     * a snapshot and never applied them, or (not durable) it starts there. */
    void (*restored)(void *self, uint64_t index);
    /* The lowest entry index whose effects the adapter still reads back from the outbox
     * itself (storage_foreach_effects), or 0: the outbox keeps them (up to its hard limit,
     * bus.c). */
    uint64_t (*holds)(void *self);
    /* Stop taking work; call done(arg) once nothing the adapter holds can submit to the
     * cluster any more (may be from inside). Only adapters whose start succeeded are closed. */
    void (*close)(void *self, void (*done)(void *arg), void *arg);
    /* After the cluster is closed: release what is left. Called for every registered
     * adapter, started or not. */
    void (*free)(void *self);
};

/* What node_new() takes. How followers reach the leader is set by the adapter that carries
 * it (the peer channel, node/peer.c), with node_set_forward(). */
struct node_options
{
    const struct config_node *config; /* copied */
    const char *boot_id;              /* NULL: the machine's (cluster_options.boot_id) */
    bool builtin;                     /* register node/adapters.c's adapters */
};

/* Returns 0 or CD_ENOMEM, with a message. */
int node_new(uv_loop_t *loop,
             const struct node_options *opt,
             struct node **out,
             char *err,
             size_t errlen);
/* Registers an adapter before node_start(): ops is borrowed for the node's life. Returns 0,
 * CD_ESTATE (already started) or CD_ENOMEM. */
int node_add(struct node *n, const struct node_adapter_ops *ops, void *self);
/* The adapter that carries forwarded requests sets how (before node_start(), from
 * node_new()'s registrations). */
void node_set_forward(struct node *n, struct cluster_forward_ops forward);

/* The adapter self has acted on the effect it was last delivered (that deliver() answered
 * NODE_LATER). Returns 0, or CD_ESTATE when nothing of its awaits an acknowledgement. */
int node_ack(struct node *n, void *self);

/* Returns 0, or a CD_E* code with a message (the node is then stopped: node_stop() and
 * node_free() as usual). */
int node_start(struct node *n, char *err, size_t errlen);
/* Stops the node (a second call does nothing); done (may be NULL) fires once every adapter
 * is closed and freed and the cluster is closed. */
void node_stop(struct node *n, void (*done)(void *data), void *data);
/* Frees what node_stop() left (the node itself); call from done or later. */
void node_free(struct node *n);

uv_loop_t *node_loop(const struct node *n);
struct cluster *node_cluster(const struct node *n); /* NULL before node_start() */
const struct config_node *node_config(const struct node *n);

/* The node's TLS contexts (net/net.h), made at node_start() from the node file's tls
 * section; all NULL on an insecure node. Borrowed until node_free(). */
enum node_tls_kind {
    NODE_TLS_API,           /* the HTTPS API: this node's certificate, no client's asked */
    NODE_TLS_MEMBER_SERVER, /* members' connections in: their certificates are required */
    NODE_TLS_MEMBER_CLIENT, /* connections out to members: this node's certificate */
    NODE_TLS_KINDS
};
struct net_tls *node_tls(const struct node *n, enum node_tls_kind kind);

/* Reads the certificate, key and CA files again (SIGHUP): new connections use them, open
 * ones keep theirs. On failure nothing changes and err says why. 0 with nothing done on an
 * insecure node. */
int node_reload_tls(struct node *n, char *err, size_t errlen);

/* ---- The HTTP listener ------------------------------------------------------------ */

/* The node's HTTP server on the node file's api_listen (HTTPS unless the node is
 * insecure) is shared: adapters mount handlers on path prefixes from their start(), and
 * the node routes each request to the handler of the longest prefix that matches its
 * (percent-decoded) path. A prefix ending in '/' matches every path under it ("/v1/"
 * matches "/v1/contacts", not "/v1"); one that does not matches that path exactly. A path
 * no prefix matches is answered 404 NOTFOUND in the API's error shape. The listener opens
 * once every adapter has started (a failure to listen fails node_start()), and closes,
 * every connection with it, before the first adapter is closed. */
#define NODE_HTTP_PREFIX_MAX 128

/* Mounts cb (data is handed to it) on prefix, which starts with '/', holds no spaces,
 * controls, '?' or '#', and is shorter than NODE_HTTP_PREFIX_MAX; copied. Returns 0,
 * CD_EINVAL (a prefix not so, or mounted already), CD_ESTATE (not from an adapter's
 * start()) or CD_ENOMEM. */
int node_http_mount(struct node *n, const char *prefix, http_handler_cb cb, void *data);
/* The listener's server (its figures, for /metrics), borrowed until node_stop()'s close of
 * it; NULL when nothing is mounted or before node_start(). */
struct http_server *node_http_server(const struct node *n);

/* node/adapters.c: registers the built-in adapters (the peer channel, the HTTP API). */
int node__add_builtin(struct node *n, char *err, size_t errlen);
/* node/chat.c: registers web chat. */
int node__add_chat(struct node *n, char *err, size_t errlen);
/* node/health.c: registers the health monitor (an adapter with no subscription). */
int node__add_health(struct node *n, char *err, size_t errlen);
/* node/peer.c: registers the peer channel and sets the node's forwarding ops. */
int node__add_peer(struct node *n, char *err, size_t errlen);
/* node/web.c: registers the pages (adapters/web), served on the HTTP listener. */
int node__add_web(struct node *n, char *err, size_t errlen);

/* Signals (signal.c): what the pages showing one contact tell each other that is worth
 * nothing a moment later and so is not replicated: a customer or an agent typing, a page
 * having shown a message. A published signal reaches every listener on this node at once
 * and every listener on the other members through the peer channel, best effort: no order
 * between publishers, no retry, no replay (cluster_signal_broadcast()). json is the
 * signal's text, at most about CLUSTER_SIGNAL_MAX bytes; listeners pick the contacts they
 * show. */
typedef void (*node_signal_cb)(void *data, uint64_t contact, const char *json, size_t len);
/* From an adapter's start(): at most 4 listeners. Returns 0 or CD_ENOMEM. */
int node_signal_listen(struct node *n, node_signal_cb cb, void *data);
/* Returns 0, CD_EINVAL (contact 0 or an empty text), CD_ETOOBIG, CD_ENOMEM, or CD_EUNAVAIL
 * while the node is not running. */
int node_signal_publish(struct node *n, uint64_t contact, const char *json, size_t len);

/* Health (health.c): this node's own signals as it measures them now (not replicated;
 * the replicated view is the engine's, engine/health.h): cluster.leader (bad while this
 * node knows no leader, since when), node.ID.disk_free, node.ID.store_used. Fills at most
 * max; returns how many. Names are borrowed until control returns to the loop. */
struct node_signal
{
    const char *name;
    uint8_t state; /* enum engine_signal_state */
    int64_t value;
    int64_t since; /* wall ms */
};
size_t node_health_local(const struct node *n, struct node_signal *out, size_t max);

/* Figures of the bus for /metrics and tests. */
struct node_bus_stats
{
    uint64_t head;      /* the last entry whose effects were handed to the bus */
    uint64_t floor;     /* entries below it may have been dropped from the outbox */
    uint64_t delivered; /* effects delivered, all subscribers */
    uint64_t replayed;  /* of those, read back from the outbox (restart, late ack) */
};
void node_bus_stats(const struct node *n, struct node_bus_stats *out);

#endif
