/* The effect bus's part of a node's storage: the outbox (each applied entry's effects, in
 * the entry's own batch, so an effect is kept exactly when its entry's records are) and
 * the subscribers' cursors (how far each one has acted).
 *
 *   effects  key: entry index (8 bytes big-endian)   value: the entry's effects, as the
 *            bus encoded them (opaque here)
 *   cursors  key: subscriber name                    value: u8 version, index u64, n u32 */
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"

#define CURSOR_V1 1

int storage_put_effects(struct storage_batch *b, const void *data, size_t len)
{
    uint8_t key[STORAGE_ID_KEY];
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    storage__key_u64(key, b->index);
    MDB_val k = {sizeof(key), key}, v = {len, (void *)data};
    rc = mdb_put(b->txn, b->s->effects, &k, &v, 0);
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "put effects: %s",
                                   mdb_strerror(rc));
    }
    return 0;
}

int storage_trim_effects(struct storage_batch *b, uint64_t below)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    rc = mdb_cursor_open(b->txn, b->s->effects, &cur);
    for (int n = 0; rc == 0 && n < STORAGE_TRIM_PER_BATCH; n++) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc != 0 || k.mv_size != STORAGE_ID_KEY ||
            storage__key_u64_read(k.mv_data) >= below) {
            break;
        }
        rc = mdb_cursor_del(cur, 0);
    }
    if (rc == 0 || rc == MDB_NOTFOUND) {
        mdb_cursor_close(cur);
        return 0;
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    return storage__batch_fail(b, storage__write_code(rc), "trim effects: %s",
                               mdb_strerror(rc));
}

struct effects_scan
{
    int (*cb)(void *data, uint64_t index, const void *bytes, size_t len);
    void *data;
};

static int effects_row(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct effects_scan *e = ctx;
    if (key->mv_size != STORAGE_ID_KEY) {
        return CD_ECORRUPT;
    }
    return e->cb(e->data, storage__key_u64_read(key->mv_data), val->mv_data, val->mv_size);
}

int storage_foreach_effects(
    struct storage *s,
    uint64_t from,
    int (*cb)(void *data, uint64_t index, const void *bytes, size_t len),
    void *data)
{
    uint8_t key[STORAGE_ID_KEY];
    struct effects_scan e = {cb, data};
    storage__key_u64(key, from);
    MDB_val start = {sizeof(key), key};
    return storage__scan(s, s->effects, &start, effects_row, &e);
}

static int first_row(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void)val;
    if (key->mv_size != STORAGE_ID_KEY) {
        return CD_ECORRUPT;
    }
    *(uint64_t *)ctx = storage__key_u64_read(key->mv_data);
    return 1; /* the first is enough */
}

uint64_t storage_effects_first(struct storage *s)
{
    uint64_t first = 0;
    return storage__scan(s, s->effects, NULL, first_row, &first) == 1 ? first : 0;
}

uint64_t storage_gap_last(const struct storage *s)
{
    return s->gaps.count > 0 ? s->gaps.last : 0;
}

/* ---- Cursors ----------------------------------------------------------------------------- */

static bool cursor_name_ok(const char *name)
{
    return name != NULL && name[0] != 0 && strlen(name) < ENGINE_NAME_MAX;
}

struct cursor_read
{
    uint64_t index;
    uint32_t n;
};

static int cursor_row(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct cursor_read *c = ctx;
    struct cd_reader r;
    (void)key;
    cd_reader_init(&r, val->mv_data, val->mv_size);
    if (cd_rd_u8(&r) != CURSOR_V1) {
        return CD_ECORRUPT;
    }
    c->index = cd_rd_u64(&r);
    c->n = cd_rd_u32(&r);
    return r.err != 0 || cd_rd_left(&r) != 0 ? CD_ECORRUPT : 0;
}

int storage_get_cursor(struct storage *s, const char *name, uint64_t *index, uint32_t *n)
{
    struct cursor_read c = {0, 0};
    if (!cursor_name_ok(name)) {
        return CD_EINVAL;
    }
    MDB_val k = {strlen(name), (void *)name};
    int rc = storage__get(s, s->cursors, k, cursor_row, &c);
    if (rc == 0) {
        *index = c.index;
        *n = c.n;
    }
    return rc;
}

int storage_put_cursor(struct storage *s,
                       const char *name,
                       uint64_t index,
                       uint32_t n,
                       char *errmsg,
                       size_t errlen)
{
    struct cd_buf b;
    MDB_txn *txn;
    if (!cursor_name_ok(name)) {
        storage__errf(errmsg, errlen, "put cursor: name empty or too long");
        return CD_EINVAL;
    }
    if (s->batch_open) {
        storage__errf(errmsg, errlen, "put cursor '%s': a batch is open", name);
        return CD_ESTATE;
    }
    cd_buf_init(&b);
    cd_buf_u8(&b, CURSOR_V1);
    cd_buf_u64(&b, index);
    cd_buf_u32(&b, n);
    if (b.err != 0) {
        cd_buf_close(&b);
        storage__errf(errmsg, errlen, "put cursor '%s': out of memory", name);
        return CD_ENOMEM;
    }
    MDB_val k = {strlen(name), (void *)name}, v = {b.len, b.data};
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc == 0) {
        rc = mdb_put(txn, s->cursors, &k, &v, 0);
        if (rc == 0) {
            rc = mdb_txn_commit(txn);
        } else {
            mdb_txn_abort(txn);
        }
    }
    cd_buf_close(&b);
    if (rc != 0) {
        storage__errf(errmsg, errlen, "put cursor '%s' in '%s': %s", name, s->dir,
                      mdb_strerror(rc));
        return storage__write_code(rc);
    }
    return 0;
}
