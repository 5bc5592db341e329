"""What a chat message asks for: a bot command, a button press, a ticket number.

Telegram's rules: a command is ``/`` and up to 32 letters, digits or
underscores at the very start of the text, optionally addressed ``/new@MyBot``;
an inline button carries at most 64 bytes of callback data. Pure parsing: a
malformed input gives ``None``, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BUTTON_ACTIONS = ("claim", "resolve", "pending", "reopen", "good", "bad")
RATING_ACTIONS = ("good", "bad")
"""The buttons a requester presses (under the notice that their request was resolved)."""
CUSTOMER_COMMANDS = ("start", "help", "new", "status")
"""The commands a customer has; any other command is answered with these, never a ticket."""
CALLBACK_DATA_LIMIT = 64
"""Telegram's limit on an inline button's callback data, in bytes."""

_BUTTON_PREFIX = "rd"
_COMMAND = re.compile(
    r"/(?P<name>[A-Za-z0-9_]{1,32})(?:@(?P<bot>[A-Za-z0-9_]{1,64}))?(?![\w@/])(?P<args>.*)",
    re.DOTALL,
)
_BUTTON = re.compile(
    _BUTTON_PREFIX + r":(?P<action>" + "|".join(BUTTON_ACTIONS) + r"):(?P<ticket>[1-9][0-9]{0,17})"
)
_CODE_SEPARATORS = re.compile(r"[\s\-_.]+")
_TICKET_REF = re.compile(r"\s*#?(?P<number>[0-9]{1,12})(?:\s+(?P<rest>.*))?", re.DOTALL)


@dataclass(frozen=True)
class Command:
    name: str
    args: str


@dataclass(frozen=True)
class ButtonAction:
    action: str
    ticket: int


def parse_command(text: str, bot_username: str | None = None) -> Command | None:
    """``/new printer broken`` -> ``Command("new", "printer broken")``; not a command -> None.

    A command addressed to a bot (``/new@SomeBot``) is ours only when that bot
    is ``bot_username`` (compared without case); with no username to compare
    it could be another bot's, so it is not taken.
    """
    match = _COMMAND.match(text)
    if match is None:
        return None
    bot = match.group("bot")
    if bot is not None:
        ours = (bot_username or "").removeprefix("@")
        if bot.lower() != ours.lower():
            return None
    return Command(name=match.group("name").lower(), args=match.group("args").strip())


def encode_button(action: str, ticket: int) -> str:
    """The callback data of an inline button: ``rd:claim:123``."""
    if action not in BUTTON_ACTIONS:
        raise ValueError(f"unknown button action {action!r}; known: {', '.join(BUTTON_ACTIONS)}")
    if isinstance(ticket, bool) or not isinstance(ticket, int) or ticket < 1:
        raise ValueError(f"a ticket number is a positive integer, not {ticket!r}")
    data = f"{_BUTTON_PREFIX}:{action}:{ticket}"
    if len(data.encode()) > CALLBACK_DATA_LIMIT or _BUTTON.fullmatch(data) is None:
        raise ValueError(f"ticket number {ticket} is too long for a button")
    return data


def parse_button(data: object) -> ButtonAction | None:
    """``rd:claim:123`` -> ``ButtonAction("claim", 123)``; anything else -> None."""
    if not isinstance(data, str):
        return None
    match = _BUTTON.fullmatch(data)
    if match is None:
        return None
    return ButtonAction(action=match.group("action"), ticket=int(match.group("ticket")))


def parse_ticket_ref(text: str) -> tuple[int | None, str]:
    """``#123 the rest`` or ``123 the rest`` -> ``(123, "the rest")``; else ``(None, text)``."""
    match = _TICKET_REF.fullmatch(text)
    if match is None:
        return None, text.strip()
    return int(match.group("number")), (match.group("rest") or "").strip()


def link_code_of(args: str) -> str:
    """A one-time link code as the agent typed it after ``/start``, in the form it was
    printed: separators (spaces, dashes, dots) dropped, upper case. ``ab12 cd-34`` ->
    ``AB12CD34``. Whatever follows ``/start`` is taken as a code: the desk hands out no
    other start parameter, so a wrong one is refused rather than welcomed."""
    return _CODE_SEPARATORS.sub("", args).upper()
