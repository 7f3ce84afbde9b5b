/* The route table and the node's API object. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

typedef void (*route_fn)(struct api__call *call, int arg);

struct route
{
    enum http_method method;
    const char *pattern; /* "{}" matches one path segment */
    route_fn fn;
    int arg;
};

#define ROUTE0(name, call_expr)                       \
    static void name(struct api__call *call, int arg) \
    {                                                 \
        (void)arg;                                    \
        call_expr;                                    \
    }
ROUTE0(r_healthz, api__healthz(call))
ROUTE0(r_readyz, api__readyz(call))
ROUTE0(r_status, api__cluster_status(call))
ROUTE0(r_member_add, api__member_add(call))
ROUTE0(r_member_remove, api__member_remove(call))
ROUTE0(r_transfer, api__leader_transfer(call))
ROUTE0(r_create, api__contact_create(call))
ROUTE0(r_model, api__model_install(call))
ROUTE0(r_metrics, api__metrics(call))
ROUTE0(r_events, api__events(call))
ROUTE0(r_model_validate, api__model_validate(call))
ROUTE0(r_model_diff, api__model_diff(call))
ROUTE0(r_model_rollback, api__model_rollback(call))
ROUTE0(r_agent_put, api__agent_put(call))
ROUTE0(r_agent_skills, api__agent_skills(call))
ROUTE0(r_agent_delete, api__agent_delete(call))
ROUTE0(r_transfer_contact, api__contact_transfer(call))
ROUTE0(r_attributes, api__contact_attributes(call))

static void r_read(struct api__call *call, int arg)
{
    api__read(call, (enum api__read_kind)arg);
}
static void r_contact(struct api__call *call, int arg)
{
    api__contact_action(call, arg);
}
static void r_offer(struct api__call *call, int arg)
{
    api__offer_action(call, arg);
}
static void r_agent(struct api__call *call, int arg)
{
    api__agent_action(call, arg);
}
static void r_model_read(struct api__call *call, int arg)
{
    api__model_read(call, arg);
}
static void r_queue(struct api__call *call, int arg)
{
    api__queue_action(call, arg);
}
static void r_internal(struct api__call *call, int arg)
{
    api__internal(call, (enum cluster_forward_kind)arg);
}

static const struct route routes[] = {
    {HTTP_M_GET, "/healthz", r_healthz, 0},
    {HTTP_M_GET, "/readyz", r_readyz, 0},
    {HTTP_M_GET, "/metrics", r_metrics, 0},
    {HTTP_M_GET, "/v1/cluster", r_status, 0},
    {HTTP_M_GET, "/v1/cluster/check", r_read, API__READ_CHECK},
    {HTTP_M_POST, "/v1/cluster/members", r_member_add, 0},
    {HTTP_M_DELETE, "/v1/cluster/members/{}", r_member_remove, 0},
    {HTTP_M_POST, "/v1/cluster/leader/transfer", r_transfer, 0},
    {HTTP_M_POST, "/v1/contacts", r_create, 0},
    {HTTP_M_GET, "/v1/contacts", r_read, API__READ_CONTACTS},
    {HTTP_M_GET, "/v1/contacts/{}", r_read, API__READ_CONTACT},
    {HTTP_M_POST, "/v1/contacts/{}/abandon", r_contact, ENGINE_CMD_CONTACT_ABANDON},
    {HTTP_M_POST, "/v1/contacts/{}/end", r_contact, ENGINE_CMD_CONTACT_END},
    {HTTP_M_POST, "/v1/contacts/{}/callback", r_contact, ENGINE_CMD_CONTACT_CALLBACK},
    {HTTP_M_POST, "/v1/contacts/{}/wrapup-done", r_contact, ENGINE_CMD_WRAPUP_DONE},
    {HTTP_M_POST, "/v1/contacts/{}/transfer", r_transfer_contact, 0},
    {HTTP_M_PUT, "/v1/contacts/{}/attributes", r_attributes, 0},
    {HTTP_M_GET, "/v1/contacts/{}/explain", r_read, API__READ_EXPLAIN},
    {HTTP_M_POST, "/v1/offers/{}/accept", r_offer, ENGINE_CMD_OFFER_ACCEPT},
    {HTTP_M_POST, "/v1/offers/{}/reject", r_offer, ENGINE_CMD_OFFER_REJECT},
    {HTTP_M_GET, "/v1/agents", r_read, API__READ_AGENTS},
    {HTTP_M_GET, "/v1/agents/{}", r_read, API__READ_AGENT},
    {HTTP_M_PUT, "/v1/agents/{}", r_agent_put, 0},
    {HTTP_M_DELETE, "/v1/agents/{}", r_agent_delete, 0},
    {HTTP_M_PUT, "/v1/agents/{}/skills", r_agent_skills, 0},
    {HTTP_M_POST, "/v1/agents/{}/login", r_agent, ENGINE_CMD_AGENT_LOGIN},
    {HTTP_M_POST, "/v1/agents/{}/logout", r_agent, ENGINE_CMD_AGENT_LOGOUT},
    {HTTP_M_POST, "/v1/agents/{}/state", r_agent, ENGINE_CMD_AGENT_STATE},
    {HTTP_M_GET, "/v1/queues", r_read, API__READ_QUEUES},
    {HTTP_M_GET, "/v1/queues/{}", r_read, API__READ_QUEUE},
    {HTTP_M_POST, "/v1/queues/{}/pause", r_queue, ENGINE_CMD_QUEUE_PAUSE},
    {HTTP_M_POST, "/v1/queues/{}/resume", r_queue, ENGINE_CMD_QUEUE_RESUME},
    {HTTP_M_GET, "/v1/history", r_read, API__READ_HISTORY},
    {HTTP_M_GET, "/v1/events", r_events, 0},
    {HTTP_M_POST, "/v1/model", r_model, 0},
    {HTTP_M_GET, "/v1/model", r_model_read, API__MODEL_RUNNING},
    {HTTP_M_POST, "/v1/model/validate", r_model_validate, 0},
    {HTTP_M_POST, "/v1/model/diff", r_model_diff, 0},
    {HTTP_M_POST, "/v1/model/rollback", r_model_rollback, 0},
    {HTTP_M_GET, "/v1/model/versions", r_model_read, API__MODEL_VERSIONS},
    {HTTP_M_GET, "/v1/model/versions/{}", r_model_read, API__MODEL_VERSION},
    {HTTP_M_GET, "/v1/audit", r_model_read, API__MODEL_AUDIT},
    {HTTP_M_POST, "/v1/internal/forward/command", r_internal, CLUSTER_FWD_COMMAND},
    {HTTP_M_POST, "/v1/internal/forward/read-index", r_internal, CLUSTER_FWD_READ_INDEX},
};

/* Matches path against pattern, capturing "{}" segments. */
static bool match(const char *pattern, const char *path, struct api__call *call)
{
    int n = 0;
    while (*pattern != 0 && *path != 0) {
        if (pattern[0] == '{' && pattern[1] == '}') {
            size_t len = strcspn(path, "/");
            if (len == 0 || len >= sizeof(call->args[0]) || n == API__ARGS_MAX) {
                return false;
            }
            memcpy(call->args[n], path, len);
            call->args[n++][len] = 0;
            path += len;
            pattern += 2;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == 0 && *path == 0;
}

void api_handle(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct api__call call = {.api = data, .x = x, .req = req};
    bool path_known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, req->path, &call)) {
            continue;
        }
        path_known = true;
        if (routes[i].method == req->method ||
            (req->method == HTTP_M_HEAD && routes[i].method == HTTP_M_GET)) {
            routes[i].fn(&call, routes[i].arg);
            return;
        }
    }
    if (path_known) {
        http_reply_error(x, 405, "METHOD", "%s is not allowed on %s", req->method_name,
                         req->path);
    } else {
        http_reply_error(x, 404, "NOTFOUND", "no such endpoint: %s", req->path);
    }
}

int api_new(uv_loop_t *loop, struct api **out)
{
    struct api *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        return CD_ENOMEM;
    }
    a->loop = loop;
    if (api__events_new(a) != 0) {
        free(a);
        return CD_ENOMEM;
    }
    *out = a;
    return 0;
}

void api_set_cluster(struct api *a, struct cluster *c)
{
    a->cluster = c;
}

void api_set_server(struct api *a, struct http_server *s)
{
    a->server = s;
}

void api_close(struct api *a, void (*cb)(void *data), void *data)
{
    api__model_close(a, cb, data);
}

void api_free(struct api *a)
{
    if (a == NULL) {
        return;
    }
    assert(a->job_running == NULL && a->jobs_head == NULL);
    for (unsigned i = 0; i < a->n_peers; i++) {
        http_client_close(a->peers[i].client);
    }
    api__events_free(a->events);
    free(a);
}
