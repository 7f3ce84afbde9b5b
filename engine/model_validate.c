/* engine_model_validate(): every index, range and ordering rule engine.h states for a
 * routing model. The engine indexes arrays with what a model holds, so nothing reaches an
 * installed state without passing here. Checks run in a fixed order and stop at the first
 * failure, so every node reports the same message for the same model. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"

#define DAY_MIN 1440
#define INDEX_MAX 65535 /* skills, queues and rules are stored as 16-bit ids */
#define OFFSET_MAX 86400

struct vctx
{
    const struct engine_model *m;
    char *err;
    size_t errlen;
};

static int fail(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct vctx *v, const char *fmt, ...)
{
    if (v->err != NULL && v->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->err, v->errlen, fmt, ap);
        va_end(ap);
    }
    return CD_EINVAL;
}

static bool terminated(const char *s, size_t size)
{
    return memchr(s, 0, size) != NULL;
}

static bool index_ok(int64_t i, uint32_t n)
{
    return i >= 0 && i < (int64_t)n;
}

/* ---- Names -------------------------------------------------------------------------- */

/* Every named kind keeps its name in the first member of its struct. */
struct kind
{
    const char *what;
    const void *base;
    uint32_t n;
    size_t stride;
};

static const char *name_at(const struct kind *k, uint32_t i)
{
    return (const char *)k->base + (size_t)i * k->stride;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The smallest name that occurs twice, or NULL. Sorting needs memory; without it a
 * quadratic scan finds the same name, so the answer never depends on the allocator. */
static const char *duplicate(const struct kind *k)
{
    const char *dup = NULL;
    const char **v = k->n > 1 ? cd_malloc(k->n * sizeof(*v)) : NULL;
    if (v != NULL) {
        for (uint32_t i = 0; i < k->n; i++) {
            v[i] = name_at(k, i);
        }
        qsort(v, k->n, sizeof(*v), by_name);
        for (uint32_t i = 1; i < k->n && dup == NULL; i++) {
            dup = strcmp(v[i - 1], v[i]) == 0 ? v[i] : NULL;
        }
        cd_free(v);
        return dup;
    }
    for (uint32_t i = 0; k->n > 1 && i < k->n; i++) {
        for (uint32_t j = i + 1; j < k->n; j++) {
            const char *s = name_at(k, i);
            if (strcmp(s, name_at(k, j)) == 0 && (dup == NULL || strcmp(s, dup) < 0)) {
                dup = s;
            }
        }
    }
    return dup;
}

static int check_names(struct vctx *v, const struct kind *k)
{
    if (k->n > 0 && k->base == NULL) {
        return fail(v, "model: no array for %u %s entries", k->n, k->what);
    }
    for (uint32_t i = 0; i < k->n; i++) {
        const char *s = name_at(k, i);
        if (!terminated(s, ENGINE_NAME_MAX)) {
            return fail(v, "%s %u: name not terminated", k->what, i);
        }
        if (s[0] == 0) {
            return fail(v, "%s %u: empty name", k->what, i);
        }
    }
    const char *dup = duplicate(k);
    if (dup != NULL) {
        return fail(v, "%s '%s': name used twice", k->what, dup);
    }
    return 0;
}

static int check_all_names(struct vctx *v)
{
    const struct engine_model *m = v->m;
    const struct kind kinds[] = {
        {"skill", m->skills, m->n_skills, sizeof(*m->skills)},
        {"zone", m->zones, m->n_zones, sizeof(*m->zones)},
        {"hours", m->hours, m->n_hours, sizeof(*m->hours)},
        {"queue", m->queues, m->n_queues, sizeof(*m->queues)},
        {"agent", m->agents, m->n_agents, sizeof(*m->agents)},
        {"rule", m->rules, m->n_rules, sizeof(*m->rules)},
    };
    if (m->n_skills > INDEX_MAX || m->n_queues > INDEX_MAX || m->n_rules > INDEX_MAX) {
        return fail(v, "model: %u skills, %u queues, %u rules (at most %u of each)",
                    m->n_skills, m->n_queues, m->n_rules, INDEX_MAX);
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        int rv = check_names(v, &kinds[i]);
        if (rv != 0) {
            return rv;
        }
    }
    return 0;
}

/* ---- Shared pieces ------------------------------------------------------------------ */

static int check_levels(struct vctx *v,
                        const char *who,
                        const char *what,
                        const struct engine_skill_level *s,
                        unsigned n,
                        unsigned max)
{
    if (n > max) {
        return fail(v, "%s: %u %s (max %u)", who, n, what, max);
    }
    for (unsigned i = 0; i < n; i++) {
        if (s[i].skill >= v->m->n_skills) {
            return fail(v, "%s: %s %u: skill %u out of range", who, what, i, s[i].skill);
        }
        if (s[i].level < 1 || s[i].level > ENGINE_PROFICIENCY_MAX) {
            return fail(v, "%s: skill '%s': level %u not in 1..%d", who,
                        v->m->skills[s[i].skill].s, s[i].level, ENGINE_PROFICIENCY_MAX);
        }
    }
    return 0;
}

static int check_channels(struct vctx *v, const char *who, const char *what, uint8_t mask)
{
    if (mask == 0 || (mask & ~ENGINE_CH_ALL) != 0) {
        return fail(v, "%s: %s mask 0x%x invalid", who, what, mask);
    }
    return 0;
}

static int check_day(struct vctx *v,
                     const char *who,
                     const char *day,
                     const struct engine_day_hours *d)
{
    if (d->n > ENGINE_INTERVALS_MAX) {
        return fail(v, "%s: %s: %u intervals (max %d)", who, day, d->n, ENGINE_INTERVALS_MAX);
    }
    for (uint8_t i = 0; i < d->n; i++) {
        const struct engine_interval *iv = &d->iv[i];
        if (iv->from_min >= iv->to_min || iv->to_min > DAY_MIN) {
            return fail(v, "%s: %s: interval %u-%u invalid", who, day, iv->from_min,
                        iv->to_min);
        }
        if (i > 0 && iv->from_min < d->iv[i - 1].to_min) {
            return fail(v, "%s: %s: interval %u-%u overlaps or is out of order", who, day,
                        iv->from_min, iv->to_min);
        }
    }
    return 0;
}

/* ---- Zones and hours ---------------------------------------------------------------- */

static int check_zone(struct vctx *v, const struct engine_zone *z)
{
    char who[ENGINE_NAME_MAX + 16];
    snprintf(who, sizeof(who), "zone '%s'", z->name);
    if (z->base_offset <= -OFFSET_MAX || z->base_offset >= OFFSET_MAX) {
        return fail(v, "%s: base_offset %d out of range", who, z->base_offset);
    }
    if (z->n_transitions > 0 && z->transitions == NULL) {
        return fail(v, "%s: %u transitions but no array", who, z->n_transitions);
    }
    for (uint32_t i = 0; i < z->n_transitions; i++) {
        const struct engine_tz_transition *t = &z->transitions[i];
        if (t->offset <= -OFFSET_MAX || t->offset >= OFFSET_MAX) {
            return fail(v, "%s: transition %u: offset %d out of range", who, i, t->offset);
        }
        if (i > 0 && t->at <= z->transitions[i - 1].at) {
            return fail(v, "%s: transition %u: not after the one before", who, i);
        }
    }
    return 0;
}

static int check_hours(struct vctx *v, const struct engine_hours *h)
{
    static const char *const days[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};
    char who[ENGINE_NAME_MAX + 16];
    snprintf(who, sizeof(who), "hours '%s'", h->name);
    if (h->zone >= v->m->n_zones) {
        return fail(v, "%s: zone %u out of range", who, h->zone);
    }
    for (int d = 0; d < 7; d++) {
        int rv = check_day(v, who, days[d], &h->week[d]);
        if (rv != 0) {
            return rv;
        }
    }
    if (h->n_holidays > 0 && h->holidays == NULL) {
        return fail(v, "%s: %u holidays but no array", who, h->n_holidays);
    }
    for (uint32_t i = 0; i < h->n_holidays; i++) {
        char day[32];
        snprintf(day, sizeof(day), "holiday %d", h->holidays[i].date);
        if (i > 0 && h->holidays[i].date <= h->holidays[i - 1].date) {
            return fail(v, "%s: %s: not after the one before", who, day);
        }
        int rv = check_day(v, who, day, &h->holidays[i].hours);
        if (rv != 0) {
            return rv;
        }
    }
    return 0;
}

/* ---- Queues and agents -------------------------------------------------------------- */

static int check_steps(struct vctx *v, const char *who, const struct engine_queue *q)
{
    if (q->n_steps > ENGINE_STEPS_MAX) {
        return fail(v, "%s: %u escalation steps (max %d)", who, q->n_steps, ENGINE_STEPS_MAX);
    }
    for (uint8_t i = 0; i < q->n_steps; i++) {
        const struct engine_escalation *s = &q->steps[i];
        if (i > 0 && s->after_s <= q->steps[i - 1].after_s) {
            return fail(v, "%s: step %u: after_s %u not after the step before", who, i,
                        s->after_s);
        }
        if (s->after_s == 0) { /* due as it arrives: a deadline that is already past */
            return fail(v, "%s: step 0: after_s 0 (at least 1)", who);
        }
        if (s->relax > ENGINE_PROFICIENCY_MAX) {
            return fail(v, "%s: step %u: relax %u out of range", who, i, s->relax);
        }
        if (s->n_drop > ENGINE_REQ_SKILLS) {
            return fail(v, "%s: step %u: %u skills dropped (max %d)", who, i, s->n_drop,
                        ENGINE_REQ_SKILLS);
        }
        for (uint8_t j = 0; j < s->n_drop; j++) {
            if (s->drop[j] >= v->m->n_skills) {
                return fail(v, "%s: step %u: drop skill %u out of range", who, i, s->drop[j]);
            }
        }
    }
    return 0;
}

/* A warning and an alarm, either of them not set (0), or the alarm the worse one: lower
 * when lower_is_worse, higher otherwise. */
static bool pair_ok(uint32_t warn, uint32_t alarm, bool lower_is_worse)
{
    if (warn == 0 || alarm == 0) {
        return true;
    }
    return lower_is_worse ? alarm < warn : alarm > warn;
}

/* The engine routes the same whatever these hold; reports and the wallboard read them. */
static int check_report_settings(struct vctx *v, const char *who, const struct engine_queue *q)
{
    const struct engine_thresholds *t = &q->thresholds;
    if (q->sl_formula >= ENGINE_SL_FORMULA_COUNT) {
        return fail(v, "%s: sl_formula %u unknown", who, q->sl_formula);
    }
    if (q->short_abandon_s > ENGINE_SHORT_ABANDON_MAX) {
        return fail(v, "%s: short_abandon_s %u above %d", who, q->short_abandon_s,
                    ENGINE_SHORT_ABANDON_MAX);
    }
    if (t->sl_warn > 100 || t->sl_alarm > 100) {
        return fail(v, "%s: sl_warn %u or sl_alarm %u above 100", who, t->sl_warn, t->sl_alarm);
    }
    if (!pair_ok(t->sl_warn, t->sl_alarm, true)) {
        return fail(v, "%s: sl_alarm %u not below sl_warn %u", who, t->sl_alarm, t->sl_warn);
    }
    if (!pair_ok(t->waiting_warn, t->waiting_alarm, false)) {
        return fail(v, "%s: waiting_alarm %u not above waiting_warn %u", who, t->waiting_alarm,
                    t->waiting_warn);
    }
    if (!pair_ok(t->wait_warn_s, t->wait_alarm_s, false)) {
        return fail(v, "%s: wait_alarm_s %u not above wait_warn_s %u", who, t->wait_alarm_s,
                    t->wait_warn_s);
    }
    return 0;
}

static int check_queue(struct vctx *v, uint32_t qi, const struct engine_queue *q)
{
    char who[ENGINE_NAME_MAX + 16];
    snprintf(who, sizeof(who), "queue '%s'", q->name);
    int rv = check_channels(v, who, "channels", q->channels);
    if (rv != 0) {
        return rv;
    }
    if (q->strategy >= ENGINE_STRATEGY_COUNT) {
        return fail(v, "%s: strategy %u unknown", who, q->strategy);
    }
    if (q->strategy == ENGINE_STRATEGY_RING_ALL &&
        q->channels != ENGINE_CH_BIT(ENGINE_CH_VOICE)) {
        return fail(v, "%s: ring-all needs a voice-only queue", who);
    }
    if (q->sl_percent > 100) {
        return fail(v, "%s: sl_percent %u above 100", who, q->sl_percent);
    }
    if (q->hours != -1 && !index_ok(q->hours, v->m->n_hours)) {
        return fail(v, "%s: hours %d out of range", who, q->hours);
    }
    if (q->overflow_queue != -1 && !index_ok(q->overflow_queue, v->m->n_queues)) {
        return fail(v, "%s: overflow_queue %d out of range", who, q->overflow_queue);
    }
    if (q->overflow_queue == (int32_t)qi) {
        return fail(v, "%s: overflows to itself", who);
    }
    if (!terminated(q->overflow_target, sizeof(q->overflow_target))) {
        return fail(v, "%s: overflow_target not terminated", who);
    }
    rv = check_levels(v, who, "skills", q->skills, q->n_skills, ENGINE_REQ_SKILLS);
    rv = rv != 0 ? rv : check_steps(v, who, q);
    return rv != 0 ? rv : check_report_settings(v, who, q);
}

static int check_agent_lists(struct vctx *v, const char *who, const struct engine_agent_def *a)
{
    if (a->n_queues > ENGINE_AGENT_QUEUES) {
        return fail(v, "%s: %u queues (max %d)", who, a->n_queues, ENGINE_AGENT_QUEUES);
    }
    for (uint8_t i = 0; i < a->n_queues; i++) {
        if (a->queues[i] >= v->m->n_queues) {
            return fail(v, "%s: queue %u out of range", who, a->queues[i]);
        }
        for (uint8_t j = 0; j < i; j++) {
            if (a->queues[j] == a->queues[i]) {
                return fail(v, "%s: queue '%s' listed twice", who,
                            v->m->queues[a->queues[i]].name);
            }
        }
    }
    for (uint8_t i = 0; i < a->n_skills; i++) {
        for (uint8_t j = 0; j < i; j++) {
            if (a->skills[j].skill == a->skills[i].skill) {
                return fail(v, "%s: skill '%s' listed twice", who,
                            v->m->skills[a->skills[i].skill].s);
            }
        }
    }
    return 0;
}

static int check_agent(struct vctx *v, const struct engine_agent_def *a)
{
    char who[ENGINE_NAME_MAX + 16];
    snprintf(who, sizeof(who), "agent '%s'", a->name);
    if (!terminated(a->site, sizeof(a->site))) {
        return fail(v, "%s: site not terminated", who);
    }
    int rv = check_levels(v, who, "skills", a->skills, a->n_skills, ENGINE_AGENT_SKILLS);
    return rv != 0 ? rv : check_agent_lists(v, who, a);
}

/* ---- Rules -------------------------------------------------------------------------- */

static bool names_queue(const struct engine_action *a)
{
    return (a->kind == ENGINE_ACTION_ROUTE || a->kind == ENGINE_ACTION_CALLBACK ||
            a->kind == ENGINE_ACTION_OVERFLOW) &&
           a->queue >= 0;
}

static int check_values(struct vctx *v, const char *who, const struct engine_condition *c)
{
    if (c->n_values > ENGINE_COND_VALUES) {
        return fail(v, "%s: %u values (max %d)", who, c->n_values, ENGINE_COND_VALUES);
    }
    for (uint8_t i = 0; i < c->n_values; i++) {
        if (!terminated(c->values[i], ENGINE_VALUE_MAX) || c->values[i][0] == 0) {
            return fail(v, "%s: value %u empty or not terminated", who, i);
        }
    }
    if (c->op == ENGINE_OP_EXISTS ? c->n_values != 0 : c->n_values == 0) {
        return fail(v, "%s: op %u with %u values", who, c->op, c->n_values);
    }
    return 0;
}

static int check_attr_cond(struct vctx *v, const char *who, const struct engine_condition *c)
{
    if (!terminated(c->key, sizeof(c->key))) {
        return fail(v, "%s: key not terminated", who);
    }
    if (c->kind == ENGINE_COND_ATTR) {
        if (c->key[0] == 0) {
            return fail(v, "%s: empty key", who);
        }
        if (c->op >= ENGINE_OP_LT && c->op <= ENGINE_OP_GE) {
            return fail(v, "%s: op %u not allowed on an attribute", who, c->op);
        }
    } else if (c->op != ENGINE_OP_EQ && c->op != ENGINE_OP_NE && c->op != ENGINE_OP_IN &&
               c->op != ENGINE_OP_NOT_IN) {
        return fail(v, "%s: op %u not allowed on a location", who, c->op);
    }
    return check_values(v, who, c);
}

static int check_time_cond(struct vctx *v, const char *who, const struct engine_condition *c)
{
    if (c->zone != -1 && !index_ok(c->zone, v->m->n_zones)) {
        return fail(v, "%s: zone %d out of range", who, c->zone);
    }
    if (c->kind == ENGINE_COND_DAY_OF_WEEK) {
        return (c->days == 0 || c->days > 0x7f)
                   ? fail(v, "%s: days mask 0x%x invalid", who, c->days)
                   : 0;
    }
    if (c->from_min >= DAY_MIN || c->to_min > DAY_MIN || c->from_min == c->to_min) {
        return fail(v, "%s: time window %u-%u invalid", who, c->from_min, c->to_min);
    }
    return 0;
}

static int check_queue_cond(struct vctx *v,
                            const char *who,
                            const struct engine_rule *r,
                            const struct engine_condition *c)
{
    if (c->queue == -1 && !names_queue(&r->action)) {
        return fail(v, "%s: no queue, and the action names none", who);
    }
    if (c->queue != -1 && !index_ok(c->queue, v->m->n_queues)) {
        return fail(v, "%s: queue %d out of range", who, c->queue);
    }
    if (c->kind != ENGINE_COND_QUEUE_OPEN && c->op > ENGINE_OP_GE) {
        return fail(v, "%s: op %u not allowed on a number", who, c->op);
    }
    return 0;
}

static int check_cond(struct vctx *v,
                      const char *rule_who,
                      const struct engine_rule *r,
                      uint32_t i)
{
    const struct engine_condition *c = &r->conds[i];
    char who[ENGINE_NAME_MAX + 64];
    snprintf(who, sizeof(who), "%s: condition %u", rule_who, i);
    if (c->op >= ENGINE_OP_COUNT) {
        return fail(v, "%s: op %u unknown", who, c->op);
    }
    switch (c->kind) {
        case ENGINE_COND_CHANNEL:
            return check_channels(v, who, "channels", c->channels);
        case ENGINE_COND_ATTR:
        case ENGINE_COND_LOCATION:
            return check_attr_cond(v, who, c);
        case ENGINE_COND_TIME_OF_DAY:
        case ENGINE_COND_DAY_OF_WEEK:
            return check_time_cond(v, who, c);
        case ENGINE_COND_EWT:
        case ENGINE_COND_QUEUE_SIZE:
        case ENGINE_COND_AGENTS_AVAILABLE:
        case ENGINE_COND_QUEUE_OPEN:
            return check_queue_cond(v, who, r, c);
        case ENGINE_COND_PRIORITY:
            return c->op > ENGINE_OP_GE
                       ? fail(v, "%s: op %u not allowed on a number", who, c->op)
                       : 0;
        default:
            return fail(v, "%s: kind %u unknown", who, c->kind);
    }
}

static int check_set(struct vctx *v, const char *who, const struct engine_action *a)
{
    if (a->kind == ENGINE_ACTION_SET && a->n_set == 0) {
        return fail(v, "%s: set action assigns nothing", who);
    }
    if (a->n_set > ENGINE_SET_MAX) {
        return fail(v, "%s: %u attributes set (max %d)", who, a->n_set, ENGINE_SET_MAX);
    }
    for (uint8_t i = 0; i < a->n_set; i++) {
        const struct engine_kv *kv = &a->set[i];
        if (!terminated(kv->key, sizeof(kv->key)) || kv->key[0] == 0 ||
            !terminated(kv->value, sizeof(kv->value))) {
            return fail(v, "%s: set %u: key empty, or key or value not terminated", who, i);
        }
    }
    return 0;
}

static int check_action(struct vctx *v, const char *who, const struct engine_action *a)
{
    if (a->kind >= ENGINE_ACTION_KIND_COUNT) {
        return fail(v, "%s: action kind %u unknown", who, a->kind);
    }
    if (!terminated(a->target, sizeof(a->target)) ||
        !terminated(a->reason, sizeof(a->reason))) {
        return fail(v, "%s: target or reason not terminated", who);
    }
    bool needs_queue = a->kind == ENGINE_ACTION_ROUTE || a->kind == ENGINE_ACTION_CALLBACK;
    if ((needs_queue || a->queue != -1) && !index_ok(a->queue, v->m->n_queues)) {
        return fail(v, "%s: action queue %d out of range", who, a->queue);
    }
    if (a->kind == ENGINE_ACTION_OVERFLOW && a->queue < 0 && a->target[0] == 0) {
        return fail(v, "%s: overflow needs a queue or a target", who);
    }
    if (a->kind == ENGINE_ACTION_REJECT && a->reason[0] == 0) {
        return fail(v, "%s: reject needs a reason", who);
    }
    int rv = check_levels(v, who, "action skills", a->skills, a->n_skills, ENGINE_REQ_SKILLS);
    return rv != 0 ? rv : check_set(v, who, a);
}

static int check_rule(struct vctx *v, const struct engine_rule *r)
{
    char who[ENGINE_NAME_MAX + 16];
    snprintf(who, sizeof(who), "rule '%s'", r->name);
    int rv = check_action(v, who, &r->action);
    if (rv != 0) {
        return rv;
    }
    if (r->n_conds > 0 && r->conds == NULL) {
        return fail(v, "%s: %u conditions but no array", who, r->n_conds);
    }
    for (uint32_t i = 0; i < r->n_conds && rv == 0; i++) {
        rv = check_cond(v, who, r, i);
    }
    return rv;
}

/* ---- The whole model ---------------------------------------------------------------- */

static int check_personal(struct vctx *v)
{
    if (v->m->n_personal > ENGINE_PERSONAL_MAX) {
        return fail(v, "model: %u personal keys, at most %d", v->m->n_personal,
                    ENGINE_PERSONAL_MAX);
    }
    for (uint32_t i = 0; i < v->m->n_personal; i++) {
        const char *k = v->m->personal[i];
        if (!terminated(k, ENGINE_KEY_MAX) || !engine_name_valid(k, ENGINE_KEY_MAX)) {
            return fail(v, "model: personal key %u invalid", i);
        }
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(v->m->personal[j], k) == 0) {
                return fail(v, "model: personal key '%s' listed twice", k);
            }
        }
    }
    return 0;
}

/* A list of names (away reasons, dispositions): valid, none twice. */
static int check_names_list(struct vctx *v,
                            const char *what,
                            const char (*list)[ENGINE_VALUE_MAX],
                            uint32_t n,
                            uint32_t max)
{
    if (n > max) {
        return fail(v, "model: %u %s, at most %u", n, what, max);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!terminated(list[i], ENGINE_VALUE_MAX) ||
            !engine_name_valid(list[i], ENGINE_VALUE_MAX)) {
            return fail(v, "model: %s %u invalid", what, i);
        }
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(list[j], list[i]) == 0) {
                return fail(v, "model: %s '%s' listed twice", what, list[i]);
            }
        }
    }
    return 0;
}

/* Display text and values: terminated, within cap, no control characters; empty only when
 * allowed. */
static bool text_ok(const char *s, size_t cap, bool may_be_empty)
{
    if (!terminated(s, cap) || (!may_be_empty && s[0] == 0)) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != 0; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

static int check_field(struct vctx *v,
                       const struct engine_chat_entry *ce,
                       uint32_t fi,
                       const struct engine_chat_field *f)
{
    const char *who = ce->name;
    if (!terminated(f->key, ENGINE_KEY_MAX) || !engine_name_valid(f->key, ENGINE_KEY_MAX)) {
        return fail(v, "chat entry '%s': field %u: key invalid", who, fi);
    }
    for (uint32_t j = 0; j < fi; j++) {
        if (strcmp(ce->fields[j].key, f->key) == 0) {
            return fail(v, "chat entry '%s': field '%s' given twice", who, f->key);
        }
    }
    if (!text_ok(f->label, ENGINE_LABEL_MAX, false)) {
        return fail(v, "chat entry '%s': field '%s': label invalid", who, f->key);
    }
    if (f->type >= ENGINE_FIELD_TYPE_COUNT || f->max == 0 || f->max >= ENGINE_VALUE_MAX) {
        return fail(v, "chat entry '%s': field '%s': type %u or max %u out of range", who,
                    f->key, f->type, f->max);
    }
    bool select = f->type == ENGINE_FIELD_SELECT;
    if (f->n_options > ENGINE_CHAT_OPTIONS_MAX || select != (f->n_options > 0)) {
        return fail(v,
                    "chat entry '%s': field '%s': %u options (a select needs 1-%d, other "
                    "types none)",
                    who, f->key, f->n_options, ENGINE_CHAT_OPTIONS_MAX);
    }
    for (uint32_t i = 0; i < f->n_options; i++) {
        if (!text_ok(f->options[i], ENGINE_VALUE_MAX, false) ||
            strlen(f->options[i]) > f->max) {
            return fail(v, "chat entry '%s': field '%s': option %u invalid", who, f->key, i);
        }
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(f->options[j], f->options[i]) == 0) {
                return fail(v, "chat entry '%s': field '%s': option '%s' listed twice", who,
                            f->key, f->options[i]);
            }
        }
    }
    return 0;
}

static int check_chat(struct vctx *v)
{
    const struct engine_model *m = v->m;
    if (m->chat_reconnect_s != 0 && (m->chat_reconnect_s < ENGINE_CHAT_RECONNECT_MIN ||
                                     m->chat_reconnect_s > ENGINE_CHAT_RECONNECT_MAX)) {
        return fail(v, "model: chat reconnect %u s out of range %d-%d", m->chat_reconnect_s,
                    ENGINE_CHAT_RECONNECT_MIN, ENGINE_CHAT_RECONNECT_MAX);
    }
    if (m->n_chat_entries > ENGINE_CHAT_ENTRIES_MAX ||
        (m->n_chat_entries > 0 && m->chat_entries == NULL)) {
        return fail(v, "model: %u chat entries, at most %d", m->n_chat_entries,
                    ENGINE_CHAT_ENTRIES_MAX);
    }
    for (uint32_t i = 0; i < m->n_chat_entries; i++) {
        const struct engine_chat_entry *ce = &m->chat_entries[i];
        if (!terminated(ce->name, ENGINE_NAME_MAX) ||
            !engine_name_valid(ce->name, ENGINE_NAME_MAX)) {
            return fail(v, "model: chat entry %u: name invalid", i);
        }
        if (engine_model_chat_entry(m, ce->name) != (int)i) {
            return fail(v, "model: chat entry '%s' given twice", ce->name);
        }
        if (ce->queue != -1 &&
            (!index_ok(ce->queue, m->n_queues) ||
             !(m->queues[ce->queue].channels & ENGINE_CH_BIT(ENGINE_CH_CHAT)))) {
            return fail(v, "chat entry '%s': queue %d is not a chat queue", ce->name,
                        ce->queue);
        }
        if (ce->n_fields > ENGINE_CHAT_FIELDS_MAX) {
            return fail(v, "chat entry '%s': %u fields, at most %d", ce->name, ce->n_fields,
                        ENGINE_CHAT_FIELDS_MAX);
        }
        for (uint32_t f = 0; f < ce->n_fields; f++) {
            int rv = check_field(v, ce, f, &ce->fields[f]);
            if (rv != 0) {
                return rv;
            }
        }
    }
    return 0;
}

/* Away reasons, dispositions and the chat section. */
static int check_wrapup_lists(struct vctx *v)
{
    const struct engine_model *m = v->m;
    int rv = check_names_list(v, "away reason", m->away, m->n_away, ENGINE_REASONS_MAX);
    rv = rv ? rv
            : check_names_list(v, "disposition", m->dispositions, m->n_dispositions,
                               ENGINE_DISPOSITIONS_MAX);
    for (uint32_t i = 0; rv == 0 && i < m->n_queues; i++) {
        if (m->queues[i].disposition_required && m->n_dispositions == 0) {
            rv = fail(v,
                      "queue '%s': disposition_required, but the model lists no "
                      "dispositions",
                      m->queues[i].name);
        }
    }
    return rv ? rv : check_chat(v);
}

static int check_globals(struct vctx *v)
{
    for (int c = 0; c < ENGINE_CH_COUNT; c++) {
        if ((v->m->blocks[c] & ~ENGINE_CH_ALL) != 0) {
            return fail(v, "model: blocks of %s 0x%x invalid", engine_channel_name(c),
                        v->m->blocks[c]);
        }
    }
    if (!terminated(v->m->rna_reason, sizeof(v->m->rna_reason))) {
        return fail(v, "model: rna_reason not terminated");
    }
    if (v->m->report_zone != -1 && !index_ok(v->m->report_zone, v->m->n_zones)) {
        return fail(v, "model: report_zone %d out of range", v->m->report_zone);
    }
    int rv = check_personal(v);
    return rv ? rv : check_wrapup_lists(v);
}

int engine_model_validate(const struct engine_model *m, char *err, size_t errlen)
{
    struct vctx v = {m, err, errlen};
    int rv = check_all_names(&v);
    for (uint32_t i = 0; rv == 0 && i < m->n_zones; i++) {
        rv = check_zone(&v, &m->zones[i]);
    }
    for (uint32_t i = 0; rv == 0 && i < m->n_hours; i++) {
        rv = check_hours(&v, &m->hours[i]);
    }
    for (uint32_t i = 0; rv == 0 && i < m->n_queues; i++) {
        rv = check_queue(&v, i, &m->queues[i]);
    }
    for (uint32_t i = 0; rv == 0 && i < m->n_agents; i++) {
        rv = check_agent(&v, &m->agents[i]);
    }
    for (uint32_t i = 0; rv == 0 && i < m->n_rules; i++) {
        rv = check_rule(&v, &m->rules[i]);
    }
    if (rv == 0) {
        rv = check_globals(&v);
    }
    if (rv == 0) {
        rv = engine__continuity_check(m, err, errlen);
    }
    if (rv == 0) {
        rv = engine__runbooks_check(m, err, errlen);
    }
    if (rv == 0 && err != NULL && errlen > 0) {
        err[0] = 0;
    }
    return rv;
}
