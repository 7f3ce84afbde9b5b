/* Transfers to a queue, an agent and an external target, and overflow chains. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    uint32_t utc = fx_zone(f, "UTC", 0);
    uint32_t never = fx_hours(f, "never", utc);
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("sales")->wrapup_s = 30;
    fx_queue(f, "support", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    /* overflow chain: q1 (max 1 waiting, 10 s) -> q2 (closed) -> q3 (20 s) -> timed out */
    fx_queue(f, "q3", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("q3")->max_wait_s = 20;
    fx_queue(f, "q2", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("q2")->hours = (int32_t)never;
    Q("q2")->overflow_queue = fx_queue_index(f, "q3");
    fx_queue(f, "q1", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("q1")->max_size = 1;
    Q("q1")->max_wait_s = 10;
    Q("q1")->overflow_queue = fx_queue_index(f, "q2");
    fx_queue(f, "x2", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("x2")->hours = (int32_t)never;
    fx_copy_str(Q("x2")->overflow_target, ENGINE_TARGET_MAX, "sip:night@site-b");
    fx_queue(f, "x1", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("x1")->max_wait_s = 5;
    Q("x1")->overflow_queue = fx_queue_index(f, "x2");
    fx_queue(f, "email-only", ENGINE_CH_BIT(ENGINE_CH_EMAIL), ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("a1", "sales");
    AGENT("a2", "support");
    AGENT("a3", "sales");
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

/* Contact in "sales" connected with a1 since FX_T0 + 2 s. */
static uint64_t connected_on_a1(struct fixture *f)
{
    LOGIN("a1");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 2000);
    ACCEPT(OFFER_OF(id), "a1");
    ASSERT_CONNECTED(id, "a1");
    return id;
}

TEST(connected_to_queue_keeps_age_and_releases_agent)
{
    MODEL_INSTALL;
    uint64_t id = connected_on_a1(f);
    AT(FX_T0 + 30000);
    uint64_t waiting = CREATE_IN("support", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 60000);
    EXPECT_OK(fx_transfer(f, id, "support", NULL, NULL));
    ASSERT_QUEUED(id, "support");
    struct engine_contact_info ci = fx_contact(f, id);
    assert_int_equal(ci.arrived, FX_T0);
    assert_string_equal(ci.agent, "");
    /* A transfer ends a1's work on it at once: no wrap-up, the slot is free. */
    ASSERT_LOAD("a1", ENGINE_CH_VOICE, 0);
    ASSERT_AGENT("a1", AVAILABLE);
    NO_FX(WRAPUP, id, NULL);
    NO_FX(ENDED, id, NULL);
    /* Its age puts it ahead of the contact that arrived at +30 s. */
    AT(FX_T0 + 61000);
    LOGIN("a2");
    ASSERT_OFFERED(id, "a2");
    ASSERT_QUEUED(waiting, "support");
    ACCEPT(OFFER_OF(id), "a2");
    AT(FX_T0 + 90000);
    END(id);
    const struct engine_history *h = ENDED(id);
    assert_int_equal(h->transfers, 1);
    assert_int_equal(h->offers, 2);
    assert_string_equal(h->queue, "support");
    assert_string_equal(h->agent, "a2");
    assert_int_equal(h->arrived, FX_T0);
}

TEST(queued_and_offered_to_queue)
{
    MODEL_INSTALL;
    uint64_t q = CREATE_IN("sales", ENGINE_CH_CHAT, 0);
    EXPECT_OK(fx_transfer(f, q, "support", NULL, NULL));
    ASSERT_QUEUED(q, "support");
    assert_int_equal(fx_queue_info(f, "sales").waiting, 0);
    assert_int_equal(fx_queue_info(f, "support").waiting, 1);

    LOGIN("a1");
    uint64_t o = CREATE_IN("sales", ENGINE_CH_CHAT, 0);
    uint64_t offer = OFFER_OF(o);
    AT(FX_T0 + 1000);
    EXPECT_OK(fx_transfer(f, o, "support", NULL, NULL));
    assert_int_equal(FX(OFFER_CANCEL, o, "a1")->offer, offer);
    ASSERT_QUEUED(o, "support");
    ASSERT_LOAD("a1", ENGINE_CH_CHAT, 0);
    ACCEPT_ERR(offer, "a1", CD_ESTALE);
}

TEST(to_ready_agent_offers)
{
    MODEL_INSTALL;
    uint64_t id = connected_on_a1(f);
    LOGIN("a2"); /* serves only support: a transfer names the agent directly */
    AT(FX_T0 + 10000);
    EXPECT_OK(fx_transfer(f, id, NULL, "a2", NULL));
    ASSERT_OFFERED(id, "a2");
    FX(OFFER, id, "a2");
    ASSERT_LOAD("a1", ENGINE_CH_VOICE, 0);
    ASSERT_AGENT("a1", AVAILABLE);
    ACCEPT(OFFER_OF(id), "a2");
    ASSERT_CONNECTED(id, "a2");
}

TEST(to_agent_not_ready_is_capacity_error)
{
    MODEL_INSTALL;
    uint64_t id = connected_on_a1(f);
    uint64_t d = DIGEST;
    /* a2 is offline */
    assert_int_equal(fx_transfer(f, id, NULL, "a2", NULL), CD_ECAPACITY);
    assert_int_equal(DIGEST, d);
    LOGIN("a2");
    AWAY("a2", "lunch");
    d = DIGEST;
    assert_int_equal(fx_transfer(f, id, NULL, "a2", NULL), CD_ECAPACITY);
    assert_int_equal(DIGEST, d);
    /* a3 is available but its voice slot is taken */
    LOGIN("a3");
    uint64_t other = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(other, "a3");
    d = DIGEST;
    assert_int_equal(fx_transfer(f, id, NULL, "a3", NULL), CD_ECAPACITY);
    assert_int_equal(DIGEST, d);
    assert_int_equal(f->n_fx, f->mark);
    ASSERT_CONNECTED(id, "a1");
}

TEST(to_external_target)
{
    MODEL_INSTALL;
    uint64_t id = connected_on_a1(f);
    AT(FX_T0 + 20000);
    EXPECT_OK(fx_transfer(f, id, NULL, NULL, "tel:+441234567890"));
    ASSERT_GONE(id);
    const struct engine_history *h = &FX(ENDED, id, NULL)->h;
    assert_int_equal(h->outcome, ENGINE_CONTACT_TRANSFERRED);
    assert_string_equal(h->reason, "tel:+441234567890");
    assert_int_equal(h->answered, FX_T0 + 2000);
    assert_int_equal(h->ended, FX_T0 + 20000);
    assert_string_equal(h->agent, "a1");
    ASSERT_LOAD("a1", ENGINE_CH_VOICE, 0);
    ASSERT_AGENT("a1", AVAILABLE);
}

TEST(malformed_transfers)
{
    MODEL_INSTALL;
    uint64_t id = connected_on_a1(f);
    uint64_t d = DIGEST;
    assert_int_equal(fx_transfer(f, id, NULL, NULL, NULL), CD_EINVAL);
    assert_int_equal(fx_transfer(f, id, "support", "a2", NULL), CD_EINVAL);
    assert_int_equal(fx_transfer(f, id, "nowhere", NULL, NULL), CD_ENOTFOUND);
    assert_int_equal(fx_transfer(f, id, NULL, "nobody", NULL), CD_ENOTFOUND);
    /* A queue that does not serve the contact's channel refuses it: nothing ends. */
    assert_int_equal(fx_transfer(f, id, "email-only", NULL, NULL), CD_EINVAL);
    assert_int_equal(DIGEST, d);
    ASSERT_CONNECTED(id, "a1");
}

TEST(overflow_chain_on_arrival)
{
    MODEL_INSTALL;
    uint64_t first = CREATE_IN("q1", ENGINE_CH_EMAIL, 0);
    ASSERT_QUEUED(first, "q1");
    /* q1 is full -> q2 is closed -> q3 */
    uint64_t second = CREATE_IN("q1", ENGINE_CH_EMAIL, 0);
    ASSERT_QUEUED(second, "q3");
    assert_int_equal(fx_queue_info(f, "q1").overflowed, 1);
}

TEST(overflow_chain_on_timeout)
{
    MODEL_INSTALL;
    uint64_t id = CREATE_IN("q1", ENGINE_CH_EMAIL, 0);
    AT(FX_T0 + 10000);
    TICK;
    ASSERT_QUEUED(id, "q3"); /* via closed q2 */
    AT(FX_T0 + 30000);
    TICK;
    ASSERT_GONE(id);
    const struct engine_history *h = ENDED(id);
    assert_int_equal(h->outcome, ENGINE_CONTACT_TIMED_OUT);
    assert_string_equal(h->queue, "q3");
    assert_int_equal(h->arrived, FX_T0);
}

TEST(overflow_chain_to_external)
{
    MODEL_INSTALL;
    uint64_t id = CREATE_IN("x1", ENGINE_CH_SMS, 0);
    AT(FX_T0 + 4999);
    TICK;
    ASSERT_QUEUED(id, "x1");
    AT(FX_T0 + 5000);
    TICK;
    const struct engine_history *h = ENDED(id);
    assert_int_equal(h->outcome, ENGINE_CONTACT_OVERFLOWED);
    assert_string_equal(h->reason, "sip:night@site-b");
    ASSERT_GONE(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(connected_to_queue_keeps_age_and_releases_agent),
        FX_TEST(queued_and_offered_to_queue),
        FX_TEST(to_ready_agent_offers),
        FX_TEST(to_agent_not_ready_is_capacity_error),
        FX_TEST(to_external_target),
        FX_TEST(malformed_transfers),
        FX_TEST(overflow_chain_on_arrival),
        FX_TEST(overflow_chain_on_timeout),
        FX_TEST(overflow_chain_to_external),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
