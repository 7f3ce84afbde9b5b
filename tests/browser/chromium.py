"""The Chromium process behind a cdp.Browser: launched with a profile and a HOME of its own
in a fresh temporary directory, trusting a CA if asked, and killed with every process it
started.

Chromium runs in a process group of its own, so that kill() reaches every helper process,
under setpriv --pdeathsig so that the kernel kills it if the test process dies first. A
directory left by a test process that was killed is removed by the next launch.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CA_NICKNAME = "contactd test CA"
ROOT_PREFIX = "contactd-chromium-"  # + the test's pid: a temporary directory per Browser

# Flags beyond the obvious ones keep a test run quiet and lean: no first-run UI, no network
# of Chromium's own (updates, sync, safe browsing lists), no crash handler outliving it.
FLAGS = [
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--disable-breakpad", "--disable-crash-reporter",
    "--mute-audio", "--password-store=basic", "--disable-features=Translate,MediaRouter",
    "--remote-debugging-port=0",
]


class BrowserError(Exception):
    """Chromium or a page did not do what was asked."""


class Chromium:
    """One Chromium, headless unless $CD_HEADFUL is set and a display exists. ca_file: a
    PEM CA to trust for web sites (see trust_ca); insecure: accept any certificate; width,
    height: the window size. Raises BrowserError when Chromium is missing, exits, or does
    not open DevTools within timeout seconds; nothing is left behind then."""

    def __init__(self, ca_file=None, insecure=False, width=1280, height=800, timeout=30.0,
                 extra_args=()):
        if ca_file and insecure:
            raise ValueError("Chromium: give ca_file or insecure, not both")
        if not os.access(CHROMIUM, os.X_OK):
            raise BrowserError(f"'{CHROMIUM}' is not there (ops/install-deps installs "
                               "chromium; $CHROMIUM names another)")
        remove_stale_roots()
        self.root = tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}-")
        self.proc = None
        self.stderr_path = os.path.join(self.root, "chromium.stderr")
        try:
            home = os.path.join(self.root, "home")
            os.makedirs(home)
            if ca_file:
                trust_ca(home, ca_file)
            self._start(home, insecure, width, height, extra_args)
            self.devtools_url = self._devtools_url(timeout)  # the browser's endpoint
        except BaseException:
            self.kill()
            raise

    def _start(self, home, insecure, width, height, extra_args):
        args = [CHROMIUM, f"--user-data-dir={os.path.join(self.root, 'profile')}",
                f"--window-size={width},{height}", *FLAGS, *extra_args]
        if not (os.environ.get("CD_HEADFUL") and os.environ.get("DISPLAY")):
            args.append("--headless=new")
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
        if insecure:
            args.append("--ignore-certificate-errors")
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                   XDG_CACHE_HOME=os.path.join(home, ".cache"))
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                ["setpriv", "--pdeathsig", "SIGKILL", *args, "about:blank"],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env,
                start_new_session=True)

    def _devtools_url(self, timeout):
        """Chromium writes the port it listens on and the browser's path to
        DevToolsActivePort in the profile once DevTools is up."""
        path = os.path.join(self.root, "profile", "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrowserError(f"Chromium exited with status {self.proc.returncode} "
                                   f"at start: {self.stderr_tail()}")
            try:
                with open(path) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0].isdigit() and lines[1]:
                    return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        raise BrowserError(f"Chromium did not open DevTools within {timeout} s: "
                           f"{self.stderr_tail()}")

    def stderr_tail(self, n=15):
        """The last n lines Chromium wrote, for error messages, without its complaints
        that there is no D-Bus (there never is in a test)."""
        try:
            with open(self.stderr_path, errors="replace") as f:
                lines = [line for line in f if ":ERROR:dbus/" not in line]
        except OSError:
            lines = []
        return "".join(lines[-n:]).strip() or "(no output)"

    def exit_note(self):
        """Whether Chromium still runs, and what it said last. Called when the connection
        failed, which may be a moment before the process is seen to end."""
        if self.proc is None:
            return "Chromium was closed"
        try:
            state = f"exited with status {self.proc.wait(0.5)}"
        except subprocess.TimeoutExpired:
            state = "still running"
        return f"Chromium {state}; {self.stderr_tail(5)}"

    def memory(self):
        """Chromium's processes now: {"processes": n, "rss_mib": sum of RSS, "pss_mib":
        sum of PSS (shared pages divided among their users: the honest total)}."""
        pids = group_pids(self.proc.pid, live=True) if self.proc else []
        rss = pss = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Rss:"):
                            rss += int(line.split()[1])
                        elif line.startswith("Pss:"):
                            pss += int(line.split()[1])
            except OSError:
                continue
        return {"processes": len(pids), "rss_mib": rss / 1024, "pss_mib": pss / 1024}

    def wait(self, timeout):
        """True when Chromium exited within timeout seconds (after Browser.close)."""
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self):
        """Kills Chromium and every process it started, removes its directory. Idempotent."""
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)


def trust_ca(home, ca_file):
    """Makes home/.pki/nssdb, the NSS database Chromium on Linux reads, trusting ca_file
    to identify web sites. Chosen over --ignore-certificate-errors: pages see a valid
    certificate and are secure contexts, and a certificate the CA did not sign still fails,
    so a test sees what a customer's browser would."""
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db)
    for cmd in (["certutil", "-N", "-d", f"sql:{db}", "--empty-password"],
                ["certutil", "-A", "-d", f"sql:{db}", "-n", CA_NICKNAME, "-t", "C,,",
                 "-i", ca_file]):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
        except FileNotFoundError:
            raise BrowserError("certutil is not there (ops/install-deps installs "
                               "libnss3-tools)")
        if r.returncode != 0:
            raise BrowserError(f"{' '.join(cmd)}: {r.stderr.strip() or r.stdout.strip()}")


def remove_stale_roots():
    """Removes the directories of Browsers whose test process died without closing them
    (killed by a timeout: Chromium died with it, its profile stayed)."""
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        pid = name[len(ROOT_PREFIX):].split("-")[0]
        if name.startswith(ROOT_PREFIX) and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)


def group_pids(pgid, live=False):
    """The processes of process group pgid, read from /proc; live=True leaves out zombies
    (killed processes that init has not reaped yet)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                state, _, pgrp = f.read().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(pgrp) == pgid and not (live and state == "Z"):
            pids.append(int(name))
    return pids


def kill_group(proc, timeout=10.0):
    """SIGKILL to proc's process group, then waits until no live process is left in it.
    Chromium's helpers outlive their parent as zombies until init reaps them; they hold
    nothing, so they are not waited for."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    deadline = time.monotonic() + timeout
    while group_pids(proc.pid, live=True) and time.monotonic() < deadline:
        time.sleep(0.01)
    left = group_pids(proc.pid, live=True)
    if left:
        print(f"cdp: Chromium processes {left} outlived SIGKILL for {timeout} s",
              file=sys.stderr, flush=True)
