#include "common/hist.h"

/* 100 µs to 10 s, about three to a decade: wide enough for a commit on a fast disk and for
 * a request that waited out an election. */
const uint64_t cd_hist_bounds_us[CD_HIST_BOUNDS] = {
    100,   250,    500,    1000,   2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void cd_hist_add(struct cd_hist *h, uint64_t us)
{
    unsigned lo = 0, hi = CD_HIST_BOUNDS; /* the first bound >= us, or CD_HIST_BOUNDS */
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (cd_hist_bounds_us[mid] < us) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    h->buckets[lo]++;
    h->count++;
    h->sum_us += us;
}

uint64_t cd_hist_cumulative(const struct cd_hist *h, unsigned i)
{
    uint64_t n = 0;
    for (unsigned b = 0; b <= i && b <= CD_HIST_BOUNDS; b++) {
        n += h->buckets[b];
    }
    return n;
}
