/* Deadlines: ring-no-answer, automatic end of wrap-up, queue timeouts and overflow,
 * escalation steps, engine_next_deadline() and the clock that never runs backwards. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "t", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("t")->ring_s = 15;
    Q("t")->wrapup_s = 30;
    fx_queue(f, "spill", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "mw", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    Q("mw")->max_wait_s = 60;
    Q("mw")->overflow_queue = fx_queue_index(f, "spill");
    fx_queue(f, "mwto", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    Q("mwto")->max_wait_s = 45;
    fx_queue(f, "mwext", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    Q("mwext")->max_wait_s = 10;
    fx_copy_str(Q("mwext")->overflow_target, ENGINE_TARGET_MAX, "sip:backup@site-b");
    fx_queue(f, "esc", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue_skill(f, "esc", "spanish", 8);
    Q("esc")->max_wait_s = 100;
    fx_step(f, "esc", 30)->relax = 3;
    struct engine_escalation *s2 = fx_step(f, "esc", 60);
    s2->n_drop = 1;
    s2->drop[0] = fx_skill(f, "spanish");
    fx_queue(f, "boost", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    fx_step(f, "boost", 20)->priority_boost = 10;
    fx_queue(f, "ringq", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_RING_ALL);
    Q("ringq")->ring_s = 10;
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

TEST(ring_no_answer_at_exactly_ring_s)
{
    AGENT("a1", "t");
    AGENT("a2", "t");
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t c1 = CREATE_IN("t", ENGINE_CH_VOICE, 0);
    uint64_t o1 = OFFER_OF(c1);
    assert_int_equal(FX(OFFER, c1, "a1")->at, FX_T0 + 15000);
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 15000);
    AT(FX_T0 + 1000);
    uint64_t c2 = CREATE_IN("t", ENGINE_CH_VOICE, 0);
    ASSERT_QUEUED(c2, "t");

    AT(FX_T0 + 14999);
    TICK;
    ASSERT_OFFERED(c1, "a1");
    assert_int_equal(f->n_fx, f->mark);

    AT(FX_T0 + 15000);
    TICK;
    const struct fx_effect *cancel = FX(OFFER_CANCEL, c1, "a1");
    assert_int_equal(cancel->offer, o1);
    assert_int_equal(cancel->state, ENGINE_CONTACT_QUEUED);
    ASSERT_QUEUED(c1, "t");
    assert_int_equal(fx_contact(f, c1).enqueued, FX_T0);
    struct engine_agent_info info = fx_agent_info(f, "a1");
    assert_int_equal(info.state, ENGINE_AGENT_AWAY);
    assert_int_equal(info.presence, ENGINE_PRESENCE_AWAY);
    assert_string_equal(info.reason, "ring_no_answer");
    assert_string_equal(FX(AGENT_STATE, 0, "a1")->text, "ring_no_answer");
    /* a stale accept after the ring-no-answer */
    AT(FX_T0 + 16000);
    ACCEPT_ERR(o1, "a1", CD_ESTALE);
    ASSERT_QUEUED(c1, "t");

    /* c1 kept its place ahead of c2. */
    LOGIN("a2");
    ASSERT_OFFERED(c1, "a2");
    ASSERT_QUEUED(c2, "t");
}

TEST(accept_in_the_command_that_passes_the_deadline_is_stale)
{
    AGENT("a1", "t");
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t c1 = CREATE_IN("t", ENGINE_CH_VOICE, 0);
    uint64_t o1 = OFFER_OF(c1);
    AT(FX_T0 + 15000);
    ACCEPT_ERR(o1, "a1", CD_ESTALE);
    FX(OFFER_CANCEL, c1, "a1"); /* the deadline fired within this command */
    ASSERT_QUEUED(c1, "t");
    ASSERT_AGENT("a1", AWAY);
}

TEST(accept_one_ms_before_the_deadline_wins)
{
    AGENT("a1", "t");
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t c1 = CREATE_IN("t", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 14999);
    ACCEPT(OFFER_OF(c1), "a1");
    ASSERT_CONNECTED(c1, "a1");
    AT(FX_T0 + 20000);
    TICK;
    ASSERT_CONNECTED(c1, "a1");
    ASSERT_AGENT("a1", BUSY);
}

TEST(ring_no_answer_uses_model_reason)
{
    AGENT("a1", "t");
    fx_copy_str(f->m.rna_reason, ENGINE_VALUE_MAX, "missed");
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t c1 = CREATE_IN("t", ENGINE_CH_CHAT, 0);
    AT(FX_T0 + 15000);
    TICK;
    ASSERT_QUEUED(c1, "t");
    assert_string_equal(fx_agent_info(f, "a1").reason, "missed");
}

TEST(ring_all_no_answer_rings_again_without_away)
{
    AGENT("r1", "ringq");
    AGENT("r2", "ringq");
    MODEL_INSTALL;
    LOGIN("r1");
    LOGIN("r2");
    uint64_t c1 = CREATE_IN("ringq", ENGINE_CH_VOICE, 0);
    uint64_t o1 = OFFER_OF(c1);
    AT(FX_T0 + 10000);
    TICK;
    assert_int_equal(FX(OFFER_CANCEL, c1, "r1")->offer, o1);
    FX(OFFER_CANCEL, c1, "r2");
    assert_int_equal(fx_agent_info(f, "r1").presence, ENGINE_PRESENCE_AVAILABLE);
    assert_int_equal(fx_agent_info(f, "r2").presence, ENGINE_PRESENCE_AVAILABLE);
    ASSERT_STATE(c1, OFFERED);
    uint64_t o2 = OFFER_OF(c1);
    assert_true(o2 > o1);
    assert_int_equal(FX(OFFER, c1, "r1")->offer, o2);
    assert_int_equal(FX(OFFER, c1, "r2")->offer, o2);
    assert_int_equal(FX(OFFER, c1, "r2")->at, FX_T0 + 20000);
    ACCEPT_ERR(o1, "r1", CD_ESTALE);
    ACCEPT(o2, "r1");
    ASSERT_CONNECTED(c1, "r1");
}

TEST(wrapup_ends_automatically)
{
    AGENT("a1", "t");
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t c1 = CREATE_IN("t", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 2000);
    ACCEPT(OFFER_OF(c1), "a1");
    assert_int_equal(engine_next_deadline(f->e), INT64_MAX);
    AT(FX_T0 + 50000);
    END(c1);
    assert_int_equal(FX(WRAPUP, c1, "a1")->at, FX_T0 + 80000);
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 80000);
    AT(FX_T0 + 79999);
    TICK;
    ASSERT_STATE(c1, WRAPUP);
    AT(FX_T0 + 80000);
    TICK;
    ASSERT_GONE(c1);
    const struct engine_history *h = &FX(ENDED, c1, NULL)->h;
    assert_int_equal(h->outcome, ENGINE_CONTACT_COMPLETED);
    assert_int_equal(h->ended, FX_T0 + 50000);
    assert_int_equal(h->completed, FX_T0 + 80000);
    ASSERT_AGENT("a1", AVAILABLE);
    assert_int_equal(engine_next_deadline(f->e), INT64_MAX);
}

TEST(max_wait_overflows_to_queue)
{
    MODEL_INSTALL;
    uint64_t c1 = CREATE_IN("mw", ENGINE_CH_VOICE, 0);
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 60000);
    AT(FX_T0 + 59999);
    TICK;
    ASSERT_QUEUED(c1, "mw");
    AT(FX_T0 + 60000);
    TICK;
    ASSERT_QUEUED(c1, "spill");
    assert_int_equal(fx_contact(f, c1).arrived, FX_T0);
    assert_int_equal(fx_queue_info(f, "mw").waiting, 0);
    assert_int_equal(fx_queue_info(f, "mw").overflowed, 1);
    assert_int_equal(fx_queue_info(f, "spill").waiting, 1);
    NO_FX(ENDED, c1, NULL);
    /* "spill" has no max_wait: nothing is pending any more. */
    assert_int_equal(engine_next_deadline(f->e), INT64_MAX);
}

TEST(max_wait_without_overflow_times_out)
{
    MODEL_INSTALL;
    uint64_t c1 = CREATE_IN("mwto", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 45000);
    TICK;
    ASSERT_GONE(c1);
    const struct engine_history *h = &FX(ENDED, c1, NULL)->h;
    assert_int_equal(h->outcome, ENGINE_CONTACT_TIMED_OUT);
    assert_int_equal(h->ended, FX_T0 + 45000);
    assert_string_equal(h->queue, "mwto");
    assert_int_equal(fx_queue_info(f, "mwto").timed_out, 1);
}

TEST(max_wait_overflows_to_external_target)
{
    MODEL_INSTALL;
    uint64_t c1 = CREATE_IN("mwext", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 9999);
    TICK;
    ASSERT_QUEUED(c1, "mwext");
    AT(FX_T0 + 10000);
    TICK;
    const struct engine_history *h = &FX(ENDED, c1, NULL)->h;
    assert_int_equal(h->outcome, ENGINE_CONTACT_OVERFLOWED);
    assert_string_equal(h->reason, "sip:backup@site-b");
    ASSERT_GONE(c1);
}

TEST(escalation_relaxes_proficiency)
{
    AGENT("e1", "esc");
    fx_agent_skill(f, "e1", "spanish", 5);
    AGENT("e2", "esc");
    MODEL_INSTALL;
    LOGIN("e1");
    LOGIN("e2");
    uint64_t c1 = CREATE_IN("esc", ENGINE_CH_VOICE, 0);
    ASSERT_QUEUED(c1, "esc");
    struct engine_contact_info ci = fx_contact(f, c1);
    assert_int_equal(ci.n_skills, 1);
    assert_string_equal(ci.skills[0].skill, "spanish");
    assert_int_equal(ci.skills[0].level, 8);
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 30000);
    AT(FX_T0 + 29999);
    TICK;
    ASSERT_QUEUED(c1, "esc");
    AT(FX_T0 + 30000);
    TICK;
    assert_int_equal(FX(ESCALATED, c1, NULL)->step, 1);
    ASSERT_OFFERED(c1, "e1");
    assert_int_equal(fx_contact(f, c1).step, 1);
    assert_int_equal(fx_contact(f, c1).skills[0].level, 5);
}

TEST(escalation_drops_skill)
{
    AGENT("e1", "esc");
    fx_agent_skill(f, "e1", "spanish", 4); /* still short after the relax to 5 */
    AGENT("e2", "esc");
    MODEL_INSTALL;
    LOGIN("e2");
    AT(FX_T0 + 1000);
    LOGIN("e1");
    AT(FX_T0);
    uint64_t c1 = CREATE_IN("esc", ENGINE_CH_VOICE, 0);
    assert_int_equal(fx_contact(f, c1).arrived, FX_T0 + 1000); /* the clock was at +1 s */
    AT(FX_T0 + 31000);
    TICK;
    ASSERT_QUEUED(c1, "esc");
    assert_int_equal(fx_contact(f, c1).step, 1);
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 61000);
    AT(FX_T0 + 61000);
    TICK;
    assert_int_equal(FX(ESCALATED, c1, NULL)->step, 2);
    ASSERT_OFFERED(c1, "e2"); /* longest idle: e2 logged in first */
    assert_int_equal(fx_contact(f, c1).n_skills, 0);
}

TEST(escalation_deadline_then_max_wait)
{
    MODEL_INSTALL;
    uint64_t c1 = CREATE_IN("esc", ENGINE_CH_VOICE, 0);
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 30000);
    AT(FX_T0 + 30000);
    TICK;
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 60000);
    AT(FX_T0 + 60000);
    TICK;
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 100000);
    AT(FX_T0 + 100000);
    TICK;
    assert_int_equal(FX(ENDED, c1, NULL)->h.outcome, ENGINE_CONTACT_TIMED_OUT);
    assert_int_equal(engine_next_deadline(f->e), INT64_MAX);
}

TEST(escalation_boosts_priority)
{
    fx_queue(f, "other", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("g", "boost", "other");
    MODEL_INSTALL;
    uint64_t early = CREATE_IN("other", ENGINE_CH_VOICE, 5);
    AT(FX_T0 + 1000);
    uint64_t late = CREATE_IN("boost", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 21000);
    TICK;
    FX(ESCALATED, late, NULL);
    assert_int_equal(fx_contact(f, late).priority, 10);
    AT(FX_T0 + 22000);
    LOGIN("g");
    ASSERT_OFFERED(late, "g");
    ASSERT_QUEUED(early, "other");
}

TEST(next_deadline_is_the_earliest)
{
    AGENT("a1", "t");
    MODEL_INSTALL;
    assert_int_equal(engine_next_deadline(f->e), INT64_MAX);
    uint64_t q = CREATE_IN("mw", ENGINE_CH_VOICE, 0); /* +60 s */
    (void)q;
    AT(FX_T0 + 5000);
    LOGIN("a1");
    uint64_t c = CREATE_IN("t", ENGINE_CH_VOICE, 0); /* ring deadline at +20 s */
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 20000);
    ACCEPT(OFFER_OF(c), "a1");
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 60000);
}

TEST(time_never_runs_backwards)
{
    MODEL_INSTALL;
    AT(FX_T0 + 10000);
    TICK;
    assert_int_equal(NOW, FX_T0 + 10000);
    AT(FX_T0 + 5000);
    uint64_t c1 = CREATE_IN("mwto", ENGINE_CH_VOICE, 0);
    assert_int_equal(NOW, FX_T0 + 10000);
    assert_int_equal(fx_contact(f, c1).arrived, FX_T0 + 10000);
    assert_int_equal(engine_next_deadline(f->e), FX_T0 + 55000);
    AT(0);
    TICK;
    assert_int_equal(NOW, FX_T0 + 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(ring_no_answer_at_exactly_ring_s),
        FX_TEST(accept_in_the_command_that_passes_the_deadline_is_stale),
        FX_TEST(accept_one_ms_before_the_deadline_wins),
        FX_TEST(ring_no_answer_uses_model_reason),
        FX_TEST(ring_all_no_answer_rings_again_without_away),
        FX_TEST(wrapup_ends_automatically),
        FX_TEST(max_wait_overflows_to_queue),
        FX_TEST(max_wait_without_overflow_times_out),
        FX_TEST(max_wait_overflows_to_external_target),
        FX_TEST(escalation_relaxes_proficiency),
        FX_TEST(escalation_drops_skill),
        FX_TEST(escalation_deadline_then_max_wait),
        FX_TEST(escalation_boosts_priority),
        FX_TEST(next_deadline_is_the_earliest),
        FX_TEST(time_never_runs_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
