"""Macros: a canned reply's text for one ticket, and what applying it changes. Pure.

A macro's body names ``{requester_name}``, ``{ticket_number}`` and ``{agent_name}``
(config checks that it names nothing else); ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import Formatter


@dataclass(frozen=True)
class MacroFacts:
    requester_name: str
    ticket_number: int
    agent_name: str

    def values(self) -> dict[str, str]:
        return {
            "requester_name": self.requester_name,
            "ticket_number": str(self.ticket_number),
            "agent_name": self.agent_name,
        }


@dataclass(frozen=True)
class MacroDefinition:
    """A macro as the desk knows it, from the config (``[[macros]]``, read-only) or made by
    an admin through the staff API (kept in the store): its reply text and the fields it
    changes with it (None: as they are; ``tags`` are added to the ticket's)."""

    name: str
    title: str
    body: str
    status: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    team: str | None = None
    source: str = "config"  # "config" or "api"


@dataclass(frozen=True)
class MacroApplied:
    """What applying a macro did: the text sent, and the changes made with it."""

    macro: str
    number: int
    text: str
    status: str | None
    team: str | None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def macro_text(body: str, facts: MacroFacts) -> str:
    """``body`` with its placeholders filled in; an unknown one stays as it was written
    (config refuses them, so this only guards against a body from elsewhere)."""
    return fill(body, facts.values())


def fill(body: str, values: Mapping[str, str]) -> str:
    parts: list[str] = []
    for literal, name, _spec, _conversion in Formatter().parse(body):
        parts.append(literal)
        if name is not None:
            parts.append(values.get(name, "{" + name + "}"))
    return "".join(parts)


def macro_summary(
    name: str,
    status: str | None,
    team: str | None,
    *,
    priority: str | None = None,
    tags: tuple[str, ...] = (),
    files: int = 0,
) -> str:
    """The audit log's words for a macro applied: "macro password-reset: reply, status
    pending, priority high, tags +vpn, team billing"."""
    changes = ["reply" + (f" with {files} file(s)" if files else "")]
    if status:
        changes.append(f"status {status}")
    if priority:
        changes.append(f"priority {priority}")
    if tags:
        changes.append("tags " + " ".join(f"+{t}" for t in tags))
    if team:
        changes.append(f"team {team}")
    return f"macro {name}: " + ", ".join(changes)


def tags_added(current: tuple[str, ...], added: tuple[str, ...]) -> tuple[str, ...]:
    """The ticket's tags with a macro's added (each once, in order)."""
    return tuple(dict.fromkeys((*current, *added)))
