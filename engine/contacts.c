/* A contact's life: arrival in a queue, overflow, the end of it, and the commands that
 * move it along (create, abandon, end, transfer, callback, attributes). Offers are in
 * offers.c. */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/error.h"
#include "engine/commands.h"

#define OVERFLOW_HOPS 8

/* Takes the contact out of whatever it is in: its queue, an open offer, an agent's hands. */
static void detach(struct engine *e, struct contact *c, uint32_t *freed)
{
    *freed = NONE32;
    engine__set_deadline(e, c, NEVER);
    engine__set_reconnect(e, c, NEVER);
    switch (c->state) {
        case ENGINE_CONTACT_QUEUED:
            engine__dequeue(e, c);
            break;
        case ENGINE_CONTACT_OFFERED:
            engine__withdraw_offer(e, c, false);
            break;
        case ENGINE_CONTACT_CONNECTED:
        case ENGINE_CONTACT_WRAPUP:
            *freed = c->agent;
            engine__load_sub(e, c->agent, c, c->state == ENGINE_CONTACT_CONNECTED);
            break;
        default:
            break;
    }
}

static void count_outcome(struct engine *e, struct contact *c, uint8_t outcome)
{
    if (c->queue == NONE16) {
        return;
    }
    struct queue *q = &e->queues[c->queue];
    engine__stats_touch(e, q);
    switch (outcome) {
        case ENGINE_CONTACT_ABANDONED:
            if (c->answered != 0) {
                /* Answered, then the customer went away (customer_gone): it was handled,
                 * and its handle time counts like a completed one's. */
                engine__stats_complete(e, q, c);
                break;
            }
            STAT(q, abandoned);
            if (e->clock - c->entered > (int64_t)q->def.sl_target_s * 1000) {
                STAT(q, abandoned_after_sl);
            }
            break;
        case ENGINE_CONTACT_OVERFLOWED:
            STAT(q, overflowed);
            break;
        case ENGINE_CONTACT_TIMED_OUT:
            STAT(q, timed_out);
            break;
        case ENGINE_CONTACT_COMPLETED:
            engine__stats_complete(e, q, c);
            break;
        default:
            break;
    }
}

void engine__finish(struct engine *e, struct contact *c, uint8_t outcome, const char *reason)
{
    engine__finish_with(e, c, outcome, reason, "", "");
}

void engine__finish_with(struct engine *e,
                         struct contact *c,
                         uint8_t outcome,
                         const char *reason,
                         const char *disposition,
                         const char *notes)
{
    uint32_t freed;
    uint32_t agent = c->agent;
    engine__hold_off(e, c);
    detach(e, c, &freed);
    /* Out of every line, offer and deadline before it leaves the state. */
    CD_ASSERT(c->cls == NONE32 && c->offer == 0 && c->dpos == NONE32);
    if (c->ended == 0) {
        c->ended = e->clock;
    }
    count_outcome(e, c, outcome);
    struct engine_history h = {.contact = c->id,
                               .channel = c->channel,
                               .outcome = outcome,
                               .priority = c->priority,
                               .queue = c->queue == NONE16 ? "" : e->queues[c->queue].name,
                               .agent = agent == NONE32 ? "" : e->agents[agent].name,
                               .reason = reason ? reason : "",
                               .arrived = c->arrived,
                               .offered = c->offered,
                               .answered = c->answered,
                               .ended = c->ended,
                               .completed = e->clock,
                               .offers = c->offers,
                               .transfers = c->transfers,
                               .callback = c->callback,
                               .key = c->keyrec == NONE32 ? "" : e->keyrecs[c->keyrec].key,
                               .disposition = disposition ? disposition : "",
                               .notes = notes ? notes : ""};
    h.n_attrs = engine__attrs_list(c, h.attrs);
    engine__transcript(c, &h.transcript);
    engine__path_get(c, &h.path);
    struct engine_effect fx = {.kind = ENGINE_FX_ENDED,
                               .channel = c->channel,
                               .contact = c->id,
                               .agent = h.agent,
                               .queue = h.queue,
                               .text = h.reason,
                               .state = outcome,
                               .history = &h};
    engine__emit_contact(e, c, &fx);
    if (c->keyrec != NONE32) {
        engine__keyrec_finish(e, c->keyrec);
    }
    engine__contact_release(e, c);
    if (freed != NONE32) {
        engine__route_agent(e, freed);
    }
}

void engine__to_queue(struct engine *e, struct contact *c, uint16_t qi)
{
    struct queue *q = &e->queues[qi];
    c->queue = qi;
    c->entered = e->clock;
    c->step = 0;
    c->priority = c->base_priority;
    engine__stats_touch(e, q);
    STAT(q, arrived);
    uint32_t ahead = q->waiting;
    if (engine__enqueue(e, c) != 0) {
        return;
    }
    engine__requeue_timers(e, c);
    struct engine_effect fx = {.kind = ENGINE_FX_QUEUED,
                               .channel = c->channel,
                               .contact = c->id,
                               .queue = q->name,
                               .ewt_ms = engine__ewt(e, q, ahead, c->channel)};
    engine__emit_contact(e, c, &fx);
    engine__route_contact(e, c);
}

static void arrive_at(struct engine *e, struct contact *c, uint16_t qi, int hops);

static void overflow_hop(struct engine *e,
                         struct contact *c,
                         const struct queue *from,
                         const char *why,
                         int hops)
{
    if (from->def.overflow_queue >= 0 && hops < OVERFLOW_HOPS) {
        if (c->queue != NONE16) {
            engine__stats_touch(e, &e->queues[c->queue]);
            STAT(&e->queues[c->queue], overflowed);
        }
        e->path_via = ENGINE_VIA_OVERFLOW;
        arrive_at(e, c, (uint16_t)from->def.overflow_queue, hops + 1);
    } else if (from->def.overflow_target[0] != 0) {
        engine__finish(e, c, ENGINE_CONTACT_OVERFLOWED, from->def.overflow_target);
    } else if (strcmp(why, "timeout") == 0) {
        engine__finish(e, c, ENGINE_CONTACT_TIMED_OUT, why);
    } else {
        engine__finish(e, c, ENGINE_CONTACT_REJECTED, why);
    }
}

static void arrive_at(struct engine *e, struct contact *c, uint16_t qi, int hops)
{
    struct queue *q = &e->queues[qi];
    const char *why = NULL;
    if (q->retired) {
        why = "queue_retired";
    } else if (!(q->def.channels & ENGINE_CH_BIT(c->channel))) {
        why = "channel_not_served";
    } else if (!engine__queue_open(e, q)) {
        why = "closed";
    } else if (q->def.max_size > 0 && q->waiting >= q->def.max_size) {
        why = "queue_full";
    }
    if (why == NULL) {
        engine__to_queue(e, c, qi);
        return;
    }
    engine__path_add(
        e, c,
        &(struct engine_path_step){
            .kind = ENGINE_PATH_REFUSED, .at = e->clock, .queue = q->name, .text = why});
    if (c->state != ENGINE_CONTACT_QUEUED || c->cls == NONE32) {
        /* Not yet anywhere: report against the queue it was aimed at. */
        c->queue = qi;
    }
    if (q->retired || !(q->def.channels & ENGINE_CH_BIT(c->channel))) {
        engine__finish(e, c, ENGINE_CONTACT_REJECTED, why);
        return;
    }
    overflow_hop(e, c, q, why, hops);
}

void engine__arrive(struct engine *e, struct contact *c, uint16_t qi)
{
    arrive_at(e, c, qi, 0);
}

/* Leaves the current queue (timeout) for the queue's overflow. */
void engine__overflow(struct engine *e,
                      struct contact *c,
                      const struct queue *from,
                      const char *why)
{
    engine__dequeue(e, c);
    c->state = ENGINE_CONTACT_QUEUED;
    overflow_hop(e, c, from, why, 0);
}
