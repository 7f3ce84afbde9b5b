/* A latency histogram with log-linear buckets (as HdrHistogram keeps them): exact below
 * 64 µs, then 32 buckets per power of two, so a percentile read from it is within about
 * 3 % of the true value, from microseconds to hours. Plain data: zero it, add, read. */
#ifndef CHATLOAD_LHIST_H
#define CHATLOAD_LHIST_H

#include <stdint.h>

#define LHIST_SUB_BITS 6
#define LHIST_BUCKETS ((1u << LHIST_SUB_BITS) + 40u * (1u << (LHIST_SUB_BITS - 1)))

struct lhist
{
    uint64_t counts[LHIST_BUCKETS];
    uint64_t n;
    uint64_t max;
    uint64_t sum;
};

void lhist_add(struct lhist *h, uint64_t us);

/* The value at or below which p percent (0..100) of the samples lie: the upper end of the
 * bucket that holds it, so never below the true percentile. 0 when empty. */
uint64_t lhist_percentile(const struct lhist *h, double p);

#endif
