"""Scheduled report delivery across a leader's death: a report definition scheduled every
minute, with an SMTP sink (a relay run by the test), a webhook receiver and a directory (the
cluster's shared reports directory) as its audience, is delivered once per slot, as of the slot, with the delivery's idempotency
key; the leader is SIGKILLed between two slots and the next leader delivers the next slot,
neither skipping nor repeating one; each delivery's outcome is replicated and visible on
every node; a receiver that fails is tried again."""
import email
import json
import os
import time

from harness import Cluster, Failure, log, run, wait
from sinks import Receiver, SmtpSink

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "data", "reports-model.yaml")


def check(cond, what):
    if not cond:
        raise Failure(what)


def rounds(node, name):
    code, doc = node.request("GET", f"/v1/report-definitions/{name}/deliveries")
    check(code == 200, f"{node.name}: deliveries {code} {doc}")
    check([r["slot"] for r in doc["items"]] == sorted((r["slot"] for r in doc["items"]),
                                                      reverse=True), f"not newest first: {doc}")
    return doc["items"][::-1]  # oldest first


def body(c):
    c.start()
    c.wait_leader()
    c.install_model(MODEL)
    hook = Receiver(fail=1)
    sink = c.sink
    share = os.path.join(c.root, "reports")
    os.makedirs(share, exist_ok=True)
    definition = {"title": "Every minute", "figures": ["offered", "answered", "service_level"],
                  "group": "queue", "interval": "total", "format": "json",
                  "schedule": "every 1m",
                  "audience": [{"webhook": f"http://127.0.0.1:{hook.port}/reports"},
                               {"directory": "board"}, {"email": "director@example.com"}]}
    code, doc = c.wait_leader().request("PUT", "/v1/report-definitions/minutely", definition)
    check(code == 200 and doc["version"] == 1, f"define: {code} {doc}")
    made = int(time.time() * 1000)
    log("a report scheduled every minute, to a webhook (failing once) and a directory")

    # The first slot: the first whole minute after the definition was made.
    first = wait(lambda: [r for r in rounds(c.wait_leader(), "minutely")], 75, "the first slot")
    slot1 = first[0]["slot"]
    check(slot1 >= made and slot1 % 60000 == 0, f"first slot {slot1} (made {made})")
    wait(lambda: all(t["state"] == "done" for t in rounds(c.wait_leader(), "minutely")[0]
                     ["deliveries"]), 90, "the first slot delivered (after a retry)")
    r1 = rounds(c.wait_leader(), "minutely")[0]
    check(r1["deliveries"][0]["attempts"] == 1 and r1["deliveries"][0]["receipt"] == "HTTP 200",
          f"the webhook failed once, then took it: {r1}")
    log(f"slot {slot1} delivered; the webhook was tried again after its 503")

    # The leader dies between two slots; the next one delivers the next slot.
    old = c.wait_leader()
    old.kill()
    log(f"{old.name} (the leader) killed")
    new = c.wait_leader()
    wait(lambda: len(rounds(new, "minutely")) >= 2 and
         all(t["state"] == "done" for t in rounds(new, "minutely")[1]["deliveries"]),
         90, "the next slot delivered by the new leader")
    old.start()
    c.wait_ready()
    c.wait_converged()
    seen = [rounds(n, "minutely") for n in c.nodes]
    check(all(s == seen[0] for s in seen), "the nodes' delivery records differ")
    slots = [r["slot"] for r in seen[0]]
    check(slots[1] == slots[0] + 60000, f"a slot skipped or doubled: {slots}")

    keys = [g["key"] for g in hook.taken()]
    for s in slots[:2]:
        want = f"minutely.{s}.0"
        check(keys.count(want) == 1, f"slot {s} taken {keys.count(want)} times: {keys}")
    for g in hook.taken():
        doc = json.loads(g["body"])
        check(doc["report"]["to"] == int(g["slot"]) and
              doc["report"]["from"] == int(g["slot"]) - 60000 and g["type"] == "application/json",
              f"a delivery as of its slot: {doc['report']} {g['slot']}")
    ids = sink.ids()
    for s in slots[:2]:
        want = f"<minutely.{s}.2@contactd>"
        check(ids.count(want) == 1, f"slot {s} mailed {ids.count(want)} times: {ids}")
    with sink.lock:
        rcpt, raw = sink.messages[0]
    msg = email.message_from_bytes(raw)
    attached = [p for p in msg.walk() if p.get_filename()]
    check(rcpt == ["director@example.com"] and msg["Subject"].startswith("Every minute") and
          len(attached) == 1 and attached[0].get_filename().endswith(".json") and
          json.loads(attached[0].get_payload(decode=True))["report"]["group"] == "queue",
          f"the email: {rcpt} {msg['Subject']} {[p.get_filename() for p in attached]}")
    r = rounds(c.wait_leader(), "minutely")[0]["deliveries"][2]
    check(r["receipt"].startswith("250 2.0.0 Ok"), f"the relay's receipt: {r}")
    files = sorted(os.listdir(os.path.join(share, "board")))
    check(len([f for f in files if f.endswith(".json")]) >= 2 and
          not any(f.endswith(".new") for f in files), f"the directory: {files}")
    log(f"slots {slots[:2]} each delivered once: mailed, to the webhook and to {len(files)} "
        "files")


if __name__ == "__main__":
    c = Cluster(3, write=False)
    c.sink = SmtpSink()
    # a directory every member writes to, as a shared mount would be; the test's relay
    c.extra = ["reports:", f"  directory: {os.path.join(c.root, 'reports')}",
               f"  smtp: smtp://127.0.0.1:{c.sink.port}", "  mail_from: reports@centre.test"]
    c.write_configs()
    run(c, body)
