/* GET /v1/events: the effects of applied entries (offers, connections, endings, agent
 * states, model installs, audit records) as a long-poll feed that survives a failover.
 *
 * Every node applies the same log and so sees the same effects in the same order; an
 * event's id is "INDEX.N", effect N of the entry at INDEX, the same on every node. A client
 * that read up to some id from one node asks any other node for what follows it and misses
 * nothing, as long as that node still keeps it: each node keeps the latest EVENTS_KEPT
 * events in memory, and knows up to which id it may lack some (its horizon: the snapshot
 * it started from or caught up with, or the last event it let go of). A request for what
 * follows an id below the horizon is answered 410, and the client reads the state afresh.
 *
 *   GET /v1/events?after=ID|now&wait_ms=0..60000&limit=1..10000&agent=NAME&contact=ID&kind=K,K
 *   -> {"events":[...], "last_id":"I.N"}   (next time: after=last_id)
 *
 * With nothing to return, the request waits up to wait_ms for a matching event; it is then
 * answered with what matched, or with none and last_id moved past what did not match. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

#define EVENTS_KEPT 65536
#define WAIT_MAX_MS 60000
#define LIMIT_DEFAULT 1000
#define LIMIT_MAX 10000

struct event_id
{
    uint64_t index;
    uint32_t n;
};

struct event
{
    struct event_id id;
    uint8_t kind;
    uint64_t contact;
    char agent[ENGINE_NAME_MAX];
    char *json;
};

struct waiter
{
    struct waiter *next;
    struct http_exchange *x;
    struct event_id after;
    uint64_t deadline; /* uv_now() */
    uint64_t limit;
    uint64_t contact;
    uint32_t kinds; /* bit per enum engine_effect_kind; 0 = all */
    char agent[ENGINE_NAME_MAX];
};

struct api__events
{
    uv_timer_t timer; /* first member: the close callback frees the whole struct */
    struct api *api;
    struct event *ring;
    size_t head, len; /* oldest at ring[head] */
    struct event_id horizon;
    struct waiter *waiters;
};

static int id_cmp(struct event_id a, struct event_id b)
{
    if (a.index != b.index) {
        return a.index < b.index ? -1 : 1;
    }
    return a.n < b.n ? -1 : a.n > b.n;
}

static void id_text(struct event_id id, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRIu64 ".%" PRIu32, id.index, id.n);
}

/* "INDEX.N", both decimal as api__u64_parse() reads them. */
static int id_parse(const char *text, struct event_id *out)
{
    char index_text[24];
    const char *dot = strchr(text, '.');
    uint64_t index, n;
    if (dot == NULL || (size_t)(dot - text) >= sizeof(index_text)) {
        return -1;
    }
    snprintf(index_text, sizeof(index_text), "%.*s", (int)(dot - text), text);
    if (api__u64_parse(index_text, &index) != 0 || api__u64_parse(dot + 1, &n) != 0 ||
        n > UINT32_MAX) {
        return -1;
    }
    *out = (struct event_id){index, (uint32_t)n};
    return 0;
}

static struct event *at(struct api__events *ev, size_t i)
{
    return &ev->ring[(ev->head + i) % EVENTS_KEPT];
}

/* Position of the first event after id. */
static size_t first_after(struct api__events *ev, struct event_id id)
{
    size_t lo = 0, hi = ev->len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (id_cmp(at(ev, mid)->id, id) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Who changed what: {"id", "kind": "audit", "actor", "action", "object", "at"}, and the
 * agent, queue or contact it was about (which the feed's filters read). */
static json_t *audit_json(const char *id, const struct engine_effect *fx)
{
    const char *action =
        fx->action != NULL && fx->action[0] != 0 ? fx->action : engine_cmd_name(fx->state);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", id, "kind", "audit", "actor",
                          fx->text ? fx->text : "", "action", action ? action : "?", "object",
                          fx->object ? fx->object : "", "at", (json_int_t)fx->at);
    if (fx->agent != NULL && fx->agent[0] != 0) {
        json_object_set_new(j, "agent", json_string(fx->agent));
    }
    if (fx->queue != NULL && fx->queue[0] != 0) {
        json_object_set_new(j, "queue", json_string(fx->queue));
    }
    if (fx->contact != 0) {
        json_object_set_new(j, "contact", json_integer((json_int_t)fx->contact));
    }
    return j;
}

json_t *api__event_json(uint64_t index, uint32_t n, const struct engine_effect *fx)
{
    char text[48];
    id_text((struct event_id){index, n}, text, sizeof(text));
    if (fx->kind == ENGINE_FX_AUDIT) {
        return audit_json(text, fx);
    }
    const char *kind = engine_effect_name(fx->kind);
    json_t *j = json_pack("{s:s,s:s}", "id", text, "kind", kind != NULL ? kind : "?");
    if (fx->contact != 0) {
        json_object_set_new(j, "contact", json_integer((json_int_t)fx->contact));
        json_object_set_new(j, "channel", json_string(engine_channel_name(fx->channel)));
        json_object_set_new(j, "session",
                            json_pack("{s:s,s:s}", "home", fx->home ? fx->home : "", "key",
                                      fx->session ? fx->session : ""));
    }
    if (fx->old_home != NULL && fx->old_home[0] != 0) {
        json_object_set_new(j, "old_home", json_string(fx->old_home));
    }
    if (fx->offer != 0) {
        json_object_set_new(j, "offer", json_integer((json_int_t)fx->offer));
    }
    if (fx->agent != NULL && fx->agent[0] != 0) {
        json_object_set_new(j, "agent", json_string(fx->agent));
    }
    if (fx->queue != NULL && fx->queue[0] != 0) {
        json_object_set_new(j, "queue", json_string(fx->queue));
    }
    if (fx->text != NULL && fx->text[0] != 0) {
        json_object_set_new(j, "text", json_string(fx->text));
    }
    if (fx->kind == ENGINE_FX_MODEL) {
        json_object_set_new(j, "version", json_integer(fx->at));
        json_object_del(j, "text");
        json_object_set_new(j, "actor", json_string(fx->text ? fx->text : ""));
    } else if (fx->at != 0) {
        json_object_set_new(j, "at", json_integer(fx->at));
    }
    if (fx->kind == ENGINE_FX_QUEUED) {
        json_object_set_new(j, "ewt_ms", json_integer(fx->ewt_ms));
    } else if (fx->kind == ENGINE_FX_ESCALATED) {
        json_object_set_new(j, "step", json_integer(fx->step));
    } else if (fx->kind == ENGINE_FX_AGENT_STATE) {
        json_object_set_new(j, "state", json_string(engine_agent_state_name(fx->state)));
    } else if (fx->kind == ENGINE_FX_OFFER_CANCEL) {
        json_object_set_new(j, "state", json_string(engine_contact_state_name(fx->state)));
    } else if (fx->kind == ENGINE_FX_ENDED && fx->history != NULL) {
        json_object_set_new(j, "state",
                            json_string(engine_contact_state_name(fx->history->outcome)));
        if (fx->history->disposition != NULL && fx->history->disposition[0] != 0) {
            json_object_set_new(j, "disposition", json_string(fx->history->disposition));
        }
    } else if (fx->kind == ENGINE_FX_MESSAGE) {
        json_object_set_new(j, "seq", json_integer(fx->seq));
        json_object_set_new(j, "from", json_string(engine_side_name(fx->side)));
        json_object_set_new(j, "msg_id", json_string(fx->msg_id ? fx->msg_id : ""));
    }
    return j;
}

static bool matches(const struct waiter *w, const struct event *e)
{
    return (w->kinds == 0 || (w->kinds & (1u << e->kind))) &&
           (w->contact == 0 || w->contact == e->contact) &&
           (w->agent[0] == 0 || strcmp(w->agent, e->agent) == 0);
}

/* Answers 410 when the events after w->after are no longer all kept here: the node let
 * them go, or replaced its state by a snapshot (even while w was waiting). */
static bool gone(struct api__events *ev, struct waiter *w)
{
    char want[48], kept[48];
    if (id_cmp(w->after, ev->horizon) >= 0) {
        return false;
    }
    id_text(w->after, want, sizeof(want));
    id_text(ev->horizon, kept, sizeof(kept));
    http_reply_error(w->x, 410, "GONE",
                     "events after %s are no longer all kept on this node (it keeps those "
                     "after %s): read the state afresh and go on from after=now",
                     want, kept);
    return true;
}

/* Answers w if it has something to say (or must: its time is up); returns true if it did. */
static bool answer(struct api__events *ev, struct waiter *w, bool must)
{
    if (gone(ev, w)) {
        return true;
    }
    size_t i = first_after(ev, w->after);
    json_t *items = json_array();
    struct event_id last = w->after;
    uint64_t n = 0;
    for (; i < ev->len && n < w->limit; i++) {
        struct event *e = at(ev, i);
        if (matches(w, e)) {
            json_array_append_new(items, json_loads(e->json, 0, NULL));
            n++;
        }
        last = e->id;
    }
    if (n == 0 && !must) {
        json_decref(items);
        w->after = last; /* nothing matched so far: no need to look at those again */
        return false;
    }
    char text[48];
    id_text(last, text, sizeof(text));
    http_reply_json(w->x, 200, json_pack("{s:o,s:s}", "events", items, "last_id", text));
    return true;
}

static void serve_waiters(uv_timer_t *t)
{
    struct api__events *ev = t->data;
    uint64_t now = uv_now(ev->api->loop), next = UINT64_MAX;
    struct waiter **p = &ev->waiters;
    while (*p != NULL) {
        struct waiter *w = *p;
        if (answer(ev, w, now >= w->deadline)) {
            *p = w->next;
            free(w);
            continue;
        }
        next = w->deadline < next ? w->deadline : next;
        p = &w->next;
    }
    if (next != UINT64_MAX) {
        uv_timer_start(&ev->timer, serve_waiters, next > now ? next - now : 0, 0);
    }
}

const char *api__event_text(const struct api *a, uint64_t index, uint32_t n)
{
    struct api__events *ev = a->events;
    struct event_id id = {index, n};
    if (ev->len == 0 || id_cmp(id, at(ev, 0)->id) < 0) {
        return NULL;
    }
    /* The first event after the one before id: id itself when it is kept. */
    size_t i = n > 0 ? first_after(ev, (struct event_id){index, n - 1})
                     : first_after(ev, (struct event_id){index - 1, UINT32_MAX});
    return i < ev->len && id_cmp(at(ev, i)->id, id) == 0 ? at(ev, i)->json : NULL;
}

void api_events_effect(struct api *a,
                       uint64_t index,
                       uint32_t n,
                       const struct engine_effect *fx)
{
    struct api__events *ev = a->events;
    struct event_id id = {index, n};
    if ((ev->len > 0 && id_cmp(id, at(ev, ev->len - 1)->id) <= 0) ||
        id_cmp(id, ev->horizon) <= 0) {
        return; /* an entry applied again after a restart: already kept, or let go of */
    }
    json_t *j = api__event_json(id.index, id.n, fx);
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL) {
        ev->horizon = id; /* out of memory: say so to whoever asks for it */
        return;
    }
    if (ev->len == EVENTS_KEPT) {
        struct event *old = at(ev, 0);
        ev->horizon = old->id;
        free(old->json);
        ev->head = (ev->head + 1) % EVENTS_KEPT;
        ev->len--;
    }
    struct event *e = at(ev, ev->len++);
    *e = (struct event){.id = id, .kind = fx->kind, .contact = fx->contact, .json = text};
    snprintf(e->agent, sizeof(e->agent), "%s", fx->agent ? fx->agent : "");
    if (ev->waiters != NULL) {
        uv_timer_start(&ev->timer, serve_waiters, 0, 0);
    }
}

static void clear(struct api__events *ev)
{
    for (size_t i = 0; i < ev->len; i++) {
        free(at(ev, i)->json);
    }
    ev->head = ev->len = 0;
}

void api_events_restored(struct api *a, uint64_t index)
{
    struct api__events *ev = a->events;
    clear(ev);
    ev->horizon = (struct event_id){index, UINT32_MAX};
    if (ev->waiters != NULL) {
        uv_timer_start(&ev->timer, serve_waiters, 0, 0); /* they now fall below the horizon */
    }
}

int api__events_new(struct api *a)
{
    struct api__events *ev = calloc(1, sizeof(*ev));
    if (ev == NULL || (ev->ring = calloc(EVENTS_KEPT, sizeof(*ev->ring))) == NULL) {
        free(ev);
        return CD_ENOMEM;
    }
    ev->api = a;
    uv_timer_init(a->loop, &ev->timer);
    ev->timer.data = ev;
    a->events = ev;
    return 0;
}

static void events_closed(uv_handle_t *h)
{
    struct api__events *ev = h->data;
    clear(ev);
    free(ev->ring);
    free(ev);
}

void api__events_free(struct api__events *ev)
{
    struct waiter *w;
    while ((w = ev->waiters) != NULL) {
        ev->waiters = w->next;
        http_exchange_drop(w->x);
        free(w);
    }
    uv_close((uv_handle_t *)&ev->timer, events_closed);
}

/* ---- The request ------------------------------------------------------------------------ */

static bool parse_kinds(const char *text, uint32_t *out)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", text);
    *out = 0;
    for (char *save, *k = strtok_r(buf, ",", &save); k != NULL;
         k = strtok_r(NULL, ",", &save)) {
        int i = engine_effect_parse(k);
        if (i <= 0) {
            return false;
        }
        *out |= 1u << i;
    }
    return *out != 0;
}

/* Fills w from the query; answers 400 and returns false on bad input. */
static bool read_query(struct api__call *call,
                       struct api__events *ev,
                       struct waiter *w,
                       uint64_t *wait_ms)
{
    char text[256];
    w->limit = LIMIT_DEFAULT;
    if (!api__query_u64(call, "wait_ms", 0, WAIT_MAX_MS, wait_ms) ||
        !api__query_u64(call, "limit", 1, LIMIT_MAX, &w->limit) ||
        !api__query_u64(call, "contact", 1, UINT64_MAX, &w->contact)) {
        return false;
    }
    int kind_len = http_query_get(call->req, "kind", text, sizeof(text));
    if (kind_len != -1 && (kind_len < 0 || !parse_kinds(text, &w->kinds))) {
        http_reply_error(call->x, 400, "INVAL",
                         "kind: expected a comma-separated list of "
                         "queued, offer, offer_cancel, connected, escalated, callback_offer, "
                         "ended, wrapup, agent_state, model, session_moved, session_ended, "
                         "session_lost");
        return false;
    }
    http_query_get(call->req, "agent", w->agent, sizeof(w->agent));
    int after_len = http_query_get(call->req, "after", text, sizeof(text));
    if (after_len == -1) {
        w->after = ev->horizon; /* everything this node keeps */
    } else if (strcmp(text, "now") == 0) {
        struct cluster_status st;
        cluster_status(call->api->cluster, &st);
        w->after = (struct event_id){st.applied_index, UINT32_MAX};
    } else if (after_len < 0 || id_parse(text, &w->after) != 0) {
        http_reply_error(call->x, 400, "INVAL", "after: expected an event id INDEX.N or 'now'");
        return false;
    }
    return true;
}

void api__events(struct api__call *call)
{
    struct api__events *ev = call->api->events;
    struct waiter *w = calloc(1, sizeof(*w));
    uint64_t wait_ms = 0;
    if (w == NULL) {
        http_reply_error(call->x, 500, "NOMEM", "out of memory");
        return;
    }
    w->x = call->x;
    if (!read_query(call, ev, w, &wait_ms)) {
        free(w);
        return;
    }
    if (answer(ev, w, wait_ms == 0)) {
        free(w);
        return;
    }
    w->deadline = uv_now(call->api->loop) + wait_ms;
    w->next = ev->waiters;
    ev->waiters = w;
    if (!uv_is_active((uv_handle_t *)&ev->timer) || uv_timer_get_due_in(&ev->timer) > wait_ms) {
        uv_timer_start(&ev->timer, serve_waiters, wait_ms, 0);
    }
}
