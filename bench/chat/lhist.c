/* The log-linear histogram of lhist.h. */
#include "bench/chat/lhist.h"

#define SUB (1u << LHIST_SUB_BITS)
#define HALF (SUB / 2)

static unsigned index_of(uint64_t v)
{
    if (v < SUB) {
        return (unsigned)v;
    }
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (LHIST_SUB_BITS - 1);
    unsigned idx = SUB + (shift - 1) * HALF + (unsigned)((v >> shift) - HALF);
    return idx < LHIST_BUCKETS ? idx : LHIST_BUCKETS - 1;
}

/* The largest value bucket idx holds. */
static uint64_t upper_of(unsigned idx)
{
    if (idx < SUB) {
        return idx;
    }
    unsigned shift = (idx - SUB) / HALF + 1;
    uint64_t mantissa = HALF + (idx - SUB) % HALF;
    return ((mantissa + 1) << shift) - 1;
}

void lhist_add(struct lhist *h, uint64_t us)
{
    h->counts[index_of(us)]++;
    h->n++;
    h->sum += us;
    if (us > h->max) {
        h->max = us;
    }
}

uint64_t lhist_percentile(const struct lhist *h, double p)
{
    if (h->n == 0) {
        return 0;
    }
    uint64_t want = (uint64_t)((double)h->n * p / 100.0 + 0.5);
    want = want == 0 ? 1 : want > h->n ? h->n : want;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LHIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            uint64_t up = upper_of(i);
            return up < h->max ? up : h->max;
        }
    }
    return h->max;
}
