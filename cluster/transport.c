/* Raft's transport, with the guard of guard.h in front of raft on every connection.
 *
 * Member addresses have the form "raft-host:port|api-host:port|peer-host:port|id": the
 * sockets use the Raft part, raft's handshake carries the whole; keeping the API and peer
 * channel addresses and the name in the Raft configuration means every node knows where to
 * forward to, where clients reach a member, and who a member is, from the replicated
 * configuration alone.
 *
 * This file is the accepting side. A connection is accepted here as a net stream (TLS with
 * the member's client certificate when the node has a server context, else plain TCP), goes
 * through our handshake and raft_uv_tcp's (read and checked here, never by raft), and only
 * then is raft given a stream: one end of a socketpair, whose other end we feed with the
 * plaintext that arrives once cluster__frames has checked it. Raft only reads on the
 * connections it accepts, so the pump runs one way. The connecting side is dial.c (plain)
 * and link.c (TLS). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/internal.h"
#include "common/error.h"
#include "common/log.h"

/* Above this many bytes waiting to reach raft, we stop reading the member's connection. */
#define PUMP_HIGH (1u << 20)
/* Refusals logged: at most one in this long. */
#define WARN_EVERY_MS 10000
/* What the handshake returns for a certificate that does not name the caller (the CD codes
 * are negative). */
#define NOT_ITS_CERTIFICATE 1

enum conn_phase {
    PHASE_HELLO,
    PHASE_PROOF,
    PHASE_RAFT_PREAMBLE,
    PHASE_RAFT_ADDRESS,
    PHASE_LIVE,
};

struct guard_conn
{
    struct cluster__transport *t;
    struct guard_conn *prev, *next; /* in t->pending, then in t->live */
    struct net_stream stream;       /* the member's connection */
    uv_pipe_t pipe;                 /* our end of the socketpair raft reads, once live */
    uv_shutdown_t shutdown_req;
    unsigned handles; /* open handles of ours: the stream, and the pipe once live */
    enum conn_phase phase;
    bool closing, finishing, paused, pipe_open;
    uint64_t deadline; /* loop time by which the handshakes must be through */
    size_t need, got;  /* of the handshake part being read into in */
    uint8_t in[CLUSTER__RAFT_ADDRESS_MAX];
    uint8_t hello[CLUSTER__HELLO_LEN];
    uint8_t challenge[CLUSTER__CHALLENGE_LEN];
    char member[ENGINE_NAME_MAX];
    raft_id id;
    size_t queued; /* bytes written to the pipe and not yet taken */
    struct cluster__frames frames;
    char drain[64]; /* raft never writes on the pipe: only its closing is read */
};

/* What the pump read from the member, on its way to raft. */
struct guard_chunk
{
    uv_write_t req;
    struct guard_conn *conn;
    size_t len;
    uint8_t data[];
};

static struct cluster__transport *transport_of(struct raft_uv_transport *outer)
{
    return outer->impl;
}

static void list_add(struct guard_conn **head, struct guard_conn *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head != NULL) {
        (*head)->prev = c;
    }
    *head = c;
}

static void list_del(struct guard_conn **head, struct guard_conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        *head = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
}

void cluster__guard_object_closed(struct cluster__transport *t)
{
    t->open--;
    if (t->closing && t->open == 0 && t->close_cb != NULL) {
        raft_uv_transport_close_cb cb = t->close_cb;
        t->close_cb = NULL;
        cb(&t->outer);
    }
}

/* ---- Closing a connection ---------------------------------------------------------------- */

static void conn_release(struct guard_conn *c)
{
    if (--c->handles > 0) {
        return;
    }
    struct cluster__transport *t = c->t;
    cluster__frames_close(&c->frames);
    free(c);
    cluster__guard_object_closed(t);
}

static void conn_pipe_closed(uv_handle_t *h)
{
    conn_release(h->data);
}

static void conn_stream_closed(struct net_stream *s)
{
    conn_release(s->data);
}

static void conn_close(struct guard_conn *c)
{
    struct cluster__transport *t = c->t;
    if (c->closing) {
        return;
    }
    c->closing = true;
    if (c->phase == PHASE_LIVE) {
        list_del(&t->live, c);
        t->n_live--;
    } else if (c->deadline != 0) {
        list_del(&t->pending, c);
        t->n_pending--;
    }
    net_stream_close(&c->stream, conn_stream_closed);
    if (c->pipe_open) {
        uv_close((uv_handle_t *)&c->pipe, conn_pipe_closed);
    }
}

void cluster__guard_refused(struct cluster__transport *t,
                            const char *dir,
                            const char *peer,
                            const char *why)
{
    uint64_t now = uv_now(t->loop);
    t->stats.refused++;
    if (why == NULL) {
        return;
    }
    if (t->warned_at != 0 && now - t->warned_at < WARN_EVERY_MS) {
        t->unwarned++;
        return;
    }
    char unwarned[24];
    snprintf(unwarned, sizeof(unwarned), "%llu", (unsigned long long)t->unwarned);
    cd_log(CD_LOG_WARN, "raft_refused", dir, peer, "msg", why, "not_logged_since", unwarned,
           NULL);
    t->warned_at = now != 0 ? now : 1;
    t->unwarned = 0;
}

static void conn_refuse(struct guard_conn *c, const char *why)
{
    cluster__guard_refused(c->t, "from", c->member, why);
    conn_close(c);
}

/* ---- The pump: member to raft ------------------------------------------------------------ */

static void conn_read(struct net_stream *s, ssize_t nread, const char *data);

static void chunk_written(uv_write_t *req, int status)
{
    struct guard_chunk *k = req->data;
    struct guard_conn *c = k->conn;
    c->queued -= k->len;
    free(k);
    if (c->closing) {
        return;
    }
    if (status < 0) {
        conn_close(c);
    } else if (c->paused && !c->finishing && c->queued < PUMP_HIGH / 2) {
        c->paused = false;
        if (net_stream_read_start(&c->stream, conn_read) != 0) {
            conn_close(c);
        }
    }
}

static void finished(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->data);
}

/* The member closed its side: raft gets what is on its way, then the end of the stream. */
static void conn_finish(struct guard_conn *c)
{
    c->finishing = true;
    net_stream_read_stop(&c->stream);
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->pipe, finished) != 0) {
        conn_close(c);
    }
}

/* Checked bytes go to raft: what the pipe takes at once without a copy, the rest queued. */
static int pump_write(struct guard_conn *c, const uint8_t *p, size_t n)
{
    if (c->queued == 0) {
        uv_buf_t now = uv_buf_init((char *)p, (unsigned)n);
        int wrote = uv_try_write((uv_stream_t *)&c->pipe, &now, 1);
        if (wrote > 0) {
            p += wrote;
            n -= (size_t)wrote;
        } else if (wrote != UV_EAGAIN) {
            return CD_EIO;
        }
    }
    if (n == 0) {
        return 0;
    }
    struct guard_chunk *k = malloc(sizeof(*k) + n);
    if (k == NULL) {
        return CD_ENOMEM;
    }
    memcpy(k->data, p, n);
    k->req.data = k;
    k->conn = c;
    k->len = n;
    uv_buf_t out = uv_buf_init((char *)k->data, (unsigned)n);
    if (uv_write(&k->req, (uv_stream_t *)&c->pipe, &out, 1, chunk_written) != 0) {
        free(k);
        return CD_EIO;
    }
    c->queued += n;
    return 0;
}

static void pump(struct guard_conn *c, const uint8_t *p, size_t n)
{
    if (cluster__frames_feed(&c->frames, p, n) != 0) {
        c->t->stats.bad_frames++;
        conn_close(c);
        return;
    }
    if (pump_write(c, p, n) != 0) {
        conn_close(c);
        return;
    }
    if (c->queued > PUMP_HIGH) {
        c->paused = true;
        c->t->accept_pauses++;
        net_stream_read_stop(&c->stream);
    }
}

static void drain_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct guard_conn *c = h->data;
    *buf = uv_buf_init(c->drain, sizeof(c->drain));
}

/* Raft closed its end (it stopped reading, or it is closing). */
static void drain_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0) {
        conn_close(s->data);
    }
}

/* ---- The handshakes ---------------------------------------------------------------------- */

static int expect(struct guard_conn *c, enum conn_phase phase, size_t need)
{
    c->phase = phase;
    c->need = need;
    c->got = 0;
    return 0;
}

/* Who the HELLO says is calling must be whom the certificate names (TLS). */
static int check_certificate(struct guard_conn *c, const char *member)
{
    if (!net_stream_secure(&c->stream) || net_stream_peer_is(&c->stream, member)) {
        return 0;
    }
    snprintf(c->member, sizeof(c->member), "%s", member);
    return NOT_ITS_CERTIFICATE;
}

static int on_hello(struct guard_conn *c)
{
    struct cluster__transport *t = c->t;
    struct cluster__hello h;
    uint8_t nonce[CLUSTER__NONCE_LEN];
    int rv = cluster__hello_decode(&t->opt.key, c->in, &h);
    if (rv != 0) {
        return rv;
    }
    if (strcmp(h.to, t->opt.name) != 0 || strcmp(h.from, t->opt.name) == 0 ||
        !t->opt.is_member(t->opt.data, h.from)) {
        return CD_EINVAL;
    }
    if ((rv = check_certificate(c, h.from)) != 0) {
        return rv;
    }
    memcpy(c->hello, c->in, sizeof(c->hello));
    memcpy(c->member, h.from, sizeof(c->member));
    c->id = cluster__raft_id(h.from);
    if ((rv = cluster__random(nonce, sizeof(nonce))) != 0 ||
        (rv = cluster__challenge_encode(&t->opt.key, c->hello, nonce, c->challenge)) != 0) {
        return rv;
    }
    /* A write that fails shows as the end of the stream, or as the deadline. */
    if (net_stream_write(&c->stream, (const char *)c->challenge, sizeof(c->challenge), NULL,
                         NULL) != 0) {
        return CD_EIO;
    }
    return expect(c, PHASE_PROOF, CLUSTER__PROOF_LEN);
}

/* Makes room for one more live connection of member: a member that reconnects may leave a
 * connection behind that nothing will close (its machine vanished), so the oldest goes. */
static void make_room(struct cluster__transport *t, const char *member)
{
    struct guard_conn *oldest = NULL, *oldest_any = NULL;
    unsigned mine = 0;
    for (struct guard_conn *c = t->live; c != NULL; c = c->next) {
        oldest_any = c; /* the list is newest first */
        if (strcmp(c->member, member) == 0) {
            oldest = c;
            mine++;
        }
    }
    if (mine < t->opt.limits.per_member) {
        oldest = t->n_live >= t->opt.limits.live_max ? oldest_any : NULL;
    }
    if (oldest != NULL) {
        t->stats.over_cap++;
        conn_close(oldest);
    }
}

static void raft_pipe_closed(uv_handle_t *h)
{
    raft_free(h);
}

int cluster__guard_socketpair(uv_loop_t *loop, uv_pipe_t *ours, uv_pipe_t **theirs)
{
    uv_os_sock_t fds[2];
    uv_pipe_init(loop, ours, 0);
    uv_pipe_t *p = raft_malloc(sizeof(*p));
    if (p == NULL) {
        return CD_ENOMEM;
    }
    if (uv_socketpair(SOCK_STREAM, 0, fds, 0, 0) != 0) {
        raft_free(p);
        return CD_EIO;
    }
    uv_pipe_init(loop, p, 0);
    int rv = uv_pipe_open(ours, fds[0]);
    if (rv != 0) {
        close(fds[0]);
    }
    if (rv != 0 || (rv = uv_pipe_open(p, fds[1])) != 0) {
        close(fds[1]);
        uv_close((uv_handle_t *)p, raft_pipe_closed);
        return CD_EIO;
    }
    *theirs = p;
    return 0;
}

/* Both handshakes are through: raft gets its end of a socketpair, and the pump starts. */
static int go_live(struct guard_conn *c)
{
    struct cluster__transport *t = c->t;
    uv_pipe_t *theirs;
    struct cluster_member m;
    if (cluster__raft_address_check(c->in, c->need) != 0 ||
        cluster__address_parse((const char *)c->in, &m) != 0 || strcmp(m.id, c->member) != 0) {
        return CD_ECORRUPT;
    }
    make_room(t, c->member);
    c->pipe.data = c;
    c->pipe_open = true;
    c->handles++;
    int rv = cluster__guard_socketpair(t->loop, &c->pipe, &theirs);
    if (rv != 0) {
        return rv;
    }
    list_del(&t->pending, c);
    t->n_pending--;
    list_add(&t->live, c);
    t->n_live++;
    t->stats.accepted++;
    c->phase = PHASE_LIVE;
    cluster__frames_init(&c->frames, t->opt.limits.message_max);
    uv_read_start((uv_stream_t *)&c->pipe, drain_alloc, drain_read);
    t->accept(&t->outer, c->id, (const char *)c->in, (uv_stream_t *)theirs);
    return 0;
}

static int handshake_step(struct guard_conn *c)
{
    struct cluster__transport *t = c->t;
    size_t address_len;
    int rv;
    switch (c->phase) {
        case PHASE_HELLO:
            return on_hello(c);
        case PHASE_PROOF:
            rv = cluster__proof_check(&t->opt.key, c->hello, c->challenge, c->in);
            return rv != 0 ? rv : expect(c, PHASE_RAFT_PREAMBLE, CLUSTER__RAFT_PREAMBLE_LEN);
        case PHASE_RAFT_PREAMBLE:
            rv = cluster__raft_preamble_check(c->in, c->id, &address_len);
            return rv != 0 ? rv : expect(c, PHASE_RAFT_ADDRESS, address_len);
        case PHASE_RAFT_ADDRESS:
            return go_live(c);
        default:
            return CD_ESTATE;
    }
}

/* Takes the handshakes' bytes as they come; what follows them goes to the pump. */
static void handshake_input(struct guard_conn *c, const uint8_t *p, size_t n)
{
    while (n > 0 && c->phase != PHASE_LIVE) {
        size_t take = c->need - c->got < n ? c->need - c->got : n;
        memcpy(c->in + c->got, p, take);
        c->got += take;
        p += take;
        n -= take;
        int rv = c->got == c->need ? handshake_step(c) : 0;
        if (rv != 0) {
            conn_refuse(c, rv == NOT_ITS_CERTIFICATE
                               ? "the client certificate does not name the member the "
                                 "handshake says is calling"
                               : NULL);
            return;
        }
    }
    if (n > 0 && !c->closing) {
        pump(c, p, n);
    }
}

/* The end of the member's stream, or its failure. */
static void conn_ended(struct guard_conn *c, ssize_t status)
{
    if (c->phase == PHASE_LIVE) {
        conn_finish(c);
    } else if (status == UV_EPROTO) {
        char why[200];
        snprintf(why, sizeof(why), "TLS: %s", net_stream_error(&c->stream));
        conn_refuse(c, why);
    } else {
        c->t->stats.timed_out += status == UV_ETIMEDOUT;
        conn_close(c);
    }
}

static void conn_read(struct net_stream *s, ssize_t nread, const char *data)
{
    struct guard_conn *c = s->data;
    if (c->closing || c->finishing) {
        return;
    }
    if (nread < 0) {
        conn_ended(c, nread);
    } else if (c->phase == PHASE_LIVE) {
        pump(c, (const uint8_t *)data, (size_t)nread);
    } else {
        handshake_input(c, (const uint8_t *)data, (size_t)nread);
    }
}

/* ---- Accepting ------------------------------------------------------------------------- */

static void on_connection(uv_stream_t *listener, int status)
{
    struct cluster__transport *t = listener->data;
    if (status < 0 || t->closing) {
        return;
    }
    struct guard_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return;
    }
    if (net_stream_init(t->loop, &c->stream, t->opt.server_tls) != 0) {
        free(c);
        return;
    }
    c->t = t;
    c->stream.data = c;
    c->handles = 1;
    t->open++;
    if (uv_accept(listener, (uv_stream_t *)&c->stream.tcp) != 0 || cluster__guard_isolated(t)) {
        conn_close(c);
        return;
    }
    if (t->n_pending >= t->opt.limits.pending_max) {
        t->stats.over_cap++;
        conn_close(c);
        return;
    }
    c->deadline = uv_now(t->loop) + t->opt.limits.handshake_ms;
    list_add(&t->pending, c);
    t->n_pending++;
    expect(c, PHASE_HELLO, CLUSTER__HELLO_LEN);
    if (net_stream_start(&c->stream, NULL, t->opt.limits.handshake_ms) != 0 ||
        net_stream_read_start(&c->stream, conn_read) != 0) {
        conn_close(c);
        return;
    }
    cluster__guard_arm(t);
}

static void sweep(uv_timer_t *timer)
{
    struct cluster__transport *t = timer->data;
    uint64_t now = uv_now(t->loop);
    struct guard_conn *next;
    for (struct guard_conn *c = t->pending; c != NULL; c = next) {
        next = c->next;
        if (c->deadline <= now) {
            t->stats.timed_out++;
            conn_close(c);
        }
    }
    cluster__dial_expire(t, now, false);
    bool links_waiting = cluster__link_expire(t, now, false);
    if (t->pending == NULL && t->dials == NULL && !links_waiting) {
        uv_timer_stop(timer);
    }
}

/* ---- Isolation (a drill) ------------------------------------------------------------------
 */

bool cluster__guard_isolated(const struct cluster__transport *t)
{
    return t->isolated_until != 0 && uv_now(t->loop) < t->isolated_until;
}

void cluster__guard_isolate(struct cluster__transport *t, uint64_t until)
{
    t->isolated_until = until;
    struct guard_conn *next;
    for (struct guard_conn *c = t->pending; c != NULL; c = next) {
        next = c->next;
        conn_close(c);
    }
    for (struct guard_conn *c = t->live; c != NULL; c = next) {
        next = c->next;
        conn_close(c);
    }
    cluster__dial_cut(t);
    cluster__link_cut(t);
}

void cluster__guard_arm(struct cluster__transport *t)
{
    unsigned period = t->opt.limits.handshake_ms / 8;
    if (!t->closing && t->timer_inited && !uv_is_active((uv_handle_t *)&t->timer)) {
        uv_timer_start(&t->timer, sweep, period < 10 ? 10 : period, period < 10 ? 10 : period);
    }
}

/* ---- The raft_uv_transport ----------------------------------------------------------------
 */

int cluster__guard_sockaddr(const char *address, struct sockaddr_storage *out)
{
    char host[CONFIG_HOST_MAX];
    const char *colon = strrchr(address, ':');
    const char *h = address;
    if (colon == NULL) {
        return CD_EINVAL;
    }
    size_t n = (size_t)(colon - address);
    if (address[0] == '[' && n >= 2 && colon[-1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof(host)) {
        return CD_EINVAL;
    }
    memcpy(host, h, n);
    host[n] = 0;
    int port = 0;
    const char *p = colon + 1;
    for (; *p >= '0' && *p <= '9' && port <= 65535; p++) {
        port = port * 10 + (*p - '0');
    }
    if (p == colon + 1 || *p != 0 || port > 65535) {
        return CD_EINVAL;
    }
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0 ||
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0) {
        return 0;
    }
    return CD_EINVAL;
}

static void object_handle_closed(uv_handle_t *h)
{
    cluster__guard_object_closed(h->data);
}

static int guard_init(struct raft_uv_transport *outer, raft_id id, const char *address)
{
    struct cluster__transport *t = transport_of(outer);
    if (strlen(address) >= sizeof(t->address)) {
        snprintf(outer->errmsg, sizeof(outer->errmsg), "address '%.200s' is too long", address);
        return RAFT_INVALID;
    }
    snprintf(t->address, sizeof(t->address), "%s", address);
    t->id = id;
    uv_timer_init(t->loop, &t->timer);
    t->timer.data = t;
    t->timer_inited = true;
    t->open++;
    return 0;
}

static int guard_listen(struct raft_uv_transport *outer, raft_uv_accept_cb cb)
{
    struct cluster__transport *t = transport_of(outer);
    struct sockaddr_storage sa;
    struct cluster_member self;
    t->accept = cb;
    if (cluster__address_parse(t->address, &self) != 0 ||
        cluster__guard_sockaddr(self.raft, &sa) != 0) {
        snprintf(outer->errmsg, sizeof(outer->errmsg),
                 "raft address '%.200s' is not an IP address", t->address);
        return RAFT_INVALID;
    }
    uv_tcp_init(t->loop, &t->listener);
    t->listener.data = t;
    t->listening = true;
    t->open++;
    int rv = uv_tcp_bind(&t->listener, (const struct sockaddr *)&sa, 0);
    if (rv == 0) {
        rv = uv_listen((uv_stream_t *)&t->listener, 128, on_connection);
    }
    if (rv != 0) {
        snprintf(outer->errmsg, sizeof(outer->errmsg), "listen on '%.200s': %s", self.raft,
                 uv_strerror(rv));
        return RAFT_IOERR;
    }
    return 0;
}

static void guard_close(struct raft_uv_transport *outer, raft_uv_transport_close_cb cb)
{
    struct cluster__transport *t = transport_of(outer);
    t->close_cb = cb;
    t->closing = true;
    if (t->listening) {
        uv_close((uv_handle_t *)&t->listener, object_handle_closed);
    }
    if (t->timer_inited) {
        uv_close((uv_handle_t *)&t->timer, object_handle_closed);
    }
    while (t->pending != NULL) {
        conn_close(t->pending);
    }
    while (t->live != NULL) {
        conn_close(t->live);
    }
    cluster__dial_expire(t, 0, true);
    cluster__link_expire(t, 0, true);
    /* raft_uv calls init first, so the timer is always there to close: cb fires from a
     * close callback, never from in here. */
}

int cluster__transport_init(struct cluster__transport *t,
                            uv_loop_t *loop,
                            const struct cluster__guard_options *opt)
{
    memset(t, 0, sizeof(*t));
    t->loop = loop;
    t->opt = *opt;
    t->outer.impl = t;
    t->outer.init = guard_init;
    t->outer.listen = guard_listen;
    t->outer.connect = cluster__dial;
    t->outer.close = guard_close;
    return 0;
}
