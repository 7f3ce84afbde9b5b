/* The POSIX TZ string at the end of a TZif file (RFC 8536, section 3.3): parsing it and
 * expanding its yearly daylight-time rules into explicit transitions. */
#include <stdlib.h>

#include "common/error.h"
#include "config/check.h"
#include "config/tz.h"

#define TZ_FIRST_YEAR 1900 /* nothing earlier is of use to a contact centre */

struct cursor
{
    const char *p;
    const char *end;
};

static int peek(const struct cursor *c)
{
    return c->p < c->end ? (unsigned char)*c->p : -1;
}

static bool eat(struct cursor *c, char ch)
{
    if (peek(c) == ch) {
        c->p++;
        return true;
    }
    return false;
}

static bool is_alpha(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* A zone abbreviation: three or more letters, or <...> with letters, digits, + and -. */
static bool parse_name(struct cursor *c)
{
    const char *start = c->p;
    if (eat(c, '<')) {
        while (is_alpha(peek(c)) || is_digit(peek(c)) || peek(c) == '+' || peek(c) == '-') {
            c->p++;
        }
        return c->p - start >= 4 && eat(c, '>');
    }
    while (is_alpha(peek(c))) {
        c->p++;
    }
    return c->p - start >= 3;
}

static bool parse_num(struct cursor *c, long max, long *out)
{
    long v = 0;
    if (!is_digit(peek(c))) {
        return false;
    }
    while (is_digit(peek(c))) {
        v = v * 10 + (*c->p++ - '0');
        if (v > max) {
            return false;
        }
    }
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]] with hours up to max_h, as signed seconds. */
static bool parse_hms(struct cursor *c, long max_h, int32_t *out)
{
    long sign = 1;
    long h, m = 0, s = 0;
    if (eat(c, '-')) {
        sign = -1;
    } else {
        eat(c, '+');
    }
    if (!parse_num(c, max_h, &h)) {
        return false;
    }
    if (eat(c, ':') && (!parse_num(c, 59, &m) || (eat(c, ':') && !parse_num(c, 59, &s)))) {
        return false;
    }
    *out = (int32_t)(sign * (h * 3600 + m * 60 + s));
    return true;
}

static bool parse_switch(struct cursor *c, struct tz_switch *sw)
{
    long a, b, d;
    sw->time = 2 * 3600;
    if (eat(c, 'M')) {
        if (!parse_num(c, 12, &a) || a < 1 || !eat(c, '.') || !parse_num(c, 5, &b) || b < 1 ||
            !eat(c, '.') || !parse_num(c, 6, &d)) {
            return false;
        }
        *sw = (struct tz_switch){.form = 'M',
                                 .month = (uint8_t)a,
                                 .week = (uint8_t)b,
                                 .wday = (uint8_t)d,
                                 .time = sw->time};
    } else {
        sw->form = eat(c, 'J') ? 'J' : 'N';
        if (!parse_num(c, 365, &a) || (sw->form == 'J' && a < 1)) {
            return false;
        }
        sw->day = (uint16_t)a;
    }
    return !eat(c, '/') || parse_hms(c, 167, &sw->time);
}

int tz_posix_parse(const char *s, size_t len, struct tz_posix *out, const char **why)
{
    struct cursor c = {s, s + len};
    struct tz_posix tz = {0};
    int32_t west;
    *why = "malformed TZ string in footer";
    if (!parse_name(&c) || !parse_hms(&c, 24, &west)) {
        return CD_ECORRUPT;
    }
    tz.std_off = -west;
    if (peek(&c) == -1) {
        *out = tz;
        return 0;
    }
    if (!parse_name(&c)) {
        return CD_ECORRUPT;
    }
    tz.has_dst = true;
    tz.dst_off = tz.std_off + 3600;
    if (peek(&c) != ',' && peek(&c) != -1) {
        if (!parse_hms(&c, 24, &west)) {
            return CD_ECORRUPT;
        }
        tz.dst_off = -west;
    }
    if (!eat(&c, ',')) {
        *why = "footer names daylight time without rules";
        return CD_ECORRUPT;
    }
    if (!parse_switch(&c, &tz.start) || !eat(&c, ',') || !parse_switch(&c, &tz.end) ||
        peek(&c) != -1) {
        return CD_ECORRUPT;
    }
    *out = tz;
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t month_days(int64_t y, unsigned m)
{
    static const uint8_t len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return len[m - 1] + (m == 2 && cfg_leap_year(y));
}

/* Local date (days since the epoch) on which a switch happens in year y. */
static int64_t switch_day(const struct tz_switch *sw, int64_t y)
{
    int64_t jan1 = cfg_days_from_civil(y, 1, 1);
    if (sw->form == 'J') {
        return jan1 + sw->day - 1 + (cfg_leap_year(y) && sw->day >= 60);
    }
    if (sw->form == 'N') {
        return jan1 + sw->day;
    }
    int64_t first = cfg_days_from_civil(y, sw->month, 1);
    int64_t wday_first = ((first + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
    int64_t day = first + (sw->wday - wday_first + 7) % 7 + (sw->week - 1) * 7;
    while (day >= first + month_days(y, sw->month)) {
        day -= 7; /* week 5 means the last such weekday */
    }
    return day;
}

static int64_t year_of(int64_t t)
{
    int64_t days = floor_div(t, 86400);
    int64_t y = 1970 + floor_div(days, 366);
    while (cfg_days_from_civil(y + 1, 1, 1) <= days) {
        y++;
    }
    return y;
}

/* Only switches after the explicit table and before 2101 (UTC): a rule whose daylight
 * time runs into the next year must not leave a stray switch behind the last year. */
static int push_after(struct tz_table *t, int64_t after, int64_t at, int32_t off)
{
    int64_t end = cfg_days_from_civil(TZ_LAST_YEAR + 1, 1, 1) * 86400;
    return at > after && at < end ? tz_table_push(t, at, off) : 0;
}

int tz_posix_expand(const struct tz_posix *tz, int64_t after, struct tz_table *t)
{
    if (!tz->has_dst) {
        return 0;
    }
    /* 1900-01-01T00:00Z: earlier transitions are expanded from 1900 on. */
    int64_t first = after < -2208988800LL ? TZ_FIRST_YEAR : year_of(after);
    for (int64_t y = first; y <= TZ_LAST_YEAR; y++) {
        int64_t on = switch_day(&tz->start, y) * 86400 + tz->start.time - tz->std_off;
        int64_t off = switch_day(&tz->end, y) * 86400 + tz->end.time - tz->dst_off;
        int rv;
        if (on <= off) {
            rv = push_after(t, after, on, tz->dst_off);
            rv = rv ? rv : push_after(t, after, off, tz->std_off);
        } else {
            rv = push_after(t, after, off, tz->std_off);
            rv = rv ? rv : push_after(t, after, on, tz->dst_off);
        }
        if (rv != 0) {
            return rv;
        }
    }
    return 0;
}
