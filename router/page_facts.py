"""What a workspace page shows besides its list or ticket, read with it in one transaction.

Frozen views, no IO: ``workers.desk.page_reads`` fills them, the workspace's pages
render them.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.macros import MacroDefinition
from router.queue_views import View
from router.saved_searches import SavedSearch
from router.staff_ticket_views import StaffTicket, TicketSummary


@dataclass(frozen=True)
class TicketPageFacts:
    """The ticket page: the ticket in full and what its side and forms need."""

    ticket: StaffTicket
    others: tuple[TicketSummary, ...]  # the requester's other active tickets, latest first
    macros: tuple[MacroDefinition, ...]
    may_assign: bool  # the caller may assign, transfer or unassign this ticket
    agent_names: tuple[str, ...]  # whom it may be assigned to (empty unless may_assign)
    own_status: str | None  # the caller's routing status (None: no agent)


@dataclass(frozen=True)
class QueueFacts:
    """The queue page's side: each view's count, the saved searches with theirs, and the
    chosen view's tickets when one was asked for."""

    counts: dict[View, int]
    saved_searches: tuple[tuple[SavedSearch, int], ...]
    own_status: str | None
    tickets: tuple[TicketSummary, ...] = ()
