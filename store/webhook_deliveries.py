"""Webhook deliveries: the outbox rows of webhooks, claimed, retried, re-driven.

As the outbox's: a delivery is claimed (pending -> sending, with a lease) for
one attempt, then marked delivered, or pending again with ``not_before`` the
next try's time, or failed. ``available_at`` is when the scheduler may next
re-drive it; a subscription that is paused keeps its rows pending, untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from router.storable import is_id
from router.vocabulary import RowState
from router.webhook_views import DeliveryView
from store.dialect import picked
from store.models import WebhookDelivery, WebhookEventRow
from store.models.webhooks import WebhookSubscription

_UNFINISHED = [RowState.PENDING.value, RowState.SENDING.value]


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery taken for one attempt, with what it needs to be sent."""

    id: int
    webhook_id: int
    attempts: int  # this attempt's number
    url: str
    secret: str
    message_id: str  # webhook-id
    type: str
    sequence: int  # the event's id: a ticket's later events have higher ones
    occurred_at: datetime
    data: dict[str, Any]


def _subscription_active() -> Any:
    return exists().where(
        WebhookSubscription.id == WebhookDelivery.webhook_id, WebhookSubscription.active.is_(True)
    )


class WebhookDeliveries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, delivery_id: int, *, now: datetime, lease: timedelta) -> ClaimedDelivery | None:
        """Take a pending delivery whose time has come (or one whose lease ran out) of an
        active subscription; None when there is nothing to do."""
        row = self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                or_(
                    WebhookDelivery.state == RowState.PENDING.value,
                    (WebhookDelivery.state == RowState.SENDING.value)
                    & (WebhookDelivery.available_at <= now),
                ),
                or_(WebhookDelivery.not_before.is_(None), WebhookDelivery.not_before <= now),
                _subscription_active(),
            )
            .values(
                state=RowState.SENDING.value,
                attempts=WebhookDelivery.attempts + 1,
                available_at=now + lease,
                updated_at=now,
            )
            .returning(
                WebhookDelivery.webhook_id, WebhookDelivery.event_id, WebhookDelivery.attempts
            )
            .execution_options(synchronize_session=False)
        ).first()
        if row is None:
            return None
        webhook_id, event_id, attempts = row
        found = self.session.execute(
            select(
                WebhookSubscription.url,
                WebhookSubscription.secret,
                WebhookEventRow.message_id,
                WebhookEventRow.type,
                WebhookEventRow.occurred_at,
                WebhookEventRow.data,
            )
            .join(WebhookEventRow, WebhookEventRow.id == event_id)
            .where(WebhookSubscription.id == webhook_id)
        ).one()
        return ClaimedDelivery(
            id=delivery_id,
            webhook_id=webhook_id,
            attempts=attempts,
            url=found[0],
            secret=found[1],
            message_id=found[2],
            type=found[3],
            sequence=event_id,
            occurred_at=found[4],
            data=dict(found[5]),
        )

    def mark_delivered(self, delivery_id: int, *, status: int, now: datetime) -> None:
        self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.state == RowState.SENDING.value
            )
            .values(
                state=RowState.DONE.value,
                last_status=status,
                error=None,
                delivered_at=now,
                updated_at=now,
                not_before=None,
            )
            .execution_options(synchronize_session=False)
        )

    def mark_failed_attempt(
        self,
        delivery_id: int,
        *,
        error: str,
        status: int | None,
        retry_at: datetime | None,
        now: datetime,
    ) -> RowState:
        """Pending again until ``retry_at`` (the scheduler sends it then), or failed for
        good when there is none."""
        values: dict[str, Any] = {"error": error[:4000], "last_status": status, "updated_at": now}
        if retry_at is None:
            values.update(state=RowState.FAILED.value, not_before=None)
        else:
            values.update(state=RowState.PENDING.value, not_before=retry_at, available_at=retry_at)
        self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.state == RowState.SENDING.value
            )
            .values(values)
            .execution_options(synchronize_session=False)
        )
        return RowState.PENDING if retry_at is not None else RowState.FAILED

    def due_for_redrive(self, *, now: datetime, again_after: timedelta, limit: int) -> list[int]:
        """Deliveries of active subscriptions whose time has come (a retry's, or a lost
        message's), moved on by ``again_after`` and returned; racing sweeps take disjoint rows."""
        due = (
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.state.in_(_UNFINISHED),
                WebhookDelivery.available_at <= now,
                _subscription_active(),
            )
            .order_by(WebhookDelivery.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(picked(due, "due_webhooks")),
                WebhookDelivery.state.in_(_UNFINISHED),
                WebhookDelivery.available_at <= now,
            )
            .values(available_at=now + again_after)
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(row[0] for row in rows)

    def make_all_due(self, now: datetime) -> None:
        """Embedded start-up: what was unfinished belonged to this process's last life
        (a retry keeps its time: ``not_before``)."""
        self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.state.in_(_UNFINISHED), WebhookDelivery.not_before.is_(None))
            .values(available_at=now)
            .execution_options(synchronize_session=False)
        )

    def prune(self, *, before: datetime, limit: int) -> int:
        """Delete the oldest events (up to ``limit``) that occurred before ``before``, with
        their deliveries, unless one is still under way; how many. Reads only the
        ``limit`` oldest events, so a sweep with nothing to prune costs next to nothing."""
        oldest = (
            select(WebhookEventRow.id, WebhookEventRow.occurred_at)
            .order_by(WebhookEventRow.id)
            .limit(limit)
            .subquery()
        )
        old = [
            row[0]
            for row in self.session.execute(
                select(oldest.c.id).where(
                    oldest.c.occurred_at < before,
                    ~exists().where(
                        WebhookDelivery.event_id == oldest.c.id,
                        WebhookDelivery.state.in_(_UNFINISHED),
                    ),
                )
            )
        ]
        if not old:
            return 0
        self.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(old)))
        self.session.execute(delete(WebhookEventRow).where(WebhookEventRow.id.in_(old)))
        return len(old)

    def redeliver(self, delivery_id: int, *, now: datetime, redrive_after: timedelta) -> bool:
        """Send a delivery again (done or failed) with a fresh set of attempts, under the
        same webhook-id; False when it is unknown or still under way."""
        if not is_id(delivery_id):
            return False
        result = self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.state.in_([RowState.DONE.value, RowState.FAILED.value]),
            )
            .values(
                state=RowState.PENDING.value,
                attempts=0,
                not_before=None,
                available_at=now + redrive_after,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    def pending_of(self, webhook_id: int, *, now: datetime) -> list[int]:
        """A resumed subscription's waiting deliveries, due now, oldest first."""
        rows = self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.state.in_(_UNFINISHED))
            .values(state=RowState.PENDING.value, not_before=None, available_at=now, updated_at=now)
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(row[0] for row in rows)

    def get(self, delivery_id: int) -> DeliveryView | None:
        found = self.recent(delivery_id=delivery_id, limit=1)
        return found[0] if found else None

    def recent(
        self,
        *,
        webhook_id: int | None = None,
        delivery_id: int | None = None,
        states: Sequence[RowState] = (),
        limit: int = 50,
    ) -> list[DeliveryView]:
        """Deliveries, newest first."""
        query = (
            select(
                WebhookDelivery,
                WebhookEventRow.type,
                WebhookEventRow.message_id,
                WebhookEventRow.ticket_id,
            )
            .join(WebhookEventRow, WebhookEventRow.id == WebhookDelivery.event_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        if webhook_id is not None:
            query = query.where(WebhookDelivery.webhook_id == webhook_id)
        if delivery_id is not None:
            if not is_id(delivery_id):
                return []
            query = query.where(WebhookDelivery.id == delivery_id)
        if states:
            query = query.where(WebhookDelivery.state.in_([s.value for s in states]))
        return [
            DeliveryView(
                id=row.id,
                webhook_id=row.webhook_id,
                event_type=event_type,
                message_id=message_id,
                ticket_number=ticket_id,
                state=row.state,
                attempts=row.attempts,
                last_status=row.last_status,
                error=row.error,
                created_at=row.created_at,
                next_attempt_at=row.not_before if row.state == RowState.PENDING.value else None,
                delivered_at=row.delivered_at,
            )
            for row, event_type, message_id, ticket_id in self.session.execute(query)
        ]
