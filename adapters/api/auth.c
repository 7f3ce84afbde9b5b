/* Who is calling: a bearer token (Authorization: Bearer cdt_...) or a browser session
 * cookie, looked up by its SHA-256 among the replicated tokens (engine/tokens.c) in this
 * node's state. A token revoked at some log index is refused here from the moment this node
 * has applied that index; an expired one from its expiry by this node's clock.
 *
 * Cross-site requests. A browser sends the session cookie with whatever request any page
 * makes to the node, a page of another site included (a form posted there, an image). So a
 * request authenticated by the cookie that changes something (POST, PUT, PATCH, DELETE)
 * must also carry "X-Requested-With: contactd": a form cannot add a header, and a script
 * of another origin that adds one needs a CORS preflight this server never grants. A bearer
 * token is never sent by the browser on its own, so requests that carry one need nothing
 * more. (SameSite=Strict on the cookie already keeps it off cross-site requests in current
 * browsers; the header does not depend on that.)
 *
 * A token is "cdt_" and 43 characters of base64url: 32 bytes from the system's random
 * generator. Only its hash ever leaves this file. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/api/internal.h"
#include "common/error.h"

#define TOKEN_PREFIX "cdt_"
#define TOKEN_RANDOM 32
#define SESSION_COOKIE API__SESSION_COOKIE

static const char *const role_names[ENGINE_ROLE_COUNT] = {
    [ENGINE_ROLE_ADMIN] = "admin",
    [ENGINE_ROLE_SUPERVISOR] = "supervisor",
    [ENGINE_ROLE_AGENT] = "agent",
    [ENGINE_ROLE_REPORTER] = "reporter",
    [ENGINE_ROLE_INTEGRATION] = "integration",
};

const char *api__role_name(int role)
{
    return role >= 0 && role < ENGINE_ROLE_COUNT ? role_names[role] : "?";
}

int api__role_parse(const char *s)
{
    for (int r = 0; r < ENGINE_ROLE_COUNT; r++) {
        if (s != NULL && strcmp(s, role_names[r]) == 0) {
            return r;
        }
    }
    return -1;
}

void api__token_hash(const char *token, uint8_t out[ENGINE_TOKEN_HASH_LEN])
{
    unsigned len = 0;
    EVP_Digest(token, strlen(token), out, &len, EVP_sha256(), NULL);
}

int api__token_new(char out[API__TOKEN_MAX], uint8_t hash[ENGINE_TOKEN_HASH_LEN])
{
    static const char b64url[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t raw[TOKEN_RANDOM + 1] = {0};
    if (RAND_bytes(raw, TOKEN_RANDOM) != 1) {
        return CD_EIO;
    }
    size_t n = strlen(TOKEN_PREFIX);
    memcpy(out, TOKEN_PREFIX, n);
    /* 32 bytes: ten groups of three, then two bytes (43 characters, no padding). */
    for (size_t i = 0; i < TOKEN_RANDOM; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
                     (i + 2 < TOKEN_RANDOM ? raw[i + 2] : 0);
        int chars = i + 2 < TOKEN_RANDOM ? 4 : 3;
        for (int k = 0; k < chars; k++) {
            out[n++] = b64url[(v >> (18 - 6 * k)) & 63];
        }
    }
    out[n] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    api__token_hash(out, hash);
    return 0;
}

/* The credential the request presents: the bearer token, else the session cookie's value
 * (then *from_cookie is set); NULL when there is none. A malformed Authorization header is
 * "none" too. */
static const char *credential(const struct http_request *req,
                              char *buf,
                              size_t cap,
                              bool *from_cookie)
{
    const char *auth = http_header_get(req, "Authorization");
    *from_cookie = false;
    if (auth != NULL) {
        if (strncasecmp(auth, "Bearer ", 7) != 0) {
            return NULL;
        }
        auth += 7;
        while (*auth == ' ') {
            auth++;
        }
        return *auth != '\0' ? auth : NULL;
    }
    const char *cookie = http_header_get(req, "Cookie");
    for (const char *p = cookie; p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == ';') {
            p++;
        }
        size_t len = strcspn(p, ";");
        size_t name = strlen(SESSION_COOKIE);
        if (len > name + 1 && strncmp(p, SESSION_COOKIE "=", name + 1) == 0 &&
            len - name - 1 < cap) {
            snprintf(buf, cap, "%.*s", (int)(len - name - 1), p + name + 1);
            *from_cookie = true;
            return buf;
        }
        p += len;
    }
    return NULL;
}

/* The token as the principal it stands for. */
static void principal_from(struct api__principal *p, const struct engine_token_info *t)
{
    p->known = true;
    p->role = t->role;
    p->token_id = t->id;
    p->session = t->kind == ENGINE_TOKEN_SESSION;
    snprintf(p->agent, sizeof(p->agent), "%s", t->agent);
    snprintf(p->name, sizeof(p->name), "%s", p->session ? t->user : t->name);
    snprintf(p->actor, sizeof(p->actor), "%s:%s", p->session ? "user" : "token", p->name);
    p->expires_at = t->expires_at;
}

bool api__csrf_header(const struct http_request *req)
{
    const char *v = http_header_get(req, API__CSRF_HEADER);
    return v != NULL && strcmp(v, API__CSRF_VALUE) == 0;
}

/* A request a page of another site could have made the browser send (the top of this
 * file). */
static bool changes_by_cookie(const struct http_request *req, bool cookie)
{
    bool safe = req->method == HTTP_M_GET || req->method == HTTP_M_HEAD;
    return cookie && !safe && !api__csrf_header(req);
}

enum api__auth api__authenticate(struct api__call *call, bool final)
{
    char buf[API__TOKEN_MAX + 1];
    bool cookie;
    const char *secret = credential(call->req, buf, sizeof(buf), &cookie);
    struct engine_token_info t;
    uint8_t hash[ENGINE_TOKEN_HASH_LEN];

    if (secret == NULL) {
        http_reply_error(call->x, 401, "UNAUTHENTICATED",
                         "this route needs a token: Authorization: Bearer TOKEN, or a "
                         "browser session");
        return API__AUTH_REFUSED;
    }
    api__token_hash(secret, hash);
    const struct engine *e = cluster_engine(call->api->cluster);
    if (engine_token_find(e, hash, &t) != 0) {
        if (!final) {
            return API__AUTH_UNKNOWN;
        }
        http_reply_error(call->x, 401, "UNAUTHENTICATED",
                         "the token is not known (never made, or revoked)");
        return API__AUTH_REFUSED;
    }
    if (t.expires_at != 0 && cluster_wall_ms() >= t.expires_at) {
        http_reply_error(call->x, 401, "UNAUTHENTICATED", "the token '%s' expired",
                         t.kind == ENGINE_TOKEN_SESSION ? t.user : t.name);
        return API__AUTH_REFUSED;
    }
    if (changes_by_cookie(call->req, cookie)) {
        http_reply_error(call->x, 403, "FORBIDDEN",
                         "a request that changes something with the session cookie must carry "
                         "the header '%s: %s'",
                         API__CSRF_HEADER, API__CSRF_VALUE);
        return API__AUTH_REFUSED;
    }
    principal_from(&call->who, &t);
    return API__AUTH_OK;
}
