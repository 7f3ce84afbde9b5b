/* Filling a history gap from a member that has the rows: one side exports pages of rows
 * in a time range, the other imports those that the gap's entries wrote.
 *
 * A page: u8 version (2), uvar n, n × (16-byte history key, uvar length, row value), u8
 * more (1 when rows remain after the last one). The row values are the stored ones, byte
 * for byte, so the digest (storage_stats().history_digest) comes out the same as on the
 * member that wrote them. Version 2 pages may hold rows of format 3 (with the contact's key,
 * attributes, wrap-up and transcript), which a member that reads only version 1 pages could
 * not decode: it refuses the page as a whole rather than a row in the middle of it. Pages of
 * version 1 are still imported. */
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"

#define PAGE_V1 1
#define PAGE_V2 2

size_t storage_gaps_pending(struct storage *s, struct storage_gap *out, size_t max)
{
    for (size_t i = 0; i < s->gaps.n_pending && i < max; i++) {
        out[i] = s->gaps.pending[i];
    }
    return s->gaps.n_pending;
}

/* ---- export ---------------------------------------------------------------------------- */

struct export
{
    struct cd_buf *out;
    uint8_t end[STORAGE_HISTORY_KEY]; /* first key past the range */
    const struct storage_history_cursor *after;
    size_t max_bytes;
    size_t n;
    size_t n_at; /* where the count goes, patched at the end */
    bool more;
};

static int export_row(void *ctx, const MDB_val *k, const MDB_val *v)
{
    struct export *ex = ctx;
    if (k->mv_size != STORAGE_HISTORY_KEY) {
        return CD_ECORRUPT;
    }
    if (memcmp(k->mv_data, ex->end, STORAGE_HISTORY_KEY) >= 0) {
        return 1;
    }
    if (ex->after->set && memcmp(k->mv_data, ex->after->key, STORAGE_HISTORY_KEY) <= 0) {
        return 0; /* the cursor's own row, already given */
    }
    if (ex->n > 0 && ex->out->len + k->mv_size + v->mv_size + 8 > ex->max_bytes) {
        ex->more = true;
        return 1;
    }
    cd_buf_put(ex->out, k->mv_data, k->mv_size);
    cd_buf_uvar(ex->out, v->mv_size);
    cd_buf_put(ex->out, v->mv_data, v->mv_size);
    ex->n++;
    return ex->out->err;
}

int storage_history_export(struct storage *s,
                           int64_t from_ms,
                           int64_t to_ms,
                           const struct storage_history_cursor *after,
                           size_t max_bytes,
                           struct cd_buf *out)
{
    struct export ex = {.out = out, .after = after, .max_bytes = max_bytes};
    uint8_t start[STORAGE_HISTORY_KEY];
    struct cd_buf rows;
    if (after->set) {
        memcpy(start, after->key, sizeof(start));
    } else {
        storage__history_key(start, from_ms, 0);
    }
    if (to_ms == INT64_MAX) {
        memset(ex.end, 0xff, sizeof(ex.end));
    } else {
        storage__history_key(ex.end, to_ms + 1, 0);
    }
    cd_buf_init(&rows);
    ex.out = &rows;
    MDB_val k = {sizeof(start), start};
    int rc = storage__scan(s, s->history, &k, export_row, &ex);
    if (rc < 0) {
        cd_buf_close(&rows);
        return rc;
    }
    cd_buf_reset(out);
    cd_buf_u8(out, PAGE_V2);
    cd_buf_uvar(out, ex.n);
    cd_buf_put(out, rows.data, rows.len);
    cd_buf_u8(out, ex.more);
    cd_buf_close(&rows);
    return out->err;
}

/* ---- import ---------------------------------------------------------------------------- */

struct page_row
{
    const uint8_t *key;
    MDB_val val;
    struct storage_history row;
};

/* Reads the next row of a page and checks it: decodable, within the gap's times. */
static int next_row(struct cd_reader *r, const struct storage_gap *gap, struct page_row *out)
{
    out->key = cd_rd_bytes(r, STORAGE_HISTORY_KEY);
    uint64_t len = cd_rd_uvar(r);
    const uint8_t *val = len <= cd_rd_left(r) ? cd_rd_bytes(r, (size_t)len) : NULL;
    if (r->err != 0 || out->key == NULL || val == NULL) {
        return CD_ECORRUPT;
    }
    out->val = (MDB_val){(size_t)len, (void *)val};
    if (storage__history_decode(out->key, STORAGE_HISTORY_KEY, val, (size_t)len, &out->row) <
        0) {
        return CD_ECORRUPT;
    }
    if (out->row.completed < gap->from_ms || out->row.completed > gap->to_ms) {
        return CD_ECORRUPT;
    }
    return 0;
}

/* The index of the entry that wrote the contact's row here, 0 when there is none. */
static int local_index(struct storage *s, MDB_txn *txn, uint64_t contact, uint64_t *index)
{
    uint8_t ckey[STORAGE_ID_KEY];
    struct storage_history row;
    MDB_val k = {sizeof(ckey), ckey}, v;
    storage__key_u64(ckey, contact);
    *index = 0;
    int rc = mdb_get(txn, s->history_by_contact, &k, &v);
    if (rc == 0) {
        k = v;
        rc = mdb_get(txn, s->history, &k, &v);
    }
    if (rc == 0 &&
        storage__history_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, &row) >= 0) {
        *index = row.index;
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Puts the row unless it is not the gap's to fill or a later one of its contact is here. */
static int merge_row(struct storage *s,
                     MDB_txn *txn,
                     struct storage__hsum *hs,
                     const struct storage_gap *gap,
                     const struct page_row *pr)
{
    uint64_t have;
    if (pr->row.index <= gap->first || pr->row.index > gap->last) {
        return 0; /* written here already, or to be written here by the log */
    }
    int rc = local_index(s, txn, pr->row.contact, &have);
    if (rc == 0 && have < pr->row.index) {
        rc = storage__history_put_raw(txn, s, hs, pr->key, &pr->val);
    }
    return rc != 0 ? storage__write_code(rc) : 0;
}

int storage__gap_pending_at(const struct storage *s, const struct storage_gap *gap)
{
    for (uint32_t i = 0; i < s->gaps.n_pending; i++) {
        if (memcmp(&s->gaps.pending[i], gap, sizeof(*gap)) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Merges every row of the page; the rest of the page (n, more) is checked first so that a
 * malformed page writes nothing. */
static int merge_page(struct storage *s,
                      MDB_txn *txn,
                      struct storage__hsum *hs,
                      const struct storage_gap *gap,
                      struct cd_reader *r,
                      struct storage_history_cursor *next,
                      bool *more)
{
    uint64_t n = cd_rd_uvar(r);
    struct page_row pr;
    int rc = 0;
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        rc = next_row(r, gap, &pr);
        if (rc == 0) {
            rc = merge_row(s, txn, hs, gap, &pr);
            memcpy(next->key, pr.key, STORAGE_HISTORY_KEY);
            next->set = true;
        }
    }
    uint8_t flag = cd_rd_u8(r);
    if (rc == 0 && (r->err != 0 || cd_rd_left(r) != 0 || flag > 1)) {
        rc = CD_ECORRUPT;
    }
    *more = flag == 1;
    return rc;
}

int storage_history_import(struct storage *s,
                           const struct storage_gap *gap,
                           const void *page,
                           size_t len,
                           struct storage_history_cursor *next,
                           bool *done,
                           char *errmsg,
                           size_t errlen)
{
    struct cd_reader r;
    struct storage__hsum hs = s->hsum;
    struct storage__gaps gaps = s->gaps;
    struct storage_history_cursor cursor = *next;
    MDB_txn *txn;
    bool more = false;
    int at = storage__gap_pending_at(s, gap);
    if (s->batch_open || at < 0) {
        storage__errf(errmsg, errlen, "fill history gap (%llu, %llu] in '%s': %s",
                      (unsigned long long)gap->first, (unsigned long long)gap->last, s->dir,
                      at < 0 ? "not pending" : "a batch is open");
        return CD_ESTATE;
    }
    cd_reader_init(&r, page, len);
    uint8_t version = cd_rd_u8(&r);
    int rc = version == PAGE_V1 || version == PAGE_V2 ? 0 : CD_ECORRUPT;
    int lrc = rc == 0 ? mdb_txn_begin(s->env, NULL, 0, &txn) : 0;
    if (lrc != 0) {
        rc = storage__write_code(lrc);
    }
    if (rc == 0) {
        rc = merge_page(s, txn, &hs, gap, &r, &cursor, &more);
        if (rc == 0 && !more) {
            memmove(&gaps.pending[at], &gaps.pending[at + 1],
                    (gaps.n_pending - (uint32_t)at - 1) * sizeof(gaps.pending[0]));
            gaps.n_pending--;
            lrc = storage__meta_put_gaps(s, txn, &gaps);
        }
        lrc = lrc ? lrc : storage__meta_put_hsum(s, txn, &hs);
        rc = rc ? rc : (lrc ? storage__write_code(lrc) : 0);
        if (rc != 0) {
            mdb_txn_abort(txn);
        } else if ((lrc = mdb_txn_commit(txn)) != 0) {
            rc = storage__write_code(lrc);
        }
    }
    if (rc != 0) {
        storage__errf(errmsg, errlen, "fill history gap (%llu, %llu] in '%s': %s",
                      (unsigned long long)gap->first, (unsigned long long)gap->last, s->dir,
                      rc == CD_ECORRUPT ? "malformed page" : cd_strerror(rc));
        return rc;
    }
    s->hsum = hs;
    s->gaps = gaps;
    *next = cursor;
    *done = !more;
    return 0;
}
