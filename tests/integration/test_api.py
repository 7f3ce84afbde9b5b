"""The API groups beyond the basics, through followers as much as the leader: defining,
re-skilling and deleting agents; transferring contacts and changing their attributes; the
routing explanation; list filters; replication as the leader reports it. Every class of bad
input (unknown fields, wrong types, out-of-range values, unknown ids, invalid state
transitions, bodies too large or not JSON) gets a JSON error with a fitting status and
changes nothing: the records are the same before and after the bad requests."""
from harness import Cluster, Failure, log, run


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
    check(got == 400 and doc["error"]["code"] == "PARSE", f"malformed JSON: {got} {doc}")
    got, doc = follower.request("POST", "/v1/contacts", None, raw="x" * (2 << 20))
    check(got == 413, f"a 2 MiB body: {got} {doc}")
    check(records(follower) == before, "bad requests changed the state")
    log(f"{len(cases) + 2} bad requests: each a JSON error with a fitting status, no change")


def body(c):
    leader = c.start()
    c.wait_ready()
    c.install_model()
    follower = next(n for n in c.live() if n is not leader)
    agents(c, follower)
    cid = contacts(c, follower)
    bad_input(c, follower, cid)  # before any agent is logged in: nothing moves with time
    queues(c, follower)
    replication(c, leader)


if __name__ == "__main__":
    run(Cluster(3, election_ms=500), body)
