/* Local time from the zone tables inside the model: no libc time functions, so every node
 * computes the same local time for the same instant. */
#include "engine/internal.h"

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int32_t engine_zone_offset(const struct engine_zone *z, int64_t t)
{
    uint32_t lo = 0, hi = z->n_transitions;
    /* The last transition at or before t decides; before the first, base_offset. */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->transitions[mid].at <= t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo == 0 ? z->base_offset : z->transitions[lo - 1].offset;
}

void engine__local_time(const struct engine_model *m,
                        int32_t zone,
                        int64_t now_ms,
                        struct local_time *lt)
{
    int64_t t = floor_div(now_ms, 1000);
    if (zone >= 0 && (uint32_t)zone < m->n_zones) {
        t += engine_zone_offset(&m->zones[zone], t);
    }
    int64_t days = floor_div(t, 86400);
    lt->date = (int32_t)days;
    /* 1970-01-01 was a Thursday: weekday 3 when Monday is 0. */
    lt->weekday = (uint8_t)((days % 7 + 7 + 3) % 7);
    lt->minute = (uint16_t)((t - days * 86400) / 60);
}

static const struct engine_day_hours *day_hours(const struct engine_hours *h,
                                                const struct local_time *lt)
{
    uint32_t lo = 0, hi = h->n_holidays;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (h->holidays[mid].date < lt->date) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < h->n_holidays && h->holidays[lo].date == lt->date) {
        return &h->holidays[lo].hours;
    }
    return &h->week[lt->weekday];
}

bool engine__hours_open(const struct engine_model *m, int32_t hours, int64_t now_ms)
{
    if (hours < 0 || (uint32_t)hours >= m->n_hours) {
        return true;
    }
    const struct engine_hours *h = &m->hours[hours];
    struct local_time lt;
    engine__local_time(m, (int32_t)h->zone, now_ms, &lt);
    const struct engine_day_hours *d = day_hours(h, &lt);
    for (uint8_t i = 0; i < d->n; i++) {
        if (lt.minute >= d->iv[i].from_min && lt.minute < d->iv[i].to_min) {
            return true;
        }
    }
    return false;
}

bool engine__queue_open(const struct engine *e, const struct queue *q)
{
    if (q->retired) {
        return false;
    }
    return engine__hours_open(&e->model, q->def.hours, e->clock);
}

int32_t engine__queue_zone(const struct engine *e, const struct queue *q)
{
    if (q->def.hours < 0 || (uint32_t)q->def.hours >= e->model.n_hours) {
        return -1;
    }
    return (int32_t)e->model.hours[q->def.hours].zone;
}
