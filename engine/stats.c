/* Per-queue live figures: today's counters (reset at local midnight in the queue's zone)
 * and the estimated wait time. See README.md, "Estimated wait time". */
#include <string.h>

#include "engine/internal.h"

static int32_t queue_zone(const struct engine *e, const struct queue *q)
{
    if (q->def.hours < 0 || (uint32_t)q->def.hours >= e->model.n_hours) {
        return -1;
    }
    return (int32_t)e->model.hours[q->def.hours].zone;
}

void engine__stats_touch(struct engine *e, struct queue *q)
{
    struct local_time lt;
    engine__local_time(&e->model, queue_zone(e, q), e->clock, &lt);
    if (lt.date != q->stats.day) {
        memset(&q->stats, 0, sizeof(q->stats));
        q->stats.day = lt.date;
    }
}

static int64_t ewma(int64_t avg, int64_t sample)
{
    return avg == 0 ? sample : avg + (sample - avg) / 8;
}

/* A contact left the queue for an agent. Intervals count only while the queue was
 * backlogged, so they measure how fast agents free up, not how fast customers arrive. */
void engine__stats_dequeue(struct engine *e, struct queue *q)
{
    if (q->backlogged && q->last_answer > 0) {
        q->answer_gap_ms = ewma(q->answer_gap_ms, e->clock - q->last_answer);
        if (q->gaps_seen < UINT32_MAX) {
            q->gaps_seen++;
        }
    }
    q->last_answer = e->clock;
    /* Others still waiting: the next interval measures how fast agents free up. */
    q->backlogged = q->waiting > 0;
}

void engine__stats_answer(struct engine *e, struct queue *q, const struct contact *c)
{
    engine__stats_touch(e, q);
    q->stats.answered++;
    if (e->clock - c->entered <= (int64_t)q->def.sl_target_s * 1000) {
        q->stats.answered_in_sl++;
    }
}

void engine__stats_complete(struct engine *e, struct queue *q, const struct contact *c)
{
    if (c->answered > 0) {
        q->aht_ms = ewma(q->aht_ms, e->clock - c->answered);
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
    if (q->gaps_seen >= 2) {
        return (int64_t)(position + 1) * q->answer_gap_ms;
    }
    int64_t aht = q->aht_ms ? q->aht_ms : DEFAULT_AHT_MS;
    return (int64_t)(position + 1) * aht / (q->staffed ? q->staffed : 1);
}
