/* Private to adapters/api. */
#ifndef CD_API_INTERNAL_H
#define CD_API_INTERNAL_H

#include <jansson.h>

#include "adapters/api/api.h"
#include "engine/engine.h"

#define API__PEERS_MAX 16

struct api__model_job;

struct api__peer
{
    char addr[CONFIG_HOST_MAX + 8];
    struct http_client *client;
};

struct api
{
    uv_loop_t *loop;
    struct cluster *cluster;
    struct http_server *server; /* for its own figures in /metrics; may be NULL */
    struct api__events *events;
    struct api__peer peers[API__PEERS_MAX];
    unsigned n_peers;
    /* model.c: model documents read in the thread pool, one at a time, the rest waiting. */
    struct api__model_job *job_running, *jobs_head, *jobs_tail;
    unsigned jobs_waiting;
    bool closing;
    void (*close_cb)(void *data);
    void *close_data;
};

/* A route: method, path pattern with "{}" for one segment, handler with the segments. */
#define API__ARGS_MAX 2
struct api__call
{
    struct api *api;
    struct http_exchange *x;
    const struct http_request *req;
    char args[API__ARGS_MAX][128];
};

/* errors.c */
int api__status_of(int code);
void api__fail(struct http_exchange *x, int code, const char *message);
void api__fail_result(struct http_exchange *x, const struct engine_result *res);
/* Parses the body as a JSON object; answers 400 and returns NULL when it is not one. An
 * empty body is an empty object. */
json_t *api__body(struct api__call *call);
/* The same, and answers 400 for a member whose name is not in keys (NULL-terminated). */
json_t *api__body_with(struct api__call *call, const char *const *keys);
/* Reads an optional string member; NULL when absent; answers 400 and sets *bad when it is
 * not a string. */
const char *api__opt_str(struct api__call *call, json_t *obj, const char *key, bool *bad);
bool api__stale_ok(const struct http_request *req);

/* json.c */
json_t *api__contact_json(const struct engine_contact_info *c);
json_t *api__agent_json(const struct engine_agent_info *a);
json_t *api__queue_json(const struct engine_queue_info *q);
struct storage_history;
json_t *api__history_json(const struct storage_history *h);

/* write.c: commands. */
void api__submit(struct api__call *call, const struct engine_command *cmd, int ok_status);
void api__contact_create(struct api__call *call);
/* An "attributes" object into out (at most ENGINE_ATTRS_MAX); answers 400 when bad. Strings
 * are borrowed from obj. */
bool api__read_attrs(struct api__call *call, json_t *obj, struct engine_attr *out, uint8_t *n);
/* A contact or offer id from a path segment; answers 400 when bad. */
bool api__parse_id(struct api__call *call, const char *text, uint64_t *id);
void api__contact_action(struct api__call *call, int kind);
void api__offer_action(struct api__call *call, int kind);
void api__agent_action(struct api__call *call, int kind);
void api__queue_action(struct api__call *call, int kind);

/* model.c: the routing model's versions, diff, rollback and audit. */
enum api__model_read {
    API__MODEL_RUNNING,
    API__MODEL_VERSIONS,
    API__MODEL_VERSION,
    API__MODEL_AUDIT,
};
void api__model_install(struct api__call *call);
void api__model_validate(struct api__call *call);
void api__model_diff(struct api__call *call);
void api__model_rollback(struct api__call *call);
void api__model_read(struct api__call *call, int kind);
/* Answers the waiting model requests 503 and refuses new ones; cb fires once the job in the
 * thread pool (if any) has come back, from inside this call when none is running. */
void api__model_close(struct api *a, void (*cb)(void *data), void *data);

/* manage.c: agents' definitions, transfers, attributes. */
void api__agent_put(struct api__call *call);
void api__agent_skills(struct api__call *call);
void api__agent_delete(struct api__call *call);
void api__contact_transfer(struct api__call *call);
void api__contact_attributes(struct api__call *call);

/* read.c: barrier-fenced reads. */
enum api__read_kind {
    API__READ_CONTACT,
    API__READ_CONTACTS,
    API__READ_AGENT,
    API__READ_AGENTS,
    API__READ_QUEUE,
    API__READ_QUEUES,
    API__READ_HISTORY,
    API__READ_CHECK,
    API__READ_EXPLAIN,
};
void api__read(struct api__call *call, enum api__read_kind kind);

/* admin.c: cluster status, membership, health. */
void api__healthz(struct api__call *call);
void api__readyz(struct api__call *call);
void api__cluster_status(struct api__call *call);
void api__metrics(struct api__call *call);

/* events.c: the long-poll feed of effects. */
struct api__events;
int api__events_new(struct api *a);
void api__events_free(struct api__events *ev);
void api__events(struct api__call *call);
void api__member_add(struct api__call *call);
void api__member_remove(struct api__call *call);
void api__leader_transfer(struct api__call *call);
void api__internal(struct api__call *call, enum cluster_forward_kind kind);

#endif
