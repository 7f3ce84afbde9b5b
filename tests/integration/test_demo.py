"""ops/demo as an operator runs it (its Python part, on the binary under test): three nodes
come up on 127.0.0.1, the sample model goes in, the line endpoints=URL,URL,URL names three
HTTPS APIs that answer only with the admin token whose file the banner names, traffic gets
contacts answered by agents, chats come through the chat page's WebSocket with messages from
both sides, the banner names the chat page and the desk (whose user signs in), and SIGTERM
stops everything the demo started."""
import http.client
import json
import os
import random
import re
import signal
import ssl
import subprocess
import sys
import threading
import time

import harness
from harness import Client, Failure, log, wait

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "ops"))

import demo  # noqa: E402


def free_base():
    for _ in range(50):
        base = random.randrange(20000, 40000, 10)
        if all(demo.port_free(base + d) for d in (1, 2, 3, 101, 102, 103, 201, 202, 203, 301)):
            return base
    raise Failure("no free block of ports for the demo")


def check_https(urls, ports, root):
    """The demo runs TLS: https:// endpoints, and a plain HTTP request is not answered."""
    if not all(u.startswith("https://") for u in urls):
        raise Failure(f"the demo's endpoints are not HTTPS: {urls}")
    try:
        code, _ = Client(ports[0], timeout=3).request("GET", "/readyz")
    except OSError:
        return
    raise Failure(f"plain HTTP to a demo node was answered ({code})")


def main():
    base = free_base()
    root = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"contactd-demo-test-{os.getpid()}")
    cmd = [sys.executable, os.path.join(TOP, "ops", "demo.py"), "--contactd",
           os.environ["CONTACTD"], "--base-port", str(base), "--dir", root, "--for", "120",
           "--scale", "4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    ok = False
    try:
        found = wait(lambda: next((l for l in lines if l.startswith("endpoints=")), None), 90,
                     "the endpoints= line")
        urls = found.strip().split("=", 1)[1].split(",")
        ports = [int(re.search(r":(\d+)$", u).group(1)) for u in urls]
        if len(ports) != 3 or len(set(ports)) != 3:
            raise Failure(f"expected three distinct endpoints, got {found!r}")
        tls = ssl.create_default_context(cafile=os.path.join(root, "tls", "ca.crt"))
        for p in ports:
            code, _ = Client(p, tls=tls).request("GET", "/readyz")
            if code != 200:
                raise Failure(f"endpoint on port {p} answered /readyz with {code}")
        token_line = next((l for l in lines if "CONTACTD_TOKEN_FILE=" in l), None)
        if token_line is None:
            raise Failure("the demo does not say where its admin token is")
        with open(token_line.strip().split("=", 1)[1]) as f:
            token = f.read().strip()
        code, _ = Client(ports[1], tls=tls).request("GET", "/v1/agents")
        if code != 401:
            raise Failure(f"the demo's API answered without a token: {code}")
        code, doc = Client(ports[1], tls=tls, token=token).request("GET", "/v1/agents")
        if code != 200 or len(doc["items"]) != 56:
            raise Failure(f"the sample model's 56 agents are not there: {code}")
        check_https(urls, ports, root)
        log(f"demo up on {urls}")

        def answered():
            code, doc = Client(ports[2], tls=tls, token=token).request(
                "GET", "/v1/history?limit=1000")
            live = Client(ports[0], tls=tls, token=token).request(
                "GET", "/v1/contacts?state=connected")[1]
            return code == 200 and (live["total"] > 0 or any(h["answered"] for h in doc["items"]))
        wait(answered, 60, "a contact answered by an agent of the demo's traffic")
        log("traffic flows: contacts are being answered")

        for page in (f"https://127.0.0.1:{ports[0]}/chat/", f"https://127.0.0.1:{ports[1]}/desk/",
                     f"https://127.0.0.1:{ports[2]}/wall/"):
            if not any(page in l for l in lines):
                raise Failure(f"the banner does not name {page}")
            conn = http.client.HTTPSConnection("127.0.0.1", int(page.split(":")[2].split("/")[0]),
                                               timeout=5, context=tls)
            conn.request("GET", "/" + page.split("/", 3)[3])
            res = conn.getresponse()
            body = res.read()
            conn.close()
            if res.status != 200 or b"<html" not in body:
                raise Failure(f"{page} answered {res.status}")
        code, doc = Client(ports[2], tls=tls, token=token).request(
            "GET", "/v1/report-definitions/queues-15m")
        if code != 200 or doc["definition"].get("schedule") != "every 15m" or \
                doc["definition"].get("audience") != [{"directory": "queues"}]:
            raise Failure(f"the demo's scheduled report definition is not there: {code} {doc}")
        if not any("reportdef deliveries queues-15m" in l for l in lines):
            raise Failure("the banner does not show the scheduled report's deliveries")
        user = re.search(r'sign in as "agent" / "([^"]+)"', "".join(lines))
        if user is None:
            raise Failure("the banner names no desk user")
        conn = http.client.HTTPSConnection("127.0.0.1", ports[1], timeout=10, context=tls)
        conn.request("POST", "/v1/session",
                     body=json.dumps({"user": "agent", "password": user.group(1)}),
                     headers={"Content-Type": "application/json",
                              "X-Requested-With": "contactd"})
        res = conn.getresponse()
        doc = json.loads(res.read() or b"{}")
        conn.close()
        if res.status != 200 or doc.get("agent") != demo.Demo.HUMAN:
            raise Failure(f"the desk user cannot sign in: {res.status} {doc}")

        def chatted():
            code, doc = Client(ports[0], tls=tls, token=token).request(
                "GET", "/v1/contacts?channel=chat&limit=1000")
            for c in doc["items"] if code == 200 else []:
                if c["session"]["key"].startswith("chat-") and c["message_count"] >= 2:
                    code, t = Client(ports[1], tls=tls, token=token).request(
                        "GET", f"/v1/contacts/{c['id']}/messages")
                    sides = {m["from"] for m in t["items"]} if code == 200 else set()
                    if sides == {"customer", "agent"}:
                        return c["id"]
            return None
        cid = wait(chatted, 60, "a chat through the chat page with messages from both sides")
        log(f"chats come through the chat page: contact {cid} has lines from both sides")

        drill = next((l for l in lines if "drill kill-leader" in l and "dry-run" not in l), None)
        if drill is None:
            raise Failure("the banner shows no drill")
        env = dict(os.environ)
        for l in lines:
            m = re.match(r"\s*export (CONTACTD_\w+)=(\S+)", l)
            if m:
                env[m.group(1)] = m.group(2)
        out = subprocess.run([os.environ["CONTACTCTL"], "--output", "json", "drill",
                              "kill-leader", "--watch", "4", "--max-unavailable-ms", "5000"],
                             env=env, capture_output=True, text=True, timeout=60)
        report = json.loads(out.stdout or "{}")
        probe = report.get("probe", {})
        if out.returncode != 0 or probe.get("lost") != 0 or probe.get("accepted", 0) < 10:
            raise Failure(f"the drill on the demo: {out.returncode} {out.stderr} {report}")
        page = wait(lambda: next((l for l in lines if l.startswith("demo: PAGE") and
                                  f"on node:{report['target']} " in l), None), 30,
                    "the sample model's on-call page for the drilled node")
        wait(lambda: any(f"node {report['target']} exited" in l for l in lines), 30,
             "the demo to start the drilled node again")

        def all_ready():
            return all(Client(p, tls=tls).request("GET", "/readyz")[0] == 200 for p in ports)
        wait(all_ready, 60, "all three demo nodes ready after the drill")
        log(f"drill kill-leader on the demo: {report['target']} killed, {probe['accepted']} "
            f"contacts accepted, 0 lost; paged: {page.strip()}; the demo started it again")

        if not any("runbook run sales-voice-collapse" in l for l in lines):
            raise Failure("the banner shows no runbook rehearsal")

        def ctl_json(*args):
            out = subprocess.run([os.environ["CONTACTCTL"], "--output", "json", *args], env=env,
                                 capture_output=True, text=True, timeout=30)
            if out.returncode != 0:
                raise Failure(f"contactctl {' '.join(args)}: {out.returncode} {out.stderr}")
            return json.loads(out.stdout or "{}")
        names = [r["name"] for r in ctl_json("runbook", "list")["items"]]
        if names != ["quorum-loss-review", "node-lost", "sales-voice-collapse", "trunk-outage"]:
            raise Failure(f"the sample model's runbooks: {names}")
        run = ctl_json("runbook", "run", "sales-voice-collapse")["run"]

        def step(state):
            r = ctl_json("runbook", "run-show", str(run))
            return r["steps"][0]["state"] == state and r
        r = wait(lambda: step("done"), 30, "the rehearsal's contingency model installed")
        time.sleep(3)  # a few of the leader's rounds: a run by hand stays until ended by hand
        held = ctl_json("runbook", "run-show", str(run))
        if held["state"] != "active" or held["steps"][0]["state"] != "done":
            raise Failure(f"the rehearsal did not wait to be ended: {held}")
        ctl_json("runbook", "end", str(run), "--note", "rehearsal over")
        back = wait(lambda: step("reverted"), 30, "the model before put back")
        if back["why"] != "rehearsal over" or not back["ended_by"]:
            raise Failure(f"the rehearsal's end: {back}")
        log(f"runbook rehearsal on the demo: run {run} installed the contingency model as "
            f"version {r['model_installed']}; ended, version {back['model_before']} came back")

        pids = [int(p) for p in re.findall(r"\d+", next(
            l for l in lines if l.startswith("Fail over:")).split("pids", 1)[1])]
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
        reader.join(5)
        if rc != 0:
            raise Failure(f"the demo exited with {rc} after SIGTERM")
        for pid in pids:
            if os.path.exists(f"/proc/{pid}") and "contactd" in open(f"/proc/{pid}/cmdline").read():
                raise Failure(f"node process {pid} still runs after the demo stopped")
        if not lines or "demo: stopped" not in lines[-1]:
            raise Failure(f"the demo did not say it stopped: {lines[-3:]}")
        log(f"SIGTERM stopped the demo and its {len(pids)} nodes")
        ok = True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if not ok:
            print("".join(lines[-40:]), flush=True)
    log("PASS")


if __name__ == "__main__":
    harness.main(main)
