/* Reader of TZif files (RFC 8536): the version 2+ body with 64-bit transition times, and
 * the POSIX TZ footer that continues the table beyond the last explicit transition. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/check.h"
#include "config/config.h"
#include "config/tz.h"

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_FILE_MAX (1u << 20)
#define TZ_HEADER_LEN 44
/* RFC 8536 section 3.2: a UT offset outside this range is invalid. */
#define TZ_UTOFF_MIN (-89999)
#define TZ_UTOFF_MAX 93599

struct tzif_counts
{
    uint32_t isut, isstd, leap, time, type, chars;
};

struct tzif
{
    const uint8_t *p; /* borrowed file contents */
    size_t len;
    size_t pos;
    struct tzif_counts cnt;
    const uint8_t *times; /* v2 block: cnt.time 8-byte times */
    const uint8_t *idx;   /* cnt.time type indices */
    const uint8_t *types; /* cnt.type 6-byte records */
};

static int tz_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int tz_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

int tz_table_push(struct tz_table *t, int64_t at, int32_t off)
{
    if (t->n > 0 && at < t->v[t->n - 1].at) {
        return CD_ECORRUPT;
    }
    if (t->n > 0 && at == t->v[t->n - 1].at) {
        t->n--;
    }
    int32_t cur = t->n > 0 ? t->v[t->n - 1].offset : t->base;
    if (off == cur) {
        return 0;
    }
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        struct engine_tz_transition *v = realloc(t->v, cap * sizeof(*v));
        if (v == NULL) {
            return CD_ENOMEM;
        }
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct engine_tz_transition){.at = at, .offset = off};
    return 0;
}

static bool zone_name_ok(const char *name)
{
    size_t len = strlen(name);
    return len > 0 && len < ENGINE_NAME_MAX && name[0] != '/' && strstr(name, "..") == NULL &&
           strspn(name,
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-+.") == len;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads one header; *version is 0 for version 1 or the version character. */
static const char *read_header(struct tzif *z, char *version)
{
    if (z->len - z->pos < TZ_HEADER_LEN) {
        return "truncated header";
    }
    const uint8_t *h = z->p + z->pos;
    if (memcmp(h, "TZif", 4) != 0) {
        return "not a TZif file (bad magic)";
    }
    *version = (char)h[4];
    uint32_t *c = &z->cnt.isut;
    for (int i = 0; i < 6; i++) {
        c[i] = be32(h + 20 + 4 * i);
    }
    z->pos += TZ_HEADER_LEN;
    return NULL;
}

static uint64_t block_len(const struct tzif_counts *c, unsigned tsize)
{
    return (uint64_t)c->time * (tsize + 1) + (uint64_t)c->type * 6 + c->chars +
           (uint64_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static const char *check_counts(const struct tzif_counts *c)
{
    if (c->type == 0 || c->type > 256 || c->chars == 0) {
        return "no local time types";
    }
    if ((c->isstd != 0 && c->isstd != c->type) || (c->isut != 0 && c->isut != c->type)) {
        return "inconsistent header counts";
    }
    if (c->leap != 0) {
        return "leap-second tables are not supported";
    }
    return NULL;
}

/* Skips the version 1 body and locates the tables of the version 2+ body. */
static const char *read_body(struct tzif *z)
{
    char version;
    const char *why = read_header(z, &version);
    if (why != NULL) {
        return why;
    }
    if (version != '2' && version != '3' && version != '4') {
        return version == 0 ? "TZif version 1 files are not supported" : "unknown TZif version";
    }
    uint64_t skip = block_len(&z->cnt, 4);
    if (skip > z->len - z->pos) {
        return "truncated version 1 data";
    }
    z->pos += (size_t)skip;
    char version2;
    if ((why = read_header(z, &version2)) != NULL || (why = check_counts(&z->cnt)) != NULL) {
        return why;
    }
    if (block_len(&z->cnt, 8) > z->len - z->pos) {
        return "truncated data";
    }
    z->times = z->p + z->pos;
    z->idx = z->times + (size_t)z->cnt.time * 8;
    z->types = z->idx + z->cnt.time;
    z->pos += (size_t)block_len(&z->cnt, 8);
    return NULL;
}

static const char *check_types(const struct tzif *z)
{
    for (uint32_t i = 0; i < z->cnt.type; i++) {
        const uint8_t *t = z->types + 6 * i;
        int32_t off = (int32_t)be32(t);
        if (off < TZ_UTOFF_MIN || off > TZ_UTOFF_MAX || t[4] > 1 || t[5] >= z->cnt.chars) {
            return "bad local time type";
        }
    }
    for (uint32_t i = 0; i < z->cnt.time; i++) {
        if (z->idx[i] >= z->cnt.type) {
            return "transition names a missing local time type";
        }
        if (i > 0 && be64(z->times + 8 * i) <= be64(z->times + 8 * (i - 1))) {
            return "transition times not in ascending order";
        }
    }
    return NULL;
}

static int fill_explicit(const struct tzif *z, struct tz_table *t)
{
    t->base = (int32_t)be32(z->types); /* type 0 rules before the first transition */
    for (uint32_t i = 0; i < z->cnt.time; i++) {
        int rv =
            tz_table_push(t, be64(z->times + 8 * i), (int32_t)be32(z->types + 6 * z->idx[i]));
        if (rv != 0) {
            return rv;
        }
    }
    return 0;
}

/* The footer is "\n" TZ-string "\n" right after the version 2+ body. */
static const char *read_footer(struct tzif *z, struct tz_posix *tz, bool *present)
{
    const char *why = "missing footer";
    *present = false;
    if (z->pos >= z->len || z->p[z->pos] != '\n') {
        return why;
    }
    const uint8_t *start = z->p + z->pos + 1;
    const uint8_t *nl = memchr(start, '\n', z->len - z->pos - 1);
    if (nl == NULL) {
        return why;
    }
    if (nl == start) {
        return NULL; /* empty: no rule beyond the table */
    }
    if (tz_posix_parse((const char *)start, (size_t)(nl - start), tz, &why) != 0) {
        return why;
    }
    *present = true;
    return NULL;
}

static int build_table(struct tzif *z, struct tz_table *t, const char **why)
{
    struct tz_posix tz;
    bool footer;
    if ((*why = read_body(z)) != NULL || (*why = check_types(z)) != NULL ||
        (*why = read_footer(z, &tz, &footer)) != NULL) {
        return CD_ECORRUPT;
    }
    int rv = fill_explicit(z, t);
    if (rv == 0 && footer) {
        int64_t last = z->cnt.time ? be64(z->times + 8 * (z->cnt.time - 1)) : INT64_MIN;
        rv = tz_posix_expand(&tz, last, t);
    }
    *why = rv == CD_ENOMEM ? "out of memory" : "footer rules do not fit the table";
    return rv;
}

static const char *zoneinfo_dir(void)
{
    const char *dir = getenv("CONTACTD_ZONEINFO");
    return dir != NULL && dir[0] != 0 ? dir : TZ_DEFAULT_DIR;
}

static int read_zone_file(const char *name,
                          const char *path,
                          char **data,
                          size_t *len,
                          char *err,
                          size_t errlen)
{
    int sys;
    int rv = cfg_read_file(path, TZ_FILE_MAX, data, len, &sys);
    if (rv == CD_ENOTFOUND) {
        return tz_fail(err, errlen, rv, "unknown time zone '%s' (no file '%s')", name, path);
    }
    if (rv == CD_ETOOBIG) {
        return tz_fail(err, errlen, CD_ECORRUPT, "time zone '%s' (%s): file too large", name,
                       path);
    }
    if (rv == CD_EIO) {
        char why[128];
        cfg_strerror(sys, why, sizeof(why));
        return tz_fail(err, errlen, rv, "time zone '%s' (%s): %s", name, path, why);
    }
    return rv == CD_ENOMEM ? tz_fail(err, errlen, rv, "out of memory") : rv;
}

int config_tz_load(const char *zone_name, struct engine_zone *out, char *err, size_t errlen)
{
    if (!zone_name_ok(zone_name)) {
        return tz_fail(err, errlen, CD_EINVAL, "invalid time zone name '%s'", zone_name);
    }
    char path[CONFIG_PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", zoneinfo_dir(), zone_name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        return tz_fail(err, errlen, CD_EINVAL, "time zone path for '%s' too long", zone_name);
    }
    char *data;
    size_t len;
    int rv = read_zone_file(zone_name, path, &data, &len, err, errlen);
    if (rv != 0) {
        return rv;
    }
    struct tzif z = {.p = (const uint8_t *)data, .len = len};
    struct tz_table t = {0};
    const char *why;
    rv = build_table(&z, &t, &why);
    free(data);
    if (rv != 0) {
        free(t.v);
        return tz_fail(err, errlen, rv, "time zone '%s' (%s): %s", zone_name, path, why);
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->name, zone_name, strlen(zone_name) + 1);
    out->base_offset = t.base;
    out->n_transitions = t.n;
    out->transitions = t.v;
    return 0;
}
