/* Contact history: rows keyed by completed time then contact id, so reports and retention
 * walk time ranges, and an index by contact so a contact has one row that a later row of the
 * same contact replaces. */
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "storage/internal.h"

uint64_t storage__row_hash(const MDB_val *key, const MDB_val *val)
{
    return cd_hash64(val->mv_data, val->mv_size, cd_hash64(key->mv_data, key->mv_size, 0));
}

void storage__hsum_add(struct storage__hsum *hs, const MDB_val *key, const MDB_val *val)
{
    hs->rows++;
    hs->sum += storage__row_hash(key, val);
}

void storage__hsum_sub(struct storage__hsum *hs, const MDB_val *key, const MDB_val *val)
{
    hs->rows--;
    hs->sum -= storage__row_hash(key, val);
}

int storage__unlink_indexed(MDB_txn *txn,
                            MDB_dbi index,
                            MDB_dbi rows,
                            struct storage__hsum *sum,
                            const MDB_val *id,
                            size_t key_len)
{
    uint8_t old[32];
    MDB_val v, row;
    int rc = mdb_get(txn, index, (MDB_val *)id, &v);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    if (v.mv_size != key_len || key_len > sizeof(old)) {
        return MDB_CORRUPTED;
    }
    /* v points into a page this transaction is about to change. */
    memcpy(old, v.mv_data, key_len);
    MDB_val ok = {key_len, old};
    rc = mdb_get(txn, rows, &ok, &row);
    if (rc == MDB_NOTFOUND) {
        return 0;
    }
    if (rc == 0) {
        storage__hsum_sub(sum, &ok, &row);
        rc = mdb_del(txn, rows, &ok, NULL);
    }
    return rc;
}

/* Puts the row in s->buf under (completed, contact), replacing the contact's earlier one. */
int storage__history_put_raw(MDB_txn *txn,
                             struct storage *s,
                             struct storage__hsum *hs,
                             const uint8_t hkey[STORAGE_HISTORY_KEY],
                             const MDB_val *row)
{
    MDB_val ck = {STORAGE_ID_KEY, (void *)(hkey + STORAGE_ID_KEY)};
    MDB_val hk = {STORAGE_HISTORY_KEY, (void *)hkey};
    /* The contact's earlier row, wherever it sits. */
    int rc = storage__unlink_indexed(txn, s->history_by_contact, s->history, hs, &ck,
                                     STORAGE_HISTORY_KEY);
    rc = rc ? rc : mdb_put(txn, s->history, &hk, (MDB_val *)row, 0);
    rc = rc ? rc : mdb_put(txn, s->history_by_contact, &ck, &hk, 0);
    if (rc == 0) {
        storage__hsum_add(hs, &hk, row);
    }
    return rc;
}

static int put_row(struct storage_batch *b, const struct engine_history *h)
{
    uint8_t hkey[STORAGE_HISTORY_KEY];
    storage__history_key(hkey, h->completed, h->contact);
    MDB_val row = {b->s->buf.len, b->s->buf.data};
    return storage__history_put_raw(b->txn, b->s, &b->hsum, hkey, &row);
}

int storage_put_history(struct storage_batch *b, const struct engine_history *h)
{
    const char *why;
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    rc = storage__history_encode(h, b->index, &b->s->buf, &why);
    if (rc != 0) {
        return storage__batch_fail(b, rc, "put history of contact %llu: %s",
                                   (unsigned long long)h->contact, why);
    }
    rc = put_row(b, h);
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc),
                                   "put history of contact %llu: %s",
                                   (unsigned long long)h->contact, mdb_strerror(rc));
    }
    if (!b->has_history || h->completed > b->newest_completed) {
        b->newest_completed = h->completed;
    }
    b->has_history = true;
    return 0;
}

int storage_trim_history(struct storage_batch *b, int64_t before_ms)
{
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    rc = storage__history_trim(b->s, b->txn, &b->hsum, before_ms, SIZE_MAX);
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "trim history before %lld: %s",
                                   (long long)before_ms, mdb_strerror(rc));
    }
    return 0;
}

/* The index entry goes only if it names this row. */
static int drop_index(struct storage *s, MDB_txn *txn, const uint8_t hkey[STORAGE_HISTORY_KEY])
{
    MDB_val k = {STORAGE_ID_KEY, (void *)(hkey + STORAGE_ID_KEY)};
    MDB_val v;
    int rc = mdb_get(txn, s->history_by_contact, &k, &v);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    if (v.mv_size != STORAGE_HISTORY_KEY || memcmp(v.mv_data, hkey, STORAGE_HISTORY_KEY) != 0) {
        return 0;
    }
    return mdb_del(txn, s->history_by_contact, &k, NULL);
}

/* The oldest row is always the first key, so each round starts from the first again. */
int storage__history_trim(struct storage *s,
                          MDB_txn *txn,
                          struct storage__hsum *hs,
                          int64_t before_ms,
                          size_t limit)
{
    uint8_t bound[STORAGE_HISTORY_KEY], key[STORAGE_HISTORY_KEY];
    MDB_cursor *cur;
    MDB_val k, v;
    storage__history_key(bound, before_ms, 0);
    int rc = mdb_cursor_open(txn, s->history, &cur);
    if (rc != 0) {
        return rc;
    }
    for (size_t n = 0; rc == 0 && n < limit; n++) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc != 0) {
            break;
        }
        if (k.mv_size != STORAGE_HISTORY_KEY) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (memcmp(k.mv_data, bound, sizeof(bound)) >= 0) {
            break;
        }
        memcpy(key, k.mv_data, sizeof(key));
        storage__hsum_sub(hs, &k, &v);
        rc = mdb_cursor_del(cur, 0);
        rc = rc ? rc : drop_index(s, txn, key);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---- reads --------------------------------------------------------------------------- */

struct history_scan
{
    struct storage_history *row;
    int64_t to_ms;
    bool past_end;
    int (*cb)(void *data, const struct storage_history *h);
    void *data;
};

static int history_row(void *ctx, const MDB_val *k, const MDB_val *v)
{
    struct history_scan *hs = ctx;
    int rc = storage__history_decode(k->mv_data, k->mv_size, v->mv_data, v->mv_size, hs->row);
    if (rc < 0) {
        return CD_ECORRUPT;
    }
    if (hs->row->completed >= hs->to_ms) {
        hs->past_end = true;
        return 1;
    }
    if (rc == 1) {
        return 0; /* an agent's span, not a contact */
    }
    return hs->cb != NULL ? hs->cb(hs->data, hs->row) : 0;
}

int storage_foreach_history(struct storage *s,
                            int64_t from_ms,
                            int64_t to_ms,
                            int (*cb)(void *data, const struct storage_history *h),
                            void *data)
{
    struct storage_history row;
    struct history_scan hs = {&row, to_ms, false, cb, data};
    uint8_t start[STORAGE_HISTORY_KEY];
    if (from_ms >= to_ms) {
        return 0;
    }
    storage__history_key(start, from_ms, 0);
    MDB_val k = {sizeof(start), start};
    int rc = storage__scan(s, s->history, &k, history_row, &hs);
    return hs.past_end ? 0 : rc;
}

/* The index names the row; an index entry without its row is corruption. */
static int find_history(struct storage *s,
                        MDB_txn *txn,
                        uint64_t contact,
                        struct storage_history *out)
{
    uint8_t ckey[STORAGE_ID_KEY];
    storage__key_u64(ckey, contact);
    MDB_val k = {sizeof(ckey), ckey};
    MDB_val v;
    int rc = mdb_get(txn, s->history_by_contact, &k, &v);
    if (rc != 0) {
        return storage__read_code(rc);
    }
    if (v.mv_size != STORAGE_HISTORY_KEY ||
        memcmp((const uint8_t *)v.mv_data + STORAGE_ID_KEY, ckey, sizeof(ckey)) != 0) {
        return CD_ECORRUPT;
    }
    k = v; /* valid until the end of the read transaction */
    rc = mdb_get(txn, s->history, &k, &v);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? CD_ECORRUPT : storage__read_code(rc);
    }
    rc = storage__history_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, out);
    return rc == 1 ? CD_ENOTFOUND : rc; /* a span's id names no contact */
}

int storage_get_history(struct storage *s, uint64_t contact, struct storage_history *out)
{
    MDB_txn *txn;
    int rc = storage__read_begin(s, &txn);
    if (rc != 0) {
        return storage__read_code(rc);
    }
    int code = find_history(s, txn, contact, out);
    out->transcript = NULL; /* it pointed into the transaction's pages */
    mdb_txn_abort(txn);
    return code;
}

/* The transcript (or the path) of the contact's row, copied out. */
static int copy_part(struct storage *s, uint64_t contact, struct cd_buf *out, bool path)
{
    MDB_txn *txn;
    struct storage_history *row = cd_malloc(sizeof(*row));
    cd_buf_reset(out);
    if (row == NULL) {
        return CD_ENOMEM;
    }
    int rc = storage__read_begin(s, &txn);
    if (rc != 0) {
        cd_free(row);
        return storage__read_code(rc);
    }
    int code = find_history(s, txn, contact, row);
    const uint8_t *bytes = path ? row->path : row->transcript;
    size_t len = path ? row->path_len : row->transcript_len;
    if (code == 0 && len > 0) {
        cd_buf_put(out, bytes, len);
        code = out->err;
    }
    mdb_txn_abort(txn);
    cd_free(row);
    return code;
}

int storage_get_transcript(struct storage *s, uint64_t contact, struct cd_buf *out)
{
    return copy_part(s, contact, out, false);
}

int storage_get_path(struct storage *s, uint64_t contact, struct cd_buf *out)
{
    return copy_part(s, contact, out, true);
}

/* ---- scans, newest first ------------------------------------------------------------- */

struct back_scan
{
    const struct storage_history_query *q;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    struct storage_history row;
    bool span; /* the row under the cursor is an agent's span */
};

static bool same(const char *want, const char *have)
{
    return want == NULL || want[0] == 0 || strcmp(want, have) == 0;
}

static bool selected(const struct storage_history_query *q, const struct storage_history *h)
{
    if (!same(q->key, h->key)) {
        return false;
    }
    if (q->attr_key == NULL || q->attr_key[0] == 0) {
        return true;
    }
    for (uint8_t i = 0; i < h->n_attrs; i++) {
        if (strcmp(h->attrs[i].key, q->attr_key) == 0) {
            return same(q->attr_value, h->attrs[i].value);
        }
    }
    return false;
}

/* The cursor on the newest row below bound (exclusive); LMDB code. */
static int seek_below(struct back_scan *bs, const uint8_t bound[STORAGE_HISTORY_KEY])
{
    bs->k = (MDB_val){STORAGE_HISTORY_KEY, (void *)bound};
    int rc = mdb_cursor_get(bs->cur, &bs->k, &bs->v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) {
        return mdb_cursor_get(bs->cur, &bs->k, &bs->v, MDB_LAST);
    }
    return rc != 0 ? rc : mdb_cursor_get(bs->cur, &bs->k, &bs->v, MDB_PREV);
}

static int position(struct back_scan *bs)
{
    const struct storage_history_query *q = bs->q;
    uint8_t bound[STORAGE_HISTORY_KEY], mark[STORAGE_HISTORY_KEY];
    bool open_top = q->to_ms == INT64_MAX;
    if (!open_top) {
        storage__history_key(bound, q->to_ms + 1, 0);
    }
    if (q->before.contact != 0) {
        storage__history_key(mark, q->before.completed, q->before.contact);
        if (open_top || memcmp(mark, bound, sizeof(mark)) < 0) {
            memcpy(bound, mark, sizeof(bound));
            open_top = false;
        }
    }
    if (open_top) {
        return mdb_cursor_get(bs->cur, &bs->k, &bs->v, MDB_LAST);
    }
    return seek_below(bs, bound);
}

/* The row under the cursor: 0, 1 when it is older than the range, or CD_ECORRUPT. */
static int current(struct back_scan *bs)
{
    int rc = storage__history_decode(bs->k.mv_data, bs->k.mv_size, bs->v.mv_data, bs->v.mv_size,
                                     &bs->row);
    if (rc < 0) {
        return CD_ECORRUPT;
    }
    bs->span = rc == 1;
    return bs->row.completed < bs->q->from_ms ? 1 : 0;
}

static int walk_back(struct back_scan *bs,
                     int (*cb)(void *data, const struct storage_history *h),
                     void *data,
                     struct storage_history_mark *next)
{
    const struct storage_history_query *q = bs->q;
    size_t given = 0, looked = 0;
    int rc = position(bs);
    while (rc == 0) {
        int code = current(bs);
        if (code != 0) {
            return code < 0 ? code : 0;
        }
        looked++;
        if (!bs->span && selected(q, &bs->row)) {
            given++;
            code = cb != NULL ? cb(data, &bs->row) : 0;
            if (code != 0) {
                return code;
            }
        }
        if ((q->limit > 0 && given == q->limit) || (q->scan_max > 0 && looked == q->scan_max)) {
            struct storage_history_mark last = {bs->row.completed, bs->row.contact};
            rc = mdb_cursor_get(bs->cur, &bs->k, &bs->v, MDB_PREV);
            if (rc == 0 && current(bs) == 0) {
                *next = last;
            }
            break;
        }
        rc = mdb_cursor_get(bs->cur, &bs->k, &bs->v, MDB_PREV);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : storage__read_code(rc);
}

int storage_history_scan(struct storage *s,
                         const struct storage_history_query *q,
                         int (*cb)(void *data, const struct storage_history *h),
                         void *data,
                         struct storage_history_mark *next)
{
    struct back_scan *bs = cd_calloc(1, sizeof(*bs));
    *next = (struct storage_history_mark){0, 0};
    if (bs == NULL) {
        return CD_ENOMEM;
    }
    bs->q = q;
    int code = 0;
    int rc = q->from_ms > q->to_ms ? MDB_NOTFOUND : storage__read_begin(s, &bs->txn);
    if (rc == 0) {
        rc = mdb_cursor_open(bs->txn, s->history, &bs->cur);
        if (rc == 0) {
            code = walk_back(bs, cb, data, next);
            mdb_cursor_close(bs->cur);
        }
        mdb_txn_abort(bs->txn);
    }
    cd_free(bs);
    return rc == MDB_NOTFOUND ? 0 : rc != 0 ? storage__read_code(rc) : code;
}
