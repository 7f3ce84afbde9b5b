/* Private to report/html.c and report/html_chart.c: writing one HTML page of a report.
 *
 * Everything is appended to one struct cd_buf, whose error is sticky: the writers do not
 * check as they go, report_html() checks once at the end. */
#ifndef CD_REPORT_HTML_WRITE_H
#define CD_REPORT_HTML_WRITE_H

#include "common/buf.h"
#include "report/internal.h"

/* What a value is shown as, beside its text. */
enum report__level {
    REPORT__LEVEL_OK = 0,
    REPORT__LEVEL_WARN,
    REPORT__LEVEL_ALARM,
};

struct report__html
{
    const struct report *r;
    const struct report_page *page;
    struct cd_buf *out;
    const struct report_figure *defs; /* report_figures() */
    /* The threshold of each figure: an index into page->thresholds, -1 = none. */
    int threshold[FIG_COUNT];
};

/* Appends s as it is / formatted (numbers and constant text only: strings from the input go
 * through report__html_esc()) / escaped for text and attribute values alike. */
void report__html_put(struct report__html *h, const char *s);
void report__html_putf(struct report__html *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void report__html_esc(struct report__html *h, const char *s);
/* As report__html_esc(), cut to at most max bytes (at a character boundary) with an
 * ellipsis after a cut. */
void report__html_esc_cut(struct report__html *h, const char *s, size_t max);

/* A value of a figure of unit (enum report_unit) as people read it: "12", "1,234",
 * "40.0%", "8.5s", "1m 05s", "2h 03m", "3.5/h". */
void report__html_format(uint8_t unit, double v, char *out, size_t len);

/* The figure's value in the cell, with the cell's policy into *policy (may be NULL); false:
 * no data. */
bool report__html_value(const struct report__html *h,
                        const struct report_cell *cell,
                        int figure,
                        double *v,
                        struct report_queue_policy *policy);
/* How a figure's value v is shown in a cell of that policy: its threshold's level, or for a
 * service level without one, against the policy's goal. */
enum report__level report__html_level(const struct report__html *h,
                                      int figure,
                                      double v,
                                      const struct report_queue_policy *policy);
/* The CSS class of a level: "", "warn" or "alarm". */
const char *report__html_level_class(enum report__level level);

/* What the report's group is called: "queue", ...; NULL for REPORT_BY_NONE. */
const char *report__html_noun(uint8_t group);
/* A group's value as shown: "(none given)" for "". */
const char *report__html_group_text(const char *group);

/* The charts (html_chart.c) of the cells given, one point each: per interval of one group
 * (by_group false: labelled by interval), or per group (by_group true: labelled by group).
 * Each chart is drawn when a figure it shows is among the page's figures: volumes as bars,
 * the service level against its goal (a line over intervals, bars over groups), and agents'
 * time in state stacked (in groups that have agent time). */
void report__html_charts(struct report__html *h,
                         const struct report_cell *cells,
                         size_t n,
                         bool by_group);

#endif
