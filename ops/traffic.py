"""Traffic for a running contactd cluster: customers arriving on all four channels and the
agents of the installed routing model answering them, through the HTTP API only.

    python3 ops/traffic.py --endpoints https://127.0.0.1:8081,https://127.0.0.1:8082,...

Arrivals are a Poisson process per channel (voice, chat, email and SMS at rates a centre of
this model's size sees at a busy hour, scaled by --scale), with attributes the sample model's
rules route on: intent, language, caller location, customer tier, web source. Every agent of
the model logs in; an agent answers its offers after a few seconds of ringing (and now and
then lets one ring out, or rejects it), talks for a while that depends on the channel, ends
the contact and finishes wrap-up, and takes a short break now and then.

Every request goes to the next endpoint in turn and moves on to the next one when a node
does not answer or has no leader, so the traffic carries on while nodes are killed and
restarted. Standard library only; stops on SIGINT or SIGTERM, or after --for seconds.

Chats come through the chat page's WebSocket (docs/chat.md) like a person's browser: a
customer fills the model's pre-chat form, writes now and then, resumes on another node when
its node goes away, and says goodbye or is left by the agent. The agents answer in the chat
with agent tokens of their own (made when the traffic's token may: an admin's). --human
AGENT leaves one agent to a person on the agent desk (ops/demo does).
"""
import argparse
import heapq
import http.client
import itertools
import os
import json
import random
import ssl
import signal
import sys
import threading
import time
import urllib.parse
import uuid
import base64

# The project's WebSocket client (standard library only), shared with the tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "lib"))
import wsclient  # noqa: E402

# Mean arrivals per second at scale 1, and mean handling time (seconds) per channel.
RATES = {"voice": 1.2, "chat": 0.8, "email": 0.4, "sms": 0.3}
TALK = {"voice": 40.0, "chat": 60.0, "email": 25.0, "sms": 20.0}
LANGUAGES = [("en", 70), ("pt", 10), ("fr", 8), ("de", 6), ("es", 6)]
LOCATIONS = {"en": ["GB", "GB", "GB", "IE"], "pt": ["PT", "BR"], "fr": ["FR"], "de": ["DE"],
             "es": ["ES"]}
NAMES = ["Ana", "Ben", "Chloe", "Dev", "Eva", "Finn", "Grace", "Hugo", "Ines", "Jon", "Kai",
         "Lena", "Milo", "Nora", "Omar", "Pia", "Raj", "Sara", "Tom", "Uma", "Vic", "Zoe"]
SAYS = ["Hello, I have a question about my order.", "It has not arrived yet.",
        "The number is 4711.", "Can you check when it ships?", "Thanks, that helps.",
        "One more thing: can I change the address?", "Great, thank you!"]
REPLIES = ["Hello! Let me look at that for you.", "One moment please.",
           "I can see it here: it leaves the warehouse tomorrow.",
           "Yes, I have changed it for you.", "Is there anything else I can do?"]
CHATS_MAX = 40  # chat customers at once (each a thread)


def pick(rnd, weighted):
    total = sum(w for _, w in weighted)
    x = rnd.uniform(0, total)
    for value, w in weighted:
        x -= w
        if x <= 0:
            return value
    return weighted[-1][0]


class Api:
    """JSON over HTTP or HTTPS to any of the endpoints (https:// ones checked against the CA
    in cafile); one keep-alive connection per endpoint and thread."""

    def __init__(self, endpoints, timeout=5.0, cafile=None, token=None):
        self.endpoints = [urllib.parse.urlsplit(e) for e in endpoints]
        self.timeout = timeout
        self.token = token  # sent as a bearer token on every request
        self.tls = ssl.create_default_context(cafile=cafile)
        self.local = threading.local()
        self.turn = itertools.count()

    def _conn(self, i):
        conns = self.local.__dict__.setdefault("conns", {})
        if i not in conns:
            u = self.endpoints[i]
            if u.scheme == "https":
                conns[i] = http.client.HTTPSConnection(u.hostname, u.port, timeout=self.timeout,
                                                       context=self.tls)
            else:
                conns[i] = http.client.HTTPConnection(u.hostname, u.port, timeout=self.timeout)
        return conns[i]

    def _drop(self, i):
        conns = self.local.__dict__.get("conns", {})
        conn = conns.pop(i, None)
        if conn is not None:
            conn.close()

    def call(self, method, path, body=None, tries=None):
        """(status, document). Goes round the endpoints while they fail to answer or answer
        503; raises OSError when every try failed."""
        tries = tries or 2 * len(self.endpoints)
        data = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for _ in range(tries):
            i = next(self.turn) % len(self.endpoints)
            try:
                conn = self._conn(i)
                conn.request(method, path, body=data, headers=headers)
                res = conn.getresponse()
                text = res.read()
            except (OSError, http.client.HTTPException):
                self._drop(i)
                time.sleep(0.05)
                continue
            if res.status == 503:
                time.sleep(0.05)
                continue
            return res.status, (json.loads(text) if text else None)
        raise OSError(f"no node answered {method} {path}")

    def with_token(self, token):
        """The same endpoints with another token."""
        other = Api([u.geturl() for u in self.endpoints], self.timeout, None, token)
        other.tls = self.tls
        return other


class Traffic:
    def __init__(self, api, scale, seed):
        self.api = api
        self.scale = scale
        self.rnd = random.Random(seed)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.agenda = []  # (when, seq, action, args): the agents' next moves
        self.seq = itertools.count()
        self.handled = set()  # offer ids already acted on
        self.counts = {"created": 0, "accepted": 0, "ended": 0, "missed": 0, "errors": 0,
                       "chats": 0, "messages": 0}
        self.agents = []
        self.dispositions = []  # the model's, for wrap-up (some queues require one)
        self.away_reasons = []
        self.tag = f"{seed}-{int(time.time())}"
        self.human = None  # an agent left to a person
        self.agent_api = {}  # agent -> Api with that agent's token (chat replies)
        self.entries = []  # the model's pre-chat forms
        self.chats = 0  # chat customers connected now

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] += n

    def later(self, delay, action, *args):
        with self.lock:
            heapq.heappush(self.agenda, (time.monotonic() + delay, next(self.seq), action, args))

    # ---- agents --------------------------------------------------------------------------

    def log_in(self):
        code, doc = self.api.call("GET", "/v1/agents")
        if code != 200:
            raise OSError(f"listing agents answered {code}: {doc}")
        self.agents = [a["name"] for a in doc["items"] if a["name"] != self.human]
        code, model = self.api.call("GET", "/v1/model")
        if code == 200:
            self.dispositions = model.get("dispositions", [])
            self.away_reasons = model.get("away_reasons", [])
        for name in self.agents:
            self.api.call("POST", f"/v1/agents/{name}/login", {"presence": "available"})
            code, doc = self.api.call("POST", "/v1/tokens", {
                "name": f"traffic-{name}-{self.tag}", "role": "agent", "agent": name})
            if code == 201:
                self.agent_api[name] = self.api.with_token(doc["token"])
        code, doc = self.api.call("GET", "/chat/config")
        if code == 200:
            self.entries = doc["entries"]

    def poll_offers(self):
        code, doc = self.api.call("GET", "/v1/contacts?state=offered&limit=1000")
        if code != 200:
            return
        for c in doc["items"]:
            offer, agent = c["offer"], c["agent"]
            if not agent or offer in self.handled:
                continue
            self.handled.add(offer)
            roll = self.rnd.random()
            if roll < 0.03:
                self.count("missed")  # let it ring out: ring-no-answer
            elif roll < 0.06:
                self.later(self.rnd.uniform(1, 3), self.reject, offer, agent)
            else:
                self.later(self.rnd.uniform(1, 6), self.accept, offer, agent, c["id"],
                           c["channel"])

    def accept(self, offer, agent, contact, channel):
        code, _ = self.api.call("POST", f"/v1/offers/{offer}/accept", {"agent": agent})
        if code == 200:
            self.count("accepted")
            talk = min(self.rnd.expovariate(1 / TALK[channel]), 6 * TALK[channel])
            self.later(talk, self.end, contact, agent)
            if channel == "chat":
                self.later(self.rnd.uniform(1, 3), self.reply, contact, agent, 0)

    def reply(self, contact, agent, n):
        """The agent writes in the chat (its n-th line), as long as it has the chat."""
        api = self.agent_api.get(agent)
        if api is None or n >= len(REPLIES):
            return
        code, _ = api.call("POST", f"/v1/contacts/{contact}/messages",
                           {"id": f"t-{contact}-{n}", "text": REPLIES[n]})
        if code in (200, 201):
            self.count("messages")
            self.later(self.rnd.uniform(6, 15), self.reply, contact, agent, n + 1)

    def reject(self, offer, agent):
        self.api.call("POST", f"/v1/offers/{offer}/reject", {"agent": agent})

    def end(self, contact, agent):
        code, _ = self.api.call("POST", f"/v1/contacts/{contact}/end")
        if code == 200:
            self.count("ended")
            self.later(self.rnd.uniform(2, 10), self.wrapup, contact, agent)

    def wrapup(self, contact, agent):
        body = {"disposition": self.rnd.choice(self.dispositions)} if self.dispositions else {}
        self.api.call("POST", f"/v1/contacts/{contact}/wrapup-done", body)
        if self.rnd.random() < 0.05:
            reason = self.rnd.choice(self.away_reasons) if self.away_reasons else "break"
            self.api.call("POST", f"/v1/agents/{agent}/state",
                          {"presence": "away", "reason": reason})
            self.later(self.rnd.uniform(20, 60), self.back, agent)

    def back(self, agent):
        self.api.call("POST", f"/v1/agents/{agent}/state", {"presence": "available"})

    def desk(self):
        """The agents: polls for offers and carries out what is due."""
        next_poll = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_poll:
                    next_poll = now + 0.25
                    self.poll_offers()
                while True:
                    with self.lock:
                        if not self.agenda or self.agenda[0][0] > time.monotonic():
                            break
                        _, _, action, args = heapq.heappop(self.agenda)
                    action(*args)
            except OSError:
                self.count("errors")
            self.stop.wait(0.02)

    # ---- customers -----------------------------------------------------------------------

    def contact(self, channel, n):
        lang = pick(self.rnd, LANGUAGES)
        attrs = {"language": lang, "intent": "sales" if self.rnd.random() < 0.4 else "support",
                 "location": self.rnd.choice(LOCATIONS[lang])}
        if self.rnd.random() < 0.05:
            attrs["tier"] = "vip"
        if channel == "chat":
            attrs["source"] = self.rnd.choice(["web-shop", "web-help", "app"])
        body = {"key": f"demo-{self.tag}-{n}", "channel": channel, "attributes": attrs}
        if channel == "email" and self.rnd.random() < 0.1:
            body["priority"] = 5
        return body

    def chat(self, n):
        """One customer on the chat page: the form, a few lines while it lasts, goodbye."""
        entry = self.entries[0] if self.entries else None
        if entry is None:
            return
        rnd = random.Random(f"{self.tag}-{n}")
        form = {}
        for f in entry["fields"]:
            if f["type"] == "select":
                form[f["key"]] = rnd.choice(f["options"])
            elif f["type"] == "email":
                form[f["key"]] = f"customer{n}@example.com"
            elif f["type"] == "phone":
                form[f["key"]] = f"+44 20 7946 {n % 10000:04d}"
            elif f["key"] == "name":
                form[f["key"]] = rnd.choice(NAMES)
            elif f.get("required"):
                form[f["key"]] = "demo"
        secret = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        contact, seq, said = 0, 0, 0
        turn = rnd.randrange(len(self.api.endpoints))
        deadline = time.monotonic() + 6 * TALK["chat"]
        while not self.stop.is_set() and time.monotonic() < deadline:
            u = self.api.endpoints[turn % len(self.api.endpoints)]
            turn += 1
            try:
                ws = wsclient.connect(f"wss://{u.hostname}:{u.port}/chat/ws",
                                      ssl_context=self.api.tls, timeout=5)
                if contact:
                    ws.send_json({"t": "resume", "secret": secret, "contact": contact,
                                  "after": seq})
                else:
                    ws.send_json({"t": "hello", "entry": entry["name"], "secret": secret,
                                  "form": form})
                next_say = time.monotonic() + rnd.uniform(2, 6)
                while not self.stop.is_set() and time.monotonic() < deadline:
                    try:
                        m = ws.recv_json(timeout=0.5)
                    except wsclient.Timeout:
                        m = None
                    if m is not None:
                        t = m.get("t")
                        if t == "welcome":
                            contact = m["contact"]
                        elif t == "msg":
                            seq = max(seq, m["seq"])
                        elif t == "ended" or t == "error" and not contact:
                            ws.close()
                            return
                    if contact and time.monotonic() >= next_say:
                        if said < len(SAYS):
                            ws.send_json({"t": "msg", "id": f"c-{said}", "text": SAYS[said]})
                            said += 1
                            self.count("messages")
                        elif rnd.random() < 0.5:
                            ws.send_json({"t": "bye"})
                        next_say = time.monotonic() + rnd.uniform(5, 15)
            except (OSError, wsclient.WebSocketError):
                time.sleep(0.5)  # the node went away: resume through the next one
        if contact:
            try:
                ws.send_json({"t": "bye"})
                ws.close()
            except (OSError, wsclient.WebSocketError):
                pass

    def chat_thread(self, n):
        try:
            self.chat(n)
        finally:
            with self.lock:
                self.chats -= 1

    def arrivals(self):
        rate = sum(RATES.values()) * self.scale
        channels = [(c, r) for c, r in RATES.items()]
        for n in itertools.count():
            if self.stop.wait(self.rnd.expovariate(rate)):
                return
            channel = pick(self.rnd, channels)
            if channel == "chat" and self.entries:
                with self.lock:
                    room = self.chats < CHATS_MAX
                    self.chats += room
                if room:
                    self.count("created")
                    self.count("chats")
                    threading.Thread(target=self.chat_thread, args=(n,), daemon=True).start()
                continue
            body = self.contact(channel, n)
            try:
                code, doc = self.api.call("POST", "/v1/contacts", body)
            except OSError:
                self.count("errors")
                continue
            if code in (200, 201):
                self.count("created")
            else:
                self.count("errors")

    def run(self, seconds, report_every):
        self.log_in()
        threads = [threading.Thread(target=self.desk, daemon=True),
                   threading.Thread(target=self.arrivals, daemon=True)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + seconds if seconds else None
        while not self.stop.wait(report_every):
            self.report()
            if deadline is not None and time.monotonic() >= deadline:
                break
        self.stop.set()
        for t in threads:
            t.join(10)

    def report(self):
        waiting = leader = "?"
        try:
            code, doc = self.api.call("GET", "/v1/queues", tries=3)
            if code == 200:
                waiting = sum(q["waiting"] for q in doc["items"])
            code, doc = self.api.call("GET", "/v1/cluster", tries=3)
            if code == 200:
                leader = doc["leader"] or "none"
        except OSError:
            pass
        with self.lock:
            c = dict(self.counts)
        print(f"traffic: {c['created']} contacts created ({c['chats']} chats through the chat "
              f"page, {c['messages']} chat messages), {c['accepted']} answered, "
              f"{c['ended']} ended, {waiting} waiting now, {c['missed']} left to ring out; "
              f"leader {leader}; {c['errors']} failed requests", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoints", required=True, help="comma-separated API URLs")
    ap.add_argument("--cacert", default=os.environ.get("CONTACTD_CACERT"),
                    help="the CA to check https:// endpoints against (default "
                    "$CONTACTD_CACERT, else the system's)")
    ap.add_argument("--token-file", default=os.environ.get("CONTACTD_TOKEN_FILE"),
                    help="a file holding the token to send (default $CONTACTD_TOKEN_FILE); "
                    "it needs the supervisor role")
    ap.add_argument("--scale", type=float, default=1.0, help="arrival rate multiplier")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--for", dest="seconds", type=float, default=0,
                    help="stop after this many seconds (default: until a signal)")
    ap.add_argument("--report-every", type=float, default=10.0)
    ap.add_argument("--human", default=None,
                    help="an agent the traffic leaves alone, for a person on the desk")
    args = ap.parse_args(argv)
    if args.scale <= 0:
        ap.error("--scale must be above 0")
    seed = args.seed if args.seed is not None else int(time.time()) % 1000000
    token = None
    if args.token_file:
        with open(args.token_file) as f:
            token = f.read().strip()
    traffic = Traffic(Api(args.endpoints.split(","), cafile=args.cacert, token=token),
                      args.scale, seed)
    traffic.human = args.human
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: traffic.stop.set())
    try:
        traffic.run(args.seconds, args.report_every)
    except OSError as e:
        print(f"traffic: {e}", file=sys.stderr)
        return 1
    traffic.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
