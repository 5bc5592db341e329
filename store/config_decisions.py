"""Decisions counted by the configuration version that made them, per team: how a pilot's
teams fared under the candidate beside the rest under the desk's version.

Each audit event keeps the version that decided it (``audit_events.config_version``);
this counts, since a moment (a pilot's start), the tickets of each team with a
decision of each kind, per version.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from router.vocabulary import AuditAction
from store.models import AuditEvent, Team, Ticket

COUNTED = (
    AuditAction.TICKET_CREATED,
    AuditAction.TICKET_ASSIGNED,
    AuditAction.SLA_BREACHED,
)


@dataclass(frozen=True)
class VersionDecisions:
    team: str
    version: str  # "" for events written before versions were kept
    action: AuditAction
    tickets: int


class ConfigDecisions:
    def __init__(self, session: Session) -> None:
        self.session = session

    def since(
        self, start: datetime, actions: Collection[AuditAction] = COUNTED
    ) -> list[VersionDecisions]:
        """Per team, version and action: the tickets with such an event since ``start``."""
        rows = self.session.execute(
            select(
                Team.name,
                AuditEvent.config_version,
                AuditEvent.action,
                func.count(distinct(AuditEvent.ticket_id)),
            )
            .join(Ticket, Ticket.id == AuditEvent.ticket_id)
            .join(Team, Team.id == Ticket.team_id)
            .where(
                AuditEvent.created_at >= start,
                AuditEvent.action.in_([AuditAction(a).value for a in actions]),
            )
            .group_by(Team.name, AuditEvent.config_version, AuditEvent.action)
            .order_by(Team.name, AuditEvent.config_version, AuditEvent.action)
        )
        return [
            VersionDecisions(team, version or "", AuditAction(action), int(count))
            for team, version, action, count in rows
        ]
