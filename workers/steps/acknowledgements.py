"""The acknowledgement a new ticket's requester gets, with the ticket's link: by email (a
web requester's too) within the auto-reply limit, or in their chat."""

from __future__ import annotations

from dataclasses import replace

from connectors.telegram.customer_texts import chat_acknowledgement
from connectors.web.requester.links import link_button, link_paragraph
from router.envelopes import InboundMessage
from router.notice_texts import acknowledgement
from router.requester_view import ticket_link
from router.thread_keys import (
    SentOn,
    answer_threading,
    followed_chain,
    our_address_written_to,
)
from router.vocabulary import (
    AuditAction,
    OutboxKind,
    SystemActor,
)
from store.db import UnitOfWork
from workers.desk.outgoing import Gathered, queue_chat, queue_email
from workers.runtime.context import Runtime
from workers.steps.ingest_email import (
    AutoReplyLimit,
)


def reply_address(runtime: Runtime, message: InboundMessage) -> str | None:
    """The address of ours an email's requester wrote to, when it is not the helpdesk's:
    our mail to them comes from it (None: from ``helpdesk.address``)."""
    found = our_address_written_to(
        message.recipients,
        runtime.own_addresses,
        runtime.mailbox_addresses.get(message.source, ""),
    )
    return None if found == runtime.settings.helpdesk.address.lower() else found


def acknowledge_in_chat(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket_id: int,
    message: InboundMessage,
    gather: Gathered | None = None,
) -> None:
    """Tell a chat's customer their new ticket's number, with a button to its page
    (``gather``: a batch's, which queues it with the others)."""
    link, language = _link(runtime, uow, ticket_id, message)
    html = chat_acknowledgement(
        number=ticket_id,
        subject=message.subject or message.body_text,
        helpdesk_name=runtime.settings.helpdesk.name,
        language=language,
        tag_prefix=runtime.settings.helpdesk.tag_prefix,
    )
    queue_chat(
        runtime,
        uow,
        kind=OutboxKind.ACKNOWLEDGEMENT,
        ticket_id=ticket_id,
        chat_id=message.sender_address,
        html=html,
        text="",
        dedupe_key=f"ack:{ticket_id}",
        automatic=True,
        # a chat's URL button must reach the desk from the requester's device
        buttons=((link_button(link, language),),) if runtime.settings.web.public_url else (),
        gather=gather,
    )


def acknowledge_by_email(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket_id: int,
    message: InboundMessage,
    limit: AutoReplyLimit | None = None,
    gather: Gathered | None = None,
) -> None:
    """``limit``: the batch's auto-reply limit, decided for all its acknowledgements;
    ``gather``: the batch's, which queues the acknowledgements together."""
    link, language = _link(runtime, uow, ticket_id, message)
    if limit is None:
        limit = AutoReplyLimit(runtime, uow, [message.sender_address])
    refusal = limit.refusal(message.sender_address)
    if refusal is not None:
        uow.audit.record(
            ticket_id=ticket_id,
            actor=SystemActor.INGEST,
            action=AuditAction.ACKNOWLEDGEMENT_SUPPRESSED,
            detail=refusal,
            now=runtime.now(),
        )
        return
    rendered = acknowledgement(
        number=ticket_id,
        subject=message.subject,
        requester_name=message.sender_name,
        helpdesk_name=runtime.settings.helpdesk.name,
        language=language,
        tag_prefix=runtime.settings.helpdesk.tag_prefix,
    )
    rendered = replace(rendered, body_text=_with_link(rendered.body_text, link, language))
    own = [SentOn(message.external_id, from_requester=True)] if message.external_id else []
    parent, references = answer_threading(own, followed_chain(message.headers))
    queue_email(
        runtime,
        uow,
        kind=OutboxKind.ACKNOWLEDGEMENT,
        ticket_id=ticket_id,
        recipient=message.sender_address,
        recipient_name=message.sender_name,
        rendered=rendered,
        dedupe_key=f"ack:{ticket_id}",
        automatic=True,
        in_reply_to=parent,
        references=references,
        from_address=runtime.channels[message.channel].reply_address(runtime, message),
        gather=gather,
    )


def _link(
    runtime: Runtime, uow: UnitOfWork, ticket_id: int, message: InboundMessage
) -> tuple[str, str]:
    """The ticket's link and the language to name it in (the requester's, as ingest
    decided it). The key is the message's when it opened the ticket with one (ingest
    gives every new ticket's message one), else read."""
    key = message.access_key
    if key is None:
        ticket = uow.tickets.get(ticket_id)
        key = ticket.access_key if ticket is not None else ""
    language = message.language or runtime.settings.helpdesk.language
    return ticket_link(runtime.settings.web.link_base(), ticket_id, key), language


def _with_link(body: str, link: str, language: str) -> str:
    """The acknowledgement with the link's paragraph before its signature."""
    paragraph = link_paragraph(link, language)
    head, cut, signature = body.rpartition("\n-- ")
    return f"{head}\n{paragraph}\n{cut}{signature}" if cut else f"{body}\n{paragraph}\n"
