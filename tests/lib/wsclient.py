"""A WebSocket client (RFC 6455) for tests, in Python's standard library only.

    ws = wsclient.connect("wss://127.0.0.1:8443/v1/chat", ca_file=c.ca_file,
                          origin="https://127.0.0.1:8443", headers={"Cookie": "sid=..."})
    ws.send_json({"type": "hello"})
    doc = ws.recv_json(timeout=5)
    m = ws.recv(timeout=5)          # Message: m.kind is "text", "binary", "pong" or "close"
    code, reason = ws.close(1000)   # the peer's answer to our close

What it checks, so that a test of a server sees the server's mistakes: the handshake's
status (a refusal raises HandshakeError carrying the HTTP status, headers and body),
Upgrade, Connection and Sec-WebSocket-Accept; in every frame from the server, that it is not
masked, uses no reserved bits or opcodes, that control frames are short and not fragmented,
that fragments follow each other and that a text message is valid UTF-8. Each of those
raises ProtocolError naming what was wrong.

What it does by itself: masks every frame it sends (send_frame can be told not to),
reassembles fragmented messages, answers a ping with a pong (auto_pong), and answers the
peer's close with a close carrying the same code. A peer that closes is reported once as a
Message of kind "close" (code 1006 when the connection ended without a close frame); a recv
after that raises ConnectionClosed.

Raw mode, for tests that must send what a correct client never sends: send_frame(opcode,
payload, fin, mask, rsv, length_override) writes one frame exactly as told, send_raw(bytes)
writes bytes as they are, and recv_frame() returns the next frame unprocessed.

A WebSocket is meant for one thread; the one lock it takes keeps frames whole when a pong
or a close is sent while another thread sends.
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import threading
import time
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
OP_NAMES = {OP_CONT: "continuation", OP_TEXT: "text", OP_BINARY: "binary",
            OP_CLOSE: "close", OP_PING: "ping", OP_PONG: "pong"}

HEADER_LIMIT = 64 * 1024  # bytes of a handshake answer's status line and headers


class WebSocketError(Exception):
    """Every error of this module."""


class HandshakeError(WebSocketError):
    """The server did not upgrade the connection. status is the HTTP status (0 when the
    answer was not HTTP), headers a dict with lower-case names, body the bytes that came
    after the headers."""

    def __init__(self, message, status=0, headers=None, body=b""):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.body = body

    def json(self):
        """The body parsed as JSON (the API's {"error": {...}} documents)."""
        return json.loads(self.body)


class ProtocolError(WebSocketError):
    """The server broke RFC 6455, or sent more than the client accepts."""


class Timeout(WebSocketError, TimeoutError):
    """Nothing complete arrived in time. The connection stays usable: what arrived so far
    is kept for the next call."""


class ConnectionClosed(WebSocketError):
    """The connection is closed; code and reason are the peer's (1006: no close frame)."""

    def __init__(self, code, reason):
        super().__init__(f"connection closed (code {code}, reason {reason!r})")
        self.code = code
        self.reason = reason


class Frame:
    """One frame as it came off the wire (payload unmasked)."""

    def __init__(self, fin, rsv, opcode, masked, payload):
        self.fin, self.rsv, self.opcode = fin, rsv, opcode
        self.masked, self.payload = masked, payload

    def __repr__(self):
        name = OP_NAMES.get(self.opcode, f"opcode {self.opcode:#x}")
        return (f"Frame({name}, fin={self.fin}, rsv={self.rsv}, masked={self.masked}, "
                f"{len(self.payload)} bytes)")


class Message:
    """A whole message. kind: "text" (data is a str), "binary" or "pong" (bytes), or
    "close" (data is b"", code and reason are the peer's)."""

    def __init__(self, kind, data, code=None, reason=""):
        self.kind, self.data, self.code, self.reason = kind, data, code, reason

    def json(self):
        if self.kind != "text":
            raise WebSocketError(f"expected a text message with JSON, got {self!r}")
        try:
            return json.loads(self.data)
        except ValueError as e:
            raise WebSocketError(f"text message is not JSON ({e}): {self.data[:200]!r}")

    def __repr__(self):
        if self.kind == "close":
            return f"Message(close, code={self.code}, reason={self.reason!r})"
        return f"Message({self.kind}, {self.data[:200]!r})"


def accept_key(key):
    """The Sec-WebSocket-Accept that answers the Sec-WebSocket-Key `key`."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def encode_frame(opcode, payload, fin=True, mask=True, rsv=0, length_override=None,
                 mask_key=None):
    """The bytes of one frame. length_override, when given, is the length the header
    declares instead of len(payload); mask_key (4 bytes) defaults to a random one."""
    length = len(payload) if length_override is None else length_override
    head = bytearray([(0x80 if fin else 0) | (rsv & 0x7) << 4 | (opcode & 0xF)])
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head.append(mask_bit | length)
    elif length < 1 << 16:
        head.append(mask_bit | 126)
        head += struct.pack("!H", length)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", length)
    if not mask:
        return bytes(head) + payload
    key = mask_key or os.urandom(4)
    return bytes(head) + key + apply_mask(key, payload)


def apply_mask(key, data):
    """data XOR-ed with the 4-byte key, repeated (masking and unmasking alike)."""
    if not data:
        return b""
    n = len(data)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def close_payload(code, reason=""):
    if code is None:
        return b""
    return struct.pack("!H", code) + reason.encode()


def connect(url, origin=None, headers=None, timeout=10.0, ca_file=None, ssl_context=None,
            subprotocols=None, max_message=16 * 1024 * 1024):
    """Opens a WebSocket to url (ws:// or wss://) and returns a WebSocket.

    origin: the Origin header, if any. headers: more request headers (a dict, or a list of
    (name, value) pairs to repeat a name). wss:// verifies the server's certificate with
    ssl_context if given, else against ca_file (the system's CAs when None); the host name
    in the url is the one checked. subprotocols: names offered in Sec-WebSocket-Protocol;
    the one the server chose is ws.subprotocol. max_message: the largest message (or frame)
    recv accepts before raising ProtocolError. Raises HandshakeError when the server
    refuses or answers wrongly, OSError when it cannot be reached."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise WebSocketError(f"{url!r}: the scheme must be ws or wss")
    tls = parts.scheme == "wss"
    port = parts.port or (443 if tls else 80)
    host = parts.hostname
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if tls:
            ctx = ssl_context or ssl.create_default_context(cafile=ca_file)
            sock = ctx.wrap_socket(sock, server_hostname=host)
        ws = WebSocket(sock, max_message=max_message)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        netloc = host if parts.port is None else f"{host}:{port}"
        if ":" in host:
            netloc = f"[{host}]" if parts.port is None else f"[{host}]:{port}"
        ws._handshake(netloc, target, origin, headers, subprotocols, timeout)
        return ws
    except BaseException:
        sock.close()
        raise


class WebSocket:
    """One client connection, after the handshake (see connect)."""

    def __init__(self, sock, max_message=16 * 1024 * 1024):
        self.sock = sock
        self.max_message = max_message
        self.auto_pong = True  # answer pings; False leaves them to the test (recv_frame)
        self.send_timeout = 30.0  # seconds a send may block on a peer that does not read
        self.response_headers = {}  # the 101 answer's headers, lower-case names
        self.subprotocol = None
        self.close_code = None  # the peer's close code and reason, once it closed
        self.close_reason = ""
        self.close_sent = False
        self.closed = False  # True once the peer's close (or the end of the stream) was read
        self._buf = bytearray()
        self._fragments = []  # the frames of a message still arriving
        self._fragment_op = None
        self._send_lock = threading.Lock()

    # ---- handshake ----------------------------------------------------------------------

    def _handshake(self, netloc, target, origin, headers, subprotocols, timeout):
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {target} HTTP/1.1", f"Host: {netloc}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        if subprotocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(subprotocols))
        pairs = headers.items() if isinstance(headers, dict) else (headers or [])
        lines += [f"{name}: {value}" for name, value in pairs]
        self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode())
        deadline = time.monotonic() + timeout
        try:
            status, reason, fields = self._read_head(deadline)
        except Timeout:
            raise HandshakeError(f"no answer to the upgrade request within {timeout} s "
                                 f"(read {bytes(self._buf[:200])!r})")
        if status != 101:
            body = self._read_body(fields, deadline)
            text = body[:500].decode(errors="replace")
            raise HandshakeError(f"the server refused the upgrade: {status} {reason}: {text}",
                                 status, fields, body)
        self.response_headers = fields
        self._check_upgrade(fields, key, subprotocols)

    def _read_head(self, deadline):
        while b"\r\n\r\n" not in self._buf:
            if len(self._buf) > HEADER_LIMIT:
                raise HandshakeError(f"handshake answer has no end of headers in "
                                     f"{HEADER_LIMIT} bytes")
            if not self._fill(deadline):
                raise HandshakeError("the server closed the connection during the handshake "
                                     f"(read {bytes(self._buf[:200])!r})")
        end = self._buf.index(b"\r\n\r\n")
        head = bytes(self._buf[:end]).decode("iso-8859-1")
        del self._buf[:end + 4]
        status_line, *header_lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HandshakeError(f"handshake answer is not HTTP: {status_line[:200]!r}")
        fields = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise HandshakeError(f"malformed header line in the handshake: {line!r}")
            name = name.strip().lower()
            value = value.strip()
            fields[name] = f"{fields[name]}, {value}" if name in fields else value
        return int(parts[1]), parts[2] if len(parts) > 2 else "", fields

    def _read_body(self, fields, deadline):
        """The body of a refusal: Content-Length bytes, or what comes until the server
        closes (bounded by the deadline), or a chunked body."""
        try:
            if "chunked" in fields.get("transfer-encoding", "").lower():
                return self._read_chunked(deadline)
            length = fields.get("content-length")
            if length is not None:
                while len(self._buf) < int(length) and self._fill(deadline):
                    pass
                return bytes(self._buf[:int(length)])
            while len(self._buf) < HEADER_LIMIT and self._fill(deadline):
                pass
        except (Timeout, OSError):
            pass  # a refusal with a body that never ends: keep what came
        return bytes(self._buf)

    def _read_chunked(self, deadline):
        body = bytearray()
        while True:
            while b"\r\n" not in self._buf:
                if not self._fill(deadline):
                    return bytes(body)
            end = self._buf.index(b"\r\n")
            size = int(bytes(self._buf[:end]).split(b";")[0], 16)
            if size == 0 or not self._need(end + 2 + size + 2, deadline):
                return bytes(body)
            body += self._buf[end + 2:end + 2 + size]
            del self._buf[:end + 2 + size + 2]

    def _check_upgrade(self, fields, key, subprotocols):
        def fail(what):
            raise HandshakeError(f"101 answer {what}", 101, fields, b"")

        if fields.get("upgrade", "").lower() != "websocket":
            fail(f"has Upgrade {fields.get('upgrade')!r}, not 'websocket'")
        tokens = [t.strip().lower() for t in fields.get("connection", "").split(",")]
        if "upgrade" not in tokens:
            fail(f"has Connection {fields.get('connection')!r}, without 'Upgrade'")
        if fields.get("sec-websocket-accept") != accept_key(key):
            fail(f"has Sec-WebSocket-Accept {fields.get('sec-websocket-accept')!r}, "
                 f"expected {accept_key(key)!r}")
        chosen = fields.get("sec-websocket-protocol")
        if chosen is not None and chosen not in (subprotocols or []):
            fail(f"chose subprotocol {chosen!r}, which was not offered")
        if fields.get("sec-websocket-extensions"):
            fail(f"chose extensions {fields['sec-websocket-extensions']!r}, none offered")
        self.subprotocol = chosen

    # ---- sending ------------------------------------------------------------------------

    def send_raw(self, data):
        """Writes bytes as they are."""
        with self._send_lock:
            self.sock.settimeout(self.send_timeout)  # recv may have left it at 0
            self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0, length_override=None):
        """Writes one frame exactly as told (see encode_frame); nothing is checked, so a
        test can send what the server must refuse: unmasked, reserved bits or opcodes, a
        length that lies (length_override), control frames too long or fragmented."""
        if isinstance(payload, str):
            payload = payload.encode()
        self.send_raw(encode_frame(opcode, payload, fin, mask, rsv, length_override))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode())

    def send_binary(self, data):
        self.send_frame(OP_BINARY, bytes(data))

    def send_json(self, doc):
        self.send_text(json.dumps(doc))

    def ping(self, payload=b""):
        self.send_frame(OP_PING, payload)

    def pong(self, payload=b""):
        self.send_frame(OP_PONG, payload)

    # ---- receiving ----------------------------------------------------------------------

    def _fill(self, deadline):
        """Reads what the socket has into the buffer, waiting until deadline (None: no
        limit). False at the end of the stream; raises Timeout when nothing came."""
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        self.sock.settimeout(left)  # 0: take only what is there already
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, BlockingIOError, ssl.SSLWantReadError):
            raise Timeout("nothing more arrived in time")
        if not data:
            return False
        self._buf += data
        return True

    def _need(self, n, deadline):
        while len(self._buf) < n:
            if not self._fill(deadline):
                return False
        return True

    def recv_frame(self, timeout=10.0):
        """The next frame, unprocessed and unchecked (pings are not answered). None when
        the stream ended; raises Timeout when no whole frame came in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._need(2, deadline):
            return None
        b0, b1 = self._buf[0], self._buf[1]
        length, offset = b1 & 0x7F, 2
        if length == 126:
            if not self._need(4, deadline):
                return None
            length, offset = struct.unpack_from("!H", self._buf, 2)[0], 4
        elif length == 127:
            if not self._need(10, deadline):
                return None
            length, offset = struct.unpack_from("!Q", self._buf, 2)[0], 10
        if length > self.max_message:
            raise ProtocolError(f"the server sent a frame of {length} bytes, more than "
                                f"max_message ({self.max_message})")
        masked = bool(b1 & 0x80)
        key_len = 4 if masked else 0
        if not self._need(offset + key_len + length, deadline):
            return None
        key = bytes(self._buf[offset:offset + key_len])
        payload = bytes(self._buf[offset + key_len:offset + key_len + length])
        del self._buf[:offset + key_len + length]
        if masked:
            payload = apply_mask(key, payload)
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 0x7, b0 & 0xF, masked, payload)

    def recv(self, timeout=10.0, pongs=False):
        """The next whole message (a Message). Pings are answered (auto_pong) and pongs
        skipped unless pongs=True. The peer's close is returned once, as kind "close";
        after it every recv raises ConnectionClosed. Raises Timeout when no whole message
        came in time, ProtocolError when the server broke the protocol."""
        if self.closed:
            raise ConnectionClosed(self.close_code, self.close_reason)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            frame = self.recv_frame(left)
            if frame is None:
                return self._peer_gone(1006, "")
            self._check_frame(frame)
            message = self._take(frame, pongs)
            if message is not None:
                return message

    def recv_json(self, timeout=10.0):
        """The next message, which must be a text message holding JSON; returns the parsed
        document."""
        return self.recv(timeout).json()

    def _check_frame(self, frame):
        name = OP_NAMES.get(frame.opcode)
        if frame.masked:
            raise ProtocolError(f"the server sent a masked {name} frame")
        if frame.rsv:
            raise ProtocolError(f"the server set reserved bits {frame.rsv:#x} in a {name} "
                                "frame, with no extension agreed")
        if name is None:
            raise ProtocolError(f"the server sent reserved opcode {frame.opcode:#x}")
        if frame.opcode >= OP_CLOSE:
            if not frame.fin:
                raise ProtocolError(f"the server fragmented a {name} frame")
            if len(frame.payload) > 125:
                raise ProtocolError(f"the server sent a {name} frame of "
                                    f"{len(frame.payload)} bytes (at most 125)")
        elif frame.opcode == OP_CONT and self._fragment_op is None:
            raise ProtocolError("the server sent a continuation frame with no message "
                                "to continue")
        elif frame.opcode != OP_CONT and self._fragment_op is not None:
            raise ProtocolError(f"the server began a {name} message inside a fragmented "
                                f"{OP_NAMES[self._fragment_op]} message")

    def _take(self, frame, pongs):
        """Folds a checked frame into the message being received; returns the message it
        completes, if any."""
        if frame.opcode == OP_PING:
            if self.auto_pong and not self.close_sent:
                self.pong(frame.payload)
            return None
        if frame.opcode == OP_PONG:
            return Message("pong", frame.payload) if pongs else None
        if frame.opcode == OP_CLOSE:
            return self._peer_close(frame.payload)
        if self._fragment_op is None:
            self._fragment_op = frame.opcode
        self._fragments.append(frame.payload)
        if sum(len(f) for f in self._fragments) > self.max_message:
            raise ProtocolError(f"the server sent a message of more than max_message "
                                f"({self.max_message}) bytes")
        if not frame.fin:
            return None
        data, op = b"".join(self._fragments), self._fragment_op
        self._fragments, self._fragment_op = [], None
        if op == OP_BINARY:
            return Message("binary", data)
        try:
            return Message("text", data.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ProtocolError(f"the server sent a text message that is not UTF-8: {e}")

    def _peer_close(self, payload):
        if len(payload) == 1:
            raise ProtocolError("the server sent a close frame with a 1-byte payload")
        code, reason = 1005, ""  # 1005: no status code in the frame
        if payload:
            code = struct.unpack("!H", payload[:2])[0]
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError as e:
                raise ProtocolError(f"the server's close reason is not UTF-8: {e}")
        if not self.close_sent:
            try:
                self.send_frame(OP_CLOSE, close_payload(None if code == 1005 else code))
                self.close_sent = True
            except OSError:
                pass  # it may have gone already; its close is what the test wants
        return self._peer_gone(code, reason)

    def _peer_gone(self, code, reason):
        self.closed = True
        self.close_code, self.close_reason = code, reason
        return Message("close", b"", code, reason)

    # ---- closing ------------------------------------------------------------------------

    def close(self, code=1000, reason="", timeout=5.0):
        """Sends a close frame (code None: one with no payload) unless one was sent, reads
        until the peer's close (messages meanwhile are dropped), closes the socket and
        returns (code, reason) of the peer. (1006, "") when the peer did not answer with a
        close frame before the stream ended or the timeout."""
        try:
            if not self.close_sent:
                self.send_frame(OP_CLOSE, close_payload(code, reason))
                self.close_sent = True
            deadline = time.monotonic() + timeout
            while not self.closed:
                self.recv(max(0.0, deadline - time.monotonic()))
        except (Timeout, OSError, ProtocolError):
            if not self.closed:
                self._peer_gone(1006, "")
        finally:
            self.sock.close()
        return self.close_code, self.close_reason

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.sock.fileno() != -1:
            self.close()
