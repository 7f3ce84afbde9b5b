/* Readiness on a follower: "a leader is known and this node has applied everything the
 * leader had committed a moment ago". A follower's own commit index cannot tell: it only
 * knows what it has received, so a node far behind (still receiving the log, or waiting
 * for a snapshot, or just resumed after a pause) would count as caught up.
 *
 * So a follower asks the leader for its commit index every READY_PROBE_MS (no log entry:
 * CLUSTER_FWD_COMMIT_INDEX). Once it has applied the index a probe brought back, it was at
 * least as current as the leader when that probe was sent; it is ready while that moment is
 * less than READY_LAG_MS ago. A node that stops applying, or whose probes go unanswered,
 * falls out of readiness within READY_LAG_MS; a healthy one never flaps, since the next
 * probe is answered and applied long before the last one ages. */
#include "cluster/internal.h"
#include "common/error.h"

#define READY_PROBE_MS 500
#define READY_LAG_MS 1500

/* The node has applied index: a probe's answer at or below it is caught up with. */
void cluster__ready_applied(struct cluster *c, uint64_t index)
{
    struct cluster__ready *r = &c->ready;
    if (r->has_target && index >= r->target) {
        r->caught_up_at = r->target_sent_at;
        r->caught_up = true;
        r->has_target = false;
    }
}

static void probe_done(struct cluster *c,
                       void *owner,
                       int status,
                       const void *reply,
                       size_t len)
{
    struct cd_reader r;
    (void)owner;
    c->ready.inflight = false;
    if (status != 0) {
        return;
    }
    cd_reader_init(&r, reply, len);
    uint64_t index = cd_rd_uvar(&r);
    if (r.err != 0) {
        return;
    }
    c->ready.target = index;
    c->ready.target_sent_at = c->ready.sent_at;
    c->ready.has_target = true;
    cluster__ready_applied(c, raft_last_applied(&c->raft));
}

static void probe_fire(uv_timer_t *t)
{
    struct cluster *c = t->data;
    char peer[CONFIG_HOST_MAX + 8];
    raft_id leader;
    if (c->ready.inflight || c->closing || cluster__is_leader(c) ||
        cluster__leader_peer(c, &leader, peer, sizeof(peer)) == NULL) {
        return;
    }
    if (leader != c->ready.leader) {
        c->ready = (struct cluster__ready){.leader = leader};
    }
    c->ready.sent_at = uv_now(c->loop);
    if (cluster__peer_send(c, leader, peer, CLUSTER_FWD_COMMIT_INDEX, NULL, 0, probe_done,
                           NULL) == 0) {
        c->ready.inflight = true;
    }
}

void cluster__ready_start(struct cluster *c)
{
    uv_timer_start(&c->ready_timer, probe_fire, 0, READY_PROBE_MS);
}

bool cluster__ready(const struct cluster *c, uint64_t applied, uint64_t commit)
{
    raft_id leader;
    const char *address;
    if (c->failed || !c->raft_started || commit == 0 || applied < commit) {
        return false;
    }
    raft_leader((struct raft *)&c->raft, &leader, &address);
    if (leader == 0) {
        return false;
    }
    if (leader == c->id) {
        return true;
    }
    const struct cluster__ready *r = &c->ready;
    return r->leader == leader && r->caught_up &&
           uv_now(c->loop) - r->caught_up_at <= READY_LAG_MS;
}

bool cluster_ready(struct cluster *c)
{
    return c->raft_started &&
           cluster__ready(c, raft_last_applied(&c->raft), c->raft.commit_index);
}
