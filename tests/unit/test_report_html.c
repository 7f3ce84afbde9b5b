/* report/: a report as an HTML page. A small hour by queue, in 30-minute intervals, made
 * 2026-12-07 09:00-10:00 UTC (London, +00:00):
 *
 *   sales (target 20 s, goal 80 %, service level over everything offered)
 *     C1 +60    answered after 10 s (in target), talk 120 s, wrap-up 30 s
 *     C2 +120   answered after 65 s, still talking
 *     C3 +2400  abandoned after 30 s
 *   a queue named <script>alert('x')</script>&co (not in the model: the default policy,
 *   goal 90 %)
 *     C4 +600   answered after 5 s, talk 60 s, wrap-up 0
 *
 * So sales has 50.0 % in 09:00 (an alarm: 30 points below its goal), 0.0 % in 09:30, 33.3 %
 * in total, ASA 37.5 s ("38s") and its longest wait 65 s ("1m 05s"); no ASA in 09:30 (no
 * data: an em dash). The page must be well formed (every tag it opens is closed, every '&'
 * starts an entity), escape the hostile name, hold the figures as formatted, the charts and
 * the glossary, load nothing from elsewhere, and come out the same twice. */
#include "common/alloc.h"
#include "common/buf.h"
#include "report_fixture.h"

#define T0 utc_ms(2026, 12, 7, 9, 0, 0)
#define AT(s) (T0 + (int64_t)(s)*1000)
#define HOSTILE "<script>alert('x')</script>&co"
#define HOSTILE_ESCAPED "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;co"
#define EM_DASH "\xe2\x80\x94"

struct fixture
{
    struct test_zone zone;
    struct report_segment seg[4];
    struct report_contact contact[4];
    struct report_span span[2];
    struct report_spec spec;
    struct report *r;
    int figures[64];
    size_t n_figures;
    struct report_page page;
    struct cd_buf out;
    char *html; /* out as a string */
};

static bool policy(void *data, const char *queue, struct report_queue_policy *out)
{
    (void)data;
    if (strcmp(queue, "sales") != 0) {
        return false;
    }
    *out = (struct report_queue_policy){20000, 80, REPORT_SL_OFFERED, 5000};
    return true;
}

static void contact(struct fixture *f,
                    int n,
                    const char *queue,
                    int at_s,
                    int wait_s,
                    uint8_t end)
{
    struct report_segment *g = &f->seg[n - 1];
    *g = (struct report_segment){.queue = queue,
                                 .end = end,
                                 .entered = AT(at_s),
                                 .left = AT(at_s + wait_s),
                                 .ewt_ms = -1,
                                 .agent = end == REPORT_END_ANSWERED ? "ann" : "",
                                 .site = end == REPORT_END_ANSWERED ? "leeds" : ""};
    f->contact[n - 1] = (struct report_contact){.id = (uint64_t)n,
                                                .channel = ENGINE_CH_VOICE,
                                                .outcome = ENGINE_CONTACT_COMPLETED,
                                                .disposition = "",
                                                .n_segments = 1,
                                                .segments = g};
}

static void handled(struct fixture *f, int n, int talk_s, int wrap_s)
{
    f->seg[n - 1].handled = true;
    f->seg[n - 1].talk_ms = talk_s * 1000;
    f->seg[n - 1].wrap_ms = wrap_s * 1000;
}

static void figures(struct fixture *f, const char *names)
{
    char copy[512], *save = NULL;
    snprintf(copy, sizeof(copy), "%s", names);
    f->n_figures = 0;
    for (char *name = strtok_r(copy, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save)) {
        f->figures[f->n_figures] = report_figure_find(name);
        assert_true(f->figures[f->n_figures++] >= 0);
    }
    f->page.figures = f->figures;
    f->page.n_figures = f->n_figures;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    zone_london(&f->zone);
    contact(f, 1, "sales", 60, 10, REPORT_END_ANSWERED);
    handled(f, 1, 120, 30);
    contact(f, 2, "sales", 120, 65, REPORT_END_ANSWERED);
    contact(f, 3, "sales", 2400, 30, REPORT_END_ABANDONED);
    contact(f, 4, HOSTILE, 600, 5, REPORT_END_ANSWERED);
    handled(f, 4, 60, 0);
    f->span[0] =
        (struct report_span){"ann", "leeds", ENGINE_AGENT_AVAILABLE, "", AT(0), AT(60)};
    f->span[1] = (struct report_span){"ann", "leeds", ENGINE_AGENT_BUSY, "", AT(60), AT(3600)};
    f->spec = (struct report_spec){
        .from_ms = T0,
        .to_ms = AT(3600),
        .interval = REPORT_IV_30M,
        .group = REPORT_BY_QUEUE,
        .zone = &f->zone.z,
        .channel = -1,
        .policy = policy,
        .fallback = {20000, 90, REPORT_SL_OFFERED, 5000},
        .now_ms = AT(3600),
    };
    f->page = (struct report_page){.made_at = "2026-12-07 10:00:05 +00:00 (Europe/London)",
                                   .node = "n1",
                                   .as_of_index = 42};
    figures(f, "offered,answered,abandoned,service_level,asa,longest_wait,aht");
    cd_buf_init(&f->out);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    report_free(f->r);
    cd_buf_close(&f->out);
    free(f->html);
    free(f);
    return 0;
}

#define TEST(name)                              \
    static void name##_body(struct fixture *f); \
    static void name(void **state)              \
    {                                           \
        name##_body(*state);                    \
    }                                           \
    static void name##_body(struct fixture *f)

/* The report of f->spec, fed every contact and span. */
static void run(struct fixture *f)
{
    char err[256];
    report_free(f->r);
    f->r = report_new(&f->spec, err, sizeof(err));
    if (f->r == NULL) {
        fail_msg("report_new: %s", err);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(report_add_contact(f->r, &f->contact[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(report_add_span(f->r, &f->span[i]), 0);
    }
}

/* Renders the page into f->html (a string). */
static void render(struct fixture *f)
{
    cd_buf_reset(&f->out);
    assert_int_equal(report_html(f->r, &f->page, &f->out), 0);
    free(f->html);
    f->html = malloc(f->out.len + 1);
    assert_non_null(f->html);
    memcpy(f->html, f->out.data, f->out.len);
    f->html[f->out.len] = '\0';
}

#define RUN_AND_RENDER \
    do {               \
        run(f);        \
        render(f);     \
    } while (0)

#define HAS(text)                                                        \
    do {                                                                 \
        if (strstr(f->html, (text)) == NULL) {                           \
            fail_msg("the page does not have '%s':\n%s", text, f->html); \
        }                                                                \
    } while (0)
#define HAS_NOT(text)                            \
    do {                                         \
        if (strstr(f->html, (text)) != NULL) {   \
            fail_msg("the page has '%s'", text); \
        }                                        \
    } while (0)

static size_t count(const char *html, const char *text)
{
    size_t n = 0;
    for (const char *p = strstr(html, text); p != NULL; p = strstr(p + 1, text)) {
        n++;
    }
    return n;
}

/* ---- A small checker of the page's structure ------------------------------------------ */

static bool is_void(const char *name, size_t n)
{
    return (n == 4 && strncmp(name, "meta", 4) == 0) || (n == 2 && strncmp(name, "br", 2) == 0);
}

/* The end of the tag that opens at p (after its '>'), failing on a quote left open. */
static const char *tag_end(const char *p)
{
    char quote = 0;
    for (; *p != '\0'; p++) {
        if (quote != 0) {
            quote = *p == quote ? 0 : quote;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (*p == '>') {
            return p + 1;
        } else if (*p == '<') {
            fail_msg("a '<' inside a tag: %.60s", p);
        }
    }
    fail_msg("a tag that does not end");
    return p;
}

/* Every tag opened is closed, in order; text holds no '<' of its own and every '&' starts
 * an entity; the style sheet holds no '<'. */
static void check_well_formed(const char *html)
{
    const char *stack[64];
    size_t len[64], depth = 0;
    for (const char *p = html; *p != '\0';) {
        if (*p == '&') {
            size_t n = strspn(p + 1, "#abcdefghijklmnopqrstuvwxyz0123456789");
            if (n == 0 || p[1 + n] != ';') {
                fail_msg("a bare '&': %.40s", p);
            }
            p += n + 2;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        if (p[1] == '!') {
            p = strchr(p, '>') + 1;
            continue;
        }
        bool closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (n == 0) {
            fail_msg("a '<' that opens no tag: %.40s", p);
        }
        const char *end = tag_end(name + n);
        if (closing) {
            if (depth == 0 || len[depth - 1] != n || strncmp(stack[depth - 1], name, n) != 0) {
                fail_msg("</%.*s> closes <%.*s>", (int)n, name, depth ? (int)len[depth - 1] : 0,
                         depth ? stack[depth - 1] : "");
            }
            depth--;
        } else if (end[-2] != '/' && !is_void(name, n)) {
            assert_true(depth < 64);
            stack[depth] = name;
            len[depth++] = n;
        }
        p = end;
        if (!closing && n == 5 && strncmp(name, "style", 5) == 0) {
            p = strstr(p, "</style>");
            assert_non_null(p);
        }
    }
    if (depth != 0) {
        fail_msg("<%.*s> is never closed", (int)len[depth - 1], stack[depth - 1]);
    }
}

/* ---- Tests ---------------------------------------------------------------------------- */

TEST(well_formed_and_self_contained)
{
    RUN_AND_RENDER;
    check_well_formed(f->html);
    assert_true(strncmp(f->html, "<!DOCTYPE html>", 15) == 0);
    HAS("<meta charset=\"utf-8\">");
    HAS("@page{size:A4 landscape");
    /* nothing to run, nothing loaded from elsewhere */
    HAS_NOT("<script");
    HAS_NOT("<link");
    HAS_NOT("<img");
    HAS_NOT("src=");
    HAS_NOT("url(");
    HAS_NOT("@import");
    assert_int_equal(count(f->html, "http"), count(f->html, "http://www.w3.org/2000/svg"));
}

TEST(header_says_what_the_report_is)
{
    RUN_AND_RENDER;
    HAS("<title>Report by queue</title>");
    HAS("2026-12-07 09:00 +00:00 to 2026-12-07 10:00 +00:00 (Europe/London)");
    HAS("<dd>30 minutes</dd>");
    HAS("<dt>Grouped by</dt><dd>queue</dd>");
    HAS("<dd>none: everything counts</dd>");
    HAS("2026-12-07 10:00:05 +00:00 (Europe/London)");
    HAS("node n1, as of log index 42");

    f->spec.queue = "sales";
    f->spec.channel = ENGINE_CH_VOICE;
    f->page.title = "Sales & <more>";
    RUN_AND_RENDER;
    HAS("<title>Sales &amp; &lt;more&gt;</title>");
    HAS("<dd>queue sales, channel voice</dd>");
}

TEST(values_are_formatted)
{
    RUN_AND_RENDER;
    /* sales in 09:00: 2 offered, 1 in target; then 1 abandoned; in total 1/3 */
    HAS("<td class=\"alarm\" title=\"alarm: below the goal of 80%\">50.0%</td>");
    HAS("<td class=\"alarm\" title=\"alarm: below the goal of 80%\">0.0%</td>");
    HAS("<td class=\"alarm\" title=\"alarm: below the goal of 80%\">33.3%</td>");
    HAS("<td>38s</td>");    /* ASA (10 + 65) / 2 */
    HAS("<td>1m 05s</td>"); /* the longest wait */
    HAS("<td>2m 30s</td>"); /* AHT: 120 + 30, C2 still talking */
    HAS("<td>5.0s</td>");   /* the other queue's ASA */
    HAS("<td>100.0%</td>"); /* ... and its service level: at or above its goal */
    HAS("<td class=\"nodata\" title=\"no data\">" EM_DASH "</td>"); /* ASA in 09:30 */
    HAS("<td class=\"l\">2026-12-07 09:30+00:00</td>");
    /* the summary: the grand total's 2 of 4 in target, against the default goal */
    HAS("<div class=\"tile alarm\"><div class=\"t\">Service level</div><div "
        "class=\"v\">50.0%</div><div class=\"n\">goal 90%</div></div>");
    HAS("<div class=\"t\">Offered</div><div class=\"v\">4</div>");
}

TEST(hostile_names_are_escaped)
{
    RUN_AND_RENDER;
    check_well_formed(f->html);
    HAS_NOT("<script");
    HAS_NOT("alert('x')");
    HAS("<h2>Queue " HOSTILE_ESCAPED "</h2>");
    HAS("<td class=\"l\">" HOSTILE_ESCAPED "</td>");
}

TEST(charts_are_inline_svg)
{
    RUN_AND_RENDER;
    /* per group: the volume bars and the service level line against the goal */
    assert_int_equal(count(f->html, "<svg "), 4);
    assert_int_equal(count(f->html, "</svg>"), 4);
    HAS("<polyline ");
    HAS("stroke-dasharray=\"6 4\"");
    HAS(">goal 80%</text>");
    HAS("<title>2026-12-07T09:00+00:00: Offered 2</title>");
    HAS(">Answered</text>");

    /* one interval: the charts compare the groups, and there are no group sections */
    f->spec.interval = REPORT_IV_TOTAL;
    RUN_AND_RENDER;
    check_well_formed(f->html);
    assert_int_equal(count(f->html, "<svg "), 2);
    HAS_NOT("<section class=\"group\">");
    HAS("<title>sales: Service level 33.3%</title>");
    HAS("<title>" HOSTILE_ESCAPED ": Offered 1</title>");
}

TEST(agent_time_is_stacked)
{
    f->spec.group = REPORT_BY_AGENT;
    figures(f, "answered,handled,time_available,time_busy,occupancy");
    RUN_AND_RENDER;
    check_well_formed(f->html);
    HAS("Agents&#39; time in state per interval</title>");
    HAS("<title>2026-12-07T09:00+00:00: Busy time 29m 00s</title>");
    HAS("<h2>Agent ann</h2>");
    HAS("<td>98.3%</td>"); /* occupancy: 59 of 60 minutes busy */
}

TEST(glossary_defines_every_figure_shown)
{
    size_t n;
    const struct report_figure *defs = report_figures(&n);
    RUN_AND_RENDER;
    for (size_t i = 0; i < f->n_figures; i++) {
        const struct report_figure *d = &defs[f->figures[i]];
        char dt[256];
        struct cd_buf esc;
        cd_buf_init(&esc);
        for (const char *p = d->definition; *p; p++) {
            const char *e = *p == '\'' ? "&#39;" : *p == '&' ? "&amp;" : NULL;
            cd_buf_put(&esc, e ? e : p, e ? strlen(e) : 1);
        }
        cd_buf_u8(&esc, 0);
        snprintf(dt, sizeof(dt), "<dt>%s <code>%s</code>", d->title, d->name);
        HAS(dt);
        HAS((const char *)esc.data);
        cd_buf_close(&esc);
    }
    HAS(EM_DASH " means <b>no data</b>");
    HAS("10 points or more below it as an alarm");
    /* a figure not shown is not defined */
    HAS_NOT("<code>occupancy</code>");
}

TEST(thresholds_colour_values)
{
    struct report_threshold th[] = {
        {"asa", 20, 60, false},
        {"service_level", 0.2, 0.1, true},
    };
    f->page.thresholds = th;
    f->page.n_thresholds = 2;
    RUN_AND_RENDER;
    check_well_formed(f->html);
    HAS("<td class=\"warn\" title=\"warning: above 20s\">38s</td>");
    HAS("<td>5.0s</td>");
    /* the definition's threshold replaces the goal */
    HAS("<td>50.0%</td>");
    HAS("<td class=\"alarm\" title=\"alarm: below 10.0%\">0.0%</td>");
    HAS("Average speed of answer: warning: above 20s; alarm: above 1m 00s.");

    th[0].alarm = 30;
    RUN_AND_RENDER;
    HAS("<td class=\"alarm\" title=\"alarm: above 30s\">38s</td>");
}

TEST(same_input_same_page)
{
    run(f);
    render(f);
    char *first = strdup(f->html);
    assert_non_null(first);
    render(f);
    assert_string_equal(first, f->html);
    free(first);
}

TEST(bad_input_appends_nothing)
{
    struct report_threshold th = {"nonsense", 1, 2, true};
    run(f);
    cd_buf_put(&f->out, "x", 1);
    f->figures[0] = 9999;
    assert_int_equal(report_html(f->r, &f->page, &f->out), CD_EINVAL);
    f->figures[0] = -1;
    assert_int_equal(report_html(f->r, &f->page, &f->out), CD_EINVAL);
    f->figures[0] = 0;
    f->page.n_figures = 0;
    assert_int_equal(report_html(f->r, &f->page, &f->out), CD_EINVAL);
    f->page.n_figures = f->n_figures;
    f->page.thresholds = &th;
    f->page.n_thresholds = 1;
    assert_int_equal(report_html(f->r, &f->page, &f->out), CD_EINVAL);
    assert_int_equal(f->out.len, 1);
}

TEST(out_of_memory_leaves_out_as_it_was)
{
    const struct report_cell *cells;
    run(f);
    report_cells(f->r, &cells); /* sorted now, so only the page allocates */
    report_group_totals(f->r, &cells);
    for (uint64_t nth = 1;; nth++) {
        struct cd_alloc_fault fault;
        struct cd_buf out;
        cd_buf_init(&out);
        cd_buf_put(&out, "x", 1);
        cd_alloc_fault_start(&fault, nth, 1);
        int rc = report_html(f->r, &f->page, &out);
        cd_alloc_fault_stop(&fault);
        if (rc == 0) {
            assert_true(nth > 1);
            assert_true(out.len > 1000);
            cd_buf_close(&out);
            break;
        }
        assert_int_equal(rc, CD_ENOMEM);
        assert_int_equal(out.len, 1);
        cd_buf_close(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(well_formed_and_self_contained, setup, teardown),
        cmocka_unit_test_setup_teardown(header_says_what_the_report_is, setup, teardown),
        cmocka_unit_test_setup_teardown(values_are_formatted, setup, teardown),
        cmocka_unit_test_setup_teardown(hostile_names_are_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(charts_are_inline_svg, setup, teardown),
        cmocka_unit_test_setup_teardown(agent_time_is_stacked, setup, teardown),
        cmocka_unit_test_setup_teardown(glossary_defines_every_figure_shown, setup, teardown),
        cmocka_unit_test_setup_teardown(thresholds_colour_values, setup, teardown),
        cmocka_unit_test_setup_teardown(same_input_same_page, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_input_appends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_memory_leaves_out_as_it_was, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
