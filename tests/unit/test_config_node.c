/* config_node_parse() / config_node_load(): the node file and its error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/error.h"
#include "config/config.h"
#include "tests/unit/tmpdir.h"

struct fixture
{
    struct config_node node;
    char err[1024];
    int rv;
    char dir[64];     /* scratch directory for secret files */
    char secret[128]; /* dir/secret */
    char tls[512];    /* a tls line naming dir/n1.crt, dir/n1.key and dir/ca.crt */
    char text[4096];  /* a document built by a test */
};

/* An empty file at dir/name: the node file only checks that TLS files can be read. */
static void touch(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fclose(out);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/cd-test-node-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->secret, sizeof(f->secret), "%s/secret", f->dir);
    snprintf(f->tls, sizeof(f->tls),
             "tls: { cert: %s/n1.crt, key: %s/n1.key, ca: %s/ca.crt }\n", f->dir, f->dir,
             f->dir);
    touch(f->dir, "n1.crt");
    touch(f->dir, "n1.key");
    touch(f->dir, "ca.crt");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rm_tree(f->dir);
    free(f);
    return 0;
}

/* Writes text to the fixture's secret file with mode. */
static void write_secret(struct fixture *f, const char *text, mode_t mode)
{
    FILE *out = fopen(f->secret, "w");
    assert_non_null(out);
    fputs(text, out);
    fclose(out);
    assert_int_equal(chmod(f->secret, mode), 0);
}

#define F struct fixture *f = *state
#define PARSE(text)                                                                 \
    (f->rv = config_node_parse("node.yaml", (text), strlen(text), &f->node, f->err, \
                               sizeof(f->err)))
#define ASSERT_OK                                    \
    do {                                             \
        if (f->rv != 0) {                            \
            print_error("unexpected: %s\n", f->err); \
        }                                            \
        assert_int_equal(f->rv, 0);                  \
    } while (0)
#define ASSERT_ERROR(msg)                   \
    do {                                    \
        assert_int_equal(f->rv, CD_EPARSE); \
        assert_string_equal(f->err, (msg)); \
    } while (0)

/* A valid single-node file; tests append or replace lines. */
#define HEAD                  \
    "id: n1\n"                \
    "listen:\n"               \
    "  api: 0.0.0.0:8080\n"   \
    "  raft: 10.0.0.1:7001\n" \
    "  peer: 10.0.0.1:7002\n" \
    "data_dir: /var/lib/contactd\n"
#define PEERS                                                                                 \
    "peers:\n"                                                                                \
    "  - { id: n1, raft: \"10.0.0.1:7001\", api: \"10.0.0.1:8080\", peer: \"10.0.0.1:7002\" " \
    "}\n"                                                                                     \
    "  - { id: n2, raft: \"10.0.0.2:7001\", api: \"10.0.0.2:8080\", peer: \"10.0.0.2:7002\" " \
    "}\n"
/* Files that are otherwise valid end with it: no secret to read. */
#define INSECURE "insecure: true\n"
#define SECRET_64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
/* HEAD PEERS with a cluster_secret_file line (line 10) naming the fixture's file, then the
 * fixture's tls line. */
#define PARSE_WITH_SECRET()                                                          \
    do {                                                                             \
        snprintf(f->text, sizeof(f->text), HEAD PEERS "cluster_secret_file: %s\n%s", \
                 f->secret, f->tls);                                                 \
        PARSE(f->text);                                                              \
    } while (0)

static void minimal_file(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE);
    ASSERT_OK;
    assert_string_equal(f->node.id, "n1");
    assert_string_equal(f->node.api_listen.host, "0.0.0.0");
    assert_int_equal(f->node.api_listen.port, 8080);
    assert_string_equal(f->node.raft_listen.host, "10.0.0.1");
    assert_int_equal(f->node.raft_listen.port, 7001);
    assert_string_equal(f->node.peer_listen.host, "10.0.0.1");
    assert_int_equal(f->node.peer_listen.port, 7002);
    assert_string_equal(f->node.data_dir, "/var/lib/contactd");
    assert_int_equal(f->node.n_peers, 2);
    assert_string_equal(f->node.peers[1].id, "n2");
    assert_string_equal(f->node.peers[1].raft.host, "10.0.0.2");
    assert_int_equal(f->node.peers[1].api.port, 8080);
    assert_string_equal(f->node.peers[1].peer.host, "10.0.0.2");
    assert_int_equal(f->node.peers[1].peer.port, 7002);
    assert_false(f->node.has_tls);
    assert_int_equal(f->node.log_level, CONFIG_LOG_INFO);
}

static void tls_log_level_and_ipv6(void **state)
{
    F;
    char want[256];
    snprintf(f->text, sizeof(f->text),
             "id: n1\n"
             "listen: { api: \"[::]:8443\", raft: \"[fd00::1]:7001\", peer: \"[::]:7002\" }\n"
             "data_dir: data\n"
             "peers:\n"
             "  - { id: n1, raft: \"[fd00::1]:7001\", api: \"[fd00::1]:8443\", peer: "
             "\"[fd00::1]:7002\" }\n"
             "%s"
             "log_level: debug\n",
             f->tls);
    PARSE(f->text);
    ASSERT_OK;
    assert_string_equal(f->node.api_listen.host, "::");
    assert_string_equal(f->node.raft_listen.host, "fd00::1");
    assert_true(f->node.has_tls);
    assert_false(f->node.insecure);
    assert_int_equal(f->node.cluster_secret_len, 0); /* optional with TLS */
    snprintf(want, sizeof(want), "%s/n1.crt", f->dir);
    assert_string_equal(f->node.tls.cert, want);
    snprintf(want, sizeof(want), "%s/n1.key", f->dir);
    assert_string_equal(f->node.tls.key, want);
    snprintf(want, sizeof(want), "%s/ca.crt", f->dir);
    assert_string_equal(f->node.tls.ca, want);
    assert_int_equal(f->node.log_level, CONFIG_LOG_DEBUG);
    assert_string_equal(config_log_level_name(f->node.log_level), "debug");
}

/* The sample's TLS files are under /etc/contactd/tls, which a test machine lacks: as it is,
 * it is refused there with the key's position; pointing it at files that exist, it loads. */
static void sample_node_file_loads(void **state)
{
    F;
    static const char dir[] = "/etc/contactd/tls";
    char *text = NULL, *at;
    size_t len = 0;
    FILE *in = fopen(CD_SOURCE_DIR "/ops/sample-node.yaml", "r");
    assert_non_null(in);
    assert_int_not_equal(getdelim(&text, &len, 0, in), -1);
    fclose(in);
    f->rv = config_node_parse("sample-node.yaml", text, strlen(text), &f->node, f->err,
                              sizeof(f->err));
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(
        strstr(f->err, ": tls: cannot read '/etc/contactd/tls/n1.crt': No such file"));
    /* Every occurrence of the directory becomes the fixture's. */
    size_t n = 0;
    for (const char *p = text; *p != 0 && n + 128 < sizeof(f->text);) {
        if ((at = strstr(p, dir)) == NULL) {
            n += (size_t)snprintf(f->text + n, sizeof(f->text) - n, "%s", p);
            break;
        }
        n += (size_t)snprintf(f->text + n, sizeof(f->text) - n, "%.*s%s", (int)(at - p), p,
                              f->dir);
        p = at + strlen(dir);
    }
    free(text);
    PARSE(f->text);
    ASSERT_OK;
    assert_string_equal(f->node.id, "n1");
    assert_int_equal(f->node.n_peers, 3);
    assert_true(f->node.has_tls);
    assert_int_equal(f->node.cluster_secret_len, 0);
}

static void load_names_the_file(void **state)
{
    F;
    f->rv =
        config_node_load(CD_TEST_DATA "/node-bad-peer.yaml", &f->node, f->err, sizeof(f->err));
    ASSERT_ERROR(CD_TEST_DATA
                 "/node-bad-peer.yaml:10:5: peer 'n2' is this node but its addresses "
                 "do not match listen");
}

static void missing_file(void **state)
{
    F;
    f->rv = config_node_load("/nonexistent/node.yaml", &f->node, f->err, sizeof(f->err));
    assert_int_equal(f->rv, CD_EIO);
    assert_string_equal(f->err,
                        "/nonexistent/node.yaml: cannot read: No such file or directory");
}

static void unknown_key(void **state)
{
    F;
    PARSE(HEAD PEERS "log_levle: info\n");
    ASSERT_ERROR(
        "node.yaml:10:1: unknown key 'log_levle' (expected one of: id, listen, "
        "data_dir, peers, tls, log_level, join, drills, raft, sessions, history, audit, "
        "storage, "
        "cluster_secret_file, insecure, web_root, web_origins, public_urls, chat, reports)");
}

static void missing_key(void **state)
{
    F;
    PARSE("id: n1\nlisten: { api: \"a:1\", raft: \"a:2\", peer: \"a:3\" }\n" PEERS);
    ASSERT_ERROR("node.yaml:1:1: missing key 'data_dir'");
}

static void bad_port(void **state)
{
    F;
    PARSE(
        "id: n1\nlisten:\n  api: 0.0.0.0:80800\n  raft: 10.0.0.1:7001\n  peer: 10.0.0.1:7002\n"
        "data_dir: d\n" PEERS);
    ASSERT_ERROR(
        "node.yaml:3:8: listen: api: expected host:port with a port from 1 to 65535, "
        "got '0.0.0.0:80800'");
}

static void address_without_port(void **state)
{
    F;
    PARSE(HEAD
          "peers:\n  - { id: n1, raft: 10.0.0.1, api: \"10.0.0.1:8080\", peer: "
          "\"10.0.0.1:7002\" }\n");
    ASSERT_ERROR(
        "node.yaml:8:21: peer 'n1': raft: expected host:port with a port from 1 to "
        "65535, got '10.0.0.1'");
}

static void wrong_type(void **state)
{
    F;
    PARSE("id: n1\nlisten: [a, b]\ndata_dir: d\n" PEERS);
    ASSERT_ERROR("node.yaml:2:9: listen: expected a mapping, got a list");
}

static void node_not_among_peers(void **state)
{
    F;
    PARSE(HEAD
          "peers:\n  - { id: n2, raft: \"10.0.0.2:7001\", api: \"10.0.0.2:8080\", peer: "
          "\"10.0.0.2:7002\" }\n");
    ASSERT_ERROR("node.yaml:8:3: peers: this node 'n1' is not listed");
}

static void self_address_mismatch(void **state)
{
    F;
    PARSE(HEAD
          "peers:\n  - { id: n1, raft: \"10.0.0.9:7001\", api: \"10.0.0.1:8080\", peer: "
          "\"10.0.0.1:7002\" }\n");
    ASSERT_ERROR("node.yaml:8:5: peer 'n1' is this node but its addresses do not match listen");
}

static void duplicate_peer(void **state)
{
    F;
    PARSE(HEAD PEERS
          "  - { id: n2, raft: \"10.0.0.3:7001\", api: \"10.0.0.3:8080\", peer: "
          "\"10.0.0.3:7002\" }\n");
    ASSERT_ERROR("node.yaml:10:11: peer 'n2': listed twice");
}

static void shared_peer_address(void **state)
{
    F;
    PARSE(HEAD PEERS
          "  - { id: n3, raft: \"10.0.0.2:7001\", api: \"10.0.0.3:8080\", peer: "
          "\"10.0.0.3:7002\" }\n");
    ASSERT_ERROR("node.yaml:10:5: peer 'n3': shares an address with peer 'n2'");
}

/* The peer channel's addresses are required, like the others, and apart from them. */
static void peer_listen_required(void **state)
{
    F;
    PARSE("id: n1\nlisten: { api: \"a:1\", raft: \"a:2\" }\ndata_dir: d\n" PEERS);
    ASSERT_ERROR("node.yaml:2:9: listen: missing key 'peer'");
}

static void peer_of_a_peer_required(void **state)
{
    F;
    PARSE(HEAD "peers:\n  - { id: n1, raft: \"10.0.0.1:7001\", api: \"10.0.0.1:8080\" }\n");
    ASSERT_ERROR("node.yaml:8:5: peer 'n1': missing key 'peer'");
}

static void peer_listen_on_the_api_port(void **state)
{
    F;
    PARSE(
        "id: n1\nlisten: { api: \"0.0.0.0:8080\", raft: \"10.0.0.1:7001\", "
        "peer: \"10.0.0.1:8080\" }\ndata_dir: d\n" PEERS);
    ASSERT_ERROR("node.yaml:2:61: listen: peer: api listens there already");
}

static void raft_listen_on_the_api_port(void **state)
{
    F;
    PARSE(
        "id: n1\nlisten: { api: \"10.0.0.1:8080\", raft: \"10.0.0.1:8080\", "
        "peer: \"10.0.0.1:7002\" }\ndata_dir: d\n" PEERS);
    ASSERT_ERROR("node.yaml:2:39: listen: raft: api listens there already");
}

static void peer_address_shared_within_a_peer(void **state)
{
    F;
    PARSE(HEAD PEERS
          "  - { id: n3, raft: \"10.0.0.3:7001\", api: \"10.0.0.3:8080\", "
          "peer: \"10.0.0.3:8080\" }\n");
    ASSERT_ERROR(
        "node.yaml:10:5: peer 'n3': raft, api and peer must be three different addresses");
}

static void peer_address_shared_across_kinds(void **state)
{
    F;
    PARSE(HEAD PEERS
          "  - { id: n3, raft: \"10.0.0.3:7001\", api: \"10.0.0.3:8080\", "
          "peer: \"10.0.0.2:8080\" }\n");
    ASSERT_ERROR("node.yaml:10:5: peer 'n3': shares an address with peer 'n2'");
}

static void self_peer_address_mismatch(void **state)
{
    F;
    PARSE(HEAD
          "peers:\n  - { id: n1, raft: \"10.0.0.1:7001\", api: \"10.0.0.1:8080\", "
          "peer: \"10.0.0.1:7009\" }\n");
    ASSERT_ERROR("node.yaml:8:5: peer 'n1' is this node but its addresses do not match listen");
}

static void too_many_peers(void **state)
{
    F;
    char text[4096] = HEAD "peers:\n";
    for (int i = 0; i <= CONFIG_PEERS_MAX; i++) {
        char line[128];
        snprintf(line, sizeof(line),
                 "  - { id: n%d, raft: \"h%d:1\", api: \"h%d:2\", peer: \"h%d:3\" }\n", i, i, i,
                 i);
        strcat(text, line);
    }
    PARSE(text);
    ASSERT_ERROR("node.yaml:8:3: peers: expected from 1 to 16 peers, got 17");
}

static void tls_incomplete(void **state)
{
    F;
    PARSE(HEAD PEERS "tls: { cert: a.crt, key: a.key }\n");
    ASSERT_ERROR("node.yaml:10:6: tls: missing key 'ca'");
}

static void cluster_defaults(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE);
    ASSERT_OK;
    assert_false(f->node.join);
    assert_false(f->node.drills);
    assert_int_equal(f->node.raft.election_timeout_ms, 1000);
    assert_int_equal(f->node.raft.heartbeat_ms, 100);
    assert_int_equal(f->node.raft.snapshot_threshold, 4096);
    assert_int_equal(f->node.raft.snapshot_trailing, 2048);
    assert_true(f->node.raft.pre_vote);
    assert_true(f->node.raft.fast_failover);
    assert_true(f->node.raft.snapshot_growth);
    assert_int_equal(f->node.history_days, 90);
    assert_int_equal(f->node.audit_days, 365);
    assert_int_equal(f->node.storage_map_mb, 4096);
    assert_int_equal(f->node.lost_after_ms, 5000);
}

static void cluster_tuning(void **state)
{
    F;
    PARSE(HEAD PEERS
          "join: true\n"
          "drills: true\n"
          "raft: { election_timeout_ms: 300, heartbeat_ms: 30, snapshot_threshold: 64,"
          " snapshot_trailing: 8, pre_vote: false, fast_failover: false,"
          " snapshot_growth: false }\n"
          "sessions: { lost_after_ms: 900 }\n"
          "history: { retention_days: 7 }\n"
          "audit: { retention_days: 3000 }\n"
          "storage: { map_size_mb: 256 }\n" INSECURE);
    ASSERT_OK;
    assert_true(f->node.join);
    assert_true(f->node.drills);
    assert_int_equal(f->node.raft.election_timeout_ms, 300);
    assert_int_equal(f->node.raft.heartbeat_ms, 30);
    assert_int_equal(f->node.raft.snapshot_threshold, 64);
    assert_int_equal(f->node.raft.snapshot_trailing, 8);
    assert_false(f->node.raft.pre_vote);
    assert_false(f->node.raft.fast_failover);
    assert_false(f->node.raft.snapshot_growth);
    assert_int_equal(f->node.history_days, 7);
    assert_int_equal(f->node.audit_days, 3000);
    assert_int_equal(f->node.storage_map_mb, 256);
    assert_int_equal(f->node.lost_after_ms, 900);
}

/* A lost member must not be one that is only holding an election: lost_after_ms is at least
 * twice the election timeout, given or not. */
static void lost_after_follows_the_election_timeout(void **state)
{
    F;
    PARSE(HEAD PEERS "raft: { election_timeout_ms: 4000 }\n" INSECURE);
    ASSERT_OK;
    assert_int_equal(f->node.lost_after_ms, 8000);
    PARSE(HEAD PEERS
          "raft: { election_timeout_ms: 4000 }\n"
          "sessions: { lost_after_ms: 6000 }\n" INSECURE);
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "node.yaml:11:"));
    assert_non_null(strstr(f->err, "lost_after_ms (6000) must be at least twice"));
    PARSE(HEAD PEERS "sessions: { lost_after: 5s }\n" INSECURE);
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "lost_after"));
}

static void heartbeat_not_below_election(void **state)
{
    F;
    PARSE(HEAD PEERS "raft: { election_timeout_ms: 100, heartbeat_ms: 100 }\n");
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "node.yaml:10:"));
    assert_non_null(
        strstr(f->err, "heartbeat_ms (100) must be below election_timeout_ms (100)"));
}

static void unknown_raft_key(void **state)
{
    F;
    PARSE(HEAD PEERS "raft: { election_ms: 100 }\n");
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "node.yaml:10:"));
    assert_non_null(strstr(f->err, "election_ms"));
}

/* The audit's retention: days from 1, a map with that one key. */
static void audit_retention_checked(void **state)
{
    F;
    PARSE(HEAD PEERS "audit: { retention_days: 0 }\n" INSECURE);
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "node.yaml:10:"));
    assert_non_null(strstr(f->err, "retention_days"));
    PARSE(HEAD PEERS "audit: { keep: 30 }\n" INSECURE);
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "keep"));
    PARSE(HEAD PEERS "audit: 30\n" INSECURE);
    assert_int_equal(f->rv, CD_EPARSE);
    PARSE(HEAD PEERS "audit: { retention_days: 36500 }\n" INSECURE);
    ASSERT_OK;
    assert_int_equal(f->node.audit_days, 36500);
    assert_int_equal(f->node.history_days, 90);
}

static void bad_log_level(void **state)
{
    F;
    PARSE(HEAD PEERS "log_level: loud\n");
    ASSERT_ERROR("node.yaml:10:12: log_level: expected one of: debug, info, warn, error");
}

static void syntax_error(void **state)
{
    F;
    PARSE("id: n1\nlisten: { api: a:1\n");
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "node.yaml:3:1: syntax error: "));
}

static void empty_document(void **state)
{
    F;
    PARSE("# nothing here\n");
    ASSERT_ERROR("node.yaml: empty document");
}

static void out_unchanged_on_error(void **state)
{
    F;
    memset(&f->node, 0x5a, sizeof(f->node));
    struct config_node before = f->node;
    PARSE(HEAD PEERS "log_level: loud\n");
    assert_int_equal(f->rv, CD_EPARSE);
    assert_memory_equal(&before, &f->node, sizeof(before));
}

static void secret_read(void **state)
{
    F;
    write_secret(f, SECRET_64 " \r\n", 0640);
    PARSE_WITH_SECRET();
    ASSERT_OK;
    assert_false(f->node.insecure);
    assert_string_equal(f->node.cluster_secret_file, f->secret);
    assert_int_equal(f->node.cluster_secret_len, 64);
    assert_memory_equal(f->node.cluster_secret, SECRET_64, 64);
}

static void tls_required(void **state)
{
    F;
    PARSE(HEAD PEERS);
    ASSERT_ERROR(
        "node.yaml:1:1: missing key 'tls' (this node's certificate and key and the cluster's "
        "CA, docs/security.md; or 'insecure: true' to run without TLS, on a test bed only)");
    PARSE(HEAD PEERS "insecure: false\n");
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "missing key 'tls'"));
    /* A secret alone is not enough any more. */
    write_secret(f, SECRET_64, 0600);
    snprintf(f->text, sizeof(f->text), HEAD PEERS "cluster_secret_file: %s\n", f->secret);
    PARSE(f->text);
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "missing key 'tls'"));
}

static void insecure_and_tls_exclude(void **state)
{
    F;
    snprintf(f->text, sizeof(f->text), HEAD PEERS "%s" INSECURE, f->tls);
    PARSE(f->text);
    ASSERT_ERROR("node.yaml:11:11: insecure: true and tls exclude each other");
}

static void tls_file_unreadable(void **state)
{
    F;
    char want[256];
    snprintf(f->text, sizeof(f->text),
             HEAD PEERS "tls: { cert: %s/n1.crt, key: %s/gone.key, ca: %s/ca.crt }\n", f->dir,
             f->dir, f->dir);
    PARSE(f->text);
    assert_int_equal(f->rv, CD_EPARSE);
    snprintf(want, sizeof(want), "tls: cannot read '%s/gone.key': No such file or directory",
             f->dir);
    assert_non_null(strstr(f->err, want));
    assert_non_null(strstr(f->err, "node.yaml:10:"));
}

static void insecure_runs_without(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE);
    ASSERT_OK;
    assert_true(f->node.insecure);
    assert_int_equal(f->node.cluster_secret_len, 0);
}

static void insecure_and_secret_exclude(void **state)
{
    F;
    write_secret(f, SECRET_64, 0600);
    snprintf(f->text, sizeof(f->text), HEAD PEERS "cluster_secret_file: %s\n" INSECURE,
             f->secret);
    PARSE(f->text);
    ASSERT_ERROR("node.yaml:11:11: insecure: true and cluster_secret_file exclude each other");
}

static void secret_missing_file(void **state)
{
    F;
    char want[256];
    PARSE_WITH_SECRET();
    snprintf(want, sizeof(want),
             "node.yaml:10:22: cluster_secret_file: cannot read '%s': No such file or "
             "directory",
             f->secret);
    ASSERT_ERROR(want);
}

static void secret_too_short(void **state)
{
    F;
    char want[256];
    write_secret(f, "0123456789abcdef0123456789abcde\n", 0600);
    PARSE_WITH_SECRET();
    snprintf(want, sizeof(want),
             "node.yaml:10:22: cluster_secret_file: '%s' holds 31 bytes; a secret has from 32 "
             "to 1024",
             f->secret);
    ASSERT_ERROR(want);
}

static void secret_too_long(void **state)
{
    F;
    char big[2048];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    write_secret(f, big, 0600);
    PARSE_WITH_SECRET();
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "holds 2047 bytes; a secret has from 32 to 1024"));
    char huge[8192];
    memset(huge, 'x', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = 0;
    write_secret(f, huge, 0600);
    PARSE_WITH_SECRET();
    assert_int_equal(f->rv, CD_EPARSE);
    assert_non_null(strstr(f->err, "node.yaml:10:22: cluster_secret_file: '"));
    assert_non_null(strstr(f->err, "' is too large; a secret has from 32 to 1024 bytes"));
}

static void secret_readable_by_all(void **state)
{
    F;
    char want[256];
    write_secret(f, SECRET_64, 0644);
    PARSE_WITH_SECRET();
    snprintf(want, sizeof(want),
             "node.yaml:10:22: cluster_secret_file: '%s' can be read or written by every user "
             "(chmod o-rwx it)",
             f->secret);
    ASSERT_ERROR(want);
}

static void secret_is_a_directory(void **state)
{
    F;
    char want[256];
    snprintf(f->text, sizeof(f->text), HEAD PEERS "cluster_secret_file: %s\n%s", f->dir,
             f->tls);
    PARSE(f->text);
    snprintf(want, sizeof(want),
             "node.yaml:10:22: cluster_secret_file: '%s' is not a regular file", f->dir);
    ASSERT_ERROR(want);
}

static void web_defaults(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE);
    ASSERT_OK;
    assert_string_equal(f->node.web_root, "");
    assert_int_equal(f->node.n_web_origins, 0);
}

static void web_root_and_origins(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE
          "web_root: /srv/contactd/web\n"
          "web_origins:\n"
          "  - https://Desk.Example.com\n"
          "  - http://10.0.0.9:8080\n"
          "  - \"https://[2001:DB8::1]:8443\"\n"
          "  - https://desk.example.com:444\n");
    ASSERT_OK;
    assert_string_equal(f->node.web_root, "/srv/contactd/web");
    assert_int_equal(f->node.n_web_origins, 4);
    assert_true(f->node.web_origins[0].https);
    assert_string_equal(f->node.web_origins[0].host, "desk.example.com");
    assert_int_equal(f->node.web_origins[0].port, 443);
    assert_false(f->node.web_origins[1].https);
    assert_string_equal(f->node.web_origins[1].host, "10.0.0.9");
    assert_int_equal(f->node.web_origins[1].port, 8080);
    assert_string_equal(f->node.web_origins[2].host, "2001:db8::1");
    assert_int_equal(f->node.web_origins[2].port, 8443);
    assert_int_equal(f->node.web_origins[3].port, 444);
}

/* public_urls: origins like web_origins, written back as they were meant. */
static void public_urls_of_a_load_balancer(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE
          "public_urls:\n  - https://Chat.Example.com\n"
          "  - \"https://[2001:db8::7]:8443\"\n  - http://10.1.1.1:80\n");
    ASSERT_OK;
    assert_int_equal(f->node.n_public_urls, 3);
    char text[128];
    config_origin_text(&f->node.public_urls[0], text, sizeof(text));
    assert_string_equal(text, "https://chat.example.com");
    config_origin_text(&f->node.public_urls[1], text, sizeof(text));
    assert_string_equal(text, "https://[2001:db8::7]:8443");
    config_origin_text(&f->node.public_urls[2], text, sizeof(text));
    assert_string_equal(text, "http://10.1.1.1");
    PARSE(HEAD PEERS INSECURE
          "public_urls: [https://a.example.com, https://A.example.com:443]\n");
    ASSERT_ERROR("node.yaml:11:38: public_urls: 'https://A.example.com:443' is listed twice");
}

/* chat.max_per_address: 256 unless said; 0 takes the cap away (behind a load balancer). */
static void chat_connections_per_address(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE);
    ASSERT_OK;
    assert_int_equal(f->node.chat_max_per_address, 256);
    PARSE(HEAD PEERS INSECURE "chat:\n  max_per_address: 0\n");
    ASSERT_OK;
    assert_int_equal(f->node.chat_max_per_address, 0);
    PARSE(HEAD PEERS INSECURE "chat:\n  max_per_adress: 10\n");
    ASSERT_ERROR(
        "node.yaml:12:3: unknown key 'max_per_adress' (expected one of: "
        "max_per_address)");
}

/* reports: where scheduled reports go from this node. */
static void report_delivery(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE);
    ASSERT_OK;
    assert_string_equal(f->node.reports_directory, "");
    assert_string_equal(f->node.reports_smtp, "");
    PARSE(HEAD PEERS INSECURE
          "reports:\n  directory: /var/lib/contactd/reports\n"
          "  smtp: smtp://127.0.0.1:2525\n"
          "  mail_from: reports@centre.example\n"
          "  smtp_starttls: true\n");
    ASSERT_OK;
    assert_string_equal(f->node.reports_directory, "/var/lib/contactd/reports");
    assert_string_equal(f->node.reports_smtp, "smtp://127.0.0.1:2525");
    assert_string_equal(f->node.reports_mail_from, "reports@centre.example");
    assert_true(f->node.reports_smtp_starttls);
    PARSE(HEAD PEERS INSECURE "reports:\n  directory: reports\n");
    ASSERT_ERROR("node.yaml:12:14: reports.directory: expected an absolute path");
    PARSE(HEAD PEERS INSECURE "reports:\n  smtp: mail.example.com\n");
    ASSERT_ERROR(
        "node.yaml:12:9: reports.smtp: expected smtp://HOST:PORT or smtps://HOST:PORT");
    PARSE(HEAD PEERS INSECURE "reports:\n  smtp: smtp://127.0.0.1:25\n");
    ASSERT_ERROR("node.yaml:12:3: reports: smtp needs mail_from, the sender's address");
    PARSE(HEAD PEERS INSECURE "reports:\n  mail_from: <x@y>\n");
    ASSERT_ERROR("node.yaml:12:14: reports.mail_from: expected an address");
}

static void web_origin_with_a_path(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE
          "web_origins:\n  - https://a.example.com\n  - https://b.example.com/\n");
    ASSERT_ERROR(
        "node.yaml:13:5: web_origins: expected an origin such as https://desk.example.com "
        "(https:// or http://, a host, an optional :PORT, no path), got "
        "'https://b.example.com/'");
}

static void web_origins_refused(void **state)
{
    F;
    static const char *const bad[] = {
        "ftp://a.example.com",     "https://",
        "https://a.example.com:0", "https://a.example.com:65536",
        "https://a.example.com:",  "https://user@a.example.com",
        "https://a.example.com?x", "https://[::1",
        "desk.example.com",        "https://a b.example.com",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(f->text, sizeof(f->text), HEAD PEERS INSECURE "web_origins: [\"%s\"]\n",
                 bad[i]);
        PARSE(f->text);
        assert_int_equal(f->rv, CD_EPARSE);
        assert_non_null(strstr(f->err, "node.yaml:11:15: web_origins: expected an origin"));
    }
    PARSE(HEAD PEERS INSECURE "web_origins: https://a.example.com\n");
    assert_int_equal(f->rv, CD_EPARSE);
}

/* The same origin twice, however it is spelt. */
static void web_origin_listed_twice(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE
          "web_origins: [https://A.example.com, https://a.example.com:443]\n");
    ASSERT_ERROR("node.yaml:11:38: web_origins: 'https://a.example.com:443' is listed twice");
}

static void web_root_empty(void **state)
{
    F;
    PARSE(HEAD PEERS INSECURE "web_root: \"\"\n");
    ASSERT_ERROR("node.yaml:11:11: web_root: expected a directory, got an empty string");
    PARSE(HEAD PEERS INSECURE "web_root:\n");
    ASSERT_ERROR("node.yaml:11:10: web_root: expected a non-empty string");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(web_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(web_root_and_origins, setup, teardown),
        cmocka_unit_test_setup_teardown(web_origin_with_a_path, setup, teardown),
        cmocka_unit_test_setup_teardown(web_origins_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(public_urls_of_a_load_balancer, setup, teardown),
        cmocka_unit_test_setup_teardown(chat_connections_per_address, setup, teardown),
        cmocka_unit_test_setup_teardown(report_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(web_origin_listed_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(web_root_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(minimal_file, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_after_follows_the_election_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tls_log_level_and_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(sample_node_file_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(load_names_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_key, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_port, setup, teardown),
        cmocka_unit_test_setup_teardown(address_without_port, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_type, setup, teardown),
        cmocka_unit_test_setup_teardown(node_not_among_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(self_address_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(shared_peer_address, setup, teardown),
        cmocka_unit_test_setup_teardown(peer_listen_required, setup, teardown),
        cmocka_unit_test_setup_teardown(peer_of_a_peer_required, setup, teardown),
        cmocka_unit_test_setup_teardown(peer_listen_on_the_api_port, setup, teardown),
        cmocka_unit_test_setup_teardown(raft_listen_on_the_api_port, setup, teardown),
        cmocka_unit_test_setup_teardown(peer_address_shared_within_a_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(peer_address_shared_across_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(self_peer_address_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(too_many_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_incomplete, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_retention_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_log_level, setup, teardown),
        cmocka_unit_test_setup_teardown(syntax_error, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_document, setup, teardown),
        cmocka_unit_test_setup_teardown(out_unchanged_on_error, setup, teardown),
        cmocka_unit_test_setup_teardown(cluster_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(cluster_tuning, setup, teardown),
        cmocka_unit_test_setup_teardown(heartbeat_not_below_election, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_raft_key, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_read, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_required, setup, teardown),
        cmocka_unit_test_setup_teardown(insecure_and_tls_exclude, setup, teardown),
        cmocka_unit_test_setup_teardown(tls_file_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(insecure_runs_without, setup, teardown),
        cmocka_unit_test_setup_teardown(insecure_and_secret_exclude, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_too_short, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_readable_by_all, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_is_a_directory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
