/* The routing model's continuity section: fault rules and escalation paths as the model
 * holds them, their defaults, and each error with its file:line:column. */
#include "config_fixture.h"

#include "common/buf.h"

#define PARSE(text) PARSE_N((text), strlen(text))
/* Parses text, expects exactly msg, and checks that nothing was handed out. */
#define EXPECT_ERROR(text, msg)                   \
    do {                                          \
        PARSE(text);                              \
        ASSERT_ERROR(msg);                        \
        assert_int_equal(f->m->n_fault_rules, 0); \
        assert_null(f->m->fault_rules);           \
        assert_int_equal(f->m->n_escalations, 0); \
        assert_null(f->m->escalations);           \
    } while (0)
#define SEV(s) (1u << ENGINE_SEVERITY_##s)
#define PATH(i) (&f->m->escalations[(i)])

/* The smallest valid model; the continuity section starts on line 5. */
#define BASE       \
    "version: 1\n" \
    "queues:\n"    \
    "  sales:\n"   \
    "    channels: voice\n"

#define RULES "continuity:\n  faults:\n"
#define PATHS "continuity:\n  escalation:\n"
#define LEVEL0 "{ after: 0s, notify: [ { email: a@b } ] }"
#define PLATFORM "    - { name: platform, levels: [ " LEVEL0 " ] }\n"
#define SIGNAL_MSG "signal: dotted names, '*' for any one part (member.*.reachable)"
#define WEBHOOK_MSG "escalation 'platform': webhook: expected http://ADDRESS:PORT/PATH"
#define EMAIL_MSG "escalation 'platform': email: expected an address such as oncall@example.com"
#define ONE_OF_MSG "escalation 'platform': expected one of webhook: URL or email: ADDRESS"
#define LATER_MSG "escalation 'platform': after: each level comes later than the one before"

/* One path around a level the test gives, on line 9 from column 11. */
#define ONE_LEVEL(level)          \
    BASE "continuity:\n"          \
         "  escalation:\n"        \
         "    - name: platform\n" \
         "      levels:\n"        \
         "        - " level "\n"

static const char full[] = BASE
    "continuity:\n"
    "  faults:\n"
    "    - { signal: \"member.*.reachable\", when: bad, severity: major, kind: member_lost }\n"
    "    - { signal: \"app.*.latency\", when: warn, severity: minor }\n"
    "  escalation:\n"
    "    - name: platform\n"
    "      severities: [major]\n"
    "      components: [\"node:*\", cluster]\n"
    "      levels:\n"
    "        - after: 0s\n"
    "          notify:\n"
    "            - webhook: \"http://10.0.0.5:9000/page\"\n"
    "            - email: oncall@example.com\n"
    "        - { after: 10m, notify: [ { email: \"head-of-ops@example.com\" } ] }\n"
    "    - name: vendor\n"
    "      severities: [minor, major]\n"
    "      components: [\"store:*\"]\n"
    "      levels:\n"
    "        - { after: 1h, notify: [ { webhook: \"http://192.0.2.7/support\" } ] }\n";

/* ---- Valid documents -------------------------------------------------------------------- */

static void a_full_section(void **state)
{
    F;
    PARSE(full);
    ASSERT_OK;
    assert_int_equal(f->m->n_fault_rules, 2);
    const struct engine_fault_rule_def *r = f->m->fault_rules;
    assert_string_equal(r[0].signal, "member.*.reachable");
    assert_int_equal(r[0].state, ENGINE_SIGNAL_BAD);
    assert_int_equal(r[0].severity, ENGINE_SEVERITY_MAJOR);
    assert_string_equal(r[0].kind, "member_lost");
    assert_string_equal(r[1].signal, "app.*.latency");
    assert_int_equal(r[1].state, ENGINE_SIGNAL_WARN);
    assert_int_equal(r[1].severity, ENGINE_SEVERITY_MINOR);
    assert_string_equal(r[1].kind, "");
    assert_int_equal(f->m->n_escalations, 2);
    const struct engine_escalation_path *p = PATH(0);
    assert_string_equal(p->name, "platform");
    assert_int_equal(p->severities, SEV(MAJOR));
    assert_int_equal(p->n_components, 2);
    assert_string_equal(p->components[0], "node:*");
    assert_string_equal(p->components[1], "cluster");
    assert_int_equal(p->n_levels, 2);
    assert_int_equal(p->levels[0].after_s, 0);
    assert_int_equal(p->levels[0].n_to, 2);
    assert_int_equal(p->levels[0].to[0].kind, ENGINE_NOTIFY_WEBHOOK);
    assert_string_equal(p->levels[0].to[0].address, "http://10.0.0.5:9000/page");
    assert_int_equal(p->levels[0].to[1].kind, ENGINE_NOTIFY_EMAIL);
    assert_string_equal(p->levels[0].to[1].address, "oncall@example.com");
    assert_int_equal(p->levels[1].after_s, 600);
    assert_int_equal(p->levels[1].n_to, 1);
    assert_int_equal(p->levels[1].to[0].kind, ENGINE_NOTIFY_EMAIL);
    assert_string_equal(p->levels[1].to[0].address, "head-of-ops@example.com");
    p = PATH(1);
    assert_string_equal(p->name, "vendor");
    assert_int_equal(p->severities, SEV(MINOR) | SEV(MAJOR));
    assert_int_equal(p->n_components, 1);
    assert_string_equal(p->components[0], "store:*");
    assert_int_equal(p->n_levels, 1);
    assert_int_equal(p->levels[0].after_s, 3600);
    assert_int_equal(p->levels[0].to[0].kind, ENGINE_NOTIFY_WEBHOOK);
    assert_string_equal(p->levels[0].to[0].address, "http://192.0.2.7/support");
    assert_int_equal(engine_model_validate(f->m, f->err, sizeof(f->err)), 0);
}

static void defaults(void **state)
{
    F;
    PARSE(ONE_LEVEL("{ after: 5m, notify: [ { email: a@b } ] }"));
    ASSERT_OK;
    assert_int_equal(f->m->n_fault_rules, 0);
    assert_int_equal(f->m->n_escalations, 1);
    assert_int_equal(PATH(0)->severities, SEV(MINOR) | SEV(MAJOR));
    assert_int_equal(PATH(0)->n_components, 0);
    assert_int_equal(PATH(0)->levels[0].after_s, 300);
    config_model_close(&f->cm);
    /* no section, or an empty one: no rules and no paths */
    PARSE(BASE);
    ASSERT_OK;
    assert_int_equal(f->m->n_fault_rules, 0);
    assert_null(f->m->fault_rules);
    assert_int_equal(f->m->n_escalations, 0);
    assert_null(f->m->escalations);
    config_model_close(&f->cm);
    PARSE(BASE "continuity: { faults: [], escalation: [] }\n");
    ASSERT_OK;
    assert_int_equal(f->m->n_fault_rules, 0);
    assert_int_equal(f->m->n_escalations, 0);
    config_model_close(&f->cm);
    /* a severity given twice counts once; a path may take minor faults only */
    PARSE(BASE PATHS "    - { name: p, severities: [minor, minor], levels: [ " LEVEL0 " ] }\n");
    ASSERT_OK;
    assert_int_equal(PATH(0)->severities, SEV(MINOR));
}

/* The example of docs/config.md. */
static void the_documented_example(void **state)
{
    F;
    PARSE(BASE
          "continuity:\n"
          "  faults:\n"
          "    - { signal: \"member.*.reachable\", when: bad, severity: major, kind: "
          "member_lost }\n"
          "    - { signal: \"node.*.disk_free\", when: warn, severity: major }\n"
          "  escalation:\n"
          "    - name: platform\n"
          "      severities: [major, minor]      # default: both\n"
          "      levels:\n"
          "        - after: 0s\n"
          "          notify: [ { webhook: \"http://10.0.0.5:9000/page\" }, { email: "
          "\"oncall@centre.example\" } ]\n"
          "        - after: 15m                  # nobody acknowledged it by then\n"
          "          notify: [ { email: \"head-of-ops@centre.example\" } ]\n"
          "    - name: storage-vendor\n"
          "      components: [\"node:*\"]          # default: every component\n"
          "      levels:\n"
          "        - { after: 30m, notify: [ { email: \"support@vendor.example\" } ] }\n");
    ASSERT_OK;
    assert_int_equal(f->m->n_fault_rules, 2);
    assert_string_equal(f->m->fault_rules[1].kind, "");
    assert_int_equal(f->m->n_escalations, 2);
    assert_int_equal(PATH(0)->levels[1].after_s, 900);
    assert_string_equal(PATH(1)->name, "storage-vendor");
    assert_int_equal(PATH(1)->severities, SEV(MINOR) | SEV(MAJOR));
    assert_string_equal(PATH(1)->levels[0].to[0].address, "support@vendor.example");
}

/* The section goes into the engine's binary form and back. */
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
    assert_int_equal(b.data[0], 5);
    cd_reader_init(&r, b.data, b.len);
    assert_int_equal(engine_model_decode(&r, &back), 0);
    assert_int_equal(back.n_fault_rules, 2);
    assert_int_equal(back.n_escalations, 2);
    assert_string_equal(back.escalations[1].levels[0].to[0].address,
                        "http://192.0.2.7/support");
    assert_int_equal(engine_model_encode(&back, &again), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    engine_model_close(&back);
    cd_buf_close(&again);
    cd_buf_close(&b);
}

/* ---- Errors --------------------------------------------------------------------------- */

static void error_keys(void **state)
{
    F;
    EXPECT_ERROR(
        BASE "continuity: { faults: [], runbook: x }\n",
        "model.yaml:5:27: unknown key 'runbook' (expected one of: faults, escalation)");
    EXPECT_ERROR(BASE "continuity: [faults]\n",
                 "model.yaml:5:13: continuity: expected a mapping, got a list");
    EXPECT_ERROR(BASE "continuity: { faults: { signal: a } }\n",
                 "model.yaml:5:23: faults: expected a list, got a mapping");
    EXPECT_ERROR(BASE RULES "    - { signal: a.b, when: bad, severity: major, level: 2 }\n",
                 "model.yaml:7:50: continuity fault rule 1: unknown key 'level' (expected one "
                 "of: signal, when, severity, kind)");
    EXPECT_ERROR(BASE RULES "    - { signal: a.b, severity: major }\n",
                 "model.yaml:7:7: continuity fault rule 1: missing key 'when'");
    EXPECT_ERROR(BASE PATHS "    - { name: p, levels: [], owner: x }\n",
                 "model.yaml:7:30: continuity: unknown key 'owner' (expected one of: name, "
                 "severities, components, levels)");
    EXPECT_ERROR(ONE_LEVEL("{ after: 0s, notify: [ { email: a@b } ], repeat: 2 }"),
                 "model.yaml:9:52: escalation 'platform': unknown key 'repeat' (expected one "
                 "of: after, notify)");
    EXPECT_ERROR(ONE_LEVEL("{ notify: [ { email: a@b } ] }"),
                 "model.yaml:9:11: escalation 'platform': missing key 'after'");
}

static void error_rules(void **state)
{
    F;
    EXPECT_ERROR(BASE RULES "    - { signal: a.b, when: ok, severity: major }\n",
                 "model.yaml:7:28: continuity fault rule 1: when: expected warn or bad");
    EXPECT_ERROR(BASE RULES "    - { signal: a.b, when: bad, severity: huge }\n",
                 "model.yaml:7:43: continuity fault rule 1: severity: expected major or minor");
    EXPECT_ERROR(BASE RULES "    - { signal: member..x, when: bad, severity: minor }\n",
                 "model.yaml:7:17: continuity fault rule 1: " SIGNAL_MSG);
    EXPECT_ERROR(BASE RULES
                 "    - { signal: a.b, when: bad, severity: minor }\n"
                 "    - { signal: \"a.b c\", when: bad, severity: minor }\n",
                 "model.yaml:8:17: continuity fault rule 2: " SIGNAL_MSG);
    EXPECT_ERROR(BASE RULES
                 "    - { signal: a.b, when: bad, severity: minor, kind: \"two words\" }\n",
                 "model.yaml:7:56: continuity fault rule 1: kind: 'two words' is not a valid "
                 "name (use letters, digits and - _ . / + : @)");
    put(f, "%s", BASE RULES);
    for (int i = 0; i <= ENGINE_FAULT_RULES_MAX; i++) {
        put(f, "    - { signal: s.n%d, when: bad, severity: minor }\n", i);
    }
    PARSE_PUT();
    ASSERT_ERROR("model.yaml:7:5: faults: at most 32 rules");
    assert_null(f->m->fault_rules);
}

static void error_addresses(void **state)
{
    F;
    EXPECT_ERROR(ONE_LEVEL("{ after: 0s, notify: [ { webhook: \"https://10.0.0.5/page\" } ] }"),
                 "model.yaml:9:45: " WEBHOOK_MSG);
    EXPECT_ERROR(ONE_LEVEL("{ after: 0s, notify: [ { webhook: \"http://\" } ] }"),
                 "model.yaml:9:45: " WEBHOOK_MSG);
    EXPECT_ERROR(ONE_LEVEL("{ after: 0s, notify: [ { email: oncall.example.com } ] }"),
                 "model.yaml:9:43: " EMAIL_MSG);
    EXPECT_ERROR(ONE_LEVEL("{ after: 0s, notify: [ { email: \"a@b@c\" } ] }"),
                 "model.yaml:9:43: " EMAIL_MSG);
    EXPECT_ERROR(ONE_LEVEL("{ after: 0s, notify: [ { webhook: \"http://a/\", email: a@b } ] }"),
                 "model.yaml:9:34: " ONE_OF_MSG);
    EXPECT_ERROR(ONE_LEVEL("{ after: 0s, notify: [ {} ] }"), "model.yaml:9:34: " ONE_OF_MSG);
    EXPECT_ERROR(
        ONE_LEVEL("{ after: 0s, notify: [ { pager: 123 } ] }"),
        "model.yaml:9:36: escalation 'platform': unknown key 'pager' (expected one of: "
        "webhook, email)");
    EXPECT_ERROR(ONE_LEVEL("{ after: 0s, notify: [ { email: a@b }, { email: c@d }, { email: "
                           "e@f }, { email: g@h }, { email: i@j } ] }"),
                 "model.yaml:9:32: escalation 'platform': notify: 1 to 4 addresses");
    EXPECT_ERROR(ONE_LEVEL("{ after: 0s, notify: [] }"),
                 "model.yaml:9:32: escalation 'platform': notify: 1 to 4 addresses");
}

static void error_paths(void **state)
{
    F;
    EXPECT_ERROR(ONE_LEVEL("{ after: 10m, notify: [ { email: a@b } ] }\n"
                           "        - { after: 5m, notify: [ { email: c@d } ] }"),
                 "model.yaml:10:11: " LATER_MSG);
    EXPECT_ERROR(ONE_LEVEL("{ after: 10m, notify: [ { email: a@b } ] }\n"
                           "        - { after: 600s, notify: [ { email: c@d } ] }"),
                 "model.yaml:10:11: " LATER_MSG);
    EXPECT_ERROR(
        ONE_LEVEL("{ after: 8d, notify: [ { email: a@b } ] }"),
        "model.yaml:9:20: escalation 'platform': after: expected a duration from 0s to "
        "168h (such as 20s, 15m or 2h), got '8d'");
    EXPECT_ERROR(BASE PATHS PLATFORM PLATFORM,
                 "model.yaml:8:15: continuity: escalation 'platform' is given twice");
    EXPECT_ERROR(BASE PATHS "    - { name: p, severities: [], levels: [] }\n",
                 "model.yaml:7:30: escalation 'p': severities: at least one");
    EXPECT_ERROR(BASE PATHS "    - { name: p, severities: [critical], levels: [] }\n",
                 "model.yaml:7:31: escalation 'p': severities: expected major or minor");
    EXPECT_ERROR(BASE PATHS "    - { name: p, components: [a, b, c, d, e], levels: [] }\n",
                 "model.yaml:7:30: escalation 'p': components: at most 4 patterns");
    EXPECT_ERROR(BASE PATHS "    - { name: p, levels: [] }\n",
                 "model.yaml:7:26: escalation 'p': levels: 1 to 4");
    EXPECT_ERROR(BASE PATHS "    - { name: \"a b\", levels: [] }\n",
                 "model.yaml:7:15: continuity: name: 'a b' is not a valid name (use letters, "
                 "digits and - _ . / + : @)");
    put(f, "%s", BASE PATHS);
    for (int i = 0; i <= ENGINE_ESCALATIONS_MAX; i++) {
        put(f, "    - { name: p%d, levels: [ " LEVEL0 " ] }\n", i);
    }
    PARSE_PUT();
    ASSERT_ERROR("model.yaml:7:5: escalation: at most 8 paths");
    assert_null(f->m->escalations);
}

/* A problem with escalation: after the fault rules names no rule; one in a path, its own. */
static void subject_is_restored(void **state)
{
    F;
    EXPECT_ERROR(BASE PATHS
                 "    - { name: a, levels: [ { after: 0s, notify: [ { email: a@b } ] } ] }\n"
                 "    - { name: b, levels: [ { after: 0s, notify: [ { email: x } ] } ] }\n",
                 "model.yaml:8:60: escalation 'b': email: expected an address such as "
                 "oncall@example.com");
    EXPECT_ERROR(BASE RULES
                 "    - { signal: a.b, when: bad, severity: minor }\n"
                 "  escalation: { name: x }\n",
                 "model.yaml:8:15: escalation: expected a list, got a mapping");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_full_section, setup, teardown),
        cmocka_unit_test_setup_teardown(defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(the_documented_example, setup, teardown),
        cmocka_unit_test_setup_teardown(the_section_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(error_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(error_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(error_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(error_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(subject_is_restored, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
