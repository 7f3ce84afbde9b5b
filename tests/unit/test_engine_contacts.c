/* Contact state machine: queued -> offered -> connected -> wrapup -> completed, the
 * terminal outcomes, idempotency keys and the errors of commands that do not fit the
 * contact's state. */
#include "engine_fixture.h"

/* "sales" has 30 s of wrap-up, "support" none. a1 and a2 serve both. */
static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("sales")->wrapup_s = 30;
    fx_queue(f, "support", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("a1", "sales", "support");
    AGENT("a2", "sales", "support");
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

#define SET_ATTRS(id, arr)                                                  \
    do {                                                                    \
        struct engine_command c_ = {.kind = ENGINE_CMD_CONTACT_SET_ATTRS};  \
        c_.u.set_attrs.id = (id);                                           \
        c_.u.set_attrs.n_attrs = (uint8_t)(sizeof(arr) / sizeof((arr)[0])); \
        c_.u.set_attrs.attrs = (arr);                                       \
        EXPECT_OK(fx_apply(f, &c_));                                        \
    } while (0)

static const char *attr_of(const struct engine_contact_info *ci, const char *key)
{
    for (uint8_t i = 0; i < ci->n_attrs; i++) {
        if (strcmp(ci->attrs[i].key, key) == 0) {
            return ci->attrs[i].value;
        }
    }
    return NULL;
}

TEST(full_lifecycle_with_history)
{
    MODEL_INSTALL;
    LOGIN("a1");
    AT(FX_T0 + 1000);
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 3);
    assert_int_equal(id, 1);
    ASSERT_OFFERED(id, "a1");
    const struct fx_effect *offer = FX(OFFER, id, "a1");
    assert_int_equal(offer->at, FX_T0 + 1000 + 20 * FX_SEC);
    assert_int_equal(offer->offer, OFFER_OF(id));
    ASSERT_AGENT("a1", BUSY);
    ASSERT_LOAD("a1", ENGINE_CH_VOICE, 1);

    AT(FX_T0 + 3000);
    ACCEPT(offer->offer, "a1");
    ASSERT_CONNECTED(id, "a1");
    FX(CONNECTED, id, "a1");
    assert_int_equal(fx_contact(f, id).answered, FX_T0 + 3000);

    AT(FX_T0 + 60000);
    END(id);
    ASSERT_STATE(id, WRAPUP);
    assert_int_equal(FX(WRAPUP, id, "a1")->at, FX_T0 + 90000);
    ASSERT_AGENT("a1", WRAPUP);
    ASSERT_LOAD("a1", ENGINE_CH_VOICE, 1);
    NO_FX(ENDED, id, NULL);

    AT(FX_T0 + 70000);
    WRAPUP_DONE(id);
    ASSERT_GONE(id);
    const struct engine_history *h = &FX(ENDED, id, NULL)->h;
    assert_int_equal(h->contact, id);
    assert_int_equal(h->outcome, ENGINE_CONTACT_COMPLETED);
    assert_int_equal(h->channel, ENGINE_CH_VOICE);
    assert_int_equal(h->priority, 3);
    assert_string_equal(h->queue, "sales");
    assert_string_equal(h->agent, "a1");
    assert_int_equal(h->arrived, FX_T0 + 1000);
    assert_int_equal(h->offered, FX_T0 + 1000);
    assert_int_equal(h->answered, FX_T0 + 3000);
    assert_int_equal(h->ended, FX_T0 + 60000);
    assert_int_equal(h->completed, FX_T0 + 70000);
    assert_int_equal(h->offers, 1);
    assert_int_equal(h->transfers, 0);
    ASSERT_AGENT("a1", AVAILABLE);
    ASSERT_LOAD("a1", ENGINE_CH_VOICE, 0);
    assert_int_equal(engine_contact_count(f->e), 0);
}

TEST(ids_are_sequential)
{
    MODEL_INSTALL;
    assert_int_equal(CREATE_IN("sales", ENGINE_CH_EMAIL, 0), 1);
    assert_int_equal(CREATE_IN("sales", ENGINE_CH_EMAIL, 0), 2);
    assert_int_equal(CREATE_IN("support", ENGINE_CH_CHAT, 0), 3);
    assert_int_equal(engine_contact_count(f->e), 3);
    ASSERT_QUEUED(1, "sales");
    ASSERT_QUEUED(3, "support");
    assert_int_equal(FX(QUEUED, 3, NULL)->channel, ENGINE_CH_CHAT);
}

TEST(abandon_while_queued)
{
    MODEL_INSTALL;
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ASSERT_QUEUED(id, "sales");
    FX(QUEUED, id, NULL);
    assert_int_equal(fx_queue_info(f, "sales").waiting, 1);

    AT(FX_T0 + 15000);
    ABANDON(id);
    ASSERT_GONE(id);
    const struct engine_history *h = &FX(ENDED, id, NULL)->h;
    assert_int_equal(h->outcome, ENGINE_CONTACT_ABANDONED);
    assert_int_equal(h->arrived, FX_T0);
    assert_int_equal(h->offered, 0);
    assert_int_equal(h->answered, 0);
    assert_int_equal(h->ended, FX_T0 + 15000);
    assert_string_equal(h->agent, "");
    assert_int_equal(fx_queue_info(f, "sales").waiting, 0);
    assert_int_equal(fx_queue_info(f, "sales").abandoned, 1);
}

TEST(abandon_while_offered_cancels_offer)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    uint64_t offer = OFFER_OF(id);
    AT(FX_T0 + 5000);
    ABANDON(id);
    const struct fx_effect *cancel = FX(OFFER_CANCEL, id, "a1");
    assert_int_equal(cancel->offer, offer);
    const struct engine_history *h = &FX(ENDED, id, NULL)->h;
    assert_int_equal(h->outcome, ENGINE_CONTACT_ABANDONED);
    assert_int_equal(h->offered, FX_T0);
    assert_int_equal(h->answered, 0);
    assert_int_equal(h->ended, FX_T0 + 5000);
    ASSERT_GONE(id);
    ASSERT_AGENT("a1", AVAILABLE);
    ASSERT_LOAD("a1", ENGINE_CH_VOICE, 0);
    ACCEPT_ERR(offer, "a1", CD_ESTALE);
}

TEST(end_without_wrapup_completes_at_once)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = CREATE_IN("support", ENGINE_CH_CHAT, 0);
    AT(FX_T0 + 2000);
    ACCEPT(OFFER_OF(id), "a1");
    AT(FX_T0 + 40000);
    END(id);
    NO_FX(WRAPUP, id, NULL);
    ASSERT_GONE(id);
    const struct engine_history *h = &FX(ENDED, id, NULL)->h;
    assert_int_equal(h->outcome, ENGINE_CONTACT_COMPLETED);
    assert_int_equal(h->ended, FX_T0 + 40000);
    assert_int_equal(h->completed, FX_T0 + 40000);
    assert_string_equal(h->queue, "support");
    ASSERT_AGENT("a1", AVAILABLE);
    ASSERT_LOAD("a1", ENGINE_CH_CHAT, 0);
}

TEST(idempotency_key_returns_existing)
{
    MODEL_INSTALL;
    assert_int_equal(fx_create(f, "k1", "sales", ENGINE_CH_EMAIL, 0, 0, NULL, 0, NULL), 0);
    assert_int_equal(f->res.contact, 1);
    assert_false(f->res.existing);
    uint64_t d = DIGEST;

    assert_int_equal(fx_create(f, "k1", "sales", ENGINE_CH_EMAIL, 0, 0, NULL, 0, NULL), 0);
    assert_int_equal(f->res.contact, 1);
    assert_true(f->res.existing);
    assert_int_equal(f->n_fx, f->mark);
    assert_int_equal(DIGEST, d);
    assert_int_equal(engine_contact_count(f->e), 1);
    ASSERT_QUEUED(1, "sales");

    /* An empty key is no key. */
    assert_int_equal(fx_create(f, "", "sales", ENGINE_CH_EMAIL, 0, 0, NULL, 0, NULL), 0);
    assert_int_equal(f->res.contact, 2);
    assert_int_equal(fx_create(f, "", "sales", ENGINE_CH_EMAIL, 0, 0, NULL, 0, NULL), 0);
    assert_int_equal(f->res.contact, 3);
    assert_false(f->res.existing);
}

/* The same key with another request is refused, whatever differs, and changes nothing. */
TEST(idempotency_key_with_another_request_is_refused)
{
    fx_skill(f, "english");
    fx_skill(f, "french");
    MODEL_INSTALL;
    struct engine_skill_ref sk[] = {{"english", 2}, {"french", 1}};
    struct engine_attr at[] = {{"lang", "en"}, {"tier", "gold"}};
    assert_int_equal(fx_create(f, "k1", "sales", ENGINE_CH_EMAIL, 3, 2, sk, 2, at), 0);
    uint64_t id = f->res.contact;
    uint64_t d = DIGEST;

    struct engine_skill_ref sk_level[] = {{"english", 3}, {"french", 1}};
    struct engine_attr at_value[] = {{"lang", "en"}, {"tier", "silver"}};
    struct engine_attr at_fewer[] = {{"lang", "en"}};
    int rc[] = {
        fx_create(f, "k1", "support", ENGINE_CH_EMAIL, 3, 2, sk, 2, at),
        fx_create(f, "k1", "sales", ENGINE_CH_CHAT, 3, 2, sk, 2, at),
        fx_create(f, "k1", "sales", ENGINE_CH_EMAIL, 4, 2, sk, 2, at),
        fx_create(f, "k1", "sales", ENGINE_CH_EMAIL, 3, 2, sk_level, 2, at),
        fx_create(f, "k1", "sales", ENGINE_CH_EMAIL, 3, 1, sk, 2, at),
        fx_create(f, "k1", "sales", ENGINE_CH_EMAIL, 3, 2, sk, 2, at_value),
        fx_create(f, "k1", "sales", ENGINE_CH_EMAIL, 3, 2, sk, 1, at_fewer),
        fx_create(f, "k1", NULL, ENGINE_CH_EMAIL, 3, 2, sk, 2, at),
    };
    for (size_t i = 0; i < sizeof(rc) / sizeof(rc[0]); i++) {
        assert_int_equal(rc[i], CD_EEXISTS);
    }
    assert_non_null(strstr(f->res.message, "different request"));
    assert_false(f->res.existing);
    assert_int_equal(DIGEST, d);
    assert_int_equal(engine_contact_count(f->e), 1);

    /* Skills and attributes listed in another order ask for the same contact. */
    struct engine_skill_ref sk_swapped[] = {{"french", 1}, {"english", 2}};
    struct engine_attr at_swapped[] = {{"tier", "gold"}, {"lang", "en"}};
    assert_int_equal(
        fx_create(f, "k1", "sales", ENGINE_CH_EMAIL, 3, 2, sk_swapped, 2, at_swapped), 0);
    assert_true(f->res.existing);
    assert_int_equal(f->res.contact, id);
    assert_int_equal(DIGEST, d);
}

TEST(idempotency_key_remembered_after_finish)
{
    MODEL_INSTALL;
    assert_int_equal(fx_create(f, "k9", "sales", ENGINE_CH_SMS, 0, 0, NULL, 0, NULL), 0);
    uint64_t id = f->res.contact;
    ABANDON(id);
    uint64_t d = DIGEST;
    assert_int_equal(fx_create(f, "k9", "sales", ENGINE_CH_SMS, 0, 0, NULL, 0, NULL), 0);
    assert_int_equal(f->res.contact, id);
    assert_true(f->res.existing);
    assert_int_equal(DIGEST, d);
    assert_int_equal(fx_create(f, "k9", "sales", ENGINE_CH_VOICE, 0, 0, NULL, 0, NULL),
                     CD_EEXISTS);
    assert_int_equal(DIGEST, d);
    assert_int_equal(engine_contact_count(f->e), 0);
    /* The next new contact still gets the next id. */
    assert_int_equal(CREATE_IN("sales", ENGINE_CH_SMS, 0), id + 1);
}

/* What a key was created with travels in snapshots, for live and finished contacts: a node
 * that caught up from one answers a repeated key as the others do. */
TEST(idempotency_fingerprint_survives_a_snapshot)
{
    MODEL_INSTALL;
    struct engine_attr at[] = {{"lang", "en"}};
    assert_int_equal(fx_create(f, "live", "sales", ENGINE_CH_CHAT, 0, 0, NULL, 1, at), 0);
    uint64_t live = f->res.contact;
    assert_int_equal(fx_create(f, "done", "sales", ENGINE_CH_SMS, 2, 0, NULL, 0, NULL), 0);
    uint64_t done = f->res.contact;
    ABANDON(done);
    struct engine *copy = fx_snapshot_copy(f);
    engine_free(f->e);
    f->e = copy;
    assert_int_equal(fx_create(f, "live", "sales", ENGINE_CH_CHAT, 0, 0, NULL, 1, at), 0);
    assert_true(f->res.existing);
    assert_int_equal(f->res.contact, live);
    assert_int_equal(fx_create(f, "live", "sales", ENGINE_CH_CHAT, 0, 0, NULL, 0, NULL),
                     CD_EEXISTS);
    assert_int_equal(fx_create(f, "done", "sales", ENGINE_CH_SMS, 2, 0, NULL, 0, NULL), 0);
    assert_true(f->res.existing);
    assert_int_equal(f->res.contact, done);
    assert_int_equal(fx_create(f, "done", "sales", ENGINE_CH_SMS, 1, 0, NULL, 0, NULL),
                     CD_EEXISTS);
}

TEST(end_queued_contact_is_refused)
{
    MODEL_INSTALL;
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    uint64_t d = DIGEST;
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_END, id), CD_ESTATE);
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_WRAPUP_DONE, id), CD_ESTATE);
    assert_int_equal(f->n_fx, f->mark);
    assert_int_equal(DIGEST, d);
    ASSERT_QUEUED(id, "sales");
}

TEST(accept_twice_is_stale)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    uint64_t offer = OFFER_OF(id);
    ACCEPT(offer, "a1");
    uint64_t d = DIGEST;
    ACCEPT_ERR(offer, "a1", CD_ESTALE);
    REJECT_ERR(offer, "a1", CD_ESTALE);
    assert_int_equal(DIGEST, d);
    ASSERT_CONNECTED(id, "a1");
}

TEST(accept_by_wrong_agent_is_invalid)
{
    MODEL_INSTALL;
    LOGIN("a1");
    LOGIN("a2");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(id, "a1");
    uint64_t d = DIGEST;
    ACCEPT_ERR(OFFER_OF(id), "a2", CD_EINVAL);
    REJECT_ERR(OFFER_OF(id), "a2", CD_EINVAL);
    assert_int_equal(DIGEST, d);
    ASSERT_OFFERED(id, "a1");
    ACCEPT(OFFER_OF(id), "a1");
}

TEST(wrapup_done_on_connected_is_refused)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ACCEPT(OFFER_OF(id), "a1");
    uint64_t d = DIGEST;
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_WRAPUP_DONE, id), CD_ESTATE);
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_ABANDON, id), CD_ESTATE);
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_CALLBACK, id), CD_ESTATE);
    assert_int_equal(DIGEST, d);
    ASSERT_CONNECTED(id, "a1");
}

TEST(wrapup_refuses_end_and_transfer)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ACCEPT(OFFER_OF(id), "a1");
    END(id);
    uint64_t d = DIGEST;
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_END, id), CD_ESTATE);
    assert_int_equal(fx_transfer(f, id, "support", NULL, NULL), CD_ESTATE);
    assert_int_equal(DIGEST, d);
    ASSERT_STATE(id, WRAPUP);
}

TEST(unknown_ids_are_not_found)
{
    MODEL_INSTALL;
    uint64_t d = DIGEST;
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_END, 42), CD_ENOTFOUND);
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_ABANDON, 42), CD_ENOTFOUND);
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_WRAPUP_DONE, 42), CD_ENOTFOUND);
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_CALLBACK, 42), CD_ENOTFOUND);
    assert_int_equal(fx_transfer(f, 42, "sales", NULL, NULL), CD_ENOTFOUND);
    struct engine_command c = {.kind = ENGINE_CMD_CONTACT_SET_ATTRS};
    c.u.set_attrs.id = 42;
    assert_int_equal(fx_apply(f, &c), CD_ENOTFOUND);
    /* Offers are named by offer id: one that is not open is stale. */
    ACCEPT_ERR(42, "a1", CD_ESTALE);
    assert_int_equal(DIGEST, d);
    struct engine_contact_info ci;
    assert_int_equal(engine_contact_get(f->e, 42, &ci), CD_ENOTFOUND);
    char buf[256];
    assert_int_equal(engine_explain(f->e, 42, buf, sizeof(buf)), CD_ENOTFOUND);
    struct engine_agent_info info;
    assert_int_equal(engine_agent_get(f->e, "nobody", &info), CD_ENOTFOUND);
    struct engine_queue_info qi;
    assert_int_equal(engine_queue_get(f->e, "nowhere", &qi), CD_ENOTFOUND);
    assert_int_equal(
        fx_agent_cmd(f, ENGINE_CMD_AGENT_LOGIN, "nobody", ENGINE_PRESENCE_AVAILABLE, NULL),
        CD_ENOTFOUND);
}

TEST(reject_skips_the_rejecting_agent)
{
    MODEL_INSTALL;
    LOGIN("a1");
    AT(FX_T0 + 1000);
    LOGIN("a2");
    AT(FX_T0 + 2000);
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(id, "a1");
    uint64_t first = OFFER_OF(id);
    AT(FX_T0 + 3000);
    REJECT(first, "a1");
    ASSERT_OFFERED(id, "a2");
    assert_true(OFFER_OF(id) > first);
    FX(OFFER_CANCEL, id, "a1");
    ASSERT_AGENT("a1", AVAILABLE);
    ACCEPT_ERR(first, "a1", CD_ESTALE);
    /* a2 rejects too: a1 is now the only other eligible agent and gets it again. */
    REJECT(OFFER_OF(id), "a2");
    ASSERT_OFFERED(id, "a1");
    assert_int_equal(fx_contact(f, id).arrived, FX_T0 + 2000);
}

TEST(set_attrs_adds_replaces_and_removes)
{
    MODEL_INSTALL;
    struct engine_attr a0[] = {{"lang", "en"}, {"tier", "gold"}};
    uint64_t id = fx_create_ok(f, "sales", ENGINE_CH_EMAIL, 0, 2, a0);
    struct engine_attr a1[] = {{"lang", "fr"}, {"tier", ""}, {"case", "123"}};
    SET_ATTRS(id, a1);
    struct engine_contact_info ci = fx_contact(f, id);
    assert_int_equal(ci.n_attrs, 2);
    assert_string_equal(attr_of(&ci, "lang"), "fr");
    assert_string_equal(attr_of(&ci, "case"), "123");
    assert_null(attr_of(&ci, "tier"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(full_lifecycle_with_history),
        FX_TEST(ids_are_sequential),
        FX_TEST(abandon_while_queued),
        FX_TEST(abandon_while_offered_cancels_offer),
        FX_TEST(end_without_wrapup_completes_at_once),
        FX_TEST(idempotency_key_returns_existing),
        FX_TEST(idempotency_key_with_another_request_is_refused),
        FX_TEST(idempotency_key_remembered_after_finish),
        FX_TEST(idempotency_fingerprint_survives_a_snapshot),
        FX_TEST(end_queued_contact_is_refused),
        FX_TEST(accept_twice_is_stale),
        FX_TEST(accept_by_wrong_agent_is_invalid),
        FX_TEST(wrapup_done_on_connected_is_refused),
        FX_TEST(wrapup_refuses_end_and_transfer),
        FX_TEST(unknown_ids_are_not_found),
        FX_TEST(reject_skips_the_rejecting_agent),
        FX_TEST(set_attrs_adds_replaces_and_removes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
