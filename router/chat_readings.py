"""Which reading a chat update gets, and whether an ingest batch writes first.

A chat's updates are read as they come (Telegram does not ``reads_ahead``): some
readings act on the store at once, and those must find there every row of their
batch decided before them (a customer's reply is written before an agent's Resolve
acts on its ticket, or the reply reopens it). Only a customer's plain message
does not act: it is decided like any other row and written with the batch (a
customer's second row of a batch has it written before it is threaded: ingest's
``IngestWrites.holds_customer``). And any update of a chat an earlier row of the
batch is in has that row written first: a chat is answered in the order its updates
came (a new ticket's acknowledgement is queued as its row is written, then what the
bot says to the chat's next update). The rule is data (``ACTING``) read by
``written_first``; ``chat_reading`` is the table the reader dispatches on, so what
acts and what is done cannot drift apart.

An update kept quietly before any reading (of a kind not handled, a bot's, one
with no chat) has no reading here: it touches nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum


class ChatReading(StrEnum):
    BUTTON = "button"  # an inline button: an agent's Claim/Resolve/Pending, a rating
    GROUP = "group"  # a message in a group chat: refused, nothing kept
    LINK = "link"  # /start <code>: an agent links the chat (agents change)
    AGENT_EDIT = "agent_edit"  # a linked agent edited a message: refused
    AGENT = "agent"  # a linked agent's message: an answer, /note, /status, /mine
    COMMAND = "command"  # a customer's command: /start, /help, /status, /new, unknown
    MESSAGE = "message"  # a customer's message (text, files, an edit, a sticker)


ACTING = frozenset(
    {
        ChatReading.BUTTON,  # a ticket's status, assignee or rating
        ChatReading.LINK,  # who is an agent
        ChatReading.AGENT_EDIT,  # a linked agent's update (says so; changes nothing)
        ChatReading.AGENT,  # an answer or note on a ticket; the agent's status, /mine
        ChatReading.COMMAND,  # /status lists tickets; /new marks the chat's next ticket
    }
)
"""The readings that act as they are read (each is conservative where it only says
something: a command or an agent's update is rare beside customers' messages)."""


def chat_reading(
    *,
    callback: bool,
    private: bool,
    command: str | None,
    command_args: str = "",
    from_agent: bool,
    edited: bool = False,
) -> ChatReading:
    """The reading an update gets: a button (``callback``) in any chat; else in a
    group, refused; ``/start <code>`` links whoever sends it; a linked agent's edit or
    message; a customer's ``command`` (None: not one; an edit is never one) or
    message."""
    if callback:
        return ChatReading.BUTTON
    if not private:
        return ChatReading.GROUP
    if command == "start" and command_args:
        return ChatReading.LINK
    if from_agent:
        return ChatReading.AGENT_EDIT if edited else ChatReading.AGENT
    if command is not None:
        return ChatReading.COMMAND
    return ChatReading.MESSAGE


def written_first(reading: ChatReading, chat: str, unwritten_chats: Collection[str]) -> bool:
    """Whether the batch's rows decided before this reading are written before it: it
    acts, or one of them is of its chat (written, a new ticket's acknowledgement is
    queued in the chat, before whatever this update is answered there: a sticker
    refused, a file too large). (A customer's message is threaded later, on the
    customer's open ticket found in the store: ingest writes the batch first when a
    row before it is the same customer's, ``IngestWrites.holds_customer``.)"""
    return reading in ACTING or chat in unwritten_chats


__all__ = ["ACTING", "ChatReading", "chat_reading", "written_first"]
