/* The node's TLS contexts, from the node file's tls section: one for the HTTPS API, one for
 * members' connections in (their certificates required) and one for connections out to
 * members. All three use the same certificate, key and CA; a reload rebuilds them from the
 * files together or leaves them all as they were. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "node/internal.h"
#include "node/node.h"

static int tls_make(const struct config_tls *cfg,
                    enum node_tls_kind kind,
                    struct net_tls **out,
                    char *err,
                    size_t errlen)
{
    struct net_tls_options o = {
        .cert = cfg->cert,
        .key = cfg->key,
        .ca = cfg->ca,
        .server = kind != NODE_TLS_MEMBER_CLIENT,
        .require_client_cert = kind == NODE_TLS_MEMBER_SERVER,
    };
    char why[512];
    int rv = net_tls_new(&o, out, why, sizeof(why));
    if (rv != 0) {
        snprintf(err, errlen, "tls: %s", why);
    }
    return rv;
}

static void free_set(struct net_tls *set[NODE_TLS_KINDS])
{
    for (int k = 0; k < NODE_TLS_KINDS; k++) {
        net_tls_free(set[k]);
        set[k] = NULL;
    }
}

/* All three contexts from the files, or none: a file that does not load, or a certificate
 * that does not name this node, leaves set empty and says why. */
static int make_set(const struct config_node *cfg,
                    struct net_tls *set[NODE_TLS_KINDS],
                    char *err,
                    size_t errlen)
{
    for (int k = 0; k < NODE_TLS_KINDS; k++) {
        int rv = tls_make(&cfg->tls, (enum node_tls_kind)k, &set[k], err, errlen);
        if (rv != 0) {
            free_set(set);
            return rv;
        }
    }
    if (!net_tls_cert_names(set[NODE_TLS_API], cfg->id)) {
        snprintf(err, errlen,
                 "tls: the certificate '%s' does not name this node's id '%s' (a DNS name "
                 "of the certificate must be the id: members check each other's "
                 "certificates against their ids)",
                 cfg->tls.cert, cfg->id);
        free_set(set);
        return CD_EINVAL;
    }
    return 0;
}

int node__tls_open(struct node *n, char *err, size_t errlen)
{
    if (!n->config.has_tls) {
        cd_log(CD_LOG_WARN, "start", "msg",
               "insecure: true: no TLS anywhere, and anyone who reaches the Raft port or the "
               "peer channel can act as a member; for a test bed only",
               NULL);
        return 0;
    }
    return make_set(&n->config, n->tls, err, errlen);
}

void node__tls_free(struct node *n)
{
    free_set(n->tls);
}

struct net_tls *node_tls(const struct node *n, enum node_tls_kind kind)
{
    return kind < NODE_TLS_KINDS ? n->tls[kind] : NULL;
}

int node_reload_tls(struct node *n, char *err, size_t errlen)
{
    struct net_tls *fresh[NODE_TLS_KINDS] = {NULL};
    if (n->tls[0] == NULL) {
        return 0;
    }
    /* Made whole and checked first, so that a bad file changes none of them; the contexts
     * the servers and the cluster hold then take the new ones over. */
    int rv = make_set(&n->config, fresh, err, errlen);
    for (int k = 0; rv == 0 && k < NODE_TLS_KINDS; k++) {
        net_tls_take(n->tls[k], fresh[k]);
    }
    return rv;
}
