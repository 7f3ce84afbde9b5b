/* Report definitions (engine.h, "Report definitions"): what a named report shows, as
 * versioned, replicated configuration. The API checks a definition against what reports
 * know (figures, groupings, intervals, periods), writes it in one canonical form (JSON with
 * sorted keys, nothing but what a definition holds) and proposes it; the engine keeps the
 * versions, the audit records who changed what.
 *
 *   GET    /v1/report-definitions                      the names, with their current version
 *   POST   /v1/report-definitions/validate             a definition checked, nothing kept
 *   GET    /v1/report-definitions/{report}             ?version=N (default: current)
 *   GET    /v1/report-definitions/{report}/versions    every version kept, newest first
 *   GET    /v1/report-definitions/{report}/diff        ?from=N&to=M: the fields that differ
 *   PUT    /v1/report-definitions/{report}             a new version ("version": the one it
 *                                                      changes, optional; "comment": why)
 *   POST   /v1/report-definitions/{report}/rollback    {"version": N, "comment"?}
 *   DELETE /v1/report-definitions/{report}
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "report/report.h"

#define TITLE_MAX 200
#define FIGURES_MAX 64
#define THRESHOLDS_MAX 32
#define AUDIENCE_MAX 16
#define ADDRESS_MAX 256

/* What a definition may hold; every other member is refused. */
static const char *const def_keys[] = {"title",    "description", "figures",  "group",
                                       "interval", "period",      "filters",  "thresholds",
                                       "format",   "schedule",    "audience", NULL};

struct check
{
    char msg[256];
};

__attribute__((format(printf, 2, 3))) static bool bad(struct check *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
    return false;
}

static bool known_key(const char *key, const char *const *keys)
{
    for (; *keys != NULL; keys++) {
        if (strcmp(*keys, key) == 0) {
            return true;
        }
    }
    return false;
}

static bool only_keys(struct check *c, json_t *obj, const char *what, const char *const *keys)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (!known_key(key, keys)) {
            return bad(c, "%s: unknown member '%s'", what, key);
        }
    }
    return true;
}

static bool text_member(struct check *c,
                        json_t *obj,
                        const char *key,
                        size_t max,
                        bool required)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        return required ? bad(c, "%s: required", key) : true;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
        return bad(c, "%s: expected text of 1-%zu bytes", key, max);
    }
    return true;
}

/* One of names (a NULL-terminated list), or absent. */
static bool choice(struct check *c, json_t *obj, const char *key, int (*parse)(const char *))
{
    json_t *v = json_object_get(obj, key);
    if (v != NULL && (!json_is_string(v) || parse(json_string_value(v)) < 0)) {
        return bad(c, "%s: not one of %s", key, api__report_names(key));
    }
    return true;
}

static bool figures(struct check *c, json_t *def)
{
    json_t *arr = json_object_get(def, "figures"), *v;
    size_t i;
    if (arr == NULL) {
        return true; /* the grouping's usual figures */
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > FIGURES_MAX) {
        return bad(c, "figures: expected a list of 1-%d figure names", FIGURES_MAX);
    }
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || report_figure_find(json_string_value(v)) < 0) {
            return bad(c, "figures[%zu]: no figure is called '%s' (docs/reports.md lists them)",
                       i, json_is_string(v) ? json_string_value(v) : "?");
        }
    }
    return true;
}

static bool filters(struct check *c, json_t *def)
{
    static const char *const keys[] = {"queue", "agent", "channel", NULL};
    json_t *f = json_object_get(def, "filters");
    if (f == NULL) {
        return true;
    }
    if (!json_is_object(f) || !only_keys(c, f, "filters", keys)) {
        return c->msg[0] ? false : bad(c, "filters: expected an object");
    }
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(f, keys[i]);
        if (v != NULL &&
            (!json_is_string(v) || !engine_name_valid(json_string_value(v), ENGINE_NAME_MAX))) {
            return bad(c, "filters.%s: expected a name", keys[i]);
        }
    }
    json_t *ch = json_object_get(f, "channel");
    if (ch != NULL && (!json_is_string(ch) || api__channel_parse(json_string_value(ch)) < 0)) {
        return bad(c, "filters.channel: not one of voice, email, sms, chat");
    }
    return true;
}

static bool thresholds(struct check *c, json_t *def)
{
    static const char *const keys[] = {"figure", "warn", "alarm", NULL};
    json_t *arr = json_object_get(def, "thresholds"), *t;
    size_t i;
    if (arr == NULL) {
        return true;
    }
    if (!json_is_array(arr) || json_array_size(arr) > THRESHOLDS_MAX) {
        return bad(c, "thresholds: expected a list of at most %d", THRESHOLDS_MAX);
    }
    json_array_foreach(arr, i, t)
    {
        json_t *fig = json_object_get(t, "figure"), *warn = json_object_get(t, "warn"),
               *alarm = json_object_get(t, "alarm");
        if (!json_is_object(t) || !only_keys(c, t, "thresholds[]", keys)) {
            return c->msg[0] ? false : bad(c, "thresholds[%zu]: expected an object", i);
        }
        if (!json_is_string(fig) || report_figure_find(json_string_value(fig)) < 0) {
            return bad(c, "thresholds[%zu].figure: not a figure", i);
        }
        if ((warn != NULL && !json_is_number(warn)) ||
            (alarm != NULL && !json_is_number(alarm)) || (warn == NULL && alarm == NULL)) {
            return bad(c, "thresholds[%zu]: give warn, alarm or both, as numbers", i);
        }
    }
    return true;
}

/* "every 1m|5m|15m|30m|60m", "daily HH:MM", "weekly mon HH:MM", "monthly D HH:MM" (D 1-28). */
static bool schedule(struct check *c, json_t *def)
{
    json_t *v = json_object_get(def, "schedule");
    struct api__schedule s;
    if (v == NULL) {
        return true;
    }
    if (!json_is_string(v) || api__schedule_parse(json_string_value(v), &s) != 0) {
        return bad(c,
                   "schedule: expected \"every 15m\" (or 1m, 5m, 30m, 60m), \"daily 07:00\", "
                   "\"weekly mon 07:00\" or \"monthly 1 07:00\" (day 1-28), in the "
                   "centre's time zone");
    }
    return true;
}

static bool audience(struct check *c, json_t *def)
{
    static const char *const keys[] = {"email", "webhook", "directory", NULL};
    json_t *arr = json_object_get(def, "audience"), *a;
    size_t i;
    if (arr == NULL) {
        return true;
    }
    if (!json_is_array(arr) || json_array_size(arr) > AUDIENCE_MAX) {
        return bad(c, "audience: expected a list of at most %d", AUDIENCE_MAX);
    }
    json_array_foreach(arr, i, a)
    {
        if (!json_is_object(a) || json_object_size(a) != 1 ||
            !only_keys(c, a, "audience[]", keys)) {
            return c->msg[0] ? false
                             : bad(c,
                                   "audience[%zu]: one of {\"email\": ADDRESS}, "
                                   "{\"webhook\": URL}, {\"directory\": NAME}",
                                   i);
        }
        const char *key = json_object_iter_key(json_object_iter(a));
        json_t *v = json_object_iter_value(json_object_iter(a));
        const char *s = json_string_value(v);
        if (s == NULL || strlen(s) == 0 || strlen(s) > ADDRESS_MAX) {
            return bad(c, "audience[%zu].%s: expected text of 1-%d bytes", i, key, ADDRESS_MAX);
        }
        if (strcmp(key, "email") == 0 &&
            (strchr(s, '@') == NULL || strpbrk(s, " \t\r\n<>,;\"") != NULL)) {
            return bad(c, "audience[%zu].email: '%s' is not an address", i, s);
        }
        char host[64];
        uint16_t port;
        const char *path;
        if (strcmp(key, "webhook") == 0 &&
            !api__url_split(s, host, sizeof(host), &port, &path)) {
            return bad(c,
                       "audience[%zu].webhook: expected http://ADDRESS[:PORT]/PATH with an IP "
                       "address, as webhooks take",
                       i);
        }
        if (strcmp(key, "directory") == 0 && !engine_name_valid(s, ENGINE_NAME_MAX)) {
            return bad(c,
                       "audience[%zu].directory: a name (a directory under the node file's "
                       "reports.directory), not a path",
                       i);
        }
    }
    return true;
}

/* The definition's canonical text, or NULL with c->msg saying what is wrong. */
static char *canonical(struct check *c, json_t *def)
{
    if (!json_is_object(def)) {
        bad(c, "expected a JSON object");
        return NULL;
    }
    c->msg[0] = 0;
    if (!only_keys(c, def, "definition", def_keys) ||
        !text_member(c, def, "title", TITLE_MAX, true) ||
        !text_member(c, def, "description", 2000, false) || !figures(c, def) ||
        !choice(c, def, "group", api__report_group_parse) ||
        !choice(c, def, "interval", api__report_interval_parse) ||
        !choice(c, def, "period", api__report_period_parse) ||
        !choice(c, def, "format", api__report_format_parse) || !filters(c, def) ||
        !thresholds(c, def) || !schedule(c, def) || !audience(c, def)) {
        return NULL;
    }
    char *text = json_dumps(def, JSON_SORT_KEYS | JSON_COMPACT);
    if (text != NULL && strlen(text) >= ENGINE_REPORT_TEXT_MAX) {
        bad(c, "the definition is longer than %d bytes", ENGINE_REPORT_TEXT_MAX - 1);
        free(text);
        return NULL;
    }
    return text;
}

/* The body's definition: the body without "comment" and "version". */
static json_t *definition_of(json_t *body)
{
    json_t *def = json_deep_copy(body);
    json_object_del(def, "comment");
    json_object_del(def, "version");
    return def;
}

static json_t *def_json(const struct engine_report_def_info *d)
{
    json_t *def = json_loads(d->text, 0, NULL);
    return json_pack("{s:s,s:i,s:i,s:i,s:I,s:s,s:s,s:o}", "name", d->name, "version",
                     (int)d->version, "current", (int)d->current, "oldest", (int)d->oldest,
                     "at", (json_int_t)d->at, "actor", d->actor, "comment", d->comment,
                     "definition", def != NULL ? def : json_null());
}

/* ---- writes -------------------------------------------------------------------------------
 */

static void put(struct api__call *call, json_t *def, const char *comment, uint32_t expect)
{
    struct check c;
    char *text = canonical(&c, def);
    if (text == NULL) {
        http_reply_error(call->x, 400, "INVAL", "%s", c.msg);
        return;
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_REPORT_PUT,
                                 .u.report = {call->args[0], text, comment, expect}};
    api__submit(call, &cmd, 200);
    free(text);
}

void api__report_def_put(struct api__call *call)
{
    static const char *const keys[] = {
        "title",      "description", "figures",  "group",    "interval", "period",  "filters",
        "thresholds", "format",      "schedule", "audience", "comment",  "version", NULL};
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    json_t *comment = json_object_get(body, "comment"),
           *version = json_object_get(body, "version");
    if ((comment != NULL &&
         (!json_is_string(comment) || json_string_length(comment) >= ENGINE_COMMENT_MAX)) ||
        (version != NULL && (!json_is_integer(version) || json_integer_value(version) < 1 ||
                             json_integer_value(version) > UINT32_MAX))) {
        http_reply_error(call->x, 400, "INVAL",
                         "comment: text under %d bytes; version: the version this changes (a "
                         "number from 1)",
                         ENGINE_COMMENT_MAX);
        json_decref(body);
        return;
    }
    json_t *def = definition_of(body);
    put(call, def, json_string_value(comment),
        version != NULL ? (uint32_t)json_integer_value(version) : 0);
    json_decref(def);
    json_decref(body);
}

void api__report_def_validate(struct api__call *call)
{
    json_t *body = api__body_with(call, def_keys);
    struct check c;
    if (body == NULL) {
        return;
    }
    char *text = canonical(&c, body);
    if (text == NULL) {
        http_reply_error(call->x, 400, "INVAL", "%s", c.msg);
    } else {
        http_reply_json(
            call->x, 200,
            json_pack("{s:b,s:o}", "ok", 1, "definition", json_loads(text, 0, NULL)));
    }
    free(text);
    json_decref(body);
}

void api__report_def_rollback(struct api__call *call)
{
    static const char *const keys[] = {"version", "comment", NULL};
    json_t *body = api__body_with(call, keys);
    struct engine_report_def_info d;
    char why[ENGINE_COMMENT_MAX];
    if (body == NULL) {
        return;
    }
    json_t *version = json_object_get(body, "version"),
           *comment = json_object_get(body, "comment");
    const struct engine *e = cluster_engine(call->api->cluster);
    if (!json_is_integer(version) || json_integer_value(version) < 1 ||
        json_integer_value(version) > UINT32_MAX || (comment && !json_is_string(comment))) {
        http_reply_error(call->x, 400, "INVAL", "version: the version to go back to");
    } else if (engine_report_def_get(e, call->args[0], (uint32_t)json_integer_value(version),
                                     &d) != 0) {
        http_reply_error(call->x, 404, "NOTFOUND", "report definition '%s' has no version %lld",
                         call->args[0], (long long)json_integer_value(version));
    } else {
        snprintf(why, sizeof(why), "%s", comment ? json_string_value(comment) : "");
        if (why[0] == 0) {
            snprintf(why, sizeof(why), "back to version %u", d.version);
        }
        json_t *def = json_loads(d.text, 0, NULL);
        put(call, def, why, d.current);
        json_decref(def);
    }
    json_decref(body);
}

void api__report_def_delete(struct api__call *call)
{
    static const char *const none[] = {NULL};
    json_t *body = api__body_with(call, none);
    if (body == NULL) {
        return;
    }
    json_decref(body);
    struct engine_command cmd = {.kind = ENGINE_CMD_REPORT_DELETE,
                                 .u.report = {.name = call->args[0]}};
    api__submit(call, &cmd, 200);
}

/* ---- reads (after a read barrier, like every read) --------------------------------------- */

struct def_read
{
    struct api *api;
    struct http_exchange *x;
    int what;
    char name[ENGINE_NAME_MAX];
    uint64_t version, from, to;
};

static json_t *diff(json_t *a, json_t *b)
{
    json_t *changes = json_array();
    const char *key;
    json_t *v;
    for (const char *const *k = def_keys; *k != NULL; k++) {
        key = *k;
        json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
        if (!json_equal(x, y) && (x != NULL || y != NULL)) {
            json_array_append_new(
                changes, json_pack("{s:s,s:O?,s:O?}", "field", key, "from", x, "to", y));
        }
    }
    (void)v;
    return changes;
}

static const char *const delivery_states[] = {"pending", "done", "failed"};

/* The rounds kept, newest first, each delivery named by its member of the audience (as the
 * current version lists it). */
static json_t *deliveries(const struct engine *e,
                          const char *name,
                          const struct engine_report_def_info *d)
{
    struct engine_round_info r;
    json_t *items = json_array(), *def = json_loads(d->text, 0, NULL);
    json_t *audience = json_object_get(def, "audience");
    for (size_t i = 0; engine_report_round(e, name, i, &r) == 0; i++) {
        json_t *targets = json_array();
        for (uint8_t t = 0; t < r.n_targets; t++) {
            const struct engine_delivery_info *x = &r.targets[t];
            json_t *member = json_array_get(audience, t);
            json_array_append_new(
                targets,
                json_pack("{s:i,s:O?,s:s,s:i,s:I,s:I,s:s}", "target", (int)t, "to", member,
                          "state", delivery_states[x->state], "attempts", (int)x->attempts,
                          "retry_at", (json_int_t)x->retry_at, "at", (json_int_t)x->at,
                          x->state == ENGINE_DELIVERY_DONE ? "receipt" : "error", x->text));
        }
        json_array_insert_new(
            items, 0,
            json_pack("{s:I,s:i,s:I,s:o}", "slot", (json_int_t)r.slot, "version",
                      (int)r.version, "opened", (json_int_t)r.opened, "deliveries", targets));
    }
    json_decref(def);
    return items;
}

static void def_answer(void *data, int status)
{
    struct def_read *r = data;
    const struct engine *e = cluster_engine(r->api->cluster);
    struct engine_report_def_info d, d2;
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
    } else if (r->what == API__DEFS_LIST) {
        json_t *items = json_array();
        for (size_t i = 0; engine_report_def_name(e, i) != NULL; i++) {
            if (engine_report_def_get(e, engine_report_def_name(e, i), 0, &d) == 0) {
                json_t *def = json_loads(d.text, 0, NULL);
                json_array_append_new(
                    items,
                    json_pack("{s:s,s:i,s:s?,s:s?,s:I,s:s}", "name", d.name, "version",
                              (int)d.version, "title",
                              json_string_value(json_object_get(def, "title")), "schedule",
                              json_string_value(json_object_get(def, "schedule")), "at",
                              (json_int_t)d.at, "actor", d.actor));
                json_decref(def);
            }
        }
        http_reply_json(r->x, 200, json_pack("{s:o}", "items", items));
    } else if (engine_report_def_get(e, r->name, 0, &d) != 0) {
        http_reply_error(r->x, 404, "NOTFOUND", "report definition '%s' not found", r->name);
    } else if (r->what == API__DEFS_ONE) {
        if (r->version != 0 &&
            engine_report_def_get(e, r->name, (uint32_t)r->version, &d) != 0) {
            http_reply_error(r->x, 404, "NOTFOUND",
                             "report definition '%s' keeps versions %u to %u, not %llu",
                             r->name, d.oldest, d.current, (unsigned long long)r->version);
        } else {
            http_reply_json(r->x, 200, def_json(&d));
        }
    } else if (r->what == API__DEFS_DELIVERIES) {
        http_reply_json(r->x, 200, json_pack("{s:o}", "items", deliveries(e, r->name, &d)));
    } else if (r->what == API__DEFS_VERSIONS) {
        json_t *items = json_array();
        for (uint32_t v = d.current; v >= d.oldest && v > 0; v--) {
            if (engine_report_def_get(e, r->name, v, &d2) == 0) {
                json_array_append_new(items, def_json(&d2));
            }
        }
        http_reply_json(r->x, 200, json_pack("{s:o}", "items", items));
    } else {
        uint32_t from = r->from ? (uint32_t)r->from : (d.current > 1 ? d.current - 1 : 1);
        uint32_t to = r->to ? (uint32_t)r->to : d.current;
        if (engine_report_def_get(e, r->name, from, &d) != 0 ||
            engine_report_def_get(e, r->name, to, &d2) != 0) {
            http_reply_error(r->x, 404, "NOTFOUND",
                             "report definition '%s' does not keep versions %u and %u", r->name,
                             from, to);
        } else {
            json_t *a = json_loads(d.text, 0, NULL), *b = json_loads(d2.text, 0, NULL);
            http_reply_json(r->x, 200,
                            json_pack("{s:s,s:i,s:i,s:o}", "name", r->name, "from", (int)from,
                                      "to", (int)to, "changes", diff(a, b)));
            json_decref(a);
            json_decref(b);
        }
    }
    free(r);
}

void api__report_def_read(struct api__call *call, int what)
{
    struct def_read *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    *r = (struct def_read){.api = call->api, .x = call->x, .what = what};
    snprintf(r->name, sizeof(r->name), "%.*s", ENGINE_NAME_MAX - 1, call->args[0]);
    if (!api__query_u64(call, "version", 1, UINT32_MAX, &r->version) ||
        !api__query_u64(call, "from", 1, UINT32_MAX, &r->from) ||
        !api__query_u64(call, "to", 1, UINT32_MAX, &r->to)) {
        free(r);
        return;
    }
    api__read_fenced(call, def_answer, r);
}

int api__report_def_text(const struct engine *e,
                         const char *name,
                         uint32_t version,
                         json_t **out)
{
    struct engine_report_def_info d;
    int rv = engine_report_def_get(e, name, version, &d);
    if (rv == 0) {
        *out = json_loads(d.text, 0, NULL);
        rv = *out != NULL ? 0 : CD_ECORRUPT;
    }
    return rv;
}
