/* engine_check(): every invariant of the state, checked from scratch. O(size of state);
 * for tests, the simulation and debug builds. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/commands.h"

struct checker
{
    const struct engine *e;
    char *err;
    size_t len;
    int failed;
};

static bool fail(struct checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct checker *k, const char *fmt, ...)
{
    if (!k->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(k->err, k->len, fmt, ap);
        va_end(ap);
        k->failed = CD_ECORRUPT;
    }
    return false;
}

static bool holds_slot(const struct agent *a, uint32_t slot)
{
    for (uint32_t i = 0; i < a->n_held; i++) {
        if (a->held[i] == slot) {
            return true;
        }
    }
    return false;
}

static bool check_queued(struct checker *k, const struct contact *c, uint32_t slot)
{
    const struct engine *e = k->e;
    if (c->cls == NONE32 || c->cls >= e->n_classes) {
        return fail(k, "contact %llu queued outside any class", (unsigned long long)c->id);
    }
    const struct cls *cl = &e->classes[c->cls];
    struct reqs r;
    engine__effective_reqs(e, c, &r);
    if (cl->queue != c->queue || cl->channel != c->channel ||
        !engine__reqs_equal(&cl->reqs, &r)) {
        return fail(k, "contact %llu sits in the wrong class", (unsigned long long)c->id);
    }
    (void)slot;
    if (c->agent != NONE32 || c->offer != 0 || c->ring != NULL) {
        return fail(k, "queued contact %llu still has an agent", (unsigned long long)c->id);
    }
    return true;
}

static bool check_placed(struct checker *k, const struct contact *c, uint32_t slot)
{
    const struct engine *e = k->e;
    uint32_t n = c->ring ? c->n_ring : 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ai = c->ring ? c->ring[i] : c->agent;
        if (ai >= e->n_agents || !holds_slot(&e->agents[ai], slot)) {
            return fail(k, "contact %llu not held by its agent", (unsigned long long)c->id);
        }
        for (uint32_t j = 0; j < i; j++) {
            if (c->ring[j] == ai) {
                return fail(k, "contact %llu rings agent %u twice", (unsigned long long)c->id,
                            ai);
            }
        }
    }
    uint32_t mapped;
    bool offered = c->state == ENGINE_CONTACT_OFFERED;
    if (offered != (c->offer != 0) ||
        (offered &&
         (!engine__map_get(&e->by_offer, c->offer, NULL, NULL, &mapped) || mapped != slot))) {
        return fail(k, "contact %llu: offer %llu not indexed", (unsigned long long)c->id,
                    (unsigned long long)c->offer);
    }
    if (c->offer >= e->next_offer) {
        return fail(k, "contact %llu: offer %llu not below the next offer id %llu",
                    (unsigned long long)c->id, (unsigned long long)c->offer,
                    (unsigned long long)e->next_offer);
    }
    if (c->ring != NULL && !offered) {
        return fail(k, "contact %llu rings while %s", (unsigned long long)c->id,
                    engine_contact_state_name(c->state));
    }
    return true;
}

/* The two deadlines, the customer_gone mark and the transcript. */
static bool check_chat(struct checker *k, const struct contact *c)
{
    struct engine_transcript t;
    unsigned long long id = (unsigned long long)c->id;
    if (c->deadline != (c->timer < c->reconnect_by ? c->timer : c->reconnect_by)) {
        return fail(k, "contact %llu: deadline is not the earlier of its two", id);
    }
    if (c->reconnect_by != NEVER && (c->channel != ENGINE_CH_CHAT ||
                                     c->state == ENGINE_CONTACT_WRAPUP || c->where != NULL)) {
        return fail(k, "contact %llu: a reconnect deadline while %s, %s, %s", id,
                    engine_channel_name(c->channel), engine_contact_state_name(c->state),
                    c->where != NULL ? "with a home" : "without a home");
    }
    if (c->gone && c->state != ENGINE_CONTACT_WRAPUP) {
        return fail(k, "contact %llu: customer gone while %s", id,
                    engine_contact_state_name(c->state));
    }
    if ((c->n_msgs > 0 && c->channel != ENGINE_CH_CHAT) ||
        engine_transcript_parse(c->transcript.data, c->transcript.len, &t) != 0 ||
        t.n != c->n_msgs || t.bytes != c->msg_bytes) {
        return fail(k, "contact %llu: transcript of %u messages does not hold together", id,
                    c->n_msgs);
    }
    return true;
}

static bool check_contact(struct checker *k,
                          uint32_t slot,
                          uint32_t *waiting,
                          uint32_t *in_class)
{
    const struct engine *e = k->e;
    const struct contact *c = &e->contacts[slot];
    uint32_t mapped;
    if (!engine__map_get(&e->by_id, c->id, NULL, NULL, &mapped) || mapped != slot) {
        return fail(k, "contact %llu not indexed by id", (unsigned long long)c->id);
    }
    if (c->queue >= e->n_queues || c->state > ENGINE_CONTACT_WRAPUP) {
        return fail(k, "contact %llu has no queue or a terminal state",
                    (unsigned long long)c->id);
    }
    if (c->where != NULL &&
        (!engine_name_valid(engine__home(c), ENGINE_NAME_MAX) ||
         (engine__session(c)[0] != 0 && !engine_session_valid(engine__session(c))))) {
        return fail(k, "contact %llu has a malformed home or session",
                    (unsigned long long)c->id);
    }
    if (!check_chat(k, c)) {
        return false;
    }
    bool timed = c->deadline != NEVER;
    if (timed != (c->dpos != NONE32) ||
        (timed && (c->dpos >= e->deadlines.n || e->deadlines.v[c->dpos] != slot))) {
        return fail(k, "contact %llu deadline not indexed", (unsigned long long)c->id);
    }
    if (c->state == ENGINE_CONTACT_QUEUED) {
        waiting[c->queue]++;
        if (c->cls < e->n_classes) {
            in_class[c->cls]++;
        }
        return check_queued(k, c, slot);
    }
    return check_placed(k, c, slot);
}

static bool check_agent(struct checker *k, uint32_t ai)
{
    const struct engine *e = k->e;
    const struct agent *a = &e->agents[ai];
    uint32_t load[ENGINE_CH_COUNT] = {0}, active[ENGINE_CH_COUNT] = {0};
    for (uint32_t i = 0; i < a->n_held; i++) {
        const struct contact *c = &e->contacts[a->held[i]];
        load[c->channel]++;
        active[c->channel] += c->state != ENGINE_CONTACT_WRAPUP;
    }
    for (int ch = 0; ch < ENGINE_CH_COUNT; ch++) {
        if (load[ch] != a->load[ch] || active[ch] != a->active[ch]) {
            return fail(k, "agent '%s': load on %s is %u, held contacts say %u", a->name,
                        engine_channel_name(ch), a->load[ch], load[ch]);
        }
        if (a->load[ch] > a->capacity[ch] && a->load[ch] > a->allowance[ch]) {
            return fail(k, "agent '%s' over capacity on %s: %u > %u", a->name,
                        engine_channel_name(ch), a->load[ch], a->capacity[ch]);
        }
    }
    if (a->ready_mask != engine__ready_mask(e, a)) {
        return fail(k, "agent '%s': stale readiness", a->name);
    }
    for (uint32_t i = 0; i < a->n_members; i++) {
        uint32_t mi = a->members[i];
        const struct member *m = &e->members[mi];
        const struct cls *cl = &e->classes[m->cls];
        bool ready = (a->ready_mask & ENGINE_CH_BIT(cl->channel)) != 0;
        if (m->agent != ai || (ready && (m->pos == NONE32 || !engine__member_fresh(e, mi)))) {
            return fail(k, "agent '%s': membership out of date", a->name);
        }
        if (ready && engine__wait_head(&cl->contacts) != NULL && !e->queues[cl->queue].paused) {
            return fail(k, "agent '%s' is ready while a contact it could take waits in '%s'",
                        a->name, e->queues[cl->queue].name);
        }
    }
    return true;
}

static bool heap_ordered(const struct engine *e,
                         const struct heap *h,
                         const struct heap_ops *ops)
{
    for (uint32_t i = 1; i < h->n; i++) {
        if (ops->less(e, h->v[i], h->v[(i - 1) / 2])) {
            return false;
        }
    }
    return true;
}

/* Ordered as a heap, live head, and exactly one live entry per contact in the class. */
static bool waitline_ok(const struct engine *e, uint32_t ki, const uint32_t *live_in)
{
    const struct waitline *w = &e->classes[ki].contacts;
    uint32_t n_live = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        const struct wait_entry *x = &w->v[i], *p = &w->v[(i - 1) / 2];
        const struct contact *c = &e->contacts[x->slot];
        bool is_live = c->id == x->id && c->cls == ki && c->qgen == x->gen;
        n_live += is_live;
        if (is_live && (c->priority != x->priority || c->enqueued != x->enqueued)) {
            return false;
        }
        if (i > 0 &&
            (x->priority > p->priority ||
             (x->priority == p->priority &&
              (x->enqueued < p->enqueued || (x->enqueued == p->enqueued && x->id < p->id))))) {
            return false;
        }
        if (i == 0 && !is_live) {
            return false;
        }
    }
    const struct class_head *h = &e->heads[ki];
    const struct wait_entry *top = engine__wait_head(w);
    if (h->id != (top ? top->id : 0) ||
        (top && (h->priority != top->priority || h->enqueued != top->enqueued))) {
        return false;
    }
    return n_live == live_in[ki] && n_live == engine__wait_live(w);
}

static bool check_heaps(struct checker *k, const uint32_t *live)
{
    const struct engine *e = k->e;
    for (uint32_t i = 0; i < e->n_classes; i++) {
        const struct cls *cl = &e->classes[i];
        if (engine__class_find(e, cl->queue, cl->channel, &cl->reqs) != i) {
            return fail(k, "class %u: not the one its requirements look up (duplicate)", i);
        }
        if (!heap_ordered(e, &e->classes[i].ready, &engine__ready_heap)) {
            return fail(k, "class %u: ready heap out of order", i);
        }
        if (!waitline_ok(e, i, live)) {
            return fail(k, "class %u: waiting line out of order or miscounted", i);
        }
    }
    if (!heap_ordered(e, &e->deadlines, &engine__deadline_heap)) {
        return fail(k, "deadline heap out of order");
    }
    if (e->deadlines.n > 0 && e->contacts[e->deadlines.v[0]].deadline <= e->clock) {
        return fail(k, "a deadline is overdue");
    }
    return true;
}

int engine_check(const struct engine *e, char *err, size_t errlen)
{
    struct checker k = {e, err, errlen, 0};
    int rv = engine__principals_check(e, err, errlen);
    if (rv != 0) {
        return rv;
    }
    uint32_t *waiting = cd_calloc(e->n_queues + 1, sizeof(*waiting));
    uint32_t *in_class = cd_calloc(e->n_classes + 1, sizeof(*in_class));
    size_t live = 0;
    if (waiting == NULL || in_class == NULL) {
        cd_free(waiting);
        cd_free(in_class);
        return CD_ENOMEM;
    }
    for (uint32_t s = 0; s < e->n_slots && !k.failed; s++) {
        if (e->contacts[s].id != 0) {
            live++;
            check_contact(&k, s, waiting, in_class);
        }
    }
    if (!k.failed && live != e->n_live) {
        fail(&k, "%zu live contacts counted as %zu", live, e->n_live);
    }
    if (!k.failed && live + e->n_free != e->n_slots) {
        fail(&k, "%u contact slots: %zu live, %u free, the rest lost", e->n_slots, live,
             e->n_free);
    }
    for (uint32_t q = 0; q < e->n_queues && !k.failed; q++) {
        if (waiting[q] != e->queues[q].waiting) {
            fail(&k, "queue '%s': %u waiting counted as %u", e->queues[q].name, waiting[q],
                 e->queues[q].waiting);
        }
    }
    for (uint32_t ai = 0; ai < e->n_agents && !k.failed; ai++) {
        check_agent(&k, ai);
    }
    if (!k.failed) {
        check_heaps(&k, in_class);
    }
    cd_free(waiting);
    cd_free(in_class);
    if (!k.failed && err != NULL && errlen > 0) {
        err[0] = 0;
    }
    return k.failed;
}
