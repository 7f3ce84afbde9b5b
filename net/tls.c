/* net: TLS contexts. A context is an SSL_CTX built from PEM files, rebuilt whole on reload,
 * and a small cache of the last session a client had with each peer name. */
#include <assert.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "net/internal.h"

/* Peer names a client remembers a session for; the least recently stored one goes first. */
#define SESSION_CACHE 32

struct net_tls
{
    SSL_CTX *ctx;
    char *cert, *key, *ca; /* owned copies of the paths */
    bool server, require_client_cert;
    unsigned refs; /* the owner's, plus one per stream started on it */
    struct
    {
        char *name;
        SSL_SESSION *session;
        uint64_t stored; /* tick of the store: the lowest goes first */
    } cache[SESSION_CACHE];
    uint64_t ticks;
};

/* The index of the SSL ex_data slot holding a client stream's context, for the session
 * callback. */
static int tls_slot = -1;

void net__ssl_reason(char *out, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e == 0) {
        snprintf(out, cap, "unknown TLS failure");
        return;
    }
    const char *r = ERR_reason_error_string(e);
    snprintf(out, cap, "%s", r != NULL ? r : "unknown TLS failure");
    ERR_clear_error();
}

/* Fails with a message naming the file, checking first that it can be opened at all, since
 * OpenSSL's own reason for a missing file ("system lib") says little. */
static int file_fail(const char *what, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "read %s '%s': %s", what, path, strerror(errno));
        ERR_clear_error();
        return CD_EINVAL;
    }
    fclose(f);
    char reason[120];
    net__ssl_reason(reason, sizeof(reason));
    snprintf(err, errlen, "read %s '%s': %s", what, path, reason);
    return CD_EINVAL;
}

static int new_session(SSL *ssl, SSL_SESSION *session);

static int ctx_identity(SSL_CTX *ctx, const struct net_tls *t, char *err, size_t errlen)
{
    if (t->cert == NULL) {
        return 0;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, t->cert) != 1) {
        return file_fail("TLS certificate", t->cert, err, errlen);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1 &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
        return file_fail("TLS key", t->key, err, errlen);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "TLS key '%s' does not match the certificate '%s'", t->key,
                 t->cert);
        return CD_EINVAL;
    }
    return 0;
}

static int ctx_trust(SSL_CTX *ctx, const struct net_tls *t, char *err, size_t errlen)
{
    if (t->ca == NULL) {
        SSL_CTX_set_default_verify_paths(ctx);
    } else if (SSL_CTX_load_verify_locations(ctx, t->ca, NULL) != 1) {
        return file_fail("TLS CA", t->ca, err, errlen);
    }
    if (!t->server) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        return 0;
    }
    if (t->require_client_cert) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca);
        if (names == NULL) {
            return file_fail("TLS CA", t->ca, err, errlen);
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return 0;
}

static SSL_CTX *ctx_build(const struct net_tls *t, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(t->server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (t->server) {
        /* Resumption with client certificates needs a context id; tickets are on. */
        static const unsigned char id[] = "contactd";
        SSL_CTX_set_session_id_context(ctx, id, sizeof(id) - 1);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    } else {
        SSL_CTX_set_session_cache_mode(
            ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, new_session);
    }
    if (ctx_identity(ctx, t, err, errlen) != 0 || ctx_trust(ctx, t, err, errlen) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static char *dup_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

static void cache_clear(struct net_tls *t)
{
    for (size_t i = 0; i < SESSION_CACHE; i++) {
        free(t->cache[i].name);
        SSL_SESSION_free(t->cache[i].session);
        t->cache[i].name = NULL;
        t->cache[i].session = NULL;
    }
}

static void tls_release_all(struct net_tls *t)
{
    cache_clear(t);
    SSL_CTX_free(t->ctx);
    free(t->cert);
    free(t->key);
    free(t->ca);
    free(t);
}

int net_tls_new(const struct net_tls_options *opt,
                struct net_tls **out,
                char *err,
                size_t errlen)
{
    if (opt->server && (opt->cert == NULL || opt->key == NULL)) {
        snprintf(err, errlen, "a TLS server needs a certificate and a key");
        return CD_EINVAL;
    }
    if (tls_slot < 0) {
        tls_slot = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    }
    struct net_tls *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return CD_ENOMEM;
    }
    t->cert = dup_or_null(opt->cert);
    t->key = dup_or_null(opt->key);
    t->ca = dup_or_null(opt->ca);
    t->server = opt->server;
    t->require_client_cert = opt->require_client_cert;
    t->refs = 1;
    if ((opt->cert != NULL && t->cert == NULL) || (opt->key != NULL && t->key == NULL) ||
        (opt->ca != NULL && t->ca == NULL)) {
        snprintf(err, errlen, "out of memory");
        tls_release_all(t);
        return CD_ENOMEM;
    }
    if ((t->ctx = ctx_build(t, err, errlen)) == NULL) {
        tls_release_all(t);
        return CD_EINVAL;
    }
    *out = t;
    return 0;
}

/* Open connections hold their own reference to the old context; sessions of the old one
 * are not offered again. */
static void swap_ctx(struct net_tls *t, SSL_CTX *ctx)
{
    SSL_CTX_free(t->ctx);
    t->ctx = ctx;
    cache_clear(t);
}

int net_tls_reload(struct net_tls *t, char *err, size_t errlen)
{
    SSL_CTX *ctx = ctx_build(t, err, errlen);
    if (ctx == NULL) {
        return CD_EINVAL;
    }
    swap_ctx(t, ctx);
    return 0;
}

void net_tls_take(struct net_tls *t, struct net_tls *from)
{
    assert(t->server == from->server && t->require_client_cert == from->require_client_cert);
    swap_ctx(t, from->ctx);
    from->ctx = NULL;
    net_tls_free(from);
}

bool net_tls_cert_names(const struct net_tls *t, const char *name)
{
    X509 *cert = SSL_CTX_get0_certificate(t->ctx);
    if (cert == NULL || name == NULL || name[0] == '\0') {
        return false;
    }
    int r = X509_check_host(cert, name, strlen(name), 0, NULL);
    ERR_clear_error();
    return r == 1;
}

void net__tls_hold(struct net_tls *t)
{
    t->refs++;
}

void net__tls_release(struct net_tls *t)
{
    if (t != NULL && --t->refs == 0) {
        tls_release_all(t);
    }
}

void net_tls_free(struct net_tls *t)
{
    net__tls_release(t);
}

bool net__tls_server(const struct net_tls *t)
{
    return t->server;
}

/* ---- Sessions a client resumes ------------------------------------------------------ */

static int new_session(SSL *ssl, SSL_SESSION *session)
{
    struct net_stream *s = SSL_get_ex_data(ssl, tls_slot);
    if (s == NULL || s->tls == NULL || s->peer_name == NULL) {
        return 0;
    }
    struct net_tls *t = s->tls;
    size_t slot = 0;
    for (size_t i = 0; i < SESSION_CACHE; i++) {
        if (t->cache[i].name != NULL && strcmp(t->cache[i].name, s->peer_name) == 0) {
            slot = i;
            break;
        }
        if (t->cache[i].stored < t->cache[slot].stored) {
            slot = i;
        }
    }
    char *name = t->cache[slot].name;
    if (name == NULL || strcmp(name, s->peer_name) != 0) {
        free(name);
        if ((name = strdup(s->peer_name)) == NULL) {
            t->cache[slot].name = NULL;
            SSL_SESSION_free(t->cache[slot].session);
            t->cache[slot].session = NULL;
            return 0;
        }
    }
    SSL_SESSION_free(t->cache[slot].session);
    t->cache[slot].name = name;
    t->cache[slot].session = session;
    t->cache[slot].stored = ++t->ticks;
    return 1; /* we keep the reference OpenSSL handed us */
}

/* A new SSL object for a stream on t, with the client's checks and last session set. */
void *net__ssl_new(struct net_tls *t, struct net_stream *s, const char *peer_name)
{
    SSL *ssl = SSL_new(t->ctx);
    if (ssl == NULL) {
        return NULL;
    }
    if (t->server) {
        SSL_set_accept_state(ssl);
        return ssl;
    }
    SSL_set_connect_state(ssl);
    SSL_set_ex_data(ssl, tls_slot, s);
    if (peer_name == NULL) {
        return ssl;
    }
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, peer_name) != 1) {
        ERR_clear_error();
        if (SSL_set1_host(ssl, peer_name) != 1 ||
            SSL_set_tlsext_host_name(ssl, peer_name) != 1) {
            SSL_free(ssl);
            return NULL;
        }
    }
    for (size_t i = 0; i < SESSION_CACHE; i++) {
        if (t->cache[i].name != NULL && strcmp(t->cache[i].name, peer_name) == 0) {
            SSL_set_session(ssl, t->cache[i].session);
            break;
        }
    }
    return ssl;
}
