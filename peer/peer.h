/* peer: the members' private channel. Followers forward commands, read indexes, readiness
 * probes and history pages to other members over it, and the fast-failover watch
 * (cluster/watch.c) keeps a connection to the leader's. It listens on its own address
 * (the node file's listen.peer), apart from the public API, and serves only
 * POST /v1/internal/forward/{command,read-index,commit-index,history,audit,signal}; each
 * request carries the sender's proof of membership (cluster_proof_make()) as
 * ?member=ID&proof=HEX, and one without a proof that holds is answered 403 FORBIDDEN. Anything
 * else is 404 (405 for another method on a known path). docs/api.md has the wire format.
 *
 * The channel is HTTP/1.1 (adapters/http), over mutual TLS between members when the node
 * has TLS (peer_channel_set_tls()). Everything runs on the loop's thread. */
#ifndef CD_PEER_H
#define CD_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cluster/cluster.h"

/* The largest body of a request on the channel: a model install forwarded from a follower
 * carries the document (at most 4 MiB), its encoding and its diff. */
#define PEER_BODY_MAX (16u << 20)

struct peer_channel;

/* Creates the channel; it neither listens nor sends until told. Returns 0 or CD_ENOMEM. */
int peer_channel_new(uv_loop_t *loop, struct peer_channel **out);

/* The cluster whose requests the channel serves and whose proofs it makes (borrowed until
 * peer_channel_free()). Set it before listening or forwarding. */
void peer_channel_set_cluster(struct peer_channel *p, struct cluster *c);

/* Mutual TLS between members (both borrowed until peer_channel_free(); both NULL: plain
 * TCP, the default). server: members' connections to this channel, which must present a
 * certificate from the cluster's CA naming the member each request says it comes from
 * (else 403 FORBIDDEN); client: this member's connections to the others, checking that the
 * certificate of the member called names it. Set before listening or forwarding. */
void peer_channel_set_tls(struct peer_channel *p,
                          struct net_tls *server,
                          struct net_tls *client);

/* Listens on host:port (an IP literal; port 0: any free one). Returns 0, or CD_EINVAL /
 * CD_EIO / CD_ENOMEM with a message in err ("listen on '127.0.0.1:8181': address already
 * in use"); the channel then does not listen. At most once. */
int peer_channel_listen(struct peer_channel *p,
                        const char *host,
                        uint16_t port,
                        char *err,
                        size_t errlen);

/* The bound port after a successful listen; 0 before. */
uint16_t peer_channel_port(const struct peer_channel *p);

/* Stops listening and closes every connection to the listener: requests still waiting on
 * the cluster get no answer (the cluster answers into a detached exchange). cb (may be
 * NULL) fires once the listener's handles are closed, from inside when it never listened.
 * Forwarding from this node keeps working until peer_channel_free(). */
void peer_channel_close(struct peer_channel *p, void (*cb)(void *data), void *data);

/* Frees the channel: requests this node forwarded that are still waiting fail with
 * CD_EUNAVAIL (their callbacks fire from inside). Call after peer_channel_close()'s
 * callback, once the cluster no longer forwards (after cluster_close()). NULL is fine. */
void peer_channel_free(struct peer_channel *p);

/* Forwarding to another member's channel, for cluster_options.forward. */
struct cluster_forward_ops peer_channel_forward_ops(struct peer_channel *p);

#endif
