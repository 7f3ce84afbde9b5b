/* Determinism: two engines fed the same commands agree on every effect and on the digest;
 * a snapshot (engine_encode -> engine_decode) carries the whole state, including what
 * happens next; a model installed while contacts are live; engine_explain(). */
#include "engine_fixture.h"

static void build_model(struct fixture *f)
{
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("sales")->wrapup_s = 10;
    Q("sales")->ring_s = 15;
    fx_queue(f, "es", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_BEST_SKILL);
    fx_queue_skill(f, "es", "spanish", 8);
    fx_step(f, "es", 30)->relax = 3;
    fx_queue(f, "ring", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_RING_ALL);
    Q("ring")->ring_s = 10;
    fx_queue(f, "chat", ENGINE_CH_BIT(ENGINE_CH_CHAT), ENGINE_STRATEGY_LEAST_OCCUPIED);
    Q("chat")->max_wait_s = 120;
    Q("chat")->overflow_queue = fx_queue_index(f, "sales");
    AGENT("a1", "sales", "chat", "ring");
    AGENT("a2", "sales", "chat", "ring");
    AGENT("e1", "es");
    fx_agent_skill(f, "e1", "spanish", 5);
    AGENT("e2", "es", "sales");
    fx_agent_skill(f, "e2", "spanish", 6);
    uint32_t r = fx_rule(f, "spanish-speakers", ENGINE_ACTION_ROUTE, "es");
    struct engine_condition *c = fx_cond(f, r, ENGINE_COND_ATTR);
    c->op = ENGINE_OP_EQ;
    fx_copy_str(c->key, ENGINE_KEY_MAX, "lang");
    fx_cond_value(c, "es");
    uint32_t h = fx_rule(f, "hunt", ENGINE_ACTION_ROUTE, "ring");
    fx_cond(f, h, ENGINE_COND_PRIORITY)->op = ENGINE_OP_GE;
    f->m.rules[h].conds[0].number = 9;
    fx_rule(f, "default", ENGINE_ACTION_ROUTE, "sales");
}

static int setup(void **state)
{
    fx_setup(state);
    build_model(*state);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->user != NULL) {
        void *g = f->user;
        fx_teardown(&g);
    }
    return fx_teardown(state);
}

/* A second fixture with the same model, owned by the first. */
static struct fixture *twin(struct fixture *f)
{
    void *g = NULL;
    fx_setup(&g);
    build_model(g);
    f->user = g;
    return g;
}

/* Find a contact by one of its attributes in the live set (ids are deterministic, but the
 * scripts look them up the same way on both engines). */
static const struct engine_attr ES[] = {{"lang", "es"}};
static const struct engine_attr EN[] = {{"lang", "en"}};

/* First half: logins, arrivals, offers, a ring-no-answer, a ring-all round, escalation. */
static void script_part1(struct fixture *f)
{
    MODEL_INSTALL;
    LOGIN("a1");
    AT(FX_T0 + 1000);
    LOGIN("a2");
    uint64_t c1 = fx_create_ok(f, NULL, ENGINE_CH_VOICE, 0, 1, EN); /* -> sales, a1 */
    uint64_t c2 = fx_create_ok(f, NULL, ENGINE_CH_VOICE, 0, 1, ES); /* -> es, waits */
    uint64_t c3 = fx_create_ok(f, NULL, ENGINE_CH_CHAT, 0, 1, EN);  /* -> sales, a2 */
    AT(FX_T0 + 3000);
    ACCEPT(OFFER_OF(c1), "a1");
    EXPECT_OK(fx_create(f, "key-4", "chat", ENGINE_CH_CHAT, 0, 0, NULL, 0, NULL));
    uint64_t c4 = f->res.contact;
    assert_int_equal(c4, 4);
    AT(FX_T0 + 5000);
    LOGIN("e1");
    LOGIN("e2");
    AT(FX_T0 + 16000); /* c3's offer rings out: a2 away */
    TICK;
    AT(FX_T0 + 20000);
    AVAILABLE("a2");
    uint64_t c5 = fx_create_ok(f, NULL, ENGINE_CH_VOICE, 9, 1, EN); /* hunt group */
    AT(FX_T0 + 31000); /* escalation of c2; the hunt group rings out and rings again */
    TICK;
    (void)c2;
    (void)c3;
    (void)c4;
    (void)c5;
    AT(FX_T0 + 40000);
    END(c1);
}

/* Second half: accepts, a transfer, a model install with live contacts, wrap-up ends,
 * overflow of a waiting chat. */
static void script_part2(struct fixture *f)
{
    AT(FX_T0 + 41000);
    struct engine_contact_info ci;
    for (uint64_t id = 1; id <= 6; id++) {
        if (engine_contact_get(f->e, id, &ci) == 0 && ci.state == ENGINE_CONTACT_OFFERED &&
            ci.agent[0] != '\0') {
            char agent[ENGINE_NAME_MAX];
            fx_copy_str(agent, sizeof(agent), ci.agent);
            ACCEPT(ci.offer, agent);
        }
    }
    AT(FX_T0 + 45000);
    uint64_t c6 = fx_create_ok(f, NULL, ENGINE_CH_CHAT, 2, 1, EN);
    /* The new model: sales gets a longer wrap-up, a new agent serves chat. */
    Q("sales")->wrapup_s = 20;
    AGENT("a3", "chat", "sales");
    AT(FX_T0 + 50000);
    MODEL_INSTALL;
    LOGIN("a3");
    AT(FX_T0 + 60000);
    if (engine_contact_get(f->e, c6, &ci) == 0 && ci.state == ENGINE_CONTACT_CONNECTED) {
        EXPECT_OK(fx_transfer(f, c6, "sales", NULL, NULL));
    }
    AT(FX_T0 + 200000);
    TICK;
    for (int i = 0; i < 5; i++) {
        fx_create_ok(f, NULL, (uint8_t)(i % 2 ? ENGINE_CH_CHAT : ENGINE_CH_EMAIL), 0, 1, EN);
        AFTER(7000);
        TICK;
    }
    AT(FX_T0 + 400000);
    TICK;
}

static void assert_same_effects(const struct fixture *a,
                                size_t a_from,
                                const struct fixture *b,
                                size_t b_from)
{
    assert_int_equal(a->n_fx - a_from, b->n_fx - b_from);
    for (size_t i = 0; i < a->n_fx - a_from; i++) {
        const struct fx_effect *x = &a->fx[a_from + i];
        const struct fx_effect *y = &b->fx[b_from + i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->channel, y->channel);
        assert_int_equal(x->state, y->state);
        assert_int_equal(x->step, y->step);
        assert_int_equal(x->contact, y->contact);
        assert_int_equal(x->offer, y->offer);
        assert_string_equal(x->agent, y->agent);
        assert_string_equal(x->queue, y->queue);
        assert_string_equal(x->text, y->text);
        assert_int_equal(x->at, y->at);
        assert_int_equal(x->ewt_ms, y->ewt_ms);
        assert_int_equal(x->has_history, y->has_history);
        if (x->has_history) {
            assert_int_equal(x->h.outcome, y->h.outcome);
            assert_int_equal(x->h.arrived, y->h.arrived);
            assert_int_equal(x->h.offered, y->h.offered);
            assert_int_equal(x->h.answered, y->h.answered);
            assert_int_equal(x->h.ended, y->h.ended);
            assert_int_equal(x->h.completed, y->h.completed);
            assert_int_equal(x->h.offers, y->h.offers);
            assert_int_equal(x->h.transfers, y->h.transfers);
            assert_string_equal(x->h.queue, y->h.queue);
            assert_string_equal(x->h.agent, y->h.agent);
            assert_string_equal(x->h.reason, y->h.reason);
        }
    }
}

TEST(two_engines_agree)
{
    struct fixture *g = twin(f);
    script_part1(f);
    script_part1(g);
    assert_int_equal(engine_digest(f->e), engine_digest(g->e));
    script_part2(f);
    script_part2(g);
    assert_int_equal(engine_digest(f->e), engine_digest(g->e));
    assert_int_equal(engine_next_deadline(f->e), engine_next_deadline(g->e));
    assert_same_effects(f, 0, g, 0);
    /* The scenario did what it was written for. */
    assert_true(fx_count(f, 0, ENGINE_FX_OFFER, 0, NULL) >= 8);
    assert_int_equal(ENDED(1)->outcome, ENGINE_CONTACT_COMPLETED);
    assert_true(fx_count(f, 0, ENGINE_FX_OFFER_CANCEL, 0, NULL) >= 4);
    EVER_FX(ESCALATED, 2, NULL);
    EVER_FX(MODEL, 0, NULL);
    assert_int_equal(engine_model_version(f->e), 2);
}

TEST(digest_tracks_state)
{
    struct fixture *g = twin(f);
    MODEL_INSTALL;
    struct fixture *saved = f;
    f = g;
    MODEL_INSTALL;
    f = saved;
    assert_int_equal(engine_digest(f->e), engine_digest(g->e));
    LOGIN("a1");
    assert_true(engine_digest(f->e) != engine_digest(g->e));
    f = g;
    LOGIN("a1");
    f = saved;
    assert_int_equal(engine_digest(f->e), engine_digest(g->e));
}

static struct engine *snapshot(struct fixture *f)
{
    struct cd_buf b;
    cd_buf_init(&b);
    int enc = engine_encode(f->e, &b);
    struct engine *copy = NULL;
    int dec = enc == 0 ? engine_decode(b.data, b.len, &copy) : enc;
    cd_buf_close(&b);
    assert_int_equal(enc, 0);
    assert_int_equal(dec, 0);
    assert_non_null(copy);
    return copy;
}

TEST(snapshot_preserves_state_and_future)
{
    struct fixture *g = twin(f);
    script_part1(f);
    struct engine *copy = snapshot(f);
    engine_free(g->e);
    g->e = copy;
    g->now = f->now;
    g->version = f->version;
    assert_int_equal(engine_digest(g->e), engine_digest(f->e));
    assert_int_equal(engine_now(g->e), engine_now(f->e));
    assert_int_equal(engine_next_deadline(g->e), engine_next_deadline(f->e));
    assert_int_equal(engine_contact_count(g->e), engine_contact_count(f->e));
    assert_int_equal(engine_model_version(g->e), 1);
    char err[256];
    assert_int_equal(engine_check(g->e, err, sizeof(err)), 0);

    size_t f_from = f->n_fx;
    size_t g_from = g->n_fx;
    script_part2(f);
    script_part2(g);
    assert_same_effects(f, f_from, g, g_from);
    assert_int_equal(engine_digest(g->e), engine_digest(f->e));

    /* The idempotency key survives the snapshot. */
    assert_int_equal(fx_create(g, "key-4", "chat", ENGINE_CH_CHAT, 0, 0, NULL, 0, NULL), 0);
    assert_true(g->res.existing);
    assert_int_equal(g->res.contact, 4);
}

TEST(snapshot_of_snapshot_is_identical)
{
    script_part1(f);
    struct cd_buf a, b;
    cd_buf_init(&a);
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &a), 0);
    struct engine *copy = NULL;
    int dec = engine_decode(a.data, a.len, &copy);
    if (dec == 0) {
        assert_int_equal(engine_encode(copy, &b), 0);
        engine_free(copy);
    }
    bool same = dec == 0 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    size_t a_len = a.len, b_len = b.len;
    cd_buf_close(&a);
    cd_buf_close(&b);
    assert_int_equal(dec, 0);
    assert_int_equal(a_len, b_len);
    assert_true(same);
}

TEST(decode_rejects_truncated_and_garbage)
{
    script_part1(f);
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    size_t bad_len = SIZE_MAX;
    int bad_rc = 0;
    for (size_t len = 0; len < b.len && bad_len == SIZE_MAX; len += len < 256 ? 1 : 61) {
        struct engine *copy = NULL;
        int rc = engine_decode(b.data, len, &copy);
        if ((rc != CD_ECORRUPT && rc != CD_EVERSION) || copy != NULL) {
            bad_len = len;
            bad_rc = rc;
            if (copy != NULL) {
                engine_free(copy);
            }
        }
    }
    size_t total = b.len;
    if (bad_len != SIZE_MAX) {
        cd_buf_close(&b);
        fail_msg("decode of %zu of %zu bytes: %d", bad_len, total, bad_rc);
    }
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++) {
        junk[i] = (uint8_t)(i * 37 + 11);
    }
    struct engine *copy = NULL;
    assert_true(engine_decode(junk, sizeof(junk), &copy) < 0);
    assert_null(copy);
    cd_buf_close(&b);
}

static int max_offer(void *data, const struct engine_contact_info *c)
{
    uint64_t *max = data;
    *max = c->offer > *max ? c->offer : *max;
    return 0;
}

/* The snapshot of b with its id counters replaced (the fields after format and clock);
 * KEEP keeps one. */
#define KEEP UINT64_MAX
static int decode_with_counters(const struct cd_buf *b,
                                uint64_t next_contact,
                                uint64_t next_offer)
{
    struct cd_reader r;
    struct cd_buf patched;
    struct engine *copy = NULL;
    cd_reader_init(&r, b->data, b->len);
    cd_rd_u8(&r);
    cd_rd_svar(&r);
    size_t head = b->len - cd_rd_left(&r);
    uint64_t was_contact = cd_rd_uvar(&r), was_offer = cd_rd_uvar(&r);
    next_contact = next_contact == KEEP ? was_contact : next_contact;
    next_offer = next_offer == KEEP ? was_offer : next_offer;
    cd_buf_init(&patched);
    cd_buf_put(&patched, b->data, head);
    cd_buf_uvar(&patched, next_contact);
    cd_buf_uvar(&patched, next_offer);
    cd_buf_put(&patched, r.p, cd_rd_left(&r));
    int rc = engine_decode(patched.data, patched.len, &copy);
    engine_free(copy);
    cd_buf_close(&patched);
    return rc;
}

/* A snapshot whose next offer id was 0, or not above an open offer, decoded; the next offer
 * then took id 0 (which names none) or one in use. Found by tests/fuzz/fuzz_engine_snapshot
 * (corpus/engine_snapshot/regress-next-offer-0). */
TEST(decode_refuses_id_counters_behind_the_state)
{
    script_part1(f);
    uint64_t offer = 0;
    assert_int_equal(engine_contacts_foreach(f->e, max_offer, &offer), 0);
    assert_true(offer > 0);
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    assert_int_equal(decode_with_counters(&b, KEEP, KEEP), 0);
    assert_int_equal(decode_with_counters(&b, KEEP, offer + 1), 0);
    assert_int_equal(decode_with_counters(&b, KEEP, offer), CD_ECORRUPT);
    assert_int_equal(decode_with_counters(&b, KEEP, 0), CD_ECORRUPT);
    assert_int_equal(decode_with_counters(&b, 0, KEEP), CD_ECORRUPT);
    cd_buf_close(&b);
}

/* Whatever decodes re-encodes to the same bytes: a decoder that took a flag byte of 2 as
 * true, or a counter past its 32 bits cut down to them, gave one state two encodings (and
 * two digests). Every byte of a snapshot is changed in turn, a few ways. Found by
 * tests/fuzz/fuzz_engine_snapshot. */
TEST(decode_takes_only_what_encode_writes)
{
    script_part1(f);
    struct cd_buf b, again;
    cd_buf_init(&b);
    cd_buf_init(&again);
    assert_int_equal(engine_encode(f->e, &b), 0);
    size_t bad_at = SIZE_MAX;
    for (size_t i = 0; i < b.len && bad_at == SIZE_MAX; i++) {
        const uint8_t was = b.data[i], ways[] = {was ^ 1, was ^ 0x80, 2, 0xff};
        for (size_t w = 0; w < sizeof(ways) && bad_at == SIZE_MAX; w++) {
            struct engine *copy = NULL;
            b.data[i] = ways[w];
            if (engine_decode(b.data, b.len, &copy) == 0) {
                cd_buf_reset(&again);
                engine_encode(copy, &again);
                engine_free(copy);
                bad_at =
                    again.len == b.len && memcmp(again.data, b.data, b.len) == 0 ? bad_at : i;
            }
            b.data[i] = was;
        }
    }
    cd_buf_close(&b);
    cd_buf_close(&again);
    if (bad_at != SIZE_MAX) {
        fail_msg("a snapshot changed at byte %zu decodes to a state with other bytes", bad_at);
    }
}

TEST(model_install_with_live_contacts)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t connected = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ACCEPT(OFFER_OF(connected), "a1");
    uint64_t waiting = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ASSERT_QUEUED(waiting, "sales");
    uint64_t d = DIGEST;

    /* A version that does not exceed the installed one is refused and changes nothing. */
    struct engine_command same = {.kind = ENGINE_CMD_MODEL_INSTALL};
    same.u.install.version = 1;
    same.u.install.model = &f->m;
    assert_true(fx_apply(f, &same) < 0);
    assert_int_equal(DIGEST, d);
    assert_int_equal(engine_model_version(f->e), 1);

    AGENT("a3", "sales");
    Q("sales")->wrapup_s = 0;
    AT(FX_T0 + 1000);
    MODEL_INSTALL;
    FX(MODEL, 0, NULL);
    assert_int_equal(engine_model_version(f->e), 2);
    assert_int_equal(engine_contact_count(f->e), 2);
    ASSERT_CONNECTED(connected, "a1");
    ASSERT_QUEUED(waiting, "sales");
    assert_int_equal(fx_contact(f, waiting).arrived, FX_T0);
    /* The new agent takes the waiting contact; the new wrap-up rule applies. */
    LOGIN("a3");
    ASSERT_OFFERED(waiting, "a3");
    END(connected);
    ASSERT_GONE(connected);
    ASSERT_AGENT("a1", AVAILABLE);
}

TEST(model_install_drops_agent_from_queue)
{
    MODEL_INSTALL;
    LOGIN("a1");
    LOGIN("a2");
    /* a1 stops serving sales and chat: it no longer gets sales work. */
    A("a1")->n_queues = 1;
    A("a1")->queues[0] = (uint16_t)fx_queue_index(f, "ring");
    AT(FX_T0 + 1000);
    MODEL_INSTALL;
    uint64_t k = CREATE_IN("sales", ENGINE_CH_EMAIL, 0);
    ASSERT_OFFERED(k, "a2");
    uint64_t k2 = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(k2, "a2");
    uint64_t k3 = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ASSERT_QUEUED(k3, "sales");
}

static bool mentions_step(const char *s, int step)
{
    const char *p = strstr(s, "step");
    if (p == NULL) {
        return false;
    }
    for (p += 4; *p != '\0' && (p - s) < 4096; p++) {
        if (*p >= '0' && *p <= '9') {
            return *p - '0' == step;
        }
    }
    return false;
}

TEST(explain_names_rule_queue_step_and_agent)
{
    MODEL_INSTALL;
    LOGIN("e1");
    uint64_t k = fx_create_ok(f, NULL, ENGINE_CH_VOICE, 0, 1, ES);
    ASSERT_QUEUED(k, "es");
    char buf[512];
    assert_int_equal(engine_explain(f->e, k, buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "spanish-speakers"));
    assert_non_null(strstr(buf, "'es'") != NULL ? strstr(buf, "'es'") : strstr(buf, "es"));
    AT(FX_T0 + 30000);
    TICK;
    ASSERT_OFFERED(k, "e1");
    assert_int_equal(engine_explain(f->e, k, buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "spanish-speakers"));
    assert_true(mentions_step(buf, 1));
    assert_non_null(strstr(buf, "e1"));
    assert_non_null(strstr(buf, "best-skill"));

    /* Truncation keeps the text NUL-terminated within len bytes. */
    char small[16];
    memset(small, 'x', sizeof(small));
    assert_int_equal(engine_explain(f->e, k, small, 8), 0);
    assert_true(strlen(small) <= 7);
    assert_int_equal(small[8], 'x');
}

TEST(explain_direct_queue_and_strategy)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t k = CREATE_IN("chat", ENGINE_CH_CHAT, 0);
    ASSERT_OFFERED(k, "a1");
    char buf[512];
    assert_int_equal(engine_explain(f->e, k, buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "chat"));
    assert_non_null(strstr(buf, "least-occupied"));
    assert_non_null(strstr(buf, "a1"));
    assert_null(strstr(buf, "spanish-speakers"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(two_engines_agree),
        FX_TEST(digest_tracks_state),
        FX_TEST(snapshot_preserves_state_and_future),
        FX_TEST(snapshot_of_snapshot_is_identical),
        FX_TEST(decode_rejects_truncated_and_garbage),
        FX_TEST(decode_takes_only_what_encode_writes),
        FX_TEST(decode_refuses_id_counters_behind_the_state),
        FX_TEST(model_install_with_live_contacts),
        FX_TEST(model_install_drops_agent_from_queue),
        FX_TEST(explain_names_rule_queue_step_and_agent),
        FX_TEST(explain_direct_queue_and_strategy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
