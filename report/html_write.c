/* The pieces every part of a report's HTML page is written with: text escaped for HTML,
 * values formatted as people read them, and how a value is marked against its goal. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report/html_write.h"

void report__html_put(struct report__html *h, const char *s)
{
    cd_buf_put(h->out, s, strlen(s));
}

void report__html_putf(struct report__html *h, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n > 0) {
        cd_buf_put(h->out, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
    }
}

static void esc_bytes(struct report__html *h, const char *s, size_t n)
{
    size_t plain = 0;
    for (size_t i = 0; i < n; i++) {
        const char *entity = NULL;
        switch (s[i]) {
            case '&':
                entity = "&amp;";
                break;
            case '<':
                entity = "&lt;";
                break;
            case '>':
                entity = "&gt;";
                break;
            case '"':
                entity = "&quot;";
                break;
            case '\'':
                entity = "&#39;";
                break;
            default:
                continue;
        }
        cd_buf_put(h->out, s + plain, i - plain);
        report__html_put(h, entity);
        plain = i + 1;
    }
    cd_buf_put(h->out, s + plain, n - plain);
}

void report__html_esc(struct report__html *h, const char *s)
{
    esc_bytes(h, s, strlen(s));
}

void report__html_esc_cut(struct report__html *h, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) {
        esc_bytes(h, s, n);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80) {
        max--; /* not inside a UTF-8 sequence */
    }
    esc_bytes(h, s, max);
    report__html_put(h, "\xe2\x80\xa6"); /* an ellipsis */
}

/* A whole number with its thousands grouped: "1,234,567". */
static void grouped(unsigned long long v, char *out, size_t len)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%llu", v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            out[o++] = ',';
        }
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static void duration(double s, char *out, size_t len)
{
    const char *sign = s < 0 ? "-" : "";
    double a = s < 0 ? -s : s;
    if (a == 0) {
        snprintf(out, len, "0s");
        return;
    }
    if (a < 9.95) {
        snprintf(out, len, "%s%.1fs", sign, a);
        return;
    }
    if (a >= 1e15) {
        snprintf(out, len, "%s%.3gs", sign, a);
        return;
    }
    long long t = (long long)(a + 0.5);
    if (t < 60) {
        snprintf(out, len, "%s%llds", sign, t);
    } else if (t < 3600) {
        snprintf(out, len, "%s%lldm %02llds", sign, t / 60, t % 60);
    } else {
        t = (t + 30) / 60;
        snprintf(out, len, "%s%lldh %02lldm", sign, t / 60, t % 60);
    }
}

void report__html_format(uint8_t unit, double v, char *out, size_t len)
{
    switch (unit) {
        case REPORT_UNIT_RATIO:
            snprintf(out, len, "%.1f%%", v * 100);
            break;
        case REPORT_UNIT_SECONDS:
            duration(v, out, len);
            break;
        case REPORT_UNIT_PER_HOUR:
            snprintf(out, len, "%.1f/h", v);
            break;
        default:
            if (v >= 0 && v < 1e18) {
                grouped((unsigned long long)(v + 0.5), out, len);
            } else {
                snprintf(out, len, "%.0f", v);
            }
    }
}

bool report__html_value(const struct report__html *h,
                        const struct report_cell *cell,
                        int figure,
                        double *v,
                        struct report_queue_policy *policy)
{
    struct report_queue_policy own;
    if (policy == NULL) {
        policy = &own;
    }
    report_cell_policy(h->r, cell, policy);
    return report_value(&cell->sums, policy, figure, v);
}

static bool is_service_level(int figure)
{
    return figure >= FIG_SERVICE_LEVEL && figure <= FIG_SL_SHORT_EXCLUDED;
}

enum report__level report__html_level(const struct report__html *h,
                                      int figure,
                                      double v,
                                      const struct report_queue_policy *policy)
{
    int t = h->threshold[figure];
    if (t >= 0) {
        const struct report_threshold *th = &h->page->thresholds[t];
        double sign = th->higher_is_better ? -1 : 1; /* worse is larger, after the sign */
        if (sign * v > sign * th->alarm) {
            return REPORT__LEVEL_ALARM;
        }
        return sign * v > sign * th->warn ? REPORT__LEVEL_WARN : REPORT__LEVEL_OK;
    }
    if (!is_service_level(figure) || policy->sl_percent == 0) {
        return REPORT__LEVEL_OK;
    }
    /* Compared in tenths of a point, as shown, so that a value shown as the goal is not
     * marked below it. */
    long long shown = (long long)(v * 1000 + 0.5), goal = (long long)policy->sl_percent * 10;
    if (shown <= goal - REPORT_HTML_SL_ALARM_POINTS * 10) {
        return REPORT__LEVEL_ALARM;
    }
    return shown < goal ? REPORT__LEVEL_WARN : REPORT__LEVEL_OK;
}

const char *report__html_level_class(enum report__level level)
{
    switch (level) {
        case REPORT__LEVEL_WARN:
            return "warn";
        case REPORT__LEVEL_ALARM:
            return "alarm";
        default:
            return "";
    }
}

const char *report__html_noun(uint8_t group)
{
    switch (group) {
        case REPORT_BY_QUEUE:
            return "queue";
        case REPORT_BY_AGENT:
            return "agent";
        case REPORT_BY_CHANNEL:
            return "channel";
        case REPORT_BY_SITE:
            return "site";
        case REPORT_BY_DISPOSITION:
            return "disposition";
        default:
            return NULL; /* one group: everything */
    }
}

const char *report__html_group_text(const char *group)
{
    return group[0] == '\0' ? "(none given)" : group;
}
