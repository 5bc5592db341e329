"""A real SMTP server on loopback for tests: aiosmtpd in a thread, collecting mail.

    with SmtpSink() as sink:
        send_something(host=sink.host, port=sink.port)
        [received] = sink.wait_for(1)

Failure modes: ``fail_next(451)`` answers the next DATA commands with a code,
``reject_recipient(address)`` refuses one RCPT TO with 550, and
``drop_connections()`` closes every open client connection from the server side.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cached_property
from types import TracebackType
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_MESSAGE_ID = re.compile(
    rb"^Message-ID:[ \t]*(<[^>\r\n]+>)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)
_REPLIES = {421: "Service closing", 451: "Try again later", 550: "No such user", 554: "Rejected"}


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the sink accepted it: envelope, raw bytes and the parsed email."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    peer: tuple[str, int]  # the client's address: one per connection

    @cached_property
    def message(self) -> EmailMessage:
        """Parsed when first asked for: a benchmark's sink shares the CPU it measures."""
        return cast(EmailMessage, message_from_bytes(self.raw, policy=policy.default))

    @property
    def message_id(self) -> str:
        head = self.raw.partition(b"\r\n\r\n")[0]
        found = _MESSAGE_ID.search(head)
        if found is not None:
            return found.group(1).decode("ascii", "replace")
        return str(self.message["Message-ID"]).strip()  # folded or odd: ask the parser


class _Handler:
    """aiosmtpd handler: records accepted mail and plays the configured failures."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        code = self._sink._refused_recipients.get(address.lower())
        if code is not None:
            return _reply(code)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        code = self._sink._take_failure()
        if code is not None:
            return _reply(code)
        raw = envelope.original_content or b""
        self._sink._record(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                raw=raw,
                peer=(str(session.peer[0]), int(session.peer[1])) if session.peer else ("", 0),
            )
        )
        return "250 Message accepted for delivery"


class _TrackingController(Controller):
    """A controller that remembers its protocol instances, so tests can cut them off."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.protocols: list[SMTP] = []

    def factory(self) -> SMTP:
        protocol = super().factory()
        self.protocols.append(protocol)
        return protocol


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 and a free port, collecting what it receives."""

    host = "127.0.0.1"

    def __init__(self, *, keep: bool = True) -> None:
        """``keep``: keep each message and its arrival time (else only count them: a
        benchmark's hundreds of thousands of messages)."""
        self.port = _free_port(self.host)
        self._controller: _TrackingController | None = None
        self._keep = keep
        self._received = 0
        self._messages: list[ReceivedMessage] = []
        self._arrival_times: dict[str, float] = {}
        self._arrived = threading.Condition()
        self._failures: list[int] = []
        self._refused_recipients: dict[str, int] = {}

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> SmtpSink:
        for _ in range(2):
            try:
                self._controller = self._started_controller()
                return self
            except OSError:  # someone took the port between the probe and the bind
                self.port = _free_port(self.host)
        self._controller = self._started_controller()
        return self

    def _started_controller(self) -> _TrackingController:
        controller = _TrackingController(_Handler(self), hostname=self.host, port=self.port)
        controller.start()
        return controller

    def stop(self) -> None:
        if self._controller is None:
            return
        self.drop_connections()
        self._controller.stop()
        self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what arrived ------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._arrived:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[ReceivedMessage]:
        """The first ``count`` messages, waiting up to ``timeout`` seconds for them.

        A liveness wait: it returns as soon as they are here, so its bound is generous
        (the whole pipeline behind them shares a loaded CI machine's cores)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} messages, got {len(self._messages)}")
                self._arrived.wait(remaining)
            return list(self._messages[:count])

    @property
    def received(self) -> int:
        """How many messages arrived (kept or not)."""
        with self._arrived:
            return self._received

    def wait_for_count(self, count: int, timeout: float) -> None:
        """Wait up to ``timeout`` seconds until ``count`` messages arrived."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while self._received < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} messages, got {self._received}")
                self._arrived.wait(remaining)

    def by_message_id(self) -> dict[str, ReceivedMessage]:
        return {str(m.message["Message-ID"]).strip(): m for m in self.messages}

    # -- failure modes -----------------------------------------------------

    def fail_next(self, code: int = 451, n: int = 1) -> None:
        """Answer the next ``n`` DATA commands with ``code`` instead of accepting them."""
        with self._arrived:
            self._failures.extend([code] * n)

    def reject_recipient(self, address: str, code: int = 550) -> None:
        """Refuse ``RCPT TO:<address>`` with ``code`` from now on."""
        with self._arrived:
            self._refused_recipients[address.lower()] = code

    def drop_connections(self) -> None:
        """Close every client connection from the server side, and wait until it is done."""
        controller = self._controller
        if controller is None:
            return

        async def close_all() -> None:  # runs on the server's event loop thread
            protocols, controller.protocols = controller.protocols, []
            for protocol in protocols:
                if protocol.transport is not None:
                    protocol.transport.close()
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(close_all(), controller.loop).result(timeout=5)

    # -- called by the handler on the server thread ------------------------

    def _take_failure(self) -> int | None:
        with self._arrived:
            return self._failures.pop(0) if self._failures else None

    def _record(self, received: ReceivedMessage) -> None:
        now = time.perf_counter()
        with self._arrived:
            self._received += 1
            if self._keep:
                self._messages.append(received)
                self._arrival_times.setdefault(received.message_id, now)
            self._arrived.notify_all()

    def arrival_times(self) -> dict[str, float]:
        """``time.perf_counter()`` at the first arrival of each Message-ID."""
        with self._arrived:
            return dict(self._arrival_times)


def _reply(code: int) -> str:
    return f"{code} {_REPLIES.get(code, 'Refused by test sink')}"


def _free_port(host: str) -> int:
    # Controller(port=0) cannot report the port it bound on every aiosmtpd version.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return cast(int, probe.getsockname()[1])
