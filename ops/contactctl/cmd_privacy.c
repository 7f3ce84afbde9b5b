/* contactctl privacy: one customer's personal data, by an attribute that identifies them
 * (docs/security.md, "Personal data"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"

/* --attr K=V into key and value (pointing into a copy in buf). */
static bool attr_of(int argc, char **argv, char *buf, size_t cap, char **key, char **value)
{
    const char *attr = ctl_opt(argc, argv, "attr");
    if (attr == NULL || (size_t)snprintf(buf, cap, "%s", attr) >= cap) {
        return false;
    }
    char *eq = strchr(buf, '=');
    if (eq == NULL || eq == buf || eq[1] == '\0') {
        return false;
    }
    *eq = '\0';
    *key = buf;
    *value = eq + 1;
    return true;
}

int ctl_cmd_privacy(struct ctl *c, int argc, char **argv)
{
    char buf[1024], path[2048];
    char *key, *value;
    json_t *doc;
    if (argc < 1 || !attr_of(argc, argv, buf, sizeof(buf), &key, &value) ||
        ctl_extra(argc, argv, 1, "privacy")) {
        fprintf(stderr, "contactctl: privacy erase|export --attr KEY=VALUE\n");
        return CTL_USAGE;
    }
    if (strcmp(argv[0], "export") == 0) {
        int rv = ctl_call(
            c, "GET",
            ctl_path(path, sizeof(path), "/v1/privacy/export?attr=%s&value=%s", key, value),
            NULL, &doc);
        if (rv == CTL_OK) {
            ctl_print_json(doc); /* what is held, whole: for the customer who asked */
            json_decref(doc);
        }
        return rv;
    }
    if (strcmp(argv[0], "erase") != 0) {
        return CTL_USAGE;
    }
    json_t *body = json_pack("{s:s,s:s}", "attr", key, "value", value);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    int rv = ctl_call(c, "POST", "/v1/privacy/erase", text, &doc);
    free(text);
    if (rv == CTL_OK) {
        if (c->json) {
            ctl_print_json(doc);
        } else {
            printf("erased '%s' from %lld live contacts\n", key,
                   json_integer_value(json_object_get(doc, "contacts")));
        }
        json_decref(doc);
    }
    return rv;
}
