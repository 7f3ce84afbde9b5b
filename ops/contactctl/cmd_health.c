/* contactctl health and fault: the cluster's health signals and faults (docs/continuity.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"

static const struct ctl_column signals[] = {
    {"SIGNAL", "name", false}, {"STATE", "state", false}, {"VALUE", "value", false},
    {"SINCE", "since", true},  {"FAULT", "fault", false},
};

static const struct ctl_column faults[] = {
    {"ID", "id", false},
    {"STATE", "state", false},
    {"SEVERITY", "severity", false},
    {"KIND", "kind", false},
    {"COMPONENT", "component", false},
    {"OPENED", "opened", true},
    {"ACKED BY", "acked_by", false},
    {"CLOSED", "closed", true},
};

static const struct ctl_column fault_fields[] = {
    {"Fault", "id", false},
    {"State", "state", false},
    {"Severity", "severity", false},
    {"Kind", "kind", false},
    {"Component", "component", false},
    {"Signal", "signal", false},
    {"Opened", "opened", true},
    {"Acknowledged", "acked", true},
    {"Acknowledged by", "acked_by", false},
    {"Closed", "closed", true},
    {"Closed by", "closed_by", false},
};

static const struct ctl_column notice_cols[] = {
    {"PATH", "path", false},   {"LEVEL", "level", false},
    {"KIND", "kind", false},   {"ADDRESS", "address", false},
    {"STATE", "state", false}, {"TRIES", "attempts", false},
    {"AT", "at", true},        {"RECEIPT", "text", false},
};

static const struct ctl_column log_cols[] = {
    {"AT", "at", true},
    {"WHAT", "what", false},
    {"BY", "actor", false},
    {"TEXT", "text", false},
};

int ctl_cmd_health(struct ctl *c, int argc, char **argv)
{
    json_t *doc;
    (void)argv;
    if (argc != 0) {
        return CTL_USAGE;
    }
    int rv = ctl_call(c, "GET", "/v1/health", NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        printf("Status: %s (node %s, %s; leader %s)\n",
               json_string_value(json_object_get(doc, "status")),
               json_string_value(json_object_get(doc, "node")),
               json_string_value(json_object_get(doc, "role")),
               *json_string_value(json_object_get(doc, "leader")) != 0
                   ? json_string_value(json_object_get(doc, "leader"))
                   : "none");
        printf("\nCluster signals:\n");
        ctl_table(json_object_get(doc, "signals"), CTL_COLS(signals));
        printf("\nThis node:\n");
        ctl_table(json_object_get(doc, "local"), CTL_COLS(signals));
        printf("\nOpen faults:\n");
        ctl_table(json_object_get(doc, "faults"), CTL_COLS(faults));
    }
    json_decref(doc);
    return CTL_OK;
}

static int show(struct ctl *c, const char *id)
{
    char path[256];
    json_t *doc;
    int rv = ctl_call(c, "GET", ctl_path(path, sizeof(path), "/v1/faults/%s", id), NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        ctl_fields(doc, CTL_COLS(fault_fields));
        printf("\nLog:\n");
        ctl_table(json_object_get(doc, "log"), CTL_COLS(log_cols));
        if (json_array_size(json_object_get(doc, "notifications")) > 0) {
            printf("\nNotifications:\n");
            ctl_table(json_object_get(doc, "notifications"), CTL_COLS(notice_cols));
        }
    }
    json_decref(doc);
    return CTL_OK;
}

/* ack ID [--note TEXT], note ID TEXT, close ID [--note TEXT] */
static int act(struct ctl *c, int argc, char **argv)
{
    char path[256], done[300];
    const char *verb = argv[0];
    bool is_note = strcmp(verb, "note") == 0;
    const char *text = is_note ? (argc >= 3 ? argv[2] : NULL) : ctl_opt(argc, argv, "note");
    if (argc < 2 || (is_note && text == NULL) || ctl_extra(argc, argv, is_note ? 3 : 2, verb)) {
        fprintf(stderr, "contactctl: fault %s\n",
                is_note ? "note ID TEXT" : "ack|close ID [--note TEXT]");
        return CTL_USAGE;
    }
    json_t *body = text != NULL ? json_pack("{s:s}", "note", text) : json_object();
    snprintf(done, sizeof(done), "fault %s %s", argv[1],
             strcmp(verb, "ack") == 0 ? "acknowledged"
             : is_note                ? "noted"
                                      : "closed");
    const char *p = strcmp(verb, "ack") == 0
                        ? ctl_path(path, sizeof(path), "/v1/faults/%s/ack", argv[1])
                    : is_note ? ctl_path(path, sizeof(path), "/v1/faults/%s/note", argv[1])
                              : ctl_path(path, sizeof(path), "/v1/faults/%s/close", argv[1]);
    return ctl_change(c, "POST", p, body, done);
}

int ctl_cmd_fault(struct ctl *c, int argc, char **argv)
{
    char path[256];
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        const char *state = ctl_opt(argc, argv, "state");
        if (ctl_extra(argc, argv, 1, "fault list")) {
            return CTL_USAGE;
        }
        return ctl_get_show(
            c, ctl_path(path, sizeof(path), "/v1/faults?state=%s", state ? state : "all"),
            CTL_COLS(faults), true);
    }
    if (argc == 2 && strcmp(argv[0], "show") == 0) {
        return show(c, argv[1]);
    }
    if (argc >= 2 && (strcmp(argv[0], "ack") == 0 || strcmp(argv[0], "note") == 0 ||
                      strcmp(argv[0], "close") == 0)) {
        return act(c, argc, argv);
    }
    return CTL_USAGE;
}
