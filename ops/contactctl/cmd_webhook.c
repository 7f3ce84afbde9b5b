/* contactctl webhook: subscriptions of an integrator's URL to events (docs/api.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"

static const struct ctl_column hooks[] = {
    {"ID", "id", false},
    {"URL", "url", false},
    {"KINDS", "kinds", false},
    {"THROUGH", "delivered_through", false},
    {"DELIVERED", "delivered", false},
    {"FAILED", "failed_attempts", false},
    {"CREATED", "created", true},
};

static const struct ctl_column hook_fields[] = {
    {"Webhook", "id", false},
    {"URL", "url", false},
    {"Kinds", "kinds", false},
    {"Delivered through", "delivered_through", false},
    {"Events delivered", "delivered", false},
    {"Failed attempts", "failed_attempts", false},
    {"Next attempt", "next_attempt_at", true},
    {"Created", "created", true},
};

static const struct ctl_column attempts[] = {
    {"AT", "at", true},          {"OK", "ok", false},       {"STATUS", "status", false},
    {"EVENTS", "events", false}, {"AFTER", "after", false}, {"THROUGH", "through", false},
    {"TEXT", "text", false},
};

/* --kinds K,K,... into a JSON array. */
static json_t *kinds_of(const char *list)
{
    json_t *arr = json_array();
    char buf[512], *save;
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *k = strtok_r(buf, ",", &save); k != NULL; k = strtok_r(NULL, ",", &save)) {
        json_array_append_new(arr, json_string(k));
    }
    return arr;
}

static int add(struct ctl *c, int argc, char **argv)
{
    const char *secret = ctl_opt(argc, argv, "secret");
    const char *kinds = ctl_opt(argc, argv, "kinds");
    json_t *doc;
    if (argc < 2 || secret == NULL || kinds == NULL ||
        ctl_extra(argc, argv, 2, "webhook add")) {
        fprintf(stderr, "contactctl: webhook add URL --secret S --kinds K,K...\n");
        return CTL_USAGE;
    }
    json_t *body =
        json_pack("{s:s,s:s,s:o}", "url", argv[1], "secret", secret, "kinds", kinds_of(kinds));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    int rv = ctl_call(c, "POST", "/v1/webhooks", text, &doc);
    free(text);
    if (rv == CTL_OK) {
        if (c->json) {
            ctl_print_json(doc);
        } else {
            printf("webhook %lld\n", json_integer_value(json_object_get(doc, "id")));
        }
        json_decref(doc);
    }
    return rv;
}

static int show(struct ctl *c, const char *id)
{
    char path[256];
    json_t *doc;
    int rv =
        ctl_call(c, "GET", ctl_path(path, sizeof(path), "/v1/webhooks/%s", id), NULL, &doc);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        ctl_fields(doc, CTL_COLS(hook_fields));
        printf("\nLatest attempts:\n");
        ctl_table(json_object_get(doc, "deliveries"), CTL_COLS(attempts));
    }
    json_decref(doc);
    return CTL_OK;
}

int ctl_cmd_webhook(struct ctl *c, int argc, char **argv)
{
    char path[256], done[300];
    if (argc >= 1 && strcmp(argv[0], "add") == 0) {
        return add(c, argc, argv);
    }
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        return ctl_get_show(c, "/v1/webhooks", CTL_COLS(hooks), true);
    }
    if (argc == 2 && strcmp(argv[0], "show") == 0) {
        return show(c, argv[1]);
    }
    if (argc == 2 && strcmp(argv[0], "delete") == 0) {
        snprintf(done, sizeof(done), "webhook %s deleted", argv[1]);
        return ctl_change(c, "DELETE", ctl_path(path, sizeof(path), "/v1/webhooks/%s", argv[1]),
                          NULL, done);
    }
    return CTL_USAGE;
}
