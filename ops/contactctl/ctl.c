/* Talking to the cluster through any of its nodes, and printing what it answers. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/contactctl/ctl.h"
#include "ops/contactctl/http_blocking.h"

#define ARGS_MAX 64

static bool consumed[ARGS_MAX];

/* Prints an error answer as "contactctl: CODE: message"; a 401 says how to give a token. */
static void print_refusal(const struct hb_answer *a)
{
    json_t *doc = json_loads(a->body, 0, NULL);
    json_t *err = json_object_get(doc, "error");
    const char *hint = a->status == 401 ? " (set CONTACTD_TOKEN or --token-file)" : "";
    if (json_is_object(err)) {
        fprintf(stderr, "contactctl: %s: %s%s\n",
                json_string_value(json_object_get(err, "code")),
                json_string_value(json_object_get(err, "message")), hint);
    } else {
        fprintf(stderr, "contactctl: HTTP %d: %.500s%s\n", a->status, a->body, hint);
    }
    json_decref(doc);
}

/* The leader's API address as node names it, reached the way node is, or "" when it knows
 * none. */
static void leader_of(const struct ctl *c, const char *node, char *out, size_t len)
{
    struct hb_answer a;
    char err[256];
    out[0] = 0;
    if (hb_request(c->http, node, "GET", "/v1/cluster", NULL, &a, err, sizeof(err)) == 0) {
        json_t *doc = a.status == 200 ? json_loads(a.body, 0, NULL) : NULL;
        const char *api = json_string_value(json_object_get(doc, "leader_api"));
        if (api != NULL && *api != 0) {
            hb_endpoint_like(node, api, out, len);
        }
        json_decref(doc);
        hb_answer_free(&a);
    }
}

/* The answer's body as it came: its bytes and a NUL after them. */
static int keep_body(const struct hb_answer *a, char **raw, size_t *raw_len)
{
    *raw = malloc(a->len + 1);
    if (*raw == NULL) {
        fprintf(stderr, "contactctl: out of memory\n");
        return CTL_REFUSED;
    }
    memcpy(*raw, a->body, a->len);
    (*raw)[a->len] = '\0';
    if (raw_len != NULL) {
        *raw_len = a->len;
    }
    return CTL_OK;
}

static int answered(const struct hb_answer *a, json_t **out, char **raw, size_t *raw_len)
{
    if (a->status >= 200 && a->status < 300) {
        if (out != NULL) {
            *out = json_loads(a->body, 0, NULL);
        }
        return raw != NULL ? keep_body(a, raw, raw_len) : CTL_OK;
    }
    print_refusal(a);
    return a->status == 503 ? CTL_UNREACHABLE : CTL_REFUSED;
}

/* One request to node: 0 with its answer in *a; -1 when the next node may be asked; or
 * CTL_UNREACHABLE, said, when the node may have taken a change it did not answer. */
static int attempt(const struct ctl *c,
                   const char *node,
                   bool safe,
                   const char *method,
                   const char *path,
                   const char *body,
                   struct hb_answer *a,
                   char *err,
                   size_t errlen)
{
    int sent = hb_request(c->http, node, method, path, body, a, err, errlen);
    if (sent == HB_NO_ANSWER && !safe) {
        fprintf(stderr,
                "contactctl: %s; the change may or may not have been made: check before "
                "running it again\n",
                err);
        return CTL_UNREACHABLE;
    }
    return sent == 0 ? 0 : -1;
}

static int call(struct ctl *c,
                const char *method,
                const char *path,
                const char *body,
                json_t **out,
                char **raw,
                size_t *raw_len)
{
    char err[CTL_ADDR_MAX + 64] = "", node[CTL_ADDR_MAX];
    struct hb_answer a;
    if (out != NULL) {
        *out = NULL;
    }
    if (raw != NULL) {
        *raw = NULL;
    }
    bool safe = strcmp(method, "GET") == 0 || c->replay_safe;
    for (int tried = 0; tried < c->n_endpoints; tried++) {
        int i = (c->current + tried) % c->n_endpoints;
        snprintf(node, sizeof(node), "%s", c->endpoints[i]);
        int rv = attempt(c, node, safe, method, path, body, &a, err, sizeof(err));
        if (rv == 0 && a.status == 503 && strstr(a.body, "NOTLEADER") != NULL) {
            char leader[CTL_ADDR_MAX];
            leader_of(c, node, leader, sizeof(leader));
            if (leader[0] != 0) {
                hb_answer_free(&a);
                rv = attempt(c, leader, safe, method, path, body, &a, err, sizeof(err));
            }
        }
        if (rv > 0) {
            return rv;
        }
        if (rv < 0) {
            continue;
        }
        if (a.status == 503 && tried + 1 < c->n_endpoints && safe) {
            snprintf(err, sizeof(err), "%s answered 503", node);
            hb_answer_free(&a);
            continue;
        }
        c->current = i;
        rv = answered(&a, out, raw, raw_len);
        hb_answer_free(&a);
        return rv;
    }
    fprintf(stderr, "contactctl: no node answered (%s); tried %d endpoint%s\n", err,
            c->n_endpoints, c->n_endpoints == 1 ? "" : "s");
    return CTL_UNREACHABLE;
}

int ctl_call(struct ctl *c,
             const char *method,
             const char *path,
             const char *body,
             json_t **out)
{
    return call(c, method, path, body, out, NULL, NULL);
}

int ctl_call_raw(struct ctl *c, const char *path, char **out)
{
    return call(c, "GET", path, NULL, NULL, out, NULL);
}

int ctl_call_bytes(struct ctl *c, const char *path, char **out, size_t *len)
{
    *len = 0;
    return call(c, "GET", path, NULL, NULL, out, len);
}

const char *ctl_path(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, fmt);
    for (const char *p = fmt; *p != 0 && n + 4 < len; p++) {
        if (p[0] == '%' && p[1] == 's') {
            for (const unsigned char *s = va_arg(ap, const unsigned char *); *s && n + 4 < len;
                 s++) {
                if (isalnum(*s) || strchr("-_.~", *s) != NULL) {
                    buf[n++] = (char)*s;
                } else {
                    n += (size_t)snprintf(buf + n, len - n, "%%%02X", *s);
                }
            }
            p++;
        } else {
            buf[n++] = *p;
        }
    }
    va_end(ap);
    buf[n] = 0;
    return buf;
}

char *ctl_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t cap = 0, n = 0, got;
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    do {
        if (n + 4096 + 1 > cap) {
            char *bigger = realloc(text, cap = 2 * cap + 8192);
            if (bigger == NULL) {
                break;
            }
            text = bigger;
        }
        got = fread(text + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    bool bad = ferror(f) != 0 || text == NULL;
    fclose(f);
    if (bad) {
        fprintf(stderr, "contactctl: cannot read '%s'\n", path);
        free(text);
        return NULL;
    }
    text[n] = 0;
    return text;
}

/* ---- Printing -------------------------------------------------------------------------- */

static const json_t *at_path(const json_t *obj, const char *path)
{
    char key[64];
    while (obj != NULL && *path != 0) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        obj = json_object_get(obj, key);
        path += n + (path[n] == '.');
    }
    return obj;
}

const char *ctl_time(long long ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || gmtime_r(&secs, &tm) == NULL) {
        snprintf(buf, len, "-");
    } else {
        strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
    }
    return buf;
}

static void text_of(const json_t *v, bool time, char *buf, size_t len)
{
    if (time && json_is_integer(v)) {
        ctl_time((long long)json_integer_value(v), buf, len);
    } else if (json_is_string(v)) {
        snprintf(buf, len, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    } else if (json_is_true(v) || json_is_false(v)) {
        snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
    } else if (v == NULL || json_is_null(v)) {
        snprintf(buf, len, "-");
    } else {
        char *dump = json_dumps(v, JSON_COMPACT);
        snprintf(buf, len, "%s", dump ? dump : "?");
        free(dump);
    }
}

void ctl_print_json(const json_t *doc)
{
    json_dumpf(doc, stdout, JSON_INDENT(2));
    putchar('\n');
}

void ctl_table(const json_t *items, const struct ctl_column *cols, size_t n)
{
    size_t width[32] = {0}, i;
    char cell[256];
    const json_t *item;
    n = n > 32 ? 32 : n;
    for (size_t k = 0; k < n; k++) {
        width[k] = strlen(cols[k].title);
    }
    json_array_foreach(items, i, item)
    {
        for (size_t k = 0; k < n; k++) {
            text_of(at_path(item, cols[k].path), cols[k].time, cell, sizeof(cell));
            width[k] = strlen(cell) > width[k] ? strlen(cell) : width[k];
        }
    }
    for (size_t k = 0; k < n; k++) {
        printf("%-*s%s", k + 1 < n ? (int)width[k] : 0, cols[k].title, k + 1 < n ? "  " : "\n");
    }
    json_array_foreach(items, i, item)
    {
        for (size_t k = 0; k < n; k++) {
            text_of(at_path(item, cols[k].path), cols[k].time, cell, sizeof(cell));
            printf("%-*s%s", k + 1 < n ? (int)width[k] : 0, cell, k + 1 < n ? "  " : "\n");
        }
    }
}

void ctl_fields(const json_t *obj, const struct ctl_column *cols, size_t n)
{
    char cell[4096];
    for (size_t k = 0; k < n; k++) {
        text_of(at_path(obj, cols[k].path), cols[k].time, cell, sizeof(cell));
        printf("%-16s %s\n", cols[k].title, cell);
    }
}

void ctl_show(const struct ctl *c,
              const json_t *doc,
              const struct ctl_column *cols,
              size_t n,
              bool table)
{
    if (c->json) {
        ctl_print_json(doc);
    } else if (table) {
        ctl_table(json_object_get(doc, "items"), cols, n);
    } else {
        ctl_fields(doc, cols, n);
    }
}

/* ---- Options ------------------------------------------------------------------------- */

const char *ctl_opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc && i + 1 < ARGS_MAX; i++) {
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0) {
            consumed[i] = consumed[i + 1] = true;
            return argv[i + 1];
        }
    }
    return NULL;
}

bool ctl_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc && i < ARGS_MAX; i++) {
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, name) == 0) {
            consumed[i] = true;
            return true;
        }
    }
    return false;
}

bool ctl_extra(int argc, char **argv, int n_words, const char *what)
{
    for (int i = n_words; i < argc; i++) {
        if (i >= ARGS_MAX || !consumed[i]) {
            fprintf(stderr, "contactctl: %s: unexpected '%s'\n", what, argv[i]);
            return true;
        }
    }
    return false;
}

void ctl_query(char *buf,
               size_t len,
               int argc,
               char **argv,
               const char *const (*opts)[2],
               size_t n)
{
    char part[320];
    for (size_t i = 0; i < n; i++) {
        const char *v = ctl_opt(argc, argv, opts[i][0]);
        if (v != NULL) {
            ctl_path(part, sizeof(part), "&%s=%s", opts[i][1], v);
            strncat(buf, part, len - strlen(buf) - 1);
        }
    }
}
