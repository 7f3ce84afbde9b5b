/* Installing a routing model: names map onto the state's append-only tables, so queue and
 * skill ids survive across versions; queues left out retire; every derived index is
 * rebuilt and every ready agent matched again. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/commands.h"

static int map_names(struct engine *e, const struct engine_model *m, uint16_t *ms, uint16_t *mq)
{
    for (uint32_t i = 0; i < m->n_skills; i++) {
        if (engine__skill_add(e, m->skills[i].s, &ms[i]) != 0) {
            return CD_ENOMEM;
        }
    }
    for (uint32_t i = 0; i < m->n_queues; i++) {
        if (engine__queue_add(e, m->queues[i].name, &mq[i]) != 0) {
            return CD_ENOMEM;
        }
    }
    return 0;
}

static void define_queue(struct engine *e, struct queue *q, const struct engine_queue *d)
{
    q->retired = false;
    q->def = *d;
    q->def.overflow_queue = d->overflow_queue >= 0 ? e->mq_map[d->overflow_queue] : -1;
    q->reqs.n = 0;
    for (uint8_t i = 0; i < d->n_skills; i++) {
        q->def.skills[i].skill = e->ms_map[d->skills[i].skill];
        engine__reqs_add(&q->reqs, q->def.skills[i].skill, d->skills[i].level);
    }
    for (uint8_t s = 0; s < d->n_steps; s++) {
        for (uint8_t i = 0; i < d->steps[s].n_drop; i++) {
            q->def.steps[s].drop[i] = e->ms_map[d->steps[s].drop[i]];
        }
    }
}

static int define_agents(struct engine *e, const struct engine_model *m)
{
    for (uint32_t i = 0; i < m->n_agents; i++) {
        const struct engine_agent_def *d = &m->agents[i];
        struct engine_skill_level skills[ENGINE_AGENT_SKILLS];
        uint16_t queues[ENGINE_AGENT_QUEUES];
        uint32_t ai = 0;
        for (uint8_t j = 0; j < d->n_skills; j++) {
            skills[j] =
                (struct engine_skill_level){e->ms_map[d->skills[j].skill], d->skills[j].level};
        }
        for (uint8_t j = 0; j < d->n_queues; j++) {
            queues[j] = e->mq_map[d->queues[j]];
        }
        if (engine__agent_define(e, d->name, d->site, d->capacity, d->n_skills, skills,
                                 d->n_queues, queues, &ai) != 0) {
            return CD_ENOMEM;
        }
    }
    return 0;
}

/* Agents defined outside the model keep serving only queues that still exist. */
static void drop_retired_queues(struct engine *e)
{
    for (uint32_t ai = 0; ai < e->n_agents; ai++) {
        struct agent *a = &e->agents[ai];
        uint8_t n = 0;
        for (uint8_t i = 0; i < a->n_queues; i++) {
            if (!e->queues[a->queues[i].queue].retired) {
                a->queues[n++] = a->queues[i];
            }
        }
        a->n_queues = n;
    }
}

/* Contacts waiting in a queue that retired go through the rules again, oldest id first,
 * keeping their place in line (enqueued). */
static int reroute_retired(struct engine *e)
{
    struct id_slot *slots = NULL;
    uint32_t n = 0, cap = 0;
    for (uint32_t s = 0; s < e->n_slots; s++) {
        const struct contact *c = &e->contacts[s];
        if (c->id != 0 && c->state == ENGINE_CONTACT_QUEUED && e->queues[c->queue].retired) {
            if (GROW(slots, cap, n + 1) != 0) {
                cd_free(slots);
                return CD_ENOMEM;
            }
            slots[n++] = (struct id_slot){c->id, s};
        }
    }
    if (n > 0) {
        qsort(slots, n, sizeof(*slots), engine__by_id);
    }
    for (uint32_t i = 0; i < n; i++) {
        struct contact *c = &e->contacts[slots[i].slot];
        engine__set_deadline(e, c, NEVER);
        engine__dequeue(e, c);
        engine__run_rules(e, c, NULL);
    }
    cd_free(slots);
    return 0;
}

static int swap_model(struct engine *e, const struct engine_model *m)
{
    struct engine_model copy;
    engine_model_init(&copy);
    uint16_t *ms = cd_calloc(m->n_skills + 1, sizeof(*ms));
    uint16_t *mq = cd_calloc(m->n_queues + 1, sizeof(*mq));
    if (ms == NULL || mq == NULL || engine_model_copy(&copy, m) != 0 ||
        map_names(e, m, ms, mq) != 0) {
        cd_free(ms);
        cd_free(mq);
        engine_model_close(&copy);
        return CD_ENOMEM;
    }
    engine_model_close(&e->model);
    e->model = copy;
    cd_free(e->ms_map);
    cd_free(e->mq_map);
    e->ms_map = ms;
    e->mq_map = mq;
    return 0;
}

int engine__install(struct engine *e,
                    uint32_t version,
                    const struct engine_model *m,
                    const char *actor,
                    struct engine_result *res)
{
    char err[sizeof(res->message)];
    if (m == NULL || engine_model_validate(m, err, sizeof(err)) != 0) {
        return FAIL(res, CD_EINVAL, "invalid model: %s", m ? err : "none given");
    }
    if (version <= e->version) {
        return FAIL(res, CD_ESTATE, "model version %u is not newer than installed %u", version,
                    e->version);
    }
    if (swap_model(e, m) != 0) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    e->version = version;
    e->has_model = true;
    for (uint32_t i = 0; i < e->n_queues; i++) {
        e->queues[i].retired = true;
        e->queues[i].def.hours = -1;
    }
    for (uint32_t i = 0; i < m->n_queues; i++) {
        define_queue(e, &e->queues[e->mq_map[i]], &m->queues[i]);
    }
    drop_retired_queues(e);
    /* Contacts from retired queues take their places first; then every ready agent takes
     * its most overdue contact, so no re-routed contact jumps an older one. */
    e->routing_paused = true;
    int rv = define_agents(e, m);
    rv = rv ? rv : engine__reindex(e);
    rv = rv ? rv : reroute_retired(e);
    e->routing_paused = false;
    if (rv != 0) {
        e->oom = CD_ENOMEM;
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    for (uint32_t s = 0; s < e->n_slots; s++) {
        if (e->contacts[s].id != 0 && e->contacts[s].state == ENGINE_CONTACT_QUEUED) {
            engine__requeue_timers(e, &e->contacts[s]);
        }
    }
    struct engine_effect fx = {.kind = ENGINE_FX_MODEL, .at = version, .text = actor};
    engine__emit(e, &fx);
    engine__route_all(e);
    return 0;
}
