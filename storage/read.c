/* Reads of the state records and the statistics: each one short read transaction. */
#include <string.h>

#include "common/error.h"
#include "common/hash.h"
#include "storage/internal.h"

/* LMDB's own database of free pages, the one its mdb_stat tool reads as handle 0. */
#define FREE_PAGES_DBI 0
#define META_PAGES 2

int storage__scan(struct storage *s,
                  MDB_dbi dbi,
                  const MDB_val *start,
                  storage__row_fn fn,
                  void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k = {0, NULL}, v;
    int rv = 0;
    int rc = storage__read_begin(s, &txn);
    if (rc != 0) {
        return storage__read_code(rc);
    }
    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        goto err_abort_txn;
    }
    if (start != NULL) {
        k = *start;
    }
    rc = mdb_cursor_get(cur, &k, &v, start != NULL ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && rv == 0) {
        rv = fn(ctx, &k, &v);
        rc = rv == 0 ? mdb_cursor_get(cur, &k, &v, MDB_NEXT) : 0;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (rv != 0) {
        return rv;
    }
    return rc == MDB_NOTFOUND ? 0 : storage__read_code(rc);

err_abort_txn:
    mdb_txn_abort(txn);
    return storage__read_code(rc);
}

int storage__get(struct storage *s, MDB_dbi dbi, MDB_val key, storage__row_fn fn, void *ctx)
{
    MDB_txn *txn;
    MDB_val v;
    int rc = storage__read_begin(s, &txn);
    if (rc != 0) {
        return storage__read_code(rc);
    }
    rc = mdb_get(txn, dbi, &key, &v);
    int code = rc == 0 ? fn(ctx, &key, &v) : storage__read_code(rc);
    mdb_txn_abort(txn);
    return code;
}

/* ---- contacts and agents ------------------------------------------------------------- */

struct contact_scan
{
    struct storage_contact *row;
    int (*cb)(void *data, const struct storage_contact *c);
    void *data;
};

static int contact_row(void *ctx, const MDB_val *k, const MDB_val *v)
{
    struct contact_scan *cs = ctx;
    if (storage__contact_decode(k->mv_data, k->mv_size, v->mv_data, v->mv_size, cs->row) != 0) {
        return CD_ECORRUPT;
    }
    return cs->cb != NULL ? cs->cb(cs->data, cs->row) : 0;
}

struct agent_scan
{
    struct storage_agent *row;
    int (*cb)(void *data, const struct storage_agent *a);
    void *data;
};

static int agent_row(void *ctx, const MDB_val *k, const MDB_val *v)
{
    struct agent_scan *as = ctx;
    if (storage__agent_decode(k->mv_data, k->mv_size, v->mv_data, v->mv_size, as->row) != 0) {
        return CD_ECORRUPT;
    }
    return as->cb != NULL ? as->cb(as->data, as->row) : 0;
}

int storage_get_contact(struct storage *s, uint64_t id, struct storage_contact *out)
{
    uint8_t key[STORAGE_ID_KEY];
    struct contact_scan cs = {out, NULL, NULL};
    storage__key_u64(key, id);
    MDB_val k = {sizeof(key), key};
    return storage__get(s, s->contacts, k, contact_row, &cs);
}

int storage_get_agent(struct storage *s, const char *name, struct storage_agent *out)
{
    struct agent_scan as = {out, NULL, NULL};
    if (!storage__agent_key_ok(name)) {
        return CD_ENOTFOUND; /* no such name can have been stored */
    }
    MDB_val k = {strlen(name), (void *)name};
    return storage__get(s, s->agents, k, agent_row, &as);
}

int storage_foreach_contact(struct storage *s,
                            int (*cb)(void *data, const struct storage_contact *c),
                            void *data)
{
    struct storage_contact row;
    struct contact_scan cs = {&row, cb, data};
    return storage__scan(s, s->contacts, NULL, contact_row, &cs);
}

int storage_foreach_agent(struct storage *s,
                          int (*cb)(void *data, const struct storage_agent *a),
                          void *data)
{
    struct storage_agent row;
    struct agent_scan as = {&row, cb, data};
    return storage__scan(s, s->agents, NULL, agent_row, &as);
}

/* ---- statistics ---------------------------------------------------------------------- */

static int count_pages(struct storage *s, MDB_txn *txn, struct storage_stats *out)
{
    const MDB_dbi dbis[] = {FREE_PAGES_DBI,        s->main,   s->meta,
                            s->contacts,           s->agents, s->history,
                            s->history_by_contact, s->audit,  s->audit_by_id};
    uint64_t *entries[] = {NULL, NULL,        NULL, &out->contacts, &out->agents, &out->history,
                           NULL, &out->audit, NULL};
    uint64_t pages = META_PAGES, psize = 0;
    for (size_t i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
        MDB_stat st;
        int rc = mdb_stat(txn, dbis[i], &st);
        if (rc != 0) {
            return rc;
        }
        pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
        psize = st.ms_psize;
        if (entries[i] != NULL) {
            *entries[i] = st.ms_entries;
        }
    }
    out->bytes_in_use = pages * psize;
    return 0;
}

int storage_stats(struct storage *s, struct storage_stats *out)
{
    MDB_txn *txn;
    memset(out, 0, sizeof(*out));
    int rc = storage__read_begin(s, &txn);
    if (rc != 0) {
        return storage__read_code(rc);
    }
    rc = count_pages(s, txn, out);
    mdb_txn_abort(txn);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return storage__read_code(rc);
    }
    out->applied = s->applied;
    out->gaps = s->gaps.count;
    out->gap_first = s->gaps.first;
    out->gap_last = s->gaps.last;
    out->gaps_pending = s->gaps.n_pending;
    out->history_digest = s->hsum.sum ^ cd_mix64(s->hsum.rows);
    out->audit_digest = s->asum.sum ^ cd_mix64(s->asum.rows);
    return 0;
}
