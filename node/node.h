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
 * Effects of applied entries reach every adapter that wants them, in registration order, on
 * every node (node/README.md). Adapters never see each other; they reach the cluster
 * through node_cluster() and cluster.h. */
#ifndef CD_NODE_H
#define CD_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cluster/cluster.h"
#include "config/config.h"

struct node;

/* An adapter's seam. Every function but start and close may be NULL. */
struct node_adapter_ops
{
    const char *name; /* in logs: "api", "chat", ... */
    /* After the cluster is created and before Raft starts (node_cluster() is valid; nothing
     * has been applied yet). Returns 0, or a CD_E* code with a message in err. */
    int (*start)(void *self, struct node *n, char *err, size_t errlen);
    /* The effects of an applied entry: effect i (from 0) of the entry at index. */
    void (*effect)(void *self, uint64_t index, uint32_t i, const struct engine_effect *fx);
    /* The state was replaced by a snapshot at index: the effects up to it were not seen. */
    void (*restored)(void *self, uint64_t index);
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

/* node/adapters.c: registers the built-in adapters (the peer channel, the HTTP API). */
int node__add_builtin(struct node *n, char *err, size_t errlen);
/* node/peer.c: registers the peer channel and sets the node's forwarding ops. */
int node__add_peer(struct node *n, char *err, size_t errlen);

#endif
