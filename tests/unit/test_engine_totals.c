/* A queue's totals: counted with the day's counters, never reset at midnight, kept in
 * snapshots; today's service level is "no data" until something is answered or abandoned
 * after the target; contacts waiting past the target are counted at a given time. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("sales")->sl_target_s = 20;
    AGENT("a1", "sales");
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static struct engine_queue_info info(struct fixture *f)
{
    struct engine_queue_info q;
    assert_int_equal(engine_queue_get(f->e, "sales", &q), 0);
    return q;
}

TEST(totals_outlive_the_day_and_a_snapshot)
{
    MODEL_INSTALL;
    assert_int_equal(info(f).sl_permille, ENGINE_NO_DATA);
    uint64_t a = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    uint64_t b = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    uint32_t past[1];
    engine_queues_waiting_past(f->e, FX_T0 + 20000, past);
    assert_int_equal(past[0], 0);
    engine_queues_waiting_past(f->e, FX_T0 + 20001, past);
    assert_int_equal(past[0], 2);
    AT(FX_T0 + 5000);
    LOGIN("a1");
    ACCEPT(OFFER_OF(a), "a1");
    AT(FX_T0 + 65000);
    END(a);
    AT(FX_T0 + 70000);
    ABANDON(b);
    struct engine_queue_info q = info(f);
    assert_int_equal(q.sl_permille, 500); /* 1 in target / (1 answered + 1 abandoned late) */
    assert_int_equal(q.totals.arrived, 2);
    assert_int_equal(q.totals.answered, 1);
    assert_int_equal(q.totals.answered_in_sl, 1);
    assert_int_equal(q.totals.abandoned_after_sl, 1);
    assert_int_equal(q.totals.handled, 1);
    assert_int_equal(q.totals.answer_wait_ms, 5000);
    assert_int_equal(q.totals.handle_ms, 60000);

    /* the next day: today's counters start again, the totals do not */
    AT(FX_T0 + FX_DAY_MS);
    uint64_t c = CREATE_IN("sales", ENGINE_CH_VOICE, 0);
    ABANDON(c);
    q = info(f);
    assert_int_equal(q.arrived, 1);
    assert_int_equal(q.sl_permille, ENGINE_NO_DATA); /* abandoned within the target */
    assert_int_equal(q.totals.arrived, 3);
    assert_int_equal(q.totals.abandoned, 2);

    struct cd_buf buf;
    cd_buf_init(&buf);
    assert_int_equal(engine_encode(f->e, &buf), 0);
    struct engine *copy = NULL;
    assert_int_equal(engine_decode(buf.data, buf.len, &copy), 0);
    struct engine_queue_info q2;
    assert_int_equal(engine_queue_get(copy, "sales", &q2), 0);
    assert_memory_equal(&q.totals, &q2.totals, sizeof(q.totals));
    engine_free(copy);
    cd_buf_close(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(totals_outlive_the_day_and_a_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
