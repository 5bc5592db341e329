"""``connectors.ports.SplitDesk`` and ``MergeDesk`` over the use cases that move messages
between tickets (part of ``StaffPorts``)."""

from __future__ import annotations

from router.staff_views import Caller
from store.errors import store_errors
from workers.desk.merges import merge_tickets
from workers.desk.splits import split_message
from workers.runtime.context import Runtime


class TicketMovePorts:
    """Split a message out, merge a ticket into another; an outage of the store is a
    ``TransientError`` (503)."""

    runtime: Runtime

    def split_message(
        self,
        caller: Caller,
        number: int,
        message_id: int,
        subject: str,
        *,
        if_match: str | None = None,
    ) -> int:
        with store_errors("split message"):
            return split_message(
                self.runtime,
                number,
                message_id,
                subject=subject,
                actor=caller.origin,
                if_match=if_match,
            )

    def merge_ticket(self, caller: Caller, number: int, into: int, *, if_match: str | None) -> int:
        with store_errors("merge ticket"):
            return merge_tickets(self.runtime, number, into, actor=caller.origin, if_match=if_match)
