"""The web API's request and response bodies (pydantic), documented for OpenAPI.

``TicketRequest`` carries the default limits of ``WebSettings``; an app builds
its own subclass with ``ticket_request_model(settings.web)`` so the subject
limit it enforces (and documents) is the configured one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    create_model,
    field_validator,
)

from config.settings import WebSettings
from connectors.web.text_fields import (
    EMAIL_PATTERN,
    LINE_PATTERN,
    MAX_EMAIL_CHARS,
    TEXT_PATTERN,
    VALUE_PATTERN,
    check_custom_value,
    check_email_address,
    check_line,
    check_text,
)
from router.requester_view import (
    RequesterState,
    handler_name,
    requester_state,
    waits_for_requester,
)
from router.storable import MAX_ID
from router.ticket_views import MessageView, TicketView
from router.vocabulary import Direction, Priority, Status

FileUrl = Callable[[str], str]
"""The download link of a kept file, by its SHA-256."""

MAX_NAME_CHARS = 200
MAX_BODY_CHARS = 100_000
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_VALUE_CHARS = 1_000
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
FIELD_KEY_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
SUBJECT_DESCRIPTION = (
    "One line: no control characters, not only whitespace; runs of whitespace and line "
    "breaks become one space."
)


class Requester(BaseModel):
    """The person asking for help; answers go to ``email``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="Display name, one line: no control characters, not only whitespace; "
        "runs of whitespace and line breaks become one space.",
        examples=["Ana Souza"],
        json_schema_extra={"pattern": LINE_PATTERN},
    )
    email: str = Field(
        max_length=MAX_EMAIL_CHARS,
        description="A plain address, `local@domain.tld`: no display name, no spaces, no "
        "quoted local part; the domain's labels are letters, digits and hyphens, the last "
        "one starting with a letter. The domain is kept lower-cased.",
        examples=["ana@example.com"],
        json_schema_extra={"pattern": EMAIL_PATTERN},
    )

    _valid_name = field_validator("name")(check_line)
    _valid_email = field_validator("email")(check_email_address)


class FileIn(BaseModel):
    """A file sent with a request, its bytes in base64."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(
        min_length=1,
        max_length=255,
        description="Its name, as shown to the agents (made safe: no path). Its type is "
        "read from its content, never from this name.",
        examples=["receipt.pdf"],
    )
    content_base64: str = Field(
        min_length=1,
        description="The file's bytes in base64 (RFC 4648, standard alphabet, padded). At "
        "most `web.max_file_bytes` (10 MB) decoded, of a type `web.file_types` accepts by "
        "its content (pictures, PDF, plain text, zip, Word and Excel documents by default).",
        json_schema_extra={"contentEncoding": "base64"},
    )


MAX_FILES = WebSettings().files_per_message
FILES_DESCRIPTION = (
    "Files to attach, each in base64 (`FileIn`): at most `web.files_per_message`, each at "
    "most `web.max_file_bytes`, typed by their content; kept content-addressed, as email "
    "attachments are. A refused file refuses the request (422 naming `files.<i>`). With "
    "the same Idempotency-Key the files are not kept twice."
)


CustomValue = Annotated[
    bool | int | float | str | None,
    PlainValidator(partial(check_custom_value, max_chars=MAX_CUSTOM_VALUE_CHARS)),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "number"},
                {"type": "string", "maxLength": MAX_CUSTOM_VALUE_CHARS, "pattern": VALUE_PATTERN},
                {"type": "null"},
            ]
        }
    ),
]
FieldKey = Annotated[str, StringConstraints(pattern=FIELD_KEY_PATTERN)]


class TicketRequest(BaseModel):
    """A new ticket submitted through the web channel."""

    model_config = ConfigDict(extra="forbid")

    requester: Requester
    subject: str = Field(
        min_length=1,
        max_length=WebSettings().max_subject_chars,
        description=SUBJECT_DESCRIPTION,
        examples=["Invoice 2024-113 charged twice"],
        json_schema_extra={"pattern": LINE_PATTERN},
    )
    body: str = Field(
        min_length=1,
        max_length=MAX_BODY_CHARS,
        description="The message, plain text, kept as written: not only whitespace, no NUL.",
        examples=["Hello, my card was charged twice for the same invoice."],
        json_schema_extra={"pattern": TEXT_PATTERN},
    )
    category: str | None = Field(
        None,
        pattern=SLUG_PATTERN,
        description="A routing hint in lower case, e.g. `billing`; unknown categories go to "
        "the default team.",
        examples=["billing"],
    )
    priority: Priority | None = Field(
        None, description="A priority hint; the helpdesk's rules may decide otherwise."
    )
    custom_fields: dict[FieldKey, CustomValue] = Field(
        default_factory=dict,
        max_length=MAX_CUSTOM_FIELDS,
        description=f"Extra facts kept with the ticket: at most {MAX_CUSTOM_FIELDS} keys "
        "(letters, digits, `_`, `.`, `-`), values text (no NUL), number (finite), boolean "
        "or null.",
        examples=[{"order": "A-1042", "plan": "pro"}],
        json_schema_extra={"additionalProperties": False},  # only keys of the pattern
    )

    language: str | None = Field(
        None,
        max_length=35,
        pattern=r"^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8}){0,4}$",
        description="The language to answer the requester in, a BCP 47 tag: `en`, `zh-CN` "
        "(one relaydesk does not speak is passed over); else the request's Accept-Language, "
        "else the helpdesk's.",
        examples=["zh-CN"],
    )

    files: list[FileIn] = Field(
        default_factory=list, max_length=MAX_FILES, description=FILES_DESCRIPTION
    )

    _valid_subject = field_validator("subject")(check_line)
    _valid_body = field_validator("body")(check_text)


def ticket_request_model(web: WebSettings) -> type[TicketRequest]:
    """``TicketRequest`` with the subject and file limits of ``web`` (validated and
    documented)."""
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
                json_schema_extra={"pattern": LINE_PATTERN},
            ),
        ),
        files=(
            list[FileIn],
            Field(
                default_factory=list,
                max_length=web.files_per_message,
                description=FILES_DESCRIPTION,
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
    organisation: str | None = Field(None, description="The organisation they belong to.")


class AttachmentOut(BaseModel):
    filename: str
    content_type: str = Field(description="As its content says (web uploads), or as sent.")
    size: int
    url: str | None = Field(
        description="Where to download it (with the ticket's key); null when it was not kept."
    )
    note: str = Field("", description="Why it was not kept, when it was not.")


class MessageOut(BaseModel):
    direction: str = Field(description="inbound (from the requester) or outbound (an answer).")
    channel: str
    author: str
    body: str
    created_at: datetime
    attachments: list[AttachmentOut] = Field(default_factory=list)

    @classmethod
    def from_view(cls, view: MessageView, file_url: FileUrl | None = None) -> MessageOut:
        return cls(
            direction=view.direction,
            channel=view.channel,
            author=view.author,
            body=view.body_text,
            created_at=view.created_at,
            attachments=[
                AttachmentOut(
                    filename=a.filename,
                    content_type=a.content_type,
                    size=a.size,
                    url=file_url(a.sha256) if file_url is not None and a.sha256 else None,
                    note=a.note,
                )
                for a in view.attachments
            ],
        )


class TicketResponse(BaseModel):
    """A ticket and its public conversation (internal notes are never included)."""

    number: int
    subject: str
    status: str
    priority: str
    category: str
    channel: str = Field(description="The channel the ticket was opened from.")
    state: RequesterState = Field(
        description="The state as its requester follows it: received (待受理), in_progress "
        "(处理中; also while we wait for the requester's answer: `waiting_for_you`), "
        "awaiting_confirmation (待确认: resolved, theirs to confirm or reopen), closed (已闭环)."
    )
    waiting_for_you: bool = Field(description="True while the desk waits for an answer.")
    handled_by: str | None = Field(
        description="Who handles it, as the requester is told: the agent's first name, else "
        "the team; null while nobody does."
    )
    requester: RequesterOut
    assignee: str | None
    team: str | None
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    messages: list[MessageOut]

    @classmethod
    def from_view(cls, view: TicketView, file_url: FileUrl | None = None) -> TicketResponse:
        status = Status(view.status)
        return cls(
            number=view.number,
            subject=view.subject,
            status=view.status,
            priority=view.priority,
            category=view.category,
            channel=view.channel,
            state=requester_state(status),
            waiting_for_you=waits_for_requester(status),
            handled_by=handler_name(view.assignee_display_name, view.assignee, view.team),
            requester=RequesterOut(
                name=view.requester_name,
                email=view.requester_address,
                organisation=view.organisation,
            ),
            assignee=view.assignee,
            team=view.team,
            created_at=view.created_at,
            first_response_at=view.first_response_at,
            resolved_at=view.resolved_at,
            closed_at=view.closed_at,
            messages=[
                MessageOut.from_view(m, file_url)
                for m in view.messages
                if m.direction != Direction.INTERNAL.value
            ],
        )


# ids are integers from 1 to MAX_ID; any other integer names nothing: 404, not 422
ID: dict[str, Any] = {
    "json_schema_extra": {
        "minimum": 1,
        "maximum": MAX_ID,
        "description": f"From 1 to {MAX_ID}; any other integer is answered 404.",
    }
}


class Problem(BaseModel):
    """An error answer."""

    detail: str


class FieldProblem(BaseModel):
    """One invalid or missing field."""

    type: str = Field(description="What kind of problem, e.g. `missing`, `nul_character`.")
    loc: list[str] = Field(description="Where: `body`, `path`, `query` or `header`, then names.")
    field: str = Field(description="The field, dotted, e.g. `requester.email`.")
    msg: str = Field(description="The problem in words.")


class ValidationProblems(BaseModel):
    """A request that cannot be taken as it is: every problem, or one sentence."""

    detail: list[FieldProblem] | str


BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": Problem,
        "description": "The body could not be read: it is not UTF-8, or its Content-Length "
        "is malformed.",
    },
    413: {"model": Problem, "description": "The body is over the configured limit."},
}
"""The answers of a request whose body cannot be taken (``connectors.web.limits``)."""
