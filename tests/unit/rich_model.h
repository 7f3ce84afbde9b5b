/* A rich routing model for the engine model and codec tests: every condition and action
 * kind, zones with transitions, hours with holidays, escalation. build_model() fills an
 * initialised model; the tests own and close it. */
#ifndef CD_TESTS_UNIT_RICH_MODEL_H
#define CD_TESTS_UNIT_RICH_MODEL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"

enum { SK_EN, SK_ES, SK_BILLING, N_SKILLS };
enum { Z_LONDON, Z_NEW_YORK, N_ZONES };
enum { Q_SALES, Q_SUPPORT, Q_MAIL, N_QUEUES };
enum { R_BLOCKED, R_GOLD, R_NIGHT, R_VIP, R_BUSY, R_SPILL, R_MAIL, N_RULES };

#define VOICE ENGINE_CH_BIT(ENGINE_CH_VOICE)
#define CHAT ENGINE_CH_BIT(ENGINE_CH_CHAT)
#define EMAIL ENGINE_CH_BIT(ENGINE_CH_EMAIL)

static void *zalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    assert_non_null(p);
    return p;
}

#define SET_STR(dst, s) snprintf((dst), sizeof(dst), "%s", (s))

static void day(struct engine_day_hours *d, uint16_t from, uint16_t to)
{
    d->iv[d->n].from_min = from;
    d->iv[d->n++].to_min = to;
}

static void build_zones(struct engine_model *m)
{
    m->n_zones = N_ZONES;
    m->zones = zalloc(N_ZONES, sizeof(*m->zones));
    struct engine_zone *z = &m->zones[Z_LONDON];
    SET_STR(z->name, "Europe/London");
    z->n_transitions = 2;
    z->transitions = zalloc(2, sizeof(*z->transitions));
    z->transitions[0] = (struct engine_tz_transition){1774746000, 3600};
    z->transitions[1] = (struct engine_tz_transition){1792890000, 0};
    z = &m->zones[Z_NEW_YORK];
    SET_STR(z->name, "America/New_York");
    z->base_offset = -18000;
    z->n_transitions = 1;
    z->transitions = zalloc(1, sizeof(*z->transitions));
    z->transitions[0] = (struct engine_tz_transition){1773558000, -14400};
}

static void build_hours(struct engine_model *m)
{
    m->n_hours = 1;
    m->hours = zalloc(1, sizeof(*m->hours));
    struct engine_hours *h = &m->hours[0];
    SET_STR(h->name, "business");
    h->zone = Z_LONDON;
    for (int d = 0; d < 5; d++) {
        day(&h->week[d], 9 * 60, 17 * 60);
    }
    day(&h->week[5], 10 * 60, 12 * 60);
    day(&h->week[5], 13 * 60, 15 * 60);
    h->n_holidays = 2;
    h->holidays = zalloc(2, sizeof(*h->holidays));
    h->holidays[0].date = 20458;
    h->holidays[1].date = 20500;
    day(&h->holidays[1].hours, 10 * 60, 24 * 60);
}

static void build_queues(struct engine_model *m)
{
    m->n_queues = N_QUEUES;
    m->queues = zalloc(N_QUEUES, sizeof(*m->queues));
    struct engine_queue *q = &m->queues[Q_SALES];
    SET_STR(q->name, "sales");
    q->channels = VOICE | CHAT;
    q->sl_target_s = 20;
    q->sl_percent = 80;
    q->overflow_queue = Q_SUPPORT;
    q->skills[q->n_skills++] = (struct engine_skill_level){SK_EN, 3};
    q->steps[0] = (struct engine_escalation){30, 1, 2, 1, {SK_EN}};
    q->steps[1] = (struct engine_escalation){60, 2, 0, 0, {0}};
    q->n_steps = 2;
    q = &m->queues[Q_SUPPORT];
    SET_STR(q->name, "support");
    q->channels = VOICE;
    q->strategy = ENGINE_STRATEGY_RING_ALL;
    q->max_size = 10;
    q->hours = -1;
    q->overflow_queue = -1;
    SET_STR(q->overflow_target, "sip:support@site-b");
    q = &m->queues[Q_MAIL];
    SET_STR(q->name, "mail");
    q->channels = EMAIL;
    q->strategy = ENGINE_STRATEGY_BEST_SKILL;
    q->wrapup_s = 60;
    q->hours = -1;
    q->overflow_queue = -1;
}

static void build_agents(struct engine_model *m)
{
    m->n_agents = 2;
    m->agents = zalloc(2, sizeof(*m->agents));
    struct engine_agent_def *a = &m->agents[0];
    SET_STR(a->name, "ann");
    SET_STR(a->site, "lon");
    a->capacity[ENGINE_CH_VOICE] = 1;
    a->capacity[ENGINE_CH_CHAT] = 3;
    a->skills[a->n_skills++] = (struct engine_skill_level){SK_EN, 5};
    a->skills[a->n_skills++] = (struct engine_skill_level){SK_BILLING, 2};
    a->queues[a->n_queues++] = Q_SALES;
    a->queues[a->n_queues++] = Q_SUPPORT;
    a = &m->agents[1];
    SET_STR(a->name, "bob");
    a->capacity[ENGINE_CH_EMAIL] = 5;
    a->queues[a->n_queues++] = Q_MAIL;
}

static struct engine_condition *cond(struct engine_rule *r, uint8_t kind, uint8_t op)
{
    struct engine_condition *c = &r->conds[r->n_conds++];
    c->kind = kind;
    c->op = op;
    c->zone = -1;
    c->queue = -1;
    return c;
}

static struct engine_rule *rule(struct engine_model *m,
                                uint32_t i,
                                const char *name,
                                uint8_t kind,
                                int32_t queue)
{
    struct engine_rule *r = &m->rules[i];
    SET_STR(r->name, name);
    r->conds = zalloc(4, sizeof(*r->conds));
    r->action.kind = kind;
    r->action.queue = queue;
    return r;
}

static void build_rules_a(struct engine_model *m)
{
    struct engine_rule *r = rule(m, R_BLOCKED, "blocked", ENGINE_ACTION_REJECT, -1);
    SET_STR(cond(r, ENGINE_COND_ATTR, ENGINE_OP_EXISTS)->key, "blocked");
    SET_STR(r->action.reason, "blocked_customer");
    r = rule(m, R_GOLD, "gold", ENGINE_ACTION_SET, -1);
    struct engine_condition *c = cond(r, ENGINE_COND_ATTR, ENGINE_OP_PREFIX);
    SET_STR(c->key, "account");
    SET_STR(c->values[c->n_values++], "G");
    c = cond(r, ENGINE_COND_LOCATION, ENGINE_OP_IN);
    SET_STR(c->values[c->n_values++], "GB");
    SET_STR(c->values[c->n_values++], "IE");
    SET_STR(r->action.set[0].key, "tier");
    SET_STR(r->action.set[0].value, "gold");
    SET_STR(r->action.set[1].key, "flagged");
    r->action.n_set = 2;
    r = rule(m, R_NIGHT, "night", ENGINE_ACTION_OVERFLOW, -1);
    c = cond(r, ENGINE_COND_TIME_OF_DAY, ENGINE_OP_EQ);
    c->zone = Z_LONDON;
    c->from_min = 23 * 60;
    c->to_min = 5 * 60;
    c = cond(r, ENGINE_COND_DAY_OF_WEEK, ENGINE_OP_EQ);
    c->zone = Z_NEW_YORK;
    c->days = 0x1f;
    SET_STR(r->action.target, "sip:night@site-b");
}

static void build_rules_b(struct engine_model *m)
{
    struct engine_rule *r = rule(m, R_VIP, "vip", ENGINE_ACTION_ROUTE, Q_SUPPORT);
    cond(r, ENGINE_COND_CHANNEL, ENGINE_OP_EQ)->channels = VOICE;
    struct engine_condition *c = cond(r, ENGINE_COND_ATTR, ENGINE_OP_IN);
    SET_STR(c->key, "tier");
    SET_STR(c->values[c->n_values++], "gold");
    SET_STR(c->values[c->n_values++], "platinum");
    cond(r, ENGINE_COND_AGENTS_AVAILABLE, ENGINE_OP_GE)->number = 1;
    cond(r, ENGINE_COND_PRIORITY, ENGINE_OP_GE)->number = -5;
    r->action.has_priority = true;
    r->action.priority = 9;
    r->action.skills[r->action.n_skills++] = (struct engine_skill_level){SK_ES, 2};
    r = rule(m, R_BUSY, "busy", ENGINE_ACTION_CALLBACK, Q_SALES);
    c = cond(r, ENGINE_COND_EWT, ENGINE_OP_GT);
    c->number = 240;
    c->queue = Q_SALES;
    cond(r, ENGINE_COND_QUEUE_SIZE, ENGINE_OP_GE)->number = 25;
    cond(r, ENGINE_COND_QUEUE_OPEN, ENGINE_OP_EQ)->number = 1;
    r = rule(m, R_SPILL, "spill", ENGINE_ACTION_OVERFLOW, Q_MAIL);
    c = cond(r, ENGINE_COND_QUEUE_SIZE, ENGINE_OP_GT);
    c->number = 50;
    c->queue = Q_SALES;
    r = rule(m, R_MAIL, "mail", ENGINE_ACTION_ROUTE, Q_MAIL);
    cond(r, ENGINE_COND_CHANNEL, ENGINE_OP_EQ)->channels = EMAIL;
}

static void build_model(struct engine_model *m)
{
    engine_model_init(m);
    m->n_skills = N_SKILLS;
    m->skills = zalloc(N_SKILLS, sizeof(*m->skills));
    SET_STR(m->skills[SK_EN].s, "english");
    SET_STR(m->skills[SK_ES].s, "spanish");
    SET_STR(m->skills[SK_BILLING].s, "billing");
    build_zones(m);
    build_hours(m);
    build_queues(m);
    build_agents(m);
    m->n_rules = N_RULES;
    m->rules = zalloc(N_RULES, sizeof(*m->rules));
    build_rules_a(m);
    build_rules_b(m);
    m->blocks[ENGINE_CH_VOICE] = (uint8_t)(ENGINE_CH_ALL & ~VOICE);
    SET_STR(m->rna_reason, "missed");
}

#endif
