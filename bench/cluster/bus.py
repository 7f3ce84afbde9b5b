"""What the effect bus costs the write path: the same wrk loads as bench.py (one client,
then 64) against three 3-node clusters in turn, several rounds, medians reported:

  before   --baseline: a contactd built before the effect bus (its effects were handed
           straight to the event feed during apply, nothing kept)
  bus      this contactd: every entry's effects written to the outbox in the entry's
           batch, handed to the subscribers after the commit
  webhook  the same with a webhook subscribed to every `queued` event (one per write), its
           receiver an HTTP server in this process that checks each signature and counts
           the events (without parsing them: it shares the machine with the nodes)

All three run in plain TCP (`insecure: true`): the baseline has no TLS (tls.py measures
what TLS costs).

Prints a table and a line `RESULT ...`. bench/cluster/README.md has the figures."""
import argparse
import hashlib
import hmac
import http.server
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

from bench import Contactd, Failure, Wrk, log, wait

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "bench-secret-0123456789"


class Receiver:
    def __init__(self):
        self.events = 0
        self.posts = 0
        self.bad = 0
        self.lock = threading.Lock()
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # the answer's head and body go out at once
            wbufsize = 65536

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                with me.lock:
                    if self.headers.get("X-Contactd-Signature") != want:
                        me.bad += 1
                    me.posts += 1
                    # Counted, not parsed: the receiver shares the 2 cores with the nodes.
                    me.events += body.count(b'{"id":"')
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def strip_peer(cluster):
    """A node file the baseline reads: it came before listen.peer."""
    for node in cluster.nodes:
        with open(node.config) as f:
            lines = f.read().splitlines()
        out = [_drop_peer_field(line) for line in lines
               if not line.strip().startswith("peer:")]
        with open(node.config, "w") as f:
            f.write("\n".join(out) + "\n")


def _drop_peer_field(line):
    at = line.find(', peer: "')
    if at < 0:
        return line
    end = line.find('"', at + len(', peer: "'))
    return line[:at] + line[end + 1:]


def measure(name, binary, election_ms, wrk, baseline, webhook):
    system = Contactd(binary, election_ms, tls=False)  # the baseline has no TLS
    if baseline:
        strip_peer(system.cluster)
    receiver = None
    try:
        system.start()
        leader = system.cluster.wait_leader()
        if webhook:
            receiver = Receiver()
            code, doc = leader.request("POST", "/v1/webhooks", {
                "url": f"http://127.0.0.1:{receiver.port}/hook", "secret": SECRET,
                "kinds": ["queued"]})
            if code != 201:
                raise Failure(f"subscribe: {code} {doc}")
        url = system.url(system.leader())
        log(f"{name}: one client ({wrk.seconds} s)")
        seq = wrk.run(url, "contactd", 1, 1,
                      getattr(system, "token", None))
        log(f"{name}: 64 clients ({wrk.seconds} s)")
        par = wrk.run(system.url(system.leader()), "contactd", 2, 64,
                      getattr(system, "token", None))
        res = {"p50": seq["p50_us"], "p99": seq["p99_us"], "tput": par["rate"],
               "par_p50": par["p50_us"]}
        if receiver is not None:
            want = seq["requests"] + par["requests"] - seq["failed"] - par["failed"]

            def caught_up():
                with receiver.lock:
                    return receiver.events >= want * 0.99
            t0 = time.monotonic()
            wait(caught_up, 300, "the webhook receiver caught up")
            res["lag_s"] = time.monotonic() - t0
            with receiver.lock:
                res["events"], res["posts"], res["bad"] = receiver.events, receiver.posts, \
                    receiver.bad
            if res["bad"]:
                raise Failure(f"{res['bad']} deliveries with a bad signature")
        return res
    finally:
        if receiver is not None:
            receiver.close()
        system.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--contactd", required=True)
    ap.add_argument("--baseline", required=True, help="a contactd built before the bus")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--election-ms", type=int, default=250)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="contactd-bus-bench-")
    tempfile.tempdir = root
    wrk = Wrk(args.seconds)
    runs = {"before": [], "bus": [], "webhook": []}
    try:
        for r in range(args.rounds):
            for name in ("before", "bus", "webhook"):
                binary = args.baseline if name == "before" else args.contactd
                runs[name].append(measure(f"round {r + 1} {name}", binary, args.election_ms,
                                          wrk, name == "before", name == "webhook"))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def med(name, key):
        return statistics.median(x[key] for x in runs[name])
    print()
    print(f"| {'figure (median of ' + str(args.rounds) + ' rounds)':<36} | {'before':>10} | "
          f"{'bus':>10} | {'webhook':>10} |")
    print(f"|{'-' * 38}|{'-' * 12}|{'-' * 12}|{'-' * 12}|")
    for label, key, scale in (("commit p50, 1 client (us)", "p50", 1),
                              ("commit p99, 1 client (us)", "p99", 1),
                              ("writes/s, 64 clients", "tput", 1),
                              ("latency p50, 64 clients (ms)", "par_p50", 1000)):
        cells = [f"{med(n, key) / scale:.{1 if scale > 1 else 0}f}"
                 for n in ("before", "bus", "webhook")]
        print(f"| {label:<36} | {cells[0]:>10} | {cells[1]:>10} | {cells[2]:>10} |")
    ev = statistics.median(x["events"] for x in runs["webhook"])
    posts = statistics.median(x["posts"] for x in runs["webhook"])
    lag = statistics.median(x["lag_s"] for x in runs["webhook"])
    print(f"\nwebhook: {ev:.0f} events in {posts:.0f} deliveries per round (median); the "
          f"receiver had them all {lag:.1f} s after the loads ended")
    b, w = med("before", "p50"), med("webhook", "p50")
    bt, wt = med("before", "tput"), med("webhook", "tput")
    print(f"RESULT before_p50_us={b:.0f} bus_p50_us={med('bus', 'p50'):.0f} "
          f"webhook_p50_us={w:.0f} before_tput={bt:.0f} bus_tput={med('bus', 'tput'):.0f} "
          f"webhook_tput={wt:.0f} p50_cost_pct={100 * (w - b) / b:.1f} "
          f"tput_cost_pct={100 * (bt - wt) / bt:.1f}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Failure as err:
        print(f"bench: {err}", file=sys.stderr)
        sys.exit(1)
