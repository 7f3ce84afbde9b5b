"""The effect bus across a restart of the node a client reads from: a client follows
GET /v1/events on one follower while contacts arrive through the others; the follower is
stopped (SIGTERM), started again, later killed (SIGKILL) and started again, and the client
goes on polling the same node from its last event id. The node gives it back what followed
from its outbox: the client's events are exactly the leader's over the same span, nothing
twice and nothing missing, with no 410. Events about contacts carry their session; the
model install's event carries its actor, and the node's log names the actor too."""
import threading
import time

from harness import (Cluster, Failure, event_key as id_key, events_after as all_events, log,
                     run, wait)


def check(cond, what):
    if not cond:
        raise Failure(what)


def follow(node, state, stop):
    """Polls one node only, from the last id it gave; waits while the node is down."""
    while not stop.is_set():
        try:
            code, doc = node.request("GET", f"/v1/events?after={state['after']}&wait_ms=300",
                                     timeout=5)
        except OSError:
            code, doc = None, None
        if code == 200:
            state["events"].extend(doc["events"])
            state["after"] = doc["last_id"]
        elif code not in (None, 503):
            state["error"] = f"{node.name} answered {code} {doc}"
            return
        else:
            time.sleep(0.05)


def produce(nodes, stop, counts):
    i = 0
    while not stop.is_set():
        node = nodes[i % len(nodes)]
        try:
            code, _ = node.request("POST", "/v1/contacts",
                                   {"key": f"bus{i}", "channel": "chat",
                                    "session": {"home": node.name, "key": f"tok-{i}"}},
                                   timeout=5)
            if code in (200, 201):
                counts["created"] += 1
                i += 1
        except OSError:
            time.sleep(0.05)
        time.sleep(0.01)


def restart(c, node, how, counts):
    before = counts["created"]
    if how == "stop":
        check(node.stop() == 0, f"{node.name} did not stop cleanly")
    else:
        node.kill()
    wait(lambda: counts["created"] >= before + 20, 30, f"contacts while {node.name} is down")
    node.start()
    c.wait_ready()
    wait(lambda: counts["created"] >= before + 40, 30, f"contacts after {node.name} is back")
    log(f"{node.name} restarted ({how}) while the client followed it")


def body(c):
    leader = c.start()
    c.wait_ready()
    c.install_model()
    node = next(n for n in c.live() if n is not leader)
    others = [n for n in c.live() if n is not node]
    code, doc = node.request("GET", "/v1/events?after=0.0&kind=model&wait_ms=5000")
    check(code == 200 and doc["events"] and doc["events"][-1]["actor"] != "",
          f"the model event names its actor: {code} {doc}")
    actor = doc["events"][-1]["actor"]
    check("event=model version=1" in leader.log_tail(200) and f"actor={actor}" in
          leader.log_tail(200), "the node's log names the model's actor")

    state = {"after": "now", "events": [], "error": None}
    stop_follow, stop_produce = threading.Event(), threading.Event()
    counts = {"created": 0}
    threads = [threading.Thread(target=follow, args=(node, state, stop_follow), daemon=True),
               threading.Thread(target=produce, args=(others, stop_produce, counts),
                                daemon=True)]
    for t in threads:
        t.start()
    wait(lambda: len(state["events"]) >= 20, 30, "events before the restarts")
    first = state["events"][0]["id"]
    restart(c, node, "stop", counts)
    restart(c, node, "kill", counts)
    stop_produce.set()
    threads[1].join(10)
    c.wait_converged()
    final = all_events(leader, first)
    wait(lambda: state["events"] and state["events"][-1]["id"] == final[-1]["id"], 30,
         "the client caught up on the restarted node")
    stop_follow.set()
    threads[0].join(10)
    check(state["error"] is None, f"client: {state['error']}")

    got = [e for e in state["events"] if id_key(e["id"]) > id_key(first)]
    ids = [id_key(e["id"]) for e in state["events"]]
    check(ids == sorted(set(ids)), "the client's event ids rise strictly: none twice")
    if got != final:
        a = {e["id"]: e for e in got}
        b = {e["id"]: e for e in final}
        raise Failure(f"the client's {len(got)} events after {first} differ from the "
                      f"leader's {len(final)}: only the client's "
                      f"{[k for k in a if k not in b][:5]}; only the leader's "
                      f"{[k for k in b if k not in a][:5]}")
    queued = [e for e in got if e["kind"] == "queued"]
    check(queued and all(e["session"]["home"] in (o.name for o in others) and
                         e["session"]["key"].startswith("tok-") for e in queued),
          f"queued events carry the contact's session: {queued[:3]}")
    log(f"the client read {len(got)} events across a stop and a kill of {node.name}: "
        f"identical to the leader's, none twice, none missing")


if __name__ == "__main__":
    run(Cluster(3, election_ms=500), body)
