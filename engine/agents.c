/* Agent commands: login, logout, presence, skills, definition, deletion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "engine/commands.h"

static int find_agent(struct engine *e,
                      const char *name,
                      uint32_t *ai,
                      struct engine_result *res)
{
    int id = engine__agent_id(e, name);
    if (id < 0 || e->agents[id].deleted) {
        return FAIL(res, CD_ENOTFOUND, "agent '%s' not found", name ? name : "");
    }
    *ai = (uint32_t)id;
    return 0;
}

static bool offered_to(const struct contact *c, uint32_t ai)
{
    if (c->state != ENGINE_CONTACT_OFFERED) {
        return false;
    }
    if (c->ring == NULL) {
        return c->agent == ai;
    }
    for (uint8_t i = 0; i < c->n_ring; i++) {
        if (c->ring[i] == ai) {
            return true;
        }
    }
    return false;
}

/* Withdraws every open offer the agent holds; the contacts return to their places. They
 * go in contact id order: the order of held[] is not part of the state (a restored
 * snapshot rebuilds it differently), and the order of re-routing decides who gets whom. */
static void withdraw_all(struct engine *e, uint32_t ai)
{
    struct agent *a = &e->agents[ai];
    uint64_t ids[ENGINE_CH_COUNT * 256];
    uint32_t n = 0;
    for (uint32_t i = 0; i < a->n_held; i++) {
        const struct contact *c = &e->contacts[a->held[i]];
        if (c->state == ENGINE_CONTACT_OFFERED) {
            ids[n++] = c->id;
        }
    }
    qsort(ids, n, sizeof(ids[0]), engine__by_id);
    for (uint32_t i = 0; i < n; i++) {
        struct contact *c = engine__contact(e, ids[i]);
        if (c == NULL || !offered_to(c, ai)) {
            continue; /* an earlier withdrawal re-routed it elsewhere */
        }
        if (c->ring != NULL && c->n_ring > 1) {
            engine__unring(e, c, ai);
        } else {
            engine__withdraw_offer(e, c, true);
        }
    }
}

static void set_presence(struct engine *e, uint32_t ai, uint8_t presence, const char *reason)
{
    struct agent *a = &e->agents[ai];
    if (a->presence == ENGINE_PRESENCE_OFFLINE && presence != ENGINE_PRESENCE_OFFLINE) {
        a->login_at = e->clock;
        a->last_idle = e->clock;
        a->busy_ms = 0;
        if (a->busy_since != 0) {
            a->busy_since = e->clock;
        }
    }
    a->presence = presence;
    snprintf(a->reason, sizeof(a->reason), "%s",
             presence == ENGINE_PRESENCE_AWAY && reason ? reason : "");
    engine__agent_update(e, ai);
    if (presence != ENGINE_PRESENCE_AVAILABLE) {
        withdraw_all(e, ai);
    }
    engine__agent_state_fx(e, ai);
    engine__route_agent(e, ai);
}

void engine__agent_away(struct engine *e, uint32_t ai, const char *reason)
{
    set_presence(e, ai, ENGINE_PRESENCE_AWAY, reason);
}

/* With away reasons listed in the model, going away takes one of them, or the model's
 * ring-no-answer reason (the system's own, which a supervisor may set too). */
static int away_reason_check(const struct engine *e,
                             const char *reason,
                             struct engine_result *res)
{
    const struct engine_model *m = &e->model;
    const char *rna = m->rna_reason[0] ? m->rna_reason : "ring_no_answer";
    if (m->n_away == 0 || engine_model_away(m, reason) >= 0 ||
        (reason != NULL && strcmp(reason, rna) == 0)) {
        return 0;
    }
    char list[256];
    size_t at = 0;
    for (uint32_t i = 0; i < m->n_away && at < sizeof(list); i++) {
        int n = snprintf(list + at, sizeof(list) - at, "%s%s", i ? ", " : "", m->away[i]);
        at += n > 0 ? (size_t)n : 0;
    }
    return FAIL(res, CD_EINVAL, "reason '%.63s' is not an away reason of the model (%s)",
                reason ? reason : "", list);
}

static int presence_cmd(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res)
{
    uint32_t ai = 0;
    int rv = find_agent(e, cmd->u.agent.name, &ai, res);
    if (rv != 0) {
        return rv;
    }
    struct agent *a = &e->agents[ai];
    uint8_t p = cmd->u.agent.presence;
    const char *reason = cmd->u.agent.reason;
    if (cmd->kind == ENGINE_CMD_AGENT_LOGOUT) {
        p = ENGINE_PRESENCE_OFFLINE;
    } else if (p != ENGINE_PRESENCE_AVAILABLE && p != ENGINE_PRESENCE_AWAY) {
        return FAIL(res, CD_EINVAL, "presence must be available or away");
    }
    if (reason != NULL && strlen(reason) >= ENGINE_VALUE_MAX) {
        return FAIL(res, CD_EINVAL, "reason longer than %d bytes", ENGINE_VALUE_MAX - 1);
    }
    if (p == ENGINE_PRESENCE_AWAY && (rv = away_reason_check(e, reason, res)) != 0) {
        return rv;
    }
    bool online = a->presence != ENGINE_PRESENCE_OFFLINE;
    if (cmd->kind == ENGINE_CMD_AGENT_LOGIN && online) {
        return FAIL(res, CD_ESTATE, "agent '%s' is already logged in", a->name);
    }
    if (cmd->kind != ENGINE_CMD_AGENT_LOGIN && !online) {
        return FAIL(res, CD_ESTATE, "agent '%s' is not logged in", a->name);
    }
    set_presence(e, ai, p, reason);
    return 0;
}

static int skills_from_refs(const struct engine *e,
                            const struct engine_skill_ref *refs,
                            uint8_t n,
                            struct engine_skill_level *out,
                            struct engine_result *res)
{
    if (n > ENGINE_AGENT_SKILLS || (n > 0 && refs == NULL)) {
        return FAIL(res, CD_EINVAL, "too many skills (at most %d)", ENGINE_AGENT_SKILLS);
    }
    for (uint8_t i = 0; i < n; i++) {
        uint16_t id = 0;
        int rv = engine__skill_ref(e, &refs[i], &id, res);
        if (rv != 0) {
            return rv;
        }
        for (uint8_t j = 0; j < i; j++) {
            if (out[j].skill == id) {
                return FAIL(res, CD_EINVAL, "skill '%s' given twice", refs[i].skill);
            }
        }
        out[i] = (struct engine_skill_level){id, refs[i].level};
    }
    return 0;
}

static int by_skill(const void *a, const void *b)
{
    const struct engine_skill_level *x = a, *y = b;
    return (int)x->skill - (int)y->skill;
}

static void store_skills(struct agent *a, const struct engine_skill_level *s, uint8_t n)
{
    memcpy(a->skills, s, n * sizeof(*s));
    a->n_skills = n;
    qsort(a->skills, n, sizeof(*s), by_skill);
    a->skill_bits = engine__skill_bits(a->skills, n);
}

/* Creates or redefines an agent, keeping its live state; queues are state ids. */
int engine__agent_define(struct engine *e,
                         const char *name,
                         const char *site,
                         const uint8_t *capacity,
                         uint8_t n_skills,
                         const struct engine_skill_level *skills,
                         uint8_t n_queues,
                         const uint16_t *queues,
                         uint32_t *out)
{
    uint32_t ai = 0;
    int id = engine__agent_id(e, name);
    if (id >= 0) {
        ai = (uint32_t)id;
    } else if (engine__agent_add(e, name, &ai) != 0) {
        return CD_ENOMEM;
    }
    engine__agent_drop_members(e, ai);
    struct agent *a = &e->agents[ai];
    a->deleted = false;
    snprintf(a->site, sizeof(a->site), "%s", site ? site : "");
    memcpy(a->capacity, capacity, sizeof(a->capacity));
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        a->allowance[ch] = a->load[ch] > capacity[ch] ? a->load[ch] : 0;
    }
    store_skills(a, skills, n_skills);
    struct agent_queue old[ENGINE_AGENT_QUEUES];
    uint8_t n_old = a->n_queues;
    memcpy(old, a->queues, sizeof(old));
    a->n_queues = 0;
    for (uint8_t i = 0; i < n_queues; i++) {
        uint64_t rr = 0;
        for (uint8_t j = 0; j < n_old; j++) {
            rr = old[j].queue == queues[i] ? old[j].rr : rr;
        }
        a->queues[a->n_queues++] = (struct agent_queue){queues[i], rr};
    }
    *out = ai;
    return engine__agent_rebuild(e, ai);
}

static int upsert_cmd(struct engine *e,
                      const struct engine_agent_spec *s,
                      struct engine_result *res)
{
    struct engine_skill_level skills[ENGINE_AGENT_SKILLS];
    uint16_t queues[ENGINE_AGENT_QUEUES];
    if (s->name == NULL || s->name[0] == 0 || strlen(s->name) >= ENGINE_NAME_MAX ||
        (s->site && strlen(s->site) >= ENGINE_SITE_MAX)) {
        return FAIL(res, CD_EINVAL, "agent name must be 1-%d bytes, site under %d",
                    ENGINE_NAME_MAX - 1, ENGINE_SITE_MAX);
    }
    int rv = skills_from_refs(e, s->skills, s->n_skills, skills, res);
    if (rv != 0) {
        return rv;
    }
    if (s->n_queues > ENGINE_AGENT_QUEUES || (s->n_queues > 0 && s->queues == NULL)) {
        return FAIL(res, CD_EINVAL, "too many queues (at most %d)", ENGINE_AGENT_QUEUES);
    }
    for (uint8_t i = 0; i < s->n_queues; i++) {
        int q = engine__queue_id(e, s->queues[i]);
        if (q < 0 || e->queues[q].retired) {
            return FAIL(res, CD_ENOTFOUND, "queue '%s' not found", s->queues[i]);
        }
        for (uint8_t j = 0; j < i; j++) {
            if (queues[j] == q) {
                return FAIL(res, CD_EINVAL, "queue '%s' given twice", s->queues[i]);
            }
        }
        queues[i] = (uint16_t)q;
    }
    uint32_t ai = 0;
    if (engine__agent_define(e, s->name, s->site, s->capacity, s->n_skills, skills, s->n_queues,
                             queues, &ai) != 0) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    engine__route_agent(e, ai);
    return 0;
}

static int skills_cmd(struct engine *e,
                      const struct engine_command *cmd,
                      struct engine_result *res)
{
    struct engine_skill_level skills[ENGINE_AGENT_SKILLS];
    uint32_t ai = 0;
    int rv = find_agent(e, cmd->u.skills.name, &ai, res);
    if (rv == 0) {
        rv = skills_from_refs(e, cmd->u.skills.skills, cmd->u.skills.n_skills, skills, res);
    }
    if (rv != 0) {
        return rv;
    }
    engine__agent_drop_members(e, ai);
    store_skills(&e->agents[ai], skills, cmd->u.skills.n_skills);
    if (engine__agent_rebuild(e, ai) != 0) {
        e->oom = CD_ENOMEM;
    }
    engine__route_agent(e, ai);
    return 0;
}

static int delete_cmd(struct engine *e, const char *name, struct engine_result *res)
{
    uint32_t ai = 0;
    int rv = find_agent(e, name, &ai, res);
    if (rv != 0) {
        return rv;
    }
    struct agent *a = &e->agents[ai];
    if (a->presence != ENGINE_PRESENCE_OFFLINE || a->n_held > 0) {
        return FAIL(res, CD_ESTATE, "agent '%s' must be logged out with nothing in hand",
                    a->name);
    }
    engine__agent_drop_members(e, ai);
    a->deleted = true;
    a->n_queues = 0;
    return 0;
}

int engine__agent_cmd(struct engine *e,
                      const struct engine_command *cmd,
                      struct engine_result *res)
{
    switch (cmd->kind) {
        case ENGINE_CMD_AGENT_SKILLS:
            return skills_cmd(e, cmd, res);
        case ENGINE_CMD_AGENT_UPSERT:
            return upsert_cmd(e, &cmd->u.upsert, res);
        case ENGINE_CMD_AGENT_DELETE:
            return delete_cmd(e, cmd->u.agent.name, res);
        default:
            return presence_cmd(e, cmd, res);
    }
}
