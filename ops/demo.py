"""The demonstration cluster: three contactd nodes on 127.0.0.1, the sample routing model,
and traffic on all four channels (chats through the chat page's WebSocket), with the
chat page, the agent desk and the wallboard to watch in a browser, until Ctrl-C (SIGINT)
or SIGTERM stops everything it started. ops/demo builds and then runs this; see README.md.

    python3 ops/demo.py --contactd build/daemon/contactd --contactctl build/.../contactctl
        [--dir DIR] [--base-port N] [--model FILE] [--scale X] [--for SECONDS]
"""
import argparse
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The pages the nodes serve: the repository's (docs/config.md, web_root).
WEB_ROOT = os.path.abspath(os.path.join(HERE, "..", "web"))
sys.path.insert(0, HERE)

import traffic  # noqa: E402


def port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def https(port, tls, timeout):
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls)


def get(port, tls, path, timeout=2):
    conn = https(port, tls, timeout)  # the public routes only: no token
    try:
        conn.request("GET", path)
        res = conn.getresponse()
        return res.status, json.loads(res.read() or b"null")
    finally:
        conn.close()


class Demo:
    def __init__(self, args):
        self.args = args
        self.root = os.path.abspath(args.dir)
        self.names = ["n1", "n2", "n3"]
        self.api = [args.base_port + 1 + i for i in range(3)]
        self.raft = [args.base_port + 101 + i for i in range(3)]
        self.peer = [args.base_port + 201 + i for i in range(3)]
        self.pager_port = args.base_port + 301
        self.procs = []
        self.stopping = False
        self.tls_dir = os.path.join(self.root, "tls")
        self.ca = os.path.join(self.tls_dir, "ca.crt")
        self.tls = None  # the clients' context, once the CA exists
        self.token_file = None  # the first admin token, once the leader has written it

    def write_nodes(self):
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        # A throwaway CA and a certificate per member (docs/security.md), fresh each demo:
        # TLS on every connection, as in production.
        subprocess.run([os.path.join(HERE, "make-certs"), self.tls_dir] + self.names,
                       check=True)
        self.tls = ssl.create_default_context(cafile=self.ca)
        peers = "\n".join(
            f'  - {{ id: {n}, raft: "127.0.0.1:{r}", api: "127.0.0.1:{a}", '
            f'peer: "127.0.0.1:{p}" }}'
            for n, r, a, p in zip(self.names, self.raft, self.api, self.peer))
        for n, r, a, p in zip(self.names, self.raft, self.api, self.peer):
            with open(os.path.join(self.root, f"{n}.yaml"), "w") as f:
                f.write(f"# Demo node {n}: every member on this machine. Schema: docs/config.md\n"
                        f"id: {n}\nlisten:\n  api: 127.0.0.1:{a}\n  raft: 127.0.0.1:{r}\n"
                        f"  peer: 127.0.0.1:{p}\n"
                        f"data_dir: {self.root}/{n}\n"
                        f"web_root: {WEB_ROOT}\n"
                        f"tls:\n  cert: {self.tls_dir}/{n}.crt\n  key: {self.tls_dir}/{n}.key\n"
                        f"  ca: {self.ca}\n"
                        f"peers:\n{peers}\n"
                        # Scheduled reports with a directory audience land here: one
                        # folder all three members share, as a shared mount would be.
                        f"reports:\n  directory: {self.root}/reports\n"
                        # An admin may rehearse failures here (contactctl drill).
                        "drills: true\n"
                        "raft: { election_timeout_ms: 500, heartbeat_ms: 50 }\n")

    def start_nodes(self):
        for n in self.names:
            log = open(os.path.join(self.root, f"{n}.log"), "ab")
            self.procs.append(subprocess.Popen(
                [self.args.contactd, "--config", os.path.join(self.root, f"{n}.yaml")],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def supervise(self):
        """Starts a node again 5 s after it exits, as its service manager would
        (the systemd unit restarts contactd on failure): a drill or a kill -9 costs the demo
        a node for a moment, not for good."""
        def loop():
            down = {}
            while not self.stopping:
                for i, (n, p) in enumerate(zip(self.names, self.procs)):
                    if p.poll() is None:
                        continue
                    since = down.setdefault(n, time.monotonic())
                    if time.monotonic() - since >= 5 and not self.stopping:
                        print(f"demo: node {n} exited ({p.returncode}); starting it again",
                              flush=True)
                        log = open(os.path.join(self.root, f"{n}.log"), "ab")
                        self.procs[i] = subprocess.Popen(
                            [self.args.contactd, "--config",
                             os.path.join(self.root, f"{n}.yaml")],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                        del down[n]
                time.sleep(0.5)
        threading.Thread(target=loop, daemon=True).start()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            try:
                if all(get(p, self.tls, "/readyz")[0] == 200 for p in self.api):
                    return True
            except (OSError, ValueError):
                pass
            for n, p in zip(self.names, self.procs):
                if p.poll() is not None:
                    raise SystemExit(f"demo: node {n} exited ({p.returncode}); its log is "
                                     f"{self.root}/{n}.log")
            time.sleep(0.1)
        return False

    def wait_token(self, timeout=30):
        """The first admin token, which the cluster's first leader writes to its data
        directory (adapters/api/tokens.c)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            for n in self.names:
                path = os.path.join(self.root, n, "admin.token")
                if os.path.exists(path) and os.path.getsize(path) > 0:
                    self.token_file = path
                    with open(path) as f:
                        return f.read().strip()
            time.sleep(0.1)
        raise SystemExit("demo: no admin token appeared in the nodes' data directories")

    def start_pager(self):
        """The on-call pager of the sample model's escalation: prints each page it gets."""
        outer = self

        class Pager(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    page = json.loads(body)
                    print(f"demo: PAGE {page['severity']} fault {page['fault']}: "
                          f"{page['kind']} on {page['component']} ({page['path']}, level "
                          f"{page['level']}); acknowledge it: contactctl fault ack "
                          f"{page['fault']}", flush=True)
                except (ValueError, KeyError):
                    pass
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", outer.pager_port), Pager)
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def install_model(self, token):
        # The contingency model the sample's runbooks install, saved first, then the model.
        for path, url in ((os.path.join(HERE, "contingency-model.yaml"),
                           "/v1/model/saved/contingency?comment=sample%20contingency"),
                          (self.args.model, "/v1/model?comment=sample%20model")):
            with open(path, "rb") as f:
                text = f.read()
            # The sample model pages http://127.0.0.1:8099/page: this demo's pager.
            text = text.replace(b"http://127.0.0.1:8099/",
                                f"http://127.0.0.1:{self.pager_port}/".encode())
            conn = https(self.api[0], self.tls, 10)
            conn.request("POST", url, body=text, headers={"Authorization": f"Bearer {token}"})
            res = conn.getresponse()
            doc = res.read().decode()
            if res.status != 200:
                raise SystemExit(f"demo: {path} was refused ({res.status}): {doc}")

    HUMAN = "lt001"  # the agent left to a person on the desk
    USERS = {"agent": ("agent", "lt001", "demo-agent-pw"),
             "super": ("supervisor", None, "demo-super-pw")}

    def add_users(self, token):
        """Users who sign in on the agent desk: one agent, one supervisor."""
        for name, (role, agent, password) in self.USERS.items():
            body = {"role": role, "password": password}
            if agent:
                body["agent"] = agent
            conn = https(self.api[0], self.tls, 10)
            conn.request("PUT", f"/v1/users/{name}", body=json.dumps(body),
                         headers={"Authorization": f"Bearer {token}",
                                  "Content-Type": "application/json"})
            res = conn.getresponse()
            doc = res.read().decode()
            if res.status != 200:
                raise SystemExit(f"demo: user {name} was refused ({res.status}): {doc}")

    # A report definition the demo installs: every 15 minutes the leader writes the
    # queues' figures since the slot before to the shared reports directory, exactly once.
    DEFINITION = {"title": "Queues, every 15 minutes", "group": "queue",
                  "interval": "total", "format": "html", "schedule": "every 15m",
                  "audience": [{"directory": "queues"}],
                  "comment": "the demo's scheduled report"}

    def add_report_definition(self, token):
        conn = https(self.api[0], self.tls, 10)
        conn.request("PUT", "/v1/report-definitions/queues-15m",
                     body=json.dumps(self.DEFINITION),
                     headers={"Authorization": f"Bearer {token}",
                              "Content-Type": "application/json"})
        res = conn.getresponse()
        doc = res.read().decode()
        if res.status != 200:
            raise SystemExit(f"demo: the report definition was refused ({res.status}): {doc}")

    def stop(self):
        self.stopping = True  # the supervisor starts nothing again from here on
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def banner(self):
        endpoints = ",".join(f"https://127.0.0.1:{p}" for p in self.api)
        ctl = f"{self.args.contactctl}"
        print(f"""
contactd demo: 3 nodes on 127.0.0.1, the sample model ({self.args.model}), traffic on
voice, chat, email and SMS. Node files, data and logs: {self.root}

endpoints={endpoints}

Every connection runs TLS with the demo's own CA, and every request needs a token. The
cluster's first leader wrote an admin token to {self.token_file}; contactctl reads it
from $CONTACTD_TOKEN_FILE:
  export CONTACTD_ENDPOINTS={endpoints}
  export CONTACTD_CACERT={self.ca}
  export CONTACTD_TOKEN_FILE={self.token_file}
  {ctl} token create wallboard --role reporter     # a token of another role, shown once
  {ctl} whoami

Web chat and the agent desk (the browser must trust the demo's CA, {self.ca},
or be told to go on past its warning):
  customer chat page:  https://127.0.0.1:{self.api[0]}/chat/   (any node: /chat/ on each)
  agent desk:          https://127.0.0.1:{self.api[1]}/desk/
    sign in as "agent" / "{self.USERS['agent'][2]}": agent {self.HUMAN}, whom the traffic leaves to you;
    set yourself Available and chat with the customers the chat page brings
  watch a simulated agent's chats read-only: sign in as "super" / "{self.USERS['super'][2]}"
    and open https://127.0.0.1:{self.api[1]}/desk/?agent=lt002
  wallboard:           https://127.0.0.1:{self.api[2]}/wall/   (sign in as "super" too)

Reports (docs/reports.md):
  {ctl} report --period today --group queue --interval 60m
  {ctl} report live                                   # the last 5, 15 and 60 minutes
  {ctl} report --period today --group agent --interval total --pdf today.pdf
  {ctl} reportdef show queues-15m                     # delivered every 15 minutes to
  {ctl} reportdef deliveries queues-15m               #   {self.root}/reports/queues/

Health and failure drills (docs/continuity.md):
  {ctl} health                                        # signals, open faults
  {ctl} fault list
  {ctl} drill kill-leader --dry-run                   # what would happen
  {ctl} drill kill-leader                             # the leader exits at once; the report:
                                                      #   contacts accepted, lost (0), faults
  {ctl} drill pause --node n2 --seconds 5             # n2 stops for 5 s
  {ctl} runbook list                                  # what the cluster does by itself
  {ctl} runbook simulate queue.sales-voice.service_level=bad:600
  {ctl} runbook run sales-voice-collapse              # rehearse it: the contingency model
  {ctl} runbook runs                                  #   goes in; `runbook end ID` puts the
                                                      #   version before back
  (the demo starts a node that exited again after 5 s, as its service manager would;
   a fault pages the sample model's on-call pager, which the demo prints here)

Watch it:
  {ctl} status
  {ctl} queue list
  {ctl} agent list
  {ctl} contact list --state queued
  {ctl} events --follow
  {ctl} model history
  curl -s --cacert {self.ca} -H "Authorization: Bearer $(cat {self.token_file})" \\
    https://127.0.0.1:{self.api[0]}/metrics
The members authenticate each other with their certificates (mutual TLS).
Fail over: kill -9 the leader's process (pids {' '.join(str(p.pid) for p in self.procs)};
  'status' names the leader); the traffic goes on through the other two nodes.
Ctrl-C stops the traffic and the three nodes.
""", flush=True)
        return endpoints


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contactd", required=True)
    ap.add_argument("--contactctl", default="contactctl")
    ap.add_argument("--dir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                  "contactd-demo"))
    ap.add_argument("--base-port", type=int, default=8080,
                    help="API ports base+1..3, Raft ports base+101..103, peer channel "
                    "ports base+201..203")
    ap.add_argument("--model", default=os.path.join(HERE, "sample-model.yaml"))
    ap.add_argument("--scale", type=float, default=1.0, help="arrival rate multiplier")
    ap.add_argument("--for", dest="seconds", type=float, default=0,
                    help="stop after this many seconds (default: until Ctrl-C)")
    args = ap.parse_args()
    if not 1 <= args.base_port <= 65000:
        ap.error("--base-port must be 1..65000")
    demo = Demo(args)
    busy = [p for p in demo.api + demo.raft + demo.peer + [demo.pager_port] if not port_free(p)]
    if busy:
        raise SystemExit(f"demo: ports {busy} are in use on 127.0.0.1 (another demo "
                         "running?); choose others with --base-port N")

    stop = {"now": False}

    def on_signal(*_):
        stop["now"] = True
        demo.stopping = True
        if run_traffic is not None:
            run_traffic.stop.set()

    run_traffic = None
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    demo.write_nodes()
    demo.start_nodes()
    try:
        if not demo.wait_ready():
            if stop["now"]:
                return 0
            raise SystemExit("demo: the cluster did not become ready within 60 s; logs in "
                             + demo.root)
        token = demo.wait_token()
        demo.start_pager()
        demo.install_model(token)
        demo.add_users(token)
        demo.add_report_definition(token)
        endpoints = demo.banner()
        demo.supervise()
        run_traffic = traffic.Traffic(traffic.Api(endpoints.split(","), cafile=demo.ca,
                                                  token=token),
                                      args.scale,
                                      int(time.time()) % 1000000)
        run_traffic.human = demo.HUMAN
        if not stop["now"]:
            run_traffic.run(args.seconds, 10.0)
            run_traffic.report()
    finally:
        print("demo: stopping the traffic and the nodes", flush=True)
        demo.stop()
    print("demo: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
