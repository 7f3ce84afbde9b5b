/* Forwarding from this member to another's channel (the leader's, mostly), over a pool of
 * keep-alive connections per member: TLS connections checking that the other side's
 * certificate names the member called, when the channel has contexts. Each request also
 * carries this member's proof (cluster_proof_make()) in its query: ?member=ID&proof=HEX. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "peer/internal.h"

static struct http_client *member_client(struct peer_channel *ch,
                                         const char *name,
                                         const char *addr)
{
    char host[CONFIG_HOST_MAX];
    const char *whole = addr;
    const char *colon = strrchr(addr, ':');
    for (unsigned i = 0; i < ch->n_members; i++) {
        if (strcmp(ch->members[i].addr, addr) == 0 && strcmp(ch->members[i].name, name) == 0) {
            return ch->members[i].client;
        }
    }
    if (colon == NULL || ch->n_members == PEER__MEMBERS_MAX) {
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
    struct peer__member *m = &ch->members[ch->n_members];
    if (http_client_new(ch->loop, host, (uint16_t)atoi(colon + 1), 128, &m->client) != 0) {
        return NULL;
    }
    if (ch->client_tls != NULL && http_client_set_tls(m->client, ch->client_tls, name) != 0) {
        http_client_close(m->client);
        return NULL;
    }
    snprintf(m->addr, sizeof(m->addr), "%s", whole);
    snprintf(m->name, sizeof(m->name), "%s", name);
    ch->n_members++;
    return m->client;
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
static int proven_target(struct peer_channel *ch,
                         const char *path,
                         const void *body,
                         size_t len,
                         char *out,
                         size_t cap)
{
    struct cluster_proof proof;
    char member[3 * ENGINE_NAME_MAX];
    size_t n = 0;
    int rv = cluster_proof_make(ch->cluster, path, body, len, &proof);
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
                        const char *member,
                        const char *peer_addr,
                        enum cluster_forward_kind kind,
                        const void *body,
                        size_t len,
                        cluster_forward_done done,
                        void *req)
{
    struct peer_channel *ch = data;
    struct http_client *client = member_client(ch, member, peer_addr);
    struct forwarding *f = malloc(sizeof(*f));
    char path[64], target[512];
    bool known = peer__path(kind, path, sizeof(path));
    if (len > PEER_BODY_MAX) {
        free(f);
        return CD_ETOOBIG; /* the leader would refuse it */
    }
    if (client == NULL || f == NULL || !known ||
        proven_target(ch, path, body, len, target, sizeof(target)) != 0) {
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

struct cluster_forward_ops peer_channel_forward_ops(struct peer_channel *ch)
{
    return (struct cluster_forward_ops){.data = ch, .send = send_forward};
}
