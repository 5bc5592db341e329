"""What this process's connectors last did, told to the store with each heartbeat.

The connector wrappers (``connector_metrics.py``) report here as they count: a
message accepted over SMTP, a Telegram update taken in, an IMAP poll that ended
well, and each one's last error; the inbound SMTP server reports how many sessions
it has open. ``Heartbeat`` writes ``snapshot()`` into the process's beat row, and
``relaydesk status`` reads it from there (``store/fleet_status.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ERROR_CHARS = 300  # a last error is a line on a status screen, not a traceback


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _State:
    last_success: datetime | None = None
    last_error: str | None = None
    error_at: datetime | None = None
    sessions_open: int | None = None

    def as_data(self) -> dict[str, Any]:
        return {
            "last_success": _iso(self.last_success),
            "last_error": self.last_error,
            "error_at": _iso(self.error_at),
            "sessions_open": self.sessions_open,
        }


class ConnectorHealth:
    """Per connector name (``smtp``, ``telegram``, ``imap <mailbox>``): its last success,
    its last error and when, and (the SMTP server) its sessions open now. Thread-safe:
    the SMTP server's loop, its delivery threads and the pollers all report here."""

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[str, _State] = {}

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._state(name).last_success = self._clock()

    def failed(self, name: str, error: str) -> None:
        with self._lock:
            state = self._state(name)
            state.last_error = error[:ERROR_CHARS]
            state.error_at = self._clock()

    def sessions(self, name: str, open_now: int) -> None:
        with self._lock:
            self._state(name).sessions_open = open_now

    def snapshot(self) -> dict[str, Any] | None:
        """JSON-ready: ``{name: {last_success, last_error, error_at, sessions_open}}``;
        None for a process without connectors."""
        with self._lock:
            return {n: s.as_data() for n, s in sorted(self._states.items())} or None

    def _state(self, name: str) -> _State:
        return self._states.setdefault(name, _State())


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
