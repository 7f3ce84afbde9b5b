/* Requests to other members (forwarded writes, read indexes, history pages), tracked so
 * that none outlives what it was for.
 *
 * The forwarding ops answer a request whenever the peer does, or when their own timeout
 * runs out (seconds). Two things must not wait for that: a request to a leader that has
 * since been replaced (a stopped old leader keeps its connections open and answers
 * nothing; the new one is known within an election), and a node that closes (the ops'
 * answer may come after the cluster is freed). Both abandon the request: its owner is
 * answered at once, and the ops' late answer only frees the record. */
#include <stdio.h>
#include <stdlib.h>

#include "cluster/internal.h"
#include "common/error.h"

struct cluster__peer_req
{
    struct cluster__peer_req *prev, *next; /* in c->peer_reqs, while not abandoned */
    struct cluster *c;                     /* NULL once abandoned */
    raft_id to;
    bool leader_bound; /* meant for whoever leads: abandoned when the leader changes */
    cluster__peer_done done;
    void *owner;
};

static void unlink_req(struct cluster *c, struct cluster__peer_req *p)
{
    if (p->prev != NULL) {
        p->prev->next = p->next;
    } else {
        c->peer_reqs = p->next;
    }
    if (p->next != NULL) {
        p->next->prev = p->prev;
    }
    p->prev = p->next = NULL;
}

static void answered(void *req, int status, const void *reply, size_t len)
{
    struct cluster__peer_req *p = req;
    struct cluster *c = p->c;
    if (c != NULL) {
        unlink_req(c, p);
        p->done(c, p->owner, status, reply, len);
    }
    free(p);
}

int cluster__peer_send(struct cluster *c,
                       raft_id to,
                       const char *peer_addr,
                       enum cluster_forward_kind kind,
                       const void *body,
                       size_t len,
                       cluster__peer_done done,
                       void *owner)
{
    if (c->forward.send == NULL || c->closing || cluster_isolated(c)) {
        return CD_EUNAVAIL; /* an isolation drops the peer channel's traffic too (drill.c) */
    }
    struct cluster__peer_req *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return CD_ENOMEM;
    }
    p->c = c;
    p->to = to;
    p->leader_bound =
        kind != CLUSTER_FWD_HISTORY && kind != CLUSTER_FWD_AUDIT && kind != CLUSTER_FWD_SIGNAL;
    p->done = done;
    p->owner = owner;
    char member[ENGINE_NAME_MAX];
    cluster__member_name(c, to, member, sizeof(member));
    int rv = c->forward.send(c->forward.data, member, peer_addr, kind, body, len, answered, p);
    if (rv != 0) {
        free(p);
        return rv;
    }
    p->next = c->peer_reqs;
    if (p->next != NULL) {
        p->next->prev = p;
    }
    c->peer_reqs = p;
    return 0;
}

/* Abandons the requests that match: every one (all), or the leader-bound ones sent to a
 * member other than leader. Each owner hears CLUSTER__ABANDONED now. */
static void abandon(struct cluster *c, bool all, raft_id leader)
{
    struct cluster__peer_req *p = c->peer_reqs, *next;
    for (; p != NULL; p = next) {
        next = p->next;
        if (!all && (!p->leader_bound || p->to == leader)) {
            continue;
        }
        unlink_req(c, p);
        p->c = NULL;
        p->done(c, p->owner, CLUSTER__ABANDONED, NULL, 0);
    }
}

void cluster__peer_leader_changed(struct cluster *c, raft_id leader)
{
    abandon(c, false, leader);
}

void cluster__peer_abandon_all(struct cluster *c)
{
    abandon(c, true, 0);
}

const char *cluster__member_peer(const struct cluster *c, raft_id id, char *buf, size_t len)
{
    struct cluster_member m;
    if (!cluster__member_of(c, id, &m)) {
        return NULL;
    }
    snprintf(buf, len, "%s", m.peer);
    return buf;
}
