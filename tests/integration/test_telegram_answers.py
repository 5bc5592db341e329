"""An agent who answers from the chat hears what became of the answer: "sent" once it
was delivered, and when it could not be, why and by which channel it went instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from router.errors import PermanentError
from router.vocabulary import AgentStatus, Channel
from store.models import CustomerIdentity, OutboxItem, Ticket
from tests.conftest import make_settings
from tests.support.desk import desk_for
from tests.support.telegram_desk import Chat, telegram_env
from tests.support.telegram_server import TelegramServer
from workers.channels.telegram_connector import TelegramConnector
from workers.desk.agents import set_agent_status

pytestmark = pytest.mark.integration

ANA, ANN = 5001, 9001
BLOCKED = "Forbidden: bot was blocked by the user"


@pytest.fixture
def patient_chat(
    database_url: str, telegram_server: TelegramServer, tmp_path: Any
) -> Iterator[Chat]:
    """Waits in place for a 429 of up to half a second only."""
    env = telegram_env(telegram_server, tmp_path, relaydesk_telegram__max_retry_after_s="0.5")
    for desk in desk_for(make_settings(database_url, **env)):
        set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)
        connector = TelegramConnector(desk.runtime, desk.intake)
        connector.start()
        try:
            yield Chat(desk, telegram_server)
        finally:
            connector.stop()


def answered(chat: Chat, text: str) -> None:
    """Ana is linked, Ann asks, Ana answers ``text`` from the notice."""
    chat.link("ana", ANA)
    chat.says(ANN, "Is my order on its way?")
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    chat.says(ANA, text, reply_to=notice["message_id"])


def test_sent_is_said_once_the_answer_was_delivered_not_when_it_was_queued(
    patient_chat: Chat,
) -> None:
    chat = patient_chat
    chat.server.fail_next("sendMessage", retry_after=2, chat_id=ANN)  # a flood on Ann's chat
    chat.link("ana", ANA)
    chat.says(ANN, "Is my order on its way?")
    chat.expect(ANN, "We have opened your request")
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    chat.server.fail_next("sendMessage", retry_after=2, chat_id=ANN)
    chat.says(ANA, "It left the warehouse today.", reply_to=notice["message_id"])
    delivered = chat.expect(ANN, "It left the warehouse today.")
    sent = chat.expect(ANA, "Sent to the customer by Telegram on #1.")
    assert sent["time"] >= delivered["time"]


def test_an_agent_hears_when_the_customer_blocked_the_bot(chat: Chat) -> None:
    chat.server.fail_next("sendMessage", count=2, status=403, description=BLOCKED, chat_id=ANN)
    answered(chat, "It left the warehouse today.")
    told = chat.expect(ANA, "Not delivered")
    assert "#1" in told["plain_text"] and "by Telegram" in told["plain_text"]
    assert "bot was blocked" in told["plain_text"]
    assert "no other way to reach them" in told["plain_text"]
    chat.desk.settle()
    assert not [m for m in chat.server.sent(ANA) if "Sent to the customer" in m["plain_text"]]


def test_an_answer_the_chat_refuses_goes_by_email_when_the_customer_has_an_address(
    chat: Chat,
) -> None:
    chat.link("ana", ANA)
    chat.says(ANN, "Is my order on its way?")
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    chat.expect(ANN, "We have opened your request")  # (the failure below is for the answer)
    with chat.desk.runtime.db.unit_of_work() as uow:  # the customer is known by email too
        customer_id = uow.session.scalars(select(Ticket.requester_id)).one()
        uow.session.add(
            CustomerIdentity(
                customer_id=customer_id,
                channel=Channel.EMAIL.value,
                address="ann@example.org",
                created_at=chat.desk.runtime.now(),
            )
        )
    chat.server.fail_next("sendMessage", status=403, description=BLOCKED, chat_id=ANN)
    chat.says(ANA, "It left the warehouse today.", reply_to=notice["message_id"])
    told = chat.expect(ANA, "Not delivered")
    assert "It went by email to ann@example.org instead." in told["plain_text"]
    (mail,) = chat.emails_to("ann@example.org", "It left the warehouse today.")
    assert mail.subject.startswith("Re: [#1]") and "Ana Lima, [#1]" in mail.body_text
    chat.expect(ANA, "Sent to the customer by email on #1.")


def test_an_email_customers_answer_is_confirmed_once_sent_or_reported_when_refused(
    chat: Chat,
) -> None:
    chat.link("ana", ANA)
    chat.desk.submit(
        "<q1@example.org>",
        sender="jo@example.org",
        channel=Channel.EMAIL,
        subject="Invoice missing",
        body="Where is my invoice?",
        external_id="<q1@example.org>",
    )
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    chat.desk.sender.failures.append(PermanentError("550 5.1.1 no such mailbox"))
    chat.says(ANA, "It is attached to your account now.", reply_to=notice["message_id"])
    told = chat.expect(ANA, "Not delivered")
    assert "by email (550 5.1.1 no such mailbox)" in told["plain_text"]
    chat.says(ANA, "Or write to billing@example.com.", reply_to=notice["message_id"])
    chat.expect(ANA, "Sent to the customer by email on #1.")
    chat.desk.settle()
    with chat.desk.runtime.db.unit_of_work() as uow:
        states = {r.state for r in uow.session.scalars(select(OutboxItem))}
    assert states == {"done", "failed"}
