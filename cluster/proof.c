/* The cluster's side of the guard: who may connect to the Raft port, with what key and
 * limits; and the proofs members attach to requests on each other's peer channel. */
#include <string.h>

#include "cluster/internal.h"
#include "common/error.h"

static const char label_internal[] = "contactd internal/1";

bool cluster__is_member(const struct cluster *c, const char *name)
{
    struct cluster_member m;
    for (uint32_t i = 0; i < c->node.n_peers; i++) {
        if (strcmp(c->node.peers[i].id, name) == 0) {
            return true;
        }
    }
    for (unsigned i = 0; c->raft_inited && i < c->raft.configuration.n; i++) {
        const struct raft_server *s = &c->raft.configuration.servers[i];
        if (cluster__address_parse(s->address, &m) == 0 && strcmp(m.id, name) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_member(void *data, const char *name)
{
    return cluster__is_member(data, name);
}

/* With TLS between members the secret is optional: without one the key is empty, as on an
 * insecure node, and the certificates say who a member is. */
static struct cluster__key key_of(const struct cluster *c)
{
    return (struct cluster__key){c->node.cluster_secret, c->node.cluster_secret_len};
}

int cluster__guard_init(struct cluster *c)
{
    struct cluster__guard_options opt = {
        .name = c->node.id,
        .key = key_of(c),
        .limits = CLUSTER__GUARD_LIMITS_DEFAULT,
        .is_member = is_member,
        .data = c,
        .server_tls = c->member_server,
        .client_tls = c->member_client,
    };
    /* A snapshot holds the state, which the state store holds: no message needs more
     * room than the store has (and 64 MiB at least, for a small store). */
    uint64_t store = (uint64_t)c->node.storage_map_mb << 20;
    if (store > opt.limits.message_max) {
        opt.limits.message_max = store;
    }
    return cluster__transport_init(&c->transport, c->loop, &opt);
}

static int internal_mac(const struct cluster *c,
                        const char *member,
                        const char *path,
                        const void *body,
                        size_t len,
                        uint8_t out[CLUSTER__MAC_LEN])
{
    struct cluster__key key = key_of(c);
    struct cluster__iov parts[] = {
        {label_internal, sizeof(label_internal)},
        {member, strlen(member) + 1},
        {path, strlen(path) + 1},
        {body, len},
    };
    return cluster__hmac(&key, parts, sizeof(parts) / sizeof(parts[0]), out);
}

int cluster_proof_make(const struct cluster *c,
                       const char *path,
                       const void *body,
                       size_t len,
                       struct cluster_proof *out)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t mac[CLUSTER__MAC_LEN];
    int rv = internal_mac(c, c->node.id, path, body, len, mac);
    if (rv != 0) {
        return rv;
    }
    memcpy(out->member, c->node.id, sizeof(out->member));
    for (size_t i = 0; i < sizeof(mac); i++) {
        out->mac[2 * i] = digits[mac[i] >> 4];
        out->mac[2 * i + 1] = digits[mac[i] & 15];
    }
    out->mac[CLUSTER_PROOF_HEX] = 0;
    return 0;
}

static int hex_digit(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int cluster_proof_check(const struct cluster *c,
                        const struct cluster_proof *proof,
                        const char *path,
                        const void *body,
                        size_t len)
{
    uint8_t got[CLUSTER__MAC_LEN], want[CLUSTER__MAC_LEN];
    if (strnlen(proof->member, sizeof(proof->member)) == sizeof(proof->member) ||
        strnlen(proof->mac, sizeof(proof->mac)) != CLUSTER_PROOF_HEX ||
        !cluster__is_member(c, proof->member)) {
        return CD_EINVAL;
    }
    for (size_t i = 0; i < sizeof(got); i++) {
        int hi = hex_digit(proof->mac[2 * i]), lo = hex_digit(proof->mac[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return CD_EINVAL;
        }
        got[i] = (uint8_t)(hi << 4 | lo);
    }
    int rv = internal_mac(c, proof->member, path, body, len, want);
    if (rv != 0) {
        return rv;
    }
    return cluster__mac_equal(got, want) ? 0 : CD_EINVAL;
}
