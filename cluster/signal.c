/* Signals between members: see cluster.h. Each is one request on the peer channel to each
 * other member, answered at once by the member's handler; nothing waits for the answers but
 * the counters. */
#include "cluster/internal.h"
#include "common/error.h"

void cluster_set_signal_handler(struct cluster *c, cluster_signal_cb cb, void *data)
{
    c->signals.cb = cb;
    c->signals.data = data;
}

void cluster__signal_serve(struct cluster *c, const void *body, size_t len)
{
    if (len == 0 || len > CLUSTER_SIGNAL_MAX) {
        return;
    }
    c->signals.received++;
    if (c->signals.cb != NULL) {
        c->signals.cb(c->signals.data, body, len);
    }
}

static void sent(struct cluster *c, void *owner, int status, const void *reply, size_t len)
{
    (void)owner;
    (void)reply;
    (void)len;
    if (status != 0) {
        c->signals.failed++;
    }
}

int cluster_signal_broadcast(struct cluster *c, const void *body, size_t len)
{
    if (len == 0 || len > CLUSTER_SIGNAL_MAX) {
        return len == 0 ? CD_EINVAL : CD_ETOOBIG;
    }
    if (!c->raft_started || c->closing) {
        return CD_EUNAVAIL;
    }
    for (unsigned i = 0; i < c->raft.configuration.n; i++) {
        raft_id id = c->raft.configuration.servers[i].id;
        char peer[CONFIG_HOST_MAX + 8];
        if (id == c->raft.id || cluster__member_peer(c, id, peer, sizeof(peer)) == NULL) {
            continue;
        }
        c->signals.sent++;
        int rv = cluster__peer_send(c, id, peer, CLUSTER_FWD_SIGNAL, body, len, sent, NULL);
        if (rv == CD_ENOMEM) {
            return rv;
        }
        if (rv != 0) {
            c->signals.failed++;
        }
    }
    return 0;
}
