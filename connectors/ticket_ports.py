"""The staff's ticket seams: the list and the read (``TicketDesk``), and what staff do to
a ticket (``TicketActions``). Part of ``connectors.ports.Staff``, implemented by
``workers.desk.staff_ports``."""

from __future__ import annotations

from typing import Protocol

from router.access import Ability, Verdict
from router.staff_ticket_views import StaffAttachment, StaffTicket, TicketPage
from router.staff_views import Caller
from router.ticket_edits import TicketEdit
from router.ticket_list import TicketFilters, TicketOrder
from router.vocabulary import Status


class TicketDesk(Protocol):
    """Tickets for staff: the list and one in full (the caller's scope already checked for
    one ticket by ``StaffGate.on_ticket``; a list is scoped by the query)."""

    def ticket_page(
        self,
        caller: Caller,
        filters: TicketFilters,
        *,
        order: TicketOrder,
        cursor: str | None,
        limit: int,
    ) -> TicketPage:
        """``ValueError`` for a cursor that is not this list's."""
        ...

    def staff_ticket(self, number: int) -> StaffTicket | None: ...

    def staff_ticket_for(
        self, caller: Caller, number: int, ability: Ability
    ) -> tuple[Verdict, StaffTicket | None]:
        """Whether the caller may do ``ability`` on the ticket (``HIDDEN``: not in their
        scope, or no such ticket) and, when allowed, the ticket in full: one transaction,
        where ``StaffGate.on_ticket`` and ``staff_ticket`` are two."""
        ...

    def version_for(self, caller: Caller, number: int) -> str | None:
        """The ticket's version now (a read's If-None-Match is checked against it), or None
        when it is not (or no longer) in scope."""
        ...

    def attachment_file(
        self, number: int, attachment_id: int
    ) -> tuple[StaffAttachment, bytes] | None:
        """An attachment of ticket ``number`` and its bytes; None when it is not that
        ticket's or its bytes were not kept."""
        ...


class TicketActions(Protocol):
    """What staff do to a ticket: each the desk's one use case (the command line's and
    Telegram's too), recorded with ``caller.origin``; the caller's role and scope already
    checked (``StaffGate.on_ticket``). ``if_match``: the version the caller read
    (``StaleVersion`` when the ticket changed since). ``NotFound`` for an agent or team
    that does not exist, ``PermanentError`` for what the ticket's state refuses."""

    def reply(
        self,
        caller: Caller,
        number: int,
        text: str,
        *,
        status: Status | None,
        if_match: str | None,
        files: tuple[tuple[str, str], ...] = (),
    ) -> str | None:
        """``files``: (sha256, file name) of kept uploads (``keep_file``); ``NotFound`` for
        one that is not kept. The caller's scope and role are checked on the ticket's
        locked row: ``OutOfScope`` (as if it did not exist), ``NotAllowed``. The ticket's
        version after it, when known (None: read it, ``version_for``)."""
        ...

    def keep_file(self, data: bytes) -> str:
        """Keep an upload's bytes (content-addressed, as email attachments); its SHA-256."""
        ...

    def note(self, caller: Caller, number: int, text: str, *, if_match: str | None) -> str | None:
        """The ticket's version after it, as ``reply``."""
        ...

    def set_status(
        self, caller: Caller, number: int, status: Status, *, reason: str, if_match: str | None
    ) -> None: ...

    def assign(
        self,
        caller: Caller,
        number: int,
        agent: str,
        *,
        reason: str,
        force: bool,
        if_match: str | None,
    ) -> None: ...

    def transfer(
        self,
        caller: Caller,
        number: int,
        *,
        agent: str | None,
        team: str | None,
        reason: str,
        if_match: str | None,
    ) -> None: ...

    def claim(self, caller: Caller, number: int, *, if_match: str | None) -> None: ...

    def unassign(
        self, caller: Caller, number: int, *, reason: str, if_match: str | None
    ) -> None: ...

    def edit_fields(
        self, caller: Caller, number: int, edit: TicketEdit, *, reason: str, if_match: str | None
    ) -> tuple[str, ...]:
        """The names of the fields that changed; ``ValueError`` for an edit out of bounds."""
        ...

    def version_for(self, caller: Caller, number: int) -> str | None:
        """The ticket's version now, or None when it is not (or no longer) in scope."""
        ...
