/* Reports: GET /v1/reports (figures by group and interval, as JSON, CSV, an HTML page or a
 * PDF of that page) and GET /v1/reports/contacts (drill-down: the contacts one cell counts).
 *
 * A report is made in two halves. On the loop, after the read barrier: the live state (the
 * contacts still in the engine, and each agent's current state so far) goes into the
 * report, and with it the applied index; the model's policies, sites and zone are copied
 * for the other half. In libuv's thread pool: the history rows (contacts' and agents'
 * spans) written up to that index are read and counted, and the answer is written out. So
 * the node's loop never waits on a scan, and nothing is counted twice or missed: a contact
 * that finished after the index is live in the first half and left out of the second.
 *
 * A node still copying history it missed (it caught up by a snapshot) answers 503: its
 * figures would be short.
 *
 * The HTML page is made in the pool like CSV (report_html()); a PDF is that page printed by
 * Chromium (pdf.c) once the pool is done, in one of a few places reserved before the report
 * is made, so that a busy node refuses at once rather than after the work. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "report/report.h"
#include "storage/storage.h"

#define REPORTS_RUNNING 2 /* reports made at once; more are refused (503) */
#define REPORT_CELLS_MAX 20000
#define DRILL_MAX 10000 /* contacts a drill-down lists at most */

struct policy_entry
{
    char queue[ENGINE_NAME_MAX];
    struct report_queue_policy p;
};

struct site_entry
{
    char agent[ENGINE_NAME_MAX];
    char site[ENGINE_SITE_MAX];
};

enum report_format { FORMAT_JSON = 0, FORMAT_CSV, FORMAT_HTML, FORMAT_PDF };

struct report_job
{
    uv_work_t work;
    struct api *api;
    struct http_exchange *x;
    /* what was asked */
    struct report_spec spec;
    char queue[ENGINE_NAME_MAX], agent[ENGINE_NAME_MAX];
    uint8_t format;
    int figures[128];
    size_t n_figures;
    bool drill;
    char drill_group[ENGINE_VALUE_MAX];
    int64_t drill_start; /* INT64_MIN: any interval */
    int drill_figure;    /* -1: any */
    /* copies for the pool thread */
    struct policy_entry *policies;
    size_t n_policies;
    struct site_entry *sites;
    size_t n_sites;
    struct engine_zone zone;
    bool has_zone;
    uint64_t max_index;
    char node[ENGINE_NAME_MAX];
    /* the work */
    struct report *r;
    struct report_buf buf;
    json_t *drilled; /* drill-down: the contacts found */
    size_t n_drilled;
    bool drill_more;
    int rc;
    char err[160];
    char *body; /* the answer, made in the pool */
    size_t body_len;
    bool pdf_place; /* holds a place to print (api__pdf_reserve()) */
    /* from a report definition (?definition=): the page's title and colour thresholds */
    char title[256];
    struct report_threshold thresholds[32];
    char threshold_figures[32][64];
    size_t n_thresholds;
    /* Made for the node itself (a scheduled delivery) rather than a request: the answer
     * goes to done (x is NULL). */
    api__report_done done;
    void *done_data;
    /* what parse_job() found wrong, for the answer */
    int estatus;
    char ecode[16];
    char emsg[300];
};

__attribute__((format(printf, 4, 5))) static void job_error(struct report_job *j,
                                                            int status,
                                                            const char *code,
                                                            const char *fmt,
                                                            ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->emsg, sizeof(j->emsg), fmt, ap);
    va_end(ap);
    j->estatus = status;
    snprintf(j->ecode, sizeof(j->ecode), "%s", code);
}

/* A query parameter, or none when the report is made for the node itself (req NULL). */
static int query(const struct http_request *req, const char *key, char *v, size_t len)
{
    return req != NULL ? http_query_get(req, key, v, len) : -1;
}

/* ---- copies of the model ---------------------------------------------------------------- */

/* The model's formula as the report's variant. */
static uint8_t variant_of(uint8_t formula)
{
    switch (formula) {
        case ENGINE_SL_OFFERED:
            return REPORT_SL_OFFERED;
        case ENGINE_SL_SHORT_EXCLUDED:
            return REPORT_SL_SHORT_EXCLUDED;
        default:
            return REPORT_SL_ANSWERED_ABANDONED;
    }
}

static int by_queue(const void *a, const void *b)
{
    return strcmp(((const struct policy_entry *)a)->queue,
                  ((const struct policy_entry *)b)->queue);
}

static int by_agent(const void *a, const void *b)
{
    return strcmp(((const struct site_entry *)a)->agent, ((const struct site_entry *)b)->agent);
}

/* bsearch() comparators of a name against an entry: called for every row of a report, so
 * the name is not copied into a key first. */
static int queue_vs(const void *name, const void *entry)
{
    return strcmp(name, ((const struct policy_entry *)entry)->queue);
}

static int agent_vs(const void *name, const void *entry)
{
    return strcmp(name, ((const struct site_entry *)entry)->agent);
}

static bool policy_of(void *data, const char *queue, struct report_queue_policy *out)
{
    struct report_job *j = data;
    const struct policy_entry *p =
        j->n_policies ? bsearch(queue, j->policies, j->n_policies, sizeof(*p), queue_vs) : NULL;
    if (p != NULL) {
        *out = p->p;
    }
    return p != NULL;
}

static const char *site_of(void *data, const char *agent)
{
    struct report_job *j = data;
    const struct site_entry *s =
        j->n_sites ? bsearch(agent, j->sites, j->n_sites, sizeof(*s), agent_vs) : NULL;
    return s != NULL ? s->site : "";
}

static struct report_queue_policy policy_from(const struct engine_queue *q)
{
    return (struct report_queue_policy){
        .target_ms = (int64_t)q->sl_target_s * 1000,
        .sl_percent = q->sl_percent,
        .variant = variant_of(q->sl_formula),
        .short_abandon_ms = (int64_t)q->short_abandon_s * 1000,
    };
}

/* The model's parts the pool thread reads: copied, since a model install may replace them
 * while it runs. */
static int copy_model(struct report_job *j, const struct engine *e)
{
    const struct engine_model *m = engine_model(e);
    j->spec.fallback = (struct report_queue_policy){
        .target_ms = 20000, .variant = REPORT_SL_ANSWERED_ABANDONED, .short_abandon_ms = 5000};
    if (m == NULL) {
        return 0;
    }
    j->policies = calloc(m->n_queues ? m->n_queues : 1, sizeof(*j->policies));
    j->sites = calloc(m->n_agents ? m->n_agents : 1, sizeof(*j->sites));
    if (j->policies == NULL || j->sites == NULL) {
        return CD_ENOMEM;
    }
    for (uint32_t i = 0; i < m->n_queues; i++) {
        snprintf(j->policies[i].queue, sizeof(j->policies[i].queue), "%s", m->queues[i].name);
        j->policies[i].p = policy_from(&m->queues[i]);
    }
    j->n_policies = m->n_queues;
    qsort(j->policies, j->n_policies, sizeof(*j->policies), by_queue);
    for (uint32_t i = 0; i < m->n_agents; i++) {
        snprintf(j->sites[i].agent, sizeof(j->sites[i].agent), "%s", m->agents[i].name);
        snprintf(j->sites[i].site, sizeof(j->sites[i].site), "%s", m->agents[i].site);
    }
    j->n_sites = m->n_agents;
    qsort(j->sites, j->n_sites, sizeof(*j->sites), by_agent);
    const struct engine_zone *z = api__centre_zone(m);
    if (z != NULL) {
        j->zone = *z;
        j->zone.transitions = NULL;
        if (z->n_transitions > 0) {
            j->zone.transitions = malloc(z->n_transitions * sizeof(*z->transitions));
            if (j->zone.transitions == NULL) {
                return CD_ENOMEM;
            }
            memcpy(j->zone.transitions, z->transitions,
                   z->n_transitions * sizeof(*z->transitions));
        }
        j->has_zone = true;
    }
    return 0;
}

static void job_free(struct report_job *j)
{
    if (j == NULL) {
        return;
    }
    report_free(j->r);
    free(j->policies);
    free(j->sites);
    free(j->zone.transitions);
    json_decref(j->drilled);
    free(j->body);
    if (j->pdf_place) {
        api__pdf_release(j->api);
    }
    free(j);
}

/* ---- feeding ------------------------------------------------------------------------------
 */

/* Adds c to the report, or (drill-down) to the list when it counts in the cell asked. */
static int take(struct report_job *j, const struct report_contact *c)
{
    if (!j->drill) {
        return report_add_contact(j->r, c);
    }
    if (!report_counts(j->r, c, j->drill_group, j->drill_start, j->drill_figure)) {
        return 0;
    }
    if (j->n_drilled == DRILL_MAX) {
        j->drill_more = true;
        return 1;
    }
    j->n_drilled++;
    json_t *segs = json_array();
    for (uint32_t i = 0; i < c->n_segments; i++) {
        const struct report_segment *s = &c->segments[i];
        json_array_append_new(segs, json_pack("{s:s,s:I,s:I,s:s}", "queue", s->queue, "entered",
                                              (json_int_t)s->entered, "left",
                                              (json_int_t)s->left, "agent", s->agent));
    }
    json_array_append_new(
        j->drilled,
        json_pack("{s:I,s:s,s:s,s:b,s:o}", "id", (json_int_t)c->id, "channel",
                  engine_channel_name(c->channel), "state",
                  engine_contact_state_name(c->outcome), "live", c->live, "segments", segs));
    return 0;
}

struct live
{
    struct report_job *j;
    const struct engine *e;
    int rc;
};

static int live_contact(void *data, const struct engine_contact_info *ci)
{
    struct live *l = data;
    struct report_job *j = l->j;
    struct engine_path p;
    struct report_contact c;
    if (engine_path_get(l->e, ci->id, &p) != 0) {
        return 0;
    }
    struct report_facts f = {.id = ci->id,
                             .channel = ci->channel,
                             .outcome = ci->state,
                             .callback = ci->callback,
                             .live = true,
                             .disposition = "",
                             .queue = ci->queue,
                             .agent = ci->agent,
                             .arrived = ci->arrived,
                             .answered = ci->answered,
                             .now = j->spec.now_ms};
    if (report_contact_build(&f, p.data, p.len, site_of, j, &j->buf, &c) != 0) {
        return 0;
    }
    int rc = take(j, &c);
    l->rc = rc < 0 ? rc : 0;
    return rc;
}

/* The live half, on the loop. */
static int feed_live(struct report_job *j, const struct engine *e)
{
    struct live l = {j, e, 0};
    engine_contacts_foreach(e, live_contact, &l);
    if (l.rc != 0 || j->drill) {
        return l.rc;
    }
    struct engine_agent_info a;
    for (size_t i = 0; engine_agent_name(e, i) != NULL; i++) {
        if (engine_agent_get(e, engine_agent_name(e, i), &a) != 0 ||
            a.state == ENGINE_AGENT_OFFLINE || a.state_since <= 0 ||
            a.state_since >= j->spec.now_ms) {
            continue;
        }
        struct report_span s = {.agent = a.name,
                                .site = a.site,
                                .state = a.state,
                                .reason = a.state == ENGINE_AGENT_AWAY ? a.reason : "",
                                .from = a.state_since,
                                .to = j->spec.now_ms};
        int rc = report_add_span(j->r, &s);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int row_contact(void *data, const struct storage_row *row)
{
    struct report_job *j = data;
    struct report_contact c;
    struct report_facts f = {.id = row->contact,
                             .channel = row->channel,
                             .outcome = row->outcome,
                             .callback = row->callback != 0,
                             .disposition = row->disposition,
                             .queue = row->queue,
                             .agent = row->agent,
                             .arrived = row->arrived,
                             .answered = row->answered,
                             .ended = row->ended,
                             .completed = row->completed};
    if (report_contact_build(&f, row->path, row->path_len, site_of, j, &j->buf, &c) != 0) {
        return CD_ECORRUPT;
    }
    return take(j, &c);
}

static int row_span(void *data, const struct storage_span *sp)
{
    struct report_job *j = data;
    if (j->drill) {
        return 0;
    }
    struct report_span s = {.agent = sp->agent,
                            .site = sp->site,
                            .state = sp->state,
                            .reason = sp->reason,
                            .from = sp->from,
                            .to = sp->to};
    return report_add_span(j->r, &s);
}

/* ---- writing the answer ----------------------------------------------------------------- */

static json_t *value_json(const struct report_job *j, const struct report_cell *cell, int fig)
{
    struct report_queue_policy p;
    double v;
    report_cell_policy(j->r, cell, &p);
    if (!report_value(&cell->sums, &p, fig, &v)) {
        return json_null();
    }
    size_t n;
    const struct report_figure *defs = report_figures(&n);
    if (defs[fig].unit == REPORT_UNIT_COUNT) {
        return json_integer((json_int_t)v);
    }
    return json_real(v);
}

static json_t *cell_json(const struct report_job *j, const struct report_cell *cell)
{
    json_t *values = json_object();
    for (size_t i = 0; i < j->n_figures; i++) {
        size_t n;
        json_object_set_new(values, report_figures(&n)[j->figures[i]].name,
                            value_json(j, cell, j->figures[i]));
    }
    return json_pack("{s:s,s:s,s:I,s:I,s:o}", "group", cell->group, "interval", cell->label,
                     "start", (json_int_t)cell->start_ms, "end", (json_int_t)cell->end_ms,
                     "values", values);
}

static const char *const unit_names[] = {"count", "ratio", "seconds", "per_hour"};

static json_t *glossary_json(const struct report_job *j)
{
    json_t *g = json_array();
    size_t n;
    const struct report_figure *defs = report_figures(&n);
    for (size_t i = 0; i < j->n_figures; i++) {
        const struct report_figure *d = &defs[j->figures[i]];
        json_array_append_new(
            g, json_pack("{s:s,s:s,s:s,s:s}", "name", d->name, "title", d->title, "unit",
                         unit_names[d->unit], "definition", d->definition));
    }
    return g;
}

static json_t *report_json(const struct report_job *j)
{
    const struct report_cell *cells;
    size_t n = report_cells(j->r, &cells);
    json_t *rows = json_array(), *totals = json_array(), *figs = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(rows, cell_json(j, &cells[i]));
    }
    n = report_group_totals(j->r, &cells);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(totals, cell_json(j, &cells[i]));
    }
    size_t nf;
    for (size_t i = 0; i < j->n_figures; i++) {
        json_array_append_new(figs, json_string(report_figures(&nf)[j->figures[i]].name));
    }
    json_t *about = json_pack(
        "{s:I,s:I,s:s,s:s,s:s,s:I,s:I,s:s}", "from", (json_int_t)j->spec.from_ms, "to",
        (json_int_t)j->spec.to_ms, "zone", j->has_zone ? j->zone.name : "UTC", "interval",
        api__report_interval_name(j->spec.interval), "group",
        api__report_group_name(j->spec.group), "as_of_index", (json_int_t)j->max_index,
        "made_at", (json_int_t)j->spec.now_ms, "node", j->node);
    json_t *filters = json_object();
    if (j->queue[0]) {
        json_object_set_new(filters, "queue", json_string(j->queue));
    }
    if (j->agent[0]) {
        json_object_set_new(filters, "agent", json_string(j->agent));
    }
    if (j->spec.channel >= 0) {
        json_object_set_new(filters, "channel",
                            json_string(engine_channel_name(j->spec.channel)));
    }
    json_object_set_new(about, "filters", filters);
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "report", about, "figures", figs, "rows",
                     rows, "totals", totals, "total", cell_json(j, report_total(j->r)),
                     "glossary", glossary_json(j));
}

/* ---- CSV ----------------------------------------------------------------------------------
 */

static void csv_field(struct cd_buf *b, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL || (s[0] != 0 && strchr("=+-@", s[0]) != NULL);
    if (!quote) {
        cd_buf_put(b, s, strlen(s));
        return;
    }
    /* quoted; a leading formula character is defused with an apostrophe */
    cd_buf_put(b, "\"", 1);
    if (strchr("=+-@", s[0]) != NULL && s[0] != 0) {
        cd_buf_put(b, "'", 1);
    }
    for (const char *p = s; *p; p++) {
        cd_buf_put(b, p, 1);
        if (*p == '"') {
            cd_buf_put(b, "\"", 1);
        }
    }
    cd_buf_put(b, "\"", 1);
}

static void csv_cell(struct cd_buf *b,
                     const struct report_job *j,
                     const struct report_cell *cell)
{
    char num[64];
    csv_field(b, cell->group);
    cd_buf_put(b, ",", 1);
    csv_field(b, cell->label);
    snprintf(num, sizeof(num), ",%lld,%lld", (long long)cell->start_ms,
             (long long)cell->end_ms);
    cd_buf_put(b, num, strlen(num));
    size_t n;
    const struct report_figure *defs = report_figures(&n);
    for (size_t i = 0; i < j->n_figures; i++) {
        struct report_queue_policy p;
        double v;
        report_cell_policy(j->r, cell, &p);
        cd_buf_put(b, ",", 1);
        if (!report_value(&cell->sums, &p, j->figures[i], &v)) {
            continue; /* no data: an empty field */
        }
        uint8_t unit = defs[j->figures[i]].unit;
        snprintf(num, sizeof(num),
                 unit == REPORT_UNIT_COUNT   ? "%.0f"
                 : unit == REPORT_UNIT_RATIO ? "%.4f"
                                             : "%.1f",
                 v);
        cd_buf_put(b, num, strlen(num));
    }
    cd_buf_put(b, "\r\n", 2);
}

static void report_csv(const struct report_job *j, struct cd_buf *b)
{
    size_t n;
    const struct report_figure *defs = report_figures(&n);
    cd_buf_put(b, "group,interval,start,end", 24);
    for (size_t i = 0; i < j->n_figures; i++) {
        cd_buf_put(b, ",", 1);
        csv_field(b, defs[j->figures[i]].name);
    }
    cd_buf_put(b, "\r\n", 2);
    const struct report_cell *cells;
    n = report_cells(j->r, &cells);
    for (size_t i = 0; i < n; i++) {
        csv_cell(b, j, &cells[i]);
    }
    n = report_group_totals(j->r, &cells);
    for (size_t i = 0; i < n; i++) {
        csv_cell(b, j, &cells[i]);
    }
    csv_cell(b, j, report_total(j->r));
    /* the glossary, after an empty line: what each column means */
    cd_buf_put(b, "\r\nfigure,title,unit,definition\r\n", 32);
    for (size_t i = 0; i < j->n_figures; i++) {
        const struct report_figure *d = &defs[j->figures[i]];
        csv_field(b, d->name);
        cd_buf_put(b, ",", 1);
        csv_field(b, d->title);
        cd_buf_put(b, ",", 1);
        csv_field(b, unit_names[d->unit]);
        cd_buf_put(b, ",", 1);
        csv_field(b, d->definition);
        cd_buf_put(b, "\r\n", 2);
    }
}

/* ---- HTML ---------------------------------------------------------------------------------
 */

/* When the report was made, as the centre's clock read it: "2026-12-07 10:00:05 +00:00
 * (Europe/London)". */
static void made_at(const struct report_job *j, char *out, size_t len)
{
    int64_t s = j->spec.now_ms / 1000;
    int32_t off = j->has_zone ? engine_zone_offset(&j->zone, s) : 0;
    time_t local = (time_t)(s + off);
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&local, &tm) != NULL) {
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    }
    int a = off < 0 ? -off : off;
    snprintf(out, len, "%s %c%02d:%02d (%s)", when, off < 0 ? '-' : '+', a / 3600, a / 60 % 60,
             j->has_zone ? j->zone.name : "UTC");
}

static void report_page(const struct report_job *j, struct cd_buf *b)
{
    char when[128];
    made_at(j, when, sizeof(when));
    struct report_page page = {.title = j->title,
                               .thresholds = j->thresholds,
                               .n_thresholds = j->n_thresholds,
                               .made_at = when,
                               .node = j->node,
                               .as_of_index = j->max_index,
                               .figures = j->figures,
                               .n_figures = j->n_figures};
    int rc = report_html(j->r, &page, b);
    if (rc != 0 && b->err == 0) {
        b->err = rc;
    }
}

/* ---- the pool half ------------------------------------------------------------------------
 */

static void work(uv_work_t *w)
{
    struct report_job *j = w->data;
    struct storage *s = cluster_storage(j->api->cluster);
    j->rc = storage_report_scan(s, j->spec.from_ms, INT64_MAX, j->max_index, row_contact,
                                row_span, j);
    if (j->rc == 1) {
        j->rc = 0; /* a drill-down that found enough */
    }
    if (j->rc != 0) {
        return;
    }
    if (j->drill) {
        json_t *body = json_pack("{s:O,s:I,s:b}", "items", j->drilled, "total",
                                 (json_int_t)j->n_drilled, "more", j->drill_more);
        j->body = json_dumps(body, JSON_COMPACT);
        json_decref(body);
    } else if (j->format != FORMAT_JSON) {
        struct cd_buf b;
        cd_buf_init(&b);
        if (j->format == FORMAT_CSV) {
            report_csv(j, &b);
        } else {
            report_page(j, &b);
        }
        if (b.err == 0) {
            j->body = malloc(b.len + 1);
            if (j->body != NULL) {
                memcpy(j->body, b.data, b.len);
                j->body_len = b.len;
            }
        }
        cd_buf_close(&b);
    } else {
        json_t *body = report_json(j);
        j->body = json_dumps(body, JSON_COMPACT);
        json_decref(body);
    }
    if (j->body == NULL) {
        j->rc = CD_ENOMEM;
    } else if (j->body_len == 0) {
        j->body_len = strlen(j->body);
    }
}

static const char *content_type(const struct report_job *j)
{
    switch (j->drill ? FORMAT_JSON : j->format) {
        case FORMAT_CSV:
            return "text/csv; charset=utf-8";
        case FORMAT_HTML:
            return "text/html; charset=utf-8";
        default:
            return "application/json";
    }
}

/* A page of ours, which runs nothing and loads nothing, may not start to either. */
#define PAGE_HEADERS                                                             \
    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n" \
    "X-Content-Type-Options: nosniff\r\n"
#define PDF_HEADERS "Content-Disposition: inline; filename=\"report.pdf\"\r\n"

/* ---- answers: to the request, or to done ----------------------------------------------- */

__attribute__((format(printf, 5, 6))) static void answer_error(struct report_job *j,
                                                               int status,
                                                               const char *code,
                                                               int cd,
                                                               const char *fmt,
                                                               ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (j->done != NULL) {
        j->done(j->done_data, cd, msg, NULL, NULL, 0);
    } else {
        http_reply_error(j->x, status, code, "%s", msg);
    }
}

static void answer_fail(struct report_job *j, int rc, const char *why)
{
    if (j->done != NULL) {
        j->done(j->done_data, rc, why != NULL ? why : cd_strerror(rc), NULL, NULL, 0);
    } else {
        api__fail(j->x, rc, why);
    }
}

/* body is taken. */
static void answer_body(struct report_job *j,
                        const char *ctype,
                        const char *headers,
                        char *body,
                        size_t len)
{
    if (j->done != NULL) {
        j->done(j->done_data, 0, NULL, ctype, body, len);
        return;
    }
    if (headers == NULL || http_reply_headers(j->x, 200, ctype, headers, body, len) != 0) {
        http_reply(j->x, 200, ctype, body, len);
    }
    free(body);
}

static void printed(void *data, int status, const char *why, char *pdf, size_t len)
{
    struct report_job *j = data;
    if (status == 0) {
        answer_body(j, "application/pdf", PDF_HEADERS, pdf, len);
        pdf = NULL;
    } else if (status == CD_ENOTFOUND) {
        answer_error(j, 501, "UNSUPPORTED", status, "%s", why);
    } else {
        answer_fail(j, status, why);
    }
    free(pdf);
    job_free(j);
}

/* The page made, it goes to Chromium with the place the job holds. */
static bool print(struct report_job *j)
{
    if (api__pdf_print(j->api, j->body, j->body_len, printed, j) != 0) {
        return false;
    }
    j->body = NULL;
    j->pdf_place = false;
    return true;
}

static void worked(uv_work_t *w, int status)
{
    struct report_job *j = w->data;
    struct api *a = j->api;
    a->reports_running--;
    if (status == 0 && !a->closing && j->rc == 0 && j->format == FORMAT_PDF && !j->drill) {
        if (print(j)) {
            return;
        }
        j->rc = CD_ENOMEM;
    }
    if (status != 0 || a->closing) {
        answer_error(j, 503, "UNAVAIL", CD_EUNAVAIL, "the node is shutting down");
    } else if (j->rc == CD_ECAPACITY) {
        answer_error(j, 413, "TOOBIG", j->rc,
                     "the report would have more than %d cells: choose a longer interval, "
                     "a shorter period or a narrower filter",
                     REPORT_CELLS_MAX);
    } else if (j->rc != 0) {
        answer_fail(j, j->rc, NULL);
    } else {
        answer_body(j, content_type(j),
                    j->format == FORMAT_HTML && !j->drill ? PAGE_HEADERS : NULL, j->body,
                    j->body_len);
        j->body = NULL;
    }
    job_free(j);
    api__close_settle(a);
}

/* ---- the loop half ------------------------------------------------------------------------
 */

static void start(void *data, int status)
{
    struct report_job *j = data;
    struct api *a = j->api;
    struct cluster *c = a->cluster;
    const struct engine *e = cluster_engine(c);
    struct storage_gap gap;
    char err[160];
    if (status != 0) {
        answer_fail(j, status, "read barrier failed: no leader or it did not answer");
        job_free(j);
        return;
    }
    if (storage_gaps_pending(cluster_storage(c), &gap, 1) > 0) {
        answer_error(j, 503, "UNAVAIL", CD_EUNAVAIL,
                     "this node is still copying history it missed from a peer (entries "
                     "%llu..%llu): its figures would be short; ask another node",
                     (unsigned long long)gap.first + 1, (unsigned long long)gap.last);
        job_free(j);
        return;
    }
    if (a->closing || a->reports_running >= REPORTS_RUNNING) {
        answer_error(j, 503, "UNAVAIL", CD_EUNAVAIL,
                     "%d reports are being made on this node: try again shortly",
                     REPORTS_RUNNING);
        job_free(j);
        return;
    }
    if (j->format == FORMAT_PDF && !j->drill && !(j->pdf_place = api__pdf_reserve(a))) {
        answer_error(j, 503, "UNAVAIL", CD_EUNAVAIL,
                     "%d PDF reports are being printed on this node: try again shortly",
                     API__PDF_RUNNING);
        job_free(j);
        return;
    }
    int rc = copy_model(j, e);
    j->spec.zone = j->has_zone ? &j->zone : NULL;
    j->spec.policy = policy_of;
    j->spec.policy_data = j;
    j->spec.queue = j->queue;
    j->spec.agent = j->agent;
    j->spec.max_cells = REPORT_CELLS_MAX;
    if (rc == 0 && (j->r = report_new(&j->spec, err, sizeof(err))) == NULL) {
        answer_error(j, 400, "INVAL", err[0] ? CD_EINVAL : CD_ENOMEM, "%s",
                     err[0] ? err : "out of memory");
        job_free(j);
        return;
    }
    struct cluster_status *st = malloc(sizeof(*st));
    if (st == NULL) {
        rc = rc ? rc : CD_ENOMEM;
    } else {
        cluster_status(c, st);
        j->max_index = st->applied_index;
        snprintf(j->node, sizeof(j->node), "%s", st->id);
        free(st);
    }
    if (j->drill) {
        j->drilled = json_array();
    }
    rc = rc ? rc : feed_live(j, e);
    if (rc != 0) {
        j->rc = rc;
        a->reports_running++;
        j->work.data = j;
        worked(&j->work, 0);
        return;
    }
    a->reports_running++;
    j->work.data = j;
    uv_queue_work(a->loop, &j->work, work, worked);
}

/* ---- parameters ---------------------------------------------------------------------------
 */

static bool parse_figures(struct report_job *j, const char *list)
{
    char buf[2048];
    snprintf(buf, sizeof(buf), "%s", list);
    j->n_figures = 0;
    for (char *save = NULL, *f = strtok_r(buf, ",", &save); f != NULL;
         f = strtok_r(NULL, ",", &save)) {
        int i = report_figure_find(f);
        if (i < 0) {
            job_error(j, 400, "INVAL", "figures: no figure is called '%s'", f);
            return false;
        }
        if (j->n_figures == sizeof(j->figures) / sizeof(j->figures[0])) {
            job_error(j, 400, "INVAL", "figures: too many");
            return false;
        }
        j->figures[j->n_figures++] = i;
    }
    if (j->n_figures == 0) {
        job_error(j, 400, "INVAL", "figures: name at least one");
        return false;
    }
    return true;
}

static const char *const queue_figures =
    "offered,answered,answered_in_target,abandoned,abandoned_short,abandoned_after_target,"
    "overflowed,transferred,timed_out,waiting,waiting_past_target,service_level,sl_offered,"
    "sl_answered_abandoned,sl_short_excluded,answer_rate,abandon_rate,asa,average_wait,"
    "longest_wait,aht,average_talk,average_hold,average_wrapup,callbacks_requested,"
    "callbacks_made,contacts_per_hour,ewt_error,ewt_bias";
static const char *const agent_figures =
    "answered,handled,offers,offers_accepted,offers_rejected,offers_no_answer,aht,"
    "average_talk,average_hold,average_wrapup,time_available,time_busy,time_wrapup,"
    "time_away,time_staffed,occupancy,utilisation,contacts_per_hour";

/* A parameter: the query's, else the report definition's (NULL: none), else absent. A
 * definition's filters are under "filters"; its figures a list, given back comma-joined. */
static bool param(const struct http_request *req,
                  json_t *def,
                  const char *key,
                  char *v,
                  size_t len)
{
    if (query(req, key, v, len) != -1) {
        return true;
    }
    json_t *x = json_object_get(def, key);
    if (x == NULL && def != NULL) {
        x = json_object_get(json_object_get(def, "filters"), key);
    }
    if (json_is_string(x)) {
        snprintf(v, len, "%s", json_string_value(x));
        return true;
    }
    if (json_is_array(x)) {
        size_t i, used = 0;
        json_t *f;
        v[0] = 0;
        json_array_foreach(x, i, f)
        {
            used +=
                (size_t)snprintf(v + used, used < len ? len - used : 0, "%s%s", i ? "," : "",
                                 json_string_value(f) ? json_string_value(f) : "");
        }
        return used < len;
    }
    return false;
}

/* A definition's title and colour thresholds, for the HTML page. A threshold whose warn is
 * above its alarm is one where higher is better (a service level). */
static void take_definition(struct report_job *j, json_t *def)
{
    size_t i;
    json_t *t;
    const char *title = json_string_value(json_object_get(def, "title"));
    snprintf(j->title, sizeof(j->title), "%s", title != NULL ? title : "");
    json_array_foreach(json_object_get(def, "thresholds"), i, t)
    {
        if (j->n_thresholds == sizeof(j->thresholds) / sizeof(j->thresholds[0])) {
            break;
        }
        json_t *warn = json_object_get(t, "warn"), *alarm = json_object_get(t, "alarm");
        double w = json_number_value(warn), a = json_number_value(alarm);
        const char *figure = json_string_value(json_object_get(t, "figure"));
        size_t k = j->n_thresholds++;
        snprintf(j->threshold_figures[k], sizeof(j->threshold_figures[0]), "%s",
                 figure != NULL ? figure : "");
        j->thresholds[k] =
            (struct report_threshold){.figure = j->threshold_figures[k],
                                      .warn = warn ? w : a,
                                      .alarm = alarm ? a : w,
                                      .higher_is_better = warn && alarm && w > a};
    }
}

/* What a report is to show, from the request's query (req; NULL for the node's own) and a
 * report definition (def, borrowed; NULL: none), the query's words first. On false,
 * j->estatus, ecode and emsg say what is wrong. */
static bool parse_job(struct report_job *j, const struct http_request *req, json_t *def)
{
    char v[2048];
    const struct engine *e = cluster_engine(j->api->cluster);
    const struct engine_model *m = engine_model(e);
    const struct engine_zone *z = api__centre_zone(m);
    if (j->spec.now_ms == 0) {
        j->spec.now_ms = cluster_wall_ms();
    }
    j->spec.channel = -1;
    j->spec.group = REPORT_BY_QUEUE;
    j->spec.interval = REPORT_IV_60M;
    j->drill_start = INT64_MIN;
    j->drill_figure = -1;
    if (def != NULL) {
        take_definition(j, def);
    }
    bool ok = false;
    if (param(req, def, "interval", v, sizeof(v))) {
        int n = api__report_interval_parse(v);
        if (n < 0) {
            job_error(j, 400, "INVAL", "interval: '%s' is not one of %s", v,
                      api__report_names("interval"));
            goto out;
        }
        j->spec.interval = (uint8_t)n;
    }
    if (param(req, def, "group", v, sizeof(v))) {
        int n = api__report_group_parse(v);
        if (n < 0) {
            job_error(j, 400, "INVAL", "group: '%s' is not one of %s", v,
                      api__report_names("group"));
            goto out;
        }
        j->spec.group = (uint8_t)n;
    }
    if (param(req, def, "channel", v, sizeof(v)) &&
        (j->spec.channel = api__channel_parse(v)) < 0) {
        job_error(j, 400, "INVAL", "channel: unknown channel '%s'", v);
        goto out;
    }
    param(req, def, "queue", j->queue, sizeof(j->queue));
    param(req, def, "agent", j->agent, sizeof(j->agent));
    /* a definition's format is what a scheduled delivery sends; asked here, JSON */
    if (query(req, "format", v, sizeof(v)) != -1) {
        int f = api__report_format_parse(v);
        if (f < 0) {
            job_error(j, 400, "INVAL", "format: '%s' is not one of %s", v,
                      api__report_names("format"));
            goto out;
        }
        j->format = (uint8_t)f;
        if (j->format == FORMAT_PDF && !api__pdf_ready(v, sizeof(v))) {
            job_error(j, 501, "UNSUPPORTED", "format=pdf: %s", v);
            goto out;
        }
    }
    bool asked = query(req, "from", v, sizeof(v)) != -1 || query(req, "to", v, sizeof(v)) != -1;
    bool has_period = query(req, "period", v, sizeof(v)) != -1 ||
                      (!asked && param(req, def, "period", v, sizeof(v)));
    int which = has_period ? api__report_period_parse(v) : -1;
    if (has_period && which < 0) {
        job_error(j, 400, "INVAL", "period: '%s' is not one of %s", v,
                  api__report_names("period"));
        goto out;
    }
    api__report_period_range(has_period ? which : 0, z, j->spec.now_ms, &j->spec.from_ms,
                             &j->spec.to_ms);
    static const char *const ends[] = {"from", "to"};
    int64_t *at[] = {&j->spec.from_ms, &j->spec.to_ms};
    for (int i = 0; i < 2; i++) {
        if (query(req, ends[i], v, sizeof(v)) == -1) {
            continue;
        }
        if (has_period) {
            job_error(j, 400, "INVAL", "%s: give a period or from and to, not both", ends[i]);
            goto out;
        }
        if (!api__report_time_parse(v, z, at[i])) {
            job_error(j, 400, "INVAL",
                      "%s: '%s' is not a time (milliseconds since 1970, "
                      "2026-12-07T09:00:00Z, 2026-12-07T09:00+01:00, or a local "
                      "2026-12-07 or 2026-12-07T09:00 in the centre's zone)",
                      ends[i], v);
            goto out;
        }
    }
    if (j->spec.from_ms >= j->spec.to_ms) {
        job_error(j, 400, "INVAL", "from: not before to");
        goto out;
    }
    if (j->spec.to_ms - j->spec.from_ms > (int64_t)400 * 86400000) {
        job_error(j, 400, "INVAL", "from, to: a report covers 400 days at most");
        goto out;
    }
    bool by_agent = j->spec.group == REPORT_BY_AGENT || j->spec.group == REPORT_BY_SITE;
    if (!param(req, def, "figures", v, sizeof(v))) {
        snprintf(v, sizeof(v), "%s", by_agent ? agent_figures : queue_figures);
    }
    ok = parse_figures(j, v);
out:
    return ok;
}

static void run(struct api__call *call, bool drill)
{
    struct report_job *j = calloc(1, sizeof(*j));
    char v[64];
    uint64_t version = 0;
    json_t *def = NULL;
    if (j == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    j->api = call->api;
    j->x = call->x;
    j->drill = drill;
    if (!api__query_u64(call, "version", 1, UINT32_MAX, &version)) {
        job_free(j);
        return;
    }
    if (http_query_get(call->req, "definition", v, sizeof(v)) != -1) {
        int rv = api__report_def_text(cluster_engine(call->api->cluster), v, (uint32_t)version,
                                      &def);
        if (rv != 0) {
            http_reply_error(call->x, rv == CD_ENOTFOUND ? 404 : 500,
                             rv == CD_ENOTFOUND ? "NOTFOUND" : "CORRUPT",
                             "report definition '%s'%s not found", v,
                             version ? " (that version)" : "");
            job_free(j);
            return;
        }
    }
    bool ok = parse_job(j, call->req, def);
    json_decref(def);
    if (!ok) {
        http_reply_error(call->x, j->estatus, j->ecode, "%s", j->emsg);
        job_free(j);
        return;
    }
    if (drill) {
        if (http_query_get(call->req, "value", j->drill_group, sizeof(j->drill_group)) == -1) {
            http_reply_error(call->x, 400, "INVAL",
                             "value: name the cell's group (a queue, agent, channel, site, "
                             "disposition, or \"all\")");
            job_free(j);
            return;
        }
        if (http_query_get(call->req, "start", v, sizeof(v)) != -1 &&
            !api__report_time_parse(v, NULL, &j->drill_start)) {
            http_reply_error(call->x, 400, "INVAL", "start: '%s' is not a time", v);
            job_free(j);
            return;
        }
        if (http_query_get(call->req, "figure", v, sizeof(v)) != -1 &&
            (j->drill_figure = report_figure_find(v)) < 0) {
            http_reply_error(call->x, 400, "INVAL", "figure: no figure is called '%s'", v);
            job_free(j);
            return;
        }
    }
    api__read_fenced(call, start, j);
}

int api__report_make(struct api *a,
                     json_t *def,
                     int64_t now,
                     int64_t from,
                     int format,
                     api__report_done done,
                     void *data)
{
    struct report_job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return CD_ENOMEM;
    }
    j->api = a;
    j->done = done;
    j->done_data = data;
    j->spec.now_ms = now;
    if (!parse_job(j, NULL, def)) {
        job_free(j);
        return CD_EINVAL;
    }
    if (from != 0 && from < now) {
        j->spec.from_ms = from;
        j->spec.to_ms = now;
    }
    j->format = (uint8_t)format;
    start(j, 0);
    return 0;
}

void api__report(struct api__call *call)
{
    run(call, false);
}

void api__report_contacts(struct api__call *call)
{
    run(call, true);
}
