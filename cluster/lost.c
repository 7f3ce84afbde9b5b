/* Node loss: the leader declares a member lost once it has heard nothing from it for
 * sessions.lost_after_ms, and proposes NODE_LOST(member) if any live contact has its home
 * there. The engine then gives each such contact its channel's outcome (engine/sessions.c),
 * the same on every node; the lost member, once back, learns it from the log.
 *
 * Hearing from a member is Raft's own measure: the leader's progress record of it says
 * whether a message came within the last election timeout (recent_recv). The leader samples
 * it every heartbeat. A leader that has just been elected counts every member as heard at
 * its election, so its own election never looks like a loss; that is also why lost_after
 * is at least twice the election timeout (config/node.c). A member is declared once per
 * absence: heard again, it may be declared again later. */
#include <stdio.h>
#include <string.h>

#include "cluster/internal.h"
#include "common/log.h"

static struct cluster__lost_member *entry(struct cluster__lost *l, raft_id id, uint64_t now)
{
    for (unsigned i = 0; i < l->n; i++) {
        if (l->m[i].id == id) {
            return &l->m[i];
        }
    }
    if (l->n == CLUSTER_MEMBERS_MAX) {
        return NULL;
    }
    l->m[l->n] = (struct cluster__lost_member){.id = id, .seen = now};
    return &l->m[l->n++];
}

static void proposed(void *data, const struct engine_result *res)
{
    (void)data;
    if (res->code != 0) {
        cd_logf(CD_LOG_WARN, "node_lost", "not applied: %s", res->message);
    }
}

static void declare(struct cluster *c, raft_id id, uint64_t unseen_ms)
{
    char name[ENGINE_NAME_MAX], ms[24], homed[24];
    cluster__member_name(c, id, name, sizeof(name));
    size_t n = engine_homed_count(c->engine, name);
    snprintf(ms, sizeof(ms), "%llu", (unsigned long long)unseen_ms);
    snprintf(homed, sizeof(homed), "%zu", n);
    cd_log(CD_LOG_WARN, "node_lost", "member", name, "unseen_ms", ms, "sessions", homed, NULL);
    c->lost.declared++;
    if (n == 0) {
        return; /* nothing to decide: no proposal */
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_NODE_LOST};
    cmd.u.node.name = name;
    cluster_submit(c, &cmd, proposed, NULL);
}

bool cluster__lost_heard(const struct cluster *c, raft_id id, bool recent_recv)
{
    if (recent_recv) {
        return true;
    }
    /* Raft clears recent_recv at the start of every election timeout and sets it again
     * on the next reply, so the flag alone reads false for a heartbeat or so of every
     * period: the last time it was seen set says more. */
    const struct cluster__lost *l = &c->lost;
    uint64_t now = uv_now(c->loop);
    for (unsigned i = 0; l->leading && i < l->n; i++) {
        if (l->m[i].id == id) {
            return l->m[i].heard != 0 && now - l->m[i].heard < c->node.raft.election_timeout_ms;
        }
    }
    return false;
}

void cluster__lost_check(struct cluster *c)
{
    struct cluster__lost *l = &c->lost;
    struct raft *r = &c->raft;
    if (!cluster__is_leader(c) || r->leader_state.progress == NULL) {
        l->leading = false;
        return;
    }
    uint64_t now = uv_now(c->loop);
    if (!l->leading) {
        l->leading = true;
        l->n = 0; /* every member counts as heard at this election */
        l->sampled = now;
    }
    if (now - l->sampled < c->node.raft.heartbeat_ms) {
        return;
    }
    l->sampled = now;
    for (unsigned i = 0; i < r->configuration.n; i++) {
        raft_id id = r->configuration.servers[i].id;
        struct cluster__lost_member *m = id != r->id ? entry(l, id, now) : NULL;
        if (m == NULL) {
            continue;
        }
        if (r->leader_state.progress[i].recent_recv) {
            m->seen = m->heard = now;
            m->declared = false;
        } else if (!m->declared && now - m->seen >= c->node.lost_after_ms) {
            m->declared = true;
            declare(c, id, now - m->seen);
        }
    }
}
