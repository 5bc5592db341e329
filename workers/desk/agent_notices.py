"""Tell an agent about a ticket on the agent's own channel: Telegram when linked, else email.

Every notice to an agent (assignment, offer, taken, customer reply, mention,
SLA warning and escalation) goes through ``notify_agent``, so the choice of
channel is made in one place and the outbox row always names its agent.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.telegram.notices import agent_notice
from router.notice_texts import Rendered, requester_label
from store.agents import Member
from store.db import UnitOfWork
from store.models import Agent, Ticket
from workers.desk.outgoing import queue_chat, queue_email
from workers.runtime.context import Runtime

# outbox kinds -> the kinds of chat notice they are shown as
_CHAT_KINDS = {
    "assignment": "assignment",
    "offer": "offer",
    "taken": "taken",
    "reply_notice": "reply",
    "mention": "mention",
    "sla_warning": "sla_warning",
    "sla_breached": "sla_breach",
}


@dataclass(frozen=True)
class AgentContact:
    """Where an agent is told things."""

    id: int
    name: str
    email: str
    display_name: str
    telegram_chat_id: str | None = None

    @classmethod
    def of(cls, agent: Agent) -> AgentContact:
        return cls(
            id=agent.id,
            name=agent.name,
            email=agent.email,
            display_name=agent.display_name,
            telegram_chat_id=agent.telegram_chat_id,
        )

    @classmethod
    def of_member(cls, member: Member) -> AgentContact:
        return cls(
            id=member.facts.id,
            name=member.facts.name,
            email=member.email,
            display_name=member.display_name,
            telegram_chat_id=member.telegram_chat_id,
        )


@dataclass(frozen=True)
class TicketBrief:
    """What every notice says about its ticket."""

    number: int
    subject: str
    priority: str
    requester: str
    latest: str

    @classmethod
    def of(cls, ticket: Ticket, latest: str) -> TicketBrief:
        name = ticket.requester.name if ticket.requester is not None else ""
        return cls(
            number=ticket.id,
            subject=ticket.subject,
            priority=ticket.priority,
            requester=requester_label(name, ticket.requester_address, ticket.channel),
            latest=latest,
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
    kind: str,
    rendered: Rendered,
    dedupe_key: str | None,
    detail: str = "",
) -> int | None:
    """Queue one notice to ``contact``; the outbox id, or None when it was queued before."""
    if runtime.settings.telegram.enabled and contact.telegram_chat_id:
        telegram = runtime.settings.telegram
        notice = agent_notice(
            kind=_CHAT_KINDS.get(kind, kind),
            number=brief.number,
            priority=brief.priority,
            requester=brief.requester,
            subject=brief.subject,
            latest=brief.latest,
            detail=detail,
            web_url=telegram.ticket_url(brief.number),
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
        )
        return queue_chat(
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
