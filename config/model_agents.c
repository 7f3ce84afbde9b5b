/* Agents: identity, site, skills, per-channel capacity and the queues they serve. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/model.h"

static const char *const channel_keys[] = {"voice", "email", "sms", "chat", NULL};

int model_read_capacity(struct model_builder *b, const struct ynode *n, uint8_t *cap)
{
    if (cfg_keys(&b->c, n, channel_keys) != 0) {
        return CD_EPARSE;
    }
    memset(cap, 0, ENGINE_CH_COUNT);
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        const struct ynode *e = ynode_get(n, channel_keys[ch]);
        int64_t v;
        if (e != NULL) {
            if (cfg_int(&b->c, e, 0, UINT8_MAX, &v) != 0) {
                return CD_EPARSE;
            }
            cap[ch] = (uint8_t)v;
        }
    }
    return 0;
}

static bool serves_channel(const struct engine_agent_def *a, uint8_t channels)
{
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        if ((channels & ENGINE_CH_BIT(ch)) && a->capacity[ch] > 0) {
            return true;
        }
    }
    return false;
}

static int add_queue(struct model_builder *b, const struct ynode *i, struct engine_agent_def *a)
{
    int32_t qi;
    if (a->n_queues == ENGINE_AGENT_QUEUES) {
        return cfg_fail(&b->c, i, "queues: more than %d queues", ENGINE_AGENT_QUEUES);
    }
    if (model_queue(b, i, &qi) != 0) {
        return CD_EPARSE;
    }
    for (uint8_t k = 0; k < a->n_queues; k++) {
        if (a->queues[k] == qi) {
            return cfg_fail(&b->c, i, "queue '%s' listed twice", i->value);
        }
    }
    if (!serves_channel(a, b->m->queues[qi].channels)) {
        return cfg_fail(&b->c, i, "serves queue '%s' but has no capacity on its channels",
                        i->value);
    }
    a->queues[a->n_queues++] = (uint16_t)qi;
    return 0;
}

static int read_queues(struct model_builder *b,
                       const struct ynode *n,
                       struct engine_agent_def *a)
{
    if (cfg_expect_list(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->kind == YNODE_SCALAR) {
        return add_queue(b, n, a);
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        if (add_queue(b, i, a) != 0) {
            return CD_EPARSE;
        }
    }
    return 0;
}

static int read_identity(struct model_builder *b,
                         const struct ynode *n,
                         struct engine_agent_def *a)
{
    static const char *const keys[] = {"id", "site", "skills", "capacity", "queues", NULL};
    const struct ynode *id, *site;
    int32_t prev;
    cfg_subject(&b->c, "agents");
    if (cfg_keys(&b->c, n, keys) != 0 || (id = cfg_require(&b->c, n, "id")) == NULL ||
        cfg_name(&b->c, id, a->name, sizeof(a->name)) != 0) {
        return CD_EPARSE;
    }
    int rv = names_add(&b->agents, id->value, (int32_t)(a - b->m->agents), &prev);
    if (rv == CD_EEXISTS) {
        return cfg_fail(&b->c, id, "agent '%s' is defined twice", a->name);
    }
    cfg_subject(&b->c, "agent '%s'", a->name);
    if (rv != 0 || ((site = ynode_get(n, "site")) != NULL &&
                    cfg_string(&b->c, site, a->site, sizeof(a->site)) != 0)) {
        return rv != 0 ? rv : CD_EPARSE;
    }
    return 0;
}

static int read_agent(struct model_builder *b,
                      const struct ynode *n,
                      struct engine_agent_def *a)
{
    const struct ynode *e;
    int rv = read_identity(b, n, a);
    if (rv != 0) {
        return rv;
    }
    memcpy(a->capacity, b->def.capacity, sizeof(a->capacity));
    if (((e = ynode_get(n, "capacity")) != NULL &&
         model_read_capacity(b, e, a->capacity) != 0) ||
        ((e = ynode_get(n, "skills")) != NULL &&
         model_skill_levels(b, e, ENGINE_AGENT_SKILLS, a->skills, &a->n_skills) != 0)) {
        return CD_EPARSE;
    }
    e = ynode_get(n, "queues");
    return e != NULL ? read_queues(b, e, a) : 0;
}

int model_read_agents(struct model_builder *b, const struct ynode *n)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    b->m->agents = calloc(n->n ? n->n : 1, sizeof(*b->m->agents));
    if (b->m->agents == NULL) {
        return CD_ENOMEM;
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        int rv = read_agent(b, i, &b->m->agents[b->m->n_agents]);
        if (rv != 0) {
            return rv;
        }
        b->m->n_agents++;
    }
    b->c.subject[0] = 0;
    return 0;
}
