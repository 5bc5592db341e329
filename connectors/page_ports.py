"""The workspace pages' seam (``PageDesk``): what a page reads besides its list, in one
transaction. Part of ``connectors.ports.Staff``, implemented by
``workers.desk.page_ports``."""

from __future__ import annotations

from typing import Protocol

from router.access import Verdict
from router.page_facts import QueueFacts, TicketPageFacts
from router.queue_views import View
from router.staff_views import Caller


class PageDesk(Protocol):
    def ticket_page_facts(
        self, caller: Caller, number: int, *, others: int
    ) -> tuple[Verdict, TicketPageFacts | None]:
        """Whether ``caller`` may view ticket ``number`` (``HIDDEN`` also for no such
        ticket: 404) and, when allowed, the ticket page's facts."""
        ...

    def queue_facts(
        self, caller: Caller, view: View | None = None, *, q: str = "", limit: int = 0
    ) -> QueueFacts:
        """The queue page's counts and saved searches, the caller's own status and with
        ``view`` its first ``limit`` tickets (narrowed by the search ``q``), each once."""
        ...
