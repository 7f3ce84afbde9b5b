/* Deliberately wrong commands: stale and unknown offer ids, the wrong agent, unknown
 * contacts, agents, queues and skills, commands in the wrong state, malformed requests
 * an old model version, and chat messages and dispositions that cannot be taken. Each must fail
 * with the error the contract names, emit nothing and leave the digest unchanged
 * (sim_apply_expect_error). */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "tests/sim/sim.h"

/* A live contact in the given shadow state, or 0 after a few misses. */
static uint64_t live_in(struct sim *s, uint8_t state)
{
    for (int tries = 0; tries < 16 && s->n_live > 0; tries++) {
        uint64_t id = s->live[rng_below(&s->rng, (uint32_t)s->n_live)];
        if (s->contacts[id].state == state) {
            return id;
        }
    }
    return 0;
}

static uint32_t agent_with(struct sim *s, uint8_t presence)
{
    for (int tries = 0; tries < 16; tries++) {
        uint32_t ai = rng_below(&s->rng, s->n_agents);
        struct engine_agent_info a;
        if (s->agents[ai].defined && engine_agent_get(s->e, s->agents[ai].name, &a) == 0 &&
            a.presence == presence) {
            return ai;
        }
    }
    return UINT32_MAX;
}

static void bad_offer(struct sim *s, uint32_t variant)
{
    struct engine_command cmd = {.kind = variant % 2 ? ENGINE_CMD_OFFER_REJECT
                                                     : ENGINE_CMD_OFFER_ACCEPT};
    uint64_t id = live_in(s, SC_OFFERED);
    const struct sim_contact *c = sim_contact(s, id);
    uint32_t other = rng_below(&s->rng, s->n_agents);
    if (variant < 2 || c == NULL) {
        cmd.u.offer.id = variant == 0 ? 0 : UINT64_MAX - rng_below(&s->rng, 1000);
        cmd.u.offer.agent = s->agents[other].name;
        sim_apply_expect_error(s, &cmd, CD_ESTALE);
        return;
    }
    cmd.u.offer.id = c->offer;
    bool in_ring = c->ring == NULL ? c->agent == other : false;
    for (uint8_t i = 0; c->ring != NULL && i < c->n_ring; i++) {
        in_ring |= c->ring[i] == other;
    }
    if (variant == 2 || !s->agents[other].defined) {
        cmd.u.offer.agent = "nobody";
        sim_apply_expect_error(s, &cmd, CD_ENOTFOUND);
    } else if (!in_ring) {
        cmd.u.offer.agent = s->agents[other].name;
        sim_apply_expect_error(s, &cmd, CD_EINVAL);
    }
}

static uint64_t unknown_contact(struct sim *s)
{
    uint32_t r = rng_below(&s->rng, 3);
    if (r == 0) {
        return 0;
    }
    if (r == 1) {
        return s->created + 1 + rng_below(&s->rng, 1000000);
    }
    for (int tries = 0; tries < 16 && s->created > 0; tries++) {
        uint64_t id = 1 + rng_below(&s->rng, (uint32_t)s->created);
        if (s->contacts[id].state == SC_ENDED) {
            return id;
        }
    }
    return 0;
}

static void bad_contact(struct sim *s, uint32_t variant)
{
    static const uint8_t kinds[] = {ENGINE_CMD_CONTACT_END, ENGINE_CMD_CONTACT_ABANDON,
                                    ENGINE_CMD_WRAPUP_DONE, ENGINE_CMD_CONTACT_CALLBACK};
    struct engine_command cmd = {.kind = kinds[variant % 4]};
    if (variant < 4) {
        cmd.u.contact.id = unknown_contact(s);
        sim_apply_expect_error(s, &cmd, CD_ENOTFOUND);
        return;
    }
    /* the wrong state: end a queued one, abandon or finish wrap-up of a connected one,
     * call back a connected one */
    uint8_t state = cmd.kind == ENGINE_CMD_CONTACT_END ? SC_QUEUED : SC_CONNECTED;
    cmd.u.contact.id = live_in(s, state);
    if (cmd.u.contact.id != 0) {
        sim_apply_expect_error(s, &cmd, CD_ESTATE);
    }
}

static void bad_transfer(struct sim *s, uint32_t variant)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_TRANSFER};
    uint64_t id = live_in(s, variant == 2 ? SC_WRAPUP : SC_QUEUED);
    if (id == 0) {
        return;
    }
    cmd.u.transfer.id = id;
    switch (variant) {
        case 0:
            cmd.u.transfer.queue = s->queues[0].name;
            cmd.u.transfer.target = "sip:elsewhere@site-b";
            sim_apply_expect_error(s, &cmd, CD_EINVAL);
            break;
        case 1:
            cmd.u.transfer.queue = "no-such-queue";
            sim_apply_expect_error(s, &cmd, CD_ENOTFOUND);
            break;
        default:
            cmd.u.transfer.target = "sip:elsewhere@site-b";
            sim_apply_expect_error(s, &cmd, CD_ESTATE);
            break;
    }
}

static void bad_agent(struct sim *s, uint32_t variant)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_AGENT_LOGIN};
    struct engine_skill_ref skill = {"juggling", 3};
    uint32_t ai =
        agent_with(s, variant == 1 ? ENGINE_PRESENCE_OFFLINE : ENGINE_PRESENCE_AVAILABLE);
    if (ai == UINT32_MAX) {
        return;
    }
    cmd.u.agent.name = s->agents[ai].name;
    cmd.u.agent.presence = ENGINE_PRESENCE_AVAILABLE;
    switch (variant) {
        case 0: /* already logged in */
            sim_apply_expect_error(s, &cmd, CD_ESTATE);
            break;
        case 1: /* not logged in */
            cmd.kind = ENGINE_CMD_AGENT_STATE;
            sim_apply_expect_error(s, &cmd, CD_ESTATE);
            break;
        case 2:
            cmd.kind = ENGINE_CMD_AGENT_DELETE;
            sim_apply_expect_error(s, &cmd, CD_ESTATE);
            break;
        case 3:
            cmd.kind = ENGINE_CMD_AGENT_STATE;
            cmd.u.agent.presence = ENGINE_PRESENCE_OFFLINE;
            sim_apply_expect_error(s, &cmd, CD_EINVAL);
            break;
        default:
            cmd.kind = ENGINE_CMD_AGENT_SKILLS;
            cmd.u.skills.name = s->agents[ai].name;
            skill.skill = variant == 4 ? "juggling" : sim_skill_names[0];
            skill.level = variant == 4 ? 3 : 11;
            cmd.u.skills.n_skills = 1;
            cmd.u.skills.skills = &skill;
            sim_apply_expect_error(s, &cmd, CD_EINVAL);
            break;
    }
}

static void bad_create(struct sim *s, uint32_t variant)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CREATE};
    struct engine_skill_ref skill = {"juggling", 2};
    struct engine_attr attrs[2] = {{"lang", "en"}, {"lang", "fr"}};
    cmd.u.create.channel = ENGINE_CH_CHAT;
    switch (variant) {
        case 0:
            cmd.u.create.queue = "no-such-queue";
            sim_apply_expect_error(s, &cmd, CD_ENOTFOUND);
            break;
        case 1:
            cmd.u.create.channel = ENGINE_CH_COUNT + 3;
            sim_apply_expect_error(s, &cmd, CD_EINVAL);
            break;
        case 2:
            cmd.u.create.n_skills = 1;
            cmd.u.create.skills = &skill;
            sim_apply_expect_error(s, &cmd, CD_EINVAL);
            break;
        default:
            cmd.u.create.n_attrs = 2;
            cmd.u.create.attrs = attrs;
            sim_apply_expect_error(s, &cmd, CD_EINVAL);
            break;
    }
}

static void bad_definition(struct sim *s, uint32_t variant)
{
    if (variant == 0) {
        struct engine_command cmd = {.kind = ENGINE_CMD_MODEL_INSTALL};
        cmd.u.install.version = s->version - rng_below(&s->rng, 2);
        cmd.u.install.model = &s->model;
        sim_apply_expect_error(s, &cmd, CD_ESTATE);
        return;
    }
    const char *queues[1] = {"no-such-queue"};
    struct engine_command cmd = {.kind = ENGINE_CMD_AGENT_UPSERT};
    cmd.u.upsert.name = s->agents[rng_below(&s->rng, s->n_agents)].name;
    cmd.u.upsert.capacity[ENGINE_CH_CHAT] = 2;
    cmd.u.upsert.n_queues = 1;
    cmd.u.upsert.queues = queues;
    sim_apply_expect_error(s, &cmd, CD_ENOTFOUND);
}

/* Chat messages that cannot be taken: malformed, to a contact that is gone or no chat, from
 * an agent not connected with it; and a wrap-up with a disposition the model does not list. */
static void bad_message(struct sim *s, uint32_t variant)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_CHAT_MESSAGE};
    uint64_t id = live_in(s, variant == 3 ? SC_CONNECTED : SC_QUEUED);
    const struct sim_contact *c = sim_contact(s, id);
    cmd.u.message.id = id;
    cmd.u.message.from = ENGINE_SIDE_CUSTOMER;
    cmd.u.message.msg_id = "bad-1";
    cmd.u.message.text = "hello";
    if (variant == 0 || c == NULL) {
        cmd.u.message.id = s->created + 1 + rng_below(&s->rng, 1000);
        sim_apply_expect_error(s, &cmd, CD_ENOTFOUND);
    } else if (variant == 1) {
        cmd.u.message.msg_id = "two words";
        sim_apply_expect_error(s, &cmd, CD_EINVAL);
    } else if (variant == 2 && c->channel != ENGINE_CH_CHAT) {
        sim_apply_expect_error(s, &cmd, CD_EINVAL); /* not a chat */
    } else if (variant == 3 && c->channel == ENGINE_CH_CHAT) {
        cmd.u.message.from = ENGINE_SIDE_AGENT;
        cmd.u.message.agent = "nobody-connected";
        sim_apply_expect_error(s, &cmd, CD_EINVAL);
    } else if (variant == 4) {
        uint64_t w = live_in(s, SC_WRAPUP);
        struct engine_command wd = {.kind = ENGINE_CMD_WRAPUP_DONE};
        wd.u.wrapup.id = w;
        wd.u.wrapup.disposition = "not-a-disposition";
        if (w != 0) {
            sim_apply_expect_error(s, &wd, CD_EINVAL);
        }
    }
}

void sim_invalid_command(struct sim *s)
{
    uint32_t r = rng_below(&s->rng, 31);
    if (r >= 26) {
        bad_message(s, r - 26);
        return;
    }
    if (r < 5) {
        bad_offer(s, r);
    } else if (r < 13) {
        bad_contact(s, r - 5);
    } else if (r < 16) {
        bad_transfer(s, r - 13);
    } else if (r < 22) {
        bad_agent(s, r - 16);
    } else if (r < 24) {
        bad_create(s, r - 22 + 2 * rng_below(&s->rng, 2));
    } else {
        bad_definition(s, r - 24);
    }
}
