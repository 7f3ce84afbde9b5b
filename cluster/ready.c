/* Readiness on a follower: "a leader is known and this node has applied what the leader
 * had committed a moment ago". A follower's own commit index cannot tell: it only knows
 * what it has received, so a node far behind (still receiving the log, or waiting for a
 * snapshot) would count as caught up. So a follower asks the leader for its commit index
 * every READY_PROBE_MS (no log entry: CLUSTER_FWD_COMMIT_INDEX), and is ready while it has
 * applied what the leader had committed one probe earlier and the leader answered
 * recently. The probe before the latest one is the yardstick so that the few entries
 * in flight at the instant of an answer do not make a healthy node flap. */
#include "cluster/internal.h"
#include "common/error.h"

#define READY_PROBE_MS 500
/* The leader must have answered a probe this recently for a follower to be ready. */
#define READY_FRESH_MS 3000

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
    c->ready.yardstick = c->ready.latest;
    c->ready.latest = index;
    c->ready.answered_at = uv_now(c->loop);
    c->ready.answers++;
}

static void probe_fire(uv_timer_t *t)
{
    struct cluster *c = t->data;
    char api[CONFIG_HOST_MAX + 8];
    raft_id leader;
    if (c->ready.inflight || c->closing || cluster__is_leader(c) ||
        cluster__leader_api(c, &leader, api, sizeof(api)) == NULL) {
        return;
    }
    if (leader != c->ready.leader) {
        c->ready = (struct cluster__ready){.leader = leader};
    }
    if (cluster__peer_send(c, leader, api, CLUSTER_FWD_COMMIT_INDEX, NULL, 0, probe_done,
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
    return r->leader == leader && r->answers >= 2 && applied >= r->yardstick &&
           uv_now(c->loop) - r->answered_at <= READY_FRESH_MS;
}
