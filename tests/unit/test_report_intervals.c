/* report/: local intervals and their labels, with zone tables built by hand: UTC, Europe/
 * London 2026 (both changes), a fixed +05:30 and -05:00, and Lord Howe Island, whose clocks
 * move by half an hour (so a change falls inside a local hour). A 5- or 15-minute interval
 * is that many real minutes, a day 23, 24 or 25 hours, the repeated hour of a fall-back
 * change has intervals of its own, and a report's cells follow the same cuts. */
#include "report_fixture.h"

#define Z(y, mo, d, h, mi) utc_ms(y, mo, d, h, mi, 0)

struct fixture
{
    struct test_zone london, kolkata, new_york, lord_howe;
    struct report *r;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    zone_london(&f->london);
    zone_init(&f->kolkata, "Asia/Kolkata", 19800);
    zone_init(&f->new_york, "America/New_York", -18000);
    /* +11 until 5 April 02:00 local, then +10:30 until 4 October 02:00 local, then +11. */
    zone_init(&f->lord_howe, "Australia/Lord_Howe", 39600);
    zone_change(&f->lord_howe, Z(2026, 4, 4, 15, 0), 37800);
    zone_change(&f->lord_howe, Z(2026, 10, 3, 15, 30), 39600);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    report_free(f->r);
    free(f);
    return 0;
}

#define TEST(name)                              \
    static void name##_body(struct fixture *f); \
    static void name(void **state)              \
    {                                           \
        name##_body(*state);                    \
    }                                           \
    static void name##_body(struct fixture *f)

static void label(uint8_t iv, const struct engine_zone *z, int64_t t, char *out)
{
    /* Labels come with cells: a one-contact report over [t, t + 1 ms) carries t's. */
    struct report_spec spec = {.from_ms = report_interval_start(iv, z, t),
                               .to_ms = report_interval_next(iv, z, t),
                               .interval = iv,
                               .group = REPORT_BY_NONE,
                               .zone = z,
                               .channel = -1};
    struct report_segment g = {
        .queue = "q", .end = REPORT_END_ABANDONED, .entered = t, .left = t, .ewt_ms = -1};
    struct report_contact c = {.id = 1, .n_segments = 1, .segments = &g};
    if (iv == REPORT_IV_TOTAL) {
        spec.from_ms = t;
        spec.to_ms = t + 1;
    }
    struct report *r = report_new(&spec, NULL, 0);
    assert_non_null(r);
    assert_int_equal(report_add_contact(r, &c), 0);
    const struct report_cell *cells;
    assert_int_equal(report_cells(r, &cells), 1);
    snprintf(out, 40, "%s", cells[0].label);
    report_free(r);
}

/* The interval holding t: its start, its end and its label. */
#define INTERVAL(iv, zone, t, start, end, text)                               \
    do {                                                                      \
        char l_[40];                                                          \
        assert_int_equal(report_interval_start((iv), (zone), (t)), (start));  \
        assert_int_equal(report_interval_next((iv), (zone), (start)), (end)); \
        label((iv), (zone), (t), l_);                                         \
        assert_string_equal(l_, (text));                                      \
    } while (0)

#define LONDON (&f->london.z)
#define LORD_HOWE (&f->lord_howe.z)

TEST(utc_intervals_and_labels)
{
    (void)f;
    int64_t t = utc_ms(2026, 12, 7, 9, 37, 30);
    INTERVAL(REPORT_IV_15M, NULL, t, Z(2026, 12, 7, 9, 30), Z(2026, 12, 7, 9, 45),
             "2026-12-07T09:30+00:00");
    INTERVAL(REPORT_IV_30M, NULL, t, Z(2026, 12, 7, 9, 30), Z(2026, 12, 7, 10, 0),
             "2026-12-07T09:30+00:00");
    INTERVAL(REPORT_IV_60M, NULL, t, Z(2026, 12, 7, 9, 0), Z(2026, 12, 7, 10, 0),
             "2026-12-07T09:00+00:00");
    INTERVAL(REPORT_IV_DAY, NULL, t, Z(2026, 12, 7, 0, 0), Z(2026, 12, 8, 0, 0), "2026-12-07");
    INTERVAL(REPORT_IV_WEEK, NULL, t, Z(2026, 12, 7, 0, 0), Z(2026, 12, 14, 0, 0), "2026-W50");
    INTERVAL(REPORT_IV_MONTH, NULL, t, Z(2026, 12, 1, 0, 0), Z(2027, 1, 1, 0, 0), "2026-12");
    INTERVAL(REPORT_IV_TOTAL, NULL, t, INT64_MIN, INT64_MAX, "total");
    /* Before 1970 too. */
    INTERVAL(REPORT_IV_DAY, NULL, utc_ms(1969, 7, 20, 20, 17, 0), Z(1969, 7, 20, 0, 0),
             Z(1969, 7, 21, 0, 0), "1969-07-20");
}

TEST(iso_weeks_at_the_turn_of_the_year)
{
    (void)f;
    INTERVAL(REPORT_IV_WEEK, NULL, Z(2027, 1, 1, 12, 0), Z(2026, 12, 28, 0, 0),
             Z(2027, 1, 4, 0, 0), "2026-W53");
    INTERVAL(REPORT_IV_WEEK, NULL, Z(2025, 12, 31, 12, 0), Z(2025, 12, 29, 0, 0),
             Z(2026, 1, 5, 0, 0), "2026-W01");
    INTERVAL(REPORT_IV_WEEK, NULL, Z(2021, 1, 3, 23, 59), Z(2020, 12, 28, 0, 0),
             Z(2021, 1, 4, 0, 0), "2020-W53");
    INTERVAL(REPORT_IV_MONTH, NULL, Z(2028, 2, 29, 12, 0), Z(2028, 2, 1, 0, 0),
             Z(2028, 3, 1, 0, 0), "2028-02");
}

TEST(spring_forward_in_london)
{
    /* 01:00Z: 01:00 GMT becomes 02:00 BST. */
    INTERVAL(REPORT_IV_15M, LONDON, Z(2026, 3, 29, 0, 50), Z(2026, 3, 29, 0, 45),
             Z(2026, 3, 29, 1, 0), "2026-03-29T00:45+00:00");
    INTERVAL(REPORT_IV_15M, LONDON, Z(2026, 3, 29, 1, 5), Z(2026, 3, 29, 1, 0),
             Z(2026, 3, 29, 1, 15), "2026-03-29T02:00+01:00");
    INTERVAL(REPORT_IV_60M, LONDON, Z(2026, 3, 29, 1, 30), Z(2026, 3, 29, 1, 0),
             Z(2026, 3, 29, 2, 0), "2026-03-29T02:00+01:00");
    /* The day has 23 hours. */
    INTERVAL(REPORT_IV_DAY, LONDON, Z(2026, 3, 29, 12, 0), Z(2026, 3, 29, 0, 0),
             Z(2026, 3, 29, 23, 0), "2026-03-29");
    INTERVAL(REPORT_IV_DAY, LONDON, Z(2026, 3, 29, 23, 30), Z(2026, 3, 29, 23, 0),
             Z(2026, 3, 30, 23, 0), "2026-03-30");
    /* The week from Monday 23 March: 167 hours. */
    INTERVAL(REPORT_IV_WEEK, LONDON, Z(2026, 3, 29, 12, 0), Z(2026, 3, 23, 0, 0),
             Z(2026, 3, 29, 23, 0), "2026-W13");
    INTERVAL(REPORT_IV_MONTH, LONDON, Z(2026, 3, 31, 22, 59), Z(2026, 3, 1, 0, 0),
             Z(2026, 3, 31, 23, 0), "2026-03");
}

TEST(fall_back_in_london_repeats_the_hour)
{
    /* 01:00Z: 02:00 BST becomes 01:00 GMT; local 01:00-02:00 happens twice. */
    INTERVAL(REPORT_IV_15M, LONDON, Z(2026, 10, 25, 0, 10), Z(2026, 10, 25, 0, 0),
             Z(2026, 10, 25, 0, 15), "2026-10-25T01:00+01:00");
    INTERVAL(REPORT_IV_15M, LONDON, Z(2026, 10, 25, 1, 10), Z(2026, 10, 25, 1, 0),
             Z(2026, 10, 25, 1, 15), "2026-10-25T01:00+00:00");
    INTERVAL(REPORT_IV_15M, LONDON, Z(2026, 10, 25, 0, 50), Z(2026, 10, 25, 0, 45),
             Z(2026, 10, 25, 1, 0), "2026-10-25T01:45+01:00");
    INTERVAL(REPORT_IV_60M, LONDON, Z(2026, 10, 25, 0, 30), Z(2026, 10, 25, 0, 0),
             Z(2026, 10, 25, 1, 0), "2026-10-25T01:00+01:00");
    INTERVAL(REPORT_IV_60M, LONDON, Z(2026, 10, 25, 1, 30), Z(2026, 10, 25, 1, 0),
             Z(2026, 10, 25, 2, 0), "2026-10-25T01:00+00:00");
    /* The day has 25 hours; October starts and ends in different offsets. */
    INTERVAL(REPORT_IV_DAY, LONDON, Z(2026, 10, 25, 12, 0), Z(2026, 10, 24, 23, 0),
             Z(2026, 10, 26, 0, 0), "2026-10-25");
    INTERVAL(REPORT_IV_DAY, LONDON, Z(2026, 10, 24, 23, 30), Z(2026, 10, 24, 23, 0),
             Z(2026, 10, 26, 0, 0), "2026-10-25");
    INTERVAL(REPORT_IV_WEEK, LONDON, Z(2026, 10, 25, 12, 0), Z(2026, 10, 18, 23, 0),
             Z(2026, 10, 26, 0, 0), "2026-W43");
    INTERVAL(REPORT_IV_MONTH, LONDON, Z(2026, 10, 31, 12, 0), Z(2026, 9, 30, 23, 0),
             Z(2026, 11, 1, 0, 0), "2026-10");
}

TEST(offsets_of_half_hours_and_west_of_greenwich)
{
    const struct engine_zone *kolkata = &f->kolkata.z, *new_york = &f->new_york.z;
    INTERVAL(REPORT_IV_60M, kolkata, Z(2026, 12, 7, 4, 0), Z(2026, 12, 7, 3, 30),
             Z(2026, 12, 7, 4, 30), "2026-12-07T09:00+05:30");
    INTERVAL(REPORT_IV_DAY, kolkata, Z(2026, 12, 6, 20, 0), Z(2026, 12, 6, 18, 30),
             Z(2026, 12, 7, 18, 30), "2026-12-07");
    INTERVAL(REPORT_IV_15M, new_york, Z(2026, 12, 7, 9, 0), Z(2026, 12, 7, 9, 0),
             Z(2026, 12, 7, 9, 15), "2026-12-07T04:00-05:00");
    INTERVAL(REPORT_IV_DAY, new_york, Z(2026, 12, 7, 3, 0), Z(2026, 12, 6, 5, 0),
             Z(2026, 12, 7, 5, 0), "2026-12-06");
    INTERVAL(REPORT_IV_MONTH, new_york, Z(2027, 1, 1, 4, 59), Z(2026, 12, 1, 5, 0),
             Z(2027, 1, 1, 5, 0), "2026-12");
}

TEST(a_change_of_offset_ends_an_hour)
{
    /* Lord Howe, 5 April: 02:00 (+11) becomes 01:30 (+10:30) at 15:00Z. */
    INTERVAL(REPORT_IV_60M, LORD_HOWE, Z(2026, 4, 4, 14, 30), Z(2026, 4, 4, 14, 0),
             Z(2026, 4, 4, 15, 0), "2026-04-05T01:00+11:00");
    INTERVAL(REPORT_IV_60M, LORD_HOWE, Z(2026, 4, 4, 15, 10), Z(2026, 4, 4, 15, 0),
             Z(2026, 4, 4, 15, 30), "2026-04-05T01:30+10:30");
    INTERVAL(REPORT_IV_60M, LORD_HOWE, Z(2026, 4, 4, 15, 30), Z(2026, 4, 4, 15, 30),
             Z(2026, 4, 4, 16, 30), "2026-04-05T02:00+10:30");
    INTERVAL(REPORT_IV_DAY, LORD_HOWE, Z(2026, 4, 5, 0, 0), Z(2026, 4, 4, 13, 0),
             Z(2026, 4, 5, 13, 30), "2026-04-05");
    /* 4 October: 02:00 (+10:30) becomes 02:30 (+11) at 15:30Z. */
    INTERVAL(REPORT_IV_60M, LORD_HOWE, Z(2026, 10, 3, 15, 0), Z(2026, 10, 3, 14, 30),
             Z(2026, 10, 3, 15, 30), "2026-10-04T01:00+10:30");
    INTERVAL(REPORT_IV_60M, LORD_HOWE, Z(2026, 10, 3, 15, 40), Z(2026, 10, 3, 15, 30),
             Z(2026, 10, 3, 16, 0), "2026-10-04T02:30+11:00");
    INTERVAL(REPORT_IV_DAY, LORD_HOWE, Z(2026, 10, 4, 0, 0), Z(2026, 10, 3, 13, 30),
             Z(2026, 10, 4, 13, 0), "2026-10-04");
}

/* The length of a 5m, 15m, 30m or 60m interval; 0 for the others. */
static int64_t sub_day(uint8_t iv)
{
    switch (iv) {
        case REPORT_IV_5M:
            return MINUTES(5);
        case REPORT_IV_15M:
            return MINUTES(15);
        case REPORT_IV_30M:
            return MINUTES(30);
        case REPORT_IV_60M:
            return MINUTES(60);
        default:
            return 0;
    }
}

/* Five minutes, the wallboard's sparklines: cut like the quarter hour, by the local clock,
 * with a change of offset ending one (the repeated hour, half-hour offsets, Lord Howe's
 * changes by half an hour). */
TEST(five_minute_intervals)
{
    INTERVAL(REPORT_IV_5M, NULL, utc_ms(2026, 12, 7, 9, 37, 30), Z(2026, 12, 7, 9, 35),
             Z(2026, 12, 7, 9, 40), "2026-12-07T09:35+00:00");
    INTERVAL(REPORT_IV_5M, NULL, Z(2026, 12, 7, 23, 59), Z(2026, 12, 7, 23, 55),
             Z(2026, 12, 8, 0, 0), "2026-12-07T23:55+00:00");
    INTERVAL(REPORT_IV_5M, &f->kolkata.z, Z(2026, 12, 7, 4, 2), Z(2026, 12, 7, 4, 0),
             Z(2026, 12, 7, 4, 5), "2026-12-07T09:30+05:30");
    INTERVAL(REPORT_IV_5M, &f->new_york.z, Z(2026, 12, 7, 9, 4), Z(2026, 12, 7, 9, 0),
             Z(2026, 12, 7, 9, 5), "2026-12-07T04:00-05:00");
    /* London: 00:55Z is 01:55 BST, the last of summer time; 01:00Z is 01:00 GMT again. */
    INTERVAL(REPORT_IV_5M, LONDON, Z(2026, 10, 25, 0, 58), Z(2026, 10, 25, 0, 55),
             Z(2026, 10, 25, 1, 0), "2026-10-25T01:55+01:00");
    INTERVAL(REPORT_IV_5M, LONDON, Z(2026, 10, 25, 1, 2), Z(2026, 10, 25, 1, 0),
             Z(2026, 10, 25, 1, 5), "2026-10-25T01:00+00:00");
    INTERVAL(REPORT_IV_5M, LONDON, Z(2026, 3, 29, 0, 57), Z(2026, 3, 29, 0, 55),
             Z(2026, 3, 29, 1, 0), "2026-03-29T00:55+00:00");
    INTERVAL(REPORT_IV_5M, LONDON, Z(2026, 3, 29, 1, 0), Z(2026, 3, 29, 1, 0),
             Z(2026, 3, 29, 1, 5), "2026-03-29T02:00+01:00");
    /* Lord Howe: 02:00 (+11) becomes 01:30 (+10:30) at 15:00Z, 02:00 (+10:30) becomes
     * 02:30 (+11) at 15:30Z. */
    INTERVAL(REPORT_IV_5M, LORD_HOWE, Z(2026, 4, 4, 14, 58), Z(2026, 4, 4, 14, 55),
             Z(2026, 4, 4, 15, 0), "2026-04-05T01:55+11:00");
    INTERVAL(REPORT_IV_5M, LORD_HOWE, Z(2026, 4, 4, 15, 1), Z(2026, 4, 4, 15, 0),
             Z(2026, 4, 4, 15, 5), "2026-04-05T01:30+10:30");
    INTERVAL(REPORT_IV_5M, LORD_HOWE, Z(2026, 10, 3, 15, 29), Z(2026, 10, 3, 15, 25),
             Z(2026, 10, 3, 15, 30), "2026-10-04T01:55+10:30");
    INTERVAL(REPORT_IV_5M, LORD_HOWE, Z(2026, 10, 3, 15, 32), Z(2026, 10, 3, 15, 30),
             Z(2026, 10, 3, 15, 35), "2026-10-04T02:30+11:00");
}

/* Walking every interval of 2026 in every zone: each starts where the last ended, holds
 * every instant up to the next, and is no longer than its unit allows. */
TEST(intervals_tile_the_year)
{
    const struct engine_zone *zones[] = {NULL, LONDON, &f->kolkata.z, &f->new_york.z,
                                         LORD_HOWE};
    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        for (uint8_t iv = 0; iv < REPORT_IV_COUNT; iv++) {
            if (iv == REPORT_IV_TOTAL) {
                continue;
            }
            int64_t start = report_interval_start(iv, zones[z], Z(2026, 1, 1, 0, 0));
            uint64_t seed = 12345;
            while (start < Z(2027, 1, 1, 0, 0)) {
                int64_t next = report_interval_next(iv, zones[z], start);
                assert_true(next > start);
                if (sub_day(iv) > 0) {
                    assert_true(next - start <= sub_day(iv));
                } else if (iv == REPORT_IV_DAY) {
                    assert_true(next - start >= HOURS(23) && next - start <= HOURS(25));
                }
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                int64_t inside = start + (int64_t)((seed >> 33) % (uint64_t)(next - start));
                assert_int_equal(report_interval_start(iv, zones[z], start), start);
                assert_int_equal(report_interval_start(iv, zones[z], next - 1), start);
                assert_int_equal(report_interval_start(iv, zones[z], inside), start);
                start = next;
            }
        }
    }
}

/* ---- Cells of a report follow the same cuts ------------------------------------------ */

static struct report *night_report(struct fixture *f, uint8_t iv)
{
    struct report_spec spec = {.from_ms = Z(2026, 10, 24, 23, 0),
                               .to_ms = Z(2026, 10, 25, 3, 0),
                               .interval = iv,
                               .group = REPORT_BY_NONE,
                               .zone = LONDON,
                               .channel = -1,
                               .fallback = {20000, 80, REPORT_SL_OFFERED, 5000}};
    report_free(f->r);
    f->r = report_new(&spec, NULL, 0);
    assert_non_null(f->r);
    return f->r;
}

static void contact_at(struct report *r, int64_t entered)
{
    struct report_segment g = {.queue = "q",
                               .end = REPORT_END_ANSWERED,
                               .entered = entered,
                               .left = entered + 5000,
                               .ewt_ms = -1,
                               .agent = "ann",
                               .site = "leeds"};
    struct report_contact c = {.id = 1, .n_segments = 1, .segments = &g};
    assert_int_equal(report_add_contact(r, &c), 0);
}

TEST(the_repeated_hour_has_cells_of_its_own)
{
    struct report *r = night_report(f, REPORT_IV_15M);
    contact_at(r, Z(2026, 10, 25, 0, 5));  /* 01:05 BST */
    contact_at(r, Z(2026, 10, 25, 1, 5));  /* 01:05 GMT */
    contact_at(r, Z(2026, 10, 25, 1, 14)); /* 01:14 GMT */
    const struct report_cell *cells;
    assert_int_equal(report_cells(r, &cells), 2);
    assert_int_equal(cells[0].start_ms, Z(2026, 10, 25, 0, 0));
    assert_int_equal(cells[0].end_ms, Z(2026, 10, 25, 0, 15));
    assert_string_equal(cells[0].label, "2026-10-25T01:00+01:00");
    assert_int_equal(cells[0].sums.offered, 1);
    assert_int_equal(cells[1].start_ms, Z(2026, 10, 25, 1, 0));
    assert_string_equal(cells[1].label, "2026-10-25T01:00+00:00");
    assert_int_equal(cells[1].sums.offered, 2);
    assert_int_equal(cells[1].sums.period_ms, MINUTES(15));
}

TEST(a_span_over_the_night_is_cut_by_the_local_hour)
{
    struct report *r = night_report(f, REPORT_IV_60M);
    struct report_span s = {"ann",
                            "leeds",
                            ENGINE_AGENT_AVAILABLE,
                            "",
                            Z(2026, 10, 24, 22, 0),
                            Z(2026, 10, 25, 2, 30)};
    assert_int_equal(report_add_span(r, &s), 0);
    const struct report_cell *cells;
    assert_int_equal(report_cells(r, &cells), 4);
    const char *labels[] = {"2026-10-25T00:00+01:00", "2026-10-25T01:00+01:00",
                            "2026-10-25T01:00+00:00", "2026-10-25T02:00+00:00"};
    const int64_t ms[] = {HOURS(1), HOURS(1), HOURS(1), MINUTES(30)};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(cells[i].label, labels[i]);
        assert_int_equal(cells[i].start_ms, Z(2026, 10, 24, 23, 0) + HOURS(i));
        assert_int_equal(cells[i].sums.state_ms[ENGINE_AGENT_AVAILABLE], ms[i]);
    }
    assert_int_equal(report_total(r)->sums.state_ms[ENGINE_AGENT_AVAILABLE], HOURS(3.5));
}

TEST(a_day_of_twenty_five_hours)
{
    struct report_spec spec = {.from_ms = Z(2026, 10, 20, 0, 0),
                               .to_ms = Z(2026, 10, 30, 0, 0),
                               .interval = REPORT_IV_DAY,
                               .group = REPORT_BY_AGENT,
                               .zone = LONDON,
                               .channel = -1};
    f->r = report_new(&spec, NULL, 0);
    struct report_span s = {"ann",
                            "leeds",
                            ENGINE_AGENT_AVAILABLE,
                            "",
                            Z(2026, 10, 24, 23, 0),
                            Z(2026, 10, 26, 0, 0)};
    assert_int_equal(report_add_span(f->r, &s), 0);
    const struct report_cell *cells;
    assert_int_equal(report_cells(f->r, &cells), 1);
    assert_string_equal(cells[0].label, "2026-10-25");
    assert_int_equal(cells[0].sums.period_ms, HOURS(25));
    assert_int_equal(cells[0].sums.state_ms[ENGINE_AGENT_AVAILABLE], HOURS(25));
    /* Local day, clipped to a period that starts at 00:30 BST: the label stays the day's. */
    report_free(f->r);
    spec.from_ms = Z(2026, 10, 24, 23, 30);
    f->r = report_new(&spec, NULL, 0);
    assert_int_equal(report_add_span(f->r, &s), 0);
    assert_int_equal(report_cells(f->r, &cells), 1);
    assert_int_equal(cells[0].start_ms, spec.from_ms);
    assert_string_equal(cells[0].label, "2026-10-25");
    assert_int_equal(cells[0].sums.period_ms, HOURS(24.5));
}

TEST(one_interval_for_the_whole_period)
{
    struct report *r = night_report(f, REPORT_IV_TOTAL);
    contact_at(r, Z(2026, 10, 25, 0, 5));
    contact_at(r, Z(2026, 10, 25, 2, 5));
    const struct report_cell *cells;
    assert_int_equal(report_cells(r, &cells), 1);
    assert_string_equal(cells[0].label, "total");
    assert_int_equal(cells[0].start_ms, Z(2026, 10, 24, 23, 0));
    assert_int_equal(cells[0].end_ms, Z(2026, 10, 25, 3, 0));
    assert_int_equal(cells[0].sums.offered, 2);
    assert_int_equal(cells[0].sums.period_ms, HOURS(4));
}

/* The wallboard's last hour, made at 10:07: cells start at the period's start (09:07, in
 * the 09:05 interval) and at each local five minutes after it, up to the report's now. */
TEST(five_minute_cells_of_the_last_hour)
{
    struct report_spec spec = {.from_ms = Z(2026, 12, 7, 9, 7),
                               .to_ms = Z(2026, 12, 7, 10, 7),
                               .interval = REPORT_IV_5M,
                               .group = REPORT_BY_NONE,
                               .zone = LONDON,
                               .channel = -1,
                               .fallback = {20000, 80, REPORT_SL_OFFERED, 5000}};
    f->r = report_new(&spec, NULL, 0);
    assert_non_null(f->r);
    contact_at(f->r, Z(2026, 12, 7, 9, 8));
    contact_at(f->r, Z(2026, 12, 7, 9, 14));
    contact_at(f->r, Z(2026, 12, 7, 9, 15));
    contact_at(f->r, Z(2026, 12, 7, 10, 6));
    const struct report_cell *cells;
    assert_int_equal(report_cells(f->r, &cells), 4);
    const int64_t start[] = {Z(2026, 12, 7, 9, 7), Z(2026, 12, 7, 9, 10), Z(2026, 12, 7, 9, 15),
                             Z(2026, 12, 7, 10, 5)};
    const int64_t end[] = {Z(2026, 12, 7, 9, 10), Z(2026, 12, 7, 9, 15), Z(2026, 12, 7, 9, 20),
                           Z(2026, 12, 7, 10, 7)};
    const char *labels[] = {"2026-12-07T09:05+00:00", "2026-12-07T09:10+00:00",
                            "2026-12-07T09:15+00:00", "2026-12-07T10:05+00:00"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cells[i].start_ms, start[i]);
        assert_int_equal(cells[i].end_ms, end[i]);
        assert_string_equal(cells[i].label, labels[i]);
        assert_int_equal(cells[i].sums.offered, 1);
        assert_int_equal(cells[i].sums.period_ms, end[i] - start[i]);
    }
    assert_int_equal(report_total(f->r)->sums.offered, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(utc_intervals_and_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(iso_weeks_at_the_turn_of_the_year, setup, teardown),
        cmocka_unit_test_setup_teardown(spring_forward_in_london, setup, teardown),
        cmocka_unit_test_setup_teardown(fall_back_in_london_repeats_the_hour, setup, teardown),
        cmocka_unit_test_setup_teardown(offsets_of_half_hours_and_west_of_greenwich, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_change_of_offset_ends_an_hour, setup, teardown),
        cmocka_unit_test_setup_teardown(five_minute_intervals, setup, teardown),
        cmocka_unit_test_setup_teardown(intervals_tile_the_year, setup, teardown),
        cmocka_unit_test_setup_teardown(the_repeated_hour_has_cells_of_its_own, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_span_over_the_night_is_cut_by_the_local_hour, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_day_of_twenty_five_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(one_interval_for_the_whole_period, setup, teardown),
        cmocka_unit_test_setup_teardown(five_minute_cells_of_the_last_hour, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
