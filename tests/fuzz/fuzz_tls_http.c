/* The HTTP server over TLS (adapters/http on net/'s TLS streams), end to end: real servers
 * on a private libuv loop, listening on 127.0.0.1 since the target starts, each input one
 * client connection (two in the HTTP mode) made by the target on the same loop.
 *
 * Input: one byte of flags, then the mode's bytes.
 *   - Flag 0x01 clear, malformed records: the rest goes raw to a TLS server as if it were
 *     ciphertext (record-layer junk, ClientHellos whole or cut, oversized lengths, alerts,
 *     plain HTTP). 0x02: the client then holds its stream open instead of ending it; 0x04:
 *     the server demands a client certificate (mutual TLS, as between members). This
 *     server gives up on a handshake after QUICK_HANDSHAKE_MS.
 *   - Flag 0x01 set, HTTP inside TLS: the next byte seeds where the plaintext is cut into
 *     TLS records; the rest is what a client sends on one connection. An OpenSSL client of
 *     the target's own (memory BIOs pumped over the socket) completes a handshake (0x02:
 *     TLS 1.2 at most; 0x04: resuming the session of the target's first connection of that
 *     version), sends the bytes (0x08: REPEAT times over) one record per piece (0x20: each
 *     followed, in TLS 1.3, by a KeyUpdate that asks the server for one too), then
 *     close_notify (not with 0x10) and the end of its stream. The same bytes, cut the same
 *     way, go to a plain TCP server with the same options.
 *
 * Properties:
 *   - records: the handler sees no request and the server counts no answer; what it sends
 *     back is whole TLS records; a connection whose client held it open fails and is
 *     counted in tls_failed exactly once (an OpenSSL error or the handshake deadline); one
 *     whose client ended it, at most once, and once whenever the server sent an alert;
 *   - HTTP: the handshake completes and no failure is counted; the answers over TLS are
 *     those over plain TCP, byte for byte (each 200 carries a digest of its request), a
 *     refusal by status and code (its message may name another problem), but for the one
 *     case check_same_answers() allows; every answer is whole, with a status the server may
 *     give; the server ends the TLS stream with close_notify;
 *   - both: each input ends within GUARD_MS, every connection closes, and the loop is left
 *     with the handles it had before the input (listeners and the target's two timers) and
 *     no request. */
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http/http.h"
#include "common/buf.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/tmpdir.h"

/* One input may take this long; reaching it is a hang. Under libFuzzer's -timeout (10 s in
 * ops/fuzz) and above the HTTP servers' own deadlines, so that a stuck connection shows as
 * the server's 408 first. */
#define GUARD_MS 6000
#define HTTP_DEADLINE_MS 3000
/* The records server's handshake deadline: an input that holds its connection open costs
 * this much. */
#define QUICK_HANDSHAKE_MS 5

#define FLAG_HTTP 0x01
#define FLAG_HOLD 0x02       /* records */
#define FLAG_TLS12 0x02      /* HTTP */
#define FLAG_MUTUAL 0x04     /* records */
#define FLAG_RESUME 0x04     /* HTTP */
#define FLAG_REPEAT 0x08     /* HTTP */
#define FLAG_NO_NOTIFY 0x10  /* HTTP */
#define FLAG_KEY_UPDATE 0x20 /* HTTP */

/* With FLAG_REPEAT the HTTP bytes are sent this many times over: a few hundred bytes of
 * requests behind one answered later pass the 64 KiB a connection holds back, so that it
 * stops reading (over TLS, with records left in the SSL) and starts again. */
#define REPEAT 128

enum { SRV_PLAIN, SRV_TLS, SRV_QUICK, SRV_MUTUAL, SRV_COUNT };

struct target
{
    uv_loop_t loop;
    uv_timer_t guard;
    uv_timer_t later; /* answers a held request on the next loop turn */
    struct http_server *server[SRV_COUNT];
    struct net_tls *tls, *mutual_tls;
    SSL_CTX *client_ctx;
    SSL_SESSION *session[2]; /* of the first TLS 1.3 and TLS 1.2 connections, to resume */
    struct http_exchange *held;
    const struct http_request *held_req;
    unsigned handled; /* requests the handler saw */
    unsigned baseline;
    bool expired;
};

static struct target t;

/* ---- The handler -------------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    }
    /* The length ends the field, so that fields cannot trade bytes. */
    return (h ^ n) * UINT64_C(0x100000001b3);
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv(h, s, strlen(s));
}

/* HEAD gets an empty 200, DELETE a 204 (no body, no length), any other request a 200
 * whose body digests everything the server parsed of it. */
static void answer(struct http_exchange *x, const struct http_request *req)
{
    char text[32];

    if (req->method == HTTP_M_HEAD) {
        http_reply(x, 200, NULL, NULL, 0);
        return;
    }
    if (req->method == HTTP_M_DELETE) {
        http_reply(x, 204, NULL, NULL, 0);
        return;
    }
    uint64_t h = fnv_str(UINT64_C(0xcbf29ce484222325), req->method_name);
    h = fnv_str(fnv_str(fnv_str(h, req->target), req->path), req->query);
    for (size_t i = 0; i < req->n_headers; i++) {
        h = fnv_str(fnv_str(h, req->headers[i].name), req->headers[i].value);
    }
    h = fnv(h, req->body, req->body_len);
    int n = snprintf(text, sizeof(text), "%016llx", (unsigned long long)h);
    http_reply(x, 200, "text/plain", text, (size_t)n);
}

static void answer_later(uv_timer_t *timer)
{
    struct http_exchange *x = t.held;
    (void)timer;
    t.held = NULL;
    answer(x, t.held_req);
}

/* A target naming "later" is answered on the next loop turn: the connection holds the
 * bytes after it meanwhile (and, over TLS, may leave them in the SSL). */
static void handler(void *data, struct http_exchange *x, const struct http_request *req)
{
    (void)data;
    t.handled++;
    FUZZ_CHECK(t.held == NULL, "a request handed over while another awaits its answer");
    if (strstr(req->target, "later") != NULL) {
        t.held = x;
        t.held_req = req;
        uv_timer_start(&t.later, answer_later, 0, 0);
        return;
    }
    answer(x, req);
}

/* ---- The client --------------------------------------------------------------------- */

struct client
{
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_shutdown_t shutdown;
    SSL *ssl; /* NULL: the payload goes raw */
    const char *payload;
    size_t len;
    uint32_t cuts;   /* seeds the pieces the payload is sent in; 0: one piece */
    bool hold;       /* keep the stream open after the payload */
    bool notify;     /* TLS: send close_notify before ending the stream */
    bool key_update; /* TLS 1.3: a KeyUpdate after each record */
    bool closed;
    bool clean_end;   /* TLS: the server's close_notify arrived */
    struct cd_buf in; /* what arrived: plaintext over TLS, else the raw bytes */
};

struct out
{
    uv_write_t req;
    char data[];
};

static void out_done(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void client_send(struct client *c, const void *data, size_t len)
{
    if (len == 0) {
        return;
    }
    struct out *o = malloc(sizeof(*o) + len);
    if (o == NULL) {
        FUZZ_DIE("out of memory");
    }
    memcpy(o->data, data, len);
    uv_buf_t buf = uv_buf_init(o->data, (unsigned)len);
    if (uv_write(&o->req, (uv_stream_t *)&c->tcp, &buf, 1, out_done) != 0) {
        free(o);
    }
}

/* Whatever the SSL wrote leaves as one socket write. */
static void client_flush(struct client *c)
{
    BIO *out = SSL_get_wbio(c->ssl);
    size_t pending = BIO_ctrl_pending(out);
    char *bytes = malloc(pending + 1);
    if (bytes == NULL) {
        FUZZ_DIE("out of memory");
    }
    int n = BIO_read(out, bytes, (int)pending);
    client_send(c, bytes, n > 0 ? (size_t)n : 0);
    free(bytes);
}

static size_t next_cut(uint32_t *s)
{
    static const size_t sizes[] = {1, 2, 3, 5, 8, 13, 64, 500, 4096, 16384};
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return sizes[*s % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    c->closed = true;
}

static void client_close(struct client *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, client_closed);
    }
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

/* The payload in pieces (over TLS, one record each), then the end of the stream. */
/* One record, then (TLS 1.3, key_update) a KeyUpdate asking the server for its own. */
static void client_send_record(struct client *c, const char *data, size_t len)
{
    ERR_clear_error();
    FUZZ_CHECK(SSL_write(c->ssl, data, (int)len) == (int)len,
               "the client cannot write %zu bytes", len);
    if (c->key_update && SSL_version(c->ssl) == TLS1_3_VERSION &&
        SSL_key_update(c->ssl, SSL_KEY_UPDATE_REQUESTED) == 1) {
        SSL_do_handshake(c->ssl);
    }
    ERR_clear_error();
    client_flush(c);
}

static void client_send_payload(struct client *c)
{
    uint32_t s = c->cuts;
    for (size_t off = 0; off < c->len;) {
        size_t n = s != 0 ? next_cut(&s) : c->len; /* no seed: one piece */
        n = n < c->len - off ? n : c->len - off;
        if (c->ssl != NULL) {
            client_send_record(c, c->payload + off, n);
        } else {
            client_send(c, c->payload + off, n);
        }
        off += n;
    }
    if (c->hold) {
        return;
    }
    if (c->notify) {
        SSL_shutdown(c->ssl);
        client_flush(c);
    }
    uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, shutdown_done);
}

static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
    return r != NULL ? r : "no reason";
}

/* Handshake, then reading: what TLS hands over goes to c->in. */
static void client_pump(struct client *c)
{
    ERR_clear_error();
    if (!SSL_is_init_finished(c->ssl)) {
        int r = SSL_do_handshake(c->ssl);
        client_flush(c);
        FUZZ_CHECK(r == 1 || SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ,
                   "the TLS handshake with the server failed: %s", ssl_reason());
        if (r != 1) {
            return;
        }
        client_send_payload(c);
    }
    char plain[16384];
    int n;
    while ((n = SSL_read(c->ssl, plain, sizeof(plain))) > 0) {
        cd_buf_put(&c->in, plain, (size_t)n);
    }
    int e = SSL_get_error(c->ssl, n);
    FUZZ_CHECK(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_ZERO_RETURN,
               "the server's TLS records do not read: %s", ssl_reason());
    c->clean_end = c->clean_end || e == SSL_ERROR_ZERO_RETURN;
    client_flush(c);
    ERR_clear_error();
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char in[64 * 1024];
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(in, sizeof(in));
}

static void client_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct client *c = stream->data;

    if (nread < 0) {
        client_close(c);
    } else if (c->ssl == NULL) {
        cd_buf_put(&c->in, buf->base, (size_t)nread);
    } else if (nread > 0) {
        FUZZ_CHECK(BIO_write(SSL_get_rbio(c->ssl), buf->base, (int)nread) == (int)nread,
                   "out of memory");
        client_pump(c);
    }
}

static void client_connected(uv_connect_t *req, int status)
{
    struct client *c = req->data;

    if (status != 0) {
        FUZZ_DIE("connect to 127.0.0.1: %s", uv_strerror(status));
    }
    uv_read_start((uv_stream_t *)&c->tcp, client_alloc, client_read);
    if (c->ssl != NULL) {
        client_pump(c);
    } else {
        client_send_payload(c);
    }
}

/* A TLS client when tls, else a plain one; flags as for HTTP inputs. */
static void client_init(struct client *c, bool tls, uint8_t flags)
{
    memset(c, 0, sizeof(*c));
    cd_buf_init(&c->in);
    if (!tls) {
        return;
    }
    BIO *in = BIO_new(BIO_s_mem());
    BIO *out = BIO_new(BIO_s_mem());
    c->ssl = SSL_new(t.client_ctx);
    if (c->ssl == NULL || in == NULL || out == NULL) {
        FUZZ_DIE("out of memory");
    }
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(c->ssl, in, out);
    SSL_set_connect_state(c->ssl);
    SSL_set1_host(c->ssl, "n1");
    SSL_set_tlsext_host_name(c->ssl, "n1");
    bool tls12 = flags & FLAG_TLS12;
    if (tls12) {
        SSL_set_max_proto_version(c->ssl, TLS1_2_VERSION);
    }
    if ((flags & FLAG_RESUME) && t.session[tls12] != NULL) {
        SSL_set_session(c->ssl, t.session[tls12]);
    }
    c->notify = !(flags & FLAG_NO_NOTIFY);
    c->key_update = flags & FLAG_KEY_UPDATE;
}

static void client_free(struct client *c)
{
    SSL_free(c->ssl);
    cd_buf_close(&c->in);
    ERR_clear_error();
}

/* ---- Running an input --------------------------------------------------------------- */

static void count_handle(uv_handle_t *h, void *arg)
{
    (void)h;
    (*(unsigned *)arg)++;
}

static unsigned loop_handles(void)
{
    unsigned n = 0;
    uv_walk(&t.loop, count_handle, &n);
    return n;
}

static void guard_fired(uv_timer_t *timer)
{
    (void)timer;
    t.expired = true;
}

/* Connects c to server and runs the loop until c is closed, the server has let its
 * connection go and the loop holds what it held before. */
static void run(struct client *c, int server)
{
    struct sockaddr_in addr;

    uv_update_time(&t.loop);
    uv_ip4_addr("127.0.0.1", http_server_port(t.server[server]), &addr);
    uv_tcp_init(&t.loop, &c->tcp);
    uv_tcp_nodelay(&c->tcp, 1);
    c->tcp.data = c;
    c->connect.data = c;
    if (uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&addr,
                       client_connected) != 0) {
        FUZZ_DIE("connect to 127.0.0.1");
    }
    /* The whole payload leaves at once, rather than as the server's reads make room, so
     * that bytes pile up behind a request answered later. */
    int sndbuf = 1 << 20;
    uv_send_buffer_size((uv_handle_t *)&c->tcp, &sndbuf);
    t.expired = false;
    uv_timer_start(&t.guard, guard_fired, GUARD_MS, 0);
    while (!c->closed || t.held != NULL || loop_handles() != t.baseline) {
        uv_run(&t.loop, UV_RUN_ONCE);
        FUZZ_CHECK(!t.expired,
                   "the input did not end within %d ms (client %s, %u handles for %u)",
                   GUARD_MS, c->closed ? "closed" : "open", loop_handles(), t.baseline);
    }
    uv_timer_stop(&t.guard);
    FUZZ_CHECK(http_server_connections(t.server[server]) == 0, "a connection is left open");
    FUZZ_CHECK(t.loop.active_reqs.count == 0, "%u requests left on the loop",
               t.loop.active_reqs.count);
}

/* ---- Malformed records -------------------------------------------------------------- */

/* Whether b holds whole TLS records only; *alert tells whether one of them is an alert
 * sent in the clear. */
static bool whole_records(const struct cd_buf *b, bool *alert)
{
    size_t off = 0;
    while (off < b->len) {
        const uint8_t *r = b->data + off;
        if (b->len - off < 5) {
            return false;
        }
        size_t n = (size_t)r[3] << 8 | r[4];
        if (r[0] < 20 || r[0] > 23 || r[1] != 3 || n > 16384 + 2048 || b->len - off - 5 < n) {
            return false;
        }
        *alert = *alert || r[0] == 21;
        off += 5 + n;
    }
    return true;
}

static void records_input(const uint8_t *data, size_t size, uint8_t flags)
{
    int server = flags & FLAG_MUTUAL ? SRV_MUTUAL : SRV_QUICK;
    struct http_server_stats before, after;
    struct client c;
    unsigned handled = t.handled;
    bool alert = false;

    http_server_stats(t.server[server], &before);
    client_init(&c, false, 0);
    c.payload = (const char *)data;
    c.len = size;
    c.hold = flags & FLAG_HOLD;
    run(&c, server);
    http_server_stats(t.server[server], &after);

    FUZZ_CHECK(t.handled == handled, "the handler saw a request without a TLS session");
    FUZZ_CHECK(memcmp(before.answers, after.answers, sizeof(before.answers)) == 0,
               "the server answered without a TLS session");
    FUZZ_CHECK(whole_records(&c.in, &alert),
               "the server sent %zu bytes that are not whole TLS records", c.in.len);
    uint64_t failed = after.tls_failed - before.tls_failed;
    FUZZ_CHECK(failed <= 1, "one connection counted %llu TLS failures",
               (unsigned long long)failed);
    FUZZ_CHECK(!c.hold || failed == 1, "a handshake that never completed was not counted");
    FUZZ_CHECK(!alert || failed == 1, "the server sent an alert and counted no failure");
    client_free(&c);
}

/* ---- HTTP inside TLS ---------------------------------------------------------------- */

static const char *find(const char *p, size_t len, const char *what)
{
    size_t n = strlen(what);
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(p + i, what, n) == 0) {
            return p + i;
        }
    }
    return NULL;
}

/* The answer at b->data[off]: its status and its length, head and body; false when the
 * bytes there are not a whole answer as reply.c writes them. */
static bool next_answer(const struct cd_buf *b, size_t off, int *status, size_t *len)
{
    static const char length[] = "\r\nContent-Length: ";
    const char *p = (const char *)b->data + off;
    size_t left = b->len - off;
    const char *end = find(p, left, "\r\n\r\n");

    if (end == NULL || left < 13 || memcmp(p, "HTTP/1.1 ", 9) != 0 || p[12] != ' ') {
        return false;
    }
    *status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        *status = *status * 10 + (p[i] - '0');
    }
    size_t head = (size_t)(end - p) + 4;
    const char *cl = find(p, head, length);
    size_t body = cl != NULL ? strtoul(cl + sizeof(length) - 1, NULL, 10) : 0;
    *len = head + body;
    return body <= left - head;
}

/* What the server may answer here: the handler's statuses, 100 Continue and the parser's
 * refusals (none for time: the client sends all at once, long before any deadline). */
static bool expected_status(int status)
{
    static const int ok[] = {100, 200, 204, 400, 413, 417, 431, 505};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (status == ok[i]) {
            return true;
        }
    }
    return false;
}

/* The code of a refusal, from its {"error":{"code":...}} body, into out ("" when none). */
static void refusal_code(const char *answer, size_t len, char *out, size_t cap)
{
    static const char key[] = "{\"error\":{\"code\":\"";
    const char *p = find(answer, len, key);
    size_t n = 0;

    if (p != NULL) {
        p += sizeof(key) - 1;
        while (p + n < answer + len && p[n] != '"' && n + 1 < cap) {
            n++;
        }
        memcpy(out, p, n);
    }
    out[n] = '\0';
}

/* Whether two answers agree: byte for byte, but a refusal only by status and code, since
 * its message names the problem the parser met first, which may depend on where reads end
 * (fuzz_http_parse compares refusals the same way). */
static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

/* Equal answers but for their Date headers, which name the second each was written in. */
static bool same_but_date(const char *x, size_t len_x, const char *y, size_t len_y)
{
    static const char mark[] = "\r\nDate: ";
    if (len_x != len_y) {
        return false;
    }
    const char *dx = find_bytes(x, len_x, mark, sizeof(mark) - 1);
    const char *dy = find_bytes(y, len_y, mark, sizeof(mark) - 1);
    if (dx == NULL || dy == NULL || dx - x != dy - y) {
        return memcmp(x, y, len_x) == 0;
    }
    size_t at = (size_t)(dx - x) + sizeof(mark) - 1;
    const char *ex = find_bytes(x + at, len_x - at, "\r\n", 2);
    const char *ey = find_bytes(y + at, len_y - at, "\r\n", 2);
    if (ex == NULL || ey == NULL || ex - x != ey - y) {
        return false;
    }
    size_t end = (size_t)(ex - x);
    return memcmp(x, y, at) == 0 && memcmp(x + end, y + end, len_x - end) == 0;
}

static bool same_answer(const struct cd_buf *a,
                        size_t at_a,
                        size_t len_a,
                        int status_a,
                        const struct cd_buf *b,
                        size_t at_b,
                        size_t len_b,
                        int status_b)
{
    char code_a[32], code_b[32];
    const char *x = (const char *)a->data + at_a, *y = (const char *)b->data + at_b;

    if (status_a != status_b) {
        return false;
    }
    if (status_a < 400) {
        return same_but_date(x, len_a, y, len_b);
    }
    refusal_code(x, len_a, code_a, sizeof(code_a));
    refusal_code(y, len_b, code_b, sizeof(code_b));
    FUZZ_CHECK(code_a[0] != '\0', "a refusal without a code: %.*s", (int)len_a, x);
    return strcmp(code_a, code_b) == 0;
}

/* The answers over TLS are those over plain TCP (same_answer()), but for one case that
 * fuzz_http_parse allows too: a header block over max_header_bytes that is also malformed
 * past the limit is refused 431 or 400 depending on where reads end (over TLS, at record
 * boundaries), as the last answer of both. */
static void check_same_answers(const struct cd_buf *tls, const struct cd_buf *plain)
{
    size_t a = 0, b = 0;
    for (unsigned i = 0; a < tls->len || b < plain->len; i++) {
        int sa = 0, sb = 0;
        size_t la = 0, lb = 0;
        FUZZ_CHECK(a == tls->len || next_answer(tls, a, &sa, &la),
                   "answer %u over TLS is not whole: %.*s", i, (int)(tls->len - a),
                   (const char *)tls->data + a);
        FUZZ_CHECK(b == plain->len || next_answer(plain, b, &sb, &lb),
                   "answer %u over plain TCP is not whole: %.*s", i, (int)(plain->len - b),
                   (const char *)plain->data + b);
        FUZZ_CHECK(sa == 0 || expected_status(sa), "answer %u over TLS is a %d", i, sa);
        FUZZ_CHECK(sb == 0 || expected_status(sb), "answer %u over plain TCP is a %d", i, sb);
        if (la > 0 && lb > 0 && same_answer(tls, a, la, sa, plain, b, lb, sb)) {
            a += la;
            b += lb;
            continue;
        }
        bool last = a + la == tls->len && b + lb == plain->len;
        FUZZ_CHECK(last && sa >= 400 && sb >= 400 && (sa == 431 || sb == 431),
                   "answer %u differs: over TLS %.*s, over plain TCP %.*s", i, (int)la,
                   (const char *)tls->data + a, (int)lb, (const char *)plain->data + b);
        break;
    }
}

/* The first session of each version is kept for inputs that resume one, and replaced when
 * the server no longer takes it (its tickets live for two hours). */
static void keep_session(struct client *c, uint8_t flags)
{
    SSL_SESSION **kept = &t.session[flags & FLAG_TLS12 ? 1 : 0];
    if (*kept == NULL || ((flags & FLAG_RESUME) && !SSL_session_reused(c->ssl))) {
        SSL_SESSION_free(*kept);
        *kept = SSL_get1_session(c->ssl);
    }
}

static void http_input(const uint8_t *data, size_t size, uint8_t flags)
{
    struct http_server_stats before, after;
    struct client tls, plain;
    struct cd_buf repeated;
    unsigned handled = t.handled;

    cd_buf_init(&repeated);
    for (int i = 0; i < ((flags & FLAG_REPEAT) ? REPEAT : 0); i++) {
        cd_buf_put(&repeated, data + 1, size - 1);
    }
    http_server_stats(t.server[SRV_TLS], &before);
    client_init(&tls, true, flags);
    tls.cuts = 0x9e3779b9u ^ data[0];
    tls.payload = (flags & FLAG_REPEAT) ? (const char *)repeated.data : (const char *)data + 1;
    tls.len = (flags & FLAG_REPEAT) ? repeated.len : size - 1;
    run(&tls, SRV_TLS);
    http_server_stats(t.server[SRV_TLS], &after);
    unsigned handled_tls = t.handled - handled;

    client_init(&plain, false, 0);
    plain.cuts = tls.cuts;
    plain.payload = tls.payload;
    plain.len = tls.len;
    run(&plain, SRV_PLAIN);

    FUZZ_CHECK(SSL_is_init_finished(tls.ssl), "the TLS handshake did not complete");
    FUZZ_CHECK(after.tls_failed == before.tls_failed, "a TLS failure was counted");
    FUZZ_CHECK(tls.clean_end, "the server ended the TLS stream without close_notify");
    FUZZ_CHECK(t.handled - handled == 2 * handled_tls,
               "the handler saw %u requests over TLS, %u over plain TCP", handled_tls,
               t.handled - handled - handled_tls);
    check_same_answers(&tls.in, &plain.in);
    keep_session(&tls, flags);
    client_free(&tls);
    client_free(&plain);
    cd_buf_close(&repeated);
}

/* ---- Setting up --------------------------------------------------------------------- */

/* The servers' contexts and the client's from dir; false with err set on failure. */
static bool load_tls(const char *dir, char *err, size_t errlen)
{
    char crt[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
    snprintf(crt, sizeof(crt), "%s/n1.crt", dir);
    snprintf(key, sizeof(key), "%s/n1.key", dir);
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);

    struct net_tls_options o = {.cert = crt, .key = key, .ca = ca, .server = true};
    if (net_tls_new(&o, &t.tls, err, errlen) != 0) {
        return false;
    }
    o.require_client_cert = true;
    if (net_tls_new(&o, &t.mutual_tls, err, errlen) != 0) {
        return false;
    }
    t.client_ctx = SSL_CTX_new(TLS_client_method());
    if (t.client_ctx == NULL || SSL_CTX_load_verify_locations(t.client_ctx, ca, NULL) != 1) {
        snprintf(err, errlen, "client TLS context with '%s'", ca);
        return false;
    }
    SSL_CTX_set_verify(t.client_ctx, SSL_VERIFY_PEER, NULL);
    return true;
}

/* A throwaway CA and a certificate for n1 (ops/make-certs) in a scratch directory, loaded,
 * then removed. */
static void make_certs(void)
{
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char dir[PATH_MAX], cmd[2 * PATH_MAX], err[256] = "";

    snprintf(dir, sizeof(dir), "%s/cd-fuzz-tls-XXXXXX", tmp);
    if (mkdtemp(dir) == NULL) {
        FUZZ_DIE("mkdtemp '%s'", dir);
    }
    snprintf(cmd, sizeof(cmd), "'%s/ops/make-certs' '%s' n1", CD_SOURCE_DIR, dir);
    bool made = system(cmd) == 0;
    bool loaded = made && load_tls(dir, err, sizeof(err));
    rm_tree(dir);
    if (!made) {
        FUZZ_DIE("ops/make-certs '%s' failed", dir);
    }
    if (!loaded) {
        FUZZ_DIE("%s", err);
    }
}

static void start_server(int i, const struct http_server_options *o)
{
    char err[256];
    if (http_server_new(&t.loop, o, handler, NULL, &t.server[i]) != 0) {
        FUZZ_DIE("out of memory");
    }
    if (http_server_listen(t.server[i], "127.0.0.1", 0, err, sizeof(err)) != 0) {
        FUZZ_DIE("%s", err);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN); /* a write to a connection the other side closed fails instead */
    make_certs();
    if (uv_loop_init(&t.loop) != 0) {
        FUZZ_DIE("uv_loop_init");
    }
    uv_timer_init(&t.loop, &t.guard);
    uv_timer_init(&t.loop, &t.later);
    /* Small limits, so that inputs reach them. */
    struct http_server_options o = {
        .max_body = 4096,
        .max_header_bytes = 1024,
        .idle_timeout_ms = HTTP_DEADLINE_MS,
        .header_timeout_ms = HTTP_DEADLINE_MS,
        .body_timeout_ms = HTTP_DEADLINE_MS,
    };
    start_server(SRV_PLAIN, &o);
    o.tls = t.tls;
    start_server(SRV_TLS, &o);
    struct http_server_options quick = {
        .header_timeout_ms = QUICK_HANDSHAKE_MS,
        .idle_timeout_ms = 50 * QUICK_HANDSHAKE_MS,
        .tls = t.tls,
    };
    start_server(SRV_QUICK, &quick);
    quick.tls = t.mutual_tls;
    start_server(SRV_MUTUAL, &quick);
    t.baseline = loop_handles();

    /* The harness works: a request over TLS 1.3, then 1.2, gets its 200; the sessions
     * are kept for inputs that resume one. */
    static const char hello[] = "\x00GET /healthz HTTP/1.1\r\nHost: n1\r\n\r\n";
    struct http_server_stats st;
    http_input((const uint8_t *)hello, sizeof(hello) - 1, FLAG_HTTP);
    http_input((const uint8_t *)hello, sizeof(hello) - 1, FLAG_HTTP | FLAG_TLS12);
    http_server_stats(t.server[SRV_TLS], &st);
    if (t.handled != 4 || st.answers[2] != 2 || t.session[0] == NULL || t.session[1] == NULL) {
        FUZZ_DIE("requests over TLS got no answer");
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if (data[0] & FLAG_HTTP) {
        if (size >= 2) {
            http_input(data + 1, size - 1, data[0]);
        }
        return 0;
    }
    records_input(data + 1, size - 1, data[0]);
    return 0;
}
