"""Webhook subscriptions and deliveries as the CLI and the staff API show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WebhookView:
    """A subscription; its secret is never shown again after it was made."""

    id: int
    url: str
    events: tuple[str, ...]
    description: str
    active: bool
    paused_reason: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str


@dataclass(frozen=True)
class NewWebhook:
    webhook: WebhookView
    secret: str  # whsec_...: shown once, when generated (or as given)


@dataclass(frozen=True)
class DeliveryView:
    id: int
    webhook_id: int
    event_type: str
    message_id: str  # the webhook-id header: the same on every retry and redelivery
    ticket_number: int | None
    state: str  # pending, sending, done, failed
    attempts: int
    last_status: int | None  # the receiver's last HTTP status
    error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
