/* One apply batch: one LMDB write transaction that ends by writing the applied index, so
 * that records and index reach the disk together or not at all. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"

int storage_batch_begin(struct storage *s,
                        uint64_t index,
                        struct storage_batch **out,
                        char *errmsg,
                        size_t errlen)
{
    if (s->batch_open) {
        storage__errf(errmsg, errlen,
                      "begin batch at index %llu in '%s': the batch at index %llu is open",
                      (unsigned long long)index, s->dir, (unsigned long long)s->batch.index);
        return CD_ESTATE;
    }
    if (index <= s->applied) {
        storage__errf(errmsg, errlen,
                      "begin batch at index %llu in '%s': not above the applied index %llu",
                      (unsigned long long)index, s->dir, (unsigned long long)s->applied);
        return CD_EINVAL;
    }
    struct storage_batch *b = &s->batch;
    memset(b, 0, sizeof(*b));
    b->s = s;
    b->index = index;
    b->hsum = s->hsum;
    b->asum = s->asum;
    int rc = mdb_txn_begin(s->env, NULL, 0, &b->txn);
    if (rc != 0) {
        storage__errf(errmsg, errlen, "begin batch at index %llu in '%s': %s",
                      (unsigned long long)index, s->dir, mdb_strerror(rc));
        return storage__write_code(rc);
    }
    s->batch_open = true;
    *out = b;
    return 0;
}

int storage__batch_fail(struct storage_batch *b, int code, const char *fmt, ...)
{
    va_list ap;
    if (b->err != 0) {
        return b->err;
    }
    b->err = code;
    int n = snprintf(b->errmsg, sizeof(b->errmsg),
                     "write batch at index %llu in '%s': ", (unsigned long long)b->index,
                     b->s->dir);
    if (n > 0 && (size_t)n < sizeof(b->errmsg)) {
        va_start(ap, fmt);
        vsnprintf(b->errmsg + n, sizeof(b->errmsg) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Every write starts here: a failed batch does nothing more. */
int storage__batch_usable(const struct storage_batch *b)
{
    assert(b->s->batch_open && b == &b->s->batch);
    return b->err;
}

static int put(struct storage_batch *b, MDB_dbi dbi, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};
    MDB_val v = {b->s->buf.len, b->s->buf.data};
    return mdb_put(b->txn, dbi, &k, &v, 0);
}

/* Deleting what is not there is not an error: replay may delete twice. */
static int del(struct storage_batch *b, MDB_dbi dbi, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};
    int rc = mdb_del(b->txn, dbi, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int storage_put_contact(struct storage_batch *b, const struct engine_contact_info *c)
{
    const char *why;
    uint8_t key[STORAGE_ID_KEY];
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    rc = storage__contact_encode(c, &b->s->buf, &why);
    if (rc != 0) {
        return storage__batch_fail(b, rc, "put contact %llu: %s", (unsigned long long)c->id,
                                   why);
    }
    storage__key_u64(key, c->id);
    rc = put(b, b->s->contacts, key, sizeof(key));
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "put contact %llu: %s",
                                   (unsigned long long)c->id, mdb_strerror(rc));
    }
    return 0;
}

int storage_del_contact(struct storage_batch *b, uint64_t id)
{
    uint8_t key[STORAGE_ID_KEY];
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    storage__key_u64(key, id);
    rc = del(b, b->s->contacts, key, sizeof(key));
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "delete contact %llu: %s",
                                   (unsigned long long)id, mdb_strerror(rc));
    }
    return 0;
}

int storage_put_agent(struct storage_batch *b, const struct engine_agent_info *a)
{
    const char *why;
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    rc = storage__agent_encode(a, &b->s->buf, &why);
    if (rc != 0) {
        return storage__batch_fail(b, rc, "put agent '%.*s': %s", ENGINE_NAME_MAX,
                                   a->name != NULL ? a->name : "", why);
    }
    rc = put(b, b->s->agents, a->name, strlen(a->name));
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "put agent '%s': %s", a->name,
                                   mdb_strerror(rc));
    }
    return 0;
}

int storage_del_agent(struct storage_batch *b, const char *name)
{
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    if (!storage__agent_key_ok(name)) {
        return storage__batch_fail(b, CD_EINVAL, "delete agent '%.*s': name empty or too long",
                                   ENGINE_NAME_MAX, name != NULL ? name : "");
    }
    rc = del(b, b->s->agents, name, strlen(name));
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "delete agent '%s': %s", name,
                                   mdb_strerror(rc));
    }
    return 0;
}

/* Retention (history_keep_ms) counts back from the newest row this batch wrote, not from a
 * clock: the rows' own times are all a storage knows of time, and replaying the same
 * entries then trims the same rows. */
static int trim_expired(struct storage_batch *b)
{
    int64_t keep = b->s->history_keep_ms;
    if (!b->has_history || keep == INT64_MAX || b->newest_completed < INT64_MIN + keep) {
        return 0;
    }
    int rc = storage__history_trim(b->s, b->txn, &b->hsum, b->newest_completed - keep,
                                   STORAGE_TRIM_PER_BATCH);
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "trim history: %s",
                                   mdb_strerror(rc));
    }
    return 0;
}

/* The audit's retention, the same way: from the newest audit row of this batch. */
static int trim_expired_audit(struct storage_batch *b)
{
    int64_t keep = b->s->audit_keep_ms;
    if (!b->has_audit || keep == INT64_MAX || b->newest_audit < INT64_MIN + keep) {
        return 0;
    }
    int rc = storage__audit_trim(b->s, b->txn, &b->asum, b->newest_audit - keep,
                                 STORAGE_TRIM_PER_BATCH);
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "trim audit: %s",
                                   mdb_strerror(rc));
    }
    return 0;
}

static int finish(struct storage_batch *b)
{
    int rc = storage__meta_put_applied(b->s, b->txn, b->index);
    if (rc == 0 && b->has_history) {
        rc = storage__meta_put_hsum(b->s, b->txn, &b->hsum);
    }
    if (rc == 0 && memcmp(&b->asum, &b->s->asum, sizeof(b->asum)) != 0) {
        rc = storage__meta_put_asum(b->s, b->txn, &b->asum);
    }
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "put applied index: %s",
                                   mdb_strerror(rc));
    }
    rc = mdb_txn_commit(b->txn);
    b->txn = NULL; /* freed by LMDB whether the commit worked or not */
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "commit: %s", mdb_strerror(rc));
    }
    return 0;
}

int storage_batch_commit(struct storage_batch *b, char *errmsg, size_t errlen)
{
    struct storage *s = b->s;
    int rc = storage__batch_usable(b);
    rc = rc ? rc : trim_expired(b);
    rc = rc ? rc : trim_expired_audit(b);
    rc = rc ? rc : finish(b);
    if (rc != 0) {
        if (b->txn != NULL) {
            mdb_txn_abort(b->txn);
        }
        storage__errf(errmsg, errlen, "%s", b->errmsg);
    } else {
        s->applied = b->index;
        s->hsum = b->hsum;
        s->asum = b->asum;
    }
    b->txn = NULL;
    s->batch_open = false;
    return rc;
}

void storage_batch_abort(struct storage_batch *b)
{
    if (b == NULL) {
        return;
    }
    assert(b->s->batch_open && b == &b->s->batch);
    mdb_txn_abort(b->txn);
    b->txn = NULL;
    b->s->batch_open = false;
}
