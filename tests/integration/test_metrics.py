"""/metrics on every node of a 3-node cluster: valid Prometheus text (every sample under
its HELP and TYPE, histograms with rising cumulative buckets ending in +Inf = count), and
figures that agree with the API: the Raft role of each node, live contacts by channel and
state, queue sizes, agents by state, applied entries and their latency on the leader, and
answers by status class."""
import http.client
import re

from harness import Cluster, Failure, log, run, wait

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*)\})? (\S+)$')


def check(cond, what):
    if not cond:
        raise Failure(what)


def parse(text):
    """{(name, labels): value}, checking the exposition format as it goes."""
    declared, values = {}, {}
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            check(len(parts) == 4, f"line {n}: {line!r}")
            if parts[1] == "TYPE":
                check(parts[3] in ("gauge", "counter", "histogram"), f"line {n}: {line!r}")
                check(parts[2] not in declared, f"line {n}: {parts[2]} declared twice")
                declared[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        check(m is not None, f"line {n} is not a sample: {line!r}")
        name, labels, value = m.group(1), m.group(3) or "", float(m.group(4))
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        check(name in declared or (base in declared and declared[base] == "histogram"),
              f"line {n}: {name} has no TYPE before it")
        check((name, labels) not in values, f"line {n}: {name}{{{labels}}} twice")
        values[(name, labels)] = value
    for name, kind in declared.items():
        if kind == "histogram":
            buckets = sorted(((float(l.split('"')[1]) if "+Inf" not in l else float("inf")), v)
                             for (n, l), v in values.items() if n == name + "_bucket")
            check(buckets and buckets[-1][0] == float("inf"), f"{name}: no +Inf bucket")
            check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])),
                  f"{name}: cumulative buckets fall")
            check(buckets[-1][1] == values[(name + "_count", "")], f"{name}: +Inf != count")
    return values


def scrape(node):
    c = node.client().connect(5)
    c.request("GET", "/metrics", headers={"Authorization": f"Bearer {node.cluster.find_token()}"})
    res = c.getresponse()
    body = res.read().decode()
    c.close()
    check(res.status == 200, f"{node.name}: /metrics answered {res.status}")
    check(res.getheader("Content-Type", "").startswith("text/plain; version=0.0.4"),
          f"{node.name}: content type {res.getheader('Content-Type')}")
    return parse(body)


def body(c):
    leader = c.start()
    c.wait_ready()
    c.install_model()
    for agent in ("a01", "a02"):
        code, _ = leader.request("POST", f"/v1/agents/{agent}/login", {"presence": "available"})
        check(code == 200, f"login {agent}: {code}")
    # a01 and a02 take 2 chats each: 4 offered, 3 left queued; 2 voice calls offered.
    for i in range(7):
        code, _ = c.nodes[i % 3].request("POST", "/v1/contacts", {"key": f"m{i}", "channel": "chat"})
        check(code == 201, f"create chat {i}: {code}")
    for i in range(2):
        code, _ = c.nodes[i].request("POST", "/v1/contacts", {"key": f"v{i}", "channel": "voice"})
        check(code == 201, f"create voice {i}: {code}")
    code, _ = leader.request("POST", "/v1/contacts", {"channel": "fax"})
    check(code == 400, "a bad create is refused")
    c.wait_converged()

    code, doc = leader.request("GET", "/v1/contacts?state=queued")
    queued_chat = sum(1 for x in doc["items"] if x["channel"] == "chat")
    for node in c.live():
        m = scrape(node)
        role = "leader" if node is leader else "follower"
        check(m[("contactd_raft_role", f'role="{role}"')] == 1, f"{node.name}: role {role}")
        check(m[("contactd_ready", "")] == 1, f"{node.name}: ready")
        check(m[("contactd_raft_leader_changes_total", "")] >= 1, f"{node.name}: leaders")
        check(m[("contactd_raft_members", "")] == 3, f"{node.name}: members")
        chat = {s: m[("contactd_contacts", f'channel="chat",state="{s}"')]
                for s in ("queued", "offered", "connected", "wrapup")}
        check(chat["queued"] == queued_chat and chat["queued"] + chat["offered"] == 7,
              f"{node.name}: chats by state {chat}, API says {queued_chat} queued")
        check(m[("contactd_queue_waiting", 'queue="support-chat"')] == queued_chat,
              f"{node.name}: support-chat waiting")
        check(m[("contactd_agents", 'state="busy"')] == 2, f"{node.name}: 2 busy agents")
        check(m[("contactd_agents", 'state="offline"')] == 6, f"{node.name}: 6 offline")
        applied = m[("contactd_raft_entries_applied_total", "")]
        check(applied > 0 and m[("contactd_raft_applied_index", "")] > 0, f"{node.name}: applied")
        if node is leader:
            check(m[("contactd_raft_apply_latency_seconds_count", "")] > 0,
                  "leader: apply latency observed")
            check(m[("contactd_http_responses_total", 'code="4xx"')] >= 1,
                  "leader: the refused create counted as 4xx")
        check(m[("contactd_http_request_duration_seconds_count", "")] > 0,
              f"{node.name}: request latency observed")
    log(f"metrics of 3 nodes agree with the API ({queued_chat} chats queued)")

    # Counters are _total counters of the replicated state: the same on every node, and
    # kept across a restart (never reset at midnight); a service level with nothing to
    # divide by is left out rather than read as 100 %.
    follower = next(n for n in c.live() if n is not leader)
    follower.stop()
    follower.start()
    c.wait_ready()
    c.wait_converged()
    for node in c.live():
        m = scrape(node)
        q = 'queue="support-chat"'
        check(m[("contactd_queue_arrived_total", q)] == 7 and
              m[("contactd_queue_offers_total", q)] == 4 and
              m[("contactd_queue_answered_total", q)] == 0,
              f"{node.name}: support-chat totals {[(k, v) for k, v in m.items() if q in k[1]]}")
        check(("contactd_queue_service_level_ratio", q) not in m,
              f"{node.name}: a service level with nothing answered is no data")
        check(m[("contactd_queue_waiting_past_target", q)] == 0,
              f"{node.name}: nothing waits past the 20 s target yet")
    log("queue totals agree on every node, across a restart; no service level without data")


if __name__ == "__main__":
    run(Cluster(3, election_ms=500), body)
