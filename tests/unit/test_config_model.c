/* config_model_parse() / config_model_load(): the routing model document, the engine
 * structs it produces, and the exact message of every class of error. */
#include "config_fixture.h"

#define PARSE(text) PARSE_N((text), strlen(text))
/* Parses text, expects exactly msg, and checks that nothing was handed out. */
#define EXPECT_ERROR(text, msg)              \
    do {                                     \
        PARSE(text);                         \
        ASSERT_ERROR(msg);                   \
        assert_int_equal(f->m->n_queues, 0); \
        assert_null(f->m->queues);           \
    } while (0)
#define LEVEL(s, sk, lv)                   \
    do {                                   \
        assert_int_equal((s).skill, (sk)); \
        assert_int_equal((s).level, (lv)); \
    } while (0)
#define INTERVAL(d, i, from, to)                        \
    do {                                                \
        assert_int_equal((d).iv[(i)].from_min, (from)); \
        assert_int_equal((d).iv[(i)].to_min, (to));     \
    } while (0)
#define COND(r, i) (&f->m->rules[(r)].conds[(i)])

/* The smallest valid model; error tests append lines to it. Line 5 is the last. */
#define BASE                    \
    "version: 1\n"              \
    "skills: [sales, french]\n" \
    "queues:\n"                 \
    "  sales:\n"                \
    "    channels: voice\n"

static const char full_model[] =
    "version: 1\n"
    "skills: [sales, support, french, vip]\n"
    "defaults:\n"
    "  zone: Europe/London\n"
    "  ring_timeout: 25s\n"
    "  wrapup: 10s\n"
    "  max_wait: 5m\n"
    "  service_level: { target: 30s, percent: 85 }\n"
    "  capacity: { voice: 1, chat: 2 }\n"
    "  blocks: { voice: [chat], chat: [] }\n"
    "  rna_reason: missed\n"
    "hours:\n"
    "  uk:\n"
    "    weekdays: [\"08:00-12:00\", \"13:00-18:00\"]\n"
    "    friday: \"08:00-16:00\"\n"
    "    saturday: closed\n"
    "    holidays:\n"
    "      - { date: 2026-12-25, name: Christmas Day }\n"
    "      - { date: 2026-12-24, hours: [\"08:00-13:00\"] }\n"
    "  lisbon:\n"
    "    zone: Europe/Lisbon\n"
    "    daily: \"00:00-24:00\"\n"
    "queues:\n"
    "  sales:\n"
    "    channels: [voice]\n"
    "    strategy: best-skill\n"
    "    service_level: { target: 20s, percent: 80 }\n"
    "    max_size: 200\n"
    "    max_wait: 15m\n"
    "    ring_timeout: 20s\n"
    "    wrapup: 30s\n"
    "    hours: uk\n"
    "    overflow: { queue: backup }\n"
    "    skills: { sales: 3, french: 2 }\n"
    "    escalation:\n"
    "      - { after: 60s, relax: 2 }\n"
    "      - { after: 3m, drop: [french], priority_boost: 1 }\n"
    "  backup:\n"
    "    channels: [voice, chat]\n"
    "    overflow: { target: \"sip:backup@site-b.example\" }\n"
    "  ring:\n"
    "    channels: voice\n"
    "    strategy: ring-all\n"
    "    hours: lisbon\n"
    "agents:\n"
    "  - { id: a1, site: london, skills: { sales: 7, french: 9 },\n"
    "      capacity: { voice: 1, chat: 3, email: 5 }, queues: [sales, backup] }\n"
    "  - { id: a2, queues: ring }\n"
    "rules:\n"
    "  - name: tag\n"
    "    set: { segment: retail, tier: \"\" }\n"
    "  - name: vip\n"
    "    when: { attribute: { tier: vip }, channel: [voice, chat] }\n"
    "    route: { queue: ring, priority: 10, skills: { vip: 5 } }\n"
    "  - name: attrs\n"
    "    when:\n"
    "      attribute:\n"
    "        lang: [fr, de]\n"
    "        acct: { prefix: [ACME-, XY], ne: ACME-1 }\n"
    "        vip: { exists: true }\n"
    "        region: { not_in: [north] }\n"
    "    route: backup\n"
    "  - name: closed\n"
    "    when: { queue_open: { queue: sales, is: false } }\n"
    "    overflow: { target: \"sip:night@site-b.example\" }\n"
    "  - name: busy\n"
    "    when: [ { queue_size: { gt: 50 } }, { agents_available: { lt: 1 } } ]\n"
    "    overflow: { queue: backup }\n"
    "  - name: wait\n"
    "    when: { ewt: { queue: sales, gt: 5m, le: 1h } }\n"
    "    callback: { queue: sales }\n"
    "  - name: night\n"
    "    when:\n"
    "      time_of_day: { from: \"18:00\", to: \"08:00\" }\n"
    "      day_of_week: [sat, sunday]\n"
    "      location: [GB, IE]\n"
    "      priority: { ge: 5 }\n"
    "    reject: { reason: closed }\n"
    "  - name: utc\n"
    "    when:\n"
    "      time_of_day: { from: \"00:00\", to: \"24:00\", zone: Etc/UTC }\n"
    "      day_of_week: { days: weekdays, zone: Europe/Lisbon }\n"
    "      queue_open: false\n"
    "      location: { not_in: [FR] }\n"
    "    route: sales\n";

/* ---- Valid documents -------------------------------------------------------------------- */

static void skills_zones_defaults(void **state)
{
    F;
    PARSE(full_model);
    ASSERT_OK;
    assert_int_equal(f->m->n_skills, 4);
    assert_string_equal(f->m->skills[0].s, "sales");
    assert_string_equal(f->m->skills[3].s, "vip");
    assert_int_equal(f->m->n_zones, 3);
    assert_string_equal(f->m->zones[0].name, "Europe/London");
    assert_string_equal(f->m->zones[1].name, "Europe/Lisbon");
    assert_string_equal(f->m->zones[2].name, "Etc/UTC");
    assert_true(f->m->zones[0].n_transitions > 200);
    assert_int_equal(f->m->blocks[ENGINE_CH_VOICE], ENGINE_CH_BIT(ENGINE_CH_CHAT));
    assert_int_equal(f->m->blocks[ENGINE_CH_CHAT], 0);
    assert_int_equal(f->m->blocks[ENGINE_CH_EMAIL], 0);
    assert_string_equal(f->m->rna_reason, "missed");
}

static void hours_and_holidays(void **state)
{
    F;
    PARSE(full_model);
    ASSERT_OK;
    assert_int_equal(f->m->n_hours, 2);
    const struct engine_hours *uk = &f->m->hours[0];
    assert_string_equal(uk->name, "uk");
    assert_int_equal(uk->zone, 0);
    for (int d = 0; d < 4; d++) {
        assert_int_equal(uk->week[d].n, 2);
        INTERVAL(uk->week[d], 0, 480, 720);
        INTERVAL(uk->week[d], 1, 780, 1080);
    }
    assert_int_equal(uk->week[4].n, 1); /* friday overrides weekdays */
    INTERVAL(uk->week[4], 0, 480, 960);
    assert_int_equal(uk->week[5].n, 0);
    assert_int_equal(uk->week[6].n, 0);
    assert_int_equal(uk->n_holidays, 2);
    assert_int_equal(uk->holidays[0].date, 20811); /* 2026-12-24, sorted first */
    assert_int_equal(uk->holidays[0].hours.n, 1);
    INTERVAL(uk->holidays[0].hours, 0, 480, 780);
    assert_int_equal(uk->holidays[1].date, 20812);
    assert_int_equal(uk->holidays[1].hours.n, 0);
    const struct engine_hours *lisbon = &f->m->hours[1];
    assert_int_equal(lisbon->zone, 1);
    for (int d = 0; d < 7; d++) {
        INTERVAL(lisbon->week[d], 0, 0, 1440);
    }
}

static void queues(void **state)
{
    F;
    PARSE(full_model);
    ASSERT_OK;
    assert_int_equal(f->m->n_queues, 3);
    const struct engine_queue *q = &f->m->queues[0];
    assert_string_equal(q->name, "sales");
    assert_int_equal(q->channels, ENGINE_CH_BIT(ENGINE_CH_VOICE));
    assert_int_equal(q->strategy, ENGINE_STRATEGY_BEST_SKILL);
    assert_int_equal(q->sl_target_s, 20);
    assert_int_equal(q->sl_percent, 80);
    assert_int_equal(q->max_size, 200);
    assert_int_equal(q->max_wait_s, 900);
    assert_int_equal(q->ring_s, 20);
    assert_int_equal(q->wrapup_s, 30);
    assert_int_equal(q->hours, 0);
    assert_int_equal(q->overflow_queue, 1);
    assert_int_equal(q->n_skills, 2);
    LEVEL(q->skills[0], 0, 3);
    LEVEL(q->skills[1], 2, 2);
    assert_int_equal(q->n_steps, 2);
    assert_int_equal(q->steps[0].after_s, 60);
    assert_int_equal(q->steps[0].relax, 2);
    assert_int_equal(q->steps[0].n_drop, 0);
    assert_int_equal(q->steps[1].after_s, 180);
    assert_int_equal(q->steps[1].priority_boost, 1);
    assert_int_equal(q->steps[1].n_drop, 1);
    assert_int_equal(q->steps[1].drop[0], 2);
}

static void queue_defaults(void **state)
{
    F;
    PARSE(full_model);
    ASSERT_OK;
    const struct engine_queue *q = &f->m->queues[1];
    assert_int_equal(q->channels,
                     ENGINE_CH_BIT(ENGINE_CH_VOICE) | ENGINE_CH_BIT(ENGINE_CH_CHAT));
    assert_int_equal(q->strategy, ENGINE_STRATEGY_LONGEST_IDLE);
    assert_int_equal(q->sl_target_s, 30);
    assert_int_equal(q->sl_percent, 85);
    assert_int_equal(q->max_size, 0);
    assert_int_equal(q->max_wait_s, 300);
    assert_int_equal(q->ring_s, 25);
    assert_int_equal(q->wrapup_s, 10);
    assert_int_equal(q->hours, -1);
    assert_int_equal(q->overflow_queue, -1);
    assert_string_equal(q->overflow_target, "sip:backup@site-b.example");
    assert_int_equal(f->m->queues[2].strategy, ENGINE_STRATEGY_RING_ALL);
    assert_int_equal(f->m->queues[2].hours, 1);
}

static void builtin_defaults(void **state)
{
    F;
    PARSE(BASE "agents:\n  - { id: a1, queues: [sales] }\n");
    ASSERT_OK;
    const struct engine_queue *q = &f->m->queues[0];
    assert_int_equal(q->ring_s, 20);
    assert_int_equal(q->wrapup_s, 0);
    assert_int_equal(q->sl_target_s, 20);
    assert_int_equal(q->sl_percent, 80);
    assert_int_equal(f->m->blocks[ENGINE_CH_VOICE],
                     ENGINE_CH_ALL & ~ENGINE_CH_BIT(ENGINE_CH_VOICE));
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        assert_int_equal(f->m->agents[0].capacity[ch], 1);
    }
    assert_int_equal(f->m->n_rules, 0);
    assert_int_equal(f->m->n_zones, 0);
    assert_string_equal(f->m->rna_reason, "");
}

static void agents(void **state)
{
    F;
    PARSE(full_model);
    ASSERT_OK;
    assert_int_equal(f->m->n_agents, 2);
    const struct engine_agent_def *a = &f->m->agents[0];
    assert_string_equal(a->name, "a1");
    assert_string_equal(a->site, "london");
    assert_int_equal(a->capacity[ENGINE_CH_VOICE], 1);
    assert_int_equal(a->capacity[ENGINE_CH_EMAIL], 5);
    assert_int_equal(a->capacity[ENGINE_CH_SMS], 0);
    assert_int_equal(a->capacity[ENGINE_CH_CHAT], 3);
    assert_int_equal(a->n_skills, 2);
    LEVEL(a->skills[0], 0, 7);
    LEVEL(a->skills[1], 2, 9);
    assert_int_equal(a->n_queues, 2);
    assert_int_equal(a->queues[0], 0);
    assert_int_equal(a->queues[1], 1);
    a = &f->m->agents[1];
    assert_string_equal(a->site, "");
    assert_int_equal(a->capacity[ENGINE_CH_VOICE], 1); /* defaults.capacity */
    assert_int_equal(a->capacity[ENGINE_CH_CHAT], 2);
    assert_int_equal(a->capacity[ENGINE_CH_EMAIL], 0);
    assert_int_equal(a->n_queues, 1);
    assert_int_equal(a->queues[0], 2);
}

static void rule_actions(void **state)
{
    F;
    PARSE(full_model);
    ASSERT_OK;
    assert_int_equal(f->m->n_rules, 8);
    const struct engine_action *a = &f->m->rules[0].action;
    assert_string_equal(f->m->rules[0].name, "tag");
    assert_int_equal(a->kind, ENGINE_ACTION_SET);
    assert_int_equal(a->queue, -1);
    assert_int_equal(a->n_set, 2);
    assert_string_equal(a->set[0].key, "segment");
    assert_string_equal(a->set[0].value, "retail");
    assert_string_equal(a->set[1].value, "");
    a = &f->m->rules[1].action;
    assert_int_equal(a->kind, ENGINE_ACTION_ROUTE);
    assert_int_equal(a->queue, 2);
    assert_true(a->has_priority);
    assert_int_equal(a->priority, 10);
    assert_int_equal(a->n_skills, 1);
    LEVEL(a->skills[0], 3, 5);
    assert_false(f->m->rules[2].action.has_priority);
    assert_int_equal(f->m->rules[2].action.queue, 1);
    a = &f->m->rules[3].action;
    assert_int_equal(a->kind, ENGINE_ACTION_OVERFLOW);
    assert_int_equal(a->queue, -1);
    assert_string_equal(a->target, "sip:night@site-b.example");
    assert_int_equal(f->m->rules[4].action.kind, ENGINE_ACTION_OVERFLOW);
    assert_int_equal(f->m->rules[4].action.queue, 1);
    assert_int_equal(f->m->rules[5].action.kind, ENGINE_ACTION_CALLBACK);
    assert_int_equal(f->m->rules[5].action.queue, 0);
    a = &f->m->rules[6].action;
    assert_int_equal(a->kind, ENGINE_ACTION_REJECT);
    assert_string_equal(a->reason, "closed");
}

static void attribute_conditions(void **state)
{
    F;
    PARSE(full_model);
    ASSERT_OK;
    assert_int_equal(f->m->rules[0].n_conds, 0);
    assert_int_equal(f->m->rules[1].n_conds, 2);
    assert_int_equal(COND(1, 0)->kind, ENGINE_COND_ATTR);
    assert_string_equal(COND(1, 0)->key, "tier");
    assert_int_equal(COND(1, 0)->op, ENGINE_OP_EQ);
    assert_int_equal(COND(1, 0)->n_values, 1);
    assert_string_equal(COND(1, 0)->values[0], "vip");
    assert_int_equal(COND(1, 1)->kind, ENGINE_COND_CHANNEL);
    assert_int_equal(COND(1, 1)->channels,
                     ENGINE_CH_BIT(ENGINE_CH_VOICE) | ENGINE_CH_BIT(ENGINE_CH_CHAT));
    assert_int_equal(f->m->rules[2].n_conds, 5);
    assert_int_equal(COND(2, 0)->op, ENGINE_OP_IN);
    assert_int_equal(COND(2, 0)->n_values, 2);
    assert_string_equal(COND(2, 0)->values[1], "de");
    assert_string_equal(COND(2, 1)->key, "acct");
    assert_int_equal(COND(2, 1)->op, ENGINE_OP_PREFIX);
    assert_string_equal(COND(2, 1)->values[0], "ACME-");
    assert_int_equal(COND(2, 2)->op, ENGINE_OP_NE);
    assert_string_equal(COND(2, 2)->values[0], "ACME-1");
    assert_int_equal(COND(2, 3)->op, ENGINE_OP_EXISTS);
    assert_int_equal(COND(2, 3)->n_values, 0);
    assert_int_equal(COND(2, 4)->op, ENGINE_OP_NOT_IN);
}

static void queue_conditions(void **state)
{
    F;
    PARSE(full_model);
    ASSERT_OK;
    assert_int_equal(COND(3, 0)->kind, ENGINE_COND_QUEUE_OPEN);
    assert_int_equal(COND(3, 0)->queue, 0);
    assert_int_equal(COND(3, 0)->number, 0);
    assert_int_equal(COND(4, 0)->kind, ENGINE_COND_QUEUE_SIZE);
    assert_int_equal(COND(4, 0)->op, ENGINE_OP_GT);
    assert_int_equal(COND(4, 0)->number, 50);
    assert_int_equal(COND(4, 0)->queue, -1);
    assert_int_equal(COND(4, 1)->kind, ENGINE_COND_AGENTS_AVAILABLE);
    assert_int_equal(COND(4, 1)->op, ENGINE_OP_LT);
    assert_int_equal(COND(4, 1)->number, 1);
    assert_int_equal(f->m->rules[5].n_conds, 2);
    assert_int_equal(COND(5, 0)->kind, ENGINE_COND_EWT);
    assert_int_equal(COND(5, 0)->op, ENGINE_OP_GT);
    assert_int_equal(COND(5, 0)->number, 300);
    assert_int_equal(COND(5, 0)->queue, 0);
    assert_int_equal(COND(5, 1)->op, ENGINE_OP_LE);
    assert_int_equal(COND(5, 1)->number, 3600);
    assert_int_equal(COND(7, 2)->kind, ENGINE_COND_QUEUE_OPEN);
    assert_int_equal(COND(7, 2)->queue, -1);
    assert_int_equal(COND(7, 2)->number, 0);
}

static void time_and_location_conditions(void **state)
{
    F;
    PARSE(full_model);
    ASSERT_OK;
    assert_int_equal(COND(6, 0)->kind, ENGINE_COND_TIME_OF_DAY);
    assert_int_equal(COND(6, 0)->from_min, 1080);
    assert_int_equal(COND(6, 0)->to_min, 480);
    assert_int_equal(COND(6, 0)->zone, 0); /* defaults.zone */
    assert_int_equal(COND(6, 1)->kind, ENGINE_COND_DAY_OF_WEEK);
    assert_int_equal(COND(6, 1)->days, 0x60);
    assert_int_equal(COND(6, 2)->kind, ENGINE_COND_LOCATION);
    assert_int_equal(COND(6, 2)->op, ENGINE_OP_IN);
    assert_string_equal(COND(6, 2)->values[1], "IE");
    assert_int_equal(COND(6, 3)->kind, ENGINE_COND_PRIORITY);
    assert_int_equal(COND(6, 3)->op, ENGINE_OP_GE);
    assert_int_equal(COND(6, 3)->number, 5);
    assert_int_equal(COND(7, 0)->to_min, 1440);
    assert_int_equal(COND(7, 0)->zone, 2);
    assert_int_equal(COND(7, 1)->days, 0x1f);
    assert_int_equal(COND(7, 1)->zone, 1);
    assert_int_equal(COND(7, 3)->op, ENGINE_OP_NOT_IN);
}

static void personal_keys(void **state)
{
    F;
    EXPECT_ERROR(BASE "personal: [phone, phone]\n",
                 "model.yaml:6:19: personal: key 'phone' is listed twice");
    EXPECT_ERROR(BASE "personal: phone\n",
                 "model.yaml:6:11: personal: expected a list, got 'phone'");
    EXPECT_ERROR(BASE "personal: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q]\n",
                 "model.yaml:6:11: personal: more than 16 keys");
    EXPECT_ERROR(BASE "personal: [\"e mail\"]\n",
                 "model.yaml:6:12: 'e mail' is not a valid name (use letters, digits and - _ . "
                 "/ + : @)");
    PARSE(BASE "personal: [phone, email, name]\n");
    ASSERT_OK;
    assert_int_equal(f->m->n_personal, 3);
    assert_string_equal(f->m->personal[0], "phone");
    assert_string_equal(f->m->personal[2], "name");
}

static void time_condition_without_zone_is_utc(void **state)
{
    F;
    PARSE(BASE
          "rules:\n  - { name: r, when: { time_of_day: { from: \"09:00\", to: \"17:00\" } },"
          " route: sales }\n");
    ASSERT_OK;
    assert_int_equal(COND(0, 0)->zone, -1);
    assert_int_equal(f->m->n_zones, 0);
}

static void anchors_and_aliases(void **state)
{
    F;
    PARSE(BASE
          "agents:\n"
          "  - { id: a1, skills: &sk { sales: 4, french: 6 }, queues: [sales] }\n"
          "  - { id: a2, skills: *sk, queues: [sales] }\n");
    ASSERT_OK;
    assert_int_equal(f->m->agents[1].n_skills, 2);
    LEVEL(f->m->agents[1].skills[1], 1, 6);
}

static void sample_model_loads(void **state)
{
    F;
    f->rv = config_model_load(CD_SOURCE_DIR "/ops/sample-model.yaml", &f->cm, f->err,
                              sizeof(f->err));
    ASSERT_OK;
    assert_true(f->m->n_agents >= 50);
    assert_true(f->m->n_queues >= 6);
    assert_true(f->m->n_rules >= 10);
    uint8_t channels = 0;
    bool ring_all = false;
    for (uint32_t i = 0; i < f->m->n_queues; i++) {
        channels |= f->m->queues[i].channels;
        ring_all |= f->m->queues[i].strategy == ENGINE_STRATEGY_RING_ALL;
    }
    assert_int_equal(channels, ENGINE_CH_ALL);
    assert_true(ring_all);
    assert_true(f->m->n_zones >= 2);
    assert_string_equal(f->m->zones[f->m->report_zone].name, "Europe/London");
    int vip = engine_model_queue(f->m, "vip-voice");
    int sales = engine_model_queue(f->m, "sales-voice");
    assert_true(vip >= 0 && sales >= 0);
    assert_int_equal(f->m->queues[sales].sl_formula, ENGINE_SL_SHORT_EXCLUDED);
    assert_int_equal(f->m->queues[sales].short_abandon_s, 5);
    assert_int_equal(f->m->queues[sales].thresholds.sl_warn, 80);
    assert_int_equal(f->m->queues[vip].thresholds.sl_warn, 90);
    assert_int_equal(f->m->queues[vip].thresholds.wait_alarm_s, 300);
    assert_int_equal(engine_model_validate(f->m, f->err, sizeof(f->err)), 0);
}

static void missing_file(void **state)
{
    F;
    f->rv = config_model_load("/nonexistent/model.yaml", &f->cm, f->err, sizeof(f->err));
    assert_int_equal(f->rv, CD_EIO);
    assert_string_equal(f->err,
                        "/nonexistent/model.yaml: cannot read: No such file or directory");
}

static void load_names_the_file(void **state)
{
    F;
    f->rv = config_model_load(CD_TEST_DATA "/model-unknown-skill.yaml", &f->cm, f->err,
                              sizeof(f->err));
    ASSERT_ERROR(CD_TEST_DATA
                 "/model-unknown-skill.yaml:9:25: agent 'a17': unknown skill 'frnch'");
}

static void out_unchanged_on_error(void **state)
{
    F;
    PARSE(BASE);
    ASSERT_OK;
    struct config_model before = f->cm;
    PARSE(BASE "    max_size: lots\n");
    assert_int_equal(f->rv, CD_EPARSE);
    assert_memory_equal(&before, &f->cm, sizeof(before));
}

/* ---- Errors: every class gives FILE:LINE:COLUMN: message --------------------------------- */

static void error_unknown_key(void **state)
{
    F;
    EXPECT_ERROR(BASE "    stratgy: longest-idle\n",
                 "model.yaml:6:5: queue 'sales': unknown key 'stratgy' (expected one of: "
                 "channels, strategy, service_level, thresholds, max_size, max_wait, "
                 "ring_timeout, wrapup, hours, overflow, skills, escalation, "
                 "disposition_required)");
    EXPECT_ERROR(BASE "colour: blue\n",
                 "model.yaml:6:1: unknown key 'colour' (expected one of: version, skills, "
                 "defaults, hours, queues, agents, rules, runbooks, personal, away_reasons, "
                 "dispositions, chat, continuity)");
}

static void error_wrong_type(void **state)
{
    F;
    EXPECT_ERROR(BASE "    skills: [sales]\n",
                 "model.yaml:6:13: queue 'sales': skills: expected a mapping, got a list");
    EXPECT_ERROR(BASE "agents: { id: a1 }\n",
                 "model.yaml:6:9: agents: expected a list, got a mapping");
}

static void error_out_of_range(void **state)
{
    F;
    EXPECT_ERROR(BASE "    max_size: high\n",
                 "model.yaml:6:15: queue 'sales': max_size: expected an integer from 0 to "
                 "1000000, got 'high'");
    EXPECT_ERROR(
        BASE "    skills: { french: 11 }\n",
        "model.yaml:6:23: queue 'sales': skill 'french': expected a proficiency from 1 "
        "to 10, got '11'");
    EXPECT_ERROR(BASE "    ring_timeout: 2d\n",
                 "model.yaml:6:19: queue 'sales': ring_timeout: expected a duration from 1s to "
                 "10m (such as 20s, 15m or 2h), got '2d'");
    EXPECT_ERROR(
        BASE "agents:\n  - { id: a1, capacity: { chat: 256 } }\n",
        "model.yaml:7:33: agent 'a1': chat: expected an integer from 0 to 255, got '256'");
    EXPECT_ERROR(
        BASE
        "rules:\n  - { name: r, when: { time_of_day: { from: \"25:00\", to: "
        "\"08:00\" } }, route: sales }\n",
        "model.yaml:7:45: rule 'r': from: expected a time from 00:00 to 23:59 as HH:MM, "
        "got '25:00'");
}

static void error_unknown_reference(void **state)
{
    F;
    EXPECT_ERROR(BASE "agents:\n  - { id: a17, skills: { frnch: 2 } }\n",
                 "model.yaml:7:26: agent 'a17': unknown skill 'frnch'");
    EXPECT_ERROR(BASE "agents:\n  - { id: a1, queues: [sales, salse] }\n",
                 "model.yaml:7:31: agent 'a1': unknown queue 'salse'");
    EXPECT_ERROR(BASE "    hours: office\n",
                 "model.yaml:6:12: queue 'sales': unknown hours 'office'");
    EXPECT_ERROR(BASE "hours:\n  h: { zone: Europe/Lndon }\n",
                 "model.yaml:7:14: hours 'h': unknown time zone 'Europe/Lndon'");
    EXPECT_ERROR(BASE "    escalation: [ { after: 1m, drop: [german] } ]\n",
                 "model.yaml:6:39: queue 'sales': unknown skill 'german'");
    EXPECT_ERROR(BASE "rules:\n  - { name: r, route: { queue: sales, skills: { vip: 3 } } }\n",
                 "model.yaml:7:49: rule 'r': unknown skill 'vip'");
}

static void error_duplicates(void **state)
{
    F;
    EXPECT_ERROR(BASE "  sales:\n    channels: chat\n",
                 "model.yaml:6:3: duplicate key 'sales' (first at line 4, column 3)");
    EXPECT_ERROR("version: 1\nskills: [sales, sales]\nqueues: {}\n",
                 "model.yaml:2:17: skill 'sales' is listed twice");
    EXPECT_ERROR(BASE "agents:\n  - { id: a1 }\n  - { id: a1 }\n",
                 "model.yaml:8:11: agents: agent 'a1' is defined twice");
    EXPECT_ERROR(BASE "rules:\n  - { name: r, route: sales }\n  - { name: r, route: sales }\n",
                 "model.yaml:8:13: rules: rule 'r' is defined twice");
    EXPECT_ERROR(BASE
                 "hours:\n  h:\n    zone: Etc/UTC\n    holidays:\n"
                 "      - { date: 2026-12-25 }\n      - { date: 2026-12-25 }\n",
                 "model.yaml:11:17: hours 'h': date: holiday listed twice");
}

static void error_syntax(void **state)
{
    F;
    EXPECT_ERROR(
        "version: 1\nqueues: [a\n",
        "model.yaml:3:1: syntax error: did not find expected ',' or ']' (while parsing "
        "a flow sequence that started at line 2, column 9)");
    EXPECT_ERROR(
        BASE "  - x\n",
        "model.yaml:6:3: syntax error: did not find expected key (while parsing a block "
        "mapping that started at line 4, column 3)");
    EXPECT_ERROR("a: *nothing\n",
                 "model.yaml:1:4: unknown alias '*nothing' (no anchor of that name before it)");
    EXPECT_ERROR("version: 1\n---\nversion: 1\n",
                 "model.yaml:2:1: expected a single document, found a second one");
    EXPECT_ERROR("# nothing\n", "model.yaml: empty document");
}

static void error_limits(void **state)
{
    F;
    EXPECT_ERROR(
        "version: 1\nskills: [a, b, c, d, e, f, g, h, i]\nqueues:\n  q:\n"
        "    channels: voice\n"
        "    skills: { a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1, h: 1, i: 1 }\n",
        "model.yaml:6:13: queue 'q': skills: more than 8 skills");
    EXPECT_ERROR(BASE
                 "rules:\n  - { name: r, when: { location: [a, b, c, d, e, f, g, h, i] },"
                 " route: sales }\n",
                 "model.yaml:7:59: rule 'r': more than 8 values");
    EXPECT_ERROR(BASE
                 "  q234567890123456789012345678901234567890123456789012345678901234:\n"
                 "    channels: voice\n",
                 "model.yaml:6:3: queues: "
                 "'q234567890123456789012345678901234567890123456789012345678901234' is longer "
                 "than 63 characters");
    EXPECT_ERROR(BASE
                 "    escalation: [ {after: 1}, {after: 2}, {after: 3}, {after: 4}, {after: 5},"
                 " {after: 6}, {after: 7}, {after: 8}, {after: 9} ]\n",
                 "model.yaml:6:17: queue 'sales': escalation: more than 8 steps");
    EXPECT_ERROR(
        BASE
        "hours:\n  h: { zone: Etc/UTC, monday: [\"01:00-02:00\", \"03:00-04:00\", "
        "\"05:00-06:00\", \"07:00-08:00\", \"09:00-10:00\"] }\n",
        "model.yaml:7:92: hours 'h': monday: more than 4 opening intervals in one day");
}

static void error_queue_rules(void **state)
{
    F;
    EXPECT_ERROR(
        BASE "    escalation: [ { after: 2m }, { after: 1m } ]\n",
        "model.yaml:6:43: queue 'sales': after: must be later than the step before it");
    EXPECT_ERROR("version: 1\nqueues:\n  q: { channels: [voice, chat], strategy: ring-all }\n",
                 "model.yaml:3:43: queue 'q': strategy: ring-all needs channels: [voice] and "
                 "nothing else");
    EXPECT_ERROR(BASE "    overflow: { queue: sales }\n",
                 "model.yaml:6:15: queue 'sales': overflow: a queue cannot overflow to itself");
    EXPECT_ERROR(
        "version: 1\nqueues:\n  a: { channels: voice, overflow: { queue: b } }\n"
        "  b: { channels: voice, overflow: { queue: a } }\n",
        "model.yaml:3:35: queue 'a': overflow: chain of overflows leads back to this "
        "queue");
    EXPECT_ERROR(BASE "    overflow: { queue: sales, target: \"sip:x\" }\n",
                 "model.yaml:6:15: queue 'sales': overflow: expected exactly one of: queue, "
                 "target");
    EXPECT_ERROR(BASE "    channels: fax\n",
                 "model.yaml:6:5: duplicate key 'channels' (first at line 5, column 5)");
    EXPECT_ERROR(
        "version: 1\nqueues:\n  q: { channels: fax }\n",
        "model.yaml:3:18: queue 'q': channels: unknown channel 'fax' (expected one of: "
        "voice, email, sms, chat)");
    EXPECT_ERROR("version: 1\nqueues:\n  q: { channels: voice, strategy: fifo }\n",
                 "model.yaml:3:35: queue 'q': strategy: unknown strategy 'fifo' (expected one "
                 "of: longest-idle, least-occupied, best-skill, round-robin, ring-all)");
    EXPECT_ERROR("version: 1\nqueues:\n  q: { strategy: ring-all }\n",
                 "model.yaml:3:6: queue 'q': missing key 'channels'");
}

static void error_hours(void **state)
{
    F;
    EXPECT_ERROR(BASE
                 "hours:\n  h: { zone: Etc/UTC, monday: [\"09:00-12:00\", \"11:00-14:00\"] }\n",
                 "model.yaml:7:47: hours 'h': monday: interval '11:00-14:00' overlaps or "
                 "precedes the one before it");
    EXPECT_ERROR(BASE "hours:\n  h: { zone: Etc/UTC, monday: \"18:00-08:00\" }\n",
                 "model.yaml:7:31: hours 'h': monday: expected opening hours as HH:MM-HH:MM or "
                 "'closed', got '18:00-08:00'");
    EXPECT_ERROR(
        BASE "hours:\n  h: { zone: Etc/UTC, holidays: [ { date: 2026-02-30 } ] }\n",
        "model.yaml:7:43: hours 'h': date: expected a date YYYY-MM-DD (from 1970), got "
        "'2026-02-30'");
    EXPECT_ERROR(BASE "hours:\n  h: { monday: closed }\n",
                 "model.yaml:7:6: hours 'h': missing key 'zone' (and no defaults.zone)");
}

static void error_rules(void **state)
{
    F;
    EXPECT_ERROR(BASE "rules:\n  - { name: r, when: { ewt: { gt: 5m } }, reject: closed }\n",
                 "model.yaml:7:29: rule 'r': ewt: needs a 'queue' because the rule's action "
                 "names no queue");
    EXPECT_ERROR(BASE "rules:\n  - { name: r, route: sales, reject: closed }\n",
                 "model.yaml:7:30: rule 'r': more than one action ('route' and 'reject')");
    EXPECT_ERROR(BASE "rules:\n  - { name: r, when: { channel: voice } }\n",
                 "model.yaml:7:5: rule 'r': missing action (expected one of: route, overflow, "
                 "callback, reject, set)");
    EXPECT_ERROR(BASE
                 "rules:\n  - { name: r, when: { attribute: { vip: { exists: false } } },"
                 " route: sales }\n",
                 "model.yaml:7:52: rule 'r': exists: only 'exists: true' is supported");
    EXPECT_ERROR(BASE
                 "rules:\n  - { name: r, when: { attribute: { vip: { like: x } } }, "
                 "route: sales }\n",
                 "model.yaml:7:44: rule 'r': unknown key 'like' (expected one of: eq, ne, in, "
                 "not_in, prefix, exists)");
    EXPECT_ERROR(BASE
                 "rules:\n  - { name: r, when: { queue_size: { gt: 5, above: 3 } }, "
                 "route: sales }\n",
                 "model.yaml:7:45: rule 'r': unknown key 'above' (expected one of: queue, eq, "
                 "ne, lt, le, gt, ge)");
    EXPECT_ERROR(BASE "rules:\n  - { name: r, when: { weather: rain }, route: sales }\n",
                 "model.yaml:7:24: rule 'r': unknown key 'weather' (expected one of: channel, "
                 "attribute, location, time_of_day, day_of_week, ewt, queue_size, "
                 "agents_available, queue_open, priority)");
    EXPECT_ERROR(
        BASE "rules:\n  - { name: r, when: { day_of_week: [funday] }, route: sales }\n",
        "model.yaml:7:38: rule 'r': day_of_week: expected a day (mon ... sun, monday ... "
        "sunday, weekdays, weekend), got 'funday'");
    EXPECT_ERROR(BASE "rules:\n  - { name: r, reject: {} }\n",
                 "model.yaml:7:24: rule 'r': missing key 'reason'");
    EXPECT_ERROR(BASE "rules:\n  - { route: sales }\n",
                 "model.yaml:7:5: rules: missing key 'name'");
}

static void error_agents(void **state)
{
    F;
    EXPECT_ERROR(BASE "agents:\n  - { id: a1, capacity: { chat: 2 }, queues: [sales] }\n",
                 "model.yaml:7:47: agent 'a1': serves queue 'sales' but has no capacity on its "
                 "channels");
    EXPECT_ERROR(BASE "agents:\n  - { id: a1, queues: [sales, sales] }\n",
                 "model.yaml:7:31: agent 'a1': queue 'sales' listed twice");
    EXPECT_ERROR(
        BASE "agents:\n  - { id: \"a 1\" }\n",
        "model.yaml:7:11: agents: id: 'a 1' is not a valid name (use letters, digits and - "
        "_ . / + : @)");
}

static void error_version(void **state)
{
    F;
    EXPECT_ERROR("version: 2\nqueues: {}\n",
                 "model.yaml:1:10: version: unsupported schema version '2' (expected 1)");
    EXPECT_ERROR("queues: {}\n", "model.yaml:1:1: missing key 'version'");
    EXPECT_ERROR("version: 1\n", "model.yaml:1:1: missing key 'queues'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(skills_zones_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(hours_and_holidays, setup, teardown),
        cmocka_unit_test_setup_teardown(queues, setup, teardown),
        cmocka_unit_test_setup_teardown(queue_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(builtin_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(agents, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_actions, setup, teardown),
        cmocka_unit_test_setup_teardown(attribute_conditions, setup, teardown),
        cmocka_unit_test_setup_teardown(queue_conditions, setup, teardown),
        cmocka_unit_test_setup_teardown(time_and_location_conditions, setup, teardown),
        cmocka_unit_test_setup_teardown(personal_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(time_condition_without_zone_is_utc, setup, teardown),
        cmocka_unit_test_setup_teardown(anchors_and_aliases, setup, teardown),
        cmocka_unit_test_setup_teardown(sample_model_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(load_names_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(out_unchanged_on_error, setup, teardown),
        cmocka_unit_test_setup_teardown(error_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(error_wrong_type, setup, teardown),
        cmocka_unit_test_setup_teardown(error_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(error_unknown_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(error_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(error_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(error_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(error_queue_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(error_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(error_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(error_agents, setup, teardown),
        cmocka_unit_test_setup_teardown(error_version, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
