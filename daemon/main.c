/* contactd: one node of a contactd cluster.
 *
 *   contactd --config node.yaml
 *
 * Loads the node file, opens the node's storage and Raft log under its data directory,
 * serves the HTTP API, and runs until SIGINT or SIGTERM (a clean shutdown; a leader hands
 * leadership over first) or a fatal
 * storage error (exit 1, after saying why: the other members go on, and a restart replays
 * what this node missed). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "adapters/api/api.h"
#include "adapters/http/http.h"
#include "cluster/cluster.h"
#include "common/error.h"
#include "config/config.h"

struct node
{
    uv_loop_t *loop;
    struct config_node config;
    struct api *api;
    struct cluster *cluster;
    struct http_server *http;
    uv_signal_t sigint, sigterm;
    int exit_code;
};

static void say(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const char *level, const char *fmt, ...)
{
    char when[32];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s ", when, ts.tv_nsec / 1000000, level);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

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

static void cluster_closed(void *data)
{
    struct node *n = data;
    uv_close((uv_handle_t *)&n->sigint, closed_signal);
    uv_close((uv_handle_t *)&n->sigterm, closed_signal);
    api_free(n->api);
    n->api = NULL;
}

static void api_closed(void *data)
{
    struct node *n = data;
    cluster_close(n->cluster, cluster_closed, n);
}

/* A model install whose document is still being read proposes to the cluster once it is
 * read: the cluster closes after the API has nothing left in flight. */
static void http_closed(void *data)
{
    struct node *n = data;
    api_close(n->api, api_closed, n);
}

static void close_server(struct node *n)
{
    if (n->http != NULL) {
        struct http_server *s = n->http;
        n->http = NULL;
        http_server_close(s, http_closed, n);
    }
}

static void handed_over(void *data, int status, const char *message)
{
    struct node *n = data;
    if (status == 0) {
        say("info", "leadership handed over; stopping");
    } else {
        say("warn", "leadership not handed over (%s); stopping anyway",
            message != NULL && *message ? message : cd_strerror(status));
    }
    close_server(n);
}

/* A leader first hands leadership to the most caught-up voter, so that a rolling restart
 * costs the clients a leader change, not an election timeout; Raft gives up on the transfer
 * after an election timeout. A second signal stops the node at once. */
static void shutdown_node(struct node *n)
{
    struct cluster_status st;
    uv_signal_stop(&n->sigint);
    uv_signal_stop(&n->sigterm);
    cluster_status(n->cluster, &st);
    if (st.role == CLUSTER_LEADER && st.n_members > 1 &&
        cluster_leader_transfer(n->cluster, NULL, handed_over, n) == 0) {
        return;
    }
    close_server(n);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct node *n = s->data;
    say("info", "signal %d: shutting down", signum);
    shutdown_node(n);
}

/* The node cannot go on: say why and stop at once. Its storage transaction was not
 * committed; Raft's log on disk and on the other members holds every committed entry. */
static void on_fatal(void *data, const char *message)
{
    (void)data;
    say("fatal", "%s; stopping this node", message);
    fflush(stderr);
    _exit(1);
}

static int start(struct node *n, const char *config_path)
{
    char err[1024];
    int rv = config_node_load(config_path, &n->config, err, sizeof(err));
    if (rv != 0) {
        say("error", "%s", err);
        return 2;
    }
    if (api_new(n->loop, &n->api) != 0) {
        say("error", "out of memory");
        return 1;
    }
    struct cluster_options opt = {.node = &n->config,
                                  .forward = api_forward_ops(n->api),
                                  .effects = api_effect_ops(n->api)};
    if (cluster_new(n->loop, &opt, &n->cluster, err, sizeof(err)) != 0) {
        say("error", "%s", err);
        return 1;
    }
    cluster_on_fatal(n->cluster, on_fatal, n);
    api_set_cluster(n->api, n->cluster);
    struct http_server_options http_opt;
    api_http_options(&http_opt);
    if (http_server_new(n->loop, &http_opt, api_handle, n->api, &n->http) != 0 ||
        http_server_listen(n->http, n->config.api_listen.host, n->config.api_listen.port, err,
                           sizeof(err)) != 0) {
        say("error", "%s", err);
        return 1;
    }
    api_set_server(n->api, n->http);
    if (cluster_start(n->cluster, err, sizeof(err)) != 0) {
        say("error", "%s", err);
        return 1;
    }
    say("info", "node '%s' serving the API on %s:%u, raft on %s:%u", n->config.id,
        n->config.api_listen.host, n->config.api_listen.port, n->config.raft_listen.host,
        n->config.raft_listen.port);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    struct node n = {.loop = uv_default_loop()};
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
    signal(SIGPIPE, SIG_IGN);
    uv_signal_init(n.loop, &n.sigint);
    uv_signal_init(n.loop, &n.sigterm);
    n.sigint.data = n.sigterm.data = &n;
    uv_signal_start(&n.sigint, on_signal, SIGINT);
    uv_signal_start(&n.sigterm, on_signal, SIGTERM);
    int rv = start(&n, config_path);
    if (rv != 0) {
        return rv;
    }
    uv_run(n.loop, UV_RUN_DEFAULT);
    say("info", "node '%s' stopped", n.config.id);
    return n.exit_code;
}
