/* Fast failover: a follower that learns the leader's process is gone starts the election
 * at once instead of waiting out the election timeout.
 *
 * Every follower keeps one idle TCP connection open to the leader's peer port (the peer
 * channel's listener: members only, and any port of the process would do). When the
 * leader's process dies its kernel closes that connection; the follower connects again at
 * once, and a refusal means nothing listens there any more. (A connection the server
 * closed for idleness is simply made again; a machine that vanished without closing
 * anything is noticed by Raft's election timeout, as before.)
 *
 * With TLS between members the peer channel speaks TLS and demands a member's certificate,
 * so the connection is a TLS one (the leader's certificate must name it) that completes
 * its handshake and then idles. Only a refused TCP connect says the leader died: a TLS
 * failure (a certificate that does not name the leader, ours refused, a handshake that
 * never completes) comes after the connect succeeded, so it is never taken for a death. It
 * is logged, and the watch tries again only after TLS_RETRY_MS; meanwhile a dead leader is
 * noticed by the election timeout, as without the watch.
 *
 * Raft 0.15 has no call that starts an election, so the follower moves its own Raft clock
 * forward past the election timeout and ticks Raft, which converts to candidate. Two
 * survivors that did so at the same moment would each pre-vote for the other and split
 * the real vote, costing a whole randomised timeout; so the survivors go one after another
 * in the order of their Raft ids, a heartbeat (20 ms at least) apart, far more than a
 * pre-vote's round trip. The first one's pre-vote is
 * refused by those that still believe in the old leader, but it no longer does; the next
 * one's pre-vote is then granted, and it wins. With pre-vote on, a mistaken start costs
 * nothing: a pre-vote does not raise the term, and a leader that is still alive keeps
 * its followers with its next heartbeat. Without pre-vote this stays off. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "common/log.h"

#define RETRY_MS 1000       /* least time between two connections that the server dropped */
#define TURN_MS 20          /* least time between one survivor's turn and the next */
#define YOUNG_MS 100        /* a connection closed sooner than this was refused, not dropped */
#define TLS_RETRY_MS 5000   /* after a TLS failure, before the next connection */
#define HANDSHAKE_MS 3000   /* a TLS handshake not through by then is a TLS failure */
#define WARN_EVERY_MS 60000 /* TLS failures logged: at most one in this long */

struct watch_conn
{
    struct net_stream stream;
    uv_connect_t connect;
    struct cluster *c; /* NULL once detached: the stream is closing */
    raft_id target;
    uint64_t opened_at;         /* uv_now() when the connection was made */
    char name[ENGINE_NAME_MAX]; /* the leader's id: its certificate names it */
};

static struct cluster *cluster_of(struct raft_io *io)
{
    return (struct cluster *)((char *)io - offsetof(struct cluster, io));
}

static raft_time skewed_time(struct raft_io *io)
{
    struct cluster *c = cluster_of(io);
    return c->watch.io_time(io) + c->watch.skew;
}

/* raft_uv's start, with the tick callback kept so that a turn can tick at once. */
static int start_io(struct raft_io *io,
                    unsigned msecs,
                    raft_io_tick_cb tick,
                    raft_io_recv_cb recv)
{
    struct cluster *c = cluster_of(io);
    c->watch.tick = tick;
    return c->watch.io_start(io, msecs, tick, recv);
}

static bool enabled(const struct cluster *c)
{
    return c->node.raft.fast_failover && c->node.raft.pre_vote;
}

static raft_id current_leader(struct cluster *c)
{
    raft_id id;
    const char *address;
    raft_leader(&c->raft, &id, &address);
    return raft_state(&c->raft) == RAFT_FOLLOWER && id != c->id ? id : 0;
}

static void conn_closed(struct net_stream *s)
{
    free(s->data);
}

static void detach(struct cluster *c)
{
    struct watch_conn *w = c->watch.conn;
    if (w != NULL) {
        w->c = NULL;
        net_stream_close(&w->stream, conn_closed);
        c->watch.conn = NULL;
    }
}

/* This node's place among the voters that survive lost: 0 goes first. -1: not a voter. */
int cluster__watch_rank(const struct raft_configuration *conf, raft_id self, raft_id lost)
{
    int rank = 0;
    bool voter = false;
    for (unsigned i = 0; i < conf->n; i++) {
        const struct raft_server *s = &conf->servers[i];
        if (s->role != RAFT_VOTER || s->id == lost) {
            continue;
        }
        voter = voter || s->id == self;
        rank += s->id < self;
    }
    return voter ? rank : -1;
}

static void turn_fired(uv_timer_t *t)
{
    struct cluster *c = t->data;
    raft_id lost = c->watch.lost;
    c->watch.lost = 0;
    if (lost != 0 && current_leader(c) == lost && c->watch.tick != NULL) {
        c->watch.skew += 2 * (raft_time)c->node.raft.election_timeout_ms;
        c->watch.elections++;
        c->watch.tick(&c->io); /* Raft sees its election timeout passed, and stands */
    }
}

static void leader_lost(struct cluster *c, raft_id lost)
{
    int rank = cluster__watch_rank(&c->raft.configuration, c->id, lost);
    if (rank < 0 || c->watch.lost == lost) {
        return;
    }
    c->watch.lost = lost;
    c->watch.losses++;
    uint64_t step = c->node.raft.heartbeat_ms > TURN_MS ? c->node.raft.heartbeat_ms : TURN_MS;
    uv_timer_start(&c->watch.timer, turn_fired, (uint64_t)rank * step, 0);
}

/* The connection's TLS failed: a configuration to fix (or a stranger on the leader's
 * address), not a death. Logged, and tried again later. */
static void tls_failed(struct cluster *c, struct watch_conn *w)
{
    uint64_t now = uv_now(c->loop);
    c->watch.tls_failures++;
    if (c->watch.warned_at == 0 || now - c->watch.warned_at >= WARN_EVERY_MS) {
        c->watch.warned_at = now != 0 ? now : 1;
        cd_log(CD_LOG_WARN, "watch_refused", "leader", w->name, "msg",
               net_stream_error(&w->stream), NULL);
    }
    c->watch.reconnect = false;
    c->watch.retry_at = now + TLS_RETRY_MS;
    detach(c);
}

static void watch_read(struct net_stream *s, ssize_t nread, const char *data)
{
    struct watch_conn *w = s->data;
    struct cluster *c = w->c;
    (void)data;
    if (nread >= 0 || c == NULL) {
        return; /* the server sends nothing unasked; ignore whatever comes */
    }
    if (net_stream_secure(s) && (nread == UV_EPROTO || nread == UV_ETIMEDOUT)) {
        tls_failed(c, w);
        return;
    }
    /* Closed: connecting again at once tells a dead process from an idle timeout. A
     * connection closed as soon as it was made is retried at once only once a second, so
     * that a server which keeps doing that does not keep us busy. */
    uint64_t now = uv_now(c->loop);
    bool young = now - w->opened_at < YOUNG_MS;
    c->watch.reconnect = !young || now - c->watch.last_quick >= RETRY_MS;
    if (young && c->watch.reconnect) {
        c->watch.last_quick = now;
    }
    c->watch.retry_at = now + RETRY_MS;
    detach(c);
    cluster__wake(c);
}

static void watch_connected(uv_connect_t *req, int status)
{
    struct watch_conn *w = req->data;
    struct cluster *c = w->c;
    if (c == NULL) {
        return;
    }
    if (status == 0) {
        w->opened_at = uv_now(c->loop);
        if (net_stream_start(&w->stream, w->name, HANDSHAKE_MS) == 0 &&
            net_stream_read_start(&w->stream, watch_read) == 0) {
            return;
        }
    }
    raft_id target = w->target;
    detach(c);
    c->watch.retry_at = uv_now(c->loop) + RETRY_MS;
    if (status == UV_ECONNREFUSED && current_leader(c) == target) {
        leader_lost(c, target);
    }
}

/* "host:port" or "[ipv6]:port", numeric hosts only (as the HTTP client takes them). */
static int parse_addr(char *text, struct sockaddr_storage *sa)
{
    char *colon = strrchr(text, ':'), *host = text;
    if (colon == NULL) {
        return -1;
    }
    *colon = 0;
    int port = atoi(colon + 1);
    if (*host == '[' && colon > host && colon[-1] == ']') {
        host++;
        colon[-1] = 0;
        return uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa);
    }
    return uv_ip4_addr(host, port, (struct sockaddr_in *)sa);
}

static void watch_start(struct cluster *c, raft_id target)
{
    struct cluster_member m;
    struct sockaddr_storage sa;
    struct watch_conn *w = NULL;
    if (!cluster__member_of(c, target, &m) || parse_addr(m.peer, &sa) != 0 ||
        (w = calloc(1, sizeof(*w))) == NULL ||
        net_stream_init(c->loop, &w->stream, c->member_client) != 0) {
        free(w);
        c->watch.retry_at = uv_now(c->loop) + RETRY_MS; /* a name, not an address: later */
        return;
    }
    w->c = c;
    w->target = target;
    snprintf(w->name, sizeof(w->name), "%s", m.id);
    w->stream.data = w->connect.data = w;
    c->watch.conn = w;
    if (uv_tcp_connect(&w->connect, &w->stream.tcp, (struct sockaddr *)&sa, watch_connected) !=
        0) {
        detach(c);
        c->watch.retry_at = uv_now(c->loop) + RETRY_MS;
    }
}

/* Puts our clock and start in front of raft_uv's; call after raft_uv_init(). */
void cluster__watch_init(struct cluster *c)
{
    c->watch.io_time = c->io.time;
    c->io.time = skewed_time;
    c->watch.io_start = c->io.start;
    c->io.start = start_io;
}

void cluster__watch_update(struct cluster *c)
{
    raft_id target = enabled(c) && !c->closing ? current_leader(c) : 0;
    struct watch_conn *w = c->watch.conn;
    if (w != NULL && w->target == target) {
        return;
    }
    if (w != NULL || target != c->watch.target) {
        detach(c);
        c->watch.target = target;
        c->watch.reconnect = true; /* a new leader: watch it now */
    }
    if (target == 0) {
        return;
    }
    if (c->watch.reconnect || uv_now(c->loop) >= c->watch.retry_at) {
        c->watch.reconnect = false;
        watch_start(c, target);
    }
}

void cluster__watch_stop(struct cluster *c)
{
    detach(c);
    c->watch.lost = 0;
}
