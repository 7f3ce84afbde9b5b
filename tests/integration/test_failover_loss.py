"""The loss test. A bounded load of contact creates (each with an idempotency key, retried
on any failure until acknowledged) and agent actions runs against every node while the
leader is killed with SIGKILL again and again and restarted. Then a checker proves that
every acknowledged contact is present exactly once, live or in history; that no contact
was accepted by two agents; that no agent was ever seen over capacity; and that every node
holds the same state. Prints, as its last line:
RESULT kills=N acked=N lost=N duplicated=N double_offers=N over_capacity=N digests_equal=yes|no
"""
import os
import random
import sys
import threading
import time

import harness
from harness import Cluster, Failure, log, wait

KILLS = int(os.environ.get("FAILOVER_KILLS", "12"))
CREATORS = 6
AGENTS = [f"a{i:02d}" for i in range(1, 9)]


class Load:
    def __init__(self, c):
        self.c = c
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.attempted = set()
        self.acked = {}  # key -> id
        self.key_conflicts = 0  # a key acknowledged with two different ids
        self.unresolved = 0  # keys never acknowledged by the end
        self.accepted = {}  # contact id -> set of agents whose accept succeeded
        self.over_capacity = 0
        self.samples = 0
        self.errors = 0

    def node(self, rnd):
        live = self.c.live()
        return rnd.choice(live) if live else None

    def call(self, rnd, method, path, body=None):
        node = self.node(rnd)
        if node is None:
            raise OSError("no live node")
        return node.request(method, path, body, timeout=5)

    def creator(self, tid):
        rnd = random.Random(tid)
        seq = 0
        while not self.stop.is_set():
            key = f"k{tid}-{seq}"
            seq += 1
            body = {"key": key, "channel": rnd.choice(["chat", "chat", "voice"]),
                    "priority": rnd.randint(0, 3)}
            with self.lock:
                self.attempted.add(key)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    code, doc = self.call(rnd, "POST", "/v1/contacts", body)
                except OSError:
                    code, doc = None, None
                if code in (200, 201):
                    with self.lock:
                        old = self.acked.setdefault(key, doc["id"])
                        if old != doc["id"]:
                            self.key_conflicts += 1
                    break
                with self.lock:
                    self.errors += 1
                time.sleep(0.05)
            else:
                with self.lock:
                    self.unresolved += 1
            time.sleep(0.005)

    def worker(self, agents, seed):
        rnd = random.Random(seed)
        while not self.stop.is_set():
            try:
                self.work_once(rnd, agents)
            except OSError:
                time.sleep(0.05)

    def work_once(self, rnd, agents):
        code, doc = self.call(rnd, "GET", "/v1/contacts?stale=true&limit=100000")
        if code != 200:
            time.sleep(0.05)
            return
        mine = [c for c in doc["items"] if c["agent"] in agents]
        for c in mine:
            if c["state"] == "offered":
                code, _ = self.call(rnd, "POST", f"/v1/offers/{c['offer']}/accept",
                                    {"agent": c["agent"]})
                if code == 200:
                    with self.lock:
                        self.accepted.setdefault(c["id"], set()).add(c["agent"])
            elif c["state"] == "connected":
                self.call(rnd, "POST", f"/v1/contacts/{c['id']}/end")
            elif c["state"] == "wrapup":
                self.call(rnd, "POST", f"/v1/contacts/{c['id']}/wrapup-done")
        if not mine:
            time.sleep(0.02)

    def sampler(self):
        rnd = random.Random(99)
        while not self.stop.is_set():
            try:
                code, doc = self.call(rnd, "GET", "/v1/agents?stale=true")
            except OSError:
                time.sleep(0.05)
                continue
            if code == 200:
                for a in doc["items"]:
                    over = any(a["load"][ch] > a["capacity"][ch] for ch in a["load"])
                    with self.lock:
                        self.samples += 1
                        self.over_capacity += over
            time.sleep(0.05)


def kill_leaders(c, load):
    kills = 0
    for _ in range(KILLS):
        leader = c.wait_leader(timeout=30)
        time.sleep(1.0)  # let load run against this leader
        leader.kill()
        kills += 1
        t0 = time.monotonic()
        new = wait(lambda: (lambda l: l if l is not None and l is not leader else None)(c.leader()),
                   30, "a new leader")
        log(f"kill {kills}: {leader.name} SIGKILLed; {new.name} leads after "
            f"{(time.monotonic() - t0) * 1000:.0f} ms; acked so far {len(load.acked)}")
        leader.start()
    return kills


def live_contacts(leader):
    code, live = leader.request("GET", "/v1/contacts?limit=1000000", timeout=30)
    if code != 200:
        raise Failure(f"list contacts: {code} {live}")
    return {item["id"]: item["key"] for item in live["items"]}


def check(c, load):
    sts = c.wait_converged(timeout=60)
    digests_equal = len({s["state_digest"] for s in sts}) == 1
    leader = c.wait_leader()
    # Timers go on ending contacts after the load stops, so the live list is read before and
    # after the histories: a contact that ended in between is in the first list and in
    # history, but not in the second; one that is live and in history at once is a duplicate.
    live_ids = live_contacts(leader)
    history = set()
    for node in c.live():
        code, doc = node.request("GET", "/v1/history?limit=1000000", timeout=30)
        if code != 200:
            raise Failure(f"history on {node.name}: {code} {doc}")
        history.update(h["id"] for h in doc["items"])
    still_live = live_contacts(leader)
    dup = 0
    keys_live = [k for k in live_ids.values()]
    dup += len(keys_live) - len(set(keys_live))
    dup += len(history & set(live_ids) & set(still_live))
    total = len(history | set(live_ids))
    dup += max(0, total - len(load.attempted)) + load.key_conflicts
    lost = sum(1 for i in load.acked.values() if i not in live_ids and i not in history)
    double = sum(1 for agents in load.accepted.values() if len(agents) > 1)
    over = load.over_capacity
    for node in c.live():
        code, doc = node.request("GET", "/v1/cluster/check", timeout=30)
        if code != 200 or not doc["ok"]:
            log(f"{node.name} invariant check failed: {doc}")
            over += 1
    log(f"contacts: {len(live_ids)} live, {len(history)} in history, {len(load.attempted)} "
        f"keys sent, {load.unresolved} never acknowledged, {load.errors} retried requests, "
        f"{load.samples} agent samples, {len(load.accepted)} accepted offers")
    return lost, dup, double, over, digests_equal


def main():
    c = Cluster(3, election_ms=500, snapshot_threshold=256, snapshot_trailing=128,
            snapshot_growth=False)
    ok = False
    result = None
    try:
        c.start()
        c.install_model()
        c.wait_ready()
        leader = c.wait_leader()
        for a in AGENTS:
            code, doc = leader.request("POST", f"/v1/agents/{a}/login", {})
            if code != 200:
                raise Failure(f"login {a}: {code} {doc}")
        load = Load(c)
        threads = [threading.Thread(target=load.creator, args=(i,)) for i in range(CREATORS)]
        threads += [threading.Thread(target=load.worker, args=(AGENTS[0:4], 1)),
                    threading.Thread(target=load.worker, args=(AGENTS[4:8], 2)),
                    threading.Thread(target=load.sampler)]
        for t in threads:
            t.start()
        try:
            kills = kill_leaders(c, load)
            time.sleep(1.0)
        finally:
            load.stop.set()
            for t in threads:
                t.join()
        c.wait_ready(timeout=60)
        lost, dup, double, over, same = check(c, load)
        result = (f"RESULT kills={kills} acked={len(load.acked)} lost={lost} duplicated={dup} "
                  f"double_offers={double} over_capacity={over} "
                  f"digests_equal={'yes' if same else 'no'}")
        ok = (kills >= 10 and lost == 0 and dup == 0 and double == 0 and over == 0 and same
              and len(load.acked) > 0)
    finally:
        if not ok:
            c.dump_logs()
        c.close(ok)
        if result:
            print(result, flush=True)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    harness.main(main)
