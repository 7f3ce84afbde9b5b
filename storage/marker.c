/* The files beside LMDB in the data directory: the lock that keeps a second process out, and
 * the boot marker that tells a killed process (trust the records) from an operating-system
 * crash (start afresh). storage/README.md gives the reasoning. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "storage/internal.h"

#define LOCK_FILE "storage.lock"
#define MARKER_FILE "storage.open"
#define MARKER_TMP "storage.open.tmp"
#define BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"

/* dir/name into out; CD_EIO when it does not fit a path. */
static int join(char *out, const char *dir, const char *name, char *errmsg, size_t errlen)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX) {
        storage__errf(errmsg, errlen, "open data dir '%s': path too long", dir);
        return CD_EIO;
    }
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    size_t start = 0;
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    while (start < n && isspace((unsigned char)s[start])) {
        start++;
    }
    memmove(s, s + start, n - start);
    s[n - start] = 0;
}

/* Reads at most n-1 bytes of a small file into out: 0 or an errno value. */
static int read_small(const char *path, char *out, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    size_t len = 0;
    while (len < n - 1) {
        ssize_t got = read(fd, out + len, n - 1 - len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            int err = got < 0 ? errno : 0;
            if (err != 0) {
                close(fd);
                return err;
            }
            break;
        }
        len += (size_t)got;
    }
    out[len] = 0;
    close(fd);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t put = write(fd, p, n);
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put < 0) {
            return errno;
        }
        p += put;
        n -= (size_t)put;
    }
    return 0;
}

/* A rename or unlink is durable only once the directory itself is synced. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    int err = fsync(fd) != 0 ? errno : 0;
    close(fd);
    return err;
}

int storage__dir_check(const char *dir, char *errmsg, size_t errlen)
{
    struct stat st;
    int err = stat(dir, &st) != 0 ? errno : 0;
    if (err == 0 && !S_ISDIR(st.st_mode)) {
        err = ENOTDIR;
    }
    if (err == 0 && access(dir, W_OK | X_OK) != 0) {
        err = errno;
    }
    if (err != 0) {
        storage__errf(errmsg, errlen, "open data dir '%s': %s", dir, strerror(err));
        return CD_EIO;
    }
    return 0;
}

/* flock, unlike fcntl locks, belongs to the open file, so a second open of the same
 * directory fails inside one process too. */
int storage__dir_lock(const char *dir, int *out, char *errmsg, size_t errlen)
{
    char path[PATH_MAX];
    int rc = join(path, dir, LOCK_FILE, errmsg, errlen);
    if (rc != 0) {
        return rc;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        storage__errf(errmsg, errlen, "open lock file '%s': %s", path, strerror(errno));
        return CD_EIO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        storage__errf(errmsg, errlen, "open data dir '%s': %s", dir,
                      err == EWOULDBLOCK ? "in use by another storage" : strerror(err));
        close(fd);
        return CD_EIO;
    }
    *out = fd;
    return 0;
}

int storage__boot_id(const char *given, char *out, size_t n, char *errmsg, size_t errlen)
{
    if (given != NULL) {
        if (strlen(given) >= n) {
            storage__errf(errmsg, errlen, "boot id '%.16s...': longer than %zu bytes", given,
                          n - 1);
            return CD_EINVAL;
        }
        memcpy(out, given, strlen(given) + 1);
    } else {
        int err = read_small(BOOT_ID_FILE, out, n);
        if (err != 0) {
            storage__errf(errmsg, errlen, "read boot id '%s': %s", BOOT_ID_FILE, strerror(err));
            return CD_EIO;
        }
    }
    trim(out);
    if (out[0] == 0) {
        storage__errf(errmsg, errlen, "boot id is empty");
        return CD_EINVAL;
    }
    return 0;
}

/* Both files go: a lock file describing readers of the deleted data would be wrong. */
static int remove_env(const char *dir, char *errmsg, size_t errlen)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        int rc = join(path, dir, files[i], errmsg, errlen);
        if (rc != 0) {
            return rc;
        }
        if (unlink(path) != 0 && errno != ENOENT) {
            storage__errf(errmsg, errlen, "remove '%s' after an unclean shutdown: %s", path,
                          strerror(errno));
            return CD_EIO;
        }
    }
    return 0;
}

int storage__marker_check(const char *dir,
                          const char *boot_id,
                          bool *unclean,
                          char *errmsg,
                          size_t errlen)
{
    char path[PATH_MAX];
    char text[STORAGE_BOOT_ID_MAX];
    *unclean = false;
    int rc = join(path, dir, MARKER_FILE, errmsg, errlen);
    if (rc != 0) {
        return rc;
    }
    int err = read_small(path, text, sizeof(text));
    if (err == ENOENT) {
        return 0;
    }
    if (err != 0) {
        storage__errf(errmsg, errlen, "read marker '%s': %s", path, strerror(err));
        return CD_EIO;
    }
    trim(text);
    if (strcmp(text, boot_id) == 0) {
        return 0;
    }
    *unclean = true;
    return remove_env(dir, errmsg, errlen);
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return errno;
    }
    int err = write_all(fd, text, strlen(text));
    if (err == 0 && fsync(fd) != 0) {
        err = errno;
    }
    if (close(fd) != 0 && err == 0) {
        err = errno;
    }
    return err;
}

/* Written aside and renamed, so that a crash leaves either the old marker or the new one,
 * never a torn one. */
int storage__marker_write(const char *dir, const char *boot_id, char *errmsg, size_t errlen)
{
    char tmp[PATH_MAX], path[PATH_MAX], text[STORAGE_BOOT_ID_MAX + 1];
    int rc = join(tmp, dir, MARKER_TMP, errmsg, errlen);
    rc = rc ? rc : join(path, dir, MARKER_FILE, errmsg, errlen);
    if (rc != 0) {
        return rc;
    }
    snprintf(text, sizeof(text), "%s\n", boot_id);
    int err = write_file(tmp, text);
    if (err == 0 && rename(tmp, path) != 0) {
        err = errno;
    }
    if (err == 0) {
        err = sync_dir(dir);
    }
    if (err != 0) {
        storage__errf(errmsg, errlen, "write marker '%s': %s", path, strerror(err));
        return CD_EIO;
    }
    return 0;
}

int storage__marker_remove(const char *dir, char *errmsg, size_t errlen)
{
    char path[PATH_MAX];
    int rc = join(path, dir, MARKER_FILE, errmsg, errlen);
    if (rc != 0) {
        return rc;
    }
    int err = (unlink(path) != 0 && errno != ENOENT) ? errno : 0;
    if (err == 0) {
        err = sync_dir(dir);
    }
    if (err != 0) {
        storage__errf(errmsg, errlen, "remove marker '%s': %s", path, strerror(err));
        return CD_EIO;
    }
    return 0;
}
