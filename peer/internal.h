/* Private to peer/. */
#ifndef CD_PEER_INTERNAL_H
#define CD_PEER_INTERNAL_H

#include <stdbool.h>

#include "adapters/http/http.h"
#include "config/config.h"
#include "peer/peer.h"

#define PEER__MEMBERS_MAX CLUSTER_MEMBERS_MAX

/* A pool of keep-alive connections to one member's channel. */
struct peer__member
{
    char addr[CONFIG_HOST_MAX + 8]; /* "host:port" as the configuration has it */
    char name[ENGINE_NAME_MAX];     /* the member's id, which its certificate names */
    struct http_client *client;
};

struct peer_channel
{
    uv_loop_t *loop;
    struct cluster *cluster;
    struct http_server *server; /* NULL until listening, and once closed */
    uint16_t port;
    struct peer__member members[PEER__MEMBERS_MAX];
    unsigned n_members;
    struct net_tls *server_tls; /* members' connections in; NULL: plain */
    struct net_tls *client_tls; /* connections out to members; NULL: plain */
};

/* The path of a kind's endpoint into out ("/v1/internal/forward/command"); false for a
 * kind out of range. */
bool peer__path(int kind, char *out, size_t cap);

#endif
