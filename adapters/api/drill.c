/* Drills (docs/continuity.md, "Drills"): the node that takes the request carries out a fault
 * on itself, so that operators rehearse failures on the live cluster without a shell on the
 * machines.
 *
 *   POST /v1/drill {"kind": "crash"}          exit at once, as SIGKILL would
 *   {"kind": "pause", "seconds": N}           stop the loop N (1-60) seconds, as SIGSTOP
 *                                             would: no Raft, no API
 *   {"kind": "isolate", "seconds": N}         cut the node off from the other members for N
 *                                             (1-600) seconds: no Raft, no peer channel
 *                                             (cluster/drill.c); clients still reach it
 *   {"kind": "slow-disk", "seconds": N, "delay_ms": D}
 *                                             each write to the Raft log takes D (1-10000,
 *                                             default 500) ms more, for N seconds
 *   {"kind": "disk-full", "seconds": N, "leave_mb": M}
 *                                             reserve the data directory's file system's
 *                                             free space but M MiB (default: 2 % of the file
 *                                             system) in a file, DRILL_RESERVE in the data
 *                                             directory, for N seconds
 *
 * Admin only, and only where the node file says drills: true (409 STATE otherwise). The drill
 * is first written to the audit (an AUDIT_NOTE drill_KIND with this node's id, through the
 * log, so it needs a leader); the answer (202) goes out; the fault follows FAULT_DELAY_MS
 * later, once the answer has left. A node takes one drill at a time, until its fault is over.
 * A reserve left by a node stopped during its drill (a crash, a kill) is removed when the
 * node starts again (api_set_origins() calls api__drill_leftover()).
 *
 *   POST /v1/drills        a drill's report (the JSON object contactctl drill made), kept in
 *                          the replicated state (the latest 32): 201 {"drill": ID}
 *   GET  /v1/drills        the kept reports, newest first: id, at, actor, and the report's
 *                          kind, target, pass, probe's lost and unavailable_ms
 *   GET  /v1/drills/{drill}  one, whole */
#define _GNU_SOURCE /* fallocate() */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "common/log.h"

#define FAULT_DELAY_MS 200
#define PAUSE_MAX_S 60
#define LASTING_MAX_S 600 /* isolate, slow-disk, disk-full */
#define DELAY_MAX_MS 10000
#define DELAY_DEFAULT_MS 500
#define LEAVE_DEFAULT_PCT 2 /* below node/health.c's DISK_BAD: the disk reads full */
#define DRILL_RESERVE "drill-reserve"

enum kind { CRASH, PAUSE, ISOLATE, SLOW_DISK, DISK_FULL, KINDS };

static const char *const kind_names[KINDS] = {"crash", "pause", "isolate", "slow-disk",
                                              "disk-full"};
static const char *const notes[KINDS] = {"drill_crash", "drill_pause", "drill_isolate",
                                         "drill_slow_disk", "drill_disk_full"};

struct api__drill
{
    uv_timer_t timer;
    uv_work_t work;  /* disk-full: the reserve is made in the thread pool */
    unsigned refs;   /* the timer, and the work while it runs */
    struct api *api; /* NULL once the API closed */
    bool noting;     /* its AUDIT_NOTE is on its way: noted() will clean up */
    bool over;       /* its fault is over (or never began) */
    struct http_exchange *x;
    enum kind kind;
    unsigned seconds, delay_ms;
    int64_t leave_mb; /* -1: the default */
    int reserve_err;  /* errno of making the reserve, in the thread pool */
    uint64_t reserved;
    char node[ENGINE_NAME_MAX];
    char reserve[CONFIG_PATH_MAX + sizeof(DRILL_RESERVE) + 1];
};

static void release(struct api__drill *d)
{
    if (--d->refs == 0) {
        free(d);
    }
}

static void closed(uv_handle_t *h)
{
    release(h->data);
}

/* The fault is over: the disk's reserve goes, and the API may take another. */
static void finish(struct api__drill *d)
{
    if (d->over) {
        return;
    }
    d->over = true;
    if (d->reserve[0] != 0 && unlink(d->reserve) == 0) {
        cd_log(CD_LOG_WARN, "drill", "kind", "disk-full", "msg", "the reserve is released",
               NULL);
    }
    if (d->api != NULL && d->api->drill == d) {
        d->api->drill = NULL;
    }
    uv_close((uv_handle_t *)&d->timer, closed);
}

static void ended(uv_timer_t *t)
{
    struct api__drill *d = t->data;
    cd_log(CD_LOG_WARN, "drill", "kind", kind_names[d->kind], "msg", "the fault is over", NULL);
    finish(d);
}

/* In the thread pool: all of the file system's free space but leave_mb, in one file. */
static void make_reserve(uv_work_t *w)
{
    struct api__drill *d = w->data;
    struct statvfs vfs;
    int fd = open(d->reserve, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fstatvfs(fd, &vfs) != 0) {
        d->reserve_err = errno;
    } else {
        uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        uint64_t leave = d->leave_mb >= 0
                             ? (uint64_t)d->leave_mb << 20
                             : (uint64_t)vfs.f_blocks * vfs.f_frsize * LEAVE_DEFAULT_PCT / 100;
        d->reserved = avail > leave ? avail - leave : 0;
        if (d->reserved > 0 && fallocate(fd, 0, 0, (off_t)d->reserved) != 0) {
            d->reserve_err = errno;
            d->reserved = 0;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
}

static void reserve_made(uv_work_t *w, int status)
{
    struct api__drill *d = w->data;
    (void)status;
    if (d->api == NULL) {
        finish(d); /* the API closed meanwhile: release at once */
        release(d);
        return;
    }
    char mb[24];
    snprintf(mb, sizeof(mb), "%llu", (unsigned long long)(d->reserved >> 20));
    if (d->reserve_err != 0) {
        cd_log(CD_LOG_ERROR, "drill", "kind", "disk-full", "msg", "cannot reserve the space",
               "error", strerror(d->reserve_err), NULL);
    } else {
        cd_log(CD_LOG_WARN, "drill", "kind", "disk-full", "msg", "the disk is full",
               "reserved_mb", mb, NULL);
    }
    uv_timer_start(&d->timer, ended, (uint64_t)d->seconds * 1000, 0);
    release(d);
}

static void carry_out(uv_timer_t *t)
{
    struct api__drill *d = t->data;
    struct api *a = d->api;
    if (a->closing) {
        finish(d); /* the node is stopping: no fault on top of it */
        return;
    }
    const char *kind = kind_names[d->kind];
    cd_log(CD_LOG_WARN, "drill", "kind", kind, "msg", "the fault begins", NULL);
    int rv = 0;
    switch (d->kind) {
        case CRASH:
            raise(SIGKILL);
            break;
        case PAUSE: {
            struct timespec left = {.tv_sec = d->seconds}, rem;
            while (nanosleep(&left, &rem) != 0) {
                left = rem;
            }
            ended(t);
            return;
        }
        case ISOLATE:
            rv = cluster_isolate(a->cluster, d->seconds * 1000);
            break;
        case SLOW_DISK:
            rv = cluster_slow_disk(a->cluster, d->delay_ms, d->seconds * 1000);
            break;
        case DISK_FULL:
            d->work.data = d;
            d->refs++;
            if (uv_queue_work(a->loop, &d->work, make_reserve, reserve_made) != 0) {
                d->refs--;
                rv = CD_EIO;
            }
            if (rv == 0) {
                return; /* reserve_made() starts the timer */
            }
            break;
        default:
            break;
    }
    if (rv != 0) {
        cd_log(CD_LOG_ERROR, "drill", "kind", kind, "msg", "cannot carry it out", "error",
               cd_strerror(rv), NULL);
        finish(d);
        return;
    }
    uv_timer_start(&d->timer, ended, (uint64_t)d->seconds * 1000, 0);
}

static void noted(void *data, const struct engine_result *res)
{
    struct api__drill *d = data;
    d->noting = false;
    if (res->code != 0 || d->api == NULL || d->api->closing) {
        if (res->code != 0) {
            api__fail_result(d->x, res);
        } else {
            http_reply_error(d->x, 503, "UNAVAIL", "this node is stopping: no drill");
        }
        finish(d);
        return;
    }
    json_t *ans = json_pack("{s:s,s:s,s:i,s:I}", "node", d->node, "kind", kind_names[d->kind],
                            "seconds", (int)d->seconds, "at", (json_int_t)cluster_wall_ms());
    if (d->kind == SLOW_DISK) {
        json_object_set_new(ans, "delay_ms", json_integer(d->delay_ms));
    } else if (d->kind == DISK_FULL && d->leave_mb >= 0) {
        json_object_set_new(ans, "leave_mb", json_integer(d->leave_mb));
    }
    http_reply_json(d->x, 202, ans);
    uv_timer_start(&d->timer, carry_out, FAULT_DELAY_MS, 0);
}

/* Checks an optional whole number in [lo, hi]; *out keeps its default when absent. */
static bool whole(json_t *v, long long lo, long long hi, long long *out)
{
    if (v == NULL) {
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

void api__drill(struct api__call *call)
{
    static const char *const keys[] = {"kind", "seconds", "delay_ms", "leave_mb", NULL};
    struct api *a = call->api;
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    const char *kind = json_string_value(json_object_get(body, "kind"));
    json_t *secs = json_object_get(body, "seconds");
    int k = 0;
    while (k < KINDS && (kind == NULL || strcmp(kind, kind_names[k]) != 0)) {
        k++;
    }
    long long seconds = 0, delay = DELAY_DEFAULT_MS, leave = -1;
    long long max_s = k == PAUSE ? PAUSE_MAX_S : LASTING_MAX_S;
    if (a->reports == NULL || !a->reports->drills) {
        http_reply_error(call->x, 409, "STATE",
                         "this node's file does not allow drills (drills: true)");
    } else if (k == KINDS) {
        http_reply_error(call->x, 400, "INVAL",
                         "kind: expected crash, pause, isolate, slow-disk or disk-full");
    } else if (k != CRASH && (secs == NULL || !whole(secs, 1, max_s, &seconds))) {
        http_reply_error(call->x, 400, "INVAL",
                         "seconds: expected a whole number from 1 to %lld", max_s);
    } else if (k == CRASH && secs != NULL) {
        http_reply_error(call->x, 400, "INVAL", "seconds: a crash has none");
    } else if (json_object_get(body, "delay_ms") != NULL &&
               (k != SLOW_DISK ||
                !whole(json_object_get(body, "delay_ms"), 1, DELAY_MAX_MS, &delay))) {
        http_reply_error(call->x, 400, "INVAL",
                         "delay_ms: a slow disk's, a whole number from 1 to %d", DELAY_MAX_MS);
    } else if (json_object_get(body, "leave_mb") != NULL &&
               (k != DISK_FULL ||
                !whole(json_object_get(body, "leave_mb"), 0, 1LL << 40, &leave))) {
        http_reply_error(call->x, 400, "INVAL",
                         "leave_mb: a full disk's, a whole number of MiB from 0");
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
            d->refs = 1;
            d->x = call->x;
            d->kind = (enum kind)k;
            d->seconds = (unsigned)seconds;
            d->delay_ms = (unsigned)delay;
            d->leave_mb = leave;
            if (k == DISK_FULL) {
                snprintf(d->reserve, sizeof(d->reserve), "%s/%s", a->reports->data_dir,
                         DRILL_RESERVE);
            }
            snprintf(d->node, sizeof(d->node), "%s", st.id);
            uv_timer_init(a->loop, &d->timer);
            d->timer.data = d;
            struct engine_command cmd = {.kind = ENGINE_CMD_AUDIT_NOTE,
                                         .actor = call->who.actor};
            cmd.u.note.action = notes[k];
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
        if (d->refs > 1) {
            d->api = NULL; /* the reserve is being made: reserve_made() finishes */
            a->drill = NULL;
            uv_timer_stop(&d->timer);
            return;
        }
        uv_timer_stop(&d->timer);
        finish(d);
    }
}

void api__drill_leftover(const struct config_node *cfg)
{
    char path[CONFIG_PATH_MAX + sizeof(DRILL_RESERVE) + 1];
    snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, DRILL_RESERVE);
    if (unlink(path) == 0) {
        cd_log(CD_LOG_WARN, "drill", "kind", "disk-full", "msg",
               "released the reserve a stopped drill left", NULL);
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
