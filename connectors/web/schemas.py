"""The web API's request and response bodies (pydantic), documented for OpenAPI.

``TicketRequest`` carries the default limits of ``WebSettings``; an app builds
its own subclass with ``ticket_request_model(settings.web)`` so the subject
limit it enforces (and documents) is the configured one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    create_model,
    field_validator,
)

from config.settings import WebSettings
from router.ticket_views import MessageView, TicketView
from router.vocabulary import Direction, Priority

MAX_NAME_CHARS = 200
MAX_BODY_CHARS = 100_000
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_VALUE_CHARS = 1_000
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
FIELD_KEY_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"

# RFC 5322 "atext" for the local part (dot-atoms only, no quoted strings) and
# LDH labels for the domain: strict on purpose, the address is written into headers.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def check_email_address(value: str) -> str:
    """``value`` if it is a plain ``local@domain.tld`` address (domain lower-cased), else raise.

    No whitespace, no control characters, no display name, no comments, no
    quoted local part: whatever passes can be written into a header verbatim.
    """
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("not an email address: spaces and line breaks are not allowed")
    if value.count("@") != 1:
        raise ValueError("not an email address: it needs one @, as in name@example.com")
    if len(value) > 254:
        raise ValueError("not an email address: it is longer than 254 characters")
    local, domain = value.split("@")
    if not 1 <= len(local) <= 64 or not _LOCAL_PART.fullmatch(local):
        raise ValueError("not an email address: the part before @ is not valid")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise ValueError("not an email address: the domain is not valid")
    if labels[-1].isdigit():
        raise ValueError("not an email address: the domain has no top-level name")
    return f"{local}@{domain.lower()}"


def _one_line(value: Any) -> Any:
    """Collapse every run of whitespace (line breaks included) into one space, and strip."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _no_control_characters(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


class Requester(BaseModel):
    """The person asking for help; answers go to ``email``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="Display name; whitespace and line breaks are collapsed.",
        examples=["Ana Souza"],
    )
    email: str = Field(
        min_length=3,
        max_length=254,
        description="A plain address (local@domain.tld), no display name, no spaces.",
        examples=["ana@example.com"],
    )

    _normalise_name = field_validator("name", mode="before")(_one_line)

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        return _no_control_characters(value)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return check_email_address(value)


CustomValue = (
    StrictBool | StrictInt | StrictFloat | Annotated[str, Field(max_length=MAX_CUSTOM_VALUE_CHARS)]
)
FieldKey = Annotated[str, StringConstraints(pattern=FIELD_KEY_PATTERN)]


class TicketRequest(BaseModel):
    """A new ticket submitted through the web channel."""

    model_config = ConfigDict(extra="forbid")

    requester: Requester
    subject: str = Field(
        min_length=1,
        max_length=WebSettings().max_subject_chars,
        description="One line; line breaks and runs of whitespace become one space.",
        examples=["Invoice 2024-113 charged twice"],
    )
    body: str = Field(
        min_length=1,
        max_length=MAX_BODY_CHARS,
        description="The message, plain text.",
        examples=["Hello, my card was charged twice for the same invoice."],
    )
    category: str | None = Field(
        None,
        pattern=SLUG_PATTERN,
        description="A routing hint, e.g. `billing`; unknown categories go to the default team.",
        examples=["billing"],
    )
    priority: Priority | None = Field(
        None, description="A priority hint; the helpdesk's rules may decide otherwise."
    )
    custom_fields: dict[FieldKey, CustomValue | None] = Field(
        default_factory=dict,
        max_length=MAX_CUSTOM_FIELDS,
        description=f"Extra facts kept with the ticket: at most {MAX_CUSTOM_FIELDS} keys "
        "(letters, digits, `_`, `.`, `-`), values text, number, boolean or null.",
        examples=[{"order": "A-1042", "plan": "pro"}],
    )

    _normalise_subject = field_validator("subject", mode="before")(_one_line)

    @field_validator("subject")
    @classmethod
    def _printable_subject(cls, value: str) -> str:
        return _no_control_characters(value)

    @field_validator("category", "priority", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return value or None
        return value


def ticket_request_model(web: WebSettings) -> type[TicketRequest]:
    """``TicketRequest`` with the subject limit of ``web`` (validated and documented)."""
    subject = TicketRequest.model_fields["subject"]
    return create_model(
        "TicketRequest",
        __base__=TicketRequest,
        __doc__=TicketRequest.__doc__,
        __module__=__name__,
        subject=(
            str,
            Field(
                min_length=1,
                max_length=web.max_subject_chars,
                description=subject.description,
                examples=subject.examples,
            ),
        ),
    )


class AcceptedResponse(BaseModel):
    """Where a submission stands: durable as soon as this is returned."""

    submission_id: int = Field(description="The reference of the submission (its inbox id).")
    duplicate: bool = Field(description="True when this Idempotency-Key was submitted before.")
    ticket_number: int | None = Field(description="Known once the message has been ingested.")
    access_key: str = Field(
        description="The requester's secret for this submission and its ticket: pass it as "
        "`?key=` to read them (the URLs below include it). Keep it private."
    )
    status_url: str = Field(description="Poll this until `ticket_number` is set.")
    ticket_url: str | None = Field(description="The ticket, once `ticket_number` is known.")
    state: str = Field(description="pending, done, quiet or failed.")
    error: str | None = Field(None, description="Why processing failed, when `state` is failed.")


class RequesterOut(BaseModel):
    name: str
    email: str


class MessageOut(BaseModel):
    direction: str = Field(description="inbound (from the requester) or outbound (an answer).")
    channel: str
    author: str
    body: str
    created_at: datetime

    @classmethod
    def from_view(cls, view: MessageView) -> MessageOut:
        return cls(
            direction=view.direction,
            channel=view.channel,
            author=view.author,
            body=view.body_text,
            created_at=view.created_at,
        )


class TicketResponse(BaseModel):
    """A ticket and its public conversation (internal notes are never included)."""

    number: int
    subject: str
    status: str
    priority: str
    category: str
    channel: str = Field(description="The channel the ticket was opened from.")
    requester: RequesterOut
    assignee: str | None
    team: str | None
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    messages: list[MessageOut]

    @classmethod
    def from_view(cls, view: TicketView) -> TicketResponse:
        return cls(
            number=view.number,
            subject=view.subject,
            status=view.status,
            priority=view.priority,
            category=view.category,
            channel=view.channel,
            requester=RequesterOut(name=view.requester_name, email=view.requester_address),
            assignee=view.assignee,
            team=view.team,
            created_at=view.created_at,
            first_response_at=view.first_response_at,
            resolved_at=view.resolved_at,
            closed_at=view.closed_at,
            messages=[
                MessageOut.from_view(m)
                for m in view.messages
                if m.direction != Direction.INTERNAL.value
            ],
        )


class Problem(BaseModel):
    """An error answer."""

    detail: str
