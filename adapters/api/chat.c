/* Chat and wrap-up in the API: an agent's chat messages, a contact's transcript (live from
 * the engine, finished from its history row), wrap-up with a disposition and notes, one
 * history row with what the contact was about, the model's chat part, and the pre-chat
 * forms the customer's page reads without a token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "storage/storage.h"

#define MESSAGES_DEFAULT 200
#define MESSAGES_MAX ENGINE_TRANSCRIPT_MAX

/* UTF-8 text whose only control characters are line breaks and tabs. */
static bool lines_valid(const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        return false;
    }
    for (size_t i = 0; i <= len; i++) {
        copy[i] = s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i];
    }
    bool ok = api__text_valid(copy);
    free(copy);
    return ok;
}

/* ---- POST /v1/contacts/{id}/messages {"id", "text"} ------------------------------------ */

void api__message_post(struct api__call *call)
{
    static const char *const keys[] = {"id", "text", NULL};
    struct engine_command cmd = {.kind = ENGINE_CMD_CHAT_MESSAGE};
    bool bad = false;
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    const char *id = api__opt_str(call, body, "id", &bad);
    const char *text = api__opt_str(call, body, "text", &bad);
    size_t len = text != NULL ? strlen(text) : 0;
    if (bad) {
        /* answered */
    } else if (id == NULL || !engine_visible_valid(id, ENGINE_MSG_ID_MAX)) {
        http_reply_error(call->x, 400, "INVAL",
                         "id: expected the message's id, 1-%d visible ASCII characters the "
                         "sender chose (a retry sends the same)",
                         ENGINE_MSG_ID_MAX - 1);
    } else if (text == NULL || len == 0 || len >= ENGINE_MESSAGE_MAX) {
        http_reply_error(call->x, 400, "INVAL", "text: expected 1-%d bytes",
                         ENGINE_MESSAGE_MAX - 1);
    } else if (!lines_valid(text, len)) {
        http_reply_error(call->x, 400, "INVAL",
                         "text: expected UTF-8 text without control characters other than "
                         "line breaks and tabs");
    } else {
        cmd.u.message.id = call->ids[0];
        cmd.u.message.from = ENGINE_SIDE_AGENT;
        cmd.u.message.agent = call->who.agent; /* the route is for agent tokens only */
        cmd.u.message.msg_id = id;
        cmd.u.message.text = text;
        api__submit(call, &cmd, 201);
    }
    json_decref(body);
}

/* ---- POST /v1/contacts/{id}/wrapup-done {"disposition", "notes"} ------------------------ */

void api__wrapup_done(struct api__call *call)
{
    static const char *const keys[] = {"disposition", "notes", NULL};
    struct engine_command cmd = {.kind = ENGINE_CMD_WRAPUP_DONE};
    bool bad = false;
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    cmd.u.wrapup.id = call->ids[0];
    cmd.u.wrapup.disposition = api__opt_name(call, body, "disposition", ENGINE_VALUE_MAX, &bad);
    cmd.u.wrapup.notes = api__opt_str(call, body, "notes", &bad);
    size_t len = cmd.u.wrapup.notes != NULL ? strlen(cmd.u.wrapup.notes) : 0;
    if (bad) {
        /* answered */
    } else if (len >= ENGINE_NOTES_MAX) {
        http_reply_error(call->x, 400, "INVAL", "notes: at most %d bytes",
                         ENGINE_NOTES_MAX - 1);
    } else if (len > 0 && !lines_valid(cmd.u.wrapup.notes, len)) {
        http_reply_error(call->x, 400, "INVAL",
                         "notes: expected UTF-8 text without control characters other than "
                         "line breaks and tabs");
    } else {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

/* ---- GET /v1/contacts/{id}/messages?after=SEQ&limit=N ---------------------------------- */

struct transcript_reading
{
    struct api *api;
    struct http_exchange *x;
    uint64_t id;
    uint64_t after, limit;
    bool personal;
    json_t *items;
};

static int message_json(void *data, const struct engine_message *m)
{
    struct transcript_reading *r = data;
    json_array_append_new(
        r->items, json_pack("{s:i,s:s,s:s,s:s,s:I,s:s}", "seq", (int)m->seq, "from",
                            engine_side_name(m->side), "agent", m->agent, "id", m->msg_id, "at",
                            (json_int_t)m->at, "text", r->personal ? m->text : API__MASKED));
    return 0;
}

static void transcript_answer(void *data, int status)
{
    struct transcript_reading *r = data;
    const struct engine *e = cluster_engine(r->api->cluster);
    struct engine_transcript t;
    struct cd_buf buf;
    bool live = false;
    int rv = status;
    cd_buf_init(&buf);
    if (rv == 0) {
        live = engine_transcript_get(e, r->id, &t) == 0;
        rv = live ? 0 : storage_get_transcript(cluster_storage(r->api->cluster), r->id, &buf);
    }
    if (rv == 0 && !live) {
        rv = engine_transcript_parse(buf.data, buf.len, &t);
    }
    r->items = json_array();
    if (rv == 0) {
        rv =
            engine_transcript_read(&t, (uint32_t)r->after, (uint32_t)r->limit, message_json, r);
    }
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
    } else if (rv == CD_ENOTFOUND) {
        http_reply_error(r->x, 404, "NOTFOUND", "contact %llu not found",
                         (unsigned long long)r->id);
    } else if (rv != 0) {
        api__fail(r->x, rv, NULL);
    } else {
        http_reply_json(r->x, 200,
                        json_pack("{s:I,s:b,s:i,s:O}", "contact", (json_int_t)r->id, "live",
                                  live, "messages", (int)t.n, "items", r->items));
    }
    json_decref(r->items);
    cd_buf_close(&buf);
    free(r);
}

void api__messages_get(struct api__call *call)
{
    struct transcript_reading *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    *r = (struct transcript_reading){.api = call->api,
                                     .x = call->x,
                                     .id = call->ids[0],
                                     .limit = MESSAGES_DEFAULT,
                                     .personal = api__may_see_personal(call)};
    if (!api__query_u64(call, "after", 0, ENGINE_TRANSCRIPT_MAX, &r->after) ||
        !api__query_u64(call, "limit", 1, MESSAGES_MAX, &r->limit)) {
        free(r);
        return;
    }
    api__read_fenced(call, transcript_answer, r);
}

/* ---- GET /v1/history/{id} ------------------------------------------------------------- */

struct history_reading
{
    struct api *api;
    struct http_exchange *x;
    uint64_t id;
    bool personal;
};

static void history_answer(void *data, int status)
{
    struct history_reading *r = data;
    struct storage_history *h = malloc(sizeof(*h));
    struct transcript_reading tr = {.personal = r->personal};
    struct engine_transcript t;
    struct cd_buf buf, path;
    cd_buf_init(&buf);
    cd_buf_init(&path);
    int rv = h == NULL ? CD_ENOMEM : status;
    if (rv == 0) {
        rv = api__history_with_path(r->api, r->id, h, &path);
    }
    if (rv == 0) {
        rv = storage_get_transcript(cluster_storage(r->api->cluster), r->id, &buf);
    }
    if (rv == 0) {
        rv = engine_transcript_parse(buf.data, buf.len, &t);
    }
    if (rv == 0) {
        tr.items = json_array();
        engine_transcript_read(&t, 0, 0, message_json, &tr);
    }
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
    } else if (rv == CD_ENOTFOUND) {
        http_reply_error(r->x, 404, "NOTFOUND",
                         "contact %llu has no history here (not finished, or never was; a "
                         "node still copying history it missed answers the same)",
                         (unsigned long long)r->id);
    } else if (rv != 0) {
        api__fail(r->x, rv, NULL);
    } else {
        json_t *j = api__history_json(h);
        if (!r->personal) {
            api__mask_history(r->api, j);
        }
        json_object_set_new(j, "messages", tr.items);
        http_reply_json(r->x, 200, j);
    }
    cd_buf_close(&buf);
    cd_buf_close(&path);
    free(h);
    free(r);
}

void api__history_get(struct api__call *call)
{
    struct history_reading *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    *r =
        (struct history_reading){call->api, call->x, call->ids[0], api__may_see_personal(call)};
    api__read_fenced(call, history_answer, r);
}

/* ---- The model's chat part ------------------------------------------------------------ */

static json_t *names_json(const char (*list)[ENGINE_VALUE_MAX], uint32_t n)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < n; i++) {
        json_array_append_new(arr, json_string(list[i]));
    }
    return arr;
}

static json_t *field_json(const struct engine_chat_field *f)
{
    json_t *j =
        json_pack("{s:s,s:s,s:s,s:b,s:i}", "key", f->key, "label", f->label, "type",
                  engine_field_type_name(f->type), "required", f->required, "max", (int)f->max);
    if (f->type == ENGINE_FIELD_SELECT) {
        json_object_set_new(j, "options", names_json(f->options, f->n_options));
    }
    return j;
}

static json_t *entry_json(const struct engine_model *m, const struct engine_chat_entry *ce)
{
    json_t *fields = json_array();
    for (uint32_t i = 0; i < ce->n_fields; i++) {
        json_array_append_new(fields, field_json(&ce->fields[i]));
    }
    return json_pack("{s:s,s:s,s:o}", "name", ce->name, "queue",
                     ce->queue >= 0 ? m->queues[ce->queue].name : "", "fields", fields);
}

static json_t *entries_json(const struct engine_model *m)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; m != NULL && i < m->n_chat_entries; i++) {
        json_array_append_new(arr, entry_json(m, &m->chat_entries[i]));
    }
    return arr;
}

void api__model_chat_json(const struct engine_model *m, json_t *j)
{
    if (m == NULL) {
        return;
    }
    json_t *required = json_array();
    for (uint32_t i = 0; i < m->n_queues; i++) {
        if (m->queues[i].disposition_required) {
            json_array_append_new(required, json_string(m->queues[i].name));
        }
    }
    json_object_set_new(j, "away_reasons", names_json(m->away, m->n_away));
    json_object_set_new(j, "dispositions", names_json(m->dispositions, m->n_dispositions));
    json_object_set_new(j, "disposition_required", required);
    json_object_set_new(
        j, "chat",
        json_pack("{s:I,s:o}", "reconnect_s", (json_int_t)(engine_model_reconnect_ms(m) / 1000),
                  "entries", entries_json(m)));
}

/* ---- GET /v1/chat/entries[/{entry}]: public ------------------------------------------- */

/* The forms only: names, labels, types and choices, which the model's author wrote for
 * customers to read. Nothing about contacts, agents or queues' state. This node's applied
 * model, without a barrier: a page load must not wait for a leader. */
void api__chat_entries(struct api__call *call, int one)
{
    const struct engine_model *m = engine_model(cluster_engine(call->api->cluster));
    if (!one) {
        http_reply_json(call->x, 200, json_pack("{s:o}", "entries", entries_json(m)));
        return;
    }
    int i = m != NULL ? engine_model_chat_entry(m, call->args[0]) : -1;
    if (i < 0) {
        http_reply_error(call->x, 404, "NOTFOUND", "no chat entry '%s'", call->args[0]);
        return;
    }
    http_reply_json(call->x, 200, entry_json(m, &m->chat_entries[i]));
}
