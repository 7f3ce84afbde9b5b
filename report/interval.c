/* Local intervals: cut by the clock of the report's zone, read from the zone's transition
 * table (engine_zone_offset()), with no libc time functions, so that every node labels the
 * same instant alike.
 *
 * An interval is a maximal stretch of time over which the local unit (the quarter hour, the
 * day, the ISO week, the month) stays the same. For 5m, 15m, 30m and 60m the offset is part
 * of the unit, so a change of offset always ends one: the repeated hour of a fall-back change
 * holds its own intervals, and no such interval is ever longer than its length. A day, a
 * week or a month simply lasts as long as the local clock says. */
#include <inttypes.h>
#include <stdio.h>

#include "report/internal.h"

int64_t report__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian calendar). */
int64_t report_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = report__floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = report__floor_div(days, 146097);
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Monday is 0; 1970-01-01 was a Thursday. */
static int64_t weekday(int64_t days)
{
    return days - report__floor_div(days + 3, 7) * 7 + 3;
}

static int32_t offset_s(const struct engine_zone *zone, int64_t t)
{
    return zone == NULL ? 0 : engine_zone_offset(zone, report__floor_div(t, 1000));
}

static int64_t transition_ms(int64_t at_s)
{
    if (at_s > INT64_MAX / 1000) {
        return INT64_MAX;
    }
    if (at_s < INT64_MIN / 1000) {
        return INT64_MIN;
    }
    return at_s * 1000;
}

/* The index of the first transition after the second that holds t (table sorted by at). */
static uint32_t first_after(const struct engine_zone *zone, int64_t t)
{
    int64_t s = report__floor_div(t, 1000);
    uint32_t lo = 0, hi = zone->n_transitions;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (zone->transitions[mid].at <= s) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* The instant of the last change of offset at or before t, or INT64_MIN. */
static int64_t change_before(const struct engine_zone *zone, int64_t t)
{
    uint32_t i = zone == NULL ? 0 : first_after(zone, t);
    return i == 0 ? INT64_MIN : transition_ms(zone->transitions[i - 1].at);
}

/* The instant of the first change of offset after t, or INT64_MAX. */
static int64_t change_after(const struct engine_zone *zone, int64_t t)
{
    uint32_t i = zone == NULL ? 0 : first_after(zone, t);
    return zone == NULL || i == zone->n_transitions ? INT64_MAX
                                                    : transition_ms(zone->transitions[i].at);
}

/* REPORT_IV_TOTAL, and any value past the known ones: one interval, the whole period. */
static bool whole_period(uint8_t interval)
{
    return interval == REPORT_IV_TOTAL || interval >= REPORT_IV_COUNT;
}

static int64_t sub_day_ms(uint8_t interval)
{
    switch (interval) {
        case REPORT_IV_5M:
            return 5 * REPORT_MS_MINUTE;
        case REPORT_IV_15M:
            return 15 * REPORT_MS_MINUTE;
        case REPORT_IV_30M:
            return 30 * REPORT_MS_MINUTE;
        case REPORT_IV_60M:
            return 60 * REPORT_MS_MINUTE;
        default:
            return 0;
    }
}

/* The local start of the unit holding local time l; with next, of the unit after it. */
static int64_t unit_start(uint8_t interval, int64_t l, bool next)
{
    int64_t len = sub_day_ms(interval);
    if (len > 0) {
        return (report__floor_div(l, len) + next) * len;
    }
    int64_t days = report__floor_div(l, REPORT_MS_DAY);
    if (interval == REPORT_IV_WEEK) {
        days = days - weekday(days) + (next ? 7 : 0);
    } else if (interval == REPORT_IV_MONTH) {
        int64_t y;
        int m, d;
        civil_from_days(days, &y, &m, &d);
        days = next ? (m == 12 ? report_days_from_civil(y + 1, 1, 1)
                               : report_days_from_civil(y, m + 1, 1))
                    : report_days_from_civil(y, m, 1);
    } else {
        days += next;
    }
    return days * REPORT_MS_DAY;
}

static bool same_interval(uint8_t interval,
                          const struct engine_zone *zone,
                          int64_t a,
                          int64_t b)
{
    int64_t oa = offset_s(zone, a), ob = offset_s(zone, b);
    if (sub_day_ms(interval) > 0 && oa != ob) {
        return false;
    }
    return unit_start(interval, a + oa * 1000, false) ==
           unit_start(interval, b + ob * 1000, false);
}

int64_t report_interval_start(uint8_t interval, const struct engine_zone *zone, int64_t t)
{
    if (whole_period(interval)) {
        return INT64_MIN;
    }
    int64_t at = t;
    for (;;) {
        int64_t l = at + offset_s(zone, at) * INT64_C(1000);
        int64_t start = at - (l - unit_start(interval, l, false));
        int64_t change = change_before(zone, at);
        /* With no change of offset in [start, at], the local clock ran straight through. */
        if (start > change) {
            return start;
        }
        /* Else the offset changed inside the unit: does the interval go on before it? */
        if (!same_interval(interval, zone, change - 1, t)) {
            return change;
        }
        at = change - 1;
    }
}

int64_t report_interval_next(uint8_t interval, const struct engine_zone *zone, int64_t start)
{
    if (whole_period(interval)) {
        return INT64_MAX;
    }
    int64_t at = start;
    for (;;) {
        int64_t l = at + offset_s(zone, at) * INT64_C(1000);
        int64_t end = at + (unit_start(interval, l, true) - l);
        int64_t change = change_after(zone, at);
        if (change > end) {
            return end;
        }
        if (!same_interval(interval, zone, change, start)) {
            return change;
        }
        at = change;
    }
}

static void label_week(int64_t days, char *out, size_t len)
{
    /* An ISO week belongs to the year of its Thursday. */
    int64_t thursday = days - weekday(days) + 3, y;
    int m, d;
    civil_from_days(thursday, &y, &m, &d);
    int64_t week = (thursday - report_days_from_civil(y, 1, 1)) / 7 + 1;
    snprintf(out, len, "%04" PRId64 "-W%02" PRId64, y, week);
}

void report__label(uint8_t interval,
                   const struct engine_zone *zone,
                   int64_t start,
                   char *out,
                   size_t len)
{
    if (whole_period(interval)) {
        snprintf(out, len, "total");
        return;
    }
    int32_t off = offset_s(zone, start);
    int64_t l = start + off * INT64_C(1000);
    int64_t days = report__floor_div(l, REPORT_MS_DAY), y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (interval == REPORT_IV_WEEK) {
        label_week(days, out, len);
    } else if (interval == REPORT_IV_MONTH) {
        snprintf(out, len, "%04" PRId64 "-%02d", y, m);
    } else if (interval == REPORT_IV_DAY) {
        snprintf(out, len, "%04" PRId64 "-%02d-%02d", y, m, d);
    } else {
        int minute = (int)((l - days * REPORT_MS_DAY) / REPORT_MS_MINUTE);
        int off_min = (off < 0 ? -off : off) / 60;
        snprintf(out, len, "%04" PRId64 "-%02d-%02dT%02d:%02d%c%02d:%02d", y, m, d, minute / 60,
                 minute % 60, off < 0 ? '-' : '+', off_min / 60, off_min % 60);
    }
}
