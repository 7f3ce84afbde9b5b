/* adapters/ws: the opening handshake (RFC 6455, 4.2): the client's request checked, the
 * 101 answered with Sec-WebSocket-Accept, the connection taken over from the HTTP
 * server. */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/ws/internal.h"
#include "common/error.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Whether the comma-separated list holds token (compared without case). */
static bool list_has(const char *list, const char *token)
{
    size_t n = strlen(token);
    const char *p = list;

    while (p != NULL && *p != '\0') {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
            len--;
        }
        if (len == n && strncasecmp(p, token, n) == 0) {
            return true;
        }
        p = strchr(p, ',');
    }
    return false;
}

/* A key is 16 bytes in base64: 22 characters of the alphabet and "==". */
static bool key_valid(const char *key)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (key == NULL || strlen(key) != 24 || strcmp(key + 22, "==") != 0) {
        return false;
    }
    for (size_t i = 0; i < 22; i++) {
        if (strchr(alphabet, key[i]) == NULL) {
            return false;
        }
    }
    /* The last character carries 2 bits of the key; the other 4 must be zero. */
    return ((strchr(alphabet, key[21]) - alphabet) & 0x0f) == 0;
}

/* base64(SHA-1(key + GUID)) into out (29 bytes). */
static void accept_value(const char *key, char out[29])
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char joined[24 + sizeof(ws_guid)];

    snprintf(joined, sizeof(joined), "%s%s", key, ws_guid);
    SHA1((const unsigned char *)joined, strlen(joined), digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
}

/* Answers a bad handshake; returns CD_EINVAL. */
static int refuse(struct ws_server *s, struct http_exchange *x, const struct http_request *req)
{
    const char *version = http_header_get(req, "Sec-WebSocket-Version");
    const char *upgrade = http_header_get(req, "Upgrade");
    const char *connection = http_header_get(req, "Connection");

    s->stats.refused_handshake++;
    if (req->method != HTTP_M_GET) {
        http_reply_error(x, 405, "METHOD", "a WebSocket handshake is a GET, not %s",
                         req->method_name);
    } else if (req->version_major != 1 || req->version_minor < 1) {
        http_reply_error(x, 400, "BAD_REQUEST", "a WebSocket handshake needs HTTP/1.1");
    } else if (upgrade == NULL || !list_has(upgrade, "websocket")) {
        http_reply_error(x, 400, "BAD_REQUEST",
                         "the request does not ask for Upgrade: websocket");
    } else if (connection == NULL || !list_has(connection, "upgrade")) {
        http_reply_error(x, 400, "BAD_REQUEST",
                         "the request's Connection does not name upgrade");
    } else if (version == NULL) {
        http_reply_error(x, 400, "BAD_REQUEST", "the request has no Sec-WebSocket-Version");
    } else if (strcmp(version, "13") != 0) {
        http_reply_json_headers(
            x, 426, "Sec-WebSocket-Version: 13\r\n",
            json_pack("{s:{s:s,s:s}}", "error", "code", "UPGRADE_REQUIRED", "message",
                      "this server speaks WebSocket version 13 only"));
    } else {
        http_reply_error(x, 400, "BAD_REQUEST",
                         "the request's Sec-WebSocket-Key is not 16 bytes in base64");
    }
    return CD_EINVAL;
}

static bool handshake_ok(const struct http_request *req)
{
    const char *upgrade = http_header_get(req, "Upgrade");
    const char *connection = http_header_get(req, "Connection");
    const char *version = http_header_get(req, "Sec-WebSocket-Version");

    return req->method == HTTP_M_GET && req->version_major == 1 && req->version_minor >= 1 &&
           upgrade != NULL && list_has(upgrade, "websocket") && connection != NULL &&
           list_has(connection, "upgrade") && version != NULL && strcmp(version, "13") == 0 &&
           key_valid(http_header_get(req, "Sec-WebSocket-Key"));
}

static void unowned_closed(struct net_stream *stream)
{
    http_upgraded_free(stream->data);
}

/* Switches x's connection to WebSocket; on failure x is consumed and the error returned. */
static int switch_over(struct http_exchange *x,
                       const struct http_request *req,
                       struct http_upgraded **u)
{
    char accept[29];
    accept_value(http_header_get(req, "Sec-WebSocket-Key"), accept);
    const struct http_header headers[] = {
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Accept", accept},
    };
    int rc = http_exchange_upgrade(x, headers, 3, u);
    if (rc == CD_ENOMEM) {
        http_reply_error(x, 503, "UNAVAILABLE", "out of memory");
    } else if (rc != 0) {
        /* The client is gone (the answer is discarded), or sent more behind its request. */
        http_reply_error(x, 400, "BAD_REQUEST", "the connection cannot switch protocols");
        rc = CD_EIO;
    }
    return rc;
}

int ws_accept(struct ws_server *s,
              struct http_exchange *x,
              const struct http_request *req,
              const struct ws_handler *h,
              void *data,
              struct ws_conn **out)
{
    struct http_upgraded *u = NULL;

    if (s->closing) {
        http_reply_error(x, 503, "UNAVAILABLE", "the server is shutting down");
        return CD_ESTATE;
    }
    if (!handshake_ok(req)) {
        return refuse(s, x, req);
    }
    int rc = switch_over(x, req, &u);
    if (rc != 0) {
        return rc;
    }
    struct ws_conn *c = ws__conn_new(s, u, h, data);
    if (c == NULL) {
        u->stream->data = u;
        net_stream_close(u->stream, unowned_closed);
        return CD_ENOMEM;
    }
    const char *over = ws__server_admit(s, c);
    ws__conn_start(c);
    if (*over != '\0') {
        c->refused = true;
        s->stats.refused_limit++;
        ws__conn_fail(c, 1013, over);
        return CD_ETOOBIG;
    }
    s->stats.accepted++;
    *out = c;
    return 0;
}
