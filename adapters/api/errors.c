/* Error answers and request-body helpers. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

int api__status_of(int code)
{
    switch (code) {
        case CD_EINVAL:
        case CD_EPARSE:
        case CD_ECORRUPT:
        case CD_EVERSION:
            return 400;
        case CD_ENOTFOUND:
            return 404;
        case CD_EEXISTS:
        case CD_ESTATE:
        case CD_ESTALE:
        case CD_ECAPACITY:
            return 409;
        case CD_ETOOBIG:
            return 413;
        case CD_EUNAVAIL:
            return 503;
        case CD_ETIMEDOUT:
            return 504;
        default:
            return 500;
    }
}

void api__fail(struct http_exchange *x, int code, const char *message)
{
    /* 413 reads TOO_LARGE whoever refuses: the HTTP server itself says so. */
    http_reply_error(x, api__status_of(code),
                     code == CD_ETOOBIG ? "TOO_LARGE" : cd_errname(code), "%s",
                     message != NULL && *message ? message : cd_strerror(code));
}

void api__fail_result(struct http_exchange *x, const struct engine_result *res)
{
    api__fail(x, res->code, res->message);
}

/* The body as a JSON object: one place loads every request body. */
static json_t *body_object(struct api__call *call)
{
    json_error_t err;
    json_t *obj;
    if (call->req->body_len == 0) {
        return json_object();
    }
    obj = json_loadb(call->req->body, call->req->body_len, JSON_REJECT_DUPLICATES, &err);
    if (obj == NULL) {
        http_reply_error(call->x, 400, "PARSE", "body: line %d column %d: %s", err.line,
                         err.column, err.text);
        return NULL;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        http_reply_error(call->x, 400, "INVAL", "body: expected a JSON object");
        return NULL;
    }
    return obj;
}

json_t *api__body_with(struct api__call *call, const char *const *keys)
{
    json_t *obj = body_object(call), *v;
    const char *k;
    if (obj == NULL) {
        return NULL;
    }
    json_object_foreach(obj, k, v)
    {
        size_t i = 0;
        while (keys[i] != NULL && strcmp(keys[i], k) != 0) {
            i++;
        }
        if (keys[i] == NULL) {
            http_reply_error(call->x, 400, "INVAL", "unknown field '%s'", k);
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

const char *api__opt_str(struct api__call *call, json_t *obj, const char *key, bool *bad)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v) || *bad) {
        return NULL;
    }
    if (!json_is_string(v)) {
        http_reply_error(call->x, 400, "INVAL", "%s: expected a string", key);
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

const char *api__opt_name(struct api__call *call,
                          json_t *obj,
                          const char *key,
                          size_t cap,
                          bool *bad)
{
    const char *s = api__opt_str(call, obj, key, bad);
    if (s != NULL && s[0] == 0) {
        return NULL; /* "" is no name, as the engine reads it */
    }
    if (s != NULL && !api__name_ok(call, key, s, cap)) {
        *bad = true;
        return NULL;
    }
    return s;
}

const char *api__opt_text(struct api__call *call, json_t *obj, const char *key, bool *bad)
{
    const char *s = api__opt_str(call, obj, key, bad);
    if (s != NULL && !api__text_ok(call, key, s)) {
        *bad = true;
        return NULL;
    }
    return s;
}

void api__body_wipe(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v)) {
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
    }
    json_decref(obj);
}

/* ?stale=true reads this node's applied state without a barrier (the route has checked
 * that the value is true or false). */
bool api__stale_ok(const struct http_request *req)
{
    char v[8];
    return http_query_get(req, "stale", v, sizeof(v)) >= 0 && strcmp(v, "true") == 0;
}

void api__read_fenced(struct api__call *call, void (*cb)(void *data, int status), void *data)
{
    if (api__stale_ok(call->req)) {
        cb(data, 0);
    } else if (cluster_read_barrier(call->api->cluster, cb, data) != 0) {
        free(data);
        api__fail(call->x, CD_ENOMEM, NULL);
    }
}
