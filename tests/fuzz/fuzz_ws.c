/* The WebSocket server (adapters/ws) end to end: an HTTP server and a WebSocket server on
 * a private libuv loop, listening on 127.0.0.1 since the target starts; each input is one
 * client connection made by the target on the same loop, which completes the opening
 * handshake and then sends the input's bytes as the client's frames.
 *
 * Input: one byte seeding how the bytes are cut into writes (0: one write; n: pieces of
 * n bytes, one loop turn apart), then the client's bytes. After them the client ends its
 * stream and reads until the server ends its own.
 *
 * Properties:
 *   - the handshake is answered 101 and the connection accepted;
 *   - every message handed to on_text is valid UTF-8 within max_message;
 *   - what the server sends is a sequence of whole, unmasked frames; a close frame, when
 *     one comes, is the last frame and carries a code the wire may carry and a UTF-8
 *     reason;
 *   - on_close fires exactly once with a code RFC 6455 allows there (1006 and 1005
 *     included), and the server's open count comes back to 0;
 *   - each input ends within GUARD_MS, and the loop is left with the handles it had
 *     before the input. */
#include <stdlib.h>
#include <string.h>

#include "adapters/http/http.h"
#include "adapters/ws/ws.h"
#include "tests/fuzz/fuzz.h"

#define GUARD_MS 6000
#define MAX_MESSAGE 4096
#define RECV_MAX (1024 * 1024)

static const char handshake[] =
    "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

struct target
{
    uv_loop_t loop;
    uv_timer_t guard;
    uv_timer_t pace;
    struct http_server *http;
    struct ws_server *ws;
    unsigned baseline;
    bool expired;
    /* The input's connection. */
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_shutdown_t shutdown;
    bool connected, ended, closed, overflow;
    char *recv;
    size_t recv_len;
    const uint8_t *send;
    size_t send_len, send_off, chunk;
    int accepts, accept_rc;
    int closes;
    uint16_t close_code;
};

static struct target t;

/* ---- The servers ---------------------------------------------------------------------- */

static bool utf8_ok(const uint8_t *s, size_t len);

static void on_text(void *data, struct ws_conn *c, const char *msg, size_t len)
{
    (void)data;
    FUZZ_CHECK(len <= MAX_MESSAGE, "a message of %zu bytes", len);
    FUZZ_CHECK(utf8_ok((const uint8_t *)msg, len), "a message that is not UTF-8");
    /* Answering keeps the output side busy too. */
    ws_send_text(c, msg, len);
}

static void on_close(void *data, struct ws_conn *c, uint16_t code, const char *reason)
{
    (void)data;
    (void)c;
    t.closes++;
    t.close_code = code;
    FUZZ_CHECK(utf8_ok((const uint8_t *)reason, strlen(reason)), "a reason not UTF-8");
}

static const struct ws_handler handler_ws = {on_text, on_close};

static void handler(void *data, struct http_exchange *x, const struct http_request *req)
{
    struct ws_conn *c = NULL;
    (void)data;
    t.accepts++;
    t.accept_rc = ws_accept(t.ws, x, req, &handler_ws, NULL, &c);
}

static void count_handle(uv_handle_t *h, void *arg)
{
    (void)h;
    (*(unsigned *)arg)++;
}

static unsigned handles(void)
{
    unsigned n = 0;
    uv_walk(&t.loop, count_handle, &n);
    return n;
}

static void guard_fired(uv_timer_t *timer)
{
    (void)timer;
    t.expired = true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    struct ws_limits lim = {
        .max_frame = 1024,
        .max_message = MAX_MESSAGE,
        .msgs_per_s = 1000,
        .burst = 50,
        .ping_ms = 1000,
        .pong_timeout_ms = 1000,
        .output_limit = 64 * 1024,
        .close_timeout_ms = 500,
    };
    (void)argc;
    (void)argv;
    if (uv_loop_init(&t.loop) != 0 ||
        http_server_new(&t.loop, NULL, handler, NULL, &t.http) != 0 ||
        http_server_listen(t.http, "127.0.0.1", 0, err, sizeof(err)) != 0 ||
        ws_server_new(&t.loop, &lim, &t.ws) != 0) {
        FUZZ_DIE("cannot start the servers");
    }
    uv_timer_init(&t.loop, &t.guard);
    uv_timer_init(&t.loop, &t.pace);
    t.recv = malloc(RECV_MAX);
    if (t.recv == NULL) {
        FUZZ_DIE("out of memory");
    }
    t.baseline = handles();
    return 0;
}

/* ---- UTF-8 and frames, as the target reads them --------------------------------------- */

/* A decoder of its own (not the module's): the code point, then its range. */
static bool utf8_ok(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n;
        if (s[i] < 0x80) {
            i++;
            continue;
        } else if ((s[i] & 0xe0) == 0xc0) {
            n = 2, cp = s[i] & 0x1f;
        } else if ((s[i] & 0xf0) == 0xe0) {
            n = 3, cp = s[i] & 0x0f;
        } else if ((s[i] & 0xf8) == 0xf0) {
            n = 4, cp = s[i] & 0x07;
        } else {
            return false;
        }
        if (i + n > len) {
            return false;
        }
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += n;
    }
    return true;
}

static bool code_sendable(uint16_t code)
{
    return (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006) ||
           (code >= 3000 && code <= 4999);
}

/* Checks what the server sent after its 101: whole unmasked frames, a close last. */
static void check_frames(const uint8_t *p, size_t len)
{
    size_t off = 0;
    bool closed = false;

    while (off < len) {
        FUZZ_CHECK(!closed, "a frame after the close frame");
        FUZZ_CHECK(len - off >= 2, "a cut frame header");
        FUZZ_CHECK((p[off + 1] & 0x80) == 0, "a masked frame from the server");
        FUZZ_CHECK((p[off] & 0x70) == 0, "reserved bits from the server");
        uint64_t n = p[off + 1] & 0x7f;
        size_t head = 2;
        if (n >= 126) {
            size_t bytes = n == 126 ? 2 : 8;
            FUZZ_CHECK(len - off >= 2 + bytes, "a cut frame length");
            n = 0;
            for (size_t k = 0; k < bytes; k++) {
                n = (n << 8) | p[off + 2 + k];
            }
            head += bytes;
        }
        FUZZ_CHECK(n <= len - off - head, "a cut frame payload");
        uint8_t op = p[off] & 0x0f;
        const uint8_t *pl = p + off + head;
        if (op == 0x8) {
            closed = true;
            FUZZ_CHECK(n != 1, "a close frame with one byte");
            if (n >= 2) {
                FUZZ_CHECK(code_sendable((uint16_t)((pl[0] << 8) | pl[1])), "close code %u",
                           (unsigned)((pl[0] << 8) | pl[1]));
                FUZZ_CHECK(utf8_ok(pl + 2, (size_t)n - 2), "a close reason not UTF-8");
            }
        } else if (op == 0x1) {
            FUZZ_CHECK(utf8_ok(pl, (size_t)n), "a text frame not UTF-8");
        } else {
            FUZZ_CHECK(op == 0x9 || op == 0xa, "opcode %u from the server", op);
        }
        off += head + (size_t)n;
    }
}

/* ---- The client ---------------------------------------------------------------------- */

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    size_t room = RECV_MAX - t.recv_len;
    *buf = uv_buf_init(t.recv + t.recv_len, (unsigned)(room < 65536 ? room : 65536));
}

static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0) {
        t.ended = true;
        uv_read_stop(s);
        return;
    }
    t.recv_len += (size_t)nread;
    if (t.recv_len == RECV_MAX) {
        /* More than an input's echoes can be: what matters now is that it ends. */
        t.overflow = true;
        t.recv_len = 0;
    }
}

struct wreq
{
    uv_write_t req;
    char data[];
};

static void written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void client_write(const void *data, size_t len)
{
    struct wreq *w = malloc(sizeof(*w) + len);
    if (w == NULL) {
        FUZZ_DIE("out of memory");
    }
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&t.tcp, &b, 1, written) != 0) {
        free(w);
    }
}

static void paced(uv_timer_t *timer)
{
    size_t n = t.send_len - t.send_off;
    (void)timer;
    n = t.chunk > 0 && n > t.chunk ? t.chunk : n;
    if (n > 0) {
        client_write(t.send + t.send_off, n);
        t.send_off += n;
    }
    if (t.send_off < t.send_len) {
        uv_timer_start(&t.pace, paced, 0, 0);
        return;
    }
    uv_shutdown(&t.shutdown, (uv_stream_t *)&t.tcp, NULL);
}

static void connected(uv_connect_t *req, int status)
{
    (void)req;
    t.connected = status == 0;
    if (status == 0) {
        uv_read_start((uv_stream_t *)&t.tcp, client_alloc, client_read);
        client_write(handshake, sizeof(handshake) - 1);
    }
}

static void tcp_closed(uv_handle_t *h)
{
    (void)h;
    t.closed = true;
}

static void run_until(bool *cond)
{
    while (!*cond && !t.expired) {
        uv_run(&t.loop, UV_RUN_ONCE);
    }
    FUZZ_CHECK(!t.expired, "the input did not end within %d ms", GUARD_MS);
}

/* The 101's length, once it has come whole. */
static size_t answer_head(void)
{
    for (size_t i = 0; i + 4 <= t.recv_len; i++) {
        if (memcmp(t.recv + i, "\r\n\r\n", 4) == 0) {
            return i + 4;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in addr;
    size_t head = 0;

    if (size < 1) {
        return 0;
    }
    memset(&t.tcp, 0, sizeof(t.tcp));
    t.connected = t.ended = t.closed = t.overflow = t.expired = false;
    t.recv_len = t.send_off = 0;
    t.accepts = t.closes = 0;
    t.send = data + 1;
    t.send_len = size - 1;
    t.chunk = data[0];
    uv_timer_start(&t.guard, guard_fired, GUARD_MS, 0);
    uv_tcp_init(&t.loop, &t.tcp);
    uv_ip4_addr("127.0.0.1", http_server_port(t.http), &addr);
    uv_tcp_connect(&t.connect, &t.tcp, (const struct sockaddr *)&addr, connected);
    while (!t.ended && !t.expired && (head = answer_head()) == 0) {
        uv_run(&t.loop, UV_RUN_ONCE);
    }
    FUZZ_CHECK(head > 0 && memcmp(t.recv, "HTTP/1.1 101 ", 13) == 0, "no 101");
    FUZZ_CHECK(t.accepts == 1 && t.accept_rc == 0, "not accepted: %d", t.accept_rc);
    memmove(t.recv, t.recv + head, t.recv_len - head);
    t.recv_len -= head;
    paced(&t.pace);
    run_until(&t.ended);
    uv_close((uv_handle_t *)&t.tcp, tcp_closed);
    run_until(&t.closed);
    while (t.closes == 0 && !t.expired) {
        uv_run(&t.loop, UV_RUN_ONCE);
    }
    FUZZ_CHECK(t.closes == 1, "on_close fired %d times", t.closes);
    FUZZ_CHECK(t.close_code >= 1000 && t.close_code <= 4999, "closed with %u", t.close_code);
    if (!t.overflow) {
        check_frames((const uint8_t *)t.recv, t.recv_len);
    }
    uv_timer_stop(&t.guard);
    uv_timer_stop(&t.pace);
    uv_run(&t.loop, UV_RUN_NOWAIT);
    struct ws_server_stats st;
    ws_server_stats(t.ws, &st);
    FUZZ_CHECK(st.open == 0, "%llu connections still open", (unsigned long long)st.open);
    FUZZ_CHECK(handles() == t.baseline, "%u handles, %u before", handles(), t.baseline);
    return 0;
}
