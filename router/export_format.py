"""How tickets are written out: the columns, and cells a spreadsheet cannot mistake.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return)
is a formula to Excel and LibreOffice, so a subject like ``=HYPERLINK(...)`` could
run on the reader's machine: such a cell gets a leading apostrophe, which the
spreadsheet shows as text and does not display. JSON Lines keep values as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    organisation: tuple[str, ...] = ()  # the requester's
    form: tuple[str, ...] = ()  # the web form's slug
    config_version: tuple[str, ...] = ()  # that classified it (router.report_versions)
    created_from: datetime | None = None  # included
    created_to: datetime | None = None  # excluded

    def __post_init__(self) -> None:
        for at in (self.created_from, self.created_to):
            if at is not None and (at.tzinfo is None or at.utcoffset() is None):
                raise ValueError(f"a naive datetime has no place in a filter: {at!r}")


_FORMULA = frozenset(FORMULA_STARTS)


def _text(value: str | None) -> str | None:
    return "'" + value if value and value[0] in _FORMULA else value


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_cells(row: Sequence[Any]) -> tuple[Any, ...]:
    """A ticket read in ``TICKET_COLUMNS`` order as CSV cells (``None`` is an empty cell):
    free text neutralised, tags space-separated, instants in ISO 8601. Written out
    column by column: an export calls it a million times."""
    return (
        row[0],
        _text(row[1]),
        row[2],
        row[3],
        _text(row[4]),
        row[5],
        _text(row[6]),
        _text(row[7]),
        _text(row[8]),
        _text(row[9]),
        _text(row[10]),
        _text(" ".join(row[11] or ())),
        _time(row[12]),
        _time(row[13]),
        _time(row[14]),
        _time(row[15]),
        _time(row[16]),
    )


def message_cells(row: Sequence[Any]) -> tuple[Any, ...]:
    """A message read in ``MESSAGE_COLUMNS`` order as CSV cells."""
    return (row[0], row[1], _time(row[2]), row[3], row[4], _text(row[5]), _text(row[6]))


def plain(value: object) -> object:
    """A value for JSON: instants as ISO 8601 text, lists as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
