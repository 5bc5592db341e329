"""The staff ticket list's vocabulary: its filters, its orders and its cursors.

Pure decisions, no IO: what a filter means (a ticket "due within 30 minutes" is
one whose running clock falls due before ``now`` + 30 min), which columns an
order sorts by, and the opaque cursor that continues a list after the last
ticket of a page (keyset pagination: the sort values of that ticket, never an
offset, so a page costs the same at any depth and a ticket that changes while a
client pages does not shift the rest).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_PAGE = 100
MAX_QUERY = 200  # characters of a full-text search


class TicketOrder(StrEnum):
    """How a list is sorted; a leading ``-`` is descending. Ties go by ticket number."""

    UPDATED_DESC = "-updated"  # the default: what moved last, first
    UPDATED = "updated"
    CREATED_DESC = "-created"
    CREATED = "created"
    PRIORITY = "priority"  # most urgent first, then the oldest
    NUMBER = "number"
    NUMBER_DESC = "-number"
    RELEVANCE = "relevance"  # with ``q`` only: the best matches first, then the newest


# the sort keys of each order: (key, descending); the store maps keys onto columns
ORDER_KEYS: dict[TicketOrder, tuple[tuple[str, bool], ...]] = {
    TicketOrder.UPDATED_DESC: (("updated_at", True), ("number", True)),
    TicketOrder.UPDATED: (("updated_at", False), ("number", False)),
    TicketOrder.CREATED_DESC: (("created_at", True), ("number", True)),
    TicketOrder.CREATED: (("created_at", False), ("number", False)),
    TicketOrder.PRIORITY: (("priority_rank", False), ("created_at", False), ("number", False)),
    TicketOrder.NUMBER: (("number", False),),
    TicketOrder.NUMBER_DESC: (("number", True),),
    TicketOrder.RELEVANCE: (("rank", True), ("number", True)),
}
TIME_KEYS = frozenset({"updated_at", "created_at"})
# a search's rank, as each database scores it, scaled to a whole number in [0, 2**31)
RANK_SCALE = 1_000_000_000


@dataclass(frozen=True)
class TicketFilters:
    """What a list shows: each given filter is "any of" its values, all of them together.

    ``due_within_min``: tickets with a running SLA clock due within that many minutes
    (not yet breached); ``breached``: tickets with a clock breached and still running.
    ``q``: words that must all occur in the subject or in one of the messages."""

    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()
    unassigned: bool = False
    channel: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()  # has any of these tags
    customer: tuple[int, ...] = ()
    organisation: tuple[str, ...] = ()
    created_from: datetime | None = None  # included
    created_to: datetime | None = None  # excluded
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    breached: bool = False
    due_within_min: int | None = None
    q: str = ""

    def __post_init__(self) -> None:
        for at in (self.created_from, self.created_to, self.updated_from, self.updated_to):
            if at is not None and (at.tzinfo is None or at.utcoffset() is None):
                raise ValueError(f"a naive datetime has no place in a filter: {at!r}")
        if self.due_within_min is not None and self.due_within_min < 0:
            raise ValueError("due_within_min: a number of minutes, 0 or more")
        if len(self.q) > MAX_QUERY:
            raise ValueError(f"q: at most {MAX_QUERY} characters")


def due_before(filters: TicketFilters, now: datetime) -> datetime | None:
    """The instant a clock must fall due before to be "due within N minutes"."""
    if filters.due_within_min is None:
        return None
    return now + timedelta(minutes=filters.due_within_min)


def search_words(q: str) -> tuple[str, ...]:
    """The words of a search, as typed (split on blanks); empty: no search."""
    return tuple(word for word in q.split() if word)


def ordered_by(order: TicketOrder, filters: TicketFilters) -> None:
    """``ValueError`` when ``order`` cannot sort a list of ``filters`` (relevance without
    words to rank by)."""
    if order is TicketOrder.RELEVANCE and not search_words(filters.q):
        raise ValueError("sort=relevance ranks a search: give q")


CursorKey = tuple[int | str, ...]


def encode_cursor(order: TicketOrder, key: CursorKey) -> str:
    """The cursor after a ticket whose sort values are ``key`` (datetimes as ISO text)."""
    raw = json.dumps([order.value, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(order: TicketOrder, cursor: str) -> CursorKey:
    """The sort values a cursor continues after; ``ValueError`` when it is not one of ours
    for this order (made for another order, edited, or truncated)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError("not a cursor of this list: start again without one") from None
    keys = ORDER_KEYS[order]
    if (
        not isinstance(values, list)
        or len(values) != len(keys) + 1
        or values[0] != order.value
        or not all(_fits(name, value) for (name, _), value in zip(keys, values[1:], strict=True))
    ):
        raise ValueError("not a cursor of this list (or of another order): start again")
    return tuple(values[1:])


def _fits(name: str, value: object) -> bool:
    if name in TIME_KEYS:
        if not isinstance(value, str):
            return False
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return False
        return at.tzinfo is not None
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
