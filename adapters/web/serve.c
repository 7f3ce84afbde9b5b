/* Answering a request for a page from the files read at start (web.h says what each
 * request gets). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/web/internal.h"

/* The longest path a page can have, its index.html included. */
#define URL_MAX 4096

#define CSP                                                                              \
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; " \
    "img-src 'self' data:; connect-src 'self' https: wss:; frame-ancestors "
#define COMMON                                                            \
    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n" \
    "Cache-Control: no-cache\r\n"

/* A customer's web site frames the chat page; nothing else may be framed. */
static const char EMBEDDED_LINES[] = CSP "*\r\n" COMMON;
static const char OWN_LINES[] = CSP "'none'\r\nX-Frame-Options: DENY\r\n" COMMON;

/* Whether text[0..n) is "%2F" or "%5C" in either case: an encoded '/' or '\'. */
static bool encoded_separator(const char *text, size_t n)
{
    return n >= 3 && text[0] == '%' &&
           (strncasecmp(text + 1, "2f", 2) == 0 || strncasecmp(text + 1, "5c", 2) == 0);
}

/* Why the request's path cannot name a page, or NULL when it can. A path that climbs
 * could name nothing outside the tree anyway (nothing is read after start); it is refused
 * so that no other reading of it can. */
static const char *path_problem(const struct http_request *req)
{
    size_t raw = strcspn(req->target, "?");
    for (size_t i = 0; i < raw; i++) {
        if (encoded_separator(req->target + i, raw - i)) {
            return "an encoded '/' or '\\' in the path";
        }
    }
    if (strchr(req->path, '\\') != NULL) {
        return "a '\\' in the path";
    }
    for (const char *s = req->path; s != NULL; s = strchr(s + 1, '/')) {
        size_t len = strcspn(s + 1, "/");
        if ((len == 1 && s[1] == '.') || (len == 2 && s[1] == '.' && s[2] == '.')) {
            return "a '.' or '..' segment in the path";
        }
    }
    return NULL;
}

/* Whether an If-None-Match value names etag (weak comparison, RFC 9110 13.1.2). */
static bool etag_matches(const char *list, const char *etag)
{
    size_t n = strlen(etag);
    const char *p = list;
    while (*p != '\0') {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        size_t end = len;
        while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t')) {
            end--;
        }
        if (end == 1 && p[0] == '*') {
            return true;
        }
        size_t weak = strncmp(p, "W/", 2) == 0 ? 2 : 0;
        if (end - weak == n && memcmp(p + weak, etag, n) == 0) {
            return true;
        }
        p += len;
    }
    return false;
}

static void redirect(struct http_exchange *x, const struct http_request *req, size_t path_len)
{
    char lines[2 * URL_MAX];
    const char *q = req->query;
    int n = snprintf(lines, sizeof(lines), "Location: %.*s/%s%s\r\n", (int)path_len,
                     req->target, q[0] != '\0' ? "?" : "", q);
    if (n >= (int)sizeof(lines) || http_reply_headers(x, 301, NULL, lines, NULL, 0) != 0) {
        http_reply_error(x, 400, "BAD_REQUEST", "cannot redirect to '%.*s/'", (int)path_len,
                         req->target);
    }
}

static void send_file(struct http_exchange *x,
                      const struct http_request *req,
                      const struct web__file *f)
{
    char lines[sizeof(OWN_LINES) + WEB__ETAG_MAX + 16];
    const char *inm = http_header_get(req, "If-None-Match");
    snprintf(lines, sizeof(lines), "ETag: %s\r\n%s", f->etag,
             f->embedded ? EMBEDDED_LINES : OWN_LINES);
    if (inm != NULL && etag_matches(inm, f->etag)) {
        http_reply_headers(x, 304, NULL, lines, NULL, 0);
        return;
    }
    http_reply_headers(x, 200, f->type, lines, f->body, f->len);
}

/* Whether path is "/NAME" for a mount NAME. */
static bool is_mount(const struct web *w, const char *path)
{
    for (size_t i = 0; i < w->n_mounts; i++) {
        if (strcmp(path + 1, w->mounts[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* A path naming a directory: its index.html, or (without the '/') a redirect there. */
static const struct web__file *index_of(const struct web *w, const char *path, bool slash)
{
    char name[URL_MAX];
    int n = snprintf(name, sizeof(name), "%s%sindex.html", path, slash ? "" : "/");
    return n < (int)sizeof(name) ? web__find(w, name) : NULL;
}

void web_handle(void *data, struct http_exchange *x, const struct http_request *req)
{
    const struct web *w = data;
    const char *path = req->path;
    size_t len = strlen(path);
    const char *why;

    if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD) {
        http_exchange_set_headers(x, "Allow: GET, HEAD\r\n");
        http_reply_error(x, 405, "METHOD", "%s is not allowed on %s: pages are read only",
                         req->method_name, path);
        return;
    }
    if ((why = path_problem(req)) != NULL) {
        http_reply_error(x, 400, "BAD_REQUEST", "%s", why);
        return;
    }
    bool slash = len > 0 && path[len - 1] == '/';
    const struct web__file *f = slash ? index_of(w, path, true) : web__find(w, path);
    if (f != NULL) {
        send_file(x, req, f);
    } else if (!slash && (is_mount(w, path) || index_of(w, path, false) != NULL)) {
        redirect(x, req, strcspn(req->target, "?"));
    } else {
        http_reply_error(x, 404, "NOTFOUND", "no such page: %s", path);
    }
}
