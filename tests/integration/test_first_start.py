"""A first start that fails after the node bootstrapped its Raft configuration (its Raft port
is taken) takes the bootstrap back: the node exits non-zero saying so, leaves no Raft files,
and once the node file is corrected (another port) the next start bootstraps from the
corrected file, so the cluster's configuration holds the address the node really listens
on. Before, the first, wrong configuration stayed and silently disagreed with the file."""
import os
import socket

from harness import Cluster, Failure, free_ports, log, run, wait


def check(cond, what):
    if not cond:
        raise Failure(what)


def body(c):
    node = c.nodes[0]
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", node.raft_port))
    taken.listen(1)
    try:
        node.start()
        wait(lambda: not node.alive(), 30, "the node giving up on its taken Raft port")
    finally:
        taken.close()
    code = node.proc.returncode
    text = node.log_tail(10)
    check(code != 0, f"the node exited {code} with its Raft port taken")
    check("start raft:" in text and "bootstrap was taken back" in text,
          f"the node did not say its bootstrap was taken back:\n{text}")
    raft_dir = os.path.join(node.data_dir, "raft")
    left = sorted(os.listdir(raft_dir)) if os.path.isdir(raft_dir) else []
    check(left == [], f"Raft files left behind: {left}")
    log(f"first start: exit {code}, bootstrap taken back, no Raft files left")

    old = node.raft_port
    node.raft_port = free_ports(1)[0]
    node.write_config(c.nodes)
    c.start()
    c.wait_ready()
    code, st = node.request("GET", "/v1/cluster")
    check(code == 200, f"/v1/cluster answered {code}")
    raft = [m.get("raft") for m in st["members"]]
    check(raft == [node.raft_addr],
          f"the configuration names {raft}, the node listens on {node.raft_addr} "
          f"(the first start had {old})")
    log(f"second start bootstrapped from the corrected file: member at {raft[0]}")


if __name__ == "__main__":
    run(Cluster(1), body)
