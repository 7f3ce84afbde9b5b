/* Agents' own behaviour (log in, breaks, log out, skill changes, redefinitions, new
 * agents) and new versions of the routing model. */
#include <stdio.h>

#include "common/error.h"
#include "tests/sim/sim.h"

void sim_agent_spec(struct sim *s,
                    const struct engine_agent_def *d,
                    struct engine_agent_spec *spec,
                    struct engine_skill_ref *skills,
                    const char **queues)
{
    spec->name = d->name;
    spec->site = d->site;
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        spec->capacity[ch] = d->capacity[ch];
    }
    for (uint8_t i = 0; i < d->n_skills; i++) {
        skills[i] =
            (struct engine_skill_ref){sim_skill_names[d->skills[i].skill], d->skills[i].level};
    }
    for (uint8_t i = 0; i < d->n_queues; i++) {
        queues[i] = s->model.queues[d->queues[i]].name;
    }
    spec->n_skills = d->n_skills;
    spec->skills = skills;
    spec->n_queues = d->n_queues;
    spec->queues = queues;
}

static void remember_loads(struct sim *s)
{
    for (uint32_t ai = 0; ai < s->n_agents; ai++) {
        for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
            s->agents[ai].pre_load[ch] = s->agents[ai].load[ch];
        }
    }
}

static void define(struct sim *s, uint32_t ai, const char *name)
{
    struct sim_agent *a = &s->agents[ai];
    snprintf(a->name, sizeof(a->name), "%s", name);
    a->defined = true;
    s->n_agents = ai + 1 > s->n_agents ? ai + 1 : s->n_agents;
}

void sim_install_next_model(struct sim *s)
{
    struct engine_model m;
    sim_model_build(s, s->version + 1, &m);
    for (uint32_t i = 0; i < m.n_agents; i++) {
        define(s, i, m.agents[i].name);
        s->agents[i].in_model = true;
    }
    remember_loads(s);
    s->redefine = -2;
    struct engine_command cmd = {.kind = ENGINE_CMD_MODEL_INSTALL};
    cmd.u.install.version = s->version + 1;
    cmd.u.install.model = &m;
    sim_queues_sync(s, &m); /* the install's own effects may name the new queues */
    sim_apply_ok(s, &cmd, NULL);
    sim_model_free(&s->model);
    s->model = m;
    s->version++;
    s->st.models++;
}

static void upsert(struct sim *s, uint32_t ai)
{
    struct engine_agent_def d;
    struct engine_agent_spec spec;
    struct engine_skill_ref skills[ENGINE_AGENT_SKILLS];
    const char *queues[ENGINE_AGENT_QUEUES];
    sim_agent_def_random(&d, &s->model, &s->rng, ai);
    sim_agent_spec(s, &d, &spec, skills, queues);
    define(s, ai, d.name);
    remember_loads(s);
    s->redefine = (int)ai;
    struct engine_command cmd = {.kind = ENGINE_CMD_AGENT_UPSERT};
    cmd.u.upsert = spec;
    sim_apply_ok(s, &cmd, NULL);
}

static void change_skills(struct sim *s, uint32_t ai)
{
    struct engine_agent_def d;
    struct engine_skill_ref skills[ENGINE_AGENT_SKILLS];
    sim_agent_def_random(&d, &s->model, &s->rng, ai);
    for (uint8_t i = 0; i < d.n_skills; i++) {
        skills[i] =
            (struct engine_skill_ref){sim_skill_names[d.skills[i].skill], d.skills[i].level};
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_AGENT_SKILLS};
    cmd.u.skills.name = s->agents[ai].name;
    cmd.u.skills.n_skills = d.n_skills;
    cmd.u.skills.skills = skills;
    sim_apply_ok(s, &cmd, NULL);
}

static void presence(struct sim *s, uint32_t ai, uint8_t kind, uint8_t p, const char *reason)
{
    struct engine_command cmd = {.kind = kind};
    cmd.u.agent.name = s->agents[ai].name;
    cmd.u.agent.presence = p;
    cmd.u.agent.reason = reason;
    sim_apply_ok(s, &cmd, NULL);
}

/* What an agent that is logged in and available does next; returns the mean delay
 * until it acts again. */
static int64_t available_agent(struct sim *s, uint32_t ai)
{
    static const char *const reasons[] = {"break", "lunch", "meeting", "coaching"};
    uint32_t r = rng_below(&s->rng, 100);
    if (r < 10) {
        presence(s, ai, ENGINE_CMD_AGENT_STATE, ENGINE_PRESENCE_AWAY, reasons[r % 4]);
        return 300000;
    }
    if (r < 13) {
        presence(s, ai, ENGINE_CMD_AGENT_LOGOUT, ENGINE_PRESENCE_OFFLINE, NULL);
        return 1200000;
    }
    if (r < 21) {
        change_skills(s, ai);
    } else if (r < 24) {
        upsert(s, ai);
    } else if (r < 25 && s->n_agents < s->n_model_agents + s->n_model_agents / 4) {
        uint32_t fresh = s->n_agents;
        upsert(s, fresh);
        sim_schedule(s, s->now + 60000, EV_AGENT, 0, 0, (uint16_t)fresh);
    }
    return 1200000;
}

static int64_t agent_acts(struct sim *s, uint32_t ai, uint8_t now_presence)
{
    uint32_t r = rng_below(&s->rng, 100);
    switch (now_presence) {
        case ENGINE_PRESENCE_OFFLINE:
            if (r < 85) {
                presence(s, ai, ENGINE_CMD_AGENT_LOGIN, ENGINE_PRESENCE_AVAILABLE, NULL);
                return 2400000;
            }
            if (r < 90) {
                presence(s, ai, ENGINE_CMD_AGENT_LOGIN, ENGINE_PRESENCE_AWAY, "training");
            }
            return 600000;
        case ENGINE_PRESENCE_AWAY:
            if (r < 85) {
                presence(s, ai, ENGINE_CMD_AGENT_STATE, ENGINE_PRESENCE_AVAILABLE, NULL);
                return 1800000;
            }
            if (r < 90) {
                presence(s, ai, ENGINE_CMD_AGENT_LOGOUT, ENGINE_PRESENCE_OFFLINE, NULL);
            }
            return 600000;
        default:
            return available_agent(s, ai);
    }
}

void sim_agent_event(struct sim *s, const struct sim_event *ev)
{
    uint32_t ai = ev->agent;
    struct sim_agent *a = &s->agents[ai];
    struct engine_agent_info info;
    if (ev->gen != a->gen || !a->defined) {
        return;
    }
    if (engine_agent_get(s->e, a->name, &info) != 0) {
        sim_fail(s, "agent '%s' not found", a->name);
    }
    int64_t mean = agent_acts(s, ai, info.presence);
    a->gen++;
    sim_schedule(s, s->now + 1000 + rng_exp_ms(&s->rng, mean), EV_AGENT, 0, 0, (uint16_t)ai);
}
