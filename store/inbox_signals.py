"""Wake whoever waits for a web submission when its inbox row is processed, without polling.

A transaction that claims, finishes or fails web inbox rows says so once it has
committed: to this process's waiters directly (the embedded desk, where the web
and the worker share a process), and on PostgreSQL also by ``NOTIFY`` in the
transaction itself, which a web process in another process hears through one
``LISTEN`` connection (``store.pg_listener``). A waiter is only woken: it reads the row
again to see where it stands, so a lost signal costs a later look, never a wrong
answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "relaydesk_inbox"
_RECENT = 10_000  # ids remembered, for a waiter that subscribes after its row's signal
_NOTIFY = text("SELECT pg_notify(:channel, :ids)")
_PAYLOAD_IDS = 500  # ids per NOTIFY (its payload stays far below PostgreSQL's 8,000 bytes)


class InboxSignals:
    """This process's waiters, by inbox id; ids signalled lately are remembered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, list[Callable[[], None]]] = {}
        self._recent: OrderedDict[int, None] = OrderedDict()

    def subscribe(self, inbox_id: int, wake: Callable[[], None]) -> Callable[[], None]:
        """Call ``wake`` (from any thread) once ``inbox_id`` is signalled, at once if it was
        lately; returns what unsubscribes."""
        with self._lock:
            if inbox_id not in self._recent:
                self._waiters.setdefault(inbox_id, []).append(wake)
                return lambda: self._unsubscribe(inbox_id, wake)
        wake()
        return lambda: None

    def publish(self, inbox_ids: Iterable[int]) -> None:
        woken: list[Callable[[], None]] = []
        with self._lock:
            for inbox_id in inbox_ids:
                self._recent[inbox_id] = None
                self._recent.move_to_end(inbox_id)
                woken += self._waiters.pop(inbox_id, ())
            while len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
        for wake in woken:
            wake()

    def publish_payload(self, payload: str) -> None:
        """What another process signalled (a ``NOTIFY``'s payload: ids, comma-separated)."""
        self.publish(_ids(payload))

    def _unsubscribe(self, inbox_id: int, wake: Callable[[], None]) -> None:
        with self._lock:
            waiters = self._waiters.get(inbox_id)
            if waiters and wake in waiters:
                waiters.remove(wake)
                if not waiters:
                    del self._waiters[inbox_id]


def notify(session: Session, inbox_ids: list[int]) -> None:
    """Tell other processes (PostgreSQL), delivered when ``session`` commits."""
    for start in range(0, len(inbox_ids), _PAYLOAD_IDS):
        payload = ",".join(map(str, inbox_ids[start : start + _PAYLOAD_IDS]))
        session.execute(_NOTIFY, {"channel": CHANNEL, "ids": payload})


def _ids(payload: str) -> list[int]:
    return [int(part) for part in payload.split(",") if part.isdigit()]
