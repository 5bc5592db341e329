"""Frozen message envelopes that cross the edge between connectors and the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.vocabulary import Channel, ChatAction, Priority


@dataclass(frozen=True)
class AttachmentRef:
    """A file that came with a message: kept by content hash, or listed with why not."""

    filename: str
    content_type: str
    size: int
    sha256: str | None  # None when the bytes were not kept
    inline: bool = False
    content_id: str | None = None
    skipped: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "inline": self.inline,
            "content_id": self.content_id,
            "skipped": self.skipped,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> AttachmentRef:
        return cls(
            filename=data["filename"],
            content_type=data["content_type"],
            size=int(data["size"]),
            sha256=data.get("sha256"),
            inline=bool(data.get("inline")),
            content_id=data.get("content_id"),
            skipped=data.get("skipped"),
        )


@dataclass(frozen=True)
class BounceReport:
    """A delivery status notification: which message of ours failed, for whom, why."""

    original_message_id: str | None
    recipients: tuple[str, ...]
    status: str
    diagnostic: str
    permanent: bool

    def to_payload(self) -> dict[str, Any]:
        return {
            "original_message_id": self.original_message_id,
            "recipients": list(self.recipients),
            "status": self.status,
            "diagnostic": self.diagnostic,
            "permanent": self.permanent,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> BounceReport:
        return cls(
            original_message_id=data.get("original_message_id"),
            recipients=tuple(data.get("recipients") or ()),
            status=data.get("status") or "",
            diagnostic=data.get("diagnostic") or "",
            permanent=bool(data.get("permanent")),
        )


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
    is_automatic: bool = False  # auto-reply, bounce or bulk: recorded quietly, never answered
    automatic_reason: str = ""  # why it is automatic or bulk, for the audit log
    # list or bulk mail: never answered, but may open a ticket; a person's message a list
    # relayed is bulk without being automatic (it reopens and is notified like any reply)
    is_bulk: bool = False
    access_key: str | None = None  # the requester's secret to read the ticket it opens
    recipients: tuple[str, ...] = ()  # the addresses it was sent to (plus-addresses thread)
    source: str = ""  # which mailbox, server or form it came through, e.g. "imap:support"
    full_text: str | None = None  # the whole text when body_text has quotes stripped
    attachments: tuple[AttachmentRef, ...] = ()
    bounce: BounceReport | None = None
    problems: tuple[str, ...] = ()  # what could not be read, kept for the audit log
    unparsed: bool = False  # only the envelope is read yet: ingest parses the raw bytes
    # messages with one key (a chat's updates) are ingested one at a time, in order
    sequence_key: str | None = None
    # a requester's message from their ticket's page: the ticket it joins (the page
    # checked the ticket's access key, as the chat's id vouches for a chat's messages)
    ticket_number: int | None = None
    template: str | None = None  # the slug of the web form it was sent with (rules, reports)
    # the languages the requester chose or their client states, most wanted first, as an
    # Accept-Language value: the form's choice, the browser's Accept-Language, Telegram's
    # language_code, the mail's Content-Language ("" when nothing says)
    language: str = ""

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
            "automatic_reason": self.automatic_reason,
            "is_bulk": self.is_bulk,
            "access_key": self.access_key,
            "recipients": list(self.recipients),
            "source": self.source,
            "full_text": self.full_text,
            "attachments": [a.to_payload() for a in self.attachments],
            "bounce": self.bounce.to_payload() if self.bounce else None,
            "problems": list(self.problems),
            "unparsed": self.unparsed,
            "sequence_key": self.sequence_key,
            "ticket_number": self.ticket_number,
            "template": self.template,
            "language": self.language,
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
            automatic_reason=data.get("automatic_reason") or "",
            is_bulk=bool(data.get("is_bulk")),
            access_key=data.get("access_key"),
            recipients=tuple(data.get("recipients") or ()),
            source=data.get("source") or "",
            full_text=data.get("full_text"),
            attachments=tuple(AttachmentRef.from_payload(a) for a in data.get("attachments") or ()),
            bounce=BounceReport.from_payload(data["bounce"]) if data.get("bounce") else None,
            problems=tuple(data.get("problems") or ()),
            unparsed=bool(data.get("unparsed")),
            sequence_key=data.get("sequence_key"),
            ticket_number=data.get("ticket_number"),
            template=data.get("template"),
            language=data.get("language") or "",
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
    automatic: bool = False  # an automatic answer: Auto-Submitted: auto-replied on email
    notification: bool = False  # made by the system: Auto-Submitted: auto-generated
    reply_to: str | None = None  # e.g. the ticket's plus-address; else the helpdesk's address
    from_address: str | None = None  # the ticket's address of ours; else the helpdesk's address
    # chat channels: body_html is the message in the chat's markup, body_text its plain form
    buttons: tuple[tuple[dict[str, str], ...], ...] = ()  # inline buttons, rows of {text, ...}
    chat_action: ChatAction = ChatAction.SEND
    target_id: str | None = None  # the chat message to edit, or the callback query to answer
    sent_parts: tuple[str, ...] = ()  # of a split message, those an earlier attempt delivered
    attachments: tuple[AttachmentRef, ...] = ()  # files it carries (a chat's "document": one)
    language: str = ""  # the catalog language it is written in ("": not known)

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
            "notification": self.notification,
            "reply_to": self.reply_to,
            "from_address": self.from_address,
            "buttons": [[dict(b) for b in row] for row in self.buttons],
            "chat_action": ChatAction(self.chat_action).value,
            "target_id": self.target_id,
            "attachments": [a.to_payload() for a in self.attachments],
            "language": self.language,
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
            notification=bool(data.get("notification")),
            reply_to=data.get("reply_to"),
            from_address=data.get("from_address"),
            buttons=tuple(tuple(dict(b) for b in row) for row in data.get("buttons") or ()),
            chat_action=ChatAction(data.get("chat_action") or ChatAction.SEND),
            target_id=data.get("target_id"),
            attachments=tuple(AttachmentRef.from_payload(a) for a in data.get("attachments") or ()),
            language=data.get("language") or "",
        )


@dataclass(frozen=True)
class DeliveryResult:
    """What a connector reports after sending: the id the far side knows it by."""

    external_id: str
    detail: str = ""
