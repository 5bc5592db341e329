"""How tickets are written out: the columns, and cells a spreadsheet cannot mistake.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return)
is a formula to Excel and LibreOffice, so a subject like ``=HYPERLINK(...)`` could
run on the reader's machine: such a cell gets a leading apostrophe, which the
spreadsheet shows as text and does not display. JSON Lines keep values as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

TICKET_COLUMNS = (
    "number",
    "subject",
    "status",
    "priority",
    "category",
    "channel",
    "team",
    "assignee",
    "requester",
    "requester_address",
    "organisation",
    "tags",
    "created_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "updated_at",
)
MESSAGE_COLUMNS = ("ticket", "message", "created_at", "direction", "channel", "author", "body")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # UTF-8 with a byte order mark: Excel then reads the file as UTF-8


@dataclass(frozen=True)
class ExportFilters:
    """The staff API's list filters: each given one is "any of" its values."""

    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()  # has any of these tags
    created_from: datetime | None = None  # included
    created_to: datetime | None = None  # excluded

    def __post_init__(self) -> None:
        for at in (self.created_from, self.created_to):
            if at is not None and (at.tzinfo is None or at.utcoffset() is None):
                raise ValueError(f"a naive datetime has no place in a filter: {at!r}")


def cell(value: object) -> str:
    """A value as CSV text; formulas neutralised (see the module)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def plain(value: object) -> object:
    """A value for JSON: instants as ISO 8601 text, lists as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
