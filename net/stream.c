/* net: one stream, plain or TLS.
 *
 * A TLS stream pumps through two memory BIOs: what arrives on the socket is written into
 * the SSL's read BIO and plaintext is taken out with SSL_read() for as long as the owner
 * reads; plaintext the owner writes goes in with SSL_write() and whatever the SSL has put
 * in its write BIO leaves as one socket write, which owns its bytes. Socket reads stop
 * whenever the owner stops reading (outside the handshake), so a slow owner backs the peer
 * up into the kernels as a plain stream would; what TLS had already decrypted or received
 * waits in the SSL and is handed over, on a zero-delay timer, once the owner reads again.
 * The end of the stream (EOF, a failure) is handed over the same way, after the data
 * before it. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "net/internal.h"

#define READ_CHUNK (64 * 1024)
#define HANDSHAKE_DEFAULT_MS 10000

struct net__queued
{
    struct net__queued *next;
    net_write_cb cb;
    void *arg;
    size_t len;
    char data[];
};

/* A socket write that owns its bytes. */
struct wreq
{
    uv_write_t req;
    struct net_stream *s;
    net_write_cb cb;
    void *arg;
    char *owned; /* the caller's buffer, handed over; NULL: the bytes are in data */
    char data[];
};

char *net__read_buffer(size_t *len)
{
    static _Thread_local char buf[READ_CHUNK];
    *len = sizeof(buf);
    return buf;
}

static SSL *ssl_of(const struct net_stream *s)
{
    return s->ssl;
}

bool net_stream_secure(const struct net_stream *s)
{
    return s->tls != NULL;
}

const char *net_stream_error(const struct net_stream *s)
{
    return s->error;
}

size_t net_stream_unsent(const struct net_stream *s)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&s->tcp) + s->queued_bytes;
}

/* ---- Closing ------------------------------------------------------------------------ */

static void cancel_queued(struct net_stream *s)
{
    while (s->queued_head != NULL) {
        struct net__queued *q = s->queued_head;
        s->queued_head = q->next;
        if (q->cb != NULL) {
            q->cb(s, UV_ECANCELED, q->arg);
        }
        free(q);
    }
    s->queued_tail = NULL;
    s->queued_bytes = 0;
}

static void handle_closed(uv_handle_t *h)
{
    struct net_stream *s = h->data;
    if (--s->handles > 0) {
        return;
    }
    cancel_queued(s);
    if (s->ssl != NULL && s->phase == NET_OPEN) {
        /* A connection closed without close_notify (the owner had nothing more to say, or
         * the peer went away) leaves its session resumable; OpenSSL would otherwise take it
         * for one that failed. A failed one stays unresumable. */
        SSL_set_shutdown(ssl_of(s), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    }
    SSL_free(ssl_of(s));
    s->ssl = NULL;
    free(s->peer_name);
    s->peer_name = NULL;
    net__tls_release(s->tls);
    if (s->close_cb != NULL) {
        s->close_cb(s);
    }
}

void net_stream_close(struct net_stream *s, net_close_cb cb)
{
    if (s->closing) {
        return;
    }
    s->closing = true;
    s->close_cb = cb;
    uv_close((uv_handle_t *)&s->tcp, handle_closed);
    uv_close((uv_handle_t *)&s->timer, handle_closed);
}

/* ---- Socket writes ------------------------------------------------------------------ */

static void wreq_done(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    if (w->cb != NULL) {
        w->cb(w->s, status, w->arg);
    }
    free(w->owned);
    free(w);
}

static int socket_write(struct net_stream *s, struct wreq *w, size_t len)
{
    uv_buf_t buf = uv_buf_init(w->owned != NULL ? w->owned : w->data, (unsigned)len);
    w->s = s;
    if (uv_write(&w->req, (uv_stream_t *)&s->tcp, &buf, 1, wreq_done) != 0) {
        free(w->owned);
        free(w);
        return CD_EIO;
    }
    return 0;
}

/* Sends whatever the SSL has written; cb (may be NULL) rides on that write. */
static int tls_flush(struct net_stream *s, net_write_cb cb, void *arg)
{
    BIO *out = SSL_get_wbio(ssl_of(s));
    size_t pending = BIO_ctrl_pending(out);
    if (pending == 0) {
        return 0;
    }
    struct wreq *w = malloc(sizeof(*w) + pending);
    if (w == NULL) {
        return CD_ENOMEM;
    }
    w->cb = cb;
    w->arg = arg;
    w->owned = NULL;
    int n = BIO_read(out, w->data, (int)pending);
    if (n <= 0) {
        free(w);
        return CD_EIO;
    }
    return socket_write(s, w, (size_t)n);
}

/* ---- Reading ------------------------------------------------------------------------ */

static void deliver(struct net_stream *s);

static bool socket_should_read(const struct net_stream *s)
{
    if (s->closing || s->ended || s->phase == NET_FAILED || s->phase == NET_IDLE) {
        return false;
    }
    return s->phase == NET_HANDSHAKE || s->user_reading;
}

static void socket_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    size_t len;
    (void)h;
    (void)suggested;
    buf->base = net__read_buffer(&len);
    buf->len = len;
}

static void socket_read(uv_stream_t *tcp, ssize_t nread, const uv_buf_t *buf);

static void socket_reading(struct net_stream *s)
{
    bool want = socket_should_read(s);
    if (want == s->tcp_reading) {
        return;
    }
    if (want && uv_read_start((uv_stream_t *)&s->tcp, socket_alloc, socket_read) != 0) {
        return;
    }
    if (!want) {
        uv_read_stop((uv_stream_t *)&s->tcp);
    }
    s->tcp_reading = want;
}

/* Hands the owner the end of the stream once it reads, after what came before it. */
static void end_stream(struct net_stream *s, int status)
{
    if (s->ended || s->closing) {
        return;
    }
    s->ended = true;
    socket_reading(s);
    if (s->user_reading) {
        s->read_cb(s, status, NULL);
    } else {
        s->end_status = status;
    }
}

static void fail(struct net_stream *s, int status, const char *why)
{
    if (s->phase == NET_FAILED) {
        return;
    }
    s->phase = NET_FAILED;
    if (s->error[0] == '\0') {
        snprintf(s->error, sizeof(s->error), "%s", why);
    }
    uv_timer_stop(&s->timer);
    end_stream(s, status);
}

/* Records why the SSL failed: OpenSSL's reason, and the verifier's when a certificate was
 * refused. */
static void ssl_fail(struct net_stream *s)
{
    char reason[120];
    net__ssl_reason(reason, sizeof(reason));
    long verify = SSL_get_verify_result(ssl_of(s));
    if (verify != X509_V_OK) {
        snprintf(s->error, sizeof(s->error), "%s: %s", reason,
                 X509_verify_cert_error_string(verify));
    } else {
        snprintf(s->error, sizeof(s->error), "%s", reason);
    }
    /* The alert, if the SSL made one, is worth sending before the owner closes. */
    tls_flush(s, NULL, NULL);
    fail(s, UV_EPROTO, s->error);
}

static void start_shutdown(struct net_stream *s);

static void flush_queued(struct net_stream *s)
{
    while (s->queued_head != NULL && s->phase == NET_OPEN) {
        struct net__queued *q = s->queued_head;
        s->queued_head = q->next;
        if (s->queued_head == NULL) {
            s->queued_tail = NULL;
        }
        s->queued_bytes -= q->len;
        ERR_clear_error();
        if (SSL_write(ssl_of(s), q->data, (int)q->len) != (int)q->len) {
            ssl_fail(s);
        } else if (tls_flush(s, q->cb, q->arg) == 0) {
            free(q);
            continue;
        } else {
            fail(s, UV_EIO, "cannot write to the socket");
        }
        if (q->cb != NULL) {
            q->cb(s, UV_EIO, q->arg);
        }
        free(q);
    }
}

static void handshake_step(struct net_stream *s)
{
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_of(s));
    if (r == 1) {
        s->phase = NET_OPEN;
        uv_timer_stop(&s->timer);
        tls_flush(s, NULL, NULL);
        flush_queued(s);
        if (s->want_shutdown && s->phase == NET_OPEN) {
            start_shutdown(s);
        }
        return;
    }
    if (SSL_get_error(ssl_of(s), r) == SSL_ERROR_WANT_READ) {
        if (tls_flush(s, NULL, NULL) != 0) {
            fail(s, UV_EIO, "cannot write to the socket");
        }
        return;
    }
    ssl_fail(s);
}

/* Hands the owner what TLS holds for it, for as long as it reads. */
static void deliver(struct net_stream *s)
{
    size_t cap;
    char *plain = net__read_buffer(&cap);

    while (s->user_reading && s->phase == NET_OPEN && !s->ended && !s->closing) {
        ERR_clear_error();
        int n = SSL_read(ssl_of(s), plain, (int)cap);
        if (n > 0) {
            s->read_cb(s, n, plain);
            continue;
        }
        int e = SSL_get_error(ssl_of(s), n);
        if (e == SSL_ERROR_WANT_READ) {
            if (s->socket_eof) {
                end_stream(s, UV_EOF);
            }
            break;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            end_stream(s, UV_EOF);
        } else {
            ssl_fail(s);
        }
        break;
    }
    /* Reading can make the SSL answer (a key update): send it. */
    if (!s->closing && s->phase == NET_OPEN) {
        tls_flush(s, NULL, NULL);
    }
}

static void tls_input(struct net_stream *s, const char *data, size_t len)
{
    if (BIO_write(SSL_get_rbio(ssl_of(s)), data, (int)len) != (int)len) {
        fail(s, UV_ENOMEM, "out of memory");
        return;
    }
    if (s->phase == NET_HANDSHAKE) {
        handshake_step(s);
    }
    if (s->phase == NET_OPEN) {
        deliver(s);
    }
}

static void socket_read(uv_stream_t *tcp, ssize_t nread, const uv_buf_t *buf)
{
    struct net_stream *s = tcp->data;

    if (nread == 0 || s->closing) {
        return;
    }
    if (s->tls == NULL) {
        if (nread < 0) {
            end_stream(s, (int)nread);
        } else if (s->user_reading) {
            s->read_cb(s, nread, buf->base);
        }
        return;
    }
    if (nread > 0) {
        tls_input(s, buf->base, (size_t)nread);
    } else if (nread == UV_EOF && s->phase == NET_OPEN) {
        s->socket_eof = true;
        deliver(s);
    } else if (nread == UV_EOF) {
        fail(s, UV_EOF, "the peer closed the connection during the TLS handshake");
    } else {
        fail(s, (int)nread, uv_strerror((int)nread));
    }
    socket_reading(s);
}

static void timer_fired(uv_timer_t *timer)
{
    struct net_stream *s = timer->data;

    if (s->phase == NET_HANDSHAKE) {
        char why[96];
        snprintf(why, sizeof(why), "the TLS handshake did not complete within %u ms",
                 s->handshake_ms);
        fail(s, UV_ETIMEDOUT, why);
        return;
    }
    if (!s->user_reading || s->closing) {
        return;
    }
    if (s->ended && s->end_status != 0) {
        int status = s->end_status;
        s->end_status = 0;
        s->read_cb(s, status, NULL);
        return;
    }
    deliver(s);
    socket_reading(s);
}

int net_stream_read_start(struct net_stream *s, net_read_cb cb)
{
    if (s->closing) {
        return UV_EINVAL;
    }
    s->read_cb = cb;
    s->user_reading = true;
    if (s->tls == NULL) {
        if (s->ended) {
            return 0;
        }
        int rv = uv_read_start((uv_stream_t *)&s->tcp, socket_alloc, socket_read);
        s->tcp_reading = rv == 0;
        return rv;
    }
    /* What TLS holds (or the end) is handed over on a loop turn of its own, never from
     * inside the owner's call. */
    bool held = s->end_status != 0 ||
                (s->phase == NET_OPEN &&
                 (SSL_has_pending(ssl_of(s)) || BIO_ctrl_pending(SSL_get_rbio(ssl_of(s))) > 0));
    if (held) {
        uv_timer_start(&s->timer, timer_fired, 0, 0);
    }
    socket_reading(s);
    return 0;
}

void net_stream_read_stop(struct net_stream *s)
{
    s->user_reading = false;
    if (s->tls == NULL) {
        uv_read_stop((uv_stream_t *)&s->tcp);
        s->tcp_reading = false;
        return;
    }
    socket_reading(s);
}

/* ---- Writing ------------------------------------------------------------------------ */

static int queue_plain(struct net_stream *s,
                       const char *data,
                       size_t len,
                       net_write_cb cb,
                       void *arg)
{
    struct net__queued *q = malloc(sizeof(*q) + len);
    if (q == NULL) {
        return CD_ENOMEM;
    }
    q->next = NULL;
    q->cb = cb;
    q->arg = arg;
    q->len = len;
    memcpy(q->data, data, len);
    if (s->queued_tail != NULL) {
        s->queued_tail->next = q;
    } else {
        s->queued_head = q;
    }
    s->queued_tail = q;
    s->queued_bytes += len;
    return 0;
}

/* Queues len bytes: taken over from owned (malloc'd, freed here whatever happens) or copied
 * from data. */
static int stream_write(struct net_stream *s,
                        const char *data,
                        char *owned,
                        size_t len,
                        net_write_cb cb,
                        void *arg)
{
    const char *bytes = owned != NULL ? owned : data;
    int rv;

    if (s->closing || s->want_shutdown || s->phase == NET_FAILED || len == 0 ||
        len > INT32_MAX) {
        rv = CD_EIO;
    } else if (s->tls == NULL) {
        struct wreq *w = malloc(sizeof(*w) + (owned != NULL ? 0 : len));
        if (w == NULL) {
            rv = CD_ENOMEM;
        } else {
            w->cb = cb;
            w->arg = arg;
            w->owned = owned;
            if (owned == NULL) {
                memcpy(w->data, data, len);
            }
            return socket_write(s, w, len);
        }
    } else if (s->phase != NET_OPEN) {
        rv = queue_plain(s, bytes, len, cb, arg);
    } else {
        ERR_clear_error();
        if (SSL_write(ssl_of(s), bytes, (int)len) != (int)len) {
            ssl_fail(s);
            rv = CD_EIO;
        } else {
            rv = tls_flush(s, cb, arg);
        }
    }
    free(owned);
    return rv;
}

int net_stream_write(struct net_stream *s,
                     const char *data,
                     size_t len,
                     net_write_cb cb,
                     void *arg)
{
    return stream_write(s, data, NULL, len, cb, arg);
}

int net_stream_write_take(struct net_stream *s,
                          char *data,
                          size_t len,
                          net_write_cb cb,
                          void *arg)
{
    return stream_write(s, NULL, data, len, cb, arg);
}

/* ---- Shutting down ------------------------------------------------------------------ */

static void shutdown_done(uv_shutdown_t *req, int status)
{
    struct net_stream *s = req->data;
    if (s->shutdown_cb != NULL) {
        s->shutdown_cb(s, status);
    }
}

static void start_shutdown(struct net_stream *s)
{
    if (s->shut) {
        return;
    }
    s->shut = true;
    if (s->tls != NULL && s->phase == NET_OPEN) {
        ERR_clear_error();
        SSL_shutdown(ssl_of(s));
        tls_flush(s, NULL, NULL);
    }
    s->shutdown_req.data = s;
    if (uv_shutdown(&s->shutdown_req, (uv_stream_t *)&s->tcp, shutdown_done) != 0) {
        /* Nothing to shut down on a socket that is already gone: say so on a loop turn. */
        s->shut = false;
        fail(s, UV_EPIPE, "the connection is gone");
    }
}

int net_stream_shutdown(struct net_stream *s, net_shutdown_cb cb)
{
    if (s->closing || s->want_shutdown || s->phase == NET_FAILED) {
        return CD_EIO;
    }
    s->want_shutdown = true;
    s->shutdown_cb = cb;
    if (s->tls == NULL || s->phase == NET_OPEN) {
        start_shutdown(s);
        if (!s->shut) {
            return CD_EIO;
        }
    }
    return 0;
}

/* ---- Birth -------------------------------------------------------------------------- */

int net_stream_init(uv_loop_t *loop, struct net_stream *s, struct net_tls *tls)
{
    memset(s, 0, sizeof(*s));
    int rv = uv_tcp_init(loop, &s->tcp);
    if (rv != 0) {
        return rv;
    }
    uv_timer_init(loop, &s->timer);
    s->tcp.data = s;
    s->timer.data = s;
    s->loop = loop;
    s->handles = 2;
    s->tls = tls;
    if (tls != NULL) {
        net__tls_hold(tls);
    }
    return 0;
}

int net_stream_start(struct net_stream *s, const char *peer_name, unsigned handshake_ms)
{
    uv_tcp_nodelay(&s->tcp, 1);
    if (s->tls == NULL) {
        s->phase = NET_OPEN;
        return 0;
    }
    if (peer_name != NULL && (s->peer_name = strdup(peer_name)) == NULL) {
        return CD_ENOMEM;
    }
    SSL *ssl = net__ssl_new(s->tls, s, peer_name);
    BIO *in = BIO_new(BIO_s_mem());
    BIO *out = BIO_new(BIO_s_mem());
    if (ssl == NULL || in == NULL || out == NULL) {
        SSL_free(ssl);
        BIO_free(in);
        BIO_free(out);
        ERR_clear_error();
        return CD_ENOMEM;
    }
    /* An empty read BIO means "no data yet", not EOF. */
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl, in, out);
    s->ssl = ssl;
    s->phase = NET_HANDSHAKE;
    s->handshake_ms = handshake_ms != 0 ? handshake_ms : HANDSHAKE_DEFAULT_MS;
    uv_timer_start(&s->timer, timer_fired, s->handshake_ms, 0);
    socket_reading(s);
    if (!s->tcp_reading) {
        return CD_EIO;
    }
    if (!net__tls_server(s->tls)) {
        handshake_step(s);
    }
    return 0;
}

/* ---- The peer ----------------------------------------------------------------------- */

bool net_stream_peer_is(const struct net_stream *s, const char *name)
{
    if (s->tls == NULL || s->phase != NET_OPEN || name == NULL || name[0] == '\0') {
        return false;
    }
    SSL *ssl = ssl_of(s);
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK) {
        return false;
    }
    int r = X509_check_host(cert, name, strlen(name), 0, NULL);
    ERR_clear_error();
    return r == 1;
}

bool net_stream_resumed(const struct net_stream *s)
{
    return s->tls != NULL && s->ssl != NULL && SSL_session_reused(ssl_of(s)) == 1;
}
