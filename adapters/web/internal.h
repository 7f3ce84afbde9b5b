/* Private to adapters/web: the files as load.c reads them and serve.c answers them. */
#ifndef CD_WEB_INTERNAL_H
#define CD_WEB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/web/web.h"

/* A strong ETag: a quoted hex of the first 16 bytes of the file's SHA-256. */
#define WEB__ETAG_MAX 40

struct web__file
{
    char *path; /* what a request names: "/chat/index.html" */
    char *body;
    size_t len;
    const char *type; /* Content-Type, static storage */
    char etag[WEB__ETAG_MAX];
    bool embedded; /* under WEB_EMBEDDED: other sites may frame it */
};

struct web
{
    struct web__file *files; /* sorted by path */
    size_t n_files, cap_files;
    size_t bytes, max_bytes;
    char (*mounts)[WEB_NAME_MAX]; /* sorted */
    size_t n_mounts, cap_mounts;
};

/* load.c: the file named by path (NUL-terminated), or NULL. */
const struct web__file *web__find(const struct web *w, const char *path);
/* The Content-Type of a file name by its extension. */
const char *web__type_of(const char *name);

#endif
