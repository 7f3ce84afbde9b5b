/* The words reports take (intervals, groupings, periods, formats, channels, schedules),
 * shared by GET /v1/reports and report definitions. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "report/report.h"

static const char *const intervals[REPORT_IV_COUNT] = {
    [REPORT_IV_15M] = "15m",     [REPORT_IV_30M] = "30m",   [REPORT_IV_60M] = "60m",
    [REPORT_IV_DAY] = "day",     [REPORT_IV_WEEK] = "week", [REPORT_IV_MONTH] = "month",
    [REPORT_IV_TOTAL] = "total", [REPORT_IV_5M] = "5m",
};
static const char *const groups[REPORT_BY_COUNT] = {
    [REPORT_BY_QUEUE] = "queue",
    [REPORT_BY_AGENT] = "agent",
    [REPORT_BY_CHANNEL] = "channel",
    [REPORT_BY_SITE] = "site",
    [REPORT_BY_DISPOSITION] = "disposition",
    [REPORT_BY_NONE] = "none",
};
static const char *const periods[API__PERIOD_COUNT] = {
    "today",   "yesterday", "this_week", "last_week", "this_month", "last_month",
    "last_5m", "last_15m",  "last_60m",  "last_24h",  "last_7d",    "last_30d",
};
static const char *const formats[API__FORMAT_COUNT] = {"json", "csv", "html", "pdf"};

static int find(const char *const *names, int n, const char *s)
{
    for (int i = 0; s != NULL && i < n; i++) {
        if (names[i] != NULL && strcmp(names[i], s) == 0) {
            return i;
        }
    }
    return -1;
}

int api__report_interval_parse(const char *s)
{
    return find(intervals, REPORT_IV_COUNT, s);
}

int api__report_group_parse(const char *s)
{
    return find(groups, REPORT_BY_COUNT, s);
}

int api__report_period_parse(const char *s)
{
    return find(periods, API__PERIOD_COUNT, s);
}

int api__report_format_parse(const char *s)
{
    return find(formats, API__FORMAT_COUNT, s);
}

int api__channel_parse(const char *s)
{
    for (int c = 0; s != NULL && c < ENGINE_CH_COUNT; c++) {
        if (strcmp(engine_channel_name(c), s) == 0) {
            return c;
        }
    }
    return -1;
}

const char *api__report_interval_name(int i)
{
    return i >= 0 && i < REPORT_IV_COUNT && intervals[i] ? intervals[i] : "";
}

const char *api__report_group_name(int i)
{
    return i >= 0 && i < REPORT_BY_COUNT && groups[i] ? groups[i] : "";
}

const char *api__report_names(const char *what)
{
    if (strcmp(what, "interval") == 0) {
        return "5m, 15m, 30m, 60m, day, week, month, total";
    }
    if (strcmp(what, "group") == 0) {
        return "queue, agent, channel, site, disposition, none";
    }
    if (strcmp(what, "period") == 0) {
        return "today, yesterday, this_week, last_week, this_month, last_month, last_5m, "
               "last_15m, last_60m, last_24h, last_7d, last_30d";
    }
    if (strcmp(what, "format") == 0) {
        return "json, csv, html, pdf";
    }
    return "";
}

const struct engine_zone *api__centre_zone(const struct engine_model *m)
{
    if (m == NULL || m->report_zone < 0 || (uint32_t)m->report_zone >= m->n_zones) {
        return NULL;
    }
    return &m->zones[m->report_zone];
}

/* A time: milliseconds since 1970; RFC 3339 with Z or an offset ("2026-12-07T09:00:00Z");
 * or a local date or date and time in the centre's zone ("2026-12-07", "2026-12-07T09:30").
 * Returns false when s is none of these. */
bool api__report_time_parse(const char *s, const struct engine_zone *z, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    char *end;
    if (isdigit((unsigned char)s[0]) && strchr(s, '-') == NULL) {
        unsigned long long v = strtoull(s, &end, 10);
        if (*end != 0 || v > (unsigned long long)INT64_MAX / 2) {
            return false;
        }
        *out = (int64_t)v;
        return true;
    }
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) {
        return false;
    }
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2 || m != 5) {
            return false;
        }
        p += 6;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &sec, &m) != 1 || m != 2) {
                return false;
            }
            p += 3;
        }
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60) {
        return false;
    }
    int64_t t = report_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    if (*p == 0) {
        *out = api__local_to_utc(z, t) * 1000;
        return true;
    }
    if (*p == 'Z' && p[1] == 0) {
        *out = t * 1000;
        return true;
    }
    int oh, om, m = 0;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) == 2 && m == 5 &&
        p[6] == 0 && oh < 24 && om < 60) {
        int64_t off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        *out = (t - off) * 1000;
        return true;
    }
    return false;
}

/* A named period ending now or at the start of the current local day, week or month. */
void api__report_period_range(int which,
                              const struct engine_zone *z,
                              int64_t now,
                              int64_t *from,
                              int64_t *to)
{
    static const int64_t minutes[] = {5, 15, 60, 24 * 60, 7 * 24 * 60, 30 * 24 * 60};
    if (which >= 6) {
        *to = now;
        *from = now - minutes[which - 6] * 60000;
        return;
    }
    uint8_t iv = which < 2 ? REPORT_IV_DAY : which < 4 ? REPORT_IV_WEEK : REPORT_IV_MONTH;
    int64_t cur = report_interval_start(iv, z, now);
    if (which % 2 == 0) {
        *from = cur;
        *to = report_interval_next(iv, z, cur);
    } else {
        *from = report_interval_start(iv, z, cur - 1);
        *to = cur;
    }
}
