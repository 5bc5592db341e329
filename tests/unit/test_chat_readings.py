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


@pytest.mark.parametrize("reading", list(ChatReading))
def test_a_reading_writes_the_batch_first_when_it_acts(reading: ChatReading) -> None:
    assert written_first(reading) is (reading in ACTING)
