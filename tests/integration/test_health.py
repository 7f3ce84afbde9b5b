"""Health and faults (docs/continuity.md) on three real nodes.

- Every node's /v1/health holds the same replicated signals: quorum, each follower's
  reachability and lag, elections, each member's disk and store (the disk figure checked
  against the test's own statvfs of the data directory).
- A follower killed with SIGKILL opens one minor member_down fault, the same on both
  survivors; it is acknowledged and noted through contactctl; it closes by itself when the
  follower is back, and the follower then holds the same record.
- Two of three killed: the survivor answers /v1/health without a leader (critical, its own
  cluster.leader bad); once they are back, a major quorum_lost fault is on record, opened
  and closed at the times the test saw the outage begin and end; the runbook on quorum_lost
  faults runs once for it, after the fact (it opens a minor quorum_review fault, closed when
  the run ends).
- The business: a queue whose contacts pass the model's waiting thresholds while nobody who
  serves it is logged in opens a minor queue_long and a major no_agents fault on
  queue:NAME; both close once the contacts are gone.
- Bad input changes nothing: unknown fault, empty note, bad state filter, ack of a closed
  fault."""
import os
import subprocess
import time

from harness import Cluster, Failure, log, run, wait

CTL = os.environ.get("CONTACTCTL", "contactctl")


def check(cond, what):
    if not cond:
        raise Failure(what)


def health(node):
    code, doc = node.request("GET", "/v1/health", timeout=5)
    check(code == 200, f"{node.name}: /v1/health answered {code} {doc}")
    return doc


def signals(doc):
    return {s["name"]: s for s in doc["signals"]}


def faults(node, state="all"):
    code, doc = node.request("GET", f"/v1/faults?state={state}", timeout=5)
    check(code == 200, f"{node.name}: /v1/faults answered {code} {doc}")
    return doc["items"]


def fault(node, fid):
    code, doc = node.request("GET", f"/v1/faults/{fid}", timeout=5)
    check(code == 200, f"{node.name}: /v1/faults/{fid} answered {code} {doc}")
    return doc


def ctl(c, *args):
    endpoints = ",".join(f"127.0.0.1:{n.api_port}" for n in c.live())
    out = subprocess.run([CTL, "--endpoints", endpoints, *args], env=c.ctl_env(),
                         capture_output=True, text=True, timeout=30)
    check(out.returncode == 0, f"contactctl {' '.join(args)}: {out.returncode} {out.stderr}")
    return out.stdout


def disk_free_pct(path):
    st = os.statvfs(path)
    return st.f_bavail * 100 // st.f_blocks


def steady(c):
    """Every node holds the cluster's signals, all ok (but the disk, which is what it is)."""
    leader = c.wait_leader()
    c.wait_ready()
    followers = [n for n in c.nodes if n is not leader]
    want = {"cluster.quorum", "cluster.elections"}
    want |= {f"member.{n.name}.reachable" for n in followers}
    want |= {f"member.{n.name}.lag" for n in followers}
    want |= {f"node.{n.name}.disk_free" for n in c.nodes}
    want |= {f"node.{n.name}.store_used" for n in c.nodes}
    want |= {f"node.{n.name}.api_errors" for n in c.nodes}
    want |= {f"node.{n.name}.commit_latency" for n in c.nodes}

    def all_there():
        views = [signals(health(n)) for n in c.nodes]
        return all(want <= set(v) for v in views) and views
    views = wait(all_there, 30, "every signal on every node")
    for name in want - {f"node.{n.name}.disk_free" for n in c.nodes}:
        for v in views:
            check(v[name]["state"] == "ok", f"{name}: {v[name]}")
    for n in c.nodes:
        mine = disk_free_pct(n.data_dir)
        seen = views[0][f"node.{n.name}.disk_free"]["value"]
        check(abs(seen - mine) <= 1, f"{n.name}: disk_free {seen} %, statvfs says {mine} %")
    local = {s["name"]: s for s in health(leader)["local"]}
    check(local["cluster.leader"]["state"] == "ok", f"local view: {local}")
    log(f"{len(want)} signals on every node; disk free {views[0]['node.n1.disk_free']['value']} %")
    return leader, followers


def member_down(c, leader, follower, survivors):
    follower.kill()
    killed = time.time() * 1000

    def opened():
        for n in survivors:
            items = [f for f in faults(n, "open") if f["kind"] == "member_down"]
            if len(items) != 1:
                return None
        return items[0]
    f = wait(opened, 30, f"a member_down fault for {follower.name}")
    check(f["severity"] == "minor" and f["component"] == f"node:{follower.name}" and
          f["signal"] == f"member.{follower.name}.reachable", f"fault: {f}")
    # opened when the follower went unheard (the signal's since), not when it was confirmed
    check(killed - 1000 <= f["opened"] <= killed + 3000, f"opened {f['opened']}, killed {killed}")
    views = [health(n) for n in survivors]
    for v in views:
        check(v["status"] == "degraded", f"status {v['status']}")
        check(signals(v)[f"member.{follower.name}.reachable"]["state"] == "bad", str(v))
        check([x["id"] for x in v["faults"]] == [f["id"]], f"open faults {v['faults']}")
    code, text = leader.request("GET", "/metrics")
    check('contactd_faults_open{severity="minor"} 1' in text, "metrics: minor faults")
    check(f'contactd_health_signal{{signal="member.{follower.name}.reachable"}} 2' in text,
          "metrics: the member's signal")
    out = ctl(c, "fault", "ack", str(f["id"]), "--note", "paging the platform team")
    check(f"fault {f['id']} acknowledged" in out, out)
    ctl(c, "fault", "note", str(f["id"]), "host rebooting after a kernel panic")
    out = ctl(c, "fault", "show", str(f["id"]))
    check("host rebooting after a kernel panic" in out and "acked" in out, out)
    acked = fault(survivors[0], f["id"])
    check(acked["acked"] > 0 and acked["acked_by"].startswith("token:"), f"acked: {acked}")
    log(f"{follower.name} killed: fault {f['id']} minor member_down, acknowledged and noted")
    return f["id"]


def recovered(c, follower, fid):
    follower.start()
    back = time.time() * 1000
    c.wait_ready()

    def closed():
        docs = [fault(n, fid) for n in c.nodes]
        return all(d["state"] == "closed" for d in docs) and docs
    docs = wait(closed, 30, f"fault {fid} closed on every node")
    check(all(d == docs[0] for d in docs), f"the nodes disagree: {docs}")
    d = docs[0]
    check([line["what"] for line in d["log"]] == ["opened", "acked", "note", "recovered"],
          f"log: {d['log']}")
    check(d["closed_by"] == "" and back - 1000 <= d["closed"] <= back + 15000,
          f"closed {d['closed']} by '{d['closed_by']}', back at {back}")
    check(all(health(n)["status"] == "ok" or health(n)["faults"] for n in c.nodes), "status")
    log(f"{follower.name} back: fault {fid} recovered, the same record on all three")


QUEUE_MODEL = """version: 1
queues:
  billing:
    channels: [chat]
    thresholds:
      waiting: { warn: 2, alarm: 3 }
agents:
  - { id: b01, skills: {}, capacity: { chat: 1 }, queues: [billing] }
runbooks:
  - name: after-quorum-loss
    trigger: { fault: quorum_lost, severity: major, for: 3s, clear_for: 2s }
    actions:
      - fault: { kind: quorum_review, severity: minor }
"""


def business(c):
    leader = c.wait_leader()
    code, doc = leader.request("POST", "/v1/model", raw=QUEUE_MODEL)
    check(code == 200, f"model: {code} {doc}")
    ids = []
    for i in range(3):
        code, doc = leader.request("POST", "/v1/contacts",
                                   {"key": f"bill-{i}", "channel": "chat", "queue": "billing"})
        check(code == 201, f"create: {code} {doc}")
        ids.append(doc["id"])

    def opened():
        items = {f["kind"]: f for f in faults(c.nodes[0], "open")
                 if f["component"] == "queue:billing"}
        return len(items) == 2 and items
    items = wait(opened, 20, "the queue's faults")
    check(items["queue_long"]["severity"] == "minor" and
          items["no_agents"]["severity"] == "major", f"{items}")
    w = wait(lambda: signals(health(c.nodes[1])).get("queue.billing.waiting"), 10,
             "the queue's signal on another node")
    check(w["state"] == "bad" and w["value"] == 3, f"{w}")
    check(health(c.nodes[2])["status"] == "critical", "a major fault open: critical")
    for cid in ids:
        code, doc = leader.request("POST", f"/v1/contacts/{cid}/abandon")
        check(code == 200, f"abandon: {code} {doc}")
    wait(lambda: all(fault(c.nodes[0], f["id"])["state"] == "closed" for f in items.values()),
         20, "the queue's faults recovered")
    log("queue billing: 3 waiting, nobody staffed: minor queue_long and major no_agents, "
        "both recovered once they left")


def bad_input(c, fid):
    n = c.nodes[0]
    before = fault(n, fid)
    for method, path, body, status in [
            ("POST", "/v1/faults/99999/ack", {}, 404),
            ("POST", f"/v1/faults/{fid}/note", {}, 400),
            ("POST", f"/v1/faults/{fid}/note", {"note": "x", "extra": 1}, 400),
            ("POST", f"/v1/faults/{fid}/ack", {}, 409),
            ("POST", f"/v1/faults/{fid}/close", {}, 409),
            ("GET", "/v1/faults?state=broken", None, 400),
            ("GET", "/v1/faults/abc", None, 400)]:
        code, doc = n.request(method, path, body)
        check(code == status and "code" in doc.get("error", {}),
              f"{method} {path}: {code} {doc}, expected {status}")
    check(fault(n, fid) == before, "a refused request changed the fault")
    log("bad input refused with clear errors; nothing changed")


def quorum_lost(c):
    leader = c.wait_leader()
    c.wait_ready()
    survivor = leader
    others = [n for n in c.nodes if n is not survivor]
    for n in others:
        n.kill()
    lost = time.time() * 1000

    def leaderless():
        doc = health(survivor)
        local = {s["name"]: s for s in doc["local"]}
        return doc["leader"] == "" and local["cluster.leader"]["state"] == "bad" and doc
    doc = wait(leaderless, 20, "the survivor to know it has no leader")
    check(doc["status"] == "critical", f"status {doc['status']}")
    # Writes without a leader are refused (503): the survivor's own view of its API's errors
    # turns bad within its minute (past 10 % of its answers, whatever else it answered).
    sent = {"refused": 0, "n": 0}

    def api_errors():
        for i in range(20):
            code, _ = survivor.new_client(timeout=3).request(
                "POST", "/v1/contacts", {"key": f"nq-{sent['n']}", "channel": "chat",
                                         "queue": "billing"})
            sent["refused"] += code == 503
            sent["n"] += 1
        local = {s["name"]: s for s in health(survivor)["local"]}
        s = local[f"node.{survivor.name}.api_errors"]
        return s["state"] == "bad" and s
    s = wait(api_errors, 20, "the survivor's API errors bad", interval=0.2)
    check(sent["refused"] == sent["n"], f"{sent['refused']} of {sent['n']} writes without a "
          "leader answered 503")
    time.sleep(max(0, 4 - (time.time() * 1000 - lost) / 1000))
    for n in others:
        n.start()
    back = time.time() * 1000
    c.wait_leader()
    c.wait_ready()

    def recorded():
        items = [f for f in faults(c.nodes[0]) if f["kind"] == "quorum_lost"]
        return items and items[0]["state"] == "closed" and items[0]
    f = wait(recorded, 30, "the quorum loss on record")
    check(f["severity"] == "major" and f["component"] == "cluster", f"fault: {f}")
    check(lost - 500 <= f["opened"] <= lost + 3000, f"opened {f['opened']}, lost at {lost}")
    check(back - 500 <= f["closed"] <= back + 10000, f"closed {f['closed']}, back at {back}")
    # The survivor notices the loss up to an election timeout after the kill, and a leader
    # comes back a moment after the restart 4 s after it: the whole stretch, give or take
    # those, and more than the 3 s that count as a loss.
    check(f["closed"] - f["opened"] >= 3000, f"lasted {f['closed'] - f['opened']} ms")
    c.wait_converged()
    views = [fault(n, f["id"]) for n in c.nodes]
    check(all(v == views[0] for v in views), f"the nodes disagree: {views}")
    log(f"quorum lost for {(back - lost) / 1000:.1f} s: fault {f['id']} major quorum_lost, "
        f"{(f['closed'] - f['opened']) / 1000:.1f} s on record; the survivor saw "
        f"{s['value']} % of its API's answers fail meanwhile")

    def ran():
        code, doc = c.nodes[0].request("GET", "/v1/runbooks/runs", timeout=5)
        done = [r for r in doc["items"] if r["state"] == "ended"] if code == 200 else []
        return done and doc["items"]
    items = wait(ran, 30, "the runbook on the quorum loss")
    check(len(items) == 1 and items[0]["runbook"] == "after-quorum-loss" and
          items[0]["signal"] == f"fault:{f['id']}", f"runs: {items}")
    review = fault(c.nodes[0], items[0]["fault"])
    check(review["kind"] == "quorum_review" and review["state"] == "closed" and
          review["component"] == "runbook:after-quorum-loss", f"{review}")
    log(f"runbook after-quorum-loss ran once for fault {f['id']}, after the fact")


def body(c):
    c.start()
    c.wait_token()
    leader, followers = steady(c)
    follower = followers[-1]
    survivors = [n for n in c.nodes if n is not follower]
    fid = member_down(c, leader, follower, survivors)
    recovered(c, follower, fid)
    business(c)
    bad_input(c, fid)
    quorum_lost(c)


if __name__ == "__main__":
    run(Cluster(3, election_ms=1000), body)
