/* http: HTTP/1.1 server and client on a libuv loop (llhttp for parsing, jansson for JSON).
 *
 * The server parses requests, hands each complete request to one handler, and writes the
 * answer whenever the handler gives it: at once, or later (after a Raft commit). Requests
 * on one connection are answered in order; keep-alive and pipelining are supported. The
 * client keeps a pool of keep-alive connections to one peer (used to forward writes from a
 * follower to the leader).
 *
 * Everything runs on the loop's thread; nothing here is thread-safe. */
#ifndef CD_HTTP_H
#define CD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

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
    const char *path;        /* percent-decoded path, without the query */
    const char *query;       /* raw query after '?', "" when none */
    const char *body;        /* NUL-terminated for convenience; may hold NULs */
    size_t body_len;
    size_t n_headers;
    struct http_header headers[HTTP_HEADERS_MAX];
};

/* A request waiting for its answer. Owned by the server; the handler keeps the pointer
 * until it replies. If the client disconnects first, the exchange stays valid and the
 * reply is discarded. */
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
    unsigned idle_timeout_ms; /* keep-alive connections idle this long are closed. 0 = 60 s */
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
 * an IPv4 or IPv6 literal. Returns 0 or CD_EIO with a message in errmsg ("listen on
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

/* Answers the request. body is copied. Adds Content-Length, Content-Type (when
 * content_type is non-NULL) and Connection headers. After this call x is gone. */
void http_reply(struct http_exchange *x,
                int status,
                const char *content_type,
                const void *body,
                size_t len);

/* Answers with application/json; steals the reference to json (may be NULL: empty body). */
void http_reply_json(struct http_exchange *x, int status, json_t *json);

/* Answers {"error":{"code":code,"message":<formatted>}} with the status. */
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
 * without "=" has the value "". */
int http_query_get(const struct http_request *req, const char *name, char *buf, size_t len);

/* Reason phrase for a status code ("Not Found"); "Unknown" for others. */
const char *http_status_text(int status);

/* ---- Client --------------------------------------------------------------------------- */

struct http_client; /* opaque; a pool of keep-alive connections to one host:port */

struct http_response
{
    int status;       /* HTTP status, or a negative CD_E* code when no answer arrived:
                       * CD_EIO (connect or read failed, peer closed), CD_ETOOBIG
                       * (response too large), CD_EPARSE (malformed response) */
    const char *body; /* NUL-terminated; valid during the callback only */
    size_t body_len;
    const char *content_type; /* "" when absent */
};

typedef void (*http_client_cb)(void *data, const struct http_response *res);

/* A pool to host:port holding at most max_conns connections (0 = 64); requests beyond that
 * wait in order. Returns 0 or CD_ENOMEM. */
int http_client_new(uv_loop_t *loop,
                    const char *host,
                    uint16_t port,
                    unsigned max_conns,
                    struct http_client **out);

/* Sends one request; body and content_type may be NULL/0. Everything is copied. cb fires
 * exactly once on the loop thread, after this call returns (never from inside it), with
 * the answer, an error, or CD_EIO on timeout (timeout_ms 0 = 10 s). A request on a reused
 * connection that fails before any byte of the answer arrived is not retried: the caller
 * decides (a forwarded write may have been applied). Returns 0 or CD_ENOMEM (then cb never
 * fires). */
int http_client_request(struct http_client *c,
                        const char *method,
                        const char *target,
                        const char *content_type,
                        const void *body,
                        size_t len,
                        unsigned timeout_ms,
                        http_client_cb cb,
                        void *data);

/* Fails every waiting and in-flight request with CD_EIO (callbacks fire), closes the
 * connections and frees the pool once its handles are closed. */
void http_client_close(struct http_client *c);

#endif
