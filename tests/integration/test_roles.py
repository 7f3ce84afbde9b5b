"""Who may call what, on a running 3-node cluster: the role table of docs/api.md
(*Authentication and roles*) is read from the document itself and every cell is checked.
For each route, without a token the answer is 401 (for the public ones 200, and 400 for the
sign-in, whose body is refused); with a token of
each role it is 403 where the table says `—` and anything but 401 or 403 where it says
`yes`; where it says `own`, an agent token gets through for its own agent's work and 403 for
another's. Requests are made so that, once past the check, they fail harmlessly (a body the
route refuses, an id nobody has), so the walk changes nothing.

Then: a token revoked on one node is refused by every node from the index of its revocation
on (each node is asked once it has applied that index), an expired token is refused by
every node, an agent cannot answer another agent's offer, and a token made through one node
works at once on the others."""
import os
import re
import time

from harness import Client, Cluster, Failure, log, run, wait

HERE = os.path.dirname(os.path.abspath(__file__))
API_MD = os.path.join(HERE, "..", "..", "docs", "api.md")
ROLES = ["admin", "supervisor", "agent", "reporter", "integration"]
NOBODY = "999999"


def check(cond, what):
    if not cond:
        raise Failure(what)


def role_table():
    """[(method, path, {role: cell})] from docs/api.md's role table."""
    rows, inside = [], False
    with open(API_MD) as f:
        for line in f:
            if line.startswith("| route | admin | supervisor | agent | reporter | integration"):
                inside = True
                continue
            if inside and not line.startswith("|"):
                break
            m = re.match(r"\| `(GET|POST|PUT|DELETE) ([^`]+)` \|(.*)\|\s*$", line)
            if inside and m:
                cells = [c.strip() for c in m.group(3).split("|")]
                check(len(cells) == 5, f"api.md: a row without five cells: {line!r}")
                rows.append((m.group(1), m.group(2), dict(zip(ROLES, cells))))
    check(len(rows) > 40, f"api.md's role table has {len(rows)} rows")
    return rows


class Fixture:
    def __init__(self, c):
        self.c = c
        self.leader = c.wait_leader()
        self.node = next(n for n in c.nodes if n is not self.leader)  # a follower
        self.tokens = {"admin": c.find_token()}
        for role in ROLES[1:]:
            agent = "a01" if role == "agent" else None
            self.tokens[role] = c.make_token(f"t-{role}", role, agent)
        admin = self.client("admin")
        code, doc = admin.request("POST", "/v1/agents/a01/login", {"presence": "available"})
        check(code == 200, f"a01 login: {code} {doc}")
        code, doc = admin.request("POST", "/v1/contacts", {"channel": "chat"})
        check(code == 201, f"contact: {code} {doc}")
        self.mine = doc["id"]
        code, doc = admin.request("POST", "/v1/contacts", {"channel": "chat",
                                                           "queue": "sales-chat"})
        check(code == 201, f"contact: {code} {doc}")
        self.other = doc["id"]
        contact = wait(lambda: self.offered(self.mine), 10, "the contact offered to a01")
        self.offer = contact["offer"]

    def offered(self, cid):
        code, doc = self.client("admin").request("GET", f"/v1/contacts/{cid}")
        return doc if code == 200 and doc.get("agent") == "a01" else None

    def client(self, role, node=None):
        token = "" if role is None else self.tokens[role]
        return (node or self.node).new_client(token=token)

    def request_for(self, method, path, own):
        """The request for a route: ids and names filled in (the agent token's own work when
        own, another's when not), and a body the route refuses once past the check."""
        agent = "a01" if own else "a02"
        subst = {"{contact}": str(self.mine if own else self.other), "{offer}": NOBODY,
                 "{agent}": agent, "{queue}": "support-chat", "{member}": "nosuch",
                 "{webhook}": NOBODY, "{token}": NOBODY, "{version}": "1",
                 "{user}": "nosuch-user", "{entry}": "web", "{report}": "nosuch-report",
                 "{fault}": NOBODY, "{run}": NOBODY, "{runbook}": "nosuch-runbook",
                 "{saved}": "nosuch-saved", "{drill}": NOBODY}
        for k, v in subst.items():
            path = path.replace(k, v)
        if path in ("/v1/contacts", "/v1/events") and method == "GET":
            path += f"?agent={agent}" + ("&after=now&wait_ms=0" if "events" in path else "")
        if method in ("GET", "DELETE"):
            return path, None, None
        if path.startswith("/v1/offers/"):
            return path, {"agent": agent}, None
        if path in ("/v1/model", "/v1/model/validate", "/v1/model/diff"):
            return path, None, "queues: [\n"
        return path, {"bogus": 1}, None

    def ask(self, role, method, route, own=True):
        path, body, raw = self.request_for(method, route, own)
        code, doc = self.client(role).request(method, path, body, raw=raw)
        return code, doc, path


def walk(f):
    rows = role_table()
    cells = 0
    for method, route, allowed in rows:
        public = all(v == "public" for v in allowed.values())
        code, doc, path = f.ask(None, method, route)
        if public:
            # A public GET answers; the sign-in refuses the body it is given.
            want = 200 if method == "GET" else 400
            check(code == want, f"{method} {path} without a token: {code} {doc}")
            cells += 1
            continue
        check(code == 401 and doc["error"]["code"] == "UNAUTHENTICATED",
              f"{method} {path} without a token: expected 401, got {code} {doc}")
        for role in ROLES:
            cell = allowed[role]
            code, doc, path = f.ask(role, method, route, own=True)
            if cell == "—":
                check(code == 403 and doc["error"]["code"] == "FORBIDDEN",
                      f"{role} on {method} {path}: expected 403, got {code} {doc}")
            else:
                check(cell in ("yes", "own"), f"api.md: unknown cell {cell!r} for {route}")
                check(code not in (401, 403), f"{role} on {method} {path}: expected to get "
                      f"past the check, got {code} {doc}")
            if cell == "own":
                code, doc, path = f.ask(role, method, route, own=False)
                check(code == 403 and doc["error"]["code"] == "FORBIDDEN",
                      f"{role} on another's {method} {path}: expected 403, got {code} {doc}")
            cells += 1
        cells += 1
    log(f"role table: {len(rows)} routes, {cells} cells checked against {f.node.name}")


def garbage_tokens(f):
    for bad in ("Bearer cdt_nonsense", "Bearer ", "Basic YWRtaW46YWRtaW4=", "cdt_x"):
        client = Client(f.node.api_port, tls=f.c.tls, token="")
        client.conn = client.connect(5)
        client.conn.request("GET", "/v1/whoami", headers={"Authorization": bad})
        res = client.conn.getresponse()
        res.read()
        client.close()
        check(res.status == 401, f"Authorization: {bad!r} answered {res.status}")
    log("malformed and unknown credentials: 401")


def revoked_everywhere(f):
    c = f.c
    token = c.make_token("short-lived", "reporter")
    for node in c.nodes:
        code, doc = node.new_client(token=token).request("GET", "/v1/whoami")
        check(code == 200 and doc["actor"] == "token:short-lived",
              f"{node.name} before revocation: {code} {doc}")
    code, doc = f.client("admin").request("GET", "/v1/tokens")
    tid = next(t["id"] for t in doc["items"] if t["name"] == "short-lived")
    code, doc = f.client("admin").request("DELETE", f"/v1/tokens/{tid}")
    check(code == 200, f"revoke: {code} {doc}")
    code, doc = f.client("admin").request("GET", "/v1/events?after=0.0&kind=audit&limit=1000")
    ev = [e for e in doc["events"] if e.get("action") == "token_revoke"]
    check(ev, f"no audit event of the revocation: {doc}")
    index = int(ev[-1]["id"].split(".")[0])
    for node in c.nodes:
        wait(lambda: node.status()["applied_index"] >= index, 10,
             f"{node.name} applying index {index}")
        code, doc = node.new_client(token=token).request("GET", "/v1/whoami")
        check(code == 401, f"{node.name} after revocation at {index}: {code} {doc}")
    log(f"a revoked token: refused by all 3 nodes once each applied index {index}")

    soon = int(time.time() * 1000) + 1500
    token = c.make_token("expiring", "reporter", expires_at=soon)
    code, doc = f.node.new_client(token=token).request("GET", "/v1/whoami")
    check(code == 200, f"before expiry: {code} {doc}")
    while time.time() * 1000 < soon + 50:
        time.sleep(0.05)
    for node in c.nodes:
        code, doc = node.new_client(token=token).request("GET", "/v1/whoami")
        check(code == 401 and "expired" in doc["error"]["message"],
              f"{node.name} after expiry: {code} {doc}")
    log("an expired token: refused by all 3 nodes")


def others_offer(f):
    """The agent token of a02 cannot answer a01's offer, neither as itself (the engine:
    not its offer) nor as a01 (the API: not its agent)."""
    a02 = f.c.make_token("t-a02", "agent", "a02")
    client = f.node.new_client(token=a02)
    admin = f.client("admin")
    # The walk's offer has rung out by now (a01 went away with it): a fresh one.
    code, doc = admin.request("POST", "/v1/agents/a01/state", {"presence": "available"})
    check(code == 200, f"a01 available again: {code} {doc}")
    code, doc = admin.request("POST", "/v1/contacts", {"channel": "chat"})
    check(code == 201, f"contact: {code} {doc}")
    f.mine = doc["id"]
    f.offer = wait(lambda: f.offered(f.mine), 10, "the contact offered to a01")["offer"]
    for agent, status in (("a01", 403), ("a02", None)):
        code, doc = client.request("POST", f"/v1/offers/{f.offer}/accept", {"agent": agent})
        if status is not None:
            check(code == status, f"a02 accepting as {agent}: {code} {doc}")
        else:
            check(code >= 400 and code not in (401, 403), f"a02 accepting as a02: {code} {doc}")
    code, doc = f.client("admin").request("GET", f"/v1/contacts/{f.mine}")
    check(doc["state"] == "offered" and doc["offer"] == f.offer, f"the offer stays: {doc}")
    code, doc = f.client("agent").request("POST", f"/v1/offers/{f.offer}/accept",
                                          {"agent": "a01"})
    check(code == 200, f"a01 accepting its own offer: {code} {doc}")
    log("an agent cannot answer another agent's offer; its own it can")


def body(c):
    c.start()
    c.wait_ready()
    c.install_model()
    f = Fixture(c)
    walk(f)
    garbage_tokens(f)
    revoked_everywhere(f)
    others_offer(f)


if __name__ == "__main__":
    run(Cluster(3, election_ms=500), body)
