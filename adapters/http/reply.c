/* adapters/http: answers. Each answer is formatted into one buffer and handed over to the
 * connection's stream, which frees it once written (or encrypted). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/http/lines.h"
#include "adapters/http/server_internal.h"
#include "common/error.h"
#include "common/log.h"

/* arg, not stream->data, names the connection: once it is handed over (upgrade.c), the
 * stream's data is the new owner's, and the connection lives until that owner frees it. */
static void write_done(struct net_stream *stream, int status, void *arg)
{
    struct http_conn *conn = arg;

    (void)stream;
    if (status == UV_ECANCELED || conn->upgraded) {
        return;
    }
    if (status < 0) {
        http__conn_close(conn);
        return;
    }
    http__conn_output_drained(conn);
}

/* Takes out (malloc'd), which holds len bytes of data. */
static int conn_write_out(struct http_conn *conn, char *out, size_t len)
{
    if (conn->closing) {
        free(out);
        return CD_EIO;
    }
    if (http__conn_unsent(conn) + len > conn->server->opt.output_limit) {
        /* Holding it would let one client pin that much memory. */
        free(out);
        conn->server->stats.output_closed++;
        http__conn_close(conn);
        return CD_ETOOBIG;
    }
    if (net_stream_write_take(&conn->stream, out, len, write_done, conn) != 0) {
        http__conn_close(conn);
        return CD_EIO;
    }
    return 0;
}

int http__conn_write(struct http_conn *conn, const char *data, size_t len)
{
    char *out = malloc(len);

    if (out == NULL) {
        http__conn_close(conn);
        return CD_ENOMEM;
    }
    memcpy(out, data, len);
    return conn_write_out(conn, out, len);
}

/* 1xx, 204 and 304 answers end with their header block (RFC 9112, 6.3). */
static bool status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

#define RESPONSE_HEAD "HTTP/1.1 %d %s\r\nDate: %s\r\n%s%s%s%s%s%sConnection: %s\r\n\r\n"

/* Now as an HTTP date (RFC 9110, 5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT": every answer
 * carries one, which a page on another node reads through CORS to tell its clock's skew.
 * Names written out: never the C library's locale. */
static void http_date(char *out, size_t len)
{
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;

    if (gmtime_r(&now, &tm) == NULL) {
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = 70;
        tm.tm_mday = 1;
        tm.tm_wday = 4;
    }
    snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* extra: header lines the handler adds to this answer, then those it set on the exchange
 * for every answer ("" for none), checked by http_reply_headers() and
 * http_exchange_set_headers(). */
static int send_response(struct http_conn *conn,
                         int status,
                         const char *content_type,
                         const char *extra,
                         const char *every,
                         const void *body,
                         size_t len,
                         bool keep_alive,
                         bool head_only,
                         bool counted)
{
    char length[48] = "", date[96];
    bool has_body = status_has_body(status);

    if (has_body) {
        snprintf(length, sizeof(length), "Content-Length: %zu\r\n", len);
    }
    const char *ct = content_type ? content_type : "";
    const char *ct_name = content_type ? "Content-Type: " : "";
    const char *ct_end = content_type ? "\r\n" : "";
    const char *connection = keep_alive ? "keep-alive" : "close";
    const char *reason = http_status_text(status);
    http_date(date, sizeof(date));
    int head_len = snprintf(NULL, 0, RESPONSE_HEAD, status, reason, date, ct_name, ct, ct_end,
                            extra, every, length, connection);
    size_t body_len = has_body && !head_only ? len : 0;
    char *out = malloc((size_t)head_len + 1 + body_len);
    if (out == NULL) {
        http__conn_close(conn);
        return CD_ENOMEM;
    }
    snprintf(out, (size_t)head_len + 1, RESPONSE_HEAD, status, reason, date, ct_name, ct,
             ct_end, extra, every, length, connection);
    if (body_len > 0) {
        memcpy(out + head_len, body, body_len);
    }
    int rc = conn_write_out(conn, out, (size_t)head_len + body_len);
    if (rc == 0 && counted) {
        conn->server->stats.answers[status / 100 <= 5 ? status / 100 : 5]++;
        http__conn_output_queued(conn);
    }
    return rc;
}

/* Answers x with extra header lines (already checked). */
static void reply_with(struct http_exchange *x,
                       int status,
                       const char *content_type,
                       const char *extra,
                       const void *body,
                       size_t len)
{
    struct http_conn *conn = x->conn;

    if (conn == NULL) {
        http__exchange_free(x);
        return;
    }
    if (status < 100 || status > 999) {
        status = 500;
    }
    /* A server on its way down answers what it holds, then lets each connection go. */
    bool keep_alive = x->keep_alive && !conn->server->closing;
    conn->pending = NULL;
    cd_hist_add(&conn->server->stats.latency, (uv_hrtime() - x->started_ns) / 1000);
    /* The answer is copied before the exchange goes: body may point into its request. */
    const char *every = x->every != NULL ? x->every : "";
    int rc = send_response(conn, status, content_type, extra, every, body, len, keep_alive,
                           x->head_only, !x->uncounted);
    http__exchange_free(x);
    if (rc == 0) {
        http__conn_answered(conn, keep_alive);
    }
}

void http_exchange_uncounted(struct http_exchange *x)
{
    x->uncounted = true;
}

void http_reply(struct http_exchange *x,
                int status,
                const char *content_type,
                const void *body,
                size_t len)
{
    reply_with(x, status, content_type, "", body, len);
}

/* The fields the server writes itself: a handler's copy would contradict them (two
 * lengths are a smuggling vector behind a proxy). */
static bool lines_ok(const char *headers)
{
    static const char *const framing[] = {"Content-Length", "Content-Type", "Connection",
                                          "Transfer-Encoding"};
    if (!http__lines_valid(headers)) {
        return false;
    }
    for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++) {
        if (http__lines_name(headers, framing[i])) {
            return false;
        }
    }
    return true;
}

int http_reply_headers(struct http_exchange *x,
                       int status,
                       const char *content_type,
                       const char *headers,
                       const void *body,
                       size_t len)
{
    if (headers != NULL && !lines_ok(headers)) {
        return CD_EINVAL;
    }
    reply_with(x, status, content_type, headers != NULL ? headers : "", body, len);
    return 0;
}

int http_exchange_set_headers(struct http_exchange *x, const char *headers)
{
    char *copy = NULL;

    if (headers != NULL && !lines_ok(headers)) {
        return CD_EINVAL;
    }
    if (headers != NULL && headers[0] != '\0' && (copy = strdup(headers)) == NULL) {
        return CD_ENOMEM;
    }
    free(x->every);
    x->every = copy;
    return 0;
}

int http_reply_json_headers(struct http_exchange *x,
                            int status,
                            const char *headers,
                            json_t *json)
{
    char *text = NULL;

    if (headers != NULL && !lines_ok(headers)) {
        json_decref(json);
        return CD_EINVAL;
    }
    if (x->conn == NULL) {
        json_decref(json);
        http__exchange_free(x);
        return 0;
    }
    if (json != NULL) {
        text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(json);
        if (text == NULL) {
            http_reply_error(x, 500, "INTERNAL", "the answer could not be encoded as JSON");
            return 0;
        }
    }
    reply_with(x, status, "application/json", headers != NULL ? headers : "", text,
               text ? strlen(text) : 0);
    free(text);
    return 0;
}

void http_reply_json(struct http_exchange *x, int status, json_t *json)
{
    http_reply_json_headers(x, status, NULL, json);
}

/* A JSON string for msg; bytes that are not UTF-8 become '?' rather than losing the
 * message. */
static json_t *message_string(const char *msg)
{
    json_t *s = json_string(msg);
    if (s != NULL) {
        return s;
    }
    char ascii[512];
    size_t i;
    for (i = 0; msg[i] != '\0' && i + 1 < sizeof(ascii); i++) {
        ascii[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
    }
    ascii[i] = '\0';
    return json_string(ascii);
}

/* {"error":{"code":...,"message":...}}, or NULL when memory runs out. */
static char *error_json(const char *code, const char *msg)
{
    json_t *root =
        json_pack("{s:{s:s,s:o*}}", "error", "code", code, "message", message_string(msg));
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;

    json_decref(root);
    return text;
}

static const char no_memory_json[] =
    "{\"error\":{\"code\":\"UNAVAILABLE\",\"message\":\"out of memory\"}}";

void http_reply_error(struct http_exchange *x,
                      int status,
                      const char *code,
                      const char *fmt,
                      ...)
{
    char msg[512];
    va_list ap;

    if (x->conn == NULL) {
        http__exchange_free(x);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cd_log_enabled(CD_LOG_DEBUG)) { /* the path, not the query: it may hold a proof */
        char st[8];
        snprintf(st, sizeof(st), "%d", status);
        cd_log(CD_LOG_DEBUG, "refused", "status", st, "code", code, "method",
               x->req.method_name, "path", x->req.path, "msg", msg, NULL);
    }
    char *text = error_json(code, msg);
    const char *body = text ? text : no_memory_json;
    http_reply(x, status, "application/json", body, strlen(body));
    free(text);
}

void http__conn_reject(struct http_conn *conn, int status, const char *code, const char *msg)
{
    if (cd_log_enabled(CD_LOG_DEBUG)) {
        char st[8];
        snprintf(st, sizeof(st), "%d", status);
        cd_log(CD_LOG_DEBUG, "refused", "status", st, "code", code, "msg", msg, NULL);
    }
    char *text = error_json(code, msg);
    const char *body = text ? text : no_memory_json;

    if (send_response(conn, status, "application/json", "", "", body, strlen(body), false,
                      false, true) == 0) {
        http__conn_finish(conn);
    }
    free(text);
}

void http_exchange_drop(struct http_exchange *x)
{
    struct http_conn *conn = x->conn;

    if (conn != NULL) {
        conn->pending = NULL;
        http__conn_close(conn);
    }
    http__exchange_free(x);
}

bool http_exchange_peer_is(const struct http_exchange *x, const char *name)
{
    return x->conn != NULL && net_stream_peer_is(&x->conn->stream, name);
}

int http_exchange_peer_address(const struct http_exchange *x, char *buf, size_t len)
{
    if (!x->peer_known || len < HTTP_ADDRESS_MAX) {
        return CD_EINVAL;
    }
    http__peer_addr_text(&x->peer, buf, len);
    return 0;
}
