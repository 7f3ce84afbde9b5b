"""The API groups beyond the basics, through followers as much as the leader: defining,
re-skilling and deleting agents; transferring contacts and changing their attributes; the
routing explanation; list filters; replication as the leader reports it. Every class of bad
input (unknown fields, wrong types, out-of-range values, unknown ids, invalid state
transitions, bodies too large or not JSON; names outside the name character set, ids that
are not plain decimal, malformed or unknown query parameters, duplicate JSON keys, an
idempotency key reused for another request, members with bad addresses) gets a JSON error
with a fitting status and changes nothing: the records are the same before and after the
bad requests. A member add that fails leaves the membership as it was."""
import os
import time

from harness import Cluster, Failure, free_ports, log, run, wait


def check(cond, what):
    if not cond:
        raise Failure(what)


def expect(node, method, path, body, status, code=None):
    got, doc = node.request(method, path, body)
    check(got == status, f"{method} {path} {body}: expected {status}, got {got} {doc}")
    if code is not None:
        check(doc["error"]["code"] == code, f"{method} {path}: error {doc}, expected {code}")
    return doc


def records(node):
    """What a bad request must not change: the contacts, agents and queues. (The state
    digest would change: a refused command still moves the replicated clock.)"""
    return [node.request("GET", p)[1] for p in ("/v1/contacts", "/v1/agents", "/v1/queues",
                                                 "/v1/history")]


def agents(c, follower):
    expect(follower, "PUT", "/v1/agents/z01",
           {"site": "three", "skills": {"support": 7, "english": 3},
            "capacity": {"chat": 2, "voice": 1}, "queues": ["support-chat"]}, 200)
    doc = expect(c.nodes[0], "GET", "/v1/agents/z01", None, 200)
    check(doc["site"] == "three" and {"skill": "support", "level": 7} in doc["skills"],
          f"new agent: {doc}")
    expect(follower, "PUT", "/v1/agents/z01/skills", {"skills": {"support": 9}}, 200)
    doc = expect(c.nodes[2], "GET", "/v1/agents/z01", None, 200)
    check(doc["skills"] == [{"skill": "support", "level": 9}], f"re-skilled: {doc['skills']}")
    expect(follower, "POST", "/v1/agents/z01/login", {"presence": "available"}, 200)
    expect(follower, "DELETE", "/v1/agents/z01", None, 409)  # logged in
    expect(follower, "POST", "/v1/agents/z01/logout", {}, 200)
    expect(follower, "DELETE", "/v1/agents/z01", None, 200)
    expect(c.nodes[0], "GET", "/v1/agents/z01", None, 404, "NOTFOUND")
    log("agents: defined, re-skilled, logged in and out, deleted, through a follower")


def contacts(c, follower):
    doc = expect(follower, "POST", "/v1/contacts",
                 {"key": "api-1", "channel": "chat", "attributes": {"language": "en"}}, 201)
    cid = doc["id"]
    doc = expect(c.nodes[0], "GET", f"/v1/contacts/{cid}/explain", None, 200)
    check("chat-to-support" in doc["explanation"], f"explanation: {doc}")
    expect(follower, "PUT", f"/v1/contacts/{cid}/attributes",
           {"attributes": {"tier": "gold", "language": ""}}, 200)
    doc = expect(c.nodes[1], "GET", f"/v1/contacts/{cid}", None, 200)
    check(doc["attributes"] == {"tier": "gold"}, f"attributes: {doc['attributes']}")
    expect(follower, "POST", f"/v1/contacts/{cid}/transfer", {"queue": "sales-voice"}, 400,
           "INVAL")  # a voice queue does not take a chat
    expect(follower, "POST", f"/v1/contacts/{cid}/transfer", {"queue": "sales-chat"}, 200)
    doc = expect(c.nodes[2], "GET", f"/v1/contacts/{cid}", None, 200)
    check(doc["queue"] == "sales-chat" and doc["state"] == "queued", f"transferred: {doc}")
    expect(follower, "POST", "/v1/contacts", {"key": "api-2", "channel": "voice"}, 201)
    doc = expect(c.nodes[0], "GET", "/v1/contacts?channel=voice", None, 200)
    check(doc["total"] == 1 and doc["items"][0]["channel"] == "voice", f"voice only: {doc}")
    doc = expect(c.nodes[0], "GET", "/v1/contacts?min_age_ms=3600000", None, 200)
    check(doc["total"] == 0, f"none an hour old: {doc}")
    doc = expect(c.nodes[0], "GET", "/v1/contacts?limit=1", None, 200)
    check(len(doc["items"]) == 1 and doc["total"] == 2, f"limit and total: {doc}")
    log("contacts: explained, attributes changed, transferred, filtered")
    return cid


def queues(c, follower):
    # a02 takes the voice call waiting from above (and, ringing, is blocked for chats).
    expect(follower, "POST", "/v1/agents/a02/login", {"presence": "available"}, 200)
    expect(follower, "POST", "/v1/queues/support-chat/pause", None, 200)
    doc = expect(c.nodes[0], "GET", "/v1/queues/support-chat", None, 200)
    check(doc["paused"], f"paused: {doc}")
    expect(follower, "POST", "/v1/agents/a03/login", {"presence": "available"}, 200)
    doc = expect(follower, "POST", "/v1/contacts", {"key": "paused-1", "channel": "chat"}, 201)
    pid = doc["id"]
    doc = expect(c.nodes[1], "GET", f"/v1/contacts/{pid}", None, 200)
    check(doc["state"] == "queued", f"no offer from a paused queue: {doc}")
    expect(follower, "POST", "/v1/queues/support-chat/pause", None, 409)
    expect(follower, "POST", "/v1/queues/support-chat/resume", None, 200)
    doc = expect(c.nodes[2], "GET", f"/v1/contacts/{pid}", None, 200)
    check(doc["state"] == "offered" and doc["agent"] == "a03", f"after the resume: {doc}")
    doc = expect(c.nodes[2], "GET", "/v1/queues/support-chat", None, 200)
    check(not doc["paused"] and doc["today"]["offered"] >= 1, f"resumed: {doc}")
    expect(follower, "POST", "/v1/queues/nowhere/pause", None, 404)
    log("queues: paused (contacts wait), resumed (offers again), through a follower")


def replication(c, leader):
    doc = expect(leader, "GET", "/v1/cluster", None, 200)
    for m in doc["members"]:
        check(m["match_index"] > 0 and m["lag"] >= 0 and m["reachable"], f"member {m}")
    follower = next(n for n in c.live() if n is not leader)
    doc = expect(follower, "GET", "/v1/cluster", None, 200)
    check(all("match_index" not in m for m in doc["members"]), "followers do not guess lag")
    log("replication: the leader reports every member's match index and lag")


def bad_input(c, follower, cid):
    before = records(follower)
    cases = [
        ("POST", "/v1/contacts", {"channel": "chat", "colour": "red"}, 400, "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "priority": "high"}, 400, "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "priority": 5000}, 400, "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "queue": "nowhere"}, 404, "NOTFOUND"),
        ("PUT", "/v1/agents/z02", {"skills": {"support": 11}}, 400, "INVAL"),
        ("PUT", "/v1/agents/z02", {"capacity": {"fax": 1}}, 400, "INVAL"),
        ("PUT", "/v1/agents/z02", {"queues": "support-chat"}, 400, "INVAL"),
        ("PUT", "/v1/agents/z02", {"skills": {"juggling": 3}}, 400, "INVAL"),
        ("PUT", "/v1/agents/z02", {"site": 3}, 400, "INVAL"),
        ("PUT", "/v1/agents/a01/skills", {}, 400, "INVAL"),
        ("PUT", "/v1/agents/nobody/skills", {"skills": {"support": 2}}, 404, "NOTFOUND"),
        ("DELETE", "/v1/agents/nobody", None, 404, "NOTFOUND"),
        ("POST", f"/v1/contacts/{cid}/transfer", {"queue": "a", "agent": "b"}, 400, "INVAL"),
        ("POST", f"/v1/contacts/{cid}/transfer", {}, 400, "INVAL"),
        ("POST", "/v1/contacts/999999/transfer", {"queue": "support-chat"}, 404, "NOTFOUND"),
        ("PUT", f"/v1/contacts/{cid}/attributes", {"attributes": {"a": 1}}, 400, "INVAL"),
        ("PUT", f"/v1/contacts/{cid}/attributes", {"other": {}}, 400, "INVAL"),
        ("GET", "/v1/contacts/999999/explain", None, 404, "NOTFOUND"),
        ("GET", "/v1/contacts?channel=fax", None, 400, "INVAL"),
        ("GET", "/v1/contacts?min_age_ms=-1", None, 400, "INVAL"),
        ("POST", f"/v1/contacts/{cid}/wrapup-done", None, 409, None),  # not in wrap-up
        ("POST", "/v1/offers/999999/accept", {"agent": "a01"}, 409, None),
    ]
    for method, path, body, status, code in cases:
        expect(follower, method, path, body, status, code)
    got, doc = follower.request("POST", "/v1/contacts", None, raw='{"channel": "chat",')
    with open(os.path.join(follower.dir, "contactd.log"), encoding="utf-8") as f:
        refused = [l for l in f if " event=refused status=400 code=PARSE method=POST "
                   "path=/v1/contacts " in l]
    check(refused, "the malformed request was not logged at debug")
    check(got == 400 and doc["error"]["code"] == "PARSE", f"malformed JSON: {got} {doc}")
    got, doc = follower.request("POST", "/v1/contacts", None, raw="x" * (2 << 20))
    check(got == 413, f"a 2 MiB body: {got} {doc}")
    check(records(follower) == before, "bad requests changed the state")
    log(f"{len(cases) + 2} bad requests: each a JSON error with a fitting status, no change")


def expect_all(node, cases):
    for method, path, body, status, code, *raw in cases:
        got, doc = node.request(method, path, body, raw=raw[0] if raw else None)
        check(got == status and doc is not None and doc["error"]["code"] == code
              and doc["error"]["message"],
              f"{method} {path} {body or raw}: expected {status} {code}, got {got} {doc}")


def bad_names(c, node):
    """Names (agents, queues, skills, attribute keys, reason codes, idempotency keys,
    actors) are letters, digits and - _ . / + : @; text is UTF-8 without control
    characters. Percent-decoded path segments and query values too."""
    cases = [
        ("PUT", "/v1/agents/%FF%FE", {}, 400, "INVAL"),
        ("PUT", "/v1/agents/a%0Ab", {}, 400, "INVAL"),
        ("PUT", "/v1/agents/a%22b", {}, 400, "INVAL"),
        ("PUT", "/v1/agents/a%20b", {}, 400, "INVAL"),
        ("PUT", "/v1/agents/" + "x" * 64, {}, 400, "INVAL"),
        ("PUT", "/v1/agents/" + "x" * 300, {}, 400, "INVAL"),
        ("GET", "/v1/agents/%FF%FE", None, 400, "INVAL"),
        ("POST", "/v1/agents/a%0A01/login", {}, 400, "INVAL"),
        ("POST", "/v1/queues/support%0A/pause", None, 400, "INVAL"),
        ("DELETE", "/v1/cluster/members/n%FF", None, 400, "INVAL"),
        ("PUT", "/v1/agents/z03", {"queues": ["support chat"]}, 400, "INVAL"),
        ("PUT", "/v1/agents/z03", {"skills": {"bad\nskill": 2}}, 400, "INVAL"),
        ("PUT", "/v1/agents/z03", {"site": "line\nbreak"}, 400, "INVAL"),
        ("PUT", "/v1/agents/a01/skills", {"skills": {"sup\"port": 2}}, 400, "INVAL"),
        ("POST", "/v1/agents/a01/state", {"presence": "away", "reason": "long lunch"}, 400,
         "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "key": 'k"1'}, 400, "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "key": "k\n1"}, 400, "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "queue": "support chat"}, 400, "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "skills": [{"skill": "a b"}]}, 400,
         "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "attributes": {"bad key": "v"}}, 400,
         "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "attributes": {"k": "a\u0007b"}}, 400,
         "INVAL"),
        ("POST", "/v1/offers/1/accept", {"agent": "a\u00e901"}, 400, "INVAL"),
        ("GET", "/v1/contacts?queue=%FF", None, 400, "INVAL"),
        ("GET", "/v1/contacts?agent=a%0A", None, 400, "INVAL"),
        ("GET", "/v1/events?agent=%22", None, 400, "INVAL"),
        ("POST", "/v1/model?actor=ok", None, 400, "INVAL", "queues: {}"),
        ("POST", "/v1/model?comment=a%0Ab", None, 400, "INVAL", "queues: {}"),
        ("POST", "/v1/model?comment=%FF%FE", None, 400, "INVAL", "queues: {}"),
        # Bodies: jansson takes only UTF-8, and no NUL.
        ("POST", "/v1/contacts", None, 400, "PARSE", b'{"channel": "chat", "key": "\xff\xfe"}'),
        ("POST", "/v1/contacts", None, 400, "PARSE", '{"channel": "chat", "key": "a\\u0000"}'),
    ]
    expect_all(node, cases)
    return len(cases)


def bad_ids(c, node, cid):
    """One strict parser for every id in a path or query: no sign, leading zero, space or
    overflow (each of these once read as contact 1)."""
    cases = []
    for text in (f"+{cid}", f"0{cid}", f"%20{cid}", f"{cid}%20", "-1844674407370955161",
                 "18446744073709551617", "0", "1e0", "0x1"):
        cases += [
            ("GET", f"/v1/contacts/{text}", None, 400, "INVAL"),
            ("GET", f"/v1/contacts/{text}/explain", None, 400, "INVAL"),
            ("POST", f"/v1/contacts/{text}/abandon", None, 400, "INVAL"),
            ("PUT", f"/v1/contacts/{text}/attributes", {"attributes": {"a": "b"}}, 400, "INVAL"),
            ("POST", f"/v1/offers/{text}/accept", {"agent": "a01"}, 400, "INVAL"),
            ("GET", f"/v1/model/versions/{text}", None, 400, "INVAL"),
            ("GET", f"/v1/events?contact={text}", None, 400, "INVAL"),
        ]
    cases += [
        ("GET", "/v1/events?after=01.0", None, 400, "INVAL"),
        ("GET", "/v1/events?after=1.+0", None, 400, "INVAL"),
        ("GET", "/v1/events?after=1.4294967296", None, 400, "INVAL"),
    ]
    expect_all(node, cases)
    return len(cases)


def bad_queries(c, node):
    """from, to, limit and the other numbers are decimal and in range; a parameter a route
    does not take, or one given twice, is refused like an unknown body field."""
    cases = [
        ("GET", "/v1/history?from=abc", None, 400, "INVAL"),
        ("GET", "/v1/history?to=abc", None, 400, "INVAL"),
        ("GET", "/v1/history?to=-1", None, 400, "INVAL"),
        ("GET", "/v1/history?from=", None, 400, "INVAL"),
        ("GET", "/v1/history?from=5&to=4", None, 400, "INVAL"),
        ("GET", "/v1/history?limit=0", None, 400, "INVAL"),
        ("GET", "/v1/history?limit=1x", None, 400, "INVAL"),
        ("GET", "/v1/contacts?limit=+5", None, 400, "INVAL"),
        ("GET", "/v1/contacts?limit=1000001", None, 400, "INVAL"),
        ("GET", "/v1/contacts?min_age_ms=%201", None, 400, "INVAL"),
        ("GET", "/v1/agents?limit=abc", None, 400, "INVAL"),
        ("GET", "/v1/events?limit=abc", None, 400, "INVAL"),
        ("GET", "/v1/events?wait_ms=-1", None, 400, "INVAL"),
        ("GET", "/v1/events?wait_ms=60001", None, 400, "INVAL"),
        ("GET", "/v1/contacts?colour=red", None, 400, "INVAL"),
        ("GET", "/v1/contacts?limit=1&limit=2", None, 400, "INVAL"),
        ("GET", "/v1/contacts?stale=yes", None, 400, "INVAL"),
        ("GET", "/v1/agents/a01?state=queued", None, 400, "INVAL"),
        ("GET", "/v1/history?state=queued", None, 400, "INVAL"),
        ("GET", "/v1/cluster?x=1", None, 400, "INVAL"),
        ("GET", "/v1/events?after=now&stale=true", None, 400, "INVAL"),
        ("POST", "/v1/contacts?x=1", {"channel": "chat"}, 400, "INVAL"),
        ("POST", "/v1/queues/support-chat/pause?force=1", None, 400, "INVAL"),
    ]
    expect_all(node, cases)
    for path in ("/v1/history?from=0&to=9223372036854775807&limit=5",
                 "/v1/contacts?stale=false&limit=1&&", "/v1/events?after=now&limit=1"):
        got, doc = node.request("GET", path)
        check(got == 200, f"GET {path}: {got} {doc}")
    return len(cases)


def bad_fields(c, node, cid):
    """Unknown fields are refused on every endpoint; so is a JSON key given twice."""
    cases = [
        ("POST", "/v1/agents/a01/login", {"presence": "available", "colour": 1}, 400, "INVAL"),
        ("POST", "/v1/agents/a01/state", {"presence": "away", "x": 1}, 400, "INVAL"),
        ("POST", "/v1/agents/a01/logout", {"presence": "away"}, 400, "INVAL"),
        ("POST", "/v1/offers/999999/accept", {"agent": "a01", "x": 1}, 400, "INVAL"),
        ("POST", "/v1/offers/999999/reject", {"agent": "a01", "x": 1}, 400, "INVAL"),
        ("POST", "/v1/cluster/leader/transfer", {"x": 1}, 400, "INVAL"),
        ("POST", "/v1/cluster/members",
         {"id": "n9", "raft": "127.0.0.1:1", "api": "127.0.0.1:2", "peer": "127.0.0.1:3", "x": 1},
         400, "INVAL"),
        ("DELETE", "/v1/cluster/members/n3", {"x": 1}, 400, "INVAL"),
        ("POST", f"/v1/contacts/{cid}/abandon", {"reason": "x"}, 400, "INVAL"),
        ("POST", "/v1/queues/support-chat/pause", {"x": 1}, 400, "INVAL"),
        ("DELETE", "/v1/agents/a01", {"x": 1}, 400, "INVAL"),
        ("POST", "/v1/contacts", {"channel": "chat", "skills": [{"skill": "support", "x": 1}]},
         400, "INVAL"),
        ("POST", "/v1/contacts", None, 400, "PARSE", '{"channel": "chat", "channel": "voice"}'),
        ("PUT", "/v1/agents/z03", None, 400, "PARSE", '{"site": "a", "site": "b"}'),
        ("POST", "/v1/agents/a01/login", None, 400, "PARSE",
         '{"presence": "available", "presence": "away"}'),
    ]
    expect_all(node, cases)
    return len(cases)


def bad_members(c, leader):
    """Member adds with a bad id or address are 400s, on the leader as on a follower."""
    cases = []
    def add(**kw):
        return dict({"id": "n9", "raft": "127.0.0.1:9000", "api": "127.0.0.1:9001",
                     "peer": "127.0.0.1:9002"}, **kw)
    for raft in ("127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:080",
                 "127.0.0.1:+80", "localhost:9000", "::1:9000", "[::1]", "[127.0.0.1]:9000",
                 "127.0.0.1:9000|x", "", "1.2.3:9000"):
        cases.append(("POST", "/v1/cluster/members", add(raft=raft), 400, "INVAL"))
    cases += [
        ("POST", "/v1/cluster/members", add(api="127.0.0.1"), 400, "INVAL"),
        ("POST", "/v1/cluster/members", add(peer="127.0.0.1:9002|x"), 400, "INVAL"),
        ("POST", "/v1/cluster/members", add(peer="127.0.0.1:9001"), 400, "INVAL"),
        ("POST", "/v1/cluster/members", add(id="n 9"), 400, "INVAL"),
        ("POST", "/v1/cluster/members", add(id="n9|x"), 400, "INVAL"),
        ("POST", "/v1/cluster/members", {"id": "n9", "raft": "127.0.0.1:9000"}, 400, "INVAL"),
        ("POST", "/v1/cluster/members",
         {"id": "n9", "raft": "127.0.0.1:9000", "api": "127.0.0.1:9001"}, 400, "INVAL"),
        ("POST", "/v1/cluster/members", add(id="n2"), 409, "EXISTS"),
        ("POST", "/v1/cluster/members", add(raft=c.nodes[1].raft_addr), 409, "EXISTS"),
        ("POST", "/v1/cluster/members", add(peer=c.nodes[1].peer_addr), 409, "EXISTS"),
        ("POST", "/v1/cluster/members", add(api=c.nodes[1].peer_addr), 409, "EXISTS"),
    ]
    expect_all(leader, cases)
    return len(cases)


def members(node):
    return sorted((m["id"], m["raft"], m["api"], m["peer"], m["role"])
                  for m in node.status()["members"])


def bad_input_more(c, leader, follower, cid):
    before, before_members = records(follower), members(leader)
    term = leader.status()["term"]
    n = bad_names(c, follower) + bad_ids(c, follower, cid) + bad_queries(c, follower)
    n += bad_fields(c, follower, cid) + bad_fields(c, leader, cid) + bad_members(c, leader)
    check(records(follower) == before, "bad requests changed the state")
    check(members(leader) == before_members, "bad requests changed the membership")
    st = leader.status()
    check(st["role"] == "leader" and st["term"] == term, f"the leader changed: {st}")
    doc = expect(c.nodes[0], "GET", "/v1/model", None, 200)
    check(doc["version"] == 1, f"a refused install installed: {doc['version']}")
    log(f"{n} more bad requests (names, ids, queries, fields, members): refused, no change")


def idempotency(c, leader, follower):
    """A key names the contact its first request created: the same request again (in any
    member order, on any node, after the contact finished) gets it back; another request
    with the key is 409."""
    first = {"key": "idem-1", "channel": "chat", "priority": 3,
             "attributes": {"language": "en", "tier": "gold"}}
    doc = expect(follower, "POST", "/v1/contacts", first, 201)
    cid = doc["id"]
    doc = expect(leader, "POST", "/v1/contacts", first, 200)
    check(doc == {"id": cid, "existing": True}, f"the same request again: {doc}")
    same = {"attributes": {"tier": "gold", "language": "en"}, "priority": 3, "channel": "chat",
            "key": "idem-1"}
    doc = expect(follower, "POST", "/v1/contacts", same, 200)
    check(doc == {"id": cid, "existing": True}, f"the same request reordered: {doc}")
    expect(follower, "POST", f"/v1/contacts/{cid}/abandon", None, 200)  # the queue is as it was
    before = records(follower)
    others = [dict(first, channel="voice"), dict(first, priority=4),
              dict(first, attributes={"language": "en"}), dict(first, queue="support-chat"),
              {"key": "idem-1", "channel": "chat"}]
    for other in others:
        for node in (follower, leader):
            doc = expect(node, "POST", "/v1/contacts", other, 409, "EXISTS")
            check(str(cid) in doc["error"]["message"], f"409 names the contact: {doc}")
    doc = expect(leader, "POST", "/v1/contacts", same, 200)
    check(doc == {"id": cid, "existing": True}, f"the same request after the end: {doc}")
    check(records(follower) == before, "a refused key changed the state")
    log("idempotency: the same request gets its contact, another one with the key is 409")


def failed_member_add(c, leader):
    """A node that never answers cannot become a voter: the add fails after raft's catch-up
    limit and takes the half-added member out again."""
    before = members(leader)
    raft_port, api_port, peer_port = free_ports(3)
    client = leader.new_client(60)  # raft gives up after 5 s without answers
    t0 = time.monotonic()
    got, doc = client.request("POST", "/v1/cluster/members",
                              {"id": "ghost", "raft": f"127.0.0.1:{raft_port}",
                               "api": f"127.0.0.1:{api_port}",
                               "peer": f"127.0.0.1:{peer_port}"})
    log(f"ghost add answered after {time.monotonic() - t0:.1f}s: {got} {doc}")
    client.close()
    check(got == 504 and doc["error"]["code"] == "TIMEDOUT"
          and "removed again" in doc["error"]["message"], f"ghost add: {got} {doc}")
    for node in c.live():
        wait(lambda: members(node) == before, 10, f"{node.name} without the ghost")
    expect(leader, "POST", "/v1/contacts", {"key": "after-ghost", "channel": "chat"}, 201)
    log("a member add that fails leaves the membership as it was")


def body(c):
    leader = c.start()
    c.wait_ready()
    c.install_model()
    follower = next(n for n in c.live() if n is not leader)
    agents(c, follower)
    cid = contacts(c, follower)
    bad_input(c, follower, cid)  # before any agent is logged in: nothing moves with time
    bad_input_more(c, leader, follower, cid)
    idempotency(c, leader, follower)
    queues(c, follower)
    replication(c, leader)
    failed_member_add(c, leader)


if __name__ == "__main__":
    run(Cluster(3, election_ms=500, log_level="debug"), body)
