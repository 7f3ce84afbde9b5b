/* Linearizable reads. On the leader one barrier entry covers every reader that arrived
 * before it was proposed; on a follower one read-index request to the leader does, and the
 * readers then wait until this node has applied that index. Also: handing answers back,
 * and waking what waits for an applied index. */
#include <stdlib.h>

#include "cluster/internal.h"
#include "common/error.h"

static void readers_push(struct cluster__readers *l, struct cluster__reader *r)
{
    r->next = NULL;
    if (l->tail != NULL) {
        l->tail->next = r;
    } else {
        l->head = r;
    }
    l->tail = r;
}

/* Moves every reader of from into to, with status (and index when not 0). */
static void readers_move(struct cluster__readers *from,
                         struct cluster__readers *to,
                         int status,
                         uint64_t index)
{
    struct cluster__reader *r;
    while ((r = from->head) != NULL) {
        from->head = r->next;
        r->status = status;
        if (index != 0) {
            r->index = index;
        }
        readers_push(to, r);
    }
    from->tail = NULL;
}

static void barrier_done(struct raft_barrier *req, int status)
{
    struct cluster *c = req->data;
    c->barrier_inflight = false;
    readers_move(&c->readers_barrier, &c->readers_done, status == 0 ? 0 : CD_EUNAVAIL, 0);
    cluster__wake(c);
}

static void read_index_done(struct cluster *c,
                            void *owner,
                            int status,
                            const void *reply,
                            size_t len)
{
    struct cd_reader r;
    (void)owner;
    c->barrier_inflight = false;
    cd_reader_init(&r, reply, status == 0 ? len : 0);
    uint64_t index = cd_rd_uvar(&r);
    if (status != 0 || r.err != 0) {
        readers_move(&c->readers_barrier, &c->readers_done,
                     status == CD_ETIMEDOUT ? CD_ETIMEDOUT : CD_EUNAVAIL, 0);
    } else {
        readers_move(&c->readers_barrier, &c->readers_applying, 0, index);
        cluster__applied(c, raft_last_applied(&c->raft));
    }
    cluster__wake(c);
}

static void nudged(struct raft_barrier *req, int status)
{
    struct cluster *c = req->data;
    (void)status;
    c->nudging = false;
}

/* A follower learns that an entry committed from the leader's next message: with nothing
 * else to send, the next heartbeat, and then it learns that the entry after it committed
 * from the heartbeat after that. A write a follower forwarded, or a read it fenced with the
 * leader's index, waits until the follower has applied that index (read-your-writes), so two
 * heartbeats went into every such request (195 ms of 196 with heartbeats every 100 ms). The
 * leader therefore appends an empty barrier entry once it has answered one: replicating it
 * at once carries the new commit index to every follower. One at a time; under load the
 * entries already flowing carry it, and at most one barrier per round trip is added. */
void cluster__nudge(struct cluster *c)
{
    if (c->nudging || c->closing || !cluster__is_leader(c)) {
        return;
    }
    c->nudge.data = c;
    c->nudging = raft_barrier(&c->raft, &c->nudge, nudged) == 0;
}

/* Starts one barrier (or read-index) for every waiting reader. */
static void start_barrier(struct cluster *c)
{
    char peer[CONFIG_HOST_MAX + 8];
    raft_id leader;
    int rv;
    if (c->barrier_inflight || c->readers_waiting.head == NULL) {
        return;
    }
    if (cluster__is_leader(c)) {
        c->barrier.data = c;
        rv = raft_barrier(&c->raft, &c->barrier, barrier_done) == 0 ? 0 : CD_EUNAVAIL;
    } else if (cluster__leader_peer(c, &leader, peer, sizeof(peer)) != NULL) {
        rv = cluster__peer_send(c, leader, peer, CLUSTER_FWD_READ_INDEX, NULL, 0,
                                read_index_done, NULL);
    } else {
        rv = CD_EUNAVAIL;
    }
    if (rv != 0) {
        readers_move(&c->readers_waiting, &c->readers_done, CD_EUNAVAIL, 0);
        return;
    }
    c->barrier_inflight = true;
    readers_move(&c->readers_waiting, &c->readers_barrier, 0, 0);
}

int cluster_read_barrier(struct cluster *c, void (*cb)(void *data, int status), void *data)
{
    struct cluster__reader *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return CD_ENOMEM;
    }
    r->cb = cb;
    r->data = data;
    r->deadline = uv_now(c->loop) + CLUSTER__APPLY_WAIT_MS;
    if (c->closing || c->failed) {
        r->status = CD_EUNAVAIL;
        readers_push(&c->readers_done, r);
    } else {
        readers_push(&c->readers_waiting, r);
    }
    cluster__wake(c);
    return 0;
}

/* Hands back every wait that is over: its index is applied, or (now > 0) its deadline
 * passed. A read that ran out fails; a forwarded write is answered anyway, since the
 * leader applied it. */
static void settle(struct cluster *c, uint64_t index, uint64_t now)
{
    struct cluster__reader **pr = &c->readers_applying.head, *r, *last = NULL;
    while ((r = *pr) != NULL) {
        bool late = now != 0 && r->deadline <= now;
        if (r->index <= index || late) {
            *pr = r->next;
            r->status = r->index <= index ? 0 : CD_ETIMEDOUT;
            readers_push(&c->readers_done, r);
        } else {
            last = r;
            pr = &r->next;
        }
    }
    c->readers_applying.tail = last;
    struct cluster__cmd **pc = &c->applying.head, *cmd, *lastc = NULL;
    while ((cmd = *pc) != NULL) {
        if (cmd->wait_index <= index || (now != 0 && cmd->deadline <= now)) {
            *pc = cmd->next;
            c->applying.n--;
            cluster__answer(c, cmd, 0, NULL);
        } else {
            lastc = cmd;
            pc = &cmd->next;
        }
    }
    c->applying.tail = lastc;
}

/* Called after every applied entry (and snapshot install). */
void cluster__applied(struct cluster *c, uint64_t index)
{
    settle(c, index, 0);
    cluster__ready_applied(c, index);
    cluster__wake(c);
}

void cluster__readers_fail_all(struct cluster *c, int code)
{
    readers_move(&c->readers_waiting, &c->readers_done, code, 0);
    readers_move(&c->readers_barrier, &c->readers_done, code, 0);
    readers_move(&c->readers_applying, &c->readers_done, code, 0);
    c->barrier_inflight = false;
}

/* One turn of the pump: start a barrier if readers wait, expire waits, hand back answers. */
void cluster__readers_run(struct cluster *c)
{
    struct cluster__reader *r;
    struct cluster__cmd *cmd;
    start_barrier(c);
    settle(c, raft_last_applied(&c->raft), uv_now(c->loop));
    while ((r = c->readers_done.head) != NULL) {
        c->readers_done.head = r->next;
        if (c->readers_done.head == NULL) {
            c->readers_done.tail = NULL;
        }
        r->cb(r->data, r->status);
        free(r);
    }
    while ((cmd = cluster__list_pop(&c->answered)) != NULL) {
        if (cmd->cb != NULL) {
            cmd->cb(cmd->data, &cmd->res);
        }
        cluster__cmd_free(cmd);
    }
}
