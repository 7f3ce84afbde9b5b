/* net: the one stream type under every socket of a node — a libuv TCP connection, plain or
 * wrapped in TLS by an OpenSSL memory-BIO pump — and the TLS contexts it uses.
 *
 * The HTTP server and client (adapters/http), the peer channel (through them) and Raft's
 * transport (cluster/) all read and write through struct net_stream. What a connection's
 * life needs below the protocol lives here once: the TLS handshake and its deadline,
 * writes that own their bytes, the count of bytes not yet handed to the kernel
 * (backpressure), a polite shutdown (close_notify, then the TCP FIN) and a close with a
 * callback once every handle is closed.
 *
 * TLS: 1.2 at least, 1.3 preferred; no renegotiation; session resumption on both sides
 * (tickets; the client keeps the last session per peer name). A server context may demand
 * a client certificate from the CA (mutual TLS, between members); a client checks the
 * server's certificate against the CA and the name it expects (a member id, a host name or
 * an IP literal).
 *
 * Everything runs on the loop's thread; nothing here is thread-safe, except that contexts
 * may be shared by streams on different loops as long as net_tls_reload() and
 * net_tls_free() are not called meanwhile. */
#ifndef CD_NET_H
#define CD_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* ---- TLS contexts ------------------------------------------------------------------- */

struct net_tls;

struct net_tls_options
{
    /* PEM files, borrowed for the call and kept by path for net_tls_reload(). cert and key:
     * this side's certificate (chain) and private key; required for a server, optional for
     * a client (a member's client presents its own). ca: the CA certificates peers are
     * checked against; NULL: the system's default trust store (a client only). */
    const char *cert;
    const char *key;
    const char *ca;
    bool server;
    /* Server: the client must present a certificate from ca (mutual TLS); a handshake
     * without one fails. */
    bool require_client_cert;
};

/* Builds a context from the files. Returns 0, or CD_EINVAL with a message in err naming the
 * file and what is wrong with it ("read TLS certificate '/etc/contactd/n1.crt': no such
 * file", "TLS key '/etc/contactd/n1.key' does not match the certificate"), or CD_ENOMEM. */
int net_tls_new(const struct net_tls_options *opt,
                struct net_tls **out,
                char *err,
                size_t errlen);

/* Reads the files again. On success, new connections use the new certificate, key and CA
 * (connections already open keep what they started with). On failure nothing changes and
 * err says why, as for net_tls_new(). */
int net_tls_reload(struct net_tls *tls, char *err, size_t errlen);

/* Moves from's certificate, key and CA into tls, as a reload would (new connections use
 * them, open ones keep theirs), and frees from: for a caller that checks a whole set of new
 * contexts before any takes effect. Both must play the same side (server or client, client
 * certificates required or not). */
void net_tls_take(struct net_tls *tls, struct net_tls *from);

/* Whether the context's own certificate names name (one of its DNS names, or its subject's
 * common name when it has none): a member's must name its id. */
bool net_tls_cert_names(const struct net_tls *tls, const char *name);

/* Frees the context; streams still using it keep it alive until they close. NULL is fine. */
void net_tls_free(struct net_tls *tls);

/* ---- Streams ------------------------------------------------------------------------ */

struct net_stream;

/* Plaintext that arrived: data[0..nread), valid only until the callback returns. nread < 0
 * is the end: UV_EOF (the peer ended its stream, or sent TLS close_notify), UV_EPROTO (a
 * TLS failure: net_stream_error() says which), or another libuv error. No further read
 * callback comes after a negative one. */
typedef void (*net_read_cb)(struct net_stream *s, ssize_t nread, const char *data);
/* A write left for the kernel (status 0) or failed (a libuv error; UV_ECANCELED when the
 * stream was closed first). */
typedef void (*net_write_cb)(struct net_stream *s, int status, void *arg);
typedef void (*net_shutdown_cb)(struct net_stream *s, int status);
/* Every handle of the stream is closed; the memory holding it may be freed now. */
typedef void (*net_close_cb)(struct net_stream *s);

enum net_phase {
    NET_IDLE,      /* initialised; not started */
    NET_HANDSHAKE, /* TLS handshake under way (never for plain streams) */
    NET_OPEN,      /* reading and writing plaintext */
    NET_FAILED,    /* the handshake or a record failed: only closing is left */
};

/* Pending plaintext written before the handshake completed. */
struct net__queued;

/* Caller-allocated; its fields are private except tcp (accept into it, or connect with it,
 * before net_stream_start()) and data. */
struct net_stream
{
    uv_tcp_t tcp;
    void *data; /* the owner's */
    /* private */
    uv_loop_t *loop;
    uv_timer_t timer; /* the handshake deadline, then resuming reads held in TLS */
    uv_shutdown_t shutdown_req;
    struct net_tls *tls; /* NULL: plain TCP */
    void *ssl;           /* SSL *, while a TLS stream is open */
    char *peer_name;     /* the name a client checks, and its session cache key */
    struct net__queued *queued_head, *queued_tail;
    size_t queued_bytes;
    net_read_cb read_cb;
    net_shutdown_cb shutdown_cb;
    net_close_cb close_cb;
    enum net_phase phase;
    unsigned handles;
    unsigned handshake_ms;
    bool user_reading;
    bool tcp_reading;
    bool want_shutdown;
    bool shut;
    bool ended;      /* the stream's end is known: delivered, or in end_status */
    bool socket_eof; /* TLS: the socket ended; the end follows what TLS still holds */
    int end_status;  /* the end, kept until the owner reads again; 0: none kept */
    bool closing;
    char error[160];
};

/* Initialises s on loop: tls NULL for plain TCP, else a context of the side s plays (a
 * server's for an accepted connection, a client's for one it connects). tls is borrowed
 * until the close callback. Returns 0 or a libuv error (nothing to close then). */
int net_stream_init(uv_loop_t *loop, struct net_stream *s, struct net_tls *tls);

/* Starts an accepted or connected stream. For TLS, the handshake begins now and must
 * complete within handshake_ms (0: 10 s), or the read callback gets UV_ETIMEDOUT; a client
 * checks that the server's certificate names peer_name (a host name or member id, matched
 * against the certificate's DNS names, or an IP literal, matched against its IP
 * addresses; copied; NULL: only the CA is checked) and offers the session it last had with
 * that name. Writes may be queued at once; they leave after the handshake. Returns 0,
 * CD_ENOMEM or CD_EIO. */
int net_stream_start(struct net_stream *s, const char *peer_name, unsigned handshake_ms);

/* Delivers plaintext to cb until net_stream_read_stop(). While reading is stopped, nothing
 * more is read from the socket (the peer's writes back up into its kernel), except what a
 * TLS handshake needs. Returns 0 or a libuv error. */
int net_stream_read_start(struct net_stream *s, net_read_cb cb);
void net_stream_read_stop(struct net_stream *s);

/* Copies data[0..len) and queues it; cb (may be NULL) fires once it left or failed. Returns
 * 0, or CD_ENOMEM / CD_EIO (the stream is closing, failed or shut down) without calling
 * cb. */
int net_stream_write(struct net_stream *s,
                     const char *data,
                     size_t len,
                     net_write_cb cb,
                     void *arg);

/* As net_stream_write(), taking data over instead of copying it: data was allocated with
 * malloc() and is freed by the stream, whatever the outcome. */
int net_stream_write_take(struct net_stream *s,
                          char *data,
                          size_t len,
                          net_write_cb cb,
                          void *arg);

/* Ends this side's stream once every queued write has left (TLS: close_notify, then FIN).
 * cb fires once; returns 0 or CD_EIO without calling it. */
int net_stream_shutdown(struct net_stream *s, net_shutdown_cb cb);

/* Bytes queued and not yet handed to the kernel (ciphertext for TLS, plus plaintext held
 * until the handshake completes). */
size_t net_stream_unsent(const struct net_stream *s);

/* Closes every handle; pending writes fail with UV_ECANCELED; cb fires once all are closed.
 * Safe to call more than once (later calls do nothing). */
void net_stream_close(struct net_stream *s, net_close_cb cb);

/* Whether the stream runs TLS. */
bool net_stream_secure(const struct net_stream *s);

/* Whether the peer presented a certificate, verified against the CA, that names name (a
 * DNS name of the certificate, or its subject's common name when it has none). false for a
 * plain stream or before the handshake completed. */
bool net_stream_peer_is(const struct net_stream *s, const char *name);

/* Whether this stream's handshake resumed an earlier session. */
bool net_stream_resumed(const struct net_stream *s);

/* Why the stream failed, "" when it did not: OpenSSL's reason and, for a certificate that
 * failed verification, the verifier's ("certificate verify failed: unable to get local
 * issuer certificate"). */
const char *net_stream_error(const struct net_stream *s);

/* A 64 KiB buffer for reads of this thread's loop, shared by every stream on it: libuv
 * hands each read to its callback before it allocates for the next one. */
char *net__read_buffer(size_t *len);

#endif
