"""The agents' addresses and the webhook subscriptions are kept in a listening worker
process until a change of them is heard (a trigger's NOTIFY on PostgreSQL, whoever
wrote it); the next event after a subscription commits is delivered to it, and a new
agent's first mail is an agent's. Without a listener (SQLite, or a process that never
listens, or while it reconnects) every use reads, as before."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, text

from router.vocabulary import AgentStatus, AuditAction, Channel, Priority
from store.db import Database
from tests.support.mail_desk import MailDesk, mail_desk
from tests.support.mail_samples import email_bytes
from tests.support.processes import wait_until
from workers.desk.agents import add_agent

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _postgresql_only(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("SQLite has no LISTEN: every use reads (the last test)")


@pytest.fixture
def listening(database_url: str) -> Iterator[Database]:
    """A worker process's database, listening as ``ConfigPin`` starts it at boot."""
    _postgresql_only(database_url)
    db = Database(database_url, pool_size=4)
    listener = db.listen_for_kept_reads()
    assert listener is not None and listener.listening.wait(10)
    yield db
    db.dispose()


def _reads_of(db: Database, table: str) -> list[str]:
    seen: list[str] = []

    def _seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if f"FROM {table}" in statement:
            seen.append(statement)

    for engine in {db.engine, db.read_engine}:
        event.listen(engine, "before_cursor_execute", _seen)
    return seen


def _ticket(db: Database) -> int:
    with db.unit_of_work() as uow:
        customer = uow.customers.identify(Channel.EMAIL, "jo@example.org", "Jo", NOW)
        return uow.tickets.create(
            subject="VPN down",
            channel=Channel.EMAIL,
            requester_id=customer.id,
            requester_address="jo@example.org",
            priority=Priority.HIGH,
            category="general",
            team_id=None,
            now=NOW,
        )


def _subscribe(db: Database, events: list[str]) -> int:
    """What the staff API and the CLI do (``WebhookRepository.add``), in another process's
    database object: its own engine and connections."""
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


def _settled(db: Database, number: int, reads: list[str]) -> None:
    """Events until one reads nothing: every change made before is heard."""
    for _ in range(50):
        before = len(reads)
        _note(db, number)
        if len(reads) == before:
            return
        time.sleep(0.05)
    raise AssertionError("the subscriptions were read at every event")


def add_agent_row(db: Database) -> None:
    with db.unit_of_work() as uow:
        uow.agents.add(
            name="zed",
            email="zed@relaydesk.localhost",
            display_name="",
            capacity=1,
            status=AgentStatus.OFFLINE,
            teams=(),
            skills={},
            now=NOW,
        )


def _deliveries(db: Database, webhook_id: int) -> int:
    with db.unit_of_work() as uow:
        return len(uow.webhook_deliveries.recent(webhook_id=webhook_id, limit=100))


def test_a_listening_worker_keeps_the_subscriptions_and_the_next_event_sees_a_new_one(
    listening: Database, database_url: str
) -> None:
    other = Database(database_url, pool_size=1)  # the API's or the CLI's process
    try:
        number = _ticket(other)
        first = _subscribe(other, ["ticket.note_added"])
        reads = _reads_of(listening, "webhooks")
        _settled(listening, number, reads)  # (the subscription's NOTIFY may come after a read)
        reads.clear()
        for _ in range(5):
            _note(listening, number)
        assert reads == []  # kept
        assert _deliveries(other, first) >= 6
        listener = listening.listen_for_kept_reads()
        assert listener is not None
        for round_ in range(20):
            handed = listener.handed
            new = _subscribe(other, ["ticket.note_added"])
            # once its NOTIFY reached the worker's socket (PostgreSQL's listening backend
            # sends it as the commit returns, or as soon as that backend runs), the next
            # event sees it, whether the listener's thread handed it over yet or not (20
            # rounds: 1 in 10-40 missed it while ``unheard`` was asked after the count)
            wait_until(lambda: listener.handed > handed or listener.unheard(), 10)  # noqa: B023
            _note(listening, number)
            assert _deliveries(other, new) == 1, round_
        _settled(listening, number, reads)
        reads.clear()
        handed = listener.handed
        with other.unit_of_work() as uow:  # another column of the row: nothing to read again
            hook = uow.webhooks.get(first)
            assert hook is not None
            uow.webhooks.set_active(hook, False, reason="test", now=NOW)
        add_agent_row(other)  # another table's change: nothing to read again either
        wait_until(lambda: listener.handed > handed, 10)  # (the agent's, after any before it)
        for _ in range(3):
            _note(listening, number)
        assert reads == []
    finally:
        other.dispose()


def test_a_worker_whose_listener_was_cut_reads_every_time_and_misses_no_subscription(
    listening: Database, database_url: str
) -> None:
    other = Database(database_url, pool_size=1)
    try:
        number = _ticket(other)
        _subscribe(other, ["ticket.note_added"])
        reads = _reads_of(listening, "webhooks")
        _note(listening, number)
        with other.engine.connect() as conn:  # the LISTEN connection dies
            cut = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN relaydesk_reads%' "
                    "AND datname = current_database()"
                )
            ).all()
        assert cut == [(True,)]
        listener = listening.listen_for_kept_reads()
        assert listener is not None
        wait_until(lambda: not listener.listening.is_set(), 10)
        new = _subscribe(other, ["ticket.note_added"])  # while nobody listens
        _note(listening, number)
        assert _deliveries(other, new) == 1
        wait_until(listener.listening.is_set, 10)
        before = len(reads)
        _note(listening, number)  # read once more after reconnecting, then kept
        _note(listening, number)
        assert len(reads) == before + 1 and _deliveries(other, new) == 3
    finally:
        other.dispose()


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[MailDesk]:
    _postgresql_only(database_url)
    yield from mail_desk(database_url, tmp_path)


def test_a_new_agents_first_mail_is_an_agents_though_the_addresses_are_kept(
    desk: MailDesk,
) -> None:
    db = desk.runtime.db
    listener = db.listen_for_kept_reads()
    assert listener is not None and listener.listening.wait(10)
    reads = _reads_of(db, "agents")
    number = desk.mail(email_bytes(subject="Printer", body="The printer is on fire."))
    desk.mail(email_bytes(sender="Al <al@example.org>", subject="Other", body="Hello"))
    assert sum(s.split() == ["SELECT", "agents.email", "FROM", "agents"] for s in reads) == 1
    add_agent(desk.runtime, name="zoe", email="Zoe@Relaydesk.localhost")
    reply = email_bytes(
        sender="Zoe <zoe@relaydesk.localhost>",
        to="support@relaydesk.localhost",
        subject=f"RE: [#{number}] Printer",
        body="Unplug it.",
    )
    assert desk.mail(reply) == number  # not a ticket of its own with Zoe as its requester
    last = desk.ticket(number).messages[-1]
    assert last.direction == "internal" and last.body_text == "Unplug it."


def test_without_a_listener_every_event_reads_the_subscriptions(db: Database) -> None:
    number = _ticket(db)
    reads = _reads_of(db, "webhooks")
    for round_ in range(3):
        new = _subscribe(db, ["ticket.note_added"])
        _note(db, number)
        assert _deliveries(db, new) == 1, round_
    assert len(reads) == 3


def test_a_database_whose_signal_trigger_is_disabled_is_read_each_time(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # a schema behind the code, a restore without triggers: nothing would ever be heard,
    # so nothing is kept (a review's finding: a new subscription got no deliveries)
    _postgresql_only(database_url)
    db = Database(database_url, pool_size=4)
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE webhooks DISABLE TRIGGER webhooks_kept_reads"))
    try:
        listener = db.listen_for_kept_reads()
        assert listener is not None and listener.listening.wait(10)
        wait_until(lambda: "missing or disabled" in caplog.text, timeout=10)
        assert not db.kept_reads._watches["webhooks"].listens()
        assert not db.kept_reads._watches["agents"].listens()
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE webhooks ENABLE TRIGGER webhooks_kept_reads"))
        db.dispose()
