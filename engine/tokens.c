/* API tokens and browser sessions: the bearer credentials the API authenticates against.
 *
 * The engine never sees a secret. The edge draws it, shows it once, and hands the engine
 * its SHA-256; every request's secret is hashed the same way and looked up here
 * (engine_token_find(): a map from the hash's first 8 bytes, then all 32 compared). A
 * token is a name, a role, the agent a token of role AGENT acts as, an expiry and who made
 * it when. A session token is the same thing made by a user's sign-in: it names its user,
 * has the user's role and agent, and goes when the user is deleted or changed (users.c).
 *
 * Expiry is judged by the edge against its own clock: the engine has no clock of its own
 * outside a command, and removing tokens as time passes would need TICKs for nothing. An
 * expired token therefore stays listed until it is revoked. Sessions cannot pile up: a
 * user holds at most ENGINE_USER_SESSIONS_MAX, and a new sign-in revokes that user's
 * oldest first.
 *
 * Tokens are kept in ascending id order (a new one goes at the end; ids are never
 * reused); the two maps, by hash and by name, are derived and rebuilt from them on
 * decode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/hash.h"
#include "engine/internal.h"

/* Every token a state may hold: API tokens and every user's sessions. */
#define TOKENS_ALL (ENGINE_TOKENS_MAX + ENGINE_USERS_MAX * ENGINE_USER_SESSIONS_MAX)

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

static int token_pos(const struct engine *e, uint32_t id)
{
    uint32_t lo = 0, hi = e->n_tokens;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (e->tokens[mid].id == id) {
            return (int)mid;
        }
        if (e->tokens[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

static uint64_t hash_key(const uint8_t *hash)
{
    uint64_t k = 0;
    for (int i = 0; i < 8; i++) {
        k |= (uint64_t)hash[i] << (8 * i);
    }
    return k;
}

struct lookup
{
    const struct engine *e;
    const void *want; /* a hash, or a name */
};

static bool hash_is(const void *ctx, uint32_t id)
{
    const struct lookup *l = ctx;
    int i = token_pos(l->e, id);
    return i >= 0 && memcmp(l->e->tokens[i].hash, l->want, ENGINE_TOKEN_HASH_LEN) == 0;
}

static bool name_is(const void *ctx, uint32_t id)
{
    const struct lookup *l = ctx;
    int i = token_pos(l->e, id);
    return i >= 0 && strcmp(l->e->tokens[i].name, l->want) == 0;
}

static int find_hash(const struct engine *e, const uint8_t *hash)
{
    struct lookup l = {e, hash};
    uint32_t id = 0;
    return engine__map_get(&e->by_hash, hash_key(hash), hash_is, &l, &id) ? token_pos(e, id)
                                                                          : -1;
}

static int find_name(const struct engine *e, const char *name)
{
    struct lookup l = {e, name};
    uint32_t id = 0;
    return engine__map_get(&e->by_token, cd_hash_str(name), name_is, &l, &id) ? token_pos(e, id)
                                                                              : -1;
}

/* Both map entries of t, or (CD_ENOMEM) neither. */
static int index_token(struct engine *e, const struct engine__token *t)
{
    if (engine__map_put(&e->by_hash, hash_key(t->hash), t->id) != 0) {
        return CD_ENOMEM;
    }
    if (engine__map_put(&e->by_token, cd_hash_str(t->name), t->id) != 0) {
        engine__map_del(&e->by_hash, hash_key(t->hash), t->id);
        return CD_ENOMEM;
    }
    return 0;
}

static void unindex_token(struct engine *e, const struct engine__token *t)
{
    engine__map_del(&e->by_hash, hash_key(t->hash), t->id);
    engine__map_del(&e->by_token, cd_hash_str(t->name), t->id);
    if (t->kind == ENGINE_TOKEN_API) {
        e->n_api_tokens--;
        return;
    }
    int u = engine__user_index(e, t->user);
    if (u >= 0 && e->users[u].sessions > 0) {
        e->users[u].sessions--;
    }
}

static void remove_at(struct engine *e, uint32_t i)
{
    unindex_token(e, &e->tokens[i]);
    memmove(&e->tokens[i], &e->tokens[i + 1], (e->n_tokens - i - 1) * sizeof(e->tokens[0]));
    e->n_tokens--;
}

static bool is_session_of(const struct engine__token *t, const char *user)
{
    return t->kind == ENGINE_TOKEN_SESSION && strcmp(t->user, user) == 0;
}

void engine__sessions_revoke(struct engine *e, const char *user)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < e->n_tokens; i++) {
        if (is_session_of(&e->tokens[i], user)) {
            unindex_token(e, &e->tokens[i]);
        } else if (n++ != i) {
            e->tokens[n - 1] = e->tokens[i];
        }
    }
    e->n_tokens = n;
}

/* ---- TOKEN_CREATE ---------------------------------------------------------------------- */

static bool hash_set(const uint8_t *hash)
{
    for (int i = 0; i < ENGINE_TOKEN_HASH_LEN; i++) {
        if (hash[i] != 0) {
            return true;
        }
    }
    return false;
}

/* A session is the user's own sign-in: the user's role and agent, an expiry. */
static int check_session(const struct engine *e,
                         const struct engine_command *cmd,
                         struct engine_result *res)
{
    const char *user = str(cmd->u.token.user);
    if (cmd->u.token.expires_at == 0) {
        return FAIL(res, CD_EINVAL, "expires_at: a session must expire");
    }
    int u = engine__user_index(e, user);
    if (u < 0) {
        return FAIL(res, CD_ENOTFOUND, "user '%s' not found", user);
    }
    if (e->users[u].role != cmd->u.token.role ||
        strcmp(e->users[u].agent, str(cmd->u.token.agent)) != 0) {
        return FAIL(res, CD_ESTATE, "user '%s': role or agent changed since the sign-in began",
                    user);
    }
    return 0;
}

static int check_create(const struct engine *e,
                        const struct engine_command *cmd,
                        struct engine_result *res)
{
    const char *name = str(cmd->u.token.name);
    int64_t expires_at = cmd->u.token.expires_at;
    if (!engine_name_valid(name, ENGINE_NAME_MAX)) {
        return FAIL(res, CD_EINVAL, "name: expected 1-%d %s", ENGINE_NAME_MAX - 1,
                    ENGINE_NAME_CHARSET);
    }
    if (cmd->u.token.kind >= ENGINE_TOKEN_KIND_COUNT) {
        return FAIL(res, CD_EINVAL, "kind: unknown token kind %u", cmd->u.token.kind);
    }
    int rv = engine__role_check(e, cmd->u.token.role, cmd->u.token.agent, res);
    if (rv != 0) {
        return rv;
    }
    if (!hash_set(cmd->u.token.hash)) {
        return FAIL(res, CD_EINVAL, "hash: not set");
    }
    if (expires_at != 0 && expires_at <= e->clock) {
        return FAIL(res, CD_EINVAL, "expires_at: %lld is not later than now (%lld)",
                    (long long)expires_at, (long long)e->clock);
    }
    bool session = cmd->u.token.kind == ENGINE_TOKEN_SESSION;
    if (!session && str(cmd->u.token.user)[0] != 0) {
        return FAIL(res, CD_EINVAL, "user: only a session names a user");
    }
    if (session && (rv = check_session(e, cmd, res)) != 0) {
        return rv;
    }
    if (!session && e->n_api_tokens >= ENGINE_TOKENS_MAX) {
        return FAIL(res, CD_ETOOBIG, "at most %d API tokens", ENGINE_TOKENS_MAX);
    }
    if (e->next_token == UINT32_MAX) {
        return FAIL(res, CD_ETOOBIG, "token ids are used up");
    }
    if (find_name(e, name) >= 0) {
        return FAIL(res, CD_EEXISTS, "token '%s' exists", name);
    }
    if (find_hash(e, cmd->u.token.hash) >= 0) {
        return FAIL(res, CD_EEXISTS, "token '%s': another token has the same hash", name);
    }
    return 0;
}

/* Makes room for one more session of user u: its oldest go first. */
static void make_room(struct engine *e, int u)
{
    for (uint32_t i = 0; i < e->n_tokens && e->users[u].sessions >= ENGINE_USER_SESSIONS_MAX;) {
        if (is_session_of(&e->tokens[i], e->users[u].name)) {
            remove_at(e, i);
        } else {
            i++;
        }
    }
}

static int create(struct engine *e, const struct engine_command *cmd, struct engine_result *res)
{
    int rv = check_create(e, cmd, res);
    if (rv != 0) {
        return rv;
    }
    struct engine__token t = {.id = e->next_token + 1,
                              .kind = cmd->u.token.kind,
                              .role = cmd->u.token.role,
                              .created_at = e->clock,
                              .expires_at = cmd->u.token.expires_at};
    memcpy(t.hash, cmd->u.token.hash, sizeof(t.hash));
    snprintf(t.name, sizeof(t.name), "%s", cmd->u.token.name);
    snprintf(t.agent, sizeof(t.agent), "%s", str(cmd->u.token.agent));
    snprintf(t.user, sizeof(t.user), "%s", str(cmd->u.token.user));
    snprintf(t.created_by, sizeof(t.created_by), "%s", str(cmd->actor));
    if (GROW(e->tokens, e->cap_tokens, e->n_tokens + 1) != 0 || index_token(e, &t) != 0) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    if (t.kind == ENGINE_TOKEN_SESSION) {
        int u = engine__user_index(e, t.user);
        make_room(e, u);
        e->users[u].sessions++;
    } else {
        e->n_api_tokens++;
    }
    e->tokens[e->n_tokens++] = t;
    e->next_token = t.id;
    res->contact = t.id;
    return 0;
}

static int revoke(struct engine *e, const struct engine_command *cmd, struct engine_result *res)
{
    uint32_t id = cmd->u.token.id;
    int i = id != 0 ? token_pos(e, id) : find_name(e, str(cmd->u.token.name));
    if (i < 0 && id != 0) {
        return FAIL(res, CD_ENOTFOUND, "token %u not found", id);
    }
    if (i < 0) {
        return FAIL(res, CD_ENOTFOUND, "token '%s' not found", str(cmd->u.token.name));
    }
    snprintf(e->revoked, sizeof(e->revoked), "%s", e->tokens[i].name);
    res->contact = e->tokens[i].id;
    remove_at(e, (uint32_t)i);
    return 0;
}

int engine__cmd_token(struct engine *e,
                      const struct engine_command *cmd,
                      struct engine_result *res)
{
    return cmd->kind == ENGINE_CMD_TOKEN_CREATE ? create(e, cmd, res) : revoke(e, cmd, res);
}

/* ---- Queries -------------------------------------------------------------------------- */

size_t engine_token_count(const struct engine *e)
{
    return e->n_tokens;
}

int engine_token_at(const struct engine *e, size_t i, struct engine_token_info *out)
{
    if (i >= e->n_tokens) {
        return CD_ENOTFOUND;
    }
    const struct engine__token *t = &e->tokens[i];
    *out = (struct engine_token_info){.id = t->id,
                                      .kind = t->kind,
                                      .role = t->role,
                                      .name = t->name,
                                      .agent = t->agent,
                                      .user = t->user,
                                      .created_by = t->created_by,
                                      .created_at = t->created_at,
                                      .expires_at = t->expires_at};
    return 0;
}

int engine_token_get(const struct engine *e, uint32_t id, struct engine_token_info *out)
{
    int i = token_pos(e, id);
    return i < 0 ? CD_ENOTFOUND : engine_token_at(e, (size_t)i, out);
}

int engine_token_find(const struct engine *e,
                      const uint8_t *hash,
                      struct engine_token_info *out)
{
    int i = hash != NULL ? find_hash(e, hash) : -1;
    return i < 0 ? CD_ENOTFOUND : engine_token_at(e, (size_t)i, out);
}

/* ---- Snapshot ------------------------------------------------------------------------- */

void engine__tokens_encode(const struct engine *e, struct cd_buf *b)
{
    cd_buf_uvar(b, e->next_token);
    cd_buf_uvar(b, e->n_tokens);
    for (uint32_t i = 0; i < e->n_tokens; i++) {
        const struct engine__token *t = &e->tokens[i];
        cd_buf_uvar(b, t->id);
        cd_buf_u8(b, t->kind);
        cd_buf_u8(b, t->role);
        cd_buf_put(b, t->hash, sizeof(t->hash));
        cd_buf_str(b, t->name);
        cd_buf_str(b, t->agent);
        cd_buf_str(b, t->user);
        cd_buf_str(b, t->created_by);
        cd_buf_svar(b, t->created_at);
        cd_buf_svar(b, t->expires_at);
    }
}

static void get_token(struct cd_reader *r, struct engine__token *t)
{
    memset(t, 0, sizeof(*t));
    t->id = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    t->kind = cd_rd_u8(r);
    t->role = cd_rd_u8(r);
    const uint8_t *hash = cd_rd_bytes(r, ENGINE_TOKEN_HASH_LEN);
    if (hash != NULL) {
        memcpy(t->hash, hash, ENGINE_TOKEN_HASH_LEN);
    }
    cd_rd_strcpy(r, t->name, sizeof(t->name));
    cd_rd_strcpy(r, t->agent, sizeof(t->agent));
    cd_rd_strcpy(r, t->user, sizeof(t->user));
    cd_rd_strcpy(r, t->created_by, sizeof(t->created_by));
    t->created_at = cd_rd_svar(r);
    t->expires_at = cd_rd_svar(r);
}

/* What TOKEN_CREATE would have made, after the tokens before it: a new id, name and hash;
 * a session of a user there is. */
static bool token_valid(const struct engine *e, const struct engine__token *t)
{
    bool session = t->kind == ENGINE_TOKEN_SESSION;
    uint32_t prev = e->n_tokens > 0 ? e->tokens[e->n_tokens - 1].id : 0;
    return t->id > prev && t->id <= e->next_token && t->kind < ENGINE_TOKEN_KIND_COUNT &&
           t->role < ENGINE_ROLE_COUNT &&
           (t->agent[0] != 0) == (t->role == ENGINE_ROLE_AGENT) &&
           engine_name_valid(t->name, ENGINE_NAME_MAX) && hash_set(t->hash) &&
           (session ? engine__user_index(e, t->user) >= 0 && t->expires_at != 0
                    : t->user[0] == 0) &&
           find_name(e, t->name) < 0 && find_hash(e, t->hash) < 0;
}

int engine__tokens_decode(struct engine *e, struct cd_reader *r)
{
    e->next_token = (uint32_t)cd_rd_uint(r, UINT32_MAX);
    uint32_t n = (uint32_t)cd_rd_uint(r, TOKENS_ALL);
    if (r->err != 0 || (n > 0 && GROW(e->tokens, e->cap_tokens, n) != 0)) {
        return r->err != 0 ? CD_ECORRUPT : CD_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct engine__token *t = &e->tokens[i];
        get_token(r, t);
        if (r->err != 0 || !token_valid(e, t)) {
            return CD_ECORRUPT;
        }
        if (index_token(e, t) != 0) {
            return CD_ENOMEM;
        }
        e->n_tokens++;
        if (t->kind == ENGINE_TOKEN_SESSION) {
            e->users[engine__user_index(e, t->user)].sessions++;
        } else if (++e->n_api_tokens > ENGINE_TOKENS_MAX) {
            return CD_ECORRUPT;
        }
    }
    return 0;
}

void engine__tokens_free(struct engine *e)
{
    cd_free(e->tokens);
    e->tokens = NULL;
    e->n_tokens = e->cap_tokens = e->n_api_tokens = 0;
    engine__map_close(&e->by_hash);
    engine__map_close(&e->by_token);
}

/* ---- Invariants ----------------------------------------------------------------------- */

static int check_fail(char *err, size_t errlen, const char *what, uint32_t id)
{
    snprintf(err, errlen, "token %u: %s", id, what);
    return CD_ECORRUPT;
}

int engine__principals_check(const struct engine *e, char *err, size_t errlen)
{
    uint32_t *sessions = cd_calloc(e->n_users + 1, sizeof(*sessions));
    uint32_t api = 0;
    int rv = 0;
    if (sessions == NULL) {
        return CD_ENOMEM;
    }
    for (uint32_t i = 0; i < e->n_tokens && rv == 0; i++) {
        const struct engine__token *t = &e->tokens[i];
        int u = engine__user_index(e, t->user);
        if ((i > 0 && t->id <= e->tokens[i - 1].id) || t->id > e->next_token) {
            rv = check_fail(err, errlen, "ids out of order", t->id);
        } else if (find_hash(e, t->hash) != (int)i || find_name(e, t->name) != (int)i) {
            rv = check_fail(err, errlen, "not found by its hash or name", t->id);
        } else if (t->kind == ENGINE_TOKEN_SESSION && u < 0) {
            rv = check_fail(err, errlen, "a session of no user", t->id);
        }
        api += t->kind == ENGINE_TOKEN_API;
        sessions[u < 0 ? e->n_users : (uint32_t)u] += t->kind == ENGINE_TOKEN_SESSION;
    }
    for (uint32_t u = 0; u < e->n_users && rv == 0; u++) {
        if ((u > 0 && strcmp(e->users[u - 1].name, e->users[u].name) >= 0) ||
            sessions[u] != e->users[u].sessions) {
            snprintf(err, errlen, "user '%s': out of order or miscounted sessions",
                     e->users[u].name);
            rv = CD_ECORRUPT;
        }
    }
    if (rv == 0 && (api != e->n_api_tokens || e->by_hash.n != e->n_tokens ||
                    e->by_token.n != e->n_tokens)) {
        snprintf(err, errlen, "tokens: %u API tokens counted %u, maps hold %u and %u", api,
                 e->n_api_tokens, e->by_hash.n, e->by_token.n);
        rv = CD_ECORRUPT;
    }
    cd_free(sessions);
    return rv;
}
