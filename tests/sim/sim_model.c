/* The routing model of the simulation, built in code: skills, two hand-made time zones
 * with daylight-saving-like transitions, hours with a holiday, eleven queues covering every
 * channel and strategy, rules using every condition and action kind, and agents with
 * varied skills and capacities. Version v > 1 mutates strategies, limits, escalation,
 * agents' capacities and skills, and adds or retires a pop-up queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

const char *const sim_skill_names[SIM_SKILLS] = {
    "english",   "french",    "german",     "spanish",    "billing",    "tech",    "sales",
    "retention", "claims",    "vip",        "mortgages",  "cards",      "fraud",   "travel",
    "loans",     "insurance", "accessible", "complaints", "onboarding", "premium",
};

enum {
    SK_EN,
    SK_FR,
    SK_DE,
    SK_ES,
    SK_BILLING,
    SK_TECH,
    SK_SALES,
    SK_RETENTION,
    SK_CLAIMS,
    SK_VIP
};

enum {
    Q_SALES_VOICE,
    Q_SUPPORT_VOICE,
    Q_VIP_VOICE,
    Q_GENERAL_VOICE,
    Q_SPANISH_VOICE,
    Q_EMAIL_MAIN,
    Q_EMAIL_CLAIMS,
    Q_CHAT_MAIN,
    Q_CHAT_TECH,
    Q_SMS_MAIN,
    Q_MULTI,
    Q_POPUP, /* present in even versions only */
    Q_COUNT
};

static const char *const queue_names[Q_COUNT] = {
    "sales-voice",   "support-voice", "vip-voice",    "general-voice",
    "spanish-voice", "email-main",    "email-claims", "chat-main",
    "chat-tech",     "sms-main",      "multi",        "popup-chat",
};

enum { Z_EUROPE, Z_AMERICA };
enum { H_BUSINESS, H_EXTENDED };

void *sim_xalloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fprintf(stderr, "engine_sim: out of memory\n");
        exit(2);
    }
    return q;
}

static void *zalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    return sim_xalloc(p, n * size);
}

int sim_queue_index(const struct sim *s, const char *name)
{
    for (uint32_t i = 0; i < s->n_queues; i++) {
        if (strcmp(s->queues[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int sim_agent_index(const char *name)
{
    if (name == NULL || strncmp(name, "agent-", 6) != 0) {
        return -1;
    }
    int i = atoi(name + 6);
    return i >= 0 && i < SIM_AGENTS_MAX ? i : -1;
}

/* A zone whose offset flips between base and base + 3600 every `period_days`, starting at
 * the first transition: a daylight-saving rule compressed so a run crosses several. */
static void build_zone(struct engine_zone *z,
                       const char *name,
                       int32_t base,
                       int64_t first,
                       int period_days)
{
    snprintf(z->name, sizeof(z->name), "%s", name);
    z->base_offset = base;
    z->n_transitions = 40;
    z->transitions = zalloc(z->n_transitions, sizeof(*z->transitions));
    for (uint32_t i = 0; i < z->n_transitions; i++) {
        z->transitions[i].at = first + (int64_t)i * period_days * 86400;
        z->transitions[i].offset = base + (i % 2 == 0 ? 3600 : 0);
    }
}

static void day(struct engine_day_hours *d, uint16_t from, uint16_t to)
{
    d->iv[d->n].from_min = from;
    d->iv[d->n].to_min = to;
    d->n++;
}

static void build_hours(struct sim *s, struct engine_model *m)
{
    int32_t first_day = (int32_t)(s->epoch_ms / 86400000);
    m->n_hours = 2;
    m->hours = zalloc(2, sizeof(*m->hours));
    struct engine_hours *b = &m->hours[H_BUSINESS];
    snprintf(b->name, sizeof(b->name), "business");
    b->zone = Z_EUROPE;
    for (int d = 0; d < 5; d++) {
        day(&b->week[d], 8 * 60, 20 * 60);
    }
    day(&b->week[5], 9 * 60, 13 * 60);
    b->n_holidays = 2;
    b->holidays = zalloc(2, sizeof(*b->holidays));
    b->holidays[0].date = first_day + 2;
    day(&b->holidays[0].hours, 10 * 60, 14 * 60);
    b->holidays[1].date = first_day + 10; /* closed all day */
    struct engine_hours *x = &m->hours[H_EXTENDED];
    snprintf(x->name, sizeof(x->name), "extended");
    x->zone = Z_AMERICA;
    for (int d = 0; d < 7; d++) {
        day(&x->week[d], 7 * 60, 12 * 60);
        day(&x->week[d], 12 * 60 + 30, 23 * 60);
    }
}

static void build_zones(struct sim *s, struct engine_model *m)
{
    int64_t epoch_s = s->epoch_ms / 1000;
    m->n_zones = 2;
    m->zones = zalloc(2, sizeof(*m->zones));
    build_zone(&m->zones[Z_EUROPE], "Europe/Sim", 3600, epoch_s + 6 * 86400 + 3600, 3);
    build_zone(&m->zones[Z_AMERICA], "America/Sim", -18000, epoch_s + 86400 + 7 * 3600, 4);
}

static void req(struct engine_queue *q, uint16_t skill, uint8_t level)
{
    q->skills[q->n_skills].skill = skill;
    q->skills[q->n_skills].level = level;
    q->n_skills++;
}

static void step(struct engine_queue *q,
                 uint32_t after_s,
                 uint8_t relax,
                 int16_t boost,
                 int drop)
{
    struct engine_escalation *st = &q->steps[q->n_steps++];
    st->after_s = after_s;
    st->relax = relax;
    st->priority_boost = boost;
    if (drop >= 0) {
        st->drop[st->n_drop++] = (uint16_t)drop;
    }
}

static struct engine_queue *queue(struct engine_model *m,
                                  int id,
                                  uint8_t channels,
                                  uint8_t strategy)
{
    struct engine_queue *q = &m->queues[m->n_queues++];
    snprintf(q->name, sizeof(q->name), "%s", queue_names[id]);
    q->channels = channels;
    q->strategy = strategy;
    q->sl_target_s = 20;
    q->sl_percent = 80;
    q->hours = -1;
    q->overflow_queue = -1;
    return q;
}

/* A rotating strategy for queues whose strategy mutates from version to version. */
static uint8_t rotate(uint8_t base, uint32_t version)
{
    return (uint8_t)((base + version - 1) % ENGINE_STRATEGY_RING_ALL);
}

static void build_voice_queues(struct engine_model *m, uint32_t v)
{
    uint8_t voice = ENGINE_CH_BIT(ENGINE_CH_VOICE);
    struct engine_queue *q = queue(m, Q_SALES_VOICE, voice, rotate(0, v));
    q->max_size = 30 + 10 * (v % 3);
    q->max_wait_s = 600;
    q->ring_s = 15;
    q->wrapup_s = 30;
    q->hours = H_BUSINESS;
    q->overflow_queue = Q_GENERAL_VOICE;
    req(q, SK_SALES, 3);
    step(q, 60, 2, 1, -1);
    step(q, 180 + 30 * (v % 2), 0, 2, SK_SALES);
    q = queue(m, Q_SUPPORT_VOICE, voice, rotate(2, v));
    q->max_wait_s = 900;
    q->wrapup_s = 20;
    q->hours = H_EXTENDED;
    snprintf(q->overflow_target, sizeof(q->overflow_target), "sip:overflow@site-b");
    req(q, SK_TECH, 4);
    step(q, 90, 3, 0, -1);
    q = queue(m, Q_VIP_VOICE, voice, ENGINE_STRATEGY_RING_ALL);
    q->ring_s = 12;
    q->max_size = 10;
    q->sl_target_s = 10;
    q->overflow_queue = Q_SUPPORT_VOICE;
    req(q, SK_VIP, 5);
    q = queue(m, Q_GENERAL_VOICE, voice, rotate(3, v));
    q->max_size = 60;
    q->max_wait_s = 1200;
    q->wrapup_s = 10;
    step(q, 120, 1, 1, -1);
    q = queue(m, Q_SPANISH_VOICE, voice, rotate(1, v));
    q->hours = H_BUSINESS;
    q->overflow_queue = Q_GENERAL_VOICE;
    q->wrapup_s = 15;
    req(q, SK_ES, 3);
}

static void build_text_queues(struct engine_model *m, uint32_t v)
{
    uint8_t email = ENGINE_CH_BIT(ENGINE_CH_EMAIL), chat = ENGINE_CH_BIT(ENGINE_CH_CHAT);
    uint8_t sms = ENGINE_CH_BIT(ENGINE_CH_SMS);
    struct engine_queue *q = queue(m, Q_EMAIL_MAIN, email, rotate(1, v));
    q->sl_target_s = 3600;
    q->wrapup_s = 10;
    q->max_wait_s = 7200;
    snprintf(q->overflow_target, sizeof(q->overflow_target), "smtp:backlog@example.com");
    req(q, SK_BILLING, 2);
    step(q, 300, 0, 0, SK_BILLING);
    q = queue(m, Q_EMAIL_CLAIMS, email, ENGINE_STRATEGY_BEST_SKILL);
    q->sl_target_s = 7200;
    q->max_size = 150 + 50 * (v % 2);
    q->overflow_queue = Q_EMAIL_MAIN;
    req(q, SK_CLAIMS, 3);
    q = queue(m, Q_CHAT_MAIN, chat, rotate(0, v));
    q->sl_target_s = 60;
    q->wrapup_s = 15;
    q->max_wait_s = 600;
    snprintf(q->overflow_target, sizeof(q->overflow_target), "https://chat.example/overflow");
    q = queue(m, Q_CHAT_TECH, chat, ENGINE_STRATEGY_ROUND_ROBIN);
    q->sl_target_s = 60;
    req(q, SK_TECH, 2);
    step(q, 120, 1, 1, -1);
    step(q, 240, 0, 1, SK_TECH);
    q = queue(m, Q_SMS_MAIN, sms, ENGINE_STRATEGY_LEAST_OCCUPIED);
    q->sl_target_s = 300;
    q->wrapup_s = 5;
    q->max_wait_s = 3600;
    q = queue(m, Q_MULTI, chat | sms | email, rotate(0, v + 1));
    q->sl_target_s = 120;
    q->max_size = 80;
    q->max_wait_s = 1800;
    step(q, 60, 1, 1, -1);
    if (v % 2 == 0) {
        q = queue(m, Q_POPUP, chat, ENGINE_STRATEGY_LONGEST_IDLE);
        q->overflow_queue = Q_CHAT_MAIN;
        q->max_size = 5;
    }
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

static void values(struct engine_condition *c, const char *key, int n, const char *const *v)
{
    snprintf(c->key, sizeof(c->key), "%s", key);
    for (int i = 0; i < n; i++) {
        snprintf(c->values[i], sizeof(c->values[i]), "%s", v[i]);
    }
    c->n_values = (uint8_t)n;
}

static struct engine_rule *rule(struct engine_model *m,
                                const char *name,
                                uint8_t action,
                                int32_t queue_id)
{
    struct engine_rule *r = &m->rules[m->n_rules++];
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->conds = zalloc(6, sizeof(*r->conds));
    r->action.kind = action;
    r->action.queue = queue_id;
    return r;
}

static void on_channel(struct engine_rule *r, int ch)
{
    cond(r, ENGINE_COND_CHANNEL, ENGINE_OP_EQ)->channels = ENGINE_CH_BIT(ch);
}

static void build_voice_rules(struct engine_model *m)
{
    static const char *const gold[] = {"gold", "platinum"};
    static const char *const latam[] = {"ES", "MX", "AR"};
    static const char *const support[] = {"support", "tech"};
    static const char *const sales[] = {"sales"};
    struct engine_rule *r = rule(m, "vip", ENGINE_ACTION_ROUTE, Q_VIP_VOICE);
    on_channel(r, ENGINE_CH_VOICE);
    values(cond(r, ENGINE_COND_ATTR, ENGINE_OP_IN), "tier", 2, gold);
    cond(r, ENGINE_COND_AGENTS_AVAILABLE, ENGINE_OP_GE)->number = 1;
    r->action.has_priority = true;
    r->action.priority = 5;
    r = rule(m, "busy-support-callback", ENGINE_ACTION_CALLBACK, Q_SUPPORT_VOICE);
    on_channel(r, ENGINE_CH_VOICE);
    cond(r, ENGINE_COND_EWT, ENGINE_OP_GT)->number = 240;
    values(cond(r, ENGINE_COND_ATTR, ENGINE_OP_EQ), "intent", 1, support);
    r = rule(m, "latam", ENGINE_ACTION_ROUTE, Q_SPANISH_VOICE);
    on_channel(r, ENGINE_CH_VOICE);
    values(cond(r, ENGINE_COND_LOCATION, ENGINE_OP_IN), "location", 3, latam);
    r = rule(m, "night", ENGINE_ACTION_OVERFLOW, -1);
    on_channel(r, ENGINE_CH_VOICE);
    struct engine_condition *c = cond(r, ENGINE_COND_TIME_OF_DAY, ENGINE_OP_EQ);
    c->zone = Z_EUROPE;
    c->from_min = 23 * 60;
    c->to_min = 5 * 60;
    snprintf(r->action.target, sizeof(r->action.target), "sip:night@site-b");
    r = rule(m, "sales", ENGINE_ACTION_ROUTE, Q_SALES_VOICE);
    on_channel(r, ENGINE_CH_VOICE);
    values(cond(r, ENGINE_COND_ATTR, ENGINE_OP_EQ), "intent", 1, sales);
    c = cond(r, ENGINE_COND_DAY_OF_WEEK, ENGINE_OP_EQ);
    c->days = 0x3f; /* Monday to Saturday */
    c->zone = Z_EUROPE;
    cond(r, ENGINE_COND_QUEUE_SIZE, ENGINE_OP_LT)->number = 25;
    cond(r, ENGINE_COND_QUEUE_OPEN, ENGINE_OP_EQ)->number = 1;
    r = rule(m, "support", ENGINE_ACTION_ROUTE, Q_SUPPORT_VOICE);
    on_channel(r, ENGINE_CH_VOICE);
    values(cond(r, ENGINE_COND_ATTR, ENGINE_OP_IN), "intent", 2, support);
    r->action.skills[r->action.n_skills++] = (struct engine_skill_level){SK_EN, 2};
    r = rule(m, "voice", ENGINE_ACTION_ROUTE, Q_GENERAL_VOICE);
    on_channel(r, ENGINE_CH_VOICE);
}

static void build_text_rules(struct engine_model *m)
{
    static const char *const claim[] = {"claim"};
    static const char *const tech[] = {"tech"};
    static const char *const gold[] = {"gold"};
    static const char *const nordic[] = {"SE", "NO", "DK"};
    struct engine_rule *r = rule(m, "claims-mail", ENGINE_ACTION_ROUTE, Q_EMAIL_CLAIMS);
    on_channel(r, ENGINE_CH_EMAIL);
    values(cond(r, ENGINE_COND_ATTR, ENGINE_OP_PREFIX), "subject", 1, claim);
    r = rule(m, "mail", ENGINE_ACTION_ROUTE, Q_EMAIL_MAIN);
    on_channel(r, ENGINE_CH_EMAIL);
    cond(r, ENGINE_COND_PRIORITY, ENGINE_OP_GE)->number = 0;
    r = rule(m, "chat-tech", ENGINE_ACTION_ROUTE, Q_CHAT_TECH);
    on_channel(r, ENGINE_CH_CHAT);
    values(cond(r, ENGINE_COND_ATTR, ENGINE_OP_EQ), "intent", 1, tech);
    cond(r, ENGINE_COND_QUEUE_OPEN, ENGINE_OP_EQ)->number = 1;
    r = rule(m, "chat-busy", ENGINE_ACTION_OVERFLOW, Q_MULTI);
    on_channel(r, ENGINE_CH_CHAT);
    cond(r, ENGINE_COND_QUEUE_SIZE, ENGINE_OP_GE)->number = 25;
    r->conds[r->n_conds - 1].queue = Q_CHAT_MAIN;
    r = rule(m, "chat", ENGINE_ACTION_ROUTE, Q_CHAT_MAIN);
    on_channel(r, ENGINE_CH_CHAT);
    r = rule(m, "sms-gold", ENGINE_ACTION_ROUTE, Q_SMS_MAIN);
    on_channel(r, ENGINE_CH_SMS);
    values(cond(r, ENGINE_COND_ATTR, ENGINE_OP_EQ), "tier", 1, gold);
    r->action.has_priority = true;
    r->action.priority = 2;
    r = rule(m, "sms-nordic", ENGINE_ACTION_ROUTE, Q_MULTI);
    on_channel(r, ENGINE_CH_SMS);
    values(cond(r, ENGINE_COND_LOCATION, ENGINE_OP_NOT_IN), "location", 3, nordic);
    cond(r, ENGINE_COND_EWT, ENGINE_OP_LE)->number = 600;
    r = rule(m, "sms", ENGINE_ACTION_ROUTE, Q_SMS_MAIN);
    on_channel(r, ENGINE_CH_SMS);
}

static void build_rules(struct engine_model *m)
{
    static const char *const g[] = {"G"};
    m->rules = zalloc(24, sizeof(*m->rules));
    struct engine_rule *r = rule(m, "blocked", ENGINE_ACTION_REJECT, -1);
    values(cond(r, ENGINE_COND_ATTR, ENGINE_OP_EXISTS), "blocked", 0, NULL);
    snprintf(r->action.reason, sizeof(r->action.reason), "blocked_customer");
    r = rule(m, "gold-accounts", ENGINE_ACTION_SET, -1);
    values(cond(r, ENGINE_COND_ATTR, ENGINE_OP_PREFIX), "account", 1, g);
    r->action.n_set = 2;
    snprintf(r->action.set[0].key, sizeof(r->action.set[0].key), "tier");
    snprintf(r->action.set[0].value, sizeof(r->action.set[0].value), "gold");
    snprintf(r->action.set[1].key, sizeof(r->action.set[1].key), "flagged");
    snprintf(r->action.set[1].value, sizeof(r->action.set[1].value), "1");
    build_voice_rules(m);
    build_text_rules(m);
}

/* Channels and capacities of one agent profile. */
static void agent_profile(struct engine_agent_def *a, struct sim_rng *r, int profile)
{
    switch (profile) {
        case 0: /* voice only */
            a->capacity[ENGINE_CH_VOICE] = 1;
            break;
        case 1: /* chat */
            a->capacity[ENGINE_CH_CHAT] = (uint8_t)rng_range(r, 1, 3);
            a->capacity[ENGINE_CH_SMS] = (uint8_t)rng_range(r, 0, 2);
            break;
        case 2: /* email */
            a->capacity[ENGINE_CH_EMAIL] = (uint8_t)rng_range(r, 1, 5);
            break;
        default: /* blended */
            a->capacity[ENGINE_CH_VOICE] = 1;
            a->capacity[ENGINE_CH_CHAT] = (uint8_t)rng_range(r, 1, 3);
            a->capacity[ENGINE_CH_EMAIL] = (uint8_t)rng_range(r, 1, 5);
            a->capacity[ENGINE_CH_SMS] = (uint8_t)rng_range(r, 1, 2);
            break;
    }
}

static void agent_skill(struct engine_agent_def *a, uint16_t skill, uint8_t level)
{
    for (uint8_t i = 0; i < a->n_skills; i++) {
        if (a->skills[i].skill == skill) {
            return;
        }
    }
    a->skills[a->n_skills].skill = skill;
    a->skills[a->n_skills].level = level;
    a->n_skills++;
}

/* Queues an agent serves: those of its channels, each with probability 3/5, and the
 * queue's own skills most of the time so that every queue has staff. */
static void agent_queues(struct engine_agent_def *a,
                         const struct engine_model *m,
                         struct sim_rng *r)
{
    for (uint32_t qi = 0; qi < m->n_queues && a->n_queues < ENGINE_AGENT_QUEUES; qi++) {
        const struct engine_queue *q = &m->queues[qi];
        bool serves = false;
        for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
            serves |= (q->channels & ENGINE_CH_BIT(ch)) && a->capacity[ch] > 0;
        }
        if (!serves || !rng_permille(r, 600)) {
            continue;
        }
        a->queues[a->n_queues++] = (uint16_t)qi;
        for (uint8_t k = 0; k < q->n_skills; k++) {
            if (rng_permille(r, 800)) {
                agent_skill(a, q->skills[k].skill, (uint8_t)rng_range(r, 1, 10));
            }
        }
    }
}

void sim_agent_def_random(struct engine_agent_def *a,
                          const struct engine_model *m,
                          struct sim_rng *r,
                          uint32_t index)
{
    static const char *const sites[] = {"lon", "nyc", "mad", "waw"};
    memset(a, 0, sizeof(*a));
    snprintf(a->name, sizeof(a->name), "agent-%04u", index);
    snprintf(a->site, sizeof(a->site), "%s", sites[index % 4]);
    agent_profile(a, r, (int)rng_below(r, 5));
    agent_queues(a, m, r);
    uint32_t extra = rng_range(r, 1, 4);
    for (uint32_t i = 0; i < extra; i++) {
        agent_skill(a, (uint16_t)rng_below(r, SIM_SKILLS), (uint8_t)rng_range(r, 1, 10));
    }
}

/* Dispositions (required in the main chat queue on even versions), away reasons on odd
 * ones (the reasons the simulated agents give, so that they are always taken), and the
 * chat reconnect time. */
static void build_wrapup_lists(struct engine_model *m, uint32_t version)
{
    static const char *const dispositions[] = {"resolved", "sale", "follow-up"};
    static const char *const away[] = {"break", "lunch", "meeting", "coaching", "training"};
    for (size_t i = 0; i < sizeof(dispositions) / sizeof(dispositions[0]); i++) {
        snprintf(m->dispositions[m->n_dispositions++], ENGINE_VALUE_MAX, "%s", dispositions[i]);
    }
    for (size_t i = 0; version % 2 && i < sizeof(away) / sizeof(away[0]); i++) {
        snprintf(m->away[m->n_away++], ENGINE_VALUE_MAX, "%s", away[i]);
    }
    m->queues[Q_CHAT_MAIN].disposition_required = version % 2 == 0;
    m->chat_reconnect_s = 30 + 30 * (version % 2);
}

void sim_model_build(struct sim *s, uint32_t version, struct engine_model *m)
{
    struct sim_rng r = {s->seed * 1000003u + 17};
    engine_model_init(m);
    m->n_skills = SIM_SKILLS;
    m->skills = zalloc(SIM_SKILLS, sizeof(*m->skills));
    for (int i = 0; i < SIM_SKILLS; i++) {
        snprintf(m->skills[i].s, sizeof(m->skills[i].s), "%s", sim_skill_names[i]);
    }
    build_zones(s, m);
    build_hours(s, m);
    m->queues = zalloc(Q_COUNT, sizeof(*m->queues));
    build_voice_queues(m, version);
    build_text_queues(m, version);
    build_rules(m);
    uint8_t others = ENGINE_CH_ALL & (uint8_t)~ENGINE_CH_BIT(ENGINE_CH_VOICE);
    m->blocks[ENGINE_CH_VOICE] = others;
    snprintf(m->rna_reason, sizeof(m->rna_reason), "%s", version % 2 ? "" : "missed_call");
    build_wrapup_lists(m, version);
    m->n_agents = s->n_model_agents;
    m->agents = zalloc(m->n_agents, sizeof(*m->agents));
    for (uint32_t i = 0; i < m->n_agents; i++) {
        sim_agent_def_random(&m->agents[i], m, &r, i);
    }
    /* Mutation: from version 2 on, a tenth of the agents change capacity and skills. */
    struct sim_rng mut = {s->seed ^ (version * 0x9e3779b97f4a7c15ULL)};
    for (uint32_t i = 0; version > 1 && i < m->n_agents; i++) {
        if (rng_permille(&mut, 100)) {
            sim_agent_def_random(&m->agents[i], m, &mut, i);
        }
    }
}

void sim_queues_sync(struct sim *s, const struct engine_model *m)
{
    s->n_queues = Q_COUNT;
    for (int i = 0; i < Q_COUNT; i++) {
        struct sim_queue *q = &s->queues[i];
        snprintf(q->name, sizeof(q->name), "%s", queue_names[i]);
        q->retired = (uint32_t)i >= m->n_queues;
        q->ring_all = !q->retired && m->queues[i].strategy == ENGINE_STRATEGY_RING_ALL;
    }
}

void sim_model_free(struct engine_model *m)
{
    engine_model_close(m);
}
