/* Certificates for tests that run TLS: made once per test program with ops/make-certs (the
 * script ops/demo and the integration tests use) under a scratch directory. */
#ifndef CD_TESTS_TLS_FIXTURE_H
#define CD_TESTS_TLS_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

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

/* dir/name.ext into out; "" when it does not fit (opening it then fails, as it should). */
static inline const char *test_cert_path(char *out,
                                         size_t cap,
                                         const char *dir,
                                         const char *name,
                                         const char *ext)
{
    int n = snprintf(out, cap, "%s/%s.%s", dir, name, ext);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
    }
    return out;
}

#endif
