"""What people see in the chat: plain words for strangers, the commands a customer has,
codes refused as codes, replies signed with their ticket even when split."""

from __future__ import annotations

import pytest

from tests.support.telegram_desk import Chat

pytestmark = pytest.mark.integration

ANA = 5001  # a linked agent's Telegram user (and private chat) id
ANN = 9001  # a customer


def test_a_reply_split_in_parts_keeps_its_signature_with_the_ticket_tag(chat: Chat) -> None:
    chat.link("ana", ANA)
    chat.says(ANN, "Tell me everything")
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    essay = "\n\n".join(f"Paragraph {i}: " + "a & b < c " * 60 for i in range(12))
    chat.says(ANA, essay, reply_to=notice["message_id"])
    chat.expect(ANA, "Sent to the customer")
    chat.desk.settle()
    parts = [m["plain_text"] for m in chat.server.sent(ANN)][1:]  # after the acknowledgement
    assert len(parts) >= 2 and "Paragraph 11" in "".join(parts)
    assert parts[-1].rstrip().endswith("— Ana Lima, [#1]"), parts[-1][-60:]
