"""The chat benchmark: customers' WebSocket sessions and their messages against a 3-node
TLS cluster of release builds on this machine, driven by chatload (one process, one loop),
at a few operating points. See README.md for what each figure means.

For each point (a number of sessions, and the message rates to run on them) a fresh cluster
is started, the model installed with as many agents as the sessions need at the given chat
capacity, an agent token made for each, and chatload run; the nodes' RSS is sampled by
chatload before and after the sessions open. With --perf, the nodes and chatload are
profiled (perf record) during the message steps of the last point.

Prints a table and, last, a line:
RESULT sessions=N msgs_per_s=N ack_p99_ms=N agent_p99_ms=N kb_per_session=N
(the step with the most sessions, then the highest rate, that held every session, met its
rate, had every message acknowledged and none refused, and kept both p99s under 50 ms)
"""
import argparse
import datetime
import json
import math
import os
import shutil
import signal
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
GOAL_P99_MS = 50


def model_text(n_agents, capacity):
    """model.yaml with its agents: b0001... serving the chat queue."""
    with open(MODEL) as f:
        text = f.read()
    lines = ["", "agents:"]
    for i in range(n_agents):
        lines.append(f"  - {{ id: b{i + 1:04d}, skills: {{ support: 5 }}, "
                     f"capacity: {{ chat: {capacity} }}, queues: [bench-chat] }}")
    return text + "\n".join(lines) + "\n"


def agent_tokens(cluster, names):
    """An agent token bound to each agent (POST /v1/tokens as the admin, to the leader)."""
    leader = cluster.wait_leader()
    client = leader.new_client()
    out = []
    for name in names:
        code, doc = client.request("POST", "/v1/tokens",
                                   {"name": f"bench-{name}", "role": "agent", "agent": name})
        if code != 201:
            raise Failure(f"token for {name}: {code} {doc}")
        out.append((name, doc["token"]))
    client.close()
    return out


class Perf:
    """perf record of some processes, from start() to stop(); a flat profile (the release
    tree has no frame pointers)."""

    def __init__(self, out, pids):
        self.out = out
        self.pids = pids
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["perf", "record", "-F", "499", "-o", self.out, "-p",
             ",".join(str(p) for p in self.pids)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(60)

    def report(self, path, names):
        """By process, then the top symbols of each, into path."""
        with open(path, "w") as f:
            f.write("processes: " + ", ".join(f"{p}={n}" for p, n in names.items()) + "\n\n")
            for sort in ("pid", "pid,dso", "pid,dso,sym"):
                res = subprocess.run(["perf", "report", "-i", self.out, "--stdio",
                                      "--sort", sort, "--percent-limit", "0.7"],
                                     capture_output=True, text=True)
                f.write(res.stdout)
        return path


def run_point(args, sessions, rates, last):
    n_agents = math.ceil(sessions / args.capacity)
    cluster = Cluster(3, binary=args.contactd, election_ms=args.election_ms, keep=args.keep)
    perf = None
    try:
        cluster.start()
        cluster.wait_ready()
        names = [f"b{i + 1:04d}" for i in range(n_agents)]
        model = os.path.join(cluster.root, "model.yaml")
        with open(model, "w") as f:
            f.write(model_text(n_agents, args.capacity))
        cluster.install_model(model)
        t = time.monotonic()
        tokens = agent_tokens(cluster, names)
        log(f"{sessions} sessions: {n_agents} agents of chat capacity {args.capacity}, "
            f"tokens made in {time.monotonic() - t:.1f} s")
        agents_file = os.path.join(cluster.root, "agents.txt")
        with open(agents_file, "w") as f:
            f.writelines(f"{n} {tok}\n" for n, tok in tokens)
        pids = [n.proc.pid for n in cluster.nodes]
        cmd = [args.chatload,
               "--nodes", ",".join(f"127.0.0.1:{n.api_port}" for n in cluster.nodes),
               "--ca", cluster.ca_file, "--agents", agents_file,
               "--sessions", str(sessions), "--rates", ",".join(str(r) for r in rates),
               "--seconds", str(args.seconds), "--ramp", str(args.ramp),
               "--pids", ",".join(str(p) for p in pids)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        if args.perf and last:
            perf = Perf(os.path.join(args.out, "perf.data"), pids + [proc.pid])
        begun = []
        watcher = threading.Thread(target=follow, args=(proc, perf, len(rates), begun),
                                   daemon=True)
        watcher.start()
        limit = sessions / args.ramp + len(rates) * (args.seconds + 10) + 200
        try:
            out = proc.stdout.read()  # the summary; the watcher reads stderr
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise Failure(f"chatload ran over {limit:.0f} s")
        watcher.join(5)
        if perf is not None:
            perf.stop()
        if proc.returncode != 0:
            raise Failure(f"chatload exited {proc.returncode}")
        res = json.loads(out)
        res["leader"] = cluster.wait_leader().name
        res["step_began"] = begun
        res["snapshots"] = snapshots(cluster)
        res["capacity"] = args.capacity
        if perf is not None:
            names = {p: n.name for p, n in zip(pids, cluster.nodes)}
            names[proc.pid] = "chatload"
            res["profile"] = perf.report(os.path.join(args.out, "perf.txt"), names)
        return res
    finally:
        if perf is not None:
            perf.stop()
        cluster.close()


def snapshots(cluster):
    """The snapshots each node logged: (node, wall time s, index, ms)."""
    out = []
    for node in cluster.nodes:
        with open(os.path.join(node.dir, "contactd.log"), errors="replace") as f:
            for line in f:
                if "event=snapshot " not in line:
                    continue
                kv = dict(x.split("=", 1) for x in line.split() if "=" in x)
                ts = datetime.datetime.strptime(kv["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
                ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
                out.append((node.name, ts, int(kv["index"]), int(kv["ms"])))
    return out


def follow(proc, perf, steps, begun):
    """chatload's progress lines, logged; when each step began (wall clock) into begun;
    perf records the message steps."""
    for line in proc.stderr:
        log(line.rstrip())
        if line.startswith("chatload: step ") and " begins" in line:
            begun.append(time.time())
        if perf is not None and line.startswith("chatload: step 0 begins"):
            perf.start()
        if perf is not None and line.startswith(f"chatload: step {steps - 1} ("):
            perf.stop()
    if perf is not None:
        perf.stop()


def cell(x, digits=0):
    return f"{x:,.{digits}f}"


def step_ok(step):
    """The step sent its rate, had every message acknowledged in time, and p99 < 50 ms."""
    return (step["acked_per_s"] >= 0.97 * step["rate_target"]
            and step["acked"] + step["refused"] >= step["sent"] and step["refused"] == 0
            and step["ack_ms"]["p99"] < GOAL_P99_MS
            and (step["agent"]["received"] == 0 or step["agent"]["ms"]["p99"] < GOAL_P99_MS))


def table(results):
    heads = ["sessions held", "connected", "msgs/s target", "sent/s", "acked/s",
             "ack p50 / p99 ms", "agent p50 / p99 ms", "at agents / expected",
             "CPU % n1 / n2 / n3 / gen", "RSS kB / session"]
    print("| " + " | ".join(heads) + " |")
    print("|" + "|".join("-" * (len(h) + 2) for h in heads) + "|")
    for r in results:
        for s in r["steps"]:
            cpu = s["cpu_pct"]
            cpus = " / ".join(f"{cpu[k]:.0f}" for k in ("n1", "n2", "n3", "chatload"))
            row = [cell(r["sessions_held"]), cell(r["ramp"]["connected"]),
                   cell(s["rate_target"]), cell(s["sent_per_s"]), cell(s["acked_per_s"]),
                   f"{s['ack_ms']['p50']:.1f} / {s['ack_ms']['p99']:.1f}",
                   f"{s['agent']['ms']['p50']:.1f} / {s['agent']['ms']['p99']:.1f}",
                   f"{s['agent']['received']:,} / {s['agent']['expected']:,}", cpus,
                   f"{r['rss_per_session_kb']:.1f}"]
            print("| " + " | ".join(row) + " |")
    print()
    for r in results:
        ramp = r["ramp"]
        print(f"{r['sessions_target']:,} sessions: held {r['sessions_held']:,}, "
              f"ramp {ramp['seconds']:.1f} s at {ramp['rate']:.0f}/s (connect p50/p99 "
              f"{ramp['connect_ms']['p50']:.1f}/{ramp['connect_ms']['p99']:.1f} ms, hello to "
              f"welcome {ramp['welcome_ms']['p50']:.1f}/{ramp['welcome_ms']['p99']:.1f} ms), "
              f"{r['agents']['count']:,} agents x {r['capacity']}, leader {r['leader']}; "
              f"RSS kB base {r['rss_kb']['base']} open {r['rss_kb']['open']} end "
              f"{r['rss_kb']['end']}; anon kB/session {r['anon_per_session_kb']:.1f}; "
              f"errors {r['errors'] or 'none'}; ramp closes {ramp['closes'] or 'none'}; "
              f"step closes {[s['closes'] for s in r['steps']]}")
    for r in results:
        for k, (s, began) in enumerate(zip(r["steps"], r["step_began"])):
            snaps = [f"{n} +{t - began:.1f} s ({ms} ms)" for n, t, _, ms in r["snapshots"]
                     if began <= t <= began + s["seconds"] + 1]
            worst = max(range(len(s["ack_max_ms_by_second"])),
                        key=lambda i: s["ack_max_ms_by_second"][i], default=None)
            if worst is not None:
                print(f"{r['sessions_target']:,} sessions at {s['rate_target']:.0f}/s: slowest "
                      f"ack {s['ack_max_ms_by_second'][worst]:.0f} ms for a message sent at "
                      f"+{worst} s; snapshots in the step: {', '.join(snaps) or 'none'}")
    best = None
    for r in results:
        for s in r["steps"]:
            if step_ok(s) and r["sessions_held"] >= r["sessions_target"]:
                key = (r["sessions_held"], s["rate_target"])
                if best is None or key > best[0]:
                    best = (key, r, s)
    print()
    if best is None:
        print("RESULT sessions=0 msgs_per_s=0 ack_p99_ms=0 agent_p99_ms=0 kb_per_session=0")
        return
    _, r, s = best
    print(f"RESULT sessions={r['sessions_held']} msgs_per_s={s['acked_per_s']:.0f} "
          f"ack_p99_ms={s['ack_ms']['p99']:.1f} agent_p99_ms={s['agent']['ms']['p99']:.1f} "
          f"kb_per_session={r['rss_per_session_kb']:.1f}", flush=True)


def points(text):
    """"1000:500,1000 5000:2000" -> [(1000, [500, 1000]), (5000, [2000])]"""
    out = []
    for part in text.split():
        sessions, rates = part.split(":")
        out.append((int(sessions), [int(r) for r in rates.split(",")]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contactd", required=True)
    ap.add_argument("--chatload", required=True)
    ap.add_argument("--points", default="1000:500,1000,2000 5000:500,1000,2000 "
                    "10000:500,1000,2000",
                    help="SESSIONS:RATE,RATE... separated by spaces, one cluster each")
    ap.add_argument("--seconds", type=int, default=15, help="length of each message step")
    ap.add_argument("--ramp", type=int, default=500, help="sessions opened per second")
    ap.add_argument("--capacity", type=int, default=5, help="chats one agent takes at once")
    ap.add_argument("--election-ms", type=int, default=1000)
    ap.add_argument("--perf", action="store_true", help="profile the last point's steps")
    ap.add_argument("--out", default=None, help="where results.json (and perf's files) go")
    ap.add_argument("--dir", default=None, help="where the data directories go")
    ap.add_argument("--keep", action="store_true", help="keep the nodes' files and logs")
    args = ap.parse_args()
    if args.seconds < 1 or args.ramp < 1 or not 1 <= args.capacity <= 255:
        ap.error("--seconds and --ramp must be at least 1, --capacity 1..255")
    root = tempfile.mkdtemp(prefix="contactd-chat-bench-", dir=args.dir)
    tempfile.tempdir = root  # the harness makes its node directories here too
    args.out = args.out or root
    os.makedirs(args.out, exist_ok=True)
    results = []
    try:
        plan = points(args.points)
        for i, (sessions, rates) in enumerate(plan):
            log(f"point {i + 1}/{len(plan)}: {sessions} sessions, rates {rates}")
            results.append(run_point(args, sessions, rates, i == len(plan) - 1))
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        print()
        table(results)
        if any("profile" in r for r in results):
            print(f"\nprofile: {results[-1]['profile']}")
    finally:
        if args.out != root and not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Failure as err:
        print(f"bench: {err}", file=sys.stderr)
        sys.exit(1)
