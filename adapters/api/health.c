/* Health and faults (engine/health.h, docs/continuity.md):
 *
 *   GET  /v1/health                 the cluster's signals (replicated), this node's own
 *                                   measurements, the open faults; from this node's applied
 *                                   state, without a read barrier: it answers while quorum is
 *                                   lost, which is when it matters most
 *   GET  /v1/faults?state=open|closed|all    (default all), newest first
 *   GET  /v1/faults/{fault}         one, with its log
 *   POST /v1/faults/{fault}/ack     {"note": "..."} (optional)
 *   POST /v1/faults/{fault}/note    {"note": "..."}
 *   POST /v1/faults/{fault}/close   {"note": "..."} (optional)
 *   POST /v1/health/signals         {"signals": [{"name", "state": ok|warn|bad|gone,
 *                                   "value"}]}: signals an outside monitor measures (an SBC's
 *                                   trunk status, a carrier's status page), replicated and
 *                                   graded by the fault policy and the runbooks like the
 *                                   cluster's own; names under cluster., member., node. and
 *                                   queue. are the cluster's and refused
 *
 * Times are ms since the epoch, as elsewhere in the API. */
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

#define LOCAL_MAX 8

static json_t *signal_json(const char *name, int state, int64_t value, int64_t since)
{
    return json_pack("{s:s,s:s,s:I,s:I}", "name", name, "state",
                     engine_signal_state_name(state), "value", (json_int_t)value, "since",
                     (json_int_t)since);
}

static json_t *fault_json(const struct engine *e, const struct engine_fault_info *f, bool log)
{
    json_t *j = json_pack(
        "{s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s}", "id", (json_int_t)f->id, "state",
        f->closed != 0 ? "closed" : "open", "severity", engine_severity_name(f->severity),
        "kind", f->kind, "component", f->component, "signal", f->signal, "opened",
        (json_int_t)f->opened, "closed", (json_int_t)f->closed, "acked", (json_int_t)f->acked,
        "acked_by", f->acked_by, "closed_by", f->closed_by);
    if (j != NULL && log) {
        json_t *lines = json_array();
        struct engine_fault_line l;
        for (uint32_t i = 0; engine_fault_log(e, f->id, i, &l) == 0; i++) {
            json_array_append_new(
                lines, json_pack("{s:I,s:s,s:s,s:s}", "at", (json_int_t)l.at, "actor", l.actor,
                                 "what", l.what, "text", l.text));
        }
        json_object_set_new(j, "log", lines);
        json_t *notes = json_array();
        struct engine_fault_notice n;
        for (uint32_t i = 0; engine_fault_notice(e, f->id, i, &n) == 0; i++) {
            json_array_append_new(
                notes, json_pack("{s:s,s:i,s:s,s:s,s:s,s:i,s:I,s:I,s:s}", "path", n.path,
                                 "level", n.level + 1, "kind",
                                 n.kind == ENGINE_NOTIFY_EMAIL ? "email" : "webhook", "address",
                                 n.address, "state", engine_notice_state_name(n.state),
                                 "attempts", n.attempts, "opened", (json_int_t)n.opened, "at",
                                 (json_int_t)n.at, "text", n.text));
        }
        json_object_set_new(j, "notifications", notes);
    }
    return j;
}

static const char *overall(const struct engine *e, bool leaderless)
{
    if (leaderless || engine_fault_open_count(e, ENGINE_SEVERITY_MAJOR) > 0) {
        return "critical";
    }
    return engine_fault_open_count(e, 0) > 0 ? "degraded" : "ok";
}

void api__health(struct api__call *call)
{
    struct api *a = call->api;
    const struct engine *e = cluster_engine(a->cluster);
    struct cluster_status st;
    cluster_status(a->cluster, &st);
    json_t *signals = json_array(), *local = json_array(), *open = json_array();
    struct engine_signal_info s;
    for (size_t i = 0; engine_signal_at(e, i, &s) == 0; i++) {
        json_t *j = signal_json(s.name, s.state, s.value, s.since);
        json_object_set_new(j, "fault", json_integer(s.fault));
        json_array_append_new(signals, j);
    }
    struct api_signal mine[LOCAL_MAX];
    size_t n =
        a->local_health != NULL ? a->local_health(a->local_health_data, mine, LOCAL_MAX) : 0;
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(
            local, signal_json(mine[i].name, mine[i].state, mine[i].value, mine[i].since));
    }
    struct engine_fault_info f;
    for (size_t i = engine_fault_count(e); i-- > 0;) {
        if (engine_fault_at(e, i, &f) == 0 && f.closed == 0) {
            json_array_append_new(open, fault_json(e, &f, false));
        }
    }
    json_t *body = json_pack(
        "{s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:o,s:o,s:o}", "status", overall(e, st.leader[0] == 0),
        "node", st.id, "role", cluster_role_name(st.role), "leader", st.leader, "ready",
        st.ready, "applied_index", (json_int_t)st.applied_index, "now",
        (json_int_t)cluster_wall_ms(), "signals", signals, "local", local, "faults", open);
    http_reply_json(call->x, 200, body);
}

/* The prefixes of the signals the cluster measures itself (node/health.c). */
static bool own_signal(const char *name)
{
    static const char *const own[] = {"cluster.", "member.", "node.", "queue."};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        if (strncmp(name, own[i], strlen(own[i])) == 0) {
            return true;
        }
    }
    return false;
}

void api__health_signals(struct api__call *call)
{
    static const char *const keys[] = {"signals", NULL};
    struct engine_signal_set set[ENGINE_HEALTH_BATCH];
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    json_t *arr = json_object_get(body, "signals"), *v;
    size_t i, n = json_array_size(arr);
    const char *bad = json_is_array(arr) && n > 0 && n <= ENGINE_HEALTH_BATCH
                          ? NULL
                          : "signals: a list of 1-64 signals";
    json_array_foreach(arr, i, v)
    {
        json_t *name = json_object_get(v, "name"), *state = json_object_get(v, "state");
        json_t *value = json_object_get(v, "value");
        size_t members = (name != NULL) + (state != NULL) + (value != NULL);
        int st =
            json_is_string(state) ? engine_signal_state_parse(json_string_value(state)) : -1;
        if (bad != NULL) {
            break;
        }
        if (!json_is_object(v) || json_object_size(v) != members || !json_is_string(name) ||
            st < 0 || (value != NULL && !json_is_integer(value))) {
            bad =
                "signals: each {\"name\", \"state\": ok|warn|bad|gone, \"value\": integer "
                "(optional)}";
        } else if (!engine_name_valid(json_string_value(name), ENGINE_NAME_MAX) ||
                   strchr(json_string_value(name), '.') == NULL) {
            bad =
                "signals: a name is dotted parts of letters, digits, '-' and '_' "
                "(trunk.sbc1.options), at most 63 bytes";
        } else if (own_signal(json_string_value(name))) {
            bad =
                "signals: cluster., member., node. and queue. signals are measured by the "
                "cluster itself";
        } else {
            set[i] = (struct engine_signal_set){
                .name = json_string_value(name),
                .state = (uint8_t)st,
                .value = value != NULL ? json_integer_value(value) : 0};
        }
    }
    if (bad != NULL) {
        http_reply_error(call->x, 400, "INVAL", "%s", bad);
    } else {
        struct engine_command cmd = {.kind = ENGINE_CMD_HEALTH,
                                     .u.health = {.n = (uint8_t)n, .signals = set}};
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}

void api__faults(struct api__call *call)
{
    const struct engine *e = cluster_engine(call->api->cluster);
    char state[16] = "all";
    int len = http_query_get(call->req, "state", state, sizeof(state));
    int want = strcmp(state, "open") == 0 ? 1 : strcmp(state, "closed") == 0 ? 2 : 0;
    if (len == -2 || (want == 0 && strcmp(state, "all") != 0)) {
        http_reply_error(call->x, 400, "INVAL",
                         "state: expected open, closed or all (got '%s')",
                         len == -2 ? "(too long)" : state);
        return;
    }
    json_t *items = json_array();
    struct engine_fault_info f;
    for (size_t i = engine_fault_count(e); i-- > 0;) {
        if (engine_fault_at(e, i, &f) != 0 || (want == 1 && f.closed != 0) ||
            (want == 2 && f.closed == 0)) {
            continue;
        }
        json_array_append_new(items, fault_json(e, &f, false));
    }
    http_reply_json(call->x, 200, json_pack("{s:o}", "items", items));
}

static bool fault_id(struct api__call *call, uint32_t *id)
{
    if (call->ids[0] > UINT32_MAX) {
        http_reply_error(call->x, 404, "NOTFOUND", "fault %llu not found",
                         (unsigned long long)call->ids[0]);
        return false;
    }
    *id = (uint32_t)call->ids[0];
    return true;
}

void api__fault_get(struct api__call *call)
{
    const struct engine *e = cluster_engine(call->api->cluster);
    struct engine_fault_info f;
    uint32_t id;
    if (!fault_id(call, &id)) {
        return;
    }
    if (engine_fault_get(e, id, &f) != 0) {
        http_reply_error(call->x, 404, "NOTFOUND", "fault %u not found", id);
        return;
    }
    http_reply_json(call->x, 200, fault_json(e, &f, true));
}

void api__fault_action(struct api__call *call, int kind)
{
    static const char *const keys[] = {"note", NULL};
    struct engine_command cmd = {.kind = (uint8_t)kind};
    bool bad = false;
    if (!fault_id(call, &cmd.u.fault.id)) {
        return;
    }
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    cmd.u.fault.text = api__opt_text(call, body, "note", &bad);
    if (!bad && kind == ENGINE_CMD_FAULT_NOTE && cmd.u.fault.text == NULL) {
        http_reply_error(call->x, 400, "INVAL", "note: required");
    } else if (!bad) {
        api__submit(call, &cmd, 200);
    }
    json_decref(body);
}
