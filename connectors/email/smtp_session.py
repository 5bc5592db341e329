"""One inbound SMTP session: aiosmtpd's protocol with a connection limit, longer lines,
plain paths read at once, and DATA's lines handed over in chunks.

``DataReader`` relies on two things of aiosmtpd (pinned below 1.5 in pyproject.toml):
``SMTP.smtp_DATA`` reads the message with ``readuntil(b"\\r\\n")``, and the session's
reader is a plain ``asyncio.StreamReader``, whose class ``GatedSMTP`` replaces.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP

from connectors.email.smtp_paths import plain_path

log = logging.getLogger("connectors.email.smtp_inbound")  # the server's logger, as before the move


class ConnectionGate:
    """How many sessions are open; only touched on the server's event loop thread."""

    def __init__(self, limit: int, on_change: Callable[[int], None] | None = None) -> None:
        self.limit = limit
        self.active = 0
        self._on_change = on_change

    def admit(self) -> None:
        self.active += 1
        self._tell()

    def leave(self) -> None:
        self.active -= 1
        self._tell()

    def _tell(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change(self.active)
            except Exception:  # a listener's fault never costs a session
                log.exception("inbound SMTP: the session count's listener failed")


class DataReader(asyncio.StreamReader):
    """The session's stream, handing aiosmtpd's DATA loop every whole line already
    received at once instead of one line per call (an ``await`` and a dozen steps a
    line: 60% of the server's event loop CPU, most of it on attachments' lines).

    ``SMTP.smtp_DATA`` reads with ``readuntil(b"\\r\\n")`` (commands use other
    calls) and does with a chunk of whole lines what it does with each: it counts
    its bytes, keeps it, removes a leading dot, and ends at ``.\\r\\n``. So a line
    that starts with a dot comes alone, as it did, and a chunk is at most the
    line length limit long (what it checks a line against); a line past the limit
    is raised as before, by the call that reaches it.
    """

    async def readuntil(self, separator: Any = b"\n") -> bytes:
        line = await super().readuntil(separator)
        if separator != b"\r\n" or line.startswith(b"."):
            return line
        buffered: bytearray = self._buffer  # type: ignore[attr-defined]
        if buffered.startswith(b"."):
            return line
        room = self._limit - len(line)  # type: ignore[attr-defined]
        if room <= 0:  # the line is at the limit already (a negative end counts from the back)
            return line
        dot = buffered.find(b"\r\n.", 0, room)
        end = buffered.rfind(b"\r\n", 0, room if dot < 0 else dot + 2)
        if end < 0:
            return line
        more = bytes(buffered[: end + 2])
        del buffered[: end + 2]
        self._maybe_resume_transport()  # type: ignore[attr-defined]
        return line + more


class GatedSMTP(SMTP):
    """aiosmtpd's protocol, refusing a session past the connection limit with 421,
    and reading lines up to ``max_line_bytes`` (aiosmtpd's 1,001 refuses real mail).

    aiosmtpd sets no limit of its own, and each session may buffer a whole
    message in memory: without one, a flood of connections exhausts memory.
    Command lines keep aiosmtpd's own (small) size limits.
    """

    def __init__(
        self, handler: Any, *, gate: ConnectionGate, max_line_bytes: int, **kwargs: Any
    ) -> None:
        self.line_length_limit = max_line_bytes  # read by SMTP.__init__ for its stream
        super().__init__(handler, **kwargs)
        stream = self._stream_reader  # type: ignore[attr-defined]  # (SMTP.__init__ made it)
        stream.__class__ = DataReader  # a plain StreamReader until now
        self._gate = gate
        self._admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._admitted:  # STARTTLS: the same session again, over TLS
            super().connection_made(transport)
            return
        if self._gate.active >= self._gate.limit:
            log.warning("inbound SMTP: %d sessions open, refusing another", self._gate.active)
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(b"421 4.7.0 Too many connections, try again later\r\n")
            transport.close()
            return
        self._gate.admit()
        self._admitted = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        self._gate.leave()
        super().connection_lost(error)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """MAIL FROM's and RCPT TO's path: a plain ``<local@domain>`` read at once,
        anything else by aiosmtpd (the stdlib's header parser, a fifth of the server's
        CPU per message when it read every path)."""
        plain = plain_path(arg)
        limit = self.local_part_limit
        if plain is None or (limit and len(plain[0].rpartition("@")[0]) > limit):
            return super()._getaddr(arg)
        return plain
