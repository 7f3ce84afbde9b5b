/* storage: state records (contacts, agents) through batches, the applied index, and
 * storage_reset from a live engine state. Every test runs on a fresh data directory under
 * /tmp; the engine fixture builds the model and state that storage_reset copies. */
#include <dirent.h>
#include <limits.h>
#include <unistd.h>

#include "engine_fixture.h"
#include "storage/storage.h"
#include "tests/unit/tmpdir.h"

struct store
{
    char dir[64];
    struct storage_options opt;
    struct storage *s;
    struct storage_batch *b;
    struct storage_open_info info;
    char err[256];
};

#define STORE ((struct store *)f->user)
#define S (STORE->s)
#define B (STORE->b)
#define ERR (STORE->err)

/* ---- data directories --------------------------------------------------------------- */

static void store_open(struct store *st)
{
    int rc = storage_open(&st->opt, &st->s, &st->info, st->err, sizeof(st->err));
    if (rc != 0) {
        fail_msg("storage_open '%s': %s (%s)", st->dir, cd_strerror(rc), st->err);
    }
}

static void store_begin(struct store *st, uint64_t index)
{
    int rc = storage_batch_begin(st->s, index, &st->b, st->err, sizeof(st->err));
    if (rc != 0) {
        fail_msg("begin %llu: %s (%s)", (unsigned long long)index, cd_strerror(rc), st->err);
    }
}

static void store_commit(struct store *st)
{
    int rc = storage_batch_commit(st->b, st->err, sizeof(st->err));
    st->b = NULL;
    if (rc != 0) {
        fail_msg("commit: %s (%s)", cd_strerror(rc), st->err);
    }
}

#define OPEN store_open(STORE)
#define CLOSE (storage_close(S), S = NULL)
#define REOPEN \
    do {       \
        CLOSE; \
        OPEN;  \
    } while (0)
#define BEGIN(index) store_begin(STORE, (index))
#define COMMIT store_commit(STORE)
#define ABORT (storage_batch_abort(B), B = NULL)
#define PUT_CONTACT(c) assert_int_equal(storage_put_contact(B, (c)), 0)
#define PUT_AGENT(a) assert_int_equal(storage_put_agent(B, (a)), 0)
#define APPLIED storage_applied(S)

/* "sales" has 30 s of wrap-up, "support" none; a1..a3 serve both. */
static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("sales")->wrapup_s = 30;
    fx_queue(f, "support", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("a1", "sales", "support");
    AGENT("a2", "sales", "support");
    AGENT("a3", "support");
    struct store *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    snprintf(st->dir, sizeof(st->dir), "/tmp/cd-storage-XXXXXX");
    assert_non_null(mkdtemp(st->dir));
    st->opt.dir = st->dir;
    st->opt.boot_id = "boot-records";
    f->user = st;
    OPEN;
    assert_true(st->info.created);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct store *st = f->user;
    storage_batch_abort(st->b);
    storage_close(st->s);
    rm_tree(st->dir);
    free(st);
    return fx_teardown(state);
}

/* ---- records ------------------------------------------------------------------------ */

/* A contact with every field away from its zero value. */
static struct engine_contact_info full_contact(uint64_t id)
{
    static char key[ENGINE_VALUE_MAX * 2];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = 0;
    struct engine_contact_info c;
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.channel = ENGINE_CH_CHAT;
    c.state = ENGINE_CONTACT_WRAPUP;
    c.priority = -300;
    c.step = 200;
    c.callback = true;
    c.key = key; /* the longest key the engine accepts */
    c.queue = "support-queue-with-a-long-name-0123456789-0123456789-0123456789";
    c.agent = "agent-7";
    c.offer = UINT64_C(1) << 40;
    c.arrived = -86400000;
    c.enqueued = INT64_MAX;
    c.answered = INT64_MIN;
    return c;
}

static struct engine_contact_info plain_contact(uint64_t id)
{
    struct engine_contact_info c;
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.queue = "sales";
    c.arrived = FX_T0 + (int64_t)id;
    c.enqueued = c.arrived;
    return c;
}

static struct engine_agent_info full_agent(const char *name)
{
    struct engine_agent_info a;
    memset(&a, 0, sizeof(a));
    a.name = name;
    a.site = "site-with-31-bytes-0123456789ab";
    a.presence = ENGINE_PRESENCE_AWAY;
    a.state = ENGINE_AGENT_AWAY;
    a.reason = "ring_no_answer";
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        a.capacity[ch] = (uint8_t)(ch * 80 + 1);
        a.load[ch] = (uint8_t)(255 - ch);
    }
    a.last_idle = FX_T0 - 1;
    return a;
}

static const char *str_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static void assert_contact(const struct storage_contact *got,
                           const struct engine_contact_info *w)
{
    assert_int_equal(got->id, w->id);
    assert_int_equal(got->channel, w->channel);
    assert_int_equal(got->state, w->state);
    assert_int_equal(got->priority, w->priority);
    assert_int_equal(got->step, w->step);
    assert_int_equal(got->callback, w->callback);
    assert_int_equal(got->offer, w->offer);
    assert_true(got->arrived == w->arrived);
    assert_true(got->enqueued == w->enqueued);
    assert_true(got->answered == w->answered);
    assert_string_equal(got->key, str_or_empty(w->key));
    assert_string_equal(got->queue, str_or_empty(w->queue));
    assert_string_equal(got->agent, str_or_empty(w->agent));
}

static void assert_agent(const struct storage_agent *got, const struct engine_agent_info *w)
{
    assert_string_equal(got->name, w->name);
    assert_string_equal(got->site, str_or_empty(w->site));
    assert_string_equal(got->reason, str_or_empty(w->reason));
    assert_int_equal(got->presence, w->presence);
    assert_int_equal(got->state, w->state);
    assert_memory_equal(got->capacity, w->capacity, ENGINE_CH_COUNT);
    assert_memory_equal(got->load, w->load, ENGINE_CH_COUNT);
    assert_true(got->last_idle == w->last_idle);
}

static void assert_contact_stored(struct fixture *f, const struct engine_contact_info *w)
{
    struct storage_contact got;
    assert_int_equal(storage_get_contact(S, w->id, &got), 0);
    assert_contact(&got, w);
}

static void assert_agent_stored(struct fixture *f, const struct engine_agent_info *w)
{
    struct storage_agent got;
    assert_int_equal(storage_get_agent(S, w->name, &got), 0);
    assert_agent(&got, w);
}

#define ASSERT_NO_CONTACT(id)                                              \
    do {                                                                   \
        struct storage_contact c_;                                         \
        assert_int_equal(storage_get_contact(S, (id), &c_), CD_ENOTFOUND); \
    } while (0)
#define ASSERT_NO_AGENT(name)                                              \
    do {                                                                   \
        struct storage_agent a_;                                           \
        assert_int_equal(storage_get_agent(S, (name), &a_), CD_ENOTFOUND); \
    } while (0)

static struct storage_stats stats(struct fixture *f)
{
    struct storage_stats st;
    assert_int_equal(storage_stats(S, &st), 0);
    return st;
}

TEST(contact_round_trips_every_field)
{
    struct engine_contact_info c = full_contact(UINT64_MAX);
    struct engine_contact_info nulls = plain_contact(3);
    nulls.key = NULL;
    nulls.queue = NULL;
    nulls.agent = NULL;
    BEGIN(1);
    PUT_CONTACT(&c);
    PUT_CONTACT(&nulls);
    COMMIT;
    assert_contact_stored(f, &c);
    assert_contact_stored(f, &nulls);
    REOPEN;
    assert_contact_stored(f, &c);
    ASSERT_NO_CONTACT(4);
}

TEST(agent_round_trips_every_field)
{
    struct engine_agent_info a =
        full_agent("agent-name-of-63-bytes-0123456789-0123456789-0123456789-0123456");
    struct engine_agent_info b = full_agent("b");
    b.site = NULL;
    b.reason = NULL;
    b.last_idle = INT64_MIN;
    BEGIN(1);
    PUT_AGENT(&a);
    PUT_AGENT(&b);
    COMMIT;
    assert_agent_stored(f, &a);
    assert_agent_stored(f, &b);
    REOPEN;
    assert_agent_stored(f, &a);
    ASSERT_NO_AGENT("c");
    ASSERT_NO_AGENT("");
    ASSERT_NO_AGENT(NULL);
}

TEST(put_replaces_and_delete_removes)
{
    struct engine_contact_info c = plain_contact(9);
    struct engine_agent_info a = full_agent("ann");
    BEGIN(1);
    PUT_CONTACT(&c);
    PUT_AGENT(&a);
    COMMIT;
    c.state = ENGINE_CONTACT_CONNECTED;
    c.agent = "ann";
    a.state = ENGINE_AGENT_BUSY;
    BEGIN(2);
    PUT_CONTACT(&c);
    PUT_AGENT(&a);
    COMMIT;
    assert_contact_stored(f, &c);
    assert_agent_stored(f, &a);
    assert_int_equal(stats(f).contacts, 1);

    BEGIN(3);
    assert_int_equal(storage_del_contact(B, 9), 0);
    assert_int_equal(storage_del_agent(B, "ann"), 0);
    /* Replay may delete what is already gone. */
    assert_int_equal(storage_del_contact(B, 9), 0);
    assert_int_equal(storage_del_agent(B, "nobody"), 0);
    COMMIT;
    ASSERT_NO_CONTACT(9);
    ASSERT_NO_AGENT("ann");
    assert_int_equal(APPLIED, 3);
}

TEST(applied_index_persists_across_reopen)
{
    assert_int_equal(APPLIED, 0);
    assert_int_equal(STORE->info.applied, 0);
    BEGIN(7);
    COMMIT;
    assert_int_equal(APPLIED, 7);
    /* Raft entries that write nothing here leave holes in the sequence of batches. */
    BEGIN(12);
    COMMIT;
    REOPEN;
    assert_false(STORE->info.created);
    assert_int_equal(STORE->info.applied, 12);
    assert_int_equal(APPLIED, 12);
    assert_int_equal(stats(f).applied, 12);
}

TEST(batch_at_old_index_is_rejected_and_changes_nothing)
{
    struct engine_contact_info c = plain_contact(1);
    BEGIN(5);
    PUT_CONTACT(&c);
    COMMIT;
    struct storage_batch *b = NULL;
    assert_int_equal(storage_batch_begin(S, 5, &b, ERR, sizeof(ERR)), CD_EINVAL);
    assert_non_null(strstr(ERR, "index 5"));
    assert_non_null(strstr(ERR, "applied index 5"));
    assert_int_equal(storage_batch_begin(S, 2, &b, ERR, sizeof(ERR)), CD_EINVAL);
    assert_null(b);
    assert_int_equal(APPLIED, 5);
    assert_contact_stored(f, &c);
    /* The next index still works. */
    BEGIN(6);
    COMMIT;
    assert_int_equal(APPLIED, 6);
}

TEST(one_batch_at_a_time)
{
    struct storage_batch *b = NULL;
    BEGIN(1);
    assert_int_equal(storage_batch_begin(S, 2, &b, ERR, sizeof(ERR)), CD_ESTATE);
    assert_null(b);
    assert_int_equal(storage_reset(S, 9, f->e, ERR, sizeof(ERR)), CD_ESTATE);
    ABORT;
    BEGIN(2);
    COMMIT;
}

TEST(abort_keeps_nothing)
{
    struct engine_contact_info c = plain_contact(1);
    struct engine_agent_info a = full_agent("ann");
    BEGIN(1);
    PUT_CONTACT(&c);
    COMMIT;
    BEGIN(2);
    assert_int_equal(storage_del_contact(B, 1), 0);
    PUT_AGENT(&a);
    struct engine_contact_info d = plain_contact(2);
    PUT_CONTACT(&d);
    /* Reads see the last committed batch while a batch is open. */
    ASSERT_NO_CONTACT(2);
    assert_contact_stored(f, &c);
    ABORT;
    assert_int_equal(APPLIED, 1);
    assert_contact_stored(f, &c);
    ASSERT_NO_CONTACT(2);
    ASSERT_NO_AGENT("ann");
    /* The aborted index can be applied again. */
    BEGIN(2);
    COMMIT;
}

TEST(invalid_record_fails_the_batch_for_good)
{
    static char key[ENGINE_VALUE_MAX * 2 + 1];
    memset(key, 'x', sizeof(key) - 1);
    struct engine_contact_info bad = plain_contact(9);
    bad.key = key;
    struct engine_contact_info good = plain_contact(1);
    struct engine_agent_info a = full_agent("ann");
    BEGIN(4);
    PUT_CONTACT(&good);
    assert_int_equal(storage_put_contact(B, &bad), CD_EINVAL);
    /* Sticky: nothing more is written. */
    assert_int_equal(storage_put_agent(B, &a), CD_EINVAL);
    assert_int_equal(storage_del_contact(B, 1), CD_EINVAL);
    assert_int_equal(storage_batch_commit(B, ERR, sizeof(ERR)), CD_EINVAL);
    B = NULL;
    assert_non_null(strstr(ERR, "write batch at index 4 in '"));
    assert_non_null(strstr(ERR, "contact 9: idempotency key too long"));
    assert_int_equal(APPLIED, 0);
    ASSERT_NO_CONTACT(1);
    ASSERT_NO_AGENT("ann");

    struct engine_contact_info ended = plain_contact(2);
    ended.state = ENGINE_CONTACT_COMPLETED;
    struct engine_agent_info noname = full_agent("");
    BEGIN(4);
    assert_int_equal(storage_put_contact(B, &ended), CD_EINVAL);
    ABORT;
    BEGIN(4);
    assert_int_equal(storage_put_agent(B, &noname), CD_EINVAL);
    ABORT;
}

/* ---- iteration ---------------------------------------------------------------------- */

struct seen
{
    uint64_t ids[16];
    char names[16][ENGINE_NAME_MAX];
    size_t n;
    size_t stop_after;
};

static int see_contact(void *data, const struct storage_contact *c)
{
    struct seen *seen = data;
    seen->ids[seen->n++] = c->id;
    return seen->n == seen->stop_after ? 42 : 0;
}

static int see_agent(void *data, const struct storage_agent *a)
{
    struct seen *seen = data;
    snprintf(seen->names[seen->n++], ENGINE_NAME_MAX, "%s", a->name);
    return seen->n == seen->stop_after ? -7 : 0;
}

TEST(foreach_contact_in_id_order_with_early_stop)
{
    const uint64_t ids[] = {300, 2, 70000, 1, 256, UINT64_C(1) << 56};
    BEGIN(1);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct engine_contact_info c = plain_contact(ids[i]);
        PUT_CONTACT(&c);
    }
    COMMIT;
    struct seen seen = {.n = 0};
    assert_int_equal(storage_foreach_contact(S, see_contact, &seen), 0);
    assert_int_equal(seen.n, 6);
    const uint64_t order[] = {1, 2, 256, 300, 70000, UINT64_C(1) << 56};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(seen.ids[i], order[i]);
    }
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 3;
    assert_int_equal(storage_foreach_contact(S, see_contact, &seen), 42);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.ids[2], 256);
}

TEST(foreach_agent_in_name_order_with_early_stop)
{
    const char *names[] = {"zoe", "Bob", "ann", "ann2", "al"};
    BEGIN(1);
    for (size_t i = 0; i < 5; i++) {
        struct engine_agent_info a = full_agent(names[i]);
        PUT_AGENT(&a);
    }
    COMMIT;
    struct seen seen = {.n = 0};
    assert_int_equal(storage_foreach_agent(S, see_agent, &seen), 0);
    assert_int_equal(seen.n, 5);
    assert_string_equal(seen.names[0], "Bob");
    assert_string_equal(seen.names[1], "al");
    assert_string_equal(seen.names[2], "ann");
    assert_string_equal(seen.names[3], "ann2");
    assert_string_equal(seen.names[4], "zoe");
    memset(&seen, 0, sizeof(seen));
    seen.stop_after = 1;
    assert_int_equal(storage_foreach_agent(S, see_agent, &seen), -7);
    assert_int_equal(seen.n, 1);
}

TEST(foreach_on_empty_storage)
{
    struct seen seen = {.n = 0};
    assert_int_equal(storage_foreach_contact(S, see_contact, &seen), 0);
    assert_int_equal(storage_foreach_agent(S, see_agent, &seen), 0);
    assert_int_equal(seen.n, 0);
}

/* ---- reset from an engine state ----------------------------------------------------- */

/* Contacts offered, connected, in wrap-up and queued; agents busy, away, offline and one
 * deleted. */
static void build_engine_state(struct fixture *f)
{
    MODEL_INSTALL;
    LOGIN("a1");
    LOGIN("a2");
    uint64_t c1 = CREATE_IN("sales", ENGINE_CH_VOICE, 2);
    char agent[ENGINE_NAME_MAX];
    snprintf(agent, sizeof(agent), "%s", fx_contact(f, c1).agent);
    ACCEPT(OFFER_OF(c1), agent);
    AFTER(5 * FX_SEC);
    END(c1);
    ASSERT_STATE(c1, WRAPUP);
    uint64_t c2 = CREATE_IN("support", ENGINE_CH_VOICE, 0);
    ASSERT_STATE(c2, OFFERED);
    AFTER(FX_SEC);
    uint64_t c3 = CREATE_IN("support", ENGINE_CH_VOICE, -4);
    ASSERT_STATE(c3, QUEUED);
    EXPECT_OK(fx_create(f, "order-77", "sales", ENGINE_CH_EMAIL, 1, 0, NULL, 0, NULL));
    struct engine_command del = {.kind = ENGINE_CMD_AGENT_DELETE};
    del.u.agent.name = "a3";
    APPLY_OK(del);
}

static int check_stored(void *data, const struct engine_contact_info *c)
{
    struct fixture *f = data;
    assert_contact_stored(f, c);
    return 0;
}

static void assert_records_match_engine(struct fixture *f)
{
    struct storage_stats st = stats(f);
    assert_int_equal(st.contacts, engine_contact_count(f->e));
    assert_int_equal(engine_contacts_foreach(f->e, check_stored, f), 0);
    uint64_t agents = 0;
    const char *name;
    for (size_t i = 0; (name = engine_agent_name(f->e, i)) != NULL; i++) {
        struct engine_agent_info a;
        if (engine_agent_get(f->e, name, &a) != 0) {
            ASSERT_NO_AGENT(name);
            continue;
        }
        assert_agent_stored(f, &a);
        agents++;
    }
    assert_int_equal(st.agents, agents);
}

TEST(reset_writes_the_engine_records_and_records_a_gap)
{
    build_engine_state(f);
    assert_int_equal(engine_contact_count(f->e), 4);
    struct engine_contact_info stale = plain_contact(999);
    struct engine_agent_info ghost = full_agent("ghost");
    struct engine_agent_info a3 = full_agent("a3");
    BEGIN(10);
    PUT_CONTACT(&stale);
    PUT_AGENT(&ghost);
    PUT_AGENT(&a3);
    COMMIT;

    assert_int_equal(storage_reset(S, 50, f->e, ERR, sizeof(ERR)), 0);
    assert_int_equal(APPLIED, 50);
    ASSERT_NO_CONTACT(999);
    ASSERT_NO_AGENT("ghost");
    ASSERT_NO_AGENT("a3"); /* deleted in the engine */
    assert_records_match_engine(f);
    struct storage_stats st = stats(f);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(st.gap_first, 10);
    assert_int_equal(st.gap_last, 50);

    /* The very next index is no gap; the latest gap stays the one reported. */
    assert_int_equal(storage_reset(S, 51, f->e, ERR, sizeof(ERR)), 0);
    REOPEN;
    assert_int_equal(APPLIED, 51);
    assert_records_match_engine(f);
    st = stats(f);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(st.gap_first, 10);
    assert_int_equal(st.gap_last, 50);

    /* A second jump is counted and becomes the latest. */
    assert_int_equal(storage_reset(S, 80, f->e, ERR, sizeof(ERR)), 0);
    st = stats(f);
    assert_int_equal(st.gaps, 2);
    assert_int_equal(st.gap_first, 51);
    assert_int_equal(st.gap_last, 80);
}

TEST(reset_keeps_history_and_allows_an_older_index)
{
    build_engine_state(f);
    struct engine_history h = {.contact = 77,
                               .outcome = ENGINE_CONTACT_ABANDONED,
                               .queue = "sales",
                               .arrived = FX_T0,
                               .ended = FX_T0 + 9,
                               .completed = FX_T0 + 9};
    BEGIN(30);
    assert_int_equal(storage_put_history(B, &h), 0);
    COMMIT;
    assert_int_equal(storage_reset(S, 20, f->e, ERR, sizeof(ERR)), 0);
    assert_int_equal(APPLIED, 20);
    assert_int_equal(stats(f).gaps, 0);
    assert_records_match_engine(f);
    struct storage_history got;
    assert_int_equal(storage_get_history(S, 77, &got), 0);
    /* Replay from the older index continues as usual. */
    BEGIN(21);
    COMMIT;
}

TEST(reset_of_an_empty_engine_empties_the_records)
{
    struct engine_contact_info c = plain_contact(1);
    struct engine_agent_info a = full_agent("ann");
    BEGIN(1);
    PUT_CONTACT(&c);
    PUT_AGENT(&a);
    COMMIT;
    assert_int_equal(storage_reset(S, 2, f->e, ERR, sizeof(ERR)), 0);
    struct storage_stats st = stats(f);
    assert_int_equal(st.contacts, 0);
    assert_int_equal(st.agents, 0);
    assert_int_equal(st.gaps, 0);
    assert_int_equal(st.applied, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(contact_round_trips_every_field),
        FX_TEST(agent_round_trips_every_field),
        FX_TEST(put_replaces_and_delete_removes),
        FX_TEST(applied_index_persists_across_reopen),
        FX_TEST(batch_at_old_index_is_rejected_and_changes_nothing),
        FX_TEST(one_batch_at_a_time),
        FX_TEST(abort_keeps_nothing),
        FX_TEST(invalid_record_fails_the_batch_for_good),
        FX_TEST(foreach_contact_in_id_order_with_early_stop),
        FX_TEST(foreach_agent_in_name_order_with_early_stop),
        FX_TEST(foreach_on_empty_storage),
        FX_TEST(reset_writes_the_engine_records_and_records_a_gap),
        FX_TEST(reset_keeps_history_and_allows_an_older_index),
        FX_TEST(reset_of_an_empty_engine_empties_the_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
