/* The connecting side of the guard (guard.h): connect to a member's Raft port, say HELLO,
 * check its CHALLENGE (it holds the secret and answered this HELLO), send the PROOF and
 * raft_uv_tcp's own handshake, and only then give raft the connection.
 *
 * Raft only writes on the connections it makes. Over plain TCP (a node without TLS
 * contexts) it therefore gets the TCP stream itself, as cheap as raft_uv_tcp: this file.
 * Over TLS raft cannot write to the socket; it gets one end of a socketpair instead and
 * link.c pumps what it writes through TLS. The handshake's bytes are made here for both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/internal.h"
#include "common/error.h"

struct guard_dial
{
    struct cluster__transport *t;
    struct guard_dial *prev, *next; /* in t->dials */
    struct raft_uv_connect *req;
    raft_uv_connect_cb cb;
    uv_tcp_t *tcp; /* raft's once handed over; raft frees it with raft_free() */
    uv_connect_t connect;
    uv_write_t hello_req, proof_req;
    uint64_t deadline;
    int status; /* for cb, once the connection is closed */
    bool failing;
    size_t got;
    uint8_t hello[CLUSTER__HELLO_LEN];
    uint8_t challenge[CLUSTER__CHALLENGE_LEN];
    uint8_t out[CLUSTER__ANSWER_MAX];
};

static void dial_unlink(struct guard_dial *d)
{
    struct cluster__transport *t = d->t;
    if (d->prev != NULL) {
        d->prev->next = d->next;
    } else {
        t->dials = d->next;
    }
    if (d->next != NULL) {
        d->next->prev = d->prev;
    }
    d->prev = d->next = NULL;
}

static void dial_closed(uv_handle_t *h)
{
    struct guard_dial *d = h->data;
    struct cluster__transport *t = d->t;
    raft_free(d->tcp);
    d->cb(d->req, NULL, d->status);
    free(d);
    cluster__guard_object_closed(t);
}

static void dial_fail(struct guard_dial *d, int status)
{
    if (d->failing) {
        return;
    }
    d->failing = true;
    d->status = status;
    dial_unlink(d);
    uv_close((uv_handle_t *)d->tcp, dial_closed);
}

void cluster__dial_expire(struct cluster__transport *t, uint64_t now, bool all)
{
    struct guard_dial *next;
    for (struct guard_dial *d = t->dials; d != NULL; d = next) {
        next = d->next;
        if (all) {
            dial_fail(d, RAFT_CANCELED);
        } else if (d->deadline <= now) {
            t->stats.timed_out++;
            dial_fail(d, RAFT_NOCONNECTION);
        }
    }
}

/* ---- Isolation -----------------------------------------------------------------------------
 */

/* The socket's two ends, as the kernel has them now; false when fd is no socket. */
static bool ends_of(int fd, struct sockaddr_storage *local, struct sockaddr_storage *remote)
{
    socklen_t ll = sizeof(*local), rl = sizeof(*remote);
    memset(local, 0, sizeof(*local));
    memset(remote, 0, sizeof(*remote));
    return getsockname(fd, (struct sockaddr *)local, &ll) == 0 &&
           getpeername(fd, (struct sockaddr *)remote, &rl) == 0;
}

/* Whether the record still names the socket it was made for (raft has not closed it). */
static bool still_given(const struct cluster__given *g)
{
    struct sockaddr_storage local, remote;
    return ends_of(g->fd, &local, &remote) && memcmp(&local, &g->local, sizeof(local)) == 0 &&
           memcmp(&remote, &g->remote, sizeof(remote)) == 0;
}

void cluster__dial_given(struct cluster__transport *t, uv_tcp_t *tcp)
{
    unsigned k = 0;
    for (unsigned i = 0; i < t->n_given; i++) {
        if (still_given(&t->given[i])) {
            t->given[k++] = t->given[i];
        }
    }
    t->n_given = k;
    uv_os_fd_t fd;
    struct cluster__given g;
    if (uv_fileno((uv_handle_t *)tcp, &fd) != 0 || !ends_of(fd, &g.local, &g.remote)) {
        return;
    }
    g.fd = fd;
    if (t->n_given == CLUSTER__GIVEN_MAX) {
        memmove(&t->given[0], &t->given[1], (CLUSTER__GIVEN_MAX - 1) * sizeof(t->given[0]));
        t->n_given--;
    }
    t->given[t->n_given++] = g;
}

void cluster__dial_cut(struct cluster__transport *t)
{
    struct guard_dial *next;
    for (struct guard_dial *d = t->dials; d != NULL; d = next) {
        next = d->next;
        dial_fail(d, RAFT_NOCONNECTION);
    }
    for (unsigned i = 0; i < t->n_given; i++) {
        if (still_given(&t->given[i])) {
            shutdown(t->given[i].fd, SHUT_RDWR);
        }
    }
    t->n_given = 0;
}

static void proof_written(uv_write_t *req, int status)
{
    struct guard_dial *d = req->data;
    struct cluster__transport *t = d->t;
    if (d->failing) {
        return;
    }
    if (status < 0) {
        dial_fail(d, RAFT_NOCONNECTION);
        return;
    }
    dial_unlink(d);
    cluster__dial_given(t, d->tcp);
    d->cb(d->req, (uv_stream_t *)d->tcp, 0);
    free(d);
    cluster__guard_object_closed(t);
}

int cluster__dial_answer(struct cluster__transport *t,
                         const uint8_t hello[CLUSTER__HELLO_LEN],
                         const uint8_t challenge[CLUSTER__CHALLENGE_LEN],
                         uint8_t *out,
                         size_t cap,
                         size_t *len)
{
    int rv = cluster__challenge_check(&t->opt.key, hello, challenge);
    if (rv != 0) {
        return rv;
    }
    if (cap < CLUSTER__PROOF_LEN) {
        return CD_ETOOBIG;
    }
    rv = cluster__proof_encode(&t->opt.key, hello, challenge, out);
    if (rv != 0) {
        return rv;
    }
    size_t n = cluster__raft_hello_encode(t->id, t->address, out + CLUSTER__PROOF_LEN,
                                          cap - CLUSTER__PROOF_LEN);
    if (n == 0) {
        return CD_ETOOBIG;
    }
    *len = CLUSTER__PROOF_LEN + n;
    return 0;
}

/* The other side answered: send the proof and raft's handshake. */
static int on_challenge(struct guard_dial *d)
{
    size_t len;
    int rv = cluster__dial_answer(d->t, d->hello, d->challenge, d->out, sizeof(d->out), &len);
    if (rv != 0) {
        return rv;
    }
    uv_buf_t out = uv_buf_init((char *)d->out, (unsigned)len);
    d->proof_req.data = d;
    return uv_write(&d->proof_req, (uv_stream_t *)d->tcp, &out, 1, proof_written) == 0 ? 0
                                                                                       : CD_EIO;
}

static void challenge_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct guard_dial *d = h->data;
    *buf =
        uv_buf_init((char *)d->challenge + d->got, (unsigned)(sizeof(d->challenge) - d->got));
}

static void challenge_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct guard_dial *d = s->data;
    (void)buf;
    if (nread < 0) {
        dial_fail(d, RAFT_NOCONNECTION);
        return;
    }
    d->got += (size_t)nread;
    if (d->got < sizeof(d->challenge)) {
        return;
    }
    uv_read_stop(s);
    if (on_challenge(d) != 0) {
        d->t->stats.refused++;
        dial_fail(d, RAFT_NOCONNECTION);
    }
}

static void hello_written(uv_write_t *req, int status)
{
    struct guard_dial *d = req->data;
    if (status < 0 && !d->failing) {
        dial_fail(d, RAFT_NOCONNECTION);
    }
}

static void connected(uv_connect_t *req, int status)
{
    struct guard_dial *d = req->data;
    if (d->failing) {
        return;
    }
    if (status < 0) {
        dial_fail(d, RAFT_NOCONNECTION);
        return;
    }
    /* Raft's messages are small and each direction of a connection carries data one way
     * only, so the peer's ACK is a delayed one: with Nagle's algorithm on, a message written
     * while the previous one is unacknowledged would wait for it (tens of ms). */
    uv_tcp_nodelay(d->tcp, 1);
    uv_buf_t out = uv_buf_init((char *)d->hello, sizeof(d->hello));
    d->hello_req.data = d;
    if (uv_write(&d->hello_req, (uv_stream_t *)d->tcp, &out, 1, hello_written) != 0 ||
        uv_read_start((uv_stream_t *)d->tcp, challenge_alloc, challenge_read) != 0) {
        dial_fail(d, RAFT_NOCONNECTION);
    }
}

int cluster__dial_hello(struct cluster__transport *t,
                        const char *address,
                        uint8_t hello[CLUSTER__HELLO_LEN],
                        char member[ENGINE_NAME_MAX],
                        struct sockaddr_storage *sa)
{
    struct cluster_member m;
    struct cluster__hello h;
    int rv;
    if (cluster__address_parse(address, &m) != 0 || cluster__guard_sockaddr(m.raft, sa) != 0) {
        return CD_EINVAL;
    }
    memset(&h, 0, sizeof(h));
    snprintf(h.from, sizeof(h.from), "%s", t->opt.name);
    snprintf(h.to, sizeof(h.to), "%s", m.id);
    if ((rv = cluster__random(h.nonce, sizeof(h.nonce))) != 0) {
        return rv;
    }
    memcpy(member, m.id, ENGINE_NAME_MAX);
    return cluster__hello_encode(&t->opt.key, &h, hello);
}

static void stray_closed(uv_handle_t *h)
{
    raft_free(h);
}

int cluster__dial(struct raft_uv_transport *outer,
                  struct raft_uv_connect *req,
                  raft_id id,
                  const char *address,
                  raft_uv_connect_cb cb)
{
    struct cluster__transport *t = outer->impl;
    struct sockaddr_storage sa;
    char member[ENGINE_NAME_MAX];
    (void)id; /* the member's name, in its address, is what our handshake names */
    if (cluster__guard_isolated(t)) {
        snprintf(outer->errmsg, sizeof(outer->errmsg), "isolated by a drill");
        return RAFT_NOCONNECTION; /* raft tries again after its retry delay */
    }
    if (t->opt.client_tls != NULL) {
        int rv = cluster__link_dial(t, req, address, cb);
        if (rv != 0) {
            snprintf(outer->errmsg, sizeof(outer->errmsg), "cannot reach '%s'", address);
        }
        return rv;
    }
    struct guard_dial *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return RAFT_NOMEM;
    }
    d->t = t;
    d->req = req;
    d->cb = cb;
    if (cluster__dial_hello(t, address, d->hello, member, &sa) != 0 ||
        (d->tcp = raft_malloc(sizeof(*d->tcp))) == NULL) {
        snprintf(outer->errmsg, sizeof(outer->errmsg), "cannot reach '%s'", address);
        free(d);
        return RAFT_NOCONNECTION;
    }
    uv_tcp_init(t->loop, d->tcp);
    d->tcp->data = d;
    d->connect.data = d;
    int rv = uv_tcp_connect(&d->connect, d->tcp, (const struct sockaddr *)&sa, connected);
    if (rv != 0) {
        snprintf(outer->errmsg, sizeof(outer->errmsg), "connect to '%s': %s", address,
                 uv_strerror(rv));
        uv_close((uv_handle_t *)d->tcp, stray_closed);
        free(d);
        return RAFT_NOCONNECTION;
    }
    d->deadline = uv_now(t->loop) + t->opt.limits.handshake_ms;
    d->next = t->dials;
    if (t->dials != NULL) {
        t->dials->prev = d;
    }
    t->dials = d;
    t->open++;
    cluster__guard_arm(t);
    return 0;
}
