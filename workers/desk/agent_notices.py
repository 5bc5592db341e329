"""Tell an agent about a ticket on the agent's own channel: the first of the registry's
channels the agent is on (Telegram when linked, else email).

Every notice to an agent (assignment, offer, taken, customer reply, mention,
SLA warning and escalation) goes through ``notify_agent``, so the choice of
channel is made in one place and the outbox row always names its agent.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.envelopes import AttachmentRef
from router.errors import PermanentError
from router.notice_texts import Rendered, Requester
from router.vocabulary import OutboxKind
from store.agents import Member
from store.db import UnitOfWork
from store.models import Agent, Ticket
from workers.desk.outgoing import Gathered
from workers.runtime.context import Runtime


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
    gather: Gathered | None = None,
) -> int | None:
    """Queue one notice to ``contact``; the outbox id, or None when it was queued before
    (or when ``gather``, a batch's, took it: written at its flush).

    In Telegram, a notice about a customer's message names its files, and the files
    within ``telegram.max_attachment_bytes`` follow it into the chat."""
    for adapter in runtime.channels.for_agents():  # the first one the agent is on
        if adapter.agent_address(runtime, contact) is not None:
            return adapter.notify_agent(
                runtime,
                uow,
                contact,
                brief,
                kind=kind,
                rendered=rendered,
                dedupe_key=dedupe_key,
                detail=detail,
                gather=gather,
            )
    raise PermanentError(f"agent {contact.name} is reachable on no channel")
