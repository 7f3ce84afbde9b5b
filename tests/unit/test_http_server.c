/* adapters/http server: real sockets on 127.0.0.1, driven by raw TCP writes (to control how
 * bytes are split and what is malformed) and by the module's own client. */
#include "http_raw.h"

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

/* A path's own limit: /doc and what lies under it take 32 bytes, /tiny 4; a path that only
 * begins like one (/docs) keeps the server's 16. */
static void a_path_s_body_limit_replaces_max_body(void **state)
{
    F;
    struct resp r[RESP_MAX];
    static const struct http_body_limit limits[] = {{"/doc", 32}, {"/tiny", 4}, {NULL, 0}};
    static const struct
    {
        const char *target;
        int length;
        int status;
    } cases[] = {
        {"/doc", 32, 200},  {"/doc", 33, 413},     {"/doc/sub", 32, 200}, {"/doc?x=1", 32, 200},
        {"/docs", 17, 413}, {"/docs", 16, 200},    {"/tiny", 5, 413},     {"/tiny", 4, 200},
        {"/echo", 17, 413}, {"/doc/sub", 40, 413},
    };
    char req[256], body[64];

    memset(body, 'b', sizeof(body));
    START(.max_body = 16, .body_limits = limits);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = snprintf(req, sizeof(req),
                         "POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
                         "Connection: close\r\n\r\n%.*s",
                         cases[i].target, cases[i].length, cases[i].length, body);
        assert_true(n > 0 && (size_t)n < sizeof(req));
        raw_open(f, 0);
        SEND(0, req);
        RUN_UNTIL(f->raw[0].eof);
        assert_int_equal(RESPONSES(0, r, 0), 1);
        if (r[0].status != cases[i].status) {
            fail_msg("%s with %d bytes: %d, expected %d", cases[i].target, cases[i].length,
                     r[0].status, cases[i].status);
        }
        if (cases[i].status == 413) {
            assert_error_body(&r[0], "TOO_LARGE");
        }
        raw_close(&f->raw[0]);
    }
    /* A chunked body has no length up front: the path's limit holds as it arrives. */
    raw_open(f, 0);
    SEND(0,
         "POST /tiny HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n");
    RUN_UNTIL(f->raw[0].eof);
    assert_int_equal(RESPONSES(0, r, 0), 1);
    assert_int_equal(r[0].status, 413);
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
        cmocka_unit_test_setup_teardown(a_path_s_body_limit_replaces_max_body, setup, teardown),
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
        cmocka_unit_test_setup_teardown(listen_reports_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(error_reply_reaches_client_as_json, setup, teardown),
        cmocka_unit_test_setup_teardown(percent_decoded_path_reaches_handler, setup, teardown),
        cmocka_unit_test(query_and_header_helpers),
        cmocka_unit_test(peer_table_counts_like_an_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
