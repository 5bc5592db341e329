"""Whether a process must read the configuration version again before its next message.

Reading it costs a transaction, and a worker would pay it for every broker message.
On PostgreSQL the transaction that records a change also sends a ``NOTIFY``
(``notify``), delivered when it commits; a worker process hears it through one
``LISTEN`` connection (``store.pg_listener``) and reads the store only after a change
was heard. Whenever it is not listening (SQLite, before the listener connects, while
it reconnects) it reads before every message, as it would without a listener; and
each time the listener (re)connects it reads once, for what it may have missed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "relaydesk_config"
_NOTIFY = text("SELECT pg_notify(:channel, '')")


def notify(session: Session) -> None:
    """Tell the listening processes a change is recorded, once ``session`` commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY, {"channel": CHANNEL})


class ConfigWatch:
    """Counts the changes heard and the reads that followed them: a read is due when a
    change (or a reconnection) was heard after the last read began, or always while
    nothing listens.

    ``unheard`` (the listener's, once it is started: ``PgListener.unheard``) says whether
    a notification reached the process that the listener's thread has not handed over
    yet: a read is due then too, so a change is not missed while the thread waits to run.
    """

    def __init__(self, unheard: Callable[[], bool] = lambda: False) -> None:
        self.unheard = unheard
        self._lock = threading.Lock()
        self._listening = False
        self._heard = 0  # changes heard, and (re)connections of the listener
        self._read = -1  # the count of the last read that saw the store

    def heard(self, _payload: str = "") -> None:
        with self._lock:
            self._heard += 1

    def listening(self, on: bool) -> None:
        with self._lock:
            self._heard += 1  # what was sent while not listening is lost: read again
            self._listening = on

    def listens(self) -> bool:
        with self._lock:
            return self._listening

    def must_read(self) -> bool:
        # (``unheard`` first: a notification the thread hands over while it looks is
        # counted by the time it answers)
        if self.unheard():
            return True
        with self._lock:
            return not self._listening or self._read != self._heard

    def reading(self) -> int:
        """Call before a read of the store; pass the answer to ``read`` once it succeeded
        (a change heard meanwhile makes another read due)."""
        with self._lock:
            return self._heard

    def read(self, mark: int) -> None:
        with self._lock:
            self._read = max(self._read, mark)
