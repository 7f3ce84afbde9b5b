/* api: a node's public HTTP/JSON API under /v1/ and its health endpoints. Routes turn
 * requests into engine commands for cluster_submit() and read the applied state after a
 * read barrier. What members ask each other goes over the peer channel (peer/peer.h), never
 * through this API.
 *
 * Errors are {"error":{"code","message"}} with a fitting status; a request that fails
 * validation changes nothing. */
#ifndef CD_API_H
#define CD_API_H

#include <uv.h>

#include "adapters/http/http.h"
#include "cluster/cluster.h"

struct api;

/* Creates the API of one node. The cluster is set later (api_set_cluster), once it exists.
 * Returns 0 or CD_ENOMEM. */
int api_new(uv_loop_t *loop, struct api **out);
void api_set_cluster(struct api *a, struct cluster *c);
/* The server that serves this API, whose own figures /metrics shows (borrowed). */
void api_set_server(struct api *a, struct http_server *s);
/* The node's data directory, where the leader writes the first admin token when the
 * cluster holds none (adapters/api/tokens.c); the check runs every second from now on.
 * Returns 0, or CD_EINVAL when the path is too long. */
int api_set_data_dir(struct api *a, const char *dir);
/* CORS (docs/api.md): copies the node file's web_origins, and whether it is insecure (the
 * members' APIs are then plain HTTP). Call before the node's HTTP listener opens. */
void api_set_origins(struct api *a, const struct config_node *cfg);
/* Whether a page at origin (a request's Origin header, borrowed during the call) may call
 * this node's API, and open its WebSockets: true when origin is NULL (no Origin header: not
 * a browser's cross-origin request), or when it is one of web_origins or the origin of a
 * member's API address (https://HOST:PORT as the cluster's configuration has it, http://
 * on an insecure node; cluster_status()); false for anything else, "null" included. */
bool api_origin_allowed(struct api *a, const char *origin);
/* Stops taking work that outlives a request's handler: model documents are read and
 * password hashes made in libuv's thread pool, and a model install, a user's change or a
 * sign-in proposes to the cluster once that is done. The requests still waiting are
 * answered 503; cb fires once the work in the pool (if any) has come back, from inside
 * this call when none is there. Call it after closing the HTTP server and before closing
 * the cluster, then api_free() from cb or later. */
void api_close(struct api *a, void (*cb)(void *data), void *data);
/* Frees the API. With model work possibly in progress, call api_close() first and wait for
 * its callback; with a command possibly in flight (the first admin token), only once the
 * cluster has closed (its callbacks have fired). */
void api_free(struct api *a);

/* The options of the node's HTTP server (the server's defaults otherwise): a routing model
 * of up to CONFIG_MODEL_BYTES_MAX may be posted to /v1/model and its sub-paths; other
 * bodies stay within the server's 1 MiB. */
void api_http_options(struct http_server_options *out);

/* The http_handler_cb of the node's server; data is the struct api. */
void api_handle(void *data, struct http_exchange *x, const struct http_request *req);

/* GET /v1/events keeps the effects the node's bus gives it: effect n of the entry at index
 * (borrowed during the call); and restored: the effects up to index are not given (the
 * feed answers 410 for what follows an id below it). */
void api_events_effect(struct api *a,
                       uint64_t index,
                       uint32_t n,
                       const struct engine_effect *fx);
void api_events_restored(struct api *a, uint64_t index);

/* Signals (node_signal_*): api_signal() hands the event feed's WebSockets a signal about
 * contact from any member (a customer typing); a desk's own go out through publish. */
void api_signal(struct api *a, uint64_t contact, const char *json, size_t len);
void api_set_signals(struct api *a,
                     int (*publish)(void *data, uint64_t contact, const char *json, size_t len),
                     void *data);

/* Health (health.c): GET /v1/health shows this node's own measurements beside the
 * replicated signals; the node hands them over through this callback (fills at most max,
 * returns how many; names borrowed until control returns to the loop). */
struct api_signal
{
    const char *name;
    uint8_t state; /* enum engine_signal_state */
    int64_t value;
    int64_t since;
};
void api_set_local_health(struct api *a,
                          size_t (*local)(void *data, struct api_signal *out, size_t max),
                          void *data);

/* Webhooks (webhooks.c): an effect was committed (deliveries may be due); and the lowest
 * entry whose effects a subscription still owes its receiver (for the bus's outbox), 0 when
 * none. api_webhooks_stop() stops delivering (before the cluster closes). */
void api_webhooks_effect(struct api *a);
uint64_t api_webhooks_holds(struct api *a);
void api_webhooks_stop(struct api *a);

#endif
