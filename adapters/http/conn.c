/* adapters/http: the life of one connection.
 *
 * A connection parses until a request is complete, hands it to the handler, and parses no
 * further until that request is answered: answers therefore leave in request order without
 * a queue. Parsing also waits while too much of the answers is unsent. Bytes that arrive
 * meanwhile wait in a backlog (reading stops when it fills), and the connection keeps
 * reading so that a client who goes away is noticed and its exchange detached. A client
 * that ends its stream has its complete requests answered, then the connection closes.
 *
 * One timer per connection serves whatever it waits on now (conn_arm() decides): the
 * client's next byte (idle timeout) or the rest of its request (the header or body
 * deadline, when sooner), the client taking its answers (output deadline), a zero-delay
 * resume after an answer given outside the read path, and the bounds of a polite close.
 * A timer per connection rather than one server-wide sweep: restarting one timer among
 * 4,100 armed ones costs 60-80 ns on the test machine, small beside the read that causes
 * it, while a sweep would touch every connection on each tick, fire late by up to a tick,
 * and wake an idle server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http/server_internal.h"
#include "common/error.h"

enum {
    TIMER_IDLE,
    TIMER_REQUEST,
    TIMER_OUTPUT,
    TIMER_RESUME,
    TIMER_LINGER,
};

/* How long a closing connection may still send before it is cut off, once its answers have
 * left; also how long a refused connection's 503 may take to leave. */
#define LINGER_MS 2000

static void conn_arm(struct http_conn *conn);
static void conn_read_start(struct http_conn *conn);

static uint64_t now_ms(const struct http_conn *conn)
{
    return uv_now(conn->server->loop);
}

static const struct http_server_options *opt_of(const struct http_conn *conn)
{
    return &conn->server->opt;
}

size_t http__conn_unsent(const struct http_conn *conn)
{
    return net_stream_unsent(&conn->stream);
}

static void conn_closed(struct http_conn *conn)
{
    struct http_server *s = conn->server;

    if (--conn->open_handles == 0) {
        http__parse_close(&conn->parse);
        free(conn->backlog.data);
        free(conn);
    }
    http__server_handle_closed(s);
}

static void timer_closed(uv_handle_t *h)
{
    conn_closed(h->data);
}

static void stream_closed(struct net_stream *stream)
{
    conn_closed(stream->data);
}

void http__conn_close(struct http_conn *conn)
{
    if (conn->closing) {
        return;
    }
    conn->closing = true;
    if (conn->pending != NULL) {
        conn->pending->conn = NULL;
        conn->pending = NULL;
    }
    http__server_unlink(conn);
    net_stream_close(&conn->stream, stream_closed);
    uv_close((uv_handle_t *)&conn->timer, timer_closed);
}

bool http__conn_idle(const struct http_conn *conn)
{
    if (conn->closing || conn->refusing || http__conn_unsent(conn) > 0) {
        return false;
    }
    if (conn->lingering) {
        /* Its answers have left; it only waits for the client's end. */
        return true;
    }
    return conn->pending == NULL && !conn->parse.in_message && conn->backlog.len == 0 &&
           !conn->peer_eof;
}

/* ---- Timer ------------------------------------------------------------------------- */

static void conn_timer_fired(uv_timer_t *timer);

static void conn_timer_start(struct http_conn *conn, int mode, uint64_t ms)
{
    conn->timer_mode = mode;
    uv_timer_start(&conn->timer, conn_timer_fired, ms, 0);
}

static void conn_timer_at(struct http_conn *conn, int mode, uint64_t at)
{
    uint64_t now = now_ms(conn);
    conn_timer_start(conn, mode, at > now ? at - now : 0);
}

static void conn_time_out(struct http_conn *conn)
{
    char msg[96];
    const struct http_server_options *o = opt_of(conn);

    conn->server->stats.timed_out++;
    snprintf(msg, sizeof(msg), "the request %s did not arrive within %u ms",
             conn->request_in_body ? "body" : "header block",
             conn->request_in_body ? o->body_timeout_ms : o->header_timeout_ms);
    http__conn_reject(conn, 408, "TIMEOUT", msg);
}

static void conn_drain(struct http_conn *conn);

static void conn_timer_fired(uv_timer_t *timer)
{
    struct http_conn *conn = timer->data;
    struct http_server_stats *st = &conn->server->stats;

    switch (conn->timer_mode) {
        case TIMER_RESUME:
            conn_drain(conn);
            conn_arm(conn);
            return;
        case TIMER_REQUEST:
            conn_time_out(conn);
            return;
        case TIMER_IDLE:
            st->idle_closed++;
            break;
        case TIMER_OUTPUT:
            st->output_closed++;
            break;
        default:
            break;
    }
    http__conn_close(conn);
}

/* The client is the one to act: it has until its idle timeout, or its request's deadline
 * when that comes first. */
static void conn_wait_client(struct http_conn *conn)
{
    uint64_t at = conn->active_ms + opt_of(conn)->idle_timeout_ms;

    if (conn->request_deadline != 0 && conn->request_deadline <= at) {
        conn_timer_at(conn, TIMER_REQUEST, conn->request_deadline);
        return;
    }
    conn_timer_at(conn, TIMER_IDLE, at);
}

/* Sets the timer for what the connection waits on now. */
static void conn_arm(struct http_conn *conn)
{
    if (conn->closing || conn->lingering || conn->refusing) {
        return;
    }
    if (conn->pending != NULL) {
        /* The server is the slow party: the client is not idle. */
        uv_timer_stop(&conn->timer);
    } else if (conn->peer_eof && conn->backlog.len == 0) {
        /* Every complete request has been answered; the rest can never complete. */
        http__conn_finish(conn);
    } else if (conn->output_paused) {
        conn_timer_at(conn, TIMER_OUTPUT, conn->output_deadline);
    } else if (conn->backlog.len > 0) {
        conn_timer_start(conn, TIMER_RESUME, 0);
    } else {
        conn_wait_client(conn);
    }
}

/* ---- Closing politely ------------------------------------------------------------- */

static void shutdown_done(struct net_stream *stream, int status)
{
    struct http_conn *conn = stream->data;

    if (status == UV_ECANCELED) {
        return;
    }
    if (status < 0 || conn->peer_eof || conn->refusing) {
        http__conn_close(conn);
        return;
    }
    conn->shut_done = true;
    uint64_t linger = opt_of(conn)->idle_timeout_ms;
    conn_timer_start(conn, TIMER_LINGER, linger < LINGER_MS ? linger : LINGER_MS);
}

void http__conn_finish(struct http_conn *conn)
{
    if (conn->closing || conn->lingering) {
        return;
    }
    conn->lingering = true;
    conn->backlog.len = 0;
    if (net_stream_shutdown(&conn->stream, shutdown_done) != 0) {
        http__conn_close(conn);
        return;
    }
    if (conn->refusing) {
        conn_timer_start(conn, TIMER_LINGER, LINGER_MS);
        return;
    }
    conn_read_start(conn);
    /* The shutdown completes once the answers have left: that is the client's to allow. */
    conn_timer_start(conn, TIMER_OUTPUT, opt_of(conn)->output_timeout_ms);
}

void http__conn_answered(struct http_conn *conn, bool keep_alive)
{
    conn->active_ms = now_ms(conn);
    http__server_touch(conn);
    if (!keep_alive) {
        http__conn_finish(conn);
        return;
    }
    /* Inside the parse loop the next request is picked up by the loop itself; anywhere
     * else the resume waits for a loop turn, so that the handler is never entered from
     * inside a call that answers another request. */
    if (!conn->feeding) {
        conn_arm(conn);
    }
}

/* ---- Unsent output ---------------------------------------------------------------- */

void http__conn_output_queued(struct http_conn *conn)
{
    if (conn->output_paused || http__conn_unsent(conn) <= opt_of(conn)->output_high_water) {
        return;
    }
    conn->output_paused = true;
    conn->output_deadline = now_ms(conn) + opt_of(conn)->output_timeout_ms;
    conn->server->stats.output_paused++;
}

void http__conn_output_drained(struct http_conn *conn)
{
    if (!conn->output_paused || conn->closing ||
        http__conn_unsent(conn) > opt_of(conn)->output_high_water / 4) {
        return;
    }
    conn->output_paused = false;
    conn_arm(conn);
}

/* ---- Reading and parsing ---------------------------------------------------------- */

static void conn_dispatch(struct http_conn *conn)
{
    struct http_server *s = conn->server;
    struct http_exchange *x = conn->parse.ready;

    conn->parse.ready = NULL;
    x->conn = conn;
    x->peer = conn->addr;
    x->peer_known = conn->addr_known;
    x->started_ns = uv_hrtime();
    conn->pending = x;
    s->handler(s->data, x, &x->req);
}

/* Starts the clock of a request whose first byte, or whose body, was just parsed. */
static void conn_track_request(struct http_conn *conn)
{
    const struct http__parse *p = &conn->parse;
    bool in_body = !p->in_head;

    if (!p->in_message) {
        conn->request_deadline = 0;
        return;
    }
    if (conn->request_deadline != 0 && conn->request_seen == p->messages &&
        conn->request_in_body == in_body) {
        return;
    }
    conn->request_seen = p->messages;
    conn->request_in_body = in_body;
    conn->request_deadline = now_ms(conn) + (in_body ? opt_of(conn)->body_timeout_ms
                                                     : opt_of(conn)->header_timeout_ms);
}

static bool conn_may_parse(const struct http_conn *conn)
{
    return conn->pending == NULL && !conn->output_paused && !conn->closing && !conn->lingering;
}

/* Parses from data until a request waits for its answer, the unsent output is too large,
 * or the bytes run out; returns how many bytes were used. */
static size_t conn_feed(struct http_conn *conn, const char *data, size_t len)
{
    static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct http__parse *p = &conn->parse;
    size_t off = 0;

    conn->feeding = true;
    while (off < len && conn_may_parse(conn)) {
        size_t n = 0;
        enum http__parse_result r = http__parse_execute(p, data + off, len - off, &n);
        off += n;
        if (p->send_continue) {
            p->send_continue = false;
            http__conn_write(conn, continue_line, sizeof(continue_line) - 1);
        }
        if (r == HTTP__REJECT) {
            http__conn_reject(conn, p->reject_status, p->reject_code, p->reject_msg);
        } else if (r == HTTP__READY) {
            conn->feed_rest = data + off;
            conn->feed_rest_len = len - off;
            conn_dispatch(conn);
            conn->feed_rest = NULL;
            conn->feed_rest_len = 0;
            if (conn->upgraded) {
                /* The rest went to the connection's new owner. */
                conn->feeding = false;
                return len;
            }
        }
    }
    conn->feeding = false;
    conn_track_request(conn);
    return off;
}

/* Received bytes are held back at most this far while a request awaits its answer. */
static size_t backlog_limit(const struct http_conn *conn)
{
    size_t head = opt_of(conn)->max_header_bytes;
    return head > HTTP__READ_CHUNK ? head : HTTP__READ_CHUNK;
}

static void conn_read_stop(struct http_conn *conn)
{
    if (conn->reading) {
        net_stream_read_stop(&conn->stream);
        conn->reading = false;
    }
}

static void conn_keep(struct http_conn *conn, const char *data, size_t len)
{
    if (len == 0 || conn->closing || conn->lingering) {
        return;
    }
    if (http__text_put(&conn->backlog, data, len) != 0) {
        http__conn_close(conn);
        return;
    }
    if (conn->backlog.len >= backlog_limit(conn)) {
        conn_read_stop(conn);
    }
}

static void conn_drain(struct http_conn *conn)
{
    struct http__text *b = &conn->backlog;

    if (b->len == 0) {
        return;
    }
    size_t used = conn_feed(conn, b->data, b->len);
    if (conn->closing || conn->lingering) {
        return;
    }
    memmove(b->data, b->data + used, b->len - used);
    b->len -= used;
    if (b->len < backlog_limit(conn)) {
        conn_read_start(conn);
    }
}

static void conn_input(struct http_conn *conn, const char *data, size_t len)
{
    if (conn->backlog.len > 0) {
        conn_keep(conn, data, len);
        if (conn_may_parse(conn)) {
            conn_drain(conn);
        }
        return;
    }
    size_t used = conn_feed(conn, data, len);
    conn_keep(conn, data + used, len - used);
}

/* The client ended its stream (it may still read): what it sent whole gets answered. */
static void conn_peer_eof(struct http_conn *conn)
{
    conn->peer_eof = true;
    conn_read_stop(conn);
    if (conn->lingering) {
        if (conn->shut_done) {
            http__conn_close(conn);
        }
        return;
    }
    conn_arm(conn);
}

static void conn_read(struct net_stream *stream, ssize_t nread, const char *data)
{
    struct http_conn *conn = stream->data;

    if (nread == UV_EOF) {
        conn_peer_eof(conn);
        return;
    }
    if (nread < 0) {
        /* A reset, a failed TLS handshake or record, another error: nobody is left to
         * answer. */
        if (net_stream_secure(&conn->stream) && nread != UV_ECONNRESET) {
            conn->server->stats.tls_failed++;
        }
        http__conn_close(conn);
        return;
    }
    if (nread == 0 || conn->closing || conn->lingering) {
        return;
    }
    conn->active_ms = now_ms(conn);
    http__server_touch(conn);
    conn_input(conn, data, (size_t)nread);
    conn_arm(conn);
}

static void conn_read_start(struct http_conn *conn)
{
    if (conn->reading || conn->closing || conn->peer_eof) {
        return;
    }
    if (net_stream_read_start(&conn->stream, conn_read) != 0) {
        http__conn_close(conn);
        return;
    }
    conn->reading = true;
}

/* ---- Birth ------------------------------------------------------------------------ */

struct http_conn *http__conn_new(struct http_server *s)
{
    struct http_conn *conn = calloc(1, sizeof(*conn));

    if (conn == NULL) {
        return NULL;
    }
    if (net_stream_init(s->loop, &conn->stream, s->opt.tls) != 0) {
        free(conn);
        return NULL;
    }
    uv_timer_init(s->loop, &conn->timer);
    conn->stream.data = conn;
    conn->timer.data = conn;
    conn->server = s;
    conn->open_handles = 2;
    s->open_handles += 2;
    conn->active_ms = now_ms(conn);
    http__parse_init(&conn->parse, &s->opt);
    http__server_link(s, conn);
    return conn;
}

int http__conn_begin(struct http_conn *conn)
{
    if (net_stream_start(&conn->stream, NULL, opt_of(conn)->header_timeout_ms) != 0) {
        http__conn_close(conn);
        return CD_EIO;
    }
    return 0;
}

void http__conn_start(struct http_conn *conn)
{
    conn_read_start(conn);
    conn_arm(conn);
}
