/* The routing model's runbooks section: runbooks as the model holds them, their defaults,
 * their binary form, and each error with its file:line:column. */
#include "config_fixture.h"

#include "common/buf.h"

#define PARSE(text) PARSE_N((text), strlen(text))
#define EXPECT_ERROR(text, msg)                \
    do {                                       \
        PARSE(text);                           \
        ASSERT_ERROR(msg);                     \
        assert_int_equal(f->m->n_runbooks, 0); \
        assert_null(f->m->runbooks);           \
    } while (0)
#define RB(i) (&f->m->runbooks[(i)])

/* Two queues; the runbooks section starts on line 7. */
#define BASE                \
    "version: 1\n"          \
    "queues:\n"             \
    "  sales:\n"            \
    "    channels: voice\n" \
    "  backup:\n"           \
    "    channels: voice\n"

static const char full[] = BASE
    "runbooks:\n"
    "  - name: sales-collapse\n"
    "    trigger: { signal: queue.sales.service_level, when: bad, for: 10m, clear_for: 5m }\n"
    "    actions:\n"
    "      - model: contingency\n"
    "      - pause: sales\n"
    "      - resume: backup\n"
    "      - fault: { kind: sl_collapse, severity: major }\n"
    "    approval: true\n"
    "    revert: false\n"
    "    max_per_hour: 2\n"
    "  - name: node-lost\n"
    "    trigger: { signal: \"member.*.reachable\", when: warn }\n"
    "    actions: [ { fault: { kind: node_lost, severity: minor } } ]\n"
    "  - name: after-quorum\n"
    "    trigger: { fault: \"quorum_*\", severity: major, for: 5s }\n"
    "    actions: [ { pause: sales } ]\n";

static void a_full_section(void **state)
{
    F;
    PARSE(full);
    ASSERT_OK;
    assert_int_equal(f->m->n_runbooks, 3);
    const struct engine_runbook_def *d = RB(0);
    assert_int_equal(d->on, ENGINE_ON_SIGNAL);
    assert_string_equal(d->name, "sales-collapse");
    assert_string_equal(d->signal, "queue.sales.service_level");
    assert_int_equal(d->state, ENGINE_SIGNAL_BAD);
    assert_int_equal(d->for_s, 600);
    assert_int_equal(d->clear_s, 300);
    assert_true(d->approval);
    assert_false(d->revert);
    assert_int_equal(d->max_per_hour, 2);
    assert_int_equal(d->n_actions, 4);
    assert_int_equal(d->actions[0].kind, ENGINE_DO_MODEL);
    assert_string_equal(d->actions[0].arg, "contingency");
    assert_int_equal(d->actions[1].kind, ENGINE_DO_PAUSE);
    assert_string_equal(d->actions[1].arg, "sales");
    assert_int_equal(d->actions[2].kind, ENGINE_DO_RESUME);
    assert_string_equal(d->actions[2].arg, "backup");
    assert_int_equal(d->actions[3].kind, ENGINE_DO_FAULT);
    assert_string_equal(d->actions[3].arg, "sl_collapse");
    assert_int_equal(d->actions[3].severity, ENGINE_SEVERITY_MAJOR);
    /* the defaults: at once, reverts, 4 an hour, clears after a minute */
    d = RB(1);
    assert_int_equal(d->state, ENGINE_SIGNAL_WARN);
    assert_int_equal(d->for_s, 0);
    assert_int_equal(d->clear_s, 60);
    assert_false(d->approval);
    assert_true(d->revert);
    assert_int_equal(d->max_per_hour, 4);
    d = RB(2);
    assert_int_equal(d->on, ENGINE_ON_FAULT);
    assert_string_equal(d->signal, "quorum_*");
    assert_int_equal(d->severity, ENGINE_SEVERITY_MAJOR);
    assert_int_equal(d->for_s, 5);
    assert_int_equal(engine_model_validate(f->m, f->err, sizeof(f->err)), 0);
}

/* Format 6 carries them; a model without runbooks keeps its format. */
static void the_section_round_trips(void **state)
{
    F;
    PARSE(full);
    ASSERT_OK;
    struct cd_buf b, again;
    struct cd_reader r;
    struct engine_model back;
    cd_buf_init(&b);
    cd_buf_init(&again);
    assert_int_equal(engine_model_encode(f->m, &b), 0);
    assert_int_equal(b.data[0], 6);
    cd_reader_init(&r, b.data, b.len);
    assert_int_equal(engine_model_decode(&r, &back), 0);
    assert_int_equal(back.n_runbooks, 3);
    assert_memory_equal(back.runbooks, f->m->runbooks, 3 * sizeof(back.runbooks[0]));
    assert_int_equal(engine_model_encode(&back, &again), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    engine_model_close(&back);
    cd_buf_close(&again);
    cd_buf_close(&b);
    config_model_close(&f->cm);
    PARSE(BASE);
    ASSERT_OK;
    cd_buf_init(&b);
    assert_int_equal(engine_model_encode(f->m, &b), 0);
    assert_true(b.data[0] < 6);
    cd_buf_close(&b);
}

#define ONE(trigger, actions) \
    BASE "runbooks:\n  - name: r\n    trigger: " trigger "\n    actions: " actions "\n"
#define TRIG "{ signal: a.b, when: bad }"
#define PAUSE "[ { pause: sales } ]"

static void errors(void **state)
{
    F;
    EXPECT_ERROR(BASE "runbooks: { name: r }\n",
                 "model.yaml:7:11: runbooks: expected a list, got a mapping");
    EXPECT_ERROR(BASE "runbooks:\n  - { name: r, actions: " PAUSE " }\n",
                 "model.yaml:8:5: missing key 'trigger'");
    EXPECT_ERROR(ONE("{ signal: \"a..b\", when: bad }", PAUSE),
                 "model.yaml:9:24: runbook 'r': signal: dotted names, '*' for any one part "
                 "(queue.*.service_level)");
    EXPECT_ERROR(ONE("{ signal: a.b, when: ok }", PAUSE),
                 "model.yaml:9:35: runbook 'r': when: expected warn (warn or bad) or bad");
    EXPECT_ERROR(ONE("{ signal: a.b, when: bad, for: forever }", PAUSE),
                 "model.yaml:9:45: runbook 'r': for: expected a duration from 0s to 168h (such "
                 "as 20s, 15m or 2h), got 'forever'");
    EXPECT_ERROR(ONE("{ fault: \"no way\" }", PAUSE),
                 "model.yaml:9:23: runbook 'r': fault: a fault kind, '*' for any run of "
                 "characters (quorum_lost, member_*)");
    EXPECT_ERROR(ONE("{ fault: x, signal: a.b, when: bad }", PAUSE),
                 "model.yaml:9:14: runbook 'r': trigger: on a signal (signal, when) or a fault "
                 "(fault, severity), not both");
    EXPECT_ERROR(
        ONE("{ signal: a.b, when: bad, severity: major }", PAUSE),
        "model.yaml:9:50: runbook 'r': severity: for a trigger on a fault (fault: KIND)");
    EXPECT_ERROR(ONE(TRIG, "[]"), "model.yaml:10:14: runbook 'r': actions: 1 to 8");
    EXPECT_ERROR(ONE(TRIG, "[ { pause: nowhere } ]"),
                 "model.yaml:10:25: runbook 'r': pause: no queue 'nowhere' in this model");
    EXPECT_ERROR(ONE(TRIG, "[ { drain: sales } ]"),
                 "model.yaml:10:18: runbook 'r': unknown key 'drain' (expected one of: model, "
                 "pause, resume, fault)");
    EXPECT_ERROR(ONE(TRIG, "[ { pause: sales, resume: sales } ]"),
                 "model.yaml:10:16: runbook 'r': expected one of model: SAVED, pause: QUEUE, "
                 "resume: QUEUE, fault: { kind, severity }");
    EXPECT_ERROR(ONE(TRIG, "[ { fault: { kind: x, severity: huge } } ]"),
                 "model.yaml:10:46: runbook 'r': severity: expected major or minor");
    EXPECT_ERROR(ONE(TRIG,
                     "[ { fault: { kind: a, severity: minor } }, "
                     "{ fault: { kind: b, severity: major } } ]"),
                 "model.yaml:10:57: runbook 'r': fault: a runbook opens one fault");
    EXPECT_ERROR(ONE(TRIG, "[ { model: a }, { model: b } ]"),
                 "model.yaml:10:30: runbook 'r': model: a runbook installs one model");
    EXPECT_ERROR(BASE "runbooks:\n  - { name: r, trigger: " TRIG ", actions: " PAUSE
                      ", max_per_hour: 0 }\n",
                 "model.yaml:8:98: runbook 'r': max_per_hour: expected an integer from 1 to "
                 "60, got '0'");
    EXPECT_ERROR(BASE "runbooks:\n  - { name: r, trigger: " TRIG ", actions: " PAUSE
                      " }\n"
                      "  - { name: r, trigger: " TRIG ", actions: " PAUSE " }\n",
                 "model.yaml:9:13: runbook 'r' is given twice");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_full_section, setup, teardown),
        cmocka_unit_test_setup_teardown(the_section_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
