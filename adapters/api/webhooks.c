/* Webhooks: an integrator's URL is given the events it subscribed to, each once, without
 * long-polling.
 *
 *   POST   /v1/webhooks        {"url": "http://10.0.0.5:8000/hook", "secret": "...",
 *                               "kinds": ["offer", "ended"]}          -> 201 {"id": 1}
 *   GET    /v1/webhooks        every subscription (without its secret)
 *   GET    /v1/webhooks/{id}   one, with its delivery log (the latest attempts)
 *   DELETE /v1/webhooks/{id}
 *
 * A subscription is replicated state (engine/webhooks.c): the events after its cursor are
 * owed to the receiver. The leader delivers them: a POST of up to BATCH_MAX events, in id
 * order, as the event feed shows them:
 *
 *   {"webhook": 1, "delivery": "1:120.4294967295", "events": [{"id": "121.0", ...}, ...]}
 *
 * with the headers X-Contactd-Webhook (its id), X-Contactd-Delivery (the same delivery id)
 * and X-Contactd-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>. A 2xx
 * answer is recorded with WEBHOOK_DELIVERED (and the receiver's "id" if its answer is a JSON
 * object that has one), which moves the cursor; anything else with WEBHOOK_FAILED, after
 * which the next attempt waits 1 s, 2 s, 4 s ... up to 5 min. Both are fenced by the cursor
 * the attempt started from. After a failover the new leader starts from the replicated
 * cursor, so a delivery whose acknowledgement was lost comes again with the same delivery id
 * and the same event ids: the receiver takes each event id once.
 *
 * The events come from this node's outbox (storage_foreach_effects). Entries this node never
 * applied (it caught up by a snapshot) have none: the receiver is then given an event of kind
 * "gap" saying which ids it cannot have, and reads the state afresh. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "common/log.h"
#include "storage/storage.h"

#define BATCH_MAX 500
#define BATCH_BYTES (512 * 1024)
#define POLL_MS 250
#define LINGER_MS 100 /* a batch that is not full waits this long after the last one */
#define TIMEOUT_MS 10000
#define IDLE_SKIP_ENTRIES 4096 /* cursor this far behind what was scanned: move it */

struct slot
{
    uint32_t id; /* 0: free */
    bool busy;   /* a POST or its report is in flight */
    struct http_client *client;
    char authority[INET6_ADDRSTRLEN + 8];
    struct api__webhooks *w;
    /* The attempt in flight. */
    uint64_t from_index, to_index;
    uint32_t from_n, to_n;
    uint32_t count;
    uint64_t linger_until; /* uv_now(): no batch short of full before */
};

struct api__webhooks
{
    uv_timer_t timer; /* first member: the close callback frees the whole struct */
    struct api *api;
    bool closing;
    uint64_t fresh; /* effects committed since the last pass: enough for a full batch? */
    uint64_t posted, failed;
    struct slot slots[ENGINE_WEBHOOKS_MAX];
};

/* "http://HOST[:PORT]/PATH" with HOST an IP literal ([v6] in brackets). */
bool api__url_split(const char *url,
                    char *host,
                    size_t hostlen,
                    uint16_t *port,
                    const char **path)
{
    const char *p = url + 7, *end;
    if (strncmp(url, "http://", 7) != 0) {
        return false;
    }
    if (*p == '[') {
        end = strchr(p, ']');
        if (end == NULL || (size_t)(end - p - 1) >= hostlen) {
            return false;
        }
        snprintf(host, hostlen, "%.*s", (int)(end - p - 1), p + 1);
        p = end + 1;
    } else {
        end = p + strcspn(p, ":/");
        if ((size_t)(end - p) >= hostlen) {
            return false;
        }
        snprintf(host, hostlen, "%.*s", (int)(end - p), p);
        p = end;
    }
    unsigned long v = 80;
    if (*p == ':') {
        char *after;
        v = strtoul(p + 1, &after, 10);
        if (after == p + 1 || v == 0 || v > 65535) {
            return false;
        }
        p = after;
    }
    unsigned char buf[16];
    *port = (uint16_t)v;
    *path = p;
    return *p == '/' &&
           (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1);
}

/* ---- Delivering ------------------------------------------------------------------------ */

static void run(uv_timer_t *t);

static void kick(struct api__webhooks *w, uint64_t ms)
{
    if (!w->closing &&
        (!uv_is_active((uv_handle_t *)&w->timer) || uv_timer_get_due_in(&w->timer) > ms)) {
        uv_timer_start(&w->timer, run, ms, POLL_MS);
    }
}

/* The next batch: at once when a full one may be waiting (a backlog drains at the
 * receiver's pace), else after LINGER_MS, so that a trickle of events is sent in batches,
 * not one POST and one replicated report per event. */
static void reported(void *data, const struct engine_result *res)
{
    struct slot *s = data;
    (void)res; /* refused as stale: another leader's report came first; nothing to do */
    s->busy = false;
    s->linger_until = uv_now(s->w->api->loop) + LINGER_MS;
    kick(s->w, s->count == BATCH_MAX || s->w->fresh >= BATCH_MAX ? 0 : LINGER_MS);
}

static void report(struct slot *s, uint8_t kind, int status, const char *text)
{
    struct api__webhooks *w = s->w;
    struct engine_command cmd = {.kind = kind};
    cmd.u.webhook.id = s->id;
    cmd.u.webhook.from_index = s->from_index;
    cmd.u.webhook.from_n = s->from_n;
    cmd.u.webhook.to_index = s->to_index;
    cmd.u.webhook.to_n = s->to_n;
    cmd.u.webhook.count = s->count;
    cmd.u.webhook.status = (uint16_t)(status > 0 ? status : 0);
    cmd.u.webhook.text = text;
    if (w->closing || cluster_submit(w->api->cluster, &cmd, reported, s) != 0) {
        s->busy = false;
    }
}

static void answered(void *data, const struct http_response *res)
{
    struct slot *s = data;
    char text[ENGINE_WEBHOOK_TEXT] = "";
    if (s->w->closing) {
        s->busy = false;
        return;
    }
    if (res->status >= 200 && res->status < 300) {
        json_t *doc = json_loadb(res->body, res->body_len, 0, NULL);
        const char *id = json_string_value(json_object_get(doc, "id"));
        snprintf(text, sizeof(text), "%s", id != NULL ? id : "");
        json_decref(doc);
        s->w->posted++;
        report(s, ENGINE_CMD_WEBHOOK_DELIVERED, res->status, text);
        return;
    }
    if (res->status > 0) {
        snprintf(text, sizeof(text), "HTTP %d", res->status);
    } else {
        snprintf(text, sizeof(text), "no answer: %s", cd_strerror(res->status));
    }
    s->w->failed++;
    report(s, ENGINE_CMD_WEBHOOK_FAILED, res->status, text);
}

/* One batch: what follows the cursor, of the kinds asked for, as the text of a JSON array's
 * members (the feed's text of each event when it keeps it: encoded once for both). */
struct batch
{
    const struct api *api;
    const struct engine_webhook_info *info;
    struct cd_buf events;
    uint32_t count;
    uint64_t index; /* the last effect looked at */
    uint32_t n;
    uint64_t entry; /* the entry being read */
};

static int batch_effect(void *data, uint32_t n, const struct engine_effect *fx)
{
    struct batch *b = data;
    const struct engine_webhook_info *info = b->info;
    if (b->entry < info->after_index || (b->entry == info->after_index && n <= info->after_n)) {
        return 0; /* delivered before */
    }
    if (b->count == BATCH_MAX || b->events.len >= BATCH_BYTES) {
        return 1;
    }
    b->index = b->entry;
    b->n = n;
    if ((info->kinds & (1u << fx->kind)) == 0) {
        return 0;
    }
    const char *kept = api__event_text(b->api, b->entry, n);
    char *made = NULL;
    if (kept == NULL) {
        json_t *j = api__event_json(b->entry, n, fx);
        made = json_dumps(j, JSON_COMPACT);
        json_decref(j);
    }
    const char *text = kept != NULL ? kept : made != NULL ? made : "{}";
    if (b->count > 0) {
        cd_buf_u8(&b->events, ',');
    }
    cd_buf_put(&b->events, text, strlen(text));
    free(made);
    b->count++;
    return 0;
}

static int batch_entry(void *data, uint64_t index, const void *bytes, size_t len)
{
    struct batch *b = data;
    b->entry = index;
    int rv = cluster_effects_each(bytes, len, batch_effect, b);
    if (rv == 0 && b->index == index) {
        b->n = UINT32_MAX; /* the whole entry looked at */
    }
    return rv == 1 ? 1 : 0;
}

static void sign(const char *secret, const char *body, size_t len, char *hex)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac,
         &maclen);
    for (unsigned i = 0; i < maclen; i++) {
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    }
}

static bool post(struct slot *s, const struct engine_webhook_info *info, struct cd_buf *events)
{
    char host[INET6_ADDRSTRLEN], delivery[64], headers[512], hex[2 * EVP_MAX_MD_SIZE + 1] = "";
    const char *path;
    uint16_t port;
    if (!api__url_split(info->url, host, sizeof(host), &port, &path)) {
        return false;
    }
    char authority[sizeof(s->authority)];
    snprintf(authority, sizeof(authority), "%s:%u", host, port);
    if (s->client != NULL && strcmp(s->authority, authority) != 0) {
        http_client_close(s->client);
        s->client = NULL;
    }
    if (s->client == NULL && http_client_new(s->w->api->loop, host, port, 1, &s->client) != 0) {
        return false;
    }
    snprintf(s->authority, sizeof(s->authority), "%s", authority);
    snprintf(delivery, sizeof(delivery), "%u:%llu.%u", info->id,
             (unsigned long long)info->after_index, info->after_n);
    struct cd_buf body;
    char head[128];
    cd_buf_init(&body);
    int n = snprintf(head, sizeof(head), "{\"webhook\":%u,\"delivery\":\"%s\",\"events\":[",
                     info->id, delivery);
    cd_buf_put(&body, head, (size_t)n);
    cd_buf_put(&body, events->data, events->len);
    cd_buf_put(&body, "]}", 2);
    cd_buf_u8(&body, 0);
    if (body.err != 0) {
        cd_buf_close(&body);
        return false;
    }
    const char *text = (const char *)body.data;
    sign(info->secret, text, strlen(text), hex);
    snprintf(headers, sizeof(headers),
             "X-Contactd-Webhook: %u\r\nX-Contactd-Delivery: %s\r\n"
             "X-Contactd-Signature: sha256=%s\r\n",
             info->id, delivery, hex);
    int rv = http_client_request_headers(s->client, "POST", path, "application/json", headers,
                                         text, strlen(text), TIMEOUT_MS, answered, s);
    cd_buf_close(&body);
    return rv == 0;
}

/* The cursor of a webhook is behind what this node never applied: say so. */
static void gap_event(struct cd_buf *b,
                      const struct engine_webhook_info *info,
                      uint64_t gap_last)
{
    char text[160];
    int n = snprintf(text, sizeof(text),
                     "{\"kind\":\"gap\",\"after\":\"%llu.%u\",\"until\":\"%llu.%u\"}",
                     (unsigned long long)info->after_index, info->after_n,
                     (unsigned long long)gap_last, UINT32_MAX);
    cd_buf_put(b, text, (size_t)n);
}

static void attempt(struct api__webhooks *w,
                    struct slot *s,
                    const struct engine_webhook_info *info)
{
    struct storage *st = cluster_storage(w->api->cluster);
    uint64_t gap_last = storage_gap_last(st);
    struct batch b = {
        .api = w->api, .info = info, .index = info->after_index, .n = info->after_n};
    cd_buf_init(&b.events);
    struct engine_webhook_info from = *info;
    if (info->after_index < gap_last) {
        gap_event(&b.events, info, gap_last);
        b.count = 1;
        b.index = gap_last;
        b.n = UINT32_MAX;
        from.after_index = gap_last;
        from.after_n = UINT32_MAX;
        b.info = &from;
    }
    uint64_t start = from.after_n == UINT32_MAX ? from.after_index + 1 : from.after_index;
    storage_foreach_effects(st, start, batch_entry, &b);
    s->from_index = info->after_index;
    s->from_n = info->after_n;
    s->to_index = b.index;
    s->to_n = b.n;
    s->count = b.count;
    bool moved = b.index != info->after_index || b.n != info->after_n;
    if (b.count == 0) {
        cd_buf_close(&b.events);
        /* Nothing it wants: move the cursor now and then, so the outbox need not keep what
         * it does not want. */
        if (moved && b.index - info->after_index >= IDLE_SKIP_ENTRIES) {
            s->busy = true;
            report(s, ENGINE_CMD_WEBHOOK_DELIVERED, 0, "");
        }
        return;
    }
    s->busy = true;
    bool sent = post(s, info, &b.events);
    cd_buf_close(&b.events);
    if (!sent) {
        w->failed++;
        report(s, ENGINE_CMD_WEBHOOK_FAILED, 0, "cannot send: bad URL or out of memory");
    }
}

static struct slot *slot_for(struct api__webhooks *w, uint32_t id)
{
    struct slot *free_slot = NULL;
    for (unsigned i = 0; i < ENGINE_WEBHOOKS_MAX; i++) {
        if (w->slots[i].id == id) {
            return &w->slots[i];
        }
        if (w->slots[i].id == 0 && free_slot == NULL) {
            free_slot = &w->slots[i];
        }
    }
    if (free_slot != NULL) {
        free_slot->id = id;
        free_slot->w = w;
    }
    return free_slot;
}

/* Slots of subscriptions that are gone, and idle. */
static void sweep(struct api__webhooks *w, const struct engine *e)
{
    struct engine_webhook_info info;
    for (unsigned i = 0; i < ENGINE_WEBHOOKS_MAX; i++) {
        struct slot *s = &w->slots[i];
        if (s->id != 0 && !s->busy && engine_webhook_get(e, s->id, &info) != 0) {
            if (s->client != NULL) {
                http_client_close(s->client);
            }
            memset(s, 0, sizeof(*s));
        }
    }
}

static void run(uv_timer_t *t)
{
    struct api__webhooks *w = t->data;
    struct cluster *c = w->api->cluster;
    if (w->closing || c == NULL || !cluster_is_leader(c)) {
        return;
    }
    const struct engine *e = cluster_engine(c);
    int64_t now = cluster_wall_ms();
    uint64_t mono = uv_now(w->api->loop);
    bool full = w->fresh >= BATCH_MAX;
    sweep(w, e);
    for (size_t i = 0; i < engine_webhook_count(e); i++) {
        struct engine_webhook_info info;
        if (engine_webhook_at(e, i, &info) != 0) {
            continue;
        }
        struct slot *s = slot_for(w, info.id);
        if (s != NULL && !s->busy && now >= info.next_at && (full || mono >= s->linger_until)) {
            attempt(w, s, &info);
            w->fresh = 0; /* counts again from this attempt */
        }
    }
}

void api_webhooks_effect(struct api *a)
{
    struct api__webhooks *w = a->webhooks;
    w->fresh++;
    kick(w, w->fresh >= BATCH_MAX ? 0 : LINGER_MS);
}

uint64_t api_webhooks_holds(struct api *a)
{
    const struct engine *e = a->cluster != NULL ? cluster_engine(a->cluster) : NULL;
    uint64_t low = 0;
    struct engine_webhook_info info;
    for (size_t i = 0; e != NULL && engine_webhook_at(e, i, &info) == 0; i++) {
        uint64_t need = info.after_index > 0 ? info.after_index : 1;
        low = low == 0 || need < low ? need : low;
    }
    return low;
}

int api__webhooks_new(struct api *a)
{
    struct api__webhooks *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return CD_ENOMEM;
    }
    w->api = a;
    uv_timer_init(a->loop, &w->timer);
    w->timer.data = w;
    a->webhooks = w;
    return 0;
}

/* Stops delivering: no new attempt, the connections closed (their requests fail at once and
 * report nothing). Reports already submitted finish with the cluster. */
void api__webhooks_stop(struct api__webhooks *w)
{
    w->closing = true;
    uv_timer_stop(&w->timer);
    for (unsigned i = 0; i < ENGINE_WEBHOOKS_MAX; i++) {
        if (w->slots[i].client != NULL) {
            http_client_close(w->slots[i].client);
            w->slots[i].client = NULL;
        }
    }
}

static void webhooks_closed(uv_handle_t *h)
{
    free(h->data);
}

void api__webhooks_free(struct api__webhooks *w)
{
    api__webhooks_stop(w);
    uv_close((uv_handle_t *)&w->timer, webhooks_closed);
}

void api_webhooks_stop(struct api *a)
{
    api__webhooks_stop(a->webhooks);
}

void api__webhooks_stats(const struct api__webhooks *w, uint64_t *posted, uint64_t *failed)
{
    *posted = w->posted;
    *failed = w->failed;
}

/* ---- Routes ---------------------------------------------------------------------------- */

static bool read_kinds(struct api__call *call, json_t *arr, uint32_t *out)
{
    size_t i;
    json_t *v;
    *out = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        http_reply_error(call->x, 400, "INVAL",
                         "kinds: expected a non-empty array of event "
                         "kinds (queued, offer, ..., session_lost)");
        return false;
    }
    json_array_foreach(arr, i, v)
    {
        int k = json_is_string(v) ? engine_effect_parse(json_string_value(v)) : -1;
        if (k <= 0) {
            http_reply_error(call->x, 400, "INVAL", "kinds[%zu]: not an event kind", i);
            return false;
        }
        *out |= 1u << k;
    }
    return true;
}

void api__webhook_add(struct api__call *call)
{
    static const char *const keys[] = {"url", "secret", "kinds", NULL};
    struct engine_command cmd = {.kind = ENGINE_CMD_WEBHOOK_ADD};
    bool bad = false;
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    const char *url = api__opt_str(call, body, "url", &bad);
    const char *secret = api__opt_str(call, body, "secret", &bad);
    char host[INET6_ADDRSTRLEN];
    uint16_t port;
    const char *path;
    if (bad) {
        goto out;
    }
    if (url == NULL || strlen(url) >= ENGINE_URL_MAX ||
        !api__url_split(url, host, sizeof(host), &port, &path)) {
        http_reply_error(call->x, 400, "INVAL",
                         "url: expected http://ADDRESS[:PORT]/PATH with an IP address (names "
                         "and https come with TLS support)");
        goto out;
    }
    if (secret == NULL || strlen(secret) < ENGINE_SECRET_MIN ||
        strlen(secret) >= ENGINE_SECRET_MAX) {
        http_reply_error(call->x, 400, "INVAL", "secret: expected %d-%d visible characters",
                         ENGINE_SECRET_MIN, ENGINE_SECRET_MAX - 1);
        goto out;
    }
    if (!read_kinds(call, json_object_get(body, "kinds"), &cmd.u.webhook.kinds)) {
        goto out;
    }
    struct cluster_status st;
    cluster_status(call->api->cluster, &st);
    cmd.u.webhook.url = url;
    cmd.u.webhook.secret = secret;
    cmd.u.webhook.from_index = st.applied_index; /* events from now on */
    cmd.u.webhook.from_n = UINT32_MAX;
    api__submit(call, &cmd, 201);
out:
    json_decref(body);
}

static json_t *kinds_json(uint32_t kinds)
{
    json_t *arr = json_array();
    for (int k = 1; k < ENGINE_FX_KIND_COUNT; k++) {
        if (kinds & (1u << k)) {
            json_array_append_new(arr, json_string(engine_effect_name(k)));
        }
    }
    return arr;
}

static json_t *webhook_json(const struct engine_webhook_info *w, bool with_log)
{
    char after[48];
    snprintf(after, sizeof(after), "%llu.%u", (unsigned long long)w->after_index, w->after_n);
    json_t *j =
        json_pack("{s:I,s:s,s:o,s:s,s:I,s:i,s:I,s:I}", "id", (json_int_t)w->id, "url", w->url,
                  "kinds", kinds_json(w->kinds), "delivered_through", after, "delivered",
                  (json_int_t)w->delivered, "failed_attempts", (int)w->attempts,
                  "next_attempt_at", (json_int_t)w->next_at, "created", (json_int_t)w->created);
    if (with_log) {
        json_t *log = json_array();
        for (uint32_t i = 0; i < w->n_log; i++) {
            const struct engine_webhook_delivery *d = &w->log[i];
            char from[48], to[48];
            snprintf(from, sizeof(from), "%llu.%u", (unsigned long long)d->from_index,
                     d->from_n);
            snprintf(to, sizeof(to), "%llu.%u", (unsigned long long)d->to_index, d->to_n);
            json_array_append_new(
                log, json_pack("{s:I,s:b,s:i,s:i,s:s,s:s,s:s}", "at", (json_int_t)d->at, "ok",
                               d->ok, "status", (int)d->status, "events", (int)d->count,
                               "after", from, "through", d->ok ? to : "", "text", d->text));
        }
        json_object_set_new(j, "deliveries", log);
    }
    return j;
}

struct webhook_read
{
    struct api *api;
    struct http_exchange *x;
    uint64_t id; /* 0: the list */
};

static void read_answer(void *data, int status)
{
    struct webhook_read *r = data;
    const struct engine *e = cluster_engine(r->api->cluster);
    struct engine_webhook_info info;
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
    } else if (r->id == 0) {
        json_t *items = json_array();
        for (size_t i = 0; engine_webhook_at(e, i, &info) == 0; i++) {
            json_array_append_new(items, webhook_json(&info, false));
        }
        http_reply_json(r->x, 200, json_pack("{s:o}", "items", items));
    } else if (r->id > UINT32_MAX || engine_webhook_get(e, (uint32_t)r->id, &info) != 0) {
        http_reply_error(r->x, 404, "NOTFOUND", "webhook %llu not found",
                         (unsigned long long)r->id);
    } else {
        http_reply_json(r->x, 200, webhook_json(&info, true));
    }
    free(r);
}

static void read_webhooks(struct api__call *call, uint64_t id)
{
    struct webhook_read *r = malloc(sizeof(*r));
    if (r == NULL) {
        http_reply_error(call->x, 500, "NOMEM", "out of memory");
        return;
    }
    *r = (struct webhook_read){call->api, call->x, id};
    int rv = cluster_read_barrier(call->api->cluster, read_answer, r);
    if (rv != 0) {
        free(r);
        api__fail(call->x, rv, NULL);
    }
}

void api__webhook_list(struct api__call *call)
{
    read_webhooks(call, 0);
}

void api__webhook_get(struct api__call *call)
{
    read_webhooks(call, call->ids[0]);
}

void api__webhook_delete(struct api__call *call)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_WEBHOOK_DELETE};
    if (call->ids[0] > UINT32_MAX) {
        http_reply_error(call->x, 404, "NOTFOUND", "webhook %llu not found",
                         (unsigned long long)call->ids[0]);
        return;
    }
    cmd.u.webhook.id = (uint32_t)call->ids[0];
    api__submit(call, &cmd, 200);
}
