/* contactctl contact, events: contacts and the feed of what happens to them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ops/contactctl/ctl.h"

static const struct ctl_column contacts[] = {
    {"ID", "id", false},
    {"CHANNEL", "channel", false},
    {"STATE", "state", false},
    {"QUEUE", "queue", false},
    {"AGENT", "agent", false},
    {"OFFER", "offer", false},
    {"PRIORITY", "priority", false},
    {"STEP", "step", false},
    {"ARRIVED", "arrived", true},
};

static const struct ctl_column contact_fields[] = {
    {"Contact", "id", false},
    {"Channel", "channel", false},
    {"State", "state", false},
    {"Queue", "queue", false},
    {"Agent", "agent", false},
    {"Offer", "offer", false},
    {"Priority", "priority", false},
    {"Key", "key", false},
    {"Arrived", "arrived", true},
    {"Answered", "answered", true},
    {"Ended", "ended", true},
    {"Reason", "reason", false},
    {"Attributes", "attributes", false},
    {"Skills", "skills", false},
    {"Session", "session", false},
};

static int create(struct ctl *c, int argc, char **argv)
{
    char key[64];
    const char *channel = ctl_opt(argc, argv, "channel");
    const char *k = ctl_opt(argc, argv, "key");
    const char *queue = ctl_opt(argc, argv, "queue");
    const char *priority = ctl_opt(argc, argv, "priority");
    json_t *attrs = ctl_pairs(argc, argv, 1, "--attr", false), *doc;
    if (channel == NULL || attrs == NULL) {
        if (channel == NULL) {
            fprintf(stderr, "contactctl: contact create needs --channel\n");
        }
        json_decref(attrs);
        return CTL_USAGE;
    }
    /* A key makes a retry on another node safe: the same key never creates a second. */
    snprintf(key, sizeof(key), "ctl-%ld-%ld", (long)time(NULL), (long)getpid());
    json_t *body =
        json_pack("{s:s,s:s,s:o}", "channel", channel, "key", k ? k : key, "attributes", attrs);
    if (queue != NULL) {
        json_object_set_new(body, "queue", json_string(queue));
    }
    if (priority != NULL) {
        json_object_set_new(body, "priority", json_integer(atoi(priority)));
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    c->replay_safe = true;
    int rv = ctl_call(c, "POST", "/v1/contacts", text, &doc);
    c->replay_safe = false;
    free(text);
    if (rv == CTL_OK) {
        if (c->json) {
            ctl_print_json(doc);
        } else {
            printf("contact %lld%s\n", json_integer_value(json_object_get(doc, "id")),
                   json_is_true(json_object_get(doc, "existing")) ? " (existing)" : "");
        }
        json_decref(doc);
    }
    return rv;
}

static int list(struct ctl *c, int argc, char **argv)
{
    static const char *const filters[][2] = {
        {"state", "state"},     {"queue", "queue"},           {"agent", "agent"},
        {"channel", "channel"}, {"min-age-ms", "min_age_ms"}, {"limit", "limit"},
    };
    char path[1024] = "/v1/contacts?";
    ctl_query(path, sizeof(path), argc, argv, filters, sizeof(filters) / sizeof(filters[0]));
    if (ctl_extra(argc, argv, 1, "contact list")) {
        return CTL_USAGE;
    }
    return ctl_get_show(c, path, CTL_COLS(contacts), true);
}

static int transfer(struct ctl *c, const char *id, int argc, char **argv)
{
    char path[512], done[300];
    json_t *body = json_object();
    static const char *const to[] = {"queue", "agent", "target"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = ctl_opt(argc, argv, to[i]);
        if (v != NULL) {
            json_object_set_new(body, to[i], json_string(v));
            snprintf(done, sizeof(done), "contact %s transferred to %s %s", id, to[i], v);
        }
    }
    if (json_object_size(body) != 1) {
        fprintf(stderr,
                "contactctl: contact transfer needs one of --queue, --agent, --target\n");
        json_decref(body);
        return CTL_USAGE;
    }
    return ctl_change(c, "POST", ctl_path(path, sizeof(path), "/v1/contacts/%s/transfer", id),
                      body, done);
}

static int explain(struct ctl *c, const char *id)
{
    char path[512];
    json_t *doc;
    int rv = ctl_call(c, "GET", ctl_path(path, sizeof(path), "/v1/contacts/%s/explain", id),
                      NULL, &doc);
    if (rv == CTL_OK) {
        if (c->json) {
            ctl_print_json(doc);
        } else {
            printf("%s\n", json_string_value(json_object_get(doc, "explanation")));
        }
        json_decref(doc);
    }
    return rv;
}

int ctl_cmd_contact(struct ctl *c, int argc, char **argv)
{
    char path[512], done[300];
    if (argc >= 1 && strcmp(argv[0], "create") == 0) {
        return create(c, argc, argv);
    }
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        return list(c, argc, argv);
    }
    if (argc < 2) {
        return CTL_USAGE;
    }
    const char *verb = argv[0], *id = argv[1];
    if (argc == 2 && strcmp(verb, "show") == 0) {
        return ctl_get_show(c, ctl_path(path, sizeof(path), "/v1/contacts/%s", id),
                            CTL_COLS(contact_fields), false);
    }
    if (argc == 2 && strcmp(verb, "explain") == 0) {
        return explain(c, id);
    }
    if (argc == 2 && (strcmp(verb, "abandon") == 0 || strcmp(verb, "end") == 0 ||
                      strcmp(verb, "wrapup-done") == 0 || strcmp(verb, "callback") == 0 ||
                      strcmp(verb, "hold") == 0 || strcmp(verb, "resume") == 0)) {
        snprintf(done, sizeof(done), "contact %s: %s", id, verb);
        return ctl_change(c, "POST",
                          ctl_path(path, sizeof(path), "/v1/contacts/%s/%s", id, verb), NULL,
                          done);
    }
    if (strcmp(verb, "transfer") == 0) {
        return transfer(c, id, argc, argv);
    }
    if (strcmp(verb, "session") == 0) {
        const char *home = ctl_opt(argc, argv, "home"), *key = ctl_opt(argc, argv, "key");
        if (home == NULL || ctl_extra(argc, argv, 2, "contact session")) {
            fprintf(stderr, "contactctl: contact session ID --home MEMBER [--key K]\n");
            return CTL_USAGE;
        }
        json_t *body = json_pack("{s:s}", "home", home);
        if (key != NULL) {
            json_object_set_new(body, "key", json_string(key));
        }
        snprintf(done, sizeof(done), "contact %s: session at %s", id, home);
        return ctl_change(c, "PUT", ctl_path(path, sizeof(path), "/v1/contacts/%s/session", id),
                          body, done);
    }
    if (argc == 2 && strcmp(verb, "session-end") == 0) {
        snprintf(done, sizeof(done), "contact %s: session ended", id);
        return ctl_change(c, "DELETE",
                          ctl_path(path, sizeof(path), "/v1/contacts/%s/session", id), NULL,
                          done);
    }
    if (argc >= 3 && strcmp(verb, "attrs") == 0) {
        json_t *attrs = ctl_pairs(argc, argv, 2, NULL, false);
        if (attrs == NULL) {
            return CTL_USAGE;
        }
        snprintf(done, sizeof(done), "contact %s: attributes set", id);
        return ctl_change(c, "PUT",
                          ctl_path(path, sizeof(path), "/v1/contacts/%s/attributes", id),
                          json_pack("{s:o}", "attributes", attrs), done);
    }
    return CTL_USAGE;
}

/* contactctl history [--from MS] [--to MS] [--limit N]: finished contacts. */
int ctl_cmd_history(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_column finished[] = {
        {"ID", "id", false},
        {"CHANNEL", "channel", false},
        {"OUTCOME", "state", false},
        {"QUEUE", "queue", false},
        {"AGENT", "agent", false},
        {"ARRIVED", "arrived", true},
        {"ANSWERED", "answered", true},
        {"ENDED", "ended", true},
        {"REASON", "reason", false},
    };
    static const char *const filters[][2] = {
        {"from", "from"}, {"to", "to"}, {"limit", "limit"}, {"key", "key"}, {"attr", "attr"}};
    char path[1200] = "/v1/history?";
    ctl_query(path, sizeof(path), argc, argv, filters, 5);
    if (ctl_extra(argc, argv, 0, "history")) {
        return CTL_USAGE;
    }
    return ctl_get_show(c, path, CTL_COLS(finished), true);
}

/* ---- events ---------------------------------------------------------------------------- */

static void print_event(const json_t *e)
{
    const char *keys[] = {"contact", "channel", "queue", "agent",
                          "offer",   "state",   "text",  "version"};
    printf("%-12s %-14s", json_string_value(json_object_get(e, "id")),
           json_string_value(json_object_get(e, "kind")));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(e, keys[i]);
        if (json_is_string(v)) {
            printf(" %s=%s", keys[i], json_string_value(v));
        } else if (json_is_integer(v)) {
            printf(" %s=%lld", keys[i], (long long)json_integer_value(v));
        }
    }
    putchar('\n');
}

int ctl_cmd_events(struct ctl *c, int argc, char **argv)
{
    static const char *const names[][2] = {
        {"agent", "agent"}, {"contact", "contact"}, {"kind", "kind"}};
    char after[64], filters[600] = "", path[1024];
    const char *from = ctl_opt(argc, argv, "after");
    bool follow = ctl_flag(argc, argv, "follow");
    ctl_query(filters, sizeof(filters), argc, argv, names, 3);
    if (ctl_extra(argc, argv, 0, "events")) {
        return CTL_USAGE;
    }
    snprintf(after, sizeof(after), "%s", from ? from : (follow ? "now" : "0.0"));
    do {
        json_t *doc, *e;
        size_t i;
        ctl_path(path, sizeof(path), "/v1/events?after=%s&wait_ms=", after);
        snprintf(path + strlen(path), sizeof(path) - strlen(path), "%d%s", follow ? 10000 : 0,
                 filters);
        int rv = ctl_call(c, "GET", path, NULL, &doc);
        if (rv != CTL_OK) {
            return rv; /* 410: the events after `after` are no longer kept */
        }
        json_array_foreach(json_object_get(doc, "events"), i, e)
        {
            if (c->json) {
                json_dumpf(e, stdout, JSON_COMPACT);
                putchar('\n');
            } else {
                print_event(e);
            }
        }
        fflush(stdout);
        bool more = json_array_size(json_object_get(doc, "events")) > 0;
        snprintf(after, sizeof(after), "%s",
                 json_string_value(json_object_get(doc, "last_id")));
        json_decref(doc);
        if (!follow && !more) {
            break;
        }
    } while (true);
    return CTL_OK;
}
