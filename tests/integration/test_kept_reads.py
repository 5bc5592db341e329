"""The agents' addresses are kept in a listening worker process until a change of them is
heard (a trigger's NOTIFY on PostgreSQL, whoever wrote it): a new agent's first mail is an
agent's. Without a listener (SQLite, or a process that never listens, or while it
reconnects) every use reads, as before. (The webhook subscriptions were kept so too, until
the capture read them in its statement: ``test_webhook_subscriptions_read.py``.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, text

from router.vocabulary import AgentStatus
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


def _agents_known(db: Database) -> frozenset[str]:
    """The agents' addresses as an ingest batch asks for them."""
    with db.unit_of_work() as uow:
        return uow.agent_emails()


def add_agent_row(db: Database, name: str = "zed") -> str:
    with db.unit_of_work() as uow:
        uow.agents.add(
            name=name,
            email=f"{name}@relaydesk.localhost",
            display_name="",
            capacity=1,
            status=AgentStatus.OFFLINE,
            teams=(),
            skills={},
            now=NOW,
        )
    return f"{name}@relaydesk.localhost"


def test_a_worker_whose_listener_was_cut_reads_every_time_and_misses_no_agent(
    listening: Database, database_url: str
) -> None:
    other = Database(database_url, pool_size=1)
    try:
        reads = _reads_of(listening, "agents")
        _agents_known(listening)
        listener = listening.listen_for_kept_reads()
        assert listener is not None
        with other.engine.connect() as conn:  # the LISTEN connection dies
            cut = conn.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.backend_pid}
            ).all()
        assert cut == [(True,)]
        wait_until(lambda: not listener.listening.is_set(), 10)
        new = add_agent_row(other)  # while nobody listens
        assert new in _agents_known(listening)
        wait_until(listener.listening.is_set, 10)
        before = len(reads)
        assert new in _agents_known(listening)  # read once more after reconnecting, then kept
        assert new in _agents_known(listening)
        assert len(reads) == before + 1
    finally:
        other.dispose()


def test_routings_load_changes_leave_the_kept_addresses_alone(
    listening: Database, database_url: str
) -> None:
    # the trigger fires on ``UPDATE OF email`` alone: routing's ``SET load`` on every
    # ticket (and a status change) must not make the addresses be read again
    other = Database(database_url, pool_size=1)
    listener = listening.listen_for_config_changes()  # (its channel: the barrier below)
    assert listener is not None and listener is listening.listen_for_kept_reads()
    wait_until(listener.listening.is_set, 10)
    try:
        address = add_agent_row(other)
        wait_until(lambda: listener.handed >= 1, 10)  # (the agent's INSERT heard)
        reads = _reads_of(listening, "agents")
        assert address in _agents_known(listening)
        handed = listener.handed
        with other.engine.begin() as conn:
            conn.execute(text("UPDATE agents SET load = load + 1, status = 'online'"))
        with other.engine.begin() as conn:  # heard after anything the UPDATE sent
            conn.execute(text("NOTIFY relaydesk_config"))
        wait_until(lambda: listener.handed > handed, 10)
        assert listener.handed == handed + 1
        assert address in _agents_known(listening)
        assert len(reads) == 1
        with other.engine.begin() as conn:  # an email change is heard and read again
            conn.execute(text("UPDATE agents SET email = 'zed2@relaydesk.localhost'"))
        wait_until(lambda: listener.handed > handed + 1, 10)
        assert "zed2@relaydesk.localhost" in _agents_known(listening)
        assert len(reads) == 2
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


def test_without_a_listener_every_batch_reads_the_agents(db: Database) -> None:
    reads = _reads_of(db, "agents")
    for round_ in range(3):
        new = add_agent_row(db, f"zed{round_}")
        assert new in _agents_known(db), round_
    assert len(reads) == 3


def test_a_database_whose_signal_trigger_is_disabled_is_read_each_time(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # a schema behind the code, a restore without triggers: nothing would ever be heard,
    # so nothing is kept (a review's finding: a new subscription got no deliveries)
    _postgresql_only(database_url)
    db = Database(database_url, pool_size=4)
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE agents DISABLE TRIGGER agents_kept_reads"))
    try:
        listener = db.listen_for_kept_reads()
        assert listener is not None and listener.listening.wait(10)
        wait_until(lambda: "missing or disabled" in caplog.text, timeout=10)
        assert not db.kept_reads._watches["agents"].listens()
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE agents ENABLE TRIGGER agents_kept_reads"))
        db.dispose()
