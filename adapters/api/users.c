/* Users who sign in through a browser (admin only):
 *
 *   PUT    /v1/users/{user}   {"role", "agent"?, "password"} -> 200 {"name", "role", "agent"}
 *   GET    /v1/users          every user, never a verifier
 *   GET    /v1/users/{user}
 *   DELETE /v1/users/{user}   the user and every session of it, on every node
 *
 * The password goes no further than this node: its verifier (verifier.c, a salted scrypt
 * hash) is made in the thread pool (kdf.c) and USER_SET carries that. A new verifier has a
 * new salt, so every PUT replaces the verifier, and the engine then revokes the user's
 * sessions (engine/users.c): a new password, or a new role, signs the user out everywhere. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

struct user_put
{
    struct api__kdf_job job; /* first: kdf.c hands the job back */
    struct http_exchange *x;
    char name[ENGINE_NAME_MAX];
    char agent[ENGINE_NAME_MAX];
    uint8_t role;
    char actor[ENGINE_ACTOR_MAX];
    char *password; /* owned; wiped once hashed */
    size_t len;
    char verifier[ENGINE_VERIFIER_MAX];
    int rv; /* the hash's outcome, written in the pool */
};

static void put_free(struct user_put *p)
{
    if (p->password != NULL) {
        OPENSSL_cleanse(p->password, p->len);
        free(p->password);
    }
    free(p);
}

static json_t *user_json(const struct engine_user_info *u)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "name", u->name, "role",
                     api__role_name(u->role), "agent", u->agent, "sessions",
                     (json_int_t)u->sessions, "created_at", (json_int_t)u->created_at,
                     "updated_at", (json_int_t)u->updated_at, "updated_by", u->updated_by);
}

static void put_answered(void *data, const struct engine_result *res)
{
    struct user_put *p = data;
    if (res->code != 0) {
        api__fail_result(p->x, res);
    } else {
        http_reply_json(p->x, 200,
                        json_pack("{s:s,s:s,s:s}", "name", p->name, "role",
                                  api__role_name(p->role), "agent", p->agent));
    }
    put_free(p);
}

static void put_run(struct api__kdf_job *job)
{
    struct user_put *p = (struct user_put *)job;
    p->rv = api__verifier_make(p->password, p->len, &API__SCRYPT, NULL, p->verifier);
    OPENSSL_cleanse(p->password, p->len);
}

static void put_done(struct api__kdf_job *job, bool stopped)
{
    struct user_put *p = (struct user_put *)job;
    struct engine_command cmd = {.kind = ENGINE_CMD_USER_SET, .actor = p->actor};
    if (stopped || p->rv != 0) {
        api__fail(p->x, stopped ? CD_EUNAVAIL : p->rv,
                  stopped ? "this node is shutting down" : "the password could not be hashed");
        put_free(p);
        return;
    }
    cmd.u.user.name = p->name;
    cmd.u.user.role = p->role;
    cmd.u.user.agent = p->agent;
    cmd.u.user.verifier = p->verifier;
    int rv = cluster_submit(p->job.api->cluster, &cmd, put_answered, p);
    if (rv != 0) {
        api__fail(p->x, rv, NULL);
        put_free(p);
    }
}

/* The body's role and agent into p, answering 400 when one is bad: the rules of a token's
 * (the engine checks that the agent exists). */
static bool role_fields(struct api__call *call, json_t *body, struct user_put *p)
{
    bool bad = false;
    const char *role = api__opt_str(call, body, "role", &bad);
    const char *agent = api__opt_name(call, body, "agent", ENGINE_NAME_MAX, &bad);
    if (bad) {
        return false;
    }
    int r = api__role_parse(role);
    if (r < 0) {
        http_reply_error(call->x, 400, "INVAL",
                         "role: required, one of admin, supervisor, agent, reporter, "
                         "integration");
        return false;
    }
    if ((r == ENGINE_ROLE_AGENT) != (agent != NULL)) {
        http_reply_error(call->x, 400, "INVAL", "agent: %s",
                         agent == NULL ? "role agent needs the agent the user is"
                                       : "only role agent is bound to an agent");
        return false;
    }
    p->role = (uint8_t)r;
    snprintf(p->agent, sizeof(p->agent), "%s", agent != NULL ? agent : "");
    return true;
}

/* The body's password, copied into p; answers 400 when it breaks the policy. */
static bool password_field(struct api__call *call, json_t *body, struct user_put *p)
{
    json_t *v = json_object_get(body, "password");
    if (!json_is_string(v)) {
        http_reply_error(call->x, 400, "INVAL", "password: required, a string");
        return false;
    }
    const char *problem = api__password_problem(json_string_value(v), json_string_length(v));
    if (problem != NULL) {
        http_reply_error(call->x, 400, "INVAL", "%s", problem);
        return false;
    }
    p->len = json_string_length(v);
    if ((p->password = malloc(p->len + 1)) == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return false;
    }
    memcpy(p->password, json_string_value(v), p->len + 1);
    return true;
}

void api__user_put(struct api__call *call)
{
    static const char *const keys[] = {"role", "agent", "password", NULL};
    json_t *body = api__body_with(call, keys);
    struct user_put *p = body != NULL ? calloc(1, sizeof(*p)) : NULL;
    if (body != NULL && p == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
    }
    if (p == NULL || !role_fields(call, body, p) || !password_field(call, body, p)) {
        goto out;
    }
    p->x = call->x;
    p->job = (struct api__kdf_job){.api = call->api, .run = put_run, .done = put_done};
    snprintf(p->name, sizeof(p->name), "%.*s", (int)sizeof(p->name) - 1, call->args[0]);
    snprintf(p->actor, sizeof(p->actor), "%s", call->who.actor);
    if (api__kdf_submit(&p->job) != 0) {
        http_reply_error(call->x, 503, "UNAVAIL",
                         "busy: %d password hashes are waiting already; retry later",
                         API__KDF_WAITING);
        goto out;
    }
    p = NULL;
out:
    if (p != NULL) {
        put_free(p);
    }
    api__body_wipe(body, "password");
}

/* ---- Reads (after a read barrier, unless ?stale=true) ---------------------------------- */

struct users_read
{
    struct api *api;
    struct http_exchange *x;
    char name[ENGINE_NAME_MAX]; /* "" = every user */
};

static void users_answer(void *data, int status)
{
    struct users_read *r = data;
    const struct engine *e = cluster_engine(r->api->cluster);
    struct engine_user_info u;
    if (status != 0) {
        api__fail(r->x, status, "read barrier failed: no leader or it did not answer");
    } else if (r->name[0] != 0) {
        if (engine_user_find(e, r->name, &u) == 0) {
            http_reply_json(r->x, 200, user_json(&u));
        } else {
            http_reply_error(r->x, 404, "NOTFOUND", "user '%s' not found", r->name);
        }
    } else {
        json_t *items = json_array();
        size_t n = engine_user_count(e);
        for (size_t i = 0; i < n; i++) {
            if (engine_user_at(e, i, &u) == 0) {
                json_array_append_new(items, user_json(&u));
            }
        }
        http_reply_json(r->x, 200,
                        json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)n));
    }
    free(r);
}

static void users_read(struct api__call *call, const char *name)
{
    struct users_read *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    r->api = call->api;
    r->x = call->x;
    snprintf(r->name, sizeof(r->name), "%.*s", (int)sizeof(r->name) - 1, name);
    api__read_fenced(call, users_answer, r);
}

void api__user_list(struct api__call *call)
{
    users_read(call, "");
}

void api__user_get(struct api__call *call)
{
    users_read(call, call->args[0]);
}

void api__user_delete(struct api__call *call)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_USER_DELETE};
    cmd.u.user.name = call->args[0];
    api__submit(call, &cmd, 200);
}
