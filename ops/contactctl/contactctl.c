/* contactctl: talks to any node's HTTP API.
 *
 *   contactctl [--node HOST:PORT] [--json] status
 *   contactctl [--node HOST:PORT] [--json] member list
 *   contactctl [--node HOST:PORT] member add ID RAFT-ADDR API-ADDR
 *   contactctl [--node HOST:PORT] member remove ID
 *   contactctl [--node HOST:PORT] leader transfer [ID]
 *
 * The node defaults to $CONTACTD_NODE, else 127.0.0.1:8080. Membership changes are made
 * on the leader: when the node asked is not the leader, contactctl asks the leader. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/http_blocking.h"

struct ctl
{
    char node[300];
    bool json;
};

static int usage(void)
{
    fprintf(stderr,
            "usage: contactctl [--node HOST:PORT] [--json] COMMAND\n"
            "  status                          cluster status as this node sees it\n"
            "  member list                     members, their roles and the leader\n"
            "  member add ID RAFT-ADDR API-ADDR\n"
            "                                  add a node started with join: true\n"
            "  member remove ID                remove a member\n"
            "  leader transfer [ID]            hand leadership to ID (or the best voter)\n");
    return 2;
}

/* Prints an error answer as "contactctl: CODE: message". */
static int fail_answer(const struct hb_answer *a)
{
    json_t *doc = json_loads(a->body, 0, NULL);
    json_t *err = json_object_get(doc, "error");
    if (err != NULL) {
        fprintf(stderr, "contactctl: %s: %s\n", json_string_value(json_object_get(err, "code")),
                json_string_value(json_object_get(err, "message")));
    } else {
        fprintf(stderr, "contactctl: HTTP %d: %s\n", a->status, a->body);
    }
    json_decref(doc);
    return 1;
}

static int get_json(const char *node, const char *path, json_t **out)
{
    struct hb_answer a;
    char err[256];
    if (hb_request(node, "GET", path, NULL, &a, err, sizeof(err)) != 0) {
        fprintf(stderr, "contactctl: %s\n", err);
        return 1;
    }
    if (a.status != 200) {
        int rv = fail_answer(&a);
        hb_answer_free(&a);
        return rv;
    }
    *out = json_loads(a.body, 0, NULL);
    hb_answer_free(&a);
    if (*out == NULL) {
        fprintf(stderr, "contactctl: %s answered something that is not JSON\n", node);
        return 1;
    }
    return 0;
}

static int cmd_status(struct ctl *c, bool members_only)
{
    json_t *st;
    if (get_json(c->node, "/v1/cluster", &st) != 0) {
        return 1;
    }
    if (c->json) {
        json_dumpf(members_only ? json_object_get(st, "members") : st, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        if (!members_only) {
            printf(
                "node %s: %s, term %lld, leader %s\n"
                "  commit %lld, applied %lld, snapshot %lld, state digest %s, ready %s\n",
                json_string_value(json_object_get(st, "id")),
                json_string_value(json_object_get(st, "role")),
                json_integer_value(json_object_get(st, "term")),
                json_string_value(json_object_get(st, "leader")),
                json_integer_value(json_object_get(st, "commit_index")),
                json_integer_value(json_object_get(st, "applied_index")),
                json_integer_value(json_object_get(st, "snapshot_index")),
                json_string_value(json_object_get(st, "state_digest")),
                json_is_true(json_object_get(st, "ready")) ? "yes" : "no");
        }
        printf("%-16s %-8s %-24s %-24s\n", "MEMBER", "ROLE", "RAFT", "API");
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(st, "members"), i, m)
        {
            printf("%-16s %-8s %-24s %-24s%s\n", json_string_value(json_object_get(m, "id")),
                   json_string_value(json_object_get(m, "role")),
                   json_string_value(json_object_get(m, "raft")),
                   json_string_value(json_object_get(m, "api")),
                   json_is_true(json_object_get(m, "leader")) ? "  (leader)" : "");
        }
    }
    json_decref(st);
    return 0;
}

/* Sends a change to the node; when it is not the leader, to the leader it names. */
static int change(struct ctl *c, const char *method, const char *path, json_t *body)
{
    char *text = body != NULL ? json_dumps(body, 0) : NULL;
    char node[300], err[256];
    struct hb_answer a;
    int rv = 1;
    snprintf(node, sizeof(node), "%s", c->node);
    for (int hop = 0; hop < 2; hop++) {
        if (hb_request(node, method, path, text, &a, err, sizeof(err)) != 0) {
            fprintf(stderr, "contactctl: %s\n", err);
            break;
        }
        if (a.status == 503 && hop == 0 && strstr(a.body, "NOTLEADER") != NULL) {
            json_t *st;
            hb_answer_free(&a);
            if (get_json(node, "/v1/cluster", &st) != 0) {
                break;
            }
            snprintf(node, sizeof(node), "%s",
                     json_string_value(json_object_get(st, "leader_api")));
            json_decref(st);
            continue;
        }
        if (a.status == 200) {
            json_t *doc = json_loads(a.body, 0, NULL);
            printf("%s\n", json_string_value(json_object_get(doc, "message")));
            json_decref(doc);
            rv = 0;
        } else {
            rv = fail_answer(&a);
        }
        hb_answer_free(&a);
        break;
    }
    free(text);
    return rv;
}

static int cmd_member(struct ctl *c, int argc, char **argv)
{
    char path[512];
    if (argc >= 1 && strcmp(argv[0], "list") == 0 && argc == 1) {
        return cmd_status(c, true);
    }
    if (argc == 4 && strcmp(argv[0], "add") == 0) {
        json_t *body =
            json_pack("{s:s,s:s,s:s}", "id", argv[1], "raft", argv[2], "api", argv[3]);
        int rv = change(c, "POST", "/v1/cluster/members", body);
        json_decref(body);
        return rv;
    }
    if (argc == 2 && strcmp(argv[0], "remove") == 0) {
        snprintf(path, sizeof(path), "/v1/cluster/members/%s", argv[1]);
        return change(c, "DELETE", path, NULL);
    }
    return usage();
}

static int cmd_leader(struct ctl *c, int argc, char **argv)
{
    if (argc < 1 || argc > 2 || strcmp(argv[0], "transfer") != 0) {
        return usage();
    }
    json_t *body = argc == 2 ? json_pack("{s:s}", "id", argv[1]) : json_object();
    int rv = change(c, "POST", "/v1/cluster/leader/transfer", body);
    json_decref(body);
    return rv;
}

int main(int argc, char **argv)
{
    struct ctl c = {.json = false};
    const char *env = getenv("CONTACTD_NODE");
    snprintf(c.node, sizeof(c.node), "%s", env != NULL && *env ? env : "127.0.0.1:8080");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--node") == 0 && i + 1 < argc) {
            snprintf(c.node, sizeof(c.node), "%s", argv[++i]);
        } else if (strcmp(argv[i], "--json") == 0) {
            c.json = true;
        } else {
            return usage();
        }
    }
    if (i >= argc) {
        return usage();
    }
    if (strcmp(argv[i], "status") == 0 && i + 1 == argc) {
        return cmd_status(&c, false);
    }
    if (strcmp(argv[i], "member") == 0) {
        return cmd_member(&c, argc - i - 1, argv + i + 1);
    }
    if (strcmp(argv[i], "leader") == 0) {
        return cmd_leader(&c, argc - i - 1, argv + i + 1);
    }
    return usage();
}
