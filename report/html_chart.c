/* The charts of a report's HTML page, drawn as inline SVG: one point per cell given (the
 * intervals of one group, or the groups' totals). Cells without data for a figure are gaps,
 * never zeros: a bar is not drawn, a line breaks. */
#include <stdio.h>
#include <string.h>

#include "report/html_write.h"

/* The drawing, in SVG units: the plot sits inside the margins. */
#define WIDTH 960.0
#define HEIGHT 240.0
#define LEFT 70.0   /* the y axis's labels */
#define RIGHT 16.0  /* room for the goal's label */
#define TOP 30.0    /* the legend */
#define BOTTOM 40.0 /* the x axis's labels */
#define X_LABELS 12 /* labels on the x axis at most */

#define GRID "#dddddd"
#define AXIS "#888888"
#define GOAL "#c0392b"

static const char *const level_colours[] = {"#4e79a7", "#e0a400", "#d62728"};

/* Bars of volume, side by side: the first three of these the page shows. */
static const int volume_figures[] = {FIG_OFFERED, FIG_OFFERS, FIG_ANSWERED, FIG_HANDLED,
                                     FIG_ABANDONED};
static const int sl_figures[] = {FIG_SERVICE_LEVEL, FIG_SL_OFFERED, FIG_SL_ANSWERED_ABANDONED,
                                 FIG_SL_SHORT_EXCLUDED};
/* Agents' time, stacked. */
static const int time_figures[] = {FIG_TIME_BUSY, FIG_TIME_WRAPUP, FIG_TIME_AVAILABLE,
                                   FIG_TIME_AWAY};
#define BAR_MAX 48.0 /* the widest bar */

/* Steps of a time axis, in seconds. */
static const double time_steps[] = {1,   2,   5,    10,   15,   30,    60,    120,   300,
                                    600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};

struct chart
{
    struct report__html *h;
    const struct report_cell *cells;
    size_t n;
    bool by_group; /* points are groups, else intervals of one group */
    bool same_day; /* intervals of one local day: labelled by time of day alone */
    double top;    /* the value at the top of the plot */
};

/* Each figure's colour wherever it is drawn: volumes blue, green and red; agents' states
 * busy blue, wrap-up orange, available green, away grey. */
static const char *colour_of(int figure)
{
    switch (figure) {
        case FIG_ANSWERED:
        case FIG_TIME_AVAILABLE:
            return "#59a14f";
        case FIG_HANDLED:
            return "#76b7b2";
        case FIG_ABANDONED:
            return "#e15759";
        case FIG_TIME_WRAPUP:
            return "#f28e2b";
        case FIG_TIME_AWAY:
            return "#bab0ac";
        default:
            return "#4e79a7";
    }
}

static double x_of(const struct chart *c, double i)
{
    return LEFT + (WIDTH - LEFT - RIGHT) * (i + 0.5) / (double)c->n;
}

static double y_of(const struct chart *c, double v)
{
    if (v > c->top) {
        v = c->top;
    }
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (v < 0 ? 0 : v) / c->top);
}

/* A step of 1, 2 or 5 times a power of ten (counts: at least 1), or a round time, that
 * cuts max into at most about four parts. */
static double step_for(double max, uint8_t unit)
{
    double raw = max / 4, p = 1;
    if (unit == REPORT_UNIT_SECONDS) {
        for (size_t i = 0; i < sizeof(time_steps) / sizeof(time_steps[0]); i++) {
            if (time_steps[i] >= raw) {
                return time_steps[i];
            }
        }
        return 86400 * step_for(max / 86400, REPORT_UNIT_COUNT);
    }
    while (p * 10 <= raw) {
        p *= 10;
    }
    while (p > raw && p > 1e-6) {
        p /= 10;
    }
    double step = raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
    return unit == REPORT_UNIT_COUNT && step < 1 ? 1 : step;
}

static void axis_label(struct chart *c, double v, uint8_t unit)
{
    char text[48];
    if (unit == REPORT_UNIT_RATIO) {
        snprintf(text, sizeof(text), "%.0f%%", v * 100);
    } else {
        report__html_format(unit, v, text, sizeof(text));
    }
    report__html_putf(c->h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                      LEFT - 6, y_of(c, v) + 4, text);
}

/* The grid and its labels, from 0 to a round value at or above max. */
static void y_axis(struct chart *c, double max, uint8_t unit)
{
    double step = unit == REPORT_UNIT_RATIO ? 0.2 : step_for(max > 0 ? max : 1, unit);
    int steps = unit == REPORT_UNIT_RATIO ? 5 : 1;
    while (unit != REPORT_UNIT_RATIO && step * steps < max && steps < 100) {
        steps++;
    }
    c->top = step * steps;
    for (int i = 0; i <= steps; i++) {
        double y = y_of(c, step * i);
        report__html_putf(c->h,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                          "stroke=\"%s\"/>",
                          LEFT, y, WIDTH - RIGHT, y, i == 0 ? AXIS : GRID);
        axis_label(c, step * i, unit);
    }
}

/* A point's name: its group, or its interval's local start, shortened. */
static void point_name(struct chart *c, size_t i, bool shorten)
{
    const char *label = c->cells[i].label;
    char text[48];
    if (c->by_group) {
        report__html_esc_cut(c->h, report__html_group_text(c->cells[i].group),
                             shorten ? 14 : 64);
        return;
    }
    if (!shorten || strlen(label) < 16 || label[10] != 'T') {
        report__html_esc(c->h, label);
        return;
    }
    if (c->same_day) {
        snprintf(text, sizeof(text), "%.5s", label + 11);
    } else {
        snprintf(text, sizeof(text), "%.5s %.5s", label + 5, label + 11);
    }
    report__html_esc(c->h, text);
}

static void x_axis(struct chart *c)
{
    size_t every = (c->n + X_LABELS - 1) / X_LABELS;
    const char *first = c->cells[0].label, *last = c->cells[c->n - 1].label;
    c->same_day = !c->by_group && strncmp(first, last, 10) == 0;
    for (size_t i = 0; i < c->n; i += every) {
        report__html_putf(c->h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                          x_of(c, (double)i), HEIGHT - BOTTOM + 16);
        point_name(c, i, true);
        report__html_put(c->h, "</text>");
    }
}

static void legend(struct chart *c, const int *figures, size_t k)
{
    double x = LEFT;
    for (size_t s = 0; s < k; s++) {
        const char *title = c->h->defs[figures[s]].title;
        report__html_putf(c->h,
                          "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                          "<text x=\"%.1f\" y=\"18\">",
                          x, colour_of(figures[s]), x + 16);
        report__html_esc(c->h, title);
        report__html_put(c->h, "</text>");
        x += 32 + 6.5 * (double)strlen(title);
    }
}

static void open_chart(struct chart *c, const char *what, const char *figure_title)
{
    const char *noun = report__html_noun(c->h->r->spec.group);
    report__html_putf(c->h,
                      "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
                      "viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>",
                      WIDTH, HEIGHT);
    report__html_esc(c->h, figure_title != NULL ? figure_title : what);
    report__html_putf(c->h, " per %s</title>",
                      c->by_group ? (noun != NULL ? noun : "group") : "interval");
}

static void close_chart(struct chart *c, const char *caption)
{
    report__html_put(c->h, "</svg><figcaption>");
    report__html_put(c->h, caption);
    report__html_put(c->h, "</figcaption></figure>");
}

/* A bar with its value as a tooltip. */
static void bar(struct chart *c,
                size_t i,
                int figure,
                double x,
                double w,
                double from,
                double v,
                const char *colour)
{
    char text[48];
    double y = y_of(c, from + v);
    report__html_format(c->h->defs[figure].unit, v, text, sizeof(text));
    report__html_putf(c->h,
                      "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\">"
                      "<title>",
                      x, y, w, y_of(c, from) - y, colour);
    point_name(c, i, false);
    report__html_put(c->h, ": ");
    report__html_esc(c->h, c->h->defs[figure].title);
    report__html_putf(c->h, " %s</title></rect>", text);
}

static double value_or_0(struct chart *c, size_t i, int figure)
{
    double v;
    return report__html_value(c->h, &c->cells[i], figure, &v, NULL) && v > 0 ? v : 0;
}

/* Bars of the figures, side by side or stacked, in one unit. */
static void bars(struct chart *c, const int *figures, size_t k, bool stacked)
{
    double max = 0, slot = (WIDTH - LEFT - RIGHT) / (double)c->n;
    for (size_t i = 0; i < c->n; i++) {
        double sum = 0;
        for (size_t s = 0; s < k; s++) {
            double v = value_or_0(c, i, figures[s]);
            sum = stacked ? sum + v : (v > sum ? v : sum);
        }
        max = sum > max ? sum : max;
    }
    y_axis(c, max, c->h->defs[figures[0]].unit);
    x_axis(c);
    legend(c, figures, k);
    size_t side_by_side = stacked ? 1 : k;
    double w = slot * 0.8 / (double)side_by_side;
    w = w > BAR_MAX ? BAR_MAX : w;
    for (size_t i = 0; i < c->n; i++) {
        double base = 0;
        double x0 = LEFT + slot * (double)i + (slot - w * (double)side_by_side) / 2;
        for (size_t s = 0; s < k; s++) {
            double v = value_or_0(c, i, figures[s]);
            double x = x0 + (stacked ? 0 : w * (double)s);
            if (v > 0) {
                bar(c, i, figures[s], x, w, base, v, colour_of(figures[s]));
            }
            base += stacked ? v : 0;
        }
    }
}

static void goal_line(struct chart *c, double x1, double x2, unsigned percent, bool label)
{
    double y = y_of(c, percent / 100.0);
    report__html_putf(c->h,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                      "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>",
                      x1, y, x2, y, GOAL);
    if (label) {
        report__html_putf(c->h,
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"%s\">goal "
                          "%u%%</text>",
                          x2, y - 4, GOAL, percent);
    }
}

/* Over intervals: a line, broken where there is no data, with the goal across. */
static void sl_line(struct chart *c, int figure)
{
    struct report_queue_policy policy;
    double v;
    bool open = false;
    for (size_t i = 0; i < c->n; i++) {
        bool data = report__html_value(c->h, &c->cells[i], figure, &v, &policy);
        if (data && !open) {
            report__html_put(c->h,
                             "<polyline fill=\"none\" stroke=\"#4e79a7\" "
                             "stroke-width=\"2\" points=\"");
        }
        if (data) {
            report__html_putf(c->h, "%.1f,%.1f ", x_of(c, (double)i), y_of(c, v));
        } else if (open) {
            report__html_put(c->h, "\"/>");
        }
        open = data;
    }
    if (open) {
        report__html_put(c->h, "\"/>");
    }
    for (size_t i = 0; i < c->n; i++) {
        if (report__html_value(c->h, &c->cells[i], figure, &v, &policy)) {
            enum report__level level = report__html_level(c->h, figure, v, &policy);
            report__html_putf(
                c->h, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"><title>",
                x_of(c, (double)i), y_of(c, v), c->n > 120 ? 1.5 : 3.5, level_colours[level]);
            point_name(c, i, false);
            report__html_putf(c->h, ": %.1f%%</title></circle>", v * 100);
        }
    }
    report_cell_policy(c->h->r, &c->cells[0], &policy);
    if (policy.sl_percent > 0) {
        goal_line(c, LEFT, WIDTH - RIGHT, policy.sl_percent, true);
    }
}

/* Over groups: a bar each, coloured against its own goal, which is marked over it. */
static void sl_bars(struct chart *c, int figure)
{
    double slot = (WIDTH - LEFT - RIGHT) / (double)c->n;
    for (size_t i = 0; i < c->n; i++) {
        struct report_queue_policy policy;
        double v, w = slot * 0.6 > BAR_MAX ? BAR_MAX : slot * 0.6;
        double x = LEFT + slot * (double)i + (slot - w) / 2;
        if (report__html_value(c->h, &c->cells[i], figure, &v, &policy) && v > 0) {
            enum report__level level = report__html_level(c->h, figure, v, &policy);
            bar(c, i, figure, x, w, 0, v, level_colours[level]);
        }
        if (policy.sl_percent > 0) {
            goal_line(c, x - w / 4, x + w * 1.25, policy.sl_percent, c->n <= 8);
        }
    }
}

static void sl_chart(struct chart *c, int figure)
{
    const char *title = c->h->defs[figure].title;
    open_chart(c, NULL, title);
    y_axis(c, 1, REPORT_UNIT_RATIO);
    x_axis(c);
    legend(c, &figure, 1);
    if (c->by_group) {
        sl_bars(c, figure);
    } else {
        sl_line(c, figure);
    }
    close_chart(c, c->by_group ? "The service level of each, against its goal (dashed); "
                                 "amber: below the goal, red: far below it."
                               : "The service level of each interval, against the goal "
                                 "(dashed); amber: below the goal, red: far below it.");
}

/* The figures of list the page shows, in the list's order, at most max of them. */
static size_t shown(struct report__html *h, const int *list, size_t n, int *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        for (size_t j = 0; j < h->page->n_figures; j++) {
            if (h->page->figures[j] == list[i]) {
                out[k++] = list[i];
                break;
            }
        }
    }
    return k;
}

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

void report__html_charts(struct report__html *h,
                         const struct report_cell *cells,
                         size_t n,
                         bool by_group)
{
    struct chart c = {.h = h, .cells = cells, .n = n, .by_group = by_group};
    int figures[4];
    uint8_t group = h->r->spec.group;
    size_t k = shown(h, volume_figures, COUNT_OF(volume_figures), figures, 3);
    if (n == 0) {
        return;
    }
    if (k > 0) {
        open_chart(&c, "Volume", NULL);
        bars(&c, figures, k, false);
        close_chart(&c, "Volume: each figure's count side by side.");
    }
    if (shown(h, sl_figures, COUNT_OF(sl_figures), figures, 1) == 1) {
        sl_chart(&c, figures[0]);
    }
    k = shown(h, time_figures, COUNT_OF(time_figures), figures, 4);
    if (k > 0 &&
        (group == REPORT_BY_AGENT || group == REPORT_BY_SITE || group == REPORT_BY_NONE)) {
        open_chart(&c, "Agents' time in state", NULL);
        bars(&c, figures, k, true);
        close_chart(&c, "Agents' time in each state, stacked.");
    }
}
