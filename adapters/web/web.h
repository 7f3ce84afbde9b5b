/* web: the pages a node serves to browsers (the repository's web/: the customer chat, the
 * agent desktop, the wallboard, their shared files), read into memory once at start and
 * answered from there over the node's HTTP listener.
 *
 * Why a module of its own under adapters/, registered by node/web.c: it speaks HTTP to
 * browsers and nothing else (no command, no effect, no cluster), as the other adapters
 * speak their protocol; node/ stays the composition root that only says where it is
 * mounted, and the module is tested on a bare HTTP server with a scratch tree
 * (tests/unit/test_web_serve.c).
 *
 * What is served. Each directory directly under the root is a mount, "/NAME/" (web/chat
 * is /chat/, web/desk /desk/, web/wall /wall/, web/lib /lib/); the files below it, at any
 * depth, are its paths. Files directly under the root are not served. Names beginning with
 * '.' are skipped, so are fifos, sockets and devices, and so are symbolic links unless they
 * name a regular file inside the root below a mount (a link to a directory, one leaving the
 * tree, and one directly under the root are skipped with a warning in the log). The files
 * are read once, by web_new(): a page changed on disk is served after the node restarts.
 *
 * How a request is answered (web_handle(), for GET and HEAD):
 *   /NAME                 301 to /NAME/ (the query kept); also a directory without its '/'
 *   /NAME/..., ending '/' that directory's index.html
 *   a file                200, Content-Type by extension (html, css, js, mjs, json, svg,
 *                         png, ico, txt, woff2; charset=utf-8 for text; anything else
 *                         application/octet-stream), a strong ETag of its bytes,
 *                         Cache-Control: no-cache; 304 when If-None-Match names the ETag
 *   anything else         404 NOTFOUND
 *   another method        405 METHOD (Allow: GET, HEAD)
 *   a '.' or '..' segment, a backslash, an encoded '/' or '\' in the path
 *                         400 BAD_REQUEST: never a file outside the tree, which is never
 *                         read after start anyway
 * Errors are the API's JSON shape. Every file answer (200, 304) carries
 *   Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self';
 *     img-src 'self' data:; connect-src 'self' https: wss:; frame-ancestors X
 *   X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer
 * where X is * under the mounts a customer's site embeds in an iframe (WEB_EMBEDDED:
 * chat) and 'none' elsewhere, where X-Frame-Options: DENY is added for older browsers.
 *
 * Everything runs on the loop's thread; nothing here is thread-safe. */
#ifndef CD_WEB_H
#define CD_WEB_H

#include <stddef.h>

#include "adapters/http/http.h"

/* What web_new() reads at most: bytes of all files together (by default), and files. */
#define WEB_BYTES_MAX (32u << 20)
#define WEB_FILES_MAX 4096
/* Directories below the root (the root is 0). */
#define WEB_DEPTH_MAX 16
/* A mount's name: at most this many bytes of [A-Za-z0-9._-]. */
#define WEB_NAME_MAX 64
/* The mount whose pages other sites may frame. */
#define WEB_EMBEDDED "chat"

struct web;

/* Reads every file under root (see above) into a new object. max_bytes bounds the files'
 * total size (0: WEB_BYTES_MAX). A directory directly under root whose name is not a
 * mount's name is skipped with a warning. Returns 0, or with a message in err naming the
 * path at fault:
 *   CD_ENOTFOUND  root does not exist or is not a directory;
 *   CD_ETOOBIG    the files come to more than max_bytes, or more than WEB_FILES_MAX of
 *                 them, or directories nest deeper than WEB_DEPTH_MAX;
 *   CD_EIO        a file or directory under root cannot be read;
 *   CD_ENOMEM. */
int web_new(const char *root, size_t max_bytes, struct web **out, char *err, size_t errlen);
void web_free(struct web *w);

/* The mounts, in name order: how many, and the name of the i-th (borrowed until
 * web_free()); the files and their total size. */
size_t web_mounts(const struct web *w);
const char *web_mount_name(const struct web *w, size_t i);
size_t web_files(const struct web *w);
size_t web_bytes(const struct web *w);

/* The http_handler_cb to mount on "/NAME/" and "/NAME" for each mount; data is the
 * struct web. */
void web_handle(void *data, struct http_exchange *x, const struct http_request *req);

/* Where the pages are when the node file names no web_root: the installed directory
 * (DATADIR/contactd/web, compiled in) when it exists, else the source tree's web/ (also
 * compiled in), so that a node run from the build tree serves the pages as they are in
 * the repository. Static storage. */
const char *web_default_root(void);

#endif
