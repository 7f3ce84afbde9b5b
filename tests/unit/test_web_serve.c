/* adapters/web: a scratch tree of pages read by web_new() and answered by web_handle() on
 * a real HTTP server on 127.0.0.1, through raw clients: types, index pages, redirects,
 * validators, methods, what is not there, what climbs out of the tree, the size bound. */
#include <sys/stat.h>

#include "adapters/web/web.h"
#include "http_raw.h"
#include "tests/unit/tmpdir.h"

/* The scratch tree: DIR/outside.txt beside DIR/web, the root. */
struct tree
{
    char dir[64];
    char root[96];
    struct web *web;
    struct resp r[RESP_MAX];
};

static struct tree tree;

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tree.dir, rel);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs(text, out);
    fclose(out);
}

static void dir(const char *rel)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tree.dir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void link_to(const char *target, const char *rel)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tree.dir, rel);
    assert_int_equal(symlink(target, path), 0);
}

static void make_tree(void)
{
    snprintf(tree.dir, sizeof(tree.dir), "/tmp/cd-test-web-XXXXXX");
    assert_non_null(mkdtemp(tree.dir));
    snprintf(tree.root, sizeof(tree.root), "%s/web", tree.dir);
    put("outside.txt", "SECRET outside the tree");
    dir("web");
    put("web/top.html", "<p>top</p>");
    dir("web/chat");
    put("web/chat/index.html", "<p>chat</p>");
    put("web/chat/chat.js", "chat();");
    put("web/chat/.hidden", "hidden");
    dir("web/chat/sub");
    put("web/chat/sub/index.html", "<p>sub</p>");
    dir("web/desk");
    put("web/desk/index.html", "<p>desk</p>");
    put("web/desk/app.mjs", "export {};");
    put("web/desk/data.json", "{}");
    put("web/desk/pic.png", "PNG");
    put("web/desk/icon.svg", "<svg/>");
    dir("web/lib");
    put("web/lib/base.css", "body{}");
    put("web/lib/font.woff2", "wOF2");
    put("web/lib/readme.txt", "read me");
    put("web/lib/favicon.ico", "ICO");
    put("web/lib/blob.bin", "bin");
    dir("web/.git");
    put("web/.git/config", "git");
    link_to("../../outside.txt", "web/lib/out.txt");
    link_to("../desk/index.html", "web/lib/in.html");
    link_to("../desk", "web/lib/deskdir");
    link_to("chat", "web/talk"); /* not a mount */
}

static bool serve(struct fixture *f, struct http_exchange *x, const struct http_request *req)
{
    (void)f;
    web_handle(tree.web, x, req);
    return true;
}

static int setup_web(void **state)
{
    char err[512];
    setup(state);
    struct fixture *f = *state;
    memset(&tree, 0, sizeof(tree));
    make_tree();
    assert_int_equal(web_new(tree.root, 0, &tree.web, err, sizeof(err)), 0);
    START(0);
    f->on_request = serve;
    raw_open(f, 0);
    return 0;
}

static int teardown_web(void **state)
{
    teardown(state);
    web_free(tree.web);
    rm_tree(tree.dir);
    return 0;
}

/* Sends one request (method, target, more header lines) on raw client 0 and waits for its
 * answer: tree.r[0]. */
static const struct resp *ask(struct fixture *f,
                              const char *method,
                              const char *target,
                              const char *lines)
{
    char text[1024];
    snprintf(text, sizeof(text), "%s %s HTTP/1.1\r\nHost: t\r\n%s\r\n", method, target,
             lines != NULL ? lines : "");
    f->raw[0].recv_len = 0;
    SEND(0, text);
    unsigned heads = strcmp(method, "HEAD") == 0 ? 1u : 0u;
    RUN_UNTIL(RESPONSES(0, tree.r, heads) == 1);
    return &tree.r[0];
}

#define GET_OK(target, type, text)                                                  \
    do {                                                                            \
        const struct resp *r_ = ask(f, "GET", (target), NULL);                      \
        char v_[128];                                                               \
        assert_int_equal(r_->status, 200);                                          \
        assert_string_equal(resp_header(r_, "Content-Type", v_, sizeof(v_)), type); \
        assert_int_equal(r_->body_len, strlen(text));                               \
        assert_memory_equal(r_->body, (text), strlen(text));                        \
    } while (0)

#define REFUSED(method, target, want, code)                   \
    do {                                                      \
        const struct resp *r_ = ask(f, method, target, NULL); \
        assert_int_equal(r_->status, (want));                 \
        assert_error_body(r_, code);                          \
    } while (0)

static void types_by_extension(void **state)
{
    F;
    GET_OK("/chat/index.html", "text/html; charset=utf-8", "<p>chat</p>");
    GET_OK("/chat/chat.js", "text/javascript; charset=utf-8", "chat();");
    GET_OK("/desk/app.mjs", "text/javascript; charset=utf-8", "export {};");
    GET_OK("/desk/data.json", "application/json", "{}");
    GET_OK("/desk/pic.png", "image/png", "PNG");
    GET_OK("/desk/icon.svg", "image/svg+xml", "<svg/>");
    GET_OK("/lib/base.css", "text/css; charset=utf-8", "body{}");
    GET_OK("/lib/font.woff2", "font/woff2", "wOF2");
    GET_OK("/lib/readme.txt", "text/plain; charset=utf-8", "read me");
    GET_OK("/lib/favicon.ico", "image/x-icon", "ICO");
    GET_OK("/lib/blob.bin", "application/octet-stream", "bin");
}

static void mounts_are_the_top_directories(void **state)
{
    (void)state;
    assert_int_equal(web_mounts(tree.web), 3);
    assert_string_equal(web_mount_name(tree.web, 0), "chat");
    assert_string_equal(web_mount_name(tree.web, 1), "desk");
    assert_string_equal(web_mount_name(tree.web, 2), "lib");
    assert_null(web_mount_name(tree.web, 3));
    /* chat 3, desk 5, lib 5 and the link to a page inside */
    assert_int_equal(web_files(tree.web), 14);
}

static void a_directory_serves_its_index(void **state)
{
    F;
    GET_OK("/chat/", "text/html; charset=utf-8", "<p>chat</p>");
    GET_OK("/chat/sub/", "text/html; charset=utf-8", "<p>sub</p>");
    GET_OK("/desk/", "text/html; charset=utf-8", "<p>desk</p>");
    REFUSED("GET", "/lib/", 404, "NOTFOUND");
}

static void redirects_to_the_directory(void **state)
{
    F;
    char v[128];
    const struct resp *r = ask(f, "GET", "/chat", NULL);
    assert_int_equal(r->status, 301);
    assert_string_equal(resp_header(r, "Location", v, sizeof(v)), "/chat/");
    r = ask(f, "GET", "/chat?embed=1&x=%20", NULL);
    assert_int_equal(r->status, 301);
    assert_string_equal(resp_header(r, "Location", v, sizeof(v)), "/chat/?embed=1&x=%20");
    r = ask(f, "GET", "/chat/sub", NULL);
    assert_int_equal(r->status, 301);
    assert_string_equal(resp_header(r, "Location", v, sizeof(v)), "/chat/sub/");
    /* A mount without an index redirects all the same. */
    r = ask(f, "HEAD", "/lib", NULL);
    assert_int_equal(r->status, 301);
    assert_string_equal(resp_header(r, "Location", v, sizeof(v)), "/lib/");
}

static void security_headers(void **state)
{
    F;
    char v[256];
    const struct resp *r = ask(f, "GET", "/chat/chat.js", NULL);
    assert_string_equal(resp_header(r, "Content-Security-Policy", v, sizeof(v)),
                        "default-src 'self'; script-src 'self'; style-src 'self'; img-src "
                        "'self' data:; connect-src 'self' https: wss:; frame-ancestors *");
    assert_string_equal(resp_header(r, "X-Frame-Options", v, sizeof(v)), "");
    assert_string_equal(resp_header(r, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
    assert_string_equal(resp_header(r, "Referrer-Policy", v, sizeof(v)), "no-referrer");
    assert_string_equal(resp_header(r, "Cache-Control", v, sizeof(v)), "no-cache");
    r = ask(f, "GET", "/desk/", NULL);
    assert_string_equal(resp_header(r, "Content-Security-Policy", v, sizeof(v)),
                        "default-src 'self'; script-src 'self'; style-src 'self'; img-src "
                        "'self' data:; connect-src 'self' https: wss:; frame-ancestors 'none'");
    assert_string_equal(resp_header(r, "X-Frame-Options", v, sizeof(v)), "DENY");
    assert_string_equal(resp_header(r, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
    r = ask(f, "GET", "/lib/base.css", NULL);
    assert_string_equal(resp_header(r, "X-Frame-Options", v, sizeof(v)), "DENY");
}

static void head_has_the_headers_only(void **state)
{
    F;
    char v[128];
    const struct resp *r = ask(f, "HEAD", "/desk/index.html", NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(resp_header(r, "Content-Length", v, sizeof(v)), "11");
    assert_string_equal(resp_header(r, "Content-Type", v, sizeof(v)),
                        "text/html; charset=utf-8");
    assert_int_equal(f->raw[0].recv_len, r->head_len + 2);
}

static void etag_and_not_modified(void **state)
{
    F;
    char etag[64], other[64], lines[256], v[128];
    const struct resp *r = ask(f, "GET", "/chat/index.html", NULL);
    resp_header(r, "ETag", etag, sizeof(etag));
    assert_int_equal(strlen(etag), 34);
    assert_true(etag[0] == '"' && etag[33] == '"');
    r = ask(f, "GET", "/chat/chat.js", NULL);
    resp_header(r, "ETag", other, sizeof(other));
    assert_string_not_equal(etag, other);

    /* The tag, weak, in a list, and any. */
    const char *const before[] = {"", "W/", "\"x\", ", NULL};
    for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
        if (before[i] != NULL) {
            snprintf(lines, sizeof(lines), "If-None-Match: %s%s\r\n", before[i], etag);
        } else {
            snprintf(lines, sizeof(lines), "If-None-Match: *\r\n");
        }
        r = ask(f, "GET", "/chat/index.html", lines);
        assert_int_equal(r->status, 304);
        assert_int_equal(r->body_len, 0);
        assert_string_equal(resp_header(r, "ETag", v, sizeof(v)), etag);
        assert_string_equal(resp_header(r, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
        assert_string_equal(resp_header(r, "Content-Length", v, sizeof(v)), "");
    }
    snprintf(lines, sizeof(lines), "If-None-Match: %s\r\n", other);
    r = ask(f, "GET", "/chat/index.html", lines);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 11);
}

static void only_get_and_head(void **state)
{
    F;
    char v[64];
    const char *const methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        REFUSED(methods[i], "/chat/index.html", 405, "METHOD");
        assert_string_equal(resp_header(&tree.r[0], "Allow", v, sizeof(v)), "GET, HEAD");
    }
}

static void what_is_not_there(void **state)
{
    F;
    REFUSED("GET", "/chat/missing.js", 404, "NOTFOUND");
    REFUSED("GET", "/chat/.hidden", 404, "NOTFOUND");
    REFUSED("GET", "/.git/config", 404, "NOTFOUND");
    REFUSED("GET", "/top.html", 404, "NOTFOUND");
    REFUSED("GET", "/chat//index.html", 404, "NOTFOUND");
    /* Links: one out of the tree and one to a directory are skipped; one to a page inside
     * is that page. */
    REFUSED("GET", "/lib/out.txt", 404, "NOTFOUND");
    REFUSED("GET", "/lib/deskdir/index.html", 404, "NOTFOUND");
    GET_OK("/lib/in.html", "text/html; charset=utf-8", "<p>desk</p>");
    /* Refusals are answers like any other: the connection goes on. */
    RUN_FOR(20);
    assert_false(f->raw[0].eof);
}

static void nothing_climbs_out(void **state)
{
    F;
    const char *const climbs[] = {
        "/chat/../top.html",
        "/chat/../../outside.txt",
        "/chat/%2e%2e/top.html",
        "/chat/%2E%2E/%2e%2e/outside.txt",
        "/chat/..%2ftop.html",
        "/chat/..%2Ftop.html",
        "/chat/sub%2findex.html",
        "/chat/..%5ctop.html",
        "/chat/a\\b",
        "/chat/./index.html",
        "/chat/sub/..",
        "/chat/%2e/index.html",
    };
    for (size_t i = 0; i < sizeof(climbs) / sizeof(climbs[0]); i++) {
        const struct resp *r = ask(f, "GET", climbs[i], NULL);
        assert_int_equal(r->status, 400);
        assert_error_body(r, "BAD_REQUEST");
        assert_null(find(r->body, r->body_len, "SECRET"));
        assert_null(find(r->body, r->body_len, "<p>"));
    }
}

/* What is served is what was read: a page changed on disk afterwards is not. */
static void read_once(void **state)
{
    F;
    put("web/chat/chat.js", "changed();");
    GET_OK("/chat/chat.js", "text/javascript; charset=utf-8", "chat();");
}

static int setup_tree(void **state)
{
    (void)state;
    memset(&tree, 0, sizeof(tree));
    make_tree();
    return 0;
}

static int teardown_tree(void **state)
{
    (void)state;
    rm_tree(tree.dir);
    return 0;
}

static void the_size_is_bounded(void **state)
{
    char err[512], want[512];
    struct web *w = NULL;
    (void)state;
    /* The pages come to 94 bytes (the link inside counted as its page). */
    assert_int_equal(web_new(tree.root, 94, &w, err, sizeof(err)), 0);
    assert_int_equal(web_bytes(w), 94);
    web_free(w);
    w = NULL;
    assert_int_equal(web_new(tree.root, 93, &w, err, sizeof(err)), CD_ETOOBIG);
    assert_null(w);
    snprintf(want, sizeof(want), "web_root '%s': the files come to more than 93 bytes",
             tree.root);
    assert_memory_equal(err, want, strlen(want));
}

static void a_missing_root(void **state)
{
    char err[512], path[128];
    struct web *w = NULL;
    (void)state;
    snprintf(path, sizeof(path), "%s/nothing", tree.dir);
    assert_int_equal(web_new(path, 0, &w, err, sizeof(err)), CD_ENOTFOUND);
    assert_null(w);
    assert_non_null(strstr(err, "nothing': not a directory"));
    snprintf(path, sizeof(path), "%s/outside.txt", tree.dir);
    assert_int_equal(web_new(path, 0, &w, err, sizeof(err)), CD_ENOTFOUND);
}

static void an_empty_root(void **state)
{
    char err[512], path[128];
    struct web *w = NULL;
    (void)state;
    snprintf(path, sizeof(path), "%s/empty", tree.dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(web_new(path, 0, &w, err, sizeof(err)), 0);
    assert_int_equal(web_mounts(w), 0);
    assert_int_equal(web_files(w), 0);
    web_free(w);
}

static void an_unreadable_file(void **state)
{
    char err[512], path[256];
    struct web *w = NULL;
    (void)state;
    if (geteuid() == 0) {
        skip(); /* root reads everything */
    }
    snprintf(path, sizeof(path), "%s/web/desk/pic.png", tree.dir);
    assert_int_equal(chmod(path, 0), 0);
    assert_int_equal(web_new(tree.root, 0, &w, err, sizeof(err)), CD_EIO);
    assert_non_null(strstr(err, "pic.png"));
}

int main(void)
{
#define SERVED(t) cmocka_unit_test_setup_teardown(t, setup_web, teardown_web)
#define READ(t) cmocka_unit_test_setup_teardown(t, setup_tree, teardown_tree)
    const struct CMUnitTest tests[] = {
        SERVED(types_by_extension),
        SERVED(mounts_are_the_top_directories),
        SERVED(a_directory_serves_its_index),
        SERVED(redirects_to_the_directory),
        SERVED(security_headers),
        SERVED(head_has_the_headers_only),
        SERVED(etag_and_not_modified),
        SERVED(only_get_and_head),
        SERVED(what_is_not_there),
        SERVED(nothing_climbs_out),
        SERVED(read_once),
        READ(the_size_is_bounded),
        READ(a_missing_root),
        READ(an_empty_root),
        READ(an_unreadable_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
