"""The reports benchmark: how long GET /v1/reports takes over a large history on a 3-node TLS
cluster of release builds on this machine, and whether writes slow down while reports run.
See README.md for what each figure means.

1. A fresh cluster; the model (model.yaml) with its agents; histfill (the C filler) carries
   --contacts contacts through the leader's API to their end, and the time it took is the
   fill rate. The nodes converge (every member applied the same index).
2. Reports, each measured as a client sees it (request to the last byte of the answer), on
   the leader and on a follower, --runs times each, for each query of QUERIES.
3. Commit latency: a probe writes through the leader (a create then its abandon, one
   request at a time, every --probe-ms) and another asks the node under test for /readyz
   (answered on its loop), for --phase-s seconds with nothing else running (idle), then as
   long again while reports run back to back on that node (busy). The leader's own
   contactd_raft_apply_latency_seconds histogram is read before and after each phase.

Prints a table and, last, a line
RESULT contacts=N fill_per_s=N leader_median_ms=N leader_max_ms=N follower_median_ms=N
       follower_max_ms=N writes_idle_p50_ms=N writes_idle_p99_ms=N writes_busy_p50_ms=N
       writes_busy_p99_ms=N
(the report times are those of the slower query; the writes' with reports on the leader).
"""
import argparse
import datetime
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

from harness import Cluster, Failure, log  # noqa: E402

MODEL = os.path.join(HERE, "model.yaml")
QUERIES = [
    ("day by queue", "/v1/reports?period=last_30d&interval=day&group=queue"),
    ("60m by agent", "/v1/reports?period=last_30d&interval=60m&group=agent"),
]
# histfill's queues: name:channel:weight (the share of contacts each gets).
FILL_QUEUES = ("sales-voice:voice:20,support-voice:voice:15,billing-voice:voice:5,"
               "sales-chat:chat:20,support-chat:chat:20,sales-email:email:10,"
               "support-email:email:10")
DISPOSITIONS = "resolved,sale,no-sale,follow-up"
SITES = ["leeds", "york", "cardiff"]
PROBE_QUEUE = "probe"  # served by nobody: a probe contact waits until it is abandoned


def model_text(voice_agents, chat_agents):
    """model.yaml with the probe's queue and the agents."""
    with open(MODEL) as f:
        text = f.read()
    text = text.replace("\nrules:\n", f"\n  {PROBE_QUEUE}:\n    channels: [voice]\n\nrules:\n")
    lines = ["", "agents:"]
    for i in range(voice_agents):
        lines.append(f"  - {{ id: v{i + 1:03d}, site: {SITES[i % 3]}, "
                     "skills: { sales: 5, support: 5 }, capacity: { voice: 1 }, "
                     "queues: [sales-voice, support-voice, billing-voice] }")
    for i in range(chat_agents):
        lines.append(f"  - {{ id: c{i + 1:03d}, site: {SITES[i % 3]}, "
                     "skills: { sales: 5, support: 5 }, "
                     "capacity: { chat: 100, email: 50 }, "
                     "queues: [sales-chat, support-chat, sales-email, support-email] }")
    return text + "\n".join(lines) + "\n", \
        [f"v{i + 1:03d}" for i in range(voice_agents)] + \
        [f"c{i + 1:03d}" for i in range(chat_agents)]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def dir_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total / 1e6


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# ---- Filling ------------------------------------------------------------------------------

def fill(args, cluster, leader, agents):
    agents_file = os.path.join(cluster.root, "agents.txt")
    with open(agents_file, "w") as f:
        f.writelines(a + "\n" for a in agents)
    cmd = [args.histfill, "--node", f"127.0.0.1:{leader.api_port}", "--ca", cluster.ca_file,
           "--token-file", cluster.token_file, "--agents", agents_file,
           "--queues", FILL_QUEUES, "--dispositions", DISPOSITIONS,
           "--contacts", str(args.contacts), "--inflight", str(args.inflight),
           "--conns", str(args.conns), "--seconds-max", str(args.fill_max_s),
           "--seed", str(args.seed)]
    pids = [n.proc.pid for n in cluster.nodes]
    cpu0 = [cpu_ticks(p) for p in pids]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = threading.Thread(target=lambda: [log(line.rstrip()) for line in proc.stderr],
                               daemon=True)
    watcher.start()
    try:
        out = proc.stdout.read()
        proc.wait(timeout=args.fill_max_s + 120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure("histfill ran over its time")
    watcher.join(5)
    wall = time.monotonic() - t0
    res = json.loads(out)
    hz = os.sysconf("SC_CLK_TCK")
    res["cpu_pct"] = {n.name: 100.0 * (cpu_ticks(p) - c) / hz / wall
                      for n, p, c in zip(cluster.nodes, pids, cpu0)}
    res["wall_s"] = wall
    if res["finished"] < args.contacts:
        log(f"histfill finished {res['finished']} of {args.contacts} contacts "
            f"({res['failed']} failed, errors {res['errors']})")
    return res


# ---- Reports ------------------------------------------------------------------------------

def report_once(client, path):
    t = time.perf_counter()
    code, doc = client.request("GET", path, timeout=120)
    ms = (time.perf_counter() - t) * 1000
    if code != 200:
        raise Failure(f"report {path} answered {code} {doc}")
    return ms, doc


def report_summary(doc):
    total = doc["total"]["values"]
    return {"rows": len(doc["rows"]), "groups": len(doc["totals"]),
            "offered": total.get("offered"), "answered": total.get("answered"),
            "handled": total.get("handled"), "as_of_index": doc["report"]["as_of_index"]}


def time_reports(node, runs):
    """Each query, runs times in a row (after one run not counted, which warms the page
    cache): the wall times in ms, and what the last answer held."""
    client = node.new_client(timeout=120)
    out = {}
    try:
        # A read as small as can be, with the same read barrier: what a report waits for
        # before it starts (a follower asks the leader, then applies up to its index).
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            code, _ = client.request("GET", "/v1/queues/probe")
            times.append((time.perf_counter() - t) * 1000)
            if code != 200:
                raise Failure(f"{node.name}: /v1/queues/probe answered {code}")
        out["barrier"] = {"ms": times, "median_ms": statistics.median(times),
                          "max_ms": max(times), "min_ms": min(times)}
        for name, path in QUERIES:
            report_once(client, path)
            times, doc = [], None
            for _ in range(runs):
                ms, doc = report_once(client, path)
                times.append(ms)
            out[name] = {"ms": times, "median_ms": statistics.median(times),
                         "max_ms": max(times), "min_ms": min(times),
                         "answer": report_summary(doc)}
            log(f"{node.name}: {name}: median {out[name]['median_ms']:.0f} ms, max "
                f"{out[name]['max_ms']:.0f} ms over {runs} runs; {out[name]['answer']}")
    finally:
        client.close()
    return out


# ---- Commit latency and the loop -------------------------------------------------------

class Probe(threading.Thread):
    """Every period, one request at a time for seconds: each round trip in ms."""

    def __init__(self, node, period_s, seconds):
        super().__init__(daemon=True)
        self.node, self.period, self.seconds = node, period_s, seconds
        self.ms, self.errors = [], []
        self.tag = f"{node.name}-{time.time_ns()}"

    def run(self):
        client = self.node.new_client(timeout=30)
        deadline = time.monotonic() + self.seconds
        due = time.monotonic()
        i = 0
        try:
            while time.monotonic() < deadline:
                due += self.period
                try:
                    self.one(client, i)
                except OSError as e:
                    self.errors.append(str(e))
                i += 1
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        finally:
            client.close()

    def timed(self, client, method, path, body, want):
        t = time.perf_counter()
        code, doc = client.request(method, path, body)
        ms = (time.perf_counter() - t) * 1000
        if code != want:
            self.errors.append(f"{method} {path.split('?')[0]} {code}")
            return None
        self.ms.append(ms)
        return doc



class WriteProbe(Probe):
    """Writes through the leader: a create of a contact in the probe queue (nobody serves
    it), then its abandon; both count."""

    def one(self, client, i):
        doc = self.timed(client, "POST", "/v1/contacts",
                         {"channel": "voice", "queue": PROBE_QUEUE,
                          "key": f"probe-{self.tag}-{i}"}, 201)
        if doc is not None:
            self.timed(client, "POST", f"/v1/contacts/{doc['id']}/abandon", {}, 200)


class LoopProbe(Probe):
    """GET /readyz of the node that makes the reports: answered on its loop, no barrier, so
    its round trip is how long the loop takes to get to a request."""

    def one(self, client, i):
        self.timed(client, "GET", "/readyz", None, 200)


def latency_summary(ms, errors):
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p90_ms": percentile(ms, 90),
            "p99_ms": percentile(ms, 99), "max_ms": max(ms) if ms else float("nan"),
            "errors": errors[:10], "n_errors": len(errors)}


def apply_histogram(node):
    """contactd_raft_apply_latency_seconds of node: {bound_s: cumulative count}, sum, count."""
    code, text = node.request("GET", "/metrics", timeout=10)
    if code != 200:
        raise Failure(f"{node.name}: /metrics answered {code}")
    buckets, total, count = {}, 0.0, 0
    for line in text.splitlines():
        if line.startswith("contactd_raft_apply_latency_seconds_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = int(line.split()[-1])
        elif line.startswith("contactd_raft_apply_latency_seconds_sum"):
            total = float(line.split()[-1])
        elif line.startswith("contactd_raft_apply_latency_seconds_count"):
            count = int(line.split()[-1])
    return buckets, total, count


def histogram_delta(before, after):
    """What was added between two readings: ({bound_s: cumulative count}, sum, count)."""
    (b0, s0, c0), (b1, s1, c1) = before, after
    return {k: v - b0.get(k, 0) for k, v in b1.items()}, s1 - s0, c1 - c0


def histogram_add(a, b):
    if a is None:
        return b
    return {k: v + b[0].get(k, 0) for k, v in a[0].items()}, a[1] + b[1], a[2] + b[2]


def histogram_summary(h):
    """Mean, and p50 and p99 as the upper bound of the bucket that holds them, in ms."""
    buckets, total, n = h
    out = {"entries": n, "mean_ms": total / n * 1000 if n else float("nan")}
    for p in (50, 99):
        out[f"p{p}_ms"] = next((b * 1000 for b in sorted(buckets)
                                if n and buckets[b] >= n * p / 100.0), float("nan"))
    return out


def machine_ticks():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def reporter_main(port, ca, token, stop, out):
    """A process of its own (no lock shared with the probes' threads): the queries back to
    back on one node until stop is set; the answers are read, not parsed."""
    ctx = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=120, context=ctx)
    times = {name: [] for name, _ in QUERIES}
    i = 0
    while not stop.is_set():
        name, path = QUERIES[i % len(QUERIES)]
        t = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        res = conn.getresponse()
        res.read()
        if res.status != 200:
            break
        times[name].append((time.perf_counter() - t) * 1000)
        i += 1
    conn.close()
    out.put(times)


def snapshots_between(cluster, t0, t1):
    """The snapshots the nodes logged between two wall-clock times: (node, +s, ms)."""
    out = []
    for node in cluster.nodes:
        with open(os.path.join(node.dir, "contactd.log"), errors="replace") as f:
            for line in f:
                if "event=snapshot " not in line:
                    continue
                kv = dict(x.split("=", 1) for x in line.split() if "=" in x)
                ts = datetime.datetime.strptime(kv["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
                ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
                if t0 <= ts <= t1:
                    out.append((node.name, round(ts - t0, 1), int(kv["ms"])))
    return out


def phase(args, cluster, node, leader, busy):
    """One phase: writes through the leader and /readyz of node, with reports running back
    to back on node or not. Returns the raw samples and readings; merge() sums phases."""
    pids = [n.proc.pid for n in cluster.nodes]
    cpu0, m0 = [cpu_ticks(p) for p in pids], machine_ticks()
    hist0 = apply_histogram(leader)
    reporter = None
    if busy:
        ctx = multiprocessing.get_context("fork")
        stop, results = ctx.Event(), ctx.Queue()
        reporter = ctx.Process(target=reporter_main,
                               args=(node.api_port, cluster.ca_file, cluster.token, stop,
                                     results), daemon=True)
        reporter.start()
        time.sleep(0.5)  # the first report is under way
    t0, wall0 = time.monotonic(), time.time()
    writes = WriteProbe(leader, args.probe_ms / 1000.0, args.phase_s)
    loop = LoopProbe(node, args.probe_ms / 1000.0, args.phase_s)
    writes.start()
    loop.start()
    writes.join(args.phase_s + 60)
    loop.join(10)
    wall = time.monotonic() - t0
    m1 = machine_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    out = {"wall_s": wall, "writes": writes.ms, "write_errors": writes.errors,
           "loop": loop.ms, "loop_errors": loop.errors,
           "leader_apply": histogram_delta(hist0, apply_histogram(leader)),
           "cpu_s": {n.name: (cpu_ticks(p) - c) / hz for n, p, c in zip(cluster.nodes, pids, cpu0)},
           "machine_busy_pct": 100.0 * os.cpu_count() * (m1[0] - m0[0]) / max(1, m1[1] - m0[1]),
           "snapshots": snapshots_between(cluster, wall0, wall0 + wall),
           "reports": {}}
    if reporter is not None:
        stop.set()
        out["reports"] = results.get(timeout=180)
        reporter.join(10)
    return out


def merge(phases):
    """The rounds of one kind of phase as one: samples pooled, readings summed."""
    wall = sum(p["wall_s"] for p in phases)
    hist = None
    for p in phases:
        hist = histogram_add(hist, p["leader_apply"])
    names = phases[0]["cpu_s"].keys()
    reports = {}
    for p in phases:
        for name, times in p["reports"].items():
            reports.setdefault(name, []).extend(times)
    return {"seconds": wall, "rounds": len(phases),
            "writes": latency_summary([x for p in phases for x in p["writes"]],
                                      [x for p in phases for x in p["write_errors"]]),
            "loop": latency_summary([x for p in phases for x in p["loop"]],
                                    [x for p in phases for x in p["loop_errors"]]),
            "leader_apply": histogram_summary(hist),
            "cpu_pct": {k: 100.0 * sum(p["cpu_s"][k] for p in phases) / wall for k in names},
            "machine_busy_pct": sum(p["machine_busy_pct"] * p["wall_s"] for p in phases) / wall,
            "snapshots": [s for p in phases for s in p["snapshots"]],
            "reports": {name: {"n": len(t), "median_ms": statistics.median(t),
                               "max_ms": max(t)} for name, t in reports.items() if t}}


def latency(args, cluster, node, leader):
    """Idle and busy phases in turn, --rounds times, through node; each kind merged."""
    runs = {"idle": [], "busy": []}
    for _ in range(args.rounds):
        for kind in ("idle", "busy"):
            runs[kind].append(phase(args, cluster, node, leader, kind == "busy"))
    out = {kind: merge(phases) for kind, phases in runs.items()}
    for kind, x in out.items():
        w, lp = x["writes"], x["loop"]
        log(f"reports on {node.name} {kind}: writes p50 {w['p50_ms']:.2f} p99 "
            f"{w['p99_ms']:.2f} max {w['max_ms']:.1f} ms ({w['n']}, {w['n_errors']} errors); "
            f"/readyz p50 {lp['p50_ms']:.2f} p99 {lp['p99_ms']:.2f} max {lp['max_ms']:.1f} ms; "
            f"leader apply {x['leader_apply']}; cpu {x['cpu_pct']}; machine "
            f"{x['machine_busy_pct']:.0f} %; snapshots {x['snapshots']}; reports {x['reports']}")
    return out


# ---- perf ---------------------------------------------------------------------------------

def profile(args, node):
    """perf record of node while the queries run back to back, a flat profile into
    perf.txt."""
    data = os.path.join(args.out, "perf.data")
    perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-o", data, "-p",
                             str(node.proc.pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    time_reports(node, 3)
    perf.send_signal(signal.SIGINT)
    perf.wait(60)
    path = os.path.join(args.out, "perf.txt")
    with open(path, "w") as f:
        for sort in ("comm,dso", "sym"):
            res = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                  "-g", "none", "--sort", sort, "--percent-limit", "0.5"],
                                 capture_output=True, text=True)
            f.write(res.stdout)
    return path


# ---- The run ------------------------------------------------------------------------------

def run(args):
    cluster = Cluster(3, binary=args.contactd, keep=args.keep)
    results = {"contacts": args.contacts, "date": time.strftime("%Y-%m-%d"),
               "machine": f"{os.cpu_count()} cores, {os.uname().release}"}
    try:
        leader = cluster.start()
        cluster.wait_ready()
        model, agents = model_text(args.voice_agents, args.chat_agents)
        path = os.path.join(cluster.root, "model.yaml")
        with open(path, "w") as f:
            f.write(model)
        cluster.install_model(path)
        leader = cluster.wait_leader()
        cluster.wait_token()
        log(f"leader {leader.name}; filling {args.contacts:,} contacts, "
            f"{len(agents)} agents, {args.inflight} at a time")
        results["fill"] = fill(args, cluster, leader, agents)
        f = results["fill"]
        log(f"filled: {f['finished']:,} finished in {f['seconds']:.1f} s "
            f"({f['finished_per_s']:.0f}/s); node CPU {f['cpu_pct']}")
        t = time.monotonic()
        cluster.wait_converged(timeout=600)
        results["converge_s"] = time.monotonic() - t
        follower = next(n for n in cluster.nodes if n is not leader)
        results["leader"], results["follower"] = leader.name, follower.name
        results["data_mb"] = {n.name: dir_mb(n.data_dir) for n in cluster.nodes}
        results["rss_kb"] = {n.name: rss_kb(n.proc.pid) for n in cluster.nodes}
        log(f"converged in {results['converge_s']:.1f} s; data MB {results['data_mb']}")
        results["reports"] = {}
        for node in (leader, follower):
            results["reports"][node.name] = time_reports(node, args.runs)
        results["latency"] = {}
        for node in (leader, follower):
            results["latency"][node.name] = latency(args, cluster, node, leader)
        if args.perf:
            results["profile"] = profile(args, leader)
        return results
    finally:
        cluster.close()


def table(r):
    f = r["fill"]
    print(f"contacts filled: {f['finished']:,} of {r['contacts']:,} in {f['seconds']:.1f} s = "
          f"{f['finished_per_s']:.0f}/s ({f['requests']:,} requests, failed {f['failed']}, "
          f"errors {f['errors'] or 'none'}); plans {f['plans']}; node CPU % "
          f"{ {k: round(v) for k, v in f['cpu_pct'].items()} }")
    print(f"converged in {r['converge_s']:.1f} s; data dirs MB "
          f"{ {k: round(v) for k, v in r['data_mb'].items()} }; RSS kB {r['rss_kb']}")
    print()
    print("| node | query | median ms | max ms | min ms | rows | answered |")
    print("|---|---|---|---|---|---|---|")
    for node, role in ((r["leader"], "leader"), (r["follower"], "follower")):
        for name, q in r["reports"][node].items():
            a = q.get("answer", {})
            print(f"| {node} ({role}) | {name} | {q['median_ms']:.1f} | {q['max_ms']:.1f} | "
                  f"{q['min_ms']:.1f} | {a.get('rows', '')} | {a.get('answered') or ''} |")
    print()
    print("| reports on | phase | writes p50 / p99 / max ms (n) | leader apply mean / p50 / p99 "
          "ms | /readyz p50 / p99 / max ms | CPU % n1 / n2 / n3 | machine CPU % | snapshots | "
          "reports made |")
    print("|---|---|---|---|---|---|---|---|---|")
    for node, role in ((r["leader"], "leader"), (r["follower"], "follower")):
        for ph in ("idle", "busy"):
            x = r["latency"][node][ph]
            w, a, lp = x["writes"], x["leader_apply"], x["loop"]
            cpu = " / ".join(f"{x['cpu_pct'][k]:.0f}" for k in sorted(x["cpu_pct"]))
            reps = ", ".join(f"{v['n']} x {k} (median {v['median_ms']:.0f} ms)"
                             for k, v in x["reports"].items()) or "none"
            print(f"| {node} ({role}) | {ph}, {x['rounds']} x {x['seconds'] / x['rounds']:.0f} s "
                  f"| {w['p50_ms']:.2f} / {w['p99_ms']:.2f} / {w['max_ms']:.1f} ({w['n']}) | "
                  f"{a['mean_ms']:.2f} / {a['p50_ms']:g} / {a['p99_ms']:g} | "
                  f"{lp['p50_ms']:.2f} / {lp['p99_ms']:.2f} / {lp['max_ms']:.1f} | {cpu} | "
                  f"{x['machine_busy_pct']:.0f} | {len(x['snapshots'])} | {reps} |")
    print()
    queries = [name for name, _ in QUERIES]
    slow = max(queries, key=lambda q: r["reports"][r["leader"]][q]["median_ms"])
    lead, fol = r["reports"][r["leader"]][slow], r["reports"][r["follower"]][slow]
    idle, busy = r["latency"][r["leader"]]["idle"]["writes"], \
        r["latency"][r["leader"]]["busy"]["writes"]
    print(f"RESULT contacts={f['finished']} fill_per_s={f['finished_per_s']:.0f} "
          f"leader_median_ms={lead['median_ms']:.0f} leader_max_ms={lead['max_ms']:.0f} "
          f"follower_median_ms={fol['median_ms']:.0f} follower_max_ms={fol['max_ms']:.0f} "
          f"writes_idle_p50_ms={idle['p50_ms']:.2f} writes_idle_p99_ms={idle['p99_ms']:.2f} "
          f"writes_busy_p50_ms={busy['p50_ms']:.2f} writes_busy_p99_ms={busy['p99_ms']:.2f}",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contactd", required=True)
    ap.add_argument("--histfill", required=True)
    ap.add_argument("--contacts", type=int, default=1000000)
    ap.add_argument("--inflight", type=int, default=600, help="contacts in progress at once")
    ap.add_argument("--conns", type=int, default=64, help="histfill's HTTPS connections")
    ap.add_argument("--voice-agents", type=int, default=150)
    ap.add_argument("--chat-agents", type=int, default=30)
    ap.add_argument("--fill-max-s", type=int, default=3000, help="histfill stops after this")
    ap.add_argument("--runs", type=int, default=7, help="timed runs of each query per node")
    ap.add_argument("--phase-s", type=int, default=20, help="length of each probe phase")
    ap.add_argument("--rounds", type=int, default=3,
                    help="idle and busy phases in turn, this many times per node")
    ap.add_argument("--probe-ms", type=int, default=20, help="a probe write pair every N ms")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--perf", action="store_true", help="profile the leader's reports")
    ap.add_argument("--out", default=None, help="where results.json (and perf's) go")
    ap.add_argument("--dir", default=None, help="where the data directories go")
    ap.add_argument("--keep", action="store_true", help="keep the nodes' files and logs")
    args = ap.parse_args()
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
    root = tempfile.mkdtemp(prefix="contactd-reports-bench-", dir=args.dir)
    tempfile.tempdir = root  # the harness makes its node directories here too
    args.out = args.out or root
    os.makedirs(args.out, exist_ok=True)
    try:
        results = run(args)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        print()
        table(results)
        if "profile" in results:
            print(f"\nprofile: {results['profile']}")
    finally:
        if args.out != root and not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Failure as err:
        print(f"bench: {err}", file=sys.stderr)
        sys.exit(1)
