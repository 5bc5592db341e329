"""The search document of each ticket (migration 0023), on SQLite and PostgreSQL: kept up to
date in the transaction that writes a subject or a message, moved with a message that is
split out, built by the migration for the tickets already there, bounded for huge text."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import delete

from router.access import Principal
from router.ticket_list import TicketFilters, TicketOrder, decode_cursor
from router.vocabulary import Channel, Direction, Priority, Role
from store.db import Database, UnitOfWork
from store.migrate import alembic_config, upgrade
from store.models import Message
from store.ticket_list import TicketList

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ADMIN = Principal(
    agent_id=0, name="root", role=Role.ADMIN, teams=frozenset(), supervised=frozenset()
)


def found(db: Database, q: str, order: TicketOrder = TicketOrder.NUMBER) -> list[int]:
    with db.unit_of_work() as uow:
        page = TicketList(uow.session).page(
            ADMIN, TicketFilters(q=q), order=order, after=None, limit=50, now=NOW
        )
    return [t.number for t in page.tickets]


def pages_of(db: Database, q: str, order: TicketOrder, limit: int) -> list[list[int]]:
    """Every page of a search, following the cursors."""
    pages: list[list[int]] = []
    after = None
    while True:
        with db.unit_of_work() as uow:
            page = TicketList(uow.session).page(
                ADMIN, TicketFilters(q=q), order=order, after=after, limit=limit, now=NOW
            )
        pages.append([t.number for t in page.tickets])
        if page.next_cursor is None:
            return pages
        after = decode_cursor(order, page.next_cursor)


def open_ticket(db: Database, subject: str, *bodies: str) -> int:
    with db.unit_of_work() as uow:
        requester = uow.customers.identify(Channel.EMAIL, "jo@x.test", "Jo", NOW)
        number = uow.tickets.create(
            subject=subject,
            channel=Channel.EMAIL,
            requester_id=requester.id,
            requester_address="jo@x.test",
            priority=Priority.NORMAL,
            category="general",
            team_id=None,
            now=NOW,
        )
        for body in bodies:
            write(uow, number, body)
    return number


def write(uow: UnitOfWork, number: int, body: str) -> int:
    return uow.messages.add(
        number,
        direction=Direction.INBOUND,
        channel=Channel.EMAIL,
        author="Jo <jo@x.test>",
        body_text=body,
        now=NOW,
    )


def test_words_anywhere_in_a_ticket_find_it_together(db: Database) -> None:
    printer = open_ticket(db, "Printer trouble", "It smells of smoke.", "Now the toner leaks.")
    other = open_ticket(db, "Toner order", "Please send two cartridges.")

    assert found(db, "printer toner") == [printer]  # subject and a later message
    assert found(db, "smoke toner") == [printer]  # two messages
    assert found(db, "toner") == [printer, other]
    assert found(db, "smoke cartridges") == []


def test_a_message_split_out_is_found_on_its_new_ticket_only(db: Database) -> None:
    old = open_ticket(db, "Two questions", "First about invoices.", "Second about the vpn.")
    new = open_ticket(db, "The vpn question")
    with db.unit_of_work() as uow:
        moved = uow.session.query(Message).filter(Message.body_text.like("%vpn%")).one()
        moved.ticket_id = new

    assert found(db, "vpn second") == [new]
    assert found(db, "invoices") == [old]
    assert found(db, "second") == [new]


def test_a_deleted_message_and_a_changed_subject_leave_the_document(db: Database) -> None:
    number = open_ticket(db, "Refund please", "My card was charged twice.")
    with db.unit_of_work() as uow:
        uow.session.execute(delete(Message).where(Message.ticket_id == number))
        ticket = uow.tickets.get(number)
        assert ticket is not None
        ticket.subject = "Charge reversed"

    assert found(db, "twice") == []
    assert found(db, "refund") == []
    assert found(db, "reversed") == [number]
    with db.unit_of_work() as uow:
        write(uow, number, "Thanks, all good now.")
    assert found(db, "reversed good") == [number]


def test_a_ticket_of_huge_text_takes_every_message_and_is_found_by_its_start(
    db: Database,
) -> None:
    draw = random.Random(7)

    def noise() -> str:  # 100,000 characters of distinct words: a tsvector's worst case
        return " ".join("".join(draw.choices(string.ascii_lowercase, k=9)) for _ in range(10_000))

    number = open_ticket(db, "Log dump", "zebrafish " + noise())
    with db.unit_of_work() as uow:
        for _ in range(15):
            write(uow, number, noise())
        write(uow, number, "the last line")

    assert found(db, "zebrafish dump") == [number]
    with db.unit_of_work() as uow:
        assert len(uow.session.query(Message).filter(Message.ticket_id == number).all()) == 17


def test_the_migration_builds_the_documents_of_tickets_already_there(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.engine.begin() as conn:  # back to before the documents (keeping the data)
            cfg = alembic_config(db.url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0022")
        number = open_ticket(db, "Old printer", "It jams on every page.")
        upgrade(db)

        assert found(db, "printer jams") == [number]
        with db.unit_of_work() as uow:
            write(uow, number, "fixed by a new roller")
        assert found(db, "printer roller") == [number]
    finally:
        upgrade(db)  # the shared PostgreSQL database stays at the head for the next tests
        db.dispose()


def test_a_search_by_relevance_puts_the_best_match_first_and_pages_through_all(
    db: Database,
) -> None:
    passing = open_ticket(db, "Question", "By the way: is there a vpn?")
    about = open_ticket(db, "VPN down", "The vpn drops every hour.", "Still no vpn, vpn!")
    other = open_ticket(db, "Printer", "Nothing about networks.")
    more = [open_ticket(db, f"Ticket {i}", "vpn again") for i in range(5)]

    ranked = found(db, "vpn", TicketOrder.RELEVANCE)
    assert ranked[0] == about and ranked[-1] == passing
    assert sorted(ranked) == sorted([passing, about, *more]) and other not in ranked
    pages = pages_of(db, "vpn", TicketOrder.RELEVANCE, limit=2)
    assert [n for page in pages for n in page] == ranked  # no ticket twice, none left out
    assert all(len(page) <= 2 for page in pages)
    with pytest.raises(ValueError, match="relevance"):
        found(db, "  ", TicketOrder.RELEVANCE)
