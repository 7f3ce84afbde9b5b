/* The whole state as one canonical byte string: snapshots for Raft, and the digest that
 * proves two nodes hold the same state. Only primary data is written (see internal.h);
 * decode rebuilds everything else with engine__reindex(). Contacts are written in id
 * order and every table in index order, so equal states encode to equal bytes. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "engine/commands.h"

static void put_reqs(struct cd_buf *b, const struct reqs *r)
{
    cd_buf_u8(b, r->n);
    for (uint8_t i = 0; i < r->n; i++) {
        cd_buf_uvar(b, r->s[i].skill);
        cd_buf_u8(b, r->s[i].level);
    }
}

static void put_thresholds(struct cd_buf *b, const struct engine_thresholds *t)
{
    cd_buf_u8(b, t->sl_warn);
    cd_buf_u8(b, t->sl_alarm);
    cd_buf_uvar(b, t->waiting_warn);
    cd_buf_uvar(b, t->waiting_alarm);
    cd_buf_uvar(b, t->wait_warn_s);
    cd_buf_uvar(b, t->wait_alarm_s);
}

static void put_def(struct cd_buf *b, const struct engine_queue *d)
{
    cd_buf_u8(b, d->channels);
    cd_buf_u8(b, d->strategy);
    cd_buf_uvar(b, d->sl_target_s);
    cd_buf_u8(b, d->sl_percent);
    cd_buf_u8(b, d->sl_formula);
    cd_buf_uvar(b, d->short_abandon_s);
    put_thresholds(b, &d->thresholds);
    cd_buf_uvar(b, d->max_size);
    cd_buf_uvar(b, d->max_wait_s);
    cd_buf_uvar(b, d->ring_s);
    cd_buf_uvar(b, d->wrapup_s);
    cd_buf_svar(b, d->hours);
    cd_buf_svar(b, d->overflow_queue);
    cd_buf_str(b, d->overflow_target);
    cd_buf_u8(b, d->n_skills);
    for (uint8_t i = 0; i < d->n_skills; i++) {
        cd_buf_uvar(b, d->skills[i].skill);
        cd_buf_u8(b, d->skills[i].level);
    }
    cd_buf_u8(b, d->n_steps);
    for (uint8_t s = 0; s < d->n_steps; s++) {
        const struct engine_escalation *st = &d->steps[s];
        cd_buf_uvar(b, st->after_s);
        cd_buf_u8(b, st->relax);
        cd_buf_svar(b, st->priority_boost);
        cd_buf_u8(b, st->n_drop);
        for (uint8_t i = 0; i < st->n_drop; i++) {
            cd_buf_uvar(b, st->drop[i]);
        }
    }
}

/* The name is written with the other names, before any queue: a definition refers to
 * queues by id (overflow), which the decoder checks against the whole table. */
static void put_queue(struct cd_buf *b, const struct queue *q)
{
    cd_buf_u8(b, q->retired);
    cd_buf_u8(b, q->paused);
    put_def(b, &q->def);
    const struct queue_stats *s = &q->stats;
    cd_buf_svar(b, s->day);
    uint32_t counters[] = {
        s->arrived,    s->answered,  s->answered_in_sl, s->abandoned, s->abandoned_after_sl,
        s->overflowed, s->timed_out, s->offered};
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        cd_buf_uvar(b, counters[i]);
    }
    cd_buf_svar(b, q->wait_ms);
    cd_buf_uvar(b, q->waits_seen);
    cd_buf_svar(b, q->aht_ms);
    cd_buf_uvar(b, q->rr_clock);
    const struct engine_queue_totals *t = &q->totals;
    uint64_t totals[] = {
        t->arrived,    t->answered,  t->answered_in_sl, t->abandoned, t->abandoned_after_sl,
        t->overflowed, t->timed_out, t->offered,        t->handled};
    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
        cd_buf_uvar(b, totals[i]);
    }
    cd_buf_svar(b, t->answer_wait_ms);
    cd_buf_svar(b, t->handle_ms);
}

static void put_agent(struct cd_buf *b, const struct agent *a)
{
    cd_buf_str(b, a->name);
    cd_buf_str(b, a->site);
    cd_buf_str(b, a->reason);
    cd_buf_u8(b, a->deleted);
    cd_buf_u8(b, a->presence);
    cd_buf_u8(b, a->shown_state);
    cd_buf_put(b, a->capacity, ENGINE_CH_COUNT);
    cd_buf_put(b, a->load, ENGINE_CH_COUNT);
    cd_buf_put(b, a->active, ENGINE_CH_COUNT);
    cd_buf_put(b, a->allowance, ENGINE_CH_COUNT);
    cd_buf_u8(b, a->n_skills);
    for (uint8_t i = 0; i < a->n_skills; i++) {
        cd_buf_uvar(b, a->skills[i].skill);
        cd_buf_u8(b, a->skills[i].level);
    }
    cd_buf_u8(b, a->n_queues);
    for (uint8_t i = 0; i < a->n_queues; i++) {
        cd_buf_uvar(b, a->queues[i].queue);
        cd_buf_uvar(b, a->queues[i].rr);
    }
    cd_buf_svar(b, a->last_idle);
    cd_buf_svar(b, a->login_at);
    cd_buf_svar(b, a->busy_since);
    cd_buf_svar(b, a->busy_ms);
    cd_buf_svar(b, a->shown_since);
    cd_buf_str(b, a->shown_reason);
}

static void put_contact(const struct engine *e, struct cd_buf *b, const struct contact *c)
{
    int64_t times[] = {c->arrived,  c->enqueued, c->entered, c->offered,
                       c->answered, c->ended,    c->timer,   c->reconnect_by};
    cd_buf_uvar(b, c->id);
    cd_buf_uvar(b, c->offer);
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        cd_buf_svar(b, times[i]);
    }
    cd_buf_uvar(b, c->agent == NONE32 ? 0 : (uint64_t)c->agent + 1);
    cd_buf_str(b, c->keyrec == NONE32 ? "" : e->keyrecs[c->keyrec].key);
    if (c->keyrec != NONE32) {
        cd_buf_u64(b, e->keyrecs[c->keyrec].fingerprint);
    }
    cd_buf_uvar(b, c->queue == NONE16 ? 0 : (uint64_t)c->queue + 1);
    cd_buf_uvar(b, c->rule);
    cd_buf_svar(b, c->base_priority);
    cd_buf_svar(b, c->priority);
    uint8_t small[] = {c->channel, c->state, c->step, c->callback, c->last_strategy};
    cd_buf_put(b, small, sizeof(small));
    cd_buf_uvar(b, c->last_eligible);
    cd_buf_uvar(b, c->offers);
    cd_buf_uvar(b, c->transfers);
    put_reqs(b, &c->reqs);
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    uint8_t n = engine__attrs_list(c, attrs);
    cd_buf_u8(b, n);
    for (uint8_t i = 0; i < n; i++) {
        cd_buf_str(b, attrs[i].key);
        cd_buf_str(b, attrs[i].value);
    }
    cd_buf_u8(b, c->ring ? c->n_ring : 0);
    for (uint8_t i = 0; c->ring && i < c->n_ring; i++) {
        cd_buf_uvar(b, c->ring[i]);
    }
    cd_buf_str(b, engine__home(c));
    cd_buf_str(b, engine__session(c));
    cd_buf_u8(b, c->session_lost);
    cd_buf_u8(b, c->gone);
    cd_buf_uvar(b, c->transcript.len);
    if (c->transcript.len > 0) {
        cd_buf_put(b, c->transcript.data, c->transcript.len);
    }
    cd_buf_uvar(b, c->path.len);
    if (c->path.len > 0) {
        cd_buf_put(b, c->path.data, c->path.len);
    }
    cd_buf_svar(b, c->held_since);
}

static int put_contacts(const struct engine *e, struct cd_buf *b)
{
    struct id_slot *order = cd_malloc((e->n_live ? e->n_live : 1) * sizeof(*order));
    size_t n = 0;
    if (order == NULL) {
        b->err = CD_ENOMEM; /* like any failed write: the buffer holds no snapshot */
        return CD_ENOMEM;
    }
    for (uint32_t s = 0; s < e->n_slots; s++) {
        if (e->contacts[s].id != 0) {
            order[n++] = (struct id_slot){e->contacts[s].id, s};
        }
    }
    qsort(order, n, sizeof(*order), engine__by_id);
    cd_buf_uvar(b, n);
    for (size_t i = 0; i < n; i++) {
        put_contact(e, b, &e->contacts[order[i].slot]);
    }
    cd_free(order);
    return 0;
}

int engine_encode(const struct engine *e, struct cd_buf *b)
{
    if (e->oom) {
        return CD_ENOMEM; /* possibly half applied: no snapshot may carry it */
    }
    cd_buf_u8(b, SNAPSHOT_FORMAT);
    cd_buf_svar(b, e->clock);
    cd_buf_uvar(b, e->next_contact);
    cd_buf_uvar(b, e->next_offer);
    cd_buf_uvar(b, e->version);
    cd_buf_u8(b, e->has_model);
    if (e->has_model) {
        engine_model_encode(&e->model, b);
        for (uint32_t i = 0; i < e->model.n_skills; i++) {
            cd_buf_uvar(b, e->ms_map[i]);
        }
        for (uint32_t i = 0; i < e->model.n_queues; i++) {
            cd_buf_uvar(b, e->mq_map[i]);
        }
    }
    cd_buf_uvar(b, e->n_skills);
    for (uint32_t i = 0; i < e->n_skills; i++) {
        cd_buf_str(b, e->skills[i].name);
    }
    cd_buf_uvar(b, e->n_queues);
    for (uint32_t i = 0; i < e->n_queues; i++) {
        cd_buf_str(b, e->queues[i].name);
    }
    for (uint32_t i = 0; i < e->n_queues; i++) {
        put_queue(b, &e->queues[i]);
    }
    cd_buf_uvar(b, e->n_agents);
    for (uint32_t i = 0; i < e->n_agents; i++) {
        put_agent(b, &e->agents[i]);
    }
    if (put_contacts(e, b) != 0) {
        return CD_ENOMEM;
    }
    cd_buf_uvar(b, e->n_recent);
    for (uint32_t i = 0; i < e->n_recent; i++) {
        const struct keyrec *k = &e->keyrecs[e->recent[(e->recent_head + i) % RECENT_KEYS]];
        cd_buf_str(b, k->key);
        cd_buf_uvar(b, k->contact);
        cd_buf_u64(b, k->fingerprint);
    }
    engine__archive_encode(e, b);
    engine__webhooks_encode(e, b);
    engine__users_encode(e, b);
    engine__tokens_encode(e, b);
    engine__report_defs_encode(e, b);
    engine__health_encode(e, b);
    engine__runbooks_encode(e, b);
    return b->err;
}

uint64_t engine_digest(const struct engine *e)
{
    struct cd_buf b;
    cd_buf_init(&b);
    uint64_t h = 0;
    if (engine_encode(e, &b) == 0) {
        h = cd_hash64(b.data, b.len, 0x6469676573740a);
    }
    cd_buf_close(&b);
    return h;
}
