"""A customer's files reach the agent: named in the notice (never a bare "(files)"), and
forwarded into the agent's chat when within the size limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from router.vocabulary import AgentStatus
from tests.conftest import make_settings
from tests.support.desk import desk_for
from tests.support.telegram_desk import Chat, telegram_env
from tests.support.telegram_server import TelegramServer
from workers.channels.telegram_connector import TelegramConnector
from workers.desk.agents import set_agent_status

pytestmark = pytest.mark.integration

ANA, ANN = 5001, 9001
INVOICE = b"%PDF-1.4 the invoice"


@pytest.fixture
def small_files_chat(
    database_url: str, telegram_server: TelegramServer, tmp_path: Any
) -> Iterator[Chat]:
    """Files of up to 100 bytes pass through the chat."""
    env = telegram_env(telegram_server, tmp_path, relaydesk_telegram__max_attachment_bytes="100")
    for desk in desk_for(make_settings(database_url, **env)):
        set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)
        connector = TelegramConnector(desk.runtime, desk.intake)
        connector.start()
        try:
            yield Chat(desk, telegram_server)
        finally:
            connector.stop()


def test_a_message_of_files_alone_is_shown_by_the_files_names(chat: Chat) -> None:
    chat.link("ana", ANA)
    chat.says(ANN, document=INVOICE, file_name="invoice.pdf")
    notice = chat.expect(ANA, "Assigned to you: [#1]")["plain_text"]
    assert "invoice.pdf" in notice and "(files)" not in notice
    assert "invoice.pdf" in chat.ticket(1).messages[0].body_text


def test_the_agent_gets_the_customers_files_within_the_size_limit(
    small_files_chat: Chat,
) -> None:
    chat = small_files_chat
    chat.link("ana", ANA)
    chat.says(ANN, "The invoice is wrong", document=INVOICE, file_name="invoice.pdf")
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    forwarded = chat.server.wait_for(lambda m: m["chat_id"] == ANA and "document" in m)
    assert forwarded["document"]["file_name"] == "invoice.pdf"
    assert forwarded["document"]["content"] == INVOICE
    assert "[#1]" in forwarded["plain_text"]
    assert forwarded["message_id"] > notice["message_id"]  # right after its notice

    chat.says(ANN, "And the log", document=b"x" * 500, file_name="big.log")
    replied = chat.expect(ANA, "New reply from the customer: [#1]")["plain_text"]
    assert "big.log" in replied and "too large" in replied
    chat.desk.settle()
    documents = [m for m in chat.server.sent(ANA) if "document" in m]
    assert [d["document"]["file_name"] for d in documents] == ["invoice.pdf"]

    chat.says(ANA, "Thanks, fixed.", reply_to=forwarded["message_id"])  # answers its ticket
    chat.expect(ANN, "Thanks, fixed.")
