"""The requester's page's use cases, behind ``connectors.ports.RequesterDesk``."""

from __future__ import annotations

import logging

from router.audit_origin import Origin, Via
from router.errors import TransientError
from router.ratings import RatedVia, RatingOutcome, RatingView
from router.ticket_views import TicketView
from router.vocabulary import Status
from workers.desk.ratings import rate_in, rating_of
from workers.desk.requester_sign_in import (
    my_tickets,
    requester_language,
    send_sign_in_link,
    sign_in,
)
from workers.desk.submission_counts import count_submission
from workers.desk.ticket_status import change_ticket_status
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


class RequesterPorts:
    """Implements ``connectors.ports.RequesterDesk`` over the store and the files."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def confirm_solved(self, number: int, *, address: str | None) -> bool:
        with self.runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.get(number, for_update=True)
            if ticket is None or Status(ticket.status) is not Status.RESOLVED:
                return False
            actor = Origin(f"customer:{ticket.requester_id}", Via.PAGE, address=address)
            change_ticket_status(
                self.runtime,
                uow,
                number,
                Status.CLOSED,
                actor=actor,
                reason="the requester confirmed that this solved it",
            )
            return True

    def rate(
        self, number: int, *, good: bool, comment: str, via: RatedVia, address: str | None
    ) -> RatingOutcome:
        with self.runtime.db.unit_of_work() as uow:
            ticket = uow.tickets.get(number)
            if ticket is None:
                return RatingOutcome.NOT_RESOLVED
            actor = Origin(f"customer:{ticket.requester_id}", Via.PAGE, address=address)
            return rate_in(
                self.runtime, uow, number, good=good, comment=comment, via=via, actor=actor
            )

    def rating(self, number: int) -> RatingView:
        return rating_of(self.runtime, number)

    def send_sign_in_link(self, address: str, *, link_base: str, language: str) -> None:
        send_sign_in_link(self.runtime, address, link_base=link_base, language=language)

    def sign_in(self, link_secret: str) -> str | None:
        return sign_in(self.runtime, link_secret)

    def my_tickets(self, session_secret: str) -> list[TicketView] | None:
        return my_tickets(self.runtime, session_secret)

    def requester_language(self, secret: str) -> str | None:
        return requester_language(self.runtime, secret)

    def keep_file(self, data: bytes) -> str:
        try:
            return self.runtime.files.put(data)
        except OSError as exc:
            log.warning("an uploaded file could not be kept: %s", exc)
            raise TransientError(f"the file could not be kept: {exc}") from None

    def file(self, sha256: str) -> bytes | None:
        try:
            return self.runtime.files.read(sha256)
        except (OSError, ValueError):
            return None

    def count_submission(self, address: str | None) -> int:
        return count_submission(self.runtime, address)
