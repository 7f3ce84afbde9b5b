/* CORS (docs/api.md, *Browsers on other origins*): the agent desktop loaded from one member
 * calls another's API when its own member dies, so a member's page may call every member;
 * so may the pages of the node file's web_origins. Decided in the dispatch, before any
 * route, so that every answer of /v1/ (errors too) carries the same headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"

#define ALLOW_METHODS "GET, POST, PUT, DELETE"
#define ALLOW_HEADERS "Authorization, Content-Type, X-Requested-With"
#define MAX_AGE "600"

void api_set_origins(struct api *a, const struct config_node *cfg)
{
    a->reports = cfg;
    api__drill_leftover(cfg); /* the node file's data directory, once at start */
    a->n_origins = cfg->n_web_origins;
    memcpy(a->origins, cfg->web_origins, cfg->n_web_origins * sizeof(a->origins[0]));
    a->insecure = cfg->insecure;
    a->n_public_urls = cfg->n_public_urls;
    memcpy(a->public_urls, cfg->public_urls, cfg->n_public_urls * sizeof(a->public_urls[0]));
}

/* Whether o is the origin of a member's API address (as Raft's configuration has it). */
static bool member_origin(struct api *a, const struct config_origin *o)
{
    struct cluster_status *st;
    bool found = false;

    if (a->cluster == NULL || (st = malloc(sizeof(*st))) == NULL) {
        return false;
    }
    cluster_status(a->cluster, st);
    for (uint32_t i = 0; i < st->n_members && !found; i++) {
        char text[sizeof(st->members[i].api) + 8];
        struct config_origin m;
        snprintf(text, sizeof(text), "%s://%s", a->insecure ? "http" : "https",
                 st->members[i].api);
        found = config_origin_parse(text, &m) && config_origin_equal(&m, o);
    }
    free(st);
    return found;
}

bool api_origin_allowed(struct api *a, const char *origin)
{
    struct config_origin o;

    if (origin == NULL) {
        return true;
    }
    if (!config_origin_parse(origin, &o)) {
        return false; /* "null" (a sandboxed frame, a file), or nothing a browser sends */
    }
    for (uint32_t i = 0; i < a->n_origins; i++) {
        if (config_origin_equal(&a->origins[i], &o)) {
            return true;
        }
    }
    return member_origin(a, &o);
}

/* A preflight from an allowed origin: what the actual request may carry, for 10 minutes. */
static void preflight(struct api__call *call, const char *origin)
{
    char lines[CONFIG_HOST_MAX + 512];

    snprintf(lines, sizeof(lines),
             "Access-Control-Allow-Origin: %s\r\n"
             "Access-Control-Allow-Credentials: true\r\n"
             "Access-Control-Allow-Methods: " ALLOW_METHODS
             "\r\n"
             "Access-Control-Allow-Headers: " ALLOW_HEADERS
             "\r\n"
             "Access-Control-Max-Age: " MAX_AGE
             "\r\n"
             "Vary: Origin\r\n",
             origin);
    if (http_reply_headers(call->x, 204, NULL, lines, NULL, 0) != 0) {
        http_reply_error(call->x, 400, "INVAL", "the Origin header is malformed");
    }
}

bool api__cors(struct api__call *call)
{
    const struct http_request *req = call->req;
    const char *origin = http_header_get(req, "Origin");
    char lines[CONFIG_HOST_MAX + 256];

    if (origin == NULL || strncmp(req->path, "/v1/", 4) != 0) {
        return true;
    }
    bool allowed = api_origin_allowed(call->api, origin);
    bool asks = req->method == HTTP_M_OPTIONS &&
                http_header_get(req, "Access-Control-Request-Method") != NULL;
    if (asks && !allowed) {
        http_reply_error(call->x, 403, "FORBIDDEN",
                         "pages at the origin '%s' may not call this API: it is neither a "
                         "member's API address nor one of the node file's web_origins",
                         origin);
        return false;
    }
    if (asks) {
        preflight(call, origin);
        return false;
    }
    if (allowed) {
        snprintf(lines, sizeof(lines),
                 "Access-Control-Allow-Origin: %s\r\n"
                 "Access-Control-Allow-Credentials: true\r\n"
                 "Access-Control-Expose-Headers: Date\r\n"
                 "Vary: Origin\r\n",
                 origin);
        /* Out of memory, the answer goes without them: the browser then withholds it. */
        http_exchange_set_headers(call->x, lines);
    }
    return true;
}
