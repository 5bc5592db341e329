"""What routing writes once it decided: the assignment with its reasons, the offer in
claim mode, why a ticket waits; and the agents' notices about them."""

from __future__ import annotations

import logging
from datetime import datetime

from router.lifecycle import check_transition
from router.notice_texts import assignment_notice, offer_notice, why_you
from router.routing_facts import AgentFacts, TicketFacts
from router.selection import Decision, SelectionPolicy, explain
from router.vocabulary import AuditAction, OutboxKind, Status, SystemActor
from store.agents import Member
from store.db import UnitOfWork
from store.tickets import RoutingTicket
from workers.desk.agent_notices import AgentContact, TicketBrief, notify_agent
from workers.desk.languages import agent_language
from workers.desk.outgoing import Gathered
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


def assignment_status(ticket: RoutingTicket) -> Status | None:
    """The status a ticket takes as it is assigned (new -> open); None: it keeps its own."""
    return check_transition(ticket.status, Status.OPEN) if ticket.status is Status.NEW else None


def record_assignment(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: RoutingTicket,
    member: Member,
    choice: tuple[Decision, TicketFacts, tuple[str, ...]],
    now: datetime,
    policy: SelectionPolicy,
    gather: Gathered | None = None,
) -> None:
    """What follows the ticket's assignment to ``member`` (``route_slots.claim_and_assign``,
    or a batch that assigned its tickets together, whose notices ``gather`` queues
    together): the log line, the audit event, the agent's notice."""
    decision, facts, relaxed = choice
    chosen = member.facts
    number = ticket.facts.id
    reasons = relaxed + decision.reasons
    if chosen is not decision.agent:  # its first choice was taken meanwhile
        reasons = (*relaxed, explain(chosen, facts, now, policy=policy))
    uow.after_commit(
        lambda: log.info("ticket #%s assigned to %s", number, chosen.name, extra={"ticket": number})
    )
    uow.audit.record(
        ticket_id=number,
        actor=SystemActor.ROUTE,
        action=AuditAction.TICKET_ASSIGNED,
        detail=f"assigned to {chosen.name}: " + "; ".join(reasons),
        now=now,
        data={"agent": chosen.name, "load": chosen.load + 1, "capacity": chosen.capacity},
    )
    contact = AgentContact.of_member(member)
    language = agent_language(runtime, contact)
    queue_assignment_notice(
        runtime,
        uow,
        contact,
        brief_of_routing(ticket),
        # why, as the audit log says it, in the agent's words
        reasons=(*relaxed, explain(chosen, facts, now, policy=policy, language=language)),
        dedupe_key=f"assign:{number}:{chosen.id}:{now.isoformat()}",
        gather=gather,
    )


def offer(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: RoutingTicket,
    eligible: tuple[AgentFacts, ...],
    members: dict[int, Member],
    reasons: tuple[str, ...],
) -> bool:
    """Claim mode: tell every eligible agent once; the first claim wins (claim_ticket).
    False when nobody is eligible (the ticket waits)."""
    now = runtime.now()
    if not eligible:
        record_waiting(runtime, uow, ticket, (), reasons)
        return False
    told = []
    brief = brief_of_routing(ticket)
    for agent in eligible:
        contact = AgentContact.of_member(members[agent.id])
        language = agent_language(runtime, contact)
        rendered = offer_notice(
            number=ticket.facts.id,
            subject=ticket.subject,
            priority=ticket.facts.priority.value,
            requester=ticket.requester.label(language),
            excerpt=ticket.first_message,
            language=language,
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
        )
        queued = notify_agent(
            runtime,
            uow,
            contact,
            brief,
            kind=OutboxKind.OFFER,
            rendered=rendered,
            dedupe_key=f"offer:{ticket.facts.id}:{agent.id}:{ticket.queued_at.timestamp()}",
        )
        if queued is not None:
            told.append(agent.name)
    if told:
        uow.audit.record(
            ticket_id=ticket.facts.id,
            actor=SystemActor.ROUTE,
            action=AuditAction.TICKET_OFFERED,
            detail=f"offered to {', '.join(told)} (claim mode): the first claim wins",
            now=now,
            data={"agents": told},
        )
    return True


def record_waiting(
    runtime: Runtime,
    uow: UnitOfWork,
    ticket: RoutingTicket,
    relaxed: tuple[str, ...],
    reasons: tuple[str, ...],
) -> None:
    """Say in the audit log that the ticket waits, and why: once each time it is queued,
    and once more for each skills-timeout step it reaches while waiting."""
    logged = uow.audit.logged_since(
        ticket.facts.id, (AuditAction.TICKET_WAITING, AuditAction.TICKET_RELAXED), ticket.queued_at
    )
    for step in relaxed:
        if (AuditAction.TICKET_RELAXED, step) not in logged:
            uow.audit.record(
                ticket_id=ticket.facts.id,
                actor=SystemActor.ROUTE,
                action=AuditAction.TICKET_RELAXED,
                detail=step,
                now=runtime.now(),
            )
    waiting = "; ".join(reasons)
    if not any(action == AuditAction.TICKET_WAITING for action, _ in logged):  # once this round
        uow.audit.record(
            ticket_id=ticket.facts.id,
            actor=SystemActor.ROUTE,
            action=AuditAction.TICKET_WAITING,
            detail=waiting,
            now=runtime.now(),
        )


def brief_of_routing(ticket: RoutingTicket) -> TicketBrief:
    return TicketBrief(
        number=ticket.facts.id,
        subject=ticket.subject,
        priority=ticket.facts.priority.value,
        requester=ticket.requester,
        latest=ticket.first_message,
    )


def queue_assignment_notice(
    runtime: Runtime,
    uow: UnitOfWork,
    contact: AgentContact,
    brief: TicketBrief,
    *,
    reasons: tuple[str, ...],
    dedupe_key: str | None,
    gather: Gathered | None = None,
) -> None:
    """Tell an agent a ticket is theirs (routing and hand assignment alike)."""
    language = agent_language(runtime, contact)
    rendered = assignment_notice(
        number=brief.number,
        subject=brief.subject,
        priority=brief.priority,
        requester=brief.requester.label(language),
        excerpt=brief.latest,
        reasons=reasons,
        language=language,
        tag_prefix=runtime.settings.helpdesk.tag_prefix,
    )
    notify_agent(
        runtime,
        uow,
        contact,
        brief,
        kind=OutboxKind.ASSIGNMENT,
        rendered=rendered,
        dedupe_key=dedupe_key,
        detail=why_you(reasons, language),
        gather=gather,
    )
