"""The requester's message through the JSON API: ``POST /api/v1/tickets/{number}/messages
?key=...`` adds a message (text, files in base64) to their ticket, as the ticket page's
reply box does: the same intake, the same checks of files, a closed ticket refused. An
Idempotency-Key makes a retry add it once (and keep its files once)."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.web.requester.api_files import keep_files, read_files
from connectors.web.requester.ticket_page import MAX_MESSAGE_CHARS, TicketPage, ticket_link
from connectors.web.schemas import FILES_DESCRIPTION, MAX_FILES, FileIn
from connectors.web.text_fields import TEXT_PATTERN, check_text
from router.envelopes import InboundMessage
from router.language_choice import stated_languages
from router.requester_view import can_reply
from router.vocabulary import Channel, Status


class MessageRequest(BaseModel):
    """A message of the requester on their ticket: its text, and files if any."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        description="The message, plain text, kept as written: not only whitespace, no NUL.",
        examples=["The printer is an HP LaserJet 4000."],
        json_schema_extra={"pattern": TEXT_PATTERN},
    )
    files: list[FileIn] = Field(
        default_factory=list, max_length=MAX_FILES, description=FILES_DESCRIPTION
    )

    _valid_body = field_validator("body")(check_text)


class MessageAccepted(BaseModel):
    """The message is durable; ``ticket_number`` once it has joined the ticket."""

    submission_id: int = Field(description="The reference of the message (its inbox id).")
    duplicate: bool = Field(description="True when this Idempotency-Key was sent before.")
    ticket_number: int | None = Field(description="The ticket it joined, once ingested.")
    state: str = Field(description="pending, done, quiet or failed.")
    ticket_url: str = Field(description="The ticket (with its key), to read it back.")


async def add_message(
    page: TicketPage,
    request: Request,
    number: int,
    key: str | None,
    sent: MessageRequest,
    idempotency_key: str | None,
) -> JSONResponse:
    """Add ``sent`` to ticket ``number`` opened by ``key`` (404 for another key)."""
    view = await page.view(number, key)
    if not can_reply(Status(view.status)):
        raise HTTPException(409, detail=f"ticket {number} is closed: open a new request")
    uploads = read_files(sent.files, page.settings.web)
    attachments = await keep_files(uploads, page.desk.keep_file)
    given = idempotency_key or uuid.uuid4().hex
    digest = hashlib.sha256(given.encode()).hexdigest()[:40]
    message = InboundMessage(
        channel=Channel.WEB,
        idempotency_key=f"web:api:{number}:{digest}",
        sender_address=view.requester_address,
        sender_name=view.requester_name,
        subject=view.subject,
        body_text=sent.body,
        access_key=secrets.token_urlsafe(18),  # a follow-up's, should it open one
        attachments=attachments,
        source="api",
        ticket_number=view.number,
        language=stated_languages(request.headers.get("Accept-Language")),
        headers={
            h: request.headers[h][:500]
            for h in ("User-Agent", "Accept-Language")
            if h in request.headers
        },
    )
    receipt = await page.accept(message)
    if receipt.conflict:
        raise HTTPException(
            409,
            detail="this Idempotency-Key was already used for a different message; use a "
            "new key for a new message",
        )
    link = ticket_link(request, view)
    accepted = MessageAccepted(
        submission_id=receipt.inbox_id,
        duplicate=receipt.duplicate,
        ticket_number=receipt.ticket_number,
        state=receipt.state,
        ticket_url=link,
    )
    return JSONResponse(
        accepted.model_dump(mode="json"),
        status_code=201 if receipt.ticket_number is not None else 202,
        headers={"Location": link},
    )
