/* The guard's codecs: our handshake, raft_uv_tcp's handshake, and the check of Raft's
 * message framing (guard.h describes all three). No I/O here. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/guard.h"
#include "common/error.h"

#define MAGIC "CDRG"
#define KIND_HELLO 1
#define KIND_CHALLENGE 2
#define KIND_PROOF 3
#define HELLO_FROM 8
#define HELLO_TO (HELLO_FROM + ENGINE_NAME_MAX)
#define HELLO_NONCE (HELLO_TO + ENGINE_NAME_MAX)
#define HELLO_MAC (HELLO_NONCE + CLUSTER__NONCE_LEN)
#define CHALLENGE_MAC (8 + CLUSTER__NONCE_LEN)
#define PROOF_MAC 8

/* Each MAC covers a label of its own (NUL included), so none can stand for another. */
static const char label_hello[] = "contactd raft guard/1 hello";
static const char label_challenge[] = "contactd raft guard/1 challenge";
static const char label_proof[] = "contactd raft guard/1 proof";

int cluster__hmac(const struct cluster__key *key,
                  const struct cluster__iov *parts,
                  size_t n,
                  uint8_t out[CLUSTER__MAC_LEN])
{
    static const uint8_t empty_key[1];
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    size_t len = 0;
    int ok = ctx != NULL &&
             EVP_MAC_init(ctx, key->len > 0 ? key->bytes : empty_key, key->len, params);
    for (size_t i = 0; ok && i < n; i++) {
        ok = EVP_MAC_update(ctx, parts[i].base, parts[i].len);
    }
    ok = ok && EVP_MAC_final(ctx, out, &len, CLUSTER__MAC_LEN) && len == CLUSTER__MAC_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : CD_ENOMEM;
}

bool cluster__mac_equal(const uint8_t a[CLUSTER__MAC_LEN], const uint8_t b[CLUSTER__MAC_LEN])
{
    return CRYPTO_memcmp(a, b, CLUSTER__MAC_LEN) == 0;
}

int cluster__random(uint8_t *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? 0 : CD_EIO;
}

/* ---- Our handshake ---------------------------------------------------------------------- */

static void put_head(uint8_t *out, unsigned kind)
{
    memcpy(out, MAGIC, 4);
    out[4] = 0;
    out[5] = CLUSTER__GUARD_VERSION;
    out[6] = 0;
    out[7] = (uint8_t)kind;
}

static int check_head(const uint8_t *in, unsigned kind)
{
    if (memcmp(in, MAGIC, 4) != 0) {
        return CD_ECORRUPT;
    }
    if (in[4] != 0 || in[5] != CLUSTER__GUARD_VERSION) {
        return CD_EVERSION;
    }
    return in[6] == 0 && in[7] == kind ? 0 : CD_ECORRUPT;
}

static int put_name(uint8_t *out, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= ENGINE_NAME_MAX) {
        return CD_EINVAL;
    }
    memset(out, 0, ENGINE_NAME_MAX);
    memcpy(out, name, n);
    return 0;
}

/* A non-empty name, NUL-terminated, and nothing but NULs after it: one encoding per name. */
static int get_name(const uint8_t *in, char *out)
{
    size_t n = strnlen((const char *)in, ENGINE_NAME_MAX);
    if (n == 0 || n == ENGINE_NAME_MAX) {
        return CD_ECORRUPT;
    }
    for (size_t i = n; i < ENGINE_NAME_MAX; i++) {
        if (in[i] != 0) {
            return CD_ECORRUPT;
        }
    }
    memcpy(out, in, n + 1);
    return 0;
}

static int mac_of(const struct cluster__key *key,
                  const char *label,
                  size_t label_len,
                  const struct cluster__iov *parts,
                  size_t n,
                  uint8_t out[CLUSTER__MAC_LEN])
{
    struct cluster__iov all[3] = {{label, label_len}};
    for (size_t i = 0; i < n && i < 2; i++) {
        all[i + 1] = parts[i];
    }
    return cluster__hmac(key, all, n + 1, out);
}

/* 0 when mac is the MAC of label and parts under key; CD_EINVAL when it is not. */
static int mac_check(const struct cluster__key *key,
                     const char *label,
                     size_t label_len,
                     const struct cluster__iov *parts,
                     size_t n,
                     const uint8_t *mac)
{
    uint8_t want[CLUSTER__MAC_LEN];
    int rv = mac_of(key, label, label_len, parts, n, want);
    if (rv != 0) {
        return rv;
    }
    return cluster__mac_equal(want, mac) ? 0 : CD_EINVAL;
}

int cluster__hello_encode(const struct cluster__key *key,
                          const struct cluster__hello *h,
                          uint8_t out[CLUSTER__HELLO_LEN])
{
    put_head(out, KIND_HELLO);
    if (put_name(out + HELLO_FROM, h->from) != 0 || put_name(out + HELLO_TO, h->to) != 0) {
        return CD_EINVAL;
    }
    memcpy(out + HELLO_NONCE, h->nonce, CLUSTER__NONCE_LEN);
    struct cluster__iov body = {out, HELLO_MAC};
    return mac_of(key, label_hello, sizeof(label_hello), &body, 1, out + HELLO_MAC);
}

int cluster__hello_decode(const struct cluster__key *key,
                          const uint8_t in[CLUSTER__HELLO_LEN],
                          struct cluster__hello *out)
{
    struct cluster__hello h;
    int rv = check_head(in, KIND_HELLO);
    if (rv != 0 || (rv = get_name(in + HELLO_FROM, h.from)) != 0 ||
        (rv = get_name(in + HELLO_TO, h.to)) != 0) {
        return rv;
    }
    struct cluster__iov body = {in, HELLO_MAC};
    rv = mac_check(key, label_hello, sizeof(label_hello), &body, 1, in + HELLO_MAC);
    if (rv != 0) {
        return rv;
    }
    memcpy(h.nonce, in + HELLO_NONCE, CLUSTER__NONCE_LEN);
    *out = h;
    return 0;
}

int cluster__challenge_encode(const struct cluster__key *key,
                              const uint8_t hello[CLUSTER__HELLO_LEN],
                              const uint8_t nonce[CLUSTER__NONCE_LEN],
                              uint8_t out[CLUSTER__CHALLENGE_LEN])
{
    put_head(out, KIND_CHALLENGE);
    memcpy(out + 8, nonce, CLUSTER__NONCE_LEN);
    struct cluster__iov parts[] = {{hello, CLUSTER__HELLO_LEN}, {out, CHALLENGE_MAC}};
    return mac_of(key, label_challenge, sizeof(label_challenge), parts, 2, out + CHALLENGE_MAC);
}

int cluster__challenge_check(const struct cluster__key *key,
                             const uint8_t hello[CLUSTER__HELLO_LEN],
                             const uint8_t in[CLUSTER__CHALLENGE_LEN])
{
    int rv = check_head(in, KIND_CHALLENGE);
    if (rv != 0) {
        return rv;
    }
    struct cluster__iov parts[] = {{hello, CLUSTER__HELLO_LEN}, {in, CHALLENGE_MAC}};
    return mac_check(key, label_challenge, sizeof(label_challenge), parts, 2,
                     in + CHALLENGE_MAC);
}

int cluster__proof_encode(const struct cluster__key *key,
                          const uint8_t hello[CLUSTER__HELLO_LEN],
                          const uint8_t challenge[CLUSTER__CHALLENGE_LEN],
                          uint8_t out[CLUSTER__PROOF_LEN])
{
    put_head(out, KIND_PROOF);
    struct cluster__iov parts[] = {{hello, CLUSTER__HELLO_LEN},
                                   {challenge, CLUSTER__CHALLENGE_LEN}};
    return mac_of(key, label_proof, sizeof(label_proof), parts, 2, out + PROOF_MAC);
}

int cluster__proof_check(const struct cluster__key *key,
                         const uint8_t hello[CLUSTER__HELLO_LEN],
                         const uint8_t challenge[CLUSTER__CHALLENGE_LEN],
                         const uint8_t in[CLUSTER__PROOF_LEN])
{
    int rv = check_head(in, KIND_PROOF);
    if (rv != 0) {
        return rv;
    }
    struct cluster__iov parts[] = {{hello, CLUSTER__HELLO_LEN},
                                   {challenge, CLUSTER__CHALLENGE_LEN}};
    return mac_check(key, label_proof, sizeof(label_proof), parts, 2, in + PROOF_MAC);
}

/* ---- raft_uv_tcp's handshake ------------------------------------------------------------ */

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

size_t cluster__raft_hello_encode(raft_id id, const char *address, uint8_t *out, size_t cap)
{
    size_t padded = (strlen(address) + 1 + 7) / 8 * 8;
    if (padded > CLUSTER__RAFT_ADDRESS_MAX || CLUSTER__RAFT_PREAMBLE_LEN + padded > cap) {
        return 0;
    }
    put_le64(out, 1);
    put_le64(out + 8, id);
    put_le64(out + 16, padded);
    memset(out + CLUSTER__RAFT_PREAMBLE_LEN, 0, padded);
    memcpy(out + CLUSTER__RAFT_PREAMBLE_LEN, address, strlen(address));
    return CLUSTER__RAFT_PREAMBLE_LEN + padded;
}

int cluster__raft_preamble_check(const uint8_t in[CLUSTER__RAFT_PREAMBLE_LEN],
                                 raft_id id,
                                 size_t *address_len)
{
    uint64_t len = get_le64(in + 16);
    if (get_le64(in) != 1) {
        return CD_EVERSION;
    }
    if (get_le64(in + 8) != id) {
        return CD_EINVAL;
    }
    if (len > CLUSTER__RAFT_ADDRESS_MAX) {
        return CD_ETOOBIG;
    }
    if (len == 0 || len % 8 != 0) {
        return CD_ECORRUPT;
    }
    *address_len = (size_t)len;
    return 0;
}

int cluster__raft_address_check(const uint8_t *in, size_t len)
{
    return memchr(in, 0, len) != NULL ? 0 : CD_ECORRUPT;
}

/* ---- Raft's message framing ------------------------------------------------------------- */

enum {
    MSG_APPEND_ENTRIES = 1,
    MSG_APPEND_ENTRIES_RESULT,
    MSG_REQUEST_VOTE,
    MSG_REQUEST_VOTE_RESULT,
    MSG_INSTALL_SNAPSHOT,
    MSG_TIMEOUT_NOW,
};
#define FIXED_HEADER_MAX 256 /* the headers of fixed shape are 16 to 40 bytes */

void cluster__frames_init(struct cluster__frames *f, uint64_t max)
{
    memset(f, 0, sizeof(*f));
    f->max = max;
}

void cluster__frames_close(struct cluster__frames *f)
{
    free(f->header);
    cluster__frames_init(f, f->max);
}

/* Lengths raft 0.15 reads from a header of fixed shape: RequestVote has a 32-byte first
 * version and reads 40 otherwise, RequestVoteResult 16 or 24; the others 24. */
static bool fixed_length_ok(uint64_t type, uint64_t len)
{
    uint64_t least = type == MSG_REQUEST_VOTE ? 40 : type == MSG_REQUEST_VOTE_RESULT ? 24 : 24;
    bool first_version = (type == MSG_REQUEST_VOTE && len == 32) ||
                         (type == MSG_REQUEST_VOTE_RESULT && len == 16);
    return first_version || (len >= least && len <= FIXED_HEADER_MAX);
}

static int preamble_done(struct cluster__frames *f)
{
    uint64_t type = get_le64(f->preamble);
    uint64_t len = get_le64(f->preamble + 8);
    if (type < MSG_APPEND_ENTRIES || type > MSG_TIMEOUT_NOW || len == 0) {
        return CD_ECORRUPT;
    }
    if (len > CLUSTER__HEADER_MAX || len > f->max) {
        return CD_ETOOBIG;
    }
    if (type == MSG_APPEND_ENTRIES     ? len < 40
        : type == MSG_INSTALL_SNAPSHOT ? len < 48
                                       : !fixed_length_ok(type, len)) {
        return CD_ECORRUPT;
    }
    f->header = malloc((size_t)len);
    if (f->header == NULL) {
        return CD_ENOMEM;
    }
    f->type = type;
    f->header_len = (size_t)len;
    f->have = 0;
    return 0;
}

/* AppendEntries: term, previous index and term, commit, the entry count, then 16 bytes per
 * entry (term, type, 3 unused, length); the payload is the entries' lengths summed. */
static int append_entries_payload(const struct cluster__frames *f, uint64_t *payload)
{
    uint64_t n = get_le64(f->header + 32);
    if (n > (f->header_len - 40) / 16) {
        return CD_ECORRUPT;
    }
    *payload = 0;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *e = f->header + 40 + 16 * i;
        if (e[8] != RAFT_COMMAND && e[8] != RAFT_BARRIER && e[8] != RAFT_CHANGE) {
            return CD_ECORRUPT;
        }
        *payload += (uint64_t)e[12] | (uint64_t)e[13] << 8 | (uint64_t)e[14] << 16 |
                    (uint64_t)e[15] << 24;
    }
    return 0;
}

/* A configuration as raft encodes it: format 1, a count, then per server an id, a
 * NUL-terminated address and a role byte, all inside len. */
static int configuration_ok(const uint8_t *p, uint64_t len)
{
    if (len < 9 || p[0] != 1) {
        return CD_ECORRUPT;
    }
    uint64_t n = get_le64(p + 1), at = 9;
    for (uint64_t i = 0; i < n; i++) {
        if (len - at < 8 + 1 + 1) {
            return CD_ECORRUPT;
        }
        at += 8;
        const uint8_t *nul = memchr(p + at, 0, (size_t)(len - at - 1));
        if (nul == NULL) {
            return CD_ECORRUPT;
        }
        at = (uint64_t)(nul - p) + 1 + 1;
    }
    return 0;
}

/* InstallSnapshot: term, last index and term, configuration index, the configuration's
 * length and bytes, then the snapshot's length, which is the payload. */
static int install_snapshot_payload(const struct cluster__frames *f, uint64_t *payload)
{
    uint64_t conf_len = get_le64(f->header + 32);
    if (conf_len > f->header_len - 48 || configuration_ok(f->header + 40, conf_len) != 0) {
        return CD_ECORRUPT;
    }
    *payload = get_le64(f->header + 40 + conf_len);
    return 0;
}

static int header_done(struct cluster__frames *f)
{
    uint64_t payload = 0;
    int rv = 0;
    if (f->type == MSG_APPEND_ENTRIES) {
        rv = append_entries_payload(f, &payload);
    } else if (f->type == MSG_INSTALL_SNAPSHOT) {
        rv = install_snapshot_payload(f, &payload);
    }
    if (rv != 0) {
        return rv;
    }
    if (payload > f->max - f->header_len) {
        return CD_ETOOBIG;
    }
    free(f->header);
    f->header = NULL;
    f->payload_left = payload;
    f->have = 0;
    if (payload == 0) {
        f->type = 0;
        f->messages++;
    }
    return 0;
}

/* Takes up to n bytes into the current part; returns how many it took, or an error. */
static int feed_part(struct cluster__frames *f, const uint8_t *p, size_t n, size_t *took)
{
    if (f->type == 0) {
        *took = n < sizeof(f->preamble) - f->have ? n : sizeof(f->preamble) - f->have;
        memcpy(f->preamble + f->have, p, *took);
        f->have += *took;
        return f->have == sizeof(f->preamble) ? preamble_done(f) : 0;
    }
    if (f->header != NULL) {
        *took = n < f->header_len - f->have ? n : f->header_len - f->have;
        memcpy(f->header + f->have, p, *took);
        f->have += *took;
        return f->have == f->header_len ? header_done(f) : 0;
    }
    *took = n < f->payload_left ? n : (size_t)f->payload_left;
    f->payload_left -= *took;
    if (f->payload_left == 0) {
        f->type = 0;
        f->messages++;
    }
    return 0;
}

int cluster__frames_feed(struct cluster__frames *f, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t took = 0;
        int rv = feed_part(f, p, n, &took);
        if (rv != 0) {
            return rv;
        }
        p += took;
        n -= took;
    }
    return 0;
}
