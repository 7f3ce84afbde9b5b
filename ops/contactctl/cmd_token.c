/* contactctl token, whoami: API tokens (docs/api.md, docs/security.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"

static const struct ctl_column tokens[] = {
    {"ID", "id", false},
    {"NAME", "name", false},
    {"KIND", "kind", false},
    {"ROLE", "role", false},
    {"AGENT", "agent", false},
    {"USER", "user", false},
    {"CREATED BY", "created_by", false},
    {"CREATED", "created_at", true},
    {"EXPIRES", "expires_at", true},
};

static const struct ctl_column principal[] = {
    {"Actor", "actor", false},
    {"Role", "role", false},
    {"Agent", "agent", false},
    {"Token id", "token_id", false},
};

/* token create NAME --role R [--agent A] [--expires-at MS]: prints the secret, once. */
static int create(struct ctl *c, int argc, char **argv)
{
    const char *role = ctl_opt(argc, argv, "role");
    const char *agent = ctl_opt(argc, argv, "agent");
    const char *expires = ctl_opt(argc, argv, "expires-at");
    json_t *doc;
    if (argc < 2 || role == NULL || ctl_extra(argc, argv, 2, "token create")) {
        fprintf(stderr,
                "contactctl: token create NAME --role ROLE [--agent A] "
                "[--expires-at MS]\n");
        return CTL_USAGE;
    }
    json_t *body = json_pack("{s:s,s:s}", "name", argv[1], "role", role);
    if (agent != NULL) {
        json_object_set_new(body, "agent", json_string(agent));
    }
    if (expires != NULL) {
        char *end;
        long long at = strtoll(expires, &end, 10);
        if (*expires == '\0' || *end != '\0' || at <= 0) {
            fprintf(stderr, "contactctl: --expires-at: ms since the epoch, not '%s'\n",
                    expires);
            json_decref(body);
            return CTL_USAGE;
        }
        json_object_set_new(body, "expires_at", json_integer(at));
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    int rv = ctl_call(c, "POST", "/v1/tokens", text, &doc);
    free(text);
    if (rv != CTL_OK) {
        return rv;
    }
    if (c->json) {
        ctl_print_json(doc);
    } else {
        printf("token %lld: %s\n", json_integer_value(json_object_get(doc, "id")),
               json_string_value(json_object_get(doc, "token")));
        fprintf(stderr,
                "shown once: keep it now (in a file readable by you only); the "
                "cluster keeps only its hash\n");
    }
    json_decref(doc);
    return CTL_OK;
}

int ctl_cmd_token(struct ctl *c, int argc, char **argv)
{
    char path[256], done[300];
    if (argc >= 1 && strcmp(argv[0], "create") == 0) {
        return create(c, argc, argv);
    }
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        return ctl_get_show(c, "/v1/tokens", CTL_COLS(tokens), true);
    }
    if (argc == 2 && strcmp(argv[0], "revoke") == 0) {
        snprintf(done, sizeof(done), "token %s revoked", argv[1]);
        return ctl_change(c, "DELETE", ctl_path(path, sizeof(path), "/v1/tokens/%s", argv[1]),
                          NULL, done);
    }
    return CTL_USAGE;
}

int ctl_cmd_whoami(struct ctl *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        return CTL_USAGE;
    }
    return ctl_get_show(c, "/v1/whoami", CTL_COLS(principal), false);
}
