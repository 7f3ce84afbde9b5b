/* The composition root: see node.h for the order of things, README.md for why. */
#include "node/node.h"
#include "node/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"

/* The node cannot go on: say why and stop at once. Its storage transaction was not
 * committed; Raft's log on disk and on the other members holds every committed entry. */
static void on_fatal(void *data, const char *message)
{
    (void)data;
    cd_logf(CD_LOG_FATAL, "fatal", "%s; stopping this node", message);
    fflush(stderr);
    _exit(1);
}

/* ---- Life cycle ----------------------------------------------------------------------- */

int node_new(uv_loop_t *loop,
             const struct node_options *opt,
             struct node **out,
             char *err,
             size_t errlen)
{
    struct node *n = calloc(1, sizeof(*n));
    *out = NULL;
    if (n == NULL) {
        snprintf(err, errlen, "out of memory");
        return CD_ENOMEM;
    }
    n->loop = loop;
    n->config = *opt->config;
    cd_log_set_level(n->config.log_level); /* the same scale: enum config_log_level */
    n->boot_id = opt->boot_id;
    if (opt->builtin) {
        int rv = node__add_builtin(n, err, errlen);
        if (rv != 0) {
            node_free(n);
            return rv;
        }
    }
    *out = n;
    return 0;
}

int node_add(struct node *n, const struct node_adapter_ops *ops, void *self)
{
    if (n->started || n->cluster != NULL) {
        return CD_ESTATE;
    }
    if (n->n_adapters == NODE__ADAPTERS_MAX) {
        return CD_ENOMEM;
    }
    n->adapters[n->n_adapters++] = (struct node__adapter){.ops = ops, .self = self};
    return 0;
}

void node_set_forward(struct node *n, struct cluster_forward_ops forward)
{
    n->forward = forward;
}

int node_start(struct node *n, char *err, size_t errlen)
{
    struct cluster_options opt = {
        .node = &n->config,
        .forward = n->forward,
        .effects = {.data = n,
                    .committed = node__bus_committed,
                    .restored = node__bus_restored},
        .boot_id = n->boot_id,
    };
    if (n->started || n->stopping) {
        snprintf(err, errlen, "the node was started already");
        return CD_ESTATE;
    }
    int rv = node__tls_open(n, err, errlen);
    if (rv != 0) {
        return rv;
    }
    opt.member_server = n->tls[NODE_TLS_MEMBER_SERVER];
    opt.member_client = n->tls[NODE_TLS_MEMBER_CLIENT];
    n->started = true;
    rv = cluster_new(n->loop, &opt, &n->cluster, err, errlen);
    if (rv != 0) {
        return rv;
    }
    cluster_on_fatal(n->cluster, on_fatal, n);
    node__signal_start(n);
    for (unsigned k = 0; k < n->n_adapters; k++) {
        struct node__adapter *a = &n->adapters[k];
        char why[512];
        rv = a->ops->start(a->self, n, why, sizeof(why));
        if (rv != 0) {
            snprintf(err, errlen, "%s: %s", a->ops->name, why);
            return rv;
        }
        a->started = true;
    }
    rv = node__http_listen(n, err, errlen);
    if (rv != 0) {
        return rv;
    }
    rv = node__bus_start(n, err, errlen);
    return rv != 0 ? rv : cluster_start(n->cluster, err, errlen);
}

static void finished(struct node *n)
{
    if (n->done != NULL) {
        void (*done)(void *) = n->done;
        n->done = NULL;
        done(n->done_data);
    }
}

static void cluster_closed(void *data)
{
    struct node *n = data;
    n->cluster = NULL;
    for (unsigned k = 0; k < n->n_adapters; k++) {
        struct node__adapter *a = &n->adapters[k];
        if (a->ops->free != NULL) {
            a->ops->free(a->self);
        }
        a->self = NULL;
    }
    n->n_adapters = 0;
    finished(n);
}

/* Closes the next adapter down (the last started first), then the cluster. */
static void close_next(void *data)
{
    struct node *n = data;
    while (n->closing > 0) {
        struct node__adapter *a = &n->adapters[--n->closing];
        if (a->started) {
            a->started = false;
            a->ops->close(a->self, close_next, n);
            return;
        }
    }
    if (n->cluster != NULL) {
        cluster_close(n->cluster, cluster_closed, n);
    } else {
        cluster_closed(n);
    }
}

static void http_closed(void *data)
{
    struct node *n = data;
    n->closing = n->n_adapters;
    close_next(n);
}

/* The HTTP listener first: no handler of an adapter is entered once adapters close. */
static void close_all(struct node *n)
{
    node__http_close(n, http_closed);
}

static void handed_over(void *data, int status, const char *message)
{
    struct node *n = data;
    if (status == 0) {
        cd_log(CD_LOG_INFO, "handover", "msg", "leadership handed over; stopping", NULL);
    } else {
        cd_logf(CD_LOG_WARN, "handover", "leadership not handed over (%s); stopping anyway",
                message != NULL && *message ? message : cd_strerror(status));
    }
    close_all(n);
}

/* A leader first hands leadership to the most caught-up voter, so that a rolling restart
 * costs the clients a leader change, not an election timeout; Raft gives up on the transfer
 * after an election timeout. */
void node_stop(struct node *n, void (*done)(void *data), void *data)
{
    struct cluster_status st;
    if (n->stopping) {
        return;
    }
    n->stopping = true;
    n->done = done;
    n->done_data = data;
    if (n->cluster != NULL) {
        cluster_status(n->cluster, &st);
        if (st.role == CLUSTER_LEADER && st.n_members > 1 &&
            cluster_leader_transfer(n->cluster, NULL, handed_over, n) == 0) {
            return;
        }
    }
    close_all(n);
}

void node_free(struct node *n)
{
    if (n == NULL) {
        return;
    }
    for (unsigned k = 0; k < n->n_adapters; k++) { /* never started, never stopped */
        if (n->adapters[k].ops->free != NULL) {
            n->adapters[k].ops->free(n->adapters[k].self);
        }
    }
    node__bus_free(n);
    node__tls_free(n);
    free(n);
}

uv_loop_t *node_loop(const struct node *n)
{
    return n->loop;
}

struct cluster *node_cluster(const struct node *n)
{
    return n->cluster;
}

const struct config_node *node_config(const struct node *n)
{
    return &n->config;
}
