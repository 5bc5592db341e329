"""The workspace's views (``router.queue_views``): one view's tickets, read with the
views' counts by ``page_reads.queue_facts``."""

from __future__ import annotations

from datetime import datetime

from router.queue_views import View, view_queries
from router.staff_ticket_views import TicketSummary
from router.staff_views import Caller
from router.ticket_list import MAX_PAGE
from store.ticket_list import TicketList


def view_tickets_in(
    tickets: TicketList, caller: Caller, view: View, *, q: str, limit: int, now: datetime
) -> list[TicketSummary]:
    """The first ``limit`` tickets of ``view`` (narrowed by the search ``q``), each once,
    through the staff list's query in the caller's transaction."""
    shown: dict[int, TicketSummary] = {}
    for query in view_queries(view, caller, q):
        if len(shown) >= limit:
            break
        page = tickets.page(
            caller.principal,
            query.filters,
            order=query.order,
            after=None,
            limit=max(1, min(limit, MAX_PAGE)),
            now=now,
        )
        for ticket in page.tickets:
            shown.setdefault(ticket.number, ticket)
    return list(shown.values())[:limit]
