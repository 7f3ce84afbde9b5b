"""`cmake --install` lays out a deployment: both programs, the systemd unit and sysusers
file, the example node and model files, the documentation. The unit names the installed
binary and configuration (checked by systemd-analyze where the machine has it); the
installed programs run; a packager's DESTDIR install for the prefix /usr puts the
configuration under /etc."""
import os
import shutil
import subprocess
import tempfile

import harness
from harness import Failure, log

BUILD = os.environ["CD_BUILD_DIR"]
WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web")


def check(cond, what):
    if not cond:
        raise Failure(what)


def install(prefix, destdir=None):
    env = dict(os.environ)
    if destdir:
        env["DESTDIR"] = destdir
    res = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], env=env,
                         capture_output=True, text=True, timeout=120)
    check(res.returncode == 0, f"cmake --install: {res.stdout} {res.stderr}")


def main():
    root = tempfile.mkdtemp(prefix="contactd-install-")
    try:
        prefix = os.path.join(root, "opt")
        install(prefix)
        files = sorted(os.path.relpath(os.path.join(d, f), prefix)
                       for d, _, fs in os.walk(prefix) for f in fs)
        expected = ["bin/contactctl", "bin/contactd", "etc/contactd/model.yaml.example",
                    "etc/contactd/node.yaml.example", "lib/systemd/system/contactd.service",
                    "lib/sysusers.d/contactd.conf", "share/doc/contactd/README.md",
                    "share/doc/contactd/api.md", "share/doc/contactd/config.md",
                    "share/doc/contactd/metrics.md"]
        # The pages, every file of the repository's web/ (adapters/web serves them).
        pages = [os.path.join("share/contactd/web", os.path.relpath(os.path.join(d, f), WEB))
                 for d, _, fs in os.walk(WEB) for f in fs]
        check(len(pages) > 0 and "share/contactd/web/chat/index.html" in pages,
              f"the repository's pages: {pages}")
        expected = sorted(expected + pages)
        check(files == expected, f"installed files: {files}")
        unit = open(os.path.join(prefix, "lib/systemd/system/contactd.service")).read()
        check(f"ExecStart={prefix}/bin/contactd --config {prefix}/etc/contactd/node.yaml" in unit,
              f"unit: {unit}")
        for prog in ("contactd", "contactctl"):
            res = subprocess.run([os.path.join(prefix, "bin", prog), "--help"],
                                 capture_output=True, text=True, timeout=30)
            check(res.returncode == 0 and "usage" in (res.stdout + res.stderr).lower(),
                  f"{prog} --help: {res}")
        if shutil.which("systemd-analyze"):
            res = subprocess.run(["systemd-analyze", "verify", "--man=no",
                                  os.path.join(prefix, "lib/systemd/system/contactd.service")],
                                 capture_output=True, text=True, timeout=60)
            check(res.returncode == 0, f"systemd-analyze verify: {res.stdout} {res.stderr}")
            log("systemd-analyze verify accepts the unit")
        log(f"installed {len(files)} files under a prefix; the programs run")

        dest = os.path.join(root, "pkg")
        install("/usr", destdir=dest)
        unit = open(os.path.join(dest, "usr/lib/systemd/system/contactd.service")).read()
        check("ExecStart=/usr/bin/contactd --config /etc/contactd/node.yaml" in unit, unit)
        check(os.path.exists(os.path.join(dest, "etc/contactd/node.yaml.example")),
              "the prefix /usr puts the configuration under /etc")
        log("a DESTDIR install for /usr: /usr/bin/contactd and /etc/contactd")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    log("PASS")


if __name__ == "__main__":
    harness.main(main)
