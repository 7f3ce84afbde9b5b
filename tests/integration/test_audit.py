"""The audit on a 3-node cluster: changes made by two principals (an admin token and a
supervisor token) — a model install, agents, a queue paused and resumed, a contact
transferred, a token made and revoked, a leadership transfer — are recorded with the
principal that authenticated, and GET /v1/audit finds them by actor, action, object and
time window, newest first and page by page, the same on every node. Then a follower is
killed while many more changes are made and the others snapshot past it; restarted, it
catches up by installing a snapshot and copies the audit records it missed from a member,
after which its audit equals the others' record for record, and its digest theirs."""
from harness import MODEL, Cluster, Failure, log, run, wait


def check(cond, what):
    if not cond:
        raise Failure(what)


def ok(client, method, path, body=None, status=200, raw=None):
    code, doc = client.request(method, path, body, raw=raw)
    check(code == status, f"{method} {path}: {code} {doc}")
    return doc


def key(item):
    index, n = item["id"].split(".")
    return int(index), int(n)


def audit_all(node, query="", limit=7):
    """Every record a query selects, page by page (small pages: the paging is tested)."""
    items, before = [], None
    for _ in range(10000):
        path = f"/v1/audit?limit={limit}" + (f"&{query}" if query else "")
        code, doc = node.request("GET", path + (f"&before={before}" if before else ""))
        check(code == 200, f"{node.name}: GET {path}: {code} {doc}")
        items += doc["items"]
        before = doc["next"]
        if before is None:
            return items
    raise Failure(f"{node.name}: paging {query} never ended")


def same_everywhere(c, query="", page=7):
    """The records a query selects, checked equal on every live node (each answers from its
    own storage), in one page and in pages of page records."""
    lists = []
    for node in c.live():
        code, doc = node.request("GET", "/v1/audit?limit=1000" + (f"&{query}" if query else ""))
        check(code == 200 and doc["next"] is None and doc["complete"],
              f"{node.name}: audit {query}: {code} {doc}")
        check(audit_all(node, query, page) == doc["items"],
              f"{node.name}: pages differ for {query}")
        lists.append(doc["items"])
    check(all(lst == lists[0] for lst in lists), f"audit {query} differs between nodes: {lists}")
    items = lists[0]
    check([key(i) for i in items] == sorted((key(i) for i in items), reverse=True) and
          [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True),
          f"not newest first: {items}")
    return items


def changes(c, admin, sup, leader_admin):
    """The changes of the first part; returns the new leader's name."""
    ok(admin, "POST", "/v1/model?comment=first", raw=open(MODEL).read())
    ok(admin, "PUT", "/v1/agents/z1", {"site": "lab", "skills": {"support": 5},
                                       "capacity": {"chat": 1}, "queues": ["support-chat"]})
    doc = ok(admin, "POST", "/v1/tokens", {"name": "ci", "role": "integration"}, status=201)
    ok(admin, "DELETE", f"/v1/tokens/{doc['id']}")
    ok(sup, "POST", "/v1/queues/support-chat/pause")
    ok(sup, "PUT", "/v1/agents/z2", {"site": "lab", "skills": {"sales": 3},
                                     "capacity": {"chat": 1}, "queues": ["support-chat"]})
    doc = ok(sup, "POST", "/v1/contacts", {"channel": "chat", "key": "audit-1"}, status=201)
    ok(sup, "POST", f"/v1/contacts/{doc['id']}/transfer", {"queue": "sales-chat"})
    ok(sup, "POST", "/v1/queues/support-chat/resume")
    doc = ok(leader_admin, "POST", "/v1/cluster/leader/transfer", {})
    check(doc["ok"] and doc["audited"], f"leader transfer: {doc}")
    return c.wait_leader().name, doc


def queries(c, new_leader):
    everything = same_everywhere(c)
    admin = same_everywhere(c, "actor=token:ops-admin")
    check([i["action"] for i in admin] ==
          ["leader_transfer", "token_revoke", "token_create", "agent_upsert", "model_install"],
          f"the admin's records: {admin}")
    check(admin[0]["object"] == new_leader and admin[1]["object"] == "ci" and
          admin[3]["object"] == "z1" and admin[3]["agent"] == "z1" and
          admin[4]["object"] == "1", f"the admin's objects: {admin}")
    sup = same_everywhere(c, "actor=token:floor-sue")
    check([i["action"] for i in sup] ==
          ["queue_resume", "contact_transfer", "agent_upsert", "queue_pause"],
          f"the supervisor's records: {sup}")
    check(sup[1]["contact"] == int(sup[1]["object"]), f"a transfer names its contact: {sup}")
    # Nobody else changed anything: the node made the first admin token (actor ""), which
    # made the two tokens.
    others = [(i["actor"], i["action"], i["object"]) for i in everything
              if i["actor"] not in ("token:ops-admin", "token:floor-sue")]
    check(others == [("token:bootstrap-admin", "token_create", "floor-sue"),
                     ("token:bootstrap-admin", "token_create", "ops-admin"),
                     ("", "token_create", "bootstrap-admin")], f"other records: {others}")
    by_object = same_everywhere(c, "object=support-chat")
    check([(i["action"], i["actor"]) for i in by_object] ==
          [("queue_resume", "token:floor-sue"), ("queue_pause", "token:floor-sue")],
          f"by object: {by_object}")
    check([i["action"] for i in same_everywhere(c, "object=z2&actor=token:floor-sue")] ==
          ["agent_upsert"], "by object and actor")
    check(same_everywhere(c, "action=token_create&object=ci")[0]["actor"] == "token:ops-admin",
          "by action and object")
    log(f"{len(everything)} records, by actor and object, the same on every node")

    # A time window: from the supervisor's pause to its transfer, both included.
    lo, hi = sup[3]["at"], sup[1]["at"]
    window = same_everywhere(c, f"from={lo}&to={hi}")
    check(window == [i for i in everything if lo <= i["at"] <= hi] and
          {"queue_pause", "contact_transfer"} <= {i["action"] for i in window},
          f"window [{lo}, {hi}]: {window}")
    check(same_everywhere(c, f"from={everything[0]['at'] + 1}") == [], "after the newest")
    log(f"time window [{lo}, {hi}]: {len(window)} records")

    node = c.live()[0]
    for path, status in (("/v1/audit?before=12", 400), ("/v1/audit?before=0.0", 400),
                         ("/v1/audit?from=5&to=4", 400), ("/v1/audit?limit=0", 400),
                         ("/v1/audit?limit=1001", 400), ("/v1/audit?actor=a%20b", 400),
                         ("/v1/audit?who=x", 400), ("/v1/audit?stale=true", 200)):
        code, doc = node.request("GET", path)
        check(code == status, f"{path}: {code} {doc}")
    for role in ("reporter", "agent"):
        token = c.make_token(f"audit-{role}", role, agent="a01" if role == "agent" else None)
        code, doc = node.new_client(token=token).request("GET", "/v1/audit")
        check(code == 403, f"a {role} reads the audit: {code} {doc}")
    log("bad queries refused; reporters and agents may not read the audit")


def audit_state(c):
    """Every node's (applied index, audit digest, rows, complete) once all agree."""
    sts = [n.status() for n in c.live()]
    keys = {(s["applied_index"], s["audit"]["digest"], s["audit"]["rows"],
             s["audit"]["complete"]) for s in sts}
    return keys.pop() if len(keys) == 1 else None


def catch_up(c, admin_secret, sup_secret):
    leader = c.wait_leader()
    lagger = next(n for n in c.nodes if n is not leader)
    c.wait_converged()
    before = lagger.status()
    lagger.kill()
    others = c.live()
    log(f"{lagger.name} killed at applied index {before['applied_index']}")
    sup = [n.new_client(token=sup_secret) for n in others]
    admin = [n.new_client(token=admin_secret) for n in others]
    for i in range(60):
        ok(sup[i % 2], "POST", f"/v1/queues/support-chat/{'pause' if i % 2 == 0 else 'resume'}")
        ok(admin[i % 2], "PUT", f"/v1/agents/y{i}", {"skills": {"support": 1 + i % 9}})
    target = next(n for n in others if n is not c.wait_leader())
    doc = ok(c.wait_leader().new_client(token=admin_secret), "POST",
             "/v1/cluster/leader/transfer", {"id": target.name})
    check(doc["audited"], f"transfer while {lagger.name} is down: {doc}")
    st = c.wait_leader().status()
    check(st["snapshot_index"] > before["applied_index"] + 16,
          f"the leader took no snapshot past {lagger.name}: {st}")
    log(f"121 changes while {lagger.name} was down; snapshot at {st['snapshot_index']}")

    lagger.start()
    c.wait_ready([lagger], timeout=60)
    state = wait(lambda: audit_state(c), 60, "every node with the same audit")
    check(state[3], f"the audit is still incomplete: {state}")
    mine = lagger.status()
    check(mine["snapshot_index"] > before["applied_index"],
          f"{lagger.name} did not install a snapshot: {mine}")
    check(mine["history"]["gaps"] >= 1, f"{lagger.name} recorded no gap: {mine['history']}")
    everything = same_everywhere(c, page=40)
    missed = [i for i in everything if key(i)[0] > before["applied_index"]]
    check(len(missed) >= 121 and
          any(i["action"] == "leader_transfer" and i["object"] == target.name for i in missed),
          f"the records of the entries {lagger.name} skipped: {len(missed)}")
    for query in ("actor=token:floor-sue&object=support-chat", "action=agent_upsert",
                  f"from={missed[-1]['at']}&to={missed[0]['at']}"):
        same_everywhere(c, query, page=40)
    log(f"{lagger.name} copied the {len(missed)} records it missed: {state[2]} records, digest "
        f"{state[1]} on every node")


def main(c):
    c.start()
    c.wait_ready()
    admin_secret = c.make_token("ops-admin", "admin")
    sup_secret = c.make_token("floor-sue", "supervisor")
    leader = c.wait_leader()
    f1, f2 = [n for n in c.nodes if n is not leader]
    new_leader, _ = changes(c, f1.new_client(token=admin_secret),
                            f2.new_client(token=sup_secret),
                            leader.new_client(token=admin_secret))
    check(new_leader != leader.name, f"leadership stayed on {leader.name}")
    c.wait_converged()
    queries(c, new_leader)
    catch_up(c, admin_secret, sup_secret)


if __name__ == "__main__":
    run(Cluster(3, snapshot_threshold=64, snapshot_trailing=16, snapshot_growth=False), main)
