/* cluster: a node that fell behind the leader's log catches up by installing a snapshot,
 * driven by raft's in-memory fixture (cluster_fixture.h). Its state then equals the
 * others'; the history and audit rows of the entries it skipped are a recorded gap, pending
 * until history.c has copied them from a member (the audit rows first), after which the
 * history and audit digests agree too. */
#include "cluster_fixture.h"

static int setup(void **state)
{
    struct cf_options opt = {.n = 3, .snapshot_threshold = 16, .snapshot_trailing = 4};
    *state = cf_new(&opt);
    return 0;
}

static int teardown(void **state)
{
    cf_free(*state);
    return 0;
}

/* n contacts created and abandoned through the leader, one entry each: every one leaves
 * a history row; and as many queue pauses and resumes, each an audit row. */
static void create_and_abandon(struct cf *f, unsigned n)
{
    char key[32];
    struct engine_result res;
    for (unsigned k = 0; k < n; k++) {
        snprintf(key, sizeof(key), "lag-%u", k);
        struct engine_command create = cf_create(key, "sales");
        assert_int_equal(cf_run(f, 0, &create, &res), 0);
        struct engine_command abandon = {.kind = ENGINE_CMD_CONTACT_ABANDON};
        abandon.u.contact.id = res.contact;
        assert_int_equal(cf_run(f, 0, &abandon, NULL), 0);
        struct engine_command pause = {
            .kind = k % 2 == 0 ? ENGINE_CMD_QUEUE_PAUSE : ENGINE_CMD_QUEUE_RESUME,
            .actor = "token:ops"};
        pause.u.queue.name = "sales";
        assert_int_equal(cf_run(f, 0, &pause, NULL), 0);
    }
}

static bool installed_and_caught_up(struct cf *f, void *arg)
{
    (void)arg;
    return f->nodes[2].restored != 0 && cf_applied(f, 2) == cf_applied(f, 0);
}

static bool gap_filled(struct cf *f, void *arg)
{
    (void)arg;
    return cf_storage(f, 2).gaps_pending == 0;
}

TEST(snapshot_install_on_a_lagging_node)
{
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    CF_UNTIL_ALL_APPLIED();
    uint64_t stored = storage_applied(cluster_storage(CF_C(2)));
    cf_kill(f, 2);
    f->hold_kind[CLUSTER_FWD_HISTORY] = true;
    create_and_abandon(f, 20);
    /* The leader has snapshotted and dropped the entries node 2 would need. */
    assert_true(cf_status(f, 0).snapshot_index > stored);
    assert_true(CF_C(0)->raft.log.offset > cf_applied(f, 2));

    cf_revive(f, 2);
    assert_true(cf_step_until(f, installed_and_caught_up, NULL, 10000));
    CF_UNTIL_ALL_APPLIED();
    uint64_t snapshot = f->nodes[2].restored;
    assert_int_equal(cf_status(f, 2).snapshot_index, snapshot);
    for (unsigned i = 1; i < f->n; i++) {
        assert_int_equal(cf_digest(f, i), cf_digest(f, 0));
    }

    /* Its history lacks the rows of (stored, snapshot]: a gap, recorded and pending. */
    struct storage_stats lag = cf_storage(f, 2), full = cf_storage(f, 0);
    assert_int_equal(lag.gaps, 1);
    assert_int_equal(lag.gaps_pending, 1);
    assert_int_equal(lag.gap_first, stored);
    assert_int_equal(lag.gap_last, snapshot);
    assert_true(lag.history < full.history);
    assert_true(lag.history_digest != full.history_digest);
    assert_int_equal(lag.contacts, full.contacts);
    assert_int_equal(lag.agents, full.agents);
    assert_true(cf_pending(f, CLUSTER_FWD_HISTORY) >= 1); /* it asked a member */
    /* The gap's audit rows came first, and are in: only its history is still pending. */
    assert_true(f->served[CLUSTER_FWD_AUDIT] >= 1);
    assert_true(full.audit >= 20);
    assert_int_equal(lag.audit, full.audit);
    assert_int_equal(lag.audit_digest, full.audit_digest);

    /* A member answers: the gap is filled and every history agrees. */
    f->hold_kind[CLUSTER_FWD_HISTORY] = false;
    assert_true(cf_step_until(f, gap_filled, NULL, 5000));
    CF_UNTIL_ALL_APPLIED();
    lag = cf_storage(f, 2);
    assert_int_equal(lag.gaps, 1);
    assert_int_equal(lag.gaps_pending, 0);
    for (unsigned i = 1; i < f->n; i++) {
        struct storage_stats st = cf_storage(f, i);
        assert_int_equal(st.applied, full.applied);
        assert_int_equal(st.history, full.history);
        assert_int_equal(st.history_digest, full.history_digest);
        assert_int_equal(st.audit_digest, full.audit_digest);
        assert_int_equal(cf_digest(f, i), cf_digest(f, 0));
    }
    assert_true(f->served[CLUSTER_FWD_HISTORY] >= 1);
}

/* The threshold after a snapshot: the log may grow to the snapshot's size in bytes. */
static void threshold_follows_the_state(void **state)
{
    (void)state;
    /* 1 MB of state, entries of 100 bytes: 10,000 entries. */
    assert_int_equal(cluster__snapshot_threshold(1000000, 409600, 4096, 4096), 10000);
    /* A small state: the configured threshold stays the floor. */
    assert_int_equal(cluster__snapshot_threshold(20000, 409600, 4096, 4096), 4096);
    /* A huge one: capped, so the log kept in memory stays bounded. */
    assert_int_equal(cluster__snapshot_threshold(1ull << 40, 409600, 4096, 16),
                     CLUSTER__SNAPSHOT_THRESHOLD_MAX);
    /* A configured threshold above the cap is kept. */
    assert_int_equal(cluster__snapshot_threshold(1ull << 40, 409600, 4096, 500000), 500000);
    /* Nothing known of the entries: as if one byte each, then the cap. */
    assert_int_equal(cluster__snapshot_threshold(5000, 0, 0, 16), 5000);
}

static bool snapshotted_twice(struct cf *f, void *arg)
{
    (void)arg;
    return cf_status(f, 0).snapshot_index > 2 * 16;
}

/* On a live cluster: contacts that stay queued grow the state, and with it the number of
 * entries between snapshots, on every node. */
TEST(threshold_grows_with_the_state)
{
    char key[32];
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    for (unsigned k = 0; k < 400; k++) {
        snprintf(key, sizeof(key), "queued-%u", k);
        struct engine_command create = cf_create(key, "sales");
        assert_int_equal(cf_run(f, 0, &create, NULL), 0);
    }
    CF_UNTIL_ALL_APPLIED();
    assert_true(cf_step_until(f, snapshotted_twice, NULL, 1000));
    for (unsigned i = 0; i < f->n; i++) {
        unsigned t = CF_C(i)->raft.snapshot.threshold;
        /* 400 queued contacts encode to more bytes than 16 entries of one contact each. */
        assert_true(t > 16);
        assert_true(t <= CLUSTER__SNAPSHOT_THRESHOLD_MAX);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threshold_follows_the_state),
        cmocka_unit_test_setup_teardown(threshold_grows_with_the_state, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_install_on_a_lagging_node, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
