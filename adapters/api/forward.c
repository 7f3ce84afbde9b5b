/* Forwarding from a follower to the leader's internal endpoints, over a pool of keep-alive
 * connections per peer. Each request carries this member's proof (cluster_proof_make()) in
 * its query: ?member=ID&proof=HEX. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/api/internal.h"
#include "common/error.h"

static struct http_client *peer_client(struct api *a, const char *addr)
{
    char host[CONFIG_HOST_MAX];
    const char *whole = addr;
    const char *colon = strrchr(addr, ':');
    for (unsigned i = 0; i < a->n_peers; i++) {
        if (strcmp(a->peers[i].addr, addr) == 0) {
            return a->peers[i].client;
        }
    }
    if (colon == NULL || a->n_peers == API__PEERS_MAX) {
        return NULL;
    }
    size_t n = (size_t)(colon - addr);
    if (addr[0] == '[' && n >= 2) {
        addr++;
        n -= 2;
    }
    if (n >= sizeof(host)) {
        return NULL;
    }
    memcpy(host, addr, n);
    host[n] = 0;
    struct api__peer *p = &a->peers[a->n_peers];
    if (http_client_new(a->loop, host, (uint16_t)atoi(colon + 1), 128, &p->client) != 0) {
        return NULL;
    }
    snprintf(p->addr, sizeof(p->addr), "%s", whole);
    a->n_peers++;
    return p->client;
}

struct forwarding
{
    cluster_forward_done done;
    void *req;
};

static int code_of_error(const struct http_response *res)
{
    json_t *doc = json_loadb(res->body, res->body_len, 0, NULL);
    const char *code =
        json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
    int rv = code != NULL && strcmp(code, "TIMEDOUT") == 0 ? CD_ETIMEDOUT : CD_EUNAVAIL;
    json_decref(doc);
    return rv;
}

static void answered(void *data, const struct http_response *res)
{
    struct forwarding *f = data;
    if (res->status == 200) {
        f->done(f->req, 0, res->body, res->body_len);
    } else if (res->status < 0) {
        f->done(f->req, res->status == CD_ETIMEDOUT ? CD_ETIMEDOUT : CD_EUNAVAIL, NULL, 0);
    } else {
        f->done(f->req, code_of_error(res), NULL, 0);
    }
    free(f);
}

/* path?member=ID&proof=HEX; '+' in an id is escaped, since a query reads it as a space
 * (the other characters of a name are fine in a query). */
static int proven_target(struct api *a,
                         const char *path,
                         const void *body,
                         size_t len,
                         char *out,
                         size_t cap)
{
    struct cluster_proof proof;
    char member[3 * ENGINE_NAME_MAX];
    size_t n = 0;
    int rv = cluster_proof_make(a->cluster, path, body, len, &proof);
    if (rv != 0) {
        return rv;
    }
    for (const char *p = proof.member; *p != 0; p++) {
        n += (size_t)snprintf(member + n, sizeof(member) - n, *p == '+' ? "%%2B" : "%c", *p);
    }
    int w = snprintf(out, cap, "%s?member=%s&proof=%s", path, member, proof.mac);
    return w > 0 && (size_t)w < cap ? 0 : CD_ETOOBIG;
}

static int send_forward(void *data,
                        const char *api_addr,
                        enum cluster_forward_kind kind,
                        const void *body,
                        size_t len,
                        cluster_forward_done done,
                        void *req)
{
    struct api *a = data;
    struct http_client *client = peer_client(a, api_addr);
    struct forwarding *f = malloc(sizeof(*f));
    const char *name = cluster_forward_kind_name(kind);
    char path[64], target[512];
    snprintf(path, sizeof(path), "/v1/internal/forward/%s", name != NULL ? name : "");
    if (len > API__INTERNAL_BODY_MAX) {
        free(f);
        return CD_ETOOBIG; /* the leader would refuse it */
    }
    if (client == NULL || f == NULL || name == NULL ||
        proven_target(a, path, body, len, target, sizeof(target)) != 0) {
        free(f);
        return CD_EUNAVAIL;
    }
    f->done = done;
    f->req = req;
    if (http_client_request(client, "POST", target, "application/octet-stream", body, len,
                            10000, answered, f) != 0) {
        free(f);
        return CD_ENOMEM;
    }
    return 0;
}

struct cluster_forward_ops api_forward_ops(struct api *a)
{
    return (struct cluster_forward_ops){.data = a, .send = send_forward};
}
