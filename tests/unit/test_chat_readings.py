"""The reading a chat update gets, and which readings write their batch's earlier rows
first (``router.chat_readings``)."""

from __future__ import annotations

import pytest

from router.chat_readings import ACTING, ChatReading, chat_reading, written_first


@pytest.mark.parametrize(
    ("facts", "reading"),
    [
        ({"callback": True, "private": False, "command": None, "from_agent": False}, "button"),
        ({"callback": True, "private": True, "command": None, "from_agent": True}, "button"),
        ({"callback": False, "private": False, "command": "new", "from_agent": True}, "group"),
        (
            {"callback": False, "private": True, "command": "start", "from_agent": False}
            | {"command_args": "ABC-123"},
            "link",
        ),
        (
            {"callback": False, "private": True, "command": "start", "from_agent": True}
            | {"command_args": "ABC-123"},
            "link",
        ),
        ({"callback": False, "private": True, "command": None, "from_agent": True}, "agent"),
        ({"callback": False, "private": True, "command": "note", "from_agent": True}, "agent"),
        (
            {"callback": False, "private": True, "command": None, "from_agent": True}
            | {"edited": True},
            "agent_edit",
        ),
        ({"callback": False, "private": True, "command": "start", "from_agent": False}, "command"),
        ({"callback": False, "private": True, "command": "status", "from_agent": False}, "command"),
        ({"callback": False, "private": True, "command": "sudo", "from_agent": False}, "command"),
        ({"callback": False, "private": True, "command": None, "from_agent": False}, "message"),
        (
            {"callback": False, "private": True, "command": None, "from_agent": False}
            | {"edited": True},
            "message",
        ),
    ],
)
def test_an_update_gets_the_reading_its_facts_say(facts: dict[str, object], reading: str) -> None:
    assert chat_reading(**facts) is ChatReading(reading)  # type: ignore[arg-type]


def test_only_a_customers_message_and_a_group_message_do_not_act() -> None:
    assert set(ChatReading) - ACTING == {ChatReading.MESSAGE, ChatReading.GROUP}


@pytest.mark.parametrize(
    ("reading", "first"),
    [
        ("button", True),  # an agent's Resolve must find the reply before it
        ("link", True),
        ("agent_edit", True),
        ("agent", True),  # an answer or a note on a ticket the batch may have written to
        ("command", True),  # /status lists the chat's tickets
        ("message", False),  # customers' messages of many chats are written together
        ("group", False),
    ],
)
def test_an_update_of_another_chat_writes_the_batch_first_when_it_acts(
    reading: str, first: bool
) -> None:
    assert written_first(ChatReading(reading), "9001", unwritten_chats={"9002"}) is first


def test_a_customers_message_of_a_chat_the_batch_holds_writes_it_first() -> None:
    """So the chat's acknowledgement is queued before what the bot says to this update
    (a sticker refused, a file too large)."""
    assert written_first(ChatReading.MESSAGE, "9001", unwritten_chats={"9002", "9001"})
