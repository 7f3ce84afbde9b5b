"""The replicated core of web chat and wrap-up, through the API of a running 3-node cluster.

A chat contact is made with a pre-chat form's answers and a live session on n1; agent a01
accepts it and writes through each node in turn. A message whose answer the agent never
trusted is sent again, with the same id, after the leader is killed with SIGKILL: the new
leader's cluster answers with the first one's seq, and the transcript holds it once. The
customer's connection ends and comes back through another node (the reconnect deadline is
set, then cleared). Wrap-up refuses a disposition the model does not list and takes one with
notes. The history row shows the transcript, the disposition, the notes and the form's
answers; a reporter reads it with the personal attributes, the notes and the texts masked,
and finds the customer's contacts by attribute. The pre-chat forms are read without a
token."""
import json

from harness import Cluster, Failure, log, run, wait

EMAIL = "ada.lovelace@example.com"


def check(cond, what):
    if not cond:
        raise Failure(what)


def ask(node, token, method, path, body=None):
    client = node.new_client(token=token)
    try:
        return client.request(method, path, body)
    finally:
        client.close()


def body(c):
    c.start()
    c.wait_ready()
    c.install_model()
    leader = c.wait_leader()
    agent = c.make_token("t-a01", "agent", "a01")
    supervisor = c.make_token("t-super", "supervisor")
    reporter = c.make_token("t-reporter", "reporter")
    n1, n2, n3 = c.nodes

    # The customer's page reads the forms without a token.
    code, doc = ask(n2, "", "GET", "/v1/chat/entries/web")
    check(code == 200 and [f["key"] for f in doc["fields"]] == ["name", "email", "topic"] and
          doc["fields"][2]["options"] == ["billing", "orders"] and doc["queue"] == "support-chat",
          f"the pre-chat form: {code} {doc}")
    code, doc = ask(n3, "", "GET", "/v1/chat/entries/nosuch")
    check(code == 404, f"an unknown entry: {code} {doc}")
    code, doc = leader.request("GET", "/v1/model")
    check(code == 200 and "follow-up" in doc["dispositions"] and
          doc["chat"]["reconnect_s"] == 60 and doc["chat"]["entries"][0]["name"] == "web",
          f"the model's chat part: {doc}")

    code, doc = ask(n1, agent, "POST", "/v1/agents/a01/login", {"presence": "available"})
    check(code == 200, f"a01 logs in: {code} {doc}")
    code, doc = n1.request("POST", "/v1/contacts", {
        "channel": "chat", "key": "web-chat-1",
        "attributes": {"name": "Ada", "email": EMAIL, "topic": "billing"},
        "session": {"home": "n1", "key": "chat-token-1"}})
    check(code == 201, f"the chat is made: {code} {doc}")
    cid = doc["id"]

    def offered():
        code, doc = n2.request("GET", f"/v1/contacts/{cid}")
        return doc if code == 200 and doc["state"] == "offered" else None
    offer = wait(offered, 20, "the chat offered to a01")["offer"]
    code, doc = ask(n2, agent, "POST", f"/v1/contacts/{cid}/messages", {"id": "m-0", "text": "x"})
    check(code == 409 and doc["error"]["code"] == "STATE",
          f"no agent message before the accept: {code} {doc}")
    code, doc = ask(n3, agent, "POST", f"/v1/offers/{offer}/accept", {"agent": "a01"})
    check(code == 200, f"a01 accepts: {code} {doc}")

    # Messages through each node in turn.
    for i, node in enumerate((n1, n2, n3)):
        code, doc = ask(node, agent, "POST", f"/v1/contacts/{cid}/messages",
                        {"id": f"m-{i + 1}", "text": f"Hello Ada, message {i + 1}\non two lines"})
        check(code == 201 and doc == {"seq": i + 1, "existing": False},
              f"message {i + 1} through {node.name}: {code} {doc}")
    code, doc = ask(n2, supervisor, "POST", f"/v1/contacts/{cid}/messages",
                    {"id": "s-1", "text": "a supervisor reads only"})
    check(code == 403, f"a supervisor may not write: {code} {doc}")
    code, doc = ask(n2, agent, "POST", f"/v1/contacts/{cid}/messages", {"id": "has space",
                                                                        "text": "x"})
    check(code == 400, f"a malformed id: {code} {doc}")

    # A message sent through a follower; then the leader dies; the agent's page, unsure
    # whether it was taken, sends it again through another node.
    leader = c.wait_leader()
    follower = next(n for n in c.nodes if n is not leader)
    other = next(n for n in c.nodes if n is not leader and n is not follower)
    code, doc = ask(follower, agent, "POST", f"/v1/contacts/{cid}/messages",
                    {"id": "m-4", "text": "Let me check your bill."})
    check(code == 201 and doc["seq"] == 4, f"m-4: {code} {doc}")
    leader.kill()
    log(f"{leader.name} killed with SIGKILL")
    new = c.wait_leader()
    check(new is not leader, "a new leader")
    code, doc = ask(other, agent, "POST", f"/v1/contacts/{cid}/messages",
                    {"id": "m-4", "text": "Let me check your bill."})
    check(code == 200 and doc == {"seq": 4, "existing": True},
          f"the retry after the failover is applied once: {code} {doc}")
    code, doc = ask(follower, agent, "POST", f"/v1/contacts/{cid}/messages",
                    {"id": "m-4", "text": "Something else"})
    check(code == 409 and doc["error"]["code"] == "EXISTS", f"an id names one message: {code}")
    code, doc = ask(new, agent, "POST", f"/v1/contacts/{cid}/messages",
                    {"id": "m-5", "text": "Found it: a refund is on its way."})
    check(code == 201 and doc["seq"] == 5, f"m-5 on the new leader: {code} {doc}")
    leader.start()
    c.wait_ready()
    c.wait_converged()

    code, doc = ask(leader, agent, "GET", f"/v1/contacts/{cid}/messages?after=2&limit=2")
    check(code == 200 and doc["live"] and doc["messages"] == 5 and
          [m["seq"] for m in doc["items"]] == [3, 4] and doc["items"][1]["id"] == "m-4" and
          doc["items"][0]["from"] == "agent" and doc["items"][0]["agent"] == "a01",
          f"the live transcript from seq 2 on, on the restarted node: {code} {doc}")

    # The customer's connection drops and comes back through another node.
    code, doc = n2.request("DELETE", f"/v1/contacts/{cid}/session")
    check(code == 200, f"session end: {code} {doc}")
    code, doc = n3.request("GET", f"/v1/contacts/{cid}")
    check(code == 200 and doc["session"]["reconnect_by"] > 0, f"the chat waits: {doc}")
    code, doc = n3.request("PUT", f"/v1/contacts/{cid}/session", {"home": "n3",
                                                                  "key": "chat-token-2"})
    check(code == 200, f"session move: {code} {doc}")
    code, doc = n1.request("GET", f"/v1/contacts/{cid}")
    check(code == 200 and doc["session"]["reconnect_by"] == 0 and
          doc["session"]["home"] == "n3" and doc["state"] == "connected",
          f"back: the wait is over: {doc}")

    # Wrap-up.
    code, doc = ask(n1, agent, "POST", f"/v1/contacts/{cid}/end")
    check(code == 200, f"end: {code} {doc}")
    code, doc = ask(n2, agent, "POST", f"/v1/contacts/{cid}/wrapup-done",
                    {"disposition": "maybe"})
    check(code == 400 and "maybe" in doc["error"]["message"], f"unknown disposition: {doc}")
    notes = "Refund promised.\nCall back on Monday."
    code, doc = ask(n2, agent, "POST", f"/v1/contacts/{cid}/wrapup-done",
                    {"disposition": "follow-up", "notes": notes})
    check(code == 200, f"wrap-up done: {code} {doc}")
    c.wait_converged()

    for node in c.nodes:
        code, doc = node.request("GET", f"/v1/history/{cid}")
        check(code == 200 and doc["disposition"] == "follow-up" and doc["notes"] == notes and
              doc["key"] == "web-chat-1" and doc["attributes"]["email"] == EMAIL and
              doc["state"] == "completed" and doc["message_count"] == 5 and
              [m["id"] for m in doc["messages"]] == ["m-1", "m-2", "m-3", "m-4", "m-5"],
              f"{node.name}: the history row: {code} {doc}")
    code, doc = n3.request("GET", f"/v1/contacts/{cid}/messages?after=4")
    check(code == 200 and not doc["live"] and [m["seq"] for m in doc["items"]] == [5],
          f"the finished transcript, from the history: {code} {doc}")

    code, doc = ask(n2, reporter, "GET", f"/v1/history/{cid}")
    raw = json.dumps(doc)
    check(code == 200 and doc["attributes"]["email"] == "***" and
          doc["attributes"]["name"] == "***" and doc["attributes"]["topic"] == "billing" and
          doc["notes"] == "***" and all(m["text"] == "***" for m in doc["messages"]) and
          EMAIL not in raw and "refund" not in raw.lower() and
          doc["disposition"] == "follow-up",
          f"the reporter reads the row masked: {code} {raw[:400]}")
    code, doc = ask(n1, reporter, "GET", f"/v1/contacts/{cid}/messages")
    check(code == 200 and all(m["text"] == "***" for m in doc["items"]),
          f"and the transcript: {code} {doc}")
    code, doc = ask(n1, reporter, "GET", f"/v1/history?attr=email={EMAIL}")
    check(code == 200 and [r["id"] for r in doc["items"]] == [cid] and doc["next"] == "",
          f"the customer's contacts by attribute: {code} {doc}")
    code, doc = n3.request("GET", "/v1/history?key=web-chat-1&limit=5")
    check(code == 200 and [r["id"] for r in doc["items"]] == [cid], f"by key: {code} {doc}")
    code, doc = n3.request("GET", "/v1/history?attr=email")
    check(code == 400, f"attr without a value: {code} {doc}")
    log(f"chat {cid}: 5 messages through 3 nodes and a failover, history on every node")


if __name__ == "__main__":
    run(Cluster(3), body)
