"""Webhooks: a receiver run by this test subscribes to some event kinds and is given every
one of them, exactly once by id, across a SIGKILL of the leader that delivers them.

The receiver checks each POST's HMAC-SHA256 signature with the subscription's secret; it
answers 503 to its first two deliveries, so the delivery log shows two failed attempts
(retried after a backoff) before the first success. While contacts arrive and agents answer
them, the leader is killed; the new leader goes on from the replicated cursor. At the end the
events the receiver took, counted once per id, are exactly the survivor's events of those
kinds since the subscription; an event that came twice came again in a delivery under the
same delivery id (one whose acknowledgement the killed leader never committed). Bad
subscriptions are refused with 400 and change nothing."""
import hashlib
import hmac
import http.server
import json
import threading

from harness import (Cluster, Failure, event_key as id_key, events_after as all_events,
                     free_ports, log, produce_answered, run, wait)

SECRET = "s3cret-for-the-webhook-test"
KINDS = ["queued", "connected", "ended"]


def check(cond, what):
    if not cond:
        raise Failure(what)


class Receiver:
    def __init__(self):
        self.port = free_ports(1)[0]
        self.lock = threading.Lock()
        self.deliveries = []  # (delivery id, [event ids])
        self.events = {}      # event id -> event
        self.refuse = 2
        self.bad_signatures = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                with receiver.lock:
                    if self.headers.get("X-Contactd-Signature") != want:
                        receiver.bad_signatures += 1
                        self.reply(401, {})
                        return
                    if receiver.refuse > 0:
                        receiver.refuse -= 1
                        self.reply(503, {})
                        return
                    doc = json.loads(body)
                    check(doc["delivery"] == self.headers["X-Contactd-Delivery"], "delivery id")
                    ids = [e["id"] for e in doc["events"]]
                    receiver.deliveries.append((doc["delivery"], ids))
                    for e in doc["events"]:
                        receiver.events[e["id"]] = e
                    self.reply(200, {"id": f"rcv-{len(receiver.deliveries)}"})

            def reply(self, code, doc):
                data = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def body(c):
    leader = c.start()
    c.wait_ready()
    c.install_model()
    for agent in ("a01", "a02", "a03"):
        leader.request("POST", f"/v1/agents/{agent}/login", {"presence": "available"})
    follower = next(n for n in c.live() if n is not leader)
    receiver = Receiver()
    try:
        url = f"http://127.0.0.1:{receiver.port}/hook"
        for bad, why in (({"url": "https://x/y", "secret": SECRET, "kinds": KINDS}, "https"),
                         ({"url": "http://host.example/y", "secret": SECRET, "kinds": KINDS},
                          "a name"),
                         ({"url": url, "secret": "short", "kinds": KINDS}, "short secret"),
                         ({"url": url, "secret": SECRET, "kinds": ["nope"]}, "unknown kind"),
                         ({"url": url, "secret": SECRET, "kinds": []}, "no kinds"),
                         ({"url": url, "secret": SECRET, "kinds": KINDS, "x": 1}, "unknown")):
            code, doc = follower.request("POST", "/v1/webhooks", bad)
            check(code == 400 and doc["error"]["code"] == "INVAL", f"{why}: {code} {doc}")
        check(follower.request("GET", "/v1/webhooks")[1]["items"] == [], "nothing was added")
        code, doc = follower.request("GET", "/v1/events?after=now&wait_ms=0")
        start = doc["last_id"]
        code, doc = follower.request("POST", "/v1/webhooks",
                                     {"url": url, "secret": SECRET, "kinds": KINDS})
        check(code == 201, f"subscribe: {code} {doc}")
        hook = doc["id"]
        code, doc = follower.request("GET", f"/v1/webhooks/{hook}")
        check(code == 200 and "secret" not in doc and doc["kinds"] == KINDS,
              f"the subscription, without its secret: {doc}")

        stop = threading.Event()
        counts = {"created": 0}
        t = threading.Thread(target=produce_answered, args=(c, stop, counts, "wh"), daemon=True)
        t.start()
        wait(lambda: len(receiver.deliveries) >= 1, 60, "the first delivery")
        code, doc = follower.request("GET", f"/v1/webhooks/{hook}")
        tries = list(reversed(doc["deliveries"]))  # oldest first
        check(len(tries) >= 3 and [d["status"] for d in tries[:3]] == [503, 503, 200] and
              not tries[0]["ok"] and tries[2]["ok"] and tries[2]["text"] == "rcv-1",
              f"two refusals, then the first delivery: {tries[:3]}")
        check(tries[1]["at"] - tries[0]["at"] >= 900 and tries[2]["at"] - tries[1]["at"] >= 1900,
              f"retried after 1 s, then 2 s: {tries[:3]}")
        wait(lambda: len(receiver.deliveries) >= 3, 60, "deliveries before the kill")
        leader = c.leader()
        leader.kill()
        log(f"killed the leader {leader.name} after {len(receiver.deliveries)} deliveries")
        c.wait_leader()
        wait(lambda: counts["created"] >= 80, 60, "more contacts after the failover")
        stop.set()
        t.join(10)
        survivor = c.wait_leader()
        c.wait_converged()
        want = [e for e in all_events(survivor, start, ",".join(KINDS))]
        want_ids = [e["id"] for e in want]

        def caught_up():
            with receiver.lock:
                return set(want_ids) <= set(receiver.events)
        wait(caught_up, 60, "the receiver has every event of its kinds")
        with receiver.lock:
            got = dict(receiver.events)
            deliveries = list(receiver.deliveries)
            bad_sig = receiver.bad_signatures
        check(bad_sig == 0, f"{bad_sig} deliveries with a wrong signature")
        extra = sorted(set(got) - set(want_ids), key=id_key)
        check(not [i for i in extra if id_key(i) <= id_key(want_ids[-1])],
              f"events the survivor does not have: {extra[:5]}")
        for eid in want_ids:
            check(got[eid] == next(e for e in want if e["id"] == eid),
                  f"event {eid} as delivered differs from the survivor's")
        seen, twice = {}, 0
        for delivery, ids in deliveries:
            for eid in ids:
                if eid in seen:
                    twice += 1
                    check(seen[eid] == delivery,
                          f"event {eid} came twice under different delivery ids "
                          f"({seen[eid]}, {delivery})")
                seen[eid] = delivery
        order = [id_key(i) for d in deliveries for i in d[1]]
        code, doc = survivor.request("GET", f"/v1/webhooks/{hook}")
        log_ = doc["deliveries"]
        check(doc["delivered"] >= len(want_ids), f"delivered count: {doc}")
        code, first = survivor.request("GET", "/v1/webhooks")
        check(code == 200 and len(first["items"]) == 1, f"list: {first}")
        check(len(log_) >= 1 and log_[0]["ok"], f"a delivery log: {log_[:2]}")
        log(f"the receiver took {len(want_ids)} events in {len(deliveries)} deliveries across "
            f"a leader kill: every one, {twice} again under the same delivery id")
        check(order == sorted(order) or twice > 0, "events arrive in id order")
        code, doc = survivor.request("DELETE", f"/v1/webhooks/{hook}")
        check(code == 200, f"delete: {code} {doc}")
        code, doc = survivor.request("GET", f"/v1/webhooks/{hook}")
        check(code == 404, f"after delete: {code} {doc}")
    finally:
        receiver.close()


if __name__ == "__main__":
    run(Cluster(3, election_ms=500), body)
