/* The node file: identity, listen addresses (API, Raft, peer channel), peers, data directory,
 * cluster secret, TLS, log level. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "config/check.h"
#include "config/config.h"
#include "config/yaml_doc.h"

#define SECRET_FILE_MAX 4096

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

const char *config_log_level_name(int level)
{
    return level >= 0 && level <= CONFIG_LOG_ERROR ? log_levels[level] : NULL;
}

static bool host_ok(const char *h, size_t n, bool bracketed)
{
    const char *set = bracketed ? "0123456789abcdefABCDEF:.%"
                                : "abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789.-_";
    for (size_t i = 0; i < n; i++) {
        if (strchr(set, h[i]) == NULL) {
            return false;
        }
    }
    return n > 0 && n < CONFIG_HOST_MAX;
}

/* "host:port" or "[v6]:port". */
static bool parse_addr(const char *s, struct config_addr *out)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL) {
        return false;
    }
    const char *h = s;
    size_t n = (size_t)(colon - s);
    bool bracketed = s[0] == '[';
    if (bracketed && (n < 2 || colon[-1] != ']')) {
        return false;
    }
    if (bracketed) {
        h++;
        n -= 2;
    }
    long port = 0;
    const char *p = colon + 1;
    for (; *p >= '0' && *p <= '9' && port <= 65535; p++) {
        port = port * 10 + (*p - '0');
    }
    if (!host_ok(h, n, bracketed) || p == colon + 1 || *p != 0 || port < 1 || port > 65535) {
        return false;
    }
    memcpy(out->host, h, n);
    out->host[n] = 0;
    out->port = (uint16_t)port;
    return true;
}

static int read_addr(struct cfg_ctx *c, const struct ynode *n, struct config_addr *out)
{
    if (n->kind != YNODE_SCALAR || !parse_addr(n->value, out)) {
        return cfg_fail(c, n, "%s: expected host:port with a port from 1 to 65535, got '%s'",
                        n->key, n->kind == YNODE_SCALAR ? n->value : "a collection");
    }
    return 0;
}

static bool same_addr(const struct config_addr *a, const struct config_addr *b)
{
    return a->port == b->port && strcmp(a->host, b->host) == 0;
}

static bool wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

/* Two listen addresses that one socket could not both bind. */
static bool overlap(const struct config_addr *a, const struct config_addr *b)
{
    return a->port == b->port &&
           (strcmp(a->host, b->host) == 0 || wildcard(a->host) || wildcard(b->host));
}

static int read_listen(struct cfg_ctx *c, const struct ynode *n, struct config_node *out)
{
    static const char *const keys[] = {"api", "raft", "peer", NULL};
    const struct ynode *api, *raft, *peer;
    if (cfg_expect_map(c, n) != 0) {
        return CD_EPARSE;
    }
    cfg_subject(c, "listen");
    if (cfg_keys(c, n, keys) != 0 || (api = cfg_require(c, n, "api")) == NULL ||
        (raft = cfg_require(c, n, "raft")) == NULL ||
        (peer = cfg_require(c, n, "peer")) == NULL || read_addr(c, api, &out->api_listen) ||
        read_addr(c, raft, &out->raft_listen) || read_addr(c, peer, &out->peer_listen)) {
        return CD_EPARSE;
    }
    if (overlap(&out->api_listen, &out->raft_listen)) {
        return cfg_fail(c, raft, "raft: api listens there already");
    }
    if (overlap(&out->api_listen, &out->peer_listen) ||
        overlap(&out->raft_listen, &out->peer_listen)) {
        return cfg_fail(c, peer, "peer: %s listens there already",
                        overlap(&out->api_listen, &out->peer_listen) ? "api" : "raft");
    }
    c->subject[0] = 0;
    return 0;
}

/* web_origins, public_urls: a list of origins (config_origin_parse()), each once, at most
 * max of them, into out[] and *n. */
static int read_origins(struct cfg_ctx *c,
                        const struct ynode *n,
                        const char *key,
                        struct config_origin *out,
                        uint32_t max,
                        uint32_t *count)
{
    if (cfg_expect_seq(c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > max) {
        return cfg_fail(c, n, "%s: expected at most %u origins, got %u", key, max, n->n);
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        struct config_origin *o = &out[*count];
        if (i->kind != YNODE_SCALAR || !config_origin_parse(i->value, o)) {
            return cfg_fail(c, i,
                            "%s: expected an origin such as https://desk.example.com "
                            "(https:// or http://, a host, an optional :PORT, no path), got "
                            "'%s'",
                            key, i->kind == YNODE_SCALAR ? i->value : "a collection");
        }
        for (uint32_t k = 0; k < *count; k++) {
            if (config_origin_equal(&out[k], o)) {
                return cfg_fail(c, i, "%s: '%s' is listed twice", key, i->value);
            }
        }
        (*count)++;
    }
    return 0;
}

/* web_root, web_origins and public_urls: all optional. */
static int read_web(struct cfg_ctx *c, const struct ynode *root, struct config_node *nd)
{
    const struct ynode *n;
    c->subject[0] = 0;
    if ((n = ynode_get(root, "web_root")) != NULL &&
        cfg_string(c, n, nd->web_root, sizeof(nd->web_root)) != 0) {
        return CD_EPARSE;
    }
    if (n != NULL && nd->web_root[0] == '\0') {
        return cfg_fail(c, n, "web_root: expected a directory, got an empty string");
    }
    if ((n = ynode_get(root, "web_origins")) != NULL &&
        read_origins(c, n, "web_origins", nd->web_origins, CONFIG_WEB_ORIGINS_MAX,
                     &nd->n_web_origins) != 0) {
        return CD_EPARSE;
    }
    if ((n = ynode_get(root, "public_urls")) != NULL &&
        read_origins(c, n, "public_urls", nd->public_urls, CONFIG_PUBLIC_URLS_MAX,
                     &nd->n_public_urls) != 0) {
        return CD_EPARSE;
    }
    return 0;
}

/* Whether any of p's addresses is one of q's (or, with q == p, two of p's are one). */
static bool shares_addr(const struct config_peer *p, const struct config_peer *q)
{
    const struct config_addr *a[] = {&p->raft, &p->api, &p->peer};
    const struct config_addr *b[] = {&q->raft, &q->api, &q->peer};
    for (int i = 0; i < 3; i++) {
        for (int j = p == q ? i + 1 : 0; j < 3; j++) {
            if (same_addr(a[i], b[j])) {
                return true;
            }
        }
    }
    return false;
}

static int read_peer(struct cfg_ctx *c,
                     const struct ynode *n,
                     const struct config_node *node,
                     struct config_peer *p)
{
    static const char *const keys[] = {"id", "raft", "api", "peer", NULL};
    const struct ynode *id, *raft, *api, *peer;
    cfg_subject(c, "peers");
    if (cfg_keys(c, n, keys) != 0 || (id = cfg_require(c, n, "id")) == NULL ||
        cfg_name(c, id, p->id, sizeof(p->id)) != 0) {
        return CD_EPARSE;
    }
    cfg_subject(c, "peer '%s'", p->id);
    if ((raft = cfg_require(c, n, "raft")) == NULL ||
        (api = cfg_require(c, n, "api")) == NULL ||
        (peer = cfg_require(c, n, "peer")) == NULL || read_addr(c, raft, &p->raft) != 0 ||
        read_addr(c, api, &p->api) != 0 || read_addr(c, peer, &p->peer) != 0) {
        return CD_EPARSE;
    }
    if (shares_addr(p, p)) {
        return cfg_fail(c, n, "raft, api and peer must be three different addresses");
    }
    for (uint32_t i = 0; i < node->n_peers; i++) {
        const struct config_peer *q = &node->peers[i];
        if (strcmp(q->id, p->id) == 0) {
            return cfg_fail(c, id, "listed twice");
        }
        if (shares_addr(p, q)) {
            return cfg_fail(c, n, "shares an address with peer '%s'", q->id);
        }
    }
    return 0;
}

static int read_peers(struct cfg_ctx *c, const struct ynode *n, struct config_node *out)
{
    if (cfg_expect_seq(c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n == 0 || n->n > CONFIG_PEERS_MAX) {
        return cfg_fail(c, n, "peers: expected from 1 to %d peers, got %u", CONFIG_PEERS_MAX,
                        n->n);
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        if (read_peer(c, i, out, &out->peers[out->n_peers]) != 0) {
            return CD_EPARSE;
        }
        out->n_peers++;
    }
    c->subject[0] = 0;
    return 0;
}

/* A path of the tls section, which must name a file this process can read: what is wrong
 * with it is better said at its line than when the node starts. */
static int read_tls_file(struct cfg_ctx *c, const struct ynode *n, char *out, size_t cap)
{
    if (cfg_string(c, n, out, cap) != 0) {
        return CD_EPARSE;
    }
    FILE *f = fopen(out, "r");
    if (f == NULL) {
        return cfg_fail(c, n, "cannot read '%s': %s", out, strerror(errno));
    }
    fclose(f);
    return 0;
}

static int read_tls(struct cfg_ctx *c, const struct ynode *n, struct config_tls *tls)
{
    static const char *const keys[] = {"cert", "key", "ca", NULL};
    const struct ynode *cert, *key, *ca;
    if (cfg_expect_map(c, n) != 0) {
        return CD_EPARSE;
    }
    cfg_subject(c, "tls");
    if (cfg_keys(c, n, keys) != 0 || (cert = cfg_require(c, n, "cert")) == NULL ||
        (key = cfg_require(c, n, "key")) == NULL || (ca = cfg_require(c, n, "ca")) == NULL ||
        read_tls_file(c, cert, tls->cert, sizeof(tls->cert)) != 0 ||
        read_tls_file(c, key, tls->key, sizeof(tls->key)) != 0 ||
        read_tls_file(c, ca, tls->ca, sizeof(tls->ca)) != 0) {
        return CD_EPARSE;
    }
    c->subject[0] = 0;
    return 0;
}

static int read_log_level(struct cfg_ctx *c, const struct ynode *n, uint8_t *out)
{
    for (uint8_t i = 0; n->kind == YNODE_SCALAR && log_levels[i] != NULL; i++) {
        if (strcmp(n->value, log_levels[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return cfg_fail(c, n, "log_level: expected one of: debug, info, warn, error");
}

static bool listens_as(const struct config_addr *listen, const struct config_addr *peer)
{
    return listen->port == peer->port &&
           (wildcard(listen->host) || !strcmp(listen->host, peer->host));
}

/* This node must be one of its peers, reachable where it listens. */
static int check_self(struct cfg_ctx *c, const struct ynode *root, const struct config_node *nd)
{
    const struct ynode *peers = ynode_get(root, "peers");
    const struct ynode *entry = peers->child;
    for (uint32_t i = 0; i < nd->n_peers; i++, entry = entry->next) {
        const struct config_peer *p = &nd->peers[i];
        if (strcmp(p->id, nd->id) != 0) {
            continue;
        }
        if (!listens_as(&nd->raft_listen, &p->raft) || !listens_as(&nd->api_listen, &p->api) ||
            !listens_as(&nd->peer_listen, &p->peer)) {
            return cfg_fail(c, entry,
                            "peer '%s' is this node but its addresses do not match listen",
                            p->id);
        }
        return 0;
    }
    return cfg_fail(c, peers, "peers: this node '%s' is not listed", nd->id);
}

static int read_uint(struct cfg_ctx *c,
                     const struct ynode *map,
                     const char *key,
                     int64_t lo,
                     int64_t hi,
                     uint32_t *out)
{
    const struct ynode *n = ynode_get(map, key);
    int64_t v;
    if (n == NULL) {
        return 0;
    }
    if (cfg_int(c, n, lo, hi, &v) != 0) {
        return CD_EPARSE;
    }
    *out = (uint32_t)v;
    return 0;
}

static int read_raft(struct cfg_ctx *c, const struct ynode *n, struct config_raft *r)
{
    static const char *const keys[] = {"election_timeout_ms",
                                       "heartbeat_ms",
                                       "snapshot_threshold",
                                       "snapshot_trailing",
                                       "pre_vote",
                                       "fast_failover",
                                       "snapshot_growth",
                                       NULL};
    const struct ynode *pv, *ff, *sg;
    cfg_subject(c, "raft");
    if (cfg_expect_map(c, n) != 0 || cfg_keys(c, n, keys) != 0 ||
        read_uint(c, n, "election_timeout_ms", 50, 60000, &r->election_timeout_ms) != 0 ||
        read_uint(c, n, "heartbeat_ms", 10, 10000, &r->heartbeat_ms) != 0 ||
        read_uint(c, n, "snapshot_threshold", 16, 100000000, &r->snapshot_threshold) != 0 ||
        read_uint(c, n, "snapshot_trailing", 0, 100000000, &r->snapshot_trailing) != 0 ||
        ((pv = ynode_get(n, "pre_vote")) != NULL && cfg_bool(c, pv, &r->pre_vote) != 0) ||
        ((ff = ynode_get(n, "fast_failover")) != NULL &&
         cfg_bool(c, ff, &r->fast_failover) != 0) ||
        ((sg = ynode_get(n, "snapshot_growth")) != NULL &&
         cfg_bool(c, sg, &r->snapshot_growth) != 0)) {
        return CD_EPARSE;
    }
    if (r->heartbeat_ms >= r->election_timeout_ms) {
        return cfg_fail(c, n, "raft: heartbeat_ms (%u) must be below election_timeout_ms (%u)",
                        r->heartbeat_ms, r->election_timeout_ms);
    }
    return 0;
}

static int read_sessions(struct cfg_ctx *c, const struct ynode *n, struct config_node *nd)
{
    static const char *const keys[] = {"lost_after_ms", NULL};
    cfg_subject(c, "sessions");
    if (cfg_expect_map(c, n) != 0 || cfg_keys(c, n, keys) != 0 ||
        read_uint(c, n, "lost_after_ms", 100, 3600000, &nd->lost_after_ms) != 0) {
        return CD_EPARSE;
    }
    return 0;
}

/* history.retention_days and audit.retention_days. */
static int read_retention(struct cfg_ctx *c, const struct ynode *root, struct config_node *nd)
{
    static const char *const keys[] = {"retention_days", NULL};
    const struct ynode *n;
    if ((n = ynode_get(root, "history")) != NULL &&
        (cfg_expect_map(c, n) != 0 || cfg_keys(c, n, keys) != 0 ||
         read_uint(c, n, "retention_days", 1, 3650, &nd->history_days) != 0)) {
        return CD_EPARSE;
    }
    if ((n = ynode_get(root, "audit")) != NULL &&
        (cfg_expect_map(c, n) != 0 || cfg_keys(c, n, keys) != 0 ||
         read_uint(c, n, "retention_days", 1, 36500, &nd->audit_days) != 0)) {
        return CD_EPARSE;
    }
    return 0;
}

/* reports: {directory, smtp, mail_from, smtp_ca, smtp_starttls}, each optional. */
static int read_reports(struct cfg_ctx *c, const struct ynode *n, struct config_node *nd)
{
    static const char *const keys[] = {"directory", "smtp",          "mail_from",
                                       "smtp_ca",   "smtp_starttls", NULL};
    const struct ynode *e;
    if (cfg_expect_map(c, n) != 0 || cfg_keys(c, n, keys) != 0) {
        return CD_EPARSE;
    }
    if ((e = ynode_get(n, "directory")) != NULL) {
        if (cfg_string(c, e, nd->reports_directory, sizeof(nd->reports_directory)) != 0) {
            return CD_EPARSE;
        }
        if (nd->reports_directory[0] != '/') {
            return cfg_fail(c, e, "reports.directory: expected an absolute path");
        }
    }
    if ((e = ynode_get(n, "smtp")) != NULL) {
        if (cfg_string(c, e, nd->reports_smtp, sizeof(nd->reports_smtp)) != 0) {
            return CD_EPARSE;
        }
        if (strncmp(nd->reports_smtp, "smtp://", 7) != 0 &&
            strncmp(nd->reports_smtp, "smtps://", 8) != 0) {
            return cfg_fail(c, e,
                            "reports.smtp: expected smtp://HOST:PORT or smtps://HOST:PORT");
        }
    }
    if ((e = ynode_get(n, "mail_from")) != NULL) {
        if (cfg_string(c, e, nd->reports_mail_from, sizeof(nd->reports_mail_from)) != 0) {
            return CD_EPARSE;
        }
        if (strchr(nd->reports_mail_from, '@') == NULL ||
            strpbrk(nd->reports_mail_from, " <>\r\n,;\"") != NULL) {
            return cfg_fail(c, e, "reports.mail_from: expected an address");
        }
    }
    if ((e = ynode_get(n, "smtp_ca")) != NULL &&
        cfg_string(c, e, nd->reports_smtp_ca, sizeof(nd->reports_smtp_ca)) != 0) {
        return CD_EPARSE;
    }
    if ((e = ynode_get(n, "smtp_starttls")) != NULL &&
        cfg_bool(c, e, &nd->reports_smtp_starttls) != 0) {
        return CD_EPARSE;
    }
    if (nd->reports_smtp[0] && !nd->reports_mail_from[0]) {
        return cfg_fail(c, n, "reports: smtp needs mail_from, the sender's address");
    }
    return 0;
}

/* join, drills, raft, sessions, history, audit and storage: all optional. */
static int read_tuning(struct cfg_ctx *c, const struct ynode *root, struct config_node *nd)
{
    static const char *const storage_keys[] = {"map_size_mb", NULL};
    const struct ynode *n;
    if ((n = ynode_get(root, "join")) != NULL && cfg_bool(c, n, &nd->join) != 0) {
        return CD_EPARSE;
    }
    if ((n = ynode_get(root, "drills")) != NULL && cfg_bool(c, n, &nd->drills) != 0) {
        return CD_EPARSE;
    }
    if ((n = ynode_get(root, "raft")) != NULL && read_raft(c, n, &nd->raft) != 0) {
        return CD_EPARSE;
    }
    if ((n = ynode_get(root, "sessions")) == NULL) {
        uint32_t twice = 2 * nd->raft.election_timeout_ms;
        nd->lost_after_ms = nd->lost_after_ms > twice ? nd->lost_after_ms : twice;
    } else if (read_sessions(c, n, nd) != 0) {
        return CD_EPARSE;
    } else if (nd->lost_after_ms < 2 * nd->raft.election_timeout_ms) {
        return cfg_fail(c, n,
                        "sessions: lost_after_ms (%u) must be at least twice "
                        "raft.election_timeout_ms (%u): an election must not look like a "
                        "lost member",
                        nd->lost_after_ms, nd->raft.election_timeout_ms);
    }
    if (read_retention(c, root, nd) != 0) {
        return CD_EPARSE;
    }
    if ((n = ynode_get(root, "storage")) != NULL &&
        (cfg_expect_map(c, n) != 0 || cfg_keys(c, n, storage_keys) != 0 ||
         read_uint(c, n, "map_size_mb", 1, 1048576, &nd->storage_map_mb) != 0)) {
        return CD_EPARSE;
    }
    if ((n = ynode_get(root, "reports")) != NULL && read_reports(c, n, nd) != 0) {
        return CD_EPARSE;
    }
    static const char *const chat_keys[] = {"max_per_address", NULL};
    if ((n = ynode_get(root, "chat")) != NULL &&
        (cfg_expect_map(c, n) != 0 || cfg_keys(c, n, chat_keys) != 0 ||
         read_uint(c, n, "max_per_address", 0, 1000000, &nd->chat_max_per_address) != 0)) {
        return CD_EPARSE;
    }
    return 0;
}

/* A secret is not left behind in freed memory. */
static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n-- > 0) {
        *v++ = 0;
    }
}

/* Why path cannot serve as the secret file, or NULL. */
static const char *secret_file_problem(const char *path, char *buf, size_t len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(buf, len, "cannot read '%s': %s", path, strerror(errno));
        return buf;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(buf, len, "'%s' is not a regular file", path);
        return buf;
    }
    if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        snprintf(buf, len, "'%s' can be read or written by every user (chmod o-rwx it)", path);
        return buf;
    }
    return NULL;
}

/* The file's bytes without trailing white space: a secret written by
 * `openssl rand -hex 32 > file` ends in a newline. */
static int read_secret(struct cfg_ctx *c, const struct ynode *n, struct config_node *nd)
{
    char why[CONFIG_PATH_MAX + 96];
    char *text;
    size_t len;
    int sys;
    if (cfg_string(c, n, nd->cluster_secret_file, sizeof(nd->cluster_secret_file)) != 0) {
        return CD_EPARSE;
    }
    const char *path = nd->cluster_secret_file;
    if (secret_file_problem(path, why, sizeof(why)) != NULL) {
        return cfg_fail(c, n, "cluster_secret_file: %s", why);
    }
    int rv = cfg_read_file(path, SECRET_FILE_MAX, &text, &len, &sys);
    if (rv == CD_ENOMEM) {
        return rv;
    }
    if (rv == CD_ETOOBIG) {
        return cfg_fail(
            c, n, "cluster_secret_file: '%s' is too large; a secret has from %d to %d bytes",
            path, CONFIG_SECRET_MIN, CONFIG_SECRET_MAX);
    }
    if (rv != 0) {
        return cfg_fail(c, n, "cluster_secret_file: cannot read '%s': %s", path, strerror(sys));
    }
    size_t n_read = len;
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' ||
                       text[len - 1] == '\n')) {
        len--;
    }
    if (len < CONFIG_SECRET_MIN || len > CONFIG_SECRET_MAX) {
        rv = cfg_fail(c, n,
                      "cluster_secret_file: '%s' holds %zu bytes; a secret has from %d to %d",
                      path, len, CONFIG_SECRET_MIN, CONFIG_SECRET_MAX);
    } else {
        memcpy(nd->cluster_secret, text, len);
        nd->cluster_secret_len = (uint32_t)len;
    }
    wipe(text, n_read);
    free(text);
    return rv;
}

/* TLS unless the file says insecure: true, never both; a cluster secret may be added to
 * TLS, and an insecure node has none. */
static int read_security(struct cfg_ctx *c, const struct ynode *root, struct config_node *nd)
{
    const struct ynode *file = ynode_get(root, "cluster_secret_file");
    const struct ynode *insecure = ynode_get(root, "insecure");
    if (insecure != NULL && cfg_bool(c, insecure, &nd->insecure) != 0) {
        return CD_EPARSE;
    }
    if (nd->insecure && file != NULL) {
        return cfg_fail(c, insecure,
                        "insecure: true and cluster_secret_file exclude each other");
    }
    if (nd->insecure && nd->has_tls) {
        return cfg_fail(c, insecure, "insecure: true and tls exclude each other");
    }
    if (nd->insecure) {
        return 0;
    }
    if (!nd->has_tls) {
        return cfg_fail(c, root,
                        "missing key 'tls' (this node's certificate and key and the cluster's "
                        "CA, docs/security.md; or 'insecure: true' to run without TLS, on a "
                        "test bed only)");
    }
    return file != NULL ? read_secret(c, file, nd) : 0;
}

static int read_node(struct cfg_ctx *c, const struct ynode *root, struct config_node *nd)
{
    static const char *const keys[] = {"id",          "listen",
                                       "data_dir",    "peers",
                                       "tls",         "log_level",
                                       "join",        "drills",
                                       "raft",        "sessions",
                                       "history",     "audit",
                                       "storage",     "cluster_secret_file",
                                       "insecure",    "web_root",
                                       "web_origins", "public_urls",
                                       "chat",        "reports",
                                       NULL};
    const struct ynode *id, *listen, *dir, *peers, *tls, *level;
    if (cfg_keys(c, root, keys) != 0 || (id = cfg_require(c, root, "id")) == NULL ||
        (listen = cfg_require(c, root, "listen")) == NULL ||
        (dir = cfg_require(c, root, "data_dir")) == NULL ||
        (peers = cfg_require(c, root, "peers")) == NULL ||
        cfg_name(c, id, nd->id, sizeof(nd->id)) != 0 || read_listen(c, listen, nd) != 0 ||
        cfg_string(c, dir, nd->data_dir, sizeof(nd->data_dir)) != 0 ||
        read_peers(c, peers, nd) != 0) {
        return CD_EPARSE;
    }
    if ((tls = ynode_get(root, "tls")) != NULL) {
        nd->has_tls = true;
        if (read_tls(c, tls, &nd->tls) != 0) {
            return CD_EPARSE;
        }
    }
    if ((level = ynode_get(root, "log_level")) != NULL &&
        read_log_level(c, level, &nd->log_level)) {
        return CD_EPARSE;
    }
    if (read_tuning(c, root, nd) != 0 || read_web(c, root, nd) != 0 ||
        check_self(c, root, nd) != 0) {
        return CD_EPARSE;
    }
    return read_security(c, root, nd);
}

int config_node_parse(const char *name_for_errors,
                      const char *text,
                      size_t len,
                      struct config_node *out,
                      char *err,
                      size_t errlen)
{
    struct cfg_ctx c = {.file = name_for_errors, .err = err, .errlen = errlen};
    struct ydoc doc;
    static const struct ydoc_limits lim = {CONFIG_NODE_BYTES_MAX, CONFIG_NODE_NODES_MAX,
                                           CONFIG_NODE_DEPTH_MAX};
    int rv = ydoc_parse(name_for_errors, text, len, &lim, &doc, err, errlen);
    if (rv != 0) {
        return rv;
    }
    struct config_node *nd = calloc(1, sizeof(*nd));
    if (nd == NULL) {
        rv = CD_ENOMEM;
        goto err_free_doc;
    }
    nd->log_level = CONFIG_LOG_INFO;
    nd->raft = (struct config_raft){.election_timeout_ms = 1000,
                                    .heartbeat_ms = 100,
                                    .snapshot_threshold = 4096,
                                    .snapshot_trailing = 2048,
                                    .pre_vote = true,
                                    .fast_failover = true,
                                    .snapshot_growth = true};
    nd->lost_after_ms = 5000;
    nd->history_days = 90;
    nd->audit_days = 365;
    nd->storage_map_mb = 4096;
    nd->chat_max_per_address = 256;
    if (doc.root == NULL) {
        rv = cfg_fail_file(&c, "empty document");
    } else {
        rv = read_node(&c, doc.root, nd);
    }
    if (rv == 0) {
        *out = *nd;
    }
    wipe(nd, sizeof(*nd));
    free(nd);
err_free_doc:
    ydoc_free(&doc);
    return rv;
}

int config_node_load(const char *path, struct config_node *out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    int rv = cfg_load_text(path, CONFIG_NODE_BYTES_MAX, &text, &len, err, errlen);
    if (rv != 0) {
        return rv;
    }
    rv = config_node_parse(path, text, len, out, err, errlen);
    free(text);
    return rv;
}
