/* cluster: a node whose stored Raft configuration names a member in a form this version does
 * not read (the "raft|api|id" of versions before the peer channel) refuses to start, saying
 * why, instead of running unable to forward to or watch that member. A real raft_uv data
 * directory, bootstrapped here as an older version would have left it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <raft.h>
#include <raft/uv.h>

#include "cluster/internal.h"
#include "common/error.h"
#include "tests/unit/tmpdir.h"

struct fixture
{
    uv_loop_t loop;
    char dir[PATH_MAX];
    struct config_node config;
    bool closed;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char text[PATH_MAX + 512], err[512];
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    snprintf(f->dir, sizeof(f->dir), "%s/contactd-stored-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    /* Ports nothing listens on: the node never gets as far as listening. */
    snprintf(
        text, sizeof(text),
        "id: n1\n"
        "listen: { api: \"127.0.0.1:1\", raft: \"127.0.0.1:2\", peer: \"127.0.0.1:3\" }\n"
        "data_dir: %s/data\n"
        "insecure: true\n"
        "peers:\n"
        "  - { id: n1, raft: \"127.0.0.1:2\", api: \"127.0.0.1:1\", peer: \"127.0.0.1:3\" }\n"
        "log_level: error\n",
        f->dir);
    if (config_node_parse("node.yaml", text, strlen(text), &f->config, err, sizeof(err)) != 0) {
        fail_msg("node file: %s", err);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rm_tree(f->dir);
    free(f);
    return 0;
}

static void raft_closed(struct raft *r)
{
    (void)r;
}

/* data_dir/raft as a version before the peer channel bootstrapped it: one voter, n1, whose
 * address has no peer part. */
static void bootstrap_old_format(struct fixture *f, const char *address)
{
    char dir[PATH_MAX + 16];
    struct raft_uv_transport transport = {0};
    struct raft_io io;
    struct raft_fsm fsm = {.version = 1};
    struct raft raft;
    struct raft_configuration conf;
    snprintf(dir, sizeof(dir), "%s/data", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dir, sizeof(dir), "%s/data/raft", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(raft_uv_tcp_init(&transport, &f->loop), 0);
    assert_int_equal(raft_uv_init(&io, &f->loop, dir, &transport), 0);
    assert_int_equal(raft_init(&raft, &io, &fsm, cluster__raft_id("n1"), address), 0);
    raft_configuration_init(&conf);
    assert_int_equal(raft_configuration_add(&conf, cluster__raft_id("n1"), address, RAFT_VOTER),
                     0);
    assert_int_equal(raft_bootstrap(&raft, &conf), 0);
    raft_configuration_close(&conf);
    raft_close(&raft, raft_closed);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    raft_uv_close(&io);
    raft_uv_tcp_close(&transport);
}

static void cluster_closed(void *data)
{
    struct fixture *f = data;
    f->closed = true;
}

static void old_address_refused_at_start(void **state)
{
    struct fixture *f = *state;
    struct cluster *c;
    char err[512];
    struct cluster_options opt = {.node = &f->config, .boot_id = "test-boot"};
    bootstrap_old_format(f, "127.0.0.1:2|127.0.0.1:1|n1");
    if (cluster_new(&f->loop, &opt, &c, err, sizeof(err)) != 0) {
        fail_msg("cluster_new: %s", err);
    }
    assert_int_equal(cluster_start(c, err, sizeof(err)), CD_EIO);
    assert_non_null(strstr(err,
                           "names a member '127.0.0.1:2|127.0.0.1:1|n1', not of the form "
                           "raft|api|peer|id"));
    assert_non_null(strstr(err, "start this node on an empty data_dir"));
    cluster_close(c, cluster_closed, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->closed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(old_address_refused_at_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
