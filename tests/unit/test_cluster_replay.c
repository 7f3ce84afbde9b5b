/* cluster: deterministic replay, driven by raft's in-memory fixture (cluster_fixture.h).
 * One sequence of commands, submitted through every node, leaves the same state, the
 * same effects in the same order and the same stored records and history on every node;
 * a node that restarts applies the log again (from the start, or from its latest
 * snapshot) and reaches that same state without writing anything twice.
 *
 * The leader stamps each entry with its own clock, so two separate runs differ in their
 * times; within a run every node applies the same stamps. */
#include "cluster_fixture.h"

static int setup(void **state)
{
    struct cf_options opt = {.n = 3};
    *state = cf_new(&opt);
    return 0;
}

static int setup_snapshots(void **state)
{
    struct cf_options opt = {.n = 3, .snapshot_threshold = 8, .snapshot_trailing = 2};
    *state = cf_new(&opt);
    return 0;
}

static int teardown(void **state)
{
    cf_free(*state);
    return 0;
}

/* The nodes commands go through, in turn; skips those that are down. */
struct turns
{
    struct cf *f;
    unsigned next;
};

static unsigned via(struct turns *t)
{
    for (;;) {
        unsigned i = t->next++ % t->f->n;
        if (t->f->nodes[i].c != NULL && !t->f->nodes[i].killed) {
            return i;
        }
    }
}

static int run(struct turns *t, const struct engine_command *cmd, struct engine_result *res)
{
    return cf_run(t->f, via(t), cmd, res);
}

static void agent_cmd(struct turns *t, uint8_t kind, const char *name, uint8_t presence)
{
    struct engine_command cmd = {.kind = kind};
    cmd.u.agent.name = name;
    cmd.u.agent.presence = presence;
    cmd.u.agent.reason = presence == ENGINE_PRESENCE_AWAY ? "lunch" : NULL;
    assert_int_equal(run(t, &cmd, NULL), 0);
}

static void contact_cmd(struct turns *t, uint8_t kind, uint64_t id)
{
    struct engine_command cmd = {.kind = kind};
    cmd.u.contact.id = id;
    assert_int_equal(run(t, &cmd, NULL), 0);
}

static void queue_cmd(struct turns *t, uint8_t kind)
{
    struct engine_command cmd = {.kind = kind};
    cmd.u.queue.name = "sales";
    assert_int_equal(run(t, &cmd, NULL), 0);
}

static uint64_t create(struct turns *t, const char *key, uint8_t channel)
{
    struct engine_command cmd = cf_create(key, "sales");
    struct engine_result res;
    cmd.u.create.channel = channel;
    assert_int_equal(run(t, &cmd, &res), 0);
    return res.contact;
}

/* Accepts the open offer of contact id (as the leader's state names it); returns its
 * offer id. */
static uint64_t accept_offer(struct turns *t, uint64_t id)
{
    struct engine_contact_info info;
    char agent[ENGINE_NAME_MAX];
    unsigned leader = 0;
    while (cf_status(t->f, leader).role != CLUSTER_LEADER) {
        leader++;
    }
    assert_int_equal(engine_contact_get(cluster_engine(t->f->nodes[leader].c), id, &info), 0);
    assert_int_not_equal(info.offer, 0);
    snprintf(agent, sizeof(agent), "%s", info.agent);
    struct engine_command cmd = {.kind = ENGINE_CMD_OFFER_ACCEPT};
    cmd.u.offer.id = info.offer;
    cmd.u.offer.agent = agent;
    assert_int_equal(run(t, &cmd, NULL), 0);
    return info.offer;
}

/* Logins, offers, an accept, a transfer of state, a stale accept the engine refuses, a
 * paused queue, endings that write history: through every node in turn. */
static void play(struct cf *f, unsigned first)
{
    struct turns t = {f, first};
    cf_install(f, via(&t));
    agent_cmd(&t, ENGINE_CMD_AGENT_LOGIN, "a1", ENGINE_PRESENCE_AVAILABLE);
    agent_cmd(&t, ENGINE_CMD_AGENT_LOGIN, "a2", ENGINE_PRESENCE_AVAILABLE);
    uint64_t voice = create(&t, "call-1", ENGINE_CH_VOICE);
    uint64_t offer = accept_offer(&t, voice);
    uint64_t chat = create(&t, "chat-1", ENGINE_CH_CHAT);
    accept_offer(&t, chat);

    struct engine_attr attr = {"tier", "gold"};
    struct engine_command set = {.kind = ENGINE_CMD_CONTACT_SET_ATTRS};
    set.u.set_attrs.id = chat;
    set.u.set_attrs.n_attrs = 1;
    set.u.set_attrs.attrs = &attr;
    assert_int_equal(run(&t, &set, NULL), 0);

    struct engine_command stale = {.kind = ENGINE_CMD_OFFER_ACCEPT};
    stale.u.offer.id = offer;
    stale.u.offer.agent = "a1";
    assert_true(run(&t, &stale, NULL) != 0); /* the same refusal on every node */

    contact_cmd(&t, ENGINE_CMD_CONTACT_END, voice);
    uint64_t left = create(&t, "chat-2", ENGINE_CH_CHAT);
    contact_cmd(&t, ENGINE_CMD_CONTACT_ABANDON, left);
    queue_cmd(&t, ENGINE_CMD_QUEUE_PAUSE);
    uint64_t waiting = create(&t, "chat-3", ENGINE_CH_CHAT);
    agent_cmd(&t, ENGINE_CMD_AGENT_STATE, "a2", ENGINE_PRESENCE_AWAY);
    queue_cmd(&t, ENGINE_CMD_QUEUE_RESUME);
    contact_cmd(&t, ENGINE_CMD_CONTACT_ABANDON, waiting);
    contact_cmd(&t, ENGINE_CMD_CONTACT_END, chat);
}

/* Every live node: the same state, the same effects in the same order (handed over, and
 * kept in the outbox), the same records and history. restarted: a node whose effects
 * handed over since it restarted are only those of the entries it had not committed. */
static void assert_all_equal(struct cf *f, int restarted)
{
    CF_UNTIL_ALL_APPLIED();
    struct storage_stats want = cf_storage(f, 0);
    assert_true(want.history > 0);
    assert_true(f->nodes[0].effects > 0);
    for (unsigned i = 1; i < f->n; i++) {
        struct storage_stats st = cf_storage(f, i);
        assert_int_equal(cf_digest(f, i), cf_digest(f, 0));
        assert_int_equal(cf_outbox(f, i), cf_outbox(f, 0));
        if ((int)i != restarted) {
            assert_int_equal(f->nodes[i].effects, f->nodes[0].effects);
            assert_int_equal(f->nodes[i].effect_hash, f->nodes[0].effect_hash);
        }
        assert_int_equal(st.applied, want.applied);
        assert_int_equal(st.contacts, want.contacts);
        assert_int_equal(st.agents, want.agents);
        assert_int_equal(st.history, want.history);
        assert_int_equal(st.history_digest, want.history_digest);
        assert_int_equal(st.gaps, 0);
    }
}

TEST(same_commands_same_state_everywhere)
{
    CF_UNTIL_LEADER(0);
    play(f, 1);
    assert_all_equal(f, -1);
}

/* Node 1 stops, misses some entries, starts again on what its Raft persisted: it applies
 * the whole log again; storage, already holding most of it, writes each entry once, and
 * only the effects of the entries it had not committed are handed over (the others were,
 * before it stopped, and its outbox keeps them). */
TEST(restart_replays_the_log)
{
    CF_UNTIL_LEADER(0);
    play(f, 0);
    CF_UNTIL_ALL_APPLIED();
    uint64_t history = cf_storage(f, 1).history;
    cf_kill(f, 1);
    cf_drain(f);
    cf_close(f, 1);
    struct turns t = {f, 2};
    uint64_t late = create(&t, "late", ENGINE_CH_CHAT);
    contact_cmd(&t, ENGINE_CMD_CONTACT_ABANDON, late);
    uint64_t before = f->nodes[0].effects;

    cf_open(f, 1);
    cf_revive(f, 1);
    assert_all_equal(f, 1);
    assert_true(f->nodes[1].effects > 0); /* those of the two late entries */
    assert_true(f->nodes[1].effects < before);
    assert_int_equal(f->nodes[1].restored, 0); /* the log alone, from its first entry */
    /* the late contact's row (and the spans of the agent it reached), each once */
    assert_true(cf_storage(f, 1).history > history);
    assert_int_equal(cf_storage(f, 1).history, cf_storage(f, 0).history);
    assert_int_equal(cf_storage(f, 1).history_digest, cf_storage(f, 0).history_digest);
}

/* The same with snapshots taken along the way: the node restores its latest snapshot
 * (older than what its storage holds: no history gap) and applies the log after it. */
TEST(restart_from_snapshot_replays_the_tail)
{
    CF_UNTIL_LEADER(0);
    play(f, 2);
    CF_UNTIL_ALL_APPLIED();
    cf_kill(f, 1);
    cf_drain(f);
    cf_close(f, 1);
    struct turns t = {f, 0};
    create(&t, "late", ENGINE_CH_CHAT);

    cf_open(f, 1);
    /* At start, from its own snapshot: older than what its storage holds, so not a gap (the
     * outbox has those entries' effects). */
    assert_int_equal(f->nodes[1].restored, 0);
    cf_revive(f, 1);
    CF_UNTIL_ALL_APPLIED();
    for (unsigned i = 1; i < f->n; i++) {
        struct storage_stats st = cf_storage(f, i), want = cf_storage(f, 0);
        assert_int_equal(cf_digest(f, i), cf_digest(f, 0));
        assert_int_equal(st.applied, want.applied);
        assert_int_equal(st.history, want.history);
        assert_int_equal(st.history_digest, want.history_digest);
        assert_int_equal(st.gaps, 0);
        assert_int_equal(cf_outbox(f, i), cf_outbox(f, 0));
    }
}

/* Read barriers are log entries that never reach the state machine. A snapshot taken past
 * them stands for the same state as the last command before them: a node restarted from it,
 * its storage holding that command, has skipped nothing and records no history gap (else
 * every member, restarted so, would hold one nobody could fill). */
TEST(a_snapshot_past_read_barriers_is_no_gap)
{
    CF_UNTIL_LEADER(0);
    play(f, 0);
    CF_UNTIL_ALL_APPLIED();
    uint64_t stored = cf_storage(f, 1).applied;
    for (int i = 0; i < 24; i++) { /* past the snapshot threshold (8), barriers only */
        struct cf_read *r = cf_read(f, 0);
        CF_UNTIL_READ(r);
        assert_int_equal(r->status, 0);
    }
    CF_UNTIL_ALL_APPLIED();
    assert_true(cf_status(f, 1).snapshot_index > stored);
    assert_int_equal(cf_storage(f, 1).applied, stored);
    cf_kill(f, 1);
    cf_drain(f);
    cf_close(f, 1);
    cf_open(f, 1);
    cf_revive(f, 1);
    CF_UNTIL_ALL_APPLIED();
    struct storage_stats st = cf_storage(f, 1);
    assert_int_equal(st.gaps, 0);
    assert_int_equal(st.gaps_pending, 0);
    assert_int_equal(st.history_digest, cf_storage(f, 0).history_digest);
    assert_int_equal(cf_digest(f, 1), cf_digest(f, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(same_commands_same_state_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_replays_the_log, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_from_snapshot_replays_the_tail, setup_snapshots,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_snapshot_past_read_barriers_is_no_gap,
                                        setup_snapshots, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
