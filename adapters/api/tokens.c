/* API tokens: made, listed and revoked by an admin; and the first admin token, which the
 * node makes itself.
 *
 *   POST   /v1/tokens         {"name", "role", "agent"?, "expires_at"?} -> 201 with "token"
 *   GET    /v1/tokens         every token (API tokens and browser sessions), never a secret
 *   DELETE /v1/tokens/{id}    revoked on every node from the index of the revocation
 *   GET    /v1/whoami         the principal of the token presented
 *
 * The secret is drawn here, shown once in the answer to POST and never kept: the replicated
 * state holds its SHA-256 only.
 *
 * The first token. A cluster that holds no API token at all cannot be administered, so its
 * leader makes one: it draws a token, writes it to DATA_DIR/admin.token.new (mode 0600),
 * proposes it (name "bootstrap-admin", role admin) and, once it is committed, renames the
 * file to DATA_DIR/admin.token and says so in its log. A leader that dies in between leaves
 * the .new file: the next check finds its token in the state (and renames it) or proposes
 * it again. The same happens whenever every API token has been revoked: the operator with
 * root on the leader's host can always get back in, and nobody else can. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "common/log.h"

#define BOOTSTRAP_NAME "bootstrap-admin"
#define BOOTSTRAP_CHECK_MS 1000

struct api__tokens
{
    struct api *api;
    uv_timer_t timer;
    char path[CONFIG_PATH_MAX + 16];    /* DATA_DIR/admin.token */
    char pending[CONFIG_PATH_MAX + 16]; /* DATA_DIR/admin.token.new */
    bool in_flight;
    bool started;
};

/* ---- Routes ------------------------------------------------------------------------- */

struct made
{
    struct http_exchange *x;
    char token[API__TOKEN_MAX];
};

static void created(void *data, const struct engine_result *res)
{
    struct made *m = data;
    if (res->code != 0) {
        api__fail_result(m->x, res);
    } else {
        http_reply_json(
            m->x, 201,
            json_pack("{s:I,s:s,s:s}", "id", (json_int_t)res->contact, "token", m->token,
                      "note", "shown once: keep it now; the cluster keeps only its hash"));
    }
    OPENSSL_cleanse(m->token, sizeof(m->token));
    free(m);
}

/* The body's role, agent and expiry into cmd; answers 400 when one is bad. */
static bool token_fields(struct api__call *call, json_t *body, struct engine_command *cmd)
{
    bool bad = false;
    const char *role = api__opt_str(call, body, "role", &bad);
    json_t *expires = json_object_get(body, "expires_at");
    cmd->u.token.name = api__opt_name(call, body, "name", ENGINE_NAME_MAX, &bad);
    cmd->u.token.agent = api__opt_name(call, body, "agent", ENGINE_NAME_MAX, &bad);
    if (bad) {
        return false;
    }
    if (cmd->u.token.name == NULL || role == NULL) {
        http_reply_error(call->x, 400, "INVAL", "name and role: required");
        return false;
    }
    int r = api__role_parse(role);
    if (r < 0) {
        http_reply_error(call->x, 400, "INVAL",
                         "role: '%s' is none of admin, supervisor, agent, reporter, "
                         "integration",
                         role);
        return false;
    }
    if (expires != NULL && (!json_is_integer(expires) || json_integer_value(expires) <= 0)) {
        http_reply_error(call->x, 400, "INVAL",
                         "expires_at: a time in ms since the epoch (UTC), or absent: never");
        return false;
    }
    cmd->u.token.role = (uint8_t)r;
    cmd->u.token.expires_at = expires != NULL ? json_integer_value(expires) : 0;
    cmd->u.token.agent = cmd->u.token.agent != NULL ? cmd->u.token.agent : "";
    return true;
}

void api__token_create(struct api__call *call)
{
    static const char *const keys[] = {"name", "role", "agent", "expires_at", NULL};
    struct engine_command cmd = {.kind = ENGINE_CMD_TOKEN_CREATE, .actor = call->who.actor};
    json_t *body = api__body_with(call, keys);
    struct made *m = NULL;
    if (body == NULL || !token_fields(call, body, &cmd)) {
        goto out;
    }
    cmd.u.token.kind = ENGINE_TOKEN_API;
    cmd.u.token.user = "";
    if ((m = calloc(1, sizeof(*m))) == NULL ||
        api__token_new(m->token, cmd.u.token.hash) != 0) {
        api__fail(call->x, m == NULL ? CD_ENOMEM : CD_EIO, NULL);
        goto out;
    }
    m->x = call->x;
    int rv = cluster_submit(call->api->cluster, &cmd, created, m);
    if (rv != 0) {
        api__fail(call->x, rv, NULL);
        goto out;
    }
    m = NULL;
out:
    if (m != NULL) {
        OPENSSL_cleanse(m->token, sizeof(m->token));
        free(m);
    }
    json_decref(body);
}

static json_t *token_json(const struct engine_token_info *t)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "id", (json_int_t)t->id, "name",
                     t->name, "kind", engine_token_kind_name(t->kind), "role",
                     api__role_name(t->role), "agent", t->agent, "user", t->user, "created_by",
                     t->created_by, "created_at", (json_int_t)t->created_at, "expires_at",
                     (json_int_t)t->expires_at);
}

void api__token_list(struct api__call *call)
{
    const struct engine *e = cluster_engine(call->api->cluster);
    json_t *items = json_array();
    size_t n = engine_token_count(e);
    for (size_t i = 0; i < n; i++) {
        struct engine_token_info t;
        if (engine_token_at(e, i, &t) == 0) {
            json_array_append_new(items, token_json(&t));
        }
    }
    http_reply_json(call->x, 200,
                    json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)n));
}

void api__token_revoke(struct api__call *call)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_TOKEN_REVOKE};
    if (call->ids[0] > UINT32_MAX) {
        http_reply_error(call->x, 404, "NOTFOUND", "no token %llu",
                         (unsigned long long)call->ids[0]);
        return;
    }
    cmd.u.token.id = (uint32_t)call->ids[0];
    cmd.u.token.name = "";
    api__submit(call, &cmd, 200);
}

void api__whoami(struct api__call *call)
{
    const struct api__principal *w = &call->who;
    http_reply_json(call->x, 200,
                    json_pack("{s:s,s:s,s:s,s:s,s:I}", "actor", w->actor, "name", w->name,
                              "role", api__role_name(w->role), "agent", w->agent, "token_id",
                              (json_int_t)w->token_id));
}

/* ---- The first admin token ---------------------------------------------------------- */

/* Reads the pending file's token into out; false when there is none. */
static bool read_pending(const char *path, char out[API__TOKEN_MAX])
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    bool ok = fgets(out, API__TOKEN_MAX, f) != NULL;
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return ok && out[0] != '\0';
}

static int write_pending(const char *path, const char *token)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return CD_EIO;
    }
    size_t len = strlen(token);
    bool ok =
        write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    return ok ? 0 : CD_EIO;
}

static void settle(struct api__tokens *t)
{
    if (rename(t->pending, t->path) != 0) {
        cd_logf(CD_LOG_ERROR, "bootstrap", "cannot rename '%s' to '%s': %s", t->pending,
                t->path, strerror(errno));
        return;
    }
    cd_log(CD_LOG_WARN, "bootstrap", "file", t->path, "msg",
           "the first admin token is in this file on this node; make named tokens with it "
           "(contactctl token create) and revoke it",
           NULL);
}

static void proposed(void *data, const struct engine_result *res)
{
    struct api__tokens *t = data;
    t->in_flight = false;
    if (res->code == 0) {
        settle(t);
    } else if (res->code != CD_EUNAVAIL && res->code != CD_ETIMEDOUT) {
        cd_logf(CD_LOG_WARN, "bootstrap", "the first admin token was refused: %s",
                res->message[0] != '\0' ? res->message : cd_strerror(res->code));
        unlink(t->pending);
    }
}

static void propose(struct api__tokens *t, const char *token)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_TOKEN_CREATE};
    cmd.u.token.name = BOOTSTRAP_NAME;
    cmd.u.token.kind = ENGINE_TOKEN_API;
    cmd.u.token.role = ENGINE_ROLE_ADMIN;
    cmd.u.token.agent = "";
    cmd.u.token.user = "";
    api__token_hash(token, cmd.u.token.hash);
    if (cluster_submit(t->api->cluster, &cmd, proposed, t) == 0) {
        t->in_flight = true;
    }
}

/* No API token at all: make the first one (see the top of this file). */
static bool without_tokens(const struct engine *e)
{
    size_t n = engine_token_count(e);
    for (size_t i = 0; i < n; i++) {
        struct engine_token_info info;
        if (engine_token_at(e, i, &info) == 0 && info.kind == ENGINE_TOKEN_API) {
            return false;
        }
    }
    return true;
}

static void check(uv_timer_t *timer)
{
    struct api__tokens *t = timer->data;
    struct cluster *c = t->api->cluster;
    char token[API__TOKEN_MAX];
    uint8_t hash[ENGINE_TOKEN_HASH_LEN];
    struct engine_token_info info;

    if (c == NULL || t->in_flight || t->api->closing) {
        return;
    }
    const struct engine *e = cluster_engine(c);
    bool none = without_tokens(e);
    if (read_pending(t->pending, token)) {
        api__token_hash(token, hash);
        if (engine_token_find(e, hash, &info) == 0) {
            settle(t);
        } else if (!none) {
            unlink(t->pending); /* another member's first token won */
        } else if (cluster_is_leader(c)) {
            propose(t, token);
        }
    } else if (none && cluster_is_leader(c) && api__token_new(token, hash) == 0) {
        if (write_pending(t->pending, token) == 0) {
            propose(t, token);
        } else {
            cd_logf(CD_LOG_ERROR, "bootstrap", "cannot write '%s': %s", t->pending,
                    strerror(errno));
        }
    }
    OPENSSL_cleanse(token, sizeof(token));
}

int api__tokens_new(struct api *a)
{
    struct api__tokens *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return CD_ENOMEM;
    }
    t->api = a;
    a->tokens = t;
    return 0;
}

int api_set_data_dir(struct api *a, const char *dir)
{
    struct api__tokens *t = a->tokens;
    if ((size_t)snprintf(t->path, sizeof(t->path), "%s/admin.token", dir) >= sizeof(t->path) ||
        (size_t)snprintf(t->pending, sizeof(t->pending), "%s/admin.token.new", dir) >=
            sizeof(t->pending)) {
        return CD_EINVAL;
    }
    uv_timer_init(a->loop, &t->timer);
    t->timer.data = t;
    t->started = true;
    uv_timer_start(&t->timer, check, BOOTSTRAP_CHECK_MS / 4, BOOTSTRAP_CHECK_MS);
    return 0;
}

void api__tokens_stop(struct api__tokens *t)
{
    if (t->started) {
        t->started = false;
        uv_close((uv_handle_t *)&t->timer, NULL);
    }
}

/* After the cluster has closed: a proposal in flight has had its answer by then. */
void api__tokens_free(struct api__tokens *t)
{
    free(t);
}
