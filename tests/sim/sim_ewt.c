/* Accuracy of the engine's estimated wait time. For every contact that is answered, the
 * ewt_ms of its first QUEUED effect is compared with the wait it actually had: from that
 * effect to the offer it accepted. Relative errors use max(actual, 1 s) as denominator so
 * that near-zero waits do not dominate. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/sim/sim.h"

void sim_ewt_record(struct sim *s, uint32_t qi, int64_t ewt_ms, int64_t actual_ms)
{
    struct sim_queue *q = &s->queues[qi];
    double err = fabs((double)ewt_ms - (double)actual_ms);
    double denom = actual_ms > 1000 ? (double)actual_ms : 1000.0;
    if (q->ewt_n == q->cap_rel) {
        q->cap_rel = q->cap_rel ? 2 * q->cap_rel : 1024;
        q->ewt_rel = sim_xalloc(q->ewt_rel, q->cap_rel * sizeof(*q->ewt_rel));
    }
    q->ewt_rel[q->ewt_n++] = err / denom;
    q->ewt_abs_sum_ms += err;
    q->ewt_within += err <= 0.25 * denom;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void sim_ewt_report(struct sim *s)
{
    uint64_t all_n = 0, all_within = 0;
    double all_abs = 0;
    printf("EWT accuracy (estimate at arrival vs. wait until the answered offer):\n");
    printf("  %-14s %8s %12s %12s %10s\n", "queue", "answered", "MAE (s)", "median rel",
           "within 25%");
    for (uint32_t qi = 0; qi < s->n_queues; qi++) {
        struct sim_queue *q = &s->queues[qi];
        if (q->ewt_n == 0) {
            continue;
        }
        qsort(q->ewt_rel, q->ewt_n, sizeof(*q->ewt_rel), by_value);
        printf("  %-14s %8llu %12.1f %11.0f%% %9.1f%%\n", q->name, (unsigned long long)q->ewt_n,
               q->ewt_abs_sum_ms / (double)q->ewt_n / 1000.0, 100.0 * q->ewt_rel[q->ewt_n / 2],
               100.0 * (double)q->ewt_within / (double)q->ewt_n);
        all_n += q->ewt_n;
        all_within += q->ewt_within;
        all_abs += q->ewt_abs_sum_ms;
    }
    if (all_n > 0) {
        printf("  %-14s %8llu %12.1f %12s %9.1f%%\n", "all", (unsigned long long)all_n,
               all_abs / (double)all_n / 1000.0, "",
               100.0 * (double)all_within / (double)all_n);
    }
}
