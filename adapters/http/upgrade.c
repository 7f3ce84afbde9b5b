/* adapters/http: handing a connection over to another protocol (101 Switching Protocols).
 *
 * The connection's stream cannot move (libuv holds its address), so the connection's
 * memory outlives the hand-over: the server forgets it (unlinks it, gives up its counts
 * and handles, closes its timer) and marks it closing, which every path of conn.c and
 * reply.c already treats as "leave it alone". What remains is freed once both the timer
 * has closed and the new owner has called http_upgraded_free(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http/lines.h"
#include "adapters/http/server_internal.h"
#include "common/error.h"

static const char switching[] = "HTTP/1.1 101 Switching Protocols\r\n";

/* One of the two things the remains wait for has happened. */
static void upgraded_release(struct http_conn *conn)
{
    if (--conn->open_handles == 0) {
        free(conn->early);
        free(conn);
    }
}

static void upgraded_timer_closed(uv_handle_t *h)
{
    upgraded_release(h->data);
}

void http_upgraded_free(struct http_upgraded *u)
{
    upgraded_release((struct http_conn *)((char *)u - offsetof(struct http_conn, up)));
}

/* A field name is a token; a value is text without line breaks or other control
 * characters (tabs allowed): checked one by one, since a value holding CRLF would make a
 * line of its own. */
static bool header_ok(const struct http_header *h)
{
    if (h->name == NULL || h->value == NULL || h->name[0] == '\0') {
        return false;
    }
    for (const char *c = h->name; *c != '\0'; c++) {
        if (!http__token_char((unsigned char)*c)) {
            return false;
        }
    }
    for (const char *c = h->value; *c != '\0'; c++) {
        unsigned char ch = (unsigned char)*c;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            return false;
        }
    }
    return true;
}

/* The answer's head: the status line, the caller's header lines, the blank line; NULL when
 * a header is malformed (*rc CD_EINVAL) or memory runs out (*rc CD_ENOMEM). */
static char *format_head(const struct http_header *headers, size_t n, size_t *len, int *rc)
{
    size_t cap = sizeof(switching) + 2;
    for (size_t i = 0; i < n; i++) {
        if (!header_ok(&headers[i])) {
            *rc = CD_EINVAL;
            return NULL;
        }
        cap += strlen(headers[i].name) + strlen(headers[i].value) + 4;
    }
    char *head = malloc(cap);
    if (head == NULL) {
        *rc = CD_ENOMEM;
        return NULL;
    }
    size_t off = (size_t)snprintf(head, cap, "%s", switching);
    for (size_t i = 0; i < n; i++) {
        off += (size_t)snprintf(head + off, cap - off, "%s: %s\r\n", headers[i].name,
                                headers[i].value);
    }
    off += (size_t)snprintf(head + off, cap - off, "\r\n");
    *len = off;
    return head;
}

/* What the client sent after the request, read already. */
static void rest_of(const struct http_conn *conn, const char **rest, size_t *len)
{
    if (conn->feeding) {
        *rest = conn->feed_rest;
        *len = conn->feed_rest_len;
    } else {
        *rest = conn->backlog.data;
        *len = conn->backlog.len;
    }
}

static int check_state(const struct http_exchange *x)
{
    const struct http_conn *conn = x->conn;
    const char *rest;
    size_t rest_len;

    if (conn == NULL || conn->closing || conn->lingering || conn->server->closing) {
        return CD_ESTATE;
    }
    rest_of(conn, &rest, &rest_len);
    if (!x->req.upgrade && (rest_len > 0 || conn->parse.in_message)) {
        return CD_ESTATE;
    }
    return 0;
}

/* The server lets go of the connection: from now on it is up's owner's. */
static void hand_over(struct http_conn *conn, struct http_exchange *x)
{
    struct http_server *s = conn->server;

    if (conn->reading) {
        net_stream_read_stop(&conn->stream);
        conn->reading = false;
    }
    conn->pending = NULL;
    conn->closing = true;
    conn->upgraded = true;
    http__server_unlink(conn);
    /* The stream and the timer no longer count among the server's handles; the remains
     * wait for the timer and for the owner instead. The server is not closing (checked),
     * so this never frees it. */
    s->open_handles -= conn->open_handles;
    conn->open_handles = 2;
    uv_close((uv_handle_t *)&conn->timer, upgraded_timer_closed);
    http__parse_close(&conn->parse);
    free(conn->backlog.data);
    memset(&conn->backlog, 0, sizeof(conn->backlog));
    conn->up.stream = &conn->stream;
    conn->up.early = conn->early;
    conn->up.address[0] = '\0';
    if (x->peer_known) {
        http__peer_addr_text(&x->peer, conn->up.address, sizeof(conn->up.address));
    }
}

int http_exchange_upgrade(struct http_exchange *x,
                          const struct http_header *headers,
                          size_t n,
                          struct http_upgraded **out)
{
    struct http_conn *conn = x->conn;
    const char *rest;
    size_t head_len = 0;
    int rc = check_state(x);

    if (n > HTTP_HEADERS_MAX) {
        return CD_EINVAL;
    }
    if (rc != 0) {
        return rc;
    }
    char *head = format_head(headers, n, &head_len, &rc);
    if (head == NULL) {
        return rc;
    }
    rest_of(conn, &rest, &conn->up.early_len);
    conn->early = malloc(conn->up.early_len + 1);
    if (conn->early == NULL) {
        free(head);
        return CD_ENOMEM;
    }
    if (conn->up.early_len > 0) {
        memcpy(conn->early, rest, conn->up.early_len);
    }
    /* On failure the write closes the connection, which detaches x: the caller's answer
     * to it is discarded. */
    rc = http__conn_write(conn, head, head_len);
    free(head);
    if (rc != 0) {
        free(conn->early);
        conn->early = NULL;
        return rc == CD_ENOMEM ? CD_ENOMEM : CD_ESTATE;
    }
    conn->server->stats.answers[1]++;
    cd_hist_add(&conn->server->stats.latency, (uv_hrtime() - x->started_ns) / 1000);
    hand_over(conn, x);
    http__exchange_free(x);
    *out = &conn->up;
    return 0;
}
