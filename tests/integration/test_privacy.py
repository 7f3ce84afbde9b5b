"""Personal data on a running 3-node cluster (docs/security.md, "Personal data").

The model marks phone, email, name and note personal. Contacts carry a distinctive phone
number; one of them is abandoned, so it has a history row, which keeps its attributes. A
reporter reads history without the number; the admin reads it on the contacts and the
history row; a webhook receiver and the events feed never see it. The export finds the live
contacts and the history row holding it. One erase (POST /v1/privacy/erase, through a
follower) takes it out of every node's state and history at the same index: afterwards no
node shows it in /v1/contacts, /v1/history or /v1/events, the export finds nothing, and the
erase is audited under attr:phone without the value. The test's own reader looks for the
number's bytes in each node's LMDB file (data.mdb): contact records never held it; the
rewritten history row's old page may still hold it until LMDB reuses the page, which the
test reports (docs/security.md, "Erasure")."""
import http.server
import json
import os
import subprocess
import threading
import urllib.parse

from harness import Client, Cluster, Failure, free_ports, log, run, wait

PHONE = "+44-7700-900-4XQZ81"  # distinctive: no other byte string of the files is this
OTHER = "+44-7700-900-0000"
QUEUE = "support-chat"


def check(cond, what):
    if not cond:
        raise Failure(what)


class Receiver:
    """A webhook receiver that keeps every body it was sent."""

    def __init__(self):
        self.port = free_ports(1)[0]
        self.lock = threading.Lock()
        self.bodies = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.bodies.append(body)
                data = json.dumps({"id": f"r{len(receiver.bodies)}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def text(node, path, token=None):
    client = node.new_client(token=token)
    try:
        code, doc = client.request("GET", path)
    finally:
        client.close()
    return code, doc, json.dumps(doc)


def export(node):
    q = urllib.parse.urlencode({"attr": "phone", "value": PHONE})
    code, doc = node.request("GET", f"/v1/privacy/export?{q}")
    check(code == 200, f"export on {node.name}: {code} {doc}")
    return doc


def create(leader, phone, tier):
    code, doc = leader.request("POST", "/v1/contacts", {
        "channel": "chat", "queue": QUEUE,
        "attributes": {"phone": phone, "tier": tier}})
    check(code == 201, f"create: {code} {doc}")
    return doc["id"]


def lmdb_holds(node, needle):
    with open(os.path.join(node.data_dir, "state", "data.mdb"), "rb") as f:
        return needle.encode() in f.read()


def raft_holds(node, needle):
    found = []
    raft = os.path.join(node.data_dir, "raft")
    for name in sorted(os.listdir(raft)):
        path = os.path.join(raft, name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            if needle.encode() in f.read():
                found.append(name)
    return found


def body(c):
    leader = c.start()
    c.wait_ready()
    c.install_model()
    leader = c.wait_leader()
    follower = next(n for n in c.live() if n is not leader)
    code, doc = leader.request("GET", "/v1/model")
    check(code == 200 and doc["personal"] == ["phone", "email", "name", "note"],
          f"GET /v1/model shows the personal keys: {doc.get('personal')}")
    reporter = c.make_token("t-reporter", "reporter")
    integration = c.make_token("t-integration", "integration")
    receiver = Receiver()
    try:
        url = f"http://127.0.0.1:{receiver.port}/hook"
        code, doc = leader.request("POST", "/v1/webhooks", {
            "url": url, "secret": "s" * 32, "kinds": ["queued", "ended", "audit"]})
        check(code == 201, f"subscribe: {code} {doc}")
        live = [create(leader, PHONE, "gold"), create(leader, PHONE, "silver")]
        gone = create(leader, PHONE, "gold")
        other = create(leader, OTHER, "gold")
        code, doc = leader.request("POST", f"/v1/contacts/{gone}/abandon", {})
        check(code == 200, f"abandon: {code} {doc}")
        c.wait_converged()

        code, doc, raw = text(follower, f"/v1/contacts/{live[0]}")
        check(code == 200 and doc["attributes"]["phone"] == PHONE, f"admin sees it: {doc}")
        code, doc, raw = text(follower, "/v1/history", token=reporter)
        check(code == 200 and any(r["id"] == gone for r in doc["items"]),
              f"the reporter reads history: {code} {raw[:300]}")
        check(PHONE not in raw, "a reporter reads no phone number in history")
        for tok, who in ((reporter, "reporter"), (integration, "integration")):
            code, doc, raw = text(follower, f"/v1/contacts/{live[0]}", token=tok)
            check(code == 403, f"{who} reads no contact: {code}")
        code, doc, raw = text(follower, f"/v1/history/{gone}")
        check(code == 200 and doc["attributes"]["phone"] == PHONE,
              f"the admin reads the number in the history row: {code} {doc}")
        code, doc, raw = text(follower, f"/v1/history/{gone}", token=reporter)
        check(code == 200 and doc["attributes"]["phone"] == "***" and PHONE not in raw,
              f"the reporter reads the history row masked: {code} {raw[:300]}")
        doc = export(follower)
        check(sorted(x["id"] for x in doc["contacts"]) == sorted(live) and
              all(x["attributes"]["phone"] == PHONE for x in doc["contacts"]) and
              [x["id"] for x in doc["history"]] == [gone], f"the export before: {doc}")
        log(f"export before the erase: {len(doc['contacts'])} contacts")
        out = subprocess.run([os.environ["CONTACTCTL"], "--endpoints", follower.api_addr,
                              "privacy", "export", "--attr", f"phone={PHONE}"],
                             capture_output=True, text=True, timeout=60, env=c.ctl_env())
        check(out.returncode == 0 and
              sorted(x["id"] for x in json.loads(out.stdout)["contacts"]) == sorted(live),
              f"contactctl privacy export: {out.returncode} {out.stdout} {out.stderr}")

        code, doc = follower.request("POST", "/v1/privacy/erase",
                                     {"attr": "phone", "value": PHONE})
        check(code == 200 and doc == {"contacts": 2}, f"erase: {code} {doc}")
        code, doc = follower.request("POST", "/v1/privacy/erase", {"attr": "phone"})
        check(code == 400, f"erase without a value: {code} {doc}")
        cl = follower.new_client(token=reporter)
        code, doc = cl.request("POST", "/v1/privacy/erase", {"attr": "phone", "value": PHONE})
        cl.close()
        check(code == 403, f"a reporter may not erase: {code}")
        c.wait_converged()

        for node in c.live():
            code, doc, raw = text(node, "/v1/contacts")
            check(code == 200 and PHONE not in raw and OTHER in raw,
                  f"{node.name}: /v1/contacts without the number, the other kept")
            for cid in live:
                code, doc, raw = text(node, f"/v1/contacts/{cid}")
                check("phone" not in doc["attributes"] and doc["attributes"]["tier"],
                      f"{node.name}: contact {cid} lost phone only: {doc['attributes']}")
            code, doc, raw = text(node, "/v1/history")
            check(code == 200 and PHONE not in raw, f"{node.name}: history")
            code, doc, raw = text(node, "/v1/events?after=0.0&limit=10000&wait_ms=0")
            check(code == 200 and PHONE not in raw, f"{node.name}: events")
            audits = [e for e in doc["events"] if e.get("kind") == "audit" and
                      e.get("action") == "privacy_erase"]
            check(len(audits) == 1 and audits[0].get("object") == "attr:phone",
                  f"{node.name}: the erase is audited under attr:phone: {audits}")
            doc = export(node)
            check(doc["contacts"] == [] and doc["history"] == [],
                  f"{node.name}: the export after is empty: {doc}")
            code, doc, raw = text(node, f"/v1/history/{gone}")
            check(code == 200 and "phone" not in doc["attributes"] and
                  doc["attributes"]["tier"] == "gold", f"{node.name}: the row lost phone only")
        code, doc = follower.request("GET", "/v1/audit?action=privacy_export")
        check(code == 200 and len(doc["items"]) >= 2 and
              all(i["object"] == "attr:phone" and i["actor"].startswith("token:") and
                  PHONE not in str(i) for i in doc["items"]),
              f"the exports are audited, without the value: {code} {doc}")

        wait(lambda: any(b"privacy_erase" in b for b in receiver.bodies), 30,
             "the webhook delivers the erase's audit event")
        with receiver.lock:
            check(receiver.bodies and not any(PHONE.encode() in b for b in receiver.bodies),
                  "no webhook delivery carries the number")
    finally:
        receiver.close()

    c.stop_all()
    for node in c.nodes:
        check(lmdb_holds(node, QUEUE), f"{node.name}: the reader finds a queue name in data.mdb")
        lingers = "a freed page still holds" if lmdb_holds(node, PHONE) else "no copy of"
        log(f"{node.name}: data.mdb: {lingers} the number; the Raft files holding it: "
            f"{raft_holds(node, PHONE) or 'none'}")


if __name__ == "__main__":
    run(Cluster(3), body)
