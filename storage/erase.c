/* Erasing one customer's personal data from the contact history (PRIVACY_ERASE): every row
 * whose attribute `key` is exactly `value` loses that attribute, and its wrap-up notes and
 * chat transcript, which are the customer's words and the agent's about the customer. The
 * row keeps its key, its place and the index of the entry that wrote it, so every member
 * that applies the same erase to the same rows writes the same bytes (the history digest
 * agrees). A full walk of the history: an erase is rare, and the history is bounded by its
 * retention. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "storage/internal.h"

static bool holds(const struct storage_history *h, const char *key, const char *value)
{
    for (uint8_t i = 0; i < h->n_attrs; i++) {
        if (strcmp(h->attrs[i].key, key) == 0) {
            return strcmp(h->attrs[i].value, value) == 0;
        }
    }
    return false;
}

/* The row as the engine would have handed it, without the erased parts. */
static void erased(const struct storage_history *row, const char *key, struct engine_history *h)
{
    *h = (struct engine_history){.contact = row->contact,
                                 .channel = row->channel,
                                 .outcome = row->outcome,
                                 .priority = row->priority,
                                 .queue = row->queue,
                                 .agent = row->agent,
                                 .reason = row->reason,
                                 .arrived = row->arrived,
                                 .offered = row->offered,
                                 .answered = row->answered,
                                 .ended = row->ended,
                                 .completed = row->completed,
                                 .offers = row->offers,
                                 .transfers = row->transfers,
                                 .callback = row->callback,
                                 .key = row->key,
                                 .disposition = row->disposition,
                                 .notes = "",
                                 .path = {row->path, row->path_len}};
    for (uint8_t i = 0; i < row->n_attrs; i++) {
        if (strcmp(row->attrs[i].key, key) != 0) {
            h->attrs[h->n_attrs].key = row->attrs[i].key;
            h->attrs[h->n_attrs++].value = row->attrs[i].value;
        }
    }
}

/* Rewrites the row under the cursor (LMDB code, or a CD code of the encoding). */
static int rewrite(struct storage_batch *b,
                   MDB_cursor *cur,
                   const MDB_val *k,
                   const MDB_val *v,
                   const struct storage_history *row,
                   const char *key)
{
    struct engine_history h;
    const char *why;
    erased(row, key, &h);
    int rc = storage__history_encode(&h, row->index, &b->s->buf, &why);
    if (rc != 0) {
        return rc;
    }
    MDB_val nv = {b->s->buf.len, b->s->buf.data};
    storage__hsum_sub(&b->hsum, k, v);
    rc = mdb_cursor_put(cur, (MDB_val *)k, &nv, MDB_CURRENT);
    if (rc == 0) {
        storage__hsum_add(&b->hsum, k, &nv);
    }
    return rc;
}

static int walk(struct storage_batch *b, const char *key, const char *value, uint64_t *changed)
{
    MDB_cursor *cur;
    MDB_val k, v;
    struct storage_history *row = cd_malloc(sizeof(*row));
    if (row == NULL) {
        return CD_ENOMEM;
    }
    int rc = mdb_cursor_open(b->txn, b->s->history, &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int code = storage__history_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, row);
        if (code < 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (code == 0 && holds(row, key, value)) {
            /* The key is copied: k points into a page the put may change. */
            uint8_t hkey[STORAGE_HISTORY_KEY];
            memcpy(hkey, k.mv_data, sizeof(hkey));
            MDB_val kk = {sizeof(hkey), hkey};
            if ((rc = rewrite(b, cur, &kk, &v, row, key)) != 0) {
                break;
            }
            (*changed)++;
        }
    }
    mdb_cursor_close(cur);
    cd_free(row);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int storage_erase_history(struct storage_batch *b,
                          const char *key,
                          const char *value,
                          uint64_t *changed)
{
    *changed = 0;
    int rc = storage__batch_usable(b);
    if (rc != 0) {
        return rc;
    }
    rc = walk(b, key, value, changed);
    if (rc == CD_ENOMEM || rc == CD_EINVAL) {
        return storage__batch_fail(b, rc, "erase '%s' from history: %s", key, cd_strerror(rc));
    }
    if (rc != 0) {
        return storage__batch_fail(b, storage__write_code(rc), "erase '%s' from history: %s",
                                   key, mdb_strerror(rc));
    }
    return 0;
}
