/* What reports and the wallboard read from the routing model: a queue's service-level
 * formula and short abandons, its warning and alarm thresholds, both in defaults: and per
 * queue, and the centre's zone (defaults.zone); how queues inherit them, and each error
 * with its file:line:column. */
#include "config_fixture.h"

#define PARSE(text) PARSE_N((text), strlen(text))
#define EXPECT_ERROR(text, msg)              \
    do {                                     \
        PARSE(text);                         \
        ASSERT_ERROR(msg);                   \
        assert_int_equal(f->m->n_queues, 0); \
        assert_null(f->m->queues);           \
    } while (0)
#define Q(i) (&f->m->queues[(i)])
#define ASSERT_SL(q, formula, short_s)                          \
    do {                                                        \
        assert_int_equal((q)->sl_formula, ENGINE_SL_##formula); \
        assert_int_equal((q)->short_abandon_s, (short_s));      \
    } while (0)
#define ASSERT_THRESHOLDS(q, slw, sla, qw, qa, ww, wa)         \
    do {                                                       \
        assert_int_equal((q)->thresholds.sl_warn, (slw));      \
        assert_int_equal((q)->thresholds.sl_alarm, (sla));     \
        assert_int_equal((q)->thresholds.waiting_warn, (qw));  \
        assert_int_equal((q)->thresholds.waiting_alarm, (qa)); \
        assert_int_equal((q)->thresholds.wait_warn_s, (ww));   \
        assert_int_equal((q)->thresholds.wait_alarm_s, (wa));  \
    } while (0)

/* The smallest valid model; error tests append lines to its queue. Line 4 is the last. */
#define BASE       \
    "version: 1\n" \
    "queues:\n"    \
    "  sales:\n"   \
    "    channels: voice\n"

/* defaults: with every new key; queues that take all, some or none of them. */
static const char inheriting[] =
    "version: 1\n"
    "defaults:\n"
    "  zone: Europe/Paris\n"
    "  service_level: { target: 30s, formula: short_excluded, short_abandon: 8s }\n"
    "  thresholds:\n"
    "    service_level: { warn: 85, alarm: 70 }\n"
    "    waiting: { warn: 5 }\n"
    "queues:\n"
    "  plain:\n"
    "    channels: voice\n"
    "  percent-only:\n"
    "    channels: voice\n"
    "    service_level: { percent: 90 }\n"
    "  own:\n"
    "    channels: chat\n"
    "    service_level: { formula: offered, short_abandon: 0s }\n"
    "    thresholds:\n"
    "      waiting: { alarm: 30 }\n"
    "      longest_wait: { warn: 1m, alarm: 2m30s }\n"
    "  cleared:\n"
    "    channels: email\n"
    "    thresholds: { service_level: {}, waiting: {} }\n";

/* ---- Valid documents -------------------------------------------------------------------- */

static void a_queue_gives_every_key(void **state)
{
    F;
    PARSE(BASE
          "    service_level: { target: 15s, percent: 75, formula: offered, short_abandon: 10s "
          "}\n"
          "    thresholds:\n"
          "      service_level: { warn: 80, alarm: 60 }\n"
          "      waiting: { warn: 10, alarm: 20 }\n"
          "      longest_wait: { warn: 45s, alarm: 2m }\n");
    ASSERT_OK;
    assert_int_equal(Q(0)->sl_target_s, 15);
    assert_int_equal(Q(0)->sl_percent, 75);
    ASSERT_SL(Q(0), OFFERED, 10);
    ASSERT_THRESHOLDS(Q(0), 80, 60, 10, 20, 45, 120);
    assert_int_equal(engine_model_validate(f->m, f->err, sizeof(f->err)), 0);
}

static void builtin_defaults(void **state)
{
    F;
    PARSE(BASE);
    ASSERT_OK;
    ASSERT_SL(Q(0), ANSWERED_ABANDONED, 5);
    ASSERT_THRESHOLDS(Q(0), 0, 0, 0, 0, 0, 0);
    assert_int_equal(f->m->report_zone, -1);
    assert_int_equal(f->m->n_zones, 0);
}

/* Either of warn and alarm may stand alone; 0s makes no abandon short; the formula's
 * names are the engine's. */
static void edges(void **state)
{
    F;
    PARSE(BASE
          "    service_level: { formula: answered_abandoned, short_abandon: 0s }\n"
          "    thresholds: { service_level: { alarm: 50 }, longest_wait: { warn: 720h } }\n");
    ASSERT_OK;
    ASSERT_SL(Q(0), ANSWERED_ABANDONED, 0);
    ASSERT_THRESHOLDS(Q(0), 0, 50, 0, 0, 30 * 86400, 0);
    config_model_close(&f->cm);
    PARSE(BASE
          "    service_level: { formula: short_excluded, short_abandon: 10m }\n"
          "    thresholds: { service_level: { warn: 100, alarm: 1 } }\n");
    ASSERT_OK;
    ASSERT_SL(Q(0), SHORT_EXCLUDED, 600);
    ASSERT_THRESHOLDS(Q(0), 100, 1, 0, 0, 0, 0);
    for (int i = 0; i < ENGINE_SL_FORMULA_COUNT; i++) {
        assert_int_equal(engine_sl_formula_parse(engine_sl_formula_name(i)), i);
    }
}

/* Each service_level key given replaces the inherited one; each thresholds pair given
 * replaces the inherited pair as a whole ({} clears it). */
static void queues_inherit_from_defaults(void **state)
{
    F;
    PARSE(inheriting);
    ASSERT_OK;
    assert_int_equal(Q(0)->sl_target_s, 30);
    assert_int_equal(Q(0)->sl_percent, 80);
    ASSERT_SL(Q(0), SHORT_EXCLUDED, 8);
    ASSERT_THRESHOLDS(Q(0), 85, 70, 5, 0, 0, 0);
    assert_int_equal(Q(1)->sl_target_s, 30);
    assert_int_equal(Q(1)->sl_percent, 90);
    ASSERT_SL(Q(1), SHORT_EXCLUDED, 8);
    ASSERT_THRESHOLDS(Q(1), 85, 70, 5, 0, 0, 0);
    ASSERT_SL(Q(2), OFFERED, 0);
    ASSERT_THRESHOLDS(Q(2), 85, 70, 0, 30, 60, 150);
    ASSERT_SL(Q(3), SHORT_EXCLUDED, 8);
    ASSERT_THRESHOLDS(Q(3), 0, 0, 0, 0, 0, 0);
}

/* defaults.zone is the zone of reports, loaded even when nothing else names it, and the
 * same entry when something does. */
static void the_report_zone(void **state)
{
    F;
    PARSE(inheriting);
    ASSERT_OK;
    assert_int_equal(f->m->n_zones, 1);
    assert_int_equal(f->m->report_zone, 0);
    assert_string_equal(f->m->zones[0].name, "Europe/Paris");
    config_model_close(&f->cm);
    PARSE(
        "version: 1\n"
        "defaults: { zone: Europe/London }\n"
        "hours:\n"
        "  lisbon: { zone: Europe/Lisbon, daily: \"08:00-18:00\" }\n"
        "  london: { daily: \"08:00-18:00\" }\n"
        "queues: {}\n");
    ASSERT_OK;
    assert_int_equal(f->m->n_zones, 2);
    assert_int_equal(f->m->report_zone, 0);
    assert_string_equal(f->m->zones[f->m->report_zone].name, "Europe/London");
    assert_int_equal(f->m->hours[1].zone, 0);
    assert_int_equal(engine_model_validate(f->m, f->err, sizeof(f->err)), 0);
}

/* A model from YAML round-trips through the engine's binary form with all of it. */
static void the_model_round_trips(void **state)
{
    F;
    PARSE(inheriting);
    ASSERT_OK;
    struct cd_buf b;
    struct cd_reader r;
    struct engine_model back;
    cd_buf_init(&b);
    assert_int_equal(engine_model_encode(f->m, &b), 0);
    assert_int_equal(b.data[0], 4);
    cd_reader_init(&r, b.data, b.len);
    assert_int_equal(engine_model_decode(&r, &back), 0);
    assert_int_equal(cd_rd_left(&r), 0);
    assert_int_equal(back.report_zone, 0);
    for (uint32_t i = 0; i < back.n_queues; i++) {
        assert_int_equal(back.queues[i].sl_formula, Q(i)->sl_formula);
        assert_int_equal(back.queues[i].short_abandon_s, Q(i)->short_abandon_s);
        assert_memory_equal(&back.queues[i].thresholds, &Q(i)->thresholds,
                            sizeof(Q(i)->thresholds));
    }
    engine_model_close(&back);
    cd_buf_close(&b);
}

/* ---- Errors --------------------------------------------------------------------------- */

static void error_service_level(void **state)
{
    F;
    EXPECT_ERROR(
        BASE "    service_level: { formula: fast }\n",
        "model.yaml:5:31: queue 'sales': formula: unknown formula 'fast' (expected one "
        "of: answered_abandoned, offered, short_excluded)");
    EXPECT_ERROR(BASE "    service_level: { formula: [offered] }\n",
                 "model.yaml:5:31: queue 'sales': formula: unknown formula 'a collection' "
                 "(expected one of: answered_abandoned, offered, short_excluded)");
    EXPECT_ERROR(
        BASE "    service_level: { short_abandon: 11m }\n",
        "model.yaml:5:37: queue 'sales': short_abandon: expected a duration from 0s to "
        "10m (such as 20s, 15m or 2h), got '11m'");
    EXPECT_ERROR(BASE "    service_level: { target: 20s, slow: 1 }\n",
                 "model.yaml:5:35: queue 'sales': unknown key 'slow' (expected one of: target, "
                 "percent, formula, short_abandon)");
    EXPECT_ERROR(
        "version: 1\n"
        "defaults:\n"
        "  service_level: { short_abandon: -1s }\n"
        "queues: {}\n",
        "model.yaml:3:35: defaults: short_abandon: expected a duration from 0s to 10m "
        "(such as 20s, 15m or 2h), got '-1s'");
}

static void error_threshold_values(void **state)
{
    F;
    EXPECT_ERROR(BASE "    thresholds: { service_level: { warn: 0 } }\n",
                 "model.yaml:5:42: queue 'sales': thresholds: service_level: warn: expected an "
                 "integer from 1 to 100, got '0'");
    EXPECT_ERROR(BASE "    thresholds: { service_level: { warn: 101 } }\n",
                 "model.yaml:5:42: queue 'sales': thresholds: service_level: warn: expected an "
                 "integer from 1 to 100, got '101'");
    EXPECT_ERROR(BASE "    thresholds: { waiting: { warn: 1, alarm: 1000001 } }\n",
                 "model.yaml:5:46: queue 'sales': thresholds: waiting: alarm: expected an "
                 "integer from 1 to 1000000, got '1000001'");
    EXPECT_ERROR(BASE "    thresholds: { longest_wait: { warn: 31d } }\n",
                 "model.yaml:5:41: queue 'sales': thresholds: longest_wait: warn: expected a "
                 "duration from 1s to 720h (such as 20s, 15m or 2h), got '31d'");
}

static void error_threshold_order(void **state)
{
    F;
    EXPECT_ERROR(BASE "    thresholds: { service_level: { warn: 60, alarm: 80 } }\n",
                 "model.yaml:5:53: queue 'sales': thresholds: service_level: alarm 80 must be "
                 "below warn 60 (a lower service level is worse)");
    EXPECT_ERROR(BASE "    thresholds: { waiting: { warn: 10, alarm: 10 } }\n",
                 "model.yaml:5:47: queue 'sales': thresholds: waiting: alarm 10 must be above "
                 "warn 10 (more contacts waiting is worse)");
    EXPECT_ERROR(BASE "    thresholds: { longest_wait: { warn: 2m, alarm: 90s } }\n",
                 "model.yaml:5:52: queue 'sales': thresholds: longest_wait: alarm 90s must be "
                 "above warn 2m (a longer wait is worse)");
    EXPECT_ERROR(
        "version: 1\n"
        "defaults:\n"
        "  thresholds: { service_level: { warn: 80, alarm: 90 } }\n"
        "queues: {}\n",
        "model.yaml:3:51: defaults: thresholds: service_level: alarm 90 must be below "
        "warn 80 (a lower service level is worse)");
}

static void error_threshold_shape(void **state)
{
    F;
    EXPECT_ERROR(
        BASE "    thresholds: { queue_size: { warn: 1 } }\n",
        "model.yaml:5:19: queue 'sales': thresholds: unknown key 'queue_size' (expected "
        "one of: service_level, waiting, longest_wait)");
    EXPECT_ERROR(BASE "    thresholds: { waiting: { warn: 1, critical: 2 } }\n",
                 "model.yaml:5:39: queue 'sales': thresholds: waiting: unknown key 'critical' "
                 "(expected one of: warn, alarm)");
    EXPECT_ERROR(BASE "    thresholds: high\n",
                 "model.yaml:5:17: queue 'sales': thresholds: expected a mapping, got 'high'");
    EXPECT_ERROR(BASE "    thresholds: { waiting: 5 }\n",
                 "model.yaml:5:28: queue 'sales': thresholds: waiting: expected a mapping, got "
                 "'5'");
    EXPECT_ERROR(
        "version: 1\n"
        "defaults: { thresholds: { wait: { warn: 1m } } }\n"
        "queues: {}\n",
        "model.yaml:2:27: defaults: thresholds: unknown key 'wait' (expected one of: "
        "service_level, waiting, longest_wait)");
}

/* After an error in one queue's thresholds, the next queue's messages name it alone. */
static void subject_is_restored(void **state)
{
    F;
    EXPECT_ERROR(
        "version: 1\n"
        "queues:\n"
        "  a: { channels: voice, thresholds: { waiting: { warn: 1 } } }\n"
        "  b: { channels: voice, max_size: lots }\n",
        "model.yaml:4:35: queue 'b': max_size: expected an integer from 0 to 1000000, "
        "got 'lots'");
    EXPECT_ERROR(
        "version: 1\n"
        "defaults: { thresholds: { waiting: { warn: 1 } }, wrapup: 2h }\n"
        "queues: {}\n",
        "model.yaml:2:59: defaults: wrapup: expected a duration from 0s to 1h (such as "
        "20s, 15m or 2h), got '2h'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_queue_gives_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(builtin_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(edges, setup, teardown),
        cmocka_unit_test_setup_teardown(queues_inherit_from_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(the_report_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(the_model_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(error_service_level, setup, teardown),
        cmocka_unit_test_setup_teardown(error_threshold_values, setup, teardown),
        cmocka_unit_test_setup_teardown(error_threshold_order, setup, teardown),
        cmocka_unit_test_setup_teardown(error_threshold_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(subject_is_restored, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
