/* Queues: channels, strategy, service level, limits, hours, overflow, skills, escalation. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/model.h"

#define QUEUE_SIZE_MAX 1000000
#define QUEUE_WAIT_MAX (30u * 86400) /* an email may wait for days */
#define RING_MAX 600
#define WRAPUP_MAX 3600
#define BOOST_MAX 1000

static int read_strategy(struct model_builder *b, const struct ynode *n, uint8_t *out)
{
    int st = n->kind == YNODE_SCALAR ? engine_strategy_parse(n->value) : -1;
    if (st < 0) {
        return cfg_fail(&b->c, n,
                        "strategy: unknown strategy '%s' (expected one of: longest-idle, "
                        "least-occupied, best-skill, round-robin, ring-all)",
                        n->kind == YNODE_SCALAR ? n->value : "a collection");
    }
    *out = (uint8_t)st;
    return 0;
}

static int read_service_level(struct model_builder *b,
                              const struct ynode *n,
                              struct engine_queue *q)
{
    struct model_sl sl = {q->sl_target_s, q->sl_percent, q->sl_formula, q->short_abandon_s};
    if (model_read_service_level(b, n, &sl) != 0) {
        return CD_EPARSE;
    }
    q->sl_target_s = sl.target_s;
    q->sl_percent = sl.percent;
    q->sl_formula = sl.formula;
    q->short_abandon_s = sl.short_abandon_s;
    return 0;
}

static int read_drop(struct model_builder *b,
                     const struct ynode *n,
                     struct engine_escalation *s)
{
    if (cfg_expect_list(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    const struct ynode *first = n->kind == YNODE_SEQ ? n->child : n;
    for (const struct ynode *i = first; i != NULL; i = n->kind == YNODE_SEQ ? i->next : NULL) {
        if (s->n_drop == ENGINE_REQ_SKILLS) {
            return cfg_fail(&b->c, i, "drop: more than %d skills", ENGINE_REQ_SKILLS);
        }
        if (model_skill(b, i, &s->drop[s->n_drop]) != 0) {
            return CD_EPARSE;
        }
        s->n_drop++;
    }
    return 0;
}

static int read_step(struct model_builder *b,
                     const struct ynode *n,
                     struct engine_escalation *s)
{
    static const char *const keys[] = {"after", "relax", "drop", "priority_boost", NULL};
    const struct ynode *after, *e;
    int64_t v;
    if (cfg_keys(&b->c, n, keys) != 0 || (after = cfg_require(&b->c, n, "after")) == NULL ||
        cfg_duration(&b->c, after, 1, QUEUE_WAIT_MAX, &s->after_s) != 0) {
        return CD_EPARSE;
    }
    if ((e = ynode_get(n, "relax")) != NULL) {
        if (cfg_int(&b->c, e, 0, ENGINE_PROFICIENCY_MAX - 1, &v) != 0) {
            return CD_EPARSE;
        }
        s->relax = (uint8_t)v;
    }
    if ((e = ynode_get(n, "priority_boost")) != NULL) {
        if (cfg_int(&b->c, e, -BOOST_MAX, BOOST_MAX, &v) != 0) {
            return CD_EPARSE;
        }
        s->priority_boost = (int16_t)v;
    }
    e = ynode_get(n, "drop");
    return e != NULL ? read_drop(b, e, s) : 0;
}

static int read_escalation(struct model_builder *b,
                           const struct ynode *n,
                           struct engine_queue *q)
{
    if (cfg_expect_seq(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > ENGINE_STEPS_MAX) {
        return cfg_fail(&b->c, n, "escalation: more than %d steps", ENGINE_STEPS_MAX);
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        struct engine_escalation *s = &q->steps[q->n_steps];
        if (read_step(b, i, s) != 0) {
            return CD_EPARSE;
        }
        if (q->n_steps > 0 && s->after_s <= q->steps[q->n_steps - 1].after_s) {
            return cfg_fail(&b->c, ynode_get(i, "after"),
                            "after: must be later than the step before it");
        }
        q->n_steps++;
    }
    return 0;
}

static int read_limits(struct model_builder *b, const struct ynode *n, struct engine_queue *q)
{
    const struct ynode *e;
    int64_t v;
    if ((e = ynode_get(n, "max_size")) != NULL) {
        if (cfg_int(&b->c, e, 0, QUEUE_SIZE_MAX, &v) != 0) {
            return CD_EPARSE;
        }
        q->max_size = (uint32_t)v;
    }
    if (((e = ynode_get(n, "max_wait")) != NULL &&
         cfg_duration(&b->c, e, 0, QUEUE_WAIT_MAX, &q->max_wait_s) != 0) ||
        ((e = ynode_get(n, "ring_timeout")) != NULL &&
         cfg_duration(&b->c, e, 1, RING_MAX, &q->ring_s) != 0) ||
        ((e = ynode_get(n, "wrapup")) != NULL &&
         cfg_duration(&b->c, e, 0, WRAPUP_MAX, &q->wrapup_s) != 0)) {
        return CD_EPARSE;
    }
    return 0;
}

static int read_refs(struct model_builder *b, const struct ynode *n, struct engine_queue *q)
{
    const struct ynode *e;
    int32_t idx;
    if ((e = ynode_get(n, "hours")) != NULL) {
        if (e->kind != YNODE_SCALAR || (idx = names_find(&b->hours, e->value)) < 0) {
            return cfg_fail(&b->c, e, "unknown hours '%s'",
                            e->kind == YNODE_SCALAR ? e->value : "(not a name)");
        }
        q->hours = idx;
    }
    if ((e = ynode_get(n, "overflow")) != NULL &&
        model_overflow(b, e, &q->overflow_queue, q->overflow_target,
                       sizeof(q->overflow_target)) != 0) {
        return CD_EPARSE;
    }
    if ((e = ynode_get(n, "skills")) != NULL &&
        model_skill_levels(b, e, ENGINE_REQ_SKILLS, q->skills, &q->n_skills) != 0) {
        return CD_EPARSE;
    }
    e = ynode_get(n, "escalation");
    return e != NULL ? read_escalation(b, e, q) : 0;
}

static int read_queue(struct model_builder *b, const struct ynode *n, struct engine_queue *q)
{
    static const char *const keys[] = {"channels",
                                       "strategy",
                                       "service_level",
                                       "thresholds",
                                       "max_size",
                                       "max_wait",
                                       "ring_timeout",
                                       "wrapup",
                                       "hours",
                                       "overflow",
                                       "skills",
                                       "escalation",
                                       "disposition_required",
                                       NULL};
    const struct ynode *e;
    cfg_subject(&b->c, "queue '%s'", n->key);
    if (cfg_keys(&b->c, n, keys) != 0 || (e = cfg_require(&b->c, n, "channels")) == NULL ||
        cfg_channels(&b->c, e, &q->channels) != 0) {
        return CD_EPARSE;
    }
    if ((e = ynode_get(n, "strategy")) != NULL && read_strategy(b, e, &q->strategy) != 0) {
        return CD_EPARSE;
    }
    if (q->strategy == ENGINE_STRATEGY_RING_ALL &&
        q->channels != ENGINE_CH_BIT(ENGINE_CH_VOICE)) {
        return cfg_fail(&b->c, e,
                        "strategy: ring-all needs channels: [voice] and nothing else");
    }
    if (((e = ynode_get(n, "service_level")) != NULL && read_service_level(b, e, q) != 0) ||
        ((e = ynode_get(n, "thresholds")) != NULL &&
         model_read_thresholds(b, e, &q->thresholds) != 0) ||
        read_limits(b, n, q) != 0 || read_refs(b, n, q) != 0 ||
        ((e = ynode_get(n, "disposition_required")) != NULL &&
         cfg_bool(&b->c, e, &q->disposition_required) != 0)) {
        return CD_EPARSE;
    }
    if (q->overflow_queue == (int32_t)(q - b->m->queues)) {
        return cfg_fail(&b->c, ynode_get(n, "overflow"),
                        "overflow: a queue cannot overflow to itself");
    }
    return 0;
}

static void queue_defaults(const struct model_defaults *d, struct engine_queue *q)
{
    q->strategy = ENGINE_STRATEGY_LONGEST_IDLE;
    q->sl_target_s = d->sl.target_s;
    q->sl_percent = d->sl.percent;
    q->sl_formula = d->sl.formula;
    q->short_abandon_s = d->sl.short_abandon_s;
    q->thresholds = d->thresholds;
    q->max_wait_s = d->max_wait_s;
    q->ring_s = d->ring_s;
    q->wrapup_s = d->wrapup_s;
    q->hours = -1;
    q->overflow_queue = -1;
}

static int register_names(struct model_builder *b, const struct ynode *n)
{
    uint32_t i = 0;
    for (const struct ynode *e = n->child; e != NULL; e = e->next, i++) {
        cfg_subject(&b->c, "queues");
        if (cfg_key_name(&b->c, e, b->m->queues[i].name, sizeof(b->m->queues[i].name)) != 0) {
            return CD_EPARSE;
        }
        int rv = names_add(&b->queues, e->key, (int32_t)i, NULL);
        if (rv != 0) {
            return rv;
        }
        queue_defaults(&b->def, &b->m->queues[i]);
    }
    b->m->n_queues = n->n;
    return 0;
}

int model_read_queues(struct model_builder *b, const struct ynode *n)
{
    if (cfg_expect_map(&b->c, n) != 0) {
        return CD_EPARSE;
    }
    if (n->n > UINT16_MAX) {
        return cfg_fail(&b->c, n, "queues: more than %d queues", UINT16_MAX);
    }
    b->m->queues = calloc(n->n ? n->n : 1, sizeof(*b->m->queues));
    if (b->m->queues == NULL) {
        return CD_ENOMEM;
    }
    int rv = register_names(b, n);
    uint32_t i = 0;
    for (const struct ynode *e = n->child; e != NULL && rv == 0; e = e->next) {
        rv = read_queue(b, e, &b->m->queues[i++]);
    }
    b->c.subject[0] = 0;
    return rv;
}

/* Marks every queue that lies on a cycle of overflows. Each queue overflows to at most one
 * other, so one walk from each queue not yet seen, stopping at the first queue seen
 * before, visits every queue once. state: 0 not seen, 1 on the current walk, 2 done. */
static void mark_cycles(const struct engine_model *m, uint8_t *state, bool *on_cycle)
{
    for (uint32_t start = 0; start < m->n_queues; start++) {
        int32_t at = (int32_t)start;
        while (at >= 0 && state[at] == 0) {
            state[at] = 1;
            at = m->queues[at].overflow_queue;
        }
        if (at >= 0 && state[at] == 1) { /* the walk came back into itself */
            int32_t q = at;
            do {
                on_cycle[q] = true;
                q = m->queues[q].overflow_queue;
            } while (q != at);
        }
        for (at = (int32_t)start; at >= 0 && state[at] == 1;
             at = m->queues[at].overflow_queue) {
            state[at] = 2;
        }
    }
}

/* Overflow to another queue must end somewhere: a closed or full queue whose overflow
 * chain comes back to it would bounce a contact forever. The first such queue in the
 * document is named. */
int model_check_overflow_loops(struct model_builder *b, const struct ynode *n)
{
    const struct engine_model *m = b->m;
    uint8_t *state = calloc(m->n_queues ? m->n_queues : 1, sizeof(*state));
    bool *on_cycle = calloc(m->n_queues ? m->n_queues : 1, sizeof(*on_cycle));
    int rv = state != NULL && on_cycle != NULL ? 0 : CD_ENOMEM;
    if (rv == 0) {
        mark_cycles(m, state, on_cycle);
    }
    uint32_t i = 0;
    for (const struct ynode *e = n ? n->child : NULL; e != NULL && rv == 0; e = e->next, i++) {
        if (on_cycle[i]) {
            cfg_subject(&b->c, "queue '%s'", m->queues[i].name);
            rv = cfg_fail(&b->c, ynode_get(e, "overflow"),
                          "overflow: chain of overflows leads back to this queue");
        }
    }
    free(state);
    free(on_cycle);
    return rv;
}
