"""What an edit of a ticket's fields changes: priority, category, team, tags, custom fields.

Pure: given the fields as they are and the edit asked, the changes, each with its
before and after (for the audit log and the webhooks), and what they set in motion
(the SLA clocks are planned again when a field a policy reads changed; the ticket
goes back to its new team's queue when its agent is not in that team).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_TAGS = 50
MAX_CUSTOM_FIELDS = 50


@dataclass(frozen=True)
class TicketFields:
    priority: str
    category: str
    team: str | None
    tags: tuple[str, ...]
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TicketEdit:
    """An edit: None leaves a field as it is. ``tags`` replaces the tags; ``custom_fields``
    sets the keys given, and a key given as None is removed."""

    priority: str | None = None
    category: str | None = None
    team: str | None = None
    tags: tuple[str, ...] | None = None
    custom_fields: dict[str, Any] | None = None


@dataclass(frozen=True)
class Change:
    name: str
    before: Any
    after: Any


POLICY_FIELDS = frozenset({"priority", "category", "team"})  # what SLA policies match on


def edited(current: TicketFields, edit: TicketEdit) -> tuple[TicketFields, tuple[Change, ...]]:
    """The fields after ``edit``, and what changed (nothing: an empty tuple)."""
    tags = current.tags
    if edit.tags is not None:
        tags = tuple(dict.fromkeys(t.strip() for t in edit.tags if t.strip()))
        if len(tags) > MAX_TAGS:
            raise ValueError(f"tags: at most {MAX_TAGS}")
    custom = dict(current.custom_fields)
    for key, value in (edit.custom_fields or {}).items():
        if value is None:
            custom.pop(key, None)
        else:
            custom[key] = value
    if len(custom) > MAX_CUSTOM_FIELDS:
        raise ValueError(f"custom_fields: at most {MAX_CUSTOM_FIELDS}")
    after = TicketFields(
        priority=edit.priority if edit.priority is not None else current.priority,
        category=edit.category if edit.category is not None else current.category,
        team=edit.team if edit.team is not None else current.team,
        tags=tags,
        custom_fields=custom,
    )
    changes = tuple(
        Change(name, getattr(current, name), getattr(after, name))
        for name in ("priority", "category", "team", "tags", "custom_fields")
        if getattr(current, name) != getattr(after, name)
    )
    return after, changes


def replans_clocks(changes: tuple[Change, ...]) -> bool:
    return any(c.name in POLICY_FIELDS for c in changes)


def describe(changes: tuple[Change, ...]) -> str:
    """The changes in words, for the audit log: ``priority normal -> high; tags ...``."""

    def shown(value: Any) -> str:
        if isinstance(value, tuple):
            return ", ".join(value) or "-"
        if isinstance(value, dict):
            return ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "-"
        return "-" if value is None else str(value)

    return "; ".join(f"{c.name} {shown(c.before)} -> {shown(c.after)}" for c in changes)
