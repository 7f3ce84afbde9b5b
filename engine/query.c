/* Read-only views of the state for the API, reports and tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/commands.h"

static const char *agent_name(const struct engine *e, uint32_t ai)
{
    return ai == NONE32 ? "" : e->agents[ai].name;
}

static void fill_contact(const struct engine *e,
                         const struct contact *c,
                         struct engine_contact_info *out)
{
    memset(out, 0, sizeof(*out));
    out->id = c->id;
    out->channel = c->channel;
    out->state = c->state;
    out->priority = c->priority;
    out->step = c->step;
    out->callback = c->callback;
    out->key = c->keyrec == NONE32 ? "" : e->keyrecs[c->keyrec].key;
    out->queue = c->queue == NONE16 ? "" : e->queues[c->queue].name;
    out->agent = agent_name(e, c->ring ? NONE32 : c->agent);
    out->offer = c->offer;
    out->arrived = c->arrived;
    out->enqueued = c->entered;
    out->answered = c->answered;
    out->held_since = c->held_since;
    out->n_attrs = engine__attrs_list(c, out->attrs);
    out->home = engine__home(c);
    out->session = engine__session(c);
    out->session_lost = c->session_lost != 0;
    out->reconnect_by = c->reconnect_by == NEVER ? 0 : c->reconnect_by;
    out->messages = c->n_msgs;
    struct reqs r = c->reqs;
    if (c->queue != NONE16) {
        engine__effective_reqs(e, c, &r);
    }
    out->n_skills = r.n;
    for (uint8_t i = 0; i < r.n; i++) {
        out->skills[i].skill = e->skills[r.s[i].skill].name;
        out->skills[i].level = r.s[i].level;
    }
}

int engine_contact_get(const struct engine *e, uint64_t id, struct engine_contact_info *out)
{
    const struct contact *c = engine__contact(e, id);
    if (c == NULL) {
        return CD_ENOTFOUND;
    }
    fill_contact(e, c, out);
    return 0;
}

int engine_agent_get(const struct engine *e, const char *name, struct engine_agent_info *out)
{
    int ai = engine__agent_id(e, name);
    if (ai < 0 || e->agents[ai].deleted) {
        return CD_ENOTFOUND;
    }
    const struct agent *a = &e->agents[ai];
    memset(out, 0, sizeof(*out));
    out->name = a->name;
    out->site = a->site;
    out->presence = a->presence;
    out->state = engine__agent_state(a);
    out->reason = a->reason;
    memcpy(out->capacity, a->capacity, sizeof(out->capacity));
    memcpy(out->load, a->load, sizeof(out->load));
    out->last_idle = a->last_idle;
    out->state_since = a->shown_since;
    int64_t busy = a->busy_ms + (a->busy_since ? e->clock - a->busy_since : 0);
    int64_t logged = e->clock - a->login_at;
    if (a->presence != ENGINE_PRESENCE_OFFLINE && logged > 0) {
        out->occupancy_permille = (uint32_t)(busy * 1000 / logged);
    }
    out->n_skills = a->n_skills;
    for (uint8_t i = 0; i < a->n_skills; i++) {
        out->skills[i].skill = e->skills[a->skills[i].skill].name;
        out->skills[i].level = a->skills[i].level;
    }
    out->n_queues = a->n_queues;
    for (uint8_t i = 0; i < a->n_queues; i++) {
        out->queues[i] = e->queues[a->queues[i].queue].name;
    }
    return 0;
}

static int64_t oldest(const struct engine *e, const struct queue *q)
{
    int64_t at = 0;
    for (uint32_t i = 0; i < q->n_classes; i++) {
        const struct waitline *w = &e->classes[q->classes[i]].contacts;
        for (uint32_t j = 0; j < w->n; j++) {
            const struct contact *c = &e->contacts[w->v[j].slot];
            if (c->id == w->v[j].id && c->cls == q->classes[i] && c->qgen == w->v[j].gen) {
                at = (at == 0 || c->entered < at) ? c->entered : at;
            }
        }
    }
    return at;
}

int engine_queue_get(const struct engine *e, const char *name, struct engine_queue_info *out)
{
    int qi = engine__queue_id(e, name);
    if (qi < 0) {
        return CD_ENOTFOUND;
    }
    const struct queue *q = &e->queues[qi];
    memset(out, 0, sizeof(*out));
    out->name = q->name;
    out->retired = q->retired;
    out->paused = q->paused;
    out->open = engine__queue_open(e, q);
    out->waiting = q->waiting;
    out->oldest_enqueued = oldest(e, q);
    uint32_t ready = 0;
    uint8_t busiest = ENGINE_CH_COUNT;
    for (uint8_t ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        if ((q->def.channels & ENGINE_CH_BIT(ch)) &&
            (busiest == ENGINE_CH_COUNT || q->ready[ch] > ready)) {
            ready = q->ready[ch];
            busiest = ch;
        }
    }
    /* For a contact on the queue's channel with the most ready agents. */
    out->ewt_ms = engine__ewt(e, q, q->waiting, busiest);
    out->staffed = q->staffed;
    out->available = ready;
    /* Counters belong to the day they were taken on; yesterday's read as zero today. */
    struct local_time lt;
    engine__local_time(&e->model, engine__queue_zone(e, q), e->clock, &lt);
    if (lt.date == q->stats.day) {
        const struct queue_stats *s = &q->stats;
        out->arrived = s->arrived;
        out->offered = s->offered;
        out->answered = s->answered;
        out->answered_in_sl = s->answered_in_sl;
        out->abandoned = s->abandoned;
        out->overflowed = s->overflowed;
        out->timed_out = s->timed_out;
        out->abandoned_after_sl = s->abandoned_after_sl;
        uint32_t base = s->answered + s->abandoned_after_sl;
        out->sl_permille =
            base ? (uint32_t)((uint64_t)s->answered_in_sl * 1000 / base) : ENGINE_NO_DATA;
    } else {
        out->sl_permille = ENGINE_NO_DATA;
    }
    out->totals = q->totals;
    out->sl_target_s = q->def.sl_target_s;
    out->sl_percent = q->def.sl_percent;
    out->sl_formula = q->def.sl_formula;
    out->thresholds = q->def.thresholds;
    return 0;
}

void engine_queues_waiting_past(const struct engine *e, int64_t now_ms, uint32_t *counts)
{
    memset(counts, 0, e->n_queues * sizeof(*counts));
    for (uint32_t i = 0; i < e->n_slots; i++) {
        const struct contact *c = &e->contacts[i];
        if (c->id == 0 || c->queue == NONE16 ||
            (c->state != ENGINE_CONTACT_QUEUED && c->state != ENGINE_CONTACT_OFFERED)) {
            continue;
        }
        const struct queue *q = &e->queues[c->queue];
        if (now_ms - c->entered > (int64_t)q->def.sl_target_s * 1000) {
            counts[c->queue]++;
        }
    }
}

size_t engine_contact_count(const struct engine *e)
{
    return e->n_live;
}

size_t engine_agent_count(const struct engine *e)
{
    return e->n_agents;
}

size_t engine_queue_count(const struct engine *e)
{
    return e->n_queues;
}

const char *engine_agent_name(const struct engine *e, size_t i)
{
    return i < e->n_agents ? e->agents[i].name : NULL;
}

const char *engine_queue_name(const struct engine *e, size_t i)
{
    return i < e->n_queues ? e->queues[i].name : NULL;
}

int engine_contacts_foreach(const struct engine *e,
                            int (*cb)(void *data, const struct engine_contact_info *c),
                            void *data)
{
    uint64_t *ids = cd_malloc((e->n_live ? e->n_live : 1) * sizeof(*ids));
    size_t n = 0;
    int rv = 0;
    if (ids == NULL) {
        return CD_ENOMEM;
    }
    for (uint32_t s = 0; s < e->n_slots; s++) {
        if (e->contacts[s].id != 0) {
            ids[n++] = e->contacts[s].id;
        }
    }
    qsort(ids, n, sizeof(*ids), engine__by_id);
    struct engine_contact_info *info = cd_malloc(sizeof(*info));
    for (size_t i = 0; info != NULL && i < n && rv == 0; i++) {
        fill_contact(e, engine__contact(e, ids[i]), info);
        rv = cb(data, info);
    }
    rv = info == NULL ? CD_ENOMEM : rv;
    cd_free(info);
    cd_free(ids);
    return rv;
}

static const char *strategy_why(uint8_t s)
{
    switch (s) {
        case ENGINE_STRATEGY_LEAST_OCCUPIED:
            return "lowest load relative to capacity, then least busy time";
        case ENGINE_STRATEGY_BEST_SKILL:
            return "highest proficiency on the required skills, then longest idle";
        case ENGINE_STRATEGY_ROUND_ROBIN:
            return "offered to least recently by this queue";
        case ENGINE_STRATEGY_RING_ALL:
            return "rung together with every other ready agent; first to accept";
        default:
            return "fewest contacts in hand, then longest idle";
    }
}

int engine_explain(const struct engine *e, uint64_t id, char *buf, size_t len)
{
    const struct contact *c = engine__contact(e, id);
    if (c == NULL) {
        return CD_ENOTFOUND;
    }
    const struct queue *q = &e->queues[c->queue];
    size_t n = 0;
#define OUT(...) \
    n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, __VA_ARGS__)
    if (c->rule > 0 && c->rule <= e->model.n_rules) {
        OUT("rule '%s' (%u of %u) matched; ", e->model.rules[c->rule - 1].name, c->rule,
            e->model.n_rules);
    } else {
        OUT("sent straight to its queue; ");
    }
    OUT("queue '%s' (%s), priority %d; ", q->name, engine_strategy_name(q->def.strategy),
        c->priority);
    if (c->step > 0) {
        const struct engine_escalation *st = &q->def.steps[c->step - 1];
        OUT("escalation step %u (after %us: relax %u, %u skills dropped); ", c->step,
            st->after_s, st->relax, st->n_drop);
    } else {
        OUT("no escalation step reached; ");
    }
    OUT("state %s", engine_contact_state_name(c->state));
    if (c->agent != NONE32 && c->ring == NULL) {
        OUT("; agent '%s' chosen by %s among %u ready eligible agents",
            e->agents[c->agent].name, strategy_why(c->last_strategy), c->last_eligible);
    } else if (c->ring != NULL) {
        OUT("; ringing %u agents at once", c->n_ring);
    }
#undef OUT
    return 0;
}
