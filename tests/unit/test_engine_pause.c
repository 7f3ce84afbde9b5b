/* QUEUE_PAUSE and QUEUE_RESUME: a paused queue takes contacts but offers none, its clock
 * goes on (a queue timeout still overflows), the pause survives a model install and a
 * snapshot, and on resume the most overdue contact goes first. Offers count per queue. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    fx_queue(f, "p2", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "p", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("p")->max_wait_s = 60;
    Q("p")->overflow_queue = fx_queue_index(f, "p2");
    fx_queue(f, "v", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
    AGENT("a1", "p");
    AGENT("a2", "p", "v");
    AGENT("a3", "p", "v");
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static int pause_cmd(struct fixture *f, const char *queue, bool pause)
{
    struct engine_command c = {.kind =
                                   pause ? ENGINE_CMD_QUEUE_PAUSE : ENGINE_CMD_QUEUE_RESUME};
    c.u.queue.name = queue;
    return fx_apply(f, &c);
}

static struct engine_queue_info queue_info(struct fixture *f, const char *name)
{
    struct engine_queue_info q;
    assert_int_equal(engine_queue_get(f->e, name, &q), 0);
    return q;
}

TEST(paused_queue_takes_contacts_but_offers_none)
{
    MODEL_INSTALL;
    LOGIN("a1");
    assert_int_equal(pause_cmd(f, "p", true), 0);
    assert_true(queue_info(f, "p").paused);
    uint64_t first = CREATE_IN("p", ENGINE_CH_VOICE, 0);
    AFTER(5 * FX_SEC);
    uint64_t second = CREATE_IN("p", ENGINE_CH_VOICE, 0);
    ASSERT_QUEUED(first, "p");
    ASSERT_QUEUED(second, "p");
    assert_int_equal(queue_info(f, "p").offered, 0);
    assert_int_equal(pause_cmd(f, "p", false), 0);
    ASSERT_OFFERED(first, "a1");
    ASSERT_QUEUED(second, "p");
    assert_false(queue_info(f, "p").paused);
    assert_int_equal(queue_info(f, "p").offered, 1);
}

TEST(agent_who_logs_in_while_paused_gets_the_contact_on_resume)
{
    MODEL_INSTALL;
    assert_int_equal(pause_cmd(f, "p", true), 0);
    LOGIN("a1");
    uint64_t id = CREATE_IN("p", ENGINE_CH_CHAT, 0);
    ASSERT_QUEUED(id, "p");
    assert_int_equal(pause_cmd(f, "p", false), 0);
    ASSERT_OFFERED(id, "a1");
}

/* As the API test found it: agents that serve a second queue, one of them ringing there. */
TEST(resume_with_agents_of_two_queues)
{
    f->m.blocks[ENGINE_CH_VOICE] = ENGINE_CH_ALL & ~ENGINE_CH_BIT(ENGINE_CH_VOICE);
    MODEL_INSTALL;
    LOGIN("a2");
    uint64_t call = CREATE_IN("v", ENGINE_CH_VOICE, 0);
    ASSERT_OFFERED(call, "a2");
    assert_int_equal(pause_cmd(f, "p", true), 0);
    LOGIN("a3");
    uint64_t id = CREATE_IN("p", ENGINE_CH_CHAT, 0);
    ASSERT_QUEUED(id, "p");
    assert_int_equal(pause_cmd(f, "p", false), 0);
    ASSERT_OFFERED(id, "a3");
}

TEST(pause_and_resume_errors_change_nothing)
{
    MODEL_INSTALL;
    uint64_t d = DIGEST;
    assert_int_equal(pause_cmd(f, "p", false), CD_ESTATE); /* not paused */
    assert_int_equal(pause_cmd(f, "nowhere", true), CD_ENOTFOUND);
    assert_int_equal(pause_cmd(f, NULL, true), CD_ENOTFOUND);
    assert_int_equal(DIGEST, d);
    assert_int_equal(pause_cmd(f, "p", true), 0);
    assert_int_equal(pause_cmd(f, "p", true), CD_ESTATE); /* already */
}

TEST(clock_goes_on_while_paused)
{
    MODEL_INSTALL;
    assert_int_equal(pause_cmd(f, "p", true), 0);
    uint64_t id = CREATE_IN("p", ENGINE_CH_VOICE, 0);
    AFTER(61 * FX_SEC);
    TICK;
    ASSERT_QUEUED(id, "p2");
}

TEST(pause_survives_install_and_snapshot)
{
    MODEL_INSTALL;
    LOGIN("a1");
    assert_int_equal(pause_cmd(f, "p", true), 0);
    MODEL_INSTALL;
    assert_true(queue_info(f, "p").paused);
    uint64_t id = CREATE_IN("p", ENGINE_CH_VOICE, 0);
    struct engine *copy = fx_snapshot_copy(f);
    struct engine_queue_info q;
    assert_int_equal(engine_queue_get(copy, "p", &q), 0);
    assert_true(q.paused);
    engine_free(copy);
    ASSERT_QUEUED(id, "p");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(paused_queue_takes_contacts_but_offers_none),
        FX_TEST(agent_who_logs_in_while_paused_gets_the_contact_on_resume),
        FX_TEST(resume_with_agents_of_two_queues),
        FX_TEST(pause_and_resume_errors_change_nothing),
        FX_TEST(clock_goes_on_while_paused),
        FX_TEST(pause_survives_install_and_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
