/* Report schedules: parsing, and the slot due at a given time in the centre's zone, across
 * days, weeks, months and daylight saving time changes (Europe/London, built by hand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "adapters/api/internal.h"

#define H (3600 * (int64_t)1000)
#define M (60 * (int64_t)1000)
/* 2026-12-07 00:00Z, a Monday; 2026-03-29 01:00Z clocks go forward; 2026-10-25 01:00Z back */
#define DEC7 ((int64_t)1796601600000)
#define MAR29 ((int64_t)1774742400000)
#define OCT25 ((int64_t)1792886400000)

static struct engine_tz_transition london_tr[] = {
    {1774746000, 3600}, /* 2026-03-29T01:00Z */
    {1792890000, 0},    /* 2026-10-25T01:00Z */
};
static const struct engine_zone london = {"Europe/London", 0, 2, london_tr};

static int64_t slot(const char *text, const struct engine_zone *z, int64_t now)
{
    struct api__schedule s;
    assert_int_equal(api__schedule_parse(text, &s), 0);
    return api__schedule_slot(&s, z, now);
}

static void parses_and_refuses(void **state)
{
    (void)state;
    struct api__schedule s;
    assert_int_equal(api__schedule_parse("every 15m", &s), 0);
    assert_int_equal(s.kind, API__EVERY);
    assert_int_equal(s.minutes, 15);
    assert_int_equal(api__schedule_parse("weekly fri 17:30", &s), 0);
    assert_int_equal(s.kind, API__WEEKLY);
    assert_int_equal(s.day, 4);
    assert_int_equal(s.minute, 17 * 60 + 30);
    assert_int_equal(api__schedule_parse("monthly 28 00:00", &s), 0);
    assert_int_equal(api__schedule_parse("every 1m", &s), 0);
    assert_int_equal(s.minutes, 1);
    const char *bad[] = {"",
                         "every",
                         "every 2m",
                         "every day",
                         "daily 7:00",
                         "daily 24:00",
                         "daily 07:60",
                         "daily 07:00 x",
                         "weekly 07:00",
                         "weekly xyz 07:00",
                         "monthly 29 07:00",
                         "monthly 0 07:00",
                         "hourly",
                         "daily  07:00x",
                         "monthly 1x 07:00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(api__schedule_parse(bad[i], &s), -1);
    }
}

static void slots_in_winter(void **state)
{
    (void)state;
    int64_t now = DEC7 + 9 * H + 7 * M + 30000; /* Monday 09:07:30 */
    assert_int_equal(slot("every 15m", &london, now), DEC7 + 9 * H);
    assert_int_equal(slot("every 60m", &london, now), DEC7 + 9 * H);
    assert_int_equal(slot("every 1m", &london, now), DEC7 + 9 * H + 7 * M);
    assert_int_equal(slot("every 5m", &london, now), DEC7 + 9 * H + 5 * M);
    assert_int_equal(slot("daily 07:00", &london, now), DEC7 + 7 * H);
    assert_int_equal(slot("daily 09:08", &london, now), DEC7 - 24 * H + 9 * H + 8 * M);
    assert_int_equal(slot("weekly mon 07:00", &london, now), DEC7 + 7 * H);
    assert_int_equal(slot("weekly mon 10:00", &london, now), DEC7 - 7 * 24 * H + 10 * H);
    assert_int_equal(slot("weekly sun 07:00", &london, now), DEC7 - 24 * H + 7 * H);
    /* 2026-12-01 07:00, and 2026-11-07 10:00 (both GMT) */
    assert_int_equal(slot("monthly 1 07:00", &london, now), DEC7 - 6 * 24 * H + 7 * H);
    assert_int_equal(slot("monthly 7 10:00", &london, now), DEC7 - 30 * 24 * H + 10 * H);
    /* exactly at the moment: due */
    assert_int_equal(slot("daily 07:00", &london, DEC7 + 7 * H), DEC7 + 7 * H);
}

static void slots_across_clock_changes(void **state)
{
    (void)state;
    /* the day clocks go forward is 23 hours long: 07:00 BST is 06:00Z */
    assert_int_equal(slot("daily 07:00", &london, MAR29 + 12 * H), MAR29 + 6 * H);
    assert_int_equal(slot("daily 07:00", &london, MAR29 - 12 * H), MAR29 - 24 * H + 7 * H);
    /* 01:30 does not happen that night: it comes at 02:30 BST */
    assert_int_equal(slot("daily 01:30", &london, MAR29 + 12 * H), MAR29 + H + 30 * M);
    /* the day clocks go back is 25 hours long: 07:00 GMT is 07:00Z; 01:30 comes twice */
    assert_int_equal(slot("daily 07:00", &london, OCT25 + 12 * H), OCT25 + 7 * H);
    assert_int_equal(slot("daily 01:30", &london, OCT25 + 12 * H), OCT25 + H + 30 * M);
    /* in summer, local 15-minute slots */
    assert_int_equal(slot("every 15m", &london, MAR29 + 12 * H + 20 * M),
                     MAR29 + 12 * H + 15 * M);
    /* every 30 minutes through the repeated hour: each half hour its own slot */
    assert_int_equal(slot("every 30m", &london, OCT25 + 40 * M), OCT25 + 30 * M);
    assert_int_equal(slot("every 30m", &london, OCT25 + H + 10 * M), OCT25 + H);
    /* without a zone, UTC */
    assert_int_equal(slot("daily 07:00", NULL, DEC7 + 8 * H), DEC7 + 7 * H);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_and_refuses),
        cmocka_unit_test(slots_in_winter),
        cmocka_unit_test(slots_across_clock_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
