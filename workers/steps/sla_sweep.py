"""The SLA sweep: warnings, breaches and escalation steps that are due, each exactly once.

Run by the scheduler every tick. Each phase claims what is due in one
transaction (indexed ``warn_at``, ``due_at``, ``next_escalation_at``; SKIP LOCKED
on PostgreSQL) and writes the notifications (outbox rows) and audit events in
that same transaction: a second scheduler, or a restart, finds nothing left to
fire. A clock stopped by an answer or a resolution has no deadlines: nothing fires.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.notice_texts import due_now, sla_notice
from router.sla_policy import (
    EscalationPlan,
    EscalationTarget,
    bumped,
    escalation_targets,
)
from router.time_texts import local_time
from router.vocabulary import AuditAction, OutboxKind, Priority, SystemActor
from store.db import UnitOfWork
from store.models import SlaTimer, Ticket
from workers.desk.agent_notices import AgentContact, TicketBrief, notify_agent
from workers.desk.languages import agent_language
from workers.runtime.batching import chunks
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlaSweep:
    warnings: int
    breaches: int
    escalations: int


def hand_off_sla(runtime: Runtime, *, limit: int = 1000, chunk: int = 50) -> list[int]:
    """The scheduler's part: find what is due and hand it to the SLA workers, in chunks of
    tickets. Cheap (one UPDATE ... RETURNING, one message per chunk): the sweep's cost
    grows with the number due, and the rendering happens in the workers (``sweep_sla``
    with ``ticket_ids``). A hand-off whose message is lost goes again after
    ``redrive_after_s``. Returns the tickets handed off."""
    now = runtime.now()
    stale = now - timedelta(seconds=runtime.settings.scheduler.redrive_after_s)
    with runtime.db.unit_of_work() as uow:
        ticket_ids = uow.sla.hand_off_due(now, stale_before=stale, limit=limit)
    for part in chunks(ticket_ids, chunk):
        runtime.enqueue_sla(part, now.isoformat())
    return ticket_ids


def sweep_sla(
    runtime: Runtime,
    *,
    limit: int = 1000,
    ticket_ids: Sequence[int] | None = None,
    handed_at: datetime | None = None,
) -> SlaSweep:
    """Fire every step that is due (of ``ticket_ids`` only, when given: a hand-off made
    at ``handed_at``; what was due then fires even if this worker's clock lags)."""
    now = runtime.now() if handed_at is None else max(runtime.now(), handed_at)
    with runtime.db.unit_of_work() as uow, uow.session.no_autoflush:
        warned = uow.sla.take_warnings(now, limit, ticket_ids)
        people = _People(uow, warned)
        for row in warned:
            with runtime.configs.for_team(people.team_of(row)):  # a pilot team's: its candidate
                _warn(runtime, uow, people, row, now)
    with runtime.db.unit_of_work() as uow, uow.session.no_autoflush:
        breached = uow.sla.take_breaches(now, limit, ticket_ids)
        people = _People(uow, breached)
        for row in breached:
            with runtime.configs.for_team(people.team_of(row)):
                _breach(runtime, uow, people, row, now)
    with runtime.db.unit_of_work() as uow, uow.session.no_autoflush:
        due = uow.sla.take_escalations(now, limit, ticket_ids)
        people = _People(uow, due)
        steps = 0
        for row in due:
            with runtime.configs.for_team(people.team_of(row)):
                steps += _escalate(runtime, uow, people, row, now)
        if ticket_ids is not None:
            uow.sla.fired(ticket_ids, handed_at or now)
    return SlaSweep(warnings=len(warned), breaches=len(breached), escalations=steps)


class _People:
    """The tickets of a batch of timers and the agents they name, each read once."""

    def __init__(self, uow: UnitOfWork, rows: list[SlaTimer]) -> None:
        self.tickets = uow.tickets.for_sla([r.ticket_id for r in rows])
        self.agents = {a.name: a for a in uow.agents.all()} if rows else {}
        self.latest = uow.messages.latest_inbound_texts(list(self.tickets)) if rows else {}

    def team_of(self, row: SlaTimer) -> str | None:
        """The team of the timer's ticket: its version decides (a pilot's)."""
        ticket = self.tickets.get(row.ticket_id)
        return ticket.team.name if ticket is not None and ticket.team is not None else None


def _due_text(at: datetime | None, zone: str, language: str) -> str:
    return local_time(at, zone, language) if at else due_now(language)


def _notify(
    runtime: Runtime,
    uow: UnitOfWork,
    people: _People,
    ticket: Ticket,
    row: SlaTimer,
    *,
    recipient: str,
    role: str,
    stage: str,
    due_at: datetime | None,
    key: str,
) -> bool:
    agent = people.agents.get(recipient)
    if agent is None:
        return False
    contact = AgentContact.of(agent)
    language = agent_language(runtime, contact)
    rendered = sla_notice(
        number=ticket.id,
        subject=ticket.subject,
        priority=ticket.priority,
        clock=row.kind,
        stage=stage,
        due_at=_due_text(due_at, agent.timezone, language),  # as the agent reads it
        role=role,
        language=language,
        tag_prefix=runtime.settings.helpdesk.tag_prefix,
    )
    notify_agent(
        runtime,
        uow,
        contact,
        # the batch's tickets (with their requesters) and latest messages were read at once
        TicketBrief.of(ticket, latest=people.latest.get(ticket.id, "")),
        kind=OutboxKind(f"sla_{stage}"),
        rendered=rendered,
        dedupe_key=key[:255],
        detail=rendered.body_text.split("\n", 1)[0],
    )
    return True


def _warn(runtime: Runtime, uow: UnitOfWork, people: _People, row: SlaTimer, now: datetime) -> None:
    ticket = people.tickets.get(row.ticket_id)
    if ticket is None:
        return
    who = ticket.assignee or (ticket.team.supervisor if ticket.team else None)
    role = "assignee" if ticket.assignee else "supervisor"
    told = who is not None and _notify(
        runtime,
        uow,
        people,
        ticket,
        row,
        recipient=who.name,
        role=role,
        stage="warning",
        due_at=row.due_at,
        key=f"sla-warning:{row.id}:{row.due_at.isoformat() if row.due_at else ''}",
    )
    uow.audit.record(
        ticket_id=ticket.id,
        actor=SystemActor.SLA,
        action=AuditAction.SLA_WARNING,
        detail=f"{row.kind} at {row.warn_share:.0%} of its target"
        + (f": {who.name} ({role}) told" if told and who else ": nobody to tell"),
        now=now,
        data={"timer": row.kind},
    )


def _breach(
    runtime: Runtime, uow: UnitOfWork, people: _People, row: SlaTimer, now: datetime
) -> None:
    ticket = people.tickets.get(row.ticket_id)
    if ticket is None:
        return
    detail = f"{row.kind} target missed"
    if runtime.settings.sla.bump_priority_on_breach:
        before = Priority(ticket.priority)
        after = bumped(before)
        if after is not before:
            ticket.priority = after.value
            ticket.priority_rank = after.rank
            ticket.updated_at = now  # a change like any other: the reports' rollups follow it
            detail += f"; priority {before.value} -> {after.value}"
    uow.audit.record(
        ticket_id=ticket.id,
        actor=SystemActor.SLA,
        action=AuditAction.SLA_BREACHED,
        detail=detail,
        now=now,
        data={"timer": row.kind, "policy": row.policy},
    )


def _frozen(saved: list[list[str]] | None) -> EscalationPlan | None:
    if saved is None:
        return None
    return tuple(
        EscalationTarget(datetime.fromisoformat(at), recipient, role)  # type: ignore[arg-type]
        for at, recipient, role in saved
    )


def _escalate(
    runtime: Runtime, uow: UnitOfWork, people: _People, row: SlaTimer, now: datetime
) -> int:
    """Fire every step of the chain that is due; plan the next one. Steps fired."""
    ticket = people.tickets.get(row.ticket_id)
    if ticket is None or row.breached_at is None:
        row.next_escalation_at = None
        return 0
    plan = _frozen(row.escalation_plan)
    if plan is None:  # the chain's people are fixed at the breach: each is told once
        plan = escalation_targets(
            runtime.escalation_steps,
            assignee=ticket.assignee.name if ticket.assignee else None,
            team_supervisor=ticket.team.supervisor.name
            if ticket.team and ticket.team.supervisor
            else None,
            manager=runtime.settings.sla.manager,
            breached_at=row.breached_at,
            calendar=runtime.calendars.get(row.calendar),
        )
        row.escalation_plan = [[t.at.isoformat(), t.recipient, t.role] for t in plan]
    fired = 0
    while row.escalation_step < len(plan) and plan[row.escalation_step].at <= now:
        step = plan[row.escalation_step]
        _notify(
            runtime,
            uow,
            people,
            ticket,
            row,
            recipient=step.recipient,
            role=step.role,
            stage="breached",
            due_at=row.breached_at,
            # per person: a chain re-planned after an assignment never tells anyone twice
            key=f"sla-escalation:{row.id}:{row.breached_at.isoformat()}:{step.recipient}",
        )
        uow.audit.record(
            ticket_id=ticket.id,
            actor=SystemActor.SLA,
            action=AuditAction.SLA_ESCALATED,
            detail=f"{row.kind} breached: {step.recipient} ({step.role}) told",
            now=now,
            data={"timer": row.kind, "step": row.escalation_step, "to": step.recipient},
        )
        row.escalation_step += 1
        fired += 1
    row.next_escalation_at = (
        plan[row.escalation_step].at if row.escalation_step < len(plan) else None
    )
    return fired
