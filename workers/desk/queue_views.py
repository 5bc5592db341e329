"""The workspace's views (``router.queue_views``): their counts, and one view's tickets."""

from __future__ import annotations

from router.queue_views import COUNT_CAP, View, view_queries, views_of
from router.staff_ticket_views import TicketSummary
from router.staff_views import Caller
from store.ticket_counts import capped_count
from workers.desk.ticket_reads import ticket_page
from workers.runtime.context import Runtime


def view_counts(runtime: Runtime, caller: Caller) -> dict[View, int]:
    """Each of the caller's views with how many tickets it lists (up to ``COUNT_CAP``)."""
    now = runtime.now()
    counts: dict[View, int] = {}
    with runtime.db.unit_of_work() as uow:
        for view in views_of(caller):
            counts[view] = min(
                COUNT_CAP,
                sum(
                    capped_count(uow.session, caller.principal, q.filters, cap=COUNT_CAP, now=now)
                    for q in view_queries(view, caller)
                ),
            )
    return counts


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
