"""Fast failover (cluster/README.md): when the leader's process dies, the followers find
its peer port (the peer channel's listener) refusing and stand for election at once, in
turn; with raft.fast_failover off they wait out the election timeout instead. A leader
stopped with SIGTERM hands leadership over first. What is checked is what the nodes did (their
counters and terms), not how long it took: the timing is bench/cluster's business."""
from harness import Cluster, Failure, log, run


def check(cond, what):
    if not cond:
        raise Failure(what)


def kill_leader(c):
    leader = c.wait_leader()
    c.wait_ready()
    before = {n.name: n.status() for n in c.live()}
    leader.kill()
    new = c.wait_leader()
    c.wait_ready()
    after = {n.name: n.status() for n in c.live()}
    lost = sum(after[k]["leaders_lost"] - before[k]["leaders_lost"] for k in after)
    early = sum(after[k]["early_elections"] - before[k]["early_elections"] for k in after)
    terms = {after[k]["term"] for k in after}
    check(len(terms) == 1, f"survivors disagree on the term: {terms}")
    return leader, new, lost, early, terms.pop() - before[new.name]["term"]


def fast(c):
    c.start()
    for round in range(2):
        old, new, lost, early, dterm = kill_leader(c)
        # Both survivors nearly always see it; one is enough for the early election, and
        # a survivor that misses it (a race with the dying process's sockets) simply waits
        # out its election timeout as before.
        check(1 <= lost <= 2 and early >= 1, f"round {round}: {lost} survivors found the "
              f"leader gone, {early} stood early (expected 1 or 2, and at least 1)")
        log(f"{old.name} killed: {lost} survivors found it gone, {early} stood early, "
            f"{new.name} leads, term +{dterm}")
        old.start()
        c.wait_ready()


def graceful(c):
    """SIGTERM on the leader: it hands leadership over before it stops."""
    leader = c.start()
    c.wait_ready()
    code = leader.stop()
    check(code == 0, f"{leader.name} exited {code} after SIGTERM")
    new = c.wait_leader()
    check("leadership handed over" in leader.log_tail(), f"{leader.name}: {leader.log_tail()}")
    c.wait_ready()
    log(f"SIGTERM: {leader.name} handed leadership to {new.name}, then stopped")


def slow(c):
    c.start()
    old, new, lost, early, dterm = kill_leader(c)
    check(lost == 0 and early == 0, f"fast failover off, yet {lost} found the leader gone "
          f"and {early} stood early")
    log(f"fast failover off: {old.name} killed, {new.name} leads after the election timeout")


if __name__ == "__main__":
    run(Cluster(3, election_ms=1000), fast)
    run(Cluster(3, election_ms=1000), graceful)
    off = Cluster(3, election_ms=500)
    for node in off.nodes:
        with open(node.config) as f:
            text = f.read()
        with open(node.config, "w") as f:
            f.write(text.replace("raft:\n", "raft:\n  fast_failover: false\n", 1))
    run(off, slow)
