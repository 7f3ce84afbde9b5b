/* storage: a node's LMDB environment.
 *
 * What it holds, per node, in one LMDB environment under the node's data directory:
 *   - the state records: one record per live contact and per agent, as the engine describes
 *     them after the last applied Raft entry (readable by reports without the engine);
 *   - the applied index: the Raft index of the last entry whose records are written, stored
 *     in the same write transaction as those records, so that replaying entries after a
 *     restart is idempotent (a batch at or below the applied index is skipped);
 *   - contact history: one row per finished contact (completed, abandoned, overflowed, ...)
 *     with its timestamps, queue, agent and outcome, kept for a retention period;
 *   - the audit: one row per AUDIT effect (who changed what, when), in time order, kept
 *     for its own retention period;
 *   - history gaps: index ranges whose history and audit rows this node never saw (it
 *     caught up by installing a snapshot), so a report can say it is incomplete;
 *   - the effect bus's outbox (the effects of each applied entry, written in that entry's
 *     batch) and its subscribers' cursors.
 *
 * The Raft log is the durable record; LMDB is written without an fsync per transaction
 * (unless sync_each_batch).
 * storage/README.md gives the reasoning: a process killed at any instant leaves LMDB
 * consistent at some applied index (its writes are in the page cache), and an operating-
 * system crash while the environment was open is detected at the next open (the boot id
 * differs) and answered by starting the records afresh, which Raft's snapshot and log replay
 * then rebuild.
 *
 * Nothing outside storage/ calls mdb_*. Not thread-safe: one loop thread owns a storage.
 * Every function that fails leaves the storage unchanged and, where it takes errmsg, writes
 * a message there naming what failed. */
#ifndef CD_STORAGE_H
#define CD_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "engine/engine.h"

struct storage;

/* A history gap: entries (first, last] whose rows this node did not write (it caught up
 * by a snapshot at last), so rows completed in [from_ms, to_ms] may be missing here until
 * they are copied from a member that has them (storage_history_export / _import). */
struct storage_gap
{
    uint64_t first, last;
    int64_t from_ms, to_ms;
};
/* Gaps kept pending at most; a further one is merged into the newest. */
#define STORAGE_GAPS_PENDING_MAX 16

struct storage_options
{
    const char *dir;         /* data directory (must exist); borrowed during open */
    uint64_t map_size;       /* LMDB map size in bytes; 0 = 4 GiB */
    int64_t history_keep_ms; /* history retention; 0 = 90 days, INT64_MAX = forever. Each
                                commit that adds history deletes (up to 1024) rows completed
                                this long before the newest row of the batch: the rows' own
                                times, no clock */
    int64_t audit_keep_ms;   /* audit retention; 0 = 365 days, INT64_MAX = forever; trimmed
                                as history is, from the newest audit row of a batch */
    const char *boot_id;     /* NULL = read /proc/sys/kernel/random/boot_id (tests set it) */
    bool sync_each_batch;    /* fdatasync on every batch commit (off by default, see above);
                                then an OS crash does not reset the records */
};

/* What open found. */
struct storage_open_info
{
    bool created;       /* the environment was new (also after reset_unclean) */
    bool reset_unclean; /* left open across an OS crash: records were started afresh */
    uint64_t applied;   /* applied index after open */
};

/* Opens (creating if needed) the environment in opt->dir: files data.mdb and lock.mdb
 * (LMDB's), storage.lock (held while open, so a second storage_open of the same directory,
 * by this process or another, fails with CD_EIO) and storage.open (the boot marker, see
 * storage/README.md). Returns 0, CD_EINVAL (no dir, negative retention, bad boot_id),
 * CD_EIO (cannot create or open, directory in use; message in errmsg), CD_ECORRUPT (not an
 * LMDB file, not a contactd environment, or a newer format) or CD_ENOMEM. *out and *info
 * (info may be NULL) are set only on success. */
int storage_open(const struct storage_options *opt,
                 struct storage **out,
                 struct storage_open_info *info,
                 char *errmsg,
                 size_t errlen);

/* Flushes to disk and closes; after a clean close the next open trusts the records even
 * across a reboot. NULL is a no-op. */
void storage_close(struct storage *s);

/* Forces the environment's writes to disk (fdatasync). Returns 0 or CD_EIO. The daemon may
 * call this on a timer to bound the dirty pages a clean close has to flush. It does not make
 * the records survive an OS crash without sync_each_batch: the boot marker cannot tell
 * which later writes reached the disk, so the next open still starts afresh. */
int storage_sync(struct storage *s, char *errmsg, size_t errlen);

/* Raft index of the last batch committed to the records (0 = none). */
uint64_t storage_applied(const struct storage *s);

/* ---- One apply batch: one write transaction --------------------------------------- */

struct storage_batch;

/* Starts the write transaction for the Raft entry at index (> storage_applied()). Returns 0,
 * CD_EINVAL (index not above the applied index), CD_ESTATE (a batch is already open: at
 * most one at a time), CD_EIO or CD_ENOMEM. The batch is owned by s until commit or abort.
 * Reads may run while a batch is open; they see the last committed batch. */
int storage_batch_begin(struct storage *s,
                        uint64_t index,
                        struct storage_batch **out,
                        char *errmsg,
                        size_t errlen);

/* Record writes inside the batch. The structs are copied (encoded); their strings are
 * borrowed only during the call (NULL strings are stored as ""). Return 0, CD_EIO (disk
 * full, map full), CD_ENOMEM, or CD_EINVAL (a value the record cannot hold: a string longer
 * than its storage_* array, a channel or state out of range, a live contact state in
 * history). The message goes into the batch's error, which storage_batch_commit reports.
 * After an error every later call on the batch returns the same error and does nothing:
 * the batch can only be aborted (or committed, which then fails and keeps nothing).
 * Deleting a record that is not there is not an error. */
int storage_put_contact(struct storage_batch *b, const struct engine_contact_info *c);
int storage_del_contact(struct storage_batch *b, uint64_t id);
int storage_put_agent(struct storage_batch *b, const struct engine_agent_info *a);
int storage_del_agent(struct storage_batch *b, const char *name);
/* Adds (or, when the same contact's row exists, replaces) a history row. */
int storage_put_history(struct storage_batch *b, const struct engine_history *h);
/* PRIVACY_ERASE in the history: every row whose attribute key is exactly value loses that
 * attribute, its notes and its transcript (storage/erase.c); *changed counts the rows.
 * Returns 0, CD_ENOMEM, CD_EIO or CD_ECORRUPT (the batch then failed). */
int storage_erase_history(struct storage_batch *b,
                          const char *key,
                          const char *value,
                          uint64_t *changed);
/* Deletes history rows whose completed time is before before_ms (retention). */
int storage_trim_history(struct storage_batch *b, int64_t before_ms);
/* Adds the audit row of the AUDIT effect fx, effect n of the batch's entry (so its id is
 * "INDEX.N", the event id the feed gives the same effect). The same id again replaces the
 * row. CD_EINVAL for an effect that is not an AUDIT, a kind out of range, or a string longer
 * than its storage_audit array. */
int storage_put_audit(struct storage_batch *b, uint32_t n, const struct engine_effect *fx);
/* Deletes audit rows whose time is before before_ms (retention). */
int storage_trim_audit(struct storage_batch *b, int64_t before_ms);

/* Writes the applied index and commits. Returns 0, or the batch's first error (CD_EIO,
 * CD_ENOMEM, CD_EINVAL) with its message in errmsg ("write batch at index 42 in '/data':
 * put contact 7: MDB_MAP_FULL: Environment mapsize limit reached"); on error nothing of the
 * batch is kept. Either way the batch is freed. */
int storage_batch_commit(struct storage_batch *b, char *errmsg, size_t errlen);
/* Discards the batch. NULL is a no-op. */
void storage_batch_abort(struct storage_batch *b);

/* ---- The effect bus: the outbox and the subscribers' cursors (effects.c) -------------- */

/* Keeps the effects of the batch's entry (an opaque encoding the bus reads back), under the
 * batch's index. Same errors as the record writes. */
int storage_put_effects(struct storage_batch *b, const void *data, size_t len);
/* Deletes the effects of entries below index below, the oldest first, at most
 * STORAGE_TRIM_PER_BATCH of them (the rest go with later batches). */
int storage_trim_effects(struct storage_batch *b, uint64_t below);
/* Calls cb for the effects of every entry at index from or above, in index order (bytes
 * valid during the call only); stops early when cb returns non-zero and returns that value.
 * Returns 0, the callback's value, CD_EIO or CD_ECORRUPT. */
int storage_foreach_effects(
    struct storage *s,
    uint64_t from,
    int (*cb)(void *data, uint64_t index, const void *bytes, size_t len),
    void *data);
/* The index of the oldest entry whose effects are kept; 0 when none are. */
uint64_t storage_effects_first(struct storage *s);
/* A subscriber's cursor: it has acted on effect n of the entry at index and on everything
 * before. get returns 0, CD_ENOTFOUND (never put), CD_EINVAL (name empty or 64 bytes or
 * more), CD_EIO or CD_ECORRUPT. put writes it in a transaction of its own (CD_ESTATE while a
 * batch is open) and returns 0 or an error with a message. */
int storage_get_cursor(struct storage *s, const char *name, uint64_t *index, uint32_t *n);
int storage_put_cursor(struct storage *s,
                       const char *name,
                       uint64_t index,
                       uint32_t n,
                       char *errmsg,
                       size_t errlen);

/* ---- Snapshot install ---------------------------------------------------------------- */

/* Replaces every state record with those of engine state e at Raft index, in one write
 * transaction, and records a history gap (storage_applied(), index] when index is above
 * the applied index + 1 (history and the audit are not part of a snapshot), pending until
 * filled: its rows completed between the newest row held here (or the beginning of time)
 * and engine_now(e); its audit rows are the entries'. History and audit rows are kept. index
 * may also be at or below the applied index (a restart restoring an older snapshot before
 * replaying the log): the records then go back to that index and no gap is recorded.
 * e is borrowed during the call. Returns 0, CD_ESTATE (a batch is open), CD_EIO,
 * CD_ENOMEM or CD_EINVAL (a record the storage cannot hold); on error the records are
 * unchanged. */
int storage_reset(struct storage *s,
                  uint64_t index,
                  const struct engine *e,
                  char *errmsg,
                  size_t errlen);

/* ---- Reads (each one short read transaction) ---------------------------------------- */

/* A stored contact record. Strings live in the struct. */
struct storage_contact
{
    uint64_t id;
    uint8_t channel;
    uint8_t state;
    int16_t priority;
    uint8_t step;
    bool callback;
    uint64_t offer;
    int64_t arrived;
    int64_t enqueued;
    int64_t answered;
    char key[ENGINE_VALUE_MAX * 2]; /* idempotency keys may be up to 127 bytes */
    char queue[ENGINE_NAME_MAX];
    char agent[ENGINE_NAME_MAX];
};

struct storage_agent
{
    char name[ENGINE_NAME_MAX];
    char site[ENGINE_SITE_MAX];
    char reason[ENGINE_VALUE_MAX];
    uint8_t presence;
    uint8_t state;
    uint8_t capacity[ENGINE_CH_COUNT];
    uint8_t load[ENGINE_CH_COUNT];
    int64_t last_idle;
};

/* A history row. Strings live in the struct; the transcript (a chat's messages, as
 * struct engine_transcript describes them) does not: transcript points into the row, and is
 * valid during a storage_foreach_history() or storage_history_scan() callback only (NULL in
 * what storage_get_history() fills: storage_get_transcript() copies it out). */
struct storage_history
{
    uint64_t contact;
    uint8_t channel;
    uint8_t outcome;
    int16_t priority;
    char queue[ENGINE_NAME_MAX];
    char agent[ENGINE_NAME_MAX];
    char reason[ENGINE_TARGET_MAX];
    int64_t arrived, offered, answered, ended, completed;
    uint32_t offers, transfers;
    uint8_t callback;
    uint64_t index; /* of the entry that wrote the row (0: written before rows named it) */
    /* Format 3 on ("" / 0 in older rows): the contact's idempotency key, its attributes at
     * the end, the disposition and notes of its wrap-up, and its transcript. */
    char key[ENGINE_VALUE_MAX * 2];
    uint8_t n_attrs;
    struct
    {
        char key[ENGINE_KEY_MAX];
        char value[ENGINE_VALUE_MAX];
    } attrs[ENGINE_ATTRS_MAX];
    char disposition[ENGINE_VALUE_MAX];
    char notes[ENGINE_NOTES_MAX];
    uint32_t n_messages;
    const uint8_t *transcript; /* see above */
    size_t transcript_len;
    /* Format 4 on (empty in older rows): the contact's path (engine.h), pointing into the
     * row as the transcript does. */
    const uint8_t *path;
    size_t path_len;
};

/* Returns 0 or CD_ENOTFOUND (or CD_EIO / CD_ECORRUPT / CD_ENOMEM). storage_get_history
 * finds the contact's one row (the latest put). */
int storage_get_contact(struct storage *s, uint64_t id, struct storage_contact *out);
int storage_get_agent(struct storage *s, const char *name, struct storage_agent *out);
int storage_get_history(struct storage *s, uint64_t contact, struct storage_history *out);

/* Calls cb for each row, in key order (contacts by id, agents by name, history by
 * completed time then contact id within [from_ms, to_ms)); stops early when cb returns
 * non-zero and returns that value. The struct passed to cb is valid during the call only.
 * Returns 0, the callback's value, CD_EIO or CD_ECORRUPT. */
int storage_foreach_contact(struct storage *s,
                            int (*cb)(void *data, const struct storage_contact *c),
                            void *data);
int storage_foreach_agent(struct storage *s,
                          int (*cb)(void *data, const struct storage_agent *a),
                          void *data);
int storage_foreach_history(struct storage *s,
                            int64_t from_ms,
                            int64_t to_ms,
                            int (*cb)(void *data, const struct storage_history *h),
                            void *data);

/* The transcript of the contact's history row, copied into *out (reset first; empty for a
 * contact that has none). Returns 0, CD_ENOTFOUND (no row), CD_ENOMEM (out->err set),
 * CD_EIO or CD_ECORRUPT. */
int storage_get_transcript(struct storage *s, uint64_t contact, struct cd_buf *out);
/* The same for the row's path (engine.h, "A contact's path"). */
int storage_get_path(struct storage *s, uint64_t contact, struct cd_buf *out);

/* Where a history scan goes on from: the last row it looked at. */
struct storage_history_mark
{
    int64_t completed;
    uint64_t contact; /* 0: none (from the newest) */
};

/* Which rows a history scan gives, newest first: completed in [from_ms, to_ms], before the
 * mark when it is set, matching every filter given (NULL or "": any). key: the contact's
 * idempotency key exactly; attr_key and attr_value: an attribute with exactly that value. */
struct storage_history_query
{
    int64_t from_ms, to_ms;
    struct storage_history_mark before;
    const char *key;
    const char *attr_key;
    const char *attr_value;
    size_t limit;    /* rows given at most; 0 = no bound */
    size_t scan_max; /* rows looked at, matching or not, at most; 0 = no bound */
};

/* Calls cb for each row q selects, newest first, in one read transaction (the row is valid
 * during the call only); stops early when cb returns non-zero and returns that value. *next
 * is where the next page starts (pass it as q->before): the last row looked at when the scan
 * stopped at limit or scan_max with rows of the range left; contact 0 when none are.
 * Returns 0, the callback's value, CD_EIO or CD_ECORRUPT. */
int storage_history_scan(struct storage *s,
                         const struct storage_history_query *q,
                         int (*cb)(void *data, const struct storage_history *h),
                         void *data,
                         struct storage_history_mark *next);

/* ---- Agents' state spans, and the scan reports run (spans.c) ------------------------------
 */

/* An agent's stretch of time in one state (never offline), written as the AGENT_STATE
 * effect that ended it applies. Spans are rows of the history table, kept, trimmed,
 * digested and copied from a peer with the contacts' rows, under an id of their own that
 * names no contact: STORAGE_SPAN_ID | entry index << 24 | the effect's position in the
 * entry. The strings point into the row (valid during a scan's callback only). */
#define STORAGE_SPAN_ID (UINT64_C(1) << 63)
struct storage_span
{
    const char *agent;
    const char *site;
    uint8_t state;      /* enum engine_agent_state, never OFFLINE */
    const char *reason; /* AWAY: the away reason ("" = none); else "" */
    int64_t from, to;
    uint64_t index; /* of the entry that wrote it */
};

/* Writes the span an AGENT_STATE effect ends, the n-th effect of the batch's entry; one
 * that ends offline time, or lasted no time, is not written. Returns 0 or a CD_E* code
 * (the batch failed, see storage_batch_commit). */
int storage_put_span(struct storage_batch *b, uint32_t n, const struct engine_effect *fx);

/* What a report reads of a contact's history row, without copying: strings and the path
 * point into the row (valid during the callback only). */
struct storage_row
{
    uint64_t contact;
    uint8_t channel;
    uint8_t outcome;
    uint8_t callback;
    const char *queue, *agent, *reason, *disposition;
    int64_t arrived, offered, answered, ended, completed;
    uint64_t index;
    const uint8_t *path; /* engine.h, "A contact's path"; NULL in rows before format 4 */
    size_t path_len;
};

/* Calls on_contact for each contact's row and on_span for each span that ended (completed,
 * to) in [from_ms, to_ms], in key order, in one read transaction, leaving out rows written
 * by entries after max_index (0: none left out), so that a report can add the live state at
 * that index without counting anything twice. Either callback may be NULL; a non-zero
 * return stops the scan and is returned. Safe from any thread (its own read transaction).
 * Returns 0, the callback's value, CD_EIO or CD_ECORRUPT. */
int storage_report_scan(struct storage *s,
                        int64_t from_ms,
                        int64_t to_ms,
                        uint64_t max_index,
                        int (*on_contact)(void *data, const struct storage_row *row),
                        int (*on_span)(void *data, const struct storage_span *span),
                        void *data);

/* ---- The audit (audit.c) ----------------------------------------------------------------- */

/* An audit row's id: the entry's index and the effect's position in it ("INDEX.N"). */
struct storage_audit_id
{
    uint64_t index; /* 0: none */
    uint32_t n;
};

/* An audit row: an AUDIT effect as an entry emitted it. Strings live in the struct. */
struct storage_audit
{
    struct storage_audit_id id;
    int64_t at;   /* the entry's time (the replicated clock) */
    uint8_t kind; /* the command's kind (enum engine_cmd_kind) */
    char actor[ENGINE_ACTOR_MAX];
    char action[ENGINE_NAME_MAX]; /* the command's name, or an AUDIT_NOTE's action */
    char object[ENGINE_TARGET_MAX];
    char agent[ENGINE_NAME_MAX]; /* "" = none */
    char queue[ENGINE_NAME_MAX]; /* "" = none */
    uint64_t contact;            /* 0 = none */
};

/* Which rows a scan gives, newest first. */
struct storage_audit_query
{
    int64_t from_ms, to_ms;         /* rows whose at is in [from_ms, to_ms] */
    struct storage_audit_id before; /* index 0: from the newest; else only rows before it */
    const char *actor;              /* NULL or "": any; else rows with exactly this */
    const char *action;
    const char *object;
    size_t limit;    /* rows given at most; 0 = no bound */
    size_t scan_max; /* rows looked at, matching or not, at most; 0 = no bound */
};

/* Calls cb for each row q selects, newest first (the struct is valid during the call only),
 * in one read transaction; stops early when cb returns non-zero and returns that value.
 * Rows are in time order, and so in id order too (the replicated clock never runs
 * backwards). *next is where the next page starts (pass it as q->before): the last row
 * looked at when the scan stopped at limit or scan_max with rows left in the time range;
 * index 0 when there are none. Returns 0, the callback's value, CD_EIO or CD_ECORRUPT. */
int storage_audit_scan(struct storage *s,
                       const struct storage_audit_query *q,
                       int (*cb)(void *data, const struct storage_audit *row),
                       void *data,
                       struct storage_audit_id *next);

/* ---- Filling history gaps from a peer ------------------------------------------------- */

/* The last entry of the latest gap (entries this node never applied: it caught up by a
 * snapshot up to there); 0 when it applied every entry. */
uint64_t storage_gap_last(const struct storage *s);

/* The pending gaps, oldest first: copies up to max into out, returns how many there are. */
size_t storage_gaps_pending(struct storage *s, struct storage_gap *out, size_t max);

/* Where an export stopped: the last row it gave. */
struct storage_history_cursor
{
    uint8_t key[16];
    bool set; /* false: from the first row */
};

/* Serving a peer: replaces out's contents with a page (an opaque encoding that
 * storage_history_import reads) of the rows completed in [from_ms, to_ms], in key order,
 * after cursor, of about max_bytes at most (at least one row). Returns 0, CD_ENOMEM, CD_EIO
 * or CD_ECORRUPT. */
int storage_history_export(struct storage *s,
                           int64_t from_ms,
                           int64_t to_ms,
                           const struct storage_history_cursor *after,
                           size_t max_bytes,
                           struct cd_buf *out);

/* Filling gap (one of the pending ones) with a page a peer exported for [gap->from_ms,
 * gap->to_ms]: in one write transaction, puts each row that an entry of the gap wrote
 * (first < index <= last) unless a row of the same contact from a later entry is here
 * already. *next is where the next page starts; *done is set, and the gap no longer
 * pending, when the page was the last. Returns 0, CD_ECORRUPT (a malformed page or a row
 * outside the gap's times: nothing written), CD_ESTATE (a batch is open, or the gap is not
 * pending), CD_EIO or CD_ENOMEM, with a message. */
int storage_history_import(struct storage *s,
                           const struct storage_gap *gap,
                           const void *page,
                           size_t len,
                           struct storage_history_cursor *next,
                           bool *done,
                           char *errmsg,
                           size_t errlen);

/* The audit rows of a gap travel the same way, by entry index (audit_backfill.c). Serving
 * a peer: replaces out's contents with a page of the rows written by entries first <
 * index <= last, in id order, after *after (index 0: from the first), of about max_bytes at
 * most (at least one row). Returns 0, CD_ENOMEM, CD_EIO or CD_ECORRUPT. */
int storage_audit_export(struct storage *s,
                         uint64_t first,
                         uint64_t last,
                         const struct storage_audit_id *after,
                         size_t max_bytes,
                         struct cd_buf *out);

/* Filling gap (a pending one) with such a page exported for (gap->first, gap->last]: in
 * one write transaction, puts each row not here yet. *next is where the next page starts;
 * *done is set when the page was the last. The gap stays pending: its history rows follow
 * (storage_history_import's last page ends it), so a cluster copies a gap's audit rows
 * first. Returns 0, CD_ECORRUPT (a malformed page, a row from an entry outside the gap or
 * later than the gap's time: nothing written), CD_ESTATE (a batch is open, or the gap is
 * not pending), CD_EIO or CD_ENOMEM, with a message. */
int storage_audit_import(struct storage *s,
                         const struct storage_gap *gap,
                         const void *page,
                         size_t len,
                         struct storage_audit_id *next,
                         bool *done,
                         char *errmsg,
                         size_t errlen);

struct storage_stats
{
    uint64_t applied;
    uint64_t contacts;
    uint64_t agents;
    uint64_t history;
    uint32_t gaps;      /* history gaps recorded */
    uint64_t gap_first; /* the latest gap's (from, to]; 0 when none */
    uint64_t gap_last;
    uint32_t gaps_pending;   /* not yet filled from a peer: history may lack rows */
    uint64_t history_digest; /* same on every node at one applied index, history complete */
    uint64_t audit;          /* audit rows */
    uint64_t audit_digest;   /* as history_digest, of the audit rows */
    uint64_t bytes_in_use;   /* pages in use × page size */
};
int storage_stats(struct storage *s, struct storage_stats *out);

#endif
