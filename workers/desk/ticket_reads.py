"""Tickets as staff read them: a list page (filters, order, cursor, search) and one in full.

The same for the staff API and the workspace's pages; the scope is the
principal's (``router.access``), decided in the query for a list and by the
caller (``StaffGate.on_ticket``) for one ticket.
"""

from __future__ import annotations

from router.access import Ability, Principal, TicketScope, Verdict, ticket_verdict, visible
from router.staff_ticket_views import StaffAttachment, StaffTicket, TicketPage
from router.ticket_list import MAX_PAGE, TicketFilters, TicketOrder, decode_cursor
from store.staff_ticket_reads import StaffTicketReads
from store.ticket_list import TicketList
from store.ticket_scope import scope_of_ticket
from workers.runtime.context import Runtime


def ticket_page(
    runtime: Runtime,
    principal: Principal,
    filters: TicketFilters,
    *,
    order: TicketOrder = TicketOrder.UPDATED_DESC,
    cursor: str | None = None,
    limit: int = 25,
) -> TicketPage:
    """A page of the tickets ``principal`` may see; ``ValueError`` for a cursor that is not
    this list's."""
    after = decode_cursor(order, cursor) if cursor else None
    limit = max(1, min(limit, MAX_PAGE))
    with runtime.db.reading() as session:
        return TicketList(session).page(
            principal, filters, order=order, after=after, limit=limit, now=runtime.now()
        )


def staff_ticket(runtime: Runtime, number: int) -> StaffTicket | None:
    """Ticket ``number`` in full (internal notes, clocks, audit log, version), or None."""
    with runtime.db.reading() as session:
        return StaffTicketReads(session).read(number)


def staff_ticket_for(
    runtime: Runtime, principal: Principal, number: int, ability: Ability
) -> tuple[Verdict, StaffTicket | None]:
    """Whether ``principal`` may do ``ability`` on ticket ``number`` (``HIDDEN`` also for no
    such ticket) and, when allowed, the ticket in full: three statements in all, no
    transaction around them."""
    with runtime.db.reading() as session:
        verdict, _, ticket = ticket_in_scope(StaffTicketReads(session), principal, number, ability)
    return verdict, ticket


def ticket_in_scope(
    reads: StaffTicketReads, principal: Principal, number: int, ability: Ability
) -> tuple[Verdict, TicketScope | None, StaffTicket | None]:
    """``router.access.ticket_verdict`` on ticket ``number``, decided on the row that
    carries its conversation, the scope facts it was decided on (None: no such ticket)
    and, when allowed, the ticket in full; in the caller's session (``reads``)."""
    found = reads.ticket(number)
    scope = scope_of_ticket(found.ticket) if found is not None else None
    verdict = ticket_verdict(principal, ability, scope)
    if found is None or verdict is not Verdict.ALLOWED:
        return verdict, scope, None
    return verdict, scope, reads.in_full(found)


def version_for(runtime: Runtime, principal: Principal, number: int) -> str | None:
    """Ticket ``number``'s version now, or None when ``principal`` may not see it (one
    statement)."""
    with runtime.db.reading() as session:
        found = StaffTicketReads(session).versioned(number)
    if found is None or not visible(principal, scope_of_ticket(found[0])):
        return None
    return found[1]


def attachment_file(
    runtime: Runtime, number: int, attachment_id: int
) -> tuple[StaffAttachment, bytes] | None:
    """An attachment of ticket ``number`` with its bytes; None when it is not one of that
    ticket's, or its bytes were not kept (or are gone)."""
    with runtime.db.unit_of_work() as uow:
        found = StaffTicketReads(uow.session).attachment(attachment_id)
    if found is None or found[0] != number:
        return None
    row = found[1]
    if row.sha256 is None:
        return None
    try:
        data = runtime.files.read(row.sha256)
    except (OSError, ValueError):
        return None
    view = StaffAttachment(
        id=row.id, filename=row.filename, content_type=row.content_type, size=row.size, kept=True
    )
    return view, data
