/* The HTTP server's request parser (adapters/http/parse.c: http__parse_execute), driven as
 * a connection drives it (conn.c): bytes in, complete requests or a refusal out, the bytes
 * after a complete request parsed next, nothing after a refusal or a request that ends the
 * connection.
 *
 * Input: one byte that seeds how the stream is cut into reads, then the bytes a client
 * sends on one connection.
 *
 * Properties, for any input:
 *   - the stream read in one piece and read in small pieces gives the same requests, the
 *     same refusal and the same state at the end: nothing depends on where reads end
 *     (but for one case, see same_outcome());
 *   - every request has the shape struct http_request promises (a method name, a decoded
 *     path without NUL, at most HTTP_HEADERS_MAX headers, a body within max_body, HTTP/1.x)
 *     and a refusal has a 4xx, 503 or 505 status and a code;
 *   - a request written out again (request line, its header fields, the body with a
 *     Content-Length) parses to the same request: decode, encode, decode. */
#include <string.h>
#include <strings.h>

#include "adapters/http/server_internal.h"
#include "tests/fuzz/fuzz.h"

/* Small limits, so that inputs reach them. */
static const struct http_server_options options = {
    .max_body = 4096,
    .max_header_bytes = 1024,
};
/* The request written out again may be a little longer than it came. */
static const struct http_server_options roomy = {
    .max_body = 4096,
    .max_header_bytes = 16 * 1024,
};

struct run
{
    struct http__parse p;
    struct cd_buf transcript; /* what came out, in a form two runs can compare */
    bool ended;               /* refused, or the connection is to close */
    bool roundtrip;           /* write each request out again and parse it */
    bool skip_framing;        /* leave framing fields out of the transcript */
    int refused;              /* the refusal's status, 0 when none */
    size_t refused_at;        /* where in the transcript the refusal is */
};

static void put_str(struct cd_buf *t, const char *s, size_t n)
{
    cd_buf_uvar(t, n);
    cd_buf_put(t, s, n);
}

static bool framing(const char *name)
{
    return strcasecmp(name, "Content-Length") == 0 ||
           strcasecmp(name, "Transfer-Encoding") == 0;
}

/* The request as bytes; framing header fields left out when skip_framing. */
static void describe(struct cd_buf *t, const struct http_exchange *x, bool skip_framing)
{
    const struct http_request *r = &x->req;
    cd_buf_u8(t, 'R');
    cd_buf_u8(t, (uint8_t)r->method);
    put_str(t, r->method_name, strlen(r->method_name));
    put_str(t, r->target, strlen(r->target));
    put_str(t, r->path, strlen(r->path));
    put_str(t, r->query, strlen(r->query));
    put_str(t, r->body, r->body_len);
    cd_buf_u8(t, x->keep_alive);
    cd_buf_u8(t, x->head_only);
    for (size_t i = 0; i < r->n_headers; i++) {
        if (!skip_framing || !framing(r->headers[i].name)) {
            put_str(t, r->headers[i].name, strlen(r->headers[i].name));
            put_str(t, r->headers[i].value, strlen(r->headers[i].value));
        }
    }
}

static void check_shape(const struct http_exchange *x, int major)
{
    const struct http_request *r = &x->req;
    FUZZ_CHECK(r->method_name != NULL && r->target != NULL && r->path != NULL &&
                   r->query != NULL && r->body != NULL,
               "a request with a NULL field");
    FUZZ_CHECK(r->target[0] != 0, "a request without a target");
    FUZZ_CHECK(r->n_headers <= HTTP_HEADERS_MAX, "%zu headers", r->n_headers);
    FUZZ_CHECK(r->body_len <= options.max_body, "a body of %zu bytes", r->body_len);
    FUZZ_CHECK(r->body[r->body_len] == 0, "a body without its NUL");
    FUZZ_CHECK(x->head_only == (r->method == HTTP_M_HEAD), "head_only is not HEAD");
    FUZZ_CHECK(major == 1, "a request in HTTP/%d", major);
    for (size_t i = 0; i < r->n_headers; i++) {
        FUZZ_CHECK(r->headers[i].name != NULL && r->headers[i].value != NULL &&
                       r->headers[i].name[0] != 0,
                   "header %zu without a name", i);
    }
}

static void run_init(struct run *r,
                     const struct http_server_options *opt,
                     bool roundtrip,
                     bool skip_framing)
{
    http__parse_init(&r->p, opt);
    cd_buf_init(&r->transcript);
    r->ended = false;
    r->roundtrip = roundtrip;
    r->skip_framing = skip_framing;
    r->refused = 0;
    r->refused_at = 0;
}

static void run_close(struct run *r)
{
    http__parse_close(&r->p);
    cd_buf_close(&r->transcript);
}

static void run_feed(struct run *r, const char *data, size_t len);

/* Writes the request out again and parses it alone; it must come out the same. */
static void check_roundtrip(const struct http_exchange *x, int major, int minor)
{
    const struct http_request *req = &x->req;
    struct cd_buf text, want;
    struct run again;
    char line[64];
    cd_buf_init(&text);
    cd_buf_init(&want);
    cd_buf_put(&text, req->method_name, strlen(req->method_name));
    cd_buf_put(&text, " ", 1);
    cd_buf_put(&text, req->target, strlen(req->target));
    snprintf(line, sizeof(line), " HTTP/%d.%d\r\n", major, minor);
    cd_buf_put(&text, line, strlen(line));
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct http_header *h = &req->headers[i];
        if (!framing(h->name)) {
            cd_buf_put(&text, h->name, strlen(h->name));
            cd_buf_put(&text, ": ", 2);
            cd_buf_put(&text, h->value, strlen(h->value));
            cd_buf_put(&text, "\r\n", 2);
        }
    }
    /* No length for no body: the request may hold HTTP_HEADERS_MAX other fields. */
    if (req->body_len > 0) {
        snprintf(line, sizeof(line), "Content-Length: %zu\r\n", req->body_len);
        cd_buf_put(&text, line, strlen(line));
    }
    cd_buf_put(&text, "\r\n", 2);
    cd_buf_put(&text, req->body, req->body_len);
    describe(&want, x, true);
    run_init(&again, &roomy, false, true);
    run_feed(&again, (const char *)text.data, text.len);
    FUZZ_CHECK(again.transcript.len > want.len &&
                   memcmp(again.transcript.data, want.data, want.len) == 0,
               "a request written out again parses differently: %.*s", (int)text.len,
               (const char *)text.data);
    run_close(&again);
    cd_buf_close(&want);
    cd_buf_close(&text);
}

static void took_request(struct run *r)
{
    struct http_exchange *x = r->p.ready;
    r->p.ready = NULL;
    check_shape(x, r->p.parser.http_major);
    describe(&r->transcript, x, r->skip_framing);
    cd_buf_u8(&r->transcript, r->p.parser.http_major);
    cd_buf_u8(&r->transcript, r->p.parser.http_minor);
    if (r->roundtrip) {
        check_roundtrip(x, r->p.parser.http_major, r->p.parser.http_minor);
    }
    /* The server answers, then reads on only when the connection is kept. */
    r->ended = !x->keep_alive;
    http__exchange_free(x);
}

static void took_refusal(struct run *r)
{
    const struct http__parse *p = &r->p;
    FUZZ_CHECK((p->reject_status >= 400 && p->reject_status < 500) || p->reject_status == 503 ||
                   p->reject_status == 505,
               "refused with status %d", p->reject_status);
    FUZZ_CHECK(p->reject_code != NULL && p->reject_msg[0] != 0, "refused without a reason");
    r->refused = p->reject_status;
    r->refused_at = r->transcript.len;
    cd_buf_u8(&r->transcript, 'X');
    cd_buf_uvar(&r->transcript, (uint64_t)p->reject_status);
    put_str(&r->transcript, p->reject_code, strlen(p->reject_code));
    r->ended = true;
}

/* One read: parses until its bytes run out or the connection ends (conn.c: conn_feed). */
static void run_feed(struct run *r, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len && !r->ended) {
        size_t n = 0;
        enum http__parse_result res = http__parse_execute(&r->p, data + off, len - off, &n);
        FUZZ_CHECK(n <= len - off, "consumed %zu of %zu bytes", n, len - off);
        off += n;
        if (res == HTTP__READY) {
            took_request(r);
        } else if (res == HTTP__REJECT) {
            took_refusal(r);
        } else {
            FUZZ_CHECK(off == len, "more bytes wanted with %zu left", len - off);
        }
    }
}

static void run_end(struct run *r)
{
    cd_buf_u8(&r->transcript, 'E');
    cd_buf_u8(&r->transcript, r->ended ? 1 : r->p.in_message);
}

static uint32_t next_cut(uint32_t *s)
{
    static const uint32_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 13, 64, 1000};
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return sizes[*s % (sizeof(sizes) / sizeof(sizes[0]))];
}

static bool same_outcome(const struct run *a, const struct run *b)
{
    const struct cd_buf *x = &a->transcript, *y = &b->transcript;
    if (x->len == y->len && memcmp(x->data, y->data, x->len) == 0) {
        return true;
    }
    /* A header block over max_header_bytes that is also malformed past the limit is refused
     * for the problem the parser meets first: in one piece it may be the syntax, read by
     * read the size (llhttp reads a whole read before its size is judged). Either way it is
     * refused, after the same requests, and the connection closes. */
    return (a->refused == 431 || b->refused == 431) && a->refused != 0 && b->refused != 0 &&
           a->refused_at == b->refused_at && memcmp(x->data, y->data, a->refused_at) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run whole, pieces;
    if (size < 1) {
        return 0;
    }
    uint32_t seed = 0x9e3779b9u ^ data[0];
    const char *stream = (const char *)data + 1;
    size_t len = size - 1;

    run_init(&whole, &options, true, false);
    run_feed(&whole, stream, len);
    run_end(&whole);

    run_init(&pieces, &options, false, false);
    for (size_t off = 0; off < len;) {
        size_t n = next_cut(&seed);
        n = n < len - off ? n : len - off;
        run_feed(&pieces, stream + off, n);
        off += n;
    }
    run_end(&pieces);

    FUZZ_CHECK(same_outcome(&whole, &pieces),
               "the stream read in pieces parses differently from the stream in one piece");
    run_close(&whole);
    run_close(&pieces);
    return 0;
}
