"""What the tests run to take what a node sends out: a webhook receiver and an SMTP sink,
both on 127.0.0.1."""
import email
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """A webhook receiver on 127.0.0.1: records each POST; answers 503 to the first `fail`
    deliveries."""

    def __init__(self, fail=0):
        self.got = []
        self.fail = fail
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    failing = outer.fail > 0
                    outer.fail -= failing
                    outer.got.append({"key": self.headers.get("Idempotency-Key"),
                                      "slot": self.headers.get("X-Contactd-Slot"),
                                      "path": self.path,
                                      "type": self.headers.get("Content-Type"),
                                      "failed": failing, "body": body})
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def taken(self):
        with self.lock:
            return [g for g in self.got if not g["failed"]]


class SmtpSink:
    """An SMTP relay on 127.0.0.1 that keeps every message it takes."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self):
                self.reply("220 sink.test ESMTP")
                rcpt = []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.decode(errors="replace").strip().upper()
                    if verb.startswith(("EHLO", "HELO")):
                        self.wfile.write(b"250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n")
                        self.wfile.flush()
                    elif verb.startswith("MAIL FROM"):
                        rcpt = []
                        self.reply("250 2.1.0 Ok")
                    elif verb.startswith("RCPT TO"):
                        rcpt.append(verb[8:].strip(" <>").lower())
                        self.reply("250 2.1.5 Ok")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = []
                        while True:
                            dl = self.rfile.readline()
                            if dl in (b".\r\n", b""):
                                break
                            data.append(dl[1:] if dl.startswith(b"..") else dl)
                        with outer.lock:
                            outer.messages.append((rcpt, b"".join(data)))
                            n = len(outer.messages)
                        self.reply(f"250 2.0.0 Ok: queued as Q{n}")
                    elif verb == "QUIT":
                        self.reply("221 2.0.0 Bye")
                        return
                    else:
                        self.reply("250 2.0.0 Ok")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self):
        with self.lock:
            return [email.message_from_bytes(m)["Message-ID"] for _, m in self.messages]
