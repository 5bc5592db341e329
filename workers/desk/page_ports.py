"""``connectors.page_ports.PageDesk`` over ``page_reads`` (part of ``StaffPorts``)."""

from __future__ import annotations

from router.access import Verdict
from router.page_facts import QueueFacts, TicketPageFacts
from router.queue_views import View
from router.staff_views import Caller
from store.errors import store_errors
from workers.desk import page_reads
from workers.runtime.context import Runtime


class PagePorts:
    """Implements ``connectors.page_ports.PageDesk``; an outage of the store is a
    ``TransientError`` (503)."""

    runtime: Runtime

    def ticket_page_facts(
        self, caller: Caller, number: int, *, others: int
    ) -> tuple[Verdict, TicketPageFacts | None]:
        with store_errors("read ticket page"):
            return page_reads.ticket_page_facts(self.runtime, caller, number, others=others)

    def queue_facts(
        self, caller: Caller, view: View | None = None, *, q: str = "", limit: int = 0
    ) -> QueueFacts:
        with store_errors("read queue page"):
            return page_reads.queue_facts(self.runtime, caller, view, q=q, limit=limit)
