"""Delivery to Telegram under its limits: a flood waits as long as Telegram asks and never
fails a message; one chat's messages leave in the order they were written."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from router.vocabulary import AgentStatus
from store.models import OutboxItem
from tests.conftest import make_settings
from tests.support.desk import desk_for
from tests.support.telegram_desk import Chat, telegram_env
from tests.support.telegram_server import TelegramServer
from workers.channels.telegram_connector import TelegramConnector
from workers.desk.agents import set_agent_status

pytestmark = pytest.mark.integration

ANA = 5001
ANN = 9001


def chat_desk(
    database_url: str, server: TelegramServer, tmp_path: Any, **env: str
) -> Iterator[Chat]:
    settings = make_settings(database_url, **telegram_env(server, tmp_path, **env))
    for desk in desk_for(settings):
        set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)
        connector = TelegramConnector(desk.runtime, desk.intake)
        connector.start()
        try:
            yield Chat(desk, server)
        finally:
            connector.stop()


def sends_to(server: TelegramServer, chat_id: int) -> list[dict[str, Any]]:
    return [
        c
        for c in server.calls
        if c["method"] == "sendMessage" and str(c["params"].get("chat_id")) == str(chat_id)
    ]


def outbox(chat: Chat) -> list[OutboxItem]:
    with chat.desk.runtime.db.unit_of_work() as uow:
        rows = list(uow.session.scalars(select(OutboxItem).order_by(OutboxItem.id)))
        uow.session.expunge_all()
    return rows


@pytest.fixture
def patient_chat(
    database_url: str, telegram_server: TelegramServer, tmp_path: Any
) -> Iterator[Chat]:
    """Waits in place for a 429 of up to half a second only; two delivery attempts."""
    yield from chat_desk(
        database_url,
        telegram_server,
        tmp_path,
        relaydesk_telegram__max_retry_after_s="0.5",
        relaydesk_retries__deliver__max_attempts="2",
        relaydesk_retries__deliver__min_backoff_ms="100",
    )


def test_a_long_flood_wait_delays_the_message_as_asked_without_spending_attempts(
    patient_chat: Chat,
) -> None:
    chat = patient_chat
    chat.server.fail_next("sendMessage", retry_after=3)
    chat.says(ANN, "Anyone there?")
    ack = chat.expect(ANN, "We have opened your request [#1]", timeout=15)
    tries = sends_to(chat.server, ANN)
    assert [t["status"] for t in tries] == [429, 200]  # not one try before its time
    assert ack["time"] - tries[0]["time"] >= 3.0
    chat.desk.settle()
    (row,) = [r for r in outbox(chat) if r.kind == "acknowledgement"]
    assert (row.state, row.attempts) == ("done", 1)


def test_a_flood_longer_than_every_attempt_still_ends_delivered(patient_chat: Chat) -> None:
    chat = patient_chat
    chat.server.fail_next("sendMessage", count=4, retry_after=1)  # twice the attempts
    chat.says(ANN, "Anyone there?")
    chat.expect(ANN, "We have opened your request [#1]", timeout=20)
    assert [t["status"] for t in sends_to(chat.server, ANN)] == [429] * 4 + [200]
    chat.desk.settle()
    assert {r.state for r in outbox(chat)} == {"done"}


@pytest.fixture
def slow_chat(database_url: str, telegram_server: TelegramServer, tmp_path: Any) -> Iterator[Chat]:
    """Telegram's own pace: one message a second in a chat."""
    yield from chat_desk(
        database_url, telegram_server, tmp_path, relaydesk_telegram__messages_per_chat_s="1"
    )


def test_a_chats_messages_leave_in_the_order_they_were_written_while_they_wait(
    slow_chat: Chat,
) -> None:
    chat = slow_chat
    for customer in range(ANN, ANN + 4):  # four tries, as the report had
        chat.says(customer, "First question")
        chat.expect(customer, "We have opened your request")
        chat.says(customer, "/status")
        chat.says(customer, "/new")
        chat.says(customer, "Second question")
    for customer in range(ANN, ANN + 4):
        chat.server.wait_until(partial(chat.server.has_sent, customer, 4), timeout=20)
        texts = [m["plain_text"] for m in chat.server.sent(customer)][1:]
        assert "Your requests" in texts[0], texts
        assert "your next message opens a new request" in texts[1], texts
        assert "We have opened your request" in texts[2], texts
