"""What the store can keep, as rules every edge applies before a value reaches it.

- **Ids** (ticket numbers, submission ids, any row's key) run from 1 to ``MAX_ID``
  (2**31-1, PostgreSQL's ``integer``): a larger number names nothing, so asking
  for it is "not found", never a database error.
- **Text never holds NUL** (U+0000). PostgreSQL cannot keep it in text or JSON,
  SQLite can; so that both stores keep the same thing, no text keeps it. A
  client that can be told (the JSON API, the web form) is refused with the field
  named; a channel that cannot be refused (email, Telegram) has it removed when
  the message is normalised, and the message's problems say so; and the store
  removes any that still arrives by another path.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

MAX_ID = 2**31 - 1
NUL = "\x00"
_WITHOUT_TEXT = frozenset({int, float, bool, type(None), bytes, datetime, date, Decimal})

T = TypeVar("T")


def is_id(number: int) -> bool:
    """Whether ``number`` can be the key of a stored row."""
    return 1 <= number <= MAX_ID


def has_nul(text: str) -> bool:
    return NUL in text


def without_nul(value: T) -> tuple[T, int]:
    """``value`` with every NUL removed from the text it holds (strings, and strings in
    lists, tuples, dict keys and values, frozen dataclasses), and how many were removed.

    A value without NUL comes back as it is (the same object).
    """
    if type(value) in _WITHOUT_TEXT:  # most of a statement's values: nothing to look at
        return value, 0
    if isinstance(value, str):
        count = value.count(NUL)
        return (value.replace(NUL, "") if count else value), count  # type: ignore[return-value]
    if isinstance(value, dict):
        total = 0
        cleaned: dict[Any, Any] = {}
        for key, item in value.items():
            new_key, in_key = without_nul(key)
            new_item, in_item = without_nul(item)
            cleaned[new_key] = new_item
            total += in_key + in_item
        return (cleaned if total else value), total  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        results = [without_nul(item) for item in value]
        total = sum(count for _, count in results)
        if not total:
            return value, 0
        items = [item for item, _ in results]
        return (list(items) if isinstance(value, list) else tuple(items)), total  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes, total = _fields_without_nul(value)
        return (dataclasses.replace(value, **changes) if total else value), total
    return value, 0


def removed_nul_problem(where: list[str], count: int) -> str:
    """The problem noted on a message whose NUL characters were removed."""
    plural = "character" if count == 1 else "characters"
    return f"removed {count} NUL {plural} (U+0000) from {', '.join(where)}: text cannot keep them"


def message_without_nul(message: T) -> T:
    """An ``InboundMessage`` with every NUL removed, and a problem saying from where.

    For channels that cannot refuse a message (email, Telegram): what cannot be
    kept is dropped and noted, the rest of the message is kept.
    """
    changes, total = _fields_without_nul(message)
    if not total:
        return message
    where = sorted(changes)
    problems = (*getattr(message, "problems", ()), removed_nul_problem(where, total))
    return dataclasses.replace(message, **changes, problems=problems)  # type: ignore[type-var]


def _fields_without_nul(value: Any) -> tuple[dict[str, Any], int]:
    changes: dict[str, Any] = {}
    total = 0
    for name in _init_fields(type(value)):
        cleaned, count = without_nul(getattr(value, name))
        if count:
            changes[name] = cleaned
            total += count
    return changes, total


_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


def _init_fields(kind: type) -> tuple[str, ...]:
    """The names of a dataclass's fields its ``__init__`` takes (``dataclasses.replace``'s),
    known once a class (``dataclasses.fields`` builds them anew at each call)."""
    names = _INIT_FIELDS.get(kind)
    if names is None:
        names = _INIT_FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind) if f.init)
    return names
