"""The chat page and the agent desk in headless Chromium against a real 3-node TLS cluster.

- A customer on n1's chat page chats with an agent signed in on n2's desk: the pre-chat form,
  the offer with its ring countdown taken with the keyboard, messages both ways with
  delivered marks and typing, all through two different nodes.
- Script and markup payloads typed on either side show as text on both pages.
- The customer's node is killed with SIGKILL mid-conversation, later the desk's: each page
  reconnects to another node, and the two transcripts are identical to the replicated one,
  nothing lost or doubled.
- An offer nobody answers counts down, is withdrawn, and goes to the next agent; an agent at
  its chat capacity gets no further chat offer.
- End and wrap-up with the required disposition and notes: the history has them.
- A supervisor sees an agent's desk read-only; every control of both pages has a label.
- A runbook that needs approval, run by an admin, shows on the supervisor's desk; the
  supervisor approves it there (its fault opens) and ends it there (the fault closes); an
  agent's desk shows no runbooks.
Screenshots of both pages are saved (CD_SCREENSHOTS; docs/images holds the ones in the
README)."""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import Cluster, Failure, log, run, wait  # noqa: E402
import cdp  # noqa: E402

MODEL = os.path.join(HERE, "..", "integration", "data", "chat-model.yaml")
PAYLOAD = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script> & \"q\""
NAME = "Ann <img src=x onerror=window.__xss=3>"  # within the form's 40 characters
PASSWORD = "correct horse battery staple"
RUNBOOK = """
runbooks:
  - name: outage-text
    trigger: { signal: "trunk.main.up", when: bad }
    approval: true
    actions:
      - fault: { kind: desk_rehearsal, severity: minor }
"""


def check(cond, what):
    if not cond:
        raise Failure(what)


def base(node):
    return f"https://{node.host}:{node.api_port}"


def js(s):
    return json.dumps(s)


def page(opener, url):
    """A page that stays focused and visible however many others are open, as each would
    on a person's screen: the pages mark messages as seen only when they are visible."""
    p = opener.new_page(url)
    p.call("Emulation.setFocusEmulationEnabled", {"enabled": True})
    return p


def add_user(c, name, role, agent=None):
    body = {"role": role, "password": PASSWORD}
    if agent:
        body["agent"] = agent
    code, doc = c.wait_leader().request("PUT", f"/v1/users/{name}", body)
    check(code == 200, f"user {name}: {code} {doc}")


def sign_in(page, user):
    page.wait("!!document.querySelector('#signin-view') && "
              "!document.querySelector('#signin-view').hidden", 15, "the sign-in form")
    page.type("#user", user)
    page.type("#password", PASSWORD)
    page.press("Enter")
    page.wait("!document.querySelector('#presence').hidden", 15, f"{user} signed in")


def set_state(page, value):
    page.wait("window.contactdDesk.state().ready", 15, "the desk has read its state")
    page.eval(f"document.querySelector('#state-select').value = {js(value)}")
    page.click("#state-apply")


def agent_state(page):
    return page.eval("document.querySelector('#state-now').dataset.state")


def no_xss(*pages):
    for p in pages:
        check(p.eval("window.__xss === undefined"), "a payload ran as script")


def transcript(page, root):
    """[(seq, side, text)] of the messages a page shows under root, in order."""
    return page.eval(f"""Array.from(document.querySelectorAll({js(root + ' li.msg[data-seq]')}))
        .filter(li => li.dataset.seq !== '')
        .map(li => [Number(li.dataset.seq),
                    li.classList.contains('mine'),
                    li.querySelector('.text').textContent])""")


def customer_start(page, name, topic="billing"):
    page.wait("!document.querySelector('#form-view').hidden", 15, "the pre-chat form")
    page.type("#f-name", name)
    page.type("#f-email", "ann@example.com")
    page.eval(f"document.querySelector('#f-topic').value = {js(topic)}")
    page.click("#start")
    page.wait("window.contactdChat.state() && window.contactdChat.state().contact > 0", 15,
              "the chat started")
    return page.eval("window.contactdChat.state().contact")


def offer_on(desk, cid, timeout=15):
    return desk.wait(f"!!document.querySelector('.offer[data-contact=\"{cid}\"]')", timeout,
                     f"the offer of contact {cid} on the desk")


def accept(desk, cid):
    """Clicks the offer's Accept once its facts are in (they come a moment after the offer
    and move the button)."""
    offer_on(desk, cid)
    desk.wait(f"!!document.querySelector('.offer[data-contact=\"{cid}\"] dd')", 10,
              "the offer's facts")
    desk.click(f".offer[data-contact='{cid}'] button")


def desk_send(desk, cid, text):
    desk.type(f"#text-{cid}", text)
    desk.press("Enter")


def customer_send(page, text):
    page.type("#text", text)
    page.press("Enter")


def first_chat(c, b, customer, alice):
    """The customer on n1, the agent on n2."""
    cid = customer_start(customer, NAME)
    offer_on(alice, cid)
    count = alice.text(f".offer[data-contact='{cid}'] .countdown")
    check(count.endswith(" s"), f"a ring countdown: {count!r}")
    check(alice.has_focus(f".offer[data-contact='{cid}'] button"),
          f"the offer's Accept takes the focus: {alice.focused()}")
    alice.press("Enter")  # accepted with the keyboard
    customer.wait("document.querySelector('#title').textContent.includes('a01')", 15,
                  "the customer sees the agent")
    alice.wait(f"!!document.querySelector('#tab-{cid}')", 10, "the chat's tab")
    check(NAME in alice.text(f"#panel-{cid} .facts"),
          "the customer's name (a payload) is shown as text among the facts")
    customer_send(customer, PAYLOAD)
    alice.wait(f"Array.from(document.querySelectorAll('#panel-{cid} .transcript .text'))"
               f".some(t => t.textContent === {js(PAYLOAD)})", 10, "the payload on the desk")
    check(alice.eval(f"document.querySelectorAll('#panel-{cid} .transcript img, "
                     f"#panel-{cid} .transcript script').length") == 0,
          "the payload made elements on the desk")
    customer.wait("!!document.querySelector('#transcript li.mine[data-mark=\"delivered\"]')", 10,
                  "the customer's message marked delivered once the desk showed it")
    customer.type("#text", "still typ")
    alice.wait(f"document.querySelector('#panel-{cid} .typing').textContent.includes('typing')",
               10, "the customer typing, on the desk")
    customer.eval("document.querySelector('#text').value = ''")
    desk_send(alice, cid, "Hello! " + PAYLOAD)
    customer.wait(f"Array.from(document.querySelectorAll('#transcript li:not(.mine) .text'))"
                  f".some(t => t.textContent === {js('Hello! ' + PAYLOAD)})", 10,
                  "the agent's payload on the chat page")
    alice.wait(f"!!document.querySelector('#panel-{cid} li.mine[data-mark=\"delivered\"]')", 10,
               "the agent's message marked delivered once the page showed it")
    no_xss(customer, alice)
    log(f"chat {cid}: customer on n1, agent on n2; offer taken with the keyboard, payloads "
        "shown as text both ways, delivered marks and typing")
    return cid


def failovers(c, customer, alice, cid):
    n1, n2, n3 = c.nodes
    n1.kill()
    log("n1, the customer's node, killed with SIGKILL")
    desk_send(alice, cid, "Are you there? (1)")
    customer.wait("Array.from(document.querySelectorAll('#transcript .text'))"
                  ".some(t => t.textContent === 'Are you there? (1)')", 30,
                  "the page reconnected to another node and got the message sent meanwhile")
    customer_send(customer, "Yes, back (1)")
    alice.wait(f"Array.from(document.querySelectorAll('#panel-{cid} .text'))"
               ".some(t => t.textContent === 'Yes, back (1)')", 15, "the customer's answer")
    n1.start()
    c.wait_ready()
    n2.kill()
    log("n2, the desk's node, killed with SIGKILL")
    customer_send(customer, "And now? (2)")
    alice.wait(f"Array.from(document.querySelectorAll('#panel-{cid} .text'))"
               ".some(t => t.textContent === 'And now? (2)')", 30,
               "the desk reconnected to another node and got the message sent meanwhile")
    desk_send(alice, cid, "Still here (2)")
    customer.wait("Array.from(document.querySelectorAll('#transcript .text'))"
                  ".some(t => t.textContent === 'Still here (2)')", 15, "the agent's answer")
    n2.start()
    c.wait_ready()
    code, doc = n3.request("GET", f"/v1/contacts/{cid}/messages")
    check(code == 200, f"transcript: {code} {doc}")
    replicated = [(m["seq"], m["from"] == "customer", m["text"]) for m in doc["items"]]
    on_page = [tuple(x) for x in transcript(customer, "#transcript")]
    on_desk = [(s, not mine, t) for s, mine, t in transcript(alice, f"#panel-{cid}")]
    check(on_page == replicated, f"the chat page {on_page} != replicated {replicated}")
    check(on_desk == replicated, f"the desk {on_desk} != replicated {replicated}")
    check([s for s, _, _ in replicated] == list(range(1, len(replicated) + 1)),
          f"seqs 1..n, none twice: {replicated}")
    log(f"after both nodes' deaths: {len(replicated)} messages, the same on the page, the desk "
        "and the cluster")


def ring_no_answer_and_capacity(c, b, alice, bob):
    n1, n2, n3 = c.nodes
    second = page(b.new_context(), base(n3) + "/chat/?entry=help")
    cid2 = customer_start(second, "Bo")
    # bob has nothing in hand, so the longest-idle strategy offers to him first
    offer_on(bob, cid2)
    seen = bob.wait(f"!document.querySelector('.offer[data-contact=\"{cid2}\"]') ? 'gone' : "
                    f"(document.querySelector('.offer[data-contact=\"{cid2}\"] .countdown')"
                    ".textContent.match(/^[0-3] s$|time is up/) || [''])[0]", 20,
                    "the countdown running out")
    check(seen != "gone", "the countdown was not seen near its end")
    offer_on(alice, cid2, timeout=20)
    bob.wait(f"!document.querySelector('.offer[data-contact=\"{cid2}\"]')", 10,
             "the offer left bob's desk")
    bob.wait("document.querySelector('#state-now').textContent.includes('ring_no_answer')", 10,
             "bob is away for not answering")
    accept(alice, cid2)
    second.wait("document.querySelector('#title').textContent.includes('a01')", 15,
                "the second customer sees a01")
    log(f"chat {cid2}: bob's ring ran out, the offer went to alice")
    third = page(b.new_context(), base(n2) + "/chat/?entry=help")
    cid3 = customer_start(third, "Cy")
    time.sleep(6)  # longer than the ring: any offer would have come by now
    check(not alice.exists(f".offer[data-contact='{cid3}']"),
          "alice at her chat capacity (2) got a third chat")
    code, doc = n1.request("GET", f"/v1/contacts/{cid3}")
    check(code == 200 and doc["state"] == "queued", f"the third chat waits: {code} {doc}")
    third.wait("document.querySelector('#wait').textContent.includes('number 1')", 15,
               "the third customer sees its place in line")
    log("alice at chat capacity got no third offer; the third customer waits, first in line")
    return second, third, cid2, cid3


def wrap_up(c, alice, cid):
    n1, n2, n3 = c.nodes
    alice.click(f"#tab-{cid}")
    alice.click(f"#panel-{cid} .end")
    alice.wait(f"!document.querySelector('#panel-{cid} .wrapup').hidden", 15, "wrap-up")
    alice.click(f"#panel-{cid} .wrapup button")
    alice.wait(f"document.querySelector('#panel-{cid} .wrapup-error').textContent !== ''", 10,
               "the disposition is required")
    alice.eval(f"document.querySelector('#disp-{cid}').value = 'resolved'")
    alice.type(f"#notes-{cid}", "billing question answered")
    alice.click(f"#panel-{cid} .wrapup button")
    alice.wait(f"!document.querySelector('#panel-{cid}')", 15, "the chat left the desk")
    h = wait(lambda: (lambda r: r[1] if r[0] == 200 else None)(
        n3.request("GET", f"/v1/history/{cid}")), 20, "the history row")
    check(h["disposition"] == "resolved" and h["notes"] == "billing question answered",
          f"history {h}")
    log(f"chat {cid} ended and wrapped up as 'resolved' with notes; the history has both")


def supervisor_view(c, b, cid):
    n3 = c.nodes[2]
    sup = page(b.new_context(), base(n3) + "/desk/?agent=a01")
    sign_in(sup, "sue")
    sup.wait(f"!!document.querySelector('#tab-{cid}')", 15, "a01's chat on the supervisor's view")
    check(sup.eval(f"document.querySelector('#text-{cid}').disabled") is True,
          "the supervisor's view is read-only")
    check(sup.eval("document.querySelector('#state-select').disabled") is True,
          "the supervisor cannot set the agent's state")
    log("a supervisor sees a01's desk read-only")
    approve_on_desk(c, sup)
    return sup


def run_state(c, run):
    code, doc = c.wait_leader().request("GET", f"/v1/runbooks/runs/{run}")
    check(code == 200, f"run {run}: {code} {doc}")
    return doc


def approve_on_desk(c, sup):
    code, doc = c.wait_leader().request("POST", "/v1/runbooks/outage-text/run")
    check(code == 201, f"run outage-text: {code} {doc}")
    run = doc["run"]
    row = f"#runbooks-list li[data-run='{run}']"
    sup.wait(f"!!document.querySelector(\"{row}[data-state='awaiting'] button.approve\")", 15,
             "the run awaiting approval on the supervisor's desk")
    check("outage-text" in sup.eval(f"document.querySelector(\"{row}\").textContent"),
          "the run's line names its runbook")
    sup.click(f"{row} button.approve")
    r = wait(lambda: (lambda d: d if d["state"] == "active" else None)(run_state(c, run)), 15,
             "the run approved from the desk")
    check(r["approved_by"] == "user:sue" and r["steps"][0]["state"] == "done" and r["fault"],
          f"approved run: {r}")
    sup.wait(f"!!document.querySelector(\"{row}[data-state='active'] button.end\")", 15,
             "the run acting on the desk")
    sup.click(f"{row} button.end")
    r = wait(lambda: (lambda d: d if d["state"] == "ended" else None)(run_state(c, run)), 15,
             "the run ended from the desk")
    check(r["ended_by"] == "user:sue", f"ended run: {r}")
    code, f = c.wait_leader().request("GET", f"/v1/faults/{r['fault']}")
    check(code == 200 and f["state"] == "closed", f"the run's fault: {code} {f}")
    sup.wait(f"!document.querySelector(\"{row}\") && "
             "!document.querySelector('#runbooks-none').hidden", 15, "the list emptied")
    log(f"sue approved runbook run {run} on her desk (fault {r['fault']} opened), then ended it "
        "there (closed)")


def pictures(alice, third, cid):
    """The pictures of docs/ and the README: an ordinary conversation on both pages."""
    accept(alice, cid)
    third.wait("document.querySelector('#title').textContent.includes('a01')", 15,
               "the third customer connected")
    for side, text in (("customer", "Hi! My parcel has not arrived yet."),
                       ("agent", "Hello Cy, sorry to hear that. Could you give me the "
                                 "order number?"),
                       ("customer", "It is 4711."),
                       ("agent", "Thanks. It left the warehouse this morning and arrives "
                                 "tomorrow before noon.")):
        if side == "customer":
            customer_send(third, text)
            alice.wait(f"Array.from(document.querySelectorAll('#panel-{cid} .text'))"
                       f".some(t => t.textContent === {js(text)})", 10, "the customer's line")
        else:
            desk_send(alice, cid, text)
            third.wait(f"Array.from(document.querySelectorAll('#transcript .text'))"
                       f".some(t => t.textContent === {js(text)})", 10, "the agent's line")
    third.type("#text", "Great, thank")
    alice.wait(f"document.querySelector('#panel-{cid} .typing').textContent !== ''", 10,
               "typing")
    alice.click(f"#tab-{cid}")
    third.screenshot("chat.png")
    alice.screenshot("desk.png")


UNLABELLED = """Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(e => e.offsetParent !== null && e.type !== 'hidden')
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') &&
               !e.textContent.trim() && !e.getAttribute('title'))
  .map(e => e.outerHTML.slice(0, 80))"""


def body(c):
    c.start()
    c.wait_ready()
    with open(MODEL) as f:
        code, doc = c.wait_leader().request("POST", "/v1/model", raw=f.read() + RUNBOOK)
    check(code == 200, f"model: {code} {doc}")
    add_user(c, "alice", "agent", "a01")
    add_user(c, "bob", "agent", "a02")
    add_user(c, "sue", "supervisor")
    n1, n2, n3 = c.nodes
    with cdp.Browser(ca_file=c.ca_file, width=1280, height=860) as b:
        alice = page(b.new_context(), base(n2) + "/desk/")
        sign_in(alice, "alice")
        set_state(alice, "available")
        alice.wait("document.querySelector('#state-now').dataset.state === 'available'", 10,
                   "alice available")
        check(alice.eval(UNLABELLED) == [], f"unlabelled desk controls: {alice.eval(UNLABELLED)}")
        check(alice.eval("document.querySelector('#runbooks').hidden") is True,
              "an agent's desk shows runbooks")
        customer = page(b, base(n1) + "/chat/?entry=help")
        check(customer.eval(UNLABELLED) == [],
              f"unlabelled chat controls: {customer.eval(UNLABELLED)}")
        cid = first_chat(c, b, customer, alice)
        failovers(c, customer, alice, cid)
        bob = page(b.new_context(), base(n3) + "/desk/")
        sign_in(bob, "bob")
        set_state(bob, "available")
        bob.wait("document.querySelector('#state-now').dataset.state === 'available'", 10,
                 "bob available")
        second, third, cid2, cid3 = ring_no_answer_and_capacity(c, b, alice, bob)
        supervisor_view(c, b, cid)
        wrap_up(c, alice, cid)
        offer_on(alice, cid3, timeout=20)
        log(f"with a chat wrapped up, alice is offered the waiting chat {cid3}")
        pictures(alice, third, cid3)
        code, doc = n2.request("GET", f"/v1/contacts/{cid3}/earlier")
        check(code == 200 and doc["by"] == "email" and
              [h["id"] for h in doc["items"]] == [cid], f"earlier contacts of {cid3}: {doc}")
        alice.wait(f"document.querySelector('#panel-{cid3} .earlier').textContent"
                   ".includes('resolved')", 10, "the earlier chat on the desk")
        no_xss(customer, alice, second, third)
        for name, p in (("customer", customer), ("alice", alice), ("bob", bob)):
            # refused requests (401 before signing in, the 400 the test asked for, nodes
            # killed) are the network's; exceptions and rejections are the page's own
            bad = [e for e in p.errors() if "Failed to load resource" not in str(e)
                   and "WebSocket connection" not in str(e)]
            check(not bad, f"{name}'s page reported errors: {bad}")


if __name__ == "__main__":
    run(Cluster(3), body)
