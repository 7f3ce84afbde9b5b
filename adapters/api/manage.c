/* Changes supervisors make by hand between model versions: an agent's definition (site,
 * skills and proficiencies, capacity per channel, queues), an agent's skills alone,
 * removing an agent, moving a contact to another queue, agent or external target, and a
 * contact's attributes. Each is one engine command through the cluster. */
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

/* {"skill": level, ...} into out; answers 400 when bad. */
static bool read_skill_map(struct api__call *call,
                           json_t *obj,
                           struct engine_skill_ref *out,
                           size_t max,
                           uint8_t *n)
{
    const char *k;
    json_t *v;
    *n = 0;
    if (obj == NULL) {
        return true;
    }
    if (!json_is_object(obj) || json_object_size(obj) > max) {
        http_reply_error(call->x, 400, "INVAL",
                         "skills: expected an object of at most %zu "
                         "skill names with their levels",
                         max);
        return false;
    }
    json_object_foreach(obj, k, v)
    {
        if (!api__name_ok(call, "skills: name", k, ENGINE_NAME_MAX)) {
            return false;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > ENGINE_PROFICIENCY_MAX) {
            http_reply_error(call->x, 400, "INVAL", "skills.%s: expected a level 1..%d", k,
                             ENGINE_PROFICIENCY_MAX);
            return false;
        }
        out[*n].skill = k;
        out[(*n)++].level = (uint8_t)json_integer_value(v);
    }
    return true;
}

/* {"voice": 1, "chat": 3, ...} into capacity[]; answers 400 when bad. */
static bool read_capacity(struct api__call *call, json_t *obj, uint8_t *capacity)
{
    const char *k;
    json_t *v;
    if (obj == NULL) {
        return true;
    }
    if (!json_is_object(obj)) {
        http_reply_error(call->x, 400, "INVAL", "capacity: expected an object of channels");
        return false;
    }
    json_object_foreach(obj, k, v)
    {
        int ch = engine_channel_parse(k);
        if (ch < 0) {
            http_reply_error(call->x, 400, "INVAL",
                             "capacity.%s: expected a channel: voice, email, sms, chat", k);
            return false;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255) {
            http_reply_error(call->x, 400, "INVAL", "capacity.%s: expected 0..255", k);
            return false;
        }
        capacity[ch] = (uint8_t)json_integer_value(v);
    }
    return true;
}

static bool read_queues(struct api__call *call, json_t *arr, const char **out, uint8_t *n)
{
    size_t i;
    json_t *v;
    *n = 0;
    if (arr == NULL) {
        return true;
    }
    if (!json_is_array(arr) || json_array_size(arr) > ENGINE_AGENT_QUEUES) {
        http_reply_error(call->x, 400, "INVAL", "queues: expected an array of at most %d names",
                         ENGINE_AGENT_QUEUES);
        return false;
    }
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v)) {
            http_reply_error(call->x, 400, "INVAL", "queues[%zu]: expected a queue name", i);
            return false;
        }
        if (!api__name_ok(call, "queues[]", json_string_value(v), ENGINE_NAME_MAX)) {
            return false;
        }
        out[(*n)++] = json_string_value(v);
    }
    return true;
}

/* PUT /v1/agents/{name} {"site", "skills": {...}, "capacity": {...}, "queues": [...]} */
void api__agent_put(struct api__call *call)
{
    static const char *const keys[] = {"site", "skills", "capacity", "queues", NULL};
    struct engine_skill_ref skills[ENGINE_AGENT_SKILLS];
    const char *queues[ENGINE_AGENT_QUEUES];
    struct engine_command cmd = {.kind = ENGINE_CMD_AGENT_UPSERT};
    struct engine_agent_spec *a = &cmd.u.upsert;
    bool bad = false;
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    a->name = call->args[0];
    a->site = api__opt_text(call, body, "site", &bad);
    a->skills = skills;
    a->queues = queues;
    if (!bad &&
        read_skill_map(call, json_object_get(body, "skills"), skills, ENGINE_AGENT_SKILLS,
                       &a->n_skills) &&
        read_capacity(call, json_object_get(body, "capacity"), a->capacity) &&
        read_queues(call, json_object_get(body, "queues"), queues, &a->n_queues)) {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

/* PUT /v1/agents/{name}/skills {"skills": {...}}: replaces the agent's skills. */
void api__agent_skills(struct api__call *call)
{
    static const char *const keys[] = {"skills", NULL};
    struct engine_skill_ref skills[ENGINE_AGENT_SKILLS];
    struct engine_command cmd = {.kind = ENGINE_CMD_AGENT_SKILLS};
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    cmd.u.skills.name = call->args[0];
    cmd.u.skills.skills = skills;
    if (json_object_get(body, "skills") == NULL) {
        http_reply_error(call->x, 400, "INVAL", "skills: required");
    } else if (read_skill_map(call, json_object_get(body, "skills"), skills,
                              ENGINE_AGENT_SKILLS, &cmd.u.skills.n_skills)) {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

/* DELETE /v1/agents/{name}: only an offline agent with nothing in hand. */
void api__agent_delete(struct api__call *call)
{
    static const char *const none[] = {NULL};
    struct engine_command cmd = {.kind = ENGINE_CMD_AGENT_DELETE};
    json_t *body = api__body_with(call, none);
    cmd.u.agent.name = call->args[0];
    if (body != NULL) {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

/* POST /v1/contacts/{id}/transfer {"queue"} | {"agent"} | {"target"} */
void api__contact_transfer(struct api__call *call)
{
    static const char *const keys[] = {"queue", "agent", "target", NULL};
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_TRANSFER};
    bool bad = false;
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    cmd.u.transfer.id = call->ids[0];
    cmd.u.transfer.queue = api__opt_name(call, body, "queue", ENGINE_NAME_MAX, &bad);
    cmd.u.transfer.agent = api__opt_name(call, body, "agent", ENGINE_NAME_MAX, &bad);
    cmd.u.transfer.target = api__opt_text(call, body, "target", &bad);
    int given = (cmd.u.transfer.queue != NULL) + (cmd.u.transfer.agent != NULL) +
                (cmd.u.transfer.target != NULL);
    if (!bad && given != 1) {
        http_reply_error(call->x, 400, "INVAL", "expected exactly one of queue, agent, target");
    } else if (!bad) {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

/* PUT /v1/contacts/{id}/attributes {"attributes": {"key": "value", ...}}; "" removes. */
void api__contact_attributes(struct api__call *call)
{
    static const char *const keys[] = {"attributes", NULL};
    struct engine_attr attrs[ENGINE_ATTRS_MAX];
    struct engine_command cmd = {.kind = ENGINE_CMD_CONTACT_SET_ATTRS};
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    cmd.u.set_attrs.id = call->ids[0];
    cmd.u.set_attrs.attrs = attrs;
    if (json_object_get(body, "attributes") == NULL) {
        http_reply_error(call->x, 400, "INVAL", "attributes: required");
    } else if (api__read_attrs(call, json_object_get(body, "attributes"), attrs,
                               &cmd.u.set_attrs.n_attrs)) {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}
