/* Shared fixture of the cluster unit tests: N whole cluster nodes (storage, engine, FSM,
 * group commit, forwarding, reads) whose Raft runs on raft's in-memory fixture
 * (raft/fixture.h) through cluster__new_on_io(), all on one uv loop.
 *
 * Time. Raft lives on the fixture's virtual time: cf_step() fires one fixture event (a
 * tick, a disk write, a message) and then settles the loop, running it with UV_RUN_NOWAIT
 * until no node has work waiting (its pump idle handle is off) and no forwarded request
 * can move. Nothing sleeps; a test steps until a condition holds, within a bound of
 * virtual time. The cluster's own timers run on the loop's real clock and matter little
 * here: the readiness probe fires at start, the others are seconds away.
 *
 * Forwarding. Each node's cluster_forward_ops.send() posts the request in a mailbox; the
 * settle loop hands it to the node whose peer address it names (cluster_serve_forward) and
 * hands the answer back to the sender on a later pass, so done never fires from inside
 * send, as the contract asks. A test may hold the requests to a node or of a kind (a
 * leader that no longer answers; a backfill not yet served) and release them later.
 *
 * Closing a node. The fixture's raft_io calls its close callback at once, unlike raft_uv,
 * which first completes every pending request: a node is therefore killed (no ticks, no
 * messages in or out) and its pending disk writes and sends drained by stepping before it
 * closes. cf_free() does that for every node, then ends with uv_loop_close() == 0 and
 * closes the fixture.
 *
 * Every test function gets `struct cf *f` (TEST below); the macros assume that name. */
#ifndef CD_TESTS_CLUSTER_FIXTURE_H
#define CD_TESTS_CLUSTER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft/fixture.h>

#include "cluster/internal.h"
#include "common/error.h"
#include "tests/unit/tmpdir.h"

#define CF_NODES_MAX 5
#define CF_QUIET_MS 500    /* virtual time without I/O after which a killed node is drained */
#define CF_SETTLE_MAX 1000 /* loop passes one settle may take */
/* The fixture's defaults, which its io's random() returns whatever the range asked for:
 * node i's election timer runs out after 1000 + 100 i ms, so node 0 is elected first. */
#define CF_ELECTION_MS 1000
#define CF_HEARTBEAT_MS 100

#define TEST(name)                         \
    static void name##_body(struct cf *f); \
    static void name(void **state)         \
    {                                      \
        name##_body(*state);               \
    }                                      \
    static void name##_body(struct cf *f)

/* ---- Nodes --------------------------------------------------------------------------- */

struct cf;

struct cf_node
{
    struct cf *f;
    unsigned i;
    struct cluster *c; /* NULL while closed */
    struct config_node config;
    char peer[32]; /* its peer channel's address, as the configuration names it */
    bool killed;
    bool closed; /* cluster_close()'s callback fired */
    /* Effects seen since the node was (re)opened: how many, and a hash of them in order. */
    uint64_t effects;
    uint64_t effect_hash;
    uint64_t restored; /* index of the latest snapshot installed, 0 none */
    /* The fixture io's own methods, wrapped (cf_load). */
    int (*io_load)(struct raft_io *io,
                   raft_term *term,
                   raft_id *voted_for,
                   struct raft_snapshot **snapshot,
                   raft_index *start_index,
                   struct raft_entry **entries,
                   size_t *n_entries);
    int (*io_snapshot_put)(struct raft_io *io,
                           unsigned trailing,
                           struct raft_io_snapshot_put *req,
                           const struct raft_snapshot *snapshot,
                           raft_io_snapshot_put_cb cb);
    raft_index log_start; /* index of the first entry the fixture io keeps */
};

/* A forwarded request, from send() to the sender's done(). */
struct cf_msg
{
    struct cf_msg *next;
    struct cf *f;
    unsigned from, to;
    enum cluster_forward_kind kind;
    uint8_t *body;
    size_t len;
    cluster_forward_done done;
    void *req;
    int status; /* the answer, once served */
    uint8_t *reply;
    size_t reply_len;
};

struct cf_options
{
    unsigned n;
    uint32_t snapshot_threshold; /* 0: the node file's default */
    uint32_t snapshot_trailing;
};

struct cf
{
    uv_loop_t loop;
    struct raft_fixture rf;
    struct raft_fsm dormant_fsm; /* for the fixture's own rafts, which never start */
    struct cf_options opt;
    unsigned n;
    struct cf_node nodes[CF_NODES_MAX];
    char dir[1024];
    struct cf_msg *requests; /* posted, not yet served */
    struct cf_msg *replies;  /* served, not yet handed back */
    bool hold_to[CF_NODES_MAX];
    bool hold_kind[CLUSTER_FWD_KINDS + 1];
    uint64_t served[CLUSTER_FWD_KINDS + 1];   /* requests handed to a node, per kind */
    uint64_t answered[CLUSTER_FWD_KINDS + 1]; /* answers handed back, per kind */
    struct cf_call *calls;                    /* every command submitted (cf_submit) */
    struct cf_change *changes;
    struct cf_read *reads;
};

/* ---- The forwarding mailbox ---------------------------------------------------------- */

static inline void cf_push(struct cf_msg **list, struct cf_msg *m)
{
    m->next = NULL;
    while (*list != NULL) {
        list = &(*list)->next;
    }
    *list = m;
}

static inline int cf_send(void *data,
                          const char *member,
                          const char *peer_addr,
                          enum cluster_forward_kind kind,
                          const void *body,
                          size_t len,
                          cluster_forward_done done,
                          void *req)
{
    struct cf_node *from = data;
    struct cf *f = from->f;
    (void)member;
    for (unsigned j = 0; j < f->n; j++) {
        if (strcmp(f->nodes[j].peer, peer_addr) != 0) {
            continue;
        }
        struct cf_msg *m = calloc(1, sizeof(*m));
        assert_non_null(m);
        m->f = f;
        m->from = from->i;
        m->to = j;
        m->kind = kind;
        m->body = malloc(len ? len : 1);
        assert_non_null(m->body);
        if (len > 0) {
            memcpy(m->body, body, len);
        }
        m->len = len;
        m->done = done;
        m->req = req;
        cf_push(&f->requests, m);
        return 0;
    }
    return CD_EUNAVAIL; /* nobody listens there */
}

static inline void cf_served(void *data, int status, const void *bytes, size_t len)
{
    struct cf_msg *m = data;
    m->status = status;
    if (status == 0) {
        m->reply = malloc(len ? len : 1);
        assert_non_null(m->reply);
        if (len > 0) {
            memcpy(m->reply, bytes, len);
        }
        m->reply_len = len;
    }
    cf_push(&m->f->replies, m);
}

/* Hands one request to the node it names (or answers it as a closed node would). */
static inline void cf_serve(struct cf *f, struct cf_msg *m)
{
    struct cf_node *to = &f->nodes[m->to];
    f->served[m->kind]++;
    if (to->c == NULL) {
        cf_served(m, CD_EUNAVAIL, NULL, 0);
        return;
    }
    cluster_serve_forward(to->c, m->kind, m->body, m->len, cf_served, m);
}

static inline bool cf_held(const struct cf *f, const struct cf_msg *m)
{
    return f->hold_to[m->to] || f->hold_kind[m->kind];
}

/* One pass of the mailbox: hands back the answers that were there, then serves the
 * requests not held. Returns whether anything moved. */
static inline bool cf_deliver(struct cf *f)
{
    bool moved = false;
    struct cf_msg *m, *replies = f->replies, **p = &f->requests;
    f->replies = NULL;
    while ((m = replies) != NULL) {
        replies = m->next;
        f->answered[m->kind]++;
        m->done(m->req, m->status, m->reply, m->reply_len);
        free(m->body);
        free(m->reply);
        free(m);
        moved = true;
    }
    while ((m = *p) != NULL) {
        if (cf_held(f, m)) {
            p = &m->next;
            continue;
        }
        *p = m->next;
        cf_serve(f, m);
        moved = true;
    }
    return moved;
}

static inline size_t cf_pending(const struct cf *f, enum cluster_forward_kind kind)
{
    size_t n = 0;
    for (const struct cf_msg *m = f->requests; m != NULL; m = m->next) {
        n += m->kind == kind;
    }
    return n;
}

/* ---- The loop ------------------------------------------------------------------------ */

static inline bool cf_node_busy(const struct cf_node *n)
{
    return n->c != NULL && uv_is_active((const uv_handle_t *)&n->c->pump_idle);
}

/* Runs the loop and the mailbox until nothing is left to do without a fixture event. */
static inline void cf_settle(struct cf *f)
{
    for (int pass = 0; pass < CF_SETTLE_MAX; pass++) {
        bool moved = cf_deliver(f);
        uv_run(&f->loop, UV_RUN_NOWAIT);
        bool busy = moved;
        for (unsigned i = 0; i < f->n; i++) {
            busy = busy || cf_node_busy(&f->nodes[i]);
        }
        if (!busy && f->replies == NULL) {
            return;
        }
    }
    fail_msg("the nodes kept finding work for %d passes of the loop", CF_SETTLE_MAX);
}

/* One fixture event (tick, disk write, message), then the nodes react. */
static inline void cf_step(struct cf *f)
{
    raft_fixture_step(&f->rf);
    cf_settle(f);
}

typedef bool (*cf_pred)(struct cf *f, void *arg);

/* Steps until pred holds or max_ms of virtual time have passed; returns whether it held. */
static inline bool cf_step_until(struct cf *f, cf_pred pred, void *arg, unsigned max_ms)
{
    raft_time start = f->rf.time;
    cf_settle(f);
    while (!pred(f, arg)) {
        if (f->rf.time - start >= max_ms) {
            return false;
        }
        cf_step(f);
    }
    return true;
}

static inline void cf_elapse(struct cf *f, unsigned ms)
{
    raft_time start = f->rf.time;
    while (f->rf.time - start < ms) {
        cf_step(f);
    }
}

/* ---- Looking at the nodes ------------------------------------------------------------ */

#define CF_C(i) (f->nodes[(i)].c)

static inline struct cluster_status cf_status(struct cf *f, unsigned i)
{
    struct cluster_status s;
    assert_non_null(CF_C(i));
    cluster_status(CF_C(i), &s);
    return s;
}

static inline uint64_t cf_applied(struct cf *f, unsigned i)
{
    return cf_status(f, i).applied_index;
}

static inline uint64_t cf_last_index(struct cf *f, unsigned i)
{
    return cf_status(f, i).last_index;
}

static inline uint64_t cf_digest(struct cf *f, unsigned i)
{
    return engine_digest(cluster_engine(CF_C(i)));
}

static inline struct storage_stats cf_storage(struct cf *f, unsigned i)
{
    struct storage_stats st;
    assert_int_equal(storage_stats(cluster_storage(CF_C(i)), &st), 0);
    return st;
}

/* Node i leads, every other live node follows it, and it has applied all it has. */
static inline bool cf_stable_leader(struct cf *f, void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    struct cluster_status s = cf_status(f, i);
    if (s.role != CLUSTER_LEADER || s.applied_index != s.last_index) {
        return false;
    }
    for (unsigned j = 0; j < f->n; j++) {
        if (j != i && f->nodes[j].c != NULL && !f->nodes[j].killed &&
            strcmp(cf_status(f, j).leader, f->nodes[i].config.id) != 0) {
            return false;
        }
    }
    return true;
}

/* Some node is a stable leader (cf_stable_leader); its index goes to *(unsigned *)arg. */
static inline bool cf_some_leader(struct cf *f, void *arg)
{
    for (unsigned i = 0; i < f->n; i++) {
        if (f->nodes[i].c != NULL && !f->nodes[i].killed &&
            cf_stable_leader(f, (void *)(uintptr_t)i)) {
            *(unsigned *)arg = i;
            return true;
        }
    }
    return false;
}

#define CF_UNTIL_LEADER(i) \
    assert_true(cf_step_until(f, cf_stable_leader, (void *)(uintptr_t)(i), 20 * CF_ELECTION_MS))

/* Every live node has applied the leader's last index, and knows it. */
static inline bool cf_all_applied(struct cf *f, void *arg)
{
    uint64_t last = 0;
    (void)arg;
    for (unsigned i = 0; i < f->n; i++) {
        if (f->nodes[i].c != NULL && cf_status(f, i).role == CLUSTER_LEADER) {
            last = cf_last_index(f, i);
        }
    }
    for (unsigned i = 0; i < f->n; i++) {
        if (f->nodes[i].c != NULL && !f->nodes[i].killed && cf_applied(f, i) != last) {
            return false;
        }
    }
    return last != 0;
}

#define CF_UNTIL_ALL_APPLIED() assert_true(cf_step_until(f, cf_all_applied, NULL, 10000))

/* ---- Effects ------------------------------------------------------------------------- */

static inline void cf_hash(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        *h = (*h ^ b[i]) * 1099511628211ull;
    }
}

static inline void cf_hash_str(uint64_t *h, const char *s)
{
    cf_hash(h, s != NULL ? s : "", s != NULL ? strlen(s) + 1 : 1);
}

struct cf_effect_at
{
    struct cf_node *node;
    uint64_t index;
};

static inline int cf_effect(void *data, uint32_t n, const struct engine_effect *fx)
{
    struct cf_effect_at *at = data;
    uint64_t *h = &at->node->effect_hash;
    cf_hash(h, &at->index, sizeof(at->index));
    cf_hash(h, &n, sizeof(n));
    cf_hash(h, &fx->kind, sizeof(fx->kind));
    cf_hash(h, &fx->state, sizeof(fx->state));
    cf_hash(h, &fx->contact, sizeof(fx->contact));
    cf_hash(h, &fx->offer, sizeof(fx->offer));
    cf_hash(h, &fx->at, sizeof(fx->at));
    cf_hash_str(h, fx->agent);
    cf_hash_str(h, fx->queue);
    cf_hash_str(h, fx->text);
    cf_hash_str(h, fx->home);
    at->node->effects++;
    return 0;
}

/* The effects of a committed entry, decoded as the bus decodes them. */
static inline void cf_effects(void *data, uint64_t index, const void *bytes, size_t len)
{
    struct cf_effect_at at = {data, index};
    assert_int_equal(cluster_effects_each(bytes, len, cf_effect, &at), 0);
}

static inline int cf_outbox_row(void *data, uint64_t index, const void *bytes, size_t len)
{
    uint64_t *h = data;
    cf_hash(h, &index, sizeof(index));
    cf_hash(h, bytes, len);
    return 0;
}

/* A hash of node i's outbox: every kept entry's index and effects. */
static inline uint64_t cf_outbox(struct cf *f, unsigned i)
{
    uint64_t h = 14695981039346656037ull;
    assert_int_equal(storage_foreach_effects(cluster_storage(CF_C(i)), 0, cf_outbox_row, &h),
                     0);
    return h;
}

static inline void cf_restored(void *data, uint64_t index)
{
    struct cf_node *node = data;
    node->restored = index;
}

/* ---- What the fixture's io persists -------------------------------------------------- */

/* raft 0.15's in-memory io keeps a node's entries from index 1, dropping them all only when
 * a snapshot is stored without trailing entries (one installed from the leader); yet its
 * load() says they start right after the latest snapshot. A node restarting from a snapshot
 * it took itself would then read entry 1 as the one after the snapshot, and apply the old
 * entries again in place of the new ones. cf_load() gives raft the index the kept entries
 * really start at, as raft_uv does with the entries it keeps behind a snapshot. */

static inline struct cf_node *cf_node_of_io(struct raft_io *io)
{
    struct raft_fixture_server *s =
        (struct raft_fixture_server *)((char *)io - offsetof(struct raft_fixture_server, io));
    struct raft_fixture_server *first = s - (s->id - 1); /* the fixture's ids are i + 1 */
    struct raft_fixture *rf =
        (struct raft_fixture *)((char *)first - offsetof(struct raft_fixture, servers));
    struct cf *f = (struct cf *)((char *)rf - offsetof(struct cf, rf));
    return &f->nodes[s->id - 1];
}

static inline int cf_load(struct raft_io *io,
                          raft_term *term,
                          raft_id *voted_for,
                          struct raft_snapshot **snapshot,
                          raft_index *start_index,
                          struct raft_entry **entries,
                          size_t *n_entries)
{
    struct cf_node *node = cf_node_of_io(io);
    int rv = node->io_load(io, term, voted_for, snapshot, start_index, entries, n_entries);
    if (rv == 0 && *snapshot != NULL) {
        *start_index = node->log_start;
    }
    return rv;
}

static inline int cf_snapshot_put(struct raft_io *io,
                                  unsigned trailing,
                                  struct raft_io_snapshot_put *req,
                                  const struct raft_snapshot *snapshot,
                                  raft_io_snapshot_put_cb cb)
{
    struct cf_node *node = cf_node_of_io(io);
    if (trailing == 0) {
        node->log_start = snapshot->index + 1; /* the fixture drops every entry it kept */
    }
    return node->io_snapshot_put(io, trailing, req, snapshot, cb);
}

static inline void cf_wrap_io(struct cf *f, unsigned i)
{
    struct raft_io *io = &f->rf.servers[i].io;
    struct cf_node *node = &f->nodes[i];
    assert_ptr_equal(cf_node_of_io(io), node);
    node->log_start = 1;
    node->io_load = io->load;
    io->load = cf_load;
    node->io_snapshot_put = io->snapshot_put;
    io->snapshot_put = cf_snapshot_put;
}

/* ---- Opening and closing ------------------------------------------------------------- */

static inline void cf_configure(struct cf *f, unsigned i)
{
    struct config_node *cn = &f->nodes[i].config;
    memset(cn, 0, sizeof(*cn));
    snprintf(cn->id, sizeof(cn->id), "n%u", i);
    snprintf(cn->api_listen.host, sizeof(cn->api_listen.host), "127.0.0.1");
    cn->api_listen.port = (uint16_t)(17100 + i);
    snprintf(cn->raft_listen.host, sizeof(cn->raft_listen.host), "127.0.0.1");
    cn->raft_listen.port = (uint16_t)(17200 + i);
    snprintf(cn->peer_listen.host, sizeof(cn->peer_listen.host), "127.0.0.1");
    cn->peer_listen.port = (uint16_t)(17300 + i);
    snprintf(cn->data_dir, sizeof(cn->data_dir), "%s/n%u", f->dir, i);
    cn->n_peers = f->n;
    for (unsigned j = 0; j < f->n; j++) {
        struct config_peer *p = &cn->peers[j];
        snprintf(p->id, sizeof(p->id), "n%u", j);
        snprintf(p->raft.host, sizeof(p->raft.host), "127.0.0.1");
        p->raft.port = (uint16_t)(17200 + j);
        snprintf(p->api.host, sizeof(p->api.host), "127.0.0.1");
        p->api.port = (uint16_t)(17100 + j);
        snprintf(p->peer.host, sizeof(p->peer.host), "127.0.0.1");
        p->peer.port = (uint16_t)(17300 + j);
    }
    cn->log_level = CONFIG_LOG_WARN;
    cn->raft.election_timeout_ms = CF_ELECTION_MS;
    cn->raft.heartbeat_ms = CF_HEARTBEAT_MS;
    cn->raft.snapshot_threshold = f->opt.snapshot_threshold ? f->opt.snapshot_threshold : 4096;
    cn->raft.snapshot_trailing = f->opt.snapshot_trailing ? f->opt.snapshot_trailing : 2048;
    cn->raft.pre_vote = true;
    cn->raft.fast_failover = true; /* cluster__new_on_io() turns it off */
    cn->raft.snapshot_growth = true;
    cn->history_days = 90;
    cn->storage_map_mb = 64;
    cn->insecure = true;
    snprintf(f->nodes[i].peer, sizeof(f->nodes[i].peer), "127.0.0.1:%u", 17300 + i);
}

/* Creates and starts node i's cluster on the fixture's io i (again, after cf_close()). */
static inline void cf_open(struct cf *f, unsigned i)
{
    struct cf_node *node = &f->nodes[i];
    char err[256];
    struct cluster_options opt = {
        .node = &node->config,
        .forward = {.data = node, .send = cf_send},
        .effects = {.data = node, .committed = cf_effects, .restored = cf_restored},
        .boot_id = "cluster-fixture-boot",
    };
    node->effects = 0;
    node->effect_hash = 14695981039346656037ull;
    node->restored = 0;
    node->closed = false;
    if (cluster__new_on_io(&f->loop, &opt, &f->rf.servers[i].io, &node->c, err, sizeof(err))) {
        fail_msg("cluster__new_on_io(n%u): %s", i, err);
    }
    if (cluster_start(node->c, err, sizeof(err)) != 0) {
        fail_msg("cluster_start(n%u): %s", i, err);
    }
}

/* Node i hears and ticks no more: raft_fixture_kill(), which the fixture undoes with
 * raft_fixture_revive(). */
static inline void cf_kill(struct cf *f, unsigned i)
{
    raft_fixture_kill(&f->rf, i);
    f->nodes[i].killed = true;
}

static inline void cf_revive(struct cf *f, unsigned i)
{
    raft_fixture_revive(&f->rf, i);
    f->nodes[i].killed = false;
}

static inline void cf_closed(void *data)
{
    struct cf_node *node = data;
    node->closed = true;
}

/* Closes node i, which must be killed and drained (cf_drain). Its fixture io stays: a
 * cf_open() starts the node again on what that io persisted (term, vote, log, snapshot). */
static inline void cf_close(struct cf *f, unsigned i)
{
    struct cf_node *node = &f->nodes[i];
    assert_true(node->killed);
    cluster_close(node->c, cf_closed, node);
    node->c = NULL;
    for (int pass = 0; pass < CF_SETTLE_MAX && !node->closed; pass++) {
        cf_deliver(f);
        uv_run(&f->loop, UV_RUN_NOWAIT);
    }
    assert_true(node->closed);
}

/* Steps until the killed nodes' pending disk writes, sends and work have completed: until
 * CF_QUIET_MS of virtual time passed without any event of theirs but ticks, far longer
 * than any request of the fixture's io takes (10 ms a write, 15 ms a message, 200 ms a
 * piece of work). The live nodes go on meanwhile. */
static inline void cf_drain(struct cf *f)
{
    raft_time start = f->rf.time, quiet_since = f->rf.time;
    while (f->rf.time - quiet_since < CF_QUIET_MS) {
        assert_true(f->rf.time - start < 20 * CF_QUIET_MS);
        struct raft_fixture_event *ev = raft_fixture_step(&f->rf);
        if (ev->type != RAFT_FIXTURE_TICK && f->nodes[ev->server_index].killed) {
            quiet_since = f->rf.time;
        }
        cf_settle(f);
    }
}

/* ---- Commands ------------------------------------------------------------------------ */

/* The routing model of these tests: queue "sales" (voice and chat, longest idle), agents
 * "a1" and "a2" serving it. */
static inline void cf_model(struct engine_model *m)
{
    char err[256];
    engine_model_init(m);
    m->n_queues = 1;
    m->queues = calloc(1, sizeof(*m->queues));
    assert_non_null(m->queues);
    struct engine_queue *q = &m->queues[0];
    snprintf(q->name, sizeof(q->name), "sales");
    q->channels = ENGINE_CH_BIT(ENGINE_CH_VOICE) | ENGINE_CH_BIT(ENGINE_CH_CHAT);
    q->strategy = ENGINE_STRATEGY_LONGEST_IDLE;
    q->sl_target_s = 20;
    q->sl_percent = 80;
    q->hours = -1;
    q->overflow_queue = -1;
    m->n_agents = 2;
    m->agents = calloc(2, sizeof(*m->agents));
    assert_non_null(m->agents);
    for (unsigned i = 0; i < 2; i++) {
        struct engine_agent_def *a = &m->agents[i];
        snprintf(a->name, sizeof(a->name), "a%u", i + 1);
        snprintf(a->site, sizeof(a->site), "lon");
        a->capacity[ENGINE_CH_VOICE] = 1;
        a->capacity[ENGINE_CH_CHAT] = 3;
        a->n_queues = 1;
        a->queues[0] = 0;
    }
    if (engine_model_validate(m, err, sizeof(err)) != 0) {
        fail_msg("test model: %s", err);
    }
}

/* One submitted command and what its callback saw. The fixture owns it (until cf_free()),
 * so a callback that fires while a failed test is torn down still finds it. */
struct cf_call
{
    struct cf_call *next_call;
    struct cf *f;
    unsigned node;
    unsigned fired; /* how often the callback fired: must end at exactly 1 */
    struct engine_result res;
    uint64_t applied; /* the node's applied index when the callback fired */
    bool visible;     /* CONTACT_CREATE: the node's state held the contact then */
};

static inline void cf_call_done(void *data, const struct engine_result *res)
{
    struct cf_call *call = data;
    struct cf_node *node = &call->f->nodes[call->node];
    struct engine_contact_info info;
    call->fired++;
    call->res = *res;
    if (node->c != NULL) {
        call->applied = raft_last_applied(&node->c->raft);
        call->visible = res->contact != 0 &&
                        engine_contact_get(cluster_engine(node->c), res->contact, &info) == 0;
    }
}

/* Submits cmd on node i; the callback fills the record returned. */
static inline struct cf_call *cf_submit(struct cf *f,
                                        unsigned i,
                                        const struct engine_command *cmd)
{
    struct cf_call *call = calloc(1, sizeof(*call));
    assert_non_null(call);
    call->next_call = f->calls;
    f->calls = call;
    call->f = f;
    call->node = i;
    assert_int_equal(cluster_submit(CF_C(i), cmd, cf_call_done, call), 0);
    assert_int_equal(call->fired, 0); /* never from inside cluster_submit() */
    return call;
}

static inline bool cf_fired(struct cf *f, void *arg)
{
    (void)f;
    return ((struct cf_call *)arg)->fired > 0;
}

#define CF_UNTIL_FIRED(call) assert_true(cf_step_until(f, cf_fired, (call), 10000))

/* Submits cmd on node i and steps until it is answered; returns the engine's code. */
static inline int cf_run(struct cf *f,
                         unsigned i,
                         const struct engine_command *cmd,
                         struct engine_result *res)
{
    struct cf_call *call = cf_submit(f, i, cmd);
    CF_UNTIL_FIRED(call);
    assert_int_equal(call->fired, 1);
    if (res != NULL) {
        *res = call->res;
    }
    return call->res.code;
}

/* A linearizable read (cluster_read_barrier) and its answer; owned by the fixture. */
struct cf_read
{
    struct cf_read *next_read;
    struct cf *f;
    unsigned node;
    unsigned fired;
    int status;
    uint64_t applied; /* the node's applied index when the callback fired */
};

static inline void cf_read_done(void *data, int status)
{
    struct cf_read *r = data;
    struct cf_node *node = &r->f->nodes[r->node];
    r->fired++;
    r->status = status;
    if (node->c != NULL) {
        r->applied = raft_last_applied(&node->c->raft);
    }
}

static inline struct cf_read *cf_read(struct cf *f, unsigned i)
{
    struct cf_read *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->next_read = f->reads;
    f->reads = r;
    r->f = f;
    r->node = i;
    assert_int_equal(cluster_read_barrier(CF_C(i), cf_read_done, r), 0);
    assert_int_equal(r->fired, 0); /* never from inside cluster_read_barrier() */
    return r;
}

static inline bool cf_read_fired(struct cf *f, void *arg)
{
    (void)f;
    return ((struct cf_read *)arg)->fired > 0;
}

#define CF_UNTIL_READ(r) assert_true(cf_step_until(f, cf_read_fired, (r), 10000))

/* A membership change or leadership transfer and its answer; owned by the fixture. */
struct cf_change
{
    struct cf_change *next_change;
    bool fired;
    int status;
};

static inline struct cf_change *cf_change(struct cf *f)
{
    struct cf_change *ch = calloc(1, sizeof(*ch));
    assert_non_null(ch);
    ch->next_change = f->changes;
    f->changes = ch;
    return ch;
}

static inline void cf_change_done(void *data, int status, const char *message)
{
    struct cf_change *ch = data;
    (void)message;
    ch->fired = true;
    ch->status = status;
}

/* Installs cf_model() as version 1 through node i. */
static inline void cf_install(struct cf *f, unsigned i)
{
    struct engine_model m;
    struct engine_result res;
    cf_model(&m);
    struct engine_command cmd = {.kind = ENGINE_CMD_MODEL_INSTALL};
    cmd.u.install.version = 1;
    cmd.u.install.model = &m;
    int rc = cf_run(f, i, &cmd, &res);
    engine_model_close(&m);
    if (rc != 0) {
        fail_msg("model install: %s (%s)", cd_strerror(rc), res.message);
    }
}

static inline struct engine_command cf_create(const char *key, const char *queue)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CREATE};
    cmd.u.create.key = key;
    cmd.u.create.channel = ENGINE_CH_CHAT;
    cmd.u.create.queue = queue;
    return cmd;
}

/* ---- Setup and teardown -------------------------------------------------------------- */

static inline struct cf *cf_new(const struct cf_options *opt)
{
    struct cf *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    assert_non_null(f);
    assert_true(opt->n >= 1 && opt->n <= CF_NODES_MAX);
    f->opt = *opt;
    f->n = opt->n;
    int len =
        snprintf(f->dir, sizeof(f->dir), "%s/cd-cluster-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_true(len > 0 && (size_t)len < sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(raft_fixture_initialize(&f->rf), 0);
    for (unsigned i = 0; i < f->n; i++) {
        f->nodes[i].f = f;
        f->nodes[i].i = i;
        assert_int_equal(raft_fixture_grow(&f->rf, &f->dormant_fsm), 0);
        /* The fixture's io implements async_work (raft_io version 2) but leaves the
         * version field unset; an FSM that snapshots asynchronously needs it said. */
        f->rf.servers[i].io.version = 2;
        cf_wrap_io(f, i);
        cf_configure(f, i);
    }
    for (unsigned i = 0; i < f->n; i++) {
        cf_open(f, i);
    }
    cf_settle(f);
    return f;
}

/* Kills and drains every node, closes them, answers what the mailbox still holds, closes
 * the loop (it must close: no handle left behind) and the fixture. */
static inline void cf_free(struct cf *f)
{
    bool open = false;
    for (unsigned i = 0; i < f->n; i++) {
        if (f->nodes[i].c != NULL) {
            cf_kill(f, i);
            open = true;
        }
    }
    memset(f->hold_to, 0, sizeof(f->hold_to));
    memset(f->hold_kind, 0, sizeof(f->hold_kind));
    if (open) {
        cf_drain(f);
    }
    /* All at once, before the loop runs a pump again and a pump calls into Raft. */
    for (unsigned i = 0; i < f->n; i++) {
        if (f->nodes[i].c != NULL) {
            cluster_close(f->nodes[i].c, cf_closed, &f->nodes[i]);
            f->nodes[i].c = NULL;
        }
    }
    while (cf_deliver(f)) {
    }
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    for (unsigned i = 0; i < f->n; i++) {
        assert_true(f->nodes[i].closed);
    }
    assert_int_equal(uv_loop_close(&f->loop), 0);
    raft_fixture_close(&f->rf);
    rm_tree(f->dir);
    while (f->reads != NULL) {
        struct cf_read *r = f->reads;
        f->reads = r->next_read;
        free(r);
    }
    while (f->changes != NULL) {
        struct cf_change *ch = f->changes;
        f->changes = ch->next_change;
        free(ch);
    }
    while (f->calls != NULL) {
        struct cf_call *call = f->calls;
        f->calls = call->next_call;
        free(call);
    }
    free(f);
}

#endif
