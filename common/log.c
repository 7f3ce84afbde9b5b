#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define FIELDS_MAX 32

static atomic_int min_level = CD_LOG_INFO;

static const char *const NAMES[] = {"debug", "info", "warn", "error", "fatal"};

void cd_log_set_level(int level)
{
    atomic_store(&min_level, level);
}

bool cd_log_enabled(int level)
{
    return level >= atomic_load(&min_level);
}

struct out
{
    char *p;
    size_t cap, len; /* len counts what was needed, also past cap */
};

static void put(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, o->len++) {
        if (o->len + 1 < o->cap) {
            o->p[o->len] = s[i];
        }
    }
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static bool needs_quotes(const char *v)
{
    if (*v == 0) {
        return true;
    }
    for (const unsigned char *p = (const unsigned char *)v; *p != 0; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f) {
            return true;
        }
    }
    return false;
}

static void put_value(struct out *o, const char *v)
{
    if (!needs_quotes(v)) {
        put_str(o, v);
        return;
    }
    put(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p != 0; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(o, esc, 2);
        } else if (*p == '\n') {
            put(o, "\\n", 2);
        } else if (*p < ' ' || *p == 0x7f) {
            int n = snprintf(esc, sizeof(esc), "\\x%02x", *p);
            put(o, esc, (size_t)n);
        } else {
            put(o, (const char *)p, 1);
        }
    }
    put(o, "\"", 1);
}

size_t cd_log_format(char *buf,
                     size_t cap,
                     int level,
                     const char *event,
                     const char *const *kv,
                     size_t n_kv)
{
    struct out o = {buf, cap, 0};
    int l = level < CD_LOG_DEBUG ? CD_LOG_DEBUG : level > CD_LOG_FATAL ? CD_LOG_FATAL : level;
    put_str(&o, "level=");
    put_str(&o, NAMES[l]);
    put_str(&o, " event=");
    put_value(&o, event != NULL ? event : "");
    for (size_t i = 0; i < n_kv; i += 2) {
        put(&o, " ", 1);
        put_str(&o, kv[i]);
        put(&o, "=", 1);
        put_value(&o, i + 1 < n_kv && kv[i + 1] != NULL ? kv[i + 1] : "");
    }
    if (cap > 0) {
        buf[o.len < cap ? o.len : cap - 1] = 0;
    }
    return o.len;
}

static void emit(int level, const char *event, const char *const *kv, size_t n_kv)
{
    char line[LINE_MAX_BYTES], when[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    int head = snprintf(line, sizeof(line), "ts=%s.%03ldZ ", when, ts.tv_nsec / 1000000);
    size_t room = sizeof(line) - (size_t)head - 1;
    size_t n = cd_log_format(line + head, room, level, event, kv, n_kv);
    size_t len = (size_t)head + (n < room ? n : room - 1);
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len); /* one write: lines never interleave */
    (void)w;
}

void cd_log(int level, const char *event, ...)
{
    const char *kv[FIELDS_MAX];
    size_t n = 0;
    va_list ap;
    if (!cd_log_enabled(level)) {
        return;
    }
    va_start(ap, event);
    for (const char *k; n + 2 <= FIELDS_MAX && (k = va_arg(ap, const char *)) != NULL;) {
        kv[n++] = k;
        kv[n++] = va_arg(ap, const char *);
    }
    va_end(ap);
    emit(level, event, kv, n);
}

void cd_logf(int level, const char *event, const char *fmt, ...)
{
    char msg[LINE_MAX_BYTES / 2];
    va_list ap;
    if (!cd_log_enabled(level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *kv[] = {"msg", msg};
    emit(level, event, kv, 2);
}
