/* A latency histogram with fixed buckets, as Prometheus exposes one: cumulative counts
 * per upper bound, a count and a sum. Plain data: zero-initialise it, add samples, copy it
 * to read it. Not thread-safe (each node is one loop thread). */
#ifndef CD_HIST_H
#define CD_HIST_H

#include <stdint.h>

/* Upper bounds in microseconds, ascending; a last bucket counts everything above. */
#define CD_HIST_BOUNDS 16
extern const uint64_t cd_hist_bounds_us[CD_HIST_BOUNDS];

struct cd_hist
{
    uint64_t buckets[CD_HIST_BOUNDS + 1]; /* not cumulative: samples <= bound i, > bound i-1 */
    uint64_t count;
    uint64_t sum_us;
};

void cd_hist_add(struct cd_hist *h, uint64_t us);

/* Samples at or below cd_hist_bounds_us[i] (i < CD_HIST_BOUNDS), or all of them. */
uint64_t cd_hist_cumulative(const struct cd_hist *h, unsigned i);

#endif
