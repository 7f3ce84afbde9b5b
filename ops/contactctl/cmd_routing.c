/* contactctl queue, agent, offer: the live routing state and what supervisors change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"

static const struct ctl_column queues[] = {
    {"QUEUE", "name", false},
    {"OPEN", "open", false},
    {"PAUSED", "paused", false},
    {"WAITING", "waiting", false},
    {"EWT MS", "ewt_ms", false},
    {"STAFFED", "staffed", false},
    {"AVAILABLE", "available", false},
    {"ARRIVED", "today.arrived", false},
    {"ANSWERED", "today.answered", false},
    {"ABANDONED", "today.abandoned", false},
    {"SL PERMILLE", "today.sl_permille", false},
};

static const struct ctl_column agents[] = {
    {"AGENT", "name", false},        {"SITE", "site", false},
    {"PRESENCE", "presence", false}, {"STATE", "state", false},
    {"REASON", "reason", false},     {"VOICE", "load.voice", false},
    {"CHAT", "load.chat", false},    {"EMAIL", "load.email", false},
    {"SMS", "load.sms", false},      {"OCCUPANCY", "occupancy_permille", false},
};

static const struct ctl_column agent_fields[] = {
    {"Agent", "name", false},
    {"Site", "site", false},
    {"Presence", "presence", false},
    {"State", "state", false},
    {"Reason", "reason", false},
    {"Capacity", "capacity", false},
    {"Load", "load", false},
    {"Skills", "skills", false},
    {"Occupancy", "occupancy_permille", false},
    {"Last idle", "last_idle", true},
};

/* GET path, shown as a table or as fields. */
int ctl_get_show(struct ctl *c,
                 const char *path,
                 const struct ctl_column *cols,
                 size_t n,
                 bool table)
{
    json_t *doc;
    int rv = ctl_call(c, "GET", path, NULL, &doc);
    if (rv == CTL_OK) {
        ctl_show(c, doc, cols, n, table);
        json_decref(doc);
    }
    return rv;
}

/* A change: sends body (a JSON object, taken) and says what was done. */
int ctl_change(struct ctl *c,
               const char *method,
               const char *path,
               json_t *body,
               const char *done)
{
    json_t *doc;
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    int rv = ctl_call(c, method, path, text, &doc);
    free(text);
    if (rv == CTL_OK) {
        if (c->json) {
            ctl_print_json(doc);
        } else {
            printf("%s\n", done);
        }
        json_decref(doc);
    }
    return rv;
}

int ctl_cmd_queue(struct ctl *c, int argc, char **argv)
{
    char path[512], done[300];
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        return ctl_get_show(c, "/v1/queues", CTL_COLS(queues), true);
    }
    if (argc == 2 && strcmp(argv[0], "show") == 0) {
        return ctl_get_show(c, ctl_path(path, sizeof(path), "/v1/queues/%s", argv[1]),
                            CTL_COLS(queues), false);
    }
    if (argc == 2 && (strcmp(argv[0], "pause") == 0 || strcmp(argv[0], "resume") == 0)) {
        snprintf(done, sizeof(done), "queue %s %s", argv[1],
                 argv[0][0] == 'p' ? "paused" : "resumed");
        return ctl_change(c, "POST",
                          ctl_path(path, sizeof(path), "/v1/queues/%s/%s", argv[1], argv[0]),
                          NULL, done);
    }
    return CTL_USAGE;
}

/* NAME=VALUE pairs from the arguments after the first n words, or --name options, into an
 * object; integers when as_int. Returns NULL (printed) on a malformed pair. */
json_t *ctl_pairs(int argc, char **argv, int first, const char *option, bool as_int)
{
    json_t *obj = json_object();
    for (int i = first; i < argc; i++) {
        const char *pair = argv[i];
        if (option != NULL) {
            if (strcmp(argv[i], option) != 0 || i + 1 >= argc) {
                continue;
            }
            pair = argv[++i];
        }
        const char *eq = strchr(pair, '=');
        char key[128], *end;
        if (eq == NULL || eq == pair || (size_t)(eq - pair) >= sizeof(key)) {
            fprintf(stderr, "contactctl: '%s': expected NAME=VALUE\n", pair);
            json_decref(obj);
            return NULL;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - pair), pair);
        long n = strtol(eq + 1, &end, 10);
        if (as_int && (*end != 0 || eq[1] == 0)) {
            fprintf(stderr, "contactctl: '%s': expected a whole number after '='\n", pair);
            json_decref(obj);
            return NULL;
        }
        json_object_set_new(obj, key, as_int ? json_integer(n) : json_string(eq + 1));
    }
    return obj;
}

static int agent_put(struct ctl *c, const char *id, int argc, char **argv)
{
    char path[512], done[300];
    json_t *skills = ctl_pairs(argc, argv, 2, "--skill", true);
    json_t *capacity = ctl_pairs(argc, argv, 2, "--capacity", true);
    json_t *queue_list = json_array(), *body = json_object();
    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--queue") == 0) {
            json_array_append_new(queue_list, json_string(argv[++i]));
        }
    }
    const char *site = ctl_opt(argc, argv, "site");
    if (skills == NULL || capacity == NULL) {
        json_decref(skills);
        json_decref(capacity);
        json_decref(queue_list);
        json_decref(body);
        return CTL_USAGE;
    }
    json_object_set_new(body, "skills", skills);
    json_object_set_new(body, "capacity", capacity);
    json_object_set_new(body, "queues", queue_list);
    if (site != NULL) {
        json_object_set_new(body, "site", json_string(site));
    }
    snprintf(done, sizeof(done), "agent %s defined", id);
    return ctl_change(c, "PUT", ctl_path(path, sizeof(path), "/v1/agents/%s", id), body, done);
}

static int agent_state(struct ctl *c, int argc, char **argv)
{
    char path[512], done[300];
    if (argc < 3 || (strcmp(argv[2], "available") != 0 && strcmp(argv[2], "away") != 0)) {
        return CTL_USAGE;
    }
    const char *reason = ctl_opt(argc, argv, "reason");
    json_t *body = json_pack("{s:s}", "presence", argv[2]);
    if (reason != NULL) {
        json_object_set_new(body, "reason", json_string(reason));
    }
    snprintf(done, sizeof(done), "agent %s is %s", argv[1], argv[2]);
    return ctl_change(c, "POST", ctl_path(path, sizeof(path), "/v1/agents/%s/state", argv[1]),
                      body, done);
}

int ctl_cmd_agent(struct ctl *c, int argc, char **argv)
{
    char path[512], done[300];
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        return ctl_get_show(c, "/v1/agents", CTL_COLS(agents), true);
    }
    if (argc < 2) {
        return CTL_USAGE;
    }
    const char *verb = argv[0], *id = argv[1];
    if (argc == 2 && strcmp(verb, "show") == 0) {
        return ctl_get_show(c, ctl_path(path, sizeof(path), "/v1/agents/%s", id),
                            CTL_COLS(agent_fields), false);
    }
    if (argc == 2 && (strcmp(verb, "login") == 0 || strcmp(verb, "logout") == 0)) {
        snprintf(done, sizeof(done), "agent %s %s", id,
                 verb[3] == 'i' ? "logged in" : "logged out");
        return ctl_change(
            c, "POST", ctl_path(path, sizeof(path), "/v1/agents/%s/%s", id, verb),
            verb[3] == 'i' ? json_pack("{s:s}", "presence", "available") : json_object(), done);
    }
    if (argc == 2 && strcmp(verb, "delete") == 0) {
        snprintf(done, sizeof(done), "agent %s deleted", id);
        return ctl_change(c, "DELETE", ctl_path(path, sizeof(path), "/v1/agents/%s", id), NULL,
                          done);
    }
    if (strcmp(verb, "state") == 0) {
        return agent_state(c, argc, argv);
    }
    if (strcmp(verb, "put") == 0) {
        return agent_put(c, id, argc, argv);
    }
    if (argc >= 3 && strcmp(verb, "skills") == 0) {
        json_t *skills = ctl_pairs(argc, argv, 2, NULL, true);
        if (skills == NULL) {
            return CTL_USAGE;
        }
        snprintf(done, sizeof(done), "agent %s re-skilled", id);
        return ctl_change(c, "PUT", ctl_path(path, sizeof(path), "/v1/agents/%s/skills", id),
                          json_pack("{s:o}", "skills", skills), done);
    }
    return CTL_USAGE;
}

int ctl_cmd_offer(struct ctl *c, int argc, char **argv)
{
    char path[512], done[300];
    if (argc != 3 || (strcmp(argv[0], "accept") != 0 && strcmp(argv[0], "reject") != 0)) {
        return CTL_USAGE;
    }
    snprintf(done, sizeof(done), "offer %s %sed by %s", argv[1], argv[0], argv[2]);
    return ctl_change(c, "POST",
                      ctl_path(path, sizeof(path), "/v1/offers/%s/%s", argv[1], argv[0]),
                      json_pack("{s:s}", "agent", argv[2]), done);
}
