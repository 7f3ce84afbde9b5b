/* Routing rules: every condition kind and operator, every action, first match wins, no
 * match, and contacts arriving at closed or full queues. */
#include "engine_fixture.h"

static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    uint32_t utc = fx_zone(f, "UTC", 0);
    fx_zone(f, "plus1", 3600);
    uint32_t never = fx_hours(f, "never", utc); /* every day closed */
    fx_queue(f, "sales", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "support", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "vip", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    fx_queue(f, "closedq", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("closedq")->hours = (int32_t)never;
    fx_queue(f, "closedov", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("closedov")->hours = (int32_t)never;
    Q("closedov")->overflow_queue = fx_queue_index(f, "support");
    fx_queue(f, "closedext", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("closedext")->hours = (int32_t)never;
    fx_copy_str(Q("closedext")->overflow_target, ENGINE_TARGET_MAX, "sip:night@site-b");
    fx_queue(f, "full", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("full")->max_size = 1;
    fx_queue(f, "fullov", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("fullov")->max_size = 1;
    Q("fullov")->overflow_queue = fx_queue_index(f, "support");
    AGENT("a1", "sales");
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

/* Where a contact is: its queue while live, else "<outcome>:<reason>" from its ENDED. */
static const char *where(struct fixture *f, uint64_t id)
{
    static char buf[ENGINE_NAME_MAX + ENGINE_TARGET_MAX + 16];
    struct engine_contact_info ci;
    if (engine_contact_get(f->e, id, &ci) == 0) {
        snprintf(buf, sizeof(buf), "%s", ci.queue);
        return buf;
    }
    const struct fx_effect *x = fx_find(f, 0, ENGINE_FX_ENDED, id, NULL);
    if (x == NULL) {
        return "lost";
    }
    snprintf(buf, sizeof(buf), "%s:%s", fx_state_name(x->h.outcome), x->h.reason);
    return buf;
}

#define WHERE(id) where(f, (id))
#define ROUTED(ch, prio, attrs) WHERE(CREATE_RULED((ch), (prio), attrs))
#define ROUTED_PLAIN(ch) WHERE(CREATE_PLAIN(ch))

/* rule 0 "r" routes to support under one condition; rule 1 "rest" routes the rest to
 * sales. Returns the condition of rule 0. */
static struct engine_condition *one_rule(struct fixture *f, uint8_t kind)
{
    uint32_t r = fx_rule(f, "r", ENGINE_ACTION_ROUTE, "support");
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "sales");
    return fx_cond(f, r, kind);
}

static struct engine_condition *attr_rule(struct fixture *f,
                                          uint8_t op,
                                          const char *key,
                                          const char *v1,
                                          const char *v2)
{
    struct engine_condition *c = one_rule(f, ENGINE_COND_ATTR);
    c->op = op;
    fx_copy_str(c->key, ENGINE_KEY_MAX, key);
    if (v1 != NULL) {
        fx_cond_value(c, v1);
    }
    if (v2 != NULL) {
        fx_cond_value(c, v2);
    }
    return c;
}

TEST(channel_condition)
{
    one_rule(f, ENGINE_COND_CHANNEL)->channels =
        ENGINE_CH_BIT(ENGINE_CH_CHAT) | ENGINE_CH_BIT(ENGINE_CH_SMS);
    MODEL_INSTALL;
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_CHAT), "support");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_SMS), "support");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "sales");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
}

TEST(attr_eq)
{
    attr_rule(f, ENGINE_OP_EQ, "lang", "es", NULL);
    MODEL_INSTALL;
    struct engine_attr es[] = {{"lang", "es"}};
    struct engine_attr en[] = {{"lang", "en"}};
    struct engine_attr esp[] = {{"lang", "esp"}};
    struct engine_attr other[] = {{"tier", "es"}};
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, es), "support");
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, en), "sales");
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, esp), "sales");
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, other), "sales");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
}

TEST(attr_ne)
{
    attr_rule(f, ENGINE_OP_NE, "lang", "es", NULL);
    MODEL_INSTALL;
    struct engine_attr es[] = {{"lang", "es"}};
    struct engine_attr en[] = {{"lang", "en"}};
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, en), "support");
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, es), "sales");
}

TEST(attr_in)
{
    attr_rule(f, ENGINE_OP_IN, "tier", "gold", "platinum");
    MODEL_INSTALL;
    struct engine_attr gold[] = {{"tier", "gold"}};
    struct engine_attr plat[] = {{"tier", "platinum"}};
    struct engine_attr silver[] = {{"tier", "silver"}};
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, gold), "support");
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, plat), "support");
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, silver), "sales");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
}

TEST(attr_not_in)
{
    attr_rule(f, ENGINE_OP_NOT_IN, "tier", "gold", "platinum");
    MODEL_INSTALL;
    struct engine_attr gold[] = {{"tier", "gold"}};
    struct engine_attr plat[] = {{"tier", "platinum"}};
    struct engine_attr silver[] = {{"tier", "silver"}};
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, silver), "support");
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, gold), "sales");
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, plat), "sales");
}

TEST(attr_exists)
{
    attr_rule(f, ENGINE_OP_EXISTS, "case", NULL, NULL);
    MODEL_INSTALL;
    struct engine_attr has[] = {{"case", "C-17"}};
    struct engine_attr other[] = {{"lang", "en"}};
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, has), "support");
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, other), "sales");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
}

TEST(attr_prefix)
{
    attr_rule(f, ENGINE_OP_PREFIX, "phone", "+44", NULL);
    MODEL_INSTALL;
    struct engine_attr uk[] = {{"phone", "+447700900123"}};
    struct engine_attr fr[] = {{"phone", "+33612345678"}};
    struct engine_attr shorter[] = {{"phone", "+4"}};
    assert_string_equal(ROUTED(ENGINE_CH_SMS, 0, uk), "support");
    assert_string_equal(ROUTED(ENGINE_CH_SMS, 0, fr), "sales");
    assert_string_equal(ROUTED(ENGINE_CH_SMS, 0, shorter), "sales");
}

TEST(location_hierarchy)
{
    struct engine_condition *c = one_rule(f, ENGINE_COND_LOCATION);
    fx_cond_value(c, "GB");
    fx_cond_value(c, "FR-75");
    MODEL_INSTALL;
    struct engine_attr gb[] = {{"location", "GB"}};
    struct engine_attr lnd[] = {{"location", "GB-LND"}};
    struct engine_attr gbx[] = {{"location", "GBX"}};
    struct engine_attr fr[] = {{"location", "FR"}};
    struct engine_attr paris[] = {{"location", "FR-75"}};
    struct engine_attr de[] = {{"location", "DE-BE"}};
    assert_string_equal(ROUTED(ENGINE_CH_VOICE, 0, gb), "support");
    assert_string_equal(ROUTED(ENGINE_CH_VOICE, 0, lnd), "support");
    assert_string_equal(ROUTED(ENGINE_CH_VOICE, 0, gbx), "sales");
    assert_string_equal(ROUTED(ENGINE_CH_VOICE, 0, fr), "sales"); /* FR is above FR-75 */
    assert_string_equal(ROUTED(ENGINE_CH_VOICE, 0, paris), "support");
    assert_string_equal(ROUTED(ENGINE_CH_VOICE, 0, de), "sales");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "sales");
}

#define HM(h, m) ((int64_t)FX_DAYS_2026_01_05 * FX_DAY_MS + ((h)*60 + (m)) * (int64_t)60000)

TEST(time_of_day)
{
    struct engine_condition *c = one_rule(f, ENGINE_COND_TIME_OF_DAY);
    c->from_min = 9 * 60;
    c->to_min = 17 * 60;
    AT(HM(0, 0));
    MODEL_INSTALL;
    AT(HM(8, 59));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
    AT(HM(9, 0));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(16, 59));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(17, 0));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
}

TEST(time_of_day_wrapping)
{
    struct engine_condition *c = one_rule(f, ENGINE_COND_TIME_OF_DAY);
    c->from_min = 22 * 60;
    c->to_min = 6 * 60;
    AT(HM(0, 0));
    MODEL_INSTALL;
    AT(HM(5, 59));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(6, 0));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
    AT(HM(21, 59));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
    AT(HM(22, 0));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(24, 0));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
}

TEST(time_of_day_in_zone)
{
    struct engine_condition *c = one_rule(f, ENGINE_COND_TIME_OF_DAY);
    c->from_min = 9 * 60;
    c->to_min = 17 * 60;
    c->zone = 1; /* plus1 */
    AT(HM(0, 0));
    MODEL_INSTALL;
    AT(HM(7, 59));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
    AT(HM(8, 0));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(15, 59));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(16, 0));
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
}

TEST(day_of_week)
{
    one_rule(f, ENGINE_COND_DAY_OF_WEEK)->days = (1u << 5) | (1u << 6); /* Sat, Sun */
    MODEL_INSTALL;
    AT(HM(12, 0)); /* Monday 2026-01-05 */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
    AT(HM(12, 0) + 4 * FX_DAY_MS); /* Friday */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
    AT(HM(0, 0) + 5 * FX_DAY_MS); /* Saturday 00:00 */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(23, 59) + 6 * FX_DAY_MS); /* Sunday 23:59 */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(0, 0) + 7 * FX_DAY_MS); /* Monday 00:00 */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
}

TEST(day_of_week_in_zone)
{
    struct engine_condition *c = one_rule(f, ENGINE_COND_DAY_OF_WEEK);
    c->days = 1u << 0; /* Monday */
    c->zone = 1;       /* plus1 */
    AT(HM(0, 0) - FX_DAY_MS);
    MODEL_INSTALL;
    AT(HM(22, 59) - FX_DAY_MS); /* Sunday 22:59Z = Sunday 23:59 local */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
    AT(HM(23, 0) - FX_DAY_MS); /* Sunday 23:00Z = Monday 00:00 local */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(22, 59)); /* Monday 23:59 local */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "support");
    AT(HM(23, 0)); /* Tuesday 00:00 local */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
}

TEST(ewt_condition)
{
    /* Route to sales while its EWT stays within 400 s. With no agent and nothing
     * completed, D = 180 s: positions 0, 1, 2 wait 180, 360, 540 s. */
    uint32_t r = fx_rule(f, "short-wait", ENGINE_ACTION_ROUTE, "sales");
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "support");
    struct engine_condition *c = fx_cond(f, r, ENGINE_COND_EWT);
    c->op = ENGINE_OP_LE;
    c->number = 400;
    MODEL_INSTALL;
    uint64_t k1 = CREATE_PLAIN(ENGINE_CH_VOICE);
    assert_string_equal(WHERE(k1), "sales");
    assert_int_equal(FX(QUEUED, k1, NULL)->ewt_ms, 180000);
    uint64_t k2 = CREATE_PLAIN(ENGINE_CH_VOICE);
    assert_string_equal(WHERE(k2), "sales");
    assert_int_equal(FX(QUEUED, k2, NULL)->ewt_ms, 360000);
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "support");
    assert_int_equal(fx_queue_info(f, "sales").ewt_ms, 540000);
}

TEST(ewt_zero_with_ready_agent)
{
    uint32_t r = fx_rule(f, "instant", ENGINE_ACTION_ROUTE, "sales");
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "support");
    struct engine_condition *c = fx_cond(f, r, ENGINE_COND_EWT);
    c->op = ENGINE_OP_EQ;
    c->number = 0;
    MODEL_INSTALL;
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "support");
    LOGIN("a1");
    uint64_t k = CREATE_PLAIN(ENGINE_CH_VOICE);
    ASSERT_OFFERED(k, "a1");
    assert_string_equal(WHERE(k), "sales");
}

TEST(queue_size_condition_on_named_queue)
{
    uint32_t r = fx_rule(f, "small", ENGINE_ACTION_ROUTE, "vip");
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "sales");
    struct engine_condition *c = fx_cond(f, r, ENGINE_COND_QUEUE_SIZE);
    c->op = ENGINE_OP_LT;
    c->number = 2;
    c->queue = fx_queue_index(f, "vip");
    MODEL_INSTALL;
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "vip");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "vip");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_EMAIL), "sales");
    assert_int_equal(fx_queue_info(f, "vip").waiting, 2);
}

TEST(agents_available_condition)
{
    uint32_t r = fx_rule(f, "staffed", ENGINE_ACTION_ROUTE, "sales");
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "support");
    struct engine_condition *c = fx_cond(f, r, ENGINE_COND_AGENTS_AVAILABLE);
    c->op = ENGINE_OP_GE;
    c->number = 1;
    MODEL_INSTALL;
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "support");
    LOGIN("a1");
    uint64_t k = CREATE_PLAIN(ENGINE_CH_VOICE);
    assert_string_equal(WHERE(k), "sales");
    ASSERT_OFFERED(k, "a1");
    /* a1's only voice slot is taken: nobody is ready for voice, chat still is. */
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "support");
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_CHAT), "sales");
}

TEST(queue_open_condition)
{
    uint32_t r0 = fx_rule(f, "day", ENGINE_ACTION_ROUTE, "sales");
    uint32_t r1 = fx_rule(f, "night", ENGINE_ACTION_ROUTE, "support");
    struct engine_condition *c0 = fx_cond(f, r0, ENGINE_COND_QUEUE_OPEN);
    c0->number = 1;
    c0->queue = fx_queue_index(f, "closedq");
    struct engine_condition *c1 = fx_cond(f, r1, ENGINE_COND_QUEUE_OPEN);
    c1->number = 0;
    c1->queue = fx_queue_index(f, "closedq");
    uint32_t r2 = fx_rule(f, "open-sales", ENGINE_ACTION_ROUTE, "vip");
    fx_cond(f, r2, ENGINE_COND_QUEUE_OPEN)->number = 1;
    MODEL_INSTALL;
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "support");
    /* Swap: the "night" rule now asks for an open closedq, falling through to vip. */
    f->m.rules[1].conds[0].number = 1;
    MODEL_INSTALL;
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "vip");
}

TEST(priority_condition_every_numeric_op)
{
    struct engine_condition *c = one_rule(f, ENGINE_COND_PRIORITY);
    c->number = 5;
    static const struct
    {
        uint8_t op;
        const char *at4, *at5, *at6;
    } cases[] = {
        {ENGINE_OP_EQ, "sales", "support", "sales"},
        {ENGINE_OP_NE, "support", "sales", "support"},
        {ENGINE_OP_LT, "support", "sales", "sales"},
        {ENGINE_OP_LE, "support", "support", "sales"},
        {ENGINE_OP_GT, "sales", "sales", "support"},
        {ENGINE_OP_GE, "sales", "support", "support"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f->m.rules[0].conds[0].op = cases[i].op;
        MODEL_INSTALL;
        assert_string_equal(WHERE(fx_create_ok(f, NULL, ENGINE_CH_EMAIL, 4, 0, NULL)),
                            cases[i].at4);
        assert_string_equal(WHERE(fx_create_ok(f, NULL, ENGINE_CH_EMAIL, 5, 0, NULL)),
                            cases[i].at5);
        assert_string_equal(WHERE(fx_create_ok(f, NULL, ENGINE_CH_EMAIL, 6, 0, NULL)),
                            cases[i].at6);
    }
}

TEST(all_conditions_must_hold)
{
    uint32_t r = fx_rule(f, "both", ENGINE_ACTION_ROUTE, "support");
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "sales");
    fx_cond(f, r, ENGINE_COND_CHANNEL)->channels = ENGINE_CH_BIT(ENGINE_CH_CHAT);
    struct engine_condition *c = fx_cond(f, r, ENGINE_COND_PRIORITY);
    c->op = ENGINE_OP_GE;
    c->number = 3;
    MODEL_INSTALL;
    assert_string_equal(WHERE(fx_create_ok(f, NULL, ENGINE_CH_CHAT, 3, 0, NULL)), "support");
    assert_string_equal(WHERE(fx_create_ok(f, NULL, ENGINE_CH_CHAT, 2, 0, NULL)), "sales");
    assert_string_equal(WHERE(fx_create_ok(f, NULL, ENGINE_CH_SMS, 3, 0, NULL)), "sales");
}

TEST(first_match_wins)
{
    fx_rule(f, "first", ENGINE_ACTION_ROUTE, "vip");
    fx_rule(f, "second", ENGINE_ACTION_ROUTE, "support");
    MODEL_INSTALL;
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "vip");
}

TEST(no_match_is_rejected_no_route)
{
    one_rule(f, ENGINE_COND_CHANNEL)->channels = ENGINE_CH_BIT(ENGINE_CH_CHAT);
    f->m.n_rules = 1; /* drop "rest" (the array keeps it, close frees it) */
    MODEL_INSTALL;
    f->m.n_rules = 2;
    uint64_t k = CREATE_PLAIN(ENGINE_CH_VOICE);
    assert_string_equal(WHERE(k), "rejected:no_route");
    const struct engine_history *h = ENDED(k);
    assert_int_equal(h->arrived, FX_T0);
    assert_int_equal(engine_contact_count(f->e), 0);
}

TEST(route_action_priority_and_skills)
{
    uint32_t r = fx_rule(f, "billing", ENGINE_ACTION_ROUTE, "sales");
    RULE(r)->action.has_priority = true;
    RULE(r)->action.priority = 7;
    RULE(r)->action.n_skills = 1;
    RULE(r)->action.skills[0].skill = fx_skill(f, "billing");
    RULE(r)->action.skills[0].level = 6;
    fx_queue_skill(f, "sales", "billing", 3);
    fx_agent_skill(f, "a1", "billing", 5);
    AGENT("a2", "sales");
    fx_agent_skill(f, "a2", "billing", 6);
    MODEL_INSTALL;
    LOGIN("a1");
    struct engine_skill_ref own[] = {{"billing", 4}};
    assert_int_equal(fx_create(f, NULL, NULL, ENGINE_CH_VOICE, 1, 1, own, 0, NULL), 0);
    uint64_t k = f->res.contact;
    struct engine_contact_info ci = fx_contact(f, k);
    assert_string_equal(ci.queue, "sales");
    assert_int_equal(ci.priority, 7);
    assert_int_equal(ci.n_skills, 1);
    assert_string_equal(ci.skills[0].skill, "billing");
    assert_int_equal(ci.skills[0].level, 6);
    ASSERT_STATE(k, QUEUED); /* a1 has only 5 */
    LOGIN("a2");
    ASSERT_OFFERED(k, "a2");
}

TEST(overflow_action_to_queue_and_external)
{
    uint32_t r = fx_rule(f, "to-support", ENGINE_ACTION_OVERFLOW, "support");
    fx_cond(f, r, ENGINE_COND_CHANNEL)->channels = ENGINE_CH_BIT(ENGINE_CH_CHAT);
    uint32_t x = fx_rule(f, "away", ENGINE_ACTION_OVERFLOW, NULL);
    fx_copy_str(RULE(x)->action.target, ENGINE_TARGET_MAX, "sip:overflow@site-b");
    MODEL_INSTALL;
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_CHAT), "support");
    uint64_t k = CREATE_PLAIN(ENGINE_CH_VOICE);
    assert_string_equal(WHERE(k), "overflowed:sip:overflow@site-b");
    assert_int_equal(ENDED(k)->outcome, ENGINE_CONTACT_OVERFLOWED);
}

TEST(callback_keeps_place_in_line)
{
    uint32_t r = fx_rule(f, "cb", ENGINE_ACTION_CALLBACK, "sales");
    fx_cond(f, r, ENGINE_COND_CHANNEL)->channels = ENGINE_CH_BIT(ENGINE_CH_VOICE);
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "sales");
    MODEL_INSTALL;
    uint64_t k1 = CREATE_PLAIN(ENGINE_CH_VOICE);
    ASSERT_QUEUED(k1, "sales");
    const struct fx_effect *cb = FX(CALLBACK_OFFER, k1, NULL);
    assert_int_equal(cb->contact, k1);
    AT(FX_T0 + 5000);
    CALLBACK(k1);
    ASSERT_QUEUED(k1, "sales");
    assert_true(fx_contact(f, k1).callback);
    assert_int_equal(fx_contact(f, k1).enqueued, FX_T0);
    AT(FX_T0 + 6000);
    uint64_t k2 = fx_create_ok(f, "sales", ENGINE_CH_VOICE, 0, 0, NULL);
    NO_FX(CALLBACK_OFFER, k2, NULL);
    AT(FX_T0 + 7000);
    LOGIN("a1");
    ASSERT_OFFERED(k1, "a1");
    ASSERT_QUEUED(k2, "sales");
    ACCEPT(OFFER_OF(k1), "a1");
    END(k1);
    assert_int_equal(ENDED(k1)->callback, 1);
}

TEST(reject_action_with_reason)
{
    struct engine_condition *c = one_rule(f, ENGINE_COND_ATTR);
    c->op = ENGINE_OP_EQ;
    fx_copy_str(c->key, ENGINE_KEY_MAX, "spam");
    fx_cond_value(c, "yes");
    RULE(0)->action.kind = ENGINE_ACTION_REJECT;
    RULE(0)->action.queue = -1;
    fx_copy_str(RULE(0)->action.reason, ENGINE_VALUE_MAX, "blocked_sender");
    MODEL_INSTALL;
    struct engine_attr spam[] = {{"spam", "yes"}};
    uint64_t k = CREATE_RULED(ENGINE_CH_EMAIL, 0, spam);
    assert_string_equal(WHERE(k), "rejected:blocked_sender");
    struct engine_attr ham[] = {{"spam", "no"}};
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 0, ham), "sales");
}

TEST(set_action_then_continue)
{
    uint32_t s = fx_rule(f, "tag-gold", ENGINE_ACTION_SET, NULL);
    struct engine_condition *c = fx_cond(f, s, ENGINE_COND_PRIORITY);
    c->op = ENGINE_OP_GE;
    c->number = 9;
    RULE(s)->action.n_set = 2;
    fx_copy_str(RULE(s)->action.set[0].key, ENGINE_KEY_MAX, "tier");
    fx_copy_str(RULE(s)->action.set[0].value, ENGINE_VALUE_MAX, "gold");
    fx_copy_str(RULE(s)->action.set[1].key, ENGINE_KEY_MAX, "lang");
    fx_copy_str(RULE(s)->action.set[1].value, ENGINE_VALUE_MAX, "en");
    uint32_t v = fx_rule(f, "gold", ENGINE_ACTION_ROUTE, "vip");
    struct engine_condition *g = fx_cond(f, v, ENGINE_COND_ATTR);
    g->op = ENGINE_OP_EQ;
    fx_copy_str(g->key, ENGINE_KEY_MAX, "tier");
    fx_cond_value(g, "gold");
    fx_rule(f, "rest", ENGINE_ACTION_ROUTE, "sales");
    MODEL_INSTALL;
    struct engine_attr fr[] = {{"lang", "fr"}};
    uint64_t k = fx_create_ok(f, NULL, ENGINE_CH_EMAIL, 9, 1, fr);
    struct engine_contact_info ci = fx_contact(f, k);
    assert_string_equal(ci.queue, "vip");
    assert_int_equal(ci.n_attrs, 2);
    for (uint8_t i = 0; i < ci.n_attrs; i++) {
        if (strcmp(ci.attrs[i].key, "lang") == 0) {
            assert_string_equal(ci.attrs[i].value, "en");
        } else {
            assert_string_equal(ci.attrs[i].key, "tier");
            assert_string_equal(ci.attrs[i].value, "gold");
        }
    }
    assert_string_equal(ROUTED(ENGINE_CH_EMAIL, 8, fr), "sales");
}

TEST(closed_queue_rejects_or_overflows)
{
    fx_rule(f, "closed", ENGINE_ACTION_ROUTE, "closedq");
    MODEL_INSTALL;
    assert_false(fx_queue_info(f, "closedq").open);
    assert_true(fx_queue_info(f, "sales").open);
    assert_string_equal(ROUTED_PLAIN(ENGINE_CH_VOICE), "rejected:closed");
    assert_string_equal(WHERE(CREATE_IN("closedq", ENGINE_CH_VOICE, 0)), "rejected:closed");
    assert_string_equal(WHERE(CREATE_IN("closedov", ENGINE_CH_VOICE, 0)), "support");
    assert_string_equal(WHERE(CREATE_IN("closedext", ENGINE_CH_VOICE, 0)),
                        "overflowed:sip:night@site-b");
}

TEST(full_queue_rejects_or_overflows)
{
    MODEL_INSTALL;
    uint64_t k1 = CREATE_IN("full", ENGINE_CH_EMAIL, 0);
    ASSERT_QUEUED(k1, "full");
    assert_string_equal(WHERE(CREATE_IN("full", ENGINE_CH_EMAIL, 0)), "rejected:queue_full");
    assert_string_equal(WHERE(CREATE_IN("fullov", ENGINE_CH_EMAIL, 0)), "fullov");
    assert_string_equal(WHERE(CREATE_IN("fullov", ENGINE_CH_EMAIL, 0)), "support");
    /* Room again once the waiting one leaves. */
    ABANDON(k1);
    assert_string_equal(WHERE(CREATE_IN("full", ENGINE_CH_EMAIL, 0)), "full");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(channel_condition),
        FX_TEST(attr_eq),
        FX_TEST(attr_ne),
        FX_TEST(attr_in),
        FX_TEST(attr_not_in),
        FX_TEST(attr_exists),
        FX_TEST(attr_prefix),
        FX_TEST(location_hierarchy),
        FX_TEST(time_of_day),
        FX_TEST(time_of_day_wrapping),
        FX_TEST(time_of_day_in_zone),
        FX_TEST(day_of_week),
        FX_TEST(day_of_week_in_zone),
        FX_TEST(ewt_condition),
        FX_TEST(ewt_zero_with_ready_agent),
        FX_TEST(queue_size_condition_on_named_queue),
        FX_TEST(agents_available_condition),
        FX_TEST(queue_open_condition),
        FX_TEST(priority_condition_every_numeric_op),
        FX_TEST(all_conditions_must_hold),
        FX_TEST(first_match_wins),
        FX_TEST(no_match_is_rejected_no_route),
        FX_TEST(route_action_priority_and_skills),
        FX_TEST(overflow_action_to_queue_and_external),
        FX_TEST(callback_keeps_place_in_line),
        FX_TEST(reject_action_with_reason),
        FX_TEST(set_action_then_continue),
        FX_TEST(closed_queue_rejects_or_overflows),
        FX_TEST(full_queue_rejects_or_overflows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
