/* adapters/http: the listening socket and the life of each connection.
 *
 * A connection parses until a request is complete, hands it to the handler, and parses no
 * further until that request is answered: answers therefore leave in request order without
 * a queue. Bytes that arrive meanwhile wait in a backlog (reading stops when it fills), and
 * the connection keeps reading so that a client who goes away is noticed and its exchange
 * detached. One timer per connection serves three purposes in turn: the idle timeout, a
 * zero-delay resume after an answer given outside the read path, and the bound on a
 * lingering close. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http/server_internal.h"
#include "common/error.h"

enum {
    TIMER_IDLE,
    TIMER_RESUME,
    TIMER_LINGER,
};

/* How long a closing connection may still send before it is cut off. */
#define LINGER_MS 2000

static void server_maybe_free(struct http_server *s)
{
    if (!s->closing || s->open_handles > 0) {
        return;
    }
    void (*cb)(void *data) = s->close_cb;
    void *data = s->close_data;
    free(s);
    if (cb != NULL) {
        cb(data);
    }
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct http_conn *conn = h->data;
    struct http_server *s = conn->server;

    s->open_handles--;
    if (--conn->open_handles == 0) {
        http__parse_close(&conn->parse);
        free(conn->backlog.data);
        free(conn);
    }
    server_maybe_free(s);
}

static void conn_unlink(struct http_conn *conn)
{
    struct http_server *s = conn->server;

    if (conn->prev != NULL) {
        conn->prev->next = conn->next;
    } else {
        s->conns = conn->next;
    }
    if (conn->next != NULL) {
        conn->next->prev = conn->prev;
    }
    conn->prev = conn->next = NULL;
    s->n_conns--;
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
    conn_unlink(conn);
    uv_close((uv_handle_t *)&conn->tcp, conn_handle_closed);
    uv_close((uv_handle_t *)&conn->timer, conn_handle_closed);
}

static void conn_timer_start(struct http_conn *conn, int mode, uint64_t ms);
static void conn_read_start(struct http_conn *conn);

static void shutdown_done(uv_shutdown_t *req, int status)
{
    struct http_conn *conn = req->handle->data;

    if (status < 0 && status != UV_ECANCELED) {
        http__conn_close(conn);
    }
}

void http__conn_finish(struct http_conn *conn)
{
    if (conn->closing || conn->lingering) {
        return;
    }
    conn->lingering = true;
    conn->backlog.len = 0;
    if (uv_shutdown(&conn->shutdown, (uv_stream_t *)&conn->tcp, shutdown_done) != 0) {
        http__conn_close(conn);
        return;
    }
    conn_read_start(conn);
    uint64_t linger = conn->server->opt.idle_timeout_ms;
    conn_timer_start(conn, TIMER_LINGER, linger < LINGER_MS ? linger : LINGER_MS);
}

/* Sets the timer for what the connection waits on now. */
static void conn_arm(struct http_conn *conn)
{
    if (conn->closing || conn->lingering) {
        return;
    }
    if (conn->pending != NULL) {
        /* The server is the slow party: the client is not idle. */
        uv_timer_stop(&conn->timer);
    } else if (conn->backlog.len > 0) {
        conn_timer_start(conn, TIMER_RESUME, 0);
    } else {
        conn_timer_start(conn, TIMER_IDLE, conn->server->opt.idle_timeout_ms);
    }
}

void http__conn_answered(struct http_conn *conn, bool keep_alive)
{
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

static void conn_dispatch(struct http_conn *conn)
{
    struct http_server *s = conn->server;
    struct http_exchange *x = conn->parse.ready;

    conn->parse.ready = NULL;
    x->conn = conn;
    x->started_ns = uv_hrtime();
    conn->pending = x;
    s->handler(s->data, x, &x->req);
}

/* Parses from data until a request waits for its answer or the bytes run out; returns how
 * many bytes were used. */
static size_t conn_feed(struct http_conn *conn, const char *data, size_t len)
{
    static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct http__parse *p = &conn->parse;
    size_t off = 0;

    conn->feeding = true;
    while (off < len && conn->pending == NULL && !conn->closing && !conn->lingering) {
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
            conn_dispatch(conn);
        }
    }
    conn->feeding = false;
    return off;
}

/* Received bytes are held back at most this far while a request awaits its answer. */
static size_t backlog_limit(const struct http_conn *conn)
{
    size_t head = conn->server->opt.max_header_bytes;
    return head > HTTP__READ_CHUNK ? head : HTTP__READ_CHUNK;
}

static void conn_read_stop(struct http_conn *conn)
{
    if (conn->reading) {
        uv_read_stop((uv_stream_t *)&conn->tcp);
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
        if (conn->pending == NULL) {
            conn_drain(conn);
        }
        return;
    }
    size_t used = conn_feed(conn, data, len);
    conn_keep(conn, data + used, len - used);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *conn = h->data;

    (void)suggested;
    *buf = uv_buf_init(conn->server->read_buf, sizeof(conn->server->read_buf));
}

static void conn_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct http_conn *conn = stream->data;

    if (nread < 0) {
        /* End of stream or an error: either way nobody is left to answer. */
        http__conn_close(conn);
        return;
    }
    if (nread == 0 || conn->closing || conn->lingering) {
        return;
    }
    conn_input(conn, buf->base, (size_t)nread);
    conn_arm(conn);
}

static void conn_read_start(struct http_conn *conn)
{
    if (conn->reading || conn->closing) {
        return;
    }
    if (uv_read_start((uv_stream_t *)&conn->tcp, conn_alloc, conn_read) != 0) {
        http__conn_close(conn);
        return;
    }
    conn->reading = true;
}

static void conn_timer_fired(uv_timer_t *timer)
{
    struct http_conn *conn = timer->data;

    if (conn->timer_mode != TIMER_RESUME) {
        http__conn_close(conn);
        return;
    }
    conn_drain(conn);
    conn_arm(conn);
}

static void conn_timer_start(struct http_conn *conn, int mode, uint64_t ms)
{
    conn->timer_mode = mode;
    uv_timer_start(&conn->timer, conn_timer_fired, ms, 0);
}

static struct http_conn *conn_new(struct http_server *s)
{
    struct http_conn *conn = calloc(1, sizeof(*conn));

    if (conn == NULL) {
        return NULL;
    }
    if (uv_tcp_init(s->loop, &conn->tcp) != 0) {
        free(conn);
        return NULL;
    }
    uv_timer_init(s->loop, &conn->timer);
    conn->tcp.data = conn;
    conn->timer.data = conn;
    conn->server = s;
    conn->open_handles = 2;
    s->open_handles += 2;
    http__parse_init(&conn->parse, &s->opt);
    conn->next = s->conns;
    if (s->conns != NULL) {
        s->conns->prev = conn;
    }
    s->conns = conn;
    s->n_conns++;
    return conn;
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct http_server *s = listener->data;

    if (status < 0 || s->closing) {
        return;
    }
    /* Without memory the connection cannot be accepted; libuv then stops watching the
     * listener, which is the most a server out of memory can do anyway. */
    struct http_conn *conn = conn_new(s);
    if (conn == NULL) {
        return;
    }
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0 ||
        s->n_conns > s->opt.max_connections) {
        http__conn_close(conn);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    conn_read_start(conn);
    conn_arm(conn);
}

static void listener_closed(uv_handle_t *h)
{
    struct http_server *s = h->data;

    s->open_handles--;
    server_maybe_free(s);
}

static void fill_defaults(struct http_server_options *o)
{
    if (o->max_body == 0) {
        o->max_body = 1024 * 1024;
    }
    if (o->max_header_bytes == 0) {
        o->max_header_bytes = 16 * 1024;
    }
    if (o->idle_timeout_ms == 0) {
        o->idle_timeout_ms = 60 * 1000;
    }
    if (o->max_connections == 0) {
        o->max_connections = 4096;
    }
}

int http_server_new(uv_loop_t *loop,
                    const struct http_server_options *opt,
                    http_handler_cb handler,
                    void *data,
                    struct http_server **out)
{
    struct http_server *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return CD_ENOMEM;
    }
    if (uv_tcp_init(loop, &s->listener) != 0) {
        free(s);
        return CD_ENOMEM;
    }
    s->loop = loop;
    if (opt != NULL) {
        s->opt = *opt;
    }
    fill_defaults(&s->opt);
    s->handler = handler;
    s->data = data;
    s->listener.data = s;
    s->open_handles = 1;
    *out = s;
    return 0;
}

static int parse_address(const char *host, uint16_t port, struct sockaddr_storage *addr)
{
    memset(addr, 0, sizeof(*addr));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)addr) == 0) {
        return 0;
    }
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)addr) == 0) {
        return 0;
    }
    return CD_EINVAL;
}

static void listen_error(char *errmsg,
                         size_t errlen,
                         const char *host,
                         uint16_t port,
                         const char *why)
{
    bool ipv6 = strchr(host, ':') != NULL;

    snprintf(errmsg, errlen, ipv6 ? "listen on '[%s]:%u': %s" : "listen on '%s:%u': %s", host,
             port, why);
}

int http_server_listen(struct http_server *s,
                       const char *host,
                       uint16_t port,
                       char *errmsg,
                       size_t errlen)
{
    struct sockaddr_storage addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);

    if (parse_address(host, port, &addr) != 0) {
        listen_error(errmsg, errlen, host, port, "not an IPv4 or IPv6 address");
        return CD_EINVAL;
    }
    int rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
    }
    if (rc == 0) {
        rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
    }
    if (rc != 0) {
        listen_error(errmsg, errlen, host, port, uv_strerror(rc));
        return CD_EIO;
    }
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

unsigned http_server_connections(const struct http_server *s)
{
    return s->n_conns;
}

void http_server_stats(const struct http_server *s, struct http_server_stats *out)
{
    *out = s->stats;
}

void http_server_close(struct http_server *s, void (*close_cb)(void *data), void *data)
{
    s->closing = true;
    s->close_cb = close_cb;
    s->close_data = data;
    uv_close((uv_handle_t *)&s->listener, listener_closed);
    while (s->conns != NULL) {
        http__conn_close(s->conns);
    }
}
