/* Routing rules: ordered, first match wins. SET changes attributes and goes on; the other
 * actions end the evaluation. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "engine/commands.h"

static bool cmp_num(uint8_t op, int64_t a, int64_t b)
{
    switch (op) {
        case ENGINE_OP_EQ:
            return a == b;
        case ENGINE_OP_NE:
            return a != b;
        case ENGINE_OP_LT:
            return a < b;
        case ENGINE_OP_LE:
            return a <= b;
        case ENGINE_OP_GT:
            return a > b;
        case ENGINE_OP_GE:
            return a >= b;
        default:
            return false;
    }
}

static bool in_values(const struct engine_condition *k, const char *v)
{
    for (uint8_t i = 0; i < k->n_values; i++) {
        if (strcmp(k->values[i], v) == 0) {
            return true;
        }
    }
    return false;
}

static bool attr_holds(const struct engine_condition *k, const char *v)
{
    switch (k->op) {
        case ENGINE_OP_EXISTS:
            return v != NULL;
        case ENGINE_OP_EQ:
        case ENGINE_OP_IN:
            return v != NULL && in_values(k, v);
        case ENGINE_OP_NE:
        case ENGINE_OP_NOT_IN:
            return v == NULL || !in_values(k, v);
        case ENGINE_OP_PREFIX:
            for (uint8_t i = 0; v != NULL && i < k->n_values; i++) {
                if (strncmp(v, k->values[i], strlen(k->values[i])) == 0) {
                    return true;
                }
            }
            return false;
        default:
            return false;
    }
}

/* "GB" covers "GB" and "GB-LND", not "GBX". */
static bool location_holds(const struct engine_condition *k, const char *v)
{
    for (uint8_t i = 0; v != NULL && i < k->n_values; i++) {
        size_t n = strlen(k->values[i]);
        if (strncmp(v, k->values[i], n) == 0 && (v[n] == 0 || v[n] == '-')) {
            return k->op != ENGINE_OP_NOT_IN && k->op != ENGINE_OP_NE;
        }
    }
    return k->op == ENGINE_OP_NOT_IN || k->op == ENGINE_OP_NE;
}

static bool time_holds(const struct engine *e, const struct engine_condition *k)
{
    struct local_time lt;
    engine__local_time(&e->model, k->zone, e->clock, &lt);
    if (k->kind == ENGINE_COND_DAY_OF_WEEK) {
        return (k->days >> lt.weekday) & 1;
    }
    if (k->from_min <= k->to_min) {
        return lt.minute >= k->from_min && lt.minute < k->to_min;
    }
    return lt.minute >= k->from_min || lt.minute < k->to_min;
}

static int target_queue(const struct engine *e,
                        const struct engine_rule *r,
                        const struct engine_condition *k)
{
    int32_t mq = k->queue >= 0 ? k->queue : r->action.queue;
    return (mq < 0 || (uint32_t)mq >= e->model.n_queues) ? -1 : e->mq_map[mq];
}

static bool queue_holds(const struct engine *e,
                        const struct engine_rule *r,
                        const struct engine_condition *k,
                        const struct contact *c)
{
    int qi = target_queue(e, r, k);
    if (qi < 0) {
        return false;
    }
    const struct queue *q = &e->queues[qi];
    switch (k->kind) {
        case ENGINE_COND_EWT:
            return cmp_num(k->op, engine__ewt(e, q, q->waiting, c->channel) / 1000, k->number);
        case ENGINE_COND_QUEUE_SIZE:
            return cmp_num(k->op, q->waiting, k->number);
        case ENGINE_COND_AGENTS_AVAILABLE:
            return cmp_num(k->op, q->ready[c->channel], k->number);
        default:
            return engine__queue_open(e, q) == (k->number != 0);
    }
}

static bool holds(const struct engine *e,
                  const struct engine_rule *r,
                  const struct engine_condition *k,
                  const struct contact *c)
{
    switch (k->kind) {
        case ENGINE_COND_CHANNEL:
            return (k->channels & ENGINE_CH_BIT(c->channel)) != 0;
        case ENGINE_COND_ATTR:
            return attr_holds(k, engine__attr_get(c, k->key));
        case ENGINE_COND_LOCATION:
            return location_holds(k, engine__attr_get(c, "location"));
        case ENGINE_COND_TIME_OF_DAY:
        case ENGINE_COND_DAY_OF_WEEK:
            return time_holds(e, k);
        case ENGINE_COND_PRIORITY:
            return cmp_num(k->op, c->base_priority, k->number);
        default:
            return queue_holds(e, r, k, c);
    }
}

static bool matches(const struct engine *e,
                    const struct engine_rule *r,
                    const struct contact *c)
{
    for (uint32_t i = 0; i < r->n_conds; i++) {
        if (!holds(e, r, &r->conds[i], c)) {
            return false;
        }
    }
    return true;
}

static void set_attrs(struct engine *e, struct contact *c, const struct engine_action *a)
{
    struct engine_attr attrs[ENGINE_SET_MAX];
    for (uint8_t i = 0; i < a->n_set; i++) {
        attrs[i].key = a->set[i].key;
        attrs[i].value = a->set[i].value;
    }
    int rv = engine__attrs_update(c, attrs, a->n_set);
    if (rv == CD_ENOMEM) {
        e->oom = rv;
    }
}

static void route_to(struct engine *e, struct contact *c, const struct engine_action *a)
{
    uint16_t qi = e->mq_map[a->queue];
    if (a->has_priority) {
        c->base_priority = c->priority = a->priority;
    }
    engine__reqs_merge(&c->reqs, &e->queues[qi].reqs);
    for (uint8_t i = 0; i < a->n_skills; i++) {
        engine__reqs_add(&c->reqs, e->ms_map[a->skills[i].skill], a->skills[i].level);
    }
    engine__arrive(e, c, qi);
}

static void callback_offer(struct engine *e, struct contact *c)
{
    const struct queue *q = &e->queues[c->queue];
    struct engine_effect fx = {.kind = ENGINE_FX_CALLBACK_OFFER,
                               .channel = c->channel,
                               .contact = c->id,
                               .queue = q->name,
                               .ewt_ms = engine__ewt(e, q, q->waiting, c->channel)};
    engine__emit_contact(e, c, &fx);
}

/* Applies the action of the matched rule. The contact may be finished on return. */
static void act(struct engine *e, struct contact *c, const struct engine_action *a)
{
    uint64_t id = c->id;
    switch (a->kind) {
        case ENGINE_ACTION_REJECT:
            engine__finish(e, c, ENGINE_CONTACT_REJECTED, a->reason);
            break;
        case ENGINE_ACTION_OVERFLOW:
            if (a->queue >= 0) {
                engine__arrive(e, c, e->mq_map[a->queue]);
            } else {
                engine__finish(e, c, ENGINE_CONTACT_OVERFLOWED, a->target);
            }
            break;
        case ENGINE_ACTION_CALLBACK:
            route_to(e, c, a);
            /* Still waiting (not offered at once, not overflowed): ask the customer, on the
             * channels a customer waits on live (a caller, a chat page). */
            if (engine__contact(e, id) == c && c->state == ENGINE_CONTACT_QUEUED &&
                (c->channel == ENGINE_CH_VOICE || c->channel == ENGINE_CH_CHAT)) {
                callback_offer(e, c);
            }
            break;
        default:
            route_to(e, c, a);
            break;
    }
}

void engine__run_rules(struct engine *e, struct contact *c, struct engine_result *res)
{
    (void)res;
    for (uint32_t i = 0; i < e->model.n_rules; i++) {
        const struct engine_rule *r = &e->model.rules[i];
        if (!matches(e, r, c)) {
            continue;
        }
        if (r->action.kind == ENGINE_ACTION_SET) {
            set_attrs(e, c, &r->action);
            continue;
        }
        c->rule = (uint16_t)(i + 1);
        engine__path_add(e, c,
                         &(struct engine_path_step){
                             .kind = ENGINE_PATH_RULE, .at = e->clock, .text = r->name});
        act(e, c, &r->action);
        return;
    }
    engine__finish(e, c, ENGINE_CONTACT_REJECTED, "no_route");
}
