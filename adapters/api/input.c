/* What the API takes from clients, checked one way everywhere: decimal numbers and ids,
 * names (the model's character set, engine_name_valid), free text (UTF-8 without control
 * characters), and query parameters (only those a route knows, each at most once). */
#include <stdio.h>
#include <string.h>

#include "adapters/api/internal.h"

int api__u64_parse(const char *text, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    if (text[0] == '0' && text[1] == 0) {
        *out = 0;
        return 0;
    }
    if (text[0] < '1' || text[0] > '9') {
        return -1; /* empty, a sign, a space or a leading zero */
    }
    for (; text[i] >= '0' && text[i] <= '9'; i++) {
        unsigned d = (unsigned)(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    if (text[i] != 0) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Length of the UTF-8 sequence at s (1..4), or 0 when it is not one: overlong forms,
 * surrogates and code points past U+10FFFF are not. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80) {
        return 1;
    }
    size_t n = s[0] >= 0xc2 && s[0] <= 0xdf   ? 2
               : s[0] >= 0xe0 && s[0] <= 0xef ? 3
               : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                              : 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f)) {
        return 0;
    }
    return n;
}

bool api__text_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != 0) {
        size_t n = utf8_len(p);
        /* C0 controls, DEL and the C1 controls (U+0080..U+009F, 0xC2 0x80..0x9F). */
        if (n == 0 || *p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] < 0xa0)) {
            return false;
        }
        p += n;
    }
    return true;
}

bool api__name_ok(struct api__call *call, const char *what, const char *s, size_t cap)
{
    if (engine_name_valid(s, cap)) {
        return true;
    }
    http_reply_error(call->x, 400, "INVAL",
                     "%s: '%s' is not a valid name (%s; 1 to %zu characters)", what, s,
                     ENGINE_NAME_CHARSET, cap - 1);
    return false;
}

bool api__text_ok(struct api__call *call, const char *what, const char *s)
{
    if (api__text_valid(s)) {
        return true;
    }
    http_reply_error(call->x, 400, "INVAL",
                     "%s: expected UTF-8 text without control characters", what);
    return false;
}

bool api__query_u64(struct api__call *call,
                    const char *name,
                    uint64_t lo,
                    uint64_t hi,
                    uint64_t *v)
{
    char text[32];
    uint64_t n;
    int len = http_query_get(call->req, name, text, sizeof(text));
    if (len == -1) {
        return true;
    }
    if (len < 0 || api__u64_parse(text, &n) != 0 || n < lo || n > hi) {
        http_reply_error(call->x, 400, "INVAL",
                         "%s: expected a whole number from %llu to %llu, in decimal digits",
                         name, (unsigned long long)lo, (unsigned long long)hi);
        return false;
    }
    *v = n;
    return true;
}

/* ---- Query parameters ------------------------------------------------------------------ */

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The decoded name of the parameter at p (up to '=', '&' or the end) into buf, as
 * http_query_get() decodes it; returns how far the whole parameter goes. */
static const char *param_name(const char *p, char *buf, size_t len)
{
    size_t n = 0;
    for (; *p != 0 && *p != '=' && *p != '&'; p++) {
        char c = *p;
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && hex(p[1]) >= 0 && hex(p[2]) >= 0 &&
                   (p[1] != '0' || p[2] != '0')) {
            c = (char)(hex(p[1]) * 16 + hex(p[2]));
            p += 2;
        }
        if (n + 1 < len) {
            buf[n++] = c;
        }
    }
    buf[n] = 0;
    return p + strcspn(p, "&");
}

static const struct api__param *param_find(const struct api__param *params, const char *name)
{
    for (; params != NULL && params->name != NULL; params++) {
        if (strcmp(params->name, name) == 0) {
            return params;
        }
    }
    return NULL;
}

static bool param_value_ok(struct api__call *call, const struct api__param *p)
{
    char value[1024];
    int len = http_query_get(call->req, p->name, value, sizeof(value));
    if (p->kind == API__Q_HANDLER || len == -1) {
        return true;
    }
    if (len < 0 || (size_t)len >= p->cap) {
        http_reply_error(call->x, 400, "INVAL", "%s: longer than %zu bytes", p->name,
                         p->cap - 1);
        return false;
    }
    if (p->kind == API__Q_BOOL && strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
        http_reply_error(call->x, 400, "INVAL", "%s: expected true or false", p->name);
        return false;
    }
    return p->kind == API__Q_NAME   ? api__name_ok(call, p->name, value, p->cap)
           : p->kind == API__Q_TEXT ? api__text_ok(call, p->name, value)
                                    : true;
}

/* Every parameter must be one the route takes, given once; empty ones ("a=1&&b=2") are
 * nothing. */
bool api__query_check(struct api__call *call, const struct api__param *params)
{
    const struct api__param *seen[API__PARAMS_MAX];
    size_t n_seen = 0;
    const char *p = call->req->query;
    while (*p != 0) {
        char name[32];
        if (*p == '&') {
            p++;
            continue;
        }
        p = param_name(p, name, sizeof(name));
        const struct api__param *known = param_find(params, name);
        if (known == NULL) {
            http_reply_error(call->x, 400, "INVAL", "unknown query parameter '%s'", name);
            return false;
        }
        for (size_t i = 0; i < n_seen; i++) {
            if (seen[i] == known) {
                http_reply_error(call->x, 400, "INVAL", "query parameter '%s' given twice",
                                 name);
                return false;
            }
        }
        if (!param_value_ok(call, known)) {
            return false;
        }
        if (n_seen < API__PARAMS_MAX) {
            seen[n_seen++] = known;
        }
    }
    return true;
}
