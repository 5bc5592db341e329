"""A read that every batch would repeat, kept in the process until its table changes.

Every ingest batch asks for the agents' addresses (an agent's mail is not a customer's).
On PostgreSQL a statement that changes them sends a ``NOTIFY`` naming its table (a
trigger, migration 0043: whoever writes, CLI, staff API, directory sync or desk),
delivered when its transaction commits; a worker process hears it on one ``LISTEN``
connection (``store.pg_listener``) and reads the table again at its next use. Whenever it
is not listening (SQLite, a process that never listens, before the listener connects,
while it reconnects) every use reads in the caller's transaction, as it did without a
listener; each time the listener (re)connects the kept values are read again, for what it
may have missed.

A kept value is read through ``Database.reading`` (what is committed), not in the
caller's transaction: a value read there could hold the transaction's own change, kept
after it rolled back.

The webhook subscriptions were kept this way too, until the capture read them in the
statement that writes the deliveries (``store.webhook_capture``; migration 0045 dropped
their trigger): an event captured between a subscription's commit and its notification
reaching the process missed it, or failed its foreign key if it was just deleted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

from sqlalchemy import text
from sqlalchemy.orm import Session

from store.config_signals import ConfigWatch

CHANNEL = "relaydesk_reads"  # the payload: the changed table's name
AGENTS = "agents"  # the agents' addresses

T = TypeVar("T")
log = logging.getLogger(__name__)
# the triggers that send the signal (migration 0043; the agents' alone since 0045), enabled
# (not 'D', disabled)
_TRIGGERS = text("SELECT count(*) FROM pg_trigger WHERE tgname = ANY(:names) AND tgenabled <> 'D'")


class KeptReads:
    def __init__(
        self,
        reading: Callable[[], AbstractContextManager[Session]],
        tables: Iterable[str] = (AGENTS,),
    ) -> None:
        """``reading``: a session on what is committed, for a value to keep."""
        self._reading = reading
        self._watches = {table: ConfigWatch(lambda: self.unheard()) for table in tables}
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[int, Any]] = {}  # table -> (the read's mark, value)
        # whether the listener has a notification it did not hand over yet (set by the
        # process that listens): a change committed just before is not missed
        self.unheard: Callable[[], bool] = lambda: False

    def heard(self, table: str) -> None:
        watch = self._watches.get(table)
        for each in self._watches.values() if watch is None else (watch,):
            each.heard()

    def listening(self, on: bool) -> None:
        """The listener (re)connected (``on``) or lost its connection. Connected to a
        database whose triggers are missing or disabled (its schema behind the code, a
        restore without triggers), nothing would be heard: every use reads then."""
        if on and not self._signalled():
            on = False
        for watch in self._watches.values():
            watch.listening(on)

    def _signalled(self) -> bool:
        names = [f"{table}_kept_reads" for table in self._watches]
        try:
            with self._reading() as session:
                found = session.execute(_TRIGGERS, {"names": names}).scalar_one()
        except Exception as exc:  # a failed check keeps nothing: every use reads
            log.warning("kept reads: cannot check their triggers (%s): reading each time", exc)
            return False
        if found != len(names):
            log.warning(
                "kept reads: the triggers %s are missing or disabled (run `relaydesk "
                "migrate`): reading each time",
                ", ".join(names),
            )
            return False
        return True

    def get(self, table: str, session: Session, load: Callable[[Session], T]) -> T:
        """``load``'s value: kept while no change of ``table`` was heard since it was read;
        read in ``session`` (and not kept) while nothing listens."""
        watch = self._watches[table]
        if not watch.listens():
            return load(session)
        if not watch.must_read():  # (nothing heard, nor waiting in the listener's socket)
            with self._lock:
                kept = self._kept.get(table)
            # only a value read since the last change heard: another thread's read of the
            # change may have been counted and its value not kept yet (a review's finding)
            if kept is not None and kept[0] == watch.reading():
                return cast(T, kept[1])
        mark = watch.reading()
        with self._reading() as committed:
            value = load(committed)
        watch.read(mark)
        with self._lock:  # a later read kept meanwhile stays
            if table not in self._kept or self._kept[table][0] <= mark:
                self._kept[table] = (mark, value)
        return value
