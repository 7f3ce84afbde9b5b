/* contactctl report: figures by group and interval (GET /v1/reports; as a table, JSON, CSV,
 * an HTML page or a PDF), the contacts behind a cell (GET /v1/reports/contacts), and live
 * figures over the last 5, 15 and 60 minutes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char *const report_opts[][2] = {
    {"period", "period"},     {"from", "from"},       {"to", "to"},
    {"interval", "interval"}, {"group", "group"},     {"queue", "queue"},
    {"agent", "agent"},       {"channel", "channel"}, {"figures", "figures"},
};
#define N_REPORT_OPTS (sizeof(report_opts) / sizeof(report_opts[0]))

/* The unit of each figure, from the answer's glossary. */
static const char *unit_of(const json_t *doc, const char *figure)
{
    size_t i;
    const json_t *g;
    json_array_foreach(json_object_get(doc, "glossary"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "name")), figure) == 0) {
            return json_string_value(json_object_get(g, "unit"));
        }
    }
    return "count";
}

/* A value as people read it: 83.3%, 12.4s, 7; "-" for no data. */
static const char *show(const json_t *v, const char *unit, char *buf, size_t len)
{
    if (!json_is_number(v)) {
        return "-";
    }
    double x = json_number_value(v);
    if (strcmp(unit, "ratio") == 0) {
        snprintf(buf, len, "%.1f%%", x * 100.0);
    } else if (strcmp(unit, "seconds") == 0) {
        snprintf(buf, len, "%.1fs", x);
    } else if (strcmp(unit, "per_hour") == 0) {
        snprintf(buf, len, "%.1f/h", x);
    } else {
        snprintf(buf, len, "%.0f", x);
    }
    return buf;
}

static void print_row(const json_t *doc, const json_t *row, const json_t *figs)
{
    char buf[32];
    size_t i;
    const json_t *f;
    printf("%-20s %-24s", json_string_value(json_object_get(row, "group")),
           json_string_value(json_object_get(row, "interval")));
    json_array_foreach(figs, i, f)
    {
        const char *name = json_string_value(f);
        const json_t *v = json_object_get(json_object_get(row, "values"), name);
        int width = (int)strlen(name) > 8 ? (int)strlen(name) : 8;
        printf(" %*s", width, show(v, unit_of(doc, name), buf, sizeof(buf)));
    }
    putchar('\n');
}

static void print_report(const json_t *doc)
{
    const json_t *about = json_object_get(doc, "report");
    const json_t *figs = json_object_get(doc, "figures");
    char a[40], b[40];
    size_t i;
    const json_t *f, *row;
    printf("%s by %s, %s to %s (%s), as of index %lld on %s\n",
           json_string_value(json_object_get(about, "interval")),
           json_string_value(json_object_get(about, "group")),
           ctl_time(json_integer_value(json_object_get(about, "from")), a, sizeof(a)),
           ctl_time(json_integer_value(json_object_get(about, "to")), b, sizeof(b)),
           json_string_value(json_object_get(about, "zone")),
           (long long)json_integer_value(json_object_get(about, "as_of_index")),
           json_string_value(json_object_get(about, "node")));
    printf("%-20s %-24s", "GROUP", "INTERVAL");
    json_array_foreach(figs, i, f)
    {
        int width =
            (int)strlen(json_string_value(f)) > 8 ? (int)strlen(json_string_value(f)) : 8;
        printf(" %*s", width, json_string_value(f));
    }
    putchar('\n');
    json_array_foreach(json_object_get(doc, "rows"), i, row)
    {
        print_row(doc, row, figs);
    }
    json_array_foreach(json_object_get(doc, "totals"), i, row)
    {
        print_row(doc, row, figs);
    }
    print_row(doc, json_object_get(doc, "total"), figs);
    printf("(- = no data; contactctl --output json report ... has each figure's definition)\n");
}

static int drill(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_column cols[] = {
        {"ID", "id", false}, {"CHANNEL", "channel", false}, {"STATE", "state", false}};
    static const char *const more[][2] = {
        {"value", "value"}, {"start", "start"}, {"figure", "figure"}};
    char path[2048] = "/v1/reports/contacts?";
    ctl_query(path, sizeof(path), argc, argv, report_opts, N_REPORT_OPTS);
    ctl_query(path, sizeof(path), argc, argv, more, 3);
    if (ctl_extra(argc, argv, 1, "report contacts")) {
        return CTL_USAGE;
    }
    return ctl_get_show(c, path, CTL_COLS(cols), true);
}

/* Per queue, the last 5, 15 and 60 minutes side by side. */
static int live(struct ctl *c, int argc, char **argv)
{
    static const char *const windows[] = {"last_5m", "last_15m", "last_60m"};
    json_t *docs[3] = {NULL, NULL, NULL};
    char path[512], buf[32];
    const char *queue = ctl_opt(argc, argv, "queue");
    if (ctl_extra(argc, argv, 1, "report live")) {
        return CTL_USAGE;
    }
    int rv = CTL_OK;
    for (int w = 0; w < 3 && rv == CTL_OK; w++) {
        snprintf(path, sizeof(path),
                 "/v1/reports?period=%s&interval=total&group=queue&figures=offered,answered,"
                 "abandoned,service_level,asa,longest_wait,waiting",
                 windows[w]);
        if (queue != NULL) {
            size_t n = strlen(path);
            ctl_path(path + n, sizeof(path) - n, "&queue=%s", queue);
        }
        rv = ctl_call(c, "GET", path, NULL, &docs[w]);
    }
    if (rv == CTL_OK && c->json) {
        json_t *all = json_pack("{s:O,s:O,s:O}", "last_5m", docs[0], "last_15m", docs[1],
                                "last_60m", docs[2]);
        ctl_print_json(all);
        json_decref(all);
    } else if (rv == CTL_OK) {
        printf("%-20s %8s %8s %8s %9s %9s %9s %8s %8s\n", "QUEUE", "SL 5m", "SL 15m", "SL 60m",
               "OFFERED60", "ANSWER60", "ABANDON60", "ASA 60m", "WAITING");
        size_t i;
        const json_t *row;
        json_array_foreach(json_object_get(docs[2], "totals"), i, row)
        {
            const char *q = json_string_value(json_object_get(row, "group"));
            printf("%-20s", q);
            for (int w = 0; w < 3; w++) {
                const json_t *v = NULL, *r2;
                size_t k;
                json_array_foreach(json_object_get(docs[w], "totals"), k, r2)
                {
                    if (strcmp(json_string_value(json_object_get(r2, "group")), q) == 0) {
                        v = json_object_get(json_object_get(r2, "values"), "service_level");
                    }
                }
                printf(" %8s", show(v, "ratio", buf, sizeof(buf)));
            }
            const json_t *vals = json_object_get(row, "values");
            printf(" %9s", show(json_object_get(vals, "offered"), "count", buf, sizeof(buf)));
            printf(" %9s", show(json_object_get(vals, "answered"), "count", buf, sizeof(buf)));
            printf(" %9s", show(json_object_get(vals, "abandoned"), "count", buf, sizeof(buf)));
            printf(" %8s", show(json_object_get(vals, "asa"), "seconds", buf, sizeof(buf)));
            printf(" %8s\n", show(json_object_get(vals, "waiting"), "count", buf, sizeof(buf)));
        }
        printf("(service level by each queue's own formula; - = no data)\n");
    }
    for (int w = 0; w < 3; w++) {
        json_decref(docs[w]);
    }
    return rv;
}

/* The answer's body as it came (CSV, HTML), on stdout. */
static int print_body(struct ctl *c, const char *path)
{
    char *body = NULL;
    int rv = ctl_call_raw(c, path, &body);
    if (rv == CTL_OK) {
        fputs(body, stdout);
    }
    free(body);
    return rv;
}

/* The PDF into file ("-": stdout). */
static int save_pdf(struct ctl *c, const char *path, const char *file)
{
    char *pdf = NULL;
    size_t len;
    int rv = ctl_call_bytes(c, path, &pdf, &len);
    if (rv != CTL_OK) {
        return rv;
    }
    bool out = strcmp(file, "-") == 0;
    FILE *f = out ? stdout : fopen(file, "wb");
    bool ok = f != NULL && fwrite(pdf, 1, len, f) == len;
    ok = (out ? fflush(f) == 0 : f != NULL && fclose(f) == 0) && ok;
    free(pdf);
    if (!ok) {
        fprintf(stderr, "contactctl: cannot write '%s'\n", file);
        if (!out) {
            remove(file);
        }
        return CTL_REFUSED;
    }
    if (!out) {
        printf("%s: %zu bytes\n", file, len);
    }
    return CTL_OK;
}

int ctl_cmd_report(struct ctl *c, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "contacts") == 0) {
        return drill(c, argc, argv);
    }
    if (argc >= 1 && strcmp(argv[0], "live") == 0) {
        return live(c, argc, argv);
    }
    char path[2048] = "/v1/reports?";
    bool csv = ctl_flag(argc, argv, "csv");
    bool html = ctl_flag(argc, argv, "html");
    const char *pdf = ctl_opt(argc, argv, "pdf");
    ctl_query(path, sizeof(path), argc, argv, report_opts, N_REPORT_OPTS);
    if (ctl_extra(argc, argv, 0, "report")) {
        return CTL_USAGE;
    }
    if ((int)csv + (int)html + (pdf != NULL) > 1) {
        fprintf(stderr, "contactctl: report: give one of --csv, --html and --pdf\n");
        return CTL_USAGE;
    }
    if (csv || html || pdf != NULL) {
        strncat(path,
                csv    ? "&format=csv"
                : html ? "&format=html"
                       : "&format=pdf",
                sizeof(path) - strlen(path) - 1);
        return pdf != NULL ? save_pdf(c, path, pdf) : print_body(c, path);
    }
    json_t *doc;
    int rv = ctl_call(c, "GET", path, NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        print_report(doc);
    }
    json_decref(doc);
    return CTL_OK;
}
