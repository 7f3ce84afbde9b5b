/* Filling a gap's audit rows from a member that has them: rows go by entry index, which the
 * gap names exactly, through the id table (an id's key is its entry index first).
 *
 * A page: u8 version (1), uvar n, n × (20-byte audit key, uvar length, row value), u8 more
 * (1 when rows of the range remain after the last one). Keys and values are the stored
 * ones, byte for byte, so the audit digest comes out the same as on the member that wrote
 * them. */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"

#define PAGE_V1 1

/* ---- export ---------------------------------------------------------------------------- */

struct export
{
    MDB_txn *txn;
    MDB_cursor *ids;
    struct cd_buf *rows;
    uint64_t last;
    size_t max_bytes;
    size_t n;
    bool more;
};

/* Puts the id cursor on the first id after *after, or after entry first (LMDB code). */
static int export_start(struct export *ex, uint64_t first, const struct storage_audit_id *after)
{
    uint8_t ikey[STORAGE_AUDIT_ID_KEY];
    MDB_val k = {sizeof(ikey), ikey}, v;
    bool resume = after->index > first;
    struct storage_audit_id from = resume ? *after : (struct storage_audit_id){first + 1, 0};
    storage__key_u64(ikey, from.index);
    for (int i = 0; i < 4; i++) {
        ikey[STORAGE_ID_KEY + i] = (uint8_t)(from.n >> (24 - 8 * i));
    }
    int rc = mdb_cursor_get(ex->ids, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && resume && memcmp(k.mv_data, ikey, sizeof(ikey)) == 0) {
        rc = mdb_cursor_get(ex->ids, &k, &v, MDB_NEXT); /* the cursor's own row was given */
    }
    return rc;
}

/* Appends the row the id cursor is on; 1 when it is past the range or the page is full. */
static int export_row(struct export *ex, struct storage *s, const MDB_val *k, const MDB_val *v)
{
    MDB_val row, key = *v;
    if (k->mv_size != STORAGE_AUDIT_ID_KEY || v->mv_size != STORAGE_AUDIT_KEY) {
        return MDB_CORRUPTED;
    }
    if (storage__key_u64_read(k->mv_data) > ex->last) {
        return 1;
    }
    int rc = mdb_get(ex->txn, s->audit, &key, &row);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
    }
    if (ex->n > 0 && ex->rows->len + key.mv_size + row.mv_size + 8 > ex->max_bytes) {
        ex->more = true;
        return 1;
    }
    cd_buf_put(ex->rows, key.mv_data, key.mv_size);
    cd_buf_uvar(ex->rows, row.mv_size);
    cd_buf_put(ex->rows, row.mv_data, row.mv_size);
    ex->n++;
    return ex->rows->err != 0 ? ENOMEM : 0;
}

static int export_rows(struct export *ex,
                       struct storage *s,
                       uint64_t first,
                       const struct storage_audit_id *after)
{
    MDB_val k, v;
    int rc = mdb_cursor_open(ex->txn, s->audit_by_id, &ex->ids);
    if (rc != 0) {
        return rc;
    }
    rc = export_start(ex, first, after);
    while (rc == 0) {
        rc = mdb_cursor_get(ex->ids, &k, &v, MDB_GET_CURRENT);
        rc = rc ? rc : export_row(ex, s, &k, &v);
        rc = rc ? rc : mdb_cursor_get(ex->ids, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(ex->ids);
    return rc == 1 || rc == MDB_NOTFOUND ? 0 : rc;
}

int storage_audit_export(struct storage *s,
                         uint64_t first,
                         uint64_t last,
                         const struct storage_audit_id *after,
                         size_t max_bytes,
                         struct cd_buf *out)
{
    struct cd_buf rows;
    struct export ex = {.rows = &rows, .last = last, .max_bytes = max_bytes};
    int rc = storage__read_begin(s, &ex.txn);
    if (rc != 0) {
        return storage__read_code(rc);
    }
    cd_buf_init(&rows);
    rc = first < last ? export_rows(&ex, s, first, after) : 0;
    mdb_txn_abort(ex.txn);
    if (rc != 0) {
        cd_buf_close(&rows);
        return storage__read_code(rc);
    }
    cd_buf_reset(out);
    cd_buf_u8(out, PAGE_V1);
    cd_buf_uvar(out, ex.n);
    cd_buf_put(out, rows.data, rows.len);
    cd_buf_u8(out, ex.more);
    cd_buf_close(&rows);
    return out->err;
}

/* ---- import ---------------------------------------------------------------------------- */

/* Reads the next row of a page and checks it: decodable, written by an entry of the gap, no
 * later than the gap's time. */
static int next_row(struct cd_reader *r,
                    const struct storage_gap *gap,
                    const uint8_t **key,
                    MDB_val *val,
                    struct storage_audit *row)
{
    *key = cd_rd_bytes(r, STORAGE_AUDIT_KEY);
    uint64_t len = cd_rd_uvar(r);
    const uint8_t *bytes = len <= cd_rd_left(r) ? cd_rd_bytes(r, (size_t)len) : NULL;
    if (r->err != 0 || *key == NULL || bytes == NULL) {
        return CD_ECORRUPT;
    }
    *val = (MDB_val){(size_t)len, (void *)bytes};
    if (storage__audit_decode(*key, STORAGE_AUDIT_KEY, bytes, (size_t)len, row) != 0) {
        return CD_ECORRUPT;
    }
    if (row->id.index <= gap->first || row->id.index > gap->last || row->at > gap->to_ms) {
        return CD_ECORRUPT;
    }
    return 0;
}

static int merge_page(struct storage *s,
                      MDB_txn *txn,
                      struct storage__hsum *as,
                      const struct storage_gap *gap,
                      struct cd_reader *r,
                      struct storage_audit_id *next,
                      bool *more)
{
    uint64_t n = cd_rd_uvar(r);
    struct storage_audit row;
    const uint8_t *key;
    MDB_val val;
    int rc = 0;
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        rc = next_row(r, gap, &key, &val, &row);
        if (rc == 0) {
            int lrc = storage__audit_put_raw(txn, s, as, key, &val, true);
            rc = lrc != 0 ? storage__write_code(lrc) : 0;
            *next = row.id;
        }
    }
    uint8_t flag = cd_rd_u8(r);
    if (rc == 0 && (r->err != 0 || cd_rd_left(r) != 0 || flag > 1)) {
        rc = CD_ECORRUPT;
    }
    *more = flag == 1;
    return rc;
}

static int import_txn(struct storage *s,
                      const struct storage_gap *gap,
                      struct cd_reader *r,
                      struct storage__hsum *as,
                      struct storage_audit_id *next,
                      bool *more)
{
    MDB_txn *txn;
    int lrc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (lrc != 0) {
        return storage__write_code(lrc);
    }
    int rc = merge_page(s, txn, as, gap, r, next, more);
    lrc = rc == 0 ? storage__meta_put_asum(s, txn, as) : 0;
    rc = rc ? rc : (lrc ? storage__write_code(lrc) : 0);
    if (rc != 0) {
        mdb_txn_abort(txn);
    } else if ((lrc = mdb_txn_commit(txn)) != 0) {
        rc = storage__write_code(lrc);
    }
    return rc;
}

int storage_audit_import(struct storage *s,
                         const struct storage_gap *gap,
                         const void *page,
                         size_t len,
                         struct storage_audit_id *next,
                         bool *done,
                         char *errmsg,
                         size_t errlen)
{
    struct cd_reader r;
    struct storage__hsum as = s->asum;
    struct storage_audit_id cursor = *next;
    bool more = false;
    int at = storage__gap_pending_at(s, gap);
    if (s->batch_open || at < 0) {
        storage__errf(errmsg, errlen, "fill audit gap (%llu, %llu] in '%s': %s",
                      (unsigned long long)gap->first, (unsigned long long)gap->last, s->dir,
                      at < 0 ? "not pending" : "a batch is open");
        return CD_ESTATE;
    }
    cd_reader_init(&r, page, len);
    int rc =
        cd_rd_u8(&r) == PAGE_V1 ? import_txn(s, gap, &r, &as, &cursor, &more) : CD_ECORRUPT;
    if (rc != 0) {
        storage__errf(errmsg, errlen, "fill audit gap (%llu, %llu] in '%s': %s",
                      (unsigned long long)gap->first, (unsigned long long)gap->last, s->dir,
                      rc == CD_ECORRUPT ? "malformed page" : cd_strerror(rc));
        return rc;
    }
    s->asum = as;
    *next = cursor;
    *done = !more;
    return 0;
}
