"""How ingest reads a chat update: its command, the reading it gets, what of it is kept.

Shared by the reader (``workers.steps.ingest_telegram``) and a batch's look-ups made
before its rows are read (``workers.steps.ingest_telegram_batch``), so both read an
update alike.
"""

from __future__ import annotations

from connectors.telegram.commands import Command, parse_command
from connectors.telegram.updates import ChatUpdate, UpdateKind
from router.chat_readings import ChatReading, chat_reading
from store.models import Agent


def is_read(update: ChatUpdate) -> bool:
    """Whether the update gets a reading at all (else it is kept quietly as it comes: of
    a kind not handled, a bot's, one with no chat)."""
    return update.kind is not UpdateKind.OTHER and not update.is_bot and bool(update.chat_id)


def command_of(update: ChatUpdate) -> Command | None:
    """The command a message is (an edit or a button is none)."""
    return parse_command(update.text) if update.kind is UpdateKind.MESSAGE else None


def reading_of(update: ChatUpdate, command: Command | None, agent: Agent | None) -> ChatReading:
    """The reading an update gets (``router.chat_readings``), ``agent``: its sender's."""
    return chat_reading(
        callback=update.kind is UpdateKind.CALLBACK,
        private=update.chat_type == "private",
        command=command.name if command is not None else None,
        command_args=command.args if command is not None else "",
        from_agent=agent is not None,
        edited=update.kind is UpdateKind.EDITED,
    )


def refused_alone(update: ChatUpdate, text: str) -> str | None:
    """What came without ``text`` that we cannot read (a sticker: answered, nothing kept),
    else None."""
    return update.unsupported if update.unsupported and not text else None


def message_ref(update: ChatUpdate) -> str:
    """A customer's message's external id: an edit's is its own, the message's and the
    update's (the message's own stays its first version's)."""
    if update.kind is UpdateKind.EDITED:
        return f"{update.external_id}:edit:{update.update_id}"
    return update.external_id


__all__ = ["command_of", "is_read", "message_ref", "reading_of", "refused_alone"]
