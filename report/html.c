/* A report as one self-contained HTML page: the header with the report's metadata, the
 * grand total's key figures, the group totals, each group's intervals (charts and a table),
 * and the glossary. Nothing is loaded from elsewhere and nothing runs: the page is read on
 * screen, saved, mailed or printed (Chromium prints it to PDF) as it is. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "report/html_write.h"

#define COLUMNS_MAX 10 /* figure columns per table: wider ones do not fit A4 landscape */
#define TILES_MAX 8    /* key figures in the summary */

/* Kept short and free of '<', so that the page stays easy to check. */
static const char style[] =
    "@page{size:A4 landscape;margin:10mm}"
    "*{box-sizing:border-box}"
    "body{font:10pt/1.35 system-ui,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;"
    "color:#222;margin:16px;-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "h1{font-size:18pt;margin:0 0 4px}"
    "h2{font-size:13pt;margin:18px 0 6px;break-after:avoid}"
    "p.note{color:#555;margin:2px 0 6px}"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}"
    "dl.meta dt{color:#555}dl.meta dd{margin:0}"
    ".tiles{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0}"
    ".tile{border:1px solid #ccc;border-radius:4px;padding:6px 10px;min-width:130px}"
    ".tile .t{font-size:8.5pt;color:#555}.tile .v{font-size:16pt;font-weight:600}"
    ".tile .n{font-size:8pt;color:#555}"
    "table{border-collapse:collapse;margin:6px 0 10px;font-size:8.5pt}"
    "th,td{border:1px solid #ccc;padding:2px 5px}"
    "th{background:#f0f0f0;font-weight:600;vertical-align:bottom}"
    "td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "th.l,td.l{text-align:left}thead{display:table-header-group}tr{break-inside:avoid}"
    "tr.total td{font-weight:600;border-top:2px solid #888}"
    ".warn{background:#ffe9a8}.alarm{background:#f6b8b0;font-weight:600}"
    "td.nodata{color:#888;text-align:center}"
    "figure.chart{margin:8px 0;break-inside:avoid}"
    "figure.chart svg{width:100%;height:auto;max-height:70mm}"
    "figcaption{font-size:9pt;color:#444}"
    "svg text{font-size:11px;fill:#333}"
    "section.group,section.glossary{break-before:page}"
    "dl.glossary dt{font-weight:600;margin-top:6px}dl.glossary dd{margin:0 0 0 16px}"
    "code{font-size:8.5pt;color:#555}"
    ".swatch{display:inline-block;width:14px;height:12px;border:1px solid #999;"
    "vertical-align:middle}"
    "@media print{body{margin:0}}";

/* The key figures of the summary, in the order shown, when the page shows them. */
static const int key_figures[] = {
    FIG_OFFERED,      FIG_ANSWERED,     FIG_ABANDONED,    FIG_SERVICE_LEVEL,
    FIG_ANSWER_RATE,  FIG_ABANDON_RATE, FIG_ASA,          FIG_AVERAGE_WAIT,
    FIG_LONGEST_WAIT, FIG_AHT,          FIG_HANDLED,      FIG_OFFERS,
    FIG_OCCUPANCY,    FIG_UTILISATION,  FIG_TIME_STAFFED, FIG_CONTACTS_PER_HOUR,
};

static const char *interval_text(uint8_t interval)
{
    switch (interval) {
        case REPORT_IV_15M:
            return "15 minutes";
        case REPORT_IV_30M:
            return "30 minutes";
        case REPORT_IV_60M:
            return "60 minutes";
        case REPORT_IV_DAY:
            return "days";
        case REPORT_IV_WEEK:
            return "weeks, from Monday";
        case REPORT_IV_MONTH:
            return "months";
        case REPORT_IV_TOTAL:
            return "none: the whole period is one interval";
        default:
            return "intervals of the report's own";
    }
}

static bool shows(const struct report__html *h, int figure)
{
    for (size_t i = 0; i < h->page->n_figures; i++) {
        if (h->page->figures[i] == figure) {
            return true;
        }
    }
    return false;
}

/* An instant as the zone's clock read it: "2026-12-07 09:30 +00:00". */
static void local_time(struct report__html *h, int64_t t)
{
    char label[40];
    report__label(REPORT_IV_15M, h->r->spec.zone, t, label, sizeof(label));
    char *sep = strchr(label, 'T');
    if (sep != NULL && strlen(sep) > 6) {
        *sep = ' ';
        memmove(sep + 7, sep + 6, strlen(sep + 6) + 1);
        sep[6] = ' ';
    }
    report__html_esc(h, label);
}

/* An interval's label as a row's head: the local start, its date and time apart. */
static void interval_label(struct report__html *h, const char *label)
{
    char shown[48];
    snprintf(shown, sizeof(shown), "%s", label);
    char *sep = strchr(shown, 'T');
    if (sep != NULL) {
        *sep = ' ';
    }
    report__html_esc(h, shown);
}

static void group_name(struct report__html *h, const char *group)
{
    if (group[0] == '\0') {
        report__html_put(h, "<em>");
        report__html_esc(h, report__html_group_text(group));
        report__html_put(h, "</em>");
        return;
    }
    report__html_esc(h, group);
}

/* ---- Header ------------------------------------------------------------------------------ */

static void title_text(struct report__html *h)
{
    const char *noun = report__html_noun(h->r->spec.group);
    if (h->page->title != NULL && h->page->title[0] != '\0') {
        report__html_esc(h, h->page->title);
    } else if (noun != NULL) {
        report__html_putf(h, "Report by %s", noun);
    } else {
        report__html_put(h, "Contact centre report");
    }
}

static void filters(struct report__html *h)
{
    const struct report *r = h->r;
    bool any = false;
    if (r->queue != NULL && r->queue[0] != '\0') {
        report__html_put(h, "queue ");
        report__html_esc(h, r->queue);
        any = true;
    }
    if (r->spec.channel >= 0) {
        report__html_put(h, any ? ", channel " : "channel ");
        report__html_esc(h, engine_channel_name(r->spec.channel));
        any = true;
    }
    if (r->agent != NULL && r->agent[0] != '\0') {
        report__html_put(h, any ? ", agent " : "agent ");
        report__html_esc(h, r->agent);
        any = true;
    }
    if (!any) {
        report__html_put(h, "none: everything counts");
    }
}

static void header(struct report__html *h)
{
    const struct report_spec *s = &h->r->spec;
    const char *noun = report__html_noun(s->group);
    report__html_put(h, "<header><h1>");
    title_text(h);
    report__html_put(h, "</h1><dl class=\"meta\"><dt>Period</dt><dd>");
    local_time(h, s->from_ms);
    report__html_put(h, " to ");
    local_time(h, s->to_ms);
    report__html_put(h, " (");
    report__html_esc(h, s->zone != NULL ? s->zone->name : "UTC");
    report__html_put(h, ")</dd><dt>Intervals</dt><dd>");
    report__html_put(h, interval_text(s->interval));
    report__html_putf(h, "</dd><dt>Grouped by</dt><dd>%s</dd><dt>Filters</dt><dd>",
                      noun != NULL ? noun : "nothing: one group, all");
    filters(h);
    report__html_put(h, "</dd>");
    if (h->page->made_at != NULL) {
        report__html_put(h, "<dt>Made at</dt><dd>");
        report__html_esc(h, h->page->made_at);
        report__html_put(h, "</dd>");
    }
    if (h->page->node != NULL) {
        report__html_put(h, "<dt>Made by</dt><dd>node ");
        report__html_esc(h, h->page->node);
        if (h->page->as_of_index > 0) {
            report__html_putf(h, ", as of log index %llu",
                              (unsigned long long)h->page->as_of_index);
        }
        report__html_put(h, "</dd>");
    }
    report__html_put(h, "</dl></header>");
}

/* ---- Summary ----------------------------------------------------------------------------- */

static void tile(struct report__html *h, const struct report_cell *cell, int figure)
{
    struct report_queue_policy policy;
    double v;
    char text[48] = "\xe2\x80\x94"; /* an em dash: no data */
    enum report__level level = REPORT__LEVEL_OK;
    if (report__html_value(h, cell, figure, &v, &policy)) {
        report__html_format(h->defs[figure].unit, v, text, sizeof(text));
        level = report__html_level(h, figure, v, &policy);
    }
    report__html_putf(h, "<div class=\"tile %s\"><div class=\"t\">",
                      report__html_level_class(level));
    report__html_esc(h, h->defs[figure].title);
    report__html_put(h, "</div><div class=\"v\">");
    report__html_put(h, text);
    report__html_put(h, "</div>");
    if (figure == FIG_SERVICE_LEVEL && policy.sl_percent > 0) {
        report__html_putf(h, "<div class=\"n\">goal %u%%</div>", (unsigned)policy.sl_percent);
    }
    report__html_put(h, "</div>");
}

static void summary(struct report__html *h)
{
    const struct report_cell *total = report_total(h->r);
    size_t shown = 0;
    report__html_put(h, "<section class=\"summary\"><h2>Summary</h2><p class=\"note\">");
    report__html_put(h, h->r->spec.group == REPORT_BY_NONE
                            ? "Everything the report counts, over the whole period."
                            : "The grand total: everything counted in some group, once, over "
                              "the whole period.");
    report__html_put(h, "</p><div class=\"tiles\">");
    for (size_t i = 0; i < sizeof(key_figures) / sizeof(key_figures[0]); i++) {
        if (shown < TILES_MAX && shows(h, key_figures[i])) {
            tile(h, total, key_figures[i]);
            shown++;
        }
    }
    for (size_t i = 0; shown == 0 && i < h->page->n_figures && i < TILES_MAX; i++) {
        tile(h, total, h->page->figures[i]); /* none of the key figures: the first shown */
    }
    report__html_put(h, "</div></section>");
}

/* ---- Tables ------------------------------------------------------------------------------ */

static void threshold_note(struct report__html *h,
                           int figure,
                           enum report__level level,
                           const struct report_queue_policy *policy)
{
    int t = h->threshold[figure];
    const char *what = level == REPORT__LEVEL_ALARM ? "alarm" : "warning";
    if (t < 0) {
        report__html_putf(h, "%s: below the goal of %u%%", what, (unsigned)policy->sl_percent);
        return;
    }
    const struct report_threshold *th = &h->page->thresholds[t];
    char limit[48];
    report__html_format(h->defs[figure].unit,
                        level == REPORT__LEVEL_ALARM ? th->alarm : th->warn, limit,
                        sizeof(limit));
    report__html_putf(h, "%s: %s %s", what, th->higher_is_better ? "below" : "above", limit);
}

static void value_cell(struct report__html *h, const struct report_cell *cell, int figure)
{
    struct report_queue_policy policy;
    double v;
    char text[48];
    if (!report__html_value(h, cell, figure, &v, &policy)) {
        report__html_put(h, "<td class=\"nodata\" title=\"no data\">\xe2\x80\x94</td>");
        return;
    }
    report__html_format(h->defs[figure].unit, v, text, sizeof(text));
    enum report__level level = report__html_level(h, figure, v, &policy);
    if (level == REPORT__LEVEL_OK) {
        report__html_putf(h, "<td>%s</td>", text);
        return;
    }
    report__html_putf(h, "<td class=\"%s\" title=\"", report__html_level_class(level));
    threshold_note(h, figure, level, &policy);
    report__html_putf(h, "\">%s</td>", text);
}

/* One row: its head (a group or an interval), then the figures [first, end). */
static void row(struct report__html *h,
                const struct report_cell *cell,
                bool by_group,
                const char *head,
                size_t first,
                size_t end)
{
    report__html_put(
        h, head != NULL ? "<tr class=\"total\"><td class=\"l\">" : "<tr><td class=\"l\">");
    if (head != NULL) {
        report__html_put(h, head);
    } else if (by_group) {
        group_name(h, cell->group);
    } else {
        interval_label(h, cell->label);
    }
    report__html_put(h, "</td>");
    for (size_t i = first; i < end; i++) {
        value_cell(h, cell, h->page->figures[i]);
    }
    report__html_put(h, "</tr>");
}

/* The cells as rows (by group or by interval), then a total row when total is not NULL;
 * the figures in tables of at most COLUMNS_MAX columns. */
static void table(struct report__html *h,
                  const struct report_cell *cells,
                  size_t n,
                  bool by_group,
                  const struct report_cell *total,
                  const char *total_head)
{
    const char *noun = report__html_noun(h->r->spec.group);
    size_t n_figures = h->page->n_figures;
    size_t tables = (n_figures + COLUMNS_MAX - 1) / COLUMNS_MAX;
    size_t columns = (n_figures + tables - 1) / tables; /* as even as can be */
    for (size_t first = 0; first < n_figures; first += columns) {
        size_t end = first + columns < n_figures ? first + columns : n_figures;
        report__html_putf(h, "<table><thead><tr><th class=\"l\">%s</th>",
                          by_group ? (noun != NULL ? noun : "group") : "interval");
        for (size_t i = first; i < end; i++) {
            const struct report_figure *d = &h->defs[h->page->figures[i]];
            report__html_put(h, "<th title=\"");
            report__html_esc(h, d->definition);
            report__html_put(h, "\">");
            report__html_esc(h, d->title);
            report__html_put(h, "</th>");
        }
        report__html_put(h, "</tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
            row(h, &cells[i], by_group, NULL, first, end);
        }
        if (total != NULL) {
            row(h, total, by_group, total_head, first, end);
        }
        report__html_put(h, "</tbody></table>");
    }
}

/* ---- Sections ---------------------------------------------------------------------------- */

static void overview(struct report__html *h)
{
    const struct report_cell *totals;
    size_t n = report_group_totals(h->r, &totals);
    const char *noun = report__html_noun(h->r->spec.group);
    bool one_interval = h->r->spec.interval == REPORT_IV_TOTAL;
    report__html_putf(h, "<section class=\"overview\"><h2>By %s</h2>",
                      noun != NULL ? noun : "group");
    report__html_putf(h, "<p class=\"note\">Each %s's total over the whole period%s.</p>",
                      noun != NULL ? noun : "group",
                      noun != NULL ? "; the last row is the grand total" : "");
    if (n == 0) {
        report__html_put(h, "<p>Nothing counted in this period.</p>");
    }
    if (one_interval && n > 0) {
        report__html_charts(h, totals, n, true);
    }
    table(h, totals, n, true, noun != NULL ? report_total(h->r) : NULL, "All");
    report__html_put(h, "</section>");
}

static void policy_note(struct report__html *h, const struct report_cell *total)
{
    static const char *const variants[REPORT_SL_COUNT] = {"sl_offered", "sl_answered_abandoned",
                                                          "sl_short_excluded"};
    struct report_queue_policy p;
    char target[48];
    report_cell_policy(h->r, total, &p);
    if (h->r->spec.group != REPORT_BY_QUEUE) {
        return;
    }
    report__html_format(REPORT_UNIT_SECONDS, (double)p.target_ms / 1000, target,
                        sizeof(target));
    report__html_putf(h, "<p class=\"note\">Service level goal: %u%% answered within %s; ",
                      (unsigned)p.sl_percent, target);
    report__html_putf(h, "its service level is %s.</p>",
                      p.variant < REPORT_SL_COUNT ? variants[p.variant] : "its own");
}

static void group_section(struct report__html *h,
                          const struct report_cell *cells,
                          size_t n,
                          const struct report_cell *total)
{
    const char *noun = report__html_noun(h->r->spec.group);
    report__html_put(h, "<section class=\"group\"><h2>");
    if (noun != NULL) {
        report__html_putf(h, "%c%s ", noun[0] - 'a' + 'A', noun + 1);
        group_name(h, total->group);
    } else {
        report__html_put(h, "All contacts");
    }
    report__html_put(h, "</h2>");
    policy_note(h, total);
    if (n > 0) {
        report__html_charts(h, cells, n, false);
    }
    table(h, cells, n, false, total, "Total");
    report__html_put(h, "</section>");
}

/* Each group's cells are a run of the sorted cells, in the order of the sorted totals. */
static void groups(struct report__html *h)
{
    const struct report_cell *cells, *totals;
    size_t n = report_cells(h->r, &cells);
    size_t n_totals = report_group_totals(h->r, &totals);
    size_t at = 0;
    for (size_t g = 0; g < n_totals; g++) {
        size_t end = at;
        while (end < n && strcmp(cells[end].group, totals[g].group) == 0) {
            end++;
        }
        group_section(h, cells + at, end - at, &totals[g]);
        at = end;
    }
}

static const char *unit_text(uint8_t unit)
{
    switch (unit) {
        case REPORT_UNIT_RATIO:
            return "a share, shown as a percentage";
        case REPORT_UNIT_SECONDS:
            return "a time, shown as 8.5s, 1m 05s or 2h 03m";
        case REPORT_UNIT_PER_HOUR:
            return "a rate per hour";
        default:
            return "a count";
    }
}

static void legend(struct report__html *h)
{
    bool sl = false;
    report__html_put(h,
                     "<h2>Reading this report</h2><ul><li>\xe2\x80\x94 means <b>no data</b>: "
                     "nothing to compute the figure from (nothing to divide by, or no "
                     "sample). It is never shown as 0 or 100%.</li>");
    for (size_t i = 0; i < h->page->n_figures; i++) {
        int f = h->page->figures[i];
        sl =
            sl || (h->threshold[f] < 0 && f >= FIG_SERVICE_LEVEL && f <= FIG_SL_SHORT_EXCLUDED);
    }
    if (sl && (h->r->spec.group == REPORT_BY_QUEUE || h->r->spec.fallback.sl_percent > 0)) {
        report__html_putf(h,
                          "<li><span class=\"swatch warn\"></span> <span class=\"swatch "
                          "alarm\"></span> A service level below its goal is marked as a "
                          "warning, and %d points or more below it as an alarm (%s).</li>",
                          REPORT_HTML_SL_ALARM_POINTS,
                          h->r->spec.group == REPORT_BY_QUEUE
                              ? "each queue's own goal"
                              : "the default goal: a group here may mix queues");
    }
    for (size_t i = 0; i < h->page->n_figures; i++) {
        int f = h->page->figures[i], t = h->threshold[f];
        if (t < 0) {
            continue;
        }
        report__html_put(h,
                         "<li><span class=\"swatch warn\"></span> <span class=\"swatch "
                         "alarm\"></span> ");
        report__html_esc(h, h->defs[f].title);
        report__html_put(h, ": ");
        threshold_note(h, f, REPORT__LEVEL_WARN, NULL);
        report__html_put(h, "; ");
        threshold_note(h, f, REPORT__LEVEL_ALARM, NULL);
        report__html_put(h, ".</li>");
    }
    report__html_put(h,
                     "<li>Times of day are the centre's local time; an interval is named by "
                     "its local start. Most figures count segments: a contact's visit to "
                     "one queue.</li></ul>");
}

static void glossary(struct report__html *h)
{
    report__html_put(h, "<section class=\"glossary\">");
    legend(h);
    report__html_put(h, "<h2>Glossary</h2><dl class=\"glossary\">");
    for (size_t i = 0; i < h->page->n_figures; i++) {
        const struct report_figure *d = &h->defs[h->page->figures[i]];
        report__html_put(h, "<dt>");
        report__html_esc(h, d->title);
        report__html_put(h, " <code>");
        report__html_esc(h, d->name);
        report__html_putf(h, "</code> (%s)</dt><dd>", unit_text(d->unit));
        report__html_esc(h, d->definition);
        report__html_put(h, "</dd>");
    }
    report__html_put(h, "</dl></section>");
}

static void page(struct report__html *h)
{
    report__html_put(h,
                     "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    title_text(h);
    report__html_put(h, "</title><style>");
    report__html_put(h, style);
    report__html_put(h, "</style></head><body>");
    header(h);
    summary(h);
    overview(h);
    if (h->r->spec.interval != REPORT_IV_TOTAL) {
        groups(h);
    }
    glossary(h);
    report__html_put(h, "</body></html>\n");
}

static int thresholds_init(struct report__html *h)
{
    for (int f = 0; f < FIG_COUNT; f++) {
        h->threshold[f] = -1;
    }
    for (size_t i = 0; i < h->page->n_thresholds; i++) {
        const char *name = h->page->thresholds[i].figure;
        int f = name != NULL ? report_figure_find(name) : -1;
        if (f < 0) {
            return CD_EINVAL;
        }
        h->threshold[f] = (int)i;
    }
    return 0;
}

int report_html(const struct report *r, const struct report_page *p, struct cd_buf *out)
{
    struct report__html h = {.r = r, .page = p, .out = out};
    size_t n, start = out->len;
    h.defs = report_figures(&n);
    if (p->n_figures == 0 || thresholds_init(&h) != 0) {
        return CD_EINVAL;
    }
    for (size_t i = 0; i < p->n_figures; i++) {
        if (p->figures[i] < 0 || (size_t)p->figures[i] >= n) {
            return CD_EINVAL;
        }
    }
    page(&h);
    if (out->err != 0) {
        out->len = start;
        return out->err;
    }
    return 0;
}
