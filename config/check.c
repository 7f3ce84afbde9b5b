/* Typed reading of YAML nodes: every problem becomes one positioned error line. */
#include "config/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "engine/engine.h"

static int vfail(struct cfg_ctx *c,
                 uint32_t line,
                 uint32_t col,
                 const char *label,
                 const char *fmt,
                 va_list ap) CFG_PRINTF(5, 0);

static int vfail(struct cfg_ctx *c,
                 uint32_t line,
                 uint32_t col,
                 const char *label,
                 const char *fmt,
                 va_list ap)
{
    int n;
    if (line == 0) {
        n = snprintf(c->err, c->errlen, "%s: ", c->file);
    } else {
        n = snprintf(c->err, c->errlen, "%s:%u:%u: ", c->file, line, col);
    }
    if (n >= 0 && (size_t)n < c->errlen && c->subject[0] != 0) {
        n += snprintf(c->err + n, c->errlen - (size_t)n, "%s: ", c->subject);
    }
    if (n >= 0 && (size_t)n < c->errlen && label != NULL) {
        n += snprintf(c->err + n, c->errlen - (size_t)n, "%s: ", label);
    }
    if (n >= 0 && (size_t)n < c->errlen) {
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    }
    if (c->errlen > 0) {
        ydoc_one_line(c->err);
    }
    return CD_EPARSE;
}

int cfg_fail(struct cfg_ctx *c, const struct ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, n->line, n->col, NULL, fmt, ap);
    va_end(ap);
    return CD_EPARSE;
}

int cfg_fail_key(struct cfg_ctx *c, const struct ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, n->key_line, n->key_col, NULL, fmt, ap);
    va_end(ap);
    return CD_EPARSE;
}

int cfg_fail_file(struct cfg_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, 0, 0, NULL, fmt, ap);
    va_end(ap);
    return CD_EPARSE;
}

/* A problem with a value: labelled with its key when it has one. */
static int value_fail(struct cfg_ctx *c, const struct ynode *n, const char *fmt, ...)
    CFG_PRINTF(3, 4);

static int value_fail(struct cfg_ctx *c, const struct ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, n->line, n->col, n->key, fmt, ap);
    va_end(ap);
    return CD_EPARSE;
}

void cfg_subject(struct cfg_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->subject, sizeof(c->subject), fmt, ap);
    va_end(ap);
}

static const char *kind_text(const struct ynode *n)
{
    return n->kind == YNODE_MAP ? "a mapping" : "a list";
}

/* What the document holds instead, for "expected X, got Y" messages. */
#define GOT_FMT "%s%s%s"
#define GOT_ARGS(n)                                            \
    (n)->kind == YNODE_SCALAR ? "'" : "",                      \
        (n)->kind == YNODE_SCALAR ? (n)->value : kind_text(n), \
        (n)->kind == YNODE_SCALAR ? "'" : ""

int cfg_expect_map(struct cfg_ctx *c, const struct ynode *n)
{
    if (n->kind != YNODE_MAP) {
        return value_fail(c, n, "expected a mapping, got " GOT_FMT, GOT_ARGS(n));
    }
    return 0;
}

int cfg_expect_seq(struct cfg_ctx *c, const struct ynode *n)
{
    if (n->kind != YNODE_SEQ) {
        return value_fail(c, n, "expected a list, got " GOT_FMT, GOT_ARGS(n));
    }
    return 0;
}

int cfg_expect_list(struct cfg_ctx *c, const struct ynode *n)
{
    if (n->kind == YNODE_MAP) {
        return value_fail(c, n, "expected a list or a single value, got a mapping");
    }
    return 0;
}

static void list_allowed(char *buf, size_t cap, const char *const *allowed)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; allowed[i] != NULL && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", allowed[i]);
        used += w > 0 ? (size_t)w : 0;
    }
}

int cfg_keys(struct cfg_ctx *c, const struct ynode *n, const char *const *allowed)
{
    if (cfg_expect_map(c, n) != 0) {
        return CD_EPARSE;
    }
    for (const struct ynode *e = n->child; e != NULL; e = e->next) {
        size_t i = 0;
        while (allowed[i] != NULL && strcmp(allowed[i], e->key) != 0) {
            i++;
        }
        if (allowed[i] == NULL) {
            char list[512];
            list_allowed(list, sizeof(list), allowed);
            return cfg_fail_key(c, e, "unknown key '%s' (expected one of: %s)", e->key, list);
        }
    }
    return 0;
}

const struct ynode *cfg_require(struct cfg_ctx *c, const struct ynode *map, const char *key)
{
    const struct ynode *e = ynode_get(map, key);
    if (e == NULL) {
        cfg_fail(c, map, "missing key '%s'", key);
    }
    return e;
}

/* The first control character of s (C0, DEL or C1; NUL included), as a code point, or -1.
 * libyaml hands out valid UTF-8 only, but escapes ("\x01", "\0") make any character. */
static long control_char(const char *s, size_t len, bool allow_lines)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (allow_lines && (ch == '\n' || ch == '\t')) {
            continue;
        }
        if (ch < 0x20 || ch == 0x7f) {
            return ch;
        }
        if (ch == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f) {
            return (unsigned char)s[i + 1];
        }
    }
    return -1;
}

static int control_fail(struct cfg_ctx *c, const struct ynode *n, long ch)
{
    return value_fail(c, n, "expected text without control characters, found U+%04lX", ch);
}

int cfg_check_chars(struct cfg_ctx *c, const struct ynode *n, bool allow_lines)
{
    long ch = control_char(n->value, n->len, allow_lines);
    return ch >= 0 ? control_fail(c, n, ch) : 0;
}

int cfg_string(struct cfg_ctx *c, const struct ynode *n, char *dst, size_t cap)
{
    if (n->kind != YNODE_SCALAR) {
        return value_fail(c, n, "expected a string, got %s", kind_text(n));
    }
    if (ynode_is_null(n)) {
        return value_fail(c, n, "expected a non-empty string");
    }
    if (cfg_check_chars(c, n, false) != 0) {
        return CD_EPARSE;
    }
    if (n->len >= cap) {
        return value_fail(c, n, "'%s' is longer than %zu characters", n->value, cap - 1);
    }
    memcpy(dst, n->value, n->len + 1);
    return 0;
}

int cfg_text(struct cfg_ctx *c, const struct ynode *n)
{
    if (n->kind != YNODE_SCALAR) {
        return value_fail(c, n, "expected a string, got %s", kind_text(n));
    }
    if (ynode_is_null(n)) {
        return value_fail(c, n, "expected a non-empty string");
    }
    return cfg_check_chars(c, n, true);
}

int cfg_key_text(struct cfg_ctx *c,
                 const struct ynode *e,
                 const char *what,
                 char *dst,
                 size_t cap)
{
    size_t len = strlen(e->key);
    long ch = control_char(e->key, len, false);
    if (ch >= 0) {
        return cfg_fail_key(c, e, "%s: expected text without control characters, found U+%04lX",
                            what, ch);
    }
    if (len == 0 || len >= cap) {
        return cfg_fail_key(c, e, "%s '%s' is empty or longer than %zu characters", what,
                            e->key, cap - 1);
    }
    memcpy(dst, e->key, len + 1);
    return 0;
}

int cfg_name(struct cfg_ctx *c, const struct ynode *n, char *dst, size_t cap)
{
    int rv = cfg_string(c, n, dst, cap);
    if (rv != 0) {
        return rv;
    }
    if (strlen(dst) != n->len || !engine_name_valid(dst, cap)) {
        return value_fail(c, n, "'%s' is not a valid name (use " ENGINE_NAME_CHARSET ")",
                          n->value);
    }
    return 0;
}

int cfg_key_name(struct cfg_ctx *c, const struct ynode *e, char *dst, size_t cap)
{
    struct ynode k = {.kind = YNODE_SCALAR,
                      .plain = true,
                      .value = e->key,
                      .len = strlen(e->key),
                      .line = e->key_line,
                      .col = e->key_col};
    return cfg_name(c, &k, dst, cap);
}

static bool parse_int(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+') {
        p++;
    }
    if (*p == 0) {
        return false;
    }
    int64_t v = 0;
    for (; *p != 0; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10) {
            return false;
        }
        v = v * 10 + (*p - '0');
    }
    *out = neg ? -v : v;
    return true;
}

int cfg_int(struct cfg_ctx *c, const struct ynode *n, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v;
    if (n->kind != YNODE_SCALAR || !parse_int(n->value, &v) || v < lo || v > hi) {
        return value_fail(c, n, "expected an integer from %lld to %lld, got " GOT_FMT,
                          (long long)lo, (long long)hi, GOT_ARGS(n));
    }
    *out = v;
    return 0;
}

int cfg_bool(struct cfg_ctx *c, const struct ynode *n, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    for (size_t i = 0; n->kind == YNODE_SCALAR && i < 3; i++) {
        if (strcmp(n->value, yes[i]) == 0 || strcmp(n->value, no[i]) == 0) {
            *out = strcmp(n->value, yes[i]) == 0;
            return 0;
        }
    }
    return value_fail(c, n, "expected true or false, got " GOT_FMT, GOT_ARGS(n));
}

static void fmt_duration(char *buf, size_t cap, uint32_t s)
{
    if (s != 0 && s % 3600 == 0) {
        snprintf(buf, cap, "%uh", s / 3600);
    } else if (s != 0 && s % 60 == 0) {
        snprintf(buf, cap, "%um", s / 60);
    } else {
        snprintf(buf, cap, "%us", s);
    }
}

/* Sum of number+unit groups ("1h30m"), or a plain number of seconds. */
static bool parse_duration(const char *s, uint64_t *out)
{
    uint64_t total = 0;
    const char *begin = s;
    if (*s == 0) {
        return false;
    }
    while (*s != 0) {
        uint64_t v = 0;
        const char *digits = s;
        for (; *s >= '0' && *s <= '9' && v < 100000000; s++) {
            v = v * 10 + (uint64_t)(*s - '0');
        }
        if (s == digits || (*s >= '0' && *s <= '9')) {
            return false;
        }
        if (*s == 0 && digits == begin) {
            total = v; /* plain seconds */
            break;
        }
        uint64_t unit = *s == 'h' ? 3600 : *s == 'm' ? 60 : *s == 's' ? 1 : 0;
        if (unit == 0) {
            return false;
        }
        s++;
        total += v * unit;
    }
    *out = total;
    return true;
}

int cfg_duration(struct cfg_ctx *c,
                 const struct ynode *n,
                 uint32_t lo,
                 uint32_t hi,
                 uint32_t *out)
{
    uint64_t v;
    if (n->kind == YNODE_SCALAR && parse_duration(n->value, &v) && v >= lo && v <= hi) {
        *out = (uint32_t)v;
        return 0;
    }
    char a[16], b[16];
    fmt_duration(a, sizeof(a), lo);
    fmt_duration(b, sizeof(b), hi);
    return value_fail(
        c, n, "expected a duration from %s to %s (such as 20s, 15m or 2h), got " GOT_FMT, a, b,
        GOT_ARGS(n));
}

static bool two_digits(const char *s, unsigned *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') {
        return false;
    }
    *out = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    return true;
}

int cfg_clock(struct cfg_ctx *c, const struct ynode *n, bool allow_end, uint16_t *out)
{
    unsigned h, m;
    if (n->kind == YNODE_SCALAR && n->len == 5 && n->value[2] == ':' &&
        two_digits(n->value, &h) && two_digits(n->value + 3, &m) && m < 60 &&
        (h < 24 || (allow_end && h == 24 && m == 0))) {
        *out = (uint16_t)(h * 60 + m);
        return 0;
    }
    return value_fail(c, n, "expected a time from 00:00 to %s as HH:MM, got " GOT_FMT,
                      allow_end ? "24:00" : "23:59", GOT_ARGS(n));
}

bool cfg_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar, counting in 400-year
 * eras that start on March 1st so that the leap day ends each year. */
int64_t cfg_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int cfg_date(struct cfg_ctx *c, const struct ynode *n, int32_t *out)
{
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y1, y2, m, d;
    if (n->kind == YNODE_SCALAR && n->len == 10 && n->value[4] == '-' && n->value[7] == '-' &&
        two_digits(n->value, &y1) && two_digits(n->value + 2, &y2) &&
        two_digits(n->value + 5, &m) && two_digits(n->value + 8, &d) && m >= 1 && m <= 12 &&
        d >= 1 && d <= mdays[m - 1]) {
        int64_t y = y1 * 100 + y2;
        if (y >= 1970 && (m != 2 || d < 29 || cfg_leap_year(y))) {
            *out = (int32_t)cfg_days_from_civil(y, m, d);
            return 0;
        }
    }
    return value_fail(c, n, "expected a date YYYY-MM-DD (from 1970), got " GOT_FMT,
                      GOT_ARGS(n));
}

int cfg_channel(struct cfg_ctx *c, const struct ynode *n, int *out)
{
    if (n->kind != YNODE_SCALAR) {
        return value_fail(c, n, "expected a channel, got %s", kind_text(n));
    }
    int ch = engine_channel_parse(n->value);
    if (ch < 0) {
        return value_fail(
            c, n, "unknown channel '%s' (expected one of: voice, email, sms, chat)", n->value);
    }
    *out = ch;
    return 0;
}

int cfg_channels(struct cfg_ctx *c, const struct ynode *n, uint8_t *out)
{
    uint8_t mask = 0;
    int ch = 0;
    if (n->kind == YNODE_SCALAR) {
        if (cfg_channel(c, n, &ch) != 0) {
            return CD_EPARSE;
        }
        *out = ENGINE_CH_BIT(ch);
        return 0;
    }
    if (cfg_expect_seq(c, n) != 0) {
        return CD_EPARSE;
    }
    for (const struct ynode *i = n->child; i != NULL; i = i->next) {
        if (cfg_channel(c, i, &ch) != 0) {
            return CD_EPARSE;
        }
        if (mask & ENGINE_CH_BIT(ch)) {
            return cfg_fail(c, i, "channel '%s' listed twice", i->value);
        }
        mask |= ENGINE_CH_BIT(ch);
    }
    if (mask == 0) {
        return value_fail(c, n, "expected at least one channel");
    }
    *out = mask;
    return 0;
}
