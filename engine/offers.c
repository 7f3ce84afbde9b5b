/* Answers to offers (accept, reject) and transfers. An offer id that is not open is stale:
 * the same answer on every node, however late it arrives. */
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "common/error.h"
#include "engine/commands.h"

/* The agent of an open offer named `agent`, or NONE32. The offer knows its agents, so
 * the usual answer needs no lookup by name. */
static uint32_t rung(const struct engine *e, const struct contact *c, const char *agent)
{
    if (c->ring == NULL) {
        return strcmp(e->agents[c->agent].name, agent) == 0 ? c->agent : NONE32;
    }
    for (uint8_t i = 0; i < c->n_ring; i++) {
        if (strcmp(e->agents[c->ring[i]].name, agent) == 0) {
            return c->ring[i];
        }
    }
    return NONE32;
}

static int open_offer(struct engine *e,
                      uint64_t offer,
                      const char *agent,
                      struct contact **out,
                      uint32_t *ai,
                      struct engine_result *res)
{
    uint32_t slot = 0;
    if (!engine__map_get(&e->by_offer, offer, NULL, NULL, &slot)) {
        return FAIL(res, CD_ESTALE, "offer %llu is not open", (unsigned long long)offer);
    }
    struct contact *c = &e->contacts[slot];
    *ai = agent ? rung(e, c, agent) : NONE32;
    if (*ai == NONE32) {
        int id = engine__agent_id(e, agent);
        if (id < 0 || e->agents[id].deleted) {
            return FAIL(res, CD_ENOTFOUND, "agent '%s' not found", agent ? agent : "");
        }
        return FAIL(res, CD_EINVAL, "offer %llu was not made to agent '%s'",
                    (unsigned long long)offer, agent);
    }
    *out = c;
    return 0;
}

/* Releases one rung agent of a ring-all offer that others still ring. */
void engine__unring(struct engine *e, struct contact *c, uint32_t ai)
{
    for (uint8_t i = 0; i < c->n_ring; i++) {
        if (c->ring[i] == ai) {
            c->ring[i] = c->ring[--c->n_ring];
            break;
        }
    }
    engine__load_sub(e, ai, c, true);
    struct engine_effect fx = {.kind = ENGINE_FX_OFFER_CANCEL,
                               .channel = c->channel,
                               .contact = c->id,
                               .offer = c->offer,
                               .agent = e->agents[ai].name,
                               .queue = e->queues[c->queue].name,
                               .state = c->state};
    engine__emit_contact(e, c, &fx);
}

int engine__cmd_accept(struct engine *e,
                       uint64_t offer,
                       const char *agent,
                       struct engine_result *res)
{
    struct contact *c = NULL;
    uint32_t ai = 0;
    int rv = open_offer(e, offer, agent, &c, &ai, res);
    if (rv != 0) {
        return rv;
    }
    uint32_t losers[ENGINE_RING_ALL_MAX];
    uint32_t n = 0;
    while (c->ring != NULL && c->n_ring > 1) {
        uint32_t other = c->ring[0] == ai ? c->ring[1] : c->ring[0];
        losers[n++] = other;
        engine__unring(e, c, other);
    }
    cd_free(c->ring);
    c->ring = NULL;
    c->n_ring = 0;
    engine__map_del(&e->by_offer, c->offer, engine__slot(e, c));
    uint64_t accepted = c->offer;
    c->offer = 0;
    c->agent = ai;
    c->state = ENGINE_CONTACT_CONNECTED;
    /* The slot was taken by the offer: connecting adds no load beyond what it may hold. */
    const struct agent *a = &e->agents[ai];
    CD_ASSERT(a->load[c->channel] <= a->capacity[c->channel] ||
              a->load[c->channel] <= a->allowance[c->channel]);
    c->answered = e->clock;
    engine__set_deadline(e, c, NEVER);
    engine__stats_answer(e, &e->queues[c->queue], c);
    struct engine_effect fx = {.kind = ENGINE_FX_CONNECTED,
                               .channel = c->channel,
                               .contact = c->id,
                               .offer = accepted,
                               .agent = e->agents[ai].name,
                               .queue = e->queues[c->queue].name};
    engine__emit_contact(e, c, &fx);
    engine__route_agents(e, losers, n);
    return 0;
}

int engine__cmd_reject(struct engine *e,
                       uint64_t offer,
                       const char *agent,
                       struct engine_result *res)
{
    struct contact *c = NULL;
    uint32_t ai = 0;
    int rv = open_offer(e, offer, agent, &c, &ai, res);
    if (rv != 0) {
        return rv;
    }
    if (c->ring != NULL && c->n_ring > 1) {
        engine__unring(e, c, ai);
        engine__route_agent(e, ai);
        return 0;
    }
    /* Held back while the contact looks for another agent; then free to take anything,
     * this contact included if nobody else could. */
    struct agent *a = &e->agents[ai];
    a->hold = true;
    engine__agent_update(e, ai);
    e->offer_end = (struct engine__offer_end){c->offer, ai, ENGINE_OFFER_REJECTED};
    engine__withdraw_offer(e, c, true);
    e->offer_end = (struct engine__offer_end){.agent = NONE32};
    a->hold = false;
    engine__agent_update(e, ai);
    engine__route_agent(e, ai);
    return 0;
}

/* Takes the contact from wherever it is, ready to be placed again; returns the agent it
 * leaves (to route once the contact is placed), or NONE32. */
static uint32_t lift(struct engine *e, struct contact *c)
{
    uint32_t freed = NONE32;
    engine__hold_off(e, c);
    engine__set_deadline(e, c, NEVER);
    if (c->state == ENGINE_CONTACT_QUEUED) {
        engine__dequeue(e, c);
    } else if (c->state == ENGINE_CONTACT_OFFERED) {
        engine__withdraw_offer(e, c, false);
    } else {
        freed = c->agent;
        engine__load_sub(e, c->agent, c, true);
        c->agent = NONE32;
    }
    c->state = ENGINE_CONTACT_QUEUED;
    c->transfers++;
    return freed;
}

static int transfer_check(struct engine *e,
                          const struct contact *c,
                          const struct engine_command *cmd,
                          int *target,
                          struct engine_result *res)
{
    const char *queue = cmd->u.transfer.queue, *agent = cmd->u.transfer.agent;
    const char *ext = cmd->u.transfer.target;
    int given = (queue && queue[0]) + (agent && agent[0]) + (ext && ext[0]);
    if (given != 1) {
        return FAIL(res, CD_EINVAL, "a transfer names exactly one of queue, agent, target");
    }
    if (c->state == ENGINE_CONTACT_WRAPUP) {
        return FAIL(res, CD_ESTATE, "contact %llu is in wrap-up: cannot transfer",
                    (unsigned long long)c->id);
    }
    if (ext && ext[0]) {
        return strlen(ext) < ENGINE_TARGET_MAX
                   ? 0
                   : FAIL(res, CD_EINVAL, "transfer target longer than %d bytes",
                          ENGINE_TARGET_MAX - 1);
    }
    *target = queue && queue[0] ? engine__queue_id(e, queue) : engine__agent_id(e, agent);
    if (queue && queue[0]) {
        if (*target < 0 || e->queues[*target].retired) {
            return FAIL(res, CD_ENOTFOUND, "queue '%s' not found", queue);
        }
        /* A mistaken transfer is refused rather than ending the contact as not served. */
        return e->queues[*target].def.channels & ENGINE_CH_BIT(c->channel)
                   ? 0
                   : FAIL(res, CD_EINVAL, "queue '%s' does not serve %s contacts", queue,
                          engine_channel_name(c->channel));
    }
    if (*target < 0 || e->agents[*target].deleted) {
        return FAIL(res, CD_ENOTFOUND, "agent '%s' not found", agent);
    }
    const struct agent *a = &e->agents[*target];
    if (!(a->ready_mask & ENGINE_CH_BIT(c->channel)) || c->agent == (uint32_t)*target) {
        return FAIL(res, CD_ECAPACITY, "agent '%s' cannot take a %s contact now", agent,
                    engine_channel_name(c->channel));
    }
    return 0;
}

int engine__cmd_transfer(struct engine *e,
                         const struct engine_command *cmd,
                         struct engine_result *res)
{
    struct contact *c = engine__contact(e, cmd->u.transfer.id);
    int target = -1;
    if (c == NULL) {
        return FAIL(res, CD_ENOTFOUND, "contact %llu not found",
                    (unsigned long long)cmd->u.transfer.id);
    }
    int rv = transfer_check(e, c, cmd, &target, res);
    if (rv != 0) {
        return rv;
    }
    const char *ext = cmd->u.transfer.target;
    if (ext && ext[0]) {
        engine__path_to(e, c, ENGINE_TRANSFER_OUT, ext);
        engine__finish(e, c, ENGINE_CONTACT_TRANSFERRED, ext);
        return 0;
    }
    uint32_t freed = lift(e, c);
    if (cmd->u.transfer.queue && cmd->u.transfer.queue[0]) {
        engine__path_to(e, c, ENGINE_TRANSFER_QUEUE, cmd->u.transfer.queue);
        engine__arrive(e, c, (uint16_t)target);
    } else if (e->agents[target].ready_mask & ENGINE_CH_BIT(c->channel)) {
        engine__path_to(e, c, ENGINE_TRANSFER_AGENT, cmd->u.transfer.agent);
        e->path_via = ENGINE_VIA_ARRIVAL; /* no QUEUED follows: the offer does */
        engine__offer(e, c, (uint32_t)target, 1);
    } else {
        engine__path_to(e, c, ENGINE_TRANSFER_AGENT, cmd->u.transfer.agent);
        /* Lifting the contact freed a ring-all group that took the target's last slot. */
        engine__arrive(e, c, c->queue);
    }
    if (freed != NONE32) {
        engine__route_agent(e, freed);
    }
    return 0;
}
