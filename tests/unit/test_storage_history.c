/* storage: contact history rows — every field, one row per contact (a later row replaces
 * it), order by completed time then contact id, time ranges, trim and retention. */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "storage/storage.h"
#include "tests/unit/tmpdir.h"

#define MINUTE ((int64_t)60000)
#define T0 ((int64_t)1767603600000) /* 2026-01-05 09:00Z */

struct fixture
{
    char dir[64];
    struct storage_options opt;
    struct storage *s;
    struct storage_batch *b;
    uint64_t index; /* of the last batch begun */
    char err[256];
};

static void store_open(struct fixture *f)
{
    int rc = storage_open(&f->opt, &f->s, NULL, f->err, sizeof(f->err));
    if (rc != 0) {
        fail_msg("storage_open '%s': %s (%s)", f->dir, cd_strerror(rc), f->err);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/cd-storage-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->opt.dir = f->dir;
    f->opt.boot_id = "boot-history";
    store_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    storage_batch_abort(f->b);
    storage_close(f->s);
    rm_tree(f->dir);
    free(f);
    return 0;
}

#define F struct fixture *f = *state
#define BEGIN                                                                          \
    do {                                                                               \
        f->index++;                                                                    \
        if (storage_batch_begin(f->s, f->index, &f->b, f->err, sizeof(f->err)) != 0) { \
            fail_msg("begin %llu: %s", (unsigned long long)f->index, f->err);          \
        }                                                                              \
    } while (0)
#define COMMIT                                                        \
    do {                                                              \
        int rc_ = storage_batch_commit(f->b, f->err, sizeof(f->err)); \
        f->b = NULL;                                                  \
        if (rc_ != 0) {                                               \
            fail_msg("commit: %s (%s)", cd_strerror(rc_), f->err);    \
        }                                                             \
    } while (0)
#define PUT(h) assert_int_equal(storage_put_history(f->b, (h)), 0)
#define TRIM(before) assert_int_equal(storage_trim_history(f->b, (before)), 0)
/* Extreme completed times would fall to the retention of the newest row: keep forever. */
#define KEEP_FOREVER                        \
    do {                                    \
        storage_close(f->s);                \
        f->opt.history_keep_ms = INT64_MAX; \
        store_open(f);                      \
    } while (0)
#define REOPEN               \
    do {                     \
        storage_close(f->s); \
        f->s = NULL;         \
        store_open(f);       \
    } while (0)

/* A completed voice call of `contact` that ended at `completed`. */
static struct engine_history row(uint64_t contact, int64_t completed)
{
    struct engine_history h;
    memset(&h, 0, sizeof(h));
    h.contact = contact;
    h.channel = ENGINE_CH_VOICE;
    h.outcome = ENGINE_CONTACT_COMPLETED;
    h.queue = "sales";
    h.agent = "ann";
    h.reason = "";
    /* Three minutes earlier, where that does not leave the range of int64_t. */
    h.arrived = completed > INT64_MIN + 3 * MINUTE ? completed - 3 * MINUTE : completed;
    h.offered = h.arrived + 1000 < completed ? h.arrived + 1000 : completed;
    h.answered = h.offered;
    h.ended = completed;
    h.completed = completed;
    h.offers = 1;
    return h;
}

static void assert_row(const struct storage_history *got, const struct engine_history *w)
{
    assert_int_equal(got->contact, w->contact);
    assert_int_equal(got->channel, w->channel);
    assert_int_equal(got->outcome, w->outcome);
    assert_int_equal(got->priority, w->priority);
    assert_string_equal(got->queue, w->queue != NULL ? w->queue : "");
    assert_string_equal(got->agent, w->agent != NULL ? w->agent : "");
    assert_string_equal(got->reason, w->reason != NULL ? w->reason : "");
    assert_true(got->arrived == w->arrived);
    assert_true(got->offered == w->offered);
    assert_true(got->answered == w->answered);
    assert_true(got->ended == w->ended);
    assert_true(got->completed == w->completed);
    assert_int_equal(got->offers, w->offers);
    assert_int_equal(got->transfers, w->transfers);
    assert_int_equal(got->callback, w->callback);
}

static void assert_stored(struct fixture *f, const struct engine_history *w)
{
    struct storage_history got;
    int rc = storage_get_history(f->s, w->contact, &got);
    if (rc != 0) {
        fail_msg("history of contact %llu: %s", (unsigned long long)w->contact,
                 cd_strerror(rc));
    }
    assert_row(&got, w);
}

#define ASSERT_NO_ROW(contact)                                                     \
    do {                                                                           \
        struct storage_history h_;                                                 \
        assert_int_equal(storage_get_history(f->s, (contact), &h_), CD_ENOTFOUND); \
    } while (0)

struct walk
{
    uint64_t contacts[32];
    int64_t completed[32];
    size_t n;
    size_t stop_after;
};

static int see(void *data, const struct storage_history *h)
{
    struct walk *w = data;
    w->contacts[w->n] = h->contact;
    w->completed[w->n++] = h->completed;
    return w->n == w->stop_after ? 5 : 0;
}

/* The contacts of the rows in [from, to), in the order the walk met them. */
static struct walk walk(struct fixture *f, int64_t from, int64_t to)
{
    struct walk w;
    memset(&w, 0, sizeof(w));
    assert_int_equal(storage_foreach_history(f->s, from, to, see, &w), 0);
    return w;
}

static uint64_t history_count(struct fixture *f)
{
    struct storage_stats st;
    assert_int_equal(storage_stats(f->s, &st), 0);
    return st.history;
}

/* ---- rows --------------------------------------------------------------------------- */

static void round_trips_every_field(void **state)
{
    F;
    static char reason[ENGINE_TARGET_MAX];
    memset(reason, 'r', sizeof(reason) - 1);
    struct engine_history full = {
        .contact = UINT64_MAX,
        .channel = ENGINE_CH_SMS,
        .outcome = ENGINE_CONTACT_OVERFLOWED,
        .priority = INT16_MIN,
        .queue = "queue-name-of-63-bytes-0123456789-0123456789-0123456789-0123456",
        .agent = "agent-b",
        .reason = reason,
        .arrived = -5000,
        .offered = -4000,
        .answered = INT64_MAX,
        .ended = 1,
        .completed = INT64_MIN,
        .offers = UINT32_MAX,
        .transfers = 7,
        .callback = 255,
    };
    /* Nothing but the arrival: no offer, no answer, no end; NULL strings. */
    struct engine_history bare = {.contact = 2,
                                  .channel = ENGINE_CH_EMAIL,
                                  .outcome = ENGINE_CONTACT_REJECTED,
                                  .arrived = T0,
                                  .completed = T0};
    struct engine_history zero = {.contact = 3, .outcome = ENGINE_CONTACT_TIMED_OUT};
    KEEP_FOREVER;
    BEGIN;
    PUT(&full);
    PUT(&bare);
    PUT(&zero);
    COMMIT;
    assert_stored(f, &full);
    assert_stored(f, &bare);
    assert_stored(f, &zero);
    REOPEN;
    assert_stored(f, &full);
    assert_int_equal(history_count(f), 3);
    ASSERT_NO_ROW(4);
}

static void live_outcome_is_refused(void **state)
{
    F;
    struct engine_history h = row(1, T0);
    h.outcome = ENGINE_CONTACT_CONNECTED;
    BEGIN;
    assert_int_equal(storage_put_history(f->b, &h), CD_EINVAL);
    assert_int_equal(storage_batch_commit(f->b, f->err, sizeof(f->err)), CD_EINVAL);
    f->b = NULL;
    assert_non_null(strstr(f->err, "history of contact 1: outcome is not terminal"));
    ASSERT_NO_ROW(1);
}

static void later_row_replaces_the_contacts_row(void **state)
{
    F;
    struct engine_history first = row(7, T0);
    struct engine_history other = row(8, T0);
    BEGIN;
    PUT(&first);
    PUT(&other);
    COMMIT;
    /* The same contact again, completed later and with another outcome. */
    struct engine_history second = row(7, T0 + 10 * MINUTE);
    second.outcome = ENGINE_CONTACT_TRANSFERRED;
    second.reason = "sip:queue@site-b";
    second.transfers = 1;
    BEGIN;
    PUT(&second);
    COMMIT;
    assert_stored(f, &second);
    assert_stored(f, &other);
    assert_int_equal(history_count(f), 2);
    struct walk w = walk(f, T0 - MINUTE, T0 + 60 * MINUTE);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.contacts[0], 8);
    assert_int_equal(w.contacts[1], 7);
    assert_true(w.completed[1] == T0 + 10 * MINUTE);

    /* Twice in one batch, and once more at the same key: still one row. */
    struct engine_history third = row(7, T0 - MINUTE);
    BEGIN;
    PUT(&second);
    PUT(&third);
    PUT(&third);
    COMMIT;
    assert_stored(f, &third);
    assert_int_equal(history_count(f), 2);
    w = walk(f, INT64_MIN, INT64_MAX);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.contacts[0], 7);
}

static void aborted_history_is_not_kept(void **state)
{
    F;
    struct engine_history h = row(1, T0);
    BEGIN;
    PUT(&h);
    storage_batch_abort(f->b);
    f->b = NULL;
    ASSERT_NO_ROW(1);
    assert_int_equal(history_count(f), 0);
}

/* ---- walks -------------------------------------------------------------------------- */

static void foreach_orders_by_time_then_contact(void **state)
{
    F;
    const struct
    {
        uint64_t contact;
        int64_t completed;
    } rows[] = {{4, 20}, {2, 10}, {9, 0}, {1, 10}, {3, -5}, {5, INT64_MIN}, {6, INT64_MAX}};
    KEEP_FOREVER;
    BEGIN;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct engine_history h = row(rows[i].contact, rows[i].completed);
        PUT(&h);
    }
    COMMIT;
    struct walk w = walk(f, -10, 20);
    const uint64_t in_range[] = {3, 9, 1, 2};
    assert_int_equal(w.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(w.contacts[i], in_range[i]);
    }
    w = walk(f, 10, 11);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.contacts[0], 1);
    assert_int_equal(w.contacts[1], 2);
    /* to is exclusive; an empty or inverted range yields nothing. */
    assert_int_equal(walk(f, 0, 0).n, 0);
    assert_int_equal(walk(f, 20, 10).n, 0);
    assert_int_equal(walk(f, 21, INT64_MAX).n, 0);
    w = walk(f, INT64_MIN, INT64_MAX);
    assert_int_equal(w.n, 6); /* INT64_MAX itself is never below `to` */
    assert_int_equal(w.contacts[0], 5);

    memset(&w, 0, sizeof(w));
    w.stop_after = 2;
    assert_int_equal(storage_foreach_history(f->s, INT64_MIN, INT64_MAX, see, &w), 5);
    assert_int_equal(w.n, 2);
}

/* ---- trim and retention ------------------------------------------------------------- */

static void trim_deletes_rows_completed_before(void **state)
{
    F;
    BEGIN;
    for (uint64_t c = 1; c <= 10; c++) {
        struct engine_history h = row(c, T0 + (int64_t)c * MINUTE);
        PUT(&h);
    }
    COMMIT;
    BEGIN;
    TRIM(T0 + 4 * MINUTE); /* rows 1..3 */
    struct engine_history late = row(1, T0 + 30 * MINUTE);
    PUT(&late); /* contact 1 again, after its old row went */
    TRIM(T0 + 4 * MINUTE);
    COMMIT;
    ASSERT_NO_ROW(2);
    ASSERT_NO_ROW(3);
    assert_stored(f, &late);
    struct engine_history four = row(4, T0 + 4 * MINUTE);
    assert_stored(f, &four);
    assert_int_equal(history_count(f), 8);
    struct walk w = walk(f, INT64_MIN, INT64_MAX);
    assert_int_equal(w.contacts[0], 4);
    assert_int_equal(w.contacts[w.n - 1], 1);

    /* Everything, then nothing left to trim. */
    BEGIN;
    TRIM(INT64_MAX);
    TRIM(INT64_MAX);
    COMMIT;
    assert_int_equal(history_count(f), 0);
    ASSERT_NO_ROW(1);
    ASSERT_NO_ROW(10);
}

static void retention_trims_at_commit(void **state)
{
    F;
    storage_close(f->s);
    f->opt.history_keep_ms = 60 * MINUTE;
    store_open(f);
    BEGIN;
    for (uint64_t c = 1; c <= 4; c++) {
        struct engine_history h = row(c, T0 + (int64_t)c * 20 * MINUTE); /* +20 .. +80 */
        PUT(&h);
    }
    COMMIT;
    /* Newest +80: the cut is at +20, which is kept (only rows before it go). */
    assert_int_equal(history_count(f), 4);
    BEGIN;
    struct engine_history h = row(5, T0 + 100 * MINUTE);
    PUT(&h);
    COMMIT;
    /* Newest +100: the cut is at +40; +20 goes. */
    ASSERT_NO_ROW(1);
    assert_int_equal(history_count(f), 4);
    /* A batch without history trims nothing. */
    BEGIN;
    COMMIT;
    assert_int_equal(history_count(f), 4);
}

static void default_retention_is_ninety_days(void **state)
{
    F;
    const int64_t day = 24 * 60 * MINUTE;
    struct engine_history old = row(1, T0 - 90 * day - 1);
    struct engine_history kept = row(2, T0 - 90 * day);
    struct engine_history now = row(3, T0);
    BEGIN;
    PUT(&old);
    PUT(&kept);
    COMMIT;
    BEGIN;
    PUT(&now);
    COMMIT;
    ASSERT_NO_ROW(1);
    assert_stored(f, &kept);
    assert_stored(f, &now);
}

static void retention_catches_up_over_batches(void **state)
{
    F;
    /* More expired rows than one commit deletes: the rest go with the next batches. */
    BEGIN;
    for (uint64_t c = 1; c <= 1500; c++) {
        struct engine_history h = row(c, T0 + (int64_t)c);
        PUT(&h);
    }
    COMMIT;
    BEGIN;
    struct engine_history h = row(9999, T0 + 200 * 24 * 60 * MINUTE);
    PUT(&h);
    COMMIT;
    assert_int_equal(history_count(f), 1500 - 1024 + 1);
    BEGIN;
    h.contact = 10000;
    PUT(&h);
    COMMIT;
    assert_int_equal(history_count(f), 2);
}

/* A two-message transcript, as the engine writes one. */
static void transcript(struct cd_buf *b)
{
    cd_buf_uvar(b, 1);
    cd_buf_u8(b, ENGINE_SIDE_CUSTOMER);
    cd_buf_svar(b, T0);
    cd_buf_str(b, "");
    cd_buf_str(b, "c-1");
    cd_buf_str(b, "My bill is wrong");
    cd_buf_uvar(b, 2);
    cd_buf_u8(b, ENGINE_SIDE_AGENT);
    cd_buf_svar(b, T0 + 5000);
    cd_buf_str(b, "ann");
    cd_buf_str(b, "a-1");
    cd_buf_str(b, "Let me look");
}

static int keep_transcript(void *data, const struct storage_history *h)
{
    struct cd_buf *b = data;
    assert_non_null(h->transcript);
    cd_buf_put(b, h->transcript, h->transcript_len);
    return 0;
}

static void the_contacts_key_attributes_wrapup_transcript_and_path_are_kept(void **state)
{
    F;
    struct cd_buf t, got, seen;
    cd_buf_init(&t);
    cd_buf_init(&got);
    cd_buf_init(&seen);
    transcript(&t);
    struct engine_history h = row(7, T0 + MINUTE);
    h.channel = ENGINE_CH_CHAT;
    h.key = "web-7";
    h.n_attrs = 2;
    h.attrs[0] = (struct engine_attr){"email", "ada@example.com"};
    h.attrs[1] = (struct engine_attr){"topic", "billing"};
    h.disposition = "follow-up";
    h.notes = "Refund promised.\nCall back Monday.";
    assert_int_equal(engine_transcript_parse(t.data, t.len, &h.transcript), 0);
    struct cd_buf path;
    cd_buf_init(&path);
    uint8_t head[] = {ENGINE_PATH_QUEUED, ENGINE_VIA_ARRIVAL};
    cd_buf_put(&path, head, sizeof(head));
    cd_buf_svar(&path, T0);
    cd_buf_uvar(&path, 0);
    cd_buf_svar(&path, 4000);
    cd_buf_str(&path, "support");
    cd_buf_str(&path, "");
    cd_buf_str(&path, "");
    h.path = (struct engine_path){path.data, path.len};
    BEGIN;
    PUT(&h);
    COMMIT;
    REOPEN;
    struct storage_history out;
    assert_int_equal(storage_get_history(f->s, 7, &out), 0);
    assert_string_equal(out.key, "web-7");
    assert_int_equal(out.n_attrs, 2);
    assert_string_equal(out.attrs[1].key, "topic");
    assert_string_equal(out.attrs[0].value, "ada@example.com");
    assert_string_equal(out.disposition, "follow-up");
    assert_string_equal(out.notes, "Refund promised.\nCall back Monday.");
    assert_int_equal(out.n_messages, 2);
    assert_null(out.transcript);
    assert_int_equal(storage_get_transcript(f->s, 7, &got), 0);
    assert_int_equal(got.len, t.len);
    assert_memory_equal(got.data, t.data, t.len);
    assert_int_equal(storage_foreach_history(f->s, T0, T0 + 2 * MINUTE, keep_transcript, &seen),
                     0);
    assert_int_equal(seen.len, t.len);
    assert_int_equal(storage_get_transcript(f->s, 8, &got), CD_ENOTFOUND);
    /* the path too */
    assert_int_equal(storage_get_path(f->s, 7, &got), 0);
    assert_int_equal(got.len, path.len);
    assert_memory_equal(got.data, path.data, path.len);
    assert_int_equal(storage_get_path(f->s, 8, &got), CD_ENOTFOUND);
    /* a malformed path is not written */
    path.data[0] = 0;
    h.contact = 77;
    BEGIN;
    assert_int_equal(storage_put_history(f->b, &h), CD_EINVAL);
    storage_batch_abort(f->b);
    f->b = NULL;
    cd_buf_close(&path);
    /* A row without any of it reads back empty. */
    struct engine_history plain = row(9, T0 + MINUTE);
    BEGIN;
    PUT(&plain);
    COMMIT;
    assert_int_equal(storage_get_history(f->s, 9, &out), 0);
    assert_string_equal(out.key, "");
    assert_int_equal(out.n_attrs, 0);
    assert_int_equal(out.n_messages, 0);
    assert_int_equal(storage_get_transcript(f->s, 9, &got), 0);
    assert_int_equal(got.len, 0);
    cd_buf_close(&t);
    cd_buf_close(&got);
    cd_buf_close(&seen);
}

struct ids
{
    size_t n;
    uint64_t id[16];
};

static int keep_id(void *data, const struct storage_history *h)
{
    struct ids *ids = data;
    assert_true(ids->n < 16);
    ids->id[ids->n++] = h->contact;
    return 0;
}

/* Contacts 1..10 completed a minute apart; the even ones are Ada's, the odd ones Bob's;
 * contact 4 has the key "web-4". */
static void ten_customers(struct fixture *f)
{
    BEGIN;
    for (uint64_t c = 1; c <= 10; c++) {
        struct engine_history h = row(c, T0 + (int64_t)c * MINUTE);
        h.n_attrs = 1;
        h.attrs[0] =
            (struct engine_attr){"email", c % 2 ? "bob@example.com" : "ada@example.com"};
        h.key = c == 4 ? "web-4" : "";
        PUT(&h);
    }
    COMMIT;
}

static void a_scan_finds_a_customers_contacts_newest_first(void **state)
{
    F;
    ten_customers(f);
    struct ids ids = {0};
    struct storage_history_mark next;
    struct storage_history_query q = {.from_ms = 0,
                                      .to_ms = INT64_MAX,
                                      .attr_key = "email",
                                      .attr_value = "ada@example.com",
                                      .limit = 3};
    assert_int_equal(storage_history_scan(f->s, &q, keep_id, &ids, &next), 0);
    assert_int_equal(ids.n, 3);
    assert_int_equal(ids.id[0], 10);
    assert_int_equal(ids.id[1], 8);
    assert_int_equal(ids.id[2], 6);
    assert_int_equal(next.contact, 6);
    /* The next page, from the mark. */
    q.before = next;
    ids.n = 0;
    assert_int_equal(storage_history_scan(f->s, &q, keep_id, &ids, &next), 0);
    assert_int_equal(ids.n, 2);
    assert_int_equal(ids.id[0], 4);
    assert_int_equal(ids.id[1], 2);
    assert_int_equal(next.contact, 0); /* none left */
    /* By key; within a time range; bounded by rows looked at. */
    struct storage_history_query k = {.from_ms = 0, .to_ms = INT64_MAX, .key = "web-4"};
    ids.n = 0;
    assert_int_equal(storage_history_scan(f->s, &k, keep_id, &ids, &next), 0);
    assert_int_equal(ids.n, 1);
    assert_int_equal(ids.id[0], 4);
    struct storage_history_query r = {.from_ms = T0 + 3 * MINUTE,
                                      .to_ms = T0 + 6 * MINUTE,
                                      .attr_key = "email",
                                      .attr_value = "bob@example.com"};
    ids.n = 0;
    assert_int_equal(storage_history_scan(f->s, &r, keep_id, &ids, &next), 0);
    assert_int_equal(ids.n, 2);
    assert_int_equal(ids.id[0], 5);
    assert_int_equal(ids.id[1], 3);
    r.scan_max = 2; /* looks at 6 and 5 */
    ids.n = 0;
    assert_int_equal(storage_history_scan(f->s, &r, keep_id, &ids, &next), 0);
    assert_int_equal(ids.n, 1);
    assert_int_equal(next.contact, 5);
    struct storage_history_query none = {.from_ms = 0, .to_ms = INT64_MAX, .attr_key = "phone"};
    ids.n = 0;
    assert_int_equal(storage_history_scan(f->s, &none, keep_id, &ids, &next), 0);
    assert_int_equal(ids.n, 0);
}

static void an_erase_takes_the_customers_data_out_of_the_history(void **state)
{
    F;
    ten_customers(f);
    struct cd_buf t, got;
    cd_buf_init(&t);
    cd_buf_init(&got);
    transcript(&t);
    struct engine_history h = row(11, T0 + 11 * MINUTE);
    h.n_attrs = 2;
    h.attrs[0] = (struct engine_attr){"email", "ada@example.com"};
    h.attrs[1] = (struct engine_attr){"topic", "billing"};
    h.notes = "Ada's address changed";
    h.disposition = "resolved";
    assert_int_equal(engine_transcript_parse(t.data, t.len, &h.transcript), 0);
    BEGIN;
    PUT(&h);
    COMMIT;
    uint64_t changed = 0;
    BEGIN;
    assert_int_equal(storage_erase_history(f->b, "email", "ada@example.com", &changed), 0);
    COMMIT;
    assert_int_equal(changed, 6); /* 2, 4, 6, 8, 10 and 11 */
    struct storage_history out;
    assert_int_equal(storage_get_history(f->s, 11, &out), 0);
    assert_int_equal(out.n_attrs, 1);
    assert_string_equal(out.attrs[0].key, "topic");
    assert_string_equal(out.notes, "");
    assert_string_equal(out.disposition, "resolved");
    assert_int_equal(out.n_messages, 0);
    assert_int_equal(storage_get_transcript(f->s, 11, &got), 0);
    assert_int_equal(got.len, 0);
    assert_int_equal(out.completed, T0 + 11 * MINUTE);
    assert_int_equal(storage_get_history(f->s, 3, &out), 0);
    assert_string_equal(out.attrs[0].value, "bob@example.com");
    /* Nothing is left to find. */
    struct ids ids = {0};
    struct storage_history_mark next;
    struct storage_history_query q = {
        .from_ms = 0, .to_ms = INT64_MAX, .attr_key = "email", .attr_value = "ada@example.com"};
    assert_int_equal(storage_history_scan(f->s, &q, keep_id, &ids, &next), 0);
    assert_int_equal(ids.n, 0);
    cd_buf_close(&t);
    cd_buf_close(&got);
}

/* ---- agents' spans and the report scan ------------------------------------------------- */

static struct engine_effect state_fx(const char *agent,
                                     uint8_t prev,
                                     const char *prev_reason,
                                     int64_t since,
                                     int64_t at)
{
    return (struct engine_effect){.kind = ENGINE_FX_AGENT_STATE,
                                  .agent = agent,
                                  .site = "leeds",
                                  .state = ENGINE_AGENT_AVAILABLE,
                                  .text = "",
                                  .prev_state = prev,
                                  .prev_reason = prev_reason,
                                  .since = since,
                                  .at = at};
}

struct seen
{
    size_t contacts, spans;
    char line[8][160];
};

static int see_contact(void *data, const struct storage_row *r)
{
    struct seen *s = data;
    assert_true(s->contacts + s->spans < 8);
    snprintf(s->line[s->contacts + s->spans], sizeof(s->line[0]),
             "contact %llu %s/%s arrived+%lld answered+%lld completed+%lld disp=%s path=%zu",
             (unsigned long long)r->contact, r->queue, r->agent, (long long)(r->arrived - T0),
             (long long)(r->answered ? r->answered - T0 : -1), (long long)(r->completed - T0),
             r->disposition, r->path_len);
    s->contacts++;
    return 0;
}

static int see_span(void *data, const struct storage_span *sp)
{
    struct seen *s = data;
    assert_true(s->contacts + s->spans < 8);
    snprintf(s->line[s->contacts + s->spans], sizeof(s->line[0]),
             "span %s@%s %d(%s) %lld..%lld #%llu", sp->agent, sp->site, sp->state, sp->reason,
             (long long)(sp->from - T0), (long long)(sp->to - T0),
             (unsigned long long)sp->index);
    s->spans++;
    return 0;
}

static int count_rows(void *data, const struct storage_history *h)
{
    (void)h;
    (*(size_t *)data)++;
    return 0;
}

static void spans_are_history_rows_that_name_no_contact(void **state)
{
    F;
    struct engine_history h = row(5, T0 + 2 * MINUTE);
    h.disposition = "sale";
    struct engine_effect away = state_fx("ann", ENGINE_AGENT_AWAY, "lunch", T0, T0 + MINUTE);
    struct engine_effect busy =
        state_fx("bob", ENGINE_AGENT_BUSY, "", T0 + MINUTE, T0 + 3 * MINUTE);
    struct engine_effect offline = state_fx("cy", ENGINE_AGENT_OFFLINE, "", T0, T0 + MINUTE);
    struct engine_effect instant = state_fx("cy", ENGINE_AGENT_AVAILABLE, "", T0, T0);
    BEGIN;
    PUT(&h);
    assert_int_equal(storage_put_span(f->b, 3, &away), 0);
    assert_int_equal(storage_put_span(f->b, 4, &offline), 0); /* not written */
    assert_int_equal(storage_put_span(f->b, 5, &instant), 0); /* not written */
    COMMIT;
    BEGIN;
    assert_int_equal(storage_put_span(f->b, 0, &busy), 0);
    COMMIT;
    assert_int_equal(history_count(f), 3);

    struct seen seen = {0};
    assert_int_equal(
        storage_report_scan(f->s, T0, T0 + 10 * MINUTE, 0, see_contact, see_span, &seen), 0);
    assert_int_equal(seen.contacts, 1);
    assert_int_equal(seen.spans, 2);
    assert_string_equal(seen.line[0], "span ann@leeds 4(lunch) 0..60000 #1");
    assert_string_equal(seen.line[1],
                        "contact 5 sales/ann arrived+-60000 answered+-59000 "
                        "completed+120000 disp=sale path=0");
    assert_string_equal(seen.line[2], "span bob@leeds 2() 60000..180000 #2");
    /* rows written after an index are left out; the range bounds by the end */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(
        storage_report_scan(f->s, T0, T0 + 10 * MINUTE, 1, see_contact, see_span, &seen), 0);
    assert_int_equal(seen.spans, 1);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(
        storage_report_scan(f->s, T0 + 90000, T0 + 2 * MINUTE, 0, see_contact, see_span, &seen),
        0);
    assert_int_equal(seen.contacts, 1);
    assert_int_equal(seen.spans, 0);

    /* contacts' readers do not see spans */
    size_t n = 0;
    assert_int_equal(storage_foreach_history(f->s, T0, T0 + 10 * MINUTE, count_rows, &n), 0);
    assert_int_equal(n, 1);
    struct storage_history out;
    uint64_t span_id = STORAGE_SPAN_ID | ((uint64_t)2 << 24);
    assert_int_equal(storage_get_history(f->s, span_id, &out), CD_ENOTFOUND);
    struct storage_history_query q = {.from_ms = T0, .to_ms = T0 + 10 * MINUTE};
    struct storage_history_mark next;
    n = 0;
    assert_int_equal(storage_history_scan(f->s, &q, count_rows, &n, &next), 0);
    assert_int_equal(n, 1);
    /* a malformed span fails the batch */
    struct engine_effect bad = busy;
    bad.prev_state = ENGINE_AGENT_AWAY + 1;
    BEGIN;
    assert_int_equal(storage_put_span(f->b, 0, &bad), CD_EINVAL);
    storage_batch_abort(f->b);
    f->b = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trips_every_field, setup, teardown),
        cmocka_unit_test_setup_teardown(spans_are_history_rows_that_name_no_contact, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(live_outcome_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(later_row_replaces_the_contacts_row, setup, teardown),
        cmocka_unit_test_setup_teardown(aborted_history_is_not_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(foreach_orders_by_time_then_contact, setup, teardown),
        cmocka_unit_test_setup_teardown(trim_deletes_rows_completed_before, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_trims_at_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(default_retention_is_ninety_days, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_catches_up_over_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(
            the_contacts_key_attributes_wrapup_transcript_and_path_are_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(a_scan_finds_a_customers_contacts_newest_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_erase_takes_the_customers_data_out_of_the_history,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
