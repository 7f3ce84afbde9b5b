/* adapters/http: one connection's bytes into complete requests.
 *
 * llhttp calls back with pieces of the request line, headers and body; they are copied into
 * two bounded buffers (header block, body) and, at the end of the message, moved into an
 * exchange the handler can keep for as long as it needs. The parser pauses at the end of
 * the header block, so that limits and Expect are judged with the exact size of the block,
 * and at the end of each message, so that pipelined requests wait their turn. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/http/server_internal.h"
#include "common/error.h"

int http__text_reserve(struct http__text *t, size_t n)
{
    if (t->cap - t->len < n + 1) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap - t->len < n + 1) {
            cap *= 2;
        }
        char *grown = realloc(t->data, cap);
        if (grown == NULL) {
            return CD_ENOMEM;
        }
        t->data = grown;
        t->cap = cap;
    }
    return 0;
}

int http__text_put(struct http__text *t, const void *data, size_t n)
{
    if (http__text_reserve(t, n) != 0) {
        return CD_ENOMEM;
    }
    if (n > 0) {
        memcpy(t->data + t->len, data, n);
    }
    t->len += n;
    /* Always leave room for, and write, a terminator the caller may rely on. */
    t->data[t->len] = '\0';
    return 0;
}

static struct http__parse *parse_of(llhttp_t *lp)
{
    return lp->data;
}

static int reject(struct http__parse *p, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reject(struct http__parse *p, int status, const char *code, const char *fmt, ...)
{
    va_list ap;

    /* The first reason wins: later callbacks only see the wreckage of the first. */
    if (p->reject_status == 0) {
        p->reject_status = status;
        p->reject_code = code;
        va_start(ap, fmt);
        vsnprintf(p->reject_msg, sizeof(p->reject_msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int reject_nomem(struct http__parse *p)
{
    return reject(p, 503, "UNAVAILABLE", "out of memory while reading the request");
}

static int head_put(struct http__parse *p, const char *at, size_t n)
{
    if (p->head.len + n > p->opt->max_header_bytes) {
        return reject(p, 431, "TOO_LARGE", "request header block exceeds %zu bytes",
                      p->opt->max_header_bytes);
    }
    if (http__text_put(&p->head, at, n) != 0) {
        return reject_nomem(p);
    }
    return 0;
}

/* Header strings are NUL-separated inside the block; http__text_put() leaves a NUL after
 * the last byte, so ending a string is counting that NUL in. */
static int head_end_string(struct http__parse *p)
{
    return head_put(p, "", 1);
}

static int on_message_begin(llhttp_t *lp)
{
    struct http__parse *p = parse_of(lp);

    p->head.len = 0;
    p->body.len = 0;
    p->n_headers = 0;
    p->head_raw = 0;
    p->body_max = p->opt->max_body;
    p->messages++;
    p->in_message = true;
    p->in_head = true;
    p->in_field = false;
    return 0;
}

static int on_url(llhttp_t *lp, const char *at, size_t n)
{
    return head_put(parse_of(lp), at, n);
}

static int on_url_complete(llhttp_t *lp)
{
    return head_end_string(parse_of(lp));
}

static int on_header_field(llhttp_t *lp, const char *at, size_t n)
{
    struct http__parse *p = parse_of(lp);

    if (!p->in_field) {
        if (p->n_headers == HTTP_HEADERS_MAX) {
            return reject(p, 431, "TOO_LARGE", "more than %d header fields", HTTP_HEADERS_MAX);
        }
        p->field_off[p->n_headers] = p->head.len;
        p->in_field = true;
    }
    return head_put(p, at, n);
}

static int on_header_field_complete(llhttp_t *lp)
{
    struct http__parse *p = parse_of(lp);

    /* llhttp lets a line that starts with ':' through; a field name is a token of at least
     * one character (RFC 9110, 5.1), and an empty one is not a name a proxy reads alike. */
    if (!p->in_field || p->head.len == p->field_off[p->n_headers]) {
        return reject(p, 400, "BAD_REQUEST", "header field without a name");
    }
    if (head_end_string(p) != 0) {
        return -1;
    }
    p->value_off[p->n_headers] = p->head.len;
    return 0;
}

static int on_header_value(llhttp_t *lp, const char *at, size_t n)
{
    return head_put(parse_of(lp), at, n);
}

static int on_header_value_complete(llhttp_t *lp)
{
    struct http__parse *p = parse_of(lp);

    if (head_end_string(p) != 0) {
        return -1;
    }
    p->n_headers++;
    p->in_field = false;
    return 0;
}

static int on_headers_complete(llhttp_t *lp)
{
    struct http__parse *p = parse_of(lp);

    p->in_head = false;
    return HPE_PAUSED;
}

static int on_body(llhttp_t *lp, const char *at, size_t n)
{
    struct http__parse *p = parse_of(lp);

    if (p->body.len + n > p->body_max) {
        return reject(p, 413, "TOO_LARGE", "request body exceeds %zu bytes", p->body_max);
    }
    if (http__text_put(&p->body, at, n) != 0) {
        return reject_nomem(p);
    }
    return 0;
}

static enum http_method method_of(uint8_t method)
{
    switch (method) {
        case HTTP_GET:
            return HTTP_M_GET;
        case HTTP_HEAD:
            return HTTP_M_HEAD;
        case HTTP_POST:
            return HTTP_M_POST;
        case HTTP_PUT:
            return HTTP_M_PUT;
        case HTTP_PATCH:
            return HTTP_M_PATCH;
        case HTTP_DELETE:
            return HTTP_M_DELETE;
        case HTTP_OPTIONS:
            return HTTP_M_OPTIONS;
        default:
            return HTTP_M_OTHER;
    }
}

/* Appends the decoded path after the strings already in the block; returns its offset. */
static int decode_path(struct http__parse *p, size_t path_len, size_t *off)
{
    /* Decoding never lengthens, so path_len + 1 bytes suffice; reserve them first because
     * the source lives in the same buffer. */
    if (http__text_reserve(&p->head, path_len) != 0) {
        return reject_nomem(p);
    }
    *off = p->head.len;
    int n =
        http__percent_decode(p->head.data, path_len, p->head.data + *off, path_len + 1, false);
    if (n < 0) {
        return reject(p, 400, "BAD_REQUEST", "malformed percent-encoding in the path");
    }
    p->head.len += (size_t)n + 1;
    return 0;
}

static void fill_request(struct http__parse *p, struct http_exchange *x, size_t path_off)
{
    struct http_request *req = &x->req;
    const char *head = p->head.data;
    const char *query = strchr(head, '?');

    req->method = method_of(p->parser.method);
    req->method_name = llhttp_method_name((llhttp_method_t)p->parser.method);
    req->target = head;
    req->path = head + path_off;
    req->query = query ? query + 1 : "";
    req->body = p->body.data ? p->body.data : "";
    req->body_len = p->body.len;
    req->version_major = p->parser.http_major;
    req->version_minor = p->parser.http_minor;
    req->upgrade = p->parser.upgrade != 0;
    req->n_headers = p->n_headers;
    for (size_t i = 0; i < p->n_headers; i++) {
        req->headers[i].name = head + p->field_off[i];
        req->headers[i].value = head + p->value_off[i];
    }
}

static int on_message_complete(llhttp_t *lp)
{
    struct http__parse *p = parse_of(lp);
    size_t path_off = 0;

    p->in_message = false;
    if (p->head.len == 0) {
        return reject(p, 400, "BAD_REQUEST", "request without a target");
    }
    if (decode_path(p, strcspn(p->head.data, "?"), &path_off) != 0) {
        return -1;
    }
    struct http_exchange *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        return reject_nomem(p);
    }
    fill_request(p, x, path_off);
    x->head = p->head.data;
    x->body = p->body.data;
    memset(&p->head, 0, sizeof(p->head));
    memset(&p->body, 0, sizeof(p->body));
    /* An upgrade or CONNECT hands the connection to another protocol we do not speak. */
    x->keep_alive = llhttp_should_keep_alive(lp) && !lp->upgrade;
    x->head_only = x->req.method == HTTP_M_HEAD;
    p->ready = x;
    return HPE_PAUSED;
}

static const llhttp_settings_t parse_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http__parse_init(struct http__parse *p, const struct http_server_options *opt)
{
    memset(p, 0, sizeof(*p));
    p->opt = opt;
    llhttp_init(&p->parser, HTTP_REQUEST, &parse_settings);
    p->parser.data = p;
}

void http__parse_close(struct http__parse *p)
{
    free(p->head.data);
    free(p->body.data);
    if (p->ready != NULL) {
        http__exchange_free(p->ready);
    }
    memset(p, 0, sizeof(*p));
}

void http__exchange_free(struct http_exchange *x)
{
    free(x->head);
    free(x->body);
    free(x->every);
    free(x);
}

static const char *header_value(const struct http__parse *p, const char *name)
{
    for (size_t i = 0; i < p->n_headers; i++) {
        if (strcasecmp(p->head.data + p->field_off[i], name) == 0) {
            return p->head.data + p->value_off[i];
        }
    }
    return NULL;
}

static int check_head_size(struct http__parse *p)
{
    if (p->head_raw > p->opt->max_header_bytes) {
        return reject(p, 431, "TOO_LARGE", "request header block exceeds %zu bytes",
                      p->opt->max_header_bytes);
    }
    return 0;
}

/* The largest body the target (the head's first string) may carry. */
static size_t body_max_of(const struct http__parse *p)
{
    const char *target = p->head.len > 0 ? p->head.data : "";
    for (const struct http_body_limit *l = p->opt->body_limits; l != NULL && l->path != NULL;
         l++) {
        size_t n = strlen(l->path);
        if (strncmp(target, l->path, n) == 0 &&
            (target[n] == 0 || target[n] == '/' || target[n] == '?')) {
            return l->max;
        }
    }
    return p->opt->max_body;
}

/* Runs once the header block is complete and its size known. */
static int check_headers(struct http__parse *p)
{
    const llhttp_t *lp = &p->parser;

    if (lp->http_major != 1) {
        /* llhttp also takes HTTP/0.9 and HTTP/2.0, and reads a request line without a
         * version as HTTP/0.9 whose header fields follow: a request a proxy in front may
         * frame differently. This server speaks HTTP/1.0 and HTTP/1.1. */
        return reject(p, 505, "HTTP_VERSION", "HTTP/%d.%d is not supported: use HTTP/1.1",
                      lp->http_major, lp->http_minor);
    }
    if (check_head_size(p) != 0) {
        return -1;
    }
    p->body_max = body_max_of(p);
    if ((lp->flags & F_CONTENT_LENGTH) && lp->content_length > p->body_max) {
        return reject(p, 413, "TOO_LARGE", "request body exceeds %zu bytes", p->body_max);
    }
    const char *expect = header_value(p, "Expect");
    if (expect == NULL || (lp->http_major == 1 && lp->http_minor == 0)) {
        /* HTTP/1.0 clients cannot expect anything (RFC 9110, 10.1.1). */
        return 0;
    }
    if (strcasecmp(expect, "100-continue") != 0) {
        return reject(p, 417, "EXPECTATION_FAILED", "unsupported expectation '%.64s'", expect);
    }
    p->send_continue = (lp->flags & F_CHUNKED) || lp->content_length > 0;
    return 0;
}

/* obs-fold: a line of the header block that starts with a space or a tab continues the
 * field line before it (RFC 9112, 5.2). llhttp judges the field by its first line
 * (Connection, Transfer-Encoding, Content-Length) but hands over the joined value, which
 * the handler, or a proxy in front, may read otherwise: such a block is refused, as RFC
 * 9112 allows. Scans n bytes of the block, remembering the last one across reads. */
static int check_folds(struct http__parse *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p->head_last == '\n' && (s[i] == ' ' || s[i] == '\t')) {
            return reject(p, 400, "BAD_REQUEST", "header field folded over lines (obs-fold)");
        }
        p->head_last = s[i];
    }
    return 0;
}

static enum http__parse_result parse_failed(struct http__parse *p)
{
    if (p->reject_status == 0) {
        reject(p, 400, "BAD_REQUEST", "malformed request: %s",
               llhttp_get_error_reason(&p->parser));
    }
    return HTTP__REJECT;
}

enum http__parse_result http__parse_execute(struct http__parse *p,
                                            const char *data,
                                            size_t len,
                                            size_t *consumed)
{
    size_t off = 0;

    for (;;) {
        if (p->paused) {
            llhttp_resume(&p->parser);
            p->paused = false;
        }
        llhttp_errno_t err = llhttp_execute(&p->parser, data + off, len - off);
        if (err == HPE_OK) {
            /* A call that ends inside the header block started at the start of the
             * message or inside the block, so all of it counts. */
            bool head = p->in_head;
            p->head_raw += head ? len - off : 0;
            *consumed = len;
            if ((head && check_folds(p, data + off, len - off) != 0) ||
                check_head_size(p) != 0) {
                return HTTP__REJECT;
            }
            return HTTP__NEED_MORE;
        }
        if (err != HPE_PAUSED) {
            return parse_failed(p);
        }
        size_t n = (size_t)(llhttp_get_error_pos(&p->parser) - (data + off));
        off += n;
        p->paused = true;
        if (p->ready != NULL) {
            p->send_continue = false;
            *consumed = off;
            return HTTP__READY;
        }
        /* Paused at the end of the header block. */
        p->head_raw += n;
        if (check_folds(p, data + off - n, n) != 0 || check_headers(p) != 0) {
            return HTTP__REJECT;
        }
    }
}
