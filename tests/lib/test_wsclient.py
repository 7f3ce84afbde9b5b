"""wsclient against a small WebSocket server written here (plain and TLS) and against
Chromium's DevTools endpoint: echo of text, binary, empty, 16- and 64-bit lengths; JSON;
fragments both ways with a ping in the middle; pings answered; the close handshake from
either side and a connection dropped without one; refusals carrying status and body; a
wrong Sec-WebSocket-Accept; a masked frame from the server; a timeout that keeps a half-read
frame; and raw frames (unmasked, reserved bits, a length that lies) that the server must
refuse. The server's frame parser is its own, so both sides are not wrong together."""
import os
import shutil
import socket
import ssl
import struct
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "browser"))
from harness import Failure, log, main, make_certs  # noqa: E402
import cdp  # noqa: E402
import wsclient  # noqa: E402
from wsclient import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT  # noqa: E402

LIMIT = 1 << 20  # the largest frame the server accepts


class EchoServer:
    """Accepts WebSocket connections on 127.0.0.1 (TLS with the context tls) and echoes
    each client frame back unmasked, as it came (fragments stay fragments). The path picks
    a behaviour: see session(). requests keeps (path, headers) of each handshake."""

    def __init__(self, tls=None):
        self.tls = tls
        self.requests = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def close(self):
        self.listener.close()

    def serve(self, conn):
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            with conn:
                self.session(conn, conn.makefile("rb"))
        except (OSError, EOFError):
            pass  # the client went away; what it saw is what the test checks

    def session(self, conn, rfile):
        path, headers = read_request(rfile)
        self.requests.append((path, headers))
        if path == "/refuse":
            body = b'{"error": {"code": "forbidden", "message": "no chat for you"}}'
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            return
        key = headers["sec-websocket-key"]
        accept = "wrong" if path == "/bad-accept" else wsclient.accept_key(key)
        chosen = ""  # /proto picks the first subprotocol offered, /other-proto one not offered
        if path == "/proto":
            chosen = headers["sec-websocket-protocol"].split(",")[0].strip()
        elif path == "/other-proto":
            chosen = "other.v9"
        proto = f"Sec-WebSocket-Protocol: {chosen}\r\n" if chosen else ""
        conn.sendall(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{proto}\r\n"
                     .encode())
        if path == "/goodbye":
            send(conn, OP_CLOSE, struct.pack("!H", 4001) + b"bye")
            read_frame(rfile)  # the client's answer
        elif path == "/drop":
            conn.shutdown(socket.SHUT_RDWR)
        elif path == "/masked":
            conn.sendall(wsclient.encode_frame(OP_TEXT, b"masked", mask=True))
        elif path == "/server-ping":
            send(conn, OP_PING, b"are you there")
            op, _, payload, _ = read_frame(rfile)
            send(conn, OP_TEXT, f"got {wsclient.OP_NAMES[op]} {payload.decode()}".encode())
        elif path == "/fragmented":
            send(conn, OP_TEXT, b"one ", fin=False)
            send(conn, OP_PING, b"in between")
            send(conn, OP_CONT, "tw\u00f6 ".encode(), fin=False)
            send(conn, OP_CONT, b"three")
            send(conn, OP_BINARY, b"\x00\xff")
        elif path == "/slow":
            frame = wsclient.encode_frame(OP_TEXT, b"in two parts", mask=False)
            conn.sendall(frame[:5])
            read_frame(rfile)  # "more"
            conn.sendall(frame[5:])
        self.echo(conn, rfile)

    def echo(self, conn, rfile):
        while True:
            try:
                op, fin, payload, refusal = read_frame(rfile)
            except EOFError:
                return
            if refusal:
                send(conn, OP_CLOSE, struct.pack("!H", refusal[0]) + refusal[1].encode())
                return
            if op == OP_PING:
                send(conn, OP_PONG, payload)
            elif op == OP_CLOSE:
                send(conn, OP_CLOSE, payload)
                return
            else:
                send(conn, op, payload, fin)


def read_request(rfile):
    request_line = rfile.readline().decode()
    headers = {}
    while True:
        line = rfile.readline().decode().strip()
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return request_line.split()[1], headers


def read_frame(rfile):
    """(opcode, fin, payload, refusal): refusal is (close code, reason) when the frame
    breaks what a server must require of a client."""
    head = rfile.read(2)
    if len(head) < 2:
        raise EOFError
    fin, rsv, op = head[0] >> 7, (head[0] >> 4) & 7, head[0] & 0xF
    masked, length = head[1] >> 7, head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", rfile.read(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", rfile.read(8))[0]
    if not masked:
        return op, fin, b"", (1002, "unmasked frame")
    if rsv:
        return op, fin, b"", (1002, "reserved bits set")
    if length > LIMIT:
        return op, fin, b"", (1009, f"frame of {length} bytes")
    key = rfile.read(4)
    data = rfile.read(length)
    return op, fin, bytes(b ^ key[i % 4] for i, b in enumerate(data)), None


def send(conn, op, payload, fin=True):
    conn.sendall(wsclient.encode_frame(op, payload, fin=fin, mask=False))


def check(cond, what):
    if not cond:
        raise Failure(what)


def raises(fn, error, *fragments):
    try:
        fn()
    except error as e:
        for f in fragments:
            check(f in str(e), f"the error {str(e)!r} says {f!r}")
        return e
    raise Failure(f"no {error.__name__} raised (expected one saying {fragments})")


def expect(ws, kind, data, what):
    m = ws.recv(5, pongs=kind == "pong")
    check(m.kind == kind and m.data == data, f"{what}: got {m!r}")


def echoes(url, **kw):
    ws = wsclient.connect(url + "/echo", **kw)
    for text in ("hello", "", "h\u00e9llo \u2603 \U0001f600", "x" * 200, "y" * 70000):
        ws.send_text(text)
        expect(ws, "text", text, f"echo of a text of {len(text)} characters")
    blob = os.urandom(300000)
    ws.send_binary(blob)
    expect(ws, "binary", blob, "echo of 300000 random bytes")
    ws.send_json({"type": "hello", "n": [1, 2]})
    check(ws.recv_json() == {"type": "hello", "n": [1, 2]}, "JSON round trip")
    ws.ping(b"p1")
    expect(ws, "pong", b"p1", "pong to our ping")
    ws.send_frame(OP_TEXT, b"frag", fin=False)
    ws.send_frame(OP_CONT, b"mented", fin=False)
    ws.send_frame(OP_CONT, b"!")
    expect(ws, "text", "fragmented!", "our fragments, echoed as fragments, reassembled")
    ws.ping(b"skipped")
    ws.send_text("after")
    expect(ws, "text", "after", "a pong is skipped unless asked for")
    check(ws.close(1000, "done") == (1000, "done"), "the close handshake")
    raises(lambda: ws.recv(1), wsclient.ConnectionClosed, "code 1000")


def server_frames(url):
    ws = wsclient.connect(url + "/fragmented")
    expect(ws, "text", "one tw\u00f6 three", "fragments with a ping in between")
    expect(ws, "binary", b"\x00\xff", "the message after them")
    ws.send_text("echo")  # the server echoes our pong before it
    expect(ws, "pong", b"in between", "the ping in between was answered")
    expect(ws, "text", "echo", "the text after the pong")
    ws.close()
    ws = wsclient.connect(url + "/server-ping")
    expect(ws, "text", "got pong are you there", "the server's ping answered with a pong")
    ws.close()
    ws = wsclient.connect(url + "/slow")
    raises(lambda: ws.recv(0.2), wsclient.Timeout, "in time")
    ws.send_text("more")
    expect(ws, "text", "in two parts", "a frame half read before a timeout, completed")
    ws.close()
    ws = wsclient.connect(url + "/masked")
    raises(lambda: ws.recv(5), wsclient.ProtocolError, "masked text frame")
    ws.sock.close()


def peer_closes(url):
    ws = wsclient.connect(url + "/goodbye")
    m = ws.recv(5)
    check((m.kind, m.code, m.reason) == ("close", 4001, "bye"), f"the server's close: {m!r}")
    raises(lambda: ws.recv(1), wsclient.ConnectionClosed, "4001", "bye")
    ws.sock.close()
    ws = wsclient.connect(url + "/drop")
    m = ws.recv(5)
    check((m.kind, m.code) == ("close", 1006), f"a dropped connection: {m!r}")
    ws.sock.close()


def refusals(url, server):
    e = raises(lambda: wsclient.connect(url + "/refuse", origin="https://desk.example",
                                        headers={"Cookie": "sid=abc"}),
               wsclient.HandshakeError, "403 Forbidden", "no chat for you")
    check(e.status == 403 and e.json()["error"]["code"] == "forbidden",
          f"the refusal carries status and body: {e.status} {e.body!r}")
    path, headers = server.requests[-1]
    check(path == "/refuse" and headers.get("origin") == "https://desk.example"
          and headers.get("cookie") == "sid=abc"
          and headers.get("host") == f"127.0.0.1:{server.port}",
          f"the request's path and headers: {path} {headers}")
    raises(lambda: wsclient.connect(url + "/bad-accept"), wsclient.HandshakeError,
           "Sec-WebSocket-Accept 'wrong'")
    ws = wsclient.connect(url + "/proto", subprotocols=["contactd.v1", "contactd.v0"])
    check(ws.subprotocol == "contactd.v1", f"the subprotocol chosen: {ws.subprotocol!r}")
    ws.close()
    raises(lambda: wsclient.connect(url + "/other-proto", subprotocols=["contactd.v1"]),
           wsclient.HandshakeError, "subprotocol 'other.v9', which was not offered")


def raw_frames(url):
    for what, frame, code in (
            ("an unmasked frame", dict(opcode=OP_TEXT, payload=b"x", mask=False), 1002),
            ("reserved bits", dict(opcode=OP_TEXT, payload=b"x", rsv=4), 1002),
            ("a length of 2^40", dict(opcode=OP_BINARY, payload=b"x" * 10,
                                      length_override=1 << 40), 1009)):
        ws = wsclient.connect(url + "/echo")
        ws.send_frame(**frame)
        m = ws.recv(5)
        check(m.kind == "close" and m.code == code, f"{what} is refused with {code}: {m!r}")
        ws.sock.close()


def tls_case(tmp):
    make_certs(tmp, "ws")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(tmp, "ws.crt"), os.path.join(tmp, "ws.key"))
    server = EchoServer(ctx)
    url = f"wss://127.0.0.1:{server.port}"
    try:
        echoes(url, ca_file=os.path.join(tmp, "ca.crt"))
        client = ssl.create_default_context(cafile=os.path.join(tmp, "ca.crt"))
        with wsclient.connect(url + "/echo", ssl_context=client) as ws:
            ws.send_text("given a context")
            expect(ws, "text", "given a context", "wss with an SSLContext")
        raises(lambda: wsclient.connect(url + "/echo"), ssl.SSLCertVerificationError,
               "certificate verify failed")
    finally:
        server.close()
    log("wss: with the CA file or a context; refused without the CA")


def devtools():
    with cdp.Browser() as b:
        ws = wsclient.connect(b.devtools_url)
        ws.send_json({"id": 1, "method": "Browser.getVersion"})
        doc = ws.recv_json()
        check(doc.get("id") == 1 and doc["result"]["product"].startswith("Chrome/"),
              f"Browser.getVersion answered: {doc}")
        ws.close()
        e = raises(lambda: wsclient.connect(b.devtools_url, origin="http://evil.example"),
                   wsclient.HandshakeError, "403")
        check(b"remote-allow-origins" in e.body, f"Chromium says why: {e.body!r}")
    log("Chromium's DevTools endpoint: a command answered; a foreign Origin refused")


def body():
    server = EchoServer()
    url = f"ws://127.0.0.1:{server.port}"
    tmp = tempfile.mkdtemp(prefix="contactd-ws-")
    try:
        echoes(url)
        log("echo: text, binary, lengths up to 64-bit, JSON, ping, fragments, close")
        server_frames(url)
        log("server frames: fragments with a ping, its ping answered, a timeout mid-frame, "
            "a masked frame refused")
        peer_closes(url)
        log("the server's close and a dropped connection")
        refusals(url, server)
        log("refusals carry status and body; Origin, headers and Host sent; a wrong "
            "Sec-WebSocket-Accept or an unoffered subprotocol refused")
        raw_frames(url)
        log("raw frames the server must refuse: unmasked, reserved bits, a lying length")
        tls_case(tmp)
        devtools()
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    log("PASS")


if __name__ == "__main__":
    main(body)
