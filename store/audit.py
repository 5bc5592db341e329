"""The audit log: every state change, who made it and why.

Events are buffered in the unit of work and written with one batched INSERT
just before it commits, so they share the fate of the change they describe; with a
webhook event among them the INSERT also says which event types are subscribed to,
for the webhook capture that follows (``store.webhook_capture``).
A change made by one statement may write its event in that statement instead
(``written_with``, on PostgreSQL: delivery's record of each message sent); the
event is then handed to ``AuditLog.written``, so the webhook capture sees it
as it sees the buffered ones.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, Select, Update, bindparam, insert, select
from sqlalchemy.orm import Session

from router.audit_origin import ActorRef, Origin
from router.vocabulary import AuditAction
from store.dialect import table
from store.models import AuditEvent
from store.one_statement import Executor
from store.webhook_capture import subscribed_types, tells_webhooks, types_of

_EVENT_COLUMNS = ("ticket_id", "actor", "action", "detail", "data", "created_at", "config_version")


@cache
def _insert_events() -> Executable:
    return insert(table(AuditEvent))


@cache
def _insert_events_asking(dialect: str) -> Executable:
    """The events, returning with each row the event types subscriptions want (one read of
    the subscriptions in the statement, for the webhook capture that follows)."""
    return insert(table(AuditEvent)).returning(subscribed_types(dialect))


def insert_event(executor: Executor, event: dict[str, Any]) -> None:
    """Write one event made by ``AuditLog.event`` now (where ``written_with`` cannot)."""
    executor.execute(_insert_events(), event)


def make_event(
    *,
    ticket_id: int | None,
    actor: ActorRef,
    action: AuditAction,
    detail: str = "",
    now: datetime,
    data: dict[str, Any] | None = None,
    config_version: str | None,
) -> dict[str, Any]:
    """One event as the audit log buffers it (``AuditLog.event``), for a statement that
    writes it itself outside a unit of work (delivery's record in ``one_statement``)."""
    data = dict(data or {})
    if isinstance(actor, Origin):
        data["origin"] = actor.audit_data()
    return {
        "ticket_id": ticket_id,
        "actor": str(actor)[:320],
        "action": AuditAction(action).value,  # a closed set: a typo fails here
        "detail": detail,
        "data": data,
        "created_at": now,
        "config_version": config_version,
    }


def written_with(change: Update, row: str) -> Select[Any]:
    """``change`` (an UPDATE ... RETURNING the ids of the rows it changed) and an audit
    event, in one statement (PostgreSQL: the UPDATE and an INSERT ... SELECT in a WITH):
    the event is written when the row whose id is the parameter ``row`` came back; the
    statement returns the ids as ``change`` does. The event's columns are the parameters
    ``event_<column>`` (``event_parameters``). Build it once (``functools.cache``)."""
    changed = change.cte("changed")
    events = table(AuditEvent)
    values = select(
        *(bindparam(f"event_{name}", type_=events.c[name].type) for name in _EVENT_COLUMNS)
    ).where(changed.c.id == bindparam(row))
    write = insert(events).from_select(list(_EVENT_COLUMNS), values).cte("event")
    return select(changed.c.id).add_cte(write)


def event_parameters(event: dict[str, Any]) -> dict[str, Any]:
    """An event made by ``AuditLog.event`` as the parameters of a ``written_with``."""
    return {f"event_{name}": event[name] for name in _EVENT_COLUMNS}


class AuditLog:
    def __init__(
        self,
        session: Session,
        pending: list[dict[str, Any]],
        after_write: Callable[[list[dict[str, Any]], frozenset[str] | None], None] | None = None,
        config_version: Callable[[], str | None] = lambda: None,
        written: list[dict[str, Any]] | None = None,
    ) -> None:
        """``after_write`` sees the events just written, in their transaction (the unit of
        work turns some into webhook events there: ``store.webhook_capture``), and those
        ``written`` already by the caller's statements (``written_with``), with the event
        types subscriptions want when the INSERT said (None: it did not ask);
        ``config_version``: the configuration deciding as each event is recorded, kept on it
        (which version's rules, roster and SLA policies made a decision)."""
        self.session = session
        self._pending = pending
        self._written = [] if written is None else written
        self._after_write = after_write
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
        self._pending.append(
            self.event(
                ticket_id=ticket_id, actor=actor, action=action, detail=detail, now=now, data=data
            )
        )

    def event(
        self,
        *,
        ticket_id: int | None,
        actor: ActorRef,
        action: AuditAction,
        detail: str = "",
        now: datetime,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One event as ``record`` buffers it, for a statement that writes it itself
        (``written_with``); once written, it goes to ``written``."""
        return make_event(
            ticket_id=ticket_id,
            actor=actor,
            action=action,
            detail=detail,
            now=now,
            data=data,
            config_version=self._config_version(),
        )

    def buffer(self, event: dict[str, Any]) -> None:
        """Buffer an event made earlier by ``event`` (its time and configuration version
        those of then), as ``record`` buffers one: a batch that learns some of an event's
        data later (``workers.desk.outgoing.Gathered``: the outbox row's id)."""
        self._pending.append(event)

    def written(self, event: dict[str, Any]) -> None:
        """An event a statement of the caller wrote (``written_with``): ``after_write``
        (the webhook capture) sees it at the flush with the buffered ones."""
        self._written.append(event)

    def flush(self) -> None:
        """Write the buffered events (done by the unit of work before it commits)."""
        events = self._written + self._pending
        subscribed: frozenset[str] | None = None
        if self._pending:
            # Core, not the ORM's bulk insert: the same statement at a fraction of the cost;
            # with a webhook event among them, it says which event types are subscribed to
            if self._after_write is not None and tells_webhooks(events):
                dialect = self.session.get_bind().dialect.name
                rows = self.session.execute(_insert_events_asking(dialect), list(self._pending))
                subscribed = types_of(rows.scalars().first())
            else:
                self.session.execute(_insert_events(), list(self._pending))
        self._written.clear()
        self._pending.clear()
        if self._after_write is not None and events:
            self._after_write(events, subscribed)

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
