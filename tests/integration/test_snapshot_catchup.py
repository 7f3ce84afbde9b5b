"""A follower that was down while the others took snapshots and compacted their logs
catches up by installing a snapshot, and ends with the same state. History is not in a
snapshot: the follower copies the rows of the contacts that ended while it was away from a
peer, after which every node answers the same for every contact, lists the same history and
shows the same history digest."""
from harness import Cluster, Failure, log, run, wait


def main(c):
    c.start()
    c.install_model()
    c.wait_ready()
    leader = c.wait_leader()
    lagger = next(n for n in c.nodes if n is not leader)
    before = lagger.status()["applied_index"]
    lagger.kill()
    log(f"{lagger.name} killed at applied index {before}")
    for i in range(400):
        node = c.live()[i % 2]
        code, doc = node.request("POST", "/v1/contacts", {"key": f"snap-{i}", "channel": "chat"})
        if code != 201:
            raise Failure(f"create {i}: {code} {doc}")
    st = c.wait_leader().status()
    if st["snapshot_index"] <= before + 16:
        raise Failure(f"the leader took no snapshot past the lagger: {st}")
    log(f"leader snapshot at {st['snapshot_index']}, applied {st['applied_index']}")
    lagger.start()
    c.wait_ready([lagger], timeout=60)
    sts = c.wait_converged(timeout=60)
    mine = lagger.status()
    if mine["snapshot_index"] <= before:
        raise Failure(f"{lagger.name} did not install a snapshot: {mine}")
    code, doc = lagger.request("GET", "/v1/contacts?stale=true&limit=100000")
    if code != 200 or doc["total"] < 400:
        raise Failure(f"{lagger.name} holds {doc.get('total')} contacts, expected 400")
    log(f"{lagger.name} installed snapshot {mine['snapshot_index']} and converged at "
        f"{sts[0]['applied_index']}")
    history_travels(c, lagger)


def history_state(c):
    """Every node's (applied index, state digest, history) once all agree, else None."""
    sts = [n.status() for n in c.live()]
    keys = {(s["applied_index"], s["state_digest"], s["history"]["digest"],
             s["history"]["rows"], s["history"]["complete"]) for s in sts}
    return keys.pop() if len(keys) == 1 else None


def history_travels(c, lagger):
    lagger.kill()
    others = c.live()
    ended = []
    for i in range(100):
        node = others[i % 2]
        code, doc = node.request("POST", "/v1/contacts", {"key": f"hist-{i}", "channel": "chat"})
        if code != 201:
            raise Failure(f"create hist-{i}: {code} {doc}")
        code, res = node.request("POST", f"/v1/contacts/{doc['id']}/abandon")
        if code != 200:
            raise Failure(f"abandon {doc['id']}: {code} {res}")
        ended.append(doc["id"])
    for i in range(100):  # more entries, so that the others snapshot past the lagger again
        code, doc = others[i % 2].request("POST", "/v1/contacts",
                                          {"key": f"after-{i}", "channel": "chat"})
        if code != 201:
            raise Failure(f"create after-{i}: {code} {doc}")
    lagger.start()
    c.wait_ready([lagger], timeout=60)
    state = wait(lambda: history_state(c), 60, "every node with the same state and history")
    if not state[4]:
        raise Failure(f"history still incomplete: {state}")
    for cid in ended:
        docs = []
        for node in c.live():
            code, doc = node.request("GET", f"/v1/contacts/{cid}")
            if code != 200:
                raise Failure(f"{node.name}: contact {cid} answered {code} {doc}")
            docs.append(doc)
        if any(d != docs[0] for d in docs):
            raise Failure(f"contact {cid} differs between nodes: {docs}")
    lists = [n.request("GET", "/v1/history?limit=10000") for n in c.live()]
    if any(code != 200 for code, _ in lists) or any(d != lists[0][1] for _, d in lists):
        raise Failure(f"/v1/history differs between nodes: {[d for _, d in lists]}")
    gaps = lagger.status()["history"]["gaps"]
    log(f"{lagger.name} filled {gaps} history gap(s): all {len(ended)} ended contacts and "
        f"{state[3]} history rows equal on every node, digest {state[2]}")


if __name__ == "__main__":
    run(Cluster(3, snapshot_threshold=64, snapshot_trailing=16,
            snapshot_growth=False), main)
