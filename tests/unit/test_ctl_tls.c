/* contactctl over TLS (ops/contactctl/http_blocking.c): a node must prove itself with a
 * certificate from the CA contactctl trusts, for the host the endpoint names; one that does
 * not saw nothing of the request, so even a change moves on to the next node. Every request
 * carries the bearer token; a 401 says how to give one. The certificates are made for the
 * test by the openssl command; scripted nodes on 127.0.0.1, TLS or plain, record what they
 * were sent. */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "ops/contactctl/ctl.h"
#include "ops/contactctl/http_blocking.h"
#include "tests/unit/tmpdir.h"

/* ---- Certificates ---------------------------------------------------------------------- */

/* In one scratch directory, made once for the file: ca and other-ca (two unrelated CAs),
 * node (from ca, for IP 127.0.0.1 and localhost) and elsewhere (from ca, for another name
 * and address). */
static char pki[PATH_MAX / 2];

static const char *pki_file(char *buf, const char *name)
{
    snprintf(buf, PATH_MAX, "%s/%s", pki, name);
    return buf;
}

static int openssl(const char *args)
{
    char cmd[4 * PATH_MAX];
    snprintf(cmd, sizeof(cmd), "cd '%s' && openssl %s >/dev/null 2>&1", pki, args);
    return system(cmd);
}

#define EC_KEY_ARGS "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

static int make_ca(const char *name)
{
    char args[512];
    snprintf(args, sizeof(args),
             "req -x509 " EC_KEY_ARGS " -days 2 -subj /CN=%s -keyout %s.key -out %s.pem", name,
             name, name);
    return openssl(args);
}

static int make_leaf(const char *name, const char *ca, const char *san)
{
    char args[512];
    snprintf(args, sizeof(args),
             "req -new " EC_KEY_ARGS
             " -subj /CN=%s -addext subjectAltName=%s -keyout %s.key "
             "-out %s.csr",
             name, san, name, name);
    if (openssl(args) != 0) {
        return -1;
    }
    snprintf(args, sizeof(args),
             "x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -days 2 "
             "-copy_extensions copy -out %s.pem",
             name, ca, ca, name);
    return openssl(args);
}

static int make_pki(void **state)
{
    (void)state;
    snprintf(pki, sizeof(pki), "%s/contactd-ctl-tls-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(pki) == NULL || make_ca("ca") != 0 || make_ca("other-ca") != 0 ||
        make_leaf("node", "ca", "IP:127.0.0.1,DNS:localhost") != 0 ||
        make_leaf("elsewhere", "ca", "DNS:elsewhere.example,IP:10.9.9.9") != 0) {
        print_error("cannot make the test certificates in '%s' with openssl\n", pki);
        return -1;
    }
    return 0;
}

static int remove_pki(void **state)
{
    (void)state;
    rm_tree(pki);
    return 0;
}

/* ---- Scripted nodes -------------------------------------------------------------------- */

struct node
{
    int fd;
    uint16_t port;
    SSL_CTX *tls;         /* NULL: plain HTTP */
    bool no_close_notify; /* closes the TCP connection under the TLS session */
    const char *reply;    /* sent whole to every request */
    char request[8192];   /* the last request, as received */
    atomic_int requests;  /* whole requests received */
    atomic_int stop;
    pthread_t thread;
};

/* Reads one whole request (headers, then Content-Length bytes) into n->request. */
static bool read_request(struct node *n, int c, SSL *ssl)
{
    size_t len = 0;
    char *end = NULL;
    long want = -1;
    while (len + 1 < sizeof(n->request)) {
        ssize_t r = ssl != NULL
                        ? SSL_read(ssl, n->request + len, (int)(sizeof(n->request) - len - 1))
                        : read(c, n->request + len, sizeof(n->request) - len - 1);
        if (r <= 0) {
            return false;
        }
        len += (size_t)r;
        n->request[len] = 0;
        if (end == NULL && (end = strstr(n->request, "\r\n\r\n")) != NULL) {
            const char *cl = strstr(n->request, "Content-Length: ");
            want = (long)(end + 4 - n->request) + (cl != NULL ? atol(cl + 16) : 0);
        }
        if (end != NULL && (long)len >= want) {
            return true;
        }
    }
    return false;
}

static void answer(struct node *n, int c)
{
    struct timeval tv = {.tv_sec = 5}; /* a client that went quiet does not hold the node */
    SSL *ssl = NULL;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (n->tls != NULL) {
        ssl = SSL_new(n->tls);
        if (ssl == NULL || SSL_set_fd(ssl, c) != 1 || SSL_accept(ssl) != 1) {
            SSL_free(ssl); /* the client refused the certificate */
            return;
        }
    }
    if (read_request(n, c, ssl)) {
        n->requests++;
        int len = (int)strlen(n->reply);
        if (ssl != NULL) {
            SSL_write(ssl, n->reply, len);
        } else if (write(c, n->reply, (size_t)len) < 0) {
            perror("node write");
        }
    }
    if (ssl != NULL && !n->no_close_notify) {
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
}

static void *serve(void *arg)
{
    struct node *n = arg;
    while (!n->stop) {
        int c = accept(n->fd, NULL, NULL);
        if (c >= 0) {
            answer(n, c);
            close(c);
        }
    }
    return NULL;
}

/* A node on 127.0.0.1 answering reply to every request; over TLS with the certificate cert
 * (a name from the PKI) when cert is not NULL. */
static void node_start(struct node *n, const char *cert, const char *reply)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    struct timeval tv = {.tv_usec = 100000};
    char file[PATH_MAX], name[64];
    n->reply = reply;
    if (cert != NULL) {
        n->tls = SSL_CTX_new(TLS_server_method());
        assert_non_null(n->tls);
        snprintf(name, sizeof(name), "%s.pem", cert);
        assert_int_equal(
            SSL_CTX_use_certificate_file(n->tls, pki_file(file, name), SSL_FILETYPE_PEM), 1);
        snprintf(name, sizeof(name), "%s.key", cert);
        assert_int_equal(
            SSL_CTX_use_PrivateKey_file(n->tls, pki_file(file, name), SSL_FILETYPE_PEM), 1);
    }
    n->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(n->fd >= 0);
    setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)); /* accept wakes to see stop */
    assert_int_equal(bind(n->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(n->fd, (struct sockaddr *)&a, &len), 0);
    assert_int_equal(listen(n->fd, 8), 0);
    n->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&n->thread, NULL, serve, n), 0);
}

static void node_stop(struct node *n)
{
    if (n->reply != NULL) {
        n->stop = 1;
        pthread_join(n->thread, NULL);
        close(n->fd);
        SSL_CTX_free(n->tls);
        n->reply = NULL;
    }
}

/* ---- Fixture --------------------------------------------------------------------------- */

struct fixture
{
    struct node a, b;
    struct hb_client *client;
    struct ctl ctl;
    char err[512];
    char said[4096]; /* what ctl_call printed on stderr */
};

static const char *const OK_200 =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 2\r\n\r\n{}";
static const char *const CUT_200 =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 40\r\n\r\n{\"items\":[";
static const char *const NO_TOKEN_401 =
    "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 72\r\n\r\n"
    "{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":\"a bearer token is required\"}}";
static const char *const FORBIDDEN_403 =
    "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 66\r\n\r\n"
    "{\"error\":{\"code\":\"FORBIDDEN\",\"message\":\"the token may only read\"}}";

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    node_stop(&f->a);
    node_stop(&f->b);
    hb_client_free(f->client);
    free(f);
    return 0;
}

/* contactctl trusts the PKI's CA named ca (NULL: the system's store) and sends token. */
#define CLIENT(ca, token)                                                                   \
    do {                                                                                    \
        char file_[PATH_MAX], name_[64];                                                    \
        snprintf(name_, sizeof(name_), "%s.pem", (ca) != NULL ? (const char *)(ca) : "");   \
        assert_int_equal(hb_client_new((ca) != NULL ? pki_file(file_, name_) : NULL, token, \
                                       &f->client, f->err, sizeof(f->err)),                 \
                         0);                                                                \
        f->ctl.http = f->client;                                                            \
    } while (0)

/* The ctl's endpoints: printf-style, one per call. */
static void endpoint(struct fixture *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->ctl.endpoints[f->ctl.n_endpoints++], CTL_ADDR_MAX, fmt, ap);
    va_end(ap);
}

/* ctl_call with what it prints on stderr kept in f->said. */
static int call(struct fixture *f, const char *method)
{
    json_t *doc = NULL;
    FILE *said = tmpfile();
    assert_non_null(said);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0 && dup2(fileno(said), STDERR_FILENO) >= 0);
    int rv = ctl_call(&f->ctl, method, "/v1/agents/a1", "{\"site\":\"x\"}", &doc);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(said);
    f->said[fread(f->said, 1, sizeof(f->said) - 1, said)] = 0;
    fclose(said);
    json_decref(doc);
    return rv;
}

/* hb_request to node's address with the scheme given; its answer freed. */
static int request(struct fixture *f, const char *scheme, const struct node *n)
{
    struct hb_answer ans;
    char node[64];
    snprintf(node, sizeof(node), "%s127.0.0.1:%u", scheme, n->port);
    int rv =
        hb_request(f->client, node, "GET", "/v1/cluster", NULL, &ans, f->err, sizeof(f->err));
    if (rv == 0) {
        hb_answer_free(&ans);
    }
    return rv;
}

#define ASSERT_HAS(text, part)                                                             \
    do {                                                                                   \
        if (strstr((text), (part)) == NULL) {                                              \
            fail_msg("expected '%s' in '%s'", (const char *)(part), (const char *)(text)); \
        }                                                                                  \
    } while (0)

/* ---- Tests ----------------------------------------------------------------------------- */

static void a_request_over_https_carries_the_token(void **state)
{
    struct fixture *f = *state;
    node_start(&f->a, "node", OK_200);
    CLIENT("ca", "s3cret-token");
    endpoint(f, "https://127.0.0.1:%u", f->a.port);
    assert_int_equal(call(f, "PUT"), CTL_OK);
    assert_int_equal(f->a.requests, 1);
    ASSERT_HAS(f->a.request, "PUT /v1/agents/a1 HTTP/1.1\r\n");
    ASSERT_HAS(f->a.request, "\r\nHost: 127.0.0.1:");
    ASSERT_HAS(f->a.request, "\r\nAuthorization: Bearer s3cret-token\r\n");
    ASSERT_HAS(f->a.request, "\r\n\r\n{\"site\":\"x\"}");
}

static void a_bare_endpoint_speaks_tls_when_a_ca_is_given(void **state)
{
    struct fixture *f = *state;
    node_start(&f->a, "node", OK_200);
    CLIENT("ca", NULL);
    endpoint(f, "127.0.0.1:%u", f->a.port);
    assert_int_equal(call(f, "GET"), CTL_OK);
    assert_int_equal(f->a.requests, 1);
    assert_null(strstr(f->a.request, "Authorization"));
}

static void a_node_from_another_ca_saw_nothing_and_the_next_is_tried(void **state)
{
    struct fixture *f = *state;
    char want[128];
    node_start(&f->a, "node", OK_200);
    node_start(&f->b, NULL, OK_200);
    CLIENT("other-ca", "t");
    assert_int_equal(request(f, "https://", &f->a), HB_NOT_SENT);
    snprintf(want, sizeof(want),
             "connect to 'https://127.0.0.1:%u': certificate verify failed (unable to get "
             "local issuer certificate)",
             f->a.port);
    assert_string_equal(f->err, want);

    endpoint(f, "https://127.0.0.1:%u", f->a.port);
    endpoint(f, "http://127.0.0.1:%u", f->b.port);
    assert_int_equal(call(f, "POST"), CTL_OK); /* a change, sent once: to b */
    assert_int_equal(f->a.requests, 0);
    assert_int_equal(f->b.requests, 1);
    ASSERT_HAS(f->b.request, "\r\nAuthorization: Bearer t\r\n");
}

static void a_certificate_for_another_name_is_refused(void **state)
{
    struct fixture *f = *state;
    node_start(&f->a, "elsewhere", OK_200);
    CLIENT("ca", NULL);
    assert_int_equal(request(f, "https://", &f->a), HB_NOT_SENT);
    ASSERT_HAS(f->err, "': certificate verify failed (IP address mismatch)");
    endpoint(f, "https://127.0.0.1:%u", f->a.port);
    assert_int_equal(call(f, "POST"), CTL_UNREACHABLE);
    ASSERT_HAS(f->said, "no node answered (connect to 'https://127.0.0.1:");
    assert_int_equal(f->a.requests, 0);
}

static void plain_http_still_works(void **state)
{
    struct fixture *f = *state;
    node_start(&f->b, NULL, OK_200);
    assert_int_equal(request(f, "", &f->b), 0); /* no client: plain, no token */
    assert_null(strstr(f->b.request, "Authorization"));
    CLIENT(NULL, "t0k");
    assert_int_equal(request(f, "http://", &f->b), 0);
    assert_int_equal(request(f, "", &f->b), 0); /* bare, without a CA file */
    assert_int_equal(f->b.requests, 3);
    ASSERT_HAS(f->b.request, "\r\nAuthorization: Bearer t0k\r\n");
}

static void a_401_prints_the_error_and_the_hint_a_403_the_error(void **state)
{
    struct fixture *f = *state;
    node_start(&f->a, "node", NO_TOKEN_401);
    node_start(&f->b, NULL, FORBIDDEN_403);
    f->a.no_close_notify = true;
    CLIENT("ca", NULL);
    endpoint(f, "https://127.0.0.1:%u", f->a.port);
    endpoint(f, "http://127.0.0.1:%u", f->b.port);
    assert_int_equal(call(f, "GET"), CTL_REFUSED);
    assert_string_equal(f->said,
                        "contactctl: UNAUTHORIZED: a bearer token is required (set "
                        "CONTACTD_TOKEN or --token-file)\n");
    assert_int_equal(f->b.requests, 0); /* a refusal is not passed over */

    f->ctl.current = 1;
    assert_int_equal(call(f, "GET"), CTL_REFUSED);
    assert_string_equal(f->said, "contactctl: FORBIDDEN: the token may only read\n");
}

static void an_answer_cut_short_is_no_answer(void **state)
{
    struct fixture *f = *state;
    node_start(&f->a, "node", CUT_200);
    f->a.no_close_notify = true; /* the TCP close alone cannot say the answer is whole */
    CLIENT("ca", NULL);
    assert_int_equal(request(f, "https://", &f->a), HB_NO_ANSWER);
    ASSERT_HAS(f->err, "GET /v1/cluster on 'https://127.0.0.1:");
    ASSERT_HAS(f->err, "': no answer (malformed)");
    assert_int_equal(f->a.requests, 1);
}

static void endpoints_name_members_the_way_they_were_reached(void **state)
{
    char out[CTL_ADDR_MAX];
    (void)state;
    hb_endpoint_like("https://10.0.0.1:8081", "10.0.0.2:8082", out, sizeof(out));
    assert_string_equal(out, "https://10.0.0.2:8082");
    hb_endpoint_like("http://10.0.0.1:8081", "10.0.0.2:8082", out, sizeof(out));
    assert_string_equal(out, "http://10.0.0.2:8082");
    hb_endpoint_like("10.0.0.1:8081", "10.0.0.2:8082", out, sizeof(out));
    assert_string_equal(out, "10.0.0.2:8082");
    hb_endpoint_like("http://10.0.0.1:8081", "https://10.0.0.2:8082", out, sizeof(out));
    assert_string_equal(out, "https://10.0.0.2:8082");
}

static void a_bad_ca_file_or_token_is_said(void **state)
{
    struct fixture *f = *state;
    char file[PATH_MAX];
    assert_int_equal(
        hb_client_new(pki_file(file, "missing.pem"), NULL, &f->client, f->err, sizeof(f->err)),
        -1);
    ASSERT_HAS(f->err, "missing.pem': No such file or directory");
    assert_int_equal(
        hb_client_new(pki_file(file, "node.csr"), NULL, &f->client, f->err, sizeof(f->err)),
        -1);
    ASSERT_HAS(f->err, "CA file '");
    assert_int_equal(hb_client_new(NULL, "two words", &f->client, f->err, sizeof(f->err)), -1);
    ASSERT_HAS(f->err, "token: expected 1 to 4096 visible ASCII characters");
    assert_null(f->client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_request_over_https_carries_the_token, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_bare_endpoint_speaks_tls_when_a_ca_is_given, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            a_node_from_another_ca_saw_nothing_and_the_next_is_tried, setup, teardown),
        cmocka_unit_test_setup_teardown(a_certificate_for_another_name_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(plain_http_still_works, setup, teardown),
        cmocka_unit_test_setup_teardown(a_401_prints_the_error_and_the_hint_a_403_the_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(an_answer_cut_short_is_no_answer, setup, teardown),
        cmocka_unit_test(endpoints_name_members_the_way_they_were_reached),
        cmocka_unit_test_setup_teardown(a_bad_ca_file_or_token_is_said, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN); /* a node writing to a client that gave up */
    return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
