/* The benchmark's WebSocket client (wsc.h): a net_stream carries the bytes, the opening
 * handshake is written and checked here, libwslay frames the messages. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "bench/chat/wsc.h"

/* The key of RFC 6455's example and the answer it calls for: every connection may use the
 * same one, the server only proves it read the handshake. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define HEAD_MAX 2048
#define HANDSHAKE_MS 20000
#define MAX_MESSAGE (1u << 20)

enum phase { CONNECTING, UPGRADING, OPEN };

struct wsc
{
    struct net_stream stream;
    uv_connect_t connect;
    wslay_event_context_ptr ctx;
    const struct wsc_handler *h;
    void *data;
    char *request;
    size_t request_len;
    char head[HEAD_MAX];
    size_t head_len;
    const char *rbuf; /* what wslay reads next, during feed() */
    size_t rlen;
    enum phase phase;
    int close_code;
    bool in_recv;
    bool closing;
};

/* Frames wslay writes in one wslay_event_send(), sent as one stream write (one TLS
 * record). One loop thread: one buffer. */
static char *out_buf;
static size_t out_len, out_cap;
static uint64_t mask_state = 0x9e3779b97f4a7c15ull;

static void freed(struct net_stream *s)
{
    struct wsc *w = s->data;
    if (w->ctx != NULL) {
        wslay_event_context_free(w->ctx);
    }
    free(w->request);
    free(w);
}

void wsc_close(struct wsc *w)
{
    if (!w->closing) {
        w->closing = true;
        net_stream_close(&w->stream, freed);
    }
}

/* The connection ended by the server's doing or a failure: the owner hears it once. */
static void end(struct wsc *w, int code)
{
    if (!w->closing) {
        w->closing = true;
        w->h->on_end(w, code);
        net_stream_close(&w->stream, freed);
    }
}

static ssize_t recv_cb(wslay_event_context_ptr ctx,
                       uint8_t *buf,
                       size_t len,
                       int flags,
                       void *user)
{
    struct wsc *w = user;
    (void)flags;
    if (w->rlen == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < w->rlen ? len : w->rlen;
    memcpy(buf, w->rbuf, n);
    w->rbuf += n;
    w->rlen -= n;
    return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx,
                       const uint8_t *data,
                       size_t len,
                       int flags,
                       void *user)
{
    (void)user;
    (void)flags;
    if (out_len + len > out_cap) {
        size_t cap = out_cap ? out_cap : 4096;
        while (cap < out_len + len) {
            cap *= 2;
        }
        char *b = realloc(out_buf, cap);
        if (b == NULL) {
            wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
            return -1;
        }
        out_buf = b;
        out_cap = cap;
    }
    memcpy(out_buf + out_len, data, len);
    out_len += len;
    return (ssize_t)len;
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    (void)ctx;
    (void)user;
    for (size_t i = 0; i < len; i++) {
        mask_state ^= mask_state << 13;
        mask_state ^= mask_state >> 7;
        mask_state ^= mask_state << 17;
        buf[i] = (uint8_t)mask_state;
    }
    return 0;
}

static void msg_cb(wslay_event_context_ptr ctx,
                   const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    struct wsc *w = user;
    (void)ctx;
    if (arg->opcode == WSLAY_TEXT_FRAME && !w->closing) {
        w->h->on_text(w, (const char *)arg->msg, arg->msg_length);
    } else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        w->close_code = arg->status_code != 0 ? arg->status_code : 1005;
    }
}

static const struct wslay_event_callbacks CALLBACKS = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .genmask_callback = genmask_cb,
    .on_msg_recv_callback = msg_cb,
};

/* Hands what wslay queued to the stream. */
static void pump(struct wsc *w)
{
    if (w->in_recv || w->closing) {
        return;
    }
    int rv = wslay_event_send(w->ctx);
    if (out_len > 0) {
        rv |= net_stream_write(&w->stream, out_buf, out_len, NULL, NULL);
        out_len = 0;
    }
    if (rv != 0) {
        end(w, WSC_GONE);
    }
}

static void feed(struct wsc *w, const char *data, size_t len)
{
    w->rbuf = data;
    w->rlen = len;
    w->in_recv = true;
    int rv = wslay_event_recv(w->ctx);
    w->in_recv = false;
    if (w->closing) {
        return;
    }
    if (rv != 0) {
        end(w, WSC_GONE);
        return;
    }
    pump(w);
    if (!w->closing && !wslay_event_want_read(w->ctx) && !wslay_event_want_write(w->ctx)) {
        end(w, w->close_code != 0 ? w->close_code : WSC_GONE);
    }
}

/* The server's answer to the opening handshake, as it arrives. */
static void upgrade(struct wsc *w, const char *data, size_t len)
{
    size_t take = len < HEAD_MAX - 1 - w->head_len ? len : HEAD_MAX - 1 - w->head_len;
    memcpy(w->head + w->head_len, data, take);
    w->head_len += take;
    w->head[w->head_len] = 0;
    char *blank = strstr(w->head, "\r\n\r\n");
    if (blank == NULL) {
        if (w->head_len == HEAD_MAX - 1) {
            end(w, WSC_HANDSHAKE_FAILED);
        }
        return;
    }
    int status = 0;
    if (sscanf(w->head, "HTTP/1.1 %d", &status) != 1 || status != 101 ||
        strstr(w->head, WS_ACCEPT) == NULL) {
        end(w, status > 0 ? 10000 + status : WSC_HANDSHAKE_FAILED);
        return;
    }
    size_t head = (size_t)(blank + 4 - w->head);
    size_t before = w->head_len - take; /* of the head, what earlier reads brought */
    w->phase = OPEN;
    w->h->on_open(w);
    if (!w->closing && before + len > head) {
        feed(w, data + (head - before), before + len - head);
    }
}

static void on_read(struct net_stream *s, ssize_t nread, const char *data)
{
    struct wsc *w = s->data;
    if (w->closing) {
        return;
    }
    if (nread < 0) {
        end(w, w->phase != OPEN     ? WSC_HANDSHAKE_FAILED
               : w->close_code != 0 ? w->close_code
                                    : WSC_GONE);
    } else if (w->phase == UPGRADING) {
        upgrade(w, data, (size_t)nread);
    } else {
        feed(w, data, (size_t)nread);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    struct wsc *w = req->data;
    if (w->closing) {
        return;
    }
    if (status < 0) {
        end(w, WSC_CONNECT_FAILED);
        return;
    }
    w->phase = UPGRADING;
    if (net_stream_start(&w->stream, NULL, HANDSHAKE_MS) != 0 ||
        net_stream_read_start(&w->stream, on_read) != 0 ||
        net_stream_write_take(&w->stream, w->request, w->request_len, NULL, NULL) != 0) {
        w->request = NULL;
        end(w, WSC_HANDSHAKE_FAILED);
        return;
    }
    w->request = NULL; /* the stream owns it now */
}

#define REQUEST                                                                       \
    "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
    "Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n%s\r\n"

static char *request_text(const struct wsc_options *o, size_t *len)
{
    char host[INET_ADDRSTRLEN] = "";
    uv_ip4_name(o->dst, host, sizeof(host));
    const char *more = o->headers != NULL ? o->headers : "";
    unsigned port = ntohs(o->dst->sin_port);
    int n = snprintf(NULL, 0, REQUEST, o->target, host, port, more);
    char *text = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (text != NULL) {
        snprintf(text, (size_t)n + 1, REQUEST, o->target, host, port, more);
        *len = (size_t)n;
    }
    return text;
}

int wsc_open(const struct wsc_options *o, struct wsc **out)
{
    struct wsc *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return UV_ENOMEM;
    }
    w->h = o->h;
    w->data = o->data;
    w->request = request_text(o, &w->request_len);
    if (w->request == NULL || wslay_event_context_client_init(&w->ctx, &CALLBACKS, w) != 0) {
        free(w->request);
        free(w);
        return UV_ENOMEM;
    }
    wslay_event_config_set_max_recv_msg_length(w->ctx, MAX_MESSAGE);
    int rv = net_stream_init(o->loop, &w->stream, o->tls);
    if (rv != 0) {
        wslay_event_context_free(w->ctx);
        free(w->request);
        free(w);
        return rv;
    }
    w->stream.data = w;
    w->connect.data = w;
    if (o->src != NULL) {
        rv = uv_tcp_bind(&w->stream.tcp, (const struct sockaddr *)o->src, 0);
    }
    if (rv == 0) {
        rv = uv_tcp_connect(&w->connect, &w->stream.tcp, (const struct sockaddr *)o->dst,
                            on_connect);
    }
    if (rv != 0) {
        w->closing = true;
        net_stream_close(&w->stream, freed);
        return rv;
    }
    *out = w;
    return 0;
}

int wsc_send(struct wsc *w, const char *text, size_t len)
{
    if (w->phase != OPEN || w->closing) {
        return -1;
    }
    struct wslay_event_msg msg = {
        .opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)text, .msg_length = len};
    if (wslay_event_queue_msg(w->ctx, &msg) != 0) {
        return -1;
    }
    pump(w);
    return 0;
}

void *wsc_data(const struct wsc *w)
{
    return w->data;
}

int wsc_resumed(const struct wsc *w)
{
    return net_stream_resumed(&w->stream);
}
