/* Invariants. Per offer (inside the effect callback, with read-only queries on the engine
 * as it is at that moment): the agent is available, within capacity and not blocked, and
 * no contact of the same queue that the agent could take was ahead of the one offered.
 * After every command: every contact and agent the command touched agrees with the
 * shadow (state, offer, agent, load), no agent is over capacity. Periodically: the
 * engine's own full check and a comparison of every contact and queue. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "tests/sim/sim.h"

static const uint8_t engine_state_of[] = {
    [SC_QUEUED] = ENGINE_CONTACT_QUEUED,
    [SC_OFFERED] = ENGINE_CONTACT_OFFERED,
    [SC_CONNECTED] = ENGINE_CONTACT_CONNECTED,
    [SC_WRAPUP] = ENGINE_CONTACT_WRAPUP,
};

static void agent_info(struct sim *s, const char *name, struct engine_agent_info *out)
{
    if (engine_agent_get(s->e, name, out) != 0) {
        sim_fail(s, "agent '%s' not found by engine_agent_get", name);
    }
}

/* Channel ch is blocked for an agent holding load[] (minus one contact on `minus`). */
static bool blocked(const struct sim *s, const uint8_t *load, int minus, int ch)
{
    const struct engine_model *m = engine_model(s->e);
    for (int b = 0; b < ENGINE_CH_COUNT; b++) {
        int held = load[b] - (b == minus);
        if (held > 0 && (m->blocks[b] & ENGINE_CH_BIT(ch))) {
            return true;
        }
    }
    return false;
}

void sim_check_offer(struct sim *s, const struct engine_effect *fx, uint32_t ai)
{
    struct engine_agent_info a;
    agent_info(s, fx->agent, &a);
    int ch = fx->channel;
    if (a.presence != ENGINE_PRESENCE_AVAILABLE) {
        sim_fail(s, "contact %llu offered to '%s' whose presence is %s",
                 (unsigned long long)fx->contact, fx->agent, engine_presence_name(a.presence));
    }
    if (a.load[ch] > a.capacity[ch] || a.load[ch] != s->agents[ai].load[ch] + 1) {
        sim_fail(s, "offer to '%s' on %s: load %u, capacity %u, shadow load before %u",
                 fx->agent, engine_channel_name(ch), a.load[ch], a.capacity[ch],
                 s->agents[ai].load[ch]);
    }
    if (blocked(s, a.load, ch, ch)) {
        sim_fail(s, "offer to '%s' on %s while it holds a contact that blocks it", fx->agent,
                 engine_channel_name(ch));
    }
}

static bool has_skills(const struct engine_agent_info *a, const struct engine_contact_info *c)
{
    for (uint8_t i = 0; i < c->n_skills; i++) {
        bool found = false;
        for (uint8_t j = 0; j < a->n_skills && !found; j++) {
            found = (a->skills[j].skill == c->skills[i].skill ||
                     strcmp(a->skills[j].skill, c->skills[i].skill) == 0) &&
                    a->skills[j].level >= c->skills[i].level;
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

/* The agent, just offered a contact on channel `taken`, could have taken y instead. */
static bool could_take(const struct sim *s,
                       const struct engine_agent_info *a,
                       int taken,
                       const struct engine_contact_info *y)
{
    int ch = y->channel;
    int load = a->load[ch] - (ch == taken);
    if (load >= a->capacity[ch] || blocked(s, a->load, taken, ch)) {
        return false;
    }
    return has_skills(a, y);
}

static bool ahead(const struct engine_contact_info *y, const struct engine_contact_info *x)
{
    if (y->priority != x->priority) {
        return y->priority > x->priority;
    }
    if (y->arrived != x->arrived) {
        return y->arrived < x->arrived; /* the place in line is kept from the arrival */
    }
    return y->id < x->id;
}

static void compare_waiting(struct sim *s,
                            uint64_t yid,
                            const struct engine_contact_info *x,
                            const struct engine_agent_info *a)
{
    struct engine_contact_info y;
    if (engine_contact_get(s->e, yid, &y) != 0 || y.state != ENGINE_CONTACT_QUEUED) {
        sim_fail(s, "contact %llu: shadow says queued, engine disagrees",
                 (unsigned long long)yid);
    }
    s->st.order_compared++;
    if (could_take(s, a, x->channel, &y) && ahead(&y, x)) {
        sim_fail(s,
                 "queue order: '%s' offered contact %llu (priority %d, arrived %lld) from "
                 "'%s' while contact %llu (priority %d, arrived %lld) it could take waited",
                 a->name, (unsigned long long)x->id, x->priority, (long long)x->arrived,
                 x->queue, (unsigned long long)y.id, y.priority, (long long)y.arrived);
    }
}

/* Every waiting contact of the queue is compared when there are at most SIM_ORDER_SAMPLE,
 * otherwise SIM_ORDER_SAMPLE of them drawn at random. */
void sim_check_queue_order(struct sim *s, const struct engine_effect *fx, uint32_t ai)
{
    (void)ai;
    int qi = sim_queue_index(s, fx->queue);
    if (qi < 0 || s->queues[qi].ring_all) {
        return;
    }
    const struct sim_queue *q = &s->queues[qi];
    struct engine_contact_info x;
    struct engine_agent_info a;
    if (engine_contact_get(s->e, fx->contact, &x) != 0) {
        sim_fail(s, "offered contact %llu not found", (unsigned long long)fx->contact);
    }
    agent_info(s, fx->agent, &a);
    s->st.order_checks++;
    uint32_t n = q->n_waiting, sample = n <= SIM_ORDER_SAMPLE ? n : SIM_ORDER_SAMPLE;
    for (uint32_t i = 0; i < sample; i++) {
        uint64_t yid = n == sample ? q->waiting[i] : q->waiting[rng_below(&s->order_rng, n)];
        if (yid != fx->contact) {
            compare_waiting(s, yid, &x, &a);
        }
    }
}

static void check_contact(struct sim *s, uint64_t id)
{
    const struct sim_contact *c = &s->contacts[id];
    struct engine_contact_info info;
    int rc = engine_contact_get(s->e, id, &info);
    if (c->state == SC_ENDED || c->state == SC_UNKNOWN) {
        if (rc != CD_ENOTFOUND) {
            sim_fail(s, "contact %llu ended but engine_contact_get found it",
                     (unsigned long long)id);
        }
        return;
    }
    if (c->state == SC_LIMBO) {
        sim_fail(s, "contact %llu left without a place after the command",
                 (unsigned long long)id);
    }
    if (rc != 0 || info.state != engine_state_of[c->state]) {
        sim_fail(s, "contact %llu: shadow state %u, engine %s", (unsigned long long)id,
                 c->state, rc ? cd_errname(rc) : engine_contact_state_name(info.state));
    }
    if (c->state == SC_OFFERED && info.offer != c->offer) {
        sim_fail(s, "contact %llu: open offer %llu, shadow %llu", (unsigned long long)id,
                 (unsigned long long)info.offer, (unsigned long long)c->offer);
    }
    bool single = c->state == SC_OFFERED && !s->queues[c->queue].ring_all;
    bool with_agent = single || c->state == SC_CONNECTED || c->state == SC_WRAPUP;
    if (with_agent && strcmp(info.agent, s->agents[c->agent].name) != 0) {
        sim_fail(s, "contact %llu is with '%s', shadow says '%s'", (unsigned long long)id,
                 info.agent, s->agents[c->agent].name);
    }
    if (c->state == SC_QUEUED && strcmp(info.queue, s->queues[c->queue].name) != 0) {
        sim_fail(s, "contact %llu waits in '%s', shadow says '%s'", (unsigned long long)id,
                 info.queue, s->queues[c->queue].name);
    }
}

static uint8_t expected_agent_state(const struct sim_agent *a, uint8_t presence)
{
    if (a->n_offered + a->n_connected > 0) {
        return ENGINE_AGENT_BUSY;
    }
    if (a->n_wrapup > 0) {
        return ENGINE_AGENT_WRAPUP;
    }
    return presence == ENGINE_PRESENCE_AVAILABLE ? ENGINE_AGENT_AVAILABLE
           : presence == ENGINE_PRESENCE_AWAY    ? ENGINE_AGENT_AWAY
                                                 : ENGINE_AGENT_OFFLINE;
}

static void check_agent(struct sim *s, uint32_t ai)
{
    struct sim_agent *a = &s->agents[ai];
    struct engine_agent_info info;
    agent_info(s, a->name, &info);
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        if (info.load[ch] != a->load[ch]) {
            sim_fail(s, "agent '%s' %s load %u, shadow %u", a->name, engine_channel_name(ch),
                     info.load[ch], a->load[ch]);
        }
        if (info.load[ch] > info.capacity[ch] && info.load[ch] > a->allowance[ch]) {
            sim_fail(s, "agent '%s' over capacity on %s: %u > %u", a->name,
                     engine_channel_name(ch), info.load[ch], info.capacity[ch]);
        }
    }
    if (info.state != expected_agent_state(a, info.presence)) {
        sim_fail(s, "agent '%s' state %s, expected %s", a->name,
                 engine_agent_state_name(info.state),
                 engine_agent_state_name(expected_agent_state(a, info.presence)));
    }
    if (a->n_offered > 0 && info.presence == ENGINE_PRESENCE_OFFLINE) {
        sim_fail(s, "agent '%s' logged out with %u offers open", a->name, a->n_offered);
    }
    if (a->n_offered > 0 && info.presence == ENGINE_PRESENCE_AWAY) {
        sim_fail(s, "agent '%s' is away with %u offers open", a->name, a->n_offered);
    }
}

/* After an install or upsert, an agent whose capacity was cut below what it held keeps
 * it: the engine's allowance, mirrored here from the load before the command. */
static void apply_redefinition(struct sim *s)
{
    for (uint32_t ai = 0; ai < s->n_agents; ai++) {
        struct sim_agent *a = &s->agents[ai];
        if (!a->defined || (s->redefine != -2 && s->redefine != (int)ai)) {
            continue;
        }
        struct engine_agent_info info;
        agent_info(s, a->name, &info);
        for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
            uint8_t pre = a->pre_load[ch];
            a->allowance[ch] = pre > info.capacity[ch] ? pre : 0;
            a->allowance[ch] = a->allowance[ch] > a->load[ch] ? a->load[ch] : a->allowance[ch];
        }
        sim_touch_agent(s, ai);
    }
    s->redefine = -1;
}

void sim_check_after_command(struct sim *s)
{
    if (s->redefine != -1) {
        apply_redefinition(s);
    }
    for (uint32_t i = 0; i < s->n_touched_contacts; i++) {
        check_contact(s, s->touched_contacts[i]);
    }
    for (uint32_t i = 0; i < s->n_touched_agents; i++) {
        check_agent(s, s->touched_agents[i]);
    }
    s->transfer_contact = 0;
}

struct foreach_ctx
{
    struct sim *s;
    uint64_t n;
};

static int compare_live(void *data, const struct engine_contact_info *info)
{
    struct foreach_ctx *ctx = data;
    struct sim_contact *c = sim_contact(ctx->s, info->id);
    if (c == NULL || c->state == SC_ENDED || c->state == SC_UNKNOWN) {
        sim_fail(ctx->s, "engine holds contact %llu that the shadow saw end",
                 (unsigned long long)info->id);
    }
    check_contact(ctx->s, info->id);
    ctx->n++;
    return 0;
}

static void check_queues(struct sim *s)
{
    for (uint32_t qi = 0; qi < s->n_queues; qi++) {
        struct engine_queue_info info;
        const struct sim_queue *q = &s->queues[qi];
        if (engine_queue_get(s->e, q->name, &info) != 0) {
            continue; /* never installed yet */
        }
        if (info.waiting != q->n_waiting) {
            sim_fail(s, "queue '%s': %u waiting, shadow %u", q->name, info.waiting,
                     q->n_waiting);
        }
    }
}

void sim_check_full(struct sim *s)
{
    char err[256];
    s->st.full_checks++;
    if (engine_check(s->e, err, sizeof(err)) != 0) {
        sim_fail(s, "engine_check: %s", err);
    }
    if (engine_contact_count(s->e) != s->n_live) {
        sim_fail(s, "engine has %zu live contacts, shadow %llu", engine_contact_count(s->e),
                 (unsigned long long)s->n_live);
    }
    check_queues(s);
    if (s->st.full_checks % 10 != 0) {
        return;
    }
    struct foreach_ctx ctx = {s, 0};
    engine_contacts_foreach(s->e, compare_live, &ctx);
    for (uint32_t ai = 0; ai < s->n_agents; ai++) {
        if (s->agents[ai].defined) {
            check_agent(s, ai);
        }
    }
}
