"""Webhook subscriptions: who is told which events, and whether they are paused."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from router.storable import is_id
from router.vocabulary import Role
from store.models import Agent
from store.models.webhooks import WebhookSubscription


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        url: str,
        events: Sequence[str],
        secret: str,
        description: str,
        created_by: str,
        now: datetime,
    ) -> WebhookSubscription:
        subscription = WebhookSubscription(
            url=url,
            events=list(events),
            secret=secret,
            description=description[:200],
            active=True,
            created_at=now,
            updated_at=now,
            created_by=created_by[:320],
        )
        self.session.add(subscription)
        self.session.flush()
        return subscription

    def get(self, webhook_id: int, *, lock: bool = False) -> WebhookSubscription | None:
        if not is_id(webhook_id):
            return None
        return self.session.get(WebhookSubscription, webhook_id, with_for_update=lock)

    def all(self) -> list[WebhookSubscription]:
        return list(
            self.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))
        )

    def set_active(
        self, subscription: WebhookSubscription, active: bool, *, reason: str | None, now: datetime
    ) -> None:
        subscription.active = active
        subscription.paused_reason = None if active else (reason or "paused")[:4000]
        subscription.updated_at = now

    def remove(self, webhook_id: int) -> bool:
        """Delete a subscription with its deliveries (the events stay for the others)."""
        if not is_id(webhook_id):
            return False
        result = self.session.execute(
            delete(WebhookSubscription).where(WebhookSubscription.id == webhook_id)
        )
        return bool(getattr(result, "rowcount", 0))

    def admins(self) -> list[Agent]:
        """The agents configured as admins: they are told when a subscription is paused."""
        return list(
            self.session.scalars(
                select(Agent).where(Agent.role == Role.ADMIN.value).order_by(Agent.id)
            )
        )
