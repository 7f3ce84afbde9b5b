/* Membership, leadership transfer, status, and serving what followers forward. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "common/error.h"

const char *cluster_role_name(int role)
{
    static const char *const names[] = {"unavailable", "follower", "candidate", "leader"};
    return role >= 0 && role <= CLUSTER_LEADER ? names[role] : "unknown";
}

const char *cluster_member_role_name(int role)
{
    static const char *const names[] = {"voter", "standby", "spare"};
    return role >= 0 && role <= CLUSTER_SPARE ? names[role] : "unknown";
}

static uint8_t member_role(int raft_role)
{
    return raft_role == RAFT_VOTER     ? CLUSTER_VOTER
           : raft_role == RAFT_STANDBY ? CLUSTER_STANDBY
                                       : CLUSTER_SPARE;
}

static const struct raft_server *server_by_name(const struct cluster *c, const char *id)
{
    struct cluster_member m;
    for (unsigned i = 0; i < c->raft.configuration.n; i++) {
        const struct raft_server *s = &c->raft.configuration.servers[i];
        if (cluster__address_parse(s->address, &m) == 0 && strcmp(m.id, id) == 0) {
            return s;
        }
    }
    return NULL;
}

void cluster_apply_latency(const struct cluster *c, struct cd_hist *out)
{
    *out = c->apply_latency;
}

void cluster_status(const struct cluster *c, struct cluster_status *out)
{
    struct raft *r = (struct raft *)&c->raft;
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", c->node.id);
    out->role = c->raft_started ? (uint8_t)raft_state(r) : CLUSTER_UNAVAILABLE;
    out->term = c->raft_started ? r->current_term : 0;
    out->commit_index = c->raft_started ? r->commit_index : 0;
    out->applied_index = c->raft_started ? raft_last_applied(r) : 0;
    out->last_index = c->raft_started ? raft_last_index(r) : 0;
    out->snapshot_index = c->snapshot_index;
    out->engine_now = engine_now(c->engine);
    out->entries_applied = c->entries_applied;
    out->commands_applied = c->commands_applied;
    out->leaders_lost = c->watch.losses;
    out->members_declared_lost = c->lost.declared;
    out->signals_sent = c->signals.sent;
    out->signals_failed = c->signals.failed;
    out->signals_received = c->signals.received;
    out->early_elections = c->watch.elections;
    out->leader_changes = c->leader_changes;
    const struct cluster__guard_stats *g = &c->transport.stats;
    out->raft_port.accepted = g->accepted;
    out->raft_port.refused = g->refused;
    out->raft_port.timed_out = g->timed_out;
    out->raft_port.over_cap = g->over_cap;
    out->raft_port.bad_frames = g->bad_frames;
    for (unsigned i = 0; c->raft_started && i < r->configuration.n; i++) {
        const struct raft_server *s = &r->configuration.servers[i];
        struct cluster_member *m = &out->members[out->n_members];
        if (out->n_members == CLUSTER_MEMBERS_MAX || cluster__address_parse(s->address, m)) {
            continue;
        }
        m->role = member_role(s->role);
        if (raft_state(r) == RAFT_LEADER && r->leader_state.progress != NULL) {
            m->match_index =
                s->id == r->id ? raft_last_index(r) : r->leader_state.progress[i].match_index;
            m->recent = s->id == r->id ||
                        cluster__lost_heard(c, s->id, r->leader_state.progress[i].recent_recv);
        }
        out->n_members++;
    }
    raft_id leader = 0;
    const char *address = NULL;
    if (c->raft_started) {
        raft_leader(r, &leader, &address);
    }
    for (uint32_t i = 0; leader != 0 && i < out->n_members; i++) {
        if (cluster__raft_id(out->members[i].id) == leader) {
            snprintf(out->leader, sizeof(out->leader), "%s", out->members[i].id);
            snprintf(out->leader_api, sizeof(out->leader_api), "%s", out->members[i].api);
        }
    }
    out->ready = cluster__ready(c, out->applied_index, out->commit_index);
}

bool cluster__member_of(const struct cluster *c, raft_id id, struct cluster_member *out)
{
    for (unsigned i = 0; i < c->raft.configuration.n; i++) {
        const struct raft_server *s = &c->raft.configuration.servers[i];
        if (s->id == id && cluster__address_parse(s->address, out) == 0) {
            return true;
        }
    }
    return false;
}

void cluster__member_name(const struct cluster *c, raft_id id, char *out, size_t cap)
{
    struct cluster_member m;
    if (cluster__member_of(c, id, &m)) {
        snprintf(out, cap, "%s", m.id);
    } else {
        snprintf(out, cap, "%llu", (unsigned long long)id);
    }
}

/* ---- Changes ----------------------------------------------------------------------------- */

static void change_finish(struct cluster__change *ch, int status, const char *message)
{
    ch->busy = false;
    if (ch->cb != NULL) {
        ch->cb(ch->data, status, message);
    }
}

/* The member an add put in the configuration was taken out again (or could not be). */
static void undone(struct raft_change *req, int status)
{
    struct cluster__change *ch = req->data;
    char message[256];
    snprintf(message, sizeof(message),
             status == 0 ? "the new member did not become a voter (%s); it was removed again"
                         : "the new member did not become a voter (%s), and removing it "
                           "again failed (%s): remove it by hand",
             raft_strerror(ch->failed), raft_strerror(status));
    change_finish(ch, ch->failed == RAFT_NOCONNECTION ? CD_ETIMEDOUT : CD_EUNAVAIL, message);
}

/* A failed add leaves nothing behind: the spare the first step added goes again. */
static void undo_add(struct cluster__change *ch, int raft_status)
{
    struct cluster *c = ch->c;
    ch->failed = raft_status;
    int rv = raft_remove(&c->raft, &ch->req, ch->id, undone);
    if (rv != 0) {
        undone(&ch->req, rv);
    }
}

static void assigned(struct raft_change *req, int status)
{
    struct cluster__change *ch = req->data;
    if (status != 0) {
        undo_add(ch, status);
        return;
    }
    change_finish(ch, 0, "member added as a voter");
}

static void changed(struct raft_change *req, int status)
{
    struct cluster__change *ch = req->data;
    struct cluster *c = ch->c;
    if (status == 0 && ch->promote) {
        ch->promote = false;
        int rv = raft_assign(&c->raft, &ch->req, ch->id, RAFT_VOTER, assigned);
        if (rv != 0) {
            undo_add(ch, rv);
        }
        return;
    }
    change_finish(ch, status == 0 ? 0 : CD_EUNAVAIL,
                  status == 0 ? "done" : raft_strerror(status));
}

static int change_begin(struct cluster *c, cluster_change_cb cb, void *data)
{
    if (!cluster__is_leader(c)) {
        return CD_EUNAVAIL;
    }
    if (c->change.busy) {
        return CD_ESTATE;
    }
    memset(&c->change, 0, sizeof(c->change));
    c->change.c = c;
    c->change.cb = cb;
    c->change.data = data;
    c->change.req.data = &c->change;
    c->change.busy = true;
    return 0;
}

/* A port from 1 to 65535 in decimal digits, without sign or leading zero. */
static bool port_valid(const char *p)
{
    unsigned long port = 0;
    if (*p < '1' || *p > '9') {
        return false;
    }
    for (; *p >= '0' && *p <= '9' && port <= 65535; p++) {
        port = port * 10 + (unsigned long)(*p - '0');
    }
    return *p == 0 && port <= 65535;
}

/* "A.B.C.D:PORT" or "[V6]:PORT": an IP literal and a port. */
static bool addr_valid(const char *addr)
{
    char host[CONFIG_HOST_MAX];
    unsigned char bin[sizeof(struct in6_addr)];
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || !port_valid(colon + 1)) {
        return false;
    }
    size_t n = (size_t)(colon - addr);
    bool v6 = n >= 2 && addr[0] == '[' && addr[n - 1] == ']';
    size_t len = v6 ? n - 2 : n;
    if (len >= sizeof(host)) {
        return false;
    }
    memcpy(host, v6 ? addr + 1 : addr, len);
    host[len] = 0;
    return inet_pton(v6 ? AF_INET6 : AF_INET, host, bin) == 1;
}

static int addr_check(const char *what, const char *addr, char *err, size_t errlen)
{
    if (addr_valid(addr)) {
        return 0;
    }
    snprintf(err, errlen,
             "%s: '%s' is not an address (an IPv4 address or an IPv6 one in brackets, ':' and "
             "a port from 1 to 65535)",
             what, addr);
    return CD_EINVAL;
}

int cluster_member_check(const char *id,
                         const char *raft_addr,
                         const char *api_addr,
                         const char *peer_addr,
                         char *err,
                         size_t errlen)
{
    if (!engine_name_valid(id, ENGINE_NAME_MAX)) {
        snprintf(err, errlen, "id: '%s' is not a valid name (%s; 1 to %d characters)", id,
                 ENGINE_NAME_CHARSET, ENGINE_NAME_MAX - 1);
        return CD_EINVAL;
    }
    if (addr_check("raft", raft_addr, err, errlen) != 0 ||
        addr_check("api", api_addr, err, errlen) != 0 ||
        addr_check("peer", peer_addr, err, errlen) != 0) {
        return CD_EINVAL;
    }
    if (strcmp(raft_addr, api_addr) == 0 || strcmp(raft_addr, peer_addr) == 0 ||
        strcmp(api_addr, peer_addr) == 0) {
        snprintf(err, errlen, "raft, api and peer must be three different addresses");
        return CD_EINVAL;
    }
    return 0;
}

/* A member already named id, or already at one of the addresses (as any of its own). */
static bool member_clash(const struct cluster *c, const struct cluster_member *joining)
{
    struct cluster_member m;
    for (unsigned i = 0; i < c->raft.configuration.n; i++) {
        const struct raft_server *s = &c->raft.configuration.servers[i];
        if (cluster__address_parse(s->address, &m) != 0) {
            continue;
        }
        if (strcmp(m.id, joining->id) == 0) {
            return true;
        }
        const char *theirs[] = {m.raft, m.api, m.peer};
        const char *ours[] = {joining->raft, joining->api, joining->peer};
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                if (strcmp(theirs[a], ours[b]) == 0) {
                    return true;
                }
            }
        }
    }
    return false;
}

int cluster_member_add(struct cluster *c,
                       const char *id,
                       const char *raft_addr,
                       const char *api_addr,
                       const char *peer_addr,
                       cluster_change_cb cb,
                       void *data)
{
    char address[sizeof(c->address)], err[256];
    struct cluster_member joining;
    if (cluster_member_check(id, raft_addr, api_addr, peer_addr, err, sizeof(err)) != 0 ||
        cluster__address_format(address, sizeof(address), id, raft_addr, api_addr, peer_addr) !=
            0 ||
        cluster__address_parse(address, &joining) != 0) {
        return CD_EINVAL;
    }
    if (member_clash(c, &joining)) {
        return CD_EEXISTS;
    }
    int rv = change_begin(c, cb, data);
    if (rv != 0) {
        return rv;
    }
    c->change.id = cluster__raft_id(id);
    c->change.promote = true;
    if (raft_add(&c->raft, &c->change.req, c->change.id, address, changed) != 0) {
        c->change.busy = false;
        return CD_ESTATE;
    }
    return 0;
}

int cluster_member_remove(struct cluster *c, const char *id, cluster_change_cb cb, void *data)
{
    const struct raft_server *s = server_by_name(c, id);
    if (s == NULL) {
        return CD_ENOTFOUND;
    }
    int rv = change_begin(c, cb, data);
    if (rv != 0) {
        return rv;
    }
    c->change.id = s->id;
    if (raft_remove(&c->raft, &c->change.req, s->id, changed) != 0) {
        c->change.busy = false;
        return CD_ESTATE;
    }
    return 0;
}

static void transferred(struct raft_transfer *req)
{
    struct cluster__change *ch = req->data;
    struct cluster *c = ch->c;
    raft_id leader;
    const char *address;
    raft_leader(&c->raft, &leader, &address);
    if (ch->id == 0 || leader == ch->id) {
        change_finish(ch, leader != 0 && leader != c->id ? 0 : CD_ETIMEDOUT,
                      leader != 0 && leader != c->id ? "leadership transferred"
                                                     : "no new leader in time");
    } else {
        change_finish(ch, CD_ETIMEDOUT, "the target did not take over in time");
    }
}

int cluster_leader_transfer(struct cluster *c, const char *id, cluster_change_cb cb, void *data)
{
    raft_id target = 0;
    if (id != NULL && *id != 0) {
        const struct raft_server *s = server_by_name(c, id);
        if (s == NULL) {
            return CD_ENOTFOUND;
        }
        if (s->id == c->id || s->role != RAFT_VOTER) {
            return CD_EINVAL;
        }
        target = s->id;
    }
    int rv = change_begin(c, cb, data);
    if (rv != 0) {
        return rv;
    }
    c->change.id = target;
    c->change.transfer.data = &c->change;
    if (raft_transfer(&c->raft, &c->change.transfer, target, transferred) != 0) {
        c->change.busy = false;
        return CD_ESTATE;
    }
    return 0;
}

/* ---- Serving followers --------------------------------------------------------------------
 */

struct served
{
    struct cluster *c;
    cluster_reply_cb reply;
    void *data;
};

static void served_command(void *data, const struct engine_result *res)
{
    struct served *s = data;
    struct cd_buf b;
    cd_buf_init(&b);
    int rv = cluster__result_encode(&b, res, raft_last_applied(&s->c->raft));
    s->reply(s->data, rv, b.data, b.len);
    cd_buf_close(&b);
    cluster__nudge(s->c); /* the follower waits to apply it: tell it the commit now */
    free(s);
}

static void served_read_index(void *data, int status)
{
    struct served *s = data;
    struct cd_buf b;
    cd_buf_init(&b);
    cd_buf_uvar(&b, raft_last_applied(&s->c->raft));
    s->reply(s->data, status != 0 ? status : b.err, b.data, b.len);
    cd_buf_close(&b);
    cluster__nudge(s->c);
    free(s);
}

static void served_commit_index(struct served *s)
{
    struct cd_buf b;
    cd_buf_init(&b);
    cd_buf_uvar(&b, s->c->raft.commit_index);
    s->reply(s->data, b.err, b.data, b.len);
    cd_buf_close(&b);
    free(s);
}

const char *cluster_forward_kind_name(int kind)
{
    static const char *const names[CLUSTER_FWD_KINDS + 1] = {
        NULL, "command", "read-index", "commit-index", "history", "audit", "signal"};
    return kind >= 1 && kind <= CLUSTER_FWD_KINDS ? names[kind] : NULL;
}

void cluster_serve_forward(struct cluster *c,
                           enum cluster_forward_kind kind,
                           const void *body,
                           size_t len,
                           cluster_reply_cb reply,
                           void *data)
{
    if (kind == CLUSTER_FWD_HISTORY || kind == CLUSTER_FWD_AUDIT) {
        /* any member with the rows serves them, leader or not */
        struct cd_buf b;
        cd_buf_init(&b);
        int rv = kind == CLUSTER_FWD_HISTORY ? cluster__history_serve(c, body, len, &b)
                                             : cluster__audit_serve(c, body, len, &b);
        reply(data, rv, b.data, b.len);
        cd_buf_close(&b);
        return;
    }
    if (kind == CLUSTER_FWD_SIGNAL) {
        cluster__signal_serve(c, body, len); /* any member, at once */
        reply(data, len > CLUSTER_SIGNAL_MAX ? CD_ETOOBIG : 0, NULL, 0);
        return;
    }
    struct served *s = calloc(1, sizeof(*s));
    int rv = CD_ENOMEM;
    if (s != NULL) {
        *s = (struct served){.c = c, .reply = reply, .data = data};
        if (!cluster__is_leader(c)) {
            rv = CD_EUNAVAIL; /* never forward twice: the caller retries */
        } else if (kind == CLUSTER_FWD_COMMAND) {
            rv = cluster_submit_encoded(c, body, len, served_command, s);
        } else if (kind == CLUSTER_FWD_READ_INDEX) {
            rv = cluster_read_barrier(c, served_read_index, s);
        } else if (kind == CLUSTER_FWD_COMMIT_INDEX) {
            served_commit_index(s);
            return;
        } else {
            rv = CD_EINVAL;
        }
    }
    if (rv != 0) {
        free(s);
        reply(data, rv, NULL, 0);
    }
}

const struct engine *cluster_engine(const struct cluster *c)
{
    return c->engine;
}

struct storage *cluster_storage(const struct cluster *c)
{
    return c->storage;
}
