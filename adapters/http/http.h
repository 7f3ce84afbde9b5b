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
 * ASCII, a CR not followed by LF, chunk data not followed by CRLF, a header field
 * without a name, or one folded over lines (obs-fold) are malformed too),
 * 413 TOO_LARGE (body over max_body, or over the body_limits entry of its path), 431 TOO_LARGE
 * (header block over max_header_bytes, or more than HTTP_HEADERS_MAX fields), 417
 * EXPECTATION_FAILED (an Expect other than 100-continue), 505 HTTP_VERSION (a version other
 * than HTTP/1.0 and HTTP/1.1, or a request line without one), 408 TIMEOUT (header block or body
 * later than its deadline), 503 UNAVAILABLE (out of memory, or a connection refused by the
 * policy described at struct http_server_options). Such requests never reach the handler.
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
#include "net/net.h"

/* ---- Server --------------------------------------------------------------------------- */

enum http_method {
    HTTP_M_OTHER = 0,
    HTTP_M_GET,
    HTTP_M_HEAD,
    HTTP_M_POST,
    HTTP_M_PUT,
    HTTP_M_PATCH,
    HTTP_M_DELETE,
    HTTP_M_OPTIONS,
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
    unsigned version_major; /* 1 */
    unsigned version_minor; /* 0 or 1 */
    /* The request asks to switch protocols: it carries an Upgrade header and names
     * "upgrade" in Connection (as llhttp reads them). The server reads nothing after it on
     * the connection unless the handler hands the connection over
     * (http_exchange_upgrade()); answered otherwise, the connection closes. */
    bool upgrade;
    size_t n_headers;
    struct http_header headers[HTTP_HEADERS_MAX];
};

/* A request waiting for its answer. Owned by the server; the handler keeps the pointer
 * until it replies. If the client goes away first (a read or write fails: reset, broken
 * pipe), the exchange stays valid and the reply is discarded. A client that only
 * half-closes (shuts down its sending side, or closes after sending) is not gone: the
 * server stops reading, answers every complete request it received, in order, whenever
 * the handler answers, and then closes. While a request waits, the next ones on its
 * connection are not parsed, and reading pauses once about max(64 KiB, max_header_bytes)
 * of them are held back. */
struct http_exchange;

/* Called once per request on the loop thread. The handler must, now or later, call exactly
 * one of http_reply(), http_reply_json(), http_reply_error() or http_exchange_drop(). */
typedef void (*http_handler_cb)(void *data,
                                struct http_exchange *x,
                                const struct http_request *req);

/* For max_per_address: no cap (0 there means the default, as for every option). */
#define HTTP_NO_LIMIT 0xffffffffu

/* Every field's 0 means its default; the server keeps its own copy.
 *
 * Connection policy. No connection can hold the loop or memory for long, and a flood of
 * idle connections cannot lock new clients (health checks, members forwarding writes) out:
 * - A request must arrive whole in time: its header block within header_timeout_ms of its
 *   first byte, its body within body_timeout_ms of the end of the header block, however
 *   the bytes trickle in. One that misses a deadline gets 408 TIMEOUT and the connection
 *   closes. The clock runs only while the server waits for the client: a request held
 *   back behind an earlier one starts its clock when parsing reaches it.
 * - Between requests, a connection silent for idle_timeout_ms is closed.
 * - Answers not yet taken by the client are bounded. Past output_high_water bytes of
 *   unsent answers (held by the server, beyond what the kernel's socket buffers took), no
 *   further request on the connection is parsed (its bytes wait, and
 *   reading stops once they fill the backlog above) until the client has taken all but a
 *   quarter of them; if that has not happened within output_timeout_ms, the connection
 *   closes. An answer that would take the unsent output past output_limit closes the
 *   connection instead of being queued.
 * - At max_connections, a new connection makes room by closing the least recently active
 *   idle connection (no request in progress, none awaiting its answer, no unsent answer;
 *   activity is a read or an answer). Only when every connection is busy is the new one
 *   refused: it gets 503 UNAVAILABLE and is closed, its request never read.
 * - A client address (IPv4, or IPv6 to the last bit) that already holds
 *   max_per_address connections has further ones refused the same way, 503 UNAVAILABLE,
 *   without evicting anything.
 * Every refusal and close is counted in struct http_server_stats.
 *
 * The defaults: a header block is one small write for any real client, so 10 s is many
 * round trips even on a poor mobile link; 30 s lets a body of the default 1 MiB arrive at
 * 35 KB/s; 30 s to drain asks about 2 MB/s of a client fetching a 64 MiB answer. */
struct http_body_limit
{
    const char *path;
    size_t max;
};

struct http_server_options
{
    size_t max_body; /* bytes; larger bodies get 413. 0 = 1 MiB */
    /* Paths whose bodies may be larger than max_body (a document such as a routing model),
     * or must be smaller: a request whose raw target is a limit's path, or starts with it
     * followed by '/' or '?', may carry up to that limit's max bytes; the first that matches
     * counts. Ends with {NULL, 0}; NULL: none. Borrowed for the server's life. */
    const struct http_body_limit *body_limits;
    size_t max_header_bytes; /* whole header block; larger gets 431. 0 = 16 KiB */
    /* A connection that sends nothing for this long while no request of its awaits an
     * answer (between requests, or in the middle of one) is closed. 0 = 60 s */
    unsigned idle_timeout_ms;
    unsigned header_timeout_ms; /* from a request's first byte to its blank line. 0 = 10 s */
    unsigned body_timeout_ms;   /* from the blank line to the body's last byte. 0 = 30 s */
    unsigned max_connections;   /* see the policy above. 0 = 4096 */
    unsigned max_per_address;   /* 0 = 256; HTTP_NO_LIMIT: no cap */
    size_t output_high_water;   /* unsent answer bytes that pause parsing. 0 = 256 KiB */
    size_t output_limit;        /* unsent answer bytes that close. 0 = 64 MiB */
    unsigned output_timeout_ms; /* to drain below a quarter of the high water. 0 = 30 s */
    /* TLS: every connection is a TLS server stream of this context (net/net.h), whose
     * handshake must complete within header_timeout_ms; NULL: plain TCP. Borrowed for the
     * server's life. */
    struct net_tls *tls;
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

/* Number of open connections, refused ones still sending their 503 included (for metrics
 * and tests). */
unsigned http_server_connections(const struct http_server *s);

/* What the server answered since it started: answers by status class (index 1..5 for
 * 1xx..5xx; requests refused before a handler saw them, and connections refused with 503,
 * count too), and the time from a complete request to its answer for those the handler
 * answered; then how many connections the policy above refused or closed, by reason.
 * Plain data, copied. */
struct http_server_stats
{
    uint64_t answers[6];
    struct cd_hist latency;
    uint64_t refused_busy;    /* at max_connections with every connection busy */
    uint64_t refused_address; /* the address held max_per_address already */
    uint64_t evicted;         /* idle, closed to admit a new connection */
    uint64_t idle_closed;     /* silent for idle_timeout_ms */
    uint64_t timed_out;       /* 408: a header block or body missed its deadline */
    uint64_t output_paused;   /* times parsing paused over output_high_water */
    uint64_t output_closed;   /* past output_limit, or not drained in time */
    uint64_t tls_failed;      /* a TLS handshake or record failed (or timed out) */
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

/* As http_reply() and http_reply_json(), with more header lines after the server's own
 * (Set-Cookie, Retry-After, ...): headers (may be NULL) is a sequence of "Name: value\r\n"
 * lines, each name a token and each value text without line breaks or other control
 * characters (tabs allowed), as http_client_request_headers() takes them: a CR or LF in a
 * value, which would let text from a request forge a header or a second answer, is
 * refused. So is a line naming Content-Length, Content-Type, Connection or
 * Transfer-Encoding, which the server writes itself. Returns 0 (x is gone, as after
 * http_reply()), or CD_EINVAL: nothing was sent and x still waits for its answer.
 * http_reply_json_headers() takes the reference to json either way. */
int http_reply_headers(struct http_exchange *x,
                       int status,
                       const char *content_type,
                       const char *headers,
                       const void *body,
                       size_t len);
int http_reply_json_headers(struct http_exchange *x,
                            int status,
                            const char *headers,
                            json_t *json);

/* Header lines (as http_reply_headers() takes them, with the same checks) that whatever
 * answers x carries after the handler's own lines: http_reply(), http_reply_json(),
 * http_reply_error() and the _headers variants alike, so that a dispatcher can mark every
 * answer of the routes below it (CORS) without each route knowing. headers is copied; a
 * second call replaces the lines of the first, and NULL or "" sets none. The 101 of
 * http_exchange_upgrade() does not carry them. Returns 0, CD_EINVAL (nothing changed) or
 * CD_ENOMEM (nothing changed). */
int http_exchange_set_headers(struct http_exchange *x, const char *headers);

/* Answers {"error":{"code":code,"message":<formatted>}} with the status. The message is
 * cut at 511 bytes; bytes that are not UTF-8 become '?'. */
void http_reply_error(struct http_exchange *x,
                      int status,
                      const char *code,
                      const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

/* x's answer is left out of the server's answers by class (http_server_stats()): a
 * readiness probe's 503 says the node is not ready, not that a request failed. */
void http_exchange_uncounted(struct http_exchange *x);

/* Releases the exchange without answering and closes its connection. */
void http_exchange_drop(struct http_exchange *x);

/* Room for an address as http_exchange_peer_address() writes it (INET6_ADDRSTRLEN). */
#define HTTP_ADDRESS_MAX 46

/* ---- Switching protocols ------------------------------------------------------------ */

/* A connection the HTTP server has handed over (http_exchange_upgrade()). The server holds
 * nothing of it any more: it no longer counts it (max_connections, max_per_address,
 * http_server_connections()), times it out, evicts it, parses it, or closes it, in
 * http_server_close() or otherwise; the new owner does all of that.
 *
 * Ownership. The stream's memory stays where it was (libuv handles cannot move), inside
 * this object; the owner has it until it frees the object:
 * - stream: the client's connection, plain or TLS, open, not reading. The owner sets
 *   stream->data, calls net_stream_read_start() with its own callback and writes as it
 *   likes; answers the server queued before the upgrade (the 101 last) leave first. The
 *   owner ends it with net_stream_close(), and then, from the close callback or later,
 *   calls http_upgraded_free(u) exactly once. Never free() it or the stream.
 * - early[0..early_len): what the client sent after the request and the server read
 *   already (a client may send its first bytes in the new protocol right behind the
 *   request); the owner handles them before anything it reads. Valid until
 *   http_upgraded_free().
 * - address: the client's IP address as http_exchange_peer_address() writes it, "" when it
 *   is not known. */
struct http_upgraded
{
    struct net_stream *stream;
    const char *early;
    size_t early_len;
    char address[HTTP_ADDRESS_MAX];
};

/* Answers the request with "101 Switching Protocols", the given header lines after the
 * status line (each name a token, each value text without line breaks or control
 * characters; the server adds nothing else), and hands the connection over: *out (owned
 * by the caller, see struct http_upgraded). x is gone after a successful call. The answer
 * counts in the server's stats (1xx) like any other.
 *
 * Returns 0, or, with nothing written and x still waiting for its answer:
 * CD_EINVAL  a header is malformed, or n is larger than HTTP_HEADERS_MAX;
 * CD_ESTATE  the client has gone or the server is closing (x is detached), the connection
 *            is closing already, or the request is not the only one pending on it: the
 *            client has sent bytes after a request that did not ask to switch protocols
 *            (req->upgrade), which would be another HTTP request;
 * CD_ENOMEM  out of memory. */
int http_exchange_upgrade(struct http_exchange *x,
                          const struct http_header *headers,
                          size_t n,
                          struct http_upgraded **out);

/* Frees an upgraded connection whose stream has closed (see struct http_upgraded). */
void http_upgraded_free(struct http_upgraded *u);

/* Whether the client of x presented a certificate from the server's CA naming name
 * (net_stream_peer_is()); false on a plain connection, or once the client has gone. */
bool http_exchange_peer_is(const struct http_exchange *x, const char *name);

/* The IP address of x's client (the TCP peer, not what any header claims) into buf, which
 * holds len >= HTTP_ADDRESS_MAX bytes: "127.0.0.1" (an IPv4-mapped IPv6 address too),
 * "::1". Known from the connection's accept on, after the client has gone too. Returns 0,
 * or CD_EINVAL when len is too small or the address is not known (the client left before
 * it was accepted, or is not on IP). */
int http_exchange_peer_address(const struct http_exchange *x, char *buf, size_t len);

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

/* Makes every connection the pool opens from now on a TLS client stream of tls (borrowed
 * until http_client_close()), checking that the server's certificate names peer_name (a
 * member id, host name or IP literal; copied; NULL: the CA alone). Returns 0, or CD_EINVAL
 * when peer_name is longer than 255 bytes. */
int http_client_set_tls(struct http_client *c, struct net_tls *tls, const char *peer_name);

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

/* As http_client_request() with more header lines: headers (may be NULL) is a sequence of
 * "Name: value\r\n" lines (a token, text without line breaks), sent as given; anything
 * else is CD_EINVAL. */
int http_client_request_headers(struct http_client *c,
                                const char *method,
                                const char *target,
                                const char *content_type,
                                const char *headers,
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
