/* Webhook subscriptions: outbound work done exactly once, as replicated state.
 *
 * A webhook is an obligation that keeps growing: deliver every effect of the kinds it asked
 * for, after its cursor, to its URL. The leader does the delivering (adapters/api/webhooks.c);
 * the state only records what the receiver acknowledged and what failed:
 *
 *   WEBHOOK_DELIVERED(id, from, to, ...)  the receiver answered 2xx to the events after
 *                                         `from` up to `to`: the cursor moves to `to`
 *   WEBHOOK_FAILED(id, from, ...)         an attempt from `from` failed: attempts + 1, and
 *                                         no attempt before now + backoff
 *
 * Both are fenced: they apply only while the cursor is still `from`. A leader that dies after
 * the receiver took a delivery but before its DELIVERED committed leaves the cursor where it
 * was; the next leader delivers the same events again under the same delivery id (the
 * webhook's id and the cursor), which the receiver recognises. A report from a deposed leader
 * that arrives after another's is refused, so nothing is counted twice. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 300000

int64_t engine_webhook_backoff_ms(uint32_t attempts)
{
    int64_t ms = BACKOFF_FIRST_MS;
    for (uint32_t i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++) {
        ms *= 2;
    }
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static int find(const struct engine *e, uint32_t id)
{
    for (uint32_t i = 0; i < e->n_webhooks; i++) {
        if (e->webhooks[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

/* http://HOST[:PORT]/PATH with HOST an IPv4 literal or a name; nothing the deliverer could
 * not send (spaces, control characters). */
static bool url_ok(const char *url)
{
    if (url == NULL || !engine_visible_valid(url, ENGINE_URL_MAX) ||
        strncmp(url, "http://", 7) != 0) {
        return false;
    }
    const char *host = url + 7, *slash = strchr(host, '/');
    return slash != NULL && slash > host;
}

static int add(struct engine *e, const struct engine_command *cmd, struct engine_result *res)
{
    const char *url = cmd->u.webhook.url, *secret = cmd->u.webhook.secret;
    uint32_t all = (1u << ENGINE_FX_KIND_COUNT) - 2; /* kinds 1.. */
    if (!url_ok(url)) {
        return FAIL(res, CD_EINVAL,
                    "url: expected http://host:port/path, at most %d visible characters",
                    ENGINE_URL_MAX - 1);
    }
    if (secret == NULL || !engine_visible_valid(secret, ENGINE_SECRET_MAX) ||
        strlen(secret) < ENGINE_SECRET_MIN) {
        return FAIL(res, CD_EINVAL, "secret: expected %d-%d visible characters",
                    ENGINE_SECRET_MIN, ENGINE_SECRET_MAX - 1);
    }
    if (cmd->u.webhook.kinds == 0 || (cmd->u.webhook.kinds & ~all) != 0) {
        return FAIL(res, CD_EINVAL, "kinds: expected one or more effect kinds");
    }
    if (e->n_webhooks == ENGINE_WEBHOOKS_MAX) {
        return FAIL(res, CD_ETOOBIG, "at most %d webhooks", ENGINE_WEBHOOKS_MAX);
    }
    if (GROW(e->webhooks, e->cap_webhooks, e->n_webhooks + 1) != 0) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    struct engine__webhook *w = &e->webhooks[e->n_webhooks];
    memset(w, 0, sizeof(*w));
    w->url = cd_strdup(url);
    w->secret = cd_strdup(secret);
    if (w->url == NULL || w->secret == NULL) {
        cd_free(w->url);
        cd_free(w->secret);
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    w->id = ++e->next_webhook;
    w->kinds = cmd->u.webhook.kinds;
    w->after_index = cmd->u.webhook.from_index;
    w->after_n = cmd->u.webhook.from_n;
    w->created = e->clock;
    e->n_webhooks++;
    res->contact = w->id;
    return 0;
}

void engine__webhook_release(struct engine__webhook *w)
{
    cd_free(w->url);
    cd_free(w->secret);
    for (uint32_t i = 0; i < ENGINE_WEBHOOK_LOG; i++) {
        cd_free(w->log[i].text);
    }
    memset(w, 0, sizeof(*w));
}

/* The newest attempt first: log[0]. */
static int note(struct engine *e,
                struct engine__webhook *w,
                const struct engine_command *cmd,
                bool ok)
{
    const char *t = cmd->u.webhook.text != NULL ? cmd->u.webhook.text : "";
    char *text = cd_malloc(strlen(t) + 1);
    if (text == NULL) {
        return CD_ENOMEM;
    }
    memcpy(text, t, strlen(t) + 1);
    cd_free(w->log[ENGINE_WEBHOOK_LOG - 1].text);
    memmove(&w->log[1], &w->log[0], (ENGINE_WEBHOOK_LOG - 1) * sizeof(w->log[0]));
    w->log[0] = (struct engine__delivery){.at = e->clock,
                                          .from_index = cmd->u.webhook.from_index,
                                          .from_n = cmd->u.webhook.from_n,
                                          .to_index = ok ? cmd->u.webhook.to_index : 0,
                                          .to_n = ok ? cmd->u.webhook.to_n : 0,
                                          .count = cmd->u.webhook.count,
                                          .status = cmd->u.webhook.status,
                                          .ok = ok,
                                          .text = text};
    if (w->n_log < ENGINE_WEBHOOK_LOG) {
        w->n_log++;
    }
    return 0;
}

static bool before(uint64_t ai, uint32_t an, uint64_t bi, uint32_t bn)
{
    return ai < bi || (ai == bi && an < bn);
}

static int report(struct engine *e, const struct engine_command *cmd, struct engine_result *res)
{
    int i = find(e, cmd->u.webhook.id);
    if (i < 0) {
        return FAIL(res, CD_ENOTFOUND, "webhook %u not found", cmd->u.webhook.id);
    }
    struct engine__webhook *w = &e->webhooks[i];
    if (w->after_index != cmd->u.webhook.from_index || w->after_n != cmd->u.webhook.from_n) {
        return FAIL(res, CD_ESTATE,
                    "webhook %u: the attempt from %llu.%u is stale (cursor %llu.%u)", w->id,
                    (unsigned long long)cmd->u.webhook.from_index, cmd->u.webhook.from_n,
                    (unsigned long long)w->after_index, w->after_n);
    }
    const char *text = cmd->u.webhook.text != NULL ? cmd->u.webhook.text : "";
    if (strlen(text) >= ENGINE_WEBHOOK_TEXT) {
        return FAIL(res, CD_EINVAL, "text: at most %d bytes", ENGINE_WEBHOOK_TEXT - 1);
    }
    bool ok = cmd->kind == ENGINE_CMD_WEBHOOK_DELIVERED;
    if (ok &&
        !before(w->after_index, w->after_n, cmd->u.webhook.to_index, cmd->u.webhook.to_n)) {
        return FAIL(res, CD_EINVAL, "webhook %u: to must follow from", w->id);
    }
    if (note(e, w, cmd, ok) != 0) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    if (ok) {
        w->after_index = cmd->u.webhook.to_index;
        w->after_n = cmd->u.webhook.to_n;
        w->delivered += cmd->u.webhook.count;
        w->attempts = 0;
        w->next_at = 0;
    } else {
        w->attempts++;
        w->next_at = e->clock + engine_webhook_backoff_ms(w->attempts);
    }
    return 0;
}

int engine__cmd_webhook(struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res)
{
    if (cmd->kind == ENGINE_CMD_WEBHOOK_ADD) {
        return add(e, cmd, res);
    }
    if (cmd->kind != ENGINE_CMD_WEBHOOK_DELETE) {
        return report(e, cmd, res);
    }
    int i = find(e, cmd->u.webhook.id);
    if (i < 0) {
        return FAIL(res, CD_ENOTFOUND, "webhook %u not found", cmd->u.webhook.id);
    }
    engine__webhook_release(&e->webhooks[i]);
    memmove(&e->webhooks[i], &e->webhooks[i + 1],
            (e->n_webhooks - (uint32_t)i - 1) * sizeof(e->webhooks[0]));
    e->n_webhooks--;
    return 0;
}

/* ---- Queries -------------------------------------------------------------------------- */

size_t engine_webhook_count(const struct engine *e)
{
    return e->n_webhooks;
}

int engine_webhook_at(const struct engine *e, size_t i, struct engine_webhook_info *out)
{
    if (i >= e->n_webhooks) {
        return CD_ENOTFOUND;
    }
    const struct engine__webhook *w = &e->webhooks[i];
    memset(out, 0, sizeof(*out));
    out->id = w->id;
    out->url = w->url;
    out->secret = w->secret;
    out->kinds = w->kinds;
    out->after_index = w->after_index;
    out->after_n = w->after_n;
    out->attempts = w->attempts;
    out->next_at = w->next_at;
    out->created = w->created;
    out->delivered = w->delivered;
    out->n_log = w->n_log;
    for (uint32_t k = 0; k < w->n_log; k++) {
        const struct engine__delivery *d = &w->log[k];
        out->log[k] = (struct engine_webhook_delivery){
            d->at,     d->from_index, d->to_index,
            d->from_n, d->to_n,       d->count,
            d->status, d->ok,         d->text != NULL ? d->text : ""};
    }
    return 0;
}

int engine_webhook_get(const struct engine *e, uint32_t id, struct engine_webhook_info *out)
{
    int i = find(e, id);
    return i < 0 ? CD_ENOTFOUND : engine_webhook_at(e, (size_t)i, out);
}

/* ---- Snapshot ------------------------------------------------------------------------- */

void engine__webhooks_encode(const struct engine *e, struct cd_buf *b)
{
    cd_buf_uvar(b, e->next_webhook);
    cd_buf_uvar(b, e->n_webhooks);
    for (uint32_t i = 0; i < e->n_webhooks; i++) {
        const struct engine__webhook *w = &e->webhooks[i];
        cd_buf_uvar(b, w->id);
        cd_buf_str(b, w->url);
        cd_buf_str(b, w->secret);
        cd_buf_uvar(b, w->kinds);
        cd_buf_uvar(b, w->after_index);
        cd_buf_uvar(b, w->after_n);
        cd_buf_uvar(b, w->attempts);
        cd_buf_svar(b, w->next_at);
        cd_buf_svar(b, w->created);
        cd_buf_uvar(b, w->delivered);
        cd_buf_uvar(b, w->n_log);
        for (uint32_t k = 0; k < w->n_log; k++) {
            const struct engine__delivery *d = &w->log[k];
            cd_buf_svar(b, d->at);
            cd_buf_uvar(b, d->from_index);
            cd_buf_uvar(b, d->from_n);
            cd_buf_uvar(b, d->to_index);
            cd_buf_uvar(b, d->to_n);
            cd_buf_uvar(b, d->count);
            cd_buf_uvar(b, d->status);
            cd_buf_u8(b, d->ok);
            cd_buf_str(b, d->text != NULL ? d->text : "");
        }
    }
}

static char *rd_copy(struct cd_reader *r, size_t cap)
{
    size_t len;
    const char *s = cd_rd_str(r, &len);
    if (r->err != 0 || len >= cap) {
        r->err = CD_ECORRUPT;
        return NULL;
    }
    char *out = cd_malloc(len + 1);
    if (out != NULL) {
        memcpy(out, s, len + 1);
    }
    return out;
}

int engine__webhooks_decode(struct engine *e, struct cd_reader *r)
{
    e->next_webhook = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    uint32_t n = (uint32_t)cd_rd_uint(r, ENGINE_WEBHOOKS_MAX);
    if (r->err != 0 || (n > 0 && GROW(e->webhooks, e->cap_webhooks, n) != 0)) {
        return r->err != 0 ? CD_ECORRUPT : CD_ENOMEM;
    }
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        struct engine__webhook *w = &e->webhooks[i];
        memset(w, 0, sizeof(*w));
        e->n_webhooks++; /* released with the rest if what follows is bad */
        w->id = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        w->url = rd_copy(r, ENGINE_URL_MAX);
        w->secret = rd_copy(r, ENGINE_SECRET_MAX);
        w->kinds = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        w->after_index = cd_rd_uvar(r);
        w->after_n = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        w->attempts = (uint32_t)cd_rd_uint(r, UINT32_MAX);
        w->next_at = cd_rd_svar(r);
        w->created = cd_rd_svar(r);
        w->delivered = cd_rd_uvar(r);
        w->n_log = (uint32_t)cd_rd_uint(r, ENGINE_WEBHOOK_LOG);
        for (uint32_t k = 0; k < w->n_log && r->err == 0; k++) {
            struct engine__delivery *d = &w->log[k];
            d->at = cd_rd_svar(r);
            d->from_index = cd_rd_uvar(r);
            d->from_n = (uint32_t)cd_rd_uint(r, UINT32_MAX);
            d->to_index = cd_rd_uvar(r);
            d->to_n = (uint32_t)cd_rd_uint(r, UINT32_MAX);
            d->count = (uint32_t)cd_rd_uint(r, UINT32_MAX);
            d->status = (uint16_t)cd_rd_uint(r, UINT16_MAX);
            d->ok = cd_rd_bool(r);
            d->text = rd_copy(r, ENGINE_WEBHOOK_TEXT);
            if (d->text == NULL && r->err == 0) {
                return CD_ENOMEM;
            }
        }
        if (r->err == 0 && (w->url == NULL || w->secret == NULL)) {
            return CD_ENOMEM;
        }
        if (r->err == 0 && ((i > 0 && w->id <= e->webhooks[i - 1].id) || w->id == 0 ||
                            w->id > e->next_webhook || !url_ok(w->url))) {
            r->err = CD_ECORRUPT;
        }
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

void engine__webhooks_free(struct engine *e)
{
    for (uint32_t i = 0; i < e->n_webhooks; i++) {
        engine__webhook_release(&e->webhooks[i]);
    }
    cd_free(e->webhooks);
    e->webhooks = NULL;
    e->n_webhooks = e->cap_webhooks = 0;
}
