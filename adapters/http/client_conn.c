/* adapters/http: one client connection. It carries one request at a time: connect (the
 * first time), write, parse the response with llhttp, then either go idle for the next
 * request or close. Its timer is the deadline of the request in flight. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/http/client_internal.h"
#include "common/error.h"

static struct http__cconn *conn_of(llhttp_t *lp)
{
    return lp->data;
}

static int stop_parse(struct http__cconn *conn, int error)
{
    conn->error = error;
    return -1;
}

static int count_head(struct http__cconn *conn, size_t n)
{
    conn->head_bytes += n;
    return conn->head_bytes > HTTP__RESPONSE_HEAD_MAX ? stop_parse(conn, CD_ETOOBIG) : 0;
}

static int on_message_begin(llhttp_t *lp)
{
    struct http__cconn *conn = conn_of(lp);

    conn->body_len = 0;
    conn->content_type_len = 0;
    conn->content_type[0] = '\0';
    conn->field_len = 0;
    return 0;
}

static int on_status(llhttp_t *lp, const char *at, size_t n)
{
    (void)at;
    return count_head(conn_of(lp), n);
}

static int on_header_field(llhttp_t *lp, const char *at, size_t n)
{
    struct http__cconn *conn = conn_of(lp);
    size_t room = sizeof(conn->field) - 1 - conn->field_len;

    /* A longer name is cut short; cut short, it cannot read "Content-Type". */
    memcpy(conn->field + conn->field_len, at, n < room ? n : room);
    conn->field_len += n < room ? n : room;
    conn->field[conn->field_len] = '\0';
    return count_head(conn, n);
}

static int on_header_field_complete(llhttp_t *lp)
{
    struct http__cconn *conn = conn_of(lp);

    conn->field_is_type = strcasecmp(conn->field, "Content-Type") == 0;
    conn->field_len = 0;
    if (conn->field_is_type) {
        conn->content_type_len = 0;
    }
    return 0;
}

static int on_header_value(llhttp_t *lp, const char *at, size_t n)
{
    struct http__cconn *conn = conn_of(lp);

    if (conn->field_is_type) {
        size_t room = sizeof(conn->content_type) - 1 - conn->content_type_len;
        size_t take = n < room ? n : room;
        memcpy(conn->content_type + conn->content_type_len, at, take);
        conn->content_type_len += take;
        conn->content_type[conn->content_type_len] = '\0';
    }
    return count_head(conn, n);
}

static int on_headers_complete(llhttp_t *lp)
{
    struct http__cconn *conn = conn_of(lp);

    if ((lp->flags & F_CONTENT_LENGTH) && lp->content_length > HTTP__RESPONSE_MAX) {
        return stop_parse(conn, CD_ETOOBIG);
    }
    /* 1: the answer to HEAD has no body, whatever its Content-Length says. */
    return conn->req != NULL && conn->req->head ? 1 : 0;
}

static int on_body(llhttp_t *lp, const char *at, size_t n)
{
    struct http__cconn *conn = conn_of(lp);

    if (n > HTTP__RESPONSE_MAX - conn->body_len) {
        return stop_parse(conn, CD_ETOOBIG);
    }
    if (conn->body_cap - conn->body_len < n + 1) {
        size_t cap = conn->body_cap ? conn->body_cap : 1024;
        while (cap - conn->body_len < n + 1) {
            cap *= 2;
        }
        char *grown = realloc(conn->body, cap);
        if (grown == NULL) {
            return stop_parse(conn, CD_ENOMEM);
        }
        conn->body = grown;
        conn->body_cap = cap;
    }
    memcpy(conn->body + conn->body_len, at, n);
    conn->body_len += n;
    return 0;
}

static int on_message_complete(llhttp_t *lp)
{
    struct http__cconn *conn = conn_of(lp);
    int status = lp->status_code;

    if (status >= 100 && status < 200 && status != 101) {
        /* An interim answer ("100 Continue"): the real one follows. */
        return 0;
    }
    conn->done = true;
    conn->keep_alive = llhttp_should_keep_alive(lp) && !lp->upgrade;
    return HPE_PAUSED;
}

static const llhttp_settings_t response_settings = {
    .on_message_begin = on_message_begin,
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void conn_closed(struct http__cconn *conn)
{
    struct http_client *c = conn->client;

    if (--conn->open_handles == 0) {
        free(conn->body);
        free(conn);
    }
    http__client_handle_closed(c);
}

static void timer_closed(uv_handle_t *h)
{
    conn_closed(h->data);
}

static void stream_closed(struct net_stream *stream)
{
    conn_closed(stream->data);
}

void http__cconn_close(struct http__cconn *conn)
{
    struct http_client *c = conn->client;

    if (conn->closing) {
        return;
    }
    conn->closing = true;
    if (conn->prev != NULL) {
        conn->prev->next = conn->next;
    } else {
        c->conns = conn->next;
    }
    if (conn->next != NULL) {
        conn->next->prev = conn->prev;
    }
    c->n_conns--;
    net_stream_close(&conn->stream, stream_closed);
    uv_close((uv_handle_t *)&conn->timer, timer_closed);
}

/* Ends the request in flight with error and gives up the connection. */
static void conn_fail(struct http__cconn *conn, int error)
{
    struct http_client *c = conn->client;
    struct http__creq *req = conn->req;

    conn->req = NULL;
    http__cconn_close(conn);
    http__client_fail(req, error);
    http__client_pump(c);
}

/* A whole response arrived. reusable: nothing followed it on the wire. */
static void conn_deliver(struct http__cconn *conn, bool reusable)
{
    struct http_client *c = conn->client;
    struct http__creq *req = conn->req;
    char content_type[sizeof(conn->content_type)];
    struct http_response res = {
        .status = conn->parser.status_code,
        .body = conn->body ? conn->body : "",
        .body_len = conn->body_len,
        .content_type = content_type,
    };

    /* The callback may send again on this very connection, so it gets its own copies. */
    memcpy(content_type, conn->content_type, sizeof(content_type));
    char *body = conn->body;
    if (body != NULL) {
        body[conn->body_len] = '\0';
    }
    conn->body = NULL;
    conn->body_cap = 0;
    conn->body_len = 0;
    conn->req = NULL;
    uv_timer_stop(&conn->timer);
    if (!reusable || !conn->keep_alive) {
        http__cconn_close(conn);
    }
    http__client_finish(req, &res);
    free(body);
    http__client_pump(c);
}

static void conn_eof(struct http__cconn *conn, ssize_t nread)
{
    if (conn->req == NULL) {
        /* The server let an idle connection go: the next request opens another. */
        http__cconn_close(conn);
        http__client_pump(conn->client);
        return;
    }
    /* A body delimited by the end of the connection ends here. */
    if (nread == UV_EOF) {
        llhttp_finish(&conn->parser);
        if (conn->done) {
            conn_deliver(conn, false);
            return;
        }
    }
    conn_fail(conn, conn->error ? conn->error : CD_EIO);
}

static void conn_read(struct net_stream *stream, ssize_t nread, const char *data)
{
    struct http__cconn *conn = stream->data;

    if (conn->closing || nread == 0) {
        return;
    }
    if (nread < 0) {
        conn_eof(conn, nread);
        return;
    }
    if (conn->req == NULL) {
        /* Bytes nobody asked for: the connection can no longer be trusted. */
        http__cconn_close(conn);
        http__client_pump(conn->client);
        return;
    }
    llhttp_errno_t err = llhttp_execute(&conn->parser, data, (size_t)nread);
    if (err == HPE_OK) {
        return;
    }
    if (err == HPE_PAUSED && conn->done) {
        const char *end = data + nread;
        conn_deliver(conn, llhttp_get_error_pos(&conn->parser) == end);
        return;
    }
    conn_fail(conn, conn->error ? conn->error : CD_EPARSE);
}

static void write_done(struct net_stream *stream, int status, void *arg)
{
    struct http__cconn *conn = stream->data;

    (void)arg;
    if (status < 0 && status != UV_ECANCELED && !conn->closing) {
        if (conn->req != NULL) {
            conn_fail(conn, CD_EIO);
        } else {
            http__cconn_close(conn);
        }
    }
}

/* Writes the request in flight. On failure the request keeps its bytes and nothing was
 * sent. */
static int conn_write(struct http__cconn *conn)
{
    struct http__creq *req = conn->req;

    llhttp_init(&conn->parser, HTTP_RESPONSE, &response_settings);
    conn->parser.data = conn;
    conn->done = false;
    conn->error = 0;
    conn->head_bytes = 0;
    if (net_stream_write(&conn->stream, req->wire, req->wire_len, write_done, NULL) != 0) {
        return CD_EIO;
    }
    free(req->wire);
    req->wire = NULL;
    return 0;
}

static void conn_timed_out(uv_timer_t *timer)
{
    struct http__cconn *conn = timer->data;

    conn_fail(conn, CD_EIO);
}

/* Takes req in flight and starts its deadline. */
static void conn_take(struct http__cconn *conn, struct http__creq *req)
{
    uint64_t now = uv_now(conn->client->loop);

    conn->req = req;
    uv_timer_start(&conn->timer, conn_timed_out, req->deadline > now ? req->deadline - now : 0,
                   0);
}

static void on_connect(uv_connect_t *connect, int status)
{
    struct http__cconn *conn = connect->handle->data;

    if (conn->closing) {
        return;
    }
    if (status < 0) {
        conn_fail(conn, CD_EIO);
        return;
    }
    conn->connected = true;
    struct http_client *c = conn->client;
    if (net_stream_start(&conn->stream, c->peer_name[0] != '\0' ? c->peer_name : NULL, 0) !=
            0 ||
        net_stream_read_start(&conn->stream, conn_read) != 0 || conn_write(conn) != 0) {
        conn_fail(conn, CD_EIO);
    }
}

static struct http__cconn *conn_new(struct http_client *c)
{
    struct http__cconn *conn = calloc(1, sizeof(*conn));

    if (conn == NULL) {
        return NULL;
    }
    if (net_stream_init(c->loop, &conn->stream, c->tls) != 0) {
        free(conn);
        return NULL;
    }
    uv_timer_init(c->loop, &conn->timer);
    conn->stream.data = conn;
    conn->timer.data = conn;
    conn->client = c;
    conn->open_handles = 2;
    c->open_handles += 2;
    conn->next = c->conns;
    if (c->conns != NULL) {
        c->conns->prev = conn;
    }
    c->conns = conn;
    c->n_conns++;
    return conn;
}

int http__cconn_open(struct http_client *c, struct http__creq *req)
{
    struct http__cconn *conn = conn_new(c);

    if (conn == NULL) {
        return CD_ENOMEM;
    }
    if (uv_tcp_connect(&conn->connect, &conn->stream.tcp, (const struct sockaddr *)&c->addr,
                       on_connect) != 0) {
        http__cconn_close(conn);
        return CD_EIO;
    }
    conn_take(conn, req);
    return 0;
}

int http__cconn_send(struct http__cconn *conn, struct http__creq *req)
{
    conn_take(conn, req);
    if (conn_write(conn) != 0) {
        conn->req = NULL;
        http__cconn_close(conn);
        return CD_EIO;
    }
    return 0;
}
