/* Chat in the engine: CHAT_MESSAGE and the transcript it keeps (seqs, retries by message
 * id, bounds, who may write when), the transcript in the history and in snapshots, the
 * reconnect deadline of a chat whose customer's connection ended (each state, cleared by
 * SESSION_MOVE, set by NODE_LOST), wrap-up dispositions and notes, and away reasons. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "chat", ENGINE_CH_BIT(ENGINE_CH_CHAT), ENGINE_STRATEGY_LONGEST_IDLE);
    Q("chat")->wrapup_s = 60;
    fx_queue(f, "quick", ENGINE_CH_BIT(ENGINE_CH_CHAT), ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "mail", ENGINE_CH_BIT(ENGINE_CH_EMAIL), ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("a1", "chat", "quick", "mail");
    AGENT("a2", "chat", "quick", "mail");
    f->m.chat_reconnect_s = 30;
    const char *dispositions[] = {"sale", "no-sale", "follow-up"};
    for (size_t i = 0; i < 3; i++) {
        fx_copy_str(f->m.dispositions[f->m.n_dispositions++], ENGINE_VALUE_MAX,
                    dispositions[i]);
    }
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

/* ---- Helpers ------------------------------------------------------------------------- */

static int msg(struct fixture *f,
               uint64_t id,
               uint8_t from,
               const char *agent,
               const char *msg_id,
               const char *text)
{
    struct engine_command c = {.kind = ENGINE_CMD_CHAT_MESSAGE};
    c.u.message.id = id;
    c.u.message.from = from;
    c.u.message.agent = agent;
    c.u.message.msg_id = msg_id;
    c.u.message.text = text;
    return fx_apply(f, &c);
}

#define CUSTOMER_SAYS(id, mid, text) msg(f, (id), ENGINE_SIDE_CUSTOMER, NULL, (mid), (text))
#define AGENT_SAYS(id, a, mid, text) msg(f, (id), ENGINE_SIDE_AGENT, (a), (mid), (text))

static uint64_t chat_in(struct fixture *f, const char *queue, const char *home)
{
    struct engine_command c = {.kind = ENGINE_CMD_CONTACT_CREATE};
    static const struct engine_attr attrs[] = {{"name", "Ada"}, {"topic", "billing"}};
    static int serial;
    char key[32];
    snprintf(key, sizeof(key), "web-%d", 41 + serial++);
    c.u.create.key = key;
    c.u.create.queue = queue;
    c.u.create.channel = ENGINE_CH_CHAT;
    c.u.create.n_attrs = 2;
    c.u.create.attrs = attrs;
    c.u.create.home = home;
    c.u.create.session = home != NULL ? "tok-1" : NULL;
    EXPECT_OK(fx_apply(f, &c));
    return f->res.contact;
}

static int session_cmd(struct fixture *f, uint8_t kind, uint64_t id, const char *home)
{
    struct engine_command c = {.kind = kind};
    c.u.session.id = id;
    c.u.session.home = home;
    c.u.session.session = home != NULL ? "tok-2" : NULL;
    return fx_apply(f, &c);
}

#define SESSION_END(id) EXPECT_OK(session_cmd(f, ENGINE_CMD_SESSION_END, (id), NULL))
#define SESSION_MOVE(id, home) EXPECT_OK(session_cmd(f, ENGINE_CMD_SESSION_MOVE, (id), (home)))

static int wrapup(struct fixture *f, uint64_t id, const char *disposition, const char *notes)
{
    struct engine_command c = {.kind = ENGINE_CMD_WRAPUP_DONE};
    c.u.wrapup.id = id;
    c.u.wrapup.disposition = disposition;
    c.u.wrapup.notes = notes;
    return fx_apply(f, &c);
}

/* A chat connected with a1. */
static uint64_t connected_chat(struct fixture *f, const char *queue)
{
    if (fx_agent_info(f, "a1").presence == ENGINE_PRESENCE_OFFLINE) {
        LOGIN("a1");
    }
    uint64_t id = chat_in(f, queue, "n1");
    ASSERT_OFFERED(id, "a1");
    ACCEPT(OFFER_OF(id), "a1");
    return id;
}

struct collected
{
    uint32_t n;
    uint32_t seq[ENGINE_TRANSCRIPT_MAX];
    uint8_t side[ENGINE_TRANSCRIPT_MAX];
    char text[8][64];
    char agent[8][ENGINE_NAME_MAX];
    int64_t at[8];
};

static int collect(void *data, const struct engine_message *m)
{
    struct collected *c = data;
    if (c->n < 8) {
        fx_copy_str(c->text[c->n], sizeof(c->text[0]), m->text);
        fx_copy_str(c->agent[c->n], sizeof(c->agent[0]), m->agent);
        c->at[c->n] = m->at;
    }
    c->seq[c->n] = m->seq;
    c->side[c->n++] = m->side;
    return 0;
}

static struct collected *read_live(struct fixture *f, uint64_t id, uint32_t after, uint32_t n)
{
    static struct collected c;
    struct engine_transcript t;
    memset(&c, 0, sizeof(c));
    assert_int_equal(engine_transcript_get(f->e, id, &t), 0);
    assert_int_equal(engine_transcript_read(&t, after, n, collect, &c), 0);
    return &c;
}

/* ---- Messages ------------------------------------------------------------------------ */

TEST(messages_get_seqs_in_order_from_both_sides)
{
    MODEL_INSTALL;
    uint64_t id = chat_in(f, "chat", "n1");
    EXPECT_OK(CUSTOMER_SAYS(id, "c-1", "Hello, anyone there?"));
    assert_int_equal(f->res.contact, 1);
    assert_false(f->res.existing);
    const struct fx_effect *m = FX(MESSAGE, id, "");
    assert_int_equal(m->seq, 1);
    assert_int_equal(m->side, ENGINE_SIDE_CUSTOMER);
    assert_string_equal(m->msg_id, "c-1");
    assert_string_equal(m->text, "Hello, anyone there?");
    assert_string_equal(m->queue, "chat");
    assert_string_equal(m->home, "n1");
    assert_string_equal(m->session, "tok-1");
    assert_int_equal(m->at, NOW);
    LOGIN("a1");
    ASSERT_OFFERED(id, "a1");
    AFTER(FX_SEC);
    EXPECT_OK(CUSTOMER_SAYS(id, "c-2", "I am still here"));
    assert_int_equal(f->res.contact, 2);
    assert_string_equal(FX(MESSAGE, id, NULL)->agent, "a1"); /* offered to a1 */
    ACCEPT(OFFER_OF(id), "a1");
    AFTER(FX_SEC);
    EXPECT_OK(AGENT_SAYS(id, "a1", "a-1", "Hi Ada, how can I help?"));
    assert_int_equal(f->res.contact, 3);
    assert_int_equal(FX(MESSAGE, id, "a1")->side, ENGINE_SIDE_AGENT);
    assert_int_equal(fx_contact(f, id).messages, 3);
    struct collected *c = read_live(f, id, 0, 0);
    assert_int_equal(c->n, 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(c->seq[i], i + 1);
    }
    assert_int_equal(c->side[2], ENGINE_SIDE_AGENT);
    assert_string_equal(c->agent[2], "a1");
    assert_string_equal(c->agent[0], "");
    assert_int_equal(c->at[2], NOW);
    assert_int_equal(c->at[0], NOW - 2 * FX_SEC);
    /* From a seq on, and at most n. */
    c = read_live(f, id, 1, 1);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->seq[0], 2);
    assert_string_equal(c->text[0], "I am still here");
    assert_int_equal(read_live(f, id, 3, 0)->n, 0);
}

TEST(a_retried_message_id_is_applied_once)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    EXPECT_OK(CUSTOMER_SAYS(id, "m-1", "first"));
    EXPECT_OK(AGENT_SAYS(id, "a1", "m-1", "same id, the other side: another message"));
    assert_int_equal(f->res.contact, 2);
    EXPECT_OK(CUSTOMER_SAYS(id, "m-2", "second"));
    AFTER(5 * FX_SEC); /* a retry after a failover */
    TICK;
    uint64_t digest = DIGEST;
    EXPECT_OK(CUSTOMER_SAYS(id, "m-1", "first"));
    assert_true(f->res.existing);
    assert_int_equal(f->res.contact, 1);
    NO_FX(MESSAGE, id, NULL);
    EXPECT_OK(AGENT_SAYS(id, "a1", "m-1", "same id, the other side: another message"));
    assert_true(f->res.existing);
    assert_int_equal(f->res.contact, 2);
    assert_int_equal(DIGEST, digest);
    /* An id names one message: another text under it is refused. */
    assert_int_equal(CUSTOMER_SAYS(id, "m-2", "something else"), CD_EEXISTS);
    assert_int_equal(DIGEST, digest);
    assert_int_equal(fx_contact(f, id).messages, 3);
}

TEST(who_may_write_when)
{
    MODEL_INSTALL;
    uint64_t id = chat_in(f, "chat", "n1");
    /* Queued: the customer may, no agent may. */
    assert_int_equal(AGENT_SAYS(id, "a1", "x", "too early"), CD_ESTATE);
    LOGIN("a1");
    LOGIN("a2");
    const char *offered_to = fx_contact(f, id).agent;
    assert_int_equal(AGENT_SAYS(id, offered_to, "x", "offered, not yet connected"), CD_ESTATE);
    ACCEPT(OFFER_OF(id), offered_to);
    const char *other = strcmp(offered_to, "a1") == 0 ? "a2" : "a1";
    assert_int_equal(AGENT_SAYS(id, other, "x", "not mine"), CD_EINVAL);
    assert_int_equal(AGENT_SAYS(id, "nobody", "x", "unknown"), CD_EINVAL);
    EXPECT_OK(AGENT_SAYS(id, offered_to, "x", "mine"));
    END(id);
    ASSERT_STATE(id, WRAPUP);
    assert_int_equal(CUSTOMER_SAYS(id, "y", "after the end"), CD_ESTATE);
    assert_int_equal(AGENT_SAYS(id, offered_to, "y", "after the end"), CD_ESTATE);
    EXPECT_OK(wrapup(f, id, "sale", NULL));
    assert_int_equal(CUSTOMER_SAYS(id, "z", "gone"), CD_ENOTFOUND);
}

TEST(malformed_messages_change_nothing)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    uint64_t mail = CREATE_IN("mail", ENGINE_CH_EMAIL, 0);
    char big[ENGINE_MESSAGE_MAX + 1];
    memset(big, 'x', sizeof(big) - 1);
    big[ENGINE_MESSAGE_MAX] = 0;
    char long_id[ENGINE_MSG_ID_MAX + 1];
    memset(long_id, 'i', sizeof(long_id) - 1);
    long_id[ENGINE_MSG_ID_MAX] = 0;
    uint64_t digest = DIGEST;
    assert_int_equal(CUSTOMER_SAYS(id, "has space", "hi"), CD_EINVAL);
    assert_int_equal(CUSTOMER_SAYS(id, "", "hi"), CD_EINVAL);
    assert_int_equal(CUSTOMER_SAYS(id, NULL, "hi"), CD_EINVAL);
    assert_int_equal(CUSTOMER_SAYS(id, long_id, "hi"), CD_EINVAL);
    assert_int_equal(CUSTOMER_SAYS(id, "ok", ""), CD_EINVAL);
    assert_int_equal(CUSTOMER_SAYS(id, "ok", NULL), CD_EINVAL);
    assert_int_equal(CUSTOMER_SAYS(id, "ok", big), CD_EINVAL); /* 4096 bytes */
    assert_int_equal(msg(f, id, ENGINE_SIDE_CUSTOMER, "a1", "ok", "hi"), CD_EINVAL);
    assert_int_equal(msg(f, id, ENGINE_SIDE_AGENT, NULL, "ok", "hi"), CD_EINVAL);
    assert_int_equal(msg(f, id, ENGINE_SIDE_COUNT, NULL, "ok", "hi"), CD_EINVAL);
    assert_int_equal(CUSTOMER_SAYS(mail, "ok", "an email is no chat"), CD_EINVAL);
    assert_int_equal(CUSTOMER_SAYS(9999, "ok", "hi"), CD_ENOTFOUND);
    assert_int_equal(DIGEST, digest);
    assert_int_equal(fx_contact(f, id).messages, 0);
    /* At the limits exactly: 4095 bytes, a 64-character id. */
    big[ENGINE_MESSAGE_MAX - 1] = 0;
    long_id[ENGINE_MSG_ID_MAX - 1] = 0;
    EXPECT_OK(CUSTOMER_SAYS(id, long_id, big));
}

TEST(a_transcript_is_bounded)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    char mid[32];
    for (int i = 0; i < ENGINE_TRANSCRIPT_MAX; i++) {
        snprintf(mid, sizeof(mid), "m%d", i);
        f->n_fx = 0; /* the fixture keeps FX_EFFECTS_MAX effects */
        f->check = i % 100 == 0;
        EXPECT_OK(CUSTOMER_SAYS(id, mid, "."));
    }
    f->check = true;
    assert_int_equal(CUSTOMER_SAYS(id, "one-more", "."), CD_ETOOBIG);
    assert_int_equal(fx_contact(f, id).messages, ENGINE_TRANSCRIPT_MAX);
    /* A retry of a message already in it is still answered. */
    EXPECT_OK(CUSTOMER_SAYS(id, "m999", "."));
    assert_int_equal(f->res.contact, ENGINE_TRANSCRIPT_MAX);
    assert_true(f->res.existing);

    /* Bytes: 64 texts of 4095 bytes fit in 256 KiB, a 65th does not. */
    uint64_t other = chat_in(f, "chat", NULL);
    static char big[ENGINE_MESSAGE_MAX];
    memset(big, 'y', sizeof(big) - 1);
    for (int i = 0; i < 64; i++) {
        snprintf(mid, sizeof(mid), "b%d", i);
        EXPECT_OK(CUSTOMER_SAYS(other, mid, big));
    }
    assert_int_equal(CUSTOMER_SAYS(other, "b64", big), CD_ETOOBIG);
    EXPECT_OK(CUSTOMER_SAYS(other, "small", "this one still fits"));
}

TEST(the_transcript_key_attributes_and_disposition_go_into_the_history)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    char key[32];
    fx_copy_str(key, sizeof(key), fx_contact(f, id).key);
    EXPECT_OK(CUSTOMER_SAYS(id, "c1", "My bill is wrong"));
    EXPECT_OK(AGENT_SAYS(id, "a1", "a1", "Let me look"));
    END(id);
    EXPECT_OK(wrapup(f, id, "follow-up", "Refund promised.\nCall back Monday."));
    const struct engine_history *h = ENDED(id);
    assert_int_equal(h->outcome, ENGINE_CONTACT_COMPLETED);
    assert_true(strncmp(h->key, "web-", 4) == 0);
    assert_string_equal(h->key, key);
    assert_int_equal(h->n_attrs, 2);
    assert_string_equal(h->attrs[0].key, "name");
    assert_string_equal(h->attrs[0].value, "Ada");
    assert_string_equal(h->disposition, "follow-up");
    assert_string_equal(h->notes, "Refund promised.\nCall back Monday.");
    assert_int_equal(h->transcript.n, 2);
    struct collected c = {0};
    assert_int_equal(engine_transcript_read(&h->transcript, 0, 0, collect, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.text[0], "My bill is wrong");
    assert_string_equal(c.agent[1], "a1");
    /* The transcript parses as what it says it is. */
    struct engine_transcript t;
    assert_int_equal(engine_transcript_parse(h->transcript.data, h->transcript.len, &t), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.bytes, strlen("My bill is wrong") + strlen("Let me look"));
}

TEST(damaged_transcripts_are_refused)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    EXPECT_OK(CUSTOMER_SAYS(id, "c1", "one"));
    EXPECT_OK(CUSTOMER_SAYS(id, "c2", "two"));
    struct engine_transcript t;
    assert_int_equal(engine_transcript_get(f->e, id, &t), 0);
    uint8_t copy[256];
    assert_true(t.len < sizeof(copy));
    struct engine_transcript out;
    /* Of its truncations, only the one that ends after the first message is one. */
    int whole = 0;
    for (size_t n = 1; n < t.len; n++) {
        memcpy(copy, t.data, n);
        if (engine_transcript_parse(copy, n, &out) == 0) {
            whole++;
            assert_int_equal(out.n, 1);
        }
    }
    assert_int_equal(whole, 1);
    memcpy(copy, t.data, t.len);
    copy[0] = 2; /* the first seq must be 1 */
    assert_int_equal(engine_transcript_parse(copy, t.len, &out), CD_ECORRUPT);
    assert_int_equal(engine_transcript_read(&(struct engine_transcript){copy, t.len, 2, 6}, 0,
                                            0, collect, &(struct collected){0}),
                     CD_ECORRUPT);
    assert_int_equal(engine_transcript_parse(NULL, 0, &out), 0);
    assert_int_equal(out.n, 0);
}

TEST(a_snapshot_keeps_transcripts_and_deadlines)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    EXPECT_OK(CUSTOMER_SAYS(id, "c1", "before the snapshot"));
    EXPECT_OK(AGENT_SAYS(id, "a1", "a1", "answer"));
    uint64_t waiting = chat_in(f, "quick", "n2");
    SESSION_END(waiting);
    int64_t due = NOW + 30 * FX_SEC;
    assert_int_equal(fx_contact(f, waiting).reconnect_by, due);
    struct engine *copy = fx_snapshot_copy(f);
    struct engine_contact_info ci;
    assert_int_equal(engine_contact_get(copy, waiting, &ci), 0);
    assert_int_equal(ci.reconnect_by, due);
    assert_int_equal(engine_next_deadline(copy), engine_next_deadline(f->e));
    /* The copy goes on as the original: the next seq, retries found, the deadline fires. */
    engine_free(f->e);
    f->e = copy;
    EXPECT_OK(CUSTOMER_SAYS(id, "c1", "before the snapshot"));
    assert_true(f->res.existing);
    EXPECT_OK(CUSTOMER_SAYS(id, "c2", "after"));
    assert_int_equal(f->res.contact, 3);
    AT(due);
    TICK;
    ASSERT_GONE(waiting);
    assert_string_equal(ENDED(waiting)->reason, "customer_gone");
}

/* ---- Reconnect deadline -------------------------------------------------------------- */

TEST(a_queued_chat_whose_customer_does_not_come_back_is_abandoned)
{
    MODEL_INSTALL;
    uint64_t id = chat_in(f, "chat", "n1");
    assert_int_equal(fx_contact(f, id).reconnect_by, 0);
    AFTER(FX_SEC);
    SESSION_END(id);
    int64_t due = NOW + 30 * FX_SEC;
    assert_int_equal(fx_contact(f, id).reconnect_by, due);
    assert_int_equal(engine_next_deadline(f->e), due);
    AT(due - 1);
    TICK;
    ASSERT_STATE(id, QUEUED);
    EXPECT_OK(CUSTOMER_SAYS(id, "c1", "typing before the connection comes back"));
    AT(due);
    TICK;
    ASSERT_GONE(id);
    const struct engine_history *h = ENDED(id);
    assert_int_equal(h->outcome, ENGINE_CONTACT_ABANDONED);
    assert_string_equal(h->reason, "customer_gone");
    assert_int_equal(h->transcript.n, 1);
    assert_int_equal(engine_next_deadline(f->e), INT64_MAX);
}

/* The end of a connection the customer left behind does not cut the session the customer
 * has since opened through another member. */
TEST(a_session_end_names_the_session_it_ends)
{
    MODEL_INSTALL;
    uint64_t id = chat_in(f, "chat", "n1"); /* session tok-1 at n1 */
    SESSION_MOVE(id, "n2");                 /* tok-2 at n2 */
    struct engine_command end = {.kind = ENGINE_CMD_SESSION_END};
    end.u.session.id = id;
    end.u.session.home = "n1";
    end.u.session.session = "tok-1";
    assert_int_equal(fx_apply(f, &end), CD_ESTATE);
    assert_string_equal(fx_contact(f, id).home, "n2");
    assert_int_equal(fx_contact(f, id).reconnect_by, 0);
    end.u.session.home = "n2";
    end.u.session.session = "tok-1"; /* the right member, an old key */
    assert_int_equal(fx_apply(f, &end), CD_ESTATE);
    end.u.session.session = "tok-2";
    EXPECT_OK(fx_apply(f, &end));
    assert_string_equal(fx_contact(f, id).home, "");
    assert_true(fx_contact(f, id).reconnect_by > 0);
}

/* A customer who took the callback offer is not waited for. */
/* A chat that waits is offered a callback by a CALLBACK rule, and may take it. */
TEST(a_waiting_chat_is_offered_a_callback)
{
    uint32_t r = fx_rule(f, "cb", ENGINE_ACTION_CALLBACK, "chat");
    fx_cond(f, r, ENGINE_COND_CHANNEL)->channels = ENGINE_CH_BIT(ENGINE_CH_CHAT);
    MODEL_INSTALL;
    uint64_t id = chat_in(f, NULL, "n1");
    ASSERT_QUEUED(id, "chat");
    const struct fx_effect *cb = FX(CALLBACK_OFFER, id, NULL);
    assert_string_equal(cb->home, "n1"); /* to the node holding the chat page */
    struct engine_command take = {.kind = ENGINE_CMD_CONTACT_CALLBACK};
    take.u.contact.id = id;
    EXPECT_OK(fx_apply(f, &take));
    assert_true(fx_contact(f, id).callback);
    ASSERT_QUEUED(id, "chat");
}

TEST(a_callback_gets_no_reconnect_deadline)
{
    MODEL_INSTALL;
    uint64_t id = chat_in(f, "chat", "n1");
    struct engine_command cb = {.kind = ENGINE_CMD_CONTACT_CALLBACK};
    cb.u.contact.id = id;
    EXPECT_OK(fx_apply(f, &cb));
    SESSION_END(id);
    assert_int_equal(fx_contact(f, id).reconnect_by, 0);
    assert_int_equal(engine_next_deadline(f->e), INT64_MAX);
    ASSERT_STATE(id, QUEUED);
}

TEST(an_offered_chat_is_withdrawn_then_abandoned)
{
    f->m.chat_reconnect_s = 10; /* before the 20 s ring */
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = chat_in(f, "chat", "n1");
    ASSERT_OFFERED(id, "a1");
    uint64_t offer = OFFER_OF(id);
    SESSION_END(id);
    AFTER(10 * FX_SEC);
    TICK;
    EVER_FX(OFFER_CANCEL, id, "a1");
    assert_int_equal(ENDED(id)->outcome, ENGINE_CONTACT_ABANDONED);
    assert_string_equal(ENDED(id)->reason, "customer_gone");
    ACCEPT_ERR(offer, "a1", CD_ESTALE);
    ASSERT_AGENT("a1", AVAILABLE); /* withdrawn, not a ring-no-answer */
}

TEST(a_connected_chat_ends_in_wrapup_as_customer_gone)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    SESSION_END(id);
    AFTER(30 * FX_SEC);
    TICK;
    ASSERT_STATE(id, WRAPUP);
    EVER_FX(WRAPUP, id, "a1");
    assert_int_equal(fx_contact(f, id).reconnect_by, 0);
    assert_int_equal(CUSTOMER_SAYS(id, "late", "hello?"), CD_ESTATE);
    EXPECT_OK(wrapup(f, id, "no-sale", "customer left"));
    const struct engine_history *h = ENDED(id);
    assert_int_equal(h->outcome, ENGINE_CONTACT_ABANDONED);
    assert_string_equal(h->reason, "customer_gone");
    assert_string_equal(h->disposition, "no-sale");
    assert_true(h->answered != 0);
    /* Handled, not abandoned in the queue's figures. */
    assert_int_equal(fx_queue_info(f, "chat").abandoned, 0);
    ASSERT_AGENT("a1", AVAILABLE);
}

TEST(without_wrapup_a_gone_customer_ends_the_chat_at_once)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "quick"); /* no wrap-up */
    SESSION_END(id);
    AFTER(30 * FX_SEC);
    TICK;
    ASSERT_GONE(id);
    assert_int_equal(ENDED(id)->outcome, ENGINE_CONTACT_ABANDONED);
    assert_string_equal(ENDED(id)->reason, "customer_gone");
}

TEST(the_automatic_end_of_wrapup_keeps_customer_gone)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    SESSION_END(id);
    AFTER(30 * FX_SEC);
    TICK;
    ASSERT_STATE(id, WRAPUP);
    AFTER(60 * FX_SEC);
    TICK;
    assert_int_equal(ENDED(id)->outcome, ENGINE_CONTACT_ABANDONED);
    assert_string_equal(ENDED(id)->disposition, "");
}

TEST(in_wrapup_a_lost_connection_changes_nothing)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    END(id);
    SESSION_END(id);
    assert_int_equal(fx_contact(f, id).reconnect_by, 0);
    /* Ended while waiting: wrap-up drops the deadline. */
    uint64_t other = connected_chat(f, "chat");
    SESSION_END(other);
    END(other);
    assert_int_equal(fx_contact(f, other).reconnect_by, 0);
    AFTER(40 * FX_SEC);
    TICK;
    EXPECT_OK(wrapup(f, other, NULL, NULL));
    assert_int_equal(ENDED(other)->outcome, ENGINE_CONTACT_COMPLETED);
}

TEST(coming_back_through_any_member_clears_the_deadline)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    SESSION_END(id);
    AFTER(29 * FX_SEC);
    SESSION_MOVE(id, "n3");
    assert_int_equal(fx_contact(f, id).reconnect_by, 0);
    assert_int_equal(engine_next_deadline(f->e), INT64_MAX);
    AFTER(10 * FX_SEC);
    TICK;
    ASSERT_CONNECTED(id, "a1");
    /* A second loss starts a new wait, from its own time. */
    SESSION_END(id);
    assert_int_equal(fx_contact(f, id).reconnect_by, NOW + 30 * FX_SEC);
}

TEST(a_lost_home_starts_the_wait_too)
{
    MODEL_INSTALL;
    uint64_t id = chat_in(f, "chat", "n2");
    uint64_t mail = CREATE_IN("mail", ENGINE_CH_EMAIL, 0);
    struct engine_command c = {.kind = ENGINE_CMD_NODE_LOST};
    c.u.node.name = "n2";
    EXPECT_OK(fx_apply(f, &c));
    assert_string_equal(FX(SESSION_LOST, id, NULL)->text, "waits");
    assert_int_equal(fx_contact(f, id).reconnect_by, NOW + 30 * FX_SEC);
    assert_int_equal(fx_contact(f, mail).reconnect_by, 0);
    AFTER(30 * FX_SEC);
    TICK;
    ASSERT_GONE(id);
    assert_string_equal(ENDED(id)->reason, "customer_gone");
}

TEST(the_earlier_of_two_deadlines_fires_first)
{
    Q("chat")->max_wait_s = 10;
    Q("chat")->overflow_queue = fx_queue_index(f, "quick");
    f->m.chat_reconnect_s = 60;
    MODEL_INSTALL;
    uint64_t id = chat_in(f, "chat", "n1");
    SESSION_END(id);
    assert_int_equal(engine_next_deadline(f->e), NOW + 10 * FX_SEC);
    AFTER(10 * FX_SEC);
    TICK;
    ASSERT_QUEUED(id, "quick"); /* the queue timeout moved it; the wait goes on */
    assert_int_equal(engine_next_deadline(f->e), NOW + 50 * FX_SEC);
    AFTER(50 * FX_SEC);
    TICK;
    ASSERT_GONE(id);
    assert_string_equal(ENDED(id)->reason, "customer_gone");
}

TEST(the_default_wait_is_two_minutes)
{
    f->m.chat_reconnect_s = 0;
    MODEL_INSTALL;
    uint64_t id = chat_in(f, "chat", "n1");
    SESSION_END(id);
    assert_int_equal(fx_contact(f, id).reconnect_by, NOW + 120 * FX_SEC);
}

/* ---- Dispositions -------------------------------------------------------------------- */

TEST(dispositions_must_be_listed_and_may_be_required)
{
    Q("chat")->disposition_required = true;
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    END(id);
    uint64_t digest = DIGEST;
    assert_int_equal(wrapup(f, id, NULL, NULL), CD_EINVAL);
    assert_non_null(strstr(f->res.message, "requires a disposition"));
    assert_int_equal(wrapup(f, id, "", "notes"), CD_EINVAL);
    assert_int_equal(wrapup(f, id, "maybe", NULL), CD_EINVAL);
    assert_non_null(strstr(f->res.message, "maybe"));
    char notes[ENGINE_NOTES_MAX + 1];
    memset(notes, 'n', sizeof(notes) - 1);
    notes[ENGINE_NOTES_MAX] = 0;
    assert_int_equal(wrapup(f, id, "sale", notes), CD_EINVAL);
    assert_int_equal(DIGEST, digest);
    ASSERT_STATE(id, WRAPUP);
    notes[ENGINE_NOTES_MAX - 1] = 0; /* 1024 bytes */
    EXPECT_OK(wrapup(f, id, "sale", notes));
    assert_string_equal(ENDED(id)->disposition, "sale");
    assert_int_equal(strlen(ENDED(id)->notes), ENGINE_NOTES_MAX - 1);
}

TEST(the_automatic_end_of_wrapup_records_no_disposition)
{
    Q("chat")->disposition_required = true;
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    END(id);
    AFTER(60 * FX_SEC);
    TICK;
    assert_int_equal(ENDED(id)->outcome, ENGINE_CONTACT_COMPLETED);
    assert_string_equal(ENDED(id)->disposition, "");
    assert_string_equal(ENDED(id)->notes, "");
}

TEST(a_disposition_is_optional_where_not_required)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    END(id);
    EXPECT_OK(wrapup(f, id, NULL, NULL));
    assert_string_equal(ENDED(id)->disposition, "");
    /* A contact that never wrapped up has none either. */
    uint64_t gone = chat_in(f, "quick", NULL);
    ABANDON(gone);
    assert_string_equal(ENDED(gone)->disposition, "");
    assert_int_equal(ENDED(gone)->transcript.n, 0);
}

/* ---- Away reasons -------------------------------------------------------------------- */

TEST(away_reasons_listed_are_the_only_ones)
{
    const char *reasons[] = {"lunch", "break", "training"};
    for (size_t i = 0; i < 3; i++) {
        fx_copy_str(f->m.away[f->m.n_away++], ENGINE_VALUE_MAX, reasons[i]);
    }
    fx_copy_str(f->m.rna_reason, ENGINE_VALUE_MAX, "missed");
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t digest = DIGEST;
    assert_int_equal(fx_agent_cmd(f, ENGINE_CMD_AGENT_STATE, "a1", ENGINE_PRESENCE_AWAY, "nap"),
                     CD_EINVAL);
    assert_non_null(strstr(f->res.message, "lunch, break, training"));
    assert_int_equal(fx_agent_cmd(f, ENGINE_CMD_AGENT_STATE, "a1", ENGINE_PRESENCE_AWAY, NULL),
                     CD_EINVAL);
    assert_int_equal(fx_agent_cmd(f, ENGINE_CMD_AGENT_LOGIN, "a2", ENGINE_PRESENCE_AWAY, "nap"),
                     CD_EINVAL);
    assert_int_equal(DIGEST, digest);
    AWAY("a1", "training");
    assert_string_equal(fx_agent_info(f, "a1").reason, "training");
    AWAY("a1", "missed"); /* the system's own ring-no-answer reason */
    AVAILABLE("a1");      /* available needs none */
    EXPECT_OK(fx_agent_cmd(f, ENGINE_CMD_AGENT_LOGIN, "a2", ENGINE_PRESENCE_AWAY, "lunch"));
    /* Ring-no-answer still makes an agent away with the system's reason. */
    uint64_t id = chat_in(f, "chat", NULL);
    ASSERT_OFFERED(id, "a1");
    AFTER(20 * FX_SEC);
    TICK;
    assert_string_equal(fx_agent_info(f, "a1").reason, "missed");
}

TEST(without_a_list_any_reason_goes)
{
    MODEL_INSTALL;
    LOGIN("a1");
    AWAY("a1", "whatever-they-like");
    AWAY("a1", NULL);
}

/* ---- The model's chat part ----------------------------------------------------------- */

static struct engine_chat_entry *add_entry(struct fixture *f, const char *name, int32_t queue)
{
    f->m.chat_entries =
        fx_grow(f->m.chat_entries, f->m.n_chat_entries, sizeof(*f->m.chat_entries));
    struct engine_chat_entry *ce = &f->m.chat_entries[f->m.n_chat_entries++];
    fx_copy_str(ce->name, sizeof(ce->name), name);
    ce->queue = queue;
    return ce;
}

static struct engine_chat_field *add_field(struct engine_chat_entry *ce,
                                           const char *key,
                                           uint8_t type)
{
    struct engine_chat_field *fl = &ce->fields[ce->n_fields++];
    fx_copy_str(fl->key, sizeof(fl->key), key);
    fx_copy_str(fl->label, sizeof(fl->label), "Votre nom \xc3\xa9");
    fl->type = type;
    fl->max = ENGINE_VALUE_MAX - 1;
    if (type == ENGINE_FIELD_SELECT) {
        fx_copy_str(fl->options[fl->n_options++], ENGINE_VALUE_MAX, "billing");
        fx_copy_str(fl->options[fl->n_options++], ENGINE_VALUE_MAX, "tech support");
    }
    return fl;
}

static void expect_invalid(struct fixture *f, const char *needle)
{
    char err[256];
    assert_int_equal(engine_model_validate(&f->m, err, sizeof(err)), CD_EINVAL);
    if (strstr(err, needle) == NULL) {
        fail_msg("'%s' does not say '%s'", err, needle);
    }
}

TEST(the_chat_part_of_a_model_round_trips)
{
    struct engine_chat_entry *ce = add_entry(f, "support", fx_queue_index(f, "chat"));
    add_field(ce, "name", ENGINE_FIELD_TEXT)->required = true;
    add_field(ce, "email", ENGINE_FIELD_EMAIL);
    add_field(ce, "topic", ENGINE_FIELD_SELECT)->max = 20;
    add_entry(f, "sales", -1);
    fx_copy_str(f->m.away[f->m.n_away++], ENGINE_VALUE_MAX, "lunch");
    Q("chat")->disposition_required = true;
    Q("mail")->disposition_required = true;
    char err[256];
    assert_int_equal(engine_model_validate(&f->m, err, sizeof(err)), 0);
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_model_encode(&f->m, &b), 0);
    assert_int_equal(b.data[0], 3);
    struct engine_model back;
    struct cd_reader r;
    cd_reader_init(&r, b.data, b.len);
    assert_int_equal(engine_model_decode(&r, &back), 0);
    assert_int_equal(cd_rd_left(&r), 0);
    assert_int_equal(back.n_chat_entries, 2);
    assert_int_equal(back.chat_entries[0].n_fields, 3);
    assert_string_equal(back.chat_entries[0].fields[2].options[1], "tech support");
    assert_int_equal(back.chat_entries[0].fields[2].max, 20);
    assert_true(back.chat_entries[0].fields[0].required);
    assert_int_equal(back.chat_entries[1].queue, -1);
    assert_true(back.queues[0].disposition_required);
    assert_false(back.queues[1].disposition_required);
    assert_true(back.queues[2].disposition_required);
    assert_int_equal(back.chat_reconnect_s, 30);
    assert_int_equal(engine_model_disposition(&back, "follow-up"), 2);
    assert_int_equal(engine_model_away(&back, "lunch"), 0);
    assert_int_equal(engine_model_chat_entry(&back, "sales"), 1);
    /* Canonical: the copy encodes to the same bytes. */
    struct cd_buf b2;
    cd_buf_init(&b2);
    struct engine_model copy;
    engine_model_init(&copy);
    assert_int_equal(engine_model_copy(&copy, &back), 0);
    assert_int_equal(engine_model_encode(&copy, &b2), 0);
    assert_int_equal(b2.len, b.len);
    assert_memory_equal(b2.data, b.data, b.len);
    /* Every truncation is refused. */
    for (size_t n = 0; n < b.len; n++) {
        struct engine_model m;
        cd_reader_init(&r, b.data, n);
        assert_int_not_equal(engine_model_decode(&r, &m), 0);
    }
    engine_model_close(&copy);
    engine_model_close(&back);
    cd_buf_close(&b);
    cd_buf_close(&b2);
    /* A model without any of it keeps its old format. */
    struct engine_model plain;
    engine_model_init(&plain);
    cd_buf_init(&b);
    assert_int_equal(engine_model_encode(&plain, &b), 0);
    assert_int_equal(b.data[0], 1);
    cd_buf_close(&b);
}

TEST(bad_chat_parts_are_refused_by_name)
{
    struct engine_chat_entry *ce = add_entry(f, "support", fx_queue_index(f, "chat"));
    struct engine_chat_field *fl = add_field(ce, "topic", ENGINE_FIELD_SELECT);
    fl->n_options = 0;
    expect_invalid(f, "a select needs");
    fl->n_options = 2;
    fl->type = ENGINE_FIELD_TEXT;
    expect_invalid(f, "other types none");
    fl->type = ENGINE_FIELD_SELECT;
    fl->max = 3;
    expect_invalid(f, "option 0 invalid");
    fl->max = ENGINE_VALUE_MAX;
    expect_invalid(f, "out of range");
    fl->max = 63;
    fx_copy_str(fl->label, sizeof(fl->label), "");
    expect_invalid(f, "label invalid");
    fx_copy_str(fl->label, sizeof(fl->label), "Topic");
    add_field(ce, "topic", ENGINE_FIELD_TEXT);
    expect_invalid(f, "field 'topic' given twice");
    fx_copy_str(ce->fields[1].key, ENGINE_KEY_MAX, "bad key");
    expect_invalid(f, "key invalid");
    fx_copy_str(ce->fields[1].key, ENGINE_KEY_MAX, "name");
    ce->queue = fx_queue_index(f, "mail");
    expect_invalid(f, "not a chat queue");
    ce->queue = -1;
    add_entry(f, "support", -1);
    expect_invalid(f, "chat entry 'support' given twice");
    f->m.n_chat_entries = 1;
    f->m.chat_reconnect_s = 5;
    expect_invalid(f, "reconnect");
    f->m.chat_reconnect_s = 30;
    fx_copy_str(f->m.dispositions[f->m.n_dispositions++], ENGINE_VALUE_MAX, "sale");
    expect_invalid(f, "disposition 'sale' listed twice");
    f->m.n_dispositions = 0;
    Q("chat")->disposition_required = true;
    expect_invalid(f, "lists no dispositions");
    Q("chat")->disposition_required = false;
    fx_copy_str(f->m.away[f->m.n_away++], ENGINE_VALUE_MAX, "out to lunch");
    expect_invalid(f, "away reason 0 invalid");
    f->m.n_away = 0;
    char err[256];
    assert_int_equal(engine_model_validate(&f->m, err, sizeof(err)), 0);
}

/* ---- Effects ------------------------------------------------------------------------- */

static void round_trip_effect(const struct engine_effect *in,
                              struct engine_effect *out,
                              struct engine_history *h,
                              struct cd_buf *b)
{
    cd_buf_reset(b);
    assert_int_equal(engine_effect_encode(in, b), 0);
    assert_int_equal(b->data[0], 0x81);
    struct cd_reader r;
    cd_reader_init(&r, b->data, b->len);
    assert_int_equal(engine_effect_decode(&r, out, h), 0);
    assert_int_equal(cd_rd_left(&r), 0);
    struct cd_buf again;
    cd_buf_init(&again);
    assert_int_equal(engine_effect_encode(out, &again), 0);
    assert_int_equal(again.len, b->len);
    assert_memory_equal(again.data, b->data, b->len);
    cd_buf_close(&again);
}

TEST(message_and_ended_effects_round_trip)
{
    MODEL_INSTALL;
    uint64_t id = connected_chat(f, "chat");
    EXPECT_OK(CUSTOMER_SAYS(id, "c-9", "ping"));
    struct engine_transcript t;
    assert_int_equal(engine_transcript_get(f->e, id, &t), 0);
    struct cd_buf b;
    cd_buf_init(&b);
    struct engine_effect out;
    struct engine_history h;
    struct engine_effect m = {.kind = ENGINE_FX_MESSAGE,
                              .channel = ENGINE_CH_CHAT,
                              .contact = id,
                              .agent = "a1",
                              .queue = "chat",
                              .text = "ping",
                              .at = NOW,
                              .home = "n1",
                              .session = "tok-1",
                              .seq = 7,
                              .msg_id = "c-9",
                              .side = ENGINE_SIDE_AGENT};
    round_trip_effect(&m, &out, &h, &b);
    assert_int_equal(out.seq, 7);
    assert_string_equal(out.msg_id, "c-9");
    assert_int_equal(out.side, ENGINE_SIDE_AGENT);
    assert_string_equal(out.text, "ping");
    struct engine_history in = {.contact = id,
                                .channel = ENGINE_CH_CHAT,
                                .outcome = ENGINE_CONTACT_COMPLETED,
                                .queue = "chat",
                                .agent = "a1",
                                .reason = "",
                                .key = "web-41",
                                .n_attrs = 1,
                                .attrs = {{"name", "Ada"}},
                                .disposition = "sale",
                                .notes = "n",
                                .transcript = t};
    struct engine_effect ended = {
        .kind = ENGINE_FX_ENDED, .channel = ENGINE_CH_CHAT, .contact = id, .history = &in};
    round_trip_effect(&ended, &out, &h, &b);
    assert_ptr_equal(out.history, &h);
    assert_string_equal(h.key, "web-41");
    assert_string_equal(h.attrs[0].value, "Ada");
    assert_string_equal(h.disposition, "sale");
    assert_int_equal(h.transcript.n, 1);
    /* A history whose transcript is damaged is refused. */
    size_t at = b.len - 2; /* inside the transcript's last text */
    b.data[at] = 0;
    struct cd_reader r;
    cd_reader_init(&r, b.data, b.len);
    assert_int_equal(engine_effect_decode(&r, &out, &h), CD_ECORRUPT);
    cd_buf_close(&b);
}

TEST(effects_kept_before_the_format_byte_still_decode)
{
    (void)f;
    struct engine_effect in = {.kind = ENGINE_FX_QUEUED,
                               .channel = ENGINE_CH_SMS,
                               .contact = 12,
                               .queue = "sms",
                               .ewt_ms = 3000};
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_effect_encode(&in, &b), 0);
    /* The old layout: no format byte, no seq (1 byte), msg_id (2) and side (1) before the
     * history flag at the end. */
    size_t n = b.len;
    uint8_t legacy[256];
    memcpy(legacy, b.data + 1, n - 6);
    legacy[n - 6] = 0; /* no history */
    struct cd_reader r;
    cd_reader_init(&r, legacy, n - 5);
    struct engine_effect out;
    struct engine_history h;
    assert_int_equal(engine_effect_decode(&r, &out, &h), 0);
    assert_int_equal(cd_rd_left(&r), 0);
    assert_int_equal(out.kind, ENGINE_FX_QUEUED);
    assert_int_equal(out.contact, 12);
    assert_string_equal(out.queue, "sms");
    assert_string_equal(out.msg_id, "");
    /* An unknown format byte is refused. */
    b.data[0] = 0x82;
    cd_reader_init(&r, b.data, b.len);
    assert_int_equal(engine_effect_decode(&r, &out, &h), CD_ECORRUPT);
    cd_buf_close(&b);
}

TEST(chat_commands_round_trip_through_the_command_codec)
{
    (void)f;
    struct engine_command in = {.kind = ENGINE_CMD_CHAT_MESSAGE, .actor = "user:ann"};
    in.u.message.id = 42;
    in.u.message.from = ENGINE_SIDE_AGENT;
    in.u.message.agent = "ann";
    in.u.message.msg_id = "m-1";
    in.u.message.text = "hello";
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_command_encode(&in, &b), 0);
    struct engine_command out;
    struct engine_cmd_store store;
    engine_cmd_store_init(&store);
    assert_int_equal(engine_command_decode(b.data, b.len, &out, &store), 0);
    assert_int_equal(out.u.message.id, 42);
    assert_string_equal(out.u.message.text, "hello");
    assert_string_equal(engine_cmd_name(ENGINE_CMD_CHAT_MESSAGE), "chat_message");
    assert_string_equal(engine_effect_name(ENGINE_FX_MESSAGE), "message");
    assert_int_equal(engine_effect_parse("message"), ENGINE_FX_MESSAGE);
    assert_int_equal(engine_side_parse("customer"), ENGINE_SIDE_CUSTOMER);
    assert_string_equal(engine_field_type_name(ENGINE_FIELD_TEXTAREA), "textarea");
    assert_int_equal(engine_field_type_parse("select"), ENGINE_FIELD_SELECT);
    engine_cmd_store_close(&store);
    cd_buf_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(messages_get_seqs_in_order_from_both_sides),
        FX_TEST(a_retried_message_id_is_applied_once),
        FX_TEST(who_may_write_when),
        FX_TEST(malformed_messages_change_nothing),
        FX_TEST(a_transcript_is_bounded),
        FX_TEST(the_transcript_key_attributes_and_disposition_go_into_the_history),
        FX_TEST(damaged_transcripts_are_refused),
        FX_TEST(a_snapshot_keeps_transcripts_and_deadlines),
        FX_TEST(a_queued_chat_whose_customer_does_not_come_back_is_abandoned),
        FX_TEST(a_session_end_names_the_session_it_ends),
        FX_TEST(a_waiting_chat_is_offered_a_callback),
        FX_TEST(a_callback_gets_no_reconnect_deadline),
        FX_TEST(an_offered_chat_is_withdrawn_then_abandoned),
        FX_TEST(a_connected_chat_ends_in_wrapup_as_customer_gone),
        FX_TEST(without_wrapup_a_gone_customer_ends_the_chat_at_once),
        FX_TEST(the_automatic_end_of_wrapup_keeps_customer_gone),
        FX_TEST(in_wrapup_a_lost_connection_changes_nothing),
        FX_TEST(coming_back_through_any_member_clears_the_deadline),
        FX_TEST(a_lost_home_starts_the_wait_too),
        FX_TEST(the_earlier_of_two_deadlines_fires_first),
        FX_TEST(the_default_wait_is_two_minutes),
        FX_TEST(dispositions_must_be_listed_and_may_be_required),
        FX_TEST(the_automatic_end_of_wrapup_records_no_disposition),
        FX_TEST(a_disposition_is_optional_where_not_required),
        FX_TEST(away_reasons_listed_are_the_only_ones),
        FX_TEST(without_a_list_any_reason_goes),
        FX_TEST(the_chat_part_of_a_model_round_trips),
        FX_TEST(bad_chat_parts_are_refused_by_name),
        FX_TEST(message_and_ended_effects_round_trip),
        FX_TEST(effects_kept_before_the_format_byte_still_decode),
        FX_TEST(chat_commands_round_trip_through_the_command_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
