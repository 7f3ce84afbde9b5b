"""A follower that was down while the others took snapshots and compacted their logs
catches up by installing a snapshot, and ends with the same state."""
from harness import Cluster, Failure, log, run


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


if __name__ == "__main__":
    run(Cluster(3, snapshot_threshold=64, snapshot_trailing=16), main)
