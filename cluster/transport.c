/* Raft's TCP transport, seen through member addresses of the form
 * "raft-host:port|api-host:port|id": raft_uv_tcp gets the Raft part only. Keeping the API
 * address and the name in the Raft configuration means every node knows where to forward
 * to, and who a member is, from the replicated configuration alone. */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "common/error.h"

static struct cluster__wrap_transport *wrap_of(struct raft_uv_transport *t)
{
    return t->impl;
}

/* Writes the Raft part of address into buf; an address without '|' passes as it is. */
static const char *raft_part(const char *address, char *buf, size_t len)
{
    const char *bar = strchr(address, '|');
    size_t n = bar != NULL ? (size_t)(bar - address) : strlen(address);
    if (n >= len) {
        n = len - 1;
    }
    memcpy(buf, address, n);
    buf[n] = 0;
    return buf;
}

static int wrap_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    struct cluster__wrap_transport *w = wrap_of(t);
    int rv = w->inner.init(&w->inner, id, raft_part(address, w->address, sizeof(w->address)));
    if (rv != 0) {
        memcpy(t->errmsg, w->inner.errmsg, sizeof(t->errmsg));
    }
    return rv;
}

/* raft_uv_tcp leaves Nagle's algorithm on. Its messages are small and each direction of a
 * connection carries data one way only, so the peer's ACK is a delayed one: a message
 * written while the previous one is unacknowledged would wait for that ACK (tens of
 * milliseconds) before it leaves. */
static void no_delay(struct uv_stream_s *stream)
{
    if (stream != NULL && stream->type == UV_TCP) {
        uv_tcp_nodelay((uv_tcp_t *)stream, 1);
    }
}

static void wrap_accept(struct raft_uv_transport *inner,
                        raft_id id,
                        const char *address,
                        struct uv_stream_s *stream)
{
    struct cluster__wrap_transport *w = inner->data;
    no_delay(stream);
    w->accept(&w->outer, id, address, stream);
}

static int wrap_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct cluster__wrap_transport *w = wrap_of(t);
    w->accept = cb;
    int rv = w->inner.listen(&w->inner, wrap_accept);
    if (rv != 0) {
        memcpy(t->errmsg, w->inner.errmsg, sizeof(t->errmsg));
    }
    return rv;
}

/* A connect request of ours in front of raft's, so that the stream can be tuned before
 * raft sees it. */
struct wrap_connect_req
{
    struct raft_uv_connect inner;
    struct raft_uv_connect *outer;
    raft_uv_connect_cb cb;
};

static void wrap_connected(struct raft_uv_connect *inner,
                           struct uv_stream_s *stream,
                           int status)
{
    struct wrap_connect_req *r = inner->data;
    struct raft_uv_connect *outer = r->outer;
    raft_uv_connect_cb cb = r->cb;
    free(r);
    if (status == 0) {
        no_delay(stream);
    }
    cb(outer, stream, status);
}

static int wrap_connect(struct raft_uv_transport *t,
                        struct raft_uv_connect *req,
                        raft_id id,
                        const char *address,
                        raft_uv_connect_cb cb)
{
    struct cluster__wrap_transport *w = wrap_of(t);
    char buf[CONFIG_HOST_MAX + 8];
    struct wrap_connect_req *r = malloc(sizeof(*r));
    if (r == NULL) {
        return RAFT_NOMEM;
    }
    *r = (struct wrap_connect_req){.inner.data = r, .outer = req, .cb = cb};
    int rv = w->inner.connect(&w->inner, &r->inner, id, raft_part(address, buf, sizeof(buf)),
                              wrap_connected);
    if (rv != 0) {
        free(r);
    }
    return rv;
}

static void wrap_inner_closed(struct raft_uv_transport *inner)
{
    struct cluster__wrap_transport *w = inner->data;
    raft_uv_transport_close_cb cb = w->close_cb;
    raft_uv_tcp_close(&w->inner);
    if (cb != NULL) {
        cb(&w->outer);
    }
}

static void wrap_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct cluster__wrap_transport *w = wrap_of(t);
    w->close_cb = cb;
    w->inner.close(&w->inner, wrap_inner_closed);
}

int cluster__transport_init(struct cluster__wrap_transport *w, uv_loop_t *loop)
{
    memset(w, 0, sizeof(*w));
    if (raft_uv_tcp_init(&w->inner, loop) != 0) {
        return CD_ENOMEM;
    }
    w->inner.data = w;
    w->outer.impl = w;
    w->outer.init = wrap_init;
    w->outer.listen = wrap_listen;
    w->outer.connect = wrap_connect;
    w->outer.close = wrap_close;
    return 0;
}
