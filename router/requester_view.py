"""What a requester is told about their ticket: its state in their words, who handles it.

Pure: the ticket page (HTML and JSON) and the notices to the requester decide
with these. The agent's lifecycle has five statuses; the requester follows
four states (the seed's 待受理 / 处理中 / 待确认 / 已闭环): a pending ticket is in
progress for them, with the note that the desk waits for their answer.
"""

from __future__ import annotations

from enum import StrEnum

from router.vocabulary import Status


class RequesterState(StrEnum):
    """A ticket's state as its requester follows it."""

    RECEIVED = "received"  # 待受理: nobody has taken it up yet
    IN_PROGRESS = "in_progress"  # 处理中: someone works on it (or waits for the requester)
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # 待确认: resolved, theirs to confirm
    CLOSED = "closed"  # 已闭环


_STATES = {
    Status.NEW: RequesterState.RECEIVED,
    Status.OPEN: RequesterState.IN_PROGRESS,
    Status.PENDING: RequesterState.IN_PROGRESS,
    Status.RESOLVED: RequesterState.AWAITING_CONFIRMATION,
    Status.CLOSED: RequesterState.CLOSED,
}


def requester_state(status: Status) -> RequesterState:
    return _STATES[status]


def waits_for_requester(status: Status) -> bool:
    """Whether the desk waits for the requester's answer (pending)."""
    return status is Status.PENDING


def can_reply(status: Status) -> bool:
    """A closed ticket takes no more messages from its page (writing in again by mail or
    chat opens a follow-up, as it does today)."""
    return status is not Status.CLOSED


def can_confirm(status: Status) -> bool:
    """Whether "this solved it" and "I still need help" are offered: when resolved."""
    return status is Status.RESOLVED


def handler_name(display_name: str, login: str | None, team: str | None) -> str | None:
    """Who handles a ticket, as its requester is told: the agent's first name (from the
    display name, else the login name, capitalised), else the team; None: nobody yet."""
    if login:
        words = display_name.split()
        return words[0] if words else login[:1].upper() + login[1:]
    return team or None


def author_name(author: str) -> str | None:
    """An agent's answer as its requester sees who wrote it: ``agent:ana`` -> ``Ana``;
    None for anything else (the desk itself, or the requester)."""
    kind, _, name = author.partition(":")
    if kind != "agent" or not name:
        return None
    return name[:1].upper() + name[1:]


def ticket_link(base: str, number: int, access_key: str) -> str:
    """The ticket link a requester is given: their page in a browser, JSON for a program.
    ``base``: where the desk is reached (``WebSettings.link_base``)."""
    return f"{base.rstrip('/')}/api/v1/tickets/{number}?key={access_key}"


def capitalised(word: str) -> str:
    """A word of the vocabulary standing alone, as a label: "received" -> "Received"."""
    return word[:1].upper() + word[1:]
