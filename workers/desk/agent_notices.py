"""Tell an agent about a ticket on the agent's own channel: Telegram when linked, else email.

Every notice to an agent (assignment, offer, taken, customer reply, mention,
SLA warning and escalation) goes through ``notify_agent``, so the choice of
channel is made in one place and the outbox row always names its agent.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.telegram.notices import agent_notice, forwarded_file_caption
from router.envelopes import AttachmentRef
from router.notice_texts import Rendered, Requester
from router.vocabulary import OutboxKind
from store.agents import Member
from store.db import UnitOfWork
from store.models import Agent, Ticket
from workers.desk.languages import agent_language
from workers.desk.outgoing import queue_chat, queue_email
from workers.runtime.context import Runtime

# outbox kinds of notices about a customer's message: they name its files and pass them on
_ABOUT_A_MESSAGE = frozenset({OutboxKind.ASSIGNMENT, OutboxKind.OFFER, OutboxKind.REPLY_NOTICE})
# outbox kinds -> the kinds of chat notice they are shown as
_CHAT_KINDS: dict[OutboxKind, str] = {
    OutboxKind.ASSIGNMENT: "assignment",
    OutboxKind.OFFER: "offer",
    OutboxKind.TAKEN: "taken",
    OutboxKind.REPLY_NOTICE: "reply",
    OutboxKind.MENTION: "mention",
    OutboxKind.SLA_WARNING: "sla_warning",
    OutboxKind.SLA_BREACHED: "sla_breach",
}


@dataclass(frozen=True)
class AgentContact:
    """Where an agent is told things."""

    id: int
    name: str
    email: str
    display_name: str
    telegram_chat_id: str | None = None
    language: str | None = None  # None: helpdesk.language

    @classmethod
    def of(cls, agent: Agent) -> AgentContact:
        return cls(
            id=agent.id,
            name=agent.name,
            email=agent.email,
            display_name=agent.display_name,
            telegram_chat_id=agent.telegram_chat_id,
            language=agent.language,
        )

    @classmethod
    def of_member(cls, member: Member) -> AgentContact:
        return cls(
            id=member.facts.id,
            name=member.facts.name,
            email=member.email,
            display_name=member.display_name,
            telegram_chat_id=member.telegram_chat_id,
            language=member.language,
        )


@dataclass(frozen=True)
class TicketBrief:
    """What every notice says about its ticket."""

    number: int
    subject: str
    priority: str
    requester: Requester
    latest: str
    # the files of the message the notice is about; None: the customer's latest message's
    files: tuple[AttachmentRef, ...] | None = None

    @classmethod
    def of(
        cls, ticket: Ticket, latest: str, files: tuple[AttachmentRef, ...] | None = None
    ) -> TicketBrief:
        name = ticket.requester.name if ticket.requester is not None else ""
        return cls(
            number=ticket.id,
            subject=ticket.subject,
            priority=ticket.priority,
            requester=Requester(name, ticket.requester_address, ticket.channel),
            latest=latest,
            files=files,
        )


def brief_of(uow: UnitOfWork, ticket: Ticket) -> TicketBrief:
    """The brief with the customer's latest message (one query, not the whole thread)."""
    return TicketBrief.of(ticket, uow.messages.latest_inbound_texts([ticket.id]).get(ticket.id, ""))


def notify_agent(
    runtime: Runtime,
    uow: UnitOfWork,
    contact: AgentContact,
    brief: TicketBrief,
    *,
    kind: OutboxKind,
    rendered: Rendered,
    dedupe_key: str | None,
    detail: str = "",
) -> int | None:
    """Queue one notice to ``contact``; the outbox id, or None when it was queued before.

    In Telegram, a notice about a customer's message names its files, and the files
    within ``telegram.max_attachment_bytes`` follow it into the chat."""
    if runtime.settings.telegram.enabled and contact.telegram_chat_id:
        telegram = runtime.settings.telegram
        files: tuple[AttachmentRef, ...] = ()
        if kind in _ABOUT_A_MESSAGE:
            known = brief.files
            files = known if known is not None else uow.messages.latest_inbound_files(brief.number)
        language = agent_language(runtime, contact)
        notice = agent_notice(
            kind=_CHAT_KINDS.get(kind, kind),
            number=brief.number,
            priority=brief.priority,
            requester=brief.requester.label(language),
            language=language,
            subject=brief.subject,
            latest=brief.latest,
            detail=detail,
            web_url=telegram.ticket_url(brief.number),
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
            files=[(f.filename, f.skipped if f.sha256 is None else None) for f in files],
        )
        outbox_id = queue_chat(
            runtime,
            uow,
            kind=kind,
            ticket_id=brief.number,
            chat_id=contact.telegram_chat_id,
            html=notice.html,
            text=rendered.body_text,
            buttons=notice.buttons_payload(),
            dedupe_key=dedupe_key,
            agent_id=contact.id,
            recipient_name=contact.display_name or contact.name,
            subject=rendered.subject,  # for the email it becomes if the chat is unreachable
        )
        if outbox_id is not None:
            _pass_on_files(
                runtime, uow, contact.telegram_chat_id, brief.number, files, outbox_id, language
            )
        return outbox_id
    return queue_email(
        runtime,
        uow,
        kind=kind,
        ticket_id=brief.number,
        recipient=contact.email,
        recipient_name=contact.display_name,
        rendered=rendered,
        dedupe_key=dedupe_key,
        automatic=False,
        agent_id=contact.id,
    )


def _pass_on_files(
    runtime: Runtime,
    uow: UnitOfWork,
    chat_id: str,
    number: int,
    files: tuple[AttachmentRef, ...],
    notice_id: int,
    language: str,
) -> None:
    """The customer's kept files within the size limit, into the agent's chat after the
    notice (a chat's messages leave in order); a reply to one answers the ticket."""
    limit = runtime.settings.telegram.max_attachment_bytes
    tag_prefix = runtime.settings.helpdesk.tag_prefix
    for index, ref in enumerate(files):
        if ref.sha256 is None or ref.size > limit:
            continue  # named in the notice, with why
        queue_chat(
            runtime,
            uow,
            kind=OutboxKind.CUSTOMER_FILE,
            ticket_id=number,
            chat_id=chat_id,
            html=forwarded_file_caption(
                number=number, filename=ref.filename, language=language, tag_prefix=tag_prefix
            ),
            text="",
            dedupe_key=f"file:{notice_id}:{index}",
            automatic=True,
            action="document",
            attachments=(ref,),
        )
