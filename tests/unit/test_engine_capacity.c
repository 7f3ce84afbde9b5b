/* Per-channel capacity, blocking between channels, wrap-up holding a slot, and offers
 * withdrawn when an agent leaves. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "mix", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("mix")->wrapup_s = 30;
    AGENT("a1", "mix");
    AGENT("a2", "mix");
    A("a2")->capacity[ENGINE_CH_VOICE] = 0; /* a2 does chat, sms and email only */
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static void upsert_chat_capacity(struct fixture *f, const char *name, uint8_t chat)
{
    static const char *const queues[] = {"mix"};
    struct engine_command c = {.kind = ENGINE_CMD_AGENT_UPSERT};
    c.u.upsert.name = name;
    c.u.upsert.site = "lon";
    c.u.upsert.capacity[ENGINE_CH_VOICE] = 1;
    c.u.upsert.capacity[ENGINE_CH_EMAIL] = 5;
    c.u.upsert.capacity[ENGINE_CH_SMS] = 3;
    c.u.upsert.capacity[ENGINE_CH_CHAT] = chat;
    c.u.upsert.n_queues = 1;
    c.u.upsert.queues = queues;
    EXPECT_OK(fx_apply(f, &c));
}

TEST(chat_capacity_three_then_waits)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t c[4];
    for (int i = 0; i < 4; i++) {
        AT(FX_T0 + 1000 * i);
        c[i] = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    }
    ASSERT_OFFERED(c[0], "a1");
    ASSERT_OFFERED(c[1], "a1");
    ASSERT_OFFERED(c[2], "a1");
    ASSERT_QUEUED(c[3], "mix");
    ASSERT_LOAD("a1", ENGINE_CH_CHAT, 3);
    /* The fourth is not offered to a1 while a1 holds three, even in wrap-up. */
    ACCEPT(OFFER_OF(c[0]), "a1");
    AT(FX_T0 + 5000);
    END(c[0]);
    ASSERT_STATE(c[0], WRAPUP);
    ASSERT_QUEUED(c[3], "mix");
    ASSERT_LOAD("a1", ENGINE_CH_CHAT, 3);
    AT(FX_T0 + 6000);
    WRAPUP_DONE(c[0]);
    ASSERT_OFFERED(c[3], "a1");
    FX(OFFER, c[3], "a1");
    ASSERT_LOAD("a1", ENGINE_CH_CHAT, 3);
}

TEST(email_capacity_never_exceeded)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t c[8];
    for (int i = 0; i < 8; i++) {
        c[i] = CREATE_IN("mix", ENGINE_CH_EMAIL, 0);
        assert_true(fx_agent_info(f, "a1").load[ENGINE_CH_EMAIL] <= 5);
    }
    for (int i = 0; i < 5; i++) {
        ASSERT_OFFERED(c[i], "a1");
    }
    for (int i = 5; i < 8; i++) {
        ASSERT_QUEUED(c[i], "mix");
    }
    assert_int_equal(fx_queue_info(f, "mix").waiting, 3);
}

TEST(voice_blocks_chat)
{
    f->m.blocks[ENGINE_CH_VOICE] = (uint8_t)(ENGINE_CH_ALL & ~ENGINE_CH_BIT(ENGINE_CH_VOICE));
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t v = CREATE_IN("mix", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(v, "a1");
    uint64_t ch = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    ASSERT_QUEUED(ch, "mix");
    ACCEPT(OFFER_OF(v), "a1");
    AT(FX_T0 + 10000);
    END(v); /* wrap-up still holds the voice slot, so chat stays blocked */
    ASSERT_QUEUED(ch, "mix");
    AT(FX_T0 + 12000);
    WRAPUP_DONE(v);
    ASSERT_OFFERED(ch, "a1");
}

TEST(voice_blocks_chat_but_other_agent_takes_it)
{
    f->m.blocks[ENGINE_CH_VOICE] = (uint8_t)(ENGINE_CH_ALL & ~ENGINE_CH_BIT(ENGINE_CH_VOICE));
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t v = CREATE_IN("mix", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(v, "a1");
    AT(FX_T0 + 1000);
    LOGIN("a2");
    uint64_t ch = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    ASSERT_OFFERED(ch, "a2");
}

TEST(chat_in_hand_blocks_voice)
{
    f->m.blocks[ENGINE_CH_CHAT] = ENGINE_CH_BIT(ENGINE_CH_VOICE);
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t ch = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    ASSERT_OFFERED(ch, "a1");
    uint64_t v = CREATE_IN("mix", ENGINE_CH_VOICE, 0);
    ASSERT_QUEUED(v, "mix");
    /* chat does not block chat */
    uint64_t ch2 = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    ASSERT_OFFERED(ch2, "a1");
    ABANDON(ch);
    ASSERT_QUEUED(v, "mix");
    ABANDON(ch2);
    ASSERT_OFFERED(v, "a1");
}

TEST(no_blocks_means_voice_and_chat_together)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t v = CREATE_IN("mix", ENGINE_CH_VOICE, 0);
    uint64_t ch = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    ASSERT_OFFERED(v, "a1");
    ASSERT_OFFERED(ch, "a1");
}

TEST(logout_withdraws_offers_connected_work_finishes)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t c1 = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    AT(FX_T0 + 1000);
    uint64_t c2 = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    AT(FX_T0 + 2000);
    uint64_t c3 = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    ACCEPT(OFFER_OF(c1), "a1");
    uint64_t o2 = OFFER_OF(c2);
    uint64_t o3 = OFFER_OF(c3);
    AT(FX_T0 + 3000);
    LOGOUT("a1");
    assert_int_equal(FX(OFFER_CANCEL, c2, "a1")->offer, o2);
    assert_int_equal(FX(OFFER_CANCEL, c3, "a1")->offer, o3);
    assert_int_equal(FX(OFFER_CANCEL, c2, "a1")->state, ENGINE_CONTACT_QUEUED);
    NO_FX(OFFER_CANCEL, c1, NULL);
    ASSERT_QUEUED(c2, "mix");
    ASSERT_QUEUED(c3, "mix");
    assert_int_equal(fx_contact(f, c2).enqueued, FX_T0 + 1000);
    ASSERT_CONNECTED(c1, "a1");
    ASSERT_LOAD("a1", ENGINE_CH_CHAT, 1);
    assert_int_equal(fx_agent_info(f, "a1").presence, ENGINE_PRESENCE_OFFLINE);
    ACCEPT_ERR(o2, "a1", CD_ESTALE);

    /* a2 takes them in their original order. */
    AT(FX_T0 + 4000);
    LOGIN("a2");
    ASSERT_OFFERED(c2, "a2");
    ASSERT_OFFERED(c3, "a2");
    size_t first = (size_t)(fx_find(f, f->mark, ENGINE_FX_OFFER, c2, "a2") - f->fx);
    size_t second = (size_t)(fx_find(f, f->mark, ENGINE_FX_OFFER, c3, "a2") - f->fx);
    assert_true(first < second);

    AT(FX_T0 + 5000);
    END(c1);
    ASSERT_STATE(c1, WRAPUP);
    WRAPUP_DONE(c1);
    ASSERT_GONE(c1);
    ASSERT_LOAD("a1", ENGINE_CH_CHAT, 0);
    assert_int_equal(fx_agent_info(f, "a1").state, ENGINE_AGENT_OFFLINE);
}

TEST(away_withdraws_offer_with_reason)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t v = CREATE_IN("mix", ENGINE_CH_VOICE, 0);
    uint64_t o = OFFER_OF(v);
    AT(FX_T0 + 2000);
    AWAY("a1", "break");
    FX(OFFER_CANCEL, v, "a1");
    ASSERT_QUEUED(v, "mix");
    struct engine_agent_info info = fx_agent_info(f, "a1");
    assert_int_equal(info.state, ENGINE_AGENT_AWAY);
    assert_int_equal(info.presence, ENGINE_PRESENCE_AWAY);
    assert_string_equal(info.reason, "break");
    assert_int_equal(info.load[ENGINE_CH_VOICE], 0);
    const struct fx_effect *st = FX(AGENT_STATE, 0, "a1");
    assert_int_equal(st->state, ENGINE_AGENT_AWAY);
    assert_string_equal(st->text, "break");
    ACCEPT_ERR(o, "a1", CD_ESTALE);
    AT(FX_T0 + 3000);
    AVAILABLE("a1");
    ASSERT_OFFERED(v, "a1");
    assert_true(OFFER_OF(v) > o);
}

TEST(capacity_cut_below_load_keeps_work)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
        ACCEPT(OFFER_OF(c[i]), "a1");
    }
    upsert_chat_capacity(f, "a1", 1);
    struct engine_agent_info info = fx_agent_info(f, "a1");
    assert_int_equal(info.capacity[ENGINE_CH_CHAT], 1);
    assert_int_equal(info.load[ENGINE_CH_CHAT], 3);
    ASSERT_CONNECTED(c[0], "a1");
    uint64_t n = CREATE_IN("mix", ENGINE_CH_CHAT, 0);
    ASSERT_QUEUED(n, "mix");
    END(c[0]);
    WRAPUP_DONE(c[0]);
    END(c[1]);
    WRAPUP_DONE(c[1]);
    ASSERT_QUEUED(n, "mix"); /* load 1 is not below capacity 1 */
    END(c[2]);
    WRAPUP_DONE(c[2]);
    ASSERT_OFFERED(n, "a1");
    ASSERT_LOAD("a1", ENGINE_CH_CHAT, 1);
}

TEST(derived_agent_states)
{
    MODEL_INSTALL;
    assert_int_equal(fx_agent_info(f, "a1").state, ENGINE_AGENT_OFFLINE);
    LOGIN("a1");
    ASSERT_AGENT("a1", AVAILABLE);
    assert_int_equal(FX(AGENT_STATE, 0, "a1")->state, ENGINE_AGENT_AVAILABLE);
    uint64_t e1 = CREATE_IN("mix", ENGINE_CH_EMAIL, 0);
    ASSERT_AGENT("a1", BUSY);
    ACCEPT(OFFER_OF(e1), "a1");
    ASSERT_AGENT("a1", BUSY);
    END(e1);
    ASSERT_AGENT("a1", WRAPUP);
    assert_int_equal(FX(AGENT_STATE, 0, "a1")->state, ENGINE_AGENT_WRAPUP);
    WRAPUP_DONE(e1);
    ASSERT_AGENT("a1", AVAILABLE);
}

/* An agent listed a queue twice was a member of its classes twice: a ring-all offer rang it
 * twice and counted the contact twice in its load. Found by fuzz_engine_snapshot, through a
 * snapshot holding such an agent; AGENT_UPSERT made one too. */
TEST(a_queue_given_twice_is_refused)
{
    MODEL_INSTALL;
    static const char *const twice[] = {"mix", "mix"};
    struct engine_command c = {.kind = ENGINE_CMD_AGENT_UPSERT};
    c.u.upsert.name = "a3";
    c.u.upsert.capacity[ENGINE_CH_CHAT] = 3;
    c.u.upsert.n_queues = 2;
    c.u.upsert.queues = twice;
    uint64_t before = DIGEST;
    assert_int_equal(fx_apply(f, &c), CD_EINVAL);
    assert_int_equal(DIGEST, before);
    c.u.upsert.n_queues = 1;
    EXPECT_OK(fx_apply(f, &c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(chat_capacity_three_then_waits),
        FX_TEST(email_capacity_never_exceeded),
        FX_TEST(voice_blocks_chat),
        FX_TEST(voice_blocks_chat_but_other_agent_takes_it),
        FX_TEST(chat_in_hand_blocks_voice),
        FX_TEST(no_blocks_means_voice_and_chat_together),
        FX_TEST(logout_withdraws_offers_connected_work_finishes),
        FX_TEST(away_withdraws_offer_with_reason),
        FX_TEST(capacity_cut_below_load_keeps_work),
        FX_TEST(derived_agent_states),
        FX_TEST(a_queue_given_twice_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
