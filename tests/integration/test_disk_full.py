"""A node whose data directory fills up stops loudly without corrupting its state; the
others go on; once space is back it restarts, catches up and agrees with the rest.

The full disk is real: the node's data directory is a tmpfs mounted in a private mount
namespace (held open by a sleeping process) that the node runs inside, filled up by a
file while the node runs, and freed again by deleting that file."""
import os
import subprocess
import sys
import time

import harness
from harness import Cluster, Failure, log, wait


def private_tmpfs(path, size):
    """A process holding a mount namespace with a tmpfs of size at path, or None when this
    machine does not allow one (then the test cannot run and says so)."""
    os.makedirs(path, exist_ok=True)
    holder = subprocess.Popen(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         f"mount -t tmpfs -o size={size} tmpfs '{path}' && echo ready && exec sleep 3600"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    line = holder.stdout.readline().decode().strip()
    if line != "ready":
        holder.kill()
        raise Failure(f"cannot mount a private tmpfs (needs root and unshare): {line}")
    return holder


def nsenter(holder):
    return ["nsenter", f"--mount=/proc/{holder.pid}/ns/mnt", "--"]


def main():
    c = Cluster(3)
    victim = c.nodes[2]
    holder = private_tmpfs(victim.data_dir, "128m")
    victim.prefix = nsenter(holder)
    victim.fs_root = f"/proc/{holder.pid}/root"  # its data directory, the test's way in
    ok = False
    try:
        c.start()
        c.install_model()
        c.wait_ready()
        # Fill what is left of the node's file system, then keep writing.
        filler = os.path.join(victim.data_dir, "filler")
        subprocess.run(nsenter(holder) + ["sh", "-c", f"dd if=/dev/zero of='{filler}' bs=64k "
                                          "2>/dev/null; true"], check=True)
        log(f"{victim.name}'s file system is full")
        big = "x" * 40
        i = 0
        deadline = time.monotonic() + 120
        while victim.alive() and time.monotonic() < deadline:
            node = c.nodes[i % 2]
            attrs = {f"k{j}": f"{big}{i}-{j}" for j in range(15)}
            code, doc = node.request("POST", "/v1/contacts",
                                     {"key": f"fill-{i}", "channel": "email", "attributes": attrs})
            if code == 503:  # the full node may have been leading: retry the same key
                time.sleep(0.1)
                continue
            if code not in (200, 201):
                raise Failure(f"create {i} on {node.name}: {code} {doc}")
            i += 1
        if victim.alive():
            raise Failure(f"{victim.name} still running after {i} creates on a full disk")
        rc = victim.proc.returncode
        tail = victim.log_tail(5)
        log(f"{victim.name} stopped with exit code {rc} after {i} creates:\n{tail}")
        if rc == 0 or "fatal" not in tail:
            raise Failure(f"{victim.name} did not fail loudly (exit {rc})")
        # The others go on.
        for j in range(20):
            code, doc = wait(lambda: (lambda r: r if r[0] != 503 else None)(
                c.nodes[j % 2].request("POST", "/v1/contacts",
                                       {"key": f"after-{j}", "channel": "chat"})),
                20, "a create after the failure")
            if code not in (200, 201):
                raise Failure(f"create after the failure: {code} {doc}")
        c.wait_converged(nodes=c.nodes[:2])
        # Space comes back; the node restarts on the same files and agrees with the rest.
        subprocess.run(nsenter(holder) + ["rm", "-f", filler], check=True)
        victim.start()
        c.wait_ready([victim], timeout=60)
        sts = c.wait_converged(timeout=60)
        code, doc = victim.request("GET", "/v1/cluster/check")
        if code != 200 or not doc["ok"]:
            raise Failure(f"{victim.name} invariants after restart: {doc}")
        log(f"{victim.name} restarted and converged at {sts[0]['applied_index']}")
        ok = True
        log("PASS")
    finally:
        if not ok:
            c.dump_logs()
        c.close(ok)
        holder.kill()
        holder.wait()


if __name__ == "__main__":
    harness.main(main)
