/* Blocking HTTP for contactctl: getaddrinfo, connect, the TLS handshake when the endpoint asks
 * for it, write, read until the peer closes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ops/contactctl/http_blocking.h"

#define TIMEOUT_S 15

struct hb_client
{
    SSL_CTX *tls;
    bool tls_by_default; /* a bare HOST:PORT endpoint speaks TLS */
    char token[HB_TOKEN_MAX + 1];
    int timeout_ms; /* 0: TIMEOUT_S */
};

/* An endpoint as written, split. */
struct endpoint
{
    bool tls;
    const char *hostport; /* in the endpoint string, after the scheme */
    const char *port;
    char host[256]; /* without the brackets of an IPv6 literal */
};

/* A connection, and why its last read or write failed. */
struct conn
{
    int fd;
    SSL *tls; /* NULL for plain HTTP */
    char why[160];
};

/* OpenSSL's reason for the error on top of its queue, without the library's codes. */
static const char *tls_reason(void)
{
    const char *r = ERR_reason_error_string(ERR_peek_last_error());
    return r != NULL ? r : "TLS error";
}

static int set_token(struct hb_client *client, const char *token, char *err, size_t errlen)
{
    size_t n = token != NULL ? strlen(token) : 0;
    bool visible = true;
    for (size_t i = 0; i < n; i++) {
        visible = visible && token[i] >= 0x21 && token[i] <= 0x7e;
    }
    if (n > HB_TOKEN_MAX || !visible) {
        snprintf(err, errlen, "token: expected 1 to %d visible ASCII characters", HB_TOKEN_MAX);
        return -1;
    }
    if (n > 0) {
        memcpy(client->token, token, n);
    }
    client->token[n] = 0;
    return 0;
}

static int set_trust(struct hb_client *client, const char *cacert, char *err, size_t errlen)
{
    ERR_clear_error();
    client->tls = SSL_CTX_new(TLS_client_method());
    if (client->tls == NULL ||
        SSL_CTX_set_min_proto_version(client->tls, TLS1_2_VERSION) != 1) {
        snprintf(err, errlen, "TLS: %s", tls_reason());
        return -1;
    }
    SSL_CTX_set_verify(client->tls, SSL_VERIFY_PEER, NULL);
    /* A node may close without close_notify; the answer's Content-Length still tells a
     * whole answer from a cut one (parse_answer). */
    SSL_CTX_set_options(client->tls, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (cacert == NULL) {
        if (SSL_CTX_set_default_verify_paths(client->tls) != 1) {
            snprintf(err, errlen, "the system's trust store: %s", tls_reason());
            return -1;
        }
        return 0;
    }
    FILE *f = fopen(cacert, "r");
    if (f == NULL) {
        snprintf(err, errlen, "CA file '%s': %s", cacert, strerror(errno));
        return -1;
    }
    fclose(f);
    if (SSL_CTX_load_verify_locations(client->tls, cacert, NULL) != 1) {
        snprintf(err, errlen, "CA file '%s': %s", cacert, tls_reason());
        return -1;
    }
    return 0;
}

int hb_client_new(const char *cacert,
                  const char *token,
                  struct hb_client **out,
                  char *err,
                  size_t errlen)
{
    struct hb_client *client = calloc(1, sizeof(*client));
    if (client == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    client->tls_by_default = cacert != NULL;
    if (set_token(client, token, err, errlen) != 0 ||
        set_trust(client, cacert, err, errlen) != 0) {
        hb_client_free(client);
        return -1;
    }
    *out = client;
    return 0;
}

void hb_client_timeout(struct hb_client *client, int ms)
{
    client->timeout_ms = ms;
}

void hb_client_free(struct hb_client *client)
{
    if (client != NULL) {
        SSL_CTX_free(client->tls);
        free(client);
    }
}

static int parse_endpoint(const struct hb_client *client,
                          const char *node,
                          struct endpoint *ep,
                          char *err,
                          size_t errlen)
{
    ep->tls = client != NULL && client->tls_by_default;
    ep->hostport = node;
    if (strncmp(node, "https://", 8) == 0) {
        ep->tls = true;
        ep->hostport = node + 8;
    } else if (strncmp(node, "http://", 7) == 0) {
        ep->tls = false;
        ep->hostport = node + 7;
    }
    const char *colon = strrchr(ep->hostport, ':');
    size_t n = colon != NULL ? (size_t)(colon - ep->hostport) : 0;
    if (colon == NULL || n == 0 || n >= sizeof(ep->host)) {
        snprintf(err, errlen, "node '%s': expected HOST:PORT", node);
        return -1;
    }
    bool bracketed = ep->hostport[0] == '[' && n > 2;
    memcpy(ep->host, ep->hostport + bracketed, n - 2 * bracketed);
    ep->host[n - 2 * bracketed] = 0;
    ep->port = colon + 1;
    if (ep->tls && client == NULL) {
        snprintf(err, errlen, "connect to '%s': TLS is not set up", node);
        return -1;
    }
    return 0;
}

static int dial(const struct endpoint *ep,
                int timeout_ms,
                const char *node,
                char *err,
                size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rv = getaddrinfo(ep->host, ep->port, &hints, &res);
    if (rv != 0) {
        snprintf(err, errlen, "resolve '%s': %s", node, gai_strerror(rv));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    struct timeval tv = {.tv_sec = TIMEOUT_S};
    if (timeout_ms > 0) {
        tv = (struct timeval){.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
    }
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        snprintf(err, errlen, "connect to '%s': %s", node, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Why a TLS call that returned ret failed, in words. */
static void tls_why(SSL *ssl, int ret, char *why, size_t len)
{
    int e = SSL_get_error(ssl, ret);
    long verified = SSL_get_verify_result(ssl);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
        (e == SSL_ERROR_SYSCALL && errno != 0)) {
        snprintf(why, len, "%s", strerror(errno)); /* the socket's timeout, as for plain HTTP */
    } else if (e == SSL_ERROR_SYSCALL) {
        snprintf(why, len, "the connection was closed");
    } else if (verified != X509_V_OK) {
        snprintf(why, len, "certificate verify failed (%s)",
                 X509_verify_cert_error_string(verified));
    } else {
        snprintf(why, len, "%s", tls_reason());
    }
    ERR_clear_error();
}

/* The TLS session over fd, with the node's certificate checked against the trusted CAs and
 * the endpoint's host (a name, or an IP literal); NULL with the reason in err. */
static SSL *tls_start(const struct hb_client *client,
                      const struct endpoint *ep,
                      int fd,
                      const char *node,
                      char *err,
                      size_t errlen)
{
    unsigned char ip[16];
    bool literal =
        inet_pton(AF_INET, ep->host, ip) == 1 || inet_pton(AF_INET6, ep->host, ip) == 1;
    ERR_clear_error();
    SSL *ssl = SSL_new(client->tls);
    bool set = ssl != NULL && SSL_set_fd(ssl, fd) == 1 &&
               (literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ep->host) == 1
                        : SSL_set1_host(ssl, ep->host) == 1 &&
                              SSL_set_tlsext_host_name(ssl, ep->host) == 1);
    if (!set) {
        snprintf(err, errlen, "connect to '%s': %s", node, tls_reason());
        ERR_clear_error();
        SSL_free(ssl);
        return NULL;
    }
    errno = 0;
    int ret = SSL_connect(ssl);
    if (ret != 1) {
        char why[160];
        tls_why(ssl, ret, why, sizeof(why));
        snprintf(err, errlen, "connect to '%s': %s", node, why);
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

static int conn_write(struct conn *c, const char *p, size_t n)
{
    while (n > 0) {
        size_t w = 0;
        errno = 0;
        if (c->tls != NULL) {
            int ret = SSL_write_ex(c->tls, p, n, &w);
            if (ret != 1) {
                tls_why(c->tls, ret, c->why, sizeof(c->why));
                return -1;
            }
        } else {
            ssize_t r = write(c->fd, p, n);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                snprintf(c->why, sizeof(c->why), "%s", strerror(errno));
                return -1;
            }
            w = (size_t)r;
        }
        p += w;
        n -= w;
    }
    return 0;
}

/* Bytes read into buf; 0 when the peer closed; -1 with c->why. */
static ssize_t conn_read(struct conn *c, char *buf, size_t n)
{
    errno = 0;
    if (c->tls != NULL) {
        size_t got = 0;
        int ret = SSL_read_ex(c->tls, buf, n, &got);
        if (ret == 1) {
            return (ssize_t)got;
        }
        if (SSL_get_error(c->tls, ret) == SSL_ERROR_ZERO_RETURN) {
            return 0;
        }
        tls_why(c->tls, ret, c->why, sizeof(c->why));
        return -1;
    }
    ssize_t r;
    do {
        r = read(c->fd, buf, n);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        snprintf(c->why, sizeof(c->why), "%s", strerror(errno));
    }
    return r;
}

static char *read_all(struct conn *c, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = conn_read(c, buf + n, cap - n - 1);
        if (r <= 0) {
            buf[n] = 0;
            *len = n;
            return r == 0 ? buf : (free(buf), NULL);
        }
        n += (size_t)r;
    }
    free(buf);
    snprintf(c->why, sizeof(c->why), "out of memory");
    return NULL;
}

/* The Content-Length header's value, or -1 without one. */
static long content_length(const char *raw, const char *eoh)
{
    for (const char *line = strstr(raw, "\r\n"); line != NULL && line < eoh;
         line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0) {
            return strtol(line + 17, NULL, 10);
        }
    }
    return -1;
}

/* Splits a whole answer into status and body (no chunked encoding: the server sends
 * Content-Length and closes when asked). */
static int parse_answer(char *raw, size_t len, struct hb_answer *out)
{
    char *eoh = strstr(raw, "\r\n\r\n");
    if (eoh == NULL || sscanf(raw, "HTTP/1.%*d %d", &out->status) != 1) {
        return -1;
    }
    size_t off = (size_t)(eoh + 4 - raw);
    long declared = content_length(raw, eoh);
    out->len = len - off;
    if (declared >= 0 && (size_t)declared > out->len) {
        return -1; /* cut short */
    }
    out->len = declared >= 0 ? (size_t)declared : out->len;
    out->body = malloc(out->len + 1);
    if (out->body == NULL) {
        return -1;
    }
    memcpy(out->body, raw + off, out->len);
    out->body[out->len] = 0;
    return 0;
}

/* Writes the request and reads the whole answer: 0, or HB_NO_ANSWER with c->why. */
static int exchange(struct conn *c,
                    const char *head,
                    size_t head_len,
                    const char *json_body,
                    struct hb_answer *out)
{
    size_t len = 0;
    char *raw = NULL;
    int rv = HB_NO_ANSWER;
    if (conn_write(c, head, head_len) == 0 &&
        conn_write(c, json_body ? json_body : "", json_body ? strlen(json_body) : 0) == 0 &&
        (raw = read_all(c, &len)) != NULL) {
        if (parse_answer(raw, len, out) == 0) {
            rv = 0;
        } else {
            snprintf(c->why, sizeof(c->why), "malformed");
        }
    }
    free(raw);
    return rv;
}

int hb_request(const struct hb_client *client,
               const char *node,
               const char *method,
               const char *path,
               const char *json_body,
               struct hb_answer *out,
               char *err,
               size_t errlen)
{
    char head[1024 + HB_TOKEN_MAX];
    struct endpoint ep;
    struct conn c = {.fd = -1};
    const char *token = client != NULL ? client->token : "";
    if (parse_endpoint(client, node, &ep, err, errlen) != 0) {
        return HB_NOT_SENT;
    }
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s%s%s"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     method, path, ep.hostport, *token ? "Authorization: Bearer " : "", token,
                     *token ? "\r\n" : "", json_body != NULL ? strlen(json_body) : 0);
    if (n < 0 || (size_t)n >= sizeof(head)) {
        snprintf(err, errlen, "%s %s on '%s': the request line is too long", method, path,
                 node);
        return HB_NOT_SENT;
    }
    if ((c.fd = dial(&ep, client != NULL ? client->timeout_ms : 0, node, err, errlen)) < 0) {
        return HB_NOT_SENT;
    }
    if (ep.tls && (c.tls = tls_start(client, &ep, c.fd, node, err, errlen)) == NULL) {
        close(c.fd);
        return HB_NOT_SENT;
    }
    int rv = exchange(&c, head, (size_t)n, json_body, out);
    if (rv != 0) {
        snprintf(err, errlen, "%s %s on '%s': no answer (%s)", method, path, node, c.why);
    }
    SSL_free(c.tls);
    close(c.fd);
    return rv;
}

void hb_answer_free(struct hb_answer *a)
{
    free(a->body);
    a->body = NULL;
}

void hb_endpoint_like(const char *node, const char *addr, char *out, size_t len)
{
    const char *scheme = strncmp(node, "https://", 8) == 0  ? "https://"
                         : strncmp(node, "http://", 7) == 0 ? "http://"
                                                            : "";
    snprintf(out, len, "%s%s", strstr(addr, "://") != NULL ? "" : scheme, addr);
}
