/* Whole-file reads for the loaders, with plain open(2) and read(2): configuration and zone
 * files are small, and nothing here may hold state between calls (zone files are read on
 * the API's worker threads too). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "config/check.h"

/* Reads at most max bytes of fd; *more tells whether the file goes on past them. */
static int read_all(int fd, size_t max, char **data, size_t *len, bool *more, int *sys_errno)
{
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        return CD_ENOMEM;
    }
    for (;;) {
        if (used == cap && cap < max + 1) {
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *bigger = realloc(buf, cap + 1);
            if (bigger == NULL) {
                free(buf);
                return CD_ENOMEM;
            }
            buf = bigger;
        }
        ssize_t got = used < cap ? read(fd, buf + used, cap - used) : 0;
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            *sys_errno = errno;
            free(buf);
            return CD_EIO;
        }
        used += (size_t)got;
        if (got == 0 || used > max) {
            break;
        }
    }
    *more = used > max;
    used = used > max ? max : used;
    buf[used] = 0;
    *data = buf;
    *len = used;
    return 0;
}

static int read_path(const char *path,
                     size_t max,
                     char **data,
                     size_t *len,
                     bool *more,
                     int *sys_errno)
{
    *sys_errno = 0;
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        *sys_errno = errno;
        return errno == ENOENT || errno == ENOTDIR ? CD_ENOTFOUND : CD_EIO;
    }
    int rv = read_all(fd, max, data, len, more, sys_errno);
    close(fd);
    return rv;
}

int cfg_read_file(const char *path, size_t max, char **data, size_t *len, int *sys_errno)
{
    bool more;
    int rv = read_path(path, max, data, len, &more, sys_errno);
    if (rv == 0 && more) {
        free(*data);
        return CD_ETOOBIG;
    }
    return rv;
}

void cfg_strerror(int sys_errno, char *buf, size_t len)
{
    if (strerror_r(sys_errno, buf, len) != 0) {
        snprintf(buf, len, "error %d", sys_errno);
    }
}

int cfg_load_text(const char *path,
                  size_t max,
                  char **text,
                  size_t *len,
                  char *err,
                  size_t errlen)
{
    int sys;
    bool more;
    /* One byte past the limit is kept, so that the parser refuses the document at the
     * line and column where it crosses the limit. */
    int rv = read_path(path, max + 1, text, len, &more, &sys);
    if (rv == 0) {
        return 0;
    }
    char why[128] = "out of memory";
    if (rv != CD_ENOMEM) {
        cfg_strerror(sys, why, sizeof(why));
    }
    snprintf(err, errlen, "%s: cannot read: %s", path, why);
    return rv == CD_ENOMEM ? rv : CD_EIO;
}
