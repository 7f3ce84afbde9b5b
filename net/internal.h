/* Private to net/: what the stream (stream.c) needs of the contexts (tls.c). */
#ifndef CD_NET_INTERNAL_H
#define CD_NET_INTERNAL_H

#include "net/net.h"

/* A stream started on t holds it until the stream has closed. */
void net__tls_hold(struct net_tls *t);
void net__tls_release(struct net_tls *t);
bool net__tls_server(const struct net_tls *t);

/* An SSL object (SSL *) for s on t: the accepting side for a server context; for a client,
 * the connecting side, checking peer_name (NULL: only the CA) and offering the session last
 * stored for it. NULL when out of memory or peer_name is unusable. */
void *net__ssl_new(struct net_tls *t, struct net_stream *s, const char *peer_name);

/* OpenSSL's reason for the oldest error queued on this thread, into out; clears the queue. */
void net__ssl_reason(char *out, size_t cap);

#endif
