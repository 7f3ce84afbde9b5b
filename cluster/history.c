/* Filling history gaps from a peer. History and the audit are node-local (rows written as
 * each entry applies, not part of a Raft snapshot, which would otherwise carry months of
 * rows); a node that catches up by installing a snapshot therefore lacks the rows of the
 * entries it skipped. storage records each such gap as pending; this file copies the rows
 * from another member, page by page, until none is pending, so that every node answers the
 * same for every contact and every audit query, and the digests agree.
 *
 * A gap's audit rows come first (CLUSTER_FWD_AUDIT: the gap's index range and a cursor;
 * storage_audit_export), then its history rows (CLUSTER_FWD_HISTORY: the gap's last index,
 * its time range and a cursor; storage_history_export), whose last page ends the gap. The
 * member asked must have applied the gap's last index; one whose own gap overlaps what is
 * asked refuses, and the next member is asked. Pages are imported one write transaction
 * each, between entries. A restart in the middle starts the gap's audit rows again, which
 * the import takes once. */
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "common/error.h"

#define PAGE_BYTES (256 * 1024)
#define RETRY_MS 1000

static void send_page(struct cluster *c);

static void retry_fire(uv_timer_t *t)
{
    cluster__wake(t->data);
}

static void retry_later(struct cluster *c)
{
    c->backfill.busy = false;
    c->backfill.turn++;
    if (!c->closing) {
        uv_timer_start(&c->backfill.timer, retry_fire, RETRY_MS, 0);
    }
}

static void page_done(struct cluster *c, void *owner, int status, const void *reply, size_t len)
{
    struct cluster__backfill *bf = &c->backfill;
    char err[256];
    bool done = false;
    (void)owner;
    if (status == CLUSTER__ABANDONED || c->closing || c->failed) {
        bf->busy = false;
        return;
    }
    int rv = status;
    if (rv == 0 && !bf->audit_done) {
        rv = storage_audit_import(c->storage, &bf->gap, reply, len, &bf->audit_cursor, &done,
                                  err, sizeof(err));
    } else if (rv == 0) {
        rv = storage_history_import(c->storage, &bf->gap, reply, len, &bf->cursor, &done, err,
                                    sizeof(err));
    }
    if (rv != 0) {
        bf->failures++;
        retry_later(c);
        return;
    }
    bf->pages++;
    if (done && !bf->audit_done) {
        bf->audit_done = true; /* on to the history rows */
    } else if (done) {
        bf->busy = false;
        bf->filled++;
        cluster__wake(c); /* the next gap, if any, on the next turn */
        return;
    }
    send_page(c);
}

/* The member asked in this turn: each other member in turn, the configuration's order. */
static raft_id pick_member(struct cluster *c, char *peer, size_t len)
{
    const struct raft_configuration *conf = &c->raft.configuration;
    unsigned others = conf->n > 0 ? conf->n - 1 : 0;
    for (unsigned k = 0; others > 0 && k < conf->n; k++) {
        const struct raft_server *s = &conf->servers[(c->backfill.turn + k) % conf->n];
        if (s->id != c->id && cluster__member_peer(c, s->id, peer, len) != NULL) {
            return s->id;
        }
    }
    return 0;
}

static void send_page(struct cluster *c)
{
    struct cluster__backfill *bf = &c->backfill;
    char peer[CONFIG_HOST_MAX + 8];
    struct cd_buf b;
    raft_id to = pick_member(c, peer, sizeof(peer));
    if (to == 0) {
        retry_later(c);
        return;
    }
    cd_buf_init(&b);
    if (!bf->audit_done) {
        cd_buf_uvar(&b, bf->gap.first);
        cd_buf_uvar(&b, bf->gap.last);
        cd_buf_uvar(&b, bf->audit_cursor.index);
        cd_buf_uvar(&b, bf->audit_cursor.n);
    } else {
        cd_buf_uvar(&b, bf->gap.last);
        cd_buf_svar(&b, bf->gap.from_ms);
        cd_buf_svar(&b, bf->gap.to_ms);
        cd_buf_u8(&b, bf->cursor.set);
        if (bf->cursor.set) {
            cd_buf_put(&b, bf->cursor.key, sizeof(bf->cursor.key));
        }
    }
    bf->busy = true;
    enum cluster_forward_kind kind = bf->audit_done ? CLUSTER_FWD_HISTORY : CLUSTER_FWD_AUDIT;
    if (b.err != 0 || cluster__peer_send(c, to, peer, kind, b.data, b.len, page_done, NULL)) {
        retry_later(c);
    }
    cd_buf_close(&b);
}

void cluster__backfill_run(struct cluster *c)
{
    struct cluster__backfill *bf = &c->backfill;
    struct storage_gap gap;
    if (bf->busy || c->closing || c->failed || !c->raft_started ||
        uv_is_active((uv_handle_t *)&bf->timer) ||
        storage_gaps_pending(c->storage, &gap, 1) == 0) {
        return;
    }
    if (gap.first != bf->gap.first || gap.last != bf->gap.last) {
        bf->gap = gap;
        bf->audit_done = false;
        bf->audit_cursor = (struct storage_audit_id){0, 0};
        bf->cursor = (struct storage_history_cursor){.set = false};
    }
    send_page(c);
}

/* ---- Serving a member's request -----------------------------------------------------------
 */

/* Whether this node's own history may lack rows completed in [from, to]. */
static bool incomplete(struct cluster *c, int64_t from, int64_t to)
{
    struct storage_gap gaps[STORAGE_GAPS_PENDING_MAX];
    size_t n = storage_gaps_pending(c->storage, gaps, STORAGE_GAPS_PENDING_MAX);
    for (size_t i = 0; i < n && i < STORAGE_GAPS_PENDING_MAX; i++) {
        if (gaps[i].from_ms <= to && from <= gaps[i].to_ms) {
            return true;
        }
    }
    return false;
}

int cluster__history_serve(struct cluster *c, const void *body, size_t len, struct cd_buf *out)
{
    struct cd_reader r;
    struct storage_history_cursor after = {.set = false};
    cd_reader_init(&r, body, len);
    uint64_t last = cd_rd_uvar(&r);
    int64_t from = cd_rd_svar(&r);
    int64_t to = cd_rd_svar(&r);
    after.set = cd_rd_u8(&r) != 0;
    const uint8_t *key = after.set ? cd_rd_bytes(&r, sizeof(after.key)) : NULL;
    if (r.err != 0 || cd_rd_left(&r) != 0 || from > to) {
        return CD_EINVAL;
    }
    if (key != NULL) {
        memcpy(after.key, key, sizeof(after.key));
    }
    if (raft_last_applied(&c->raft) < last || incomplete(c, from, to)) {
        return CD_EUNAVAIL;
    }
    return storage_history_export(c->storage, from, to, &after, PAGE_BYTES, out);
}

/* Whether this node's own audit may lack rows of entries (first, last]. */
static bool audit_incomplete(struct cluster *c, uint64_t first, uint64_t last)
{
    struct storage_gap gaps[STORAGE_GAPS_PENDING_MAX];
    size_t n = storage_gaps_pending(c->storage, gaps, STORAGE_GAPS_PENDING_MAX);
    for (size_t i = 0; i < n && i < STORAGE_GAPS_PENDING_MAX; i++) {
        if (gaps[i].first < last && first < gaps[i].last) {
            return true;
        }
    }
    return false;
}

int cluster__audit_serve(struct cluster *c, const void *body, size_t len, struct cd_buf *out)
{
    struct cd_reader r;
    struct storage_audit_id after;
    cd_reader_init(&r, body, len);
    uint64_t first = cd_rd_uvar(&r);
    uint64_t last = cd_rd_uvar(&r);
    after.index = cd_rd_uvar(&r);
    after.n = (uint32_t)cd_rd_uint(&r, UINT32_MAX);
    if (r.err != 0 || cd_rd_left(&r) != 0 || first >= last) {
        return CD_EINVAL;
    }
    if (raft_last_applied(&c->raft) < last || audit_incomplete(c, first, last)) {
        return CD_EUNAVAIL;
    }
    return storage_audit_export(c->storage, first, last, &after, PAGE_BYTES, out);
}
