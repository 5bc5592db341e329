"""What ingest writes on a ticket: open a new one, or join a message to one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from router.catalogs import SOURCE_LANGUAGE
from router.envelopes import InboundMessage
from router.language_choice import requester_language, stated_language
from router.lifecycle import ROUTABLE_STATUSES, status_after_customer_reply
from router.notice_texts import customer_reply_notice, requester_label
from router.rules import Classified, facts_from_message
from router.sla_clock import SlaEvent, status_event
from router.vocabulary import (
    AgentStatus,
    AuditAction,
    OutboxKind,
    Status,
    SystemActor,
)
from store.customers import CustomerRef
from store.db import UnitOfWork
from store.models import Ticket
from store.ticket_rows import ticket_row
from workers.desk.agent_notices import AgentContact, TicketBrief, notify_agent
from workers.desk.languages import agent_language
from workers.desk.sla_clocks import clock_event, start_clocks
from workers.runtime.context import Runtime
from workers.runtime.desk_config import DeskConfig

log = logging.getLogger(__name__)


def author(message: InboundMessage, language: str = SOURCE_LANGUAGE) -> str:
    """The requester as a notice names them (as a message's author: in English, data)."""
    return requester_label(
        message.sender_name, message.sender_address, message.channel.value, language
    )


def requester_language_of(
    runtime: Runtime, uow: UnitOfWork, message: InboundMessage, customer: CustomerRef | None
) -> str:
    """The language to write to the requester in; what the message states is remembered
    for them (a person's automatic mail says nothing about them)."""
    default = runtime.settings.helpdesk.language
    if customer is None or message.is_automatic:
        return default
    headers = message.headers
    stated = stated_language(
        message.language or headers.get("Accept-Language") or headers.get("Content-Language") or ""
    )
    if stated is not None:
        customer = uow.customers.speaks(customer, stated)
    return requester_language(known=customer.language, default=default)


@dataclass(frozen=True)
class Opening:
    """A new ticket a message opens, classified and not written yet: its row, and a
    stand-in (``ticket``, transient, numbered once written) that later rows of an ingest
    batch thread onto."""

    row: dict[str, Any]  # ``store.ticket_rows.ticket_row``
    decision: Classified
    deciding: DeskConfig  # the configuration version that classified it (a pilot's)
    customer: CustomerRef
    parent_id: int | None
    ticket: Ticket
    now: datetime  # when its message was taken: the row's, its audit event's, its clocks'


def plan_ticket(
    runtime: Runtime,
    uow: UnitOfWork,
    message: InboundMessage,
    customer: CustomerRef,
    parent: Ticket | None,
    *,
    now: datetime,
) -> Opening:
    """Classify the ticket ``message`` opens and make its row, of ``now`` (``record_opened``
    writes the rest once the row is written, of the same time)."""
    decision, deciding = runtime.configs.desk().classify(
        facts_from_message(
            message,
            tier=customer.tier,
            organisation=customer.organisation,
            template=message.template,
        ),
        category_hint=message.category_hint,
        priority_hint=message.priority_hint,
    )
    team_id = runtime.team_ids.get(decision.team)
    if team_id is None:
        team = decision.team  # asked once a unit of work; it may create the team, so it is
        found = uow.memo(f"team:{team}", lambda: uow.agents.team_id(team))  # kept after commit
        uow.after_commit(lambda: runtime.team_ids.setdefault(team, found))
        team_id = found
    row = ticket_row(
        subject=message.subject,
        channel=message.channel,
        requester_id=customer.id,
        requester_address=message.sender_address,
        priority=decision.priority,
        category=decision.category,
        team_id=team_id,
        now=now,
        custom_fields=message.custom_fields,
        parent_id=parent.id if parent else None,
        access_key=message.access_key,
        required_skills=dict(decision.required_skills),
        optional_skills=dict(decision.optional_skills),
        tags=list(decision.tags),
        reply_address=runtime.channels[message.channel].reply_address(runtime, message),
        form=message.template,
    )
    stand_in = Ticket(status=row["status"], channel=row["channel"])
    return Opening(row, decision, deciding, customer, row["parent_id"], stand_in, now)


def record_opened(
    runtime: Runtime, uow: UnitOfWork, opening: Opening, ticket_id: int, message: InboundMessage
) -> None:
    """What a new ticket's row (written: ``ticket_id``) brings: its audit event, its SLA
    clocks, decided by the version that classified it."""
    decision, customer = opening.decision, opening.customer
    with runtime.configs.deciding(opening.deciding):  # a pilot team's ticket: its candidate
        detail = "; ".join(decision.reasons)
        if message.is_automatic or message.is_bulk:
            detail += f"; {message.automatic_reason or 'automatic mail'}: not acknowledged"
        if opening.parent_id is not None:
            detail += f"; follows up closed ticket #{opening.parent_id}"
        now = opening.now  # the row's: one time for the ticket, its audit, its clocks
        uow.audit.record(
            ticket_id=ticket_id,
            actor=f"customer:{customer.id}",
            action=AuditAction.TICKET_CREATED,
            detail=detail,
            now=now,
            data={
                "channel": message.channel.value,
                "source": message.source,
                **decision.audit_data(),
            },
        )
        start_clocks(
            runtime,
            uow,
            ticket_id,
            priority=decision.priority,
            category=decision.category,
            team=decision.team,
            tier=customer.tier,
            channel=message.channel,
            now=now,
            opened=True,
        )


def join_ticket(
    runtime: Runtime, uow: UnitOfWork, ticket: Ticket, message: InboundMessage, now: datetime
) -> bool:
    """Add a reply to a (locked) ticket at ``now`` (the time its row was decided at, which
    its message carries too); returns whether the ticket now waits for routing."""
    current = Status(ticket.status)
    ticket.updated_at = now
    if message.is_automatic:
        uow.audit.record(
            ticket_id=ticket.id,
            actor=SystemActor.INGEST,
            action=AuditAction.MESSAGE_QUIET,
            detail=(
                f"automatic message by {message.channel.value}: recorded, not answered"
                + (f" ({message.automatic_reason})" if message.automatic_reason else "")
            ),
            now=now,
        )
        return False
    target = status_after_customer_reply(current)
    if target is not None and target is not current:
        uow.tickets.set_status(ticket, target, now)  # a reopen takes the agent's slot back
        uow.audit.record(
            ticket_id=ticket.id,
            actor=SystemActor.INGEST,
            action=AuditAction.TICKET_REOPENED
            if current is Status.RESOLVED
            else AuditAction.TICKET_STATUS,
            detail=f"{current.value} -> {target.value}: the customer replied",
            now=now,
            data={"from": current.value, "to": target.value},
        )
        _leave_an_absent_assignee(runtime, uow, ticket)
        moved = status_event(current, target)
        if moved is not None:
            clock_event(runtime, uow, ticket.id, moved, now)
    clock_event(runtime, uow, ticket.id, SlaEvent.CUSTOMER_MESSAGE, now)
    uow.audit.record(
        ticket_id=ticket.id,
        actor=SystemActor.INGEST,
        action=AuditAction.MESSAGE_RECEIVED,
        detail=f"reply by {message.channel.value}",
        now=now,
    )
    if ticket.assignee is not None:
        contact = AgentContact.of(ticket.assignee)
        language = agent_language(runtime, contact)
        rendered = customer_reply_notice(
            number=ticket.id,
            subject=ticket.subject,
            requester=author(message, language),
            excerpt=message.body_text[:1000],
            language=language,
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
        )
        notify_agent(
            runtime,
            uow,
            contact,
            TicketBrief.of(ticket, latest=message.body_text[:1000], files=message.attachments),
            kind=OutboxKind.REPLY_NOTICE,
            rendered=rendered,
            dedupe_key=f"reply-notice:{message.channel.value}:{message.idempotency_key}"[:255],
        )
    return ticket.assignee_id is None and Status(ticket.status) in ROUTABLE_STATUSES


def _leave_an_absent_assignee(runtime: Runtime, uow: UnitOfWork, ticket: Ticket) -> None:
    """With ``return_on_offline``, a ticket reopened while its agent is offline goes back
    to the queue instead of waiting for that agent."""
    agent = ticket.assignee
    if agent is None or agent.status != AgentStatus.OFFLINE.value:
        return
    if not runtime.settings.routing.return_on_offline:
        return
    uow.agents.release_slot(agent.id)
    ticket.assignee = None  # (the relationship, so the reply notice goes to nobody)
    ticket.queued_at = runtime.now()
    uow.audit.record(
        ticket_id=ticket.id,
        actor=SystemActor.INGEST,
        action=AuditAction.TICKET_UNASSIGNED,
        detail=f"taken from {agent.name}, back to the queue: {agent.name} is offline",
        now=runtime.now(),
        data={"previous": agent.name},
    )
