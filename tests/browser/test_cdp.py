"""The Chromium driver (cdp.py) against a page served by this test: typing with real key
events, clicking, keyboard-only use (Tab, arrows, Enter, Escape), eval and wait and their
failures, a screenshot whose pixels are checked, markup typed by a user shown as text (and
the same check catching a page that renders it as HTML), two browser contexts that share no
cookie, page errors and a crashed page reported, and HTTPS with a throwaway CA trusted
through NSS (refused by a browser that does not trust it, accepted by an insecure one)."""
import http.server
import os
import shutil
import ssl
import struct
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import Failure, log, main, make_certs  # noqa: E402
import cdp  # noqa: E402
import chromium  # noqa: E402

WIDTH, HEIGHT = 800, 600

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cdp test page</title>
<style>
  body { font: 16px "DejaVu Sans", sans-serif; background: #fff; color: #000; margin: 0; }
  #swatch { position: absolute; left: 0; top: 0; width: 40px; height: 40px;
            background: rgb(255, 0, 0); }
  main { margin: 60px 20px; }
  #under, #cover { position: absolute; left: 400px; top: 300px; width: 80px; height: 30px; }
  #cover { background: #ccc; }
  li:focus { outline: 2px solid #06c; }
</style></head>
<body>
<div id="swatch"></div>
<main>
  <h1>Typed lines</h1>
  <input id="entry" aria-label="entry">
  <button id="add">Add</button>
  <ul id="typed"></ul>
  <ul id="menu" role="listbox" aria-label="menu">
    <li tabindex="0">One</li><li tabindex="-1">Two</li><li tabindex="-1">Three</li>
  </ul>
  <p id="chosen"></p>
  <button id="hidden" style="display: none">Hidden</button>
  <button id="under">Under</button><div id="cover"></div>
</main>
<script>
  const unsafe = new URLSearchParams(location.search).has("unsafe");
  const entry = document.getElementById("entry");
  window.keydowns = 0;
  function add() {
    const li = document.createElement("li");
    if (unsafe) li.innerHTML = entry.value; else li.textContent = entry.value;
    document.getElementById("typed").append(li);
    entry.value = "";
  }
  document.getElementById("add").addEventListener("click", add);
  entry.addEventListener("keydown", (ev) => {
    window.keydowns++;
    if (ev.key === "Enter") add();
    if (ev.key === "Escape") entry.value = "";
  });
  document.getElementById("menu").addEventListener("keydown", (ev) => {
    const items = [...document.querySelectorAll("#menu li")];
    let i = items.indexOf(document.activeElement);
    if (ev.key === "ArrowDown") i = Math.min(i + 1, items.length - 1);
    else if (ev.key === "ArrowUp") i = Math.max(i - 1, 0);
    else if (ev.key === "Enter") {
      document.getElementById("chosen").textContent = items[i].textContent;
      return;
    } else return;
    ev.preventDefault();
    for (const item of items) item.tabIndex = -1;  // a roving tab stop
    items[i].tabIndex = 0;
    items[i].focus();
  });
</script>
</body></html>
"""

ERROR_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<script>
  console.log("loaded", 42, {a: 1, b: "two"}, [3, 4]);
  console.error("a console error");
  setTimeout(() => { throw new Error("planted failure"); }, 0);
  Promise.reject(new Error("planted rejection"));
  alert("a dialog");  // blocks the page until the driver answers it
</script></body></html>
"""


class Handler(http.server.BaseHTTPRequestHandler):
    """/ the page; /errors a page that fails; /cookie the Cookie header received."""

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/":
            self.reply(200, "text/html; charset=utf-8", PAGE)
        elif path == "/errors":
            self.reply(200, "text/html; charset=utf-8", ERROR_PAGE)
        elif path == "/cookie":
            self.reply(200, "text/plain", self.headers.get("Cookie", ""))
        else:
            self.reply(404, "text/plain", "not found")

    def reply(self, status, kind, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # a refused handshake is expected
            super().handle_error(request, client_address)


def serve(tls=None):
    """An HTTP server (HTTPS with the context tls) on a free port, in a thread."""
    server = Server(("127.0.0.1", 0), Handler)
    if tls is not None:
        # The handshake happens in the connection's own thread, on its first read: an idle
        # connection (Chromium preconnects) must not hold up accept().
        server.socket = tls.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check(cond, what):
    if not cond:
        raise Failure(what)


def raises(fn, error, *fragments):
    """fn() must raise `error` with every fragment in its message; returns the message."""
    try:
        fn()
    except error as e:
        for f in fragments:
            check(f in str(e), f"the error {str(e)!r} says {f!r}")
        return str(e)
    raise Failure(f"no {error.__name__} raised (expected one saying {fragments})")


def png_pixels(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack("!I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack("!IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour = header[:4]
    check(depth == 8 and colour in (2, 6), f"{path}: 8-bit RGB(A) (depth {depth}, type {colour})")
    step = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * step, [], bytearray(width * step)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - step] if i >= step else 0
            b, c = prev[i], prev[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, step)])
        prev = line
    return width, height, rows


def typing_and_clicking(p):
    p.type("#entry", "first line")
    check(p.eval("window.keydowns") == len("first line"),
          f"one keydown per character typed ({p.eval('window.keydowns')})")
    p.click("#add")
    p.type("#entry", "second\n")  # Enter adds it
    p.type("#entry", "dropped")
    p.press("Escape")  # clears the entry
    items = p.eval("[...document.querySelectorAll('#typed li')].map(e => e.textContent)")
    check(items == ["first line", "second"], f"the typed lines are listed: {items}")
    check(p.text("#typed li") == "first line", "text() reads the first match")
    check(p.eval("document.getElementById('entry').value") == "", "Escape cleared the entry")
    raises(lambda: p.click("#nothing"), cdp.BrowserError, "no element matches '#nothing'")
    raises(lambda: p.click("#hidden"), cdp.BrowserError, "'#hidden'", "has no size")
    raises(lambda: p.click("#under"), cdp.BrowserError, "covered by div#cover")
    log("typing with key events, clicking, and click's refusals")


def keyboard_only(p):
    p.goto(p.url)
    p.type("#entry", "by keyboard")
    p.press("Tab")
    check(p.focused() == 'button#add "Add"', f"Tab moves to the button ({p.focused()})")
    p.press("Enter")  # activates the focused button
    check(p.text("#typed li") == "by keyboard", "Enter on the button added the line")
    p.press("Tab")
    check(p.focused() == 'li "One"', f"Tab moves into the menu ({p.focused()})")
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "ArrowUp"):
        p.press(key)
    check(p.has_focus("#menu li:nth-child(2)"), f"arrows move in the menu ({p.focused()})")
    p.press("Enter")
    check(p.text("#chosen") == "Two", "Enter chose the focused item")
    p.press("Shift+Tab")
    check(p.has_focus("#add"), f"Shift+Tab goes back to the button ({p.focused()})")
    p.press("Shift+Tab")
    p.keys("no mouse\n")  # into the entry, reached without a click
    items = p.eval("[...document.querySelectorAll('#typed li')].map(e => e.textContent)")
    check(items == ["by keyboard", "no mouse"], f"keys() typed into the focused entry: {items}")
    raises(lambda: p.press("Hyper+x"), cdp.BrowserError, "unknown modifier 'Hyper'")
    log("keyboard-only use: Tab, Shift+Tab, arrows, Enter, Escape")


def eval_and_wait(p):
    check(p.eval("[1, 'two', {three: 3}]") == [1, "two", {"three": 3}], "eval returns JSON")
    check(p.eval("new Promise(r => setTimeout(() => r('later'), 50))") == "later",
          "eval awaits a promise")
    check(p.eval("undefined") is None and p.eval("0/0") == "NaN", "undefined and NaN")
    raises(lambda: p.eval("document.querySelector('#nothing').click()"), cdp.PageError,
           "TypeError", "Cannot read properties of null")
    p.eval("setTimeout(() => document.title = 'ready', 100)")
    check(p.wait("document.title == 'ready' && document.title", 5, "the title") == "ready",
          "wait returns the truthy value")
    p.eval("setTimeout(() => location.search = '?moved', 50)")
    check(p.wait("location.search == '?moved' && document.readyState == 'complete'", 5,
                 "the page's own navigation"), "wait goes on across a navigation")
    check(p.url.endswith("/?moved"), f"the page's URL follows it: {p.url}")
    raises(lambda: p.wait("window.counter = (window.counter || 0) + 1, false", 0.3,
                          "a thing that never happens"),
           cdp.WaitTimeout, "a thing that never happens", "last: False")
    log("eval, wait, and their failures")


def screenshot(p):
    p.goto(p.url)
    path = p.screenshot(f"test_cdp-{os.getpid()}.png")
    width, height, rows = png_pixels(path)
    check((width, height) == (WIDTH, HEIGHT), f"the screenshot is {WIDTH}x{HEIGHT}: "
          f"{width}x{height}")
    check(rows[20][20] == (255, 0, 0), f"the red swatch is at (20, 20): {rows[20][20]}")
    check(rows[300][20] == (255, 255, 255), f"the page is white at (20, 300): {rows[300][20]}")
    # The heading's glyphs: dark pixels in its band (no font, no text).
    heading = p.eval("(r => [r.top, r.bottom, r.left, r.right])"
                     "(document.querySelector('h1').getBoundingClientRect())")
    top, bottom, left, right = (int(v) for v in heading)
    dark = sum(1 for y in range(top, bottom) for px in rows[y][left:right] if max(px) < 100)
    check(dark > 200, f"the heading's text is drawn ({dark} dark pixels)")
    os.unlink(path)
    log(f"screenshot: {width}x{height} PNG, swatch and text where the page puts them")


def markup_as_text(b, base):
    payload = '<img src=x onerror="window.pwned=1"><b>bold</b>'
    for url, safe in ((base, True), (base + "?unsafe", False)):
        p = b.new_page(url)
        p.type("#entry", payload + "\n")
        shown = p.text("#typed li")
        elements = p.eval("document.querySelectorAll('#typed li *').length")
        ran = p.wait("window.pwned === 1", 2, "the handler to run") if not safe else \
            p.eval("window.pwned === 1")
        if safe:
            check(shown == payload and elements == 0 and not ran,
                  f"markup typed is shown as text ({shown!r}, {elements} elements)")
        else:  # the same checks see a page that renders it as HTML
            check(shown == "bold" and elements == 2 and ran,
                  f"the unsafe page made elements ({shown!r}, {elements} elements)")
        p.close()
    log("markup typed into the page is shown as text; an innerHTML page is caught")


def contexts(b, base):
    agent = b.new_context()
    supervisor = b.new_context()
    a1, a2, s = agent.new_page(base), agent.new_page(base), supervisor.new_page(base)
    a1.eval("document.cookie = 'who=agent; path=/'")
    fetch = "fetch('/cookie').then(r => r.text())"
    check(a2.eval(fetch) == "who=agent", "a page of the same context sends the cookie")
    check(s.eval(fetch) == "" and s.eval("document.cookie") == "",
          "a page of another context has no cookie")
    agent.close()
    supervisor.close()
    log("two browser contexts share no cookie")


def page_errors(b, base):
    p = b.new_page(base + "errors")
    p.wait("true", 1)  # the timer's throw comes after load
    entries = p.console
    texts = [repr(e) for e in entries]
    check(any(e.kind == "console" and e.text == 'loaded 42 {a: 1, b: two} [3, 4]'
              for e in entries), f"console.log is collected: {texts}")
    check(any(e.kind == "dialog" and e.text == "alert: a dialog" for e in entries),
          f"the alert is reported (and was answered, or the page would not load): {texts}")
    errors = [e.text for e in p.errors()]
    for wanted in ("a console error", "planted failure", "planted rejection"):
        check(any(wanted in t for t in errors), f"{wanted!r} is among the errors: {errors}")
    p.goto(base)
    check(p.errors() == [], f"a new page starts with no error: {p.errors()}")
    p.close()
    log("console messages, uncaught exceptions and rejections are reported")


def crash(b, base):
    p = b.new_page(base)
    raises(lambda: p.call("Page.crash"), cdp.BrowserError, "Page.crash", "crashed")
    raises(lambda: p.eval("1"), cdp.BrowserError, "Runtime.evaluate", base, "crashed")
    check(b.new_page(base).text("h1") == "Typed lines", "other pages go on after a crash")
    log("a crashed page is reported at once, not after a timeout")


def https(tmp):
    make_certs(tmp, "web")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(os.path.join(tmp, "web.crt"), os.path.join(tmp, "web.key"))
    server = serve(tls)
    url = f"https://127.0.0.1:{server.server_port}/"
    try:
        with cdp.Browser(width=WIDTH, height=HEIGHT) as b:
            raises(lambda: b.new_page(url), cdp.BrowserError, "ERR_CERT_AUTHORITY_INVALID")
        with cdp.Browser(ca_file=os.path.join(tmp, "ca.crt"), width=WIDTH, height=HEIGHT) as b:
            p = b.new_page(url)
            check(p.text("h1") == "Typed lines", "the HTTPS page loads with the CA trusted")
            check(p.eval("window.isSecureContext"), "the page is a secure context")
        with cdp.Browser(insecure=True, width=WIDTH, height=HEIGHT) as b:
            check(b.new_page(url).text("h1") == "Typed lines", "insecure=True loads it too")
    finally:
        server.shutdown()
    log("HTTPS: the test CA trusted through NSS; refused without it; insecure accepts")


def body():
    tmp = tempfile.mkdtemp(prefix="contactd-cdp-")
    server = serve()
    base = f"http://127.0.0.1:{server.server_port}/"
    try:
        started = time.monotonic()
        with cdp.Browser(width=WIDTH, height=HEIGHT) as b:
            p = b.new_page(base)
            log(f"Chromium up in {b.start_seconds:.2f} s, first page loaded in "
                f"{time.monotonic() - started:.2f} s")
            typing_and_clicking(p)
            keyboard_only(p)
            eval_and_wait(p)
            screenshot(p)
            markup_as_text(b, base)
            contexts(b, base)
            page_errors(b, base)
            crash(b, base)
            m = b.memory()
            log(f"Chromium: {m['processes']} processes, PSS {m['pss_mib']:.0f} MiB, "
                f"RSS sum {m['rss_mib']:.0f} MiB")
            pgid = b.chromium.proc.pid
        check(chromium.group_pids(pgid, live=True) == [], "no Chromium process is left")
        https(tmp)
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    log("PASS")


if __name__ == "__main__":
    main(body)
