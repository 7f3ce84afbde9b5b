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
 * FAULT_DELAY_MS later, once the answer has left. */
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
