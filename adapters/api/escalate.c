/* Escalation (docs/continuity.md, "Escalation"): the leader notifies the people on call of
 * each fault along the model's escalation paths, exactly once per address across
 * failovers.
 *
 * Every second, while leading:
 *   - for each open fault nobody has acknowledged, and each path that takes it, each level
 *     whose time has come (the fault's opened + the level's after) and that is not open yet
 *     is opened with FAULT_ESCALATE: the engine refuses a level opened already, a fault
 *     acknowledged or closed, so a new leader neither repeats nor skips one;
 *   - each pending notification whose retry time has passed is sent — a webhook (POST, the
 *     fault as JSON) or an email through the node file's reports.smtp relay — and its
 *     outcome recorded with FAULT_NOTIFIED; a failure waits 10 s, 20 s, 40 s ... up to 10
 *     minutes, and the tenth gives it up.
 *
 * Each notification carries an idempotency key made of the fault, the path, the level and
 * the address's place in it: the webhook's Idempotency-Key header, the email's Message-ID.
 * A leader that dies after sending and before its FAULT_NOTIFIED committed leaves it
 * pending; the next leader sends it again with the same key, so the receiver can take it
 * once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "adapters/mail/mail.h"
#include "common/error.h"
#include "common/log.h"
#include "config/config.h"

#define TICK_MS 1000
#define BUSY_MAX 16
#define RETRY_FIRST_MS 10000
#define RETRY_MAX_MS 600000
#define WEBHOOK_TIMEOUT_MS 10000

struct send
{
    struct api__escalate *owner;
    bool busy;
    uint32_t fault;
    char path[ENGINE_NAME_MAX];
    uint8_t level, target, kind, attempts;
    char address[ENGINE_ADDRESS_MAX];
    char key[ENGINE_NAME_MAX * 2];
    struct http_client *client;
};

struct api__escalate
{
    uv_timer_t timer; /* first: the close callback frees the whole struct */
    struct api *api;
    bool closing;
    struct send busy[BUSY_MAX];
    bool opening; /* a FAULT_ESCALATE is on its way: one at a time */
    struct mail_sender *mail;
    uint64_t sent, failed;
};

/* ---- outcomes -------------------------------------------------------------------- */

static void recorded(void *data, const struct engine_result *res)
{
    struct send *x = data;
    if (res->code != 0 && res->code != CD_ESTATE) {
        cd_logf(CD_LOG_WARN, "fault_notified", "fault %u, %s level %u, address %u: %s",
                x->fault, x->path, x->level + 1, x->target + 1, res->message);
    }
    x->busy = false;
}

static void outcome(struct send *x, bool ok, const char *text)
{
    struct api__escalate *s = x->owner;
    int64_t wait = (int64_t)RETRY_FIRST_MS << (x->attempts < 6 ? x->attempts : 6);
    wait = wait > RETRY_MAX_MS ? RETRY_MAX_MS : wait;
    char clipped[ENGINE_FAULT_TEXT_MAX];
    snprintf(clipped, sizeof(clipped), "%s", text != NULL ? text : "");
    struct engine_command cmd = {.kind = ENGINE_CMD_FAULT_NOTIFIED,
                                 .u.fault = {.id = x->fault,
                                             .text = clipped,
                                             .path = x->path,
                                             .level = x->level,
                                             .target = x->target,
                                             .ok = ok,
                                             .retry_at = cluster_wall_ms() + wait}};
    ok ? s->sent++ : s->failed++;
    cd_logf(ok ? CD_LOG_INFO : CD_LOG_WARN, "fault_notify", "fault %u, %s level %u, %s %s: %s",
            x->fault, x->path, x->level + 1,
            x->kind == ENGINE_NOTIFY_EMAIL ? "email" : "webhook", x->address, clipped);
    if (s->closing || s->api->cluster == NULL ||
        cluster_submit(s->api->cluster, &cmd, recorded, x) != 0) {
        x->busy = false;
    }
}

/* ---- what is sent ---------------------------------------------------------------- */

static json_t *fault_doc(const struct engine *e, const struct send *x)
{
    struct engine_fault_info f;
    if (engine_fault_get(e, x->fault, &f) != 0) {
        return NULL;
    }
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:i,s:s}", "fault", (json_int_t)f.id,
                     "severity", engine_severity_name(f.severity), "kind", f.kind, "component",
                     f.component, "signal", f.signal, "opened", (json_int_t)f.opened, "path",
                     x->path, "level", x->level + 1, "notification", x->key);
}

static void posted(void *data, const struct http_response *res)
{
    struct send *x = data;
    char text[96];
    if (res->status < 0) {
        snprintf(text, sizeof(text), "no answer: %s", cd_strerror(res->status));
    } else {
        snprintf(text, sizeof(text), "HTTP %d", res->status);
    }
    outcome(x, res->status >= 200 && res->status < 300, text);
}

static void post(struct send *x, const json_t *doc)
{
    char host[64], headers[300];
    uint16_t port;
    const char *path;
    if (x->client != NULL) {
        http_client_close(x->client);
        x->client = NULL;
    }
    if (!api__url_split(x->address, host, sizeof(host), &port, &path) ||
        http_client_new(x->owner->api->loop, host, port, 1, &x->client) != 0) {
        outcome(x, false, "the webhook's URL cannot be reached (http://ADDRESS:PORT/PATH)");
        return;
    }
    char *body = json_dumps(doc, JSON_COMPACT);
    snprintf(headers, sizeof(headers), "Idempotency-Key: %s\r\nX-Contactd-Fault: %u\r\n",
             x->key, x->fault);
    if (body == NULL ||
        http_client_request_headers(x->client, "POST", path, "application/json", headers, body,
                                    strlen(body), WEBHOOK_TIMEOUT_MS, posted, x) != 0) {
        outcome(x, false, "out of memory");
    }
    free(body);
}

static void mailed(void *data, int code, const char *detail)
{
    struct send *x = data;
    if (code == CD_ECANCELED) {
        x->busy = false; /* the node is stopping: the next leader sends it */
        return;
    }
    outcome(x, code == 0, detail);
}

static void email(struct send *x, const json_t *doc)
{
    struct api__escalate *s = x->owner;
    const struct config_node *cfg = s->api->reports;
    char subject[300], id[160], text[1024];
    if (cfg == NULL || cfg->reports_smtp[0] == 0) {
        outcome(x, false, "this node has no reports.smtp relay in its node file");
        return;
    }
    if (s->mail == NULL) {
        struct mail_options opt = {
            .url = cfg->reports_smtp,
            .starttls = cfg->reports_smtp_starttls,
            .ca_file = cfg->reports_smtp_ca[0] ? cfg->reports_smtp_ca : NULL,
            .from = cfg->reports_mail_from};
        if (mail_sender_new(s->api->loop, &opt, &s->mail) != 0) {
            outcome(x, false, "the reports.smtp relay cannot be used");
            return;
        }
    }
    const char *sev = json_string_value(json_object_get(doc, "severity"));
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    const char *comp = json_string_value(json_object_get(doc, "component"));
    snprintf(subject, sizeof(subject), "[contactd] %s fault %u: %s on %s (%s, level %u)",
             sev != NULL && strcmp(sev, "major") == 0 ? "MAJOR" : "minor", x->fault, kind, comp,
             x->path, x->level + 1);
    snprintf(id, sizeof(id), "%s@contactd", x->key);
    snprintf(text, sizeof(text),
             "Fault %u (%s %s on %s, signal %s) is open and nobody has acknowledged it.\r\n"
             "Escalation '%s', level %u.\r\n\r\n"
             "Acknowledge it: contactctl fault ack %u --note \"...\"\r\n"
             "Its record: contactctl fault show %u\r\n",
             x->fault, sev, kind, comp, json_string_value(json_object_get(doc, "signal")),
             x->path, x->level + 1, x->fault, x->fault);
    const char *to[] = {x->address};
    struct mail_headers h = {.from = cfg->reports_mail_from,
                             .from_name = "contactd",
                             .to = to,
                             .n_to = 1,
                             .subject = subject,
                             .date_ms = cluster_wall_ms(),
                             .message_id = id};
    struct cd_buf msg;
    cd_buf_init(&msg);
    int rv = mail_message(&msg, &h, "text/plain; charset=utf-8", text, strlen(text), NULL);
    if (rv == 0) {
        rv = mail_send(s->mail, to, 1, msg.data, msg.len, mailed, x);
    }
    cd_buf_close(&msg);
    if (rv != 0) {
        outcome(x, false,
                rv == CD_EINVAL ? "the address or the message was refused before sending"
                                : "the mail sender is busy");
    }
}

/* ---- the leader's round ---------------------------------------------------------- */

static bool in_flight(const struct api__escalate *s,
                      uint32_t fault,
                      const struct engine_fault_notice *n)
{
    for (int i = 0; i < BUSY_MAX; i++) {
        const struct send *x = &s->busy[i];
        if (x->busy && x->fault == fault && x->level == n->level && x->target == n->target &&
            strcmp(x->path, n->path) == 0) {
            return true;
        }
    }
    return false;
}

static void start_send(struct api__escalate *s,
                       const struct engine *e,
                       uint32_t fault,
                       const struct engine_fault_notice *n)
{
    struct send *x = NULL;
    for (int i = 0; i < BUSY_MAX && x == NULL; i++) {
        x = s->busy[i].busy ? NULL : &s->busy[i];
    }
    if (x == NULL) {
        return; /* the next round */
    }
    struct http_client *client = x->client;
    *x = (struct send){.owner = s,
                       .busy = true,
                       .fault = fault,
                       .level = n->level,
                       .target = n->target,
                       .kind = n->kind,
                       .attempts = n->attempts,
                       .client = client};
    snprintf(x->path, sizeof(x->path), "%s", n->path);
    snprintf(x->address, sizeof(x->address), "%s", n->address);
    snprintf(x->key, sizeof(x->key), "fault.%u.%s.%u.%u", fault, n->path, n->level + 1,
             n->target + 1);
    json_t *doc = fault_doc(e, x);
    if (doc == NULL) {
        x->busy = false;
        return;
    }
    if (n->kind == ENGINE_NOTIFY_EMAIL) {
        email(x, doc);
    } else {
        post(x, doc);
    }
    json_decref(doc);
}

static bool level_open(const struct engine *e, uint32_t fault, const char *path, uint8_t level)
{
    struct engine_fault_notice n;
    for (uint32_t i = 0; engine_fault_notice(e, fault, i, &n) == 0; i++) {
        if (n.level == level && strcmp(n.path, path) == 0) {
            return true;
        }
    }
    return false;
}

static void opened(void *data, const struct engine_result *res)
{
    struct api__escalate *s = data;
    s->opening = false;
    if (res->code != 0 && res->code != CD_EEXISTS && res->code != CD_ESTATE) {
        cd_logf(CD_LOG_WARN, "fault_escalate", "not applied: %s", res->message);
    }
}

/* Opens the first level due and not open yet (one per round: the next round sees it). */
static void open_due(struct api__escalate *s, const struct engine *e, int64_t now)
{
    const struct engine_model *m = engine_model(e);
    struct engine_fault_info f;
    for (size_t i = 0; m != NULL && !s->opening && engine_fault_at(e, i, &f) == 0; i++) {
        if (f.closed != 0 || f.acked != 0) {
            continue;
        }
        for (uint32_t p = 0; p < m->n_escalations && !s->opening; p++) {
            const struct engine_escalation_path *path = &m->escalations[p];
            if (!engine_escalation_takes(path, &f)) {
                continue;
            }
            for (uint8_t l = 0; l < path->n_levels; l++) {
                if (now < f.opened + (int64_t)path->levels[l].after_s * 1000) {
                    break;
                }
                if (level_open(e, f.id, path->name, l)) {
                    continue;
                }
                struct engine_command cmd = {
                    .kind = ENGINE_CMD_FAULT_ESCALATE,
                    .u.fault = {.id = f.id, .path = path->name, .level = l}};
                s->opening = cluster_submit(s->api->cluster, &cmd, opened, s) == 0;
                break;
            }
        }
    }
}

static void tick(uv_timer_t *t)
{
    struct api__escalate *s = t->data;
    struct cluster *c = s->api->cluster;
    if (s->closing || c == NULL || !cluster_is_leader(c)) {
        return;
    }
    const struct engine *e = cluster_engine(c);
    int64_t now = cluster_wall_ms();
    api__runbooks_tick(s->api);
    open_due(s, e, now);
    struct engine_fault_info f;
    for (size_t i = 0; engine_fault_at(e, i, &f) == 0; i++) {
        struct engine_fault_notice n;
        for (uint32_t k = 0; k < f.n_notices && engine_fault_notice(e, f.id, k, &n) == 0; k++) {
            if (n.state == ENGINE_NOTICE_PENDING && n.retry_at <= now &&
                !in_flight(s, f.id, &n)) {
                start_send(s, e, f.id, &n);
            }
        }
    }
}

/* ---- life ------------------------------------------------------------------------ */

int api__escalate_new(struct api *a)
{
    struct api__escalate *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return CD_ENOMEM;
    }
    s->api = a;
    uv_timer_init(a->loop, &s->timer);
    s->timer.data = s;
    a->escalate = s;
    return 0;
}

void api__escalate_start(struct api__escalate *s)
{
    if (!s->closing && !uv_is_active((uv_handle_t *)&s->timer)) {
        uv_timer_start(&s->timer, tick, TICK_MS, TICK_MS);
    }
}

void api__escalate_stop(struct api__escalate *s)
{
    if (s == NULL) {
        return; /* api_new() ran out of memory before making it */
    }
    s->closing = true;
    uv_timer_stop(&s->timer);
    for (int i = 0; i < BUSY_MAX; i++) {
        if (s->busy[i].client != NULL) {
            http_client_close(s->busy[i].client);
            s->busy[i].client = NULL;
        }
    }
    if (s->mail != NULL) {
        mail_sender_close(s->mail, NULL, NULL);
        s->mail = NULL;
    }
}

static void escalate_closed(uv_handle_t *h)
{
    free(h->data);
}

void api__escalate_free(struct api__escalate *s)
{
    if (s == NULL) {
        return;
    }
    api__escalate_stop(s);
    uv_close((uv_handle_t *)&s->timer, escalate_closed);
}

void api__escalate_stats(const struct api__escalate *s, uint64_t *sent, uint64_t *failed)
{
    *sent = s != NULL ? s->sent : 0;
    *failed = s != NULL ? s->failed : 0;
}
