"""TLS as an operator meets it, on real nodes: the API answers HTTPS only (a plain HTTP
request gets no answer); a node whose file has no tls section and does not say
`insecure: true` refuses to start and says why at the key's position, one that says it logs
a warning; a node whose certificate names another member refuses to start; SIGHUP reads
renewed certificate files (new connections see the new certificate, the node keeps
serving), and a renewal that does not load is refused with a log line while the node goes on
with what it had."""
import os
import shutil
import signal
import socket
import ssl
import subprocess

from harness import Client, Cluster, Failure, log, make_certs, run, wait


def check(cond, what):
    if not cond:
        raise Failure(what)


def served_cert(node):
    """The certificate (PEM) node's API presents now, on a new connection."""
    ctx = ssl.create_default_context(cafile=node.cluster.ca_file)
    with socket.create_connection(("127.0.0.1", node.api_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return ssl.DER_cert_to_PEM_cert(s.getpeercert(binary_form=True))


def plain_http_refused(c):
    node = c.nodes[0]
    try:
        code, _ = Client(node.api_port, timeout=3).request("GET", "/healthz")
    except OSError:
        code = None
    check(code is None, f"plain HTTP to the API was answered ({code})")
    code, _ = node.new_client().request("GET", "/healthz")
    check(code == 200, f"HTTPS /healthz: {code}")
    log("the API speaks HTTPS only")


def reload_certificates(c):
    node = c.nodes[0]
    before = served_cert(node)
    cert, key = c.cert(node.name)
    keep = cert + ".keep", key + ".keep"
    shutil.copy(cert, keep[0])
    shutil.copy(key, keep[1])
    os.remove(cert)
    os.remove(key)
    make_certs(c.tls_dir, node.name)  # a new key and certificate from the same CA
    node.proc.send_signal(signal.SIGHUP)
    wait(lambda: "event=reload" in node.log_tail(50), 10, "the reload's log line")
    after = wait(lambda: served_cert(node) != before and served_cert(node), 10,
                 "the renewed certificate on a new connection")
    check(after != before, "the certificate did not change")
    code, _ = node.new_client().request("GET", "/healthz")
    check(code == 200, f"after the reload: {code}")
    c.wait_converged()
    log("SIGHUP: new connections get the renewed certificate; the cluster goes on")

    # A key that does not match the certificate: refused, and the node serves as before.
    shutil.copy(keep[1], key)
    node.proc.send_signal(signal.SIGHUP)
    wait(lambda: "event=reload level=error" in node.log_tail(50) or
         "level=error event=reload" in node.log_tail(50), 10, "the refused reload's log line")
    check(served_cert(node) == after, "a refused reload changed the certificate")
    code, _ = node.new_client().request("GET", "/healthz")
    check(code == 200 and node.alive(), "the node stopped serving after a refused reload")
    log("a renewal that does not load: refused with a log line; the node keeps its files")


def start_refusals(c):
    """Three node files that must not start: no tls and not insecure; insecure and tls;
    a certificate that names another member."""
    node = c.nodes[0]
    with open(node.config) as f:
        text = f.read()
    tls_block = text[text.index("tls:\n"):text.index("peers:\n")]
    cases = [
        ("no tls", text.replace(tls_block, ""), "missing key 'tls'"),
        ("insecure and tls", text.replace("peers:\n", "insecure: true\npeers:\n"),
         "insecure: true and tls exclude each other"),
        ("another member's certificate",
         text.replace(f"{node.name}.crt", "n2.crt").replace(f"{node.name}.key", "n2.key"),
         f"does not name this node's id '{node.name}'"),
    ]
    path = os.path.join(c.root, "refused.yaml")
    for what, doc, want in cases:
        with open(path, "w") as f:
            f.write(doc)
        res = subprocess.run([c.binary, "--config", path], capture_output=True, text=True,
                             timeout=30)
        check(res.returncode != 0 and want in res.stderr,
              f"{what}: exit {res.returncode}, stderr {res.stderr[-400:]}")
    log("refused to start: no tls without insecure, insecure with tls, another's certificate")


def insecure_warns(c):
    c.start()
    node = c.nodes[0]
    wait(lambda: "insecure: true" in node.log_tail(50), 10, "the insecure warning")
    check("level=warn" in next(l for l in node.log_tail(50).splitlines()
                               if "insecure: true" in l), "the insecure line is a warning")
    log("an insecure node warns at start")


def body(c):
    c.start()
    c.wait_ready()
    plain_http_refused(c)
    start_refusals(c)
    reload_certificates(c)


if __name__ == "__main__":
    run(Cluster(3, election_ms=500), body)
    run(Cluster(1, insecure=True), insecure_warns)
