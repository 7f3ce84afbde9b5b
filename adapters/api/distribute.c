/* Scheduled reports (docs/reports.md, "Distribution"): the leader delivers each report
 * definition that has a schedule and an audience, once per scheduled moment ("slot").
 *
 * Every second, while leading, for each such definition:
 *   - the slot due now (api__schedule_slot()) is opened with REPORT_SLOT when it is later
 *     than the last one opened and not before the definition's current version: the engine
 *     refuses a slot opened already, so a new leader neither skips nor repeats one (slots
 *     missed while no leader ran are not made up: the latest due one is delivered);
 *   - each delivery of a kept round still pending and due (its retry time passed) is made:
 *     the report is made as of the slot (its period ends there), then sent to its member of
 *     the audience — a directory under the node file's reports.directory (written to a
 *     temporary name, then renamed), a webhook (POST), or an email through the node file's
 *     reports.smtp relay — and its outcome is recorded with REPORT_SENT; a failure waits 30 s,
 *     1 min, 2 min ... up to an hour before the next attempt, until the engine's limit.
 *
 * A delivery carries an idempotency key made of the definition, the slot and the member:
 * the file's name, the webhook's Idempotency-Key header, the email's Message-ID. A leader
 * that dies after sending and before its REPORT_SENT committed leaves the delivery pending;
 * the next leader sends it again with the same key, so the receiver can take it once. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/api/internal.h"
#include "adapters/mail/mail.h"
#include "common/error.h"
#include "common/log.h"
#include "config/config.h"

#define TICK_MS 1000
#define BUSY_MAX 16 /* deliveries in flight at once */
#define RETRY_FIRST_MS 30000
#define RETRY_MAX_MS 3600000
#define WEBHOOK_TIMEOUT_MS 30000

struct delivery
{
    struct api__distrib *d;
    bool busy;
    char name[ENGINE_NAME_MAX];
    int64_t slot;
    uint8_t target;
    uint8_t attempts;
    uint8_t format;
    char kind[16];     /* email, webhook, directory */
    char address[300]; /* the audience member's address, URL or directory name */
    char title[256];
    struct http_client *client;
    char *body;
    size_t len;
    char ctype[64];
};

struct api__distrib
{
    uv_timer_t timer; /* first: the close callback frees the whole struct */
    struct api *api;
    bool closing;
    struct delivery busy[BUSY_MAX];
    char opening[ENGINE_NAME_MAX * 4]; /* names whose REPORT_SLOT is on its way, space-ended */
    uint64_t delivered, failed;
    struct mail_sender *mail; /* made at the first email, from the node file's reports */
};

static const char *const extensions[API__FORMAT_COUNT] = {"json", "csv", "html", "pdf"};

/* ---- outcomes -------------------------------------------------------------------- */

static void recorded(void *data, const struct engine_result *res)
{
    struct delivery *x = data;
    if (res->code != 0 && res->code != CD_EEXISTS) {
        cd_logf(CD_LOG_WARN, "report_sent", "%s, slot %lld, delivery %u: %s", x->name,
                (long long)x->slot, x->target, res->message);
    }
    free(x->body);
    x->body = NULL;
    x->busy = false;
}

/* Records how the delivery went (the leader's word, through the log). */
static void outcome(struct delivery *x, bool ok, const char *text)
{
    struct api__distrib *d = x->d;
    int64_t wait = RETRY_FIRST_MS << (x->attempts < 7 ? x->attempts : 7);
    if (wait > RETRY_MAX_MS) {
        wait = RETRY_MAX_MS;
    }
    char clipped[ENGINE_TARGET_MAX];
    snprintf(clipped, sizeof(clipped), "%s", text != NULL ? text : "");
    struct engine_command cmd = {.kind = ENGINE_CMD_REPORT_SENT,
                                 .u.round = {.name = x->name,
                                             .slot = x->slot,
                                             .target = x->target,
                                             .ok = ok,
                                             .text = clipped,
                                             .retry_at = cluster_wall_ms() + wait}};
    ok ? d->delivered++ : d->failed++;
    cd_logf(ok ? CD_LOG_INFO : CD_LOG_WARN, "report_delivery",
            "%s, slot %lld, delivery %u (%s): %s: %s", x->name, (long long)x->slot, x->target,
            x->kind, ok ? "delivered" : "failed", clipped);
    if (d->closing || d->api->cluster == NULL ||
        cluster_submit(d->api->cluster, &cmd, recorded, x) != 0) {
        free(x->body);
        x->body = NULL;
        x->busy = false;
    }
}

/* ---- to a directory -------------------------------------------------------------- */

/* dir/NAME-SLOT.EXT, SLOT as 20261207T070000Z: the same name for the same delivery. */
static int write_file(struct delivery *x, char *why, size_t len)
{
    const struct config_node *cfg = x->d->api->reports;
    char dir[CONFIG_PATH_MAX + 320], path[sizeof(dir) + 160], tmp[sizeof(path) + 8];
    if (cfg == NULL || cfg->reports_directory[0] == 0) {
        snprintf(why, len, "this node has no reports.directory in its node file");
        return CD_EINVAL;
    }
    time_t t = (time_t)(x->slot / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(dir, sizeof(dir), "%s/%s", cfg->reports_directory, x->address);
    snprintf(path, sizeof(path), "%s/%s-%s.%s", dir, x->name, stamp, extensions[x->format]);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(why, len, "%.80s: %s", dir, strerror(errno));
        return CD_EIO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    size_t done = 0;
    while (fd >= 0 && done < x->len) {
        ssize_t n = write(fd, x->body + done, x->len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    bool ok = fd >= 0 && done == x->len && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) {
        ok = false;
    }
    if (!ok || rename(tmp, path) != 0) {
        snprintf(why, len, "%.80s: %s", tmp, strerror(errno));
        unlink(tmp);
        return CD_EIO;
    }
    snprintf(why, len, "%.*s", (int)len - 1, path);
    return 0;
}

/* ---- to a webhook ---------------------------------------------------------------- */

static void posted(void *data, const struct http_response *res)
{
    struct delivery *x = data;
    char text[160];
    bool ok = res->status >= 200 && res->status < 300;
    if (res->status < 0) {
        snprintf(text, sizeof(text), "no answer: %s", cd_strerror(res->status));
    } else {
        snprintf(text, sizeof(text), "HTTP %d", res->status);
    }
    outcome(x, ok, text);
}

static void client_closed_later(struct delivery *x)
{
    if (x->client != NULL) {
        http_client_close(x->client);
        x->client = NULL;
    }
}

static void post(struct delivery *x)
{
    char host[64], headers[512];
    uint16_t port;
    const char *path;
    client_closed_later(x);
    if (!api__url_split(x->address, host, sizeof(host), &port, &path) ||
        http_client_new(x->d->api->loop, host, port, 1, &x->client) != 0) {
        outcome(x, false, "the webhook's URL cannot be reached (http://ADDRESS:PORT/PATH)");
        return;
    }
    snprintf(
        headers, sizeof(headers),
        "Idempotency-Key: %s.%lld.%u\r\nX-Contactd-Report: %s\r\nX-Contactd-Slot: %lld\r\n",
        x->name, (long long)x->slot, x->target, x->name, (long long)x->slot);
    if (http_client_request_headers(x->client, "POST", path, x->ctype, headers, x->body, x->len,
                                    WEBHOOK_TIMEOUT_MS, posted, x) != 0) {
        outcome(x, false, "out of memory");
    }
}

/* ---- by email ------------------------------------------------------------------- */

static void mailed(void *data, int code, const char *detail)
{
    struct delivery *x = data;
    if (code == CD_ECANCELED) {
        free(x->body); /* the node is stopping: the next leader sends it */
        x->body = NULL;
        x->busy = false;
        return;
    }
    outcome(x, code == 0, detail);
}

static const char *const mime_types[API__FORMAT_COUNT] = {
    "application/json", "text/csv; charset=utf-8", "text/html; charset=utf-8",
    "application/pdf"};

static void email(struct delivery *x)
{
    struct api__distrib *d = x->d;
    const struct config_node *cfg = d->api->reports;
    char subject[400], id[160], file[160], text[600], stamp[32];
    if (cfg == NULL || cfg->reports_smtp[0] == 0) {
        outcome(x, false, "this node has no reports.smtp relay in its node file");
        return;
    }
    if (d->mail == NULL) {
        struct mail_options opt = {
            .url = cfg->reports_smtp,
            .starttls = cfg->reports_smtp_starttls,
            .ca_file = cfg->reports_smtp_ca[0] ? cfg->reports_smtp_ca : NULL,
            .from = cfg->reports_mail_from};
        if (mail_sender_new(d->api->loop, &opt, &d->mail) != 0) {
            outcome(x, false, "the reports.smtp relay cannot be used");
            return;
        }
    }
    time_t t = (time_t)(x->slot / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(subject, sizeof(subject), "%s (%s)", x->title, stamp);
    snprintf(id, sizeof(id), "%s.%lld.%u@contactd", x->name, (long long)x->slot, x->target);
    snprintf(file, sizeof(file), "%s-%s.%s", x->name, stamp, extensions[x->format]);
    snprintf(text, sizeof(text),
             "%s\r\n\r\nThe report '%s' for the slot %s is attached (%s). Each figure is "
             "defined in its glossary.\r\n",
             x->title, x->name, stamp, extensions[x->format]);
    const char *to[] = {x->address};
    struct mail_headers h = {.from = cfg->reports_mail_from,
                             .from_name = "contactd reports",
                             .to = to,
                             .n_to = 1,
                             .subject = subject,
                             .date_ms = cluster_wall_ms(),
                             .message_id = id};
    struct mail_attachment a = {.filename = file,
                                .content_type = mime_types[x->format],
                                .data = x->body,
                                .len = x->len};
    struct cd_buf msg;
    cd_buf_init(&msg);
    int rv = mail_message(&msg, &h, "text/plain; charset=utf-8", text, strlen(text), &a);
    if (rv == 0) {
        rv = mail_send(d->mail, to, 1, msg.data, msg.len, mailed, x);
    }
    cd_buf_close(&msg);
    if (rv != 0) {
        outcome(x, false,
                rv == CD_EINVAL ? "the address or the message was refused before sending"
                                : "the mail sender is busy");
    }
}

/* ---- making the report, then sending it ------------------------------------------ */

static void made(void *data,
                 int status,
                 const char *why,
                 const char *ctype,
                 char *body,
                 size_t len)
{
    struct delivery *x = data;
    char text[ENGINE_TARGET_MAX];
    if (status == CD_EUNAVAIL) {
        x->busy = false; /* the node is busy making other reports: not an attempt; next tick */
        return;
    }
    if (status != 0) {
        snprintf(text, sizeof(text), "the report could not be made: %s", why);
        outcome(x, false, text);
        return;
    }
    x->body = body;
    x->len = len;
    snprintf(x->ctype, sizeof(x->ctype), "%s", ctype);
    if (strcmp(x->kind, "directory") == 0) {
        int rv = write_file(x, text, sizeof(text));
        outcome(x, rv == 0, text);
    } else if (strcmp(x->kind, "webhook") == 0) {
        post(x);
    } else {
        email(x);
    }
}

/* The audience member target of the definition (def as it was at the round's version). */
static void start_delivery(struct api__distrib *d,
                           const char *name,
                           const struct engine_round_info *r,
                           uint8_t target,
                           json_t *def)
{
    struct delivery *x = NULL;
    for (int i = 0; i < BUSY_MAX && x == NULL; i++) {
        x = d->busy[i].busy ? NULL : &d->busy[i];
    }
    if (x == NULL) {
        return; /* enough in flight: next tick */
    }
    json_t *member = json_array_get(json_object_get(def, "audience"), target);
    const char *kind = json_object_iter_key(json_object_iter(member));
    const char *address = json_string_value(json_object_iter_value(json_object_iter(member)));
    const char *title = json_string_value(json_object_get(def, "title"));
    int format = api__report_format_parse(json_string_value(json_object_get(def, "format")));
    client_closed_later(x);
    *x = (struct delivery){.d = d,
                           .busy = true,
                           .slot = r->slot,
                           .target = target,
                           .attempts = r->targets[target].attempts,
                           .format = (uint8_t)(format < 0 ? 2 : format)};
    snprintf(x->name, sizeof(x->name), "%s", name);
    snprintf(x->kind, sizeof(x->kind), "%s", kind != NULL ? kind : "");
    snprintf(x->address, sizeof(x->address), "%s", address != NULL ? address : "");
    snprintf(x->title, sizeof(x->title), "%s", title != NULL ? title : name);
    if (kind == NULL || address == NULL) {
        outcome(x, false, "the definition's version has no such member of its audience");
        return;
    }
    /* Without a period of its own, a scheduled report covers the time since the slot
     * before: the last N minutes, yesterday, last week or last month. */
    int64_t from = 0;
    struct api__schedule s;
    const char *when = json_string_value(json_object_get(def, "schedule"));
    if (json_object_get(def, "period") == NULL && when != NULL &&
        api__schedule_parse(when, &s) == 0) {
        json_t *copy = json_deep_copy(def);
        if (s.kind == API__EVERY) {
            from = r->slot - (int64_t)s.minutes * 60000;
        } else {
            json_object_set_new(copy, "period",
                                json_string(s.kind == API__DAILY    ? "yesterday"
                                            : s.kind == API__WEEKLY ? "last_week"
                                                                    : "last_month"));
        }
        int rv = api__report_make(d->api, copy, r->slot, from, x->format, made, x);
        json_decref(copy);
        if (rv != 0) {
            outcome(x, false,
                    rv == CD_EINVAL ? "the definition is not a report" : "out of memory");
        }
        return;
    }
    int rv = api__report_make(d->api, def, r->slot, 0, x->format, made, x);
    if (rv != 0) {
        outcome(x, false, rv == CD_EINVAL ? "the definition is not a report" : "out of memory");
    }
}

static bool in_flight(const struct api__distrib *d, const char *name, int64_t slot, uint8_t t)
{
    for (int i = 0; i < BUSY_MAX; i++) {
        const struct delivery *x = &d->busy[i];
        if (x->busy && x->slot == slot && x->target == t && strcmp(x->name, name) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- opening slots --------------------------------------------------------------- */

struct opening
{
    struct api__distrib *d;
    char name[ENGINE_NAME_MAX];
};

static void unmark(struct api__distrib *d, const char *name)
{
    char word[ENGINE_NAME_MAX + 2];
    snprintf(word, sizeof(word), "%s ", name);
    char *at = strstr(d->opening, word);
    if (at != NULL) {
        memmove(at, at + strlen(word), strlen(at + strlen(word)) + 1);
    }
}

static void opened(void *data, const struct engine_result *res)
{
    struct opening *o = data;
    if (res->code != 0 && res->code != CD_EEXISTS) {
        cd_logf(CD_LOG_WARN, "report_slot", "%s: %s", o->name, res->message);
    }
    unmark(o->d, o->name);
    free(o);
}

static void open_slot(struct api__distrib *d,
                      const char *name,
                      int64_t slot,
                      uint32_t version,
                      size_t targets)
{
    char word[ENGINE_NAME_MAX + 2];
    snprintf(word, sizeof(word), "%s ", name);
    struct opening *o = malloc(sizeof(*o));
    if (o == NULL || strstr(d->opening, word) != NULL ||
        strlen(d->opening) + strlen(word) >= sizeof(d->opening)) {
        free(o);
        return;
    }
    *o = (struct opening){.d = d};
    snprintf(o->name, sizeof(o->name), "%s", name);
    struct engine_command cmd = {
        .kind = ENGINE_CMD_REPORT_SLOT,
        .u.round = {
            .name = name, .slot = slot, .version = version, .targets = (uint8_t)targets}};
    if (cluster_submit(d->api->cluster, &cmd, opened, o) != 0) {
        free(o);
        return;
    }
    strcat(d->opening, word);
}

/* ---- the leader's round --------------------------------------------------------- */

static void one(struct api__distrib *d, const struct engine *e, const char *name, int64_t now)
{
    struct engine_report_def_info info;
    struct engine_round_info r;
    struct api__schedule s;
    json_t *def = NULL;
    if (engine_report_def_get(e, name, 0, &info) != 0 ||
        (def = json_loads(info.text, 0, NULL)) == NULL) {
        return;
    }
    const char *when = json_string_value(json_object_get(def, "schedule"));
    size_t audience = json_array_size(json_object_get(def, "audience"));
    if (when != NULL && audience > 0 && api__schedule_parse(when, &s) == 0) {
        int64_t slot = api__schedule_slot(&s, api__centre_zone(engine_model(e)), now);
        if (slot > engine_report_last_slot(e, name) && slot >= info.at) {
            open_slot(d, name, slot, info.version, audience);
        }
    }
    json_decref(def);
    for (size_t i = 0; engine_report_round(e, name, i, &r) == 0; i++) {
        for (uint8_t t = 0; t < r.n_targets; t++) {
            const struct engine_delivery_info *di = &r.targets[t];
            if (di->state != ENGINE_DELIVERY_PENDING || di->retry_at > now ||
                in_flight(d, name, r.slot, t)) {
                continue;
            }
            json_t *then = NULL;
            if (api__report_def_text(e, name, r.version, &then) != 0) {
                api__report_def_text(e, name, 0, &then); /* that version is gone: the current */
            }
            if (then != NULL) {
                start_delivery(d, name, &r, t, then);
                json_decref(then);
            }
        }
    }
}

static void tick(uv_timer_t *t)
{
    struct api__distrib *d = t->data;
    struct cluster *c = d->api->cluster;
    if (d->closing || c == NULL || !cluster_is_leader(c)) {
        return;
    }
    const struct engine *e = cluster_engine(c);
    int64_t now = cluster_wall_ms();
    for (size_t i = 0; engine_report_def_name(e, i) != NULL; i++) {
        one(d, e, engine_report_def_name(e, i), now);
    }
}

/* ---- life ------------------------------------------------------------------------ */

int api__distrib_new(struct api *a)
{
    struct api__distrib *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return CD_ENOMEM;
    }
    d->api = a;
    uv_timer_init(a->loop, &d->timer);
    d->timer.data = d;
    a->distrib = d;
    return 0;
}

void api__distrib_start(struct api__distrib *d)
{
    if (!d->closing && !uv_is_active((uv_handle_t *)&d->timer)) {
        uv_timer_start(&d->timer, tick, TICK_MS, TICK_MS);
    }
}

void api__distrib_stop(struct api__distrib *d)
{
    d->closing = true;
    uv_timer_stop(&d->timer);
    for (int i = 0; i < BUSY_MAX; i++) {
        client_closed_later(&d->busy[i]);
    }
    if (d->mail != NULL) {
        mail_sender_close(d->mail, NULL, NULL);
        d->mail = NULL;
    }
}

static void distrib_closed(uv_handle_t *h)
{
    struct api__distrib *d = h->data;
    for (int i = 0; i < BUSY_MAX; i++) {
        free(d->busy[i].body);
    }
    free(d);
}

void api__distrib_free(struct api__distrib *d)
{
    api__distrib_stop(d);
    uv_close((uv_handle_t *)&d->timer, distrib_closed);
}

void api__distrib_stats(const struct api__distrib *d, uint64_t *delivered, uint64_t *failed)
{
    *delivered = d->delivered;
    *failed = d->failed;
}
