/* The channel's listener: the endpoints members forward to, behind their proof. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "peer/internal.h"

#define PATH_PREFIX "/v1/internal/forward/"

bool peer__path(int kind, char *out, size_t cap)
{
    const char *name = cluster_forward_kind_name(kind);
    int n = name != NULL ? snprintf(out, cap, PATH_PREFIX "%s", name) : -1;
    return n > 0 && (size_t)n < cap;
}

/* The kind whose endpoint path is, or 0. */
static int kind_of(const char *path)
{
    char known[64];
    for (int kind = 1; kind <= CLUSTER_FWD_KINDS; kind++) {
        if (peer__path(kind, known, sizeof(known)) && strcmp(known, path) == 0) {
            return kind;
        }
    }
    return 0;
}

/* The forwarding client (forward.c) reads only the error code: TIMEDOUT, or anything
 * else as "unavailable". */
static void fail(struct http_exchange *x, int code)
{
    int status = code == CD_ETIMEDOUT                                            ? 504
                 : code == CD_EUNAVAIL                                           ? 503
                 : code == CD_EINVAL || code == CD_ECORRUPT || code == CD_EPARSE ? 400
                                                                                 : 500;
    http_reply_error(x, status, cd_errname(code), "%s", cd_strerror(code));
}

static void served(void *data, int status, const void *bytes, size_t len)
{
    struct http_exchange *x = data;
    if (status != 0) {
        fail(x, status);
    } else {
        http_reply(x, 200, "application/octet-stream", bytes, len);
    }
}

/* Only members are served: what they send runs as it is (an engine command, say). */
static bool allowed(struct peer_channel *p,
                    struct http_exchange *x,
                    const struct http_request *req)
{
    struct cluster_proof proof;
    if (http_query_get(req, "member", proof.member, sizeof(proof.member)) < 0 ||
        http_query_get(req, "proof", proof.mac, sizeof(proof.mac)) < 0) {
        http_reply_error(x, 403, "FORBIDDEN",
                         "the peer channel serves members of the cluster only: this request "
                         "carries no proof (?member=ID&proof=HMAC)");
        return false;
    }
    int rv = cluster_proof_check(p->cluster, &proof, req->path, req->body, req->body_len);
    if (rv == CD_ENOMEM) {
        fail(x, rv);
        return false;
    }
    if (rv != 0) {
        http_reply_error(x, 403, "FORBIDDEN",
                         "the peer channel serves members of the cluster only: the proof of "
                         "'%s' does not hold (a stranger, or another cluster secret)",
                         proof.member);
        return false;
    }
    /* Under TLS the connection's certificate (from the cluster's CA: the handshake checked
     * that) must name the member the request claims to come from. */
    if (p->server_tls != NULL && !http_exchange_peer_is(x, proof.member)) {
        http_reply_error(x, 403, "FORBIDDEN",
                         "the peer channel serves members of the cluster only: the client "
                         "certificate does not name '%s'",
                         proof.member);
        return false;
    }
    return true;
}

static void handle(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct peer_channel *p = data;
    int kind = kind_of(req->path);
    if (p->cluster != NULL && cluster_isolated(p->cluster)) {
        http_exchange_drop(x); /* a drill cut this member off: as if nothing arrived */
    } else if (kind == 0) {
        http_reply_error(x, 404, "NOTFOUND", "no such endpoint: %s", req->path);
    } else if (req->method != HTTP_M_POST) {
        http_reply_error(x, 405, "METHOD", "%s is not allowed on %s", req->method_name,
                         req->path);
    } else if (allowed(p, x, req)) {
        cluster_serve_forward(p->cluster, (enum cluster_forward_kind)kind, req->body,
                              req->body_len, served, x);
    }
}

int peer_channel_new(uv_loop_t *loop, struct peer_channel **out)
{
    struct peer_channel *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return CD_ENOMEM;
    }
    p->loop = loop;
    *out = p;
    return 0;
}

void peer_channel_set_cluster(struct peer_channel *p, struct cluster *c)
{
    p->cluster = c;
}

void peer_channel_set_tls(struct peer_channel *p,
                          struct net_tls *server,
                          struct net_tls *client)
{
    p->server_tls = server;
    p->client_tls = client;
}

int peer_channel_listen(struct peer_channel *p,
                        const char *host,
                        uint16_t port,
                        char *err,
                        size_t errlen)
{
    /* No cap per address: every member's forwarding pool may hold 128 connections to this
     * one, and members that share a host (a test bed, the demo) share an address; the
     * server's cap on connections in all, with idle ones evicted first, still bounds them. */
    struct http_server_options opt = {
        .max_body = PEER_BODY_MAX, .max_per_address = HTTP_NO_LIMIT, .tls = p->server_tls};
    struct http_server *s;
    if (p->server != NULL) {
        snprintf(err, errlen, "the peer channel listens already");
        return CD_ESTATE;
    }
    if (http_server_new(p->loop, &opt, handle, p, &s) != 0) {
        snprintf(err, errlen, "out of memory");
        return CD_ENOMEM;
    }
    int rv = http_server_listen(s, host, port, err, errlen);
    if (rv != 0) {
        http_server_close(s, NULL, NULL);
        return rv;
    }
    p->server = s;
    p->port = http_server_port(s);
    return 0;
}

uint16_t peer_channel_port(const struct peer_channel *p)
{
    return p->port;
}

void peer_channel_close(struct peer_channel *p, void (*cb)(void *data), void *data)
{
    struct http_server *s = p->server;
    p->server = NULL;
    if (s != NULL) {
        http_server_close(s, cb, data);
    } else if (cb != NULL) {
        cb(data);
    }
}

void peer_channel_free(struct peer_channel *p)
{
    if (p == NULL) {
        return;
    }
    assert(p->server == NULL); /* peer_channel_close() first */
    for (unsigned i = 0; i < p->n_members; i++) {
        http_client_close(p->members[i].client);
    }
    free(p);
}
