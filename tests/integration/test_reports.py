"""Reports on a 3-node cluster, from known traffic: every figure is known before the test
runs (a queue with a 3 s target and a 1 s short-abandon threshold; 10 contacts of which 4
are answered within the target, 2 after it, 2 abandon short, 1 abandons after the target with
a callback asked for, 1 overflows to a second queue, 1 is transferred there; one offer rings
out). One follower is down for all of it and comes back by installing a snapshot, so it
copies the history rows (contacts' and agents' spans) it missed from a member. Then every
node gives the same report, as JSON and as CSV, by queue, agent, channel, site and
disposition, in 15-minute intervals and in total; the figures equal the test's own
reckoning from the contacts' paths; a cell drills down to the contacts it counts; contactctl
prints the same; a contact still waiting past the target counts against the live service
level. 5-minute intervals add up to the same; every node shows each queue's service level
goal and wallboard thresholds. The same report as an HTML page shows the same figures, its
charts and its glossary; as a PDF it is that page printed by Chromium, two at a time at most.
A supervisor defines a named report, changes it and rolls it back."""
import csv
import html.parser
import io
import os
import subprocess
import tempfile
import threading
import time

from harness import HERE, Cluster, Failure, log, run, wait

CTL = os.environ.get("CONTACTCTL")
MODEL = os.path.join(HERE, "data", "reports-model.yaml")
TARGET_MS = 3000


def check(cond, what):
    if not cond:
        raise Failure(what)


def now_ms():
    return int(time.time() * 1000)


class Traffic:
    def __init__(self, c):
        self.c = c

    def call(self, method, path, body=None, status=200):
        code, doc = self.c.wait_leader().request(method, path, body)
        check(code == status, f"{method} {path}: {code} {doc}")
        return doc

    def create(self):
        return self.call("POST", "/v1/contacts", {"channel": "voice"}, status=201)["id"]

    def offered(self, cid, agent, timeout=15):
        def offer():
            doc = self.call("GET", f"/v1/contacts/{cid}")
            if doc.get("state") == "offered" and doc.get("agent") == agent:
                return doc["offer"]
            return None
        return wait(offer, timeout, f"contact {cid} offered to {agent}")

    def answer(self, cid, agent, disposition=None, talk=0.2, transfer=None, hold=0):
        offer = self.offered(cid, agent)
        self.call("POST", f"/v1/offers/{offer}/accept", {"agent": agent})
        if hold:
            self.call("POST", f"/v1/contacts/{cid}/hold")
            time.sleep(hold)
            self.call("POST", f"/v1/contacts/{cid}/resume")
        time.sleep(talk)
        if transfer:
            self.call("POST", f"/v1/contacts/{cid}/transfer", {"queue": transfer})
            return
        self.call("POST", f"/v1/contacts/{cid}/end")
        body = {"disposition": disposition} if disposition else {}
        self.call("POST", f"/v1/contacts/{cid}/wrapup-done", body)

    def state(self, agent, presence, reason=None):
        body = {"presence": presence} | ({"reason": reason} if reason else {})
        self.call("POST", f"/v1/agents/{agent}/state", body)


def drive(t):
    """The known traffic; returns the contacts by name."""
    k = {}
    t.call("POST", "/v1/agents/r1/login")
    t.call("POST", "/v1/agents/r2/login")
    for name in ("c1", "c2"):
        k[name] = t.create()
        t.answer(k[name], "r1", "sale", hold=0.3 if name == "c1" else 0)
    k["c3"] = t.create()
    t.answer(k["c3"], "r1", transfer="rq-spill")
    t.answer(k["c3"], "r2", "sale")
    log("3 answered within the target (one transferred on)")

    t.state("r1", "away", "lunch")
    k["c4"], k["c5"] = t.create(), t.create()
    time.sleep(3.5)
    t.state("r1", "available")
    t.answer(k["c4"], "r1", "no-sale")
    t.answer(k["c5"], "r1", "no-sale")
    log("2 answered after the target")

    t.state("r1", "away", "break")
    k["c6"], k["c7"] = t.create(), t.create()
    t.call("POST", f"/v1/contacts/{k['c6']}/abandon")
    t.call("POST", f"/v1/contacts/{k['c7']}/abandon")
    k["c8"] = t.create()
    t.call("POST", f"/v1/contacts/{k['c8']}/callback")
    time.sleep(3.5)
    t.call("POST", f"/v1/contacts/{k['c8']}/abandon")
    log("2 short abandons, 1 after the target (with a callback asked for)")

    k["c9"] = t.create()
    t.answer(k["c9"], "r2", None)  # overflows to rq-spill after 6 s
    log("1 overflowed and answered there")

    t.state("r1", "available")
    k["c10"] = t.create()
    t.offered(k["c10"], "r1")
    wait(lambda: t.call("GET", "/v1/agents/r1")["state"] == "away", 10, "r1 away after no answer")
    t.state("r1", "available")
    t.answer(k["c10"], "r1", "sale")
    log("1 answered after a ring-no-answer")
    t.call("POST", "/v1/agents/r1/logout")
    t.call("POST", "/v1/agents/r2/logout")
    return k


def segments(row):
    """The test's own reading of a history row's path: (queue, entered, answered or None)."""
    segs, cur = [], None
    for step in row["path"]:
        if step["step"] == "queued":
            cur = [step["queue"], step["at"], None]
            segs.append(cur)
        elif step["step"] == "transfer" and step["to"] == "agent" and cur:
            cur = [cur[0], step["at"], None]
            segs.append(cur)
        elif step["step"] == "offer_end" and step["outcome"] == "accepted" and cur:
            cur[2] = step["at"]
    return segs


def held(t, k):
    """Time on hold, from the paths (ms), and the segments of rq handled."""
    total = 0
    for cid in k.values():
        row = t.call("GET", f"/v1/history/{cid}")
        start = None
        for step in row["path"]:
            if step["step"] == "hold":
                start = step["at"]
            elif step["step"] == "resume" and start is not None:
                total += step["at"] - start
                start = None
    return total


def reckon(t, k):
    """ASA and the longest wait of each queue, from the contacts' history rows: a segment
    waits until it is answered, moved on (the next segment begins) or the contact ends."""
    waits, longest = {}, {}
    for cid in k.values():
        row = t.call("GET", f"/v1/history/{cid}")
        segs = segments(row)
        for i, (queue, entered, answered) in enumerate(segs):
            if answered is not None:
                left = answered
                waits.setdefault(queue, []).append(answered - entered)
            elif i + 1 < len(segs):
                left = segs[i + 1][1]
            else:
                left = row["ended"] or row["completed"]
            longest[queue] = max(longest.get(queue, 0), left - entered)
    return ({q: sum(w) / len(w) / 1000 for q, w in waits.items()},
            {q: v / 1000 for q, v in longest.items()})


def report(node, query):
    code, doc = node.request("GET", f"/v1/reports?{query}")
    check(code == 200, f"{node.name}: report {query}: {code} {doc}")
    return doc


def values(doc, group):
    for row in doc["totals"]:
        if row["group"] == group:
            return row["values"]
    raise Failure(f"no group {group!r} in {doc['totals']}")


def without_origin(doc):
    doc = dict(doc)
    doc["report"] = {k: v for k, v in doc["report"].items()
                     if k not in ("node", "made_at", "as_of_index")}
    return doc


def near(a, b, what):
    check(a is not None and abs(a - b) < 0.0015, f"{what}: {a} != {b}")


def check_queue_figures(doc, asa, longest, where):
    rq = values(doc, "rq")
    want = {"offered": 10, "answered": 6, "answered_in_target": 4, "abandoned": 3,
            "abandoned_short": 2, "abandoned_after_target": 1, "overflowed": 1,
            "transferred": 1, "timed_out": 0, "waiting": 0, "callbacks_requested": 1,
            "callbacks_made": 0}
    for name, v in want.items():
        check(rq[name] == v, f"{where}: rq {name} = {rq[name]}, expected {v}")
    near(rq["sl_offered"], 4 / 10, f"{where}: rq sl_offered")
    near(rq["sl_answered_abandoned"], 4 / 7, f"{where}: rq sl_answered_abandoned")
    near(rq["sl_short_excluded"], 4 / 8, f"{where}: rq sl_short_excluded")
    near(rq["service_level"], 4 / 10, f"{where}: rq service_level (formula offered)")
    near(rq["asa"], asa["rq"], f"{where}: rq asa")
    near(rq["longest_wait"], longest["rq"], f"{where}: rq longest_wait")
    check(rq["ewt_error"] is not None, f"{where}: rq ewt_error has no data")
    spill = values(doc, "rq-spill")
    for name, v in {"offered": 2, "answered": 2, "abandoned": 0, "callbacks_requested": 0}.items():
        check(spill[name] == v, f"{where}: rq-spill {name} = {spill[name]}, expected {v}")
    near(spill["asa"], asa["rq-spill"], f"{where}: rq-spill asa")
    check(spill["abandon_rate"] == 0, f"{where}: rq-spill abandon_rate {spill['abandon_rate']}")
    total = doc["total"]["values"]
    check(total["offered"] == 12 and total["answered"] == 8,
          f"{where}: the total {total}")


def check_other_groups(node, window, where):
    agents = report(node, f"group=agent&interval=total&{window}")
    r1, r2 = values(agents, "r1"), values(agents, "r2")
    check(r1["answered"] == 6 and r1["offers"] == 7 and r1["offers_no_answer"] == 1 and
          r1["offers_accepted"] == 6, f"{where}: r1 {r1}")
    check(r2["answered"] == 2 and r2["offers"] == 2, f"{where}: r2 {r2}")
    check(r1["time_away"] > 3.4 + 3.5 and r1["time_staffed"] > r1["time_away"] and
          0 < r1["occupancy"] <= 1 and 0 < r1["utilisation"] < r1["occupancy"],
          f"{where}: r1's time {r1}")
    reasons = report(node, f"group=agent&interval=total&figures=time_away&{window}")
    check(values(reasons, "r1")["time_away"] == r1["time_away"], f"{where}: time_away alone")
    sites = report(node, f"group=site&interval=total&figures=answered,handled&{window}")
    check(values(sites, "north")["answered"] == 6 and values(sites, "south")["answered"] == 2,
          f"{where}: by site {sites['totals']}")
    disp = report(node, f"group=disposition&interval=total&figures=offered,answered&{window}")
    check(values(disp, "sale")["offered"] == 5 and values(disp, "no-sale")["offered"] == 2,
          f"{where}: by disposition {disp['totals']}")
    chan = report(node, f"group=channel&interval=total&figures=offered&{window}")
    check(values(chan, "voice")["offered"] == 12, f"{where}: by channel {chan['totals']}")
    quarter = report(node, f"interval=15m&figures=offered,answered&{window}")
    rows = [r for r in quarter["rows"] if r["group"] == "rq"]
    check(sum(r["values"]["offered"] for r in rows) == 10 and
          all(r["interval"].endswith(("+00:00", "+01:00")) for r in rows),
          f"{where}: 15-minute rows {rows}")


def drill(node, window, figure, want, where):
    code, doc = node.request(
        "GET", f"/v1/reports/contacts?value=rq&interval=total&figure={figure}&{window}")
    check(code == 200, f"{where}: drill {figure}: {code} {doc}")
    got = {item["id"] for item in doc["items"]}
    check(got == want, f"{where}: drill-down to {figure}: {sorted(got)} != {sorted(want)}")


def definitions(c, t0, t1):
    """A supervisor defines a report, changes it, is refused a change made against an old
    version, rolls back; a reporter reads but cannot change; every node holds the same
    versions; the audit names the supervisor."""
    sup = c.wait_leader().new_client(token=c.make_token("floor-sue", "supervisor"))
    rep = c.nodes[0].new_client(token=c.make_token("board-bob", "reporter"))
    first = {"title": "Sales, yesterday", "figures": ["offered", "service_level", "asa"],
             "group": "queue", "interval": "total", "period": "yesterday",
             "filters": {"queue": "rq"}, "thresholds": [{"figure": "service_level",
                                                        "warn": 0.8, "alarm": 0.6}],
             "format": "html", "schedule": "daily 07:00",
             "audience": [{"email": "director@example.com"}]}
    code, doc = sup.request("PUT", "/v1/report-definitions/sales-daily",
                            first | {"comment": "for the sales director"})
    check(code == 200 and doc["version"] == 1, f"define: {code} {doc}")
    second = dict(first, figures=["offered", "answered", "service_level", "asa"])
    code, doc = sup.request("PUT", "/v1/report-definitions/sales-daily",
                            second | {"version": 1, "comment": "answered too"})
    check(code == 200 and doc["version"] == 2, f"change: {code} {doc}")
    code, doc = sup.request("PUT", "/v1/report-definitions/sales-daily",
                            first | {"version": 1})
    check(code == 409 and doc["error"]["code"] == "STATE", f"a stale change: {code} {doc}")
    code, doc = sup.request("PUT", "/v1/report-definitions/sales-daily", second)
    check(code == 200 and doc["existing"] and doc["version"] == 2, f"the same again: {doc}")
    for bad, what in ((dict(first, figures=["offered", "nonsense"]), "nonsense"),
                      (dict(first, schedule="sometimes"), "schedule"),
                      (dict(first, interval="fortnight"), "interval"),
                      (dict(first, audience=[{"email": "not an address"}]), "email"),
                      (dict(first, colour="red"), "colour")):
        code, doc = sup.request("PUT", "/v1/report-definitions/sales-daily", bad)
        check(code == 400 and what in doc["error"]["message"], f"bad {what}: {code} {doc}")
    code, doc = rep.request("PUT", "/v1/report-definitions/sales-daily", second)
    check(code == 403, f"a reporter changes a definition: {code} {doc}")
    code, doc = rep.request("GET", "/v1/report-definitions/sales-daily/diff")
    check(code == 200 and [ch["field"] for ch in doc["changes"]] == ["figures"],
          f"diff: {code} {doc}")
    code, doc = sup.request("POST", "/v1/report-definitions/sales-daily/rollback",
                            {"version": 1})
    check(code == 200 and doc["version"] == 3, f"rollback: {code} {doc}")
    c.wait_converged()
    seen = []
    for node in c.nodes:
        code, doc = node.request("GET", "/v1/report-definitions/sales-daily/versions")
        check(code == 200 and [v["version"] for v in doc["items"]] == [3, 2, 1],
              f"{node.name}: versions {code} {doc}")
        check(doc["items"][0]["definition"] == first and
              doc["items"][0]["comment"] == "back to version 1" and
              doc["items"][1]["actor"] == "token:floor-sue", f"{node.name}: {doc['items']}")
        seen.append(doc)
    check(all(s == seen[0] for s in seen), "the nodes' definitions differ")
    code, doc = c.nodes[1].request("GET", "/v1/audit?action=report_put&object=sales-daily")
    check(code == 200 and len(doc["items"]) == 3 and
          all(i["actor"] == "token:floor-sue" for i in doc["items"]), f"audit: {doc}")
    # the report it defines, over the traffic's window: its figures, its filter, its title
    window = f"from={t0 - 1000}&to={t1 + 1000}"
    code, doc = rep.request("GET", f"/v1/reports?definition=sales-daily&{window}")
    check(code == 200 and doc["figures"] == first["figures"] and
          [r["group"] for r in doc["totals"]] == ["rq"] and
          doc["totals"][0]["values"]["offered"] == 10, f"a defined report: {code} {doc}")
    code, doc = rep.request("GET", f"/v1/reports?definition=sales-daily&version=2&{window}")
    check(code == 200 and doc["figures"] == second["figures"], f"version 2: {code} {doc}")
    code, page = rep.request("GET", f"/v1/reports?definition=sales-daily&format=html&{window}")
    check(code == 200 and "Sales, yesterday" in page, f"a defined report's page: {code}")
    code, doc = rep.request("GET", "/v1/reports?definition=nosuch")
    check(code == 404, f"an unknown definition: {code} {doc}")
    return first


def shown(value, unit):
    """A value as the HTML page shows it (report/html_write.c)."""
    if value is None:
        return "\u2014"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "per_hour":
        return f"{value:.1f}/h"
    if unit == "count":
        return f"{int(value + 0.5):,}"
    a, sign = abs(value), "-" if value < 0 else ""
    if a == 0:
        return "0s"
    if a < 9.95:
        return f"{sign}{a:.1f}s"
    t = int(a + 0.5)
    if t < 60:
        return f"{sign}{t}s"
    if t < 3600:
        return f"{sign}{t // 60}m {t % 60:02d}s"
    t = (t + 30) // 60
    return f"{sign}{t // 60}h {t % 60:02d}m"


class Page(html.parser.HTMLParser):
    """The tables of a report page (header cells and rows of cell texts), the glossary's
    definitions and the number of SVG charts."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.definitions, self.svgs = [], [], 0
        self.cell = self.row = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th", "dd"):
            self.cell = ""
        elif tag == "svg":
            self.svgs += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None:
            self.row.append(self.cell)
        elif tag == "dd":
            self.definitions.append(self.cell)
        elif tag == "tr" and self.tables:
            self.tables[-1].append(self.row)
            self.row = None
        if tag in ("td", "th", "dd"):
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def values(self, group):
        """{column title: text} of group's row, across the tables the figures are cut into."""
        out = {}
        for table in self.tables:
            head = table[0]
            for row in table[1:]:
                if row[0] == group:
                    out.update(zip(head[1:], row[1:]))
        return out


def check_page(node, window, doc):
    """The HTML page of the report doc (JSON, the same query) shows its figures."""
    code, text = node.request("GET", f"/v1/reports?interval=total&format=html&{window}")
    check(code == 200 and isinstance(text, str) and text.startswith("<!DOCTYPE html>"),
          f"HTML report: {code} {str(text)[:200]}")
    page = Page(text)
    units = {g["title"]: g["unit"] for g in doc["glossary"]}
    titles = {g["name"]: g["title"] for g in doc["glossary"]}
    for group in ("rq", "rq-spill"):
        got = page.values(group)
        want = values(doc, group)
        for name, value in want.items():
            title = titles[name]
            check(got.get(title) == shown(value, units[title]),
                  f"HTML {group} {name}: {got.get(title)!r}, JSON says {value}")
    rq = page.values("rq")
    check(rq["Service level"] == "40.0%" and rq["Offered"] == "10", f"HTML rq: {rq}")
    check(page.svgs >= 2, f"HTML charts: {page.svgs} SVGs")
    for g in doc["glossary"]:
        check(g["definition"] in page.definitions, f"HTML glossary lacks {g['name']}")
    check("<script" not in text and "src=" not in text, "HTML page runs or loads something")
    return text


def check_pdf(node, window):
    """The same report printed by Chromium; two at once at most (a third is refused)."""
    t = time.monotonic()
    code, pdf = node.request("GET", f"/v1/reports?interval=total&format=pdf&{window}",
                             timeout=90)
    took = time.monotonic() - t
    check(code == 200 and isinstance(pdf, bytes) and pdf.startswith(b"%PDF-"),
          f"PDF report: {code} {str(pdf)[:200]}")
    check(20_000 < len(pdf) < 5_000_000, f"PDF report of {len(pdf)} bytes")
    check(b"Skia/PDF" in pdf, "the PDF was not printed by Chromium (no Skia/PDF producer)")
    log(f"PDF report: {len(pdf)} bytes in {took:.2f} s")

    codes = []

    def one():
        codes.append(node.request("GET", f"/v1/reports?interval=total&format=pdf&{window}",
                                  timeout=90)[0])
    threads = [threading.Thread(target=one) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    check(sorted(codes) == [200, 200, 503], f"three PDF reports at once: {codes}")
    return pdf


def ctl(c, *args):
    endpoints = ",".join(n.api_addr for n in c.live())
    res = subprocess.run([CTL, "--endpoints", endpoints] + list(args), capture_output=True,
                         text=True, timeout=60, env=c.ctl_env())
    check(res.returncode == 0, f"contactctl {' '.join(args)}: {res.returncode} {res.stderr}")
    return res.stdout


def queue_json(c):
    """Every node, the lagger (which had the model from a snapshot) included, shows each
    queue's service level goal and wallboard thresholds, null where the model sets none."""
    want = {
        "rq": ({"target_s": 3, "percent": 80, "formula": "offered"},
               {"service_level": {"warn": 80, "alarm": 60},
                "waiting": {"warn": None, "alarm": 3},
                "longest_wait_s": {"warn": 10, "alarm": 60}}),
        "rq-spill": ({"target_s": 3, "percent": 80, "formula": "answered_abandoned"},
                     {"service_level": {"warn": None, "alarm": None},
                      "waiting": {"warn": None, "alarm": None},
                      "longest_wait_s": {"warn": None, "alarm": None}}),
    }
    for node in c.nodes:
        code, doc = node.request("GET", "/v1/queues")
        check(code == 200, f"{node.name}: /v1/queues {code} {doc}")
        got = {q["name"]: (q["service_level"], q["thresholds"]) for q in doc["items"]}
        check(got == want, f"{node.name}: queues' service level and thresholds {got}")
        code, doc = node.request("GET", "/v1/agents/r1")
        check(code == 200 and doc["queues"] == ["rq"] and doc["state_since"] > 0,
              f"{node.name}: agent r1 {doc}")
    log("every node shows each queue's service level goal and thresholds, and each agent's "
        "queues and state_since")


def five_minutes(c, window):
    """The same traffic in 5-minute intervals: cells no longer than that, labelled with
    their local start, adding up to the period's total."""
    doc = report(c.nodes[0], f"interval=5m&figures=offered&{window}")
    check(doc["report"]["interval"] == "5m", f"interval {doc['report']}")
    rq = [r for r in doc["rows"] if r["group"] == "rq"]
    check(rq and all(0 < r["end"] - r["start"] <= 300000 for r in rq), f"5m cells {rq}")
    check(all(r["interval"][14:16] in {f"{m:02d}" for m in range(0, 60, 5)} for r in rq),
          f"5m labels {[r['interval'] for r in rq]}")
    total = next(x for x in doc["totals"] if x["group"] == "rq")["values"]["offered"]
    check(sum(r["values"]["offered"] for r in rq) == total == 10, f"5m offered {rq}")
    code, err = c.nodes[1].request("GET", "/v1/reports?interval=7m")
    check(code == 400 and "5m, 15m" in err["error"]["message"], f"interval=7m: {code} {err}")
    log(f"in 5-minute intervals: {len(rq)} cells of rq adding up to its 10 offered")


def body(c):
    c.start()
    c.wait_leader()
    c.install_model(MODEL)
    c.wait_converged()
    lagger = next(n for n in c.nodes if n is not c.wait_leader())
    lagger.kill()
    log(f"{lagger.name} killed: it will miss all the traffic")
    t = Traffic(c)
    t0 = now_ms()
    k = drive(t)
    t1 = now_ms()
    for i in range(40):  # more entries, so that the leader snapshots past the lagger
        t.call("PUT", f"/v1/agents/pad{i}", {"skills": {"sales": 1}})
    check(c.wait_leader().status()["snapshot_index"] > 0, "no snapshot was taken")
    lagger.start()
    c.wait_ready(timeout=60)

    def complete():
        sts = [n.status()["history"] for n in c.nodes]
        return all(s["gaps_pending"] == 0 for s in sts) and \
            len({s["digest"] for s in sts}) == 1 and sts
    sts = wait(complete, 60, "every node with the whole history")
    check(lagger.status()["history"]["gaps"] >= 1, f"{lagger.name} recorded no gap: {sts}")
    log(f"{lagger.name} caught up by snapshot and copied what it missed: {sts[0]}")

    queue_json(c)
    asa, longest = reckon(t, k)
    hold_ms = held(t, k)
    check(hold_ms >= 300, f"c1 was on hold {hold_ms} ms")
    window = f"from={t0 - 1000}&to={t1 + 1000}"
    five_minutes(c, window)
    docs, csvs = [], []
    for node in c.nodes:
        where = node.name
        doc = report(node, f"interval=total&{window}")
        check_queue_figures(doc, asa, longest, where)
        near(values(doc, "rq")["average_hold"], hold_ms / 6 / 1000, f"{where}: rq average_hold")
        check_other_groups(node, window, where)
        drill(node, window, "abandoned", {k["c6"], k["c7"], k["c8"]}, where)
        drill(node, window, "answered_in_target", {k[x] for x in ("c1", "c2", "c3", "c10")},
              where)
        code, text = node.request("GET", f"/v1/reports?interval=total&format=csv&{window}")
        check(code == 200 and isinstance(text, str), f"{where}: CSV {code}")
        docs.append(without_origin(doc))
        csvs.append(text)
    check(all(d == docs[0] for d in docs), "the nodes' reports differ")
    check(all(x == csvs[0] for x in csvs), "the nodes' CSV reports differ")
    log(f"every figure as reckoned, the same on {', '.join(n.name for n in c.nodes)}")

    page = check_page(lagger, window, report(lagger, f"interval=total&{window}"))
    pdf = check_pdf(lagger, window)
    log("the HTML page shows the JSON's figures, charts and glossary; Chromium prints it")

    rows = list(csv.reader(io.StringIO(csvs[0])))
    head = rows[0]
    rq = next(r for r in rows[1:] if r and r[0] == "rq")
    check(rq[head.index("offered")] == "10" and rq[head.index("service_level")] == "0.4000" and
          rq[head.index("abandoned_short")] == "2", f"CSV row {rq}")
    glossary = rows.index(["figure", "title", "unit", "definition"])
    check(any(r and r[0] == "service_level" for r in rows[glossary:]), "CSV glossary")
    spill = next(r for r in rows[1:] if r and r[0] == "rq-spill")
    check(spill[head.index("abandoned_after_target")] == "0", f"CSV rq-spill {spill}")
    no_data = report(c.nodes[0], f"interval=total&figures=asa,service_level&from={t0 - 7200000}"
                                 f"&to={t0 - 3600000}")
    check(no_data["rows"] == [] and no_data["total"]["values"]["asa"] is None and
          no_data["total"]["values"]["service_level"] is None,
          f"an hour without traffic is no data: {no_data['total']}")

    out = ctl(c, "report", "--from", str(t0 - 1000), "--to", str(t1 + 1000), "--interval",
              "total", "--csv")
    check(out.replace("\r\n", "\n") == csvs[0].replace("\r\n", "\n"),
          f"contactctl's CSV differs:\n{out}\n{csvs[0]}")
    out = ctl(c, "report", "--from", str(t0 - 1000), "--to", str(t1 + 1000), "--interval",
              "total", "--figures", "offered,service_level,asa")
    check("rq" in out and "40.0%" in out, f"contactctl report:\n{out}")
    out = ctl(c, "report", "--from", str(t0 - 1000), "--to", str(t1 + 1000), "--interval",
              "total", "--html")
    check(out.startswith("<!DOCTYPE html>") and "<svg" in out and "40.0%" in out and
          len(out) > len(page) // 2, f"contactctl report --html:\n{out[:500]}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "report.pdf")
        ctl(c, "report", "--from", str(t0 - 1000), "--to", str(t1 + 1000), "--interval",
            "total", "--pdf", path)
        with open(path, "rb") as f:
            got = f.read()
        check(got.startswith(b"%PDF-") and abs(len(got) - len(pdf)) < len(pdf) // 10,
              f"contactctl report --pdf: {len(got)} bytes, {got[:20]!r}")
    out = ctl(c, "report", "contacts", "--from", str(t0 - 1000), "--to", str(t1 + 1000),
              "--interval", "total", "--value", "rq", "--figure", "abandoned")
    check(str(k["c8"]) in out, f"contactctl report contacts:\n{out}")
    out = ctl(c, "contact", "explain", str(k["c9"]))
    check("rq-spill" in out and "overflow" in out, f"explain of a finished contact:\n{out}")
    out = ctl(c, "history", "--attr", "nope=x")
    log("contactctl prints the same report, drills down and explains a finished contact")

    # a contact waiting past the target counts against the live service level
    t.call("POST", "/v1/agents/r1/login")
    t.state("r1", "away", "lunch")
    live = t.create()
    time.sleep(TARGET_MS / 1000 + 0.5)
    doc = report(c.wait_leader(), "period=last_5m&interval=total&"
                                  "figures=waiting,waiting_past_target,offered,sl_offered")
    rq = values(doc, "rq")
    check(rq["waiting"] == 1 and rq["waiting_past_target"] == 1, f"live: {rq}")
    out = ctl(c, "report", "live", "--queue", "rq")
    check("rq" in out and "SL 5m" in out, f"contactctl report live:\n{out}")
    t.call("POST", f"/v1/contacts/{live}/abandon")
    log("a contact waiting past the target counts against the live service level")

    definitions(c, t0, t1)
    out = ctl(c, "reportdef", "list")
    check("sales-daily" in out and "daily 07:00" in out, f"contactctl reportdef list:\n{out}")
    out = ctl(c, "reportdef", "diff", "sales-daily", "--from", "1", "--to", "2")
    check("figures" in out and "answered" in out, f"contactctl reportdef diff:\n{out}")
    log("report definitions: versions, a stale change refused, diff, rollback, audit, roles")

    code, doc = c.nodes[0].request("GET", "/v1/reports?from=yesterday")
    check(code == 400 and doc["error"]["code"] == "INVAL", f"bad from: {code} {doc}")
    code, doc = c.nodes[0].request("GET", f"/v1/reports?from={t1}&to={t0}")
    check(code == 400, f"from after to: {code} {doc}")
    code, doc = c.nodes[0].request("GET", "/v1/reports?interval=fortnight")
    check(code == 400, f"a bad interval: {code} {doc}")
    code, doc = c.nodes[0].request("GET", "/v1/reports?figures=offered,nonsense")
    check(code == 400 and "nonsense" in doc["error"]["message"], f"a bad figure: {code} {doc}")
    code, doc = c.nodes[0].request("GET", "/v1/reports?format=docx")
    check(code == 400 and "html, pdf" in doc["error"]["message"], f"a bad format: {code} {doc}")


if __name__ == "__main__":
    if not CTL:
        raise SystemExit("CONTACTCTL must name the contactctl binary")
    run(Cluster(3, snapshot_threshold=64, snapshot_trailing=16, snapshot_growth=False), body)
