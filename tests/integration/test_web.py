"""The pages a node serves (adapters/web): a real node with TLS serves the repository's
web/ (the harness names it as web_root): /chat/, /desk/, /wall/ and /lib/ byte for byte, with
their types, validators and security headers (the chat page may be framed by any site,
nothing else by any); /chat redirects to /chat/; only GET and HEAD; and no attempt to climb
out of the tree (dot segments, plain or encoded, encoded slashes and backslashes) gets
anything but 400 or 404. Then the same node restarted with a web_root that does not exist:
it starts, answers the API, serves no pages, and says so once in its log."""
import http.client
import os
import re

from harness import WEB_ROOT, Cluster, Failure, log, run, wait

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' https: wss:; frame-ancestors ")


def check(cond, what):
    if not cond:
        raise Failure(what)


def fetch(node, method, target, headers=None):
    """One request on a fresh connection, the target sent exactly as given: (status,
    headers as a dict with lower-case names, body bytes)."""
    conn = node.new_client(token="").connect(10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        res = conn.getresponse()
        body = res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, body
    finally:
        conn.close()


def repo_file(rel):
    with open(os.path.join(WEB_ROOT, rel), "rb") as f:
        return f.read()


def check_page(node, target, rel, ctype, framed):
    status, h, body = fetch(node, "GET", target)
    check(status == 200, f"GET {target}: {status} {body[:200]!r}")
    check(body == repo_file(rel), f"GET {target}: not the bytes of web/{rel}")
    check(h.get("content-type") == ctype, f"GET {target}: Content-Type {h.get('content-type')}")
    check(h.get("content-security-policy") == CSP + ("*" if framed else "'none'"),
          f"GET {target}: CSP {h.get('content-security-policy')}")
    check(h.get("x-frame-options") == (None if framed else "DENY"),
          f"GET {target}: X-Frame-Options {h.get('x-frame-options')}")
    check(h.get("x-content-type-options") == "nosniff", f"GET {target}: nosniff {h}")
    check(h.get("referrer-policy") == "no-referrer", f"GET {target}: Referrer-Policy {h}")
    check(h.get("cache-control") == "no-cache", f"GET {target}: Cache-Control {h}")
    check(re.fullmatch(r'"[0-9a-f]{32}"', h.get("etag", "")), f"GET {target}: ETag {h}")
    return h["etag"]


def pages(c):
    node = c.nodes[0]
    etag = check_page(node, "/chat/", "chat/index.html", "text/html; charset=utf-8", True)
    check_page(node, "/chat/chat.js", "chat/chat.js", "text/javascript; charset=utf-8", True)
    check_page(node, "/chat/chat.css", "chat/chat.css", "text/css; charset=utf-8", True)
    check_page(node, "/desk/", "desk/index.html", "text/html; charset=utf-8", False)
    check_page(node, "/desk/desk.js", "desk/desk.js", "text/javascript; charset=utf-8", False)
    check_page(node, "/wall/", "wall/index.html", "text/html; charset=utf-8", False)
    check_page(node, "/wall/wall.js", "wall/wall.js", "text/javascript; charset=utf-8", False)
    check_page(node, "/wall/wall.css", "wall/wall.css", "text/css; charset=utf-8", False)
    check_page(node, "/lib/dom.js", "lib/dom.js", "text/javascript; charset=utf-8", False)
    check_page(node, "/lib/base.css", "lib/base.css", "text/css; charset=utf-8", False)
    log("/chat/, /desk/, /wall/ and /lib/ serve web/ byte for byte, with types and headers")

    # The ETag names the bytes: sent back, it gets 304 and no body.
    status, h, body = fetch(node, "GET", "/chat/", {"If-None-Match": etag})
    check(status == 304 and body == b"" and h.get("etag") == etag, f"304: {status} {h}")
    status, _, body = fetch(node, "GET", "/chat/", {"If-None-Match": '"0000"'})
    check(status == 200 and body == repo_file("chat/index.html"), f"stale tag: {status}")
    status, h, body = fetch(node, "HEAD", "/lib/dom.js")
    check(status == 200 and body == b"" and
          h.get("content-length") == str(len(repo_file("lib/dom.js"))), f"HEAD: {status} {h}")
    log("If-None-Match with the ETag gets 304; HEAD gets the headers")

    for target, location in (("/chat", "/chat/"), ("/desk", "/desk/"),
                             ("/chat?site=shop", "/chat/?site=shop")):
        status, h, _ = fetch(node, "GET", target)
        check(status == 301 and h.get("location") == location, f"GET {target}: {status} {h}")
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, h, body = fetch(node, method, "/chat/index.html")
        check(status == 405 and h.get("allow") == "GET, HEAD" and b'"METHOD"' in body,
              f"{method} a page: {status} {h} {body!r}")
    status, _, body = fetch(node, "GET", "/chat/nothing.js")
    check(status == 404 and b'"NOTFOUND"' in body, f"a missing page: {status} {body!r}")
    log("/chat redirects to /chat/; other methods 405; a missing page 404")

    # The API beside the pages is untouched.
    code, doc = node.request("GET", "/v1/cluster")
    check(code == 200 and doc["id"] == "n1", f"/v1/cluster: {code} {doc}")


TRAVERSALS = [
    "/chat/../../etc/passwd",
    "/chat/%2e%2e/%2e%2e/etc/passwd",
    "/chat/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/chat/..%2f..%2f..%2fetc%2fpasswd",
    "/chat/%2f..%2f..%2fetc/passwd",
    "/chat/..%5c..%5c..%5cetc%5cpasswd",
    "/chat/.%2e/.%2e/etc/passwd",
    "/lib/../../../../etc/passwd",
    "/desk/./../chat/index.html",
    "/..%2f..%2fetc/passwd",
    "/chat/%00/../etc/passwd",
    "/chat/%252e%252e/etc/passwd",
]


def no_way_out(c):
    node = c.nodes[0]
    passwd = open("/etc/passwd", "rb").read()
    for target in TRAVERSALS:
        status, _, body = fetch(node, "GET", target)
        check(status in (400, 404), f"GET {target}: {status} {body[:200]!r}")
        check(b"root:" not in body and passwd[:32] not in body and b"<html" not in body.lower(),
              f"GET {target}: a file in the answer: {body[:200]!r}")
    log(f"{len(TRAVERSALS)} attempts to climb out of web/ got 400 or 404, never a file")


def no_pages(c):
    node = c.nodes[0]
    node.stop()
    missing = os.path.join(c.root, "no-such-web")
    text = open(node.config).read()
    check(f"web_root: {WEB_ROOT}\n" in text, "the harness names web_root")
    with open(node.config, "w") as f:
        f.write(text.replace(f"web_root: {WEB_ROOT}\n", f"web_root: {missing}\n"))
    before = node.log_tail(100000).count("event=web ")
    node.start()
    c.wait_ready()
    status, _, body = fetch(node, "GET", "/chat/")
    check(status == 404 and b'"NOTFOUND"' in body, f"/chat/ without pages: {status} {body!r}")
    code, _ = node.request("GET", "/v1/cluster")
    check(code == 200, f"/v1/cluster without pages: {code}")
    lines = [ln for ln in node.log_tail(100000).splitlines() if "event=web " in ln][before:]
    check(len(lines) == 1 and "level=warn" in lines[0] and missing in lines[0],
          f"one warning for the missing pages: {lines}")
    log("a web_root that does not exist: the node starts, serves no pages, warns once")


def main(c):
    c.start()
    c.wait_ready()
    pages(c)
    no_way_out(c)
    no_pages(c)


if __name__ == "__main__":
    run(Cluster(1), main)
