/* Addressed contacts: a contact's home (the member holding the customer's live session) and
 * session key travel in the state, its snapshot and digest, and in every effect about it;
 * SESSION_MOVE and SESSION_END change them; NODE_LOST gives each contact homed at the lost
 * member its channel's outcome (engine/sessions.c), the same on every node. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "q", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("q")->wrapup_s = 30;
    AGENT("a1", "q");
    AGENT("a2", "q");
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static int create_homed(struct fixture *f,
                        const char *key,
                        uint8_t channel,
                        const char *home,
                        const char *session)
{
    struct engine_command c = {.kind = ENGINE_CMD_CONTACT_CREATE};
    c.u.create.key = key;
    c.u.create.queue = "q";
    c.u.create.channel = channel;
    c.u.create.home = home;
    c.u.create.session = session;
    return fx_apply(f, &c);
}

static uint64_t homed(struct fixture *f, uint8_t channel, const char *home, const char *session)
{
    EXPECT_OK(create_homed(f, NULL, channel, home, session));
    return f->res.contact;
}

static int session_cmd(struct fixture *f,
                       uint8_t kind,
                       uint64_t id,
                       const char *home,
                       const char *session)
{
    struct engine_command c = {.kind = kind};
    c.u.session.id = id;
    c.u.session.home = home;
    c.u.session.session = session;
    return fx_apply(f, &c);
}

static int node_lost(struct fixture *f, const char *node)
{
    struct engine_command c = {.kind = ENGINE_CMD_NODE_LOST};
    c.u.node.name = node;
    return fx_apply(f, &c);
}

TEST(home_and_session_are_state_and_travel_in_every_effect)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = homed(f, ENGINE_CH_CHAT, "n2", "chat-tok-1");
    struct engine_contact_info ci = fx_contact(f, id);
    assert_string_equal(ci.home, "n2");
    assert_string_equal(ci.session, "chat-tok-1");
    assert_false(ci.session_lost);
    const struct fx_effect *offer = FX(OFFER, id, "a1");
    assert_string_equal(offer->home, "n2");
    assert_string_equal(offer->session, "chat-tok-1");
    ACCEPT(OFFER_OF(id), "a1");
    assert_string_equal(FX(CONNECTED, id, "a1")->home, "n2");
    END(id);
    assert_string_equal(FX(WRAPUP, id, "a1")->session, "chat-tok-1");
    WRAPUP_DONE(id);
    assert_string_equal(FX(ENDED, id, NULL)->home, "n2");
    /* A contact without a home says so with "" everywhere; so does an agent's effect. */
    uint64_t plain = CREATE_IN("q", ENGINE_CH_EMAIL, 0);
    assert_string_equal(fx_contact(f, plain).home, "");
    assert_string_equal(FX(OFFER, plain, "a1")->home, "");
    assert_string_equal(FX(AGENT_STATE, 0, "a1")->home, "");
}

TEST(bad_home_or_session_is_refused_and_changes_nothing)
{
    MODEL_INSTALL;
    uint64_t before = DIGEST;
    assert_int_equal(create_homed(f, NULL, ENGINE_CH_CHAT, "n 2", "t"), CD_EINVAL);
    assert_int_equal(create_homed(f, NULL, ENGINE_CH_CHAT, "", "tok"), CD_EINVAL);
    assert_int_equal(create_homed(f, NULL, ENGINE_CH_CHAT, "n2", "has space"), CD_EINVAL);
    char long_key[ENGINE_SESSION_MAX + 1];
    memset(long_key, 'k', ENGINE_SESSION_MAX);
    long_key[ENGINE_SESSION_MAX] = 0;
    assert_int_equal(create_homed(f, NULL, ENGINE_CH_CHAT, "n2", long_key), CD_EINVAL);
    assert_int_equal(engine_contact_count(f->e), 0);
    /* Only time moved (no command above advanced it): the state is as it was. */
    assert_int_equal(DIGEST, before);
    long_key[ENGINE_SESSION_MAX - 1] = 0; /* the longest key that fits */
    homed(f, ENGINE_CH_CHAT, "n2", long_key);
    assert_int_equal(strlen(fx_contact(f, f->res.contact).session), ENGINE_SESSION_MAX - 1);
}

TEST(a_retry_through_another_node_names_the_same_contact)
{
    MODEL_INSTALL;
    EXPECT_OK(create_homed(f, "web-77", ENGINE_CH_CHAT, "n1", "tok-a"));
    uint64_t id = f->res.contact;
    EXPECT_OK(create_homed(f, "web-77", ENGINE_CH_CHAT, "n3", "tok-b"));
    assert_true(f->res.existing);
    assert_int_equal(f->res.contact, id);
    assert_string_equal(fx_contact(f, id).home, "n1"); /* the first create's */
    assert_int_equal(engine_contact_count(f->e), 1);
}

TEST(session_moves_and_ends)
{
    MODEL_INSTALL;
    uint64_t id = homed(f, ENGINE_CH_CHAT, "n1", "tok-1");
    EXPECT_OK(session_cmd(f, ENGINE_CMD_SESSION_MOVE, id, "n3", "tok-2"));
    const struct fx_effect *moved = FX(SESSION_MOVED, id, NULL);
    assert_string_equal(moved->home, "n3");
    assert_string_equal(moved->session, "tok-2");
    assert_string_equal(moved->old_home, "n1");
    /* "" keeps the key; the same place again is a retry and says nothing. */
    EXPECT_OK(session_cmd(f, ENGINE_CMD_SESSION_MOVE, id, "n2", ""));
    assert_string_equal(FX(SESSION_MOVED, id, NULL)->session, "tok-2");
    EXPECT_OK(session_cmd(f, ENGINE_CMD_SESSION_MOVE, id, "n2", "tok-2"));
    assert_int_equal(f->n_fx, f->mark);
    assert_int_equal(session_cmd(f, ENGINE_CMD_SESSION_MOVE, id, "", "x"), CD_EINVAL);
    assert_int_equal(session_cmd(f, ENGINE_CMD_SESSION_MOVE, 999, "n1", "x"), CD_ENOTFOUND);
    EXPECT_OK(session_cmd(f, ENGINE_CMD_SESSION_END, id, NULL, NULL));
    const struct fx_effect *ended = FX(SESSION_ENDED, id, NULL);
    assert_string_equal(ended->home, "");
    assert_string_equal(ended->old_home, "n2");
    assert_string_equal(fx_contact(f, id).home, "");
    assert_int_equal(session_cmd(f, ENGINE_CMD_SESSION_END, id, NULL, NULL), CD_ESTATE);
    ASSERT_QUEUED(id, "q"); /* the contact goes on without a live session */
}

TEST(node_lost_gives_each_channel_its_outcome)
{
    MODEL_INSTALL;
    LOGIN("a1");
    LOGIN("a2");
    uint64_t talking = homed(f, ENGINE_CH_VOICE, "n2", "call-1");
    ACCEPT(OFFER_OF(talking), "a1");
    uint64_t ringing = homed(f, ENGINE_CH_VOICE, "n2", "call-2");
    ASSERT_OFFERED(ringing, "a2");
    uint64_t waiting = homed(f, ENGINE_CH_VOICE, "n2", "call-3");
    uint64_t chat = homed(f, ENGINE_CH_CHAT, "n2", "tok-4");
    uint64_t elsewhere = homed(f, ENGINE_CH_VOICE, "n1", "call-5");
    uint64_t plain = CREATE_IN("q", ENGINE_CH_EMAIL, 0);
    AFTER(FX_SEC);
    EXPECT_OK(node_lost(f, "n2"));
    /* One SESSION_LOST per contact homed there, in id order, each saying its outcome. */
    assert_int_equal(fx_count(f, f->mark, ENGINE_FX_SESSION_LOST, 0, NULL), 4);
    assert_string_equal(FX(SESSION_LOST, talking, NULL)->text, "ended");
    assert_string_equal(FX(SESSION_LOST, ringing, NULL)->text, "callback");
    assert_string_equal(FX(SESSION_LOST, waiting, NULL)->text, "callback");
    assert_string_equal(FX(SESSION_LOST, chat, NULL)->text, "waits");
    assert_string_equal(FX(SESSION_LOST, chat, NULL)->old_home, "n2");
    assert_true(FX(SESSION_LOST, talking, NULL) < FX(SESSION_LOST, chat, NULL));
    /* voice connected: the talk ended, wrap-up started. */
    ASSERT_STATE(talking, WRAPUP);
    FX(WRAPUP, talking, "a1");
    /* voice offered: the offer is withdrawn, it is a callback in its place; a1 is in
     * wrap-up and a2 was just freed, so a2 is offered it again. */
    FX(OFFER_CANCEL, ringing, "a2");
    assert_true(fx_contact(f, ringing).callback);
    /* voice queued: a callback in its place. */
    ASSERT_STATE(waiting, QUEUED);
    assert_true(fx_contact(f, waiting).callback);
    /* chat: no outcome of its own, waiting for its customer (it is still live, and was
     * routed like any contact when agents came free). */
    assert_false(fx_contact(f, chat).callback);
    uint64_t lost[] = {talking, ringing, waiting, chat};
    for (size_t i = 0; i < sizeof(lost) / sizeof(lost[0]); i++) {
        struct engine_contact_info ci = fx_contact(f, lost[i]);
        assert_string_equal(ci.home, "");
        assert_string_equal(ci.session, "");
        assert_true(ci.session_lost);
    }
    /* Contacts homed elsewhere, or nowhere, are untouched. */
    assert_string_equal(fx_contact(f, elsewhere).home, "n1");
    assert_false(fx_contact(f, elsewhere).session_lost);
    assert_false(fx_contact(f, elsewhere).callback);
    assert_false(fx_contact(f, plain).session_lost);
    /* The customer reconnects through n3: the mark goes. */
    EXPECT_OK(session_cmd(f, ENGINE_CMD_SESSION_MOVE, chat, "n3", "tok-5"));
    assert_false(fx_contact(f, chat).session_lost);
    assert_string_equal(FX(SESSION_MOVED, chat, NULL)->old_home, "");
    /* A second NODE_LOST finds nothing left there. */
    EXPECT_OK(node_lost(f, "n2"));
    assert_int_equal(fx_count(f, f->mark, ENGINE_FX_SESSION_LOST, 0, NULL), 0);
    assert_int_equal(node_lost(f, "bad name"), CD_EINVAL);
}

/* The same commands on two engines give the same state; the state survives a snapshot with
 * its homes, keys and marks, and the copy decides the next NODE_LOST the same way. */
TEST(node_lost_is_deterministic_and_survives_a_snapshot)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t a = homed(f, ENGINE_CH_VOICE, "n2", "call-1");
    uint64_t b = homed(f, ENGINE_CH_CHAT, "n3", "tok-2");
    homed(f, ENGINE_CH_VOICE, "n3", "call-3");
    EXPECT_OK(node_lost(f, "n2"));
    struct engine *copy = fx_snapshot_copy(f);
    struct engine_contact_info ci;
    assert_int_equal(engine_contact_get(copy, a, &ci), 0);
    assert_true(ci.session_lost);
    assert_int_equal(engine_contact_get(copy, b, &ci), 0);
    assert_string_equal(ci.home, "n3");
    assert_string_equal(ci.session, "tok-2");
    struct engine_command c = {.kind = ENGINE_CMD_NODE_LOST};
    c.u.node.name = "n3";
    struct engine_result res;
    assert_int_equal(engine_apply(copy, &c, f->now, &res, NULL), 0);
    EXPECT_OK(node_lost(f, "n3"));
    assert_int_equal(engine_digest(copy), DIGEST);
    /* The digest sees homes: moving one session changes it. */
    EXPECT_OK(session_cmd(f, ENGINE_CMD_SESSION_MOVE, b, "n1", NULL));
    assert_int_not_equal(engine_digest(copy), DIGEST);
    engine_free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(home_and_session_are_state_and_travel_in_every_effect),
        FX_TEST(bad_home_or_session_is_refused_and_changes_nothing),
        FX_TEST(a_retry_through_another_node_names_the_same_contact),
        FX_TEST(session_moves_and_ends),
        FX_TEST(node_lost_gives_each_channel_its_outcome),
        FX_TEST(node_lost_is_deterministic_and_survives_a_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
