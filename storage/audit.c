/* The audit: one row per AUDIT effect, keyed by time then id, so that the newest rows, a
 * time window and retention are each a walk from one end of a key range; a second table
 * maps an id ("INDEX.N") to its row's key, for paging from a given row and for copying a
 * gap's rows by entry index. */
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"

#define SIGN_BIT (UINT64_C(1) << 63)

/* ---- keys and values ----------------------------------------------------------------- */

static void id_key(uint8_t key[STORAGE_AUDIT_ID_KEY], struct storage_audit_id id)
{
    storage__key_u64(key, id.index);
    for (int i = 0; i < 4; i++) {
        key[STORAGE_ID_KEY + i] = (uint8_t)(id.n >> (24 - 8 * i));
    }
}

static struct storage_audit_id id_key_read(const uint8_t key[STORAGE_AUDIT_ID_KEY])
{
    struct storage_audit_id id = {storage__key_u64_read(key), 0};
    for (int i = 0; i < 4; i++) {
        id.n = id.n << 8 | key[STORAGE_ID_KEY + i];
    }
    return id;
}

void storage__audit_key(uint8_t key[STORAGE_AUDIT_KEY], int64_t at, struct storage_audit_id id)
{
    storage__key_u64(key, (uint64_t)at ^ SIGN_BIT);
    id_key(key + STORAGE_ID_KEY, id);
}

void storage__audit_key_read(const uint8_t key[STORAGE_AUDIT_KEY],
                             int64_t *at,
                             struct storage_audit_id *id)
{
    *at = (int64_t)(storage__key_u64_read(key) ^ SIGN_BIT);
    *id = id_key_read(key + STORAGE_ID_KEY);
}

static bool fits(const char *s, size_t size)
{
    return s == NULL || strnlen(s, size) < size;
}

/* The action a row records: the effect's own, else its command's name. */
static const char *action_of(const struct engine_effect *fx)
{
    const char *name = engine_cmd_name(fx->state);
    return fx->action != NULL && fx->action[0] != 0 ? fx->action : name != NULL ? name : "";
}

static const char *audit_invalid(const struct engine_effect *fx)
{
    if (fx->kind != ENGINE_FX_AUDIT) {
        return "not an audit effect";
    }
    if (fx->state < ENGINE_CMD_TICK || fx->state >= ENGINE_CMD_KIND_COUNT) {
        return "command kind out of range";
    }
    if (!fits(fx->text, ENGINE_ACTOR_MAX) || !fits(action_of(fx), ENGINE_NAME_MAX) ||
        !fits(fx->object, ENGINE_TARGET_MAX) || !fits(fx->agent, ENGINE_NAME_MAX) ||
        !fits(fx->queue, ENGINE_NAME_MAX)) {
        return "actor, action, object, agent or queue too long";
    }
    return NULL;
}

int storage__audit_encode(const struct engine_effect *fx, struct cd_buf *b, const char **why)
{
    *why = audit_invalid(fx);
    if (*why != NULL) {
        return CD_EINVAL;
    }
    cd_buf_reset(b);
    cd_buf_u8(b, STORAGE_RECORD_V1);
    cd_buf_uvar(b, fx->state);
    cd_buf_str(b, fx->text);
    cd_buf_str(b, action_of(fx));
    cd_buf_str(b, fx->object);
    cd_buf_str(b, fx->agent);
    cd_buf_str(b, fx->queue);
    cd_buf_uvar(b, fx->contact);
    *why = b->err != 0 ? "out of memory" : NULL;
    return b->err;
}

int storage__audit_decode(const void *key,
                          size_t klen,
                          const void *val,
                          size_t vlen,
                          struct storage_audit *out)
{
    struct cd_reader r;
    memset(out, 0, sizeof(*out));
    if (klen != STORAGE_AUDIT_KEY) {
        return CD_ECORRUPT;
    }
    storage__audit_key_read(key, &out->at, &out->id);
    cd_reader_init(&r, val, vlen);
    if (cd_rd_u8(&r) != STORAGE_RECORD_V1) {
        return CD_ECORRUPT;
    }
    out->kind = (uint8_t)cd_rd_uint(&r, ENGINE_CMD_KIND_COUNT - 1);
    if (out->kind < ENGINE_CMD_TICK) {
        cd_rd_fail(&r);
    }
    cd_rd_strcpy(&r, out->actor, sizeof(out->actor));
    cd_rd_strcpy(&r, out->action, sizeof(out->action));
    if (out->action[0] == 0) {
        cd_rd_fail(&r); /* never written: a row names its action */
    }
    cd_rd_strcpy(&r, out->object, sizeof(out->object));
    cd_rd_strcpy(&r, out->agent, sizeof(out->agent));
    cd_rd_strcpy(&r, out->queue, sizeof(out->queue));
    out->contact = cd_rd_uvar(&r);
    return r.err != 0 || cd_rd_left(&r) != 0 ? CD_ECORRUPT : 0;
}

/* ---- writes -------------------------------------------------------------------------- */

int storage__audit_put_raw(MDB_txn *txn,
                           struct storage *s,
                           struct storage__hsum *as,
                           const uint8_t key[STORAGE_AUDIT_KEY],
                           const MDB_val *row,
                           bool keep)
{
    MDB_val ik = {STORAGE_AUDIT_ID_KEY, (void *)(key + STORAGE_ID_KEY)};
    MDB_val k = {STORAGE_AUDIT_KEY, (void *)key}, v;
    int rc = mdb_get(txn, s->audit_by_id, &ik, &v);
    if (rc == 0 && keep) {
        return 0;
    }
    rc = rc == 0 || rc == MDB_NOTFOUND ? storage__unlink_indexed(txn, s->audit_by_id, s->audit,
                                                                 as, &ik, STORAGE_AUDIT_KEY)
                                       : rc;
    rc = rc ? rc : mdb_put(txn, s->audit, &k, (MDB_val *)row, 0);
    rc = rc ? rc : mdb_put(txn, s->audit_by_id, &ik, &k, 0);
    if (rc == 0) {
        storage__hsum_add(as, &k, row);
    }
    return rc;
}

int storage_put_audit(struct storage_batch *b, uint32_t n, const struct engine_effect *fx)
{
    struct storage_audit_id id = {b->index, n};
    uint8_t key[STORAGE_AUDIT_KEY];
    const char *why;
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    rc = storage__audit_encode(fx, &b->s->buf, &why);
    if (rc != 0) {
        return storage__batch_fail(b, rc, "put audit %u: %s", n, why);
    }
    storage__audit_key(key, fx->at, id);
    MDB_val row = {b->s->buf.len, b->s->buf.data};
    rc = storage__audit_put_raw(b->txn, b->s, &b->asum, key, &row, false);
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "put audit %u: %s", n,
                                   mdb_strerror(rc));
    }
    if (!b->has_audit || fx->at > b->newest_audit) {
        b->newest_audit = fx->at;
    }
    b->has_audit = true;
    return 0;
}

/* The oldest row is always the first key, so each round starts from the first again. */
int storage__audit_trim(struct storage *s,
                        MDB_txn *txn,
                        struct storage__hsum *as,
                        int64_t before_ms,
                        size_t limit)
{
    uint8_t bound[STORAGE_AUDIT_KEY], ikey[STORAGE_AUDIT_ID_KEY];
    MDB_cursor *cur;
    MDB_val k, v;
    storage__audit_key(bound, before_ms, (struct storage_audit_id){0, 0});
    int rc = mdb_cursor_open(txn, s->audit, &cur);
    if (rc != 0) {
        return rc;
    }
    for (size_t n = 0; rc == 0 && n < limit; n++) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc != 0) {
            break;
        }
        if (k.mv_size != STORAGE_AUDIT_KEY) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (memcmp(k.mv_data, bound, sizeof(bound)) >= 0) {
            break;
        }
        memcpy(ikey, (const uint8_t *)k.mv_data + STORAGE_ID_KEY, sizeof(ikey));
        storage__hsum_sub(as, &k, &v);
        rc = mdb_cursor_del(cur, 0);
        if (rc == 0) {
            MDB_val ik = {sizeof(ikey), ikey};
            rc = mdb_del(txn, s->audit_by_id, &ik, NULL);
            rc = rc == MDB_NOTFOUND ? 0 : rc;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int storage_trim_audit(struct storage_batch *b, int64_t before_ms)
{
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    rc = storage__audit_trim(b->s, b->txn, &b->asum, before_ms, SIZE_MAX);
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "trim audit before %lld: %s",
                                   (long long)before_ms, mdb_strerror(rc));
    }
    return 0;
}

/* ---- reads: newest first ------------------------------------------------------------- */

struct audit_scan
{
    const struct storage_audit_query *q;
    struct storage *s;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v; /* the row the cursor is on */
    struct storage_audit row;
};

static bool same(const char *want, const char *have)
{
    return want == NULL || want[0] == 0 || strcmp(want, have) == 0;
}

/* Puts the cursor on the newest row whose key is below upper (NULL: the newest of all);
 * MDB_NOTFOUND when there is none (LMDB code). */
static int seek_below(struct audit_scan *as, const uint8_t *upper)
{
    if (upper == NULL) {
        return mdb_cursor_get(as->cur, &as->k, &as->v, MDB_LAST);
    }
    as->k = (MDB_val){STORAGE_AUDIT_KEY, (void *)upper};
    int rc = mdb_cursor_get(as->cur, &as->k, &as->v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) {
        return mdb_cursor_get(as->cur, &as->k, &as->v, MDB_LAST);
    }
    return rc != 0 ? rc : mdb_cursor_get(as->cur, &as->k, &as->v, MDB_PREV);
}

/* The newest id below q->before in the id table: the row to start from when the row it
 * names is gone (trimmed) or never was. Its key goes to key (LMDB code). */
static int newest_id_below(struct audit_scan *as, uint8_t key[STORAGE_AUDIT_KEY])
{
    uint8_t ikey[STORAGE_AUDIT_ID_KEY];
    MDB_cursor *ids;
    MDB_val k = {sizeof(ikey), ikey}, v;
    id_key(ikey, as->q->before);
    int rc = mdb_cursor_open(as->txn, as->s->audit_by_id, &ids);
    if (rc != 0) {
        return rc;
    }
    rc = mdb_cursor_get(ids, &k, &v, MDB_SET_RANGE);
    rc = rc == MDB_NOTFOUND ? mdb_cursor_get(ids, &k, &v, MDB_LAST)
         : rc == 0          ? mdb_cursor_get(ids, &k, &v, MDB_PREV)
                            : rc;
    if (rc == 0 && v.mv_size != STORAGE_AUDIT_KEY) {
        rc = MDB_CORRUPTED;
    }
    if (rc == 0) {
        memcpy(key, v.mv_data, STORAGE_AUDIT_KEY);
    }
    mdb_cursor_close(ids);
    return rc;
}

/* Moves the cursor back to the newest row before q->before when it sits at or after it. */
static int apply_before(struct audit_scan *as)
{
    uint8_t ikey[STORAGE_AUDIT_ID_KEY], bound[STORAGE_AUDIT_KEY];
    MDB_val k = {sizeof(ikey), ikey}, v;
    id_key(ikey, as->q->before);
    if (as->k.mv_size != STORAGE_AUDIT_KEY) {
        return MDB_CORRUPTED;
    }
    int rc = mdb_get(as->txn, as->s->audit_by_id, &k, &v);
    bool exact = rc == 0;
    if (exact && v.mv_size != STORAGE_AUDIT_KEY) {
        return MDB_CORRUPTED;
    }
    if (exact) {
        memcpy(bound, v.mv_data, sizeof(bound)); /* exclusive */
    } else if (rc == MDB_NOTFOUND) {
        rc = newest_id_below(as, bound); /* inclusive */
    }
    if (rc != 0 || memcmp(as->k.mv_data, bound, sizeof(bound)) < 0) {
        return rc;
    }
    if (exact) {
        return seek_below(as, bound);
    }
    as->k = (MDB_val){sizeof(bound), bound};
    return mdb_cursor_get(as->cur, &as->k, &as->v, MDB_SET_KEY);
}

static int position(struct audit_scan *as)
{
    uint8_t upper[STORAGE_AUDIT_KEY];
    const struct storage_audit_query *q = as->q;
    if (q->to_ms < INT64_MAX) {
        storage__audit_key(upper, q->to_ms + 1, (struct storage_audit_id){0, 0});
    }
    int rc = seek_below(as, q->to_ms < INT64_MAX ? upper : NULL);
    if (rc == 0 && q->before.index != 0) {
        rc = apply_before(as);
    }
    return rc;
}

/* Decodes the row under the cursor: 0, 1 when it is older than the range, or CD_ECORRUPT. */
static int current(struct audit_scan *as)
{
    if (storage__audit_decode(as->k.mv_data, as->k.mv_size, as->v.mv_data, as->v.mv_size,
                              &as->row) != 0) {
        return CD_ECORRUPT;
    }
    return as->row.at < as->q->from_ms ? 1 : 0;
}

/* Whether a row of the range is left after the one the cursor is on (LMDB code in *rc). */
static bool more_left(struct audit_scan *as, int *rc)
{
    int64_t at;
    struct storage_audit_id id;
    *rc = mdb_cursor_get(as->cur, &as->k, &as->v, MDB_PREV);
    if (*rc != 0 || as->k.mv_size != STORAGE_AUDIT_KEY) {
        *rc = *rc == MDB_NOTFOUND ? 0 : *rc != 0 ? *rc : MDB_CORRUPTED;
        return false;
    }
    storage__audit_key_read(as->k.mv_data, &at, &id);
    return at >= as->q->from_ms;
}

static int walk(struct audit_scan *as,
                int (*cb)(void *data, const struct storage_audit *row),
                void *data,
                struct storage_audit_id *next)
{
    const struct storage_audit_query *q = as->q;
    size_t given = 0, looked = 0;
    int rc = position(as);
    while (rc == 0) {
        int code = current(as);
        if (code != 0) {
            return code < 0 ? code : 0;
        }
        looked++;
        if (same(q->actor, as->row.actor) && same(q->action, as->row.action) &&
            same(q->object, as->row.object)) {
            given++;
            code = cb != NULL ? cb(data, &as->row) : 0;
            if (code != 0) {
                return code;
            }
        }
        if ((q->limit > 0 && given == q->limit) || (q->scan_max > 0 && looked == q->scan_max)) {
            struct storage_audit_id last = as->row.id;
            if (more_left(as, &rc)) {
                *next = last;
            }
            break;
        }
        rc = mdb_cursor_get(as->cur, &as->k, &as->v, MDB_PREV);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : storage__read_code(rc);
}

int storage_audit_scan(struct storage *s,
                       const struct storage_audit_query *q,
                       int (*cb)(void *data, const struct storage_audit *row),
                       void *data,
                       struct storage_audit_id *next)
{
    struct audit_scan as = {.q = q, .s = s};
    *next = (struct storage_audit_id){0, 0};
    if (q->from_ms > q->to_ms) {
        return 0;
    }
    int rc = storage__read_begin(s, &as.txn);
    if (rc != 0) {
        return storage__read_code(rc);
    }
    rc = mdb_cursor_open(as.txn, s->audit, &as.cur);
    if (rc != 0) {
        mdb_txn_abort(as.txn);
        return storage__read_code(rc);
    }
    int code = walk(&as, cb, data, next);
    mdb_cursor_close(as.cur);
    mdb_txn_abort(as.txn);
    return code;
}
