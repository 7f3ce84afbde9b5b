/* Signals about one contact between the pages that show it (node.h): a customer typing, an
 * agent's page having shown a message. A signal goes to this node's listeners at once and to
 * every other member through the cluster (cluster_signal_broadcast()), whose listeners get
 * it the same way. On the wire: the contact id as a varint, then the JSON text. Contact id 0
 * names no contact: such a body is a member's health report (health.c). */
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "node/internal.h"

static void hand_out(struct node *n, uint64_t contact, const char *json, size_t len)
{
    for (unsigned i = 0; i < n->n_signal_listeners; i++) {
        n->signal_listeners[i].cb(n->signal_listeners[i].data, contact, json, len);
    }
}

static void from_member(void *data, const void *body, size_t len)
{
    struct node *n = data;
    struct cd_reader r;
    cd_reader_init(&r, body, len);
    uint64_t contact = cd_rd_uvar(&r);
    size_t left = cd_rd_left(&r);
    if (r.err == 0 && contact == 0) {
        node__health_report(n, r.p, left); /* no contact: a member's health report */
        return;
    }
    if (r.err != 0 || left == 0) {
        return;
    }
    hand_out(n, contact, (const char *)r.p, left);
}

void node__signal_start(struct node *n)
{
    cluster_set_signal_handler(n->cluster, from_member, n);
}

int node_signal_listen(struct node *n, node_signal_cb cb, void *data)
{
    if (n->n_signal_listeners == NODE__SIGNAL_LISTENERS) {
        return CD_ENOMEM;
    }
    n->signal_listeners[n->n_signal_listeners++] = (struct node__signal_listener){cb, data};
    return 0;
}

int node_signal_publish(struct node *n, uint64_t contact, const char *json, size_t len)
{
    if (contact == 0 || len == 0) {
        return CD_EINVAL;
    }
    if (n->cluster == NULL || n->stopping) {
        return CD_EUNAVAIL;
    }
    struct cd_buf b;
    cd_buf_init(&b);
    cd_buf_uvar(&b, contact);
    cd_buf_put(&b, json, len);
    int rv = b.err;
    if (rv == 0 && b.len > CLUSTER_SIGNAL_MAX) {
        rv = CD_ETOOBIG;
    }
    if (rv == 0) {
        hand_out(n, contact, json, len);
        rv = cluster_signal_broadcast(n->cluster, b.data, b.len);
        rv = rv == CD_EUNAVAIL ? 0 : rv; /* no other member yet: this node's pages had it */
    }
    cd_buf_close(&b);
    return rv;
}
