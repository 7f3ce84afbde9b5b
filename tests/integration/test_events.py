"""GET /v1/events across a failover: a client long-polls the leader while contacts arrive
and agents answer them; the leader is killed with SIGKILL and the client goes on from its
last event id on another node. Afterwards what the client collected is exactly what a
surviving node holds over the same span: the same ids, in the same order, with the same
content — nothing missing, nothing twice. A node restarted from a snapshot says 410 for
ids before it; bad queries get 400."""
import threading
import time

from harness import (Cluster, Failure, event_key as id_key, events_after as all_events,
                     log, produce_answered, run, wait)


def check(cond, what):
    if not cond:
        raise Failure(what)


class Consumer:
    def __init__(self, c, node):
        self.c = c
        self.node = node
        self.after = "now"
        self.events = []
        self.switches = 0
        self.stop = threading.Event()
        self.error = None

    def loop(self):
        while not self.stop.is_set():
            try:
                code, doc = self.node.request(
                    "GET", f"/v1/events?after={self.after}&wait_ms=500", timeout=5)
            except OSError:
                code, doc = None, None
            if code == 200:
                self.events.extend(doc["events"])
                self.after = doc["last_id"]
                continue
            if code not in (None, 503):
                self.error = f"{self.node.name} answered {code} {doc}"
                return
            others = [n for n in self.c.live() if n is not self.node]
            if others:
                self.node = others[0]
                self.switches += 1
            time.sleep(0.05)


def body(c):
    leader = c.start()
    c.wait_ready()
    c.install_model()
    for agent in ("a01", "a02", "a03"):
        leader.request("POST", f"/v1/agents/{agent}/login", {"presence": "available"})

    node = c.live()[0]
    for query in ("after=x", "after=1.-1", "wait_ms=70000", "limit=0", "kind=nope",
                  "contact=abc"):
        code, doc = node.request("GET", f"/v1/events?{query}")
        check(code == 400 and doc["error"]["code"] == "INVAL", f"{query}: {code} {doc}")

    consumer = Consumer(c, leader)
    stop = threading.Event()
    counts = {"created": 0}
    threads = [threading.Thread(target=consumer.loop, daemon=True),
               threading.Thread(target=produce_answered, args=(c, stop, counts, "ev"),
                                daemon=True)]
    for t in threads:
        t.start()
    wait(lambda: len(consumer.events) >= 20, 30, "events before the kill")
    first = consumer.events[0]["id"]
    leader.kill()
    log(f"killed the leader {leader.name} after {len(consumer.events)} events")
    c.wait_leader()
    wait(lambda: counts["created"] >= 60 and consumer.switches > 0, 60,
         "more contacts after the failover, and the client on another node")
    stop.set()
    threads[1].join(10)
    survivor = c.wait_leader()
    final = all_events(survivor, first)
    wait(lambda: consumer.events and consumer.events[-1]["id"] == final[-1]["id"], 30,
         "the client caught up with the survivor")
    consumer.stop.set()
    threads[0].join(10)
    check(consumer.error is None, f"client: {consumer.error}")

    # Timers (wrap-up ends) go on making events: compare up to the client's last one.
    last = id_key(consumer.events[-1]["id"])
    final = [e for e in all_events(survivor, first) if id_key(e["id"]) <= last]
    got = [e for e in consumer.events if id_key(e["id"]) > id_key(first)]
    ids = [id_key(e["id"]) for e in consumer.events]
    check(ids == sorted(set(ids)), "the client's event ids rise strictly: none twice")
    if got != final:
        a = {e["id"]: e for e in got}
        b = {e["id"]: e for e in final}
        only_a = [a[k] for k in a if k not in b][:5]
        only_b = [b[k] for k in b if k not in a][:5]
        changed = [(a[k], b[k]) for k in a if k in b and a[k] != b[k]][:5]
        raise Failure(f"the client's {len(got)} events after {first} differ from the "
                      f"survivor's {len(final)}: only the client's {only_a}; only the "
                      f"survivor's {only_b}; different {changed}")
    kinds = {e["kind"] for e in got}
    check({"queued", "offer", "connected", "agent_state"} <= kinds, f"kinds seen: {kinds}")
    log(f"client read {len(got)} events across the failover, identical to {survivor.name}'s")

    # The killed node comes back from its snapshot: what came before it is gone there.
    leader.start()
    c.wait_ready()
    c.wait_converged()  # it has caught up, by the snapshot the others took meanwhile
    code, doc = leader.request("GET", "/v1/events?after=1.0")
    check(code == 410 and doc["error"]["code"] == "GONE", f"after a restart: {code} {doc}")
    code, doc = leader.request("GET", "/v1/events?after=now&wait_ms=0")
    check(code == 200 and doc["events"] == [], f"after=now: {code} {doc}")
    log("a node restarted from a snapshot answers 410 for ids before it")
    poll_across_snapshot_install(c)


def poll_across_snapshot_install(c):
    """A long-poll already waiting on a node when that node installs a snapshot must learn
    that it missed events (410), not be answered from after the gap."""
    leader = c.leader()
    node = next(n for n in c.live() if n is not leader)
    code, doc = node.request("GET", "/v1/events?after=now&wait_ms=0")
    check(code == 200, f"after=now: {code} {doc}")
    after = doc["last_id"]
    answer = {}

    def poll():  # on a connection of its own: the main thread goes on using the shared ones
        client = node.new_client(90)
        try:
            answer["reply"] = client.request(
                "GET", f"/v1/events?after={after}&contact=999999999&wait_ms=60000")
        except OSError as e:
            answer["reply"] = (None, str(e))
        finally:
            client.close()

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)  # the poll is waiting on the node before it stops
    with c.paused_behind(node, 200, "gap", "email"):
        pass
    t.join(90)
    check(not t.is_alive(), "the waiting poll was never answered")
    code, doc = answer["reply"]
    check(code == 410 and doc["error"]["code"] == "GONE",
          f"a poll waiting across a snapshot install answered {code} {doc}")
    c.wait_converged()
    check(node.status()["snapshot_index"] > id_key(after)[0],
          "the node caught up by installing a snapshot")
    log("a poll waiting on a node that installs a snapshot is answered 410")


if __name__ == "__main__":
    run(Cluster(3, election_ms=500, snapshot_threshold=64, snapshot_trailing=16,
            snapshot_growth=False), body)
