/* The routing model as a replicated, versioned configuration:
 *
 *   POST /v1/model?actor=&comment=      install the YAML body as the next version
 *   POST /v1/model/validate             check the YAML body; changes nothing
 *   POST /v1/model/diff                 what the YAML body would change
 *   POST /v1/model/rollback?actor=      {"version": V, "comment"}: install V's text again
 *   GET  /v1/model                      the running version, with its text
 *   GET  /v1/model/versions[/{v}]       the archive (newest first: who, when, what, why),
 *                                       or one version with its text
 *   POST /v1/model/saved/{name}?comment= check the YAML body and keep it by name, for
 *                                       runbooks to install (docs/continuity.md)
 *   GET  /v1/model/saved[/{name}]       the saved models, or one with its text
 *   DELETE /v1/model/saved/{name}       forget one (refused while a runbook names it)
 *
 * An install or a rollback is one MODEL_INSTALL command through the log, so every node
 * switches at the same index; it carries the text, who, why and the diff against the
 * running version, which the engine keeps in its archive (engine_archive_*). A version
 * number is the running one plus one when the command is made: of two changes made at
 * once the second is refused (409) rather than applied on top of a version its author
 * never saw. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "config/config.h"

#define ACTOR_MAX ENGINE_ACTOR_MAX
#define COMMENT_MAX 512
#define JOBS_WAITING_MAX 8

/* A model document read (and diffed) in the thread pool, off the loop: a large model takes
 * long enough to parse that doing it on the loop would starve heartbeats and cost the
 * leadership. One job runs at a time, so the pool keeps threads for Raft's disk work;
 * the others wait in order. */
enum job_kind {
    JOB_VALIDATE, /* parse */
    JOB_DIFF,     /* diff against the running text */
    JOB_INSTALL,  /* parse and diff, then propose */
    JOB_SAVE,     /* parse, then keep the text by name for runbooks (MODEL_SAVE) */
};

struct api__model_job
{
    uv_work_t work;
    struct api *api;
    struct http_exchange *x;
    enum job_kind kind;
    char *text; /* owned, NUL-terminated: the document */
    size_t len;
    char *running;         /* owned: the running version's text when the request came */
    uint32_t from_version; /* ... and its number */
    uint32_t rollback_of;
    char name[ENGINE_NAME_MAX]; /* JOB_SAVE */
    char actor[ACTOR_MAX];
    char comment[COMMENT_MAX];
    /* Written by the worker thread, read once it is done. */
    int rv;
    char err[512];
    struct config_model model;
    char *diff;
    struct api__model_job *next; /* while waiting */
};

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

/* UTF-8 (shortest forms, no surrogates) without control characters (C0, DEL, C1): what an
 * actor or a comment may hold, so that every archived version can be shown as JSON. */
static bool clean_text(const char *text)
{
    static const uint32_t shortest[5] = {0, 0, 0x80, 0x800, 0x10000};
    const unsigned char *s = (const unsigned char *)text;
    while (*s != 0) {
        size_t len = s[0] < 0x80             ? 1
                     : (s[0] & 0xe0) == 0xc0 ? 2
                     : (s[0] & 0xf0) == 0xe0 ? 3
                     : (s[0] & 0xf8) == 0xf0 ? 4
                                             : 0;
        if (len == 0) {
            return false;
        }
        uint32_t cp = len == 1 ? s[0] : s[0] & (0x7fu >> len);
        for (size_t i = 1; i < len; i++) {
            if ((s[i] & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (s[i] & 0x3fu);
        }
        if (cp < shortest[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
            cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            return false;
        }
        s += len;
    }
    return true;
}

/* Reads query parameter name into buf (left as it is when absent); answers 400 and
 * returns false when it is too long or not clean text. */
static bool query_text(struct api__call *call, const char *name, char *buf, size_t len)
{
    char value[COMMENT_MAX];
    int n = http_query_get(call->req, name, value, sizeof(value));
    if (n == -1) {
        return true;
    }
    if (n < 0 || (size_t)n >= len) {
        http_reply_error(call->x, 400, "INVAL", "%s: longer than %zu bytes", name, len - 1);
        return false;
    }
    if (!clean_text(value)) {
        http_reply_error(call->x, 400, "INVAL",
                         "%s: expected UTF-8 text without control characters", name);
        return false;
    }
    memcpy(buf, value, (size_t)n + 1);
    return true;
}

/* The running version's text, "" when none is archived. Borrowed from the engine. */
static const char *running_source(struct api *a)
{
    const struct engine *e = cluster_engine(a->cluster);
    struct engine_archived v;
    return engine_archive_find(e, engine_model_version(e), &v) == 0 ? v.source : "";
}

/* ---- Jobs ------------------------------------------------------------------------------ */

static struct api__model_job *job_new(struct api__call *call, enum job_kind kind)
{
    struct api__model_job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return NULL;
    }
    j->api = call->api;
    j->x = call->x;
    j->kind = kind;
    j->work.data = j;
    /* Who installs it: the principal who authenticated. */
    snprintf(j->actor, sizeof(j->actor), "%s", call->who.actor);
    config_model_init(&j->model);
    return j;
}

static void job_free(struct api__model_job *j)
{
    config_model_close(&j->model);
    free(j->text);
    free(j->running);
    free(j->diff);
    free(j);
}

/* Runs on a thread of the pool: touches nothing but the job. */
static void job_work(uv_work_t *w)
{
    struct api__model_job *j = w->data;
    if (j->kind != JOB_DIFF) {
        j->rv = config_model_parse("model", j->text, j->len, &j->model, j->err, sizeof(j->err));
    }
    if (j->rv == 0 && j->kind != JOB_VALIDATE && j->kind != JOB_SAVE) {
        j->rv = config_model_diff(j->running, strlen(j->running), j->text, j->len, &j->diff,
                                  j->err, sizeof(j->err));
    }
}

static void job_done(uv_work_t *w, int status);

static void job_start(struct api *a, struct api__model_job *j)
{
    a->job_running = j;
    int rv = uv_queue_work(a->loop, &j->work, job_work, job_done);
    assert(rv == 0); /* it fails only without a work callback */
    (void)rv;
}

static void shutting_down(struct http_exchange *x)
{
    http_reply_error(x, 503, "UNAVAIL", "this node is shutting down");
}

/* Starts the next waiting job, or finishes a close once nothing runs. */
static void job_next(struct api *a)
{
    struct api__model_job *j = a->jobs_head;
    if (j != NULL) {
        a->jobs_head = j->next;
        a->jobs_tail = a->jobs_head != NULL ? a->jobs_tail : NULL;
        a->jobs_waiting--;
        job_start(a, j);
    } else {
        api__close_settle(a);
    }
}

/* Takes j: runs it now, or after the ones waiting, or answers 503 when too many wait. */
static void job_submit(struct api__model_job *j)
{
    struct api *a = j->api;
    if (a->closing) {
        shutting_down(j->x);
        job_free(j);
    } else if (a->job_running == NULL) {
        job_start(a, j);
    } else if (a->jobs_waiting == JOBS_WAITING_MAX) {
        http_reply_error(j->x, 503, "UNAVAIL",
                         "busy: %d model requests are waiting already; retry later",
                         JOBS_WAITING_MAX);
        job_free(j);
    } else {
        *(a->jobs_tail != NULL ? &a->jobs_tail->next : &a->jobs_head) = j;
        a->jobs_tail = j;
        a->jobs_waiting++;
    }
}

void api__model_close(struct api *a)
{
    struct api__model_job *j;
    while ((j = a->jobs_head) != NULL) {
        a->jobs_head = j->next;
        shutting_down(j->x);
        job_free(j);
    }
    a->jobs_tail = NULL;
    a->jobs_waiting = 0;
    if (a->job_running == NULL) {
        job_next(a);
    }
}

/* ---- Answers --------------------------------------------------------------------------- */

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

/* Proposes the job's model as the version after the one its diff was made against: should
 * another change have landed meanwhile, the engine refuses this one (409). */
static void propose(struct api__model_job *j)
{
    struct pending_install *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        api__fail(j->x, CD_ENOMEM, NULL);
        return;
    }
    struct engine_command cmd = {.kind = ENGINE_CMD_MODEL_INSTALL, .actor = j->actor};
    cmd.u.install.version = j->from_version + 1;
    cmd.u.install.model = &j->model.model;
    cmd.u.install.source = j->text;
    cmd.u.install.comment = j->comment;
    cmd.u.install.diff = j->diff;
    cmd.u.install.rollback_of = j->rollback_of;
    *p = (struct pending_install){j->x, cmd.u.install.version, lines_json(j->diff)};
    int rv = cluster_submit(j->api->cluster, &cmd, installed, p);
    if (rv != 0) {
        json_decref(p->changes);
        free(p);
        api__fail(j->x, rv, rv == CD_EINVAL ? "the model could not be encoded" : NULL);
    }
}

static void answer(struct api__model_job *j)
{
    const struct engine_model *m = &j->model.model;
    if (j->rv != 0 && j->rollback_of != 0 && j->rv == CD_EPARSE) {
        /* The text was valid when installed; a time zone it names may since be gone. */
        http_reply_error(j->x, 409, "STATE", "version %u no longer loads: %s", j->rollback_of,
                         j->err);
    } else if (j->rv != 0) {
        api__fail(j->x, j->rv, j->err);
    } else if (j->kind == JOB_VALIDATE) {
        http_reply_json(
            j->x, 200,
            json_pack("{s:b,s:i,s:i,s:i,s:i}", "valid", 1, "skills", (int)m->n_skills, "queues",
                      (int)m->n_queues, "agents", (int)m->n_agents, "rules", (int)m->n_rules));
    } else if (j->kind == JOB_SAVE) {
        struct engine_command cmd = {
            .kind = ENGINE_CMD_MODEL_SAVE,
            .u.runbook = {.name = j->name, .text = j->text, .comment = j->comment}};
        api__submit_as(j->api, j->x, j->actor, &cmd, 200);
    } else if (j->kind == JOB_DIFF) {
        http_reply_json(j->x, 200,
                        json_pack("{s:I,s:o}", "from_version", (json_int_t)j->from_version,
                                  "changes", lines_json(j->diff)));
    } else {
        propose(j);
    }
}

static void job_done(uv_work_t *w, int status)
{
    struct api__model_job *j = w->data;
    struct api *a = j->api;
    a->job_running = NULL;
    if (status != 0 || a->closing) {
        shutting_down(j->x);
    } else {
        answer(j);
    }
    job_free(j);
    job_next(a);
}

/* ---- Requests -------------------------------------------------------------------------- */

/* A job for the request body (copied: the worker reads it while the loop goes on), with the
 * running version's text when the job diffs. Answers and returns NULL on failure. */
static struct api__model_job *body_job(struct api__call *call, enum job_kind kind)
{
    if (call->req->body_len == 0) {
        http_reply_error(call->x, 400, "INVAL", "body: expected the routing model's YAML");
        return NULL;
    }
    struct api__model_job *j = job_new(call, kind);
    if (j == NULL) {
        return NULL;
    }
    j->len = call->req->body_len;
    j->text = malloc(j->len + 1);
    const struct engine *e = cluster_engine(call->api->cluster);
    j->from_version = engine_model_version(e);
    bool diffs = kind != JOB_VALIDATE && kind != JOB_SAVE;
    j->running = diffs ? strdup(running_source(call->api)) : NULL;
    if (j->text == NULL || (diffs && j->running == NULL)) {
        job_free(j);
        api__fail(call->x, CD_ENOMEM, NULL);
        return NULL;
    }
    /* The parser sees every byte: a NUL in the body is an error at its position. */
    memcpy(j->text, call->req->body, j->len);
    j->text[j->len] = 0;
    return j;
}

void api__model_install(struct api__call *call)
{
    char comment[COMMENT_MAX] = "";
    if (!query_text(call, "comment", comment, sizeof(comment))) {
        return;
    }
    struct api__model_job *j = body_job(call, JOB_INSTALL);
    if (j != NULL) {
        memcpy(j->comment, comment, sizeof(comment));
        job_submit(j);
    }
}

void api__model_save(struct api__call *call)
{
    char comment[COMMENT_MAX] = "";
    if (!query_text(call, "comment", comment, sizeof(comment))) {
        return;
    }
    if (call->req->body_len >= ENGINE_SAVED_TEXT_MAX) {
        http_reply_error(call->x, 413, "TOO_LARGE", "a saved model is at most %d bytes",
                         ENGINE_SAVED_TEXT_MAX - 1);
        return;
    }
    struct api__model_job *j = body_job(call, JOB_SAVE);
    if (j != NULL) {
        memcpy(j->comment, comment, sizeof(comment));
        snprintf(j->name, sizeof(j->name), "%.*s", (int)sizeof(j->name) - 1, call->args[0]);
        job_submit(j);
    }
}

static json_t *saved_json(const struct engine_saved_info *s, bool source)
{
    json_t *o =
        json_pack("{s:s,s:I,s:s,s:s,s:I}", "name", s->name, "at", (json_int_t)s->at, "actor",
                  s->actor, "comment", s->comment, "bytes", (json_int_t)strlen(s->source));
    if (source) {
        json_object_set_new(o, "source", json_string(s->source));
    }
    return o;
}

void api__model_saved(struct api__call *call, int one)
{
    const struct engine *e = cluster_engine(call->api->cluster);
    struct engine_saved_info s;
    if (one) {
        if (engine_saved_find(e, call->args[0], &s) != 0) {
            http_reply_error(call->x, 404, "NOTFOUND", "no saved model '%s'", call->args[0]);
        } else {
            http_reply_json(call->x, 200, saved_json(&s, true));
        }
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; engine_saved_at(e, i, &s) == 0; i++) {
        json_array_append_new(items, saved_json(&s, false));
    }
    http_reply_json(call->x, 200, json_pack("{s:o}", "items", items));
}

void api__model_forget(struct api__call *call)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_MODEL_FORGET,
                                 .u.runbook = {.name = call->args[0]}};
    api__submit(call, &cmd, 200);
}

void api__model_validate(struct api__call *call)
{
    struct api__model_job *j = body_job(call, JOB_VALIDATE);
    if (j != NULL) {
        job_submit(j);
    }
}

void api__model_diff(struct api__call *call)
{
    struct api__model_job *j = body_job(call, JOB_DIFF);
    if (j != NULL) {
        job_submit(j);
    }
}

/* {"version": V, "comment": text}: the target version and the comment, or false after a
 * 400 answer. */
static bool rollback_body(struct api__call *call, uint32_t *target, char *comment)
{
    static const char *const keys[] = {"version", "comment", NULL};
    json_t *body = api__body_with(call, keys);
    if (body == NULL) {
        return false;
    }
    json_t *ver = json_object_get(body, "version");
    json_t *com = json_object_get(body, "comment");
    bool ok = json_is_integer(ver) && json_integer_value(ver) >= 1 &&
              json_integer_value(ver) <= UINT32_MAX && (com == NULL || json_is_string(com));
    const char *text = com != NULL && ok ? json_string_value(com) : "rollback";
    if (!ok) {
        http_reply_error(call->x, 400, "INVAL",
                         "expected {\"version\": a version number, \"comment\": text}");
    } else if (strlen(text) >= COMMENT_MAX) {
        http_reply_error(call->x, 400, "INVAL", "comment: longer than %d bytes",
                         COMMENT_MAX - 1);
        ok = false;
    } else if (!clean_text(text)) {
        http_reply_error(call->x, 400, "INVAL",
                         "comment: expected UTF-8 text without control characters");
        ok = false;
    } else {
        *target = (uint32_t)json_integer_value(ver);
        memcpy(comment, text, strlen(text) + 1);
    }
    json_decref(body);
    return ok;
}

void api__model_rollback(struct api__call *call)
{
    struct engine_archived v;
    char comment[COMMENT_MAX];
    uint32_t target;
    if (!rollback_body(call, &target, comment)) {
        return;
    }
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
    struct api__model_job *j = job_new(call, JOB_INSTALL);
    if (j == NULL) {
        return;
    }
    /* The engine's copies may go with the next command. */
    j->text = strdup(v.source);
    j->len = j->text != NULL ? strlen(j->text) : 0;
    j->running = strdup(running_source(call->api));
    j->from_version = engine_model_version(e);
    j->rollback_of = target;
    memcpy(j->comment, comment, sizeof(comment));
    if (j->text == NULL || j->running == NULL) {
        job_free(j);
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    job_submit(j);
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

/* The running model's personal attribute keys (GET /v1/model). */
static json_t *personal_json(const struct engine *e)
{
    const struct engine_model *m = engine_model(e);
    json_t *arr = json_array();
    for (uint32_t i = 0; m != NULL && i < m->n_personal; i++) {
        json_array_append_new(arr, json_string(m->personal[i]));
    }
    return arr;
}

static void model_answer(void *data, int status)
{
    struct model_reading *r = data;
    const struct engine *e = cluster_engine(r->api->cluster);
    uint32_t running = engine_model_version(e);
    struct engine_archived v;
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
    } else if (r->kind == API__MODEL_VERSIONS) {
        json_t *items = json_array();
        for (size_t i = engine_archive_count(e); i-- > 0;) {
            engine_archive_get(e, i, &v);
            json_t *j = version_json(&v, running, 1);
            json_object_set_new(j, "action",
                                json_string(v.rollback_of ? "rollback" : "install"));
            json_array_append_new(items, j);
        }
        http_reply_json(r->x, 200,
                        json_pack("{s:o,s:I}", "items", items, "running", (json_int_t)running));
    } else if (engine_archive_find(e, r->kind == API__MODEL_RUNNING ? running : r->version,
                                   &v) == 0) {
        json_t *j = version_json(&v, running, 2);
        if (r->kind == API__MODEL_RUNNING) {
            json_object_set_new(j, "personal", personal_json(e));
            api__model_chat_json(engine_model(e), j);
        }
        http_reply_json(r->x, 200, j);
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
    api__read_fenced(call, model_answer, r);
}
