/* Runbooks: a run starts only when its trigger holds (or by hand), at most one open and
 * max_per_hour an hour; its actions act in the same command, the model step exactly once;
 * the end waits for the trigger to clear and undoes what the run did; approval; saved
 * models; runs and saved models in snapshots. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

#define SL "queue.sales.service_level"
#define MIN (60 * FX_SEC)

/* Queues sales and backup; runbook "collapse": the sales service level bad for a minute
 * installs saved model "contingency", pauses backup and opens a major fault; it clears
 * after 30 s ok. `approval` and `revert` as the test asks. */
static void install(struct fixture *f, bool approval, bool revert)
{
    if (f->m.n_queues == 0) {
        fx_queue(f, "sales", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
        fx_queue(f, "backup", ENGINE_CH_BIT(ENGINE_CH_VOICE), ENGINE_STRATEGY_LONGEST_IDLE);
        f->m.runbooks = calloc(1, sizeof(*f->m.runbooks));
        assert_non_null(f->m.runbooks);
    }
    struct engine_runbook_def *d = &f->m.runbooks[0];
    *d = (struct engine_runbook_def){.name = "collapse",
                                     .signal = "queue.*.service_level",
                                     .state = ENGINE_SIGNAL_BAD,
                                     .for_s = 60,
                                     .clear_s = 30,
                                     .max_per_hour = 2,
                                     .approval = approval,
                                     .revert = revert,
                                     .n_actions = 3};
    d->actions[0] = (struct engine_runbook_action){ENGINE_DO_MODEL, 0, "contingency"};
    d->actions[1] = (struct engine_runbook_action){ENGINE_DO_PAUSE, 0, "backup"};
    d->actions[2] =
        (struct engine_runbook_action){ENGINE_DO_FAULT, ENGINE_SEVERITY_MAJOR, "sl_collapse"};
    f->m.n_runbooks = 1;
    MODEL_INSTALL;
}

static int signal(struct fixture *f, const char *name, uint8_t st)
{
    struct engine_signal_set v = {name, st, 0, 0};
    struct engine_command c = {.kind = ENGINE_CMD_HEALTH, .u.health = {1, &v}};
    return fx_apply(f, &c);
}

static int rb(struct fixture *f,
              uint8_t kind,
              const char *actor,
              const char *name,
              uint32_t run)
{
    struct engine_command c = {
        .kind = kind, .actor = actor, .u.runbook = {.name = name, .signal = SL, .run = run}};
    return fx_apply(f, &c);
}

static int save(struct fixture *f, const char *name, const char *text)
{
    struct engine_command c = {.kind = ENGINE_CMD_MODEL_SAVE,
                               .actor = "user:ann",
                               .u.runbook = {.name = name, .text = text, .comment = "plan b"}};
    return fx_apply(f, &c);
}

/* The leader gives the run's model (the fixture's model, as the version after): an install
 * or a revert as `revert` says, of the saved text as saved at `at`. */
static int give_as(struct fixture *f, uint32_t run, bool revert, int64_t at)
{
    struct engine_command c = {.kind = ENGINE_CMD_RUNBOOK_MODEL,
                               .u.runbook = {.run = run,
                                             .version = engine_model_version(f->e) + 1,
                                             .ok = true,
                                             .revert = revert,
                                             .saved_at = at,
                                             .model = &f->m}};
    return fx_apply(f, &c);
}

/* The same as the leader sees the run now. */
static int give_model(struct fixture *f, uint32_t run)
{
    struct engine_run_info r;
    struct engine_saved_info s;
    bool revert = engine_run_get(f->e, run, &r) == 0 && r.steps[0] == ENGINE_STEP_REVERTING;
    int64_t at = engine_saved_find(f->e, "contingency", &s) == 0 ? s.at : 0;
    return give_as(f, run, revert, at);
}

#define RUN(actor, run) rb(f, ENGINE_CMD_RUNBOOK_RUN, (actor), "collapse", (run))
#define END_RUN(actor, run) rb(f, ENGINE_CMD_RUNBOOK_END, (actor), NULL, (run))
#define REFUSED(expr, code) assert_int_equal((expr), (code))

static struct engine_run_info run_of(struct fixture *f, uint32_t id)
{
    struct engine_run_info r;
    assert_int_equal(engine_run_get(f->e, id, &r), 0);
    return r;
}

static bool paused(struct fixture *f, const char *q)
{
    struct engine_queue_info i;
    assert_int_equal(engine_queue_get(f->e, q, &i), 0);
    return i.paused;
}

TEST(a_run_starts_when_the_trigger_has_held_and_acts_at_once)
{
    install(f, false, true);
    EXPECT_OK(save(f, "contingency", "version: 1\n"));
    REFUSED(RUN(NULL, 0), CD_ESTATE); /* no such signal yet */
    EXPECT_OK(signal(f, SL, ENGINE_SIGNAL_WARN));
    AFTER(2 * MIN);
    REFUSED(RUN(NULL, 0), CD_ESTATE); /* warn is not bad */
    EXPECT_OK(signal(f, SL, ENGINE_SIGNAL_BAD));
    AFTER(59 * FX_SEC);
    const char *held = NULL;
    assert_false(engine_runbook_holds(f->e, &f->m.runbooks[0], f->now, &held, NULL));
    REFUSED(RUN(NULL, 0), CD_ESTATE);
    AFTER(FX_SEC);
    assert_true(engine_runbook_holds(f->e, &f->m.runbooks[0], f->now, &held, NULL));
    assert_string_equal(held, SL);
    EXPECT_OK(RUN(NULL, 0));
    assert_int_equal(f->res.contact, 1);
    struct engine_run_info r = run_of(f, 1);
    assert_int_equal(r.state, ENGINE_RUN_ACTIVE);
    assert_string_equal(r.signal, SL);
    assert_int_equal(r.started, NOW);
    assert_int_equal(r.steps[0], ENGINE_STEP_PENDING);
    assert_int_equal(r.steps[1], ENGINE_STEP_DONE);
    assert_string_equal(r.notes[1], "queue 'backup' paused");
    assert_int_equal(r.steps[2], ENGINE_STEP_DONE);
    assert_true(paused(f, "backup"));
    struct engine_fault_info fault;
    assert_int_equal(engine_fault_get(f->e, r.fault, &fault), 0);
    assert_string_equal(fault.kind, "sl_collapse");
    assert_string_equal(fault.component, "runbook:collapse");
    assert_int_equal(fault.severity, ENGINE_SEVERITY_MAJOR);
    /* a second proposal (a new leader's) while it is open changes nothing */
    REFUSED(RUN(NULL, 0), CD_EEXISTS);
    assert_int_equal(engine_run_count(f->e), 1);
    assert_int_equal(engine_run_open(f->e, "collapse"), 1);
}

TEST(the_model_step_installs_once_and_the_end_puts_the_version_before_back)
{
    install(f, false, true);
    uint32_t before = engine_model_version(f->e);
    EXPECT_OK(save(f, "contingency", "version: 1\nqueues: {}\n"));
    EXPECT_OK(signal(f, SL, ENGINE_SIGNAL_BAD));
    AFTER(MIN);
    EXPECT_OK(RUN(NULL, 0));
    REFUSED(give_as(f, 1, true, 0), CD_ESTATE); /* not a revert yet */
    struct engine_saved_info saved;
    assert_int_equal(engine_saved_find(f->e, "contingency", &saved), 0);
    REFUSED(give_as(f, 1, false, saved.at - 1), CD_ESTATE); /* read before it was saved */
    EXPECT_OK(give_model(f, 1));
    REFUSED(give_model(f, 1), CD_ESTATE); /* installed already */
    struct engine_run_info r = run_of(f, 1);
    assert_int_equal(r.steps[0], ENGINE_STEP_DONE);
    assert_int_equal(r.model_before, before);
    assert_int_equal(r.model_installed, before + 1);
    struct engine_archived v;
    assert_int_equal(engine_archive_find(f->e, before + 1, &v), 0);
    assert_string_equal(v.actor, "runbook:collapse");
    assert_string_equal(v.source, "version: 1\nqueues: {}\n");
    assert_string_equal(v.comment, "runbook collapse run 1: saved model 'contingency'");
    /* the trigger must have cleared for clear_for before the leader may end it */
    REFUSED(END_RUN(NULL, 1), CD_ESTATE);
    EXPECT_OK(signal(f, SL, ENGINE_SIGNAL_OK));
    AFTER(29 * FX_SEC);
    assert_false(engine_run_cleared(f->e, &r, f->now));
    REFUSED(END_RUN(NULL, 1), CD_ESTATE);
    AFTER(FX_SEC);
    assert_true(engine_run_cleared(f->e, &r, f->now));
    EXPECT_OK(END_RUN(NULL, 1));
    r = run_of(f, 1);
    assert_int_equal(r.state, ENGINE_RUN_ENDED);
    assert_string_equal(r.why, "the trigger cleared");
    assert_false(paused(f, "backup"));
    assert_int_equal(r.steps[1], ENGINE_STEP_REVERTED);
    assert_int_equal(r.steps[0], ENGINE_STEP_REVERTING);
    struct engine_fault_info fault;
    assert_int_equal(engine_fault_get(f->e, r.fault, &fault), 0);
    assert_int_equal(fault.closed, NOW);
    EXPECT_OK(give_model(f, 1));
    REFUSED(give_model(f, 1), CD_ESTATE);
    assert_int_equal(engine_archive_find(f->e, before + 2, &v), 0);
    assert_int_equal(v.rollback_of, before);
    assert_string_equal(v.comment, "runbook collapse run 1 ended: version 1 back");
    assert_string_equal(run_of(f, 1).notes[0], "version 1 back as 3");
    REFUSED(END_RUN(NULL, 1), CD_ESTATE);
}

/* The version before is the one running when the model goes in, not when the run began. */
TEST(the_version_before_is_taken_at_the_install)
{
    install(f, false, true);
    EXPECT_OK(save(f, "contingency", "version: 1\n"));
    EXPECT_OK(signal(f, SL, ENGINE_SIGNAL_BAD));
    AFTER(MIN);
    EXPECT_OK(RUN(NULL, 0));
    f->version = engine_model_version(f->e);
    MODEL_INSTALL; /* version 2, between the run and its model */
    REFUSED(rb(f, ENGINE_CMD_MODEL_FORGET, "user:ann", "contingency", 0), CD_ESTATE);
    EXPECT_OK(give_model(f, 1));
    struct engine_run_info r = run_of(f, 1);
    assert_int_equal(r.model_before, 2);
    assert_int_equal(r.model_installed, 3);
    EXPECT_OK(END_RUN("user:ann", 1));
    /* while it puts its model back, the runbook does not run again */
    REFUSED(RUN("user:ann", 0), CD_EEXISTS);
    EXPECT_OK(give_model(f, 1));
    struct engine_archived v;
    assert_int_equal(engine_archive_find(f->e, 4, &v), 0);
    assert_int_equal(v.rollback_of, 2);
    EXPECT_OK(RUN("user:ann", 0));
}

TEST(a_model_changed_by_hand_since_stays)
{
    install(f, false, true);
    EXPECT_OK(save(f, "contingency", "version: 1\n"));
    EXPECT_OK(signal(f, SL, ENGINE_SIGNAL_BAD));
    AFTER(MIN);
    EXPECT_OK(RUN(NULL, 0));
    EXPECT_OK(give_model(f, 1));
    f->version = engine_model_version(f->e);
    MODEL_INSTALL; /* an admin's change during the incident */
    EXPECT_OK(END_RUN("user:ann", 1));
    struct engine_run_info r = run_of(f, 1);
    assert_int_equal(r.steps[0], ENGINE_STEP_KEPT);
    assert_string_equal(r.notes[0], "version 3 is running, not 2: it stays");
    assert_string_equal(r.ended_by, "user:ann");
    REFUSED(give_model(f, 1), CD_ESTATE);
}

TEST(approval_holds_the_actions_back)
{
    install(f, true, false);
    EXPECT_OK(save(f, "contingency", "version: 1\n"));
    EXPECT_OK(signal(f, SL, ENGINE_SIGNAL_BAD));
    AFTER(MIN);
    EXPECT_OK(RUN(NULL, 0));
    struct engine_run_info r = run_of(f, 1);
    assert_int_equal(r.state, ENGINE_RUN_AWAITING);
    assert_int_equal(r.steps[1], ENGINE_STEP_WAITING);
    assert_false(paused(f, "backup"));
    REFUSED(give_model(f, 1), CD_ESTATE);
    EXPECT_OK(rb(f, ENGINE_CMD_RUNBOOK_APPROVE, "user:sue", NULL, 1));
    REFUSED(rb(f, ENGINE_CMD_RUNBOOK_APPROVE, "user:sue", NULL, 1), CD_ESTATE);
    r = run_of(f, 1);
    assert_string_equal(r.approved_by, "user:sue");
    assert_true(paused(f, "backup"));
    /* without revert, the end leaves the steps as they are; the model never came */
    EXPECT_OK(END_RUN("user:sue", 1));
    r = run_of(f, 1);
    assert_true(paused(f, "backup"));
    assert_int_equal(r.steps[0], ENGINE_STEP_KEPT);
    assert_int_equal(r.steps[1], ENGINE_STEP_DONE);
    REFUSED(rb(f, ENGINE_CMD_RUNBOOK_APPROVE, "user:sue", NULL, 9), CD_ENOTFOUND);
}

TEST(by_hand_and_at_most_max_per_hour)
{
    install(f, false, true);
    /* by hand, whatever the signals say; the missing saved model fails its step only */
    EXPECT_OK(RUN("user:ann", 0));
    struct engine_run_info r = run_of(f, 1);
    assert_string_equal(r.signal, "");
    assert_string_equal(r.actor, "user:ann");
    assert_int_equal(r.steps[0], ENGINE_STEP_FAILED);
    assert_string_equal(r.notes[0], "no saved model 'contingency'");
    /* its trigger does not hold, and never did: it stays until ended by hand */
    AFTER(600 * FX_SEC);
    r = run_of(f, 1);
    assert_false(engine_run_cleared(f->e, &r, f->now));
    EXPECT_OK(END_RUN("user:ann", 1));
    EXPECT_OK(RUN("user:ann", 0));
    EXPECT_OK(END_RUN("user:ann", 2));
    REFUSED(RUN("user:ann", 0), CD_ECAPACITY);
    AFTER(3600 * FX_SEC);
    EXPECT_OK(RUN("user:ann", 0));
    REFUSED(rb(f, ENGINE_CMD_RUNBOOK_RUN, "user:ann", "nope", 0), CD_ENOTFOUND);
}

TEST(saved_models_and_runs_survive_a_snapshot)
{
    install(f, false, true);
    EXPECT_OK(save(f, "contingency", "version: 1\n"));
    EXPECT_OK(save(f, "a-spare", "version: 1\nqueues: {}\n"));
    assert_false(f->res.existing);
    EXPECT_OK(save(f, "a-spare", "version: 1\n"));
    assert_true(f->res.existing);
    REFUSED(save(f, "bad name", "x"), CD_EINVAL);
    REFUSED(save(f, "empty", ""), CD_EINVAL);
    REFUSED(rb(f, ENGINE_CMD_MODEL_FORGET, "user:ann", "contingency", 0), CD_ESTATE);
    EXPECT_OK(signal(f, SL, ENGINE_SIGNAL_BAD));
    AFTER(MIN);
    EXPECT_OK(RUN(NULL, 0));
    struct engine *copy = fx_snapshot_copy(f);
    engine_free(f->e);
    f->e = copy;
    assert_int_equal(engine_saved_count(f->e), 2);
    struct engine_saved_info s;
    assert_int_equal(engine_saved_at(f->e, 0, &s), 0);
    assert_string_equal(s.name, "a-spare");
    assert_string_equal(s.actor, "user:ann");
    assert_string_equal(s.comment, "plan b");
    /* the copy goes on where the original was */
    REFUSED(RUN(NULL, 0), CD_EEXISTS);
    EXPECT_OK(give_model(f, 1));
    REFUSED(give_model(f, 1), CD_ESTATE);
    EXPECT_OK(rb(f, ENGINE_CMD_MODEL_FORGET, "user:ann", "a-spare", 0));
    REFUSED(rb(f, ENGINE_CMD_MODEL_FORGET, "user:ann", "a-spare", 0), CD_ENOTFOUND);
}

TEST(the_trigger_alone)
{
    install(f, false, true);
    const struct engine_runbook_def *d = &f->m.runbooks[0];
    assert_true(
        engine_runbook_fires(d, false, "queue.sales.service_level", ENGINE_SIGNAL_BAD, 60000));
    assert_false(
        engine_runbook_fires(d, false, "queue.sales.service_level", ENGINE_SIGNAL_BAD, 59999));
    assert_false(
        engine_runbook_fires(d, false, "queue.sales.service_level", ENGINE_SIGNAL_WARN, 1e9));
    assert_false(engine_runbook_fires(d, false, "queue.sales.waiting", ENGINE_SIGNAL_BAD, 1e9));
    assert_false(
        engine_runbook_fires(d, true, "queue.sales.service_level", ENGINE_SIGNAL_BAD, 1e9));
}

/* A trigger on faults: a quorum loss is on record only once it is over, and still runs it,
 * once per fault; the run's trigger clears once its fault has been closed for clear_for. */
TEST(a_fault_trigger_runs_once_per_fault)
{
    install(f, false, true);
    struct engine_runbook_def *d = &f->m.runbooks[0];
    *d = (struct engine_runbook_def){.name = "after-quorum",
                                     .on = ENGINE_ON_FAULT,
                                     .signal = "quorum_*",
                                     .severity = ENGINE_SEVERITY_MAJOR,
                                     .for_s = 5,
                                     .clear_s = 60,
                                     .max_per_hour = 4,
                                     .revert = true,
                                     .n_actions = 1};
    d->actions[0] = (struct engine_runbook_action){ENGINE_DO_PAUSE, 0, "backup"};
    f->version = engine_model_version(f->e);
    MODEL_INSTALL;
    /* 4 s without quorum, recorded after the fact: too short */
    struct engine_signal_set v[2] = {{"cluster.quorum", ENGINE_SIGNAL_BAD, 4000, FX_T0},
                                     {"cluster.quorum", ENGINE_SIGNAL_OK, 0, FX_T0 + 4000}};
    AT(FX_T0 + 10 * FX_SEC);
    struct engine_command h = {.kind = ENGINE_CMD_HEALTH, .u.health = {1, &v[0]}};
    EXPECT_OK(fx_apply(f, &h));
    h.u.health.signals = &v[1];
    EXPECT_OK(fx_apply(f, &h));
    char buf[ENGINE_NAME_MAX];
    const char *src = NULL;
    assert_false(engine_runbook_holds(f->e, d, f->now, &src, buf));
    /* 8 s the next time */
    v[0].since = FX_T0 + 20 * FX_SEC;
    v[1].since = FX_T0 + 28 * FX_SEC;
    AT(FX_T0 + 30 * FX_SEC);
    h.u.health.signals = &v[0];
    EXPECT_OK(fx_apply(f, &h));
    h.u.health.signals = &v[1];
    EXPECT_OK(fx_apply(f, &h));
    assert_true(engine_runbook_holds(f->e, d, f->now, &src, buf));
    assert_string_equal(src, "fault:2");
    REFUSED(rb(f, ENGINE_CMD_RUNBOOK_RUN, NULL, "after-quorum", 0), CD_ESTATE); /* signal "" */
    struct engine_command c = {.kind = ENGINE_CMD_RUNBOOK_RUN,
                               .u.runbook = {.name = "after-quorum", .signal = "fault:1"}};
    REFUSED(fx_apply(f, &c), CD_ESTATE); /* the short one */
    c.u.runbook.signal = "fault:2";
    EXPECT_OK(fx_apply(f, &c));
    assert_true(paused(f, "backup"));
    struct engine_run_info r = run_of(f, 1);
    assert_string_equal(r.signal, "fault:2");
    assert_false(engine_run_cleared(f->e, &r, f->now));
    AT(FX_T0 + 88 * FX_SEC);
    assert_true(engine_run_cleared(f->e, &r, f->now));
    EXPECT_OK(END_RUN(NULL, 1));
    assert_false(paused(f, "backup"));
    /* the same fault does not run it again */
    assert_false(engine_runbook_holds(f->e, d, f->now, &src, buf));
    REFUSED(fx_apply(f, &c), CD_ESTATE);
}

/* Drill reports: the latest 32 kept, with who and when, through a snapshot. */
TEST(drill_reports_are_kept)
{
    struct engine_command c = {.kind = ENGINE_CMD_DRILL_RECORD, .actor = "token:ops"};
    c.u.runbook.text = "";
    REFUSED(fx_apply(f, &c), CD_EINVAL);
    char text[64];
    for (int i = 1; i <= ENGINE_DRILLS_KEPT + 1; i++) {
        snprintf(text, sizeof(text), "{\"kind\":\"crash\",\"n\":%d}", i);
        c.u.runbook.text = text;
        AFTER(FX_SEC);
        EXPECT_OK(fx_apply(f, &c));
        assert_int_equal(f->res.contact, i);
    }
    struct engine *copy = fx_snapshot_copy(f);
    engine_free(f->e);
    f->e = copy;
    assert_int_equal(engine_drill_count(f->e), ENGINE_DRILLS_KEPT);
    struct engine_drill_info d;
    REFUSED(engine_drill_get(f->e, 1, &d), CD_ENOTFOUND);
    assert_int_equal(engine_drill_at(f->e, 0, &d), 0);
    assert_int_equal(d.id, 2);
    assert_int_equal(engine_drill_get(f->e, ENGINE_DRILLS_KEPT + 1, &d), 0);
    assert_string_equal(d.text, "{\"kind\":\"crash\",\"n\":33}");
    assert_string_equal(d.actor, "token:ops");
    assert_int_equal(d.at, f->now);
    EXPECT_OK(fx_apply(f, &c));
    assert_int_equal(f->res.contact, ENGINE_DRILLS_KEPT + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(a_run_starts_when_the_trigger_has_held_and_acts_at_once),
        FX_TEST(the_model_step_installs_once_and_the_end_puts_the_version_before_back),
        FX_TEST(the_version_before_is_taken_at_the_install),
        FX_TEST(a_model_changed_by_hand_since_stays),
        FX_TEST(approval_holds_the_actions_back),
        FX_TEST(by_hand_and_at_most_max_per_hour),
        FX_TEST(saved_models_and_runs_survive_a_snapshot),
        FX_TEST(the_trigger_alone),
        FX_TEST(a_fault_trigger_runs_once_per_fault),
        FX_TEST(drill_reports_are_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
