/* A contact's path (engine.h, "A contact's path") as JSON, and the explanation of a
 * finished contact told from it: what `contact explain` says once the contact has left the
 * engine's state. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "storage/storage.h"

json_t *api__path_json(const void *data, size_t len)
{
    struct engine_path p = {data, len};
    struct engine_path_step s;
    size_t off = 0;
    json_t *arr = json_array();
    while (engine_path_next(&p, &off, &s) == 1) {
        json_t *j = json_pack("{s:s,s:I}", "step", engine_path_kind_name(s.kind), "at",
                              (json_int_t)s.at);
        if (s.queue[0]) {
            json_object_set_new(j, "queue", json_string(s.queue));
        }
        if (s.agent[0]) {
            json_object_set_new(j, "agent", json_string(s.agent));
        }
        if (s.offer != 0) {
            json_object_set_new(j, "offer", json_integer((json_int_t)s.offer));
        }
        switch (s.kind) {
            case ENGINE_PATH_RULE:
                json_object_set_new(j, "rule", json_string(s.text));
                break;
            case ENGINE_PATH_QUEUED:
                json_object_set_new(j, "via", json_string(engine_via_name(s.n)));
                json_object_set_new(j, "ewt_ms", json_integer((json_int_t)s.ewt_ms));
                break;
            case ENGINE_PATH_REFUSED:
                json_object_set_new(j, "reason", json_string(s.text));
                break;
            case ENGINE_PATH_STEP:
                json_object_set_new(j, "escalation_step", json_integer(s.n));
                break;
            case ENGINE_PATH_OFFER_END:
                json_object_set_new(j, "outcome", json_string(engine_offer_end_name(s.n)));
                break;
            case ENGINE_PATH_TRANSFER:
                json_object_set_new(j, "to", json_string(engine_transfer_to_name(s.n)));
                json_object_set_new(j, "target", json_string(s.text));
                break;
            default:
                break;
        }
        json_array_append_new(arr, j);
    }
    return arr;
}

const char *api__path_rule(const void *data, size_t len)
{
    struct engine_path p = {data, len};
    struct engine_path_step s;
    size_t off = 0;
    while (engine_path_next(&p, &off, &s) == 1) {
        if (s.kind == ENGINE_PATH_RULE) {
            return s.text;
        }
    }
    return "";
}

int api__history_with_path(struct api *a,
                           uint64_t id,
                           struct storage_history *h,
                           struct cd_buf *path)
{
    struct storage *s = cluster_storage(a->cluster);
    int rv = storage_get_history(s, id, h);
    rv = rv ? rv : storage_get_path(s, id, path);
    if (rv == 0) {
        h->path = path->len ? path->data : NULL;
        h->path_len = path->len;
    }
    return rv;
}

struct text
{
    char *buf;
    size_t len, used;
};

__attribute__((format(printf, 2, 3))) static void say(struct text *t, const char *fmt, ...)
{
    va_list ap;
    if (t->used >= t->len) {
        return;
    }
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
    va_end(ap);
    t->used = n < 0 ? t->len : t->used + (size_t)n;
}

/* Seconds, to a tenth, from a to b. */
static double secs(int64_t a, int64_t b)
{
    return (double)(b - a) / 1000.0;
}

void api__path_explain(const struct storage_history *h,
                       const void *data,
                       size_t len,
                       char *buf,
                       size_t buflen)
{
    struct engine_path p = {data, len};
    struct engine_path_step s;
    struct text t = {buf, buflen, 0};
    size_t off = 0;
    int64_t entered = h->arrived;
    buf[0] = 0;
    say(&t, "finished %s; arrived by %s", engine_contact_state_name(h->outcome),
        engine_channel_name(h->channel));
    while (engine_path_next(&p, &off, &s) == 1) {
        switch (s.kind) {
            case ENGINE_PATH_RULE:
                say(&t, "; rule '%s' matched", s.text);
                break;
            case ENGINE_PATH_QUEUED:
                entered = s.at;
                say(&t, "; at +%.1f s entered queue '%s' (%s), estimated wait %.1f s",
                    secs(h->arrived, s.at), s.queue, engine_via_name(s.n),
                    (double)s.ewt_ms / 1000.0);
                break;
            case ENGINE_PATH_REFUSED:
                say(&t, "; at +%.1f s queue '%s' refused it (%s)", secs(h->arrived, s.at),
                    s.queue, s.text);
                break;
            case ENGINE_PATH_STEP:
                say(&t, "; at +%.1f s escalation step %u", secs(h->arrived, s.at), s.n);
                break;
            case ENGINE_PATH_OFFER:
                say(&t, "; at +%.1f s offered to '%s' (offer %llu)", secs(h->arrived, s.at),
                    s.agent, (unsigned long long)s.offer);
                break;
            case ENGINE_PATH_OFFER_END:
                if (s.n == ENGINE_OFFER_ACCEPTED) {
                    say(&t, "; at +%.1f s '%s' answered after a wait of %.1f s in '%s'",
                        secs(h->arrived, s.at), s.agent, secs(entered, s.at), s.queue);
                } else {
                    say(&t, "; at +%.1f s the offer to '%s' ended: %s", secs(h->arrived, s.at),
                        s.agent, engine_offer_end_name(s.n));
                }
                break;
            case ENGINE_PATH_TALK_END:
                say(&t, "; at +%.1f s the talk ended", secs(h->arrived, s.at));
                break;
            case ENGINE_PATH_TRANSFER:
                say(&t, "; at +%.1f s transferred to %s '%s'", secs(h->arrived, s.at),
                    engine_transfer_to_name(s.n), s.text);
                entered = s.at;
                break;
            case ENGINE_PATH_CALLBACK:
                say(&t, "; at +%.1f s the customer took a callback", secs(h->arrived, s.at));
                break;
            case ENGINE_PATH_TRUNCATED:
                say(&t, "; (later steps not kept: the path reached its limit)");
                break;
            default:
                break;
        }
    }
    say(&t, "; at +%.1f s %s", secs(h->arrived, h->completed),
        h->disposition[0] ? "wrapped up" : "done");
    if (h->disposition[0]) {
        say(&t, " with disposition '%s'", h->disposition);
    }
    if (h->reason[0]) {
        say(&t, " (%s)", h->reason);
    }
    if (len == 0) {
        say(&t, " (finished before paths were kept: no steps)");
    }
}
