/* cluster: linearizable reads (cluster_read_barrier), driven by raft's in-memory fixture
 * (cluster_fixture.h). On the leader, one barrier entry covers every reader that arrived
 * before it was proposed; on a follower, the leader's read index, then waiting until this
 * node has applied it; without a leader, or when the leader asked is replaced, an answer
 * at once with CD_EUNAVAIL. */
#include "cluster_fixture.h"

static int setup(void **state)
{
    struct cf_options opt = {.n = 3};
    *state = cf_new(&opt);
    return 0;
}

static int teardown(void **state)
{
    cf_free(*state);
    return 0;
}

/* Three readers of one turn share one barrier, proposed after the command submitted
 * before them; a reader that comes while it is in flight waits for the next one. Each is
 * answered once its barrier has applied, the state then showing the command. */
TEST(leader_barrier_covers_earlier_commands)
{
    struct cf_read *r[3];
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    uint64_t last = cf_last_index(f, 0);
    struct engine_command cmd = cf_create("before", "sales");
    struct cf_call *call = cf_submit(f, 0, &cmd);
    for (unsigned i = 0; i < 3; i++) {
        r[i] = cf_read(f, 0);
    }
    cf_settle(f);
    assert_int_equal(cf_last_index(f, 0), last + 2); /* the command's entry, one barrier */
    struct cf_read *late = cf_read(f, 0);
    cf_settle(f);
    assert_int_equal(cf_last_index(f, 0), last + 2); /* waits: a barrier is in flight */

    CF_UNTIL_READ(r[0]);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(r[i]->fired, 1);
        assert_int_equal(r[i]->status, 0);
        assert_true(r[i]->applied >= last + 2);
    }
    assert_int_equal(call->fired, 1);
    assert_true(call->applied <= r[0]->applied);
    assert_int_equal(late->fired, 0);
    assert_int_equal(cf_last_index(f, 0), last + 3); /* the late reader's own barrier */

    CF_UNTIL_READ(late);
    assert_int_equal(late->fired, 1);
    assert_int_equal(late->status, 0);
    assert_true(late->applied >= last + 3);
    assert_int_equal(f->served[CLUSTER_FWD_READ_INDEX], 0); /* the leader asks nobody */
}

static bool leader_answered_read(struct cf *f, void *arg)
{
    (void)arg;
    return f->answered[CLUSTER_FWD_READ_INDEX] > 0;
}

/* A follower that the leader's messages do not reach asks the leader for its read index
 * (a barrier there), and answers its reader only once it has itself applied that index:
 * then its state shows what the leader had committed before the read. */
TEST(follower_read_waits_for_local_apply)
{
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    raft_fixture_saturate(&f->rf, 0, 1);
    struct engine_command cmd = cf_create("seen", "sales");
    struct cf_call *call = cf_submit(f, 0, &cmd);
    CF_UNTIL_FIRED(call);
    assert_int_equal(call->res.code, 0);
    uint64_t committed = cf_applied(f, 0);
    assert_true(cf_applied(f, 1) < committed);

    struct cf_read *r = cf_read(f, 1);
    assert_true(cf_step_until(f, leader_answered_read, NULL, 1000));
    assert_int_equal(f->served[CLUSTER_FWD_READ_INDEX], 1);
    cf_elapse(f, 3 * CF_HEARTBEAT_MS);
    assert_int_equal(r->fired, 0); /* the follower has not applied the index yet */
    assert_non_null(CF_C(1)->readers_applying.head);

    raft_fixture_desaturate(&f->rf, 0, 1);
    CF_UNTIL_READ(r);
    assert_int_equal(r->fired, 1);
    assert_int_equal(r->status, 0);
    assert_true(r->applied > committed); /* the leader's barrier came after the command */
    struct engine_contact_info info;
    assert_int_equal(engine_contact_get(cluster_engine(CF_C(1)), call->res.contact, &info), 0);
}

static bool follows_another(struct cf *f, void *arg)
{
    (void)arg;
    return strcmp(cf_status(f, 1).leader, "n0") != 0;
}

/* The leader asked for a read index answers nothing (held here) and is replaced: the
 * reader fails at once with CD_EUNAVAIL, and the late answer is ignored. */
TEST(follower_read_fails_when_leader_changes)
{
    CF_UNTIL_LEADER(0);
    f->hold_to[0] = true;
    struct cf_read *r = cf_read(f, 1);
    cf_elapse(f, 3 * CF_HEARTBEAT_MS);
    assert_int_equal(cf_pending(f, CLUSTER_FWD_READ_INDEX), 1);
    assert_int_equal(r->fired, 0);

    struct cf_change *transfer = cf_change(f);
    assert_int_equal(cluster_leader_transfer(CF_C(0), "n2", cf_change_done, transfer), 0);
    assert_true(cf_step_until(f, follows_another, NULL, 5000));
    assert_int_equal(r->fired, 1);
    assert_int_equal(r->status, CD_EUNAVAIL);

    f->hold_to[0] = false;
    cf_settle(f);
    assert_int_equal(f->answered[CLUSTER_FWD_READ_INDEX], 1);
    assert_int_equal(r->fired, 1);

    /* The next read goes to the new leader. */
    CF_UNTIL_LEADER(2);
    struct cf_read *again = cf_read(f, 1);
    CF_UNTIL_READ(again);
    assert_int_equal(again->status, 0);
}

/* No leader yet: every node's reader fails at once. */
TEST(no_leader_read_fails_fast)
{
    struct cf_read *r[3];
    for (unsigned i = 0; i < f->n; i++) {
        r[i] = cf_read(f, i);
    }
    cf_settle(f);
    for (unsigned i = 0; i < f->n; i++) {
        assert_int_equal(r[i]->fired, 1);
        assert_int_equal(r[i]->status, CD_EUNAVAIL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(leader_barrier_covers_earlier_commands, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(follower_read_waits_for_local_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(follower_read_fails_when_leader_changes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(no_leader_read_fails_fast, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
