"""Node loss under a real network partition, not a kill. n3 runs in a network namespace of
this test's own, joined to the other two members by a veth pair; the test cuts the link while
n3 holds customers' sessions (voice and chat contacts homed at n3) and the process goes on
running. The majority's leader, having heard nothing from n3 for sessions.lost_after_ms,
proposes NODE_LOST(n3): each contact homed there gets its channel's outcome (a queued voice
call becomes a callback in its place; a chat waits for its customer) and loses its home; a
contact homed elsewhere is untouched. Then the link comes back: n3 learns from the log what
became of its sessions (its event feed says session_lost for each, old_home n3) and every
member holds the same state."""
import os
import subprocess

from harness import Cluster, Failure, log, run, wait

NS = f"cdpart{os.getpid()}"
HOST_IF, NS_IF = f"cdh{os.getpid() % 100000}", f"cdn{os.getpid() % 100000}"
HUB, ISLAND = "10.231.0.1", "10.231.0.2"


def check(cond, what):
    if not cond:
        raise Failure(what)


def sh(*args):
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        raise Failure(f"{' '.join(args)}: {res.stderr.strip()} (needs root and iproute2)")


def make_island():
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
    sh("ip", "link", "set", NS_IF, "netns", NS)
    sh("ip", "addr", "add", f"{HUB}/30", "dev", HOST_IF)
    sh("ip", "link", "set", HOST_IF, "up")
    sh("ip", "netns", "exec", NS, "ip", "addr", "add", f"{ISLAND}/30", "dev", NS_IF)
    sh("ip", "netns", "exec", NS, "ip", "link", "set", NS_IF, "up")
    sh("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")


def remove_island():
    subprocess.run(["ip", "link", "del", HOST_IF], capture_output=True)
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)


def contact(node, key, channel, home):
    code, doc = node.request("POST", "/v1/contacts",
                             {"key": key, "channel": channel, "queue": "sales-voice"
                              if channel == "voice" else "support-chat",
                              "session": {"home": home, "key": f"{key}-session"}})
    check(code == 201, f"create {key}: {code} {doc}")
    return doc["id"]


def session_of(node, cid):
    code, doc = node.request("GET", f"/v1/contacts/{cid}")
    check(code == 200, f"contact {cid} on {node.name}: {code} {doc}")
    return doc


def body(c):
    n1, n2, n3 = c.nodes
    n1.start()
    n2.start()
    leader = c.wait_leader()
    n3.start()
    c.wait_ready()
    c.install_model()
    check(c.leader() is not n3, "n3 does not lead")

    voice = [contact(n3, f"v{i}", "voice", "n3") for i in range(3)]
    chat = [contact(n3, f"c{i}", "chat", "n3") for i in range(2)]
    other = contact(n1, "elsewhere", "voice", "n1")
    c.wait_converged()
    check(session_of(n3, voice[0])["session"] == {"home": "n3", "key": "v0-session",
                                                   "lost": False, "reconnect_by": 0},
          f"a contact's session as created: {session_of(n3, voice[0])}")
    code, doc = n3.request("GET", "/v1/events?after=now&wait_ms=0")
    n3_after = doc["last_id"]

    sh("ip", "link", "set", HOST_IF, "down")
    log("partitioned n3 from n1 and n2; its process goes on running")
    leader = c.wait_leader()  # the majority's
    check(leader is not n3 and n3.alive(), "the majority leads, n3 still runs")

    def resolved():
        docs = [session_of(leader, cid) for cid in voice + chat]
        return all(d["session"]["lost"] and d["session"]["home"] == "" for d in docs)
    wait(resolved, 30, "NODE_LOST(n3) applied by the majority")
    for cid in voice:
        d = session_of(leader, cid)
        check(d["callback"] and d["state"] == "queued",
              f"a queued voice call homed at the lost node is a callback in its place: {d}")
    for cid in chat:
        d = session_of(leader, cid)
        check(not d["callback"] and d["state"] == "queued", f"a chat waits: {d}")
    d = session_of(leader, other)
    check(d["session"] == {"home": "n1", "key": "elsewhere-session", "lost": False,
                           "reconnect_by": 0} and
          not d["callback"], f"a contact homed elsewhere is untouched: {d}")
    check("event=node_lost member=n3" in leader.log_tail(300),
          "the leader logs the lost member")
    log("the majority declared n3 lost and resolved its sessions")

    sh("ip", "link", "set", HOST_IF, "up")
    log("healed the partition")
    c.wait_converged(timeout=60)
    for cid in voice + chat:
        mine, theirs = session_of(n3, cid), session_of(leader, cid)
        check(mine == theirs, f"after healing n3 and {leader.name} agree on {cid}: "
              f"{mine} != {theirs}")
    code, doc = n3.request("GET", f"/v1/events?after={n3_after}&kind=session_lost&limit=100")
    check(code == 200, f"n3's events: {code} {doc}")
    lost = {e["contact"]: e for e in doc["events"]}
    check(sorted(lost) == sorted(voice + chat) and
          all(e["old_home"] == "n3" for e in lost.values()),
          f"n3 learns from the log which sessions it no longer holds: {doc['events']}")
    outcomes = {cid: lost[cid]["text"] for cid in lost}
    check(all(outcomes[cid] == "callback" for cid in voice) and
          all(outcomes[cid] == "waits" for cid in chat), f"outcomes: {outcomes}")
    log("after healing every member holds the same state; n3 saw session_lost for each")


def main():
    remove_island()
    make_island()
    c = Cluster(3, election_ms=500, lost_after_ms=1500, write=False)
    c.nodes[0].host = c.nodes[1].host = HUB
    c.nodes[2].host = ISLAND
    c.nodes[2].prefix = ["ip", "netns", "exec", NS]
    c.write_configs()
    try:
        run(c, body)
    finally:
        remove_island()


if __name__ == "__main__":
    main()
