"""A Telegram batch locks its customers' open tickets up front only for the customers
whose first message comes before its first reading that acts: an agent's answer locks
its ticket as its row is read, so a later customer's ticket is locked after it, in row
order (review rev-tg1 M1: all locked up front, two batches could lock two tickets in
opposite orders and deadlock, where row order had them wait)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from router.vocabulary import Channel, Direction
from store.chats import ChatRepository
from store.models import CustomerIdentity, InboxItem, Message
from tests.support.telegram_desk import Chat, held_rows, hold_updates
from workers.steps.ingest import Batch, ingest_together

pytestmark = pytest.mark.integration

ANA, ANN, BOB, CAT = 5001, 9001, 9002, 9003


def _three_open(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[int, int], int]:
    """#1 of ANN, #2 of BOB, #3 of CAT, all assigned to ana; later updates are held. The
    notice of each ticket (by number) and the last inbox row so far."""
    chat.link("ana", ANA)
    notices = {}
    for number, customer in enumerate((ANN, BOB, CAT), start=1):
        chat.says(customer, f"problem {number}")
        notices[number] = chat.expect(ANA, f"Assigned to you: [#{number}]")["message_id"]
    chat.desk.settle()
    with chat.desk.runtime.db.unit_of_work() as uow:
        last = uow.session.scalar(select(InboxItem.id).order_by(InboxItem.id.desc()).limit(1))
    assert last is not None
    hold_updates(chat, monkeypatch)
    return notices, last


def _customer(chat: Chat, chat_id: int) -> int:
    with chat.desk.runtime.db.unit_of_work() as uow:
        found = uow.session.scalar(
            select(CustomerIdentity.customer_id).where(CustomerIdentity.address == str(chat_id))
        )
    assert found is not None
    return found


def _bodies(chat: Chat, number: int) -> list[tuple[str, str]]:
    with chat.desk.runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Message.direction, Message.body_text)
            .where(Message.ticket_id == number)
            .order_by(Message.id)
        ).all()
    return [(d, b.split("\n")[0]) for d, b in rows]


def _answered_between(chat: Chat, notices: dict[int, int], last: int) -> list[int]:
    """ANN writes on #1, ana answers #3, BOB writes on #2: the batch's three rows."""
    chat.says(ANN, "still on fire")
    chat.says(ANA, "Unplug it", reply_to=notices[3])
    chat.says(BOB, "and mine too")
    ids = held_rows(chat, last, 3)
    assert len(ids) == 3
    return ids


def _check_threaded(chat: Chat) -> None:
    inbound, outbound = Direction.INBOUND.value, Direction.OUTBOUND.value
    assert _bodies(chat, 1) == [(inbound, "problem 1"), (inbound, "still on fire")]
    assert _bodies(chat, 2) == [(inbound, "problem 2"), (inbound, "and mine too")]
    assert _bodies(chat, 3) == [(inbound, "problem 3"), (outbound, "Unplug it")]


def test_open_tickets_are_looked_up_only_for_customers_before_the_first_acting_row(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ANN's message comes before ana's answer, BOB's after it: only ANN's open ticket is
    looked up (and locked) with the batch; BOB's row asks for its own when it is read.
    (Before, both were, and BOB's was forgotten unused at ana's answer.)"""
    notices, last = _three_open(chat, monkeypatch)
    ids = _answered_between(chat, notices, last)
    asked: list[list[int]] = []
    look_up = ChatRepository.look_up_open_tickets

    def spied(self: ChatRepository, customer_ids: Iterable[int]) -> None:
        wanted = list(customer_ids)
        asked.append(wanted)
        look_up(self, wanted)

    monkeypatch.setattr(ChatRepository, "look_up_open_tickets", spied)
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    assert asked == [[_customer(chat, ANN)]]
    _check_threaded(chat)


def test_a_batch_reaches_its_acting_row_before_locking_a_later_customers_ticket(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction holds #2 (BOB's): the batch waits for it only at BOB's row,
    after ana's answer has locked #3, as the rows came (before, the batch waited for #2
    up front, before reading any row, and so locked #2 before #3)."""
    engine = chat.desk.runtime.db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite's writer lock is the database's)")
    notices, last = _three_open(chat, monkeypatch)
    ids = _answered_between(chat, notices, last)
    done: list[Batch] = []
    with engine.connect() as holder, engine.connect() as looker:
        holder.execute(text("SELECT id FROM tickets WHERE id = 2 FOR UPDATE"))
        held_by = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
        batch = threading.Thread(
            target=lambda: done.append(ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM))
        )
        batch.start()
        try:
            deadline = time.monotonic() + 20
            while not looker.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE :h = ANY(pg_blocking_pids(pid))"),
                {"h": held_by},
            ).scalar_one():
                assert batch.is_alive() and time.monotonic() < deadline, done
                looker.rollback()
                time.sleep(0.02)  # (polling: the batch waits until #2 is let go)
            looker.rollback()
            with pytest.raises(OperationalError, match="could not obtain lock"):
                looker.execute(text("SELECT id FROM tickets WHERE id = 3 FOR UPDATE NOWAIT"))
            looker.rollback()
        finally:
            holder.rollback()
            batch.join(30)
    assert [b.ok for b in done] == [True]
    _check_threaded(chat)
