/* The words reports take (intervals, groupings, periods, formats, channels, schedules),
 * shared by GET /v1/reports and report definitions. */
#include <stdio.h>
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
