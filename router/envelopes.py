"""Frozen message envelopes that cross the edge between connectors and the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.vocabulary import Channel, Priority


@dataclass(frozen=True)
class InboundMessage:
    """One customer message, normalised by its channel's connector.

    ``idempotency_key`` is unique per channel (Message-ID, IMAP UIDVALIDITY+UID,
    Telegram update id, web submission id): a second delivery is a no-op.
    """

    channel: Channel
    idempotency_key: str
    sender_address: str
    body_text: str
    subject: str = ""
    sender_name: str = ""
    body_html: str | None = None
    external_id: str | None = None  # e.g. the email Message-ID
    in_reply_to: tuple[str, ...] = ()  # Message-IDs this message answers
    headers: dict[str, str] = field(default_factory=dict)
    category_hint: str | None = None
    priority_hint: Priority | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    is_automatic: bool = False  # auto-reply, bounce or bulk: never acknowledged
    access_key: str | None = None  # the requester's secret to read the ticket it opens

    def to_payload(self) -> dict[str, Any]:
        """A JSON-safe dict, stored as the inbox row's payload."""
        return {
            "channel": self.channel.value,
            "idempotency_key": self.idempotency_key,
            "sender_address": self.sender_address,
            "sender_name": self.sender_name,
            "subject": self.subject,
            "body_text": self.body_text,
            "body_html": self.body_html,
            "external_id": self.external_id,
            "in_reply_to": list(self.in_reply_to),
            "headers": dict(self.headers),
            "category_hint": self.category_hint,
            "priority_hint": self.priority_hint.value if self.priority_hint else None,
            "custom_fields": dict(self.custom_fields),
            "is_automatic": self.is_automatic,
            "access_key": self.access_key,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> InboundMessage:
        hint = data.get("priority_hint")
        return cls(
            channel=Channel(data["channel"]),
            idempotency_key=data["idempotency_key"],
            sender_address=data["sender_address"],
            sender_name=data.get("sender_name") or "",
            subject=data.get("subject") or "",
            body_text=data.get("body_text") or "",
            body_html=data.get("body_html"),
            external_id=data.get("external_id"),
            in_reply_to=tuple(data.get("in_reply_to") or ()),
            headers=dict(data.get("headers") or {}),
            category_hint=data.get("category_hint"),
            priority_hint=Priority(hint) if hint else None,
            custom_fields=dict(data.get("custom_fields") or {}),
            is_automatic=bool(data.get("is_automatic")),
            access_key=data.get("access_key"),
        )


@dataclass(frozen=True)
class OutboundMessage:
    """One message to send through a channel, rendered and ready.

    ``message_id`` is stable per outbox row, so a retried send is recognisable.
    """

    channel: Channel
    recipient: str
    subject: str
    body_text: str
    message_id: str
    recipient_name: str = ""
    body_html: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    automatic: bool = False  # sets Auto-Submitted: auto-replied on email

    def to_payload(self) -> dict[str, Any]:
        return {
            "channel": self.channel.value,
            "recipient": self.recipient,
            "recipient_name": self.recipient_name,
            "subject": self.subject,
            "body_text": self.body_text,
            "body_html": self.body_html,
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "automatic": self.automatic,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> OutboundMessage:
        return cls(
            channel=Channel(data["channel"]),
            recipient=data["recipient"],
            recipient_name=data.get("recipient_name") or "",
            subject=data.get("subject") or "",
            body_text=data.get("body_text") or "",
            body_html=data.get("body_html"),
            message_id=data["message_id"],
            in_reply_to=data.get("in_reply_to"),
            references=tuple(data.get("references") or ()),
            automatic=bool(data.get("automatic")),
        )


@dataclass(frozen=True)
class DeliveryResult:
    """What a connector reports after sending: the id the far side knows it by."""

    external_id: str
    detail: str = ""
