"""contactctl against a 3-node cluster, as an operator or a script uses it: every command
group, table and JSON output, exit codes (0 done, 1 refused, 2 bad command line, 3 nothing
reachable), and endpoints that are down being passed over — the first endpoint given is
never up, and later the leader is killed and the commands go on."""
import json
import os
import subprocess

from harness import MODEL, Cluster, Failure, free_ports, log, run

CTL = os.environ.get("CONTACTCTL")


def check(cond, what):
    if not cond:
        raise Failure(what)


class Ctl:
    def __init__(self, c):
        dead = free_ports(1)[0]
        self.endpoints = ",".join([f"127.0.0.1:{dead}"] + [n.api_addr for n in c.nodes])
        self.env = c.ctl_env()  # the cluster's CA, so that contactctl speaks HTTPS

    def run(self, *args, rc=0, json_out=False, stdin=""):
        cmd = [CTL, "--endpoints", self.endpoints] + (["--output", "json"] if json_out else [])
        res = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60,
                             env=self.env, input=stdin)
        check(res.returncode == rc, f"contactctl {' '.join(args)}: exit {res.returncode}, "
              f"expected {rc}\nstdout: {res.stdout}\nstderr: {res.stderr}")
        return json.loads(res.stdout) if json_out and rc == 0 else res.stdout + res.stderr


def cluster_and_model(c, ctl):
    out = ctl.run("status")
    check("Leader" in out and "Applied index" in out, f"status: {out}")
    views = ctl.run("status", json_out=True)["members"]
    check(sorted(m.get("own_role") for m in views) == ["follower", "follower", "leader"] and
          all(m["applied_index"] > 0 for m in views), f"every member's own view: {views}")
    check(len(ctl.run("member", "list", json_out=True)) == 3, "three members")
    out = ctl.run("model", "validate", MODEL)
    check("valid (3 skills, 3 queues, 8 agents, 2 rules)" in out, f"validate: {out}")
    bad = os.path.join(c.root, "bad.yaml")
    with open(MODEL) as f, open(bad, "w") as g:
        g.write(f.read().replace("max_size: 100000", "max_size: lots", 1))
    out = ctl.run("model", "validate", bad, rc=1)
    check("model:" in out and "max_size" in out, f"invalid model: {out}")
    ctl.run("model", "apply", MODEL, "--comment", "first")
    v2 = os.path.join(c.root, "v2.yaml")
    with open(MODEL) as f, open(v2, "w") as g:
        g.write(f.read().replace("skills: { sales: 5, support: 5 }",
                                 "skills: { sales: 5, support: 9 }"))
    out = ctl.run("model", "diff", v2)
    check("~ agents[a01].skills.support: 5 -> 9" in out, f"diff: {out}")
    ctl.run("model", "apply", v2, "--comment", "a01 trained")
    hist = ctl.run("model", "history", json_out=True)
    check([v["version"] for v in hist["items"]] == [2, 1], f"history: {hist}")
    out = ctl.run("model", "rollback", "1", "--comment", "undo")
    check("installed again as version 3" in out, f"rollback: {out}")
    check(ctl.run("model", "show").startswith("# Routing model"), "show: the running text")
    hist = ctl.run("model", "history")
    check("a01 trained" in hist and "undo" in hist, f"model history: {hist}")
    out = ctl.run("audit", "--action", "model_install")
    rows = [l.split() for l in out.splitlines()[1:] if l.strip()]
    check([r[-1] for r in rows] == ["3", "2", "1"] and
          all("model_install" in r for r in rows), f"audit: {out}")
    doc = ctl.run("audit", "--object", "2", "--action", "model_install", json_out=True)
    check([i["object"] for i in doc["items"]] == ["2"] and doc["next"] is None, f"audit: {doc}")
    doc = ctl.run("audit", "--limit", "1", json_out=True)
    check(len(doc["items"]) == 1 and doc["next"], f"audit --limit 1: {doc}")
    older = ctl.run("audit", "--limit", "1", "--before", doc["next"], json_out=True)
    key = lambda i: tuple(int(p) for p in i["id"].split("."))
    check(len(older["items"]) == 1 and key(older["items"][0]) < key(doc["items"][0]),
          f"audit --before: {doc} then {older}")
    log("status, members, model validate/diff/apply/history/rollback/show, audit")


def agents_and_queues(ctl):
    ctl.run("agent", "put", "z9", "--site", "lab", "--skill", "support=6", "--capacity",
            "chat=2", "--queue", "support-chat")
    ctl.run("agent", "skills", "z9", "support=8")
    agent = ctl.run("agent", "show", "z9", json_out=True)
    check(agent["site"] == "lab" and agent["skills"] == [{"skill": "support", "level": 8}],
          f"agent show: {agent}")
    ctl.run("agent", "login", "z9")
    ctl.run("agent", "state", "z9", "away", "--reason", "coaching")
    out = ctl.run("agent", "list")
    check(any(l.split()[:1] == ["z9"] and "coaching" in l for l in out.splitlines()),
          f"agent list: {out}")
    ctl.run("agent", "state", "z9", "available")
    ctl.run("queue", "pause", "support-chat")
    check(ctl.run("queue", "show", "support-chat", json_out=True)["paused"], "paused")
    ctl.run("queue", "pause", "support-chat", rc=1)
    ctl.run("queue", "resume", "support-chat")
    check("support-chat" in ctl.run("queue", "list"), "queue list")
    log("agent put/skills/show/login/state/list, queue pause/show/resume/list")


def contacts(ctl):
    out = ctl.run("contact", "create", "--channel", "chat", "--key", "ctl-1", "--attr",
                  "language=en")
    cid = out.split()[1]
    again = ctl.run("contact", "create", "--channel", "chat", "--key", "ctl-1", "--attr",
                    "language=en")
    check(again.startswith(f"contact {cid} (existing)"), f"same key: {again}")
    got = ctl.run("contact", "show", cid, json_out=True)
    check(got["state"] == "offered" and got["agent"] == "z9", f"contact: {got}")
    check("chat-to-support" in ctl.run("contact", "explain", cid), "explain")
    ctl.run("contact", "attrs", cid, "tier=gold", "language=")
    got = ctl.run("contact", "show", cid, json_out=True)
    check(got["attributes"] == {"tier": "gold"}, f"attrs: {got['attributes']}")
    ctl.run("offer", "accept", str(got["offer"]), "z9")
    ctl.run("offer", "accept", str(got["offer"]), "z9", rc=1)  # stale
    listed = ctl.run("contact", "list", "--state", "connected", json_out=True)
    check([x["id"] for x in listed["items"]] == [int(cid)], f"list: {listed}")
    ctl.run("contact", "end", cid)
    ctl.run("contact", "wrapup-done", cid)
    finished = ctl.run("history", "--limit", "10", json_out=True)
    check([x["id"] for x in finished["items"]] == [int(cid)] and
          finished["items"][0]["state"] == "completed", f"history: {finished}")
    events = ctl.run("events", "--contact", cid)
    kinds = [l.split()[1] for l in events.splitlines()]
    check(kinds[:2] == ["queued", "offer"] and "connected" in kinds and "ended" in kinds,
          f"events: {events}")
    log(f"contact {cid}: create (idempotent), show, explain, attrs, accept, end, events")


def sessions_and_webhooks(ctl):
    out = ctl.run("contact", "create", "--channel", "chat", "--key", "ctl-sess")
    cid = out.split()[1]
    ctl.run("contact", "session", cid, "--home", "n2", "--key", "tok-9")
    got = ctl.run("contact", "show", cid, json_out=True)
    check(got["session"] == {"home": "n2", "key": "tok-9", "lost": False, "reconnect_by": 0},
          f"session: {got}")
    check("tok-9" in ctl.run("contact", "show", cid), "the session in the fields")
    ctl.run("contact", "session", cid, "--key", "x", rc=2)  # --home is required
    ctl.run("contact", "session-end", cid)
    ctl.run("contact", "session-end", cid, rc=1)  # none left to end
    check(ctl.run("contact", "show", cid, json_out=True)["session"]["home"] == "",
          "the session ended")
    out = ctl.run("webhook", "add", "http://127.0.0.1:9/hook", "--secret", "0123456789abcdef",
                  "--kinds", "offer,ended")
    hook = out.split()[1]
    listed = ctl.run("webhook", "list", json_out=True)["items"]
    check([h["id"] for h in listed] == [int(hook)] and listed[0]["kinds"] == ["offer", "ended"]
          and "secret" not in listed[0], f"webhook list: {listed}")
    check("Latest attempts" in ctl.run("webhook", "show", hook), "webhook show")
    ctl.run("webhook", "add", "http://127.0.0.1:9/hook", "--secret", "short", "--kinds", "offer",
            rc=1)
    ctl.run("webhook", "delete", hook)
    ctl.run("webhook", "show", hook, rc=1)
    log("contact session/session-end, webhook add/list/show/delete")


def users(c, ctl):
    """user set/list/show/delete; the password from standard input, never the command
    line; then it signs in."""
    out = ctl.run("user", "set", "ops-sup", "--role", "supervisor",
                  stdin="a long enough password\n")
    check("user ops-sup set" in out, f"user set: {out}")
    ctl.run("user", "set", "ops-agent", "--role", "agent", "--agent", "a01",
            stdin="another long password")  # no line end: the first line all the same
    out = ctl.run("user", "set", "ops-x", "--role", "supervisor", stdin="too short\n", rc=1)
    check("shorter than 12 characters" in out, f"a short password: {out}")
    ctl.run("user", "set", "ops-x", "--role", "supervisor", rc=2)  # nothing on stdin
    ctl.run("user", "set", "ops-x", stdin="a long enough password\n", rc=2)  # no role
    listed = ctl.run("user", "list", json_out=True)["items"]
    check([(u["name"], u["role"], u["agent"]) for u in listed] ==
          [("ops-agent", "agent", "a01"), ("ops-sup", "supervisor", "")], f"list: {listed}")
    check("ops-agent" in ctl.run("user", "list"), "the table")
    check("supervisor" in ctl.run("user", "show", "ops-sup"), "user show")
    node = c.wait_leader()
    client = node.new_client(token="")
    conn = client.connect(30)
    conn.request("POST", "/v1/session",
                 body=json.dumps({"user": "ops-sup", "password": "a long enough password"}),
                 headers={"Content-Type": "application/json", "X-Requested-With": "contactd"})
    res = conn.getresponse()
    res.read()
    conn.close()
    check(res.status == 200 and res.getheader("Set-Cookie", "").startswith("cd_session="),
          f"signing in with the password given on stdin: {res.status}")
    ctl.run("user", "delete", "ops-sup")
    ctl.run("user", "delete", "ops-sup", rc=1)
    ctl.run("user", "show", "ops-sup", rc=1)
    log("user set (password on stdin) / list / show / delete; the user signed in")


def failures(c, ctl):
    ctl.run("contact", "frob", "1", rc=2)
    ctl.run("--bogus", rc=2)
    ctl.run("contact", "create", "--channel", "fax", rc=1)
    ctl.run("agent", "show", "nobody", rc=1)
    out = subprocess.run([CTL, "--endpoints", f"127.0.0.1:{free_ports(1)[0]}", "status"],
                         capture_output=True, text=True, timeout=30, env=ctl.env)
    check(out.returncode == 3 and "no node answered" in out.stderr, f"unreachable: {out}")
    leader = c.wait_leader()
    leader.kill()
    c.wait_leader()
    out = ctl.run("contact", "create", "--channel", "voice", "--key", "after-kill")
    check(out.startswith("contact "), f"after the leader's kill: {out}")
    check("Leader" in ctl.run("status"), "status after the kill")
    log("exit codes 1, 2, 3; the leader killed and contactctl goes on through the others")


def body(c):
    c.start()
    c.wait_ready()
    ctl = Ctl(c)
    cluster_and_model(c, ctl)
    agents_and_queues(ctl)
    contacts(ctl)
    sessions_and_webhooks(ctl)
    users(c, ctl)
    failures(c, ctl)


if __name__ == "__main__":
    if not CTL:
        raise SystemExit("CONTACTCTL must name the contactctl binary")
    run(Cluster(3, election_ms=500), body)
