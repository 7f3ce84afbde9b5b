/* What each segment, offer and span adds to a report, and in which group and interval: the
 * one place that decides what counts where. Feeding and drill-down both walk through here,
 * so a drill-down finds exactly the contacts that feeding counted. */
#include <assert.h>
#include <string.h>

#include "common/hash.h"
#include "report/internal.h"

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* b - a, or 0 when b is before a; held below INT64_MAX. */
static int64_t duration(int64_t a, int64_t b)
{
    int64_t d;
    if (b <= a || __builtin_sub_overflow(b, a, &d)) {
        return b <= a ? 0 : INT64_MAX;
    }
    return d;
}

/* ---- Memos ----------------------------------------------------------------------------- */

static void policy_lookup(const struct report *r,
                          const char *queue,
                          struct report_queue_policy *out)
{
    if (r->spec.policy == NULL || !r->spec.policy(r->spec.policy_data, queue, out)) {
        *out = r->spec.fallback;
    }
}

void report__policy(const struct report *r, const char *queue, struct report_queue_policy *out)
{
    size_t len = strnlen(queue, ENGINE_NAME_MAX);
    if (len == ENGINE_NAME_MAX) {
        policy_lookup(r, queue, out); /* no queue has such a name: nothing worth keeping */
        return;
    }
    struct report__memo *m = r->memo;
    size_t i = (size_t)(cd_hash_str(queue) % REPORT__POLICY_MEMOS);
    if (m->policies[i].set && strcmp(m->policies[i].queue, queue) == 0) {
        *out = m->policies[i].policy;
        return;
    }
    policy_lookup(r, queue, out);
    memcpy(m->policies[i].queue, queue, len + 1);
    m->policies[i].policy = *out;
    m->policies[i].set = true;
}

int64_t report__interval_start(const struct report *r, int64_t t)
{
    struct report__memo *m = r->memo;
    if (t >= m->iv_start && t < m->iv_next) {
        assert(m->iv_start == report_interval_start(r->spec.interval, r->spec.zone, t));
        return m->iv_start;
    }
    m->iv_start = report_interval_start(r->spec.interval, r->spec.zone, t);
    m->iv_next = report_interval_next(r->spec.interval, r->spec.zone, m->iv_start);
    return m->iv_start;
}

int64_t report__interval_next(const struct report *r, int64_t start)
{
    struct report__memo *m = r->memo;
    if (start != m->iv_start || m->iv_start == m->iv_next) {
        m->iv_start = start;
        m->iv_next = report_interval_next(r->spec.interval, r->spec.zone, start);
    }
    return m->iv_next;
}

/* ---- What a segment, an offer and a span add ---------------------------------------- */

static void ended_sums(const struct report_segment *g,
                       const struct report_queue_policy *p,
                       int64_t wait,
                       struct report_sums *one)
{
    switch (g->end) {
        case REPORT_END_ABANDONED:
            one->abandoned = 1;
            one->abandoned_short = wait < p->short_abandon_ms;
            one->abandoned_after_target = wait > p->target_ms;
            one->abandon_wait_ms = wait;
            break;
        case REPORT_END_OVERFLOWED:
            one->overflowed = 1;
            break;
        case REPORT_END_TRANSFERRED:
            one->transferred = 1;
            break;
        case REPORT_END_TIMED_OUT:
            one->timed_out = 1;
            break;
        default:
            one->other = 1;
            break;
    }
}

static void answered_sums(const struct report_segment *g,
                          const struct report_queue_policy *p,
                          int64_t wait,
                          struct report_sums *one)
{
    one->answered = 1;
    one->answered_in_target = wait <= p->target_ms;
    one->answer_wait_ms = wait;
    one->transferred = g->transferred_out;
    if (g->handled) {
        one->handled = 1;
        one->talk_ms = max64(g->talk_ms, 0);
        one->hold_ms = max64(g->hold_ms, 0);
        one->wrap_ms = max64(g->wrap_ms, 0);
    }
    if (g->ewt_ms >= 0) {
        int64_t err = g->ewt_ms - wait; /* both within [0, INT64_MAX] */
        one->ewt_samples = 1;
        one->ewt_err_ms = err;
        one->ewt_abs_err_ms = err < 0 ? -err : err;
    }
}

static void segment_sums(const struct report *r,
                         const struct report_segment *g,
                         struct report_sums *one)
{
    if (g->end == REPORT_END_REFUSED) {
        one->refused = 1;
        return;
    }
    struct report_queue_policy p;
    report__policy(r, str(g->queue), &p);
    int64_t wait = duration(g->entered, g->left);
    one->offered = 1;
    if (g->via < REPORT_VIA_COUNT) {
        one->via[g->via] = 1;
    }
    one->escalated = g->steps > 0;
    one->wait_ms = wait;
    one->waits = 1;
    one->longest_wait_ms = wait;
    if (g->end == REPORT_END_ANSWERED) {
        answered_sums(g, &p, wait, one);
    } else if (g->end == REPORT_END_WAITING) {
        one->waiting = 1;
        one->waiting_past_target = duration(g->entered, r->spec.now_ms) > p.target_ms;
    } else {
        ended_sums(g, &p, wait, one);
    }
}

static bool segment_counts(const struct report *r, const struct report_segment *g)
{
    if (g->entered < r->spec.from_ms || g->entered >= r->spec.to_ms) {
        return false;
    }
    if (r->queue != NULL && strcmp(str(g->queue), r->queue) != 0) {
        return false;
    }
    return r->agent == NULL ||
           (g->end == REPORT_END_ANSWERED && strcmp(str(g->agent), r->agent) == 0);
}

static const char *segment_group(const struct report *r,
                                 const struct report_contact *c,
                                 const struct report_segment *g)
{
    bool answered = g->end == REPORT_END_ANSWERED;
    switch (r->spec.group) {
        case REPORT_BY_QUEUE:
            return str(g->queue);
        case REPORT_BY_AGENT:
            return answered ? str(g->agent) : NULL;
        case REPORT_BY_CHANNEL: {
            const char *name = engine_channel_name(c->channel);
            return name != NULL ? name : "unknown";
        }
        case REPORT_BY_SITE:
            return answered ? str(g->site) : NULL;
        case REPORT_BY_DISPOSITION:
            return str(c->disposition);
        default:
            return REPORT_ALL;
    }
}

static bool contact_answered(const struct report_contact *c)
{
    for (uint32_t i = 0; i < c->n_segments; i++) {
        if (c->segments[i].end == REPORT_END_ANSWERED) {
            return true;
        }
    }
    return false;
}

/* The queue an offer was made from: that of the last segment entered by then. */
static const char *offer_queue(const struct report_contact *c, const struct report_offer *o)
{
    const char *queue = "";
    for (uint32_t i = 0; i < c->n_segments && c->segments[i].entered <= o->at; i++) {
        queue = str(c->segments[i].queue);
    }
    return queue;
}

static bool offer_counts(const struct report *r,
                         const struct report_contact *c,
                         const struct report_offer *o)
{
    if (o->at < r->spec.from_ms || o->at >= r->spec.to_ms) {
        return false;
    }
    if (r->agent != NULL && strcmp(str(o->agent), r->agent) != 0) {
        return false;
    }
    return r->queue == NULL || strcmp(offer_queue(c, o), r->queue) == 0;
}

static int walk_segments(const struct report *r,
                         const struct report_contact *c,
                         uint8_t what,
                         report__visit_fn visit,
                         void *ctx)
{
    bool first = true;
    for (uint32_t i = 0; i < c->n_segments; i++) {
        const struct report_segment *g = &c->segments[i];
        if (!segment_counts(r, g)) {
            continue;
        }
        bool callback = first && c->callback;
        first = false;
        struct report__item it; /* it.one is set only when the sums are asked for */
        it.group = segment_group(r, c, g);
        if (it.group == NULL) {
            continue;
        }
        it.iv_start = report__interval_start(r, g->entered);
        if (what == REPORT__WALK_SUMS) {
            report__sums_init(&it.one, r->spec.group, 0);
            segment_sums(r, g, &it.one);
            it.one.callbacks_requested = callback;
            it.one.callbacks_made = callback && contact_answered(c);
        }
        int rc = visit(r, ctx, &it);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int walk_offers(const struct report *r,
                       const struct report_contact *c,
                       uint8_t what,
                       report__visit_fn visit,
                       void *ctx)
{
    if (r->spec.group != REPORT_BY_AGENT && r->spec.group != REPORT_BY_NONE) {
        return 0;
    }
    for (uint32_t i = 0; i < c->n_offers; i++) {
        const struct report_offer *o = &c->offers[i];
        if (!offer_counts(r, c, o)) {
            continue;
        }
        struct report__item it; /* it.one is set only when the sums are asked for */
        it.group = r->spec.group == REPORT_BY_AGENT ? str(o->agent) : REPORT_ALL;
        it.iv_start = report__interval_start(r, o->at);
        if (what == REPORT__WALK_SUMS) {
            report__sums_init(&it.one, r->spec.group, 0);
            it.one.offers = 1;
            if (o->outcome < REPORT_OFFER_COUNT) {
                it.one.offer_outcomes[o->outcome] = 1;
            }
        }
        int rc = visit(r, ctx, &it);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int report__walk_contact(const struct report *r,
                         const struct report_contact *c,
                         uint8_t what,
                         report__visit_fn visit,
                         void *ctx)
{
    if (r->spec.channel >= 0 && c->channel != r->spec.channel) {
        return 0;
    }
    int rc = walk_segments(r, c, what, visit, ctx);
    return rc != 0 ? rc : walk_offers(r, c, what, visit, ctx);
}

static const char *span_group(const struct report *r, const struct report_span *s)
{
    switch (r->spec.group) {
        case REPORT_BY_AGENT:
            return str(s->agent);
        case REPORT_BY_SITE:
            return str(s->site);
        case REPORT_BY_NONE:
            return REPORT_ALL;
        default:
            return NULL;
    }
}

static void span_part(const struct report_span *s, int64_t ms, struct report_sums *one)
{
    one->state_ms[s->state] = ms;
    if (s->state == ENGINE_AGENT_AWAY) {
        const char *reason = str(s->reason);
        size_t len = strnlen(reason, ENGINE_VALUE_MAX - 1);
        memcpy(one->away[0].reason, reason, len);
        one->away[0].reason[len] = '\0';
        one->away[0].ms = ms;
        one->n_reasons = 1;
    }
}

int report__walk_span(const struct report *r,
                      const struct report_span *s,
                      uint8_t what,
                      report__visit_fn visit,
                      void *ctx)
{
    const char *group = span_group(r, s);
    if (group == NULL || s->state == ENGINE_AGENT_OFFLINE || s->state > ENGINE_AGENT_AWAY) {
        return 0;
    }
    if (r->agent != NULL && strcmp(str(s->agent), r->agent) != 0) {
        return 0;
    }
    int64_t from = max64(s->from, r->spec.from_ms), to = min64(s->to, r->spec.to_ms);
    if (from >= to) {
        return 0;
    }
    int64_t start = report__interval_start(r, from);
    for (;;) {
        int64_t next = report__interval_next(r, start);
        struct report__item it; /* it.one is set only when the sums are asked for */
        it.group = group;
        it.iv_start = start;
        if (what == REPORT__WALK_SUMS) {
            report__sums_init(&it.one, r->spec.group, 0);
            span_part(s, min64(next, to) - max64(start, from), &it.one);
        }
        int rc = visit(r, ctx, &it);
        if (rc != 0 || next >= to) {
            return rc;
        }
        start = next;
    }
}
