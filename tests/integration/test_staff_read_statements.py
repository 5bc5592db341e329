"""A staff ticket read's and a list's statements, on SQLite and PostgreSQL: the scope decided
on the row that carries the conversation, each message with its files in the same
statement, a list's SLA facts in its page's statement, and on PostgreSQL no transaction
around the reads (no BEGIN and COMMIT round trips) and no parallel workers for them (set
on their connections, not per list)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import event, text

from router.access import Ability, Principal, Verdict
from router.ticket_list import TicketFilters
from router.vocabulary import Channel, Direction
from store.models.mail import Attachment
from store.staff_ticket_reads import StaffTicketReads
from tests.support.staff import StaffDesk, staff_desk
from workers.desk.api_tokens import token_caller
from workers.desk.ticket_reads import staff_ticket_for, ticket_page, version_for


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[StaffDesk]:
    with staff_desk(database_url, relaydesk_email__attachments_dir=str(tmp_path)) as staff:
        yield staff


@contextmanager
def statements(desk: StaffDesk) -> Iterator[list[tuple[str, Any]]]:
    """The queries run meanwhile (SQLite's BEGIN left out), each with the transaction
    status after it (PostgreSQL; None on SQLite)."""
    seen: list[tuple[str, Any]] = []

    def after(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            return
        info = getattr(cursor.connection, "info", None)
        seen.append((statement, getattr(info, "transaction_status", None)))

    engines = {desk.runtime.db.engine, desk.runtime.db.read_engine}
    for engine in engines:
        event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "after_cursor_execute", after)


def principal(desk: StaffDesk, name: str) -> Principal:
    caller = token_caller(desk.runtime, desk.token(name), address=None)
    assert caller is not None
    return caller.principal


def write(desk: StaffDesk, number: int, text: str, files: int = 0) -> int:
    with desk.runtime.db.unit_of_work() as uow:
        message = uow.messages.add(
            number,
            direction=Direction.INBOUND,
            channel=Channel.EMAIL,
            author="Jo <jo@x.test>",
            body_text=text,
            now=desk.clock(),
        )
        for i in range(files):
            uow.session.add(
                Attachment(
                    message_id=message,
                    filename=f"{text}-{i}.txt",
                    content_type="text/plain",
                    size=i + 1,
                    sha256=f"{i:02d}" * 32,
                )
            )
    return message


def test_a_read_is_three_statements_outside_a_transaction_and_its_version_one(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    write(desk, number, "first", files=2)
    write(desk, number, "second")
    write(desk, number, "third", files=3)
    ana, kim = principal(desk, "ana"), principal(desk, "kim")
    with statements(desk) as seen:
        verdict, ticket = staff_ticket_for(desk.runtime, ana, number, Ability.VIEW_TICKET)
    assert verdict is Verdict.ALLOWED and ticket is not None
    assert len(seen) == 3, [s for s, _ in seen]  # the ticket with its conversation, clocks, audit
    if desk.runtime.db.dialect == "postgresql":
        assert {status for _, status in seen} == {TransactionStatus.IDLE}
    # each message once, in order, with its own files in order
    assert [(m.body_text, [a.filename for a in m.attachments]) for m in ticket.messages] == [
        ("first", ["first-0.txt", "first-1.txt"]),
        ("second", []),
        ("third", ["third-0.txt", "third-1.txt", "third-2.txt"]),
    ]
    with desk.runtime.db.unit_of_work() as uow:  # as a write checks If-Match
        row = uow.tickets.get(number)
        assert row is not None
        assert StaffTicketReads(uow.session).version(row) == ticket.version
    with statements(desk) as seen:
        assert version_for(desk.runtime, ana, number) == ticket.version
    assert len(seen) == 1
    # out of scope: hidden, from the same one statement; no such ticket: hidden too
    with statements(desk) as seen:
        assert staff_ticket_for(desk.runtime, kim, number, Ability.VIEW_TICKET) == (
            Verdict.HIDDEN,
            None,
        )
    assert len(seen) == 1
    assert version_for(desk.runtime, kim, number) is None
    assert staff_ticket_for(desk.runtime, ana, number + 99, Ability.VIEW_TICKET) == (
        Verdict.HIDDEN,
        None,
    )
    assert version_for(desk.runtime, ana, number + 99) is None


def test_a_list_page_is_one_statement_without_a_transaction_or_parallel_workers(
    desk: StaffDesk,
) -> None:
    numbers = [desk.ticket("support", None) for _ in range(3)]
    ana = principal(desk, "ana")
    with statements(desk) as seen:
        page = ticket_page(desk.runtime, ana, TicketFilters(), limit=2)
    assert [t.number for t in page.tickets] == numbers[::-1][:2]
    assert len(seen) == 1, [s for s, _ in seen]  # the page with its SLA clocks
    db = desk.runtime.db
    if db.dialect != "postgresql":
        return
    assert {status for _, status in seen} == {TransactionStatus.IDLE}
    show = text("SHOW max_parallel_workers_per_gather")
    with db.reading() as session:
        assert session.scalar(show) == "0"
    with db.unit_of_work() as uow:  # reports and other long reads keep parallel plans
        assert uow.session.scalar(show) != "0"
