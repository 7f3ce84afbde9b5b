/* Writes: each request becomes one engine command, submitted through the cluster; the
 * answer is sent once the command is committed and applied. */
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "config/config.h"

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
    } else {
        http_reply_json(p->x, p->ok_status, json_pack("{s:b}", "ok", 1));
    }
    free(p);
}

void api__submit(struct api__call *call, const struct engine_command *cmd, int ok_status)
{
    struct pending *p = malloc(sizeof(*p));
    int rv = p == NULL ? CD_ENOMEM : 0;
    if (rv == 0) {
        *p = (struct pending){.x = call->x, .ok_status = ok_status, .kind = cmd->kind};
        rv = cluster_submit(call->api->cluster, cmd, submitted, p);
    }
    if (rv != 0) {
        free(p);
        api__fail(call->x, rv, rv == CD_EINVAL ? "the command is malformed" : NULL);
    }
}

/* ---- Contacts -------------------------------------------------------------------------- */

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
        json_t *skill = json_object_get(v, "skill"), *level = json_object_get(v, "level");
        if (!json_is_string(skill) || (level != NULL && !json_is_integer(level)) ||
            (level != NULL && (json_integer_value(level) < 0 ||
                               json_integer_value(level) > ENGINE_PROFICIENCY_MAX))) {
            http_reply_error(call->x, 400, "INVAL",
                             "skills[%zu]: expected {\"skill\": name, \"level\": 0..%d}", i,
                             ENGINE_PROFICIENCY_MAX);
            return false;
        }
        out[i].skill = json_string_value(skill);
        out[i].level = level != NULL ? (uint8_t)json_integer_value(level) : 1;
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
        if (!json_is_string(v)) {
            http_reply_error(call->x, 400, "INVAL", "attributes.%s: expected a string", k);
            return false;
        }
        out[*n].key = k;
        out[*n].value = json_string_value(v);
        (*n)++;
    }
    return true;
}

void api__contact_create(struct api__call *call)
{
    struct engine_skill_ref skills[ENGINE_REQ_SKILLS];
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_CREATE};
    struct engine_contact_create *cr = &cmd.u.create;
    static const char *const keys[] = {"key",    "channel",    "queue", "priority",
                                       "skills", "attributes", NULL};
    json_t *body = api__body_with(call, keys), *prio;
    bool bad = false;
    if (body == NULL) {
        return;
    }
    const char *channel = api__opt_str(call, body, "channel", &bad);
    cr->key = api__opt_str(call, body, "key", &bad);
    cr->queue = api__opt_str(call, body, "queue", &bad);
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
        api__read_attrs(call, json_object_get(body, "attributes"), attrs, &cr->n_attrs)) {
        api__submit(call, &cmd, 201);
    }
out:
    json_decref(body);
}

bool api__parse_id(struct api__call *call, const char *text, uint64_t *id)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text == 0 || *end != 0 || v == 0) {
        http_reply_error(call->x, 400, "INVAL", "'%s' is not a contact or offer id", text);
        return false;
    }
    *id = v;
    return true;
}

/* POST /v1/contacts/{id}/abandon|end|callback|wrapup-done */
void api__contact_action(struct api__call *call, int kind)
{
    struct engine_command cmd = {.kind = (uint8_t)kind};
    if (api__parse_id(call, call->args[0], &cmd.u.contact.id)) {
        api__submit(call, &cmd, 200);
    }
}

/* POST /v1/offers/{id}/accept|reject {"agent": name} */
void api__offer_action(struct api__call *call, int kind)
{
    struct engine_command cmd = {.kind = (uint8_t)kind};
    bool bad = false;
    json_t *body;
    if (!api__parse_id(call, call->args[0], &cmd.u.offer.id) ||
        (body = api__body(call)) == NULL) {
        return;
    }
    cmd.u.offer.agent = api__opt_str(call, body, "agent", &bad);
    if (!bad && cmd.u.offer.agent == NULL) {
        http_reply_error(call->x, 400, "INVAL", "agent: required");
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
    api__submit(call, &cmd, 200);
}

/* POST /v1/agents/{name}/login|logout|state {"presence": "available"|"away", "reason"} */
void api__agent_action(struct api__call *call, int kind)
{
    struct engine_command cmd = {.kind = (uint8_t)kind};
    bool bad = false;
    json_t *body = api__body(call);
    if (body == NULL) {
        return;
    }
    cmd.u.agent.name = call->args[0];
    const char *presence = api__opt_str(call, body, "presence", &bad);
    cmd.u.agent.reason = api__opt_str(call, body, "reason", &bad);
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
