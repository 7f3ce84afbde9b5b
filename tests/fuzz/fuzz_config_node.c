/* The node file from a buffer (config_node_parse).
 *
 * There is no writer of node files, so no round trip; the properties are the contract of
 * config.h and the rules of docs/config.md, for any input:
 *   - the parser answers 0 or CD_EPARSE; on error the message is one NUL-terminated line
 *     that starts with the document's name, and the output is left as it was;
 *   - a node it accepts has a valid id listed among 1..CONFIG_PEERS_MAX peers with unique
 *     ids, at the addresses it listens on; every address has a port; every string ends
 *     inside its array; a cluster secret of CONFIG_SECRET_MIN..MAX bytes unless insecure,
 *     and none when insecure; a known log level. */
#include <string.h>

#include "common/error.h"
#include "config/config.h"
#include "tests/fuzz/fuzz.h"

/* No control character: the message is one line of a log or of an answer. */
static bool one_line(const char *s)
{
    for (; *s != 0; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return false;
        }
    }
    return true;
}

#define NAME "node.yaml"

static bool ends_in(const char *s, size_t size)
{
    return memchr(s, 0, size) != NULL;
}

static void check_addr(const struct config_addr *a, const char *what)
{
    FUZZ_CHECK(a->port != 0 && a->host[0] != 0 && ends_in(a->host, sizeof(a->host)),
               "%s: no port or host", what);
}

static bool listens_as(const struct config_addr *listen, const struct config_addr *peer)
{
    bool wildcard = strcmp(listen->host, "0.0.0.0") == 0 || strcmp(listen->host, "::") == 0;
    return listen->port == peer->port && (wildcard || strcmp(listen->host, peer->host) == 0);
}

static void check_peers(const struct config_node *n)
{
    bool self = false;
    FUZZ_CHECK(n->n_peers >= 1 && n->n_peers <= CONFIG_PEERS_MAX, "%u peers", n->n_peers);
    for (uint32_t i = 0; i < n->n_peers; i++) {
        const struct config_peer *p = &n->peers[i];
        FUZZ_CHECK(ends_in(p->id, sizeof(p->id)) && engine_name_valid(p->id, sizeof(p->id)),
                   "peer %u: bad id", i);
        check_addr(&p->raft, "peer raft");
        check_addr(&p->api, "peer api");
        check_addr(&p->peer, "peer peer");
        for (uint32_t j = 0; j < i; j++) {
            FUZZ_CHECK(strcmp(n->peers[j].id, p->id) != 0, "peer '%s' twice", p->id);
        }
        if (strcmp(p->id, n->id) == 0) {
            self = true;
            FUZZ_CHECK(listens_as(&n->raft_listen, &p->raft) &&
                           listens_as(&n->api_listen, &p->api) &&
                           listens_as(&n->peer_listen, &p->peer),
                       "this node's peer entry is not where it listens");
        }
    }
    FUZZ_CHECK(self, "this node '%s' is not among its peers", n->id);
}

static void check_accepted(const struct config_node *n)
{
    FUZZ_CHECK(ends_in(n->id, sizeof(n->id)) && engine_name_valid(n->id, sizeof(n->id)),
               "bad id");
    check_addr(&n->api_listen, "listen api");
    check_addr(&n->raft_listen, "listen raft");
    check_addr(&n->peer_listen, "listen peer");
    check_peers(n);
    FUZZ_CHECK(ends_in(n->data_dir, sizeof(n->data_dir)) && n->data_dir[0] != 0, "no data_dir");
    FUZZ_CHECK(ends_in(n->tls.cert, sizeof(n->tls.cert)) &&
                   ends_in(n->tls.key, sizeof(n->tls.key)) &&
                   ends_in(n->tls.ca, sizeof(n->tls.ca)),
               "TLS path without its end");
    FUZZ_CHECK(ends_in(n->cluster_secret_file, sizeof(n->cluster_secret_file)),
               "secret file path without its end");
    FUZZ_CHECK(n->log_level <= CONFIG_LOG_ERROR, "log level %u", n->log_level);
    if (n->insecure) {
        FUZZ_CHECK(n->cluster_secret_len == 0 && n->cluster_secret_file[0] == 0,
                   "insecure with a secret");
    } else {
        FUZZ_CHECK(n->cluster_secret_len >= CONFIG_SECRET_MIN &&
                       n->cluster_secret_len <= CONFIG_SECRET_MAX,
                   "secret of %u bytes", n->cluster_secret_len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config_node out, before;
    char err[512];
    memset(&out, 0xa5, sizeof(out));
    memcpy(&before, &out, sizeof(out));
    int rc = config_node_parse(NAME, (const char *)data, size, &out, err, sizeof(err));
    if (rc != 0) {
        FUZZ_CHECK(rc == CD_EPARSE, "parse returned %s: %s", cd_errname(rc), err);
        FUZZ_CHECK(strncmp(err, NAME ":", strlen(NAME) + 1) == 0,
                   "message without the name: %s", err);
        FUZZ_CHECK(one_line(err), "message of more than one line: %s", err);
        FUZZ_CHECK(memcmp(&out, &before, sizeof(out)) == 0,
                   "a refused file changed the output");
        return 0;
    }
    check_accepted(&out);
    return 0;
}
