/* Deadlines: one timer per contact at most (ring-no-answer while offered, escalation or
 * queue timeout while queued, automatic end while in wrap-up), and a chat's reconnect
 * deadline beside it (sessions.c). They fire when a command brings time past them, in order
 * of (deadline, contact id); a contact due for both is gone first. */

#include "engine/commands.h"

int64_t engine__contact_deadline(const struct engine *e, const struct contact *c)
{
    const struct queue *q = &e->queues[c->queue];
    int64_t at = NEVER;
    if (c->state != ENGINE_CONTACT_QUEUED) {
        return c->timer;
    }
    if (c->step < q->def.n_steps) {
        at = c->entered + (int64_t)q->def.steps[c->step].after_s * 1000;
    }
    if (q->def.max_wait_s > 0) {
        int64_t limit = c->entered + (int64_t)q->def.max_wait_s * 1000;
        at = limit < at ? limit : at;
    }
    return at;
}

void engine__requeue_timers(struct engine *e, struct contact *c)
{
    engine__set_deadline(e, c, engine__contact_deadline(e, c));
}

static void escalate(struct engine *e, struct contact *c)
{
    const struct queue *q = &e->queues[c->queue];
    if (c->step >= q->def.n_steps) {
        /* The model changed under this contact: nothing left to escalate. */
        engine__requeue_timers(e, c);
        return;
    }
    engine__dequeue(e, c);
    c->priority = (int16_t)(c->priority + q->def.steps[c->step].priority_boost);
    c->step++;
    engine__enqueue(e, c);
    engine__requeue_timers(e, c);
    struct engine_effect fx = {.kind = ENGINE_FX_ESCALATED,
                               .channel = c->channel,
                               .contact = c->id,
                               .queue = q->name,
                               .step = c->step};
    engine__emit_contact(e, c, &fx);
    engine__route_contact(e, c);
}

static void queued_due(struct engine *e, struct contact *c)
{
    const struct queue *q = &e->queues[c->queue];
    if (q->def.max_wait_s > 0 && e->clock >= c->entered + (int64_t)q->def.max_wait_s * 1000) {
        engine__set_deadline(e, c, NEVER);
        engine__overflow(e, c, q, "timeout");
        return;
    }
    escalate(e, c);
}

/* Ring-no-answer. A single offer makes its agent away, which withdraws this offer and any
 * other the agent holds; a ring-all group that nobody picked up simply rings again, as a
 * hunt group does. */
static void offer_due(struct engine *e, struct contact *c)
{
    e->offer_end = (struct engine__offer_end){c->offer, c->ring == NULL ? c->agent : NONE32,
                                              ENGINE_OFFER_NO_ANSWER};
    if (c->ring == NULL && c->agent != NONE32) {
        const char *why = e->model.rna_reason[0] ? e->model.rna_reason : "ring_no_answer";
        engine__agent_away(e, c->agent, why);
    } else {
        engine__withdraw_offer(e, c, true);
    }
    e->offer_end = (struct engine__offer_end){.agent = NONE32};
}

static void fire(struct engine *e, struct contact *c)
{
    if (c->reconnect_by <= e->clock) {
        engine__customer_gone(e, c);
        return;
    }
    switch (c->state) {
        case ENGINE_CONTACT_QUEUED:
            queued_due(e, c);
            break;
        case ENGINE_CONTACT_OFFERED:
            offer_due(e, c);
            break;
        case ENGINE_CONTACT_WRAPUP:
            engine__set_deadline(e, c, NEVER);
            engine__finish(e, c, engine__done_outcome(c), engine__done_reason(c));
            break;
        default:
            engine__set_deadline(e, c, NEVER);
            break;
    }
}

void engine__advance(struct engine *e, int64_t now)
{
    if (now > e->clock) {
        e->clock = now;
    }
    while (e->deadlines.n > 0 && !e->oom) {
        struct contact *c = &e->contacts[e->deadlines.v[0]];
        if (c->deadline > e->clock) {
            break;
        }
        fire(e, c);
    }
}
