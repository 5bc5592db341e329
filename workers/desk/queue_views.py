"""The workspace's views (``router.queue_views``): one view's tickets (their counts are
``page_reads.queue_facts``')."""

from __future__ import annotations

from router.queue_views import View, view_queries
from router.staff_ticket_views import TicketSummary
from router.staff_views import Caller
from workers.desk.ticket_reads import ticket_page
from workers.runtime.context import Runtime


def view_tickets(
    runtime: Runtime, caller: Caller, view: View, *, q: str, limit: int
) -> list[TicketSummary]:
    """The first ``limit`` tickets of ``view`` (narrowed by the search ``q``), each once."""
    shown: dict[int, TicketSummary] = {}
    for query in view_queries(view, caller, q):
        if len(shown) >= limit:
            break
        page = ticket_page(runtime, caller.principal, query.filters, order=query.order, limit=limit)
        for ticket in page.tickets:
            shown.setdefault(ticket.number, ticket)
    return list(shown.values())[:limit]
