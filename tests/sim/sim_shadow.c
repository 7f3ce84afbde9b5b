/* The shadow world: what the simulation believes about every contact and agent, built
 * only from the effects the primary engine emits. Each effect is checked against the
 * shadow as it arrives: a contact offered twice, an effect about a contact that ended, an
 * accept that leaves a ring-all group ringing, or an agent over capacity fails the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim.h"

static const char *const state_names[] = {"unknown", "queued",     "offered", "connected",
                                          "wrapup",  "in transit", "ended"};

struct sim_contact *sim_contact(struct sim *s, uint64_t id)
{
    if (id == 0 || id > s->created) {
        return NULL;
    }
    return &s->contacts[id];
}

static void touch_contact(struct sim *s, uint64_t id, struct sim_contact *c)
{
    if (c->touched == s->step) {
        return;
    }
    c->touched = s->step;
    if (s->n_touched_contacts == s->cap_touched_contacts) {
        s->cap_touched_contacts = s->cap_touched_contacts ? 2 * s->cap_touched_contacts : 64;
        s->touched_contacts = sim_xalloc(
            s->touched_contacts, s->cap_touched_contacts * sizeof(*s->touched_contacts));
    }
    s->touched_contacts[s->n_touched_contacts++] = id;
}

void sim_touch_agent(struct sim *s, uint32_t ai)
{
    struct sim_agent *a = &s->agents[ai];
    if (a->touched != s->step) {
        a->touched = s->step;
        s->touched_agents[s->n_touched_agents++] = (uint16_t)ai;
    }
}

/* The contact CONTACT_CREATE is making: ids are handed out 1, 2, 3, ... */
static struct sim_contact *register_contact(struct sim *s, uint64_t id, uint8_t channel)
{
    if (id >= s->cap_contacts) {
        uint64_t cap = s->cap_contacts ? 2 * s->cap_contacts : 4096;
        s->contacts = sim_xalloc(s->contacts, cap * sizeof(*s->contacts));
        memset(s->contacts + s->cap_contacts, 0,
               (cap - s->cap_contacts) * sizeof(*s->contacts));
        s->cap_contacts = cap;
    }
    if (s->n_live == s->cap_live) {
        s->cap_live = s->cap_live ? 2 * s->cap_live : 1024;
        s->live = sim_xalloc(s->live, s->cap_live * sizeof(*s->live));
    }
    struct sim_contact *c = &s->contacts[id];
    c->channel = channel;
    c->queue = -1;
    c->lpos = (uint32_t)s->n_live;
    s->live[s->n_live++] = id;
    s->created = id;
    s->st.max_live = s->n_live > s->st.max_live ? s->n_live : s->st.max_live;
    return c;
}

static struct sim_contact *fx_contact(struct sim *s, const struct engine_effect *fx)
{
    struct sim_contact *c = sim_contact(s, fx->contact);
    if (c == NULL && s->cur_kind == ENGINE_CMD_CONTACT_CREATE &&
        fx->contact == s->created + 1) {
        c = register_contact(s, fx->contact, fx->channel);
    }
    if (c == NULL) {
        sim_fail(s, "effect %u names contact %llu that was never created", fx->kind,
                 (unsigned long long)fx->contact);
    }
    if (c->state == SC_ENDED) {
        sim_fail(s, "effect %u names contact %llu that already ended", fx->kind,
                 (unsigned long long)fx->contact);
    }
    if (c->channel != fx->channel) {
        sim_fail(s, "effect %u: contact %llu changed channel", fx->kind,
                 (unsigned long long)fx->contact);
    }
    touch_contact(s, fx->contact, c);
    return c;
}

static uint32_t fx_agent(struct sim *s, const struct engine_effect *fx)
{
    int ai = sim_agent_index(fx->agent);
    if (ai < 0 || !s->agents[ai].defined) {
        sim_fail(s, "effect %u names unknown agent '%s'", fx->kind, fx->agent ? fx->agent : "");
    }
    sim_touch_agent(s, (uint32_t)ai);
    return (uint32_t)ai;
}

static uint32_t fx_queue(struct sim *s, const struct engine_effect *fx)
{
    int q = fx->queue ? sim_queue_index(s, fx->queue) : -1;
    if (q < 0) {
        sim_fail(s, "effect %u names unknown queue '%s'", fx->kind, fx->queue ? fx->queue : "");
    }
    return (uint32_t)q;
}

static void wait_add(struct sim *s, uint64_t id, struct sim_contact *c, uint32_t qi)
{
    struct sim_queue *q = &s->queues[qi];
    if (q->n_waiting == q->cap_waiting) {
        q->cap_waiting = q->cap_waiting ? 2 * q->cap_waiting : 64;
        q->waiting = sim_xalloc(q->waiting, q->cap_waiting * sizeof(*q->waiting));
    }
    c->queue = (int16_t)qi;
    c->qpos = q->n_waiting;
    q->waiting[q->n_waiting++] = id;
    c->state = SC_QUEUED;
    s->st.max_waiting = q->n_waiting > s->st.max_waiting ? q->n_waiting : s->st.max_waiting;
}

static void wait_del(struct sim *s, struct sim_contact *c)
{
    struct sim_queue *q = &s->queues[c->queue];
    uint64_t last = q->waiting[--q->n_waiting];
    q->waiting[c->qpos] = last;
    s->contacts[last].qpos = c->qpos;
}

static void live_del(struct sim *s, struct sim_contact *c)
{
    uint64_t last = s->live[--s->n_live];
    s->live[c->lpos] = last;
    s->contacts[last].lpos = c->lpos;
}

static void hold(struct sim *s, struct sim_contact *c, uint32_t ai)
{
    struct sim_agent *a = &s->agents[ai];
    a->load[c->channel]++;
    a->n_offered++;
}

static void release(struct sim *s, struct sim_contact *c, uint32_t ai, uint8_t from)
{
    struct sim_agent *a = &s->agents[ai];
    if (a->load[c->channel] == 0) {
        sim_fail(s, "agent '%s' released a contact it did not hold", a->name);
    }
    a->load[c->channel]--;
    if (a->allowance[c->channel] > a->load[c->channel]) {
        a->allowance[c->channel] = a->load[c->channel];
    }
    a->n_offered -= from == SC_OFFERED;
    a->n_connected -= from == SC_CONNECTED;
    a->n_wrapup -= from == SC_WRAPUP;
    sim_touch_agent(s, ai);
}

static void on_queued(struct sim *s, const struct engine_effect *fx)
{
    struct sim_contact *c = fx_contact(s, fx);
    uint32_t qi = fx_queue(s, fx);
    uint64_t id = fx->contact;
    if (c->state == SC_UNKNOWN) {
        c->queued_at = s->now;
        c->ewt_ms = fx->ewt_ms;
        c->ewt_valid = true;
        wait_add(s, id, c, qi);
        sim_on_queued_first(s, id, c->channel);
        return;
    }
    if (c->state == SC_CONNECTED && id == s->transfer_contact) {
        release(s, c, c->agent, SC_CONNECTED);
    } else if (c->state == SC_QUEUED) {
        wait_del(s, c);
    } else if (c->state != SC_LIMBO) {
        sim_fail(s, "contact %llu queued from state %s", (unsigned long long)id,
                 state_names[c->state]);
    }
    c->ewt_valid = false;
    wait_add(s, id, c, qi);
}

static void ring_join(struct sim *s,
                      struct sim_contact *c,
                      const struct engine_effect *fx,
                      uint32_t ai)
{
    int qi = sim_queue_index(s, fx->queue ? fx->queue : "");
    if (fx->offer != c->offer || qi < 0 || !s->queues[qi].ring_all) {
        sim_fail(s, "contact %llu offered to '%s' while offer %llu is open",
                 (unsigned long long)fx->contact, fx->agent, (unsigned long long)c->offer);
    }
    if (sim_rung(c, ai) || c->n_ring >= ENGINE_RING_ALL_MAX) {
        sim_fail(s, "ring-all offer %llu: agent '%s' rung twice or group over %d",
                 (unsigned long long)c->offer, fx->agent, ENGINE_RING_ALL_MAX);
    }
    if (c->ring == NULL) {
        c->ring = sim_xalloc(NULL, ENGINE_RING_ALL_MAX * sizeof(*c->ring));
        c->ring[0] = c->agent;
    }
    c->ring[c->n_ring++] = (uint16_t)ai;
}

static void on_offer(struct sim *s, const struct engine_effect *fx)
{
    struct sim_contact *c = fx_contact(s, fx);
    uint32_t ai = fx_agent(s, fx);
    bool transfer = fx->contact == s->transfer_contact;
    sim_check_offer(s, fx, ai);
    if (c->state == SC_OFFERED) {
        ring_join(s, c, fx, ai);
        hold(s, c, ai);
        sim_on_offer(s, fx->contact, fx->offer, ai);
        return;
    }
    if (c->state == SC_QUEUED) {
        if (!transfer) {
            sim_check_queue_order(s, fx, ai);
        }
        wait_del(s, c);
    } else if (c->state == SC_CONNECTED && transfer) {
        release(s, c, c->agent, SC_CONNECTED);
    } else if (!(c->state == SC_LIMBO && transfer)) {
        sim_fail(s, "contact %llu offered from state %s", (unsigned long long)fx->contact,
                 state_names[c->state]);
    }
    c->state = SC_OFFERED;
    c->offer = fx->offer;
    c->agent = (uint16_t)ai;
    c->n_ring = 1;
    c->offered_at = s->now;
    hold(s, c, ai);
    s->st.offers++;
    sim_on_offer(s, fx->contact, fx->offer, ai);
}

static void on_cancel(struct sim *s, const struct engine_effect *fx)
{
    struct sim_contact *c = fx_contact(s, fx);
    uint32_t ai = fx_agent(s, fx);
    if (c->state != SC_OFFERED || c->offer != fx->offer || !sim_rung(c, ai)) {
        sim_fail(s, "cancel of offer %llu to '%s' that is not open (contact %llu is %s)",
                 (unsigned long long)fx->offer, fx->agent, (unsigned long long)fx->contact,
                 state_names[c->state]);
    }
    release(s, c, ai, SC_OFFERED);
    if (c->ring != NULL) {
        for (uint8_t i = 0; i < c->n_ring; i++) {
            if (c->ring[i] == ai) {
                c->ring[i] = c->ring[--c->n_ring];
                break;
            }
        }
        c->agent = c->n_ring > 0 ? c->ring[0] : c->agent;
    } else {
        c->n_ring = 0;
    }
    if (c->n_ring > 0) {
        return;
    }
    free(c->ring);
    c->ring = NULL;
    c->offer = 0;
    if (fx->state == ENGINE_CONTACT_QUEUED) {
        wait_add(s, fx->contact, c, (uint32_t)c->queue);
    } else {
        c->state = SC_LIMBO;
    }
}

static void on_connected(struct sim *s, const struct engine_effect *fx)
{
    struct sim_contact *c = fx_contact(s, fx);
    uint32_t ai = fx_agent(s, fx);
    if (c->state != SC_OFFERED || !sim_rung(c, ai)) {
        sim_fail(s, "contact %llu connected to '%s' without an open offer to it",
                 (unsigned long long)fx->contact, fx->agent);
    }
    if (c->n_ring != 1) {
        sim_fail(s, "contact %llu connected while %u other agents still ring",
                 (unsigned long long)fx->contact, c->n_ring - 1u);
    }
    free(c->ring);
    c->ring = NULL;
    c->state = SC_CONNECTED;
    c->agent = (uint16_t)ai;
    c->offer = 0;
    s->agents[ai].n_offered--;
    s->agents[ai].n_connected++;
    s->st.connected++;
    if (c->ewt_valid) {
        sim_ewt_record(s, (uint32_t)c->queue, c->ewt_ms, c->offered_at - c->queued_at);
        c->ewt_valid = false;
    }
    sim_on_connected(s, fx->contact);
}

static void on_wrapup(struct sim *s, const struct engine_effect *fx)
{
    struct sim_contact *c = fx_contact(s, fx);
    uint32_t ai = fx_agent(s, fx);
    if (c->state != SC_CONNECTED || c->agent != ai) {
        sim_fail(s, "contact %llu in wrap-up with '%s' from state %s",
                 (unsigned long long)fx->contact, fx->agent, state_names[c->state]);
    }
    c->state = SC_WRAPUP;
    s->agents[ai].n_connected--;
    s->agents[ai].n_wrapup++;
    sim_on_wrapup(s, fx->contact, fx->at);
}

static void on_ended(struct sim *s, const struct engine_effect *fx)
{
    struct sim_contact *c = fx_contact(s, fx);
    const struct engine_history *h = fx->history;
    if (h == NULL || h->contact != fx->contact || h->outcome != fx->state ||
        h->outcome < ENGINE_CONTACT_COMPLETED || h->outcome >= ENGINE_CONTACT_STATE_COUNT) {
        sim_fail(s, "ENDED of contact %llu: bad history record",
                 (unsigned long long)fx->contact);
    }
    switch (c->state) {
        case SC_QUEUED:
            wait_del(s, c);
            break;
        case SC_CONNECTED:
        case SC_WRAPUP:
            release(s, c, c->agent, c->state);
            break;
        case SC_OFFERED:
            sim_fail(s, "contact %llu ended with its offer still open",
                     (unsigned long long)fx->contact);
        default:
            break;
    }
    if (c->state == SC_UNKNOWN) {
        c->queue = -1;
    }
    c->state = SC_ENDED;
    live_del(s, c);
    s->st.ended++;
    s->st.outcomes[h->outcome]++;
}

void sim_shadow_effect(struct sim *s, const struct engine_effect *fx)
{
    switch (fx->kind) {
        case ENGINE_FX_QUEUED:
            on_queued(s, fx);
            break;
        case ENGINE_FX_OFFER:
            on_offer(s, fx);
            break;
        case ENGINE_FX_OFFER_CANCEL:
            on_cancel(s, fx);
            break;
        case ENGINE_FX_CONNECTED:
            on_connected(s, fx);
            break;
        case ENGINE_FX_WRAPUP:
            on_wrapup(s, fx);
            break;
        case ENGINE_FX_ENDED:
            on_ended(s, fx);
            break;
        case ENGINE_FX_ESCALATED:
        case ENGINE_FX_CALLBACK_OFFER:
            if (fx_contact(s, fx)->state != SC_QUEUED) {
                sim_fail(s, "effect %u for contact %llu that is not queued", fx->kind,
                         (unsigned long long)fx->contact);
            }
            break;
        case ENGINE_FX_AGENT_STATE:
            if (fx->state == ENGINE_AGENT_AWAY) {
                sim_on_agent_away(s, fx_agent(s, fx));
            } else {
                fx_agent(s, fx);
            }
            break;
        case ENGINE_FX_MODEL:
            s->model_changed = true;
            break;
        case ENGINE_FX_AUDIT:
            break; /* who did it: nothing the shadow model follows */
        case ENGINE_FX_SESSION_MOVED:
        case ENGINE_FX_SESSION_ENDED:
        case ENGINE_FX_SESSION_LOST:
            fx_contact(s, fx); /* where the customer is: not followed here */
            break;
        case ENGINE_FX_MESSAGE: {
            const struct sim_contact *c = fx_contact(s, fx);
            if (fx->channel != ENGINE_CH_CHAT || fx->seq == 0 ||
                (c->state != SC_QUEUED && c->state != SC_OFFERED && c->state != SC_CONNECTED)) {
                sim_fail(s, "message %u for contact %llu in state %u", fx->seq,
                         (unsigned long long)fx->contact, c->state);
            }
            break;
        }
        default:
            sim_fail(s, "unknown effect kind %u", fx->kind);
    }
}
