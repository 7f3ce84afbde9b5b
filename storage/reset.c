/* Snapshot install: every state record replaced by the engine's, in one write transaction,
 * so that the records jump from one applied index to another with nothing in between. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "storage/internal.h"

struct reset
{
    struct storage *s;
    MDB_txn *txn;
    int code;
    char why[STORAGE_ERRMSG / 2];
};

static int reset_fail(struct reset *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reset_fail(struct reset *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
    r->code = code;
    return code;
}

static int put_record(struct reset *r, MDB_dbi dbi, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};
    MDB_val v = {r->s->buf.len, r->s->buf.data};
    return mdb_put(r->txn, dbi, &k, &v, 0);
}

static int put_contact(void *data, const struct engine_contact_info *c)
{
    struct reset *r = data;
    const char *why;
    uint8_t key[STORAGE_ID_KEY];
    int rc = storage__contact_encode(c, &r->s->buf, &why);
    if (rc != 0) {
        return reset_fail(r, rc, "contact %llu: %s", (unsigned long long)c->id, why);
    }
    storage__key_u64(key, c->id);
    rc = put_record(r, r->s->contacts, key, sizeof(key));
    if (rc != 0) {
        return reset_fail(r, storage__write_code(rc), "contact %llu: %s",
                          (unsigned long long)c->id, mdb_strerror(rc));
    }
    return 0;
}

/* Agents are listed by position; a deleted agent keeps its position but has no record. */
static int put_agents(struct reset *r, const struct engine *e)
{
    const char *name;
    for (size_t i = 0; (name = engine_agent_name(e, i)) != NULL; i++) {
        struct engine_agent_info a;
        const char *why;
        if (engine_agent_get(e, name, &a) != 0) {
            continue;
        }
        int rc = storage__agent_encode(&a, &r->s->buf, &why);
        if (rc != 0) {
            return reset_fail(r, rc, "agent '%.*s': %s", ENGINE_NAME_MAX, name, why);
        }
        rc = put_record(r, r->s->agents, a.name, strlen(a.name));
        if (rc != 0) {
            return reset_fail(r, storage__write_code(rc), "agent '%s': %s", name,
                              mdb_strerror(rc));
        }
    }
    return 0;
}

static int write_records(struct reset *r, const struct engine *e)
{
    int rc = mdb_drop(r->txn, r->s->contacts, 0);
    rc = rc ? rc : mdb_drop(r->txn, r->s->agents, 0);
    if (rc != 0) {
        return reset_fail(r, storage__write_code(rc), "drop records: %s", mdb_strerror(rc));
    }
    rc = engine_contacts_foreach(e, put_contact, r);
    if (rc != 0 && r->code == 0) {
        return reset_fail(r, rc, "list contacts: %s", cd_strerror(rc));
    }
    return rc ? rc : put_agents(r, e);
}

/* The completed time of the newest row held here: rows the gap's entries wrote completed at
 * or after it (the replicated clock never runs backwards). INT64_MIN when there is none. */
static int64_t newest_row(struct reset *r)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int64_t completed = INT64_MIN;
    uint64_t contact;
    if (mdb_cursor_open(r->txn, r->s->history, &cur) != 0) {
        return INT64_MIN;
    }
    if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == STORAGE_HISTORY_KEY) {
        storage__history_key_read(k.mv_data, &completed, &contact);
    }
    mdb_cursor_close(cur);
    return completed;
}

/* A new gap is pending until filled; past the limit it widens the newest one. */
static void add_pending(struct storage__gaps *g, const struct storage_gap *gap)
{
    if (g->n_pending < STORAGE_GAPS_PENDING_MAX) {
        g->pending[g->n_pending++] = *gap;
        return;
    }
    struct storage_gap *last = &g->pending[g->n_pending - 1];
    last->last = gap->last;
    last->from_ms = last->from_ms < gap->from_ms ? last->from_ms : gap->from_ms;
    last->to_ms = last->to_ms > gap->to_ms ? last->to_ms : gap->to_ms;
}

/* History is not in a snapshot: entries between the applied index and the snapshot's never
 * produced rows here, so the range is recorded, for reports to admit and for the cluster to
 * fill from a peer. */
static int write_meta(struct reset *r, uint64_t index, int64_t to_ms, struct storage__gaps *g)
{
    struct storage *s = r->s;
    *g = s->gaps;
    if (index > s->applied + 1) {
        struct storage_gap gap = {s->applied, index, newest_row(r), to_ms};
        g->count = g->count < UINT32_MAX ? g->count + 1 : UINT32_MAX;
        g->first = s->applied;
        g->last = index;
        add_pending(g, &gap);
    }
    int rc = storage__meta_put_applied(s, r->txn, index);
    rc = rc ? rc : storage__meta_put_gaps(s, r->txn, g);
    rc = rc ? rc : mdb_txn_commit(r->txn);
    r->txn = NULL; /* a commit frees it either way */
    if (rc != 0) {
        return reset_fail(r, storage__write_code(rc), "%s", mdb_strerror(rc));
    }
    return 0;
}

int storage_reset(struct storage *s,
                  uint64_t index,
                  const struct engine *e,
                  char *errmsg,
                  size_t errlen)
{
    struct reset r = {s, NULL, 0, ""};
    struct storage__gaps gaps;
    if (s->batch_open) {
        storage__errf(errmsg, errlen,
                      "reset to index %llu in '%s': the batch at index %llu is open",
                      (unsigned long long)index, s->dir, (unsigned long long)s->batch.index);
        return CD_ESTATE;
    }
    int rc = mdb_txn_begin(s->env, NULL, 0, &r.txn);
    if (rc != 0) {
        reset_fail(&r, storage__write_code(rc), "%s", mdb_strerror(rc));
        goto err_report;
    }
    if (write_records(&r, e) != 0) {
        goto err_abort_txn;
    }
    if (write_meta(&r, index, engine_now(e), &gaps) != 0) {
        goto err_abort_txn;
    }
    s->applied = index;
    s->gaps = gaps;
    return 0;

err_abort_txn:
    if (r.txn != NULL) {
        mdb_txn_abort(r.txn);
    }
err_report:
    storage__errf(errmsg, errlen, "reset to index %llu in '%s': %s", (unsigned long long)index,
                  s->dir, r.why);
    return r.code;
}
