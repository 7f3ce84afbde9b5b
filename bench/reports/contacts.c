/* The contacts of histfill: each slot carries one contact from its create to its end, one
 * request at a time, by the plan drawn for it (histfill.h). The mix, in percent: answered
 * with a disposition 70, answered without one 8, rejected once then answered 4,
 * transferred once then answered 3, abandoned ringing 5, abandoned waiting 10. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench/reports/histfill.h"

#define STUCK_NS (20 * FILL_NS) /* an offer not seen by then: the contact is abandoned */

static const unsigned plan_percent[PLAN_COUNT] = {
    [PLAN_ANSWER] = 70,  [PLAN_ANSWER_PLAIN] = 8,    [PLAN_REJECT_FIRST] = 4,
    [PLAN_TRANSFER] = 3, [PLAN_ABANDON_RINGING] = 5, [PLAN_ABANDON_WAITING] = 10,
};

static const char *const topics[] = {"billing", "orders", "returns", "account"};

static void act(struct fill_contact *c);

static uint32_t slot_of(const struct fill_contact *c)
{
    return (uint32_t)(c - FILL->slots);
}

static uint8_t draw_plan(void)
{
    unsigned r = (unsigned)(fill_random() % 100), sum = 0;
    for (unsigned p = 0; p < PLAN_COUNT; p++) {
        sum += plan_percent[p];
        if (r < sum) {
            return (uint8_t)p;
        }
    }
    return PLAN_ANSWER;
}

static uint8_t draw_queue(void)
{
    unsigned total = 0;
    for (unsigned i = 0; i < FILL->n_queues; i++) {
        total += FILL->queues[i].weight;
    }
    unsigned r = (unsigned)(fill_random() % total), sum = 0;
    for (unsigned i = 0; i < FILL->n_queues; i++) {
        sum += FILL->queues[i].weight;
        if (r < sum) {
            return (uint8_t)i;
        }
    }
    return 0;
}

/* Another queue of the same channel, or -1. */
static int transfer_target(unsigned from)
{
    for (unsigned k = 1; k < FILL->n_queues; k++) {
        unsigned i = (from + k) % FILL->n_queues;
        if (strcmp(FILL->queues[i].channel, FILL->queues[from].channel) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static void count_status(const char *what, int status)
{
    char name[40];
    snprintf(name, sizeof(name), "%s_%d", what, status);
    fill_tally_add(&FILL->errors, name);
}

/* The contact is done (finished, or given up on): its slot takes the next one. */
static void release(struct fill_contact *c, bool ok)
{
    struct fill *f = FILL;
    if (c->id != 0) {
        idmap_del(&f->by_id, c->id);
    }
    if (ok) {
        f->finished++;
    } else {
        f->failed++;
    }
    memset(c, 0, sizeof(*c));
    f->free_slots[f->n_free++] = slot_of(c);
    contacts_start(f);
}

static void final_done(void *data, const struct http_response *res)
{
    struct fill_contact *c = data;
    if (res->status != 200) {
        count_status("final", res->status);
    }
    release(c, res->status == 200);
}

/* A request about c; on a failure to send, c is released as failed. */
static void post(struct fill_contact *c,
                 const char *target,
                 const char *body,
                 http_client_cb cb)
{
    c->stage = ST_BUSY;
    if (fill_post(target, body, cb, c) != 0) {
        fill_tally_add(&FILL->errors, "request");
        release(c, false);
    }
}

static void post_contact(struct fill_contact *c,
                         const char *what,
                         const char *body,
                         http_client_cb cb)
{
    char target[96];
    snprintf(target, sizeof(target), "/v1/contacts/%llu/%s", (unsigned long long)c->id, what);
    post(c, target, body, cb);
}

static void wait_offer(struct fill_contact *c)
{
    c->stage = ST_WAIT_OFFER;
    c->t_stage = fill_now();
    if (c->next > c->offer) {
        c->offer = c->next;
        memcpy(c->agent, c->next_agent, sizeof(c->agent));
        c->next = 0;
        act(c);
    }
}

static void wrapup_done(void *data, const struct http_response *res)
{
    final_done(data, res);
}

static void end_done(void *data, const struct http_response *res)
{
    struct fill_contact *c = data;
    char body[128] = "{}";
    if (res->status != 200) {
        count_status("end", res->status);
        release(c, false);
        return;
    }
    if (c->plan != PLAN_ANSWER_PLAIN && FILL->n_dispositions > 0) {
        snprintf(body, sizeof(body), "{\"disposition\":\"%s\"}",
                 FILL->dispositions[fill_random() % FILL->n_dispositions]);
    }
    post_contact(c, "wrapup-done", body, wrapup_done);
}

static void transfer_done(void *data, const struct http_response *res)
{
    struct fill_contact *c = data;
    if (res->status != 200) {
        count_status("transfer", res->status);
        release(c, false);
        return;
    }
    c->step++;
    wait_offer(c);
}

static void accept_done(void *data, const struct http_response *res)
{
    struct fill_contact *c = data;
    char body[160];
    if (res->status != 200) {
        count_status("accept", res->status); /* a stale offer: wait for the next */
        wait_offer(c);
        return;
    }
    int to = c->plan == PLAN_TRANSFER && c->step == 0 ? transfer_target(c->queue) : -1;
    if (to >= 0) {
        c->queue = (uint8_t)to;
        snprintf(body, sizeof(body), "{\"queue\":\"%s\"}", FILL->queues[to].name);
        post_contact(c, "transfer", body, transfer_done);
        return;
    }
    post_contact(c, "end", "{}", end_done);
}

static void reject_done(void *data, const struct http_response *res)
{
    struct fill_contact *c = data;
    if (res->status != 200) {
        count_status("reject", res->status);
    }
    c->step++;
    wait_offer(c);
}

/* c has an offer (c->offer, c->agent) and no request in flight. */
static void act(struct fill_contact *c)
{
    char target[96], body[160];
    snprintf(body, sizeof(body), "{\"agent\":\"%s\"}", c->agent);
    switch (c->plan) {
        case PLAN_ABANDON_RINGING:
        case PLAN_ABANDON_WAITING:
            post_contact(c, "abandon", "{}", final_done);
            return;
        case PLAN_REJECT_FIRST:
            if (c->step == 0) {
                snprintf(target, sizeof(target), "/v1/offers/%llu/reject",
                         (unsigned long long)c->offer);
                post(c, target, body, reject_done);
                return;
            }
            break;
        default:
            break;
    }
    c->next = 0; /* anything before this offer is stale */
    snprintf(target, sizeof(target), "/v1/offers/%llu/accept", (unsigned long long)c->offer);
    post(c, target, body, accept_done);
}

static void create_done(void *data, const struct http_response *res)
{
    struct fill_contact *c = data;
    struct fill *f = FILL;
    json_t *j = res->status == 201 ? json_loadb(res->body, res->body_len, 0, NULL) : NULL;
    json_int_t id = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    if (id <= 0) {
        count_status("create", res->status);
        release(c, false);
        return;
    }
    c->id = (uint64_t)id;
    if (!idmap_put(&f->by_id, c->id, slot_of(c))) {
        fill_tally_add(&f->errors, "idmap_full");
        release(c, false);
        return;
    }
    if (c->plan == PLAN_ABANDON_WAITING) {
        post_contact(c, "abandon", "{}", final_done);
        return;
    }
    offers_take_early(f, c->id, &c->next, c->next_agent);
    wait_offer(c);
}

static void start_one(struct fill *f, struct fill_contact *c)
{
    char body[512];
    *c = (struct fill_contact){.seq = f->started++, .plan = draw_plan(), .queue = draw_queue()};
    f->plans[c->plan]++;
    const struct fill_queue *q = &f->queues[c->queue];
    snprintf(body, sizeof(body),
             "{\"channel\":\"%s\",\"queue\":\"%s\",\"key\":\"%s-%u\",\"attributes\":{\"name\":"
             "\"Customer %u\",\"topic\":\"%s\"}}",
             q->channel, q->name, f->key_prefix, c->seq, c->seq,
             topics[fill_random() % (sizeof(topics) / sizeof(topics[0]))]);
    post(c, "/v1/contacts", body, create_done);
}

void contacts_start(struct fill *f)
{
    while (!f->stopping && f->started < f->n_contacts && f->n_free > 0) {
        start_one(f, &f->slots[f->free_slots[--f->n_free]]);
    }
}

void contact_offered(struct fill *f, uint64_t contact, uint64_t offer, const char *agent)
{
    uint32_t slot;
    f->offers_seen++;
    if (!idmap_get(&f->by_id, contact, &slot)) {
        offers_keep_early(f, contact, offer, agent);
        return;
    }
    struct fill_contact *c = &f->slots[slot];
    if (offer <= c->offer || offer <= c->next) {
        return;
    }
    c->next = offer;
    snprintf(c->next_agent, sizeof(c->next_agent), "%s", agent);
    if (c->stage == ST_WAIT_OFFER) {
        wait_offer(c);
    }
}

void contacts_sweep(struct fill *f, uint64_t now)
{
    for (uint32_t i = 0; i < f->inflight; i++) {
        struct fill_contact *c = &f->slots[i];
        if (c->stage == ST_WAIT_OFFER && now - c->t_stage > STUCK_NS) {
            f->stuck_abandoned++;
            c->plan = PLAN_ABANDON_WAITING;
            post_contact(c, "abandon", "{}", final_done);
        }
    }
}
