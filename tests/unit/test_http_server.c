/* adapters/http server: real sockets on 127.0.0.1, driven by raw TCP writes (to control how
 * bytes are split and what is malformed) and by the module's own client. */
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

static json_t *echo_of(const struct http_request *req, int calls)
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
static void reply_big(struct http_exchange *x, const struct http_request *req)
{
    char n[32];
    size_t len = http_query_get(req, "n", n, sizeof(n)) > 0 ? strtoul(n, NULL, 10) : BIG;
    char *body = malloc(len);

    assert_non_null(body);
    memset(body, 'b', len);
    http_reply(x, 200, "application/octet-stream", body, len);
    free(body);
}

static void handler(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct fixture *f = data;

    f->calls++;
    f->conns_at_call = http_server_connections(f->server);
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

static void raw_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void raw_write(struct raw *r, const char *data, size_t len)
{
    struct wbuf *w = malloc(sizeof(*w) + len);
    assert_non_null(w);
    memcpy(w->data, data, len);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
    assert_int_equal(uv_write(&w->req, (uv_stream_t *)&r->tcp, &buf, 1, raw_written), 0);
}

static void raw_paced(uv_timer_t *t)
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

static void raw_send(struct raw *r, const char *data, size_t len, size_t chunk)
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

static void raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
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

static void raw_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
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
static void raw_read_start(struct raw *r, bool discard)
{
    r->discard = discard;
    assert_int_equal(uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read), 0);
}

static void raw_connected(uv_connect_t *req, int status)
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
static struct raw *raw_connect(struct fixture *f, int i, const char *from, bool reading)
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

static struct raw *raw_open(struct fixture *f, int i)
{
    return raw_connect(f, i, NULL, true);
}

/* Half-closes: the client sends nothing more but still reads. */
static void raw_shutdown(struct raw *r)
{
    assert_int_equal(uv_shutdown(&r->shutdown, (uv_stream_t *)&r->tcp, NULL), 0);
}

static void raw_closed(uv_handle_t *h)
{
    struct raw *r = h->data;
    r->handles--;
}

static void raw_close(struct raw *r)
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
static void raw_reset(struct raw *r)
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
static int parse_responses(struct raw *r, struct resp *out, unsigned heads)
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

static json_t *resp_json(const struct resp *resp)
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
static void assert_error_body(const struct resp *resp, const char *code)
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

static int setup(void **state)
{
    *state = fixture_open();
    return 0;
}

static int teardown(void **state)
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
static void reply_held(struct fixture *f, int i, const char *text)
{
    http_reply(f->held[i], 200, "text/plain", text, strlen(text));
    f->held[i] = NULL;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

/* ---- Tests: framing ----------------------------------------------------------------- */

static void keep_alive_serves_requests_on_one_connection(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[64];

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/text"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_int_equal(r[0].status, 200);
    assert_memory_equal(r[0].body, "hello", 5);
    assert_string_equal(resp_header(&r[0], "Connection", v, sizeof(v)), "keep-alive");
    assert_string_equal(resp_header(&r[0], "Content-Type", v, sizeof(v)), "text/plain");
    SEND(0, GET("/text"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 2);
    assert_int_equal(r[1].status, 200);
    assert_int_equal(http_server_connections(f->server), 1);
    assert_int_equal(f->calls, 2);
    assert_false(f->raw[0].eof);
}

static void request_split_into_single_bytes_is_parsed(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND_BYTEWISE(0,
                  "POST /v1/things?x=1&y=two HTTP/1.1\r\nHost: t\r\nX-Empty:\r\n"
                  "Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    json_t *j = resp_json(&r[0]);
    assert_string_equal(jstr(j, "method"), "POST");
    assert_int_equal(json_integer_value(json_object_get(j, "method_enum")), HTTP_M_POST);
    assert_string_equal(jstr(j, "target"), "/v1/things?x=1&y=two");
    assert_string_equal(jstr(j, "path"), "/v1/things");
    assert_string_equal(jstr(j, "query"), "x=1&y=two");
    assert_string_equal(jstr(j, "body"), "hello world");
    json_t *h = json_object_get(j, "headers");
    assert_string_equal(jstr(h, "X-Empty"), "");
    assert_string_equal(jstr(h, "Content-Type"), "text/plain");
    assert_int_equal(json_object_size(h), 4);
    json_decref(j);
}

static void pipelined_requests_are_answered_in_order(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    /* The first is held; the second must wait behind it even though it is answered at
     * once when its turn comes. */
    SEND(0, GET("/hold") GET("/text") GET("/echo?n=3"));
    RUN_UNTIL(f->n_held == 1);
    RUN_FOR(20);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->raw[0].recv_len, 0);
    reply_held(f, 0, "first");
    RUN_UNTIL(RESPONSES(0, r, 0) == 3);
    assert_memory_equal(r[0].body, "first", 5);
    assert_memory_equal(r[1].body, "hello", 5);
    json_t *j = resp_json(&r[2]);
    assert_string_equal(jstr(j, "query"), "n=3");
    json_decref(j);
    assert_int_equal(f->calls, 3);
}

static void chunked_request_body_is_decoded(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0,
         "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n" GET("/text"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 2);
    json_t *j = resp_json(&r[0]);
    assert_string_equal(jstr(j, "body"), "hello world");
    json_decref(j);
    assert_memory_equal(r[1].body, "hello", 5);
}

static void http10_closes_unless_keep_alive(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[64];

    START(0);
    raw_open(f, 0);
    SEND(0, "GET /text HTTP/1.0\r\n\r\n");
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_string_equal(resp_header(&r[0], "Connection", v, sizeof(v)), "close");

    raw_open(f, 1);
    SEND(1, "GET /text HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    RUN_UNTIL(RESPONSES(1, r, 0) == 1);
    assert_string_equal(resp_header(&r[0], "Connection", v, sizeof(v)), "keep-alive");
    SEND(1, "GET /text HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    RUN_UNTIL(RESPONSES(1, r, 0) == 2);
    assert_false(f->raw[1].eof);
}

static void connection_close_is_honoured(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[64];

    START(0);
    raw_open(f, 0);
    /* Whatever follows a request that asked to close is never answered. */
    SEND(0, "GET /text HTTP/1.1\r\nConnection: close\r\n\r\n" GET("/text"));
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_string_equal(resp_header(&r[0], "Connection", v, sizeof(v)), "close");
    assert_int_equal(f->calls, 1);
    /* The server waits for the client's end before it lets the connection go. */
    assert_int_equal(http_server_connections(f->server), 1);
    raw_close(&f->raw[0]);
    RUN_UNTIL(http_server_connections(f->server) == 0);
}

static void head_gets_headers_only(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[64];

    START(0);
    raw_open(f, 0);
    SEND(0, "HEAD /text HTTP/1.1\r\nHost: t\r\n\r\n" GET("/text"));
    RUN_UNTIL(RESPONSES(0, r, 1u) == 2);
    assert_string_equal(resp_header(&r[0], "Content-Length", v, sizeof(v)), "5");
    /* The second answer starts right after the first one's blank line. */
    assert_ptr_equal(r[1].head, r[0].head + r[0].head_len + 2);
    assert_memory_equal(r[1].body, "hello", 5);
    assert_int_equal(r[1].body + 5 - f->raw[0].recv, f->raw[0].recv_len);
}

static void no_content_has_no_length_or_body(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[64];

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/none") GET("/text"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 2);
    assert_int_equal(r[0].status, 204);
    assert_string_equal(resp_header(&r[0], "Content-Length", v, sizeof(v)), "");
    assert_int_equal(r[1].status, 200);
}

static void expect_continue_is_answered(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0,
         "PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    RUN_UNTIL(find(f->raw[0].recv, f->raw[0].recv_len, "HTTP/1.1 100 Continue\r\n\r\n"));
    assert_int_equal(f->calls, 0);
    SEND(0, "data");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    json_t *j = resp_json(&r[0]);
    assert_string_equal(jstr(j, "body"), "data");
    json_decref(j);
}

static int count(const struct raw *r, const char *needle)
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

static void long_pipeline_waits_behind_a_held_request(void **state)
{
    F;
    /* Each request carries padding so that the queue outgrows what the server holds
     * back: reading must stop, then resume once the first request is answered. */
    enum { N = 120 };
    char pad[1001];
    char one[1200];
    size_t one_len;
    char *all = malloc(N * sizeof(one));

    assert_non_null(all);
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    one_len =
        (size_t)snprintf(one, sizeof(one), "GET /text HTTP/1.1\r\nX-Pad: %s\r\n\r\n", pad);
    size_t len = (size_t)snprintf(all, sizeof(one), GET("/hold"));
    for (int i = 0; i < N; i++) {
        memcpy(all + len, one, one_len);
        len += one_len;
    }
    START(0);
    raw_open(f, 0);
    raw_send(&f->raw[0], all, len, 0);
    free(all);
    RUN_UNTIL(f->n_held == 1);
    RUN_FOR(20);
    assert_int_equal(f->calls, 1);
    reply_held(f, 0, "first");
    RUN_UNTIL(count(&f->raw[0], "HTTP/1.1 200 OK") == N + 1);
    assert_int_equal(f->calls, N + 1);
    assert_true(find(f->raw[0].recv, f->raw[0].recv_len, "first") <
                find(f->raw[0].recv, f->raw[0].recv_len, "hello"));
}

static void chunked_body_in_single_bytes_is_echoed(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND_BYTEWISE(0,
                  "POST /mirror HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n1\r\nd\r\n0\r\nX-Trailer: 1\r\n\r\n");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_int_equal(r[0].body_len, 4);
    assert_memory_equal(r[0].body, "abcd", 4);
}

static void partial_request_then_disconnect(void **state)
{
    F;

    START(0);
    raw_open(f, 0);
    SEND(0, "POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    RUN_FOR(10);
    raw_close(&f->raw[0]);
    RUN_UNTIL(http_server_connections(f->server) == 0);
    assert_int_equal(f->calls, 0);
}

static void large_body_refused_early_still_gets_its_answer(void **state)
{
    F;
    struct resp r[RESP_MAX];
    size_t body = 512 * 1024;
    char head[128];
    int head_len = snprintf(head, sizeof(head),
                            "POST /echo HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", body);
    char *all = calloc(1, (size_t)head_len + body);

    assert_non_null(all);
    memcpy(all, head, (size_t)head_len);
    START(.max_body = 1024);
    raw_open(f, 0);
    raw_send(&f->raw[0], all, (size_t)head_len + body, 0);
    free(all);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 413);
    assert_error_body(&r[0], "TOO_LARGE");
}

/* ---- Tests: refusals ---------------------------------------------------------------- */

static void garbage_gets_400_and_close(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[64];

    START(0);
    raw_open(f, 0);
    SEND(0, "hello there\r\n\r\n");
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 400);
    assert_string_equal(resp_header(&r[0], "Connection", v, sizeof(v)), "close");
    assert_error_body(&r[0], "BAD_REQUEST");
    assert_int_equal(f->calls, 0);
}

static void bad_request_after_good_one_is_answered_in_turn(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/hold") "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n");
    RUN_UNTIL(f->n_held == 1);
    RUN_FOR(10);
    assert_int_equal(f->raw[0].recv_len, 0);
    reply_held(f, 0, "ok");
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 2);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(r[1].status, 400);
    assert_error_body(&r[1], "BAD_REQUEST");
}

static void body_over_limit_gets_413(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.max_body = 16);
    raw_open(f, 0);
    SEND(0, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n");
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 413);
    assert_error_body(&r[0], "TOO_LARGE");

    raw_open(f, 1);
    SEND(1,
         "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
         "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
    RUN_UNTIL(f->raw[1].eof);
    assert_int_equal(RESPONSES(1, r, 0), 1);
    assert_int_equal(r[0].status, 413);
    assert_error_body(&r[0], "TOO_LARGE");
    assert_int_equal(f->calls, 0);
}

static void body_at_limit_is_accepted(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.max_body = 16);
    raw_open(f, 0);
    SEND(0, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n0123456789abcdef");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_int_equal(r[0].status, 200);
}

static void headers_over_limit_get_431(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char req[1024];

    START(.max_header_bytes = 256);
    raw_open(f, 0);
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nX-Big: %0300d\r\n\r\n", 7);
    SEND(0, req);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 431);
    assert_error_body(&r[0], "TOO_LARGE");

    /* Whitespace the parser skips still counts. */
    raw_open(f, 1);
    snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nX-Pad:%300s\r\n\r\n", "x");
    SEND(1, req);
    RUN_UNTIL(f->raw[1].eof);
    assert_int_equal(RESPONSES(1, r, 0), 1);
    assert_int_equal(r[0].status, 431);
    assert_int_equal(f->calls, 0);
}

static void too_many_header_fields_get_431(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char req[2048] = "GET / HTTP/1.1\r\n";

    START(0);
    for (int i = 0; i <= HTTP_HEADERS_MAX; i++) {
        snprintf(req + strlen(req), sizeof(req) - strlen(req), "X-H%d: %d\r\n", i, i);
    }
    strcat(req, "\r\n");
    raw_open(f, 0);
    SEND(0, req);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 431);
}

static void malformed_path_encoding_gets_400(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/a%zzb"));
    raw_open(f, 1);
    SEND(1, GET("/a%00b"));
    RUN_UNTIL(f->raw[0].eof && f->raw[1].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 400);
    assert_int_equal(RESPONSES(1, r, 0), 1);
    assert_int_equal(r[0].status, 400);
    assert_int_equal(f->calls, 0);
}

/* llhttp compiled in its loose mode skips the two bytes after chunk data unread, whatever
 * they are: a smuggling vector when a proxy in front reads the framing differently. */
static void chunk_data_without_crlf_gets_400(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0,
         "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3\r\nabcXY0\r\n\r\n");
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 400);
    assert_error_body(&r[0], "BAD_REQUEST");

    /* The same, split so that the bad bytes arrive on their own. */
    raw_open(f, 1);
    SEND_BYTEWISE(1,
                  "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "1\r\na\n\r0\r\n\r\n");
    RUN_UNTIL(f->raw[1].eof);
    assert_int_equal(RESPONSES(1, r, 0), 1);
    assert_int_equal(r[0].status, 400);
    assert_int_equal(f->calls, 0);
}

/* llhttp's strict mode lets a field line that starts with ':' through, as a field named "";
 * found by tests/fuzz/fuzz_http_parse. Alone, or in the trailer of a chunked body. */
static void header_field_without_a_name_gets_400(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0, "GET / HTTP/1.1\r\nHost: t\r\n: x\r\n\r\n");
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 400);
    assert_error_body(&r[0], "BAD_REQUEST");

    raw_open(f, 1);
    SEND_BYTEWISE(1,
                  "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "1\r\na\r\n0\r\n:x\r\n\r\n");
    RUN_UNTIL(f->raw[1].eof);
    assert_int_equal(RESPONSES(1, r, 0), 1);
    assert_int_equal(r[0].status, 400);
    assert_int_equal(f->calls, 0);
}

/* llhttp judges "Connection: close" by its first line but hands over "close x": a proxy in
 * front may read the value otherwise. Found by tests/fuzz/fuzz_http_parse. */
static void folded_header_field_gets_400(void **state)
{
    F;
    static const char request[] =
        "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n  x\r\n\r\n";
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0, request);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 400);
    assert_error_body(&r[0], "BAD_REQUEST");

    raw_open(f, 1);
    SEND_BYTEWISE(1, "GET / HTTP/1.1\r\nX-A:\r\n\tb\r\nHost: t\r\n\r\n");
    RUN_UNTIL(f->raw[1].eof);
    assert_int_equal(RESPONSES(1, r, 0), 1);
    assert_int_equal(r[0].status, 400);
    assert_int_equal(f->calls, 0);
}

/* llhttp takes HTTP/0.9 and HTTP/2.0 too, and a request line without a version as HTTP/0.9
 * with header fields after it; found by tests/fuzz/fuzz_http_parse. */
static void http_versions_but_1x_get_505(void **state)
{
    F;
    static const char *const requests[] = {
        "GET /\r\nHost: t\r\n\r\n",
        "GET / HTTP/0.9\r\nHost: t\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: t\r\n\r\n",
    };
    struct resp r[RESP_MAX];

    START(0);
    for (int i = 0; i < 3; i++) {
        raw_open(f, i);
        SEND(i, requests[i]);
        RUN_UNTIL(f->raw[i].eof);
        assert_int_equal(RESPONSES(i, r, 0), 1);
        assert_int_equal(r[0].status, 505);
        assert_error_body(&r[0], "HTTP_VERSION");
    }
    assert_int_equal(f->calls, 0);
}

static void unknown_expectation_gets_417(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0, "POST / HTTP/1.1\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx");
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 417);
    assert_error_body(&r[0], "EXPECTATION_FAILED");
}

/* ---- Tests: exchanges --------------------------------------------------------------- */

static void reply_later(uv_timer_t *t)
{
    struct fixture *f = t->data;
    http_reply_json(f->held[0], 201, json_pack("{s:s}", "late", "yes"));
    f->held[0] = NULL;
    uv_close((uv_handle_t *)t, NULL);
}

static void async_reply_from_a_timer(void **state)
{
    F;
    struct resp r[RESP_MAX];
    uv_timer_t later;

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/hold"));
    RUN_UNTIL(f->n_held == 1);
    uv_timer_init(&f->loop, &later);
    later.data = f;
    uv_timer_start(&later, reply_later, 20, 0);
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_int_equal(r[0].status, 201);
    json_t *j = resp_json(&r[0]);
    assert_string_equal(jstr(j, "late"), "yes");
    json_decref(j);
}

static void reset_before_reply_detaches_exchange(void **state)
{
    F;

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/hold"));
    RUN_UNTIL(f->n_held == 1);
    raw_reset(&f->raw[0]);
    RUN_UNTIL(http_server_connections(f->server) == 0);
    /* The answer goes nowhere; the exchange is freed (the leak checker watches). */
    http_reply_error(f->held[0], 500, "INTERNAL", "too late");
    f->held[0] = NULL;
    RUN_FOR(5);
}

static void drop_closes_the_connection(void **state)
{
    F;

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/drop"));
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(f->raw[0].recv_len, 0);
    RUN_UNTIL(http_server_connections(f->server) == 0);
}

static void close_with_held_exchange_detaches_it(void **state)
{
    F;

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/hold"));
    RUN_UNTIL(f->n_held == 1);
    http_server_close(f->server, server_closed, f);
    RUN_UNTIL(f->server_closed && f->raw[0].eof);
    assert_int_equal(f->raw[0].recv_len, 0);
    reply_held(f, 0, "gone");
}

/* ---- Tests: connections ------------------------------------------------------------- */

static void idle_connection_times_out(void **state)
{
    F;

    START(.idle_timeout_ms = 30);
    raw_open(f, 0);
    RUN_UNTIL(http_server_connections(f->server) == 1);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(http_server_connections(f->server), 0);
}

static struct http_server_stats stats_of(struct fixture *f)
{
    struct http_server_stats st;
    http_server_stats(f->server, &st);
    return st;
}

/* ---- Tests: half-close -------------------------------------------------------------- */

static void half_closed_client_gets_every_answer(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/hold") GET("/text"));
    raw_shutdown(&f->raw[0]);
    RUN_UNTIL(f->n_held == 1);
    RUN_FOR(20);
    /* The end of the client's stream is not the end of the client. */
    assert_int_equal(http_server_connections(f->server), 1);
    reply_held(f, 0, "first");
    RUN_UNTIL(f->raw[0].eof);
    assert_false(f->raw[0].reset);
    assert_int_equal(RESPONSES(0, r, 0), 2);
    assert_memory_equal(r[0].body, "first", 5);
    assert_memory_equal(r[1].body, "hello", 5);
    RUN_UNTIL(http_server_connections(f->server) == 0);
}

static void half_closed_client_gets_a_large_answer_whole(void **state)
{
    F;

    START(0);
    raw_connect(f, 0, NULL, false);
    SEND(0, GET("/big?n=4000000"));
    raw_shutdown(&f->raw[0]);
    RUN_UNTIL(f->calls == 1);
    RUN_FOR(20);
    raw_read_start(&f->raw[0], true);
    RUN_UNTIL(f->raw[0].eof);
    assert_false(f->raw[0].reset);
    assert_true(f->raw[0].recv_total > 4000000);
    RUN_UNTIL(http_server_connections(f->server) == 0);
}

static void half_close_in_the_middle_of_a_request_closes(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(0);
    raw_open(f, 0);
    SEND(0, GET("/text") "POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    raw_shutdown(&f->raw[0]);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_memory_equal(r[0].body, "hello", 5);
    assert_int_equal(f->calls, 1);
    RUN_UNTIL(http_server_connections(f->server) == 0);
}

/* ---- Tests: deadlines --------------------------------------------------------------- */

/* A long request sent a byte per loop turn takes seconds; its deadline is a tenth of one. */
static char *padded_request(const char *head, size_t pad, const char *rest)
{
    size_t len = strlen(head) + pad + strlen(rest) + 1;
    char *req = malloc(len);

    assert_non_null(req);
    snprintf(req, len, "%s%*s%s", head, (int)pad, "x", rest);
    return req;
}

static void trickled_header_block_gets_408(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char *req = padded_request("GET /text HTTP/1.1\r\nX-Pad: ", 3000, "\r\n\r\n");

    /* Every byte comes well within the idle timeout, which alone would wait forever. */
    START(.header_timeout_ms = 100, .idle_timeout_ms = 5000, .max_header_bytes = 8192);
    raw_open(f, 0);
    SEND_BYTEWISE(0, req);
    free(req);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 408);
    assert_error_body(&r[0], "TIMEOUT");
    assert_int_equal(f->calls, 0);
    assert_int_equal(stats_of(f).timed_out, 1);
}

static void trickled_body_gets_408(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char *body = padded_request("", 3000, "");

    START(.body_timeout_ms = 100, .idle_timeout_ms = 5000);
    raw_open(f, 0);
    SEND(0, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3000\r\n\r\n");
    SEND_BYTEWISE(0, body);
    free(body);
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 408);
    assert_error_body(&r[0], "TIMEOUT");
    assert_int_equal(f->calls, 0);
}

static void deadlines_run_only_while_the_server_waits_for_the_client(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.header_timeout_ms = 20, .body_timeout_ms = 20, .idle_timeout_ms = 5000);
    raw_open(f, 0);
    /* A quiet keep-alive connection is idle, not late. */
    RUN_FOR(60);
    /* The second request waits behind the first well past its deadlines. */
    SEND(0,
         "POST /hold HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"
         "POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\ncd");
    RUN_UNTIL(f->n_held == 1);
    RUN_FOR(60);
    reply_held(f, 0, "first");
    RUN_UNTIL(RESPONSES(0, r, 0) == 2);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(r[1].status, 200);
    assert_int_equal(stats_of(f).timed_out, 0);
    assert_false(f->raw[0].eof);
}

/* ---- Tests: unsent output ----------------------------------------------------------- */

/* N requests for BIG bytes each, then one that asks to close. */
static char *big_pipeline(int n)
{
    static const char one[] = GET("/big");
    static const char last[] = "GET /text HTTP/1.1\r\nConnection: close\r\n\r\n";
    char *all = malloc((size_t)n * (sizeof(one) - 1) + sizeof(last));

    assert_non_null(all);
    for (int i = 0; i < n; i++) {
        memcpy(all + (size_t)i * (sizeof(one) - 1), one, sizeof(one) - 1);
    }
    memcpy(all + (size_t)n * (sizeof(one) - 1), last, sizeof(last));
    return all;
}

static void client_that_does_not_read_pauses_parsing(void **state)
{
    F;
    enum { N = 64 }; /* 16 MiB of answers: more than every socket buffer between */
    char *all = big_pipeline(N);

    START(.output_high_water = 64 * 1024);
    raw_connect(f, 0, NULL, false);
    SEND(0, all);
    free(all);
    /* The kernel may still take some bytes after a pause (acks in flight, growing socket
     * buffers), letting a few more requests through; at most its buffers' worth (4 MiB
     * here, 16 answers) may pass, never all N. */
    RUN_UNTIL(stats_of(f).output_paused >= 1);
    RUN_FOR(30);
    assert_true(f->calls < N / 2);
    /* The client reads at last: every answer arrives, in full. */
    raw_read_start(&f->raw[0], true);
    RUN_UNTIL(f->raw[0].eof);
    assert_false(f->raw[0].reset);
    assert_int_equal(f->calls, N + 1);
    assert_true(f->raw[0].recv_total > (size_t)N * BIG);
    assert_int_equal(stats_of(f).answers[2], N + 1);
    assert_int_equal(stats_of(f).output_closed, 0);
}

static void output_that_never_drains_closes(void **state)
{
    F;
    char *all = big_pipeline(64);

    START(.output_high_water = 64 * 1024, .output_timeout_ms = 50);
    raw_connect(f, 0, NULL, false);
    SEND(0, all);
    free(all);
    RUN_UNTIL(stats_of(f).output_paused >= 1);
    RUN_UNTIL(http_server_connections(f->server) == 0);
    assert_int_equal(stats_of(f).output_closed, 1);
    assert_true(f->calls < 64);
}

static void answer_past_the_output_limit_closes(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.output_limit = 100 * 1000);
    raw_open(f, 0);
    SEND(0, GET("/big?n=50000"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_int_equal(r[0].body_len, 50000);
    SEND(0, GET("/big?n=100001"));
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(f->calls, 2);
    assert_int_equal(stats_of(f).output_closed, 1);
}

/* ---- Tests: connection caps --------------------------------------------------------- */

static void at_the_cap_the_least_recently_active_idle_connection_makes_room(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.max_connections = 2);
    raw_open(f, 0);
    raw_open(f, 1);
    RUN_UNTIL(http_server_connections(f->server) == 2);
    /* The older connection is the more recently active one. */
    SEND(0, GET("/text"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    raw_open(f, 2);
    RUN_UNTIL(f->raw[1].eof);
    assert_false(f->raw[0].eof);
    SEND(2, GET("/text"));
    RUN_UNTIL(RESPONSES(2, r, 0) == 1);
    SEND(0, GET("/text"));
    RUN_UNTIL(RESPONSES(0, r, 0) == 2);
    assert_int_equal(http_server_connections(f->server), 2);
    assert_int_equal(stats_of(f).evicted, 1);
    assert_int_equal(stats_of(f).refused_busy, 0);
}

static void at_the_cap_with_every_connection_busy_the_newcomer_gets_503(void **state)
{
    F;
    struct resp r[RESP_MAX];
    char v[64];

    START(.max_connections = 2);
    raw_open(f, 0);
    SEND(0, GET("/hold"));
    RUN_UNTIL(f->n_held == 1);
    /* The "100 Continue" shows that the server is in the middle of this one. */
    raw_open(f, 1);
    SEND(1, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    RUN_UNTIL(find(f->raw[1].recv, f->raw[1].recv_len, "HTTP/1.1 100 Continue\r\n\r\n"));
    raw_open(f, 2);
    SEND(2, GET("/text"));
    RUN_UNTIL(f->raw[2].eof);
    assert_int_equal(RESPONSES(2, r, 0), 1);
    assert_int_equal(r[0].status, 503);
    assert_string_equal(resp_header(&r[0], "Connection", v, sizeof(v)), "close");
    assert_error_body(&r[0], "UNAVAILABLE");
    assert_int_equal(f->calls, 1);
    assert_int_equal(stats_of(f).refused_busy, 1);
    assert_int_equal(stats_of(f).evicted, 0);
    /* Both busy connections are untouched. */
    SEND(1, "ok");
    RUN_UNTIL(RESPONSES(1, r, 0) == 1);
    assert_int_equal(r[0].status, 200);
    reply_held(f, 0, "first");
    RUN_UNTIL(RESPONSES(0, r, 0) == 1);
    assert_memory_equal(r[0].body, "first", 5);
}

static void an_address_over_its_cap_gets_503(void **state)
{
    F;
    struct resp r[RESP_MAX];

    START(.max_per_address = 2);
    raw_connect(f, 0, "127.0.0.1", true);
    raw_connect(f, 1, "127.0.0.1", true);
    RUN_UNTIL(http_server_connections(f->server) == 2);
    raw_connect(f, 2, "127.0.0.1", true);
    RUN_UNTIL(f->raw[2].eof);
    assert_int_equal(RESPONSES(2, r, 0), 1);
    assert_int_equal(r[0].status, 503);
    assert_error_body(&r[0], "UNAVAILABLE");
    assert_int_equal(stats_of(f).refused_address, 1);
    /* Another address is not held back, and a freed place is taken again. */
    raw_connect(f, 3, "127.0.0.2", true);
    SEND(3, GET("/text"));
    RUN_UNTIL(RESPONSES(3, r, 0) == 1);
    raw_close(&f->raw[0]);
    RUN_UNTIL(http_server_connections(f->server) == 2);
    raw_close(&f->raw[2]);
    raw_connect(f, 2, "127.0.0.1", true);
    SEND(2, GET("/text"));
    RUN_UNTIL(RESPONSES(2, r, 0) == 1);
    assert_int_equal(r[0].status, 200);
    assert_int_equal(stats_of(f).refused_address, 1);
    assert_int_equal(stats_of(f).evicted, 0);
}

/* n bare connections from 127.0.0.1 that send nothing. */
struct crowd
{
    struct fixture *f;
    uv_tcp_t *tcp;
    uv_connect_t *connect;
    int n;
    int connected;
    int closed;
};

static void crowd_connected(uv_connect_t *req, int status)
{
    struct crowd *c = req->data;
    assert_int_equal(status, 0);
    c->connected++;
}

static void crowd_open(struct fixture *f, struct crowd *c, int n)
{
    struct sockaddr_in addr;

    c->f = f;
    c->n = n;
    c->connected = c->closed = 0;
    c->tcp = calloc((size_t)n, sizeof(*c->tcp));
    c->connect = calloc((size_t)n, sizeof(*c->connect));
    assert_true(c->tcp != NULL && c->connect != NULL);
    uv_ip4_addr("127.0.0.1", http_server_port(f->server), &addr);
    for (int i = 0; i < n; i++) {
        uv_tcp_init(&f->loop, &c->tcp[i]);
        c->tcp[i].data = c->connect[i].data = c;
        assert_int_equal(uv_tcp_connect(&c->connect[i], &c->tcp[i],
                                        (const struct sockaddr *)&addr, crowd_connected),
                         0);
    }
    RUN_UNTIL(c->connected == n);
}

static void crowd_closed(uv_handle_t *h)
{
    struct crowd *c = h->data;
    c->closed++;
}

static void crowd_close(struct fixture *f, struct crowd *c)
{
    for (int i = 0; i < c->n; i++) {
        uv_close((uv_handle_t *)&c->tcp[i], crowd_closed);
    }
    RUN_UNTIL(c->closed == c->n);
    free(c->tcp);
    free(c->connect);
}

static void address_cap_defaults_to_256(void **state)
{
    F;
    struct crowd c;

    START(0);
    crowd_open(f, &c, 257);
    RUN_UNTIL(stats_of(f).refused_address == 1);
    RUN_UNTIL(http_server_connections(f->server) == 256);
    crowd_close(f, &c);
}

static void address_cap_can_be_turned_off(void **state)
{
    F;
    struct crowd c;

    START(.max_per_address = HTTP_NO_LIMIT);
    crowd_open(f, &c, 257);
    RUN_UNTIL(http_server_connections(f->server) == 257);
    assert_int_equal(stats_of(f).refused_address, 0);
    crowd_close(f, &c);
}

static void listen_reports_errors(void **state)
{
    F;
    struct http_server *other;
    char err[256];

    START(0);
    assert_int_equal(http_server_new(&f->loop, NULL, handler, f, &other), 0);
    assert_int_equal(
        http_server_listen(other, "127.0.0.1", http_server_port(f->server), err, sizeof(err)),
        CD_EIO);
    assert_non_null(strstr(err, "listen on '127.0.0.1:"));
    assert_non_null(strstr(err, "address already in use"));
    assert_int_equal(http_server_listen(other, "localhost", 80, err, sizeof(err)), CD_EINVAL);
    assert_string_equal(err, "listen on 'localhost:80': not an IPv4 or IPv6 address");
    http_server_close(other, server_closed, f);
    RUN_UNTIL(f->server_closed);
    f->server_closed = false;
}

/* ---- Tests: with the module's client ----------------------------------------------- */

static void client_done(void *data, const struct http_response *res)
{
    struct fixture *f = data;
    f->client_status = res->status;
    snprintf(f->client_body, sizeof(f->client_body), "%s", res->body);
    f->client_done = true;
}

static void error_reply_reaches_client_as_json(void **state)
{
    F;

    START(0);
    assert_int_equal(
        http_client_new(&f->loop, "127.0.0.1", http_server_port(f->server), 1, &f->client), 0);
    assert_int_equal(
        http_client_request(f->client, "GET", "/error", NULL, NULL, 0, 0, client_done, f), 0);
    RUN_UNTIL(f->client_done);
    assert_int_equal(f->client_status, 404);
    json_t *j = json_loads(f->client_body, 0, NULL);
    assert_non_null(j);
    json_t *err = json_object_get(j, "error");
    assert_string_equal(jstr(err, "code"), "NOT_FOUND");
    assert_string_equal(jstr(err, "message"), "no route '/error'");
    json_decref(j);
}

static void percent_decoded_path_reaches_handler(void **state)
{
    F;

    START(0);
    assert_int_equal(
        http_client_new(&f->loop, "127.0.0.1", http_server_port(f->server), 1, &f->client), 0);
    assert_int_equal(http_client_request(f->client, "DELETE", "/v1/a%2Fb%20c+d?x=%41", NULL,
                                         NULL, 0, 0, client_done, f),
                     0);
    RUN_UNTIL(f->client_done);
    json_t *j = json_loads(f->client_body, 0, NULL);
    assert_string_equal(jstr(j, "path"), "/v1/a/b c+d");
    assert_string_equal(jstr(j, "query"), "x=%41");
    assert_string_equal(jstr(j, "method"), "DELETE");
    json_decref(j);
}

/* ---- Tests: helpers ----------------------------------------------------------------- */

static void query_and_header_helpers(void **state)
{
    struct http_request req = {
        .query = "a=1&b=hello%20world&c&d=x+y&e=%zz&long=abcdefgh&k%65y=v&=z",
        .n_headers = 2,
        .headers = {{"Content-Type", "text/plain"}, {"X-Id", "7"}},
    };
    char buf[16];

    (void)state;
    assert_int_equal(http_query_get(&req, "a", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "1");
    assert_int_equal(http_query_get(&req, "b", buf, sizeof(buf)), 11);
    assert_string_equal(buf, "hello world");
    assert_int_equal(http_query_get(&req, "c", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_int_equal(http_query_get(&req, "d", buf, sizeof(buf)), 3);
    assert_string_equal(buf, "x y");
    assert_int_equal(http_query_get(&req, "e", buf, sizeof(buf)), 3);
    assert_string_equal(buf, "%zz");
    assert_int_equal(http_query_get(&req, "key", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "v");
    assert_int_equal(http_query_get(&req, "missing", buf, sizeof(buf)), -1);
    assert_int_equal(http_query_get(&req, "long", buf, 8), -2);
    assert_int_equal(http_query_get(&req, "long", buf, 9), 8);
    assert_string_equal(http_header_get(&req, "content-type"), "text/plain");
    assert_string_equal(http_header_get(&req, "X-ID"), "7");
    assert_null(http_header_get(&req, "Accept"));
    assert_string_equal(http_status_text(404), "Not Found");
    assert_string_equal(http_status_text(431), "Request Header Fields Too Large");
    assert_string_equal(http_status_text(299), "Unknown");
}

/* The per-address table against a plain array: many addresses (so that it grows), uneven
 * counts, removals in an order unlike the insertions (so that probe runs get repaired). */
static void peer_table_counts_like_an_array(void **state)
{
    enum { N = 1500 };
    static unsigned model[N];
    struct http__peers t = {0};
    struct http__peer_addr a;
    struct sockaddr_in sin = {.sin_family = AF_INET};

    (void)state;
    memset(model, 0, sizeof(model));
    for (unsigned step = 0; step < 20000; step++) {
        unsigned i = (step * 7919u) % N;
        sin.sin_addr.s_addr = htonl(0x0a000000u + i);
        assert_int_equal(http__peer_addr_from((struct sockaddr *)&sin, &a), 0);
        if (step % 3 != 2 || model[i] == 0) {
            assert_int_equal(http__peers_add(&t, &a), 0);
            model[i]++;
        } else {
            http__peers_remove(&t, &a);
            model[i]--;
        }
        if (step % 997 == 0) {
            for (unsigned k = 0; k < N; k++) {
                sin.sin_addr.s_addr = htonl(0x0a000000u + k);
                http__peer_addr_from((struct sockaddr *)&sin, &a);
                assert_int_equal(http__peers_count(&t, &a), model[k]);
            }
        }
    }
    /* Emptied again, every address reads 0. */
    for (unsigned k = 0; k < N; k++) {
        sin.sin_addr.s_addr = htonl(0x0a000000u + k);
        http__peer_addr_from((struct sockaddr *)&sin, &a);
        while (model[k] > 0) {
            http__peers_remove(&t, &a);
            model[k]--;
        }
    }
    assert_int_equal(t.used, 0);
    sin.sin_addr.s_addr = htonl(0x0a000000u);
    http__peer_addr_from((struct sockaddr *)&sin, &a);
    assert_int_equal(http__peers_count(&t, &a), 0);
    /* IPv4 and its IPv6-mapped form are one address. */
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    struct http__peer_addr b;
    uv_ip6_addr("::ffff:10.0.0.7", 0, &sin6);
    uv_ip4_addr("10.0.0.7", 0, &sin);
    http__peer_addr_from((struct sockaddr *)&sin6, &a);
    http__peer_addr_from((struct sockaddr *)&sin, &b);
    assert_memory_equal(&a, &b, sizeof(a));
    http__peers_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(keep_alive_serves_requests_on_one_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(request_split_into_single_bytes_is_parsed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pipelined_requests_are_answered_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(chunked_request_body_is_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(long_pipeline_waits_behind_a_held_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(chunked_body_in_single_bytes_is_echoed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(partial_request_then_disconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(large_body_refused_early_still_gets_its_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(http10_closes_unless_keep_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(connection_close_is_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(head_gets_headers_only, setup, teardown),
        cmocka_unit_test_setup_teardown(no_content_has_no_length_or_body, setup, teardown),
        cmocka_unit_test_setup_teardown(expect_continue_is_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_gets_400_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_request_after_good_one_is_answered_in_turn, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(body_over_limit_gets_413, setup, teardown),
        cmocka_unit_test_setup_teardown(body_at_limit_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(headers_over_limit_get_431, setup, teardown),
        cmocka_unit_test_setup_teardown(too_many_header_fields_get_431, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_path_encoding_gets_400, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_expectation_gets_417, setup, teardown),
        cmocka_unit_test_setup_teardown(chunk_data_without_crlf_gets_400, setup, teardown),
        cmocka_unit_test_setup_teardown(header_field_without_a_name_gets_400, setup, teardown),
        cmocka_unit_test_setup_teardown(http_versions_but_1x_get_505, setup, teardown),
        cmocka_unit_test_setup_teardown(folded_header_field_gets_400, setup, teardown),
        cmocka_unit_test_setup_teardown(async_reply_from_a_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_before_reply_detaches_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(drop_closes_the_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(close_with_held_exchange_detaches_it, setup, teardown),
        cmocka_unit_test_setup_teardown(idle_connection_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(half_closed_client_gets_every_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(half_closed_client_gets_a_large_answer_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(half_close_in_the_middle_of_a_request_closes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(trickled_header_block_gets_408, setup, teardown),
        cmocka_unit_test_setup_teardown(trickled_body_gets_408, setup, teardown),
        cmocka_unit_test_setup_teardown(
            deadlines_run_only_while_the_server_waits_for_the_client, setup, teardown),
        cmocka_unit_test_setup_teardown(client_that_does_not_read_pauses_parsing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(output_that_never_drains_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(answer_past_the_output_limit_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(
            at_the_cap_the_least_recently_active_idle_connection_makes_room, setup, teardown),
        cmocka_unit_test_setup_teardown(
            at_the_cap_with_every_connection_busy_the_newcomer_gets_503, setup, teardown),
        cmocka_unit_test_setup_teardown(an_address_over_its_cap_gets_503, setup, teardown),
        cmocka_unit_test_setup_teardown(address_cap_defaults_to_256, setup, teardown),
        cmocka_unit_test_setup_teardown(address_cap_can_be_turned_off, setup, teardown),
        cmocka_unit_test_setup_teardown(listen_reports_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(error_reply_reaches_client_as_json, setup, teardown),
        cmocka_unit_test_setup_teardown(percent_decoded_path_reaches_handler, setup, teardown),
        cmocka_unit_test(query_and_header_helpers),
        cmocka_unit_test(peer_table_counts_like_an_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
