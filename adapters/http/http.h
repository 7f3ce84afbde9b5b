/* http: HTTP/1.1 server and client on a libuv loop (llhttp for parsing, jansson for JSON).
 *
 * The server parses requests, hands each complete request to one handler, and writes the
 * answer whenever the handler gives it: at once, or later (after a Raft commit). Requests
 * on one connection are answered in order; keep-alive and pipelining are supported. The
 * client keeps a pool of keep-alive connections to one peer (used to forward writes from a
 * follower to the leader).
 *
 * The server answers what it refuses by itself with the API's error shape,
 * {"error":{"code":...,"message":...}}, and then closes the connection: 400 BAD_REQUEST
 * (malformed request, or a path with a malformed percent-escape or an encoded NUL; llhttp
 * runs in its strict mode with no lenient flag, so a target holding bytes outside printable
 * ASCII, a CR not followed by LF, or chunk data not followed by CRLF are malformed too),
 * 413 TOO_LARGE (body over max_body), 431 TOO_LARGE (header block over max_header_bytes,
 * or more than HTTP_HEADERS_MAX fields), 417 EXPECTATION_FAILED (an Expect other than
 * 100-continue), 503 UNAVAILABLE (out of memory). Such requests never reach the handler.
 * "Expect: 100-continue" is answered as soon as the header block has been accepted.
 *
 * Everything runs on the loop's thread; nothing here is thread-safe. */
#ifndef CD_HTTP_H
#define CD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/hist.h"

/* ---- Server --------------------------------------------------------------------------- */

enum http_method {
    HTTP_M_OTHER = 0,
    HTTP_M_GET,
    HTTP_M_HEAD,
    HTTP_M_POST,
    HTTP_M_PUT,
    HTTP_M_PATCH,
    HTTP_M_DELETE,
};

#define HTTP_HEADERS_MAX 32

struct http_header
{
    const char *name; /* as sent; compare with strcasecmp */
    const char *value;
};

/* One parsed request. Every pointer is owned by the server and valid until http_reply()
 * (or http_exchange_drop()) for this request returns. Strings are NUL-terminated. */
struct http_request
{
    enum http_method method;
    const char *method_name; /* "GET", ... */
    const char *target;      /* as sent: path and query */
    const char *path;        /* percent-decoded path, without the query ('+' stays '+') */
    const char *query;       /* raw query after '?', "" when none */
    const char *body;        /* NUL-terminated for convenience; may hold NULs */
    size_t body_len;
    size_t n_headers;
    struct http_header headers[HTTP_HEADERS_MAX];
};

/* A request waiting for its answer. Owned by the server; the handler keeps the pointer
 * until it replies. If the client disconnects first, the exchange stays valid and the
 * reply is discarded. A client that half-closes (shuts down its sending side) counts as
 * gone: TCP does not tell the two apart. While a request waits, the next ones on its
 * connection are not parsed, and reading pauses once about max(64 KiB, max_header_bytes)
 * of them are held back. */
struct http_exchange;

/* Called once per request on the loop thread. The handler must, now or later, call exactly
 * one of http_reply(), http_reply_json(), http_reply_error() or http_exchange_drop(). */
typedef void (*http_handler_cb)(void *data,
                                struct http_exchange *x,
                                const struct http_request *req);

struct http_server_options
{
    size_t max_body;         /* bytes; larger bodies get 413. 0 = 1 MiB */
    size_t max_header_bytes; /* whole header block; larger gets 431. 0 = 16 KiB */
    /* A connection that sends nothing for this long while no request of its awaits an
     * answer (between requests, or in the middle of one) is closed. 0 = 60 s */
    unsigned idle_timeout_ms;
    unsigned max_connections; /* further connections are closed at accept. 0 = 4096 */
};

struct http_server; /* opaque; http_server_new() allocates it */

/* Creates a server on loop, answering through handler. Returns 0 or CD_ENOMEM. */
int http_server_new(uv_loop_t *loop,
                    const struct http_server_options *opt,
                    http_handler_cb handler,
                    void *data,
                    struct http_server **out);

/* Binds and listens on host:port (port 0: any free port, see http_server_port()). host is
 * an IPv4 or IPv6 literal. Returns 0, CD_EINVAL when host is not such a literal, or CD_EIO
 * when binding or listening fails; either way with a message in errmsg ("listen on
 * '127.0.0.1:8080': address already in use"). */
int http_server_listen(struct http_server *s,
                       const char *host,
                       uint16_t port,
                       char *errmsg,
                       size_t errlen);

/* The bound port after a successful listen. */
uint16_t http_server_port(const struct http_server *s);

/* Stops listening, closes every connection and frees the server; exchanges still held by
 * the handler become detached (their replies are discarded, their memory freed at reply or
 * drop). close_cb (may be NULL) fires after the last handle is closed. */
void http_server_close(struct http_server *s, void (*close_cb)(void *data), void *data);

/* Number of open connections (for metrics and tests). */
unsigned http_server_connections(const struct http_server *s);

/* What the server answered since it started: answers by status class (index 1..5 for
 * 1xx..5xx; requests refused before a handler saw them count too), and the time from a
 * complete request to its answer for those the handler answered. Plain data, copied. */
struct http_server_stats
{
    uint64_t answers[6];
    struct cd_hist latency;
};
void http_server_stats(const struct http_server *s, struct http_server_stats *out);

/* Answers the request. body is copied (it may point into the request). Adds Content-Length,
 * Content-Type (when content_type is non-NULL) and Connection headers. The answer to HEAD
 * carries the headers only; 1xx, 204 and 304 answers carry neither body nor length. A
 * status outside 100..999 is sent as 500. After this call x is gone. */
void http_reply(struct http_exchange *x,
                int status,
                const char *content_type,
                const void *body,
                size_t len);

/* Answers with application/json; steals the reference to json (may be NULL: empty body).
 * Any JSON value is accepted; one that cannot be encoded becomes a 500 INTERNAL error. */
void http_reply_json(struct http_exchange *x, int status, json_t *json);

/* Answers {"error":{"code":code,"message":<formatted>}} with the status. The message is
 * cut at 511 bytes; bytes that are not UTF-8 become '?'. */
void http_reply_error(struct http_exchange *x,
                      int status,
                      const char *code,
                      const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

/* Releases the exchange without answering and closes its connection. */
void http_exchange_drop(struct http_exchange *x);

/* Case-insensitive header lookup; NULL when absent. */
const char *http_header_get(const struct http_request *req, const char *name);

/* Copies the percent-decoded value of query parameter name into buf (NUL-terminated).
 * Returns the length, -1 when absent, or -2 when it does not fit. A parameter given
 * without "=" has the value "". '+' decodes to a space; a malformed escape (or %00) is
 * kept as written. Names are compared after decoding; the first match wins. */
int http_query_get(const struct http_request *req, const char *name, char *buf, size_t len);

/* Reason phrase for a status code ("Not Found"); "Unknown" for others. */
const char *http_status_text(int status);

/* ---- Client --------------------------------------------------------------------------- */

struct http_client; /* opaque; a pool of keep-alive connections to one host:port */

struct http_response
{
    int status;       /* HTTP status, or a negative CD_E* code when no answer arrived:
                       * CD_EIO (connect, write or read failed, peer closed,
                       * timeout, client closed), CD_ETOOBIG (body over 16 MiB, or
                       * header block over 256 KiB), CD_EPARSE (malformed response),
                       * CD_ENOMEM (no memory for the body) */
    const char *body; /* NUL-terminated; valid during the callback only */
    size_t body_len;
    const char *content_type; /* "" when absent; at most 127 bytes are kept */
};

typedef void (*http_client_cb)(void *data, const struct http_response *res);

/* A pool to host:port holding at most max_conns connections (0 = 64); requests beyond that
 * wait in order. host is an IPv4 or IPv6 literal. Returns 0, CD_EINVAL (host is not such a
 * literal) or CD_ENOMEM. */
int http_client_new(uv_loop_t *loop,
                    const char *host,
                    uint16_t port,
                    unsigned max_conns,
                    struct http_client **out);

/* Sends one request; body and content_type may be NULL/0. Everything is copied. cb fires
 * exactly once on the loop thread, after this call returns (never from inside it), with
 * the answer, an error, or CD_EIO on timeout (timeout_ms 0 = 10 s, counted from this call,
 * time spent waiting for a connection included; a timeout closes the connection). A
 * request that was written and got no answer is not retried, even on a reused connection:
 * the caller decides (a forwarded write may have been applied). Only a connection found
 * closed before the request was written is replaced without the caller noticing. Sends
 * Host and, when there is a body or the method is POST, PUT or PATCH, Content-Length.
 * Returns 0, CD_EINVAL (method is not a token, or target or content_type holds control
 * characters; target may not hold spaces), CD_ESTATE (the client is closing: a callback
 * fired by http_client_close() asked for more) or CD_ENOMEM; then cb never fires. */
int http_client_request(struct http_client *c,
                        const char *method,
                        const char *target,
                        const char *content_type,
                        const void *body,
                        size_t len,
                        unsigned timeout_ms,
                        http_client_cb cb,
                        void *data);

/* Fails every waiting and in-flight request with CD_EIO (callbacks fire from inside this
 * call), closes the connections and frees the pool once its handles are closed. c must not
 * be used after this call returns. */
void http_client_close(struct http_client *c);

#endif
