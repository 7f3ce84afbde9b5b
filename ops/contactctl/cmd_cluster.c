/* contactctl status, member, leader: the cluster itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"
#include "ops/contactctl/http_blocking.h"

static const struct ctl_column members[] = {
    {"MEMBER", "id", false},         {"ROLE", "role", false}, {"LEADER", "leader", false},
    {"RAFT", "raft", false},         {"API", "api", false},   {"PEER", "peer", false},
    {"MATCH", "match_index", false}, {"LAG", "lag", false},   {"REACHABLE", "reachable", false},
};

static const struct ctl_column status[] = {
    {"Node", "id", false},
    {"Role", "role", false},
    {"Leader", "leader", false},
    {"Term", "term", false},
    {"Commit index", "commit_index", false},
    {"Applied index", "applied_index", false},
    {"Last index", "last_index", false},
    {"Snapshot", "snapshot_index", false},
    {"Ready", "ready", false},
    {"State digest", "state_digest", false},
    {"Leaders lost", "leaders_lost", false},
    {"Early elections", "early_elections", false},
};

/* Membership and lag as the leader sees them: ask the leader when this node is not it. */
static int cluster_doc(struct ctl *c, json_t **doc)
{
    int rv = ctl_call(c, "GET", "/v1/cluster", NULL, doc);
    const char *leader_api =
        rv == CTL_OK ? json_string_value(json_object_get(*doc, "leader_api")) : NULL;
    if (rv == CTL_OK &&
        strcmp(json_string_value(json_object_get(*doc, "role")), "leader") != 0 &&
        leader_api != NULL && *leader_api != 0) {
        struct ctl at_leader = {.n_endpoints = 1, .http = c->http, .json = c->json};
        json_t *from_leader;
        hb_endpoint_like(c->endpoints[c->current], leader_api, at_leader.endpoints[0],
                         CTL_ADDR_MAX);
        if (ctl_call(&at_leader, "GET", "/v1/cluster", NULL, &from_leader) == CTL_OK) {
            json_object_set(*doc, "members", json_object_get(from_leader, "members"));
            json_decref(from_leader);
        }
    }
    return rv;
}

/* Each member's own view (its role, term and applied index), asked of that member the way
 * the node that answered was reached; a member that does not answer shows "-". */
static void add_own_views(const struct ctl *c, json_t *doc)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(doc, "members"), i, m)
    {
        struct hb_answer a;
        char err[256], node[CTL_ADDR_MAX];
        const char *api = json_string_value(json_object_get(m, "api"));
        if (api == NULL) {
            continue;
        }
        hb_endpoint_like(c->endpoints[c->current], api, node, sizeof(node));
        if (hb_request(c->http, node, "GET", "/v1/cluster", NULL, &a, err, sizeof(err)) != 0) {
            continue;
        }
        json_t *own = a.status == 200 ? json_loads(a.body, 0, NULL) : NULL;
        if (own != NULL) {
            json_object_set(m, "own_role", json_object_get(own, "role"));
            json_object_set(m, "term", json_object_get(own, "term"));
            json_object_set(m, "applied_index", json_object_get(own, "applied_index"));
        }
        json_decref(own);
        hb_answer_free(&a);
    }
}

static const struct ctl_column member_views[] = {
    {"MEMBER", "id", false},           {"ROLE", "own_role", false},
    {"TERM", "term", false},           {"APPLIED", "applied_index", false},
    {"MATCH", "match_index", false},   {"LAG", "lag", false},
    {"REACHABLE", "reachable", false}, {"API", "api", false},
};

int ctl_cmd_status(struct ctl *c, int argc, char **argv)
{
    json_t *doc;
    (void)argv;
    if (argc != 0) {
        return CTL_USAGE;
    }
    int rv = cluster_doc(c, &doc);
    if (rv == CTL_OK) {
        add_own_views(c, doc);
        if (c->json) {
            ctl_print_json(doc);
        } else {
            ctl_fields(doc, CTL_COLS(status));
            putchar('\n');
            ctl_table(json_object_get(doc, "members"), CTL_COLS(member_views));
        }
        json_decref(doc);
    }
    return rv;
}

static int done(struct ctl *c, int rv, json_t *doc, const char *what)
{
    if (rv == CTL_OK) {
        if (c->json) {
            ctl_print_json(doc);
        } else {
            const char *message = json_string_value(json_object_get(doc, "message"));
            printf("%s\n", message != NULL ? message : what);
        }
    }
    json_decref(doc);
    return rv;
}

int ctl_cmd_member(struct ctl *c, int argc, char **argv)
{
    char path[512], *body;
    json_t *doc = NULL;
    int rv;
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        if ((rv = cluster_doc(c, &doc)) == CTL_OK) {
            if (c->json) {
                ctl_print_json(json_object_get(doc, "members"));
            } else {
                ctl_table(json_object_get(doc, "members"), CTL_COLS(members));
            }
        }
        json_decref(doc);
        return rv;
    }
    if (argc == 5 && strcmp(argv[0], "add") == 0) {
        json_t *req = json_pack("{s:s,s:s,s:s,s:s}", "id", argv[1], "raft", argv[2], "api",
                                argv[3], "peer", argv[4]);
        body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        rv = ctl_call(c, "POST", "/v1/cluster/members", body, &doc);
        free(body);
        return done(c, rv, doc, "member added");
    }
    if (argc == 2 && strcmp(argv[0], "remove") == 0) {
        rv = ctl_call(c, "DELETE",
                      ctl_path(path, sizeof(path), "/v1/cluster/members/%s", argv[1]), NULL,
                      &doc);
        return done(c, rv, doc, "member removed");
    }
    return CTL_USAGE;
}

int ctl_cmd_leader(struct ctl *c, int argc, char **argv)
{
    json_t *doc = NULL;
    if (argc < 1 || argc > 2 || strcmp(argv[0], "transfer") != 0) {
        return CTL_USAGE;
    }
    json_t *req = argc == 2 ? json_pack("{s:s}", "id", argv[1]) : json_object();
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    int rv = ctl_call(c, "POST", "/v1/cluster/leader/transfer", body, &doc);
    free(body);
    return done(c, rv, doc, "leadership transferred");
}
