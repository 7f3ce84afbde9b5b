/* adapters/http: the client pool. Requests wait in one FIFO queue and go out, one per
 * connection, on an idle connection or a new one while the pool has room. A timer on the
 * pool ("sweep") fires the callbacks of requests that failed before reaching a connection,
 * so that no callback ever runs inside http_client_request(), and expires requests whose
 * deadline passes while they wait. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http/client_internal.h"
#include "adapters/http/lines.h"
#include "common/error.h"

void http__client_finish(struct http__creq *req, const struct http_response *res)
{
    req->cb(req->data, res);
    free(req->wire);
    free(req);
}

void http__client_fail(struct http__creq *req, int error)
{
    struct http_response res = {.status = error, .body = "", .content_type = ""};

    http__client_finish(req, &res);
}

static void queue_push(struct http__creq **head, struct http__creq **tail, struct http__creq *r)
{
    r->next = NULL;
    if (*tail != NULL) {
        (*tail)->next = r;
    } else {
        *head = r;
    }
    *tail = r;
}

static struct http__creq *queue_pop(struct http__creq **head, struct http__creq **tail)
{
    struct http__creq *r = *head;

    *head = r->next;
    if (*head == NULL) {
        *tail = NULL;
    }
    r->next = NULL;
    return r;
}

static void swept(uv_timer_t *timer);

/* Wakes the sweep for the first thing due: a failed request, or the earliest deadline in
 * the queue. */
static void sweep_arm(struct http_client *c)
{
    uint64_t now = uv_now(c->loop);
    uint64_t first = UINT64_MAX;

    if (c->closing) {
        return;
    }
    if (c->due_head != NULL) {
        first = now;
    }
    for (struct http__creq *r = c->wait_head; r != NULL; r = r->next) {
        first = r->deadline < first ? r->deadline : first;
    }
    if (first == UINT64_MAX) {
        uv_timer_stop(&c->sweep);
        return;
    }
    uv_timer_start(&c->sweep, swept, first > now ? first - now : 0, 0);
}

static void defer_fail(struct http_client *c, struct http__creq *req, int error)
{
    req->error = error;
    queue_push(&c->due_head, &c->due_tail, req);
}

/* Moves the waiting requests whose deadline passed onto the due list. */
static void expire_waiting(struct http_client *c)
{
    uint64_t now = uv_now(c->loop);
    struct http__creq *keep_head = NULL;
    struct http__creq *keep_tail = NULL;

    while (c->wait_head != NULL) {
        struct http__creq *r = queue_pop(&c->wait_head, &c->wait_tail);
        if (r->deadline <= now) {
            defer_fail(c, r, CD_EIO);
        } else {
            queue_push(&keep_head, &keep_tail, r);
        }
    }
    c->wait_head = keep_head;
    c->wait_tail = keep_tail;
}

/* Fires every callback on a detached list; the callbacks may use the client freely. */
static void fire_list(struct http__creq *list, int error)
{
    while (list != NULL) {
        struct http__creq *r = list;
        list = r->next;
        http__client_fail(r, error ? error : r->error);
    }
}

static void swept(uv_timer_t *timer)
{
    struct http_client *c = timer->data;

    expire_waiting(c);
    struct http__creq *due = c->due_head;
    c->due_head = c->due_tail = NULL;
    fire_list(due, 0);
    sweep_arm(c);
}

static struct http__cconn *idle_conn(struct http_client *c)
{
    for (struct http__cconn *conn = c->conns; conn != NULL; conn = conn->next) {
        if (conn->connected && conn->req == NULL) {
            return conn;
        }
    }
    return NULL;
}

/* Gives the request at the head of the queue a connection; false when none is free. */
static bool pump_one(struct http_client *c)
{
    struct http__cconn *conn = idle_conn(c);

    if (conn == NULL && c->n_conns >= c->max_conns) {
        return false;
    }
    struct http__creq *req = queue_pop(&c->wait_head, &c->wait_tail);
    if (req->deadline <= uv_now(c->loop)) {
        defer_fail(c, req, CD_EIO);
    } else if (conn != NULL) {
        /* Nothing was sent when this fails, so the request may try again elsewhere. */
        if (http__cconn_send(conn, req) != 0) {
            req->next = c->wait_head;
            c->wait_head = req;
            c->wait_tail = c->wait_tail ? c->wait_tail : req;
        }
    } else if (http__cconn_open(c, req) != 0) {
        defer_fail(c, req, CD_EIO);
    }
    return true;
}

void http__client_pump(struct http_client *c)
{
    if (c->closing) {
        return;
    }
    while (c->wait_head != NULL && pump_one(c)) {
    }
    sweep_arm(c);
}

void http__client_handle_closed(struct http_client *c)
{
    if (--c->open_handles == 0 && c->closing) {
        free(c);
    }
}

static void sweep_closed(uv_handle_t *h)
{
    http__client_handle_closed(h->data);
}

int http_client_set_tls(struct http_client *c, struct net_tls *tls, const char *peer_name)
{
    const char *name = peer_name != NULL ? peer_name : "";
    if (strlen(name) >= sizeof(c->peer_name)) {
        return CD_EINVAL;
    }
    snprintf(c->peer_name, sizeof(c->peer_name), "%s", name);
    c->tls = tls;
    return 0;
}

int http_client_new(uv_loop_t *loop,
                    const char *host,
                    uint16_t port,
                    unsigned max_conns,
                    struct http_client **out)
{
    struct http_client *c = calloc(1, sizeof(*c));
    bool ipv6 = false;

    if (c == NULL) {
        return CD_ENOMEM;
    }
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&c->addr) != 0) {
        if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)&c->addr) != 0) {
            free(c);
            return CD_EINVAL;
        }
        ipv6 = true;
    }
    if ((size_t)snprintf(c->authority, sizeof(c->authority), ipv6 ? "[%s]:%u" : "%s:%u", host,
                         port) >= sizeof(c->authority)) {
        free(c);
        return CD_EINVAL;
    }
    c->loop = loop;
    c->max_conns = max_conns ? max_conns : 64;
    uv_timer_init(loop, &c->sweep);
    c->sweep.data = c;
    c->open_handles = 1;
    *out = c;
    return 0;
}

/* A token of RFC 9110, 5.6.2. */
static bool is_token(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!http__token_char((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

/* Whether s may sit in a request line (visible) or a header value (tabs and spaces too):
 * a line break here would let a caller forge headers. */
static bool is_text(const char *s, bool allow_space)
{
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        bool space = ch == ' ' || ch == '\t';
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f || (space && !allow_space)) {
            return false;
        }
    }
    return true;
}

static bool method_has_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

#define WIRE_HEAD "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s\r\n"

static char *build_wire(const struct http_client *c,
                        const char *method,
                        const char *target,
                        const char *content_type,
                        const char *headers,
                        const void *body,
                        size_t len,
                        size_t *wire_len)
{
    const char *ct = content_type ? content_type : "";
    const char *ct_name = content_type ? "Content-Type: " : "";
    const char *ct_end = content_type ? "\r\n" : "";
    char length[48] = "";

    if (len > 0 || method_has_body(method)) {
        snprintf(length, sizeof(length), "Content-Length: %zu\r\n", len);
    }
    const char *extra = headers ? headers : "";
    int n = snprintf(NULL, 0, WIRE_HEAD, method, target, c->authority, ct_name, ct, ct_end,
                     extra, length);
    char *wire = malloc((size_t)n + 1 + len);
    if (wire == NULL) {
        return NULL;
    }
    snprintf(wire, (size_t)n + 1, WIRE_HEAD, method, target, c->authority, ct_name, ct, ct_end,
             extra, length);
    if (len > 0) {
        memcpy(wire + n, body, len);
    }
    *wire_len = (size_t)n + len;
    return wire;
}

int http_client_request(struct http_client *c,
                        const char *method,
                        const char *target,
                        const char *content_type,
                        const void *body,
                        size_t len,
                        unsigned timeout_ms,
                        http_client_cb cb,
                        void *data)
{
    return http_client_request_headers(c, method, target, content_type, NULL, body, len,
                                       timeout_ms, cb, data);
}

int http_client_request_headers(struct http_client *c,
                                const char *method,
                                const char *target,
                                const char *content_type,
                                const char *headers,
                                const void *body,
                                size_t len,
                                unsigned timeout_ms,
                                http_client_cb cb,
                                void *data)
{
    if (c->closing) {
        return CD_ESTATE;
    }
    if (!is_token(method) || *target == '\0' || !is_text(target, false) ||
        (content_type != NULL && !is_text(content_type, true)) ||
        (headers != NULL && !http__lines_valid(headers))) {
        return CD_EINVAL;
    }
    struct http__creq *req = calloc(1, sizeof(*req));
    if (req == NULL) {
        return CD_ENOMEM;
    }
    req->wire = build_wire(c, method, target, content_type, headers, body, len, &req->wire_len);
    if (req->wire == NULL) {
        free(req);
        return CD_ENOMEM;
    }
    req->deadline = uv_now(c->loop) + (timeout_ms ? timeout_ms : 10000);
    req->head = strcmp(method, "HEAD") == 0;
    req->cb = cb;
    req->data = data;
    queue_push(&c->wait_head, &c->wait_tail, req);
    http__client_pump(c);
    return 0;
}

void http_client_close(struct http_client *c)
{
    struct http__creq *flying = NULL;
    struct http__creq *flying_tail = NULL;

    if (c->closing) {
        return;
    }
    c->closing = true;
    while (c->conns != NULL) {
        struct http__cconn *conn = c->conns;
        if (conn->req != NULL) {
            queue_push(&flying, &flying_tail, conn->req);
            conn->req = NULL;
        }
        http__cconn_close(conn);
    }
    uv_close((uv_handle_t *)&c->sweep, sweep_closed);
    struct http__creq *due = c->due_head;
    struct http__creq *waiting = c->wait_head;
    c->due_head = c->due_tail = c->wait_head = c->wait_tail = NULL;
    /* In the order the requests were made: in flight first, then the queue. */
    fire_list(due, 0);
    fire_list(flying, CD_EIO);
    fire_list(waiting, CD_EIO);
}
