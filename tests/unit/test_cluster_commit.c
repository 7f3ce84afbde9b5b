/* cluster: submitting commands, driven by raft's in-memory fixture (cluster_fixture.h).
 * Group commit on the leader (the commands of one turn share an entry; with
 * CLUSTER__INFLIGHT_MAX entries in flight the rest wait and share the next one; an entry
 * carries at most CLUSTER__BATCH_MAX), each callback exactly once with the engine's
 * result; forwarding from a follower (answered once the follower has applied the write;
 * answered at once when the leader it was sent to is replaced); no leader known. */
#include "cluster_fixture.h"

static int setup(void **state)
{
    struct cf_options opt = {.n = 3};
    struct cf *f = cf_new(&opt);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    cf_free(*state);
    return 0;
}

/* A contact creation whose outcome varies with i: a new key, a key seen just before
 * (the engine answers with the existing contact), or an unknown queue (an error). */
#define KEY_LEN 16
static struct engine_command varied(unsigned i, char key[KEY_LEN])
{
    snprintf(key, KEY_LEN, "k%u", i % 4 == 2 ? i - 1 : i);
    return cf_create(key, i % 5 == 3 ? "nope" : "sales");
}

/* The engine's answers to the same commands in the same order, applied by hand. */
static void reference_results(unsigned n, struct engine_result *out)
{
    struct engine *e;
    struct engine_model m;
    struct engine_result res;
    char key[KEY_LEN];
    assert_int_equal(engine_new(&e), 0);
    cf_model(&m);
    struct engine_command install = {.kind = ENGINE_CMD_MODEL_INSTALL};
    install.u.install.version = 1;
    install.u.install.model = &m;
    assert_int_equal(engine_apply(e, &install, 1000, &res, NULL), 0);
    for (unsigned i = 0; i < n; i++) {
        struct engine_command cmd = varied(i, key);
        memset(&out[i], 0, sizeof(out[i]));
        engine_apply(e, &cmd, 1000, &out[i], NULL);
    }
    engine_model_close(&m);
    engine_free(e);
}

static void assert_same_result(const struct engine_result *want,
                               const struct engine_result *got)
{
    assert_int_equal(got->code, want->code);
    assert_int_equal(got->contact, want->contact);
    assert_int_equal(got->existing, want->existing);
    assert_string_equal(got->message, want->message);
}

/* The newest entry this node has in flight, and how many commands it carries. */
static size_t newest_batch(struct cf *f, unsigned i)
{
    assert_non_null(CF_C(i)->inflight);
    return CF_C(i)->inflight->cmds.n;
}

/* Commands submitted in one turn share one entry. With CLUSTER__INFLIGHT_MAX entries in
 * flight, the commands of the next turns wait, and all of them share the entry proposed
 * when one finishes. Every callback fires once, with what the engine answered. */
TEST(group_commit_shares_entries)
{
    static const unsigned turns[] = {5, 3, 3, 3, 4, 2};
    enum { N = 20 };
    struct cf_call *calls[N];
    struct engine_result want[N];
    char keys[N][KEY_LEN];
    unsigned n = 0;
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    uint64_t last = cf_last_index(f, 0);
    for (unsigned t = 0; t < sizeof(turns) / sizeof(turns[0]); t++) {
        for (unsigned k = 0; k < turns[t]; k++, n++) {
            struct engine_command cmd = varied(n, keys[n]);
            calls[n] = cf_submit(f, 0, &cmd);
        }
        cf_settle(f);
        unsigned entries = t < CLUSTER__INFLIGHT_MAX ? t + 1 : CLUSTER__INFLIGHT_MAX;
        assert_int_equal(cf_last_index(f, 0), last + entries);
        assert_int_equal(CF_C(0)->n_inflight, entries);
        if (t < CLUSTER__INFLIGHT_MAX) {
            assert_int_equal(newest_batch(f, 0), turns[t]);
        }
    }
    assert_int_equal(n, N);
    assert_int_equal(CF_C(0)->queue.n, 4 + 2); /* the last two turns wait */
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(calls[i]->fired, 0);
    }

    /* The first entry to finish frees a slot: the six waiting commands take it together. */
    CF_UNTIL_FIRED(calls[0]);
    assert_int_equal(cf_last_index(f, 0), last + CLUSTER__INFLIGHT_MAX + 1);
    assert_int_equal(CF_C(0)->queue.n, 0);
    assert_int_equal(newest_batch(f, 0), 6);

    CF_UNTIL_FIRED(calls[N - 1]);
    CF_UNTIL_ALL_APPLIED();
    reference_results(N, want);
    bool saw_error = false, saw_existing = false;
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(calls[i]->fired, 1);
        assert_same_result(&want[i], &calls[i]->res);
        saw_error = saw_error || want[i].code != 0;
        saw_existing = saw_existing || want[i].existing;
    }
    assert_true(saw_error && saw_existing); /* the answers really are the engine's */
    assert_int_equal(cf_last_index(f, 0), last + CLUSTER__INFLIGHT_MAX + 1);
    assert_int_equal(cf_digest(f, 1), cf_digest(f, 0));
    assert_int_equal(cf_digest(f, 2), cf_digest(f, 0));
}

/* One turn with more commands than an entry carries: two entries, full then the rest. */
TEST(batch_limit_splits_a_turn)
{
    enum { N = CLUSTER__BATCH_MAX + 3 };
    static struct cf_call *calls[N];
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    uint64_t last = cf_last_index(f, 0);
    for (unsigned i = 0; i < N; i++) {
        struct engine_command cmd = cf_create(NULL, "sales");
        calls[i] = cf_submit(f, 0, &cmd);
    }
    cf_settle(f);
    assert_int_equal(cf_last_index(f, 0), last + 2);
    assert_int_equal(newest_batch(f, 0), 3);
    assert_int_equal(CF_C(0)->inflight->next->cmds.n, CLUSTER__BATCH_MAX);
    CF_UNTIL_FIRED(calls[N - 1]);
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(calls[i]->fired, 1);
        assert_int_equal(calls[i]->res.code, 0);
        assert_int_equal(calls[i]->res.contact, i + 1); /* in submission order */
    }
    assert_int_equal(engine_contact_count(cluster_engine(CF_C(0))), N);
}

static bool waits_for_apply(struct cf *f, void *arg)
{
    return CF_C(1)->applying.n > 0 || cf_fired(f, arg);
}

/* A follower forwards the command; the leader's answer arrives before the follower has
 * applied the entry, so the follower holds it until it has: its client reads its own
 * write there. */
TEST(forward_answers_after_local_apply)
{
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    struct engine_command cmd = cf_create("fwd", "sales");
    struct cf_call *call = cf_submit(f, 1, &cmd);
    assert_true(cf_step_until(f, waits_for_apply, call, 5000));
    assert_int_equal(call->fired, 0);
    assert_int_equal(f->answered[CLUSTER_FWD_COMMAND], 1); /* the leader has answered */
    uint64_t index = cf_applied(f, 0);                     /* it applied the entry */
    assert_true(cf_applied(f, 1) < index);

    CF_UNTIL_FIRED(call);
    assert_int_equal(call->fired, 1);
    assert_int_equal(call->res.code, 0);
    assert_true(call->applied >= index);
    assert_true(call->visible);
    assert_int_equal(f->served[CLUSTER_FWD_COMMAND], 1);
}

static bool follows_another(struct cf *f, void *arg)
{
    (void)arg;
    return strcmp(cf_status(f, 1).leader, "n0") != 0;
}

/* The leader a follower forwarded to stops answering (held here) and is replaced: the
 * follower answers its client as soon as it learns that the leader changed, not when the
 * forwarding gives up; the old leader's late answer changes nothing. */
TEST(forward_leader_change_answers_at_once)
{
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    size_t contacts = engine_contact_count(cluster_engine(CF_C(0)));
    f->hold_to[0] = true;
    struct engine_command cmd = cf_create("lost", "sales");
    struct cf_call *call = cf_submit(f, 1, &cmd);
    cf_elapse(f, 5 * CF_HEARTBEAT_MS);
    assert_int_equal(cf_pending(f, CLUSTER_FWD_COMMAND), 1);
    assert_int_equal(call->fired, 0);

    struct cf_change *transfer = cf_change(f);
    assert_int_equal(cluster_leader_transfer(CF_C(0), "n2", cf_change_done, transfer), 0);
    assert_true(cf_step_until(f, follows_another, NULL, 5000));
    assert_int_equal(call->fired, 1);
    assert_int_equal(call->res.code, CD_EUNAVAIL);
    assert_non_null(strstr(call->res.message, "leader changed"));

    CF_UNTIL_LEADER(2);
    assert_true(transfer->fired);
    assert_int_equal(transfer->status, 0);
    f->hold_to[0] = false; /* the old leader answers at last: it leads no more */
    cf_settle(f);
    assert_int_equal(f->served[CLUSTER_FWD_COMMAND], 1);
    assert_int_equal(f->answered[CLUSTER_FWD_COMMAND], 1);
    assert_int_equal(call->fired, 1);
    CF_UNTIL_ALL_APPLIED();
    for (unsigned i = 0; i < f->n; i++) {
        assert_int_equal(engine_contact_count(cluster_engine(CF_C(i))), contacts);
    }
}

static void partition(struct cf *f, unsigned i, bool cut)
{
    for (unsigned j = 0; j < f->n; j++) {
        if (j != i) {
            (cut ? raft_fixture_saturate : raft_fixture_desaturate)(&f->rf, i, j);
            (cut ? raft_fixture_saturate : raft_fixture_desaturate)(&f->rf, j, i);
        }
    }
}

static bool steps_down(struct cf *f, void *arg)
{
    (void)arg;
    return cf_status(f, 0).role != CLUSTER_LEADER;
}

/* A leader cut off from the others with entries in flight and commands waiting steps
 * down: every command is answered once, with CD_EUNAVAIL, and none is applied anywhere
 * once the partition heals. */
TEST(deposed_leader_answers_everything_once)
{
    enum { N = CLUSTER__INFLIGHT_MAX + 2 };
    struct cf_call *calls[N];
    char key[16];
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    size_t contacts = engine_contact_count(cluster_engine(CF_C(0)));
    partition(f, 0, true);
    for (unsigned i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "cut-%u", i);
        struct engine_command cmd = cf_create(key, "sales");
        calls[i] = cf_submit(f, 0, &cmd);
        cf_settle(f); /* one turn each: entries while slots last, then a queue */
    }
    assert_int_equal(CF_C(0)->n_inflight, CLUSTER__INFLIGHT_MAX);
    assert_int_equal(CF_C(0)->queue.n, N - CLUSTER__INFLIGHT_MAX);

    assert_true(cf_step_until(f, steps_down, NULL, 5 * CF_ELECTION_MS));
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(calls[i]->fired, 1);
        assert_int_equal(calls[i]->res.code, CD_EUNAVAIL);
    }
    partition(f, 0, false);
    unsigned leader = f->n;
    assert_true(cf_step_until(f, cf_some_leader, &leader, 10000));
    assert_int_not_equal(leader, 0);
    CF_UNTIL_ALL_APPLIED();
    for (unsigned i = 0; i < f->n; i++) {
        assert_int_equal(engine_contact_count(cluster_engine(CF_C(i))), contacts);
        assert_int_equal(cf_digest(f, i), cf_digest(f, leader));
    }
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(calls[i]->fired, 1);
    }
}

/* A follower closes with a forwarded command and a read in flight (the leader holds them):
 * each is answered once, with CD_EUNAVAIL, before the close completes; the leader's late
 * answers find nobody and change nothing. */
TEST(close_answers_everything_once)
{
    CF_UNTIL_LEADER(0);
    cf_install(f, 0);
    f->hold_to[0] = true;
    struct engine_command cmd = cf_create("closing", "sales");
    struct cf_call *call = cf_submit(f, 1, &cmd);
    struct cf_read *r = cf_read(f, 1);
    cf_settle(f);
    assert_int_equal(cf_pending(f, CLUSTER_FWD_COMMAND), 1);
    assert_int_equal(cf_pending(f, CLUSTER_FWD_READ_INDEX), 1);
    cf_kill(f, 1);
    cf_drain(f);
    assert_int_equal(call->fired + r->fired, 0);

    cf_close(f, 1);
    assert_int_equal(call->fired, 1);
    assert_int_equal(call->res.code, CD_EUNAVAIL);
    assert_non_null(strstr(call->res.message, "shutting down"));
    assert_int_equal(r->fired, 1);
    assert_int_equal(r->status, CD_EUNAVAIL);

    f->hold_to[0] = false;
    cf_settle(f);
    CF_UNTIL_ALL_APPLIED();
    assert_int_equal(f->answered[CLUSTER_FWD_COMMAND], 1);
    assert_int_equal(f->answered[CLUSTER_FWD_READ_INDEX], 1);
    assert_int_equal(call->fired, 1);
    assert_int_equal(r->fired, 1);
}

/* Before any election nobody leads: a command fails at once with CD_EUNAVAIL, on the next
 * turn of the loop, on every node. */
TEST(no_leader_fails_fast)
{
    struct cf_call *calls[3];
    struct engine_command cmd = cf_create("early", "sales");
    for (unsigned i = 0; i < f->n; i++) {
        calls[i] = cf_submit(f, i, &cmd);
    }
    cf_settle(f);
    for (unsigned i = 0; i < f->n; i++) {
        assert_int_equal(calls[i]->fired, 1);
        assert_int_equal(calls[i]->res.code, CD_EUNAVAIL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(group_commit_shares_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(batch_limit_splits_a_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(forward_answers_after_local_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(forward_leader_change_answers_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(deposed_leader_answers_everything_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(close_answers_everything_once, setup, teardown),
        cmocka_unit_test_setup_teardown(no_leader_fails_fast, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
