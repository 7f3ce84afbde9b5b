"""Web chat's WebSocket (docs/chat.md) on a 3-node TLS cluster, spoken by a client of the
test's own: the pre-chat form and its refusals; a chat queued, offered, connected; messages
both ways through different nodes, a retried message id applied once; the chat resumed on
another node (what was missed arrives, the home moves), taken over by a second connection
(4409), refused with a wrong secret (4404); the customer's node killed with SIGKILL and the
chat resumed elsewhere with nothing lost or doubled; typing and seen signals between the
page and the desk's event feed across nodes; bye, wrap-up with the required disposition,
and the history; a customer who never comes back (customer_gone); the limits (message size,
rate, connections per address), each a close with its code."""
import base64
import os
import time

from harness import Cluster, Failure, log, run, wait
import wsclient

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "data", "chat-model.yaml")


def check(cond, what):
    if not cond:
        raise Failure(what)


def secret():
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


class Page:
    """A customer's page: one connection at a time, every message it got kept in order."""

    def __init__(self, c, node):
        self.c = c
        self.secret = secret()
        self.contact = 0
        self.got = []  # every message from the node, in order
        self.seq = 0
        self.ws = None
        self.connect(node)

    def connect(self, node):
        self.node = node
        self.ws = wsclient.connect(f"wss://{node.host}:{node.api_port}/chat/ws",
                                   ca_file=self.c.ca_file, timeout=10)

    def send(self, **m):
        self.ws.send_json(m)

    def next(self, timeout=10):
        msg = self.ws.recv(timeout=timeout)
        if msg.kind == "close":
            return {"t": "close", "code": msg.code, "reason": msg.reason}
        m = msg.json()
        self.got.append(m)
        if m.get("t") == "msg":
            self.seq = max(self.seq, m["seq"])
        return m

    def until(self, pred, what, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                m = self.next(timeout=max(0.1, deadline - time.time()))
            except wsclient.Timeout:
                break
            if pred(m):
                return m
            if m["t"] == "close":
                raise Failure(f"{what}: the connection closed {m}")
        raise Failure(f"{what}: not within {timeout}s; last messages {self.got[-5:]}")

    def hello(self, form, entry="help"):
        self.send(t="hello", entry=entry, secret=self.secret, form=form)
        m = self.until(lambda m: m["t"] in ("welcome", "error"), "welcome")
        if m["t"] == "welcome":
            self.contact = m["contact"]
        return m

    def resume(self, node):
        self.connect(node)
        self.send(t="resume", secret=self.secret, contact=self.contact, after=self.seq)
        return self.until(lambda m: m["t"] in ("welcome", "error", "close"), "resumed")

    def messages(self):
        seen = {}
        for m in self.got:
            if m["t"] == "msg":
                if m["seq"] in seen:
                    raise Failure(f"message {m['seq']} came twice: {seen[m['seq']]} and {m}")
                seen[m["seq"]] = m
        return [seen[k] for k in sorted(seen)]


def closed_with(ws, code, what, timeout=10):
    """Reads until the node closes ws; its code must be code."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            msg = ws.recv(timeout=max(0.1, deadline - time.time()))
        except wsclient.ConnectionClosed as e:
            got = e.code
            break
        if msg.kind == "close":
            got = msg.code
            break
    else:
        raise Failure(f"{what}: not closed within {timeout}s")
    if got != code:
        raise Failure(f"{what}: closed with {got}, expected {code}")


def contact(c, node, cid):
    code, doc = node.request("GET", f"/v1/contacts/{cid}")
    check(code == 200, f"contact {cid} on {node.name}: {code} {doc}")
    return doc


def config_and_forms(c):
    urls = sorted(f"https://{n.host}:{n.api_port}" for n in c.nodes)
    for n in c.nodes:
        code, doc = n.new_client(token="").request("GET", "/chat/config")
        check(code == 200, f"/chat/config on {n.name}: {code} {doc}")
        check([e["name"] for e in doc["entries"]] == ["help", "sales"], f"entries {doc}")
        check(sorted(doc["endpoints"]) == urls, f"endpoints {doc['endpoints']} != {urls}")
        check(doc["reconnect_s"] == 10 and doc["max_text"] == 4095, f"limits {doc}")
    n1 = c.nodes[0]
    bad = [({"email": "ann@example.com"}, "name"),              # required, missing
           ({"name": "Ann", "shoe": "42"}, "shoe"),             # not a field
           ({"name": "Ann", "email": "not-an-address"}, "email"),
           ({"name": "Ann", "topic": "gardening"}, "topic"),    # not a choice
           ({"name": "x" * 41}, "name"),                        # over max
           ({"name": 7}, "name")]
    for form, field in bad:
        p = Page(c, n1)
        m = p.hello(form)
        check(m["t"] == "error" and m.get("field") == field, f"form {form}: {m}")
        p.ws.close()
    p = Page(c, n1)
    p.send(t="msg", id="m1", text="too early")
    m = p.until(lambda m: m["t"] == "error", "msg before hello")
    check(m["code"] == "STATE", f"msg before hello: {m}")
    p.send(t="hello", entry="help", secret="short", form={"name": "Ann"})
    m = p.until(lambda m: m["t"] == "error", "bad secret")
    check(m["code"] == "INVAL", f"bad secret: {m}")
    p.ws.send_text("not json")
    closed_with(p.ws, 1008, "not JSON")
    p = Page(c, n1)
    p.send(t="teleport")
    closed_with(p.ws, 1008, "unknown type")
    log("/chat/config on every node; the form's refusals each name their field; protocol "
        "errors close with 1008")


def agent_client(c, node, agent):
    return node.new_client(token=c.agent_tokens[agent])


def accept_offer(c, node, cid, agent):
    doc = wait(lambda: (lambda d: d if d["state"] == "offered" and d["agent"] == agent
                        else None)(contact(c, node, cid)), 15, f"contact {cid} offered to {agent}")
    code, res = agent_client(c, node, agent).request(
        "POST", f"/v1/offers/{doc['offer']}/accept", {"agent": agent})
    check(code == 200, f"accept {doc['offer']}: {code} {res}")


def agent_says(c, node, cid, agent, mid, text):
    """The agent's message through node, sent again (the same id) while the cluster has no
    leader for a moment after a kill."""
    client = agent_client(c, node, agent)

    def say():
        try:
            code, doc = client.request("POST", f"/v1/contacts/{cid}/messages",
                                       {"id": mid, "text": text})
        except OSError:
            return None
        if code == 503:
            return None
        check(code in (200, 201), f"agent message {mid} through {node.name}: {code} {doc}")
        return doc
    return wait(say, 20, f"agent message {mid}")["seq"]


def conversation(c):
    n1, n2, n3 = c.nodes
    leader = c.wait_leader()
    code, doc = leader.request("POST", "/v1/agents/a01/login", {"presence": "available"})
    check(code == 200, f"login a01: {code} {doc}")
    p = Page(c, n1)
    m = p.hello({"name": "Ann <b>", "email": "ann@example.com", "topic": "billing"})
    check(m["t"] == "welcome" and m["contact"] > 0 and not m["resumed"], f"welcome {m}")
    cid = p.contact
    p.until(lambda m: m["t"] == "state" and m["state"] in ("queued", "offered"), "state")
    doc = contact(c, n2, cid)
    check(doc["channel"] == "chat" and doc["queue"] == "web-help", f"routed: {doc}")
    check(doc["session"]["home"] == "n1", f"home n1: {doc['session']}")
    check(doc["attributes"]["name"] == "Ann <b>" and doc["attributes"]["topic"] == "billing",
          f"the form's answers are attributes: {doc['attributes']}")
    accept_offer(c, n2, cid, "a01")
    m = p.until(lambda m: m["t"] == "state" and m["state"] == "connected", "connected")
    check(m.get("agent") == "a01", f"connected to a01: {m}")

    payload = "<script>alert('x')</script> & <img src=x onerror=alert(1)>"
    p.send(t="msg", id="m1", text=payload)
    sent = p.until(lambda m: m["t"] == "sent", "sent m1")
    check(sent["id"] == "m1" and sent["seq"] == 1, f"sent {sent}")
    agent_says(c, n3, cid, "a01", "a1", "Hello Ann, how can I help?")
    m = p.until(lambda m: m["t"] == "msg" and m["from"] == "agent", "the agent's message")
    check(m["seq"] == 2 and m["text"] == "Hello Ann, how can I help?", f"agent msg {m}")
    p.send(t="msg", id="m1", text=payload)  # a retry: applied once
    again = p.until(lambda m: m["t"] == "sent", "sent m1 again")
    check(again["seq"] == 1, f"a retried id keeps its seq: {again}")
    log("chat on n1, agent through n2 and n3: messages both ways, a retried id applied once")

    # typing and seen: from the page to the desk's event feed on another node, and back
    feed = wsclient.connect(f"wss://{n3.host}:{n3.api_port}/v1/events?agent=a01&after=now",
                            ca_file=c.ca_file, headers={"Authorization":
                                                        f"Bearer {c.agent_tokens['a01']}"})
    p.send(t="typing", on=True)
    sig = None
    deadline = time.time() + 10
    while time.time() < deadline and sig is None:
        ev = feed.recv_json(timeout=10)
        if ev.get("kind") == "signal" and ev.get("t") == "typing":
            sig = ev
    check(sig and sig["contact"] == cid and sig["side"] == "customer" and sig["on"],
          f"customer typing on the desk's feed: {sig}")
    feed.send_json({"t": "typing", "contact": cid, "on": True})
    m = p.until(lambda m: m["t"] == "typing", "the agent typing")
    check(m["on"] is True, f"typing {m}")
    feed.send_json({"t": "seen", "contact": cid, "seq": 1})
    m = p.until(lambda m: m["t"] == "seen", "seen")
    check(m["seq"] == 1, f"seen {m}")
    feed.close()
    log("typing and seen between the page on n1 and the desk's feed on n3")
    return p


def resume_and_takeover(c, p):
    n1, n2, n3 = c.nodes
    cid = p.contact
    p.ws.close(1001)
    wait(lambda: contact(c, n2, cid)["session"]["home"] == "", 10, "the session ended")
    agent_says(c, n2, cid, "a01", "a2", "Are you still there?")
    m = p.resume(n2)
    check(m["t"] == "welcome" and m["resumed"] and m["contact"] == cid, f"resumed {m}")
    m = p.until(lambda m: m["t"] == "msg" and m["from"] == "agent", "missed message")
    check(m["seq"] == 3 and m["text"] == "Are you still there?", f"missed {m}")
    p.until(lambda m: m["t"] == "state" and m["state"] == "connected", "state after resume")
    check(contact(c, n1, cid)["session"]["home"] == "n2", "the home moved to n2")

    second = Page(c, n3)
    second.secret, second.contact, second.seq = p.secret, cid, p.seq
    second.ws.close()
    m = second.resume(n3)
    check(m["t"] == "welcome" and m["resumed"], f"takeover {m}")
    closed_with(p.ws, 4409, "the first connection of a chat taken over")
    p.ws, p.node = second.ws, second.node
    p.got.extend(second.got)

    intruder = Page(c, n1)
    intruder.contact = cid
    m = intruder.resume(n1)
    check(m["t"] == "close" and m["code"] == 4404, f"a wrong secret: {m}")
    log("resumed on n2 with the missed message; taken over on n3 (the first closed 4409); "
        "a wrong secret closed 4404")


def failover(c, p):
    n1, n2, n3 = c.nodes
    cid = p.contact
    p.send(t="msg", id="m2", text="before the crash")
    p.until(lambda m: m["t"] == "sent" and m["id"] == "m2", "sent m2")
    n3.kill()
    log("n3, the customer's node, killed with SIGKILL")
    closed = p.until(lambda m: m["t"] == "close", "the connection to n3 dropped", timeout=10)
    check(closed["code"] == 1006, f"dropped: {closed}")
    agent_says(c, n1, cid, "a01", "a3", "I see you dropped out")
    m = p.resume(n1)
    check(m["t"] == "welcome" and m["resumed"], f"resumed on n1: {m}")
    p.until(lambda m: m["t"] == "msg" and m.get("id") == "a3", "the message sent meanwhile")
    p.send(t="msg", id="m3", text="back again")
    p.until(lambda m: m["t"] == "sent" and m["id"] == "m3", "sent m3")
    code, doc = n2.request("GET", f"/v1/contacts/{cid}/messages")
    check(code == 200, f"transcript: {code} {doc}")
    replicated = [(m["seq"], m["from"], m["id"], m["text"]) for m in doc["items"]]
    seen = [(m["seq"], m["from"], m["id"], m["text"]) for m in p.messages()]
    check(replicated == seen, f"the page's transcript {seen} != the replicated {replicated}")
    check([s for s, *_ in replicated] == list(range(1, len(replicated) + 1)),
          f"seqs 1..n: {replicated}")
    n3.start()
    c.wait_ready()
    log(f"after the SIGKILL the page resumed on n1: {len(seen)} messages, the same as the "
        "replicated transcript, none lost or doubled")


def bye_and_wrapup(c, p):
    n1, n2, n3 = c.nodes
    cid = p.contact
    p.send(t="bye")
    m = p.until(lambda m: m["t"] == "ended", "ended")
    check(m["reason"] == "customer", f"ended {m}")
    closed_with(p.ws, 1000, "the chat's connection after bye")
    doc = wait(lambda: (lambda d: d if d["state"] == "wrapup" else None)(contact(c, n2, cid)),
               10, "wrap-up")
    client = agent_client(c, n2, "a01")
    code, doc = client.request("POST", f"/v1/contacts/{cid}/wrapup-done", {})
    check(code == 400, f"web-help requires a disposition: {code} {doc}")
    code, doc = client.request("POST", f"/v1/contacts/{cid}/wrapup-done",
                               {"disposition": "resolved", "notes": "billing question"})
    check(code == 200, f"wrap-up: {code} {doc}")
    h = wait(lambda: (lambda r: r[1] if r[0] == 200 else None)(
        n3.request("GET", f"/v1/history/{cid}")), 15, "history on n3")
    check(h["disposition"] == "resolved" and h["notes"] == "billing question", f"history {h}")
    check(len(h["messages"]) == 6, f"history transcript {h['messages']}")
    log("bye ended the talk; wrap-up needed its disposition; the history on n3 has it and "
        "the transcript")


def transfer(c):
    """The agent transfers the chat to another queue: the page hears the agent left and
    waits in line again."""
    n1, n2, n3 = c.nodes
    p = Page(c, n2)
    check(p.hello({"name": "Flo"})["t"] == "welcome", "welcome Flo")
    accept_offer(c, n1, p.contact, "a01")
    p.until(lambda m: m["t"] == "state" and m["state"] == "connected", "Flo connected")
    code, doc = agent_client(c, n3, "a01").request(
        "POST", f"/v1/contacts/{p.contact}/transfer", {"queue": "web-sales"})
    check(code == 200, f"transfer: {code} {doc}")
    p.until(lambda m: m["t"] == "left", "the agent left")
    m = p.until(lambda m: m["t"] == "state" and m["state"] in ("queued", "offered"),
                "back in line")
    check(m["queue"] == "web-sales", f"in the queue it was sent to: {m}")
    p.send(t="bye")
    p.until(lambda m: m["t"] == "ended", "Flo left")
    log("a transfer to another queue: the page hears the agent left and waits there")


def places_in_line(c):
    n1, n2, n3 = c.nodes
    code, doc = c.wait_leader().request("POST", "/v1/agents/a01/logout", {})
    check(code == 200, f"logout a01: {code} {doc}")
    first, second = Page(c, n1), Page(c, n3)
    for p, name in ((first, "Di"), (second, "Ed")):
        check(p.hello({"name": name}, entry="sales")["t"] == "welcome", f"welcome {name}")
    m = second.until(lambda m: m["t"] == "state" and m["state"] == "queued", "queued")
    check(m["position"] == 2 and m["queue"] == "web-sales", f"second in line: {m}")
    first.send(t="bye")
    first.until(lambda m: m["t"] == "ended", "the first left")
    m = second.until(lambda m: m["t"] == "state" and m.get("position") == 1, "moved up",
                     timeout=15)
    check(m["state"] == "queued", f"first in line now: {m}")
    second.send(t="bye")
    log("places in line: second, then first once the one ahead left")


def customer_gone(c):
    n2 = c.nodes[1]
    p = Page(c, n2)
    m = p.hello({"name": "Bo"}, entry="sales")
    check(m["t"] == "welcome", f"welcome {m}")
    cid = p.contact
    p.ws.sock.close()  # the page is gone without a goodbye
    h = wait(lambda: (lambda r: r[1] if r[0] == 200 else None)(
        n2.request("GET", f"/v1/history/{cid}")), 40, "the abandoned chat in history")
    check(h["state"] == "abandoned" and h["reason"] == "customer_gone", f"gone: {h}")
    log("a page gone without a goodbye: abandoned as customer_gone after reconnect_s")


def limits(c):
    n1 = c.nodes[0]
    p = Page(c, n1)
    p.ws.send_text("x" * (17 * 1024))
    closed_with(p.ws, 1009, "a message over 16 KiB")
    p = Page(c, n1)
    check(p.hello({"name": "Cy"})["t"] == "welcome", "welcome for the rate test")
    for i in range(40):
        try:
            p.send(t="typing", on=True)
        except OSError:
            break
    closed_with(p.ws, 1008, "over the message rate")
    held, refused = [], None
    for i in range(40):
        ws = wsclient.connect(f"wss://{n1.host}:{n1.api_port}/chat/ws", ca_file=c.ca_file)
        try:
            msg = ws.recv(timeout=0.3)
            if msg.kind == "close":
                refused = (i, msg.code)
                break
        except wsclient.Timeout:
            pass
        except wsclient.ConnectionClosed as e:
            refused = (i, e.code)
            break
        held.append(ws)
    check(refused is not None and refused[1] == 1013 and refused[0] <= 32,
          f"connections per address: {refused} after {len(held)}")
    for ws in held:
        ws.close()
    log(f"limits: 1009 for size, 1008 for rate, 1013 after {refused[0]} connections "
        "from one address")


def body(c):
    c.start()
    c.wait_ready()
    c.install_model(MODEL)
    c.agent_tokens = {a: c.make_token(f"desk-{a}", "agent", agent=a) for a in ("a01",)}
    config_and_forms(c)
    p = conversation(c)
    resume_and_takeover(c, p)
    failover(c, p)
    bye_and_wrapup(c, p)
    transfer(c)
    places_in_line(c)
    customer_gone(c)
    limits(c)


if __name__ == "__main__":
    run(Cluster(3, extra=["chat:", "  max_per_address: 32"]), body)
