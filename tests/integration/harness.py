"""Real contactd processes on 127.0.0.1 for the integration tests.

A Cluster writes one node file per member into a scratch directory, starts each node as
its own process, talks to it over the HTTPS API, and kills it with SIGKILL when a test says
so. Nodes run TLS as production does: the cluster makes a throwaway CA and a certificate per
member with ops/make-certs (`insecure=True` makes a plain test bed instead), and every
request carries the admin token the first leader wrote to its data directory
(DATA_DIR/admin.token; adapters/api/tokens.c). Every wait polls a condition with a deadline; nothing sleeps a fixed time to let
something happen.
"""
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The test tools: tests/lib (wsclient, a WebSocket client) and tests/browser (cdp, the
# Chromium driver), importable by every test that imports the harness.
sys.path[1:1] = [os.path.join(HERE, "..", "lib"), os.path.join(HERE, "..", "browser")]
MODEL = os.path.join(HERE, "data", "model.yaml")
MAKE_CERTS = os.path.join(HERE, "..", "..", "ops", "make-certs")
# The pages every node serves: the repository's, whatever is installed on the machine.
WEB_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "web"))


def make_certs(directory, *names):
    """ops/make-certs: a CA in directory (made once) and NAME.crt/NAME.key for each name
    ("n1", or "n1:10.0.0.1" to add IP addresses)."""
    subprocess.run([MAKE_CERTS, directory, *names], check=True)


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, flush=True)


_ports_given = set()  # handed out by free_ports() in this process: never twice


def free_ports(n):
    """n distinct ports the kernel says are free now, none handed out before by this process
    (the kernel may hand a port just closed to the next caller: two nodes of one cluster
    must not get the same one)."""
    socks, ports = [], []
    while len(ports) < n:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            ports.append(port)
    for s in socks:
        s.close()
    return ports


class Failure(Exception):
    pass


# ---- Event helpers shared by the tests of /v1/events and of what builds on it ----------

def event_key(text):
    """An event id "INDEX.N" as a tuple that sorts as the ids do."""
    index, n = text.split(".")
    return int(index), int(n)


def events_after(node, after, kinds=""):
    """Every event node keeps after the id `after` (of the given comma-separated kinds)."""
    out = []
    query = f"&kind={kinds}" if kinds else ""
    while True:
        code, doc = node.request("GET", f"/v1/events?after={after}&limit=10000{query}")
        if code != 200:
            raise Failure(f"{node.name}: /v1/events answered {code} {doc}")
        out.extend(doc["events"])
        if doc["last_id"] == after:
            return out
        after = doc["last_id"]


def produce_answered(cluster, stop, counts, prefix):
    """Until stop is set: chat contacts (keys prefix0, prefix1, ...) through every live node
    in turn, and the offers made meanwhile accepted and ended. counts["created"] counts the
    contacts made."""
    i = 0
    while not stop.is_set():
        live = cluster.live()
        node = live[i % len(live)]
        try:
            code, doc = node.request("POST", "/v1/contacts",
                                     {"key": f"{prefix}{i}", "channel": "chat"}, timeout=5)
            if code in (200, 201):
                counts["created"] += 1
                i += 1
            code, doc = node.request("GET", "/v1/contacts?state=offered&limit=5", timeout=5)
            for x in doc["items"] if code == 200 else []:
                node.request("POST", f"/v1/offers/{x['offer']}/accept", {"agent": x["agent"]})
                node.request("POST", f"/v1/contacts/{x['id']}/end")
        except OSError:
            time.sleep(0.05)


def write_secret(directory):
    """A fresh cluster secret in directory/cluster.secret, readable by its owner only, as
    `openssl rand -hex 32` writes one. Returns (path, the secret's bytes as nodes use
    them)."""
    path = os.path.join(directory, "cluster.secret")
    secret = os.urandom(32).hex().encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secret + b"\n")
    return path, secret


def wait(cond, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last:
                return last
        except (OSError, http.client.HTTPException, ValueError) as e:
            last = e
        time.sleep(interval)
    raise Failure(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Client:
    """One keep-alive connection to one node."""

    def __init__(self, port, timeout=10.0, host="127.0.0.1", tls=None, token=None):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.tls = tls  # an ssl.SSLContext: HTTPS; None: plain HTTP
        self.token = token  # a bearer token, or a function giving one (or None): sent if any
        self.conn = None

    def connect(self, timeout):
        if self.tls is None:
            return http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                           context=self.tls)

    def request(self, method, path, body=None, raw=None, timeout=None):
        """Returns (status, parsed JSON body or None). Raises OSError when the node does
        not answer."""
        wait = timeout or self.timeout
        if self.conn is None:
            self.conn = self.connect(wait)
        self.conn.timeout = wait  # this request's, on a connection made for an earlier one
        if self.conn.sock is not None:
            self.conn.sock.settimeout(wait)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        token = self.token() if callable(self.token) else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            res = self.conn.getresponse()
            text = res.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise OSError(f"node on port {self.port} did not answer {method} {path}")
        ctype = res.getheader("Content-Type", "")
        if ctype.startswith("text/"):
            return res.status, text.decode()  # /metrics, CSV and HTML reports
        if ctype and not ctype.startswith("application/json"):
            return res.status, text  # a PDF
        doc = json.loads(text) if text else None
        return res.status, doc

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Node:
    def __init__(self, cluster, name, raft_port, api_port, peer_port):
        self.cluster = cluster
        self.name = name
        self.raft_port = raft_port
        self.api_port = api_port
        self.peer_port = peer_port  # the peer channel: members forward to each other here
        self.dir = os.path.join(cluster.root, name)
        self.data_dir = os.path.join(self.dir, "data")
        self.config = os.path.join(self.dir, "node.yaml")
        self.proc = None
        self.join = False
        self.generation = 0  # bumped at each kill or stop: connections are made afresh
        self.prefix = []  # command prefix, e.g. nsenter into a mount namespace
        self.fs_root = ""  # where this test sees the node's root, e.g. /proc/PID/root
        self.host = "127.0.0.1"  # or an address in a network namespace the test made
        self.log = None

    @property
    def raft_addr(self):
        return f"{self.host}:{self.raft_port}"

    @property
    def api_addr(self):
        return f"{self.host}:{self.api_port}"

    @property
    def peer_addr(self):
        return f"{self.host}:{self.peer_port}"

    def write_config(self, peers):
        os.makedirs(self.dir, exist_ok=True)
        c = self.cluster
        lines = [
            f"id: {self.name}",
            "listen:",
            f"  api: {self.api_addr}",
            f"  raft: {self.raft_addr}",
            f"  peer: {self.peer_addr}",
            f"data_dir: {self.data_dir}",
            f"web_root: {WEB_ROOT}",
        ]
        lines += c.security_lines(self)
        lines.append("peers:")
        for p in peers:
            lines.append(f'  - {{ id: {p.name}, raft: "{p.raft_addr}", api: "{p.api_addr}", '
                         f'peer: "{p.peer_addr}" }}')
        lines += [
            f"join: {'true' if self.join else 'false'}",
            "raft:",
            f"  election_timeout_ms: {c.election_ms}",
            f"  heartbeat_ms: {max(10, c.election_ms // 10)}",
            f"  snapshot_threshold: {c.snapshot_threshold}",
            f"  snapshot_trailing: {c.snapshot_trailing}",
            f"  snapshot_growth: {'true' if c.snapshot_growth else 'false'}",
            f"log_level: {c.log_level}",
        ]
        if c.lost_after_ms is not None:
            lines += ["sessions:", f"  lost_after_ms: {c.lost_after_ms}"]
        lines += c.extra
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        assert self.proc is None or self.proc.poll() is not None
        self.log = open(os.path.join(self.dir, "contactd.log"), "ab")
        self.proc = subprocess.Popen(self.prefix + [self.cluster.binary, "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL: no chance to flush or say goodbye."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.cluster.forget_clients(self)

    def stop(self, timeout=15):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                raise Failure(f"{self.name} did not stop within {timeout}s of SIGTERM")
        self.cluster.forget_clients(self)
        return self.proc.returncode if self.proc else None

    def client(self):
        return self.cluster.client_for(self)

    def new_client(self, timeout=10.0, token=None):
        """A connection of the caller's own (not shared with the thread's others), with the
        admin token or the token given ("" for none)."""
        return Client(self.api_port, timeout=timeout, host=self.host, tls=self.cluster.tls,
                      token=self.cluster.find_token if token is None else token)

    def request(self, method, path, body=None, **kw):
        return self.client().request(method, path, body, **kw)

    def status(self):
        code, doc = self.request("GET", "/v1/cluster", timeout=3)
        if code != 200:
            raise Failure(f"{self.name}: /v1/cluster answered {code} {doc}")
        return doc

    def log_tail(self, n=30):
        try:
            with open(os.path.join(self.dir, "contactd.log"), "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""


class Cluster:
    def __init__(self, n, binary=None, election_ms=1000, snapshot_threshold=4096,
                 snapshot_trailing=2048, snapshot_growth=True, log_level="info", keep=False,
                 lost_after_ms=None, write=True, insecure=False, secret=False, extra=()):
        self.binary = os.path.abspath(binary or os.environ["CONTACTD"])
        self.root = tempfile.mkdtemp(prefix="contactd-it-")
        self.election_ms = election_ms
        self.snapshot_threshold = snapshot_threshold
        self.snapshot_trailing = snapshot_trailing
        self.snapshot_growth = snapshot_growth  # False: snapshots exactly every threshold
        self.log_level = log_level
        self.lost_after_ms = lost_after_ms  # sessions.lost_after_ms; None: the default
        self.keep = keep
        self.insecure = insecure  # True: no TLS, no secret (a test bed)
        self.use_secret = secret  # True: a cluster secret besides TLS
        self.extra = list(extra)  # more lines of every node file
        self.secret_file, self.secret = write_secret(self.root)
        self.token = None  # the first admin token, once a leader has written it
        self.token_file = None
        self.tls_dir = os.path.join(self.root, "tls")
        self.ca_file = os.path.join(self.tls_dir, "ca.crt")
        self.tls = None
        self.cert_hosts = {}  # node name -> the host its certificate was made for
        if not insecure:
            make_certs(self.tls_dir)  # the CA alone; members' certificates come with them
            self.tls = ssl.create_default_context(cafile=self.ca_file)
        self.nodes = []
        self.clients = {}
        self.clients_lock = threading.Lock()
        for _ in range(n):
            self.new_node()
        if write:  # else the test places its nodes first (hosts), then calls write_configs
            self.write_configs()

    def write_configs(self):
        for node in self.nodes:
            node.write_config(self.nodes)

    def cert(self, name):
        """(certificate, key) paths of a member's."""
        return (os.path.join(self.tls_dir, f"{name}.crt"),
                os.path.join(self.tls_dir, f"{name}.key"))

    def member_tls(self, name):
        """An ssl client context presenting member name's certificate, as that member does
        to the others."""
        ctx = ssl.create_default_context(cafile=self.ca_file)
        ctx.load_cert_chain(*self.cert(name))
        return ctx

    def security_lines(self, node):
        """The node file's tls (or insecure) and secret lines for node, making its
        certificate for the host it listens on first."""
        if self.insecure:
            return ["insecure: true"]
        if self.cert_hosts.get(node.name) != node.host:
            extra = f":{node.host}" if node.host != "127.0.0.1" else ""
            make_certs(self.tls_dir, node.name + extra)
            self.cert_hosts[node.name] = node.host
        cert, key = self.cert(node.name)
        lines = ["tls:", f"  cert: {cert}", f"  key: {key}", f"  ca: {self.ca_file}"]
        if self.use_secret:
            lines.append(f"cluster_secret_file: {self.secret_file}")
        return lines

    def find_token(self):
        """The first admin token, which the first leader writes to DATA_DIR/admin.token;
        None until one has."""
        if self.token is None:
            for node in self.nodes:
                path = node.fs_root + os.path.join(node.data_dir, "admin.token")
                try:
                    with open(path) as f:
                        text = f.read().strip()
                except OSError:
                    continue
                if text:
                    self.token, self.token_file = text, path
                    break
        return self.token

    def make_token(self, name, role, agent=None, **fields):
        """A new API token (POST /v1/tokens as the admin); returns its secret."""
        body = {"name": name, "role": role, **fields}
        if agent is not None:
            body["agent"] = agent
        code, doc = self.wait_leader().request("POST", "/v1/tokens", body)
        if code != 201:
            raise Failure(f"token {name}: {code} {doc}")
        return doc["token"]

    def wait_token(self, timeout=30):
        return wait(self.find_token, timeout, "the first admin token in a data directory")

    def ctl_env(self):
        """The environment contactctl needs to reach these nodes as their admin."""
        env = dict(os.environ)
        if not self.insecure:
            env["CONTACTD_CACERT"] = self.ca_file
        self.wait_token()
        env["CONTACTD_TOKEN_FILE"] = self.token_file
        return env

    def new_node(self):
        raft_port, api_port, peer_port = free_ports(3)
        node = Node(self, f"n{len(self.nodes) + 1}", raft_port, api_port, peer_port)
        self.nodes.append(node)
        return node

    def client_for(self, node):
        """This thread's connection to node, made afresh after the node restarted. Only
        the owning thread touches a connection."""
        key = (threading.get_ident(), node.name)
        with self.clients_lock:
            client = self.clients.get(key)
            if client is None or client.generation != node.generation:
                if client is not None:
                    client.close()
                client = Client(node.api_port, host=node.host, tls=self.tls,
                                token=self.find_token)
                client.generation = node.generation
                self.clients[key] = client
        return client

    def forget_clients(self, node):
        node.generation += 1

    def start(self):
        for node in self.nodes:
            node.start()
        return self.wait_leader()

    def live(self):
        return [n for n in self.nodes if n.alive()]

    def leader(self):
        """The node every live node that knows a leader names, or None."""
        names = set()
        for node in self.live():
            try:
                st = node.status()
            except (OSError, Failure):
                continue
            if st["leader"]:
                names.add(st["leader"])
        if len(names) != 1:
            return None
        name = names.pop()
        return next((n for n in self.nodes if n.name == name and n.alive()), None)

    def wait_leader(self, timeout=30):
        """The leader every live node agrees on; its status needs a token, which the first
        leader writes within a second or so of its election."""
        def agreed():
            return self.find_token() and self.leader()
        return wait(agreed, timeout, "a leader every live node agrees on, and a token")

    def wait_own_leader(self, nodes, timeout=30):
        """The node of nodes that says it leads, asking only those (others may be paused)."""
        def leading():
            for n in nodes:
                try:
                    if n.status()["leader"] == n.name:
                        return n
                except (OSError, Failure):
                    pass
            return None
        return wait(leading, timeout, f"a leader among {', '.join(n.name for n in nodes)}")

    @contextlib.contextmanager
    def paused_behind(self, node, writes, key, channel):
        """SIGSTOPs node, makes another leader and writes `writes` contacts through it, so
        that node is far behind (past a snapshot with a low threshold) when the block ends
        and it is resumed. A leader streams its log to a paused follower into the socket; a
        new leader probes it first and sends nothing more until it answers: hence the
        leader is killed and restarted. Yields the new leader."""
        leader = self.wait_leader()
        if leader is node:
            raise Failure(f"paused_behind: {node.name} is the leader")
        os.kill(node.proc.pid, signal.SIGSTOP)
        try:
            leader.kill()
            leader.start()
            new = self.wait_own_leader([n for n in self.nodes if n is not node])
            for i in range(writes):
                code, doc = new.request("POST", "/v1/contacts",
                                        {"key": f"{key}{i}", "channel": channel}, timeout=5)
                if code not in (200, 201):
                    raise Failure(f"create {key}{i} while {node.name} is paused: {code} {doc}")
            yield new
        finally:
            os.kill(node.proc.pid, signal.SIGCONT)

    def wait_ready(self, nodes=None, timeout=30):
        nodes = nodes or self.live()
        for node in nodes:
            wait(lambda: node.request("GET", "/readyz", timeout=3)[0] == 200, timeout,
                 f"{node.name} ready")

    def converged(self, nodes=None):
        """Every node has applied the same index and holds the same state digest."""
        nodes = nodes or self.live()
        sts = [n.status() for n in nodes]
        idx = {s["applied_index"] for s in sts}
        dig = {s["state_digest"] for s in sts}
        if len(idx) == 1 and len(dig) == 1:
            return sts
        self.last_divergence = [(s["id"], s["role"], s["applied_index"], s["state_digest"])
                                for s in sts]
        return None

    def wait_converged(self, nodes=None, timeout=30):
        # A barrier through the leader makes every node's commit index final first.
        leader = self.wait_leader(timeout)
        leader.request("GET", "/v1/contacts?limit=1")
        self.last_divergence = None
        try:
            return wait(lambda: self.converged(nodes), timeout, "identical applied state")
        except Failure as e:
            raise Failure(f"{e}; nodes: {self.last_divergence}")

    def install_model(self, path=MODEL):
        with open(path) as f:
            text = f.read()
        node = self.wait_leader()
        code, doc = node.request("POST", "/v1/model", raw=text)
        if code != 200:
            raise Failure(f"model install answered {code} {doc}")

    def stop_all(self, timeout=20):
        """SIGTERM to every live node at once, then waits: each exits through its own
        shutdown path (where the sanitizers check for leaks); one that hangs is killed."""
        live = [n for n in self.nodes if n.alive()]
        for node in live:
            node.proc.send_signal(signal.SIGTERM)
        deadline = time.time() + timeout
        hung = []
        for node in live:
            try:
                node.proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                hung.append(node.name)
        return hung

    SANITIZER_MARKS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:")

    def sanitizer_reports(self):
        """Nodes whose log holds an AddressSanitizer, LeakSanitizer or UBSan report."""
        found = []
        for node in self.nodes:
            try:
                with open(os.path.join(node.dir, "contactd.log"), "rb") as f:
                    text = f.read()
            except OSError:
                continue
            if any(m in text for m in self.SANITIZER_MARKS):
                found.append(node.name)
        return found

    def close(self, ok=True):
        try:
            self.stop_all()
        except Exception:
            pass
        for node in self.nodes:
            try:
                node.kill()
            except Exception:
                pass
        for c in self.clients.values():
            c.close()
        if ok and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            log("node logs kept in", self.root)

    def dump_logs(self):
        for node in self.nodes:
            log(f"---- {node.name} log tail ----")
            print(node.log_tail(), flush=True)


def run(cluster, body):
    """Runs body(cluster), then stops the nodes. On failure prints the nodes' log tails,
    keeps their files, says FAIL and exits non-zero."""
    ok = False
    try:
        body(cluster)
        hung = cluster.stop_all()
        if hung:
            raise Failure(f"{', '.join(hung)} did not stop within 20 s of SIGTERM")
        bad = cluster.sanitizer_reports()
        if bad:
            raise Failure(f"sanitizer report in the log of {', '.join(bad)}")
        ok = True
        log("PASS")
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
    finally:
        if not ok:
            cluster.dump_logs()
        cluster.close(ok)
    if not ok:
        sys.exit(1)


def main(body):
    """Runs body() for a test that starts its own processes: a Failure says FAIL and exits
    non-zero."""
    try:
        body()
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)
