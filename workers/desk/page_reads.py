"""What a workspace page reads, each in one transaction: the ticket page (the scope, the
ticket in full, the requester's other tickets, the macros, whom it may be assigned to, the
reader's own status) and the queue page's side (each view's count and each saved
search's, asked in one statement, and the reader's own status).

A transaction costs two round trips to the database (BEGIN, COMMIT) besides its
statements, each paid again in waiting on a busy machine: the ticket page read them in
six transactions, the queue page's side in three. What is read, and the scope rules it
is read under, are the staff API's own (``ticket_reads``, ``queue_views``,
``saved_searches``, ``macro_book``).
"""

from __future__ import annotations

from router.access import Ability, Verdict, ticket_verdict
from router.page_facts import QueueFacts, TicketPageFacts
from router.queue_views import ACTIVE, COUNT_CAP, View, view_queries, views_of
from router.staff_views import Caller
from router.ticket_list import TicketFilters, TicketOrder
from store.staff_ticket_reads import StaffTicketReads
from store.ticket_counts import capped_totals
from store.ticket_list import TicketList
from workers.desk.macro_book import macros_in
from workers.desk.queue_views import view_tickets_in
from workers.desk.saved_searches import search_lists, searches_in
from workers.desk.ticket_reads import ticket_in_scope
from workers.runtime.context import Runtime


def ticket_page_facts(
    runtime: Runtime, caller: Caller, number: int, *, others: int
) -> tuple[Verdict, TicketPageFacts | None]:
    """Whether ``caller`` may view ticket ``number`` (``HIDDEN`` also for no such ticket)
    and, when allowed, the page's facts, with up to ``others`` other active tickets of its
    requester."""
    principal = caller.principal
    with runtime.db.unit_of_work() as uow:
        reads = StaffTicketReads(uow.session)
        verdict, scope, ticket = ticket_in_scope(reads, principal, number, Ability.VIEW_TICKET)
        if ticket is None:
            return verdict, None
        may_assign = ticket_verdict(principal, Ability.ASSIGN, scope) is Verdict.ALLOWED
        listed = TicketList(uow.session).page(
            principal,
            TicketFilters(customer=(ticket.customer_id,), status=ACTIVE),
            order=TicketOrder.UPDATED_DESC,
            after=None,
            limit=others + 1,
            now=runtime.now(),
        )
        facts = TicketPageFacts(
            ticket=ticket,
            others=tuple(t for t in listed.tickets if t.number != number)[:others],
            macros=tuple(macros_in(runtime, uow)),
            may_assign=may_assign,
            agent_names=tuple(sorted(uow.agents.names())) if may_assign else (),
            own_status=uow.agents.status_of(principal.name),
        )
    return verdict, facts


def queue_facts(
    runtime: Runtime, caller: Caller, view: View | None = None, *, q: str = "", limit: int = 0
) -> QueueFacts:
    """The caller's views with how many tickets each lists, their saved searches with
    theirs (each up to ``COUNT_CAP``), their own status, and with ``view`` its first
    ``limit`` tickets (narrowed by the search ``q``: ``queue_views.view_tickets_in``)."""
    views = views_of(caller)
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        searches = searches_in(uow, caller)
        lists = [[q.filters for q in view_queries(view, caller)] for view in views]
        lists += search_lists(searches)
        totals = capped_totals(uow.session, caller.principal, lists, cap=COUNT_CAP, now=now)
        own_status = uow.agents.status_of(caller.principal.name)
        listed = (
            view_tickets_in(TicketList(uow.session), caller, view, q=q, limit=limit, now=now)
            if view is not None
            else []
        )
    return QueueFacts(
        counts=dict(zip(views, totals[: len(views)], strict=True)),
        saved_searches=tuple(zip(searches, totals[len(views) :], strict=True)),
        own_status=own_status,
        tickets=tuple(listed),
    )
