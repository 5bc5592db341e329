"""The audit log: every state change, who made it and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import AuditEvent


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        ticket_id: int | None,
        actor: str,
        action: str,
        detail: str = "",
        now: datetime,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditEvent(
                ticket_id=ticket_id,
                actor=actor,
                action=action,
                detail=detail,
                data=data or {},
                created_at=now,
            )
        )

    def for_ticket(self, ticket_id: int) -> list[AuditEvent]:
        return list(
            self.session.scalars(
                select(AuditEvent).where(AuditEvent.ticket_id == ticket_id).order_by(AuditEvent.id)
            )
        )
