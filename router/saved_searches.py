"""Saved searches: a name for a set of the staff list's filters and words, an agent's own or
shared with a team. Pure: what a stored set of filters means, who may share one with a
team, who sees it, who may remove it.

The filters are kept as the list's query parameters name them (``status``, ``priority``,
``team``, ``assignee``, ``unassigned``, ``channel``, ``category``, ``tag``,
``organisation``, ``breached``, ``due_within``, ``q``), so a saved search lists exactly
what ``GET /api/v1/desk/tickets`` with those parameters lists, scope included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from router.staff_views import Caller
from router.ticket_list import MAX_QUERY, TicketFilters
from router.vocabulary import Channel, Priority, Role, Status

LISTS = ("status", "priority", "team", "assignee", "channel", "category", "tag", "organisation")
CHOICES: dict[str, frozenset[str]] = {
    "status": frozenset(s.value for s in Status),
    "priority": frozenset(p.value for p in Priority),
    "channel": frozenset(c.value for c in Channel),
}
MAX_VALUES = 50
MAX_VALUE = 200
MAX_SEARCHES = 100  # an agent's own


@dataclass(frozen=True)
class SavedSearch:
    id: int
    name: str
    owner: str  # the agent who saved it
    team: str | None  # shared with this team's agents (None: the owner's alone)
    filters: dict[str, Any]


def search_filters(saved: Mapping[str, Any]) -> TicketFilters:
    """The list's filters a saved set means; ``ValueError`` naming what is not one."""
    unknown = set(saved) - {*LISTS, "unassigned", "breached", "due_within", "q"}
    if unknown:
        raise ValueError(f"filters: no filter named {sorted(unknown)[0]!r}")
    lists: dict[str, tuple[str, ...]] = {}
    for name in LISTS:
        values = saved.get(name, [])
        if not isinstance(values, list) or len(values) > MAX_VALUES:
            raise ValueError(f"filters.{name}: a list of at most {MAX_VALUES} values")
        for value in values:
            if not isinstance(value, str) or not 0 < len(value) <= MAX_VALUE:
                raise ValueError(f"filters.{name}: {value!r} is not a value")
            if name in CHOICES and value not in CHOICES[name]:
                raise ValueError(f"filters.{name}: {value!r} is not one of them")
            if any(ord(c) < 32 or ord(c) == 127 for c in value):
                raise ValueError(f"filters.{name}: {value!r} has a control character")
        lists[name] = tuple(values)
    for name in ("unassigned", "breached"):
        if not isinstance(saved.get(name, False), bool):
            raise ValueError(f"filters.{name}: true or false")
    due = saved.get("due_within")
    if due is not None and (isinstance(due, bool) or not isinstance(due, int)):
        raise ValueError("filters.due_within: a number of minutes")
    if due is not None and not 0 <= due <= 525_600:
        raise ValueError("filters.due_within: 0 to 525600 minutes")
    q = saved.get("q", "")
    if not isinstance(q, str) or len(q) > MAX_QUERY or "\x00" in q:
        raise ValueError(f"filters.q: words, at most {MAX_QUERY} characters")
    return TicketFilters(
        status=lists["status"],
        priority=lists["priority"],
        team=lists["team"],
        assignee=lists["assignee"],
        channel=lists["channel"],
        category=lists["category"],
        tag=lists["tag"],
        organisation=lists["organisation"],
        unassigned=bool(saved.get("unassigned", False)),
        breached=bool(saved.get("breached", False)),
        due_within_min=due,
        q=q,
    )


def may_share_with(caller: Caller, team: str) -> bool:
    """Whether ``caller`` may share a search with ``team``: its supervisor, or an admin."""
    role = caller.principal.role
    return role is Role.ADMIN or (role.at_least(Role.SUPERVISOR) and team in caller.supervised)


def sees(caller: Caller, search: SavedSearch) -> bool:
    """Their own, and those shared with a team they are in or supervise."""
    if search.owner == caller.principal.name:
        return True
    return search.team is not None and (
        search.team in caller.teams or search.team in caller.supervised
    )


def may_remove(caller: Caller, search: SavedSearch) -> bool:
    """The owner, or (for a shared one) whoever may share with its team."""
    if search.owner == caller.principal.name:
        return True
    return search.team is not None and may_share_with(caller, search.team)
