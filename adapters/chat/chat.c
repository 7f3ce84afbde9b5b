/* The chat adapter's life cycle, its table of the pages connected here, and what it tells
 * them: effects addressed to this node, signals from the agent's desk, and every few
 * seconds the places in line of the chats still waiting (see chat.h, docs/chat.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/chat/internal.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/log.h"

#define WAIT_UPDATE_MS 5000
#define BUCKETS_MIN 64

/* The limits of docs/chat.md, where the caller gave none. */
static const struct ws_limits CHAT_LIMITS = {
    .max_frame = 16 * 1024,
    .max_message = 16 * 1024,
    .msgs_per_s = 5,
    .burst = 20,
    .max_per_address = 256,
};

struct ws_limits chat_limits(void)
{
    return CHAT_LIMITS;
}

static void on_timer(uv_timer_t *t);

int chat_new(const struct chat_options *opt, struct chat **out)
{
    struct chat *c = calloc(1, sizeof(*c));
    *out = NULL;
    if (c == NULL) {
        return CD_ENOMEM;
    }
    c->loop = opt->loop;
    c->cluster = opt->cluster;
    snprintf(c->member, sizeof(c->member), "%s", opt->member);
    c->tls = opt->tls;
    for (unsigned i = 0; i < opt->n_public_urls && i < CHAT_PUBLIC_URLS_MAX; i++) {
        snprintf(c->public_urls[c->n_public_urls++], sizeof(c->public_urls[0]), "%s",
                 opt->public_urls[i]);
    }
    c->publish = opt->publish;
    c->publish_data = opt->publish_data;
    c->wait_update_ms = opt->wait_update_ms ? opt->wait_update_ms : WAIT_UPDATE_MS;
    c->n_buckets = BUCKETS_MIN;
    c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
    if (c->buckets == NULL ||
        ws_server_new(c->loop, opt->ws != NULL ? opt->ws : &CHAT_LIMITS, &c->ws) != 0) {
        free(c->buckets);
        free(c);
        return CD_ENOMEM;
    }
    uv_timer_init(c->loop, &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, on_timer, c->wait_update_ms, c->wait_update_ms);
    *out = c;
    return 0;
}

/* ---- pages by contact ------------------------------------------------------------------ */

static size_t bucket_of(const struct chat *c, uint64_t contact)
{
    return (size_t)(cd_mix64(contact) & (c->n_buckets - 1));
}

struct chat__page *chat__find(struct chat *c, uint64_t contact)
{
    for (struct chat__page *p = c->buckets[bucket_of(c, contact)]; p != NULL; p = p->next) {
        if (p->contact == contact) {
            return p;
        }
    }
    return NULL;
}

static void grow(struct chat *c)
{
    size_t n = c->n_buckets * 2;
    struct chat__page **b = calloc(n, sizeof(*b));
    if (b == NULL) {
        return; /* longer chains, still correct */
    }
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct chat__page *p = c->buckets[i], *next;
        for (; p != NULL; p = next) {
            next = p->next;
            size_t k = (size_t)(cd_mix64(p->contact) & (n - 1));
            p->next = b[k];
            b[k] = p;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->n_buckets = n;
}

int chat__bind(struct chat *c, struct chat__page *p)
{
    struct chat__page *old = chat__find(c, p->contact);
    if (old == p) {
        return 0;
    }
    if (old != NULL) {
        chat__unbind(c, old);
        old->phase = CHAT__DONE;
        if (old->ws != NULL) {
            ws_close(old->ws, 4409, "the chat continues on another connection");
        }
    }
    if (c->n_pages >= c->n_buckets) {
        grow(c);
    }
    size_t k = bucket_of(c, p->contact);
    p->next = c->buckets[k];
    c->buckets[k] = p;
    c->n_pages++;
    return 0;
}

void chat__unbind(struct chat *c, struct chat__page *p)
{
    struct chat__page **at = &c->buckets[bucket_of(c, p->contact)];
    for (; *at != NULL; at = &(*at)->next) {
        if (*at == p) {
            *at = p->next;
            p->next = NULL;
            c->n_pages--;
            return;
        }
    }
}

void chat__page_put(struct chat__page *p)
{
    if (--p->refs == 0) {
        struct chat *c = p->chat;
        free(p);
        chat__maybe_done(c);
    }
}

/* ---- telling a page -------------------------------------------------------------------- */

int chat__send_json(struct chat__page *p, json_t *j)
{
    int rv = CD_ESTATE;
    if (j == NULL) {
        return CD_ENOMEM;
    }
    if (p->ws != NULL) {
        char *text = json_dumps(j, JSON_COMPACT);
        rv = text != NULL ? ws_send_text(p->ws, text, strlen(text)) : CD_ENOMEM;
        free(text);
    }
    json_decref(j);
    return rv;
}

void chat__send_error(struct chat__page *p,
                      const char *code,
                      const char *message,
                      const char *id,
                      const char *field)
{
    json_t *j = json_pack("{s:s,s:s,s:s}", "t", "error", "code", code, "message", message);
    if (j != NULL && id != NULL) {
        json_object_set_new(j, "id", json_string(id));
    }
    if (j != NULL && field != NULL) {
        json_object_set_new(j, "field", json_string(field));
    }
    p->chat->stats.refused++;
    chat__send_json(p, j);
}

static const char *state_name(uint8_t state)
{
    return state == ENGINE_CONTACT_STATE_COUNT ? "" : engine_contact_state_name(state);
}

/* The estimated wait of the contact at position in q: the queue's estimate is for one
 * arriving now, behind every waiting contact, so this one's is that share of it. */
static int64_t ewt_at(const struct engine_queue_info *q, uint32_t position)
{
    int64_t ewt = q->ewt_ms;
    if (q->waiting > 0) {
        ewt = q->ewt_ms * (int64_t)position / (int64_t)(q->waiting + 1);
    }
    return (ewt + 999) / 1000;
}

/* The place in line of one contact: contacts of its queue served before it (priority,
 * then time in the queue, then id: the engine's own order), plus one. */
struct line_count
{
    const struct engine_contact_info *me;
    uint32_t ahead;
};

static int count_ahead(void *data, const struct engine_contact_info *o)
{
    struct line_count *lc = data;
    const struct engine_contact_info *me = lc->me;
    if (o->state != ENGINE_CONTACT_QUEUED || o->id == me->id || strcmp(o->queue, me->queue)) {
        return 0;
    }
    if (o->priority > me->priority ||
        (o->priority == me->priority &&
         (o->enqueued < me->enqueued || (o->enqueued == me->enqueued && o->id < me->id)))) {
        lc->ahead++;
    }
    return 0;
}

static void place_in_line(struct chat *c,
                          const struct engine_contact_info *info,
                          uint32_t *position,
                          int64_t *ewt_s)
{
    const struct engine *e = cluster_engine(c->cluster);
    struct line_count lc = {.me = info};
    struct engine_queue_info q;
    *position = 0;
    *ewt_s = -1;
    if (engine_contacts_foreach(e, count_ahead, &lc) != 0) {
        return;
    }
    *position = lc.ahead + 1;
    if (engine_queue_get(e, info->queue, &q) == 0) {
        *ewt_s = ewt_at(&q, *position);
    }
}

static void send_state_at(struct chat__page *p,
                          const struct engine_contact_info *info,
                          uint32_t position,
                          int64_t ewt_s,
                          bool force);

/* At a welcome the place in line is worked out for this one contact (a pass over the live
 * contacts); after an effect the last one told stands until the periodic pass (on_timer)
 * tells them all. */
void chat__send_state(struct chat__page *p, const struct engine_contact_info *info, bool force)
{
    uint32_t position = p->position;
    int64_t ewt_s = p->ewt_s;
    if (info->state == ENGINE_CONTACT_QUEUED && (force || p->state != ENGINE_CONTACT_QUEUED)) {
        place_in_line(p->chat, info, &position, &ewt_s);
    }
    send_state_at(p, info, position, ewt_s, force);
}

static void send_state_at(struct chat__page *p,
                          const struct engine_contact_info *info,
                          uint32_t position,
                          int64_t ewt_s,
                          bool force)
{
    if (info->state != ENGINE_CONTACT_QUEUED) {
        position = 0;
        ewt_s = -1;
    }
    if (!force && info->state == p->state && position == p->position && ewt_s == p->ewt_s) {
        return;
    }
    /* connected, then waiting again (a transfer to a queue or an agent): the agent left */
    bool left = p->state == ENGINE_CONTACT_CONNECTED &&
                (info->state == ENGINE_CONTACT_QUEUED || info->state == ENGINE_CONTACT_OFFERED);
    p->state = info->state;
    p->position = position;
    p->ewt_s = ewt_s;
    if (left) {
        chat__send_json(p, json_pack("{s:s}", "t", "left"));
    }
    json_t *j = json_pack("{s:s,s:s,s:s}", "t", "state", "state", state_name(info->state),
                          "queue", info->queue);
    if (j != NULL && info->state == ENGINE_CONTACT_CONNECTED) {
        json_object_set_new(j, "agent", json_string(info->agent));
    }
    if (j != NULL && info->state == ENGINE_CONTACT_QUEUED) {
        json_object_set_new(j, "position", json_integer(position));
        if (ewt_s >= 0) {
            json_object_set_new(j, "ewt_s", json_integer(ewt_s));
        }
    }
    chat__send_json(p, j);
}

static int send_message(void *data, const struct engine_message *m)
{
    struct chat__page *p = data;
    if (m->seq <= p->seq) {
        return 0;
    }
    p->seq = m->seq;
    p->chat->stats.messages_out++;
    json_t *j = json_pack("{s:s,s:I,s:s,s:s,s:s,s:I}", "t", "msg", "seq", (json_int_t)m->seq,
                          "from", engine_side_name(m->side), "id", m->msg_id, "text", m->text,
                          "at", (json_int_t)m->at);
    if (j != NULL && m->agent[0] != 0) {
        json_object_set_new(j, "agent", json_string(m->agent));
    }
    return chat__send_json(p, j) == CD_ENOMEM ? CD_ENOMEM : 0;
}

void chat__send_transcript(struct chat__page *p)
{
    struct engine_transcript t;
    if (engine_transcript_get(cluster_engine(p->chat->cluster), p->contact, &t) == 0) {
        engine_transcript_read(&t, p->seq, 0, send_message, p);
    }
}

/* The chat is over for the page: it hears why, and the connection closes. */
void chat__end_page(struct chat__page *p, const char *reason)
{
    struct chat *c = p->chat;
    if (p->phase == CHAT__LIVE) {
        chat__unbind(c, p);
    }
    p->phase = CHAT__DONE;
    p->ended = true;
    chat__send_json(p, json_pack("{s:s,s:s}", "t", "ended", "reason", reason));
    if (p->ws != NULL) {
        ws_close(p->ws, 1000, "the chat ended");
    }
}

/* ---- effects and signals -------------------------------------------------------------- */

static const char *ended_reason(const struct engine_effect *fx)
{
    const struct engine_history *h = fx->history;
    if (h == NULL) {
        return "ended";
    }
    if (h->reason != NULL && h->reason[0] != 0 && strcmp(h->reason, "customer_gone") == 0) {
        return "customer_gone";
    }
    switch (h->outcome) {
        case ENGINE_CONTACT_COMPLETED:
            return "agent";
        case ENGINE_CONTACT_ABANDONED:
            return "customer";
        default:
            return engine_contact_state_name(h->outcome);
    }
}

void chat_effect(struct chat *c, const struct engine_effect *fx)
{
    if (fx->channel != ENGINE_CH_CHAT || fx->contact == 0) {
        return;
    }
    struct chat__page *p = chat__find(c, fx->contact);
    if (p == NULL || p->phase != CHAT__LIVE) {
        return;
    }
    struct engine_contact_info info;
    switch (fx->kind) {
        case ENGINE_FX_MESSAGE: {
            /* the transcript holds it (and any before it the page has not had) */
            chat__send_transcript(p);
            break;
        }
        case ENGINE_FX_SESSION_MOVED:
            if (strcmp(fx->home, c->member) != 0 || strcmp(fx->session, p->key) != 0) {
                chat__unbind(c, p);
                p->phase = CHAT__DONE;
                if (p->ws != NULL) {
                    ws_close(p->ws, 4409, "the chat continues on another connection");
                }
            }
            break;
        case ENGINE_FX_CALLBACK_OFFER:
            chat__send_json(p, json_pack("{s:s,s:s}", "t", "offer", "kind", "callback"));
            break;
        case ENGINE_FX_WRAPUP:
            chat__end_page(p, p->ended ? "customer" : "agent");
            break;
        case ENGINE_FX_ENDED:
            chat__end_page(p, p->ended ? "customer" : ended_reason(fx));
            break;
        case ENGINE_FX_QUEUED:
        case ENGINE_FX_OFFER:
        case ENGINE_FX_OFFER_CANCEL:
        case ENGINE_FX_CONNECTED:
        case ENGINE_FX_ESCALATED:
            if (engine_contact_get(cluster_engine(c->cluster), fx->contact, &info) == 0) {
                chat__send_state(p, &info, false);
            }
            break;
        default:
            break;
    }
}

/* A signal from the agent's side: {"t": "typing"|"seen", "side": "agent", "on"|"seq"}. */
void chat_signal(void *data, uint64_t contact, const char *json, size_t len)
{
    struct chat *c = data;
    struct chat__page *p = chat__find(c, contact);
    if (p == NULL || p->phase != CHAT__LIVE) {
        return;
    }
    json_t *j = json_loadb(json, len, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "t"));
    const char *side = json_string_value(json_object_get(j, "side"));
    if (t != NULL && side != NULL && strcmp(side, "agent") == 0) {
        if (strcmp(t, "typing") == 0 && json_is_boolean(json_object_get(j, "on"))) {
            chat__send_json(p, json_pack("{s:s,s:b}", "t", "typing", "on",
                                         json_is_true(json_object_get(j, "on"))));
        } else if (strcmp(t, "seen") == 0 && json_is_integer(json_object_get(j, "seq"))) {
            chat__send_json(p, json_pack("{s:s,s:I}", "t", "seen", "seq",
                                         json_integer_value(json_object_get(j, "seq"))));
        }
    }
    json_decref(j);
}

/* Every few seconds, in one pass over the live contacts:
 * - the places in line of the chats waiting here: the queued contacts sorted as the engine
 *   serves them (priority, then time in the queue, then id), counted per queue;
 * - chats homed here that no page holds: this node stopped (or restarted) while their pages
 *   were connected, or a page went away in a way that left no goodbye. Seen so at two passes
 *   in a row (a page that reconnects at once has had its chance), their sessions end, so
 *   that their reconnect deadlines run and a customer who never comes back does not hold a
 *   chat for ever. */
struct waiting
{
    const char *queue; /* borrowed from the engine until the next command: used at once */
    int16_t priority;
    int64_t enqueued;
    uint64_t id;
};

struct pass
{
    struct chat *c;
    bool sweep;
    uint64_t *orphans;
    size_t n_orphans, cap_orphans;
    struct waiting *queued;
    size_t n_queued, cap_queued;
};

static int by_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int in_line(const void *a, const void *b)
{
    const struct waiting *x = a, *y = b;
    int q = strcmp(x->queue, y->queue);
    if (q != 0) {
        return q;
    }
    if (x->priority != y->priority) {
        return x->priority > y->priority ? -1 : 1;
    }
    if (x->enqueued != y->enqueued) {
        return x->enqueued < y->enqueued ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id;
}

static bool push(void **v, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        size_t more = *cap ? 2 * *cap : 256;
        void *w = realloc(*v, more * size);
        if (w == NULL) {
            return false;
        }
        *v = w;
        *cap = more;
    }
    return true;
}

static int pass_one(void *data, const struct engine_contact_info *info)
{
    struct pass *ps = data;
    struct chat *c = ps->c;
    if (info->state == ENGINE_CONTACT_QUEUED && c->n_pages > 0) {
        if (!push((void **)&ps->queued, &ps->n_queued, &ps->cap_queued, sizeof(*ps->queued))) {
            return CD_ENOMEM;
        }
        ps->queued[ps->n_queued++] =
            (struct waiting){info->queue, info->priority, info->enqueued, info->id};
    }
    if (!ps->sweep || info->channel != ENGINE_CH_CHAT || strcmp(info->home, c->member) != 0 ||
        chat__find(c, info->id) != NULL) {
        return 0;
    }
    if (!push((void **)&ps->orphans, &ps->n_orphans, &ps->cap_orphans, sizeof(uint64_t))) {
        return CD_ENOMEM;
    }
    ps->orphans[ps->n_orphans++] = info->id;
    if (c->n_orphans > 0 &&
        bsearch(&info->id, c->orphans, c->n_orphans, sizeof(uint64_t), by_id) != NULL) {
        chat__end_orphan(c, info->id, info->session);
    }
    return 0;
}

/* Tells each waiting page here its place in line and estimated wait, when changed. */
static void tell_places(struct chat *c, struct waiting *v, size_t n)
{
    const struct engine *e = cluster_engine(c->cluster);
    struct engine_queue_info q = {.name = NULL};
    struct engine_contact_info info;
    if (n == 0) {
        return;
    }
    qsort(v, n, sizeof(*v), in_line);
    uint32_t position = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(v[i].queue, v[i - 1].queue) != 0) {
            position = 0;
            if (engine_queue_get(e, v[i].queue, &q) != 0) {
                q = (struct engine_queue_info){.name = NULL};
            }
        }
        position++;
        struct chat__page *p = chat__find(c, v[i].id);
        if (p != NULL && p->phase == CHAT__LIVE && engine_contact_get(e, v[i].id, &info) == 0) {
            send_state_at(p, &info, position, q.name != NULL ? ewt_at(&q, position) : -1,
                          false);
        }
    }
}

static void on_timer(uv_timer_t *t)
{
    struct chat *c = t->data;
    struct pass ps = {.c = c, .sweep = !c->closing && cluster_ready(c->cluster)};
    if (engine_contacts_foreach(cluster_engine(c->cluster), pass_one, &ps) == 0) {
        tell_places(c, ps.queued, ps.n_queued);
        if (ps.sweep) {
            /* ids come in ascending order */
            free(c->orphans);
            c->orphans = ps.orphans;
            c->n_orphans = ps.n_orphans;
            ps.orphans = NULL;
        }
    }
    free(ps.orphans);
    free(ps.queued);
}

/* ---- /chat/config ---------------------------------------------------------------------- */

static json_t *entry_json(const struct engine_model *m, const struct engine_chat_entry *en)
{
    static const char *const types[ENGINE_FIELD_TYPE_COUNT] = {"text", "email", "phone",
                                                               "select", "textarea"};
    json_t *fields = json_array();
    for (unsigned i = 0; i < en->n_fields; i++) {
        const struct engine_chat_field *f = &en->fields[i];
        json_t *jf =
            json_pack("{s:s,s:s,s:s,s:b,s:i}", "key", f->key, "label", f->label, "type",
                      f->type < ENGINE_FIELD_TYPE_COUNT ? types[f->type] : "text", "required",
                      f->required, "max", f->max);
        if (f->n_options > 0) {
            json_t *opts = json_array();
            for (unsigned k = 0; k < f->n_options; k++) {
                json_array_append_new(opts, json_string(f->options[k]));
            }
            json_object_set_new(jf, "options", opts);
        }
        json_array_append_new(fields, jf);
    }
    json_t *j = json_pack("{s:s,s:o}", "name", en->name, "fields", fields);
    if (en->queue >= 0 && (uint32_t)en->queue < m->n_queues) {
        json_object_set_new(j, "queue", json_string(m->queues[en->queue].name));
    }
    return j;
}

void chat_serve_config(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct chat *c = data;
    if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD) {
        http_reply_error(x, 405, "METHOD", "%s: only GET", req->path);
        return;
    }
    if (strcmp(req->path, "/chat/config") != 0) {
        http_reply_error(x, 404, "NOTFOUND", "no such path: %s", req->path);
        return;
    }
    const struct engine_model *m = engine_model(cluster_engine(c->cluster));
    json_t *entries = json_array(), *endpoints = json_array();
    for (uint32_t i = 0; m != NULL && i < m->n_chat_entries; i++) {
        json_array_append_new(entries, entry_json(m, &m->chat_entries[i]));
    }
    if (c->n_public_urls > 0) {
        for (unsigned i = 0; i < c->n_public_urls; i++) {
            json_array_append_new(endpoints, json_string(c->public_urls[i]));
        }
    } else {
        struct cluster_status *st = malloc(sizeof(*st));
        if (st != NULL) {
            cluster_status(c->cluster, st);
            for (uint32_t i = 0; i < st->n_members; i++) {
                char url[CONFIG_HOST_MAX + 24];
                snprintf(url, sizeof(url), "%s://%s", c->tls ? "https" : "http",
                         st->members[i].api);
                json_array_append_new(endpoints, json_string(url));
            }
            free(st);
        }
    }
    json_t *j = json_pack("{s:o,s:o,s:i,s:I}", "entries", entries, "endpoints", endpoints,
                          "max_text", ENGINE_MESSAGE_MAX - 1, "reconnect_s",
                          (json_int_t)(engine_model_reconnect_ms(m) / 1000));
    http_reply_json_headers(x, 200, "Cache-Control: no-store\r\n", j);
}

/* ---- closing --------------------------------------------------------------------------- */

void chat__maybe_done(struct chat *c)
{
    if (c->closing && c->inflight == 0 && c->timer_closed && c->ws_closed && c->done != NULL) {
        void (*done)(void *) = c->done;
        c->done = NULL;
        done(c->done_data);
    }
}

static void timer_closed(uv_handle_t *h)
{
    struct chat *c = h->data;
    c->timer_closed = true;
    chat__maybe_done(c);
}

static void ws_closed(void *data)
{
    struct chat *c = data;
    c->ws_closed = true;
    chat__maybe_done(c);
}

void chat_close(struct chat *c, void (*done)(void *data), void *data)
{
    c->closing = true;
    c->done = done;
    c->done_data = data;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, timer_closed);
    struct ws_server *ws = c->ws;
    c->ws = NULL;
    ws_server_close(ws, ws_closed, c);
}

void chat_free(struct chat *c)
{
    if (c == NULL) {
        return;
    }
    free(c->orphans);
    free(c->buckets);
    free(c);
}

void chat_stats(const struct chat *c, struct chat_stats *out)
{
    *out = c->stats;
    out->open = c->n_pages;
    if (c->ws != NULL) {
        ws_server_stats(c->ws, &out->ws);
    }
}
