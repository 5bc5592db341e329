"""A webhook receiver of our own on loopback: a real HTTP server that verifies each
delivery's Standard Webhooks signature and answers as the test tells it to."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int  # what the receiver answered

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """``answers``: what to answer next, in turn (a status, or ("sleep", seconds) to time
    out, or ("redirect", url)); then 204 to everything."""

    secret: str
    url: str = ""
    answers: list[Any] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The accepted deliveries once there are ``count`` (a receiver drops duplicates
        by webhook-id: counted once), or fail. A liveness wait: it returns as soon as they
        are here, so its bound is generous (a loaded CI machine)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            unique = {r.message_id: r for r in self.accepted()}
            if len(unique) >= count:
                return list(unique.values())
            time.sleep(0.02)
        raise AssertionError(f"{len(self.accepted())} deliveries accepted, wanted {count}")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                Webhook(receiver.secret).verify(body, headers)
                verified = True
            except Exception:
                verified = False
            with receiver.lock:
                answer = receiver.answers.pop(0) if receiver.answers else 204
            status: int = answer if isinstance(answer, int) else 204
            if isinstance(answer, tuple) and answer[0] == "sleep":
                time.sleep(answer[1])
            location = ""
            if isinstance(answer, tuple) and answer[0] == "redirect":
                status, location = 307, str(answer[1])
            if not verified:
                status = 401
            with receiver.lock:
                receiver.received.append(Received(headers, body, verified, status))
            try:
                self.send_response(status)
                if status == 307:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


@contextmanager
def webhook_receiver(secret: str) -> Iterator[Receiver]:
    receiver = Receiver(secret=secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = False  # server_close waits for a handler still answering
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/relaydesk"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
