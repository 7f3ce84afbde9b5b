/* Whole-file reads for the loaders: configuration and zone files are small. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "config/check.h"

static int read_all(FILE *f, size_t max, char **data, size_t *len, int *sys_errno)
{
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        return CD_ENOMEM;
    }
    for (;;) {
        size_t got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0 || used < cap) {
            break;
        }
        if (cap >= max) {
            free(buf);
            return CD_ETOOBIG;
        }
        cap = cap * 2 > max ? max : cap * 2;
        char *bigger = realloc(buf, cap + 1);
        if (bigger == NULL) {
            free(buf);
            return CD_ENOMEM;
        }
        buf = bigger;
    }
    if (ferror(f)) {
        *sys_errno = errno;
        free(buf);
        return CD_EIO;
    }
    buf[used] = 0;
    *data = buf;
    *len = used;
    return 0;
}

int cfg_read_file(const char *path, size_t max, char **data, size_t *len, int *sys_errno)
{
    *sys_errno = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *sys_errno = errno;
        return errno == ENOENT || errno == ENOTDIR ? CD_ENOTFOUND : CD_EIO;
    }
    int rv = read_all(f, max, data, len, sys_errno);
    fclose(f);
    return rv;
}

int cfg_load_text(const char *path,
                  size_t max,
                  char **text,
                  size_t *len,
                  char *err,
                  size_t errlen)
{
    int sys;
    int rv = cfg_read_file(path, max, text, len, &sys);
    if (rv == 0) {
        return 0;
    }
    if (rv == CD_ETOOBIG) {
        snprintf(err, errlen, "%s: file too large", path);
        return CD_EPARSE;
    }
    snprintf(err, errlen, "%s: cannot read: %s", path,
             rv == CD_ENOMEM ? "out of memory" : strerror(sys));
    return rv == CD_ENOMEM ? rv : CD_EIO;
}
