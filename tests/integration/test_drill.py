"""Drills (docs/continuity.md, "Drills") on three real nodes whose files allow them.

- `contactctl drill kill-leader`: the leader exits as SIGKILL would (the test sees its
  process end with SIGKILL), a new leader is elected, the probe's contacts are all there
  (the test counts them in the history itself), the member_down fault opened for the old
  leader is in the report and on the cluster, and the unavailability the report measured is
  no longer than the test saw between the old leader's end and a new leader. The model's
  runbook on a lost member runs, and the report says so; the report is kept in the cluster
  (GET /v1/drills, contactctl drill reports) as contactctl printed it.
- `contactctl drill pause --node F --seconds 3`: the follower stops answering (the test's own
  /healthz probe times out during the pause) and answers again after; nothing is lost and
  writes through the other nodes never stop.
- A drill is audited (drill_crash / drill_pause); bad requests are refused: an unknown kind, a
  pause without seconds, a node whose file does not allow drills."""
import json
import os
import subprocess
import threading
import time

from harness import MODEL, Cluster, Failure, log, run, wait

CTL = os.environ.get("CONTACTCTL", "contactctl")


RUNBOOK = """
runbooks:
  - name: member-lost
    trigger: { signal: "member.*.reachable", when: bad, clear_for: 2s }
    actions:
      - fault: { kind: drill_member_lost, severity: minor }
"""


def check(cond, what):
    if not cond:
        raise Failure(what)


def drill(c, endpoints, *args):
    out = subprocess.run([CTL, "--endpoints", ",".join(n.api_addr for n in endpoints),
                          "--output", "json", "drill", *args, "--queue", "support-chat",
                          "--channel", "chat"],
                         env=c.ctl_env(), capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, f"drill {args}: exit {out.returncode}: {out.stderr} {out.stdout}")
    return json.loads(out.stdout)


def history_keys(node, prefix):
    code, doc = node.request("GET", "/v1/history?limit=1000")
    check(code == 200, f"history: {code} {doc}")
    return {r["key"] for r in doc["items"] if r["key"].startswith(prefix)}


def audited(node, action):
    code, doc = node.request("GET", f"/v1/audit?action={action}")
    check(code == 200, f"audit: {code} {doc}")
    return doc["items"]


def kill_leader(c):
    old = c.wait_leader()
    c.wait_ready()
    survivors = [n for n in c.nodes if n is not old]
    seen = {}

    def watch():
        old.proc.wait()
        seen["exit"] = time.time() * 1000
        while "leader" not in seen:
            for n in survivors:
                try:
                    st = n.new_client(timeout=0.5).request("GET", "/v1/cluster")[1]
                    if st["leader"] not in ("", old.name):
                        seen["leader"] = time.time() * 1000
                except (OSError, ValueError, TypeError):
                    pass
            time.sleep(0.02)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    r = drill(c, c.nodes, "kill-leader", "--watch", "8", "--max-unavailable-ms", "5000")
    t.join(30)
    check(old.proc.returncode == -9, f"{old.name} exited {old.proc.returncode}, not by SIGKILL")
    check(r["target"] == old.name and r["target_role"] == "leader", f"target {r['target']}")
    p = r["probe"]
    check(r["pass"] and p["lost"] == 0 and p["accepted"] >= 10, f"probe: {p}")
    keys = history_keys(survivors[0], f"drill-{r['started']}-")
    check(len(keys) == p["accepted"], f"history holds {len(keys)} probe contacts, "
          f"the report says {p['accepted']} accepted")
    window = seen["leader"] - seen["exit"]
    check(p["unavailable_ms"] <= window + 1500,
          f"the report says writes stopped {p['unavailable_ms']} ms; the test saw a leader "
          f"again {window:.0f} ms after the old one ended")
    kinds = {(f["kind"], f["component"]) for f in r["faults"]}
    check(("member_down", f"node:{old.name}") in kinds, f"faults in the report: {r['faults']}")
    check(audited(survivors[0], "drill_crash")[0]["object"] == old.name, "audit")
    runs = [x for x in r["runbooks"] if x["runbook"] == "member-lost"]
    check(len(runs) == 1 and runs[0]["signal"] == f"member.{old.name}.reachable" and
          runs[0]["steps"][0]["state"] == "done", f"runbooks in the report: {r['runbooks']}")
    check(any("runbook member-lost run" in e["what"] for e in r["timeline"]),
          f"timeline: {r['timeline']}")
    code, kept = survivors[1].request("GET", f"/v1/drills/{r['stored']}")
    check(code == 200 and kept["report"]["pass"] is True and
          kept["report"]["probe"] == p and kept["report"]["target"] == old.name,
          f"the report kept: {code} {kept}")
    out = subprocess.run([CTL, "--endpoints", survivors[0].api_addr, "drill", "reports"],
                         env=c.ctl_env(), capture_output=True, text=True, timeout=30)
    check(out.returncode == 0 and "kill-leader" in out.stdout, f"drill reports: {out.stdout}")
    log(f"kill-leader: runbook member-lost ran (in the report); the report kept as drill "
        f"{r['stored']}")
    log(f"kill-leader: {old.name} SIGKILLed, {p['accepted']} contacts accepted, 0 lost, "
        f"writes unavailable {p['unavailable_ms']} ms (a new leader {window:.0f} ms after)")
    old.start()
    c.wait_ready()


def pause(c):
    leader = c.wait_leader()
    c.wait_ready()
    target = [n for n in c.nodes if n is not leader][0]
    others = [n for n in c.nodes if n is not target]
    answers = []

    def probe():
        end = time.time() + 9
        while time.time() < end:
            at = time.time()
            try:
                code = target.new_client(timeout=0.5).request("GET", "/healthz")[0]
                answers.append((at, code == 200))
            except OSError:
                answers.append((at, False))
            time.sleep(0.1)
    t = threading.Thread(target=probe, daemon=True)
    t.start()
    r = drill(c, others + [target], "pause", "--node", target.name, "--seconds", "3",
              "--watch", "7")
    t.join(30)
    sent = r["timeline"][1]["at"] / 1000
    # The node stops its loop a little after the request is sent (under ASan up to a few
    # hundred ms), and a probe sent less than its 0.5 s timeout before the loop goes on is
    # answered late but answered: only probes sent well inside the 3 s must go unanswered.
    during = [ok for at, ok in answers if sent + 0.8 < at < sent + 2.3]
    after = [ok for at, ok in answers if at > sent + 4.5]
    check(during and not any(during), f"{target.name} answered during its pause: {during}")
    check(after and all(after), f"{target.name} did not answer after its pause: {after}")
    p = r["probe"]
    check(r["pass"] and p["lost"] == 0 and p["unavailable_ms"] == 0,
          f"pausing a follower stopped writes through the others: {p}")
    check(audited(leader, "drill_pause")[0]["object"] == target.name, "audit")
    log(f"pause: {target.name} silent for its 3 s, {p['accepted']} contacts accepted through "
        f"the others, none lost, no write failed")


def refused(c):
    n = c.nodes[0]
    for body, status in [({"kind": "melt"}, 400), ({"kind": "pause"}, 400),
                         ({"kind": "pause", "seconds": 61}, 400),
                         ({"kind": "crash", "seconds": 2}, 400)]:
        code, doc = n.request("POST", "/v1/drill", body)
        check(code == status and "code" in doc["error"], f"{body}: {code} {doc}")
    log("malformed drills refused")


def body(c):
    c.start()
    c.wait_token()
    with open(MODEL) as f:
        code, doc = c.wait_leader().request("POST", "/v1/model", raw=f.read() + RUNBOOK)
    check(code == 200, f"model: {code} {doc}")
    refused(c)
    kill_leader(c)
    pause(c)


def not_allowed(c):
    c.start()
    c.wait_token()
    code, doc = c.nodes[0].request("POST", "/v1/drill", {"kind": "crash"})
    check(code == 409 and "drills: true" in doc["error"]["message"], f"{code} {doc}")
    check(c.nodes[0].alive(), "the node crashed")
    log("a node whose file does not allow drills refuses them")


if __name__ == "__main__":
    allowed = Cluster(3, election_ms=1000)
    for node in allowed.nodes:
        with open(node.config, "a") as f:
            f.write("drills: true\n")
    run(allowed, body)
    run(Cluster(1), not_allowed)
