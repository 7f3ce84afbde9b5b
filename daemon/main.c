/* contactd: one node of a contactd cluster.
 *
 *   contactd --config node.yaml
 *
 * Reads the node file and hands it to node/, which opens the node's storage and Raft log
 * under its data directory, starts the adapters (the HTTP API) and runs until SIGINT or
 * SIGTERM (a clean shutdown; a leader hands leadership over first; a second signal is not
 * needed: Raft gives up on the hand-over after an election timeout) or a fatal storage
 * error (exit 1, after saying why: the other members go on, and a restart replays what this
 * node missed). SIGHUP reads the TLS certificate, key and CA files again. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "config/config.h"
#include "common/log.h"
#include "node/node.h"

struct daemon
{
    uv_loop_t *loop;
    struct config_node config;
    struct node *node;
    uv_signal_t sigint, sigterm, sighup;
};

static void usage(FILE *to)
{
    fprintf(to,
            "usage: contactd --config FILE\n"
            "  Runs one node of a contactd cluster; see docs/config.md for the file.\n");
}

static void closed_signal(uv_handle_t *h)
{
    (void)h;
}

static void stopped(void *data)
{
    struct daemon *d = data;
    uv_close((uv_handle_t *)&d->sigint, closed_signal);
    uv_close((uv_handle_t *)&d->sigterm, closed_signal);
    uv_close((uv_handle_t *)&d->sighup, closed_signal);
}

/* SIGHUP: the certificate, key and CA files are read again. */
static void on_reload(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    char err[1024];
    (void)signum;
    if (node_reload_tls(d->node, err, sizeof(err)) != 0) {
        cd_log(CD_LOG_ERROR, "reload", "msg", err, "kept", "the files read before", NULL);
        return;
    }
    cd_log(CD_LOG_INFO, "reload", "msg",
           d->config.has_tls ? "TLS files read again: new connections use them"
                             : "nothing to reload (insecure: no TLS)",
           NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    cd_logf(CD_LOG_INFO, "signal", "signal %d: shutting down", signum);
    uv_signal_stop(&d->sigint);
    uv_signal_stop(&d->sigterm);
    node_stop(d->node, stopped, d);
}

/* Every chat page and agent desk holds a connection: a node serving thousands of them needs
 * as many descriptors, and the soft limit is often 1024. It is raised to the hard limit,
 * which the service manager sets (ops/systemd: LimitNOFILE). */
static void raise_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            cd_log(CD_LOG_WARN, "start", "msg", "cannot raise the open files limit", NULL);
        }
    }
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    struct daemon d = {.loop = uv_default_loop()};
    char err[1024];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (config_path == NULL) {
        usage(stderr);
        return 2;
    }
    if (config_node_load(config_path, &d.config, err, sizeof(err)) != 0) {
        cd_log(CD_LOG_ERROR, "start", "msg", err, NULL);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_file_limit();
    struct node_options opt = {.config = &d.config, .builtin = true};
    if (node_new(d.loop, &opt, &d.node, err, sizeof(err)) != 0) {
        cd_log(CD_LOG_ERROR, "start", "msg", err, NULL);
        return 1;
    }
    if (node_start(d.node, err, sizeof(err)) != 0) {
        cd_log(CD_LOG_ERROR, "start", "msg", err, NULL);
        return 1; /* nothing has been applied or answered: exit without the orderly stop */
    }
    uv_signal_init(d.loop, &d.sigint);
    uv_signal_init(d.loop, &d.sigterm);
    uv_signal_init(d.loop, &d.sighup);
    d.sigint.data = d.sigterm.data = d.sighup.data = &d;
    uv_signal_start(&d.sigint, on_signal, SIGINT);
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sighup, on_reload, SIGHUP);
    char api[CONFIG_HOST_MAX + 8], raft[CONFIG_HOST_MAX + 8], peer[CONFIG_HOST_MAX + 8];
    snprintf(api, sizeof(api), "%s:%u", d.config.api_listen.host, d.config.api_listen.port);
    snprintf(raft, sizeof(raft), "%s:%u", d.config.raft_listen.host, d.config.raft_listen.port);
    snprintf(peer, sizeof(peer), "%s:%u", d.config.peer_listen.host, d.config.peer_listen.port);
    cd_log(CD_LOG_INFO, "start", "node", d.config.id, "api", api, "raft", raft, "peer", peer,
           "msg", "serving", NULL);
    uv_run(d.loop, UV_RUN_DEFAULT);
    node_free(d.node);
    cd_log(CD_LOG_INFO, "stop", "node", d.config.id, "msg", "stopped", NULL);
    return 0;
}
