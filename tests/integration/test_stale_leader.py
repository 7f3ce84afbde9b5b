"""A leader that stops answering without dying (SIGSTOP: its sockets stay open) must not
hold up the cluster's clients once another leader is elected: a write forwarded to it by a
follower is answered as soon as the follower knows the new leader, saying that leadership
changed (a retry with the same idempotency key then makes the contact exactly once). And
/readyz means caught up with the leader: a follower that was paused while the others went
on is never ready before it has applied what the leader had committed."""
import os
import signal
import threading
import time

from harness import Cluster, Failure, log, run


def check(cond, what):
    if not cond:
        raise Failure(what)


def forward_to_stopped_leader(c):
    leader = c.wait_leader()
    follower = next(n for n in c.nodes if n is not leader)
    answer = {}

    def write():
        client = follower.new_client(60)
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
        new = c.wait_own_leader([n for n in c.nodes if n is not leader])
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
    with c.paused_behind(follower, 300, "behind", "sms") as new:
        target = new.status()["commit_index"]
        # Readiness tolerates a lag of 1.5 s (cluster/ready.c): the node is paused for
        # longer than that, so that it is really behind by the rule it is judged by.
        time.sleep(2)
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
        time.sleep(0.02)  # a busy loop would take the core the follower catches up on
    code, _ = follower.request("GET", "/readyz")
    check(code == 200, f"/readyz after catching up: {code}")
    log(f"the paused follower was not ready while behind ({seen_behind} looks), then ready")


def body(c):
    c.start()
    c.install_model()
    forward_to_stopped_leader(c)
    ready_means_caught_up(c)


if __name__ == "__main__":
    run(Cluster(3, election_ms=500, snapshot_threshold=64, snapshot_trailing=16,
            snapshot_growth=False), body)
