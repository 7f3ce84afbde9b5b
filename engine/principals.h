/* Principals: API tokens and users. Part of the engine's public interface: engine.h
 * includes it at this place, after everything it uses; include engine/engine.h, not this. */
#ifndef CD_ENGINE_PRINCIPALS_H
#define CD_ENGINE_PRINCIPALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Principals: API tokens and users (tokens.c, users.c) ---------------------------- */

/* Tokens and users are replicated state, so that every node authenticates a request the
 * same way. The engine stores and looks up bytes only: the edge (the API) draws a token's
 * secret, hashes it (SHA-256) and hands the engine the hash; it computes a user's password
 * verifier and later checks a password against it. Neither a hash nor a verifier is ever
 * in an effect.
 *
 * TOKEN_CREATE (name, kind, role, agent, user, expires_at, hash):
 *   - name: 1..ENGINE_NAME_MAX-1 characters of engine_name_valid(), unique among the tokens
 *     (CD_EEXISTS); hash: not all zero, unique among the tokens (CD_EEXISTS);
 *   - role AGENT needs an agent, which must be defined now (not deleted), else
 *     CD_ENOTFOUND; any other role with an agent is CD_EINVAL. A token whose agent is
 *     deleted later stays, and acts as an agent that is not there;
 *   - expires_at: 0 (never) or later than the command's time, else CD_EINVAL. Expiry is
 *     the edge's to judge against its clock: an expired token is kept until revoked;
 *   - kind API: user must be ""; at most ENGINE_TOKENS_MAX (CD_ETOOBIG);
 *   - kind SESSION (a sign-in): user must name a user (CD_ENOTFOUND), the role and agent
 *     must be the user's own (CD_ESTATE: the user changed since the password was checked)
 *     and expires_at is required. A user holds at most ENGINE_USER_SESSIONS_MAX sessions:
 *     a new one revokes that user's oldest (lowest id) first;
 *   - the result's `contact` is the new token's id (1, 2, 3, ...; never reused);
 *     created_at is the command's time and created_by its actor.
 * TOKEN_REVOKE (id, or name when id is 0): the token is gone from that log index on;
 *   unknown: CD_ENOTFOUND. The result's `contact` is its id.
 * USER_SET (name, role, agent, verifier): creates the user or replaces its role, agent and
 *   verifier. name as a token's; role and agent as for a token; verifier: 1..
 *   ENGINE_VERIFIER_MAX-1 visible ASCII bytes (engine_visible_valid()), opaque to the
 *   engine. At most ENGINE_USERS_MAX users (CD_ETOOBIG). Replacing the role, the agent or
 *   the verifier revokes every session of the user (a demotion or a new password signs
 *   the user out everywhere); setting the same values again keeps them.
 * USER_DELETE (name): the user and every session of it are gone; unknown: CD_ENOTFOUND. */
#define ENGINE_TOKENS_MAX 4096     /* API tokens */
#define ENGINE_USERS_MAX 8192      /* users */
#define ENGINE_USER_SESSIONS_MAX 8 /* session tokens of one user */
#define ENGINE_VERIFIER_MAX 256    /* a password verifier (with NUL) */

/* A token as GET /v1/tokens shows it: everything but its hash. */
struct engine_token_info
{
    uint32_t id;
    uint8_t kind; /* enum engine_token_kind */
    uint8_t role; /* enum engine_role */
    const char *name;
    const char *agent;      /* "" = none */
    const char *user;       /* SESSION: the user; "" for an API token */
    const char *created_by; /* the actor of its TOKEN_CREATE; "" = the node */
    int64_t created_at;
    int64_t expires_at; /* 0 = never; the edge refuses the token from then on */
};

struct engine_user_info
{
    const char *name;
    uint8_t role;
    const char *agent;    /* "" = none */
    const char *verifier; /* for the edge's password check only: never shown */
    const char *updated_by;
    int64_t created_at;
    int64_t updated_at;
    uint32_t sessions; /* session tokens held now */
};

/* Every token, API and session alike, in ascending id order: by position (0..count-1) and
 * by id. Returns 0 or CD_ENOTFOUND; strings are borrowed until the next command. */
size_t engine_token_count(const struct engine *e);
int engine_token_at(const struct engine *e, size_t i, struct engine_token_info *out);
int engine_token_get(const struct engine *e, uint32_t id, struct engine_token_info *out);
/* The token whose hash is hash (ENGINE_TOKEN_HASH_LEN bytes): what the edge calls on every
 * request, with the SHA-256 of the secret presented. O(1). Returns 0 or CD_ENOTFOUND. An
 * expired token is still found: compare expires_at with the clock. */
int engine_token_find(const struct engine *e,
                      const uint8_t *hash,
                      struct engine_token_info *out);

/* Users in ascending order of name (strcmp): by position (0..count-1) and by name. Returns
 * 0 or CD_ENOTFOUND; strings are borrowed until the next command. */
size_t engine_user_count(const struct engine *e);
int engine_user_at(const struct engine *e, size_t i, struct engine_user_info *out);
int engine_user_find(const struct engine *e, const char *name, struct engine_user_info *out);

#endif
