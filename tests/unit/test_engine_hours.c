/* Hours of operation in local time: zone tables built by hand (Europe/London 2026 and a
 * Sydney-style southern-hemisphere table), both DST changes, holidays, intervals that end
 * at midnight and the Monday..Sunday mapping of week[]. */
#include "engine_fixture.h"

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t utc_ms(int y, int mo, int d, int h, int mi, int s)
{
    return ((days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + s) * 1000;
}

#define MIN(h, m) ((uint16_t)((h)*60 + (m)))
#define MON 0
#define SAT 5
#define SUN 6

static uint32_t london(struct fixture *f)
{
    uint32_t z = fx_zone(f, "Europe/London", 0);
    fx_zone_transition(f, z, utc_ms(2026, 3, 29, 1, 0, 0) / 1000, 3600);
    fx_zone_transition(f, z, utc_ms(2026, 10, 25, 1, 0, 0) / 1000, 0);
    return z;
}

static uint32_t sydney(struct fixture *f)
{
    uint32_t z = fx_zone(f, "Australia/Sydney", 39600); /* AEDT before April */
    fx_zone_transition(f, z, utc_ms(2026, 4, 4, 16, 0, 0) / 1000, 36000);
    fx_zone_transition(f, z, utc_ms(2026, 10, 3, 16, 0, 0) / 1000, 39600);
    return z;
}

/* Queue "hq" in London: Mon-Fri 08:00-18:00, Sat 09:00-13:00, Sun closed; Christmas Day
 * closed, Christmas Eve 08:00-12:00, late May bank holiday 10:00-14:00. Queue "nq" in
 * London: Sunday 00:00-02:00 only. */
static int setup(void **state)
{
    fx_setup(state);
    struct fixture *f = *state;
    uint32_t z = london(f);
    uint32_t office = fx_hours(f, "office", z);
    for (int d = MON; d < SAT; d++) {
        fx_day_add(&f->m.hours[office].week[d], MIN(8, 0), MIN(18, 0));
    }
    fx_day_add(&f->m.hours[office].week[SAT], MIN(9, 0), MIN(13, 0));
    fx_day_add(fx_holiday(f, office, (int32_t)days_from_civil(2026, 5, 25)), MIN(10, 0),
               MIN(14, 0));
    fx_day_add(fx_holiday(f, office, (int32_t)days_from_civil(2026, 12, 24)), MIN(8, 0),
               MIN(12, 0));
    fx_holiday(f, office, (int32_t)days_from_civil(2026, 12, 25));
    fx_queue(f, "hq", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("hq")->hours = (int32_t)office;

    uint32_t night = fx_hours(f, "sunday-night", z);
    fx_day_add(&f->m.hours[night].week[SUN], MIN(0, 0), MIN(2, 0));
    fx_queue(f, "nq", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("nq")->hours = (int32_t)night;
    return 0;
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static bool open_at(struct fixture *f, const char *queue, int64_t at)
{
    f->now = at;
    struct engine_command c = {.kind = ENGINE_CMD_TICK};
    assert_int_equal(fx_apply(f, &c), 0);
    assert_int_equal(engine_now(f->e), at);
    return fx_queue_info(f, queue).open;
}

#define OPEN(q, y, mo, d, h, mi, s) assert_true(open_at(f, (q), utc_ms(y, mo, d, h, mi, s)))
#define CLOSED(q, y, mo, d, h, mi, s) assert_false(open_at(f, (q), utc_ms(y, mo, d, h, mi, s)))

TEST(winter_hours_are_utc)
{
    AT(utc_ms(2026, 1, 5, 0, 0, 0));
    MODEL_INSTALL;
    CLOSED("hq", 2026, 1, 5, 7, 59, 59); /* Monday */
    OPEN("hq", 2026, 1, 5, 8, 0, 0);
    OPEN("hq", 2026, 1, 5, 17, 59, 59);
    CLOSED("hq", 2026, 1, 5, 18, 0, 0);
    CLOSED("hq", 2026, 1, 10, 8, 59, 59); /* Saturday */
    OPEN("hq", 2026, 1, 10, 9, 0, 0);
    CLOSED("hq", 2026, 1, 10, 13, 0, 0);
    CLOSED("hq", 2026, 1, 11, 12, 0, 0); /* Sunday */
}

TEST(summer_hours_open_an_hour_earlier_in_utc)
{
    AT(utc_ms(2026, 6, 1, 0, 0, 0));
    MODEL_INSTALL;
    CLOSED("hq", 2026, 6, 1, 6, 59, 59); /* Monday, BST */
    OPEN("hq", 2026, 6, 1, 7, 0, 0);
    OPEN("hq", 2026, 6, 1, 16, 59, 59);
    CLOSED("hq", 2026, 6, 1, 17, 0, 0);
}

TEST(spring_change)
{
    AT(utc_ms(2026, 3, 27, 0, 0, 0));
    MODEL_INSTALL;
    CLOSED("hq", 2026, 3, 27, 7, 59, 59); /* Friday before: GMT */
    OPEN("hq", 2026, 3, 27, 8, 0, 0);
    CLOSED("hq", 2026, 3, 27, 18, 0, 0);
    OPEN("nq", 2026, 3, 29, 0, 0, 0);     /* Sunday 00:00 GMT */
    OPEN("nq", 2026, 3, 29, 0, 59, 59);   /* 00:59:59 GMT */
    CLOSED("nq", 2026, 3, 29, 1, 0, 0);   /* 02:00 BST */
    CLOSED("hq", 2026, 3, 30, 6, 59, 59); /* Monday after: BST */
    OPEN("hq", 2026, 3, 30, 7, 0, 0);
    OPEN("hq", 2026, 3, 30, 16, 59, 59);
    CLOSED("hq", 2026, 3, 30, 17, 0, 0);
}

TEST(autumn_change)
{
    AT(utc_ms(2026, 10, 23, 0, 0, 0));
    MODEL_INSTALL;
    CLOSED("hq", 2026, 10, 23, 6, 59, 59); /* Friday before: BST */
    OPEN("hq", 2026, 10, 23, 7, 0, 0);
    CLOSED("hq", 2026, 10, 23, 17, 0, 0);
    CLOSED("nq", 2026, 10, 24, 22, 59, 59); /* Saturday 23:59:59 BST */
    OPEN("nq", 2026, 10, 24, 23, 0, 0);     /* Sunday 00:00 BST */
    OPEN("nq", 2026, 10, 25, 0, 59, 59);    /* 01:59:59 BST */
    OPEN("nq", 2026, 10, 25, 1, 0, 0);      /* 01:00 GMT again */
    OPEN("nq", 2026, 10, 25, 1, 59, 59);
    CLOSED("nq", 2026, 10, 25, 2, 0, 0);
    CLOSED("hq", 2026, 10, 26, 7, 59, 59); /* Monday after: GMT */
    OPEN("hq", 2026, 10, 26, 8, 0, 0);
    OPEN("hq", 2026, 10, 26, 17, 59, 59);
    CLOSED("hq", 2026, 10, 26, 18, 0, 0);
}

TEST(holiday_with_special_hours_in_summer)
{
    AT(utc_ms(2026, 5, 25, 0, 0, 0));
    MODEL_INSTALL;
    CLOSED("hq", 2026, 5, 25, 8, 59, 59); /* a Monday: 10:00-14:00 BST instead */
    OPEN("hq", 2026, 5, 25, 9, 0, 0);
    OPEN("hq", 2026, 5, 25, 12, 59, 59);
    CLOSED("hq", 2026, 5, 25, 13, 0, 0);
    OPEN("hq", 2026, 5, 26, 7, 0, 0); /* the Tuesday after is normal */
}

TEST(christmas_holidays)
{
    AT(utc_ms(2026, 12, 17, 0, 0, 0));
    MODEL_INSTALL;
    OPEN("hq", 2026, 12, 17, 15, 0, 0); /* Thursday the week before */
    OPEN("hq", 2026, 12, 24, 8, 0, 0);  /* Thursday, Christmas Eve: 08:00-12:00 */
    OPEN("hq", 2026, 12, 24, 11, 59, 59);
    CLOSED("hq", 2026, 12, 24, 12, 0, 0);
    CLOSED("hq", 2026, 12, 24, 15, 0, 0);
    CLOSED("hq", 2026, 12, 25, 8, 0, 0); /* Friday, Christmas Day: closed */
    CLOSED("hq", 2026, 12, 25, 12, 0, 0);
    OPEN("hq", 2026, 12, 26, 9, 0, 0); /* Saturday: normal */
}

TEST(closed_queue_rejects_new_contacts)
{
    AT(utc_ms(2026, 12, 25, 10, 0, 0));
    MODEL_INSTALL;
    uint64_t k = CREATE_IN("hq", ENGINE_CH_EMAIL, 0);
    ASSERT_GONE(k);
    const struct engine_history *h = ENDED(k);
    assert_int_equal(h->outcome, ENGINE_CONTACT_REJECTED);
    assert_string_equal(h->reason, "closed");
    AT(utc_ms(2026, 12, 26, 9, 0, 0));
    uint64_t k2 = CREATE_IN("hq", ENGINE_CH_EMAIL, 0);
    ASSERT_QUEUED(k2, "hq");
}

TEST(interval_to_midnight_and_after)
{
    uint32_t late = fx_hours(f, "late", 0);
    fx_day_add(&f->m.hours[late].week[4], MIN(18, 0), 1440); /* Friday to midnight */
    fx_day_add(&f->m.hours[late].week[SAT], MIN(0, 0), MIN(2, 0));
    fx_queue(f, "lq", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("lq")->hours = (int32_t)late;
    AT(utc_ms(2026, 1, 9, 0, 0, 0));
    MODEL_INSTALL;
    CLOSED("lq", 2026, 1, 9, 17, 59, 59);
    OPEN("lq", 2026, 1, 9, 18, 0, 0);
    OPEN("lq", 2026, 1, 9, 23, 59, 59);
    OPEN("lq", 2026, 1, 10, 0, 0, 0);
    OPEN("lq", 2026, 1, 10, 1, 59, 59);
    CLOSED("lq", 2026, 1, 10, 2, 0, 0);
    /* The same in summer: local midnight is 23:00Z. */
    CLOSED("lq", 2026, 7, 3, 16, 59, 59);
    OPEN("lq", 2026, 7, 3, 17, 0, 0);
    OPEN("lq", 2026, 7, 3, 22, 59, 59);
    OPEN("lq", 2026, 7, 3, 23, 0, 0);
    OPEN("lq", 2026, 7, 4, 0, 59, 59);
    CLOSED("lq", 2026, 7, 4, 1, 0, 0);
}

TEST(weekday_mapping_sunday_and_monday)
{
    uint32_t sun = fx_hours(f, "sun", 0);
    fx_day_add(&f->m.hours[sun].week[SUN], MIN(10, 0), MIN(12, 0));
    fx_queue(f, "sq", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("sq")->hours = (int32_t)sun;
    uint32_t mon = fx_hours(f, "mon", 0);
    fx_day_add(&f->m.hours[mon].week[MON], MIN(10, 0), MIN(12, 0));
    fx_queue(f, "mq", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("mq")->hours = (int32_t)mon;
    AT(utc_ms(2026, 1, 10, 0, 0, 0));
    MODEL_INSTALL;
    CLOSED("sq", 2026, 1, 10, 11, 0, 0); /* Saturday */
    OPEN("sq", 2026, 1, 11, 11, 0, 0);   /* Sunday */
    assert_false(fx_queue_info(f, "mq").open);
    CLOSED("sq", 2026, 1, 12, 11, 0, 0); /* Monday */
    assert_true(fx_queue_info(f, "mq").open);
    CLOSED("mq", 2026, 1, 13, 11, 0, 0); /* Tuesday */
    OPEN("sq", 2026, 6, 7, 9, 0, 0);     /* Sunday 10:00 BST */
    CLOSED("sq", 2026, 6, 7, 11, 0, 0);  /* 12:00 BST */
}

TEST(southern_hemisphere)
{
    uint32_t z = sydney(f);
    uint32_t syd = fx_hours(f, "syd", z);
    for (int d = MON; d < SAT; d++) {
        fx_day_add(&f->m.hours[syd].week[d], MIN(9, 0), MIN(17, 0));
    }
    fx_holiday(f, syd, (int32_t)days_from_civil(2026, 1, 26)); /* Australia Day, Monday */
    fx_queue(f, "au", ENGINE_CH_ALL, ENGINE_STRATEGY_LONGEST_IDLE);
    Q("au")->hours = (int32_t)syd;
    AT(utc_ms(2026, 1, 4, 0, 0, 0));
    MODEL_INSTALL;
    /* January, AEDT (+11): Monday 09:00 local is Sunday 22:00Z. */
    CLOSED("au", 2026, 1, 4, 21, 59, 59);
    OPEN("au", 2026, 1, 4, 22, 0, 0);
    OPEN("au", 2026, 1, 5, 5, 59, 59);
    CLOSED("au", 2026, 1, 5, 6, 0, 0);
    /* Friday 16:59 local is Friday 05:59Z; Saturday local starts at Friday 13:00Z. */
    OPEN("au", 2026, 1, 9, 5, 59, 59);
    CLOSED("au", 2026, 1, 9, 22, 0, 0);
    /* The holiday is a local date: Monday 26 January local = from 25 January 13:00Z. */
    CLOSED("au", 2026, 1, 25, 22, 0, 0);
    OPEN("au", 2026, 1, 26, 22, 0, 0); /* Tuesday 27th 09:00 local */
    /* June, AEST (+10): Monday 09:00 local is Sunday 23:00Z. */
    CLOSED("au", 2026, 5, 31, 22, 59, 59);
    OPEN("au", 2026, 5, 31, 23, 0, 0);
    CLOSED("au", 2026, 6, 1, 7, 0, 0);
    /* After the October change, AEDT again. */
    CLOSED("au", 2026, 10, 4, 21, 59, 59);
    OPEN("au", 2026, 10, 4, 22, 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(winter_hours_are_utc),
        FX_TEST(summer_hours_open_an_hour_earlier_in_utc),
        FX_TEST(spring_change),
        FX_TEST(autumn_change),
        FX_TEST(holiday_with_special_hours_in_summer),
        FX_TEST(christmas_holidays),
        FX_TEST(closed_queue_rejects_new_contacts),
        FX_TEST(interval_to_midnight_and_after),
        FX_TEST(weekday_mapping_sunday_and_monday),
        FX_TEST(southern_hemisphere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
