"""The requester hears that their request waits for them (pending), with what was asked:
when it goes pending (unless the answer asking it just went out) and as a reminder."""

from __future__ import annotations

from datetime import timedelta

from connectors.web.requester.notices import pending_chat, pending_mail
from router.requester_view import ticket_link
from router.thread_keys import answer_threading
from router.vocabulary import Channel, OutboxKind
from store.db import UnitOfWork
from store.models import Ticket
from workers.desk.languages import customer_language
from workers.desk.outgoing import queue_chat, queue_email
from workers.runtime.context import Runtime

JUST_ASKED = timedelta(minutes=5)  # an answer this recent asked already: no second notice


def after_pending(runtime: Runtime, uow: UnitOfWork, ticket: Ticket) -> None:
    """``ticket`` just went pending (in this transaction)."""
    if not runtime.settings.requester.pending_notice:
        return
    latest = uow.messages.latest_answer(ticket.id)
    if latest is not None and runtime.now() - latest[1] <= JUST_ASKED:
        return
    tell_requester_pending(runtime, uow, ticket, reminder=False)


def tell_requester_pending(
    runtime: Runtime, uow: UnitOfWork, ticket: Ticket, *, reminder: bool
) -> None:
    """On the channel that answers the ticket's requester (its adapter's ``tell_pending``)."""
    latest = uow.messages.latest_answer(ticket.id)
    asked = latest[0] if latest is not None else ""
    answering = runtime.channels.answering(Channel(ticket.channel))
    answering.tell_pending(runtime, uow, ticket, asked=asked, reminder=reminder)


def pending_in_chat(
    runtime: Runtime, uow: UnitOfWork, ticket: Ticket, *, asked: str, reminder: bool
) -> None:
    """In the chat the requester wrote in."""
    settings = runtime.settings
    language = customer_language(runtime, ticket.requester)
    if settings.telegram.enabled:
        queue_chat(
            runtime,
            uow,
            kind=OutboxKind.PENDING,
            ticket_id=ticket.id,
            chat_id=ticket.requester_address,
            html=pending_chat(
                number=ticket.id,
                asked=asked,
                reminder=reminder,
                language=language,
                tag_prefix=settings.helpdesk.tag_prefix,
            ),
            text="",
            dedupe_key=None,
            automatic=True,
        )


def pending_by_email(
    runtime: Runtime, uow: UnitOfWork, ticket: Ticket, *, asked: str, reminder: bool
) -> None:
    """By mail, in the ticket's thread, with its link."""
    settings = runtime.settings
    language = customer_language(runtime, ticket.requester)
    rendered = pending_mail(
        number=ticket.id,
        subject=ticket.subject,
        requester_name=ticket.requester.name,
        asked=asked,
        link=ticket_link(settings.web.link_base(), ticket.id, ticket.access_key),
        reminder=reminder,
        helpdesk_name=settings.helpdesk.name,
        language=language,
        tag_prefix=settings.helpdesk.tag_prefix,
    )
    parent, references = answer_threading(*uow.messages.conversation(ticket.id))
    queue_email(
        runtime,
        uow,
        kind=OutboxKind.PENDING,
        ticket_id=ticket.id,
        recipient=ticket.requester_address,
        recipient_name=ticket.requester.name,
        rendered=rendered,
        dedupe_key=None,
        automatic=True,
        in_reply_to=parent,
        references=references,
        from_address=ticket.reply_address,
    )
