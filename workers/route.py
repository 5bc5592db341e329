"""Route: give a waiting ticket to the best agent, claimed atomically; drain a team's backlog.

Locks the ticket row first, then claims an agent slot with a conditional
UPDATE; if either check fails the transaction rolls back as a whole, so a
ticket is never assigned twice and an agent never goes past capacity.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from sqlalchemy import exists, select

from router.assignment import choose_agent, explain
from router.lifecycle import check_transition, is_active
from router.notifications import assignment_notice
from router.vocabulary import Status
from store.db import UnitOfWork
from store.models import AuditEvent
from workers.outbound import queue_email
from workers.runtime import Runtime

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    ASSIGNED = "assigned"
    NO_AGENT = "no_agent"  # waits in the backlog
    NOT_ROUTABLE = "not_routable"  # gone, assigned already, or not active


class _LostRace(Exception):
    """Another worker assigned the ticket between our look and our claim."""


def route(runtime: Runtime, ticket_id: int) -> Outcome:
    """Assign the ticket if it waits and an agent is free."""
    try:
        return _route(runtime, ticket_id)
    except _LostRace:
        return Outcome.NOT_ROUTABLE


def _route(runtime: Runtime, ticket_id: int) -> Outcome:
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.lock_for_routing(ticket_id)
        if ticket is None or ticket.assignee_id is not None or ticket.team_id is None:
            return Outcome.NOT_ROUTABLE
        if not is_active(ticket.status):
            return Outcome.NOT_ROUTABLE
        members = {
            m.facts.id: m for m in uow.agents.team_members(ticket.team_id, ticket.facts.team)
        }
        decision = choose_agent(ticket.facts, [m.facts for m in members.values()], now)
        claimed = uow.agents.claim_first_free([c.id for c in decision.ranked], now)
        chosen = next((c for c in decision.ranked if c.id == claimed), None)
        if chosen is None:
            _record_waiting(runtime, uow, ticket_id, decision.reasons)
            return Outcome.NO_AGENT
        status = (
            check_transition(ticket.status, Status.OPEN) if ticket.status is Status.NEW else None
        )
        if not uow.tickets.assign_if_unassigned(ticket_id, chosen.id, now, status=status):
            raise _LostRace()
        reasons = (
            decision.reasons if chosen is decision.agent else (explain(chosen, ticket.facts, now),)
        )
        uow.audit.record(
            ticket_id=ticket_id,
            actor="system:route",
            action="ticket.assigned",
            detail=f"assigned to {chosen.name}: " + "; ".join(reasons),
            now=now,
            data={"agent": chosen.name, "load": chosen.load + 1, "capacity": chosen.capacity},
        )
        agent = members[chosen.id]
        rendered = assignment_notice(
            number=ticket_id,
            subject=ticket.subject,
            priority=ticket.facts.priority.value,
            requester=ticket.requester,
            excerpt=ticket.first_message,
            reasons=reasons,
            tag_prefix=runtime.settings.helpdesk.tag_prefix,
        )
        queue_email(
            runtime,
            uow,
            kind="assignment",
            ticket_id=ticket_id,
            recipient=agent.email,
            recipient_name=agent.display_name,
            rendered=rendered,
            dedupe_key=f"assign:{ticket_id}:{chosen.id}:{now.isoformat()}",
            automatic=False,
        )
        return Outcome.ASSIGNED


def _record_waiting(
    runtime: Runtime, uow: UnitOfWork, ticket_id: int, reasons: tuple[str, ...]
) -> None:
    """Say once in the audit log that the ticket waits in the backlog, and why."""
    already = uow.session.scalar(
        select(
            exists().where(AuditEvent.ticket_id == ticket_id, AuditEvent.action == "ticket.waiting")
        )
    )
    if not already:
        uow.audit.record(
            ticket_id=ticket_id,
            actor="system:route",
            action="ticket.waiting",
            detail="; ".join(reasons),
            now=runtime.now(),
        )


def drain_backlog(runtime: Runtime, team_id: int, *, batch: int = 100) -> int:
    """Assign the team's waiting tickets, most urgent then oldest first, while agents are free."""
    assigned = 0
    while True:
        with runtime.db.unit_of_work() as uow:
            waiting = uow.tickets.waiting(team_id, batch)
        if not waiting:
            return assigned
        for ticket_id in waiting:
            outcome = route(runtime, ticket_id)
            if outcome is Outcome.NO_AGENT:
                return assigned  # every ticket of a team has the same eligible agents
            assigned += outcome is Outcome.ASSIGNED
        if len(waiting) < batch:
            return assigned
