"""The webhook endpoints' bodies (pydantic), documented for OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from router.webhook_events import WebhookEvent
from router.webhook_policy import MAX_URL_CHARS
from router.webhook_views import DeliveryView, WebhookView

DeliveryState = Literal["pending", "sending", "done", "failed"]


def _printable(value: str) -> str:
    """Kept on one line: control characters and line breaks are left out."""
    return "".join(c for c in value if c.isprintable()).strip()


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="Where deliveries are POSTed: https:// (or http://). A host that resolves "
        "to a loopback, private, link-local or reserved address is refused unless the "
        "configuration allows it.",
        examples=["https://crm.example.com/hooks/relaydesk"],
    )
    events: list[WebhookEvent] = Field(min_length=1, max_length=len(WebhookEvent))
    secret: str | None = Field(
        None,
        max_length=128,
        description="`whsec_` and the base64 of 24 to 64 bytes; made for you when left out. "
        "Only the answer to this request shows it.",
    )
    description: str = Field("", max_length=200, description="What it is for.")

    @field_validator("description")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _printable(value)


class PauseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500, description="Why, for the other admins.")

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _printable(value)


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool = Field(description="False: paused; its events wait until it is resumed.")
    paused_reason: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str

    @classmethod
    def of(cls, hook: WebhookView) -> WebhookOut:
        return cls(
            id=hook.id,
            url=hook.url,
            events=list(hook.events),
            description=hook.description,
            active=hook.active,
            paused_reason=hook.paused_reason,
            created_at=hook.created_at,
            updated_at=hook.updated_at,
            created_by=hook.created_by,
        )


class NewWebhookOut(WebhookOut):
    secret: str = Field(description="The signing secret, shown this once.")


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    event_type: str
    message_id: str = Field(description="The webhook-id header: the same on every attempt.")
    ticket_number: int | None
    state: DeliveryState
    attempts: int
    last_status: int | None = Field(description="The receiver's last HTTP status.")
    error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: DeliveryView) -> DeliveryOut:
        return cls(
            id=delivery.id,
            webhook_id=delivery.webhook_id,
            event_type=delivery.event_type,
            message_id=delivery.message_id,
            ticket_number=delivery.ticket_number,
            state=delivery.state,
            attempts=delivery.attempts,
            last_status=delivery.last_status,
            error=delivery.error,
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
        )
