"""The audit log: every state change, who made it and why.

Events are buffered in the unit of work and written with one batched INSERT
just before it commits, so they share the fate of the change they describe.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, insert, select
from sqlalchemy.orm import Session

from router.audit_origin import ActorRef, Origin
from router.vocabulary import AuditAction
from store.dialect import table
from store.models import AuditEvent


@cache
def _insert_events() -> Executable:
    return insert(table(AuditEvent))


class AuditLog:
    def __init__(
        self,
        session: Session,
        pending: list[dict[str, Any]],
        before_write: Callable[[list[dict[str, Any]]], None] | None = None,
        config_version: Callable[[], str | None] = lambda: None,
    ) -> None:
        """``before_write`` sees the events about to be written, in their transaction (the
        unit of work turns some into webhook events there: ``store.webhook_capture``);
        ``config_version``: the configuration deciding as each event is recorded, kept on it
        (which version's rules, roster and SLA policies made a decision)."""
        self.session = session
        self._pending = pending
        self._before_write = before_write
        self._config_version = config_version

    def record(
        self,
        *,
        ticket_id: int | None,
        actor: ActorRef,
        action: AuditAction,
        detail: str = "",
        now: datetime,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Buffer one event; an ``Origin`` actor adds how and from where under ``origin``."""
        data = dict(data or {})
        if isinstance(actor, Origin):
            data["origin"] = actor.audit_data()
        self._pending.append(
            {
                "ticket_id": ticket_id,
                "actor": str(actor)[:320],
                "action": AuditAction(action).value,  # a closed set: a typo fails here
                "detail": detail,
                "data": data,
                "created_at": now,
                "config_version": self._config_version(),
            }
        )

    def flush(self) -> None:
        """Write the buffered events (done by the unit of work before it commits)."""
        if self._pending:
            if self._before_write is not None:
                self._before_write(self._pending)
            # Core, not the ORM's bulk insert: the same statement at a fraction of the cost
            self.session.execute(_insert_events(), list(self._pending))
            self._pending.clear()

    def logged_since(
        self, ticket_id: int, actions: Collection[AuditAction], since: datetime
    ) -> set[tuple[str, str]]:
        """``(action, detail)`` of the ticket's written events of ``actions`` since ``since``."""
        rows = self.session.execute(
            select(AuditEvent.action, AuditEvent.detail).where(
                AuditEvent.ticket_id == ticket_id,
                AuditEvent.action.in_([AuditAction(a).value for a in actions]),
                AuditEvent.created_at >= since,
            )
        )
        return {(action, detail) for action, detail in rows}

    def for_ticket(self, ticket_id: int) -> list[AuditEvent]:
        self.flush()
        return list(
            self.session.scalars(
                select(AuditEvent).where(AuditEvent.ticket_id == ticket_id).order_by(AuditEvent.id)
            )
        )
