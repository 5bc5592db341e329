"""The webhook subscriptions are read by the statement that writes an event's deliveries,
in the writing transaction: a subscription another process committed is told the very
next event, and one it deleted just before gets nothing and fails nothing, whatever a
worker process heard of either. (They were kept in the process until a NOTIFY said they
changed: an event captured before that notification reached the process missed a new
subscription, or failed the foreign key of a deleted one and its step was retried.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import event, select, text

from router.vocabulary import AuditAction
from store.db import Database
from store.migrate import alembic_config, upgrade
from store.webhook_capture import capture, subscribed_types
from tests.integration.test_webhook_capture import _ticket  # (the same ticket, made once)
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def worker(database_url: str) -> Iterator[Database]:
    """A worker process's database: listening on PostgreSQL, as ``ConfigPin`` starts it."""
    db = Database(database_url, pool_size=4)
    listener = db.listen_for_kept_reads()
    assert listener is None or listener.listening.wait(10)
    yield db
    db.dispose()


@pytest.fixture
def other(database_url: str) -> Iterator[Database]:
    """Another process's database (the staff API's, the CLI's): its own connections."""
    db = Database(database_url, pool_size=3)
    yield db
    db.dispose()


@contextmanager
def _listener_held_back(db: Database) -> Iterator[None]:
    """The moment between another process's commit and its NOTIFY reaching this one,
    held open: the listener's thread cannot hand over what it reads, and its socket is
    said to hold nothing (no listener on SQLite: nothing to hold)."""
    listener = db.listen_for_kept_reads()
    if listener is None:
        yield
        return
    unheard = db.kept_reads.unheard
    with listener._handing:  # (what the listener's thread holds to read and hand over)
        db.kept_reads.unheard = lambda: False
        try:
            yield
        finally:
            db.kept_reads.unheard = unheard


def _subscribe(db: Database, events: list[str]) -> int:
    with db.unit_of_work() as uow:
        hook = uow.webhooks.add(
            url="https://93.184.216.34/h",
            events=events,
            secret="whsec_" + "A" * 32,
            description="",
            created_by="test",
            now=NOW,
        )
        return hook.id


def _note(db: Database, number: int) -> None:
    with db.unit_of_work() as uow:
        uow.audit.record(ticket_id=number, actor="cli", action=AuditAction.NOTE_ADDED, now=NOW)


def _deliveries(db: Database, webhook_id: int) -> int:
    with db.unit_of_work() as uow:
        return len(uow.webhook_deliveries.recent(webhook_id=webhook_id, limit=100))


def _events(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM webhook_events")).scalar_one())


def _waiting_for_a_lock(db: Database) -> bool:
    """Whether a statement writing deliveries waits for a lock (a fresh view each time: the
    statistics views are a snapshot taken once a transaction)."""
    with db.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%INSERT INTO webhook_deliveries%' "
                "AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)


def test_a_subscription_another_process_made_is_told_the_very_next_event(
    worker: Database, other: Database
) -> None:
    number = _ticket(other)
    first = _subscribe(other, ["ticket.note_added"])
    _note(worker, number)
    _note(worker, number)  # (what a process keeps, it keeps by now)
    with _listener_held_back(worker):
        for round_ in range(5):
            new = _subscribe(other, ["ticket.note_added"])
            elsewhere = _subscribe(other, ["ticket.created"])  # another event's subscriber
            _note(worker, number)
            assert _deliveries(other, new) == 1, round_
            assert _deliveries(other, elsewhere) == 0, round_
    assert _deliveries(other, first) == 7
    assert _events(other) == 7  # one row an event, whoever it goes to


def test_a_subscription_deleted_just_before_an_event_gets_nothing_and_fails_nothing(
    worker: Database, other: Database
) -> None:
    number = _ticket(other)
    kept = _subscribe(other, ["ticket.note_added"])
    gone = _subscribe(other, ["ticket.note_added"])
    _note(worker, number)
    _note(worker, number)
    with _listener_held_back(worker):
        with other.unit_of_work() as uow:
            assert uow.webhooks.remove(gone)
        _note(worker, number)  # (its delivery to ``gone`` failed its foreign key before)
        assert _deliveries(other, kept) == 3
        with other.unit_of_work() as uow:
            assert uow.webhooks.remove(kept)
        _note(worker, number)  # nobody left to tell: no event row either
    assert _events(other) == 3


def test_a_delete_in_flight_is_waited_for_and_its_subscription_left_out(
    worker: Database, other: Database, database_url: str
) -> None:
    # the delete's transaction holds the row when the event's statement comes to it: the
    # statement waits for it (FOR KEY SHARE, as the foreign key's own check would) and,
    # the row gone once it commits, writes no delivery to it instead of failing the key
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's writers take turns: no delete is in flight during a capture")
    number = _ticket(other)
    kept = _subscribe(other, ["ticket.note_added"])
    gone = _subscribe(other, ["ticket.note_added"])
    failed: list[BaseException] = []

    def event() -> None:
        try:
            _note(worker, number)
        except BaseException as exc:  # (reported by the test's thread)
            failed.append(exc)

    with other.engine.connect() as deleting:
        deleting.execute(text("DELETE FROM webhooks WHERE id = :id"), {"id": gone})
        capturing = threading.Thread(target=event)
        capturing.start()
        wait_until(lambda: _waiting_for_a_lock(other), 10)
        deleting.commit()
    capturing.join(10)
    assert not capturing.is_alive() and failed == []
    assert _deliveries(other, kept) == 1
    assert _deliveries(other, gone) == 0


def test_an_event_nobody_subscribed_to_costs_no_statement_beside_the_audit_insert(
    db: Database,
) -> None:
    # the audit INSERT says which event types are subscribed to (none here): no read of the
    # subscriptions of its own, and no payload read
    number = _ticket(db)
    _subscribe(db, ["sla.breached"])
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: sent.append(a[2].split()[0]))
    _note(db, number)
    assert [s for s in sent if s not in ("BEGIN", "COMMIT")] == ["INSERT"]
    assert _events(db) == 0


def test_a_subscribed_event_costs_the_audit_insert_a_payload_read_and_its_writes(
    db: Database,
) -> None:
    # two subscriptions want the note: the audit INSERT says so, one read of the ticket's
    # payload, then the event and its two deliveries (PostgreSQL: one statement; SQLite:
    # the event, then the deliveries); no read of the subscriptions of its own
    number = _ticket(db)
    hooks = [_subscribe(db, ["ticket.note_added"]) for _ in range(2)]
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: sent.append(a[2].split()[0]))
    _note(db, number)
    statements = [s for s in sent if s not in ("BEGIN", "COMMIT")]
    postgresql = db.engine.dialect.name == "postgresql"
    assert statements == (
        ["INSERT", "SELECT", "WITH"] if postgresql else ["INSERT", "SELECT", "INSERT", "INSERT"]
    )
    assert [_deliveries(db, hook) for hook in hooks] == [1, 1] and _events(db) == 1


def test_the_audit_insert_names_each_subscribed_type_once(db: Database) -> None:
    # (the value is returned with every audit row of a flush: it stays as short as the
    # list of types, however many subscriptions name them)
    for events in (["ticket.note_added"], ["ticket.note_added", "sla.breached"]) * 3:
        _subscribe(db, events)
    with db.engine.connect() as conn:
        said = conn.execute(select(subscribed_types(db.engine.dialect.name))).scalar_one()
    assert said is not None and sorted(said.split(",")) == ["sla.breached", "ticket.note_added"]


def test_a_capture_not_told_what_is_subscribed_asks_in_its_transaction(db: Database) -> None:
    # (an event written by its change's own statement reaches the capture without the
    # audit INSERT's answer: ``AuditLog.written``)
    number = _ticket(db)
    noted = _subscribe(db, ["ticket.note_added"])
    audits = [
        {"ticket_id": number, "actor": "cli", "action": action, "detail": "", "data": {}}
        | {"created_at": NOW}
        for action in (AuditAction.NOTE_ADDED, AuditAction.TICKET_STATUS)
    ]
    with db.unit_of_work() as uow:
        ids = capture(uow.session, audits, redrive_after=timedelta(0))
    assert len(ids) == 1 and _deliveries(db, noted) == 1
    assert _events(db) == 1  # the status change: nobody wants it


def test_a_database_restored_without_the_webhooks_trigger_still_migrates(
    database_url: str,
) -> None:
    # migration 0045 drops the trigger 0043 made: one already gone (a restore without
    # triggers, which the kept reads tell to run ``relaydesk migrate``) must not stop it
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no such trigger")
    db = Database(database_url)
    try:
        with db.engine.begin() as conn:
            cfg = alembic_config(db.url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0044")
            conn.execute(text("DROP TRIGGER webhooks_kept_reads ON webhooks"))
        upgrade(db)
        with db.engine.connect() as conn:
            left = conn.execute(
                text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%kept_reads'")
            )
            assert left.scalar_one() == 1  # the agents' alone
    finally:
        upgrade(db)  # the shared PostgreSQL database stays at the head for the next tests
        db.dispose()
