/* Derived indexes: requirement classes, agent memberships, readiness and strategy keys. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/hash.h"
#include "engine/internal.h"

#define IDLE_SHIFT 50

static bool reqs_met(const struct agent *a, const struct reqs *r)
{
    uint8_t j = 0;
    for (uint8_t i = 0; i < r->n; i++) {
        while (j < a->n_skills && a->skills[j].skill < r->s[i].skill) {
            j++;
        }
        if (j == a->n_skills || a->skills[j].skill != r->s[i].skill ||
            a->skills[j].level < r->s[i].level) {
            return false;
        }
    }
    return true;
}

static bool serves(const struct agent *a, uint16_t q)
{
    for (uint8_t i = 0; i < a->n_queues; i++) {
        if (a->queues[i].queue == q) {
            return true;
        }
    }
    return false;
}

uint64_t engine__skill_bits(const struct engine_skill_level *s, uint8_t n)
{
    uint64_t bits = 0;
    for (uint8_t i = 0; i < n; i++) {
        bits |= UINT64_C(1) << (s[i].skill % 64);
    }
    return bits;
}

bool engine__agent_eligible(const struct agent *a, const struct cls *k)
{
    return (k->req_bits & ~a->skill_bits) == 0 && !a->deleted && a->capacity[k->channel] > 0 &&
           serves(a, k->queue) && reqs_met(a, &k->reqs);
}

/* Field by field: struct engine_skill_level has a padding byte that nothing initialises,
 * so requirement sets are never compared as memory. */
bool engine__reqs_equal(const struct reqs *a, const struct reqs *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (uint8_t i = 0; i < a->n; i++) {
        if (a->s[i].skill != b->s[i].skill || a->s[i].level != b->s[i].level) {
            return false;
        }
    }
    return true;
}

static void reqs_drop(struct reqs *r, uint16_t skill)
{
    for (uint8_t i = 0; i < r->n; i++) {
        if (r->s[i].skill == skill) {
            memmove(&r->s[i], &r->s[i + 1], (size_t)(r->n - i - 1) * sizeof(r->s[0]));
            r->n--;
            return;
        }
    }
}

void engine__effective_reqs(const struct engine *e, const struct contact *c, struct reqs *r)
{
    *r = c->reqs;
    const struct queue *q = &e->queues[c->queue];
    for (uint8_t s = 0; s < c->step && s < q->def.n_steps; s++) {
        const struct engine_escalation *st = &q->def.steps[s];
        for (uint8_t i = 0; i < r->n; i++) {
            r->s[i].level =
                r->s[i].level > st->relax ? (uint8_t)(r->s[i].level - st->relax) : 1;
        }
        for (uint8_t i = 0; i < st->n_drop; i++) {
            reqs_drop(r, st->drop[i]);
        }
    }
}

/* ---- readiness and keys ------------------------------------------------------------- */

static uint8_t ready_mask(const struct engine *e, const struct agent *a)
{
    if (a->deleted || a->hold || a->presence != ENGINE_PRESENCE_AVAILABLE) {
        return 0;
    }
    uint8_t blocked = 0, mask = 0;
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        if (a->load[ch] > 0) {
            blocked |= e->model.blocks[ch];
        }
    }
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        if (a->load[ch] < a->capacity[ch] && !(blocked & ENGINE_CH_BIT(ch))) {
            mask |= ENGINE_CH_BIT(ch);
        }
    }
    return mask;
}

static int64_t idle_key(const struct agent *a)
{
    int64_t total = 0;
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        total += a->load[ch];
    }
    int64_t idle = a->last_idle < 0 ? 0 : a->last_idle & ((INT64_C(1) << IDLE_SHIFT) - 1);
    return (total << IDLE_SHIFT) | idle;
}

static int64_t utilisation(const struct agent *a)
{
    int64_t u = 0;
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        if (a->capacity[ch] > 0) {
            u += (int64_t)a->load[ch] * 1000 / a->capacity[ch];
        }
    }
    return u;
}

static int64_t skill_sum(const struct agent *a, const struct reqs *r)
{
    int64_t sum = 0;
    uint8_t j = 0;
    for (uint8_t i = 0; i < r->n; i++) {
        while (j < a->n_skills && a->skills[j].skill < r->s[i].skill) {
            j++;
        }
        if (j < a->n_skills && a->skills[j].skill == r->s[i].skill) {
            sum += a->skills[j].level;
        }
    }
    return sum;
}

static uint64_t rr_stamp(const struct agent *a, uint16_t q)
{
    for (uint8_t i = 0; i < a->n_queues; i++) {
        if (a->queues[i].queue == q) {
            return a->queues[i].rr;
        }
    }
    return 0;
}

static void member_key(const struct engine *e, struct member *m)
{
    const struct agent *a = &e->agents[m->agent];
    const struct cls *k = &e->classes[m->cls];
    switch (e->queues[k->queue].def.strategy) {
        case ENGINE_STRATEGY_LEAST_OCCUPIED:
            m->k1 = utilisation(a);
            m->k2 = a->busy_ms;
            break;
        case ENGINE_STRATEGY_BEST_SKILL:
            m->k1 = -skill_sum(a, &k->reqs);
            m->k2 = idle_key(a);
            break;
        case ENGINE_STRATEGY_ROUND_ROBIN:
            m->k1 = (int64_t)rr_stamp(a, k->queue);
            m->k2 = idle_key(a);
            break;
        default:
            m->k1 = idle_key(a);
            m->k2 = 0;
            break;
    }
}

static void queue_counters(struct engine *e, const struct agent *a, int sign)
{
    for (uint8_t i = 0; i < a->n_queues; i++) {
        struct queue *q = &e->queues[a->queues[i].queue];
        q->staffed += (uint32_t)(sign * (a->staffed ? 1 : 0));
        for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
            if (a->ready_mask & ENGINE_CH_BIT(ch)) {
                q->ready[ch] += (uint32_t)sign;
            }
        }
    }
}

static bool key_less(const struct member *x, const struct member *y)
{
    if (x->k1 != y->k1) {
        return x->k1 < y->k1;
    }
    return x->k2 < y->k2;
}

/* A heaped member's stored key is a lower bound of its true key: improvements are applied
 * at once, worsenings (and leaving the ready set) only when the entry reaches the top.
 * The validated top is then exactly the best ready agent, as an eager heap would give. */
bool engine__member_fresh(const struct engine *e, uint32_t mi)
{
    struct member m = e->members[mi];
    member_key(e, &m);
    return !key_less(&m, &e->members[mi]);
}

uint8_t engine__ready_mask(const struct engine *e, const struct agent *a)
{
    return ready_mask(e, a);
}

uint32_t engine__ready_top(struct engine *e, struct cls *k)
{
    while (k->ready.n > 0) {
        uint32_t mi = k->ready.v[0];
        struct member *m = &e->members[mi];
        if (!(e->agents[m->agent].ready_mask & ENGINE_CH_BIT(k->channel))) {
            engine__heap_remove(e, &k->ready, &engine__ready_heap, 0);
            continue;
        }
        struct member fresh = *m;
        member_key(e, &fresh);
        if (fresh.k1 == m->k1 && fresh.k2 == m->k2) {
            return mi;
        }
        m->k1 = fresh.k1;
        m->k2 = fresh.k2;
        engine__heap_fix(e, &k->ready, &engine__ready_heap, 0);
    }
    return NONE32;
}

static void sync_members(struct engine *e, uint32_t ai)
{
    struct agent *a = &e->agents[ai];
    a->dirty = false;
    uint8_t channels = a->ready_mask & a->member_channels;
    if (channels == 0) {
        return;
    }
    for (uint32_t i = 0; i < a->n_members; i++) {
        uint32_t mi = a->members[i];
        struct cls *k = &e->classes[a->member_cls[i]];
        if (!(channels & ENGINE_CH_BIT(k->channel))) {
            continue;
        }
        struct member *m = &e->members[mi];
        struct member fresh = *m;
        member_key(e, &fresh);
        if (m->pos == NONE32) {
            *m = fresh;
            if (engine__heap_push(e, &k->ready, &engine__ready_heap, mi) != 0) {
                e->oom = CD_ENOMEM;
            }
        } else if (key_less(&fresh, m)) {
            *m = fresh;
            engine__heap_fix(e, &k->ready, &engine__ready_heap, m->pos);
        }
    }
}

void engine__flush(struct engine *e)
{
    for (uint32_t i = 0; i < e->n_dirty; i++) {
        if (e->agents[e->dirty[i]].dirty) {
            sync_members(e, e->dirty[i]);
        }
    }
    e->n_dirty = 0;
}

void engine__agent_update(struct engine *e, uint32_t ai)
{
    struct agent *a = &e->agents[ai];
    if (a->attached) {
        queue_counters(e, a, -1);
        a->ready_mask = ready_mask(e, a);
        a->staffed = !a->deleted && a->presence == ENGINE_PRESENCE_AVAILABLE;
        queue_counters(e, a, +1);
    }
    if (a->dirty) {
        return;
    }
    if (GROW(e->dirty, e->cap_dirty, e->n_dirty + 1) != 0) {
        /* No room to defer: bring the heaps up to date now. */
        sync_members(e, ai);
        return;
    }
    a->dirty = true;
    e->dirty[e->n_dirty++] = ai;
}

/* ---- memberships -------------------------------------------------------------------- */

static int member_add(struct engine *e, uint32_t ai, uint32_t ki)
{
    struct agent *a = &e->agents[ai];
    struct cls *k = &e->classes[ki];
    uint32_t mi;
    uint32_t cap = a->cap_members;
    /* members[] and member_cls[] share cap_members: it may grow only once both have. */
    if (GROW(a->member_cls, cap, a->n_members + 1) != 0 ||
        GROW(a->members, a->cap_members, a->n_members + 1) != 0 ||
        GROW(k->members, k->cap_members, k->n_members + 1) != 0) {
        return CD_ENOMEM;
    }
    if (e->n_free_members > 0) {
        mi = e->free_members[--e->n_free_members];
    } else {
        if (GROW(e->members, e->cap_members, e->n_members + 1) != 0 ||
            GROW(e->free_members, e->cap_free_members, e->n_members + 1) != 0) {
            return CD_ENOMEM;
        }
        mi = e->n_members++;
    }
    e->members[mi] =
        (struct member){.agent = ai, .cls = ki, .pos = NONE32, .mpos = k->n_members};
    k->members[k->n_members++] = mi;
    a->member_cls[a->n_members] = ki;
    a->member_channels |= ENGINE_CH_BIT(k->channel);
    a->members[a->n_members++] = mi;
    return 0;
}

static void member_drop(struct engine *e, uint32_t mi)
{
    struct member *m = &e->members[mi];
    struct cls *k = &e->classes[m->cls];
    if (m->pos != NONE32) {
        engine__heap_remove(e, &k->ready, &engine__ready_heap, m->pos);
    }
    uint32_t last = k->members[--k->n_members];
    k->members[m->mpos] = last;
    e->members[last].mpos = m->mpos;
    e->free_members[e->n_free_members++] = mi;
}

void engine__agent_drop_members(struct engine *e, uint32_t ai)
{
    struct agent *a = &e->agents[ai];
    for (uint32_t i = 0; i < a->n_members; i++) {
        member_drop(e, a->members[i]);
    }
    a->n_members = 0;
    a->member_channels = 0;
    if (!a->attached) {
        return;
    }
    queue_counters(e, a, -1);
    a->ready_mask = 0;
    a->staffed = false;
    for (uint8_t i = 0; i < a->n_queues; i++) {
        struct queue *q = &e->queues[a->queues[i].queue];
        for (uint32_t j = 0; j < q->n_agents; j++) {
            if (q->agents[j] == ai) {
                q->agents[j] = q->agents[--q->n_agents];
                break;
            }
        }
    }
    a->attached = false;
}

static int agent_attach(struct engine *e, uint32_t ai)
{
    struct agent *a = &e->agents[ai];
    if (a->deleted) {
        return 0;
    }
    for (uint8_t i = 0; i < a->n_queues; i++) {
        struct queue *q = &e->queues[a->queues[i].queue];
        if (GROW(q->agents, q->cap_agents, q->n_agents + 1) != 0) {
            return CD_ENOMEM;
        }
        q->agents[q->n_agents++] = ai;
    }
    a->attached = true;
    return 0;
}

/* After the agent's definition changed: memberships from scratch, then readiness. */
int engine__agent_rebuild(struct engine *e, uint32_t ai)
{
    engine__agent_drop_members(e, ai);
    int rv = agent_attach(e, ai);
    struct agent *a = &e->agents[ai];
    for (uint8_t i = 0; rv == 0 && i < a->n_queues; i++) {
        const struct queue *q = &e->queues[a->queues[i].queue];
        for (uint32_t j = 0; rv == 0 && j < q->n_classes; j++) {
            if (engine__agent_eligible(a, &e->classes[q->classes[j]])) {
                rv = member_add(e, ai, q->classes[j]);
            }
        }
    }
    engine__agent_update(e, ai);
    return rv;
}

/* ---- classes ------------------------------------------------------------------------ */

static uint64_t class_hash(uint16_t q, uint8_t ch, const struct reqs *r)
{
    uint8_t buf[4 + ENGINE_REQ_SKILLS * 3];
    size_t n = 0;
    buf[n++] = (uint8_t)q;
    buf[n++] = (uint8_t)(q >> 8);
    buf[n++] = ch;
    buf[n++] = r->n;
    for (uint8_t i = 0; i < r->n; i++) {
        buf[n++] = (uint8_t)r->s[i].skill;
        buf[n++] = (uint8_t)(r->s[i].skill >> 8);
        buf[n++] = r->s[i].level;
    }
    return cd_hash64(buf, n, 0x636c617373);
}

struct class_probe
{
    const struct engine *e;
    uint16_t queue;
    uint8_t channel;
    const struct reqs *reqs;
};

static bool class_is(const void *ctx, uint32_t v)
{
    const struct class_probe *p = ctx;
    const struct cls *k = &p->e->classes[v];
    return k->queue == p->queue && k->channel == p->channel &&
           engine__reqs_equal(&k->reqs, p->reqs);
}

static int class_new(struct engine *e,
                     uint64_t h,
                     uint16_t qi,
                     uint8_t ch,
                     const struct reqs *r,
                     uint32_t *out)
{
    struct queue *q = &e->queues[qi];
    uint32_t cap = e->cap_classes; /* heads[] shares it with classes[], which goes last */
    if (GROW(e->heads, cap, e->n_classes + 1) != 0 ||
        GROW(e->classes, e->cap_classes, e->n_classes + 1) != 0 ||
        GROW(q->classes, q->cap_classes, q->n_classes + 1) != 0 ||
        engine__map_put(&e->by_class, h, e->n_classes) != 0) {
        return CD_ENOMEM;
    }
    uint32_t ki = e->n_classes++;
    struct cls *k = &e->classes[ki];
    memset(k, 0, sizeof(*k));
    k->queue = qi;
    k->channel = ch;
    k->reqs = *r;
    k->req_bits = engine__skill_bits(r->s, r->n);
    e->heads[ki] = (struct class_head){.queue = qi, .channel = ch};
    q->classes[q->n_classes++] = ki;
    /* Only the new membership needs a place in a ready heap: the agent's others are
     * unchanged, so it is not marked dirty (which would re-sync all of them). */
    for (uint32_t j = 0; j < q->n_agents; j++) {
        uint32_t ai = q->agents[j];
        struct agent *a = &e->agents[ai];
        if (!engine__agent_eligible(a, &e->classes[ki])) {
            continue;
        }
        if (member_add(e, ai, ki) != 0) {
            return CD_ENOMEM;
        }
        if (a->ready_mask & ENGINE_CH_BIT(ch)) {
            uint32_t mi = a->members[a->n_members - 1];
            member_key(e, &e->members[mi]);
            if (engine__heap_push(e, &e->classes[ki].ready, &engine__ready_heap, mi) != 0) {
                return CD_ENOMEM;
            }
        }
    }
    *out = ki;
    return 0;
}

uint32_t engine__class_find(const struct engine *e,
                            uint16_t queue,
                            uint8_t channel,
                            const struct reqs *r)
{
    struct class_probe p = {e, queue, channel, r};
    uint32_t ki;
    if (!engine__map_get(&e->by_class, class_hash(queue, channel, r), class_is, &p, &ki)) {
        return NONE32;
    }
    return ki;
}

int engine__class_for(struct engine *e, const struct contact *c, uint32_t *out)
{
    struct reqs r;
    engine__effective_reqs(e, c, &r);
    uint64_t h = class_hash(c->queue, c->channel, &r);
    struct class_probe p = {e, c->queue, c->channel, &r};
    if (engine__map_get(&e->by_class, h, class_is, &p, out)) {
        return 0;
    }
    return class_new(e, h, c->queue, c->channel, &r, out);
}

/* Rebuilds every derived structure from the primary data. */
int engine__reindex(struct engine *e)
{
    engine__clear_derived(e);
    engine__heap_close(&e->deadlines);
    for (uint32_t i = 0; i < e->n_queues; i++) {
        struct queue *q = &e->queues[i];
        q->waiting = 0;
        q->staffed = 0;
        memset(q->ready, 0, sizeof(q->ready));
    }
    for (uint32_t ai = 0; ai < e->n_agents; ai++) {
        struct agent *a = &e->agents[ai];
        a->attached = false;
        a->ready_mask = 0;
        a->dirty = false;
        a->staffed = false;
        a->n_held = 0;
        if (agent_attach(e, ai) != 0) {
            return CD_ENOMEM;
        }
    }
    for (uint32_t s = 0; s < e->n_slots; s++) {
        struct contact *c = &e->contacts[s];
        if (c->id == 0) {
            continue;
        }
        c->cls = c->dpos = NONE32;
        if (c->state == ENGINE_CONTACT_QUEUED && engine__enqueue(e, c) != 0) {
            return CD_ENOMEM;
        }
        if (c->deadline != NEVER &&
            engine__heap_push(e, &e->deadlines, &engine__deadline_heap, s) != 0) {
            return CD_ENOMEM;
        }
        for (uint8_t i = 0; i < (c->ring ? c->n_ring : (c->agent != NONE32 ? 1 : 0)); i++) {
            struct agent *a = &e->agents[c->ring ? c->ring[i] : c->agent];
            if (GROW(a->held, a->cap_held, a->n_held + 1) != 0) {
                return CD_ENOMEM;
            }
            a->held[a->n_held++] = s;
        }
    }
    /* Creating the classes above made every membership; readiness and counters remain. */
    for (uint32_t ai = 0; ai < e->n_agents; ai++) {
        engine__agent_update(e, ai);
    }
    engine__flush(e);
    return e->oom;
}
