"""Runbooks (docs/continuity.md, "Runbooks") on three real nodes, driven by traffic the test
controls.

- A saved model is checked before it is kept (bad YAML: 400 with file:line:column, nothing
  kept) and cannot be forgotten while a runbook names it (409).
- Simulation says which runbooks given signals would run, and changes nothing.
- The queue's service level collapses (two chats answered after the 2 s target: 0 %): the
  runbook runs once its signal has been bad for 3 s; it installs the saved contingency model,
  pauses the backup queue and opens a major fault of component runbook:collapse. The leader
  is SIGKILLed as soon as the run is seen: the new leader finishes it, and the contingency
  model is installed exactly once.
- Three chats answered within the target lift the service level to 60 % (warn, not bad): 3 s
  later the run ends by itself and reverts: the model before is back (as a rollback of it),
  the backup queue runs again, the fault has recovered.
- Every node holds the same runs; the audit has one runbook_run.
- An outside monitor posts an SBC's trunk status (POST /v1/health/signals; the cluster's own
  prefixes are refused): bad for 2 s, the trunk-outage runbook waits for approval; approved
  with contactctl it opens its major fault, which the model's escalation path for runbook
  faults pages (one POST under the fault's key to the test's receiver); the trunk ok again,
  the run ends and the fault recovers."""
import os
import subprocess
import time

from harness import Cluster, Failure, log, run, wait
from sinks import Receiver

HOOK = Receiver()

CTL = os.environ.get("CONTACTCTL", "contactctl")

MODEL = """version: 1
queues:
  sales:
    channels: [chat]
    service_level: { target: 2s, percent: 80 }
    thresholds:
      service_level: { warn: 80, alarm: 50 }
  backup:
    channels: [chat]
agents:
  - { id: a01, skills: {}, capacity: { chat: 4 }, queues: [sales] }
runbooks:
  - name: collapse
    trigger: { signal: queue.sales.service_level, when: bad, for: 3s, clear_for: 3s }
    actions:
      - model: contingency
      - pause: backup
      - fault: { kind: sl_collapse, severity: major }
    max_per_hour: 2
  - name: trunk-outage
    trigger: { signal: "trunk.*.options", when: bad, for: 2s, clear_for: 2s }
    approval: true
    actions:
      - fault: { kind: trunk_down, severity: major }
continuity:
  escalation:
    - name: runbooks
      severities: [major]
      components: ["runbook:*"]
      levels:
        - { after: 0s, notify: [ { webhook: "http://127.0.0.1:HOOK_PORT/page" } ] }
"""

# The contingency model holds no runbook: the run that installed it still ends and reverts.
CONTINGENCY = """version: 1
# contingency: sales overflows to backup after 30 s
queues:
  sales:
    channels: [chat]
    service_level: { target: 2s, percent: 80 }
    thresholds:
      service_level: { warn: 80, alarm: 50 }
    max_wait: 30s
    overflow: { queue: backup }
  backup:
    channels: [chat]
agents:
  - { id: a01, skills: {}, capacity: { chat: 4 }, queues: [sales] }
"""


def check(cond, what):
    if not cond:
        raise Failure(what)


def ctl(c, *args):
    endpoints = ",".join(f"127.0.0.1:{n.api_port}" for n in c.live())
    out = subprocess.run([CTL, "--endpoints", endpoints, *args], env=c.ctl_env(),
                         capture_output=True, text=True, timeout=30)
    check(out.returncode == 0, f"contactctl {' '.join(args)}: {out.returncode} {out.stderr}")
    return out.stdout


def call(c, method, path, body=None, status=200, raw=None):
    code, doc = c.wait_leader().request(method, path, body, raw=raw, timeout=10)
    check(code == status, f"{method} {path}: {code} {doc}")
    return doc


def runs(node):
    code, doc = node.request("GET", "/v1/runbooks/runs", timeout=5)
    check(code == 200, f"{node.name}: runs: {code} {doc}")
    return doc["items"]


def versions(c):
    return call(c, "GET", "/v1/model/versions")["items"]


def answer(c, cid, agent="a01"):
    def offered():
        doc = call(c, "GET", f"/v1/contacts/{cid}")
        return doc["offer"] if doc.get("state") == "offered" else None
    offer = wait(offered, 15, f"contact {cid} offered")
    call(c, "POST", f"/v1/offers/{offer}/accept", {"agent": agent})
    call(c, "POST", f"/v1/contacts/{cid}/end")


def chat(c, key):
    return call(c, "POST", "/v1/contacts",
                {"key": key, "channel": "chat", "queue": "sales"}, status=201)["id"]


def queue(c, name):
    return call(c, "GET", f"/v1/queues/{name}")


def setup(c):
    global MODEL
    MODEL = MODEL.replace("HOOK_PORT", str(HOOK.port))
    call(c, "POST", "/v1/model", raw=MODEL)
    code, doc = c.wait_leader().request("POST", "/v1/model/saved/contingency",
                                        raw="version: 1\nqueues: [\n")
    check(code == 400 and "model:" in doc["error"]["message"], f"bad YAML saved: {code} {doc}")
    check(call(c, "GET", "/v1/model/saved")["items"] == [], "a bad model was kept")
    doc = call(c, "POST", "/v1/model/saved/contingency?comment=plan%20b", raw=CONTINGENCY)
    check(doc["existing"] is False, f"{doc}")
    saved = call(c, "GET", "/v1/model/saved/contingency")
    check(saved["source"] == CONTINGENCY and saved["comment"] == "plan b", f"{saved}")
    code, doc = c.wait_leader().request("DELETE", "/v1/model/saved/contingency")
    check(code == 409, f"forgetting a saved model a runbook names: {code} {doc}")
    log("saved model checked and kept; not forgotten while a runbook names it")


def simulate(c):
    sig = "queue.sales.service_level"
    doc = call(c, "POST", "/v1/runbooks/simulate",
               {"signals": [{"name": sig, "state": "bad", "for": 5}]})
    check([w["runbook"] for w in doc["would_run"]] == ["collapse"] and
          doc["would_run"][0]["now"] == "acts at once", f"simulate bad 5 s: {doc}")
    doc = call(c, "POST", "/v1/runbooks/simulate",
               {"signals": [{"name": sig, "state": "bad", "for": 2},
                            {"name": "trunk.sbc2.options", "state": "bad", "for": 2}]})
    check(doc["quiet"] == ["collapse"] and doc["would_run"][0]["runbook"] == "trunk-outage" and
          doc["would_run"][0]["now"] == "waits for approval, then acts",
          f"simulate bad 2 s: {doc}")
    code, doc = c.wait_leader().request("POST", "/v1/runbooks/simulate",
                                        {"signals": [{"name": sig, "state": "awful"}]})
    check(code == 400, f"simulate with a bad state: {code} {doc}")
    out = ctl(c, "runbook", "simulate", f"{sig}=bad:10")
    check("collapse" in out, f"contactctl runbook simulate: {out}")
    check(runs(c.nodes[0]) == [], "simulation ran something")
    log("simulation: bad for 5 s would run collapse, for 2 s nothing")


def collapse(c):
    before = max(v["version"] for v in versions(c))
    ids = [chat(c, f"late-{i}") for i in range(2)]
    time.sleep(2.5)  # past the 2 s target
    call(c, "POST", "/v1/agents/a01/login")
    for cid in ids:
        answer(c, cid)
    started = time.time()
    leader = c.wait_leader()
    seen = wait(lambda: runs(leader), 30, "a run of collapse")
    run1 = seen[0]
    check(run1["runbook"] == "collapse" and run1["signal"] == "queue.sales.service_level",
          f"{run1}")
    model_step = run1["steps"][0]["state"]
    leader.kill()
    log(f"run {run1['run']} seen {time.time() - started:.1f} s after the collapse (its model "
        f"step {model_step}): {leader.name} SIGKILLed")
    c.wait_leader()

    def installed():
        r = [x for x in runs(c.live()[0]) if x["run"] == run1["run"]]
        return r and r[0]["steps"][0]["state"] == "done" and r[0]
    r = wait(installed, 30, "the contingency model installed")
    mine = [v for v in versions(c) if v["actor"] == "runbook:collapse"]
    check(len(mine) == 1 and mine[0]["version"] == before + 1 and
          r["model_installed"] == before + 1, f"installs by the runbook: {mine}, run {r}")
    v = call(c, "GET", f"/v1/model/versions/{before + 1}")
    check(v["source"] == CONTINGENCY, "the contingency model's text")
    check(any("queues.sales.overflow" in line for line in v["changes"]),
          f"the install's changes: {v['changes']}")
    check(queue(c, "backup")["paused"] is True, "backup not paused")
    wait(lambda: all('contactd_runbook_runs{state="active"} 1' in t and
                     "contactd_runbook_runs_started_total 1" in t
                     for t in (n.request("GET", "/metrics")[1] for n in c.live())),
         10, "metrics: the active run on every node")
    f = call(c, "GET", f"/v1/faults/{r['fault']}")
    check(f["kind"] == "sl_collapse" and f["severity"] == "major" and
          f["component"] == "runbook:collapse" and f["state"] == "open", f"{f}")
    leader.start()
    c.wait_ready()
    log(f"collapse: contingency model installed once as version {before + 1}, backup paused, "
        f"fault {f['id']} major open")
    return r, before


def recovery(c, r, before):
    for i in range(3):
        answer(c, chat(c, f"fast-{i}"))

    def ended():
        x = [y for y in runs(c.nodes[0]) if y["run"] == r["run"]]
        return x and x[0]["state"] == "ended" and x[0]["steps"][0]["state"] == "reverted" and x[0]
    x = wait(ended, 30, "the run ended and reverted")
    check(x["why"] == "the trigger cleared" and x["ended_by"] == "", f"{x}")
    last = max(versions(c), key=lambda v: v["version"])
    check(last["rollback_of"] == before and last["actor"] == "runbook:collapse" and
          last["version"] == before + 2, f"{last}")
    check(call(c, "GET", f"/v1/model/versions/{last['version']}")["source"] == MODEL,
          "the model before is not back")
    check(queue(c, "backup")["paused"] is False, "backup still paused")
    f = call(c, "GET", f"/v1/faults/{r['fault']}")
    check(f["state"] == "closed", f"fault {f}")
    c.wait_converged()
    views = [runs(n) for n in c.nodes]
    check(all(v == views[0] for v in views), f"the nodes disagree: {views}")
    check(len(views[0]) == 1, f"runs: {views[0]}")  # trunk-outage: its signal is not there
    audit = call(c, "GET", "/v1/audit?action=runbook_run")["items"]
    check(len(audit) == 1, f"audit: {audit}")
    out = ctl(c, "runbook", "runs")
    check("collapse" in out and "ended" in out, f"contactctl runbook runs: {out}")
    log(f"recovered: run ended, version {before} back as {last['version']}, backup running, "
        f"fault closed; one run on all three nodes")


def trunk(c):
    code, doc = c.wait_leader().request(
        "POST", "/v1/health/signals", {"signals": [{"name": "queue.sales.waiting",
                                                    "state": "bad"}]})
    check(code == 400 and "measured by the cluster" in doc["error"]["message"], f"{code} {doc}")
    sig = {"name": "trunk.sbc1.options", "state": "bad", "value": 503}
    call(c, "POST", "/v1/health/signals", {"signals": [sig]})

    def awaiting():
        items = [r for r in runs(c.nodes[1]) if r["runbook"] == "trunk-outage"]
        return items and items[0]["state"] == "awaiting" and items[0]
    r = wait(awaiting, 20, "a trunk-outage run awaiting approval")
    wait(lambda: 'contactd_runbook_runs{state="awaiting"} 1' in
         c.nodes[1].request("GET", "/metrics")[1], 10, "metrics: the run awaiting")
    check(r["steps"][0]["state"] == "waiting" and "fault" not in r, f"{r}")
    out = ctl(c, "runbook", "approve", str(r["run"]))
    check(f"run {r['run']} approved" in out, out)
    r = [x for x in runs(c.wait_leader()) if x["run"] == r["run"]][0]
    check(r["state"] == "active" and r["approved_by"] != "", f"{r}")
    f = call(c, "GET", f"/v1/faults/{r['fault']}")
    check(f["kind"] == "trunk_down" and f["severity"] == "major" and f["state"] == "open", f"{f}")
    key = f"fault.{f['id']}.runbooks.1.1"
    got = wait(lambda: [g for g in HOOK.taken() if g["key"] == key], 15, "the runbook's page")
    keys = [g["key"] for g in HOOK.taken()]
    check(len(got) == 1 and len(keys) == len(set(keys)), f"pages: {keys}")
    call(c, "POST", "/v1/health/signals", {"signals": [sig | {"state": "ok", "value": 200}]})

    def ended():
        x = [y for y in runs(c.nodes[2]) if y["run"] == r["run"]]
        return x and x[0]["state"] == "ended" and x[0]
    wait(ended, 20, "the trunk-outage run ended")
    check(call(c, "GET", f"/v1/faults/{r['fault']}")["state"] == "closed", "fault still open")
    log(f"trunk: run {r['run']} waited for approval, opened fault {f['id']} once approved, "
        "ended when the trunk was back")


def body(c):
    c.start()
    c.wait_token()
    setup(c)
    simulate(c)
    r, before = collapse(c)
    recovery(c, r, before)
    trunk(c)


if __name__ == "__main__":
    run(Cluster(3, election_ms=1000), body)
