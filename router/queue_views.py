"""The workspace's views: which tickets each one lists, as the staff list's filters. Pure.

- ``mine``: assigned to me, new or open; ``mine-pending``: mine, waiting on the customer;
- ``unassigned``: my teams' tickets nobody has yet;
- ``waiting``: every ticket in my scope waiting on the customer (pending);
- ``due-soon``: an SLA clock breached and still running, or due within the hour; the
  breached ones first;
- ``all``: every active ticket in scope (supervisors and admins).

The scope rule (``router.access``) still applies on top of each: a view narrows, never
widens, what the caller may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from router.staff_views import Caller
from router.ticket_list import TicketFilters, TicketOrder
from router.vocabulary import Role, Status

DUE_SOON_MIN = 60
COUNT_CAP = 1000  # a view's count stops here ("999+"): counting costs what it counts
ACTIVE = (Status.NEW.value, Status.OPEN.value, Status.PENDING.value)
WORKING = (Status.NEW.value, Status.OPEN.value)


class View(StrEnum):
    MINE = "mine"
    MINE_PENDING = "mine-pending"
    UNASSIGNED = "unassigned"
    WAITING = "waiting"
    DUE_SOON = "due-soon"
    ALL = "all"


@dataclass(frozen=True)
class ViewQuery:
    """One list behind a view (``due-soon`` has two: the breached, then the due)."""

    filters: TicketFilters
    order: TicketOrder


def views_of(caller: Caller) -> tuple[View, ...]:
    """The views ``caller`` has: everyone the first five, supervisors and admins ``all``."""
    everyone = caller.principal.role.at_least(Role.SUPERVISOR)
    return tuple(v for v in View if v is not View.ALL or everyone)


def view_queries(view: View, caller: Caller, q: str = "") -> tuple[ViewQuery, ...]:
    """The lists of ``view`` for ``caller``, each narrowed by the search words ``q``."""
    me = (caller.principal.name,)
    by_priority = TicketOrder.PRIORITY
    if view is View.MINE:
        return (ViewQuery(TicketFilters(assignee=me, status=WORKING, q=q), by_priority),)
    if view is View.MINE_PENDING:
        return (ViewQuery(TicketFilters(assignee=me, status=("pending",), q=q), by_priority),)
    if view is View.UNASSIGNED:
        filters = TicketFilters(unassigned=True, team=caller.teams, status=WORKING, q=q)
        return (ViewQuery(filters, by_priority),)
    if view is View.WAITING:
        return (ViewQuery(TicketFilters(status=("pending",), q=q), TicketOrder.UPDATED),)
    if view is View.DUE_SOON:
        return (
            ViewQuery(TicketFilters(status=ACTIVE, breached=True, q=q), by_priority),
            ViewQuery(TicketFilters(status=ACTIVE, due_within_min=DUE_SOON_MIN, q=q), by_priority),
        )
    return (ViewQuery(TicketFilters(status=ACTIVE, q=q), TicketOrder.UPDATED_DESC),)


def count_text(count: int) -> str:
    """A view's count as shown: "12", or "999+" at the cap."""
    return f"{COUNT_CAP - 1}+" if count >= COUNT_CAP else str(count)
