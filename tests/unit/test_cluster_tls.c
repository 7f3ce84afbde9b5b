/* cluster: whole nodes over mutual TLS. Three nodes in one process, each on raft_uv behind
 * the guarded transport, on real sockets of 127.0.0.1 and real time, with contexts made
 * from ops/make-certs certificates and no cluster secret: they elect a leader and commit;
 * a member presenting another member's certificate is refused on the Raft port and never
 * replicates; and the fast-failover watch, over TLS to a stand-in for each node's peer
 * channel, still finds a killed leader gone and starts the election early, while a watch
 * whose TLS fails is never taken for a death.
 *
 * raft's in-memory fixture (cluster_fixture.h) cannot carry this: it replaces the very
 * transport and clock under test. Waits poll a condition on a loop woken every 10 ms and
 * give up after a bound; nothing sleeps. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/internal.h"
#include "common/error.h"
#include "common/log.h"
#include "tests/unit/tls_fixture.h"

#define NODES 3
#define ELECTION_MS 1000
#define HEARTBEAT_MS 100
#define WAIT_MS 20000 /* the most any wait below may take */

TLS_CERTS_GROUP

struct fx;

/* A connection the stand-in for a node's peer channel accepted: it reads, and says nothing
 * (the watch sends nothing either). */
struct peer_conn
{
    struct net_stream s;
    struct node *node;
    struct peer_conn *next;
    bool closing;
};

struct node
{
    struct fx *f;
    unsigned i;
    struct config_node config;
    struct net_tls *server_tls, *client_tls; /* the cluster's */
    struct net_tls *peer_tls;                /* the peer channel stand-in's */
    struct cluster *c;                       /* NULL once closing */
    bool closed;
    uv_tcp_t peer; /* the stand-in's listener */
    bool peer_open;
    struct peer_conn *conns;
};

struct fx
{
    uv_loop_t loop;
    uv_timer_t tick; /* wakes the loop, so that a wait gives up on a stall */
    char dir[1024];
    uint16_t ports[3 * NODES]; /* raft, api, peer of each node */
    struct node nodes[NODES];
};

#define N(i) (&f->nodes[(i)])

static void tick(uv_timer_t *t)
{
    (void)t;
}

/* Turns the loop until cond holds, or fails the test after WAIT_MS. */
#define RUN_UNTIL(cond)                                                  \
    do {                                                                 \
        uint64_t until_ = uv_hrtime() + WAIT_MS * 1000000ull;            \
        while (!(cond)) {                                                \
            if (uv_hrtime() >= until_) {                                 \
                fail_msg("waited %d ms in vain for %s", WAIT_MS, #cond); \
            }                                                            \
            uv_run(&f->loop, UV_RUN_ONCE);                               \
        }                                                                \
    } while (0)

/* ---- Contexts and ports ---------------------------------------------------------------- */

/* A context presenting the certificate cert_name (of the cluster's CA), trusting that CA. */
static struct net_tls *context(const char *cert_name, bool server)
{
    char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], err[512];
    struct net_tls *tls;
    struct net_tls_options so = {
        .cert = test_cert_path(cert, sizeof(cert), tls_certs.dir, cert_name, "crt"),
        .key = test_cert_path(key, sizeof(key), tls_certs.dir, cert_name, "key"),
        .ca = test_cert_path(ca, sizeof(ca), tls_certs.dir, "ca", "crt"),
        .server = server,
        .require_client_cert = server,
    };
    if (net_tls_new(&so, &tls, err, sizeof(err)) != 0) {
        fail_msg("TLS context for '%s': %s", cert_name, err);
    }
    return tls;
}

static void probe_closed(uv_handle_t *h)
{
    free(h);
}

/* Ports the kernel says are free now (all held at once, so they differ). */
static void free_ports(struct fx *f)
{
    uv_tcp_t *probes[3 * NODES];
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    for (size_t i = 0; i < 3 * NODES; i++) {
        struct sockaddr_storage got;
        int len = sizeof(got);
        probes[i] = malloc(sizeof(*probes[i]));
        assert_non_null(probes[i]);
        uv_tcp_init(&f->loop, probes[i]);
        assert_int_equal(uv_tcp_bind(probes[i], (const struct sockaddr *)&sa, 0), 0);
        assert_int_equal(uv_tcp_getsockname(probes[i], (struct sockaddr *)&got, &len), 0);
        f->ports[i] = ntohs(((struct sockaddr_in *)&got)->sin_port);
    }
    for (size_t i = 0; i < 3 * NODES; i++) {
        uv_close((uv_handle_t *)probes[i], probe_closed);
    }
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void set_addr(struct config_addr *a, uint16_t port)
{
    snprintf(a->host, sizeof(a->host), "127.0.0.1");
    a->port = port;
}

/* Node i: member id n<i+1>, the name its certificate carries. No cluster secret. */
static void configure(struct fx *f, unsigned i)
{
    struct config_node *cn = &N(i)->config;
    memset(cn, 0, sizeof(*cn));
    snprintf(cn->id, sizeof(cn->id), "n%u", i + 1);
    set_addr(&cn->raft_listen, f->ports[3 * i]);
    set_addr(&cn->api_listen, f->ports[3 * i + 1]);
    set_addr(&cn->peer_listen, f->ports[3 * i + 2]);
    snprintf(cn->data_dir, sizeof(cn->data_dir), "%s/n%u", f->dir, i + 1);
    cn->n_peers = NODES;
    for (unsigned j = 0; j < NODES; j++) {
        struct config_peer *p = &cn->peers[j];
        snprintf(p->id, sizeof(p->id), "n%u", j + 1);
        set_addr(&p->raft, f->ports[3 * j]);
        set_addr(&p->api, f->ports[3 * j + 1]);
        set_addr(&p->peer, f->ports[3 * j + 2]);
    }
    cn->log_level = CONFIG_LOG_WARN;
    cn->raft.election_timeout_ms = ELECTION_MS;
    cn->raft.heartbeat_ms = HEARTBEAT_MS;
    cn->raft.snapshot_threshold = 4096;
    cn->raft.snapshot_trailing = 2048;
    cn->raft.pre_vote = true;
    cn->raft.fast_failover = true;
    cn->raft.snapshot_growth = true;
    cn->lost_after_ms = 60000;
    cn->history_days = 90;
    cn->storage_map_mb = 64;
    cn->cluster_secret_len = 0; /* the certificates say who a member is */
}

/* ---- The stand-in for a node's peer channel --------------------------------------------- */

static void peer_conn_closed(struct net_stream *s)
{
    struct peer_conn *pc = s->data;
    struct peer_conn **p = &pc->node->conns;
    while (*p != pc) {
        p = &(*p)->next;
    }
    *p = pc->next;
    free(pc);
}

static void peer_conn_close(struct peer_conn *pc)
{
    if (!pc->closing) {
        pc->closing = true;
        net_stream_close(&pc->s, peer_conn_closed);
    }
}

static void peer_read(struct net_stream *s, ssize_t nread, const char *data)
{
    (void)data;
    if (nread < 0) {
        peer_conn_close(s->data);
    }
}

static void peer_accept(uv_stream_t *listener, int status)
{
    struct node *node = listener->data;
    if (status < 0) {
        return;
    }
    struct peer_conn *pc = calloc(1, sizeof(*pc));
    assert_non_null(pc);
    assert_int_equal(net_stream_init(&node->f->loop, &pc->s, node->peer_tls), 0);
    pc->s.data = pc;
    pc->node = node;
    pc->next = node->conns;
    node->conns = pc;
    if (uv_accept(listener, (uv_stream_t *)&pc->s.tcp) != 0 ||
        net_stream_start(&pc->s, NULL, 0) != 0 ||
        net_stream_read_start(&pc->s, peer_read) != 0) {
        peer_conn_close(pc);
    }
}

static void peer_listen(struct node *node)
{
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", node->config.peer_listen.port, &sa);
    uv_tcp_init(&node->f->loop, &node->peer);
    node->peer.data = node;
    node->peer_open = true;
    assert_int_equal(uv_tcp_bind(&node->peer, (const struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&node->peer, 16, peer_accept), 0);
}

/* The peer channel goes, as when the process dies: nothing listens there any more. */
static void peer_stop(struct node *node)
{
    if (node->peer_open) {
        node->peer_open = false;
        uv_close((uv_handle_t *)&node->peer, NULL);
    }
    for (struct peer_conn *pc = node->conns; pc != NULL; pc = pc->next) {
        peer_conn_close(pc);
    }
}

/* Connections to node's peer channel through TLS, from a certificate naming member. */
static unsigned peer_conns_from(struct node *node, const char *member)
{
    unsigned n = 0;
    for (struct peer_conn *pc = node->conns; pc != NULL; pc = pc->next) {
        n += !pc->closing && net_stream_peer_is(&pc->s, member);
    }
    return n;
}

/* ---- Nodes ----------------------------------------------------------------------------- */

static int no_forward(void *data,
                      const char *member,
                      const char *peer_addr,
                      enum cluster_forward_kind kind,
                      const void *body,
                      size_t len,
                      cluster_forward_done done,
                      void *req)
{
    (void)data;
    (void)member;
    (void)peer_addr;
    (void)kind;
    (void)body;
    (void)len;
    (void)done;
    (void)req;
    return CD_EUNAVAIL; /* these tests forward nothing: commands go to the leader */
}

/* Starts node i presenting cert_name's certificate to members, and peer_cert's on its peer
 * channel. */
static void node_start(struct fx *f, unsigned i, const char *cert_name, const char *peer_cert)
{
    struct node *node = N(i);
    char err[512];
    node->server_tls = context(cert_name, true);
    node->client_tls = context(cert_name, false);
    node->peer_tls = context(peer_cert, true);
    peer_listen(node);
    struct cluster_options opt = {
        .node = &node->config,
        .forward = {.data = node, .send = no_forward},
        .boot_id = "cluster-tls-boot",
        .member_server = node->server_tls,
        .member_client = node->client_tls,
    };
    if (cluster_new(&f->loop, &opt, &node->c, err, sizeof(err)) != 0) {
        fail_msg("cluster_new(%s): %s", node->config.id, err);
    }
    if (cluster_start(node->c, err, sizeof(err)) != 0) {
        fail_msg("cluster_start(%s): %s", node->config.id, err);
    }
}

static void node_closed(void *data)
{
    struct node *node = data;
    node->closed = true;
}

/* Node i stops at once, its peer channel with it: its sockets close, as a killed
 * process's would (its last writes aside). */
static void node_kill(struct fx *f, unsigned i)
{
    struct node *node = N(i);
    (void)f;
    peer_stop(node);
    if (node->c != NULL) {
        cluster_close(node->c, node_closed, node);
        node->c = NULL;
    }
}

static struct cluster_status status_of(struct fx *f, unsigned i)
{
    struct cluster_status s;
    assert_non_null(N(i)->c);
    cluster_status(N(i)->c, &s);
    return s;
}

/* The live node every other live node follows, as it leads: its index, or -1. */
static int leader(struct fx *f)
{
    for (unsigned i = 0; i < NODES; i++) {
        if (N(i)->c == NULL || status_of(f, i).role != CLUSTER_LEADER) {
            continue;
        }
        bool followed = true;
        for (unsigned j = 0; j < NODES; j++) {
            followed = followed && (j == i || N(j)->c == NULL ||
                                    strcmp(status_of(f, j).leader, N(i)->config.id) == 0);
        }
        return followed ? (int)i : -1;
    }
    return -1;
}

/* As leader(), among the nodes that are not `except` (which may follow nobody). */
static int leader_without(struct fx *f, unsigned except)
{
    for (unsigned i = 0; i < NODES; i++) {
        if (i == except || N(i)->c == NULL || status_of(f, i).role != CLUSTER_LEADER) {
            continue;
        }
        for (unsigned j = 0; j < NODES; j++) {
            if (j != i && j != except && N(j)->c != NULL &&
                strcmp(status_of(f, j).leader, N(i)->config.id) != 0) {
                return -1;
            }
        }
        return (int)i;
    }
    return -1;
}

struct call
{
    bool fired;
    int code;
};

static void call_done(void *data, const struct engine_result *res)
{
    struct call *call = data;
    call->fired = true;
    call->code = res->code;
}

/* Commits a TICK through node i; returns the index it was applied at there. */
static uint64_t commit_tick(struct fx *f, unsigned i)
{
    struct call call = {0};
    struct engine_command cmd = {.kind = ENGINE_CMD_TICK};
    assert_int_equal(cluster_submit(N(i)->c, &cmd, call_done, &call), 0);
    RUN_UNTIL(call.fired);
    assert_int_equal(call.code, 0);
    return status_of(f, i).applied_index;
}

static uint64_t refused(struct fx *f, unsigned i)
{
    return status_of(f, i).raft_port.refused;
}

/* ---- Setup and teardown ---------------------------------------------------------------- */

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick, 10, 10);
    snprintf(f->dir, sizeof(f->dir), "%s/cd-cluster-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    free_ports(f);
    for (unsigned i = 0; i < NODES; i++) {
        N(i)->f = f;
        N(i)->i = i;
        configure(f, i);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    for (unsigned i = 0; i < NODES; i++) {
        node_kill(f, i);
    }
    uv_close((uv_handle_t *)&f->tick, NULL);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    for (unsigned i = 0; i < NODES; i++) {
        assert_true(N(i)->closed || N(i)->server_tls == NULL);
        assert_null(N(i)->conns);
        net_tls_free(N(i)->server_tls);
        net_tls_free(N(i)->client_tls);
        net_tls_free(N(i)->peer_tls);
    }
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rm_tree(f->dir);
    free(f);
    return 0;
}

/* ---- Tests ----------------------------------------------------------------------------- */

static void elects_and_commits(void **state)
{
    struct fx *f = *state;
    for (unsigned i = 0; i < NODES; i++) {
        node_start(f, i, N(i)->config.id, N(i)->config.id);
    }
    RUN_UNTIL(leader(f) >= 0);
    unsigned l = (unsigned)leader(f);
    uint64_t index = commit_tick(f, l);
    RUN_UNTIL(status_of(f, 0).applied_index >= index &&
              status_of(f, 1).applied_index >= index && status_of(f, 2).applied_index >= index);
    for (unsigned i = 0; i < NODES; i++) {
        struct cluster_status s = status_of(f, i);
        assert_int_equal(s.raft_port.refused, 0);
        assert_int_equal(s.raft_port.bad_frames, 0);
        assert_true(s.raft_port.accepted >= 1);
    }
}

/* n2 presents n3's certificate (the cluster's CA signed it): n1 and n3 refuse its
 * connections (its HELLO says n2), and it refuses theirs (the certificate it presents does
 * not name n2). The other two elect and commit without it; it never stores an entry. */
static void certificate_of_another_member_refused(void **state)
{
    struct fx *f = *state;
    node_start(f, 0, "n1", "n1");
    node_start(f, 1, "n3", "n3");
    node_start(f, 2, "n3", "n3");
    RUN_UNTIL(leader_without(f, 1) >= 0);
    unsigned l = (unsigned)leader_without(f, 1);
    uint64_t index = commit_tick(f, l);
    unsigned other = l == 0 ? 2 : 0;
    RUN_UNTIL(status_of(f, other).applied_index >= index);
    /* The leader's connections to n2 fail in TLS (n2's certificate does not name it). The
     * follower calls nobody: what it refuses is n2 asking for its vote (once n2's election
     * timeout runs out without a leader) with a certificate naming n3. */
    RUN_UNTIL(refused(f, l) >= 1 && refused(f, other) >= 1 && refused(f, 1) >= 1);
    struct cluster_status s = status_of(f, l);
    for (unsigned m = 0; m < s.n_members; m++) {
        if (strcmp(s.members[m].id, "n2") == 0) {
            assert_int_equal(s.members[m].match_index, 0);
            assert_false(s.members[m].recent);
        }
    }
    assert_true(status_of(f, 1).applied_index < index);
    assert_int_equal(status_of(f, 1).raft_port.accepted, 0);
}

/* The leader's process dies: its followers' TLS connections to its peer channel close,
 * the next connect is refused, and a survivor stands at once instead of waiting out the
 * election timeout. */
static void watch_over_tls_finds_a_killed_leader(void **state)
{
    struct fx *f = *state;
    for (unsigned i = 0; i < NODES; i++) {
        node_start(f, i, N(i)->config.id, N(i)->config.id);
    }
    RUN_UNTIL(leader(f) >= 0);
    unsigned l = (unsigned)leader(f);
    unsigned a = (l + 1) % NODES, b = (l + 2) % NODES;
    /* Both followers watch it over TLS, each with its own certificate. */
    RUN_UNTIL(peer_conns_from(N(l), N(a)->config.id) >= 1 &&
              peer_conns_from(N(l), N(b)->config.id) >= 1);
    node_kill(f, l);
    RUN_UNTIL(leader(f) >= 0 && (unsigned)leader(f) != l);
    struct cluster_status sa = status_of(f, a), sb = status_of(f, b);
    assert_true(sa.leaders_lost + sb.leaders_lost >= 1);
    assert_true(sa.early_elections + sb.early_elections >= 1);
    assert_int_equal(N(a)->c->watch.tls_failures + N(b)->c->watch.tls_failures, 0);
}

/* Every peer channel presents a certificate naming another member: the followers' watch
 * fails in TLS, which is logged and tried again later, never taken for the leader's
 * death. */
static void watch_tls_failure_is_no_death(void **state)
{
    struct fx *f = *state;
    static const char *const wrong[NODES] = {"n2", "n3", "n1"};
    for (unsigned i = 0; i < NODES; i++) {
        node_start(f, i, N(i)->config.id, wrong[i]);
    }
    RUN_UNTIL(leader(f) >= 0);
    unsigned l = (unsigned)leader(f);
    unsigned a = (l + 1) % NODES, b = (l + 2) % NODES;
    RUN_UNTIL(N(a)->c->watch.tls_failures >= 1);
    /* Not again at once: the next try waits. */
    assert_false(N(a)->c->watch.reconnect);
    assert_true(N(a)->c->watch.retry_at > uv_now(&f->loop) + 1000);
    RUN_UNTIL(N(b)->c->watch.tls_failures >= 1);
    for (unsigned i = 0; i < NODES; i++) {
        struct cluster_status s = status_of(f, i);
        assert_int_equal(s.leaders_lost, 0);
        assert_int_equal(s.early_elections, 0);
        assert_string_equal(s.leader, N(l)->config.id);
    }
    assert_int_equal(peer_conns_from(N(l), N(a)->config.id), 0);
    assert_int_equal(peer_conns_from(N(l), N(b)->config.id), 0);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* a write to a socket whose other end closed fails instead */
    cd_log_set_level(CD_LOG_WARN);
    return tls_certs_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(elects_and_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(certificate_of_another_member_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(watch_over_tls_finds_a_killed_leader, setup, teardown),
        cmocka_unit_test_setup_teardown(watch_tls_failure_is_no_death, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, tls_certs_teardown);
}
