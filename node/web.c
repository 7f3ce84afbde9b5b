/* The pages (adapters/web) as one of the node's adapters: read at start from the node
 * file's web_root (or web_default_root()), each top-level directory mounted on the HTTP
 * listener as "/NAME/" and "/NAME". No pages to serve (the directory is absent, or holds
 * none) is not a failure: the node starts without them and says so once in its log. Pages
 * that cannot be read, or too many bytes of them, fail the start. */
#include <stdio.h>
#include <stdlib.h>

#include "adapters/web/web.h"
#include "common/error.h"
#include "common/log.h"
#include "node/node.h"

struct web_adapter
{
    struct web *web;
};

static int mount_pages(struct web_adapter *a, struct node *n, char *err, size_t errlen)
{
    for (size_t i = 0; i < web_mounts(a->web); i++) {
        char prefix[NODE_HTTP_PREFIX_MAX];
        const char *name = web_mount_name(a->web, i);
        for (int slash = 1; slash >= 0; slash--) {
            snprintf(prefix, sizeof(prefix), "/%s%s", name, slash ? "/" : "");
            int rv = node_http_mount(n, prefix, web_handle, a->web);
            if (rv != 0) {
                snprintf(
                    err, errlen, "web_root: cannot mount '%s': %s", prefix,
                    rv == CD_EINVAL ? "another adapter serves that path" : cd_strerror(rv));
                return rv;
            }
        }
    }
    return 0;
}

static int web_start(void *self, struct node *n, char *err, size_t errlen)
{
    struct web_adapter *a = self;
    const struct config_node *cfg = node_config(n);
    const char *root = cfg->web_root[0] != '\0' ? cfg->web_root : web_default_root();
    char why[512];
    int rv = web_new(root, 0, &a->web, why, sizeof(why));
    if (rv == CD_ENOTFOUND) {
        cd_log(CD_LOG_WARN, "web", "root", root, "msg", "no such directory: serving no pages",
               NULL);
        return 0;
    }
    if (rv != 0) {
        snprintf(err, errlen, "%s", why);
        return rv;
    }
    if (web_mounts(a->web) == 0) {
        cd_log(CD_LOG_WARN, "web", "root", root, "msg", "no pages there: serving none", NULL);
        return 0;
    }
    char files[24], bytes[24];
    snprintf(files, sizeof(files), "%zu", web_files(a->web));
    snprintf(bytes, sizeof(bytes), "%zu", web_bytes(a->web));
    cd_log(CD_LOG_INFO, "web", "root", root, "files", files, "bytes", bytes, NULL);
    return mount_pages(a, n, err, errlen);
}

/* Nothing outlives a request: answers are whole when the handler returns. */
static void web_close(void *self, void (*done)(void *arg), void *arg)
{
    (void)self;
    done(arg);
}

static void web_free_adapter(void *self)
{
    struct web_adapter *a = self;
    web_free(a->web);
    free(a);
}

static const struct node_adapter_ops WEB_OPS = {
    .name = "web",
    .start = web_start,
    .close = web_close,
    .free = web_free_adapter,
};

int node__add_web(struct node *n, char *err, size_t errlen)
{
    struct web_adapter *a = calloc(1, sizeof(*a));
    int rv = a == NULL ? CD_ENOMEM : node_add(n, &WEB_OPS, a);
    if (rv != 0) {
        free(a);
        snprintf(err, errlen, "cannot register the pages: %s", cd_strerror(rv));
    }
    return rv;
}
