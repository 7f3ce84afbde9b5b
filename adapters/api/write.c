/* Writes: each request becomes one engine command, submitted through the cluster; the
 * answer is sent once the command is committed and applied. */
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "config/config.h"

/* Idempotency keys (with NUL), as long as the engine keeps them. */
#define KEY_MAX (ENGINE_VALUE_MAX * 2)

struct pending
{
    struct http_exchange *x;
    int ok_status;
    int kind;
};

static void submitted(void *data, const struct engine_result *res)
{
    struct pending *p = data;
    if (res->code != 0) {
        api__fail_result(p->x, res);
    } else if (p->kind == ENGINE_CMD_CONTACT_CREATE) {
        http_reply_json(
            p->x, res->existing ? 200 : p->ok_status,
            json_pack("{s:I,s:b}", "id", (json_int_t)res->contact, "existing", res->existing));
    } else if (p->kind == ENGINE_CMD_PRIVACY_ERASE) {
        /* The history rows holding the value are rewritten at the same index, on every node
         * (storage_erase_history): the engine counts only the live contacts. */
        http_reply_json(p->x, p->ok_status,
                        json_pack("{s:I}", "contacts", (json_int_t)res->contact));
    } else if (p->kind == ENGINE_CMD_CHAT_MESSAGE) {
        /* A repeated message id answers with the message it named, once more. */
        http_reply_json(
            p->x, res->existing ? 200 : p->ok_status,
            json_pack("{s:I,s:b}", "seq", (json_int_t)res->contact, "existing", res->existing));
    } else if (p->kind == ENGINE_CMD_REPORT_PUT) {
        http_reply_json(p->x, p->ok_status,
                        json_pack("{s:I,s:b}", "version", (json_int_t)res->contact, "existing",
                                  res->existing));
    } else if (p->kind == ENGINE_CMD_RUNBOOK_RUN) {
        http_reply_json(p->x, p->ok_status,
                        json_pack("{s:I}", "run", (json_int_t)res->contact));
    } else if (p->kind == ENGINE_CMD_MODEL_SAVE) {
        http_reply_json(p->x, p->ok_status, json_pack("{s:b}", "existing", res->existing));
    } else if (p->kind == ENGINE_CMD_DRILL_RECORD) {
        http_reply_json(p->x, p->ok_status,
                        json_pack("{s:I}", "drill", (json_int_t)res->contact));
    } else if (p->kind == ENGINE_CMD_WEBHOOK_ADD) {
        http_reply_json(p->x, p->ok_status, json_pack("{s:I}", "id", (json_int_t)res->contact));
    } else {
        http_reply_json(p->x, p->ok_status, json_pack("{s:b}", "ok", 1));
    }
    free(p);
}

void api__submit_as(struct api *a,
                    struct http_exchange *x,
                    const char *actor,
                    const struct engine_command *cmd,
                    int ok_status)
{
    struct pending *p = malloc(sizeof(*p));
    struct engine_command as = *cmd;
    int rv = p == NULL ? CD_ENOMEM : 0;
    as.actor = actor;
    if (rv == 0) {
        *p = (struct pending){.x = x, .ok_status = ok_status, .kind = cmd->kind};
        rv = cluster_submit(a->cluster, &as, submitted, p);
    }
    if (rv != 0) {
        free(p);
        api__fail(x, rv, rv == CD_EINVAL ? "the command is malformed" : NULL);
    }
}

void api__submit(struct api__call *call, const struct engine_command *cmd, int ok_status)
{
    /* The audit's actor is the principal who authenticated, never a name from the request. */
    api__submit_as(call->api, call->x, call->who.actor, cmd, ok_status);
}

/* ---- Contacts -------------------------------------------------------------------------- */

/* {"skill": name, "level": 0..max} and nothing else. */
static bool skill_ref_ok(json_t *v)
{
    json_t *skill = json_object_get(v, "skill"), *level = json_object_get(v, "level");
    size_t members = (skill != NULL) + (level != NULL);
    return json_is_object(v) && json_object_size(v) == members && json_is_string(skill) &&
           (level == NULL || (json_is_integer(level) && json_integer_value(level) >= 0 &&
                              json_integer_value(level) <= ENGINE_PROFICIENCY_MAX));
}

static bool read_skills(struct api__call *call,
                        json_t *arr,
                        struct engine_skill_ref *out,
                        uint8_t *n)
{
    size_t i;
    json_t *v;
    if (arr == NULL) {
        return true;
    }
    if (!json_is_array(arr) || json_array_size(arr) > ENGINE_REQ_SKILLS) {
        http_reply_error(call->x, 400, "INVAL", "skills: expected an array of at most %d",
                         ENGINE_REQ_SKILLS);
        return false;
    }
    json_array_foreach(arr, i, v)
    {
        if (!skill_ref_ok(v)) {
            http_reply_error(call->x, 400, "INVAL",
                             "skills[%zu]: expected {\"skill\": name, \"level\": 0..%d}", i,
                             ENGINE_PROFICIENCY_MAX);
            return false;
        }
        json_t *level = json_object_get(v, "level");
        out[i].skill = json_string_value(json_object_get(v, "skill"));
        out[i].level = level != NULL ? (uint8_t)json_integer_value(level) : 1;
        if (!api__name_ok(call, "skills[].skill", out[i].skill, ENGINE_NAME_MAX)) {
            return false;
        }
    }
    *n = (uint8_t)json_array_size(arr);
    return true;
}

bool api__read_attrs(struct api__call *call, json_t *obj, struct engine_attr *out, uint8_t *n)
{
    const char *k;
    json_t *v;
    if (obj == NULL) {
        return true;
    }
    if (!json_is_object(obj) || json_object_size(obj) > ENGINE_ATTRS_MAX) {
        http_reply_error(call->x, 400, "INVAL", "attributes: expected an object of at most %d",
                         ENGINE_ATTRS_MAX);
        return false;
    }
    *n = 0;
    json_object_foreach(obj, k, v)
    {
        if (!api__name_ok(call, "attributes: key", k, ENGINE_KEY_MAX)) {
            return false;
        }
        if (!json_is_string(v) || !api__text_valid(json_string_value(v))) {
            http_reply_error(call->x, 400, "INVAL",
                             "attributes.%s: expected a string of UTF-8 text without control "
                             "characters",
                             k);
            return false;
        }
        out[*n].key = k;
        out[*n].value = json_string_value(v);
        (*n)++;
    }
    return true;
}

/* {"home": member, "key": session key}: where the customer's live session is. need_home: a
 * move must say where to. Strings are borrowed from obj. */
static bool read_session(struct api__call *call,
                         json_t *obj,
                         bool need_home,
                         const char **home,
                         const char **key)
{
    bool bad = false;
    *home = *key = NULL;
    if (obj == NULL && !need_home) {
        return true;
    }
    if (!json_is_object(obj)) {
        http_reply_error(call->x, 400, "INVAL",
                         "session: expected {\"home\": member id, \"key\": session key}");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcmp(k, "home") != 0 && strcmp(k, "key") != 0) {
            http_reply_error(call->x, 400, "INVAL", "session.%s: unknown member (home, key)",
                             k);
            return false;
        }
    }
    *home = api__opt_name(call, obj, "home", ENGINE_NAME_MAX, &bad);
    *key = api__opt_str(call, obj, "key", &bad);
    if (bad) {
        return false;
    }
    if (*home == NULL && (need_home || *key != NULL)) {
        http_reply_error(call->x, 400, "INVAL",
                         "session.home: the member that holds the "
                         "session is required");
        return false;
    }
    if (*key != NULL && (*key)[0] != 0 && !engine_session_valid(*key)) {
        http_reply_error(call->x, 400, "INVAL",
                         "session.key: expected 1-%d visible ASCII characters",
                         ENGINE_SESSION_MAX - 1);
        return false;
    }
    return true;
}

void api__contact_create(struct api__call *call)
{
    struct engine_skill_ref skills[ENGINE_REQ_SKILLS];
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CREATE};
    struct engine_contact_create *cr = &cmd.u.create;
    static const char *const keys[] = {"key",    "channel",    "queue",   "priority",
                                       "skills", "attributes", "session", NULL};
    json_t *body = api__body_with(call, keys), *prio;
    bool bad = false;
    if (body == NULL) {
        return;
    }
    const char *channel = api__opt_str(call, body, "channel", &bad);
    cr->key = api__opt_name(call, body, "key", KEY_MAX, &bad);
    cr->queue = api__opt_name(call, body, "queue", ENGINE_NAME_MAX, &bad);
    if (bad) {
        goto out;
    }
    if (channel == NULL || engine_channel_parse(channel) < 0) {
        http_reply_error(call->x, 400, "INVAL",
                         "channel: expected one of voice, email, sms, chat");
        goto out;
    }
    cr->channel = (uint8_t)engine_channel_parse(channel);
    prio = json_object_get(body, "priority");
    if (prio != NULL && (!json_is_integer(prio) || json_integer_value(prio) < -1000 ||
                         json_integer_value(prio) > 1000)) {
        http_reply_error(call->x, 400, "INVAL", "priority: expected an integer -1000..1000");
        goto out;
    }
    cr->priority = prio != NULL ? (int16_t)json_integer_value(prio) : 0;
    cr->skills = skills;
    cr->attrs = attrs;
    if (read_skills(call, json_object_get(body, "skills"), skills, &cr->n_skills) &&
        api__read_attrs(call, json_object_get(body, "attributes"), attrs, &cr->n_attrs) &&
        read_session(call, json_object_get(body, "session"), false, &cr->home, &cr->session)) {
        api__submit(call, &cmd, 201);
    }
out:
    json_decref(body);
}

/* Endpoints whose request is all in the path: a body may be empty or {}. */
static bool no_fields(struct api__call *call)
{
    static const char *const none[] = {NULL};
    json_t *body = api__body_with(call, none);
    json_decref(body);
    return body != NULL;
}

/* POST /v1/contacts/{id}/abandon|end|callback|wrapup-done */
void api__contact_action(struct api__call *call, int kind)
{
    struct engine_command cmd = {.kind = (uint8_t)kind};
    cmd.u.contact.id = call->ids[0];
    if (no_fields(call)) {
        api__submit(call, &cmd, 200);
    }
}

/* PUT /v1/contacts/{id}/session {"home": member, "key": session key}: the customer's live
 * session is now held by that member (a chat customer reconnected there); DELETE ends it. */
void api__contact_session(struct api__call *call, int kind)
{
    static const char *const keys[] = {"home", "key", NULL};
    struct engine_command cmd = {.kind = (uint8_t)kind};
    cmd.u.session.id = call->ids[0];
    if (kind == ENGINE_CMD_SESSION_END) {
        if (no_fields(call)) {
            api__submit(call, &cmd, 200);
        }
        return;
    }
    json_t *body = api__body_with(call, keys);
    if (body != NULL &&
        read_session(call, body, true, &cmd.u.session.home, &cmd.u.session.session)) {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

/* POST /v1/offers/{id}/accept|reject {"agent": name} */
void api__offer_action(struct api__call *call, int kind)
{
    static const char *const keys[] = {"agent", NULL};
    struct engine_command cmd = {.kind = (uint8_t)kind};
    bool bad = false;
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    cmd.u.offer.id = call->ids[0];
    cmd.u.offer.agent = api__opt_name(call, body, "agent", ENGINE_NAME_MAX, &bad);
    if (!bad && cmd.u.offer.agent == NULL) {
        http_reply_error(call->x, 400, "INVAL", "agent: required");
    } else if (!bad && call->who.role == ENGINE_ROLE_AGENT &&
               strcmp(cmd.u.offer.agent, call->who.agent) != 0) {
        /* The engine then checks that the offer was made to this agent. */
        http_reply_error(call->x, 403, "FORBIDDEN",
                         "an agent token answers offers as agent '%s' only", call->who.agent);
    } else if (!bad) {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

/* POST /v1/queues/{name}/pause|resume */
void api__queue_action(struct api__call *call, int kind)
{
    struct engine_command cmd = {.kind = (uint8_t)kind};
    cmd.u.queue.name = call->args[0];
    if (no_fields(call)) {
        api__submit(call, &cmd, 200);
    }
}

/* POST /v1/agents/{name}/login|state {"presence": "available"|"away", "reason"}; logout
 * takes no fields. */
void api__agent_action(struct api__call *call, int kind)
{
    static const char *const keys[] = {"presence", "reason", NULL};
    struct engine_command cmd = {.kind = (uint8_t)kind};
    bool bad = false;
    json_t *body = api__body_with(call, kind == ENGINE_CMD_AGENT_LOGOUT ? keys + 2 : keys);
    if (body == NULL) {
        return;
    }
    cmd.u.agent.name = call->args[0];
    const char *presence = api__opt_str(call, body, "presence", &bad);
    cmd.u.agent.reason = api__opt_name(call, body, "reason", ENGINE_VALUE_MAX, &bad);
    if (bad) {
        goto out;
    }
    if (presence == NULL || strcmp(presence, "available") == 0) {
        cmd.u.agent.presence = ENGINE_PRESENCE_AVAILABLE;
    } else if (strcmp(presence, "away") == 0) {
        cmd.u.agent.presence = ENGINE_PRESENCE_AWAY;
    } else {
        http_reply_error(call->x, 400, "INVAL", "presence: expected available or away");
        goto out;
    }
    api__submit(call, &cmd, 200);
out:
    json_decref(body);
}
