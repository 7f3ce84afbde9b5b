/* Browser sessions:
 *
 *   POST   /v1/session   {"user", "password"} -> 200 {"user", "role", "agent", "expires_at"}
 *                        and the session cookie (public: this is how one gets a credential)
 *   GET    /v1/session   the principal, as /v1/whoami shows it, with its session's user and
 *                        expiry
 *   DELETE /v1/session   signs out: the session's token is revoked on every node, and the
 *                        cookie cleared
 *
 * A sign-in, in order: the body is checked (400), then the cross-site header (403, as for
 * any change made with the cookie: auth.c), then the rate limit of the user name and of the
 * client's address (429, throttle.c). The attempt is counted against both, the node catches
 * up with the leader (a user made a moment ago through another node is known then), and the
 * password is checked in the thread pool against the user's verifier, or against a dummy
 * one when there is no such user: both cost one scrypt hash, so the time of the answer does
 * not tell whether the user exists, and neither does the answer (401 either way). A right
 * password proposes a session token (TOKEN_CREATE, kind SESSION) with the user's role and
 * agent as they were when it was checked; the engine refuses it (409) when they have changed
 * since. The token goes to the browser as the cookie only; the cluster keeps its hash.
 *
 * Every refusal is logged at warn and every sign-in at info: event=signin user=... addr=...
 * outcome=...; never a password. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"
#include "common/log.h"

#define SESSION_S (12 * 3600) /* a session's life, in seconds */
#define COOKIE_ATTRS "Path=/; Secure; HttpOnly; SameSite=Strict"

struct signin
{
    struct api__kdf_job job; /* first: kdf.c hands the job back */
    struct http_exchange *x;
    char user[ENGINE_NAME_MAX];
    char addr[HTTP_ADDRESS_MAX];
    char *password; /* owned; wiped once checked */
    size_t len;
    char verifier[ENGINE_VERIFIER_MAX]; /* the user's, or the dummy */
    bool known;                         /* the user exists */
    uint8_t role;
    char agent[ENGINE_NAME_MAX];
    bool matched; /* written in the pool */
    int64_t expires_at;
    char token[API__TOKEN_MAX];
};

static void signin_free(struct signin *s)
{
    if (s->password != NULL) {
        OPENSSL_cleanse(s->password, s->len);
        free(s->password);
    }
    OPENSSL_cleanse(s->token, sizeof(s->token));
    free(s);
}

/* One line of the log: event=signin user=... addr=... outcome=... [msg=...]. */
static void note(int level,
                 const char *user,
                 const char *addr,
                 const char *outcome,
                 const char *msg)
{
    cd_log(level, "signin", "user", user, "addr", addr, "outcome", outcome,
           msg != NULL ? "msg" : NULL, msg, NULL);
}

static uint64_t now_ms(const struct api *a)
{
    return uv_now(a->loop);
}

/* The attempt no longer counts against the user (its password was right) or the address. */
static void refund(struct signin *s, bool user)
{
    if (user) {
        api__strikes_refund(&s->job.api->strikes_user, s->user);
    }
    api__strikes_refund(&s->job.api->strikes_addr, s->addr);
}

/* ---- Answers ------------------------------------------------------------------------- */

static void created(void *data, const struct engine_result *res)
{
    struct signin *s = data;
    struct api *a = s->job.api;
    char cookie[API__TOKEN_MAX + 192];
    if (res->code != 0) {
        refund(s, true);
        note(CD_LOG_WARN, s->user, s->addr, "refused",
             res->message[0] != 0 ? res->message : cd_strerror(res->code));
        api__fail_result(s->x, res);
        signin_free(s);
        return;
    }
    api__strikes_clear(&a->strikes_user, s->user);
    api__strikes_refund(&a->strikes_addr, s->addr);
    note(CD_LOG_INFO, s->user, s->addr, "ok", NULL);
    /* No cache may keep an answer that carries a credential. */
    snprintf(cookie, sizeof(cookie),
             "Set-Cookie: %s=%s; %s; Max-Age=%d\r\nCache-Control: no-store\r\n",
             API__SESSION_COOKIE, s->token, COOKIE_ATTRS, SESSION_S);
    json_t *doc =
        json_pack("{s:s,s:s,s:s,s:I}", "user", s->user, "role", api__role_name(s->role),
                  "agent", s->agent, "expires_at", (json_int_t)s->expires_at);
    if (http_reply_json_headers(s->x, 200, cookie, doc) != 0) {
        http_reply_error(s->x, 500, "INTERNAL", "the session cookie could not be sent");
    }
    OPENSSL_cleanse(cookie, sizeof(cookie));
    signin_free(s);
}

/* The session's token: name "session-USER-RANDOM" (the user cut to fit a name). */
static int propose(struct signin *s)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_TOKEN_CREATE};
    char name[ENGINE_NAME_MAX], actor[ENGINE_ACTOR_MAX];
    uint32_t tag;
    if (RAND_bytes((unsigned char *)&tag, sizeof(tag)) != 1 ||
        api__token_new(s->token, cmd.u.token.hash) != 0) {
        return CD_EIO;
    }
    snprintf(name, sizeof(name), "session-%.*s-%08x", (int)(sizeof(name) - 18), s->user, tag);
    snprintf(actor, sizeof(actor), "user:%s", s->user);
    s->expires_at = cluster_wall_ms() + (int64_t)SESSION_S * 1000;
    cmd.actor = actor;
    cmd.u.token.name = name;
    cmd.u.token.kind = ENGINE_TOKEN_SESSION;
    cmd.u.token.role = s->role;
    cmd.u.token.agent = s->agent;
    cmd.u.token.user = s->user;
    cmd.u.token.expires_at = s->expires_at;
    return cluster_submit(s->job.api->cluster, &cmd, created, s);
}

static void check_run(struct api__kdf_job *job)
{
    struct signin *s = (struct signin *)job;
    bool matched = api__verifier_matches(s->password, s->len, s->verifier);
    s->matched = matched && s->known;
    OPENSSL_cleanse(s->password, s->len);
}

/* Whether the user is still as it was when its password was checked. */
static bool unchanged(const struct signin *s)
{
    struct engine_user_info u;
    return engine_user_find(cluster_engine(s->job.api->cluster), s->user, &u) == 0 &&
           strcmp(u.verifier, s->verifier) == 0;
}

static void checked(struct api__kdf_job *job, bool stopped)
{
    struct signin *s = (struct signin *)job;
    int rv;
    if (stopped) {
        http_reply_error(s->x, 503, "UNAVAIL", "this node is shutting down");
    } else if (!s->matched) {
        note(CD_LOG_WARN, s->user, s->addr, s->known ? "bad_password" : "unknown_user", NULL);
        http_reply_error(s->x, 401, "UNAUTHENTICATED", "wrong user name or password");
    } else if (!unchanged(s)) {
        refund(s, true);
        note(CD_LOG_WARN, s->user, s->addr, "changed", NULL);
        http_reply_error(s->x, 401, "UNAUTHENTICATED",
                         "the user was changed during the sign-in; sign in again");
    } else if ((rv = propose(s)) != 0) {
        refund(s, true);
        note(CD_LOG_WARN, s->user, s->addr, "failed", cd_strerror(rv));
        api__fail(s->x, rv, NULL);
    } else {
        return; /* created() answers */
    }
    signin_free(s);
}

/* Caught up with the leader: the user as this node knows it now, then the check. */
static void caught_up(void *data, int status)
{
    struct signin *s = data;
    struct engine_user_info u;
    if (status != 0) {
        refund(s, true);
        note(CD_LOG_WARN, s->user, s->addr, "unavailable", cd_strerror(status));
        api__fail(s->x, status, "cannot sign in now: this node reaches no leader");
        signin_free(s);
        return;
    }
    s->known = engine_user_find(cluster_engine(s->job.api->cluster), s->user, &u) == 0;
    snprintf(s->verifier, sizeof(s->verifier), "%s",
             s->known ? u.verifier : api__verifier_dummy());
    if (s->known) {
        s->role = u.role;
        snprintf(s->agent, sizeof(s->agent), "%s", u.agent);
    }
    if (api__kdf_submit(&s->job) != 0) {
        bool closing = s->job.api->closing;
        refund(s, true);
        note(CD_LOG_WARN, s->user, s->addr, closing ? "unavailable" : "busy", NULL);
        http_reply_error(s->x, 503, "UNAVAIL", "%s",
                         closing ? "this node is shutting down"
                                 : "busy: too many sign-ins at once; retry later");
        signin_free(s);
    }
}

/* ---- Requests ------------------------------------------------------------------------ */

/* 429 RATE_LIMITED with Retry-After when the user name or the address has failed too often
 * (throttle.c); false when the attempt may go on. */
static bool throttled(struct api__call *call, const char *user, const char *addr)
{
    struct api *a = call->api;
    uint64_t now = now_ms(a);
    uint64_t by_user =
        api__strikes_wait(&a->strikes_user, user, API__SIGNIN_USER_FAILURES, now);
    uint64_t by_addr =
        api__strikes_wait(&a->strikes_addr, addr, API__SIGNIN_ADDR_FAILURES, now);
    uint64_t wait = by_user > by_addr ? by_user : by_addr;
    char retry[48], msg[128];
    if (wait == 0) {
        return false;
    }
    unsigned long secs = (unsigned long)((wait + 999) / 1000);
    snprintf(msg, sizeof(msg), "too many failed sign-ins %s; try again in %lu s",
             by_user >= by_addr ? "for this user" : "from this address", secs);
    note(CD_LOG_WARN, user, addr, "rate_limited", msg);
    snprintf(retry, sizeof(retry), "Retry-After: %lu\r\n", secs);
    http_reply_json_headers(
        call->x, 429, retry,
        json_pack("{s:{s:s,s:s}}", "error", "code", "RATE_LIMITED", "message", msg));
    return true;
}

/* The body's user and password (borrowed from body); answers 400 and logs when bad. */
static bool signin_body(struct api__call *call,
                        json_t *body,
                        const char *addr,
                        const char **user,
                        json_t **password)
{
    json_t *u = json_object_get(body, "user");
    *password = json_object_get(body, "password");
    *user = json_is_string(u) ? json_string_value(u) : "";
    if (!json_is_string(u) || !json_is_string(*password)) {
        http_reply_error(call->x, 400, "INVAL", "user and password: required, strings");
    } else if (!engine_name_valid(*user, ENGINE_NAME_MAX)) {
        *user = "";
        http_reply_error(call->x, 400, "INVAL", "user: not a user name");
    } else if (json_string_length(*password) > API__PASSWORD_MAX) {
        http_reply_error(call->x, 400, "INVAL", "password: longer than %d bytes",
                         API__PASSWORD_MAX);
    } else {
        return true;
    }
    note(CD_LOG_WARN, *user, addr, "invalid", NULL);
    return false;
}

static struct signin *signin_new(struct api__call *call,
                                 const char *user,
                                 const char *addr,
                                 json_t *password)
{
    struct signin *s = calloc(1, sizeof(*s));
    size_t len = json_string_length(password);
    if (s == NULL || (s->password = malloc(len + 1)) == NULL) {
        free(s);
        return NULL;
    }
    memcpy(s->password, json_string_value(password), len + 1);
    s->len = len;
    s->x = call->x;
    s->job = (struct api__kdf_job){.api = call->api, .run = check_run, .done = checked};
    snprintf(s->user, sizeof(s->user), "%s", user);
    snprintf(s->addr, sizeof(s->addr), "%s", addr);
    return s;
}

void api__signin(struct api__call *call)
{
    static const char *const keys[] = {"user", "password", NULL};
    char addr[HTTP_ADDRESS_MAX] = "unknown";
    const char *user = "";
    json_t *password, *body;
    struct signin *s;
    /* Before the body is read: a body that is refused answers (and frees) the exchange. */
    http_exchange_peer_address(call->x, addr, sizeof(addr));
    body = api__body_with(call, keys);
    if (body == NULL) {
        note(CD_LOG_WARN, "", addr, "invalid", NULL);
    } else if (!signin_body(call, body, addr, &user, &password)) {
        /* answered */
    } else if (!api__csrf_header(call->req)) {
        note(CD_LOG_WARN, user, addr, "forbidden", "without the cross-site header");
        http_reply_error(call->x, 403, "FORBIDDEN", "a sign-in must carry the header '%s: %s'",
                         API__CSRF_HEADER, API__CSRF_VALUE);
    } else if (!throttled(call, user, addr)) {
        if ((s = signin_new(call, user, addr, password)) == NULL) {
            api__fail(call->x, CD_ENOMEM, NULL);
        } else {
            api__strikes_charge(&call->api->strikes_user, user, now_ms(call->api));
            api__strikes_charge(&call->api->strikes_addr, addr, now_ms(call->api));
            if (cluster_read_barrier(call->api->cluster, caught_up, s) != 0) {
                refund(s, true);
                api__fail(call->x, CD_ENOMEM, NULL);
                signin_free(s);
            }
        }
    }
    api__body_wipe(body, "password");
}

void api__session_get(struct api__call *call)
{
    const struct api__principal *w = &call->who;
    http_reply_json(
        call->x, 200,
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:b,s:s,s:I}", "actor", w->actor, "name", w->name,
                  "role", api__role_name(w->role), "agent", w->agent, "token_id",
                  (json_int_t)w->token_id, "session", w->session, "user",
                  w->session ? w->name : "", "expires_at", (json_int_t)w->expires_at));
}

struct signout
{
    struct http_exchange *x;
    char user[ENGINE_NAME_MAX];
    char addr[HTTP_ADDRESS_MAX];
};

static void signed_out(void *data, const struct engine_result *res)
{
    struct signout *o = data;
    /* A session revoked meanwhile (its user changed) is signed out all the same. */
    if (res->code != 0 && res->code != CD_ENOTFOUND) {
        api__fail_result(o->x, res);
    } else {
        cd_log(CD_LOG_INFO, "signout", "user", o->user, "addr", o->addr, NULL);
        http_reply_json_headers(
            o->x, 200, "Set-Cookie: " API__SESSION_COOKIE "=; " COOKIE_ATTRS "; Max-Age=0\r\n",
            json_pack("{s:b}", "ok", 1));
    }
    free(o);
}

void api__signout(struct api__call *call)
{
    struct engine_command cmd = {.kind = ENGINE_CMD_TOKEN_REVOKE, .actor = call->who.actor};
    struct signout *o;
    if (!call->who.session) {
        http_reply_error(call->x, 409, "STATE",
                         "the token presented is an API token, not a browser session: revoke "
                         "it with DELETE /v1/tokens/%u",
                         call->who.token_id);
        return;
    }
    if ((o = calloc(1, sizeof(*o))) == NULL) {
        api__fail(call->x, CD_ENOMEM, NULL);
        return;
    }
    o->x = call->x;
    snprintf(o->user, sizeof(o->user), "%s", call->who.name);
    snprintf(o->addr, sizeof(o->addr), "unknown");
    http_exchange_peer_address(call->x, o->addr, sizeof(o->addr));
    cmd.u.token.id = call->who.token_id;
    cmd.u.token.name = "";
    int rv = cluster_submit(call->api->cluster, &cmd, signed_out, o);
    if (rv != 0) {
        free(o);
        api__fail(call->x, rv, NULL);
    }
}
