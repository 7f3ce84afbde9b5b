/* common/hist: samples land in the first bucket whose bound is at or above them; the
 * cumulative counts, count and sum are what Prometheus expects of a histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/hist.h"

static void bounds_ascend(void **state)
{
    (void)state;
    for (unsigned i = 1; i < CD_HIST_BOUNDS; i++) {
        assert_true(cd_hist_bounds_us[i] > cd_hist_bounds_us[i - 1]);
    }
}

static void sample_on_a_bound_counts_below_it(void **state)
{
    struct cd_hist h = {0};
    (void)state;
    cd_hist_add(&h, 100);  /* le 100 µs */
    cd_hist_add(&h, 101);  /* le 250 µs */
    cd_hist_add(&h, 1000); /* le 1 ms */
    assert_int_equal(h.buckets[0], 1);
    assert_int_equal(h.buckets[1], 1);
    assert_int_equal(h.buckets[3], 1);
    assert_int_equal(cd_hist_cumulative(&h, 0), 1);
    assert_int_equal(cd_hist_cumulative(&h, 2), 2);
    assert_int_equal(cd_hist_cumulative(&h, 3), 3);
    assert_int_equal(h.count, 3);
    assert_int_equal(h.sum_us, 1201);
}

static void zero_and_beyond_the_last_bound(void **state)
{
    struct cd_hist h = {0};
    (void)state;
    cd_hist_add(&h, 0);
    cd_hist_add(&h, cd_hist_bounds_us[CD_HIST_BOUNDS - 1] + 1);
    assert_int_equal(h.buckets[0], 1);
    assert_int_equal(h.buckets[CD_HIST_BOUNDS], 1);
    assert_int_equal(cd_hist_cumulative(&h, CD_HIST_BOUNDS - 1), 1);
    assert_int_equal(cd_hist_cumulative(&h, CD_HIST_BOUNDS), 2);
}

static void cumulative_counts_never_fall(void **state)
{
    struct cd_hist h = {0};
    (void)state;
    for (uint64_t us = 1; us < 20000000; us = us * 3 + 7) {
        cd_hist_add(&h, us);
    }
    for (unsigned i = 1; i <= CD_HIST_BOUNDS; i++) {
        assert_true(cd_hist_cumulative(&h, i) >= cd_hist_cumulative(&h, i - 1));
    }
    assert_int_equal(cd_hist_cumulative(&h, CD_HIST_BOUNDS), h.count);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bounds_ascend),
        cmocka_unit_test(sample_on_a_bound_counts_below_it),
        cmocka_unit_test(zero_and_beyond_the_last_bound),
        cmocka_unit_test(cumulative_counts_never_fall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
