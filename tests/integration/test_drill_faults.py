"""The drills that last (docs/continuity.md, "Drills"), each on three real nodes under the
probe's traffic, with the report's numbers checked against what the test saw itself.

- `drill isolate --node LEADER --seconds 8`: the leader is cut off from the others. The test
  sees the other two elect a new leader, writes through the isolated node fail meanwhile
  and succeed again after, and the old leader catch up (every node agrees at the end). The
  report: no contact lost (the test counts the probe's contacts in the history itself), the
  unavailability no longer than the test saw between the isolation and a new leader, and
  member_down for the isolated node.
- `drill slow-disk --node LEADER --seconds 6 --delay-ms 600`: the node's own measure of its
  log writes (node.ID.disk_latency, which the test reads from the node) shows the delay, the
  report has the disk_slow fault, and the report's write latency during the fault agrees with
  the test's own writes made meanwhile (a slow member of three may or may not slow commits:
  both see the same).
- `drill disk-full --node n3 --seconds 5`: n3's data directory is a tmpfs of its own (a
  private mount namespace), so the reserve fills only n3's disk. The test sees the reserve
  file take the space and go, n3's disk_free signal read full, n3 keep running; the report
  has disk_low (major) for n3 and no write failed.
- Each is audited; bad parameters are refused.
- The slow disk on the leader also slows its commits: commit_slow (minor) opens for it.
- Leadership moved again and again (`POST /v1/cluster/leader/transfer`): cluster.elections
  turns warn at 3 changes in 10 minutes, opening a minor leader_unstable fault, and bad at
  6, when the same fault becomes major (its log says so)."""
import json
import os
import statistics
import subprocess
import threading
import time

from harness import Cluster, Failure, log, run, wait
from test_disk_full import nsenter, private_tmpfs
from test_drill import audited, check, history_keys

CTL = os.environ.get("CONTACTCTL", "contactctl")


def drill(c, endpoints, *args):
    out = subprocess.run([CTL, "--endpoints", ",".join(n.api_addr for n in endpoints),
                          "--output", "json", "drill", *args, "--queue", "support-chat",
                          "--channel", "chat"],
                         env=c.ctl_env(), capture_output=True, text=True, timeout=120)
    check(out.returncode in (0, 1), f"drill {args}: exit {out.returncode}: {out.stderr}")
    r = json.loads(out.stdout)
    check((out.returncode == 0) == r["pass"], f"exit {out.returncode} but pass {r['pass']}")
    return r


def local_signal(node, name):
    code, doc = node.new_client(timeout=2).request("GET", "/v1/health")
    check(code == 200, f"health on {node.name}: {code} {doc}")
    return {s["name"]: s for s in doc["local"]}.get(name)


def faults_of(r):
    return {(f["kind"], f["component"], f["severity"]) for f in r["faults"]}


def common_checks(c, r, target, action):
    p = r["probe"]
    check(p["lost"] == 0 and p["accepted"] >= 10, f"probe: {p}")
    keys = history_keys(c.wait_leader(), f"drill-{r['started']}-")
    check(len(keys) == p["accepted"], f"history holds {len(keys)} probe contacts, the report "
          f"says {p['accepted']} accepted")
    check(audited(c.wait_leader(), action)[0]["object"] == target.name, f"audit {action}")
    check(any(e["what"] == "the fault ends (as asked)" for e in r["timeline"]),
          f"timeline: {r['timeline']}")


def isolate(c):
    old = c.wait_leader()
    c.wait_ready()
    others = [n for n in c.nodes if n is not old]
    seen = {"through_old": []}

    def watch():
        end = time.time() + 15
        while time.time() < end:
            at = time.time() * 1000
            for n in others:
                try:
                    st = n.new_client(timeout=0.3).request("GET", "/v1/cluster")[1]
                    if st["leader"] not in ("", old.name) and "leader" not in seen:
                        seen["leader"] = at
                except (OSError, ValueError, TypeError):
                    pass
            try:
                code = old.new_client(timeout=0.5).request(
                    "POST", "/v1/contacts",
                    {"key": f"via-old-{at:.0f}", "channel": "chat", "queue": "support-chat"})[0]
            except OSError:
                code = 0
            seen["through_old"].append((at, code in (200, 201)))
            time.sleep(0.1)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    r = drill(c, others + [old], "isolate", "--node", old.name, "--seconds", "8", "--watch",
              "11", "--max-unavailable-ms", "5000")
    t.join(30)
    check(r["target"] == old.name and r["target_role"] == "leader", f"target {r['target']}")
    check(old.alive(), f"{old.name} exited during its isolation")
    common_checks(c, r, old, "drill_isolate")
    sent = r["timeline"][1]["at"]
    check("leader" in seen, "the others never elected a new leader")
    window = seen["leader"] - sent
    p = r["probe"]
    check(p["unavailable_ms"] <= window + 1500,
          f"the report says writes stopped {p['unavailable_ms']} ms; the test saw a new "
          f"leader {window:.0f} ms after the drill was sent")
    through = seen["through_old"]
    during = [ok for at, ok in through if sent + 2500 < at < sent + 7000]
    after = [ok for at, ok in through if at > sent + 10000]
    check(during and not any(during), f"writes through the isolated node succeeded: {during}")
    check(after and any(after), f"writes through {old.name} never came back: {after}")
    check(("member_down", f"node:{old.name}", "minor") in faults_of(r), f"faults: {r['faults']}")
    c.wait_converged()
    log(f"isolate: {old.name} cut off 8 s; a new leader {window:.0f} ms after; "
        f"{p['accepted']} accepted, 0 lost, writes unavailable {p['unavailable_ms']} ms; "
        f"{old.name} caught up")


def slow_disk(c):
    target = c.wait_leader()
    c.wait_ready()
    name = f"node.{target.name}.disk_latency"
    before = local_signal(target, name)
    check(before is not None and before["value"] < 500, f"{name} before: {before}")
    mine, worst = [], {"value": 0}

    def writes():
        time.sleep(2.5)  # the probe's baseline, and the fault begins
        end = time.time() + 5
        i = 0
        while time.time() < end:
            at = time.time()
            code = c.nodes[i % 3].new_client(timeout=5).request(
                "POST", "/v1/contacts", {"key": f"slow-{at}", "channel": "chat",
                                         "queue": "support-chat"})[0]
            if code in (200, 201):
                mine.append((time.time() - at) * 1000)
            i += 1
            s = local_signal(target, name)
            worst["value"] = max(worst["value"], s["value"] if s else 0)
            time.sleep(0.2)
    t = threading.Thread(target=writes, daemon=True)
    t.start()
    r = drill(c, c.nodes, "slow-disk", "--node", target.name, "--seconds", "6", "--delay-ms",
              "600", "--watch", "9")
    t.join(30)
    check(r["pass"], f"slow disk: {r}")
    common_checks(c, r, target, "drill_slow_disk")
    check(worst["value"] >= 600, f"{name} never showed the 600 ms: {worst['value']}")
    check(("disk_slow", f"node:{target.name}", "minor") in faults_of(r),
          f"faults: {r['faults']}")
    check(("commit_slow", f"node:{target.name}", "minor") in faults_of(r),
          f"a leader's slow log slows its commits: faults {r['faults']}")
    during = r["probe"]["latency_ms"]["during"]
    check(during["writes"] >= 5 and mine, f"writes during the fault: {during}, mine {mine}")
    median = statistics.median(mine)
    check((during["p50"] >= 500) == (median >= 500),
          f"the report's p50 during the fault is {during['p50']} ms, the test's own {median} ms")
    log(f"slow-disk: {name} reached {worst['value']} ms; writes during p50 {during['p50']} ms "
        f"(the test's own {median:.0f} ms), p99 {during['p99']} ms; disk_slow opened")


def disk_full(c, victim):
    c.wait_ready()
    reserve = victim.fs_root + os.path.join(victim.data_dir, "drill-reserve")
    name = f"node.{victim.name}.disk_free"
    seen = {"size": 0, "free": 100}

    def watch():
        end = time.time() + 7
        while time.time() < end:
            try:
                seen["size"] = max(seen["size"], os.path.getsize(reserve))
            except OSError:
                pass
            s = local_signal(victim, name)
            if s is not None:
                seen["free"] = min(seen["free"], s["value"])
            time.sleep(0.2)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    r = drill(c, c.nodes, "disk-full", "--node", victim.name, "--seconds", "5", "--watch", "7")
    t.join(30)
    check(r["pass"] and r["probe"]["unavailable_ms"] == 0, f"disk full: {r['probe']}")
    common_checks(c, r, victim, "drill_disk_full")
    check(victim.alive(), f"{victim.name} stopped during the drill")
    check(seen["size"] > 64 << 20, f"the reserve was {seen['size']} bytes of a 128 MiB disk")
    check(seen["free"] <= 5, f"{name} read {seen['free']} % at least")
    check(not os.path.exists(reserve), "the reserve is still there after the drill")
    after = wait(lambda: (lambda s: s if s and s["value"] > 50 else None)(
        local_signal(victim, name)), 10, f"{name} back")
    check(("disk_low", f"node:{victim.name}", "major") in faults_of(r), f"faults: {r['faults']}")
    log(f"disk-full: a reserve of {seen['size'] >> 20} MiB; {name} read {seen['free']} %, "
        f"then {after['value']} %; disk_low (major) opened; no write failed")


def leader_unstable(c):
    """The replicated signal changes only with its state (its value is as of then): so
    after each move the test waits for the state it expects once the count passes 3, 6."""
    seen = {}
    for moves in range(1, 13):
        leader = c.wait_leader()
        code, doc = leader.request("POST", "/v1/cluster/leader/transfer", {})
        check(code == 200, f"transfer: {code} {doc}")
        wait(lambda: c.wait_leader() is not leader, 15, "the leadership moved")
        time.sleep(1.5)  # the new leader's health round
        doc = c.wait_leader().request("GET", "/v1/health")[1]
        sig = {x["name"]: x for x in doc["signals"]}["cluster.elections"]
        code, doc = c.wait_leader().request("GET", "/v1/faults?state=open")
        mine = [f for f in doc["items"] if f["kind"] == "leader_unstable"]
        if sig["state"] == "warn":
            check(len(mine) == 1 and mine[0]["severity"] == "minor", f"at warn: {mine}")
            seen["minor"] = mine[0]["id"]
        elif sig["state"] == "bad":
            check("minor" in seen, f"bad before warn: {sig}")
            check(len(mine) == 1 and mine[0]["severity"] == "major" and
                  mine[0]["id"] == seen["minor"], f"at bad: {mine}, minor {seen}")
            code, f = c.wait_leader().request("GET", f"/v1/faults/{mine[0]['id']}")
            check(any("severity" in str(e) for e in f["log"]), f"the fault's log: {f}")
            log(f"leader_unstable: minor at warn, the same fault major at {sig['value']} "
                f"leader changes ({moves} moves by the test)")
            return
        else:
            check(not mine, f"leader_unstable open while cluster.elections is ok: {mine}")
    raise Failure(f"cluster.elections never turned bad: {seen}")


def refused(c):
    n = c.nodes[0]
    for body in [{"kind": "isolate"}, {"kind": "isolate", "seconds": 601},
                 {"kind": "slow-disk", "seconds": 5, "delay_ms": 0},
                 {"kind": "isolate", "seconds": 5, "delay_ms": 10},
                 {"kind": "disk-full", "seconds": 5, "leave_mb": -1},
                 {"kind": "pause", "seconds": 5, "leave_mb": 1}]:
        code, doc = n.request("POST", "/v1/drill", body)
        check(code == 400 and "code" in doc["error"], f"{body}: {code} {doc}")
    out = subprocess.run([CTL, "--endpoints", n.api_addr, "drill", "slow-disk", "--node", "n1",
                          "--seconds", "5", "--dry-run"],
                         env=c.ctl_env(), capture_output=True, text=True, timeout=30)
    check(out.returncode == 0 and "3 of 3 voters remain" in out.stdout and
          "disk_slow" in out.stdout, f"dry run: {out.stdout} {out.stderr}")
    log("bad drills refused; a dry run says what a slow disk would do")


def main():
    c = Cluster(3, election_ms=1000)
    victim = c.nodes[2]
    holder = private_tmpfs(victim.data_dir, "128m")
    victim.prefix = nsenter(holder)
    victim.fs_root = f"/proc/{holder.pid}/root"
    for node in c.nodes:
        with open(node.config, "a") as f:
            f.write("drills: true\n")

    def body(c):
        c.start()
        c.wait_token()
        c.install_model()
        refused(c)
        isolate(c)
        slow_disk(c)
        disk_full(c, victim)
        leader_unstable(c)
    try:
        run(c, body)
    finally:
        holder.kill()


if __name__ == "__main__":
    main()
