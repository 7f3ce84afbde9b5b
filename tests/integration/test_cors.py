"""CORS on the API (docs/api.md, *Browsers on other origins*), on a running 2-node cluster
with TLS whose node files list one web origin: a preflight from another member's origin or
from web_origins is granted (204 and every Access-Control header), one from any other origin
is refused 403 with no CORS header; the actual answers of /v1/ to an allowed origin, errors
included, carry Access-Control-Allow-Origin, -Credentials, -Expose-Headers: Date and Vary;
a foreign origin's answers carry none, and neither do answers outside /v1/. Then a single
insecure node: its members' origins are http://, not https://."""
import http.client

from harness import Cluster, Failure, log, run

DESK = "https://desk.example.com"


def check(cond, what):
    if not cond:
        raise Failure(what)


def call(node, method, path, origin=None, headers=None, token=True):
    """(status, headers with lower-case names, body bytes) on a fresh connection."""
    conn = node.new_client(token="").connect(10)
    h = dict(headers or {})
    if origin is not None:
        h["Origin"] = origin
    if token:
        h["Authorization"] = f"Bearer {node.cluster.find_token()}"
    try:
        conn.request(method, path, headers=h)
        res = conn.getresponse()
        body = res.read()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, body
    finally:
        conn.close()


def preflight(node, origin, method="POST", path="/v1/contacts"):
    return call(node, "OPTIONS", path, origin, token=False, headers={
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type, x-requested-with"})


def no_cors(h, what):
    cors = [k for k in h if k.startswith("access-control-")]
    check(not cors, f"{what}: CORS headers {cors}")


def granted(node, origin):
    status, h, body = preflight(node, origin)
    check(status == 204 and body == b"", f"preflight from {origin}: {status} {body!r}")
    want = {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, POST, PUT, DELETE",
        "access-control-allow-headers": "Authorization, Content-Type, X-Requested-With",
        "access-control-max-age": "600",
        "vary": "Origin",
    }
    for name, value in want.items():
        check(h.get(name) == value, f"preflight from {origin}: {name} is {h.get(name)!r}")


def refused(node, origin):
    status, h, body = preflight(node, origin)
    check(status == 403 and b'"FORBIDDEN"' in body, f"preflight from {origin}: {status} {body!r}")
    check(h.get("content-type") == "application/json", f"preflight from {origin}: {h}")
    no_cors(h, f"refused preflight from {origin}")


def answers_carry(node, origin, status_want, method, path, token=True):
    status, h, body = call(node, method, path, origin, token=token)
    check(status == status_want, f"{method} {path} from {origin}: {status} {body[:200]!r}")
    check(h.get("access-control-allow-origin") == origin and
          h.get("access-control-allow-credentials") == "true" and
          h.get("access-control-expose-headers") == "Date" and h.get("vary") == "Origin",
          f"{method} {path} from {origin}: {h}")
    check(h.get("date", "").endswith(" GMT"), f"{method} {path}: Date {h.get('date')!r}")
    return body


def cluster_with_origins(c):
    n1, n2 = c.nodes
    c.start()
    c.wait_ready()
    c.wait_token()
    member = f"https://{n2.api_addr}"  # the desk loaded from n2, calling n1
    granted(n1, member)
    granted(n1, f"https://{n1.api_addr}")
    granted(n1, DESK)
    granted(n1, "https://DESK.example.com")  # an origin's host has no case
    granted(n2, f"https://{n1.api_addr}")
    log("preflights from the members' origins and from web_origins are granted")

    for origin in ("https://evil.example.com", "null", f"http://{n2.api_addr}",
                   f"https://{n2.api_addr}/", "https://desk.example.com:8443",
                   f"https://127.0.0.1:{n2.api_port + 1}"):
        refused(n1, origin)
    log("preflights from other origins, schemes and ports are refused 403 without CORS")

    answers_carry(n1, member, 200, "GET", "/v1/cluster")
    answers_carry(n1, DESK, 200, "GET", "/v1/queues?stale=true")
    body = answers_carry(n1, member, 404, "GET", "/v1/contacts/999999")
    check(b'"NOTFOUND"' in body, f"the 404's body: {body!r}")
    body = answers_carry(n1, member, 401, "GET", "/v1/whoami", token=False)
    check(b'"UNAUTHENTICATED"' in body, f"the 401's body: {body!r}")
    body = answers_carry(n1, member, 400, "GET", "/v1/contacts/abc")
    answers_carry(n1, member, 404, "GET", "/v1/nothing")
    answers_carry(n2, DESK, 405, "OPTIONS", "/v1/cluster")  # not a preflight
    log("answers of /v1/ to an allowed origin carry the CORS headers, errors included")

    status, h, _ = call(n1, "GET", "/v1/cluster", "https://evil.example.com")
    check(status == 200, f"a foreign origin's GET: {status}")
    no_cors(h, "a foreign origin's answer")
    status, h, _ = call(n1, "GET", "/v1/cluster")
    check(status == 200, f"no Origin: {status}")
    no_cors(h, "an answer without Origin")
    status, h, _ = call(n1, "GET", "/healthz", member, token=False)
    check(status == 200, f"/healthz: {status}")
    no_cors(h, "/healthz")
    log("a foreign origin, no origin and /healthz get no CORS headers")


def insecure_node(c):
    n1 = c.nodes[0]
    c.start()
    c.wait_ready()
    c.wait_token()
    granted(n1, f"http://{n1.api_addr}")
    refused(n1, f"https://{n1.api_addr}")
    granted(n1, DESK)
    answers_carry(n1, f"http://{n1.api_addr}", 200, "GET", "/v1/cluster")
    log("an insecure node: its members' origins are http://")


def with_desk(c):
    for node in c.nodes:
        with open(node.config, "a") as f:
            f.write(f"web_origins: [{DESK}]\n")
    return c


if __name__ == "__main__":
    run(with_desk(Cluster(2)), cluster_with_origins)
    run(with_desk(Cluster(1, insecure=True)), insecure_node)
