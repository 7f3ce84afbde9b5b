/* storage internals shared by the files of storage/: the environment handle, the one open
 * batch, the record codecs and the files beside LMDB in the data directory.
 *
 * Two kinds of return value meet here and must not be mixed up: helpers that wrap mdb_*
 * calls return LMDB's own code (0, an errno value or an MDB_* constant) so that the caller
 * can quote mdb_strerror() in its message; everything else returns 0 or a CD_E* code. The
 * storage__*_code() functions translate the first into the second. */
#ifndef CD_STORAGE_INTERNAL_H
#define CD_STORAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "common/buf.h"
#include "engine/engine.h"
#include "storage/storage.h"

#define STORAGE_FORMAT 1        /* layout of the whole environment, meta "format" */
#define STORAGE_RECORD_V1 1     /* first byte of every record value */
#define STORAGE_HISTORY_V2 2    /* history rows that name their index; gaps with pending ones */
#define STORAGE_HISTORY_V3 3    /* history rows with key, attributes, wrap-up and transcript */
#define STORAGE_HISTORY_V4 4    /* history rows with the contact's path */
#define STORAGE_SPAN_V1 0x40    /* agents' state spans, rows of the history table */
#define STORAGE_ID_KEY 8        /* contact ids: 8 bytes big-endian */
#define STORAGE_HISTORY_KEY 16  /* completed time (offset binary) + contact id, big-endian */
#define STORAGE_AUDIT_ID_KEY 12 /* entry index + effect n, big-endian */
#define STORAGE_AUDIT_KEY 20    /* time (offset binary) + the id key */
#define STORAGE_ERRMSG 256
#define STORAGE_BOOT_ID_MAX 128
/* Rows the automatic retention deletes in one batch, so that a batch after a long pause
 * does not turn into one huge transaction; the rest goes in the next batches. */
#define STORAGE_TRIM_PER_BATCH 1024
#define STORAGE_KEEP_DEFAULT_MS ((int64_t)90 * 24 * 3600 * 1000)
#define STORAGE_AUDIT_KEEP_DEFAULT_MS ((int64_t)365 * 24 * 3600 * 1000)
#define STORAGE_MAP_DEFAULT ((uint64_t)4 << 30)

struct storage__gaps
{
    uint32_t count;
    uint64_t first; /* latest gap is (first, last] */
    uint64_t last;
    uint32_t n_pending; /* gaps not filled from a peer yet, oldest first */
    struct storage_gap pending[STORAGE_GAPS_PENDING_MAX];
};

/* A digest of a table's rows (history, audit): how many rows, and the sum of a hash of each
 * (key, value), so that a row's put and delete each cost O(1) and the order of writes does
 * not matter. */
struct storage__hsum
{
    uint64_t rows;
    uint64_t sum;
};

struct storage_batch
{
    struct storage *s;
    MDB_txn *txn;
    uint64_t index;
    int err; /* 0 or the first failure: sticky, so the batch can only be aborted */
    char errmsg[STORAGE_ERRMSG];
    bool has_history;
    int64_t newest_completed;  /* of the rows put in this batch, for retention */
    struct storage__hsum hsum; /* the digest as this batch leaves it */
    bool has_audit;
    int64_t newest_audit;      /* of the audit rows put in this batch, for retention */
    struct storage__hsum asum; /* the audit digest as this batch leaves it */
};

struct storage
{
    MDB_env *env;
    MDB_dbi main;
    MDB_dbi meta;
    MDB_dbi contacts;
    MDB_dbi agents;
    MDB_dbi history;
    MDB_dbi history_by_contact;
    MDB_dbi effects; /* effects.c */
    MDB_dbi cursors;
    MDB_dbi audit; /* audit.c */
    MDB_dbi audit_by_id;
    char *dir; /* owned copy of the data directory */
    int lock_fd;
    bool marker_present; /* storage.open is on disk: unsynced writes may be pending */
    bool sync_each_batch;
    int64_t history_keep_ms;
    int64_t audit_keep_ms;
    uint64_t applied;
    struct storage__gaps gaps;
    struct storage__hsum hsum;
    struct storage__hsum asum;
    bool batch_open;
    struct storage_batch batch; /* at most one batch at a time, so it lives here */
    struct cd_buf buf;          /* encoding scratch, reused by every write */
};

/* ---- env.c: LMDB environment and meta records ---------------------------------------- */

void storage__errf(char *errmsg, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* LMDB code of a failed write to a CD code: CD_ENOMEM or CD_EIO. */
int storage__write_code(int rc);
/* LMDB code of a failed read: CD_ENOTFOUND, CD_ECORRUPT, CD_ENOMEM or CD_EIO. */
int storage__read_code(int rc);
/* Creates and opens s->env in s->dir. Returns a CD code; s->env is NULL on error. */
int storage__env_open(struct storage *s, uint64_t map_size, char *errmsg, size_t errlen);
/* Opens the named databases, creating them and the meta records in a new environment, and
 * loads applied index and gaps. Returns a CD code. */
int storage__env_init(struct storage *s, bool *created, char *errmsg, size_t errlen);
/* Puts the meta records "applied" / "gaps" (LMDB code). */
int storage__meta_put_applied(struct storage *s, MDB_txn *txn, uint64_t applied);
int storage__meta_put_gaps(struct storage *s, MDB_txn *txn, const struct storage__gaps *g);
/* A read-only transaction (LMDB code). */
int storage__read_begin(struct storage *s, MDB_txn **txn);

/* ---- read.c -------------------------------------------------------------------------- */

/* Called for each row of a scan; a non-zero return stops the scan and is its result. */
typedef int (*storage__row_fn)(void *ctx, const MDB_val *key, const MDB_val *val);
/* Walks dbi in key order from the first key at or after start (NULL: from the first key)
 * inside one read transaction. Returns fn's non-zero value, 0 at the end, or a CD code. */
int storage__scan(struct storage *s,
                  MDB_dbi dbi,
                  const MDB_val *start,
                  storage__row_fn fn,
                  void *ctx);
/* Reads the row at key and hands it to fn: fn's value, CD_ENOTFOUND or another CD code. */
int storage__get(struct storage *s, MDB_dbi dbi, MDB_val key, storage__row_fn fn, void *ctx);

/* ---- records.c: keys and record values ---------------------------------------------- */

void storage__key_u64(uint8_t key[STORAGE_ID_KEY], uint64_t v);
uint64_t storage__key_u64_read(const uint8_t key[STORAGE_ID_KEY]);
void storage__history_key(uint8_t key[STORAGE_HISTORY_KEY],
                          int64_t completed,
                          uint64_t contact);
void storage__history_key_read(const uint8_t key[STORAGE_HISTORY_KEY],
                               int64_t *completed,
                               uint64_t *contact);

/* Encoders replace the contents of b with a record value. They return 0, CD_ENOMEM, or
 * CD_EINVAL for a value the stored form cannot hold, with *why naming it. */
int storage__contact_encode(const struct engine_contact_info *c,
                            struct cd_buf *b,
                            const char **why);
int storage__agent_encode(const struct engine_agent_info *a,
                          struct cd_buf *b,
                          const char **why);
int storage__history_encode(const struct engine_history *h,
                            uint64_t index,
                            struct cd_buf *b,
                            const char **why);
/* Decoders check every field and accept nothing but a complete record: 0 or CD_ECORRUPT.
 * The key supplies what the value does not repeat (id, name, completed time). */
int storage__contact_decode(const void *key,
                            size_t klen,
                            const void *val,
                            size_t vlen,
                            struct storage_contact *out);
int storage__agent_decode(const void *key,
                          size_t klen,
                          const void *val,
                          size_t vlen,
                          struct storage_agent *out);
/* Returns 0 (a contact's row), 1 (an agent's span: only out's contact, completed and index
 * are set) or CD_ECORRUPT. */
int storage__history_decode(const void *key,
                            size_t klen,
                            const void *val,
                            size_t vlen,
                            struct storage_history *out);
/* An agent's span, a row of the history table (spans.c). Returns 0 or CD_ECORRUPT. */
int storage__span_decode(const void *key,
                         size_t klen,
                         const void *val,
                         size_t vlen,
                         struct storage_span *out);
/* Agent names as keys: 1..ENGINE_NAME_MAX-1 bytes without the NUL. */
bool storage__agent_key_ok(const char *name);

void storage__applied_encode(uint64_t applied, struct cd_buf *b);
int storage__applied_decode(const void *val, size_t len, uint64_t *applied);
void storage__gaps_encode(const struct storage__gaps *g, struct cd_buf *b);
int storage__gaps_decode(const void *val, size_t len, struct storage__gaps *g);

/* ---- marker.c: the files beside LMDB ------------------------------------------------- */

/* The data directory exists, is a directory and is writable: 0 or CD_EIO. */
int storage__dir_check(const char *dir, char *errmsg, size_t errlen);
/* Takes the exclusive lock on dir/storage.lock: 0 (fd in *out) or CD_EIO. */
int storage__dir_lock(const char *dir, int *out, char *errmsg, size_t errlen);
/* The given boot id, or the kernel's, trimmed: 0, CD_EINVAL or CD_EIO. */
int storage__boot_id(const char *given, char *out, size_t n, char *errmsg, size_t errlen);
/* When a marker from another boot is present, deletes the environment's files and sets
 * *unclean. Returns 0 or CD_EIO. */
int storage__marker_check(const char *dir,
                          const char *boot_id,
                          bool *unclean,
                          char *errmsg,
                          size_t errlen);
/* Writes the marker durably (temporary file, fsync, rename, fsync of the directory). */
int storage__marker_write(const char *dir, const char *boot_id, char *errmsg, size_t errlen);
/* Removes the marker durably. errmsg may be NULL. */
int storage__marker_remove(const char *dir, char *errmsg, size_t errlen);

/* ---- batch.c / history.c ------------------------------------------------------------- */

/* Records the first failure of a batch (message "write batch at index N in 'dir': ...")
 * and returns code; later failures keep the first message. */
int storage__batch_fail(struct storage_batch *b, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 0 when the batch can take a write, else its first failure. */
int storage__batch_usable(const struct storage_batch *b);
/* Deletes up to limit history rows completed before before_ms, with their index entries
 * (LMDB code). */
int storage__history_trim(struct storage *s,
                          MDB_txn *txn,
                          struct storage__hsum *hs,
                          int64_t before_ms,
                          size_t limit);
/* Puts a history row under hkey, replacing the contact's earlier one, keeping hs (LMDB
 * code). */
int storage__history_put_raw(MDB_txn *txn,
                             struct storage *s,
                             struct storage__hsum *hs,
                             const uint8_t hkey[STORAGE_HISTORY_KEY],
                             const MDB_val *row);
uint64_t storage__row_hash(const MDB_val *key, const MDB_val *val);
void storage__hsum_add(struct storage__hsum *hs, const MDB_val *key, const MDB_val *val);
void storage__hsum_sub(struct storage__hsum *hs, const MDB_val *key, const MDB_val *val);
/* A table of rows with an index from an id to the row's key (history by contact, the
 * audit by id): removes the row id names, if any, and takes it out of sum. key_len is the
 * rows' key length (at most 32). Returns an LMDB code; MDB_CORRUPTED for an index entry of
 * another length. */
int storage__unlink_indexed(MDB_txn *txn,
                            MDB_dbi index,
                            MDB_dbi rows,
                            struct storage__hsum *sum,
                            const MDB_val *id,
                            size_t key_len);
/* meta "hsum" / "asum" (LMDB code); an environment written before one existed has it
 * computed from the rows at open. */
int storage__meta_put_hsum(struct storage *s, MDB_txn *txn, const struct storage__hsum *hs);
int storage__meta_put_asum(struct storage *s, MDB_txn *txn, const struct storage__hsum *as);
/* Index of gap among the pending ones, or -1. */
int storage__gap_pending_at(const struct storage *s, const struct storage_gap *gap);

/* ---- audit.c ------------------------------------------------------------------------- */

void storage__audit_key(uint8_t key[STORAGE_AUDIT_KEY], int64_t at, struct storage_audit_id id);
void storage__audit_key_read(const uint8_t key[STORAGE_AUDIT_KEY],
                             int64_t *at,
                             struct storage_audit_id *id);
/* An audit row's value, as storage__history_encode (CD_EINVAL with *why) / decode (0 or
 * CD_ECORRUPT; the key supplies at and the id). */
int storage__audit_encode(const struct engine_effect *fx, struct cd_buf *b, const char **why);
int storage__audit_decode(const void *key,
                          size_t klen,
                          const void *val,
                          size_t vlen,
                          struct storage_audit *out);
/* Puts a row under its key and its id, unless a row with that key is here already (keep:
 * the import) or replacing it (the batch), keeping as (LMDB code). */
int storage__audit_put_raw(MDB_txn *txn,
                           struct storage *s,
                           struct storage__hsum *as,
                           const uint8_t key[STORAGE_AUDIT_KEY],
                           const MDB_val *row,
                           bool keep);
/* Deletes up to limit audit rows older than before_ms, with their ids (LMDB code). */
int storage__audit_trim(struct storage *s,
                        MDB_txn *txn,
                        struct storage__hsum *as,
                        int64_t before_ms,
                        size_t limit);

#endif
