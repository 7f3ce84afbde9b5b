/* Schedules of report definitions: when a slot is due, in the centre's time zone. */
#include <stdio.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "report/report.h"

static const char *const weekdays[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int weekday(const char *s)
{
    for (int i = 0; i < 7; i++) {
        if (strcmp(weekdays[i], s) == 0) {
            return i;
        }
    }
    return -1;
}

/* "HH:MM" into minutes of the day. */
static bool clock_time(const char *s, uint16_t *out)
{
    int h, m, n = 0;
    if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5 || s[5] != 0 || h < 0 || h > 23 ||
        m < 0 || m > 59 || s[0] < '0' || s[0] > '9' || s[3] < '0' || s[3] > '9') {
        return false;
    }
    *out = (uint16_t)(h * 60 + m);
    return true;
}

int api__schedule_parse(const char *s, struct api__schedule *out)
{
    char word[16], a[16], b[16];
    int n = 0;
    memset(out, 0, sizeof(*out));
    if (sscanf(s, "%15s %15s%n", word, a, &n) == 2 && s[n] == 0) {
        if (strcmp(word, "every") == 0) {
            static const char *const every[] = {"1m", "5m", "15m", "30m", "60m"};
            static const uint16_t minutes[] = {1, 5, 15, 30, 60};
            for (int i = 0; i < 5; i++) {
                if (strcmp(a, every[i]) == 0) {
                    out->kind = API__EVERY;
                    out->minutes = minutes[i];
                    return 0;
                }
            }
            return -1;
        }
        if (strcmp(word, "daily") == 0 && clock_time(a, &out->minute)) {
            out->kind = API__DAILY;
            return 0;
        }
        return -1;
    }
    n = 0;
    if (sscanf(s, "%15s %15s %15s%n", word, a, b, &n) != 3 || s[n] != 0 ||
        !clock_time(b, &out->minute)) {
        return -1;
    }
    if (strcmp(word, "weekly") == 0 && (out->day = (uint8_t)(weekday(a) + 1)) > 0) {
        out->kind = API__WEEKLY;
        out->day--; /* 0 = Monday */
        return 0;
    }
    int d = 0, m = 0;
    if (strcmp(word, "monthly") == 0 && sscanf(a, "%2d%n", &d, &m) == 1 && a[m] == 0 &&
        d >= 1 && d <= 28) {
        out->kind = API__MONTHLY;
        out->day = (uint8_t)d;
        return 0;
    }
    return -1;
}

int64_t api__local_to_utc(const struct engine_zone *z, int64_t local_s)
{
    if (z == NULL) {
        return local_s;
    }
    int64_t o1 = engine_zone_offset(z, local_s);
    int64_t u = local_s - o1;
    int64_t o2 = engine_zone_offset(z, u);
    return o2 == o1 ? u : local_s - o2;
}

/* The instant (ms) the local day starting at day_start (ms, UTC) reads minute of day. */
static int64_t at_minute(const struct engine_zone *z, int64_t day_start, uint16_t minute)
{
    int64_t local = day_start / 1000 + (z ? engine_zone_offset(z, day_start / 1000) : 0);
    return api__local_to_utc(z, local + (int64_t)minute * 60) * 1000;
}

int64_t api__schedule_slot(const struct api__schedule *s,
                           const struct engine_zone *z,
                           int64_t now)
{
    if (s->kind == API__EVERY) {
        /* whole local minutes, N at a time (N divides the hour) */
        int64_t t = now / 1000 - (now % 1000 < 0);
        int64_t local = t + (z ? engine_zone_offset(z, t) : 0);
        int64_t step = (int64_t)s->minutes * 60;
        int64_t floor = local - ((local % step) + step) % step;
        return (t - (local - floor)) * 1000;
    }
    uint8_t iv = s->kind == API__DAILY    ? REPORT_IV_DAY
                 : s->kind == API__WEEKLY ? REPORT_IV_WEEK
                                          : REPORT_IV_MONTH;
    /* The moment in this day, week or month; else in the one before. */
    int64_t start = report_interval_start(iv, z, now);
    for (int back = 0; back < 2; back++) {
        int64_t day = start;
        uint8_t skip = s->kind == API__WEEKLY    ? s->day
                       : s->kind == API__MONTHLY ? s->day - 1
                                                 : 0;
        for (uint8_t i = 0; i < skip; i++) {
            day = report_interval_next(REPORT_IV_DAY, z, day);
        }
        int64_t slot = at_minute(z, day, s->minute);
        if (slot <= now) {
            return slot;
        }
        start = report_interval_start(iv, z, start - 1);
    }
    return INT64_MIN; /* not reached: a period always holds its moment */
}
