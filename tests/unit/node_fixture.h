/* Shared by the node/ unit tests: a scratch directory, a single-node node file on free
 * loopback ports, and running a loop until a condition holds. */
#ifndef CD_TESTS_NODE_FIXTURE_H
#define CD_TESTS_NODE_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "tests/unit/tmpdir.h"

static inline uint16_t nf_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_true(s >= 0);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* Makes a scratch directory (dir, PATH_MAX bytes) and a node file for member n1 alone, its
 * data under dir/data. */
static inline void nf_config(char *dir, struct config_node *config)
{
    char text[PATH_MAX + 1024], err[512];
    snprintf(dir, PATH_MAX, "%s/contactd-node-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    uint16_t api = nf_free_port(), raft = nf_free_port(), peer = nf_free_port();
    snprintf(
        text, sizeof(text),
        "id: n1\n"
        "listen: { api: \"127.0.0.1:%u\", raft: \"127.0.0.1:%u\", peer: \"127.0.0.1:%u\" }\n"
        "data_dir: %s/data\n"
        "insecure: true\n"
        "peers:\n"
        "  - { id: n1, raft: \"127.0.0.1:%u\", api: \"127.0.0.1:%u\", peer: \"127.0.0.1:%u\" "
        "}\n"
        "log_level: warn\n",
        api, raft, peer, dir, raft, api, peer);
    if (config_node_parse("node.yaml", text, strlen(text), config, err, sizeof(err)) != 0) {
        fail_msg("node file: %s", err);
    }
}

/* Runs loop until done(arg) holds, failing after about ten seconds. */
static inline void nf_run_until(uv_loop_t *loop, bool (*done)(void *arg), void *arg)
{
    for (int i = 0; i < 10000 && !done(arg); i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        if (!done(arg)) {
            uv_sleep(1);
        }
    }
    assert_true(done(arg));
}

#endif
