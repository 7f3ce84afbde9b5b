"""Browser sign-in on a running 3-node cluster (docs/api.md, *Users and browser sessions*).

Users are made through the API (their passwords become scrypt verifiers on the node that
takes them); a user signs in through one node and the session cookie works at once on
another; the cookie is Secure, HttpOnly and SameSite=Strict; a change made with the cookie
needs the cross-site header; a wrong password and an unknown user get the same 401 after
the same work; the 6th failure for a user name within the window is 429 with Retry-After
and every failure is logged, never a password; past 20 failures from one address, that
address is refused too. Signing out revokes the session on every node, and so do a new
password (USER_SET) and deleting the user."""
import http.client
import json
import os
import re
import statistics
import time

from harness import Cluster, Failure, log, run, wait

ALICE_PW = "correct horse battery"
NEW_PW = "another long passphrase"
BOB_PW = "agent bob's own secret"
CAROL_PW = "carol keeps this one"


def check(cond, what):
    if not cond:
        raise Failure(what)


class Res:
    def __init__(self, status, doc, headers):
        self.status, self.doc, self.headers = status, doc, headers

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def __repr__(self):
        return f"{self.status} {self.doc}"


def call(node, method, path, body=None, cookie=None, csrf=False, token=None):
    """One request on a fresh connection: a bearer token (or none), the session cookie (or
    none), the cross-site header when csrf."""
    client = node.new_client(token="")
    conn = client.connect(30)
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = f"theme=dark; cd_session={cookie}; lang=en"
    if csrf:
        headers["X-Requested-With"] = "contactd"
    try:
        conn.request(method, path, body=data, headers=headers)
        res = conn.getresponse()
        text = res.read()
    finally:
        conn.close()
    doc = json.loads(text) if text else None
    return Res(res.status, doc, {k.lower(): v for k, v in res.getheaders()})


def sign_in(node, user, password, csrf=True):
    return call(node, "POST", "/v1/session", {"user": user, "password": password}, csrf=csrf)


def cookie_of(res):
    """The session token the Set-Cookie of a sign-in carries, after checking its attributes."""
    text = res.header("Set-Cookie")
    parts = [p.strip() for p in text.split(";")]
    m = re.fullmatch(r"cd_session=(cdt_[A-Za-z0-9_-]{43})", parts[0])
    check(m is not None, f"Set-Cookie: {text!r}")
    attrs = {p.split("=")[0].lower(): (p.split("=", 1)[1] if "=" in p else True)
             for p in parts[1:]}
    check(attrs == {"path": "/", "secure": True, "httponly": True, "samesite": "Strict",
                    "max-age": "43200"}, f"cookie attributes: {text!r}")
    return m.group(1)


class Fixture:
    def __init__(self, c):
        self.c = c
        self.leader = c.wait_leader()
        self.a, self.b = [n for n in c.nodes if n is not self.leader]
        self.admin = c.find_token()

    def as_admin(self, method, path, body=None, node=None):
        return call(node or self.leader, method, path, body, token=self.admin)

    def refused_everywhere(self, token, what):
        """Every node refuses the session (401) once it has applied what revoked it."""
        for node in self.c.nodes:
            wait(lambda: call(node, "GET", "/v1/session", cookie=token).status == 401, 15,
                 f"{node.name} refusing the session after {what}")

    def works_everywhere(self, token, user):
        for node in self.c.nodes:
            r = call(node, "GET", "/v1/session", cookie=token)
            check(r.status == 200 and r.doc["user"] == user, f"{node.name}: {r}")


def users(f):
    t0 = time.monotonic()
    r = f.as_admin("PUT", "/v1/users/alice", {"role": "supervisor", "password": ALICE_PW},
                   node=f.a)
    took = time.monotonic() - t0
    check(r.status == 200 and r.doc == {"name": "alice", "role": "supervisor", "agent": ""},
          f"PUT alice: {r}")
    for body, why in (({"role": "supervisor", "password": "elevenchars"}, "shorter"),
                      ({"role": "supervisor", "password": "x" * 1025}, "longer"),
                      ({"role": "supervisor", "password": "twelve chars\n"}, "control"),
                      ({"role": "agent", "password": BOB_PW}, "agent"),
                      ({"role": "supervisor", "agent": "a01", "password": BOB_PW}, "agent"),
                      ({"role": "boss", "password": BOB_PW}, "role"),
                      ({"password": BOB_PW}, "role"),
                      ({"role": "supervisor"}, "password"),
                      ({"role": "supervisor", "password": 123456789012}, "password"),
                      ({"role": "supervisor", "password": BOB_PW, "verifier": "x"}, "unknown")):
        r = f.as_admin("PUT", "/v1/users/mallory", body)
        check(r.status == 400 and why in r.doc["error"]["message"], f"PUT {body}: {r}")
    r = f.as_admin("PUT", "/v1/users/bob", {"role": "agent", "agent": "nosuch",
                                            "password": BOB_PW})
    check(r.status == 404, f"an agent that is not there: {r}")
    r = f.as_admin("PUT", "/v1/users/bob", {"role": "agent", "agent": "a01",
                                            "password": BOB_PW})
    check(r.status == 200 and r.doc["agent"] == "a01", f"PUT bob: {r}")
    r = f.as_admin("PUT", "/v1/users/carol", {"role": "reporter", "password": CAROL_PW})
    check(r.status == 200, f"PUT carol: {r}")
    for node in f.c.nodes:
        r = f.as_admin("GET", "/v1/users", node=node)
        check(r.status == 200 and [u["name"] for u in r.doc["items"]] ==
              ["alice", "bob", "carol"] and r.doc["total"] == 3, f"{node.name} users: {r}")
        for u in r.doc["items"]:
            check(set(u) == {"name", "role", "agent", "sessions", "created_at",
                             "updated_at", "updated_by"}, f"fields of a user: {u}")
    r = f.as_admin("GET", "/v1/users/alice", node=f.b)
    check(r.status == 200 and r.doc["role"] == "supervisor" and
          r.doc["updated_by"].startswith("token:") and r.doc["sessions"] == 0, f"alice: {r}")
    check(f.as_admin("GET", "/v1/users/nobody").status == 404, "an unknown user: 404")
    check(f.as_admin("DELETE", "/v1/users/nobody").status == 404, "deleting one: 404")
    log(f"users alice, bob (agent a01), carol made; a PUT with its scrypt hash took "
        f"{took * 1000:.0f} ms; bad passwords, roles and agents refused")


def sign_in_and_cross_node(f):
    t0 = time.monotonic()
    r = sign_in(f.a, "alice", ALICE_PW)
    took = time.monotonic() - t0
    check(r.status == 200, f"sign-in through {f.a.name}: {r}")
    now = time.time() * 1000
    check(r.doc["user"] == "alice" and r.doc["role"] == "supervisor" and r.doc["agent"] == ""
          and abs(r.doc["expires_at"] - (now + 12 * 3600 * 1000)) < 60000, f"answer: {r}")
    token = cookie_of(r)
    check(r.header("Cache-Control") == "no-store", f"a cacheable sign-in: {r.headers}")
    # At once on the other follower, which may not have applied the session yet.
    r = call(f.b, "GET", "/v1/session", cookie=token)
    check(r.status == 200 and r.doc["session"] is True and r.doc["user"] == "alice" and
          r.doc["actor"] == "user:alice" and r.doc["role"] == "supervisor", f"{f.b.name}: {r}")
    f.works_everywhere(token, "alice")
    r = call(f.b, "GET", "/v1/whoami", cookie=token)
    check(r.status == 200 and r.doc["actor"] == "user:alice", f"whoami: {r}")
    check(call(f.b, "GET", "/v1/queues", cookie=token).status == 200, "a supervisor's read")
    r = call(f.b, "GET", "/v1/tokens", cookie=token)
    check(r.status == 403, f"an admin's route with a supervisor's session: {r}")
    r = f.as_admin("GET", "/v1/tokens")
    sess = [t for t in r.doc["items"] if t["kind"] == "session"]
    check(len(sess) == 1 and sess[0]["user"] == "alice" and
          sess[0]["name"].startswith("session-alice-") and sess[0]["created_by"] ==
          "user:alice", f"the session among the tokens: {sess}")
    log(f"alice signed in through {f.a.name} in {took * 1000:.0f} ms; the cookie works on "
        f"every node at once; Secure, HttpOnly, SameSite=Strict, Max-Age=43200")
    return token


def cross_site(f, token):
    pause = "/v1/queues/support-chat/pause"
    r = call(f.b, "POST", pause, cookie=token)
    check(r.status == 403 and "X-Requested-With" in r.doc["error"]["message"],
          f"a change by cookie without the header: {r}")
    check(not f.as_admin("GET", "/v1/queues/support-chat").doc["paused"], "nothing changed")
    r = call(f.b, "POST", pause, cookie=token, csrf=True)
    check(r.status == 200, f"with the header: {r}")
    r = f.as_admin("GET", "/v1/events?after=0.0&kind=audit&limit=1000", node=f.b)
    ev = [e for e in r.doc["events"] if e.get("action") == "queue_pause"]
    check(ev and ev[-1]["actor"] == "user:alice", f"the audit names the user: {ev}")
    # A bearer token needs no header; nor does a read.
    r = call(f.b, "POST", "/v1/queues/support-chat/resume", token=f.admin)
    check(r.status == 200, f"a change by bearer token: {r}")
    r = sign_in(f.b, "alice", ALICE_PW, csrf=False)
    check(r.status == 403 and r.header("Set-Cookie") == "", f"a sign-in without it: {r}")
    r = call(f.b, "POST", "/v1/session", {"user": "alice"}, csrf=True)
    check(r.status == 400, f"a sign-in without a password: {r}")
    log("a change made with the cookie without X-Requested-With: 403; with it, or with a "
        "bearer token: done")


def wrong_and_unknown(f):
    """A wrong password and an unknown user: the same 401, after the same work."""
    times = {"bad_password": [], "unknown_user": []}
    for i in range(3):
        for what, user, pw in (("bad_password", "alice", "not her password"),
                               ("unknown_user", f"ghost{i}", "not her password")):
            t0 = time.monotonic()
            r = sign_in(f.a, user, pw)
            times[what].append(time.monotonic() - t0)
            check(r.status == 401 and r.doc["error"] == {
                "code": "UNAUTHENTICATED", "message": "wrong user name or password"},
                f"{what}: {r}")
            check(r.header("Set-Cookie") == "", f"no cookie on a failure: {r.headers}")
    known = statistics.median(times["bad_password"])
    unknown = statistics.median(times["unknown_user"])
    check(unknown > 0.5 * known, f"an unknown user answered in {unknown * 1000:.0f} ms, a "
          f"known one in {known * 1000:.0f} ms: the time tells who exists")
    log(f"wrong password and unknown user: the same 401, in {known * 1000:.0f} and "
        f"{unknown * 1000:.0f} ms (medians of 3)")


def rate_limited(f):
    node = f.b
    for i in range(5):
        r = sign_in(node, "carol", f"wrong password {i}")
        check(r.status == 401, f"failure {i + 1}: {r}")
    r = sign_in(node, "carol", "wrong password 5")
    check(r.status == 429 and r.doc["error"]["code"] == "RATE_LIMITED", f"the 6th: {r}")
    retry = int(r.header("Retry-After") or "0")
    check(850 <= retry <= 900, f"Retry-After: {retry}")
    r = sign_in(node, "carol", CAROL_PW)
    check(r.status == 429, f"the right password is not even checked now: {r}")
    # Counted per node: the others still let carol in.
    r = sign_in(f.a, "carol", CAROL_PW)
    check(r.status == 200, f"carol on {f.a.name}: {r}")
    with open(os.path.join(node.dir, "contactd.log")) as fh:
        lines = [l for l in fh.read().splitlines() if "event=signin" in l]
    want = "level=warn event=signin user=carol addr=127.0.0.1 outcome="
    failed = [l for l in lines if want + "bad_password" in l]
    limited = [l for l in lines if want + "rate_limited" in l]
    check(len(failed) == 5 and len(limited) == 2, f"the log: {lines}")
    log(f"carol: 5 failures on {node.name}, then 429 (Retry-After {retry} s) even with the "
        f"right password; logged: {limited[0]}")


def agent_user(f):
    r = sign_in(f.leader, "bob", BOB_PW)
    check(r.status == 200 and r.doc["role"] == "agent" and r.doc["agent"] == "a01", f"{r}")
    token = cookie_of(r)
    check(call(f.a, "GET", "/v1/agents/a01", cookie=token).status == 200, "bob's own agent")
    r = call(f.a, "GET", "/v1/agents/a02", cookie=token)
    check(r.status == 403, f"another agent: {r}")
    log("bob (role agent, a01) signed in: his agent only")


def sign_out(f):
    token = cookie_of(sign_in(f.a, "alice", ALICE_PW))
    f.works_everywhere(token, "alice")
    r = call(f.b, "DELETE", "/v1/session", cookie=token)
    check(r.status == 403, f"a sign-out without the header: {r}")
    r = call(f.b, "DELETE", "/v1/session", cookie=token, csrf=True)
    check(r.status == 200 and r.header("Set-Cookie") ==
          "cd_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
          f"sign-out: {r} {r.headers}")
    f.refused_everywhere(token, "the sign-out")
    r = call(f.a, "DELETE", "/v1/session", token=f.admin)
    check(r.status == 409, f"an API token is not signed out: {r}")
    log("signed out through another node: the session refused by all 3 nodes")


def new_password(f):
    token = cookie_of(sign_in(f.a, "alice", ALICE_PW))
    other = cookie_of(sign_in(f.leader, "alice", ALICE_PW))
    f.works_everywhere(token, "alice")
    r = f.as_admin("PUT", "/v1/users/alice", {"role": "supervisor", "password": NEW_PW},
                   node=f.b)
    check(r.status == 200, f"a new password: {r}")
    f.refused_everywhere(token, "the new password")
    f.refused_everywhere(other, "the new password")
    check(sign_in(f.b, "alice", ALICE_PW).status == 401, "the old password")
    r = sign_in(f.b, "alice", NEW_PW)
    check(r.status == 200, f"the new password: {r}")
    token = cookie_of(r)
    f.works_everywhere(token, "alice")
    r = f.as_admin("DELETE", "/v1/users/alice", node=f.a)
    check(r.status == 200, f"deleting alice: {r}")
    f.refused_everywhere(token, "deleting the user")
    check(sign_in(f.leader, "alice", NEW_PW).status == 401, "a deleted user signs in")
    check(f.as_admin("GET", "/v1/users/alice").status == 404, "alice is gone")
    log("a new password ended both of alice's sessions on every node; deleting her the "
        "next one")


def address_limit(f):
    """Past 20 failures from one address, every sign-in from it is refused (on that node)."""
    node = f.leader
    failed = 0
    for i in range(40):
        r = sign_in(node, f"guess{i}", "some guessed password")
        if r.status == 429:
            break
        check(r.status == 401, f"guess {i}: {r}")
        failed += 1
    check(r.status == 429 and "address" in r.doc["error"]["message"], f"the last: {r}")
    r = sign_in(node, "carol", CAROL_PW)
    check(r.status == 429, f"another user from that address: {r}")
    # Sign-ins that succeeded there earlier were taken back; alice's after her deletion was
    # one failure more.
    check(failed == 19, f"{failed} failures before the address was refused")
    log(f"20 failures from 127.0.0.1 on {node.name}, then 429 for any user from it")


def no_password_logged(c):
    for node in c.nodes:
        with open(os.path.join(node.dir, "contactd.log")) as fh:
            text = fh.read()
        for pw in (ALICE_PW, NEW_PW, BOB_PW, CAROL_PW, "not her password", "scrypt$"):
            check(pw not in text, f"{node.name}'s log holds {pw!r}")
    log("no password or verifier in any node's log")


def body(c):
    c.start()
    c.wait_ready()
    c.install_model()
    f = Fixture(c)
    users(f)
    token = sign_in_and_cross_node(f)
    cross_site(f, token)
    wrong_and_unknown(f)
    rate_limited(f)
    agent_user(f)
    sign_out(f)
    new_password(f)
    address_limit(f)
    no_password_logged(c)


if __name__ == "__main__":
    run(Cluster(3, election_ms=500), body)
