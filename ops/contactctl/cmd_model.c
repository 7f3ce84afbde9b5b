/* contactctl model, audit: the routing model as versioned configuration (and the saved
 * models a runbook installs), and the audit of every change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"

static const struct ctl_column saved[] = {
    {"NAME", "name", false},   {"SAVED", "at", true},         {"BY", "actor", false},
    {"BYTES", "bytes", false}, {"COMMENT", "comment", false},
};

static const struct ctl_column versions[] = {
    {"VERSION", "version", false},
    {"INSTALLED", "installed_at", true},
    {"ACTOR", "actor", false},
    {"RUNNING", "running", false},
    {"ROLLBACK OF", "rollback_of", false},
    {"COMMENT", "comment", false},
};

static void print_changes(const json_t *changes)
{
    size_t i;
    json_t *line;
    if (json_array_size(changes) == 0) {
        printf("  (no changes)\n");
    }
    json_array_foreach(changes, i, line)
    {
        printf("  %s\n", json_string_value(line));
    }
}

/* "?comment=.." from the options. Who installs it is the token's principal: the node
 * records that, never a name the request gives. */
static const char *who_and_why(char *buf, size_t len, int argc, char **argv)
{
    const char *comment = ctl_opt(argc, argv, "comment");
    return ctl_path(buf, len, "?comment=%s", comment ? comment : "");
}

static int with_file(struct ctl *c, const char *verb, const char *file, int argc, char **argv)
{
    char path[1024], query[700];
    json_t *doc;
    char *text = ctl_read_file(file);
    if (text == NULL) {
        return CTL_USAGE;
    }
    bool apply = strcmp(verb, "apply") == 0;
    snprintf(path, sizeof(path), "/v1/model%s%s", apply ? "" : "/",
             apply ? who_and_why(query, sizeof(query), argc, argv) : verb);
    if (ctl_extra(argc, argv, 2, "model")) {
        free(text);
        return CTL_USAGE;
    }
    int rv = ctl_call(c, "POST", path, text, &doc);
    free(text);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else if (strcmp(verb, "validate") == 0) {
        printf("%s: valid (%lld skills, %lld queues, %lld agents, %lld rules)\n", file,
               json_integer_value(json_object_get(doc, "skills")),
               json_integer_value(json_object_get(doc, "queues")),
               json_integer_value(json_object_get(doc, "agents")),
               json_integer_value(json_object_get(doc, "rules")));
    } else if (apply) {
        printf("installed as version %lld:\n",
               json_integer_value(json_object_get(doc, "version")));
        print_changes(json_object_get(doc, "changes"));
    } else {
        printf("against running version %lld:\n",
               json_integer_value(json_object_get(doc, "from_version")));
        print_changes(json_object_get(doc, "changes"));
    }
    json_decref(doc);
    return CTL_OK;
}

static int rollback(struct ctl *c, const char *version, int argc, char **argv)
{
    char path[1024], query[700], *end;
    json_t *doc;
    long v = strtol(version, &end, 10);
    if (*end != 0 || v < 1) {
        fprintf(stderr, "contactctl: '%s' is not a version number\n", version);
        return CTL_USAGE;
    }
    const char *comment = ctl_opt(argc, argv, "comment");
    snprintf(path, sizeof(path), "/v1/model/rollback%s",
             who_and_why(query, sizeof(query), argc, argv));
    json_t *req = json_pack("{s:I,s:s}", "version", (json_int_t)v, "comment",
                            comment ? comment : "rollback");
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    int rv = ctl_call(c, "POST", path, body, &doc);
    free(body);
    if (rv == CTL_OK) {
        if (c->json) {
            ctl_print_json(doc);
        } else {
            printf("version %ld installed again as version %lld:\n", v,
                   json_integer_value(json_object_get(doc, "version")));
            print_changes(json_object_get(doc, "changes"));
        }
        json_decref(doc);
    }
    return rv;
}

/* GET path and print its "source" as it is (the whole answer with --output json). */
static int print_source(struct ctl *c, const char *path)
{
    json_t *doc;
    int rv = ctl_call(c, "GET", path, NULL, &doc);
    if (rv == CTL_OK) {
        if (c->json) {
            ctl_print_json(doc);
        } else {
            fputs(json_string_value(json_object_get(doc, "source")), stdout);
        }
        json_decref(doc);
    }
    return rv;
}

static int show(struct ctl *c, const char *version)
{
    char path[256];
    if (version == NULL) {
        return print_source(c, "/v1/model");
    }
    return print_source(c, ctl_path(path, sizeof(path), "/v1/model/versions/%s", version));
}

/* save NAME FILE [--comment C]: the file's text kept by name, for a runbook to install; the
 * node checks it as `model validate` does. */
static int save(struct ctl *c, const char *name, const char *file, int argc, char **argv)
{
    char path[1024], query[700];
    json_t *doc;
    size_t n = strlen(ctl_path(path, sizeof(path), "/v1/model/saved/%s", name));
    snprintf(path + n, sizeof(path) - n, "%s", who_and_why(query, sizeof(query), argc, argv));
    if (ctl_extra(argc, argv, 3, "model save")) {
        return CTL_USAGE;
    }
    char *text = ctl_read_file(file);
    if (text == NULL) {
        return CTL_USAGE;
    }
    int rv = ctl_call(c, "POST", path, text, &doc);
    free(text);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        printf("saved model %s %s\n", name,
               json_is_true(json_object_get(doc, "existing")) ? "replaced" : "saved");
    }
    json_decref(doc);
    return CTL_OK;
}

/* saved: the saved models; saved NAME: one's text, as it was saved. */
static int show_saved(struct ctl *c, const char *name)
{
    char path[256];
    if (name == NULL) {
        return ctl_get_show(c, "/v1/model/saved", CTL_COLS(saved), true);
    }
    return print_source(c, ctl_path(path, sizeof(path), "/v1/model/saved/%s", name));
}

int ctl_cmd_model(struct ctl *c, int argc, char **argv)
{
    json_t *doc;
    if (argc >= 2 && (strcmp(argv[0], "validate") == 0 || strcmp(argv[0], "diff") == 0 ||
                      strcmp(argv[0], "apply") == 0)) {
        return with_file(c, argv[0], argv[1], argc, argv);
    }
    if (argc >= 2 && strcmp(argv[0], "rollback") == 0) {
        int rv = rollback(c, argv[1], argc, argv);
        return rv;
    }
    if (argc == 1 && strcmp(argv[0], "history") == 0) {
        int rv = ctl_call(c, "GET", "/v1/model/versions", NULL, &doc);
        if (rv == CTL_OK) {
            ctl_show(c, doc, CTL_COLS(versions), true);
            json_decref(doc);
        }
        return rv;
    }
    if ((argc == 1 || argc == 2) && strcmp(argv[0], "show") == 0) {
        return show(c, argc == 2 ? argv[1] : NULL);
    }
    if (argc >= 3 && strcmp(argv[0], "save") == 0) {
        return save(c, argv[1], argv[2], argc, argv);
    }
    if ((argc == 1 || argc == 2) && strcmp(argv[0], "saved") == 0) {
        return show_saved(c, argc == 2 ? argv[1] : NULL);
    }
    if (argc == 2 && strcmp(argv[0], "forget") == 0) {
        char path[256], done[300];
        snprintf(done, sizeof(done), "saved model %s forgotten", argv[1]);
        return ctl_change(c, "DELETE",
                          ctl_path(path, sizeof(path), "/v1/model/saved/%s", argv[1]), NULL,
                          done);
    }
    return CTL_USAGE;
}

/* contactctl audit [--actor A] [--action X] [--object O] [--from MS] [--to MS] [--limit N]
 * [--before ID]: who changed what and when, newest first. */
int ctl_cmd_audit(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_column records[] = {
        {"ID", "id", false},         {"AT", "at", true},          {"ACTOR", "actor", false},
        {"ACTION", "action", false}, {"OBJECT", "object", false},
    };
    static const char *const filters[][2] = {
        {"actor", "actor"}, {"action", "action"}, {"object", "object"}, {"from", "from"},
        {"to", "to"},       {"limit", "limit"},   {"before", "before"}};
    char path[1200] = "/v1/audit?";
    json_t *doc;
    ctl_query(path, sizeof(path), argc, argv, filters, sizeof(filters) / sizeof(filters[0]));
    if (ctl_extra(argc, argv, 0, "audit")) {
        return CTL_USAGE;
    }
    int rv = ctl_call(c, "GET", path, NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    ctl_show(c, doc, CTL_COLS(records), true);
    const char *next = json_string_value(json_object_get(doc, "next"));
    if (!c->json && next != NULL) {
        printf("(more: --before %s)\n", next);
    }
    if (!c->json && !json_is_true(json_object_get(doc, "complete"))) {
        printf("(this node is still copying records it missed from another member)\n");
    }
    json_decref(doc);
    return CTL_OK;
}
