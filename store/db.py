"""The database of a process: its engines and pools, its listener, and the ways in (a
unit of work, ``store.unit_of_work``; short reads; a transaction of one statement).

SQLite runs in WAL mode with a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE`` so two writers queue up instead of failing to upgrade a
read lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from store import inbox_signals
from store.config_signals import CHANNEL as CONFIG_CHANNEL
from store.config_signals import ConfigWatch
from store.engines import make_engine, make_read_engine
from store.inbox_signals import InboxSignals
from store.kept_reads import CHANNEL as KEPT_READS_CHANNEL
from store.kept_reads import KeptReads
from store.one_statement import HeldConnection, OneStatement
from store.pg_listener import PgListener
from store.statement_tally import StatementTally
from store.unit_of_work import UnitOfWork
from store.webhook_capture import WebhookOutlet


class Database:
    """One per process: the engine and a factory of units of work."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # on PostgreSQL a pool of its own (no connection is opened until one is asked for:
        # a process that never reads this way opens none)
        self.read_engine = (
            make_read_engine(url, pool_size)
            if self.engine.dialect.name == "postgresql"
            else self.engine
        )
        self._reads = sessionmaker(self.read_engine, expire_on_commit=False)
        self.inbox_signals = InboxSignals()
        self.config_watch = ConfigWatch()
        self.kept_reads = KeptReads(self.reading)
        self._listener: PgListener | None = None  # one LISTEN connection for every channel
        self._listener_lock = threading.Lock()
        # set by a process that delivers webhooks (workers.runtime.webhook_actor); without
        # it, new deliveries are left to a scheduler at once
        self.webhook_outlet: WebhookOutlet | None = None
        # set by the process's runtime: the configuration version its audit events record
        # (the one pinned for the calling thread's message)
        self.config_version: Callable[[], str | None] = lambda: None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(
            self._sessions(),
            self.inbox_signals,
            self.webhook_outlet,
            self.config_version,
            self.kept_reads,
        )

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for short reads (a ticket, a list page; nothing it writes is
        committed). On PostgreSQL its statements run without a transaction around them (no
        BEGIN and COMMIT round trips; each sees what was committed when it began, as it
        would in a transaction at READ COMMITTED, the default here), and without parallel
        workers (see ``make_read_engine``). On SQLite, in a transaction as a unit of
        work's."""
        with self._reads() as session:  # closed at the end: its connection back to the pool
            yield session

    @contextmanager
    def one_statement(self) -> Iterator[OneStatement]:
        """A transaction of exactly one statement in Core (a second raises, see
        ``store.one_statement``), committed as it runs on PostgreSQL (on the autocommit
        connections of ``reading``: no BEGIN and COMMIT round trips), on a clean exit on
        SQLite: delivery's claim and record of a row sent, the ingest attempt's count.

        (The ingest attempt was once counted in autocommit on the main pool, d90f020, and
        every stage of a paced ticket was two to three times slower; taken back, not
        reproduced since, its cause not found: see docs/performance.md. It runs here
        since the eighth session, on the reads' pool, whose connections are in
        autocommit from their connect.)"""
        with self.held_connection() as held, held.one_statement() as statement:
            yield statement

    @contextmanager
    def held_connection(self) -> Iterator[HeldConnection]:
        """One connection of ``one_statement``'s pool for several of its transactions in a
        row, each committed before the next (delivery's claim and records of a batch):
        the pool's checkout and return once for them all."""
        autocommit = self.read_engine is not self.engine  # (PostgreSQL: that pool is)
        with self.read_engine.connect() as connection:
            yield HeldConnection(connection, autocommit=autocommit)

    def count_statements(self) -> StatementTally:
        """Count the statements this process sends and the transactions it commits, on
        both engines, from now on (a worker process says so when it stops). An engine's
        first connection counts the dialect's own look-ups too (three on PostgreSQL): a
        test that counts exactly connects each engine first."""
        tally = StatementTally()
        tally.watch(self.engine)
        if self.read_engine is not self.engine:
            tally.watch(self.read_engine)
        return tally

    def listen_for_other_processes(self) -> PgListener | None:
        """On PostgreSQL, hear the web inbox rows other processes processed (started once)."""
        return self._listen(inbox_signals.CHANNEL, self.inbox_signals.publish_payload)

    def listen_for_config_changes(self) -> PgListener | None:
        """On PostgreSQL, hear each configuration change as it commits (started once), so
        ``config_watch`` asks for a read of the version only after one."""
        watch = self.config_watch
        listener = self._listen(CONFIG_CHANNEL, watch.heard, on_listening=watch.listening)
        if listener is not None:
            watch.unheard = listener.unheard
        return listener

    def listen_for_kept_reads(self) -> PgListener | None:
        """On PostgreSQL, hear each change of the agents' addresses as it commits (started
        once), so ``kept_reads`` keeps them until one."""
        kept = self.kept_reads
        listener = self._listen(KEPT_READS_CHANNEL, kept.heard, on_listening=kept.listening)
        if listener is not None:
            kept.unheard = listener.unheard
        return listener

    def _listen(
        self,
        channel: str,
        handler: Callable[[str], None],
        on_listening: Callable[[bool], None] = lambda _on: None,
    ) -> PgListener | None:
        """The process's one listener, listening on ``channel`` too (the first call starts
        it; a channel added again keeps its first handler)."""
        if self.dialect != "postgresql":
            return None
        with self._listener_lock:
            listener, first = self._listener, self._listener is None
            if listener is None:
                listener = self._listener = PgListener(self.engine.url, name="pg-listener")
            listener.add(channel, handler, on_listening)
            if first:  # (after its first channel: it listens on it as it connects)
                listener.start()
            return listener

    def dispose(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


__all__ = ["Database", "UnitOfWork"]
