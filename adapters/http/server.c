/* adapters/http: the listening socket, the list of connections, and who is admitted.
 *
 * The list is kept in order of activity (a read or an answer), most recent first, so that
 * the connection to give up when the server is full is found from the end: the first idle
 * one there. Only connections busy without activity (a request awaiting its answer,
 * answers the client does not take) drift to the end, so the walk is short unless most
 * connections are busy that way, and never longer than max_connections. The life of each
 * connection is conn.c's. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http/server_internal.h"
#include "common/error.h"

static void server_maybe_free(struct http_server *s)
{
    if (!s->closing || s->open_handles > 0) {
        return;
    }
    void (*cb)(void *data) = s->close_cb;
    void *data = s->close_data;
    http__peers_free(&s->peers);
    free(s);
    if (cb != NULL) {
        cb(data);
    }
}

void http__server_handle_closed(struct http_server *s)
{
    s->open_handles--;
    server_maybe_free(s);
}

static void list_remove(struct http_server *s, struct http_conn *conn)
{
    if (conn->prev != NULL) {
        conn->prev->next = conn->next;
    } else {
        s->conns = conn->next;
    }
    if (conn->next != NULL) {
        conn->next->prev = conn->prev;
    } else {
        s->conns_last = conn->prev;
    }
    conn->prev = conn->next = NULL;
}

static void list_push_front(struct http_server *s, struct http_conn *conn)
{
    conn->next = s->conns;
    if (s->conns != NULL) {
        s->conns->prev = conn;
    } else {
        s->conns_last = conn;
    }
    s->conns = conn;
}

void http__server_link(struct http_server *s, struct http_conn *conn)
{
    list_push_front(s, conn);
    s->n_conns++;
}

void http__server_touch(struct http_conn *conn)
{
    struct http_server *s = conn->server;

    if (s->conns != conn && !conn->closing) {
        list_remove(s, conn);
        list_push_front(s, conn);
    }
}

static void conn_uncount(struct http_conn *conn)
{
    if (conn->counted) {
        http__peers_remove(&conn->server->peers, &conn->addr);
        conn->counted = false;
    }
}

void http__server_unlink(struct http_conn *conn)
{
    struct http_server *s = conn->server;

    list_remove(s, conn);
    s->n_conns--;
    s->n_refusing -= conn->refusing ? 1 : 0;
    conn_uncount(conn);
}

/* ---- Admission ---------------------------------------------------------------------- */

/* Answers 503 and closes, reading nothing; counter (may be NULL) counts the refusal. */
static void conn_refuse(struct http_conn *conn, uint64_t *counter, const char *why)
{
    if (counter != NULL) {
        (*counter)++;
    }
    conn->refusing = true;
    conn->server->n_refusing++;
    conn_uncount(conn);
    http__conn_reject(conn, 503, "UNAVAILABLE", why);
}

/* The least recently active connection whose closing loses nothing, or NULL. */
static struct http_conn *idle_victim(struct http_server *s, const struct http_conn *newcomer)
{
    for (struct http_conn *c = s->conns_last; c != NULL; c = c->prev) {
        if (c != newcomer && http__conn_idle(c)) {
            return c;
        }
    }
    return NULL;
}

/* Counts the connection against its address; false when it was refused instead. */
static bool admit_address(struct http_server *s, struct http_conn *conn)
{
    struct sockaddr_storage peer;
    int len = sizeof(peer);

    /* Handlers see the address too (http_exchange_peer_address()). */
    conn->addr_known =
        uv_tcp_getpeername(&conn->stream.tcp, (struct sockaddr *)&peer, &len) == 0 &&
        http__peer_addr_from((struct sockaddr *)&peer, &conn->addr) == 0;
    if (s->opt.max_per_address == HTTP_NO_LIMIT) {
        return true;
    }
    if (!conn->addr_known) {
        /* The client is gone already, or is not on IP. */
        http__conn_close(conn);
        return false;
    }
    if (http__peers_count(&s->peers, &conn->addr) >= s->opt.max_per_address) {
        conn_refuse(conn, &s->stats.refused_address, "too many connections from this address");
        return false;
    }
    if (http__peers_add(&s->peers, &conn->addr) != 0) {
        conn_refuse(conn, NULL, "out of memory");
        return false;
    }
    conn->counted = true;
    return true;
}

static void admit(struct http_server *s, struct http_conn *conn)
{
    if (!admit_address(s, conn)) {
        return;
    }
    if (s->n_conns - s->n_refusing > s->opt.max_connections) {
        struct http_conn *victim = idle_victim(s, conn);
        if (victim == NULL) {
            conn_refuse(conn, &s->stats.refused_busy,
                        "too many connections, all of them busy; try again shortly");
            return;
        }
        s->stats.evicted++;
        http__conn_close(victim);
    }
    http__conn_start(conn);
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct http_server *s = listener->data;

    if (status < 0 || s->closing) {
        return;
    }
    /* Without memory the connection cannot be accepted; libuv then stops watching the
     * listener, which is the most a server out of memory can do anyway. */
    struct http_conn *conn = http__conn_new(s);
    if (conn == NULL) {
        return;
    }
    if (uv_accept(listener, (uv_stream_t *)&conn->stream.tcp) != 0) {
        http__conn_close(conn);
        return;
    }
    if (http__conn_begin(conn) != 0) {
        return;
    }
    admit(s, conn);
}

static void listener_closed(uv_handle_t *h)
{
    http__server_handle_closed(h->data);
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
    if (o->header_timeout_ms == 0) {
        o->header_timeout_ms = 10 * 1000;
    }
    if (o->body_timeout_ms == 0) {
        o->body_timeout_ms = 30 * 1000;
    }
    if (o->max_connections == 0) {
        o->max_connections = 4096;
    }
    if (o->max_per_address == 0) {
        o->max_per_address = 256;
    }
    if (o->output_high_water == 0) {
        o->output_high_water = 256 * 1024;
    }
    if (o->output_limit == 0) {
        o->output_limit = 64 * 1024 * 1024;
    }
    if (o->output_timeout_ms == 0) {
        o->output_timeout_ms = 30 * 1000;
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
