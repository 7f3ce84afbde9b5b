/* The peer channel (peer/) as one of the node's adapters: it listens on listen.peer before
 * Raft starts, carries what this node forwards to the leader (it sets the node's forwarding
 * ops at registration), and is registered first, so that it closes last: members' requests
 * are served until every other adapter has stopped submitting. */
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"
#include "node/node.h"
#include "peer/peer.h"

struct peer_adapter
{
    struct peer_channel *channel;
    void (*done)(void *arg);
    void *arg;
};

static int peer_start(void *self, struct node *n, char *err, size_t errlen)
{
    struct peer_adapter *a = self;
    const struct config_addr *at = &node_config(n)->peer_listen;
    peer_channel_set_cluster(a->channel, node_cluster(n));
    peer_channel_set_tls(a->channel, node_tls(n, NODE_TLS_MEMBER_SERVER),
                         node_tls(n, NODE_TLS_MEMBER_CLIENT));
    return peer_channel_listen(a->channel, at->host, at->port, err, errlen);
}

static void peer_closed(void *data)
{
    struct peer_adapter *a = data;
    a->done(a->arg);
}

static void peer_close(void *self, void (*done)(void *arg), void *arg)
{
    struct peer_adapter *a = self;
    a->done = done;
    a->arg = arg;
    peer_channel_close(a->channel, peer_closed, a);
}

/* After the cluster: its forwarded requests still waiting were failed by cluster_close(). */
static void peer_free(void *self)
{
    struct peer_adapter *a = self;
    peer_channel_free(a->channel);
    free(a);
}

static const struct node_adapter_ops PEER_OPS = {
    .name = "peer",
    .start = peer_start,
    .close = peer_close,
    .free = peer_free,
};

int node__add_peer(struct node *n, char *err, size_t errlen)
{
    struct peer_adapter *a = calloc(1, sizeof(*a));
    if (a == NULL || peer_channel_new(node_loop(n), &a->channel) != 0) {
        free(a);
        snprintf(err, errlen, "out of memory");
        return CD_ENOMEM;
    }
    node_set_forward(n, peer_channel_forward_ops(a->channel));
    int rv = node_add(n, &PEER_OPS, a);
    if (rv != 0) {
        peer_free(a);
        snprintf(err, errlen, "cannot register the peer channel: %s", cd_strerror(rv));
    }
    return rv;
}
