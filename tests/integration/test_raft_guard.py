"""The guard in front of the Raft port (cluster/README.md) against a corpus of hostile
messages sent to a running 3-node cluster over TLS connections that present a member's own
certificate (what a member whose key was stolen could send): raft_uv_tcp's handshake without
ours, a crafted AppendEntries in the leader's term, a forged entry for a follower, a
RequestVote with a huge term, a handshake announcing a 4 GiB address, a handshake made with
another secret, a replayed handshake, 2000 connections at once. Each one is closed by the
node before raft sees it; after each, the leader is the same in the same term, every node is
alive, the state digests are equal and writes (forwarded from a follower) still work. The
peer channel (listen.peer) answers 403 to anyone without a member's proof and serves a
member's; the public API has no /v1/internal endpoints at all (404). In front of all that,
mutual TLS: a plain TCP connection, a certificate from another CA, none at all, or a member's
certificate used to speak as another member are refused on the Raft port and on the peer
channel. A second cluster, with 'insecure: true' (no TLS, no secret), elects and replicates
through the same guard (its key is empty) and still refuses the 4 GiB handshake.

Without the guard (raft_uv_tcp listening directly), the AppendEntries killed the leader, the
forged entry changed the follower's digest for good, the RequestVote deposed the leader, the
4 GiB handshake grew the node's address space by 4 GiB, and each of the 2000 connections held
a descriptor for as long as it stayed open.

The corpus is built here, byte by byte, by the functions below; each says what it follows:
raft 0.15's src/uv_tcp_connect.c (its handshake) and src/uv_encoding.c (its messages), our
handshake in cluster/guard.h, and cluster/entry.c for the forged entry's contents."""
import hashlib
import hmac
import http.client
import json
import os
import re
import resource
import selectors
import socket
import ssl
import struct
import subprocess
import time

from harness import Cluster, Failure, log, run, wait

# ---- Raft ids and raft_uv_tcp's handshake ------------------------------------------------

M64 = (1 << 64) - 1


def mix64(x):
    """common/hash.h: cd_mix64 (splitmix64's finaliser)."""
    x ^= x >> 30
    x = (x * 0xbf58476d1ce4e5b9) & M64
    x ^= x >> 27
    x = (x * 0x94d049bb133111eb) & M64
    return x ^ (x >> 31)


def raft_id(name):
    """cluster/entry.c: cluster__raft_id, the hash of a member's name (common/hash.c)."""
    data = name.encode()
    h = (len(data) * 0x9e3779b97f4a7c15) & M64
    whole = len(data) - len(data) % 8
    for p in range(0, whole, 8):
        h = (mix64(h ^ int.from_bytes(data[p:p + 8], "little")) + 0x9e3779b97f4a7c15) & M64
    h = mix64(h ^ int.from_bytes(data[whole:], "little") ^ 0xff51afd7ed558ccd)
    return (h & ~(1 << 63)) or 1


def member_address(node):
    """The address raft carries for a member: raft|api|peer|id."""
    return f"{node.raft_addr}|{node.api_addr}|{node.peer_addr}|{node.name}"


def raft_handshake(name, address, address_len=None):
    """raft_uv_tcp's handshake (src/uv_tcp_connect.c): protocol 1, the sender's Raft id, the
    length of its address, as little-endian u64; then the address, NUL-padded to 8 bytes.
    address_len, when given, is announced instead of the real length."""
    a = address.encode() + b"\0"
    a += b"\0" * (-len(a) % 8)
    n = len(a) if address_len is None else address_len
    return struct.pack("<QQQ", 1, raft_id(name), n) + a


def message(kind, header, payload=b""):
    """src/uv_encoding.c: a preamble (type, header length) then the header and payload."""
    return struct.pack("<QQ", kind, len(header)) + header + payload


def append_entries(term, prev_index, prev_term, commit, entries=()):
    """AppendEntries (type 1): term, previous index and term, commit index, the entry count,
    16 bytes per entry (term, type, 3 unused, length), 8 unused; then the entries."""
    header = struct.pack("<QQQQQ", term, prev_index, prev_term, commit, len(entries))
    payload = b""
    for entry_term, data in entries:
        header += struct.pack("<QB3xI", entry_term, 1, len(data))  # 1: RAFT_COMMAND
        payload += data
    return message(1, header + b"\0" * 8, payload)


def request_vote(term, candidate, last_index, last_term, disrupt_leader=True):
    """RequestVote (type 3): term, candidate id, last index and term, flags (bit 0:
    disrupt the leader, as a leadership transfer does)."""
    flags = 1 if disrupt_leader else 0
    return message(3, struct.pack("<QQQQQ", term, raft_id(candidate), last_index, last_term,
                                  flags))


def uvar(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7f) | 0x80])
        v >>= 7
    return out + bytes([v])


def tick_entry(stamp_ms):
    """A cluster entry (cluster/entry.c): format 1, proposer 0, nonce 0, sequence 0, the
    stamp (zigzag varint), one command: TICK (engine/codec.c: format 1, kind 1). Applied, it
    moves the engine's clock to stamp_ms."""
    cmd = bytes([1, 1])
    e = (bytes([1]) + struct.pack("<QQ", 0, 0) + uvar(0) + uvar(stamp_ms << 1) + uvar(1) +
         uvar(len(cmd)) + cmd)
    return e + b"\0" * (-len(e) % 8)


# ---- Our handshake (cluster/guard.h) --------------------------------------------------------

def guard_mac(key, label, *parts):
    h = hmac.new(key, f"contactd raft guard/1 {label}".encode() + b"\0", hashlib.sha256)
    for p in parts:
        h.update(p)
    return h.digest()


def guard_head(kind):
    return b"CDRG" + struct.pack(">HH", 1, kind)


def guard_name(name):
    b = name.encode()
    return b + b"\0" * (64 - len(b))


def guard_hello(key, frm, to):
    """HELLO: magic, version 1, kind 1, both names NUL-padded to 64, a 32-byte nonce, and
    the HMAC-SHA256 of all that under key, labelled 'hello'."""
    body = guard_head(1) + guard_name(frm) + guard_name(to) + os.urandom(32)
    return body + guard_mac(key, "hello", body)


def challenge_ok(key, hello, challenge):
    """CHALLENGE: magic, version, kind 2, the node's nonce, its MAC over HELLO and that."""
    return (len(challenge) == 72 and challenge[:8] == guard_head(2) and
            hmac.compare_digest(challenge[40:], guard_mac(key, "challenge", hello,
                                                          challenge[:40])))


def guard_proof(key, hello, challenge):
    """PROOF: magic, version, kind 3, a MAC over HELLO and CHALLENGE."""
    return guard_head(3) + guard_mac(key, "proof", hello, challenge)


# ---- Driving the corpus ---------------------------------------------------------------------

def check(cond, what):
    if not cond:
        raise Failure(what)


def connect(node, member=None, tls=None, port=None):
    """A connection to node's Raft port (or port): over TLS presenting member's certificate
    (checking that node's names node), over TLS with the context tls, or, on an insecure
    cluster, plain TCP."""
    s = socket.create_connection(("127.0.0.1", port or node.raft_port), timeout=10)
    if tls is None and member is not None and not node.cluster.insecure:
        tls = node.cluster.member_tls(member)
    if tls is None:
        return s
    try:
        return tls.wrap_socket(s, server_hostname=node.name)
    except (ssl.SSLError, OSError):
        s.close()
        raise


def read_until_closed(s, limit=1 << 16):
    """What the node sends until it closes the connection; it must close it within the
    socket's timeout."""
    got = b""
    while len(got) < limit:
        try:
            data = s.recv(4096)
        except (ConnectionResetError, ssl.SSLError):
            break
        except socket.timeout:
            raise Failure("the node kept a hostile connection open")
        if not data:
            break
        got += data
    return got


def send_hostile(node, data, member):
    """Sends data to node's Raft port as member; returns what the node answered before
    closing."""
    s = connect(node, member)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # closed already, while we were still sending
        return read_until_closed(s)
    finally:
        s.close()


def vm_peak_kb(node):
    with open(f"/proc/{node.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmPeak:"):
                return int(line.split()[1])
    raise Failure("no VmPeak")


def open_fds(node):
    return len(os.listdir(f"/proc/{node.proc.pid}/fd"))


class Guarded:
    def __init__(self, c):
        self.c = c
        self.writes = 0
        self.leader = c.wait_leader()
        c.wait_ready()
        self.term = self.leader.status()["term"]
        self.followers = [n for n in c.nodes if n is not self.leader]

    def unharmed(self, what):
        """The cluster is as it was: same leader in the same term, every node alive, equal
        digests, and a write through a follower (forwarded with a proof) is applied."""
        for node in self.c.nodes:
            check(node.alive(), f"{what}: {node.name} died:\n{node.log_tail()}")
        self.writes += 1
        code, doc = self.followers[self.writes % 2].request(
            "POST", "/v1/contacts", {"key": f"guard-{self.writes}", "channel": "chat",
                                     "attributes": {"language": "en"}})
        check(code == 201, f"{what}: a write answered {code} {doc}")
        for st in self.c.wait_converged():
            check(st["leader"] == self.leader.name and st["term"] == self.term,
                  f"{what}: {st['id']} sees leader {st['leader']!r} in term {st['term']}, "
                  f"was {self.leader.name} in term {self.term}")
        log(f"{what}: refused; {self.leader.name} leads in term {self.term}, digests equal, "
            f"writes work")


def raw_raft(g):
    """raft_uv_tcp's handshake, as a follower, without ours; then a heartbeat."""
    f = g.followers[0]
    data = raft_handshake(f.name, member_address(f)) + append_entries(g.term, 0, 0, 0)
    check(send_hostile(g.leader, data, f.name) == b"", "the node answered a raw raft handshake")
    g.unharmed("raw raft handshake")


def append_in_leaders_term(g):
    """An AppendEntries in the leader's own term, sent to the leader as a follower: raft
    0.15 crashed on it."""
    f = g.followers[0]
    st = g.leader.status()
    data = (raft_handshake(f.name, member_address(f)) +
            append_entries(g.term, st["last_index"], g.term, st["commit_index"]))
    check(send_hostile(g.leader, data, f.name) == b"", "the node answered")
    g.unharmed("AppendEntries in the leader's term")


def forged_entry(g):
    """An entry for a follower, as the leader, at the end of its log and committed at once:
    a TICK a few years ahead, which would change that follower's state and no other's."""
    f = g.followers[1]
    st = f.status()
    entry = tick_entry(int(time.time() * 1000) + 100 * 86400 * 1000)
    data = (raft_handshake(g.leader.name, member_address(g.leader)) +
            append_entries(g.term, st["last_index"], g.term, st["last_index"] + 1,
                           [(g.term, entry)]))
    check(send_hostile(f, data, g.leader.name) == b"", "the node answered")
    g.unharmed("forged entry to a follower")


def huge_term_vote(g):
    """A RequestVote with a huge term that asks the leader to step down."""
    f = g.followers[0]
    data = (raft_handshake(f.name, member_address(f)) +
            request_vote(g.term + 10**9, f.name, 10**12, g.term + 10**9 - 1))
    check(send_hostile(g.leader, data, f.name) == b"", "the node answered")
    g.unharmed("RequestVote with a huge term")


def huge_address(g):
    """raft_uv_tcp's handshake announcing a 4 GiB address: raft allocated it."""
    f = g.followers[0]
    before = vm_peak_kb(g.leader)
    data = raft_handshake(f.name, member_address(f), address_len=4 << 30) + b"x" * 512
    check(send_hostile(g.leader, data, f.name) == b"", "the node answered")
    grown = vm_peak_kb(g.leader) - before
    check(grown < 1 << 20, f"the node's address space grew by {grown} KiB")
    g.unharmed("4 GiB address")


def wrong_secret(g):
    """Our HELLO under another secret, then raft's handshake and a huge-term RequestVote."""
    f = g.followers[0]
    data = (guard_hello(os.urandom(32).hex().encode(), f.name, g.leader.name) +
            raft_handshake(f.name, member_address(f)) +
            request_vote(g.term + 10**9, f.name, 10**12, g.term))
    check(send_hostile(g.leader, data, f.name) == b"", "the node sent a challenge to a stranger")
    g.unharmed("handshake with another secret")


def replayed(g):
    """A member's HELLO and PROOF, recorded, then sent again: the node's fresh challenge
    makes the old PROOF worthless."""
    key, f = g.c.secret, g.followers[0]
    hello = guard_hello(key, f.name, g.leader.name)
    s = connect(g.leader, f.name)
    s.sendall(hello)
    first = b""
    while len(first) < 72:
        data = s.recv(72 - len(first))
        check(data, "the node closed a genuine handshake")
        first += data
    check(challenge_ok(key, hello, first), "the node's challenge does not prove the secret")
    proof = guard_proof(key, hello, first)
    s.sendall(proof)
    s.close()  # the recorded session ends before raft's handshake
    s = connect(g.leader, f.name)
    try:
        s.sendall(hello)
        second = b""
        while len(second) < 72:
            data = s.recv(72 - len(second))
            check(data, "the node closed the replayed HELLO before its challenge")
            second += data
        check(second != first, "the node sent the same challenge twice")
        try:
            s.sendall(proof + raft_handshake(f.name, member_address(f)) +
                      request_vote(g.term + 10**9, f.name, 10**12, g.term))
        except OSError:
            pass
        check(read_until_closed(s) == b"", "the node answered a replayed proof")
    finally:
        s.close()
    g.unharmed("replayed handshake")


def flood(g, n=2000):
    """n connections to the leader's Raft port at once, each sending the start of a HELLO
    and nothing more. The node holds at most its cap of them (32) in the handshake, closes
    the rest at once and the held ones at the deadline; the members' own connections carry
    on: a write works while the n are open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
    base = open_fds(g.leader)
    socks, most = [], base
    sel = selectors.DefaultSelector()
    try:
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", g.leader.raft_port))
            socks.append(s)
            sel.register(s, selectors.EVENT_WRITE)
        pending = set(socks)
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                try:
                    s.send(b"CDRG")
                except OSError:
                    pass
                sel.unregister(s)
                pending.discard(s)
            most = max(most, open_fds(g.leader))
        check(not pending, f"{len(pending)} of {n} connections never completed")
        most = max(most, open_fds(g.leader))
        check(most - base < 100, f"the node held {most - base} more descriptors during the "
              f"flood of {n} (started with {base})")
        g.unharmed(f"while {n} connections are open")
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        open_ones = set(socks)

        def all_closed():
            for key, _ in sel.select(timeout=0.2):
                s = key.fileobj
                try:
                    data = s.recv(64)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    open_ones.discard(s)
            return not open_ones
        wait(all_closed, 30, f"the node closing all {n} connections")
    finally:
        sel.close()
        for s in socks:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    log(f"{n} connections: at most {most - base} descriptors more on the node; all closed "
        f"by it")
    g.unharmed(f"{n} connections")


def peer_post(node, target, body, method="POST", member=None):
    """One request to node's peer channel over TLS with member's certificate (by default
    the first member other than node); (status, body bytes)."""
    member = member or next(n.name for n in node.cluster.nodes if n is not node)
    conn = http.client.HTTPSConnection("127.0.0.1", node.peer_port, timeout=10,
                                       context=node.cluster.member_tls(member))
    try:
        conn.request(method, target, body=body)
        res = conn.getresponse()
        return res.status, res.read()
    finally:
        conn.close()


def error_code(answer):
    try:
        return json.loads(answer)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def peer_channel(g):
    """The endpoints members forward to are on the peer channel only: the public API answers
    404 there, proof or not. On the peer channel, a request without a member's proof is 403
    and changes nothing; a member's command and read-index are served."""
    key, leader = g.c.secret, g.leader
    path = "/v1/internal/forward/command"
    body = b"\x01\x01"  # an encoded TICK

    def proof(member, p, b, k=key):
        m = hmac.new(k, b"contactd internal/1\0" + member.encode() + b"\0" + p.encode() +
                     b"\0" + b, hashlib.sha256)
        return m.hexdigest()

    m = g.followers[0].name
    for kind in ("command", "read-index", "commit-index", "history"):
        p = f"/v1/internal/forward/{kind}"
        for target in (p, f"{p}?member={m}&proof={proof(m, p, b'')}"):
            code, doc = leader.request("POST", target, raw=b"")
            check(code == 404 and doc["error"]["code"] == "NOTFOUND",
                  f"the public API on {target}: expected 404 NOTFOUND, got {code} {doc}")
    before = leader.status()
    cases = [
        ("no proof", path),
        ("a stranger", f"{path}?member=n9&proof={proof('n9', path, body)}"),
        ("another secret", f"{path}?member={m}&proof={proof(m, path, body, b'x' * 32)}"),
        ("a proof for another body", f"{path}?member={m}&proof={proof(m, path, b'')}"),
        ("a proof for another path",
         f"{path}?member={m}&proof={proof(m, '/v1/internal/forward/history', body)}"),
        ("a malformed proof", f"{path}?member={m}&proof=zz"),
    ]
    for what, target in cases:
        code, answer = peer_post(leader, target, body)
        check(code == 403 and error_code(answer) == "FORBIDDEN",
              f"{what}: expected 403 FORBIDDEN, got {code} {answer[:200]!r}")
    code, answer = peer_post(leader, "/v1/contacts", b"")
    check(code == 404 and error_code(answer) == "NOTFOUND",
          f"the public API's paths on the peer channel: {code} {answer[:200]!r}")
    code, answer = peer_post(leader, path, None, method="GET")
    check(code == 405, f"GET on the peer channel: {code} {answer[:200]!r}")
    after = leader.status()
    check(after["applied_index"] == before["applied_index"] and
          after["state_digest"] == before["state_digest"], "a refused request changed the state")
    # The same check lets a member's genuine proof through.
    rpath = "/v1/internal/forward/read-index"
    code, answer = peer_post(leader, f"{rpath}?member={m}&proof={proof(m, rpath, b'')}", b"")
    check(code == 200 and answer, f"a member's read-index answered {code} {answer[:200]!r}")
    other = g.followers[1].name
    code, answer = peer_post(leader, f"{rpath}?member={m}&proof={proof(m, rpath, b'')}", b"",
                             member=other)
    check(code == 403 and error_code(answer) == "FORBIDDEN",
          f"{m}'s genuine proof over {other}'s certificate: {code} {answer[:200]!r}")
    try:
        conn = http.client.HTTPSConnection("127.0.0.1", leader.peer_port, timeout=10,
                                           context=ssl.create_default_context(
                                               cafile=g.c.ca_file))
        conn.request("POST", f"{rpath}?member={m}&proof={proof(m, rpath, b'')}", body=b"")
        res = conn.getresponse()
        raise Failure(f"the peer channel answered a client without a certificate: "
                      f"{res.status}")
    except (ssl.SSLError, OSError, http.client.HTTPException):
        pass
    code, answer = peer_post(leader, f"{path}?member={m}&proof={proof(m, path, body)}", body)
    check(code == 200 and answer, f"a member's command answered {code} {answer[:200]!r}")
    wait(lambda: leader.status()["applied_index"] > before["applied_index"], 10,
         "the member's TICK applied")
    log(f"peer channel: /v1/internal/forward/* is 404 on the public API; {len(cases)} requests "
        f"without a member's proof and one over another member's certificate got 403; none "
        f"without a certificate was answered; a member's read-index and command got 200")
    g.unharmed("peer channel")


def tls_refusals(g):
    """Mutual TLS in front of the guard: a plain TCP connection, a certificate from another
    CA, no certificate, and a member's certificate used to speak as another member are all
    refused before our handshake answers (no CHALLENGE comes back)."""
    c, f, other = g.c, g.followers[0], g.followers[1]
    hello = guard_hello(c.secret, f.name, g.leader.name)
    stranger_dir = os.path.join(c.root, "stranger")
    subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ops",
                                 "make-certs"), stranger_dir, f.name], check=True)
    stranger = ssl.create_default_context(cafile=c.ca_file)
    stranger.load_cert_chain(os.path.join(stranger_dir, f"{f.name}.crt"),
                             os.path.join(stranger_dir, f"{f.name}.key"))
    cases = [
        ("plain TCP", dict(tls=None)),
        ("a certificate from another CA", dict(tls=stranger)),
        ("no certificate", dict(tls=ssl.create_default_context(cafile=c.ca_file))),
        (f"{other.name}'s certificate speaking as {f.name}", dict(member=other.name)),
    ]
    for what, how in cases:
        try:
            s = connect(g.leader, **how)
        except (ssl.SSLError, OSError):
            continue  # refused in the TLS handshake itself
        try:
            try:
                s.sendall(hello + raft_handshake(f.name, member_address(f)) +
                          request_vote(g.term + 10**9, f.name, 10**12, g.term))
            except (ssl.SSLError, OSError):
                pass
            got = read_until_closed(s)
            check(not got.startswith(b"CDRG"), f"{what}: the node answered our HELLO")
        finally:
            s.close()
    g.unharmed("plain TCP, strangers' and wrong members' certificates")


def insecure(c):
    """Nodes with 'insecure: true' and no secret run the same guard with an empty key: they
    elect a leader and replicate, and the guard's checks of sizes still hold."""
    c.start()
    c.install_model()
    g = Guarded(c)
    huge_address(g)


def corpus(c):
    c.start()
    c.install_model()
    g = Guarded(c)
    for step in (raw_raft, append_in_leaders_term, forged_entry, huge_term_vote,
                 huge_address, wrong_secret, replayed, tls_refusals, peer_channel, flood):
        step(g)
    port_metrics(g)


def port_metrics(g):
    """The leader's /metrics counts what its guard did: the members' connections accepted,
    the hostile handshakes refused, the flood over the cap and timed out."""
    conn = g.leader.client().connect(10)
    try:
        conn.request("GET", "/metrics",
                     headers={"Authorization": f"Bearer {g.c.find_token()}"})
        res = conn.getresponse()
        text = res.read().decode()
    finally:
        conn.close()
    check(res.status == 200, f"/metrics answered {res.status}")
    seen = {}
    for line in text.splitlines():
        m = re.match(r'contactd_raft_port_connections_total\{outcome="(\w+)"\} (\d+)$', line)
        if m:
            seen[m.group(1)] = int(m.group(2))
    log(f"raft port on {g.leader.name}: {seen}")
    check(set(seen) == {"accepted", "refused", "timed_out", "over_cap", "bad_frame"},
          f"outcomes in /metrics: {sorted(seen)}")
    check(seen["accepted"] >= 2, "the followers' connections were not counted")
    # the raw raft handshake, another secret and the replayed proof: closed in our handshake;
    # the four of tls_refusals in TLS or right after the HELLO
    check(seen["refused"] >= 7, f"{seen['refused']} handshakes refused")
    # the flood's plain bytes fail TLS at once, or wait out the deadline, or are over the cap
    flood = seen["over_cap"] + seen["timed_out"] + seen["refused"] - 7
    check(flood >= 2000 - 32,
          f"of the flood's 2000: {seen['over_cap']} over the cap, {seen['timed_out']} timed "
          f"out, {seen['refused']} refused in all")


if __name__ == "__main__":
    # A long election timeout: a busy machine must not change the leader by itself.
    run(Cluster(3, election_ms=3000, secret=True), corpus)
    run(Cluster(3, election_ms=3000, insecure=True), insecure)
