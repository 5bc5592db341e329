"""What the staff API and the workspace need from the desk to move messages between tickets
of one requester: split one out, merge a ticket into another (part of ``ports.Staff``)."""

from __future__ import annotations

from typing import Protocol

from router.staff_views import Caller


class SplitDesk(Protocol):
    def split_message(
        self,
        caller: Caller,
        number: int,
        message_id: int,
        subject: str,
        *,
        if_match: str | None = None,
    ) -> int:
        """Move a customer's message of ticket ``number`` into a new ticket of the same
        requester; its number. ``NotFound`` for a message not the ticket's,
        ``PermanentError`` for one that cannot be split out, ``StaleVersion`` when the
        ticket changed since ``if_match``."""
        ...


class MergeDesk(Protocol):
    def merge_ticket(self, caller: Caller, number: int, into: int, *, if_match: str | None) -> int:
        """Merge ticket ``number`` into ``into`` (the same requester's); how many messages
        moved. ``NotFound`` for a ticket that does not exist, ``PermanentError`` for a
        merge refused, ``StaleVersion`` when ``number`` changed since ``if_match``."""
        ...
