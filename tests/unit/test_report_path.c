/* report_contact_build(): the segments and offers of contacts the real engine handled, cut
 * from the paths in their histories (and from live contacts' paths). */
#include "engine_fixture.h"
#include "report/report.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    uint32_t utc = fx_zone(f, "UTC", 0);
    uint32_t never = fx_hours(f, "never", utc);
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("sales")->ring_s = 10;
    Q("sales")->wrapup_s = 30;
    fx_queue(f, "support", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "closed", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("closed")->hours = (int32_t)never;
    Q("closed")->overflow_queue = fx_queue_index(f, "support");
    fx_queue(f, "slow", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("slow")->max_wait_s = 60;
    Q("slow")->overflow_queue = fx_queue_index(f, "support");
    AGENT("a1", "sales");
    AGENT("a2", "support");
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static const char *site_of(void *data, const char *agent)
{
    (void)data;
    return strcmp(agent, "a1") == 0 ? "leeds" : "york";
}

/* The report's view of the finished contact id. */
static void build(struct fixture *f,
                  uint64_t id,
                  struct report_buf *buf,
                  struct report_contact *c)
{
    const struct engine_history *h = ENDED(id);
    struct report_facts facts = {.id = id,
                                 .channel = h->channel,
                                 .outcome = h->outcome,
                                 .callback = h->callback,
                                 .disposition = h->disposition,
                                 .queue = h->queue,
                                 .agent = h->agent,
                                 .arrived = h->arrived,
                                 .answered = h->answered,
                                 .ended = h->ended,
                                 .completed = h->completed};
    assert_int_equal(
        report_contact_build(&facts, h->path.data, h->path.len, site_of, NULL, buf, c), 0);
}

#define SEC(s) (FX_T0 + (s)*FX_SEC)

TEST(answered_after_a_ring_no_answer)
{
    struct report_buf *buf = malloc(sizeof(*buf));
    struct report_contact c;
    MODEL_INSTALL;
    LOGIN("a1");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    AT(SEC(10));
    TICK; /* no answer: a1 goes away */
    AT(SEC(13));
    AVAILABLE("a1");
    ACCEPT(OFFER_OF(id), "a1");
    AT(SEC(20));
    HOLD(id);
    AT(SEC(32));
    RESUME(id);
    AT(SEC(73));
    END(id);
    AT(SEC(80));
    WRAPUP_DONE(id);
    build(f, id, buf, &c);
    assert_int_equal(c.n_segments, 1);
    const struct report_segment *s = &c.segments[0];
    assert_string_equal(s->queue, "sales");
    assert_int_equal(s->via, REPORT_VIA_ARRIVAL);
    assert_int_equal(s->end, REPORT_END_ANSWERED);
    assert_int_equal(s->entered, SEC(0));
    assert_int_equal(s->left, SEC(13));
    assert_string_equal(s->agent, "a1");
    assert_string_equal(s->site, "leeds");
    assert_true(s->handled);
    assert_false(s->transferred_out);
    assert_int_equal(s->talk_ms, 60000);
    assert_int_equal(s->hold_ms, 12000); /* a part of the talk */
    assert_int_equal(s->wrap_ms, 7000);
    assert_true(s->ewt_ms >= 0);
    assert_int_equal(c.n_offers, 2);
    assert_int_equal(c.offers[0].outcome, REPORT_OFFER_NO_ANSWER);
    assert_int_equal(c.offers[0].ended, SEC(10));
    assert_int_equal(c.offers[1].outcome, REPORT_OFFER_ACCEPTED);
    assert_int_equal(c.offers[1].at, SEC(13));
    free(buf);
}

TEST(refused_then_overflowed_then_abandoned_with_a_callback)
{
    struct report_buf *buf = malloc(sizeof(*buf));
    struct report_contact c;
    MODEL_INSTALL;
    uint64_t id = CREATE_IN("closed", ENGINE_CH_VOICE, 0);
    CALLBACK(id);
    AT(SEC(30));
    ABANDON(id);
    build(f, id, buf, &c);
    assert_true(c.callback);
    assert_int_equal(c.n_segments, 2);
    assert_string_equal(c.segments[0].queue, "closed");
    assert_int_equal(c.segments[0].end, REPORT_END_REFUSED);
    assert_string_equal(c.segments[1].queue, "support");
    assert_int_equal(c.segments[1].via, REPORT_VIA_OVERFLOW);
    assert_int_equal(c.segments[1].end, REPORT_END_ABANDONED);
    assert_int_equal(c.segments[1].left - c.segments[1].entered, 30000);
    free(buf);
}

TEST(a_timeout_overflows_to_the_next_queue)
{
    struct report_buf *buf = malloc(sizeof(*buf));
    struct report_contact c;
    MODEL_INSTALL;
    LOGIN("a2");
    AWAY("a2", "break");
    uint64_t id = CREATE_IN("slow", ENGINE_CH_VOICE, 0);
    AT(SEC(60));
    TICK;
    AT(SEC(65));
    AVAILABLE("a2");
    ACCEPT(OFFER_OF(id), "a2");
    AT(SEC(95));
    END(id);
    build(f, id, buf, &c);
    assert_int_equal(c.n_segments, 2);
    assert_int_equal(c.segments[0].end, REPORT_END_OVERFLOWED);
    assert_int_equal(c.segments[0].left, SEC(60));
    assert_int_equal(c.segments[1].via, REPORT_VIA_OVERFLOW);
    assert_int_equal(c.segments[1].end, REPORT_END_ANSWERED);
    assert_int_equal(c.segments[1].left - c.segments[1].entered, 5000);
    assert_int_equal(c.segments[1].talk_ms, 30000);
    assert_string_equal(c.segments[1].site, "york");
    free(buf);
}

TEST(transfers_make_segments)
{
    struct report_buf *buf = malloc(sizeof(*buf));
    struct report_contact c;
    MODEL_INSTALL;
    LOGIN("a1");
    LOGIN("a2");
    uint64_t id = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ACCEPT(OFFER_OF(id), "a1");
    AT(SEC(5));
    EXPECT_OK(fx_transfer(f, id, "support", NULL, NULL));
    AT(SEC(6));
    ACCEPT(OFFER_OF(id), "a2");
    AT(SEC(10));
    EXPECT_OK(fx_transfer(f, id, NULL, "a1", NULL));
    AT(SEC(12));
    ACCEPT(OFFER_OF(id), "a1");
    AT(SEC(15));
    EXPECT_OK(fx_transfer(f, id, NULL, NULL, "tel:+441234567890"));
    build(f, id, buf, &c);
    assert_int_equal(c.n_segments, 3);
    assert_string_equal(c.segments[0].queue, "sales");
    assert_true(c.segments[0].transferred_out);
    assert_int_equal(c.segments[0].talk_ms, 5000);
    assert_string_equal(c.segments[1].queue, "support");
    assert_int_equal(c.segments[1].via, REPORT_VIA_TRANSFER);
    assert_int_equal(c.segments[1].left - c.segments[1].entered, 1000);
    assert_int_equal(c.segments[1].talk_ms, 4000);
    assert_string_equal(c.segments[2].queue, "support");
    assert_int_equal(c.segments[2].via, REPORT_VIA_TRANSFER);
    assert_int_equal(c.segments[2].entered, SEC(10));
    assert_string_equal(c.segments[2].agent, "a1");
    assert_int_equal(c.segments[2].talk_ms, 3000);
    assert_true(c.segments[2].transferred_out);
    assert_true(c.segments[2].handled);
    free(buf);
}

TEST(a_live_contact_is_waiting_or_talking_until_now)
{
    struct report_buf *buf = malloc(sizeof(*buf));
    struct report_contact c;
    MODEL_INSTALL;
    uint64_t id = CREATE_IN("sales", ENGINE_CH_EMAIL, 0);
    struct engine_path p;
    assert_int_equal(engine_path_get(f->e, id, &p), 0);
    struct report_facts facts = {.id = id,
                                 .channel = ENGINE_CH_EMAIL,
                                 .outcome = ENGINE_CONTACT_QUEUED,
                                 .live = true,
                                 .arrived = FX_T0,
                                 .now = SEC(40)};
    assert_int_equal(report_contact_build(&facts, p.data, p.len, NULL, NULL, buf, &c), 0);
    assert_int_equal(c.n_segments, 1);
    assert_int_equal(c.segments[0].end, REPORT_END_WAITING);
    assert_int_equal(c.segments[0].left, SEC(40));
    AT(SEC(50));
    LOGIN("a1");
    ACCEPT(OFFER_OF(id), "a1");
    assert_int_equal(engine_path_get(f->e, id, &p), 0);
    facts.now = SEC(70);
    assert_int_equal(report_contact_build(&facts, p.data, p.len, NULL, NULL, buf, &c), 0);
    assert_int_equal(c.segments[0].end, REPORT_END_ANSWERED);
    assert_false(c.segments[0].handled);
    assert_int_equal(c.segments[0].talk_ms, 20000);
    /* on hold now: the hold so far counts */
    AT(SEC(60));
    HOLD(id);
    assert_int_equal(engine_path_get(f->e, id, &p), 0);
    facts.now = SEC(75);
    assert_int_equal(report_contact_build(&facts, p.data, p.len, NULL, NULL, buf, &c), 0);
    assert_int_equal(c.segments[0].hold_ms, 15000);
    /* a row without a path: one segment from its fields */
    facts = (struct report_facts){.id = 9,
                                  .outcome = ENGINE_CONTACT_COMPLETED,
                                  .queue = "sales",
                                  .agent = "a1",
                                  .arrived = SEC(0),
                                  .answered = SEC(8),
                                  .ended = SEC(68),
                                  .completed = SEC(70)};
    assert_int_equal(report_contact_build(&facts, NULL, 0, site_of, NULL, buf, &c), 0);
    assert_int_equal(c.n_segments, 1);
    assert_int_equal(c.segments[0].end, REPORT_END_ANSWERED);
    assert_int_equal(c.segments[0].left, SEC(8));
    assert_int_equal(c.segments[0].talk_ms, 60000);
    assert_int_equal(c.segments[0].wrap_ms, 2000);
    /* a malformed path is refused */
    uint8_t junk[] = {0, 0, 0};
    assert_int_equal(report_contact_build(&facts, junk, sizeof(junk), NULL, NULL, buf, &c),
                     CD_ECORRUPT);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(answered_after_a_ring_no_answer),
        FX_TEST(refused_then_overflowed_then_abandoned_with_a_callback),
        FX_TEST(a_timeout_overflows_to_the_next_queue),
        FX_TEST(transfers_make_segments),
        FX_TEST(a_live_contact_is_waiting_or_talking_until_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
