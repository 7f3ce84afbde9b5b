/* Drills (docs/continuity.md, "Drills"): the node that takes the request carries out a fault
 * on itself, so that operators rehearse failures on the live cluster without a shell on the
 * machines.
 *
 *   POST /v1/drill {"kind": "crash"}                 exit at once, as SIGKILL would
 *   POST /v1/drill {"kind": "pause", "seconds": N}   stop the loop N (1-60) seconds, as
 *                                                    SIGSTOP would: no Raft, no API
 *
 * Admin only, and only where the node file says drills: true (409 STATE otherwise). The drill
 * is first written to the audit (an AUDIT_NOTE drill_crash / drill_pause with this node's id,
 * through the log, so it needs a leader); the answer (202) goes out; the fault follows
 * FAULT_DELAY_MS later, once the answer has left.
 *
 *   POST /v1/drills        a drill's report (the JSON object contactctl drill made), kept in
 *                          the replicated state (the latest 32): 201 {"drill": ID}
 *   GET  /v1/drills        the kept reports, newest first: id, at, actor, and the report's
 *                          kind, target, pass, probe's lost and unavailable_ms
 *   GET  /v1/drills/{drill}  one, whole */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "common/log.h"

#define FAULT_DELAY_MS 200
#define PAUSE_MAX_S 60

enum kind { CRASH, PAUSE };

struct api__drill
{
    uv_timer_t timer; /* first: the close callback frees the whole struct */
    struct api *api;
    bool noting; /* its AUDIT_NOTE is on its way: noted() will clean up */
    struct http_exchange *x;
    enum kind kind;
    unsigned seconds;
    char node[ENGINE_NAME_MAX];
};

static void closed(uv_handle_t *h)
{
    free(h);
}

/* Done with it: the API may take another. */
static void finish(struct api__drill *d)
{
    if (d->api->drill == d) {
        d->api->drill = NULL;
    }
    uv_close((uv_handle_t *)&d->timer, closed);
}

static void carry_out(uv_timer_t *t)
{
    struct api__drill *d = (struct api__drill *)t;
    if (d->api->closing) {
        finish(d); /* the node is stopping: no fault on top of it */
        return;
    }
    if (d->kind == CRASH) {
        cd_log(CD_LOG_WARN, "drill", "kind", "crash", "msg", "exiting at once", NULL);
        raise(SIGKILL);
    }
    cd_log(CD_LOG_WARN, "drill", "kind", "pause", "msg", "stopping the loop", NULL);
    struct timespec left = {.tv_sec = d->seconds}, rem;
    while (nanosleep(&left, &rem) != 0) {
        left = rem;
    }
    cd_log(CD_LOG_WARN, "drill", "kind", "pause", "msg", "the loop goes on", NULL);
    finish(d);
}

static void noted(void *data, const struct engine_result *res)
{
    struct api__drill *d = data;
    d->noting = false;
    if (res->code != 0 || d->api->closing) {
        if (res->code != 0) {
            api__fail_result(d->x, res);
        } else {
            http_reply_error(d->x, 503, "UNAVAIL", "this node is stopping: no drill");
        }
        finish(d);
        return;
    }
    http_reply_json(d->x, 202,
                    json_pack("{s:s,s:s,s:i,s:I}", "node", d->node, "kind",
                              d->kind == CRASH ? "crash" : "pause", "seconds", (int)d->seconds,
                              "at", (json_int_t)cluster_wall_ms()));
    uv_timer_start(&d->timer, carry_out, FAULT_DELAY_MS, 0);
}

void api__drill(struct api__call *call)
{
    static const char *const keys[] = {"kind", "seconds", NULL};
    struct api *a = call->api;
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    const char *kind = json_string_value(json_object_get(body, "kind"));
    json_t *secs = json_object_get(body, "seconds");
    enum kind k = kind != NULL && strcmp(kind, "crash") == 0 ? CRASH : PAUSE;
    if (a->reports == NULL || !a->reports->drills) {
        http_reply_error(call->x, 409, "STATE",
                         "this node's file does not allow drills (drills: true)");
    } else if (kind == NULL || (strcmp(kind, "crash") != 0 && strcmp(kind, "pause") != 0)) {
        http_reply_error(call->x, 400, "INVAL", "kind: expected crash or pause");
    } else if (k == PAUSE && (!json_is_integer(secs) || json_integer_value(secs) < 1 ||
                              json_integer_value(secs) > PAUSE_MAX_S)) {
        http_reply_error(call->x, 400, "INVAL", "seconds: expected a whole number from 1 to %d",
                         PAUSE_MAX_S);
    } else if (k == CRASH && secs != NULL) {
        http_reply_error(call->x, 400, "INVAL", "seconds: a crash has none");
    } else if (a->drill != NULL) {
        http_reply_error(call->x, 409, "STATE", "a drill is under way on this node");
    } else {
        struct api__drill *d = calloc(1, sizeof(*d));
        struct cluster_status st;
        cluster_status(a->cluster, &st);
        if (d == NULL) {
            http_reply_error(call->x, 500, "NOMEM", "out of memory");
        } else {
            d->api = a;
            d->x = call->x;
            d->kind = k;
            d->seconds = k == PAUSE ? (unsigned)json_integer_value(secs) : 0;
            snprintf(d->node, sizeof(d->node), "%s", st.id);
            uv_timer_init(a->loop, &d->timer);
            struct engine_command cmd = {.kind = ENGINE_CMD_AUDIT_NOTE,
                                         .actor = call->who.actor};
            cmd.u.note.action = k == CRASH ? "drill_crash" : "drill_pause";
            cmd.u.note.object = d->node;
            a->drill = d;
            int rv = cluster_submit(a->cluster, &cmd, noted, d);
            d->noting = rv == 0;
            if (rv != 0) {
                api__fail(call->x, rv, NULL);
                finish(d);
            }
        }
    }
    json_decref(body);
}

void api__drill_close(struct api *a)
{
    struct api__drill *d = a->drill;
    if (d != NULL && !d->noting) {
        uv_timer_stop(&d->timer);
        finish(d);
    }
}

/* ---- Reports kept ---------------------------------------------------------------------- */

void api__drill_record(struct api__call *call)
{
    json_error_t jerr;
    json_t *doc =
        json_loadb(call->req->body, call->req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL || !json_is_object(doc) || !json_is_string(json_object_get(doc, "kind")) ||
        !json_is_boolean(json_object_get(doc, "pass"))) {
        http_reply_error(call->x, 400, "INVAL",
                         "body: a drill's report, a JSON object with at least \"kind\" and "
                         "\"pass\" (contactctl drill makes one)");
        json_decref(doc);
        return;
    }
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (text == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    if (strlen(text) >= ENGINE_DRILL_TEXT_MAX) {
        http_reply_error(call->x, 413, "TOO_LARGE", "a drill report is at most %d bytes",
                         ENGINE_DRILL_TEXT_MAX - 1);
    } else {
        struct engine_command cmd = {.kind = ENGINE_CMD_DRILL_RECORD,
                                     .u.runbook = {.text = text}};
        api__submit(call, &cmd, 201);
    }
    free(text);
}

static json_t *drill_json(const struct engine_drill_info *d, bool whole)
{
    json_t *report = json_loads(d->text, 0, NULL);
    json_t *o = json_pack("{s:I,s:I,s:s}", "id", (json_int_t)d->id, "at", (json_int_t)d->at,
                          "actor", d->actor);
    if (whole) {
        json_object_set_new(o, "report", report != NULL ? report : json_string(d->text));
        return o;
    }
    json_t *probe = json_object_get(report, "probe");
    static const char *const keys[] = {"kind", "target", "pass", "started"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(report, keys[i]);
        json_object_set(o, keys[i], v != NULL ? v : json_null());
    }
    json_object_set(
        o, "lost",
        json_object_get(probe, "lost") ? json_object_get(probe, "lost") : json_null());
    json_object_set(o, "unavailable_ms",
                    json_object_get(probe, "unavailable_ms")
                        ? json_object_get(probe, "unavailable_ms")
                        : json_null());
    json_decref(report);
    return o;
}

void api__drills(struct api__call *call, int one)
{
    const struct engine *e = cluster_engine(call->api->cluster);
    struct engine_drill_info d;
    if (one) {
        if (call->ids[0] > UINT32_MAX || engine_drill_get(e, (uint32_t)call->ids[0], &d) != 0) {
            http_reply_error(call->x, 404, "NOTFOUND", "drill report %llu not found",
                             (unsigned long long)call->ids[0]);
        } else {
            http_reply_json(call->x, 200, drill_json(&d, true));
        }
        return;
    }
    json_t *items = json_array();
    for (size_t i = engine_drill_count(e); i-- > 0;) {
        if (engine_drill_at(e, i, &d) == 0) {
            json_array_append_new(items, drill_json(&d, false));
        }
    }
    http_reply_json(call->x, 200, json_pack("{s:o}", "items", items));
}
