"""A Telegram batch (rows of several chats, one ``ingest_together``) whose customer's reply
comes before a linked agent's action on the same ticket: the reply is written first, as
the rows came, because a chat update is read as it comes and an agent's acts at once."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from router.vocabulary import Channel, Direction, Status
from store.models import InboxItem, Message
from tests.support.telegram_desk import Chat
from workers.steps.ingest import ingest_together

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
    monkeypatch.setattr(runtime, "enqueue_accepted", lambda *a, **k: None)
    monkeypatch.setattr(runtime, "enqueue_ingest", lambda *a, **k: None)
    return notice, last


def _held_rows(chat: Chat, after: int, count: int) -> list[int]:
    deadline = time.monotonic() + 10
    while True:
        with chat.desk.runtime.db.unit_of_work() as uow:
            ids = list(
                uow.session.scalars(
                    select(InboxItem.id).where(InboxItem.id > after).order_by(InboxItem.id)
                )
            )
        if len(ids) >= count or time.monotonic() > deadline:
            return ids
        time.sleep(0.05)


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
    ids = _held_rows(chat, last, 2)
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
    ids = _held_rows(chat, last, 2)
    assert len(ids) == 2
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    assert [(d, b.split("\n")[0]) for d, b in _messages(chat, 1)] == [
        (Direction.INBOUND.value, "My printer is on fire"),
        (Direction.INBOUND.value, "still on fire"),
        (Direction.OUTBOUND.value, "Unplug it"),  # (then her signature)
    ]
