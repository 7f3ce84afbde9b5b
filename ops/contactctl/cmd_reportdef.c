/* contactctl reportdef: report definitions, versioned like the routing model
 * (GET/PUT /v1/report-definitions...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const struct ctl_column listed[] = {
    {"NAME", "name", false},         {"VERSION", "version", false}, {"TITLE", "title", false},
    {"SCHEDULE", "schedule", false}, {"CHANGED", "at", true},       {"BY", "actor", false},
};
static const struct ctl_column versions[] = {
    {"VERSION", "version", false},
    {"CHANGED", "at", true},
    {"BY", "actor", false},
    {"COMMENT", "comment", false},
    {"TITLE", "definition.title", false},
};

/* The file's JSON object with comment and version added as asked; NULL (said) when bad. */
static json_t *read_definition(const char *file, const char *comment, const char *expect)
{
    json_error_t err;
    char *text = ctl_read_file(file);
    if (text == NULL) {
        return NULL;
    }
    json_t *def = json_loads(text, 0, &err);
    free(text);
    if (!json_is_object(def)) {
        fprintf(stderr, "contactctl: %s:%d:%d: %s\n", file, err.line, err.column,
                def == NULL ? err.text : "expected a JSON object");
        json_decref(def);
        return NULL;
    }
    if (comment != NULL) {
        json_object_set_new(def, "comment", json_string(comment));
    }
    if (expect != NULL) {
        json_object_set_new(def, "version", json_integer(strtoll(expect, NULL, 10)));
    }
    return def;
}

static int show(struct ctl *c, const char *name, const char *version)
{
    char path[256];
    json_t *doc;
    ctl_path(path, sizeof(path), "/v1/report-definitions/%s", name);
    if (version != NULL) {
        size_t n = strlen(path);
        ctl_path(path + n, sizeof(path) - n, "?version=%s", version);
    }
    int rv = ctl_call(c, "GET", path, NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        char at[40];
        printf("%s version %lld of %lld, by %s at %s: %s\n",
               json_string_value(json_object_get(doc, "name")),
               (long long)json_integer_value(json_object_get(doc, "version")),
               (long long)json_integer_value(json_object_get(doc, "current")),
               json_string_value(json_object_get(doc, "actor")),
               ctl_time(json_integer_value(json_object_get(doc, "at")), at, sizeof(at)),
               json_string_value(json_object_get(doc, "comment")));
        char *text = json_dumps(json_object_get(doc, "definition"), JSON_INDENT(2));
        printf("%s\n", text ? text : "");
        free(text);
    }
    json_decref(doc);
    return CTL_OK;
}

static int diff(struct ctl *c, int argc, char **argv)
{
    static const char *const opts[][2] = {{"from", "from"}, {"to", "to"}};
    char path[512];
    json_t *doc;
    ctl_path(path, sizeof(path), "/v1/report-definitions/%s/diff?", argv[1]);
    ctl_query(path, sizeof(path), argc, argv, opts, 2);
    if (ctl_extra(argc, argv, 2, "reportdef diff")) {
        return CTL_USAGE;
    }
    int rv = ctl_call(c, "GET", path, NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        size_t i;
        json_t *ch;
        printf("%s: version %lld to %lld\n", argv[1],
               (long long)json_integer_value(json_object_get(doc, "from")),
               (long long)json_integer_value(json_object_get(doc, "to")));
        json_array_foreach(json_object_get(doc, "changes"), i, ch)
        {
            char *a = json_dumps(json_object_get(ch, "from"), JSON_COMPACT | JSON_ENCODE_ANY);
            char *b = json_dumps(json_object_get(ch, "to"), JSON_COMPACT | JSON_ENCODE_ANY);
            printf("  %s:\n    - %s\n    + %s\n",
                   json_string_value(json_object_get(ch, "field")), a ? a : "(none)",
                   b ? b : "(none)");
            free(a);
            free(b);
        }
        if (json_array_size(json_object_get(doc, "changes")) == 0) {
            printf("  (no change)\n");
        }
    }
    json_decref(doc);
    return CTL_OK;
}

int ctl_cmd_reportdef(struct ctl *c, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    char path[256];
    if (strcmp(verb, "list") == 0) {
        if (ctl_extra(argc, argv, 1, "reportdef list")) {
            return CTL_USAGE;
        }
        return ctl_get_show(c, "/v1/report-definitions", CTL_COLS(listed), true);
    }
    if (strcmp(verb, "show") == 0 && argc >= 2) {
        const char *version = ctl_opt(argc, argv, "version");
        return ctl_extra(argc, argv, 2, "reportdef show") ? CTL_USAGE
                                                          : show(c, argv[1], version);
    }
    if (strcmp(verb, "history") == 0 && argc == 2) {
        ctl_path(path, sizeof(path), "/v1/report-definitions/%s/versions", argv[1]);
        return ctl_get_show(c, path, CTL_COLS(versions), true);
    }
    if (strcmp(verb, "deliveries") == 0 && argc == 2) {
        json_t *doc;
        ctl_path(path, sizeof(path), "/v1/report-definitions/%s/deliveries", argv[1]);
        int rv = ctl_call(c, "GET", path, NULL, &doc);
        if (rv == CTL_OK && c->json) {
            ctl_print_json(doc);
        } else if (rv == CTL_OK) {
            size_t i, k;
            json_t *r, *t;
            char at[40];
            json_array_foreach(json_object_get(doc, "items"), i, r)
            {
                printf("slot %s (version %lld)\n",
                       ctl_time(json_integer_value(json_object_get(r, "slot")), at, sizeof(at)),
                       (long long)json_integer_value(json_object_get(r, "version")));
                json_array_foreach(json_object_get(r, "deliveries"), k, t)
                {
                    char *to = json_dumps(json_object_get(t, "to"), JSON_COMPACT);
                    const json_t *text = json_object_get(t, "receipt");
                    printf("  %-8s attempts %lld  %s  %s\n",
                           json_string_value(json_object_get(t, "state")),
                           (long long)json_integer_value(json_object_get(t, "attempts")),
                           to ? to : "",
                           json_string_value(text ? text : json_object_get(t, "error")));
                    free(to);
                }
            }
        }
        json_decref(doc);
        return rv;
    }
    if (strcmp(verb, "diff") == 0 && argc >= 2) {
        return diff(c, argc, argv);
    }
    if ((strcmp(verb, "put") == 0 && argc >= 3) ||
        (strcmp(verb, "validate") == 0 && argc >= 2)) {
        bool put = verb[0] == 'p';
        const char *comment = ctl_opt(argc, argv, "comment");
        const char *expect = ctl_opt(argc, argv, "expect");
        if (ctl_extra(argc, argv, put ? 3 : 2, put ? "reportdef put" : "reportdef validate")) {
            return CTL_USAGE;
        }
        json_t *def =
            read_definition(argv[put ? 2 : 1], put ? comment : NULL, put ? expect : NULL);
        if (def == NULL) {
            return CTL_USAGE;
        }
        if (put) {
            json_t *doc;
            char *text = json_dumps(def, JSON_COMPACT);
            json_decref(def);
            ctl_path(path, sizeof(path), "/v1/report-definitions/%s", argv[1]);
            int rv = ctl_call(c, "PUT", path, text, &doc);
            free(text);
            if (rv == CTL_OK && c->json) {
                ctl_print_json(doc);
            } else if (rv == CTL_OK) {
                printf("%s: version %lld%s\n", argv[1],
                       (long long)json_integer_value(json_object_get(doc, "version")),
                       json_is_true(json_object_get(doc, "existing"))
                           ? " (unchanged: the same as the current version)"
                           : "");
            }
            json_decref(doc);
            return rv;
        }
        return ctl_change(c, "POST", "/v1/report-definitions/validate", def, "valid");
    }
    if (strcmp(verb, "rollback") == 0 && argc >= 3) {
        const char *comment = ctl_opt(argc, argv, "comment");
        if (ctl_extra(argc, argv, 3, "reportdef rollback")) {
            return CTL_USAGE;
        }
        json_t *body = json_pack("{s:I}", "version", (json_int_t)strtoll(argv[2], NULL, 10));
        if (comment != NULL) {
            json_object_set_new(body, "comment", json_string(comment));
        }
        ctl_path(path, sizeof(path), "/v1/report-definitions/%s/rollback", argv[1]);
        return ctl_change(c, "POST", path, body, "rolled back");
    }
    if (strcmp(verb, "delete") == 0 && argc == 2) {
        ctl_path(path, sizeof(path), "/v1/report-definitions/%s", argv[1]);
        return ctl_change(c, "DELETE", path, NULL, "deleted");
    }
    return ctl_usage();
}
