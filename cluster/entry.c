/* The bytes of a Raft entry, of a forwarded result, and of a member's Raft address. */
#include <stdio.h>
#include <string.h>

#include "cluster/internal.h"
#include "common/error.h"
#include "common/hash.h"

#define ENTRY_FORMAT 1
#define RESULT_FORMAT 1
#define ENTRY_CMD_MAX (16u << 20)

/* Entry: format, proposer id, proposer nonce, sequence, the leader's stamp (ms), count, then
 * each command as a varint length and its engine_command_encode() bytes. The proposer
 * fields let the node that proposed an entry find the requests waiting for it; no other
 * node reads them. */
int cluster__entry_begin(struct cd_buf *b,
                         uint64_t proposer,
                         uint64_t nonce,
                         uint64_t seq,
                         int64_t stamp,
                         uint32_t n_cmds)
{
    cd_buf_u8(b, ENTRY_FORMAT);
    cd_buf_u64(b, proposer);
    cd_buf_u64(b, nonce);
    cd_buf_uvar(b, seq);
    cd_buf_svar(b, stamp);
    cd_buf_uvar(b, n_cmds);
    return b->err;
}

int cluster__entry_add(struct cd_buf *b, const void *cmd, size_t len)
{
    cd_buf_uvar(b, len);
    cd_buf_put(b, cmd, len);
    return b->err;
}

int cluster__entry_decode(const void *data, size_t len, struct cluster__entry *out)
{
    struct cd_reader r;
    cd_reader_init(&r, data, len);
    uint8_t format = cd_rd_u8(&r);
    if (r.err == 0 && format != ENTRY_FORMAT) {
        return CD_EVERSION;
    }
    out->proposer = cd_rd_u64(&r);
    out->nonce = cd_rd_u64(&r);
    out->seq = cd_rd_uvar(&r);
    out->stamp = cd_rd_svar(&r);
    out->n_cmds = (uint32_t)cd_rd_uint(&r, CLUSTER__BATCH_MAX);
    out->cmds = r;
    return r.err;
}

int cluster__entry_next(struct cluster__entry *e, const uint8_t **cmd, size_t *len)
{
    *len = (size_t)cd_rd_uint(&e->cmds, ENTRY_CMD_MAX);
    *cmd = cd_rd_bytes(&e->cmds, *len);
    return e->cmds.err;
}

/* Result: format, code, contact, existing, message, and the index that applied it. */
int cluster__result_encode(struct cd_buf *b, const struct engine_result *res, uint64_t index)
{
    cd_buf_u8(b, RESULT_FORMAT);
    cd_buf_svar(b, res->code);
    cd_buf_uvar(b, res->contact);
    cd_buf_u8(b, res->existing);
    cd_buf_str(b, res->message);
    cd_buf_uvar(b, index);
    return b->err;
}

int cluster__result_decode(const void *data,
                           size_t len,
                           struct engine_result *res,
                           uint64_t *index)
{
    struct cd_reader r;
    cd_reader_init(&r, data, len);
    memset(res, 0, sizeof(*res));
    if (cd_rd_u8(&r) != RESULT_FORMAT) {
        return CD_ECORRUPT;
    }
    res->code = (int)cd_rd_int(&r, -1000, 0);
    res->contact = cd_rd_uvar(&r);
    res->existing = cd_rd_bool(&r);
    cd_rd_strcpy(&r, res->message, sizeof(res->message));
    *index = cd_rd_uvar(&r);
    if (r.err == 0 && cd_rd_left(&r) != 0) {
        cd_rd_fail(&r);
    }
    return r.err;
}

int cluster__address_format(char *out,
                            size_t len,
                            const char *id,
                            const char *raft_addr,
                            const char *api_addr,
                            const char *peer_addr)
{
    const char *parts[] = {id, raft_addr, api_addr, peer_addr};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (*parts[i] == 0 || strchr(parts[i], '|') != NULL) {
            return CD_EINVAL;
        }
    }
    int n = snprintf(out, len, "%s|%s|%s|%s", raft_addr, api_addr, peer_addr, id);
    return n < 0 || (size_t)n >= len ? CD_ETOOBIG : 0;
}

static int copy_part(char *dst, size_t cap, const char *from, const char *to)
{
    size_t n = (size_t)(to - from);
    if (n == 0 || n >= cap) {
        return CD_EINVAL;
    }
    memcpy(dst, from, n);
    dst[n] = 0;
    return 0;
}

/* An address of another form (the three parts "raft|api|id" of versions before the peer
 * channel, say) is refused whole: out is then left as it was. */
int cluster__address_parse(const char *address, struct cluster_member *out)
{
    struct cluster_member m;
    const char *a = strchr(address, '|');
    const char *b = a != NULL ? strchr(a + 1, '|') : NULL;
    const char *p = b != NULL ? strchr(b + 1, '|') : NULL;
    if (p == NULL || strchr(p + 1, '|') != NULL) {
        return CD_EINVAL;
    }
    if (copy_part(m.raft, sizeof(m.raft), address, a) != 0 ||
        copy_part(m.api, sizeof(m.api), a + 1, b) != 0 ||
        copy_part(m.peer, sizeof(m.peer), b + 1, p) != 0 ||
        copy_part(m.id, sizeof(m.id), p + 1, p + 1 + strlen(p + 1)) != 0) {
        return CD_EINVAL;
    }
    memcpy(out->id, m.id, sizeof(m.id));
    memcpy(out->raft, m.raft, sizeof(m.raft));
    memcpy(out->api, m.api, sizeof(m.api));
    memcpy(out->peer, m.peer, sizeof(m.peer));
    return 0;
}

/* Raft wants a non-zero integer id; members are named. The name's hash, with the top bit
 * clear so it prints the same signed or not. */
raft_id cluster__raft_id(const char *name)
{
    uint64_t h = cd_hash_str(name) & ~(1ull << 63);
    return h == 0 ? 1 : h;
}
