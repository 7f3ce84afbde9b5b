"""A 3-node cluster end to end: bootstrap and elect; install the routing model; route
contacts through the API of every node (writes on followers are forwarded); idempotent
create; clear errors for bad input; add a 4th node and remove one (both in the audit);
transfer leadership; restart every node in turn. After each step every node holds the same
state."""
import os
import re

from harness import Cluster, Failure, log, run, wait


def check(cond, what):
    if not cond:
        raise Failure(what)


def route_contacts(c):
    nodes = c.live()
    for agent in ("a01", "a02", "a03"):
        code, doc = nodes[0].request("POST", f"/v1/agents/{agent}/login", {"presence": "available"})
        check(code == 200, f"login {agent}: {code} {doc}")
    ids = []
    for i in range(6):
        node = nodes[i % len(nodes)]
        code, doc = node.request("POST", "/v1/contacts",
                                 {"key": f"basic-{i}", "channel": "chat",
                                  "attributes": {"language": "en"}})
        check(code == 201 and doc["existing"] is False, f"create on {node.name}: {code} {doc}")
        ids.append(doc["id"])
    # The same key with the same request through another node names the same contact.
    code, doc = nodes[2].request("POST", "/v1/contacts",
                                 {"key": "basic-0", "channel": "chat",
                                  "attributes": {"language": "en"}})
    check(code == 200 and doc["existing"] and doc["id"] == ids[0], f"repeat key: {code} {doc}")
    # Each of the three agents holds up to 2 (a01, a02) or 3 (a03) chats: 6 are offered.
    code, doc = nodes[1].request("GET", "/v1/contacts?state=offered")
    check(code == 200 and len(doc["items"]) == 6, f"offered: {code} {doc}")
    first = doc["items"][0]
    # Accept through a follower, end, wrap up; the contact lands in history.
    code, res = nodes[2].request("POST", f"/v1/offers/{first['offer']}/accept",
                                 {"agent": first["agent"]})
    check(code == 200, f"accept: {code} {res}")
    code, res = nodes[2].request("POST", f"/v1/offers/{first['offer']}/accept",
                                 {"agent": first["agent"]})
    check(code == 409 and res["error"]["code"] == "STALE", f"second accept: {code} {res}")
    code, res = nodes[0].request("POST", f"/v1/contacts/{first['id']}/end")
    check(code == 200, f"end: {code} {res}")
    code, res = nodes[1].request("POST", f"/v1/contacts/{first['id']}/wrapup-done")
    check(code == 200, f"wrap-up done: {code} {res}")
    code, res = nodes[2].request("GET", f"/v1/contacts/{first['id']}")
    check(code == 200 and res["state"] == "completed" and res["finished"],
          f"history of {first['id']}: {code} {res}")
    log("routed 6 contacts; one completed and in history on every node")
    return ids


def bad_input(c):
    node = c.live()[0]
    cases = [
        ("POST", "/v1/contacts", '{"channel": "fax"}', 400, "INVAL"),
        ("POST", "/v1/contacts", '{"channel": ', 400, "PARSE"),
        ("POST", "/v1/contacts", '[1, 2]', 400, "INVAL"),
        ("GET", "/v1/contacts/abc", None, 400, "INVAL"),
        ("GET", "/v1/contacts/999999", None, 404, "NOTFOUND"),
        ("GET", "/v1/nothing", None, 404, "NOTFOUND"),
        ("DELETE", "/v1/contacts", None, 405, "METHOD"),
        ("POST", "/v1/agents/nobody/login", "{}", 404, "NOTFOUND"),
        ("POST", "/v1/model", "queues: [", 400, "PARSE"),
    ]
    def snapshot():
        return [node.request("GET", p)[1] for p in ("/v1/contacts", "/v1/agents", "/v1/queues")]

    before = snapshot()
    for method, path, raw, status, code in cases:
        got, doc = node.request(method, path, raw=raw)
        check(got == status and doc["error"]["code"] == code and doc["error"]["message"],
              f"{method} {path} {raw!r}: expected {status} {code}, got {got} {doc}")
    check(snapshot() == before, "bad input changed the state")
    log(f"{len(cases)} bad requests answered with JSON errors, state unchanged")


def membership(c):
    leader = c.wait_leader()
    n4 = c.new_node()
    n4.join = True
    n4.write_config(c.nodes)
    n4.start()
    code, doc = leader.request("POST", "/v1/cluster/members",
                               {"id": n4.name, "raft": n4.raft_addr, "api": n4.api_addr,
                                "peer": n4.peer_addr})
    check(code == 200, f"member add: {code} {doc}")
    sts = c.wait_converged()
    check(len(sts[0]["members"]) == 4 and all(m["role"] == "voter" for m in sts[0]["members"]),
          f"members after add: {sts[0]['members']}")
    log("n4 joined as a voter and caught up")
    # Remove a follower that is not n4, then stop it.
    leader = c.wait_leader()
    gone = next(n for n in c.nodes[:3] if n is not leader)
    code, doc = n4.request("DELETE", f"/v1/cluster/members/{gone.name}")
    if code == 503:  # n4 is not the leader: the answer says so; ask the leader
        check(doc["error"]["code"] == "NOTLEADER", f"refusal: {doc}")
        code, doc = leader.request("DELETE", f"/v1/cluster/members/{gone.name}")
    check(code == 200, f"member remove: {code} {doc}")
    gone.stop()
    c.nodes.remove(gone)
    sts = c.wait_converged()
    check(len(sts[0]["members"]) == 3, f"members after remove: {sts[0]['members']}")
    log(f"{gone.name} removed; 3 members remain")
    # Both changes are in the audit, on every node, with the principal that asked.
    for node in c.live():
        code, doc = node.request("GET", "/v1/audit?actor=token:bootstrap-admin&limit=2")
        check(code == 200 and [(i["action"], i["object"]) for i in doc["items"]] ==
              [("member_remove", gone.name), ("member_add", n4.name)],
              f"{node.name}: the audit of the membership changes: {code} {doc}")


def transfer(c):
    leader = c.wait_leader()
    target = next(n for n in c.live() if n is not leader)
    code, doc = leader.request("POST", "/v1/cluster/leader/transfer", {"id": target.name})
    check(code == 200, f"transfer: {code} {doc}")
    wait(lambda: c.leader() is target, 10, f"{target.name} leading")
    log(f"leadership moved {leader.name} -> {target.name}")


def restarts(c):
    for node in list(c.live()):
        rc = node.stop()
        check(rc == 0, f"{node.name} exited {rc} on SIGTERM")
        leader = c.wait_leader()
        code, doc = leader.request("POST", "/v1/contacts",
                                   {"key": f"while-{node.name}-down", "channel": "voice"})
        check(code == 201, f"create while {node.name} down: {code} {doc}")
        node.start()
        c.wait_ready([node])
        c.wait_converged()
        log(f"{node.name} restarted and caught up")


def log_lines(node):
    with open(os.path.join(node.dir, "contactd.log"), encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def operator_log(c):
    """Every node's log is logfmt, one event a line: its start, each leader with its term,
    the configurations it saw (with n4 added and the removed member gone), the model
    version it installed."""
    term = c.wait_leader().status()["term"]
    leader = c.leader().name
    for node in c.live():
        lines = log_lines(node)
        bad = [l for l in lines if not re.match(r"ts=\S+Z level=(debug|info|warn|error|fatal) "
                                               r"event=\w+( |$)", l)]
        check(not bad, f"{node.name}: lines not in the log's format: {bad[:3]}")
        check(any(re.search(rf"event=start node={node.name} api=\S+ raft=\S+", l)
                  for l in lines), f"{node.name}: no start line")
        check(any(f"event=leader term={term} leader={leader} " in l for l in lines),
              f"{node.name}: no line for leader {leader} in term {term}")
        check(any("event=model version=1 " in l for l in lines),
              f"{node.name}: no line for model version 1")
        check(any(re.search(r"event=members index=\d+ members=\S*n4", l) for l in lines),
              f"{node.name}: no configuration with n4")
    log(f"every node logged its start, leader {leader} in term {term}, model 1 and n4")


def main(c):
    leader = c.start()
    log(f"elected {leader.name}")
    c.install_model()
    c.wait_ready()
    bad_input(c)
    route_contacts(c)
    membership(c)
    transfer(c)
    restarts(c)
    operator_log(c)
    for node in c.live():
        code, doc = node.request("GET", "/v1/cluster/check")
        check(code == 200 and doc["ok"], f"{node.name} invariants: {doc}")


if __name__ == "__main__":
    run(Cluster(3), main)
