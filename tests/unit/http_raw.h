/* The server tests' fixture: a server on 127.0.0.1 with a handler that echoes, holds or
 * answers big, and raw TCP clients (to control how bytes are split and what is malformed).
 * Shared by test_http_server.c and test_http_limits.c. */
#ifndef CD_TEST_HTTP_RAW_H
#define CD_TEST_HTTP_RAW_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "adapters/http/http.h"
#include "adapters/http/peers.h"
#include "common/error.h"

#define RAW_MAX 5
#define HELD_MAX 8
#define RECV_MAX (64 * 1024)
#define RESP_MAX 8
#define BIG (256 * 1024)

struct fixture;

/* A hand-driven TCP client: sends exactly the bytes it is given, in pieces of `chunk`
 * bytes one loop turn apart, and keeps everything it receives (or, discarding, counts
 * it). */
struct raw
{
    struct fixture *f;
    uv_tcp_t tcp;
    uv_timer_t pace;
    uv_connect_t connect;
    char *pending; /* bytes still to send, paced */
    size_t pending_len;
    size_t pending_off;
    size_t chunk;
    uv_shutdown_t shutdown;
    char recv[RECV_MAX];
    size_t recv_len;
    size_t recv_total; /* kept or discarded */
    bool discard;
    bool reading;
    bool connected;
    bool eof;
    bool reset; /* the read ended with an error rather than EOF */
    bool open;
    int handles;
};

struct fixture
{
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    struct http_server *server;
    bool server_closed;
    struct http_client *client;
    struct raw raw[RAW_MAX];
    struct http_exchange *held[HELD_MAX];
    int n_held;
    int calls;
    unsigned conns_at_call;
    int client_status;
    char client_body[1024];
    bool client_done;
    bool timer_fired;
    /* When set, sees every request first; true when it took the exchange. */
    bool (*on_request)(struct fixture *f,
                       struct http_exchange *x,
                       const struct http_request *req);
    void *test; /* the test's own */
};

/* One response cut out of a raw client's bytes. */
struct resp
{
    int status;
    const char *head; /* status line and headers, up to the blank line */
    size_t head_len;
    const char *body;
    size_t body_len;
};

#include "tests/unit/http_fixture.h"

#define START(...)                                     \
    do {                                               \
        struct http_server_options o_ = {__VA_ARGS__}; \
        start_server(f, &o_);                          \
    } while (0)
#define SEND(i, text) raw_send(&f->raw[i], (text), strlen(text), 0)
#define SEND_BYTEWISE(i, text) raw_send(&f->raw[i], (text), strlen(text), 1)
#define RESPONSES(i, out, heads) parse_responses(&f->raw[i], (out), (heads))

/* ---- Handler ------------------------------------------------------------------------ */

static inline json_t *echo_of(const struct http_request *req, int calls)
{
    json_t *headers = json_object();
    for (size_t i = 0; i < req->n_headers; i++) {
        json_object_set_new(headers, req->headers[i].name, json_string(req->headers[i].value));
    }
    return json_pack("{s:s,s:i,s:s,s:s,s:s,s:s%,s:o,s:i}", "method", req->method_name,
                     "method_enum", (int)req->method, "target", req->target, "path", req->path,
                     "query", req->query, "body", req->body, req->body_len, "headers", headers,
                     "calls", calls);
}

/* Answers ?n= bytes (default BIG). */
static inline void reply_big(struct http_exchange *x, const struct http_request *req)
{
    char n[32];
    size_t len = http_query_get(req, "n", n, sizeof(n)) > 0 ? strtoul(n, NULL, 10) : BIG;
    char *body = malloc(len);

    assert_non_null(body);
    memset(body, 'b', len);
    http_reply(x, 200, "application/octet-stream", body, len);
    free(body);
}

/* /headers?lines=N: answers with the extra header lines of case N (http_reply_headers());
 * one it refuses is answered 409 REFUSED instead. /peer: the client's address as text. */
static inline void reply_headers(struct http_exchange *x, const struct http_request *req)
{
    static const char *const cases[] = {
        "Set-Cookie: s=1; Path=/; Secure; HttpOnly; SameSite=Strict\r\nRetry-After: 7\r\n",
        "X-Forged: a\r\nSet-Cookie: s=2\r\n\r\nHTTP/1.1 200 OK\r\n", /* a second answer */
        "X-Split: a\nSet-Cookie: s=3\r\n",                           /* a bare LF */
        "X-Split: a\rSet-Cookie: s=4\r\n",                           /* a bare CR */
        "X-No-End: a",                                               /* no CRLF */
        "Bad Name: a\r\n",                                           /* not a token */
        "content-length: 0\r\n",                                     /* the server's */
        "Connection: close\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Content-Type: text/html\r\n",
        "",
        ": a\r\n",
    };
    char n[8], addr[HTTP_ADDRESS_MAX];
    size_t i = http_query_get(req, "lines", n, sizeof(n)) > 0 ? strtoul(n, NULL, 10) : 0;
    if (strcmp(req->path, "/peer") == 0) {
        assert_int_equal(http_exchange_peer_address(x, addr, sizeof(addr) - 1), CD_EINVAL);
        assert_int_equal(http_exchange_peer_address(x, addr, sizeof(addr)), 0);
        http_reply(x, 200, "text/plain", addr, strlen(addr));
        return;
    }
    assert_true(i < sizeof(cases) / sizeof(cases[0]));
    if (strcmp(req->path, "/headers-json") == 0) {
        if (http_reply_json_headers(x, 201, cases[i], json_pack("{s:i}", "case", (int)i)) !=
            0) {
            http_reply_error(x, 409, "REFUSED", "case %zu", i);
        }
    } else if (http_reply_headers(x, 200, "text/plain", cases[i], "ok", 2) != 0) {
        http_reply_error(x, 409, "REFUSED", "case %zu", i);
    }
}

static inline void handler(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct fixture *f = data;

    f->calls++;
    f->conns_at_call = http_server_connections(f->server);
    if (f->on_request != NULL && f->on_request(f, x, req)) {
        return;
    }
    if (strcmp(req->path, "/hold") == 0) {
        assert_true(f->n_held < HELD_MAX);
        f->held[f->n_held++] = x;
    } else if (strcmp(req->path, "/drop") == 0) {
        http_exchange_drop(x);
    } else if (strcmp(req->path, "/text") == 0) {
        http_reply(x, 200, "text/plain", "hello", 5);
    } else if (strcmp(req->path, "/mirror") == 0) {
        http_reply(x, 200, "application/octet-stream", req->body, req->body_len);
    } else if (strcmp(req->path, "/big") == 0) {
        reply_big(x, req);
    } else if (strcmp(req->path, "/none") == 0) {
        http_reply(x, 204, NULL, NULL, 0);
    } else if (strncmp(req->path, "/headers", 8) == 0 || strcmp(req->path, "/peer") == 0) {
        reply_headers(x, req);
    } else if (strcmp(req->path, "/error") == 0) {
        http_reply_error(x, 404, "NOT_FOUND", "no route '%s'", req->path);
    } else {
        http_reply_json(x, 200, echo_of(req, f->calls));
    }
}

/* ---- Raw client --------------------------------------------------------------------- */

struct wbuf
{
    uv_write_t req;
    char data[];
};

static inline void raw_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static inline void raw_write(struct raw *r, const char *data, size_t len)
{
    struct wbuf *w = malloc(sizeof(*w) + len);
    assert_non_null(w);
    memcpy(w->data, data, len);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    assert_int_equal(uv_write(&w->req, (uv_stream_t *)&r->tcp, &buf, 1, raw_written), 0);
}

static inline void raw_paced(uv_timer_t *t)
{
    struct raw *r = t->data;
    size_t n = r->pending_len - r->pending_off;

    n = n < r->chunk ? n : r->chunk;
    raw_write(r, r->pending + r->pending_off, n);
    r->pending_off += n;
    if (r->pending_off == r->pending_len) {
        free(r->pending);
        r->pending = NULL;
        r->pending_len = r->pending_off = 0;
        return;
    }
    uv_timer_start(&r->pace, raw_paced, 1, 0);
}

static inline void raw_send(struct raw *r, const char *data, size_t len, size_t chunk)
{
    if (chunk == 0) {
        raw_write(r, data, len);
        return;
    }
    assert_null(r->pending);
    r->pending = malloc(len);
    assert_non_null(r->pending);
    memcpy(r->pending, data, len);
    r->pending_len = len;
    r->chunk = chunk;
    uv_timer_start(&r->pace, raw_paced, 1, 0);
}

static inline void raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char sink[64 * 1024];
    struct raw *r = h->data;
    (void)suggested;
    if (r->discard) {
        *buf = uv_buf_init(sink, sizeof(sink));
        return;
    }
    *buf = uv_buf_init(r->recv + r->recv_len, (unsigned)(RECV_MAX - r->recv_len));
}

static inline void raw_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct raw *r = s->data;
    (void)buf;
    if (nread < 0) {
        r->eof = true;
        r->reset = nread != UV_EOF;
        uv_read_stop(s);
        return;
    }
    r->recv_total += (size_t)nread;
    r->recv_len += r->discard ? 0 : (size_t)nread;
}

/* Starts taking what the server sends; discard: count it only. */
static inline void raw_read_start(struct raw *r, bool discard)
{
    r->discard = discard;
    assert_int_equal(uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read), 0);
}

static inline void raw_connected(uv_connect_t *req, int status)
{
    struct raw *r = req->data;
    assert_int_equal(status, 0);
    r->connected = true;
    uv_tcp_nodelay(&r->tcp, 1);
    if (r->reading) {
        raw_read_start(r, false);
    }
}

/* Connects raw client i from the local address from (NULL: any). A client that is not
 * reading gets a small receive buffer, so that what the server sends soon piles up on the
 * server's side. */
static inline struct raw *raw_connect(struct fixture *f, int i, const char *from, bool reading)
{
    struct raw *r = &f->raw[i];
    struct sockaddr_in addr;

    /* A slot used before is taken again once its handles have closed. */
    assert_false(r->open);
    RUN_UNTIL(r->handles == 0);
    memset(r, 0, sizeof(*r));
    r->f = f;
    r->reading = reading;
    assert_int_equal(uv_tcp_init_ex(&f->loop, &r->tcp, AF_INET), 0);
    uv_timer_init(&f->loop, &r->pace);
    r->tcp.data = r->pace.data = r->connect.data = r;
    r->open = true;
    if (from != NULL) {
        uv_ip4_addr(from, 0, &addr);
        assert_int_equal(uv_tcp_bind(&r->tcp, (const struct sockaddr *)&addr, 0), 0);
    }
    if (!reading) {
        int size = 4096;
        assert_int_equal(uv_recv_buffer_size((uv_handle_t *)&r->tcp, &size), 0);
    }
    uv_ip4_addr("127.0.0.1", http_server_port(f->server), &addr);
    assert_int_equal(
        uv_tcp_connect(&r->connect, &r->tcp, (const struct sockaddr *)&addr, raw_connected), 0);
    RUN_UNTIL(r->connected);
    return r;
}

static inline struct raw *raw_open(struct fixture *f, int i)
{
    return raw_connect(f, i, NULL, true);
}

/* Half-closes: the client sends nothing more but still reads. */
static inline void raw_shutdown(struct raw *r)
{
    assert_int_equal(uv_shutdown(&r->shutdown, (uv_stream_t *)&r->tcp, NULL), 0);
}

static inline void raw_closed(uv_handle_t *h)
{
    struct raw *r = h->data;
    r->handles--;
}

static inline void raw_close(struct raw *r)
{
    if (!r->open) {
        return;
    }
    r->open = false;
    r->handles = 2;
    free(r->pending);
    r->pending = NULL;
    uv_close((uv_handle_t *)&r->tcp, raw_closed);
    uv_close((uv_handle_t *)&r->pace, raw_closed);
}

/* Goes away the hard way: the server sees a reset, not an orderly end. */
static inline void raw_reset(struct raw *r)
{
    assert_true(r->open);
    r->open = false;
    r->handles = 2;
    free(r->pending);
    r->pending = NULL;
    assert_int_equal(uv_tcp_close_reset(&r->tcp, raw_closed), 0);
    uv_close((uv_handle_t *)&r->pace, raw_closed);
}

static const char *find(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

/* The value of header name in a response head, copied into out ("" when absent). */
static const char *resp_header(const struct resp *resp, const char *name, char *out, size_t n)
{
    const char *line = memchr(resp->head, '\n', resp->head_len);
    out[0] = '\0';
    while (line != NULL && line < resp->head + resp->head_len) {
        line++;
        size_t name_len = strlen(name);
        if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *v = line + name_len + 1;
            v += strspn(v, " ");
            size_t len = strcspn(v, "\r");
            snprintf(out, n, "%.*s", (int)len, v);
            return out;
        }
        line = memchr(line, '\n', (size_t)(resp->head + resp->head_len - line));
    }
    return out;
}

/* Cuts complete responses out of what raw i received. heads: bit k set when response k
 * answers HEAD (no body). Interim 100 responses are skipped. */
static inline int parse_responses(struct raw *r, struct resp *out, unsigned heads)
{
    const char *p = r->recv;
    const char *end = r->recv + r->recv_len;
    int n = 0;
    char cl[32];

    while (n < RESP_MAX && p < end) {
        const char *blank = find(p, (size_t)(end - p), "\r\n\r\n");
        if (blank == NULL || end - p < 12) {
            break;
        }
        struct resp *resp = &out[n];
        resp->status = atoi(p + 9);
        resp->head = p;
        resp->head_len = (size_t)(blank + 2 - p);
        resp->body = blank + 4;
        resp->body_len = 0;
        if (resp->status == 100) {
            p = blank + 4;
            continue;
        }
        if (!(heads & (1u << n)) && *resp_header(resp, "Content-Length", cl, sizeof(cl))) {
            resp->body_len = strtoul(cl, NULL, 10);
        }
        if (resp->body + resp->body_len > end) {
            break;
        }
        p = resp->body + resp->body_len;
        n++;
    }
    return n;
}

static inline json_t *resp_json(const struct resp *resp)
{
    json_error_t e;
    json_t *j = json_loadb(resp->body, resp->body_len, 0, &e);
    assert_non_null(j);
    return j;
}

static const char *jstr(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    assert_non_null(v);
    return json_string_value(v);
}

/* Checks {"error":{"code":code,"message":...}} and returns nothing more than that. */
static inline void assert_error_body(const struct resp *resp, const char *code)
{
    char ct[64];
    json_t *j = resp_json(resp);
    json_t *err = json_object_get(j, "error");
    assert_true(json_is_object(err));
    assert_int_equal(json_object_size(err), 2);
    assert_string_equal(jstr(err, "code"), code);
    assert_true(strlen(jstr(err, "message")) > 0);
    assert_string_equal(resp_header(resp, "Content-Type", ct, sizeof(ct)), "application/json");
    json_decref(j);
}

/* ---- Setup -------------------------------------------------------------------------- */

static inline int setup(void **state)
{
    *state = fixture_open();
    return 0;
}

static inline int teardown(void **state)
{
    F;

    for (int i = 0; i < RAW_MAX; i++) {
        raw_close(&f->raw[i]);
    }
    if (f->client != NULL) {
        http_client_close(f->client);
    }
    fixture_close(f);
    return 0;
}

/* Answers held exchange i with a short text. */
static inline void reply_held(struct fixture *f, int i, const char *text)
{
    http_reply(f->held[i], 200, "text/plain", text, strlen(text));
    f->held[i] = NULL;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

/* ---- Tests: framing ----------------------------------------------------------------- */

static inline int count(const struct raw *r, const char *needle)
{
    int n = 0;
    const char *p = r->recv;
    const char *end = r->recv + r->recv_len;

    while ((p = find(p, (size_t)(end - p), needle)) != NULL) {
        n++;
        p++;
    }
    return n;
}

static inline struct http_server_stats stats_of(struct fixture *f)
{
    struct http_server_stats st;
    http_server_stats(f->server, &st);
    return st;
}

/* ---- Tests: half-close -------------------------------------------------------------- */

#endif
