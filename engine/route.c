/* Matching contacts and agents: the heaps' orderings, offers, ring-all, and the two
 * directions of a routing decision (a contact arrives; an agent becomes ready). */
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/error.h"
#include "engine/internal.h"

static bool ready_less(const struct engine *e, uint32_t a, uint32_t b)
{
    const struct member *x = &e->members[a], *y = &e->members[b];
    if (x->k1 != y->k1) {
        return x->k1 < y->k1;
    }
    if (x->k2 != y->k2) {
        return x->k2 < y->k2;
    }
    return x->agent < y->agent;
}

static void ready_pos(struct engine *e, uint32_t item, uint32_t pos)
{
    e->members[item].pos = pos;
}

static bool deadline_less(const struct engine *e, uint32_t a, uint32_t b)
{
    const struct contact *x = &e->contacts[a], *y = &e->contacts[b];
    if (x->deadline != y->deadline) {
        return x->deadline < y->deadline;
    }
    return x->id < y->id;
}

static void deadline_pos(struct engine *e, uint32_t item, uint32_t pos)
{
    e->contacts[item].dpos = pos;
}

const struct heap_ops engine__ready_heap = {ready_less, ready_pos};
const struct heap_ops engine__deadline_heap = {deadline_less, deadline_pos};

/* The contact's key in the deadlines is the earlier of its two: its state's timer and a
 * chat's reconnect deadline. */
static void index_deadline(struct engine *e, struct contact *c)
{
    uint32_t slot = engine__slot(e, c);
    int64_t at = c->timer < c->reconnect_by ? c->timer : c->reconnect_by;
    if (c->dpos != NONE32) {
        if (at == NEVER) {
            engine__heap_remove(e, &e->deadlines, &engine__deadline_heap, c->dpos);
            c->deadline = NEVER;
        } else if (at != c->deadline) {
            c->deadline = at;
            engine__heap_fix(e, &e->deadlines, &engine__deadline_heap, c->dpos);
        }
        return;
    }
    c->deadline = at;
    if (at != NEVER && engine__heap_push(e, &e->deadlines, &engine__deadline_heap, slot) != 0) {
        e->oom = CD_ENOMEM;
    }
}

void engine__set_deadline(struct engine *e, struct contact *c, int64_t at)
{
    c->timer = at;
    index_deadline(e, c);
}

void engine__set_reconnect(struct engine *e, struct contact *c, int64_t at)
{
    c->reconnect_by = at;
    index_deadline(e, c);
}

static void head_refresh(struct engine *e, uint32_t ki)
{
    const struct wait_entry *w = engine__wait_head(&e->classes[ki].contacts);
    struct class_head *h = &e->heads[ki];
    h->id = w ? w->id : 0;
    h->enqueued = w ? w->enqueued : 0;
    h->priority = w ? w->priority : 0;
}

int engine__enqueue(struct engine *e, struct contact *c)
{
    uint32_t ki;
    CD_ASSERT(c->cls == NONE32 && c->offer == 0); /* in no line and under no offer yet */
    if (engine__class_for(e, c, &ki) != 0) {
        e->oom = CD_ENOMEM;
        return CD_ENOMEM;
    }
    c->cls = ki;
    c->state = ENGINE_CONTACT_QUEUED;
    e->queues[c->queue].waiting++;
    if (engine__wait_push(e, &e->classes[ki].contacts, c) != 0) {
        e->oom = CD_ENOMEM;
        return CD_ENOMEM;
    }
    head_refresh(e, ki);
    return 0;
}

void engine__dequeue(struct engine *e, struct contact *c)
{
    uint32_t ki = c->cls;
    if (ki == NONE32) {
        return;
    }
    c->cls = NONE32;
    CD_ASSERT(e->queues[c->queue].waiting > 0);
    e->queues[c->queue].waiting--;
    engine__wait_drop(e, &e->classes[ki].contacts, ki, c->id);
    head_refresh(e, ki);
}

uint8_t engine__agent_state(const struct agent *a)
{
    if (a->deleted) {
        return ENGINE_AGENT_OFFLINE;
    }
    bool active = false, wrap = false;
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        active |= a->active[ch] > 0;
        wrap |= a->load[ch] > a->active[ch];
    }
    if (active) {
        return ENGINE_AGENT_BUSY;
    }
    if (wrap) {
        return ENGINE_AGENT_WRAPUP;
    }
    switch (a->presence) {
        case ENGINE_PRESENCE_AVAILABLE:
            return ENGINE_AGENT_AVAILABLE;
        case ENGINE_PRESENCE_AWAY:
            return ENGINE_AGENT_AWAY;
        default:
            return ENGINE_AGENT_OFFLINE;
    }
}

/* A change of the derived state, or of the reason while away, is announced with the span
 * it ends (prev_state, prev_reason, since). */
void engine__agent_state_fx(struct engine *e, uint32_t ai)
{
    struct agent *a = &e->agents[ai];
    uint8_t s = engine__agent_state(a);
    const char *reason = s == ENGINE_AGENT_AWAY ? a->reason : "";
    if (s == a->shown_state && strcmp(reason, a->shown_reason) == 0) {
        return;
    }
    char prev_reason[ENGINE_VALUE_MAX];
    memcpy(prev_reason, a->shown_reason, sizeof(prev_reason));
    struct engine_effect fx = {.kind = ENGINE_FX_AGENT_STATE,
                               .state = s,
                               .agent = a->name,
                               .text = a->reason,
                               .at = e->clock,
                               .prev_state = a->shown_state,
                               .since = a->shown_since,
                               .prev_reason = prev_reason,
                               .site = a->site};
    a->shown_state = s;
    a->shown_since = e->clock;
    size_t n = strnlen(reason, sizeof(a->shown_reason) - 1);
    memcpy(a->shown_reason, reason, n);
    a->shown_reason[n] = 0;
    engine__emit(e, &fx);
}

static int total_load(const struct agent *a)
{
    int n = 0;
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        n += a->load[ch];
    }
    return n;
}

int engine__load_add(struct engine *e, uint32_t ai, struct contact *c)
{
    struct agent *a = &e->agents[ai];
    if (GROW(a->held, a->cap_held, a->n_held + 1) != 0) {
        e->oom = CD_ENOMEM;
        return CD_ENOMEM;
    }
    if (total_load(a) == 0) {
        a->busy_since = e->clock;
    }
    a->held[a->n_held++] = engine__slot(e, c);
    a->load[c->channel]++;
    a->active[c->channel]++;
    return 0;
}

void engine__load_sub(struct engine *e, uint32_t ai, struct contact *c, bool active)
{
    struct agent *a = &e->agents[ai];
    uint32_t slot = engine__slot(e, c);
    uint32_t i = 0;
    while (i < a->n_held && a->held[i] != slot) {
        i++;
    }
    /* The agent held this contact, and counted it. */
    CD_ASSERT(i < a->n_held && a->load[c->channel] > 0 &&
              (!active || a->active[c->channel] > 0));
    a->held[i] = a->held[--a->n_held];
    a->load[c->channel]--;
    if (a->allowance[c->channel] > a->load[c->channel]) {
        a->allowance[c->channel] =
            a->load[c->channel] > a->capacity[c->channel] ? a->load[c->channel] : 0;
    }
    if (active) {
        a->active[c->channel]--;
    }
    if (total_load(a) == 0) {
        a->busy_ms += e->clock - a->busy_since;
        a->busy_since = 0;
        a->last_idle = e->clock;
    }
    engine__agent_update(e, ai);
    engine__agent_state_fx(e, ai);
}

static void stamp_rr(struct engine *e, struct agent *a, uint16_t qi)
{
    struct queue *q = &e->queues[qi];
    for (uint8_t i = 0; i < a->n_queues; i++) {
        if (a->queues[i].queue == qi) {
            a->queues[i].rr = ++q->rr_clock;
        }
    }
}

static void open_offer(struct engine *e, struct contact *c, uint32_t eligible)
{
    struct queue *q = &e->queues[c->queue];
    engine__dequeue(e, c);
    engine__stats_dequeue(e, q, c);
    engine__stats_touch(e, q);
    STAT(q, offered);
    c->state = ENGINE_CONTACT_OFFERED;
    /* One open offer per contact, and an id no open offer has: accepts are fenced by it. */
    CD_ASSERT(c->offer == 0 &&
              !engine__map_get(&e->by_offer, e->next_offer, NULL, NULL, &(uint32_t){0}));
    c->offer = e->next_offer++;
    c->offers++;
    c->last_strategy = q->def.strategy;
    c->last_eligible = eligible;
    if (c->offered == 0) {
        c->offered = e->clock;
    }
    if (engine__map_put(&e->by_offer, c->offer, engine__slot(e, c)) != 0) {
        e->oom = CD_ENOMEM;
    }
    uint32_t ring = q->def.ring_s ? q->def.ring_s : DEFAULT_RING_S;
    engine__set_deadline(e, c, e->clock + (int64_t)ring * 1000);
}

static void offer_fx(struct engine *e, struct contact *c, uint32_t ai)
{
    struct engine_effect fx = {.kind = ENGINE_FX_OFFER,
                               .channel = c->channel,
                               .contact = c->id,
                               .offer = c->offer,
                               .agent = e->agents[ai].name,
                               .queue = e->queues[c->queue].name,
                               .at = c->timer};
    engine__emit_contact(e, c, &fx);
}

static void give(struct engine *e, struct contact *c, uint32_t ai)
{
    struct agent *a = &e->agents[ai];
    /* Only a ready agent is offered anything: never past its capacity. */
    CD_ASSERT((a->ready_mask & ENGINE_CH_BIT(c->channel)) &&
              a->load[c->channel] < a->capacity[c->channel]);
    stamp_rr(e, a, c->queue);
    engine__load_add(e, ai, c);
    engine__agent_update(e, ai);
    offer_fx(e, c, ai);
    engine__agent_state_fx(e, ai);
}

void engine__offer(struct engine *e, struct contact *c, uint32_t ai, uint32_t eligible)
{
    open_offer(e, c, eligible);
    c->agent = ai;
    give(e, c, ai);
}

/* Ring every ready member of the class, best first, up to ENGINE_RING_ALL_MAX, under one
 * offer id. */
static bool ring_all(struct engine *e, struct contact *c, struct cls *k)
{
    uint32_t agents[ENGINE_RING_ALL_MAX];
    uint8_t n = 0;
    uint32_t eligible = e->queues[k->queue].ready[k->channel];
    uint32_t mi;
    while (n < ENGINE_RING_ALL_MAX && (mi = engine__ready_top(e, k)) != NONE32) {
        agents[n++] = e->members[mi].agent;
        engine__heap_remove(e, &k->ready, &engine__ready_heap, 0);
    }
    if (n == 0) {
        return false;
    }
    c->ring = cd_malloc(n * sizeof(*c->ring));
    if (c->ring == NULL) {
        e->oom = CD_ENOMEM;
        return false;
    }
    memcpy(c->ring, agents, n * sizeof(*c->ring));
    c->n_ring = n;
    open_offer(e, c, eligible);
    for (uint8_t i = 0; i < n; i++) {
        give(e, c, agents[i]);
    }
    return true;
}

void engine__route_contact(struct engine *e, struct contact *c)
{
    if (c->state != ENGINE_CONTACT_QUEUED || c->cls == NONE32 || e->routing_paused) {
        return;
    }
    engine__flush(e);
    struct cls *k = &e->classes[c->cls];
    if (e->queues[k->queue].paused) {
        return;
    }
    if (e->queues[k->queue].def.strategy == ENGINE_STRATEGY_RING_ALL) {
        (void)ring_all(e, c, k);
        return;
    }
    uint32_t mi = engine__ready_top(e, k);
    if (mi != NONE32) {
        engine__offer(e, c, e->members[mi].agent, e->queues[k->queue].ready[k->channel]);
    }
}

/* Order of two class heads across queues: priority, then wait relative to each queue's
 * service-level target (compared as cross-multiplied integers), then age, then id. */
static bool head_before(const struct engine *e,
                        const struct class_head *a,
                        const struct class_head *b)
{
    if (a->priority != b->priority) {
        return a->priority > b->priority;
    }
    int64_t ta = e->queues[a->queue].def.sl_target_s;
    int64_t tb = e->queues[b->queue].def.sl_target_s;
    int64_t wa = e->clock - a->enqueued, wb = e->clock - b->enqueued;
    ta = ta < 1 ? 1 : ta;
    tb = tb < 1 ? 1 : tb;
    if (wa * tb != wb * ta) {
        return wa * tb > wb * ta;
    }
    if (a->enqueued != b->enqueued) {
        return a->enqueued < b->enqueued;
    }
    return a->id < b->id;
}

/* The class whose head is the most overdue contact the agent could take now, or NONE32.
 * Reads only the agent's class list and the compact array of heads. */
static uint32_t best_for(const struct engine *e, const struct agent *a)
{
    uint32_t best = NONE32;
    for (uint32_t i = 0; i < a->n_members; i++) {
        uint32_t ki = a->member_cls[i];
        const struct class_head *h = &e->heads[ki];
        if (h->id == 0 || !(a->ready_mask & ENGINE_CH_BIT(h->channel)) ||
            e->queues[h->queue].paused) {
            continue;
        }
        if (best == NONE32 || head_before(e, h, &e->heads[best])) {
            best = ki;
        }
    }
    return best;
}

void engine__route_agent(struct engine *e, uint32_t ai)
{
    while (!e->routing_paused) {
        uint32_t ki = best_for(e, &e->agents[ai]);
        if (ki == NONE32 || e->oom) {
            return;
        }
        struct cls *k = &e->classes[ki];
        struct contact *c = &e->contacts[engine__wait_head(&k->contacts)->slot];
        if (e->queues[k->queue].def.strategy == ENGINE_STRATEGY_RING_ALL) {
            engine__flush(e);
            if (!ring_all(e, c, k)) {
                /* Cannot happen while readiness and heaps agree; never loop on it. */
                return;
            }
        } else {
            engine__offer(e, c, ai, e->queues[k->queue].ready[k->channel]);
        }
    }
}

void engine__route_agents(struct engine *e, const uint32_t *agents, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        engine__route_agent(e, agents[i]);
    }
}

/* After a rebuild: match every ready agent, in roster order. */
void engine__route_all(struct engine *e)
{
    for (uint32_t ai = 0; ai < e->n_agents; ai++) {
        engine__route_agent(e, ai);
    }
}

/* Takes the offer back from every agent it was made to; with requeue the contact returns
 * to its place in line (its order key is unchanged) and is routed again. The agents
 * released are routed afterwards. */
void engine__withdraw_offer(struct engine *e, struct contact *c, bool requeue)
{
    uint32_t agents[ENGINE_RING_ALL_MAX];
    uint32_t n = 0;
    if (c->ring != NULL) {
        n = c->n_ring;
        memcpy(agents, c->ring, n * sizeof(agents[0]));
        cd_free(c->ring);
        c->ring = NULL;
        c->n_ring = 0;
    } else if (c->agent != NONE32) {
        agents[n++] = c->agent;
    }
    engine__map_del(&e->by_offer, c->offer, engine__slot(e, c));
    uint64_t offer = c->offer;
    c->offer = 0;
    c->agent = NONE32;
    for (uint32_t i = 0; i < n; i++) {
        engine__load_sub(e, agents[i], c, true);
        struct engine_effect fx = {.kind = ENGINE_FX_OFFER_CANCEL,
                                   .channel = c->channel,
                                   .contact = c->id,
                                   .offer = offer,
                                   .agent = e->agents[agents[i]].name,
                                   .queue = e->queues[c->queue].name,
                                   .state = requeue ? ENGINE_CONTACT_QUEUED : c->state};
        engine__emit_contact(e, c, &fx);
    }
    if (requeue) {
        engine__set_deadline(e, c, NEVER);
        engine__enqueue(e, c);
        engine__requeue_timers(e, c);
        engine__route_contact(e, c);
    }
    engine__route_agents(e, agents, n);
}

int engine__cmd_queue_pause(struct engine *e,
                            const char *name,
                            bool paused,
                            struct engine_result *res)
{
    int qi = name != NULL ? engine__queue_id(e, name) : -1;
    if (qi < 0 || e->queues[qi].retired) {
        return FAIL(res, CD_ENOTFOUND, "queue '%s' not found", name ? name : "");
    }
    struct queue *q = &e->queues[qi];
    if (q->paused == paused) {
        return FAIL(res, CD_ESTATE, "queue '%s' is already %s", q->name,
                    paused ? "paused" : "running");
    }
    q->paused = paused;
    if (!paused) {
        engine__route_all(e);
    }
    return 0;
}
