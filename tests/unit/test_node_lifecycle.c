/* node: the composition root starts adapters in registration order once the cluster exists,
 * closes them in reverse order (waiting for each one's callback), then closes the cluster and
 * frees every adapter; a failing start closes only the adapters started before it. A real
 * single-node cluster (raft_uv, LMDB) in a scratch directory, with recording adapters. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "config/config.h"
#include "node/node.h"
#include "tests/unit/node_fixture.h"
#include "tests/unit/tls_fixture.h"

struct fixture
{
    uv_loop_t loop;
    char dir[PATH_MAX];
    struct config_node config;
    struct node *node;
    char trace[512];
    int stopped;
};

struct fake
{
    struct fixture *f;
    const char *name;
    int fail_start;   /* start returns this */
    bool async_close; /* close answers from a timer, not from inside */
    uv_timer_t timer;
    void (*done)(void *);
    void *arg;
};

static void note(struct fixture *f, const char *name, const char *what)
{
    size_t len = strlen(f->trace);
    snprintf(f->trace + len, sizeof(f->trace) - len, "%s%s.%s", len ? " " : "", name, what);
}

static int fake_start(void *self, struct node *n, char *err, size_t errlen)
{
    struct fake *a = self;
    note(a->f, a->name, "start");
    assert_non_null(node_cluster(n)); /* created before any adapter starts */
    if (a->fail_start != 0) {
        snprintf(err, errlen, "cannot bind");
    }
    return a->fail_start;
}

static void timer_closed(uv_handle_t *h)
{
    struct fake *a = h->data;
    a->done(a->arg);
}

static void fake_timer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, timer_closed);
}

static void fake_close(void *self, void (*done)(void *), void *arg)
{
    struct fake *a = self;
    note(a->f, a->name, "close");
    a->done = done;
    a->arg = arg;
    if (a->async_close) {
        uv_timer_init(&a->f->loop, &a->timer);
        a->timer.data = a;
        uv_timer_start(&a->timer, fake_timer, 20, 0);
    } else {
        done(arg);
    }
}

static void fake_free(void *self)
{
    struct fake *a = self;
    note(a->f, a->name, "free");
}

static const struct node_adapter_ops FAKE_OPS = {
    .name = "fake",
    .start = fake_start,
    .close = fake_close,
    .free = fake_free,
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[512];
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    nf_config(f->dir, &f->config);
    struct node_options opt = {.config = &f->config, .boot_id = "test-boot"};
    assert_int_equal(node_new(&f->loop, &opt, &f->node, err, sizeof(err)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    node_free(f->node);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rm_tree(f->dir);
    free(f);
    return 0;
}

static void on_stopped(void *data)
{
    struct fixture *f = data;
    f->stopped++;
}

static void stop(struct fixture *f)
{
    node_stop(f->node, on_stopped, f);
    node_stop(f->node, on_stopped, f); /* a second stop changes nothing */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->stopped, 1);
}

static void adapters_start_in_order_and_close_in_reverse(void **state)
{
    struct fixture *f = *state;
    struct fake a = {.f = f, .name = "a", .async_close = true};
    struct fake b = {.f = f, .name = "b"};
    char err[512];
    assert_int_equal(node_add(f->node, &FAKE_OPS, &a), 0);
    assert_int_equal(node_add(f->node, &FAKE_OPS, &b), 0);
    if (node_start(f->node, err, sizeof(err)) != 0) {
        fail_msg("start: %s", err);
    }
    assert_string_equal(f->trace, "a.start b.start");
    assert_int_equal(node_add(f->node, &FAKE_OPS, &b), CD_ESTATE);
    assert_int_equal(node_start(f->node, err, sizeof(err)), CD_ESTATE);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    stop(f);
    /* b closes at once, a from a timer; the cluster closes after both, then both are freed */
    assert_string_equal(f->trace, "a.start b.start b.close a.close a.free b.free");
    assert_null(node_cluster(f->node));
}

static void a_failing_start_closes_only_what_started(void **state)
{
    struct fixture *f = *state;
    struct fake a = {.f = f, .name = "a"};
    struct fake b = {.f = f, .name = "b", .fail_start = CD_EIO};
    struct fake c = {.f = f, .name = "c"};
    char err[512];
    assert_int_equal(node_add(f->node, &FAKE_OPS, &a), 0);
    assert_int_equal(node_add(f->node, &FAKE_OPS, &b), 0);
    assert_int_equal(node_add(f->node, &FAKE_OPS, &c), 0);
    assert_int_equal(node_start(f->node, err, sizeof(err)), CD_EIO);
    assert_string_equal(err, "fake: cannot bind");
    assert_string_equal(f->trace, "a.start b.start");
    stop(f);
    assert_string_equal(f->trace, "a.start b.start a.close a.free b.free c.free");
}

static void a_node_never_started_frees_its_adapters(void **state)
{
    struct fixture *f = *state;
    struct fake a = {.f = f, .name = "a"};
    assert_int_equal(node_add(f->node, &FAKE_OPS, &a), 0);
    stop(f);
    assert_string_equal(f->trace, "a.free");
}

/* A node whose certificate names another member is refused before anything starts: the
 * others would refuse it anyway, member by member. With its own certificate it starts with
 * its three contexts. */
static void a_node_needs_a_certificate_naming_it(void **state)
{
    struct fixture *f = *state;
    struct fake a = {.f = f, .name = "a"};
    struct node_options opt = {.config = &f->config};
    struct test_certs certs;
    char err[512];
    assert_int_equal(test_certs_make(&certs, "node"), 0);
    node_free(f->node);
    f->config.has_tls = true;
    f->config.insecure = false;
    test_cert_path(f->config.tls.cert, sizeof(f->config.tls.cert), certs.dir, "n2", "crt");
    test_cert_path(f->config.tls.key, sizeof(f->config.tls.key), certs.dir, "n2", "key");
    test_cert_path(f->config.tls.ca, sizeof(f->config.tls.ca), certs.dir, "ca", "crt");
    assert_int_equal(node_new(&f->loop, &opt, &f->node, err, sizeof(err)), 0);
    assert_int_equal(node_add(f->node, &FAKE_OPS, &a), 0);
    assert_int_equal(node_start(f->node, err, sizeof(err)), CD_EINVAL);
    assert_non_null(strstr(err, "does not name this node's id 'n1'"));
    stop(f);
    assert_string_equal(f->trace, "a.free");

    /* n1's certificate with n2's key. */
    f->trace[0] = 0;
    test_cert_path(f->config.tls.cert, sizeof(f->config.tls.cert), certs.dir, "n1", "crt");
    node_free(f->node);
    assert_int_equal(node_new(&f->loop, &opt, &f->node, err, sizeof(err)), 0);
    assert_int_equal(node_start(f->node, err, sizeof(err)), CD_EINVAL);
    assert_non_null(strstr(err, "does not match the certificate"));

    test_cert_path(f->config.tls.key, sizeof(f->config.tls.key), certs.dir, "n1", "key");
    node_free(f->node);
    assert_int_equal(node_new(&f->loop, &opt, &f->node, err, sizeof(err)), 0);
    assert_int_equal(node_start(f->node, err, sizeof(err)), 0);
    for (int k = 0; k < NODE_TLS_KINDS; k++) {
        assert_non_null(node_tls(f->node, (enum node_tls_kind)k));
    }
    assert_int_equal(node_reload_tls(f->node, err, sizeof(err)), 0);
    f->stopped = 0;
    stop(f);
    test_certs_remove(&certs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(adapters_start_in_order_and_close_in_reverse, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_failing_start_closes_only_what_started, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_node_never_started_frees_its_adapters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_node_needs_a_certificate_naming_it, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
