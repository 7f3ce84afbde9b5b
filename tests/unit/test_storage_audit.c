/* storage: the audit — every field of a row, ids INDEX.N, newest-first scans with filters,
 * time windows and paging, trim and retention, the digest, and a gap's rows copied from
 * another environment (export / import) exactly. Real environments under /tmp. */
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
#include "tests/unit/tmpdir.h"

#define MINUTE ((int64_t)60000)
#define DAY (24 * 60 * MINUTE)
#define T0 ((int64_t)1767603600000) /* 2026-01-05 09:00Z */

struct side
{
    char dir[64];
    struct storage_options opt;
    struct storage *s;
    uint64_t index; /* of the last batch */
};

struct fixture
{
    struct side a, b; /* a: the node under test, or the member that has every row */
    struct storage_batch *batch;
    char err[256];
    struct storage_audit rows[64]; /* what the last scan gave */
    size_t n_rows;
    struct storage_audit_id next;
};

static void side_open(struct side *d)
{
    char err[256];
    if (d->dir[0] == 0) {
        snprintf(d->dir, sizeof(d->dir), "/tmp/cd-audit-XXXXXX");
        assert_non_null(mkdtemp(d->dir));
    }
    d->opt.dir = d->dir;
    d->opt.boot_id = "boot-audit";
    if (storage_open(&d->opt, &d->s, NULL, err, sizeof(err)) != 0) {
        fail_msg("storage_open '%s': %s", d->dir, err);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    side_open(&f->a);
    side_open(&f->b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    storage_batch_abort(f->batch);
    storage_close(f->a.s);
    storage_close(f->b.s);
    rm_tree(f->a.dir);
    rm_tree(f->b.dir);
    free(f);
    return 0;
}

#define F struct fixture *f = *state

/* An AUDIT effect of command kind, as the engine emits it. */
static struct engine_effect audit_fx(uint8_t kind,
                                     const char *actor,
                                     const char *object,
                                     int64_t at)
{
    struct engine_effect fx = {.kind = ENGINE_FX_AUDIT,
                               .state = kind,
                               .text = actor,
                               .action = engine_cmd_name(kind),
                               .object = object,
                               .agent = "",
                               .queue = "",
                               .at = at};
    return fx;
}

/* One entry on side d, at time at, with the audit effects given (effect n = position). */
static void entry(struct fixture *f, struct side *d, const struct engine_effect *fx, size_t n)
{
    d->index++;
    if (storage_batch_begin(d->s, d->index, &f->batch, f->err, sizeof(f->err)) != 0) {
        fail_msg("begin: %s", f->err);
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(storage_put_audit(f->batch, (uint32_t)i, &fx[i]), 0);
    }
    int rc = storage_batch_commit(f->batch, f->err, sizeof(f->err));
    f->batch = NULL;
    if (rc != 0) {
        fail_msg("commit: %s", f->err);
    }
}

/* The same entry on both sides. */
static void both(struct fixture *f, const struct engine_effect *fx, size_t n)
{
    entry(f, &f->a, fx, n);
    entry(f, &f->b, fx, n);
}

static int collect(void *data, const struct storage_audit *row)
{
    struct fixture *f = data;
    assert_true(f->n_rows < sizeof(f->rows) / sizeof(f->rows[0]));
    f->rows[f->n_rows++] = *row;
    return 0;
}

static size_t scan(struct fixture *f, struct storage *s, const struct storage_audit_query *q)
{
    f->n_rows = 0;
    assert_int_equal(storage_audit_scan(s, q, collect, f, &f->next), 0);
    return f->n_rows;
}

#define ALL(...) \
    ((struct storage_audit_query){.from_ms = INT64_MIN, .to_ms = INT64_MAX, __VA_ARGS__})

static struct storage_stats stats(struct storage *s)
{
    struct storage_stats st;
    assert_int_equal(storage_stats(s, &st), 0);
    return st;
}

/* Five entries on side a: 1 a model install, 2 two changes by another actor, 3 a note, 4
 * and 5 a pause and a resume; one minute apart. */
static void five_entries(struct fixture *f, struct side *d)
{
    struct engine_effect e1 = audit_fx(ENGINE_CMD_MODEL_INSTALL, "token:ops", "1", T0);
    struct engine_effect e2[] = {
        audit_fx(ENGINE_CMD_AGENT_UPSERT, "user:sue", "ann", T0 + MINUTE),
        audit_fx(ENGINE_CMD_TOKEN_CREATE, "user:sue", "ci", T0 + MINUTE)};
    struct engine_effect e3 =
        audit_fx(ENGINE_CMD_AUDIT_NOTE, "token:ops", "n4", T0 + 2 * MINUTE);
    struct engine_effect e4 =
        audit_fx(ENGINE_CMD_QUEUE_PAUSE, "token:ops", "sales", T0 + 3 * MINUTE);
    struct engine_effect e5 = e4;
    e2[0].agent = "ann";
    e3.action = "member_add";
    e4.queue = e5.queue = "sales";
    e5.state = ENGINE_CMD_QUEUE_RESUME;
    e5.action = "queue_resume";
    e5.at = T0 + 4 * MINUTE;
    entry(f, d, &e1, 1);
    entry(f, d, e2, 2);
    entry(f, d, &e3, 1);
    entry(f, d, &e4, 1);
    entry(f, d, &e5, 1);
}

/* ---- rows and scans ------------------------------------------------------------------- */

static void rows_keep_every_field(void **state)
{
    F;
    struct engine_effect fx = audit_fx(ENGINE_CMD_CONTACT_TRANSFER, "token:ops", "42", T0);
    fx.contact = 42;
    fx.agent = "ann";
    fx.queue = "sales";
    entry(f, &f->a, &fx, 1);
    assert_int_equal(scan(f, f->a.s, &ALL()), 1);
    const struct storage_audit *r = &f->rows[0];
    assert_int_equal(r->id.index, 1);
    assert_int_equal(r->id.n, 0);
    assert_int_equal(r->at, T0);
    assert_int_equal(r->kind, ENGINE_CMD_CONTACT_TRANSFER);
    assert_string_equal(r->actor, "token:ops");
    assert_string_equal(r->action, "contact_transfer");
    assert_string_equal(r->object, "42");
    assert_string_equal(r->agent, "ann");
    assert_string_equal(r->queue, "sales");
    assert_int_equal(r->contact, 42);
    assert_int_equal(f->next.index, 0);
    assert_int_equal(stats(f->a.s).audit, 1);
}

static void an_effect_without_its_action_records_the_commands_name(void **state)
{
    F;
    struct engine_effect fx = audit_fx(ENGINE_CMD_USER_SET, "", "alice", T0);
    fx.action = NULL; /* as an effect decoded from a build before actions */
    entry(f, &f->a, &fx, 1);
    assert_int_equal(scan(f, f->a.s, &ALL()), 1);
    assert_string_equal(f->rows[0].action, "user_set");
    assert_string_equal(f->rows[0].actor, "");
}

static void bad_effects_are_refused(void **state)
{
    F;
    char long_object[ENGINE_TARGET_MAX + 1];
    memset(long_object, 'x', sizeof(long_object) - 1);
    long_object[sizeof(long_object) - 1] = 0;
    struct engine_effect fx = audit_fx(ENGINE_CMD_QUEUE_PAUSE, "token:ops", long_object, T0);
    struct engine_effect ended = {.kind = ENGINE_FX_ENDED};
    struct engine_effect kind = audit_fx(ENGINE_CMD_KIND_COUNT, "token:ops", "x", T0);
    const struct engine_effect *bad[] = {&fx, &ended, &kind};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(storage_batch_begin(f->a.s, 1, &f->batch, f->err, sizeof(f->err)), 0);
        assert_int_equal(storage_put_audit(f->batch, 0, bad[i]), CD_EINVAL);
        assert_int_equal(storage_batch_commit(f->batch, f->err, sizeof(f->err)), CD_EINVAL);
        f->batch = NULL;
    }
    assert_int_equal(stats(f->a.s).audit, 0);
    assert_int_equal(storage_applied(f->a.s), 0);
}

static void newest_first_with_filters(void **state)
{
    F;
    five_entries(f, &f->a);
    assert_int_equal(scan(f, f->a.s, &ALL()), 6);
    const char *order[] = {"5.0", "4.0", "3.0", "2.1", "2.0", "1.0"};
    for (size_t i = 0; i < 6; i++) {
        char id[32];
        snprintf(id, sizeof(id), "%llu.%u", (unsigned long long)f->rows[i].id.index,
                 f->rows[i].id.n);
        assert_string_equal(id, order[i]);
    }
    assert_int_equal(scan(f, f->a.s, &ALL(.actor = "user:sue")), 2);
    assert_string_equal(f->rows[0].action, "token_create");
    assert_string_equal(f->rows[1].agent, "ann");
    assert_int_equal(scan(f, f->a.s, &ALL(.object = "sales")), 2);
    assert_string_equal(f->rows[0].action, "queue_resume");
    assert_int_equal(scan(f, f->a.s, &ALL(.action = "member_add")), 1);
    assert_int_equal(f->rows[0].kind, ENGINE_CMD_AUDIT_NOTE);
    assert_string_equal(f->rows[0].object, "n4");
    assert_int_equal(
        scan(f, f->a.s, &ALL(.actor = "token:ops", .object = "sales", .action = "queue_pause")),
        1);
    assert_int_equal(scan(f, f->a.s, &ALL(.actor = "nobody")), 0);
    assert_int_equal(f->next.index, 0);
}

static void time_windows_are_inclusive(void **state)
{
    F;
    five_entries(f, &f->a);
    struct storage_audit_query q = {.from_ms = T0 + MINUTE, .to_ms = T0 + 3 * MINUTE};
    assert_int_equal(scan(f, f->a.s, &q), 4); /* 4.0, 3.0, 2.1, 2.0 */
    assert_int_equal(f->rows[0].id.index, 4);
    assert_int_equal(f->rows[3].id.index, 2);
    q = (struct storage_audit_query){.from_ms = T0 + 10 * MINUTE, .to_ms = INT64_MAX};
    assert_int_equal(scan(f, f->a.s, &q), 0);
    q = (struct storage_audit_query){.from_ms = INT64_MIN, .to_ms = T0 - 1};
    assert_int_equal(scan(f, f->a.s, &q), 0);
    q = (struct storage_audit_query){.from_ms = T0 + MINUTE, .to_ms = T0};
    assert_int_equal(scan(f, f->a.s, &q), 0); /* from after to: nothing */
}

static void pages_follow_next(void **state)
{
    F;
    five_entries(f, &f->a);
    struct storage_audit_query q = ALL(.limit = 2);
    char seen[64] = "";
    int pages = 0;
    do {
        scan(f, f->a.s, &q);
        for (size_t i = 0; i < f->n_rows; i++) {
            char id[16];
            snprintf(id, sizeof(id), "%llu.%u ", (unsigned long long)f->rows[i].id.index,
                     f->rows[i].id.n);
            strcat(seen, id);
        }
        q.before = f->next;
        pages++;
    } while (f->next.index != 0);
    assert_string_equal(seen, "5.0 4.0 3.0 2.1 2.0 1.0 ");
    assert_int_equal(pages, 3); /* the last page knew nothing was left */
    /* A bound on the rows looked at: a selective filter pages too, with fewer items. */
    q = ALL(.actor = "user:sue", .scan_max = 2);
    assert_int_equal(scan(f, f->a.s, &q), 0); /* looked at 5.0 and 4.0 */
    assert_int_equal(f->next.index, 4);
    q.before = f->next;
    assert_int_equal(scan(f, f->a.s, &q), 1); /* 3.0, 2.1 */
    assert_int_equal(f->next.index, 2);
    assert_int_equal(f->next.n, 1);
    /* A before that names no row (trimmed, or never was) starts below it. */
    q = ALL(.before = {2, 7});
    assert_int_equal(scan(f, f->a.s, &q), 3); /* 2.1, 2.0, 1.0 */
    assert_int_equal(f->rows[0].id.n, 1);
    q = ALL(.before = {1, 0});
    assert_int_equal(scan(f, f->a.s, &q), 0);
    q = (struct storage_audit_query){
        .from_ms = INT64_MIN, .to_ms = T0 + MINUTE, .before = {99, 0}};
    assert_int_equal(scan(f, f->a.s, &q), 3);
}

static void a_row_is_its_id_once(void **state)
{
    F;
    struct engine_effect fx = audit_fx(ENGINE_CMD_QUEUE_PAUSE, "token:ops", "sales", T0);
    entry(f, &f->a, &fx, 1);
    /* The same id twice in a batch: the second replaces the first, wherever its time put it. */
    assert_int_equal(storage_batch_begin(f->a.s, 2, &f->batch, f->err, sizeof(f->err)), 0);
    assert_int_equal(storage_put_audit(f->batch, 0, &fx), 0);
    fx.at = T0 + MINUTE;
    assert_int_equal(storage_put_audit(f->batch, 0, &fx), 0);
    assert_int_equal(storage_batch_commit(f->batch, f->err, sizeof(f->err)), 0);
    f->batch = NULL;
    assert_int_equal(scan(f, f->a.s, &ALL()), 2);
    assert_int_equal(f->rows[0].id.index, 2);
    assert_int_equal(f->rows[0].at, T0 + MINUTE);
    assert_int_equal(f->rows[1].id.index, 1);
    /* The digest is the rows', not the writes': b writing the final rows once agrees. */
    fx.at = T0;
    entry(f, &f->b, &fx, 1);
    fx.at = T0 + MINUTE;
    entry(f, &f->b, &fx, 1);
    assert_int_equal(stats(f->a.s).audit_digest, stats(f->b.s).audit_digest);
    assert_int_equal(stats(f->a.s).audit, 2);
}

static void aborted_rows_are_not_kept(void **state)
{
    F;
    struct engine_effect fx = audit_fx(ENGINE_CMD_QUEUE_PAUSE, "token:ops", "sales", T0);
    uint64_t empty = stats(f->a.s).audit_digest;
    assert_int_equal(storage_batch_begin(f->a.s, 1, &f->batch, f->err, sizeof(f->err)), 0);
    assert_int_equal(storage_put_audit(f->batch, 0, &fx), 0);
    storage_batch_abort(f->batch);
    f->batch = NULL;
    assert_int_equal(scan(f, f->a.s, &ALL()), 0);
    assert_int_equal(stats(f->a.s).audit_digest, empty);
}

/* ---- trim and retention --------------------------------------------------------------- */

static void trim_and_the_digest(void **state)
{
    F;
    five_entries(f, &f->a);
    assert_int_equal(storage_batch_begin(f->a.s, 6, &f->batch, f->err, sizeof(f->err)), 0);
    assert_int_equal(storage_trim_audit(f->batch, T0 + 2 * MINUTE), 0);
    assert_int_equal(storage_batch_commit(f->batch, f->err, sizeof(f->err)), 0);
    f->batch = NULL;
    assert_int_equal(scan(f, f->a.s, &ALL()), 3); /* 5.0, 4.0, 3.0 */
    assert_int_equal(f->rows[2].id.index, 3);
    /* The trimmed ids are gone too: paging from one starts below it, with nothing. */
    assert_int_equal(scan(f, f->a.s, &ALL(.before = {2, 1})), 0);
    /* The same rows written on b give the same digest, and it survives a reopen. */
    f->b.index = 2;
    struct engine_effect e3 =
        audit_fx(ENGINE_CMD_AUDIT_NOTE, "token:ops", "n4", T0 + 2 * MINUTE);
    struct engine_effect e4 =
        audit_fx(ENGINE_CMD_QUEUE_PAUSE, "token:ops", "sales", T0 + 3 * MINUTE);
    struct engine_effect e5 =
        audit_fx(ENGINE_CMD_QUEUE_RESUME, "token:ops", "sales", T0 + 4 * MINUTE);
    e3.action = "member_add";
    e4.queue = e5.queue = "sales";
    entry(f, &f->b, &e3, 1);
    entry(f, &f->b, &e4, 1);
    entry(f, &f->b, &e5, 1);
    assert_int_equal(stats(f->a.s).audit_digest, stats(f->b.s).audit_digest);
    assert_int_equal(stats(f->b.s).audit, 3);
    storage_close(f->a.s);
    side_open(&f->a);
    assert_int_equal(stats(f->a.s).audit_digest, stats(f->b.s).audit_digest);
}

static void retention_counts_back_from_the_newest_row(void **state)
{
    F;
    storage_close(f->a.s);
    f->a.opt.audit_keep_ms = 60 * MINUTE;
    side_open(&f->a);
    for (int i = 1; i <= 4; i++) {
        struct engine_effect fx =
            audit_fx(ENGINE_CMD_QUEUE_PAUSE, "token:ops", "sales", T0 + i * 20 * MINUTE);
        entry(f, &f->a, &fx, 1);
    }
    assert_int_equal(stats(f->a.s).audit, 4); /* newest +80: the cut at +20 keeps +20 */
    struct engine_effect fx =
        audit_fx(ENGINE_CMD_QUEUE_PAUSE, "token:ops", "sales", T0 + 100 * MINUTE);
    entry(f, &f->a, &fx, 1);
    assert_int_equal(stats(f->a.s).audit, 4); /* the cut at +40: +20 goes */
    assert_int_equal(scan(f, f->a.s, &ALL()), 4);
    assert_int_equal(f->rows[3].at, T0 + 40 * MINUTE);
    entry(f, &f->a, NULL, 0); /* a batch without audit rows trims nothing */
    assert_int_equal(stats(f->a.s).audit, 4);
}

static void default_retention_is_a_year(void **state)
{
    F;
    struct engine_effect old = audit_fx(ENGINE_CMD_QUEUE_PAUSE, "a", "q", T0 - 365 * DAY - 1);
    struct engine_effect kept = audit_fx(ENGINE_CMD_QUEUE_PAUSE, "b", "q", T0 - 365 * DAY);
    struct engine_effect now = audit_fx(ENGINE_CMD_QUEUE_PAUSE, "c", "q", T0);
    entry(f, &f->a, &old, 1);
    entry(f, &f->a, &kept, 1);
    entry(f, &f->a, &now, 1);
    assert_int_equal(scan(f, f->a.s, &ALL()), 2);
    assert_string_equal(f->rows[1].actor, "b");
}

static void negative_retention_is_refused(void **state)
{
    F;
    struct storage *s = NULL;
    struct storage_options opt = f->b.opt;
    storage_close(f->b.s);
    f->b.s = NULL;
    opt.audit_keep_ms = -1;
    assert_int_equal(storage_open(&opt, &s, NULL, f->err, sizeof(f->err)), CD_EINVAL);
    assert_non_null(strstr(f->err, "audit"));
    side_open(&f->b);
}

/* ---- a gap's rows from another member -------------------------------------------------- */

/* Side b installs a snapshot at index, its clock at now: a gap (b's applied, index]. */
static struct storage_gap skip_to(struct fixture *f, uint64_t index, int64_t now)
{
    struct engine *e;
    struct engine_command tick = {.kind = ENGINE_CMD_TICK};
    struct storage_gap gap;
    assert_int_equal(engine_new(&e), 0);
    assert_int_equal(engine_apply(e, &tick, now, NULL, NULL), 0);
    assert_int_equal(storage_reset(f->b.s, index, e, f->err, sizeof(f->err)), 0);
    engine_free(e);
    f->b.index = index;
    assert_int_equal(storage_gaps_pending(f->b.s, &gap, 1), 1);
    return gap;
}

/* Copies the gap's audit rows from a to b in pages of about max_bytes; the page count. */
static int fill(struct fixture *f, const struct storage_gap *gap, size_t max_bytes)
{
    struct storage_audit_id cur = {0, 0};
    struct cd_buf page;
    bool done = false;
    int pages = 0;
    cd_buf_init(&page);
    while (!done) {
        assert_int_equal(
            storage_audit_export(f->a.s, gap->first, gap->last, &cur, max_bytes, &page), 0);
        if (storage_audit_import(f->b.s, gap, page.data, page.len, &cur, &done, f->err,
                                 sizeof(f->err)) != 0) {
            fail_msg("import: %s", f->err);
        }
        pages++;
    }
    cd_buf_close(&page);
    return pages;
}

/* Both sides apply entry 1; a alone applies 2..5; b installs a snapshot at 5; both apply 6. */
static struct storage_gap make_gap(struct fixture *f)
{
    struct engine_effect e1 = audit_fx(ENGINE_CMD_MODEL_INSTALL, "token:ops", "1", T0);
    struct engine_effect e6 =
        audit_fx(ENGINE_CMD_TOKEN_REVOKE, "user:sue", "ci", T0 + 9 * MINUTE);
    entry(f, &f->b, &e1, 1); /* a's entry 1, as five_entries writes it */
    five_entries(f, &f->a);
    struct storage_gap gap = skip_to(f, 5, T0 + 4 * MINUTE);
    assert_int_equal(gap.first, 1);
    assert_int_equal(gap.last, 5);
    both(f, &e6, 1);
    return gap;
}

static void a_gap_is_filled_exactly(void **state)
{
    F;
    struct storage_gap gap = make_gap(f);
    assert_int_equal(stats(f->b.s).audit, 2);
    assert_int_not_equal(stats(f->a.s).audit_digest, stats(f->b.s).audit_digest);
    assert_true(fill(f, &gap, 64) > 1); /* small pages: the cursor carries over */
    assert_int_equal(stats(f->a.s).audit_digest, stats(f->b.s).audit_digest);
    assert_int_equal(stats(f->b.s).audit, 7);
    assert_int_equal(scan(f, f->b.s, &ALL(.actor = "user:sue")), 3);
    /* The audit rows alone do not end the gap: its history rows come after them. */
    assert_int_equal(storage_gaps_pending(f->b.s, &gap, 1), 1);
    /* Copied twice (a restart in the middle), the rows are taken once. */
    fill(f, &gap, 1 << 20);
    assert_int_equal(stats(f->a.s).audit_digest, stats(f->b.s).audit_digest);
    assert_int_equal(stats(f->b.s).audit, 7);
}

static void an_export_gives_the_gaps_entries_only(void **state)
{
    F;
    struct storage_gap gap = make_gap(f);
    struct storage_audit_id cur = {0, 0};
    struct cd_buf page;
    bool done = false;
    cd_buf_init(&page);
    /* Entries (2, 4] of a: 3.0 and 4.0. */
    struct storage_gap part = gap;
    assert_int_equal(storage_audit_export(f->a.s, 2, 4, &cur, 1 << 20, &page), 0);
    /* Rows of the gap's entries, but for a gap that is not pending: refused. */
    part.first = 2;
    assert_int_equal(storage_audit_import(f->b.s, &part, page.data, page.len, &cur, &done,
                                          f->err, sizeof(f->err)),
                     CD_ESTATE);
    assert_int_equal(storage_audit_import(f->b.s, &gap, page.data, page.len, &cur, &done,
                                          f->err, sizeof(f->err)),
                     0);
    assert_true(done);
    assert_int_equal(cur.index, 4);
    assert_int_equal(stats(f->b.s).audit, 4);
    assert_int_equal(scan(f, f->b.s,
                          &(struct storage_audit_query){.from_ms = T0 + 2 * MINUTE,
                                                        .to_ms = T0 + 3 * MINUTE}),
                     2);
    cd_buf_close(&page);
}

static void bad_pages_change_nothing(void **state)
{
    F;
    struct storage_gap gap = make_gap(f);
    struct storage_audit_id cur = {0, 0};
    struct cd_buf page, wide;
    bool done = false;
    uint64_t before = stats(f->b.s).audit_digest;
    cd_buf_init(&page);
    cd_buf_init(&wide);
    assert_int_equal(storage_audit_export(f->a.s, gap.first, gap.last, &cur, 1 << 20, &page),
                     0);
    /* Truncated. */
    assert_int_equal(storage_audit_import(f->b.s, &gap, page.data, page.len - 3, &cur, &done,
                                          f->err, sizeof(f->err)),
                     CD_ECORRUPT);
    assert_non_null(strstr(f->err, "malformed page"));
    /* Rows of an entry outside the gap (entry 1, which b wrote itself). */
    assert_int_equal(storage_audit_export(f->a.s, 0, gap.last, &cur, 1 << 20, &wide), 0);
    assert_int_equal(storage_audit_import(f->b.s, &gap, wide.data, wide.len, &cur, &done,
                                          f->err, sizeof(f->err)),
                     CD_ECORRUPT);
    /* Another version. */
    page.data[0] = 9;
    assert_int_equal(storage_audit_import(f->b.s, &gap, page.data, page.len, &cur, &done,
                                          f->err, sizeof(f->err)),
                     CD_ECORRUPT);
    assert_int_equal(stats(f->b.s).audit_digest, before);
    assert_int_equal(cur.index, 0);
    cd_buf_close(&page);
    cd_buf_close(&wide);
}

static void rows_later_than_the_gap_are_refused(void **state)
{
    F;
    struct engine_effect e1 = audit_fx(ENGINE_CMD_MODEL_INSTALL, "token:ops", "1", T0);
    struct storage_audit_id cur = {0, 0};
    struct cd_buf page;
    bool done = false;
    entry(f, &f->b, &e1, 1);
    five_entries(f, &f->a);
    /* A snapshot whose clock is before the rows of entries 4 and 5: they cannot be the
     * gap's, so the page is refused whole. */
    struct storage_gap gap = skip_to(f, 5, T0 + 2 * MINUTE);
    uint64_t before = stats(f->b.s).audit_digest;
    cd_buf_init(&page);
    assert_int_equal(storage_audit_export(f->a.s, gap.first, gap.last, &cur, 1 << 20, &page),
                     0);
    assert_int_equal(storage_audit_import(f->b.s, &gap, page.data, page.len, &cur, &done,
                                          f->err, sizeof(f->err)),
                     CD_ECORRUPT);
    assert_int_equal(stats(f->b.s).audit_digest, before);
    assert_int_equal(stats(f->b.s).audit, 1);
    cd_buf_close(&page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rows_keep_every_field, setup, teardown),
        cmocka_unit_test_setup_teardown(an_effect_without_its_action_records_the_commands_name,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(bad_effects_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(newest_first_with_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(time_windows_are_inclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(pages_follow_next, setup, teardown),
        cmocka_unit_test_setup_teardown(a_row_is_its_id_once, setup, teardown),
        cmocka_unit_test_setup_teardown(aborted_rows_are_not_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(trim_and_the_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_counts_back_from_the_newest_row, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(default_retention_is_a_year, setup, teardown),
        cmocka_unit_test_setup_teardown(negative_retention_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_gap_is_filled_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(an_export_gives_the_gaps_entries_only, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_pages_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_later_than_the_gap_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
