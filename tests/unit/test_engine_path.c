/* A contact's path: every step the engine took with it, in order, in its history, through
 * snapshots, and cut short (with a mark) when it grows too long. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    uint32_t utc = fx_zone(f, "UTC", 0);
    uint32_t never = fx_hours(f, "never", utc);
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("sales")->ring_s = 10;
    Q("sales")->wrapup_s = 30;
    fx_step(f, "sales", 30)->priority_boost = 5;
    fx_queue(f, "support", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "closed", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("closed")->hours = (int32_t)never;
    Q("closed")->overflow_queue = fx_queue_index(f, "support");
    fx_queue(f, "ringq", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_RING_ALL);
    Q("ringq")->ring_s = 10;
    fx_rule(f, "to-closed", ENGINE_ACTION_ROUTE, "closed");
    AGENT("a1", "sales", "ringq");
    AGENT("a2", "support", "ringq");
    AGENT("a3", "sales");
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

/* The path as text: "kind[:queue][/agent][=text][#n][+ewt]" per step, at in seconds after
 * FX_T0, separated by spaces. */
static void render(const struct engine_path *p, char *out, size_t len)
{
    struct engine_path_step s;
    size_t off = 0, used = 0;
    int rv;
    out[0] = 0;
    while ((rv = engine_path_next(p, &off, &s)) == 1) {
        used +=
            (size_t)snprintf(out + used, len - used, "%s%s@%lld", used ? " " : "",
                             engine_path_kind_name(s.kind), (long long)((s.at - FX_T0) / 1000));
        if (s.queue[0]) {
            used += (size_t)snprintf(out + used, len - used, ":%s", s.queue);
        }
        if (s.agent[0]) {
            used += (size_t)snprintf(out + used, len - used, "/%s", s.agent);
        }
        if (s.text[0]) {
            used += (size_t)snprintf(out + used, len - used, "=%s", s.text);
        }
        if (s.kind == ENGINE_PATH_QUEUED) {
            used += (size_t)snprintf(out + used, len - used, "(%s)", engine_via_name(s.n));
        } else if (s.kind == ENGINE_PATH_OFFER_END) {
            used +=
                (size_t)snprintf(out + used, len - used, "(%s)", engine_offer_end_name(s.n));
        } else if (s.kind == ENGINE_PATH_TRANSFER) {
            used +=
                (size_t)snprintf(out + used, len - used, "(%s)", engine_transfer_to_name(s.n));
        } else if (s.kind == ENGINE_PATH_STEP) {
            used += (size_t)snprintf(out + used, len - used, "#%u", s.n);
        }
        assert_true(used < len);
    }
    assert_int_equal(rv, 0);
    assert_int_equal(engine_path_check(p->data, p->len), 0);
}

#define ASSERT_PATH(id, want)                         \
    do {                                              \
        char got_[2048];                              \
        render(&ENDED(id)->path, got_, sizeof(got_)); \
        assert_string_equal(got_, (want));            \
    } while (0)

TEST(answered_after_a_ring_no_answer_and_a_refusal)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(id, "a1");
    AT(FX_T0 + 10000);
    TICK; /* a1 does not answer: away, and the contact waits again */
    ASSERT_QUEUED(id, "sales");
    LOGIN("a3");
    AT(FX_T0 + 12000);
    REJECT(OFFER_OF(id), "a3");
    LOGOUT("a3");
    AT(FX_T0 + 13000);
    AVAILABLE("a1");
    ACCEPT(OFFER_OF(id), "a1");
    AT(FX_T0 + 73000);
    END(id);
    AT(FX_T0 + 80000);
    WRAPUP_DONE(id);
    /* a3, the only agent left, is offered it again at once; its logout withdraws that */
    ASSERT_PATH(id,
                "queued@0:sales(arrival) offer@0:sales/a1 offer_end@10:sales/a1(no_answer) "
                "offer@10:sales/a3 offer_end@12:sales/a3(rejected) "
                "offer@12:sales/a3 offer_end@12:sales/a3(cancelled) "
                "offer@13:sales/a1 offer_end@13:sales/a1(accepted) talk_end@73");
}

TEST(escalation_overflow_rule_and_callback)
{
    MODEL_INSTALL;
    uint64_t id = CREATE_PLAIN(ENGINE_CH_VOICE); /* the rule sends it to "closed" */
    ASSERT_QUEUED(id, "support");
    CALLBACK(id);
    ABANDON(id);
    ASSERT_PATH(id,
                "rule@0=to-closed refused@0:closed=closed queued@0:support(overflow) "
                "callback@0");

    uint64_t s = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 30000);
    TICK;
    AT(FX_T0 + 31000);
    ABANDON(s);
    ASSERT_PATH(s, "queued@0:sales(arrival) step@30:sales#1");
}

TEST(transfers_to_a_queue_an_agent_and_out)
{
    MODEL_INSTALL;
    LOGIN("a1");
    LOGIN("a2");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ACCEPT(OFFER_OF(id), "a1");
    AT(FX_T0 + 5000);
    EXPECT_OK(fx_transfer(f, id, "support", NULL, NULL));
    ACCEPT(OFFER_OF(id), "a2");
    AT(FX_T0 + 9000);
    EXPECT_OK(fx_transfer(f, id, NULL, "a1", NULL));
    ACCEPT(OFFER_OF(id), "a1");
    AT(FX_T0 + 12000);
    EXPECT_OK(fx_transfer(f, id, NULL, NULL, "tel:+441234567890"));
    ASSERT_PATH(id,
                "queued@0:sales(arrival) offer@0:sales/a1 offer_end@0:sales/a1(accepted) "
                "transfer@5=support(queue) queued@5:support(transfer) "
                "offer@5:support/a2 offer_end@5:support/a2(accepted) "
                "transfer@9=a1(agent) offer@9:support/a1 offer_end@9:support/a1(accepted) "
                "transfer@12=tel:+441234567890(target)");
}

TEST(holds_are_steps_of_the_path)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_HOLD, id), CD_ESTATE); /* ringing */
    ACCEPT(OFFER_OF(id), "a1");
    AT(FX_T0 + 2000);
    HOLD(id);
    assert_int_equal(FX(HOLD, id, "a1")->state, 1);
    assert_int_equal(fx_contact(f, id).held_since, FX_T0 + 2000);
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_HOLD, id), CD_ESTATE); /* already */
    /* on hold through a snapshot */
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    struct engine *copy = NULL;
    assert_int_equal(engine_decode(b.data, b.len, &copy), 0);
    engine_free(f->e);
    f->e = copy;
    cd_buf_close(&b);
    assert_int_equal(fx_contact(f, id).held_since, FX_T0 + 2000);
    AT(FX_T0 + 5000);
    RESUME(id);
    assert_int_equal(FX(HOLD, id, "a1")->state, 0);
    assert_int_equal(fx_contact_cmd(f, ENGINE_CMD_CONTACT_RESUME, id),
                     CD_ESTATE); /* not held */
    AT(FX_T0 + 6000);
    HOLD(id);
    AT(FX_T0 + 8000);
    END(id); /* the end of the talk ends the hold */
    WRAPUP_DONE(id);
    ASSERT_PATH(id,
                "queued@0:sales(arrival) offer@0:sales/a1 offer_end@0:sales/a1(accepted) "
                "hold@2/a1 resume@5/a1 hold@6/a1 resume@8/a1 talk_end@8");
}

TEST(a_ring_all_offer_ends_for_each_agent_rung)
{
    MODEL_INSTALL;
    LOGIN("a1");
    LOGIN("a2");
    uint64_t id = CREATE_IN("ringq", ENGINE_CH_VOICE, 0);
    AT(FX_T0 + 10000);
    TICK; /* nobody answers: both offers end unanswered, and it rings again */
    AT(FX_T0 + 11000);
    ACCEPT(OFFER_OF(id), "a2");
    END(id);
    char got[2048];
    render(&ENDED(id)->path, got, sizeof(got));
    assert_non_null(strstr(got, "offer_end@10:ringq/a1(no_answer)"));
    assert_non_null(strstr(got, "offer_end@10:ringq/a2(no_answer)"));
    assert_non_null(strstr(got, "offer_end@11:ringq/a1(cancelled)"));
    assert_non_null(strstr(got, "offer_end@11:ringq/a2(accepted)"));
}

TEST(a_path_survives_a_snapshot)
{
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ACCEPT(OFFER_OF(id), "a1");
    struct cd_buf b;
    cd_buf_init(&b);
    assert_int_equal(engine_encode(f->e, &b), 0);
    struct engine *copy = NULL;
    assert_int_equal(engine_decode(b.data, b.len, &copy), 0);
    engine_free(f->e);
    f->e = copy;
    AT(FX_T0 + 4000);
    END(id);
    WRAPUP_DONE(id);
    ASSERT_PATH(id,
                "queued@0:sales(arrival) offer@0:sales/a1 offer_end@0:sales/a1(accepted) "
                "talk_end@4");
    cd_buf_close(&b);
}

TEST(malformed_paths_are_refused)
{
    (void)f;
    struct cd_buf b;
    cd_buf_init(&b);
    uint8_t head[] = {ENGINE_PATH_QUEUED, ENGINE_VIA_OVERFLOW};
    cd_buf_put(&b, head, 2);
    cd_buf_svar(&b, FX_T0);
    cd_buf_uvar(&b, 0);
    cd_buf_svar(&b, 5000);
    cd_buf_str(&b, "sales");
    cd_buf_str(&b, "");
    cd_buf_str(&b, "");
    assert_int_equal(engine_path_check(b.data, b.len), 0);
    assert_int_equal(engine_path_check(b.data, b.len - 1), CD_ECORRUPT); /* cut short */
    b.data[1] = ENGINE_VIA_OVERFLOW + 1;                                 /* no such way in */
    assert_int_equal(engine_path_check(b.data, b.len), CD_ECORRUPT);
    b.data[1] = 0;
    b.data[0] = 0; /* no such kind */
    assert_int_equal(engine_path_check(b.data, b.len), CD_ECORRUPT);
    b.data[0] = ENGINE_PATH_KIND_COUNT;
    assert_int_equal(engine_path_check(b.data, b.len), CD_ECORRUPT);
    /* nothing follows a TRUNCATED mark */
    cd_buf_reset(&b);
    uint8_t mark[] = {ENGINE_PATH_TRUNCATED, 0};
    for (int i = 0; i < 2; i++) {
        cd_buf_put(&b, mark, 2);
        cd_buf_svar(&b, FX_T0);
        cd_buf_uvar(&b, 0);
        cd_buf_svar(&b, 0);
        cd_buf_str(&b, "");
        cd_buf_str(&b, "");
        cd_buf_str(&b, "");
    }
    assert_int_equal(engine_path_check(b.data, b.len), CD_ECORRUPT);
    cd_buf_close(&b);
}

TEST(a_long_path_ends_in_a_mark)
{
    Q("sales")->ring_s = 1;
    MODEL_INSTALL;
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    LOGIN("a3");
    for (int i = 0; i < 400; i++) {
        if (i > 0) {
            AVAILABLE("a3");
        }
        AT(f->now + 1000);
        TICK; /* rings out: a3 goes away */
    }
    ABANDON(id);
    const struct engine_path *p = &ENDED(id)->path;
    assert_true(p->len <= ENGINE_PATH_BYTES + 64);
    struct engine_path_step s;
    size_t off = 0;
    uint8_t last = 0;
    while (engine_path_next(p, &off, &s) == 1) {
        last = s.kind;
    }
    assert_int_equal(last, ENGINE_PATH_TRUNCATED);
    assert_int_equal(engine_path_check(p->data, p->len), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(answered_after_a_ring_no_answer_and_a_refusal),
        FX_TEST(escalation_overflow_rule_and_callback),
        FX_TEST(transfers_to_a_queue_an_agent_and_out),
        FX_TEST(a_ring_all_offer_ends_for_each_agent_rung),
        FX_TEST(holds_are_steps_of_the_path),
        FX_TEST(a_path_survives_a_snapshot),
        FX_TEST(malformed_paths_are_refused),
        FX_TEST(a_long_path_ends_in_a_mark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
