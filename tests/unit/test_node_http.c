/* node: the HTTP listener adapters share. Adapters mount handlers on path prefixes from
 * their start(); a request goes to the longest prefix that matches, a path none matches
 * gets 404 NOTFOUND, and the listener opens only once every adapter has started. A real
 * single-node cluster in a scratch directory, asked over HTTP by the module's client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "config/config.h"
#include "node/node.h"
#include "tests/unit/node_fixture.h"
#include "tests/unit/tmpdir.h"

struct fixture
{
    uv_loop_t loop;
    char dir[PATH_MAX];
    struct config_node config;
    struct node *node;
    struct http_client *client;
    int status;
    char body[512];
    bool answered;
    bool stopped;
    int mount_rc[8]; /* what the adapter's mounts returned, in order */
    uv_tcp_t other;  /* a socket holding the API address */
};

/* Each mount answers with its name and the path it saw. */
static void mount_a(void *data, struct http_exchange *x, const struct http_request *req)
{
    char text[256];
    snprintf(text, sizeof(text), "%s %s", (const char *)data, req->path);
    http_reply(x, 200, "text/plain", text, strlen(text));
}

static int mounting_start(void *self, struct node *n, char *err, size_t errlen)
{
    struct fixture *f = self;
    (void)err;
    (void)errlen;
    f->mount_rc[0] = node_http_mount(n, "/a/", mount_a, "a");
    f->mount_rc[1] = node_http_mount(n, "/a/b/", mount_a, "ab");
    f->mount_rc[2] = node_http_mount(n, "/exact", mount_a, "exact");
    f->mount_rc[3] = node_http_mount(n, "/a/", mount_a, "again");
    f->mount_rc[4] = node_http_mount(n, "no-slash/", mount_a, "x");
    f->mount_rc[5] = node_http_mount(n, "/with space/", mount_a, "x");
    f->mount_rc[6] = node_http_mount(n, "/q?x", mount_a, "x");
    assert_non_null(node_http_server(n));
    return 0;
}

static void mounting_close(void *self, void (*done)(void *), void *arg)
{
    (void)self;
    done(arg);
}

static const struct node_adapter_ops MOUNTING_OPS = {
    .name = "mounting",
    .start = mounting_start,
    .close = mounting_close,
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

static void on_stopped(void *data)
{
    struct fixture *f = data;
    f->stopped = true;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->client != NULL) {
        http_client_close(f->client);
    }
    node_stop(f->node, on_stopped, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->stopped);
    node_free(f->node);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rm_tree(f->dir);
    free(f);
    return 0;
}

static void answered(void *data, const struct http_response *res)
{
    struct fixture *f = data;
    f->status = res->status;
    snprintf(f->body, sizeof(f->body), "%.*s", (int)res->body_len, res->body);
    f->answered = true;
}

static bool is_answered(void *arg)
{
    return ((struct fixture *)arg)->answered;
}

/* GET target; the status, the body in f->body. */
static int get(struct fixture *f, const char *target)
{
    f->answered = false;
    assert_int_equal(
        http_client_request(f->client, "GET", target, NULL, NULL, 0, 0, answered, f), 0);
    nf_run_until(&f->loop, is_answered, f);
    return f->status;
}

static void start(struct fixture *f)
{
    char err[512];
    assert_int_equal(node_add(f->node, &MOUNTING_OPS, f), 0);
    if (node_start(f->node, err, sizeof(err)) != 0) {
        fail_msg("start: %s", err);
    }
    assert_int_equal(
        http_client_new(&f->loop, "127.0.0.1", f->config.api_listen.port, 1, &f->client), 0);
}

static void the_longest_prefix_wins(void **state)
{
    struct fixture *f = *state;

    start(f);
    assert_int_equal(get(f, "/a/x"), 200);
    assert_string_equal(f->body, "a /a/x");
    assert_int_equal(get(f, "/a/b/c?q=1"), 200);
    assert_string_equal(f->body, "ab /a/b/c");
    /* "/a/b/" is a prefix ending in '/': "/a/b" is not under it, but is under "/a/". */
    assert_int_equal(get(f, "/a/b"), 200);
    assert_string_equal(f->body, "a /a/b");
    assert_int_equal(get(f, "/a/"), 200);
    assert_string_equal(f->body, "a /a/");
    /* The decoded path is what is matched. */
    assert_int_equal(get(f, "/a%2Fb%2Fz"), 200);
    assert_string_equal(f->body, "ab /a/b/z");
    assert_int_equal(get(f, "/exact"), 200);
    assert_string_equal(f->body, "exact /exact");
}

static void an_unmatched_path_is_404(void **state)
{
    struct fixture *f = *state;

    start(f);
    const char *paths[] = {"/", "/a", "/exact/", "/exact/more", "/exactly", "/b/"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        assert_int_equal(get(f, paths[i]), 404);
        assert_non_null(strstr(f->body, "\"code\":\"NOTFOUND\""));
        assert_non_null(strstr(f->body, "no such endpoint"));
    }
}

static void bad_mounts_are_refused(void **state)
{
    struct fixture *f = *state;
    /* Before the start, and after it, nothing may be mounted. */
    assert_int_equal(node_http_mount(f->node, "/late/", mount_a, "late"), CD_ESTATE);
    assert_null(node_http_server(f->node));
    start(f);
    assert_int_equal(f->mount_rc[0], 0);
    assert_int_equal(f->mount_rc[1], 0);
    assert_int_equal(f->mount_rc[2], 0);
    assert_int_equal(f->mount_rc[3], CD_EINVAL); /* mounted already */
    assert_int_equal(f->mount_rc[4], CD_EINVAL);
    assert_int_equal(f->mount_rc[5], CD_EINVAL);
    assert_int_equal(f->mount_rc[6], CD_EINVAL);
    assert_int_equal(node_http_mount(f->node, "/late/", mount_a, "late"), CD_ESTATE);
    assert_int_equal(get(f, "/late/x"), 404);
}

static void a_node_without_mounts_listens_nowhere(void **state)
{
    struct fixture *f = *state;
    char err[512];

    assert_int_equal(node_start(f->node, err, sizeof(err)), 0);
    assert_null(node_http_server(f->node));
}

/* Another socket holds the API address: the start fails, naming it. */
static void a_taken_address_fails_the_start(void **state)
{
    struct fixture *f = *state;
    char err[512];
    uv_tcp_t *other = &f->other;
    struct sockaddr_in addr;

    uv_tcp_init(&f->loop, other);
    uv_ip4_addr("127.0.0.1", f->config.api_listen.port, &addr);
    assert_int_equal(uv_tcp_bind(other, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)other, 1, NULL), 0);
    assert_int_equal(node_add(f->node, &MOUNTING_OPS, f), 0);
    assert_int_equal(node_start(f->node, err, sizeof(err)), CD_EIO);
    assert_non_null(strstr(err, "listen on '127.0.0.1:"));
    uv_close((uv_handle_t *)other, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_longest_prefix_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(an_unmatched_path_is_404, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_mounts_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_node_without_mounts_listens_nowhere, setup, teardown),
        cmocka_unit_test_setup_teardown(a_taken_address_fails_the_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
