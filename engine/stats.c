/* Per-queue live figures: today's counters (reset at local midnight in the queue's zone)
 * and the estimated wait time. See README.md, "Estimated wait time". */
#include <string.h>

#include "engine/internal.h"

void engine__stats_touch(struct engine *e, struct queue *q)
{
    struct local_time lt;
    engine__local_time(&e->model, engine__queue_zone(e, q), e->clock, &lt);
    if (lt.date != q->stats.day) {
        memset(&q->stats, 0, sizeof(q->stats));
        q->stats.day = lt.date;
    }
}

static int64_t ewma(int64_t avg, int64_t sample)
{
    return avg == 0 ? sample : avg + (sample - avg) / 8;
}

/* A contact left the line for an agent after waiting since it entered the queue. */
void engine__stats_dequeue(struct engine *e, struct queue *q, const struct contact *c)
{
    /* +1 keeps a zero wait distinguishable from "no sample" in the average. */
    q->wait_ms = ewma(q->wait_ms, e->clock - c->entered + 1);
    if (q->waits_seen < UINT32_MAX) {
        q->waits_seen++;
    }
}

void engine__stats_answer(struct engine *e, struct queue *q, const struct contact *c)
{
    engine__stats_touch(e, q);
    STAT(q, answered);
    q->totals.answer_wait_ms += e->clock - c->entered;
    if (e->clock - c->entered <= (int64_t)q->def.sl_target_s * 1000) {
        STAT(q, answered_in_sl);
    }
}

void engine__stats_complete(struct engine *e, struct queue *q, const struct contact *c)
{
    if (c->answered > 0) {
        q->aht_ms = ewma(q->aht_ms, e->clock - c->answered);
        q->totals.handled++;
        q->totals.handle_ms += e->clock - c->answered;
    }
}

int64_t engine__ewt(const struct engine *e,
                    const struct queue *q,
                    uint32_t position,
                    uint8_t channel)
{
    (void)e;
    if (position == 0 && channel < ENGINE_CH_COUNT && q->ready[channel] > 0) {
        return 0;
    }
    if (q->waits_seen >= 2) {
        return q->wait_ms;
    }
    int64_t aht = q->aht_ms ? q->aht_ms : DEFAULT_AHT_MS;
    return (int64_t)(position + 1) * aht / (q->staffed ? q->staffed : 1);
}
