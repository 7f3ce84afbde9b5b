"""The cluster benchmark: contactd 3-node against etcd 3-member on the same machine, in one
run, with the physical floors beside them, both systems as production runs them: TLS on the
client API (server certificate only) and mutual TLS between members. See README.md for what
each figure means.

Everything listens on 127.0.0.1; every load is bounded in time. The last line printed is:
RESULT commit_p50_us=N floor_p50_us=N etcd_put_p50_us=N tput=N etcd_tput=N
       failover_median_ms=N etcd_failover_median_ms=N
"""
import argparse
import concurrent.futures
import http.client
import json
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

from harness import Cluster, Failure, free_ports, log, make_certs, wait  # noqa: E402

LUA = os.path.join(HERE, "load.lua")
MODEL = os.path.join(HERE, "model.yaml")


def steal_ticks():
    """The machine's CPU time taken by the hypervisor so far (USER_HZ ticks)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) if len(fields) > 8 else 0


def connection(host, port, timeout, tls):
    """One HTTP connection, HTTPS checked against the context tls when it is not None."""
    if tls is None:
        return http.client.HTTPConnection(host, port, timeout=timeout)
    return http.client.HTTPSConnection(host, port, timeout=timeout, context=tls)


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
    """Runs wrk with load.lua against one URL and reads its WRK line. An https:// URL makes
    wrk speak TLS; it does not check the server's certificate (wrk has no option to)."""
    runs = 0

    def __init__(self, seconds):
        self.seconds = seconds

    def run(self, url, mode, threads, conns, token=None):
        Wrk.runs += 1
        prefix = f"r{os.getpid()}x{Wrk.runs}"
        steal = steal_ticks()
        cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{self.seconds}s", "--timeout", "5s",
               "-s", LUA, url, "--", mode, prefix] + ([token] if token else [])
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

    def __init__(self, binary, election_ms, fast_failover=True, tls=True):
        """tls: the nodes' own TLS (HTTPS API, mutual TLS on Raft and the peer channel);
        False: `insecure: true`, plain TCP everywhere."""
        self.cluster = Cluster(3, binary=binary, election_ms=election_ms, insecure=not tls)
        self.tls = self.cluster.tls  # the client's ssl context, None without TLS
        self.headers = {"Content-Type": "application/json"}  # every write the prober sends
        if not fast_failover:
            self.name = "contactd (fast failover off)"
            for node in self.cluster.nodes:
                with open(node.config) as f:
                    text = f.read()
                with open(node.config, "w") as f:
                    f.write(text.replace("raft:\n", "raft:\n  fast_failover: false\n", 1))

    def start(self):
        self.cluster.start()
        self.cluster.wait_ready()
        self.cluster.install_model(MODEL)
        # Every request carries the admin token the first leader wrote.
        self.token = self.cluster.find_token()
        self.headers["Authorization"] = f"Bearer {self.token}"

    def endpoints(self):
        return [("127.0.0.1", n.api_port) for n in self.cluster.nodes]

    def leader(self):
        node = self.cluster.wait_leader()
        return self.cluster.nodes.index(node)

    def url(self, i):
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.cluster.nodes[i].api_port}"

    def connect(self, host, port, timeout):
        return connection(host, port, timeout, self.tls)

    def write(self, conn, key):
        body = json.dumps({"key": key, "channel": "chat"})
        conn.request("POST", "/v1/contacts", body=body, headers=self.headers)
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

    def __init__(self, root, election_ms, tls=False):
        """tls: as contactd runs, HTTPS for clients (a server certificate, no client
        certificates) and mutual TLS between members, certificates from ops/make-certs."""
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.election_ms = election_ms
        self.headers = {"Content-Type": "application/json"}  # every write the prober sends
        ports = free_ports(6)
        self.members = [{"name": f"e{i + 1}", "client": ports[2 * i], "peer": ports[2 * i + 1],
                         "proc": None} for i in range(3)]
        self.tls = None
        self.scheme = "http"
        if tls:
            # Each certificate names its member and carries IP 127.0.0.1, where all listen.
            self.tls_dir = os.path.join(root, "tls")
            make_certs(self.tls_dir, *(m["name"] for m in self.members))
            self.ca_file = os.path.join(self.tls_dir, "ca.crt")
            self.tls = ssl.create_default_context(cafile=self.ca_file)
            self.scheme = "https"

    def tls_flags(self, m):
        if self.tls is None:
            return []
        cert = os.path.join(self.tls_dir, m["name"] + ".crt")
        key = os.path.join(self.tls_dir, m["name"] + ".key")
        # Clients: the server's certificate only. No --trusted-ca-file there: in etcd 3.4 it
        # makes the client port demand a client certificate, which contactd's API does not.
        # Members: mutual TLS, each checking the other's certificate against the CA.
        return ["--cert-file", cert, "--key-file", key,
                "--peer-cert-file", cert, "--peer-key-file", key,
                "--peer-trusted-ca-file", self.ca_file, "--peer-client-cert-auth"]

    def start_member(self, m):
        s = self.scheme
        initial = ",".join(f"{x['name']}={s}://127.0.0.1:{x['peer']}" for x in self.members)
        client, peer = f"{s}://127.0.0.1:{m['client']}", f"{s}://127.0.0.1:{m['peer']}"
        cmd = ["etcd", "--name", m["name"], "--data-dir", os.path.join(self.root, m["name"]),
               "--listen-client-urls", client, "--advertise-client-urls", client,
               "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
               "--initial-cluster", initial, "--initial-cluster-state", "new",
               "--heartbeat-interval", str(max(10, self.election_ms // 10)),
               "--election-timeout", str(self.election_ms), "--pre-vote",
               "--log-level", "error"] + self.tls_flags(m)
        logf = open(os.path.join(self.root, m["name"] + ".log"), "ab")
        m["proc"] = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT)

    def status(self, m):
        conn = self.connect("127.0.0.1", m["client"], 2)
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
        return f"{self.scheme}://127.0.0.1:{self.members[i]['client']}"

    def connect(self, host, port, timeout):
        return connection(host, port, timeout, self.tls)

    def write(self, conn, key):
        import base64
        body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                           "value": base64.b64encode(b'{"channel":"chat"}').decode()})
        conn.request("POST", "/v3/kv/put", body=body, headers=self.headers)
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

class Prober:
    """Open-loop writes: a new write every `every` seconds, each on a connection of its own
    to the next endpoint in turn, whatever became of the earlier ones. A write that hangs
    on a node that lost its leader (until the client's timeout) then holds up no later
    write, so the figure measures when the service takes writes again, not the timeout of
    one client. Records when each acknowledged write was sent and answered. With TLS each
    write's connection makes a full handshake (no session resumed), as a new client would."""

    def __init__(self, system, every, timeout, tag):
        self.system = system
        self.endpoints = system.endpoints()
        self.every = every
        self.timeout = timeout
        self.tag = tag
        self.lock = threading.Lock()
        self.done = []  # (sent, answered), monotonic seconds
        self.stop = threading.Event()
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=int(timeout / every) + 16)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def one(self, i, key):
        host, port = self.endpoints[i]
        conn = self.system.connect(host, port, self.timeout)
        sent = time.monotonic()
        try:
            ok = self.system.write(conn, key)
        except (OSError, http.client.HTTPException):
            ok = False
        finally:
            conn.close()
        if ok:
            with self.lock:
                self.done.append((sent, time.monotonic()))

    def loop(self):
        seq = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            seq += 1
            self.pool.submit(self.one, seq % len(self.endpoints), f"p{os.getpid()}-{self.tag}-{seq}")
            next_at += self.every
            time.sleep(max(0.0, next_at - time.monotonic()))

    def acked(self):
        with self.lock:
            return len(self.done)

    def first_after(self, t):
        """When the first write sent at or after t was acknowledged, or None."""
        with self.lock:
            answers = [a for s, a in self.done if s >= t]
        return min(answers) if answers else None

    def close(self):
        self.stop.set()
        self.thread.join()
        self.pool.shutdown(wait=True)


def failover(system, trials, every, timeout):
    """Client-observed unavailability after SIGKILL of the leader, one figure per trial:
    from the kill to the first acknowledged write that was sent after it."""
    gaps = []
    for trial in range(trials):
        leader = system.leader()
        p = Prober(system, every, timeout, trial)
        try:
            wait(lambda: p.acked() >= 20, 30, f"{system.name}: writes before trial {trial + 1}")
            kill_at = time.monotonic()
            system.kill(leader)
            wait(lambda: p.first_after(kill_at), 60,
                 f"{system.name}: a write acknowledged after the leader's kill")
        finally:
            p.close()
        gap_ms = (p.first_after(kill_at) - kill_at) * 1000
        gaps.append(gap_ms)
        log(f"  {system.name} trial {trial + 1}: unavailable {gap_ms:.0f} ms")
        system.restart(leader)
    return gaps


# ---- The run --------------------------------------------------------------------------------

def measure(system, wrk, trials, every, timeout):
    """wrk loads (none when wrk is None), then the failover trials."""
    log(f"{system.name}: starting 3 members")
    system.start()
    res = {}
    try:
        if wrk is not None:
            url = system.url(system.leader())
            log(f"{system.name}: one client, sequential writes ({wrk.seconds} s)")
            res["seq"] = wrk.run(url, system.mode, 1, 1,
                                 getattr(system, "token", None))
            follower = (system.leader() + 1) % 3
            log(f"{system.name}: one client through a follower ({wrk.seconds} s)")
            res["seq_f"] = wrk.run(system.url(follower), system.mode, 1, 1,
                                   getattr(system, "token", None))
            log(f"{system.name}: 64 clients ({wrk.seconds} s)")
            res["par"] = wrk.run(system.url(system.leader()), system.mode, 2, 64,
                                 getattr(system, "token", None))
        log(f"{system.name}: {trials} failovers")
        res["failover"] = failover(system, trials, every, timeout)
    finally:
        system.close()
    return res


def table(fl, c, e, election_ms):
    def row(name, a, b):
        print(f"| {name:<50} | {a:>14} | {b:>14} |")
    floor_p50 = fl["fdatasync_4k"][0] + fl["loopback_rtt"][0]
    print()
    print(f"floors: fdatasync 4 KiB p50 {fl['fdatasync_4k'][0]:.0f} us (p99 "
          f"{fl['fdatasync_4k'][1]:.0f}), O_DIRECT|O_DSYNC 4 KiB p50 "
          f"{fl['odirect_dsync_4k'][0]:.0f} us, loopback TCP round trip p50 "
          f"{fl['loopback_rtt'][0]:.0f} us; one replicated commit cannot beat "
          f"{floor_p50:.0f} us")
    print(f"election timeout {election_ms} ms, heartbeat {max(10, election_ms // 10)} ms, "
          "pre-vote on, for both systems")
    print("TLS on both: HTTPS to the API (server certificate), mutual TLS between members")
    print()
    row("figure", "contactd", "etcd")
    print(f"|{'-' * 52}|{'-' * 16}|{'-' * 16}|")
    row("commit latency p50, 1 client (us)", f"{c['seq']['p50_us']:.0f}",
        f"{e['seq']['p50_us']:.0f}")
    row("commit latency p99, 1 client (us)", f"{c['seq']['p99_us']:.0f}",
        f"{e['seq']['p99_us']:.0f}")
    row("writes/s, 1 client", f"{c['seq']['rate']:.0f}", f"{e['seq']['rate']:.0f}")
    row("commit latency p50 / p99, 1 client via a follower (us)",
        f"{c['seq_f']['p50_us']:.0f} / {c['seq_f']['p99_us']:.0f}",
        f"{e['seq_f']['p50_us']:.0f} / {e['seq_f']['p99_us']:.0f}")
    row("writes/s, 64 clients", f"{c['par']['rate']:.0f}", f"{e['par']['rate']:.0f}")
    row("latency p50 / p99, 64 clients (ms)",
        f"{c['par']['p50_us'] / 1000:.1f} / {c['par']['p99_us'] / 1000:.1f}",
        f"{e['par']['p50_us'] / 1000:.1f} / {e['par']['p99_us'] / 1000:.1f}")
    row("unavailability after leader SIGKILL, median (ms)",
        f"{statistics.median(c['failover']):.0f}", f"{statistics.median(e['failover']):.0f}")
    row("unavailability, max (ms)", f"{max(c['failover']):.0f}", f"{max(e['failover']):.0f}")
    row("the same, fast failover off: median / max (ms)",
        f"{statistics.median(c['plain']):.0f} / {max(c['plain']):.0f}", "")
    row("CPU stolen by the hypervisor in the loads (ms)",
        f"{c['seq']['steal_ms'] + c['par']['steal_ms']:.0f}",
        f"{e['seq']['steal_ms'] + e['par']['steal_ms']:.0f}")
    print()
    print(f"RESULT commit_p50_us={c['seq']['p50_us']:.0f} floor_p50_us={floor_p50:.0f} "
          f"etcd_put_p50_us={e['seq']['p50_us']:.0f} "
          f"follower_p50_us={c['seq_f']['p50_us']:.0f} "
          f"etcd_follower_p50_us={e['seq_f']['p50_us']:.0f} tput={c['par']['rate']:.0f} "
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
    ap.add_argument("--every-ms", type=int, default=5,
                    help="during the failovers, a new write every this many ms")
    ap.add_argument("--timeout", type=float, default=2.0,
                    help="during the failovers, one write's timeout, seconds")
    ap.add_argument("--dir", default=None, help="where the data directories go")
    args = ap.parse_args()
    if min(args.trials, args.seconds, args.every_ms) < 1 or args.timeout <= 0:
        ap.error("--trials, --seconds and --every-ms must be at least 1, --timeout above 0")
    root = tempfile.mkdtemp(prefix="contactd-bench-", dir=args.dir)
    tempfile.tempdir = root  # the contactd harness makes its node directories here too
    try:
        log(f"floors, measured in {root}")
        fl = floors(args.floor, root)
        wrk = Wrk(args.seconds)
        etcd = Etcd(os.path.join(root, "etcd"), args.election_ms, tls=True)
        e = measure(etcd, wrk, args.trials, args.every_ms / 1000, args.timeout)
        contactd = Contactd(args.contactd, args.election_ms)
        c = measure(contactd, wrk, args.trials, args.every_ms / 1000, args.timeout)
        plain = Contactd(args.contactd, args.election_ms, fast_failover=False)
        c["plain"] = measure(plain, None, args.trials, args.every_ms / 1000,
                             args.timeout)["failover"]
        table(fl, c, e, args.election_ms)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Failure as err:
        print(f"bench: {err}", file=sys.stderr)
        sys.exit(1)
