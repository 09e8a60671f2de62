"""A tiny SMTP server on 127.0.0.1 for the outbox tests, in one of three moods:

- "hang": accepts the connection and never says a word (the server that took the portal
  down: the client waits for a greeting that never comes);
- "refuse": greets with 554 and hangs up (a server that will not take mail now);
- "serve": speaks enough SMTP to take messages, and keeps each one it received.

The mood can change while it runs, on the same port: "the mail server recovers".
"""

from __future__ import annotations

import email
import socket
import socketserver
import threading
from email.message import Message
from typing import Any


class _Handler(socketserver.StreamRequestHandler):
    server: TinySMTPServer

    def handle(self) -> None:
        self.server.connections += 1
        mood = self.server.mood
        if mood == "hang":
            # Hold the connection silently until the client gives up or the test ends.
            self.server.released.wait(timeout=120)
            return
        if mood == "refuse":
            self._say("554 No SMTP service here, try later")
            return
        self._say("220 tiny ESMTP")
        data: list[bytes] | None = None
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data is not None:
                if line in (b".\r\n", b".\n"):
                    raw = b"".join(data)
                    self.server.received.append(email.message_from_bytes(raw))
                    data = None
                    self._say("250 OK: queued")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self._say("250 tiny")
            elif verb == b"DATA":
                data = []
                self._say("354 End data with <CR><LF>.<CR><LF>")
            elif verb == b"QUIT":
                self._say("221 Bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self._say("250 OK")

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()


class TinySMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mood: str, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.mood = mood
        self.connections = 0
        self.received: list[Message] = []
        self.released = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def __enter__(self) -> TinySMTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()


def free_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
