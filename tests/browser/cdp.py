"""Headless Chromium driven through the DevTools protocol, for tests of the web pages.

    with Browser(ca_file=c.ca_file) as b:       # trusts the cluster's test CA
        p = b.new_page(f"https://127.0.0.1:{port}/chat/")
        p.type("#message", "hello")
        p.press("Enter")
        p.wait("document.querySelectorAll('.message').length == 1", 5, "the message shown")
        agent = b.new_context().new_page(url)   # a second, cookie-isolated session

Chromium (/usr/bin/chromium, or $CHROMIUM) runs with a profile and a HOME of its own in a
fresh temporary directory, removed by close(); chromium.py handles the process. One DevTools
WebSocket (wsclient) carries every page's commands in flat sessions. Nothing runs in the
background: events (console messages, page errors, loads) are read while a command waits for
its answer, and whenever p.console is read.

Certificates: the CA given as ca_file is trusted the way Chromium on Linux trusts a local CA,
through the NSS database in $HOME/.pki/nssdb (made with certutil, Debian's libnss3-tools), so
a page served with a certificate the CA did not sign still fails as it would for a customer.
insecure=True passes --ignore-certificate-errors instead, for a server with no CA at hand.

Every failure raises BrowserError (PageError for an exception thrown in the page, WaitTimeout
for a condition that never held) with a message naming the selector, expression or URL.
Chromium and every process it started are killed by close(), on leaving a `with` block (after
a screenshot of each open page when the block failed), at interpreter exit, and by the kernel
if the test process dies first (setpriv --pdeathsig).
"""
import atexit
import base64
import json
import os
import sys
import tempfile
import time

from chromium import BrowserError, Chromium

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import wsclient  # noqa: E402  (tests/lib)

# press(): name -> (code, windowsVirtualKeyCode, text typed or None)
KEYS = {
    "Enter": ("Enter", 13, "\r"), "Tab": ("Tab", 9, None), "Escape": ("Escape", 27, None),
    "Backspace": ("Backspace", 8, None), "Delete": ("Delete", 46, None),
    "ArrowUp": ("ArrowUp", 38, None), "ArrowDown": ("ArrowDown", 40, None),
    "ArrowLeft": ("ArrowLeft", 37, None), "ArrowRight": ("ArrowRight", 39, None),
    "Home": ("Home", 36, None), "End": ("End", 35, None),
    "PageUp": ("PageUp", 33, None), "PageDown": ("PageDown", 34, None),
    "Space": ("Space", 32, " "),
}
MODIFIERS = {"Alt": 1, "Control": 2, "Meta": 4, "Shift": 8}

# A JavaScript function describing an element for messages: tag#id.class "text".
DESCRIBE_JS = """(e) => {
  if (!e) return 'nothing';
  if (e === document.body) return 'body';
  let d = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '');
  for (const c of e.classList) d += '.' + c;
  const value = typeof e.value === 'string' ? e.value : '';  // <li> has a numeric one
  const label = e.getAttribute('aria-label') || e.getAttribute('name') || value ||
                e.textContent;
  const t = (label || '').trim().replace(/\\s+/g, ' ');
  return t ? `${d} "${t.slice(0, 40)}"` : d;
}"""


class PageError(BrowserError):
    """An exception thrown by JavaScript run in the page."""


class WaitTimeout(BrowserError):
    """A condition awaited with Page.wait never held."""


class ConsoleEntry:
    """One console message or page error. kind: "console" (console.log and friends),
    "exception" (uncaught, or an unhandled rejection), "log" (the browser's own messages:
    a resource that failed to load, a CSP violation) or "dialog" (alert/confirm/prompt,
    answered by accepting it)."""

    def __init__(self, kind, level, text, url="", line=None):
        self.kind, self.level, self.text, self.url, self.line = kind, level, text, url, line

    def is_error(self):
        return self.kind == "exception" or self.level == "error"

    def __repr__(self):
        where = f" ({self.url}:{self.line})" if self.url else ""
        return f"[{self.kind} {self.level}] {self.text}{where}"


def screenshot_dir():
    """Where relative screenshot paths go: $CD_SCREENSHOTS, else BUILD/screenshots when
    ctest runs the test (CD_BUILD_DIR), else TMPDIR/contactd-screenshots."""
    if os.environ.get("CD_SCREENSHOTS"):
        return os.environ["CD_SCREENSHOTS"]
    if os.environ.get("CD_BUILD_DIR"):
        return os.path.join(os.environ["CD_BUILD_DIR"], "screenshots")
    return os.path.join(tempfile.gettempdir(), "contactd-screenshots")


_live_browsers = set()


@atexit.register
def _close_all():
    for b in list(_live_browsers):
        b.close()


class Browser:
    """One Chromium process. ca_file: a PEM CA to trust (see the module's note);
    insecure: accept any certificate instead; width, height: the viewport of every page
    (CSS pixels, device scale 1, so a screenshot is exactly width x height). Headful when
    $CD_HEADFUL is set and a display exists. Raises BrowserError when Chromium does not
    start within start_timeout seconds."""

    def __init__(self, ca_file=None, insecure=False, width=1280, height=800,
                 start_timeout=30.0, extra_args=()):
        self.width, self.height = width, height
        self.pages = {}  # session id -> Page
        self.ws = None
        self._next_id = 0
        started = time.monotonic()
        self.chromium = Chromium(ca_file, insecure, width, height, start_timeout, extra_args)
        _live_browsers.add(self)
        self.devtools_url = self.chromium.devtools_url
        try:
            self.ws = wsclient.connect(self.devtools_url, timeout=start_timeout,
                                       max_message=256 * 1024 * 1024)  # screenshots are big
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.monotonic() - started  # launch to DevTools connected

    # ---- the DevTools connection ---------------------------------------------------------

    def send(self, method, params=None, session=None):
        """Sends a command without waiting for its answer; returns its id."""
        if self.ws is None:
            raise BrowserError(f"{method}: the browser is closed")
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            self.ws.send_json(msg)
        except OSError as e:
            raise BrowserError(f"{method}: the DevTools connection is gone ({e}): "
                               f"{self.chromium.exit_note()}")
        return self._next_id

    def call(self, method, params=None, session=None, timeout=30.0):
        """Runs a command and returns its result; events read meanwhile are dispatched.
        Raises BrowserError with DevTools' message when the command fails."""
        want = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            page = self.pages.get(session)
            if page is not None and page.crashed:
                raise BrowserError(f"{method}: the page {page.url!r} crashed")
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"{method}: no answer from Chromium within {timeout} s")
            msg = self._read(left)
            if msg is not None and msg.get("id") == want:
                if "error" in msg:
                    err = msg["error"]
                    raise BrowserError(f"{method} {json.dumps(params)[:300]}: "
                                       f"{err.get('message')} {err.get('data', '')}".strip())
                return msg.get("result", {})

    def pump(self, timeout=0.0):
        """Reads and dispatches events for `timeout` seconds (0: those already there)."""
        deadline = time.monotonic() + timeout
        while self._read(max(0.0, deadline - time.monotonic())) is not None:
            pass

    def _read(self, timeout):
        """One message from Chromium, dispatched if it is an event; None on timeout."""
        try:
            m = self.ws.recv(timeout)
        except wsclient.Timeout:
            return None
        except (wsclient.WebSocketError, OSError) as e:
            raise BrowserError(f"DevTools connection failed ({e}): "
                               f"{self.chromium.exit_note()}")
        if m.kind == "close":
            raise BrowserError("Chromium closed the DevTools connection: "
                               f"{self.chromium.exit_note()}")
        msg = m.json()
        if "method" in msg:
            page = self.pages.get(msg.get("sessionId"))
            if page is not None:
                page._event(msg["method"], msg.get("params", {}))
        return msg

    # ---- pages and contexts --------------------------------------------------------------

    def new_context(self):
        """A fresh browser context: cookies and storage shared by its pages only."""
        r = self.call("Target.createBrowserContext", {"disposeOnDetach": True})
        return Context(self, r["browserContextId"])

    def new_page(self, url=None, context=None):
        """A new tab (in `context`, else the default one), loaded with url if given."""
        params = {"url": "about:blank"}
        if context is not None:
            params["browserContextId"] = context.id
        target = self.call("Target.createTarget", params)["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        page = Page(self, target, session["sessionId"])
        self.pages[page.session] = page
        page._setup()
        if url:
            page.goto(url)
        return page

    def memory(self):
        """Chromium's processes now (see Chromium.memory)."""
        return self.chromium.memory()

    def close(self):
        """Kills Chromium and every process it started, removes its directory. Idempotent."""
        _live_browsers.discard(self)
        if self.ws is not None:
            try:  # Chromium closing itself reaps its helpers; kill() does the rest
                self.send("Browser.close")
                self.chromium.wait(5)
            except BrowserError:
                pass
            self.ws.sock.close()
            self.ws = None
        self.chromium.kill()

    def save_failure(self):
        """A screenshot of each open page and its console, printed: what a failed test
        leaves behind."""
        for i, page in enumerate(list(self.pages.values())):
            try:
                path = page.screenshot(f"failure-{os.getpid()}-{i}.png")
                print(f"cdp: page {page.url!r}: screenshot {path}", flush=True)
                for entry in page.console:
                    print(f"cdp:   {entry!r}", flush=True)
            except Exception as e:  # the browser may be what failed
                print(f"cdp: page {page.url!r}: no screenshot ({e})", flush=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.ws is not None:
            self.save_failure()
        self.close()


class Context:
    """A browser context (Target.createBrowserContext): an incognito-like profile."""

    def __init__(self, browser, context_id):
        self.browser, self.id = browser, context_id

    def new_page(self, url=None):
        return self.browser.new_page(url, context=self)

    def close(self):
        """Closes the context and its pages."""
        for s, p in list(self.browser.pages.items()):
            if p.context_id == self.id:
                del self.browser.pages[s]
        self.browser.call("Target.disposeBrowserContext", {"browserContextId": self.id})


class Page:
    """One tab. Selectors are CSS selectors; the first match is used."""

    def __init__(self, browser, target, session):
        self.browser, self.target, self.session = browser, target, session
        self.url = "about:blank"
        self.crashed = False
        self._console = []
        self._loaded = set()  # loader ids whose document fired load
        info = browser.call("Target.getTargetInfo", {"targetId": target})["targetInfo"]
        self.context_id = info.get("browserContextId")

    def _setup(self):
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(method)
        self.call("Page.setLifecycleEventsEnabled", {"enabled": True})
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": self.browser.width, "height": self.browser.height,
                   "deviceScaleFactor": 1, "mobile": False})

    def call(self, method, params=None, timeout=30.0):
        """A DevTools command in this page's session (for what the helpers do not cover)."""
        return self.browser.call(method, params, self.session, timeout)

    def _event(self, method, params):
        if method == "Page.lifecycleEvent" and params.get("name") == "load":
            self._loaded.add(params.get("loaderId"))
        elif method == "Page.frameNavigated" and not params["frame"].get("parentId"):
            self.url = params["frame"]["url"]  # also when the page navigates by itself
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(remote_text(a) for a in params.get("args", []))
            frame = (params.get("stackTrace") or {}).get("callFrames") or [{}]
            level = {"warning": "warning", "error": "error", "assert": "error"}.get(
                params.get("type"), "info")
            self._console.append(ConsoleEntry("console", level, text, frame[0].get("url", ""),
                                              frame[0].get("lineNumber")))
        elif method == "Runtime.exceptionThrown":
            d = params["exceptionDetails"]
            text = (d.get("exception") or {}).get("description") or d.get("text", "")
            self._console.append(ConsoleEntry("exception", "error", text, d.get("url", ""),
                                              d.get("lineNumber")))
        elif method == "Log.entryAdded":
            e = params["entry"]
            self._console.append(ConsoleEntry("log", e.get("level", "info"), e.get("text", ""),
                                              e.get("url", ""), e.get("lineNumber")))
        elif method == "Page.javascriptDialogOpening":
            self._console.append(ConsoleEntry("dialog", "info",
                                              f"{params['type']}: {params['message']}"))
            # Answered without waiting: a command sent from inside an event would nest.
            self.browser.send("Page.handleJavaScriptDialog", {"accept": True}, self.session)
        elif method == "Inspector.targetCrashed":
            self.crashed = True

    # ---- navigation and script ---------------------------------------------------------

    def goto(self, url, timeout=30.0):
        """Loads url and waits for its load event. Raises BrowserError with Chromium's
        reason (net::ERR_CERT_AUTHORITY_INVALID, net::ERR_CONNECTION_REFUSED...) when the
        page cannot be loaded. The console starts empty again."""
        self._console = []
        r = self.call("Page.navigate", {"url": url}, timeout)
        if r.get("errorText"):
            raise BrowserError(f"goto {url}: {r['errorText']}")
        self.url = url
        loader = r.get("loaderId")
        if loader is None:
            return  # a same-document navigation (#fragment): nothing loads
        deadline = time.monotonic() + timeout
        while loader not in self._loaded:
            if self.crashed:
                raise BrowserError(f"goto {url}: the page crashed while loading")
            if time.monotonic() > deadline:
                raise BrowserError(f"goto {url}: no load event within {timeout} s")
            self.browser._read(deadline - time.monotonic())

    def eval(self, js, timeout=30.0):
        """The value of the expression js (awaited when it is a promise), as JSON makes it
        (an element comes back as {}). Raises PageError with the exception's message and
        stack when the script throws."""
        r = self.call("Runtime.evaluate", {"expression": js, "returnByValue": True,
                                           "awaitPromise": True, "userGesture": True}, timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            text = (d.get("exception") or {}).get("description") or d.get("text", "")
            raise PageError(f"{js[:200]!r} threw: {text}")
        result = r["result"]
        if "unserializableValue" in result:  # NaN, Infinity, -0, bigint
            return result["unserializableValue"]
        return result.get("value")

    def wait(self, js, timeout=10.0, what=None, interval=0.05):
        """Polls the expression js until its value is truthy and returns it. A throw counts
        as not yet, and so does a page between two documents (navigating). On timeout
        raises WaitTimeout naming `what` (else js) and the last value or exception."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.eval(js)
                if last:
                    return last
            except BrowserError as e:
                if not transient(e):
                    raise
                last = e
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"timed out after {timeout} s waiting for {what or js} "
                                  f"on {self.url} (last: {last!r})")
            self.browser.pump(interval)

    def _js_element(self, selector):
        """An expression for the element selector names (null if none)."""
        return f"document.querySelector({json.dumps(selector)})"

    def text(self, selector):
        """The textContent of the element selector names."""
        value = self.eval(f"(() => {{ const e = {self._js_element(selector)};"
                          f" return e ? [e.textContent] : null; }})()")
        if value is None:
            raise BrowserError(f"text: no element matches {selector!r} on {self.url}")
        return value[0]

    def exists(self, selector):
        return self.eval(f"{self._js_element(selector)} !== null")

    def focused(self):
        """document.activeElement described: tag#id.class "label or text"."""
        return self.eval(f"({DESCRIBE_JS})(document.activeElement)")

    def has_focus(self, selector):
        """True when the focused element is the one selector names."""
        return self.eval(f"(() => {{ const e = {self._js_element(selector)};"
                         " return e !== null && e === document.activeElement; })()")

    # ---- input --------------------------------------------------------------------------

    def click(self, selector):
        """Clicks the middle of the element with real mouse events, after scrolling it into
        view. Raises BrowserError when nothing matches, the element has no size (hidden)
        or another element covers its middle."""
        box = self.eval(f"""(() => {{
            const e = {self._js_element(selector)};
            if (!e) return null;
            e.scrollIntoView({{block: 'center', inline: 'center'}});
            const r = e.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const top = document.elementFromPoint(x, y);
            return {{x, y, w: r.width, h: r.height, hit: e.contains(top),
                     top: ({DESCRIBE_JS})(top), self: ({DESCRIBE_JS})(e)}};
        }})()""")
        if box is None:
            raise BrowserError(f"click: no element matches {selector!r} on {self.url}")
        if box["w"] == 0 or box["h"] == 0:
            raise BrowserError(f"click: {selector!r} ({box['self']}) has no size: hidden?")
        if not box["hit"]:
            raise BrowserError(f"click: {selector!r} ({box['self']}) is covered by {box['top']}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"],
                                                   "button": "left", "clickCount": 1})

    def type(self, selector, text):
        """Focuses the element (by clicking it) and types text with a key down and up per
        character, so keydown, input and keyup handlers all run. "\\n" presses Enter."""
        self.click(selector)
        if not self.has_focus(selector):
            raise BrowserError(f"type: clicking {selector!r} focused {self.focused()} "
                               "instead")
        self.keys(text)

    def keys(self, text):
        """Types text into whatever has the focus, as type() does: reached with Tab, the
        way a keyboard-only user fills a form."""
        for ch in text:
            if ch == "\n":
                self.press("Enter")
            else:
                self._key(ch, "", key_code(ch), ch, 0)

    def press(self, key):
        """Presses and releases one key: a name from KEYS (Enter, Tab, Escape, ArrowDown,
        ...) or one character, optionally after modifiers: "Shift+Tab", "Control+a"."""
        *mods, name = key.split("+") if key != "+" else ["+"]
        modifiers = 0
        for m in mods:
            if m not in MODIFIERS:
                raise BrowserError(f"press {key!r}: unknown modifier {m!r}")
            modifiers |= MODIFIERS[m]
        if name in KEYS:
            code, vk, text = KEYS[name]
            self._key(" " if name == "Space" else name, code, vk, text, modifiers)
        elif len(name) == 1:
            self._key(name, "", key_code(name), None if modifiers & 7 else name, modifiers)
        else:
            raise BrowserError(f"press {key!r}: unknown key (one of {', '.join(KEYS)} "
                               "or one character)")

    def _key(self, key, code, vk, text, modifiers):
        down = {"type": "keyDown" if text else "rawKeyDown", "key": key, "code": code,
                "windowsVirtualKeyCode": vk, "modifiers": modifiers}
        if text:
            down["text"] = down["unmodifiedText"] = text
        self.call("Input.dispatchKeyEvent", down)
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code,
                                             "windowsVirtualKeyCode": vk,
                                             "modifiers": modifiers})

    # ---- what the page shows ------------------------------------------------------------

    def screenshot(self, path):
        """Saves the viewport as a PNG at path (relative: under screenshot_dir()) and returns
        the path it wrote."""
        if not os.path.isabs(path):
            path = os.path.join(screenshot_dir(), path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    @property
    def console(self):
        """Console messages and page errors since the last goto (ConsoleEntry list), after
        reading what Chromium has sent so far."""
        self.browser.pump(0)
        return list(self._console)

    def errors(self):
        """The console entries that are errors: uncaught exceptions, console.error, failed
        loads."""
        return [e for e in self.console if e.is_error()]

    def close(self):
        self.browser.pages.pop(self.session, None)
        self.browser.call("Target.closeTarget", {"targetId": self.target})


def transient(error):
    """True for an error that says "not yet" to Page.wait: the expression threw, or the page
    is between two documents and has no context to run it in (an evaluation the navigation
    cut short says "Inspected target navigated or closed")."""
    text = str(error).lower()
    return isinstance(error, PageError) or "execution context" in text or \
        "cannot find context" in text or "inspected target navigated" in text


def remote_text(obj):
    """A console argument (a RemoteObject) as console.log would print it, roughly: a
    string as is, an object or array from its preview ({a: 1}, [1, 2]), else its
    description (an Error's includes the stack)."""
    if "value" in obj:
        v = obj["value"]
        return v if isinstance(v, str) else json.dumps(v)
    preview = obj.get("preview")
    if preview and obj.get("subtype") not in ("error", "node"):
        array = preview.get("subtype") == "array"
        items = [p.get("value", p.get("type", "")) if array
                 else f"{p['name']}: {p.get('value', p.get('type', ''))}"
                 for p in preview.get("properties", [])]
        if preview.get("overflow"):
            items.append("...")
        return ("[{}]" if array else "{{{}}}").format(", ".join(items))
    return obj.get("description") or obj.get("unserializableValue") or obj.get("type", "")


def key_code(ch):
    """The Windows virtual key code of a character's key (0 when it has no simple one)."""
    if ch.isascii() and ch.isalnum():
        return ord(ch.upper())
    return {" ": 32}.get(ch, 0)
