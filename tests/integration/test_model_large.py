"""Large model documents cannot stall a node (issue 10): on the leader of a 3-node cluster,
~1 MiB documents that are one flat list of half a million items, nested a million deep, or
garbage are refused with their position, and a valid model of nearly the 4 MiB limit (a
centre of ~12,000 agents) is validated, installed through a follower and diffed, while
another thread polls /healthz on the same node; a document over the limit gets 413. Every poll is
answered and no node records a leader change: the documents are read off the loop. What is
checked is behaviour (answers, terms, leaders), not how long anything took."""
import threading

from harness import Cluster, Failure, log, run, wait

MODEL_MAX = 4 << 20  # a model document's limit, which the API's HTTP server takes too
BODY_MAX = 1 << 20  # the HTTP server's limit for other bodies


def check(cond, what):
    if not cond:
        raise Failure(what)


def big_model(target, level=5):
    """A contact centre of about target bytes: skills, queues chained by overflow, agents
    serving three queues each, rules; every agent's first skill at the given level."""
    skills = 200
    queues = target // 5 // 150
    agents = target * 11 // 20 // 190
    rules = target // 5 // 130
    out = ["version: 1", "skills:"]
    out += [f"  - sk-{k:05d}" for k in range(skills)]
    out += ["defaults:", "  zone: UTC", "queues:"]
    for q in range(queues):
        out.append(f"  q-{q:05d}:")
        out.append("    channels: [chat, email]")
        out.append("    strategy: longest-idle")
        out.append(f"    skills: {{ sk-{q % skills:05d}: 3, sk-{(q + 1) % skills:05d}: 4 }}")
        if q + 1 < queues:
            out.append(f"    overflow: {{ queue: q-{q + 1:05d} }}")
    out.append("agents:")
    for a in range(agents):
        q = a % queues
        out.append(f"  - id: a-{a:06d}")
        out.append("    site: london")
        out.append(f"    skills: {{ sk-{a % skills:05d}: {level}, "
                   f"sk-{(a + 7) % skills:05d}: 7 }}")
        out.append("    capacity: { chat: 3, email: 5 }")
        out.append(f"    queues: [q-{q:05d}, q-{(q + 1) % queues:05d}, q-{(q + 2) % queues:05d}]")
    out.append("rules:")
    for r in range(rules):
        out.append(f"  - name: r-{r:05d}")
        out.append(f"    when: {{ channel: chat, attribute: {{ tier: [gold, t{r}] }} }}")
        out.append(f"    route: {{ queue: q-{r % queues:05d}, priority: {r % 100} }}")
    return "\n".join(out) + "\n"


class Poller(threading.Thread):
    """GET /healthz on one node, again and again, until stopped; records every outcome."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.client = node.new_client(5.0)
        self.stop = threading.Event()
        self.answers = 0
        self.failures = []

    def run(self):
        while not self.stop.is_set():
            try:
                code, _ = self.client.request("GET", "/healthz")
                if code == 200:
                    self.answers += 1
                else:
                    self.failures.append(f"status {code}")
            except OSError as e:
                self.failures.append(str(e))
            self.stop.wait(0.01)
        self.client.close()


def cluster_view(c):
    return {n.name: (n.status()["term"], n.status()["leader"]) for n in c.live()}


def body(c):
    leader = c.start()
    c.wait_ready()
    before = cluster_view(c)
    check(len({v for v in before.values()}) == 1, f"nodes disagree before: {before}")

    target = MODEL_MAX * 5 // 4
    text = big_model(target)
    while len(text) > MODEL_MAX - 4096:
        target = target * 19 // 20
        text = big_model(target)
    edited = text.replace("sk-00003: 5, ", "sk-00003: 6, ")
    garbage = "".join(chr(33 + (i * 7919) % 90) + ("\n" if i % 97 == 0 else "")
                      for i in range(1000 * 1024))
    too_big = text + "#" * (MODEL_MAX + 1 - len(text))
    nested = "x: " + "[" * (1000 * 1024)
    flat = "x: [" + ",".join(["a"] * (499 * 1024)) + "]\n"
    log(f"documents: model {len(text)} bytes, garbage {len(garbage)}, nested {len(nested)}, "
        f"flat {len(flat)}")

    poller = Poller(leader)
    poller.start()
    try:
        # One long list: what the reader used to take quadratic time over.
        code, doc = leader.request("POST", "/v1/model/validate", raw=flat, timeout=120)
        check(code == 400 and doc["error"]["message"].startswith("model:1:1: unknown key 'x'"),
              f"flat: {code} {doc}")
        code, doc = leader.request("POST", "/v1/model", raw=nested, timeout=120)
        check(code == 400 and doc["error"]["message"] == "model:1:35: nesting deeper than 32 "
              "levels", f"nested: {code} {doc}")
        code, doc = leader.request("POST", "/v1/model/validate", raw=garbage, timeout=120)
        check(code == 400 and doc["error"]["code"] == "PARSE" and
              doc["error"]["message"].startswith("model:"), f"garbage: {code} {doc}")
        code, doc = leader.request("POST", "/v1/model/validate", raw=text, timeout=120)
        check(code == 200 and doc["valid"] and doc["agents"] > 2000, f"validate: {code} {doc}")
        code, doc = leader.request("POST", "/v1/model/validate", raw=too_big, timeout=120)
        check(code == 413 and doc["error"]["code"] == "TOO_LARGE" and
              str(MODEL_MAX) in doc["error"]["message"], f"over the limit: {code} {doc}")
        # Through a follower: the install is forwarded to the leader as one command.
        follower = next(n for n in c.live() if n is not leader)
        code, doc = follower.request("POST", "/v1/model?comment=large", raw=text,
                                     timeout=120)
        check(code == 200 and doc["version"] == 1, f"install: {code} {doc}")
        code, doc = leader.request("POST", "/v1/model/diff", raw=edited, timeout=120)
        check(code == 200 and doc["from_version"] == 1 and len(doc["changes"]) > 10 and
              all(l.startswith("~ agents[a-") for l in doc["changes"]), f"diff: {code} {doc}")
    except OSError as e:
        raise Failure(f"{e}; /healthz meanwhile: {poller.answers} answered, "
                      f"{len(poller.failures)} not")
    finally:
        poller.stop.set()
        poller.join()
    log(f"/healthz answered {poller.answers} times meanwhile")
    check(not poller.failures, f"/healthz went unanswered: {poller.failures[:5]}")
    check(poller.answers > 0, "no /healthz poll was answered")

    c.wait_converged()
    after = cluster_view(c)
    check(after == before, f"a leader change was recorded: before {before}, after {after}")
    for n in c.live():
        code, m = n.request("GET", "/v1/model?stale=true")
        check(code == 200 and m["version"] == 1 and len(m["source"]) == len(text),
              f"{n.name}: running model {code} {m.get('version')}")
    code, doc = leader.request("GET", "/v1/model/versions")
    check(code == 200 and [i["version"] for i in doc["items"]] == [1], f"versions: {code} {doc}")
    log(f"every node runs the large model; term and leader unchanged: {after}")

    # A node stopped while documents are being read (and more wait) answers or drops them
    # and stops cleanly: the close waits for the thread pool's work to come back.
    follower = next(n for n in c.live() if n is not leader)
    outcomes = []

    def post(doc):
        client = follower.new_client(60.0)
        try:
            code, answer = client.request("POST", "/v1/model", raw=doc)
            outcomes.append((code, answer["error"]["code"] if code >= 400 else "ok"))
        except OSError:
            outcomes.append(("dropped", None))
        client.close()

    posters = [threading.Thread(target=post, args=(d,)) for d in (flat, flat, text, flat)]
    for t in posters:
        t.start()
    wait(lambda: outcomes, 60, "a first answer from the follower")
    code = follower.stop()
    for t in posters:
        t.join()
    check(code == 0, f"{follower.name} exited with {code} when stopped with documents in hand")
    check(all(o in (("dropped", None), (503, "UNAVAIL"), (400, "PARSE")) or o[0] in (200, 409)
              for o in outcomes), f"answers while stopping: {outcomes}")
    log(f"{follower.name} stopped cleanly with documents in hand: {outcomes}")


if __name__ == "__main__":
    run(Cluster(3), body)
