"""The routing model as versioned, replicated configuration, on a 3-node cluster: validate
(changes nothing), diff against the running version, install on a follower (every node
switches at the same log index), list versions, roll back (through another follower), and
the record of who changed what, when and why (the versions, and GET /v1/audit): the actor
is the token that authenticated,
and a name the request gives (?actor=) is refused rather than recorded. An invalid model is
refused with file:line:column and the running version stays as it was; so is a comment that
is not UTF-8 text, or a body that is not UTF-8. A supervisor's token may validate and diff,
but not install or roll back."""
from harness import MODEL, Cluster, Failure, log, run, wait


def check(cond, what):
    if not cond:
        raise Failure(what)


def post_yaml(node, path, text):
    return node.request("POST", path, raw=text)


def running(node, stale=False):
    code, doc = node.request("GET", "/v1/model" + ("?stale=true" if stale else ""))
    check(code == 200, f"{node.name}: GET /v1/model answered {code} {doc}")
    return doc


def switch_index(node, version):
    code, doc = node.request("GET", "/v1/events?after=0.0&kind=model&limit=100")
    check(code == 200, f"{node.name}: events answered {code} {doc}")
    ids = [e["id"] for e in doc["events"] if e["version"] == version]
    check(len(ids) == 1, f"{node.name}: model events {doc['events']}")
    return ids[0]


def body(c):
    leader = c.start()
    c.wait_ready()
    with open(MODEL) as f:
        v1 = f.read()
    code, doc = post_yaml(leader, "/v1/model?comment=first", v1)
    check(code == 200 and doc["version"] == 1, f"install v1: {code} {doc}")
    f1, f2 = [n for n in c.live() if n is not leader]
    alice = c.make_token("alice", "admin")
    bob = c.make_token("bob", "admin")
    sup = f1.new_client(token=c.make_token("sue", "supervisor"))
    check(running(f1)["source"] == v1, "the running model's text is the installed one")

    # Validate and diff change nothing.
    code, doc = post_yaml(f1, "/v1/model/validate", v1)
    check(code == 200 and doc["valid"] and doc["queues"] == 3 and doc["agents"] == 8,
          f"validate: {code} {doc}")
    bad = v1.replace("strategy: longest-idle", "stratgy: longest-idle", 1)
    for path in ("/v1/model/validate", "/v1/model"):
        code, doc = post_yaml(f2, path, bad)
        check(code == 400 and doc["error"]["code"] == "PARSE", f"{path} bad: {code} {doc}")
        line = next(i for i, l in enumerate(bad.splitlines(), 1) if "stratgy" in l)
        check(f"model:{line}:" in doc["error"]["message"], f"position: {doc['error']}")
    code, doc = f1.request("POST", "/v1/model", raw="")
    check(code == 400, f"empty model: {code} {doc}")
    v2 = (v1.replace("skills: { sales: 5, support: 5 }", "skills: { sales: 5, support: 7 }")
            .replace("rules:\n", "rules:\n  - name: vip-chat\n    when: { channel: chat, "
                     "attribute: { tier: vip } }\n    route: { queue: sales-chat, priority: 5 }\n"))
    code, doc = post_yaml(f2, "/v1/model/diff", v2)
    check(code == 200 and doc["from_version"] == 1, f"diff: {code} {doc}")
    check("~ agents[a01].skills.support: 5 -> 7" in doc["changes"] and
          any(l.startswith("+ rules[vip-chat] at 1: ") for l in doc["changes"]) and
          len(doc["changes"]) == 2, f"diff: {doc['changes']}")
    check(running(leader)["version"] == 1, "validate and diff left version 1 running")
    log("validate and diff: errors with positions, changes listed, nothing installed")

    # Install on a follower: every node switches at the same index.
    for path in ("/v1/model?comment=x", "/v1/model/rollback"):
        code, doc = sup.request("POST", path, raw=v2 if "rollback" not in path else '{"version": 1}')
        check(code == 403 and doc["error"]["code"] == "FORBIDDEN",
              f"a supervisor on {path}: {code} {doc}")
    code, doc = sup.request("POST", "/v1/model/diff", raw=v2)
    check(code == 200, f"a supervisor's diff: {code} {doc}")
    code, doc = f1.new_client(token=alice).request("POST", "/v1/model?actor=mallory", raw=v2)
    check(code == 400 and "actor" in doc["error"]["message"],
          f"a name for the audit from the request: {code} {doc}")
    code, doc = f1.new_client(token=alice).request(
        "POST", "/v1/model?comment=more%20support", raw=v2)
    check(code == 200 and doc["version"] == 2, f"install v2: {code} {doc}")
    c.wait_converged()
    ids = {n.name: switch_index(n, 2) for n in c.live()}
    check(len(set(ids.values())) == 1, f"version 2 took effect at different entries: {ids}")
    for n in c.live():
        m = running(n, stale=True)
        check(m["version"] == 2 and m["actor"] == "token:alice", f"{n.name}: {m}")
    code, a01 = leader.request("GET", "/v1/agents/a01")
    check({"skill": "support", "level": 7} in a01["skills"], f"a01 after v2: {a01['skills']}")
    log(f"version 2 installed through {f1.name}; every node switched at entry {ids[f1.name]}")

    code, doc = leader.request("GET", "/v1/model/versions")
    check(code == 200 and [v["version"] for v in doc["items"]] == [2, 1] and doc["running"] == 2,
          f"versions: {code} {doc}")
    code, doc = leader.request("GET", "/v1/model/versions/1")
    check(code == 200 and doc["source"] == v1 and not doc["running"], f"version 1: {doc}")

    # Roll back through the other follower: version 3 is version 1's text.
    for bad_body, status in (({"version": 99}, 404), ({"version": 2}, 409),
                             ({"version": "1"}, 400), ({"version": 1, "x": 1}, 400)):
        code, doc = f2.request("POST", "/v1/model/rollback", bad_body)
        check(code == status, f"rollback {bad_body}: {code} {doc}")
    code, doc = f2.new_client(token=bob).request(
        "POST", "/v1/model/rollback", {"version": 1, "comment": "support levels were wrong"})
    check(code == 200 and doc["version"] == 3 and
          "~ agents[a01].skills.support: 7 -> 5" in doc["changes"], f"rollback: {code} {doc}")
    c.wait_converged()
    m = running(leader)
    check(m["version"] == 3 and m["rollback_of"] == 1 and m["source"] == v1, f"after: {m}")
    code, a01 = f1.request("GET", "/v1/agents/a01")
    check({"skill": "support", "level": 5} in a01["skills"], f"a01 after: {a01['skills']}")
    log("rolled back to version 1 as version 3 through another follower")

    code, doc = f1.request("GET", "/v1/model/versions")
    items = doc["items"]
    check(code == 200 and [(i["version"], i["action"], i["actor"]) for i in items] ==
          [(3, "rollback", "token:bob"), (2, "install", "token:alice"),
           (1, "install", "token:bootstrap-admin")],
          f"versions: {code} {doc}")
    check(items[0]["comment"] == "support levels were wrong" and items[1]["changes"] and
          items[2]["installed_at"] <= items[1]["installed_at"] <= items[0]["installed_at"],
          f"version details: {items}")
    code, doc = f2.request("GET", "/v1/audit?action=model_install")
    check(code == 200 and [(i["object"], i["actor"]) for i in doc["items"]] ==
          [("3", "token:bob"), ("2", "token:alice"), ("1", "token:bootstrap-admin")],
          f"audit: {code} {doc}")
    log("versions and audit: three changes with who, when, why and what")

    # Who and why must be UTF-8 text, or the version would vanish from the audit (JSON).
    v4 = v1.replace("ring_timeout: 5s", "ring_timeout: 6s")
    for query in ("comment=caf%C3", "comment=a%01b", "comment=" + "%C3%A9" * 256):
        code, doc = post_yaml(f1, "/v1/model?" + query, v4)
        check(code == 400 and doc["error"]["code"] == "INVAL" and
              doc["error"]["message"].startswith(query.split("=")[0] + ":"),
              f"install with {query[:40]}: {code} {doc}")
    for bad in ({"version": 1, "comment": "a\u0001b"}, {"version": 1, "comment": "\u00e9" * 256}):
        code, doc = f2.request("POST", "/v1/model/rollback", bad)
        check(code == 400 and doc["error"]["message"].startswith("comment:"),
              f"rollback with a bad comment: {code} {doc}")
    code, doc = post_yaml(f1, "/v1/model", v4.encode("utf-16"))
    check(code == 400 and doc["error"]["message"] ==
          "model:1:1: syntax error: invalid leading UTF-8 octet", f"UTF-16 body: {code} {doc}")
    check(running(leader)["version"] == 3, "refused installs left version 3 running")
    code, doc = f1.new_client(token=c.make_token("jose", "admin")).request(
        "POST", "/v1/model?comment=caf%C3%A9%20%E2%9C%93", raw=v4)
    check(code == 200 and doc["version"] == 4, f"install v4: {code} {doc}")
    code, doc = f2.request("GET", "/v1/model/versions")
    check(code == 200 and [(i["version"], i["actor"]) for i in doc["items"]] ==
          [(4, "token:jose"), (3, "token:bob"), (2, "token:alice"),
           (1, "token:bootstrap-admin")] and
          doc["items"][0]["comment"] == "caf\u00e9 \u2713", f"versions: {code} {doc}")
    log("comment: bad UTF-8, control characters and overlong text refused; UTF-8 kept; the "
        "actor is always the token")


if __name__ == "__main__":
    run(Cluster(3, election_ms=500), body)
