/* The connecting side of the guard over TLS (a node with a member client context).
 *
 * Raft only writes on the connections it makes, and over plain TCP dial.c hands it the
 * socket once the handshakes are written. Raft cannot write TLS, so here it gets one end of
 * a socketpair instead, and a link pumps what raft writes into a net stream:
 *
 *   raft ─► socketpair ─► link ─► net_stream (TLS) ─► TCP ─► the member's transport.c
 *
 * The link connects, runs the TLS handshake (the member's certificate must name the member
 * called: its id), then our handshake over TLS (HELLO, CHALLENGE, PROOF and raft_uv_tcp's
 * own), and only then gives raft its end. It stops reading raft's writes while more than
 * LINK_HIGH bytes wait for the kernel, and reads again below half of that; raft's writes
 * then back up in the socketpair and raft's own queue, as they would in a TCP socket.
 *
 * Closing goes both ways. Raft closes its end (a write of its failed, or it is closing):
 * the link sends what raft wrote, then TLS close_notify and the FIN, and closes, or closes
 * anyway once a handshake's time has passed. The member's side ends or fails: the link
 * closes its end of the socketpair, and raft's next write fails, as on a broken socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "common/error.h"

/* Above this many bytes not yet handed to the kernel, raft's writes are no longer read. */
#define LINK_HIGH (1u << 20)
#define LINK_CHUNK (64u << 10)

enum link_phase {
    LINK_CONNECTING,
    LINK_HANDSHAKE, /* TLS, then ours: waiting for the CHALLENGE */
    LINK_LIVE,      /* raft has its end */
    LINK_FLUSHING,  /* raft closed its end: sending what it wrote, then closing */
};

struct guard_link
{
    struct cluster__transport *t;
    struct guard_link *prev, *next; /* in t->links until closing */
    struct raft_uv_connect *req;
    raft_uv_connect_cb cb; /* raft's, until it has its end; NULL then */
    struct net_stream stream;
    uv_connect_t connect;
    uv_pipe_t pipe; /* ours; raft writes to the other end */
    unsigned handles;
    enum link_phase phase;
    bool closing, pipe_open, paused;
    uint64_t deadline; /* loop time: the handshakes, or the flush, are late; 0: none */
    int status;        /* for cb, once closed */
    size_t got;
    char member[ENGINE_NAME_MAX]; /* the member called: its certificate names it */
    uint8_t hello[CLUSTER__HELLO_LEN];
    uint8_t challenge[CLUSTER__CHALLENGE_LEN];
};

static void link_add(struct cluster__transport *t, struct guard_link *l)
{
    l->prev = NULL;
    l->next = t->links;
    if (t->links != NULL) {
        t->links->prev = l;
    }
    t->links = l;
}

static void link_del(struct cluster__transport *t, struct guard_link *l)
{
    if (l->prev != NULL) {
        l->prev->next = l->next;
    } else {
        t->links = l->next;
    }
    if (l->next != NULL) {
        l->next->prev = l->prev;
    }
    l->prev = l->next = NULL;
}

/* ---- Closing ----------------------------------------------------------------------------- */

static void link_release(struct guard_link *l)
{
    if (--l->handles > 0) {
        return;
    }
    struct cluster__transport *t = l->t;
    if (l->cb != NULL) {
        l->cb(l->req, NULL, l->status != 0 ? l->status : RAFT_NOCONNECTION);
    }
    free(l);
    cluster__guard_object_closed(t);
}

static void pipe_closed(uv_handle_t *h)
{
    link_release(h->data);
}

static void stream_closed(struct net_stream *s)
{
    link_release(s->data);
}

static void link_close(struct guard_link *l)
{
    if (l->closing) {
        return;
    }
    l->closing = true;
    link_del(l->t, l);
    net_stream_close(&l->stream, stream_closed);
    if (l->pipe_open) {
        uv_close((uv_handle_t *)&l->pipe, pipe_closed);
    }
}

/* Closes a link raft does not have yet: raft's callback gets status once it has closed. */
static void link_fail(struct guard_link *l, int status)
{
    l->status = status;
    link_close(l);
}

bool cluster__link_expire(struct cluster__transport *t, uint64_t now, bool all)
{
    struct guard_link *next;
    bool waiting = false;
    for (struct guard_link *l = t->links; l != NULL; l = next) {
        next = l->next;
        if (all) {
            link_fail(l, RAFT_CANCELED);
        } else if (l->deadline == 0) {
            continue;
        } else if (l->deadline > now) {
            waiting = true;
        } else if (l->phase < LINK_LIVE) {
            t->stats.timed_out++;
            link_fail(l, RAFT_NOCONNECTION);
        } else {
            link_close(l); /* the member does not take what raft wrote */
        }
    }
    return waiting;
}

void cluster__link_cut(struct cluster__transport *t)
{
    struct guard_link *next;
    for (struct guard_link *l = t->links; l != NULL; l = next) {
        next = l->next;
        if (l->phase < LINK_LIVE) {
            link_fail(l, RAFT_NOCONNECTION);
        } else {
            link_close(l);
        }
    }
}

/* ---- The pump: raft to the member -------------------------------------------------------- */

static void pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void pipe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    /* net_stream_write() copies what it is given before the next read comes. */
    static _Thread_local char chunk[LINK_CHUNK];
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(chunk, sizeof(chunk));
}

static void sent(struct net_stream *s, int status, void *arg)
{
    struct guard_link *l = arg;
    if (l->closing) {
        return;
    }
    if (status < 0) {
        link_close(l);
    } else if (l->paused && l->phase == LINK_LIVE && net_stream_unsent(s) <= LINK_HIGH / 2) {
        l->paused = false;
        if (uv_read_start((uv_stream_t *)&l->pipe, pipe_alloc, pipe_read) != 0) {
            link_close(l);
        }
    }
}

static void shut_down(struct net_stream *s, int status)
{
    (void)status;
    link_close(s->data);
}

/* Raft closed its end: what it wrote goes out, then the end of the stream. */
static void link_flush(struct guard_link *l)
{
    struct cluster__transport *t = l->t;
    l->phase = LINK_FLUSHING;
    uv_read_stop((uv_stream_t *)&l->pipe);
    l->deadline = uv_now(t->loop) + t->opt.limits.handshake_ms;
    cluster__guard_arm(t);
    if (net_stream_shutdown(&l->stream, shut_down) != 0) {
        link_close(l);
    }
}

static void pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct guard_link *l = s->data;
    if (l->closing || nread == 0) {
        return;
    }
    if (nread < 0) {
        link_flush(l);
        return;
    }
    if (net_stream_write(&l->stream, buf->base, (size_t)nread, sent, l) != 0) {
        link_close(l);
        return;
    }
    if (net_stream_unsent(&l->stream) > LINK_HIGH) {
        l->paused = true;
        l->t->link_pauses++;
        uv_read_stop(s);
    }
}

/* ---- The handshakes ---------------------------------------------------------------------- */

static void theirs_closed(uv_handle_t *h)
{
    raft_free(h);
}

/* Both handshakes are written: raft gets its end of a socketpair. */
static int go_live(struct guard_link *l)
{
    uv_pipe_t *theirs;
    l->pipe.data = l;
    l->pipe_open = true;
    l->handles++;
    int rv = cluster__guard_socketpair(l->t->loop, &l->pipe, &theirs);
    if (rv != 0) {
        return rv;
    }
    if (uv_read_start((uv_stream_t *)&l->pipe, pipe_alloc, pipe_read) != 0) {
        uv_close((uv_handle_t *)theirs, theirs_closed);
        return CD_EIO;
    }
    raft_uv_connect_cb cb = l->cb;
    l->cb = NULL;
    l->phase = LINK_LIVE;
    l->deadline = 0;
    cb(l->req, (uv_stream_t *)theirs, 0);
    return 0;
}

/* The member answered: send the PROOF and raft's handshake, and go live. */
static void on_challenge(struct guard_link *l)
{
    struct cluster__transport *t = l->t;
    uint8_t out[CLUSTER__ANSWER_MAX];
    size_t len;
    /* The TLS handshake checked the name already (net_stream_start()); a link that cannot
     * say so is not one raft should get. */
    if (!net_stream_peer_is(&l->stream, l->member)) {
        cluster__guard_refused(t, "to", l->member, "the member's certificate does not name it");
        link_fail(l, RAFT_NOCONNECTION);
        return;
    }
    if (cluster__dial_answer(t, l->hello, l->challenge, out, sizeof(out), &len) != 0) {
        cluster__guard_refused(t, "to", l->member, NULL);
        link_fail(l, RAFT_NOCONNECTION);
        return;
    }
    if (net_stream_write(&l->stream, (const char *)out, len, NULL, NULL) != 0 ||
        go_live(l) != 0) {
        link_fail(l, RAFT_NOCONNECTION);
    }
}

static void challenge_input(struct guard_link *l, const char *data, size_t n)
{
    size_t take = sizeof(l->challenge) - l->got;
    if (n > take) {
        /* The member says nothing after its CHALLENGE until it has our PROOF. */
        cluster__guard_refused(l->t, "to", l->member, NULL);
        link_fail(l, RAFT_NOCONNECTION);
        return;
    }
    memcpy(l->challenge + l->got, data, n);
    l->got += n;
    if (l->got == sizeof(l->challenge)) {
        on_challenge(l);
    }
}

/* The member's stream ended or failed. */
static void link_ended(struct guard_link *l, ssize_t status)
{
    struct cluster__transport *t = l->t;
    if (l->phase >= LINK_LIVE) {
        link_close(l);
        return;
    }
    if (status == UV_EPROTO) {
        char why[200];
        snprintf(why, sizeof(why), "TLS: %s", net_stream_error(&l->stream));
        cluster__guard_refused(t, "to", l->member, why);
    } else if (status == UV_ETIMEDOUT) {
        t->stats.timed_out++;
    }
    link_fail(l, RAFT_NOCONNECTION);
}

static void link_read(struct net_stream *s, ssize_t nread, const char *data)
{
    struct guard_link *l = s->data;
    if (l->closing) {
        return;
    }
    if (nread < 0) {
        link_ended(l, nread);
    } else if (l->phase == LINK_HANDSHAKE) {
        challenge_input(l, data, (size_t)nread);
    } else if (nread > 0) {
        link_close(l); /* the accepting side never writes after its CHALLENGE */
    }
}

static void connected(uv_connect_t *req, int status)
{
    struct guard_link *l = req->data;
    struct cluster__transport *t = l->t;
    if (l->closing) {
        return;
    }
    if (status < 0 ||
        net_stream_start(&l->stream, l->member, t->opt.limits.handshake_ms) != 0 ||
        net_stream_write(&l->stream, (const char *)l->hello, sizeof(l->hello), NULL, NULL) !=
            0 ||
        net_stream_read_start(&l->stream, link_read) != 0) {
        link_fail(l, RAFT_NOCONNECTION);
        return;
    }
    l->phase = LINK_HANDSHAKE;
}

int cluster__link_dial(struct cluster__transport *t,
                       struct raft_uv_connect *req,
                       const char *address,
                       raft_uv_connect_cb cb)
{
    struct sockaddr_storage sa;
    struct guard_link *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return RAFT_NOMEM;
    }
    l->t = t;
    l->req = req;
    if (cluster__dial_hello(t, address, l->hello, l->member, &sa) != 0 ||
        net_stream_init(t->loop, &l->stream, t->opt.client_tls) != 0) {
        free(l);
        return RAFT_NOCONNECTION;
    }
    l->stream.data = l;
    l->connect.data = l;
    l->handles = 1;
    l->deadline = uv_now(t->loop) + t->opt.limits.handshake_ms;
    link_add(t, l);
    t->open++;
    if (uv_tcp_connect(&l->connect, &l->stream.tcp, (const struct sockaddr *)&sa, connected) !=
        0) {
        link_close(l); /* no callback: raft hears of it from the return value */
        return RAFT_NOCONNECTION;
    }
    l->cb = cb;
    cluster__guard_arm(t);
    return 0;
}
