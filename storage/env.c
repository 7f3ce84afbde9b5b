/* The LMDB environment: opening it, its named databases and the meta records (format
 * version, applied index, history gaps, the digests of history and audit). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"

#define MAX_DBS 16
#define META_FORMAT "format"
#define META_APPLIED "applied"
#define META_GAPS "gaps"
#define META_HSUM "hsum"
#define META_ASUM "asum"

void storage__errf(char *errmsg, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (errmsg == NULL || errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(errmsg, errlen, fmt, ap);
    va_end(ap);
}

int storage__write_code(int rc)
{
    return rc == ENOMEM ? CD_ENOMEM : CD_EIO;
}

int storage__read_code(int rc)
{
    switch (rc) {
        case MDB_NOTFOUND:
            return CD_ENOTFOUND;
        case ENOMEM:
            return CD_ENOMEM;
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case MDB_INVALID:
        case MDB_VERSION_MISMATCH:
        case MDB_INCOMPATIBLE:
        case MDB_BAD_VALSIZE:
            return CD_ECORRUPT;
        default:
            return CD_EIO;
    }
}

static MDB_val val_of(const void *p, size_t n)
{
    MDB_val v = {n, (void *)p};
    return v;
}

int storage__read_begin(struct storage *s, MDB_txn **txn)
{
    return mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
}

int storage__env_open(struct storage *s, uint64_t map_size, char *errmsg, size_t errlen)
{
    /* Without MDB_NOSYNC every commit is an fdatasync; see storage/README.md for why the
     * default can do without. MDB_NOTLS lets a read transaction and the write transaction of
     * a batch coexist on the loop thread. */
    unsigned flags = MDB_NOTLS | (s->sync_each_batch ? 0 : MDB_NOSYNC);
    int rc = mdb_env_create(&s->env);
    if (rc != 0) {
        s->env = NULL;
        storage__errf(errmsg, errlen, "open environment in '%s': %s", s->dir, mdb_strerror(rc));
        return storage__write_code(rc);
    }
    rc = mdb_env_set_maxdbs(s->env, MAX_DBS);
    rc = rc ? rc : mdb_env_set_mapsize(s->env, (size_t)map_size);
    rc = rc ? rc : mdb_env_open(s->env, s->dir, flags, 0600);
    if (rc != 0) {
        storage__errf(errmsg, errlen, "open environment '%s/data.mdb': %s", s->dir,
                      mdb_strerror(rc));
        mdb_env_close(s->env);
        s->env = NULL;
        return rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ? CD_ECORRUPT
                                                               : storage__write_code(rc);
    }
    /* Reader slots of a process that was killed would pin old pages forever. */
    int dead = 0;
    mdb_reader_check(s->env, &dead);
    return 0;
}

/* ---- meta records -------------------------------------------------------------------- */

static int meta_put(struct storage *s, MDB_txn *txn, const char *key)
{
    if (s->buf.err != 0) {
        return ENOMEM;
    }
    MDB_val k = val_of(key, strlen(key));
    MDB_val v = val_of(s->buf.data, s->buf.len);
    return mdb_put(txn, s->meta, &k, &v, 0);
}

int storage__meta_put_applied(struct storage *s, MDB_txn *txn, uint64_t applied)
{
    storage__applied_encode(applied, &s->buf);
    return meta_put(s, txn, META_APPLIED);
}

int storage__meta_put_gaps(struct storage *s, MDB_txn *txn, const struct storage__gaps *g)
{
    storage__gaps_encode(g, &s->buf);
    return meta_put(s, txn, META_GAPS);
}

static int sum_put(struct storage *s,
                   MDB_txn *txn,
                   const char *key,
                   const struct storage__hsum *d)
{
    cd_buf_reset(&s->buf);
    cd_buf_u8(&s->buf, STORAGE_RECORD_V1);
    cd_buf_uvar(&s->buf, d->rows);
    cd_buf_u64(&s->buf, d->sum);
    return meta_put(s, txn, key);
}

int storage__meta_put_hsum(struct storage *s, MDB_txn *txn, const struct storage__hsum *hs)
{
    return sum_put(s, txn, META_HSUM, hs);
}

int storage__meta_put_asum(struct storage *s, MDB_txn *txn, const struct storage__hsum *as)
{
    return sum_put(s, txn, META_ASUM, as);
}

/* Environments written before a digest existed have none: it is computed once. */
static int sum_compute(struct storage *s,
                       MDB_txn *txn,
                       MDB_dbi dbi,
                       const char *key,
                       struct storage__hsum *d)
{
    MDB_cursor *cur;
    MDB_val k, v;
    *d = (struct storage__hsum){0, 0};
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        storage__hsum_add(d, &k, &v);
    }
    mdb_cursor_close(cur);
    rc = rc == MDB_NOTFOUND ? 0 : rc;
    return rc ? rc : sum_put(s, txn, key, d);
}

/* Meta key (a digest of the rows of dbi) into *d. */
static int sum_load(struct storage *s,
                    MDB_txn *txn,
                    MDB_dbi dbi,
                    const char *key,
                    struct storage__hsum *d)
{
    MDB_val k = val_of(key, strlen(key)), v;
    struct cd_reader r;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return sum_compute(s, txn, dbi, key, d);
    }
    if (rc != 0) {
        return rc;
    }
    cd_reader_init(&r, v.mv_data, v.mv_size);
    if (cd_rd_u8(&r) != STORAGE_RECORD_V1) {
        return MDB_CORRUPTED;
    }
    d->rows = cd_rd_uvar(&r);
    d->sum = cd_rd_u64(&r);
    return r.err != 0 || cd_rd_left(&r) != 0 ? MDB_CORRUPTED : 0;
}

static int meta_put_format(struct storage *s, MDB_txn *txn)
{
    cd_buf_reset(&s->buf);
    cd_buf_uvar(&s->buf, STORAGE_FORMAT);
    return meta_put(s, txn, META_FORMAT);
}

static int meta_get(struct storage *s, MDB_txn *txn, const char *key, MDB_val *v)
{
    MDB_val k = val_of(key, strlen(key));
    return mdb_get(txn, s->meta, &k, v);
}

/* The format must be one this build writes: an older one would need a migration (there is
 * none yet), a newer one is unreadable here. */
static int meta_check_format(struct storage *s, MDB_txn *txn, char *errmsg, size_t errlen)
{
    MDB_val v;
    struct cd_reader r;
    int rc = meta_get(s, txn, META_FORMAT, &v);
    if (rc != 0) {
        storage__errf(errmsg, errlen, "open environment '%s/data.mdb': no format version: %s",
                      s->dir, mdb_strerror(rc));
        return rc == MDB_NOTFOUND ? CD_ECORRUPT : storage__read_code(rc);
    }
    cd_reader_init(&r, v.mv_data, v.mv_size);
    uint64_t format = cd_rd_uvar(&r);
    if (r.err != 0 || cd_rd_left(&r) != 0 || format != STORAGE_FORMAT) {
        storage__errf(
            errmsg, errlen,
            "open environment '%s/data.mdb': format version %llu, this build reads %d", s->dir,
            r.err != 0 ? 0ULL : (unsigned long long)format, STORAGE_FORMAT);
        return CD_ECORRUPT;
    }
    return 0;
}

static int meta_load(struct storage *s, MDB_txn *txn, char *errmsg, size_t errlen)
{
    MDB_val applied, gaps;
    int rc = meta_check_format(s, txn, errmsg, errlen);
    if (rc != 0) {
        return rc;
    }
    rc = meta_get(s, txn, META_APPLIED, &applied);
    rc = rc ? rc : meta_get(s, txn, META_GAPS, &gaps);
    if (rc != 0) {
        storage__errf(errmsg, errlen, "open environment '%s/data.mdb': meta record: %s", s->dir,
                      mdb_strerror(rc));
        return rc == MDB_NOTFOUND ? CD_ECORRUPT : storage__read_code(rc);
    }
    if (storage__applied_decode(applied.mv_data, applied.mv_size, &s->applied) != 0 ||
        storage__gaps_decode(gaps.mv_data, gaps.mv_size, &s->gaps) != 0) {
        storage__errf(errmsg, errlen, "open environment '%s/data.mdb': meta record is corrupt",
                      s->dir);
        return CD_ECORRUPT;
    }
    rc = sum_load(s, txn, s->history, META_HSUM, &s->hsum);
    rc = rc ? rc : sum_load(s, txn, s->audit, META_ASUM, &s->asum);
    if (rc != 0) {
        storage__errf(errmsg, errlen, "open environment '%s/data.mdb': digest: %s", s->dir,
                      mdb_strerror(rc));
        return rc == MDB_CORRUPTED ? CD_ECORRUPT : storage__read_code(rc);
    }
    return 0;
}

static int meta_create(struct storage *s, MDB_txn *txn)
{
    memset(&s->gaps, 0, sizeof(s->gaps));
    s->applied = 0;
    s->hsum = (struct storage__hsum){0, 0};
    s->asum = (struct storage__hsum){0, 0};
    int rc = meta_put_format(s, txn);
    rc = rc ? rc : storage__meta_put_applied(s, txn, 0);
    rc = rc ? rc : storage__meta_put_hsum(s, txn, &s->hsum);
    rc = rc ? rc : storage__meta_put_asum(s, txn, &s->asum);
    return rc ? rc : storage__meta_put_gaps(s, txn, &s->gaps);
}

/* ---- named databases ----------------------------------------------------------------- */

/* "meta" missing from a non-empty main database means someone else's environment: creating
 * our databases in it would mix two programs' data. */
static int open_meta(struct storage *s, MDB_txn *txn, bool *created)
{
    MDB_stat st;
    int rc = mdb_dbi_open(txn, NULL, 0, &s->main);
    rc = rc ? rc : mdb_dbi_open(txn, "meta", 0, &s->meta);
    if (rc != MDB_NOTFOUND) {
        *created = false;
        return rc;
    }
    rc = mdb_stat(txn, s->main, &st);
    if (rc != 0) {
        return rc;
    }
    if (st.ms_entries != 0) {
        return MDB_INCOMPATIBLE;
    }
    *created = true;
    return mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
}

static int open_records(struct storage *s, MDB_txn *txn, bool created)
{
    unsigned flags = created ? MDB_CREATE : 0;
    int rc = mdb_dbi_open(txn, "contacts", flags, &s->contacts);
    rc = rc ? rc : mdb_dbi_open(txn, "agents", flags, &s->agents);
    rc = rc ? rc : mdb_dbi_open(txn, "history", flags, &s->history);
    rc = rc ? rc : mdb_dbi_open(txn, "history_by_contact", flags, &s->history_by_contact);
    /* The bus's databases and the audit's came later: an environment made before them gets
     * them now. */
    rc = rc ? rc : mdb_dbi_open(txn, "effects", MDB_CREATE, &s->effects);
    rc = rc ? rc : mdb_dbi_open(txn, "cursors", MDB_CREATE, &s->cursors);
    rc = rc ? rc : mdb_dbi_open(txn, "audit", MDB_CREATE, &s->audit);
    return rc ? rc : mdb_dbi_open(txn, "audit_by_id", MDB_CREATE, &s->audit_by_id);
}

static int open_dbs(struct storage *s, MDB_txn *txn, bool *created, char *errmsg, size_t errlen)
{
    int rc = open_meta(s, txn, created);
    rc = rc ? rc : open_records(s, txn, *created);
    if (rc == MDB_INCOMPATIBLE || rc == MDB_NOTFOUND) {
        storage__errf(errmsg, errlen,
                      "open environment '%s/data.mdb': not a contactd environment", s->dir);
        return CD_ECORRUPT;
    }
    if (rc != 0) {
        storage__errf(errmsg, errlen, "open environment '%s/data.mdb': %s", s->dir,
                      mdb_strerror(rc));
        return storage__read_code(rc);
    }
    return 0;
}

int storage__env_init(struct storage *s, bool *created, char *errmsg, size_t errlen)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0) {
        storage__errf(errmsg, errlen, "open environment '%s/data.mdb': %s", s->dir,
                      mdb_strerror(rc));
        return storage__write_code(rc);
    }
    int code = open_dbs(s, txn, created, errmsg, errlen);
    if (code == 0 && !*created) {
        code = meta_load(s, txn, errmsg, errlen);
    }
    if (code != 0) {
        goto err_abort_txn;
    }
    rc = *created ? meta_create(s, txn) : 0;
    if (rc != 0) {
        goto err_abort_write;
    }
    /* Even an existing environment commits: the database handles opened here become the
     * environment's only when their transaction commits. */
    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        goto err_report_write;
    }
    return 0;

err_abort_write:
    mdb_txn_abort(txn);
err_report_write:
    storage__errf(errmsg, errlen, "create environment '%s/data.mdb': %s", s->dir,
                  mdb_strerror(rc));
    return storage__write_code(rc);
err_abort_txn:
    mdb_txn_abort(txn);
    return code;
}
