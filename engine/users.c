/* Users who sign in through a browser: a name, a role, the agent a user of role AGENT is,
 * and the password verifier the edge made ("scrypt$N$r$p$salt$hash", opaque here).
 *
 * A sign-in is a session token (tokens.c) naming its user. Because a session is only as
 * good as the password and the role it was granted under, USER_SET revokes the user's
 * sessions when it changes the role, the agent or the verifier, and USER_DELETE revokes
 * them with the user: from that log index on, every node refuses them alike.
 *
 * Users are kept sorted by name, so a lookup is a binary search and GET /v1/users lists
 * them in a stable order without sorting. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "engine/internal.h"

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

int engine__role_check(const struct engine *e,
                       uint8_t role,
                       const char *agent,
                       struct engine_result *res)
{
    bool has_agent = agent != NULL && agent[0] != 0;
    if (role >= ENGINE_ROLE_COUNT) {
        return FAIL(res, CD_EINVAL, "role: unknown role %u", role);
    }
    if (role != ENGINE_ROLE_AGENT) {
        return has_agent ? FAIL(res, CD_EINVAL, "agent: only role agent is bound to an agent")
                         : 0;
    }
    if (!has_agent) {
        return FAIL(res, CD_EINVAL, "agent: role agent needs the agent it acts as");
    }
    int ai = engine__agent_id(e, agent);
    if (ai < 0 || e->agents[ai].deleted) {
        return FAIL(res, CD_ENOTFOUND, "agent '%s' not found", agent);
    }
    return 0;
}

/* The position of name among the users; when it is not there, where it would go. */
static uint32_t user_pos(const struct engine *e, const char *name, bool *found)
{
    uint32_t lo = 0, hi = e->n_users;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(e->users[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

int engine__user_index(const struct engine *e, const char *name)
{
    bool found = false;
    uint32_t i = user_pos(e, str(name), &found);
    return found ? (int)i : -1;
}

static int check_set(const struct engine *e,
                     const struct engine_command *cmd,
                     struct engine_result *res)
{
    if (!engine_name_valid(str(cmd->u.user.name), ENGINE_NAME_MAX)) {
        return FAIL(res, CD_EINVAL, "name: expected 1-%d %s", ENGINE_NAME_MAX - 1,
                    ENGINE_NAME_CHARSET);
    }
    if (!engine_visible_valid(str(cmd->u.user.verifier), ENGINE_VERIFIER_MAX)) {
        return FAIL(res, CD_EINVAL, "verifier: expected 1-%d visible ASCII characters",
                    ENGINE_VERIFIER_MAX - 1);
    }
    return engine__role_check(e, cmd->u.user.role, cmd->u.user.agent, res);
}

/* A new user at position i, with room made for it beforehand. */
static struct engine__user *insert(struct engine *e, uint32_t i, const char *name)
{
    memmove(&e->users[i + 1], &e->users[i], (e->n_users - i) * sizeof(e->users[0]));
    struct engine__user *u = &e->users[i];
    memset(u, 0, sizeof(*u));
    snprintf(u->name, sizeof(u->name), "%s", name);
    u->created_at = e->clock;
    e->n_users++;
    return u;
}

static int user_set(struct engine *e,
                    const struct engine_command *cmd,
                    struct engine_result *res)
{
    int rv = check_set(e, cmd, res);
    if (rv != 0) {
        return rv;
    }
    bool found = false;
    const char *agent = str(cmd->u.user.agent);
    uint32_t i = user_pos(e, cmd->u.user.name, &found);
    if (!found && e->n_users == ENGINE_USERS_MAX) {
        return FAIL(res, CD_ETOOBIG, "at most %d users", ENGINE_USERS_MAX);
    }
    if (!found && GROW(e->users, e->cap_users, e->n_users + 1) != 0) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    char *verifier = cd_strdup(cmd->u.user.verifier);
    if (verifier == NULL) {
        return FAIL(res, CD_ENOMEM, "out of memory");
    }
    struct engine__user *u = found ? &e->users[i] : insert(e, i, cmd->u.user.name);
    if (found && (u->role != cmd->u.user.role || strcmp(u->agent, agent) != 0 ||
                  strcmp(u->verifier, verifier) != 0)) {
        engine__sessions_revoke(e, u->name);
    }
    cd_free(u->verifier);
    u->verifier = verifier;
    u->role = cmd->u.user.role;
    snprintf(u->agent, sizeof(u->agent), "%s", agent);
    snprintf(u->updated_by, sizeof(u->updated_by), "%s", str(cmd->actor));
    u->updated_at = e->clock;
    return 0;
}

static int user_delete(struct engine *e,
                       const struct engine_command *cmd,
                       struct engine_result *res)
{
    int i = engine__user_index(e, cmd->u.user.name);
    if (i < 0) {
        return FAIL(res, CD_ENOTFOUND, "user '%s' not found", str(cmd->u.user.name));
    }
    engine__sessions_revoke(e, e->users[i].name);
    cd_free(e->users[i].verifier);
    memmove(&e->users[i], &e->users[i + 1],
            (e->n_users - (uint32_t)i - 1) * sizeof(e->users[0]));
    e->n_users--;
    return 0;
}

int engine__cmd_user(struct engine *e,
                     const struct engine_command *cmd,
                     struct engine_result *res)
{
    return cmd->kind == ENGINE_CMD_USER_SET ? user_set(e, cmd, res) : user_delete(e, cmd, res);
}

/* ---- Queries -------------------------------------------------------------------------- */

size_t engine_user_count(const struct engine *e)
{
    return e->n_users;
}

int engine_user_at(const struct engine *e, size_t i, struct engine_user_info *out)
{
    if (i >= e->n_users) {
        return CD_ENOTFOUND;
    }
    const struct engine__user *u = &e->users[i];
    *out = (struct engine_user_info){.name = u->name,
                                     .role = u->role,
                                     .agent = u->agent,
                                     .verifier = u->verifier,
                                     .updated_by = u->updated_by,
                                     .created_at = u->created_at,
                                     .updated_at = u->updated_at,
                                     .sessions = u->sessions};
    return 0;
}

int engine_user_find(const struct engine *e, const char *name, struct engine_user_info *out)
{
    int i = engine__user_index(e, name);
    return i < 0 ? CD_ENOTFOUND : engine_user_at(e, (size_t)i, out);
}

/* ---- Snapshot ------------------------------------------------------------------------- */

void engine__users_encode(const struct engine *e, struct cd_buf *b)
{
    cd_buf_uvar(b, e->n_users);
    for (uint32_t i = 0; i < e->n_users; i++) {
        const struct engine__user *u = &e->users[i];
        cd_buf_str(b, u->name);
        cd_buf_u8(b, u->role);
        cd_buf_str(b, u->agent);
        cd_buf_str(b, u->verifier);
        cd_buf_svar(b, u->created_at);
        cd_buf_svar(b, u->updated_at);
        cd_buf_str(b, u->updated_by);
    }
}

/* What USER_SET would have accepted, in ascending order of names. */
static bool user_valid(const struct engine *e, uint32_t i)
{
    const struct engine__user *u = &e->users[i];
    bool agent_bound = u->agent[0] != 0;
    return engine_name_valid(u->name, ENGINE_NAME_MAX) &&
           (i == 0 || strcmp(e->users[i - 1].name, u->name) < 0) &&
           u->role < ENGINE_ROLE_COUNT && agent_bound == (u->role == ENGINE_ROLE_AGENT) &&
           engine_visible_valid(u->verifier, ENGINE_VERIFIER_MAX);
}

int engine__users_decode(struct engine *e, struct cd_reader *r)
{
    uint32_t n = (uint32_t)cd_rd_uint(r, ENGINE_USERS_MAX);
    if (r->err != 0 || (n > 0 && GROW(e->users, e->cap_users, n) != 0)) {
        return r->err != 0 ? CD_ECORRUPT : CD_ENOMEM;
    }
    for (uint32_t i = 0; i < n && r->err == 0; i++) {
        struct engine__user *u = &e->users[i];
        memset(u, 0, sizeof(*u));
        e->n_users++; /* released with the rest if what follows is bad */
        cd_rd_strcpy(r, u->name, sizeof(u->name));
        u->role = cd_rd_u8(r);
        cd_rd_strcpy(r, u->agent, sizeof(u->agent));
        size_t len = 0;
        const char *verifier = cd_rd_str(r, &len);
        u->created_at = cd_rd_svar(r);
        u->updated_at = cd_rd_svar(r);
        cd_rd_strcpy(r, u->updated_by, sizeof(u->updated_by));
        if (r->err != 0 || len >= ENGINE_VERIFIER_MAX) {
            return CD_ECORRUPT;
        }
        if ((u->verifier = cd_strdup(verifier)) == NULL) {
            return CD_ENOMEM;
        }
        if (!user_valid(e, i)) {
            return CD_ECORRUPT;
        }
    }
    return r->err != 0 ? CD_ECORRUPT : 0;
}

void engine__users_free(struct engine *e)
{
    for (uint32_t i = 0; i < e->n_users; i++) {
        cd_free(e->users[i].verifier);
    }
    cd_free(e->users);
    e->users = NULL;
    e->n_users = e->cap_users = 0;
}
