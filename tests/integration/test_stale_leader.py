"""A leader that stops answering without dying (SIGSTOP: its sockets stay open) must not
hold up the cluster's clients once another leader is elected: a write forwarded to it by a
follower is answered as soon as the follower knows the new leader, saying that leadership
changed (a retry with the same idempotency key then makes the contact exactly once). And
/readyz means caught up with the leader: a follower that was paused while the others went
on is never ready before it has applied what the leader had committed."""
import os
import signal
import threading

from harness import Client, Cluster, Failure, log, run, wait


def check(cond, what):
    if not cond:
        raise Failure(what)


def leader_of(node):
    try:
        return node.status()["leader"]
    except (OSError, Failure):
        return None


def forward_to_stopped_leader(c):
    leader = c.wait_leader()
    follower = next(n for n in c.nodes if n is not leader)
    answer = {}

    def write():
        client = Client(follower.api_port, timeout=60)
        try:
            answer["reply"] = client.request("POST", "/v1/contacts",
                                             {"key": "stale-1", "channel": "email"})
        except OSError as e:
            answer["reply"] = (None, str(e))
        finally:
            client.close()

    os.kill(leader.proc.pid, signal.SIGSTOP)
    try:
        t = threading.Thread(target=write)
        t.start()
        t.join(60)  # the old leader stays stopped all along
        check(not t.is_alive(), "the forwarded write was never answered")
        code, doc = answer["reply"]
        check(code == 503 and "leader changed" in doc["error"]["message"],
              f"a write forwarded to a stopped leader answered {code} {doc}")
        others = [n for n in c.nodes if n is not leader]
        new = wait(lambda: next((n for n in others if leader_of(n) == n.name), None), 30,
                   "a new leader")
        check(new is not leader, "the new leader is another node")
        code, doc = follower.request("POST", "/v1/contacts",
                                     {"key": "stale-1", "channel": "email"})
        check(code in (200, 201), f"the retry answered {code} {doc}")
        first = doc["id"]
        code, doc = follower.request("POST", "/v1/contacts",
                                     {"key": "stale-1", "channel": "email"})
        check(code in (200, 201) and doc["id"] == first, f"a second retry: {code} {doc}")
    finally:
        os.kill(leader.proc.pid, signal.SIGCONT)
    c.wait_converged()
    log("a write forwarded to a stopped leader was answered once the new leader was known")


def ready_means_caught_up(c):
    leader = c.wait_leader()
    follower = next(n for n in c.nodes if n is not leader)
    os.kill(follower.proc.pid, signal.SIGSTOP)
    try:
        # A new leader probes the paused node instead of streaming the log into its socket,
        # so the node is really behind when it wakes.
        leader.kill()
        leader.start()
        others = [n for n in c.nodes if n is not follower]
        new = wait(lambda: next((n for n in others if leader_of(n) == n.name), None), 30,
                   "a new leader among the two running nodes")
        for i in range(300):
            code, doc = new.request("POST", "/v1/contacts",
                                    {"key": f"behind{i}", "channel": "sms"}, timeout=5)
            check(code in (200, 201), f"create while the follower is paused: {code} {doc}")
        target = new.status()["commit_index"]
    finally:
        os.kill(follower.proc.pid, signal.SIGCONT)
    seen_behind = 0
    while True:
        st = follower.status()
        if st["ready"]:
            check(st["applied_index"] >= target,
                  f"{follower.name} said ready at applied index {st['applied_index']} while "
                  f"the leader had committed {target}")
            break
        if st["applied_index"] < target:
            seen_behind += 1
    code, _ = follower.request("GET", "/readyz")
    check(code == 200, f"/readyz after catching up: {code}")
    log(f"the paused follower was not ready while behind ({seen_behind} looks), then ready")


def body(c):
    c.start()
    c.install_model()
    forward_to_stopped_leader(c)
    ready_means_caught_up(c)


if __name__ == "__main__":
    run(Cluster(3, election_ms=500, snapshot_threshold=64, snapshot_trailing=16), body)
