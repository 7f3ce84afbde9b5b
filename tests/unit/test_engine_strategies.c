/* Agent selection: each queue strategy picks the agent README.md names, queue order within
 * a queue, and fairness across the queues one agent serves. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "li", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "lo", ENGINE_CH_BIT(ENGINE_CH_CHAT), ENGINE_STRATEGY_LEAST_OCCUPIED);
    fx_queue(f, "bs", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_BEST_SKILL);
    fx_queue_skill(f, "bs", "billing", 1);
    fx_queue_skill(f, "bs", "spanish", 1);
    fx_queue(f, "rr", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_ROUND_ROBIN);
    fx_queue(f, "ring", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_RING_ALL);
    fx_queue(f, "fa", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    Q("fa")->sl_target_s = 20;
    fx_queue(f, "fb", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    Q("fb")->sl_target_s = 60;
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

/* Accepts the open offer of id by a and ends the talk at once (no queue here has wrap-up). */
#define HANDLE(id, a)              \
    do {                           \
        ACCEPT(OFFER_OF(id), (a)); \
        END(id);                   \
    } while (0)

TEST(longest_idle_prefers_earliest_idle)
{
    AGENT("a1", "li");
    AGENT("a2", "li");
    AGENT("a3", "li");
    MODEL_INSTALL;
    AT(FX_T0);
    LOGIN("a3");
    AT(FX_T0 + 1000);
    LOGIN("a1");
    AT(FX_T0 + 2000);
    LOGIN("a2");
    AT(FX_T0 + 10000);
    uint64_t c1 = CREATE_IN("li", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(c1, "a3");
    AT(FX_T0 + 20000);
    HANDLE(c1, "a3");
    assert_int_equal(fx_agent_info(f, "a3").last_idle, FX_T0 + 20000);
    AT(FX_T0 + 30000);
    uint64_t c2 = CREATE_IN("li", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(c2, "a1");
    uint64_t c3 = CREATE_IN("li", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(c3, "a2");
    uint64_t c4 = CREATE_IN("li", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(c4, "a3");
}

TEST(longest_idle_prefers_fewest_in_hand)
{
    AGENT("a1", "li");
    AGENT("a2", "li");
    MODEL_INSTALL;
    LOGIN("a1");
    AT(FX_T0 + 1000);
    LOGIN("a2");
    AT(FX_T0 + 2000);
    uint64_t c1 = CREATE_IN("li", ENGINE_CH_CHAT, 0);
    ASSERT_OFFERED(c1, "a1");
    ACCEPT(OFFER_OF(c1), "a1");
    uint64_t c2 = CREATE_IN("li", ENGINE_CH_CHAT, 0);
    ASSERT_OFFERED(c2, "a2"); /* a1 has one in hand although it idled longer */
    ACCEPT(OFFER_OF(c2), "a2");
    uint64_t c3 = CREATE_IN("li", ENGINE_CH_CHAT, 0);
    ASSERT_OFFERED(c3, "a1"); /* one each: a1 idle since FX_T0, a2 since FX_T0 + 1 s */
    uint64_t c4 = CREATE_IN("li", ENGINE_CH_CHAT, 0);
    ASSERT_OFFERED(c4, "a2");
}

TEST(least_occupied_uses_load_relative_to_capacity)
{
    AGENT("b1", "lo");
    AGENT("b2", "lo");
    A("b2")->capacity[ENGINE_CH_CHAT] = 2;
    MODEL_INSTALL;
    LOGIN("b1");
    LOGIN("b2");
    uint64_t c[6];
    for (int i = 0; i < 6; i++) {
        AT(FX_T0 + 1000 * (i + 1));
        c[i] = CREATE_IN("lo", ENGINE_CH_CHAT, 0);
    }
    /* per-mille loads before each choice: (0,0) (333,0) (333,500) (667,500) (667,1000)
     * and then both full. */
    ASSERT_OFFERED(c[0], "b1");
    ASSERT_OFFERED(c[1], "b2");
    ASSERT_OFFERED(c[2], "b1");
    ASSERT_OFFERED(c[3], "b2");
    ASSERT_OFFERED(c[4], "b1");
    ASSERT_QUEUED(c[5], "lo");
    ASSERT_LOAD("b1", ENGINE_CH_CHAT, 3);
    ASSERT_LOAD("b2", ENGINE_CH_CHAT, 2);
}

TEST(best_skill_sums_required_proficiency)
{
    AGENT("c1", "bs");
    fx_agent_skill(f, "c1", "billing", 5);
    fx_agent_skill(f, "c1", "spanish", 2);
    fx_agent_skill(f, "c1", "french", 10); /* not required: does not count */
    AGENT("c2", "bs");
    fx_agent_skill(f, "c2", "billing", 3);
    fx_agent_skill(f, "c2", "spanish", 6);
    AGENT("c3", "bs");
    fx_agent_skill(f, "c3", "billing", 10); /* lacks spanish: never eligible */
    MODEL_INSTALL;
    LOGIN("c1");
    LOGIN("c2");
    LOGIN("c3");
    AT(FX_T0 + 1000);
    uint64_t k1 = CREATE_IN("bs", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(k1, "c2"); /* 9 > 7 */
    uint64_t k2 = CREATE_IN("bs", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(k2, "c1");
    uint64_t k3 = CREATE_IN("bs", ENGINE_CH_VOICE, 0);
    ASSERT_QUEUED(k3, "bs");
    ASSERT_AGENT("c3", AVAILABLE);
}

TEST(round_robin_rotates_per_queue)
{
    AGENT("d1", "rr", "li");
    AGENT("d2", "rr", "li");
    MODEL_INSTALL;
    LOGIN("d1");
    AT(FX_T0 + 1000);
    LOGIN("d2");
    AT(FX_T0 + 10000);
    uint64_t k1 = CREATE_IN("rr", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(k1, "d1");
    AT(FX_T0 + 20000);
    HANDLE(k1, "d1"); /* d1 idle since +20 s */
    AT(FX_T0 + 30000);
    uint64_t k2 = CREATE_IN("li", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(k2, "d2"); /* longest idle: d2 since +1 s */
    AT(FX_T0 + 40000);
    HANDLE(k2, "d2"); /* d2 idle since +40 s */
    AT(FX_T0 + 50000);
    /* Longest-idle would pick d1 now; round-robin picks d2, whom "rr" never offered to. */
    uint64_t k3 = CREATE_IN("rr", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(k3, "d2");
    AT(FX_T0 + 60000);
    HANDLE(k3, "d2");
    AT(FX_T0 + 70000);
    uint64_t k4 = CREATE_IN("rr", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(k4, "d1");
}

TEST(ring_all_rings_every_ready_agent)
{
    AGENT("r1", "ring");
    AGENT("r2", "ring");
    AGENT("r3", "ring");
    AGENT("r4", "li");
    MODEL_INSTALL;
    LOGIN("r1");
    LOGIN("r2");
    LOGIN("r3");
    LOGIN("r4");
    AWAY("r3", "lunch");
    AT(FX_T0 + 1000);
    uint64_t id = CREATE_IN("ring", ENGINE_CH_VOICE, 0);
    assert_int_equal(fx_count(f, f->mark, ENGINE_FX_OFFER, id, NULL), 2);
    uint64_t offer = FX(OFFER, id, "r1")->offer;
    assert_int_equal(FX(OFFER, id, "r2")->offer, offer);
    NO_FX(OFFER, id, "r3");
    NO_FX(OFFER, id, "r4");
    ASSERT_STATE(id, OFFERED);
    assert_int_equal(OFFER_OF(id), offer);
    ASSERT_AGENT("r1", BUSY);
    ASSERT_AGENT("r2", BUSY);

    AT(FX_T0 + 4000);
    ACCEPT(offer, "r2");
    ASSERT_CONNECTED(id, "r2");
    const struct fx_effect *cancel = FX(OFFER_CANCEL, id, "r1");
    assert_int_equal(cancel->offer, offer);
    NO_FX(OFFER_CANCEL, id, "r2");
    ASSERT_AGENT("r1", AVAILABLE);
    ASSERT_LOAD("r1", ENGINE_CH_VOICE, 0);
    ASSERT_LOAD("r2", ENGINE_CH_VOICE, 1);
    uint64_t d = DIGEST;
    ACCEPT_ERR(offer, "r1", CD_ESTALE);
    assert_int_equal(DIGEST, d);
}

TEST(queue_order_priority_then_arrival)
{
    AGENT("a1", "li");
    MODEL_INSTALL;
    uint64_t k1 = CREATE_IN("li", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 1000);
    uint64_t k2 = CREATE_IN("li", ENGINE_CH_VOICE, 5);
    AT(FX_T0 + 2000);
    uint64_t k3 = CREATE_IN("li", ENGINE_CH_VOICE, 5);
    AT(FX_T0 + 3000);
    LOGIN("a1");
    ASSERT_OFFERED(k2, "a1");
    HANDLE(k2, "a1");
    ASSERT_OFFERED(k3, "a1");
    HANDLE(k3, "a1");
    ASSERT_OFFERED(k1, "a1");
}

TEST(fairness_higher_priority_first_across_queues)
{
    AGENT("g", "fa", "fb");
    MODEL_INSTALL;
    uint64_t ka = CREATE_IN("fa", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 1000);
    uint64_t kb = CREATE_IN("fb", ENGINE_CH_VOICE, 1);
    AT(FX_T0 + 60000);
    LOGIN("g");
    ASSERT_OFFERED(kb, "g");
    ASSERT_QUEUED(ka, "fa");
    HANDLE(kb, "g");
    ASSERT_OFFERED(ka, "g");
}

TEST(fairness_most_overdue_relative_to_target)
{
    AGENT("g", "fa", "fb");
    MODEL_INSTALL;
    uint64_t kb = CREATE_IN("fb", ENGINE_CH_VOICE, 0); /* waits 50 s of a 60 s target */
    AT(FX_T0 + 20000);
    uint64_t ka = CREATE_IN("fa", ENGINE_CH_VOICE, 0); /* waits 30 s of a 20 s target */
    AT(FX_T0 + 50000);
    LOGIN("g");
    ASSERT_OFFERED(ka, "g");
    ASSERT_QUEUED(kb, "fb");
}

TEST(fairness_equal_ratio_goes_to_earlier_arrival)
{
    AGENT("g", "fa", "fb");
    MODEL_INSTALL;
    uint64_t kb = CREATE_IN("fb", ENGINE_CH_VOICE, 0); /* 60 s of 60 s */
    AT(FX_T0 + 40000);
    uint64_t ka = CREATE_IN("fa", ENGINE_CH_VOICE, 0); /* 20 s of 20 s */
    AT(FX_T0 + 60000);
    LOGIN("g");
    ASSERT_OFFERED(kb, "g");
    ASSERT_QUEUED(ka, "fa");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(longest_idle_prefers_earliest_idle),
        FX_TEST(longest_idle_prefers_fewest_in_hand),
        FX_TEST(least_occupied_uses_load_relative_to_capacity),
        FX_TEST(best_skill_sums_required_proficiency),
        FX_TEST(round_robin_rotates_per_queue),
        FX_TEST(ring_all_rings_every_ready_agent),
        FX_TEST(queue_order_priority_then_arrival),
        FX_TEST(fairness_higher_priority_first_across_queues),
        FX_TEST(fairness_most_overdue_relative_to_target),
        FX_TEST(fairness_equal_ratio_goes_to_earlier_arrival),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
