"""A Telegram batch (rows of several chats, one ``ingest_together``) whose customer's reply
comes before a linked agent's action on the same ticket: the reply is written first, as
the rows came, because a chat update is read as it comes and an agent's acts at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select, update

from router.errors import TransientError
from router.vocabulary import Channel, Direction, Status
from store.models import CustomerIdentity, InboxItem, Message, OutboxItem, Ticket
from tests.support.telegram_desk import Chat, held_rows, hold_updates
from workers.desk.customers import merge_customers
from workers.steps.ingest import ingest, ingest_together
from workers.steps.ingest_writes import IngestWrites

pytestmark = pytest.mark.integration

ANA, ANN = 5001, 9001


def _opened_and_held(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], int]:
    """#1 opened by ANN and assigned to ana (her notice); later updates are accepted and
    held (not queued), so the test ingests them as one batch. The last inbox row so far."""
    chat.link("ana", ANA)
    chat.says(ANN, "My printer is on fire")
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    chat.desk.settle()
    runtime = chat.desk.runtime
    with runtime.db.unit_of_work() as uow:
        last = uow.session.scalar(select(InboxItem.id).order_by(InboxItem.id.desc()).limit(1))
    assert last is not None
    hold_updates(chat, monkeypatch)
    return notice, last


def _messages(chat: Chat, number: int) -> list[tuple[str, str]]:
    with chat.desk.runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Message.direction, Message.body_text)
            .where(Message.ticket_id == number)
            .order_by(Message.id)
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_a_customers_reply_then_the_agents_resolve_in_one_batch_ends_resolved(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    notice, last = _opened_and_held(chat, monkeypatch)
    chat.says(ANN, "still on fire")  # first
    chat.server.callback(ANA, notice["message_id"], "rd:resolve:1", user_id=ANA)
    ids = held_rows(chat, last, 2)
    assert len(ids) == 2
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    assert chat.desk.ticket(1).status == Status.RESOLVED.value
    actions = chat.actions(1)
    received = actions.index(("system:ingest", "message.received"))
    assert received < actions.index(("agent:ana", "ticket.status"))
    assert [b for _, b in _messages(chat, 1)] == ["My printer is on fire", "still on fire"]


def test_a_customers_reply_then_the_agents_answer_in_one_batch_keep_their_order(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    notice, last = _opened_and_held(chat, monkeypatch)
    chat.says(ANN, "still on fire")  # first
    chat.says(ANA, "Unplug it", reply_to=notice["message_id"])
    ids = held_rows(chat, last, 2)
    assert len(ids) == 2
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    assert [(d, b.split("\n")[0]) for d, b in _messages(chat, 1)] == [
        (Direction.INBOUND.value, "My printer is on fire"),
        (Direction.INBOUND.value, "still on fire"),
        (Direction.OUTBOUND.value, "Unplug it"),  # (then her signature)
    ]


def test_a_customers_reply_then_the_agents_note_in_one_batch_keep_their_order(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent's command acts as it is read, as her answer does."""
    _notice, last = _opened_and_held(chat, monkeypatch)
    chat.says(ANN, "still on fire")  # first
    chat.says(ANA, "/note #1 she sounds calm")
    ids = held_rows(chat, last, 2)
    assert len(ids) == 2
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    assert [b.split("\n")[0] for _, b in _messages(chat, 1)] == [
        "My printer is on fire",
        "still on fire",
        "she sounds calm",
    ]


def _tickets(chat: Chat) -> dict[int, list[str]]:
    """Each ticket's messages, by number."""
    with chat.desk.runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Message.ticket_id, Message.body_text).order_by(Message.id)
        ).all()
    found: dict[int, list[str]] = {}
    for number, body in rows:
        found.setdefault(number, []).append(body)
    return found


def _inserts(chat: Chat) -> tuple[list[str], Callable[..., None]]:
    """The tables of the INSERT statements this thread sends: a listener to remove after."""
    mine, seen = threading.get_ident(), []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.get_ident() == mine and statement.startswith("INSERT INTO"):
            seen.append(statement.split()[2])

    event.listen(chat.desk.runtime.db.engine, "before_cursor_execute", record)
    return seen, record


def test_customers_messages_of_many_chats_in_one_batch_are_written_together(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A customer's message does not act as it is read: twenty chats' first messages are
    twenty tickets in one INSERT, and their messages in one (twenty of each before)."""
    hold_updates(chat, monkeypatch)
    chats = [9100 + n for n in range(20)]
    for chat_id in chats:
        chat.says(chat_id, f"question {chat_id}")
    ids = held_rows(chat, 0, 20)
    assert len(ids) == 20
    seen, listener = _inserts(chat)
    try:
        assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    finally:
        event.remove(chat.desk.runtime.db.engine, "before_cursor_execute", listener)
    assert seen.count("tickets") == 1 and seen.count("messages") == 1
    assert sorted(_tickets(chat).values()) == sorted([f"question {c}"] for c in chats)


def test_a_merged_customers_two_chats_in_one_batch_are_one_ticket(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat threads on its customer's open ticket: after a merge, one customer writes
    from two chats, and the second chat's message of a batch joins the ticket the first
    chat's opens in it (review of cbea1b2: keyed on the chat, it opened a second)."""
    runtime = chat.desk.runtime
    chat.says(9301, "hello from my phone")
    chat.says(9302, "hello from my laptop")
    deadline = time.monotonic() + 15
    while len(_tickets(chat)) < 2:
        assert time.monotonic() < deadline, _tickets(chat)
        chat.desk.settle()
        time.sleep(0.05)
    with runtime.db.unit_of_work() as uow:
        uow.session.execute(update(Ticket).values(status=Status.CLOSED.value))
        owners = dict(
            uow.session.execute(
                select(CustomerIdentity.address, CustomerIdentity.customer_id)
            ).all()
        )
        last = uow.session.scalar(select(InboxItem.id).order_by(InboxItem.id.desc()).limit(1))
    assert last is not None
    merge_customers(runtime, owners["9302"], owners["9301"])
    hold_updates(chat, monkeypatch)
    chat.says(9301, "it broke again")
    chat.says(9302, "see my phone's message")
    ids = held_rows(chat, last, 2)
    assert len(ids) == 2
    assert ingest_together(runtime, ids, Channel.TELEGRAM).ok
    opened = [m for m in _tickets(chat).values() if m[0] == "it broke again"]
    assert opened == [["it broke again", "see my phone's message"]], _tickets(chat)


def test_a_chats_second_message_in_its_batch_joins_the_ticket_its_first_opened(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat's rows may share a batch (ingested in order); its message threads on the
    chat's open ticket, found in the store: a row of the same chat decided before it is
    written first, and an edit finds the message it edits."""
    hold_updates(chat, monkeypatch)
    first = chat.says(ANN, "My printer is on fire")
    chat.says(9002, "Hello")
    chat.says(ANN, "it smokes")
    chat.server.edited_message(ANN, first, "My printer is on fire!")
    ids = held_rows(chat, 0, 4)
    assert len(ids) == 4
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    tickets = _tickets(chat)
    assert sorted(tickets) == [1, 2]
    assert [b.split("\n")[0] for b in tickets[1]][:2] == ["My printer is on fire", "it smokes"]
    assert len(tickets[1]) == 3  # and the edit, on its message's ticket
    assert tickets[2] == ["Hello"]


def test_a_customers_status_after_their_first_message_in_one_batch_lists_its_ticket(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_updates(chat, monkeypatch)
    chat.says(ANN, "My printer is on fire")
    chat.says(ANN, "/status")
    ids = held_rows(chat, 0, 2)
    assert len(ids) == 2
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    chat.desk.settle()
    chat.expect(ANN, "[#1] My printer is on fire")


FOLLOW_UPS = [  # an update after the chat's first message, and what the bot answers it
    ({"text": "/new"}, "your next message opens a new request"),
    ({"text": "/status"}, "[#1] My printer is on fire"),
    ({"text": "/help"}, "Write your question here"),
    ({"text": "/sudo"}, "I do not know the command /sudo"),
    ({"sticker": True}, "cannot read stickers"),
]


def _acknowledged_before(chat: Chat, answer: str) -> None:
    """The chat reads the acknowledgement of #1, then ``answer``."""
    chat.desk.settle()
    chat.expect(ANN, "We have opened your request [#1]")
    chat.expect(ANN, answer)
    texts = [m["plain_text"] for m in chat.server.sent(ANN)]
    opened = next(i for i, t in enumerate(texts) if "We have opened your request [#1]" in t)
    answered = next(i for i, t in enumerate(texts) if answer in t)
    assert opened < answered, texts


@pytest.mark.parametrize(
    ("update", "answer"), FOLLOW_UPS, ids=["new", "status", "help", "unknown", "sticker"]
)
def test_a_new_tickets_acknowledgement_comes_before_the_answer_to_the_chats_next_update(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, update: dict[str, Any], answer: str
) -> None:
    """Review of 394dc76: in one batch the acknowledgements were owed to its end while
    the answer to the next update was queued at once (a chat's outbox goes out in id
    order), so the chat read /new's answer before "We have opened your request [#1]"."""
    hold_updates(chat, monkeypatch)
    chat.says(ANN, "My printer is on fire")
    chat.says(ANN, **update)
    ids = held_rows(chat, 0, 2)
    assert len(ids) == 2
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    _acknowledged_before(chat, answer)


def test_row_by_row_the_acknowledgement_comes_before_the_answer_to_new(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order a batch must keep: its rows ingested one at a time."""
    hold_updates(chat, monkeypatch)
    chat.says(ANN, "My printer is on fire")
    chat.says(ANN, "/new")
    ids = held_rows(chat, 0, 2)
    assert len(ids) == 2
    for inbox_id in ids:
        ingest(chat.desk.runtime, inbox_id, Channel.TELEGRAM)
    _acknowledged_before(chat, "your next message opens a new request")


def test_an_agents_answer_in_the_batch_comes_after_the_acknowledgement_before_it(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A customer's /new and next message open #2 (its acknowledgement owed); the agent's
    answer on #1, later in the batch, is queued in her chat as it is read."""
    notice, last = _opened_and_held(chat, monkeypatch)
    chat.says(ANN, "/new")
    chat.says(ANN, "Second problem: billing")
    chat.says(ANA, "Unplug it", reply_to=notice["message_id"])
    ids = held_rows(chat, last, 3)
    assert len(ids) == 3
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    chat.desk.settle()
    chat.expect(ANN, "Unplug it")
    texts = [m["plain_text"] for m in chat.server.sent(ANN)]
    opened = next(i for i, t in enumerate(texts) if "We have opened your request [#2]" in t)
    answered = next(i for i, t in enumerate(texts) if "Unplug it" in t)
    assert opened < answered, texts


def test_a_batch_that_fails_after_a_chats_acknowledgement_keeps_nothing_of_it(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sticker after the chat's first message writes that row, and queues its
    acknowledgement, in the middle of the batch: when the batch then fails, the
    acknowledgement goes with the rest (one transaction), and the rows ingested one at a
    time afterwards say it once, before the sticker's answer."""
    hold_updates(chat, monkeypatch)
    chat.says(ANN, "My printer is on fire")
    chat.says(ANN, sticker=True)
    chat.says(ANN, "/status")
    ids = held_rows(chat, 0, 3)
    assert len(ids) == 3
    runtime = chat.desk.runtime
    writes = {"calls": 0}
    queued: list[int] = []  # the outbox in the batch's transaction when it fails
    write = IngestWrites.write

    def fails_the_second_time(self: IngestWrites) -> None:
        writes["calls"] += 1
        if writes["calls"] == 2:
            queued.extend(self.uow.session.scalars(select(OutboxItem.id)))
            raise TransientError("the store went away")
        write(self)

    with monkeypatch.context() as patched:
        patched.setattr(IngestWrites, "write", fails_the_second_time)
        assert not ingest_together(runtime, ids, Channel.TELEGRAM).ok
    assert writes["calls"] == 2  # the sticker's write, then the batch's last
    assert len(queued) == 3  # the acknowledgement, the sticker's and /status's answers
    with runtime.db.unit_of_work() as uow:
        assert uow.session.scalars(select(OutboxItem.id)).all() == []
        assert uow.session.scalars(select(Ticket.id)).all() == []
    for inbox_id in ids:
        ingest(runtime, inbox_id, Channel.TELEGRAM)
    chat.desk.settle()
    chat.expect(ANN, "Your requests")  # the last answer (PostgreSQL's ticket is #2: the
    texts = [m["plain_text"] for m in chat.server.sent(ANN)]  # failed batch took #1's id)
    opened = [i for i, t in enumerate(texts) if "We have opened your request [#" in t]
    sticker = [i for i, t in enumerate(texts) if "cannot read stickers" in t]
    assert len(opened) == 1 and len(sticker) == 1 and opened[0] < sticker[0], texts
