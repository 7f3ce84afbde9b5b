/* Reading the tree of pages into memory, once, at start: what is served is what was
 * there then, and nothing a request names is ever looked up on disk. */
#define _XOPEN_SOURCE 700 /* realpath() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapters/web/internal.h"
#include "common/error.h"
#include "common/log.h"

/* One walk of the tree: where it is and how to say what went wrong. */
struct walk
{
    struct web *w;
    char root[PATH_MAX]; /* resolved: links are followed only to files below it */
    char *err;
    size_t errlen;
};

static const struct
{
    const char *ext;
    const char *type;
} TYPES[] = {
    {"html", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"txt", "text/plain; charset=utf-8"},
    {"woff2", "font/woff2"},
};

const char *web__type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot != NULL && (slash == NULL || dot > slash)) {
        for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
            if (strcmp(dot + 1, TYPES[i].ext) == 0) {
                return TYPES[i].type;
            }
        }
    }
    return "application/octet-stream";
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct web__file *)a)->path, ((const struct web__file *)b)->path);
}

const struct web__file *web__find(const struct web *w, const char *path)
{
    struct web__file key = {.path = (char *)path};
    if (w->n_files == 0) {
        return NULL;
    }
    return bsearch(&key, w->files, w->n_files, sizeof(key), by_path);
}

static bool mount_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < WEB_NAME_MAX &&
           strspn(name,
                  "abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789._-") == n;
}

static void etag_of(struct web__file *f)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char *p = f->etag;
    if (EVP_Digest(f->body, f->len, md, &md_len, EVP_sha256(), NULL) != 1) {
        /* No digest: the length alone still tells most changes apart. */
        snprintf(f->etag, sizeof(f->etag), "\"len-%zx\"", f->len);
        return;
    }
    *p++ = '"';
    for (unsigned i = 0; i < 16 && i < md_len; i++) {
        p += snprintf(p, 3, "%02x", md[i]);
    }
    *p++ = '"';
    *p = '\0';
}

/* Reads the regular file fs (size bytes by its stat) as the page at url. */
static int read_page(struct walk *k, const char *fs, const char *url, size_t size)
{
    struct web *w = k->w;
    if (w->n_files == WEB_FILES_MAX || size > w->max_bytes - w->bytes) {
        if (w->n_files == WEB_FILES_MAX) {
            snprintf(k->err, k->errlen, "web_root '%s': more than %d files (at '%s')", k->root,
                     WEB_FILES_MAX, fs);
        } else {
            snprintf(k->err, k->errlen,
                     "web_root '%s': the files come to more than %zu bytes (at '%s')", k->root,
                     w->max_bytes, fs);
        }
        return CD_ETOOBIG;
    }
    if (w->n_files == w->cap_files) {
        size_t cap = w->cap_files ? 2 * w->cap_files : 64;
        struct web__file *files = realloc(w->files, cap * sizeof(*files));
        if (files == NULL) {
            return CD_ENOMEM;
        }
        w->files = files;
        w->cap_files = cap;
    }
    struct web__file *f = &w->files[w->n_files];
    memset(f, 0, sizeof(*f));
    f->path = strdup(url);
    f->body = malloc(size > 0 ? size : 1);
    if (f->path == NULL || f->body == NULL) {
        free(f->path);
        free(f->body);
        return CD_ENOMEM;
    }
    int fd = open(fs, O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    ssize_t r = 1;
    while (fd >= 0 && got < size && (r = read(fd, f->body + got, size - got)) > 0) {
        got += (size_t)r;
    }
    int sys = errno;
    if (fd >= 0) {
        close(fd);
    }
    if (fd < 0 || r < 0) {
        free(f->path);
        free(f->body);
        snprintf(k->err, k->errlen, "web_root: cannot read '%s': %s", fs, strerror(sys));
        return CD_EIO;
    }
    f->len = got; /* a file that shrank meanwhile is served as it was read */
    f->type = web__type_of(url);
    f->embedded = strncmp(url, "/" WEB_EMBEDDED "/", sizeof(WEB_EMBEDDED) + 1) == 0;
    etag_of(f);
    w->bytes += got;
    w->n_files++;
    return 0;
}

static void skipped(const char *fs, const char *why)
{
    cd_log(CD_LOG_WARN, "web_skipped", "path", fs, "why", why, NULL);
}

/* A symbolic link: followed only to a regular file below the root. */
static int read_link(struct walk *k, const char *fs, const char *url)
{
    char target[PATH_MAX];
    struct stat st;
    size_t n = strlen(k->root);
    if (realpath(fs, target) == NULL || strncmp(target, k->root, n) != 0 || target[n] != '/') {
        skipped(fs, "a symbolic link out of web_root");
        return 0;
    }
    if (stat(target, &st) != 0 || !S_ISREG(st.st_mode)) {
        skipped(fs, "a symbolic link to something other than a file");
        return 0;
    }
    return read_page(k, target, url, (size_t)st.st_size);
}

static int walk_dir(struct walk *k, const char *fs, const char *url, int depth);

/* One entry name of the directory fs (whose pages are at url). */
static int walk_entry(struct walk *k,
                      const char *fs,
                      const char *url,
                      const char *name,
                      int depth)
{
    char sub_fs[PATH_MAX], sub_url[PATH_MAX];
    struct stat st;
    if (snprintf(sub_fs, sizeof(sub_fs), "%s/%s", fs, name) >= (int)sizeof(sub_fs) ||
        snprintf(sub_url, sizeof(sub_url), "%s/%s", url, name) >= (int)sizeof(sub_url)) {
        skipped(fs, "a path too long");
        return 0;
    }
    if (lstat(sub_fs, &st) != 0) {
        snprintf(k->err, k->errlen, "web_root: cannot read '%s': %s", sub_fs, strerror(errno));
        return CD_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        return walk_dir(k, sub_fs, sub_url, depth + 1);
    }
    if (S_ISLNK(st.st_mode)) {
        return read_link(k, sub_fs, sub_url);
    }
    if (S_ISREG(st.st_mode)) {
        return read_page(k, sub_fs, sub_url, (size_t)st.st_size);
    }
    skipped(sub_fs, "neither a file nor a directory");
    return 0;
}

static int walk_dir(struct walk *k, const char *fs, const char *url, int depth)
{
    if (depth > WEB_DEPTH_MAX) {
        snprintf(k->err, k->errlen, "web_root: '%s' is nested more than %d directories deep",
                 fs, WEB_DEPTH_MAX);
        return CD_ETOOBIG;
    }
    DIR *d = opendir(fs);
    if (d == NULL) {
        snprintf(k->err, k->errlen, "web_root: cannot read '%s': %s", fs, strerror(errno));
        return CD_EIO;
    }
    int rv = 0;
    struct dirent *de;
    while (rv == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.') {
            rv = walk_entry(k, fs, url, de->d_name, depth);
        }
    }
    closedir(d);
    return rv;
}

static int add_mount(struct web *w, const char *name)
{
    if (w->n_mounts == w->cap_mounts) {
        size_t cap = w->cap_mounts ? 2 * w->cap_mounts : 8;
        char(*mounts)[WEB_NAME_MAX] = realloc(w->mounts, cap * sizeof(*mounts));
        if (mounts == NULL) {
            return CD_ENOMEM;
        }
        w->mounts = mounts;
        w->cap_mounts = cap;
    }
    size_t len = strlen(name);
    if (len >= WEB_NAME_MAX) {
        return CD_EINVAL; /* mount_name_ok() keeps such names out */
    }
    memcpy(w->mounts[w->n_mounts++], name, len + 1);
    return 0;
}

/* The directories directly under the root are the mounts; files there are not served. */
static int walk_root(struct walk *k)
{
    DIR *d = opendir(k->root);
    if (d == NULL) {
        snprintf(k->err, k->errlen, "web_root: cannot read '%s': %s", k->root, strerror(errno));
        return CD_EIO;
    }
    int rv = 0;
    struct dirent *de;
    while (rv == 0 && (de = readdir(d)) != NULL) {
        char fs[PATH_MAX], url[sizeof(de->d_name) + 1];
        struct stat st;
        if (de->d_name[0] == '.' ||
            snprintf(fs, sizeof(fs), "%s/%s", k->root, de->d_name) >= (int)sizeof(fs) ||
            lstat(fs, &st) != 0) {
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            skipped(fs, "a symbolic link directly under web_root");
        }
        if (!S_ISDIR(st.st_mode)) {
            continue;
        }
        if (!mount_name_ok(de->d_name)) {
            skipped(fs, "a directory whose name cannot be a path");
            continue;
        }
        snprintf(url, sizeof(url), "/%s", de->d_name);
        rv = add_mount(k->w, de->d_name);
        if (rv == 0) {
            rv = walk_dir(k, fs, url, 1);
        }
    }
    closedir(d);
    return rv;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

int web_new(const char *root, size_t max_bytes, struct web **out, char *err, size_t errlen)
{
    struct walk k = {.err = err, .errlen = errlen};
    struct stat st;
    if (realpath(root, k.root) == NULL || stat(k.root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "web_root '%s': not a directory", root);
        return CD_ENOTFOUND;
    }
    k.w = calloc(1, sizeof(*k.w));
    if (k.w == NULL) {
        snprintf(err, errlen, "out of memory");
        return CD_ENOMEM;
    }
    k.w->max_bytes = max_bytes > 0 ? max_bytes : WEB_BYTES_MAX;
    int rv = walk_root(&k);
    if (rv != 0) {
        if (rv == CD_ENOMEM) {
            snprintf(err, errlen, "web_root '%s': out of memory", root);
        }
        web_free(k.w);
        return rv;
    }
    if (k.w->n_files > 0) {
        qsort(k.w->files, k.w->n_files, sizeof(*k.w->files), by_path);
    }
    if (k.w->n_mounts > 0) {
        qsort(k.w->mounts, k.w->n_mounts, sizeof(*k.w->mounts), by_name);
    }
    *out = k.w;
    return 0;
}

void web_free(struct web *w)
{
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < w->n_files; i++) {
        free(w->files[i].path);
        free(w->files[i].body);
    }
    free(w->files);
    free(w->mounts);
    free(w);
}

size_t web_mounts(const struct web *w)
{
    return w->n_mounts;
}

const char *web_mount_name(const struct web *w, size_t i)
{
    return i < w->n_mounts ? w->mounts[i] : NULL;
}

size_t web_files(const struct web *w)
{
    return w->n_files;
}

size_t web_bytes(const struct web *w)
{
    return w->bytes;
}

const char *web_default_root(void)
{
    struct stat st;
    if (stat(CD_WEB_INSTALLED, &st) == 0 && S_ISDIR(st.st_mode)) {
        return CD_WEB_INSTALLED;
    }
    return CD_WEB_SOURCE;
}
