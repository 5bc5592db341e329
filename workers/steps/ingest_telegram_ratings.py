"""A requester rates the help from their chat: the Good / Bad buttons under the notice
that their request was resolved."""

from __future__ import annotations

from connectors.telegram.commands import ButtonAction
from connectors.telegram.updates import ChatUpdate
from connectors.web.requester.notices import rating_answer
from router.audit_origin import Origin, Via
from router.ratings import RatedVia, RatingOutcome
from store.db import UnitOfWork
from workers.desk.languages import customer_language
from workers.desk.ratings import rate_in
from workers.runtime.context import Runtime


def rate_from_chat(
    runtime: Runtime, uow: UnitOfWork, update: ChatUpdate, pressed: ButtonAction
) -> str:
    """Keep the rating a button says, when the chat is the ticket's requester's; the
    answer to show in the chat."""
    ticket = uow.tickets.get(pressed.ticket)
    if ticket is None or ticket.requester_address != update.chat_id:
        return rating_answer(False, runtime.settings.helpdesk.language)
    outcome = rate_in(
        runtime,
        uow,
        ticket.id,
        good=pressed.action == "good",
        comment="",
        via=RatedVia.TELEGRAM,
        actor=Origin(f"customer:{ticket.requester_id}", Via.TELEGRAM),
    )
    saved = outcome in (RatingOutcome.RECORDED, RatingOutcome.CHANGED)
    return rating_answer(saved, customer_language(runtime, ticket.requester))
