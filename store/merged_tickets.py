"""Where a message for a merged ticket goes: along ``merged_into`` to the ticket that
remains (``workers.desk.merges`` sets it)."""

from __future__ import annotations

from router.ticket_merges import MAX_HOPS
from store.models import Ticket
from store.tickets import TicketRepository


def follow_merges(tickets: TicketRepository, ticket: Ticket) -> Ticket:
    """The ticket a message for ``ticket`` joins: itself, or (locked) the one it was merged
    into, and so on along a chain of merges."""
    for _ in range(MAX_HOPS):
        if ticket.merged_into_id is None:
            return ticket
        into = tickets.get(ticket.merged_into_id, for_update=True)
        if into is None:
            return ticket
        ticket = into
    return ticket
