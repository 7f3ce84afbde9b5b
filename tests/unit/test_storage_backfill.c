/* Filling a history gap from a peer: storage_history_export on the member that has the rows,
 * storage_history_import on the node that skipped them by installing a snapshot. Two real
 * environments under /tmp; the gap comes from storage_reset as in the cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"
#include "engine/engine.h"
#include "storage/storage.h"
#include "tmpdir.h"

#define MINUTE ((int64_t)60000)
#define T0 ((int64_t)1767603600000) /* 2026-01-05 09:00Z */

struct side
{
    char dir[64];
    struct storage *s;
    uint64_t index;
};

struct fixture
{
    struct side src, lag; /* the member with every row; the node that skipped some */
    char err[256];
};

static void side_open(struct side *d)
{
    struct storage_options opt = {
        .dir = d->dir, .boot_id = "boot-backfill", .history_keep_ms = INT64_MAX};
    char err[256];
    snprintf(d->dir, sizeof(d->dir), "/tmp/cd-backfill-XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    opt.dir = d->dir;
    if (storage_open(&opt, &d->s, NULL, err, sizeof(err)) != 0) {
        fail_msg("storage_open: %s", err);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    side_open(&f->src);
    side_open(&f->lag);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    storage_close(f->src.s);
    storage_close(f->lag.s);
    rm_tree(f->src.dir);
    rm_tree(f->lag.dir);
    free(f);
    return 0;
}

static struct engine_history row(uint64_t contact, int64_t completed)
{
    struct engine_history h;
    memset(&h, 0, sizeof(h));
    h.contact = contact;
    h.channel = ENGINE_CH_EMAIL;
    h.outcome = ENGINE_CONTACT_ABANDONED;
    h.queue = "support";
    h.agent = "";
    h.reason = "";
    h.arrived = completed - MINUTE;
    h.completed = completed;
    /* What a contact was about travels with its row. */
    h.key = "mail-key";
    h.n_attrs = 1;
    h.attrs[0] = (struct engine_attr){"email", "ada@example.com"};
    h.disposition = "resolved";
    h.notes = "sent the invoice again";
    return h;
}

/* One entry that ends contact at completed, on one side. */
static void entry(struct side *d, uint64_t contact, int64_t completed)
{
    struct storage_batch *b;
    char err[256];
    struct engine_history h = row(contact, completed);
    d->index++;
    assert_int_equal(storage_batch_begin(d->s, d->index, &b, err, sizeof(err)), 0);
    assert_int_equal(storage_put_history(b, &h), 0);
    assert_int_equal(storage_batch_commit(b, err, sizeof(err)), 0);
}

static uint64_t digest(struct side *d)
{
    struct storage_stats st;
    assert_int_equal(storage_stats(d->s, &st), 0);
    return st.history_digest;
}

/* The lagging side installs a snapshot at index, its replicated clock at now. */
static void skip_to(struct side *d, uint64_t index, int64_t now)
{
    struct engine *e;
    struct engine_command tick = {.kind = ENGINE_CMD_TICK};
    struct engine_result res;
    char err[256];
    assert_int_equal(engine_new(&e), 0);
    assert_int_equal(engine_apply(e, &tick, now, &res, NULL), 0);
    assert_int_equal(storage_reset(d->s, index, e, err, sizeof(err)), 0);
    d->index = index;
    engine_free(e);
}

/* Copies the gap page by page, pages of about max_bytes; returns the number of pages. */
static int fill(struct fixture *f, const struct storage_gap *gap, size_t max_bytes)
{
    struct storage_history_cursor cur = {.set = false};
    struct cd_buf page;
    bool done = false;
    int pages = 0;
    cd_buf_init(&page);
    while (!done) {
        assert_int_equal(
            storage_history_export(f->src.s, gap->from_ms, gap->to_ms, &cur, max_bytes, &page),
            0);
        int rc = storage_history_import(f->lag.s, gap, page.data, page.len, &cur, &done, f->err,
                                        sizeof(f->err));
        if (rc != 0) {
            fail_msg("import: %s", f->err);
        }
        pages++;
    }
    cd_buf_close(&page);
    return pages;
}

/* Both sides apply entry 1; only src applies 2..5 (contact 1 ends again at 4); the other
 * installs a snapshot at 5. */
static struct storage_gap make_gap(struct fixture *f)
{
    struct storage_gap gap;
    entry(&f->src, 1, T0);
    entry(&f->lag, 1, T0);
    entry(&f->src, 2, T0 + MINUTE);
    entry(&f->src, 3, T0 + 2 * MINUTE);
    entry(&f->src, 1, T0 + 3 * MINUTE);
    entry(&f->src, 4, T0 + 4 * MINUTE);
    skip_to(&f->lag, 5, T0 + 4 * MINUTE);
    assert_int_equal(storage_gaps_pending(f->lag.s, &gap, 1), 1);
    assert_int_equal(gap.first, 1);
    assert_int_equal(gap.last, 5);
    assert_int_equal(gap.from_ms, T0);
    assert_int_equal(gap.to_ms, T0 + 4 * MINUTE);
    return gap;
}

static void gap_is_filled_exactly(void **state)
{
    struct fixture *f = *state;
    struct storage_gap gap = make_gap(f);
    struct storage_history h;
    assert_int_not_equal(digest(&f->lag), digest(&f->src));
    assert_int_equal(storage_get_history(f->lag.s, 4, &h), CD_ENOTFOUND);
    assert_true(fill(f, &gap, 64) > 1); /* small pages: the cursor carries over */
    assert_int_equal(storage_gaps_pending(f->lag.s, &gap, 1), 0);
    assert_int_equal(digest(&f->lag), digest(&f->src));
    assert_int_equal(storage_get_history(f->lag.s, 1, &h), 0);
    assert_int_equal(h.completed, T0 + 3 * MINUTE); /* the gap's row replaced the older */
    assert_int_equal(h.index, 4);
    assert_int_equal(storage_get_history(f->lag.s, 4, &h), 0);
    assert_string_equal(h.key, "mail-key");
    assert_string_equal(h.attrs[0].value, "ada@example.com");
    assert_string_equal(h.disposition, "resolved");
    assert_string_equal(h.notes, "sent the invoice again");
}

static void later_local_row_is_kept(void **state)
{
    struct fixture *f = *state;
    struct storage_gap gap = make_gap(f);
    struct storage_history h;
    /* The lagging node applies entry 6, ending contact 2 again, before the gap is filled:
     * the peer's older row of contact 2 must not replace it. */
    entry(&f->lag, 2, T0 + 5 * MINUTE);
    fill(f, &gap, 1 << 20);
    assert_int_equal(storage_get_history(f->lag.s, 2, &h), 0);
    assert_int_equal(h.index, 6);
    entry(&f->src, 2, T0 + 5 * MINUTE);
    assert_int_equal(digest(&f->lag), digest(&f->src));
}

static void bad_pages_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct storage_gap gap = make_gap(f);
    struct storage_history_cursor cur = {.set = false};
    struct storage_gap wide = gap;
    struct cd_buf page;
    bool done = false;
    uint64_t before = digest(&f->lag);
    cd_buf_init(&page);
    assert_int_equal(
        storage_history_export(f->src.s, gap.from_ms, gap.to_ms, &cur, 1 << 20, &page), 0);
    /* Truncated. */
    assert_int_equal(storage_history_import(f->lag.s, &gap, page.data, page.len - 3, &cur,
                                            &done, f->err, sizeof(f->err)),
                     CD_ECORRUPT);
    /* Of a version after this one's (2). */
    assert_int_equal(page.data[0], 2);
    page.data[0] = 3;
    assert_int_equal(storage_history_import(f->lag.s, &gap, page.data, page.len, &cur, &done,
                                            f->err, sizeof(f->err)),
                     CD_ECORRUPT);
    page.data[0] = 2;
    /* Rows outside the gap's times. */
    wide.from_ms = T0 + MINUTE;
    struct cd_buf narrow;
    cd_buf_init(&narrow);
    assert_int_equal(storage_history_export(f->src.s, T0, gap.to_ms, &cur, 1 << 20, &narrow),
                     0);
    assert_int_equal(storage_history_import(f->lag.s, &wide, narrow.data, narrow.len, &cur,
                                            &done, f->err, sizeof(f->err)),
                     CD_ESTATE); /* not a pending gap */
    gap.from_ms = T0 + MINUTE;   /* a pending gap with other times is not the same gap */
    assert_int_equal(storage_history_import(f->lag.s, &gap, narrow.data, narrow.len, &cur,
                                            &done, f->err, sizeof(f->err)),
                     CD_ESTATE);
    assert_int_equal(digest(&f->lag), before);
    assert_int_equal(storage_gaps_pending(f->lag.s, &gap, 1), 1);
    assert_false(cur.set);
    cd_buf_close(&page);
    cd_buf_close(&narrow);
}

static void gap_survives_a_restart(void **state)
{
    struct fixture *f = *state;
    struct storage_gap gap = make_gap(f), again;
    struct storage_options opt = {
        .dir = f->lag.dir, .boot_id = "boot-backfill", .history_keep_ms = INT64_MAX};
    storage_close(f->lag.s);
    assert_int_equal(storage_open(&opt, &f->lag.s, NULL, f->err, sizeof(f->err)), 0);
    assert_int_equal(storage_gaps_pending(f->lag.s, &again, 1), 1);
    assert_memory_equal(&gap, &again, sizeof(gap));
    fill(f, &again, 1 << 20);
    storage_close(f->lag.s);
    assert_int_equal(storage_open(&opt, &f->lag.s, NULL, f->err, sizeof(f->err)), 0);
    assert_int_equal(storage_gaps_pending(f->lag.s, &again, 1), 0);
    assert_int_equal(digest(&f->lag), digest(&f->src));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(gap_is_filled_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(later_local_row_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_pages_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(gap_survives_a_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
