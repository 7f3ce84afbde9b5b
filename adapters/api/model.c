/* The routing model as a replicated, versioned configuration:
 *
 *   POST /v1/model?actor=&comment=      install the YAML body as the next version
 *   POST /v1/model/validate             check the YAML body; changes nothing
 *   POST /v1/model/diff                 what the YAML body would change
 *   POST /v1/model/rollback?actor=      {"version": V, "comment"}: install V's text again
 *   GET  /v1/model                      the running version, with its text
 *   GET  /v1/model/versions[/{v}]       the archive (newest first), or one version's text
 *   GET  /v1/audit                      every model change: who, when, what, why
 *
 * An install or a rollback is one MODEL_INSTALL command through the log, so every node
 * switches at the same index; it carries the text, who, why and the diff against the
 * running version, which the engine keeps in its archive (engine_archive_*). A version
 * number is the running one plus one when the command is made: of two changes made at
 * once the second is refused (409) rather than applied on top of a version its author
 * never saw. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "config/config.h"

#define ACTOR_MAX 64
#define COMMENT_MAX 512

struct pending_install
{
    struct http_exchange *x;
    uint32_t version;
    json_t *changes;
};

static json_t *lines_json(const char *text)
{
    json_t *arr = json_array();
    const char *p = text;
    while (p != NULL && *p != 0) {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        json_array_append_new(arr, json_stringn(p, len));
        p = nl != NULL ? nl + 1 : NULL;
    }
    return arr;
}

/* The running version's text, "" when none is archived. Borrowed from the engine. */
static const char *running_source(struct api *a)
{
    const struct engine *e = cluster_engine(a->cluster);
    struct engine_archived v;
    return engine_archive_find(e, engine_model_version(e), &v) == 0 ? v.source : "";
}

static void installed(void *data, const struct engine_result *res)
{
    struct pending_install *p = data;
    if (res->code != 0) {
        api__fail_result(p->x, res);
        json_decref(p->changes);
    } else {
        http_reply_json(
            p->x, 200,
            json_pack("{s:I,s:o}", "version", (json_int_t)p->version, "changes", p->changes));
    }
    free(p);
}

/* Proposes text (a valid model, parsed into m) as the next version. */
static void install(struct api__call *call,
                    struct config_model *m,
                    const char *text,
                    uint32_t rollback_of,
                    const char *comment)
{
    char actor[ACTOR_MAX] = "api", err[512], *diff = NULL;
    const char *running = running_source(call->api);
    int rv = config_model_diff(running, strlen(running), text, strlen(text), &diff, err,
                               sizeof(err));
    struct pending_install *p = rv == 0 ? calloc(1, sizeof(*p)) : NULL;
    if (p == NULL) {
        free(diff);
        api__fail(call->x, rv != 0 ? rv : CD_ENOMEM, rv != 0 ? err : NULL);
        return;
    }
    http_query_get(call->req, "actor", actor, sizeof(actor));
    struct engine_command cmd = {.kind = ENGINE_CMD_MODEL_INSTALL};
    cmd.u.install.version = engine_model_version(cluster_engine(call->api->cluster)) + 1;
    cmd.u.install.model = &m->model;
    cmd.u.install.source = text;
    cmd.u.install.actor = actor;
    cmd.u.install.comment = comment;
    cmd.u.install.diff = diff;
    cmd.u.install.rollback_of = rollback_of;
    *p = (struct pending_install){call->x, cmd.u.install.version, lines_json(diff)};
    rv = cluster_submit(call->api->cluster, &cmd, installed, p);
    free(diff);
    if (rv != 0) {
        json_decref(p->changes);
        free(p);
        api__fail(call->x, rv, rv == CD_EINVAL ? "the model could not be encoded" : NULL);
    }
}

/* The request body as a NUL-terminated string, or NULL (answered) when empty. */
static char *body_text(struct api__call *call)
{
    if (call->req->body_len == 0) {
        http_reply_error(call->x, 400, "INVAL", "body: expected the routing model's YAML");
        return NULL;
    }
    char *text = strndup(call->req->body, call->req->body_len);
    if (text == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
    }
    return text;
}

/* Parses the body; answers the error (file:line:column) and returns NULL when invalid. */
static char *parse_body(struct api__call *call, struct config_model *m)
{
    char err[512];
    char *text = body_text(call);
    if (text == NULL) {
        return NULL;
    }
    int rv = config_model_parse("model", text, strlen(text), m, err, sizeof(err));
    if (rv != 0) {
        http_reply_error(call->x, api__status_of(rv), cd_errname(rv), "%s", err);
        free(text);
        return NULL;
    }
    return text;
}

void api__model_install(struct api__call *call)
{
    struct config_model m;
    char comment[COMMENT_MAX] = "";
    config_model_init(&m);
    char *text = parse_body(call, &m);
    if (text != NULL) {
        http_query_get(call->req, "comment", comment, sizeof(comment));
        install(call, &m, text, 0, comment);
        config_model_close(&m);
        free(text);
    }
}

void api__model_validate(struct api__call *call)
{
    struct config_model m;
    config_model_init(&m);
    char *text = parse_body(call, &m);
    if (text != NULL) {
        http_reply_json(
            call->x, 200,
            json_pack("{s:b,s:i,s:i,s:i,s:i}", "valid", 1, "skills", (int)m.model.n_skills,
                      "queues", (int)m.model.n_queues, "agents", (int)m.model.n_agents, "rules",
                      (int)m.model.n_rules));
        config_model_close(&m);
        free(text);
    }
}

void api__model_diff(struct api__call *call)
{
    char err[512], *diff = NULL;
    char *text = body_text(call);
    if (text == NULL) {
        return;
    }
    const char *running = running_source(call->api);
    int rv = config_model_diff(running, strlen(running), text, strlen(text), &diff, err,
                               sizeof(err));
    if (rv != 0) {
        http_reply_error(call->x, api__status_of(rv), cd_errname(rv), "%s", err);
    } else {
        http_reply_json(
            call->x, 200,
            json_pack("{s:I,s:o}", "from_version",
                      (json_int_t)engine_model_version(cluster_engine(call->api->cluster)),
                      "changes", lines_json(diff)));
    }
    free(diff);
    free(text);
}

void api__model_rollback(struct api__call *call)
{
    static const char *const keys[] = {"version", "comment", NULL};
    struct engine_archived v;
    struct config_model m;
    char err[512], comment[COMMENT_MAX];
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return;
    }
    json_t *ver = json_object_get(body, "version");
    json_t *com = json_object_get(body, "comment");
    if (!json_is_integer(ver) || json_integer_value(ver) < 1 ||
        json_integer_value(ver) > UINT32_MAX || (com != NULL && !json_is_string(com))) {
        http_reply_error(call->x, 400, "INVAL",
                         "expected {\"version\": a version number, \"comment\": text}");
        json_decref(body);
        return;
    }
    uint32_t target = (uint32_t)json_integer_value(ver);
    snprintf(comment, sizeof(comment), "%s", com != NULL ? json_string_value(com) : "rollback");
    json_decref(body);
    const struct engine *e = cluster_engine(call->api->cluster);
    if (engine_archive_find(e, target, &v) != 0 || v.source[0] == 0) {
        http_reply_error(call->x, 404, "NOTFOUND",
                         "version %u is not in the archive (the latest %d are kept)", target,
                         ENGINE_ARCHIVE_MAX);
        return;
    }
    if (target == engine_model_version(e)) {
        http_reply_error(call->x, 409, "STATE", "version %u is the running version", target);
        return;
    }
    char *text = strdup(v.source); /* the engine's copy may go with the next command */
    config_model_init(&m);
    int rv = text ? config_model_parse("model", text, strlen(text), &m, err, sizeof(err))
                  : CD_ENOMEM;
    if (rv != 0) {
        /* The text was valid when installed; a time zone it names may since be gone. */
        http_reply_error(call->x, 409, "STATE", "version %u no longer loads: %s", target,
                         text ? err : "out of memory");
    } else {
        install(call, &m, text, target, comment);
        config_model_close(&m);
    }
    free(text);
}

/* ---- Reads (after a read barrier, like every read of the state) ------------------------ */

struct model_reading
{
    struct api *api;
    struct http_exchange *x;
    enum api__model_read kind;
    uint32_t version;
};

static json_t *version_json(const struct engine_archived *v, uint32_t running, int detail)
{
    json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:b}", "version", (json_int_t)v->version,
                          "installed_at", (json_int_t)v->at, "actor", v->actor, "comment",
                          v->comment, "running", v->version == running);
    if (v->rollback_of != 0) {
        json_object_set_new(j, "rollback_of", json_integer(v->rollback_of));
    }
    if (detail >= 1) {
        json_object_set_new(j, "changes", lines_json(v->diff));
    }
    if (detail >= 2) {
        json_object_set_new(j, "source", json_string(v->source));
    }
    return j;
}

static void model_answer(void *data, int status)
{
    struct model_reading *r = data;
    const struct engine *e = cluster_engine(r->api->cluster);
    uint32_t running = engine_model_version(e);
    struct engine_archived v;
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
    } else if (r->kind == API__MODEL_VERSIONS || r->kind == API__MODEL_AUDIT) {
        json_t *items = json_array();
        for (size_t i = engine_archive_count(e); i-- > 0;) {
            engine_archive_get(e, i, &v);
            json_t *j = version_json(&v, running, r->kind == API__MODEL_AUDIT);
            if (r->kind == API__MODEL_AUDIT) {
                json_object_set_new(j, "action",
                                    json_string(v.rollback_of ? "rollback" : "install"));
            }
            json_array_append_new(items, j);
        }
        http_reply_json(r->x, 200,
                        json_pack("{s:o,s:I}", "items", items, "running", (json_int_t)running));
    } else if (engine_archive_find(e, r->kind == API__MODEL_RUNNING ? running : r->version,
                                   &v) == 0) {
        http_reply_json(r->x, 200, version_json(&v, running, 2));
    } else if (r->kind == API__MODEL_RUNNING) {
        http_reply_error(r->x, 404, "NOTFOUND", "no routing model is installed");
    } else {
        http_reply_error(r->x, 404, "NOTFOUND", "version %u is not in the archive", r->version);
    }
    free(r);
}

void api__model_read(struct api__call *call, int kind)
{
    struct model_reading *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    *r = (struct model_reading){call->api, call->x, (enum api__model_read)kind, 0};
    if (kind == API__MODEL_VERSION) {
        char *end;
        unsigned long v = strtoul(call->args[0], &end, 10);
        if (*end != 0 || v == 0 || v > UINT32_MAX) {
            http_reply_error(call->x, 400, "INVAL", "'%s' is not a version number",
                             call->args[0]);
            free(r);
            return;
        }
        r->version = (uint32_t)v;
    }
    if (api__stale_ok(call->req)) {
        model_answer(r, 0);
    } else if (cluster_read_barrier(call->api->cluster, model_answer, r) != 0) {
        free(r);
        api__fail(call->x, CD_ENOMEM, NULL);
    }
}
