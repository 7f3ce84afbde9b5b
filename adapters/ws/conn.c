/* adapters/ws: the life of one connection, over wslay's event API.
 *
 * Bytes from the client are checked by the scanner (scan.c) and then read by wslay from
 * memory (recv_cb hands it the checked bytes, then says "would block"); whatever wslay
 * sends is copied into the stream at once, so wslay's own queue is empty between calls
 * and the stream's unsent count is the connection's backlog.
 *
 * Closing: the first close frame (ours, or the client's, which wslay answers by itself)
 * decides the code on_close gets. A polite close (ws_close()) keeps reading until the
 * client's close frame; a forced one reads nothing more. Once our close frame has left
 * and the handshake is over (or forced), TCP is shut down; the stream closes when the
 * client ends its side, or at the close deadline. on_close fires from the stream's close
 * callback: never from inside a call of the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/ws/internal.h"
#include "common/error.h"

enum {
    TIMER_FIRST, /* the first turn: early bytes, then reading */
    TIMER_PING,  /* waiting for ping_ms without a frame */
    TIMER_PONG,  /* a ping is out */
    TIMER_CLOSE, /* the close deadline */
};

static void conn_pump(struct ws_conn *c);
static void conn_close_start(struct ws_conn *c, uint16_t code, const char *reason, bool forced);

static uint64_t now_ms(const struct ws_conn *c)
{
    return uv_now(c->server->loop);
}

static const struct ws_limits *lim_of(const struct ws_conn *c)
{
    return &c->server->lim;
}

/* ---- Freeing ---------------------------------------------------------------------- */

static void conn_release(struct ws_conn *c)
{
    if (--c->handles > 0) {
        return;
    }
    wslay_event_context_free(c->ctx);
    c->ctx = NULL;
    ws__server_forget(c->server, c);
    free(c);
}

static void timer_closed(uv_handle_t *h)
{
    conn_release(h->data);
}

/* The code and reason on_close gets, once the connection is over. */
static void conn_outcome(struct ws_conn *c, uint16_t *code, const char **reason)
{
    if (c->code_set) {
        *code = c->code;
        *reason = c->reason;
        return;
    }
    *code = 1006;
    *reason = "connection lost";
}

static void stream_closed(struct net_stream *stream)
{
    struct ws_conn *c = stream->data;
    struct ws_server *s = c->server;
    uint16_t code;
    const char *reason;

    conn_outcome(c, &code, &reason);
    if (!c->refused) {
        s->stats.closed_by_code[ws_code_index(code)]++;
        c->h.on_close(c->data, c, code, reason);
    }
    ws__server_release(s, c);
    http_upgraded_free(c->up);
    c->up = NULL;
    c->stream = NULL;
    conn_release(c);
}

static void conn_close_tcp(struct ws_conn *c)
{
    if (c->tcp_closing) {
        return;
    }
    c->tcp_closing = true;
    uv_close((uv_handle_t *)&c->timer, timer_closed);
    net_stream_close(c->stream, stream_closed);
}

/* ---- wslay's callbacks ------------------------------------------------------------ */

static ssize_t recv_cb(wslay_event_context_ptr ctx,
                       uint8_t *buf,
                       size_t len,
                       int flags,
                       void *user)
{
    struct ws_conn *c = user;
    (void)flags;
    if (c->in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < c->in_len ? len : c->in_len;
    memcpy(buf, c->in, n);
    c->in += n;
    c->in_len -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx,
                       const uint8_t *data,
                       size_t len,
                       int flags,
                       void *user)
{
    struct ws_conn *c = user;
    (void)flags;
    if (c->tcp_closing ||
        net_stream_write(c->stream, (const char *)data, len, NULL, NULL) != 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

/* Records the first close; later ones do not change what on_close is told. */
static void conn_set_code(struct ws_conn *c, uint16_t code, const char *reason, size_t len)
{
    if (c->code_set) {
        return;
    }
    c->code_set = true;
    c->code = code;
    len = len < sizeof(c->reason) - 1 ? len : sizeof(c->reason) - 1;
    memcpy(c->reason, reason, len);
    c->reason[len] = '\0';
}

static void arm(struct ws_conn *c, int mode, uint64_t ms);

static void client_closed(struct ws_conn *c, const struct wslay_event_on_msg_recv_arg *arg)
{
    uint16_t code = arg->status_code != 0 ? arg->status_code : 1005;
    const char *reason = arg->msg_length > 2 ? (const char *)arg->msg + 2 : "";
    size_t len = arg->msg_length > 2 ? arg->msg_length - 2 : 0;

    conn_set_code(c, code, reason, len);
    c->input_done = true;
    if (!c->closing) {
        /* wslay has queued the answer: the handshake ends when it leaves. */
        c->closing = true;
        arm(c, TIMER_CLOSE, lim_of(c)->close_timeout_ms);
    }
}

static void on_msg_recv(wslay_event_context_ptr ctx,
                        const struct wslay_event_on_msg_recv_arg *arg,
                        void *user)
{
    struct ws_conn *c = user;
    (void)ctx;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        client_closed(c, arg);
    } else if (arg->opcode == WSLAY_TEXT_FRAME && !c->closing) {
        c->server->stats.msgs_in++;
        c->h.on_text(c->data, c, (const char *)arg->msg, arg->msg_length);
    }
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .on_msg_recv_callback = on_msg_recv,
};

/* ---- Timers ----------------------------------------------------------------------- */

static void timer_fired(uv_timer_t *t);

static void arm(struct ws_conn *c, int mode, uint64_t ms)
{
    if (c->tcp_closing) {
        return;
    }
    if (c->timer_mode == TIMER_FIRST && uv_is_active((uv_handle_t *)&c->timer)) {
        /* The first turn is still due: it arms what the connection waits on then. */
        return;
    }
    c->timer_mode = mode;
    uv_timer_start(&c->timer, timer_fired, ms, 0);
}

/* Until the next ping is due, counted from the last frame. */
static void arm_ping(struct ws_conn *c)
{
    uint64_t due = c->last_frame_ms + lim_of(c)->ping_ms;
    uint64_t now = now_ms(c);
    arm(c, TIMER_PING, due > now ? due - now : 0);
}

static void send_ping(struct ws_conn *c)
{
    struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};

    c->frames_at_ping = c->scan.frames;
    if (wslay_event_queue_msg(c->ctx, &ping) != 0) {
        conn_close_tcp(c);
        return;
    }
    arm(c, TIMER_PONG, lim_of(c)->pong_timeout_ms);
    conn_pump(c);
}

static void conn_first_turn(struct ws_conn *c);

static void timer_fired(uv_timer_t *t)
{
    struct ws_conn *c = t->data;

    switch (c->timer_mode) {
        case TIMER_FIRST:
            conn_first_turn(c);
            return;
        case TIMER_PING:
            if (now_ms(c) - c->last_frame_ms >= lim_of(c)->ping_ms) {
                send_ping(c);
            } else {
                arm_ping(c);
            }
            return;
        case TIMER_PONG:
            if (c->scan.frames > c->frames_at_ping) {
                arm_ping(c);
            } else {
                ws__conn_fail(c, 1001, "no answer to ping");
            }
            return;
        default:
            conn_close_tcp(c);
            return;
    }
}

/* ---- Reading ---------------------------------------------------------------------- */

/* The rate: a token bucket of burst messages, refilled at msgs_per_s. */
static bool take_message(void *arg)
{
    struct ws_conn *c = arg;
    const struct ws_limits *l = lim_of(c);
    uint64_t now = now_ms(c);
    uint64_t cap = (uint64_t)l->burst * 1000;

    c->tokens += (now - c->refill_ms) * l->msgs_per_s;
    c->tokens = c->tokens < cap ? c->tokens : cap;
    c->refill_ms = now;
    if (c->tokens < 1000) {
        return false;
    }
    c->tokens -= 1000;
    return true;
}

void ws__conn_input(struct ws_conn *c, const char *data, size_t len)
{
    struct ws__verdict v;

    if (c->input_done || c->tcp_closing) {
        return;
    }
    size_t ok = ws__scan(&c->scan, data, len, &v);
    if (c->scan.frames != c->frames_seen) {
        c->frames_seen = c->scan.frames;
        c->last_frame_ms = now_ms(c);
    }
    c->in = data;
    c->in_len = ok;
    c->in_recv = true;
    int rv = ok > 0 ? wslay_event_recv(c->ctx) : 0;
    c->in_recv = false;
    c->in = NULL;
    c->in_len = 0;
    if (rv != 0) {
        /* Out of memory inside wslay: nothing sensible can be sent any more. */
        conn_close_tcp(c);
        return;
    }
    if (v.code != 0) {
        ws__conn_fail(c, v.code, v.reason);
    }
    conn_pump(c);
}

static void conn_read(struct net_stream *stream, ssize_t nread, const char *data)
{
    struct ws_conn *c = stream->data;

    if (nread < 0) {
        conn_close_tcp(c);
        return;
    }
    ws__conn_input(c, data, (size_t)nread);
}

static void conn_first_turn(struct ws_conn *c)
{
    c->last_frame_ms = now_ms(c);
    if (!c->input_done && c->up->early_len > 0) {
        ws__conn_input(c, c->up->early, c->up->early_len);
    }
    if (c->tcp_closing) {
        return;
    }
    if (net_stream_read_start(c->stream, conn_read) != 0) {
        conn_close_tcp(c);
        return;
    }
    if (c->closing) {
        arm(c, TIMER_CLOSE, lim_of(c)->close_timeout_ms);
    } else {
        arm_ping(c);
    }
}

/* ---- Writing and closing ---------------------------------------------------------- */

static void shutdown_done(struct net_stream *stream, int status)
{
    struct ws_conn *c = stream->data;
    if (status != 0 && status != UV_ECANCELED) {
        conn_close_tcp(c);
    }
    /* Otherwise the client's end (a read of EOF) or the deadline closes it. */
}

/* Sends what wslay holds; ends TCP once the close handshake is over. */
static void conn_pump(struct ws_conn *c)
{
    if (c->tcp_closing || c->in_recv) {
        return;
    }
    if (wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) != 0) {
        conn_close_tcp(c);
        return;
    }
    if (wslay_event_get_close_sent(c->ctx) && !c->closing) {
        /* wslay closed by itself: a close frame whose code the wire may not carry. */
        c->closing = true;
        c->input_done = true;
        c->server->stats.forced++;
        conn_set_code(c, wslay_event_get_status_code_sent(c->ctx), "protocol error", 14);
        arm(c, TIMER_CLOSE, lim_of(c)->close_timeout_ms);
    }
    if (!c->closing && ws_unsent(c) > lim_of(c)->output_limit) {
        ws__conn_fail(c, 1008, "too slow");
        return;
    }
    bool over = wslay_event_get_close_received(c->ctx) || c->input_done;
    if (!c->shut && wslay_event_get_close_sent(c->ctx) && over) {
        c->shut = true;
        if (net_stream_shutdown(c->stream, shutdown_done) != 0) {
            conn_close_tcp(c);
        }
    }
}

/* A code that may be sent: the caller's, or 1000 for one the wire cannot carry. */
static uint16_t code_to_send(uint16_t code)
{
    bool defined = code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
    return defined || (code >= 3000 && code <= 4999) ? code : 1000;
}

/* Cuts reason to what a close frame holds (123 bytes) at a UTF-8 boundary. */
static size_t reason_length(const char *reason)
{
    size_t len = strlen(reason);
    if (len > 123) {
        len = 123;
        while (len > 0 && ((unsigned char)reason[len] & 0xc0) == 0x80) {
            len--;
        }
    }
    return ws__utf8_valid(reason, len) ? len : 0;
}

static void conn_close_start(struct ws_conn *c, uint16_t code, const char *reason, bool forced)
{
    if (forced) {
        c->input_done = true;
        wslay_event_shutdown_read(c->ctx);
    }
    if (c->closing || c->tcp_closing) {
        conn_pump(c);
        return;
    }
    c->closing = true;
    code = code_to_send(code);
    size_t len = reason_length(reason);
    conn_set_code(c, code, reason, len);
    if (wslay_event_queue_close(c->ctx, code, (const uint8_t *)reason, len) != 0) {
        conn_close_tcp(c);
        return;
    }
    arm(c, TIMER_CLOSE, lim_of(c)->close_timeout_ms);
    conn_pump(c);
}

void ws__conn_fail(struct ws_conn *c, uint16_t code, const char *reason)
{
    if (!c->closing && !c->refused) {
        c->server->stats.forced++;
    }
    conn_close_start(c, code, reason, true);
}

void ws_close(struct ws_conn *c, uint16_t code, const char *reason)
{
    conn_close_start(c, code, reason != NULL ? reason : "", false);
}

int ws_send_text(struct ws_conn *c, const char *msg, size_t len)
{
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)msg, len};

    if (c->closing || c->tcp_closing) {
        return CD_ESTATE;
    }
    if (!ws__utf8_valid(msg, len)) {
        return CD_EINVAL;
    }
    if (ws_unsent(c) + len > lim_of(c)->output_limit) {
        ws__conn_fail(c, 1008, "too slow");
        return CD_ETOOBIG;
    }
    if (wslay_event_queue_msg(c->ctx, &m) != 0) {
        return CD_ENOMEM;
    }
    c->server->stats.msgs_out++;
    conn_pump(c);
    return 0;
}

/* ---- Birth ------------------------------------------------------------------------ */

struct ws_conn *ws__conn_new(struct ws_server *s,
                             struct http_upgraded *u,
                             const struct ws_handler *h,
                             void *data)
{
    struct ws_conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    if (wslay_event_context_server_init(&c->ctx, &callbacks, c) != 0) {
        free(c);
        return NULL;
    }
    /* The scanner keeps messages within max_message first, with a reason; this is the
     * backstop. */
    wslay_event_config_set_max_recv_msg_length(c->ctx, s->lim.max_message);
    c->server = s;
    c->up = u;
    c->stream = u->stream;
    c->stream->data = c;
    c->h = *h;
    c->data = data;
    c->tokens = (uint64_t)s->lim.burst * 1000;
    c->refill_ms = uv_now(s->loop);
    snprintf(c->address, sizeof(c->address), "%s", u->address);
    ws__scan_init(&c->scan, s->lim.max_frame, s->lim.max_message, take_message, c);
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->handles = 2;
    return c;
}

void ws__conn_start(struct ws_conn *c)
{
    arm(c, TIMER_FIRST, 0);
}

/* ---- Accessors -------------------------------------------------------------------- */

size_t ws_unsent(const struct ws_conn *c)
{
    size_t queued = c->ctx != NULL ? wslay_event_get_queued_msg_length(c->ctx) : 0;
    return (c->stream != NULL ? net_stream_unsent(c->stream) : 0) + queued;
}

void *ws_conn_data(const struct ws_conn *c)
{
    return c->data;
}

void ws_conn_set_data(struct ws_conn *c, void *data)
{
    c->data = data;
}

int ws_conn_peer_address(const struct ws_conn *c, char *buf, size_t len)
{
    if (len < HTTP_ADDRESS_MAX || c->address[0] == '\0') {
        return CD_EINVAL;
    }
    snprintf(buf, len, "%s", c->address);
    return 0;
}
