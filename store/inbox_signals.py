"""Wake whoever waits for a web submission when its inbox row is processed, without polling.

A transaction that claims, finishes or fails web inbox rows says so once it has
committed: to this process's waiters directly (the embedded desk, where the web
and the worker share a process), and on PostgreSQL also by ``NOTIFY`` in the
transaction itself, which a web process in another process hears through one
``LISTEN`` connection (``PgListener``). A waiter is only woken: it reads the row
again to see where it stands, so a lost signal costs a later look, never a wrong
answer.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

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
        session.execute(
            text("SELECT pg_notify(:channel, :ids)"), {"channel": CHANNEL, "ids": payload}
        )


class PgListener:
    """One ``LISTEN`` connection (a thread) that publishes what other processes signal.

    Reconnects after a failure; meanwhile waiters only wait longer (they look again
    on their own after a while).
    """

    def __init__(self, url: URL, signals: InboxSignals) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._signals = signals
        self._stop = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inbox-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._signals.publish(_ids(note.payload))
            except Exception as exc:  # the database went away: listen again shortly
                self.listening.clear()
                log.warning("not listening for processed submissions: %s", exc)
                self._stop.wait(1.0)
        self.listening.clear()


def _ids(payload: str) -> list[int]:
    return [int(part) for part in payload.split(",") if part.isdigit()]
