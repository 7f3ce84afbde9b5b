"""The cluster benchmark: contactd 3-node against etcd 3-member on the same machine, in one
run, with the physical floors beside them. See README.md for what each figure means.

Everything listens on 127.0.0.1; every load is bounded in time. The last line printed is:
RESULT commit_p50_us=N floor_p50_us=N etcd_put_p50_us=N tput=N etcd_tput=N
       failover_median_ms=N etcd_failover_median_ms=N
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

from harness import Cluster, Failure, free_ports, log, wait  # noqa: E402

LUA = os.path.join(HERE, "load.lua")
MODEL = os.path.join(HERE, "model.yaml")


def steal_ticks():
    """The machine's CPU time taken by the hypervisor so far (USER_HZ ticks)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) if len(fields) > 8 else 0


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


# ---- Floors -------------------------------------------------------------------------------

def floors(floor_bin, root):
    out = subprocess.run([floor_bin, root, "3000"], check=True, capture_output=True,
                         text=True).stdout
    figures = {}
    for line in out.splitlines():
        name, p50, p99 = line.split()
        figures[name] = (float(p50), float(p99))
    return figures


# ---- wrk ------------------------------------------------------------------------------------

class Wrk:
    """Runs wrk with load.lua against one URL and reads its WRK line."""
    runs = 0

    def __init__(self, seconds):
        self.seconds = seconds

    def run(self, url, mode, threads, conns):
        Wrk.runs += 1
        prefix = f"r{os.getpid()}x{Wrk.runs}"
        steal = steal_ticks()
        cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{self.seconds}s", "--timeout", "5s",
               "-s", LUA, url, "--", mode, prefix]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=self.seconds + 60)
        line = next((l for l in res.stdout.splitlines() if l.startswith("WRK ")), None)
        if res.returncode != 0 or line is None:
            raise Failure(f"wrk failed ({res.returncode}): {res.stdout} {res.stderr}")
        fig = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
        fig["steal_ms"] = (steal_ticks() - steal) * 1000 / os.sysconf("SC_CLK_TCK")
        fig["rate"] = (fig["requests"] - fig["failed"] - fig["errors"]) / fig["seconds"]
        if fig["failed"] or fig["errors"]:
            log(f"  {mode}: {int(fig['failed'])} failed answers, {int(fig['errors'])} errors")
        return fig


# ---- The two systems ------------------------------------------------------------------------

class Contactd:
    name = "contactd"
    mode = "contactd"

    def __init__(self, binary, election_ms):
        self.cluster = Cluster(3, binary=binary, election_ms=election_ms)

    def start(self):
        self.cluster.start()
        self.cluster.wait_ready()
        self.cluster.install_model(MODEL)

    def endpoints(self):
        return [("127.0.0.1", n.api_port) for n in self.cluster.nodes]

    def leader(self):
        node = self.cluster.wait_leader()
        return self.cluster.nodes.index(node)

    def url(self, i):
        return f"http://127.0.0.1:{self.cluster.nodes[i].api_port}"

    @staticmethod
    def write(conn, key):
        body = json.dumps({"key": key, "channel": "chat"})
        conn.request("POST", "/v1/contacts", body=body,
                     headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        res.read()
        return res.status in (200, 201)

    def kill(self, i):
        self.cluster.nodes[i].kill()

    def restart(self, i):
        node = self.cluster.nodes[i]
        node.start()
        self.cluster.wait_ready()
        self.cluster.wait_leader()

    def close(self):
        self.cluster.close()


class Etcd:
    name = "etcd"
    mode = "etcd"

    def __init__(self, root, election_ms):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.election_ms = election_ms
        ports = free_ports(6)
        self.members = [{"name": f"e{i + 1}", "client": ports[2 * i], "peer": ports[2 * i + 1],
                         "proc": None} for i in range(3)]

    def start_member(self, m):
        initial = ",".join(f"{x['name']}=http://127.0.0.1:{x['peer']}" for x in self.members)
        client, peer = f"http://127.0.0.1:{m['client']}", f"http://127.0.0.1:{m['peer']}"
        cmd = ["etcd", "--name", m["name"], "--data-dir", os.path.join(self.root, m["name"]),
               "--listen-client-urls", client, "--advertise-client-urls", client,
               "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
               "--initial-cluster", initial, "--initial-cluster-state", "new",
               "--heartbeat-interval", str(max(10, self.election_ms // 10)),
               "--election-timeout", str(self.election_ms), "--pre-vote",
               "--log-level", "error"]
        logf = open(os.path.join(self.root, m["name"] + ".log"), "ab")
        m["proc"] = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)

    def status(self, m):
        conn = http.client.HTTPConnection("127.0.0.1", m["client"], timeout=2)
        try:
            conn.request("POST", "/v3/maintenance/status", body="{}")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def agreed_leader(self):
        leaders = set()
        ids = {}
        for i, m in enumerate(self.members):
            st = self.status(m)
            ids[st["header"]["member_id"]] = i
            leaders.add(st.get("leader"))
        if len(leaders) == 1 and None not in leaders and next(iter(leaders)) in ids:
            return ids[next(iter(leaders))] + 1  # never 0: wait() wants a true value
        return None

    def start(self):
        for m in self.members:
            self.start_member(m)
        wait(self.agreed_leader, 60, "an etcd leader every member agrees on")

    def endpoints(self):
        return [("127.0.0.1", m["client"]) for m in self.members]

    def leader(self):
        return wait(self.agreed_leader, 60, "an etcd leader") - 1

    def url(self, i):
        return f"http://127.0.0.1:{self.members[i]['client']}"

    @staticmethod
    def write(conn, key):
        import base64
        body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                           "value": base64.b64encode(b'{"channel":"chat"}').decode()})
        conn.request("POST", "/v3/kv/put", body=body,
                     headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        doc = res.read()
        return res.status == 200 and b'"error"' not in doc

    def kill(self, i):
        p = self.members[i]["proc"]
        p.send_signal(signal.SIGKILL)
        p.wait()

    def restart(self, i):
        self.start_member(self.members[i])
        wait(self.agreed_leader, 60, "etcd members agreeing on a leader after a restart")

    def close(self):
        for m in self.members:
            if m["proc"] is not None and m["proc"].poll() is None:
                m["proc"].send_signal(signal.SIGKILL)
                m["proc"].wait()


# ---- Failover -------------------------------------------------------------------------------

class Writer:
    """A client writing without pause, each write to the next endpoint in turn; a failed
    write is retried on the next endpoint. Records when each successful write was sent and
    when its answer arrived."""

    def __init__(self, system, timeout, name):
        self.system = system
        self.endpoints = system.endpoints()
        self.conns = [None] * len(self.endpoints)
        self.timeout = timeout
        self.name = name
        self.done = []  # (sent, answered), monotonic seconds
        self.seq = 0

    def conn(self, i):
        if self.conns[i] is None:
            host, port = self.endpoints[i]
            self.conns[i] = http.client.HTTPConnection(host, port, timeout=self.timeout)
        return self.conns[i]

    def drop(self, i):
        if self.conns[i] is not None:
            self.conns[i].close()
            self.conns[i] = None

    def loop(self, stop, first):
        i = first
        while not stop.is_set():
            self.seq += 1
            key = f"f{os.getpid()}-{self.name}-{self.seq}"
            i = (i + 1) % len(self.endpoints)
            sent = time.monotonic()
            try:
                ok = self.system.write(self.conn(i), key)
            except (OSError, http.client.HTTPException):
                self.drop(i)
                ok = False
            if ok:
                self.done.append((sent, time.monotonic()))
            else:
                time.sleep(0.002)
        for i in range(len(self.conns)):
            self.drop(i)


class Writers:
    """Several writers at once, so that a write left hanging on a node that lost its leader
    holds up one client, not the measurement: the service is back when any client's new
    write is acknowledged."""

    def __init__(self, system, n, timeout, trial):
        self.stop = threading.Event()
        self.writers = [Writer(system, timeout, f"{trial}w{k}") for k in range(n)]
        self.threads = [threading.Thread(target=w.loop, args=(self.stop, k), daemon=True)
                        for k, w in enumerate(self.writers)]
        for t in self.threads:
            t.start()

    def acked(self):
        return sum(len(w.done) for w in self.writers)

    def first_after(self, t):
        """When the first write sent at or after t was acknowledged, or None."""
        answers = [a for w in self.writers for s, a in list(w.done) if s >= t]
        return min(answers) if answers else None

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join()


def failover(system, trials, clients, timeout):
    """Client-observed unavailability after SIGKILL of the leader, one figure per trial:
    from the kill to the first acknowledged write that was sent after it."""
    gaps = []
    for trial in range(trials):
        leader = system.leader()
        w = Writers(system, clients, timeout, trial)
        try:
            wait(lambda: w.acked() >= 100, 30, f"{system.name}: writes before trial {trial + 1}")
            kill_at = time.monotonic()
            system.kill(leader)
            wait(lambda: w.first_after(kill_at), 60,
                 f"{system.name}: a write acknowledged after the leader's kill")
        finally:
            w.close()
        gap_ms = (w.first_after(kill_at) - kill_at) * 1000
        gaps.append(gap_ms)
        log(f"  {system.name} trial {trial + 1}: unavailable {gap_ms:.0f} ms")
        system.restart(leader)
    return gaps


# ---- The run --------------------------------------------------------------------------------

def measure(system, wrk, trials, clients, timeout):
    log(f"{system.name}: starting 3 members")
    system.start()
    res = {}
    try:
        url = system.url(system.leader())
        log(f"{system.name}: one client, sequential writes ({wrk.seconds} s)")
        res["seq"] = wrk.run(url, system.mode, 1, 1)
        log(f"{system.name}: 64 clients ({wrk.seconds} s)")
        res["par"] = wrk.run(system.url(system.leader()), system.mode, 2, 64)
        log(f"{system.name}: {trials} failovers")
        res["failover"] = failover(system, trials, clients, timeout)
    finally:
        system.close()
    return res


def table(fl, c, e, election_ms):
    def row(name, a, b):
        print(f"| {name:<44} | {a:>14} | {b:>14} |")
    floor_p50 = fl["fdatasync_4k"][0] + fl["loopback_rtt"][0]
    print()
    print(f"floors: fdatasync 4 KiB p50 {fl['fdatasync_4k'][0]:.0f} us (p99 "
          f"{fl['fdatasync_4k'][1]:.0f}), O_DIRECT|O_DSYNC 4 KiB p50 "
          f"{fl['odirect_dsync_4k'][0]:.0f} us, loopback TCP round trip p50 "
          f"{fl['loopback_rtt'][0]:.0f} us; one replicated commit cannot beat "
          f"{floor_p50:.0f} us")
    print(f"election timeout {election_ms} ms, heartbeat {max(10, election_ms // 10)} ms, "
          "pre-vote on, for both systems")
    print()
    row("figure", "contactd", "etcd")
    print(f"|{'-' * 46}|{'-' * 16}|{'-' * 16}|")
    row("commit latency p50, 1 client (us)", f"{c['seq']['p50_us']:.0f}",
        f"{e['seq']['p50_us']:.0f}")
    row("commit latency p99, 1 client (us)", f"{c['seq']['p99_us']:.0f}",
        f"{e['seq']['p99_us']:.0f}")
    row("writes/s, 1 client", f"{c['seq']['rate']:.0f}", f"{e['seq']['rate']:.0f}")
    row("writes/s, 64 clients", f"{c['par']['rate']:.0f}", f"{e['par']['rate']:.0f}")
    row("latency p50 / p99, 64 clients (ms)",
        f"{c['par']['p50_us'] / 1000:.1f} / {c['par']['p99_us'] / 1000:.1f}",
        f"{e['par']['p50_us'] / 1000:.1f} / {e['par']['p99_us'] / 1000:.1f}")
    row("unavailability after leader SIGKILL, median (ms)",
        f"{statistics.median(c['failover']):.0f}", f"{statistics.median(e['failover']):.0f}")
    row("unavailability, max (ms)", f"{max(c['failover']):.0f}", f"{max(e['failover']):.0f}")
    row("CPU stolen by the hypervisor in the loads (ms)",
        f"{c['seq']['steal_ms'] + c['par']['steal_ms']:.0f}",
        f"{e['seq']['steal_ms'] + e['par']['steal_ms']:.0f}")
    print()
    print(f"RESULT commit_p50_us={c['seq']['p50_us']:.0f} floor_p50_us={floor_p50:.0f} "
          f"etcd_put_p50_us={e['seq']['p50_us']:.0f} tput={c['par']['rate']:.0f} "
          f"etcd_tput={e['par']['rate']:.0f} "
          f"failover_median_ms={statistics.median(c['failover']):.0f} "
          f"etcd_failover_median_ms={statistics.median(e['failover']):.0f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--contactd", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--seconds", type=int, default=10, help="length of each wrk load")
    ap.add_argument("--trials", type=int, default=10, help="leader kills per system")
    ap.add_argument("--election-ms", type=int, default=250)
    ap.add_argument("--clients", type=int, default=8, help="writers during the failovers")
    ap.add_argument("--timeout", type=float, default=3.0,
                    help="a failover writer's timeout for one write, seconds")
    ap.add_argument("--dir", default=None, help="where the data directories go")
    args = ap.parse_args()
    if min(args.trials, args.seconds, args.clients) < 1:
        ap.error("--trials, --seconds and --clients must be at least 1")
    root = tempfile.mkdtemp(prefix="contactd-bench-", dir=args.dir)
    tempfile.tempdir = root  # the contactd harness makes its node directories here too
    try:
        log(f"floors, measured in {root}")
        fl = floors(args.floor, root)
        wrk = Wrk(args.seconds)
        etcd = Etcd(os.path.join(root, "etcd"), args.election_ms)
        e = measure(etcd, wrk, args.trials, args.clients, args.timeout)
        contactd = Contactd(args.contactd, args.election_ms)
        c = measure(contactd, wrk, args.trials, args.clients, args.timeout)
        table(fl, c, e, args.election_ms)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Failure as err:
        print(f"bench: {err}", file=sys.stderr)
        sys.exit(1)
