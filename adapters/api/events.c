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
 * answered with what matched, or with none and last_id moved past what did not match.
 *
 * The same request with a WebSocket upgrade (the agent desk's) follows the feed instead: the
 * node sends each matching event as a text message as it comes, from after=ID on (wait_ms
 * and limit do not apply), and the signals of the contacts the feed shows (a customer
 * typing, a customer's page having shown messages: {"kind": "signal", "contact", "t",
 * "side": "customer", ...}). When the events after the feed's place are no longer all kept
 * here, it closes with 4410. The client may send signals of its own about a contact its
 * principal's agent holds: {"t": "typing", "contact", "on"} and {"t": "seen", "contact",
 * "seq"}; anything else is answered {"kind": "error", ...}. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "adapters/ws/ws.h"
#include "common/error.h"

#define EVENTS_KEPT 65536
#define WAIT_MAX_MS 60000
#define LIMIT_DEFAULT 1000
#define LIMIT_MAX 10000
#define FEED_BATCH 512            /* events one feed is sent in one turn */
#define FEED_BACKLOG (256u << 10) /* unsent bytes past which a feed waits */
#define FEED_RETRY_MS 20

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

/* A WebSocket following the feed. */
struct feed
{
    struct feed *next;
    struct api__events *ev;
    struct ws_conn *ws;
    struct event_id after; /* the last event sent or passed over */
    uint64_t contact;
    uint32_t kinds;
    char agent[ENGINE_NAME_MAX];
    uint8_t role;                    /* the principal's */
    char who_agent[ENGINE_NAME_MAX]; /* the principal's agent; "" = none */
    bool closing;
};

struct api__events
{
    uv_timer_t timer; /* first member: the close callback frees the whole struct */
    struct api *api;
    struct event *ring;
    size_t head, len; /* oldest at ring[head] */
    struct event_id horizon;
    struct waiter *waiters;
    struct ws_server *ws; /* the feeds' */
    struct feed *feeds;
    bool ws_closed;
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

static bool filter_matches(uint32_t kinds,
                           uint64_t contact,
                           const char *agent,
                           const struct event *e)
{
    return (kinds == 0 || (kinds & (1u << e->kind))) &&
           (contact == 0 || contact == e->contact) &&
           (agent[0] == 0 || strcmp(agent, e->agent) == 0);
}

static bool matches(const struct waiter *w, const struct event *e)
{
    return filter_matches(w->kinds, w->contact, w->agent, e);
}

static void feeds_flush(struct api__events *ev);

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
    feeds_flush(ev);
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
    if (ev->waiters != NULL || ev->feeds != NULL) {
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
    if (ev->waiters != NULL || ev->feeds != NULL) {
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
    /* a desk per agent: many from one office's address */
    struct ws_limits lim = {.max_per_address = 4096, .max_connections = 65536};
    if (ws_server_new(a->loop, &lim, &ev->ws) != 0) {
        free(ev->ring);
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
    if (ev->ws != NULL) {
        ws_server_close(ev->ws, NULL, NULL); /* never closed: nothing of it was opened */
    }
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

static void feed_open(struct api__call *call, struct waiter *w);

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
    if (call->req->upgrade) {
        feed_open(call, w);
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

/* ---- The feed over a WebSocket -------------------------------------------------------- */

static void feed_close(struct feed *f, uint16_t code, const char *reason)
{
    if (!f->closing) {
        f->closing = true;
        ws_close(f->ws, code, reason);
    }
}

/* Sends f what it has not had, a batch at a time while the client keeps up. Returns true
 * when more is left for a later turn. */
static bool feed_flush(struct api__events *ev, struct feed *f)
{
    if (f->closing) {
        return false;
    }
    if (id_cmp(f->after, ev->horizon) < 0) {
        char kept[48];
        id_text(ev->horizon, kept, sizeof(kept));
        char why[128];
        snprintf(why, sizeof(why), "events are kept here after %s only: read the state afresh",
                 kept);
        feed_close(f, 4410, why);
        return false;
    }
    size_t i = first_after(ev, f->after);
    unsigned sent = 0;
    for (; i < ev->len && sent < FEED_BATCH; i++) {
        struct event *e = at(ev, i);
        if (filter_matches(f->kinds, f->contact, f->agent, e)) {
            if (ws_unsent(f->ws) > FEED_BACKLOG) {
                return true; /* the client is behind: the rest later */
            }
            if (ws_send_text(f->ws, e->json, strlen(e->json)) != 0) {
                return false; /* closing: too slow, or gone */
            }
            sent++;
        }
        f->after = e->id;
    }
    return i < ev->len;
}

static void feeds_flush(struct api__events *ev)
{
    bool more = false;
    for (struct feed *f = ev->feeds; f != NULL; f = f->next) {
        more |= feed_flush(ev, f);
    }
    if (more) {
        uv_timer_start(&ev->timer, serve_waiters, FEED_RETRY_MS, 0);
    }
}

static void feed_error(struct feed *f, const char *message)
{
    json_t *j = json_pack("{s:s,s:s}", "kind", "error", "message", message);
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    if (text != NULL) {
        ws_send_text(f->ws, text, strlen(text));
    }
    free(text);
    json_decref(j);
}

/* A signal from the desk about a contact its principal's agent holds: to the customer's
 * page, wherever that is connected. */
static void feed_text(void *data, struct ws_conn *ws, const char *msg, size_t len)
{
    struct feed *f = data;
    struct api *a = f->ev->api;
    (void)ws;
    json_t *j = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);
    const char *t = json_string_value(json_object_get(j, "t"));
    json_t *cj = json_object_get(j, "contact");
    json_t *s = NULL;
    struct engine_contact_info info;
    if (t == NULL || !json_is_integer(cj) || json_integer_value(cj) <= 0) {
        feed_error(f, "expected {\"t\": \"typing\"|\"seen\", \"contact\": ID, ...}");
    } else if (f->role != ENGINE_ROLE_AGENT ||
               engine_contact_get(cluster_engine(a->cluster), (uint64_t)json_integer_value(cj),
                                  &info) != 0 ||
               strcmp(info.agent, f->who_agent) != 0) {
        feed_error(f, "only the agent a contact is with signals about it");
    } else if (strcmp(t, "typing") == 0 && json_is_boolean(json_object_get(j, "on"))) {
        s = json_pack("{s:s,s:s,s:b}", "t", "typing", "side", "agent", "on",
                      json_is_true(json_object_get(j, "on")));
    } else if (strcmp(t, "seen") == 0 && json_is_integer(json_object_get(j, "seq")) &&
               json_integer_value(json_object_get(j, "seq")) > 0) {
        s = json_pack("{s:s,s:s,s:I}", "t", "seen", "side", "agent", "seq",
                      json_integer_value(json_object_get(j, "seq")));
    } else {
        feed_error(f, "typing takes on (true|false), seen a seq");
    }
    char *text = s != NULL ? json_dumps(s, JSON_COMPACT) : NULL;
    if (text != NULL && a->publish != NULL) {
        a->publish(a->publish_data, info.id, text, strlen(text));
    }
    free(text);
    json_decref(s);
    json_decref(j);
}

static void feed_closed(void *data, struct ws_conn *ws, uint16_t code, const char *reason)
{
    struct feed *f = data;
    (void)ws;
    (void)code;
    (void)reason;
    for (struct feed **p = &f->ev->feeds; *p != NULL; p = &(*p)->next) {
        if (*p == f) {
            *p = f->next;
            break;
        }
    }
    free(f);
}

static const struct ws_handler FEED = {.on_text = feed_text, .on_close = feed_closed};

static void feed_open(struct api__call *call, struct waiter *w)
{
    struct api__events *ev = call->api->events;
    if (ev->ws == NULL || call->api->closing) {
        http_reply_error(call->x, 503, "UNAVAILABLE", "this node is stopping");
        return;
    }
    struct feed *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        http_reply_error(call->x, 503, "UNAVAILABLE", "out of memory");
        return;
    }
    *f = (struct feed){.ev = ev,
                       .after = w->after,
                       .contact = w->contact,
                       .kinds = w->kinds,
                       .role = call->who.role};
    snprintf(f->agent, sizeof(f->agent), "%s", w->agent);
    snprintf(f->who_agent, sizeof(f->who_agent), "%s", call->who.agent);
    if (ws_accept(ev->ws, call->x, call->req, &FEED, f, &f->ws) != 0) {
        free(f);
        return;
    }
    f->next = ev->feeds;
    ev->feeds = f;
    feeds_flush(ev);
}

/* Whether f shows contact: it follows that contact, or the agent the contact is with. */
static bool feed_shows(const struct feed *f, uint64_t contact, const char *agent)
{
    if (f->contact != 0) {
        return f->contact == contact;
    }
    return f->agent[0] == 0 || strcmp(f->agent, agent) == 0;
}

void api_signal(struct api *a, uint64_t contact, const char *json, size_t len)
{
    struct api__events *ev = a->events;
    struct engine_contact_info info;
    if (ev->feeds == NULL ||
        engine_contact_get(cluster_engine(a->cluster), contact, &info) != 0) {
        return;
    }
    json_t *j = json_loadb(json, len, 0, NULL);
    const char *side = json_string_value(json_object_get(j, "side"));
    if (!json_is_object(j) || side == NULL || strcmp(side, "customer") != 0) {
        json_decref(j); /* the desk's own signals are for the customer's page */
        return;
    }
    json_object_set_new(j, "kind", json_string("signal"));
    json_object_set_new(j, "contact", json_integer((json_int_t)contact));
    char *text = json_dumps(j, JSON_COMPACT);
    for (struct feed *f = ev->feeds; text != NULL && f != NULL; f = f->next) {
        if (!f->closing && feed_shows(f, contact, info.agent)) {
            ws_send_text(f->ws, text, strlen(text));
        }
    }
    free(text);
    json_decref(j);
}

static void feeds_closed(void *data)
{
    struct api *a = data;
    a->events->ws_closed = true;
    api__close_settle(a);
}

void api__events_close(struct api *a)
{
    struct api__events *ev = a->events;
    struct ws_server *ws = ev->ws;
    ev->ws = NULL;
    if (ws != NULL) {
        ws_server_close(ws, feeds_closed, a);
    } else {
        ev->ws_closed = true;
    }
}

bool api__events_closed(const struct api *a)
{
    return a->events->ws_closed;
}
