/* adapters/ws: a WebSocket server behind the module's HTTP server, on 127.0.0.1, plain and
 * TLS, driven by a raw client written here: it sends exactly the frames a test builds
 * (masked or not, split or whole) and parses what the server sends back. */
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
#include "adapters/ws/ws.h"
#include "common/error.h"
#include "tests/unit/tls_fixture.h"

TLS_CERTS_GROUP

#define CLIENTS 4
#define HELD_MAX 1
#define RECV_MAX (256 * 1024)
#define TEXTS_MAX 16

struct client
{
    struct fixture *f;
    struct net_stream s;
    uv_connect_t connect;
    bool connected;
    bool ended; /* the server ended its stream, or it failed */
    bool closed;
    bool open;
    char recv[RECV_MAX];
    size_t len;
    size_t off; /* consumed by the test */
};

struct fixture
{
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    bool timer_fired;
    struct http_server *server;
    bool server_closed;
    struct http_exchange *held[HELD_MAX];
    int n_held;
    struct net_tls *server_tls;
    struct net_tls *client_tls;
    struct ws_server *ws;
    bool ws_closed;
    struct client cl[CLIENTS];
    struct ws_conn *conn[CLIENTS + 4];
    int n_conns;
    int accept_rc;
    int accepts;
    char texts[TEXTS_MAX][128];
    int n_texts;
    int n_closed;
    uint16_t close_code;
    char close_reason[128];
    bool echo; /* on_text answers with the same text */
};

#include "tests/unit/http_fixture.h"

/* ---- Server side ---------------------------------------------------------------------- */

static void on_text(void *data, struct ws_conn *c, const char *msg, size_t len)
{
    struct fixture *f = data;

    assert_true(f->n_texts < TEXTS_MAX);
    snprintf(f->texts[f->n_texts++], sizeof(f->texts[0]), "%.*s", (int)len, msg);
    if (len == 5 && memcmp(msg, "close", 5) == 0) {
        ws_close(c, 1000, "bye");
        assert_int_equal(ws_send_text(c, "late", 4), CD_ESTATE);
    } else if (f->echo) {
        assert_int_equal(ws_send_text(c, msg, len), 0);
    }
}

static void on_close(void *data, struct ws_conn *c, uint16_t code, const char *reason)
{
    struct fixture *f = data;

    assert_ptr_equal(ws_conn_data(c), f);
    f->n_closed++;
    f->close_code = code;
    snprintf(f->close_reason, sizeof(f->close_reason), "%s", reason);
    for (int i = 0; i < f->n_conns; i++) {
        if (f->conn[i] == c) {
            f->conn[i] = NULL;
        }
    }
}

static const struct ws_handler ws_handler = {on_text, on_close};

static void handler(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct fixture *f = data;
    struct ws_conn *c = NULL;

    f->accepts++;
    f->accept_rc = ws_accept(f->ws, x, req, &ws_handler, f, &c);
    if (f->accept_rc == 0) {
        assert_non_null(c);
        f->conn[f->n_conns++] = c;
    } else {
        assert_null(c);
    }
}

static void ws_done(void *data)
{
    struct fixture *f = data;
    f->ws_closed = true;
}

/* Starts the HTTP and WebSocket servers; tls: over TLS. */
static void start(struct fixture *f, const struct ws_limits *lim, bool tls)
{
    struct http_server_options opt = {0};

    if (tls) {
        f->server_tls = test_tls(tls_certs.dir, "n1", true, false);
        f->client_tls = test_tls(tls_certs.dir, NULL, false, false);
        assert_non_null(f->server_tls);
        assert_non_null(f->client_tls);
        opt.tls = f->server_tls;
    }
    start_server(f, &opt);
    assert_int_equal(ws_server_new(&f->loop, lim, &f->ws), 0);
    f->echo = true;
}

#define START(tls, ...)                      \
    do {                                     \
        struct ws_limits l_ = {__VA_ARGS__}; \
        start(f, &l_, (tls));                \
    } while (0)

static struct ws_server_stats stats_of(struct fixture *f)
{
    struct ws_server_stats st;
    ws_server_stats(f->ws, &st);
    return st;
}

/* ---- The raw client ------------------------------------------------------------------- */

static void client_read(struct net_stream *s, ssize_t nread, const char *data)
{
    struct client *c = s->data;

    if (nread < 0) {
        c->ended = true;
        return;
    }
    assert_true(c->len + (size_t)nread <= RECV_MAX);
    memcpy(c->recv + c->len, data, (size_t)nread);
    c->len += (size_t)nread;
}

static void client_connected(uv_connect_t *req, int status)
{
    struct client *c = req->data;

    assert_int_equal(status, 0);
    assert_int_equal(net_stream_start(&c->s, c->f->client_tls ? "n1" : NULL, 0), 0);
    assert_int_equal(net_stream_read_start(&c->s, client_read), 0);
    c->connected = true;
}

static struct client *client_open(struct fixture *f, int i)
{
    struct client *c = &f->cl[i];
    struct sockaddr_in addr;

    memset(c, 0, sizeof(*c));
    c->f = f;
    assert_int_equal(net_stream_init(&f->loop, &c->s, f->client_tls), 0);
    c->s.data = c;
    c->connect.data = c;
    c->open = true;
    uv_ip4_addr("127.0.0.1", http_server_port(f->server), &addr);
    assert_int_equal(uv_tcp_connect(&c->connect, &c->s.tcp, (const struct sockaddr *)&addr,
                                    client_connected),
                     0);
    RUN_UNTIL(c->connected);
    return c;
}

static void client_closed(struct net_stream *s)
{
    struct client *c = s->data;
    c->closed = true;
}

static void client_close(struct fixture *f, int i)
{
    struct client *c = &f->cl[i];
    if (c->open) {
        c->open = false;
        net_stream_close(&c->s, client_closed);
        RUN_UNTIL(c->closed);
    }
}

static void client_send(struct fixture *f, int i, const void *data, size_t len)
{
    assert_int_equal(net_stream_write(&f->cl[i].s, data, len, NULL, NULL), 0);
}

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define HANDSHAKE(extra)                                                            \
    "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: keep-alive, " \
    "Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n" extra "\r\n"

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

/* Waits for a whole HTTP answer head; returns its status and copies it into head. */
static int http_answer(struct fixture *f, int i, char *head, size_t cap)
{
    struct client *c = &f->cl[i];
    const char *end;

    RUN_UNTIL((end = find(c->recv + c->off, c->len - c->off, "\r\n\r\n")) != NULL);
    size_t n = (size_t)(end + 4 - (c->recv + c->off));
    snprintf(head, cap, "%.*s", (int)n, c->recv + c->off);
    c->off += n;
    return atoi(head + 9);
}

/* Connects client i and completes the opening handshake. */
static void client_upgrade(struct fixture *f, int i)
{
    char head[1024];

    client_open(f, i);
    client_send(f, i, HANDSHAKE(""), strlen(HANDSHAKE("")));
    assert_int_equal(http_answer(f, i, head, sizeof(head)), 101);
}

/* ---- Frames ----------------------------------------------------------------------------- */

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

/* A client frame into out; returns its size. */
static size_t frame_ex(char *out, bool fin, int op, const char *p, size_t n, bool masked)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t off = 0;

    out[off++] = (char)((fin ? 0x80 : 0) | op);
    uint8_t m = masked ? 0x80 : 0;
    if (n < 126) {
        out[off++] = (char)(m | n);
    } else if (n < 65536) {
        out[off++] = (char)(m | 126);
        out[off++] = (char)(n >> 8);
        out[off++] = (char)n;
    } else {
        out[off++] = (char)(m | 127);
        for (int k = 7; k >= 0; k--) {
            out[off++] = (char)((uint64_t)n >> (8 * k));
        }
    }
    if (masked) {
        memcpy(out + off, key, 4);
        off += 4;
    }
    for (size_t k = 0; k < n; k++) {
        out[off + k] = (char)(p[k] ^ (masked ? key[k & 3] : 0));
    }
    return off + n;
}

static void send_frame(struct fixture *f, int i, bool fin, int op, const char *p, size_t n)
{
    char *buf = malloc(n + 14);
    assert_non_null(buf);
    client_send(f, i, buf, frame_ex(buf, fin, op, p, n, true));
    free(buf);
}

#define SEND_TEXT(i, s) send_frame(f, (i), true, OP_TEXT, (s), strlen(s))

struct wsframe
{
    bool fin;
    int op;
    size_t len;
    char payload[RECV_MAX];
};

/* Cuts the next server frame out of client i's bytes; false when none is whole yet. */
static bool next_frame(struct client *c, struct wsframe *fr)
{
    const uint8_t *p = (const uint8_t *)c->recv + c->off;
    size_t have = c->len - c->off;

    if (have < 2) {
        return false;
    }
    assert_int_equal(p[1] & 0x80, 0); /* a server never masks */
    size_t head = 2;
    uint64_t len = p[1] & 0x7f;
    if (len >= 126) {
        size_t bytes = len == 126 ? 2 : 8;
        if (have < 2 + bytes) {
            return false;
        }
        len = 0;
        for (size_t k = 0; k < bytes; k++) {
            len = (len << 8) | p[2 + k];
        }
        head += bytes;
    }
    if (have < head + len) {
        return false;
    }
    fr->fin = (p[0] & 0x80) != 0;
    fr->op = p[0] & 0x0f;
    fr->len = (size_t)len;
    memcpy(fr->payload, p + head, fr->len);
    fr->payload[fr->len] = '\0';
    c->off += head + fr->len;
    return true;
}

static struct wsframe frame_buf;

/* Waits for client i's next frame. */
static struct wsframe *next_frame_of(struct fixture *f, int i)
{
    RUN_UNTIL(next_frame(&f->cl[i], &frame_buf));
    return &frame_buf;
}

#define NEXT_FRAME(i) next_frame_of(f, (i))

/* The next frame is a close with code and reason. */
static void expect_close(struct fixture *f, int i, uint16_t code, const char *reason)
{
    struct wsframe *fr = NEXT_FRAME(i);
    assert_int_equal(fr->op, OP_CLOSE);
    assert_true(fr->len >= 2);
    assert_int_equal(((uint8_t)fr->payload[0] << 8) | (uint8_t)fr->payload[1], code);
    assert_string_equal(fr->payload + 2, reason);
}

static void expect_text(struct fixture *f, int i, const char *text)
{
    struct wsframe *fr = NEXT_FRAME(i);
    assert_int_equal(fr->op, OP_TEXT);
    assert_true(fr->fin);
    assert_string_equal(fr->payload, text);
}

/* Sends a close frame with code and reason. */
static void send_close(struct fixture *f, int i, uint16_t code, const char *reason)
{
    char p[128];
    p[0] = (char)(code >> 8);
    p[1] = (char)code;
    size_t n = strlen(reason);
    memcpy(p + 2, reason, n);
    send_frame(f, i, true, OP_CLOSE, p, n + 2);
}

/* ---- Setup ---------------------------------------------------------------------------- */

static int setup(void **state)
{
    *state = fixture_open();
    return 0;
}

static int teardown(void **state)
{
    F;

    for (int i = 0; i < CLIENTS; i++) {
        client_close(f, i);
    }
    if (f->ws != NULL) {
        ws_server_close(f->ws, ws_done, f);
        RUN_UNTIL(f->ws_closed);
    }
    fixture_close(f);
    net_tls_free(f->server_tls);
    net_tls_free(f->client_tls);
    return 0;
}

/* ---- Handshake ------------------------------------------------------------------------ */

static void handshake_is_accepted_and_text_echoed(bool tls, void **state)
{
    F;
    char head[1024];
    char addr[HTTP_ADDRESS_MAX];

    START(tls, 0);
    client_open(f, 0);
    client_send(f, 0, HANDSHAKE(""), strlen(HANDSHAKE("")));
    assert_int_equal(http_answer(f, 0, head, sizeof(head)), 101);
    /* RFC 6455's own example: that key gives this answer. */
    assert_non_null(strstr(head, "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert_non_null(strstr(head, "\r\nUpgrade: websocket\r\n"));
    assert_non_null(strstr(head, "\r\nConnection: Upgrade\r\n"));
    assert_int_equal(f->accept_rc, 0);
    assert_int_equal(ws_conn_peer_address(f->conn[0], addr, sizeof(addr)), 0);
    assert_string_equal(addr, "127.0.0.1");
    assert_int_equal(ws_conn_peer_address(f->conn[0], addr, 8), CD_EINVAL);
    SEND_TEXT(0, "hello");
    expect_text(f, 0, "hello");
    assert_string_equal(f->texts[0], "hello");
    struct ws_server_stats st = stats_of(f);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.open, 1);
    assert_int_equal(st.msgs_in, 1);
    assert_int_equal(st.msgs_out, 1);
    /* The HTTP server no longer holds the connection. */
    assert_int_equal(http_server_connections(f->server), 0);
}

static void handshake_plain(void **state)
{
    handshake_is_accepted_and_text_echoed(false, state);
}

static void handshake_tls(void **state)
{
    handshake_is_accepted_and_text_echoed(true, state);
}

/* One bad handshake: the status, the error code, and the header it must carry. */
static void bad_handshake(struct fixture *f,
                          int i,
                          const char *request,
                          int status,
                          const char *code,
                          const char *header)
{
    char head[1024];

    client_open(f, i);
    client_send(f, i, request, strlen(request));
    assert_int_equal(http_answer(f, i, head, sizeof(head)), status);
    assert_int_equal(f->accept_rc, CD_EINVAL);
    if (header != NULL) {
        assert_non_null(strstr(head, header));
    }
    /* The error's body names its cause. */
    RUN_UNTIL(find(f->cl[i].recv, f->cl[i].len, code) != NULL);
    client_close(f, i);
}

static void bad_handshakes_get_http_errors(void **state)
{
    F;

    START(false, 0);
    bad_handshake(f, 0,
                  "POST /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: "
                  "Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY
                  "\r\nContent-Length: 0\r\n\r\n",
                  405, "\"METHOD\"", NULL);
    bad_handshake(f, 0,
                  "GET /ws HTTP/1.0\r\nHost: t\r\nUpgrade: websocket\r\nConnection: "
                  "Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
                  400, "HTTP/1.1", NULL);
    bad_handshake(f, 0,
                  "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
                  400, "Upgrade: websocket", NULL);
    bad_handshake(f, 0,
                  "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
                  400, "Upgrade: websocket", NULL);
    bad_handshake(f, 0,
                  "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: close\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
                  400, "Connection", NULL);
    bad_handshake(f, 0,
                  "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: "
                  "Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
                  400, "no Sec-WebSocket-Version", NULL);
    bad_handshake(f, 0,
                  "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: "
                  "Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
                  426, "UPGRADE_REQUIRED", "\r\nSec-WebSocket-Version: 13\r\n");
    bad_handshake(f, 0,
                  "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: "
                  "Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n\r\n",
                  400, "Sec-WebSocket-Key", NULL);
    bad_handshake(f, 0,
                  "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: "
                  "Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
                  400, "Sec-WebSocket-Key", NULL);
    /* 22 characters of the alphabet whose last one carries bits beyond the 16 bytes. */
    bad_handshake(f, 0,
                  "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: "
                  "Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                  "dGhlIHNhbXBsZSBub25jZR==\r\n\r\n",
                  400, "Sec-WebSocket-Key", NULL);
    struct ws_server_stats st = stats_of(f);
    assert_int_equal(st.refused_handshake, 10);
    assert_int_equal(st.accepted, 0);
    assert_int_equal(f->n_closed, 0);
}

/* ---- Frames ----------------------------------------------------------------------------- */

static void a_frame_right_behind_the_handshake_is_read(void **state)
{
    F;
    char buf[512], head[1024];

    START(false, 0);
    client_open(f, 0);
    size_t n = strlen(HANDSHAKE(""));
    memcpy(buf, HANDSHAKE(""), n);
    n += frame_ex(buf + n, true, OP_TEXT, "early", 5, true);
    client_send(f, 0, buf, n);
    assert_int_equal(http_answer(f, 0, head, sizeof(head)), 101);
    expect_text(f, 0, "early");
}

static void fragmented_messages_are_reassembled(bool tls, void **state)
{
    F;

    START(tls, 0);
    client_upgrade(f, 0);
    send_frame(f, 0, false, OP_TEXT, "Hel", 3);
    send_frame(f, 0, false, OP_CONT, "lo ", 3);
    /* A control frame may come between the fragments; its answer comes at once. */
    send_frame(f, 0, true, OP_PING, "p", 1);
    struct wsframe *fr = NEXT_FRAME(0);
    assert_int_equal(fr->op, OP_PONG);
    assert_string_equal(fr->payload, "p");
    assert_int_equal(f->n_texts, 0);
    send_frame(f, 0, false, OP_CONT, "world", 5);
    send_frame(f, 0, true, OP_CONT, "", 0);
    expect_text(f, 0, "Hello world");
    assert_int_equal(f->n_texts, 1);
    assert_string_equal(f->texts[0], "Hello world");
}

static void fragments_plain(void **state)
{
    fragmented_messages_are_reassembled(false, state);
}

static void fragments_tls(void **state)
{
    fragmented_messages_are_reassembled(true, state);
}

static void a_message_split_over_fragments_keeps_its_characters(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    send_frame(f, 0, false, OP_TEXT, "caf", 3);
    send_frame(f, 0, false, OP_CONT, "\xc3", 1);
    send_frame(f, 0, true, OP_CONT, "\xa9!", 2);
    expect_text(f, 0, "caf\xc3\xa9!");
    assert_string_equal(f->texts[0], "caf\xc3\xa9!");
}

static void a_frame_split_across_reads_is_whole(void **state)
{
    F;
    char buf[64];

    START(false, 0);
    client_upgrade(f, 0);
    size_t n = frame_ex(buf, true, OP_TEXT, "bytewise", 8, true);
    for (size_t k = 0; k < n; k++) {
        client_send(f, 0, buf + k, 1);
        RUN_FOR(2);
    }
    expect_text(f, 0, "bytewise");
    assert_int_equal(f->n_texts, 1);
}

static void a_ping_gets_its_pong(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    send_frame(f, 0, true, OP_PING, "are you there", 13);
    struct wsframe *fr = NEXT_FRAME(0);
    assert_int_equal(fr->op, OP_PONG);
    assert_string_equal(fr->payload, "are you there");
}

static void an_idle_client_is_pinged_and_closed_without_an_answer(void **state)
{
    F;

    START(false, .ping_ms = 30, .pong_timeout_ms = 30);
    client_upgrade(f, 0);
    client_upgrade(f, 1);
    /* Client 1 answers its pings; client 0 does not. */
    struct wsframe *fr = NEXT_FRAME(1);
    assert_int_equal(fr->op, OP_PING);
    send_frame(f, 1, true, OP_PONG, "", 0);
    fr = NEXT_FRAME(0);
    assert_int_equal(fr->op, OP_PING);
    expect_close(f, 0, 1001, "no answer to ping");
    RUN_UNTIL(f->cl[0].ended);
    client_close(f, 0);
    RUN_UNTIL(f->n_closed == 1);
    assert_int_equal(f->close_code, 1001);
    assert_string_equal(f->close_reason, "no answer to ping");
    assert_non_null(f->conn[1]);
    assert_int_equal(stats_of(f).closed_by_code[ws_code_index(1001)], 1);
}

/* ---- Limits ------------------------------------------------------------------------- */

static void forced_close(struct fixture *f, int i, uint16_t code, const char *reason)
{
    expect_close(f, i, code, reason);
    /* The server ends TCP after its close frame; the client closes its side then. */
    RUN_UNTIL(f->cl[i].ended);
    client_close(f, i);
    RUN_UNTIL(f->n_closed == 1);
    assert_int_equal(f->close_code, code);
    assert_string_equal(f->close_reason, reason);
    assert_int_equal(stats_of(f).forced, 1);
}

static void a_frame_over_the_limit_closes_1009(void **state)
{
    F;

    START(false, .max_frame = 16, .max_message = 64);
    client_upgrade(f, 0);
    SEND_TEXT(0, "sixteen bytes ok");
    expect_text(f, 0, "sixteen bytes ok");
    SEND_TEXT(0, "seventeen bytes!!");
    forced_close(f, 0, 1009, "frame too large");
    assert_int_equal(f->n_texts, 1);
}

static void a_message_over_the_limit_closes_1009(void **state)
{
    F;

    START(false, .max_frame = 16, .max_message = 24);
    client_upgrade(f, 0);
    send_frame(f, 0, false, OP_TEXT, "0123456789", 10);
    send_frame(f, 0, false, OP_CONT, "0123456789", 10);
    send_frame(f, 0, true, OP_CONT, "01234", 5);
    forced_close(f, 0, 1009, "message too large");
    assert_int_equal(f->n_texts, 0);
}

static void a_huge_announced_frame_closes_before_its_payload(void **state)
{
    F;
    char buf[16];

    START(false, 0);
    client_upgrade(f, 0);
    /* 2^40 bytes announced, none sent: refused at the header, nothing allocated. */
    buf[0] = (char)0x81;
    buf[1] = (char)(0x80 | 127);
    memcpy(buf + 2, "\0\0\x01\0\0\0\0\0", 8);
    memcpy(buf + 10, "abcd", 4);
    client_send(f, 0, buf, 14);
    forced_close(f, 0, 1009, "frame too large");
}

static void too_many_messages_close_1008(void **state)
{
    F;

    START(false, .msgs_per_s = 1, .burst = 2);
    client_upgrade(f, 0);
    f->echo = false;
    SEND_TEXT(0, "one");
    SEND_TEXT(0, "two");
    SEND_TEXT(0, "three");
    forced_close(f, 0, 1008, "too many messages");
    assert_int_equal(f->n_texts, 2);
}

/* A second connection from an address at its limit, or one over the server's. */
static void refused_at_accept(struct fixture *f, int i, const char *reason)
{
    client_upgrade(f, i);
    assert_int_equal(f->accept_rc, CD_ETOOBIG);
    expect_close(f, i, 1013, reason);
    RUN_UNTIL(f->cl[i].ended);
    struct ws_server_stats st = stats_of(f);
    assert_int_equal(st.refused_limit, 1);
    assert_int_equal(st.open, 1);
    client_close(f, i);
    RUN_FOR(10);
    assert_int_equal(f->n_closed, 0); /* on_close is not called for it */
    /* The first still works. */
    SEND_TEXT(0, "still");
    expect_text(f, 0, "still");
}

static void the_address_limit_closes_1013(void **state)
{
    F;

    START(false, .max_per_address = 1);
    client_upgrade(f, 0);
    refused_at_accept(f, 1, "too many connections from this address");
    /* Once the first is gone, the address may connect again. */
    client_close(f, 0);
    RUN_UNTIL(f->n_closed == 1);
    assert_int_equal(f->close_code, 1006);
    client_upgrade(f, 2);
    assert_int_equal(f->accept_rc, 0);
}

static void the_connection_limit_closes_1013(void **state)
{
    F;

    START(false, .max_connections = 1, .max_per_address = WS_NO_LIMIT);
    client_upgrade(f, 0);
    refused_at_accept(f, 1, "too many connections");
}

static void a_client_that_does_not_read_closes_1008(void **state)
{
    F;
    static char chunk[16 * 1024];
    int rc = 0;

    START(false, .output_limit = 64 * 1024, .close_timeout_ms = 50);
    client_upgrade(f, 0);
    net_stream_read_stop(&f->cl[0].s);
    memset(chunk, 'x', sizeof(chunk));
    struct ws_conn *c = f->conn[0];
    for (int k = 0; k < 100000 && rc == 0; k++) {
        rc = ws_send_text(c, chunk, sizeof(chunk));
        uv_run(&f->loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(rc, CD_ETOOBIG);
    assert_int_equal(ws_send_text(c, "x", 1), CD_ESTATE);
    RUN_UNTIL(f->n_closed == 1);
    assert_int_equal(f->close_code, 1008);
    assert_string_equal(f->close_reason, "too slow");
}

/* ---- Refusals of content ------------------------------------------------------------ */

static void invalid_utf8_closes_1007(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    SEND_TEXT(0, "fine \xc3\xa9");
    expect_text(f, 0, "fine \xc3\xa9");
    SEND_TEXT(0, "bad \xc3\x28");
    forced_close(f, 0, 1007, "invalid UTF-8 in a text message");
    assert_int_equal(f->n_texts, 1);
}

static void a_surrogate_closes_1007(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    SEND_TEXT(0, "\xed\xa0\x80");
    forced_close(f, 0, 1007, "invalid UTF-8 in a text message");
}

static void a_binary_message_closes_1003(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    send_frame(f, 0, true, OP_BINARY, "\x01\x02", 2);
    forced_close(f, 0, 1003, "binary messages are not accepted");
}

static void an_unmasked_frame_closes_1002(void **state)
{
    F;
    char buf[32];

    START(false, 0);
    client_upgrade(f, 0);
    client_send(f, 0, buf, frame_ex(buf, true, OP_TEXT, "naked", 5, false));
    forced_close(f, 0, 1002, "protocol error: frames from a client must be masked");
}

static void a_continuation_without_a_message_closes_1002(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    send_frame(f, 0, true, OP_CONT, "x", 1);
    forced_close(f, 0, 1002, "protocol error: a continuation frame without a message");
}

/* A close frame whose code the wire may not carry (1005) is answered by wslay itself with
 * 1002; on_close hears the code that was sent. */
static void a_close_with_a_reserved_code_closes_1002(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    send_close(f, 0, 1005, "");
    struct wsframe *fr = NEXT_FRAME(0);
    assert_int_equal(fr->op, OP_CLOSE);
    assert_int_equal(((uint8_t)fr->payload[0] << 8) | (uint8_t)fr->payload[1], 1002);
    RUN_UNTIL(f->cl[0].ended);
    client_close(f, 0);
    RUN_UNTIL(f->n_closed == 1);
    assert_int_equal(f->close_code, 1002);
    assert_string_equal(f->close_reason, "protocol error");
    assert_int_equal(stats_of(f).forced, 1);
}

/* ---- Closing ---------------------------------------------------------------------------- */

static void the_client_closes_and_the_server_answers(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    send_close(f, 0, 4000, "done here");
    expect_close(f, 0, 4000, "done here");
    /* The server ends TCP first once the handshake is over. */
    RUN_UNTIL(f->cl[0].ended);
    client_close(f, 0);
    RUN_UNTIL(f->n_closed == 1);
    assert_int_equal(f->close_code, 4000);
    assert_string_equal(f->close_reason, "done here");
    assert_int_equal(stats_of(f).forced, 0);
    assert_int_equal(stats_of(f).open, 0);
}

static void the_server_closes_and_the_client_answers(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    SEND_TEXT(0, "close");
    expect_close(f, 0, 1000, "bye");
    /* Messages after the server's close frame are read and dropped. */
    SEND_TEXT(0, "ignored");
    send_close(f, 0, 1000, "");
    RUN_UNTIL(f->cl[0].ended);
    client_close(f, 0);
    RUN_UNTIL(f->n_closed == 1);
    assert_int_equal(f->close_code, 1000);
    assert_string_equal(f->close_reason, "bye");
    assert_int_equal(f->n_texts, 1);
}

static void a_client_that_never_answers_the_close_is_cut_off(void **state)
{
    F;

    START(false, .close_timeout_ms = 30);
    client_upgrade(f, 0);
    SEND_TEXT(0, "close");
    expect_close(f, 0, 1000, "bye");
    RUN_UNTIL(f->n_closed == 1);
    RUN_UNTIL(f->cl[0].ended);
}

static void a_connection_that_drops_closes_1006(void **state)
{
    F;

    START(false, 0);
    client_upgrade(f, 0);
    client_close(f, 0);
    RUN_UNTIL(f->n_closed == 1);
    assert_int_equal(f->close_code, 1006);
    assert_string_equal(f->close_reason, "connection lost");
}

static void closing_the_server_closes_every_connection_1001(bool tls, void **state)
{
    F;

    START(tls, .close_timeout_ms = 200);
    client_upgrade(f, 0);
    client_upgrade(f, 1);
    ws_server_close(f->ws, ws_done, f);
    assert_false(f->ws_closed); /* done comes later, never from inside */
    expect_close(f, 0, 1001, "going away");
    expect_close(f, 1, 1001, "going away");
    send_close(f, 0, 1001, "");
    RUN_UNTIL(f->ws_closed);
    assert_int_equal(f->n_closed, 2);
    assert_int_equal(f->close_code, 1001);
    f->ws = NULL;
}

static void server_close_plain(void **state)
{
    closing_the_server_closes_every_connection_1001(false, state);
}

static void server_close_tls(void **state)
{
    closing_the_server_closes_every_connection_1001(true, state);
}

static void sending_checks_its_text(void **state)
{
    F;
    char big[200];

    START(false, 0);
    client_upgrade(f, 0);
    assert_int_equal(ws_send_text(f->conn[0], "\xff", 1), CD_EINVAL);
    assert_int_equal(ws_send_text(f->conn[0], "ok", 2), 0);
    expect_text(f, 0, "ok");
    /* A long reason is cut to what a close frame holds, at a character boundary. */
    memset(big, 'r', sizeof(big));
    memcpy(big + 122, "\xc3\xa9", 2);
    big[199] = '\0';
    ws_close(f->conn[0], 1005, big); /* a code the wire cannot carry goes as 1000 */
    struct wsframe *fr = NEXT_FRAME(0);
    assert_int_equal(fr->op, OP_CLOSE);
    assert_int_equal(fr->len, 2 + 122);
    assert_int_equal(((uint8_t)fr->payload[0] << 8) | (uint8_t)fr->payload[1], 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(handshake_plain),
        T(handshake_tls),
        T(bad_handshakes_get_http_errors),
        T(a_frame_right_behind_the_handshake_is_read),
        T(fragments_plain),
        T(fragments_tls),
        T(a_message_split_over_fragments_keeps_its_characters),
        T(a_frame_split_across_reads_is_whole),
        T(a_ping_gets_its_pong),
        T(an_idle_client_is_pinged_and_closed_without_an_answer),
        T(a_frame_over_the_limit_closes_1009),
        T(a_message_over_the_limit_closes_1009),
        T(a_huge_announced_frame_closes_before_its_payload),
        T(too_many_messages_close_1008),
        T(the_address_limit_closes_1013),
        T(the_connection_limit_closes_1013),
        T(a_client_that_does_not_read_closes_1008),
        T(invalid_utf8_closes_1007),
        T(a_surrogate_closes_1007),
        T(a_binary_message_closes_1003),
        T(an_unmasked_frame_closes_1002),
        T(a_continuation_without_a_message_closes_1002),
        T(a_close_with_a_reserved_code_closes_1002),
        T(the_client_closes_and_the_server_answers),
        T(the_server_closes_and_the_client_answers),
        T(a_client_that_never_answers_the_close_is_cut_off),
        T(a_connection_that_drops_closes_1006),
        T(server_close_plain),
        T(server_close_tls),
        T(sending_checks_its_text),
#undef T
    };
    return cmocka_run_group_tests(tests, tls_certs_setup, tls_certs_teardown);
}
