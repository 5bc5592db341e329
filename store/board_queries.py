"""The reads behind the supervisor's board (``router.board``), a few indexed queries each.

- the tickets each agent holds: ``ix_tickets_assignee`` (assignee, status);
- the waiting tickets of some teams: ``ix_tickets_backlog`` (team, assignee, status,
  priority), the most urgent first, with the routing's latest reason for each;
- the SLA warnings and breaches since an instant: the audit log by ``created_at``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from router.board import HeldTickets, SlaEvent, WaitingTicket
from router.lifecycle import ROUTABLE_STATUSES
from router.vocabulary import AuditAction, Priority
from store.models import Agent, AuditEvent, SlaTimer, Ticket
from store.staff_directory import ACTIVE

WAITS = [s.value for s in ROUTABLE_STATUSES]  # unassigned and not pending: in a backlog


class BoardQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def held(self) -> dict[str, HeldTickets]:
        """Agent name -> the active tickets they hold (how many, since when the oldest)."""
        rows = self.session.execute(
            select(Agent.name, func.count(), func.min(Ticket.created_at))
            .join(Agent, Agent.id == Ticket.assignee_id)
            .where(Ticket.status.in_(ACTIVE))
            .group_by(Agent.name)
        )
        return {name: HeldTickets(count, oldest) for name, count, oldest in rows}

    def waiting(self, teams: dict[int, str], *, limit: int) -> tuple[list[WaitingTicket], int]:
        """The first ``limit`` tickets waiting for an agent in ``teams`` (most urgent, then
        oldest), and how many wait in all."""
        if not teams:
            return [], 0
        where = and_(
            Ticket.team_id.in_(list(teams)),
            Ticket.assignee_id.is_(None),
            Ticket.status.in_(WAITS),
        )
        total = self.session.scalar(select(func.count()).select_from(Ticket).where(where)) or 0
        rows = self.session.execute(
            select(
                Ticket.id,
                Ticket.subject,
                Ticket.priority,
                Ticket.team_id,
                Ticket.created_at,
                Ticket.queued_at,
            )
            .where(where)
            .order_by(Ticket.priority_rank, Ticket.id)
            .limit(limit)
        ).all()
        ids = [row.id for row in rows]
        due = self._nearest_due(ids)
        why = self._latest_reasons(ids)
        return [
            WaitingTicket(
                number=row.id,
                subject=row.subject,
                priority=Priority(row.priority),
                team=teams[row.team_id],
                created_at=row.created_at,
                waiting_since=row.queued_at or row.created_at,
                due_at=due.get(row.id),
                why=why.get(row.id, ""),
            )
            for row in rows
        ], total

    def sla_events(self, teams: dict[int, str], since: datetime) -> list[SlaEvent]:
        """The SLA warnings and breaches of tickets of ``teams`` recorded since ``since``."""
        if not teams:
            return []
        rows = self.session.execute(
            select(
                AuditEvent.ticket_id,
                AuditEvent.action,
                AuditEvent.detail,
                AuditEvent.data,
                AuditEvent.created_at,
                Ticket.subject,
                Ticket.team_id,
                Agent.name,
            )
            .join(Ticket, Ticket.id == AuditEvent.ticket_id)
            .outerjoin(Agent, Agent.id == Ticket.assignee_id)
            .where(
                AuditEvent.created_at >= since,
                AuditEvent.action.in_([AuditAction.SLA_WARNING, AuditAction.SLA_BREACHED]),
                Ticket.team_id.in_(list(teams)),
            )
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        )
        return [
            SlaEvent(
                number=ticket_id,
                subject=subject,
                team=teams[team_id],
                assignee=assignee,
                breach=action == AuditAction.SLA_BREACHED,
                clock=str((data or {}).get("timer", "")),
                at=at,
                detail=detail,
            )
            for ticket_id, action, detail, data, at, subject, team_id, assignee in rows
        ]

    def _nearest_due(self, ids: Collection[int]) -> dict[int, datetime]:
        if not ids:
            return {}
        rows = self.session.execute(
            select(SlaTimer.ticket_id, func.min(SlaTimer.due_at))
            .where(SlaTimer.ticket_id.in_(list(ids)), SlaTimer.due_at.is_not(None))
            .group_by(SlaTimer.ticket_id)
        )
        return {ticket_id: due for ticket_id, due in rows if due is not None}

    def _latest_reasons(self, ids: Collection[int]) -> dict[int, str]:
        """Each ticket's latest "waits" reason from the routing (``ticket.waiting``)."""
        if not ids:
            return {}
        latest = (
            select(func.max(AuditEvent.id))
            .where(
                AuditEvent.ticket_id.in_(list(ids)),
                AuditEvent.action == AuditAction.TICKET_WAITING,
            )
            .group_by(AuditEvent.ticket_id)
        )
        rows = self.session.execute(
            select(AuditEvent.ticket_id, AuditEvent.detail).where(AuditEvent.id.in_(latest))
        )
        return {ticket_id: detail for ticket_id, detail in rows if ticket_id is not None}
