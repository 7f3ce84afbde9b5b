/* Certificates for tests that run TLS: made once per test program with ops/make-certs (the
 * script ops/demo and the integration tests use) under a scratch directory. */
#ifndef CD_TESTS_TLS_FIXTURE_H
#define CD_TESTS_TLS_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "net/net.h"
#include "tests/unit/tmpdir.h"

struct test_certs
{
    char dir[PATH_MAX];   /* ca.crt, n1, n2 and n3's .crt and .key */
    char other[PATH_MAX]; /* another CA, and an n1 it signed */
};

/* Makes the certificates; returns 0, or -1 when the openssl command failed. */
static inline int test_certs_make(struct test_certs *c, const char *tag)
{
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char cmd[3 * PATH_MAX];

    snprintf(c->dir, sizeof(c->dir), "%s/cd-%s-%d-certs", tmp, tag, (int)getpid());
    snprintf(c->other, sizeof(c->other), "%s/cd-%s-%d-other", tmp, tag, (int)getpid());
    rm_tree(c->dir);
    rm_tree(c->other);
    snprintf(cmd, sizeof(cmd),
             "'%s/ops/make-certs' '%s' n1 n2 n3 && '%s/ops/make-certs' '%s' n1", CD_SOURCE_DIR,
             c->dir, CD_SOURCE_DIR, c->other);
    return system(cmd) == 0 ? 0 : -1;
}

static inline void test_certs_remove(struct test_certs *c)
{
    rm_tree(c->dir);
    rm_tree(c->other);
}

/* dir/name.ext into out. */
static inline const char *test_cert_path(char *out,
                                         size_t cap,
                                         const char *dir,
                                         const char *name,
                                         const char *ext)
{
    int n = snprintf(out, cap, "%s/%s.%s", dir, name, ext);
    if (n < 0 || (size_t)n >= cap) {
        abort(); /* a scratch path this long is a broken test machine */
    }
    return out;
}

/* A TLS context from dir: name's certificate and key (NULL: none, a client without one) and
 * dir's CA; NULL, with the reason on stderr, when it does not load. */
static inline struct net_tls *test_tls(const char *dir,
                                       const char *name,
                                       bool server,
                                       bool mutual)
{
    char crt[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], err[256];
    struct net_tls_options o = {
        .cert = name != NULL ? test_cert_path(crt, sizeof(crt), dir, name, "crt") : NULL,
        .key = name != NULL ? test_cert_path(key, sizeof(key), dir, name, "key") : NULL,
        .ca = test_cert_path(ca, sizeof(ca), dir, "ca", "crt"),
        .server = server,
        .require_client_cert = mutual,
    };
    struct net_tls *t = NULL;
    if (net_tls_new(&o, &t, err, sizeof(err)) != 0) {
        fprintf(stderr, "net_tls_new: %s\n", err);
        return NULL;
    }
    return t;
}

/* Defines `tls_certs` and cmocka group setup and teardown functions that make and remove
 * them, for a test program whose every test uses the same certificates. */
#define TLS_CERTS_GROUP                             \
    static struct test_certs tls_certs;             \
    static int tls_certs_setup(void **state)        \
    {                                               \
        (void)state;                                \
        return test_certs_make(&tls_certs, "unit"); \
    }                                               \
    static int tls_certs_teardown(void **state)     \
    {                                               \
        (void)state;                                \
        test_certs_remove(&tls_certs);              \
        return 0;                                   \
    }

#endif
