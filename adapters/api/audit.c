/* The audit: who changed what, when.
 *
 *   GET /v1/audit?actor=&action=&object=&from=MS&to=MS&limit=N&before=ID&stale=
 *   -> {"items": [{"id", "at", "actor", "action", "object", "agent"?, "queue"?,
 *                  "contact"?}], "next": ID | null, "complete": bool}
 *
 * Answered from this node's storage (storage_audit_scan), newest first, after a read
 * barrier unless ?stale=true: every node holds the same rows once its gaps are filled
 * ("complete"). A page stops at limit items, or after looking at SCAN_MAX rows when the
 * filters are selective, so that one request never holds the loop for long; "next" is then
 * the id to pass as before= for the rest.
 *
 * The rows come from the engine's AUDIT effects. A change the engine does not make (cluster
 * membership, leadership) gets one through an AUDIT_NOTE, which api__audit_note() proposes
 * once the change is done. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "common/log.h"
#include "storage/storage.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000
#define SCAN_MAX 100000
#define NOTE_ATTEMPTS 20
#define NOTE_RETRY_MS 250

struct audit_reading
{
    struct api *api;
    struct http_exchange *x;
    char actor[ENGINE_ACTOR_MAX];
    char action[ENGINE_NAME_MAX];
    char object[ENGINE_TARGET_MAX];
    uint64_t from, to, limit;
    struct storage_audit_id before;
};

static void id_text(struct storage_audit_id id, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64 ".%" PRIu32, id.index, id.n);
}

/* "INDEX.N", both decimal numbers as api__u64_parse() reads them, INDEX from 1. */
static int id_parse(const char *text, struct storage_audit_id *out)
{
    char index_text[24];
    const char *dot = strchr(text, '.');
    uint64_t index, n;
    if (dot == NULL || (size_t)(dot - text) >= sizeof(index_text)) {
        return -1;
    }
    snprintf(index_text, sizeof(index_text), "%.*s", (int)(dot - text), text);
    if (api__u64_parse(index_text, &index) != 0 || index == 0 ||
        api__u64_parse(dot + 1, &n) != 0 || n > UINT32_MAX) {
        return -1;
    }
    *out = (struct storage_audit_id){index, (uint32_t)n};
    return 0;
}

static json_t *row_json(const struct storage_audit *row)
{
    char id[48];
    id_text(row->id, id, sizeof(id));
    json_t *j = json_pack("{s:s,s:I,s:s,s:s,s:s}", "id", id, "at", (json_int_t)row->at, "actor",
                          row->actor, "action", row->action, "object", row->object);
    if (row->agent[0] != 0) {
        json_object_set_new(j, "agent", json_string(row->agent));
    }
    if (row->queue[0] != 0) {
        json_object_set_new(j, "queue", json_string(row->queue));
    }
    if (row->contact != 0) {
        json_object_set_new(j, "contact", json_integer((json_int_t)row->contact));
    }
    return j;
}

static int add_row(void *data, const struct storage_audit *row)
{
    json_array_append_new(data, row_json(row));
    return 0;
}

static void answer(void *data, int status)
{
    struct audit_reading *r = data;
    struct storage *s = cluster_storage(r->api->cluster);
    struct storage_gap gap;
    struct storage_audit_id next;
    char next_text[48];
    struct storage_audit_query q = {.from_ms = (int64_t)r->from,
                                    .to_ms = (int64_t)r->to,
                                    .before = r->before,
                                    .actor = r->actor,
                                    .action = r->action,
                                    .object = r->object,
                                    .limit = (size_t)r->limit,
                                    .scan_max = SCAN_MAX};
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
        free(r);
        return;
    }
    json_t *items = json_array();
    int rv = storage_audit_scan(s, &q, add_row, items, &next);
    if (rv != 0) {
        json_decref(items);
        api__fail(r->x, rv, "reading the audit failed");
        free(r);
        return;
    }
    id_text(next, next_text, sizeof(next_text));
    http_reply_json(r->x, 200,
                    json_pack("{s:o,s:o,s:b}", "items", items, "next",
                              next.index != 0 ? json_string(next_text) : json_null(),
                              "complete", storage_gaps_pending(s, &gap, 1) == 0));
    free(r);
}

/* The filters: names and text were checked with the route's query (routes.c). */
static bool read_query(struct api__call *call, struct audit_reading *r)
{
    char before[48];
    r->to = INT64_MAX;
    r->limit = LIMIT_DEFAULT;
    http_query_get(call->req, "actor", r->actor, sizeof(r->actor));
    http_query_get(call->req, "action", r->action, sizeof(r->action));
    http_query_get(call->req, "object", r->object, sizeof(r->object));
    if (!api__query_u64(call, "from", 0, INT64_MAX, &r->from) ||
        !api__query_u64(call, "to", 0, INT64_MAX, &r->to) ||
        !api__query_u64(call, "limit", 1, LIMIT_MAX, &r->limit)) {
        return false;
    }
    if (r->from > r->to) {
        http_reply_error(call->x, 400, "INVAL", "from: after to");
        return false;
    }
    int n = http_query_get(call->req, "before", before, sizeof(before));
    if (n != -1 && (n < 0 || id_parse(before, &r->before) != 0)) {
        http_reply_error(call->x, 400, "INVAL",
                         "before: expected an audit id INDEX.N (two decimal numbers)");
        return false;
    }
    return true;
}

void api__audit(struct api__call *call)
{
    struct audit_reading *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    r->api = call->api;
    r->x = call->x;
    if (!read_query(call, r)) {
        free(r);
        return;
    }
    api__read_fenced(call, answer, r);
}

/* ---- Notes: changes made outside the engine ------------------------------------------ */

struct api__note
{
    uv_timer_t timer; /* first member: its close callback frees the note */
    struct api *api;
    struct http_exchange *x;
    unsigned attempts;
    bool waiting; /* the timer runs: no command in flight */
    char actor[ENGINE_ACTOR_MAX];
    char action[ENGINE_NAME_MAX];
    char object[ENGINE_TARGET_MAX];
    char message[128];
    struct api__note *prev, *next;
};

static void note_free(uv_handle_t *h)
{
    free(h);
}

/* Answers the change (it was made, whatever became of its note) and lets the note go. */
static void note_finish(struct api__note *n, bool audited)
{
    struct api *a = n->api;
    if (!audited) {
        cd_log(CD_LOG_WARN, "audit_note_lost", "action", n->action, "object", n->object,
               "actor", n->actor, NULL);
    }
    http_reply_json(
        n->x, 200,
        json_pack("{s:b,s:s,s:b}", "ok", 1, "message", n->message, "audited", audited));
    *(n->prev != NULL ? &n->prev->next : &a->notes) = n->next;
    if (n->next != NULL) {
        n->next->prev = n->prev;
    }
    uv_close((uv_handle_t *)&n->timer, note_free);
}

static void note_submit(struct api__note *n);

static void note_retry(uv_timer_t *t)
{
    struct api__note *n = (struct api__note *)t;
    n->waiting = false;
    note_submit(n);
}

/* No leader took it (the change moved the leadership, or removed the leader): try again
 * shortly, a bounded number of times. */
static void noted(void *data, const struct engine_result *res)
{
    struct api__note *n = data;
    if (res->code == CD_EUNAVAIL && n->attempts < NOTE_ATTEMPTS && !n->api->closing) {
        n->waiting = true;
        uv_timer_start(&n->timer, note_retry, NOTE_RETRY_MS, 0);
        return;
    }
    note_finish(n, res->code == 0);
}

static void note_submit(struct api__note *n)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_AUDIT_NOTE, .actor = n->actor};
    cmd.u.note.action = n->action;
    cmd.u.note.object = n->object;
    n->attempts++;
    if (cluster_submit(n->api->cluster, &cmd, noted, n) != 0) {
        note_finish(n, false);
    }
}

void api__audit_note(struct api *a,
                     struct http_exchange *x,
                     const char *actor,
                     const char *action,
                     const char *object,
                     const char *message)
{
    struct api__note *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        http_reply_json(x, 200,
                        json_pack("{s:b,s:s,s:b}", "ok", 1, "message", message, "audited", 0));
        return;
    }
    n->api = a;
    n->x = x;
    snprintf(n->actor, sizeof(n->actor), "%s", actor);
    snprintf(n->action, sizeof(n->action), "%s", action);
    snprintf(n->object, sizeof(n->object), "%s", object);
    snprintf(n->message, sizeof(n->message), "%s", message);
    uv_timer_init(a->loop, &n->timer);
    n->next = a->notes;
    if (n->next != NULL) {
        n->next->prev = n;
    }
    a->notes = n;
    note_submit(n);
}

void api__notes_stop(struct api *a)
{
    struct api__note *n = a->notes, *next;
    for (; n != NULL; n = next) {
        next = n->next;
        if (n->waiting) {
            uv_timer_stop(&n->timer);
            note_finish(n, false);
        }
    }
}
