"""Faults escalated along the model's paths (docs/continuity.md, "Escalation"), on three
real nodes with a webhook receiver and an SMTP relay run by the test.

- The model's continuity section makes a member that cannot be reached a major fault
  (the built-in policy says minor): the fault opened on a follower's SIGKILL is major, of the
  model's kind.
- The path "platform" pages a webhook at once and mails the head of operations when nobody
  has acknowledged the fault 8 s after it opened: the webhook gets one POST, the relay one message,
  each with its idempotency key; the vendor's path (cluster faults only) sends nothing.
- A fault acknowledged before its second level is due is not escalated further.
- Each notification's outcome is replicated: every node shows the same record.
- The leader killed just as a fault opens: the next leader carries the escalation on, each
  level opened once (the log says so on every node), the page delivered under one key, the
  second level's email sent once.
- A continuity section with a mistake is refused at file:line:column."""
import email
import json
import os
import time

from harness import MODEL, Cluster, Failure, log, run, wait
from sinks import Receiver, SmtpSink


def check(cond, what):
    if not cond:
        raise Failure(what)


def continuity(hook_port):
    return f"""
continuity:
  faults:
    - {{ signal: "member.*.reachable", when: bad, severity: major, kind: member_lost }}
  escalation:
    - name: platform
      severities: [major]
      levels:
        - after: 0s
          notify: [ {{ webhook: "http://127.0.0.1:{hook_port}/page" }} ]
        - after: 8s
          notify: [ {{ email: "head-of-ops@centre.test" }} ]
    - name: vendor
      components: ["cluster"]
      levels:
        - after: 0s
          notify: [ {{ email: "support@vendor.test" }} ]
"""


def fault(node, fid):
    code, doc = node.request("GET", f"/v1/faults/{fid}")
    check(code == 200, f"{node.name}: fault {fid}: {code} {doc}")
    return doc


def opened_fault(nodes, name):
    def one():
        for n in nodes:
            code, doc = n.request("GET", "/v1/faults?state=open")
            items = [f for f in doc["items"] if f["component"] == f"node:{name}"]
            if code != 200 or len(items) != 1:
                return None
        return items[0]
    return wait(one, 30, f"an open fault for {name}")


def unacknowledged(c, hook, sink):
    leader = c.wait_leader()
    follower = [n for n in c.nodes if n is not leader][0]
    follower.kill()
    f = opened_fault([n for n in c.nodes if n is not follower], follower.name)
    check(f["severity"] == "major" and f["kind"] == "member_lost", f"the model's rule: {f}")
    key = f"fault.{f['id']}.platform.1.1"
    got = wait(lambda: hook.taken(), 15, "the page on the webhook")
    check(len(got) == 1 and got[0]["key"] == key and got[0]["path"] == "/page",
          f"the webhook got {got}")
    doc = json.loads(got[0]["body"])
    check(doc["fault"] == f["id"] and doc["severity"] == "major" and doc["level"] == 1, str(doc))
    wait(lambda: sink.ids(), 20, "the second level's email")
    mailed = time.time() * 1000
    check(mailed >= f["opened"] + 8000, f"mailed {mailed - f['opened']:.0f} ms after it opened")
    time.sleep(1.5)
    check(sink.ids() == [f"<fault.{f['id']}.platform.2.1@contactd>"],
          f"the relay got {sink.ids()}")
    rcpt, raw = sink.messages[0]
    msg = email.message_from_bytes(raw)
    check(rcpt == ["head-of-ops@centre.test"] and "MAJOR fault" in msg["Subject"],
          f"{rcpt} {msg['Subject']}")
    check(len(hook.taken()) == 1, f"the webhook was paged again: {hook.taken()}")
    live = [n for n in c.nodes if n is not follower]
    docs = [fault(n, f["id"]) for n in live]
    wait(lambda: all(len([x for x in fault(n, f["id"])["notifications"]
                          if x["state"] == "sent"]) == 2 for n in live), 10,
         "both notifications recorded as sent")
    docs = [fault(n, f["id"]) for n in live]
    check(docs[0] == docs[1], f"the nodes disagree: {docs}")
    check(sorted(x["what"] for x in docs[0]["log"]) ==
          ["escalated", "escalated", "notified", "notified", "opened"], str(docs[0]["log"]))
    code, text = c.wait_leader().request("GET", "/metrics")
    check(code == 200 and 'contactd_fault_notifications_total{outcome="sent"} 2' in text,
          "metrics: the leader's two notifications sent")
    log(f"fault {f['id']} major member_lost: paged at once, mailed "
        f"{(mailed - f['opened']) / 1000:.1f} s after it opened, unacknowledged; once each; "
        "the vendor was not told")
    follower.start()
    c.wait_ready()
    wait(lambda: fault(leader, f["id"])["state"] == "closed", 30, "the fault recovered")


def acknowledged(c, hook, sink):
    pages, mails = len(hook.taken()), len(sink.ids())
    leader = c.wait_leader()
    follower = [n for n in c.nodes if n is not leader][-1]
    follower.kill()
    f = opened_fault([n for n in c.nodes if n is not follower], follower.name)
    wait(lambda: len(hook.taken()) > pages, 15, "the page")
    code, doc = leader.request("POST", f"/v1/faults/{f['id']}/ack", {"note": "on it"})
    check(code == 200, f"ack: {code} {doc}")
    check(time.time() * 1000 < f["opened"] + 8000, "acknowledged too late for this test")
    time.sleep(max(0, (f["opened"] + 11000) / 1000 - time.time()))
    check(len(sink.ids()) == mails, f"mailed after the acknowledgement: {sink.ids()}")
    d = fault(leader, f["id"])
    check([x["level"] for x in d["notifications"]] == [1], f"{d['notifications']}")
    log(f"fault {f['id']} acknowledged after the page: not escalated to the second level")
    follower.start()
    c.wait_ready()


FAILOVER_MODEL = """version: 1
queues:
  billing:
    channels: [chat]
    thresholds:
      waiting: {{ warn: 1, alarm: 2 }}
continuity:
  escalation:
    - name: platform
      severities: [major]
      levels:
        - after: 0s
          notify: [ {{ webhook: "http://127.0.0.1:{port}/page" }} ]
        - after: 8s
          notify: [ {{ email: "head-of-ops@centre.test" }} ]
"""


def across_a_failover(c, hook, sink):
    leader = c.wait_leader()
    code, doc = leader.request("POST", "/v1/model", raw=FAILOVER_MODEL.format(port=hook.port))
    check(code == 200, f"model: {code} {doc}")
    pages, mails = len(hook.got), len(sink.ids())
    ids = []
    for i in range(2):
        code, doc = leader.request("POST", "/v1/contacts",
                                   {"key": f"fo-{i}", "channel": "chat", "queue": "billing"})
        check(code == 201, f"create: {code} {doc}")
        ids.append(doc["id"])

    def no_agents():
        code, doc = leader.request("GET", "/v1/faults?state=open")
        return next((f for f in doc["items"] if f["kind"] == "no_agents"), None)
    f = wait(no_agents, 20, "the queue's major fault")
    leader.kill()
    live = [n for n in c.nodes if n is not leader]
    c.wait_leader()
    key = f"fault.{f['id']}.platform.1.1"
    wait(lambda: any(g["key"] == key for g in hook.taken()), 20, "the page after the failover")
    wait(lambda: len(sink.ids()) > mails, 30, "the second level's email after the failover")
    time.sleep(2)
    posts = [g for g in hook.got[pages:]]
    check({g["key"] for g in posts} == {key}, f"pages: {[g['key'] for g in posts]}")
    check(sink.ids()[mails:] == [f"<fault.{f['id']}.platform.2.1@contactd>"],
          f"mails: {sink.ids()[mails:]}")
    docs = [fault(n, f["id"]) for n in live]
    for d in docs:
        opened = [x["text"] for x in d["log"] if x["what"] == "escalated"]
        check(opened == ["platform level 1: 1 to notify", "platform level 2: 1 to notify"],
              f"levels opened: {opened}")
        check([x["state"] for x in d["notifications"]] == ["sent", "sent"], str(d))
    check(docs[0] == docs[1], "the survivors disagree")
    log(f"leader {leader.name} killed as fault {f['id']} opened: each level opened once, "
        f"{len(posts)} POST(s) under one key, one email")
    leader.start()
    c.wait_ready()
    for cid in ids:
        c.wait_leader().request("POST", f"/v1/contacts/{cid}/abandon")


def refused(c, hook_port):
    bad = continuity(hook_port).replace("after: 8s", "after: 0s")
    with open(MODEL) as f:
        text = f.read() + bad
    code, doc = c.wait_leader().request("POST", "/v1/model", raw=text)
    check(code == 400 and "later than the one before" in doc["error"]["message"] and
          ":" in doc["error"]["message"], f"{code} {doc}")
    log(f"a bad continuity section refused: {doc['error']['message']}")


def body(c):
    c.start()
    c.wait_token()
    path = os.path.join(c.root, "model.yaml")
    with open(MODEL) as f, open(path, "w") as out:
        out.write(f.read() + continuity(c.hook.port))
    c.install_model(path)
    c.wait_ready()
    refused(c, c.hook.port)
    unacknowledged(c, c.hook, c.sink)
    acknowledged(c, c.hook, c.sink)
    across_a_failover(c, c.hook, c.sink)


if __name__ == "__main__":
    c = Cluster(3, write=False)
    c.sink = SmtpSink()
    c.hook = Receiver()
    c.extra = ["reports:", f"  smtp: smtp://127.0.0.1:{c.sink.port}",
               "  mail_from: contactd@centre.test"]
    c.write_configs()
    run(c, body)
